#include "sluice/util/suggest.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string_view>

namespace sluice::util {
namespace {

constexpr std::array<std::string_view, 6> kKeywords = {
    "balance", "bind", "mode", "timeout connect", "timeout client", "timeout server",
};

TEST(Nearest, FindsOneSlipTypos) {
    EXPECT_EQ(nearest("balanse", kKeywords), "balance");   // substitution
    EXPECT_EQ(nearest("balnce", kKeywords), "balance");    // deletion
    EXPECT_EQ(nearest("ballance", kKeywords), "balance");  // insertion
    EXPECT_EQ(nearest("bnd", kKeywords), "bind");          // short word: one slip allowed
    EXPECT_EQ(nearest("timeout conect", kKeywords), "timeout connect");
}

TEST(Nearest, TranspositionCountsAsOneSlip) {
    EXPECT_EQ(nearest("blaance", kKeywords), "balance");
    EXPECT_EQ(nearest("mdoe", kKeywords), "mode");
}

TEST(Nearest, IsCaseInsensitive) {
    EXPECT_EQ(nearest("BALANCE", kKeywords), "balance");
    EXPECT_EQ(nearest("Timeout Clinet", kKeywords), "timeout client");
}

TEST(Nearest, ReturnsTheCandidateAsSpelledInTheList) {
    constexpr std::array<std::string_view, 1> upper = {"LeastConn"};
    EXPECT_EQ(nearest("leastcon", upper), "LeastConn");
}

TEST(Nearest, NothingWhenNoCandidateIsClose) {
    constexpr std::array<std::string_view, 2> two = {"balance", "bind"};
    EXPECT_EQ(nearest("xyzzy", two), "");
    EXPECT_EQ(nearest("frontend", kKeywords), "");
    // Two slips in a four-letter word is a different word.
    EXPECT_EQ(nearest("mxdx", kKeywords), "");
}

TEST(Nearest, BudgetIsAThirdOfTheTypedWord) {
    constexpr std::array<std::string_view, 1> one = {"abcdefghi"};  // 9 letters
    EXPECT_EQ(nearest("abcdefgxx", one), "abcdefghi");              // 2 slips, budget 3
    EXPECT_EQ(nearest("abcdefxxx", one), "abcdefghi");              // 3 slips, budget 3
    EXPECT_EQ(nearest("abcdexxxx", one), "");                       // 4 slips
    EXPECT_EQ(nearest("abcdef", one), "");                          // 3 slips, budget 2
}

TEST(Nearest, PrefersTheClosestThenTheFirstListed) {
    constexpr std::array<std::string_view, 3> words = {"server", "servers", "serve"};
    EXPECT_EQ(nearest("servers", words), "servers");  // exact beats one slip
    EXPECT_EQ(nearest("serverx", words), "server");   // tie between server/servers: first
}

TEST(Nearest, EmptyInputs) {
    EXPECT_EQ(nearest("", kKeywords), "");
    EXPECT_EQ(nearest("bind", std::span<const std::string_view>{}), "");
}

TEST(DidYouMean, FormatsTheSuggestion) {
    EXPECT_EQ(did_you_mean("balanse", kKeywords), ", did you mean 'balance'?");
    EXPECT_EQ(did_you_mean("timeout conect", kKeywords), ", did you mean 'timeout connect'?");
}

TEST(DidYouMean, EmptyWithoutSuggestion) {
    EXPECT_EQ(did_you_mean("xyzzy", kKeywords), "");
    EXPECT_EQ(did_you_mean("", kKeywords), "");
}

}  // namespace
}  // namespace sluice::util
