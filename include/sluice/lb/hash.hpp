// The hash functions of `hash-type` and the tables hashing algorithms map keys with: map-based
// (a static array of the running servers, by weight) and consistent (a ring with many points
// per server, so that a server going away moves only its own keys).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sluice/proxy/runtime.hpp"

namespace sluice::lb {

enum class HashFunction : std::uint8_t { Sdbm, Djb2, Wt6, Crc32, None };

// `hash-type METHOD [FUNCTION [avalanche]]` and `hash-balance-factor`, kept in the section's
// Parts.
struct HashType {
    bool consistent = false;
    HashFunction function = HashFunction::Sdbm;
    bool avalanche = false;
    // Consistent hashing: no server takes more than this percentage of the average load
    // (0: no bound).
    std::uint32_t balance_factor = 0;
};

std::uint32_t hash_bytes(HashFunction fn, std::span<const std::uint8_t> bytes);
// A full-avalanche 32-bit mix: every input bit changes each output bit with probability 1/2.
std::uint32_t avalanche(std::uint32_t h);
// The hash of a key as `type` says.
std::uint32_t hash_key(const HashType& type, std::span<const std::uint8_t> bytes);

// The servers of one tier that take traffic now, as one hashing table. Rebuilt whenever a
// server changes; read by every thread.
class HashTable {
  public:
    // `servers`: every server of the tier; those not usable now are left out.
    HashTable(const std::vector<proxy::Server*>& servers, bool consistent);
    bool empty() const { return consistent_ ? ring_.empty() : map_.empty(); }
    // The server for `hash`, then the next ones in the table's order (for `skip` > 0): a
    // redispatch or a full server moves to the next distinct server.
    proxy::Server* lookup(std::uint32_t hash, std::size_t skip = 0) const;
    std::size_t distinct() const { return distinct_; }

  private:
    struct Point {
        std::uint32_t at;
        std::uint32_t server;  // into `servers_`: half the size of a pointer, twice the points
                               // per cache line
    };
    std::vector<proxy::Server*> servers_;  // consistent: the usable servers
    bool consistent_;
    std::vector<proxy::Server*> map_;  // map-based: each server as often as its weight
    std::vector<Point> ring_;          // consistent: sorted by `at`
    // consistent: where each range of positions (by their top `bucket_bits_` bits) starts in
    // `ring_`, so that a lookup searches a handful of points instead of the whole ring.
    std::vector<std::uint32_t> bucket_start_;
    unsigned bucket_bits_ = 0;
    std::size_t distinct_ = 0;
};

}  // namespace sluice::lb
