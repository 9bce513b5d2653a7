// What a client connection carries from its acceptance to its stream (HAProxy's session): the
// addresses that a PROXY header or a set-src/set-dst rule gave it, and the sess variables that
// tcp-request connection and session rules set before any stream existed. The stream takes
// both over, so every request of the connection sees them. Both stay null for most
// connections: nothing is allocated unless a header or a rule needs it.
#pragma once

#include <memory>

#include "sluice/sample/connection.hpp"
#include "sluice/sample/vars.hpp"
#include "sluice/stream/stream.hpp"

namespace sluice::stream {

struct Session {
    // When the connection was accepted, if a handshake (a PROXY header) came before the
    // stream: its log counts the handshake from there. 0: the stream starts at the accept.
    double accepted = 0;
    std::unique_ptr<ClientAddresses> addrs;
    std::unique_ptr<sample::StreamVars> vars;
};

// set-src, set-dst and their ports, at any stage: `addrs` takes `to` (made from the socket
// `conn.fd` the first time, so the other address stays the socket's), and `conn` reads from
// it from then on. The new address holds for the rest of the connection, as in HAProxy.
void change_client_address(std::unique_ptr<ClientAddresses>& addrs, sample::Connection& conn,
                           bool dst, const net::Address& to);

}  // namespace sluice::stream
