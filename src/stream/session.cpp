// A connection's addresses and early variables (see session.hpp).
#include "sluice/stream/session.hpp"

#include "sluice/net/socket.hpp"

namespace sluice::stream {

void change_client_address(std::unique_ptr<ClientAddresses>& addrs, sample::Connection& conn,
                           bool dst, const net::Address& to) {
    if (!addrs) {
        addrs = std::make_unique<ClientAddresses>();
        (void)net::peer_address(conn.fd, addrs->src);
        (void)net::local_address(conn.fd, addrs->dst);
    }
    (dst ? addrs->dst : addrs->src) = to;
    conn.src = &addrs->src;
    conn.dst = &addrs->dst;
}

}  // namespace sluice::stream
