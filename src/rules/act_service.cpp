// Services (service.hpp): their registry and `http-request use-service <name>`.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "sluice/rules/http_rules.hpp"
#include "sluice/rules/service.hpp"

namespace sluice::rules {
namespace {

std::map<std::string_view, const ServiceDef*>& services() {
    static std::map<std::string_view, const ServiceDef*> m;
    return m;
}

class UseService final : public Action {
  public:
    explicit UseService(std::shared_ptr<const Service> service) : service_(std::move(service)) {}
    bool run(RuleCtx& ctx) const override {
        ctx.outcome.verdict = Verdict::Reply;
        ctx.outcome.service = service_.get();
        return false;
    }

  private:
    std::shared_ptr<const Service> service_;
};

util::Result<std::unique_ptr<const Action>> parse_use_service(const ActionParse& p) {
    // p.args[0] is the action word.
    if (p.args.size() < 2) return util::error("'use-service' expects a service name.");
    const ServiceDef* def = find_service(p.args[1]);
    if (!def) return util::error(fmt::format("'{}' unknown service name.", p.args[1]));
    auto service = def->make(p.args.subspan(2));
    if (!service) return util::error(service.error());
    return std::unique_ptr<const Action>(std::make_unique<UseService>(std::move(*service)));
}

constexpr ActionDef kActions[] = {
    {.name = "use-service", .parse = parse_use_service, .response = false},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace

ServiceRegistrar::ServiceRegistrar(std::span<const ServiceDef> items) {
    for (const ServiceDef& s : items) {
        if (!services().emplace(s.name, &s).second) {
            std::fprintf(stderr, "sluice: service '%.*s' registered twice\n",
                         static_cast<int>(s.name.size()), s.name.data());
            std::abort();
        }
    }
}

const ServiceDef* find_service(std::string_view name) {
    auto it = services().find(name);
    return it == services().end() ? nullptr : it->second;
}

}  // namespace sluice::rules
