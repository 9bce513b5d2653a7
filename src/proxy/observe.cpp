// Passive health: classifying what streams saw and counting consecutive errors (observe.hpp).
#include "sluice/proxy/observe.hpp"

#include "sluice/proxy/runtime.hpp"

namespace sluice::proxy {

ObserveVerdict classify(ObserveMode mode, Observed what) {
    using V = ObserveVerdict;
    switch (mode) {
        case ObserveMode::None:
            return V::Ignore;
        case ObserveMode::Layer4:
            // Only connections matter: whatever the server answers is not judged.
            if (what == Observed::L4Ok) return V::Success;
            if (what == Observed::L4Error) return V::Error;
            return V::Ignore;
        case ObserveMode::Layer7:
            // A connection is no proof of health here (HAProxy ignores it); a failed one is
            // still an error, and every response is judged.
            if (what == Observed::L4Ok) return V::Ignore;
            if (what == Observed::HttpOk) return V::Success;
            return V::Error;
    }
    return V::Ignore;
}

std::string_view describe(Observed what) {
    switch (what) {
        case Observed::L4Ok:
            return "L4 successful connection";
        case Observed::L4Error:
            return "L4 unsuccessful connection";
        case Observed::HttpOk:
            return "Correct http response";
        case Observed::HttpStatus:
            return "Wrong http response";
        case Observed::HttpHeaders:
            return "Invalid http response (headers)";
        case Observed::HttpResponse:
            return "Invalid http response";
        case Observed::ReadError:
            return "Read error (http)";
        case Observed::ReadTimeout:
            return "Read timeout (http)";
        case Observed::BrokenPipe:
            return "Close from server (http)";
    }
    return "Unknown";
}

void observe_event(Server& server, Observed what) {
    std::atomic<std::uint32_t>& errors = server.consecutive_errors;
    switch (classify(server.observe, what)) {
        case ObserveVerdict::Ignore:
            return;
        case ObserveVerdict::Success:
            // Most responses are good: the shared counter is written only when it changes.
            if (errors.load(std::memory_order_relaxed) != 0)
                errors.store(0, std::memory_order_relaxed);
            return;
        case ObserveVerdict::Error:
            break;
    }
    std::uint32_t n = errors.fetch_add(1, std::memory_order_relaxed) + 1;
    if (n < server.error_limit) return;
    // Several threads may pass the limit together: the one that resets the count reports.
    if (!errors.compare_exchange_strong(n, 0, std::memory_order_relaxed)) return;
    if (server.observe_sink) server.observe_sink->limit_reached(server, what, n);
}

}  // namespace sluice::proxy
