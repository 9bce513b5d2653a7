// `show info`: the process's values, at HAProxy 2.6's positions.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>

#include "sluice/cli/server.hpp"
#include "sluice/core/activity.hpp"
#include "sluice/log/logger.hpp"
#include "sluice/stats/stats.hpp"
#include "sluice/util/build.hpp"
#include "sluice/util/build_info.hpp"

namespace sluice::stats {
namespace {

std::atomic<double> g_start{0};

double wall_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The share of time the threads were not running, since the previous question (HAProxy's
// Idle_pct is its loops' idle time; CPU time against wall time says the same).
std::uint32_t idle_percent(std::uint32_t threads) {
    static std::mutex mutex;
    static double last_wall = 0, last_cpu = 0;
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const double wall = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    std::lock_guard lock(mutex);
    double busy = 0;
    if (last_wall > 0 && wall > last_wall)
        busy = (cpu - last_cpu) / ((wall - last_wall) * std::max<std::uint32_t>(threads, 1));
    last_wall = wall;
    last_cpu = cpu;
    const double idle = 100.0 * (1.0 - std::clamp(busy, 0.0, 1.0));
    return static_cast<std::uint32_t>(idle + 0.5);
}

std::string uptime_text(std::uint64_t s) {
    return fmt::format("{}d {}h{:02}m{:02}s", s / 86400, (s / 3600) % 24, (s / 60) % 60, s % 60);
}

class InfoBuilder {
  public:
    explicit InfoBuilder(std::vector<Value>& v) : v_(v) { v_.resize(info_fields().size()); }
    void u(std::size_t pos, std::uint64_t x) { at(pos).u = x; }
    void s(std::size_t pos, std::string x) { at(pos).s = std::move(x); }

  private:
    Value& at(std::size_t pos) {
        Value& x = v_[pos];
        x.set = true;
        x.type = info_fields()[pos].type;
        return x;
    }
    std::vector<Value>& v_;
};

}  // namespace

void set_process_start(double unix_time) {
    g_start.store(unix_time);
}

std::uint32_t proxy_id_base(const proxy::Config& config) {
    return config.doc.global.read<cli::CliConf>().sockets.empty() ? 0 : 1;
}

Process process_now(const proxy::Config& config) {
    Process p;
    p.now = wall_now();
    p.start = g_start.load();
    if (p.start == 0) p.start = p.now;
    // HAProxy numbers its CLI's own proxy first when a stats socket is configured.
    p.proxy_id_base = proxy_id_base(config);
    p.node = config.global.node;
    if (p.node.empty()) {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) == 0) p.node = host;
    }
    p.description = config.global.description;
    p.idle_pct = idle_percent(config.nbthread);
    return p;
}

std::vector<Value> info(const proxy::Config& config, const Process& p) {
    std::vector<Value> values;
    InfoBuilder b(values);
    std::uint64_t conns = 0, requests = 0, bytes_out = 0;
    std::uint32_t conn_rate = 0, conn_rate_max = 0, sess_rate = 0, sess_rate_max = 0;
    std::size_t listeners = 0;
    for (const auto& fe : config.frontends) {
        const proxy::PerThreadCounts& c = fe->counts;
        conns += c.sum(&proxy::Counts::connections);
        requests += c.sum(&proxy::Counts::requests);
        bytes_out += c.sum(&proxy::Counts::bytes_out);
        for (std::uint32_t t = 0; t < c.threads(); ++t) {
            conn_rate += c.at(t).connection_rate.rate(p.now);
            conn_rate_max += c.at(t).connection_rate.max(p.now);
            sess_rate += c.at(t).session_rate.rate(p.now);
            sess_rate_max += c.at(t).session_rate.max(p.now);
        }
        listeners += fe->listeners.size();
    }
    rlimit nofile{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    const auto up = static_cast<std::uint64_t>(std::max(0.0, p.now - p.start));
    const std::uint32_t cur = config.cur_conns.load(std::memory_order_relaxed);
    // HAProxy's name, so that tools keyed on it work; Version says which one this is.
    b.s(0, "HAProxy");
    b.s(1, std::string(build::version()));
    b.s(2, std::string(build::kDate));
    b.u(3, config.nbthread);
    b.u(4, 1);
    b.u(5, 1);
    b.u(6, static_cast<std::uint64_t>(::getpid()));
    b.s(7, uptime_text(up));
    b.u(8, up);
    b.u(9, 0);  // Memmax_MB: no memory limit (-m) in sluice
    // The pools of `show pools`: every thread's buffers and stream blocks.
    std::uint64_t pool_allocated = 0, pool_used = 0, pool_failed = 0;
    core::PoolStats::each([&](const core::PoolStats& ps) {
        // One thread may count below zero (blocks of another freed there at exit): the sum,
        // modulo 2^64, is right.
        const std::uint64_t blocks = ps.in_use.get() + ps.cached.get();
        pool_allocated += blocks * ps.block_size;
        pool_failed += ps.failures.get();
    });
    pool_used = pool_allocated;  // as `show pools`: blocks kept by thread caches count as used
    b.u(10, pool_allocated >> 20);
    b.u(11, pool_used >> 20);
    b.u(12, pool_failed);
    b.u(13, nofile.rlim_cur);
    b.u(14, nofile.rlim_cur);
    b.u(15, config.maxconn);
    b.u(16, config.maxconn);
    b.u(17, cur);
    b.u(18, conns);
    b.u(19, requests);
    for (std::size_t pos = 20; pos <= 25; ++pos)
        b.u(pos, 0);  // TLS comes later; splice pipes are not pooled
    b.u(26, conn_rate);
    b.u(27, 0);
    b.u(28, conn_rate_max);
    b.u(29, sess_rate);
    b.u(30, 0);
    b.u(31, sess_rate_max);
    for (std::size_t pos = 32; pos <= 44; ++pos)
        b.u(pos, 0);           // TLS, compression: not in sluice yet
    b.u(47, cur + listeners);  // Tasks: a stream per connection, a task per listener
    b.u(48, 0);
    b.u(49, p.idle_pct);
    b.s(50, p.node);
    if (!p.description.empty()) b.s(51, p.description);
    b.u(52, p.stopping ? 1 : 0);
    b.u(53, cur + listeners);
    b.u(54, 0);
    b.u(55, listeners);
    for (std::size_t pos = 56; pos <= 60; ++pos)
        b.u(pos, 0);  // peers, busy polling, resolvers: not in sluice yet
    b.u(58, log::dropped());
    b.u(61, bytes_out);
    b.u(62, 0);
    b.u(63, 0);
    b.u(64, 0);
    b.u(65, 0);
    b.s(66, std::string(build::version()));
    b.u(67, 0);
    b.u(68, pool_allocated);
    b.u(69, pool_used);
    b.u(70, static_cast<std::uint64_t>(p.start));
    b.s(71, "0");
    return values;
}

}  // namespace sluice::stats
