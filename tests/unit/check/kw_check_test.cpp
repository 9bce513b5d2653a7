// Health-check keywords as the reader sees them: values stored, and every diagnostic on its
// file:line text. Where a test says "HAProxy 2.6", the behaviour was checked with haproxy 2.6.12.
#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/check/conf.hpp"

namespace sluice::cfg::reader_test {
namespace {

const check::ServerCheckConf& server_check(const Parsed& p, std::size_t i) {
    return p.proxy(0).servers.at(i).options.read<check::ServerCheckConf>();
}
const check::ProxyCheckConf& proxy_check(const Parsed& p, std::size_t i) {
    return p.doc.proxies.at(i).parts.read<check::ProxyCheckConf>();
}

TEST(CheckKeywords, ServerOptions) {
    const Parsed p = parse(
        "backend b\n  default-server inter 3s rise 5\n"
        "  server s1 127.0.0.1:80 check fastinter 500 downinter 1m fall 2 port 8080 addr "
        "127.0.0.2 check-send-proxy\n"
        "  server s2 127.0.0.1:81\n");
    EXPECT_EQ(p.messages(), Lines{});
    const auto& a = server_check(p, 0);
    EXPECT_TRUE(a.enabled);
    EXPECT_EQ(a.inter, std::chrono::seconds(3));
    EXPECT_EQ(a.fastinter, std::chrono::milliseconds(500));
    EXPECT_EQ(a.downinter, std::chrono::minutes(1));
    EXPECT_EQ(a.rise, 5u);
    EXPECT_EQ(a.fall, 2u);
    EXPECT_EQ(a.port, 8080);
    ASSERT_TRUE(a.addr.has_value());
    EXPECT_EQ(a.addr->to_string(), "127.0.0.2:0");
    EXPECT_TRUE(a.send_proxy);
    EXPECT_FALSE(server_check(p, 1).enabled);
}

TEST(CheckKeywords, ServerOptionErrors) {
    EXPECT_EQ(messages("backend b\n  server s 127.0.0.1:80 check rise 0 inter x port 70000 addr "
                       "foo\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'rise' : "
                     "expects a number above zero, got '0'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'inter' : "
                     "unexpected character 'x' (a value starts with a digit)",
                     "[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'port' : "
                     "expects a port from 1 to 65535, got '70000'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'addr' : "
                     "expects an IPv4 or IPv6 address, got 'foo'"}));
}

TEST(CheckKeywords, HttpchkForms) {
    const Parsed p = parse(
        "backend a\n  option httpchk\n"
        "backend b\n  option httpchk /health\n"
        "backend c\n  option httpchk HEAD /h HTTP/1.1\\r\\nHost:\\ www\n"
        "backend d\n  option httpchk\n  http-check send meth GET uri /x ver HTTP/1.1 hdr Host h "
        "body abc\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:6] : backend 'c' : 'option "
                     "httpchk' : 'option httpchk' : headers after the HTTP version still work "
                     "but are deprecated; write them as 'http-check send hdr NAME VALUE'"}));
    EXPECT_EQ(proxy_check(p, 0).kind, check::Kind::Http);
    EXPECT_EQ(proxy_check(p, 0).request.serialize(), "OPTIONS / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(proxy_check(p, 1).request.serialize(), "OPTIONS /health HTTP/1.0\r\n\r\n");
    EXPECT_EQ(proxy_check(p, 2).request.serialize(),
              "HEAD /h HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n");
    EXPECT_EQ(proxy_check(p, 3).request.serialize(),
              "GET /x HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc");
}

TEST(CheckKeywords, SeedBlock) {
    // The seed guide's "Advanced Health Checks" block as written. HAProxy 2.6 refuses the
    // `header` line and silently drops the quotes of the last one.
    const Parsed p = parse(
        "backend api_servers\n"
        "    option httpchk\n"
        "    http-check send meth GET uri /health ver HTTP/1.1 hdr Host api.example.com\n"
        "    http-check expect status 200\n"
        "    http-check expect header Content-Type -m sub application/json\n"
        "    http-check expect string {\"status\":\"healthy\"}\n"
        "    server api1 10.0.9.10:8080 check inter 2s fall 3 rise 2\n");
    EXPECT_EQ(
        p.messages(),
        (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:5] : backend 'api_servers' : "
               "'http-check' : 'http-check expect' : 'header' is not a match HAProxy 2.6 knows "
               "(it refuses this line); read as 'http-check expect hdr name Content-Type value "
               "-m sub application/json', which is how to write it for HAProxy 2.6",
               "[WARNING]  (PID) : config : parsing [t.cfg:6] : backend 'api_servers' : "
               "'http-check' : 'http-check expect' : the pattern is matched as "
               "'{status:healthy}': the config's quoting rules remove the double quotes in "
               "{\"status\":\"healthy\"}; to match them, write the word in single quotes: "
               "'{\"status\":\"healthy\"}'"}));
    const auto& pc = proxy_check(p, 0);
    ASSERT_EQ(pc.expects.size(), 3u);
    EXPECT_EQ(pc.expects[2].pattern.text, "{status:healthy}");
}

TEST(CheckKeywords, HttpCheckErrorsAndPending) {
    EXPECT_EQ(
        messages("backend b\n  option httpchk\n  http-check foo\n  http-check expect\n"
                 "  http-check send-state x\n  http-check send meth\n"
                 "  http-check connect ssl\n  http-check expect status 200\n"
                 "  http-check send uri /2\n  http-check connect\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'http-check' : "
               "'http-check' expects 'comment', 'connect', 'disable-on-404', 'expect', 'send', "
               "'send-state', 'set-var' or 'unset-var', got 'foo'",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : backend 'b' : 'http-check' : "
               "'http-check expect' : expects a match ('status', 'rstatus', 'hdr', 'fhdr', "
               "'string' or 'rstring') and its pattern",
               "[ALERT]    (PID) : config : parsing [t.cfg:5] : backend 'b' : 'http-check' : "
               "cannot handle unexpected argument 'x'.",
               "[ALERT]    (PID) : config : parsing [t.cfg:6] : backend 'b' : 'http-check' : "
               "'http-check send' : 'meth' expects a value",
               "[ALERT]    (PID) : config : parsing [t.cfg:7] : backend 'b' : 'http-check' : "
               "'http-check connect ssl' is not implemented yet; it comes with TLS (roadmap "
               "item 7)",
               "[ALERT]    (PID) : config : parsing [t.cfg:10] : backend 'b' : 'http-check' : "
               "'http-check connect' : first step MUST also be a 'connect', optionally "
               "preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a "
               "'connect' step in the tcp-check ruleset"}));
}

TEST(CheckKeywords, BackendRulesReplaceInheritedOnes) {
    const Parsed p = parse(
        "defaults\n  mode http\n  option httpchk GET /d\n  http-check expect status 201\n"
        "  timeout check 3s\n"
        "backend a\n"
        "backend b\n  http-check expect status 202\n  http-check disable-on-404\n");
    EXPECT_EQ(p.messages(), Lines{});
    ASSERT_EQ(proxy_check(p, 0).expects.size(), 1u);
    EXPECT_EQ(proxy_check(p, 0).expects[0].codes[0].first, 201);
    EXPECT_EQ(proxy_check(p, 0).timeout_check, std::chrono::seconds(3));
    ASSERT_EQ(proxy_check(p, 1).expects.size(), 1u);
    EXPECT_EQ(proxy_check(p, 1).expects[0].codes[0].first, 202);
    EXPECT_TRUE(proxy_check(p, 1).disable_on_404);
    EXPECT_EQ(proxy_check(p, 1).request.uri, "/d");
}

TEST(CheckKeywords, SpreadChecks) {
    const Parsed p = parse("global\n  spread-checks 5\n  spread-checks 51\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'spread-checks' : "
                     "expects a percentage from 0 to 50, got '51'"}));
    EXPECT_EQ(p.doc.global.read<check::GlobalCheckConf>().spread_checks, 5u);
}

}  // namespace
}  // namespace sluice::cfg::reader_test

namespace sluice::cfg::reader_test {
namespace {

TEST(CheckKeywords, ACheckedServerNeedsAPort) {
    // HAProxy 2.6 refuses it too ("has neither service port nor check port").
    Parsed p = parse(
        "backend b\n  server s1 127.0.0.1 check\n  server s2 127.0.0.1 check port 81\n"
        "  server s3 127.0.0.1:80 check\n  server s4 127.0.0.1\n");
    run_late_checks(p.doc, p.diag);
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : "
                     "server 's1' has neither a service port nor a check port to check"}));
}

TEST(CheckKeywords, ServerStateHeader) {
    check::ServerState st;
    st.health = 2;
    st.address = "10.0.0.1";
    st.port = 80;
    st.backend = "be";
    st.server = "s1";
    st.node = "n";
    st.weight = 1;
    st.total_weight = 2;
    EXPECT_EQ(check::format_server_state(st),
              "UP 1/3; address=10.0.0.1; port=80; name=be/s1; node=n; weight=1/2; scur=0/0; "
              "qcur=0");
    st.health = 4;
    st.stopping = true;
    st.throttle = 25;
    EXPECT_EQ(check::format_server_state(st).substr(0, 6), "NOLB; ");
    EXPECT_TRUE(check::format_server_state(st).ends_with("; throttle=25%"));
    st.up = false;
    st.stopping = false;
    st.health = 1;
    st.throttle = -1;
    EXPECT_EQ(check::format_server_state(st).substr(0, 10), "DOWN 1/2; ");
}

TEST(CheckKeywords, HttpCheckSequenceOfExchanges) {
    const Parsed p = parse(
        "backend b\n  option httpchk GET /first\n  http-check connect\n"
        "  http-check send hdr Host a\n  http-check expect status 200\n"
        "  http-check connect port 81 linger\n  http-check send uri /second\n");
    EXPECT_EQ(p.messages(), Lines{});
    const auto& pc = proxy_check(p, 0);
    ASSERT_EQ(pc.more.size(), 1u);
    const check::TcpRules set = check::http_sequence_rules(pc);
    ASSERT_EQ(set.rules.size(), 6u);
    EXPECT_EQ(set.rules[1].data, "GET /first HTTP/1.0\r\nhost: a\r\n\r\n");
    EXPECT_EQ(set.rules[2].expect.kind, check::TcpExpect::Kind::Http);
    EXPECT_EQ(set.rules[3].port, 81);
    EXPECT_TRUE(set.rules[3].linger);
    EXPECT_EQ(set.rules[4].data, "OPTIONS /second HTTP/1.0\r\n\r\n");
    // The last exchange is judged even without expect rules (2xx and 3xx pass).
    EXPECT_TRUE(set.rules[5].expect.http.empty());
    const check::Verdict v =
        check::evaluate_tcp(set.rules[5], 6, "HTTP/1.1 302 Found\r\n\r\n", true);
    EXPECT_EQ(v.what, check::Verdict::What::Pass);
    EXPECT_EQ(v.outcome.code, 302);
    EXPECT_EQ(check::evaluate_tcp(set.rules[2], 3, "HTTP/1.1 200", false).what,
              check::Verdict::What::Wait);
}

}  // namespace
}  // namespace sluice::cfg::reader_test
