// `tcp-check` rule sequences (connect / send / expect steps) and the protocol checks HAProxy
// builds from such sequences (`option redis-check`, `smtpchk`, `pgsql-check`, `mysql-check`,
// `ldap-check`, `ssl-hello-chk`). Parsing and judging an answer are pure, so both are
// unit-tested and fuzzed without sockets; checks.cpp runs the steps.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/check/expect.hpp"
#include "sluice/net/address.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/sample/vars.hpp"
#include "sluice/util/result.hpp"

namespace sluice::check {

// What a step's message says about an answer when the rule does not give a fixed text.
enum class InfoFrom : std::uint8_t {
    Default,    // the generic text ("TCPCHK did not match content ...")
    Fixed,      // `text`
    Line,       // the answer's first line (up to CR/LF)
    AfterCode,  // the answer's first line after its 3-digit code and spaces (SMTP)
    PgError,    // a PostgreSQL ErrorResponse's first field (up to NUL)
};

struct TcpExpect {
    enum class Kind : std::uint8_t {
        String,
        RString,
        Binary,
        RBinary,
        Mysql,
        Ldap,
        SslHello,
        Http,  // an HTTP answer judged by `http` (an http-check sequence's exchange)
    };
    Kind kind = Kind::String;
    bool negate = false;
    std::string pattern;  // String/Binary: the bytes; RString/RBinary: the source
    std::shared_ptr<const Regex> regex;
    int min_recv = -1;
    Status ok_status = Status::L7Ok;
    Status error_status = Status::L7Response;
    Status timeout_status = Status::L7Timeout;
    InfoFrom on_error = InfoFrom::Default, on_success = InfoFrom::Default;
    std::string error_text, success_text;
    bool code_from_answer = false;  // the first 3 bytes are the status code (SMTP)
    // Mysql: the packet judged is the one after the server's handshake (the answer to the
    // authentication), not the handshake itself.
    bool after_handshake = false;
    // Http: the exchange's `http-check expect` rules (none: 2xx and 3xx pass), whether the
    // answer's body is needed, and disable-on-404.
    std::vector<Expect> http;
    bool needs_body = false;
    bool disable_on_404 = false;
    bool http_dynamic = false;  // some of `http` have log-format patterns
    // `on-success FMT`, `on-error FMT` (the message, log-format) and `status-code EXPR` (the
    // code reported), evaluated when the rule decides.
    std::shared_ptr<const sample::Format> on_success_format, on_error_format;
    // `string-lf` / `binary-lf` (kind String / Binary): the pattern, rendered at each check
    // into a copy of the rule by render_pattern.
    std::shared_ptr<const sample::Format> pattern_format;
    std::shared_ptr<const sample::Expr> status_code;
};

struct HttpRequest;  // conf.hpp

// `set-var(NAME) EXPR`, `set-var-fmt(NAME) FMT` and `unset-var(NAME)` of tcp-check and
// http-check: evaluated when the sequence reaches them, on what a check has (constants, the
// environment, variables).
struct VarAction {
    sample::VarRef ref;
    std::optional<sample::Expr> expr;
    std::optional<sample::Format> format;  // neither: unset-var
};

struct TcpRule {
    // Comment: `tcp-check comment`, a step of its own whose text later steps report.
    // Action: a variable action (VarAction), which is not a step of its own in messages.
    enum class Op : std::uint8_t { Connect, Send, Expect, Comment, Action };
    Op op = Op::Expect;
    // Connect; `port_expr`: a sample expression giving the port at each check (`port
    // var(check.port)`), used when it yields one from 1 to 65535.
    std::uint16_t port = 0;
    std::shared_ptr<const sample::Expr> port_expr;
    std::optional<net::Address> addr;
    bool send_proxy = false;
    bool linger = false;
    // Send: the bytes; where an http-check send-state header goes in them (npos: none).
    std::string data;
    std::size_t state_at = std::string::npos;
    // Send: built at each check from a log-format (`send-lf`, `send-binary-lf`: hex digits),
    // or an HTTP request with log-format parts (and the send-state header when `http_state`).
    std::shared_ptr<const sample::Format> format;
    bool binary = false;
    std::shared_ptr<const HttpRequest> http;
    bool http_state = false;
    std::shared_ptr<const VarAction> action;
    TcpExpect expect;
    std::string comment;
};

// A rule set: the rules, and whether it is one of HAProxy's own (their messages on timeouts
// and connection errors carry no step text).
struct TcpRules {
    std::vector<TcpRule> rules;
    bool builtin = false;
};

// The words after `tcp-check` (`connect ...`, `send ...`, `send-binary ...`, `expect ...`).
util::Result<TcpRule> parse_tcp_check(std::span<const std::string> words);

// A variable action's words (`set-var(check.x)`, EXPR): its rule, or why not.
util::Result<TcpRule> parse_var_action(std::span<const std::string> words);
void run_action(const VarAction& action, sample::Context& ctx);

// A `string-lf`/`binary-lf` rule with its pattern rendered into `out` (a copy of `rule`); the
// failure when the rendering is empty or not hex.
std::optional<Outcome> render_pattern(const TcpRule& rule, sample::Context& ctx, TcpRule& out);

// The bytes of a `send-lf`/`send-binary-lf` rule; an error when a binary one is not hex.
util::Result<std::string> render_send(const TcpRule& rule, sample::Context& ctx);

// "3031ff" -> bytes; an error for odd lengths or non-hex digits.
util::Result<std::string> parse_hex(std::string_view hex);

// The verdict of one expect rule on the bytes at hand. `last`: nothing more will come (the
// server closed or the buffer is full).
struct Verdict {
    enum class What : std::uint8_t { Wait, Pass, Fail } what = What::Wait;
    Outcome outcome;  // Pass: the status/info if this is the last rule; Fail: the failure
    // Http: which of the exchange's expect rules decided (evaluate_http's `decided`).
    std::size_t http_rule = std::string::npos;
};
Verdict evaluate_tcp(const TcpRule& rule, std::size_t step, std::string_view answer, bool last);
// Applies an expect rule's on-success/on-error/status-code to its verdict (Pass or Fail).
void apply_messages(const TcpRule& rule, Verdict& verdict, sample::Context& ctx);
inline bool has_messages(const TcpRule& r) {
    return r.expect.on_success_format || r.expect.on_error_format || r.expect.status_code;
}

// " at step 3 of tcp-check (expect string 'x') comment: 'c'": what a timeout or a
// connection error at this step says after the error text.
std::string step_text(const TcpRule& rule, std::size_t step, bool initial_connect);

// The index of the sequence's opening connect (only comments before it), or npos.
std::size_t opening_connect(const std::vector<TcpRule>& rules);

// The protocol checks as rule sets.
TcpRules redis_rules();
TcpRules smtp_rules(std::string_view verb, std::string_view domain);
TcpRules pgsql_rules(std::string_view user);
TcpRules ldap_rules();
// `option mysql-check [user NAME [post-41|pre-41]]`: an empty user checks the handshake alone.
TcpRules mysql_rules(std::string_view user, bool post41);
TcpRules ssl_hello_rules();

}  // namespace sluice::check
