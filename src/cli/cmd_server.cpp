// The runtime API's server commands: `set server <bk>/<srv> state|weight|addr|health|agent|
// check-port|agent-addr|agent-port|agent-send`, `enable|disable server|health|agent`, `set
// maxconn server`, `shutdown sessions server`, with HAProxy 2.6's answers.
#include <arpa/inet.h>

#include <cstdlib>

#include "session.hpp"
#include "sluice/check/agent.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/check/conf.hpp"
#include "sluice/check/watch.hpp"

namespace sluice::cli {
namespace {

using check::ChecksChange;

using check::has_agent;
using check::has_check;

void change_checks(Ctx& ctx, proxy::Server& s, ChecksChange change) {
    if (ctx.hooks.checks_change) ctx.hooks.checks_change(s, std::move(change));
}

std::string ip_of(const net::Address& a) {
    char buf[64];
    return std::string(a.ip_text(buf, sizeof buf));
}

// A port as HAProxy's answers show it: a port map as "+N" (a server without port is "+0").
std::string port_text(const net::ServerAddress& a) {
    if (!a.has_port) return fmt::format("{:+d}", a.port_offset);
    return fmt::format("{}", a.address.port());
}

// A port argument as HAProxy reads it: digits (a bigger number wraps on 16 bits, as there),
// or a map "+N" / "-N"; false when it is not a number.
bool parse_port_arg(std::string_view text, bool& map, int& value) {
    map = !text.empty() && (text.front() == '+' || text.front() == '-');
    std::string_view digits = map ? text.substr(1) : text;
    if (digits.empty() || digits.size() > 9) return false;
    long v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    value = map && text.front() == '-' ? -static_cast<int>(v) : static_cast<int>(v);
    return true;
}

// `set server B/S addr <ip> [port <port>]`: HAProxy's summary of what changed, by its source.
void set_addr(Ctx& ctx, proxy::Server& s) {
    if (ctx.args.size() < 5) {
        ctx.error("set server <b>/<s> addr requires an address and optionally a port.");
        return;
    }
    const net::ServerAddress now = s.destination.now().addr;
    net::ServerAddress next = now;
    if (!net::parse_numeric_ip(ctx.args[4], now.address.port(), next.address)) {
        ctx.message(Severity::Notice,
                    fmt::format("Invalid addr '{}' by 'stats socket command'", ctx.args[4]));
        return;
    }
    std::string msg;
    const std::string from = ip_of(now.address), to = ip_of(next.address);
    if (from != to || now.address.family() != next.address.family())
        msg = fmt::format("IP changed from '{}' to '{}'", from, to);
    else
        msg = "no need to change the addr";
    if (ctx.args.size() > 6 && ctx.args[5] == "port") {
        bool map = false;
        int value = 0;
        if (!parse_port_arg(ctx.args[6], map, value)) {
            msg += fmt::format(", problem converting port '{}' to an int", ctx.args[6]);
        } else if (map && now.has_port) {
            msg +=
                ", can't change <port> to port map because it is incompatible with current "
                "health check port configuration (use 'port' statement from the 'server' "
                "directive.";
        } else {
            if (map) {
                next.port_offset = value;
                next.port_is_offset = true;
            } else {
                next.has_port = true;
                next.port_is_offset = false;
                next.port_offset = 0;
                next.address.set_port(static_cast<std::uint16_t>(value));
            }
            const std::string before = port_text(now), after = port_text(next);
            if (before != after)
                msg += fmt::format(", port changed from '{}' to '{}'", before, after);
            else
                msg += ", no need to change the port";
        }
    }
    ctx.message(Severity::Notice, msg + " by 'stats socket command'");
    s.destination.set(next);
    change_checks(ctx, s, {.what = ChecksChange::What::Address});
}

// A port for check-port / agent-port: HAProxy's raw answers (no line end) on bad input.
std::optional<std::uint16_t> port_arg(Ctx& ctx, std::string_view text, bool zero_ok) {
    char* end = nullptr;
    const std::string t(text);
    const long v = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || *end != '\0') {
        ctx.print("provided port is not an integer");
        return std::nullopt;
    }
    if (v < (zero_ok ? 0 : 1) || v > 65535) {
        ctx.print("provided port is invalid");
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(v);
}

void set_check_port(Ctx& ctx, proxy::Server& s) {
    if (ctx.args.size() < 5) {
        ctx.error("set server <b>/<s> check-port requires a port.");
        return;
    }
    if (!has_check(s)) {
        ctx.print("health checks are not enabled on this server");
        return;
    }
    if (auto port = port_arg(ctx, ctx.args[4], true))
        change_checks(ctx, s, {.what = ChecksChange::What::CheckPort, .port = *port});
}

void set_health(Ctx& ctx, proxy::Server& s, std::string_view value) {
    // A tracking server's health is the tracked one's.
    if (s.line_parts && !s.line_parts->read<check::ServerWatchConf>().track.empty()) {
        ctx.error("cannot change health on a tracking server.");
        return;
    }
    using W = check::StateMessage::What;
    W what;
    if (value == "up")
        what = W::Up;
    else if (value == "stopping")
        what = W::Stopping;
    else if (value == "down")
        what = W::Down;
    else {
        ctx.error("'set server <srv> health' expects 'up', 'stopping', or 'down'.");
        return;
    }
    change_checks(ctx, s, {.what = ChecksChange::What::Health, .state = what});
}

void set_agent(Ctx& ctx, proxy::Server& s, std::string_view value) {
    if (!has_agent(s)) {
        ctx.error("agent checks are not enabled on this server.");
        return;
    }
    using W = check::StateMessage::What;
    if (value != "up" && value != "down") {
        ctx.error("'set server <srv> agent' expects 'up' or 'down'.");
        return;
    }
    change_checks(ctx, s,
                  {.what = ChecksChange::What::Agent, .state = value == "up" ? W::Up : W::Down});
}

// `set server B/S check-addr|agent-addr <ip> [port <port>]`: HAProxy's answers.
void set_check_or_agent_addr(Ctx& ctx, proxy::Server& s, bool agent) {
    const std::string_view what = agent ? "agent" : "check";
    if (ctx.args.size() < 5) {
        ctx.error(fmt::format(
            "set server <b>/<s> {}-addr requires an address and optionally a port.", what));
        return;
    }
    if (agent ? !has_agent(s) : !has_check(s)) {
        ctx.printf("{} checks are not enabled on this server", agent ? "agent" : "health");
        return;
    }
    net::ServerAddress a;
    if (!net::parse_numeric_ip(ctx.args[4], 0, a.address)) {
        ctx.printf("invalid addr '{}'", ctx.args[4]);
        return;
    }
    std::uint16_t port = 0;
    if (ctx.args.size() > 6 && ctx.args[5] == "port") {
        auto p = port_arg(ctx, ctx.args[6], true);
        if (!p) return;
        port = *p;
    }
    (agent ? s.agent_address : s.check_address).set(a);
    change_checks(ctx, s,
                  {.what = agent ? ChecksChange::What::AgentAddr : ChecksChange::What::CheckAddr,
                   .port = port});
}

void set_agent_port(Ctx& ctx, proxy::Server& s) {
    if (ctx.args.size() < 5) {
        ctx.error("set server <b>/<s> agent-port requires a port.");
        return;
    }
    if (!has_agent(s)) {
        ctx.print("agent checks are not enabled on this server");
        return;
    }
    if (auto port = port_arg(ctx, ctx.args[4], true))
        change_checks(ctx, s, {.what = ChecksChange::What::AgentPort, .port = *port});
}

void set_agent_send(Ctx& ctx, proxy::Server& s) {
    if (!has_agent(s)) {
        ctx.error("agent checks are not enabled on this server.");
        return;
    }
    change_checks(ctx, s,
                  {.what = ChecksChange::What::AgentSend,
                   .text = ctx.args.size() > 4 ? ctx.args[4] : std::string()});
}

void set_admin(Ctx& ctx, proxy::Server& s, proxy::AdminState state) {
    if (ctx.hooks.set_admin) ctx.hooks.set_admin(s, state);
}

// The same reading as an agent's weight word, HAProxy's messages included.
void set_weight(Ctx& ctx, proxy::Server& s, std::string_view word) {
    const check::AgentChange w = check::agent_weight(word, s.options.weight);
    if (!w.value) {
        // HAProxy prints this one without its line end.
        if (w.warning == "Empty weight string empty or preceded by garbage")
            ctx.print(w.warning);
        else
            ctx.error(w.warning);
        return;
    }
    s.weight.store(*w.value, std::memory_order_relaxed);
    s.backend->server_changed(s);
}

void cmd_set_weight(Ctx& ctx) {
    proxy::Server* s = server_at(ctx, 2);
    if (!s) return;
    if (ctx.args.size() < 4) {
        ctx.error("Require <weight> or <weight%>.");
        return;
    }
    set_weight(ctx, *s, ctx.args[3]);
}

void cmd_set_server(Ctx& ctx) {
    proxy::Server* s = server_at(ctx, 2);
    if (!s) return;
    const std::string_view what = ctx.args.size() > 3 ? std::string_view(ctx.args[3]) : "";
    const std::string_view value = ctx.args.size() > 4 ? std::string_view(ctx.args[4]) : "";
    if (what == "state") {
        if (value == "ready")
            set_admin(ctx, *s, proxy::AdminState::Ready);
        else if (value == "drain")
            set_admin(ctx, *s, proxy::AdminState::Drain);
        else if (value == "maint")
            set_admin(ctx, *s, proxy::AdminState::Maint);
        else
            ctx.error("'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
        return;
    }
    if (what == "weight") {
        set_weight(ctx, *s, value);
        return;
    }
    if (what == "addr") return set_addr(ctx, *s);
    if (what == "check-port") return set_check_port(ctx, *s);
    if (what == "health") return set_health(ctx, *s, value);
    if (what == "agent") return set_agent(ctx, *s, value);
    if (what == "agent-addr") return set_check_or_agent_addr(ctx, *s, true);
    if (what == "check-addr") return set_check_or_agent_addr(ctx, *s, false);
    if (what == "agent-port") return set_agent_port(ctx, *s);
    if (what == "agent-send") return set_agent_send(ctx, *s);
    for (std::string_view later : {"fqdn", "ssl"})
        if (what == later) {
            ctx.error(fmt::format(
                "'set server <srv> {}' is not implemented yet in sluice; it comes with {}.", what,
                what == "ssl" ? "TLS" : "DNS resolvers"));
            return;
        }
    ctx.error(
        "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | "
        "agent-send | check-addr | check-port | fqdn | health | ssl | state | weight");
}

template <proxy::AdminState State>
void cmd_able_server(Ctx& ctx) {
    if (proxy::Server* s = server_at(ctx, 2)) set_admin(ctx, *s, State);
}

// `enable|disable health|agent <bk>/<srv>`.
template <bool Agent, bool On>
void cmd_able_checks(Ctx& ctx) {
    proxy::Server* s = server_at(ctx, 2);
    if (!s) return;
    if (On && !(Agent ? has_agent(*s) : has_check(*s))) {
        ctx.error(Agent ? "Agent was not configured on this server, cannot enable."
                        : "Health check was not configured on this server, cannot enable.");
        return;
    }
    change_checks(
        ctx, *s,
        {.what = Agent ? ChecksChange::What::AgentEnable : ChecksChange::What::CheckEnable,
         .enable = On});
}

void cmd_set_maxconn_server(Ctx& ctx) {
    proxy::Server* s = server_at(ctx, 3);
    if (!s) return;
    const std::string_view text = ctx.args.size() > 4 ? std::string_view(ctx.args[4]) : "";
    auto v = util::parse_uint(text, INT32_MAX);
    if (!v) {
        // As HAProxy, without its line end.
        ctx.print("maxconn string empty or preceded by garbage");
        return;
    }
    s->maxconn.store(static_cast<std::uint32_t>(*v), std::memory_order_relaxed);
    // A raised limit lets queued requests in at once.
    if (ctx.hooks.limit_raised) ctx.hooks.limit_raised(*s);
}

void cmd_shutdown_sessions(Ctx& ctx) {
    if (proxy::Server* s = server_at(ctx, 3); s && ctx.hooks.shutdown_sessions)
        ctx.hooks.shutdown_sessions(*s);
}

constexpr Command kCommands[] = {
    {.words = "set weight",
     .usage = "set weight <bk>/<srv> <weight>[%]",
     .help = "change a server's weight (deprecated: use 'set server')",
     .level = Level::Admin,
     .run = cmd_set_weight},
    {.words = "set server",
     .usage = "set server <bk>/<srv> [opts]",
     .help = "change a server's state, weight, address or ssl",
     .level = Level::Admin,
     .run = cmd_set_server},
    {.words = "disable server",
     .usage = "disable server <bk>/<srv>",
     .help = "put a server in maintenance (deprecated: use 'set server')",
     .level = Level::Admin,
     .run = cmd_able_server<proxy::AdminState::Maint>},
    {.words = "enable server",
     .usage = "enable server <bk>/<srv>",
     .help = "take a server out of maintenance (deprecated: use 'set server')",
     .level = Level::Admin,
     .run = cmd_able_server<proxy::AdminState::Ready>},
    {.words = "disable health",
     .usage = "disable health",
     .help = "disable health checks",
     .level = Level::Admin,
     .run = cmd_able_checks<false, false>},
    {.words = "enable health",
     .usage = "enable health",
     .help = "enable health checks",
     .level = Level::Admin,
     .run = cmd_able_checks<false, true>},
    {.words = "disable agent",
     .usage = "disable agent",
     .help = "disable agent checks",
     .level = Level::Admin,
     .run = cmd_able_checks<true, false>},
    {.words = "enable agent",
     .usage = "enable agent",
     .help = "enable agent checks",
     .level = Level::Admin,
     .run = cmd_able_checks<true, true>},
    {.words = "set maxconn server",
     .usage = "set maxconn server <bk>/<srv> <n>",
     .help = "change a server's maxconn setting",
     .level = Level::Admin,
     .run = cmd_set_maxconn_server},
    {.words = "shutdown sessions server",
     .usage = "shutdown sessions server <bk>/<srv>",
     .help = "kill sessions on a server",
     .level = Level::Admin,
     .run = cmd_shutdown_sessions},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
