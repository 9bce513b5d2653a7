// Server state across restarts: `show servers state|conn`, the state file's reader, its
// application at start-up, and the keywords that ask for it (`server-state-file`,
// `server-state-base`, `load-server-state-from-file`, `server-state-file-name`).
#include "sluice/cli/server_state.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "session.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/check/agent.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/check/conf.hpp"

namespace sluice::cli {
namespace {

// HAProxy's check status numbers (HCHK_STATUS_*), indexed by check::Status.
constexpr std::uint32_t kStatusNumber[] = {
    1,   // Unknown: no check has ended yet (HAProxy's INI)
    4,   // Hana
    5,   // SocketError
    6,   // L4Ok
    7,   // L4Timeout
    8,   // L4Conn
    9,   // L6Ok
    10,  // L6Timeout
    11,  // L6Response
    12,  // L7Timeout
    13,  // L7Response
    1,   // Layer7Data, never a result
    14,  // L7Ok
    15,  // L7OkConditional
    16,  // L7Status
    17,  // ProcErr
    18,  // ProcTimeout
    19,  // ProcOk
};
constexpr std::size_t kStatuses = std::size(kStatusNumber);

// HAProxy's check result (CHK_RES_*): unknown, neutral, failed, passed, conditionally passed.
std::uint32_t check_result(check::Status st) {
    if (st == check::Status::Unknown || st == check::Status::Layer7Data) return 0;
    if (st == check::Status::L7OkConditional) return 4;
    return check::passed(st) ? 3 : 2;
}

using check::has_agent;
using check::has_check;

std::string ip_of(const net::Address& a) {
    char buf[64];
    const std::string_view ip = a.ip_text(buf, sizeof buf);
    return ip.empty() ? std::string("-") : std::string(ip);
}

std::uint32_t op_state(const proxy::Server& s) {
    if (s.admin.load(std::memory_order_acquire) == proxy::AdminState::Maint ||
        !s.up.load(std::memory_order_acquire))
        return 0;
    if (s.stopping.load(std::memory_order_acquire)) return 3;
    return s.warmup.load(std::memory_order_relaxed) < 100 ? 1 : 2;
}

std::uint32_t admin_bits(const proxy::Server& s) {
    std::uint32_t bits = s.options.disabled ? kAdminConfigMaint : 0;
    switch (s.admin.load(std::memory_order_acquire)) {
        case proxy::AdminState::Maint:
            bits |= kAdminForcedMaint;
            break;
        case proxy::AdminState::Drain:
            bits |= kAdminForcedDrain;
            break;
        case proxy::AdminState::Ready:
            break;
    }
    return bits;
}

std::uint32_t server_port(const net::ServerAddress& a) {
    if (a.has_port) return a.address.port();
    return static_cast<std::uint32_t>(a.port_offset < 0 ? -a.port_offset : a.port_offset);
}

void dump_server(std::string& out, std::uint32_t be_id, const proxy::Server& s, std::time_t now) {
    const auto& dest = s.destination.now().addr;
    const auto status =
        std::min<std::size_t>(s.check_status.load(std::memory_order_relaxed), kStatuses - 1);
    const bool maint = s.admin.load(std::memory_order_acquire) == proxy::AdminState::Maint;
    std::uint32_t check_state = 0, agent_state = 0;
    std::string check_addr = "-", agent_addr = "-";
    if (has_check(s)) {
        check_state = kCheckConfigured |
                      (s.check_enabled.load(std::memory_order_relaxed) ? kCheckEnabled : 0) |
                      // HAProxy pauses the checks of a server put in maintenance; a server
                      // the runtime API added starts there with its checks never started.
                      (maint && !s.runtime_line ? kCheckPaused : 0);
        if (const auto& runtime = s.check_address.now(); runtime.generation)
            check_addr = ip_of(runtime.addr.address);
        else if (const auto& a = s.line_parts->read<check::ServerCheckConf>().addr)
            check_addr = ip_of(*a);
    } else if (s.options.disabled) {
        check_state = kCheckPaused;  // HAProxy marks a server disabled in the config so
    }
    if (has_agent(s)) {
        agent_state = kCheckAgent | kCheckConfigured |
                      (s.agent_enabled.load(std::memory_order_relaxed) ? kCheckEnabled : 0);
        const auto& runtime = s.agent_address.now();
        if (runtime.generation)
            agent_addr = ip_of(runtime.addr.address);
        else if (const auto& a = s.line_parts->read<check::ServerAgentConf>().addr)
            agent_addr = ip_of(*a);
    }
    const std::int64_t changed = s.last_change.load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(out),
                   "{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} 0 {} - {} - 0 {} {} {} {}\n",
                   be_id, s.backend->name, s.puid, s.name, ip_of(dest.address), op_state(s),
                   admin_bits(s), s.weight.load(std::memory_order_relaxed), s.options.weight,
                   std::max<std::int64_t>(0, now - changed), kStatusNumber[status],
                   check_result(static_cast<check::Status>(status)),
                   s.check_health.load(std::memory_order_relaxed), check_state, agent_state,
                   s.options.id ? 1 : 0, server_port(dest),
                   s.check_port.load(std::memory_order_relaxed), check_addr, agent_addr,
                   s.agent_port.load(std::memory_order_relaxed));
}

constexpr std::string_view kStateHeader =
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health "
    "srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord "
    "srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

// The backend the command's word `at` names, all when absent; false with HAProxy's error.
bool backend_arg(Ctx& ctx, std::size_t at, const proxy::Backend*& only) {
    only = nullptr;
    if (ctx.args.size() <= at) return true;
    only = ctx.config.find_backend(ctx.args[at]);
    if (!only) ctx.error("Can't find backend.");
    return only != nullptr;
}

void cmd_show_servers_state(Ctx& ctx) {
    const proxy::Backend* only = nullptr;
    if (!backend_arg(ctx, 3, only)) return;
    dump_servers_state(ctx.out, ctx.config, only, std::time(nullptr));
}

void cmd_show_servers_conn(Ctx& ctx) {
    const proxy::Backend* only = nullptr;
    if (!backend_arg(ctx, 3, only)) return;
    const std::uint32_t threads = ctx.config.nbthread;
    ctx.printf(
        "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb "
        "safe_nb idle_lim idle_cur idle_per_thr[{}]\n",
        threads);
    for (const auto& be : ctx.config.backends) {
        if (only && be.get() != only) continue;
        const std::uint32_t be_id = proxy_id(ctx.config, be->name);
        for (const auto& s : be->servers) {
            const auto& dest = s->destination.now().addr;
            const std::uint32_t idle = s->idle_conns.load(std::memory_order_relaxed);
            const std::uint32_t used = s->cur_conns.load(std::memory_order_relaxed);
            ctx.printf(
                "{}/{} {}/{} {} {} - {} {} {} {} 0 {} {} {}", be->name, s->name, be_id, s->puid,
                ip_of(dest.address), server_port(dest),
                std::chrono::duration_cast<std::chrono::milliseconds>(s->options.pool_purge_delay)
                    .count(),
                used, used, used, idle, s->options.pool_max_conn, idle);
            // Idle connections are not counted per thread: the columns stay 0.
            for (std::uint32_t t = 0; t < threads; ++t)
                ctx.print(" 0");
            ctx.print("\n");
        }
    }
}

// ---- The state file's reader ------------------------------------------------------------

bool to_u32(std::string_view w, std::uint32_t& out) {
    const auto r = std::from_chars(w.data(), w.data() + w.size(), out);
    return r.ec == std::errc() && r.ptr == w.data() + w.size();
}
bool to_i64(std::string_view w, std::int64_t& out) {
    const auto r = std::from_chars(w.data(), w.data() + w.size(), out);
    return r.ec == std::errc() && r.ptr == w.data() + w.size();
}

std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> f;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start) f.push_back(line.substr(start, i - start));
    }
    return f;
}

}  // namespace

ServerStateFile parse_server_state(std::string_view text) {
    ServerStateFile file;
    std::size_t number = 0;
    bool first = true;
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (first) {
            // The format's version, alone on the first line: only 1 exists.
            first = false;
            const auto f = fields_of(line);
            std::uint32_t v = 0;
            file.versioned = f.size() == 1 && to_u32(f[0], v) && v == 1;
            if (!file.versioned) return file;
            continue;
        }
        const auto f = fields_of(line);
        if (f.empty() || f[0].front() == '#') continue;
        auto bad = [&](std::string_view why) {
            file.errors.push_back(fmt::format("line {}: {}", number, why));
        };
        if (f.size() < 20 || f.size() > 25) {
            bad(fmt::format("{} fields where 20 to 25 are expected", f.size()));
            continue;
        }
        ServerStateLine s;
        s.line = number;
        s.be_name = f[1];
        s.srv_name = f[3];
        s.addr = f[4];
        std::uint32_t forced = 0;
        struct Num {
            std::size_t at;
            std::uint32_t* to;
            const char* name;
        };
        const Num nums[] = {{0, &s.be_id, "be_id"},
                            {2, &s.srv_id, "srv_id"},
                            {5, &s.op_state, "srv_op_state"},
                            {6, &s.admin_state, "srv_admin_state"},
                            {7, &s.uweight, "srv_uweight"},
                            {8, &s.iweight, "srv_iweight"},
                            {10, &s.check_status, "srv_check_status"},
                            {11, &s.check_result, "srv_check_result"},
                            {12, &s.check_health, "srv_check_health"},
                            {13, &s.check_state, "srv_check_state"},
                            {14, &s.agent_state, "srv_agent_state"},
                            {15, &forced, "bk_f_forced_id"},
                            {16, &forced, "srv_f_forced_id"},
                            {18, &s.port, "srv_port"}};
        bool ok = true;
        for (const Num& n : nums)
            if (!to_u32(f[n.at], *n.to)) {
                bad(fmt::format("invalid {} '{}'", n.name, f[n.at]));
                ok = false;
                break;
            }
        if (ok && !to_i64(f[9], s.since_change)) {
            bad(fmt::format("invalid srv_time_since_last_change '{}'", f[9]));
            ok = false;
        }
        if (ok && (s.op_state > 3 || s.port > 65535)) {
            bad(s.op_state > 3 ? "invalid srv_op_state" : "invalid srv_port");
            ok = false;
        }
        std::uint32_t port = 0;
        if (ok && f.size() > 21) {
            if (!to_u32(f[21], port) || port > 65535) {
                bad(fmt::format("invalid srv_check_port '{}'", f[21]));
                ok = false;
            }
            s.check_port = port;
        }
        if (ok && f.size() > 24) {
            if (!to_u32(f[24], port) || port > 65535) {
                bad(fmt::format("invalid srv_agent_port '{}'", f[24]));
                ok = false;
            }
            s.agent_port = port;
        }
        if (!ok) continue;
        if (f.size() > 22) s.check_addr = f[22];
        if (f.size() > 23) s.agent_addr = f[23];
        file.servers.push_back(std::move(s));
    }
    return file;
}

std::uint32_t proxy_id(const proxy::Config& config, std::string_view name) {
    const proxy::Backend* be = config.find_backend(name);
    if (!be) return 0;
    // HAProxy numbers its CLI's own proxy first when a stats socket is configured.
    return be->uid + (config.doc.global.read<CliConf>().sockets.empty() ? 0 : 1);
}

void dump_servers_state(std::string& out, const proxy::Config& config, const proxy::Backend* only,
                        std::time_t now) {
    out += kStateHeader;
    for (const auto& be : config.backends) {
        if (only && be.get() != only) continue;
        const std::uint32_t id = proxy_id(config, be->name);
        for (const auto& s : be->servers)
            dump_server(out, id, *s, now);
    }
}

// ---- Loading at start-up ----------------------------------------------------------------

namespace {

void config_warning(std::string_view text) {
    std::fprintf(stderr, "%-11s(%d) : config : %.*s\n", "[WARNING]", static_cast<int>(getpid()),
                 static_cast<int>(text.size()), text.data());
}

std::string path_in(const std::string& base, const std::string& file) {
    if (file.starts_with('/') || base.empty()) return file;
    return base.ends_with('/') ? base + file : base + "/" + file;
}

// Reads and parses one file (the global one, or the local one of backend `local`); false
// (with HAProxy's warning) when it cannot be used.
bool read_state(const std::string& path, std::string_view local, ServerStateFile& out) {
    const bool global = local.empty();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (global)
            config_warning(fmt::format("config: Can't open global server state file '{}': {}", path,
                                       std::strerror(errno)));
        else
            config_warning(fmt::format("Proxy '{}': Can't open server state file '{}': {}.", local,
                                       path, std::strerror(errno)));
        return false;
    }
    std::stringstream text;
    text << in.rdbuf();
    out = parse_server_state(text.str());
    if (!out.versioned) {
        config_warning(fmt::format("Can't get version of the {}server state file '{}'.",
                                   global ? "global " : "", path));
        return false;
    }
    for (const std::string& e : out.errors)
        config_warning(fmt::format("server state file '{}': {}: line ignored.", path, e));
    return true;
}

void print_state(const proxy::Server& s, check::StateMessage m) {
    const proxy::Backend& be = *s.backend;
    for (const auto& x : be.servers)
        if (x->usable()) ++(x->options.backup ? m.backup : m.active);
    m.backup_server = s.options.backup;
    config_warning(check::format_state_message(m));
    if (m.what == check::StateMessage::What::Down && m.counts && m.active == 0 && m.backup == 0)
        std::fprintf(stderr, "%-11s(%d) : config : %s '%s' has no server available!\n", "[ALERT]",
                     static_cast<int>(getpid()), be.listen ? "proxy" : "backend", be.name.c_str());
    if (s.admin.load(std::memory_order_relaxed) == proxy::AdminState::Drain)
        config_warning(fmt::format("{} {}/{} remains in forced drain mode.",
                                   s.options.backup ? "Backup Server" : "Server", be.name, s.name));
}

// The file's check (or agent) address and port, "-" and 0 meaning none. Returns why they
// were refused, in HAProxy's words, or nothing.
std::string restore_check_target(proxy::Server& s, bool agent, std::string_view addr,
                                 std::uint32_t port) {
    const bool has_addr = !addr.empty() && addr != "-";
    if (!has_addr && port == 0) return {};
    const bool enabled = agent ? has_agent(s) && s.agent_enabled.load(std::memory_order_relaxed)
                               : has_check(s) && s.check_enabled.load(std::memory_order_relaxed);
    if (!enabled)
        return agent ? "agent checks are not enabled on this server"
                     : "health checks are not enabled on this server";
    net::ServerAddress target;
    if (has_addr && !net::parse_numeric_ip(addr, 0, target.address))
        return fmt::format("invalid addr '{}'", addr);
    if (has_addr) (agent ? s.agent_address : s.check_address).set(target);
    if (port) (agent ? s.agent_port : s.check_port).store(port, std::memory_order_relaxed);
    return {};
}

// One server's line, as HAProxy applies it after a reload: the configuration wins where it
// changed (admin state set there, a new weight), the file's runtime state stays otherwise.
void apply(proxy::Server& s, const ServerStateLine& l, std::time_t now) {
    using proxy::AdminState;
    using W = check::StateMessage::What;
    const auto& sc =
        s.line_parts ? s.line_parts->read<check::ServerCheckConf>() : check::ServerCheckConf{};
    const std::uint32_t full = sc.rise + sc.fall - 1;
    if (l.iweight == s.options.weight) s.weight.store(l.uweight, std::memory_order_relaxed);
    // The port is kept; the address only for names resolved at run time, which sluice
    // resolves at start-up (HAProxy does the same for numeric addresses).
    net::ServerAddress dest = s.destination.now().addr;
    if (dest.has_port && l.port != dest.address.port()) {
        dest.address.set_port(static_cast<std::uint16_t>(l.port));
        s.destination.set(dest);
    }
    const bool config_maint = s.options.disabled;
    const bool file_config_maint = l.admin_state & kAdminConfigMaint;
    const bool file_maint = l.admin_state & kAdminForcedMaint;
    bool leaving_maint = false;
    if (file_config_maint == config_maint) {
        if (file_maint && !config_maint)
            s.admin.store(AdminState::Maint, std::memory_order_relaxed);
        else if (!file_maint && config_maint) {
            s.admin.store(AdminState::Ready, std::memory_order_relaxed);
            leaving_maint = true;
        }
    }
    if (s.admin.load(std::memory_order_relaxed) != AdminState::Maint &&
        (l.admin_state & kAdminForcedDrain) && (l.iweight > 0 || s.options.weight == 0))
        s.admin.store(AdminState::Drain, std::memory_order_relaxed);

    const bool up = l.op_state != 0;
    const bool stopping = l.op_state == 3;
    const bool was_up = s.up.load(std::memory_order_relaxed);
    const bool was_stopping = s.stopping.load(std::memory_order_relaxed);
    s.up.store(up, std::memory_order_relaxed);
    s.stopping.store(stopping, std::memory_order_relaxed);
    s.check_health.store(up ? full : 0, std::memory_order_relaxed);
    s.state_restored = true;
    if (was_up != up || was_stopping != stopping)
        print_state(s, {.backend = s.backend->name,
                        .server = s.name,
                        .what = !up        ? W::Down
                                : stopping ? W::Stopping
                                           : W::Up,
                        .sessions = 0,
                        .cause = "changed from server-state after a reload"});
    if (leaving_maint)
        config_warning(fmt::format("{} {}/{} is {}/READY (leaving forced maintenance).",
                                   s.options.backup ? "Backup Server" : "Server", s.backend->name,
                                   s.name, up ? "UP" : "DOWN"));
    s.last_change.store(now - l.since_change, std::memory_order_relaxed);
    if (l.check_status >= 1) {
        for (std::size_t i = 0; i < kStatuses; ++i)
            if (kStatusNumber[i] == l.check_status && i != 11) {
                s.check_status.store(static_cast<std::uint8_t>(i), std::memory_order_relaxed);
                break;
            }
    }
    // `disable health|agent` survive; enabling is the configuration's business.
    if (has_check(s) && (l.check_state & kCheckConfigured) && !(l.check_state & kCheckEnabled))
        s.check_enabled.store(false, std::memory_order_relaxed);
    if (has_agent(s) && (l.agent_state & kCheckConfigured) && !(l.agent_state & kCheckEnabled))
        s.agent_enabled.store(false, std::memory_order_relaxed);
    s.backend->server_changed(s);
    // Last, as HAProxy does: a check or agent address or port set at run time. The checks,
    // built after this, keep them.
    std::string refused = restore_check_target(s, false, l.check_addr, l.check_port);
    if (refused.empty()) refused = restore_check_target(s, true, l.agent_addr, l.agent_port);
    if (!refused.empty())
        config_warning(fmt::format("server-state partially applied for server '{}/{}', {}",
                                   s.backend->name, s.name, refused));
}

void apply_file(proxy::Config& config, const ServerStateFile& file, const proxy::Backend* only,
                ServerStateProxyConf::Load mode, std::time_t now) {
    for (const ServerStateLine& l : file.servers) {
        proxy::Backend* be = config.find_backend(l.be_name);
        if (!be || (only && be != only)) continue;
        if (be->parts->read<ServerStateProxyConf>().load != mode) continue;
        for (const auto& s : be->servers)
            if (s->name == l.srv_name) {
                apply(*s, l, now);
                break;
            }
    }
}

}  // namespace

void load_server_state(proxy::Config& config) {
    const auto& g = config.doc.global.read<ServerStateGlobalConf>();
    const std::time_t now = std::time(nullptr);
    bool global_read = false;
    for (const auto& be : config.backends) {
        const auto& pc = be->parts->read<ServerStateProxyConf>();
        if (pc.load == ServerStateProxyConf::Load::Global && !global_read && !g.file.empty()) {
            // One file for every backend that asks for it: read and applied once.
            global_read = true;
            ServerStateFile file;
            if (read_state(path_in(g.base, g.file), {}, file))
                apply_file(config, file, nullptr, pc.load, now);
        } else if (pc.load == ServerStateProxyConf::Load::Local) {
            ServerStateFile file;
            const std::string name = pc.file_name.empty() ? be->name : pc.file_name;
            if (read_state(path_in(g.base, name), be->name, file))
                apply_file(config, file, be.get(), pc.load, now);
        }
    }
    std::fflush(stderr);
}

namespace {

using cfg::Args;
using CfgCtx = cfg::Ctx;
using cfg::Status;

Status parse_state_file(Args args, CfgCtx&, ServerStateGlobalConf& conf) {
    conf.file = args[0];
    return Status::Ok;
}
Status parse_state_base(Args args, CfgCtx&, ServerStateGlobalConf& conf) {
    conf.base = args[0];
    return Status::Ok;
}
Status parse_load(Args args, CfgCtx& ctx, ServerStateProxyConf& conf) {
    using L = ServerStateProxyConf::Load;
    if (args[0] == "global")
        conf.load = L::Global;
    else if (args[0] == "local")
        conf.load = L::Local;
    else if (args[0] == "none")
        conf.load = L::None;
    else
        return ctx.alert("expects 'global', 'local' or 'none'. Got '{}'", args[0]);
    return Status::Ok;
}
Status parse_file_name(Args args, CfgCtx&, ServerStateProxyConf& conf) {
    conf.file_name = args.empty() || args[0] == "use-backend-name" ? std::string() : args[0];
    return Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "server-state-file",
     .in = cfg::In::Global,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<ServerStateGlobalConf, parse_state_file>},
    {.name = "server-state-base",
     .in = cfg::In::Global,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<ServerStateGlobalConf, parse_state_base>},
    {.name = "load-server-state-from-file",
     .in = cfg::kBackendSide,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<ServerStateProxyConf, parse_load>},
    {.name = "server-state-file-name",
     .in = cfg::In::Backend,
     .arity = cfg::between(0, 1),
     .parse = cfg::on_part<ServerStateProxyConf, parse_file_name>},
};
const cfg::Registrar kRegisteredKeywords{kKeywords};

constexpr Command kCommands[] = {
    {.words = "show servers state",
     .usage = "show servers state [<backend>]",
     .help = "dump volatile server information (all or for a single backend)",
     .run = cmd_show_servers_state},
    {.words = "show servers conn",
     .usage = "show servers conn [<backend>]",
     .help = "dump server connections status (all or for a single backend)",
     .run = cmd_show_servers_conn},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
