// The chunked body decoder of include/sluice/http/h1_chunked.hpp: payload handed back as spans
// of the input, sizes, extensions, line ends, trailers, the last chunk, every error, and the
// same outcome whatever pieces the body arrives in.
//
// Where a case says "HAProxy 2.6 ...", it pins what Debian's haproxy 2.6.12 did with the same
// chunked request body (400 versus forwarded).
#include "sluice/http/h1_chunked.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {
namespace {

using namespace std::string_view_literals;

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// What a caller sees after feeding a whole body, in pieces of the given sizes (the last size
// repeats), keeping unconsumed bytes as a connection buffer would.
struct Outcome {
    ChunkEvent last = ChunkEvent::NeedMore;
    std::string payload;
    std::string trailers;
    std::size_t consumed = 0;        // in total
    std::size_t payload_events = 0;  // depends on the pieces, so not compared
    ChunkError error = ChunkError::BadSize;
    std::size_t error_offset = 0;  // from the start of the body

    bool operator==(const Outcome& o) const {
        return last == o.last && payload == o.payload && trailers == o.trailers &&
               consumed == o.consumed && error == o.error && error_offset == o.error_offset;
    }
    friend void PrintTo(const Outcome& o, std::ostream* os) {
        *os << "{event " << static_cast<int>(o.last) << ", payload \"" << o.payload
            << "\", trailers \"" << o.trailers << "\", consumed " << o.consumed << ", error "
            << to_string(o.error) << " @" << o.error_offset << "}";
    }
};

Outcome decode(std::string_view body, std::vector<std::size_t> pieces = {},
               ParseOptions opts = {}) {
    if (pieces.empty()) pieces = {body.size()};
    ChunkedDecoder dec{};
    Outcome out;
    std::string pending;
    std::size_t fed = 0;
    for (std::size_t i = 0;; ++i) {
        const std::size_t n = std::min(pieces[std::min(i, pieces.size() - 1)], body.size() - fed);
        pending.append(body.substr(fed, n));
        fed += n;
        for (;;) {
            const std::span<const std::byte> in = bytes(pending);
            const ChunkStep s = decode_chunked(dec, in, opts);
            EXPECT_LE(s.consumed, in.size());
            if (!s.data.empty()) {
                EXPECT_GE(s.data.data(), in.data());  // a view of the input, not a copy
                EXPECT_LE(s.data.data() + s.data.size(), in.data() + s.consumed);
            }
            out.last = s.event;
            if (s.event == ChunkEvent::Invalid) {
                out.error = s.error;
                out.error_offset = out.consumed + s.error_offset;
                out.consumed = 0;  // how much came before the failing call depends on the pieces
                return out;
            }
            if (s.event == ChunkEvent::Payload) {
                EXPECT_FALSE(s.data.empty());
                out.payload += text(s.data);
                ++out.payload_events;
            }
            if (s.event == ChunkEvent::Done) out.trailers = text(s.data);
            out.consumed += s.consumed;
            pending.erase(0, s.consumed);
            if (s.event == ChunkEvent::Done) return out;
            if (s.event == ChunkEvent::NeedMore) break;
        }
        if (fed == body.size() || (n == 0 && i + 1 >= pieces.size())) break;
    }
    return out;
}

void expect_body(std::string_view body, std::string_view payload, std::string_view trailers = "",
                 ParseOptions opts = {}) {
    const Outcome o = decode(body, {}, opts);
    EXPECT_EQ(o.last, ChunkEvent::Done) << body;
    EXPECT_EQ(o.payload, payload);
    EXPECT_EQ(o.trailers, trailers);
    EXPECT_EQ(o.consumed, body.size());
}

void expect_error(std::string_view body, ChunkError error, std::size_t offset,
                  ParseOptions opts = {}) {
    const Outcome o = decode(body, {}, opts);
    ASSERT_EQ(o.last, ChunkEvent::Invalid) << body;
    EXPECT_EQ(to_string(o.error), to_string(error)) << body;
    EXPECT_EQ(o.error_offset, offset) << body;
}

TEST(ChunkedDecode, SingleChunk) {
    expect_body("5\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST(ChunkedDecode, OnePayloadEventPerChunk) {
    const Outcome o = decode("5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n");
    EXPECT_EQ(o.payload, "hello world!");
    EXPECT_EQ(o.payload_events, 3u);
}

TEST(ChunkedDecode, PayloadIsASpanOfTheInput) {
    constexpr std::string_view body = "3\r\nabc\r\n0\r\n\r\n";
    ChunkedDecoder dec{};
    const ChunkStep s = decode_chunked(dec, bytes(body));
    ASSERT_EQ(s.event, ChunkEvent::Payload);
    EXPECT_EQ(reinterpret_cast<const char*>(s.data.data()), body.data() + 3);
    EXPECT_EQ(s.data.size(), 3u);
    EXPECT_EQ(s.consumed, 6u);
}

TEST(ChunkedDecode, ZeroInitialisedDecoderStartsAtASizeLine) {
    ChunkedDecoder dec{};
    EXPECT_EQ(dec.state, ChunkState::SizeStart);
}

TEST(ChunkedDecode, HexDigitsInBothCasesAndLeadingZeros) {
    expect_body("A\r\n0123456789\r\nb\r\n0123456789a\r\n0005\r\nhello\r\n000\r\n\r\n",
                "01234567890123456789ahello");
}

TEST(ChunkedDecode, LargeChunkArrivesInPieces) {
    const std::string payload(70000, 'x');
    const std::string body = "11170\r\n" + payload + "\r\n0\r\n\r\n";
    const Outcome o = decode(body, {1000});
    EXPECT_EQ(o.last, ChunkEvent::Done);
    EXPECT_EQ(o.payload, payload);
    EXPECT_GE(o.payload_events, 70u);
}

TEST(ChunkedDecode, SkipsExtensions) {
    expect_body("5;foo=bar\r\nhello\r\n0;last\r\n\r\n", "hello");
    expect_body("5 ; a = b\r\nhello\r\n0\r\n\r\n", "hello");
    expect_body("5;q=\"a b;c\"\r\nhello\r\n0\r\n\r\n", "hello");
    expect_body("5;\r\nhello\r\n0\r\n\r\n", "hello");
    expect_body("5;\xc3\xa9\r\nhello\r\n0\r\n\r\n", "hello");
}

// HAProxy 2.6 forwards extensions holding controls, NUL included; we refuse them unless
// accept_invalid. A bare CR it refuses too.
TEST(ChunkedDecode, RefusesControlsInExtensionsUnlessAcceptInvalid) {
    expect_error("5;a\x01z\r\nhello\r\n0\r\n\r\n", ChunkError::BadExtension, 3);
    expect_error("5;a\0z\r\nhello\r\n0\r\n\r\n"sv, ChunkError::BadExtension, 3);
    expect_body("5;a\x01z\r\nhello\r\n0\r\n\r\n", "hello", "", {.accept_invalid = true});
    expect_body("5;a\0z\r\nhello\r\n0\r\n\r\n"sv, "hello", "", {.accept_invalid = true});
    expect_error("5;a\rb\r\nhello\r\n0\r\n\r\n", ChunkError::BareCr, 4, {.accept_invalid = true});
}

// HAProxy 2.6 accepts whitespace after the size, and bare LF line ends in the framing.
TEST(ChunkedDecode, WhitespaceAfterSizeAndBareLf) {
    expect_body("5 \t\r\nhello\r\n0 \r\n\r\n", "hello");
    expect_body("5\nhello\n0\n\n", "hello");
    expect_body("5\r\nhello\n0\r\n\n", "hello");
}

// A proxy forwarding chunk framing as received asks for CRLF everywhere (strict_crlf).
TEST(ChunkedReject, BareLfUnderStrictCrlf) {
    const ParseOptions strict{.strict_crlf = true};
    expect_error("5\nhello\r\n0\r\n\r\n", ChunkError::MissingCrlf, 1, strict);
    expect_error("5;x\nhello\r\n0\r\n\r\n", ChunkError::MissingCrlf, 3, strict);
    expect_error("5\r\nhello\n0\r\n\r\n", ChunkError::MissingCrlf, 8, strict);
    expect_body("5 \r\nhello\r\n0;e\r\n\r\n", "hello", "", strict);
}

TEST(ChunkedDecode, TrailersComeBackAsOneSpan) {
    const Outcome o = decode("5\r\nhello\r\n0\r\nX-T: v\r\nY: w\n\r\n");
    EXPECT_EQ(o.last, ChunkEvent::Done);
    EXPECT_EQ(o.trailers, "X-T: v\r\nY: w\n");
    HeaderList fields;
    const std::string block = o.trailers + "\r\n";
    EXPECT_EQ(parse_fields(bytes(block), 0, fields), HeadResult(Done{block.size()}));
    EXPECT_EQ(fields.find("y")->value, "w");
}

TEST(ChunkedDecode, TrailersStayUnconsumedUntilComplete) {
    ChunkedDecoder dec{};
    const std::string part = "0\r\nX-T: v\r\n";
    ChunkStep s = decode_chunked(dec, bytes(part));
    EXPECT_EQ(s.event, ChunkEvent::NeedMore);
    EXPECT_EQ(s.consumed, 3u);
    EXPECT_EQ(dec.state, ChunkState::Trailers);
    const std::string rest = part.substr(3) + "\r\nNEXT";
    s = decode_chunked(dec, bytes(rest));
    EXPECT_EQ(s.event, ChunkEvent::Done);
    EXPECT_EQ(s.consumed, rest.size() - 4);  // "NEXT" is the next message's
    EXPECT_EQ(text(s.data), "X-T: v\r\n");
}

TEST(ChunkedDecode, DoneAndInvalidAreFinal) {
    ChunkedDecoder dec{};
    EXPECT_EQ(decode_chunked(dec, bytes("0\r\n\r\n")).event, ChunkEvent::Done);
    EXPECT_EQ(decode_chunked(dec, bytes("")).event, ChunkEvent::Done);
    EXPECT_EQ(decode_chunked(dec, bytes("5\r\n")).consumed, 0u);
    ChunkedDecoder bad{};
    EXPECT_EQ(decode_chunked(bad, bytes("x")).event, ChunkEvent::Invalid);
    EXPECT_EQ(decode_chunked(bad, bytes("5\r\nhello")).event, ChunkEvent::Invalid);
    EXPECT_EQ(bad.state, ChunkState::Failed);
}

// HAProxy 2.6 answers 400 to every one of these.
TEST(ChunkedReject, MalformedSizes) {
    expect_error(" 5\r\nhello\r\n0\r\n\r\n", ChunkError::BadSize, 0);
    expect_error("+5\r\nhello\r\n0\r\n\r\n", ChunkError::BadSize, 0);
    expect_error("0x5\r\nhello\r\n0\r\n\r\n", ChunkError::BadSize, 1);
    expect_error("\r\nhello\r\n0\r\n\r\n", ChunkError::BadSize, 0);
    expect_error("g\r\nhello\r\n0\r\n\r\n", ChunkError::BadSize, 0);
    expect_error("5 5\r\nhello\r\n0\r\n\r\n", ChunkError::BadSize, 2);
    expect_error("5\r\nhello\r\n-0\r\n\r\n", ChunkError::BadSize, 10);
}

// HAProxy 2.6 refuses 2^52 and above, leading zeros not counting; so do we.
TEST(ChunkedReject, SizeOverflow) {
    expect_error("10000000000000\r\n", ChunkError::SizeOverflow, 13);
    expect_error("fffffffffffffffffffff\r\n", ChunkError::SizeOverflow, 13);
    const Outcome o = decode("0000fffffffffffff\r\nabc");
    EXPECT_EQ(o.last, ChunkEvent::NeedMore);
    EXPECT_EQ(o.payload, "abc");
}

TEST(ChunkedReject, BrokenLineEnds) {
    expect_error("5\rhello\r\n0\r\n\r\n", ChunkError::BareCr, 2);
    expect_error("5\r\nhelloX\r\n0\r\n\r\n", ChunkError::MissingCrlf, 8);
    expect_error("5\r\nhello\r0\r\n\r\n", ChunkError::BareCr, 9);
    expect_error("0\r\n\r\r\n", ChunkError::BadTrailers, 3);
}

// Trailers follow the header rules (RFC 9112 7.1.2). HAProxy 2.6 is laxer there than in
// heads: it forwards "X T: v", folded lines and NUL; it refuses a line without a colon.
TEST(ChunkedReject, TrailersFollowTheHeaderRules) {
    expect_error("0\r\nX T: v\r\n\r\n", ChunkError::BadTrailers, 4);
    expect_error("0\r\nX: v\r\n w\r\n\r\n", ChunkError::BadTrailers, 9);
    expect_error("0\r\nX: a\0\r\n\r\n"sv, ChunkError::BadTrailers, 7);
    expect_error("0\r\nXT\r\n\r\n", ChunkError::BadTrailers, 5);
    expect_body("0\r\nX(: v\r\n\r\n", "", "X(: v\r\n", {.accept_invalid = true});
    std::string many = "0\r\n";
    for (int i = 0; i < 101; ++i)
        many += "T: v\r\n";
    expect_error(many + "\r\n", ChunkError::BadTrailers, many.size() - 6);
}

// The same outcome, including error offsets, whatever pieces the body arrives in.
TEST(ChunkedSplit, EveryTwoPieceSplitGivesTheOneShotOutcome) {
    const std::string_view bodies[] = {
        "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0;x\r\nT: 1\r\nU: 2\r\n\r\nNEXT",
        "3\nabc\n0\n\n",
        "5\r\nhello\r\n0\r\nBad Trailer: x\r\n\r\n",
        "5\r\nhelloX",
        "fffffffffffffffff\r\n",
    };
    for (std::string_view body : bodies) {
        const Outcome whole = decode(body);
        for (std::size_t k = 0; k <= body.size(); ++k)
            EXPECT_EQ(decode(body, {k, body.size()}), whole) << body << " split at " << k;
        EXPECT_EQ(decode(body, {1}), whole) << body << " byte by byte";
        EXPECT_EQ(decode(body, {3, 1, 7}), whole) << body << " in uneven pieces";
    }
}

}  // namespace
}  // namespace sluice::http

namespace sluice::http {
namespace {

// body_at_hand: what wait-for-body and option http-buffer-request ask of a partial body.
Framing framing_of(BodyKind kind, std::uint64_t content_length = 0) {
    Framing f;
    f.kind = kind;
    f.content_length = content_length;
    return f;
}

TEST(BodyAtHand, ContentLengthCountsUpToTheLengthOnly) {
    const Framing cl10 = framing_of(BodyKind::ContentLength, 10);
    BodyAtHand at = body_at_hand(bytes("01234"), cl10);
    EXPECT_FALSE(at.complete);
    EXPECT_EQ(at.payload, 5u);
    at = body_at_hand(bytes("0123456789GET / HTTP/1.1\r\n"), cl10);  // a pipelined request
    EXPECT_TRUE(at.complete);
    EXPECT_EQ(at.payload, 10u);
    EXPECT_EQ(at.length, 10u);
    EXPECT_TRUE(body_at_hand({}, framing_of(BodyKind::ContentLength, 0)).complete);
    EXPECT_TRUE(body_at_hand(bytes("GET"), framing_of(BodyKind::None)).complete);
}

TEST(BodyAtHand, ChunkedCountsPayloadWithoutFraming) {
    const Framing chunked = framing_of(BodyKind::Chunked);
    BodyAtHand at = body_at_hand(bytes("2\r\nab\r\n3\r\ncd"), chunked);
    EXPECT_FALSE(at.complete);
    EXPECT_EQ(at.payload, 4u);
    const std::string_view whole = "2\r\nab\r\n3\r\ncde\r\n0\r\nT: 1\r\n\r\n";
    at = body_at_hand(bytes(std::string(whole) + "NEXT"), chunked);
    EXPECT_TRUE(at.complete);
    EXPECT_EQ(at.payload, 5u);
    EXPECT_EQ(at.length, whole.size());
    // Trailers not yet ended: not complete, the payload is all there.
    at = body_at_hand(bytes("1\r\na\r\n0\r\nT: 1\r\n"), chunked);
    EXPECT_FALSE(at.complete);
    EXPECT_EQ(at.payload, 1u);
    at = body_at_hand(bytes("zz\r\n"), chunked);
    EXPECT_TRUE(at.invalid);
    EXPECT_FALSE(at.complete);
    EXPECT_TRUE(body_at_hand(bytes("1\na\n0\n\n"), chunked, {.strict_crlf = true}).invalid);
}

TEST(BodyAtHand, ChunkedPayloadForTheBodyFetches) {
    const Framing chunked = framing_of(BodyKind::Chunked);
    std::string out;
    BodyAtHand at = body_at_hand(bytes("2\r\nab\r\n3\r\ncd"), chunked, {}, &out);
    EXPECT_EQ(out, "abcd");  // the chunk under way too, as far as it came
    EXPECT_EQ(at.payload, out.size());
    out.clear();
    at =
        body_at_hand(bytes("2\r\nab\r\n1\r\nc\r\n0\r\nT: 1\r\n\r\n2\r\nzz\r\n"), chunked, {}, &out);
    EXPECT_TRUE(at.complete);
    EXPECT_EQ(out, "abc");  // neither the trailers nor what follows the body
    out.clear();
    at = body_at_hand(bytes("1\r\na\r\nzz\r\n"), chunked, {}, &out);
    EXPECT_TRUE(at.invalid);
    EXPECT_EQ(out, "a");  // up to the bad chunk
    out = "kept";
    (void)body_at_hand(bytes("abc"), framing_of(BodyKind::ContentLength, 3), {}, &out);
    EXPECT_EQ(out, "kept");  // only a chunked payload needs copying out
}

}  // namespace
}  // namespace sluice::http
