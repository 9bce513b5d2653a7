// The hashing algorithms' tiers (`balance source|uri|url_param|hdr|rdp-cookie|hash`, keys in
// keys.cpp) and `balance random`, over the tables of hash.cpp.
#include <random>

#include "sluice/lb/algorithm.hpp"
#include "sluice/lb/roundrobin.hpp"
#include "sluice/lb/snapshot.hpp"

namespace sluice::lb {
namespace {

class HashTier final : public Tier {
  public:
    HashTier(std::vector<proxy::Server*> servers, const HashType& type)
        : Tier(servers), type_(type), fallback_(std::move(servers), type.consistent) {
        rebuild();
    }

    proxy::Pick pick(const proxy::PickRequest& request) override {
        if (!request.has_hash) return fallback_.pick(request);
        const auto table = table_.get();
        if (table->empty()) return {};
        const std::size_t candidates = table->distinct();
        for (std::size_t skip = 0; skip < candidates; ++skip) {
            proxy::Server* s = table->lookup(request.hash, skip);
            if (!s->usable()) continue;  // changed since the table was built
            if (s == request.avoid && candidates > 1) continue;
            if (type_.balance_factor > 0 && overloaded(*table, *s)) continue;
            // The key's server is full: the request waits for it rather than going elsewhere,
            // as HAProxy queues it on that server.
            return reserve_bound(s);
        }
        return {};
    }

    void server_changed(proxy::Server& s) override {
        rebuild();
        fallback_.server_changed(s);
    }

  private:
    void rebuild() {
        table_.rebuild([&] { return HashTable(servers_, type_.consistent); });
    }
    // `hash-balance-factor F`: a server already above F% of the average load is passed over.
    bool overloaded(const HashTable& table, const proxy::Server& s) const {
        std::uint64_t total = 0;
        for (const proxy::Server* t : servers_)
            if (t->usable()) total += relative_load(*t);
        const std::uint64_t average =
            (total + kLoadUnit) / std::max<std::size_t>(1, table.distinct());
        return relative_load(s, 1) * 100 > average * type_.balance_factor;
    }

    HashType type_;
    RoundRobinTier fallback_;  // requests without a key
    Snapshot<HashTable> table_;
};

// Random keys on the consistent ring: weights are respected and weight changes apply at
// once. With several draws, the least loaded of the servers drawn takes the request (the
// power of two choices).
class RandomTier final : public Tier {
  public:
    RandomTier(std::vector<proxy::Server*> servers, std::uint32_t draws)
        : Tier(std::move(servers)), draws_(draws) {
        rebuild();
    }

    proxy::Pick pick(const proxy::PickRequest& request) override {
        const auto table = table_.get();
        if (table->empty()) return {};
        thread_local std::minstd_rand random{std::random_device{}()};
        proxy::Server* best = nullptr;
        bool any_full = false;
        for (std::uint32_t d = 0; d < draws_; ++d) {
            const auto key = static_cast<std::uint32_t>(random() ^ (random() << 16));
            for (std::size_t skip = 0; skip < table->distinct(); ++skip) {
                proxy::Server* s = table->lookup(key, skip);
                if (!s->usable() || (s == request.avoid && table->distinct() > 1)) continue;
                if (full(*s)) {
                    any_full = true;
                    continue;
                }
                if (!best || relative_load(*s) < relative_load(*best)) best = s;
                break;
            }
        }
        if (best) return reserve(best);
        if (any_full) return {nullptr, true};
        return {};
    }

    void server_changed(proxy::Server&) override { rebuild(); }

  private:
    void rebuild() {
        table_.rebuild([&] { return HashTable(servers_, true); });
    }
    std::uint32_t draws_;
    Snapshot<HashTable> table_;
};

cfg::Status parse_random(std::string_view arg, cfg::Args args, cfg::Ctx& ctx, BalanceConf& conf) {
    if (!args.empty()) return ctx.alert("algorithm 'random' takes no option, got '{}'", args[0]);
    if (arg.empty()) return cfg::Status::Ok;
    auto v = util::parse_uint(arg, UINT32_MAX);
    if (!v || *v < 1) return ctx.alert("balance random : number of draws must be at least 1.");
    conf.draws = static_cast<std::uint32_t>(*v);
    return cfg::Status::Ok;
}

constexpr AlgorithmDef kAlgorithms[] = {
    {.name = "random", .parse = parse_random, .make = make_random_tier, .takes_parenthesis = true},
};
const Registrar kRegistered{kAlgorithms};

}  // namespace

std::unique_ptr<Tier> make_hash_tier(std::vector<proxy::Server*> servers, const BalanceConf&,
                                     const HashType& hash) {
    return std::make_unique<HashTier>(std::move(servers), hash);
}

std::unique_ptr<Tier> make_random_tier(std::vector<proxy::Server*> servers, const BalanceConf& conf,
                                       const HashType&) {
    return std::make_unique<RandomTier>(std::move(servers), conf.draws);
}

}  // namespace sluice::lb
