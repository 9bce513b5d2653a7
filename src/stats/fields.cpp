// The columns of `show stat` and the values of `show info`, with HAProxy 2.6's names, tags and
// types (what `show stat typed` and `show info typed` print), in HAProxy's order.
#include "sluice/stats/stats.hpp"

#include <array>

namespace sluice::stats {
namespace {

constexpr FieldDef kStat[] = {
    {"pxname", "KNS", Type::Str, "Name of the frontend, backend or listen section"},  // 0
    {"svname", "KNS", Type::Str,
     "FRONTEND or BACKEND for a proxy's own row, else the server's name"},          // 1
    {"qcur", "MGP", Type::U32, "Requests waiting in the queue now"},                // 2
    {"qmax", "MMP", Type::U32, "Most requests ever waiting in the queue at once"},  // 3
    {"scur", "MGP", Type::U32, "Sessions open now"},                                // 4
    {"smax", "MMP", Type::U32, "Most sessions ever open at once"},                  // 5
    {"slim", "CLP", Type::U32,
     "Session limit: maxconn of a frontend or server, fullconn of a backend"},                // 6
    {"stot", "MCP", Type::U64, "Sessions handled since the process started"},                 // 7
    {"bin", "MCP", Type::U64, "Bytes received from clients since the process started"},       // 8
    {"bout", "MCP", Type::U64, "Bytes sent to clients since the process started"},            // 9
    {"dreq", "MCP", Type::U64, "Requests refused by the rules since the process started"},    // 10
    {"dresp", "MCP", Type::U64, "Responses refused by the rules since the process started"},  // 11
    {"ereq", "MCP", Type::U64, "Requests that could not be read or were invalid"},            // 12
    {"econ", "MCP", Type::U64, "Attempts to connect to a server that failed"},                // 13
    {"eresp", "MCP", Type::U64, "Server responses that were invalid or cut"},                 // 14
    {"wretr", "MCP", Type::U64, "Connection attempts retried on the same server"},            // 15
    {"wredis", "MCP", Type::U64,
     "Requests sent to another server after a failed connection (redispatch)"},  // 16
    {"status", "SGP", Type::Str,
     "State: OPEN/STOP for a frontend, UP/DOWN for a backend, the check's view for a "
     "server"},  // 17
    {"weight", "MaP", Type::U32,
     "Weight in use by the server, or the total of the usable servers' weights for a "
     "backend"},  // 18
    {"act", "MGP", Type::U32,
     "Active servers that are up (backend), or 1 when this server is an active one"},  // 19
    {"bck", "MGP", Type::U32,
     "Backup servers that are up (backend), or 1 when this server is a backup one"},     // 20
    {"chkfail", "MCP", Type::U64, "Health checks that failed"},                          // 21
    {"chkdown", "MCP", Type::U64, "Times the server or backend went from UP to DOWN"},   // 22
    {"lastchg", "MAP", Type::U32, "Seconds since the last change between UP and DOWN"},  // 23
    {"downtime", "MCP", Type::U32, "Seconds spent DOWN since the process started"},      // 24
    {"qlimit", "CGS", Type::U32, "Queue limit of the server (maxqueue)"},                // 25
    {"pid", "KGP", Type::U32, "Process number (always 1)"},                              // 26
    {"iid", "KGS", Type::U32, "Numeric id of the proxy"},                                // 27
    {"sid", "KGS", Type::U32, "Numeric id of the server, 0 for a proxy's own row"},      // 28
    {"throttle", "MGP", Type::U32,
     "Share of its limit a slow-starting server is allowed now, in percent"},               // 29
    {"lbtot", "MCP", Type::U64, "Times the server was chosen by the balancing algorithm"},  // 30
    {"tracked", "CNS", Type::Str,
     "Server whose health this one follows (track), as backend/server"},                       // 31
    {"type", "CGS", Type::U32, "Kind of row: 0 frontend, 1 backend, 2 server, 3 listener"},    // 32
    {"rate", "MGP", Type::U32, "Sessions started over the last second"},                       // 33
    {"rate_lim", "CLP", Type::U32, "Limit on new sessions per second (rate-limit sessions)"},  // 34
    {"rate_max", "MGP", Type::U32, "Most sessions started in one second"},                     // 35
    {"check_status", "MOP", Type::Str, "Outcome of the last health check"},                    // 36
    {"check_code", "MOP", Type::U32,
     "Status code of the last health check's answer (layer 5-7)"},                             // 37
    {"check_duration", "MDP", Type::U64, "Time the last health check took, in milliseconds"},  // 38
    {"hrsp_1xx", "MCP", Type::U64, "HTTP responses with a 1xx status"},                        // 39
    {"hrsp_2xx", "MCP", Type::U64, "HTTP responses with a 2xx status"},                        // 40
    {"hrsp_3xx", "MCP", Type::U64, "HTTP responses with a 3xx status"},                        // 41
    {"hrsp_4xx", "MCP", Type::U64, "HTTP responses with a 4xx status"},                        // 42
    {"hrsp_5xx", "MCP", Type::U64, "HTTP responses with a 5xx status"},                        // 43
    {"hrsp_other", "MCP", Type::U64, "HTTP responses with another status, or none"},           // 44
    {"hanafail", "MCP", Type::U64,
     "Failed health checks noted by passive observation (observe)"},                   // 45
    {"req_rate", "MRP", Type::U32, "HTTP requests over the last second"},              // 46
    {"req_rate_max", "MMP", Type::U32, "Most HTTP requests in one second"},            // 47
    {"req_tot", "MCP", Type::U64, "HTTP requests handled since the process started"},  // 48
    {"cli_abrt", "MCP", Type::U64, "Transfers ended by the client"},                   // 49
    {"srv_abrt", "MCP", Type::U64, "Transfers ended by the server"},                   // 50
    {"comp_in", "MCP", Type::U64, "Bytes fed to the HTTP compressor"},                 // 51
    {"comp_out", "MCP", Type::U64, "Bytes produced by the HTTP compressor"},           // 52
    {"comp_byp", "MCP", Type::U64, "Bytes that bypassed the HTTP compressor"},         // 53
    {"comp_rsp", "MCP", Type::U64, "HTTP responses that were compressed"},             // 54
    {"lastsess", "MAP", Type::S32,
     "Seconds since the last session was given to this object, -1 if never"},  // 55
    {"last_chk", "MOP", Type::Str, "What the last health check reported"},     // 56
    {"last_agt", "MOP", Type::Str, "What the last agent check reported"},      // 57
    {"qtime", "MaP", Type::U32,
     "Time spent in the queue, average of the last 1024 requests, in milliseconds"},  // 58
    {"ctime", "MaP", Type::U32,
     "Time to connect to the server, average of the last 1024 requests, in milliseconds"},  // 59
    {"rtime", "MaP", Type::U32,
     "Time to the server's response, average of the last 1024 requests, in milliseconds"},  // 60
    {"ttime", "MaP", Type::U32,
     "Whole time of a session, average of the last 1024 requests, in milliseconds"},          // 61
    {"agent_status", "MOP", Type::Str, "Outcome of the last agent check"},                    // 62
    {"agent_code", "MOP", Type::U32, "Code reported by the last agent check"},                // 63
    {"agent_duration", "MDP", Type::U64, "Time the last agent check took, in milliseconds"},  // 64
    {"check_desc", "MOP", Type::Str, "The last health check's outcome in words"},             // 65
    {"agent_desc", "MOP", Type::Str, "The last agent check's outcome in words"},              // 66
    {"check_rise", "CGS", Type::U32, "Passing checks needed to turn UP (rise)"},              // 67
    {"check_fall", "CGS", Type::U32, "Failing checks needed to turn DOWN (fall)"},            // 68
    {"check_health", "CGS", Type::U32,
     "Health counter of the checks, from 0 to rise+fall-1"},                           // 69
    {"agent_rise", "CGS", Type::U32, "Passing agent checks needed to turn UP"},        // 70
    {"agent_fall", "CGS", Type::U32, "Failing agent checks needed to turn DOWN"},      // 71
    {"agent_health", "CGS", Type::U32, "Health counter of the agent checks"},          // 72
    {"addr", "CGS", Type::Str, "The server's address and port"},                       // 73
    {"cookie", "CNS", Type::Str, "The server's persistence cookie value"},             // 74
    {"mode", "CGS", Type::Str, "The proxy mode: tcp or http"},                         // 75
    {"algo", "CGS", Type::Str, "The backend's balancing algorithm"},                   // 76
    {"conn_rate", "MRP", Type::U32, "Connections accepted over the last second"},      // 77
    {"conn_rate_max", "MMP", Type::U32, "Most connections accepted in one second"},    // 78
    {"conn_tot", "MCP", Type::U64, "Connections accepted since the process started"},  // 79
    {"intercepted", "MCP", Type::U64,
     "Requests answered by the proxy itself (redirect, return, stats, monitor)"},             // 80
    {"dcon", "MCP", Type::U64, "Connections refused by tcp-request connection rules"},        // 81
    {"dses", "MCP", Type::U64, "Sessions refused by tcp-request session rules"},              // 82
    {"wrew", "MCP", Type::U64, "Header rewrites that failed"},                                // 83
    {"connect", "MCP", Type::U64, "Connections opened to servers"},                           // 84
    {"reuse", "MCP", Type::U64, "Idle server connections used again"},                        // 85
    {"cache_lookups", "MCP", Type::U64, "Lookups in the HTTP cache"},                         // 86
    {"cache_hits", "MCP", Type::U64, "Lookups in the HTTP cache that found an object"},       // 87
    {"srv_icur", "MGP", Type::U32, "Idle connections to the server that may be reused now"},  // 88
    {"src_ilim", "CLP", Type::U32,
     "Limit on idle connections to the server (pool-max-conn)"},                          // 89
    {"qtime_max", "MMP", Type::U32, "Longest time spent in the queue, in milliseconds"},  // 90
    {"ctime_max", "MMP", Type::U32,
     "Longest time to connect to the server, in milliseconds"},  // 91
    {"rtime_max", "MMP", Type::U32,
     "Longest time to the server's response, in milliseconds"},                      // 92
    {"ttime_max", "MMP", Type::U32, "Longest whole session time, in milliseconds"},  // 93
    {"eint", "MCP", Type::U64, "Internal errors"},                                   // 94
    {"idle_conn_cur", "MGP", Type::U32,
     "Idle server connections not safe to reuse for a first request"},  // 95
    {"safe_conn_cur", "MGP", Type::U32,
     "Idle server connections safe to reuse for any request"},                         // 96
    {"used_conn_cur", "MGP", Type::U32, "Server connections in use now"},              // 97
    {"need_conn_est", "MGP", Type::U32, "Estimate of the server connections needed"},  // 98
    {"uweight", "MaP", Type::U32,
     "Weight set by the configuration or the runtime API, or their total for a backend"},   // 99
    {"agg_server_status", "MGP", Type::U32, "Servers of the backend, summed up by state"},  // 100
    {"agg_server_check_status", "MGP", Type::U32,
     "Servers of the backend, summed up by check state (deprecated)"},  // 101
    {"agg_check_status", "MGP", Type::U32,
     "Health checks of the backend's servers, summed up by state"},                 // 102
    {"ssl_sess", "MCP", Type::U64, "TLS sessions established"},                     // 103
    {"ssl_reused_sess", "MCP", Type::U64, "TLS sessions resumed"},                  // 104
    {"ssl_failed_handshake", "MCP", Type::U64, "TLS handshakes that failed"},       // 105
    {"h2_headers_rcvd", "MCP", Type::U64, "HTTP/2 HEADERS frames received"},        // 106
    {"h2_data_rcvd", "MCP", Type::U64, "HTTP/2 DATA frames received"},              // 107
    {"h2_settings_rcvd", "MCP", Type::U64, "HTTP/2 SETTINGS frames received"},      // 108
    {"h2_rst_stream_rcvd", "MCP", Type::U64, "HTTP/2 RST_STREAM frames received"},  // 109
    {"h2_goaway_rcvd", "MCP", Type::U64, "HTTP/2 GOAWAY frames received"},          // 110
    {"h2_detected_conn_protocol_errors", "MCP", Type::U64,
     "HTTP/2 protocol errors on connections"},  // 111
    {"h2_detected_strm_protocol_errors", "MCP", Type::U64,
     "HTTP/2 protocol errors on streams"},                                                // 112
    {"h2_rst_stream_resp", "MCP", Type::U64, "HTTP/2 RST_STREAM frames sent"},            // 113
    {"h2_goaway_resp", "MCP", Type::U64, "HTTP/2 GOAWAY frames sent"},                    // 114
    {"h2_open_connections", "MGP", Type::U64, "HTTP/2 connections open now"},             // 115
    {"h2_backend_open_streams", "MGP", Type::U64, "HTTP/2 streams open to servers now"},  // 116
    {"h2_total_connections", "MCP", Type::U64,
     "HTTP/2 connections since the process started"},  // 117
    {"h2_backend_total_streams", "MCP", Type::U64,
     "HTTP/2 streams to servers since the process started"},                   // 118
    {"h1_open_connections", "MGP", Type::U64, "HTTP/1 connections open now"},  // 119
    {"h1_open_streams", "MGP", Type::U64, "HTTP/1 streams open now"},          // 120
    {"h1_total_connections", "MCP", Type::U64,
     "HTTP/1 connections since the process started"},                                     // 121
    {"h1_total_streams", "MCP", Type::U64, "HTTP/1 streams since the process started"},   // 122
    {"h1_bytes_in", "MCP", Type::U64, "Bytes received over HTTP/1"},                      // 123
    {"h1_bytes_out", "MCP", Type::U64, "Bytes sent over HTTP/1"},                         // 124
    {"h1_spliced_bytes_in", "MCP", Type::U64, "Bytes received over HTTP/1 by splicing"},  // 125
    {"h1_spliced_bytes_out", "MCP", Type::U64, "Bytes sent over HTTP/1 by splicing"},     // 126
    // Sluice's own, after HAProxy's: latency percentiles from the histograms, in ms.
    {"qtime_p50", "MaP", Type::U32,
     "50th percentile of the time spent in the queue, in milliseconds (Sluice)"},
    {"qtime_p95", "MaP", Type::U32,
     "95th percentile of the time spent in the queue, in milliseconds (Sluice)"},
    {"qtime_p99", "MaP", Type::U32,
     "99th percentile of the time spent in the queue, in milliseconds (Sluice)"},
    {"ctime_p50", "MaP", Type::U32,
     "50th percentile of the time to connect to the server, in milliseconds (Sluice)"},
    {"ctime_p95", "MaP", Type::U32,
     "95th percentile of the time to connect to the server, in milliseconds (Sluice)"},
    {"ctime_p99", "MaP", Type::U32,
     "99th percentile of the time to connect to the server, in milliseconds (Sluice)"},
    {"rtime_p50", "MaP", Type::U32,
     "50th percentile of the time to the server's response, in milliseconds (Sluice)"},
    {"rtime_p95", "MaP", Type::U32,
     "95th percentile of the time to the server's response, in milliseconds (Sluice)"},
    {"rtime_p99", "MaP", Type::U32,
     "99th percentile of the time to the server's response, in milliseconds (Sluice)"},
    {"ttime_p50", "MaP", Type::U32,
     "50th percentile of the whole session time, in milliseconds (Sluice)"},
    {"ttime_p95", "MaP", Type::U32,
     "95th percentile of the whole session time, in milliseconds (Sluice)"},
    {"ttime_p99", "MaP", Type::U32,
     "99th percentile of the whole session time, in milliseconds (Sluice)"},
};

constexpr FieldDef kInfo[] = {
    {"Name", "POS", Type::Str, "Name of the product"},                       // 0
    {"Version", "POS", Type::Str, "Version of the product"},                 // 1
    {"Release_date", "POS", Type::Str, "Date of the product's release"},     // 2
    {"Nbthread", "CGS", Type::U32, "Threads the process runs"},              // 3
    {"Nbproc", "CGS", Type::U32, "Processes (always 1)"},                    // 4
    {"Process_num", "KGP", Type::U32, "Number of this process (always 1)"},  // 5
    {"Pid", "SGP", Type::U32, "System process id"},                          // 6
    {"Uptime", "MDP", Type::Str,
     "Time since the process started, in days, hours, minutes and seconds"},               // 7
    {"Uptime_sec", "MDP", Type::U32, "Time since the process started, in seconds"},        // 8
    {"Memmax_MB", "CLP", Type::U32, "Memory limit of the process (-m), in megabytes"},     // 9
    {"PoolAlloc_MB", "MGP", Type::U32, "Memory held by the pools, in megabytes"},          // 10
    {"PoolUsed_MB", "MGP", Type::U32, "Memory of the pools in use, in megabytes"},         // 11
    {"PoolFailed", "MCP", Type::U32, "Pool allocations that failed"},                      // 12
    {"Ulimit-n", "CLP", Type::U32, "Limit on open file descriptors"},                      // 13
    {"Maxsock", "CLP", Type::U32, "Most sockets the process may hold"},                    // 14
    {"Maxconn", "CLP", Type::U32, "Connection limit of the process (maxconn)"},            // 15
    {"Hard_maxconn", "CLP", Type::U32, "Connection limit the process started with"},       // 16
    {"CurrConns", "MGP", Type::U32, "Connections open now"},                               // 17
    {"CumConns", "MCP", Type::U32, "Connections since the process started"},               // 18
    {"CumReq", "MCP", Type::U32, "Requests since the process started"},                    // 19
    {"MaxSslConns", "MMP", Type::U32, "Limit on TLS connections"},                         // 20
    {"CurrSslConns", "MGP", Type::U32, "TLS connections open now"},                        // 21
    {"CumSslConns", "MCP", Type::U32, "TLS connections since the process started"},        // 22
    {"Maxpipes", "CLP", Type::U32, "Limit on pipes for splicing"},                         // 23
    {"PipesUsed", "MGP", Type::U32, "Pipes in use now"},                                   // 24
    {"PipesFree", "MGP", Type::U32, "Pipes kept for reuse"},                               // 25
    {"ConnRate", "MRP", Type::U32, "Connections accepted over the last second"},           // 26
    {"ConnRateLimit", "CLP", Type::U32, "Limit on connections per second (maxconnrate)"},  // 27
    {"MaxConnRate", "MMP", Type::U32, "Most connections accepted in one second"},          // 28
    {"SessRate", "MRP", Type::U32, "Sessions started over the last second"},               // 29
    {"SessRateLimit", "CLP", Type::U32, "Limit on sessions per second (maxsessrate)"},     // 30
    {"MaxSessRate", "MRP", Type::U32, "Most sessions started in one second"},              // 31
    {"SslRate", "MRP", Type::U32, "TLS sessions over the last second"},                    // 32
    {"SslRateLimit", "CLP", Type::U32, "Limit on TLS sessions per second"},                // 33
    {"MaxSslRate", "MMP", Type::U32, "Most TLS sessions in one second"},                   // 34
    {"SslFrontendKeyRate", "MGP", Type::U32,
     "TLS keys computed for clients over the last second"},  // 35
    {"SslFrontendMaxKeyRate", "MMP", Type::U32,
     "Most TLS keys computed for clients in one second"},  // 36
    {"SslFrontendSessionReuse_pct", "MGP", Type::U32,
     "Share of client TLS sessions resumed, in percent"},  // 37
    {"SslBackendKeyRate", "MRP", Type::U32,
     "TLS keys computed for servers over the last second"},  // 38
    {"SslBackendMaxKeyRate", "MMP", Type::U32,
     "Most TLS keys computed for servers in one second"},                       // 39
    {"SslCacheLookups", "MCP", Type::U32, "Lookups in the TLS session cache"},  // 40
    {"SslCacheMisses", "MCP", Type::U32,
     "Lookups in the TLS session cache that found nothing"},                              // 41
    {"CompressBpsIn", "MRP", Type::U32, "Bytes per second fed to the HTTP compressor"},   // 42
    {"CompressBpsOut", "MRP", Type::U32, "Bytes per second out of the HTTP compressor"},  // 43
    {"CompressBpsRateLim", "CLP", Type::U32,
     "Limit on compressor input, in bytes per second"},                                      // 44
    {"ZlibMemUsage", "MGP", Type::U32, "Memory used by zlib now"},                           // 45
    {"MaxZlibMemUsage", "CLP", Type::U32, "Limit on the memory zlib may use"},               // 46
    {"Tasks", "MGP", Type::U32, "Tasks of the process"},                                     // 47
    {"Run_queue", "MGP", Type::U32, "Tasks ready to run"},                                   // 48
    {"Idle_pct", "MaP", Type::U32, "Share of time the threads were idle, in percent"},       // 49
    {"node", "COS", Type::Str, "Name of this node (node)"},                                  // 50
    {"description", "COS", Type::Str, "Description of this node (description)"},             // 51
    {"Stopping", "MGP", Type::U32, "1 while the process is stopping"},                       // 52
    {"Jobs", "MGP", Type::U32, "Sessions, listeners and other jobs the process holds"},      // 53
    {"Unstoppable Jobs", "MGP", Type::U32, "Jobs that a soft stop waits for"},               // 54
    {"Listeners", "MGP", Type::U32, "Listening sockets"},                                    // 55
    {"ActivePeers", "MGP", Type::U32, "Peers being connected or connected"},                 // 56
    {"ConnectedPeers", "MGP", Type::U32, "Peers connected"},                                 // 57
    {"DroppedLogs", "MGP", Type::U32, "Log messages lost"},                                  // 58
    {"BusyPolling", "MGP", Type::U32, "1 when busy polling is on"},                          // 59
    {"FailedResolutions", "MGP", Type::U32, "DNS resolutions that failed"},                  // 60
    {"TotalBytesOut", "MGP", Type::U64, "Bytes sent to clients since the process started"},  // 61
    {"TotalSplicdedBytesOut", "MGP", Type::U64,
     "Bytes sent to clients by splicing since the process started"},                          // 62
    {"BytesOutRate", "MRP", Type::U64, "Bytes sent to clients over the last second"},         // 63
    {"DebugCommandsIssued", "MGP", Type::U32, "Debug commands run through the runtime API"},  // 64
    {"CumRecvLogs", "MCP", Type::U32, "Log messages received"},                               // 65
    {"Build info", "POS", Type::Str, "How the product was built"},                            // 66
    {"Memmax_bytes", "CLP", Type::U32, "Memory limit of the process (-m), in bytes"},         // 67
    {"PoolAlloc_bytes", "MGP", Type::U64, "Memory held by the pools, in bytes"},              // 68
    {"PoolUsed_bytes", "MGP", Type::U64, "Memory of the pools in use, in bytes"},             // 69
    {"Start_time_sec", "MDP", Type::U32,
     "When the process started, in seconds since the epoch"},  // 70
    {"Tainted", "SGP", Type::Str,
     "Flags of unusual features in use (experimental directives...)"},  // 71
};

}  // namespace

std::span<const FieldDef> stat_fields() {
    return kStat;
}
std::span<const FieldDef> info_fields() {
    return kInfo;
}

}  // namespace sluice::stats
