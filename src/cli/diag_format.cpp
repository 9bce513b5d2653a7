// The layouts of `show activity`, `show threads` and `show pools`, as HAProxy 2.6 prints them.
#include <fmt/format.h>

#include <algorithm>

#include "sluice/cli/diag.hpp"

namespace sluice::cli {

void activity_line(std::string& out, std::string_view key, std::span<const std::uint64_t> values,
                   bool average) {
    std::uint64_t total = 0;
    for (std::uint64_t v : values)
        total += v;
    if (average && !values.empty()) total = (total + values.size() / 2) / values.size();
    fmt::format_to(std::back_inserter(out), "{}: {}", key, total);
    if (values.size() > 1) {
        out.append(" [");
        for (std::uint64_t v : values)
            fmt::format_to(std::back_inserter(out), " {}", v);
        out.append(" ]");
    }
    out.push_back('\n');
}

void format_pools(std::string& out, std::vector<PoolLine> pools) {
    std::stable_sort(pools.begin(), pools.end(), [](const PoolLine& a, const PoolLine& b) {
        return a.block_size != b.block_size ? a.block_size < b.block_size : a.name < b.name;
    });
    out.append("Dumping pools usage. Use SIGQUIT to flush them.\n");
    std::uint64_t allocated = 0, used = 0, cached = 0;
    for (const PoolLine& p : pools) {
        fmt::format_to(std::back_inserter(out),
                       "  - Pool {} ({} bytes) : {} allocated ({} bytes), {} used (~{} by thread "
                       "caches), needed_avg {}, {} failures, {} users, @{:#x}\n",
                       p.name, p.block_size, p.allocated, p.allocated * p.block_size, p.used,
                       p.cached, p.needed_avg, p.failures, p.users, p.address);
        allocated += p.allocated * p.block_size;
        used += p.used * p.block_size;
        cached += p.cached * p.block_size;
    }
    fmt::format_to(std::back_inserter(out),
                   "Total: {} pools, {} bytes allocated, {} used (~{} by thread caches).\n",
                   pools.size(), allocated, used, cached);
}

void format_thread(std::string& out, const ThreadLine& t) {
    const char mark = t.current ? '*' : t.stuck ? '>' : ' ';
    fmt::format_to(std::back_inserter(out),
                   "{} Thread {} : id={:#x} act={} glob={} rq={} rqsz={}\n", mark, t.number, t.id,
                   t.handling ? 1 : 0, t.mailbox ? 1 : 0, t.events ? 1 : 0, t.events);
    // HAProxy's second line: thread group / thread within it, then whether the thread waits in
    // poll (harmless to a rendez-vous).
    fmt::format_to(std::back_inserter(out), "      1/{:<3}  harmless={}\n", t.number,
                   t.handling ? 0 : 1);
    if (t.cpu_ns)
        fmt::format_to(std::back_inserter(out), "             cpu_ns: now={}\n", t.cpu_ns);
}

}  // namespace sluice::cli

namespace sluice::cli {
namespace {

// Sluice's own schema of its JSON outputs. Unlike HAProxy 2.6's, a `show stat json` answer is
// described as it is printed (rows, each an array of fields), and an empty answer (a filter
// that selects nothing) is valid, hence `anyOf`.
constexpr std::string_view kSchema = R"({
  "$schema": "http://json-schema.org/draft-04/schema#",
  "title": "Sluice statistics",
  "anyOf": [
    {"title": "Info", "type": "array",
     "items": {"title": "InfoItem", "type": "object",
               "properties": {"field": {"$ref": "#/definitions/field"},
                              "processNum": {"$ref": "#/definitions/processNum"},
                              "tags": {"$ref": "#/definitions/tags"},
                              "value": {"$ref": "#/definitions/typedValue"}},
               "required": ["field", "processNum", "tags", "value"]}},
    {"title": "Stat", "type": "array",
     "items": {"title": "StatRow", "type": "array",
               "items": {"title": "StatItem", "type": "object",
                         "properties": {
                           "objType": {"enum": ["Frontend", "Backend", "Listener", "Server",
                                                "Unknown"]},
                           "proxyId": {"type": "integer", "minimum": 0},
                           "id": {"type": "integer", "minimum": 0},
                           "field": {"$ref": "#/definitions/field"},
                           "processNum": {"$ref": "#/definitions/processNum"},
                           "tags": {"$ref": "#/definitions/tags"},
                           "value": {"$ref": "#/definitions/typedValue"}},
                         "required": ["objType", "proxyId", "id", "field", "processNum",
                                      "tags", "value"]}}},
    {"title": "Error", "type": "object",
     "properties": {"errorStr": {"type": "string"}},
     "required": ["errorStr"]}
  ],
  "definitions": {
    "field": {"type": "object",
              "properties": {"pos": {"type": "integer", "minimum": 0},
                             "name": {"type": "string"}},
              "required": ["pos", "name"]},
    "processNum": {"type": "integer", "minimum": 1},
    "tags": {"type": "object",
             "properties": {
               "origin": {"type": "string",
                          "enum": ["Metric", "Status", "Key", "Config", "Product", "Unknown"]},
               "nature": {"type": "string",
                          "enum": ["Gauge", "Limit", "Min", "Max", "Rate", "Counter", "Duration",
                                   "Age", "Time", "Name", "Output", "Avg", "Unknown"]},
               "scope": {"type": "string",
                         "enum": ["Cluster", "Process", "Service", "System", "Unknown"]}},
             "required": ["origin", "nature", "scope"]},
    "typedValue": {"type": "object",
                   "oneOf": [{"$ref": "#/definitions/s32Value"},
                             {"$ref": "#/definitions/s64Value"},
                             {"$ref": "#/definitions/u32Value"},
                             {"$ref": "#/definitions/u64Value"},
                             {"$ref": "#/definitions/strValue"}]},
    "s32Value": {"properties": {"type": {"type": "string", "enum": ["s32"]},
                                "value": {"type": "integer", "minimum": -2147483648,
                                          "maximum": 2147483647}},
                 "required": ["type", "value"]},
    "s64Value": {"properties": {"type": {"type": "string", "enum": ["s64"]},
                                "value": {"type": "integer",
                                          "minimum": -9223372036854775808,
                                          "maximum": 9223372036854775807}},
                 "required": ["type", "value"]},
    "u32Value": {"properties": {"type": {"type": "string", "enum": ["u32"]},
                                "value": {"type": "integer", "minimum": 0,
                                          "maximum": 4294967295}},
                 "required": ["type", "value"]},
    "u64Value": {"properties": {"type": {"type": "string", "enum": ["u64"]},
                                "value": {"type": "integer", "minimum": 0,
                                          "maximum": 18446744073709551615}},
                 "required": ["type", "value"]},
    "strValue": {"properties": {"type": {"type": "string", "enum": ["str"]},
                                "value": {"type": "string"}},
                 "required": ["type", "value"]}
  }
})";

}  // namespace

std::string json_minify(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < text.size())
                out.push_back(text[++i]);
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
            out.push_back(c);
        } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            out.push_back(c);
        }
    }
    return out;
}

std::string_view stats_json_schema() {
    static const std::string minified = json_minify(kSchema);
    return minified;
}

}  // namespace sluice::cli
