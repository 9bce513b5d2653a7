// A backend's servers are balanced in two tiers: the active servers, and the backups, used
// only when no active server is usable. Each algorithm balances one tier; the backup tier is
// the first usable backup alone unless `option allbackups` spreads the load over all of them
// with the backend's algorithm.
#pragma once

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

// Reserves a slot on `s` for a pick: {s} when it has room, else all_full.
inline proxy::Pick reserve(proxy::Server* s) {
    if (s->try_reserve()) return {s, false};
    return {nullptr, true};
}

}  // namespace sluice::lb
