// A backend's servers are balanced in two tiers: the active servers, and the backups, used
// only when no active server is usable. Each algorithm balances one tier; the backup tier is
// the first usable backup alone unless `option allbackups` spreads the load over all of them
// with the backend's algorithm.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "sluice/proxy/runtime.hpp"

namespace sluice::lb {

class Tier {
  public:
    explicit Tier(std::vector<proxy::Server*> servers) : servers_(std::move(servers)) {}
    virtual ~Tier() = default;
    Tier(const Tier&) = delete;
    Tier& operator=(const Tier&) = delete;

    // A server with a slot reserved; else all_full when usable servers exist but none has
    // room; else nothing (no usable server in this tier).
    virtual proxy::Pick pick(const proxy::PickRequest& request) = 0;
    virtual void load_changed(proxy::Server&) {}
    virtual void server_changed(proxy::Server&) {}
    const std::vector<proxy::Server*>& servers() const { return servers_; }

  protected:
    std::vector<proxy::Server*> servers_;
};

// A server's connections (plus `extra`) relative to its effective weight, in units of
// kLoadUnit per connection at weight 1: how leastconn, random's draws and the bounded loads of
// consistent hashing compare servers.
constexpr std::uint64_t kLoadUnit = 65536;
inline std::uint64_t relative_load(const proxy::Server& s, std::uint32_t extra = 0) {
    const std::uint32_t w = std::max<std::uint32_t>(1, s.effective_weight());
    return (static_cast<std::uint64_t>(s.cur_conns.load(std::memory_order_relaxed)) + extra) *
           kLoadUnit * proxy::Server::kWeightScale / w;
}

// True when `s` has no free slot under its current limit (Server::limit()).
inline bool full(const proxy::Server& s) {
    const std::uint32_t max = s.limit();
    return max > 0 && s.cur_conns.load(std::memory_order_relaxed) >= max;
}

// Reserves a slot on `s` for a pick: {s} when it has room, else all_full.
inline proxy::Pick reserve(proxy::Server* s) {
    if (s->try_reserve()) return {s, false};
    return {nullptr, true};
}

// Reserves a slot on `s`, the only server the request may use: when it is full, the request
// waits in that server's queue.
inline proxy::Pick reserve_bound(proxy::Server* s) {
    if (s->try_reserve()) return {s, false};
    return {nullptr, true, s};
}

}  // namespace sluice::lb
