// HAProxy 2.6's Prometheus exporter (`http-request use-service prometheus-exporter`): the
// process, frontend, backend and server metrics in the text exposition format 0.0.4, with
// HAProxy's metric names, types and labels, built from the stats rows (stats.hpp). Sluice adds
// latency histograms from the per-object timing histograms (doc/differences.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sluice/stats/stats.hpp"

namespace sluice::stats {

// What a scrape asks for: `scope=` (repeatable; the first one replaces the default of
// everything, an empty one clears the scopes before it) and `no-maint` (servers in maintenance
// left out).
struct PromQuery {
    bool global = true;
    bool frontend = true;
    bool backend = true;
    bool server = true;
    bool no_maint = false;
};

// The query string (after '?', without it); nullopt for a scope HAProxy does not know (it
// answers 400 then).
std::optional<PromQuery> parse_prom_query(std::string_view query);

// The metrics the query asks for, appended to `out`.
void prometheus(std::string& out, const proxy::Config& config, const Process& process,
                const PromQuery& query);

inline constexpr std::string_view kPromContentType = "text/plain; version=0.0.4";

}  // namespace sluice::stats
