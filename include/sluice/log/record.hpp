// What a stream knows about itself when it is logged: the facts HAProxy's log-format variables
// (`%ci`, `%Tw`, `%ST`, `%tsc`, ...) read. The stream fills one when it logs (or a rule renders
// a log-format string with such variables), attaches it to the sample::Context, and the
// variables of sample/log_vars.cpp render from it. Plain data, nothing owned: the views point
// into the stream, which outlives the rendering.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "sluice/net/address.hpp"

namespace sluice::log {

// A duration in milliseconds, or -1 when the phase was never reached (HAProxy's convention).
using Millis = std::int64_t;

// A transaction's `unique-id-format` rendering, cut at HAProxy's 127 characters (its
// UNIQUEID_LEN buffer): held with the transaction, attached to the contexts of its rules and log
// line for the `unique-id` fetch.
struct UniqueId {
    std::uint8_t size = 0;  // 0: none
    char text[127];
    std::string_view view() const { return {text, size}; }
    void assign(std::string_view s) { size = static_cast<std::uint8_t>(s.copy(text, sizeof text)); }
};

struct Record {
    // When the connection was accepted and when the logged request began (its first byte, or
    // the accept for the first request): wall-clock microseconds since the epoch.
    std::int64_t accept_us = 0;
    std::int64_t request_us = 0;

    // Timers, as HAProxy defines them (see doc/logging.md): handshake, idle before the
    // request, request receipt, queue, connect, response headers, data, active, total.
    Millis th = 0, ti = 0, tr_req = -1, tw = -1, tc = -1, tr = -1, ta = -1, tt = -1;
    bool logasap = false;  // Tt and Ta are printed with a '+': the log left before the end

    // Addresses: the client's (as accepted, or as a PROXY header said), the listener's, the
    // connection to the server (our side, then the server's). Length 0: none.
    const net::Address* client = nullptr;
    const net::Address* frontend = nullptr;
    const net::Address* backend_source = nullptr;
    const net::Address* server = nullptr;

    std::string_view frontend_name, backend_name, server_name;
    bool ssl_frontend = false;  // %ft's '~'

    // Counts when the log was made: the process's, frontend's, backend's and server's current
    // connections, the retries (`redispatched`: printed with a '+'), the server's and backend's
    // queues when the stream left them, the frontend's log counter and the request counter.
    std::uint64_t actconn = 0, feconn = 0, beconn = 0, srvconn = 0;
    std::uint32_t retries = 0;
    bool redispatched = false;
    std::uint64_t srv_queue = 0, be_queue = 0;
    std::uint64_t log_counter = 0, request_counter = 0;

    // HTTP: status (-1: none), the request line's parts (empty when no valid request was
    // seen: %r prints <BADREQ>), bytes each way.
    int status = -1;
    std::string_view method, uri, version;
    bool http = false;
    std::uint64_t bytes_out = 0;  // server to client (%B), headers included
    std::uint64_t bytes_in = 0;   // client to server (%U)

    // Termination state (%ts: who and in which phase) and the persistence cookie's states
    // (%tsc's last two characters, '-' without cookie persistence).
    char term_cause = '-', term_phase = '-';
    char cookie_request = '-', cookie_response = '-';

    // `capture request|response header` values in declaration order; an absent header is an
    // empty view with `present` false. `capture cookie` values likewise.
    struct Captured {
        std::string_view value;
        bool present = false;
    };
    std::span<const Captured> request_headers, response_headers;
    Captured request_cookie, response_cookie;

    std::string_view unique_id;

    // The front connection's TLS version and cipher (%sslv, %sslc); empty without TLS.
    std::string_view ssl_version, ssl_cipher;
};

}  // namespace sluice::log
