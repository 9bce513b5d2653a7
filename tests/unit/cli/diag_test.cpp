// The layouts of `show activity`, `show threads`, `show pools` and `show schema json` (HAProxy
// 2.6's shapes, checked against haproxy in test_cli_diag.py), and the column descriptions that
// `desc` prints.
#include <gtest/gtest.h>

#include <set>

#include "sluice/cli/diag.hpp"
#include "sluice/stats/stats.hpp"

namespace sluice::cli {
namespace {

TEST(CliDiag, ActivityLines) {
    std::string out;
    const std::uint64_t two[] = {8, 4};
    activity_line(out, "ctxsw", two);
    const std::uint64_t one[] = {6};
    activity_line(out, "tasksw", one);
    const std::uint64_t avg[] = {6, 1};
    activity_line(out, "avg_loop_us", avg, true);  // 3.5 rounds to 4, as HAProxy's
    EXPECT_EQ(out, "ctxsw: 12 [ 8 4 ]\ntasksw: 6\navg_loop_us: 4 [ 6 1 ]\n");
}

TEST(CliDiag, PoolsBySizeWithTheirTotal) {
    std::string out;
    format_pools(out, {{.name = "buffer",
                        .block_size = 16384,
                        .allocated = 4,
                        .used = 4,
                        .cached = 2,
                        .needed_avg = 1,
                        .address = 0x10},
                       {.name = "tcp_stream", .block_size = 400, .address = 0x20}});
    EXPECT_EQ(out,
              "Dumping pools usage. Use SIGQUIT to flush them.\n"
              "  - Pool tcp_stream (400 bytes) : 0 allocated (0 bytes), 0 used (~0 by thread "
              "caches), needed_avg 0, 0 failures, 1 users, @0x20\n"
              "  - Pool buffer (16384 bytes) : 4 allocated (65536 bytes), 4 used (~2 by thread "
              "caches), needed_avg 1, 0 failures, 1 users, @0x10\n"
              "Total: 2 pools, 65536 bytes allocated, 65536 used (~32768 by thread caches).\n");
}

TEST(CliDiag, ThreadBlocks) {
    std::string out;
    format_thread(out, {.number = 1,
                        .count = 2,
                        .current = true,
                        .id = 0x7f00,
                        .handling = true,
                        .events = 2,
                        .cpu_ns = 1234});
    format_thread(
        out,
        {.number = 2, .count = 2, .stuck = true, .id = 0x7f01, .handling = true, .mailbox = true});
    format_thread(out, {.number = 3, .count = 3, .id = 0x7f02});
    EXPECT_EQ(out,
              "* Thread 1 : id=0x7f00 act=1 glob=0 rq=1 rqsz=2\n"
              "      1/1    harmless=0\n"
              "             cpu_ns: now=1234\n"
              "> Thread 2 : id=0x7f01 act=1 glob=1 rq=0 rqsz=0\n"
              "      1/2    harmless=0\n"
              "  Thread 3 : id=0x7f02 act=0 glob=0 rq=0 rqsz=0\n"
              "      1/3    harmless=1\n");
}

TEST(CliDiag, SchemaIsMinifiedJson) {
    EXPECT_EQ(json_minify("{ \"a b\" : [1, \"x\\\" y\"],\n \"c\": {} }"),
              "{\"a b\":[1,\"x\\\" y\"],\"c\":{}}");
    const std::string_view schema = stats_json_schema();
    EXPECT_TRUE(schema.starts_with("{\"$schema\":\"http://json-schema.org/draft-04/schema#\""));
    EXPECT_EQ(schema.find('\n'), std::string_view::npos);
    EXPECT_EQ(schema.back(), '}');
}

TEST(CliDiag, EveryColumnHasItsOwnDescription) {
    for (auto fields : {stats::stat_fields(), stats::info_fields()}) {
        std::set<std::string_view> seen;
        for (const stats::FieldDef& f : fields) {
            EXPECT_FALSE(f.desc.empty()) << f.name;
            EXPECT_EQ(f.desc.find('"'), std::string_view::npos) << f.name;
            EXPECT_TRUE(seen.insert(f.desc).second) << f.name << ": " << f.desc;
        }
    }
}

}  // namespace
}  // namespace sluice::cli
