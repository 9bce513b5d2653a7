// Waiting for a client's PROXY protocol header (see proxy_wait.hpp).
#include "sluice/stream/proxy_wait.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "sluice/sample/connection.hpp"
#include "sluice/stream/log_clock.hpp"
#include "sluice/stream/stream_log.hpp"

namespace sluice::stream {

ProxyHeaderWait::ProxyHeaderWait(Worker& worker, proxy::Frontend& fe,
                                 const proxy::Listener& listener, int fd, Session session)
    : worker_(worker), fe_(fe), listener_(listener), fd_(fd), session_(std::move(session)) {
    ev_io_init(&io_, on_readable, fd, EV_READ);
    io_.data = this;
    ev_init(&timer_, on_timeout);
    timer_.data = this;
    started_ = ev_now(worker.loop().raw());
    session_.accepted = started_;
    worker_.stream_opened(worker_link);
}

void ProxyHeaderWait::start() {
    // Senders write the header right behind the handshake: it is usually here already.
    if (read()) {
        finish_callback();
        return;
    }
    ev_io_start(worker_.loop().raw(), &io_);
    const double limit = std::chrono::duration<double>(fe_.timeout_client).count();
    if (limit > 0) {
        ev_timer_set(&timer_, limit, 0.);
        ev_timer_start(worker_.loop().raw(), &timer_);
    }
}

void ProxyHeaderWait::on_readable(struct ev_loop*, ev_io* w, int) {
    auto* self = static_cast<ProxyHeaderWait*>(w->data);
    self->read();
    self->finish_callback();
}

void ProxyHeaderWait::on_timeout(struct ev_loop*, ev_timer* w, int) {
    auto* self = static_cast<ProxyHeaderWait*>(w->data);
    self->fail("Timeout while waiting for PROXY protocol header");
    self->finish_callback();
}

bool ProxyHeaderWait::read() {
    // Peek, so that bytes after the header stay in the socket for the stream; consume what
    // belongs to the header. An incomplete header means every byte seen is the header's, so
    // they are consumed too (nothing is peeked twice, and the poller does not spin on them).
    std::byte* room = buf_.data() + have_;
    const ssize_t n = ::recv(fd_, room, buf_.size() - have_, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        fail("Connection closed while waiting for PROXY protocol header");
        return true;
    }
    if (n < 0) return false;
    net::ProxyHeader header;
    const std::span<const std::byte> seen(buf_.data(), have_ + static_cast<std::size_t>(n));
    const net::ProxyParse r = net::parse_proxy_header(seen, header);
    if (r == net::ProxyParse::Invalid ||
        (r == net::ProxyParse::Incomplete && seen.size() == buf_.size())) {
        fail("Received something which does not look like a PROXY protocol header");
        return true;
    }
    const std::size_t take =
        r == net::ProxyParse::Done ? header.length - have_ : static_cast<std::size_t>(n);
    if (::recv(fd_, room, take, 0) != static_cast<ssize_t>(take)) {
        fail("Connection error while waiting for PROXY protocol header");
        return true;
    }
    have_ += take;
    if (r == net::ProxyParse::Incomplete) return false;
    // The header's addresses replace any a connection rule set; a LOCAL one changes nothing.
    if (!header.local) session_.addrs.reset(new ClientAddresses{header.src, header.dst});
    ev_io_stop(worker_.loop().raw(), &io_);
    ev_timer_stop(worker_.loop().raw(), &timer_);
    done_ = true;
    worker_.stream_handed_over(worker_link);  // the connection's slots go with it
    worker_.launch(fe_, fd_, std::move(session_));
    return true;
}

void ProxyHeaderWait::fail(std::string_view why) {
    if (done_) return;
    if (!why.empty()) log_error(why);
    done_ = true;
    ev_io_stop(worker_.loop().raw(), &io_);
    ev_timer_stop(worker_.loop().raw(), &timer_);
    ::close(fd_);
    worker_.stream_closed(fe_, worker_link);
}

// HAProxy's line for a connection that failed before its stream: the `error-log-format`, else
// "CLIENT:PORT [DATE] FRONTEND/BIND: WHY", BIND being the bind's name or its number.
void ProxyHeaderWait::log_error(std::string_view why) {
    if (!fe_.logger || fe_.logger->empty() || !fe_.parts) return;
    const log::ProxyLogFormat& conf = fe_.parts->read<log::ProxyLogFormat>();
    if (!conf.log_format(fe_.conf->mode == proxy::Mode::Http)) return;
    if (!fe_.logger->wants(log::Level::Info)) return;
    log::Record r;
    LogClock clock;
    clock.restart(started_);
    fill_times(r, clock, worker_.loop().now());
    auto addrs = socket_addresses(fd_);
    if (addrs) {
        r.client = &addrs->src;
        r.frontend = &addrs->dst;
    }
    r.frontend_name = fe_.name;
    r.backend_name = fe_.name;
    r.term_cause = 'C';
    r.term_phase = 'R';
    sample::Arena& arena = worker_.arena();
    arena.reset();
    sample::Context ctx(arena);
    sample::Connection conn{
        .fd = fd_, .src = addrs ? &addrs->src : nullptr, .dst = addrs ? &addrs->dst : nullptr};
    ctx.attach(&conn);
    ctx.attach(&fe_);
    ctx.attach(&r);
    thread_local std::string line;
    line.clear();
    if (const sample::Format* custom = conf.error_format()) {
        custom->render(ctx, line, sample::Format::Mode::Log);
    } else {
        log::ProxyLogFormat::legacy_error_prefix().render(ctx, line, sample::Format::Mode::Log);
        std::size_t number = 1;
        for (const proxy::Listener& l : fe_.listeners) {
            if (&l == &listener_) break;
            ++number;
        }
        line += '/';
        if (listener_.options.name.empty())
            line += std::to_string(number);
        else
            line += listener_.options.name;
        line += ": ";
        line += why;
    }
    fe_.logger->emit(log::Level::Info, line);
}

void ProxyHeaderWait::finish_callback() {
    if (done_) delete this;
}

void ProxyHeaderWait::abandon() {
    fail({});
    delete this;
}

}  // namespace sluice::stream
