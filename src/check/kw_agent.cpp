// Agent check keywords: `agent-check`, `no-agent-check`, `agent-port`, `agent-inter`,
// `agent-send`, `agent-addr` on server lines and default-server.
#include <fmt/format.h>

#include <algorithm>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/check/agent.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::check {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

ServerAgentConf& agent(Ctx& ctx) {
    return ctx.parts().get<ServerAgentConf>();
}

// HAProxy 2.6 refuses an agent check with no port (agent-port may come later on the line, or
// from the server line after a default-server's agent-check): decided once the config is read.
std::string agent_port_missing(const cfg::Document& doc, const std::string& proxy, int line) {
    for (const cfg::Section& s : doc.proxies) {
        if (s.name != proxy) continue;
        const auto& servers = s.parts.read<proxy::ProxyConf>().servers;
        const bool own_line = std::any_of(servers.begin(), servers.end(),
                                          [&](const auto& l) { return l.where.line == line; });
        for (const proxy::ServerLine& l : servers) {
            // A server line answers for itself; a default-server line for the servers after it.
            if (own_line ? l.where.line != line : l.where.line < line) continue;
            const auto& ac = l.options.read<ServerAgentConf>();
            if (ac.enabled && ac.port == 0)
                return fmt::format(
                    "server {} does not have agent port. Agent check has been disabled.", l.name);
        }
    }
    return {};
}

template <bool On>
Status set_agent_check(Args, Ctx& ctx) {
    agent(ctx).enabled = On;
    if (On)
        (void)cfg::defer_check(
            [proxy = ctx.name(), line = ctx.where().line](const cfg::Document& doc) {
                return agent_port_missing(doc, proxy, line);
            });
    return Status::Ok;
}

Status set_agent_port(Args args, Ctx& ctx) {
    // HAProxy reads it with atol into a 16-bit port: 0 (or garbage) means none.
    auto v = util::parse_uint(args[0]);
    agent(ctx).port = v ? static_cast<std::uint16_t>(*v) : 0;
    return Status::Ok;
}

Status set_agent_inter(Args args, Ctx& ctx) {
    auto d = util::parse_duration(args[0]);
    if (!d) return ctx.alert("{}", d.error());
    if (d->count() <= 0) return ctx.alert("expects a time above zero, got '{}'", args[0]);
    agent(ctx).inter = *d;
    return Status::Ok;
}

Status set_agent_send(Args args, Ctx& ctx) {
    agent(ctx).send = args[0];
    return Status::Ok;
}

Status set_agent_addr(Args args, Ctx& ctx) {
    auto a = net::parse_server_address(args[0]);
    if (!a || (a->address.family() != AF_INET && a->address.family() != AF_INET6) || a->has_port)
        return ctx.alert("parsing agent-addr failed. Check if '{}' is correct address.", args[0]);
    agent(ctx).addr = a->address;
    return Status::Ok;
}

using cfg::OptionOf;
constexpr cfg::Option kAgentOptions[] = {
    {.of = OptionOf::Server, .name = "agent-check", .parse = set_agent_check<true>},
    {.of = OptionOf::Server, .name = "no-agent-check", .parse = set_agent_check<false>},
    {.of = OptionOf::Server, .name = "agent-port", .args = 1, .parse = set_agent_port},
    {.of = OptionOf::Server, .name = "agent-inter", .args = 1, .parse = set_agent_inter},
    {.of = OptionOf::Server, .name = "agent-send", .args = 1, .parse = set_agent_send},
    {.of = OptionOf::Server, .name = "agent-addr", .args = 1, .parse = set_agent_addr},
};
const cfg::OptionRegistrar kAgentRegistered{kAgentOptions};

}  // namespace
}  // namespace sluice::check
