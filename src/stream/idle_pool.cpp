// Idle server connections of one thread (see idle_pool.hpp).
#include "sluice/stream/idle_pool.hpp"

#include <unistd.h>

#include <chrono>

#include "sluice/net/socket.hpp"

namespace sluice::stream {

IdlePool::IdlePool(core::Loop& loop, std::size_t server_count)
    : loop_(loop), lists_(server_count) {}

IdlePool::~IdlePool() {
    close_all();
    for (Idle* i : free_)
        delete i;
}

void IdlePool::close_all() {
    closed_ = true;
    for (List& l : lists_)
        while (l.newest)
            drop(*l.newest);
}

void IdlePool::forget(const proxy::Server& server) {
    if (server.uid >= lists_.size()) return;
    List& l = lists_[server.uid];
    while (l.newest)
        drop(*l.newest);
}

int IdlePool::take(proxy::Server& server, bool proven_only, bool& proven) {
    if (server.uid >= lists_.size()) return -1;  // a server added since: nothing kept yet
    List& list = lists_[server.uid];
    const std::uint32_t generation = server.destination.now().generation;
    for (Idle* i = list.newest; i;) {
        Idle* older = i->prev;
        if (i->generation != generation) {  // to the address the server had before
            drop(*i);
            i = older;
            continue;
        }
        if (proven_only && !i->proven) {
            i = older;
            continue;
        }
        if (usable(*i)) {
            const int fd = i->io.fd;
            proven = i->proven;
            drop(*i, false);  // the socket is the caller's now
            return fd;
        }
        drop(*i);  // closed, reset, or unexpected bytes: useless
        i = older;
    }
    return -1;
}

void IdlePool::give(proxy::Server& server, int fd, bool proven, std::uint32_t generation) {
    const std::int32_t max = server.options.pool_max_conn;
    if (closed_ || max == 0 || generation != server.destination.now().generation ||
        (max > 0 &&
         server.idle_conns.load(std::memory_order_relaxed) >= static_cast<std::uint32_t>(max))) {
        ::close(fd);
        return;
    }
    Idle* i;
    if (!free_.empty()) {
        i = free_.back();
        free_.pop_back();
    } else {
        i = new Idle;
    }
    i->pool = this;
    i->server = &server;
    i->proven = proven;
    i->generation = generation;
    i->parked_at = loop_.now();
    ev_init(&i->io, on_readable);
    core::io_rebind(i->io, fd, EV_READ);
    i->io.data = i;
    ev_io_start(loop_.raw(), &i->io);
    // An idle connection alone must not keep a stopping loop alive.
    ev_unref(loop_.raw());
    const double delay = std::chrono::duration<double>(server.options.pool_purge_delay).count();
    ev_timer_init(&i->purge, on_purge, delay > 0 ? delay : 0.001, 0.);
    i->purge.data = i;
    ev_timer_start(loop_.raw(), &i->purge);
    ev_unref(loop_.raw());
    if (server.uid >= lists_.size()) lists_.resize(server.uid + 1);  // added at run time
    List& list = lists_[server.uid];
    i->prev = list.newest;
    i->next = nullptr;
    if (list.newest) list.newest->next = i;
    list.newest = i;
    ++count_;
    server.idle_conns.fetch_add(1, std::memory_order_relaxed);
}

// The watcher reports what the kernel said at the last poll: readable there means closed or
// unusable, even if its callback has not run yet. A server closes an idle connection at its
// keep-alive timeout (seconds at the least), so one parked for a while may have been closed
// since that poll: a peek (one system call) then saves sending a request into a dead
// connection. One parked briefly is taken on the watcher's word, as HAProxy and nginx take
// every one: the busy path pays no system call for the check.
bool IdlePool::usable(Idle& i) const {
    if (ev_is_pending(&i.io)) return false;
    if (loop_.now() - i.parked_at < kTrustWatcherFor) return true;
    return net::pending_input(i.io.fd) == net::Pending::Nothing;
}

// Readable while idle: the server closed it, reset it, or sent something unasked. In every
// case it cannot carry another request.
void IdlePool::on_readable(struct ev_loop*, ev_io* w, int) {
    auto* i = static_cast<Idle*>(w->data);
    i->pool->drop(*i);
}

void IdlePool::on_purge(struct ev_loop*, ev_timer* w, int) {
    auto* i = static_cast<Idle*>(w->data);
    i->pool->drop(*i);
}

void IdlePool::unlink(Idle& i) {
    List& list = lists_[i.server->uid];
    if (i.next)
        i.next->prev = i.prev;
    else
        list.newest = i.prev;
    if (i.prev) i.prev->next = i.next;
    i.prev = i.next = nullptr;
}

void IdlePool::drop(Idle& i, bool close_fd) {
    unlink(i);
    struct ev_loop* raw = loop_.raw();
    ev_ref(raw);
    ev_io_stop(raw, &i.io);
    ev_ref(raw);
    ev_timer_stop(raw, &i.purge);
    if (close_fd) ::close(i.io.fd);
    --count_;
    i.server->idle_conns.fetch_sub(1, std::memory_order_relaxed);
    free_.push_back(&i);
}

}  // namespace sluice::stream
