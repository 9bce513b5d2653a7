// The running configuration: frontends, backends and servers built from the parsed Document
// after validation. The structure is immutable once threads start; what may change while
// running (connection counts, admin and operational state) is atomic and says so.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/document.hpp"
#include "sluice/http/error_capture.hpp"
#include "sluice/http/error_pages.hpp"
#include "sluice/log/logger.hpp"
#include "sluice/net/bind_options.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/proxy/conf.hpp"
#include "sluice/proxy/counters.hpp"
#include "sluice/proxy/observe.hpp"
#include "sluice/proxy/rate.hpp"
#include "sluice/proxy/server_list.hpp"

namespace sluice::proxy {

struct Backend;

// Failures counted where HAProxy's stats count them (econ, eresp, cli_abrt, srv_abrt, ereq),
// for the stats issue to show. Rare events: plain relaxed atomics.
struct ErrorCounters {
    std::atomic<std::uint64_t> failed_connects{0};   // econ
    std::atomic<std::uint64_t> failed_responses{0};  // eresp: bad, missing or cut responses
    std::atomic<std::uint64_t> client_aborts{0};     // cli_abrt
    std::atomic<std::uint64_t> server_aborts{0};     // srv_abrt
    std::atomic<std::uint64_t> failed_requests{0};   // ereq (frontends)
    std::atomic<std::uint64_t> retried_requests{0};  // wretr: attempts retried
    std::atomic<std::uint64_t> failed_rewrites{0};   // wrew
    std::atomic<std::uint64_t> internal_errors{0};   // eint
    void count(std::atomic<std::uint64_t> ErrorCounters::*which) {
        (this->*which).fetch_add(1, std::memory_order_relaxed);
    }
    void reset() {
        for (auto* c : {&failed_connects, &failed_responses, &client_aborts, &server_aborts,
                        &failed_requests, &retried_requests, &failed_rewrites, &internal_errors})
            c->store(0, std::memory_order_relaxed);
    }
};

// Ready: takes traffic; Drain: up but takes no new load-balanced traffic (what is already
// there, and use-server, stay); Maint: takes nothing. Set by `disabled`, agent checks and,
// later, the runtime API.
enum class AdminState : std::uint8_t { Ready, Maint, Drain };

// Where a server is reached now: the configured address until the runtime API (`set server
// addr`) or the server-state file changes it. The connect path of every thread reads it with
// one acquire load and no lock; a change publishes a new immutable version. Replaced versions
// stay allocated until exit: a reader may still hold one, changes are rare (an operator's
// command, a few dozen bytes each), and this spares readers any reclamation scheme.
class Destination {
  public:
    struct Version {
        net::ServerAddress addr;
        std::uint32_t generation = 0;  // 0: the configured address; +1 at each change
    };
    // `configured` must outlive this object (it is the server's own `address`).
    void init(const net::ServerAddress& configured) {
        first_.addr = configured;
        now_.store(&first_, std::memory_order_release);
    }
    const Version& now() const { return *now_.load(std::memory_order_acquire); }
    // Any thread; concurrent writers are serialized.
    void set(const net::ServerAddress& next) {
        std::lock_guard lock(mutex_);
        auto v = std::make_unique<Version>();
        v->addr = next;
        v->generation = now().generation + 1;
        now_.store(v.get(), std::memory_order_release);
        kept_.push_back(std::move(v));
    }

  private:
    Version first_;
    std::atomic<const Version*> now_{&first_};
    std::mutex mutex_;
    std::vector<std::unique_ptr<Version>> kept_;
};

struct Server {
    std::string name;
    cfg::Location where;
    net::ServerAddress address;  // as configured; see `destination` for the one in use
    Destination destination;     // initialized from `address` by build()
    ServerOptions options;
    std::uint32_t index = 0;  // in its backend
    std::uint32_t uid = 0;    // among every server of the config (per-thread tables)
    std::uint32_t puid = 0;   // its id in the backend (`id`, else the next free number)
    Backend* backend = nullptr;
    // A server the runtime API added (`add server`): its line's options, which line_parts
    // points to (a config server's are in the Document).
    std::shared_ptr<const cfg::Parts> runtime_line;

    // Written by any thread (relaxed counters, acquire/release for admin state).
    std::atomic<std::uint32_t> cur_conns{0};
    std::atomic<AdminState> admin{AdminState::Ready};
    std::atomic<bool> up{true};  // operational state, driven by health checks
    // The weight balancers use: the configured one until the runtime API or an agent check
    // changes it (0 takes no new traffic, as `drain`).
    std::atomic<std::uint32_t> weight{1};
    std::atomic<std::uint32_t> queued{0};  // requests waiting in its queue, all threads
    // Requests taken out of its queue to be served, all threads: HAProxy's queue index, by
    // which a request's log says how many were served before it (%sq).
    std::atomic<std::uint64_t> queue_served{0};
    // The connection limit: `maxconn` until an agent check (or the runtime API) changes it.
    std::atomic<std::uint32_t> maxconn{0};
    std::atomic<std::uint32_t> idle_conns{0};  // kept for reuse, all threads (pool-max-conn)
    ErrorCounters errors;
    PerThreadCounts counts;  // per thread: stats counters (counters.hpp)

    // ---- Health checks (check module) ------------------------------------------------------
    // Written by the thread that runs the server's check, read by any (stats, balancers).
    const cfg::Parts* line_parts = nullptr;  // the `server` line's options of every module
    // NOLB ("stopping"): the check passed conditionally (`http-check disable-on-404` saw a
    // 404): still up, but takes no new traffic.
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> check_failures{0};  // chkfail: failed checks
    std::atomic<std::uint64_t> check_downs{0};     // chkdown: UP to DOWN transitions
    std::atomic<std::int64_t> last_change{0};      // lastchg: unix time of the last change, s
    std::atomic<std::int64_t> down_time{0};        // downtime: seconds DOWN before the last UP
    // The last check's outcome, as stats show it: check::Status as a number ("L7STS"...), the
    // HTTP code (-1: none) and the duration in ms.
    std::atomic<std::uint8_t> check_status{0};
    std::atomic<std::int16_t> check_code{-1};
    std::atomic<std::uint32_t> check_duration_ms{0};
    // The last check's text (an HTTP reason, an error), as the stats' last_chk shows it.
    void set_check_info(std::string_view text) {
        std::lock_guard lock(check_info_mutex_);
        if (check_info_ != text) check_info_.assign(text);
    }
    std::string check_info() const {
        std::lock_guard lock(check_info_mutex_);
        return check_info_;
    }
    // What the check thread holds, mirrored for `show servers state` (runtime API): the
    // regular check's health counter, whether `disable health|agent` paused them, the check
    // and agent ports in use (0: none or the server's), and an agent address set at run time
    // (generation 0: none, the configured `agent-addr` or the server's applies).
    std::atomic<std::uint32_t> check_health{2};  // HAProxy's `rise` by default
    std::atomic<bool> check_enabled{true};
    std::atomic<bool> agent_enabled{true};
    std::atomic<std::uint16_t> check_port{0};
    std::atomic<std::uint16_t> agent_port{0};
    Destination agent_address;
    // The same for the regular check (`set server ... check-addr`): generation 0, none set.
    Destination check_address;
    // The server-state file gave its operational state (before the loops run): its checks
    // start from it instead of "going down".
    bool state_restored = false;
    // A dynamic server tracked this one: like HAProxy, the runtime API never deletes it then.
    std::atomic<bool> pinned{false};
    // `slowstart` (check module): how far, in percent, a server that came back UP is through
    // its warm-up; 100 once it runs at full speed (and always without slowstart). It scales
    // the weight of dynamic algorithms and the connection limit, as HAProxy's.
    std::atomic<std::uint8_t> warmup{100};
    // `observe` (check module, observe.hpp): set before the loops run, only for a server with
    // `check`; the streams report outcomes through observed(), which costs one test when off.
    ObserveMode observe = ObserveMode::None;
    std::uint32_t error_limit = 10;
    ObserveSink* observe_sink = nullptr;
    std::atomic<std::uint32_t> consecutive_errors{0};
    void observed(Observed what) {
        if (observe != ObserveMode::None) observe_event(*this, what);
    }
    // ----------------------------------------------------------------------------------------

  private:
    mutable std::mutex check_info_mutex_;
    std::string check_info_;

  public:
    // The weight dynamic algorithms use: `weight` on HAProxy's 1/16 scale, so that a warming
    // server weighs from 1/16 of it up to all of it even at weight 1. Algorithms compare
    // weights relatively (and divide by their gcd), so the scale costs nothing at rest.
    static constexpr std::uint32_t kWeightScale = 16;
    std::uint32_t effective_weight() const {
        const std::uint32_t w = weight.load(std::memory_order_relaxed);
        const std::uint32_t pct = warmup.load(std::memory_order_relaxed);
        if (pct >= 100) return w * kWeightScale;
        return std::max<std::uint32_t>(1, w * (1 + kWeightScale * pct / 100));
    }

    bool usable() const {
        return admin.load(std::memory_order_acquire) == AdminState::Ready &&
               up.load(std::memory_order_acquire) && !stopping.load(std::memory_order_acquire) &&
               weight.load(std::memory_order_relaxed) > 0;
    }
    // For traffic sent to this server by name (use-server): a drained server takes it.
    bool reachable() const {
        return admin.load(std::memory_order_acquire) != AdminState::Maint &&
               up.load(std::memory_order_acquire);
    }
    // Takes a connection slot if the limit allows; release() gives it back.
    bool try_reserve();
    // The connection limit now (0: none): maxconn, or between minconn and maxconn with the
    // backend's load when the backend has `fullconn`.
    std::uint32_t limit() const;
    void release();
};

// What a balance algorithm answers when asked for a server.
struct Pick {
    Server* server = nullptr;  // with a slot reserved (try_reserve succeeded)
    bool all_full = false;     // usable servers exist but every one is at its maxconn: queue
    // With all_full: the request is bound to this server (its hash key's, `use-server`'s) and
    // waits in the server's own queue rather than the backend's.
    Server* wait_for = nullptr;
};

// A request's place in the queues (`set-priority-class`, `set-priority-offset`): lower classes
// first, then earlier arrival times plus the offset, as HAProxy orders its queues.
struct QueuePriority {
    static constexpr std::int32_t kMaxClass = 2047, kMaxOffsetMs = 524287;
    std::int32_t klass = 0;
    std::int32_t offset_ms = 0;
};

// What a stream asks a balancer for.
struct PickRequest {
    const Server* avoid = nullptr;  // redispatch: another server if there is one
    bool has_hash = false;          // hashing algorithms: the request's key was found
    std::uint32_t hash = 0;
};

// Implemented by the lb module's algorithms; called on any thread.
class Balancer {
  public:
    virtual ~Balancer() = default;
    // A usable server other than `avoid` when there is one (retries with redispatch), else
    // `avoid` itself if usable; backups only when no active server is usable. Hashing
    // algorithms without a key fall back to round robin, as HAProxy does.
    virtual Pick pick(const PickRequest& request) = 0;
    Pick pick(const Server* avoid) { return pick(PickRequest{avoid}); }
    // Hashing algorithms (`balance source|uri|url_param|hdr|rdp-cookie|hash`): the request's
    // key, hashed as `hash-type` says; false when the request has none.
    virtual bool hashes() const { return false; }
    virtual bool hash_key(sample::Context& /*ctx*/, std::uint32_t& /*out*/) const { return false; }
    // A slot on `server` was taken outside pick() (use-server, a retry) or given back: for
    // algorithms that order servers by load.
    virtual void load_changed(Server& /*server*/) {}
    // A server's operational state, admin state or weight changed (health checks, agent,
    // runtime API); called on the thread that changed it, after the change: the algorithm
    // updates what it precomputed.
    virtual void server_changed(Server&) {}
};

struct Backend {
    std::string name;
    bool listen = false;  // a `listen` section: messages call it a proxy, as HAProxy's
    cfg::Location where;
    const ProxyConf* conf = nullptr;
    const cfg::Parts* parts = nullptr;  // the section's settings of other modules (rules...)
    std::uint32_t index = 0;
    std::uint32_t uid = 0;  // the proxy's id (stats' iid), shared with its frontend in a listen
    ServerList servers;

    // The balancer: set by lb::install(), replaced when the runtime API adds or removes a
    // server (lb::rebuild). A replaced one is handed back to be freed once no loop uses it.
    Balancer& balancer() const { return *balancer_.load(std::memory_order_acquire); }
    bool has_balancer() const { return balancer_.load(std::memory_order_acquire) != nullptr; }
    // Builds the next balancer with `build()` and puts it in place, both under the lock
    // server_changed() takes, so that the new one starts from every change made before.
    template <class Build>
    std::unique_ptr<Balancer> replace_balancer(Build&& build) {
        std::lock_guard lock(balancer_mutex_);
        std::unique_ptr<Balancer> next = build();
        balancer_.store(next.get(), std::memory_order_release);
        std::swap(next, balancer_owner_);
        return next;
    }
    // A server's operational state, admin state or weight changed (health checks, agent,
    // runtime API): the balancer updates what it precomputed. Serialized with replacements,
    // so that a change is never told only to a balancer being replaced.
    void server_changed(Server& s) {
        std::lock_guard lock(balancer_mutex_);
        if (balancer_owner_) balancer_owner_->server_changed(s);
    }

    // Resolved once from the config, so the data path reads no optionals.
    util::Duration timeout_connect{0}, timeout_server{0}, timeout_tunnel{0}, timeout_server_fin{0},
        timeout_queue{0};

    // `use-server` rules, resolved: the first whose condition holds names the server to use
    // when it is usable (else the balancer picks).
    struct ServerRule {
        const sample::Condition* cond = nullptr;  // null: always
        Server* server = nullptr;
    };
    std::vector<ServerRule> server_rules;

    std::atomic<std::uint32_t> queued{0};        // streams waiting for a server slot, all threads
    std::atomic<std::uint64_t> queue_served{0};  // as Server::queue_served (%bq)
    // Streams waiting in its queue and its servers' (HAProxy's `queue` fetch).
    std::int64_t waiting() const {
        std::int64_t n = queued.load(std::memory_order_relaxed);
        for (const auto& s : servers)
            n += s->queued.load(std::memory_order_relaxed);
        return n;
    }
    std::atomic<std::uint32_t> cur_conns{0};  // connections to its servers, all threads
    // Times it lost its last usable server (the stats' chkdown), when its state last changed
    // and how long it was down before (unix seconds; written under the check module's lock).
    std::atomic<bool> down{false};
    std::atomic<std::uint64_t> down_transitions{0};
    std::atomic<std::int64_t> last_change{0}, down_time{0};
    std::uint32_t fullconn = 0;  // resolved (see ProxyConf::fullconn)
    ErrorCounters errors;
    PerThreadCounts counts;  // per thread: stats counters (counters.hpp)
    // The last invalid response refused (or let through, accept-invalid): `show errors`.
    http::ErrorSlot invalid_response;

    // mode http, resolved from the config.
    HttpReuse http_reuse = HttpReuse::Safe;
    std::uint32_t retry_on = retry_on::kConnFailure;  // see proxy::retry_on
    util::Duration timeout_tarpit{0};
    bool buffer_request = false;  // option http-buffer-request
    bool accept_invalid_response = false;
    bool server_close = false;  // this backend closes server connections after a response
    bool pretend_keepalive = false;
    bool redirects = false;                     // a server has `redir`
    const AddressHeader* forwardfor = nullptr;  // when enabled here
    const AddressHeader* originalto = nullptr;
    std::shared_ptr<const http::ErrorPages> error_pages;
    std::unique_ptr<log::Logger> logger;  // its `log` targets, resolved (never null)

  private:
    std::atomic<Balancer*> balancer_{nullptr};
    std::unique_ptr<Balancer> balancer_owner_;
    std::mutex balancer_mutex_;
};

struct Listener {
    net::Endpoint endpoint;
    net::BindOptions options;
    cfg::Location where;
    int backlog = 0;
    net::ListenSocket socket;
};

// One `use_backend` rule, resolved: the first whose condition holds names the backend.
struct SwitchRule {
    const sample::Condition* cond = nullptr;  // null: always
    Backend* backend = nullptr;               // static target
    const sample::Format* dynamic = nullptr;  // or a name computed per request
};

struct Frontend {
    std::string name;
    cfg::Location where;
    const ProxyConf* conf = nullptr;
    const cfg::Parts* parts = nullptr;  // the section's settings of other modules (rules...)
    std::uint32_t index = 0;
    std::uint32_t uid = 0;  // the proxy's id (stats' iid), shared with its backend in a listen
    // Its connection limit; the runtime API's `set maxconn frontend` changes it.
    std::atomic<std::uint32_t> maxconn{0};
    // Whether its listeners accept: `disable frontend` pauses them on every thread, `enable
    // frontend` resumes them, `shutdown frontend` closes them for good.
    enum class Listening : std::uint8_t { Ready, Paused, Stopped };
    std::atomic<Listening> listening{Listening::Ready};
    Backend* backend = nullptr;         // default_backend (nullptr: closed at once)
    std::vector<SwitchRule> switching;  // use_backend rules, in order
    std::vector<Listener> listeners;
    util::Duration timeout_client{0}, timeout_client_fin{0};

    // mode http, resolved from the config.
    bool http = false;
    util::Duration timeout_http_request{0}, timeout_http_keep_alive{0}, timeout_tarpit{0};
    bool buffer_request = false;  // option http-buffer-request
    bool client_close = false;    // option httpclose on the frontend: close after each response
    bool server_close = false;    // http-server-close or httpclose here
    bool accept_invalid_request = false;
    const AddressHeader* forwardfor = nullptr;
    const AddressHeader* originalto = nullptr;
    std::shared_ptr<const http::ErrorPages> error_pages;
    std::unique_ptr<log::Logger> logger;  // its `log` targets, resolved (never null)

    std::atomic<std::uint32_t> cur_conns{0};
    // Traffic log lines sent so far (%lc): counted by whoever logs, through a const Frontend.
    mutable std::atomic<std::uint64_t> log_count{0};
    ErrorCounters errors;
    PerThreadCounts counts;  // per thread: stats counters (counters.hpp)
    // The last invalid request refused (or let through, accept-invalid): `show errors`.
    http::ErrorSlot invalid_request;
};

struct Config {
    cfg::Document doc;  // owns every ProxyConf the pointers above refer to
    GlobalConf global;
    std::unique_ptr<log::Logger> logger;  // the global section's `log` targets (never null)
    // The process's connection limit; the runtime API's `set maxconn global` changes it, up
    // to `hard_maxconn`, the one it started with.
    std::atomic<std::uint32_t> maxconn{0};
    std::uint32_t hard_maxconn = 0;
    // `maxconnrate` (accepted connections) and `maxsessrate` (sessions started, after the
    // connection rules): listeners rest while the rate is reached.
    RateLimit conn_rate, sess_rate;
    std::uint32_t nbthread = 1;
    std::vector<std::vector<int>> cpu_sets;  // per thread, from cpu-map
    bool splice_allowed = true;              // false with -dS
    std::vector<std::unique_ptr<Frontend>> frontends;
    std::vector<std::unique_ptr<Backend>> backends;
    // Server::uid: the config's servers take 0 to N-1; the runtime API's take a deleted
    // server's (once no loop holds anything of it) or the next. Per-thread tables indexed by
    // uid are sized by server_uids() and grow when they meet a larger one.
    std::uint32_t take_server_uid();
    void give_back_server_uid(std::uint32_t uid);
    std::uint32_t server_uids() const { return server_uids_.load(std::memory_order_relaxed); }

    std::atomic<std::uint32_t> cur_conns{0};  // all frontends, all threads

    Backend* find_backend(std::string_view name) const {
        for (const auto& b : backends)
            if (b->name == name) return b.get();
        return nullptr;
    }

  private:
    std::mutex uids_mutex_;
    std::atomic<std::uint32_t> server_uids_{0};
    std::vector<std::uint32_t> free_uids_;
};

// A runtime server for `be` from its line's words (the config's `server` lines, the runtime
// API's `add server`). `options` must outlive it (Server::line_parts).
std::unique_ptr<Server> make_server(Backend& be, std::string name, cfg::Location where,
                                    const net::ServerAddress& address, const cfg::Parts& options,
                                    std::uint32_t uid, std::uint32_t nbthread);

// Command-line settings that override or complete the config.
struct BuildOptions {
    std::uint32_t global_maxconn = 0;  // -n (0: from the config)
    std::uint32_t proxy_maxconn = 0;   // -N: default frontend maxconn
};

// Validates `doc` (duplicate names, missing backends, bind conflicts, missing timeouts, ...),
// reporting into `diag`, and builds the runtime objects. Returns nullptr when an alert was
// raised. Does not open sockets.
std::unique_ptr<Config> build(cfg::Document doc, cfg::Diagnostics& diag, const BuildOptions& opt);

// `clear counters [all]` on one thread: its own counter blocks of every object; thread 0 also
// the shared maxima and, with `all`, the shared counts (errors, checks).
void clear_counters(Config& config, std::uint32_t thread, bool all);

// Opens every listener's socket. Errors name the bind line; returns false on the first.
bool open_listeners(Config& config, cfg::Diagnostics& diag);

}  // namespace sluice::proxy
