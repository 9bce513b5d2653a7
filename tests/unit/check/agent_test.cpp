// Agent checks: the reply's reader, the weight and maxconn words, the info text and the admin
// messages (each checked against haproxy 2.6.12), and the server options with their refusals.
#include "sluice/check/agent.hpp"

#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/check/checks.hpp"

namespace sluice::cfg::reader_test {
namespace {

using namespace std::chrono_literals;
using check::AgentReply;
using check::parse_agent_reply;

TEST(CheckAgent, ReplyNeedsALineEnd) {
    EXPECT_FALSE(parse_agent_reply("").complete);
    EXPECT_FALSE(parse_agent_reply("down").complete);
    EXPECT_TRUE(parse_agent_reply("\n").complete);
    // HAProxy reads the reply as a C string: a NUL before the line's end leaves no line.
    EXPECT_FALSE(parse_agent_reply(std::string_view("up\0\n", 4)).complete);
    EXPECT_EQ(parse_agent_reply(std::string_view("up\n\0", 4)).health, AgentReply::Health::Up);
    const AgentReply r = parse_agent_reply("down # x\r\nup\n");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.health, AgentReply::Health::Down);  // the first line only
    EXPECT_EQ(r.comment, "x");
}

TEST(CheckAgent, Words) {
    AgentReply r = parse_agent_reply("bogus,DOWN\tfoo # hi there\n");
    EXPECT_EQ(r.health, AgentReply::Health::Down);
    EXPECT_EQ(r.health_word, "DOWN");
    EXPECT_EQ(r.error, "bogus");  // the first word not understood
    EXPECT_EQ(r.comment, "hi there");
    r = parse_agent_reply("Ready 75% MAXCONN:30 stopped fail\n");
    EXPECT_EQ(r.admin, AgentReply::Admin::Ready);
    EXPECT_EQ(r.weight, "75%");
    EXPECT_EQ(r.maxconn, "30");
    EXPECT_EQ(r.health, AgentReply::Health::Fail);  // the last health word wins
    EXPECT_EQ(r.health_word, "fail");
    r = parse_agent_reply("drain 10% 20% maint #\tcomment\n");
    EXPECT_EQ(r.admin, AgentReply::Admin::Maint);
    EXPECT_EQ(r.weight, "20%");
    EXPECT_EQ(r.comment, "comment");
    EXPECT_EQ(r.health, AgentReply::Health::None);
    r = parse_agent_reply("up#glued\n");  // '#' inside a word is part of it
    EXPECT_EQ(r.health, AgentReply::Health::None);
    EXPECT_EQ(r.error, "up#glued");
    r = parse_agent_reply("#up\n");
    EXPECT_EQ(r.health, AgentReply::Health::None);
    EXPECT_EQ(r.comment, "up");
    r = parse_agent_reply("x%\n");  // a weight starts with a digit
    EXPECT_EQ(r.weight, "");
    EXPECT_EQ(r.error, "x%");
}

TEST(CheckAgent, Weight) {
    using check::agent_weight;
    EXPECT_EQ(agent_weight("50%", 10).value, 5u);
    EXPECT_EQ(agent_weight("0%", 10).value, 0u);
    EXPECT_EQ(agent_weight("5000%", 10).value, 256u);  // capped, as haproxy shows it
    EXPECT_EQ(agent_weight("99999999999999999999%", 1).value, 256u);
    EXPECT_EQ(agent_weight("150%", 3).value, 4u);
    EXPECT_FALSE(agent_weight("5%x", 10).value);
    EXPECT_EQ(agent_weight("5%x", 10).warning, "Trailing garbage in weight string");
    EXPECT_EQ(agent_weight("300%x", 10).warning,
              "Absolute weight can only be between 0 and 256 inclusive.");
    EXPECT_EQ(agent_weight("-5%", 10).warning, "Relative weight must be positive.");
    EXPECT_FALSE(agent_weight("%", 10).value);
}

TEST(CheckAgent, Maxconn) {
    using check::agent_maxconn;
    EXPECT_EQ(agent_maxconn("3").value, 3u);
    EXPECT_EQ(agent_maxconn("0").value, 0u);
    EXPECT_EQ(agent_maxconn("-1").value, 4294967295u);  // as haproxy's stats show it
    EXPECT_EQ(agent_maxconn("3x").warning, "Trailing garbage in maxconn string");
    EXPECT_EQ(agent_maxconn("").warning, "maxconn string empty or preceded by garbage");
}

TEST(CheckAgent, Info) {
    using check::agent_info;
    EXPECT_EQ(agent_info(parse_agent_reply("down # maintenance now\n"), ""),
              "via agent : down (maintenance now)");
    EXPECT_EQ(agent_info(parse_agent_reply("UP 50%\n"), ""), "via agent : UP");
    // Up shows the first error, then a warning, instead of the comment.
    EXPECT_EQ(agent_info(parse_agent_reply("up bogus # c\n"), ""), "via agent : up (bogus)");
    EXPECT_EQ(agent_info(parse_agent_reply("up # c\n"), "w"), "via agent : up (w)");
    EXPECT_EQ(agent_info(parse_agent_reply("up # c\n"), ""), "via agent : up (c)");
    EXPECT_EQ(agent_info(parse_agent_reply("down bogus # c\n"), ""), "via agent : down (c)");
}

TEST(CheckAgent, AdminMessages) {
    using check::StateMessage;
    StateMessage m{.backend = "be",
                   .server = "s1",
                   .what = StateMessage::What::Up,
                   .active = 1,
                   .event = "enters drain state"};
    EXPECT_EQ(check::format_state_message(m),
              "Server be/s1 enters drain state. 1 active and 0 backup servers online. 0 sessions "
              "requeued, 0 total in queue.");
    m = {.backend = "be",
         .server = "s1",
         .what = StateMessage::What::Up,
         .event = "is UP (leaving forced drain)",
         .counts = false};
    EXPECT_EQ(check::format_state_message(m), "Server be/s1 is UP (leaving forced drain).");
    m.backup_server = true;  // haproxy 2.6 names backups so in every state message
    EXPECT_EQ(check::format_state_message(m), "Backup Server be/s1 is UP (leaving forced drain).");
}

const check::ServerAgentConf& agent(const Parsed& p, std::size_t i) {
    return p.proxy(0).servers.at(i).options.read<check::ServerAgentConf>();
}

TEST(CheckAgent, Options) {
    Parsed p = parse(
        "backend b\n  default-server agent-inter 1s agent-port 7000\n"
        "  server s1 127.0.0.1:80 agent-check agent-send \"hello\\n\" agent-addr 127.0.0.2\n"
        "  server s2 127.0.0.1:81 agent-check agent-port 7001 no-agent-check\n");
    run_late_checks(p.doc, p.diag);
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_TRUE(agent(p, 0).enabled);
    EXPECT_EQ(agent(p, 0).port, 7000);
    EXPECT_EQ(agent(p, 0).inter, 1s);
    EXPECT_EQ(agent(p, 0).send, "hello\n");
    ASSERT_TRUE(agent(p, 0).addr);
    EXPECT_FALSE(agent(p, 1).enabled);
    EXPECT_EQ(agent(p, 1).port, 7001);
}

TEST(CheckAgent, Refusals) {
    Parsed p = parse(
        "backend b\n"
        "  server s1 127.0.0.1:80 agent-check\n"
        "  server s2 127.0.0.1:80 agent-check agent-port 0\n"
        "  server s3 127.0.0.1:80 agent-inter 0\n"
        "  server s4 127.0.0.1:80 agent-addr foo\n"
        "  server s5 127.0.0.1:80 agent-port 7 agent-check\n");
    run_late_checks(p.doc, p.diag);
    auto at = [&](int line, std::string_view kw, std::string_view text) {
        return fmt::format(
            "[ALERT]    (PID) : config : parsing [t.cfg:{}] : backend 'b' : '{}' "
            ": {}",
            line, kw, text);
    };
    EXPECT_EQ(
        p.messages(),
        (Lines{
            at(4, "agent-inter", "expects a time above zero, got '0'"),
            at(5, "agent-addr", "parsing agent-addr failed. Check if 'foo' is correct address."),
            at(2, "server", "server s1 does not have agent port. Agent check has been disabled."),
            at(3, "server",
               "server s2 does not have agent port. Agent check has been disabled.")}));
}

}  // namespace
}  // namespace sluice::cfg::reader_test
