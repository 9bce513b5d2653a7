// Server options about following a server's health: `track` and `slowstart` (see watch.hpp).
#include <fmt/format.h>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/check/agent.hpp"
#include "sluice/check/conf.hpp"
#include "sluice/check/watch.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::check {

TrackTarget split_track(std::string_view text, std::string_view current_proxy) {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) return {current_proxy, text};
    return {text.substr(0, slash), text.substr(slash + 1)};
}

std::uint8_t warmup_percent(util::Duration elapsed, util::Duration slowstart) {
    // HAProxy keeps slowstart in whole seconds (rounded up) and counts elapsed seconds.
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(slowstart).count();
    const std::int64_t total = (ms + 999) / 1000;
    const std::int64_t done = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
    if (total <= 0 || done >= total) return 100;
    if (done < 0) return 0;
    return static_cast<std::uint8_t>(100 * done / total);
}

util::Duration warmup_step(util::Duration slowstart) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(slowstart).count();
    const std::int64_t seconds = (ms + 999) / 1000;
    return std::chrono::milliseconds(std::max<std::int64_t>(1000, seconds * 50));
}

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

ServerWatchConf& watch(Ctx& ctx) {
    return ctx.parts().get<ServerWatchConf>();
}

struct Found {
    const cfg::Section* section = nullptr;
    std::size_t section_index = 0;
    const proxy::ServerLine* line = nullptr;
    std::size_t line_index = 0;
};

Found find_server(const cfg::Document& doc, std::string_view proxy, std::string_view name) {
    Found f;
    for (std::size_t i = 0; i < doc.proxies.size(); ++i) {
        const cfg::Section& s = doc.proxies[i];
        if (s.name != proxy || s.kind == cfg::SectionKind::Frontend) continue;
        f.section = &s;
        f.section_index = i;
        const auto& servers = s.parts.read<proxy::ProxyConf>().servers;
        for (std::size_t k = 0; k < servers.size(); ++k)
            if (servers[k].name == name) {
                f.line = &servers[k];
                f.line_index = k;
                return f;
            }
        return f;
    }
    return f;
}

// HAProxy 2.6's checks of a `track` line, in its words. HAProxy resolves tracking in
// declaration order, so a loop is seen from the server that closes it.
std::string check_track(const cfg::Document& doc, const std::string& proxy, int line) {
    Found self;
    for (std::size_t i = 0; i < doc.proxies.size() && !self.line; ++i) {
        if (doc.proxies[i].name != proxy) continue;
        const auto& servers = doc.proxies[i].parts.read<proxy::ProxyConf>().servers;
        for (std::size_t k = 0; k < servers.size(); ++k)
            if (servers[k].where.line == line) self = {&doc.proxies[i], i, &servers[k], k};
    }
    if (!self.line) return {};  // default-server: checked on the servers that inherit it
    const auto& own = self.line->options.read<ServerWatchConf>();
    if (own.track.empty()) return {};
    if (self.line->options.read<ServerCheckConf>().enabled)
        return "unable to enable checks and tracking at the same time!";
    const TrackTarget t = split_track(own.track, proxy);
    Found target = find_server(doc, t.proxy, t.server);
    if (!target.section)
        return fmt::format("unable to find required proxy '{}' for tracking.", t.proxy);
    if (!target.line)
        return fmt::format("unable to find required server '{}' for tracking.", t.server);
    const auto& tw = target.line->options.read<ServerWatchConf>();
    if (!target.line->options.read<ServerCheckConf>().enabled &&
        !target.line->options.read<ServerAgentConf>().enabled && tw.track.empty())
        return fmt::format(
            "unable to use {}/{} for tracking as it does not have any check nor agent enabled.",
            t.proxy, t.server);
    // Walk the chain through the servers declared before this one (already resolved).
    auto before = [&](const Found& f) {
        return f.section_index < self.section_index ||
               (f.section_index == self.section_index && f.line_index <= self.line_index);
    };
    Found at = target;
    for (int hops = 0; at.line && hops < 1000; ++hops) {
        if (at.line == self.line)
            return fmt::format(
                "unable to track {}/{} as it belongs to a tracking chain looping back to {}/{}.",
                t.proxy, t.server, t.proxy, self.line->name);
        if (!before(at)) break;
        const auto& w = at.line->options.read<ServerWatchConf>();
        if (w.track.empty()) break;
        const TrackTarget next = split_track(w.track, at.section->name);
        at = find_server(doc, next.proxy, next.server);
    }
    return {};
}

Status set_track(Args args, Ctx& ctx) {
    watch(ctx).track = args[0];
    (void)cfg::defer_check([proxy = ctx.name(), line = ctx.where().line](const cfg::Document& doc) {
        return check_track(doc, proxy, line);
    });
    return Status::Ok;
}

Status set_slowstart(Args args, Ctx& ctx) {
    auto d = util::parse_duration(args[0]);
    if (!d) return ctx.alert("{}", d.error());
    if (d->count() < 0) return ctx.alert("expects a time, got '{}'", args[0]);
    watch(ctx).slowstart = *d;
    return Status::Ok;
}

// `on-marked-down shutdown-sessions` and `on-marked-up shutdown-backup-sessions`: the only
// action each takes in HAProxy 2.6.
template <bool Down>
Status set_on_marked(Args args, Ctx& ctx) {
    constexpr std::string_view kWant = Down ? "shutdown-sessions" : "shutdown-backup-sessions";
    if (args[0] != kWant)
        return ctx.alert("'{}' expects '{}' but got '{}'.",
                         Down ? "on-marked-down" : "on-marked-up", kWant, args[0]);
    (Down ? watch(ctx).shutdown_sessions : watch(ctx).shutdown_backup_sessions) = true;
    return Status::Ok;
}

using cfg::OptionOf;
constexpr cfg::Option kWatchOptions[] = {
    {.of = OptionOf::Server, .name = "on-marked-down", .args = 1, .parse = set_on_marked<true>},
    {.of = OptionOf::Server, .name = "on-marked-up", .args = 1, .parse = set_on_marked<false>},
    {.of = OptionOf::Server, .name = "track", .args = 1, .parse = set_track},
    {.of = OptionOf::Server, .name = "slowstart", .args = 1, .parse = set_slowstart},
};
const cfg::OptionRegistrar kWatchRegistered{kWatchOptions};

}  // namespace
}  // namespace sluice::check
