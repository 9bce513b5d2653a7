// Hash functions, `hash-type`, `hash-balance-factor` and the hashing tables (see hash.hpp).
#include "sluice/lb/hash.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <numeric>

#include "sluice/cfg/keyword.hpp"
#include "sluice/lb/roundrobin.hpp"
#include "sluice/util/hash.hpp"

namespace sluice::lb {

std::uint32_t hash_bytes(HashFunction fn, std::span<const std::uint8_t> bytes) {
    std::uint32_t h = 0;
    switch (fn) {
        case HashFunction::Sdbm:
            for (std::uint8_t c : bytes)
                h = c + (h << 6) + (h << 16) - h;
            return h;
        case HashFunction::Djb2:
            h = 5381;
            for (std::uint8_t c : bytes)
                h = (h << 5) + h + c;
            return h;
        case HashFunction::Wt6: {
            // Two words stirred by every byte with rotations and additions: insensitive to
            // the input's alphabet and length (numeric keys, addresses).
            std::uint32_t a = 0x6a09e667, b = 0xbb67ae85;
            for (std::uint8_t c : bytes) {
                a = std::rotl(a ^ c, 5) + b;
                b = std::rotl(b + c * 0x9e3779b1u, 11) ^ a;
            }
            return a ^ std::rotl(b, 16);
        }
        case HashFunction::Crc32:
            return static_cast<std::uint32_t>(crc32(
                0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
        case HashFunction::None:
            // The key is the hash: its last four bytes, big-endian (an integer sample is
            // given as eight big-endian bytes).
            for (std::size_t i = bytes.size() > 4 ? bytes.size() - 4 : 0; i < bytes.size(); ++i)
                h = h << 8 | bytes[i];
            return h;
    }
    return h;
}

std::uint32_t avalanche(std::uint32_t a) {
    return util::jenkins_mix32(a);
}

std::uint32_t hash_key(const HashType& type, std::span<const std::uint8_t> bytes) {
    const std::uint32_t h = hash_bytes(type.function, bytes);
    return type.avalanche ? avalanche(h) : h;
}

namespace {

// Where the `i`th point of the server with id `puid` sits on the ring: a 64-bit mix
// (splitmix64) of both, so that a server's points depend on its id only.
std::uint32_t ring_position(std::uint32_t puid, std::uint32_t i) {
    std::uint64_t z = (static_cast<std::uint64_t>(puid) << 32 | i) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

// Points per unit of weight: enough for an even spread, bounded so that a thousand heavy
// servers do not build a ring of millions of points.
constexpr std::uint64_t kRingPoints = 1u << 16;
constexpr std::uint64_t kPointsPerUnit = 100;

}  // namespace

HashTable::HashTable(const std::vector<proxy::Server*>& servers, bool consistent)
    : consistent_(consistent) {
    std::vector<proxy::Server*> up;
    std::vector<std::uint32_t> weights;
    for (proxy::Server* s : servers)
        if (s->usable()) {
            up.push_back(s);
            // Map-based tables are static: the configured weights, as HAProxy's.
            weights.push_back(consistent ? s->effective_weight() : s->options.weight);
        }
    distinct_ = up.size();
    if (up.empty()) return;
    if (!consistent) {
        for (std::uint32_t i : smooth_schedule(weights))
            map_.push_back(up[i]);
        return;
    }
    std::uint32_t g = 0;
    std::uint64_t units = 0;
    for (std::uint32_t w : weights)
        g = std::gcd(g, w);
    for (std::uint32_t w : weights)
        units += w / g;
    const std::uint64_t per_unit =
        std::clamp<std::uint64_t>(kRingPoints / units, 1, kPointsPerUnit);
    for (std::size_t k = 0; k < up.size(); ++k) {
        const std::uint64_t n = weights[k] / g * per_unit;
        for (std::uint64_t i = 0; i < n; ++i)
            ring_.push_back({ring_position(up[k]->puid, static_cast<std::uint32_t>(i)),
                             static_cast<std::uint32_t>(k)});
    }
    servers_ = up;
    std::sort(ring_.begin(), ring_.end(), [&](const Point& a, const Point& b) {
        return a.at != b.at ? a.at < b.at : up[a.server]->puid < up[b.server]->puid;
    });
    // About one point per bucket, at most 2^16 buckets.
    bucket_bits_ = std::clamp<unsigned>(std::bit_width(ring_.size()), 1, 16);
    bucket_start_.assign((std::size_t{1} << bucket_bits_) + 1, 0);
    std::size_t at = 0;
    for (std::size_t b = 0; b + 1 < bucket_start_.size(); ++b) {
        const std::uint64_t first = static_cast<std::uint64_t>(b) << (32 - bucket_bits_);
        while (at < ring_.size() && ring_[at].at < first)
            ++at;
        bucket_start_[b] = static_cast<std::uint32_t>(at);
    }
    bucket_start_.back() = static_cast<std::uint32_t>(ring_.size());
}

proxy::Server* HashTable::lookup(std::uint32_t hash, std::size_t skip) const {
    if (!consistent_) {
        if (map_.empty()) return nullptr;
        std::size_t at = hash % map_.size();
        proxy::Server* s = map_[at];
        // The next distinct servers in the map's order.
        for (std::size_t n = 0; skip > 0 && n < map_.size(); ++n) {
            at = (at + 1) % map_.size();
            if (map_[at] != s) {
                s = map_[at];
                --skip;
            }
        }
        return s;
    }
    if (ring_.empty()) return nullptr;
    const std::size_t bucket = hash >> (32 - bucket_bits_);
    const auto first = ring_.begin() + bucket_start_[bucket];
    const auto last = ring_.begin() + bucket_start_[bucket + 1];
    auto it = std::lower_bound(first, last, hash,
                               [](const Point& p, std::uint32_t h) { return p.at < h; });
    std::size_t at = it == ring_.end() ? 0 : static_cast<std::size_t>(it - ring_.begin());
    proxy::Server* s = servers_[ring_[at].server];
    if (skip == 0) return s;
    // Walking on: the servers after it, each counted once.
    std::vector<proxy::Server*> seen{s};
    for (std::size_t n = 0; n < ring_.size(); ++n) {
        at = (at + 1) % ring_.size();
        proxy::Server* next = servers_[ring_[at].server];
        if (std::find(seen.begin(), seen.end(), next) != seen.end()) continue;
        seen.push_back(next);
        if (--skip == 0) return next;
    }
    return seen.back();
}

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

Status parse_hash_type(Args args, Ctx& ctx, HashType& ht) {
    if (args[0] == "consistent") {
        ht.consistent = true;
    } else if (args[0] == "map-based") {
        ht.consistent = false;
    } else if (args[0] == "avalanche") {
        return ctx.alert("'avalanche' is a modifier now: write 'map-based sdbm avalanche'");
    } else {
        return ctx.alert("only supports 'consistent' and 'map-based', got '{}'", args[0]);
    }
    // Consistent hashing defaults to sdbm with avalanche, map-based to plain sdbm.
    ht.function = HashFunction::Sdbm;
    ht.avalanche = ht.consistent && args.size() < 2;
    if (args.size() < 2) return Status::Ok;
    static constexpr std::pair<std::string_view, HashFunction> kFunctions[] = {
        {"sdbm", HashFunction::Sdbm},   {"djb2", HashFunction::Djb2}, {"wt6", HashFunction::Wt6},
        {"crc32", HashFunction::Crc32}, {"none", HashFunction::None},
    };
    const auto* f = std::find_if(std::begin(kFunctions), std::end(kFunctions),
                                 [&](const auto& e) { return e.first == args[1]; });
    if (f == std::end(kFunctions))
        return ctx.alert(
            "only supports 'sdbm', 'djb2', 'crc32', 'wt6' or 'none' hash functions, got '{}'",
            args[1]);
    ht.function = f->second;
    if (args.size() < 3) return Status::Ok;
    if (args[2] != "avalanche" || args.size() > 3)
        return ctx.alert("only supports 'avalanche' as a modifier for hash functions, got '{}'",
                         args[2]);
    ht.avalanche = true;
    return Status::Ok;
}

Status parse_balance_factor(Args args, Ctx& ctx, HashType& ht) {
    auto v = util::parse_uint(args[0], UINT32_MAX);
    if (!v || (*v != 0 && *v < 100))
        return ctx.alert("expects 0 or a percentage of at least 100, got '{}'", args[0]);
    ht.balance_factor = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "hash-type",
     .in = cfg::kBackendSide,
     .arity = cfg::between(1, 3),
     .parse = cfg::on_part<HashType, parse_hash_type>},
    {.name = "hash-balance-factor",
     .in = cfg::kBackendSide,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<HashType, parse_balance_factor>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::lb
