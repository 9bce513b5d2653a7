// The PROXY protocol (versions 1 and 2, haproxy.org's proxy-protocol.txt): the header a proxy
// or load balancer in front of us sends first on a connection to say whose connection it really
// is (`bind ... accept-proxy`, `tcp-request connection expect-proxy layer4`), and the header we
// send to servers (`server ... send-proxy`, `send-proxy-v2`). Pure functions: no sockets.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "sluice/net/address.hpp"

namespace sluice::net {

struct ProxyHeader {
    std::size_t length = 0;  // bytes of the header, all of which belong to it
    // v1 UNKNOWN, v2 LOCAL, or a family we do not carry (UNIX, unspecified): the connection's
    // own addresses stay in force.
    bool local = false;
    Address src, dst;
};

enum class ProxyParse { Done, Incomplete, Invalid };

// Parses a header at the start of `in`. Incomplete: every byte of `in` belongs to a header
// that has not ended yet, so a reader may consume them all and wait for more. `why` (if given)
// says what is wrong with an Invalid one.
ProxyParse parse_proxy_header(std::span<const std::byte> in, ProxyHeader& out,
                              std::string* why = nullptr);

// The longest header parse_proxy_header accepts (v2 with its TLVs); a longer one is Invalid.
inline constexpr std::size_t kMaxProxyHeader = 1024;

// Writes a version 1 or 2 header saying `src` connected to `dst` into `out` (at least 232
// bytes); returns its length. Addresses of different or non-IP families give v1's UNKNOWN or
// v2's LOCAL, as the protocol says.
std::size_t write_proxy_header(int version, const Address& src, const Address& dst,
                               std::span<std::byte> out);

}  // namespace sluice::net
