// Fetches on the raw bytes a connection has buffered (sample::Payload): `req.payload`,
// `req.payload_lv`, `res.*` alike, and what a TLS ClientHello tells before any handshake is
// made (`req.ssl_hello_type`, `req.ssl_ver`, `req.ssl_sni`, `req.ssl_alpn`, ...), for
// `tcp-request content` rules and `use_backend` in mode tcp (SNI routing without decrypting).
//
// A fetch that finds too few bytes answers "none"; while more may still come (the payload is
// not final) it also raises Context::may_change, so that a content rule waits instead of
// deciding on a half-received message.
#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include "sluice/sample/payload.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::sample {
namespace {

using Bytes = std::span<const std::byte>;

std::string_view text(Bytes b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}
std::uint32_t byte_at(Bytes b, std::size_t i) {
    return static_cast<std::uint32_t>(b[i]);
}
std::uint32_t be16(Bytes b, std::size_t i) {
    return byte_at(b, i) << 8 | byte_at(b, i + 1);
}

bool too_short(Context& ctx, const Payload& p) {
    if (!p.final) ctx.may_change = true;
    return false;
}

// payload_lv's third argument: written with a sign, it counts from the end of the length field.
bool relative(const Arg& a) {
    return !a.text.empty() && (a.text[0] == '+' || a.text[0] == '-');
}
// |v| without overflow, for INT64_MIN too.
std::uint64_t magnitude(std::int64_t v) {
    return v < 0 ? static_cast<std::uint64_t>(-(v + 1)) + 1 : static_cast<std::uint64_t>(v);
}

template <bool Res>
Bytes data_of(const Payload& p) {
    return Res ? p.res : p.req;
}

// payload(offset,length): `length` bytes at `offset`; length 0: everything from `offset`.
template <bool Res>
bool fetch_payload(const Args& args, Context& ctx, Sample& out) {
    const Payload* p = ctx.find<Payload>();
    if (!p) return false;
    const Bytes d = data_of<Res>(*p);
    const auto offset = static_cast<std::size_t>(args.list[0].sint);
    const auto length = static_cast<std::size_t>(args.list[1].sint);
    if (d.size() < offset + length || (length == 0 && d.size() <= offset))
        return too_short(ctx, *p);
    out = Sample::string(text(length ? d.subspan(offset, length) : d.subspan(offset)), Type::Bin);
    return true;
}

// payload_lv(offset1,length[,offset2]): a block whose size is the big-endian integer of
// `length` bytes at `offset1`; it starts right after that field, or at `offset2` (from the
// start of the buffer, or from the end of the length field when written with a sign).
template <bool Res>
bool fetch_payload_lv(const Args& args, Context& ctx, Sample& out) {
    const Payload* p = ctx.find<Payload>();
    if (!p) return false;
    const Bytes d = data_of<Res>(*p);
    const auto offset = static_cast<std::size_t>(args.list[0].sint);
    const auto width = static_cast<std::size_t>(args.list[1].sint);
    if (d.size() < offset + width) return too_short(ctx, *p);
    std::uint64_t block = 0;
    for (std::size_t i = 0; i < width; ++i)
        block = block << 8 | byte_at(d, offset + i);
    // offset + width <= d.size() from here, so adding offset2 (at most 2^63 - 1) cannot wrap,
    // and prepare_payload_lv made sure a negative one does not reach before the buffer.
    std::uint64_t from = offset + width;
    if (const Arg* a = args.at(2)) {
        const std::int64_t v = a->sint;  // read by prepare_payload_lv
        if (!relative(*a))
            from = static_cast<std::uint64_t>(v);
        else if (v >= 0)
            from += static_cast<std::uint64_t>(v);
        else
            from -= magnitude(v);
    }
    if (block == 0) return false;  // an empty block never matches, as in HAProxy
    if (d.size() < from || d.size() - from < block) return too_short(ctx, *p);
    out = Sample::string(text(d.subspan(from, static_cast<std::size_t>(block))), Type::Bin);
    return true;
}

util::Status prepare_payload(Args& args) {
    if (args.list[0].sint < 0 || args.list[1].sint < 0)
        return util::error("offset and length must not be negative");
    return util::ok();
}

// payload_lv's third argument (a string, as its sign matters): read into Arg::sint once, when
// the config is parsed, so that evaluating it cannot fail.
util::Status prepare_payload_lv(Args& args) {
    if (args.list[0].sint < 0) return util::error("offset must not be negative");
    if (args.list[1].sint < 1 || args.list[1].sint > 4)
        return util::error("the length field is 1 to 4 bytes long");
    if (args.list.size() > 2) {
        Arg& a = args.list[2];
        const std::string& s = a.text;
        const std::size_t i = s.empty() || (s[0] != '+' && s[0] != '-') ? 0 : 1;
        if (i >= s.size() || s.find_first_not_of("0123456789", i) != std::string::npos)
            return util::error(fmt::format("'{}' is not an offset", s));
        // from_chars takes a '-' but not a '+'.
        const char* first = s.data() + (s[0] == '+' ? 1 : 0);
        const auto [end, ec] = std::from_chars(first, s.data() + s.size(), a.sint);
        if (ec != std::errc() || end != s.data() + s.size())
            return util::error(fmt::format("offset '{}' is out of range", s));
        // A relative offset reaching before the buffer (HAProxy: "payload offset2 too
        // negative").
        const auto field_end = static_cast<std::uint64_t>(args.list[0].sint) +
                               static_cast<std::uint64_t>(args.list[1].sint);
        if (relative(a) && a.sint < 0 && magnitude(a.sint) > field_end)
            return util::error(fmt::format("offset {} is before the start of the buffer", a.sint));
    }
    return util::ok();
}

// res.len: the bytes the server sent that are held for inspection.
bool fetch_res_len(const Args&, Context& ctx, Sample& out) {
    const Payload* p = ctx.find<Payload>();
    if (!p) return false;
    out = Sample::integer(static_cast<std::int64_t>(p->res.size()));
    return true;
}

// ---- TLS ClientHello ------------------------------------------------------------------------

// The first handshake message of a TLS record, when the buffer holds that record whole.
struct Handshake {
    std::uint8_t type = 0;
    Bytes body;
};
enum class Seen { Yes, NotYet, No };

Seen tls_handshake(Bytes d, Handshake& hs) {
    if (d.empty()) return Seen::NotYet;
    if (byte_at(d, 0) != 0x16) return Seen::No;  // not a handshake record
    if (d.size() < 2) return Seen::NotYet;
    if (byte_at(d, 1) != 3) return Seen::No;  // SSLv3 and TLS records only
    if (d.size() < 5) return Seen::NotYet;
    const std::size_t record = be16(d, 3);
    if (record < 4) return Seen::No;
    if (d.size() < 5 + record) return Seen::NotYet;
    const std::size_t length = byte_at(d, 6) << 16 | be16(d, 7);
    if (length + 4 > record) return Seen::No;  // a hello split over records is not inspected
    hs.type = static_cast<std::uint8_t>(byte_at(d, 5));
    hs.body = d.subspan(9, length);
    return Seen::Yes;
}

// Calls each(type, data) for every extension of a ClientHello body; false when malformed.
template <class F>
bool each_extension(Bytes b, F each) {
    std::size_t p = 2 + 32;  // client_version, random
    if (b.size() < p + 1) return false;
    p += 1 + byte_at(b, p);  // session id
    if (b.size() < p + 2) return false;
    p += 2 + be16(b, p);  // cipher suites
    if (b.size() < p + 1) return false;
    p += 1 + byte_at(b, p);          // compression methods
    if (b.size() == p) return true;  // no extensions at all
    if (b.size() < p + 2) return false;
    const std::size_t end = p + 2 + be16(b, p);
    if (end > b.size()) return false;
    for (p += 2; p + 4 <= end;) {
        const std::uint32_t type = be16(b, p);
        const std::size_t len = be16(b, p + 2);
        p += 4;
        if (p + len > end) return false;
        if (!each(type, b.subspan(p, len))) return true;
        p += len;
    }
    return true;
}

constexpr std::uint32_t kExtServerName = 0, kExtCurves = 10, kExtAlpn = 16, kExtTicket = 35;

// The first handshake message of the request payload; false (with may_change when it can still
// come) when there is none to read.
bool handshake(Context& ctx, Handshake& hs) {
    const Payload* p = ctx.find<Payload>();
    if (!p) return false;
    switch (tls_handshake(p->req, hs)) {
        case Seen::NotYet:
            return too_short(ctx, *p);
        case Seen::No:
            return false;
        case Seen::Yes:
            return true;
    }
    return false;
}

// The ClientHello of the request payload, as handshake() finds it.
bool client_hello(Context& ctx, Handshake& hs) {
    return handshake(ctx, hs) && hs.type == 1;
}

bool fetch_ssl_hello_type(const Args&, Context& ctx, Sample& out) {
    Handshake hs;
    if (!handshake(ctx, hs)) return false;
    out = Sample::integer(hs.type);
    return true;
}

// major * 65536 + minor of the version the hello offers (its client_version: 3.3 for TLS 1.2,
// and for TLS 1.3 too, which says more in an extension), not the record layer's (mostly 3.1),
// as HAProxy 2.6 answers.
bool fetch_ssl_ver(const Args&, Context& ctx, Sample& out) {
    Handshake hs;
    if (!handshake(ctx, hs) || hs.body.size() < 2) return false;
    out = Sample::integer(byte_at(hs.body, 0) << 16 | byte_at(hs.body, 1));
    return true;
}

bool fetch_ssl_sni(const Args&, Context& ctx, Sample& out) {
    Handshake hs;
    if (!client_hello(ctx, hs)) return false;
    bool found = false;
    each_extension(hs.body, [&](std::uint32_t type, Bytes ext) {
        if (type != kExtServerName) return true;
        // server_name_list: entries of name_type (0: host_name), length, name.
        if (ext.size() < 2) return false;
        for (std::size_t p = 2; p + 3 <= ext.size();) {
            const std::size_t len = be16(ext, p + 1);
            if (p + 3 + len > ext.size()) return false;
            if (byte_at(ext, p) == 0 && len > 0) {
                out = Sample::string(text(ext.subspan(p + 3, len)));
                found = true;
                return false;
            }
            p += 3 + len;
        }
        return false;
    });
    return found;
}

// Calls each(name) for the protocols of the hello's ALPN extension, in the client's order of
// preference, until it returns false or a name is empty or runs past the extension.
template <class F>
void each_alpn_name(Context& ctx, F each) {
    Handshake hs;
    if (!client_hello(ctx, hs)) return;
    each_extension(hs.body, [&](std::uint32_t type, Bytes ext) {
        if (type != kExtAlpn) return true;
        // protocol_name_list: its 2-byte length, then names each after a 1-byte length.
        for (std::size_t p = 2; p < ext.size();) {
            const std::size_t len = byte_at(ext, p);
            if (len == 0 || p + 1 + len > ext.size()) break;
            if (!each(text(ext.subspan(p + 1, len)))) break;
            p += 1 + len;
        }
        return false;
    });
}

// The first protocol the client offers; in an ACL, each of them (HAProxy iterates over the
// list, so `{ req.ssl_alpn h2 }` holds for a client offering http/1.1 then h2).
bool fetch_ssl_alpn(const Args&, Context& ctx, Sample& out) {
    bool found = false;
    each_alpn_name(ctx, [&](std::string_view name) {
        out = Sample::string(name);
        found = true;
        return false;
    });
    return found;
}
void each_ssl_alpn(const Args&, Context& ctx, VisitFn visit, void* state) {
    each_alpn_name(ctx, [&](std::string_view name) {
        Sample s = Sample::string(name);
        return visit(state, s);
    });
}

// Whether the hello has a supported_groups (elliptic curves) extension: true, or no sample at
// all when it has none, as HAProxy 2.6 answers (`-m found` and variables tell them apart).
bool fetch_ssl_ec_ext(const Args&, Context& ctx, Sample& out) {
    Handshake hs;
    if (!client_hello(ctx, hs)) return false;
    bool curves = false;
    each_extension(hs.body, [&](std::uint32_t type, Bytes) {
        curves = type == kExtCurves;
        return !curves;
    });
    if (!curves) return false;
    out = Sample::boolean(true);
    return true;
}

// 0: no session ticket extension; 1: an empty one (the client supports tickets); 2: one with a
// ticket in it (the client tries to resume).
bool fetch_ssl_st_ext(const Args&, Context& ctx, Sample& out) {
    Handshake hs;
    if (!client_hello(ctx, hs)) return false;
    int ticket = 0;
    if (!each_extension(hs.body, [&](std::uint32_t type, Bytes ext) {
            if (type != kExtTicket) return true;
            ticket = ext.empty() ? 1 : 2;
            return false;
        }))
        return false;
    out = Sample::integer(ticket);
    return true;
}

constexpr Use kReq = Use::Req;
constexpr Use kRes = Use::Res;
constexpr ArgSpec kOffsetLength{2, 2, {ArgKind::Sint, ArgKind::Sint}};
constexpr ArgSpec kOffsetLengthOffset{2, 3, {ArgKind::Sint, ArgKind::Sint, ArgKind::Str}};

constexpr Fetch kFetches[] = {
    {.name = "req.payload",
     .fn = fetch_payload<false>,
     .args = kOffsetLength,
     .out = Type::Bin,
     .use = kReq,
     .prepare = prepare_payload},
    {.name = "payload",  // HAProxy's older name
     .fn = fetch_payload<false>,
     .args = kOffsetLength,
     .out = Type::Bin,
     .use = kReq,
     .prepare = prepare_payload},
    {.name = "req.payload_lv",
     .fn = fetch_payload_lv<false>,
     .args = kOffsetLengthOffset,
     .out = Type::Bin,
     .use = kReq,
     .prepare = prepare_payload_lv},
    {.name = "payload_lv",
     .fn = fetch_payload_lv<false>,
     .args = kOffsetLengthOffset,
     .out = Type::Bin,
     .use = kReq,
     .prepare = prepare_payload_lv},
    {.name = "res.payload",
     .fn = fetch_payload<true>,
     .args = kOffsetLength,
     .out = Type::Bin,
     .use = kRes,
     .prepare = prepare_payload},
    {.name = "res.payload_lv",
     .fn = fetch_payload_lv<true>,
     .args = kOffsetLengthOffset,
     .out = Type::Bin,
     .use = kRes,
     .prepare = prepare_payload_lv},
    {.name = "res.len", .fn = fetch_res_len, .out = Type::Sint, .use = kRes},
    {.name = "req.ssl_hello_type", .fn = fetch_ssl_hello_type, .out = Type::Sint, .use = kReq},
    {.name = "req_ssl_hello_type", .fn = fetch_ssl_hello_type, .out = Type::Sint, .use = kReq},
    {.name = "req.ssl_ver", .fn = fetch_ssl_ver, .out = Type::Sint, .use = kReq},
    {.name = "req_ssl_ver", .fn = fetch_ssl_ver, .out = Type::Sint, .use = kReq},
    {.name = "req.ssl_sni", .fn = fetch_ssl_sni, .out = Type::Str, .use = kReq},
    {.name = "req_ssl_sni", .fn = fetch_ssl_sni, .out = Type::Str, .use = kReq},
    {.name = "req.ssl_alpn",
     .fn = fetch_ssl_alpn,
     .out = Type::Str,
     .use = kReq,
     .each = each_ssl_alpn},
    {.name = "req.ssl_ec_ext", .fn = fetch_ssl_ec_ext, .out = Type::Bool, .use = kReq},
    {.name = "req.ssl_st_ext", .fn = fetch_ssl_st_ext, .out = Type::Sint, .use = kReq},
};
const FetchRegistrar kRegistered{kFetches};

}  // namespace
}  // namespace sluice::sample
