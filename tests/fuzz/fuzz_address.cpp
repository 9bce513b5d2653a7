// Fuzzes the `bind` and `server` address parsers (net/address.cpp) on one address per input, and
// checks that an IPv4/IPv6 address prints back to a text that parses to the same bytes.
// Host names would go to getaddrinfo (DNS), so an input whose host part is not a numeric
// address of the right family is skipped; prefixes (ipv4@, unix@, fd@, ...) and paths are fine.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "sluice/net/address.hpp"

namespace {

bool is_ip(std::string_view host, int family) {
    if (host.empty() || host == "*") return true;
    const std::string h(host);
    unsigned char buf[sizeof(in6_addr)];
    return (family != AF_INET6 && inet_pton(AF_INET, h.c_str(), buf) == 1) ||
           (family != AF_INET && inet_pton(AF_INET6, h.c_str(), buf) == 1);
}

// True when parsing `item` (one element of a comma list) resolves nothing by name.
bool numeric_item(std::string_view item) {
    int family = AF_UNSPEC;
    if (item.starts_with("ipv4@")) {
        family = AF_INET;
        item.remove_prefix(5);
    } else if (item.starts_with("ipv6@")) {
        family = AF_INET6;
        item.remove_prefix(5);
    } else if (item.starts_with("unix@") || item.starts_with("abns@") || item.starts_with("fd@") ||
               item.starts_with("/")) {
        return true;
    } else if (item.find('@') != std::string_view::npos) {
        return true;  // refused before any lookup
    }
    if (!item.empty() && item.front() == '[') {
        const std::size_t close = item.find(']');
        return close != std::string_view::npos && is_ip(item.substr(1, close - 1), family);
    }
    if (is_ip(item, family)) return true;  // a whole IPv6 address without port (servers)
    const std::size_t colon = item.rfind(':');
    return colon != std::string_view::npos && is_ip(item.substr(0, colon), family);
}

bool numeric_only(std::string_view text) {
    while (true) {
        const std::size_t comma = text.find(',');
        if (!numeric_item(text.substr(0, comma))) return false;
        if (comma == std::string_view::npos) return true;
        text.remove_prefix(comma + 1);
    }
}

bool same(const sluice::net::Address& a, const sluice::net::Address& b) {
    return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

bool inet(const sluice::net::Address& a) {
    return a.family() == AF_INET || a.family() == AF_INET6;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sluice;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (!numeric_only(text)) return 0;

    if (auto eps = net::parse_bind_address(text)) {
        for (const net::Endpoint& e : *eps) {
            if (e.inherited_fd >= 0) continue;
            const std::string printed = e.address.to_string();
            if (!inet(e.address)) continue;
            auto again = net::parse_bind_address(printed);
            if (!again || again->size() != 1 || !same((*again)[0].address, e.address))
                __builtin_trap();  // to_string() lost or changed something
        }
    }
    if (auto srv = net::parse_server_address(text)) {
        const std::string printed = srv->address.to_string();
        if (inet(srv->address) && srv->has_port) {
            auto again = net::parse_server_address(printed);
            if (!again || !same(again->address, srv->address)) __builtin_trap();
        }
    }
    return 0;
}
