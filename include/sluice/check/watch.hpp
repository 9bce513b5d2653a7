// What follows a server's health beyond its own check: `track` (a server takes the state of
// another's checks), `slowstart` (a server back UP warms up), and the server-line options that
// say so. Kept apart from conf.hpp so that check kinds and these evolve separately.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/check/checks.hpp"
#include "sluice/proxy/observe.hpp"
#include "sluice/util/result.hpp"
#include "sluice/util/units.hpp"

namespace sluice::check {

// What `on-error` does once `error-limit` consecutive errors were seen. Each also brings the
// next check forward to `fastinter`.
enum class OnError : std::uint8_t {
    FastInter,    // nothing more
    FailCheck,    // counts as one failed check
    SuddenDeath,  // leaves the server one failed check from DOWN, then fails a check
    MarkDown,     // marks the server DOWN at once
};

// Options of one `server` line (and `default-server`) about tracking, warm-up and what a state
// change does to the server's connections, and what observed traffic does to its health.
struct ServerWatchConf {
    std::string track;                      // `track [proxy/]server` as written; empty: none
    util::Duration slowstart{0};            // 0: none
    bool shutdown_sessions = false;         // on-marked-down shutdown-sessions
    bool shutdown_backup_sessions = false;  // on-marked-up shutdown-backup-sessions
    // `observe`, `error-limit`, `on-error` (observe.cpp): only with `check`, as in HAProxy.
    proxy::ObserveMode observe = proxy::ObserveMode::None;
    std::uint32_t error_limit = 10;
    OnError on_error = OnError::FailCheck;
};

// What `on-error` does to a check's health (HAProxy's rules): the change it brings, if any.
Health::Change analyze(Health& health, OnError mode);

// `track` target split as HAProxy reads it: "px/srv" or "srv" (the current proxy).
struct TrackTarget {
    std::string_view proxy, server;
};
TrackTarget split_track(std::string_view text, std::string_view current_proxy);

// The warm-up of slowstart, in percent (0..100), `elapsed` after the server came back UP, as
// HAProxy steps it: whole seconds of `slowstart` rounded up.
std::uint8_t warmup_percent(util::Duration elapsed, util::Duration slowstart);
// How often the warm-up is stepped: every twentieth of slowstart, at least once a second.
util::Duration warmup_step(util::Duration slowstart);

}  // namespace sluice::check
