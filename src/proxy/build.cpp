// From the parsed Document to running objects: post-parse checks in HAProxy's spirit (duplicate
// names, missing backends, missing timeouts, bind conflicts, userlists and the late checks of
// names lines refer to) and derived settings (maxconn, threads, CPU binding).
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "sluice/auth/userlist.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/log/proxy_format.hpp"
#include "sluice/proxy/runtime.hpp"

namespace sluice::proxy {
namespace {

using cfg::Diagnostics;
using cfg::Location;
using cfg::SectionKind;

std::string where_text(const Location& l) {
    return fmt::format("{}:{}", l.file, l.line);
}

std::uint32_t available_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return static_cast<std::uint32_t>(std::max(1, CPU_COUNT(&set)));
}

// HAProxy derives maxconn from the file descriptor limit when the config does not set it:
// each proxied connection needs two descriptors, plus a reserve for listeners and logs.
std::uint32_t maxconn_from_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 4096;
    const rlim_t usable = rl.rlim_cur > 200 ? rl.rlim_cur - 100 : 100;
    return static_cast<std::uint32_t>(std::max<rlim_t>(usable / 2, 1));
}

// One CPU set per thread from the cpu-map lines. With the obsolete nbproc, process N means
// thread N (each old process becomes one thread).
std::vector<std::vector<int>> resolve_cpu_map(const GlobalConf& g, std::uint32_t threads) {
    std::vector<std::vector<int>> sets(threads);
    for (const CpuMapLine& line : g.cpu_map) {
        std::vector<int> targets;  // 1-based thread numbers
        if (line.threads) {
            targets = *line.threads;
        } else if (g.nbproc > 1) {
            targets = line.first;
        } else if (std::find(line.first.begin(), line.first.end(), 1) != line.first.end()) {
            // One process: `cpu-map 1 CPUS` binds all its threads; other process numbers
            // name processes that do not exist and are ignored, as in HAProxy.
            for (std::uint32_t t = 1; t <= threads; ++t)
                targets.push_back(static_cast<int>(t));
        }
        std::vector<int> in_range;
        for (int t : targets)
            if (t >= 1 && static_cast<std::uint32_t>(t) <= threads) in_range.push_back(t);
        if (line.automatic) {
            // auto: spreads the CPUs one to one over the threads, in order.
            for (std::size_t i = 0; i < in_range.size() && i < line.cpus.size(); ++i)
                sets[in_range[i] - 1] = {line.cpus[i]};
        } else {
            for (int t : in_range)
                sets[t - 1] = line.cpus;
        }
    }
    return sets;
}

util::Duration or_zero(const std::optional<util::Duration>& d) {
    return d.value_or(util::Duration{0});
}

// Identifies what a bind listens on (a port range may give thousands: hashed, not compared
// pairwise).
std::string endpoint_key(const net::Endpoint& e) {
    if (e.inherited_fd >= 0) return fmt::format("fd@{}", e.inherited_fd);
    return std::string(reinterpret_cast<const char*>(&e.address.storage), e.address.length);
}

}  // namespace

std::uint32_t Server::limit() const {
    std::uint32_t max = maxconn.load(std::memory_order_relaxed);
    if (max != 0 && options.minconn != 0 && backend->fullconn != 0) {
        // HAProxy's dynamic limit: minconn when the backend is idle, growing linearly with its
        // load to maxconn at fullconn connections.
        const std::uint64_t load = backend->cur_conns.load(std::memory_order_relaxed);
        const std::uint64_t dynamic = load * max / backend->fullconn;
        max = static_cast<std::uint32_t>(
            std::clamp<std::uint64_t>(dynamic, std::min(options.minconn, max), max));
    }
    // slowstart: the limit grows from 1 with the warm-up, as HAProxy's.
    const std::uint32_t pct = warmup.load(std::memory_order_relaxed);
    if (max != 0 && pct < 100) max = std::max<std::uint32_t>(1, max * pct / 100);
    return max;
}

bool Server::try_reserve() {
    const std::uint32_t max = limit();
    bool taken = max == 0;
    if (taken) {
        cur_conns.fetch_add(1, std::memory_order_relaxed);
    } else {
        std::uint32_t cur = cur_conns.load(std::memory_order_relaxed);
        while (cur < max && !taken)
            taken = cur_conns.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel);
    }
    if (taken) backend->cur_conns.fetch_add(1, std::memory_order_relaxed);
    return taken;
}

void Server::release() {
    cur_conns.fetch_sub(1, std::memory_order_acq_rel);
    backend->cur_conns.fetch_sub(1, std::memory_order_relaxed);
}

std::unique_ptr<Server> make_server(Backend& be, std::string name, cfg::Location where,
                                    const net::ServerAddress& address, const cfg::Parts& options,
                                    std::uint32_t uid, std::uint32_t nbthread) {
    auto srv = std::make_unique<Server>();
    srv->name = std::move(name);
    srv->where = std::move(where);
    srv->address = address;
    srv->destination.init(srv->address);
    srv->options = options.read<ServerOptions>();
    srv->line_parts = &options;
    srv->uid = uid;
    srv->backend = &be;
    srv->counts.init(nbthread);
    if (srv->options.disabled) srv->admin.store(AdminState::Maint);
    srv->weight.store(srv->options.weight, std::memory_order_relaxed);
    srv->maxconn.store(srv->options.maxconn, std::memory_order_relaxed);
    return srv;
}

std::uint32_t Config::take_server_uid() {
    std::lock_guard lock(uids_mutex_);
    if (free_uids_.empty()) return server_uids_.fetch_add(1, std::memory_order_relaxed);
    const std::uint32_t uid = free_uids_.back();
    free_uids_.pop_back();
    return uid;
}

void Config::give_back_server_uid(std::uint32_t uid) {
    std::lock_guard lock(uids_mutex_);
    free_uids_.push_back(uid);
}

namespace {
// `id N` on server lines, then the next free numbers for the others, in declaration order.
void assign_server_ids(Backend& be, Diagnostics& diag) {
    std::map<std::uint32_t, const Server*> taken;
    for (const auto& srv : be.servers) {
        if (srv->options.id == 0) continue;
        auto [it, inserted] = taken.emplace(srv->options.id, srv);
        if (!inserted) {
            diag.alert(srv->where,
                       fmt::format("'server {}/{}' : 'id' : custom id {} already used at {}:{} "
                                   "('server {}')",
                                   be.name, srv->name, srv->options.id, it->second->where.file,
                                   it->second->where.line, it->second->name));
            continue;
        }
        srv->puid = srv->options.id;
    }
    std::uint32_t next = 1;
    for (const auto& srv : be.servers) {
        if (srv->puid != 0) continue;
        while (taken.count(next))
            ++next;
        srv->puid = next;
        taken.emplace(next, srv);
    }
}
// A backend without `fullconn`: 10% of the maxconn of the frontends that may send to it
// (default_backend and static use_backend rules), as HAProxy sets it.
void default_fullconn(Config& c) {
    std::map<const Backend*, std::uint64_t> reach;
    for (const auto& fe : c.frontends) {
        std::set<const Backend*> targets;
        if (fe->backend) targets.insert(fe->backend);
        for (const SwitchRule& r : fe->switching)
            if (r.backend) targets.insert(r.backend);
        for (const Backend* be : targets)
            reach[be] += fe->maxconn;
    }
    for (const auto& be : c.backends)
        if (be->fullconn == 0)
            be->fullconn = static_cast<std::uint32_t>(
                std::min<std::uint64_t>((reach[be.get()] + 9) / 10, UINT32_MAX));
}
}  // namespace

std::unique_ptr<Config> build(cfg::Document doc, Diagnostics& diag, const BuildOptions& opt) {
    const std::size_t alerts_before = diag.count(cfg::Level::Alert);
    auto config = std::make_unique<Config>();
    config->doc = std::move(doc);
    Config& c = *config;
    c.global = c.doc.global.read<GlobalConf>();
    c.logger = std::make_unique<log::Logger>(c.doc.global.read<log::LogConf>(),
                                             c.doc.global.read<log::LogConf>());
    const GlobalConf& g = c.global;
    // Userlists before the late checks: those bind the fetches naming a list to its Userlist.
    (void)auth::build_userlists(c.doc.global, diag);
    cfg::run_late_checks(c.doc, diag);

    if (g.nbthread)
        c.nbthread = g.nbthread;
    else if (g.nbproc)
        c.nbthread = g.nbproc;
    else
        c.nbthread = std::min<std::uint32_t>(available_cpus(), 64);
    if (g.nbthread && g.nbproc && g.nbthread != g.nbproc)
        diag.warning(g.nbthread_where, fmt::format("both 'nbproc {}' and 'nbthread {}' are set; "
                                                   "using nbthread",
                                                   g.nbproc, g.nbthread));
    c.cpu_sets = resolve_cpu_map(g, c.nbthread);
    c.maxconn = opt.global_maxconn ? opt.global_maxconn
                : g.maxconn        ? g.maxconn
                                   : maxconn_from_fd_limit();
    c.hard_maxconn = c.maxconn;
    c.conn_rate.limit = g.maxconnrate;
    c.sess_rate.limit = g.maxsessrate;
    // HAProxy keeps at least half of each buffer for data: a larger maxrewrite is clamped.
    if (c.global.maxrewrite > c.global.bufsize / 2) c.global.maxrewrite = c.global.bufsize / 2;

    std::map<std::string, const cfg::Section*> frontend_names, backend_names;
    for (const cfg::Section& s : c.doc.proxies) {
        const bool fe = s.kind == SectionKind::Frontend || s.kind == SectionKind::Listen;
        const bool be = s.kind == SectionKind::Backend || s.kind == SectionKind::Listen;
        for (auto* names : {fe ? &frontend_names : nullptr, be ? &backend_names : nullptr}) {
            if (!names) continue;
            auto [it, inserted] = names->emplace(s.name, &s);
            if (!inserted) {
                diag.alert(s.where,
                           fmt::format("{} has the same name as {} declared at {}", s.label(),
                                       it->second->label(), where_text(it->second->where)));
            }
        }
    }

    // Proxy ids (the stats' iid): in declaration order from 1, both sides of a listen sharing
    // one, as HAProxy numbers them.
    std::map<const cfg::Section*, std::uint32_t> proxy_uid;
    for (const cfg::Section& s : c.doc.proxies)
        if (s.kind == SectionKind::Frontend || s.kind == SectionKind::Backend ||
            s.kind == SectionKind::Listen)
            proxy_uid.emplace(&s, static_cast<std::uint32_t>(proxy_uid.size() + 1));

    // Backends first, so frontends can point at them.
    std::map<std::string, Backend*> backends;
    for (const cfg::Section& s : c.doc.proxies) {
        if (s.kind != SectionKind::Backend && s.kind != SectionKind::Listen) continue;
        const ProxyConf& px = s.parts.read<ProxyConf>();
        auto be = std::make_unique<Backend>();
        be->name = s.name;
        be->listen = s.kind == SectionKind::Listen;
        be->where = s.where;
        be->conf = &px;
        be->parts = &s.parts;
        be->logger = std::make_unique<log::Logger>(s.parts.read<log::LogConf>(),
                                                   c.doc.global.read<log::LogConf>());
        be->index = static_cast<std::uint32_t>(c.backends.size());
        be->uid = proxy_uid[&s];
        be->counts.init(c.nbthread);
        be->timeout_connect = or_zero(px.timeout_connect);
        be->timeout_server = or_zero(px.timeout_server);
        be->timeout_tunnel = or_zero(px.timeout_tunnel);
        be->timeout_server_fin = or_zero(px.timeout_server_fin);
        // HAProxy: without `timeout queue`, a queued connection waits as long as `timeout connect`.
        be->timeout_queue = px.timeout_queue ? *px.timeout_queue : be->timeout_connect;
        if (px.mode == Mode::Http) {
            be->http_reuse = px.http_reuse;
            be->retry_on = px.retry_on;
            // HAProxy: without `timeout tarpit`, a tarpit lasts as long as `timeout connect`.
            be->timeout_tarpit = px.timeout_tarpit ? *px.timeout_tarpit : be->timeout_connect;
            be->buffer_request = px.http_buffer_request;
            be->accept_invalid_response = px.accept_invalid_response;
            be->server_close = px.http_conn_mode == HttpConnMode::ServerClose ||
                               px.http_conn_mode == HttpConnMode::Close;
            be->pretend_keepalive = px.http_pretend_keepalive;
            if (px.forwardfor.enabled) be->forwardfor = &px.forwardfor;
            if (px.originalto.enabled) be->originalto = &px.originalto;
            be->error_pages =
                http::build_error_pages(s.parts, c.doc.global, diag, c.global.bufsize);
        }
        std::map<std::string, const ServerLine*> server_names;
        for (const ServerLine& line : px.servers) {
            auto [it, inserted] = server_names.emplace(line.name, &line);
            if (!inserted) {
                diag.alert(line.where,
                           fmt::format("another server named '{}' was already "
                                       "defined at line {}; use distinct names",
                                       line.name, it->second->where.line),
                           s.label());
                continue;
            }
            auto srv = make_server(*be, line.name, line.where, line.address, line.options,
                                   c.take_server_uid(), c.nbthread);
            if (!srv->options.redir.empty()) be->redirects = true;
            be->servers.append(srv);
        }
        assign_server_ids(*be, diag);
        be->fullconn = px.fullconn;
        for (const ProxyConf::UseServer& u : px.use_servers) {
            Server* target = nullptr;
            for (const auto& srv : be->servers)
                if (srv->name == u.name) target = srv;
            if (!target) {
                diag.alert(u.where, fmt::format("{}: 'use-server' unable to find server '{}'",
                                                s.label(), u.name));
                continue;
            }
            be->server_rules.push_back({.cond = u.cond.get(), .server = target});
        }
        if (!px.disabled) {
            if (!px.timeout_connect || !px.timeout_server)
                diag.warning(s.where, fmt::format("missing timeouts for {}: set 'timeout connect' "
                                                  "and 'timeout server' (and 'timeout client' in "
                                                  "frontends), or connections may hang for ever",
                                                  s.label()));
        }
        backends.emplace(s.name, be.get());
        c.backends.push_back(std::move(be));
    }

    std::unordered_map<std::string, Location> bound;  // endpoint_key -> first bind line
    for (const cfg::Section& s : c.doc.proxies) {
        if (s.kind != SectionKind::Frontend && s.kind != SectionKind::Listen) continue;
        const ProxyConf& px = s.parts.read<ProxyConf>();
        if (px.disabled) continue;
        auto fe = std::make_unique<Frontend>();
        fe->name = s.name;
        fe->where = s.where;
        fe->conf = &px;
        fe->parts = &s.parts;
        fe->logger = std::make_unique<log::Logger>(s.parts.read<log::LogConf>(),
                                                   c.doc.global.read<log::LogConf>());
        if (fe->logger->empty() && s.parts.read<log::ProxyLogFormat>().kind != log::LogKind::None)
            diag.warning({},
                         fmt::format("log format ignored for {} '{}' since it has no log "
                                     "address.",
                                     s.kind == SectionKind::Listen ? "proxy" : "frontend", s.name));
        fe->index = static_cast<std::uint32_t>(c.frontends.size());
        fe->uid = proxy_uid[&s];
        fe->counts.init(c.nbthread);
        fe->maxconn = px.maxconn          ? px.maxconn
                      : opt.proxy_maxconn ? opt.proxy_maxconn
                                          : c.maxconn.load();
        fe->timeout_client = or_zero(px.timeout_client);
        fe->timeout_client_fin = or_zero(px.timeout_client_fin);
        if (px.mode == Mode::Http) {
            fe->http = true;
            // HAProxy: without `timeout http-request` the client timeout bounds a request's
            // head; without `timeout http-keep-alive`, the http-request one bounds the wait for
            // the next request.
            fe->timeout_http_request =
                px.timeout_http_request ? *px.timeout_http_request : fe->timeout_client;
            fe->timeout_http_keep_alive =
                px.timeout_http_keep_alive ? *px.timeout_http_keep_alive : fe->timeout_http_request;
            // The fallback to `timeout connect` is a backend side's (HAProxy 2.6 has no connect
            // timeout on a frontend): a frontend without `timeout tarpit` answers at once.
            fe->timeout_tarpit = px.timeout_tarpit ? *px.timeout_tarpit
                                 : s.kind == SectionKind::Listen && px.timeout_connect
                                     ? *px.timeout_connect
                                     : util::Duration{0};
            fe->buffer_request = px.http_buffer_request;
            fe->client_close = px.http_conn_mode == HttpConnMode::Close;
            fe->server_close = px.http_conn_mode == HttpConnMode::ServerClose ||
                               px.http_conn_mode == HttpConnMode::Close;
            fe->accept_invalid_request = px.accept_invalid_request;
            if (px.forwardfor.enabled) fe->forwardfor = &px.forwardfor;
            if (px.originalto.enabled) fe->originalto = &px.originalto;
            // A listen section's pages were built (and checked) with its backend side.
            auto own = backends.find(s.name);
            fe->error_pages =
                s.kind == SectionKind::Listen && own != backends.end()
                    ? own->second->error_pages
                    : http::build_error_pages(s.parts, c.doc.global, diag, c.global.bufsize);
        }
        if (!px.timeout_client)
            diag.warning(s.where, fmt::format("missing timeouts for {}: set 'timeout client', or "
                                              "idle clients are kept for ever",
                                              s.label()));

        auto resolve = [&](const std::string& name, const Location& where,
                           const char* what) -> Backend* {
            auto it = backends.find(name);
            if (it == backends.end()) {
                diag.alert(where, fmt::format("{}: unable to find the {} backend '{}'", s.label(),
                                              what, name));
                return nullptr;
            }
            if (it->second->conf->mode != px.mode)
                diag.alert(where,
                           fmt::format("{} (mode {}) cannot use backend '{}' (mode {})", s.label(),
                                       px.mode == Mode::Tcp ? "tcp" : "http", name,
                                       it->second->conf->mode == Mode::Tcp ? "tcp" : "http"));
            return it->second;
        };
        // use_backend rules in order, the first that applies decides; then default_backend.
        for (const ProxyConf::UseBackend& u : px.use_backends) {
            SwitchRule rule{.cond = u.cond.get(), .backend = nullptr, .dynamic = u.dynamic.get()};
            if (!u.dynamic) {
                rule.backend = resolve(u.name, u.where, "use_backend");
                if (!rule.backend) continue;
            }
            fe->switching.push_back(rule);
        }
        if (!px.default_backend.empty())
            fe->backend = resolve(px.default_backend, px.default_backend_where, "default_backend");
        if (s.kind == SectionKind::Listen && !fe->backend) fe->backend = backends[s.name];
        if (!fe->backend && px.use_backends.empty() && px.default_backend.empty())
            diag.warning(s.where, fmt::format("{} has no backend ('default_backend' or "
                                              "'use_backend'): every connection will be closed",
                                              s.label()));

        if (px.binds.empty())
            diag.warning(s.where, fmt::format("{} has no 'bind' line; declare it as a backend if "
                                              "that was intended",
                                              s.label()));
        for (const BindLine& bind : px.binds) {
            const net::BindOptions& bo = bind.options.read<net::BindOptions>();
            for (const net::Endpoint& e : bind.endpoints) {
                auto [it, inserted] = bound.emplace(endpoint_key(e), bind.where);
                if (!inserted)
                    diag.alert(
                        bind.where,
                        fmt::format("{}: bind '{}' conflicts with the bind at "
                                    "{} (same address)",
                                    s.label(), e.inherited_fd >= 0 ? e.text : e.address.to_string(),
                                    where_text(it->second)));
                Listener l;
                l.endpoint = e;
                l.options = bo;
                l.where = bind.where;
                l.backlog =
                    static_cast<int>(bo.backlog   ? bo.backlog
                                     : px.backlog ? px.backlog
                                                  : std::min<std::uint32_t>(fe->maxconn, 65535));
                fe->listeners.push_back(std::move(l));
            }
        }
        c.frontends.push_back(std::move(fe));
    }
    default_fullconn(c);

    if (diag.count(cfg::Level::Alert) > alerts_before) return nullptr;
    return config;
}

bool open_listeners(Config& config, Diagnostics& diag) {
    for (auto& fe : config.frontends) {
        for (Listener& l : fe->listeners) {
            auto s = net::open_listener(l.endpoint, l.options, l.backlog);
            if (!s) {
                diag.alert(l.where, fmt::format("frontend '{}': {}", fe->name, s.error()));
                return false;
            }
            l.socket = std::move(*s);
        }
    }
    return true;
}

}  // namespace sluice::proxy
