// Cost of picking a server (and giving the slot back), the one shared-state operation every
// new connection performs, per balance algorithm, with 2 to 1,000 servers in the backend: it
// should stay flat as the farm grows.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "sluice/core/buffer.hpp"
#include "sluice/lb/balance.hpp"

namespace {

using namespace sluice;

struct Farm {
    proxy::Backend be;
    std::unique_ptr<proxy::Balancer> balancer;
    Farm(std::string_view algorithm, std::int64_t servers, bool consistent) {
        for (std::int64_t i = 0; i < servers; ++i) {
            auto s = std::make_unique<proxy::Server>();
            s->name = fmt::format("s{}", i);
            s->options.weight = static_cast<std::uint32_t>(1 + i % 3);
            s->weight.store(s->options.weight);
            s->puid = static_cast<std::uint32_t>(i + 1);
            s->backend = &be;
            be.servers.append(s);
        }
        lb::HashType ht;
        ht.consistent = consistent;
        ht.avalanche = consistent;
        balancer = lb::make_balancer(be, algorithm, lb::BalanceConf{}, ht);
    }
};

void pick_loop(benchmark::State& state, std::string_view algorithm, bool hashed, bool consistent) {
    Farm farm(algorithm, state.range(0), consistent);
    std::uint32_t key = 0;
    for (auto _ : state) {
        key += 0x9e3779b9u;
        proxy::Pick p = farm.balancer->pick(proxy::PickRequest{nullptr, hashed, key});
        benchmark::DoNotOptimize(p.server);
        p.server->release();
        farm.balancer->load_changed(*p.server);
    }
}

void BM_RoundRobin(benchmark::State& s) {
    pick_loop(s, "roundrobin", false, false);
}
void BM_StaticRr(benchmark::State& s) {
    pick_loop(s, "static-rr", false, false);
}
void BM_LeastConn(benchmark::State& s) {
    pick_loop(s, "leastconn", false, false);
}
void BM_First(benchmark::State& s) {
    pick_loop(s, "first", false, false);
}
void BM_Random(benchmark::State& s) {
    pick_loop(s, "random", false, false);
}
void BM_HashMapBased(benchmark::State& s) {
    pick_loop(s, "source", true, false);
}
void BM_HashConsistent(benchmark::State& s) {
    pick_loop(s, "source", true, true);
}

#define FARM_SIZES Arg(2)->Arg(16)->Arg(128)->Arg(1000)
BENCHMARK(BM_RoundRobin)->FARM_SIZES;
BENCHMARK(BM_StaticRr)->FARM_SIZES;
BENCHMARK(BM_LeastConn)->FARM_SIZES;
BENCHMARK(BM_First)->FARM_SIZES;
BENCHMARK(BM_Random)->FARM_SIZES;
BENCHMARK(BM_HashMapBased)->FARM_SIZES;
BENCHMARK(BM_HashConsistent)->FARM_SIZES;

void BM_BufferTakeRelease(benchmark::State& state) {
    core::BufferPool pool(16384);
    for (auto _ : state) {
        core::Buffer b = core::Buffer::take(pool);
        benchmark::DoNotOptimize(b.writable().data());
    }
}
BENCHMARK(BM_BufferTakeRelease);

}  // namespace
