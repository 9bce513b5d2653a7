// The config side of tcp-request and tcp-response actions: which action each stage takes
// (connection, session, content, response), the variables that exist before the stream, and
// set-mark / set-tos (also as http-request and http-response actions), with file:line as a
// user sees them. The traffic side is in tests/integration/test_rules_tcp_conn.py.
//
// Where a case says "HAProxy 2.6 ...", it was checked with Debian's haproxy 2.6.12 (`haproxy -c`).
#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/rules/tcp_rules.hpp"

namespace sluice::rules {
namespace {

using cfg::reader_test::Lines;
using cfg::reader_test::parse;

// A frontend whose third line is `line`.
std::string frontend_with(std::string_view line) {
    return fmt::format("frontend fe\n  mode http\n  {}\n", line);
}

std::vector<std::string> messages_for(std::string_view line) {
    return parse(frontend_with(line)).messages();
}

std::string alert(std::string_view keyword, std::string_view text,
                  std::string_view section = "frontend 'fe'") {
    return fmt::format("[ALERT]    (PID) : config : parsing [t.cfg:3] : {} : '{}' : {}", section,
                       keyword, text);
}

const TcpRulesConf& tcp_rules(const cfg::reader_test::Parsed& p) {
    return p.doc.proxies.at(0).parts.read<TcpRulesConf>();
}

TEST(TcpConnectionVars, SessAndProcBeforeTheStream) {
    for (std::string_view line : {"tcp-request connection set-var(sess.a) src",
                                  "tcp-request connection set-var(proc.b) src",
                                  "tcp-request connection unset-var(sess.a) if TRUE",
                                  "tcp-request session set-var(sess.c) src_port",
                                  "tcp-request session unset-var(proc.b)"}) {
        const auto p = parse(frontend_with(line));
        EXPECT_EQ(p.messages(), Lines{}) << line;
    }
    const auto p = parse(frontend_with("tcp-request connection set-var(sess.a) src"));
    ASSERT_EQ(tcp_rules(p).connection.size(), 1u);
    EXPECT_EQ(tcp_rules(p).connection[0].verb, TcpVerb::Run);
}

TEST(TcpConnectionVars, OnlyASessSetVarMakesTheConnectionAllocate) {
    // Connections of a frontend whose rules set no sess variable allocate no store.
    EXPECT_TRUE(tcp_rules(parse(frontend_with("tcp-request connection set-var(sess.a) src")))
                    .connection_sets_vars);
    EXPECT_TRUE(tcp_rules(parse(frontend_with("tcp-request session set-var(sess.a) src")))
                    .session_sets_vars);
    for (std::string_view line :
         {"tcp-request connection set-var(proc.a) src", "tcp-request connection unset-var(sess.a)",
          "tcp-request connection set-src src", "tcp-request session set-var(proc.a) src"}) {
        const auto parsed = parse(frontend_with(line));  // tcp_rules() points into it
        const TcpRulesConf& c = tcp_rules(parsed);
        EXPECT_FALSE(c.connection_sets_vars || c.session_sets_vars) << line;
    }
    EXPECT_TRUE(tcp_rules(parse(frontend_with("tcp-request content set-var(txn.a) src")))
                    .content_sets_vars);
    EXPECT_FALSE(
        tcp_rules(parse(frontend_with("tcp-request content set-mark 1"))).content_sets_vars);
}

TEST(TcpConnectionVars, TxnReqResAreRefusedBeforeTheStream) {
    // HAProxy 2.6 accepts these and never sets the variable; sluice refuses them.
    EXPECT_EQ(messages_for("tcp-request connection set-var(txn.x) src"),
              Lines{alert("tcp-request",
                          "'tcp-request connection set-var(txn.x)': a 'txn' variable does not "
                          "exist before the stream does; connection rules can only use 'sess' "
                          "and 'proc' variables")});
    EXPECT_EQ(messages_for("tcp-request session unset-var(res.x)"),
              Lines{alert("tcp-request",
                          "'tcp-request session unset-var(res.x)': a 'res' variable does not "
                          "exist before the stream does; session rules can only use 'sess' and "
                          "'proc' variables")});
    // A bad name is reported as such, not as a scope of the wrong stage.
    EXPECT_EQ(messages_for("tcp-request connection set-var(bad.x) src"),
              Lines{alert("tcp-request",
                          "'tcp-request connection set-var(bad.x)': unknown variable scope 'bad' "
                          "in 'bad.x': expected proc, sess, txn, req or res")});
    // Content rules run in the stream: every scope.
    EXPECT_EQ(messages_for("tcp-request content set-var(txn.x) src"), Lines{});
}

TEST(TcpConnectionVars, ExpressionsReadOnlyTheConnection) {
    const auto m = messages_for("tcp-request connection set-var(sess.h) req.hdr(host)");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_NE(m[0].find("none of which is available here"), std::string::npos) << m[0];
}

TEST(VarActions, SetVarFmtAndConditionsEverywhere) {
    // HAProxy 2.6 has set-var-fmt and set-var's conditions in every rule set.
    for (std::string_view line :
         {R"(tcp-request connection set-var-fmt(sess.a,ifnotset) "%[src]:%[src_port]")",
          "tcp-request session set-var(sess.b,ifnotexists,ifgt) int(1)",
          "tcp-request content set-var-fmt(txn.c) x%[req.len]",
          R"(http-request set-var-fmt(req.d,ifnotempty) "%[path]")",
          "http-after-response set-var(txn.e,iflt) status"})
        EXPECT_EQ(messages_for(line), Lines{}) << line;
    EXPECT_TRUE(tcp_rules(parse(frontend_with("tcp-request connection set-var-fmt(sess.a) %[src]")))
                    .connection_sets_vars);
    EXPECT_EQ(messages_for("http-request set-var(txn.a,bogus) int(1)"),
              Lines{alert("http-request",
                          "'http-request set-var': unknown condition 'bogus' (expected ifexists, "
                          "ifnotexists, ifempty, ifnotempty, ifset, ifnotset, ifgt or iflt)")});
    EXPECT_EQ(messages_for("http-request unset-var(txn.a,ifset)"),
              Lines{alert("http-request",
                          "'http-request unset-var': expects only a variable name, no "
                          "condition")});
    EXPECT_EQ(messages_for("tcp-request connection set-var-fmt(txn.a) x"),
              Lines{alert("tcp-request",
                          "'tcp-request connection set-var-fmt(txn.a)': a 'txn' variable does "
                          "not exist before the stream does; connection rules can only use "
                          "'sess' and 'proc' variables")});
    const auto m = messages_for("tcp-request connection set-var-fmt(sess.a) %[req.hdr(x)]");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_NE(m[0].find("none of which is available here"), std::string::npos) << m[0];
}

TEST(TcpAddressActions, EveryRequestStageButNotTheResponse) {
    for (std::string_view stage : {"connection", "session", "content"})
        for (std::string_view action : {"set-src ipv4(10.0.0.1)", "set-src-port int(1)",
                                        "set-dst ipv4(10.0.0.2)", "set-dst-port int(80) if TRUE"})
            EXPECT_EQ(messages_for(fmt::format("tcp-request {} {}", stage, action)), Lines{})
                << stage << " " << action;
    EXPECT_EQ(parse("backend be\n  mode tcp\n  tcp-response content set-src src\n").messages(),
              Lines{alert("tcp-response", "'set-src' is not a valid 'tcp-response content' action",
                          "backend 'be'")});
    EXPECT_EQ(messages_for("tcp-request connection set-src"),
              Lines{alert("tcp-request",
                          "'tcp-request connection set-src': expects exactly 1 argument: <expr>")});
}

TEST(SetMarkAndTos, ValuesAsHAProxyReadsThem) {
    // Decimal, hexadecimal, and octal after a leading 0, as strtoul in base 0.
    for (std::string_view line :
         {"tcp-request connection set-mark 0xffffffff", "tcp-request session set-mark 12",
          "tcp-request content set-tos 010", "tcp-request connection set-tos 0xfc if TRUE",
          "http-request set-mark 1", "http-request set-tos 0x20", "http-response set-mark 0x10",
          "http-response set-tos 255"})
        EXPECT_EQ(messages_for(line), Lines{}) << line;
    EXPECT_EQ(parse("backend be\n  mode tcp\n  tcp-response content set-tos 8\n").messages(),
              Lines{});
}

TEST(SetMarkAndTos, RefusesWhatCannotBeSet) {
    EXPECT_EQ(messages_for("tcp-request connection set-mark"),
              Lines{alert("tcp-request",
                          "'tcp-request connection set-mark': expects exactly 1 argument "
                          "(integer/hex value)")});
    EXPECT_EQ(messages_for("http-request set-tos 1 2"),
              Lines{alert("http-request",
                          "'http-request set-tos': expects exactly 1 argument (integer/hex "
                          "value)")});
    EXPECT_EQ(messages_for("tcp-request content set-tos bogus"),
              Lines{alert("tcp-request",
                          "'tcp-request content set-tos': invalid value 'bogus' (integer/hex "
                          "value expected)")});
    // HAProxy 2.6 takes these and sets a wrapped-around value; sluice refuses them.
    EXPECT_EQ(messages_for("tcp-request connection set-mark 0x100000000"),
              Lines{alert("tcp-request",
                          "'tcp-request connection set-mark': '0x100000000' is out of range: a "
                          "mark is 32 bits (at most 0xffffffff)")});
    EXPECT_EQ(messages_for("http-request set-tos 256"),
              Lines{alert("http-request",
                          "'http-request set-tos': '256' is out of range: a TOS is 8 bits (at "
                          "most 0xff)")});
    for (std::string_view line : {"http-request set-mark -1", "http-request set-mark 1-",
                                  "http-request set-mark 12z", "http-request set-mark 09"}) {
        const auto m = messages_for(line);
        ASSERT_EQ(m.size(), 1u) << line;
        EXPECT_NE(m[0].find("(integer/hex value expected)"), std::string::npos) << m[0];
    }
    EXPECT_EQ(
        messages_for("http-after-response set-tos 1"),
        Lines{alert("http-after-response", "'set-tos' is not a valid http-after-response action")});
}

TEST(TcpActions, EachStageTakesItsOwn) {
    EXPECT_EQ(messages_for("tcp-request content close"),
              Lines{alert("tcp-request", "'close' is not a valid 'tcp-request content' action")});
    EXPECT_EQ(
        messages_for("tcp-request session expect-proxy layer4"),
        Lines{alert("tcp-request", "'expect-proxy' is not a valid 'tcp-request session' action")});
    EXPECT_EQ(messages_for("tcp-request connection set-scr src"),
              Lines{alert("tcp-request",
                          "unknown 'tcp-request connection' action 'set-scr' (did you mean "
                          "'set-src'?)")});
    // As in HAProxy 2.6: a backend is chosen after connection and session rules.
    EXPECT_EQ(parse("backend be\n  mode tcp\n  tcp-request session accept\n").messages(),
              Lines{alert("tcp-request",
                          "'tcp-request session' rules run before any backend is chosen: they "
                          "belong in a frontend or listen section",
                          "backend 'be'")});
    EXPECT_EQ(parse("listen px\n  mode tcp\n  tcp-request connection set-mark 1\n").messages(),
              Lines{});
}

TEST(TcpActions, WhatIsNotThereSaysWhy) {
    EXPECT_EQ(messages_for("tcp-request content do-resolve(txn.ip,dns) hdr(host)"),
              Lines{alert("tcp-request",
                          "'tcp-request content do-resolve' is not implemented yet; it comes "
                          "with DNS resolvers (roadmap item 12)")});
    for (std::string_view line :
         {"tcp-request content switch-mode http", "tcp-request content send-spoe-group e g",
          "tcp-request connection expect-netscaler-cip layer4",
          "tcp-request content use-service prometheus-exporter"}) {
        const auto m = messages_for(line);
        ASSERT_EQ(m.size(), 1u) << line;
        EXPECT_NE(m[0].find("[ALERT]"), std::string::npos) << m[0];
    }
}

}  // namespace
}  // namespace sluice::rules
