// Per-thread accepting, connection limits, server queues, and the process-wide Engine.
#include "sluice/stream/worker.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "sluice/net/socket.hpp"
#include "sluice/rules/tcp_rules.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/stream/http_stream.hpp"
#include "sluice/stream/idle_pool.hpp"
#include "sluice/stream/proxy_wait.hpp"
#include "sluice/stream/stream_log.hpp"
#include "sluice/stream/tcp_stream.hpp"

namespace sluice::stream {
namespace {
// Accepts per readiness event on one listener, so one busy listener cannot starve the loop.
constexpr int kAcceptBatch = 64;
// After EMFILE/ENFILE, listeners rest this long before trying again.
constexpr double kFdLimitPause = 0.1;
}  // namespace

Worker::Worker(Engine& engine, core::Loop& loop)
    : engine_(engine),
      loop_(loop),
      idle_pool_(std::make_unique<IdlePool>(loop, engine.config().server_uids())) {
    queue_heads_.resize(engine.config().backends.size());
    for (QueueLink& head : queue_heads_)
        head.prev = head.next = &head;
    streams_head_.prev = streams_head_.next = &streams_head_;
    ev_timer_init(&fd_limit_timer_, on_fd_limit_timer, kFdLimitPause, 0.);
    fd_limit_timer_.data = this;
}

// Runs after every loop has stopped (threads joined): streams still open, after a hard stop,
// are freed here so that nothing is left for the leak checker but real leaks.
Worker::~Worker() {
    shutting_down_ = true;
    while (streams_head_.next != &streams_head_)
        streams_head_.next->owner->abandon();
    for (auto& lw : watchers_)
        ev_io_stop(loop_.raw(), &lw->io);
    ev_timer_stop(loop_.raw(), &fd_limit_timer_);
}

const proxy::Config& Worker::config() const {
    return engine_.config();
}

void Worker::start_listeners() {
    for (auto& fe : engine_.config().frontends) {
        for (proxy::Listener& l : fe->listeners) {
            auto lw = std::make_unique<ListenWatcher>();
            lw->worker = this;
            lw->frontend = fe.get();
            lw->listener = &l;
            ev_io_init(&lw->io, on_listener_ready, l.socket.fd, EV_READ);
            lw->io.data = lw.get();
            ev_io_start(loop_.raw(), &lw->io);
            watchers_.push_back(std::move(lw));
        }
    }
}

void Worker::stop_listeners() {
    if (stopping_) return;
    stopping_ = true;
    for (auto& lw : watchers_)
        ev_io_stop(loop_.raw(), &lw->io);
    ev_timer_stop(loop_.raw(), &fd_limit_timer_);
    engine_.listener_stopped();
    // Idle keep-alive connections close now; streams with work in flight finish it first.
    idle_pool_->close_all();
    for (QueueLink* link = streams_head_.next; link != &streams_head_;) {
        QueueLink* next = link->next;
        link->owner->soft_stop();  // may free the stream, and unlink it
        link = next;
    }
}

bool Worker::has_room(const proxy::Frontend& fe) const {
    const proxy::Config& c = engine_.config();
    return c.cur_conns.load(std::memory_order_acquire) <
               c.maxconn.load(std::memory_order_relaxed) &&
           fe.cur_conns.load(std::memory_order_acquire) <
               fe.maxconn.load(std::memory_order_relaxed);
}

void Worker::on_listener_ready(struct ev_loop*, ev_io* w, int) {
    auto* lw = static_cast<ListenWatcher*>(w->data);
    lw->worker->accept_from(*lw);
}

namespace {

// set-src / set-dst in a connection or session rule: the Session keeps the new address.
void change_session_address(void* owner, sample::Connection& conn, bool dst,
                            const net::Address& to) {
    change_client_address(static_cast<Session*>(owner)->addrs, conn, dst, to);
}

// Runs `rules` on what a connection offers before any stream exists: its addresses (the
// socket's, or a PROXY header's), its frontend, the process. Only sess (and proc) variables
// exist at this stage; their store is made first when the rules may set one (`sets_vars`,
// known at parse time), so that other connections allocate nothing.
template <class Rules>
auto on_connection(sample::Arena& arena, proxy::Config& config, proxy::Frontend& fe, int fd,
                   Session& session, bool sets_vars, Rules rules) {
    arena.reset();
    sample::Context ctx(arena);
    sample::Connection conn{.fd = fd,
                            .src = session.addrs ? &session.addrs->src : nullptr,
                            .dst = session.addrs ? &session.addrs->dst : nullptr,
                            .change_address = &change_session_address,
                            .owner = &session};
    ctx.attach(&conn);
    ctx.attach(&fe);
    ctx.attach(&config);
    if (sets_vars && !session.vars) session.vars = std::make_unique<sample::StreamVars>();
    sample::Vars vars;
    if (session.vars) {
        vars.sess = &session.vars->sess;
        ctx.attach(&vars);
    }
    return rules(ctx);
}

// Closes a refused connection: a reset (as HAProxy does for reject), or nothing at all for
// silent-drop.
void refuse(int fd, rules::TcpVerb verb) {
    if (verb == rules::TcpVerb::SilentDrop)
        net::prepare_silent_drop(fd);
    else
        net::set_nolinger(fd);
    ::close(fd);
}

}  // namespace

rules::Admission Worker::admitted(proxy::Frontend& fe, int fd, Session& session) {
    const rules::TcpRulesConf& conf = fe.parts->read<rules::TcpRulesConf>();
    if (conf.connection.empty()) return {};
    return on_connection(arena_, engine_.config(), fe, fd, session, conf.connection_sets_vars,
                         [&](sample::Context& ctx) { return rules::admit_connection(conf, ctx); });
}

void Worker::launch(proxy::Frontend& fe, int fd, Session session) {
    const rules::TcpRulesConf& conf = fe.parts->read<rules::TcpRulesConf>();
    if (!conf.session.empty()) {
        const rules::TcpVerb verb =
            on_connection(arena_, engine_.config(), fe, fd, session, conf.session_sets_vars,
                          [&](sample::Context& ctx) { return rules::admit_session(conf, ctx); });
        if (verb != rules::TcpVerb::Accept) {
            counts(fe.counts).denied_sessions.add();
            refuse(fd, verb);
            fe.cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            engine_.config().cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            return;
        }
    }
    proxy::Counts& counted = counts(fe.counts);
    counted.sessions.add();
    counted.session_rate.add(second());
    if (fe.http) {
        auto* stream = new HttpStream(*this, fe, fd, std::move(session));
        stream->start();
    } else {
        auto* stream = new TcpStream(*this, fe, fd, std::move(session));
        stream->start();
    }
}

void Worker::accept_from(ListenWatcher& lw) {
    proxy::Config& c = engine_.config();
    proxy::Frontend& fe = *lw.frontend;
    for (int i = 0; i < kAcceptBatch; ++i) {
        if (c.conn_rate.limited() || c.sess_rate.limited()) {
            const double now = loop_.now();
            const double wait = std::max(c.conn_rate.wait(now), c.sess_rate.wait(now));
            if (wait > 0) {
                // At the rate: this thread's listeners rest until one more fits (the kernel
                // keeps new clients in the backlog meanwhile), as HAProxy's do.
                rest_listeners(wait);
                return;
            }
        }
        // Take the slots first, so two threads cannot both take the last one.
        const std::uint32_t global = c.cur_conns.fetch_add(1, std::memory_order_acq_rel);
        const std::uint32_t local = fe.cur_conns.fetch_add(1, std::memory_order_acq_rel);
        if (global >= c.maxconn.load(std::memory_order_relaxed) ||
            local >= fe.maxconn.load(std::memory_order_relaxed)) {
            c.cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            fe.cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            pause(lw);
            return;
        }
        // A logging frontend names the client even when it reset the connection before we
        // looked (getpeername fails then): its address is taken from the accept.
        const bool logs = fe.logger && !fe.logger->empty();
        net::Address peer;
        peer.length = sizeof peer.storage;
        const int fd = ::accept4(lw.listener->socket.fd,
                                 logs ? reinterpret_cast<sockaddr*>(&peer.storage) : nullptr,
                                 logs ? &peer.length : nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            c.cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            fe.cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: rest every listener of this thread briefly instead of
                // spinning on a readable listener we cannot serve.
                rest_listeners(kFdLimitPause);
            }
            return;  // EAGAIN: another thread took it, or nothing left
        }
        loop_.activity().accepted.add();
        proxy::Counts& counted = counts(fe.counts);
        counted.connections.add();
        counted.connection_rate.add(second());
        proxy::raise_max(fe.counts.max_conns, local + 1);
        if (c.conn_rate.limited()) c.conn_rate.count(loop_.now());
        Session session;
        if (logs) {
            session.addrs = std::make_unique<ClientAddresses>();
            session.addrs->src = peer;
            if (!net::local_address(fd, session.addrs->dst)) session.addrs->dst = {};
        }
        const rules::Admission admission = admitted(fe, fd, session);
        if (admission.verb != rules::TcpVerb::Accept) {
            // Refused before any stream is made for it.
            counted.denied_conns.add();
            refuse(fd, admission.verb);
            fe.cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            c.cur_conns.fetch_sub(1, std::memory_order_acq_rel);
            continue;
        }
        if (c.sess_rate.limited()) c.sess_rate.count(loop_.now());
        if (logs) log_connect(fe, *session.addrs);
        if (lw.listener->options.accept_proxy || admission.expect_proxy) {
            // The session starts once the PROXY header said whose connection this is.
            auto* wait = new ProxyHeaderWait(*this, fe, *lw.listener, fd, std::move(session));
            wait->start();
            continue;
        }
        launch(fe, fd, std::move(session));
    }
}

// A proxy with log targets but no traffic log format: HAProxy's line per connection.
void Worker::log_connect(const proxy::Frontend& fe, const ClientAddresses& a) {
    const log::ProxyLogFormat& conf = fe.parts->read<log::ProxyLogFormat>();
    const bool http = fe.conf->mode == proxy::Mode::Http;
    if (conf.log_format(http) || !fe.logger->wants(log::Level::Info)) return;
    fe.logger->emit(log::Level::Info,
                    fmt::format("Connect from {} to {} ({}/{})", a.src.to_string(),
                                a.dst.to_string(), fe.name, http ? "HTTP" : "TCP"));
}

void Worker::rest_listeners(double seconds) {
    for (auto& lw : watchers_)
        ev_io_stop(loop_.raw(), &lw->io);
    ev_timer_stop(loop_.raw(), &fd_limit_timer_);
    ev_timer_set(&fd_limit_timer_, seconds, 0.);
    ev_timer_start(loop_.raw(), &fd_limit_timer_);
}

void Worker::on_fd_limit_timer(struct ev_loop*, ev_timer* w, int) {
    auto* self = static_cast<Worker*>(w->data);
    if (self->stopping_) return;
    for (auto& lw : self->watchers_)
        if (!lw->paused && !lw->disabled) ev_io_start(self->loop_.raw(), &lw->io);
}

// At the limit the listener is not watched (the kernel keeps new clients in its backlog)
// until a slot frees, as HAProxy does: clients wait, they are not refused.
void Worker::pause(ListenWatcher& lw) {
    ev_io_stop(loop_.raw(), &lw.io);
    lw.paused = true;
    engine_.any_paused().store(true, std::memory_order_seq_cst);
    // A slot may have been freed between our check and the flag: its owner did not see the
    // flag, so look again ourselves.
    if (has_room(*lw.frontend)) resume_paused();
}

// Any close clears the shared flag before asking everyone to look (see stream_closed), so a
// watcher that still has no room must raise it again, or the close that would give it room
// later would not wake it. Raising it, then checking once more, closes the race with a close
// that happened in between (the same order as in pause()).
void Worker::resume_paused() {
    if (stopping_) return;
    bool still_paused = false;
    for (auto& lw : watchers_) {
        if (!lw->paused) continue;
        if (!has_room(*lw->frontend)) {
            still_paused = true;
            continue;
        }
        lw->paused = false;
        if (!lw->disabled) ev_io_start(loop_.raw(), &lw->io);
    }
    if (!still_paused) return;
    engine_.any_paused().store(true, std::memory_order_seq_cst);
    for (auto& lw : watchers_) {
        if (!lw->paused || !has_room(*lw->frontend)) continue;
        lw->paused = false;
        if (!lw->disabled) ev_io_start(loop_.raw(), &lw->io);
    }
}

void Worker::frontend_listening(const proxy::Frontend& fe) {
    if (stopping_) return;
    const bool off =
        fe.listening.load(std::memory_order_acquire) != proxy::Frontend::Listening::Ready;
    for (auto& lw : watchers_) {
        if (lw->frontend != &fe || lw->disabled == off) continue;
        lw->disabled = off;
        if (off)
            ev_io_stop(loop_.raw(), &lw->io);
        else if (!lw->paused && !ev_is_active(&fd_limit_timer_))
            ev_io_start(loop_.raw(), &lw->io);
    }
}

void Worker::count_session(proxy::Server& srv, bool balanced) {
    const std::uint32_t sec = second();
    for (proxy::PerThreadCounts* of : {&srv.counts, &srv.backend->counts}) {
        proxy::Counts& c = counts(*of);
        c.sessions.add();
        c.session_rate.add(sec);
        c.last_session.store(sec, std::memory_order_relaxed);
        if (balanced) c.balanced.add();
    }
    proxy::raise_max(srv.counts.max_conns, srv.cur_conns.load(std::memory_order_relaxed));
    proxy::raise_max(srv.backend->counts.max_conns,
                     srv.backend->cur_conns.load(std::memory_order_relaxed));
}

void Worker::count_time(proxy::Frontend* fe, proxy::Server* srv, proxy::TimingKind kind,
                        ev_tstamp since) {
    const double ms = (ev_now(loop_.raw()) - since) * 1000.0;
    const auto v = ms > 0 ? static_cast<std::uint32_t>(std::min(ms, 4e9)) : 0u;
    if (fe) counts(fe->counts).timing(kind).add(v);
    if (srv) {
        counts(srv->counts).timing(kind).add(v);
        counts(srv->backend->counts).timing(kind).add(v);
    }
}

void Worker::count_bytes(proxy::Frontend& fe, proxy::Backend* be, const proxy::Server* srv,
                         bool to_client, std::uint64_t n) {
    proxy::Tally proxy::Counts::*which =
        to_client ? &proxy::Counts::bytes_out : &proxy::Counts::bytes_in;
    (counts(fe.counts).*which).add(n);
    if (be) (counts(be->counts).*which).add(n);
    if (srv) (counts(const_cast<proxy::Server*>(srv)->counts).*which).add(n);
}

void Worker::stream_opened(QueueLink& link) {
    link.prev = streams_head_.prev;
    link.next = &streams_head_;
    streams_head_.prev->next = &link;
    streams_head_.prev = &link;
}

void Worker::stream_handed_over(QueueLink& link) {
    link.prev->next = link.next;
    link.next->prev = link.prev;
    link.prev = link.next = nullptr;
}

void Worker::stream_closed(proxy::Frontend& fe, QueueLink& link) {
    stream_handed_over(link);
    // seq_cst: the slot freed here and the flag read below pair with pause()'s flag store and
    // room check, so either this close sees the flag or the pausing thread sees the room.
    fe.cur_conns.fetch_sub(1, std::memory_order_seq_cst);
    engine_.config().cur_conns.fetch_sub(1, std::memory_order_seq_cst);
    // Usually nothing is paused: a plain load leaves the shared flag's cache line unwritten,
    // instead of a locked exchange on it at every close.
    if (engine_.any_paused().load(std::memory_order_seq_cst) &&
        engine_.any_paused().exchange(false, std::memory_order_seq_cst)) {
        Engine* engine = &engine_;
        engine_.runtime().post_all(
            [engine](core::Loop& l) { engine->worker(l.index()).resume_paused(); });
    }
}

bool Worker::enqueue(proxy::Backend& be, const proxy::Pick& pick,
                     const proxy::QueuePriority& priority, WaitLink& link) {
    proxy::Server* srv = pick.wait_for;
    std::atomic<std::uint32_t>& count = srv ? srv->queued : be.queued;
    std::atomic<std::uint64_t>& served = srv ? srv->queue_served : be.queue_served;
    if (link.linked()) {
        if (link.count == &count) return true;
        dequeue(link);
    }
    if (srv && srv->options.maxqueue > 0 &&
        count.load(std::memory_order_acquire) >= srv->options.maxqueue)
        return false;
    QueueLink& head = srv ? server_head(*srv) : queue_heads_[be.index];
    // The class first, then the arrival time in ms plus the offset (under 2^42 until 2109).
    const auto now_ms = static_cast<std::int64_t>(loop_.now() * 1000);
    link.key = static_cast<std::int64_t>(priority.klass) * (std::int64_t{1} << 42) + now_ms +
               priority.offset_ms;
    // From the tail: without priorities every stream goes last at once.
    QueueLink* after = head.prev;
    while (after != &head && static_cast<WaitLink*>(after)->key > link.key)
        after = after->prev;
    link.prev = after;
    link.next = after->next;
    after->next->prev = &link;
    after->next = &link;
    link.count = &count;
    link.served = &served;
    link.served_at = served.load(std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_acq_rel);
    return true;
}

void Worker::dequeue(WaitLink& link) {
    if (!link.linked()) return;
    link.prev->next = link.next;
    link.next->prev = link.prev;
    link.prev = link.next = nullptr;
    link.count->fetch_sub(1, std::memory_order_acq_rel);
    link.count = nullptr;
}

void Worker::dequeue_served(WaitLink& link, const proxy::Backend& be, QueuePositions& positions) {
    if (!link.linked()) return;
    const std::uint64_t now = link.served->fetch_add(1, std::memory_order_relaxed) + 1;
    const auto position = static_cast<std::uint32_t>(now - link.served_at);
    (link.served == &be.queue_served ? positions.backend : positions.server) += position;
    dequeue(link);
}

void Worker::server_released(proxy::Server& srv) {
    if (shutting_down_) return;  // nothing may start connecting while the process exits
    const bool bound_waiting = srv.queued.load(std::memory_order_acquire) > 0;
    if (!bound_waiting && srv.backend->queued.load(std::memory_order_acquire) == 0) return;
    const QueueLink& local = bound_waiting ? server_head(srv) : queue_heads_[srv.backend->index];
    if (local.next != &local) {
        drain_after_release(srv);
        return;
    }
    // The waiting streams live on other threads: let them try.
    Engine* engine = &engine_;
    proxy::Server* s = &srv;
    engine_.runtime().post_all(
        [engine, s](core::Loop& l) { engine->worker(l.index()).drain_after_release(*s); });
}

void Worker::drain_after_release(proxy::Server& srv) {
    if (shutting_down_) return;
    // The server's own queue first, as HAProxy serves a server's queue before its backend's:
    // those requests can go nowhere else.
    drain(server_head(srv));
    drain(queue_heads_[srv.backend->index]);
}

QueueLink& Worker::server_head(const proxy::Server& srv) {
    while (server_heads_.size() <= srv.uid) {
        QueueLink& head = server_heads_.emplace_back();
        head.prev = head.next = &head;
    }
    return server_heads_[srv.uid];
}

void Worker::drain(QueueLink& head) {
    while (head.next != &head) {
        QueueLink* link = head.next;
        const bool waiting = link->owner->woken_from_queue();
        if (waiting && head.next == link) break;  // still first in line: no slot for it
    }
}

void Worker::shutdown_server_sessions(const proxy::Server& srv) {
    std::vector<Stream*> doomed;
    for (QueueLink* l = streams_head_.next; l != &streams_head_; l = l->next)
        if (l->owner->server() == &srv) doomed.push_back(l->owner);
    for (Stream* s : doomed)
        s->abandon();  // on this loop, outside the stream's own callbacks
}

void Worker::forget_server(const proxy::Server& srv) {
    idle_pool_->forget(srv);
    for (QueueLink* l = streams_head_.next; l != &streams_head_; l = l->next)
        l->owner->forget_server(srv);
    if (srv.uid < server_heads_.size()) drain(server_heads_[srv.uid]);
}

Engine::Engine(proxy::Config& config, core::Runtime& runtime) : config_(config), runtime_(runtime) {
    for (const auto& loop : runtime.loops())
        workers_.push_back(std::make_unique<Worker>(*this, *loop));
}

Engine::~Engine() = default;

void Engine::setup_thread(core::Loop& loop) {
    worker(loop.index()).start_listeners();
}

void Engine::soft_stop() {
    if (stopping_.exchange(true)) return;
    threads_to_stop_.store(static_cast<int>(workers_.size()));
    runtime_.post_all([this](core::Loop& l) { worker(l.index()).stop_listeners(); });
}

void Engine::listener_stopped() {
    // The last thread to stop watching closes the sockets: the kernel then refuses new
    // clients, and no other thread's loop still polls a closed descriptor.
    if (threads_to_stop_.fetch_sub(1) == 1)
        for (auto& fe : config_.frontends) {
            // A frontend shut down by the runtime API closed its own.
            if (fe->listening.load(std::memory_order_acquire) ==
                proxy::Frontend::Listening::Stopped)
                continue;
            for (proxy::Listener& l : fe->listeners)
                net::close_listener(l.socket);
        }
}

}  // namespace sluice::stream

namespace sluice::stream {

void Engine::shutdown_frontend(proxy::Frontend& fe) {
    fe.listening.store(proxy::Frontend::Listening::Stopped, std::memory_order_release);
    auto left = std::make_shared<std::atomic<int>>(static_cast<int>(workers_.size()));
    proxy::Frontend* target = &fe;
    runtime_.post_all([this, left, target](core::Loop& l) {
        worker(l.index()).frontend_listening(*target);
        if (left->fetch_sub(1) != 1) return;
        // No thread watches them any more: closing cannot pull a descriptor from under a poll.
        for (proxy::Listener& lst : target->listeners)
            net::close_listener(lst.socket);
    });
}

}  // namespace sluice::stream
