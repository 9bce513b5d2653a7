// HAProxy's converters over bytes: the 32-bit hashes its load balancing uses (so a converter
// and `hash-type` agree on the same key), xxHash, OpenSSL digests and HMACs, constant-time
// comparison, and the hex and base64 encodings (HMAC keys are base64).
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>

#include "sluice/sample/registry.hpp"
#include "sluice/sample/vars.hpp"
#include "sluice/util/base64.hpp"
#include "sluice/util/hash.hpp"

namespace sluice::sample {
namespace {

// --- hex and base64 --------------------------------------------------------------------------

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool conv_hex(const Args&, Context& ctx, Sample& s) {
    std::string& out = ctx.arena().take();
    for (char ch : s.str) {
        const auto c = static_cast<unsigned char>(ch);
        out.push_back(kHexUpper[c >> 4]);
        out.push_back(kHexUpper[c & 15]);
    }
    s = Sample::string(out);
    return true;
}

// The manual says an unconvertible input gives 0, but HAProxy's code returns no sample;
// we follow the code, which is what configs have been tested against.
bool conv_hex2i(const Args&, Context&, Sample& s) {
    std::uint64_t n = 0;
    for (char c : s.str) {
        const char lc = static_cast<char>(c | 0x20);
        std::uint64_t d;
        if (c >= '0' && c <= '9') {
            d = static_cast<std::uint64_t>(c - '0');
        } else if (lc >= 'a' && lc <= 'f') {
            d = static_cast<std::uint64_t>(lc - 'a' + 10);
        } else {
            return false;
        }
        n = (n << 4) | d;
    }
    s = Sample::integer(static_cast<std::int64_t>(n));
    return true;
}

bool conv_base64(const Args&, Context& ctx, Sample& s) {
    std::string& out = ctx.arena().take();
    const std::string_view in = s.str;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, in.size() - i);
        std::uint32_t v = 0;
        for (std::size_t j = 0; j < 3; ++j)
            v = (v << 8) | (j < n ? static_cast<unsigned char>(in[i + j]) : 0u);
        out.push_back(kBase64[(v >> 18) & 63]);
        out.push_back(kBase64[(v >> 12) & 63]);
        out.push_back(n > 1 ? kBase64[(v >> 6) & 63] : '=');
        out.push_back(n > 2 ? kBase64[v & 63] : '=');
    }
    s = Sample::string(out);
    return true;
}

bool conv_b64dec(const Args&, Context& ctx, Sample& s) {
    std::string& out = ctx.arena().take();
    if (!util::base64_decode(s.str, out)) return false;
    s = Sample::string(out, Type::Bin);
    return true;
}

// --- the load-balancing hashes ---------------------------------------------------------------

// HAProxy's "avalanche": one of Bob Jenkins' 32-bit integer mixers
// (burtleburtle.net/bob/hash/integer.html), then a multiplication by the prime 3221225473
// (close to 3/4 of 2^32) that HAProxy adds to spread values over its consistent-hash tree.
constexpr std::uint32_t avalanche(std::uint32_t a) {
    return util::jenkins_mix32(a) * 3221225473u;
}

// Reflected CRC tables; the polynomials are those of gzip (crc32) and RFC 4960 (crc32c).
constexpr std::array<std::uint32_t, 256> crc_table(std::uint32_t poly) {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c >> 1) ^ ((c & 1) ? poly : 0);
        t[i] = c;
    }
    return t;
}
constexpr auto kCrc32 = crc_table(0xedb88320);
constexpr auto kCrc32c = crc_table(0x82f63b78);

template <const std::array<std::uint32_t, 256>& Table>
std::uint32_t crc(std::string_view in) {
    std::uint32_t c = 0xffffffff;
    for (char ch : in)
        c = (c >> 8) ^ Table[(c ^ static_cast<unsigned char>(ch)) & 0xff];
    return ~c;
}

std::uint32_t djb2(std::string_view in) {
    std::uint32_t h = 5381;
    for (char ch : in)
        h = h * 33 + static_cast<unsigned char>(ch);
    return h;
}

std::uint32_t sdbm(std::string_view in) {
    std::uint32_t h = 0;
    for (char ch : in)
        h = static_cast<unsigned char>(ch) + (h << 6) + (h << 16) - h;
    return h;
}

// HAProxy's own hash, designed for consistent hashing of short keys. Its C source rotates with
// shifts, which for a 0 count relies on x86 masking the 32-bit shift: std::rotl is that result.
std::uint32_t wt6(std::string_view in) {
    std::uint32_t h0 = 0xa53c965a, h1 = 0x5ca6953a;
    int step0 = 6, step1 = 18;
    for (char ch : in) {
        const std::uint32_t b = static_cast<unsigned char>(ch);
        h0 = ~(h0 ^ b);
        h1 = ~(h1 + b);
        const std::uint32_t t = std::rotl(h1, step0);
        h1 = std::rotl(h0, step1);
        h0 = t;
        const std::uint32_t mix = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = static_cast<int>(mix & 0x1f);
        step1 = static_cast<int>(mix >> 11);
    }
    return h0 ^ h1;
}

// HAProxy applies the avalanche for any non-zero argument, not only the documented 1.
template <std::uint32_t (*Hash)(std::string_view)>
bool conv_hash32(const Args& args, Context&, Sample& s) {
    std::uint32_t h = Hash(s.str);
    if (const Arg* a = args.at(0); a && a->sint != 0) h = avalanche(h);
    s = Sample::integer(h);
    return true;
}

std::int64_t seed_of(const Args& args) {
    const Arg* a = args.at(0);
    return a ? a->sint : 0;
}

bool conv_xxh32(const Args& args, Context&, Sample& s) {
    s = Sample::integer(
        XXH32(s.str.data(), s.str.size(), static_cast<XXH32_hash_t>(seed_of(args))));
    return true;
}

// The 64-bit hashes are unsigned; samples are signed, so they come out as their bit pattern.
bool conv_xxh64(const Args& args, Context&, Sample& s) {
    s = Sample::integer(static_cast<std::int64_t>(
        XXH64(s.str.data(), s.str.size(), static_cast<XXH64_hash_t>(seed_of(args)))));
    return true;
}

bool conv_xxh3(const Args& args, Context&, Sample& s) {
    s = Sample::integer(static_cast<std::int64_t>(XXH3_64bits_withSeed(
        s.str.data(), s.str.size(), static_cast<XXH64_hash_t>(seed_of(args)))));
    return true;
}

// --- OpenSSL digests -------------------------------------------------------------------------

struct Digest {
    Digest() = default;
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;
    ~Digest() { EVP_MD_free(fetched); }

    const EVP_MD* md = nullptr;
    // OpenSSL 3 looks an implicit algorithm up again at each init; fetching it once here
    // spares every evaluation that lookup.
    EVP_MD* fetched = nullptr;
    std::string key;                // hmac: the decoded key, when given literally
    std::optional<VarRef> key_var;  // hmac: the variable holding the base64 key
};

// The digest of the concatenated parts into `out` (at least EVP_MAX_MD_SIZE bytes). One
// context per thread, reset by each init, rather than one allocated per evaluation; OpenSSL 3
// still allocates its provider state once per init.
bool digest_parts(const EVP_MD* md, std::initializer_list<std::string_view> parts,
                  unsigned char* out, unsigned& len) {
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                                             EVP_MD_CTX_free};
    if (!ctx || !EVP_DigestInit_ex2(ctx.get(), md, nullptr)) return false;
    for (std::string_view p : parts)
        if (!EVP_DigestUpdate(ctx.get(), p.data(), p.size())) return false;
    return EVP_DigestFinal_ex(ctx.get(), out, &len);
}

bool digest_into(const EVP_MD* md, std::string_view in, std::string& out) {
    unsigned len = 0;
    out.resize(EVP_MAX_MD_SIZE);
    if (!digest_parts(md, {in}, reinterpret_cast<unsigned char*>(out.data()), len)) return false;
    out.resize(len);
    return true;
}

// HMAC as RFC 2104 defines it, on the per-thread context: OpenSSL's one-shot HMAC() builds and
// frees a dozen objects per call, this costs two digest inits.
bool hmac_into(const EVP_MD* md, std::string_view key, std::string_view in, std::string& out) {
    constexpr std::size_t kMaxBlock = 256;  // SHA-3 has the largest: 144 bytes
    const int block = EVP_MD_get_block_size(md);
    if (block <= 0 || static_cast<std::size_t>(block) > kMaxBlock) return false;
    unsigned char hashed_key[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (key.size() > static_cast<std::size_t>(block)) {
        if (!digest_parts(md, {key}, hashed_key, len)) return false;
        key = {reinterpret_cast<const char*>(hashed_key), len};
    }
    std::array<char, kMaxBlock> pad{};
    auto fill_pad = [&](char x) {
        for (std::size_t i = 0; i < static_cast<std::size_t>(block); ++i)
            pad[i] = static_cast<char>((i < key.size() ? key[i] : 0) ^ x);
        return std::string_view(pad.data(), static_cast<std::size_t>(block));
    };
    unsigned char inner[EVP_MAX_MD_SIZE];
    if (!digest_parts(md, {fill_pad(0x36), in}, inner, len)) return false;
    const std::string_view inner_view(reinterpret_cast<const char*>(inner), len);
    out.resize(EVP_MAX_MD_SIZE);
    if (!digest_parts(md, {fill_pad(0x5c), inner_view},
                      reinterpret_cast<unsigned char*>(out.data()), len))
        return false;
    out.resize(len);
    return true;
}

util::Status resolve_digest(const std::string& name, Digest& d) {
    d.md = EVP_get_digestbyname(name.c_str());
    if (!d.md) {
        return util::error(fmt::format(
            "unknown message digest '{}': expected an OpenSSL digest name such as sha256", name));
    }
    d.fetched = EVP_MD_fetch(nullptr, EVP_MD_get0_name(d.md), nullptr);
    if (d.fetched) d.md = d.fetched;
    // Names OpenSSL knows but no loaded provider implements (md4 without the legacy
    // provider) would fail at every request; refuse them with the config instead.
    std::string probe;
    if (!digest_into(d.md, {}, probe))
        return util::error(fmt::format("message digest '{}' is not available", name));
    return util::ok();
}

util::Status prepare_digest(Args& args) {
    auto d = std::make_shared<Digest>();
    if (auto st = resolve_digest(args.list[0].text, *d); !st) return st;
    args.prepared = std::move(d);
    return util::ok();
}

util::Status prepare_sha1(Args& args) {
    auto d = std::make_shared<Digest>();
    if (auto st = resolve_digest("SHA1", *d); !st) return st;
    args.prepared = std::move(d);
    return util::ok();
}

util::Status prepare_sha2(Args& args) {
    const std::int64_t bits = args.at(0) ? args.list[0].sint : 256;
    if (bits != 224 && bits != 256 && bits != 384 && bits != 512) {
        return util::error(
            fmt::format("unsupported number of bits {}: expected 224, 256, 384 or 512", bits));
    }
    auto d = std::make_shared<Digest>();
    if (auto st = resolve_digest(fmt::format("SHA{}", bits), *d); !st) return st;
    args.prepared = std::move(d);
    return util::ok();
}

bool conv_digest(const Args& args, Context& ctx, Sample& s) {
    std::string& out = ctx.arena().take();
    if (!digest_into(args.state<Digest>().md, s.str, out)) return false;
    s = Sample::string(out, Type::Bin);
    return true;
}

// The key is a variable when it reads as one (a scope and a name): base64 has no '.', so the
// two forms cannot be confused.
util::Status prepare_hmac(Args& args) {
    auto d = std::make_shared<Digest>();
    if (auto st = resolve_digest(args.list[0].text, *d); !st) return st;
    // An extendable-output function (shake) has no fixed size for HMAC to work on.
    if (EVP_MD_get_flags(d->md) & EVP_MD_FLAG_XOF)
        return util::error(fmt::format("'{}' cannot be used for an HMAC", args.list[0].text));
    const std::string& key = args.list[1].text;
    if (auto ref = parse_var_name(key)) {
        d->key_var = std::move(*ref);
    } else if (!util::base64_decode(key, d->key)) {
        return util::error(fmt::format("key '{}' is neither base64 nor a variable name", key));
    }
    args.prepared = std::move(d);
    return util::ok();
}

bool conv_hmac(const Args& args, Context& ctx, Sample& s) {
    const Digest& d = args.state<Digest>();
    std::string_view key = d.key;
    if (d.key_var) {
        Sample v;
        if (!read_var(ctx, *d.key_var, v) || !cast(v, Type::Str, ctx.arena())) return false;
        std::string& decoded = ctx.arena().take();
        if (!util::base64_decode(v.str, decoded)) return false;
        key = decoded;
    }
    std::string& out = ctx.arena().take();
    if (!hmac_into(d.md, key, s.str, out)) return false;
    s = Sample::string(out, Type::Bin);
    return true;
}

// --- secure_memcmp --------------------------------------------------------------------------

util::Status prepare_secure_memcmp(Args& args) {
    if (args.list[0].text.empty()) return util::error("missing variable name");
    auto ref = parse_var_name(args.list[0].text);
    if (!ref) return util::error(ref.error());
    args.prepared = std::make_shared<const VarRef>(std::move(*ref));
    return util::ok();
}

bool conv_secure_memcmp(const Args& args, Context& ctx, Sample& s) {
    Sample v;
    if (!read_var(ctx, args.state<VarRef>(), v) || !cast(v, Type::Bin, ctx.arena())) return false;
    // Only equal lengths are compared, in constant time; the length itself is not secret.
    const bool same = s.str.size() == v.str.size() &&
                      CRYPTO_memcmp(s.str.data(), v.str.data(), s.str.size()) == 0;
    s = Sample::boolean(same);
    return true;
}

constexpr ArgSpec kOptionalInt{0, 1, {ArgKind::Sint}};

constexpr Converter kConverters[] = {
    {.name = "hex", .fn = conv_hex, .args = {0, 0}, .in = Type::Bin, .out = Type::Str},
    {.name = "hex2i", .fn = conv_hex2i, .args = {0, 0}, .in = Type::Str, .out = Type::Sint},
    {.name = "base64", .fn = conv_base64, .args = {0, 0}, .in = Type::Bin, .out = Type::Str},
    {.name = "b64dec", .fn = conv_b64dec, .args = {0, 0}, .in = Type::Str, .out = Type::Bin},
    {.name = "secure_memcmp",
     .fn = conv_secure_memcmp,
     .args = {1, 1},
     .in = Type::Bin,
     .out = Type::Bool,
     .prepare = prepare_secure_memcmp},
    {.name = "crc32",
     .fn = conv_hash32<crc<kCrc32>>,
     .args = kOptionalInt,
     .in = Type::Bin,
     .out = Type::Sint},
    {.name = "crc32c",
     .fn = conv_hash32<crc<kCrc32c>>,
     .args = kOptionalInt,
     .in = Type::Bin,
     .out = Type::Sint},
    {.name = "djb2",
     .fn = conv_hash32<djb2>,
     .args = kOptionalInt,
     .in = Type::Bin,
     .out = Type::Sint},
    {.name = "sdbm",
     .fn = conv_hash32<sdbm>,
     .args = kOptionalInt,
     .in = Type::Bin,
     .out = Type::Sint},
    {.name = "wt6",
     .fn = conv_hash32<wt6>,
     .args = kOptionalInt,
     .in = Type::Bin,
     .out = Type::Sint},
    {.name = "xxh32", .fn = conv_xxh32, .args = kOptionalInt, .in = Type::Bin, .out = Type::Sint},
    {.name = "xxh64", .fn = conv_xxh64, .args = kOptionalInt, .in = Type::Bin, .out = Type::Sint},
    {.name = "xxh3", .fn = conv_xxh3, .args = kOptionalInt, .in = Type::Bin, .out = Type::Sint},
    {.name = "digest",
     .fn = conv_digest,
     .args = {1, 1},
     .in = Type::Bin,
     .out = Type::Bin,
     .prepare = prepare_digest},
    {.name = "hmac",
     .fn = conv_hmac,
     .args = {2, 2},
     .in = Type::Bin,
     .out = Type::Bin,
     .prepare = prepare_hmac},
    {.name = "sha1",
     .fn = conv_digest,
     .args = {0, 0},
     .in = Type::Bin,
     .out = Type::Bin,
     .prepare = prepare_sha1},
    {.name = "sha2",
     .fn = conv_digest,
     .args = kOptionalInt,
     .in = Type::Bin,
     .out = Type::Bin,
     .prepare = prepare_sha2},
};
const ConverterRegistrar kRegistered{kConverters};

}  // namespace
}  // namespace sluice::sample
