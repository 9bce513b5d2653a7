// HTTP/1.x heads from bytes to views, and the body framing they announce (h1_parse.hpp).
//
// One forward pass over the head: the start line, then one field line at a time. Long runs (the
// request target, field values) are scanned 16 bytes at a time for the few bytes that stop them.
// Nothing is copied and nothing allocated; a result is a view into the input or an offset.
//
// The rules were checked against Debian's haproxy 2.6.12 in mode http, fed raw bytes. Where we
// differ on purpose, the rule says "HAProxy 2.6 ..." and why.
#include "sluice/http/h1_parse.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::http {
namespace {

// ---- Character classes ---------------------------------------------------------------------

enum : std::uint8_t {
    kTchar = 1 << 0,       // RFC 9110 5.6.2 token character
    kTargetByte = 1 << 1,  // strict request-target byte: VCHAR but '#'
    kLooseName = 1 << 2,   // accept_invalid header-name byte: all but ':' CR LF SP HTAB NUL
    kSchemeByte = 1 << 3,  // RFC 3986 scheme character after the first
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    constexpr std::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
    for (int c = 0; c < 256; ++c) {
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        std::uint8_t f = 0;
        if (alpha || digit || (c > 0 && kTokenPunct.find(static_cast<char>(c)) != kTokenPunct.npos))
            f |= kTchar;
        if (c > 0x20 && c < 0x7f && c != '#') f |= kTargetByte;
        if (c != ':' && c != '\r' && c != '\n' && c != ' ' && c != '\t' && c != 0) f |= kLooseName;
        if (alpha || digit || c == '+' || c == '-' || c == '.') f |= kSchemeByte;
        t[static_cast<std::size_t>(c)] = f;
    }
    return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

inline bool is(char c, std::uint8_t cls) {
    return kClasses[static_cast<unsigned char>(c)] & cls;
}
inline bool is_ws(char c) {
    return c == ' ' || c == '\t';
}
inline bool is_eol(char c) {
    return c == '\r' || c == '\n';
}
inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
inline char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_ws(s.back()))
        s.remove_suffix(1);
    return s;
}

// ---- Bulk scanning -------------------------------------------------------------------------
// Both return the first byte in [p, end) that may stop a run, or end; the caller decides.

// For field values and reason phrases: any byte below 0x20 (CR, LF, HTAB and the rest) or DEL.
const char* find_ctl(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i k1f = _mm_set1_epi8(0x1f);
    const __m128i k7f = _mm_set1_epi8(0x7f);
    for (; end - p >= 16; p += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // Unsigned v <= 0x1f exactly when max(v, 0x1f) == 0x1f.
        const __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(v, k1f), k1f);
        const int mask = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, k7f)));
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
#endif
    for (; p < end; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c < 0x20 || c == 0x7f) return p;
    }
    return end;
}

// For request targets: SP and below, DEL and above, and '#'.
const char* find_target_stop(const char* p, const char* end) {
#if defined(__SSE2__)
    const __m128i k20 = _mm_set1_epi8(0x20);
    const __m128i k7f = _mm_set1_epi8(0x7f);
    const __m128i hash = _mm_set1_epi8('#');
    for (; end - p >= 16; p += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(v, k20), k20);  // v <= 0x20
        const __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(v, k7f), v);   // v >= 0x7f
        const __m128i stop = _mm_or_si128(_mm_or_si128(low, high), _mm_cmpeq_epi8(v, hash));
        const int mask = _mm_movemask_epi8(stop);
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    }
#endif
    for (; p < end; ++p)
        if (!is(*p, kTargetByte)) return p;
    return end;
}

// Whether the empty line ending a head or a field block may lie in `in` past `from`, the size
// of the input an earlier call found incomplete. Its final LF is then at `from` or later and
// its first LF at most two bytes before, so three bytes of overlap suffice. A field block may
// also be empty, its end then being its very first line. One input defeats the shortcut: empty
// lines before a start line, which the full parse skips each time; that costs at most a pass over
// the buffer per call, and only to a peer sending nothing else.
bool end_may_be_in(std::span<const std::byte> in, std::size_t from, bool block_start) {
    const char* b = reinterpret_cast<const char*>(in.data());
    const char* e = b + in.size();
    if (block_start && b < e && (*b == '\n' || (*b == '\r' && e - b >= 2 && b[1] == '\n')))
        return true;
    const char* p = b + (from > 3 ? from - 3 : 0);
    while (p < e) {
        const void* lf = std::memchr(p, '\n', static_cast<std::size_t>(e - p));
        if (lf == nullptr) return false;
        p = static_cast<const char*>(lf) + 1;
        if (p < e && (*p == '\n' || (*p == '\r' && e - p >= 2 && p[1] == '\n'))) return true;
    }
    return false;
}

// ---- Versions and targets ------------------------------------------------------------------

// Where a version differs from "HTTP/1.0" / "HTTP/1.1" (its size if it is a proper prefix).
std::size_t strict_version_mismatch(std::string_view v) {
    constexpr std::string_view kPrefix = "HTTP/1.";
    const std::size_t n = std::min(v.size(), kPrefix.size());
    for (std::size_t i = 0; i < n; ++i)
        if (v[i] != kPrefix[i]) return i;
    if (v.size() <= kPrefix.size()) return v.size();
    if (v[7] != '0' && v[7] != '1') return 7;
    return 8;
}

// accept_invalid versions, fitted to what HAProxy 2.6 lets through with the option: any name
// made of token characters and '/' ("RTSP/1.0", "ICY", "HTTP/1"), but a version that claims to
// be HTTP must spell "HTTP/" in capitals and continue with digits and dots only ("HTTP/11.1" yes;
// "http/1.1" and "HTTP/a.b" no). Returns where `v` breaks the rule, or npos; each answer depends
// only on the bytes before it, so a prefix of the word fails where the whole word does.
std::size_t loose_version_mismatch(std::string_view v) {
    if (v.empty()) return 0;
    const bool claims_http = v.size() >= 5 && iequals(v.substr(0, 5), "http/");
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (!is(c, kTchar) && c != '/') return i;
        if (claims_http && (i < 5 ? c != "HTTP/"[i] : !is_digit(c) && c != '.')) return i;
    }
    return v.npos;
}

// authority-form (RFC 9112 3.2.3): host ":" port, no userinfo, path or query. HAProxy 2.6
// requires the port too but also lets "http://a:443", "u@a:443" and "a:443/x" through for
// CONNECT; we refuse them as the RFC does, since what a tunnel would open to is then ambiguous.
bool is_authority_form(std::string_view t) {
    const std::size_t colon = t.rfind(':');
    if (colon == t.npos || colon == 0 || colon + 1 == t.size()) return false;
    for (char c : t.substr(colon + 1))
        if (!is_digit(c)) return false;
    const std::string_view host = t.substr(0, colon);
    if (host.find_first_of("/?@") != host.npos) return false;
    if (host.front() == '[') return host.back() == ']' && host.size() > 2;
    return host.find(':') == host.npos;
}

// absolute-form: a scheme then "://". HAProxy 2.6 refuses "a:b" or "urn:x" (no "//") and
// so do we: a proxied request names an http(s) resource with an authority.
bool is_absolute_form(std::string_view t) {
    const std::size_t colon = t.find("://");
    if (colon == t.npos || colon == 0) return false;
    const char first = t.front();
    if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) return false;
    for (char c : t.substr(0, colon))
        if (!is(c, kSchemeByte)) return false;
    return true;
}

// RFC 9112 3.2. HAProxy 2.6 accepts "*" whatever the method and also "*x"; we accept the
// former (harmless, the server decides) but not the latter, which is no form at all.
bool classify_target(std::string_view method, std::string_view t, TargetForm& form) {
    if (method == "CONNECT") {
        form = TargetForm::Authority;
        return is_authority_form(t);
    }
    if (t.front() == '/') {
        form = TargetForm::Origin;
        return true;
    }
    if (t == "*") {
        form = TargetForm::Asterisk;
        return true;
    }
    form = TargetForm::Absolute;
    return is_absolute_form(t);
}

// ---- The reader ----------------------------------------------------------------------------

enum class St : std::uint8_t { Ok, More, Bad };

// A cursor over one head. Each step returns Ok with the cursor past what it read, More when
// the input ends first, or Bad with the reason and offending byte recorded.
class Reader {
  public:
    Reader(std::span<const std::byte> in, const ParseOptions& opts)
        : begin_(reinterpret_cast<const char*>(in.data())),
          end_(begin_ + in.size()),
          p_(begin_),
          loose_(opts.accept_invalid),
          max_headers_(std::min(opts.max_headers, kMaxHeaders)) {}

    St request_line(RequestHead& h);
    St status_line(ResponseHead& h);
    St fields(HeaderList& out);

    HeadResult result(St st) const {
        if (st == St::Ok) return Done{static_cast<std::size_t>(p_ - begin_)};
        if (st == St::More) return Incomplete{};
        return Invalid{reason_, static_cast<std::size_t>(bad_at_ - begin_)};
    }

  private:
    St fail(InvalidReason reason, const char* at) {
        reason_ = reason;
        bad_at_ = at;
        return St::Bad;
    }
    St skip_empty_lines();
    St skip_ws();
    St line_end();
    St method(std::string_view& out);
    St target(std::string_view& out);
    St version(std::string_view& text, Version& v);
    St to_line_end(InvalidReason bad);

    const char* begin_;
    const char* end_;
    const char* p_;
    bool loose_;
    std::size_t max_headers_;
    InvalidReason reason_ = InvalidReason::BareCr;
    const char* bad_at_ = nullptr;
};

// RFC 9112 2.2 asks servers to ignore at least one empty line before a request line (some
// clients send an extra CRLF after a POST body). HAProxy 2.6 skips any number of them, CRLF or
// bare LF, before requests and responses alike; so do we.
St Reader::skip_empty_lines() {
    while (p_ < end_) {
        if (*p_ == '\n') {
            ++p_;
        } else if (*p_ != '\r') {
            return St::Ok;
        } else if (end_ - p_ < 2) {
            return St::More;
        } else if (p_[1] != '\n') {
            return fail(InvalidReason::BareCr, p_);
        } else {
            p_ += 2;
        }
    }
    return St::More;
}

// Runs of SP/HTAB between start-line words: HAProxy 2.6 accepts "GET  /\tHTTP/1.1" and
// "HTTP/1.1  200" (RFC 9112 3 allows parsing on whitespace). Other whitespace (VT, FF, bare CR),
// which the RFC also lists, it refuses, and so do we: that is where parsers disagree.
St Reader::skip_ws() {
    while (p_ < end_ && is_ws(*p_))
        ++p_;
    return p_ < end_ ? St::Ok : St::More;
}

// At a CR or LF: consumes CRLF or a bare LF. RFC 9112 2.2 lets a recipient take a bare LF as a
// line end; HAProxy 2.6 does so everywhere in a head, and so do we. A bare CR it refuses: a
// peer that takes CR alone as a line end would see other lines than we do.
St Reader::line_end() {
    if (*p_ == '\n') {
        ++p_;
        return St::Ok;
    }
    if (end_ - p_ < 2) return St::More;
    if (p_[1] != '\n') return fail(InvalidReason::BareCr, p_);
    p_ += 2;
    return St::Ok;
}

St Reader::method(std::string_view& out) {
    const char* start = p_;
    while (p_ < end_ && is(*p_, kTchar))
        ++p_;
    if (p_ == end_) return St::More;
    if (p_ == start) return fail(InvalidReason::BadMethod, p_);
    out = {start, static_cast<std::size_t>(p_ - start)};
    if (is_ws(*p_)) return St::Ok;
    return fail(is_eol(*p_) ? InvalidReason::MissingTarget : InvalidReason::BadMethod, p_);
}

// The target runs to SP/HTAB/CR/LF. Controls, SP and DEL are refused in any mode (HAProxy 2.6
// lets DEL through despite its manual; we follow the manual and RFC 3986). '#' and bytes
// >= 0x80 are refused unless accept_invalid, as in HAProxy 2.6. The other bytes RFC 3986 does
// not allow (" < > \ ^ ` { | }) pass: HAProxy 2.6 forwards them too, whatever its manual says.
St Reader::target(std::string_view& out) {
    const char* start = p_;
    for (;;) {
        p_ = find_target_stop(p_, end_);
        if (p_ == end_) return St::More;
        const auto c = static_cast<unsigned char>(*p_);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
        if (loose_ && (c >= 0x80 || c == '#')) {
            ++p_;
            continue;
        }
        return fail(InvalidReason::BadTarget, p_);
    }
    out = {start, static_cast<std::size_t>(p_ - start)};
    return St::Ok;
}

// A version word runs to SP/HTAB/CR/LF; what follows is the caller's to check. HAProxy 2.6
// takes any "HTTP/<digit>.<digit>" and forwards "HTTP/2.0", "HTTP/1.2" or "HTTP/0.9" as
// HTTP/1.1 or 1.0. We accept HTTP/1.0 and HTTP/1.1 only: a message claiming another version
// over HTTP/1 framing is a confused or hostile peer (RFC 9110 2.5 permits a 505).
St Reader::version(std::string_view& text, Version& v) {
    const char* start = p_;
    while (p_ < end_ && !is_ws(*p_) && !is_eol(*p_))
        ++p_;
    text = {start, static_cast<std::size_t>(p_ - start)};
    const bool complete = p_ < end_;  // otherwise the word may still grow
    const std::size_t strict = strict_version_mismatch(text);
    if (strict == 8 && text.size() == 8) {
        v = text[7] == '1' ? Version::Http11 : Version::Http10;
        return complete ? St::Ok : St::More;
    }
    const std::size_t bad = loose_ ? loose_version_mismatch(text) : strict;
    if (loose_ && bad == text.npos) {
        v = Version::Other;
        return complete ? St::Ok : St::More;
    }
    if (!complete && bad >= text.size()) return St::More;
    return fail(InvalidReason::BadVersion, start + std::min(bad, text.size()));
}

// Advances to the CR or LF ending a field value or reason phrase. HAProxy 2.6 lets every
// control but CR and LF through there, NUL included. RFC 9110 5.5 says a recipient of CR, LF or
// NUL in a value MUST reject or replace it, and calls the other controls invalid; we refuse
// them all but HTAB, and under accept_invalid all but NUL.
St Reader::to_line_end(InvalidReason bad) {
    for (;;) {
        p_ = find_ctl(p_, end_);
        if (p_ == end_) return St::More;
        const char c = *p_;
        if (is_eol(c)) return St::Ok;
        if (c == '\t' || (loose_ && c != '\0')) {
            ++p_;
            continue;
        }
        return fail(bad, p_);
    }
}

St Reader::request_line(RequestHead& h) {
    St st = skip_empty_lines();
    if (st == St::Ok) st = method(h.method);
    if (st == St::Ok) st = skip_ws();
    if (st != St::Ok) return st;
    if (is_eol(*p_)) return fail(InvalidReason::MissingTarget, p_);
    const char* target_start = p_;
    if ((st = target(h.target)) != St::Ok) return st;
    if (!classify_target(h.method, h.target, h.target_form)) {
        if (!loose_) return fail(InvalidReason::BadTarget, target_start);
        h.target_form = TargetForm::Other;
    }
    if (is_ws(*p_) && (st = skip_ws()) != St::Ok) return st;
    if (is_eol(*p_)) {
        // No version: an HTTP/0.9 request line, which HAProxy 2.6 takes only with the option.
        if (!loose_) return fail(InvalidReason::BadVersion, p_);
        h.version_text = {};
        h.version = Version::Other;
        return line_end();
    }
    if ((st = version(h.version_text, h.version)) != St::Ok) return st;
    // HAProxy 2.6 refuses trailing whitespace or a fourth word, even with the option.
    if (!is_eol(*p_)) return fail(InvalidReason::BadVersion, p_);
    return line_end();
}

St Reader::status_line(ResponseHead& h) {
    St st = skip_empty_lines();
    if (st != St::Ok) return st;
    if ((st = version(h.version_text, h.version)) != St::Ok) return st;
    if (is_eol(*p_)) return fail(InvalidReason::BadStatus, p_);
    if ((st = skip_ws()) != St::Ok) return st;
    // RFC 9110 15: three digits. HAProxy 2.6 forwards "20" or "2000" as they are; we refuse
    // them, and codes below 100 too, which have no class and no defined framing. 600..999 pass:
    // RFC 9110 15 asks clients to treat them as 5xx rather than to reject them.
    const char* code = p_;
    for (int i = 0; i < 3; ++i, ++p_) {
        if (p_ == end_) return St::More;
        if (!is_digit(*p_)) return fail(InvalidReason::BadStatus, p_);
    }
    if (p_ == end_) return St::More;
    if (!is_ws(*p_) && !is_eol(*p_)) return fail(InvalidReason::BadStatus, p_);
    h.status =
        static_cast<std::uint16_t>((code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0'));
    if (h.status < 100) return fail(InvalidReason::BadStatus, code);
    // "HTTP/1.1 200\r\n" without the SP before an empty reason: HAProxy 2.6 accepts it.
    if ((st = skip_ws()) != St::Ok) return st;
    const char* reason = p_;
    if ((st = to_line_end(InvalidReason::BadReason)) != St::Ok) return st;
    h.reason = trim_ows({reason, static_cast<std::size_t>(p_ - reason)});
    return line_end();
}

// Field lines up to and including the empty line.
St Reader::fields(HeaderList& out) {
    out.clear();
    const std::uint8_t name_class = loose_ ? kLooseName : kTchar;
    for (;;) {
        if (p_ == end_) return St::More;
        if (is_eol(*p_)) return line_end();
        // obs-fold (RFC 9112 5.2), or whitespace before the first field (2.2). HAProxy 2.6
        // unfolds the former into spaces, and takes the latter as part of a name under the
        // option. We refuse both in any mode: the RFC allows a 400, and our views cannot unfold.
        if (is_ws(*p_)) return fail(InvalidReason::ObsFold, p_);
        if (out.size() >= max_headers_) return fail(InvalidReason::TooManyHeaders, p_);

        const char* name = p_;
        while (p_ < end_ && is(*p_, name_class))
            ++p_;
        if (p_ == end_) return St::More;
        if (*p_ != ':') {
            // Under accept_invalid HAProxy 2.6 also takes SP, HTAB and NUL in names ("Host : a"
            // becomes a field named "Host "). We do not: "Transfer-Encoding : chunked" would then
            // be ignored here but honoured by a server that trims names, which is a smuggling
            // vector; NUL likewise cuts names short in C servers.
            if (is_ws(*p_)) return fail(InvalidReason::SpaceBeforeColon, p_);
            if (is_eol(*p_)) return fail(InvalidReason::MissingColon, p_);
            return fail(InvalidReason::BadHeaderName, p_);
        }
        if (p_ == name) return fail(InvalidReason::EmptyHeaderName, p_);
        const std::string_view field_name(name, static_cast<std::size_t>(p_ - name));
        ++p_;
        while (p_ < end_ && is_ws(*p_))
            ++p_;
        const char* value = p_;
        St st = to_line_end(InvalidReason::BadHeaderValue);
        if (st != St::Ok) return st;
        const char* value_end = p_;
        while (value_end > value && is_ws(value_end[-1]))
            --value_end;
        if ((st = line_end()) != St::Ok) return st;
        out.push({field_name, {value, static_cast<std::size_t>(value_end - value)}});
    }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

const Header* HeaderList::find(std::string_view name) const {
    for (std::size_t i = 0; i < count_; ++i)
        if (iequals(items_[i].name, name)) return &items_[i];
    return nullptr;
}

std::string_view to_string(InvalidReason reason) {
    switch (reason) {
        case InvalidReason::BareCr:
            return "bare CR";
        case InvalidReason::BadMethod:
            return "invalid method";
        case InvalidReason::MissingTarget:
            return "missing request target";
        case InvalidReason::BadTarget:
            return "invalid request target";
        case InvalidReason::BadVersion:
            return "invalid HTTP version";
        case InvalidReason::BadStatus:
            return "invalid status code";
        case InvalidReason::BadReason:
            return "invalid reason phrase";
        case InvalidReason::ObsFold:
            return "folded or indented header line";
        case InvalidReason::EmptyHeaderName:
            return "empty header name";
        case InvalidReason::BadHeaderName:
            return "invalid character in header name";
        case InvalidReason::SpaceBeforeColon:
            return "whitespace before colon in header";
        case InvalidReason::MissingColon:
            return "header line without colon";
        case InvalidReason::BadHeaderValue:
            return "invalid character in header value";
        case InvalidReason::TooManyHeaders:
            return "too many headers";
    }
    return "?";
}

HeadResult parse_request_head(std::span<const std::byte> in, std::size_t already_scanned,
                              RequestHead& out, const ParseOptions& opts) {
    if (already_scanned > 0 && !end_may_be_in(in, std::min(already_scanned, in.size()), false))
        return Incomplete{};
    Reader r(in, opts);
    St st = r.request_line(out);
    if (st == St::Ok) st = r.fields(out.headers);
    return r.result(st);
}

HeadResult parse_response_head(std::span<const std::byte> in, std::size_t already_scanned,
                               ResponseHead& out, const ParseOptions& opts) {
    if (already_scanned > 0 && !end_may_be_in(in, std::min(already_scanned, in.size()), false))
        return Incomplete{};
    Reader r(in, opts);
    St st = r.status_line(out);
    if (st == St::Ok) st = r.fields(out.headers);
    return r.result(st);
}

HeadResult parse_fields(std::span<const std::byte> in, std::size_t already_scanned, HeaderList& out,
                        const ParseOptions& opts) {
    if (already_scanned > 0 && !end_may_be_in(in, std::min(already_scanned, in.size()), true))
        return Incomplete{};
    Reader r(in, opts);
    return r.result(r.fields(out));
}

// ---- Body framing --------------------------------------------------------------------------

namespace {

// Calls fn(element) for each comma-separated element of a field value, OWS trimmed, empty
// elements included; stops early when fn returns false.
template <class Fn>
void for_each_element(std::string_view value, Fn&& fn) {
    for (;;) {
        const std::size_t comma = value.find(',');
        if (!fn(trim_ows(value.substr(0, comma))) || comma == value.npos) return;
        value.remove_prefix(comma + 1);
    }
}

// What the framing fields of one head say, before the method and status are considered.
struct FieldFacts {
    Framing f;
    bool has_cl = false;
    bool has_te = false;
    bool chunked_seen = false;
    bool chunked_last = false;   // the last coding listed is chunked
    bool coding_before = false;  // another coding precedes chunked
    FramingError error = FramingError::None;

    void set_error(FramingError e) {
        if (error == FramingError::None) error = e;
    }

    // RFC 9110 8.6: 1*DIGIT. A list of identical values ("5, 5"), or several fields with equal
    // values, is one length, as HAProxy 2.6 has it ("5" and "005" agree). "+5", "0x5", "5 5",
    // an empty element ("5,") or differing values are errors, as in HAProxy 2.6. So is a value
    // above 2^63-1: servers commonly parse lengths as signed 64-bit, and HAProxy 2.6 refuses
    // 2^63 too (though its check lets 2^64 through, wrapped to 0).
    void content_length(std::string_view value) {
        constexpr std::uint64_t kMax = std::numeric_limits<std::int64_t>::max();
        for_each_element(value, [&](std::string_view e) {
            std::uint64_t n = 0;
            bool ok = !e.empty();
            for (char c : e) {
                const unsigned d = static_cast<unsigned char>(c) - '0';
                if (d > 9 || n > (kMax - d) / 10) {
                    ok = false;
                    break;
                }
                n = n * 10 + d;
            }
            if (!ok) {
                set_error(FramingError::BadContentLength);
            } else if (has_cl && n != f.content_length) {
                set_error(FramingError::ContentLengthMismatch);
            }
            has_cl = true;
            f.content_length = n;
            return ok;
        });
    }

    // transfer-coding = token *( OWS ";" OWS transfer-parameter ), fields concatenated in order.
    void transfer_encoding(std::string_view value) {
        has_te = true;
        for_each_element(value, [&](std::string_view e) {
            std::size_t n = 0;
            while (n < e.size() && is(e[n], kTchar))
                ++n;
            const std::string_view coding = e.substr(0, n);
            const std::string_view rest = trim_ows(e.substr(n));
            const bool chunked = iequals(coding, "chunked");
            // RFC 9110 5.6.1 has recipients skip empty elements; HAProxy 2.6 refuses
            // ", chunked" but takes "chunked,". We refuse both: a server that compares the
            // value with "chunked" would frame the body differently. "identity" is no
            // coding since RFC 7230 and HAProxy 2.6 refuses it; chunked takes no parameters.
            if (coding.empty() || iequals(coding, "identity") ||
                (!rest.empty() && (rest.front() != ';' || chunked))) {
                set_error(FramingError::BadTransferEncoding);
                return false;
            }
            if (chunked && chunked_seen) {
                set_error(FramingError::ChunkedTwice);
                return false;
            }
            if (!chunked && !chunked_seen) coding_before = true;
            chunked_seen = chunked_seen || chunked;
            chunked_last = chunked;
            return true;
        });
    }

    void connection(std::string_view value) {
        for_each_element(value, [&](std::string_view e) {
            if (iequals(e, "close")) f.conn_close = true;
            if (iequals(e, "keep-alive")) f.conn_keep_alive = true;
            if (iequals(e, "upgrade")) f.conn_upgrade = true;
            return true;
        });
    }

    explicit FieldFacts(const HeaderList& headers) {
        for (const Header& h : headers.all()) {
            // Dispatch on length first: most fields are none of these five.
            switch (h.name.size()) {
                case 6:
                    if (iequals(h.name, "expect") && iequals(h.value, "100-continue"))
                        f.expect_continue = true;
                    break;
                case 7:
                    if (iequals(h.name, "upgrade") && !h.value.empty()) f.has_upgrade = true;
                    break;
                case 10:
                    if (iequals(h.name, "connection")) connection(h.value);
                    break;
                case 14:
                    if (iequals(h.name, "content-length")) content_length(h.value);
                    break;
                case 17:
                    if (iequals(h.name, "transfer-encoding")) transfer_encoding(h.value);
                    break;
                default:
                    break;
            }
        }
        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, which an intermediary must
        // remove; 6.1: the server must close after such a request. HAProxy 2.6 drops the
        // Content-Length and forwards chunked. TE in an HTTP/1.0 message is faulty framing
        // (6.1: process it, then close); HAProxy 2.6 forwards it as chunked.
        if (has_te && has_cl) f.drop_content_length = f.must_close = true;
    }

    // Nothing else is reported with an error: the message is refused and the connection closed.
    static Framing invalid(FramingError e) {
        Framing bad;
        bad.kind = BodyKind::Invalid;
        bad.error = e;
        bad.must_close = true;
        return bad;
    }
};

}  // namespace

std::string_view to_string(FramingError error) {
    switch (error) {
        case FramingError::None:
            return "none";
        case FramingError::BadContentLength:
            return "invalid Content-Length";
        case FramingError::ContentLengthMismatch:
            return "conflicting Content-Length values";
        case FramingError::BadTransferEncoding:
            return "invalid Transfer-Encoding";
        case FramingError::ChunkedTwice:
            return "chunked applied twice";
        case FramingError::ChunkedNotFinal:
            return "chunked is not the final transfer coding";
        case FramingError::UnsupportedTransferCoding:
            return "unsupported transfer coding";
    }
    return "?";
}

Framing analyze_request_framing(const RequestHead& head) {
    FieldFacts facts(head.headers);
    if (facts.error != FramingError::None) return facts.invalid(facts.error);
    Framing& f = facts.f;
    if (facts.has_te) {
        // RFC 9112 6.3: a request whose final coding is not chunked has no knowable length.
        if (!facts.chunked_last) return facts.invalid(FramingError::ChunkedNotFinal);
        // "gzip, chunked" is valid per the RFC, but HAProxy 2.6 answers 422 and a server
        // comparing the value with "chunked" would ignore it: only chunked alone goes through.
        if (facts.coding_before) return facts.invalid(FramingError::UnsupportedTransferCoding);
        if (head.version != Version::Http11) f.must_close = true;
        f.kind = BodyKind::Chunked;
    } else if (facts.has_cl) {
        f.kind = BodyKind::ContentLength;
    } else {
        f.kind = BodyKind::None;
    }
    if (f.kind != BodyKind::ContentLength) f.content_length = 0;
    // RFC 9110 10.1.1: an HTTP/1.0 client cannot wait for a 100, so its Expect is ignored.
    if (head.version != Version::Http11) f.expect_continue = false;
    return f;
}

Framing analyze_response_framing(const ResponseHead& head, std::string_view request_method) {
    FieldFacts facts(head.headers);
    if (facts.error != FramingError::None) return facts.invalid(facts.error);
    Framing& f = facts.f;
    const unsigned status = head.status;
    if (status < 200 || status == 204 || status == 304 || request_method == "HEAD" ||
        (request_method == "CONNECT" && status < 300)) {
        // RFC 9112 6.3 items 1 and 2. After a 101, or a 2xx to CONNECT, the connection is a
        // tunnel; RFC 9110 9.3.6 has a client ignore CL/TE in the latter. 1xx and 204 must
        // not carry a Content-Length (RFC 9110 8.6), HAProxy 2.6 removes it from a 204. A 304
        // or a HEAD response keeps it: it describes the representation.
        if (status == 101 || (request_method == "CONNECT" && status >= 200 && status < 300))
            f.kind = BodyKind::Tunnel;
        else
            f.kind = BodyKind::None;
        if (facts.has_cl && (status < 200 || status == 204)) f.drop_content_length = true;
    } else if (facts.has_te) {
        // HAProxy 2.6 answers 502 to any response coding but chunked alone. We follow RFC 9112
        // 6.3 instead: chunked last means chunked, otherwise the body runs to the close.
        if (facts.chunked_last) {
            f.kind = BodyKind::Chunked;
            if (head.version != Version::Http11) f.must_close = true;
        } else {
            f.kind = BodyKind::UntilClose;
            f.must_close = true;
        }
    } else if (facts.has_cl) {
        f.kind = BodyKind::ContentLength;
    } else {
        f.kind = BodyKind::UntilClose;
        f.must_close = true;
    }
    if (f.kind != BodyKind::ContentLength) f.content_length = 0;
    return f;
}

}  // namespace sluice::http
