// balance roundrobin (see roundrobin.hpp).
#include "sluice/lb/roundrobin.hpp"

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

RoundRobin::RoundRobin(proxy::Backend& backend) {
    std::vector<proxy::Server*> active;
    std::vector<std::uint32_t> weights;
    for (auto& s : backend.servers) {
        if (s->options.backup) {
            backups_.push_back(s.get());
        } else {
            active.push_back(s.get());
            weights.push_back(s->options.weight);
        }
    }
    for (std::uint32_t i : smooth_schedule(weights))
        active_.push_back(active[i]);
}

proxy::Pick RoundRobin::pick_active(const proxy::Server* avoid) {
    proxy::Pick result;
    const std::size_t n = active_.size();
    if (n == 0) return result;
    const std::uint64_t start = position_.fetch_add(1, std::memory_order_relaxed);
    proxy::Server* fallback = nullptr;  // `avoid`, if nothing else is usable
    for (std::size_t i = 0; i < n; ++i) {
        proxy::Server* s = active_[(start + i) % n];
        if (!s->usable()) continue;
        if (s == avoid) {
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

proxy::Pick RoundRobin::pick(const proxy::Server* avoid) {
    proxy::Pick p = pick_active(avoid);
    if (p.server || p.all_full) return p;
    // No active server usable: the first usable backup takes everything (HAProxy without
    // `option allbackups`).
    for (proxy::Server* s : backups_) {
        if (!s->usable()) continue;
        if (s->try_reserve()) return {s, false};
        return {nullptr, true};
    }
    return {};
}

namespace {
std::unique_ptr<proxy::Balancer> make_roundrobin(proxy::Backend& backend) {
    return std::make_unique<RoundRobin>(backend);
}
constexpr AlgorithmDef kAlgorithms[] = {{.name = "roundrobin", .make = make_roundrobin}};
const Registrar kRegistered{kAlgorithms};
}  // namespace

}  // namespace sluice::lb
