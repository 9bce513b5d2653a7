// What each loop counts about itself for the runtime API's `show activity`, `show threads` and
// `show pools`. Every figure has one writer (the owning thread: a relaxed load and store, no
// locked instruction) and is read by the CLI's thread with relaxed loads, so a reading may lag
// a count in flight but never tears.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace sluice::core {

// A count written by one thread only.
class Count {
  public:
    void add(std::uint64_t n = 1) {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void sub(std::uint64_t n = 1) {
        v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
    }
    void set(std::uint64_t n) { v_.store(n, std::memory_order_relaxed); }
    std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> v_{0};
};

// A sliding average over about N samples, kept as a sum (sum - sum/N + sample), so that one
// writer updates it with plain arithmetic.
template <std::uint64_t N>
class SlidingAverage {
  public:
    void add(std::uint64_t sample) {
        const std::uint64_t sum = sum_.get();
        sum_.set(sum - sum / N + sample);
    }
    std::uint64_t average() const { return (sum_.get() + N / 2) / N; }
    void reset() { sum_.set(0); }

  private:
    Count sum_;
};

// One loop's activity (HAProxy's `show activity` lines that Sluice has a notion for).
struct alignas(64) Activity {
    Count loops;                  // loop iterations
    Count events;                 // callbacks run (ctxsw): I/O, timers, messages, signals
    Count busy_loops;             // iterations that had at least one event (poll_io)
    Count empty_loops;            // iterations that had none (empty_rq)
    Count long_loops;             // iterations with at least kLongIteration events (long_rq)
    Count wakes;                  // wake-ups by another thread's messages (wake_tasks)
    Count tasks;                  // messages (core::Task) run (tasksw)
    Count signals;                // signals handled (wake_signal)
    Count accepted;               // connections accepted, CLI ones included (accepted, accq_pushed)
    SlidingAverage<512> loop_ns;  // ns spent running an iteration's callbacks (avg_loop_us)

    // What `show threads` reads about the thread now.
    std::atomic<std::uintptr_t> thread_id{0};        // pthread_t, set by the thread itself
    std::atomic<bool> handling{false};               // running callbacks (not waiting in poll)
    std::atomic<std::uint32_t> iteration_events{0};  // events of the iteration in progress
    std::atomic<std::uint32_t> mailbox_queued{0};    // messages waiting in the mailbox

    static constexpr std::uint32_t kLongIteration = 200;

    // `clear counters`: by the owning thread.
    void reset();
};

// A pool of memory blocks of one size on one thread (`show pools`): each pool registers its
// figures, which its thread writes and the CLI reads.
struct PoolStats {
    std::string_view name;
    std::size_t block_size = 0;
    int thread = -1;              // the loop's index when known (buffers), -1 otherwise
    Count in_use;                 // blocks handed out and not given back (may go below 0 on one
                                  // thread when another frees its blocks at exit: add threads up)
    Count cached;                 // blocks kept for reuse by this thread
    Count failures;               // allocations that failed
    SlidingAverage<1024> needed;  // blocks in use, averaged over releases

    explicit PoolStats(std::string_view n, std::size_t size, int t = -1)
        : name(n), block_size(size), thread(t) {
        register_pool(this);
    }
    ~PoolStats() { unregister_pool(this); }
    PoolStats(const PoolStats&) = delete;
    PoolStats& operator=(const PoolStats&) = delete;

    // Every pool of every thread, under the registry's lock (cold: a thread's first use of a
    // pool kind, a loop's creation, and `show pools`).
    static void each(const std::function<void(const PoolStats&)>& f);

  private:
    static void register_pool(PoolStats* p);
    static void unregister_pool(PoolStats* p);
};

}  // namespace sluice::core
