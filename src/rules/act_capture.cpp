// The capture actions: `http-request capture <expr> len N | id N`, `http-response capture
// <expr> id N`, `http-after-response capture <expr> id N` and `tcp-request content capture
// <expr> len N`. `len` takes a new request slot in the section (which must be a frontend or
// listen), numbered after those declared before it, as in HAProxy; `id` names a slot the
// frontend declares, checked once the whole config is read when the rule is in a frontend (in
// a backend the frontend is only known at run time, and a missing slot is skipped then, as in
// HAProxy).
#include <fmt/format.h>

#include <optional>

#include "sluice/cfg/document.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/rules/tcp_rules.hpp"
#include "sluice/sample/capture.hpp"
#include "sluice/sample/expr.hpp"

namespace sluice::rules {
namespace {

using util::Result;

class Capture final : public Action {
  public:
    Capture(sample::Expr expr, bool response, std::uint32_t slot)
        : expr_(std::move(expr)), response_(response), slot_(slot) {}
    bool run(RuleCtx& ctx) const override {
        sample::Captures* c = ctx.samples.find<sample::Captures>();
        if (!c || slot_ >= c->slots(response_)) return true;  // not a slot of this frontend
        sample::Sample s;
        if (!expr_.eval(ctx.samples, s)) return true;
        if (!sample::cast(s, sample::Type::Str, ctx.samples.arena())) return true;
        (void)c->store(response_, slot_, s.str);
        return true;
    }

  private:
    sample::Expr expr_;
    bool response_;
    std::uint32_t slot_;
};

bool frontend_side(const cfg::Ctx& ctx) {
    return ctx.section() == cfg::SectionKind::Frontend || ctx.section() == cfg::SectionKind::Listen;
}

// `len N`: a new request slot of this frontend, for this rule.
Result<std::uint32_t> take_slot(cfg::Ctx* ctx, std::string_view len_text) {
    auto len = sample::parse_capture_len(len_text, true);
    if (!len) return util::error(len.error());
    if (!ctx) return util::error("a capture slot needs a proxy section");
    if (!frontend_side(*ctx))
        return util::error(fmt::format("proxy '{}' has no frontend capability", ctx->name()));
    auto& slots = ctx->parts().get<sample::CaptureConf>().req;
    slots.push_back({.header = {}, .len = *len});
    return static_cast<std::uint32_t>(slots.size() - 1);
}

// `id N` in a frontend: the slot must exist once every line of the section is read (`declare
// capture` may come after the rule, as HAProxy allows).
void check_slot_later(cfg::Ctx* ctx, bool response, std::uint32_t id, std::string_view set) {
    if (!ctx || !frontend_side(*ctx)) return;
    const cfg::SectionKind kind = ctx->section();
    (void)cfg::defer_check([kind, name = ctx->name(), response, id,
                            set = std::string(set)](const cfg::Document& doc) -> std::string {
        for (const cfg::Section& s : doc.proxies) {
            if (s.kind != kind || s.name != name) continue;
            const sample::CaptureConf& conf = s.parts.read<sample::CaptureConf>();
            const std::size_t n = response ? conf.res.size() : conf.req.size();
            if (id < n) return {};
            return fmt::format(
                "unable to find capture id '{}' referenced by {} capture rule: {} '{}' "
                "declares {} {} capture slot{}",
                id, set, cfg::section_name(kind), name, n, response ? "response" : "request",
                n == 1 ? "" : "s");
        }
        return {};
    });
}

// A captured value is kept as a string: the expression must give one, or something that casts.
// The error when it cannot, else nothing.
std::optional<std::string> not_capturable(const sample::Expr& expr, std::string_view text) {
    if (sample::castable(expr.type(), sample::Type::Str)) return std::nullopt;
    return fmt::format("'{}' gives a {}, which cannot be captured as a string", text,
                       sample::type_name(expr.type()));
}

util::Result<sample::Expr> captured_expr(const std::string& text, sample::Use available) {
    auto expr = sample::parse_expr(text, available);
    if (!expr) return util::error(expr.error());
    if (auto bad = not_capturable(*expr, text)) return util::error(*bad);
    return expr;
}

Result<std::unique_ptr<const Action>> parse_capture(const ActionParse& p) {
    const bool request = p.set == RuleSet::Request;
    const std::string_view usage = request ? "expects <expression> [ 'len' <length> | 'id' <idx> ]"
                                           : "expects <expression> id <idx>";
    if (p.args.size() < 4) return util::error(std::string(usage));
    if (p.args.size() > 4)
        return util::error(fmt::format("unexpected '{}' (expected 'if' or 'unless')", p.args[4]));
    const std::string& how = p.args[2];
    if (how != "id" && !(request && how == "len"))
        return util::error(
            fmt::format("expects {}, found '{}'", request ? "'len' or 'id'" : "'id'", how));
    auto expr = captured_expr(p.args[1], p.available);
    if (!expr) return util::error(expr.error());
    std::uint32_t slot = 0;
    if (how == "len") {
        auto taken = take_slot(p.cfg, p.args[3]);
        if (!taken) return util::error(taken.error());
        slot = *taken;
    } else {
        auto id = sample::parse_capture_id(p.args[3]);
        if (!id) return util::error(id.error());
        slot = *id;
        // http-after-response names its rule as http-response does, as in HAProxy.
        check_slot_later(p.cfg, !request, slot, request ? "http-request" : "http-response");
    }
    return std::unique_ptr<const Action>(new Capture(std::move(*expr), !request, slot));
}

constexpr ActionDef kActions[] = {
    {.name = "capture", .parse = parse_capture, .after_response = true},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace

Result<std::unique_ptr<const Action>> parse_content_capture(std::span<const std::string> args,
                                                            cfg::Ctx& ctx, sample::Use available) {
    if (args.size() < 2) return util::error("expects <expression> len <length>");
    auto expr = sample::parse_expr(args[1], available);
    if (!expr) return util::error(expr.error());
    if (args.size() < 4 || args[2] != "len")
        return util::error("a positive 'len' argument is mandatory");
    if (args.size() > 4)
        return util::error(fmt::format("unexpected '{}' (expected 'if' or 'unless')", args[4]));
    if (auto bad = not_capturable(*expr, args[1])) return util::error(*bad);
    auto slot = take_slot(&ctx, args[3]);
    if (!slot) return util::error(slot.error());
    return std::unique_ptr<const Action>(new Capture(std::move(*expr), false, *slot));
}

}  // namespace sluice::rules
