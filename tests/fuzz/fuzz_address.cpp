// Fuzzes the `bind` and `server` address parsers (net/address.cpp) on one address per input, and
// checks that an IPv4/IPv6 address prints back to a text that parses to the same bytes.
// Host names would go to getaddrinfo (DNS), so an input whose host part is not a numeric
// address of the right family is skipped; prefixes (ipv4@, unix@, fd@, ...) and paths are fine.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "numeric_address.hpp"
#include "sluice/net/address.hpp"

namespace {

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
    if (!sluice::fuzz::numeric_address(text)) return 0;

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
