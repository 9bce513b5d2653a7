// Shared by the fuzz targets that reach the address parsers: tells whether parsing an address
// text would stay numeric, so that fuzzing never sends a host name to getaddrinfo (DNS).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <string_view>

namespace sluice::fuzz {

inline bool is_ip(std::string_view host, int family) {
    if (host.empty() || host == "*") return true;
    const std::string h(host);
    unsigned char buf[sizeof(in6_addr)];
    return (family != AF_INET6 && inet_pton(AF_INET, h.c_str(), buf) == 1) ||
           (family != AF_INET && inet_pton(AF_INET6, h.c_str(), buf) == 1);
}

// True when parsing `item` (one element of a comma list) resolves nothing by name.
inline bool numeric_item(std::string_view item) {
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
    if (is_ip(item, family)) return true;
    const std::size_t colon = item.rfind(':');
    return colon != std::string_view::npos && is_ip(item.substr(0, colon), family);
}

// A comma list of items, as `bind` takes.
inline bool numeric_address(std::string_view text) {
    while (true) {
        const std::size_t comma = text.find(',');
        if (!numeric_item(text.substr(0, comma))) return false;
        if (comma == std::string_view::npos) return true;
        text.remove_prefix(comma + 1);
    }
}

}  // namespace sluice::fuzz
