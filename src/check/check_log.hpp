// Internal to the check module: `option log-health-checks`, HAProxy's report of every change of
// a check's result (not only the server's UP/DOWN transitions), for regular and agent checks.
#pragma once

#include <cstdint>
#include <string>

#include "sluice/check/checks.hpp"
#include "sluice/core/loop.hpp"

namespace sluice::check {

class Watch;

// What the option needs of one check between runs. `on` is read once when the check is built,
// so a backend without the option pays one test per run. An agent keeps `prev` with or without
// the option: a line cut short sets that status again (agent.cpp).
struct ResultLog {
    // HAProxy compares each status with the previous one, which starts as "INI" (so the first
    // result is always reported) and becomes "CHECKED" after an agent reply that only changed
    // weights or admin state: both differ from every real status.
    static constexpr std::uint8_t kInitial = 0xff;
    static constexpr std::uint8_t kNeutral = 0xfe;
    bool on = false;
    std::uint8_t prev = kInitial;
};

// How a check's health shows in the line ("status: 2/3 UP").
struct HealthView {
    std::uint32_t value = 0;
    std::uint32_t rise = 1;
    std::uint32_t fall = 1;
};

// A run ended with `o` (duration `ms`, -1 for none) and left the health at `after`: prints
// "Health check for server ..." (or "Agent check ...") when the status differs from the
// previous run's or the health moved, to stderr, the backend's log targets and the e-mail
// alerts, as HAProxy does. Call before the state change the run causes: HAProxy reports the
// result first.
void log_result(ResultLog& log, const proxy::Server& s, bool agent, const Outcome& o, long ms,
                std::uint32_t before, const HealthView& after, Watch& watch, core::Loop& loop);

// ", reason: ..., code: ..., info: \"...\", check duration: Nms" (checks.cpp).
void append_outcome(std::string& out, const Outcome& o, long ms);
// One "[WARNING]" line on stderr, under the lock state changes print under (checks.cpp).
void print_check_warning(const std::string& text);

}  // namespace sluice::check
