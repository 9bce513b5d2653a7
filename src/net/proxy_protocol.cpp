// The PROXY protocol header, read and written (see proxy_protocol.hpp). Facts from the
// protocol's specification (Debian's haproxy-doc, proxy-protocol.txt).
#include "sluice/net/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

namespace sluice::net {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::size_t kV1Max = 107;  // the longest line, CRLF included
constexpr unsigned char kV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                            0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t kV2Fixed = 16;

std::string_view text(std::span<const std::byte> in) {
    return {reinterpret_cast<const char*>(in.data()), in.size()};
}

ProxyParse invalid(std::string* why, std::string_view what) {
    if (why) *why = what;
    return ProxyParse::Invalid;
}

// Does `in` start like `prefix` (all of `in` when shorter)?
bool starts_like(std::string_view in, std::string_view prefix) {
    const std::size_t n = std::min(in.size(), prefix.size());
    return in.substr(0, n) == prefix.substr(0, n);
}

bool parse_port(std::string_view s, std::uint16_t& port) {
    unsigned v = 0;
    if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

bool parse_ip(std::string_view s, int family, std::uint16_t port, Address& out) {
    char buf[INET6_ADDRSTRLEN];
    if (s.empty() || s.size() >= sizeof buf) return false;
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    out = Address{};
    if (family == AF_INET) {
        sockaddr_in in{};
        in.sin_family = AF_INET;
        if (inet_pton(AF_INET, buf, &in.sin_addr) != 1) return false;
        in.sin_port = htons(port);
        std::memcpy(&out.storage, &in, sizeof in);
        out.length = sizeof in;
    } else {
        sockaddr_in6 in6{};
        in6.sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, buf, &in6.sin6_addr) != 1) return false;
        in6.sin6_port = htons(port);
        std::memcpy(&out.storage, &in6, sizeof in6);
        out.length = sizeof in6;
    }
    return true;
}

// "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN[ anything]\r\n".
ProxyParse parse_v1(std::string_view in, ProxyHeader& out, std::string* why) {
    const std::size_t crlf = in.substr(0, kV1Max).find("\r\n");
    if (crlf == std::string_view::npos) {
        if (in.size() >= kV1Max)
            return invalid(why, "no CRLF in the first 107 bytes of a v1 header");
        // A control character (but a CR that may yet be followed by its LF) makes the line
        // invalid whatever follows.
        for (std::size_t i = 0; i < in.size(); ++i) {
            const auto c = static_cast<unsigned char>(in[i]);
            if ((c < 0x20 || c == 0x7f) && !(c == '\r' && i + 1 == in.size()))
                return invalid(why, "control character in a v1 header");
        }
        return ProxyParse::Incomplete;
    }
    out = ProxyHeader{};
    out.length = crlf + 2;
    std::string_view line = in.substr(kV1Prefix.size(), crlf - kV1Prefix.size());
    // Printable text only: a NUL would end an address early for inet_pton, and a bare LF or CR
    // is no line of this protocol.
    for (const char c : line)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return invalid(why, "control character in a v1 header");
    auto word = [&line]() {
        const std::size_t sp = line.find(' ');
        const std::string_view w = line.substr(0, sp);
        line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
        return w;
    };
    const std::string_view proto = word();
    if (proto == "UNKNOWN") {
        out.local = true;  // the rest of the line is to be ignored
        return ProxyParse::Done;
    }
    int family = 0;
    if (proto == "TCP4")
        family = AF_INET;
    else if (proto == "TCP6")
        family = AF_INET6;
    else
        return invalid(why, "unknown protocol in a v1 header (expected TCP4, TCP6 or UNKNOWN)");
    const std::string_view src = word(), dst = word(), sport = word(), dport = word();
    std::uint16_t sp = 0, dp = 0;
    if (!line.empty() || dport.empty()) return invalid(why, "bad field count in a v1 header");
    if (!parse_port(sport, sp) || !parse_port(dport, dp))
        return invalid(why, "bad port in a v1 header");
    if (!parse_ip(src, family, sp, out.src) || !parse_ip(dst, family, dp, out.dst))
        return invalid(why, "bad address in a v1 header");
    return ProxyParse::Done;
}

ProxyParse parse_v2(std::span<const std::byte> in, ProxyHeader& out, std::string* why) {
    if (in.size() < kV2Fixed) return ProxyParse::Incomplete;
    const auto byte = [&in](std::size_t i) { return static_cast<unsigned>(in[i]); };
    const unsigned version = byte(12) >> 4, command = byte(12) & 0x0F;
    if (version != 2) return invalid(why, "v2 header with a version other than 2");
    if (command > 1) return invalid(why, "v2 header with an unknown command");
    const std::size_t length = kV2Fixed + (byte(14) << 8 | byte(15));
    if (length > kMaxProxyHeader) return invalid(why, "v2 header longer than sluice accepts");
    if (in.size() < length) return ProxyParse::Incomplete;
    out = ProxyHeader{};
    out.length = length;
    const unsigned family = byte(13) >> 4, transport = byte(13) & 0x0F;
    if (family > 3 || transport > 2) return invalid(why, "v2 header with an unknown family");
    if (command == 0 || transport == 0 || (family != 1 && family != 2)) {
        // LOCAL (the sender's own connection, a health check), or nothing we can carry.
        out.local = true;
        return ProxyParse::Done;
    }
    const std::size_t need = family == 1 ? 12 : 36;
    if (length - kV2Fixed < need) return invalid(why, "v2 address block too short");
    const std::byte* a = in.data() + kV2Fixed;
    const std::size_t ip_len = family == 1 ? 4 : 16;
    const auto port_at = [&](std::size_t i) {
        return static_cast<std::uint16_t>(byte(kV2Fixed + i) << 8 | byte(kV2Fixed + i + 1));
    };
    for (int i = 0; i < 2; ++i) {
        Address& addr = i == 0 ? out.src : out.dst;
        const std::uint16_t port = port_at(2 * ip_len + 2 * static_cast<std::size_t>(i));
        if (family == 1) {
            sockaddr_in s{};
            s.sin_family = AF_INET;
            std::memcpy(&s.sin_addr, a + i * ip_len, ip_len);
            s.sin_port = htons(port);
            std::memcpy(&addr.storage, &s, sizeof s);
            addr.length = sizeof s;
        } else {
            sockaddr_in6 s{};
            s.sin6_family = AF_INET6;
            std::memcpy(&s.sin6_addr, a + i * ip_len, ip_len);
            s.sin6_port = htons(port);
            std::memcpy(&addr.storage, &s, sizeof s);
            addr.length = sizeof s;
        }
    }
    return ProxyParse::Done;
}

}  // namespace

ProxyParse parse_proxy_header(std::span<const std::byte> in, ProxyHeader& out, std::string* why) {
    if (in.empty()) return ProxyParse::Incomplete;
    const std::string_view t = text(in);
    const std::string_view sig(reinterpret_cast<const char*>(kV2Signature), sizeof kV2Signature);
    if (starts_like(t, sig)) {
        if (t.size() < sig.size()) return ProxyParse::Incomplete;
        return parse_v2(in, out, why);
    }
    if (starts_like(t, kV1Prefix)) {
        if (t.size() < kV1Prefix.size()) return ProxyParse::Incomplete;
        return parse_v1(t, out, why);
    }
    return invalid(why, "the connection does not start with a PROXY protocol header");
}

std::size_t write_proxy_header(int version, const Address& src, const Address& dst,
                               std::span<std::byte> out) {
    const int family = src.family();
    const bool ip = (family == AF_INET || family == AF_INET6) && dst.family() == family;
    if (version == 1) {
        std::string line;
        if (!ip) {
            line = "PROXY UNKNOWN\r\n";
        } else {
            char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
            line = fmt::format("PROXY {} {} {} {} {}\r\n", family == AF_INET ? "TCP4" : "TCP6",
                               src.ip_text(s, sizeof s), dst.ip_text(d, sizeof d), src.port(),
                               dst.port());
        }
        const std::size_t n = std::min(line.size(), out.size());
        std::memcpy(out.data(), line.data(), n);
        return n;
    }
    std::byte* p = out.data();
    std::memcpy(p, kV2Signature, sizeof kV2Signature);
    std::size_t body = 0;
    if (!ip) {
        p[12] = std::byte{0x20};  // v2, LOCAL
        p[13] = std::byte{0x00};
    } else {
        p[12] = std::byte{0x21};  // v2, PROXY
        p[13] = family == AF_INET ? std::byte{0x11} : std::byte{0x21};
        std::byte* a = p + kV2Fixed;
        const std::size_t ip_len = family == AF_INET ? 4 : 16;
        for (int i = 0; i < 2; ++i) {
            const Address& addr = i == 0 ? src : dst;
            const void* raw =
                family == AF_INET
                    ? static_cast<const void*>(
                          &reinterpret_cast<const sockaddr_in*>(&addr.storage)->sin_addr)
                    : static_cast<const void*>(
                          &reinterpret_cast<const sockaddr_in6*>(&addr.storage)->sin6_addr);
            std::memcpy(a + i * ip_len, raw, ip_len);
            const std::uint16_t port = addr.port();
            a[2 * ip_len + 2 * static_cast<std::size_t>(i)] = std::byte(port >> 8);
            a[2 * ip_len + 2 * static_cast<std::size_t>(i) + 1] = std::byte(port & 0xFF);
        }
        body = 2 * ip_len + 4;
    }
    p[14] = std::byte(body >> 8);
    p[15] = std::byte(body & 0xFF);
    return kV2Fixed + body;
}

}  // namespace sluice::net
