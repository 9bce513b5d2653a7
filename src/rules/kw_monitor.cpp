// `monitor-uri URI` and `monitor fail if|unless COND`: a frontend answers requests for that
// URI (its path, when URI starts with '/') itself, 200 (its `200` error page) or 503 while the
// condition holds, before any rule runs and without a server (load balancers in front of us poll
// it).
#include "sluice/cfg/keyword.hpp"
#include "sluice/rules/http_rules.hpp"

namespace sluice::rules {
namespace {

cfg::Status parse_monitor_uri(cfg::Args args, cfg::Ctx& ctx) {
    if (args[0].empty()) return ctx.alert("expects a URI");
    ctx.parts().get<MonitorConf>().uri = args[0];  // the last one counts, as in HAProxy
    return cfg::Status::Ok;
}

cfg::Status parse_monitor(cfg::Args args, cfg::Ctx& ctx) {
    if (args[0] != "fail") return ctx.alert("expects 'fail', got '{}'", args[0]);
    if (args.size() < 3 || (args[1] != "if" && args[1] != "unless"))
        return ctx.alert("'monitor fail' expects 'if' or 'unless' followed by a condition");
    constexpr sample::Use kAvailable = sample::Use::Internal | sample::Use::Conn | sample::Use::Req;
    auto cond = sample::parse_condition(args.subspan(1), ctx.parts().get<sample::AclConf>().table,
                                        kAvailable);
    if (!cond) return ctx.alert("'monitor fail': {}", cond.error());
    ctx.parts().get<MonitorConf>().fail.push_back(
        std::make_shared<const sample::Condition>(std::move(*cond)));
    return cfg::Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "monitor-uri",
     .in = cfg::kFrontendSide,
     .arity = cfg::exactly(1),
     .parse = parse_monitor_uri},
    {.name = "monitor", .in = cfg::In::Frontend, .arity = cfg::at_least(1), .parse = parse_monitor},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::rules
