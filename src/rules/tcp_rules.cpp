// tcp-request rules (see tcp_rules.hpp) and the `tcp-request` keyword.
#include "sluice/rules/tcp_rules.hpp"

#include <algorithm>

#include "nice.hpp"
#include "sluice/cfg/keyword.hpp"

namespace sluice::rules {

TcpVerb admit_connection(const TcpRulesConf& conf, sample::Context& ctx) {
    for (const auto* set : {&conf.connection, &conf.session}) {
        for (const TcpRule& rule : *set) {
            if (rule.cond && !rule.cond->eval(ctx)) continue;
            if (rule.verb == TcpVerb::Nothing) continue;  // (content rules only, for now)
            if (rule.verb != TcpVerb::Accept) return rule.verb;
            break;  // accept: the rest of this set is skipped
        }
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
            case TcpVerb::Accept:
                return ContentVerdict::Accept;
            case TcpVerb::Reject:
                return ContentVerdict::Reject;
            case TcpVerb::SilentDrop:
                return ContentVerdict::SilentDrop;
            case TcpVerb::Nothing:
                break;
        }
    }
    return ContentVerdict::Accept;
}

namespace {

constexpr std::string_view kLater = "a later step of ACLs and rules (issue #5)";

cfg::Status parse_tcp_request(cfg::Args args, cfg::Ctx& ctx) {
    const std::string& when = args[0];
    TcpRulesConf& conf = ctx.parts().get<TcpRulesConf>();
    if (when == "inspect-delay") {
        if (args.size() != 2) return ctx.alert("'tcp-request inspect-delay' expects a delay");
        auto d = util::parse_duration(args[1]);
        if (!d) return ctx.alert("'tcp-request inspect-delay': {}", d.error());
        conf.inspect_delay = *d;
        return cfg::Status::Ok;
    }
    std::vector<TcpRule>* set = when == "connection" ? &conf.connection
                                : when == "session"  ? &conf.session
                                : when == "content"  ? &conf.content
                                                     : nullptr;
    if (!set)
        return ctx.alert("expects 'inspect-delay', 'connection', 'session' or 'content', got '{}'",
                         when);
    if (args.size() < 2) return ctx.alert("'tcp-request {}' expects an action", when);
    const std::string& action = args[1];
    TcpRule rule;
    std::size_t cond_at = 2;
    if (action == "accept") {
        rule.verb = TcpVerb::Accept;
    } else if (action == "reject") {
        rule.verb = TcpVerb::Reject;
    } else if (action == "silent-drop") {
        rule.verb = TcpVerb::SilentDrop;
    } else if (action == "set-nice" && set == &conf.content) {
        // One word, then the condition if any (condition_start finds `if`/`unless`).
        cond_at = std::min(args.size(), sample::condition_start(args.subspan(2)) + 2);
        if (auto st = check_nice_args(args.subspan(2, cond_at - 2)); !st)
            return ctx.alert("'tcp-request {} {}' {}", when, action, st.error());
        rule.verb = TcpVerb::Nothing;
    } else if (action.starts_with("track-sc") || action.starts_with("sc-")) {
        return ctx.alert("'tcp-request {} {}' comes with stick tables (roadmap item 9)", when,
                         action);
    } else if (action == "capture") {
        return ctx.alert("'tcp-request {} capture' comes with logging (issue #8)", when);
    } else {
        return ctx.alert("'tcp-request {} {}' is not implemented yet; it comes with {}", when,
                         action, kLater);
    }
    if (args.size() > cond_at) {
        if (args[cond_at] != "if" && args[cond_at] != "unless")
            return ctx.alert("unexpected '{}' after '{}' (expected 'if' or 'unless')",
                             args[cond_at], action);
        // Content rules read what the client sent; the others only the connection.
        const sample::Use available =
            set == &conf.content ? sample::Use::Internal | sample::Use::Conn | sample::Use::Req
                                 : sample::Use::Internal | sample::Use::Conn;
        auto cond = sample::parse_condition(args.subspan(cond_at),
                                            ctx.parts().get<sample::AclConf>().table, available);
        if (!cond) return ctx.alert("'tcp-request {} {}': {}", when, action, cond.error());
        rule.cond = std::make_shared<const sample::Condition>(std::move(*cond));
    }
    const bool without_effect = rule.verb == TcpVerb::Nothing;
    set->push_back(std::move(rule));
    if (without_effect)
        return ctx.warning("'tcp-request {} {}' has no effect in Sluice: {}", when, action,
                           kNiceHasNoEffect);
    return cfg::Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "tcp-request",
     .in = cfg::In::Frontend | cfg::In::Backend,
     .arity = cfg::at_least(1),
     .parse = parse_tcp_request},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::rules
