// Private to the pattern module (pattern.cpp, pattern_ip.cpp): the hash index every keyed
// method shares, and the IP network index.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "sluice/sample/sample.hpp"
#include "sluice/util/result.hpp"

namespace sluice::sample::detail {

inline constexpr std::uint32_t kNone = UINT32_MAX;

inline std::uint64_t mix64(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

// ASCII upper case to lower case in the 8 bytes of `w` at once; other bytes are kept.
inline std::uint64_t fold_word(std::uint64_t w) {
    constexpr std::uint64_t k01 = 0x0101010101010101ULL;
    constexpr std::uint64_t k80 = 0x8080808080808080ULL;
    const std::uint64_t low7 = w & ~k80;
    // Per byte, the high bit says low7 >= 'A' (resp. > 'Z'); no carry leaves a byte.
    const std::uint64_t ge_a = low7 + k01 * (0x80 - 'A');
    const std::uint64_t gt_z = low7 + k01 * (0x80 - 'Z' - 1);
    const std::uint64_t upper = ge_a & ~gt_z & ~w & k80;
    return w | (upper >> 2);
}

inline char fold_char(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Word-at-a-time hash of bytes; with `fold`, of their ASCII lower-case form, so a sample is
// hashed case-insensitively without being copied.
inline std::uint64_t hash_bytes(const char* p, std::size_t n, bool fold) {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        if (fold) w = fold_word(w);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        if (fold) w = fold_word(w);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
    }
    return mix64(h);
}

// Open addressing (linear probing, at most half full) from a hash to a reference the caller
// resolves; equality is the caller's, so keys live where the caller keeps them.
class HashSlots {
  public:
    template <class Eq>
    std::uint32_t find(std::uint64_t hash, Eq&& eq) const {
        if (slots_.empty()) return kNone;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.ref == kNone) return kNone;
            if (s.hash == hash && eq(s.ref)) return s.ref;
        }
    }
    // Adds `ref` unless an equal key is there already: the first one added stays (HAProxy
    // returns the first of duplicates). Returns the reference that stays.
    template <class Eq>
    std::uint32_t insert(std::uint64_t hash, std::uint32_t ref, Eq&& eq) {
        const std::uint32_t found = find(hash, eq);
        if (found != kNone) return found;
        if ((count_ + 1) * 2 > slots_.size()) grow();
        place(hash, ref);
        ++count_;
        return ref;
    }

  private:
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t ref = kNone;
    };
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
        for (const Slot& s : old)
            if (s.ref != kNone) place(s.hash, s.ref);
    }
    void place(std::uint64_t hash, std::uint32_t ref) {
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = hash & mask;
        while (slots_[i].ref != kNone)
            i = (i + 1) & mask;
        slots_[i] = Slot{hash, ref};
    }
    std::vector<Slot> slots_;
    std::size_t count_ = 0;
};

// IPv4 and IPv6 networks, found by longest prefix without a scan: one hash table per family
// keyed by (prefix length, masked address), probed only at the lengths in use, longest first.
// IPv4 networks with a non-contiguous dotted mask (legal in HAProxy) have no prefix length and
// are kept apart, checked last in order, as HAProxy does.
class IpIndex {
  public:
    // Parses an address or network and indexes it as pattern `id`.
    util::Status add(std::string_view text, std::uint32_t id);
    // The pattern HAProxy picks for an Ipv4 or Ipv6 sample, kNone when none: the longest
    // prefix of the sample's own family, then the other family's form of the sample (an IPv4
    // sample as ::ffff:a.b.c.d; an IPv6 one holding an IPv4 address as ::ffff:a.b.c.d,
    // ::a.b.c.d or 2002:AABB:CCDD::), then the non-contiguous masks.
    std::uint32_t find(const Sample& s) const;

  private:
    struct V4 {
        std::uint32_t addr;  // host order, masked
        std::uint8_t len;
        std::uint32_t id;
    };
    struct V6 {
        std::uint64_t hi, lo;  // host order, masked
        std::uint8_t len;
        std::uint32_t id;
    };
    struct Loose {
        std::uint32_t addr, mask;  // host order
        std::uint32_t id;
    };
    std::uint32_t find_v4(std::uint32_t addr) const;
    std::uint32_t find_v6(std::uint64_t hi, std::uint64_t lo) const;
    std::uint32_t find_loose(std::uint32_t addr) const;

    std::vector<V4> v4_;
    HashSlots v4_slots_;
    std::vector<std::uint8_t> v4_lens_;  // in use, longest first
    std::vector<V6> v6_;
    HashSlots v6_slots_;
    std::vector<std::uint8_t> v6_lens_;
    std::vector<Loose> loose_;
};

}  // namespace sluice::sample::detail
