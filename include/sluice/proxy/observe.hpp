// Passive health (`observe layer4|layer7`): what the streams see of a server's connections and
// responses, fed to its health check. The streams report each outcome through
// Server::observed(); a server without `observe` pays one test. Consecutive errors are counted
// in one atomic per server, and the check module is told when `error-limit` is reached (it acts
// on the thread that owns the server's check).
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::proxy {

struct Server;

enum class ObserveMode : std::uint8_t { None, Layer4, Layer7 };

// What a stream saw, as HAProxy's health analysis names it.
enum class Observed : std::uint8_t {
    L4Ok,          // a connection to the server was established
    L4Error,       // a connection attempt failed (refused, timed out, reset)
    HttpOk,        // a response with a status of 100-499, 501 or 505
    HttpStatus,    // any other status (500, 502-504, 506+)
    HttpHeaders,   // a response head that could not be parsed or was refused
    HttpResponse,  // a response body that broke its framing
    ReadError,     // the server reset the connection before answering
    ReadTimeout,   // no answer within `timeout server`
    BrokenPipe,    // the server closed before answering
};

// How an outcome counts for a mode: ignored, a success (resets the count) or an error.
enum class ObserveVerdict : std::uint8_t { Ignore, Success, Error };
ObserveVerdict classify(ObserveMode mode, Observed what);

// "L4 unsuccessful connection", "Wrong http response", ...: the words HAProxy puts after
// "last one was: " in its message.
std::string_view describe(Observed what);

// An HTTP status as layer7 observation counts it.
inline Observed observed_status(int status) {
    return status >= 100 && (status < 500 || status == 501 || status == 505) ? Observed::HttpOk
                                                                             : Observed::HttpStatus;
}

// Told when a server's consecutive errors reach its `error-limit` (any thread may call).
class ObserveSink {
  public:
    virtual ~ObserveSink() = default;
    virtual void limit_reached(Server& server, Observed last, std::uint32_t errors) = 0;
};

// Server::observed() once the server observes: counts, and tells the sink at the limit.
void observe_event(Server& server, Observed what);

}  // namespace sluice::proxy
