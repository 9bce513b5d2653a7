// The chunked body decoder of h1_chunked.hpp: a byte-at-a-time state machine over the framing
// (a few bytes per chunk) that hands payload runs back as spans of the input without touching
// them, so its cost is per chunk, not per byte of payload.
//
// The rules were checked against Debian's haproxy 2.6.12 fed raw chunked requests; where we
// differ on purpose, the rule says "HAProxy 2.6 ..." and why.
#include "sluice/http/h1_chunked.hpp"

#include <algorithm>
#include <limits>
#include <variant>

namespace sluice::http {
namespace {

constexpr std::uint64_t kMaxChunkSize = (std::uint64_t{1} << 52) - 1;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ), tokens or
// quoted strings. HAProxy 2.6 skips whatever precedes the line end, NUL and other controls
// included. We skip the grammar too (no one acts on extensions) but refuse controls other than
// HTAB, as in field values, unless accept_invalid: a server that forwards or logs extensions
// should not be handed what we would refuse in a header.
bool extension_byte_ok(char c, bool loose) {
    const auto u = static_cast<unsigned char>(c);
    return loose || u == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

std::string_view to_string(ChunkError error) {
    switch (error) {
        case ChunkError::BadSize:
            return "invalid chunk size";
        case ChunkError::SizeOverflow:
            return "chunk size too large";
        case ChunkError::BadExtension:
            return "invalid chunk extension";
        case ChunkError::MissingCrlf:
            return "missing CRLF after chunk data";
        case ChunkError::BareCr:
            return "bare CR in chunk framing";
        case ChunkError::BadTrailers:
            return "invalid trailer section";
    }
    return "?";
}

ChunkStep decode_chunked(ChunkedDecoder& d, std::span<const std::byte> in,
                         const ParseOptions& opts) {
    const char* const b = reinterpret_cast<const char*>(in.data());
    const char* const e = b + in.size();
    const char* p = b;
    const auto fail = [&](ChunkError err, const char* at) {
        d.state = ChunkState::Failed;
        d.error = err;
        ChunkStep s;
        s.event = ChunkEvent::Invalid;
        s.error = err;
        s.error_offset = static_cast<std::size_t>(at - b);
        return s;
    };
    // Both line ends of a size line lead here: a zero size starts the trailer section.
    const auto size_line_done = [&] {
        d.state = d.remaining == 0 ? ChunkState::Trailers : ChunkState::Data;
        d.trailer_scanned = 0;
    };

    while (p < e || d.state == ChunkState::Done || d.state == ChunkState::Failed) {
        switch (d.state) {
            case ChunkState::SizeStart: {
                // HAProxy 2.6 refuses leading whitespace, a sign ("+5") or "0x"; so do we.
                const int v = hex_value(*p);
                if (v < 0) return fail(ChunkError::BadSize, p);
                d.remaining = static_cast<std::uint64_t>(v);
                d.state = ChunkState::SizeDigits;
                ++p;
                break;
            }
            case ChunkState::SizeDigits: {
                // RFC 9112 7.1 asks recipients to guard against overflow. HAProxy 2.6 refuses
                // sizes of 2^52 and above; no chunk is that big (4 PiB), and a smaller bound
                // spares servers that count in doubles or signed integers, so we do the same.
                // Leading zeros are fine ("0005"), as in HAProxy 2.6.
                for (int v; p < e && (v = hex_value(*p)) >= 0; ++p) {
                    if (d.remaining > (kMaxChunkSize - static_cast<std::uint64_t>(v)) / 16)
                        return fail(ChunkError::SizeOverflow, p);
                    d.remaining = d.remaining * 16 + static_cast<std::uint64_t>(v);
                }
                if (p == e) break;
                d.state = ChunkState::SizeEnd;
                break;
            }
            case ChunkState::SizeEnd: {
                // BWS after the size: the grammar allows it only before ';', but HAProxy 2.6
                // also accepts "5 \r\n", which is unambiguous; so do we.
                const char c = *p++;
                if (c == ' ' || c == '\t') break;
                if (c == ';') {
                    d.state = ChunkState::Extension;
                } else if (c == '\r') {
                    d.state = ChunkState::SizeLf;
                } else if (c == '\n' && !opts.strict_crlf) {
                    size_line_done();  // a bare LF ends the line, as in heads
                } else if (c == '\n') {
                    return fail(ChunkError::MissingCrlf, p - 1);
                } else {
                    return fail(ChunkError::BadSize, p - 1);
                }
                break;
            }
            case ChunkState::Extension: {
                for (; p < e && *p != '\r' && *p != '\n'; ++p)
                    if (!extension_byte_ok(*p, opts.accept_invalid))
                        return fail(ChunkError::BadExtension, p);
                if (p == e) break;
                if (*p == '\n' && opts.strict_crlf) return fail(ChunkError::MissingCrlf, p);
                if (*p++ == '\r')
                    d.state = ChunkState::SizeLf;
                else
                    size_line_done();
                break;
            }
            // A failing CR may have come in an earlier call: point at the byte that is not LF.
            case ChunkState::SizeLf:
                if (*p != '\n') return fail(ChunkError::BareCr, p);
                ++p;
                size_line_done();
                break;
            case ChunkState::Data: {
                const std::size_t n = static_cast<std::size_t>(
                    std::min<std::uint64_t>(d.remaining, static_cast<std::uint64_t>(e - p)));
                d.remaining -= n;
                if (d.remaining == 0) d.state = ChunkState::DataCr;
                ChunkStep s;
                s.event = ChunkEvent::Payload;
                s.consumed = static_cast<std::size_t>(p - b) + n;
                s.data = {reinterpret_cast<const std::byte*>(p), n};
                return s;
            }
            case ChunkState::DataCr:
                // HAProxy 2.6 accepts a bare LF after the payload too.
                if (*p == '\r') {
                    d.state = ChunkState::DataLf;
                } else if (*p == '\n' && !opts.strict_crlf) {
                    d.state = ChunkState::SizeStart;
                } else {
                    return fail(ChunkError::MissingCrlf, p);
                }
                ++p;
                break;
            case ChunkState::DataLf:
                if (*p != '\n') return fail(ChunkError::BareCr, p);
                ++p;
                d.state = ChunkState::SizeStart;
                break;
            case ChunkState::Trailers: {
                // HAProxy 2.6 is laxer here than in heads (it takes "X T: v" and NUL in
                // values); we hold trailers to the header rules, as RFC 9112 7.1.2 does. The
                // scratch list only serves validation (and the field count limit).
                HeaderList scratch;
                const std::span<const std::byte> rest{reinterpret_cast<const std::byte*>(p),
                                                      static_cast<std::size_t>(e - p)};
                const HeadResult r = parse_fields(rest, d.trailer_scanned, scratch, opts);
                if (const auto* done = std::get_if<Done>(&r)) {
                    // The last line is the empty one: CRLF, or LF alone after the line before.
                    const std::size_t n = done->consumed;
                    const std::size_t last = n >= 2 && p[n - 2] == '\r' ? 2 : 1;
                    d.state = ChunkState::Done;
                    ChunkStep s;
                    s.event = ChunkEvent::Done;
                    s.consumed = static_cast<std::size_t>(p - b) + n;
                    s.data = rest.first(n - last);
                    return s;
                }
                if (const auto* bad = std::get_if<Invalid>(&r))
                    return fail(ChunkError::BadTrailers, p + bad->offset);
                d.trailer_scanned = rest.size();
                ChunkStep s;
                s.consumed = static_cast<std::size_t>(p - b);
                return s;
            }
            case ChunkState::Done: {
                ChunkStep s;
                s.event = ChunkEvent::Done;
                return s;
            }
            case ChunkState::Failed:
                return fail(d.error, b);
        }
    }
    ChunkStep s;
    s.consumed = static_cast<std::size_t>(p - b);
    return s;
}

BodyAtHand body_at_hand(std::span<const std::byte> in, const Framing& framing,
                        const ParseOptions& opts, std::string* dechunked) {
    BodyAtHand at;
    switch (framing.kind) {
        case BodyKind::None:
            at.complete = true;
            return at;
        case BodyKind::ContentLength:
            at.payload = std::min<std::uint64_t>(in.size(), framing.content_length);
            at.complete = in.size() >= framing.content_length;
            if (at.complete) at.length = static_cast<std::size_t>(framing.content_length);
            return at;
        case BodyKind::Chunked: {
            ChunkedDecoder dec{};
            std::size_t used = 0;
            while (used < in.size()) {
                const ChunkStep st = decode_chunked(dec, in.subspan(used), opts);
                if (st.event == ChunkEvent::Invalid) {
                    at.invalid = true;
                    return at;
                }
                used += st.consumed;
                if (st.event == ChunkEvent::Payload) {
                    at.payload += st.data.size();
                    if (dechunked)
                        dechunked->append(reinterpret_cast<const char*>(st.data.data()),
                                          st.data.size());
                }
                if (st.event == ChunkEvent::Done) {
                    at.complete = true;
                    at.length = used;
                    return at;
                }
                if (st.event == ChunkEvent::NeedMore && st.consumed == 0) break;
            }
            return at;
        }
        case BodyKind::Invalid:
            at.invalid = true;
            return at;
        case BodyKind::UntilClose:
        case BodyKind::Tunnel:
            at.payload = in.size();
            return at;
    }
    return at;
}

}  // namespace sluice::http
