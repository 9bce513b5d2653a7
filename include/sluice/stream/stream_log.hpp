// How a frontend's streams are logged (HTTP transactions and TCP sessions alike): whether a
// line goes out (`dontlognull`, `dontlog-normal`, the targets' levels), at which level
// (`log-separate-errors`), and its rendering with the frontend's format (see log/record.hpp,
// log/proxy_format.hpp). Nothing here allocates per line once a thread has logged a few.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>

#include "sluice/log/logger.hpp"
#include "sluice/log/proxy_format.hpp"
#include "sluice/log/record.hpp"
#include "sluice/sample/capture.hpp"
#include "sluice/sample/sample.hpp"
#include "sluice/stream/server_attempt.hpp"
#include "sluice/stream/stream.hpp"

namespace sluice::proxy {
struct Frontend;
}

namespace sluice::stream {

class StreamLog {
  public:
    StreamLog(const log::Logger& logger, const log::ProxyLogFormat& conf,
              const sample::Format& format, std::atomic<std::uint64_t>& lines)
        : logger_(logger), conf_(conf), format_(format), lines_(lines) {}
    // `error`: the stream ended in error (a termination state, a 5xx); `null`: the connection
    // carried nothing (no request); `forced`: set-log-level's (rules::Outcome::log_level).
    bool wanted(bool error, bool null, std::int8_t forced = -1) const;
    // Renders the line from what `ctx` holds (the log::Record among it) and sends it.
    void send(sample::Context& ctx, bool error, std::int8_t forced = -1) const;
    const sample::Format& format() const { return format_; }

  private:
    log::Level level(bool error, std::int8_t forced) const {
        if (forced >= 0 && forced < 8) return static_cast<log::Level>(forced);
        return error && conf_.log_separate_errors ? log::Level::Err : log::Level::Info;
    }
    const log::Logger& logger_;
    const log::ProxyLogFormat& conf_;
    const sample::Format& format_;
    std::atomic<std::uint64_t>& lines_;  // the frontend's count of lines sent (%lc)
};

// How `fe` logs its streams; nothing when it has no log target or no format (HAProxy sends no
// traffic log then).
std::optional<StreamLog> stream_log(const proxy::Frontend& fe, bool http_mode);

// The addresses of an accepted socket (peer, local), for logs that need them.
std::unique_ptr<ClientAddresses> socket_addresses(int fd);

// "METHOD URI VERSION" into the record's request parts.
void split_request_line(std::string_view line, log::Record& r);

// The captured headers and cookies of a transaction, as the record shows them; the views stay
// valid until the next fill on this thread.
void show_captures(const sample::Captures& captures, log::Record& r);

// HAProxy's %rt: a number per logged stream, process-wide.
std::uint64_t next_request_id();
// Whether the frontend's traffic log line shows the server connection's own address (%bi,
// %bp): only then is it asked of the socket, once per server connection.
bool logs_backend_source(const proxy::Frontend& fe, bool http_mode);

// The names, counts and retries a log line shows about where the stream went: `srv` the
// server of its last attempt (null: `no_server` is named, "<NOSRV>" or a service's), the
// stream's own slot (if `attempt` still holds one) left out of the counts, as HAProxy logs
// after letting its server go.
void fill_destination(log::Record& r, const proxy::Config& config, const proxy::Frontend& fe,
                      const proxy::Backend* be, const ServerAttempt& attempt,
                      const proxy::Server* srv, std::string_view no_server);

}  // namespace sluice::stream
