// A per-second event rate shared by every thread (global `maxconnrate`, `maxsessrate`, and the
// runtime API's `set rate-limit connections|sessions global`), estimated as HAProxy's
// frequency counters do: the events of this second plus those of the previous one, weighted
// by what is left of this second. Counting costs one atomic add (two at a second's turn).
#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::proxy {

class RateLimit {
  public:
    std::atomic<std::uint32_t> limit{0};  // events per second; 0: none

    bool limited() const { return limit.load(std::memory_order_relaxed) != 0; }

    // One event at `now` (seconds since the epoch, as the loops' clock).
    void count(double now) {
        const auto sec = static_cast<std::uint32_t>(now);
        std::uint64_t cur = current_.load(std::memory_order_relaxed);
        for (;;) {
            const auto at = static_cast<std::uint32_t>(cur >> 32);
            if (at == sec) {
                // A turn of second racing this add may count it in the new second: one event
                // early, which only makes the limit a little stricter.
                current_.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            if (at > sec) return;  // another thread's clock is ahead: count it there
            const std::uint64_t next = (static_cast<std::uint64_t>(sec) << 32) | 1;
            if (current_.compare_exchange_weak(cur, next, std::memory_order_relaxed)) {
                previous_.store(at + 1 == sec ? static_cast<std::uint32_t>(cur) : 0,
                                std::memory_order_relaxed);
                return;
            }
        }
    }

    // How many seconds to wait before one more event fits under the limit (0: now).
    double wait(double now) const {
        const std::uint32_t max = limit.load(std::memory_order_relaxed);
        if (max == 0) return 0;
        const auto sec = static_cast<std::uint32_t>(now);
        const double into = now - sec;
        const std::uint64_t cur = current_.load(std::memory_order_relaxed);
        const auto at = static_cast<std::uint32_t>(cur >> 32);
        double count = 0, prev = 0;
        if (at == sec) {
            count = static_cast<std::uint32_t>(cur);
            prev = previous_.load(std::memory_order_relaxed);
        } else if (at + 1 == sec) {
            prev = static_cast<std::uint32_t>(cur);
        }
        if (count + prev * (1.0 - into) < max) return 0;
        if (count >= max || prev <= 0) return 1.0 - into + 0.001;  // the next second
        // When the previous second's weight has dropped enough for one more.
        const double at_fraction = 1.0 - (max - count) / prev;
        return at_fraction > into ? at_fraction - into + 0.001 : 0.001;
    }

  private:
    std::atomic<std::uint64_t> current_{0};   // second << 32 | events in it
    std::atomic<std::uint32_t> previous_{0};  // events of the second before
};

}  // namespace sluice::proxy
