// The server-state file's reader (`load-server-state-from-file`): HAProxy 2.6's version 1
// format as `show servers state` writes it. Its application is tested end to end in
// test_cli_servers.py.
#include "sluice/cli/server_state.hpp"

#include <gtest/gtest.h>

namespace sluice::cli {
namespace {

constexpr std::string_view kHeader =
    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health "
    "srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord "
    "srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

TEST(ServerStateFile, ReadsHaproxyLines) {
    const std::string text =
        std::string(kHeader) +
        "3 be 1 s1 127.0.0.1 0 1 10 10 51 8 2 0 14 22 0 0 - 18081 - 0 0 - 127.0.0.5 1234\n"
        "3 be 2 s2 ::1 2 0 5 20 7 1 0 2 0 0 0 1 - 80 - 0 9000 127.0.0.3 - 0\n"
        "\n";
    const ServerStateFile f = parse_server_state(text);
    ASSERT_TRUE(f.versioned);
    EXPECT_TRUE(f.errors.empty());
    ASSERT_EQ(f.servers.size(), 2u);
    const ServerStateLine& a = f.servers[0];
    EXPECT_EQ(a.line, 3u);
    EXPECT_EQ(a.be_id, 3u);
    EXPECT_EQ(a.be_name, "be");
    EXPECT_EQ(a.srv_name, "s1");
    EXPECT_EQ(a.addr, "127.0.0.1");
    EXPECT_EQ(a.op_state, 0u);
    EXPECT_EQ(a.admin_state, kAdminForcedMaint);
    EXPECT_EQ(a.since_change, 51);
    EXPECT_EQ(a.check_status, 8u);
    EXPECT_EQ(a.check_state, kCheckConfigured | kCheckEnabled | kCheckPaused);
    EXPECT_EQ(a.agent_state, kCheckAgent | kCheckConfigured | kCheckEnabled);
    EXPECT_EQ(a.port, 18081u);
    EXPECT_EQ(a.agent_addr, "127.0.0.5");
    EXPECT_EQ(a.agent_port, 1234u);
    const ServerStateLine& b = f.servers[1];
    EXPECT_EQ(b.uweight, 5u);
    EXPECT_EQ(b.iweight, 20u);
    EXPECT_EQ(b.check_port, 9000u);
    EXPECT_EQ(b.check_addr, "127.0.0.3");
}

TEST(ServerStateFile, OlderShorterLinesAreRead) {
    // The first 20 fields (up to srvrecord) are what older 2.x versions wrote.
    const auto f = parse_server_state("1\n2 be 1 s 10.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 80 -\n");
    ASSERT_EQ(f.servers.size(), 1u);
    EXPECT_EQ(f.servers[0].port, 80u);
    EXPECT_EQ(f.servers[0].agent_port, 0u);
}

TEST(ServerStateFile, NoVersionNoServers) {
    EXPECT_FALSE(parse_server_state("").versioned);
    EXPECT_FALSE(parse_server_state("2\n").versioned);
    EXPECT_FALSE(parse_server_state("# be_id\n1\n").versioned);
    const auto f = parse_server_state("x\n2 be 1 s 10.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 80 -\n");
    EXPECT_FALSE(f.versioned);
    EXPECT_TRUE(f.servers.empty());
}

TEST(ServerStateFile, BadLinesAreLeftOutWithWhy) {
    const auto f = parse_server_state(
        "1\n"
        "2 be 1 s 10.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 80\n"         // 19 fields
        "2 be x s 10.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 80 -\n"       // srv_id
        "2 be 1 s 10.0.0.1 7 0 1 1 0 1 0 2 0 0 0 0 - 80 -\n"       // op state
        "2 be 1 s 10.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 70000 -\n"    // port
        "2 be 1 s 10.0.0.1 2 0 1 1 -5 1 0 2 0 0 0 0 - 80 -\r\n");  // CRLF, negative time: fine
    ASSERT_EQ(f.errors.size(), 4u);
    EXPECT_EQ(f.errors[0], "line 2: 19 fields where 20 to 25 are expected");
    EXPECT_EQ(f.errors[1], "line 3: invalid srv_id 'x'");
    EXPECT_EQ(f.errors[2], "line 4: invalid srv_op_state");
    EXPECT_EQ(f.errors[3], "line 5: invalid srv_port");
    ASSERT_EQ(f.servers.size(), 1u);
    EXPECT_EQ(f.servers[0].since_change, -5);
    EXPECT_EQ(f.servers[0].line, 6u);
}

}  // namespace
}  // namespace sluice::cli
