// How a stream gets a server, in mode tcp and mode http alike: the slot it holds on a server (its
// maxconn), and its connection attempts under HAProxy's policy: `retries`, `option redispatch
// [N]`, a pause after a refused connection, none after a timed-out one.
#pragma once

#include <ev.h>

#include <cstdint>

#include "sluice/proxy/runtime.hpp"
#include "sluice/stream/stream.hpp"
#include "sluice/util/result.hpp"

namespace sluice::stream {

class Worker;

class ServerAttempt {
  public:
    ServerAttempt(Worker& worker, proxy::Backend* be) : worker_(worker), be_(be) {}
    ServerAttempt(const ServerAttempt&) = delete;
    ServerAttempt& operator=(const ServerAttempt&) = delete;

    // The backend of the next attempts (mode http chooses one per request); no slot may be
    // held when it changes.
    void set_backend(proxy::Backend* be) { be_ = be; }

    // The server whose slot the stream holds, if any.
    proxy::Server* server() const { return held_; }

    // The preferred server (`use-server`), else the balancer's choice: the slot is then held.
    // A preferred server that is full binds the request to it (Pick::wait_for).
    proxy::Pick pick();
    // The queue of the server `refused` waits for is at its `maxqueue`: true when the request
    // may go to the balancer instead (`use-server` sent it and the backend has `option
    // redispatch`, as HAProxy); the next pick() then ignores the rule.
    bool leave_full_server(const proxy::Pick& refused);
    // `use-server` chose this server for the transaction (null: none did): the request goes
    // there, waiting in its queue when it is full.
    void prefer(proxy::Server* srv) { preferred_ = srv; }
    // The request's key for a hashing balance algorithm (`has`: one was found).
    void set_hash(bool has, std::uint32_t hash) {
        has_hash_ = has;
        hash_ = hash;
    }
    // Gives the slot back (a queued stream may take it). Safe to call when none is held.
    void release();

    // Starts a non-blocking connection to the held server for the client on `client_fd`, socket
    // options set. A server line without a port takes the port the client connected to: that
    // of `addrs` when set (a PROXY header, set-dst-port), else the socket's.
    util::Result<int> connect(int client_fd, const ClientAddresses* addrs) const;
    // A connection to the held server was just established: with `send-proxy[-v2]`, its
    // PROXY header goes out first, saying `addrs` (else the client socket's own addresses).
    // False when it could not be sent whole (the connection is then unusable).
    bool send_proxy_header(int server_fd, int client_fd, const ClientAddresses* addrs) const;

    enum class Next {
        GiveUp,           // retries exhausted
        RetryNow,         // retry() now (after a timeout, which already waited)
        RetryAfterPause,  // retry() after retry_pause()
    };
    // The attempt on the held server failed (its socket is already closed): counts it, gives
    // the slot back and says what comes next.
    Next failed(bool timed_out);
    // `retry-on`: the request went out and failed after (no response, a junk one, a timeout,
    // a status to retry on); the next attempt does not wait. Counted as a retry, not as a
    // failed connection.
    Next failed_after_sending();
    // For the log: the attempts that failed (%rc), and whether the last went elsewhere (+).
    std::uint32_t attempts() const { return attempts_; }
    // The server of the current or last attempt (one that failed is still named in the log).
    const proxy::Server* last_server() const { return held_ ? held_ : last_; }
    bool redispatched() const { return redispatch_; }
    // Whether `retries` allows another attempt after a failure now.
    bool may_retry() const { return attempts_ < be_->conf->retries; }
    // The server for the next attempt, its slot held: another one when it is time to
    // redispatch, else the failed one again if it is usable and has room, else any.
    proxy::Pick retry();
    // How long a refused connection waits before its retry: a second, or the connect timeout
    // when shorter, so that a restarting server is not hammered.
    ev_tstamp retry_pause() const;

    // The request's queue priority: rules set it, the queues read it.
    proxy::QueuePriority& priority() { return priority_; }

    // `del server`: `s` is going away (its slot is not held here).
    void forget(const proxy::Server& s) {
        if (failed_ == &s) failed_ = nullptr;
        if (preferred_ == &s) preferred_ = nullptr;
        if (last_ == &s) last_ = nullptr;
    }

    // A new transaction (mode http): its own count of attempts.
    void reset() {
        attempts_ = 0;
        preferred_ = nullptr;
        last_ = nullptr;
        has_hash_ = false;
        priority_ = {};
        session_counted_ = false;
    }

  private:
    proxy::Pick pick_avoiding(const proxy::Server* avoid);
    Next next_attempt(bool timed_out);
    // A slot on `srv` was taken here rather than by the balancer.
    void reserved_here(proxy::Server& srv);
    // The stats of a slot taken: a session of the server and backend, once per transaction.
    void counted(proxy::Server& srv, bool balanced);

    Worker& worker_;
    proxy::Backend* be_;
    proxy::Server* held_ = nullptr;        // slot reserved
    const proxy::Server* last_ = nullptr;  // the last one held in this transaction (logs)
    proxy::Server* failed_ = nullptr;      // no slot: only remembered for the retry
    proxy::Server* preferred_ = nullptr;   // use-server
    std::uint32_t attempts_ = 0;           // failed attempts
    std::uint32_t hash_ = 0;               // set_hash()
    bool has_hash_ = false;
    bool redispatch_ = false;  // the next attempt avoids failed_
    bool session_counted_ = false;
    proxy::QueuePriority priority_;
};

}  // namespace sluice::stream
