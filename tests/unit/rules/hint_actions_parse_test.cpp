// The config side of set-nice: what it accepts, the alert for what it refuses, and its warning,
// with file:line as a user sees them.
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
