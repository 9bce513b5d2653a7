// The last invalid HTTP message each proxy refused, for the runtime API's `show errors`: a
// frontend keeps the last bad request, a backend the last bad response. Nothing here runs on the
// normal path: a stream calls in only once it has decided a message is invalid, and a proxy that
// never saw one holds an empty slot (no snapshot is allocated before the first error).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "sluice/http/h1_parse.hpp"

namespace sluice::http {

// One refused message, as it was in the buffer that held it.
struct ErrorSnapshot {
    std::int64_t when_us = 0;  // wall clock, microseconds since the epoch
    std::uint32_t event = 0;   // process-wide number of the capture (0 for the first)
    // The other proxy involved: the frontend of a bad response, the backend of a bad request
    // when one was chosen already. Empty name: none (printed `<NONE> (#-1)`).
    std::string peer_name;
    std::int64_t peer_id = -1;
    std::string server_name;  // the server that sent a bad response; empty: none
    std::int64_t server_id = -1;
    std::string source;           // the client's address and port ("127.0.0.1:34494")
    std::uint64_t buf_start = 0;  // offset in the message of the buffer's first byte
    std::uint32_t buf_size = 0;   // the buffer's capacity (tune.bufsize)
    std::uint32_t error_at = 0;   // offset in `bytes` of the offending byte (== size: at the end)
    std::string reason;           // Sluice's words for the error, and where in the message
    std::string bytes;            // the buffer's bytes, up to buf_size
};

// One proxy's slot for one direction. Written by any worker on its error path, read by the
// runtime API: a small mutex, and the snapshot shared so a reader never copies bytes under it.
class ErrorSlot {
  public:
    void store(std::shared_ptr<const ErrorSnapshot> snapshot) {
        std::lock_guard lock(mu_);
        last_.swap(snapshot);  // the old one is freed outside the lock, with `snapshot`
    }
    std::shared_ptr<const ErrorSnapshot> load() const {
        std::lock_guard lock(mu_);
        return last_;
    }

  private:
    mutable std::mutex mu_;
    std::shared_ptr<const ErrorSnapshot> last_;
};

// The number of the next capture (HAProxy counts them for the whole process, never resets
// them, not even with `clear counters all`), and how many were taken so far.
std::uint32_t next_error_event();
std::uint32_t error_events();

// Wall clock now, in microseconds, as snapshots and `show errors` date them.
std::int64_t wall_clock_us();
// "[07/Dec/2026:09:13:38.903]": local time, milliseconds.
std::string error_date(std::int64_t when_us);

// Where a head refused for its framing is at fault, as an offset from `head` (the head's first
// byte; `headers` are views into it): the value of the Content-Length or Transfer-Encoding field
// that broke the rules, or the end of the head (`head_len`) when the fault is in no one field
// (chunked missing at the end, a coding Sluice does not decode), as HAProxy reports them.
std::size_t framing_error_offset(const HeaderList& headers, FramingError error,
                                 const std::byte* head, std::size_t head_len);
// The offset of the value of the `nth` (from 0) field named `name`, or `head_len`.
std::size_t field_value_offset(const HeaderList& headers, std::string_view name, std::size_t nth,
                               const std::byte* head, std::size_t head_len);

// One output line of a dump, starting at `pos` in `bytes`: its offset in five digits, ' ' if it
// starts an input line (`line_start == pos`) or '+' for the rest of a cut one, then the bytes
// escaped (\t \n \r \e \\, \xNN for other non-printable bytes), cut so that the line stays
// within 79 columns, and a newline. An input line ends after its LF (`line_start` then moves
// to the next one). Returns where the next output line starts.
std::size_t dump_line(std::string& out, std::string_view bytes, std::size_t pos,
                      std::size_t& line_start);

// One snapshot in `show errors`' layout, from the " \n" line before it to its last dump line.
// `kind` is "frontend" or "backend"; `name` and `id` are the proxy's.
void dump_snapshot(std::string& out, const ErrorSnapshot& snapshot, bool response,
                   std::string_view name, std::int64_t id);

}  // namespace sluice::http
