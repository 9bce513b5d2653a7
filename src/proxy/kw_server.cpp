// `server` and `default-server` lines, and the server options this module owns (weight,
// maxconn, disabled, backup). Health-check, TLS and persistence options belong to their modules.
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::proxy {

std::size_t invalid_server_name_char(std::string_view name) {
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
            c != ':')
            return i;
    }
    return std::string_view::npos;
}

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

// HAProxy's weight range: 0 (takes no new traffic) to 256.
constexpr std::uint64_t kMaxWeight = 256;

bool valid_server_name(std::string_view name) {
    return !name.empty() && invalid_server_name_char(name) == std::string_view::npos;
}

Status parse_server(Args args, Ctx& ctx, ProxyConf& px) {
    if (args.size() < 2) return ctx.alert("expects <name> and <address>[:port] as arguments");
    ServerLine line;
    line.where = ctx.where();
    line.name = args[0];
    line.address_text = args[1];
    if (!valid_server_name(line.name))
        return ctx.alert("invalid server name '{}' (letters, digits, '-', '_', '.', ':')",
                         line.name);
    auto addr = net::parse_server_address(args[1]);
    if (!addr) return ctx.alert("server '{}': {}", line.name, addr.error());
    line.address = *addr;
    line.options = px.default_server;
    const Status st = cfg::parse_options(cfg::OptionOf::Server, args.subspan(2), ctx, line.options);
    px.servers.push_back(std::move(line));
    return st;
}

Status parse_default_server(Args args, Ctx& ctx, ProxyConf& px) {
    return cfg::parse_options(cfg::OptionOf::Server, args, ctx, px.default_server);
}

Status set_weight(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], kMaxWeight);
    if (!v) return ctx.alert("expects a number from 0 to {}, got '{}'", kMaxWeight, args[0]);
    ctx.parts().get<ServerOptions>().weight = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
Status set_maxconn(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], UINT32_MAX);
    if (!v) return ctx.alert("expects a number, got '{}'", args[0]);
    ctx.parts().get<ServerOptions>().maxconn = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
Status set_minconn(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], UINT32_MAX);
    if (!v) return ctx.alert("expects a number, got '{}'", args[0]);
    ctx.parts().get<ServerOptions>().minconn = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
Status set_maxqueue(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], UINT32_MAX);
    if (!v) return ctx.alert("expects a number, got '{}'", args[0]);
    ctx.parts().get<ServerOptions>().maxqueue = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
Status set_id(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], INT32_MAX);
    if (!v) return ctx.alert("expects a positive number, got '{}'", args[0]);
    if (*v == 0) return ctx.alert("custom id has to be > 0.");
    ctx.parts().get<ServerOptions>().id = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
Status set_redir(Args args, Ctx& ctx) {
    ctx.parts().get<ServerOptions>().redir = args[0];
    return Status::Ok;
}
Status set_disabled(Args, Ctx& ctx) {
    ctx.parts().get<ServerOptions>().disabled = true;
    return Status::Ok;
}
Status set_enabled(Args, Ctx& ctx) {
    ctx.parts().get<ServerOptions>().disabled = false;
    return Status::Ok;
}
Status set_backup(Args, Ctx& ctx) {
    ctx.parts().get<ServerOptions>().backup = true;
    return Status::Ok;
}
Status set_non_backup(Args, Ctx& ctx) {
    ctx.parts().get<ServerOptions>().backup = false;
    return Status::Ok;
}

template <std::uint8_t Version>
Status set_send_proxy(Args, Ctx& ctx) {
    ctx.parts().get<ServerOptions>().send_proxy = Version;
    return Status::Ok;
}

using cfg::OptionOf;
constexpr cfg::Option kServerOptions[] = {
    {.of = OptionOf::Server, .name = "weight", .args = 1, .parse = set_weight},
    {.of = OptionOf::Server, .name = "maxconn", .args = 1, .parse = set_maxconn},
    {.of = OptionOf::Server, .name = "minconn", .args = 1, .parse = set_minconn},
    {.of = OptionOf::Server, .name = "maxqueue", .args = 1, .parse = set_maxqueue},
    {.of = OptionOf::Server, .name = "id", .args = 1, .parse = set_id},
    {.of = OptionOf::Server, .name = "redir", .args = 1, .parse = set_redir},
    {.of = OptionOf::Server, .name = "disabled", .parse = set_disabled},
    {.of = OptionOf::Server, .name = "enabled", .parse = set_enabled},
    {.of = OptionOf::Server, .name = "backup", .parse = set_backup},
    {.of = OptionOf::Server, .name = "no-backup", .parse = set_non_backup},
    {.of = OptionOf::Server, .name = "send-proxy", .parse = set_send_proxy<1>},
    {.of = OptionOf::Server, .name = "send-proxy-v2", .parse = set_send_proxy<2>},
    {.of = OptionOf::Server, .name = "no-send-proxy", .parse = set_send_proxy<0>},
    {.of = OptionOf::Server, .name = "no-send-proxy-v2", .parse = set_send_proxy<0>},
};
const cfg::OptionRegistrar kOptionsRegistered{kServerOptions};

constexpr cfg::Keyword kServerKeywords[] = {
    {.name = "server",
     .in = In::Backend,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ProxyConf, parse_server>,
     .fatal_on_wrong_side = true},
    {.name = "default-server",
     .in = cfg::kBackendSide,
     .arity = cfg::at_least(0),
     .parse = cfg::on_part<ProxyConf, parse_default_server>},
};
const cfg::Registrar kRegistered{kServerKeywords};

}  // namespace
}  // namespace sluice::proxy
