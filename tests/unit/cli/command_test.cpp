// The runtime API's line splitting and command lookup (what a socat line becomes), as HAProxy
// 2.6 reads them. The sessions themselves are tested end to end in test_cli.py.
#include <gtest/gtest.h>

#include "sluice/cli/command.hpp"

namespace sluice::cli {
namespace {

using Commands = std::vector<std::vector<std::string>>;

TEST(CliSplit, WordsCommandsAndEscapes) {
    EXPECT_EQ(split_line("show version"), (Commands{{"show", "version"}}));
    EXPECT_EQ(split_line("  get \t weight   lb/a  "), (Commands{{"get", "weight", "lb/a"}}));
    EXPECT_EQ(split_line("get weight a/b;get weight c/d"),
              (Commands{{"get", "weight", "a/b"}, {"get", "weight", "c/d"}}));
    EXPECT_EQ(split_line("a\\;b c\\ d e\\\\"), (Commands{{"a;b", "c d", "e\\"}}));
    EXPECT_EQ(split_line(";;show env;"), (Commands{{"show", "env"}}));
    EXPECT_EQ(split_line(""), (Commands{{}}));
    EXPECT_EQ(split_line(" ; "), (Commands{{}}));
}

TEST(CliCommands, LongestPrefixWins) {
    const std::vector<std::string> get{"get", "weight", "lb/a"};
    const Command* c = find_command(get);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->words, "get weight");
    const std::vector<std::string> unknown{"get", "nothing"};
    EXPECT_EQ(find_command(unknown), nullptr);
    const std::vector<std::string> level{"show", "cli", "level"};
    ASSERT_NE(find_command(level), nullptr);
    EXPECT_EQ(find_command(level)->words, "show cli level");
}

TEST(CliCommands, HelpLayoutAndFilter) {
    std::string out;
    const std::vector<std::string> filter{"get"};
    list_commands(out, filter);
    EXPECT_EQ(out,
              "The following commands are valid at this level:\n"
              "  get acl <acl> <value>                   : match a value against an ACL pattern "
              "list\n"
              "  get map <map> <value>                   : look a value up in a map, as each of "
              "its users would\n"
              "  get weight <bk>/<srv>                   : report a server's current weight\n"
              "  help [<command>]                        : list matching or all commands\n"
              "  prompt                                  : toggle interactive mode with prompt\n"
              "  quit                                    : disconnect\n");
}

TEST(CliServer, FindServerErrorsAsHaproxy) {
    proxy::Config config;
    std::string_view error;
    EXPECT_EQ(find_server(config, "nobackend", error), nullptr);
    EXPECT_EQ(error, "Require 'backend/server'.");
    EXPECT_EQ(find_server(config, "be/s", error), nullptr);
    EXPECT_EQ(error, "No such backend.");
}

}  // namespace
}  // namespace sluice::cli
