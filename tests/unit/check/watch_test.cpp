// track, slowstart, on-marked-down/-up: parsing, HAProxy 2.6's
// refusals (checked with haproxy 2.6.12), and the warm-up arithmetic.
#include "sluice/check/watch.hpp"

#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/check/checks.hpp"

namespace sluice::cfg::reader_test {
namespace {

using namespace std::chrono_literals;

const check::ServerWatchConf& watch(const Parsed& p, std::size_t i) {
    return p.proxy(0).servers.at(i).options.read<check::ServerWatchConf>();
}

TEST(CheckWatch, Options) {
    const Parsed p = parse(
        "backend b\n  default-server slowstart 2s\n"
        "  server s1 127.0.0.1:80 check\n"
        "  server s2 127.0.0.1:81 track s1 slowstart 0\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(watch(p, 0).slowstart, 2s);
    EXPECT_TRUE(watch(p, 0).track.empty());
    EXPECT_EQ(watch(p, 1).track, "s1");
    EXPECT_EQ(watch(p, 1).slowstart, 0s);
}

TEST(CheckWatch, OptionErrors) {
    const std::string pre = "[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : ";
    EXPECT_EQ(messages("backend b\n  server s 127.0.0.1:80 slowstart -1 "
                       "on-marked-down foo on-marked-up shutdown-sessions\n"),
              (Lines{pre + "'slowstart' : unexpected character '-' (a value starts with a "
                           "digit)",
                     pre + "'on-marked-down' : 'on-marked-down' expects 'shutdown-sessions' but "
                           "got 'foo'.",
                     pre + "'on-marked-up' : 'on-marked-up' expects 'shutdown-backup-sessions' "
                           "but got 'shutdown-sessions'."}));
}

TEST(CheckWatch, OnMarkedOptions) {
    const Parsed p = parse(
        "backend b\n  server s1 127.0.0.1:80 check on-marked-down shutdown-sessions "
        "on-marked-up shutdown-backup-sessions\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_TRUE(watch(p, 0).shutdown_sessions);
    EXPECT_TRUE(watch(p, 0).shutdown_backup_sessions);
}

TEST(CheckWatch, TrackRefusals) {
    Parsed p = parse(
        "backend b\n"
        "  server s1 127.0.0.1:1\n"
        "  server s2 127.0.0.1:2 track s1\n"
        "  server s3 127.0.0.1:3 track s9\n"
        "  server s4 127.0.0.1:3 track x/s1\n"
        "  server s5 127.0.0.1:3 track c/s6\n"
        "  server s10 127.0.0.1:3 check track s11\n"
        "  server s11 127.0.0.1:3 check\n"
        "  server s12 127.0.0.1:3 track s11\n"
        "backend c\n"
        "  server s6 127.0.0.1:1 track b/s5\n"
        "  server s7 127.0.0.1:1 track s7\n");
    run_late_checks(p.doc, p.diag);
    auto at = [](int line, std::string_view be, std::string_view text) {
        return fmt::format(
            "[ALERT]    (PID) : config : parsing [t.cfg:{}] : backend '{}' : 'server' : {}", line,
            be, text);
    };
    EXPECT_EQ(p.messages(),
              (Lines{
                  at(3, "b",
                     "unable to use b/s1 for tracking as it does not have any check nor agent "
                     "enabled."),
                  at(4, "b", "unable to find required server 's9' for tracking."),
                  at(5, "b", "unable to find required proxy 'x' for tracking."),
                  at(7, "b", "unable to enable checks and tracking at the same time!"),
                  // HAProxy resolves in declaration order: the loop is seen from its last link.
                  at(11, "c",
                     "unable to track b/s5 as it belongs to a tracking chain looping back to "
                     "b/s6."),
                  at(12, "c",
                     "unable to track c/s7 as it belongs to a tracking chain looping back to "
                     "c/s7."),
              }));
}

TEST(CheckWatch, TrackTarget) {
    auto t = check::split_track("px/srv", "cur");
    EXPECT_EQ(t.proxy, "px");
    EXPECT_EQ(t.server, "srv");
    t = check::split_track("srv", "cur");
    EXPECT_EQ(t.proxy, "cur");
    EXPECT_EQ(t.server, "srv");
}

TEST(CheckWatch, WarmupAsHaproxySteps) {
    // Whole seconds: slowstart rounds up, elapsed rounds down.
    EXPECT_EQ(check::warmup_percent(0ms, 10s), 0);
    EXPECT_EQ(check::warmup_percent(999ms, 10s), 0);
    EXPECT_EQ(check::warmup_percent(1s, 10s), 10);
    EXPECT_EQ(check::warmup_percent(5500ms, 10s), 50);
    EXPECT_EQ(check::warmup_percent(10s, 10s), 100);
    EXPECT_EQ(check::warmup_percent(1s, 1500ms), 50);
    EXPECT_EQ(check::warmup_percent(1s, 0s), 100);
    EXPECT_EQ(check::warmup_step(10s), 1000ms);
    EXPECT_EQ(check::warmup_step(60s), 3000ms);
}

TEST(CheckWatch, ViaMessage) {
    check::StateMessage m{.backend = "b",
                          .server = "s2",
                          .what = check::StateMessage::What::Down,
                          .via_backend = "b",
                          .via_server = "s1",
                          .active = 1};
    EXPECT_EQ(check::format_state_message(m),
              "Server b/s2 is DOWN via b/s1. 1 active and 0 backup servers left. 0 sessions "
              "active, 0 requeued, 0 remaining in queue.");
    m.what = check::StateMessage::What::Up;
    EXPECT_EQ(check::format_state_message(m),
              "Server b/s2 is UP via b/s1. 1 active and 0 backup servers online. 0 sessions "
              "requeued, 0 total in queue.");
}

}  // namespace
}  // namespace sluice::cfg::reader_test
