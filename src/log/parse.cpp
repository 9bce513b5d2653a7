// The `log` line (pure) and its destination. HAProxy reads the optional words in one fixed
// order (len, format, sample) before the facility, so a repeated or misplaced one is taken as
// the facility and refused as such; the same here.
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

#include "sluice/log/conf.hpp"

namespace sluice::log {

namespace {

constexpr std::string_view kLevels[] = {"emerg",   "alert",  "crit", "err",
                                        "warning", "notice", "info", "debug"};
constexpr std::string_view kFacilities[] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};

std::optional<std::uint32_t> number(std::string_view s) {
    std::uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

util::Status parse_sample(std::string_view text, LogLine& out) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) return util::error("Missing sample size");
    std::string_view ranges = text.substr(0, colon);
    const auto size = number(text.substr(colon + 1));
    if (!size || *size == 0)
        return util::error(fmt::format("invalid sample size '{}'", text.substr(colon + 1)));
    std::uint32_t top = 0;
    while (true) {
        const std::size_t comma = ranges.find(',');
        const std::string_view r = ranges.substr(0, comma);
        const std::size_t dash = r.find('-');
        const auto low = number(r.substr(0, dash));
        const auto high = dash == std::string_view::npos ? low : number(r.substr(dash + 1));
        if (!low || !high || *low == 0 || *high < *low)
            return util::error(fmt::format("wrong sample range '{}'", r));
        out.ranges.push_back({*low, *high});
        top = std::max(top, *high);
        if (comma == std::string_view::npos) break;
        ranges.remove_prefix(comma + 1);
    }
    if (*size < top)
        return util::error(fmt::format(
            "sample size {} should be greater or equal to {} the maximum of the high ranges "
            "limits",
            *size, top));
    std::sort(out.ranges.begin(), out.ranges.end(),
              [](const SampleRange& a, const SampleRange& b) { return a.low < b.low; });
    out.sample_size = *size;
    return util::ok();
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
    for (std::size_t i = 0; i < std::size(kLevels); ++i)
        if (kLevels[i] == name) return static_cast<Level>(i);
    return std::nullopt;
}

std::string_view level_name(Level level) {
    return kLevels[static_cast<std::size_t>(level) & 7];
}

std::optional<std::uint8_t> parse_facility(std::string_view name) {
    for (std::size_t i = 0; i < std::size(kFacilities); ++i)
        if (kFacilities[i] == name) return static_cast<std::uint8_t>(i);
    return std::nullopt;
}

std::optional<Format> parse_format(std::string_view name) {
    static constexpr std::pair<std::string_view, Format> kFormats[] = {
        {"local", Format::Local}, {"rfc3164", Format::Rfc3164},   {"rfc5424", Format::Rfc5424},
        {"short", Format::Short}, {"raw", Format::Raw},           {"iso", Format::Iso},
        {"timed", Format::Timed}, {"priority", Format::Priority},
    };
    for (const auto& [n, f] : kFormats)
        if (n == name) return f;
    return std::nullopt;
}

util::Result<LogLine> parse_log_line(std::span<const std::string> args) {
    if (args.size() < 2) return util::error("expects <address> and <facility> as arguments");
    LogLine out;
    out.address = args[0];
    std::size_t i = 1;
    auto has = [&](std::string_view word) { return i + 1 < args.size() && args[i] == word; };
    if (has("len")) {
        const auto len = number(args[i + 1]);
        if (!len || *len < 80 || *len > 65535)
            return util::error(
                fmt::format("invalid log length '{}', must be between 80 and 65535", args[i + 1]));
        out.max_len = *len;
        i += 2;
    }
    if (has("format")) {
        const auto f = parse_format(args[i + 1]);
        if (!f) return util::error(fmt::format("unknown log format '{}'", args[i + 1]));
        out.format = *f;
        i += 2;
    }
    if (has("sample")) {
        if (auto st = parse_sample(args[i + 1], out); !st) return util::error(st.error());
        i += 2;
    }
    const std::string_view facility = i < args.size() ? std::string_view(args[i]) : "";
    const auto fac = parse_facility(facility);
    if (!fac) return util::error(fmt::format("unknown log facility '{}'", facility));
    out.facility = *fac;
    if (++i < args.size()) {
        const auto level = parse_level(args[i]);
        if (!level) return util::error(fmt::format("unknown optional log level '{}'", args[i]));
        out.level = *level;
    }
    if (++i < args.size()) {
        const auto level = parse_level(args[i]);
        if (!level)
            return util::error(fmt::format("unknown optional minimum log level '{}'", args[i]));
        out.min_level = *level;
    }
    if (++i < args.size())
        return util::error(fmt::format("cannot handle unexpected argument '{}'", args[i]));
    return out;
}

util::Result<Destination> resolve_destination(std::string_view text) {
    Destination d;
    std::optional<std::uint32_t> fd;
    if (text == "stdout")
        fd = 1;
    else if (text == "stderr")
        fd = 2;
    else if (text.starts_with("fd@")) {
        fd = number(text.substr(3));
        if (!fd || *fd > 1'000'000)
            return util::error(fmt::format("invalid file descriptor in '{}'", text));
    }
    if (fd) {
        d.kind = TargetKind::Fd;
        d.fd = static_cast<int>(*fd);
        return d;
    }
    for (std::string_view stream : {"ring@", "tcp@", "tcp4@", "tcp6@", "uxst@"})
        if (text.starts_with(stream))
            return util::error(fmt::format(
                "'{}': log rings and stream log servers ('ring@', 'tcp@', 'uxst@', the 'ring' "
                "section and 'show events') are not supported yet; use a UDP, UNIX datagram "
                "or stdout/stderr target",
                text));
    // udp@ takes any family, as a bare address; the others name theirs.
    std::string spelled(text);
    if (text.starts_with("udp@"))
        spelled = spelled.substr(4);
    else if (text.starts_with("udp4@"))
        spelled = "ipv4@" + spelled.substr(5);
    else if (text.starts_with("udp6@"))
        spelled = "ipv6@" + spelled.substr(5);
    else if (text.starts_with("uxdg@"))
        spelled = "unix@" + spelled.substr(5);
    auto parsed = net::parse_server_address(spelled);
    if (!parsed) return util::error(parsed.error());
    if (parsed->port_is_offset)
        return util::error(fmt::format("port offsets are not permitted in '{}'", text));
    d.address = parsed->address;
    const int family = d.address.family();
    if ((family == AF_INET || family == AF_INET6) && d.address.port() == 0) d.address.set_port(514);
    return d;
}

}  // namespace sluice::log
