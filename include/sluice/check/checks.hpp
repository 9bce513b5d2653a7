// The health-check scheduler. Every server with `check` gets one Check, owned by one worker
// thread's loop for life (spread round-robin over the loops); it runs there like a connection,
// with one timer and one I/O watcher, holds no buffer between checks, and changes its server
// through the atomics of proxy::Server and the backend's Balancer::server_changed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/check/agent.hpp"
#include "sluice/check/conf.hpp"
#include "sluice/core/loop.hpp"
#include "sluice/proxy/runtime.hpp"

namespace sluice::check {

// Whether a server has a regular health check (`check`), and an agent check (`agent-check`
// with a port), as its `server` line says.
inline bool has_check(const proxy::Server& s) {
    return s.line_parts && s.line_parts->read<ServerCheckConf>().enabled;
}
inline bool has_agent(const proxy::Server& s) {
    if (!s.line_parts) return false;
    const auto& a = s.line_parts->read<ServerAgentConf>();
    return a.enabled && a.port;
}

// A server's health as HAProxy counts it: a counter from 0 to rise+fall-1. A server with
// `check` starts UP at `rise` ("going down": one failure marks it DOWN); once a check passes
// it is fully UP and takes `fall` failures to go DOWN; a DOWN server needs `rise` successes.
struct Health {
    enum class Change : std::uint8_t { None, Down, Up };
    std::uint32_t rise = 2, fall = 3;
    std::uint32_t value = 2;
    bool up = true;

    static Health start(std::uint32_t rise, std::uint32_t fall,
                        ServerCheckConf::InitState init = ServerCheckConf::InitState::Up);
    std::uint32_t full() const { return rise + fall - 1; }
    Change record(bool ok);
    // The delay before the next check: `inter` at full health, `downinter` when DOWN,
    // `fastinter` in between (each falling back to `inter`).
    util::Duration next_interval(const ServerCheckConf& conf) const;
};

// The message HAProxy prints when a server changes state (without the "[WARNING]  (pid) : "
// prefix): "Server be/s1 is DOWN, reason: ..., check duration: 0ms. 0 active and ...".
struct StateMessage {
    std::string_view backend, server;
    enum class What : std::uint8_t { Down, Up, Stopping } what = What::Down;
    // A tracking server's change: the server it follows ("is DOWN via be/s1"), no reason.
    std::string_view via_backend = {}, via_server = {};
    const Outcome* outcome = nullptr;
    long duration_ms = 0;
    std::uint32_t active = 0, backup = 0;  // usable servers of the backend after the change
    std::uint32_t sessions = 0;            // the server's current connections
    // Admin changes (agent checks, later the runtime API): the words after the server's name
    // ("enters drain state") instead of "is DOWN..."; `what` then picks the counts' wording,
    // and `counts` false ends the line after `event`.
    std::string_view event = {};
    // Why, when no check outcome says it ("changed from CLI"): after the state words.
    std::string_view cause = {};
    bool counts = true;
    bool alert = true;           // false: no "has no server available" after it (nothing changed)
    bool backup_server = false;  // "Backup Server be/s1 ...", set by announce()
    // A DOWN of a server that was stopping (NOLB) or draining: logged as a notice, not an
    // alert (HAProxy's levels).
    bool quiet_down = false;
};
std::string format_state_message(const StateMessage& m);

// What the runtime API changes in a server's checks; applied on the loop of its checks.
struct ChecksChange {
    enum class What : std::uint8_t {
        Health,       // `set server B/S health up|stopping|down` (`state`)
        Agent,        // `set server B/S agent up|down` (`state`: Up or Down)
        CheckEnable,  // `enable|disable health` (`enable`)
        AgentEnable,  // `enable|disable agent`
        CheckPort,    // `set server B/S check-port` (`port`)
        CheckAddr,    // `set server B/S check-addr` (in Server::check_address; `port` if not 0)
        AgentAddr,    // `set server B/S agent-addr` (in Server::agent_address; `port` if not 0)
        AgentPort,    // `set server B/S agent-port`
        AgentSend,    // `set server B/S agent-send` (`text`)
        Address,      // the server's Destination changed: checks follow it
    } what = What::Health;
    StateMessage::What state = StateMessage::What::Up;
    bool enable = true;
    std::uint16_t port = 0;
    std::string text = {};
};

struct Plan;
struct Check;
struct Agent;
struct ThreadChecks;
class Watch;

class Checks {
  public:
    Checks(proxy::Config& config, core::Runtime& runtime);
    ~Checks();
    Checks(const Checks&) = delete;
    Checks& operator=(const Checks&) = delete;

    // Runtime::run's per-thread setup: arms the first run of this thread's checks, spread over
    // the shortest interval as HAProxy does.
    void setup_thread(core::Loop& loop);
    // Soft stop: every thread stops its checks (a check in flight is dropped) so that loops
    // can end once their connections have.
    void stop();
    std::size_t size() const { return count_; }
    Watch& watch() { return *watch_; }
    // How to shut the sessions of a server (on-marked-down / on-marked-up), given by the stream
    // layer before the loops run; called on the thread of the change.
    void on_shutdown_sessions(std::function<void(const proxy::Server&)> shut);
    // How to let queued requests in once a server's connection limit grew (an agent's
    // `maxconn:N`), given by the stream layer before the loops run; called on the worker loop
    // of the change (agent.cpp).
    void on_limit_raised(std::function<void(proxy::Server&, core::Loop&)> wake);

    // The runtime API's `set server ... state ready|drain|maint`: the change runs on the
    // loop of the server's checks (any loop for a server without), with HAProxy's messages.
    void set_admin(proxy::Server& s, proxy::AdminState next);
    // The runtime API's other changes (runtime_ops.cpp); the caller checked that the server
    // has the check or agent the change is about.
    void apply(proxy::Server& s, ChecksChange change);

    // `add server` (runtime API), on the API's loop before the server is listed: its check
    // and agent, if its line asks for them, start disabled as HAProxy's dynamic servers do
    // (`enable health|agent` starts them).
    void add_server(proxy::Server& s);
    // `del server`, once the server is unlisted: its check and agent stop and are freed on
    // their loop, then `done` runs there.
    void remove_server(proxy::Server& s, std::function<void()> done);

  private:
    void start_down(proxy::Server& s);
    void add_checks(proxy::Server& s, bool running);
    Plan* plan_for(proxy::Backend& be);
    // Where a server's checks run: the loop, and its regular check and agent (null if none).
    struct Owner {
        ThreadChecks* thread = nullptr;
        Check* check = nullptr;
        Agent* agent = nullptr;
    };
    Owner owner_of(const proxy::Server& s);
    // Read by the runtime API and the stats page's loops, changed by add/del server.
    std::mutex owners_mutex_;
    std::unordered_map<const proxy::Server*, Owner> owners_;
    std::size_t agents_ = 0;
    proxy::Config& config_;
    core::Runtime& runtime_;
    std::vector<std::unique_ptr<Plan>> plans_;            // per backend with checks
    std::vector<std::unique_ptr<ThreadChecks>> threads_;  // per loop
    std::size_t count_ = 0;
    util::Duration first_interval_ = util::Duration::max();        // the shortest, over every check
    std::unique_ptr<Watch> watch_;                                 // track, slowstart (watch.cpp)
    std::function<void(proxy::Server&, core::Loop&)> wake_queue_;  // on_limit_raised
};

}  // namespace sluice::check
