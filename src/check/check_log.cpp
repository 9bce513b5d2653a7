// `option log-health-checks` (see check_log.hpp).
#include "check_log.hpp"

#include <fmt/format.h>

#include "check_run.hpp"
#include "sluice/log/logger.hpp"
#include "watch.hpp"

namespace sluice::check {

namespace {

constexpr int kMailInfo = 6;  // LOG_INFO: HAProxy mails these at a lower level than changes

}  // namespace

void log_result(ResultLog& log, const proxy::Server& s, bool agent, const Outcome& o, long ms,
                std::uint32_t before, const HealthView& after, Watch& watch, core::Loop& loop) {
    const auto status = static_cast<std::uint8_t>(o.status);
    const bool changed = status != log.prev || before != after.value;
    log.prev = status;
    if (!changed) return;
    const bool ok = passed(o.status);
    std::string text = fmt::format("{} check for {}server {}/{} {}{}", agent ? "Agent" : "Health",
                                   s.options.backup ? "backup " : "", s.backend->name, s.name,
                                   o.status == Status::L7OkConditional ? "conditionally " : "",
                                   ok ? "succeeded" : "failed");
    append_outcome(text, o, ms);
    // Above `rise` the health counts down towards DOWN over `fall`, below it up over `rise`.
    const bool up = after.value >= after.rise;
    const std::string_view state = !up                                             ? "DOWN"
                                   : s.weight.load(std::memory_order_relaxed) == 0 ? "DRAIN"
                                                                                   : "UP";
    text += fmt::format(", status: {}/{} {}.", up ? after.value - after.rise + 1 : after.value,
                        up ? after.fall : after.rise, state);
    print_check_warning(text);
    if (const log::Logger* logger = s.backend->logger.get()) logger->emit(log::Level::Notice, text);
    // The mail's subject and body have no final dot, as HAProxy's.
    text.pop_back();
    watch.mail(s, kMailInfo, text, loop);
}

void log_result(Check& c, const Outcome& o, long ms, std::uint32_t before) {
    log_result(c.log, *c.server, false, o, ms, before,
               {c.health.value, c.health.rise, c.health.fall}, c.thread->owner->watch(),
               *c.thread->loop);
}

}  // namespace sluice::check
