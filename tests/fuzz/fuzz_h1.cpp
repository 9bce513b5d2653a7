// Fuzzes the HTTP/1 head parsers, the framing analysis and the chunked decoder
// (http/h1_parse.cpp, http/h1_chunked.cpp). The first input byte picks the options and seeds the
// split points; the rest is the message. Checked for every input:
//  - consumed <= size, every view inside the head, offsets inside the input;
//  - a head that parses is parsed the same from exactly its own bytes, and every proper prefix
//    of it is Incomplete (never Invalid);
//  - a resumed parse (first on a prefix, then on all of it with already_scanned) gives the
//    one-shot result whenever it gives an answer, and always when the one-shot is Done;
//  - the chunked decoder fed in random pieces gives the one-shot payload, trailers and verdict.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "sluice/http/h1_chunked.hpp"
#include "sluice/http/h1_parse.hpp"

namespace {

using namespace sluice::http;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

// A small deterministic generator for split points and piece sizes.
struct Rng {
    std::uint64_t s;
    std::size_t below(std::size_t n) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        return n == 0 ? 0 : static_cast<std::size_t>((s >> 33) % n);
    }
};

bool inside(std::string_view v, std::span<const std::byte> in, std::size_t limit) {
    const char* b = reinterpret_cast<const char*>(in.data());
    return v.empty() || (v.data() >= b && v.data() + v.size() <= b + limit);
}

void check_fields(const HeaderList& h, std::span<const std::byte> in, std::size_t limit) {
    check(h.size() <= kMaxHeaders);
    for (const Header& f : h.all()) {
        check(!f.name.empty());
        check(inside(f.name, in, limit) && inside(f.value, in, limit));
    }
}

void check_views(const RequestHead& h, std::span<const std::byte> in, std::size_t n) {
    check(!h.method.empty() && !h.target.empty());
    check(inside(h.method, in, n) && inside(h.target, in, n) && inside(h.version_text, in, n));
    check_fields(h.headers, in, n);
    const Framing f = analyze_request_framing(h);
    check(f.kind != BodyKind::UntilClose && f.kind != BodyKind::Tunnel);
    check((f.kind == BodyKind::Invalid) == (f.error != FramingError::None));
}

void check_views(const ResponseHead& h, std::span<const std::byte> in, std::size_t n) {
    check(h.status >= 100 && h.status <= 999);
    check(inside(h.version_text, in, n) && inside(h.reason, in, n));
    check_fields(h.headers, in, n);
    for (std::string_view method : {"GET", "HEAD", "CONNECT"}) {
        const Framing f = analyze_response_framing(h, method);
        check((f.kind == BodyKind::Invalid) == (f.error != FramingError::None));
    }
}

void check_views(const HeaderList& h, std::span<const std::byte> in, std::size_t n) {
    check_fields(h, in, n);
}

bool same_fields(const HeaderList& a, const HeaderList& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name.data() != b[i].name.data() || a[i].name.size() != b[i].name.size() ||
            a[i].value.data() != b[i].value.data() || a[i].value.size() != b[i].value.size())
            return false;
    return true;
}
bool same(const RequestHead& a, const RequestHead& b) {
    return a.method == b.method && a.target.data() == b.target.data() &&
           a.target.size() == b.target.size() && a.version == b.version &&
           a.target_form == b.target_form && same_fields(a.headers, b.headers);
}
bool same(const ResponseHead& a, const ResponseHead& b) {
    return a.status == b.status && a.reason.data() == b.reason.data() &&
           a.reason.size() == b.reason.size() && a.version == b.version &&
           same_fields(a.headers, b.headers);
}
bool same(const HeaderList& a, const HeaderList& b) {
    return same_fields(a, b);
}

// Runs one parser (head type T) through every check above.
template <class T, class Parse>
void check_parser(Parse parse, std::span<const std::byte> in, const ParseOptions& opts, Rng& rng) {
    static T one, other;  // static: heads are a few KiB, and the fuzzer is single-threaded
    const HeadResult r = parse(in, 0, one, opts);
    if (const auto* bad = std::get_if<Invalid>(&r)) check(bad->offset < in.size());
    const auto* done = std::get_if<Done>(&r);
    if (done) {
        const std::size_t n = done->consumed;
        check(n > 0 && n <= in.size());
        check_views(one, in, n);
        const HeadResult again = parse(in.first(n), 0, other, opts);
        check(again == r && same(one, other));
        check(std::holds_alternative<Incomplete>(parse(in.first(n - 1), 0, other, opts)));
        check(std::holds_alternative<Incomplete>(parse(in.first(rng.below(n)), 0, other, opts)));
    }
    // Resumed: a first call on a prefix; unless it already answered, a second on everything.
    if (in.empty()) return;
    const std::size_t k = rng.below(done ? done->consumed : in.size());
    const HeadResult first = parse(in.first(k), 0, other, opts);
    if (std::holds_alternative<Done>(first)) {
        check(false);  // a prefix of the head cannot hold a whole head
    } else if (std::holds_alternative<Invalid>(first)) {
        check(first == r);  // left to right: what is wrong in a prefix is wrong in the whole
    } else {
        const HeadResult second = parse(in, k, other, opts);
        if (!std::holds_alternative<Incomplete>(second)) {
            check(second == r);
            if (done) check(same(one, other));
        } else {
            check(!done);
        }
    }
}

HeadResult parse_req(std::span<const std::byte> in, std::size_t scanned, RequestHead& h,
                     const ParseOptions& o) {
    return parse_request_head(in, scanned, h, o);
}
HeadResult parse_res(std::span<const std::byte> in, std::size_t scanned, ResponseHead& h,
                     const ParseOptions& o) {
    return parse_response_head(in, scanned, h, o);
}
HeadResult parse_block(std::span<const std::byte> in, std::size_t scanned, HeaderList& h,
                       const ParseOptions& o) {
    return parse_fields(in, scanned, h, o);
}

struct Decoded {
    ChunkEvent last = ChunkEvent::NeedMore;
    std::string payload;
    std::string trailers;
    std::size_t consumed = 0;
    ChunkError error = ChunkError::BadSize;
    std::size_t error_at = 0;
    ChunkState state = ChunkState::SizeStart;
};

// Feeds `body` in pieces of at most `max_piece` bytes (0: all at once), keeping what the decoder
// leaves unconsumed as a connection buffer would.
Decoded decode(std::span<const std::byte> body, const ParseOptions& opts, Rng* rng) {
    ChunkedDecoder dec{};
    Decoded out;
    std::string pending;
    std::size_t fed = 0;
    do {
        const std::size_t n =
            rng ? 1 + rng->below(std::min<std::size_t>(body.size() - fed, 64)) : body.size();
        pending.append(reinterpret_cast<const char*>(body.data()) + fed,
                       std::min(n, body.size() - fed));
        fed += std::min(n, body.size() - fed);
        for (;;) {
            const auto in = std::as_bytes(std::span<const char>(pending.data(), pending.size()));
            const ChunkStep s = decode_chunked(dec, in, opts);
            check(s.consumed <= in.size());
            check(s.data.empty() || (s.data.data() >= in.data() &&
                                     s.data.data() + s.data.size() <= in.data() + s.consumed));
            out.last = s.event;
            out.state = dec.state;
            if (s.event == ChunkEvent::Invalid) {
                check(s.error_offset < in.size());
                out.error = s.error;
                out.error_at = out.consumed + s.error_offset;
                return out;
            }
            check(s.event != ChunkEvent::Payload || !s.data.empty());
            const std::string_view data(reinterpret_cast<const char*>(s.data.data()),
                                        s.data.size());
            if (s.event == ChunkEvent::Payload) out.payload += data;
            if (s.event == ChunkEvent::Done) out.trailers = data;
            out.consumed += s.consumed;
            pending.erase(0, s.consumed);
            if (s.event == ChunkEvent::Done) return out;
            if (s.event == ChunkEvent::NeedMore) break;
        }
    } while (fed < body.size());
    return out;
}

void check_chunked(std::span<const std::byte> body, const ParseOptions& opts, Rng& rng) {
    const Decoded whole = decode(body, opts, nullptr);
    const Decoded pieces = decode(body, opts, &rng);
    const bool whole_final = whole.last == ChunkEvent::Done || whole.last == ChunkEvent::Invalid;
    const bool pieces_final = pieces.last == ChunkEvent::Done || pieces.last == ChunkEvent::Invalid;
    if (whole_final && pieces_final) {
        check(whole.last == pieces.last && whole.payload == pieces.payload &&
              whole.trailers == pieces.trailers);
        if (whole.last == ChunkEvent::Done) check(whole.consumed == pieces.consumed);
        if (whole.last == ChunkEvent::Invalid)
            check(whole.error == pieces.error && whole.error_at == pieces.error_at);
    } else if (pieces_final) {
        check(false);  // pieces never know more than the whole
    } else {
        // Done needs the end of the trailers, which the pieces got too. Only an error inside a
        // trailer section whose end never came may go unseen by the pieces (documented).
        check(whole.last != ChunkEvent::Done);
        if (whole.last == ChunkEvent::Invalid)
            check(whole.error == ChunkError::BadTrailers && pieces.state == ChunkState::Trailers);
        else
            check(whole.payload == pieces.payload);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t control = data[0];
    const auto in = std::as_bytes(std::span<const std::uint8_t>(data + 1, size - 1));
    ParseOptions opts;
    opts.accept_invalid = (control & 1) != 0;
    if (control & 2) opts.max_headers = control >> 4;  // exercise low limits too
    opts.strict_crlf = (control & 4) != 0;
    Rng rng{control * 0x9E3779B97F4A7C15ULL + size};

    check_parser<RequestHead>(parse_req, in, opts, rng);
    check_parser<ResponseHead>(parse_res, in, opts, rng);
    check_parser<HeaderList>(parse_block, in, opts, rng);
    check_chunked(in, opts, rng);
    return 0;
}
