// set-priority-class and set-priority-offset (http-request, tcp-request content): where the
// request stands in the queues when every server is full, and the prio_class / prio_offset
// fetches that read it back. The stream attaches its proxy::QueuePriority to the context.
#include <algorithm>

#include "sluice/proxy/runtime.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/expr.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::rules {
namespace {

using util::Result;

enum class Field : std::uint8_t { Class, Offset };

class SetPriority final : public Action {
  public:
    SetPriority(Field field, sample::Expr expr) : field_(field), expr_(std::move(expr)) {}
    bool run(RuleCtx& ctx) const override {
        auto* priority = ctx.samples.find<proxy::QueuePriority>();
        if (!priority) return true;
        sample::Sample s;
        if (!expr_.eval(ctx.samples, s)) return true;  // no sample: nothing changes
        if (s.type != sample::Type::Sint &&
            !sample::cast(s, sample::Type::Sint, ctx.samples.arena()))
            return true;
        // Out of range values are truncated to it, as HAProxy does.
        if (field_ == Field::Class) {
            constexpr std::int64_t max = proxy::QueuePriority::kMaxClass;
            priority->klass =
                static_cast<std::int32_t>(std::clamp<std::int64_t>(s.sint, -max, max));
        } else {
            constexpr std::int64_t max = proxy::QueuePriority::kMaxOffsetMs;
            priority->offset_ms =
                static_cast<std::int32_t>(std::clamp<std::int64_t>(s.sint, -max, max));
        }
        return true;
    }

  private:
    Field field_;
    sample::Expr expr_;
};

template <Field F>
Result<std::unique_ptr<const Action>> parse_set_priority(const ActionParse& p) {
    if (p.args.size() != 2) return util::error("expects exactly 1 argument: <expr>");
    auto e = sample::parse_expr(p.args[1], p.available);
    if (!e) return util::error(e.error());
    return std::unique_ptr<const Action>(new SetPriority(F, std::move(*e)));
}

constexpr ActionDef kActions[] = {
    {.name = "set-priority-class", .parse = parse_set_priority<Field::Class>, .response = false},
    {.name = "set-priority-offset", .parse = parse_set_priority<Field::Offset>, .response = false},
};
const ActionRegistrar kRegistered{kActions};

template <Field F>
bool fetch_priority(const sample::Args&, sample::Context& ctx, sample::Sample& out) {
    const auto* priority = ctx.find<proxy::QueuePriority>();
    if (!priority) return false;
    out = sample::Sample::integer(F == Field::Class ? priority->klass : priority->offset_ms);
    return true;
}

constexpr sample::Fetch kFetches[] = {
    {.name = "prio_class",
     .fn = fetch_priority<Field::Class>,
     .out = sample::Type::Sint,
     .use = sample::Use::Internal},
    {.name = "prio_offset",
     .fn = fetch_priority<Field::Offset>,
     .out = sample::Type::Sint,
     .use = sample::Use::Internal},
};
const sample::FetchRegistrar kFetchesRegistered{kFetches};

}  // namespace
}  // namespace sluice::rules
