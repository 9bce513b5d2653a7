// Balance algorithms behind one interface (proxy::Balancer). Each algorithm registers itself
// with its name; the `balance` keyword and lb::install() look it up here.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "sluice/cfg/keyword.hpp"
#include "sluice/lb/balance.hpp"
#include "sluice/proxy/runtime.hpp"

namespace sluice::lb {

struct AlgorithmDef {
    std::string_view name;
    // Options after the name (`balance hdr(host)`, `balance url_param x`): validated at parse
    // and kept in `conf`. `arg`: what is between parentheses after the name ("" if none).
    cfg::Status (*parse)(std::string_view arg, cfg::Args args, cfg::Ctx& ctx,
                         BalanceConf& conf) = nullptr;
    TierMaker make = nullptr;
    bool takes_parenthesis = false;  // `hdr(name)`, `random(draws)`, `rdp-cookie(name)`
    // Weights are fixed once running (static-rr): no `add server` (HAProxy's "non dynamic").
    bool static_weights = false;
    std::string_view pending = {};  // not implemented yet: what brings it
};

class Registrar {
  public:
    explicit Registrar(std::span<const AlgorithmDef> algorithms);
};

const AlgorithmDef* find_algorithm(std::string_view name);
std::vector<std::string_view> algorithm_names();

// Gives every backend of `config` the balancer its `balance` line asks for.
void install(proxy::Config& config);
// A new balancer for `be` from its servers now (one was added or removed); the replaced one is
// returned, to be freed once no loop can be picking with it.
std::unique_ptr<proxy::Balancer> rebuild(proxy::Backend& be);
// Whether the runtime API may add servers to `be`: its algorithm adapts to any server set
// (not static-rr, not a map-based hash).
bool takes_dynamic_servers(const proxy::Backend& be);

}  // namespace sluice::lb
