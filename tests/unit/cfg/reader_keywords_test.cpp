// The config reader, keyword level in proxy sections: keyword lookup (unknown, misplaced,
// negated, arity), keywords that later issues bring (pending), obsolete keywords accepted with a
// warning, and the values of proxy keywords. Every diagnostic is checked on its `file:line` text.
#include "sluice/cfg/reader.hpp"

#include <gtest/gtest.h>

#include "reader_test_support.hpp"

namespace sluice::cfg {
namespace {

using namespace reader_test;  // NOLINT(google-build-using-namespace): test helpers only
using std::chrono::milliseconds;
using std::chrono::seconds;

// --- keyword lookup ----------------------------------------------------------------------------

TEST(ReaderKeywords, UnknownKeywordSuggestsTheNearestName) {
    // HAProxy 2.6: "unknown keyword 'dameon' in 'global' section; did you mean 'daemon' maybe ?"
    EXPECT_EQ(messages("global\n  dameon\nfrontend fe\n  bnd :80\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : unknown keyword "
                     "'dameon' in 'global' section, did you mean 'daemon'?",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'fe' : unknown "
                     "keyword 'bnd' in 'frontend' section, did you mean 'bind'?"}));
}

TEST(ReaderKeywords, UnknownKeywordWithoutCloseNameHasNoSuggestion) {
    EXPECT_EQ(messages("listen l\n  xyzzyplugh 1\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : listen 'l' : unknown keyword "
                     "'xyzzyplugh' in 'listen' section"}));
}

TEST(ReaderKeywords, UnknownOptionOrTimeoutSuggestsTheTwoWordName) {
    EXPECT_EQ(messages("defaults\n  timeout conect 5s\n  option tcpkaa\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : unknown keyword "
                     "'timeout conect' in 'defaults' section, did you mean 'timeout connect'?",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : defaults : unknown keyword "
                     "'option tcpkaa' in 'defaults' section, did you mean 'option tcpka'?"}));
}

TEST(ReaderKeywords, BareFamilyWordIsUnknown) {
    EXPECT_EQ(messages("defaults\n  option\n  timeout\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : unknown keyword "
                     "'option' in 'defaults' section",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : defaults : unknown keyword "
                     "'timeout' in 'defaults' section"}));
}

TEST(ReaderKeywords, FrontendOnlyKeywordInBackendIsIgnoredWithWarning) {
    // HAProxy 2.6 warns too: "'bind' ignored because backend 'b' has no frontend capability".
    const Parsed p = parse("backend b\n  bind :80\n  default_backend x\n  timeout client 1s\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : backend 'b' : 'bind' : "
                     "ignored: a backend has no frontend capability",
                     "[WARNING]  (PID) : config : parsing [t.cfg:3] : backend 'b' : "
                     "'default_backend' : ignored: a backend has no frontend capability",
                     "[WARNING]  (PID) : config : parsing [t.cfg:4] : backend 'b' : 'timeout "
                     "client' : ignored: a backend has no frontend capability"}));
    EXPECT_TRUE(p.proxy(0).binds.empty());
    EXPECT_TRUE(p.proxy(0).default_backend.empty());
    EXPECT_FALSE(p.proxy(0).timeout_client.has_value());
}

TEST(ReaderKeywords, MaxconnInBackendIsIgnoredWithWarning) {
    // `maxconn` exists for global and for frontends; in a backend the frontend one is meant,
    // whatever order the tables registered in. HAProxy 2.6: "'maxconn' ignored because backend
    // 'b' has no frontend capability".
    const Parsed p = parse("backend b\n  maxconn 10\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : backend 'b' : 'maxconn' : "
                     "ignored: a backend has no frontend capability"}));
}

TEST(ReaderKeywords, BackendOnlyKeywordInFrontendIsIgnoredWithWarning) {
    const Parsed p = parse("frontend f\n  timeout server 3s\n  balance roundrobin\n  retries 5\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'timeout "
                     "server' : ignored: a frontend has no backend capability",
                     "[WARNING]  (PID) : config : parsing [t.cfg:3] : frontend 'f' : 'balance' : "
                     "ignored: a frontend has no backend capability",
                     "[WARNING]  (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'retries' : "
                     "ignored: a frontend has no backend capability"}));
    EXPECT_FALSE(p.proxy(0).timeout_server.has_value());
    EXPECT_EQ(p.proxy(0).retries, 3u);
}

TEST(ReaderKeywords, ServerInFrontendIsAnAlertAsInHaproxy) {
    const Parsed p = parse("frontend f\n  server s 1.2.3.4:80\n");
    EXPECT_EQ(p.diag.count(Level::Alert), 1u);
}

TEST(ReaderKeywords, ListenSectionHasBothCapabilities) {
    const Parsed p = parse(
        "listen l\n  bind :80\n  maxconn 5\n  timeout client 1s\n  timeout server 2s\n"
        "  server s 1.2.3.4:80\n  balance roundrobin\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.proxy(0).binds.size(), 1u);
    EXPECT_EQ(p.proxy(0).servers.size(), 1u);
    EXPECT_EQ(p.proxy(0).maxconn, 5u);
}

TEST(ReaderKeywords, ProxyKeywordInGlobalIsAnAlert) {
    // HAProxy 2.6 says "unknown keyword 'timeout' in 'global' section".
    EXPECT_EQ(messages("global\n  timeout client 1s\n  option tcpka\n  bind :80\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'timeout client' : "
                     "not allowed in a 'global' section",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'option tcpka' : "
                     "not allowed in a 'global' section",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'bind' : not "
                     "allowed in a 'global' section"}));
}

TEST(ReaderKeywords, GlobalKeywordInProxyIsAnAlert) {
    EXPECT_EQ(messages("frontend fe\n  nbthread 2\ndefaults\n  daemon\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : frontend 'fe' : 'nbthread' : "
                     "allowed only in the 'global' section",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : defaults : 'daemon' : "
                     "allowed only in the 'global' section"}));
}

TEST(ReaderKeywords, ProxyOnlyKeywordsInDefaultsAreAlerts) {
    EXPECT_EQ(messages("defaults\n  bind :80\n  server s 1.2.3.4:80\n  use_backend b\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : 'bind' : not "
                     "allowed in a 'defaults' section",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : defaults : 'server' : not "
                     "allowed in a 'defaults' section",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : defaults : 'use_backend' : "
                     "not allowed in a 'defaults' section"}));
}

TEST(ReaderKeywords, DescriptionInDefaultsIsNotAllowedThere) {
    // `description` exists for global and for proxies: the proxy one is meant here.
    // HAProxy 2.6: "'description' not allowed in 'defaults' section."
    EXPECT_EQ(messages("defaults\n  description text\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : 'description' : "
                     "not allowed in a 'defaults' section"}));
}

TEST(ReaderKeywords, NoOnNonNegatableKeywordIsAnAlert) {
    EXPECT_EQ(messages("defaults\n  no timeout connect 1s\n  no mode tcp\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : 'timeout connect' "
                     ": cannot be negated with 'no'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : defaults : 'mode' : cannot "
                     "be negated with 'no'"}));
}

TEST(ReaderKeywords, NoAloneIsAnUnknownKeyword) {
    EXPECT_EQ(messages("defaults\n  no\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : unknown keyword "
                     "'no' in 'defaults' section"}));
}

TEST(ReaderKeywords, NoClearsAFlag) {
    const Parsed p = parse(
        "global\n  daemon\n  no daemon\ndefaults\n  option tcpka\n  option splice-auto\n"
        "  option nolinger\nfrontend f\n  no option tcpka\n  no option splice-auto\n"
        "  option clitcpka\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_FALSE(p.global().daemon);
    EXPECT_TRUE(p.defaults(0).tcpka_client);
    EXPECT_TRUE(p.defaults(0).tcpka_server);
    EXPECT_EQ(p.defaults(0).splice_auto, true);
    EXPECT_TRUE(p.proxy(0).tcpka_client);  // set again after `no option tcpka`
    EXPECT_FALSE(p.proxy(0).tcpka_server);
    EXPECT_EQ(p.proxy(0).splice_auto, false);  // set, to false: `no` is remembered
    EXPECT_TRUE(p.proxy(0).nolinger);          // inherited
}

TEST(ReaderKeywords, SpliceAutoUnsetIsKeptApartFromOff) {
    // Unset means sluice's default (on in mode tcp, see ProxyConf::splice_auto); only an explicit
    // `no option splice-auto` turns it off, and a proxy inherits either from its defaults.
    const Parsed p = parse(
        "defaults\n  mode tcp\nbackend plain\nbackend off\n  no option splice-auto\n"
        "defaults\n  no option splice-auto\nbackend inherits_off\nbackend on_again\n"
        "  option splice-auto\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.proxy(0).splice_auto, std::nullopt);
    EXPECT_EQ(p.proxy(1).splice_auto, false);
    EXPECT_EQ(p.proxy(2).splice_auto, false);
    EXPECT_EQ(p.proxy(3).splice_auto, true);
}

TEST(ReaderKeywords, ArityErrorsSayHowManyArgumentsWereExpected) {
    EXPECT_EQ(
        messages("global\n  nbthread\n  maxconn 1 2\n  daemon 1\n  cpu-map 1\n"
                 "defaults\n  option redispatch 1 2\n  option tcpka x y\nfrontend f\n  bind\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : global : 'nbthread' : expects 1 "
               "argument, got 0",
               "[ALERT]    (PID) : config : parsing [t.cfg:3] : global : 'maxconn' : expects 1 "
               "argument, got 2",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : global : 'daemon' : expects 0 "
               "arguments, got 1",
               "[ALERT]    (PID) : config : parsing [t.cfg:5] : global : 'cpu-map' : expects at "
               "least 2 arguments, got 1",
               "[ALERT]    (PID) : config : parsing [t.cfg:7] : defaults : 'option redispatch' : "
               "expects at most 1 argument, got 2",
               "[ALERT]    (PID) : config : parsing [t.cfg:8] : defaults : 'option tcpka' : "
               "expects 0 arguments, got 2",
               "[ALERT]    (PID) : config : parsing [t.cfg:10] : frontend 'f' : 'bind' : expects "
               "at least 1 argument, got 0"}));
}

// --- keywords of later issues ------------------------------------------------------------------

TEST(ReaderPending, PendingKeywordsAlertNamingWhatBringsThem) {
    struct Case {
        std::string_view section, line, keyword, comes_with;
    };
    const Case cases[] = {
        {"frontend f", "option contstats", "option contstats",
         "the runtime API and stats (issue #7)"},
        {"global", "master-worker", "master-worker", "master-worker mode (roadmap item 8)"},
        {"global", "lua-load /x.lua", "lua-load", "Lua scripting (roadmap item 13)"},
        {"global", "ssl-default-bind-ciphers X", "ssl-default-bind-ciphers",
         "TLS (roadmap item 7)"},
        {"global", "tune.h2.max-concurrent-streams 10", "tune.h2.max-concurrent-streams",
         "HTTP/2 (roadmap item 10)"},
        {"defaults", "compression algo gzip", "compression",
         "compression and cache (roadmap item 11)"},
        {"backend b", "stick-table type ip size 1m", "stick-table",
         "stick tables and persistence (roadmap item 9)"},
        {"backend b", "cookie SRV insert", "cookie",
         "stick tables and persistence (roadmap item 9)"},
    };
    for (const Case& c : cases) {
        const std::string text = fmt::format("{}\n  {}\n", c.section, c.line);
        const std::string label =
            c.section == "global" || c.section == "defaults"
                ? std::string(c.section)
                : fmt::format("{} '{}'", c.section.substr(0, c.section.find(' ')),
                              c.section.substr(c.section.find(' ') + 1));
        EXPECT_EQ(messages(text),
                  (Lines{fmt::format("[ALERT]    (PID) : config : parsing [t.cfg:2] : {} : '{}' : "
                                     "not implemented yet; it comes with {}",
                                     label, c.keyword, c.comes_with)}))
            << c.line;
    }
}

TEST(ReaderPending, PendingKeywordStillChecksItsSection) {
    EXPECT_EQ(messages("frontend f\n  option httpchk\n"),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : frontend 'f' : 'option "
                     "httpchk' : ignored: a frontend has no backend capability"}));
}

TEST(ReaderPending, NegatedPendingKeywordSaysItIsNotImplemented) {
    // `no option contstats` is valid in HAProxy 2.6: what matters first is that the keyword
    // is not implemented yet, not whether `no` applies.
    EXPECT_EQ(messages("defaults\n  no option contstats\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : 'option "
                     "contstats' : not implemented yet; it comes with the runtime API and stats "
                     "(issue #7)"}));
}

TEST(ReaderPending, ModeHttpIsAcceptedAndOtherModesAreRejected) {
    const Parsed p = parse("defaults\n  mode http\n  mode health\n  mode udp\n  mode tcp\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:3] : defaults : 'mode' : 'health' "
                     "was removed in HAProxy 2.4; use 'monitor-uri' in mode http or a 'tcp-request "
                     "connection' rule",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : defaults : 'mode' : expects "
                     "'tcp' or 'http', got 'udp'"}));
    EXPECT_EQ(p.defaults(0).mode, proxy::Mode::Tcp);
    EXPECT_EQ(p.defaults(0).mode_where.line, 5);
}

TEST(ReaderBalance, AlgorithmsAndTheirErrors) {
    const Parsed p = parse(
        "backend b\n  balance leastconn\n  balance hdr\n  balance rundrobin\n"
        "  balance foo(bar)\n  balance roundrobin x\n  balance uri len x\n"
        "  balance random(0)\n  balance url_param\n  balance hash\n  balance roundrobin\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'balance' : "
                     "balance hdr(name) : expects a header name between parentheses",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : backend 'b' : 'balance' : "
                     "unknown balance algorithm 'rundrobin', did you mean 'roundrobin'?",
                     "[ALERT]    (PID) : config : parsing [t.cfg:5] : backend 'b' : 'balance' : "
                     "unknown balance algorithm 'foo(bar)'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:6] : backend 'b' : 'balance' : "
                     "algorithm 'roundrobin' takes no option, got 'x'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:7] : backend 'b' : 'balance' : "
                     "balance uri : 'len' expects a positive integer (got 'x')",
                     "[ALERT]    (PID) : config : parsing [t.cfg:8] : backend 'b' : 'balance' : "
                     "balance random : number of draws must be at least 1.",
                     "[ALERT]    (PID) : config : parsing [t.cfg:9] : backend 'b' : 'balance' : "
                     "balance url_param requires an URL parameter name",
                     "[ALERT]    (PID) : config : parsing [t.cfg:10] : backend 'b' : 'balance' : "
                     "balance hash requires a sample expression"}));
    EXPECT_EQ(p.proxy(0).balance, "roundrobin");
    EXPECT_EQ(p.proxy(0).balance_where.line, 11);
}

TEST(ReaderBalance, EveryAlgorithmParsesWithItsOptions) {
    // Each line is accepted as written by HAProxy 2.6 too.
    for (std::string_view line :
         {"balance static-rr", "balance leastconn", "balance first", "balance source",
          "balance uri", "balance uri whole len 3 depth 2 path-only", "balance url_param id",
          "balance url_param id check_post 64", "balance hdr(host) use_domain_only",
          "balance random", "balance random(3)", "balance rdp-cookie", "balance rdp-cookie(x)",
          "balance hash req.hdr(x),lower", "hash-type consistent",
          "hash-type map-based djb2 avalanche", "hash-balance-factor 150", "option allbackups"}) {
        const Parsed p = parse(fmt::format("backend b\n  {}\n", line));
        EXPECT_TRUE(p.diag.messages().empty())
            << line << ": " << ::testing::PrintToString(p.messages());
    }
}

TEST(ReaderBalance, HashTypeErrorsNameTheWordAtFault) {
    EXPECT_EQ(messages("backend b\n  hash-type foo\n  hash-type consistent md5\n"
                       "  hash-type consistent sdbm foo\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'hash-type' : "
                     "only supports 'consistent' and 'map-based', got 'foo'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'hash-type' : "
                     "only supports 'sdbm', 'djb2', 'crc32', 'wt6' or 'none' hash functions, got "
                     "'md5'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : backend 'b' : 'hash-type' : "
                     "only supports 'avalanche' as a modifier for hash functions, got 'foo'"}));
}

TEST(ReaderPending, BalanceRejectsAnArgumentOnAnAlgorithmWithoutOne) {
    // HAProxy 2.6 refuses `balance roundrobin(junk)` too.
    EXPECT_EQ(messages("backend b\n  balance roundrobin(junk)\n  balance roundrobin()\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'balance' : "
                     "algorithm 'roundrobin' takes no argument, got 'roundrobin(junk)'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : backend 'b' : 'balance' : "
                     "algorithm 'roundrobin' takes no argument, got 'roundrobin()'"}));
}

TEST(ReaderPending, PendingServerOptionLeavesTheRestRead) {
    const Parsed p =
        parse("backend b\n  server s1 127.0.0.1:80 check inter 2s sni str(x) weight 4\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : "
                     "server option 'sni' is not implemented yet; it comes with TLS (roadmap "
                     "item 7)"}));
    // The rest of the line is still read.
    ASSERT_EQ(p.proxy(0).servers.size(), 1u);
    EXPECT_EQ(p.proxy(0).servers[0].options.read<proxy::ServerOptions>().weight, 4u);
}

TEST(ReaderPending, PendingServerAndBindOptionsNameTheirIssue) {
    EXPECT_EQ(
        messages("backend b\n  server s 1.2.3.4:80 ssl send-proxy cookie a resolvers "
                 "dns\nfrontend f\n  bind :80 ssl crt x.pem accept-proxy\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : server "
               "option 'ssl' is not implemented yet; it comes with TLS (roadmap item 7)",
               "[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : server "
               "option 'cookie' is not implemented yet; it comes with stick tables and persistence "
               "(roadmap item 9)",
               "[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : 'server' : server "
               "option 'resolvers' is not implemented yet; it comes with DNS resolvers (roadmap "
               "item 12)",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'bind' : bind "
               "option 'ssl' is not implemented yet; it comes with TLS (roadmap item 7)",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'bind' : bind "
               "option 'crt' is not implemented yet; it comes with TLS (roadmap item 7)"}));
}

// --- obsolete keywords -------------------------------------------------------------------------

TEST(ReaderObsolete, OldTimeoutsWarnAndSetTheModernField) {
    // HAProxy 2.6 refuses these ("the 'contimeout' directive is not supported anymore since
    // HAProxy 2.1"); sluice keeps old configs working with a warning naming the replacement.
    const Parsed p = parse("defaults\n  contimeout 5s\n  clitimeout 6s\n  srvtimeout 7s\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : defaults : 'contimeout' : "
                     "obsolete since HAProxy 2.1; use 'timeout connect' (accepted as that)",
                     "[WARNING]  (PID) : config : parsing [t.cfg:3] : defaults : 'clitimeout' : "
                     "obsolete since HAProxy 2.1; use 'timeout client' (accepted as that)",
                     "[WARNING]  (PID) : config : parsing [t.cfg:4] : defaults : 'srvtimeout' : "
                     "obsolete since HAProxy 2.1; use 'timeout server' (accepted as that)"}));
    EXPECT_EQ(p.defaults(0).timeout_connect, seconds(5));
    EXPECT_EQ(p.defaults(0).timeout_client, seconds(6));
    EXPECT_EQ(p.defaults(0).timeout_server, seconds(7));
}

TEST(ReaderObsolete, OldTimeoutSpellingsAfterTimeoutWarnToo) {
    const Parsed p = parse(
        "defaults\n  timeout contimeout 8\n  timeout clitimeout 9\n  timeout srvtimeout 10\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : defaults : 'timeout "
                     "contimeout' : obsolete; use 'timeout connect' (accepted as that)",
                     "[WARNING]  (PID) : config : parsing [t.cfg:3] : defaults : 'timeout "
                     "clitimeout' : obsolete; use 'timeout client' (accepted as that)",
                     "[WARNING]  (PID) : config : parsing [t.cfg:4] : defaults : 'timeout "
                     "srvtimeout' : obsolete; use 'timeout server' (accepted as that)"}));
    EXPECT_EQ(p.defaults(0).timeout_connect, milliseconds(8));  // a bare number is milliseconds
    EXPECT_EQ(p.defaults(0).timeout_client, milliseconds(9));
    EXPECT_EQ(p.defaults(0).timeout_server, milliseconds(10));
}

TEST(ReaderObsolete, RedispatchWarnsAndEnablesOptionRedispatch) {
    const Parsed p = parse("backend b\n  redispatch\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : backend 'b' : 'redispatch' : "
                     "obsolete since HAProxy 1.5; use 'option redispatch' (accepted as that)"}));
    EXPECT_EQ(p.proxy(0).redispatch, -1);
}

TEST(ReaderObsolete, AliasErrorsNameTheModernKeyword) {
    EXPECT_EQ(
        messages("defaults\n  contimeout 5x\n"),
        (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : defaults : 'contimeout' : obsolete "
               "since HAProxy 2.1; use 'timeout connect' (accepted as that)",
               "[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : 'timeout connect' : "
               "invalid time value '5x': unexpected character 'x': unknown unit 'x' (expected us, "
               "ms, s, m, h or d)"}));
}

TEST(ReaderObsolete, AliasInTheWrongSectionIsIgnoredLikeItsTarget) {
    const Parsed p = parse("backend b\n  clitimeout 5s\nfrontend f\n  contimeout 5s\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : backend 'b' : 'clitimeout' : "
                     "ignored: a backend has no frontend capability",
                     "[WARNING]  (PID) : config : parsing [t.cfg:4] : frontend 'f' : 'contimeout' "
                     ": ignored: a frontend has no backend capability"}));
    EXPECT_FALSE(p.proxy(0).timeout_client.has_value());
    EXPECT_FALSE(p.proxy(1).timeout_connect.has_value());
}

TEST(ReaderObsolete, NbprocWarnsAndMapsToThreads) {
    // HAProxy 2.6 alerts ("nbproc is not supported any more since HAProxy 2.5"); sluice maps it.
    const Parsed p = parse("global\n  nbproc 4\nglobal\n  nbproc 1\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : global : 'nbproc' : "
                     "processes were removed in HAProxy 2.5; running 4 threads instead, as "
                     "'nbthread 4' would (cpu-map lines apply to those threads)",
                     "[WARNING]  (PID) : config : parsing [t.cfg:4] : global : 'nbproc' : "
                     "processes were removed in HAProxy 2.5; running 1 thread instead, as "
                     "'nbthread 1' would (cpu-map lines apply to those threads)"}));
    EXPECT_EQ(p.global().nbproc, 1u);
}

// --- proxy keywords ----------------------------------------------------------------------------

TEST(ReaderProxy, TimeoutsLimitsAndFlagsAreStored) {
    const Parsed p = parse(
        "defaults\n  timeout connect 5s\n  timeout client 1m\n  timeout server 2m\n"
        "  timeout tunnel 1h\n  timeout client-fin 1s\n  timeout server-fin 2s\n"
        "  timeout queue 3s\n  maxconn 100\n  backlog 50\n  retries 2\n  option redispatch 3\n"
        "  option splice-request\n  option splice-response\n  option srvtcpka\n");
    EXPECT_EQ(p.messages(), Lines{});
    const proxy::ProxyConf& d = p.defaults(0);
    EXPECT_EQ(d.timeout_connect, seconds(5));
    EXPECT_EQ(d.timeout_client, seconds(60));
    EXPECT_EQ(d.timeout_server, seconds(120));
    EXPECT_EQ(d.timeout_tunnel, seconds(3600));
    EXPECT_EQ(d.timeout_client_fin, seconds(1));
    EXPECT_EQ(d.timeout_server_fin, seconds(2));
    EXPECT_EQ(d.timeout_queue, seconds(3));
    EXPECT_EQ(d.maxconn, 100u);
    EXPECT_EQ(d.backlog, 50u);
    EXPECT_EQ(d.retries, 2u);
    EXPECT_EQ(d.redispatch, 3);
    EXPECT_TRUE(d.splice_request);
    EXPECT_TRUE(d.splice_response);
    EXPECT_TRUE(d.tcpka_server);
    EXPECT_FALSE(d.tcpka_client);
}

TEST(ReaderProxy, SlotValueErrors) {
    EXPECT_EQ(
        messages("defaults\n  timeout connect 5x\n  retries -1\n  maxconn 1.5\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : 'timeout connect' : "
               "invalid time value '5x': unexpected character 'x': unknown unit 'x' (expected us, "
               "ms, s, m, h or d)",
               "[ALERT]    (PID) : config : parsing [t.cfg:3] : defaults : 'retries' : expects a "
               "number from 0 to 4294967295, got '-1': unexpected character '-' (a value starts "
               "with a digit)",
               "[ALERT]    (PID) : config : parsing [t.cfg:4] : defaults : 'maxconn' : expects a "
               "number from 0 to 4294967295, got '1.5': unexpected character '.' (digits only)"}));
}

TEST(ReaderProxy, TimeoutsAboveTheTimerRangeAreAlerts) {
    // HAProxy keeps timers in signed 32-bit milliseconds: 2147483647 ms (~24.8 days) is the
    // largest timeout it takes, and so do we.
    const Parsed p = parse(
        "defaults\n  timeout client 2147483647\n  timeout server 24d\n"
        "  timeout connect 2147483648\n  timeout tunnel 25d\n  timeout queue 2147484s\n");
    EXPECT_EQ(
        p.messages(),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:4] : defaults : 'timeout connect' "
               ": timer overflow in argument '2147483648' (maximum value is 2147483647 ms "
               "or ~24.8 days)",
               "[ALERT]    (PID) : config : parsing [t.cfg:5] : defaults : 'timeout tunnel' : "
               "timer overflow in argument '25d' (maximum value is 2147483647 ms or ~24.8 "
               "days)",
               "[ALERT]    (PID) : config : parsing [t.cfg:6] : defaults : 'timeout queue' : "
               "timer overflow in argument '2147484s' (maximum value is 2147483647 ms or "
               "~24.8 days)"}));
    EXPECT_EQ(p.defaults(0).timeout_client, milliseconds(2147483647));
    EXPECT_EQ(p.defaults(0).timeout_server, std::chrono::hours(24 * 24));
    EXPECT_FALSE(p.defaults(0).timeout_connect.has_value());
}

TEST(ReaderProxy, OptionRedispatch) {
    const Parsed p = parse(
        "backend a\n  option redispatch\nbackend b\n  option redispatch -2\nbackend c\n"
        "  option redispatch\n  no option redispatch\nbackend d\n  option redispatch 0\n"
        "  option redispatch x\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:9] : backend 'd' : 'option "
                     "redispatch' : expects a non-zero retry interval, got '0'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:10] : backend 'd' : 'option "
                     "redispatch' : expects a non-zero retry interval, got 'x'"}));
    EXPECT_EQ(p.proxy(0).redispatch, -1);
    EXPECT_EQ(p.proxy(1).redispatch, -2);
    EXPECT_EQ(p.proxy(2).redispatch, 0);
}

TEST(ReaderProxy, UseBackendConditionsAndBadWords) {
    const Parsed p = parse(
        "frontend f\n  use_backend b if TRUE\n  use_backend b unless x\n  use_backend b c\n"
        "  use_backend ok\n  default_backend dflt\n");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'f' : "
                     "'use_backend' : error detected while parsing switching rule : no such ACL : "
                     "'x'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : frontend 'f' : "
                     "'use_backend' : unexpected 'c' after the backend name (expected 'if' or "
                     "'unless')"}));
    ASSERT_EQ(p.proxy(0).use_backends.size(), 2u);
    EXPECT_EQ(p.proxy(0).use_backends[0].name, "b");
    ASSERT_NE(p.proxy(0).use_backends[0].cond, nullptr);
    EXPECT_EQ(p.proxy(0).use_backends[1].name, "ok");
    EXPECT_EQ(p.proxy(0).use_backends[1].cond, nullptr);
    EXPECT_EQ(p.proxy(0).use_backends[1].where.line, 5);
    EXPECT_EQ(p.proxy(0).default_backend, "dflt");
    EXPECT_EQ(p.proxy(0).default_backend_where.line, 6);
}

TEST(ReaderProxy, DisabledEnabledAndDescription) {
    const Parsed p = parse(
        "frontend a\n  disabled\nfrontend b\n  disabled\n  enabled\n  description my  front\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_TRUE(p.proxy(0).disabled);
    EXPECT_FALSE(p.proxy(1).disabled);
    EXPECT_EQ(p.proxy(1).description, "my front");
}

}  // namespace
}  // namespace sluice::cfg

namespace sluice::cfg {
namespace {

using namespace reader_test;  // NOLINT(google-build-using-namespace): test helpers only

// --- mode http keywords ------------------------------------------------------------------------

TEST(ReaderHttp, ConnectionModesLastOneWinsAndNoCancelsOnlyItself) {
    const Parsed p = parse(
        "defaults\n  option httpclose\n  option http-server-close\n"
        "frontend f\n  no option httpclose\n"
        "backend b\n  no option http-server-close\n"
        "listen l\n  option httpclose\n  option http-keep-alive\n");
    EXPECT_TRUE(p.messages().empty());
    EXPECT_EQ(p.defaults(0).http_conn_mode, proxy::HttpConnMode::ServerClose);
    // `no option httpclose` does not cancel the inherited http-server-close.
    EXPECT_EQ(p.proxy(0).http_conn_mode, proxy::HttpConnMode::ServerClose);
    EXPECT_EQ(p.proxy(1).http_conn_mode, proxy::HttpConnMode::Unset);
    EXPECT_EQ(p.proxy(2).http_conn_mode, proxy::HttpConnMode::KeepAlive);
}

TEST(ReaderHttp, ForwardforAndOriginaltoTakeTheirWordsInAnyOrder) {
    const Parsed p = parse(
        "defaults\n  option forwardfor if-none header X-Real-IP except 10.0.0.0/8\n"
        "  option originalto header X-Dst\n"
        "frontend f\n  no option forwardfor\n  no option originalto\n");
    EXPECT_TRUE(p.messages().empty());
    const proxy::ProxyConf& d = p.defaults(0);
    EXPECT_TRUE(d.forwardfor.enabled);
    EXPECT_TRUE(d.forwardfor.if_none);
    EXPECT_EQ(d.forwardfor.header, "X-Real-IP");
    ASSERT_TRUE(d.forwardfor.except.has_value());
    EXPECT_EQ(d.forwardfor.except->prefix, 8u);
    EXPECT_TRUE(d.originalto.enabled);
    EXPECT_EQ(d.originalto.header, "X-Dst");
    EXPECT_FALSE(p.proxy(0).forwardfor.enabled);
    EXPECT_FALSE(p.proxy(0).originalto.enabled);
    EXPECT_EQ(parse("defaults\n  option forwardfor\n").defaults(0).forwardfor.header,
              "X-Forwarded-For");
}

TEST(ReaderHttp, BadHttpKeywordArgumentsAreAlertsNamingThem) {
    EXPECT_EQ(messages("defaults\n  option forwardfor except 10.0.0.0/33\n"
                       "  option originalto if-none\n  http-reuse sometimes\n"
                       "backend b\n  http-send-name-header\n"
                       "  server s 127.0.0.1:1 pool-max-conn x pool-purge-delay 5q\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults : 'option "
                     "forwardfor' : 'except': invalid network prefix in '10.0.0.0/33'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : defaults : 'option "
                     "originalto' : unexpected 'if-none'; expects 'except' or 'header'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : defaults : 'http-reuse' : "
                     "expects 'never', 'safe', 'aggressive' or 'always', got 'sometimes'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:6] : backend 'b' : "
                     "'http-send-name-header' : expects a header name",
                     "[ALERT]    (PID) : config : parsing [t.cfg:7] : backend 'b' : "
                     "'pool-max-conn' : expects -1 (no limit) or a number of connections, got "
                     "'x'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:7] : backend 'b' : "
                     "'pool-purge-delay' : unexpected character 'q': unknown unit 'q' (expected "
                     "us, ms, s, m, h or d)"}));
}

TEST(ReaderHttp, ReuseTimeoutsAndServerPoolOptions) {
    const Parsed p = parse(
        "defaults\n  timeout http-request 5s\n  timeout http-keep-alive 2s\n"
        "  http-reuse always\n  option accept-invalid-http-request\n"
        "backend b\n  http-reuse never\n  http-send-name-header X-Server\n"
        "  option http-pretend-keepalive\n  option accept-invalid-http-response\n"
        "  server s 127.0.0.1:1 pool-max-conn 10 pool-purge-delay 2s\n");
    EXPECT_TRUE(p.messages().empty());
    EXPECT_EQ(p.defaults(0).timeout_http_request, seconds(5));
    EXPECT_EQ(p.defaults(0).timeout_http_keep_alive, seconds(2));
    EXPECT_EQ(p.defaults(0).http_reuse, proxy::HttpReuse::Always);
    const proxy::ProxyConf& b = p.proxy(0);
    EXPECT_EQ(b.http_reuse, proxy::HttpReuse::Never);
    EXPECT_EQ(b.send_name_header, "X-Server");
    EXPECT_TRUE(b.http_pretend_keepalive);
    EXPECT_TRUE(b.accept_invalid_request);  // inherited
    EXPECT_TRUE(b.accept_invalid_response);
    const proxy::ServerOptions& so = b.servers.at(0).options.read<proxy::ServerOptions>();
    EXPECT_EQ(so.pool_max_conn, 10);
    EXPECT_EQ(so.pool_purge_delay, seconds(2));
}

}  // namespace
}  // namespace sluice::cfg
