// Keywords of the `global` section that shape the process: limits, threads, identity, tuning.
// (Logging, stats and TLS add their own global keywords in their modules.)
#include <algorithm>
#include <charconv>

#include "sluice/cfg/keyword.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::proxy {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

constexpr std::uint32_t kMaxThreads = 64;

Status parse_nbthread(Args args, Ctx& ctx, GlobalConf& g) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(args[0].data(), args[0].data() + args[0].size(), n);
    if (ec != std::errc() || end != args[0].data() + args[0].size() || n < 1 || n > kMaxThreads)
        return ctx.alert("expects a number of threads from 1 to {}, got '{}'", kMaxThreads,
                         args[0]);
    g.nbthread = n;
    g.nbthread_where = ctx.where();
    return Status::Ok;
}

// HAProxy 2.5 removed nbproc and 2.6 refuses it; configs still carry it, and threads give the
// same parallelism, so we map it instead of failing.
Status parse_nbproc(Args args, Ctx& ctx, GlobalConf& g) {
    std::uint32_t n = 0;
    auto [end, ec] = std::from_chars(args[0].data(), args[0].data() + args[0].size(), n);
    if (ec != std::errc() || end != args[0].data() + args[0].size() || n < 1 || n > kMaxThreads)
        return ctx.alert("expects a number from 1 to {}, got '{}'", kMaxThreads, args[0]);
    g.nbproc = n;
    return ctx.warning(
        "processes were removed in HAProxy 2.5; running {} thread{} instead, as "
        "'nbthread {}' would (cpu-map lines apply to those threads)",
        n, n == 1 ? "" : "s", n);
}

// "1", "1-4,7": numbers within [lo_bound, hi_bound]. Process and thread sets also take "all",
// "odd" and "even" (1 to kMaxThreads); CPU sets do not (HAProxy: "'all' is not a CPU range").
bool parse_set(std::string_view text, int lo_bound, int hi_bound, bool words_allowed,
               std::vector<int>& out) {
    if (text == "all" || text == "odd" || text == "even") {
        if (!words_allowed) return false;
        for (int i = 1; i <= static_cast<int>(kMaxThreads); ++i)
            if (text == "all" || (text == "odd") == (i % 2 == 1)) out.push_back(i);
        return true;
    }
    if (text.empty()) return false;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        int lo = 0, hi = 0;
        const std::size_t dash = item.find('-');
        std::string_view a = item.substr(0, dash);
        auto r1 = std::from_chars(a.data(), a.data() + a.size(), lo);
        if (a.empty() || r1.ec != std::errc() || r1.ptr != a.data() + a.size()) return false;
        hi = lo;
        if (dash != std::string_view::npos) {
            std::string_view b = item.substr(dash + 1);
            auto r2 = std::from_chars(b.data(), b.data() + b.size(), hi);
            if (b.empty() || r2.ec != std::errc() || r2.ptr != b.data() + b.size()) return false;
        }
        if (lo > hi || lo < lo_bound || hi > hi_bound) return false;
        for (int i = lo; i <= hi; ++i)
            out.push_back(i);
    }
    return true;
}
constexpr int kMaxCpu = 1023;
constexpr int kMaxSet = static_cast<int>(kMaxThreads);

Status parse_cpu_map(Args args, Ctx& ctx, GlobalConf& g) {
    CpuMapLine line;
    line.where = ctx.where();
    std::string_view spec = args[0];
    if (spec.starts_with("auto:")) {
        line.automatic = true;
        spec.remove_prefix(5);
    }
    const std::size_t slash = spec.find('/');
    if (!parse_set(spec.substr(0, slash), 1, kMaxSet, true, line.first))
        return ctx.alert("invalid process/thread set '{}'", args[0]);
    if (slash != std::string_view::npos) {
        std::vector<int> threads;
        if (!parse_set(spec.substr(slash + 1), 1, kMaxSet, true, threads))
            return ctx.alert("invalid thread set in '{}'", args[0]);
        line.threads = std::move(threads);
    }
    for (const std::string& cpus : args.subspan(1)) {
        std::vector<int> set;
        if (!parse_set(cpus, 0, kMaxCpu, false, set))
            return ctx.alert("invalid CPU set '{}' (CPU numbers from 0 to {})", cpus, kMaxCpu);
        for (int c : set)
            line.cpus.push_back(c);
    }
    if (line.automatic) {
        // auto: maps one to one, so both sides must list as many (one side may be a single
        // process whose threads are listed).
        const std::size_t targets =
            line.threads && line.first.size() == 1 ? line.threads->size() : line.first.size();
        if (targets != line.cpus.size())
            return ctx.alert("'auto:' needs as many CPUs as threads ({} threads, {} CPUs)", targets,
                             line.cpus.size());
    }
    g.cpu_map.push_back(std::move(line));
    return Status::Ok;
}

Status parse_tune_bufsize(Args args, Ctx& ctx, GlobalConf& g) {
    auto v = util::parse_size(args[0]);
    if (!v) return ctx.alert("invalid size '{}': {}", args[0], v.error());
    if (*v < 1024 || *v > (1u << 30))
        return ctx.alert("must be between 1k and 1g, got '{}'", args[0]);
    g.bufsize = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}

Status parse_tune_maxrewrite(Args args, Ctx& ctx, GlobalConf& g) {
    auto v = util::parse_size(args[0]);
    if (!v) return ctx.alert("invalid size '{}': {}", args[0], v.error());
    if (*v > (1u << 30)) return ctx.alert("size '{}' is too large", args[0]);
    g.maxrewrite = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}

Status parse_id(Args args, Ctx& ctx, std::optional<std::uint32_t>& out) {
    auto v = util::parse_uint(args[0], UINT32_MAX - 1);
    if (!v) return ctx.alert("expects a numeric id, got '{}'", args[0]);
    out = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
Status parse_uid(Args args, Ctx& ctx, GlobalConf& g) {
    return parse_id(args, ctx, g.uid);
}
Status parse_gid(Args args, Ctx& ctx, GlobalConf& g) {
    return parse_id(args, ctx, g.gid);
}

constexpr In G = In::Global;

constexpr cfg::Keyword kGlobalKeywords[] = {
    cfg::flag<&GlobalConf::daemon, true>("daemon", G),
    cfg::flag<&GlobalConf::expose_experimental, true>("expose-experimental-directives", G),
    cfg::uint<&GlobalConf::maxconn, true>("maxconn", G),
    cfg::uint<&GlobalConf::maxconnrate, true>("maxconnrate", G),
    cfg::uint<&GlobalConf::maxsessrate, true>("maxsessrate", G),
    {.name = "nbthread",
     .in = G,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<GlobalConf, parse_nbthread>},
    {.name = "nbproc",
     .in = G,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<GlobalConf, parse_nbproc>},
    {.name = "cpu-map",
     .in = G,
     .arity = cfg::at_least(2),
     .parse = cfg::on_global<GlobalConf, parse_cpu_map>},
    cfg::string<&GlobalConf::pidfile, true>("pidfile", G),
    cfg::string<&GlobalConf::user, true>("user", G),
    cfg::string<&GlobalConf::group, true>("group", G),
    cfg::string<&GlobalConf::chroot, true>("chroot", G),
    {.name = "uid",
     .in = G,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<GlobalConf, parse_uid>},
    {.name = "gid",
     .in = G,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<GlobalConf, parse_gid>},
    {.name = "tune.bufsize",
     .in = G,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<GlobalConf, parse_tune_bufsize>},
    {.name = "tune.maxrewrite",
     .in = G,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<GlobalConf, parse_tune_maxrewrite>},
    cfg::uint<&GlobalConf::ulimit_n, true>("ulimit-n", G),
    cfg::duration<&GlobalConf::hard_stop_after, true>("hard-stop-after", G),
    cfg::string<&GlobalConf::node, true>("node", G),
    cfg::text<&GlobalConf::description, true>("description", G),
};
const cfg::Registrar kRegistered{kGlobalKeywords};

}  // namespace
}  // namespace sluice::proxy
