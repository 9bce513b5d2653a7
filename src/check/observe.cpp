// Passive health checks: the `observe`, `error-limit` and `on-error` server options, and what
// happens when a server's observed traffic reaches its error limit (see watch.hpp; the streams'
// side is proxy/observe.hpp).
#include <fmt/format.h>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/check/watch.hpp"
#include "sluice/proxy/conf.hpp"
#include "watch.hpp"

namespace sluice::check {

Health::Change analyze(Health& health, OnError mode) {
    switch (mode) {
        case OnError::FastInter:
            return Health::Change::None;
        case OnError::SuddenDeath:
            // One step above the last one before DOWN, then the failure of fail-check.
            if (health.value > health.rise) health.value = health.rise + 1;
            return health.record(false);
        case OnError::FailCheck:
            return health.record(false);
        case OnError::MarkDown:
            health.value = health.rise;
            return health.record(false);
    }
    return Health::Change::None;
}

void ObserveHub::add(proxy::Server& s, Check& c, const ServerWatchConf& conf) {
    {
        std::lock_guard lock(mutex_);
        entries_[&s] = Entry{&c, conf.on_error};
    }
    s.error_limit = conf.error_limit;
    s.observe_sink = this;
    s.observe = conf.observe;
}

void ObserveHub::remove(const proxy::Server& s) {
    std::lock_guard lock(mutex_);
    entries_.erase(&s);
}

void ObserveHub::limit_reached(proxy::Server& s, proxy::Observed last, std::uint32_t errors) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(&s);
    if (it == entries_.end()) return;
    Check* c = it->second.check;
    const OnError mode = it->second.on_error;
    std::string info =
        fmt::format("Detected {} consecutive errors, last one was: {}", errors, describe(last));
    // The check's health belongs to its loop: the change is made there.
    // The message counts the server's sessions as HAProxy does when it sees the error: the
    // stream that saw it is among them, unless the server closed or timed out, which has
    // already let the server's slot go in HAProxy.
    std::uint32_t sessions = s.cur_conns.load(std::memory_order_relaxed);
    if (sessions > 0 &&
        (last == proxy::Observed::BrokenPipe || last == proxy::Observed::ReadError ||
         last == proxy::Observed::ReadTimeout))
        --sessions;
    check_loop(*c).mailbox().post([c, mode, sessions, info = std::move(info)](core::Loop&) mutable {
        health_analyze(*c, mode, std::move(info), sessions);
    });
}

void Watch::observe(proxy::Server& s, Check& c) {
    if (!s.line_parts) return;
    const auto& conf = s.line_parts->read<ServerWatchConf>();
    if (conf.observe == proxy::ObserveMode::None) return;
    observe_->add(s, c, conf);
}

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

ServerWatchConf& watch(Ctx& ctx) {
    return ctx.parts().get<ServerWatchConf>();
}

// HAProxy reads `observe layer7` only in an http proxy, and says so at the server line (its
// ALERT does not stop it; the option is then ignored). The mode is known once the section is
// read: checked late, on server lines (a default-server's is checked where it is used).
std::string check_layer7(const cfg::Document& doc, const std::string& proxy, int line) {
    for (const cfg::Section& s : doc.proxies) {
        if (s.name != proxy || s.kind == cfg::SectionKind::Frontend) continue;
        const auto& px = s.parts.read<proxy::ProxyConf>();
        for (const auto& srv : px.servers) {
            if (srv.where.line != line) continue;
            if (srv.options.read<ServerWatchConf>().observe != proxy::ObserveMode::Layer7)
                return {};
            if (px.mode != proxy::Mode::Http) return "'layer7' can only be used in http proxies.";
        }
    }
    return {};
}

Status set_observe(Args args, Ctx& ctx) {
    const std::string& mode = args[0];
    if (mode == "none") {
        watch(ctx).observe = proxy::ObserveMode::None;
    } else if (mode == "layer4") {
        watch(ctx).observe = proxy::ObserveMode::Layer4;
    } else if (mode == "layer7") {
        watch(ctx).observe = proxy::ObserveMode::Layer7;
        (void)cfg::defer_check(
            [proxy = ctx.name(), line = ctx.where().line](const cfg::Document& doc) {
                return check_layer7(doc, proxy, line);
            });
    } else {
        return ctx.alert("'observe' expects one of 'none', 'layer4', 'layer7' but got '{}'.", mode);
    }
    return Status::Ok;
}

Status set_error_limit(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], INT32_MAX);
    if (!v || *v == 0) return ctx.alert("error-limit has to be > 0, got '{}'.", args[0]);
    watch(ctx).error_limit = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}

Status set_on_error(Args args, Ctx& ctx) {
    struct Named {
        std::string_view name;
        OnError mode;
    };
    static constexpr Named kModes[] = {{"fastinter", OnError::FastInter},
                                       {"fail-check", OnError::FailCheck},
                                       {"sudden-death", OnError::SuddenDeath},
                                       {"mark-down", OnError::MarkDown}};
    for (const Named& n : kModes)
        if (args[0] == n.name) {
            watch(ctx).on_error = n.mode;
            return Status::Ok;
        }
    return ctx.alert(
        "'on-error' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but "
        "got '{}'",
        args[0]);
}

using cfg::OptionOf;
constexpr cfg::Option kObserveOptions[] = {
    {.of = OptionOf::Server, .name = "observe", .args = 1, .parse = set_observe},
    {.of = OptionOf::Server, .name = "error-limit", .args = 1, .parse = set_error_limit},
    {.of = OptionOf::Server, .name = "on-error", .args = 1, .parse = set_on_error},
};
const cfg::OptionRegistrar kObserveRegistered{kObserveOptions};

}  // namespace
}  // namespace sluice::check
