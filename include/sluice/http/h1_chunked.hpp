// Chunked message bodies (RFC 9112 section 7.1), decoded in place: a small state machine that
// reads the chunk framing from the caller's input, tells where the payload bytes lie in it, and
// never copies them. It owns nothing and keeps only a few integers between calls, so the body
// may arrive in pieces of any size. Trailer fields are checked with h1_parse's field rules and
// handed back as one span; the caller forwards or parses them (parse_fields). Deciding that a
// body is chunked is analyze_*_framing's job, re-encoding chunks for the other side is h1_emit's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sluice/http/h1_parse.hpp"

namespace sluice::http {

enum class ChunkState : std::uint8_t {
    SizeStart,   // at a chunk-size line: the zero state, where a body starts
    SizeDigits,  // inside the hex digits
    SizeEnd,     // after them: BWS, then ';' or the line end
    Extension,   // skipping a chunk extension up to the line end
    SizeLf,      // a CR ended the size line; its LF is next
    Data,        // ChunkedDecoder::remaining payload bytes follow
    DataCr,      // the line end after the payload
    DataLf,
    Trailers,  // after the last (zero-size) chunk: the trailer section, up to an empty line
    Done,
    Failed,
};

enum class ChunkError : std::uint8_t {
    BadSize,       // a chunk-size line not starting with a hex digit, or junk after the digits
    SizeOverflow,  // a chunk size of 2^52 or more (HAProxy 2.6's bound)
    BadExtension,  // a control character in a chunk extension
    MissingCrlf,   // payload not followed by a line end
    BareCr,        // CR not followed by LF
    BadTrailers,   // a trailer field line that h1_parse refuses
};
std::string_view to_string(ChunkError error);

// Zero-initialise before the first call (`ChunkedDecoder dec{};`) and keep it for the whole body;
// a fresh one for the next message.
struct ChunkedDecoder {
    std::uint64_t remaining;      // SizeDigits: the size so far; Data: payload bytes still due
    std::size_t trailer_scanned;  // Trailers: bytes of the section already searched for its end
    ChunkState state;
    ChunkError error;  // Failed: why
};

enum class ChunkEvent : std::uint8_t {
    NeedMore,  // all of `consumed` was framing; call again with more input
    Payload,   // `data` is payload to forward
    Done,      // the body has ended; `data` holds the trailer field lines, possibly none
    Invalid,   // `error` at `error_offset`; the decoder stays failed
};

struct ChunkStep {
    ChunkEvent event = ChunkEvent::NeedMore;
    // Bytes at the start of `in` this call has used up: the caller drops them once it is done
    // with `data`, which always lies inside them. On Done, bytes after `consumed` are the next
    // message's.
    std::size_t consumed = 0;
    std::span<const std::byte> data;  // Payload: payload bytes; Done: trailer lines (no final CRLF)
    ChunkError error = ChunkError::BadSize;  // Invalid
    std::size_t error_offset = 0;            // Invalid: offset in `in` of the offending byte
};

// Decodes from the start of `in`, which continues where the previous call's `consumed` ended.
// Returns at the first payload run (one chunk or the part of it present), so a caller loops
// until NeedMore or Done. In the Trailers state the trailer section is kept unconsumed until it
// is complete: pass those bytes again, with more after them, on the next call (its end is looked
// for only in the new bytes). `opts` applies to trailer fields as to header fields, and
// accept_invalid also lets chunk extensions hold any byte but CR and LF.
ChunkStep decode_chunked(ChunkedDecoder& dec, std::span<const std::byte> in,
                         const ParseOptions& opts = {});

// How much of a message body has arrived: `in` holds the bytes after the head, as received.
// Bytes past the body's end (a pipelined request) are not counted. A chunked body is decoded
// from its start at each call, so callers ask when they need the answer, not per read; its
// payload is appended to `dechunked` when one is given (the body fetches read it so; another
// body's payload is `in.first(payload)` itself).
struct BodyAtHand {
    bool complete = false;      // the body ends inside `in` (or there is none)
    bool invalid = false;       // bad chunk framing: more bytes would change nothing
    std::size_t length = 0;     // complete: the bytes of `in` it takes, chunk framing included
    std::uint64_t payload = 0;  // payload bytes in `in` (chunk framing left out)
};
BodyAtHand body_at_hand(std::span<const std::byte> in, const Framing& framing,
                        const ParseOptions& opts = {}, std::string* dechunked = nullptr);

}  // namespace sluice::http
