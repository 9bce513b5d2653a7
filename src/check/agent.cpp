// Agent checks: the reply's reader and the runner (see sluice/check/agent.hpp, agent_run.hpp).
#include "sluice/check/agent.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <random>

#include "agent_run.hpp"
#include "check_log.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/log/proxy_format.hpp"
#include "sluice/net/socket.hpp"
#include "watch.hpp"

namespace sluice::check {

namespace {

using http::iequals;

bool separator(char c) {
    return c == ' ' || c == '\t' || c == ',';
}

// strtol's reading of `text` (sign, digits, clamped to long): the value and how many
// characters it took (0: no number).
std::pair<long, std::size_t> leading_long(std::string_view text) {
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    const std::size_t digits = i;
    long v = 0;
    bool overflow = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        const int d = text[i] - '0';
        if (v > (LONG_MAX - d) / 10) overflow = true;
        if (!overflow) v = v * 10 + d;
    }
    if (i == digits) return {0, 0};
    if (overflow) return {negative ? LONG_MIN : LONG_MAX, i};
    return {negative ? -v : v, i};
}

}  // namespace

AgentReply parse_agent_reply(std::string_view reply) {
    AgentReply r;
    // HAProxy reads the reply as a C string: a NUL before the line's end leaves no line.
    const std::size_t eol = reply.find_first_of(std::string_view("\r\n\0", 3));
    if (eol == std::string_view::npos || reply[eol] == '\0') return r;
    r.complete = true;
    const std::string_view line = reply.substr(0, eol);
    std::size_t i = 0;
    while (i < line.size()) {
        if (separator(line[i])) {
            ++i;
            continue;
        }
        if (line[i] == '#') {
            ++i;
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
                ++i;
            r.comment = line.substr(i);
            break;
        }
        std::size_t end = i + 1;
        while (end < line.size() && !separator(line[end]))
            ++end;
        const std::string_view w = line.substr(i, end - i);
        i = end;
        using H = AgentReply::Health;
        using A = AgentReply::Admin;
        if (iequals(w, "up")) {
            r.health = H::Up;
            r.health_word = w;
        } else if (iequals(w, "down")) {
            r.health = H::Down;
            r.health_word = w;
        } else if (iequals(w, "stopped")) {
            r.health = H::Stopped;
            r.health_word = w;
        } else if (iequals(w, "fail")) {
            r.health = H::Fail;
            r.health_word = w;
        } else if (iequals(w, "ready")) {
            r.admin = A::Ready;
        } else if (iequals(w, "drain")) {
            r.admin = A::Drain;
        } else if (iequals(w, "maint")) {
            r.admin = A::Maint;
        } else if (w[0] >= '0' && w[0] <= '9' && w.find('%') != std::string_view::npos) {
            r.weight = w;
        } else if (w.size() >= 8 && iequals(w.substr(0, 8), "maxconn:")) {
            r.maxconn = w.substr(8);
        } else if (r.error.empty()) {
            r.error = w;
        }
    }
    return r;
}

AgentChange agent_weight(std::string_view word, std::uint32_t configured) {
    const auto [v, used] = leading_long(word);
    if (used == 0) return {{}, "Empty weight string empty or preceded by garbage"};
    const std::string_view rest = word.substr(used);
    long w = v;
    if (rest == "%") {
        if (w < 0) return {{}, "Relative weight must be positive."};
        w = std::min<long>(w, 25600);
        w = static_cast<long>(configured) * w / 100;
        w = std::min<long>(w, 256);
    } else if (w < 0 || w > 256) {
        return {{}, "Absolute weight can only be between 0 and 256 inclusive."};
    } else if (!rest.empty()) {
        return {{}, "Trailing garbage in weight string"};
    }
    return {static_cast<std::uint32_t>(w), {}};
}

AgentChange agent_maxconn(std::string_view word) {
    const auto [v, used] = leading_long(word);
    if (used == 0) return {{}, "maxconn string empty or preceded by garbage"};
    if (used != word.size()) return {{}, "Trailing garbage in maxconn string"};
    // HAProxy stores it in an int read as unsigned: -1 is no practical limit, as there.
    return {static_cast<std::uint32_t>(v), {}};
}

std::string agent_info(const AgentReply& r, std::string_view warning) {
    std::string_view msg = r.comment;
    if (msg.empty() || r.health == AgentReply::Health::Up) {
        if (!r.error.empty())
            msg = r.error;
        else if (!warning.empty())
            msg = warning;
    }
    if (msg.empty()) return fmt::format("via agent : {}", r.health_word);
    return fmt::format("via agent : {} ({})", r.health_word, msg);
}

// ---- the runner -----------------------------------------------------------------------------

struct Agent {
    proxy::Server* server = nullptr;
    ServerAgentConf conf;
    net::Address target;
    Health* check_health = nullptr;
    core::Loop* loop = nullptr;
    Watch* watch = nullptr;
    std::optional<util::Duration> timeout_check;
    std::size_t bufsize = 16384;
    std::uint32_t spread = 0;  // spread-checks, percent
    std::minstd_rand rng;
    const std::function<void(proxy::Server&, core::Loop&)>* wake_queue = nullptr;
    bool up = true;  // the agent's own health: false from down/stopped/fail until up
    bool stopped = false;
    bool enabled = true;  // false after the runtime API's `disable agent`
    ResultLog log;        // option log-health-checks

    enum class Phase : std::uint8_t { Idle, Connecting, Sending, Reading } phase = Phase::Idle;
    ev_timer timer{};
    ev_io io{};
    int fd = -1;
    ev_tstamp started = 0;
    std::size_t sent = 0;
    std::string in;  // released after each run
};

void AgentDeleter::operator()(Agent* a) const {
    if (!a) return;
    stop_agent(*a);
    delete a;
}

bool agent_allows_up(const Agent& a) {
    return a.up;
}

namespace {

double seconds(util::Duration d) {
    return std::chrono::duration<double>(d).count();
}

void arm(Agent& a, util::Duration d) {
    ev_timer_stop(a.loop->raw(), &a.timer);
    ev_timer_set(&a.timer, seconds(d), 0.);
    ev_timer_start(a.loop->raw(), &a.timer);
}

void want(Agent& a, int events) {
    ev_io_stop(a.loop->raw(), &a.io);
    ev_io_set(&a.io, a.fd, events);
    ev_io_start(a.loop->raw(), &a.io);
}

void close_fd(Agent& a) {
    if (a.fd < 0) return;
    ev_io_stop(a.loop->raw(), &a.io);
    const linger l{1, 0};  // no TIME_WAIT left behind, as the regular checks
    setsockopt(a.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(a.fd);
    a.fd = -1;
}

// The operational state the checks give together: the agent's and the regular check's.
bool operational(const Agent& a) {
    return a.up && (!a.check_health || a.check_health->up);
}

// A run's result becomes the agent's status (HAProxy's check->status, which a line cut short
// reuses), told with log-health-checks. The agent's health is HAProxy's counter with rise and
// fall of 1: 1/1 UP or 0/1 DOWN.
void record(Agent& a, const Outcome& o, long ms, bool was_up) {
    if (a.log.on)
        log_result(a.log, *a.server, true, o, ms, was_up ? 1 : 0, {a.up ? 1u : 0u, 1, 1}, *a.watch,
                   *a.loop);
    else
        a.log.prev = static_cast<std::uint8_t>(o.status);
}

void set_up(Agent& a, bool up, const Outcome& o, long ms) {
    proxy::Server& s = *a.server;
    if (s.up.load(std::memory_order_acquire) == up) return;
    const std::int64_t wall = static_cast<std::int64_t>(std::time(nullptr));
    if (up) {
        const std::int64_t since = s.last_change.exchange(wall, std::memory_order_relaxed);
        if (since > 0) s.down_time.fetch_add(wall - since, std::memory_order_relaxed);
    } else {
        s.check_downs.fetch_add(1, std::memory_order_relaxed);
        s.last_change.store(wall, std::memory_order_relaxed);
        s.stopping.store(false, std::memory_order_release);
    }
    s.up.store(up, std::memory_order_release);
    const auto what = up ? StateMessage::What::Up : StateMessage::What::Down;
    s.backend->server_changed(s);
    if (s.admin.load(std::memory_order_acquire) != proxy::AdminState::Maint)
        announce(s, {.backend = s.backend->name,
                     .server = s.name,
                     .what = what,
                     // With log-health-checks the result was told just before.
                     .outcome = a.log.on ? nullptr : &o,
                     .duration_ms = ms,
                     .sessions = s.cur_conns.load(std::memory_order_relaxed)});
    a.watch->changed(s, what, !up, *a.loop);
}

// `was_usable`: the backend's alert follows only when the change took its last usable server.
// `loud`: logged as an alert (a usable server taken down), else as a notice.
void admin_message(const proxy::Server& s, std::string event, bool up, bool counts,
                   bool was_usable = true, bool loud = false) {
    announce(s, {.backend = s.backend->name,
                 .server = s.name,
                 .what = up ? StateMessage::What::Up : StateMessage::What::Down,
                 .sessions = s.cur_conns.load(std::memory_order_relaxed),
                 .event = event,
                 .counts = counts,
                 .alert = was_usable,
                 .quiet_down = !loud});
}

void set_admin(Agent& a, AgentReply::Admin to) {
    using proxy::AdminState;
    const AdminState next = to == AgentReply::Admin::Drain   ? AdminState::Drain
                            : to == AgentReply::Admin::Maint ? AdminState::Maint
                                                             : AdminState::Ready;
    change_admin(*a.server, next, a.check_health, &a, *a.watch, *a.loop);
}

void apply_health(Agent& a, const AgentReply& r, std::string_view warning, long ms) {
    const bool up = r.health == AgentReply::Health::Up;
    const Outcome o{up ? Status::L7Ok : Status::L7Status, 0, agent_info(r, warning)};
    const bool was_up = a.up;
    a.up = up;
    record(a, o, ms, was_up);
    set_up(a, operational(a), o, ms);
}

void apply(Agent& a, const AgentReply& r, long ms) {
    proxy::Server& s = *a.server;
    // HAProxy commits the admin change after the health one: a server leaving maintenance
    // says the state the same reply gave it ("ready up": "is UP/READY", no UP message).
    const bool health_first = r.health != AgentReply::Health::None &&
                              s.admin.load(std::memory_order_acquire) == proxy::AdminState::Maint;
    if (health_first) apply_health(a, r, {}, ms);
    if (r.admin != AgentReply::Admin::None) set_admin(a, r.admin);
    std::string_view warning;
    if (!r.weight.empty()) {
        const AgentChange w = agent_weight(r.weight, s.options.weight);
        if (w.value && *w.value != s.weight.load(std::memory_order_relaxed)) {
            s.weight.store(*w.value, std::memory_order_relaxed);
            s.backend->server_changed(s);
        }
        warning = w.warning;
    }
    if (!r.maxconn.empty()) {
        const AgentChange m = agent_maxconn(r.maxconn);
        if (m.value) {
            const std::uint32_t before = s.maxconn.exchange(*m.value, std::memory_order_relaxed);
            const bool raised = before != 0 && (*m.value == 0 || *m.value > before);
            // Requests queued at the old limit may go now (HAProxy dequeues at once).
            if (raised && *a.wake_queue) (*a.wake_queue)(s, *a.loop);
        }
        if (warning.empty()) warning = m.warning;
    }
    if (r.health != AgentReply::Health::None && !health_first) apply_health(a, r, warning, ms);
}

// A line cut short by the agent's close: HAProxy says it ignores it ("Ignoring incomplete line
// from agent") by setting the agent's last status again. That changes nothing, unless the
// runtime API forced the agent's health against that status (`set server agent up` after a
// "down"): the status then counts again, and takes the server back where it said.
void repeat_status(Agent& a, long ms) {
    // CHECKED (no result) has nothing to count; before any result the run ends otherwise.
    if (a.log.prev == ResultLog::kNeutral || a.log.prev == ResultLog::kInitial) return;
    const auto status = static_cast<Status>(a.log.prev);
    // Failures count against the agent's health only from the reply's statuses on ("down").
    const bool up = passed(status) ? true : status > Status::Layer7Data ? false : a.up;
    if (up == a.up) return;  // the same status and no move: not even told
    const Outcome o{status, 0, "Ignoring incomplete line from agent"};
    a.up = up;
    record(a, o, ms, !up);
    set_up(a, operational(a), o, ms);
}

// `failure`: why the run ended without a reply (not reached, timed out, closed or reset);
// none: the agent closed after a line, whole or not.
void finish(Agent& a, const std::optional<Outcome>& failure = std::nullopt) {
    const long ms = static_cast<long>((ev_now(a.loop->raw()) - a.started) * 1000.0);
    close_fd(a);
    a.phase = Agent::Phase::Idle;
    // Failing to reach the agent, or a reply cut short, never takes the server down.
    if (failure) {
        record(a, *failure, ms, a.up);
    } else if (const AgentReply r = parse_agent_reply(a.in); !r.complete) {
        repeat_status(a, ms);
    } else {
        apply(a, r, ms);
        // Weights or admin state only: HAProxy's CHECKED, a status that tells nothing.
        if (r.health == AgentReply::Health::None) a.log.prev = ResultLog::kNeutral;
    }
    a.in.clear();
    a.in.shrink_to_fit();
    if (a.stopped || !a.enabled) return;
    double next = seconds(a.conf.inter);
    if (a.spread > 0) {
        // spread-checks: up to +/- spread% of the interval, at random, as the regular checks.
        std::uniform_int_distribution<int> dist(-static_cast<int>(a.spread),
                                                static_cast<int>(a.spread));
        next += next * dist(a.rng) / 100.0;
    }
    arm(a, std::chrono::duration_cast<util::Duration>(std::chrono::duration<double>(next)));
}

// The agent closed (`err` 0) or reset (`err`: the error) before the end of a line.
void cut_short(Agent& a, int err) {
    if (a.in.empty()) {
        // Nothing came: the connection's error, else HAProxy's empty response at the reply's
        // step (its agent rules: the send, then the reply).
        finish(a, err ? Outcome{Status::SocketError, -1, std::strerror(err)}
                      : Outcome{Status::L7Response, -1, "TCPCHK got an empty response at step 2"});
        return;
    }
    if (a.log.prev == ResultLog::kInitial) {
        // Before any result HAProxy's check is not over yet: a reset ends it as a socket error,
        // a close waits for the timeout (Layer7 timeout).
        if (err) {
            finish(a, Outcome{Status::SocketError, -1, std::strerror(err)});
            return;
        }
        close_fd(a);  // on_timer ends the run
        return;
    }
    finish(a);
}

void read_some(Agent& a) {
    while (a.in.size() < a.bufsize) {
        const std::size_t have = a.in.size();
        a.in.resize(a.bufsize);
        const ssize_t n = ::recv(a.fd, a.in.data() + have, a.bufsize - have, 0);
        if (n > 0) {
            a.in.resize(have + static_cast<std::size_t>(n));
            if (parse_agent_reply(a.in).complete) break;
            continue;  // after a NUL, until the agent closes or the timeout (as HAProxy)
        }
        a.in.resize(have);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // wait for more
        cut_short(a, n < 0 ? errno : 0);
        return;
    }
    finish(a);
}

bool send_some(Agent& a) {
    while (a.sent < a.conf.send.size()) {
        const ssize_t n =
            ::send(a.fd, a.conf.send.data() + a.sent, a.conf.send.size() - a.sent, MSG_NOSIGNAL);
        if (n > 0) {
            a.sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
        // The agent closed or reset before taking the string (HAProxy: a socket error).
        finish(a, Outcome{Status::SocketError, -1, std::strerror(n < 0 ? errno : EPIPE)});
        return false;
    }
    return true;
}

// The connection is made: send the string, then read the reply.
void exchange(Agent& a) {
    if (a.phase == Agent::Phase::Connecting) {
        a.phase = Agent::Phase::Sending;
        a.sent = 0;
        if (a.timeout_check) arm(a, *a.timeout_check);
    }
    if (!send_some(a)) {
        if (a.phase == Agent::Phase::Sending) want(a, EV_WRITE);
        return;
    }
    a.phase = Agent::Phase::Reading;
    a.in.reserve(a.bufsize);
    want(a, EV_READ);
}

void on_io(struct ev_loop*, ev_io* w, int) {
    Agent& a = *static_cast<Agent*>(w->data);
    switch (a.phase) {
        case Agent::Phase::Connecting:
            if (const int err = net::connect_result(a.fd); err != 0) {
                finish(a, Outcome{Status::L4Conn, -1, std::strerror(err)});
                return;
            }
            [[fallthrough]];
        case Agent::Phase::Sending:
            exchange(a);
            return;
        case Agent::Phase::Reading:
            read_some(a);
            return;
        case Agent::Phase::Idle:
            return;
    }
}

void start(Agent& a) {
    a.started = ev_now(a.loop->raw());
    auto fd = net::start_connect(a.target);
    if (!fd) {
        finish(a, Outcome{Status::L4Conn, -1, fd.error()});
        return;
    }
    a.fd = *fd;
    a.phase = Agent::Phase::Connecting;
    // As the regular checks: with `timeout check`, connecting may take min(timeout connect,
    // inter) and the rest `timeout check`; without, agent-inter bounds the whole run.
    util::Duration limit = a.conf.inter;
    if (a.timeout_check) {
        const util::Duration tc = a.server->backend->timeout_connect;
        if (tc.count() > 0 && tc < limit) limit = tc;
    }
    arm(a, limit);
    // A loopback or nearby agent often completes the handshake within connect(): go on at
    // once, as HAProxy does, so that an agent resetting right after its accept is a socket
    // error of the exchange, not a connection problem.
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    if (::getpeername(a.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0)
        exchange(a);
    else
        want(a, EV_WRITE);
}

void on_timer(struct ev_loop*, ev_timer* w, int) {
    Agent& a = *static_cast<Agent*>(w->data);
    if (a.phase == Agent::Phase::Idle) {
        if (a.enabled) start(a);
    } else if (a.phase == Agent::Phase::Connecting) {
        finish(a, Outcome{Status::L4Timeout, -1, {}});
    } else {
        // Timed out before a whole line (a run ends at one).
        finish(a, Outcome{Status::L7Timeout, -1, {}});
    }
}

}  // namespace

// An admin state change (an agent's ready/drain/maint, the runtime API's `set server state`),
// with HAProxy's messages, on the loop of the server's checks.
void change_admin(proxy::Server& s, proxy::AdminState next, Health* check_health,
                  const Agent* agent, Watch& watch, core::Loop& loop) {
    using proxy::AdminState;
    const AdminState from = s.admin.load(std::memory_order_acquire);
    if (from == next) return;
    s.last_change.store(static_cast<std::int64_t>(std::time(nullptr)), std::memory_order_relaxed);
    if (from == AdminState::Maint) {
        // Leaving maintenance: the regular check starts again from "going down" (one failure
        // marks the server DOWN), as HAProxy's; the agent's word stands.
        if (check_health) {
            check_health->value = check_health->rise;
            check_health->up = true;
            s.check_health.store(check_health->value, std::memory_order_relaxed);
        }
        // A tracking server has neither: it is as the server it tracks.
        const proxy::Server* tracked = watch.tracked(s);
        const bool up = tracked ? tracked->up.load(std::memory_order_acquire)
                                : (!agent || agent->up) && (!check_health || check_health->up);
        const bool was_up = s.up.exchange(up, std::memory_order_acq_rel);
        s.admin.store(next, std::memory_order_release);
        s.backend->server_changed(s);
        admin_message(s,
                      fmt::format("is {}/{} (leaving forced maintenance)", up ? "UP" : "DOWN",
                                  next == AdminState::Drain ? "DRAIN" : "READY"),
                      up, false);
        if (next == AdminState::Drain)
            announce(s, {.backend = s.backend->name,
                         .server = s.name,
                         .event = "remains in forced drain mode",
                         .counts = false});
        // Trackers follow the operational state (the admin one is the server's own).
        if (up != was_up)
            watch.changed(s, up ? StateMessage::What::Up : StateMessage::What::Down, !was_up, loop);
        return;
    }
    const bool up = s.up.load(std::memory_order_acquire);
    const bool was_usable = s.usable();
    s.admin.store(next, std::memory_order_release);
    if (next == AdminState::Maint) {
        s.backend->server_changed(s);
        if (up)
            admin_message(s, "is going DOWN for maintenance", false, true, was_usable, was_usable);
        else
            admin_message(s, "was DOWN and now enters maintenance", false, false);
        return;
    }
    s.backend->server_changed(s);
    if (next == AdminState::Drain)
        admin_message(s, "enters drain state", up, true, was_usable);
    else
        admin_message(s, fmt::format("is {} (leaving forced drain)", up ? "UP" : "DOWN"), up,
                      false);
}

AgentPtr make_agent(proxy::Server& server, const ServerAgentConf& conf, Health* check_health,
                    const AgentSetup& setup) {
    AgentPtr a(new Agent);
    a->server = &server;
    a->conf = conf;
    a->enabled = server.agent_enabled.load(std::memory_order_relaxed);
    // As for the check port: the server-state file's wins.
    if (!server.state_restored || server.agent_port.load(std::memory_order_relaxed) == 0)
        server.agent_port.store(conf.port, std::memory_order_relaxed);
    agent_retarget(*a);
    a->check_health = check_health;
    a->log.on = server.backend->parts->read<log::ProxyLogFormat>().log_health_checks;
    a->loop = &setup.loop;
    a->watch = &setup.watch;
    a->timeout_check = setup.timeout_check;
    a->bufsize = setup.bufsize;
    a->spread = setup.spread;
    a->wake_queue = &setup.wake_queue;
    a->rng.seed(static_cast<unsigned>(getpid()) * 7919u + server.uid);
    ev_init(&a->timer, on_timer);
    a->timer.data = a.get();
    ev_init(&a->io, on_io);
    a->io.data = a.get();
    return a;
}

void start_agent(Agent& a, std::size_t index, std::size_t count) {
    a.stopped = false;
    arm(a, a.conf.inter * static_cast<std::int64_t>(index) / static_cast<std::int64_t>(count));
}

void Checks::on_limit_raised(std::function<void(proxy::Server&, core::Loop&)> wake) {
    wake_queue_ = std::move(wake);
}

void stop_agent(Agent& a) {
    a.stopped = true;
    close_fd(a);
    ev_timer_stop(a.loop->raw(), &a.timer);
    a.phase = Agent::Phase::Idle;
    a.in.clear();
}

}  // namespace sluice::check

namespace sluice::check {

bool agent_force(Agent& a, bool up) {
    a.up = up;
    return operational(a);
}

void agent_enable(Agent& a, bool on) {
    if (a.enabled == on) return;
    a.enabled = on;
    a.server->agent_enabled.store(on, std::memory_order_relaxed);
    if (on) {
        if (!a.stopped) arm(a, a.conf.inter);
        return;
    }
    close_fd(a);  // a run under way is dropped
    ev_timer_stop(a.loop->raw(), &a.timer);
    a.phase = Agent::Phase::Idle;
    a.in.clear();
    a.in.shrink_to_fit();
}

void agent_retarget(Agent& a) {
    const proxy::Server& s = *a.server;
    const auto& runtime = s.agent_address.now();
    a.target = runtime.generation ? runtime.addr.address
               : a.conf.addr      ? *a.conf.addr
                                  : s.destination.now().addr.address;
    a.target.set_port(s.agent_port.load(std::memory_order_relaxed));
}

void agent_set_send(Agent& a, std::string text) {
    a.conf.send = std::move(text);
}

}  // namespace sluice::check
