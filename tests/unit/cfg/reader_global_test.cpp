// The config reader, `global` section keywords: thread and process counts, cpu-map, buffer
// tuning, identity and limits. Every diagnostic is checked on its `file:line` text; how build()
// turns these values into the running config is in tests/unit/proxy/build_test.cpp.
#include "sluice/cfg/reader.hpp"

#include <gtest/gtest.h>

#include "reader_test_support.hpp"

namespace sluice::cfg {
namespace {

using namespace reader_test;  // NOLINT(google-build-using-namespace): test helpers only
using std::chrono::milliseconds;
using std::chrono::seconds;

// --- global keywords ---------------------------------------------------------------------------

TEST(ReaderGlobal, ThreadAndProcessCountsAreChecked) {
    EXPECT_EQ(messages("global\n  nbthread abc\n  nbthread 65\n  nbthread 0\n  nbproc 0\n"
                       "  nbproc 65\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'nbthread' : "
                     "expects a number of threads from 1 to 64, got 'abc'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'nbthread' : "
                     "expects a number of threads from 1 to 64, got '65'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'nbthread' : "
                     "expects a number of threads from 1 to 64, got '0'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : global : 'nbproc' : expects "
                     "a number from 1 to 64, got '0'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:6] : global : 'nbproc' : expects "
                     "a number from 1 to 64, got '65'"}));
}

TEST(ReaderGlobal, CpuMapErrors) {
    // HAProxy 2.6 also alerts on a size mismatch with `auto:` ("PROC/THREAD range and CPU sets
    // must have the same size to be automatically bound").
    EXPECT_EQ(messages("global\n  cpu-map x 1\n  cpu-map 1/x 1\n  cpu-map 1 x\n"
                       "  cpu-map auto:1/1-2 0-3\n  cpu-map 1 1024\n  cpu-map 2-1 0\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'cpu-map' : invalid "
                     "process/thread set 'x'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'cpu-map' : invalid "
                     "thread set in '1/x'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'cpu-map' : invalid "
                     "CPU set 'x' (CPU numbers from 0 to 1023)",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : global : 'cpu-map' : 'auto:' "
                     "needs as many CPUs as threads (2 threads, 4 CPUs)",
                     "[ALERT]    (PID) : config : parsing [t.cfg:6] : global : 'cpu-map' : invalid "
                     "CPU set '1024' (CPU numbers from 0 to 1023)",
                     "[ALERT]    (PID) : config : parsing [t.cfg:7] : global : 'cpu-map' : invalid "
                     "process/thread set '2-1'"}));
}

TEST(ReaderGlobal, CpuMapKeepsTheLineAsWritten) {
    const Parsed p = parse("global\n  cpu-map auto:1/1-2 0 1\n  cpu-map 1 2,4-5\n");
    EXPECT_EQ(p.messages(), Lines{});
    const auto& map = p.global().cpu_map;
    ASSERT_EQ(map.size(), 2u);
    EXPECT_TRUE(map[0].automatic);
    EXPECT_EQ(map[0].first, (Ints{1}));
    ASSERT_TRUE(map[0].threads.has_value());
    EXPECT_EQ(*map[0].threads, (Ints{1, 2}));
    EXPECT_EQ(map[0].cpus, (Ints{0, 1}));
    EXPECT_EQ(map[0].where.line, 2);
    EXPECT_FALSE(map[1].automatic);
    EXPECT_FALSE(map[1].threads.has_value());
    EXPECT_EQ(map[1].cpus, (Ints{2, 4, 5}));
}

TEST(ReaderGlobal, CpuMapRejectsProcessOrThreadNumbersOutOfRange) {
    // HAProxy 2.6: "'0' is not a valid number/range. It supports numbers from 1 to 64."
    EXPECT_EQ(messages("global\n  cpu-map 0 1\n  cpu-map 65 1\n  cpu-map 1/65 1\n"
                       "  cpu-map 1/0-3 1\n  cpu-map 1-64/1-64 1\n  cpu-map all/all 1\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'cpu-map' : invalid "
                     "process/thread set '0'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'cpu-map' : invalid "
                     "process/thread set '65'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'cpu-map' : invalid "
                     "thread set in '1/65'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : global : 'cpu-map' : invalid "
                     "thread set in '1/0-3'"}));
}

TEST(ReaderGlobal, CpuMapRejectsAllOddEvenAsCpuSets) {
    // HAProxy 2.6: "'all' is not a CPU range." CPUs are 0-based, so "all" would not even mean
    // what it says with the thread-set reading (1 to 64).
    EXPECT_EQ(messages("global\n  cpu-map 1 all\n  cpu-map 1 odd\n  cpu-map 1 even\n"
                       "  cpu-map 1 0,1023\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'cpu-map' : invalid "
                     "CPU set 'all' (CPU numbers from 0 to 1023)",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'cpu-map' : invalid "
                     "CPU set 'odd' (CPU numbers from 0 to 1023)",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'cpu-map' : invalid "
                     "CPU set 'even' (CPU numbers from 0 to 1023)"}));
}

TEST(ReaderGlobal, CpuMapAutoWithProcessRangeChecksSizes) {
    // HAProxy 2.6 alerts on `cpu-map auto:1-2 0-3` too (2 processes, 4 CPUs).
    EXPECT_EQ(messages("global\n  cpu-map auto:1-2 0-3\n  cpu-map auto:1-2 0-1\n"
                       "  cpu-map auto:1/1-4 0-1 2-3\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'cpu-map' : 'auto:' "
                     "needs as many CPUs as threads (2 threads, 4 CPUs)"}));
}

TEST(ReaderGlobal, BufferTuning) {
    EXPECT_EQ(
        messages("global\n  tune.bufsize 12q\n  tune.bufsize 512\n  tune.bufsize 2g\n"
                 "  tune.maxrewrite 2g\n  tune.maxrewrite x\n"),
        (Lines{
            "[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'tune.bufsize' : "
            "invalid size '12q': unexpected character 'q': unknown unit 'q' (expected k, m or g)",
            "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'tune.bufsize' : "
            "must be between 1k and 1g, got '512'",
            "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'tune.bufsize' : "
            "must be between 1k and 1g, got '2g'",
            "[ALERT]    (PID) : config : parsing [t.cfg:5] : global : 'tune.maxrewrite' : "
            "size '2g' is too large",
            "[ALERT]    (PID) : config : parsing [t.cfg:6] : global : 'tune.maxrewrite' : "
            "invalid size 'x': unexpected character 'x' (a value starts with a digit)"}));
    const Parsed ok = parse("global\n  tune.bufsize 32k\n  tune.maxrewrite 2048\n");
    EXPECT_EQ(ok.messages(), Lines{});
    EXPECT_EQ(ok.global().bufsize, 32768u);
    EXPECT_EQ(ok.global().maxrewrite, 2048u);
}

TEST(ReaderGlobal, IdentityAndLimits) {
    EXPECT_EQ(
        messages("global\n  uid x\n  gid -1\n  maxconn x\n  maxconn 99999999999\n"
                 "  ulimit-n 1k\n  hard-stop-after 5x\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'uid' : expects a numeric "
               "id, got 'x'",
               "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'gid' : expects a numeric "
               "id, got '-1'",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'maxconn' : expects a "
               "number from 0 to 4294967295, got 'x': unexpected character 'x' (a value starts "
               "with a digit)",
               "[ALERT]    (PID) : config : parsing [t.cfg:5] : global : 'maxconn' : expects a "
               "number from 0 to 4294967295, got '99999999999': larger than the maximum 4294967295",
               "[ALERT]    (PID) : config : parsing [t.cfg:6] : global : 'ulimit-n' : expects a "
               "number from 0 to 4294967295, got '1k': unexpected character 'k' (digits only)",
               "[ALERT]    (PID) : config : parsing [t.cfg:7] : global : 'hard-stop-after' : "
               "invalid time value '5x': unexpected character 'x': unknown unit 'x' (expected us, "
               "ms, s, m, h or d)"}));
}

TEST(ReaderGlobal, PlainValuesAreStored) {
    const Parsed p = parse(
        "global\n  pidfile /run/s.pid\n  user haproxy\n  group haproxy\n  chroot /var/empty\n"
        "  uid 99\n  gid 98\n  ulimit-n 4096\n  hard-stop-after 30s\n  node n1\n"
        "  description two words\n");
    EXPECT_EQ(p.messages(), Lines{});
    const proxy::GlobalConf& g = p.global();
    EXPECT_EQ(g.pidfile, "/run/s.pid");
    EXPECT_EQ(g.user, "haproxy");
    EXPECT_EQ(g.group, "haproxy");
    EXPECT_EQ(g.chroot, "/var/empty");
    EXPECT_EQ(g.uid, 99u);
    EXPECT_EQ(g.gid, 98u);
    EXPECT_EQ(g.ulimit_n, 4096u);
    EXPECT_EQ(g.hard_stop_after, seconds(30));
    EXPECT_EQ(g.node, "n1");
    EXPECT_EQ(g.description, "two words");
}

}  // namespace
}  // namespace sluice::cfg
