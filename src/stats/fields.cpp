// The columns of `show stat` and the values of `show info`, with HAProxy 2.6's names, tags and
// types (what `show stat typed` and `show info typed` print), in HAProxy's order.
#include "sluice/stats/stats.hpp"

#include <array>

namespace sluice::stats {
namespace {

constexpr FieldDef kStat[] = {
    {"pxname", "KNS", Type::Str},                            // 0
    {"svname", "KNS", Type::Str},                            // 1
    {"qcur", "MGP", Type::U32},                              // 2
    {"qmax", "MMP", Type::U32},                              // 3
    {"scur", "MGP", Type::U32},                              // 4
    {"smax", "MMP", Type::U32},                              // 5
    {"slim", "CLP", Type::U32},                              // 6
    {"stot", "MCP", Type::U64},                              // 7
    {"bin", "MCP", Type::U64},                               // 8
    {"bout", "MCP", Type::U64},                              // 9
    {"dreq", "MCP", Type::U64},                              // 10
    {"dresp", "MCP", Type::U64},                             // 11
    {"ereq", "MCP", Type::U64},                              // 12
    {"econ", "MCP", Type::U64},                              // 13
    {"eresp", "MCP", Type::U64},                             // 14
    {"wretr", "MCP", Type::U64},                             // 15
    {"wredis", "MCP", Type::U64},                            // 16
    {"status", "SGP", Type::Str},                            // 17
    {"weight", "MaP", Type::U32},                            // 18
    {"act", "MGP", Type::U32},                               // 19
    {"bck", "MGP", Type::U32},                               // 20
    {"chkfail", "MCP", Type::U64},                           // 21
    {"chkdown", "MCP", Type::U64},                           // 22
    {"lastchg", "MAP", Type::U32},                           // 23
    {"downtime", "MCP", Type::U32},                          // 24
    {"qlimit", "CGS", Type::U32},                            // 25
    {"pid", "KGP", Type::U32},                               // 26
    {"iid", "KGS", Type::U32},                               // 27
    {"sid", "KGS", Type::U32},                               // 28
    {"throttle", "MGP", Type::U32},                          // 29
    {"lbtot", "MCP", Type::U64},                             // 30
    {"tracked", "CNS", Type::Str},                           // 31
    {"type", "CGS", Type::U32},                              // 32
    {"rate", "MGP", Type::U32},                              // 33
    {"rate_lim", "CLP", Type::U32},                          // 34
    {"rate_max", "MGP", Type::U32},                          // 35
    {"check_status", "MOP", Type::Str},                      // 36
    {"check_code", "MOP", Type::U32},                        // 37
    {"check_duration", "MDP", Type::U64},                    // 38
    {"hrsp_1xx", "MCP", Type::U64},                          // 39
    {"hrsp_2xx", "MCP", Type::U64},                          // 40
    {"hrsp_3xx", "MCP", Type::U64},                          // 41
    {"hrsp_4xx", "MCP", Type::U64},                          // 42
    {"hrsp_5xx", "MCP", Type::U64},                          // 43
    {"hrsp_other", "MCP", Type::U64},                        // 44
    {"hanafail", "MCP", Type::U64},                          // 45
    {"req_rate", "MRP", Type::U32},                          // 46
    {"req_rate_max", "MMP", Type::U32},                      // 47
    {"req_tot", "MCP", Type::U64},                           // 48
    {"cli_abrt", "MCP", Type::U64},                          // 49
    {"srv_abrt", "MCP", Type::U64},                          // 50
    {"comp_in", "MCP", Type::U64},                           // 51
    {"comp_out", "MCP", Type::U64},                          // 52
    {"comp_byp", "MCP", Type::U64},                          // 53
    {"comp_rsp", "MCP", Type::U64},                          // 54
    {"lastsess", "MAP", Type::S32},                          // 55
    {"last_chk", "MOP", Type::Str},                          // 56
    {"last_agt", "MOP", Type::Str},                          // 57
    {"qtime", "MaP", Type::U32},                             // 58
    {"ctime", "MaP", Type::U32},                             // 59
    {"rtime", "MaP", Type::U32},                             // 60
    {"ttime", "MaP", Type::U32},                             // 61
    {"agent_status", "MOP", Type::Str},                      // 62
    {"agent_code", "MOP", Type::U32},                        // 63
    {"agent_duration", "MDP", Type::U64},                    // 64
    {"check_desc", "MOP", Type::Str},                        // 65
    {"agent_desc", "MOP", Type::Str},                        // 66
    {"check_rise", "CGS", Type::U32},                        // 67
    {"check_fall", "CGS", Type::U32},                        // 68
    {"check_health", "CGS", Type::U32},                      // 69
    {"agent_rise", "CGS", Type::U32},                        // 70
    {"agent_fall", "CGS", Type::U32},                        // 71
    {"agent_health", "CGS", Type::U32},                      // 72
    {"addr", "CGS", Type::Str},                              // 73
    {"cookie", "CNS", Type::Str},                            // 74
    {"mode", "CGS", Type::Str},                              // 75
    {"algo", "CGS", Type::Str},                              // 76
    {"conn_rate", "MRP", Type::U32},                         // 77
    {"conn_rate_max", "MMP", Type::U32},                     // 78
    {"conn_tot", "MCP", Type::U64},                          // 79
    {"intercepted", "MCP", Type::U64},                       // 80
    {"dcon", "MCP", Type::U64},                              // 81
    {"dses", "MCP", Type::U64},                              // 82
    {"wrew", "MCP", Type::U64},                              // 83
    {"connect", "MCP", Type::U64},                           // 84
    {"reuse", "MCP", Type::U64},                             // 85
    {"cache_lookups", "MCP", Type::U64},                     // 86
    {"cache_hits", "MCP", Type::U64},                        // 87
    {"srv_icur", "MGP", Type::U32},                          // 88
    {"src_ilim", "CLP", Type::U32},                          // 89
    {"qtime_max", "MMP", Type::U32},                         // 90
    {"ctime_max", "MMP", Type::U32},                         // 91
    {"rtime_max", "MMP", Type::U32},                         // 92
    {"ttime_max", "MMP", Type::U32},                         // 93
    {"eint", "MCP", Type::U64},                              // 94
    {"idle_conn_cur", "MGP", Type::U32},                     // 95
    {"safe_conn_cur", "MGP", Type::U32},                     // 96
    {"used_conn_cur", "MGP", Type::U32},                     // 97
    {"need_conn_est", "MGP", Type::U32},                     // 98
    {"uweight", "MaP", Type::U32},                           // 99
    {"agg_server_status", "MGP", Type::U32},                 // 100
    {"agg_server_check_status", "MGP", Type::U32},           // 101
    {"agg_check_status", "MGP", Type::U32},                  // 102
    {"ssl_sess", "MCP", Type::U64},                          // 103
    {"ssl_reused_sess", "MCP", Type::U64},                   // 104
    {"ssl_failed_handshake", "MCP", Type::U64},              // 105
    {"h2_headers_rcvd", "MCP", Type::U64},                   // 106
    {"h2_data_rcvd", "MCP", Type::U64},                      // 107
    {"h2_settings_rcvd", "MCP", Type::U64},                  // 108
    {"h2_rst_stream_rcvd", "MCP", Type::U64},                // 109
    {"h2_goaway_rcvd", "MCP", Type::U64},                    // 110
    {"h2_detected_conn_protocol_errors", "MCP", Type::U64},  // 111
    {"h2_detected_strm_protocol_errors", "MCP", Type::U64},  // 112
    {"h2_rst_stream_resp", "MCP", Type::U64},                // 113
    {"h2_goaway_resp", "MCP", Type::U64},                    // 114
    {"h2_open_connections", "MGP", Type::U64},               // 115
    {"h2_backend_open_streams", "MGP", Type::U64},           // 116
    {"h2_total_connections", "MCP", Type::U64},              // 117
    {"h2_backend_total_streams", "MCP", Type::U64},          // 118
    {"h1_open_connections", "MGP", Type::U64},               // 119
    {"h1_open_streams", "MGP", Type::U64},                   // 120
    {"h1_total_connections", "MCP", Type::U64},              // 121
    {"h1_total_streams", "MCP", Type::U64},                  // 122
    {"h1_bytes_in", "MCP", Type::U64},                       // 123
    {"h1_bytes_out", "MCP", Type::U64},                      // 124
    {"h1_spliced_bytes_in", "MCP", Type::U64},               // 125
    {"h1_spliced_bytes_out", "MCP", Type::U64},              // 126
    // Sluice's own, after HAProxy's: latency percentiles from the histograms, in ms.
    {"qtime_p50", "MaP", Type::U32},
    {"qtime_p95", "MaP", Type::U32},
    {"qtime_p99", "MaP", Type::U32},
    {"ctime_p50", "MaP", Type::U32},
    {"ctime_p95", "MaP", Type::U32},
    {"ctime_p99", "MaP", Type::U32},
    {"rtime_p50", "MaP", Type::U32},
    {"rtime_p95", "MaP", Type::U32},
    {"rtime_p99", "MaP", Type::U32},
    {"ttime_p50", "MaP", Type::U32},
    {"ttime_p95", "MaP", Type::U32},
    {"ttime_p99", "MaP", Type::U32},
};

constexpr FieldDef kInfo[] = {
    {"Name", "POS", Type::Str},                         // 0
    {"Version", "POS", Type::Str},                      // 1
    {"Release_date", "POS", Type::Str},                 // 2
    {"Nbthread", "CGS", Type::U32},                     // 3
    {"Nbproc", "CGS", Type::U32},                       // 4
    {"Process_num", "KGP", Type::U32},                  // 5
    {"Pid", "SGP", Type::U32},                          // 6
    {"Uptime", "MDP", Type::Str},                       // 7
    {"Uptime_sec", "MDP", Type::U32},                   // 8
    {"Memmax_MB", "CLP", Type::U32},                    // 9
    {"PoolAlloc_MB", "MGP", Type::U32},                 // 10
    {"PoolUsed_MB", "MGP", Type::U32},                  // 11
    {"PoolFailed", "MCP", Type::U32},                   // 12
    {"Ulimit-n", "CLP", Type::U32},                     // 13
    {"Maxsock", "CLP", Type::U32},                      // 14
    {"Maxconn", "CLP", Type::U32},                      // 15
    {"Hard_maxconn", "CLP", Type::U32},                 // 16
    {"CurrConns", "MGP", Type::U32},                    // 17
    {"CumConns", "MCP", Type::U32},                     // 18
    {"CumReq", "MCP", Type::U32},                       // 19
    {"MaxSslConns", "MMP", Type::U32},                  // 20
    {"CurrSslConns", "MGP", Type::U32},                 // 21
    {"CumSslConns", "MCP", Type::U32},                  // 22
    {"Maxpipes", "CLP", Type::U32},                     // 23
    {"PipesUsed", "MGP", Type::U32},                    // 24
    {"PipesFree", "MGP", Type::U32},                    // 25
    {"ConnRate", "MRP", Type::U32},                     // 26
    {"ConnRateLimit", "CLP", Type::U32},                // 27
    {"MaxConnRate", "MMP", Type::U32},                  // 28
    {"SessRate", "MRP", Type::U32},                     // 29
    {"SessRateLimit", "CLP", Type::U32},                // 30
    {"MaxSessRate", "MRP", Type::U32},                  // 31
    {"SslRate", "MRP", Type::U32},                      // 32
    {"SslRateLimit", "CLP", Type::U32},                 // 33
    {"MaxSslRate", "MMP", Type::U32},                   // 34
    {"SslFrontendKeyRate", "MGP", Type::U32},           // 35
    {"SslFrontendMaxKeyRate", "MMP", Type::U32},        // 36
    {"SslFrontendSessionReuse_pct", "MGP", Type::U32},  // 37
    {"SslBackendKeyRate", "MRP", Type::U32},            // 38
    {"SslBackendMaxKeyRate", "MMP", Type::U32},         // 39
    {"SslCacheLookups", "MCP", Type::U32},              // 40
    {"SslCacheMisses", "MCP", Type::U32},               // 41
    {"CompressBpsIn", "MRP", Type::U32},                // 42
    {"CompressBpsOut", "MRP", Type::U32},               // 43
    {"CompressBpsRateLim", "CLP", Type::U32},           // 44
    {"ZlibMemUsage", "MGP", Type::U32},                 // 45
    {"MaxZlibMemUsage", "CLP", Type::U32},              // 46
    {"Tasks", "MGP", Type::U32},                        // 47
    {"Run_queue", "MGP", Type::U32},                    // 48
    {"Idle_pct", "MaP", Type::U32},                     // 49
    {"node", "COS", Type::Str},                         // 50
    {"description", "COS", Type::Str},                  // 51
    {"Stopping", "MGP", Type::U32},                     // 52
    {"Jobs", "MGP", Type::U32},                         // 53
    {"Unstoppable Jobs", "MGP", Type::U32},             // 54
    {"Listeners", "MGP", Type::U32},                    // 55
    {"ActivePeers", "MGP", Type::U32},                  // 56
    {"ConnectedPeers", "MGP", Type::U32},               // 57
    {"DroppedLogs", "MGP", Type::U32},                  // 58
    {"BusyPolling", "MGP", Type::U32},                  // 59
    {"FailedResolutions", "MGP", Type::U32},            // 60
    {"TotalBytesOut", "MGP", Type::U64},                // 61
    {"TotalSplicdedBytesOut", "MGP", Type::U64},        // 62
    {"BytesOutRate", "MRP", Type::U64},                 // 63
    {"DebugCommandsIssued", "MGP", Type::U32},          // 64
    {"CumRecvLogs", "MCP", Type::U32},                  // 65
    {"Build info", "POS", Type::Str},                   // 66
    {"Memmax_bytes", "CLP", Type::U32},                 // 67
    {"PoolAlloc_bytes", "MGP", Type::U64},              // 68
    {"PoolUsed_bytes", "MGP", Type::U64},               // 69
    {"Start_time_sec", "MDP", Type::U32},               // 70
    {"Tainted", "SGP", Type::Str},                      // 71
};

}  // namespace

std::span<const FieldDef> stat_fields() {
    return kStat;
}
std::span<const FieldDef> info_fields() {
    return kInfo;
}

}  // namespace sluice::stats
