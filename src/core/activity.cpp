// The registry of pool figures and the reset of a loop's activity.
#include "sluice/core/activity.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace sluice::core {
namespace {

struct Registry {
    std::mutex mu;
    std::vector<PoolStats*> pools;
};
Registry& registry() {
    static Registry r;  // function-local: no init-order trap with thread_local caches
    return r;
}

}  // namespace

void Activity::reset() {
    for (Count* c : {&loops, &events, &busy_loops, &empty_loops, &long_loops, &wakes, &tasks,
                     &signals, &accepted})
        c->set(0);
    loop_ns.reset();
}

void PoolStats::register_pool(PoolStats* p) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    r.pools.push_back(p);
}

void PoolStats::unregister_pool(PoolStats* p) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    r.pools.erase(std::remove(r.pools.begin(), r.pools.end(), p), r.pools.end());
}

void PoolStats::each(const std::function<void(const PoolStats&)>& f) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    for (const PoolStats* p : r.pools)
        f(*p);
}

}  // namespace sluice::core
