// tcp-check rules and the protocol checks: the keywords as the reader sees them (values and
// file:line diagnostics), the verdicts on answers, and the bytes the protocol checks send.
// Where a test says "HAProxy 2.6", the behaviour was checked with haproxy 2.6.12.
#include "sluice/check/tcpcheck.hpp"

#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/check/conf.hpp"

namespace sluice::cfg::reader_test {
namespace {

using check::TcpRule;
using check::Verdict;

const check::ProxyCheckConf& proxy_check(const Parsed& p, std::size_t i) {
    return p.doc.proxies.at(i).parts.read<check::ProxyCheckConf>();
}

TEST(TcpCheckKeywords, Sequence) {
    const Parsed p = parse(
        "backend b\n  option tcp-check\n  tcp-check comment first\n"
        "  tcp-check connect port 6379 addr 127.0.0.2 send-proxy linger\n"
        "  tcp-check send PING\\r\\n comment ping\n  tcp-check send-binary 0aFF\n"
        "  tcp-check expect ! min-recv 3 string +PONG error-status L7STS tout-status L4TOUT "
        "ok-status L7OKC\n  tcp-check expect rbinary ^2b\n");
    EXPECT_EQ(p.messages(), Lines{});
    const auto& pc = proxy_check(p, 0);
    EXPECT_EQ(pc.kind, check::Kind::TcpCheck);
    const auto& r = pc.tcp_rules.rules;
    ASSERT_EQ(r.size(), 6u);
    EXPECT_EQ(r[0].op, TcpRule::Op::Comment);
    EXPECT_EQ(r[1].op, TcpRule::Op::Connect);
    EXPECT_EQ(r[1].port, 6379);
    EXPECT_EQ(r[1].addr->to_string(), "127.0.0.2:0");
    EXPECT_TRUE(r[1].send_proxy);
    EXPECT_TRUE(r[1].linger);
    EXPECT_EQ(r[1].comment, "first");  // a `tcp-check comment` names the steps after it
    EXPECT_EQ(r[2].data, "PING\r\n");
    EXPECT_EQ(r[2].comment, "ping");
    EXPECT_EQ(r[3].data, std::string("\x0a\xff"));
    EXPECT_TRUE(r[4].expect.negate);
    EXPECT_EQ(r[4].expect.min_recv, 3);
    EXPECT_EQ(r[4].expect.error_status, check::Status::L7Status);
    EXPECT_EQ(r[4].expect.timeout_status, check::Status::L4Timeout);
    EXPECT_EQ(r[4].expect.ok_status, check::Status::L7OkConditional);
    EXPECT_EQ(r[5].expect.kind, check::TcpExpect::Kind::RBinary);
    EXPECT_EQ(check::opening_connect(r), 1u);
}

TEST(TcpCheckKeywords, Errors) {
    // HAProxy 2.6's texts (with sluice's "not implemented yet" for the log-format forms).
    EXPECT_EQ(
        messages("backend b\n  option tcp-check\n  tcp-check send-binary 5g\n"
                 "  tcp-check expect foo zz\n  tcp-check expect string\n  tcp-check bogus\n"
                 "  tcp-check connect port 0\n  tcp-check expect string a error-status L9\n"
                 "  tcp-check set-var(bad.x) str(a)\n  tcp-check expect string a\n"
                 "  tcp-check connect port 80\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'tcp-check' : "
               "'tcp-check send-binary' : '5g' invalid binary string (an hex digit is expected "
               "(found 'g')).",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : backend 'b' : 'tcp-check' : "
               "'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', "
               "'[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got "
               "'foo' as argument.",
               "[ALERT]    (PID) : config : parsing [t.cfg:5] : backend 'b' : 'tcp-check' : "
               "'tcp-check expect' : 'string' expects a <pattern> as argument.",
               "[ALERT]    (PID) : config : parsing [t.cfg:6] : backend 'b' : 'tcp-check' : "
               "'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', "
               "'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got 'bogus'",
               "[ALERT]    (PID) : config : parsing [t.cfg:7] : backend 'b' : 'tcp-check' : "
               "'tcp-check connect' : expects a valid TCP port (from range 1 to 65535) or a "
               "sample expression, got 0.",
               "[ALERT]    (PID) : config : parsing [t.cfg:8] : backend 'b' : 'tcp-check' : "
               "'tcp-check expect' : 'error-status' only supports 'L4CON', 'L6RSP', 'L7RSP' "
               "or 'L7STS' status (got 'L9').",
               "[ALERT]    (PID) : config : parsing [t.cfg:9] : backend 'b' : 'tcp-check' : "
               "'set-var' : unknown variable scope 'bad' in 'bad.x': expected proc, sess, txn, "
               "req or res",
               "[ALERT]    (PID) : config : parsing [t.cfg:11] : backend 'b' : 'tcp-check' : "
               "'tcp-check connect' : first step MUST also be a 'connect', optionally preceded "
               "by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step "
               "in the tcp-check ruleset."}));
}

TEST(TcpCheckKeywords, ProtocolOptions) {
    const Parsed p = parse(
        "backend a\n  option redis-check\nbackend b\n  option smtpchk EHLO me.example\n"
        "backend c\n  option pgsql-check user bob\nbackend d\n  option ldap-check\n"
        "backend e\n  option ssl-hello-chk\nbackend f\n  option smtpchk\n"
        "backend g\n  option pgsql-check\nbackend h\n  option mysql-check user x post-41 y\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:14] : backend 'g' : 'option "
                     "pgsql-check' : expects 'user <username>' as argument",
                     "[ALERT]    (PID) : config : parsing [t.cfg:16] : backend 'h' : 'option "
                     "mysql-check' : cannot handle unexpected argument 'y'."}));
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(proxy_check(p, i).kind, check::Kind::Protocol) << i;
        EXPECT_TRUE(proxy_check(p, i).protocol_rules.builtin) << i;
    }
    EXPECT_EQ(proxy_check(p, 0).protocol_rules.rules[0].data, "*1\r\n$4\r\nPING\r\n");
    EXPECT_EQ(proxy_check(p, 1).protocol_rules.rules[2].data, "EHLO me.example\r\n");
    EXPECT_EQ(proxy_check(p, 5).protocol_rules.rules[2].data, "HELO localhost\r\n");
    EXPECT_EQ(proxy_check(p, 2).protocol_rules.rules[0].data,
              std::string("\0\0\0\x12\0\3\0\0user\0bob\0\0", 18));
    EXPECT_EQ(proxy_check(p, 4).protocol_rules.rules[0].data.size(), 5u + 0x79u);
}

TcpRule rule(std::vector<std::string> words) {
    auto r = check::parse_tcp_check(words);
    EXPECT_TRUE(r) << r.error();
    return *r;
}

TEST(TcpCheckKeywords, VariablesAndLogFormat) {
    TcpRule r = rule({"connect", "port", "var(check.port)"});
    EXPECT_TRUE(r.port_expr);
    EXPECT_EQ(r.port, 0);
    r = rule({"set-var(check.a,ifnotset)", "str(x)"});
    ASSERT_TRUE(r.action);
    EXPECT_EQ(r.op, TcpRule::Op::Action);
    EXPECT_EQ(r.action->ref.scope, sample::VarScope::Check);
    r = rule({"send-binary-lf", "%[var(check.a)]"});
    ASSERT_TRUE(r.format);
    sample::VarStore store;
    sample::Vars vars;
    vars.check = &store;
    sample::Arena arena;
    sample::Context ctx(arena);
    ctx.attach(&vars);
    check::run_action(*rule({"set-var(check.a)", "str(410d)"}).action, ctx);
    auto bytes = check::render_send(r, ctx);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, "A\r");
    check::run_action(*rule({"unset-var(check.a)"}).action, ctx);
    EXPECT_EQ(*check::render_send(r, ctx), "");
    EXPECT_FALSE(check::parse_tcp_check(std::vector<std::string>{"unset-var(check.a)", "x"}));
    EXPECT_FALSE(check::parse_tcp_check(std::vector<std::string>{"connect", "port", "nope("}));
}

TEST(TcpCheckVerdict, StringWaitsUntilMatchOrEnd) {
    const TcpRule r = rule({"expect", "string", "+PONG"});
    EXPECT_EQ(check::evaluate_tcp(r, 2, "+PO", false).what, Verdict::What::Wait);
    EXPECT_EQ(check::evaluate_tcp(r, 2, "x+PONG\r\n", false).what, Verdict::What::Pass);
    const Verdict v = check::evaluate_tcp(r, 2, "-ERR", true);
    EXPECT_EQ(v.what, Verdict::What::Fail);
    EXPECT_EQ(v.outcome.status, check::Status::L7Response);
    EXPECT_EQ(v.outcome.info, "TCPCHK did not match content '+PONG' at step 2");
}

TEST(TcpCheckVerdict, MinRecvMakesAMismatchFinal) {
    const TcpRule r = rule({"expect", "min-recv", "4", "rstring", "^OK", "comment", "c"});
    EXPECT_EQ(check::evaluate_tcp(r, 1, "NO", false).what, Verdict::What::Wait);
    const Verdict v = check::evaluate_tcp(r, 1, "NOPE", false);
    EXPECT_EQ(v.what, Verdict::What::Fail);
    EXPECT_EQ(v.outcome.info, "TCPCHK did not match content (regex) at step 1 comment: c");
    EXPECT_EQ(
        check::evaluate_tcp(rule({"expect", "min-recv", "0", "string", "x"}), 1, "", false).what,
        Verdict::What::Fail);
}

TEST(TcpCheckVerdict, NegationBinaryAndBinaryRegex) {
    const Verdict v = check::evaluate_tcp(rule({"expect", "!", "binary", "2b"}), 3, "+OK", false);
    EXPECT_EQ(v.what, Verdict::What::Fail);
    EXPECT_EQ(v.outcome.info, "TCPCHK matched unwanted content (binary) at step 3");
    EXPECT_EQ(check::evaluate_tcp(rule({"expect", "!", "string", "ERR"}), 1, "OK", true).what,
              Verdict::What::Pass);
    // rbinary matches the answer's upper-case hex form.
    EXPECT_EQ(check::evaluate_tcp(rule({"expect", "rbinary", "^2B4F"}), 1, "+OK", false).what,
              Verdict::What::Pass);
}

TEST(TcpCheckVerdict, StepTexts) {
    EXPECT_EQ(check::step_text(rule({"expect", "string", "w"}), 2, false),
              " at step 2 of tcp-check (expect string 'w')");
    EXPECT_EQ(check::step_text(rule({"connect", "port", "81", "comment", "c"}), 1, false),
              " at step 1 of tcp-check (connect port 81) comment: 'c'");
    EXPECT_EQ(check::step_text(TcpRule{}, 0, true), " at initial connection step of tcp-check");
}

Verdict last_rule(const check::TcpRules& set, std::string_view answer, bool last = true) {
    return check::evaluate_tcp(set.rules.back(), set.rules.size(), answer, last);
}

TEST(ProtocolVerdict, Redis) {
    const auto set = check::redis_rules();
    Verdict v = last_rule(set, "-ERR oops\r\n");
    EXPECT_EQ(v.outcome.status, check::Status::L7Status);
    EXPECT_EQ(v.outcome.info, "-ERR oops");
    v = last_rule(set, "+PONG\r\n");
    EXPECT_EQ(v.what, Verdict::What::Pass);
    EXPECT_EQ(v.outcome.info, "Redis server is ok");
}

TEST(ProtocolVerdict, SmtpCodes) {
    const auto set = check::smtp_rules("HELO", "localhost");
    Verdict v = check::evaluate_tcp(set.rules[1], 2, "554 go away\r\n", false);
    EXPECT_EQ(v.what, Verdict::What::Fail);
    EXPECT_EQ(v.outcome.code, 554);
    EXPECT_EQ(v.outcome.info, "go away");
    v = check::evaluate_tcp(set.rules[0], 1, "hello\r\n", false);
    EXPECT_EQ(v.outcome.status, check::Status::L7Response);
    EXPECT_EQ(v.outcome.info, "hello");
    v = last_rule(set, "250-mx\r\n250 OK\r\n", false);
    EXPECT_EQ(v.what, Verdict::What::Pass);
    EXPECT_EQ(v.outcome.code, 250);
    EXPECT_EQ(v.outcome.info, "mx");
}

TEST(ProtocolVerdict, Pgsql) {
    const auto set = check::pgsql_rules("u");
    Verdict v = check::evaluate_tcp(set.rules[1], 2,
                                    std::string_view("E\0\0\0\x10SFATAL\0Mx\0\0", 16), false);
    EXPECT_EQ(v.outcome.status, check::Status::L7Response);
    EXPECT_EQ(v.outcome.info, "FATAL");
    v = last_rule(set, std::string_view("R\0\0\0\x08\0\0\0\0", 9));
    EXPECT_EQ(v.what, Verdict::What::Pass);
    EXPECT_EQ(v.outcome.info, "PostgreSQL server is ok");
    v = last_rule(set, std::string_view("R\0\0\0\x0c\0\0\0\x05salt", 13));
    EXPECT_EQ(v.outcome.info, "PostgreSQL unknown error");
}

TEST(ProtocolVerdict, Ldap) {
    const auto set = check::ldap_rules();
    const std::string ok("\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00", 14);
    EXPECT_EQ(last_rule(set, ok.substr(0, 5), false).what, Verdict::What::Wait);
    EXPECT_EQ(last_rule(set, ok).what, Verdict::What::Pass);
    std::string refused = ok;
    refused[9] = 49;
    Verdict v = last_rule(set, refused);
    EXPECT_EQ(v.outcome.status, check::Status::L7Status);
    EXPECT_EQ(v.outcome.code, 49);
    v = last_rule(set, "HTTP/1.0 400\r\n");
    EXPECT_EQ(v.outcome.status, check::Status::L7Response);
    EXPECT_EQ(v.outcome.info, "Not LDAPv3 protocol");
}

std::string mysql_packet(char seq, std::string_view body) {
    std::string p;
    p += static_cast<char>(body.size());
    p.append(2, '\0');
    p += seq;
    p += body;
    return p;
}

TEST(ProtocolVerdict, MysqlRulesAndPackets) {
    const auto with_user = check::mysql_rules("haproxy", true);
    ASSERT_EQ(with_user.rules.size(), 4u);
    EXPECT_TRUE(with_user.rules[0].linger);
    const std::string auth = with_user.rules[1].data;
    EXPECT_EQ(auth.substr(0, 4), std::string_view("\x29\0\0\x01", 4));
    EXPECT_EQ(auth.size(), 4u + 0x29u + 5u);
    EXPECT_EQ(auth.substr(auth.size() - 5), std::string_view("\x01\0\0\0\x01", 5));
    EXPECT_EQ(check::mysql_rules("haproxy", false).rules[1].data,
              std::string("\x0e\0\0\x01\0\x80\0\0\x01haproxy\0\0\x01\0\0\0\x01", 23));
    EXPECT_EQ(check::mysql_rules("", true).rules.size(), 2u);

    const std::string hs = mysql_packet(0, std::string("\x0a"
                                                       "5.7\0rest",
                                                       9));
    const std::string ok = mysql_packet(2, std::string("\0\0\0\2\0\0\0", 7));
    const std::string err = mysql_packet(2, std::string("\xff\x15\x04#28000denied\0x", 16));
    const auto& first = with_user.rules[2];
    const auto& second = with_user.rules[3];
    EXPECT_EQ(check::evaluate_tcp(first, 3, hs.substr(0, 6), false).what, Verdict::What::Wait);
    EXPECT_EQ(check::evaluate_tcp(first, 3, hs.substr(0, 6), true).outcome.status,
              check::Status::L7Response);
    EXPECT_EQ(check::evaluate_tcp(first, 3, hs, false).what, Verdict::What::Pass);
    EXPECT_EQ(check::evaluate_tcp(second, 4, hs, false).what, Verdict::What::Wait);
    Verdict v = check::evaluate_tcp(second, 4, hs + ok, false);
    EXPECT_EQ(v.what, Verdict::What::Pass);
    EXPECT_EQ(v.outcome.status, check::Status::L7Ok);
    EXPECT_EQ(v.outcome.info, "");
    v = check::evaluate_tcp(second, 4, hs + err, false);
    EXPECT_EQ(v.what, Verdict::What::Fail);
    EXPECT_EQ(v.outcome.status, check::Status::L7Status);
    EXPECT_EQ(v.outcome.code, 1045);
    EXPECT_EQ(v.outcome.info, "#28000denied");
    v = check::evaluate_tcp(first, 3, err, false);
    EXPECT_EQ(v.outcome.code, 1045);
}

TEST(ProtocolVerdict, SslHello) {
    const auto set = check::ssl_hello_rules();
    EXPECT_EQ(last_rule(set, std::string_view("\x15\x03\x01\x00\x02", 5), false).outcome.status,
              check::Status::L6Ok);
    EXPECT_EQ(last_rule(set, "hello", false).outcome.status, check::Status::L6Response);
}

}  // namespace
}  // namespace sluice::cfg::reader_test
