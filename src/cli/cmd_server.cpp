// The runtime API's server commands: `set server <bk>/<srv> state|weight`, `enable|disable
// server`, `set maxconn server`, `shutdown sessions server`, with HAProxy 2.6's answers.
#include "session.hpp"
#include "sluice/check/agent.hpp"

namespace sluice::cli {
namespace {

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
    if (s.backend->balancer) s.backend->balancer->server_changed(s);
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
    for (std::string_view later : {"addr", "agent", "agent-addr", "agent-port", "agent-send",
                                   "check-addr", "check-port", "fqdn", "health", "ssl"})
        if (what == later) {
            ctx.error(fmt::format(
                "'set server <srv> {}' is not implemented yet in sluice; it comes with the rest "
                "of the runtime API (issue #7).",
                what));
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
     .help = "change a server's state or weight",
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
