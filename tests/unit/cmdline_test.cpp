// The command line as HAProxy 2.6 spells it: every flag, the errors (missing argument, unknown
// flag, master-worker flags), `--`, and the texts of -v/-vv.
#include "sluice/cmdline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

using Args = std::vector<std::string>;

Options parsed(const Args& args) {
    auto r = parse_command_line(args);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    if (!r.ok()) return {};
    return *r;
}

std::string error_of(const Args& args) {
    auto r = parse_command_line(args);
    if (r.ok()) {
        ADD_FAILURE() << "expected an error";
        return {};
    }
    return r.error();
}

TEST(CommandLine, NothingGivesDefaults) {
    const Options o = parsed({});
    EXPECT_TRUE(o.config_paths.empty());
    EXPECT_FALSE(o.check_only);
    EXPECT_FALSE(o.has_condition);
    EXPECT_FALSE(o.foreground);
    EXPECT_FALSE(o.daemon);
    EXPECT_EQ(o.version, 0);
    EXPECT_EQ(o.global_maxconn, 0u);
    EXPECT_EQ(o.proxy_maxconn, 0u);
    EXPECT_EQ(o.memory_limit_mb, 0u);
    EXPECT_EQ(o.poison, -1);
    EXPECT_FALSE(o.help);
}

TEST(CommandLine, ConfigFilesInOrder) {
    const Options o = parsed({"-f", "a.cfg", "-c", "-f", "conf.d", "--", "b.cfg", "-c", "-x"});
    // After `--` every word is a config file, even one that looks like a flag.
    EXPECT_EQ(o.config_paths, (Args{"a.cfg", "conf.d", "b.cfg", "-c", "-x"}));
    EXPECT_TRUE(o.check_only);
}

TEST(CommandLine, DashDashAloneEndsOptions) {
    EXPECT_TRUE(parsed({"--"}).config_paths.empty());
}

TEST(CommandLine, CheckCondition) {
    const Options o = parsed({"-cc", "version_atleast(2.4)"});
    EXPECT_TRUE(o.has_condition);
    EXPECT_EQ(o.condition, "version_atleast(2.4)");
    const Options empty = parsed({"-cc", ""});
    EXPECT_TRUE(empty.has_condition);
    EXPECT_EQ(empty.condition, "");
}

TEST(CommandLine, ForegroundDebugAndDaemon) {
    const Options d = parsed({"-d"});
    EXPECT_TRUE(d.foreground);
    EXPECT_TRUE(d.debug);
    const Options db = parsed({"-db"});
    EXPECT_TRUE(db.foreground);
    EXPECT_FALSE(db.debug);
    EXPECT_TRUE(parsed({"-D"}).daemon);
}

TEST(CommandLine, PidfileLocalPeerAndDirectory) {
    const Options o = parsed({"-p", "/run/s.pid", "-L", "peer1", "-C", "/etc/sluice"});
    EXPECT_EQ(o.pidfile, "/run/s.pid");
    EXPECT_EQ(o.local_peer, "peer1");
    EXPECT_EQ(o.chdir, "/etc/sluice");
}

TEST(CommandLine, VerboseAndQuietLastOneWins) {
    const Options vq = parsed({"-V", "-q"});
    EXPECT_TRUE(vq.quiet);
    EXPECT_TRUE(vq.verbose);
    const Options qv = parsed({"-q", "-V"});
    EXPECT_FALSE(qv.quiet);  // -V disables quiet mode, as HAProxy's usage says
    EXPECT_TRUE(qv.verbose);
}

TEST(CommandLine, VersionLevels) {
    EXPECT_EQ(parsed({"-v"}).version, 1);
    EXPECT_EQ(parsed({"-vv"}).version, 2);
    EXPECT_EQ(parsed({"-vv", "-v"}).version, 2);  // the most detailed asked for
    EXPECT_EQ(parsed({"-v", "-vv"}).version, 2);
}

TEST(CommandLine, Numbers) {
    const Options o = parsed({"-n", "1000", "-N", "50", "-m", "0"});
    EXPECT_EQ(o.global_maxconn, 1000u);
    EXPECT_EQ(o.proxy_maxconn, 50u);
    EXPECT_EQ(o.memory_limit_mb, 0u);
    EXPECT_EQ(parsed({"-m", "512"}).memory_limit_mb, 512u);
    EXPECT_EQ(parsed({"-n", "4294967295"}).global_maxconn, 4294967295u);
}

TEST(CommandLine, NumberErrors) {
    EXPECT_EQ(error_of({"-n", "abc"}), "'-n' expects a number, got 'abc'");
    EXPECT_EQ(error_of({"-N", "-5"}), "'-N' expects a number, got '-5'");
    EXPECT_EQ(error_of({"-m", "12M"}), "'-m' expects a number, got '12M'");
    EXPECT_EQ(error_of({"-n", ""}), "'-n' expects a number, got ''");
    EXPECT_EQ(error_of({"-n", "0"}), "'-n' expects a number from 1 to 4294967295");
    EXPECT_EQ(error_of({"-N", "4294967296"}), "'-N' expects a number from 1 to 4294967295");
}

TEST(CommandLine, PoisonByte) {
    EXPECT_EQ(parsed({"-dM"}).poison, 0x50);  // HAProxy's default poison
    EXPECT_EQ(parsed({"-dM65"}).poison, 65);
    EXPECT_EQ(parsed({"-dM0x41"}).poison, 0x41);
    EXPECT_EQ(parsed({"-dM0"}).poison, 0);
    EXPECT_EQ(parsed({"-dM255"}).poison, 255);
    EXPECT_EQ(error_of({"-dM256"}), "'-dM' expects a byte value, got '-dM256'");
    EXPECT_EQ(error_of({"-dMzz"}), "'-dM' expects a byte value, got '-dMzz'");
    EXPECT_EQ(error_of({"-dM0x"}), "'-dM' expects a byte value, got '-dM0x'");
    EXPECT_EQ(error_of({"-dM-1"}), "'-dM' expects a byte value, got '-dM-1'");
}

TEST(CommandLine, DebugSwitches) {
    const Options o = parsed({"-dS", "-dW", "-dD"});
    EXPECT_TRUE(o.no_splice);
    EXPECT_TRUE(o.warnings_are_fatal);
    EXPECT_TRUE(o.diagnostics);
}

TEST(CommandLine, Help) {
    EXPECT_TRUE(parsed({"-h"}).help);
    EXPECT_TRUE(parsed({"--help"}).help);
}

TEST(CommandLine, MissingArgumentNamesTheFlag) {
    EXPECT_EQ(error_of({"-f"}), "'-f' expects a file or directory");
    EXPECT_EQ(error_of({"-cc"}), "'-cc' expects a condition");
    EXPECT_EQ(error_of({"-p"}), "'-p' expects a file name");
    EXPECT_EQ(error_of({"-n"}), "'-n' expects a number");
    EXPECT_EQ(error_of({"-N"}), "'-N' expects a number");
    EXPECT_EQ(error_of({"-m"}), "'-m' expects a number");
    EXPECT_EQ(error_of({"-L"}), "'-L' expects a peer name");
    EXPECT_EQ(error_of({"-C"}), "'-C' expects a directory");
    EXPECT_EQ(error_of({"-c", "-f"}), "'-f' expects a file or directory");
}

TEST(CommandLine, UnknownFlag) {
    EXPECT_EQ(error_of({"-Z"}), "unknown option '-Z'");
    EXPECT_EQ(error_of({"--version"}), "unknown option '--version'");
    EXPECT_EQ(error_of({"haproxy.cfg"}), "unknown option 'haproxy.cfg'");
    EXPECT_EQ(error_of({"-f", "a.cfg", "-vvv"}), "unknown option '-vvv'");
}

TEST(CommandLine, MasterWorkerFlagsSayTheyAreNotImplemented) {
    for (const char* flag : {"-W", "-Ws", "-S", "-sf", "-st", "-x"}) {
        EXPECT_EQ(error_of({"-f", "a.cfg", flag}),
                  std::string("'") + flag +
                      "': master-worker mode (roadmap item 8: reload with listener hand-over, "
                      "master CLI, systemd notify) is not implemented yet");
    }
}

TEST(CommandLine, UsageMentionsEveryFlag) {
    const std::string usage = usage_text();
    EXPECT_EQ(usage.rfind("Usage : sluice ", 0), 0u);
    for (const char* flag : {"-f",  "-v",  "-vv", "-d",  "-db", "-dM", "-V",  "-D", "-C",
                             "-q",  "-c",  "-cc", "-n",  "-m",  "-N",  "-L",  "-p", "-dS",
                             "-dW", "-dD", "-W",  "-Ws", "-S",  "-sf", "-st", "-x", "--"})
        EXPECT_NE(usage.find(flag), std::string::npos) << flag;
}

// --- -v and -vv --------------------------------------------------------------------------------

TEST(VersionText, FirstLineIsWhatScriptsParse) {
    const std::string v = version_text(false);
    // `haproxy -v | head -1` is "HAProxy version 2.6.12-1 2023/03/14 - https://haproxy.org/".
    EXPECT_EQ(v.rfind("HAProxy version 2.6.12", 0), 0u) << v;
    EXPECT_NE(v.find("\nStatus: "), std::string::npos);
    EXPECT_NE(v.find("\nKnown bugs: "), std::string::npos);
    EXPECT_NE(v.find("\nRunning on: "), std::string::npos);
    EXPECT_EQ(v.find("Build options :"), std::string::npos);  // -vv only
}

TEST(VersionText, DetailsFollowHaproxysOrder) {
    // The order of `haproxy -vv` 2.6: tools grep these headings and some read what follows.
    const std::string vv = version_text(true);
    EXPECT_EQ(vv.rfind(version_text(false), 0), 0u) << "-vv starts with -v";
    const char* const headings[] = {
        "HAProxy version ",
        "\nStatus: ",
        "\nKnown bugs: ",
        "\nRunning on: ",
        "\nBuild options :\n",
        "\n  TARGET  = ",
        "\n  CPU     = ",
        "\n  CC      = ",
        "\n  CFLAGS  = ",
        "\n  OPTIONS = ",
        "\n  DEBUG   = ",
        "\nFeature list : ",
        "\nDefault settings :\n  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200\n",
        "\nBuilt with multi-threading support (MAX_THREADS=64, default=",
        "\nBuilt with OpenSSL version : ",
        "\nRunning on OpenSSL version : ",
        "\nAvailable polling systems :\n",
        "\nTotal: ",
        "\nAvailable multiplexer protocols :\n",
        "\n(protocols marked as <default> cannot be specified using 'proto' keyword)\n",
        "\nAvailable services : ",
        "\nAvailable filters :",
    };
    std::size_t at = 0;
    for (const char* h : headings) {
        const std::size_t found = vv.find(h, at);
        ASSERT_NE(found, std::string::npos) << "missing or out of order: " << h << "\n" << vv;
        at = found + 1;
    }
}

TEST(VersionText, FeatureListUsesPlusAndMinus) {
    const std::string vv = version_text(true);
    const std::size_t start = vv.find("Feature list :");
    ASSERT_NE(start, std::string::npos);
    const std::string line = vv.substr(start, vv.find('\n', start) - start);
    std::size_t words = 0;
    for (std::size_t i = std::string("Feature list :").size(); i < line.size(); ++i) {
        if (line[i] != ' ') continue;
        ASSERT_LT(i + 1, line.size()) << line;
        EXPECT_TRUE(line[i + 1] == '+' || line[i + 1] == '-') << line.substr(i, 20);
        ++words;
    }
    EXPECT_GT(words, 0u);
}

}  // namespace
}  // namespace sluice
