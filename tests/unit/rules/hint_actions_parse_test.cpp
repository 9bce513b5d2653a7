// The config side of early-hint, wait-for-body and set-nice: what each accepts, the alert for
// what it refuses, and set-nice's warning, with file:line as a user sees them. The traffic side
// is in tests/integration/test_rules_hints.py.
//
// Where a case says "HAProxy 2.6 ...", it was checked with Debian's haproxy 2.6.12 (`haproxy -c`).
#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/rules/http_rules.hpp"
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

std::string alert(std::string_view keyword, std::string_view text) {
    return fmt::format("[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'fe' : '{}' : {}",
                       keyword, text);
}

std::string warning(std::string_view keyword, std::string_view text) {
    return fmt::format("[WARNING]  (PID) : config : parsing [t.cfg:3] : frontend 'fe' : '{}' : {}",
                       keyword, text);
}

TEST(EarlyHintParse, AcceptsANameAndAFormatWithACondition) {
    const auto p = parse(frontend_with(R"(http-request early-hint Link "<%[path]>" if TRUE)"));
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.doc.proxies.at(0).parts.read<HttpRulesConf>().request.size(), 1u);
}

TEST(EarlyHintParse, RefusesWrongArgumentsAndTheResponseSide) {
    EXPECT_EQ(messages_for("http-request early-hint Link"),
              Lines{alert("http-request",
                          "'http-request early-hint': expects exactly 2 arguments: <name> <fmt>")});
    EXPECT_EQ(messages_for("http-request early-hint Link a b"),
              Lines{alert("http-request",
                          "'http-request early-hint': expects exactly 2 arguments: <name> <fmt>")});
    // HAProxy 2.6 takes any name and would send it; sluice refuses one that is not a token, as
    // for set-header.
    EXPECT_EQ(messages_for("http-request early-hint Li@nk x"),
              Lines{alert("http-request",
                          "'http-request early-hint': invalid character '@' in header name "
                          "'Li@nk'")});
    EXPECT_EQ(messages_for("http-response early-hint Link x"),
              Lines{alert("http-response", "'early-hint' is not a valid http-response action")});
    const auto res = messages_for("http-request early-hint Link %[res.hdr(x)]");
    ASSERT_EQ(res.size(), 1u);
    EXPECT_NE(res[0].find("none of which is available here"), std::string::npos) << res[0];
}

TEST(WaitForBodyParse, TimeIsRequiredAtLeastOptionalInEitherOrder) {
    for (std::string_view line :
         {"http-request wait-for-body time 1s", "http-request wait-for-body time 100 at-least 1k",
          "http-request wait-for-body at-least 0 time 0 if METH_POST"}) {
        const auto p = parse(frontend_with(line));
        EXPECT_EQ(p.messages(), Lines{}) << line;
        EXPECT_EQ(p.doc.proxies.at(0).parts.read<HttpRulesConf>().request.size(), 1u) << line;
    }
}

TEST(WaitForBodyParse, RefusesWhatHAProxyRefuses) {
    const std::string usage = "expects time <time> [at-least <bytes>]";
    EXPECT_EQ(messages_for("http-request wait-for-body"),
              Lines{alert("http-request", "'http-request wait-for-body': " + usage)});
    EXPECT_EQ(messages_for("http-request wait-for-body at-least 10"),
              Lines{alert("http-request", "'http-request wait-for-body': " + usage)});
    EXPECT_EQ(
        messages_for("http-request wait-for-body time"),
        Lines{alert("http-request", "'http-request wait-for-body': missing argument for 'time'")});
    EXPECT_EQ(
        messages_for("http-request wait-for-body time 1s foo"),
        Lines{alert("http-request", "'http-request wait-for-body': unexpected 'foo': " + usage)});
    for (std::string_view line :
         {"http-request wait-for-body time abc", "http-request wait-for-body time 1s at-least 1x",
          "http-request wait-for-body time 1s at-least -1"}) {
        const auto m = messages_for(line);
        ASSERT_EQ(m.size(), 1u) << line;
        EXPECT_NE(m[0].find("[ALERT]"), std::string::npos) << m[0];
        EXPECT_NE(m[0].find("'http-request wait-for-body': '"), std::string::npos) << m[0];
    }
}

TEST(WaitForBodyParse, ResponseSideToo) {
    const auto p = parse(frontend_with("http-response wait-for-body time 1s at-least 10"));
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.doc.proxies.at(0).parts.read<HttpRulesConf>().response.size(), 1u);
    EXPECT_EQ(messages_for("http-after-response wait-for-body time 1s"),
              Lines{alert("http-after-response",
                          "'wait-for-body' is not a valid http-after-response action")});
}

const std::string kNoEffect =
    "has no effect in Sluice: a nice value reorders the run queue of HAProxy's task scheduler, "
    "and Sluice has no such queue to reorder (each event runs to completion on its thread, in "
    "arrival order)";

TEST(SetNiceParse, AcceptedWithAWarningAtItsLine) {
    EXPECT_EQ(messages_for("http-request set-nice 10 if TRUE"),
              Lines{warning("http-request", "'http-request set-nice' " + kNoEffect)});
    EXPECT_EQ(messages_for("http-response set-nice -1024"),
              Lines{warning("http-response", "'http-response set-nice' " + kNoEffect)});
    EXPECT_EQ(messages_for("tcp-request content set-nice 5 if TRUE"),
              Lines{warning("tcp-request", "'tcp-request content set-nice' " + kNoEffect)});
    // The rule is kept (it ends a run of early-hint rules, as in HAProxy).
    const auto p = parse(frontend_with("http-request set-nice 1"));
    EXPECT_EQ(p.doc.proxies.at(0).parts.read<HttpRulesConf>().request.size(), 1u);
    const auto t = parse(frontend_with("tcp-request content set-nice 1"));
    ASSERT_EQ(t.doc.proxies.at(0).parts.read<TcpRulesConf>().content.size(), 1u);
    EXPECT_EQ(t.doc.proxies.at(0).parts.read<TcpRulesConf>().content[0].verb, TcpVerb::Nothing);
}

TEST(SetNiceParse, AnyOneWordAsHAProxyReadsItWithAtoi) {
    // HAProxy 2.6 clamps to -1024..1024 and reads "abc" as 0, all without a word: so does
    // sluice, whose warning says the value does nothing anyway.
    for (std::string_view v : {"1025", "-5000", "abc", "12abc"})
        EXPECT_EQ(messages_for(fmt::format("http-request set-nice {}", v)),
                  Lines{warning("http-request", "'http-request set-nice' " + kNoEffect)})
            << v;
}

TEST(SetNiceParse, RefusesMissingOrExtraArgumentsAndOtherRuleSets) {
    EXPECT_EQ(messages_for("http-request set-nice"),
              Lines{alert("http-request",
                          "'http-request set-nice': expects exactly 1 argument (integer value)")});
    EXPECT_EQ(messages_for("http-request set-nice 5 6"),
              Lines{alert("http-request",
                          "'http-request set-nice': expects exactly 1 argument (integer value)")});
    EXPECT_EQ(messages_for("tcp-request content set-nice"),
              Lines{alert("tcp-request",
                          "'tcp-request content set-nice' expects exactly 1 argument (integer "
                          "value)")});
    EXPECT_EQ(messages_for("http-after-response set-nice 1"),
              Lines{alert("http-after-response",
                          "'set-nice' is not a valid http-after-response action")});
    const auto conn = messages_for("tcp-request connection set-nice 1");
    ASSERT_EQ(conn.size(), 1u);
    EXPECT_NE(conn[0].find("[ALERT]"), std::string::npos) << conn[0];
}

}  // namespace
}  // namespace sluice::rules
