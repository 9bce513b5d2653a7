// Stat rows from the running config: which columns each kind of row has, and their values,
// as HAProxy 2.6 fills them (a column a row does not have stays empty in the CSV and absent
// from typed and JSON output).
#include <algorithm>
#include <cmath>

#include "sluice/check/agent.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/check/conf.hpp"
#include "sluice/check/expect.hpp"
#include "sluice/check/watch.hpp"
#include "sluice/lb/balance.hpp"
#include "sluice/stats/stats.hpp"

namespace sluice::stats {
namespace {

// Column positions (see fields.cpp).
enum Col : std::size_t {
    kPxname,
    kSvname,
    kQcur,
    kQmax,
    kScur,
    kSmax,
    kSlim,
    kStot,
    kBin,
    kBout,
    kDreq,
    kDresp,
    kEreq,
    kEcon,
    kEresp,
    kWretr,
    kWredis,
    kStatus,
    kWeight,
    kAct,
    kBck,
    kChkfail,
    kChkdown,
    kLastchg,
    kDowntime,
    kQlimit,
    kPid,
    kIid,
    kSid,
    kThrottle,
    kLbtot,
    kTracked,
    kType,
    kRate,
    kRateLim,
    kRateMax,
    kCheckStatus,
    kCheckCode,
    kCheckDuration,
    kHrsp1xx,  // ..kHrsp1xx + 5: hrsp_other
    kHanafail = kHrsp1xx + 6,
    kReqRate,
    kReqRateMax,
    kReqTot,
    kCliAbrt,
    kSrvAbrt,
    kCompIn,  // ..kCompIn + 3
    kLastsess = kCompIn + 4,
    kLastChk,
    kLastAgt,
    kQtime,  // qtime, ctime, rtime, ttime
    kAgentStatus = kQtime + 4,
    kAgentCode,
    kAgentDuration,
    kCheckDesc,
    kAgentDesc,
    kCheckRise,
    kCheckFall,
    kCheckHealth,
    kAgentRise,
    kAgentFall,
    kAgentHealth,
    kAddr,
    kCookie,
    kMode,
    kAlgo,
    kConnRate,
    kConnRateMax,
    kConnTot,
    kIntercepted,
    kDcon,
    kDses,
    kWrew,
    kConnect,
    kReuse,
    kCacheLookups,
    kCacheHits,
    kSrvIcur,
    kSrcIlim,
    kQtimeMax,  // qtime_max .. ttime_max
    kEint = kQtimeMax + 4,
    kIdleConnCur,
    kSafeConnCur,
    kUsedConnCur,
    kNeedConnEst,
    kUweight,
    kAggServerStatus,
    kAggServerCheckStatus,
    kAggCheckStatus,
    kSslSess,                 // the ssl module: 3 counters
    kH2First = kSslSess + 3,  // the h2 module: 13 counters
    kH1OpenConnections = kH2First + 13,
    kH1OpenStreams,
    kH1TotalConnections,
    kH1TotalStreams,
    kH1BytesIn,
    kH1BytesOut,
    kH1SplicedBytesIn,
    kH1SplicedBytesOut,
    kPercentiles,  // Sluice: {q,c,r,t}time_{p50,p95,p99}
};

class RowBuilder {
  public:
    RowBuilder(Row& row) : row_(row) { row_.values.resize(stat_fields().size()); }
    void u(std::size_t col, std::uint64_t v) {
        Value& x = at(col);
        x.u = v;
        x.i = static_cast<std::int64_t>(v);
    }
    void i(std::size_t col, std::int64_t v) { at(col).i = v; }
    void s(std::size_t col, std::string v) { at(col).s = std::move(v); }

  private:
    Value& at(std::size_t col) {
        Value& x = row_.values[col];
        x.set = true;
        x.type = stat_fields()[col].type;
        return x;
    }
    Row& row_;
};

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
}
std::uint32_t load32(const std::atomic<std::uint32_t>& a) {
    return a.load(std::memory_order_relaxed);
}

// The threads' values of one object, added up.
struct Sums {
    const proxy::PerThreadCounts& c;
    double now;
    std::uint64_t operator()(proxy::Tally proxy::Counts::*which) const { return c.sum(which); }
    std::uint32_t rate(proxy::PerSecond proxy::Counts::*which) const {
        std::uint32_t r = 0;
        for (std::uint32_t t = 0; t < c.threads(); ++t)
            r += (c.at(t).*which).rate(now);
        return r;
    }
    std::uint32_t rate_max(proxy::PerSecond proxy::Counts::*which) const {
        std::uint32_t r = 0;
        for (std::uint32_t t = 0; t < c.threads(); ++t)
            r += (c.at(t).*which).max(now);
        return std::max(r, rate(which));
    }
    std::int64_t last_session() const {
        std::int64_t last = 0;
        for (std::uint32_t t = 0; t < c.threads(); ++t)
            last = std::max(last, c.at(t).last_session.load(std::memory_order_relaxed));
        return last;
    }
    // HAProxy's average over the last 1,024 samples, here each thread's weighted by how many
    // samples it has in its window.
    std::uint32_t average(proxy::TimingKind k) const {
        double sum = 0, weight = 0;
        for (std::uint32_t t = 0; t < c.threads(); ++t) {
            const proxy::Timing& tm = c.at(t).timing(k);
            const double n =
                static_cast<double>(std::min<std::uint64_t>(tm.count(), proxy::Timing::kWindow));
            sum += tm.average() * n;
            weight += n;
        }
        return weight > 0 ? static_cast<std::uint32_t>(std::lround(sum / weight)) : 0;
    }
    std::uint32_t max(proxy::TimingKind k) const {
        std::uint32_t m = 0;
        for (std::uint32_t t = 0; t < c.threads(); ++t)
            m = std::max(m, c.at(t).timing(k).max_ms());
        return m;
    }
    std::array<std::uint64_t, proxy::Timing::kBuckets> buckets(proxy::TimingKind k) const {
        std::array<std::uint64_t, proxy::Timing::kBuckets> b{};
        for (std::uint32_t t = 0; t < c.threads(); ++t)
            for (std::size_t i = 0; i < b.size(); ++i)
                b[i] += c.at(t).timing(k).bucket(i);
        return b;
    }
};

void fill_responses(RowBuilder& r, const Sums& sum) {
    for (std::size_t k = 0; k < 6; ++k) {
        std::uint64_t n = 0;
        for (std::uint32_t t = 0; t < sum.c.threads(); ++t)
            n += sum.c.at(t).responses[k].get();
        r.u(kHrsp1xx + k, n);
    }
}

void fill_timings(RowBuilder& r, const Sums& sum) {
    for (std::size_t k = 0; k < proxy::kTimingKinds; ++k) {
        const auto kind = static_cast<proxy::TimingKind>(k);
        r.u(kQtime + k, sum.average(kind));
        r.u(kQtimeMax + k, sum.max(kind));
        const auto b = sum.buckets(kind);
        const double fractions[] = {0.50, 0.95, 0.99};
        for (std::size_t p = 0; p < 3; ++p)
            r.u(kPercentiles + k * 3 + p,
                static_cast<std::uint64_t>(std::lround(percentile(b, fractions[p]))));
    }
}

std::string_view mode_name(const proxy::ProxyConf& px) {
    return px.mode == proxy::Mode::Http ? "http" : "tcp";
}

void fill_frontend(Row& row, const proxy::Frontend& fe, const Process& p) {
    RowBuilder r(row);
    const Sums sum{fe.counts, p.now};
    const bool http = fe.http;
    r.s(kPxname, fe.name);
    r.s(kSvname, "FRONTEND");
    r.u(kScur, load32(fe.cur_conns));
    r.u(kSmax, load32(fe.counts.max_conns));
    r.u(kSlim, fe.maxconn);
    r.u(kStot, sum(&proxy::Counts::sessions));
    r.u(kBin, sum(&proxy::Counts::bytes_in));
    r.u(kBout, sum(&proxy::Counts::bytes_out));
    r.u(kDreq, sum(&proxy::Counts::denied_requests));
    r.u(kDresp, sum(&proxy::Counts::denied_responses));
    r.u(kEreq, load(fe.errors.failed_requests));
    r.s(kStatus, p.stopping ? "STOP" : "OPEN");
    r.u(kPid, 1);
    r.u(kIid, row.proxy_id);
    r.u(kSid, 0);
    r.u(kType, 0);
    r.u(kRate, sum.rate(&proxy::Counts::session_rate));
    r.u(kRateLim, 0);  // `rate-limit sessions` is not supported
    r.u(kRateMax, sum.rate_max(&proxy::Counts::session_rate));
    if (http) fill_responses(r, sum);
    r.u(kReqRate, sum.rate(&proxy::Counts::request_rate));
    r.u(kReqRateMax, sum.rate_max(&proxy::Counts::request_rate));
    r.u(kReqTot, sum(&proxy::Counts::requests));
    for (std::size_t k = 0; k < 4; ++k)
        r.u(kCompIn + k, 0);  // no compression in sluice yet: nothing compressed
    r.s(kMode, std::string(mode_name(*fe.conf)));
    r.u(kConnRate, sum.rate(&proxy::Counts::connection_rate));
    r.u(kConnRateMax, sum.rate_max(&proxy::Counts::connection_rate));
    r.u(kConnTot, sum(&proxy::Counts::connections));
    if (http) r.u(kIntercepted, sum(&proxy::Counts::intercepted));
    r.u(kDcon, sum(&proxy::Counts::denied_conns));
    r.u(kDses, sum(&proxy::Counts::denied_sessions));
    r.u(kWrew, load(fe.errors.failed_rewrites));
    if (http) {
        r.u(kCacheLookups, 0);  // no cache in sluice yet
        r.u(kCacheHits, 0);
    }
    r.u(kEint, load(fe.errors.internal_errors));
    for (std::size_t k = kSslSess; k < kH1OpenConnections; ++k)
        r.u(k, 0);  // TLS and HTTP/2 come later: nothing counted
    r.u(kH1OpenConnections, load32(fe.cur_conns));
    r.u(kH1OpenStreams, load32(fe.cur_conns));
    r.u(kH1TotalConnections, sum(&proxy::Counts::connections));
    r.u(kH1TotalStreams, sum(&proxy::Counts::requests));
    r.u(kH1BytesIn, sum(&proxy::Counts::bytes_in));
    r.u(kH1BytesOut, sum(&proxy::Counts::bytes_out));
    r.u(kH1SplicedBytesIn, 0);
    r.u(kH1SplicedBytesOut, 0);
}

// The server `s` tracks, or null. Looked up by name: only the stats ask, rarely.
const proxy::Server* next_tracked(const proxy::Config& config, const proxy::Server& s) {
    if (!s.line_parts) return nullptr;
    const auto& w = s.line_parts->read<check::ServerWatchConf>();
    if (w.track.empty()) return nullptr;
    const check::TrackTarget t = check::split_track(w.track, s.backend->name);
    if (const proxy::Backend* be = config.find_backend(t.proxy))
        for (const auto& o : be->servers)
            if (o->name == t.server) return o;
    return nullptr;
}

// The server whose health a server shows: the end of its `track` chain, or itself (the
// config refuses loops; the depth bound is only a guard).
const proxy::Server* tracked_server(const proxy::Config& config, const proxy::Server& s) {
    const proxy::Server* at = &s;
    for (int depth = 0; depth < 64; ++depth) {
        const proxy::Server* next = next_tracked(config, *at);
        if (!next) return at;
        at = next;
    }
    return at;
}

std::uint32_t effective_weight(const proxy::Server& s) {
    const std::uint32_t w = s.weight.load(std::memory_order_relaxed);
    const std::uint32_t pct = s.warmup.load(std::memory_order_relaxed);
    if (pct >= 100 || w == 0) return w;
    return std::max<std::uint32_t>(1, w * pct / 100);
}

void fill_server(Row& row, const proxy::Config& config, const proxy::Server& s, const Process& p) {
    RowBuilder r(row);
    const Sums sum{s.counts, p.now};
    const proxy::Backend& be = *s.backend;
    const bool http = be.conf->mode == proxy::Mode::Http;
    const bool has_check = check::has_check(s);
    const auto& cc = s.line_parts->read<check::ServerCheckConf>();
    r.s(kPxname, be.name);
    r.s(kSvname, s.name);
    r.u(kQcur, load32(s.queued));
    r.u(kQmax, load32(s.counts.max_queued));
    r.u(kScur, load32(s.cur_conns));
    r.u(kSmax, load32(s.counts.max_conns));
    if (const std::uint32_t lim = load32(s.maxconn)) r.u(kSlim, lim);
    r.u(kStot, sum(&proxy::Counts::sessions));
    r.u(kBin, sum(&proxy::Counts::bytes_in));
    r.u(kBout, sum(&proxy::Counts::bytes_out));
    r.u(kDresp, sum(&proxy::Counts::denied_responses));
    r.u(kEcon, load(s.errors.failed_connects));
    r.u(kEresp, load(s.errors.failed_responses));
    r.u(kWretr, load(s.errors.retried_requests));
    r.u(kWredis, sum(&proxy::Counts::redispatches));
    r.s(kStatus, server_status(config, s));
    r.u(kWeight, effective_weight(s));
    r.u(kAct, s.options.backup ? 0 : 1);
    r.u(kBck, s.options.backup ? 1 : 0);
    const std::int64_t changed = s.last_change.load(std::memory_order_relaxed);
    const auto now_sec = static_cast<std::int64_t>(p.now);
    const std::int64_t since = changed > 0 ? changed : static_cast<std::int64_t>(p.start);
    if (has_check) {
        r.u(kChkfail, load(s.check_failures));
        r.u(kChkdown, load(s.check_downs));
        std::int64_t down = s.down_time.load(std::memory_order_relaxed);
        if (!s.up.load(std::memory_order_relaxed)) down += now_sec - since;
        r.u(kDowntime, static_cast<std::uint64_t>(std::max<std::int64_t>(0, down)));
    }
    r.u(kLastchg, static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_sec - since)));
    if (s.options.maxqueue) r.u(kQlimit, s.options.maxqueue);
    r.u(kPid, 1);
    r.u(kIid, row.proxy_id);
    r.u(kSid, s.puid);
    if (const std::uint8_t warm = s.warmup.load(std::memory_order_relaxed); warm < 100)
        r.u(kThrottle, warm);
    r.u(kLbtot, sum(&proxy::Counts::balanced));
    const auto& watch = s.line_parts->read<check::ServerWatchConf>();
    if (!watch.track.empty()) {
        const check::TrackTarget t = check::split_track(watch.track, be.name);
        r.s(kTracked, fmt::format("{}/{}", t.proxy, t.server));
    }
    r.u(kType, 2);
    r.u(kRate, sum.rate(&proxy::Counts::session_rate));
    r.u(kRateMax, sum.rate_max(&proxy::Counts::session_rate));
    if (has_check) {
        const auto st = static_cast<check::Status>(s.check_status.load(std::memory_order_relaxed));
        r.s(kCheckStatus, std::string(check::status_name(st)));
        if (const std::int16_t code = s.check_code.load(std::memory_order_relaxed);
            code >= 0 && check::has_code(st))
            r.u(kCheckCode, static_cast<std::uint64_t>(code));
        if (st != check::Status::Unknown && st != check::Status::Hana)
            r.u(kCheckDuration, load32(s.check_duration_ms));
        if (std::string info = s.check_info(); !info.empty()) r.s(kLastChk, std::move(info));
        r.s(kCheckDesc, st == check::Status::Unknown ? std::string("Initializing")
                                                     : std::string(check::describe(st)));
        r.u(kCheckRise, cc.rise);
        r.u(kCheckFall, cc.fall);
        r.u(kCheckHealth, load32(s.check_health));
    }
    if (http) {
        fill_responses(r, sum);
        r.u(kReqTot, sum(&proxy::Counts::requests));
    }
    if (s.observe != proxy::ObserveMode::None) r.u(kHanafail, 0);
    r.u(kCliAbrt, load(s.errors.client_aborts));
    r.u(kSrvAbrt, load(s.errors.server_aborts));
    const std::int64_t last = sum.last_session();
    r.i(kLastsess, last > 0 ? std::max<std::int64_t>(0, now_sec - last) : -1);
    fill_timings(r, sum);
    r.s(kAddr, s.destination.now().addr.address.to_string());
    r.s(kMode, std::string(mode_name(*be.conf)));
    r.u(kWrew, load(s.errors.failed_rewrites));
    r.u(kConnect, sum(&proxy::Counts::new_conns));
    r.u(kReuse, sum(&proxy::Counts::reused_conns));
    const std::uint32_t idle = load32(s.idle_conns);
    r.u(kSrvIcur, idle);
    if (s.options.pool_max_conn >= 0)
        r.u(kSrcIlim, static_cast<std::uint64_t>(s.options.pool_max_conn));
    r.u(kEint, load(s.errors.internal_errors));
    r.u(kIdleConnCur, idle);
    r.u(kSafeConnCur, 0);
    r.u(kUsedConnCur, load32(s.cur_conns));
    r.u(kNeedConnEst, 0);
    r.u(kUweight, s.weight.load(std::memory_order_relaxed));
    for (std::size_t k = kSslSess; k < kH2First; ++k)
        r.u(k, 0);
}

void fill_backend(Row& row, const proxy::Backend& be, const Process& p) {
    RowBuilder r(row);
    const Sums sum{be.counts, p.now};
    const bool http = be.conf->mode == proxy::Mode::Http;
    std::uint32_t act = 0, bck = 0, wact = 0, wbck = 0, first_bck = 0, uweight = 0;
    for (const auto& s : be.servers) {
        if (!s->usable()) continue;
        uweight += s->weight.load(std::memory_order_relaxed);
        if (s->options.backup) {
            ++bck;
            wbck += effective_weight(*s);
            if (first_bck == 0) first_bck = effective_weight(*s);
        } else {
            ++act;
            wact += effective_weight(*s);
        }
    }
    const std::uint32_t weight = act                                             ? wact
                                 : be.parts->read<lb::BalanceConf>().all_backups ? wbck
                                                                                 : first_bck;
    const auto now_sec = static_cast<std::int64_t>(p.now);
    r.s(kPxname, be.name);
    r.s(kSvname, "BACKEND");
    r.u(kQcur, static_cast<std::uint64_t>(be.waiting()));
    r.u(kQmax, load32(be.counts.max_queued));
    r.u(kScur, load32(be.cur_conns));
    r.u(kSmax, load32(be.counts.max_conns));
    r.u(kSlim, be.fullconn);
    r.u(kStot, sum(&proxy::Counts::sessions));
    r.u(kBin, sum(&proxy::Counts::bytes_in));
    r.u(kBout, sum(&proxy::Counts::bytes_out));
    r.u(kDreq, sum(&proxy::Counts::denied_requests));
    r.u(kDresp, sum(&proxy::Counts::denied_responses));
    r.u(kEcon, load(be.errors.failed_connects));
    r.u(kEresp, load(be.errors.failed_responses));
    r.u(kWretr, load(be.errors.retried_requests));
    r.u(kWredis, sum(&proxy::Counts::redispatches));
    r.s(kStatus, weight > 0 || be.servers.empty() ? "UP" : "DOWN");
    r.u(kWeight, weight);
    r.u(kAct, act);
    r.u(kBck, bck);
    const std::int64_t changed = be.last_change.load(std::memory_order_relaxed);
    const std::int64_t since = changed > 0 ? changed : static_cast<std::int64_t>(p.start);
    r.u(kChkdown, load(be.down_transitions));
    r.u(kLastchg, static_cast<std::uint64_t>(std::max<std::int64_t>(0, now_sec - since)));
    std::int64_t down = be.down_time.load(std::memory_order_relaxed);
    if (weight == 0 && !be.servers.empty()) down += now_sec - since;
    r.u(kDowntime, static_cast<std::uint64_t>(std::max<std::int64_t>(0, down)));
    r.u(kPid, 1);
    r.u(kIid, row.proxy_id);
    r.u(kSid, 0);
    r.u(kLbtot, sum(&proxy::Counts::balanced));
    r.u(kType, 1);
    r.u(kRate, sum.rate(&proxy::Counts::session_rate));
    r.u(kRateMax, sum.rate_max(&proxy::Counts::session_rate));
    if (http) {
        fill_responses(r, sum);
        r.u(kReqTot, sum(&proxy::Counts::requests));
    }
    r.u(kCliAbrt, load(be.errors.client_aborts));
    r.u(kSrvAbrt, load(be.errors.server_aborts));
    for (std::size_t k = 0; k < 4; ++k)
        r.u(kCompIn + k, 0);
    const std::int64_t last = sum.last_session();
    r.i(kLastsess, last > 0 ? std::max<std::int64_t>(0, now_sec - last) : -1);
    fill_timings(r, sum);
    r.s(kMode, std::string(mode_name(*be.conf)));
    {
        const std::string& algo = be.conf->balance;
        r.s(kAlgo, algo.substr(0, algo.find(' ')));
    }
    r.u(kWrew, load(be.errors.failed_rewrites));
    r.u(kConnect, sum(&proxy::Counts::new_conns));
    r.u(kReuse, sum(&proxy::Counts::reused_conns));
    if (http) {
        r.u(kCacheLookups, 0);
        r.u(kCacheHits, 0);
    }
    r.u(kEint, load(be.errors.internal_errors));
    r.u(kUweight, uweight);
    // HAProxy 2.6 leaves its aggregated states at 0 outside its own agent mode.
    r.u(kAggServerStatus, 0);
    r.u(kAggServerCheckStatus, 0);
    r.u(kAggCheckStatus, 0);
    for (std::size_t k = kSslSess; k < kH1OpenConnections; ++k)
        r.u(k, 0);
    r.u(kH1OpenConnections, load32(be.cur_conns));
    r.u(kH1OpenStreams, load32(be.cur_conns));
    r.u(kH1TotalConnections, sum(&proxy::Counts::new_conns));
    r.u(kH1TotalStreams, sum(&proxy::Counts::sessions));
    r.u(kH1BytesIn, sum(&proxy::Counts::bytes_in));
    r.u(kH1BytesOut, sum(&proxy::Counts::bytes_out));
    r.u(kH1SplicedBytesIn, 0);
    r.u(kH1SplicedBytesOut, 0);
}

bool passes(const Filter& f, const Row& row, std::string_view proxy_name) {
    if (f.proxy_id >= 0 && static_cast<std::int64_t>(row.proxy_id) != f.proxy_id) return false;
    if (!f.proxy_name.empty() && f.proxy_name != proxy_name) return false;
    const unsigned bit = row.type == ObjType::Frontend  ? 1u
                         : row.type == ObjType::Backend ? 2u
                                                        : 4u;
    if (!(f.types & bit)) return false;
    if (row.type == ObjType::Server) {
        if (f.server_id >= 0 && static_cast<std::int64_t>(row.id) != f.server_id) return false;
        const proxy::Server& s = *row.server;
        if (f.no_maint && s.admin.load(std::memory_order_relaxed) == proxy::AdminState::Maint)
            return false;
        if (f.up_only && (!s.up.load(std::memory_order_relaxed) ||
                          s.admin.load(std::memory_order_relaxed) == proxy::AdminState::Maint))
            return false;
    }
    return true;
}

}  // namespace

std::string server_status(const proxy::Config& config, const proxy::Server& s) {
    const proxy::AdminState admin = s.admin.load(std::memory_order_acquire);
    if (admin == proxy::AdminState::Maint) return "MAINT";
    // A tracking server shows the state of the server it follows, maintenance included.
    const proxy::Server* ref = tracked_server(config, s);
    if (ref != &s) {
        for (const proxy::Server* at = &s; at != ref;) {
            at = next_tracked(config, *at);
            if (at->admin.load(std::memory_order_acquire) == proxy::AdminState::Maint)
                return fmt::format("MAINT (via {}/{})", at->backend->name, at->name);
        }
    }
    const bool has_check = check::has_check(*ref);
    const auto& cc = ref->line_parts->read<check::ServerCheckConf>();
    const bool agent = check::has_agent(*ref);
    const std::uint32_t health = ref->check_health.load(std::memory_order_relaxed);
    const std::uint32_t full = cc.rise + cc.fall - 1;
    const bool going_down = has_check && health < full;
    if (ref->up.load(std::memory_order_acquire)) {
        if (ref->stopping.load(std::memory_order_acquire))
            return going_down ? fmt::format("NOLB {}/{}", health - cc.rise + 1, cc.fall) : "NOLB";
        if (admin == proxy::AdminState::Drain) {
            if (agent) return "DRAIN (agent)";
            return going_down ? fmt::format("DRAIN {}/{}", health - cc.rise + 1, cc.fall) : "DRAIN";
        }
        if (!has_check) return "no check";
        return going_down ? fmt::format("UP {}/{}", health - cc.rise + 1, cc.fall) : "UP";
    }
    if (agent && (!has_check || health >= cc.rise)) return "DOWN (agent)";
    if (has_check && health > 0) return fmt::format("DOWN {}/{}", health, cc.rise);
    return "DOWN";
}

std::vector<Row> collect(const proxy::Config& config, const Process& process,
                         const Filter& filter) {
    std::vector<Row> rows;
    // Proxies in declaration order: a listen section's frontend, servers, backend together.
    std::vector<std::pair<std::uint32_t, const void*>> order;
    for (const auto& fe : config.frontends)
        order.emplace_back(fe->uid * 2, fe.get());
    for (const auto& be : config.backends)
        order.emplace_back(be->uid * 2 + 1, be.get());
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, ptr] : order) {
        const std::uint32_t iid = key / 2 + process.proxy_id_base;
        if (key % 2 == 0) {
            const auto* fe = static_cast<const proxy::Frontend*>(ptr);
            Row row;
            row.type = ObjType::Frontend;
            row.proxy_id = iid;
            row.frontend = fe;
            if (!passes(filter, row, fe->name)) continue;
            fill_frontend(row, *fe, process);
            rows.push_back(std::move(row));
            continue;
        }
        const auto* be = static_cast<const proxy::Backend*>(ptr);
        for (const auto& s : be->servers) {
            Row row;
            row.type = ObjType::Server;
            row.proxy_id = iid;
            row.id = s->puid;
            row.server = s;
            row.backend = be;
            if (!passes(filter, row, be->name)) continue;
            fill_server(row, config, *s, process);
            rows.push_back(std::move(row));
        }
        Row row;
        row.type = ObjType::Backend;
        row.proxy_id = iid;
        row.backend = be;
        if (!passes(filter, row, be->name)) continue;
        fill_backend(row, *be, process);
        rows.push_back(std::move(row));
    }
    return rows;
}

double percentile(std::span<const std::uint64_t> buckets, double fraction) {
    std::uint64_t total = 0;
    for (std::uint64_t n : buckets)
        total += n;
    if (total == 0) return 0;
    const double target = fraction * static_cast<double>(total);
    double seen = 0;
    const auto& bounds = proxy::Timing::kBounds;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        const auto n = static_cast<double>(buckets[i]);
        if (n > 0 && seen + n >= target) {
            const double low = i == 0 ? 0 : bounds[i - 1];
            const double high = i < bounds.size() ? bounds[i] : bounds.back() * 2.0;
            return low + (high - low) * (target - seen) / n;
        }
        seen += n;
    }
    return bounds.back();
}

}  // namespace sluice::stats
