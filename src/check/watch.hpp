// Internal to the check module: what happens around a server's state change beyond its own
// check (tracking servers follow it, slowstart warms it up, observed traffic feeds it). Built
// once by Checks; every change runs on the thread of the check at the head of the chain.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/check/checks.hpp"
#include "sluice/check/mailers.hpp"
#include "sluice/check/watch.hpp"
#include "sluice/core/loop.hpp"

namespace sluice::check {

// Prints a state change as HAProxy does (the WARNING line, then the ALERT when the backend has
// no usable server left), under the process-wide print lock. Counts the backend's servers.
// Returns the message printed (for e-mail alerts).
std::string announce(const proxy::Server& s, StateMessage m);

struct Warmup;

// Where the streams' `observe` reports end (observe.cpp): a server that reached its
// `error-limit` has its check told, by a message to the check's loop.
class ObserveHub final : public proxy::ObserveSink {
  public:
    void add(proxy::Server& s, Check& c, const ServerWatchConf& conf);
    // Before `s`'s check goes: no report is sent to it after this returns.
    void remove(const proxy::Server& s);
    void limit_reached(proxy::Server& s, proxy::Observed last, std::uint32_t errors) override;

  private:
    struct Entry {
        Check* check = nullptr;
        OnError on_error = OnError::FailCheck;
    };
    // Changed by the runtime API (add/del server), read when a server reaches its limit: both
    // rare. The report is posted under the lock, so it is in the check's mailbox before a
    // removal's.
    std::mutex mutex_;
    std::unordered_map<const proxy::Server*, Entry> entries_;
};

// On the check's own thread: `error-limit` consecutive errors were seen (observe.cpp); `info`
// is the message's ("Detected 10 consecutive errors, last one was: ..."), `sessions` the
// server's connections when the last error was seen (the stream that saw it among them, as
// HAProxy counts them).
void health_analyze(Check& c, OnError mode, std::string info, std::uint32_t sessions);
core::Loop& check_loop(const Check& c);

class Watch {
  public:
    explicit Watch(proxy::Config& config);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    // `s` has just gone DOWN or come UP (`was_down`: from DOWN; its message printed), on
    // `loop`: its trackers follow
    // (each with its "via" message, depth first as HAProxy), warm-ups start or end.
    void changed(proxy::Server& s, StateMessage::What what, bool was_down, core::Loop& loop);
    // Soft stop: this loop's warm-up timers stop, so the loop can end.
    void stop_thread(core::Loop& loop);
    // How sessions of a server are shut (`on-marked-down shutdown-sessions`...): set once
    // before the loops run; called on the thread of the change, for every thread.
    std::function<void(const proxy::Server&)> shutdown_sessions;
    // `s` is checked by `c`: with `observe`, the streams' reports reach the check.
    void observe(proxy::Server& s, Check& c);
    // A state change's message was printed on `loop`: e-mail alerts (mailers.cpp), `level`
    // from state_level().
    void mail(const proxy::Server& s, int level, std::string_view message, core::Loop& loop);
    // The server `s` tracks, if any.
    const proxy::Server* tracked(const proxy::Server& s) const;
    // The servers that track `s` directly, as they are now.
    std::vector<proxy::Server*> trackers(const proxy::Server& s) const;
    // The runtime API adds `s` (built, not yet in its backend's list): its warm-up, and its
    // place among the trackers of the server it tracks (checked by the caller), whose state
    // it takes.
    void add_server(proxy::Server& s);
    // The runtime API deletes `s`: it leaves the trackers, its warm-up stops and is freed on
    // its loop, and no observed error reaches its check any more. Whatever this posts reaches
    // each loop before anything posted after it returns.
    void remove_server(const proxy::Server& s);

  private:
    void add_warmup(proxy::Server& srv, util::Duration slowstart);
    void add_tracker(proxy::Server& srv, std::string_view backend, const std::string& track);
    void shut_sessions(const proxy::Server& s, StateMessage::What what);
    void follow(proxy::Server& s, StateMessage::What what, bool was_down, core::Loop& loop,
                const proxy::Server* via);
    proxy::Config& config_;
    // Read on the check loops when a state changes, changed by the runtime API: both rare.
    // A warm-up is started, stepped back and stopped under the lock too, so the runtime API
    // never frees one in use.
    mutable std::mutex mutex_;
    std::unordered_map<const proxy::Server*, std::vector<proxy::Server*>> trackers_;
    std::unordered_map<const proxy::Server*, std::unique_ptr<Warmup>> warmups_;
    std::unique_ptr<ObserveHub> observe_ = std::make_unique<ObserveHub>();
    std::unique_ptr<MailAlerts> mail_;
};

}  // namespace sluice::check
