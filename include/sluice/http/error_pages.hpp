// Error responses a proxy sends itself: the built-in page for each status HAProxy has one for,
// and a proxy's own from `errorfile`, `errorfiles` (an `http-errors` section) or `http-error`.
// Pages are checked and split at load time, so sending one is two copies and no parsing.
// The keywords are in src/http/kw_errors.cpp; they store ErrorPagesConf rules, which
// build_error_pages() resolves once per proxy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/parts.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/util/result.hpp"

namespace sluice::http {

// The statuses HAProxy 2.6 has built-in pages for and accepts in errorfile, errorfiles and
// http-error. Its manual lists 17; haproxy 2.6.12 also takes 421 and 422, so do we.
inline constexpr std::array<std::uint16_t, 19> kErrorStatuses{
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504};

// The position of `status` in kErrorStatuses, or nullopt.
constexpr std::optional<std::size_t> error_status_index(std::uint16_t status) {
    for (std::size_t i = 0; i < kErrorStatuses.size(); ++i)
        if (kErrorStatuses[i] == status) return i;
    return std::nullopt;
}

// A reply whose body or header values are log-format (`lf-string`, `lf-file`, `hdr` with
// `%[...]` or `%ci`): made for each reply from the transaction (render_reply()).
struct ReplyFormat {
    std::string status_line;  // "HTTP/1.1 503 Service Unavailable\r\n"
    // In order, lower-cased names; never content-length, content-type or connection.
    std::vector<std::pair<std::string, sample::Format>> headers;
    std::string content_type;  // sent only when the body renders non-empty, as HAProxy does
    sample::Format body;
};

// Renders `f` into `head` (status line, header lines, content-length, content-type; each line
// ending in CRLF, as ErrorPage::head) and `body`, both cleared first, with what `ctx` holds.
void render_reply(const ReplyFormat& f, sample::Context& ctx, std::string& head, std::string& body);

struct ErrorPage {
    // The status it answers, which logs show; an errorfile's own status line, sent as is, may
    // say another (as in HAProxy).
    std::uint16_t status = 0;
    // The status line and header lines, each ending in CRLF, without the empty line that ends
    // the head and without any Connection header: the sender adds `connection: close` when it
    // closes after the page, then the empty line, then the body.
    // Empty (and body empty) for an empty errorfile, HAProxy's `errorfile 408 /dev/null` idiom:
    // send nothing at all, just close.
    std::string head;
    std::string body;
    // The page cannot be followed by another response on the connection: it is empty, has a
    // body without content-length (its end is the close, as HAProxy sends such an errorfile) or
    // an HTTP/1.0 status line. Built-in and http-error pages always carry a content-length.
    bool must_close = false;
    // Where it came from, for messages: "built-in", the file name, or "http-error string".
    std::string source;
    // A page made for each reply (http-error with log-format): head and body above are empty
    // and unused; the sender renders this one with the transaction at hand.
    std::shared_ptr<const ReplyFormat> format;
};

// The built-in page for a status of kErrorStatuses; nullptr for any other status. The pages are
// static: pointers stay valid for the life of the program.
const ErrorPage* default_error_page(std::uint16_t status);

// One proxy's pages: its own where it has one, the built-in one otherwise.
class ErrorPages {
  public:
    // nullptr only for a status with neither (not one of kErrorStatuses and not configured).
    const ErrorPage* find(std::uint16_t status) const;
    // The proxy's own page, or nullptr when it has none (it uses the built-in one). HAProxy looks
    // for a stream's page in the backend's own, then the frontend's own, then the built-in:
    // find_error_page() below.
    const ErrorPage* find_own(std::uint16_t status) const;
    // Implementation detail of the builder: the proxy's own pages, by status.
    std::array<std::shared_ptr<const ErrorPage>, kErrorStatuses.size()> own;
};

// HAProxy's lookup once a stream has a backend (`backend` may be null, or the same object as
// `frontend` for a listen section): the backend's own page, else the frontend's own, else the
// built-in one. A backend's `http-error status N default-errorfiles` thus exposes the
// frontend's page, as in HAProxy.
const ErrorPage* find_error_page(std::uint16_t status, const ErrorPages& frontend,
                                 const ErrorPages* backend);

// Built once per proxy by proxy::build from the proxy section's Parts (what errorfile,
// errorfiles and http-error stored there) and the global Parts (the http-errors sections, kept
// in cfg::NamedSections). Reports problems (unknown http-errors section, a page larger than
// `max_size`, which should be GlobalConf::bufsize) into `diag` at the line that named them; a
// line inherited from a defaults section by several proxies is reported once. Returns nullptr
// when it raised an alert.
std::shared_ptr<const ErrorPages> build_error_pages(const cfg::Parts& proxy_parts,
                                                    const cfg::Parts& global_parts,
                                                    cfg::Diagnostics& diag,
                                                    std::size_t max_size = 16384);

// ---- What the keywords store, and the page builders they use --------------------------------

// One errorfile, errorfiles or http-error line, in the order of the config: a later line
// overrides an earlier one for the same status, and a proxy's own lines come after those it
// inherited from its defaults section (Parts are copied, then appended to).
struct ErrorRule {
    struct SetPage {  // errorfile; http-error with errorfile, file, string or no payload
        std::shared_ptr<const ErrorPage> page;
    };
    struct Import {  // errorfiles; http-error ... errorfiles <name>
        std::string section;
        std::vector<std::uint16_t> statuses;  // empty: every page of the section
    };
    struct Reset {  // http-error ... default-errorfiles
        std::uint16_t status = 0;
    };
    cfg::Location where;
    std::string context;  // the section that holds the line ("defaults", "frontend 'fe'")
    std::string keyword;  // "errorfile", "errorfiles" or "http-error"
    std::variant<SetPage, Import, Reset> what;
};

// The http module's part of a proxy section or of an http-errors section (which holds only
// SetPage rules, from its errorfile lines).
struct ErrorPagesConf {
    std::vector<ErrorRule> rules;
};

// An errorfile's content, a raw HTTP/1 response, as the page for `status` (the code it is
// configured for, which is also what logs show; the file's own status line is sent as is, as
// in HAProxy). Bare LF line ends become CRLF, header names are lower-cased as HAProxy sends
// them, Connection headers are dropped. The error says what is wrong with the content.
util::Result<ErrorPage> error_page_from_response(std::uint16_t status, std::string_view raw,
                                                 std::string source);

// `head` (a page's status line and header lines, each ending in CRLF) into `out`, with every
// field called `name` (any case) left out and `name: value` appended.
void replace_field(std::string_view head, std::string_view name, std::string_view value,
                   std::string& out);

// An `http-error` page from parts: HAProxy's status line for `status`, then `headers` in order,
// content-length, and content-type when the body is not empty.
ErrorPage make_error_page(std::uint16_t status, std::string_view content_type,
                          std::span<const std::pair<std::string, std::string>> headers,
                          std::string body, std::string source);

// The status line HAProxy 2.6 gives the replies it builds (http-error, `return`, `deny` with a
// content): "HTTP/1.1 <status> <reason>\r\n", with its reasons ("413 Request Entity Too Large",
// "502 Bad Gateway or Proxy Error", "299 Success" for a code it has no name for).
std::string reply_status_line(std::uint16_t status);

// An `http-error` page (or a `return` content) whose body or header values are log-format:
// a page with `format` set, rendered per reply. `body`: the compiled lf-string or lf-file.
ErrorPage make_error_page_format(std::uint16_t status, std::string content_type,
                                 std::vector<std::pair<std::string, sample::Format>> headers,
                                 sample::Format body, std::string source);

}  // namespace sluice::http
