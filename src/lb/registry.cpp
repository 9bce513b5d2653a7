// The balance-algorithm registry, the `balance` keyword, and the balancer joining a backend's
// two tiers (see tier.hpp) with the request's key of hashing algorithms.
#include <vector>

#include "sluice/lb/algorithm.hpp"
#include "sluice/lb/keys.hpp"
#include "sluice/util/suggest.hpp"

namespace sluice::lb {
namespace {

std::vector<const AlgorithmDef*>& registry() {
    static std::vector<const AlgorithmDef*> defs;
    return defs;
}

cfg::Status parse_balance(cfg::Args args, cfg::Ctx& ctx, proxy::ProxyConf& px) {
    // `hdr(name)`, `random(2)` and `rdp-cookie(name)` carry their argument in parentheses.
    std::string_view name = args[0];
    std::string_view arg;
    const std::size_t paren = name.find('(');
    if (paren != std::string_view::npos) {
        if (name.back() != ')') return ctx.alert("missing ')' in '{}'", args[0]);
        arg = name.substr(paren + 1, name.size() - paren - 2);
        name = name.substr(0, paren);
    }
    const AlgorithmDef* def = find_algorithm(name);
    if (!def) {
        const auto names = algorithm_names();
        return ctx.alert("unknown balance algorithm '{}'{}", args[0],
                         util::did_you_mean(name, names));
    }
    if (!def->pending.empty())
        return ctx.alert("algorithm '{}' is not implemented yet; it comes with {}", def->name,
                         def->pending);
    if (paren != std::string_view::npos && !def->takes_parenthesis)
        return ctx.alert("algorithm '{}' takes no argument, got '{}'", def->name, args[0]);
    // A new `balance` line replaces what an earlier one (or the defaults) said.
    BalanceConf& conf = ctx.parts().get<BalanceConf>();
    const bool all_backups = conf.all_backups;
    conf = BalanceConf{};
    conf.all_backups = all_backups;
    if (def->parse) {
        const cfg::Status st = def->parse(arg, args.subspan(1), ctx, conf);
        if (st == cfg::Status::Alert) return st;
    } else if (args.size() > 1) {
        return ctx.alert("algorithm '{}' takes no option, got '{}'", def->name, args[1]);
    }
    px.balance = std::string(def->name);
    px.balance_where = ctx.where();
    return cfg::Status::Ok;
}

cfg::Status parse_all_backups(cfg::Args, cfg::Ctx& ctx, BalanceConf& conf) {
    conf.all_backups = !ctx.negated();
    return cfg::Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "balance",
     .in = cfg::kBackendSide,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<proxy::ProxyConf, parse_balance>},
    {.name = "option allbackups",
     .in = cfg::kBackendSide,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<BalanceConf, parse_all_backups>,
     .negatable = true},
};
const cfg::Registrar kRegistered{kKeywords};

// Without `option allbackups`: the first usable backup (in declaration order) takes all.
class FirstBackup final : public Tier {
  public:
    using Tier::Tier;
    proxy::Pick pick(const proxy::PickRequest&) override {
        for (proxy::Server* s : servers_)
            if (s->usable()) return reserve(s);
        return {};
    }
};

class TieredBalancer final : public proxy::Balancer {
  public:
    TieredBalancer(std::unique_ptr<Tier> active, std::unique_ptr<Tier> backup,
                   std::unique_ptr<KeySource> key)
        : active_(std::move(active)), backup_(std::move(backup)), key_(std::move(key)) {}

    using proxy::Balancer::pick;
    proxy::Pick pick(const proxy::PickRequest& request) override {
        proxy::Pick p = active_->pick(request);
        if (p.server || p.all_full || !backup_) return p;
        return backup_->pick(request);
    }
    bool hashes() const override { return key_ != nullptr; }
    bool hash_key(sample::Context& ctx, std::uint32_t& out) const override {
        return key_ && key_->hash(ctx, out);
    }
    void load_changed(proxy::Server& s) override { tier_of(s).load_changed(s); }
    void server_changed(proxy::Server& s) override { tier_of(s).server_changed(s); }

  private:
    Tier& tier_of(const proxy::Server& s) {
        return s.options.backup && backup_ ? *backup_ : *active_;
    }
    std::unique_ptr<Tier> active_, backup_;
    std::unique_ptr<KeySource> key_;
};

}  // namespace

Registrar::Registrar(std::span<const AlgorithmDef> algorithms) {
    for (const AlgorithmDef& a : algorithms)
        registry().push_back(&a);
}

const AlgorithmDef* find_algorithm(std::string_view name) {
    for (const AlgorithmDef* d : registry())
        if (d->name == name) return d;
    return nullptr;
}

std::vector<std::string_view> algorithm_names() {
    std::vector<std::string_view> names;
    for (const AlgorithmDef* d : registry())
        names.push_back(d->name);
    return names;
}

std::unique_ptr<proxy::Balancer> make_balancer(proxy::Backend& backend, std::string_view algorithm,
                                               const BalanceConf& conf, const HashType& hash) {
    const AlgorithmDef* def = find_algorithm(algorithm);
    // The keyword only stores implemented algorithms; the default is roundrobin.
    if (!def || !def->make) def = find_algorithm("roundrobin");
    std::vector<proxy::Server*> active, backups;
    for (proxy::Server* s : backend.servers)
        (s->options.backup ? backups : active).push_back(s);
    std::unique_ptr<Tier> backup_tier;
    if (!backups.empty())
        backup_tier = conf.all_backups ? def->make(std::move(backups), conf, hash)
                                       : std::make_unique<FirstBackup>(std::move(backups));
    return std::make_unique<TieredBalancer>(def->make(std::move(active), conf, hash),
                                            std::move(backup_tier), make_key_source(conf, hash));
}

namespace {
const cfg::Parts& parts_of(const proxy::Backend& be) {
    static const cfg::Parts kNone;
    return be.parts ? *be.parts : kNone;
}
}  // namespace

std::unique_ptr<proxy::Balancer> rebuild(proxy::Backend& be) {
    const cfg::Parts& parts = parts_of(be);
    return be.replace_balancer([&] {
        return make_balancer(be, be.conf->balance, parts.read<BalanceConf>(),
                             parts.read<HashType>());
    });
}

void install(proxy::Config& config) {
    for (auto& be : config.backends)
        (void)rebuild(*be);
}

bool takes_dynamic_servers(const proxy::Backend& be) {
    const AlgorithmDef* def = find_algorithm(be.conf->balance);
    if (def && def->static_weights) return false;
    // A map-based table gives each key a slot out of the server count: a new server would
    // move most keys, which HAProxy refuses as we do.
    const bool hashing = parts_of(be).read<BalanceConf>().key != BalanceConf::Key::None;
    return !hashing || parts_of(be).read<HashType>().consistent;
}

}  // namespace sluice::lb
