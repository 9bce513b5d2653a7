// What a health check expects of a server's answer (`http-check expect`), parsed once from the
// config words and matched against each response. Pure: no sockets, so the parser and the
// matchers are unit-tested and fuzzed on their own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/sample/format.hpp"
#include "sluice/util/result.hpp"

namespace sluice::http {
class HeaderList;
}

namespace sluice::check {

// HAProxy's check statuses, in HAProxy's order: those from Layer7Data on carry an HTTP code
// in messages ("code: 500").
enum class Status : std::uint8_t {
    Unknown,
    Hana,  // health analyze: `observe` saw too many errors (no code, no duration)
    SocketError,
    L4Ok,
    L4Timeout,
    L4Conn,
    L6Ok,
    L6Timeout,
    L6Response,
    L7Timeout,
    L7Response,
    Layer7Data,  // marker, never a result
    L7Ok,
    L7OkConditional,
    L7Status,
    ProcErr,      // external check: the command failed (code: its exit status, -1 on a signal)
    ProcTimeout,  // external check: killed at the timeout
    ProcOk,       // external check: the command exited 0
};
// "Layer4 connection problem", "Layer7 wrong status", ... as HAProxy's messages say them.
std::string_view describe(Status status);
bool passed(Status status);
// Whether messages show the HTTP code for this status.
inline bool has_code(Status status) {
    return status > Status::Layer7Data;
}
// "L7OK", "L4CON", ...: the names `ok-status` / `error-status` / `tout-status` take.
util::Result<Status> status_from_name(std::string_view name);
// The reverse, for every status, as the stats show it ("INI" before the first check).
std::string_view status_name(Status status);

// A compiled PCRE2 pattern (shared by every server of the backend, immutable).
class Regex {
  public:
    static util::Result<std::shared_ptr<const Regex>> compile(std::string_view pattern,
                                                              bool caseless = false);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    bool search(std::string_view subject) const;

  private:
    Regex() = default;
    void* code_ = nullptr;  // pcre2_code*
};

// How a name or a value is compared (`-m str|beg|end|sub|reg`).
enum class Method : std::uint8_t { Str, Beg, End, Sub, Reg };
util::Result<Method> method_from_name(std::string_view name);

struct Matcher {
    Method method = Method::Str;
    std::string text;
    std::shared_ptr<const Regex> regex;  // Method::Reg
    bool caseless = false;               // header names
    bool matches(std::string_view subject) const;
};

struct Expect {
    enum class Kind : std::uint8_t { Status, RStatus, String, RString, Hdr, FHdr };
    Kind kind = Kind::Status;
    bool negate = false;
    // Status: inclusive ranges from "200,300-310".
    std::vector<std::pair<std::uint16_t, std::uint16_t>> codes;
    // RStatus, RString: the regex; String: the text (pattern.text).
    Matcher pattern;
    // Hdr/FHdr: the name and the optional value.
    Matcher name;
    bool has_value = false;
    int min_recv = -1;
    std::string comment;
    Status ok_status = Status::L7Ok;
    Status error_status = Status::Unknown;  // Unknown: the kind's own (L7STS or L7RSP)
    Status timeout_status = Status::L7Timeout;
    // `on-success FMT`, `on-error FMT` (log-format messages) and `status-code EXPR`.
    std::shared_ptr<const sample::Format> on_success, on_error;
    std::shared_ptr<const sample::Expr> status_code;
    bool has_messages() const { return on_success || on_error || status_code; }
    // `string-lf`, `value-lf` (into pattern.text) and `name-lf` (into name.text): rendered at
    // each check by render_expects.
    std::shared_ptr<const sample::Format> pattern_format, name_format;
    bool dynamic() const { return pattern_format || name_format; }
};

// The words after `http-check expect`. `warning` receives text to show at that line when the
// rule is accepted but written in a way worth a word (the pre-2.6 `header` form).
util::Result<Expect> parse_http_expect(std::span<const std::string> words, std::string& warning);

// Status code lists as `expect status` takes them: "200", "200-299", "200,301,400-499".
util::Result<std::vector<std::pair<std::uint16_t, std::uint16_t>>> parse_status_list(
    std::string_view text);

// A parsed HTTP response as the matchers see it.
struct HttpAnswer {
    std::uint16_t status = 0;
    std::string_view reason;
    const http::HeaderList* headers = nullptr;
    std::string_view body;
};

// The outcome of a check: its status, the HTTP code when there was one, and the text shown as
// `info` ("Internal Server Error", "HTTP content check did not match").
struct Outcome {
    Status status = Status::Unknown;
    int code = -1;
    std::string info;
};

// Runs the expect rules in order on one answer; with none, 2xx and 3xx pass (HAProxy's implicit
// rule). `disable_on_404`: a 404 passes conditionally (the server stops taking new traffic).
// `decided`, when given, receives the index of the rule that failed, or of the last one on a
// pass (npos when no rule decided: none given, or disable-on-404's 404).
Outcome evaluate_http(std::span<const Expect> rules, const HttpAnswer& answer, bool disable_on_404,
                      std::size_t* decided = nullptr);
// Copies `in` into `out` with the log-format patterns rendered; the failure when one renders
// empty (HAProxy's "log-format string evaluated to an empty string").
std::optional<Outcome> render_expects(std::span<const Expect> in, std::vector<Expect>& out,
                                      sample::Context& ctx);
// Applies the deciding rule's on-success/on-error/status-code to its outcome.
void apply_messages(const Expect& rule, Outcome& outcome, sample::Context& ctx);

// A `string` pattern word as the config's quoting made it: when double quotes were glued inside
// the word (`{"status":"healthy"}`), they were removed, which is rarely what was meant. Returns
// the warning to show (the pattern as it will be matched and the single-quoted fix), or empty.
// `raw_word` is the word as written in the file.
std::string quoting_warning(std::string_view raw_word, std::string_view parsed_word);

// The last word of a config line as written (quotes and escapes kept), for quoting_warning.
std::string_view last_raw_word(std::string_view line);

}  // namespace sluice::check
