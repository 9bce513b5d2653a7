// The global section's `stats socket`, `stats timeout` and `stats maxconn`, and the `level`
// option of the lines that open a runtime-API socket.
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/cli/server.hpp"
#include "sluice/net/address.hpp"

namespace sluice::cli {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

Status parse_level(Args args, Ctx& ctx) {
    static constexpr std::pair<std::string_view, Level> kLevels[] = {
        {"user", Level::User}, {"operator", Level::Operator}, {"admin", Level::Admin}};
    for (const auto& [name, level] : kLevels)
        if (args[0] == name) {
            ctx.parts().get<BindLevel>().level = level;
            return Status::Ok;
        }
    return ctx.alert("'level' only supports 'user', 'operator', and 'admin' (got '{}')", args[0]);
}

Status parse_socket(Args args, Ctx& ctx, CliConf& conf) {
    if (args.size() < 2) return ctx.alert("'stats socket' expects an address or a UNIX path");
    auto endpoints = net::parse_bind_address(args[1]);
    if (!endpoints) return ctx.alert("'stats socket' : {}", endpoints.error());
    cfg::Parts options;
    const Status st = cfg::parse_options(cfg::OptionOf::Bind, args.subspan(2), ctx, options);
    if (st == Status::Alert) return st;
    for (net::Endpoint& e : *endpoints)
        conf.sockets.push_back({.endpoint = std::move(e),
                                .options = options.read<net::BindOptions>(),
                                .level = options.read<BindLevel>().level,
                                .where = ctx.where()});
    return st;
}

Status parse_stats(Args args, Ctx& ctx, CliConf& conf) {
    const std::string& what = args.empty() ? std::string() : args[0];
    if (what == "socket") return parse_socket(args, ctx, conf);
    if (what == "timeout") {
        if (args.size() != 2) return ctx.alert("'stats timeout' expects a time");
        auto d = util::parse_duration(args[1]);
        if (!d || d->count() <= 0) return ctx.alert("'stats timeout' : invalid time '{}'", args[1]);
        conf.timeout = *d;
        return Status::Ok;
    }
    if (what == "maxconn") {
        auto v = args.size() == 2 ? util::parse_uint(args[1], INT32_MAX) : util::error("missing");
        if (!v || *v == 0)
            return ctx.alert("'stats maxconn' expects a positive number, got '{}'",
                             args.size() == 2 ? args[1] : "");
        conf.maxconn = static_cast<std::uint32_t>(*v);
        return Status::Ok;
    }
    if (what == "bind-process")
        return ctx.warning("'stats bind-process' is ignored: sluice runs one process");
    return ctx.alert("'stats' expects 'socket', 'maxconn', 'timeout' in 'global' section, got '{}'",
                     what);
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "stats",
     .in = cfg::In::Global,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<CliConf, parse_stats>},
};
const cfg::Registrar kRegistered{kKeywords};

constexpr cfg::Option kOptions[] = {
    {.of = cfg::OptionOf::Bind, .name = "level", .args = 1, .parse = parse_level},
};
const cfg::OptionRegistrar kOptionsRegistered{kOptions};

}  // namespace
}  // namespace sluice::cli
