// Parsing and printing addresses in HAProxy's notations (see address.hpp).
#include "sluice/net/address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>

namespace sluice::net {
namespace {

util::Result<std::uint16_t> parse_port(std::string_view text) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v > 65535)
        return util::error(fmt::format("invalid port '{}'", text));
    return static_cast<std::uint16_t>(v);
}

// Fills `out` with the numeric IP in `host` ("" or "*" meaning any of `family`, AF_UNSPEC
// meaning IPv4 any). Returns false when `host` is not a numeric address.
bool numeric_ip(std::string_view host, int family, Address& out) {
    std::string h(host);
    if (h.empty() || h == "*") {
        if (family == AF_INET6) {
            auto* s6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
            s6->sin6_family = AF_INET6;
            s6->sin6_addr = in6addr_any;
            out.length = sizeof(sockaddr_in6);
        } else {
            auto* s4 = reinterpret_cast<sockaddr_in*>(&out.storage);
            s4->sin_family = AF_INET;
            s4->sin_addr.s_addr = htonl(INADDR_ANY);
            out.length = sizeof(sockaddr_in);
        }
        return true;
    }
    if (family != AF_INET6) {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&out.storage);
        if (inet_pton(AF_INET, h.c_str(), &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            out.length = sizeof(sockaddr_in);
            return true;
        }
    }
    if (family != AF_INET) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
        if (inet_pton(AF_INET6, h.c_str(), &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            out.length = sizeof(sockaddr_in6);
            return true;
        }
    }
    return false;
}

// A host name to its first address of `family` (AF_UNSPEC: any), with the system resolver.
util::Status resolve(std::string_view host, int family, Address& out) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string name(host);
    const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res)
        return util::error(
            fmt::format("could not resolve address '{}': {}", host, gai_strerror(rc)));
    std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
    out.length = res->ai_addrlen;
    freeaddrinfo(res);
    return util::ok();
}

struct HostPort {
    std::string_view host;
    std::string_view port;  // empty when absent
    bool bracketed = false;
};

// "[::1]:80", "1.2.3.4:80", "host", ":80", "*:80". Without brackets the last colon separates
// the port, as HAProxy reads it ("::1:80" is ::1 port 80).
util::Result<HostPort> split_host_port(std::string_view text) {
    HostPort hp;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos)
            return util::error(fmt::format("missing ']' in '{}'", text));
        hp.host = text.substr(1, close - 1);
        hp.bracketed = true;
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':')
                return util::error(fmt::format("expected ':' after ']' in '{}'", text));
            hp.port = text.substr(close + 2);
        }
        return hp;
    }
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return HostPort{text, {}, false};
    hp.host = text.substr(0, colon);
    hp.port = text.substr(colon + 1);
    return hp;
}

util::Result<std::vector<Endpoint>> parse_one_bind(std::string_view text) {
    std::vector<Endpoint> out;
    int family = AF_UNSPEC;
    std::string_view rest = text;
    if (rest.starts_with("ipv4@")) {
        family = AF_INET;
        rest.remove_prefix(5);
    } else if (rest.starts_with("ipv6@")) {
        family = AF_INET6;
        rest.remove_prefix(5);
    } else if (rest.starts_with("unix@") || rest.starts_with("abns@")) {
        const bool abstract = rest.starts_with("abns@");
        std::string_view path = rest.substr(5);
        Endpoint e;
        e.text = std::string(text);
        auto* sun = reinterpret_cast<sockaddr_un*>(&e.address.storage);
        sun->sun_family = AF_UNIX;
        const std::size_t offset = abstract ? 1 : 0;
        if (path.empty() || path.size() + offset >= sizeof(sun->sun_path))
            return util::error(fmt::format("invalid UNIX socket path '{}'", path));
        std::memcpy(sun->sun_path + offset, path.data(), path.size());
        e.address.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + offset +
                                                  path.size() + (abstract ? 0 : 1));
        out.push_back(std::move(e));
        return out;
    } else if (rest.starts_with("fd@")) {
        int fd = -1;
        std::string_view num = rest.substr(3);
        auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), fd);
        if (num.empty() || ec != std::errc() || end != num.data() + num.size() || fd < 0)
            return util::error(fmt::format("invalid file descriptor in '{}'", text));
        Endpoint e;
        e.inherited_fd = fd;
        e.text = std::string(text);
        out.push_back(std::move(e));
        return out;
    } else if (const std::size_t at = rest.find('@'); at != std::string_view::npos) {
        return util::error(
            fmt::format("unsupported address family '{}' in '{}'", rest.substr(0, at + 1), text));
    } else if (!rest.empty() && rest.front() == '/') {
        return parse_one_bind(fmt::format("unix@{}", rest));
    }

    auto split = split_host_port(rest);
    if (!split) return util::error(split.error());
    HostPort hp = *split;
    if (hp.port.empty())
        return util::error(fmt::format("missing port in '{}' (expected [address]:port)", text));
    std::uint16_t low, high;
    if (const std::size_t dash = hp.port.find('-'); dash != std::string_view::npos) {
        auto a = parse_port(hp.port.substr(0, dash));
        auto b = parse_port(hp.port.substr(dash + 1));
        if (!a) return util::error(a.error());
        if (!b) return util::error(b.error());
        if (*a > *b) return util::error(fmt::format("invalid port range '{}'", hp.port));
        low = *a;
        high = *b;
        if (low == 0) return util::error(fmt::format("invalid port '0' in '{}'", text));
    } else {
        auto p = parse_port(hp.port);
        if (!p) return util::error(p.error());
        low = high = *p;
        if (low == 0) return util::error(fmt::format("invalid port '0' in '{}'", text));
    }
    Address base;
    if (!numeric_ip(hp.host, family, base)) {
        // A host name in a bind line: resolve it once, as HAProxy does.
        if (auto r = resolve(hp.host, family, base); !r) return util::error(r.error());
    }
    for (unsigned port = low; port <= high; ++port) {
        Endpoint e;
        e.address = base;
        e.address.set_port(static_cast<std::uint16_t>(port));
        e.text = std::string(text);
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace

std::uint16_t Address::port() const {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    if (family() == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    return 0;
}

void Address::set_port(std::uint16_t port) {
    if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
    if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
}

std::string_view Address::ip_text(char* buf, std::size_t size) const {
    const void* ip = nullptr;
    if (family() == AF_INET) ip = &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr;
    if (family() == AF_INET6) ip = &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr;
    if (!ip || !inet_ntop(family(), ip, buf, static_cast<socklen_t>(size))) return {};
    return buf;
}

bool parse_numeric_ip(std::string_view text, std::uint16_t port, Address& out) {
    const std::string t(text);
    out = {};
    auto* s4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (inet_pton(AF_INET, t.c_str(), &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        out.length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, t.c_str(), &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        out.length = sizeof(sockaddr_in6);
    } else {
        return false;
    }
    out.set_port(port);
    return true;
}

std::string Address::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) return fmt::format("{}:{}", ip_text(buf, sizeof buf), port());
    if (family() == AF_INET6) return fmt::format("[{}]:{}", ip_text(buf, sizeof buf), port());
    if (family() == AF_UNIX) {
        const auto* sun = reinterpret_cast<const sockaddr_un*>(&storage);
        if (sun->sun_path[0] == '\0')
            return fmt::format(
                "abns@{}",
                std::string_view(sun->sun_path + 1, length - offsetof(sockaddr_un, sun_path) - 1));
        return fmt::format("unix@{}", sun->sun_path);
    }
    return "?";
}

util::Result<std::vector<Endpoint>> parse_bind_address(std::string_view text) {
    std::vector<Endpoint> all;
    while (true) {
        const std::size_t comma = text.find(',');
        auto part = parse_one_bind(text.substr(0, comma));
        if (!part) return part;
        for (Endpoint& e : *part)
            all.push_back(std::move(e));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return all;
}

util::Result<ServerAddress> parse_server_address(std::string_view text) {
    ServerAddress out;
    int family = AF_UNSPEC;
    std::string_view rest = text;
    if (rest.starts_with("ipv4@")) {
        family = AF_INET;
        rest.remove_prefix(5);
    } else if (rest.starts_with("ipv6@")) {
        family = AF_INET6;
        rest.remove_prefix(5);
    } else if (rest.starts_with("unix@") || rest.starts_with("abns@") || rest.starts_with("/")) {
        auto eps = parse_bind_address(rest);
        if (!eps) return util::error(eps.error());
        out.address = (*eps)[0].address;
        out.has_port = true;
        return out;
    } else if (rest.find('@') != std::string_view::npos) {
        return util::error(fmt::format("unsupported address family in '{}'", text));
    }
    auto split = split_host_port(rest);
    if (!split) return util::error(split.error());
    HostPort hp = *split;
    if (hp.host.empty()) return util::error(fmt::format("missing address in '{}'", text));
    if (!numeric_ip(hp.host, family, out.address)) {
        if (auto r = resolve(hp.host, family, out.address); !r) return util::error(r.error());
    }
    if (!hp.port.empty()) {
        std::string_view p = hp.port;
        if (p.front() == '+' || p.front() == '-') {
            out.port_is_offset = true;
            const bool negative = p.front() == '-';
            auto v = parse_port(p.substr(1));
            if (!v) return util::error(v.error());
            out.port_offset = negative ? -int(*v) : int(*v);
        } else {
            auto v = parse_port(p);
            if (!v) return util::error(v.error());
            out.address.set_port(*v);
            out.has_port = true;
        }
    }
    return out;
}

}  // namespace sluice::net

namespace sluice::net {

util::Result<Network> parse_network(std::string_view text) {
    Network n;
    const std::size_t slash = text.find('/');
    const std::string host(text.substr(0, slash));
    const unsigned max_bits = host.find(':') != std::string::npos ? 128 : 32;
    n.family = max_bits == 128 ? AF_INET6 : AF_INET;
    if (inet_pton(n.family, host.c_str(), n.bytes) != 1)
        return util::error(fmt::format("invalid network address '{}'", text));
    n.prefix = max_bits;
    if (slash != std::string_view::npos) {
        const std::string mask(text.substr(slash + 1));
        unsigned bits = 0;
        auto [end, ec] = std::from_chars(mask.data(), mask.data() + mask.size(), bits);
        const bool numeric = ec == std::errc() && end == mask.data() + mask.size();
        if (numeric && bits <= max_bits) {
            n.prefix = bits;
        } else if (!numeric && n.family == AF_INET) {
            // A dotted mask: it must be contiguous ones.
            in_addr m{};
            if (inet_pton(AF_INET, mask.c_str(), &m) != 1)
                return util::error(fmt::format("invalid network mask in '{}'", text));
            const std::uint32_t v = ntohl(m.s_addr);
            const unsigned ones = static_cast<unsigned>(__builtin_popcount(v));
            if (ones != 32 && v != (~0u << (32 - ones)))
                return util::error(fmt::format("non-contiguous network mask in '{}'", text));
            n.prefix = ones;
        } else {
            return util::error(fmt::format("invalid network prefix in '{}'", text));
        }
    }
    return n;
}

bool Network::contains(const Address& a) const {
    const std::uint8_t* ip = nullptr;
    std::uint8_t mapped[4];
    if (a.family() == AF_INET && family == AF_INET) {
        ip = reinterpret_cast<const std::uint8_t*>(
            &reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr);
    } else if (a.family() == AF_INET6 && family == AF_INET6) {
        ip = reinterpret_cast<const std::uint8_t*>(
            &reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr);
    } else if (a.family() == AF_INET6 && family == AF_INET) {
        // An IPv4-mapped IPv6 client (a dual-stack bind) matches IPv4 networks.
        const auto* b = reinterpret_cast<const std::uint8_t*>(
            &reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr);
        static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(b, kPrefix, 12) != 0) return false;
        std::memcpy(mapped, b + 12, 4);
        ip = mapped;
    } else {
        return false;
    }
    const unsigned full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(ip, bytes, full) != 0) return false;
    if (rest == 0) return true;
    const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (ip[full] & mask) == (bytes[full] & mask);
}

}  // namespace sluice::net
