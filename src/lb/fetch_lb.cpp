// avg_queue: how many waiting requests each server that would serve them has ahead, which
// depends on which servers balancing uses (backups, `option allbackups`).
#include "sluice/lb/balance.hpp"
#include "sluice/proxy/fetch.hpp"

namespace sluice::lb {
namespace {

// As HAProxy counts: the waiting requests over the usable active servers, rounded up; without
// any, over the backups in use (one unless `option allbackups`); without those, twice the
// queue.
bool fetch_avg_queue(const sample::Args& args, sample::Context& ctx, sample::Sample& out) {
    const proxy::Backend* be = proxy::backend_arg(args, ctx);
    if (!be) return false;
    std::int64_t active = 0, backup = 0;
    for (const auto& s : be->servers)
        if (s->usable()) ++(s->options.backup ? backup : active);
    if (active == 0 && backup > 0 && be->parts && !be->parts->read<BalanceConf>().all_backups)
        backup = 1;
    const std::int64_t servers = active > 0 ? active : backup;
    const std::int64_t total = be->waiting();
    out = sample::Sample::integer(servers > 0 ? (total + servers - 1) / servers : total * 2);
    return true;
}

constexpr sample::Fetch kFetches[] = {
    {.name = "avg_queue",
     .fn = fetch_avg_queue,
     .args = {0, 1},
     .out = sample::Type::Sint,
     .use = sample::Use::Internal},
};
const sample::FetchRegistrar kRegistered{kFetches};

}  // namespace
}  // namespace sluice::lb
