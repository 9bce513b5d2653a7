// Fuzzes the Prometheus exporter's query string reader (stats/prometheus.cpp): any bytes give
// a scope set or a refusal, and a scope set never names more than the four scopes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sluice/stats/prometheus.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto q = sluice::stats::parse_prom_query(in);
    // Without any "scope" key the default (everything) stands.
    if (q && in.find("scope") == std::string_view::npos &&
        !(q->global && q->frontend && q->backend && q->server))
        __builtin_trap();
    return 0;
}
