// http-request / http-response set-nice: accepted with a warning (see nice.hpp). The rule stays
// in its list, conditions and all, so that it still ends a run of early-hint rules as in
// HAProxy.
#include "nice.hpp"
#include "sluice/rules/http_rules.hpp"

namespace sluice::rules {
namespace {

class SetNice final : public Action {
  public:
    bool run(RuleCtx&) const override { return true; }
};

util::Result<std::unique_ptr<const Action>> parse_set_nice(const ActionParse& p) {
    if (auto st = check_nice_args(p.args.subspan(1)); !st) return util::error(st.error());
    return std::unique_ptr<const Action>(new SetNice);
}

constexpr ActionDef kActions[] = {
    {.name = "set-nice", .parse = parse_set_nice, .no_effect = kNiceHasNoEffect},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
