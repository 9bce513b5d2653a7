// The runtime API's changes to health and agent checks (`set server B/S health|agent|check-port|
// agent-addr|agent-port|agent-send`, `enable|disable health|agent`, a new server address). Each
// change runs on the loop of the server's checks, as Checks::set_admin, so it never races the check
// it changes.
#include <ctime>

#include "agent_run.hpp"
#include "sluice/check/checks.hpp"
#include "watch.hpp"

namespace sluice::check {
namespace {

// HAProxy's srv_set_running / srv_set_stopping / srv_set_stopped from the CLI: the server's
// operational state with the "changed from CLI" message; nothing when it is already so.
void force_state(proxy::Server& s, StateMessage::What what, Watch& watch, core::Loop& loop) {
    const bool up = what != StateMessage::What::Down;
    const bool stopping = what == StateMessage::What::Stopping;
    const bool was_up = s.up.load(std::memory_order_acquire);
    const bool was_stopping = s.stopping.load(std::memory_order_acquire);
    if (was_up == up && was_stopping == stopping) return;
    const std::int64_t wall = static_cast<std::int64_t>(std::time(nullptr));
    if (up && !was_up) {
        const std::int64_t since = s.last_change.exchange(wall, std::memory_order_relaxed);
        if (since > 0) s.down_time.fetch_add(wall - since, std::memory_order_relaxed);
    } else {
        if (!up) s.check_downs.fetch_add(1, std::memory_order_relaxed);
        s.last_change.store(wall, std::memory_order_relaxed);
    }
    s.stopping.store(stopping, std::memory_order_release);
    s.up.store(up, std::memory_order_release);
    s.backend->server_changed(s);
    if (s.admin.load(std::memory_order_acquire) != proxy::AdminState::Maint)
        announce(s, {.backend = s.backend->name,
                     .server = s.name,
                     .what = what,
                     .sessions = s.cur_conns.load(std::memory_order_relaxed),
                     .cause = "changed from CLI",
                     .quiet_down = was_stopping});
    if (was_up != up)
        watch.changed(s, up ? StateMessage::What::Up : StateMessage::What::Down, !was_up, loop);
}

}  // namespace

void Checks::apply(proxy::Server& s, ChecksChange change) {
    const Owner owner = owner_of(s);
    Watch* watch = watch_.get();
    proxy::Server* server = &s;
    thread_loop(*owner.thread)
        .mailbox()
        .post([server, owner, watch, change = std::move(change)](core::Loop& l) mutable {
            using W = ChecksChange::What;
            Check* c = owner.check;
            Agent* a = owner.agent;
            switch (change.what) {
                case W::Health: {
                    // As HAProxy: the health counter goes to its top (or to 0), then the state.
                    bool allowed = change.state != StateMessage::What::Down;
                    if (c) {
                        Health& h = check_health(*c);
                        h.up = allowed;
                        h.value = allowed ? h.full() : 0;
                        server->check_health.store(h.value, std::memory_order_relaxed);
                    }
                    if (allowed && a) allowed = agent_allows_up(*a);
                    if (allowed || change.state == StateMessage::What::Down)
                        force_state(*server, change.state, *watch, l);
                    break;
                }
                case W::Agent:
                    if (!a) break;
                    if (agent_force(*a, change.state == StateMessage::What::Up))
                        force_state(*server, StateMessage::What::Up, *watch, l);
                    else if (change.state == StateMessage::What::Down)
                        force_state(*server, StateMessage::What::Down, *watch, l);
                    break;
                case W::CheckEnable:
                    if (c) check_enable(*c, change.enable);
                    break;
                case W::AgentEnable:
                    if (a) agent_enable(*a, change.enable);
                    break;
                case W::CheckPort:
                    server->check_port.store(change.port, std::memory_order_relaxed);
                    if (c) check_retarget(*c);
                    break;
                case W::CheckAddr:
                    if (change.port)
                        server->check_port.store(change.port, std::memory_order_relaxed);
                    if (c) check_retarget(*c);
                    break;
                case W::AgentAddr:
                case W::AgentPort:
                    if (change.port)
                        server->agent_port.store(change.port, std::memory_order_relaxed);
                    if (a) agent_retarget(*a);
                    break;
                case W::AgentSend:
                    if (a) agent_set_send(*a, std::move(change.text));
                    break;
                case W::Address:
                    if (c) check_retarget(*c);
                    if (a) agent_retarget(*a);
                    break;
            }
        });
}

}  // namespace sluice::check
