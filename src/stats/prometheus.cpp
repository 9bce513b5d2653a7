// The Prometheus rendering (prometheus.hpp). Metric-major as HAProxy writes it: each family's
// HELP and TYPE once, then its samples for every object in the config's order. A family with no
// sample (check metrics when no server is checked, HTTP ones with only TCP proxies) is left out
// whole. A stat column a row does not have is NaN, as HAProxy prints an empty field.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>

#include "sluice/stats/prometheus.hpp"

namespace sluice::stats {
namespace {

enum class Kind : std::uint8_t {
    Plain,        // the column's value
    Seconds,      // a column in ms, as seconds
    FeStatus,     // state="DOWN"|"UP" from the frontend's status
    BeStatus,     // the same from the backend's
    SrvStatus,    // state= one of kSrvStates, 1 for the server's
    Codes,        // code="1xx".."other" from hrsp_1xx..hrsp_other
    CheckStatus,  // state= one of kCheckStates, checked servers only
    CheckCode,    // checked servers only, 0 without a code
    CheckDuration,
    AggSrv,    // per backend: how many of its servers are in each of kSrvStates
    AggCheck,  // per backend: how many of its checked servers had each of kCheckStates
};

struct Family {
    std::string_view name;
    std::string_view help;
    bool counter;
    Kind kind;
    std::string_view column;  // the stat column it comes from
    bool http = false;        // only for proxies in mode http
};

constexpr std::string_view kSrvStates[] = {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"};
constexpr std::string_view kCheckStates[] = {
    "HANA",   "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK",    "L6TOUT",   "L6RSP",
    "L7TOUT", "L7RSP",   "L7OK", "L7OKC",  "L7STS", "PROCERR", "PROCTOUT", "PROCOK"};
constexpr std::string_view kCodes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};

constexpr bool G = false, C = true;

// The help texts are Sluice's own words; names, types and labels are HAProxy's.
constexpr Family kFrontend[] = {
    {"current_sessions", "Sessions open now", G, Kind::Plain, "scur"},
    {"max_sessions", "Most sessions open at once since start", G, Kind::Plain, "smax"},
    {"limit_sessions", "Configured session limit (maxconn)", G, Kind::Plain, "slim"},
    {"sessions_total", "Sessions since start", C, Kind::Plain, "stot"},
    {"bytes_in_total", "Bytes received from clients", C, Kind::Plain, "bin"},
    {"bytes_out_total", "Bytes sent to clients", C, Kind::Plain, "bout"},
    {"requests_denied_total", "Requests denied by rules", C, Kind::Plain, "dreq"},
    {"responses_denied_total", "Responses denied by rules", C, Kind::Plain, "dresp"},
    {"request_errors_total", "Requests that failed (invalid, aborted, timed out)", C, Kind::Plain,
     "ereq"},
    {"status", "1 for the current state, 0 for the others", G, Kind::FeStatus, "status"},
    {"limit_session_rate", "Configured limit of new sessions per second", G, Kind::Plain,
     "rate_lim"},
    {"max_session_rate", "Highest rate of new sessions per second seen", G, Kind::Plain,
     "rate_max"},
    {"http_responses_total", "HTTP responses by status class", C, Kind::Codes, "hrsp_1xx", true},
    {"http_requests_rate_max", "Highest rate of HTTP requests per second seen", G, Kind::Plain,
     "req_rate_max", true},
    {"http_requests_total", "HTTP requests since start", C, Kind::Plain, "req_tot", true},
    {"http_comp_bytes_in_total", "Bytes fed to the HTTP compressor", C, Kind::Plain, "comp_in",
     true},
    {"http_comp_bytes_out_total", "Bytes produced by the HTTP compressor", C, Kind::Plain,
     "comp_out", true},
    {"http_comp_bytes_bypassed_total", "Response bytes not compressed", C, Kind::Plain, "comp_byp",
     true},
    {"http_comp_responses_total", "Responses compressed", C, Kind::Plain, "comp_rsp", true},
    {"connections_rate_max", "Highest rate of accepted connections per second seen", G, Kind::Plain,
     "conn_rate_max"},
    {"connections_total", "Connections accepted since start", C, Kind::Plain, "conn_tot"},
    {"intercepted_requests_total", "Requests answered by the proxy itself", C, Kind::Plain,
     "intercepted", true},
    {"denied_connections_total", "Connections denied by tcp-request connection rules", C,
     Kind::Plain, "dcon"},
    {"denied_sessions_total", "Sessions denied by tcp-request session rules", C, Kind::Plain,
     "dses"},
    {"failed_header_rewriting_total", "Header rewrites that failed", C, Kind::Plain, "wrew"},
    {"http_cache_lookups_total", "HTTP cache lookups", C, Kind::Plain, "cache_lookups", true},
    {"http_cache_hits_total", "HTTP cache hits", C, Kind::Plain, "cache_hits", true},
    {"internal_errors_total", "Internal errors", C, Kind::Plain, "eint"},
};

constexpr Family kBackend[] = {
    {"current_queue", "Requests waiting in the queue now", G, Kind::Plain, "qcur"},
    {"max_queue", "Most requests queued at once since start", G, Kind::Plain, "qmax"},
    {"current_sessions", "Sessions open now", G, Kind::Plain, "scur"},
    {"max_sessions", "Most sessions open at once since start", G, Kind::Plain, "smax"},
    {"limit_sessions", "Configured session limit (fullconn)", G, Kind::Plain, "slim"},
    {"sessions_total", "Sessions since start", C, Kind::Plain, "stot"},
    {"bytes_in_total", "Bytes received from clients", C, Kind::Plain, "bin"},
    {"bytes_out_total", "Bytes sent to clients", C, Kind::Plain, "bout"},
    {"requests_denied_total", "Requests denied by rules", C, Kind::Plain, "dreq"},
    {"responses_denied_total", "Responses denied by rules", C, Kind::Plain, "dresp"},
    {"connection_errors_total", "Failed connections to servers", C, Kind::Plain, "econ"},
    {"response_errors_total", "Failed or invalid responses from servers", C, Kind::Plain, "eresp"},
    {"retry_warnings_total", "Connection retries", C, Kind::Plain, "wretr"},
    {"redispatch_warnings_total", "Requests redispatched to another server", C, Kind::Plain,
     "wredis"},
    {"status", "1 for the current state, 0 for the others", G, Kind::BeStatus, "status"},
    {"weight", "Total effective weight of the usable servers", G, Kind::Plain, "weight"},
    {"active_servers", "Usable active servers", G, Kind::Plain, "act"},
    {"backup_servers", "Usable backup servers", G, Kind::Plain, "bck"},
    {"check_up_down_total", "Transitions to DOWN", C, Kind::Plain, "chkdown"},
    {"check_last_change_seconds", "Seconds since the last change of state", G, Kind::Plain,
     "lastchg"},
    {"downtime_seconds_total", "Seconds spent DOWN", C, Kind::Plain, "downtime"},
    {"loadbalanced_total", "Times a server was chosen by the balance algorithm", C, Kind::Plain,
     "lbtot"},
    {"max_session_rate", "Highest rate of new sessions per second seen", G, Kind::Plain,
     "rate_max"},
    {"http_responses_total", "HTTP responses by status class", C, Kind::Codes, "hrsp_1xx", true},
    {"http_requests_total", "HTTP requests since start", C, Kind::Plain, "req_tot", true},
    {"client_aborts_total", "Transfers aborted by the client", C, Kind::Plain, "cli_abrt"},
    {"server_aborts_total", "Transfers aborted by the server", C, Kind::Plain, "srv_abrt"},
    {"http_comp_bytes_in_total", "Bytes fed to the HTTP compressor", C, Kind::Plain, "comp_in",
     true},
    {"http_comp_bytes_out_total", "Bytes produced by the HTTP compressor", C, Kind::Plain,
     "comp_out", true},
    {"http_comp_bytes_bypassed_total", "Response bytes not compressed", C, Kind::Plain, "comp_byp",
     true},
    {"http_comp_responses_total", "Responses compressed", C, Kind::Plain, "comp_rsp", true},
    {"last_session_seconds", "Seconds since the last session, -1 for never", G, Kind::Plain,
     "lastsess"},
    {"queue_time_average_seconds", "Average queue time of the last 1024 requests", G, Kind::Seconds,
     "qtime"},
    {"connect_time_average_seconds", "Average connect time of the last 1024 requests", G,
     Kind::Seconds, "ctime"},
    {"response_time_average_seconds", "Average response time of the last 1024 requests", G,
     Kind::Seconds, "rtime"},
    {"total_time_average_seconds", "Average total time of the last 1024 requests", G, Kind::Seconds,
     "ttime"},
    {"failed_header_rewriting_total", "Header rewrites that failed", C, Kind::Plain, "wrew"},
    {"connection_attempts_total", "Connections opened to servers", C, Kind::Plain, "connect"},
    {"connection_reuses_total", "Idle server connections reused", C, Kind::Plain, "reuse"},
    {"http_cache_lookups_total", "HTTP cache lookups", C, Kind::Plain, "cache_lookups", true},
    {"http_cache_hits_total", "HTTP cache hits", C, Kind::Plain, "cache_hits", true},
    {"max_queue_time_seconds", "Longest queue time seen", G, Kind::Seconds, "qtime_max"},
    {"max_connect_time_seconds", "Longest connect time seen", G, Kind::Seconds, "ctime_max"},
    {"max_response_time_seconds", "Longest response time seen", G, Kind::Seconds, "rtime_max"},
    {"max_total_time_seconds", "Longest total time seen", G, Kind::Seconds, "ttime_max"},
    {"internal_errors_total", "Internal errors", C, Kind::Plain, "eint"},
    {"uweight", "Total configured weight of the usable servers", G, Kind::Plain, "uweight"},
    {"agg_server_status", "How many servers are in each state", G, Kind::AggSrv, "status"},
    {"agg_server_check_status", "How many servers are in each state (deprecated alias)", G,
     Kind::AggSrv, "status"},
    {"agg_check_status", "How many checked servers had each result of their last check", G,
     Kind::AggCheck, "check_status"},
};

constexpr Family kServer[] = {
    {"current_queue", "Requests waiting in the queue now", G, Kind::Plain, "qcur"},
    {"max_queue", "Most requests queued at once since start", G, Kind::Plain, "qmax"},
    {"current_sessions", "Sessions open now", G, Kind::Plain, "scur"},
    {"max_sessions", "Most sessions open at once since start", G, Kind::Plain, "smax"},
    {"limit_sessions", "Configured session limit (maxconn)", G, Kind::Plain, "slim"},
    {"sessions_total", "Sessions since start", C, Kind::Plain, "stot"},
    {"bytes_in_total", "Bytes received from clients", C, Kind::Plain, "bin"},
    {"bytes_out_total", "Bytes sent to clients", C, Kind::Plain, "bout"},
    {"responses_denied_total", "Responses denied by rules", C, Kind::Plain, "dresp"},
    {"connection_errors_total", "Failed connections to the server", C, Kind::Plain, "econ"},
    {"response_errors_total", "Failed or invalid responses from the server", C, Kind::Plain,
     "eresp"},
    {"retry_warnings_total", "Connection retries", C, Kind::Plain, "wretr"},
    {"redispatch_warnings_total", "Requests redispatched away from the server", C, Kind::Plain,
     "wredis"},
    {"status", "1 for the current state, 0 for the others", G, Kind::SrvStatus, "status"},
    {"weight", "Effective weight", G, Kind::Plain, "weight"},
    {"check_failures_total", "Failed health checks", C, Kind::Plain, "chkfail"},
    {"check_up_down_total", "Transitions to DOWN", C, Kind::Plain, "chkdown"},
    {"check_last_change_seconds", "Seconds since the last change of state", G, Kind::Plain,
     "lastchg"},
    {"downtime_seconds_total", "Seconds spent DOWN", C, Kind::Plain, "downtime"},
    {"queue_limit", "Configured queue limit (maxqueue)", G, Kind::Plain, "qlimit"},
    {"current_throttle", "Percent of weight and maxconn applied during slowstart", G, Kind::Plain,
     "throttle"},
    {"loadbalanced_total", "Times the server was chosen by the balance algorithm", C, Kind::Plain,
     "lbtot"},
    {"max_session_rate", "Highest rate of new sessions per second seen", G, Kind::Plain,
     "rate_max"},
    {"check_status", "1 for the result of the last health check, 0 for the others", G,
     Kind::CheckStatus, "check_status"},
    {"check_code", "Layer 5-7 code of the last health check, if any", G, Kind::CheckCode,
     "check_code"},
    {"check_duration_seconds", "Duration of the last health check", G, Kind::CheckDuration,
     "check_duration"},
    {"http_responses_total", "HTTP responses by status class", C, Kind::Codes, "hrsp_1xx", true},
    {"client_aborts_total", "Transfers aborted by the client", C, Kind::Plain, "cli_abrt"},
    {"server_aborts_total", "Transfers aborted by the server", C, Kind::Plain, "srv_abrt"},
    {"last_session_seconds", "Seconds since the last session, -1 for never", G, Kind::Plain,
     "lastsess"},
    {"queue_time_average_seconds", "Average queue time of the last 1024 requests", G, Kind::Seconds,
     "qtime"},
    {"connect_time_average_seconds", "Average connect time of the last 1024 requests", G,
     Kind::Seconds, "ctime"},
    {"response_time_average_seconds", "Average response time of the last 1024 requests", G,
     Kind::Seconds, "rtime"},
    {"total_time_average_seconds", "Average total time of the last 1024 requests", G, Kind::Seconds,
     "ttime"},
    {"failed_header_rewriting_total", "Header rewrites that failed", C, Kind::Plain, "wrew"},
    {"connection_attempts_total", "Connections opened to the server", C, Kind::Plain, "connect"},
    {"connection_reuses_total", "Idle connections reused", C, Kind::Plain, "reuse"},
    {"idle_connections_current", "Idle connections kept for reuse now", G, Kind::Plain, "srv_icur"},
    {"idle_connections_limit", "Configured limit of idle connections (pool-max-conn)", G,
     Kind::Plain, "src_ilim"},
    {"max_queue_time_seconds", "Longest queue time seen", G, Kind::Seconds, "qtime_max"},
    {"max_connect_time_seconds", "Longest connect time seen", G, Kind::Seconds, "ctime_max"},
    {"max_response_time_seconds", "Longest response time seen", G, Kind::Seconds, "rtime_max"},
    {"max_total_time_seconds", "Longest total time seen", G, Kind::Seconds, "ttime_max"},
    {"internal_errors_total", "Internal errors", C, Kind::Plain, "eint"},
    {"unsafe_idle_connections_current", "Idle connections not safe to reuse now", G, Kind::Plain,
     "idle_conn_cur"},
    {"safe_idle_connections_current", "Idle connections safe to reuse now", G, Kind::Plain,
     "safe_conn_cur"},
    {"used_connections_current", "Connections in use now", G, Kind::Plain, "used_conn_cur"},
    {"need_connections_current", "Estimate of the connections needed", G, Kind::Plain,
     "need_conn_est"},
    {"uweight", "Configured weight", G, Kind::Plain, "uweight"},
};

struct ProcessFamily {
    std::string_view name;
    std::string_view help;
    bool counter;
    std::string_view field;  // the show info field
};

constexpr ProcessFamily kProcess[] = {
    {"nbthread", "Threads started", G, "Nbthread"},
    {"nbproc", "Worker processes (always 1)", G, "Nbproc"},
    {"relative_process_id", "This worker's number (1)", G, "Process_num"},
    {"uptime_seconds", "Seconds since the worker started", G, "Uptime_sec"},
    {"pool_failures_total", "Failed pool allocations", C, "PoolFailed"},
    {"max_fds", "File descriptor limit", G, "Ulimit-n"},
    {"max_sockets", "Socket limit", G, "Maxsock"},
    {"max_connections", "Connection limit (maxconn)", G, "Maxconn"},
    {"hard_max_connections", "Hard connection limit", G, "Hard_maxconn"},
    {"current_connections", "Connections open now", G, "CurrConns"},
    {"connections_total", "Connections since start", C, "CumConns"},
    {"requests_total", "Requests since start", C, "CumReq"},
    {"max_ssl_connections", "SSL connection limit, 0 for none", G, "MaxSslConns"},
    {"current_ssl_connections", "SSL connections open now", G, "CurrSslConns"},
    {"ssl_connections_total", "SSL connections since start", C, "CumSslConns"},
    {"max_pipes", "Pipe limit for splicing, 0 for none", G, "Maxpipes"},
    {"pipes_used_total", "Pipes in use now", C, "PipesUsed"},
    {"pipes_free_total", "Pipes allocated and free now", C, "PipesFree"},
    {"current_connection_rate", "Connections accepted over the last second", G, "ConnRate"},
    {"limit_connection_rate", "Connection rate limit (maxconnrate)", G, "ConnRateLimit"},
    {"max_connection_rate", "Highest connection rate seen", G, "MaxConnRate"},
    {"current_session_rate", "Sessions over the last second", G, "SessRate"},
    {"limit_session_rate", "Session rate limit (maxsessrate)", G, "SessRateLimit"},
    {"max_session_rate", "Highest session rate seen", G, "MaxSessRate"},
    {"current_ssl_rate", "SSL connections over the last second", G, "SslRate"},
    {"limit_ssl_rate", "SSL connection rate limit (maxsslrate)", G, "SslRateLimit"},
    {"max_ssl_rate", "Highest SSL connection rate seen", G, "MaxSslRate"},
    {"current_frontend_ssl_key_rate", "Frontend SSL key computations over the last second", G,
     "SslFrontendKeyRate"},
    {"max_frontend_ssl_key_rate", "Highest frontend SSL key rate seen", G, "SslFrontendMaxKeyRate"},
    {"frontend_ssl_reuse", "Percent of frontend SSL sessions resumed", G,
     "SslFrontendSessionReuse_pct"},
    {"current_backend_ssl_key_rate", "Backend SSL key computations over the last second", G,
     "SslBackendKeyRate"},
    {"max_backend_ssl_key_rate", "Highest backend SSL key rate seen", G, "SslBackendMaxKeyRate"},
    {"ssl_cache_lookups_total", "SSL session cache lookups", C, "SslCacheLookups"},
    {"ssl_cache_misses_total", "SSL session cache misses", C, "SslCacheMisses"},
    {"http_comp_bytes_in_total", "Bytes fed to the HTTP compressor", C, "CompressBpsIn"},
    {"http_comp_bytes_out_total", "Bytes produced by the HTTP compressor", C, "CompressBpsOut"},
    {"limit_http_comp", "Compression output rate limit", G, "CompressBpsRateLim"},
    {"current_zlib_memory", "Memory used by compression now (bytes)", G, "ZlibMemUsage"},
    {"max_zlib_memory", "Compression memory limit (bytes)", G, "MaxZlibMemUsage"},
    {"current_tasks", "Tasks now", G, "Tasks"},
    {"current_run_queue", "Tasks ready to run now", G, "Run_queue"},
    {"idle_time_percent", "Percent of the last second spent idle", G, "Idle_pct"},
    {"stopping", "1 while the process is stopping", G, "Stopping"},
    {"jobs", "Active jobs (connections, listeners)", G, "Jobs"},
    {"unstoppable_jobs", "Jobs a soft stop waits for", G, "Unstoppable Jobs"},
    {"listeners", "Active listeners", G, "Listeners"},
    {"active_peers", "Active peer connections", G, "ActivePeers"},
    {"connected_peers", "Connected peers", G, "ConnectedPeers"},
    {"dropped_logs_total", "Log messages dropped", C, "DroppedLogs"},
    {"busy_polling_enabled", "1 when busy polling is on", G, "BusyPolling"},
    {"failed_resolutions", "Failed DNS resolutions", C, "FailedResolutions"},
    {"bytes_out_total", "Bytes sent since start", C, "TotalBytesOut"},
    {"spliced_bytes_out_total", "Bytes sent through kernel pipes since start", C,
     "TotalSplicdedBytesOut"},
    {"bytes_out_rate", "Bytes sent over the last second", G, "BytesOutRate"},
    {"recv_logs_total", "Log messages received by log forwarders", C, "CumRecvLogs"},
    {"build_info", "Version of the build", G, "Version"},
    {"max_memory_bytes", "Memory limit, 0 for none", G, "Memmax_bytes"},
    {"pool_allocated_bytes", "Memory allocated in pools", G, "PoolAlloc_bytes"},
    {"pool_used_bytes", "Pool memory in use", G, "PoolUsed_bytes"},
    {"start_time_seconds", "Start time (unix seconds)", G, "Start_time_sec"},
};

std::size_t stat_col(std::string_view name) {
    const auto fields = stat_fields();
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (fields[i].name == name) return i;
    return fields.size();  // a name not in the table: a bug caught by the unit tests
}

std::size_t info_col(std::string_view name) {
    const auto fields = info_fields();
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (fields[i].name == name) return i;
    return fields.size();
}

using Out = std::back_insert_iterator<std::string>;

// Integers are most of the output: fmt::format_int writes them without a format string.
template <typename T>
void put_int(std::string& out, T v) {
    const fmt::format_int f(v);
    out.append(f.data(), f.size());
}

void put_value(std::string& out, const Value& v) {
    if (!v.set) {
        out += "NaN";
        return;
    }
    switch (v.type) {
        case Type::S32:
        case Type::S64:
            put_int(out, v.i);
            return;
        case Type::U32:
        case Type::U64:
            put_int(out, v.u);
            return;
        case Type::Str:
            out += "NaN";
            return;
    }
}

double as_double(const Value& v) {
    if (!v.set) return 0;
    if (v.type == Type::S32 || v.type == Type::S64) return static_cast<double>(v.i);
    return static_cast<double>(v.u);
}

void put_seconds(std::string& out, double ms) {
    char buf[64];
    const auto r = fmt::format_to_n(buf, sizeof buf, "{:.6f}", ms / 1000.0);
    out.append(buf, std::min(r.size, sizeof buf));
}

// Label values as the exposition format quotes them.
void put_label(std::string& out, std::string_view v) {
    if (v.find_first_of("\\\"\n") == std::string_view::npos) {
        out += v;
        return;
    }
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

// One family being written: the header goes out with the first sample, and is taken back if
// none followed.
class FamilyWriter {
  public:
    FamilyWriter(std::string& out, std::string_view prefix, std::string_view name,
                 std::string_view help, std::string_view type)
        : out_(out), mark_(out.size()) {
        fmt::format_to(Out(out_), "# HELP {0}{1} {2}\n# TYPE {0}{1} {3}\n", prefix, name, help,
                       type);
        head_ = out.size();
    }
    ~FamilyWriter() {
        if (out_.size() == head_) out_.resize(mark_);
    }
    FamilyWriter(const FamilyWriter&) = delete;
    FamilyWriter& operator=(const FamilyWriter&) = delete;

  private:
    std::string& out_;
    std::size_t mark_, head_;
};

// `<prefix><name>{proxy="..",server=".."` (no closing brace: the caller adds labels).
void open_sample(std::string& out, std::string_view prefix, std::string_view name,
                 std::string_view suffix, const Row& row) {
    out += prefix;
    out += name;
    out += suffix;
    out += "{proxy=\"";
    put_label(out, row.type == ObjType::Frontend ? std::string_view(row.frontend->name)
                                                 : std::string_view(row.backend->name));
    out += '"';
    if (row.type == ObjType::Server) {
        out += ",server=\"";
        put_label(out, row.server->name);
        out += '"';
    }
}

void put_state(std::string& out, std::string_view prefix, std::string_view name, const Row& row,
               std::string_view state, std::uint64_t value) {
    open_sample(out, prefix, name, {}, row);
    out += ",state=\"";
    out += state;
    out += "\"} ";
    put_int(out, value);
    out += '\n';
}

std::size_t srv_state(std::string_view status) {
    if (status.starts_with("MAINT")) return 2;
    if (status.starts_with("DRAIN")) return 3;
    if (status.starts_with("NOLB")) return 4;
    if (status.starts_with("DOWN")) return 0;
    return 1;  // UP, UP n/m (going down), no check
}

std::size_t check_state(std::string_view status) {
    for (std::size_t i = 0; i < std::size(kCheckStates); ++i)
        if (kCheckStates[i] == status) return i;
    return std::size(kCheckStates);  // INI, UNK: none of them
}

bool is_http(const Row& row, std::size_t mode_col) {
    const Value& m = row.values[mode_col];
    return m.set && m.s == "http";
}

// Per backend row: its servers' states and check results, counted.
struct Agg {
    std::array<std::uint64_t, std::size(kSrvStates)> states{};
    std::array<std::uint64_t, std::size(kCheckStates) + 1> checks{};
};

struct Rows {
    std::vector<const Row*> frontends, backends, servers;
    std::vector<Agg> agg;  // one per backends entry
};

Rows sort_rows(const std::vector<Row>& rows, const PromQuery& q) {
    Rows r;
    const std::size_t status = stat_col("status"), check = stat_col("check_status");
    Agg pending;
    for (const Row& row : rows) {
        switch (row.type) {
            case ObjType::Frontend:
                if (q.frontend) r.frontends.push_back(&row);
                break;
            case ObjType::Server: {
                const std::size_t st = srv_state(row.values[status].s);
                ++pending.states[st];
                if (row.values[check].set) ++pending.checks[check_state(row.values[check].s)];
                if (q.server && !(q.no_maint && st == 2)) r.servers.push_back(&row);
                break;
            }
            case ObjType::Backend:
                if (q.backend) {
                    r.backends.push_back(&row);
                    r.agg.push_back(pending);
                }
                pending = Agg{};
                break;
            case ObjType::Listener:
                break;
        }
    }
    return r;
}

void render_family(std::string& out, std::string_view prefix, const Family& f,
                   const std::vector<const Row*>& rows, const std::vector<Agg>* agg) {
    const std::size_t col = stat_col(f.column), mode = stat_col("mode");
    const std::size_t checked = stat_col("check_status");
    FamilyWriter w(out, prefix, f.name, f.help, f.counter ? "counter" : "gauge");
    auto skip = [&](const Row& row) { return f.http && !is_http(row, mode); };
    if (f.kind == Kind::Codes) {
        for (std::size_t k = 0; k < std::size(kCodes); ++k) {
            for (const Row* row : rows) {
                if (skip(*row)) continue;
                open_sample(out, prefix, f.name, {}, *row);
                out += ",code=\"";
                out += kCodes[k];
                out += "\"} ";
                put_value(out, row->values[col + k]);
                out += '\n';
            }
        }
        return;
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& row = *rows[i];
        if (skip(row)) continue;
        const Value& v = row.values[col];
        switch (f.kind) {
            case Kind::FeStatus:
            case Kind::BeStatus: {
                const bool up = f.kind == Kind::FeStatus ? v.s != "STOP" : v.s == "UP";
                put_state(out, prefix, f.name, row, "DOWN", up ? 0 : 1);
                put_state(out, prefix, f.name, row, "UP", up ? 1 : 0);
                break;
            }
            case Kind::SrvStatus: {
                const std::size_t st = srv_state(v.s);
                for (std::size_t k = 0; k < std::size(kSrvStates); ++k)
                    put_state(out, prefix, f.name, row, kSrvStates[k], k == st ? 1 : 0);
                break;
            }
            case Kind::CheckStatus: {
                if (!v.set) break;
                const std::size_t st = check_state(v.s);
                for (std::size_t k = 0; k < std::size(kCheckStates); ++k)
                    put_state(out, prefix, f.name, row, kCheckStates[k], k == st ? 1 : 0);
                break;
            }
            case Kind::AggSrv:
                for (std::size_t k = 0; k < std::size(kSrvStates); ++k)
                    put_state(out, prefix, f.name, row, kSrvStates[k], (*agg)[i].states[k]);
                break;
            case Kind::AggCheck:
                for (std::size_t k = 0; k < std::size(kCheckStates); ++k)
                    put_state(out, prefix, f.name, row, kCheckStates[k], (*agg)[i].checks[k]);
                break;
            case Kind::CheckCode:
            case Kind::CheckDuration:
                // Only for checked servers; a check without a code or duration yet shows 0.
                if (!row.values[checked].set) break;
                open_sample(out, prefix, f.name, {}, row);
                out += "} ";
                if (f.kind == Kind::CheckCode)
                    put_int(out, v.set ? v.u : 0);
                else
                    put_seconds(out, as_double(v));
                out += '\n';
                break;
            case Kind::Seconds:
                open_sample(out, prefix, f.name, {}, row);
                out += "} ";
                if (v.set)
                    put_seconds(out, as_double(v));
                else
                    out += "NaN";
                out += '\n';
                break;
            case Kind::Plain:
            case Kind::Codes:
                open_sample(out, prefix, f.name, {}, row);
                out += "} ";
                put_value(out, v);
                out += '\n';
                break;
        }
    }
}

// Sluice's latency histograms, from the per-thread timing buckets.
constexpr std::string_view kTimingNames[] = {"queue_time_seconds", "connect_time_seconds",
                                             "response_time_seconds", "total_time_seconds"};
constexpr std::string_view kTimingHelp[] = {
    "Time spent waiting in a queue for a server (Sluice's histogram)",
    "Time to connect to a server (Sluice's histogram)",
    "Time from the request sent to the server to its response head (Sluice's histogram)",
    "Time from the request's start to the end of its response (Sluice's histogram)"};

const std::array<std::string, proxy::Timing::kBounds.size()>& bucket_labels() {
    static const auto labels = [] {
        std::array<std::string, proxy::Timing::kBounds.size()> l;
        for (std::size_t i = 0; i < l.size(); ++i)
            l[i] = fmt::format("{}", proxy::Timing::kBounds[i] / 1000.0);
        return l;
    }();
    return labels;
}

const proxy::PerThreadCounts& counts_of(const Row& row) {
    switch (row.type) {
        case ObjType::Frontend:
            return row.frontend->counts;
        case ObjType::Server:
            return row.server->counts;
        default:
            return row.backend->counts;
    }
}

void render_histograms(std::string& out, std::string_view prefix,
                       const std::vector<const Row*>& rows, bool frontend) {
    const auto& labels = bucket_labels();
    for (std::size_t k = 0; k < proxy::kTimingKinds; ++k) {
        const auto kind = static_cast<proxy::TimingKind>(k);
        // Frontends time whole requests only.
        if (frontend && kind != proxy::TimingKind::Total) continue;
        FamilyWriter w(out, prefix, kTimingNames[k], kTimingHelp[k], "histogram");
        for (const Row* row : rows) {
            const proxy::PerThreadCounts& c = counts_of(*row);
            std::array<std::uint64_t, proxy::Timing::kBuckets> b{};
            std::uint64_t sum_ms = 0;
            for (std::uint32_t t = 0; t < c.threads(); ++t) {
                const proxy::Timing& tm = c.at(t).timing(kind);
                for (std::size_t i = 0; i < b.size(); ++i)
                    b[i] += tm.bucket(i);
                sum_ms += tm.sum_ms();
            }
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < b.size(); ++i) {
                cumulative += b[i];
                open_sample(out, prefix, kTimingNames[k], "_bucket", *row);
                out += ",le=\"";
                out += i < labels.size() ? std::string_view(labels[i]) : "+Inf";
                out += "\"} ";
                put_int(out, cumulative);
                out += '\n';
            }
            open_sample(out, prefix, kTimingNames[k], "_sum", *row);
            out += "} ";
            put_int(out, sum_ms / 1000);
            char frac[8];
            const auto r = fmt::format_to_n(frac, sizeof frac, ".{:03}\n", sum_ms % 1000);
            out.append(frac, r.size);
            open_sample(out, prefix, kTimingNames[k], "_count", *row);
            out += "} ";
            put_int(out, cumulative);
            out += '\n';
        }
    }
}

void render_process(std::string& out, const proxy::Config& config, const Process& process) {
    const std::vector<Value> values = info(config, process);
    for (const ProcessFamily& f : kProcess) {
        const std::size_t col = info_col(f.field);
        FamilyWriter w(out, "haproxy_process_", f.name, f.help, f.counter ? "counter" : "gauge");
        if (f.name == "build_info") {
            out += "haproxy_process_build_info{version=\"";
            put_label(out, col < values.size() ? values[col].s : std::string());
            out += "\"} 1\n";
            continue;
        }
        out += "haproxy_process_";
        out += f.name;
        out += ' ';
        if (col < values.size())
            put_value(out, values[col]);
        else
            out += "NaN";
        out += '\n';
    }
}

}  // namespace

std::optional<PromQuery> parse_prom_query(std::string_view query) {
    PromQuery q;
    bool scoped = false;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        std::string_view param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const std::size_t eq = param.find('=');
        const std::string_view key = param.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
        if (key == "no-maint") {
            q.no_maint = true;
        } else if (key == "scope") {
            if (eq == std::string_view::npos) return std::nullopt;
            // The first scope replaces the default, and an empty one clears what came before.
            if (!scoped || value.empty()) q.global = q.frontend = q.backend = q.server = false;
            scoped = true;
            if (value == "global")
                q.global = true;
            else if (value == "frontend")
                q.frontend = true;
            else if (value == "backend")
                q.backend = true;
            else if (value == "server")
                q.server = true;
            else if (!value.empty())
                return std::nullopt;
        }
    }
    return q;
}

void prometheus(std::string& out, const proxy::Config& config, const Process& process,
                const PromQuery& q) {
    std::vector<Row> rows;
    if (q.frontend || q.backend || q.server) {
        Filter filter;
        // Backends count their servers' states, so they need the server rows too.
        filter.types = (q.frontend ? 1u : 0u) | (q.backend ? 6u : 0u) | (q.server ? 4u : 0u);
        rows = collect(config, process, filter);
    }
    // About 60 bytes a sample; servers have ~70 samples, proxies ~100, histograms ~80 more.
    out.reserve(out.size() + 8192 + rows.size() * 12000);
    if (q.global) render_process(out, config, process);
    const Rows r = sort_rows(rows, q);
    if (!r.frontends.empty()) {
        for (const Family& f : kFrontend)
            render_family(out, "haproxy_frontend_", f, r.frontends, nullptr);
        render_histograms(out, "haproxy_frontend_", r.frontends, true);
    }
    if (!r.backends.empty()) {
        for (const Family& f : kBackend)
            render_family(out, "haproxy_backend_", f, r.backends, &r.agg);
        render_histograms(out, "haproxy_backend_", r.backends, false);
    }
    if (!r.servers.empty()) {
        for (const Family& f : kServer)
            render_family(out, "haproxy_server_", f, r.servers, nullptr);
        render_histograms(out, "haproxy_server_", r.servers, false);
    }
}

}  // namespace sluice::stats
