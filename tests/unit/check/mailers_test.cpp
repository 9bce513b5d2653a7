// E-mail alerts: the mail as HAProxy 2.6 sends it (checked byte for byte against haproxy 2.6.12
// with a fake SMTP server, dates aside), SMTP replies, and the keywords as the reader sees them.
#include "sluice/check/mailers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "../cfg/reader_test_support.hpp"
#include "sluice/cfg/document.hpp"
#include "sluice/cfg/late.hpp"

namespace sluice::check {
namespace {

TEST(MailMessage, HeadersThenTheMessageTwice) {
    EXPECT_EQ(build_mail_data("a@x.org", "b@y.org", "Mon, 07 Dec 2026 03:22:33 +0000 (UTC)",
                              "Server be/s1 is UP, reason: Layer4 check passed"),
              "From: a@x.org\r\nTo: b@y.org\r\nDate: Mon, 07 Dec 2026 03:22:33 +0000 (UTC)\r\n"
              "Subject: [HAProxy Alert] Server be/s1 is UP, reason: Layer4 check passed\r\n"
              "\r\n"
              "Server be/s1 is UP, reason: Layer4 check passed\r\n"
              "\r\n"
              ".\r\n");
}

TEST(MailMessage, DateInLocalTime) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    EXPECT_EQ(format_mail_date(1796613753), "Mon, 07 Dec 2026 03:22:33 +0000 (UTC)");
}

TEST(MailMessage, Levels) {
    EXPECT_EQ(parse_log_level("emerg"), 0);
    EXPECT_EQ(parse_log_level("alert"), 1);
    EXPECT_EQ(parse_log_level("notice"), 5);
    EXPECT_EQ(parse_log_level("debug"), 7);
    EXPECT_EQ(parse_log_level("Alert"), std::nullopt);
    EXPECT_EQ(parse_log_level("error"), std::nullopt);
    EXPECT_EQ(state_level(true), 1);   // DOWN: an alert
    EXPECT_EQ(state_level(false), 5);  // UP, stopping: a notice
}

TEST(SmtpReply, OneLineMultiLineAndBroken) {
    using S = SmtpReply::State;
    EXPECT_EQ(parse_smtp_reply("").state, S::Incomplete);
    EXPECT_EQ(parse_smtp_reply("220 ready").state, S::Incomplete);
    SmtpReply r = parse_smtp_reply("220 ready\r\nmore");
    EXPECT_EQ(r.state, S::Complete);
    EXPECT_EQ(r.code, 220);
    EXPECT_EQ(r.length, 11u);
    r = parse_smtp_reply("250-a\r\n250-b\r\n250 c\r\n");
    EXPECT_EQ(r.state, S::Complete);
    EXPECT_EQ(r.code, 250);
    EXPECT_EQ(r.length, 21u);
    EXPECT_EQ(parse_smtp_reply("250-a\r\n250").state, S::Incomplete);
    EXPECT_EQ(parse_smtp_reply("354\r\n").code, 354);
    EXPECT_EQ(parse_smtp_reply("250-a\r\n251 b\r\n").state, S::Invalid);
    EXPECT_EQ(parse_smtp_reply("HTTP/1.1 200 OK\r\n").state, S::Invalid);
    EXPECT_EQ(parse_smtp_reply("25x ok\r\n").state, S::Invalid);
    EXPECT_EQ(parse_smtp_reply(std::string(2000, '2')).state, S::Invalid);
}

}  // namespace
}  // namespace sluice::check

namespace sluice::cfg::reader_test {
namespace {

TEST(MailKeywords, SectionAndProxySettings) {
    Parsed p = parse(
        "mailers mx\n  timeout mail 20s\n  mailer m1 127.0.0.1:587\n  mailer m2 [::1]:25\n"
        "defaults\n  email-alert level notice\n"
        "backend b\n  email-alert mailers mx\n  email-alert from a@x\n  email-alert to b@x\n"
        "  email-alert myhostname lb1\n");
    run_late_checks(p.doc, p.diag);
    EXPECT_EQ(p.messages(), Lines{});
    const Section* mx = p.doc.global.read<NamedSections>().find(SectionKind::Mailers, "mx");
    ASSERT_NE(mx, nullptr);
    const auto& mc = mx->parts.read<check::MailersConf>();
    ASSERT_EQ(mc.mailers.size(), 2u);
    EXPECT_EQ(mc.mailers[0].address.to_string(), "127.0.0.1:587");
    EXPECT_EQ(mc.timeout, std::chrono::seconds(20));
    const auto& ea = p.doc.proxies.at(0).parts.read<check::EmailAlertConf>();
    EXPECT_TRUE(ea.complete());
    EXPECT_EQ(ea.level, 5);
    EXPECT_EQ(ea.myhostname, "lb1");
}

TEST(MailKeywords, Errors) {
    Parsed p = parse(
        "mailers mx\n  mailer m1 127.0.0.1\n  mailer m1 127.0.0.1:25\n  mailer m1 127.0.0.1:26\n"
        "  timeout mail 0\n"
        "backend b\n  email-alert level loud\n  email-alert sender x\n  email-alert from\n"
        "  email-alert mailers nope\n  email-alert to b@x\n");
    run_late_checks(p.doc, p.diag);
    EXPECT_EQ(
        p.messages(),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : mailers 'mx' : 'mailer' : missing "
               "port in '127.0.0.1' (a mailer needs <ip>:<port>)",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : mailers 'mx' : 'mailer' : mailer "
               "'m1' is already declared at t.cfg:3",
               "[ALERT]    (PID) : config : parsing [t.cfg:5] : mailers 'mx' : 'timeout mail' : "
               "expects a time above zero, got '0'",
               "[ALERT]    (PID) : config : parsing [t.cfg:7] : backend 'b' : 'email-alert' : "
               "unknown log level 'loud' (expects emerg, alert, crit, err, warning, notice, info "
               "or debug)",
               "[ALERT]    (PID) : config : parsing [t.cfg:8] : backend 'b' : 'email-alert' : "
               "unknown argument 'sender' (expects 'from', 'to', 'mailers', 'level' or "
               "'myhostname')",
               "[ALERT]    (PID) : config : parsing [t.cfg:9] : backend 'b' : 'email-alert' : "
               "'email-alert from' expects a value",
               "[ALERT]    (PID) : config : parsing [t.cfg:10] : backend 'b' : 'email-alert' : "
               "unable to find mailers section 'nope'",
               "[WARNING]  (PID) : config : parsing [t.cfg:10] : backend 'b' : 'email-alert' : "
               "e-mail alerts are off for backend 'b' (missing 'email-alert from'): they need "
               "'email-alert from', 'email-alert to' and 'email-alert mailers'"}));
}

TEST(MailKeywords, IncompleteSettingsWarnForEveryProxyCarryingThem) {
    // HAProxy 2.6 warns for each proxy, frontends included.
    Parsed p = parse(
        "defaults\n  email-alert level notice\nfrontend f\nbackend b\n  email-alert to x@y\n"
        "backend c\n  email-alert from a@x\n  email-alert to b@x\n  email-alert mailers mx\n"
        "mailers mx\n  mailer m 127.0.0.1:25\n");
    run_late_checks(p.doc, p.diag);
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : defaults : 'email-alert' : "
                     "e-mail alerts are off for frontend 'f' (missing 'email-alert from', "
                     "'email-alert to', 'email-alert mailers'): they need 'email-alert from', "
                     "'email-alert to' and 'email-alert mailers'",
                     "[WARNING]  (PID) : config : parsing [t.cfg:5] : backend 'b' : "
                     "'email-alert' : e-mail alerts are off for backend 'b' (missing 'email-alert "
                     "from', 'email-alert mailers'): they need 'email-alert from', 'email-alert "
                     "to' and 'email-alert mailers'"}));
}

}  // namespace
}  // namespace sluice::cfg::reader_test
