// HTTP/1.x message heads, from bytes to views: the request line or status line and the header
// fields, validated as strictly as HAProxy 2.6 does by default; then, as a separate pure step, the
// body framing a parsed head announces (RFC 9112 section 6). It owns nothing and allocates
// nothing: every string_view in a head points into the caller's input and dies with it (for a
// connection buffer, at the next Buffer::consume()). Chunked bodies are h1_chunked.hpp's; writing
// heads back out is h1_emit's, which must serialize from these views (it normalizes what the
// parser tolerates, such as runs of whitespace in the request line or bare LF line ends).
//
// Where this parser is stricter or looser than HAProxy 2.6.12, the .cpp says so at the rule.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

namespace sluice::http {

// ASCII case-insensitive equality, as field names and most tokens compare.
bool iequals(std::string_view a, std::string_view b);

// HAProxy's default tune.http.maxhdr is 101 and counts the start line, so a head may carry 100
// header fields; the 101st is refused (checked against haproxy 2.6.12, both directions).
inline constexpr std::size_t kMaxHeaders = 100;

struct Header {
    std::string_view name;   // as received (case preserved), never empty
    std::string_view value;  // leading and trailing SP/HTAB removed; may be empty
};

// A fixed-capacity list so that a head is one flat object with no allocation. Lookups are ASCII
// case-insensitive, as field names are.
class HeaderList {
  public:
    std::span<const Header> all() const { return {items_.data(), count_}; }
    std::size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    const Header& operator[](std::size_t i) const { return items_[i]; }
    // The first field named `name` (any case), or null.
    const Header* find(std::string_view name) const;

    void clear() { count_ = 0; }
    // Edits (rules): the order of the remaining fields is kept.
    Header& at(std::size_t i) { return items_[i]; }
    void erase(std::size_t i) {
        for (std::size_t j = i + 1; j < count_; ++j)
            items_[j - 1] = items_[j];
        --count_;
    }
    // False, and nothing stored, when the list is full.
    bool push(Header h) {
        if (count_ == kMaxHeaders) return false;
        items_[count_++] = h;
        return true;
    }

  private:
    std::array<Header, kMaxHeaders> items_;
    std::uint16_t count_ = 0;
};

// Other exists only under accept_invalid (e.g. "HTTP/11.1", "RTSP/1.0", or no version at all as in
// HTTP/0.9); framing treats it like HTTP/1.0: no implicit keep-alive.
enum class Version : std::uint8_t { Http10, Http11, Other };

// RFC 9112 section 3.2. Other exists only under accept_invalid.
enum class TargetForm : std::uint8_t { Origin, Absolute, Authority, Asterisk, Other };

struct RequestHead {
    std::string_view method;        // a token, case-sensitive ("GET", "get" is another method)
    std::string_view target;        // as received, never empty
    std::string_view version_text;  // "HTTP/1.1"; empty for a version-less (HTTP/0.9) line
    Version version = Version::Http11;
    TargetForm target_form = TargetForm::Origin;
    HeaderList headers;
};

struct ResponseHead {
    std::string_view version_text;
    Version version = Version::Http11;
    std::uint16_t status = 0;  // 100..999
    std::string_view reason;   // may be empty
    HeaderList headers;
};

enum class InvalidReason : std::uint8_t {
    BareCr,            // CR not followed by LF
    BadMethod,         // not a token
    MissingTarget,     // the request line ends after the method
    BadTarget,         // forbidden byte, or no valid request-target form
    BadVersion,        // not HTTP/1.0 or HTTP/1.1 (or trailing bytes after it)
    BadStatus,         // not three digits, or below 100
    BadReason,         // control character in the reason phrase
    ObsFold,           // a field line starting with SP/HTAB (line folding)
    EmptyHeaderName,   // ": value"
    BadHeaderName,     // a byte that is not a token character
    SpaceBeforeColon,  // "Name : value"
    MissingColon,      // a field line without ':'
    BadHeaderValue,    // a control character other than HTAB (NUL even under accept_invalid)
    TooManyHeaders,    // more than ParseOptions::max_headers fields
};
std::string_view to_string(InvalidReason reason);

struct Done {
    std::size_t
        consumed;  // bytes of the head, leading empty lines and the final empty line included
    bool operator==(const Done&) const = default;
};
struct Incomplete {
    bool operator==(const Incomplete&) const = default;
};
struct Invalid {
    InvalidReason reason;
    std::size_t offset;  // of the offending byte in the input
    bool operator==(const Invalid&) const = default;
};
using HeadResult = std::variant<Done, Incomplete, Invalid>;

struct ParseOptions {
    // `option accept-invalid-http-request` (front side) / `-response` (back side): header names
    // may hold any byte but ':', CR, LF, SP, HTAB and NUL; a request target may hold '#' and bytes
    // >= 0x80 and need not match a request-target form; the version may be another protocol name
    // or have several digits ("RTSP/1.0", "HTTP/1.10"), or be absent in a request (HTTP/0.9);
    // header values and the reason phrase may hold control characters other than NUL.
    bool accept_invalid = false;
    // tune.http.maxhdr minus the start line; values above kMaxHeaders act as kMaxHeaders.
    std::size_t max_headers = kMaxHeaders;
    // Chunked framing only: lines must end in CRLF (HAProxy takes a bare LF, then re-encodes
    // the chunks). A proxy that forwards chunk framing as received asks for this, so that the
    // next hop cannot read the body differently.
    bool strict_crlf = false;
};

// Parses one head at the start of `in`. On Done, `out` holds views into `in`; on Incomplete or
// Invalid its contents are unspecified. Leading empty lines are skipped (and counted in consumed).
//
// `already_scanned`: after an Incomplete, the caller may pass the size of the input it gave then;
// the parser first looks for the end of the head only in the new bytes (three bytes before them
// included, for a CRLF CRLF split across reads) and answers Incomplete at once when it is not
// there, so a head trickling in costs linear time. Pass 0 the first time. The price: a resumed
// call does not validate the new bytes before the end of the head has arrived, so it may answer
// Incomplete where a fresh parse would already answer Invalid; once the end is in `in`, the result
// is the fresh parse's, byte for byte.
HeadResult parse_request_head(std::span<const std::byte> in, std::size_t already_scanned,
                              RequestHead& out, const ParseOptions& opts = {});
HeadResult parse_response_head(std::span<const std::byte> in, std::size_t already_scanned,
                               ResponseHead& out, const ParseOptions& opts = {});
// A bare block of field lines up to and including the empty line that ends it (a chunked body's
// trailer section), with the same rules, options and resumption as the head parsers.
HeadResult parse_fields(std::span<const std::byte> in, std::size_t already_scanned, HeaderList& out,
                        const ParseOptions& opts = {});

// ---- Body framing (RFC 9112 section 6), from a parsed head -------------------------------------

enum class BodyKind : std::uint8_t {
    None,           // no body: a request without CL/TE, HEAD/1xx/204/304 responses
    ContentLength,  // exactly Framing::content_length bytes (possibly 0)
    Chunked,        // h1_chunked decodes it
    UntilClose,     // responses only: the body ends when the server closes
    Tunnel,         // responses only: 101, or 2xx to CONNECT; bytes flow both ways after the head
    Invalid,        // Framing::error says why; a request gets 400, a response 502
};

enum class FramingError : std::uint8_t {
    None,
    BadContentLength,           // not 1*DIGIT, empty list element, or above 2^63-1
    ContentLengthMismatch,      // several Content-Length values that differ
    BadTransferEncoding,        // empty element, "identity", non-token, or "chunked" with params
    ChunkedTwice,               // RFC 9112 6.1: chunked is applied once
    ChunkedNotFinal,            // a request whose last coding is not chunked (HAProxy: 400)
    UnsupportedTransferCoding,  // a request with another coding before chunked (HAProxy: 422)
};
std::string_view to_string(FramingError error);

struct Framing {
    BodyKind kind = BodyKind::None;
    FramingError error = FramingError::None;  // when kind == Invalid (then only must_close is set)
    std::uint64_t content_length = 0;         // when kind == ContentLength
    // Independent facts rather than one state, hence separate flags.
    // Remove Content-Length before forwarding: it came with Transfer-Encoding, which wins (RFC
    // 9112 6.3), or the response is 1xx/204, which must not carry one.
    bool drop_content_length = false;
    // Close the connection after this transaction whatever Connection says: CL with TE (a
    // smuggling attempt, RFC 9112 6.1), TE in an HTTP/1.0 message, or a body ending at close.
    bool must_close = false;
    bool conn_close = false;       // "close" among the Connection tokens
    bool conn_keep_alive = false;  // "keep-alive" among them
    bool conn_upgrade = false;     // "upgrade" among them
    bool has_upgrade = false;      // a non-empty Upgrade header
    bool expect_continue = false;  // requests: "Expect: 100-continue"
};

// Framing of a request body. Content-Length and Transfer-Encoding are validated whatever the
// method: a server may read a body even on GET.
Framing analyze_request_framing(const RequestHead& head);
// Framing of a response body to a request with `request_method` (case-sensitive: "HEAD",
// "CONNECT"). Content-Length and Transfer-Encoding are validated even when the status or the method
// rules the body out, as HAProxy does (a 204 with "Content-Length: x" is a 502).
Framing analyze_response_framing(const ResponseHead& head, std::string_view request_method);

// Whether the connection may carry another message after this one, from the version's default
// and the Connection tokens (RFC 9112 9.3), unless the framing forces a close.
inline bool keeps_alive(Version version, const Framing& f) {
    if (f.must_close || f.conn_close || f.kind == BodyKind::Invalid) return false;
    return version == Version::Http11 || f.conn_keep_alive;
}

}  // namespace sluice::http
