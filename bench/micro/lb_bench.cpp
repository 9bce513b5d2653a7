// Cost of picking a server with balance roundrobin, the one shared-state operation every new
// connection performs (an atomic increment plus a scan of the schedule).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "sluice/core/buffer.hpp"
#include "sluice/lb/roundrobin.hpp"

namespace {

using namespace sluice;

void BM_RoundRobinPick(benchmark::State& state) {
    proxy::Backend be;
    for (int i = 0; i < state.range(0); ++i) {
        auto s = std::make_unique<proxy::Server>();
        s->name = fmt::format("s{}", i);
        s->options.weight = static_cast<std::uint32_t>(1 + i % 3);
        s->backend = &be;
        be.servers.push_back(std::move(s));
    }
    lb::RoundRobin rr(be);
    for (auto _ : state) {
        proxy::Pick p = rr.pick(nullptr);
        benchmark::DoNotOptimize(p.server);
        p.server->release();
    }
}
BENCHMARK(BM_RoundRobinPick)->Arg(2)->Arg(16)->Arg(128);

void BM_BufferTakeRelease(benchmark::State& state) {
    core::BufferPool pool(16384);
    for (auto _ : state) {
        core::Buffer b = core::Buffer::take(pool);
        benchmark::DoNotOptimize(b.writable().data());
    }
}
BENCHMARK(BM_BufferTakeRelease);

}  // namespace
