// set-nice, shared by the http-request/http-response action (act_nice.cpp) and `tcp-request
// content set-nice` (tcp_rules.cpp): accepted as HAProxy accepts it, with no effect.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "sluice/util/result.hpp"

namespace sluice::rules {

inline constexpr std::string_view kNiceHasNoEffect =
    "a nice value reorders the run queue of HAProxy's task scheduler, and Sluice has no such "
    "queue to reorder (each event runs to completion on its thread, in arrival order)";

// `words` are the action's arguments. HAProxy 2.6 asks for one non-empty word and reads it with
// atoi(), clamped to -1024..1024, so any word passes: the value only matters to a scheduler.
inline util::Status check_nice_args(std::span<const std::string> words) {
    if (words.size() != 1 || words[0].empty())
        return util::error("expects exactly 1 argument (integer value)");
    return util::ok();
}

}  // namespace sluice::rules
