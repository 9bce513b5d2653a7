// What the stats count for frontends, backends and servers (HAProxy's stot, bin, bout, req_tot,
// hrsp_*, rates, timings...). Every thread counts in its own block of each object, so the data
// path never writes a cache line another thread writes: a count is a relaxed load and store,
// no locked instruction. Readers (the stats, on any thread) add the threads' blocks up; what
// they read may lag a count in flight, never tear.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace sluice::proxy {

// A count written by one thread only.
class Tally {
  public:
    void add(std::uint64_t n = 1) {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }
    void reset() { v_.store(0, std::memory_order_relaxed); }  // by its writing thread

  private:
    std::atomic<std::uint64_t> v_{0};
};

// Events per second, as HAProxy's frequency counters: the count of the current second plus the
// previous second's, weighted by what is left of the current one. Written by one thread, which
// passes its clock (whole seconds and the fraction); read by any.
class PerSecond {
  public:
    void add(std::uint32_t sec) {
        const std::uint32_t at = sec_.load(std::memory_order_relaxed);
        if (at != sec) roll(at, sec);
        curr_.store(curr_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    // The rate at `now` (seconds since the epoch, with fraction).
    std::uint32_t rate(double now) const;
    // The highest rate of a whole second seen so far, this one included.
    std::uint32_t max(double now) const {
        return std::max(max_.load(std::memory_order_relaxed), rate(now));
    }
    // `clear counters`: the maximum; `all`: the counts too. By the writing thread.
    void reset(bool all);

  private:
    void roll(std::uint32_t at, std::uint32_t sec);
    std::atomic<std::uint32_t> sec_{0}, curr_{0}, prev_{0}, max_{0};
};

// A gauge's highest value (smax, qmax), shared by every thread: written only when exceeded.
inline void raise_max(std::atomic<std::uint32_t>& max, std::uint32_t value) {
    std::uint32_t seen = max.load(std::memory_order_relaxed);
    while (value > seen && !max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
}

// Times of the exchanges with servers, in milliseconds: a running average over the last 1,024
// (HAProxy's qtime/ctime/rtime/ttime), the maximum, and a histogram (Sluice's addition, for
// percentiles and Prometheus).
class Timing {
  public:
    // Upper bounds of the buckets, in ms; the last bucket is everything above.
    static constexpr std::array<std::uint32_t, 15> kBounds = {
        1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
    static constexpr std::size_t kBuckets = kBounds.size() + 1;
    static constexpr std::uint32_t kWindow = 1024;

    void add(std::uint32_t ms);
    std::uint64_t count() const { return count_.get(); }
    std::uint64_t sum_ms() const { return sum_.get(); }
    std::uint32_t max_ms() const { return max_.load(std::memory_order_relaxed); }
    double average() const { return avg_.load(std::memory_order_relaxed); }
    std::uint64_t bucket(std::size_t i) const { return buckets_[i].get(); }
    void reset(bool all);  // as PerSecond::reset

  private:
    Tally count_, sum_;
    std::atomic<double> avg_{0};
    std::atomic<std::uint32_t> max_{0};
    std::array<Tally, kBuckets> buckets_;
};

enum class TimingKind : std::uint8_t { Queue, Connect, Response, Total };
inline constexpr std::size_t kTimingKinds = 4;

// One thread's counts for one proxy (frontend or backend side) or server.
struct Counts {
    Tally sessions;                  // stot
    Tally connections;               // conn_tot (frontends: accepted, refused ones too)
    Tally bytes_in;                  // bin: from clients
    Tally bytes_out;                 // bout: to clients
    Tally denied_requests;           // dreq
    Tally denied_responses;          // dresp
    Tally denied_conns;              // dcon: tcp-request connection
    Tally denied_sessions;           // dses: tcp-request session
    Tally requests;                  // req_tot
    Tally intercepted;               // answered by the proxy itself (redirect, return, monitor...)
    std::array<Tally, 6> responses;  // hrsp_1xx..hrsp_5xx, hrsp_other
    Tally balanced;                  // lbtot: chosen by the balance algorithm
    Tally new_conns;                 // connect: new connections to servers
    Tally reused_conns;              // reuse: idle connections reused
    Tally redispatches;              // wredis
    PerSecond session_rate, connection_rate, request_rate;
    std::atomic<std::int64_t> last_session{0};  // lastsess: unix time, 0 never
    std::array<Timing, kTimingKinds> timings;

    void response(unsigned status) {
        const unsigned klass = status / 100;
        responses[klass >= 1 && klass <= 5 ? klass - 1 : 5].add();
    }
    Timing& timing(TimingKind k) { return timings[static_cast<std::size_t>(k)]; }
    // `clear counters [all]` (by the thread that writes the block).
    void reset(bool all);
    const Timing& timing(TimingKind k) const { return timings[static_cast<std::size_t>(k)]; }
};

// Each thread's block of an object, each on its own cache lines.
class PerThreadCounts {
  public:
    void init(std::uint32_t threads) {
        blocks_ = std::make_unique<Block[]>(threads);
        n_ = threads;
    }
    Counts& at(std::uint32_t thread) { return blocks_[thread].counts; }
    const Counts& at(std::uint32_t thread) const { return blocks_[thread].counts; }
    std::uint32_t threads() const { return n_; }
    // The sum of one tally over the threads.
    std::uint64_t sum(Tally Counts::*which) const {
        std::uint64_t n = 0;
        for (std::uint32_t t = 0; t < n_; ++t)
            n += (blocks_[t].counts.*which).get();
        return n;
    }

    // Max values the stats show (smax, qmax), shared by every thread.
    std::atomic<std::uint32_t> max_conns{0}, max_queued{0};
    void reset_max() {
        max_conns.store(0, std::memory_order_relaxed);
        max_queued.store(0, std::memory_order_relaxed);
    }

  private:
    struct alignas(64) Block {
        Counts counts;
    };
    std::unique_ptr<Block[]> blocks_;
    std::uint32_t n_ = 0;
};

}  // namespace sluice::proxy
