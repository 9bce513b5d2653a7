// Where hashing algorithms find a request's key (`balance source|uri|url_param|hdr|rdp-cookie|
// hash`) and how it is hashed (`hash-type`).
#pragma once

#include <memory>

#include "sluice/lb/balance.hpp"
#include "sluice/sample/sample.hpp"

namespace sluice::lb {

class KeySource {
  public:
    KeySource(const BalanceConf& conf, const HashType& type) : conf_(conf), type_(type) {}
    // False when the request has no key (the balancer then goes round robin).
    bool hash(sample::Context& ctx, std::uint32_t& out) const;

  private:
    bool key_bytes(sample::Context& ctx, std::string_view& key,
                   std::array<std::uint8_t, 16>& scratch) const;
    BalanceConf conf_;
    HashType type_;
};

// Null for algorithms that do not hash a key.
std::unique_ptr<KeySource> make_key_source(const BalanceConf& conf, const HashType& type);

// The part of a request target `balance uri` hashes, as its options say.
std::string_view uri_key(std::string_view target, const BalanceConf& conf);
// `hdr(name) use_domain_only`: the domain's own label ("1wt" of "haproxy.1wt.eu:80").
std::string_view domain_only(std::string_view host);

}  // namespace sluice::lb
