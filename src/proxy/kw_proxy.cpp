// Keywords of defaults/frontend/backend/listen sections owned by the proxy module: mode,
// timeouts, limits, retries, binds, routing to backends, splice and socket options.
#include <charconv>

#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::proxy {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

Status parse_mode(Args args, Ctx& ctx, ProxyConf& px) {
    if (args[0] == "tcp") {
        px.mode = Mode::Tcp;
    } else if (args[0] == "http") {
        px.mode = Mode::Http;
    } else if (args[0] == "health") {
        return ctx.alert(
            "'health' was removed in HAProxy 2.4; use 'monitor-uri' in mode http or "
            "a 'tcp-request connection' rule");
    } else {
        return ctx.alert("expects 'tcp' or 'http', got '{}'", args[0]);
    }
    px.mode_where = ctx.where();
    return Status::Ok;
}

Status parse_bind(Args args, Ctx& ctx, ProxyConf& px) {
    BindLine line;
    line.where = ctx.where();
    line.address_text = args[0];
    auto endpoints = net::parse_bind_address(args[0]);
    if (!endpoints) return ctx.alert("invalid address '{}': {}", args[0], endpoints.error());
    line.endpoints = std::move(*endpoints);
    const Status st = cfg::parse_options(cfg::OptionOf::Bind, args.subspan(1), ctx, line.options);
    px.binds.push_back(std::move(line));
    return st;
}

// `option redispatch [interval]` and `no option redispatch`.
Status parse_redispatch(Args args, Ctx& ctx, ProxyConf& px) {
    if (ctx.negated()) {
        px.redispatch = 0;
        return Status::Ok;
    }
    px.redispatch = -1;
    if (!args.empty()) {
        int v = 0;
        auto [end, ec] = std::from_chars(args[0].data(), args[0].data() + args[0].size(), v);
        if (ec != std::errc() || end != args[0].data() + args[0].size() || v == 0)
            return ctx.alert("expects a non-zero retry interval, got '{}'", args[0]);
        px.redispatch = v;
    }
    return Status::Ok;
}

Status parse_default_backend(Args args, Ctx& ctx, ProxyConf& px) {
    px.default_backend = args[0];
    px.default_backend_where = ctx.where();
    return Status::Ok;
}

Status parse_use_backend(Args args, Ctx& ctx, ProxyConf& px) {
    constexpr sample::Use kAvailable = sample::Use::Internal | sample::Use::Conn | sample::Use::Req;
    ProxyConf::UseBackend rule{.where = ctx.where(), .name = {}, .dynamic = {}, .cond = {}};
    if (args[0].find("%[") != std::string::npos) {
        auto f = sample::Format::parse(args[0], kAvailable);
        if (!f) return ctx.alert("in dynamic backend name '{}': {}", args[0], f.error());
        sample::note_rule_format(*f);
        rule.dynamic = std::make_shared<const sample::Format>(std::move(*f));
    } else {
        rule.name = args[0];
    }
    if (args.size() > 1) {
        if (args[1] != "if" && args[1] != "unless")
            return ctx.alert("unexpected '{}' after the backend name (expected 'if' or 'unless')",
                             args[1]);
        auto cond = sample::parse_condition(args.subspan(1),
                                            ctx.parts().get<sample::AclConf>().table, kAvailable);
        if (!cond)
            return ctx.alert("error detected while parsing switching rule : {}", cond.error());
        rule.cond = std::make_shared<const sample::Condition>(std::move(*cond));
    }
    px.use_backends.push_back(std::move(rule));
    return Status::Ok;
}

Status parse_use_server(Args args, Ctx& ctx, ProxyConf& px) {
    constexpr sample::Use kAvailable = sample::Use::Internal | sample::Use::Conn | sample::Use::Req;
    ProxyConf::UseServer rule{.where = ctx.where(), .name = args[0], .cond = {}};
    // As in HAProxy, the condition is not optional.
    if (args.size() < 3 || (args[1] != "if" && args[1] != "unless"))
        return ctx.alert("requires either 'if' or 'unless' followed by a condition");
    {
        auto cond = sample::parse_condition(args.subspan(1),
                                            ctx.parts().get<sample::AclConf>().table, kAvailable);
        if (!cond) return ctx.alert("{}", cond.error());
        rule.cond = std::make_shared<const sample::Condition>(std::move(*cond));
    }
    px.use_servers.push_back(std::move(rule));
    return Status::Ok;
}

Status parse_disabled(Args, Ctx&, ProxyConf& px) {
    px.disabled = true;
    return Status::Ok;
}
Status parse_enabled(Args, Ctx&, ProxyConf& px) {
    px.disabled = false;
    return Status::Ok;
}

constexpr In P = cfg::kAnyProxy;
constexpr In FE = cfg::kFrontendSide;
constexpr In BE = cfg::kBackendSide;

// HAProxy 1.x spellings that real configs still carry, with an exact modern equivalent: kept
// working with a warning naming the replacement (HAProxy 2.6 refuses them).
constexpr cfg::Keyword kObsoleteAliases[] = {
    {.name = "contimeout",
     .in = BE,
     .arity = cfg::exactly(1),
     .alias_of = "timeout connect",
     .deprecation = "obsolete since HAProxy 2.1; use 'timeout connect' (accepted as that)"},
    {.name = "clitimeout",
     .in = FE,
     .arity = cfg::exactly(1),
     .alias_of = "timeout client",
     .deprecation = "obsolete since HAProxy 2.1; use 'timeout client' (accepted as that)"},
    {.name = "srvtimeout",
     .in = BE,
     .arity = cfg::exactly(1),
     .alias_of = "timeout server",
     .deprecation = "obsolete since HAProxy 2.1; use 'timeout server' (accepted as that)"},
    {.name = "redispatch",
     .in = BE,
     .arity = cfg::exactly(0),
     .alias_of = "option redispatch",
     .deprecation = "obsolete since HAProxy 1.5; use 'option redispatch' (accepted as that)"},
    {.name = "timeout clitimeout",
     .in = FE,
     .arity = cfg::exactly(1),
     .alias_of = "timeout client",
     .deprecation = "obsolete; use 'timeout client' (accepted as that)"},
    {.name = "timeout srvtimeout",
     .in = BE,
     .arity = cfg::exactly(1),
     .alias_of = "timeout server",
     .deprecation = "obsolete; use 'timeout server' (accepted as that)"},
    {.name = "timeout contimeout",
     .in = BE,
     .arity = cfg::exactly(1),
     .alias_of = "timeout connect",
     .deprecation = "obsolete; use 'timeout connect' (accepted as that)"},
};
const cfg::Registrar kObsoleteRegistered{kObsoleteAliases};

constexpr cfg::Keyword kProxyKeywords[] = {
    {.name = "mode",
     .in = P,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<ProxyConf, parse_mode>},
    {.name = "bind",
     .in = In::Frontend,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ProxyConf, parse_bind>},
    cfg::duration<&ProxyConf::timeout_connect>("timeout connect", BE),
    cfg::duration<&ProxyConf::timeout_client>("timeout client", FE),
    cfg::duration<&ProxyConf::timeout_server>("timeout server", BE),
    cfg::duration<&ProxyConf::timeout_tunnel>("timeout tunnel", BE),
    cfg::duration<&ProxyConf::timeout_client_fin>("timeout client-fin", FE),
    cfg::duration<&ProxyConf::timeout_server_fin>("timeout server-fin", BE),
    cfg::duration<&ProxyConf::timeout_queue>("timeout queue", BE),
    cfg::uint<&ProxyConf::maxconn>("maxconn", FE),
    cfg::uint<&ProxyConf::backlog>("backlog", FE),
    cfg::uint<&ProxyConf::retries>("retries", BE),
    cfg::uint<&ProxyConf::fullconn>("fullconn", BE),
    {.name = "option redispatch",
     .in = BE,
     .arity = cfg::between(0, 1),
     .parse = cfg::on_part<ProxyConf, parse_redispatch>,
     .negatable = true},
    cfg::flag<&ProxyConf::persist>("option persist", BE),
    cfg::flag<&ProxyConf::splice_auto>("option splice-auto", P),
    cfg::flag<&ProxyConf::splice_request>("option splice-request", P),
    cfg::flag<&ProxyConf::splice_response>("option splice-response", P),
    cfg::flag<&ProxyConf::tcpka_client>("option clitcpka", FE),
    cfg::flag<&ProxyConf::tcpka_server>("option srvtcpka", BE),
    cfg::flag<&ProxyConf::nolinger>("option nolinger", P),
    {.name = "default_backend",
     .in = FE,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<ProxyConf, parse_default_backend>},
    {.name = "use_backend",
     .in = In::Frontend,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ProxyConf, parse_use_backend>},
    {.name = "use-server",
     .in = In::Backend,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ProxyConf, parse_use_server>},
    {.name = "disabled",
     .in = P,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyConf, parse_disabled>},
    {.name = "enabled",
     .in = P,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyConf, parse_enabled>},
    cfg::text<&ProxyConf::description>("description", In::Frontend | In::Backend),
};
const cfg::Registrar kRegistered{kProxyKeywords};

// `option tcpka` sets both sides at once.
Status parse_tcpka(Args, Ctx& ctx, ProxyConf& px) {
    px.tcpka_client = px.tcpka_server = !ctx.negated();
    return Status::Ok;
}
constexpr cfg::Keyword kTcpka[] = {
    {.name = "option tcpka",
     .in = P,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyConf, parse_tcpka>,
     .negatable = true},
};
const cfg::Registrar kTcpkaRegistered{kTcpka};

}  // namespace
}  // namespace sluice::proxy
