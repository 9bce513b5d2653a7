// Sample types and HAProxy's casts between them (see sample.hpp).
#include "sluice/sample/sample.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace sluice::sample {

std::string_view type_name(Type t) {
    switch (t) {
        case Type::Any:
            return "any";
        case Type::Bool:
            return "bool";
        case Type::Sint:
            return "sint";
        case Type::Addr:
            return "addr";
        case Type::Ipv4:
            return "ipv4";
        case Type::Ipv6:
            return "ipv6";
        case Type::Str:
            return "str";
        case Type::Bin:
            return "bin";
        case Type::Meth:
            return "meth";
    }
    return "?";
}

bool Sample::from_address(const net::Address& a, Sample& out) {
    if (a.family() == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&a.storage);
        out = Sample::of(Type::Ipv4);
        std::memcpy(out.ip.data(), &in->sin_addr, 4);
        return true;
    }
    if (a.family() == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
        out = Sample::of(Type::Ipv6);
        std::memcpy(out.ip.data(), &in6->sin6_addr, 16);
        return true;
    }
    return false;
}

std::string& Arena::take() {
    if (used_ == strings_.size()) strings_.push_back(std::make_unique<std::string>());
    std::string& s = *strings_[used_++];
    s.clear();
    return s;
}

namespace {

bool is_ip(Type t) {
    return t == Type::Ipv4 || t == Type::Ipv6 || t == Type::Addr;
}
bool is_bytes(Type t) {
    return t == Type::Str || t == Type::Bin || t == Type::Meth;
}

// HAProxy reads an integer from a string the way strtoll would from its start: optional sign,
// digits; anything after the digits is ignored; no digit at all is a failed cast.
bool parse_leading_int(std::string_view s, std::int64_t& out) {
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    const char* first = s.data() + i;
    const char* last = s.data() + s.size();
    if (first < last && *first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, last, out);
    return ec == std::errc() && end != first;
}

bool parse_ip(std::string_view s, Sample& out) {
    char buf[INET6_ADDRSTRLEN + 1];
    if (s.size() >= sizeof buf) return false;
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = 0;
    Sample r;
    if (inet_pton(AF_INET, buf, r.ip.data()) == 1) {
        r.type = Type::Ipv4;
    } else if (inet_pton(AF_INET6, buf, r.ip.data()) == 1) {
        r.type = Type::Ipv6;
    } else {
        return false;
    }
    out = r;
    return true;
}

}  // namespace

bool castable(Type from, Type to) {
    if (to == Type::Any || from == to) return true;
    if (from == Type::Any) return true;  // decided at run time
    switch (to) {
        case Type::Bool:
        case Type::Sint:
            return from == Type::Bool || from == Type::Sint || from == Type::Str ||
                   (to == Type::Sint && from == Type::Ipv4);
        case Type::Addr:
            return is_ip(from) || from == Type::Str;
        case Type::Ipv4:
        case Type::Ipv6:
            return is_ip(from) || from == Type::Str || (to == Type::Ipv4 && from == Type::Sint);
        case Type::Str:
        case Type::Bin:
            return true;
        case Type::Meth:
            return from == Type::Str || from == Type::Bin;
        case Type::Any:
            return true;
    }
    return false;
}

bool cast(Sample& s, Type to, Arena& arena) {
    if (to == Type::Any || s.type == to) return true;
    switch (to) {
        case Type::Bool:
        case Type::Sint:
            if (s.type == Type::Bool || s.type == Type::Sint) {
                if (to == Type::Bool) s.sint = s.sint != 0;
                s.type = to;
                return true;
            }
            if (s.type == Type::Ipv4 && to == Type::Sint) {
                // HAProxy reads an IPv4 address as its 32-bit number (host order).
                std::uint32_t n;
                std::memcpy(&n, s.ip.data(), 4);
                s = Sample::integer(ntohl(n));
                return true;
            }
            if (s.type == Type::Str) {
                std::int64_t v;
                if (!parse_leading_int(s.str, v)) return false;
                s = Sample::integer(to == Type::Bool ? v != 0 : v);
                s.type = to;
                return true;
            }
            return false;
        case Type::Addr:
            if (s.type == Type::Ipv4 || s.type == Type::Ipv6) return true;
            return s.type == Type::Str && parse_ip(s.str, s);
        case Type::Ipv4:
            if (s.type == Type::Ipv6) {
                // Only a v4-mapped address has an IPv4 form.
                static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                                             0, 0, 0, 0, 0xff, 0xff};
                if (std::memcmp(s.ip.data(), kMapped, 12) != 0) return false;
                std::memmove(s.ip.data(), s.ip.data() + 12, 4);
                s.type = Type::Ipv4;
                return true;
            }
            if (s.type == Type::Sint) {
                const auto v = static_cast<std::uint32_t>(s.sint);
                const std::uint32_t n = htonl(v);
                s.type = Type::Ipv4;
                std::memcpy(s.ip.data(), &n, 4);
                return true;
            }
            return s.type == Type::Str && parse_ip(s.str, s) && cast(s, Type::Ipv4, arena);
        case Type::Ipv6:
            if (s.type == Type::Ipv4) {
                std::uint8_t v4[4];
                std::memcpy(v4, s.ip.data(), 4);
                s.ip.fill(0);
                s.ip[10] = s.ip[11] = 0xff;
                std::memcpy(s.ip.data() + 12, v4, 4);
                s.type = Type::Ipv6;
                return true;
            }
            return s.type == Type::Str && parse_ip(s.str, s) && cast(s, Type::Ipv6, arena);
        case Type::Str:
        case Type::Bin:
            if (is_bytes(s.type)) {
                s.type = to;
                return true;
            }
            if ((s.type == Type::Bool || s.type == Type::Sint) && to == Type::Bin) {
                // An integer's binary form is its 8 bytes, big-endian (HAProxy).
                std::string& buf = arena.take();
                buf.resize(8);
                const auto v = static_cast<std::uint64_t>(s.sint);
                for (int i = 0; i < 8; ++i)
                    buf[static_cast<std::size_t>(i)] = static_cast<char>(v >> (56 - 8 * i));
                s.str = buf;
                s.type = to;
                return true;
            }
            if (s.type == Type::Bool || s.type == Type::Sint) {
                std::string& buf = arena.take();
                buf = std::to_string(s.sint);
                s.str = buf;
                s.type = to;
                return true;
            }
            if (s.type == Type::Ipv4 || s.type == Type::Ipv6) {
                if (to == Type::Bin) {
                    std::string& buf = arena.take();
                    buf.assign(reinterpret_cast<const char*>(s.ip.data()),
                               s.type == Type::Ipv4 ? 4 : 16);
                    s.str = buf;
                    s.type = to;
                    return true;
                }
                char text[INET6_ADDRSTRLEN];
                if (!inet_ntop(s.type == Type::Ipv4 ? AF_INET : AF_INET6, s.ip.data(), text,
                               sizeof text))
                    return false;
                std::string& buf = arena.take();
                buf = text;
                s.str = buf;
                s.type = to;
                return true;
            }
            return false;
        case Type::Meth:
            if (s.type == Type::Str || s.type == Type::Bin) {
                s.type = Type::Meth;
                return true;
            }
            return false;
        case Type::Any:
            return true;
    }
    return false;
}

}  // namespace sluice::sample
