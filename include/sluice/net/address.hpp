// Socket addresses as HAProxy's config spells them: `*:80`, `1.2.3.4:80`, `[::]:80`, `:::80`,
// `ipv4@`, `ipv6@`, `unix@/path`, `abns@name`, `fd@N`, port ranges `:8000-8010`, and comma lists.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/util/result.hpp"

namespace sluice::net {

struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;

    int family() const { return storage.ss_family; }
    const sockaddr* raw() const { return reinterpret_cast<const sockaddr*>(&storage); }
    std::uint16_t port() const;
    void set_port(std::uint16_t port);
    std::string to_string() const;  // "127.0.0.1:80", "[::1]:80", "unix@/path", "abns@name"
    // The IP alone ("127.0.0.1", "::1") into `buf`; empty for a non-IP address.
    std::string_view ip_text(char* buf, std::size_t size) const;
};

// A numeric IPv4 or IPv6 address alone ("10.0.0.1", "::1": no host name, no port), with
// `port`, as the runtime API and the server-state file take one. False when it is not one.
bool parse_numeric_ip(std::string_view text, std::uint16_t port, Address& out);

// One thing to listen on: an address to bind, or a socket inherited from the parent (fd@N).
struct Endpoint {
    Address address;
    int inherited_fd = -1;
    std::string text;  // as written, for messages
};

// A `bind` address argument into endpoints (a port range or a comma list gives several).
util::Result<std::vector<Endpoint>> parse_bind_address(std::string_view text);

// A `server` address. A host name is resolved now (getaddrinfo), as HAProxy does at start-up
// with its default `init-addr last,libc,none`... minus the state file. `port_required`: HAProxy
// allows a server without port (it then uses the client's destination port).
struct ServerAddress {
    Address address;
    bool has_port = false;
    // `+N`/`-N` port offsets are relative to the client's destination port.
    int port_offset = 0;
    bool port_is_offset = false;
};
util::Result<ServerAddress> parse_server_address(std::string_view text);

// An IPv4 or IPv6 network in CIDR form ("10.0.0.0/8", "::1", "192.168.1.1/255.255.255.0"), as
// `option forwardfor except` takes it. A bare address is a host network.
struct Network {
    int family = AF_INET;
    std::uint8_t bytes[16]{};
    unsigned prefix = 0;  // bits
    bool contains(const Address& a) const;
};
util::Result<Network> parse_network(std::string_view text);

}  // namespace sluice::net
