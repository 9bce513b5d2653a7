// Rule sets and the http-request / http-response / http-after-response keywords (see
// http_rules.hpp).
#include "sluice/rules/http_rules.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "sluice/cfg/keyword.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/proxy/conf.hpp"
#include "sluice/util/suggest.hpp"

namespace sluice::rules {
namespace {

std::map<std::string_view, const ActionDef*>& actions() {
    static std::map<std::string_view, const ActionDef*> m;
    return m;
}

}  // namespace

ActionRegistrar::ActionRegistrar(std::span<const ActionDef> items) {
    for (const ActionDef& a : items) {
        if (!actions().emplace(a.name, &a).second) {
            std::fprintf(stderr, "sluice: action '%.*s' registered twice\n",
                         static_cast<int>(a.name.size()), a.name.data());
            std::abort();
        }
    }
}

const ActionDef* find_action(std::string_view name) {
    auto it = actions().find(name);
    return it == actions().end() ? nullptr : it->second;
}

std::string nearest_action(std::string_view name) {
    std::vector<std::string_view> names;
    for (const auto& [n, _] : actions())
        names.push_back(n);
    return std::string(util::nearest(name, names));
}

void RulesTrail::stopped_at_rule() {
    retrace = at - 1;
    path->resize(retrace);
    resume = true;
}

void RulesTrail::stopped_between() {
    retrace = at;
    path->resize(retrace);
    resume = false;
}

namespace {

// Whether `rule` applies: its condition, or, for a rule met before a stop, what the trail says.
bool applies(const Rule& rule, RuleCtx& ctx) {
    RulesTrail* t = ctx.trail;
    if (!t) return !rule.cond || rule.cond->eval(ctx.samples);
    const std::size_t at = t->at++;
    ctx.retracing = at < t->retrace;
    if (ctx.retracing) return (*t->path)[at] == '1';
    const bool hit = (at == t->retrace && t->resume) || !rule.cond || rule.cond->eval(ctx.samples);
    t->path->push_back(hit ? '1' : '0');
    return hit;
}

void end_hint(RuleCtx& ctx) {
    ctx.hints->append("\r\n");
    ctx.hint_open = false;
}

}  // namespace

void run_rules(std::span<const std::shared_ptr<const Rule>> rules, RuleCtx& ctx) {
    ctx.strict = true;
    for (const auto& rule : rules) {
        // As in HAProxy, a run of early-hint rules builds one 103; a rule with a condition, or
        // of another kind, starts anew.
        if (ctx.hint_open && (rule->cond || !rule->action->extends_hint())) end_hint(ctx);
        if (!applies(*rule, ctx)) continue;
        if (!rule->action->run(ctx)) {
            if (ctx.trail && ctx.outcome.verdict == Verdict::WaitBody) ctx.trail->stopped_at_rule();
            break;
        }
    }
    // Rule sets do not share a 103: the backend's early hints go in one of their own.
    if (ctx.hint_open) end_hint(ctx);
    ctx.retracing = false;
}

bool rewrite_failed(RuleCtx& ctx) {
    if (!ctx.strict) return true;
    ctx.outcome.verdict = Verdict::Reply;
    ctx.outcome.status = 500;
    ctx.outcome.reply = {};
    ctx.outcome.page = nullptr;
    ctx.outcome.close = false;
    return false;
}

void del_header(http::HeaderList& h, std::string_view name) {
    for (std::size_t i = h.size(); i-- > 0;)
        if (http::iequals(h[i].name, name)) h.erase(i);
}

bool add_header(http::HeaderList& h, std::string_view name, std::string_view value) {
    return h.push({name, value});
}

util::Status check_header_name(std::string_view name) {
    if (name.empty()) return util::error("empty header name");
    for (char c : name) {
        const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') ||
                           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!token)
            return util::error(fmt::format("invalid character '{}' in header name '{}'", c, name));
    }
    return util::ok();
}

namespace {

constexpr sample::Use kRequestData = sample::Use::Internal | sample::Use::Conn | sample::Use::Req;
constexpr sample::Use kResponseData = sample::Use::Internal | sample::Use::Conn | sample::Use::Res;

std::string_view set_label(RuleSet set) {
    switch (set) {
        case RuleSet::Request:
            return "http-request";
        case RuleSet::Response:
            return "http-response";
        case RuleSet::AfterResponse:
            return "http-after-response";
    }
    return "?";
}

template <RuleSet Set>
cfg::Status parse_rule(cfg::Args args, cfg::Ctx& ctx) {
    // `set-var(txn.x)`: the action's name ends at '('.
    const std::string& word = args[0];
    const std::string_view name = std::string_view(word).substr(0, word.find('('));
    const ActionDef* def = find_action(name);
    if (!def) {
        const std::string near = nearest_action(name);
        return ctx.alert("unknown {} action '{}'{}", set_label(Set), name,
                         near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near));
    }
    if (!def->pending.empty())
        return ctx.alert("'{} {}' is not implemented yet; it comes with {}", set_label(Set), name,
                         def->pending);
    const bool allowed = Set == RuleSet::Request    ? def->request
                         : Set == RuleSet::Response ? def->response
                                                    : def->after_response;
    if (!allowed) return ctx.alert("'{}' is not a valid {} action", name, set_label(Set));
    if (def->backend_side && ctx.section() == cfg::SectionKind::Frontend)
        return ctx.alert(
            "'{} {}' acts on the server side: it belongs in a backend or listen section",
            set_label(Set), name);
    if (def->experimental && !ctx.global().get<proxy::GlobalConf>().expose_experimental)
        return ctx.alert(
            "'{} {}' is experimental (as in HAProxy 2.6): allow it with "
            "'expose-experimental-directives' in the global section, before this line",
            set_label(Set), name);
    const std::size_t cond_at = sample::condition_start(args);
    const sample::Use available = Set == RuleSet::Request ? kRequestData : kResponseData;
    // The action sees its own word too (for `set-var(name)`), then its arguments.
    auto action = def->parse({.args = args.subspan(0, cond_at),
                              .set = Set,
                              .available = available,
                              .proxy = ctx.name(),
                              .cfg = &ctx});
    if (!action) return ctx.alert("'{} {}': {}", set_label(Set), name, action.error());
    auto rule = std::make_shared<Rule>();
    rule->action = std::move(*action);
    rule->where = ctx.where();
    if (cond_at < args.size()) {
        auto cond = sample::parse_condition(args.subspan(cond_at),
                                            ctx.parts().get<sample::AclConf>().table, available);
        if (!cond) return ctx.alert("'{} {}': {}", set_label(Set), name, cond.error());
        rule->cond = std::make_shared<const sample::Condition>(std::move(*cond));
    }
    HttpRulesConf& conf = ctx.parts().get<HttpRulesConf>();
    auto& list = Set == RuleSet::Request    ? conf.request
                 : Set == RuleSet::Response ? conf.response
                                            : conf.after_response;
    list.push_back(std::move(rule));
    if (!def->no_effect.empty())
        return ctx.warning("'{} {}' has no effect in Sluice: {}", set_label(Set), name,
                           def->no_effect);
    return cfg::Status::Ok;
}

constexpr cfg::In kProxies = cfg::In::Frontend | cfg::In::Backend;
constexpr cfg::Keyword kKeywords[] = {
    {.name = "http-request",
     .in = kProxies,
     .arity = cfg::at_least(1),
     .parse = parse_rule<RuleSet::Request>},
    {.name = "http-response",
     .in = kProxies,
     .arity = cfg::at_least(1),
     .parse = parse_rule<RuleSet::Response>},
    {.name = "http-after-response",
     .in = kProxies,
     .arity = cfg::at_least(1),
     .parse = parse_rule<RuleSet::AfterResponse>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::rules
