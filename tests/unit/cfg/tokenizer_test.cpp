// Where a test pins HAProxy behaviour it says so; those were checked against the haproxy 2.6.12
// binary with `.notice` lines and `haproxy -c`.
#include "sluice/cfg/tokenizer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace sluice::cfg {
namespace {

using Words = std::vector<std::string>;

EnvLookup fake_env(std::map<std::string, std::string, std::less<>> vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

const EnvLookup& test_env() {
    static const EnvLookup env = fake_env({
        {"HOME", "/home/op"},
        {"EMPTY", ""},
        {"LIST", "a b  c"},
        {"PADDED", "  a b  "},
        {"BLANK", "   "},
        {"TABBED", "x\ty"},
        {"QUOTES", "\"it's\" \\n $HOME"},
        {"_X1", "under"},
        {".LINE", "12"},
    });
    return env;
}

Tokenized tok(std::string_view line) {
    auto r = tokenize_line(line, test_env());
    EXPECT_TRUE(r.ok()) << "line: " << line << "\nerror: " << (r.ok() ? "" : r.error());
    return r.ok() ? *r : Tokenized{};
}

Words words(std::string_view line) {
    return tok(line).words;
}

std::string error_of(std::string_view line) {
    auto r = tokenize_line(line, test_env());
    if (r.ok()) {
        ADD_FAILURE() << "expected an error for: " << line;
        return {};
    }
    return r.error();
}

// --- blanks and comments ---------------------------------------------------------------------

TEST(Tokenizer, SplitsOnSpacesAndTabs) {
    EXPECT_EQ(words("timeout connect 5s"), (Words{"timeout", "connect", "5s"}));
    EXPECT_EQ(words("a\tb \t c"), (Words{"a", "b", "c"}));
}

TEST(Tokenizer, IgnoresLeadingAndTrailingBlanks) {
    EXPECT_EQ(words("   \t  bind :80  \t "), (Words{"bind", ":80"}));
}

TEST(Tokenizer, VerticalTabAndFormFeedSeparateToo) {
    // HAProxy 2.6 splits "a\vb" and "a\fb" into two words.
    EXPECT_EQ(words("a\vb\fc"), (Words{"a", "b", "c"}));
}

TEST(Tokenizer, BlankAndCommentLinesHaveNoWords) {
    EXPECT_TRUE(words("").empty());
    EXPECT_TRUE(words("    \t").empty());
    EXPECT_TRUE(words("# a comment").empty());
    EXPECT_TRUE(words("   # indented comment").empty());
}

TEST(Tokenizer, HashEndsTheLineEvenInsideAWord) {
    // HAProxy 2.6: ".notice a#b" prints 'a'.
    EXPECT_EQ(words("mode http# comment"), (Words{"mode", "http"}));
    EXPECT_EQ(words("mode http # comment \"unclosed"), (Words{"mode", "http"}));
}

TEST(Tokenizer, CarriageReturnAndNewlineEndTheLine) {
    // HAProxy 2.6 stops at a CR: ".notice a\rb" prints 'a'.
    EXPECT_EQ(words("mode http\r"), (Words{"mode", "http"}));
    EXPECT_EQ(words("a\rb c"), (Words{"a"}));
    EXPECT_EQ(words("a b\nc"), (Words{"a", "b"}));
}

// --- quotes ----------------------------------------------------------------------------------

TEST(Tokenizer, SingleQuotesAreLiteral) {
    EXPECT_EQ(words(R"(x 'a b # \n $HOME "q"')"), (Words{"x", R"(a b # \n $HOME "q")"}));
    EXPECT_EQ(words(R"('a\')"), (Words{R"(a\)"}));  // no escape can close it early
}

TEST(Tokenizer, DoubleQuotesProtectBlanksHashAndSingleQuotes) {
    EXPECT_EQ(words(R"(x "a b # it's")"), (Words{"x", "a b # it's"}));
    EXPECT_EQ(words("\"a\tb\""), (Words{"a\tb"}));
}

TEST(Tokenizer, QuotesGlueToNeighbouringText) {
    EXPECT_EQ(words(R"(a"b"'c')"), (Words{"abc"}));
    EXPECT_EQ(words(R"(log-format "%{+Q}o %t"' %s'\ %{-Q}r)"),
              (Words{"log-format", "%{+Q}o %t %s %{-Q}r"}));
}

TEST(Tokenizer, EmptyQuotesMakeAnEmptyWord) {
    // HAProxy 2.6: '' and "" are empty words (".notice "" x" complains about 'x').
    EXPECT_EQ(words(R"(a "" b)"), (Words{"a", "", "b"}));
    EXPECT_EQ(words("a '' b"), (Words{"a", "", "b"}));
    EXPECT_EQ(words(R"("")"), (Words{""}));
    EXPECT_EQ(words(R"(a """")"), (Words{"a", ""}));
}

TEST(Tokenizer, UnmatchedDoubleQuoteReportsItsColumn) {
    // HAProxy 2.6 points at the opening quote too ("unmatched quote at position 9").
    EXPECT_EQ(error_of(R"(.notice "abc)"), "unmatched double quote at column 9");
    EXPECT_EQ(error_of(R"(bind "a" "b)"), "unmatched double quote at column 10");
    EXPECT_EQ(error_of(R"("a\")"), "unmatched double quote at column 1");
}

TEST(Tokenizer, UnmatchedSingleQuoteReportsItsColumn) {
    EXPECT_EQ(error_of(".notice 'abc"), "unmatched single quote at column 9");
    EXPECT_EQ(error_of("x 'a\r'"), "unmatched single quote at column 3");
}

TEST(Tokenizer, CommentInsideQuotesIsNoComment) {
    EXPECT_EQ(error_of(R"(a "b # c)"), "unmatched double quote at column 3");
}

// --- escapes ---------------------------------------------------------------------------------

TEST(Tokenizer, EscapesOutsideQuotes) {
    EXPECT_EQ(words(R"(a\ b)"), (Words{"a b"}));
    EXPECT_EQ(words(R"(a\#b)"), (Words{"a#b"}));
    EXPECT_EQ(words(R"(a\\b)"), (Words{R"(a\b)"}));
    EXPECT_EQ(words(R"(a\'b)"), (Words{"a'b"}));
    EXPECT_EQ(words(R"(a\"b)"), (Words{"a\"b"}));
    EXPECT_EQ(words(R"(a\rb\nc\td)"), (Words{"a\rb\nc\td"}));
    EXPECT_EQ(words(R"(a\x41\x7a\x7Ab)"), (Words{"aAzzb"}));
}

TEST(Tokenizer, EscapesInsideDoubleQuotes) {
    EXPECT_EQ(words(R"("a\ b\#c\\d\'e\"f\rg\nh\ti\x41j\$k")"),
              (Words{"a b#c\\d'e\"f\rg\nh\tiAj$k"}));
}

TEST(Tokenizer, EscapedCharactersAreNotSpecial) {
    EXPECT_EQ(words(R"(\x20 \x23)"), (Words{" ", "#"}));
    EXPECT_EQ(words(R"(\" \')"), (Words{"\"", "'"}));
}

TEST(Tokenizer, BackslashBeforeOtherCharactersStays) {
    // HAProxy 2.6 keeps the backslash: unquoted regexes such as ^/api\.v1 depend on it.
    EXPECT_EQ(words(R"(path_reg ^/api\.v1$)"), (Words{"path_reg", R"(^/api\.v1$)"}));
    EXPECT_EQ(words(R"(\q "\q")"), (Words{R"(\q)", R"(\q)"}));
    EXPECT_EQ(words(R"(a\)"), (Words{R"(a\)"}));  // trailing backslash
}

TEST(Tokenizer, BackslashDollarIsAnEscapeOnlyInDoubleQuotes) {
    // HAProxy 2.6: unquoted a\$b stays a\$b, "a\$b" is a$b.
    EXPECT_EQ(words(R"(a\$b "a\$b")"), (Words{R"(a\$b)", "a$b"}));
}

TEST(Tokenizer, BackslashTabIsNoEscape) {
    // HAProxy 2.6 keeps the backslash and splits at the tab, whatever the manual's table says.
    EXPECT_EQ(words("a\\\tb"), (Words{"a\\", "b"}));
}

TEST(Tokenizer, BadHexEscapeReportsTheBackslashColumn) {
    // HAProxy 2.6: "truncated or invalid hexadecimal sequence at position 10" for `.notice a\x4`.
    EXPECT_EQ(error_of(R"(.notice a\x4)"), "truncated or invalid \\x escape at column 10");
    EXPECT_EQ(error_of(R"(.notice a\xZZb)"), "truncated or invalid \\x escape at column 10");
    EXPECT_EQ(error_of(R"(\x)"), "truncated or invalid \\x escape at column 1");
    EXPECT_EQ(error_of(R"("ab\xg1")"), "truncated or invalid \\x escape at column 4");
}

TEST(Tokenizer, NulIsRefused) {
    // HAProxy's C strings silently cut the word at a NUL; we refuse it instead.
    EXPECT_EQ(error_of(R"(a\x00b)"), "NUL character (\\x00) at column 2");
    EXPECT_EQ(error_of(std::string_view("ab\0c", 4)), "NUL character at column 3");
    EXPECT_EQ(error_of(std::string_view("'\0'", 3)), "NUL character at column 2");
    EXPECT_EQ(error_of(std::string_view("\"\0\"", 3)), "NUL character at column 2");
}

TEST(Tokenizer, HighBytesPassThrough) {
    EXPECT_EQ(words("caf\xc3\xa9 \\xff"), (Words{"caf\xc3\xa9", "\xff"}));
}

// --- environment variables -------------------------------------------------------------------

TEST(TokenizerEnv, BracedAndBareNamesExpandInDoubleQuotes) {
    EXPECT_EQ(words(R"("${HOME}")"), (Words{"/home/op"}));
    // HAProxy 2.6 expands "$NAME" too; the name ends at the first non-name character.
    EXPECT_EQ(words(R"("$HOME")"), (Words{"/home/op"}));
    EXPECT_EQ(words(R"("x$HOME-y")"), (Words{"x/home/op-y"}));
    EXPECT_EQ(words(R"("$_X1.$HOME")"), (Words{"under./home/op"}));
    EXPECT_EQ(words(R"(bind "fd@${HOME}":80)"), (Words{"bind", "fd@/home/op:80"}));
}

TEST(TokenizerEnv, NotExpandedOutsideDoubleQuotes) {
    EXPECT_EQ(words(R"(${HOME} $HOME '${HOME}')"), (Words{"${HOME}", "$HOME", "${HOME}"}));
}

TEST(TokenizerEnv, EscapedDollarIsLiteral) {
    EXPECT_EQ(words(R"("\${HOME}")"), (Words{"${HOME}"}));
}

TEST(TokenizerEnv, ValueIsNotReinterpreted) {
    EXPECT_EQ(words(R"("${QUOTES}")"), (Words{R"("it's" \n $HOME)"}));
}

TEST(TokenizerEnv, ValueBlanksDoNotSplitWithoutStar) {
    EXPECT_EQ(words(R"("${LIST}")"), (Words{"a b  c"}));
}

TEST(TokenizerEnv, EmptyValueMakesAnEmptyWord) {
    auto t = tok(R"(a "${EMPTY}" b)");
    EXPECT_EQ(t.words, (Words{"a", "", "b"}));
    EXPECT_TRUE(t.warnings.empty());
}

TEST(TokenizerEnv, UnsetIsEmptyWithAWarning) {
    auto t = tok(R"(x "${NOPE}" "a$UNSET_TOO")");
    EXPECT_EQ(t.words, (Words{"x", "", "a"}));
    ASSERT_EQ(t.warnings.size(), 2u);
    EXPECT_EQ(t.warnings[0].column, 3u);  // 0-based offset of the '$'
    EXPECT_EQ(t.warnings[0].message,
              "environment variable 'NOPE' is not set, using an empty string");
    EXPECT_EQ(t.warnings[1].column, 14u);
    EXPECT_EQ(t.warnings[1].message,
              "environment variable 'UNSET_TOO' is not set, using an empty string");
}

TEST(TokenizerEnv, UnsetGluedToTextLeavesTheText) {
    EXPECT_EQ(words(R"("${NOPE}"y)"), (Words{"y"}));
}

TEST(TokenizerEnv, DefaultReplacesOnlyUnsetVariables) {
    EXPECT_EQ(words(R"("${NOPE-127.0.0.1}:514")"), (Words{"127.0.0.1:514"}));
    EXPECT_EQ(words(R"("${HOME-/tmp}")"), (Words{"/home/op"}));
    // As documented, a default stands in for an unset variable, never for an empty one.
    EXPECT_EQ(words(R"("${EMPTY-def}")"), (Words{""}));
    EXPECT_TRUE(tok(R"("${NOPE-x}")").warnings.empty());
}

TEST(TokenizerEnv, DefaultIsRawTextUpToTheBrace) {
    EXPECT_EQ(words(R"("${NOPE-a b}")"), (Words{"a b"}));
    EXPECT_EQ(words(R"("${NOPE-}")"), (Words{""}));
    EXPECT_EQ(words(R"("${NOPE-\n$X'}")"), (Words{R"(\n$X')"}));
    EXPECT_EQ(words(R"("${NOPE--}")"), (Words{"-"}));
}

TEST(TokenizerEnv, StarSplitsTheValueIntoWords) {
    EXPECT_EQ(words(R"(server "${LIST[*]}" end)"), (Words{"server", "a", "b", "c", "end"}));
    EXPECT_EQ(words(R"("${TABBED[*]}")"), (Words{"x", "y"}));
}

TEST(TokenizerEnv, StarGluesFirstAndLastFieldsToNeighbours) {
    // HAProxy 2.6: "x${LIST[*]}y" gives xa, b, cy.
    EXPECT_EQ(words(R"("x${LIST[*]}y")"), (Words{"xa", "b", "cy"}));
}

TEST(TokenizerEnv, StarBlanksAtTheEdgesSeparateButMakeNoEmptyWord) {
    // HAProxy 2.6 would give "", a, b, "" here; its keyword parsers stop at an empty word, ours
    // would not, so we give only the fields.
    EXPECT_EQ(words(R"("${PADDED[*]}")"), (Words{"a", "b"}));
    // As in HAProxy, the edge blanks still cut the value from glued text.
    EXPECT_EQ(words(R"("x${PADDED[*]}y")"), (Words{"x", "a", "b", "y"}));
}

TEST(TokenizerEnv, StarOfNothingMakesNoWord) {
    EXPECT_EQ(words(R"(a "${EMPTY[*]}" b)"), (Words{"a", "b"}));
    EXPECT_EQ(words(R"(a "${BLANK[*]}" b)"), (Words{"a", "b"}));
    EXPECT_EQ(words(R"(a "x${EMPTY[*]}" b)"), (Words{"a", "x", "b"}));
    auto t = tok(R"(a "${NOPE[*]}")");
    EXPECT_EQ(t.words, (Words{"a"}));
    EXPECT_EQ(t.warnings.size(), 1u);
}

TEST(TokenizerEnv, StarAppliesToTheDefaultToo) {
    EXPECT_EQ(words(R"("${NOPE[*]-p q}")"), (Words{"p", "q"}));
}

TEST(TokenizerEnv, StarWithoutBracesIsLiteral) {
    // HAProxy 2.6: "$LIST[*]" expands LIST and keeps "[*]".
    EXPECT_EQ(words(R"("$LIST[*]")"), (Words{"a b  c[*]"}));
}

TEST(TokenizerEnv, PseudoVariablesGoThroughTheLookup) {
    EXPECT_EQ(words(R"("${.LINE}" "$.LINE")"), (Words{"12", "12"}));
}

TEST(TokenizerEnv, BadStarIsAnError) {
    // HAProxy 2.6 points at the '[': "invalid word expansion sequence at position 15".
    EXPECT_EQ(error_of(R"(.notice "${FOO[x]}")"),
              "invalid word expansion (only [*] is supported) at column 15");
    EXPECT_EQ(error_of(R"("${FOO[*")"),
              "invalid word expansion (only [*] is supported) at column 7");
}

TEST(TokenizerEnv, MissingBraceIsAnError) {
    // HAProxy 2.6 points at the '{' ("unmatched brace ... at position 11").
    EXPECT_EQ(error_of(R"(.notice "${HOME")"), "unmatched brace in variable at column 11");
    EXPECT_EQ(error_of(R"("${HO ME}")"), "unmatched brace in variable at column 3");
    EXPECT_EQ(error_of(R"("${NOPE-abc")"), "unmatched brace in variable at column 3");
    EXPECT_EQ(error_of(R"("${HOME[*]")"), "unmatched brace in variable at column 3");
}

TEST(TokenizerEnv, BadNameIsAnError) {
    // HAProxy 2.6: "forbidden first char in environment variable name", at that character.
    const std::string hint = " (write \\$ for a literal dollar sign)";
    EXPECT_EQ(error_of(R"(.notice "$")"),
              "invalid first character in variable name at column 11" + hint);
    EXPECT_EQ(error_of(R"("${}")"), "invalid first character in variable name at column 4" + hint);
    EXPECT_EQ(error_of(R"("$1")"), "invalid first character in variable name at column 3" + hint);
    EXPECT_EQ(error_of(R"("^/foo$")"),
              "invalid first character in variable name at column 8" + hint);
    EXPECT_EQ(error_of(R"("a$ b")"), "invalid first character in variable name at column 4" + hint);
}

TEST(TokenizerEnv, NoLookupMeansEverythingIsUnset) {
    auto r = tokenize_line(R"("${HOME}" "${X-d}")", EnvLookup{});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->words, (Words{"", "d"}));
    EXPECT_EQ(r->warnings.size(), 1u);
}

TEST(TokenizerEnv, ProcessEnvReadsTheRealEnvironment) {
    // Only this test touches the process environment, with a name nothing else uses.
    ASSERT_EQ(::setenv("SLUICE_TOKENIZER_TEST_VAR", "from env", 1), 0);
    const EnvLookup env = process_env();
    EXPECT_EQ(env("SLUICE_TOKENIZER_TEST_VAR"), std::optional<std::string>("from env"));
    ::unsetenv("SLUICE_TOKENIZER_TEST_VAR");
    EXPECT_EQ(env("SLUICE_TOKENIZER_TEST_VAR"), std::nullopt);
    EXPECT_EQ(env(std::string_view("PATH\0X", 6)), std::nullopt);
}

// --- whole lines -----------------------------------------------------------------------------

TEST(Tokenizer, QuotingStylesAreEquivalent) {
    const Words expected = {"log-format", "%ci:%cp [%tr] %{+Q}r"};
    EXPECT_EQ(words(R"(log-format %ci:%cp\ [%tr]\ %{+Q}r)"), expected);
    EXPECT_EQ(words(R"(log-format "%ci:%cp [%tr] %{+Q}r")"), expected);
    EXPECT_EQ(words(R"(log-format '%ci:%cp [%tr] %{+Q}r')"), expected);
    EXPECT_EQ(words(R"(log-format "%ci:%cp"' [%tr] %{+Q}r')"), expected);
    EXPECT_EQ(words(R"(log-format "%ci:%cp"' [%tr]'\ %{+Q}r)"), expected);
}

TEST(Tokenizer, SecondLevelQuotesSurvive) {
    // Escaped or single-quoted, the inner quotes reach the sample-expression parser.
    EXPECT_EQ(words(R"~(http-request set-path %[path,regsub(\"^/(v1|v2)\",/api,g)])~"),
              (Words{"http-request", "set-path", R"~(%[path,regsub("^/(v1|v2)",/api,g)])~"}));
    EXPECT_EQ(words(R"~(http-request set-path '%[path,regsub("^/old(/|$)","/new\1",)]')~"),
              (Words{"http-request", "set-path", R"~(%[path,regsub("^/old(/|$)","/new\1",)])~"}));
}

TEST(Tokenizer, ConditionLine) {
    EXPECT_EQ(words(R"(.if streq("$HOME",/home/op) && !defined(NOPE) # check)"),
              (Words{".if", "streq(/home/op,/home/op)", "&&", "!defined(NOPE)"}));
}

}  // namespace
}  // namespace sluice::cfg
