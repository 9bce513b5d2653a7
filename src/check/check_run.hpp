// Internal to the check module: one check's state and the entry points of its run (checks.cpp)
// that the scheduler's set-up (checks_setup.cpp) builds, arms and stops.
#pragma once

#include <ev.h>

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent_run.hpp"
#include "check_log.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/check/external.hpp"
#include "sluice/check/tcpcheck.hpp"
#include "sluice/sample/vars.hpp"

namespace sluice::check {

// What every check of one backend shares, compiled once.
struct Plan {
    proxy::Backend* backend = nullptr;
    Kind kind = Kind::Tcp;
    std::string request;  // HTTP: the bytes sent
    std::vector<Expect> expects;
    bool disable_on_404 = false;
    bool needs_body = false;
    bool dynamic_expects = false;  // log-format patterns rendered at each check
    std::optional<util::Duration> timeout_check;
    std::optional<Connect> connect;
    TcpRules rules;  // TcpCheck, Protocol, and Http with several exchanges
    bool http_sequence = false;
    // `http-check send-state`: the request is built for each check with the server's state.
    bool send_state = false;
    HttpRequest request_conf;
    std::string node;
    bool uses_rules() const {
        return kind == Kind::TcpCheck || kind == Kind::Protocol || http_sequence;
    }
};

struct Check {
    ThreadChecks* thread = nullptr;
    proxy::Server* server = nullptr;
    const Plan* plan = nullptr;
    ServerCheckConf conf;
    net::Address target;
    bool send_proxy = false;
    bool linger = false;
    Health health;
    std::size_t position = 0;  // among every check of the process (first-run spread)
    Agent* agent = nullptr;    // the server's agent check, on this thread
    bool enabled = true;       // false after the runtime API's `disable health`
    ResultLog log;             // option log-health-checks

    // Rules: a tcp-check sequence waits for its socket (run_rules knows what for).
    enum class Phase : std::uint8_t {
        Idle,
        Connecting,
        Sending,
        Reading,
        Rules,
        External  // an external check's command runs (ext)
    } phase = Phase::Idle;
    ev_timer timer{};
    ev_io io{};
    int fd = -1;
    ev_tstamp started = 0;
    std::string out;  // request bytes still to send (with a PROXY header in front)
    std::size_t sent = 0;
    std::string in;  // the response so far; released after each check
    std::size_t scanned = 0;
    // tcp-check sequences: the rule being run, whether it waits for new bytes, whether the
    // server closed, and the outcome of the last expect that passed.
    std::size_t step = 0;
    bool must_read = false;
    bool eof = false;
    bool expected = false;
    Outcome last_pass;
    sample::VarStore vars;                 // check.* variables, emptied at each run
    std::unique_ptr<ExternalProcess> ext;  // Kind::External
};

struct ThreadChecks {
    Checks* owner = nullptr;
    core::Loop* loop = nullptr;
    std::size_t bufsize = 16384;
    std::uint32_t spread = 0;
    std::minstd_rand rng;
    std::vector<std::unique_ptr<Check>> checks;
    std::vector<AgentPtr> agents;
    bool stopped = false;
    sample::Arena arena;  // variable actions and log-format sends
};

// The run (checks.cpp): the watchers' callbacks, the end of a run, arming a check's timer,
// stopping a thread's checks, and where a check connects.
void on_io(struct ev_loop*, ev_io* w, int revents);
void on_timer(struct ev_loop*, ev_timer* w, int revents);
void finish(Check& c, Outcome o);
void arm_timeout(Check& c, util::Duration d);
void stop_thread(ThreadChecks& t);
net::Address check_target(const Check& c);
// The regular check's side of log-health-checks (check_log.cpp): `before`, its health then.
void log_result(Check& c, const Outcome& o, long ms, std::uint32_t before);

}  // namespace sluice::check
