// balance roundrobin and static-rr (see roundrobin.hpp).
#include "sluice/lb/roundrobin.hpp"

#include <numeric>

#include "sluice/lb/algorithm.hpp"

namespace sluice::lb {

std::vector<std::uint32_t> smooth_schedule(const std::vector<std::uint32_t>& weights) {
    std::int64_t total = 0;
    for (std::uint32_t w : weights)
        total += w;
    std::vector<std::int64_t> current(weights.size(), 0);
    std::vector<std::uint32_t> order;
    order.reserve(static_cast<std::size_t>(total));
    for (std::int64_t step = 0; step < total; ++step) {
        std::size_t best = 0;
        for (std::size_t i = 0; i < weights.size(); ++i) {
            current[i] += weights[i];
            if (current[i] > current[best]) best = i;
        }
        current[best] -= total;
        order.push_back(static_cast<std::uint32_t>(best));
    }
    return order;
}

RoundRobinTier::RoundRobinTier(std::vector<proxy::Server*> servers, bool dynamic_weights)
    : Tier(std::move(servers)), dynamic_(dynamic_weights) {
    schedule_.rebuild([&] { return build(); });
}

RoundRobinTier::Schedule RoundRobinTier::build() const {
    std::vector<std::uint32_t> weights;
    for (proxy::Server* s : servers_)
        weights.push_back(dynamic_ ? s->effective_weight() : s->options.weight);
    // Effective weights are scaled (a warming server's share is a fraction of its weight):
    // the schedule's length is the sum of the reduced weights.
    std::uint32_t g = 0;
    for (std::uint32_t w : weights)
        g = std::gcd(g, w);
    if (g > 1)
        for (std::uint32_t& w : weights)
            w /= g;
    Schedule schedule;
    for (std::uint32_t i : smooth_schedule(weights))
        schedule.push_back(servers_[i]);
    return schedule;
}

void RoundRobinTier::server_changed(proxy::Server&) {
    // Down and drained servers are skipped when picking; only a new weight changes the
    // schedule, and only for `roundrobin`.
    if (dynamic_) schedule_.rebuild([&] { return build(); });
}

proxy::Pick RoundRobinTier::pick(const proxy::PickRequest& request) {
    proxy::Pick result;
    const auto schedule = schedule_.get();
    const std::size_t n = schedule->size();
    if (n == 0) return result;
    const std::uint64_t start = position_.fetch_add(1, std::memory_order_relaxed);
    proxy::Server* fallback = nullptr;  // `avoid`, if nothing else is usable
    for (std::size_t i = 0; i < n; ++i) {
        proxy::Server* s = (*schedule)[(start + i) % n];
        if (!s->usable()) continue;
        if (s == request.avoid) {
            if (!fallback) fallback = s;
            continue;
        }
        if (s->try_reserve()) {
            // Move the shared position past the entries skipped, so that a down server's turns
            // are spread over the others instead of all going to its successor.
            if (i > 0) position_.fetch_add(i, std::memory_order_relaxed);
            return {s, false};
        }
        result.all_full = true;
    }
    if (fallback) {
        if (fallback->try_reserve()) return {fallback, false};
        result.all_full = true;
    }
    return result;
}

std::unique_ptr<Tier> make_roundrobin_tier(std::vector<proxy::Server*> servers, const BalanceConf&,
                                           const HashType&) {
    return std::make_unique<RoundRobinTier>(std::move(servers), true);
}

namespace {
std::unique_ptr<Tier> make_static_rr(std::vector<proxy::Server*> servers, const BalanceConf&,
                                     const HashType&) {
    return std::make_unique<RoundRobinTier>(std::move(servers), false);
}
constexpr AlgorithmDef kAlgorithms[] = {
    {.name = "roundrobin", .make = make_roundrobin_tier},
    {.name = "static-rr", .make = make_static_rr, .static_weights = true},
};
const Registrar kRegistered{kAlgorithms};
}  // namespace

}  // namespace sluice::lb
