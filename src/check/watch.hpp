// Internal to the check module: what happens around a server's state change beyond its own
// check (tracking servers follow it, slowstart warms it up, observed traffic feeds it). Built
// once by Checks; every change runs on the thread of the check at the head of the chain.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/check/checks.hpp"
#include "sluice/check/watch.hpp"
#include "sluice/core/loop.hpp"

namespace sluice::check {

// Prints a state change as HAProxy does (the WARNING line, then the ALERT when the backend has
// no usable server left), under the process-wide print lock. Counts the backend's servers.
void announce(const proxy::Server& s, StateMessage m);

struct Warmup;

// Where the streams' `observe` reports end (observe.cpp): a server that reached its
// `error-limit` has its check told, by a message to the check's loop.
class ObserveHub final : public proxy::ObserveSink {
  public:
    void add(proxy::Server& s, Check& c, const ServerWatchConf& conf);
    void limit_reached(proxy::Server& s, proxy::Observed last, std::uint32_t errors) override;

  private:
    struct Entry {
        Check* check = nullptr;
        OnError on_error = OnError::FailCheck;
    };
    std::unordered_map<const proxy::Server*, Entry> entries_;  // filled before loops run
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
    // The servers that track `s` directly.
    const std::vector<proxy::Server*>& trackers(const proxy::Server& s) const;

  private:
    void shut_sessions(const proxy::Server& s, StateMessage::What what);
    void follow(proxy::Server& s, StateMessage::What what, bool was_down, core::Loop& loop,
                const proxy::Server* via);
    std::unordered_map<const proxy::Server*, std::vector<proxy::Server*>> trackers_;
    std::unordered_map<const proxy::Server*, std::unique_ptr<Warmup>> warmups_;
    std::unique_ptr<ObserveHub> observe_;
};

}  // namespace sluice::check
