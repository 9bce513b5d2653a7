// Weighted round robin over a precomputed schedule (smooth interleaving: weights 1 and 3 give
// b a b b ..., never a a a b). One atomic position shared by all threads, so the spread is exact
// whatever thread a connection lands on. `roundrobin` rebuilds the schedule when a server's
// weight changes (agent checks, the runtime API); `static-rr` keeps the configured weights.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "sluice/lb/snapshot.hpp"
#include "sluice/lb/tier.hpp"

namespace sluice::lb {

// The order in which servers of these weights are visited over one cycle (indices into
// `weights`); zero weights never appear. Smooth weighted round robin.
std::vector<std::uint32_t> smooth_schedule(const std::vector<std::uint32_t>& weights);

class RoundRobinTier final : public Tier {
  public:
    RoundRobinTier(std::vector<proxy::Server*> servers, bool dynamic_weights);
    proxy::Pick pick(const proxy::PickRequest& request) override;
    void server_changed(proxy::Server&) override;

  private:
    using Schedule = std::vector<proxy::Server*>;
    Schedule build() const;

    Snapshot<Schedule> schedule_;
    std::atomic<std::uint64_t> position_{0};
    bool dynamic_;
};

}  // namespace sluice::lb
