// Server slots and connection attempts shared by both stream kinds (see server_attempt.hpp).
#include "sluice/stream/server_attempt.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "sluice/net/proxy_protocol.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/stream/worker.hpp"

namespace sluice::stream {

proxy::Pick ServerAttempt::pick_avoiding(const proxy::Server* avoid) {
    release();
    proxy::Pick p = be_->balancer().pick(proxy::PickRequest{avoid, has_hash_, hash_});
    held_ = p.server;
    if (held_) {
        last_ = held_;
        counted(*held_, true);
    }
    return p;
}

void ServerAttempt::reserved_here(proxy::Server& srv) {
    held_ = &srv;
    last_ = &srv;
    be_->balancer().load_changed(srv);
    counted(srv, false);
}

void ServerAttempt::counted(proxy::Server& srv, bool balanced) {
    // A retry is the same session (HAProxy's stot): only the balancer's choice counts again.
    if (!session_counted_) {
        session_counted_ = true;
        worker_.count_session(srv, balanced);
    } else if (balanced) {
        worker_.counts(srv.counts).balanced.add();
        worker_.counts(be_->counts).balanced.add();
    }
}

proxy::Pick ServerAttempt::pick() {
    if (preferred_) {
        release();
        if (preferred_->try_reserve()) {
            reserved_here(*preferred_);
            return {preferred_, false};
        }
        // As HAProxy: the rule's server is full, the request waits in its queue.
        return {nullptr, true, preferred_};
    }
    return pick_avoiding(nullptr);
}

bool ServerAttempt::leave_full_server(const proxy::Pick& refused) {
    if (!refused.wait_for || refused.wait_for != preferred_ || be_->conf->redispatch == 0)
        return false;
    preferred_ = nullptr;
    return true;
}

void ServerAttempt::release() {
    if (!held_) return;
    proxy::Server* s = held_;
    held_ = nullptr;
    s->release();
    s->backend->balancer().load_changed(*s);
    worker_.server_released(*s);
}

util::Result<int> ServerAttempt::connect(int client_fd, const ClientAddresses* addrs) const {
    const proxy::Server& srv = *held_;
    const net::ServerAddress& dest = srv.destination.now().addr;
    net::Address to = dest.address;
    if (!dest.has_port) {
        // No port on the server line: the port the client connected to, plus any offset.
        net::Address local;
        if (addrs) local = addrs->dst;
        if (addrs || net::local_address(client_fd, local))
            to.set_port(static_cast<std::uint16_t>(local.port() + dest.port_offset));
    }
    auto fd = net::start_connect(to);
    if (fd) net::tune_stream_socket(*fd, be_->conf->tcpka_server);
    return fd;
}

bool ServerAttempt::send_proxy_header(int server_fd, int client_fd,
                                      const ClientAddresses* addrs) const {
    const std::uint8_t version = held_ ? held_->options.send_proxy : 0;
    if (version == 0) return true;
    net::Address src, dst;
    if (addrs) {
        src = addrs->src;
        dst = addrs->dst;
    } else if (!net::peer_address(client_fd, src) || !net::local_address(client_fd, dst)) {
        src = dst = net::Address{};  // a header saying "unknown" rather than none
    }
    std::array<std::byte, 256> header;
    const std::size_t n = net::write_proxy_header(version, src, dst, header);
    // The socket of a connection that just completed has an empty send buffer: a header of a
    // few dozen bytes goes out whole.
    return ::send(server_fd, header.data(), n, MSG_NOSIGNAL | MSG_DONTWAIT) ==
           static_cast<ssize_t>(n);
}

ServerAttempt::Next ServerAttempt::failed(bool timed_out) {
    be_->errors.count(&proxy::ErrorCounters::failed_connects);
    if (held_) {
        held_->errors.count(&proxy::ErrorCounters::failed_connects);
        held_->observed(proxy::Observed::L4Error);
    }
    return next_attempt(timed_out);
}

ServerAttempt::Next ServerAttempt::failed_after_sending() {
    return next_attempt(true);
}

ServerAttempt::Next ServerAttempt::next_attempt(bool timed_out) {
    failed_ = held_;
    release();
    ++attempts_;
    const proxy::ProxyConf& px = *be_->conf;
    if (attempts_ > px.retries) return Next::GiveUp;
    be_->errors.count(&proxy::ErrorCounters::retried_requests);  // wretr
    if (failed_) failed_->errors.count(&proxy::ErrorCounters::retried_requests);
    // `option redispatch [P]`: P > 0 redispatches on every Pth retry, P < 0 on the |P|th retry
    // before the last (-1: the last one). A redispatch does not wait.
    const int r = static_cast<int>(attempts_);
    const int p = px.redispatch;
    redispatch_ = (p > 0 && r % p == 0) || (p < 0 && r == static_cast<int>(px.retries) + p + 1);
    return timed_out || redispatch_ ? Next::RetryNow : Next::RetryAfterPause;
}

proxy::Pick ServerAttempt::retry() {
    proxy::Server* s = failed_;
    failed_ = nullptr;
    if (redispatch_) {
        redispatch_ = false;
        worker_.counts(be_->counts).redispatches.add();
        if (s) worker_.counts(s->counts).redispatches.add();
        return pick_avoiding(s);
    }
    if (s && s->usable() && s->try_reserve()) {
        reserved_here(*s);
        return proxy::Pick{.server = s};
    }
    return pick();
}

ev_tstamp ServerAttempt::retry_pause() const {
    const util::Duration pause =
        be_->timeout_connect.count() > 0
            ? std::min<util::Duration>(be_->timeout_connect, std::chrono::seconds(1))
            : std::chrono::seconds(1);
    return std::chrono::duration<double>(pause).count();
}

}  // namespace sluice::stream
