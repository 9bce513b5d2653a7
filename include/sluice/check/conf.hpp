// What the config says about health checks: per server line (`check`, `inter`, ...), per proxy
// (`option httpchk`, `http-check ...`, `timeout check`) and global (`spread-checks`). Plain data
// in the sections' Parts, read once by check::Checks when the process starts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/check/expect.hpp"
#include "sluice/check/tcpcheck.hpp"
#include "sluice/net/address.hpp"
#include "sluice/util/units.hpp"

namespace sluice::check {

// Options of one `server` line (and `default-server`).
struct ServerCheckConf {
    bool enabled = false;  // `check`
    util::Duration inter = std::chrono::seconds(2);
    std::optional<util::Duration> fastinter, downinter;
    std::uint32_t rise = 2, fall = 3;
    std::uint16_t port = 0;            // 0: the server's port
    std::optional<net::Address> addr;  // the server's address when unset
    bool send_proxy = false;           // check-send-proxy: a PROXY v1 header opens each check
    // `init-state` (HAProxy 3.1): how the server starts. Up: UP, one failed check marks it
    // DOWN (HAProxy 2.6's only way); FullyUp: UP, `fall` failures to go DOWN; Down: DOWN, one
    // passing check brings it UP; FullyDown: DOWN, `rise` passing checks to come UP.
    enum class InitState : std::uint8_t { Up, FullyUp, Down, FullyDown };
    InitState init_state = InitState::Up;
};

struct GlobalCheckConf {
    std::uint32_t spread_checks = 0;  // percent, 0..50
};

// Tcp: a connect alone; TcpCheck: `option tcp-check` with the `tcp-check` rules; Protocol: one
// of the protocol options (`option redis-check`, ...) with its own rule set; External: `option
// external-check`, a command run per check (external.hpp).
enum class Kind : std::uint8_t { Tcp, Http, TcpCheck, Protocol, External };

// The HTTP request of `option httpchk` and `http-check send`.
struct HttpRequest {
    std::string method = "OPTIONS";
    std::string uri = "/";
    std::string version = "HTTP/1.0";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // The request's bytes, as sent: the line, the headers, Content-Length with a body,
    // Connection: close unless a Connection header is given or the version is HTTP/1.0.
    // `state`: the value of an X-Haproxy-Server-State header to add (`http-check send-state`).
    std::string serialize(std::string_view state = {}) const;
    // Log-format parts (`uri-lf`, `body-lf`, header values with `%[...]`) rendered at each
    // check: header_formats follows `headers` (null: a constant value).
    std::shared_ptr<const sample::Format> uri_format, body_format;
    std::vector<std::shared_ptr<const sample::Format>> header_formats;
    bool dynamic() const;
    // The request with its log-format parts rendered (an empty header value drops the header,
    // an empty URI is "/", as HAProxy).
    std::string render(sample::Context& ctx, std::string_view state) const;
};

// What `http-check send-state` reports of a server, in HAProxy's X-Haproxy-Server-State format:
// "UP 2/3; address=127.0.0.1; port=80; name=be/s1; node=n; weight=1/2; scur=0/0; qcur=0".
struct ServerState {
    bool up = true, stopping = false;
    std::uint32_t health = 0, rise = 2, fall = 3;
    std::string_view address, backend, server, node;
    std::uint16_t port = 0;
    std::uint32_t weight = 0, total_weight = 0;
    std::uint32_t scur = 0, backend_cur = 0, qcur = 0;
    int throttle = -1;  // a warming-up server's percentage (slowstart), else -1
};
std::string format_server_state(const ServerState& s);

// `http-check connect` (the one that opens the sequence).
struct Connect {
    std::uint16_t port = 0;
    std::shared_ptr<const sample::Expr> port_expr;  // `port EXPR`: evaluated at each check
    std::optional<net::Address> addr;
    bool send_proxy = false;
    bool linger = false;
};

// A later request/response exchange of an http-check sequence: its own connection when it
// opens with `http-check connect`, else the previous exchange's.
struct HttpExchange {
    std::optional<Connect> connect;
    HttpRequest request;
    bool sent = false;  // an `http-check send` was read for this exchange
    std::vector<Expect> expects;
};

struct ProxyCheckConf {
    Kind kind = Kind::Tcp;
    HttpRequest request;
    std::vector<Expect> expects;
    std::optional<Connect> connect;
    bool disable_on_404 = false;
    bool send_state = false;  // `http-check send-state`
    bool sent = false;        // an `http-check send` was read: later rules belong to this exchange
    // The exchanges after the first (request, expects, connect above), in order.
    std::vector<HttpExchange> more;
    // `http-check set-var|set-var-fmt|unset-var`, each with where it comes in the sequence:
    // exchange * 4 + 0 before the exchange's connect, 1 before its send, 2 before its expects,
    // 3 after them.
    std::vector<std::pair<std::uint32_t, TcpRule>> http_actions;
    // Which section wrote the http-check rules: a backend's own rules replace those it
    // inherited from its defaults section instead of adding to them.
    std::string rules_owner;
    std::optional<util::Duration> timeout_check;
    // `tcp-check` rules (used with `option tcp-check`), their owner as for the http-check
    // rules, and a pending `tcp-check comment` for the next rule.
    TcpRules tcp_rules;
    std::string tcp_rules_owner;
    std::string tcp_comment;
    TcpRules protocol_rules;  // Kind::Protocol
};

// The rules of an http-check sequence of several exchanges, run as a tcp-check sequence whose
// expect steps parse HTTP answers. Messages are those of HAProxy's http-check (no step texts).
TcpRules http_sequence_rules(const ProxyCheckConf& pc);

}  // namespace sluice::check
