// mode tcp forwarding (see tcp_stream.hpp). Functions appear in the order a stream meets them.
#include "sluice/stream/tcp_stream.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "sluice/log/proxy_format.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/rules/tcp_rules.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/sample/payload.hpp"
#include "sluice/stream/stream_log.hpp"
#include "sluice/stream/switching.hpp"

namespace sluice::stream {
namespace {

// Pipe size asked for when splicing: the larger, the fewer system calls per byte (each splice
// moves page references, not bytes). The kernel may grant less (pipe-max-size); that is fine.
constexpr int kPipeSize = 512 * 1024;
constexpr std::size_t kSpliceChunk = kPipeSize;
// Reads per readiness event on one side before letting other connections run.
constexpr int kMaxReadsPerEvent = 4;

double seconds(util::Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

TcpStream::TcpStream(Worker& worker, proxy::Frontend& fe, int client_fd, Session session)
    : worker_(worker),
      fe_(fe),
      be_(fe.backend),
      attempt_(worker, fe.backend),
      addrs_(std::move(session.addrs)),
      vars_(std::move(session.vars)) {
    client_.fd = client_fd;
    ev_io_init(&client_.io, on_client_io, client_fd, 0);
    client_.io.data = this;
    ev_io_init(&server_side_.io, on_server_io, -1, 0);
    server_side_.io.data = this;
    ev_init(&timer_, on_timer);
    timer_.data = this;
    const proxy::ProxyConf& fpx = *fe.conf;
    // TCP_NODELAY is inherited from the listening socket; only keep-alive is per connection.
    if (fpx.tcpka_client) net::set_keepalive(client_fd);
    if (fpx.nolinger) net::set_nolinger(client_fd);
    if (be_ && worker.config().splice_allowed) {
        const proxy::ProxyConf& bpx = *be_->conf;
        // Explicitly disabled on either side wins; otherwise on (see ProxyConf::splice_auto).
        const bool any_auto = fpx.splice_auto.value_or(true) && bpx.splice_auto.value_or(true);
        up_.may_splice = fpx.splice_request || bpx.splice_request;
        down_.may_splice = fpx.splice_response || bpx.splice_response;
        up_.auto_splice = down_.auto_splice = any_auto;
    }
    clock_.restart(session.accepted > 0 ? session.accepted : worker.loop().now());
    if (session.accepted > 0) clock_.handshake = worker.loop().now();
    clock_.request = clock_.head = clock_.handshake > 0 ? clock_.handshake : clock_.accept;
    worker_.stream_opened(worker_link);
}

TcpStream::~TcpStream() = default;

void TcpStream::start() {
    started_at_ = client_.last_activity = worker_.loop().now();
    if (needs_inspection()) {
        inspect(false);
    } else if (!be_) {
        // A frontend with no backend accepts and closes, as HAProxy does in TCP mode.
        close();
    } else {
        connect_or_queue(attempt_.pick());
    }
    finish_callback();
}

bool TcpStream::needs_inspection() const {
    if (!fe_.switching.empty()) return true;
    if (be_ && needs_server_choice(*be_)) return true;
    if (!fe_.parts->read<rules::TcpRulesConf>().content.empty()) return true;
    return be_ && be_->parts != fe_.parts &&
           !be_->parts->read<rules::TcpRulesConf>().content.empty();
}

void TcpStream::attach_connection(sample::Context& ctx, sample::Connection& conn,
                                  bool rules_set_vars) {
    conn = {.fd = client_.fd,
            .src = addrs_ ? &addrs_->src : nullptr,
            .dst = addrs_ ? &addrs_->dst : nullptr,
            .change_address = &TcpStream::change_address,
            .owner = this};
    ctx.attach(&conn);
    ctx.attach(&fe_);
    ctx.attach(const_cast<proxy::Config*>(&worker_.config()));
    ctx.attach(&attempt_.priority());
    // No allocation per connection unless a rule may set a variable.
    if (!vars_ && rules_set_vars) vars_ = std::make_unique<sample::StreamVars>();
    if (vars_) ctx.attach(&vars_->view);
    // The frontend's capture slots: the stream is one transaction, so they live as long.
    if (!captures_) {
        const sample::CaptureConf& slots = fe_.parts->read<sample::CaptureConf>();
        if (!slots.empty()) captures_ = sample::take_captures(slots);
    }
    if (captures_) ctx.attach(captures_.get());
}

void TcpStream::change_address(void* owner, sample::Connection& conn, bool dst,
                               const net::Address& to) {
    change_client_address(static_cast<TcpStream*>(owner)->addrs_, conn, dst, to);
}

const cfg::Parts& TcpStream::inspected_parts() const {
    return inspect_stage_ == 0 ? *fe_.parts : *be_->parts;
}

// tcp-request content rules (the frontend's, then the chosen backend's) and use_backend, on
// what the client has sent so far. While a rule needs bytes that are not there yet, the
// stream waits in Phase::Inspecting, reading, up to that side's inspect-delay; `expired`: the
// delay is over, so what is there is all the rules get.
void TcpStream::inspect(bool expired) {
    sample::Arena& arena = worker_.arena();
    for (;;) {
        const rules::TcpRulesConf& rc = inspected_parts().read<rules::TcpRulesConf>();
        arena.reset();
        sample::Context ctx(arena);
        sample::Connection conn;
        attach_connection(ctx, conn, rc.content_sets_vars);
        sample::Payload payload{.req = up_.buf.readable(),
                                .res = {},
                                .final = expired || rc.inspect_delay.count() == 0 ||
                                         client_.read_closed || up_.buf.full()};
        ctx.attach(&payload);
        if (inspect_stage_ == 1) ctx.attach(be_);
        switch (rules::run_content_rules(rc.content, ctx, payload.final, log_level_)) {
            case rules::ContentVerdict::Wait:
                if (phase_ != Phase::Inspecting) {
                    phase_ = Phase::Inspecting;
                    phase_started_ = worker_.loop().now();
                }
                update_interest();
                arm_timer();
                return;
            case rules::ContentVerdict::Reject:
                // What the client sent was read: the close is a plain FIN, as in HAProxy.
                term_.set('P', 'R');
                close();
                return;
            case rules::ContentVerdict::SilentDrop:
                net::prepare_silent_drop(client_.fd);
                term_.set('P', 'R');
                close();
                return;
            case rules::ContentVerdict::Accept:
            case rules::ContentVerdict::Close:  // tcp-response only
                break;
        }
        if (inspect_stage_ == 1) {
            choose_server(*be_, ctx, attempt_);
            break;
        }
        if (!fe_.switching.empty()) {
            be_ = choose_backend(fe_, worker_.config(), ctx);
            attempt_.set_backend(be_);
        }
        if (!be_) {
            close();  // no backend: accepted, then closed, as HAProxy does in TCP mode
            return;
        }
        if (be_->parts == fe_.parts) {  // a listen section: its rules just ran
            ctx.attach(be_);
            choose_server(*be_, ctx, attempt_);
            break;
        }
        // The backend's rules, with the backend's own delay counted from now.
        inspect_stage_ = 1;
        expired = false;
        phase_ = Phase::Picking;
    }
    phase_ = Phase::Picking;
    connect_or_queue(attempt_.pick());
}

// Every libev callback ends here: a stream that closed itself is freed once nothing on the
// call stack uses it any more.
void TcpStream::finish_callback() {
    if (closed_) delete this;
}

void TcpStream::connect_or_queue(const proxy::Pick& pick) {
    if (pick.server) {
        if (phase_ == Phase::Queued)
            worker_.count_time(nullptr, pick.server, proxy::TimingKind::Queue, phase_started_);
        if (clock_.queue_done == 0) clock_.queue_done = worker_.loop().now();
        worker_.dequeue_served(queue_link, *be_, queue_positions_);
        connect();
        return;
    }
    if (pick.all_full) {
        const bool was_queued = queue_link.linked();
        if (!worker_.enqueue(*be_, pick, attempt_.priority(), queue_link)) {
            // The bound server's queue is at its maxqueue.
            if (attempt_.leave_full_server(pick)) return connect_or_queue(attempt_.pick());
            term_.set('s', 'Q');
            close();
            return;
        }
        if (was_queued) return;  // still waiting, its timer running
        phase_ = Phase::Queued;
        phase_started_ = worker_.loop().now();
        arm_timer();
        update_interest();
        return;
    }
    worker_.dequeue(queue_link);
    term_.set('s', 'C');
    close();  // no usable server
}

bool TcpStream::woken_from_queue() {
    connect_or_queue(attempt_.pick());
    const bool requeued = queue_link.linked();
    finish_callback();
    return requeued;
}

void TcpStream::connect() {
    phase_ = Phase::Connecting;
    phase_started_ = worker_.loop().now();
    if (proxy::Server* srv = attempt_.server()) {
        worker_.counts(srv->counts).new_conns.add();  // HAProxy's `connect`: attempts
        worker_.counts(be_->counts).new_conns.add();
    }
    auto fd = attempt_.connect(client_.fd, addrs_.get());
    if (!fd) {
        connect_failed(false);
        return;
    }
    server_side_.fd = *fd;
    ev_io_set(&server_side_.io, *fd, 0);
    server_side_.events = 0;
    arm_timer();
    update_interest();
}

void TcpStream::on_connected() {
    if (!attempt_.send_proxy_header(server_side_.fd, client_.fd, addrs_.get())) {
        connect_failed(false);
        return;
    }
    phase_ = Phase::Forwarding;
    if (proxy::Server* srv = attempt_.server()) {
        srv->observed(proxy::Observed::L4Ok);
        worker_.count_time(nullptr, srv, proxy::TimingKind::Connect, phase_started_);
    }
    server_side_.last_activity = client_.last_activity = connected_at_ = worker_.loop().now();
    clock_.connected = connected_at_;
    if (logs_backend_source(fe_, false)) {
        backend_source_ = std::make_unique<net::Address>();
        if (!net::local_address(server_side_.fd, *backend_source_)) backend_source_.reset();
    }
    if (fe_.logger && !fe_.logger->empty() && fe_.parts &&
        fe_.parts->read<log::ProxyLogFormat>().logasap)
        log_session(true);
    if (!be_->parts->read<rules::TcpRulesConf>().response.empty()) {
        inspecting_response_ = true;
        inspect_response(false);
        if (closed_) return;
    }
    arm_timer();
    // What the client sent while we were connecting goes out now.
    if (up_.pending() > 0 && !flush(up_, client_, server_side_)) return;
    propagate_shutdown(up_, client_, server_side_);
}

void TcpStream::connect_failed(bool timed_out) {
    if (server_side_.fd >= 0) {
        set_interest(server_side_, 0);
        ::close(server_side_.fd);
        server_side_.fd = -1;
    }
    switch (attempt_.failed(timed_out)) {
        case ServerAttempt::Next::GiveUp:
            term_.set(timed_out ? 's' : 'S', 'C');
            close();
            return;
        case ServerAttempt::Next::RetryNow:
            connect_or_queue(attempt_.retry());
            return;
        case ServerAttempt::Next::RetryAfterPause:
            phase_ = Phase::RetryWait;
            phase_started_ = worker_.loop().now();
            arm_timer();
            update_interest();
            return;
    }
}

void TcpStream::on_client_io(struct ev_loop*, ev_io* w, int revents) {
    auto* self = static_cast<TcpStream*>(w->data);
    self->handle(self->client_, revents);
    self->finish_callback();
}

void TcpStream::on_server_io(struct ev_loop*, ev_io* w, int revents) {
    auto* self = static_cast<TcpStream*>(w->data);
    if (self->phase_ == Phase::Connecting) {
        const int err = net::connect_result(self->server_side_.fd);
        if (err == 0) {
            self->on_connected();
            if (self->phase_ != Phase::Forwarding && !self->closed_) {
                self->finish_callback();  // the PROXY header failed: retrying elsewhere
                return;
            }
        } else {
            self->connect_failed(false);
            self->finish_callback();
            return;
        }
        if (self->closed_) {
            self->finish_callback();
            return;
        }
        revents &= ~EV_WRITE;  // the writability was the connect completing
    }
    self->handle(self->server_side_, revents);
    self->finish_callback();
}

void TcpStream::handle(Side& side, int revents) {
    Side& other = &side == &client_ ? server_side_ : client_;
    Flow& out_of_side = &side == &client_ ? up_ : down_;  // read from `side`
    Flow& into_side = &side == &client_ ? down_ : up_;    // written to `side`
    if (revents & EV_WRITE) {
        if (!flush(into_side, other, side)) return;
        propagate_shutdown(into_side, other, side);
        if (closed_) return;
    }
    if (revents & EV_READ) {
        pump(out_of_side, side, other);
        if (closed_) return;
    }
    update_interest();
}

ev_tstamp TcpStream::response_inspection_end() const {
    const util::Duration d = be_->parts->read<rules::TcpRulesConf>().response_inspect_delay;
    return connected_at_ + seconds(d);
}

// The tcp-response rules decide on the server's first bytes, held in down_ meanwhile; while a
// rule reads bytes that have not come, they wait, up to tcp-response inspect-delay.
void TcpStream::inspect_response(bool expired) {
    const rules::TcpRulesConf& rc = be_->parts->read<rules::TcpRulesConf>();
    sample::Arena& arena = worker_.arena();
    arena.reset();
    sample::Context ctx(arena);
    ctx.response = true;
    sample::Connection conn;
    attach_connection(ctx, conn, rc.response_sets_vars);
    sample::Payload payload{.req = {},
                            .res = down_.buf.readable(),
                            .final = expired || rc.response_inspect_delay.count() == 0 ||
                                     server_side_.read_closed || down_.buf.full()};
    ctx.attach(&payload);
    ctx.attach(be_);
    if (attempt_.server()) ctx.attach(attempt_.server());
    switch (rules::run_content_rules(rc.response, ctx, payload.final, log_level_)) {
        case rules::ContentVerdict::Wait:
            arm_timer();
            return;
        case rules::ContentVerdict::Reject:
            close();
            return;
        case rules::ContentVerdict::SilentDrop:
            net::prepare_silent_drop(client_.fd);
            close();
            return;
        case rules::ContentVerdict::Close:
            // What the server sent goes to the client, then the stream ends as if the server
            // had closed; nothing more goes to the server.
            ::shutdown(server_side_.fd, SHUT_RDWR);
            server_side_.read_closed = server_side_.write_shut = true;
            break;
        case rules::ContentVerdict::Accept:
            break;
    }
    inspecting_response_ = false;
    arm_timer();
    if (down_.pending() > 0 && !flush(down_, server_side_, client_)) return;
    propagate_shutdown(down_, server_side_, client_);
    if (!closed_) update_interest();
}

// Reads from `from` and forwards to `to` at once; what `to` cannot take waits in the buffer
// (or pipe), and `from` is not read again until it drains: that is the back-pressure.
void TcpStream::pump(Flow& f, Side& from, Side& to) {
    const bool connected = phase_ == Phase::Forwarding;
    for (int i = 0; i < kMaxReadsPerEvent && !from.read_closed; ++i) {
        if (f.splicing) {
            if (!connected) break;
            const SpliceIn r = splice_in(f, from);
            if (r == SpliceIn::Closed) return;
            if (r == SpliceIn::Fallback) continue;  // read this event with a buffer instead
            if (f.in_pipe > 0 && !flush(f, from, to)) return;
            // One splice moves what the socket holds (up to a large pipe): reading again now
            // would mostly return EAGAIN, so wait for the next readiness event.
            break;
        }
        if (!f.buf.holds_memory()) {
            f.buf = core::Buffer::take(worker_.loop().buffers());
            if (!f.buf.holds_memory()) break;  // out of memory: wait for the next event
        }
        std::span<std::byte> room = f.buf.writable();
        if (room.empty()) break;
        const ssize_t n = ::recv(from.fd, room.data(), room.size(), 0);
        if (n > 0) {
            f.buf.commit(static_cast<std::size_t>(n));
            if (&from == &client_) client_sent_ = true;
            from.last_activity = worker_.loop().now();
            if (connected && !flush(f, from, to)) return;
            if (static_cast<std::size_t>(n) < room.size()) break;  // drained the socket for now
            // A full read on an idle flow: large transfer, so splice-auto switches here.
            if (connected && f.auto_splice && f.buf.empty() && start_splicing(f)) continue;
            continue;
        }
        if (n == 0) {
            from.read_closed = true;
            arm_timer();  // the *-fin timeouts may apply now
            break;
        }
        if (errno == EAGAIN || errno == EINTR) break;
        term_.set(&from == &client_ ? 'C' : 'S', 'D');
        close();  // reset or error on `from`
        return;
    }
    if (phase_ == Phase::Inspecting) {
        inspect(false);  // more bytes, or the client's end: the rules may decide now
        return;
    }
    if (&f == &down_ && inspecting_response_) {
        inspect_response(false);
        return;
    }
    if (from.read_closed) propagate_shutdown(f, from, to);
}

bool TcpStream::start_splicing(Flow& f) {
    if (f.splicing) return true;
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        f.auto_splice = f.may_splice = false;  // no pipes left: stay with buffers
        return false;
    }
    (void)::fcntl(fds[1], F_SETPIPE_SZ, kPipeSize);
    f.pipe_r = fds[0];
    f.pipe_w = fds[1];
    f.splicing = true;
    f.buf.release();
    return true;
}

// Moves bytes from the socket into the flow's pipe.
TcpStream::SpliceIn TcpStream::splice_in(Flow& f, Side& from) {
    const ssize_t n = ::splice(from.fd, nullptr, f.pipe_w, nullptr, kSpliceChunk,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
        f.in_pipe += static_cast<std::size_t>(n);
        if (&from == &client_) client_sent_ = true;
        from.last_activity = worker_.loop().now();
        return SpliceIn::Moved;
    }
    if (n == 0) {
        from.read_closed = true;
        arm_timer();
        return SpliceIn::Moved;
    }
    if (errno == EAGAIN || errno == EINTR) return SpliceIn::Moved;
    if ((errno == EINVAL || errno == ENOSYS) && f.in_pipe == 0) {
        // This socket type cannot splice: go on with buffers for this flow.
        ::close(f.pipe_r);
        ::close(f.pipe_w);
        f.pipe_r = f.pipe_w = -1;
        f.splicing = f.may_splice = f.auto_splice = false;
        return SpliceIn::Fallback;
    }
    term_.set(&from == &client_ ? 'C' : 'S', 'D');
    close();
    return SpliceIn::Closed;
}

// Sends what is pending in `f` to `to`. False when the stream closed (write error).
bool TcpStream::flush(Flow& f, Side& from, Side& to) {
    if (phase_ != Phase::Forwarding) return true;
    if (&f == &down_ && inspecting_response_) return true;  // held for the tcp-response rules
    while (f.pending() > 0) {
        ssize_t n;
        if (f.splicing) {
            n = ::splice(f.pipe_r, nullptr, to.fd, nullptr, f.in_pipe,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        } else {
            std::span<const std::byte> data = f.buf.readable();
            n = ::send(to.fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n > 0) {
            worker_.count_bytes(fe_, be_, attempt_.server(), &f == &down_,
                                static_cast<std::uint64_t>(n));
            (&f == &down_ ? clock_.bytes_out : clock_.bytes_in) += static_cast<std::uint64_t>(n);
            if (f.splicing)
                f.in_pipe -= static_cast<std::size_t>(n);
            else
                f.buf.consume(static_cast<std::size_t>(n));
            to.last_activity = worker_.loop().now();
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        term_.set(&to == &client_ ? 'C' : 'S', 'D');
        close();  // the peer reset or went away
        return false;
    }
    if (f.pending() == 0) {
        // Nothing left to send: the buffer goes back to the pool, so an idle stream holds none.
        f.buf.release();
        if (f.may_splice && !f.splicing && !from.read_closed) start_splicing(f);
    }
    return true;
}

// Once `from` has closed and everything it sent has reached `to`, pass the FIN on; when both
// directions are done, the stream is.
void TcpStream::propagate_shutdown(Flow& f, Side& from, Side& to) {
    if (phase_ != Phase::Forwarding) return;
    if (&f == &down_ && inspecting_response_) return;
    if (from.read_closed && f.pending() == 0 && !to.write_shut) {
        // The other direction already finished, so this FIN is the stream's last act: close()
        // sends it (both sockets have read their peer's FIN, so no reset), one call fewer.
        if (from.write_shut) {
            close();
            return;
        }
        ::shutdown(to.fd, SHUT_WR);
        to.write_shut = true;
        arm_timer();
    }
    // Each side got the other's FIN: nothing more can flow either way.
    if (client_.write_shut && server_side_.write_shut) close();
}

void TcpStream::update_interest() {
    if (closed_) return;
    const bool forwarding = phase_ == Phase::Forwarding;
    int c = 0, s = 0;
    // The client may send while we connect: it is buffered (up to one buffer).
    const bool up_room = up_.splicing ? up_.in_pipe == 0 : !up_.buf.full();
    const bool down_room = down_.splicing ? down_.in_pipe == 0 : !down_.buf.full();
    const bool reading_client_ok =
        forwarding || ((phase_ == Phase::Inspecting || phase_ == Phase::Connecting ||
                        phase_ == Phase::Queued || phase_ == Phase::RetryWait) &&
                       !up_.splicing);
    if (!client_.read_closed && up_room && reading_client_ok) c |= EV_READ;
    if (down_.pending() > 0 && !inspecting_response_) c |= EV_WRITE;
    if (phase_ == Phase::Connecting) s |= EV_WRITE;
    if (forwarding) {
        if (!server_side_.read_closed && down_room) s |= EV_READ;
        if (up_.pending() > 0) s |= EV_WRITE;
    }
    set_interest(client_, c);
    if (server_side_.fd >= 0) set_interest(server_side_, s);
}

void TcpStream::set_interest(Side& side, int events) {
    if (side.events == events) return;
    ev_io_stop(worker_.loop().raw(), &side.io);
    ev_io_modify(&side.io, events);
    if (events) ev_io_start(worker_.loop().raw(), &side.io);
    side.events = events;
}

// The moment this stream times out, or 0 for never. Activity only updates timestamps; the
// timer is re-armed lazily when it fires early (libev's recommended pattern).
ev_tstamp TcpStream::deadline() const {
    auto at = [](ev_tstamp from, util::Duration d) -> ev_tstamp {
        return d.count() > 0 ? from + seconds(d) : 0;
    };
    switch (phase_) {
        case Phase::Inspecting: {
            const ev_tstamp end =
                at(phase_started_, inspected_parts().read<rules::TcpRulesConf>().inspect_delay);
            // The client's own timeout still applies while we wait for its bytes.
            const ev_tstamp idle = at(client_.last_activity, fe_.timeout_client);
            return end == 0 ? idle : idle == 0 ? end : std::min(end, idle);
        }
        case Phase::Queued:
            return at(phase_started_, be_->timeout_queue);
        case Phase::Connecting:
            return at(phase_started_, be_->timeout_connect);
        case Phase::RetryWait:
            return phase_started_ + attempt_.retry_pause();
        case Phase::Forwarding: {
            if (be_->timeout_tunnel.count() > 0)
                return std::max(client_.last_activity, server_side_.last_activity) +
                       seconds(be_->timeout_tunnel);
            const util::Duration ct = client_timeout();
            const util::Duration st =
                server_side_.read_closed && be_->timeout_server_fin.count() > 0
                    ? be_->timeout_server_fin
                    : be_->timeout_server;
            const ev_tstamp c = at(client_.last_activity, ct);
            ev_tstamp s = at(server_side_.last_activity, st);
            if (inspecting_response_)
                s = s == 0 ? response_inspection_end() : std::min(s, response_inspection_end());
            if (c == 0) return s;
            if (s == 0) return c;
            return std::min(c, s);
        }
        case Phase::Picking:
        case Phase::Closed:
            return 0;
    }
    return 0;
}

void TcpStream::arm_timer() {
    struct ev_loop* raw = worker_.loop().raw();
    ev_timer_stop(raw, &timer_);
    const ev_tstamp when = deadline();
    if (when == 0) return;
    ev_timer_set(&timer_, std::max(0.0, when - ev_now(raw)), 0.);
    ev_timer_start(raw, &timer_);
}

void TcpStream::on_timer(struct ev_loop* raw, ev_timer* w, int) {
    auto* self = static_cast<TcpStream*>(w->data);
    const ev_tstamp when = self->deadline();
    if (when > ev_now(raw) + 0.0005) {
        // Activity since the timer was set pushed the deadline: sleep again until then.
        ev_timer_set(w, when - ev_now(raw), 0.);
        ev_timer_start(raw, w);
        return;
    }
    switch (self->phase_) {
        case Phase::Inspecting: {
            const ev_tstamp end =
                self->phase_started_ +
                seconds(self->inspected_parts().read<rules::TcpRulesConf>().inspect_delay);
            if (end <= ev_now(raw) + 0.0005) {
                self->inspect(true);
            } else {
                self->term_.set('c', 'R');
                self->close();  // the client went quiet for timeout client first
            }
            break;
        }
        case Phase::Queued:
            self->worker_.dequeue(self->queue_link);
            self->term_.set('s', 'Q');
            self->close();  // HAProxy: queue timeout, the client connection is closed
            break;
        case Phase::Connecting:
            self->connect_failed(true);
            break;
        case Phase::RetryWait:
            self->connect_or_queue(self->attempt_.retry());
            break;
        case Phase::Forwarding:
            if (self->inspecting_response_ &&
                self->response_inspection_end() <= ev_now(raw) + 0.0005) {
                self->inspect_response(true);
                break;
            }
            self->term_.set(self->timed_out_side(), 'D');
            self->close();
            break;
        default:
            self->term_.set('c', 'R');
            self->close();
            break;
    }
    self->finish_callback();
}

void TcpStream::abandon() {
    close();
    delete this;
}

void TcpStream::close() {
    if (closed_) return;
    log_session();
    closed_ = true;
    struct ev_loop* raw = worker_.loop().raw();
    ev_timer_stop(raw, &timer_);
    if (queue_link.linked()) worker_.dequeue(queue_link);
    for (Side* s : {&client_, &server_side_}) {
        if (s->fd < 0) continue;
        ev_io_stop(raw, &s->io);
        ::close(s->fd);
        s->fd = -1;
    }
    for (Flow* f : {&up_, &down_}) {
        f->buf.release();
        if (f->pipe_r >= 0) ::close(f->pipe_r);
        if (f->pipe_w >= 0) ::close(f->pipe_w);
        f->pipe_r = f->pipe_w = -1;
    }
    if (phase_ == Phase::Forwarding)
        worker_.count_time(&fe_, attempt_.server(), proxy::TimingKind::Total, started_at_);
    phase_ = Phase::Closed;
    attempt_.release();
    worker_.stream_closed(fe_, worker_link);
}

}  // namespace sluice::stream
