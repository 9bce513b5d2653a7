// The config reader, file and section level: section headers and names, `from` and defaults
// inheritance, files and directories, the line tokenizer and conditional blocks as the reader
// applies them, and the message format. Keyword-level tests are in reader_keywords_test.cpp,
// reader_global_test.cpp and reader_bind_server_test.cpp; proxy::build's own checks in
// tests/unit/proxy/build_test.cpp.
#include "sluice/cfg/reader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "reader_test_support.hpp"

namespace sluice::cfg {
namespace {

using namespace reader_test;  // NOLINT(google-build-using-namespace): test helpers only
using std::chrono::milliseconds;
using std::chrono::seconds;

// --- sections ---------------------------------------------------------------------------------

TEST(ReaderSections, CleanConfigHasNoDiagnostics) {
    const Parsed p = parse(kClean);
    EXPECT_EQ(p.messages(), Lines{});
    ASSERT_EQ(p.doc.proxies.size(), 2u);
    EXPECT_EQ(p.doc.proxies[0].label(), "frontend 'fe'");
    EXPECT_EQ(p.doc.proxies[1].label(), "backend 'be'");
    EXPECT_EQ(p.doc.proxies[1].where.line, 12);
    ASSERT_EQ(p.doc.defaults.size(), 1u);
    EXPECT_EQ(p.doc.defaults[0].label(), "defaults");
    EXPECT_EQ(p.doc.files, (Lines{"t.cfg"}));
    EXPECT_EQ(p.global().maxconn, 1000u);
    EXPECT_EQ(p.global().nbthread, 2u);
    EXPECT_EQ(p.global().nbthread_where.line, 3);
    ASSERT_EQ(p.proxy(1).servers.size(), 2u);
    EXPECT_EQ(p.proxy(1).servers[0].options.read<proxy::ServerOptions>().weight, 2u);
}

TEST(ReaderSections, KeywordBeforeAnySectionIsAnAlert) {
    // HAProxy 2.6: "unknown keyword 'foo' out of section."
    EXPECT_EQ(messages("foo bar\n"), (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : "
                                            "unknown keyword 'foo' out of section"}));
}

TEST(ReaderSections, GlobalTakesNoArgument) {
    EXPECT_EQ(messages("global foo\n    daemon\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : 'global' takes no argument "
                     "(got 'foo')"}));
}

TEST(ReaderSections, SeveralGlobalSectionsMerge) {
    const Parsed p = parse("global\n  maxconn 10\nglobal\n  nbthread 3\n  daemon\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.global().maxconn, 10u);
    EXPECT_EQ(p.global().nbthread, 3u);
    EXPECT_TRUE(p.global().daemon);
}

TEST(ReaderSections, ProxyWithoutNameIsAnAlert) {
    const Parsed p = parse("frontend\n  bind :80\n");
    ASSERT_FALSE(p.messages().empty());
    EXPECT_EQ(p.messages()[0],
              "[ALERT]    (PID) : config : parsing [t.cfg:1] : 'frontend' needs a name");
    // The section is still read, under a placeholder name, so later lines are checked too.
    ASSERT_EQ(p.doc.proxies.size(), 1u);
    EXPECT_EQ(p.proxy(0).binds.size(), 1u);
}

TEST(ReaderSections, ProxyWithoutNameIsReportedOnce) {
    // Only the missing name: the placeholder the section is read under is not checked as a name.
    EXPECT_EQ(messages("listen\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : 'listen' needs a name"}));
    EXPECT_EQ(messages("backend\n  retries 2\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : 'backend' needs a name"}));
}

TEST(ReaderSections, InvalidCharacterInProxyName) {
    // HAProxy 2.6: "character '/' is not permitted in 'frontend' name 'f/g'."
    EXPECT_EQ(messages("frontend f/g\nbackend \"a b\"\nlisten ok-name_1.2:3\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : character '/' is not "
                     "permitted in frontend name 'f/g'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:2] : character ' ' is not "
                     "permitted in backend name 'a b'"}));
}

TEST(ReaderSections, UnexpectedWordAfterName) {
    EXPECT_EQ(messages("frontend f x\n"), (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : "
                                                 "unexpected 'x' after the frontend name"}));
    EXPECT_EQ(messages("defaults d from\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : 'from' needs the name of a "
                     "defaults section"}));
}

TEST(ReaderSections, FromWithoutNameIsAnAlert) {
    EXPECT_EQ(messages("backend b from\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : 'from' needs the name of a "
                     "defaults section"}));
}

TEST(ReaderSections, FromUnknownDefaultsIsAnAlert) {
    // HAProxy 2.6 words it "defaults section 'nope' not found for frontend 'f2'".
    EXPECT_EQ(messages("frontend f2 from nope\ndefaults d1 from nope\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : frontend 'f2' inherits from "
                     "defaults section 'nope', which is not declared before it",
                     "[ALERT]    (PID) : config : parsing [t.cfg:2] : defaults 'd1' inherits from "
                     "defaults section 'nope', which is not declared before it"}));
}

TEST(ReaderSections, FromDefaultsDeclaredLaterIsAnAlert) {
    EXPECT_EQ(messages("frontend f from d\ndefaults d\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : frontend 'f' inherits from "
                     "defaults section 'd', which is not declared before it"}));
}

TEST(ReaderSections, FromAmbiguousDefaultsNameIsAnAlert) {
    // HAProxy 2.6 alerts "ambiguous defaults section name 'foo' referenced by frontend 'f'
    // exists at least at t.cfg:1 and t.cfg:3" rather than pick one.
    const Parsed p = parse(
        "defaults foo\n  timeout client 1s\ndefaults foo\n  timeout client 2s\n"
        "frontend f from foo\ndefaults bar\nbackend b from bar\n");
    EXPECT_EQ(p.messages(), (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:5] : ambiguous "
                                   "defaults section name 'foo' (declared 2 times)"}));
}

TEST(ReaderSections, UnsupportedSectionsAlertOnceAndSkipTheirBody) {
    struct Case {
        std::string_view word;
        std::string_view comes_with;
    };
    const Case cases[] = {
        {"peers", "stick tables and peers (roadmap item 9)"},
        {"resolvers", "DNS resolvers (roadmap item 12)"},
        {"program", "master-worker mode (roadmap item 8)"},
        {"ring", "logging (issue #8)"},
        {"cache", "the HTTP cache (roadmap item 11)"},
        {"fcgi-app", "FastCGI (not planned yet)"},
    };
    for (const Case& c : cases) {
        const std::string text = fmt::format(
            "{} x\n  user foo password bar\n  whatever 1 2 3\nbackend b\n  bogus\n", c.word);
        const std::string alert = fmt::format(
            "[ALERT]    (PID) : config : parsing [t.cfg:1] : section '{}' is not supported yet; it "
            "comes with {}",
            c.word, c.comes_with);
        EXPECT_EQ(messages(text), (Lines{alert,
                                         "[ALERT]    (PID) : config : parsing [t.cfg:5] : backend "
                                         "'b' : unknown keyword 'bogus' in 'backend' section"}))
            << c.word;
    }
}

TEST(ReaderSections, EachTextStartsOutsideAnySection) {
    Document doc;
    Diagnostics diag;
    Reader reader(doc, diag, test_env());
    reader.read_text("a.cfg", "global\n  daemon\n.if 1\n");
    reader.read_text("b.cfg", "maxconn 10\n");
    std::vector<std::string> got;
    for (const Message& m : diag.messages())
        got.push_back(shown(m));
    EXPECT_EQ(
        got,
        (Lines{"[ALERT]    (PID) : config : parsing [a.cfg:3] : missing '.endif' at end of file",
               "[ALERT]    (PID) : config : parsing [b.cfg:1] : unknown keyword 'maxconn' out of "
               "section"}));
    EXPECT_EQ(doc.files, (Lines{"a.cfg", "b.cfg"}));
}

TEST(ReaderSections, CrLfLineEndingsAreAccepted) {
    const Parsed p = parse("global\r\n  maxconn 7\r\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.global().maxconn, 7u);
}

TEST(ReaderSections, MissingNewlineAtEndIsAnAlert) {
    // HAProxy 2.6: "parsing [h.cfg:2]: Missing LF on last line, file might have been truncated
    // at position 9." The position is 1-based, just past the last character.
    const Parsed p = parse("global\n  daemon");
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : missing LF on last line, "
                     "file might have been truncated at position 9"}));
    EXPECT_TRUE(p.global().daemon);  // the line itself is still read
    // The position counts from the start of the last line, not of the file.
    EXPECT_EQ(messages("global"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : missing LF on last line, "
                     "file might have been truncated at position 7"}));
    EXPECT_EQ(parse("").messages(), Lines{});
    EXPECT_EQ(parse("global\n").messages(), Lines{});
}

TEST(ReaderSections, MissingFileIsAnAlertWithoutLine) {
    Document doc;
    Diagnostics diag;
    Reader reader(doc, diag, test_env());
    const std::string path = ::testing::TempDir() + "sluice-reader-test-does-not-exist.cfg";
    reader.read_path(path);
    ASSERT_EQ(diag.messages().size(), 1u);
    EXPECT_EQ(shown(diag.messages()[0]),
              fmt::format("[ALERT]    (PID) : config : [{}] : cannot open configuration file: No "
                          "such file or directory",
                          path));
}

TEST(ReaderSections, DirectoryReadsItsCfgFilesInLexicalOrder) {
    namespace fs = std::filesystem;
    // Named per process: several build trees may run this test at the same time.
    const fs::path dir =
        fs::path(::testing::TempDir()) / fmt::format("sluice-reader-test-dir-{}", ::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto write = [&](const char* name, const char* text) { std::ofstream(dir / name) << text; };
    write("20-b.cfg", "global\n  maxconn 20\n");
    write("10-a.cfg", "global\n  maxconn 10\n");
    write("30-c.txt", "this is not read\n");
    Document doc;
    Diagnostics diag;
    Reader reader(doc, diag, test_env());
    reader.read_path(dir.string());
    EXPECT_TRUE(diag.messages().empty());
    EXPECT_EQ(doc.files, (Lines{(dir / "10-a.cfg").string(), (dir / "20-b.cfg").string()}));
    EXPECT_EQ(doc.global.read<proxy::GlobalConf>().maxconn, 20u);  // the later file wins
    fs::remove_all(dir);
}

TEST(ReaderSections, DirectorySkipsHiddenFiles) {
    // HAProxy 2.6 skips names starting with '.', such as an editor's ".swp.cfg" or a ".cfg".
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::path(::testing::TempDir()) / fmt::format("sluice-reader-test-dotdir-{}", ::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto write = [&](const char* name, const char* text) { std::ofstream(dir / name) << text; };
    write("10-a.cfg", "global\n  maxconn 10\n");
    write(".20-b.cfg", "global\n  maxconn 20\n");
    write(".cfg", "this is not read\n");
    Document doc;
    Diagnostics diag;
    Reader reader(doc, diag, test_env());
    reader.read_path(dir.string());
    EXPECT_TRUE(diag.messages().empty());
    EXPECT_EQ(doc.files, (Lines{(dir / "10-a.cfg").string()}));
    EXPECT_EQ(doc.global.read<proxy::GlobalConf>().maxconn, 10u);
    fs::remove_all(dir);
}

// --- lines: tokenizer and conditional blocks ---------------------------------------------------

TEST(ReaderLines, TokenizerErrorIsAnAlertAndTheLineIsSkipped) {
    const Parsed p = parse("global\n  pidfile \"/run/x.pid\n  maxconn 5\n");
    ASSERT_EQ(p.diag.messages().size(), 1u);
    EXPECT_EQ(p.messages()[0].rfind("[ALERT]    (PID) : config : parsing [t.cfg:2] : ", 0), 0u)
        << p.messages()[0];
    EXPECT_EQ(p.global().pidfile, "");
    EXPECT_EQ(p.global().maxconn, 5u);
}

TEST(ReaderLines, EnvironmentVariablesExpandInDoubleQuotes) {
    const Parsed p = parse("frontend fe\n  bind \"127.0.0.1:${PORT}\"\n");
    EXPECT_EQ(p.messages(), (Lines{}));
    ASSERT_EQ(p.proxy(0).binds.size(), 1u);
    EXPECT_EQ(p.proxy(0).binds[0].endpoints.at(0).address.port(), 8080);
}

TEST(ReaderLines, TokenizerWarningIsReportedOnlyInActiveBlocks) {
    const Parsed p =
        parse("global\n  pidfile \"${UNSET}/x\"\n.if 0\n  pidfile \"${UNSET}/y\"\n.endif\n");
    ASSERT_EQ(p.diag.messages().size(), 1u);
    EXPECT_EQ(p.diag.messages()[0].level, Level::Warning);
    EXPECT_EQ(p.diag.messages()[0].where.line, 2);
    EXPECT_EQ(p.global().pidfile, "/x");
}

TEST(ReaderLines, FalseBlockSkipsItsLinesEntirely) {
    const Parsed p = parse(
        "global\n.if streq(a,b)\n  bogus keyword\nfrontend hidden\n.else\n  maxconn 3\n.endif\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_TRUE(p.doc.proxies.empty());
    EXPECT_EQ(p.global().maxconn, 3u);
}

TEST(ReaderLines, UnterminatedIfIsAnAlertAtTheLastLine) {
    EXPECT_EQ(
        messages("global\n.if defined(HOME)\n  daemon\n"),
        (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:3] : missing '.endif' at end of file"}));
}

TEST(ReaderLines, MessageDirectivesKeepTheirLevel) {
    const Parsed p =
        parse(".diag d\n.notice n\n.warning w\n.alert a\n.if 0\n.alert hidden\n.endif\n");
    EXPECT_EQ(p.messages(), (Lines{"[DIAG]     (PID) : config : parsing [t.cfg:1] : d",
                                   "[NOTICE]   (PID) : config : parsing [t.cfg:2] : n",
                                   "[WARNING]  (PID) : config : parsing [t.cfg:3] : w",
                                   "[ALERT]    (PID) : config : parsing [t.cfg:4] : a"}));
}

TEST(ReaderLines, EveryDotWordIsReadAsADirective) {
    // An unknown directive is reported as one (not as an unknown keyword, nor ignored), in and
    // out of sections; in a skipped block it is skipped like any other line.
    EXPECT_EQ(messages(".iff 1\nglobal\n  .ENDIF\n  .\n.if 0\n.bogus\n.endif\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:1] : unknown directive '.iff'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : unknown directive '.ENDIF'",
                     "[ALERT]    (PID) : config : parsing [t.cfg:4] : unknown directive '.'"}));
}

TEST(ReaderLines, DirectiveErrorIsAnAlert) {
    const Parsed p = parse(".endif\n");
    ASSERT_EQ(p.diag.messages().size(), 1u);
    EXPECT_EQ(p.diag.messages()[0].level, Level::Alert);
    EXPECT_EQ(p.diag.messages()[0].where.line, 1);
}

// --- defaults inheritance ----------------------------------------------------------------------

TEST(ReaderDefaults, ProxyInheritsTheLastDefaultsSection) {
    const Parsed p = parse(
        "defaults\n  timeout connect 1s\n  retries 7\nfrontend early\n  bind :80\n"
        "defaults\n  timeout connect 2s\nbackend late\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.proxy(0).timeout_connect, seconds(1));
    EXPECT_EQ(p.proxy(0).retries, 7u);
    EXPECT_EQ(p.proxy(1).timeout_connect, seconds(2));
    // A new anonymous defaults section starts from scratch: `retries 7` is gone.
    EXPECT_EQ(p.proxy(1).retries, 3u);
    EXPECT_EQ(p.doc.proxies[1].defaults_name, "");
}

TEST(ReaderDefaults, ProxyWithoutFromTakesTheLastDefaultsEvenWhenNamed) {
    // HAProxy 2.6 does the same: the last defaults section, named or not.
    const Parsed p = parse("defaults\n  retries 1\ndefaults named\n  retries 2\nbackend b\n");
    EXPECT_EQ(p.proxy(0).retries, 2u);
    EXPECT_EQ(p.doc.proxies[0].defaults_name, "named");
}

TEST(ReaderDefaults, FromSelectsANamedDefaultsSection) {
    const Parsed p = parse(
        "defaults tcp_short\n  timeout client 1s\n  maxconn 11\n"
        "defaults tcp_long\n  timeout client 1h\n"
        "frontend a from tcp_short\n  bind :80\nfrontend b\n  bind :81\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.proxy(0).timeout_client, seconds(1));
    EXPECT_EQ(p.proxy(0).maxconn, 11u);
    EXPECT_EQ(p.doc.proxies[0].defaults_name, "tcp_short");
    EXPECT_EQ(p.proxy(1).timeout_client, seconds(3600));
    EXPECT_EQ(p.proxy(1).maxconn, 0u);
    EXPECT_EQ(p.doc.proxies[1].defaults_name, "tcp_long");
}

TEST(ReaderDefaults, DefaultsFromAnotherDefaultsInheritsIt) {
    const Parsed p = parse(
        "defaults base\n  timeout connect 4s\n  retries 9\n"
        "defaults derived from base\n  retries 1\nbackend b\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.defaults(1).timeout_connect, seconds(4));
    EXPECT_EQ(p.defaults(1).retries, 1u);
    EXPECT_EQ(p.doc.defaults[1].defaults_name, "base");
    EXPECT_EQ(p.proxy(0).timeout_connect, seconds(4));
    EXPECT_EQ(p.proxy(0).retries, 1u);
    // The parent is not changed by its child.
    EXPECT_EQ(p.defaults(0).retries, 9u);
}

TEST(ReaderDefaults, AnonymousDefaultsFromNamedOne) {
    const Parsed p = parse("defaults base\n  retries 9\ndefaults from base\nbackend b\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(p.doc.defaults[1].name, "");
    EXPECT_EQ(p.proxy(0).retries, 9u);
}

TEST(ReaderDefaults, ProxyChangesDoNotLeakIntoDefaultsOrSiblings) {
    const Parsed p = parse("defaults\n  retries 4\nbackend a\n  retries 8\nbackend b\n");
    EXPECT_EQ(p.defaults(0).retries, 4u);
    EXPECT_EQ(p.proxy(0).retries, 8u);
    EXPECT_EQ(p.proxy(1).retries, 4u);
}

TEST(ReaderDefaults, NoDefaultsMeansBuiltInValues) {
    const Parsed p = parse("backend b\n");
    EXPECT_FALSE(p.proxy(0).timeout_connect.has_value());
    EXPECT_EQ(p.proxy(0).retries, 3u);
    EXPECT_EQ(p.proxy(0).balance, "roundrobin");
    EXPECT_EQ(p.proxy(0).mode, proxy::Mode::Tcp);
}

// --- the message format ------------------------------------------------------------------------

TEST(Diagnostics, FormatEveryLevelAndOptionalPart) {
    EXPECT_EQ(shown({Level::Diag, {"a.cfg", 3}, {}, {}, "x"}),
              "[DIAG]     (PID) : config : parsing [a.cfg:3] : x");
    EXPECT_EQ(shown({Level::Notice, {"a.cfg", 0}, {}, {}, "x"}),
              "[NOTICE]   (PID) : config : [a.cfg] : x");
    EXPECT_EQ(shown({Level::Warning, {}, "global", {}, "x"}),
              "[WARNING]  (PID) : config : global : x");
    EXPECT_EQ(shown({Level::Alert, {"a.cfg", 1}, "frontend 'f'", "bind", "x"}),
              "[ALERT]    (PID) : config : parsing [a.cfg:1] : frontend 'f' : 'bind' : x");
}

TEST(Diagnostics, CountsAndPrintFilter) {
    Diagnostics d;
    d.add({Level::Diag, Location{"", 0}, "", "", "d"});
    d.notice({"f", 1}, "n");
    d.warning({"f", 2}, "w", "global");
    d.alert({"f", 3}, "a");
    EXPECT_EQ(d.count(Level::Diag), 1u);
    EXPECT_EQ(d.count(Level::Alert), 1u);
    EXPECT_TRUE(d.has_alerts());
    std::FILE* out = std::tmpfile();
    ASSERT_NE(out, nullptr);
    d.print(out, Level::Warning);
    std::rewind(out);
    char buf[256] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, out);
    std::fclose(out);
    // Only warnings and alerts, each on its own line, in the order they were found.
    EXPECT_EQ(std::string(buf, n),
              format_message(d.messages()[2]) + "\n" + format_message(d.messages()[3]) + "\n");
}

}  // namespace
}  // namespace sluice::cfg
