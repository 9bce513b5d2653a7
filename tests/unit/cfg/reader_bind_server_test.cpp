// The config reader, `bind` and `server` lines: their addresses as the reader reports them (the
// address syntax itself is in tests/unit/net/address_test.cpp), their option lists, the
// option errors, and `default-server`.
#include "sluice/cfg/reader.hpp"

#include <gtest/gtest.h>

#include "reader_test_support.hpp"

namespace sluice::cfg {
namespace {

using namespace reader_test;  // NOLINT(google-build-using-namespace): test helpers only
using std::chrono::milliseconds;
using std::chrono::seconds;

// --- bind lines --------------------------------------------------------------------------------

TEST(ReaderBind, InvalidAddresses) {
    EXPECT_EQ(
        messages("frontend f\n  bind 1.2.3.4\n  bind 1.2.3.4:99999\n"
                 "  bind foo@1.2.3.4:80\n  bind :90-80\n  bind fd@x\n  bind unix@\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'bind' : invalid "
               "address '1.2.3.4': missing port in '1.2.3.4' (expected [address]:port)",
               "[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'f' : 'bind' : invalid "
               "address '1.2.3.4:99999': invalid port '99999'",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'bind' : invalid "
               "address 'foo@1.2.3.4:80': unsupported address family 'foo@' in 'foo@1.2.3.4:80'",
               "[ALERT]    (PID) : config : parsing [t.cfg:5] : frontend 'f' : 'bind' : invalid "
               "address ':90-80': invalid port range '90-80'",
               "[ALERT]    (PID) : config : parsing [t.cfg:6] : frontend 'f' : 'bind' : invalid "
               "address 'fd@x': invalid file descriptor in 'fd@x'",
               "[ALERT]    (PID) : config : parsing [t.cfg:7] : frontend 'f' : 'bind' : invalid "
               "address 'unix@': invalid UNIX socket path ''"}));
}

TEST(ReaderBind, PortZeroAndMalformedBracketsAreInvalid) {
    // HAProxy 2.6: "invalid port '0'" and "missing port specification in '[::1]80'".
    EXPECT_EQ(messages("frontend f\n  bind :0\n  bind 127.0.0.1:0-2\n  bind [::1]80\n"
                       "  bind [::1\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'bind' : "
                     "invalid address ':0': invalid port '0' in ':0'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'f' : 'bind' : "
                     "invalid address '127.0.0.1:0-2': invalid port '0' in '127.0.0.1:0-2'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'bind' : "
                     "invalid address '[::1]80': expected ':' after ']' in '[::1]80'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : frontend 'f' : 'bind' : "
                     "invalid address '[::1': missing ']' in '[::1'"}));
}

TEST(ReaderBind, OptionsAreStoredInTheLinesParts) {
    const Parsed p = parse(
        "frontend f\n  bind :84 name n v4v6 v6only defer-accept tfo interface lo mss 1400 "
        "backlog 10 maxconn 5\n  bind unix@/run/s.sock mode 600 user u group g uid 1 gid 2\n");
    EXPECT_EQ(p.messages(), Lines{});
    ASSERT_EQ(p.proxy(0).binds.size(), 2u);
    const auto& a = p.proxy(0).binds[0].options.read<net::BindOptions>();
    EXPECT_EQ(a.name, "n");
    EXPECT_TRUE(a.v4v6);
    EXPECT_TRUE(a.v6only);
    EXPECT_TRUE(a.defer_accept);
    EXPECT_TRUE(a.tfo);
    EXPECT_EQ(a.interface, "lo");
    EXPECT_EQ(a.mss, 1400u);
    EXPECT_EQ(a.backlog, 10u);
    EXPECT_EQ(a.maxconn, 5u);
    const auto& u = p.proxy(0).binds[1].options.read<net::BindOptions>();
    EXPECT_EQ(u.unix_mode, 0600u);
    EXPECT_EQ(u.unix_user, "u");
    EXPECT_EQ(u.unix_group, "g");
    EXPECT_EQ(u.unix_uid, 1);
    EXPECT_EQ(u.unix_gid, 2);
    EXPECT_EQ(p.proxy(0).binds[1].address_text, "unix@/run/s.sock");
    EXPECT_EQ(p.proxy(0).binds[1].where.line, 3);
}

TEST(ReaderBind, OptionErrors) {
    EXPECT_EQ(messages("frontend f\n  bind :80 bogus\n  bind :81 backlgo 5\n  bind :82 backlog\n"
                       "  bind :83 mode 999\n  bind :84 mode 0\n  bind :85 uid x\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'bind' : "
                     "unknown bind option 'bogus'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'f' : 'bind' : "
                     "unknown bind option 'backlgo', did you mean 'backlog'?",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'bind' : bind "
                     "option 'backlog' expects 1 argument",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : frontend 'f' : 'mode' : "
                     "expects an octal permission such as 600, got '999'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:6] : frontend 'f' : 'mode' : "
                     "expects an octal permission such as 600, got '0'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:7] : frontend 'f' : 'uid' : "
                     "expects a numeric id, got 'x'"}));
}

TEST(ReaderBind, NumericOptionErrorNamesTheOption) {
    // The option is the keyword of its message (not the line's `bind`), as for a keyword.
    EXPECT_EQ(messages("frontend f\n  bind :80 backlog abc\n  bind :81 maxconn -1 mss 1x\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'backlog' : "
                     "expects a number, got 'abc'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'f' : 'maxconn' : "
                     "expects a number, got '-1'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'f' : 'mss' : "
                     "expects a number, got '1x'"}));
}

TEST(ReaderBind, ProcessAndThreadAreIgnoredWithWarning) {
    const Parsed p = parse("frontend f\n  bind :81 process 1 thread 2 name x\n");
    EXPECT_EQ(
        p.messages(),
        (Lines{
            "[WARNING]  (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'bind' : bind option "
            "'process' ignored: sluice runs one process; threads take accepts from every listener",
            "[WARNING]  (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'bind' : bind option "
            "'thread' ignored: sluice runs one process; threads take accepts from every "
            "listener"}));
    EXPECT_EQ(p.proxy(0).binds.at(0).options.read<net::BindOptions>().name, "x");
}

// --- server lines ------------------------------------------------------------------------------

TEST(ReaderServer, LineErrors) {
    EXPECT_EQ(messages("backend b\n  server s1\n  server s/1 1.2.3.4:80\n"
                       "  server s2 1.2.3.4:99999\n  server s3 foo@1.2.3.4:80\n"
                       "  server s4 :80\n  server s5 1.2.3.4:-x\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : "
                     "expects <name> and <address>[:port] as arguments",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'server' : "
                     "invalid server name 's/1' (letters, digits, '-', '_', '.', ':')",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : backend 'b' : 'server' : "
                     "server 's2': invalid port '99999'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : backend 'b' : 'server' : "
                     "server 's3': unsupported address family in 'foo@1.2.3.4:80'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:6] : backend 'b' : 'server' : "
                     "server 's4': missing address in ':80'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:7] : backend 'b' : 'server' : "
                     "server 's5': invalid port 'x'"}));
}

TEST(ReaderServer, AddressSyntaxErrorsNeedNoNameLookup) {
    // Refused while parsing, before any DNS query. An unbracketed IPv6 address ends with its
    // port, as in HAProxy 2.6.
    const Parsed p =
        parse("backend b\n  server s1 [::1]80\n  server s2 [::1\n  server s3 2001:db8::1:8080\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : "
                     "server 's1': expected ':' after ']' in '[::1]80'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'server' : "
                     "server 's2': missing ']' in '[::1'"}));
    ASSERT_EQ(p.proxy(0).servers.size(), 1u);
    EXPECT_EQ(p.proxy(0).servers[0].address.address.to_string(), "[2001:db8::1]:8080");
}

TEST(ReaderServer, OptionErrors) {
    EXPECT_EQ(messages("backend b\n  server s4 1.2.3.4:80 weight 257\n"
                       "  server s5 1.2.3.4:80 weight x\n  server s6 1.2.3.4:80 maxconn -1\n"
                       "  server s7 1.2.3.4:80 weight\n  default-server bogus\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'weight' : "
                     "expects a number from 0 to 256, got '257'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'weight' : "
                     "expects a number from 0 to 256, got 'x'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : backend 'b' : 'maxconn' : "
                     "expects a number, got '-1'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : backend 'b' : 'server' : "
                     "server option 'weight' expects 1 argument",
                     "[ALERT]    (PID) : config : parsing [t.cfg:6] : backend 'b' : "
                     "'default-server' : unknown server option 'bogus'"}));
}

TEST(ReaderServer, UnknownOptionIsReportedOnce) {
    // HAProxy 2.6 reports only 'wieght': how many arguments an unknown option takes is unknown,
    // so the rest of the line is not read (not reported as more unknown options, not applied).
    const Parsed p = parse(
        "backend b\n  server s 1.2.3.4:80 wieght 3 backup\nfrontend f\n"
        "  bind :80 bogus 1 2 name x\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : "
                     "unknown server option 'wieght', did you mean 'weight'?",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'bind' : "
                     "unknown bind option 'bogus'"}));
    ASSERT_EQ(p.proxy(0).servers.size(), 1u);
    EXPECT_FALSE(p.proxy(0).servers[0].options.read<proxy::ServerOptions>().backup);
    ASSERT_EQ(p.proxy(1).binds.size(), 1u);
    EXPECT_EQ(p.proxy(1).binds[0].options.read<net::BindOptions>().name, "");
}

TEST(ReaderServer, OptionsAreStored) {
    const Parsed p = parse(
        "backend b\n  server s1 1.2.3.4:80 disabled backup maxconn 4 weight 0\n"
        "  server s2 1.2.3.4:81 disabled enabled backup no-backup\n"
        "  server s3 127.0.0.1\n  server s4 127.0.0.1:+10\n");
    EXPECT_EQ(p.messages(), Lines{});
    const auto& servers = p.proxy(0).servers;
    ASSERT_EQ(servers.size(), 4u);
    const auto& o1 = servers[0].options.read<proxy::ServerOptions>();
    EXPECT_TRUE(o1.disabled);
    EXPECT_TRUE(o1.backup);
    EXPECT_EQ(o1.maxconn, 4u);
    EXPECT_EQ(o1.weight, 0u);
    const auto& o2 = servers[1].options.read<proxy::ServerOptions>();
    EXPECT_FALSE(o2.disabled);
    EXPECT_FALSE(o2.backup);
    EXPECT_EQ(o2.weight, 1u);
    EXPECT_EQ(servers[0].name, "s1");
    EXPECT_EQ(servers[0].address_text, "1.2.3.4:80");
    EXPECT_EQ(servers[0].where.line, 2);
    EXPECT_FALSE(servers[2].address.has_port);
    EXPECT_TRUE(servers[3].address.port_is_offset);
    EXPECT_EQ(servers[3].address.port_offset, 10);
}

TEST(ReaderServer, DefaultServerAppliesToLaterServersOnly) {
    const Parsed p = parse(
        "backend b\n  server before 1.2.3.4:80\n  default-server weight 7 maxconn 9\n"
        "  server after 1.2.3.4:81\n  server own 1.2.3.4:82 weight 3\n"
        "  default-server weight 2\n  server last 1.2.3.4:83\n");
    EXPECT_EQ(p.messages(), Lines{});
    const auto& s = p.proxy(0).servers;
    ASSERT_EQ(s.size(), 4u);
    EXPECT_EQ(s[0].options.read<proxy::ServerOptions>().weight, 1u);
    EXPECT_EQ(s[0].options.read<proxy::ServerOptions>().maxconn, 0u);
    EXPECT_EQ(s[1].options.read<proxy::ServerOptions>().weight, 7u);
    EXPECT_EQ(s[1].options.read<proxy::ServerOptions>().maxconn, 9u);
    EXPECT_EQ(s[2].options.read<proxy::ServerOptions>().weight, 3u);  // the line wins
    EXPECT_EQ(s[2].options.read<proxy::ServerOptions>().maxconn, 9u);
    EXPECT_EQ(s[3].options.read<proxy::ServerOptions>().weight, 2u);  // accumulates
    EXPECT_EQ(s[3].options.read<proxy::ServerOptions>().maxconn, 9u);
}

TEST(ReaderServer, DefaultServerInDefaultsIsInherited) {
    const Parsed p = parse(
        "defaults\n  default-server weight 5 backup\nbackend b\n  server s 1.2.3.4:80\n"
        "  server t 1.2.3.4:81 no-backup\n");
    EXPECT_EQ(p.messages(), Lines{});
    const auto& s = p.proxy(0).servers;
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].options.read<proxy::ServerOptions>().weight, 5u);
    EXPECT_TRUE(s[0].options.read<proxy::ServerOptions>().backup);
    EXPECT_FALSE(s[1].options.read<proxy::ServerOptions>().backup);
    // The defaults section itself is not changed by the proxy's servers.
    EXPECT_TRUE(p.defaults(0).servers.empty());
}

}  // namespace
}  // namespace sluice::cfg
