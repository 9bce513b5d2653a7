// A client connection whose first bytes must be a PROXY protocol header (`bind ...
// accept-proxy`, `tcp-request connection expect-proxy layer4`): it reads exactly the header,
// never a byte of what follows, then hands the connection, with the addresses the header gave
// and what the connection rules left (sess variables), to Worker::launch (session rules, then
// the mode's stream). A bad header, the client leaving or `timeout client` passing first closes
// the connection. It holds the connection's slots while it waits, and is in the worker's list
// of streams so that a stop frees it.
#pragma once

#include <ev.h>

#include <array>
#include <cstddef>

#include "sluice/net/proxy_protocol.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/stream/session.hpp"
#include "sluice/stream/stream.hpp"
#include "sluice/stream/worker.hpp"

namespace sluice::stream {

class ProxyHeaderWait final : public Stream {
  public:
    // `listener`: the one that accepted (its name says where, in an error's log line).
    ProxyHeaderWait(Worker& worker, proxy::Frontend& fe, const proxy::Listener& listener, int fd,
                    Session session);
    void start();

    void abandon() override;
    bool woken_from_queue() override { return false; }  // never queued
    void describe(std::string& out, bool detail, double now, std::uint32_t id_base) const override {
        describe_stream(out, this, fd_, fe_, nullptr, nullptr, -1, started_, now, detail, id_base);
    }

  private:
    ~ProxyHeaderWait() = default;
    static void on_readable(struct ev_loop*, ev_io* w, int revents);
    static void on_timeout(struct ev_loop*, ev_timer* w, int revents);
    // Reads what is there of the header; true once the connection has moved on or closed.
    bool read();
    // `why`: HAProxy's words for the log's error line (empty: none sent, a soft stop).
    void fail(std::string_view why);
    void log_error(std::string_view why);
    void finish_callback();

    Worker& worker_;
    proxy::Frontend& fe_;
    const proxy::Listener& listener_;
    int fd_;
    Session session_;
    ev_io io_;
    ev_timer timer_;
    bool done_ = false;
    double started_ = 0;
    std::size_t have_ = 0;  // header bytes read so far
    std::array<std::byte, net::kMaxProxyHeader> buf_;
};

}  // namespace sluice::stream
