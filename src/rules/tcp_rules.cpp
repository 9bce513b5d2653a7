// tcp-request rules (see tcp_rules.hpp) and the `tcp-request` keyword.
#include "sluice/rules/tcp_rules.hpp"

#include <algorithm>

#include "nice.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/util/suggest.hpp"

namespace sluice::rules {

namespace {

// `log_level`: set-log-level's (content rules only; the others' actions have no stream).
void run_action(const Action& action, sample::Context& ctx, std::int8_t* log_level = nullptr) {
    Outcome outcome;
    RuleCtx rctx{.samples = ctx, .req = nullptr, .res = nullptr, .outcome = outcome};
    (void)action.run(rctx);  // tcp actions never end the rules
    if (log_level && outcome.log_level >= 0) *log_level = outcome.log_level;
}

// Connection or session rules, in order: actions run and the rules go on; the first other
// verb that applies ends them (Accept when none does).
TcpVerb admit(std::span<const TcpRule> rules, sample::Context& ctx, bool& expect_proxy) {
    for (const TcpRule& rule : rules) {
        if (rule.cond && !rule.cond->eval(ctx)) continue;
        switch (rule.verb) {
            case TcpVerb::ExpectProxy:
                expect_proxy = true;
                continue;
            case TcpVerb::Run:
                run_action(*rule.action, ctx);
                continue;
            case TcpVerb::Nothing:
                continue;
            case TcpVerb::Accept:
            case TcpVerb::Reject:
            case TcpVerb::SilentDrop:
            case TcpVerb::Close:
                return rule.verb;
        }
    }
    return TcpVerb::Accept;
}

}  // namespace

Admission admit_connection(const TcpRulesConf& conf, sample::Context& ctx) {
    Admission a;
    a.verb = admit(conf.connection, ctx, a.expect_proxy);
    return a;
}

TcpVerb admit_session(const TcpRulesConf& conf, sample::Context& ctx) {
    bool unused = false;
    return admit(conf.session, ctx, unused);
}

ContentVerdict run_content_rules(std::span<const TcpRule> rules, sample::Context& ctx, bool final,
                                 std::int8_t& log_level) {
    for (const TcpRule& rule : rules) {
        ctx.may_change = false;
        const bool hit = !rule.cond || rule.cond->eval(ctx);
        // A condition that read a half-received message is no decision yet.
        if (ctx.may_change && !final) return ContentVerdict::Wait;
        if (!hit) continue;
        switch (rule.verb) {
            case TcpVerb::Run:
                ctx.may_change = false;
                run_action(*rule.action, ctx, &log_level);
                if (ctx.may_change && !final) return ContentVerdict::Wait;
                continue;
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

// Where a tcp rule runs: what it can read, and which actions HAProxy 2.6 takes there.
enum Stage : std::uint8_t { kConnection = 1, kSession = 2, kContent = 4, kResponse = 8 };
constexpr std::uint8_t kRequestStages = kConnection | kSession | kContent;
constexpr std::uint8_t kAllStages = kRequestStages | kResponse;

enum class Kind : std::uint8_t {
    Verb,         // decides (accept, reject...)
    Shared,       // an action http rules have too: the action registry parses it
    ExpectProxy,  // `expect-proxy layer4`
    Nice,         // set-nice: accepted, with a warning that it does nothing
    Later,        // not in Sluice yet: an alert naming what brings it
    Unsupported,  // not planned: an alert saying why
};

struct TcpAction {
    std::string_view name;  // up to any '(' (`set-var(sess.x)`)
    std::uint8_t stages;
    Kind kind;
    TcpVerb verb = TcpVerb::Nothing;  // Kind::Verb
    std::string_view later = {};      // Kind::Later: what brings it; Unsupported: why not
};

// Every action of HAProxy 2.6's tcp-request and tcp-response rules but capture and the stick
// counters (track-sc*, sc-*), which parse_tcp_rule meets first.
constexpr TcpAction kTcpActions[] = {
    {.name = "accept", .stages = kAllStages, .kind = Kind::Verb, .verb = TcpVerb::Accept},
    {.name = "reject", .stages = kAllStages, .kind = Kind::Verb, .verb = TcpVerb::Reject},
    {.name = "silent-drop", .stages = kAllStages, .kind = Kind::Verb, .verb = TcpVerb::SilentDrop},
    {.name = "close", .stages = kResponse, .kind = Kind::Verb, .verb = TcpVerb::Close},
    {.name = "expect-proxy", .stages = kConnection, .kind = Kind::ExpectProxy},
    {.name = "set-var", .stages = kAllStages, .kind = Kind::Shared},
    {.name = "set-var-fmt", .stages = kAllStages, .kind = Kind::Shared},
    {.name = "unset-var", .stages = kAllStages, .kind = Kind::Shared},
    {.name = "set-src", .stages = kRequestStages, .kind = Kind::Shared},
    {.name = "set-src-port", .stages = kRequestStages, .kind = Kind::Shared},
    {.name = "set-dst", .stages = kRequestStages, .kind = Kind::Shared},
    {.name = "set-dst-port", .stages = kRequestStages, .kind = Kind::Shared},
    {.name = "set-mark", .stages = kAllStages, .kind = Kind::Shared},
    {.name = "set-tos", .stages = kAllStages, .kind = Kind::Shared},
    {.name = "set-nice", .stages = kContent | kResponse, .kind = Kind::Nice},
    {.name = "expect-netscaler-cip",
     .stages = kConnection,
     .kind = Kind::Unsupported,
     .later = "Sluice reads no NetScaler client IP header (it reads the PROXY protocol: "
              "'expect-proxy layer4')"},
    {.name = "do-resolve",
     .stages = kContent,
     .kind = Kind::Later,
     .later = "DNS resolvers (roadmap item 12)"},
    {.name = "set-priority-class", .stages = kContent, .kind = Kind::Shared},
    {.name = "set-priority-offset", .stages = kContent, .kind = Kind::Shared},
    {.name = "set-log-level", .stages = kContent | kResponse, .kind = Kind::Shared},
    {.name = "switch-mode",
     .stages = kContent,
     .kind = Kind::Unsupported,
     .later = "Sluice does not turn a mode tcp stream into mode http (a mode tcp frontend "
              "cannot use a mode http backend either)"},
    {.name = "use-service",
     .stages = kContent,
     .kind = Kind::Later,
     .later = "Lua scripting (roadmap item 13): mode tcp services are Lua ones"},
    {.name = "send-spoe-group",
     .stages = kContent | kResponse,
     .kind = Kind::Unsupported,
     .later = "Sluice has no SPOE filters"},
};

const TcpAction* find_tcp_action(std::string_view name) {
    for (const TcpAction& a : kTcpActions)
        if (a.name == name) return &a;
    return nullptr;
}

std::string nearest_tcp_action(std::string_view name, std::uint8_t stage) {
    std::vector<std::string_view> names;
    for (const TcpAction& a : kTcpActions)
        if (a.stages & stage) names.push_back(a.name);
    return std::string(util::nearest(name, names));
}

// The scope word of the variable an action names (`txn` in `set-var(txn.x)`), if any.
std::string_view var_scope_word(std::string_view action) {
    const std::size_t open = action.find('(');
    if (open == std::string_view::npos) return {};
    const std::string_view inner = action.substr(open + 1);
    return inner.substr(0, inner.find_first_of(".,)"));
}

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
    Stage stage = kContent;
    if (Response) {
        if (when != "content")
            return ctx.alert("expects 'inspect-delay' or 'content', got '{}'", when);
        set = &conf.response;
        stage = kResponse;
    } else if (when == "connection") {
        set = &conf.connection;
        stage = kConnection;
    } else if (when == "session") {
        set = &conf.session;
        stage = kSession;
    } else if (when == "content") {
        set = &conf.content;
    } else {
        return ctx.alert("expects 'inspect-delay', 'connection', 'session' or 'content', got '{}'",
                         when);
    }
    if (args.size() < 2) return ctx.alert("'{} {}' expects an action", kw, when);
    const std::string& action = args[1];
    const std::string_view name = std::string_view(action).substr(0, action.find('('));
    TcpRule rule;
    // Content rules read what the client (or the server) sent; the others only the connection.
    const sample::Use available =
        stage == kContent    ? sample::Use::Internal | sample::Use::Conn | sample::Use::Req
        : stage == kResponse ? sample::Use::Internal | sample::Use::Conn | sample::Use::Res
                             : sample::Use::Internal | sample::Use::Conn;
    if (action.starts_with("track-sc") || action.starts_with("sc-")) {
        return ctx.alert("'{} {} {}' comes with stick tables (roadmap item 9)", kw, when, action);
    } else if (action == "capture" && set != &conf.content) {
        // HAProxy 2.6 captures from content rules only (tcp-response has no capture).
        return ctx.alert(
            "'{} {} capture' is not allowed: captures are taken by "
            "'tcp-request content' rules only",
            kw, when);
    }
    if (action == "capture") {
        const std::size_t at = sample::condition_start(args);
        auto parsed = parse_content_capture(args.subspan(1, at - 1), ctx, available);
        if (!parsed) return ctx.alert("'{} {} {}': {}", kw, when, action, parsed.error());
        rule.verb = TcpVerb::Run;
        rule.action = std::move(*parsed);
        args = args.subspan(at - 2);  // as if the action were one word
    } else {
        const TcpAction* def = find_tcp_action(name);
        if (!def) {
            const std::string near = nearest_tcp_action(name, stage);
            return ctx.alert("unknown '{} {}' action '{}'{}", kw, when, name,
                             near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near));
        }
        if (!(def->stages & stage))
            return ctx.alert("'{}' is not a valid '{} {}' action", name, kw, when);
        // As in HAProxy: a backend is chosen after these rules ran.
        if ((stage == kConnection || stage == kSession) &&
            ctx.section() == cfg::SectionKind::Backend)
            return ctx.alert(
                "'{} {}' rules run before any backend is chosen: they belong in a "
                "frontend or listen section",
                kw, when);
        std::size_t cond_at = 2;  // where `if`/`unless` may start
        switch (def->kind) {
            case Kind::Later:
                return ctx.alert("'{} {} {}' is not implemented yet; it comes with {}", kw, when,
                                 name, def->later);
            case Kind::Unsupported:
                return ctx.alert("'{} {} {}' is not supported: {}", kw, when, name, def->later);
            case Kind::Verb:
                rule.verb = def->verb;
                break;
            case Kind::ExpectProxy:
                if (args.size() < 3 || args[2] != "layer4")
                    return ctx.alert("'tcp-request connection expect-proxy' expects 'layer4'");
                rule.verb = TcpVerb::ExpectProxy;
                args = args.subspan(1);  // the condition, if any, follows 'layer4'
                break;
            case Kind::Nice:
                // One word, then the condition if any.
                cond_at = std::min(args.size(), sample::condition_start(args.subspan(2)) + 2);
                if (auto st = check_nice_args(args.subspan(2, cond_at - 2)); !st)
                    return ctx.alert("'{} {} {}' {}", kw, when, action, st.error());
                rule.verb = TcpVerb::Nothing;
                (void)ctx.warning("'{} {} {}' has no effect in Sluice: {}", kw, when, action,
                                  kNiceHasNoEffect);
                args = args.subspan(cond_at - 2);  // as if the action were one word
                break;
            case Kind::Shared: {
                cond_at = sample::condition_start(args);
                const ActionDef* shared = find_action(name);
                auto parsed = shared->parse({.args = args.subspan(1, cond_at - 1),
                                             .set = Response ? RuleSet::Response : RuleSet::Request,
                                             .available = available,
                                             .proxy = ctx.name()});
                if (!parsed) return ctx.alert("'{} {} {}': {}", kw, when, action, parsed.error());
                const std::string_view scope = var_scope_word(action);
                // HAProxy 2.6 takes these, and the variable is never set: the transaction, and
                // its request and response, do not exist yet.
                if ((stage == kConnection || stage == kSession) && !scope.empty() &&
                    scope != "sess" && scope != "proc")
                    return ctx.alert(
                        "'{} {} {}': a '{}' variable does not exist before the stream does; {} "
                        "rules "
                        "can only use 'sess' and 'proc' variables",
                        kw, when, action, scope, when);
                rule.verb = TcpVerb::Run;
                rule.action = std::move(*parsed);
                // Only a set-var needs the stores made: an unset-var finds nothing to remove in
                // stores no rule made.
                if (name.starts_with("set-var") && !scope.empty() && scope != "proc") {
                    (stage == kConnection ? conf.connection_sets_vars
                     : stage == kSession  ? conf.session_sets_vars
                     : stage == kContent  ? conf.content_sets_vars
                                          : conf.response_sets_vars) = true;
                }
                args = args.subspan(cond_at - 2);  // as if the action were one word
                break;
            }
        }
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
