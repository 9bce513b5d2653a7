// What the config says about the process (global) and each proxy, as the keyword tables of the
// proxy module fill it in. Plain data: built by the reader, read by proxy::build.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/parts.hpp"
#include "sluice/net/address.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/util/units.hpp"

namespace sluice::proxy {

// One `cpu-map` line, kept as written and resolved once nbthread/nbproc are known.
struct CpuMapLine {
    cfg::Location where;
    bool automatic = false;                   // "auto:" prefix
    std::vector<int> first;                   // process (or thread group) numbers, 1-based
    std::optional<std::vector<int>> threads;  // after '/', 1-based
    std::vector<int> cpus;
};

struct GlobalConf {
    bool daemon = false;
    std::uint32_t maxconn = 0;  // 0: derived from the file descriptor limit, as HAProxy
    std::uint32_t maxconnrate = 0, maxsessrate = 0;  // per second, process-wide; 0: none
    std::uint32_t nbthread = 0;                      // 0: as many as CPUs this process may run on
    cfg::Location nbthread_where;
    std::uint32_t nbproc = 0;  // obsolete; accepted and mapped to threads
    std::vector<CpuMapLine> cpu_map;
    std::string pidfile;
    std::string user, group, chroot;
    std::optional<std::uint32_t> uid, gid;
    std::uint32_t bufsize = 16384;
    std::uint32_t maxrewrite = 1024;
    std::uint32_t ulimit_n = 0;
    util::Duration hard_stop_after{0};
    std::string node, description;
    // Lets experimental keywords and actions (normalize-uri) be used in the lines after it.
    bool expose_experimental = false;
};

enum class Mode { Tcp, Http };

// Socket options of one `bind` line, stored in the line's Parts by the net module's options.
struct BindLine {
    cfg::Location where;
    std::string address_text;
    std::vector<net::Endpoint> endpoints;
    cfg::Parts options;
};

// `option httpclose` / `http-server-close` / `http-keep-alive`: the last one in a section wins;
// across a frontend and its backend the stronger closing wins (see http_conn_mode()).
enum class HttpConnMode : std::uint8_t { Unset, KeepAlive, ServerClose, Close };
enum class HttpReuse : std::uint8_t { Never, Safe, Aggressive, Always };

// `retry-on`: the failures after which a request is sent again (bits).
namespace retry_on {
constexpr std::uint32_t kConnFailure = 1u << 0;
constexpr std::uint32_t kEmptyResponse = 1u << 1;
constexpr std::uint32_t kJunkResponse = 1u << 2;
constexpr std::uint32_t kResponseTimeout = 1u << 3;
constexpr std::uint32_t k0rttRejected = 1u << 4;
// One bit per status among 401 403 404 408 425 500 501 502 503 504, from bit 8.
constexpr std::uint16_t kStatuses[] = {401, 403, 404, 408, 425, 500, 501, 502, 503, 504};
constexpr std::uint32_t status_bit(std::uint16_t status) {
    for (std::size_t i = 0; i < std::size(kStatuses); ++i)
        if (kStatuses[i] == status) return 1u << (8 + i);
    return 0;
}
// What needs a copy of the request (anything after the request went out).
constexpr std::uint32_t kAfterSending = ~kConnFailure;
}  // namespace retry_on

// `option forwardfor` / `option originalto`: a header carrying an address, unless the client
// is in `except`.
struct AddressHeader {
    bool enabled = false;
    std::string header;  // the default name when `header` is not given
    std::optional<net::Network> except;
    bool if_none = false;  // forwardfor only: keep the client's header when it sent one
};

// The options of a `server` line this module owns (others keep theirs in ServerLine::options).
struct ServerOptions {
    std::uint32_t weight = 1;
    std::uint32_t maxconn = 0;  // 0: no limit
    // With `fullconn` on the backend, the limit grows from minconn to maxconn with the
    // backend's load (HAProxy's dynamic maxconn); 0: maxconn alone.
    std::uint32_t minconn = 0;
    // Requests bound to this server (hashing, `use-server`) that may wait in its queue when
    // it is full; the next one is refused (503), or redispatched if `use-server` sent it and
    // the backend has `option redispatch`. 0: no limit.
    std::uint32_t maxqueue = 0;
    std::uint32_t id = 0;  // 0: the next free number, in declaration order
    // `redir PREFIX`: GET and HEAD requests picked for this server are answered with a 302 to
    // PREFIX followed by the request's path instead of being forwarded.
    std::string redir;
    bool disabled = false;
    bool backup = false;
    // `send-proxy` (1) / `send-proxy-v2` (2): a PROXY protocol header of that version opens each
    // connection to the server. Such a connection speaks for one client: it is never pooled.
    std::uint8_t send_proxy = 0;
    // Idle connections kept for reuse (HAProxy: -1 unlimited, 0 none), and how long one may
    // stay idle before it is closed.
    std::int32_t pool_max_conn = -1;
    util::Duration pool_purge_delay = std::chrono::seconds(5);
};

// Where a server name has a character HAProxy refuses in it (letters, digits, '-', '_', '.',
// ':' are allowed), or npos.
std::size_t invalid_server_name_char(std::string_view name);

struct ServerLine {
    cfg::Location where;
    std::string name;
    std::string address_text;
    net::ServerAddress address;
    cfg::Parts options;  // ServerOptions and other modules' parts
};

struct ProxyConf {
    Mode mode = Mode::Tcp;
    cfg::Location mode_where;
    std::optional<util::Duration> timeout_connect, timeout_client, timeout_server, timeout_tunnel,
        timeout_client_fin, timeout_server_fin, timeout_queue;
    std::uint32_t maxconn = 0;  // frontend; 0: the default (global maxconn or -N)
    std::uint32_t backlog = 0;  // frontend listen backlog; 0: maxconn
    std::uint32_t retries = 3;
    // The backend's load at which servers reach their maxconn (minconn/maxconn); 0: unset.
    std::uint32_t fullconn = 0;
    // `option redispatch [interval]`: 0 off; P > 0 every Pth retry; N < 0 the Nth retry before
    // the last (HAProxy's default when enabled is -1: redispatch on the last retry).
    int redispatch = 0;
    // `option persist`: `use-server` sends to its server even when it is down or in
    // maintenance (a failed connection may then redispatch).
    bool persist = false;
    // Unset splice-auto means on in sluice (HAProxy: off): large transfers move through pipes
    // with splice(), less than half the CPU per byte. `no option splice-auto` turns it off.
    std::optional<bool> splice_auto;
    bool splice_request = false, splice_response = false;
    bool tcpka_client = false, tcpka_server = false, nolinger = false;
    bool disabled = false;
    std::string balance = "roundrobin";
    cfg::Location balance_where;
    std::vector<BindLine> binds;
    std::vector<ServerLine> servers;
    cfg::Parts default_server;  // options every later `server` line starts from
    std::string default_backend;
    cfg::Location default_backend_where;
    struct UseBackend {
        cfg::Location where;
        std::string name;                               // empty when dynamic
        std::shared_ptr<const sample::Format> dynamic;  // use_backend %[expr]
        std::shared_ptr<const sample::Condition> cond;  // null: always
    };
    std::vector<UseBackend> use_backends;
    struct UseServer {
        cfg::Location where;
        std::string name;
        std::shared_ptr<const sample::Condition> cond;  // null: always
    };
    std::vector<UseServer> use_servers;  // `use-server NAME [if|unless COND]`, in order
    std::string description;

    // mode http
    HttpConnMode http_conn_mode = HttpConnMode::Unset;
    bool http_pretend_keepalive = false;
    std::optional<util::Duration> timeout_http_request, timeout_http_keep_alive, timeout_tarpit;
    bool http_buffer_request = false;  // wait for the request body before the rules run
    AddressHeader forwardfor{false, "X-Forwarded-For", std::nullopt, false};
    AddressHeader originalto{false, "X-Original-To", std::nullopt, false};
    bool accept_invalid_request = false, accept_invalid_response = false;
    bool http_ignore_probes = false;  // an empty connection closes silently (no 400/408, no log)
    HttpReuse http_reuse = HttpReuse::Safe;
    std::uint32_t retry_on = retry_on::kConnFailure;
    std::string send_name_header;  // `http-send-name-header [NAME]`
};

}  // namespace sluice::proxy
