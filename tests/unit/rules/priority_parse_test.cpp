// The config side of set-priority-class and set-priority-offset: where they are accepted (the
// request side of http and tcp content rules) and the alerts for the rest. How queues order
// requests by them is in tests/integration/test_lb.py.
#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/rules/tcp_rules.hpp"

namespace sluice::rules {
namespace {

using cfg::reader_test::Lines;
using cfg::reader_test::parse;

std::vector<std::string> messages_for(std::string_view line) {
    return parse(fmt::format("listen px\n  mode http\n  {}\n", line)).messages();
}

TEST(PriorityParse, AcceptedOnTheRequestSide) {
    for (std::string_view line : {
             "http-request set-priority-class int(-1)",
             "http-request set-priority-offset req.hdr(x-offset),mul(1000) if TRUE",
             "tcp-request content set-priority-class int(5)",
             "tcp-request content set-priority-offset int(-100) unless FALSE",
         })
        EXPECT_EQ(messages_for(line), Lines{}) << line;
    const auto p = parse("listen px\n  mode http\n  http-request set-priority-class int(1)\n");
    EXPECT_EQ(p.doc.proxies.at(0).parts.read<HttpRulesConf>().request.size(), 1u);
}

TEST(PriorityParse, RefusedElsewhereOrMalformed) {
    for (std::string_view line : {
             "http-response set-priority-class int(1)",
             "http-request set-priority-class",
             "http-request set-priority-offset int(1) int(2)",
             "http-request set-priority-class nosuchfetch",
             "tcp-request connection set-priority-class int(1)",
         }) {
        const auto m = messages_for(line);
        ASSERT_EQ(m.size(), 1u) << line;
        EXPECT_NE(m[0].find("[ALERT]"), std::string::npos) << m[0];
    }
}

}  // namespace
}  // namespace sluice::rules
