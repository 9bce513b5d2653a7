// tcp-request rules (see tcp_rules.hpp) and the `tcp-request` keyword.
#include "sluice/rules/tcp_rules.hpp"

#include <algorithm>

#include "nice.hpp"
#include "sluice/cfg/keyword.hpp"

namespace sluice::rules {

Admission admit_connection(const TcpRulesConf& conf, sample::Context& ctx) {
    Admission a;
    for (const TcpRule& rule : conf.connection) {
        if (rule.cond && !rule.cond->eval(ctx)) continue;
        if (rule.verb == TcpVerb::ExpectProxy) {
            a.expect_proxy = true;
            continue;
        }
        if (rule.verb == TcpVerb::Nothing) continue;
        a.verb = rule.verb;
        break;
    }
    return a;
}

TcpVerb admit_session(const TcpRulesConf& conf, sample::Context& ctx) {
    for (const TcpRule& rule : conf.session) {
        if (rule.cond && !rule.cond->eval(ctx)) continue;
        return rule.verb;
    }
    return TcpVerb::Accept;
}

ContentVerdict run_content_rules(std::span<const TcpRule> rules, sample::Context& ctx, bool final) {
    for (const TcpRule& rule : rules) {
        ctx.may_change = false;
        const bool hit = !rule.cond || rule.cond->eval(ctx);
        // A condition that read a half-received message is no decision yet.
        if (ctx.may_change && !final) return ContentVerdict::Wait;
        if (!hit) continue;
        switch (rule.verb) {
            case TcpVerb::Run: {
                Outcome unused;
                RuleCtx rctx{.samples = ctx, .req = nullptr, .res = nullptr, .outcome = unused};
                ctx.may_change = false;
                rule.action->run(rctx);
                if (ctx.may_change && !final) return ContentVerdict::Wait;
                continue;
            }
            case TcpVerb::Accept:
            case TcpVerb::ExpectProxy:  // connection rules only
                return ContentVerdict::Accept;
            case TcpVerb::Reject:
                return ContentVerdict::Reject;
            case TcpVerb::SilentDrop:
                return ContentVerdict::SilentDrop;
            case TcpVerb::Close:
                return ContentVerdict::Close;
            case TcpVerb::Nothing:
                continue;
        }
    }
    return ContentVerdict::Accept;
}

namespace {

constexpr std::string_view kLater = "a later step of ACLs and rules (issue #5)";

// One `tcp-request` or `tcp-response` line (`Response`).
template <bool Response>
cfg::Status parse_tcp_rule(cfg::Args args, cfg::Ctx& ctx) {
    constexpr std::string_view kw = Response ? "tcp-response" : "tcp-request";
    const std::string& when = args[0];
    TcpRulesConf& conf = ctx.parts().get<TcpRulesConf>();
    if (when == "inspect-delay") {
        if (args.size() != 2) return ctx.alert("'{} inspect-delay' expects a delay", kw);
        auto d = util::parse_duration(args[1]);
        if (!d) return ctx.alert("'{} inspect-delay': {}", kw, d.error());
        (Response ? conf.response_inspect_delay : conf.inspect_delay) = *d;
        return cfg::Status::Ok;
    }
    std::vector<TcpRule>* set = nullptr;
    if (Response) {
        if (when != "content")
            return ctx.alert("expects 'inspect-delay' or 'content', got '{}'", when);
        set = &conf.response;
    } else {
        set = when == "connection" ? &conf.connection
              : when == "session"  ? &conf.session
              : when == "content"  ? &conf.content
                                   : nullptr;
        if (!set)
            return ctx.alert(
                "expects 'inspect-delay', 'connection', 'session' or 'content', got '{}'", when);
    }
    if (args.size() < 2) return ctx.alert("'{} {}' expects an action", kw, when);
    const std::string& action = args[1];
    TcpRule rule;
    // Content rules read what the client (or the server) sent; the others only the connection.
    const bool content = set == &conf.content || set == &conf.response;
    const sample::Use available =
        set == &conf.content    ? sample::Use::Internal | sample::Use::Conn | sample::Use::Req
        : set == &conf.response ? sample::Use::Internal | sample::Use::Conn | sample::Use::Res
                                : sample::Use::Internal | sample::Use::Conn;
    std::size_t cond_at = 2;  // where `if`/`unless` may start
    if (action.starts_with("set-var(") || action.starts_with("unset-var(")) {
        if (!content)
            return ctx.alert("'{} {} {}' is not implemented yet; it comes with {}", kw, when,
                             action.substr(0, action.find('(')), kLater);
        cond_at = sample::condition_start(args);
        const ActionDef* def = find_action(std::string_view(action).substr(0, action.find('(')));
        auto parsed = def->parse({.args = args.subspan(1, cond_at - 1),
                                  .set = Response ? RuleSet::Response : RuleSet::Request,
                                  .available = available});
        if (!parsed) return ctx.alert("'{} {} {}': {}", kw, when, action, parsed.error());
        rule.verb = TcpVerb::Run;
        rule.action = std::move(*parsed);
        (Response ? conf.response_runs_actions : conf.content_runs_actions) = true;
        args = args.subspan(cond_at - 2);  // as if the action were one word
    } else if (action == "accept") {
        rule.verb = TcpVerb::Accept;
    } else if (action == "reject") {
        rule.verb = TcpVerb::Reject;
    } else if (action == "silent-drop") {
        rule.verb = TcpVerb::SilentDrop;
    } else if (action == "set-nice" && set == &conf.content) {
        // One word, then the condition if any.
        cond_at = std::min(args.size(), sample::condition_start(args.subspan(2)) + 2);
        if (auto st = check_nice_args(args.subspan(2, cond_at - 2)); !st)
            return ctx.alert("'{} {} {}' {}", kw, when, action, st.error());
        rule.verb = TcpVerb::Nothing;
        (void)ctx.warning("'{} {} {}' has no effect in Sluice: {}", kw, when, action,
                          kNiceHasNoEffect);
        args = args.subspan(cond_at - 2);  // as if the action were one word
    } else if (action == "close" && Response) {
        rule.verb = TcpVerb::Close;
    } else if (action == "expect-proxy" && !Response) {
        if (set != &conf.connection)
            return ctx.alert("'expect-proxy' is a 'tcp-request connection' action");
        if (args.size() < 3 || args[2] != "layer4")
            return ctx.alert("'tcp-request connection expect-proxy' expects 'layer4'");
        rule.verb = TcpVerb::ExpectProxy;
        args = args.subspan(1);  // the condition, if any, follows 'layer4'
    } else if (action.starts_with("track-sc") || action.starts_with("sc-")) {
        return ctx.alert("'{} {} {}' comes with stick tables (roadmap item 9)", kw, when, action);
    } else if (action == "capture" && set == &conf.content) {
        cond_at = sample::condition_start(args);
        auto parsed = parse_content_capture(args.subspan(1, cond_at - 1), ctx, available);
        if (!parsed) return ctx.alert("'{} {} {}': {}", kw, when, action, parsed.error());
        rule.verb = TcpVerb::Run;
        rule.action = std::move(*parsed);
        args = args.subspan(cond_at - 2);  // as if the action were one word
    } else if (action == "capture") {
        // HAProxy 2.6 captures from content rules only (tcp-response has no capture).
        return ctx.alert(
            "'{} {} capture' is not allowed: captures are taken by "
            "'tcp-request content' rules only",
            kw, when);
    } else if (action == "set-log-level") {
        return ctx.alert("'{} {} {}' is not implemented yet; it comes with logging (issue #8)", kw,
                         when, action);
    } else {
        return ctx.alert("'{} {} {}' is not implemented yet; it comes with {}", kw, when, action,
                         kLater);
    }
    if (args.size() > 2) {
        if (args[2] != "if" && args[2] != "unless")
            return ctx.alert("unexpected '{}' after '{}' (expected 'if' or 'unless')", args[2],
                             action);
        auto cond = sample::parse_condition(args.subspan(2),
                                            ctx.parts().get<sample::AclConf>().table, available);
        if (!cond) return ctx.alert("'{} {} {}': {}", kw, when, action, cond.error());
        rule.cond = std::make_shared<const sample::Condition>(std::move(*cond));
    }
    set->push_back(std::move(rule));
    return cfg::Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "tcp-request",
     .in = cfg::In::Frontend | cfg::In::Backend,
     .arity = cfg::at_least(1),
     .parse = parse_tcp_rule<false>},
    {.name = "tcp-response",
     .in = cfg::In::Backend,
     .arity = cfg::at_least(1),
     .parse = parse_tcp_rule<true>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::rules
