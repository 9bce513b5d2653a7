// One thread's idle server connections, kept after a response for the next request to the same
// server (`http-reuse`). An idle connection holds no buffer: a socket, a watcher that notices
// the server closing it, and a purge timer (`pool-purge-delay`). Per-server limits
// (`pool-max-conn`) count every thread's connections.
#pragma once

#include <ev.h>

#include <cstdint>
#include <vector>

#include "sluice/core/loop.hpp"
#include "sluice/proxy/runtime.hpp"

namespace sluice::stream {

class IdlePool {
  public:
    IdlePool(core::Loop& loop, std::size_t server_count);
    ~IdlePool();  // closes what is left
    IdlePool(const IdlePool&) = delete;
    IdlePool& operator=(const IdlePool&) = delete;

    // An idle connection to `server`, most recently used first; with `proven_only`, only one
    // that already carried more than one request (http-reuse aggressive). Connections found
    // closed by the server on the way are dropped. -1 when there is none.
    int take(proxy::Server& server, bool proven_only, bool& proven);
    // Keeps `fd` (a connection to `server` with no request in flight and nothing unread) for
    // reuse, or closes it when the server's pool is full, the process is stopping, or the
    // server's address changed since the connection was made (`generation`: the
    // Destination version it was made to).
    void give(proxy::Server& server, int fd, bool proven, std::uint32_t generation);
    // `del server`: closes what is kept for `server`.
    void forget(const proxy::Server& server);
    // Soft stop: close everything, keep nothing from now on.
    void close_all();
    std::size_t size() const { return count_; }

  private:
    struct Idle {
        ev_io io;
        ev_timer purge;
        IdlePool* pool;
        proxy::Server* server;
        Idle* prev;  // in the server's list, newest last
        Idle* next;
        ev_tstamp parked_at;
        std::uint32_t generation;  // Destination version it goes to
        bool proven;
    };
    static constexpr ev_tstamp kTrustWatcherFor = 1.0;  // seconds; see usable()
    struct List {
        Idle* newest = nullptr;
    };
    static void on_readable(struct ev_loop*, ev_io* w, int);
    static void on_purge(struct ev_loop*, ev_timer* w, int);
    bool usable(Idle& idle) const;
    void unlink(Idle& idle);
    void drop(Idle& idle, bool close_fd = true);  // unlink, stop watching, free

    core::Loop& loop_;
    std::vector<List> lists_;  // by Server::uid
    std::vector<Idle*> free_;  // recycled entries: no allocation per keep-alive cycle
    std::size_t count_ = 0;
    bool closed_ = false;
};

}  // namespace sluice::stream
