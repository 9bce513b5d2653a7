// HttpStream's server side (see http_stream.hpp): picking a server or waiting in a queue,
// connecting or reusing an idle connection, and what a failed attempt leads to.
#include <unistd.h>

#include "sluice/net/socket.hpp"
#include "sluice/stream/http_stream.hpp"
#include "sluice/stream/idle_pool.hpp"

namespace sluice::stream {

void HttpStream::connect_or_queue(const proxy::Pick& pick) {
    if (pick.server) {
        if (phase_ == Phase::Queued)
            worker_.count_time(nullptr, pick.server, proxy::TimingKind::Queue, phase_started_);
        if (txn_log_ && txn_log_->clock.queue_done == 0)
            txn_log_->clock.queue_done = worker_.loop().now();
        QueuePositions unlogged;
        worker_.dequeue_served(queue_link, *be_, txn_log_ ? txn_log_->queue : unlogged);
        if (reuse_idle(*pick.server)) return;
        connect();
        return;
    }
    if (pick.all_full) {
        const bool was_queued = queue_link.linked();
        if (!worker_.enqueue(*be_, pick, attempt_.priority(), queue_link)) {
            // The bound server's queue is at its maxqueue.
            if (attempt_.leave_full_server(pick)) return connect_or_queue(attempt_.pick());
            fail(503, 's', 'Q');
            return;
        }
        if (was_queued) return;  // still waiting, its timer running
        phase_ = Phase::Queued;
        phase_started_ = worker_.loop().now();
        update_interest();
        arm_timer();
        return;
    }
    worker_.dequeue(queue_link);
    // No usable server: HAProxy's 503.
    fail(503, 's', 'C');
}

// Uses an idle connection to `srv` if http-reuse allows one for this request.
bool HttpStream::reuse_idle(proxy::Server& srv) {
    if (server_side_.fd >= 0) {
        // The connection kept from the previous request (http-reuse never), if it goes to the
        // same server and the server has not closed it meanwhile (nothing watched it).
        if (conn_server_ == &srv && conn_generation_ == srv.destination.now().generation &&
            net::pending_input(server_side_.fd) == net::Pending::Nothing) {
            on_connected();
            return true;
        }
        drop_server_connection();
    }
    // A connection that began with a PROXY header speaks for its own client only.
    if (srv.options.send_proxy) return false;
    const bool first = requests_ == 1;
    bool proven_only = false;
    switch (be_->http_reuse) {
        case proxy::HttpReuse::Never:
            return false;
        case proxy::HttpReuse::Safe:
            if (first) return false;
            break;
        case proxy::HttpReuse::Aggressive:
            proven_only = first;
            break;
        case proxy::HttpReuse::Always:
            break;
    }
    bool proven = false;
    const int fd = worker_.idle_pool().take(srv, proven_only, proven);
    if (fd < 0) return false;
    server_side_.fd = fd;
    conn_server_ = &srv;
    conn_generation_ = srv.destination.now().generation;
    conn_requests_ = proven ? 2 : 1;
    worker_.counts(srv.counts).reused_conns.add();
    worker_.counts(srv.backend->counts).reused_conns.add();
    core::io_rebind(server_side_.io, fd, 0);
    server_side_.events = 0;
    server_side_.read_closed = server_side_.write_shut = false;
    on_connected();
    return true;
}

void HttpStream::connect() {
    phase_ = Phase::Connecting;
    phase_started_ = worker_.loop().now();
    // Read before connecting: a change in between only makes the connection look older than
    // it is (not kept for reuse), never newer.
    const std::uint32_t generation =
        attempt_.server() ? attempt_.server()->destination.now().generation : 0;
    if (proxy::Server* srv = attempt_.server()) {
        worker_.counts(srv->counts).new_conns.add();  // HAProxy's `connect`: attempts
        worker_.counts(srv->backend->counts).new_conns.add();
    }
    auto fd = attempt_.connect(client_.fd, addrs_.get());
    if (!fd) {
        connect_failed(false);
        return;
    }
    server_side_.fd = *fd;
    conn_server_ = attempt_.server();
    conn_generation_ = generation;
    conn_requests_ = 0;
    server_side_.read_closed = server_side_.write_shut = false;
    ev_io_set(&server_side_.io, *fd, 0);
    server_side_.events = 0;
    update_interest();
    arm_timer();
}

void HttpStream::on_connected() {
    if (phase_ == Phase::Connecting && conn_server_)
        worker_.count_time(nullptr, conn_server_, proxy::TimingKind::Connect, phase_started_);
    phase_ = Phase::Exchange;
    phase_started_ = worker_.loop().now();  // the response time runs from here
    if (txn_log_) {
        txn_log_->clock.connected = phase_started_;
        if (logs_backend_source_ && !net::local_address(server_side_.fd, txn_log_->backend_source))
            txn_log_->backend_source = {};
    }
    observe(proxy::Observed::L4Ok);
    ++conn_requests_;
    server_side_.last_activity = worker_.loop().now();
    finish_request_head();
    // The caller runs progress(): the request goes out from there.
}

void HttpStream::connect_failed(bool timed_out) {
    drop_server_connection();
    switch (attempt_.failed(timed_out)) {
        case ServerAttempt::Next::GiveUp:
            fail(503, timed_out ? 's' : 'S', 'C');
            return;
        case ServerAttempt::Next::RetryNow:
            connect_or_queue(attempt_.retry());
            return;
        case ServerAttempt::Next::RetryAfterPause:
            phase_ = Phase::RetryWait;
            phase_started_ = worker_.loop().now();
            update_interest();
            arm_timer();
            return;
    }
}

bool HttpStream::woken_from_queue() {
    connect_or_queue(attempt_.pick());
    const bool requeued = queue_link.linked();
    finish_callback();
    return requeued;
}

void HttpStream::forget_server(const proxy::Server& s) {
    attempt_.forget(s);
    // A private connection kept attached between transactions (http-reuse never, send-proxy).
    if (conn_server_ == &s && attempt_.server() != &s) drop_server_connection();
}

void HttpStream::drop_server_connection() {
    if (server_side_.fd < 0) return;
    set_interest(server_side_, 0);
    ::close(server_side_.fd);
    server_side_.fd = -1;
    conn_server_ = nullptr;
    server_side_.in.release();
    server_side_.read_closed = server_side_.write_shut = server_side_.reset = false;
}

}  // namespace sluice::stream
