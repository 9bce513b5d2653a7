// Log targets: headers per format (byte for byte what Debian's haproxy 2.6.12 sent to a UDP
// listener, with its date, host and pid put in), `len` cuts, the `log` line parser with
// HAProxy's messages, destinations, and the keywords' inheritance as the reader leaves it.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdlib>

#include "../cfg/reader_test_support.hpp"
#include "sluice/log/conf.hpp"
#include "sluice/log/format.hpp"
#include "sluice/log/logger.hpp"

namespace sluice::log {
namespace {

Stamp fixed_stamp(const char* tz) {
    ::setenv("TZ", tz, 1);
    ::tzset();
    // 2026-12-07 09:15:30 UTC, 5 and 505265 microseconds.
    return make_stamp(1796634930, 505265);
}

std::string header(Format f, std::uint8_t facility, Level level, const Stamp& s,
                   std::string_view host = "") {
    std::string out;
    append_header(out, f, facility, level, s, {host, "haproxy", "24794"});
    return out;
}

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t sp = text.find(' ', pos);
        out.emplace_back(text.substr(pos, sp - pos));
        if (sp == std::string_view::npos) break;
        pos = sp + 1;
    }
    return out;
}

TEST(LogHeader, EveryFormatAsHaproxySendsIt) {
    const Stamp s = fixed_stamp("UTC");
    const auto local0 = std::uint8_t{16};
    EXPECT_EQ(header(Format::Local, local0, Level::Warning, s),
              "<132>Dec  7 09:15:30 haproxy[24794]: ");
    EXPECT_EQ(header(Format::Rfc3164, local0, Level::Warning, s, "localhost"),
              "<132>Dec  7 09:15:30 localhost haproxy[24794]: ");
    EXPECT_EQ(header(Format::Rfc5424, local0, Level::Warning, s),
              "<132>1 2026-12-07T09:15:30.505265+00:00 - haproxy 24794 - - ");
    EXPECT_EQ(header(Format::Rfc5424, local0, Level::Alert, s, "vm"),
              "<129>1 2026-12-07T09:15:30.505265+00:00 vm haproxy 24794 - - ");
    EXPECT_EQ(header(Format::Short, local0, Level::Warning, s), "<4>");
    EXPECT_EQ(header(Format::Raw, local0, Level::Warning, s), "");
    EXPECT_EQ(header(Format::Iso, local0, Level::Warning, s), "2026-12-07T09:15:30.505265+00:00 ");
    EXPECT_EQ(header(Format::Priority, local0, Level::Warning, s), "<132>");
    EXPECT_EQ(header(Format::Timed, local0, Level::Emerg, s),
              "<0>2026-12-07T09:15:30.505265+00:00 ");
    EXPECT_EQ(header(Format::Local, 0, Level::Emerg, s), "<0>Dec  7 09:15:30 haproxy[24794]: ");
    EXPECT_EQ(header(Format::Local, 23, Level::Debug, s), "<191>Dec  7 09:15:30 haproxy[24794]: ");
}

TEST(LogHeader, StructuredDataOnlyInRfc5424) {
    const Stamp s = fixed_stamp("UTC");
    std::string out;
    const HeaderFields f{"", "haproxy", "1", "[exampleSDID@32473 iut=\"3\"]"};
    append_header(out, Format::Rfc5424, 16, Level::Info, s, f);
    EXPECT_EQ(out,
              "<134>1 2026-12-07T09:15:30.505265+00:00 - haproxy 1 - [exampleSDID@32473 "
              "iut=\"3\"] ");
    out.clear();
    append_header(out, Format::Local, 16, Level::Info, s, f);
    EXPECT_EQ(out, "<134>Dec  7 09:15:30 haproxy[1]: ");
}

TEST(LoggerLevels, WantsWhatSomeTargetTakes) {
    LogConf conf;
    auto line = parse_log_line(words("127.0.0.1:9 local0 notice"));
    ASSERT_TRUE(line);
    auto dest = resolve_destination(line->address);
    ASSERT_TRUE(dest);
    conf.targets.push_back({*line, *dest});
    const Logger logger(conf, LogConf{});
    EXPECT_TRUE(logger.wants(Level::Emerg));
    EXPECT_TRUE(logger.wants(Level::Notice));
    EXPECT_FALSE(logger.wants(Level::Info));
    EXPECT_FALSE(Logger(LogConf{}, LogConf{}).wants(Level::Emerg));
}

TEST(LogHeader, LocalTimeWithItsOffset) {
    // haproxy 2.6 with TZ=Asia/Kolkata: "Dec  7 14:47:20" and "...T14:47:20.456225+05:30".
    const Stamp s = fixed_stamp("Asia/Kolkata");
    EXPECT_EQ(header(Format::Rfc5424, 16, Level::Alert, s),
              "<129>1 2026-12-07T14:45:30.505265+05:30 - haproxy 24794 - - ");
    EXPECT_EQ(header(Format::Local, 16, Level::Alert, s), "<129>Dec  7 14:45:30 haproxy[24794]: ");
    const Stamp w = fixed_stamp("America/St_Johns");
    EXPECT_EQ(header(Format::Iso, 16, Level::Alert, w), "2026-12-07T05:45:30.505265-03:30 ");
    const Stamp d = make_stamp(1796634930 + 86400 * 5, 7);
    EXPECT_EQ(header(Format::Timed, 16, Level::Alert, d), "<1>2026-12-12T05:45:30.000007-03:30 ");
    fixed_stamp("UTC");
}

TEST(LogLine, LengthCutsAsHaproxy) {
    const Stamp s = fixed_stamp("UTC");
    const std::string msg =
        "Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", "
        "check duration: 0ms.\n";
    std::string out;
    // UDP, len 100: 100 bytes of header and text, then the newline.
    build_line(out, Format::Raw, 16, Level::Alert, s, {"", "haproxy", "1"}, msg, 100, false);
    EXPECT_EQ(out,
              "Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection "
              "refused\", check duration:\n");
    // stdout, len 80: 80 bytes with the newline.
    build_line(out, Format::Raw, 16, Level::Alert, s, {"", "haproxy", "1"}, msg, 80, true);
    EXPECT_EQ(out,
              "Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refu\n");
    EXPECT_EQ(out.size(), 80u);
    build_line(out, Format::Short, 16, Level::Alert, s, {"", "haproxy", "1"}, "short\n", 1024,
               false);
    EXPECT_EQ(out, "<1>short\n");
}

TEST(LogLineParser, EveryOption) {
    auto l = parse_log_line(
        words("127.0.0.1:514 len 200 format rfc5424 sample 1,3-4:5 local3 info err"));
    ASSERT_TRUE(l) << l.error();
    EXPECT_EQ(l->address, "127.0.0.1:514");
    EXPECT_EQ(l->max_len, 200u);
    EXPECT_EQ(l->format, Format::Rfc5424);
    ASSERT_EQ(l->ranges.size(), 2u);
    EXPECT_EQ(l->ranges[1].low, 3u);
    EXPECT_EQ(l->ranges[1].high, 4u);
    EXPECT_EQ(l->sample_size, 5u);
    EXPECT_EQ(l->facility, 19);
    EXPECT_EQ(l->level, Level::Info);
    EXPECT_EQ(l->min_level, Level::Err);
    l = parse_log_line(words("/dev/log daemon"));
    ASSERT_TRUE(l);
    EXPECT_EQ(l->max_len, 1024u);
    EXPECT_FALSE(l->format);
    EXPECT_EQ(l->level, Level::Debug);
    EXPECT_EQ(l->min_level, Level::Emerg);
}

TEST(LogLineParser, HaproxyMessages) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"127.0.0.1", "expects <address> and <facility> as arguments"},
        {"127.0.0.1 local9", "unknown log facility 'local9'"},
        {"127.0.0.1 local0 foo", "unknown optional log level 'foo'"},
        {"127.0.0.1 local0 info foo", "unknown optional minimum log level 'foo'"},
        {"127.0.0.1 local0 info debug extra", "cannot handle unexpected argument 'extra'"},
        {"127.0.0.1 len 70 local0", "invalid log length '70', must be between 80 and 65535"},
        {"127.0.0.1 len 65536 local0", "invalid log length '65536', must be between 80 and 65535"},
        {"127.0.0.1 len abc local0", "invalid log length 'abc', must be between 80 and 65535"},
        {"127.0.0.1 format foo local0", "unknown log format 'foo'"},
        {"127.0.0.1 sample 1-2:1 local0",
         "sample size 1 should be greater or equal to 2 the maximum of the high ranges limits"},
        {"127.0.0.1 sample 0:3 local0", "wrong sample range '0'"},
        {"127.0.0.1 sample 2-1:3 local0", "wrong sample range '2-1'"},
        {"127.0.0.1 sample a:5 local0", "wrong sample range 'a'"},
        {"127.0.0.1 sample 1 local0", "Missing sample size"},
        {"127.0.0.1 sample 1:3", "unknown log facility ''"},
        // One fixed order, each once: a repeated word is read as the facility (HAProxy too).
        {"127.0.0.1 len 80 len 90 local0", "unknown log facility 'len'"},
        {"127.0.0.1 format raw len 90 local0", "unknown log facility 'len'"},
    };
    for (const auto& [line, error] : cases) {
        auto l = parse_log_line(words(line));
        ASSERT_FALSE(l) << line;
        EXPECT_EQ(l.error(), error) << line;
    }
}

TEST(LogDestination, Kinds) {
    auto d = resolve_destination("127.0.0.1");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.to_string(), "127.0.0.1:514");
    d = resolve_destination("127.0.0.1:0");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.to_string(), "127.0.0.1:514");
    d = resolve_destination("[::1]:1514");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.to_string(), "[::1]:1514");
    d = resolve_destination("udp@127.0.0.2:99");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.to_string(), "127.0.0.2:99");
    d = resolve_destination("udp6@[::1]");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.family(), AF_INET6);
    d = resolve_destination("/dev/log");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.family(), AF_UNIX);
    d = resolve_destination("unix@/run/x.sock");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->address.to_string(), "unix@/run/x.sock");
    d = resolve_destination("stdout");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, TargetKind::Fd);
    EXPECT_EQ(d->fd, 1);
    d = resolve_destination("fd@2");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->fd, 2);
    EXPECT_FALSE(resolve_destination("fd@x"));
    EXPECT_FALSE(resolve_destination("127.0.0.1:1000-1010"));
    EXPECT_FALSE(resolve_destination("127.0.0.1:99999"));
    auto ring = resolve_destination("ring@buf");
    ASSERT_FALSE(ring);
    EXPECT_NE(ring.error().find("not supported yet"), std::string::npos);
    EXPECT_FALSE(resolve_destination("tcp@127.0.0.1:514"));
}

TEST(LogLevelNames, Roundtrip) {
    EXPECT_EQ(parse_level("emerg"), Level::Emerg);
    EXPECT_EQ(parse_level("debug"), Level::Debug);
    EXPECT_FALSE(parse_level("error"));
    EXPECT_EQ(level_name(Level::Notice), "notice");
    EXPECT_EQ(parse_facility("kern"), 0);
    EXPECT_EQ(parse_facility("auth2"), 10);
    EXPECT_EQ(parse_facility("local7"), 23);
    EXPECT_EQ(parse_format("local"), Format::Local);
    EXPECT_FALSE(parse_format("json"));
}

}  // namespace
}  // namespace sluice::log

namespace sluice::cfg::reader_test {
namespace {

std::vector<std::string> targets(const Parts& parts) {
    std::vector<std::string> out;
    for (const auto& t : parts.read<log::LogConf>().targets)
        out.push_back(t.line.address);
    return out;
}

TEST(LogKeywords, InheritanceGlobalAndNoLog) {
    Parsed p = parse(
        "global\n  log 127.0.0.1:1 local0\n  log-tag gtag\n  log-send-hostname\n"
        "defaults\n  log 127.0.0.1:2 local1\n"
        "frontend a\n  log global\n"
        "frontend b\n  no log\n"
        "backend c\n  log-tag ctag\n"
        "defaults\n  log global\n  log 127.0.0.1:3 local2 info\n"
        "backend d\n"
        "backend e\n  no log\n  log stdout format raw daemon\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(targets(p.doc.global), Lines{"127.0.0.1:1"});
    EXPECT_EQ(targets(p.doc.proxies.at(0).parts), (Lines{"127.0.0.1:2", "127.0.0.1:1"}));
    EXPECT_EQ(targets(p.doc.proxies.at(1).parts), Lines{});
    EXPECT_EQ(targets(p.doc.proxies.at(2).parts), Lines{"127.0.0.1:2"});
    EXPECT_EQ(targets(p.doc.proxies.at(3).parts), (Lines{"127.0.0.1:1", "127.0.0.1:3"}));
    EXPECT_EQ(targets(p.doc.proxies.at(4).parts), Lines{"stdout"});
    EXPECT_EQ(p.doc.global.read<log::LogConf>().tag, "gtag");
    EXPECT_EQ(p.doc.global.read<log::LogConf>().send_hostname, "");
    EXPECT_EQ(p.doc.proxies.at(2).parts.read<log::LogConf>().tag, "ctag");
}

TEST(LogKeywords, Errors) {
    Parsed p = parse(
        "global\n  log global\n  log 127.0.0.1 local9\n  log ring@buf local0\n"
        "defaults\n  no log foo\n  log global x\n  log-send-hostname\n"
        "backend b\n  log-tag\n  log nosuch.invalid local0\n");
    const Lines m = p.messages();
    ASSERT_EQ(m.size(), 8u) << fmt::format("{}", fmt::join(m, "\n"));
    EXPECT_EQ(m[0],
              "[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'log' : 'global' is not "
              "supported for a global syslog server");
    EXPECT_EQ(m[1],
              "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'log' : unknown log "
              "facility 'local9'");
    EXPECT_NE(m[2].find("parsing [t.cfg:4] : global : 'log' : 'ring@buf': log rings"),
              std::string::npos);
    EXPECT_EQ(m[3],
              "[ALERT]    (PID) : config : parsing [t.cfg:6] : defaults : 'log' : 'no log' does "
              "not expect arguments");
    EXPECT_NE(m[4].find("parsing [t.cfg:7] : defaults : 'log' : 'log global' takes no other"),
              std::string::npos);
    EXPECT_NE(m[5].find("parsing [t.cfg:8]"), std::string::npos);  // global only
    EXPECT_NE(m[6].find("parsing [t.cfg:10] : backend 'b' : 'log-tag'"), std::string::npos);
    EXPECT_NE(m[7].find("parsing [t.cfg:11] : backend 'b' : 'log' : "), std::string::npos);
}

}  // namespace
}  // namespace sluice::cfg::reader_test
