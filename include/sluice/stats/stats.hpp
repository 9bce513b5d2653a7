// The statistics as HAProxy 2.6 reports them: `show stat` rows (one per frontend, server and
// backend, with HAProxy's columns in HAProxy's order, then Sluice's own after them) and the
// `show info` process values, and their three renderings (CSV or `key: value`, typed, JSON).
// Rows are computed on demand from the config's atomics and per-thread counters
// (proxy/counters.hpp); nothing here runs on the data path.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/proxy/runtime.hpp"

namespace sluice::stats {

enum class Type : std::uint8_t { S32, S64, U32, U64, Str };

// A column: its name and HAProxy's tags, three letters: origin (Metric, Status, Key, Config,
// Product), nature (Age, avg, Counter, Duration, Gauge, Limit, Max, Name, Output, Rate, Time),
// scope (Process, Service, system).
struct FieldDef {
    std::string_view name;
    std::string_view tags;
    Type type;
    std::string_view desc;  // what `desc` prints after the value (Sluice's own words)
};

// HAProxy 2.6's stat columns (positions 0..126; the CSV has a "-" column before 103), then
// Sluice's latency percentiles.
std::span<const FieldDef> stat_fields();
inline constexpr std::size_t kModuleFieldsAt = 103;  // the CSV's "-" separator goes before it
std::span<const FieldDef> info_fields();

struct Value {
    bool set = false;
    Type type = Type::U32;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    std::string s;
};

enum class ObjType : std::uint8_t { Frontend, Backend, Server, Listener };

struct Row {
    ObjType type = ObjType::Frontend;
    std::uint32_t proxy_id = 0;  // iid
    std::uint32_t id = 0;        // sid: the server's id, 0 for a proxy
    std::vector<Value> values;   // one per stat_fields() entry
    const proxy::Server* server = nullptr;
    const proxy::Backend* backend = nullptr;
    const proxy::Frontend* frontend = nullptr;
};

// `show stat [{<iid>|<proxy>} <type> <sid>] [up|no-maint]`: type is a mask, 1 frontends, 2
// backends, 4 servers.
struct Filter {
    std::int64_t proxy_id = -1;  // -1: every proxy
    std::string proxy_name;      // instead of an id
    unsigned types = 7;
    std::int64_t server_id = -1;  // -1: every server
    bool up_only = false;         // servers: only those UP
    bool no_maint = false;        // servers: not those in maintenance
};

// What the process knows beyond the config (the stats page and Prometheus pass what applies).
struct Process {
    double now = 0;                   // wall clock, seconds with fraction
    double start = 0;                 // when the process started
    std::uint32_t proxy_id_base = 0;  // added to proxy ids (HAProxy counts its CLI proxy)
    std::uint32_t idle_pct = 100;
    bool stopping = false;
    std::string node;
    std::string description;
};

// Every row the filter lets through: per proxy, the frontend, the servers, the backend, in the
// config's order (listen sections give both).
std::vector<Row> collect(const proxy::Config& config, const Process& process, const Filter& filter);

// A server's status as HAProxy words it: "UP", "UP 1/3", "DOWN", "DOWN 1/2", "NOLB", "DRAIN",
// "MAINT", "MAINT (via be/s1)", "no check".
std::string server_status(const proxy::Config& config, const proxy::Server& s);

// One value for `show info` per info_fields() entry (unset where HAProxy prints nothing).
std::vector<Value> info(const proxy::Config& config, const Process& process);

// Renderings, byte for byte as HAProxy's.
void csv_header(std::string& out);
void csv(std::string& out, const std::vector<Row>& rows);
// `desc`: each typed line (and each `show info` line) ends with `:"<description>"`, as
// HAProxy 2.6's `desc` option prints them; CSV and JSON do not change.
void typed(std::string& out, const std::vector<Row>& rows, bool desc = false);
void json(std::string& out, const std::vector<Row>& rows);
void info_text(std::string& out, const std::vector<Value>& values, bool desc = false);
void info_typed(std::string& out, const std::vector<Value>& values, bool desc = false);
void info_json(std::string& out, const std::vector<Value>& values);
// A value as the CSV and the `key: value` text print it.
void append_value(std::string& out, const Value& v);

// The start of the process (set once by main), for Uptime and Start_time_sec.
void set_process_start(double unix_time);
// What proxy ids shown to users add to a proxy's `uid`: 1 when a stats socket is configured
// (HAProxy numbers its CLI's proxy first), else 0.
std::uint32_t proxy_id_base(const proxy::Config& config);
// The Process as the runtime API and the stats page see it now.
Process process_now(const proxy::Config& config);

// Where a percentile falls in a timing's histogram (0 when it is empty), in ms: the upper
// bound of the bucket holding it, interpolated within the bucket.
double percentile(std::span<const std::uint64_t> buckets, double fraction);

}  // namespace sluice::stats
