// The `log` keyword's settings: where a section's messages go (HAProxy's `log` lines, `log
// global`, `no log`), and the `log-tag` / `log-send-hostname` around them. A `LogConf` is a
// part of each section's cfg::Parts, so a proxy inherits its defaults' targets by the copy of
// its Parts, then adds or clears them with its own lines, as HAProxy does.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/net/address.hpp"
#include "sluice/util/result.hpp"

namespace sluice::log {

// Syslog severities, most severe first (their numbers are syslog's).
enum class Level : std::uint8_t { Emerg, Alert, Crit, Err, Warning, Notice, Info, Debug };

// The header in front of each message (see format.hpp). `Local` is HAProxy's default: rfc3164
// without the host name.
enum class Format : std::uint8_t { Local, Rfc3164, Rfc5424, Short, Raw, Iso, Priority, Timed };

std::optional<Level> parse_level(std::string_view name);
std::optional<std::uint8_t> parse_facility(std::string_view name);  // 0..23
std::optional<Format> parse_format(std::string_view name);
std::string_view level_name(Level level);

// Messages numbered n (1-based, counting again after `size`) are sent when n is in a range.
struct SampleRange {
    std::uint32_t low = 0, high = 0;
};

// One `log` line as written, before its address is resolved (parse_log_line, pure).
struct LogLine {
    std::string address;
    std::uint32_t max_len = 1024;
    std::optional<Format> format;  // unset: Local, or Rfc3164 with log-send-hostname
    std::vector<SampleRange> ranges;
    std::uint32_t sample_size = 0;  // 0: no sampling
    std::uint8_t facility = 0;
    Level level = Level::Debug;      // messages less severe than this are not sent
    Level min_level = Level::Emerg;  // more severe ones are sent at this level
};

// The words after `log` (not `global`); errors are HAProxy's wording.
util::Result<LogLine> parse_log_line(std::span<const std::string> args);

enum class TargetKind : std::uint8_t { Datagram, Fd };

// Where a line's messages go: a UDP or UNIX datagram address, or a descriptor (stdout, fd@N).
struct Destination {
    TargetKind kind = TargetKind::Datagram;
    net::Address address;
    int fd = -1;
};
// `ADDR[:PORT]` (514 when absent or 0), `udp@`/`udp4@`/`udp6@`/`ipv4@`/`ipv6@`, `unix@PATH`,
// an absolute path, `abns@NAME`, `stdout`, `stderr`, `fd@N`. Host names are resolved now.
// Rings and stream targets (`ring@`, `tcp@`...) are an error naming what brings them.
util::Result<Destination> resolve_destination(std::string_view text);

struct Target {
    LogLine line;
    Destination destination;
};

struct LogConf {
    std::vector<Target> targets;
    std::optional<std::string> tag;  // log-tag
    // Global only: `log-send-hostname [NAME]`; an empty string stands for the system's name.
    std::optional<std::string> send_hostname;
};

}  // namespace sluice::log
