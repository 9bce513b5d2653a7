// `-m ip` patterns: HAProxy's address and network notations, and the longest-prefix index
// (see pattern_index.hpp).
#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "pattern_index.hpp"

namespace sluice::sample::detail {
namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool read_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) {
    if (!all_digits(s)) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && out <= max;
}

// "a.b.c.d", or HAProxy's short forms where the last number fills the remaining bytes
// ("10.12" is 10.0.0.12, "192.168.1" is 192.168.0.1: what the resolver HAProxy calls makes of
// them). Decimal only: a leading zero would be octal to that resolver, and is refused rather
// than silently read either way.
bool parse_v4_full(std::string_view s, std::uint32_t& out) {
    char buf[INET_ADDRSTRLEN];
    if (s.size() >= sizeof buf) return false;
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = 0;
    in_addr a;
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}

bool parse_v4(std::string_view s, std::uint32_t& out) {
    if (parse_v4_full(s, out)) return true;
    std::uint64_t parts[3];
    std::size_t n = 0, at = 0;
    while (true) {
        const std::size_t dot = s.find('.', at);
        const std::string_view part =
            s.substr(at, dot == std::string_view::npos ? s.npos : dot - at);
        if (n == 3 || (part.size() > 1 && part[0] == '0')) return false;
        if (!read_uint(part, UINT32_MAX, parts[n])) return false;
        ++n;
        if (dot == std::string_view::npos) break;
        at = dot + 1;
    }
    // A lone number ("10") would be 0.0.0.10: more likely a mistake than meant.
    if (n < 2) return false;
    const unsigned last_bits = 8 * static_cast<unsigned>(4 - (n - 1));
    std::uint32_t v = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        if (parts[i] > 255) return false;
        v |= static_cast<std::uint32_t>(parts[i]) << (24 - 8 * i);
    }
    if (parts[n - 1] >= (std::uint64_t{1} << last_bits)) return false;
    out = v | static_cast<std::uint32_t>(parts[n - 1]);
    return true;
}

bool parse_v6(std::string_view s, std::uint64_t& hi, std::uint64_t& lo) {
    char buf[INET6_ADDRSTRLEN];
    if (s.size() >= sizeof buf) return false;
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = 0;
    std::uint8_t b[16];
    if (inet_pton(AF_INET6, buf, b) != 1) return false;
    hi = lo = 0;
    for (int i = 0; i < 8; ++i) {
        hi = (hi << 8) | b[i];
        lo = (lo << 8) | b[8 + i];
    }
    return true;
}

std::uint32_t mask_v4(unsigned len) {
    return len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
}

void mask_v6(unsigned len, std::uint64_t& hi, std::uint64_t& lo) {
    if (len <= 64) {
        hi &= len == 0 ? 0 : ~std::uint64_t{0} << (64 - len);
        lo = 0;
    } else if (len < 128) {
        lo &= ~std::uint64_t{0} << (128 - len);
    }
}

std::uint64_t hash_v4(std::uint32_t addr, unsigned len) {
    return mix64((std::uint64_t{len} << 32) | addr);
}
std::uint64_t hash_v6(std::uint64_t hi, std::uint64_t lo, unsigned len) {
    return mix64(hi ^ mix64(lo ^ len));
}

void insert_len(std::vector<std::uint8_t>& lens, unsigned len) {
    const auto v = static_cast<std::uint8_t>(len);
    const auto it = std::lower_bound(lens.begin(), lens.end(), v, std::greater<>());
    if (it == lens.end() || *it != v) lens.insert(it, v);
}

// A word of letters, digits, '-' and '.' with a letter in it: a host name, which HAProxy
// would resolve at start-up and sluice does not.
bool looks_like_name(std::string_view s) {
    bool letter = false;
    for (char c : s) {
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        letter |= alpha;
        if (!alpha && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') return false;
    }
    return letter;
}

}  // namespace

util::Status IpIndex::add(std::string_view text, std::uint32_t id) {
    const std::size_t slash = text.rfind('/');
    const std::string_view addr = text.substr(0, slash);
    const bool has_mask = slash != std::string_view::npos;
    const std::string_view mask = has_mask ? text.substr(slash + 1) : std::string_view{};

    std::uint32_t v4;
    if (parse_v4(addr, v4)) {
        std::uint32_t m = ~std::uint32_t{0};
        if (has_mask) {
            std::uint64_t bits;
            if (mask.find('.') != std::string_view::npos) {
                if (!parse_v4_full(mask, m)) {
                    return util::error(
                        fmt::format("'{}' is not a valid IPv4 network: bad mask '{}'", text, mask));
                }
            } else if (read_uint(mask, 32, bits)) {
                m = mask_v4(static_cast<unsigned>(bits));
            } else {
                return util::error(fmt::format(
                    "'{}' is not a valid IPv4 network: the mask must be 0 to 32 bits or dotted",
                    text));
            }
        }
        // Contiguous: only ones on the left, so adding its lowest set bit wraps it to zero.
        if (static_cast<std::uint32_t>(m + (m & (~m + 1))) != 0) {
            loose_.push_back(Loose{v4 & m, m, id});
            return util::ok();
        }
        const unsigned len = m == 0 ? 0 : 32 - static_cast<unsigned>(__builtin_ctz(m));
        const std::uint32_t key = v4 & m;
        const auto r = static_cast<std::uint32_t>(v4_.size());
        const std::uint32_t kept = v4_slots_.insert(hash_v4(key, len), r, [&](std::uint32_t e) {
            return v4_[e].addr == key && v4_[e].len == len;
        });
        if (kept == r) v4_.push_back(V4{key, static_cast<std::uint8_t>(len), id});
        insert_len(v4_lens_, len);
        return util::ok();
    }

    std::uint64_t hi, lo;
    if (parse_v6(addr, hi, lo)) {
        std::uint64_t len = 128;
        if (has_mask && !read_uint(mask, 128, len)) {
            return util::error(fmt::format(
                "'{}' is not a valid IPv6 network: the mask must be 0 to 128 bits", text));
        }
        const auto l = static_cast<unsigned>(len);
        mask_v6(l, hi, lo);
        const auto r = static_cast<std::uint32_t>(v6_.size());
        const std::uint32_t kept = v6_slots_.insert(hash_v6(hi, lo, l), r, [&](std::uint32_t e) {
            return v6_[e].hi == hi && v6_[e].lo == lo && v6_[e].len == l;
        });
        if (kept == r) v6_.push_back(V6{hi, lo, static_cast<std::uint8_t>(l), id});
        insert_len(v6_lens_, l);
        return util::ok();
    }

    if (looks_like_name(addr)) {
        return util::error(fmt::format(
            "'{}' is not an IP address (sluice does not resolve host names in patterns)", text));
    }
    return util::error(fmt::format("'{}' is not a valid IPv4 or IPv6 address", text));
}

std::uint32_t IpIndex::find_v4(std::uint32_t addr) const {
    for (const std::uint8_t len : v4_lens_) {
        const std::uint32_t key = addr & mask_v4(len);
        const std::uint32_t e = v4_slots_.find(hash_v4(key, len), [&](std::uint32_t r) {
            return v4_[r].addr == key && v4_[r].len == len;
        });
        if (e != kNone) return v4_[e].id;
    }
    return kNone;
}

std::uint32_t IpIndex::find_v6(std::uint64_t hi, std::uint64_t lo) const {
    for (const std::uint8_t len : v6_lens_) {
        std::uint64_t h = hi, l = lo;
        mask_v6(len, h, l);
        const std::uint32_t e = v6_slots_.find(hash_v6(h, l, len), [&](std::uint32_t r) {
            return v6_[r].hi == h && v6_[r].lo == l && v6_[r].len == len;
        });
        if (e != kNone) return v6_[e].id;
    }
    return kNone;
}

std::uint32_t IpIndex::find_loose(std::uint32_t addr) const {
    for (const Loose& l : loose_)
        if ((addr & l.mask) == l.addr) return l.id;
    return kNone;
}

std::uint32_t IpIndex::find(const Sample& s) const {
    auto be32 = [&](std::size_t at) {
        return std::uint32_t{s.ip[at]} << 24 | std::uint32_t{s.ip[at + 1]} << 16 |
               std::uint32_t{s.ip[at + 2]} << 8 | s.ip[at + 3];
    };
    if (s.type == Type::Ipv4) {
        const std::uint32_t v4 = be32(0);
        std::uint32_t id = find_v4(v4);
        if (id == kNone && !v6_lens_.empty()) id = find_v6(0, 0xffff00000000ULL | v4);
        if (id == kNone && !loose_.empty()) id = find_loose(v4);
        return id;
    }
    if (s.type != Type::Ipv6) return kNone;
    const std::uint64_t hi = std::uint64_t{be32(0)} << 32 | be32(4);
    const std::uint64_t lo = std::uint64_t{be32(8)} << 32 | be32(12);
    std::uint32_t id = find_v6(hi, lo);
    if (id != kNone) return id;
    // HAProxy's v6tov4: mapped (::ffff:V4), compatible (::V4) and 6to4 (2002:V4::/16).
    std::uint32_t v4;
    if (hi == 0 && ((lo >> 32) == 0xffff || (lo >> 32) == 0)) {
        v4 = static_cast<std::uint32_t>(lo);
    } else if ((hi >> 48) == 0x2002) {
        v4 = static_cast<std::uint32_t>(hi >> 16);
    } else {
        return kNone;
    }
    id = find_v4(v4);
    if (id == kNone) id = find_loose(v4);
    return id;
}

}  // namespace sluice::sample::detail
