// The syslog header HAProxy puts in front of a message, per format (pure, for tests):
//   local     <PRI>Mmm dd hh:mm:ss tag[pid]:
//   rfc3164   <PRI>Mmm dd hh:mm:ss host tag[pid]:
//   rfc5424   <PRI>1 YYYY-MM-DDThh:mm:ss.uuuuuu+hh:mm host tag pid - SD   (SD: "-" if none)
//   short     <LEVEL>            priority  <PRI>
//   timed     <LEVEL>ISO-DATE    iso       ISO-DATE
//   raw       (nothing)
// each followed by one space when not empty, and dates in local time.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "sluice/log/conf.hpp"

namespace sluice::log {

// A moment as the headers need it: local calendar time, microseconds, offset from UTC.
struct Stamp {
    std::tm local{};
    std::uint32_t usec = 0;
    long gmtoff = 0;  // seconds east of UTC
};
Stamp make_stamp(std::int64_t unix_seconds, std::uint32_t usec);

struct HeaderFields {
    std::string_view host;  // "" for none ("-" in rfc5424)
    std::string_view tag;
    std::string_view pid;
    std::string_view sd = {};  // rfc5424's structured data (log-format-sd); "" for "-"
};

// Appends the header of `format` to `out` (no allocation once `out` has grown).
void append_header(std::string& out, Format format, std::uint8_t facility, Level level,
                   const Stamp& when, const HeaderFields& fields);

// The whole datagram or line: header, the message (one trailing newline dropped) cut so that
// both fit in `max_len` bytes, then a newline. `fd_target`: a descriptor's line holds the
// newline within `max_len`, a datagram has it after (HAProxy's two ways).
void build_line(std::string& out, Format format, std::uint8_t facility, Level level,
                const Stamp& when, const HeaderFields& fields, std::string_view message,
                std::uint32_t max_len, bool fd_target);

}  // namespace sluice::log
