// The runtime API's dynamic servers: `add server <bk>/<srv> <addr> [options]` and `del server
// <bk>/<srv>`, with HAProxy 2.6's rules and answers. A server is added in maintenance, its
// checks disabled; it is deleted only in maintenance with nothing attached to it. The server
// lists and balancers change as proxy::ServerList and lb::rebuild allow while the loops run;
// what a deletion leaves behind is freed through Hooks::remove_server once no loop can hold it.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <map>

#include "sluice/cfg/options.hpp"
#include "sluice/check/agent.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/check/conf.hpp"
#include "sluice/check/watch.hpp"
#include "sluice/cli/command.hpp"
#include "sluice/lb/algorithm.hpp"

namespace sluice::cli {
namespace {

// HAProxy 2.6's list of what a dynamic server line may say. Those sluice does not have yet
// (TLS...) are refused by the option registry with what brings them.
constexpr std::string_view kDynamicOptions[] = {
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "allow-0rtt",
    "alpn",
    "addr",
    "backup",
    "ca-file",
    "check",
    "check-alpn",
    "check-proto",
    "check-send-proxy",
    "check-sni",
    "check-ssl",
    "check-via-socks4",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "id",
    "inter",
    "maxconn",
    "maxqueue",
    "minconn",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-tls-tickets",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "proxy-v2-options",
    "rise",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "slowstart",
    "sni",
    "source",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "tfo",
    "tls-tickets",
    "track",
    "usesrc",
    "verify",
    "verifyhost",
    "weight",
    "ws",
};

// `add server` and `del server` take `<backend>/<server>` as their third word; the backend
// must exist (a frontend is "No such backend.", as HAProxy says).
bool split_target(Ctx& ctx, proxy::Backend*& be, std::string_view& name) {
    const std::string_view arg = ctx.args.size() > 2 ? std::string_view(ctx.args[2]) : "";
    const auto slash = arg.find('/');
    if (slash == std::string_view::npos) {
        ctx.error("Require 'backend/server'.");
        return false;
    }
    be = ctx.config.find_backend(arg.substr(0, slash));
    if (!be) {
        ctx.error("No such backend.");
        return false;
    }
    name = arg.substr(slash + 1);
    return true;
}

// The first free id among the backend's servers, or the conflict with `wanted`.
bool pick_id(Ctx& ctx, const proxy::Backend& be, std::uint32_t wanted, std::uint32_t& id) {
    std::map<std::uint32_t, const proxy::Server*> taken;
    for (const proxy::Server* s : be.servers)
        taken.emplace(s->puid, s);
    if (wanted) {
        if (const auto it = taken.find(wanted); it != taken.end()) {
            const proxy::Server& other = *it->second;
            ctx.error(fmt::format("'id' : custom id {} already used at {}:{} ('server {}').",
                                  wanted, other.where.file, other.where.line, other.name));
            return false;
        }
        id = wanted;
        return true;
    }
    id = 1;
    while (taken.count(id))
        ++id;
    return true;
}

// HAProxy 2.6's checks of a dynamic server's `track`, in its words: the target must be a
// server of the configuration with a check or an agent, or one that tracks another. Returns
// the target, or nothing with `why` set.
proxy::Server* track_target(const proxy::Config& config, const proxy::Backend& be,
                            const cfg::Parts& line, std::string& why) {
    const std::string& track = line.read<check::ServerWatchConf>().track;
    if (line.read<check::ServerCheckConf>().enabled) {
        why = "unable to enable checks and tracking at the same time!";
        return nullptr;
    }
    const check::TrackTarget t = check::split_track(track, be.name);
    const proxy::Backend* other = config.find_backend(t.proxy);
    if (!other) {
        why = fmt::format("unable to find required proxy '{}' for tracking.", t.proxy);
        return nullptr;
    }
    proxy::Server* target = other->servers.find(t.server);
    if (!target) {
        why = fmt::format("unable to find required server '{}' for tracking.", t.server);
        return nullptr;
    }
    if (target->runtime_line) {
        why = fmt::format("unable to use {}/{} for tracking as it is a dynamic server.", t.proxy,
                          t.server);
        return nullptr;
    }
    if (!check::has_check(*target) && !check::has_agent(*target) &&
        target->line_parts->read<check::ServerWatchConf>().track.empty()) {
        why = fmt::format(
            "unable to use {}/{} for tracking as it does not have any check nor agent enabled.",
            t.proxy, t.server);
        return nullptr;
    }
    return target;
}

// HAProxy also prints what its server parser said to the CLI on its standard error, naming
// the command's server ("CLI : 'server be/s' : ...").
void print_cli_message(std::string_view level, const proxy::Backend& be, std::string_view name,
                       std::string_view text) {
    std::fprintf(stderr, "%-11s(%d) : CLI : 'server %s/%.*s' : %.*s\n", std::string(level).c_str(),
                 static_cast<int>(getpid()), be.name.c_str(), static_cast<int>(name.size()),
                 name.data(), static_cast<int>(text.size()), text.data());
}

void cmd_add_server(Ctx& ctx) {
    proxy::Backend* be = nullptr;
    std::string_view name;
    if (!split_target(ctx, be, name)) return;
    if (!lb::takes_dynamic_servers(*be)) {
        ctx.error("Backend must use a dynamic load balancing to support dynamic servers.");
        return;
    }
    if (const auto bad = proxy::invalid_server_name_char(name); bad != std::string_view::npos) {
        ctx.error(
            fmt::format("character '{}' is not permitted in server name '{}'.", name[bad], name));
        return;
    }
    if (ctx.args.size() < 4 || name.empty()) {
        ctx.error("'server' expects <name> and <addr>[:<port>] as arguments.");
        return;
    }
    if (be->servers.find(name)) {
        ctx.error("Already exists a server with the same name in backend.");
        return;
    }
    auto address = net::parse_server_address(ctx.args[3]);
    if (!address) {
        ctx.error(fmt::format("'server {}' : {}", name, address.error()));
        return;
    }

    // No default-server applies: the line alone says what the server is, as HAProxy's.
    auto line = std::make_shared<cfg::Parts>();
    cfg::Diagnostics diag;
    cfg::Parts global_parts;
    const cfg::Location where{"(cli)", 0};
    cfg::Ctx parse_ctx(diag, where, fmt::format("backend {}", be->name), cfg::SectionKind::Backend,
                       *line, global_parts, be->name);
    parse_ctx.begin_keyword("server", false);
    const std::vector<std::string> words(ctx.args.begin() + 4, ctx.args.end());
    (void)cfg::parse_options(cfg::OptionOf::Server, words, parse_ctx, *line, kDynamicOptions,
                             "dynamic server");
    for (const cfg::Message& m : diag.messages())
        if (m.level == cfg::Level::Alert) {
            ctx.error(m.text);
            return;
        }
    proxy::Server* tracked = nullptr;
    if (!line->read<check::ServerWatchConf>().track.empty()) {
        std::string why;
        tracked = track_target(ctx.config, *be, *line, why);
        if (!tracked) {
            print_cli_message("[ALERT]", *be, name, why);
            ctx.error(why);
            return;
        }
    }
    const auto& options = line->read<proxy::ServerOptions>();
    std::uint32_t id = 0;
    if (!pick_id(ctx, *be, options.id, id)) return;

    auto srv = proxy::make_server(*be, std::string(name), where, *address, *line,
                                  ctx.config.take_server_uid(), ctx.config.nbthread);
    srv->runtime_line = std::move(line);
    srv->puid = id;
    srv->admin.store(proxy::AdminState::Maint, std::memory_order_release);
    srv->last_change.store(std::time(nullptr), std::memory_order_relaxed);
    if (!check::has_check(*srv)) srv->check_health.store(0, std::memory_order_relaxed);
    proxy::Server& added = *srv;
    if (ctx.hooks.add_server) ctx.hooks.add_server(added);
    // As HAProxy's: once tracked, a server can never be deleted.
    if (tracked) tracked->pinned.store(true, std::memory_order_relaxed);
    if (be->servers.append(srv) == proxy::ServerList::kFull) {
        ctx.config.give_back_server_uid(srv->uid);
        ctx.error("Too many servers were added to this backend.");
        return;
    }
    if (ctx.hooks.retire) ctx.hooks.retire({}, lb::rebuild(*be));
    print_cli_message("[NOTICE]", *be, name, "New server registered.");
    ctx.message(Severity::Notice, "New server registered.");
}

// Whether another part of the config points to `s`, or a dynamic server tracked it: HAProxy
// refuses to delete it then.
bool referenced(const proxy::Config& config, const proxy::Server& s) {
    if (s.pinned.load(std::memory_order_relaxed)) return true;
    for (const auto& rule : s.backend->server_rules)
        if (rule.server == &s) return true;
    for (const auto& be : config.backends)
        for (const proxy::Server* o : be->servers) {
            if (!o->line_parts) continue;
            const std::string& track = o->line_parts->read<check::ServerWatchConf>().track;
            if (track.empty()) continue;
            const check::TrackTarget t = check::split_track(track, be->name);
            if (t.proxy == s.backend->name && t.server == s.name) return true;
        }
    return false;
}

void cmd_del_server(Ctx& ctx) {
    proxy::Backend* be = nullptr;
    std::string_view name;
    if (!split_target(ctx, be, name)) return;
    proxy::Server* s = be->servers.find(name);
    if (!s) {
        ctx.error("No such server.");
        return;
    }
    if (referenced(ctx.config, *s)) {
        ctx.error(
            "This server cannot be removed at runtime due to other configuration elements "
            "pointing to it.");
        return;
    }
    if (s->admin.load(std::memory_order_acquire) != proxy::AdminState::Maint) {
        ctx.error("Only servers in maintenance mode can be deleted.");
        return;
    }
    if (s->cur_conns.load(std::memory_order_acquire) > 0 ||
        s->idle_conns.load(std::memory_order_acquire) > 0 ||
        s->queued.load(std::memory_order_acquire) > 0) {
        ctx.error("Server still has connections attached to it, cannot remove it.");
        return;
    }
    std::unique_ptr<proxy::Server> gone = be->servers.remove(*s);
    std::unique_ptr<proxy::Balancer> old = lb::rebuild(*be);
    if (ctx.hooks.retire)
        ctx.hooks.retire(std::move(gone), std::move(old));
    else
        ctx.config.give_back_server_uid(gone->uid);  // no loop runs: nothing holds it
    ctx.message(Severity::Notice, "Server deleted.");
}

constexpr Command kCommands[] = {
    {.words = "add server",
     .usage = "add server <bk>/<srv> <addr> [<options>...]",
     .help = "create a new server",
     .level = Level::Admin,
     .run = cmd_add_server},
    {.words = "del server",
     .usage = "del server <bk>/<srv>",
     .help = "remove a server (in maintenance, with no connection)",
     .level = Level::Admin,
     .run = cmd_del_server},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
