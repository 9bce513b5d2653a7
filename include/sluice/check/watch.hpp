// What follows a server's health beyond its own check: `track` (a server takes the state of
// another's checks), `slowstart` (a server back UP warms up), and the server-line options that
// say so. Kept apart from conf.hpp so that check kinds and these evolve separately.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/util/result.hpp"
#include "sluice/util/units.hpp"

namespace sluice::check {

// Options of one `server` line (and `default-server`) about tracking, warm-up and what a state
// change does to the server's connections. (`observe`, `error-limit`, `on-error` are still
// pending: kw_pending.cpp.)
struct ServerWatchConf {
    std::string track;                      // `track [proxy/]server` as written; empty: none
    util::Duration slowstart{0};            // 0: none
    bool shutdown_sessions = false;         // on-marked-down shutdown-sessions
    bool shutdown_backup_sessions = false;  // on-marked-up shutdown-backup-sessions
};

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
