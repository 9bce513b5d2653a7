// Weighted round robin over a precomputed schedule (smooth interleaving: weights 1 and 3 give
// b a b b ..., never a a a b). One atomic position shared by all threads, so the spread is exact
// whatever thread a connection lands on. Weight changes at run time (issue #7) will build a new
// schedule and swap it in.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "sluice/proxy/runtime.hpp"

namespace sluice::lb {

// The order in which servers of these weights are visited over one cycle (indices into
// `weights`); zero weights never appear. Smooth weighted round robin.
std::vector<std::uint32_t> smooth_schedule(const std::vector<std::uint32_t>& weights);

class RoundRobin final : public proxy::Balancer {
  public:
    explicit RoundRobin(proxy::Backend& backend);
    proxy::Pick pick(const proxy::Server* avoid) override;

  private:
    proxy::Pick pick_active(const proxy::Server* avoid);

    std::vector<proxy::Server*> active_;   // schedule over non-backup servers
    std::vector<proxy::Server*> backups_;  // in declaration order: the first usable one serves
    std::atomic<std::uint64_t> position_{0};
};

}  // namespace sluice::lb
