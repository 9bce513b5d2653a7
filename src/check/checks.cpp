// The health-check scheduler and the TCP and HTTP check kinds (see checks.hpp).
#include "sluice/check/checks.hpp"

#include "sluice/check/external.hpp"
#include "sluice/check/tcpcheck.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>

#include "agent_run.hpp"
#include "check_log.hpp"
#include "check_run.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/net/proxy_protocol.hpp"
#include "sluice/net/socket.hpp"
#include "watch.hpp"

namespace sluice::check {

Health Health::start(std::uint32_t rise, std::uint32_t fall, ServerCheckConf::InitState init) {
    using enum ServerCheckConf::InitState;
    switch (init) {
        case FullyUp:
            return {rise, fall, rise + fall - 1, true};
        case Down:
            return {rise, fall, rise - 1, false};
        case FullyDown:
            return {rise, fall, 0, false};
        case Up:
            break;
    }
    return {rise, fall, rise, true};
}

Health::Change Health::record(bool ok) {
    if (!ok) {
        if (value == 0) return Change::None;
        --value;
        if (value < rise) value = 0;
        if (value == 0 && up) {
            up = false;
            return Change::Down;
        }
        return Change::None;
    }
    if (value >= full()) return Change::None;
    ++value;
    if (value >= rise) value = full();
    if (value >= rise && !up) {
        up = true;
        return Change::Up;
    }
    return Change::None;
}

util::Duration Health::next_interval(const ServerCheckConf& conf) const {
    if (value >= full()) return conf.inter;
    if (value == 0 && !up) return conf.downinter.value_or(conf.inter);
    return conf.fastinter.value_or(conf.inter);
}

std::string format_state_message(const StateMessage& m) {
    static constexpr std::string_view kWhat[] = {"DOWN", "UP", "stopping"};
    const std::string_view who = m.backup_server ? "Backup Server" : "Server";
    std::string out = m.event.empty()
                          ? fmt::format("{} {}/{} is {}", who, m.backend, m.server,
                                        kWhat[static_cast<int>(m.what)])
                          : fmt::format("{} {}/{} {}", who, m.backend, m.server, m.event);
    if (!m.counts) return out + ".";
    if (!m.via_server.empty()) out += fmt::format(" via {}/{}", m.via_backend, m.via_server);
    if (!m.cause.empty()) out += fmt::format(", {}", m.cause);
    if (m.outcome) append_outcome(out, *m.outcome, m.duration_ms);
    // HAProxy says when only backup servers are left to take the traffic.
    const std::string_view on_backup = m.backup > 0 && m.active == 0 ? " Running on backup." : "";
    if (m.what == StateMessage::What::Down)
        out += fmt::format(
            ". {} active and {} backup servers left.{} {} sessions active, 0 requeued, 0 "
            "remaining in queue.",
            m.active, m.backup, on_backup, m.sessions);
    else
        out += fmt::format(
            ". {} active and {} backup servers online.{} 0 sessions requeued, 0 total in queue.",
            m.active, m.backup, on_backup);
    return out;
}

namespace {

std::mutex g_print_mutex;

void print_line(std::string_view level, const std::string& text) {
    // "[WARNING]  (pid) : " / "[ALERT]    (pid) : ": HAProxy pads the tag to one width.
    fmt::print(stderr, "{:<11}({}) : {}\n", level, getpid(), text);
    std::fflush(stderr);
}

}  // namespace

void append_outcome(std::string& out, const Outcome& o, long ms) {
    out += fmt::format(", reason: {}", describe(o.status));
    if (has_code(o.status)) out += fmt::format(", code: {}", o.code);
    if (!o.info.empty()) out += fmt::format(", info: \"{}\"", o.info);
    if (ms >= 0) out += fmt::format(", check duration: {}ms", ms);
}

void print_check_warning(const std::string& text) {
    std::lock_guard lock(g_print_mutex);
    print_line("[WARNING]", text);
}

namespace {

double seconds(util::Duration d) {
    return std::chrono::duration<double>(d).count();
}

void close_fd(Check& c) {
    if (c.fd < 0) return;
    ev_io_stop(c.thread->loop->raw(), &c.io);
    if (!c.linger) {
        // A reset instead of a FIN: thousands of checks a second leave no TIME_WAIT behind.
        const linger l{1, 0};
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(c.fd);
    c.fd = -1;
}

void count_usable(const proxy::Backend& be, std::uint32_t& active, std::uint32_t& backup) {
    active = backup = 0;
    for (const auto& s : be.servers)
        if (s->usable()) ++(s->options.backup ? backup : active);
}

// `sessions`: the server's connections to print, when not those of now. `was_stopping`: a
// DOWN from NOLB, a notice for e-mail alerts rather than an alert.
void report(Check& c, StateMessage::What what, const Outcome& o, long ms, bool was_down,
            std::optional<std::uint32_t> sessions = std::nullopt, bool was_stopping = false) {
    proxy::Server& s = *c.server;
    s.backend->server_changed(s);
    if (s.admin.load(std::memory_order_acquire) != proxy::AdminState::Maint)
        c.thread->owner->watch().mail(
            s, state_level(what == StateMessage::What::Down && !was_stopping),
            announce(s, {.backend = s.backend->name,
                         .server = s.name,
                         .what = what,
                         // With log-health-checks the result was told just before.
                         .outcome = c.log.on ? nullptr : &o,
                         .duration_ms = ms,
                         .sessions = sessions.value_or(s.cur_conns.load(std::memory_order_relaxed)),
                         .quiet_down = was_stopping}),
            *c.thread->loop);
    c.thread->owner->watch().changed(s, what, was_down, *c.thread->loop);
}

}  // namespace

std::string announce(const proxy::Server& s, StateMessage m) {
    std::lock_guard lock(g_print_mutex);
    count_usable(*s.backend, m.active, m.backup);
    if (const bool down = m.active == 0 && m.backup == 0; down != s.backend->down.load()) {
        proxy::Backend& be = *s.backend;
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        const std::int64_t since = be.last_change.exchange(now);
        be.down.store(down);
        if (down)
            be.down_transitions.fetch_add(1);
        else if (since > 0)
            be.down_time.fetch_add(now - since);
    }
    m.backup_server = s.options.backup;
    std::string text = format_state_message(m);
    print_line("[WARNING]", text);
    // The same messages go to the backend's log targets, at HAProxy's levels: a DOWN is an
    // alert unless the server was stopping or draining.
    const log::Logger* logger = s.backend->logger.get();
    const bool quiet =
        m.quiet_down || s.admin.load(std::memory_order_acquire) == proxy::AdminState::Drain;
    if (logger)
        logger->emit(
            m.what == StateMessage::What::Down && !quiet ? log::Level::Alert : log::Level::Notice,
            text);
    if ((m.what != StateMessage::What::Up || !m.event.empty()) && m.counts && m.alert &&
        m.active == 0 && m.backup == 0) {
        const std::string_view kind = s.backend->listen ? "proxy" : "backend";
        print_line("[ALERT]",
                   fmt::format("{} '{}' has no server available!", kind, s.backend->name));
        if (logger)
            logger->emit(log::Level::Emerg,
                         fmt::format("{} {} has no server available!", kind, s.backend->name));
    }
    // A state change of a drained server says it stays drained (as HAProxy).
    if (m.event.empty() && s.admin.load(std::memory_order_acquire) == proxy::AdminState::Drain) {
        const std::string drain =
            fmt::format("{} {}/{} remains in forced drain mode.",
                        s.options.backup ? "Backup Server" : "Server", s.backend->name, s.name);
        print_line("[WARNING]", drain);
        if (logger) logger->emit(log::Level::Notice, drain);
    }
    return text;
}

namespace {

void schedule(Check& c, util::Duration delay);
void after_connect(Check& c);
bool send_some(Check& c);
void after_send(Check& c);
int fill(Check& c, int& err);

// Where a `tcp-check connect` rule connects (the server's check address, with the rule's
// address and port), taking its linger option.
template <class Fn>
void with_samples(Check& c, Fn fn);

net::Address rule_target(Check& c, const TcpRule& r) {
    net::Address target = c.target;
    if (r.addr) target = *r.addr;
    if (r.port) target.set_port(r.port);
    if (r.port_expr)
        with_samples(c, [&](sample::Context& ctx) {
            sample::Sample s;
            if (r.port_expr->eval(ctx, s) && sample::cast(s, sample::Type::Sint, ctx.arena()) &&
                s.sint > 0 && s.sint <= 65535)
                target.set_port(static_cast<std::uint16_t>(s.sint));
        });
    c.linger = r.linger;
    return target;
}

void run_rules(Check& c);

// The X-Haproxy-Server-State value (`http-check send-state`) as this check sees its server.
std::string server_state(const Check& c) {
    const proxy::Server& s = *c.server;
    const proxy::Backend& be = *s.backend;
    ServerState st;
    st.up = c.health.up;
    st.stopping = s.stopping.load(std::memory_order_relaxed);
    st.health = c.health.value;
    st.rise = c.health.rise;
    st.fall = c.health.fall;
    char addr[INET6_ADDRSTRLEN] = "";
    const auto& ss = s.address.address.storage;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, addr, sizeof addr);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, addr,
                  sizeof addr);
    st.address = addr;
    st.port = s.address.address.port();
    st.backend = be.name;
    st.server = s.name;
    st.node = c.plan->node;
    // Weights on the configured scale; the total is the active servers' in use (the backups'
    // when no active one is), as HAProxy's.
    auto user_weight = [](const proxy::Server& x) { return (x.effective_weight() + 15) / 16; };
    st.weight = user_weight(s);
    std::uint32_t active = 0, backup = 0;
    for (const auto& x : be.servers)
        if (x->usable()) (x->options.backup ? backup : active) += user_weight(*x);
    st.total_weight = active ? active : backup;
    st.scur = s.cur_conns.load(std::memory_order_relaxed);
    const std::uint32_t bcur = be.cur_conns.load(std::memory_order_relaxed);
    const std::uint32_t queued = be.queued.load(std::memory_order_relaxed);
    st.backend_cur = bcur > queued ? bcur - queued : 0;
    const std::uint8_t warm = s.warmup.load(std::memory_order_relaxed);
    if (st.up && warm < 100) st.throttle = warm;
    return format_server_state(st);
}
std::string connect_info(const Check& c, const std::string& error);

void want(Check& c, int events) {
    ev_io_stop(c.thread->loop->raw(), &c.io);
    ev_io_set(&c.io, c.fd, events);
    ev_io_start(c.thread->loop->raw(), &c.io);
}

}  // namespace

void arm_timeout(Check& c, util::Duration d) {
    ev_timer_stop(c.thread->loop->raw(), &c.timer);
    ev_timer_set(&c.timer, seconds(d), 0.);
    ev_timer_start(c.thread->loop->raw(), &c.timer);
}

namespace {

// Evaluates `fn(ctx)` with the check's variables at hand.
template <class Fn>
void with_samples(Check& c, Fn fn) {
    sample::Vars vars;
    vars.check = &c.vars;
    sample::Context ctx(c.thread->arena);
    ctx.attach(&vars);
    fn(ctx);
    c.thread->arena.reset();
}

// HAProxy gives the command `inter`, or min(inter, timeout connect) with `timeout check`.
void start_external(Check& c) {
    util::Duration limit = c.conf.inter;
    const util::Duration tc = c.plan->backend->timeout_connect;
    if (c.plan->timeout_check && tc.count() > 0 && tc < limit) limit = tc;
    if (auto o = c.ext->start(c.server->cur_conns.load(std::memory_order_relaxed))) {
        finish(c, std::move(*o));
        return;
    }
    c.phase = Check::Phase::External;
    ev_now_update(c.thread->loop->raw());  // the spawn may have taken a while on a busy host
    arm_timeout(c, limit);
}

void start(Check& c) {
    c.started = ev_now(c.thread->loop->raw());
    if (c.ext) {
        start_external(c);
        return;
    }
    net::Address target = c.target;
    if (c.plan->uses_rules()) {
        c.step = 0;
        c.eof = c.expected = false;
        c.vars.clear();
        const auto& rules = c.plan->rules.rules;
        if (const std::size_t i = opening_connect(rules); i != std::string::npos) {
            // Variable actions before the opening connect run first.
            for (std::size_t k = 0; k < i; ++k)
                if (rules[k].op == TcpRule::Op::Action)
                    with_samples(c,
                                 [&](sample::Context& ctx) { run_action(*rules[k].action, ctx); });
            target = rule_target(c, rules[i]);
        }
    }
    auto fd = net::start_connect(target);
    if (!fd) {
        const bool socket_error = fd.error().starts_with("socket:");
        finish(c, {socket_error ? Status::SocketError : Status::L4Conn, -1,
                   socket_error ? std::string() : connect_info(c, fd.error())});
        return;
    }
    c.fd = *fd;
    c.phase = Check::Phase::Connecting;
    // A loopback or nearby server often completes the handshake (or refuses it) within
    // connect() itself: settle it at once, without registering the socket with epoll. Most
    // of a check's cost is system calls, and thousands run every second.
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    if (::getpeername(c.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0) {
        after_connect(c);
        if (c.phase == Check::Phase::Sending) {
            if (send_some(c)) {
                after_send(c);
            } else if (c.phase == Check::Phase::Sending) {
                want(c, EV_WRITE);
            }
        }
    } else if (const int err = net::connect_result(c.fd); err != 0) {
        finish(c, {Status::L4Conn, -1, connect_info(c, std::strerror(err))});
        return;
    } else {
        want(c, EV_WRITE);
    }
    if (c.phase == Check::Phase::Idle) return;
    if (c.plan->kind == Kind::Http) net::tune_stream_socket(c.fd, false);
    // HAProxy: with `timeout check`, connecting may take min(timeout connect, inter), reading
    // `timeout check`; without, `inter` bounds the whole check.
    if (c.phase != Check::Phase::Connecting) {
        if (!c.plan->timeout_check) arm_timeout(c, c.conf.inter);  // else after_connect did
        return;
    }
    util::Duration limit = c.conf.inter;
    if (c.plan->timeout_check) {
        const util::Duration tc = c.plan->backend->timeout_connect;
        if (tc.count() > 0 && tc < limit) limit = tc;
    }
    arm_timeout(c, limit);
}

void after_connect(Check& c) {
    if (c.plan->uses_rules() && c.step > 0) {  // a connect later in the sequence
        ++c.step;
        run_rules(c);
        return;
    }
    if (c.plan->kind == Kind::Tcp && !c.send_proxy) {
        finish(c, {Status::L4Ok, -1, {}});
        return;
    }
    c.out.clear();
    c.sent = 0;
    if (c.send_proxy) {
        sockaddr_storage local{};
        socklen_t len = sizeof local;
        net::Address src;
        if (getsockname(c.fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
            src.storage = local;
            src.length = len;
        }
        std::byte buf[256];
        const std::size_t n = net::write_proxy_header(1, src, c.target, buf);
        c.out.assign(reinterpret_cast<const char*>(buf), n);
    }
    if (c.plan->kind == Kind::Http && !c.plan->http_sequence)
        c.out +=
            c.plan->send_state ? c.plan->request_conf.serialize(server_state(c)) : c.plan->request;
    c.phase = Check::Phase::Sending;
    if (c.plan->timeout_check) arm_timeout(c, *c.plan->timeout_check);
    if (c.plan->uses_rules()) {
        const std::size_t i = opening_connect(c.plan->rules.rules);
        if (i != std::string::npos) c.step = i + 1;
        c.must_read = true;
        run_rules(c);
    }
}

// Sends what is left; true when everything went.
bool send_some(Check& c) {
    while (c.sent < c.out.size()) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n > 0) {
            c.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
        finish(c, {Status::L4Conn, -1, n < 0 ? std::strerror(errno) : std::string()});
        return false;
    }
    return true;
}

// A tcp-check sequence's pending bytes: true once all went (the buffer is then emptied);
// false when the socket is full (the sequence waits for it) or the check ended.
bool flush_rules_output(Check& c) {
    c.phase = Check::Phase::Sending;
    if (!send_some(c)) {
        if (c.phase == Check::Phase::Sending) {
            c.phase = Check::Phase::Rules;
            want(c, EV_WRITE);
        }
        return false;
    }
    c.out.clear();
    c.sent = 0;
    return true;
}

void after_send(Check& c) {
    c.out.clear();
    c.out.shrink_to_fit();
    if (c.plan->kind == Kind::Tcp) {  // a PROXY header alone was to go
        finish(c, {Status::L4Ok, -1, {}});
        return;
    }
    c.phase = Check::Phase::Reading;
    c.eof = false;
    c.in.clear();
    c.in.reserve(c.thread->bufsize);
    c.scanned = 0;
    want(c, EV_READ);
}

// Evaluates the response if it is complete enough; `eof`: the server closed.
void evaluate(Check& c, bool eof) {
    http::ResponseHead head;
    const auto bytes = std::as_bytes(std::span(c.in.data(), c.in.size()));
    http::ParseOptions opts;
    opts.accept_invalid = true;
    const http::HeadResult r = http::parse_response_head(bytes, c.scanned, head, opts);
    const bool full = c.in.size() >= c.thread->bufsize;
    if (std::holds_alternative<http::Incomplete>(r)) {
        c.scanned = c.in.size();
        if (eof || full) finish(c, {Status::L7Response, -1, {}});
        return;
    }
    if (std::holds_alternative<http::Invalid>(r)) {
        finish(c, {Status::L7Response, -1, {}});
        return;
    }
    const std::size_t head_len = std::get<http::Done>(r).consumed;
    std::string_view body(c.in.data() + head_len, c.in.size() - head_len);
    if (c.plan->needs_body && !eof && !full) {
        // Wait for the whole body: Content-Length when given, else the server's close.
        const http::Header* cl = head.headers.find("content-length");
        if (!cl) return;
        auto len = util::parse_uint(cl->value);
        if (!len || body.size() < *len) return;
        body = body.substr(0, *len);
    }
    HttpAnswer a{
        .status = head.status, .reason = head.reason, .headers = &head.headers, .body = body};
    std::span<const Expect> rules = c.plan->expects;
    std::vector<Expect> rendered;  // string-lf, name-lf, value-lf
    if (c.plan->dynamic_expects) {
        std::optional<Outcome> failed;
        with_samples(c, [&](sample::Context& ctx) {
            failed = render_expects(c.plan->expects, rendered, ctx);
        });
        if (failed) {
            finish(c, std::move(*failed));
            return;
        }
        rules = rendered;
    }
    std::size_t decided = std::string::npos;
    Outcome o = evaluate_http(rules, a, c.plan->disable_on_404, &decided);
    if (decided < rules.size() && rules[decided].has_messages())
        with_samples(c, [&](sample::Context& ctx) { apply_messages(rules[decided], o, ctx); });
    finish(c, std::move(o));
}

void read_some(Check& c) {
    int err = 0;
    fill(c, err);
    if (err != 0 && c.in.empty()) {
        finish(c, {Status::L7Response, -1, std::strerror(err)});
        return;
    }
    // The server closed, or reset after its answer: judge what came.
    evaluate(c, c.eof || err != 0);
}

// "Connection refused at step 2 of tcp-check (connect port 80)": a tcp-check sequence names
// the step; HAProxy's own rule sets (redis-check, ...) say the error alone.
std::string connect_info(const Check& c, const std::string& error) {
    if (!c.plan->uses_rules() || c.plan->rules.builtin) return error;
    const auto& rules = c.plan->rules.rules;
    const std::size_t opening = opening_connect(rules);
    if (opening == std::string::npos && c.step == 0) return error + step_text(TcpRule{}, 0, true);
    const std::size_t i = c.step == 0 ? opening : std::min(c.step, rules.size() - 1);
    return error + step_text(rules[i], i + 1, false);
}

// Reads what the socket has: 1 when something came or the server closed, 0 when nothing is
// there yet, -1 on an error (errno kept in `err`).
int fill(Check& c, int& err) {
    bool got = false;
    while (c.in.size() < c.thread->bufsize) {
        const std::size_t have = c.in.size();
        c.in.resize(c.thread->bufsize);
        const ssize_t n = ::recv(c.fd, c.in.data() + have, c.thread->bufsize - have, 0);
        if (n > 0) {
            c.in.resize(have + static_cast<std::size_t>(n));
            got = true;
            continue;
        }
        c.in.resize(have);
        if (n == 0) {
            c.eof = true;
            return 1;
        }
        if (errno == EAGAIN || errno == EINTR) return got ? 1 : 0;
        err = errno;
        return got ? 1 : -1;
    }
    return 1;
}

// An expect rule's on-success/on-error/status-code, a tcp-check one or the deciding
// http-check expect of an exchange.
void apply_rule_messages(Check& c, const TcpRule& r, Verdict& v) {
    const auto& http = r.expect.http;
    if (r.expect.kind == TcpExpect::Kind::Http) {
        if (v.http_rule < http.size() && http[v.http_rule].has_messages())
            with_samples(c, [&](sample::Context& ctx) {
                apply_messages(http[v.http_rule], v.outcome, ctx);
            });
    } else if (has_messages(r)) {
        with_samples(c, [&](sample::Context& ctx) { apply_messages(r, v, ctx); });
    }
}

// Runs the tcp-check sequence from c.step until it waits for the socket or ends.
void run_rules(Check& c) {
    const TcpRules& set = c.plan->rules;
    const auto& rules = set.rules;
    while (c.step < rules.size()) {
        const TcpRule& r = rules[c.step];
        switch (r.op) {
            case TcpRule::Op::Connect: {
                if (!c.out.empty() && c.sent < c.out.size()) break;  // flush first (below)
                close_fd(c);
                c.in.clear();
                c.eof = false;
                auto fd = net::start_connect(rule_target(c, r));
                if (!fd) {
                    finish(c, {Status::L4Conn, -1, connect_info(c, fd.error())});
                    return;
                }
                c.fd = *fd;
                c.phase = Check::Phase::Connecting;
                want(c, EV_WRITE);
                return;
            }
            case TcpRule::Op::Send:
                // A new request: the answer to the previous one is forgotten (as HAProxy).
                if (c.sent >= c.out.size()) {
                    c.out.clear();
                    c.sent = 0;
                }
                if (r.http || r.format) {
                    bool built = true;
                    with_samples(c, [&](sample::Context& ctx) {
                        if (r.http) {
                            c.out += r.http->render(ctx, r.http_state ? server_state(c) : "");
                            return;
                        }
                        auto bytes = render_send(r, ctx);
                        if (bytes) c.out += *bytes;
                        built = static_cast<bool>(bytes);
                    });
                    if (!built) {
                        finish(c, {Status::L7Response, -1,
                                   fmt::format("tcp-check send : failed to build log-format "
                                               "string at step {}",
                                               c.step + 1)});
                        return;
                    }
                } else if (r.state_at == std::string::npos) {
                    c.out += r.data;
                } else {
                    c.out.append(r.data, 0, r.state_at);
                    c.out += fmt::format("x-haproxy-server-state: {}\r\n", server_state(c));
                    c.out.append(r.data, r.state_at);
                }
                c.in.clear();
                c.must_read = true;
                ++c.step;
                continue;
            case TcpRule::Op::Comment:
                ++c.step;
                continue;
            case TcpRule::Op::Action:
                with_samples(c, [&](sample::Context& ctx) { run_action(*r.action, ctx); });
                ++c.step;
                continue;
            case TcpRule::Op::Expect:
                break;
        }
        if (c.sent < c.out.size()) {
            if (!flush_rules_output(c)) return;
            continue;
        }
        if (c.must_read && !c.eof) {
            int err = 0;
            const int got = fill(c, err);
            if (got == 0) {
                c.phase = Check::Phase::Rules;
                want(c, EV_READ);
                return;
            }
            if (got < 0) {
                std::string info = std::strerror(err);
                if (!set.builtin) info += step_text(r, c.step + 1, false);
                finish(c, {Status::SocketError, -1, std::move(info)});
                return;
            }
            c.must_read = false;
        }
        if (c.in.empty() && c.eof) {
            std::string info = fmt::format("TCPCHK got an empty response at step {}", c.step + 1);
            if (!r.comment.empty()) info += fmt::format(" comment: '{}'", r.comment);
            finish(c, {r.expect.error_status, 0, set.builtin ? std::string() : std::move(info)});
            return;
        }
        const bool last = c.eof || c.in.size() >= c.thread->bufsize;
        const TcpRule* judged = &r;
        TcpRule rendered;
        if (r.expect.pattern_format || r.expect.http_dynamic) {  // string-lf, binary-lf...
            std::optional<Outcome> failed;
            with_samples(c, [&](sample::Context& ctx) {
                if (r.expect.pattern_format) {
                    failed = render_pattern(r, ctx, rendered);
                    return;
                }
                rendered = r;
                failed = render_expects(r.expect.http, rendered.expect.http, ctx);
            });
            if (failed) {
                finish(c, std::move(*failed));
                return;
            }
            judged = &rendered;
        }
        Verdict v = evaluate_tcp(*judged, c.step + 1, c.in, last);
        if (v.what == Verdict::What::Wait) {
            c.must_read = true;
            c.phase = Check::Phase::Rules;
            want(c, EV_READ);
            return;
        }
        if (v.what == Verdict::What::Fail) {
            // HAProxy's own pattern rules say nothing unless they have a text; LDAP's reader has.
            if (set.builtin && r.expect.on_error == InfoFrom::Default &&
                r.expect.kind <= TcpExpect::Kind::RBinary)
                v.outcome.info.clear();
            apply_rule_messages(c, r, v);
            finish(c, std::move(v.outcome));
            return;
        }
        if (!set.builtin && r.expect.on_success == InfoFrom::Default)
            v.outcome.info = "(tcp-check)";
        apply_rule_messages(c, r, v);
        c.last_pass = std::move(v.outcome);
        c.expected = true;
        ++c.step;
    }
    // The end of the sequence: flush what is left to send, then judge.
    if (c.sent < c.out.size() && !flush_rules_output(c)) return;
    if (c.expected) {
        finish(c, std::move(c.last_pass));
        return;
    }
    finish(c, {Status::L4Ok, -1, {}});
}

}  // namespace

void on_io(struct ev_loop*, ev_io* w, int) {
    Check& c = *static_cast<Check*>(w->data);
    switch (c.phase) {
        case Check::Phase::Connecting: {
            const int err = net::connect_result(c.fd);
            if (err != 0) {
                finish(c, {Status::L4Conn, -1, connect_info(c, std::strerror(err))});
                return;
            }
            after_connect(c);
            if (c.phase != Check::Phase::Sending) return;
            [[fallthrough]];
        }
        case Check::Phase::Sending:
            if (!send_some(c)) {
                if (c.phase == Check::Phase::Sending) want(c, EV_WRITE);
                return;
            }
            after_send(c);
            return;
        case Check::Phase::Reading:
            read_some(c);
            return;
        case Check::Phase::Rules:
            run_rules(c);
            return;
        case Check::Phase::Idle:
        case Check::Phase::External:
            return;
    }
}

void on_timer(struct ev_loop*, ev_timer* w, int) {
    Check& c = *static_cast<Check*>(w->data);
    switch (c.phase) {
        case Check::Phase::Idle:
            if (c.enabled) start(c);
            return;
        case Check::Phase::External:
            c.ext->kill(true);
            finish(c, {Status::ProcTimeout, 0, {}});
            return;
        case Check::Phase::Connecting:
            finish(c, {Status::L4Timeout, -1, c.plan->uses_rules() ? connect_info(c, "") : ""});
            return;
        case Check::Phase::Rules: {
            const auto& rules = c.plan->rules.rules;
            const std::size_t i = std::min(c.step, rules.size() - 1);
            const TcpRule& r = rules[i];
            const Status st =
                r.op == TcpRule::Op::Expect ? r.expect.timeout_status : Status::L7Timeout;
            finish(c, {st, -1, c.plan->rules.builtin ? "" : step_text(r, i + 1, false)});
            return;
        }
        case Check::Phase::Sending:
        case Check::Phase::Reading:
            finish(c, {c.plan->expects.empty() ? Status::L7Timeout
                                               : c.plan->expects.back().timeout_status,
                       -1,
                       {}});
            return;
    }
}

namespace {

void schedule(Check& c, util::Duration delay) {
    const std::uint32_t spread = c.thread->spread;
    double d = seconds(delay);
    if (spread > 0) {
        // spread-checks: up to +/- spread% of the interval, at random.
        std::uniform_int_distribution<int> dist(-static_cast<int>(spread),
                                                static_cast<int>(spread));
        d += d * dist(c.thread->rng) / 100.0;
    }
    arm_timeout(c, std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(d)));
}

void mark_down(Check& c, const Outcome& o, long ms,
               std::optional<std::uint32_t> sessions = std::nullopt) {
    proxy::Server& s = *c.server;
    const bool was_stopping = s.stopping.exchange(false, std::memory_order_acq_rel);
    s.up.store(false, std::memory_order_release);
    s.check_downs.fetch_add(1, std::memory_order_relaxed);
    s.last_change.store(static_cast<std::int64_t>(std::time(nullptr)), std::memory_order_relaxed);
    report(c, StateMessage::What::Down, o, ms, false, sessions, was_stopping);
}

}  // namespace

void finish(Check& c, Outcome o) {
    const ev_tstamp now = ev_now(c.thread->loop->raw());
    const long ms = static_cast<long>((now - c.started) * 1000.0);
    close_fd(c);
    c.in.clear();
    c.in.shrink_to_fit();
    c.out.clear();
    c.out.shrink_to_fit();
    c.phase = Check::Phase::Idle;
    proxy::Server& s = *c.server;
    s.check_status.store(static_cast<std::uint8_t>(o.status), std::memory_order_relaxed);
    s.check_code.store(static_cast<std::int16_t>(o.code), std::memory_order_relaxed);
    s.check_duration_ms.store(static_cast<std::uint32_t>(ms), std::memory_order_relaxed);

    const bool ok = passed(o.status);
    const bool conditional = o.status == Status::L7OkConditional;
    // As HAProxy's chkfail: failures while the server still had health to lose.
    if (!ok && c.health.value > 0) s.check_failures.fetch_add(1, std::memory_order_relaxed);
    if (ok && s.observe_sink) s.consecutive_errors.store(0, std::memory_order_relaxed);
    // A DOWN server answering 404 under disable-on-404 stays DOWN (as HAProxy).
    const std::uint32_t before = c.health.value;
    const Health::Change change =
        conditional && !c.health.up ? Health::Change::None : c.health.record(ok);
    s.check_health.store(c.health.value, std::memory_order_relaxed);
    if (c.log.on) log_result(c, o, ms, before);
    s.set_check_info(o.info);
    const std::int64_t wall = static_cast<std::int64_t>(std::time(nullptr));
    switch (change) {
        case Health::Change::Down:
            if (!s.up.load(std::memory_order_acquire)) break;  // its agent took it down
            mark_down(c, o, ms);
            break;
        case Health::Change::Up: {
            if (c.agent && !agent_allows_up(*c.agent)) break;  // its agent keeps it down
            const std::int64_t since = s.last_change.exchange(wall, std::memory_order_relaxed);
            if (since > 0) s.down_time.fetch_add(wall - since, std::memory_order_relaxed);
            s.stopping.store(conditional, std::memory_order_release);
            s.up.store(true, std::memory_order_release);
            report(c, conditional ? StateMessage::What::Stopping : StateMessage::What::Up, o, ms,
                   true);
            break;
        }
        case Health::Change::None:
            if (c.health.up && ok && conditional != s.stopping.load(std::memory_order_acquire)) {
                s.stopping.store(conditional, std::memory_order_release);
                s.last_change.store(wall, std::memory_order_relaxed);
                report(c, conditional ? StateMessage::What::Stopping : StateMessage::What::Up, o,
                       ms, false);
            }
            break;
    }
    if (!c.thread->stopped && c.enabled) schedule(c, c.health.next_interval(c.conf));
}

void stop_thread(ThreadChecks& t) {
    t.stopped = true;
    for (auto& c : t.checks) {
        close_fd(*c);
        if (c->ext) c->ext->kill(false);
        ev_timer_stop(t.loop->raw(), &c->timer);
        c->phase = Check::Phase::Idle;
    }
    for (auto& a : t.agents)
        stop_agent(*a);
}

// `init-state down|fully-down`: the server, and those tracking it, take no traffic until
// checks bring it UP. Before the loops run: nothing else reads the state yet.
void Checks::start_down(proxy::Server& s) {
    s.up.store(false, std::memory_order_release);
    s.backend->server_changed(s);
    for (proxy::Server* t : watch_->trackers(s))
        start_down(*t);
}

void health_analyze(Check& c, OnError mode, std::string info, std::uint32_t sessions) {
    proxy::Server& s = *c.server;
    if (mode != OnError::FastInter) {
        if (c.health.value > 0) s.check_failures.fetch_add(1, std::memory_order_relaxed);
        s.check_status.store(static_cast<std::uint8_t>(Status::Hana), std::memory_order_relaxed);
        s.check_code.store(-1, std::memory_order_relaxed);
        // As HAProxy: the message of a change seen by observation gives no check duration.
        const std::uint32_t before = c.health.value;
        const Health::Change change = analyze(c.health, mode);
        s.check_health.store(c.health.value, std::memory_order_relaxed);
        if (c.log.on) log_result(c, Outcome{Status::Hana, -1, info}, -1, before);
        if (change == Health::Change::Down)
            mark_down(c, Outcome{Status::Hana, -1, std::move(info)}, -1, sessions);
    }
    // Every mode brings the next check forward to fastinter (a check under way goes on).
    if (!c.conf.fastinter || c.phase != Check::Phase::Idle || c.thread->stopped || !c.enabled)
        return;
    struct ev_loop* loop = c.thread->loop->raw();
    if (!ev_is_active(&c.timer) || ev_timer_remaining(loop, &c.timer) > seconds(*c.conf.fastinter))
        arm_timeout(c, *c.conf.fastinter);
}

core::Loop& check_loop(const Check& c) {
    return *c.thread->loop;
}

namespace {

// Where a check connects: http-check connect's address and port, else the server's check
// options (or the runtime API's check-port), else the server's address in use.
}  // namespace

net::Address check_target(const Check& c) {
    const proxy::Server& s = *c.server;
    net::Address target = s.destination.now().addr.address;
    if (c.conf.addr) target = *c.conf.addr;
    if (const auto& runtime = s.check_address.now(); runtime.generation) {
        const std::uint16_t kept = target.port();
        target = runtime.addr.address;
        target.set_port(kept);
    }
    const std::uint16_t port = s.check_port.load(std::memory_order_relaxed);
    if (port) target.set_port(port);
    if (c.plan->connect) {
        if (c.plan->connect->addr) target = *c.plan->connect->addr;
        if (c.plan->connect->port) target.set_port(c.plan->connect->port);
    }
    return target;
}

core::Loop& thread_loop(const ThreadChecks& t) {
    return *t.loop;
}
Health& check_health(Check& c) {
    return c.health;
}
Agent* check_agent(Check& c) {
    return c.agent;
}
void check_retarget(Check& c) {
    c.target = check_target(c);
}
void check_enable(Check& c, bool on) {
    if (c.enabled == on) return;
    c.enabled = on;
    c.server->check_enabled.store(on, std::memory_order_relaxed);
    if (on) {
        if (!c.thread->stopped) schedule(c, c.health.next_interval(c.conf));
        return;
    }
    // A check under way is dropped, as at stop.
    close_fd(c);
    if (c.ext) c.ext->kill(false);
    ev_timer_stop(c.thread->loop->raw(), &c.timer);
    c.phase = Check::Phase::Idle;
    c.in.clear();
    c.in.shrink_to_fit();
    c.out.clear();
    c.out.shrink_to_fit();
}

}  // namespace sluice::check
