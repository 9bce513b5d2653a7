// The balance-algorithm registry and the `balance` keyword.
#include <vector>

#include "sluice/lb/algorithm.hpp"
#include "sluice/util/suggest.hpp"

namespace sluice::lb {
namespace {

std::vector<const AlgorithmDef*>& registry() {
    static std::vector<const AlgorithmDef*> defs;
    return defs;
}

cfg::Status parse_balance(cfg::Args args, cfg::Ctx& ctx, proxy::ProxyConf& px) {
    // `hdr(name)` and `rdp-cookie(name)` carry their argument in parentheses.
    std::string_view name = args[0];
    const std::size_t paren = name.find('(');
    if (paren != std::string_view::npos) name = name.substr(0, paren);
    const AlgorithmDef* def = find_algorithm(name);
    if (!def) {
        const auto names = algorithm_names();
        return ctx.alert("unknown balance algorithm '{}'{}", args[0],
                         util::did_you_mean(name, names));
    }
    if (!def->pending.empty())
        return ctx.alert("algorithm '{}' is not implemented yet; it comes with {}", def->name,
                         def->pending);
    if (paren != std::string_view::npos && !def->parse)
        return ctx.alert("algorithm '{}' takes no argument, got '{}'", def->name, args[0]);
    if (def->parse) {
        const cfg::Status st = def->parse(args.subspan(1), ctx);
        if (st == cfg::Status::Alert) return st;
    } else if (args.size() > 1) {
        return ctx.alert("algorithm '{}' takes no option, got '{}'", def->name, args[1]);
    }
    px.balance = std::string(def->name);
    px.balance_where = ctx.where();
    return cfg::Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "balance",
     .in = cfg::kBackendSide,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<proxy::ProxyConf, parse_balance>},
};
const cfg::Registrar kRegistered{kKeywords};

constexpr std::string_view kLater = "balancing algorithms, queues and health checks (issue #6)";
constexpr AlgorithmDef kLaterAlgorithms[] = {
    {.name = "static-rr", .pending = kLater},  {.name = "leastconn", .pending = kLater},
    {.name = "first", .pending = kLater},      {.name = "source", .pending = kLater},
    {.name = "uri", .pending = kLater},        {.name = "url_param", .pending = kLater},
    {.name = "hdr", .pending = kLater},        {.name = "random", .pending = kLater},
    {.name = "rdp-cookie", .pending = kLater},
};
const Registrar kLaterRegistered{kLaterAlgorithms};

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

void install(proxy::Config& config) {
    for (auto& be : config.backends) {
        const AlgorithmDef* def = find_algorithm(be->conf->balance);
        // The keyword only stores implemented algorithms; the default is roundrobin.
        if (!def || !def->make) def = find_algorithm("roundrobin");
        be->balancer = def->make(*be);
    }
}

}  // namespace sluice::lb
