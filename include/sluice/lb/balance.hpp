// What `balance` says beyond the algorithm's name, kept in the backend section's Parts, and
// the building of a backend's balancer from it.
#pragma once

#include <memory>
#include <string>

#include "sluice/lb/hash.hpp"
#include "sluice/lb/tier.hpp"
#include "sluice/sample/expr.hpp"

namespace sluice::lb {

struct BalanceConf {
    // Hashing algorithms: where the request's key comes from.
    enum class Key : std::uint8_t { None, Source, Uri, UrlParam, Header, RdpCookie, Expr };
    Key key = Key::None;
    std::shared_ptr<const sample::Expr> expr;  // the fetch giving the key
    std::shared_ptr<const sample::Expr> post;  // url_param check_post: the body's parameter
    // uri
    bool uri_whole = false, uri_path_only = false;
    std::uint32_t uri_len = 0, uri_depth = 0;
    bool use_domain_only = false;  // hdr()
    std::uint32_t draws = 2;       // random(<draws>)
    bool all_backups = false;      // option allbackups
};

// The algorithm of a tier, as each algorithm registers it (see algorithm.hpp).
using TierMaker = std::unique_ptr<Tier> (*)(std::vector<proxy::Server*> servers,
                                            const BalanceConf& conf, const HashType& hash);

// Tiers of the hashing algorithms (hashed.cpp): a key goes to the server the `hash-type`
// table says; without a key, round robin. And `random(<draws>)`.
std::unique_ptr<Tier> make_hash_tier(std::vector<proxy::Server*> servers, const BalanceConf& conf,
                                     const HashType& hash);
std::unique_ptr<Tier> make_random_tier(std::vector<proxy::Server*> servers, const BalanceConf& conf,
                                       const HashType& hash);
std::unique_ptr<Tier> make_roundrobin_tier(std::vector<proxy::Server*> servers,
                                           const BalanceConf& conf, const HashType& hash);

// The balancer of `backend` for the algorithm named `algorithm` (registered), with its tiers
// and, for hashing algorithms, the request's key.
std::unique_ptr<proxy::Balancer> make_balancer(proxy::Backend& backend, std::string_view algorithm,
                                               const BalanceConf& conf, const HashType& hash);

}  // namespace sluice::lb
