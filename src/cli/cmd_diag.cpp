// The runtime API's diagnostics: `show activity`, `show threads`, `show pools` and `show schema
// json`, in HAProxy 2.6's layouts, from what each loop counts about itself (core/activity.hpp).
// Only what Sluice has a notion for is printed (doc/differences.md says what is left out).
#include <pthread.h>
#include <sys/time.h>

#include <ctime>
#include <map>

#include "session.hpp"
#include "sluice/cli/diag.hpp"
#include "sluice/core/loop.hpp"

namespace sluice::cli {
namespace {

std::span<const std::unique_ptr<core::Loop>> loops() {
    const core::Runtime* rt = core::Runtime::current();
    if (!rt) return {};
    return rt->loops();
}

// The loop running this command (the CLI's), from 0; -1 when none is known.
int current_thread(std::span<const std::unique_ptr<core::Loop>> all) {
    const auto self = static_cast<std::uintptr_t>(pthread_self());
    for (const auto& l : all)
        if (l->activity().thread_id.load(std::memory_order_relaxed) == self) return l->index();
    return -1;
}

void cmd_show_activity(Ctx& ctx) {
    const auto all = loops();
    const int current = current_thread(all);
    ctx.printf("thread_id: {} (1..{})\n", current + 1, all.size());
    timeval tv{};
    gettimeofday(&tv, nullptr);
    ctx.printf("date_now: {}.{:06}\n", tv.tv_sec, tv.tv_usec);
    std::vector<std::uint64_t> v(all.size());
    auto line = [&](std::string_view key, auto&& of, bool average = false) {
        for (std::size_t i = 0; i < all.size(); ++i)
            v[i] = of(all[i]->activity(), *all[i]);
        activity_line(ctx.out, key, v, average);
    };
    using A = const core::Activity&;
    using L = const core::Loop&;
    line("ctxsw", [](A a, L) { return a.events.get(); });
    line("tasksw", [](A a, L) { return a.tasks.get(); });
    line("empty_rq", [](A a, L) { return a.empty_loops.get(); });
    line("long_rq", [](A a, L) { return a.long_loops.get(); });
    line("loops", [](A a, L) { return a.loops.get(); });
    line("wake_tasks", [](A a, L) { return a.wakes.get(); });
    line("wake_signal", [](A a, L) { return a.signals.get(); });
    line("poll_io", [](A a, L) { return a.busy_loops.get(); });
    line("pool_fail", [](A, L l) { return l.buffers().stats().failures.get(); });
    const auto loop_us = [](A a, L) { return (a.loop_ns.average() + 500) / 1000; };
    line("avg_loop_us", loop_us, true);
    line("accepted", [](A a, L) { return a.accepted.get(); });
    // Each thread accepts the connections it serves: none is handed over to another thread.
    line("accq_pushed", [](A a, L) { return a.accepted.get(); });
}

// What the previous `show threads` saw of each loop's iterations, to mark the threads that
// made no progress since ('>'). Only the CLI's loop runs the command.
std::vector<std::uint64_t>& seen_loops() {
    static std::vector<std::uint64_t> seen;
    return seen;
}

std::uint64_t thread_cpu_ns(std::uintptr_t id) {
    if (!id) return 0;
    clockid_t clock;
    if (pthread_getcpuclockid(static_cast<pthread_t>(id), &clock) != 0) return 0;
    timespec ts{};
    if (clock_gettime(clock, &ts) != 0) return 0;
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

void cmd_show_threads(Ctx& ctx) {
    const auto all = loops();
    const int current = current_thread(all);
    auto& seen = seen_loops();
    seen.resize(all.size(), ~std::uint64_t{0});
    for (std::size_t i = 0; i < all.size(); ++i) {
        const core::Activity& a = all[i]->activity();
        ThreadLine t;
        t.number = static_cast<int>(i) + 1;
        t.count = static_cast<int>(all.size());
        t.current = static_cast<int>(i) == current;
        t.id = a.thread_id.load(std::memory_order_relaxed);
        t.handling = a.handling.load(std::memory_order_relaxed);
        t.mailbox = a.mailbox_queued.load(std::memory_order_relaxed) > 0;
        t.events = a.iteration_events.load(std::memory_order_relaxed);
        const std::uint64_t iterations = a.loops.get();
        t.stuck = !t.current && t.handling && iterations == seen[i];
        seen[i] = iterations;
        t.cpu_ns = thread_cpu_ns(t.id);
        format_thread(ctx.out, t);
    }
}

void cmd_show_pools(Ctx& ctx) {
    // Every thread's pools of one kind make one line, as HAProxy's pools are process-wide.
    std::map<std::string_view, PoolLine> by_name;
    core::PoolStats::each([&](const core::PoolStats& p) {
        PoolLine& line = by_name[p.name];
        if (line.name.empty()) {
            line.name = std::string(p.name);
            line.block_size = p.block_size;
            line.address = reinterpret_cast<std::uintptr_t>(&p);
        }
        // in_use may have wrapped on a thread that freed another's blocks: the sum is right.
        line.used += p.in_use.get() + p.cached.get();
        line.cached += p.cached.get();
        line.failures += p.failures.get();
        line.needed_avg += p.needed.average();
    });
    std::vector<PoolLine> lines;
    for (auto& [name, line] : by_name) {
        line.allocated = line.used;
        lines.push_back(std::move(line));
    }
    format_pools(ctx.out, std::move(lines));
}

void cmd_show_schema(Ctx& ctx) {
    ctx.print(stats_json_schema());
    ctx.print("\n");
}

constexpr Command kCommands[] = {
    {.words = "show activity",
     .usage = "show activity",
     .help = "show each thread's loop counters (for support and developers)",
     .run = cmd_show_activity},
    {.words = "show threads",
     .usage = "show threads",
     .help = "show what each thread is doing now",
     .run = cmd_show_threads},
    {.words = "show pools",
     .usage = "show pools",
     .help = "show the memory pools' usage",
     .run = cmd_show_pools},
    {.words = "show schema json",
     .usage = "show schema json",
     .help = "show the JSON schema of 'show info json' and 'show stat json'",
     .run = cmd_show_schema},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
