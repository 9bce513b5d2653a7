#include "sluice/proxy/counters.hpp"

#include "sluice/proxy/runtime.hpp"

#include <cmath>

namespace sluice::proxy {

void PerSecond::roll(std::uint32_t at, std::uint32_t sec) {
    const std::uint32_t finished = curr_.load(std::memory_order_relaxed);
    // A whole second ended: its count is a rate the maximum may take.
    if (finished > max_.load(std::memory_order_relaxed))
        max_.store(finished, std::memory_order_relaxed);
    prev_.store(at + 1 == sec ? finished : 0, std::memory_order_relaxed);
    curr_.store(0, std::memory_order_relaxed);
    sec_.store(sec, std::memory_order_relaxed);
}

void PerSecond::reset(bool all) {
    max_.store(0, std::memory_order_relaxed);
    if (!all) return;
    curr_.store(0, std::memory_order_relaxed);
    prev_.store(0, std::memory_order_relaxed);
}

void Timing::reset(bool all) {
    max_.store(0, std::memory_order_relaxed);
    if (!all) return;
    count_.reset();
    sum_.reset();
    avg_.store(0, std::memory_order_relaxed);
    for (Tally& b : buckets_)
        b.reset();
}

void Counts::reset(bool all) {
    session_rate.reset(all);
    connection_rate.reset(all);
    request_rate.reset(all);
    for (Timing& t : timings)
        t.reset(all);
    if (!all) return;
    for (Tally* t : {&sessions, &connections, &bytes_in, &bytes_out, &denied_requests,
                     &denied_responses, &denied_conns, &denied_sessions, &requests, &intercepted,
                     &balanced, &new_conns, &reused_conns, &redispatches})
        t->reset();
    for (Tally& r : responses)
        r.reset();
    last_session.store(0, std::memory_order_relaxed);
}

std::uint32_t PerSecond::rate(double now) const {
    const auto sec = static_cast<std::uint32_t>(now);
    const double left = 1.0 - (now - std::floor(now));
    const std::uint32_t at = sec_.load(std::memory_order_relaxed);
    const std::uint32_t curr = curr_.load(std::memory_order_relaxed);
    if (at == sec)
        return curr + static_cast<std::uint32_t>(prev_.load(std::memory_order_relaxed) * left);
    if (at + 1 == sec) return static_cast<std::uint32_t>(curr * left);
    return 0;
}

void Timing::add(std::uint32_t ms) {
    count_.add();
    sum_.add(ms);
    // The average of the last kWindow samples, or of all of them while there are fewer.
    const std::uint64_t n = std::min<std::uint64_t>(count_.get(), kWindow);
    const double avg = avg_.load(std::memory_order_relaxed);
    avg_.store(avg + (static_cast<double>(ms) - avg) / static_cast<double>(n),
               std::memory_order_relaxed);
    if (ms > max_.load(std::memory_order_relaxed)) max_.store(ms, std::memory_order_relaxed);
    std::size_t b = 0;
    while (b < kBounds.size() && ms > kBounds[b])
        ++b;
    buckets_[b].add();
}

void clear_counters(Config& config, std::uint32_t thread, bool all) {
    auto clear = [&](PerThreadCounts& c, ErrorCounters& errors) {
        if (thread < c.threads()) c.at(thread).reset(all);
        if (thread != 0) return;
        c.reset_max();
        if (all) errors.reset();
    };
    for (auto& fe : config.frontends)
        clear(fe->counts, fe->errors);
    for (auto& be : config.backends) {
        clear(be->counts, be->errors);
        if (thread == 0 && all) be->down_transitions.store(0, std::memory_order_relaxed);
        for (Server* s : be->servers) {
            clear(s->counts, s->errors);
            if (thread == 0 && all) {
                s->check_failures.store(0, std::memory_order_relaxed);
                s->check_downs.store(0, std::memory_order_relaxed);
            }
        }
    }
}

}  // namespace sluice::proxy
