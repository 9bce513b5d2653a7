// Internal to the check module: the agent check's runner (agent.cpp). Checks builds one per
// server with `agent-check`, on the loop of the server's regular check when it has one: the
// agent reads that check's health (the server is UP only when both say so) and resets it when
// the server leaves maintenance, so both must run on one thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include "sluice/check/agent.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/core/loop.hpp"

namespace sluice::check {

struct Agent;
struct AgentDeleter {
    void operator()(Agent* a) const;
};
using AgentPtr = std::unique_ptr<Agent, AgentDeleter>;

class Watch;

// What an agent shares with the checks of its thread and backend.
struct AgentSetup {
    core::Loop& loop;
    Watch& watch;
    std::optional<util::Duration> timeout_check;
    std::size_t bufsize = 16384;
    std::uint32_t spread = 0;  // spread-checks, percent
    // Lets queued requests in after `maxconn:N` raised the limit (may be empty).
    const std::function<void(proxy::Server&, core::Loop&)>& wake_queue;
};
// `check_health`: the server's regular check, null without one.
AgentPtr make_agent(proxy::Server& server, const ServerAgentConf& conf, Health* check_health,
                    const AgentSetup& setup);
// The first run, spread over agent-inter as the `index`th of `count` agents of the thread.
void start_agent(Agent& a, std::size_t index, std::size_t count);
void stop_agent(Agent& a);
// False once the agent said down/stopped/fail, until it says up.
bool agent_allows_up(const Agent& a);
// Puts `s` in admin state `next` with HAProxy's messages, on `loop` (its checks' thread).
// Leaving maintenance restarts the regular check (`check_health`, null without one) from
// "going down"; the server is then UP if its agent (null without one) and its check say so.
void change_admin(proxy::Server& s, proxy::AdminState next, Health* check_health,
                  const Agent* agent, Watch& watch, core::Loop& loop);

// For the runtime API's changes (runtime_ops.cpp), on the loop of the check or agent.
core::Loop& thread_loop(const ThreadChecks& t);
Health& check_health(Check& c);
Agent* check_agent(Check& c);
// The server's address or check port changed: the check connects to the new one.
void check_retarget(Check& c);
// `enable|disable health`: a disabled check stops (one under way is dropped) and leaves the
// server's state as it is; enabled again, it runs after its interval.
void check_enable(Check& c, bool on);
// `set server B/S agent up|down`: the agent's own health, then the server's state with the
// "changed from CLI" message.
// Returns whether the server may be UP by its checks.
bool agent_force(Agent& a, bool up);
void agent_enable(Agent& a, bool on);
// The agent's address or port changed (Server::agent_address, Server::agent_port, or the
// server's address it follows).
void agent_retarget(Agent& a);
void agent_set_send(Agent& a, std::string text);

}  // namespace sluice::check
