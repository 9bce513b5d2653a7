// `log`, `log-tag`, `log-send-hostname`. Inheritance is HAProxy's: a proxy starts with its
// defaults' targets (the copy of its Parts), `log global` appends the global section's
// targets as declared so far, `no log` empties the list.
#include <fmt/format.h>

#include "sluice/cfg/keyword.hpp"
#include "sluice/log/conf.hpp"

namespace sluice::log {

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

Status parse_log(Args args, Ctx& ctx, LogConf& conf) {
    if (ctx.negated()) {
        if (!args.empty()) return ctx.alert("'no log' does not expect arguments");
        conf.targets.clear();
        return Status::Ok;
    }
    if (!args.empty() && args[0] == "global") {
        if (ctx.section() == cfg::SectionKind::Global)
            return ctx.alert("'global' is not supported for a global syslog server");
        if (args.size() > 1)
            return ctx.alert("'log global' takes no other argument (got '{}')", args[1]);
        const LogConf& global = ctx.global().read<LogConf>();
        conf.targets.insert(conf.targets.end(), global.targets.begin(), global.targets.end());
        return Status::Ok;
    }
    auto line = parse_log_line(args);
    if (!line) return ctx.alert("{}", line.error());
    auto dest = resolve_destination(line->address);
    if (!dest) return ctx.alert("{}", dest.error());
    conf.targets.push_back({std::move(*line), *dest});
    return Status::Ok;
}

Status parse_tag(Args args, Ctx&, LogConf& conf) {
    conf.tag = args[0];
    return Status::Ok;
}

Status parse_send_hostname(Args args, Ctx& ctx, LogConf& conf) {
    conf.send_hostname = args.empty() ? std::string() : args[0];
    if (args.size() > 1)
        return ctx.warning("only one host name is used; '{}' and after are ignored", args[1]);
    return Status::Ok;
}

constexpr cfg::In kWhere = cfg::In::Global | cfg::kAnyProxy;

constexpr cfg::Keyword kKeywords[] = {
    {.name = "log",
     .in = kWhere,
     .arity = cfg::at_least(0),
     .parse = cfg::on_part<LogConf, parse_log>,
     .negatable = true},
    {.name = "log-tag",
     .in = kWhere,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<LogConf, parse_tag>},
    {.name = "log-send-hostname",
     .in = cfg::In::Global,
     .arity = cfg::at_least(0),
     .parse = cfg::on_part<LogConf, parse_send_hostname>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace

}  // namespace sluice::log
