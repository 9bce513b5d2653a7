// The moments of a transaction its log line measures, and HAProxy's timers computed from them
// (%Th %Ti %TR %Tw %Tc %Tr %Ta %Tt; %Tq %Td %Tu follow from those). A stream keeps one per
// transaction (a few stamps, no allocation) and sets each moment as it passes it.
#pragma once

#include <ev.h>

#include <cstdint>

#include "sluice/log/record.hpp"

namespace sluice::stream {

// Loop time in seconds since the epoch (libev's ev_now); 0: the moment was not reached.
struct LogClock {
    // The connection was accepted, or, for a later request on it, the previous one ended (as
    // HAProxy dates each stream of a connection).
    ev_tstamp accept = 0;
    ev_tstamp handshake = 0;   // the PROXY header was read; 0: no handshake
    ev_tstamp request = 0;     // the request's first byte came
    ev_tstamp head = 0;        // the request head was whole (a TCP stream: its start)
    ev_tstamp queue_done = 0;  // a server slot was had (after the queue, if it waited)
    ev_tstamp connected = 0;   // the server connection was up (or an idle one reused)
    ev_tstamp response = 0;    // the response head was whole
    std::uint64_t bytes_in = 0, bytes_out = 0;  // client to server, server to client

    // A new transaction on the same connection, from `now`.
    void restart(ev_tstamp now) { *this = LogClock{.accept = now}; }
};

// The dates and timers of `r` for a transaction ending at `end`: each moment in whole
// milliseconds since the accept, then HAProxy's differences (-1 for a phase not reached).
void fill_times(log::Record& r, const LogClock& c, ev_tstamp end);

}  // namespace sluice::stream
