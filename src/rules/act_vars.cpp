// set-var(NAME[,COND...]) EXPR, set-var-fmt(NAME[,COND...]) FMT and unset-var(NAME): the
// variable actions of every rule set (http-request, http-response, http-after-response, and
// tcp-request / tcp-response through tcp_rules.cpp), and the global section's set-var and
// set-var-fmt. Conditions are set-var's (vars.hpp).
#include <fmt/format.h>

#include <variant>

#include "sluice/cfg/keyword.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/sample/vars.hpp"

namespace sluice::rules {
namespace {

using util::Result;

class VarWrite final : public Action {
  public:
    // No value: unset-var.
    using Value = std::variant<std::monostate, sample::Expr, sample::Format>;
    VarWrite(sample::VarRef ref, Value value) : ref_(std::move(ref)), value_(std::move(value)) {}
    bool run(RuleCtx& ctx) const override {
        // Variables that outlive the parse of the head, set (or unset) before the rules stopped
        // to wait for the body, are not written again: session and process ones, and in
        // response rules every one (the request's variables are not cleared between runs).
        if (ctx.retracing && (ctx.res || ref_.scope == sample::VarScope::Sess ||
                              ref_.scope == sample::VarScope::Proc))
            return true;
        if (const auto* expr = std::get_if<sample::Expr>(&value_)) {
            sample::Sample s;
            if (expr->eval(ctx.samples, s)) (void)sample::write_var(ctx.samples, ref_, s);
        } else if (const auto* format = std::get_if<sample::Format>(&value_)) {
            std::string& text = ctx.samples.arena().take();
            format->render(ctx.samples, text);
            (void)sample::write_var(ctx.samples, ref_, sample::Sample::string(text));
        } else {
            (void)sample::unset_var(ctx.samples, ref_);
        }
        return true;
    }

  private:
    sample::VarRef ref_;
    Value value_;
};

// The variable an action word names: `set-var(txn.x,ifnotset)`; conditions where `conditions`.
Result<sample::VarRef> var_in_name(const std::string& word, bool conditions) {
    const std::size_t open = word.find('(');
    if (open == std::string::npos || word.back() != ')')
        return util::error(fmt::format("expects '{}(<var-name>)'", word.substr(0, open)));
    const std::string_view inner = std::string_view(word).substr(open + 1, word.size() - open - 2);
    const std::size_t comma = inner.find(',');
    auto ref = sample::parse_var_name(inner.substr(0, comma));
    if (!ref) return ref;
    if (comma == std::string_view::npos) return ref;
    if (!conditions) return util::error("expects only a variable name, no condition");
    std::string_view rest = inner.substr(comma + 1);
    for (;;) {
        const std::size_t next = rest.find(',');
        if (auto st = sample::add_set_condition(*ref, rest.substr(0, next)); !st)
            return util::error(st.error());
        if (next == std::string_view::npos) break;
        rest = rest.substr(next + 1);
    }
    return ref;
}

Result<std::unique_ptr<const Action>> parse_set_var(const ActionParse& p) {
    auto ref = var_in_name(p.args[0], true);
    if (!ref) return util::error(ref.error());
    if (p.args.size() != 2) return util::error("expects exactly 1 argument: <expr>");
    auto e = sample::parse_expr(p.args[1], p.available);
    if (!e) return util::error(e.error());
    return std::unique_ptr<const Action>(new VarWrite(std::move(*ref), std::move(*e)));
}

Result<std::unique_ptr<const Action>> parse_set_var_fmt(const ActionParse& p) {
    auto ref = var_in_name(p.args[0], true);
    if (!ref) return util::error(ref.error());
    if (p.args.size() != 2) return util::error("expects exactly 1 argument: <fmt>");
    auto f = sample::Format::parse(p.args[1], p.available);
    if (!f) return util::error(f.error());
    sample::note_rule_format(*f);
    return std::unique_ptr<const Action>(new VarWrite(std::move(*ref), std::move(*f)));
}

Result<std::unique_ptr<const Action>> parse_unset_var(const ActionParse& p) {
    auto ref = var_in_name(p.args[0], false);
    if (!ref) return util::error(ref.error());
    if (p.args.size() != 1) return util::error("takes no argument");
    return std::unique_ptr<const Action>(new VarWrite(std::move(*ref), std::monostate{}));
}

// global `set-var proc.NAME EXPR` / `set-var-fmt proc.NAME FMT`: evaluated once, as the line
// is read, on what needs no traffic (int(), str(), env(), proc variables set above), as in
// HAProxy. A sample that has no value leaves the variable unset.
template <bool Fmt>
cfg::Status parse_global_set_var(cfg::Args args, cfg::Ctx& ctx) {
    if (args.size() != 2)
        return ctx.alert("expects a process-wide variable name ('proc.<name>') and {}",
                         Fmt ? "a log-format string" : "a sample expression");
    auto ref = sample::parse_var_name(args[0]);
    if (!ref) return ctx.alert("{}", ref.error());
    if (ref->scope != sample::VarScope::Proc)
        return ctx.alert("only 'proc' variables exist in the global section, not '{}'", args[0]);
    sample::Arena arena;
    sample::Context samples(arena);
    if constexpr (Fmt) {
        auto f = sample::Format::parse(args[1], sample::Use::Internal);
        if (!f) return ctx.alert("{}", f.error());
        std::string& text = arena.take();
        f->render(samples, text);
        (void)sample::write_var(samples, *ref, sample::Sample::string(text));
    } else {
        auto e = sample::parse_expr(args[1], sample::Use::Internal);
        if (!e) return ctx.alert("{}", e.error());
        sample::Sample s;
        if (e->eval(samples, s)) (void)sample::write_var(samples, *ref, s);
    }
    return cfg::Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "set-var",
     .in = cfg::In::Global,
     .arity = cfg::at_least(0),
     .parse = parse_global_set_var<false>},
    {.name = "set-var-fmt",
     .in = cfg::In::Global,
     .arity = cfg::at_least(0),
     .parse = parse_global_set_var<true>},
};
const cfg::Registrar kKeywordsRegistered{kKeywords};

constexpr ActionDef kActions[] = {
    {.name = "set-var", .parse = parse_set_var, .after_response = true},
    {.name = "set-var-fmt", .parse = parse_set_var_fmt, .after_response = true},
    {.name = "unset-var", .parse = parse_unset_var, .after_response = true},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
