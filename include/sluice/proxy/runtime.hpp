// The running configuration: frontends, backends and servers built from the parsed Document
// after validation. The structure is immutable once threads start; what may change while
// running (connection counts, admin and operational state) is atomic and says so.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/document.hpp"
#include "sluice/net/bind_options.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::proxy {

struct Backend;

enum class AdminState : std::uint8_t { Ready, Maint };

struct Server {
    std::string name;
    cfg::Location where;
    net::ServerAddress address;
    ServerOptions options;
    std::uint32_t index = 0;  // in its backend
    Backend* backend = nullptr;

    // Written by any thread (relaxed counters, acquire/release for admin state).
    std::atomic<std::uint32_t> cur_conns{0};
    std::atomic<AdminState> admin{AdminState::Ready};
    std::atomic<bool> up{true};  // operational state; health checks (issue #6) will drive it

    bool usable() const {
        return admin.load(std::memory_order_acquire) == AdminState::Ready &&
               up.load(std::memory_order_acquire) && options.weight > 0;
    }
    // Takes a connection slot if maxconn allows; release() gives it back.
    bool try_reserve();
    void release() { cur_conns.fetch_sub(1, std::memory_order_acq_rel); }
};

// What a balance algorithm answers when asked for a server.
struct Pick {
    Server* server = nullptr;  // with a slot reserved (try_reserve succeeded)
    bool all_full = false;     // usable servers exist but every one is at its maxconn: queue
};

// Implemented by the lb module's algorithms; called on any thread.
class Balancer {
  public:
    virtual ~Balancer() = default;
    // A usable server other than `avoid` when there is one (retries with redispatch), else
    // `avoid` itself if usable; backups only when no active server is usable.
    virtual Pick pick(const Server* avoid) = 0;
};

struct Backend {
    std::string name;
    cfg::Location where;
    const ProxyConf* conf = nullptr;
    std::uint32_t index = 0;
    std::vector<std::unique_ptr<Server>> servers;
    std::unique_ptr<Balancer> balancer;  // set by lb::install()

    // Resolved once from the config, so the data path reads no optionals.
    util::Duration timeout_connect{0}, timeout_server{0}, timeout_tunnel{0}, timeout_server_fin{0},
        timeout_queue{0};

    std::atomic<std::uint32_t> queued{0};  // streams waiting for a server slot, all threads
};

struct Listener {
    net::Endpoint endpoint;
    net::BindOptions options;
    cfg::Location where;
    int backlog = 0;
    net::ListenSocket socket;
};

struct Frontend {
    std::string name;
    cfg::Location where;
    const ProxyConf* conf = nullptr;
    std::uint32_t index = 0;
    std::uint32_t maxconn = 0;
    Backend* backend = nullptr;  // where every connection goes (nullptr: closed at once)
    std::vector<Listener> listeners;
    util::Duration timeout_client{0}, timeout_client_fin{0};

    std::atomic<std::uint32_t> cur_conns{0};
};

struct Config {
    cfg::Document doc;  // owns every ProxyConf the pointers above refer to
    GlobalConf global;
    std::uint32_t maxconn = 0;
    std::uint32_t nbthread = 1;
    std::vector<std::vector<int>> cpu_sets;  // per thread, from cpu-map
    bool splice_allowed = true;              // false with -dS
    std::vector<std::unique_ptr<Frontend>> frontends;
    std::vector<std::unique_ptr<Backend>> backends;

    std::atomic<std::uint32_t> cur_conns{0};  // all frontends, all threads
};

// Command-line settings that override or complete the config.
struct BuildOptions {
    std::uint32_t global_maxconn = 0;  // -n (0: from the config)
    std::uint32_t proxy_maxconn = 0;   // -N: default frontend maxconn
};

// Validates `doc` (duplicate names, missing backends, bind conflicts, missing timeouts, ...),
// reporting into `diag`, and builds the runtime objects. Returns nullptr when an alert was
// raised. Does not open sockets.
std::unique_ptr<Config> build(cfg::Document doc, cfg::Diagnostics& diag, const BuildOptions& opt);

// Opens every listener's socket. Errors name the bind line; returns false on the first.
bool open_listeners(Config& config, cfg::Diagnostics& diag);

}  // namespace sluice::proxy
