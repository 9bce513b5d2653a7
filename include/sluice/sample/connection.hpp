// What fetches read about the client connection (`src`, `dst`, ...), attached to the
// evaluation Context by the stream.
#pragma once

#include "sluice/net/address.hpp"

namespace sluice::sample {

struct Connection {
    int fd = -1;                        // the client socket (dst is looked up on demand)
    const net::Address* src = nullptr;  // the client's address, when known
    const net::Address* dst = nullptr;  // cached destination, when the stream has it
    // Set by a stream whose addresses rules may change (`set-src`, `set-dst`): stores the new
    // address for the rest of the connection and points src/dst at it.
    void (*change_address)(void* owner, Connection& conn, bool dst,
                           const net::Address& to) = nullptr;
    void* owner = nullptr;
};

}  // namespace sluice::sample
