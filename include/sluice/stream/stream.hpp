// What a Worker knows of a stream, whatever its mode: the links that put it in the worker's
// lists, and the few events the worker sends it. TcpStream (mode tcp) and HttpStream (mode http)
// implement it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "sluice/net/address.hpp"

namespace sluice::proxy {
struct Server;
struct Backend;
struct Frontend;
}  // namespace sluice::proxy

namespace sluice::stream {

// The client's addresses as a PROXY protocol header gave them (`accept-proxy`, `expect-proxy`):
// they replace the socket's own for rules, headers and logs. Held only by the streams of such
// connections.
struct ClientAddresses {
    net::Address src, dst;
};

// Why a stream or transaction ended, as HAProxy's two-letter termination state: who ended it
// (C client, S server, P proxy, c/s client/server timeout, '-' normal) and in which phase (R
// request, Q queue, C connect, H response headers, D data, '-' normal). Kept for the logs.
struct TerminationState {
    char cause = '-';
    char phase = '-';
    void set(char c, char p) {
        if (cause == '-') {
            cause = c;
            phase = p;
        }
    }
};

class Stream;

// Intrusive list link (no allocation per wait): a stream is in its worker's list of open
// streams for life, and in a backend's queue while it waits for a server slot.
struct QueueLink {
    QueueLink* prev = nullptr;
    QueueLink* next = nullptr;
    Stream* owner = nullptr;
    bool linked() const { return prev != nullptr; }
};

// A stream's place in a queue of streams waiting for a server slot: its backend's, or the
// server's it is bound to; `count` is that queue's length over every thread.
struct WaitLink : QueueLink {
    std::atomic<std::uint32_t>* count = nullptr;
    std::atomic<std::uint64_t>* served = nullptr;  // that queue's count of streams served
    std::uint64_t served_at = 0;                   // its value when the stream came in
    std::int64_t key = 0;  // the queue is ordered by it (priority class, then time)
};

// Where a stream served from a queue stood in it, for the logs: how many streams were served
// from that queue since it came in, itself included (HAProxy's %sq / %bq); 0: not queued.
struct QueuePositions {
    std::uint32_t server = 0, backend = 0;
};

// The common part of Stream::describe: the stream's id (its address, as HAProxy's), client
// address, proxies, server, age.
void describe_stream(std::string& out, const void* id, int client_fd, const proxy::Frontend& fe,
                     const proxy::Backend* be, const proxy::Server* srv, int server_fd,
                     double started, double now, bool detail, std::uint32_t id_base);

class Stream {
  public:
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    WaitLink queue_link;    // in a worker's queue while waiting for a server slot
    QueueLink worker_link;  // in the worker's list of open streams

    // Closes and frees the stream outside its loop (process shutdown, loops stopped).
    virtual void abandon() = 0;
    // A server slot may be free: try again. True when the stream still waits (in the same
    // queue, keeping its place, or in another). The stream may be gone after the call if it
    // returns false.
    virtual bool woken_from_queue() = 0;
    // The process stops softly: finish what is in flight, take nothing new (an idle keep-alive
    // connection closes now). The stream may be gone after the call.
    virtual void soft_stop() {}
    // The server whose connection slot the stream holds, if any (`on-marked-down
    // shutdown-sessions` closes the streams of a server).
    virtual const proxy::Server* server() const { return nullptr; }
    // `del server`: the server is going away (no slot of it is held anywhere); the stream
    // drops whatever still points to it (a private idle connection, a retry's memory).
    virtual void forget_server(const proxy::Server&) {}
    // `show sess`: what the stream is, as HAProxy's leading fields say it (`detail`: the
    // several-line form of `show sess <id>`). `now`: the loop's clock.
    // `id_base`: added to proxy ids (see stats::Process::proxy_id_base).
    virtual void describe(std::string& out, bool detail, double now,
                          std::uint32_t id_base) const = 0;

  protected:
    Stream() {
        queue_link.owner = this;
        worker_link.owner = this;
    }
    ~Stream() = default;
};

}  // namespace sluice::stream
