// The runtime API's frontend and process commands: `set maxconn frontend|global`, `set
// rate-limit`, `enable|disable|shutdown frontend`, with HAProxy 2.6's answers and messages.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "session.hpp"

namespace sluice::cli {
namespace {

using Listening = proxy::Frontend::Listening;

// HAProxy's atoi(): the leading digits (with a sign), 0 when there are none.
long leading_int(std::string_view text) {
    const std::string t(text);
    return std::strtol(t.c_str(), nullptr, 10);
}

// On stderr and, as HAProxy, to the frontend's log targets.
void warning(const proxy::Frontend& fe, std::string_view text) {
    std::fprintf(stderr, "%-11s(%d) : %.*s\n", "[WARNING]", static_cast<int>(getpid()),
                 static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
    if (fe.logger) fe.logger->emit(log::Level::Warning, text);
}

// The frontend the command's word `at` names (a `listen` section is one too).
proxy::Frontend* frontend_at(Ctx& ctx, std::size_t at) {
    if (ctx.args.size() <= at || ctx.args[at].empty()) {
        ctx.error("A frontend name is expected.");
        return nullptr;
    }
    for (const auto& fe : ctx.config.frontends)
        if (fe->name == ctx.args[at]) return fe.get();
    ctx.error("No such frontend.");
    return nullptr;
}

// A `listen` section is a "proxy" in HAProxy's messages.
bool is_listen(const Ctx& ctx, const proxy::Frontend& fe) {
    for (const cfg::Section& s : ctx.config.doc.proxies)
        if (s.name == fe.name && s.kind == cfg::SectionKind::Listen) return true;
    return false;
}
std::string_view kind_of(const Ctx& ctx, const proxy::Frontend& fe) {
    return is_listen(ctx, fe) ? "proxy" : "frontend";
}

// Queued clients may fit now: every thread looks at its paused listeners again.
void limits_raised(Ctx& ctx) {
    if (ctx.hooks.frontend_listening) ctx.hooks.frontend_listening(nullptr, Listening::Ready);
}

void cmd_set_maxconn_frontend(Ctx& ctx) {
    proxy::Frontend* fe = frontend_at(ctx, 3);
    if (!fe) return;
    if (ctx.args.size() < 5 || ctx.args[4].empty()) {
        ctx.error("Integer value expected.");
        return;
    }
    const long v = leading_int(ctx.args[4]);
    if (v < 0 || v > INT32_MAX) {
        ctx.error("Value out of range.");
        return;
    }
    // 0 leaves the frontend limited by the process only, as HAProxy's listeners.
    fe->maxconn.store(v ? static_cast<std::uint32_t>(v) : UINT32_MAX, std::memory_order_relaxed);
    limits_raised(ctx);
}

void cmd_set_maxconn_global(Ctx& ctx) {
    if (ctx.args.size() < 4 || ctx.args[3].empty()) {
        ctx.error("Expects an integer value.");
        return;
    }
    const long v = leading_int(ctx.args[3]);
    if (v < 0 || v > static_cast<long>(ctx.config.hard_maxconn)) {
        ctx.error("Value out of range.");
        return;
    }
    // 0 (or no number) is the limit the process started with, as in HAProxy.
    ctx.config.maxconn.store(v ? static_cast<std::uint32_t>(v) : ctx.config.hard_maxconn,
                             std::memory_order_relaxed);
    limits_raised(ctx);
}

void cmd_set_rate_limit(Ctx& ctx) {
    const std::string_view what = ctx.args.size() > 2 ? std::string_view(ctx.args[2]) : "";
    const std::string_view scope = ctx.args.size() > 3 ? std::string_view(ctx.args[3]) : "";
    const bool known = what == "connections" || what == "sessions" || what == "ssl-sessions" ||
                       what == "http-compression";
    if (!known || scope != "global") {
        ctx.error(
            "'set rate-limit' only supports :\n"
            "   - 'connections global' to set the per-process maximum connection rate\n"
            "   - 'sessions global' to set the per-process maximum session rate\n"
            "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n"
            "   - 'http-compression global' to set the per-process maximum compression speed "
            "in kB/s");
        return;
    }
    if (ctx.args.size() < 5 || ctx.args[4].empty()) {
        ctx.error("Expects an integer value.");
        return;
    }
    if (what == "connections" || what == "sessions") {
        const long v = leading_int(ctx.args[4]);
        if (v < 0 || v > INT32_MAX) {
            ctx.error("Value out of range.");
            return;
        }
        proxy::RateLimit& rate =
            what == "connections" ? ctx.config.conn_rate : ctx.config.sess_rate;
        rate.limit.store(static_cast<std::uint32_t>(v), std::memory_order_relaxed);
        return;
    }
    // Nothing to change yet: saying so beats accepting a value that would change nothing.
    ctx.error(fmt::format(
        "'set rate-limit {} global' is not implemented yet in sluice; it comes "
        "with {}.",
        what, what == "ssl-sessions" ? "TLS (roadmap item 7)" : "compression (roadmap item 11)"));
}

void cmd_disable_frontend(Ctx& ctx) {
    proxy::Frontend* fe = frontend_at(ctx, 2);
    if (!fe) return;
    switch (fe->listening.load(std::memory_order_acquire)) {
        case Listening::Stopped:
            ctx.error("Frontend was previously shut down, cannot disable.");
            return;
        case Listening::Paused:
            ctx.error("All sockets are already disabled.");
            return;
        case Listening::Ready:
            break;
    }
    fe->listening.store(Listening::Paused, std::memory_order_release);
    if (ctx.hooks.frontend_listening) ctx.hooks.frontend_listening(fe, Listening::Paused);
    warning(*fe, fmt::format("Paused {} {}.", kind_of(ctx, *fe), fe->name));
}

void cmd_enable_frontend(Ctx& ctx) {
    proxy::Frontend* fe = frontend_at(ctx, 2);
    if (!fe) return;
    switch (fe->listening.load(std::memory_order_acquire)) {
        case Listening::Stopped:
            ctx.error("Frontend was previously shut down, cannot enable.");
            return;
        case Listening::Ready:
            ctx.error("All sockets are already enabled.");
            return;
        case Listening::Paused:
            break;
    }
    fe->listening.store(Listening::Ready, std::memory_order_release);
    if (ctx.hooks.frontend_listening) ctx.hooks.frontend_listening(fe, Listening::Ready);
    warning(*fe, fmt::format("Resumed {} {}.", kind_of(ctx, *fe), fe->name));
}

void cmd_shutdown_frontend(Ctx& ctx) {
    proxy::Frontend* fe = frontend_at(ctx, 2);
    if (!fe) return;
    if (fe->listening.load(std::memory_order_acquire) == Listening::Stopped) {
        ctx.error("Frontend was already shut down.");
        return;
    }
    // HAProxy counts the backend's sessions of a `listen` section apart; every connection of
    // one goes to its own backend here, so both counts are the frontend's.
    const std::uint64_t fe_conns = fe->counts.sum(&proxy::Counts::connections);
    const bool listen = is_listen(ctx, *fe);
    warning(*fe, fmt::format("Proxy {} stopped (cumulated conns: FE: {}, BE: {}).", fe->name,
                             fe_conns, listen ? fe_conns : 0));
    if (ctx.hooks.frontend_listening) ctx.hooks.frontend_listening(fe, Listening::Stopped);
}

constexpr Command kCommands[] = {
    {.words = "set maxconn frontend",
     .usage = "set maxconn frontend <frontend> <value>",
     .help = "change a frontend's maxconn setting",
     .level = Level::Admin,
     .run = cmd_set_maxconn_frontend},
    {.words = "set maxconn global",
     .usage = "set maxconn global <value>",
     .help = "change the per-process maxconn setting",
     .level = Level::Admin,
     .run = cmd_set_maxconn_global},
    {.words = "set rate-limit",
     .usage = "set rate-limit <setting> <value>",
     .help = "change a rate limiting value",
     .level = Level::Admin,
     .run = cmd_set_rate_limit},
    {.words = "disable frontend",
     .usage = "disable frontend <frontend>",
     .help = "temporarily disable specific frontend",
     .level = Level::Admin,
     .run = cmd_disable_frontend},
    {.words = "enable frontend",
     .usage = "enable frontend <frontend>",
     .help = "re-enable specific frontend",
     .level = Level::Admin,
     .run = cmd_enable_frontend},
    {.words = "shutdown frontend",
     .usage = "shutdown frontend <frontend>",
     .help = "stop a specific frontend",
     .level = Level::Admin,
     .run = cmd_shutdown_frontend},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
