// Condition expressions of `.if`/`.elif` and `-cc`: terms, operators, predicates and version
// comparison, through evaluate_condition(). The block directives that use them are in
// conditional_stack_test.cpp.
//
// Where a test pins HAProxy behaviour it says so; those were checked against the haproxy 2.6.12
// binary with `haproxy -cc EXPR` (exit 0 true, 1 false, 2 error) and small configs.
#include "sluice/cfg/conditions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace sluice::cfg {
namespace {

using Words = std::vector<std::string>;

ConditionEnv test_env() {
    static const std::map<std::string, std::string, std::less<>> vars = {
        {"HOME", "/home/op"}, {"EMPTY", ""}, {"WITH_SSL", "yes"}};
    static const std::set<std::string, std::less<>> features = {"OPENSSL", "LUA", "PCRE2"};
    return ConditionEnv{
        .env = [](std::string_view name) -> std::optional<std::string> {
            auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        },
        .has_feature = [](std::string_view name) { return features.contains(name); },
        .version = "2.6.12",
    };
}

// Evaluates `text` given as one word.
bool eval(std::string_view text) {
    const Words words{std::string(text)};
    auto r = evaluate_condition(words, test_env());
    EXPECT_TRUE(r.ok()) << "condition: " << text << "\nerror: " << (r.ok() ? "" : r.error());
    return r.ok() && *r;
}

// The error for `text`, without the " in condition '<text>'" that most messages end with.
std::string fault(std::string_view text) {
    const Words words{std::string(text)};
    auto r = evaluate_condition(words, test_env());
    if (r.ok()) {
        ADD_FAILURE() << "expected an error for: " << text << " (got " << *r << ")";
        return {};
    }
    std::string message = r.error();
    const std::string quoted = " in condition '" + std::string(text) + "'";
    const std::size_t at = message.find(quoted);
    return at == std::string::npos ? message : message.erase(at, quoted.size());
}

const std::string kExpectedTerm = " (expected a number, a predicate, '!' or '(')";

// --- terms -----------------------------------------------------------------------------------

TEST(Condition, EmptyIsFalse) {
    EXPECT_FALSE(*evaluate_condition(Words{}, test_env()));
    EXPECT_FALSE(eval(""));
    // HAProxy 2.6 rejects " " but takes "" as false; blanks only are false here.
    EXPECT_FALSE(eval("  "));
    EXPECT_FALSE(*evaluate_condition(Words{"", ""}, test_env()));
}

TEST(Condition, NumbersAreReadLikeStrtolBaseZero) {
    EXPECT_TRUE(eval("1"));
    EXPECT_FALSE(eval("0"));
    EXPECT_TRUE(eval("2"));
    EXPECT_TRUE(eval(" 1 "));
    // HAProxy 2.6: -1 and +1 true, -0/+0/00/0x0 false, 0x10/010/07 true.
    EXPECT_TRUE(eval("-1"));
    EXPECT_TRUE(eval("+1"));
    EXPECT_FALSE(eval("-0"));
    EXPECT_FALSE(eval("+0"));
    EXPECT_FALSE(eval("00"));
    EXPECT_TRUE(eval("01"));
    EXPECT_TRUE(eval("010"));
    EXPECT_TRUE(eval("0x10"));
    EXPECT_TRUE(eval("0X1f"));
    EXPECT_FALSE(eval("0x0"));
    // An overflow saturates to a non-zero value.
    EXPECT_TRUE(eval("99999999999999999999"));
    EXPECT_TRUE(eval("18446744073709551616"));
    EXPECT_TRUE(eval("-9223372036854775809"));
}

TEST(Condition, NumberFollowedByJunkIsAnError) {
    // HAProxy 2.6: "unexpected character 'x' at the end of conditional expression '1x'".
    EXPECT_EQ(fault("1x"), "unexpected character 'x' at position 2");
    EXPECT_EQ(fault("08"), "unexpected character '8' at position 2");
    EXPECT_EQ(fault("0x"), "unexpected character 'x' at position 2");
    EXPECT_EQ(fault("0xg"), "unexpected character 'x' at position 2");
    EXPECT_EQ(fault("1.5"), "unexpected character '.' at position 2");
    EXPECT_EQ(fault("1 0"), "unexpected character '0' at position 3");
}

TEST(Condition, BadTermIsAnError) {
    // HAProxy 2.6 words these "unparsable conditional expression '<rest>'" too.
    EXPECT_EQ(fault("-"), "unparsable conditional expression '-'" + kExpectedTerm);
    EXPECT_EQ(fault("- 1"), "unparsable conditional expression '- 1'" + kExpectedTerm);
    EXPECT_EQ(fault("&& 1"), "unparsable conditional expression '&& 1'" + kExpectedTerm);
    EXPECT_EQ(fault("()"), "unparsable conditional expression ')'" + kExpectedTerm);
    EXPECT_EQ(fault("\"1\""), "unparsable conditional expression '\"1\"'" + kExpectedTerm);
    EXPECT_EQ(fault("1 &&"), "unexpected end" + kExpectedTerm);
    EXPECT_EQ(fault("!"), "unexpected end" + kExpectedTerm);
    // The whole message quotes the condition after the part that failed.
    EXPECT_EQ(evaluate_condition(Words{"1", "&&", "-"}, test_env()).error(),
              "unparsable conditional expression '-'" + kExpectedTerm + " in condition '1 && -'");
}

// --- operators -------------------------------------------------------------------------------

TEST(Condition, AndOr) {
    EXPECT_TRUE(eval("1 && 1"));
    EXPECT_FALSE(eval("1 && 0"));
    EXPECT_FALSE(eval("0 && 1"));
    EXPECT_FALSE(eval("1&&0"));
    EXPECT_TRUE(eval("1 && 1 && 1"));
    EXPECT_TRUE(eval("1 || 0"));
    EXPECT_TRUE(eval("0||1"));
    EXPECT_FALSE(eval("0 || 0"));
    EXPECT_TRUE(eval("0 || 0 || 1"));
}

TEST(Condition, AndBindsTighterThanOr) {
    // As documented: A && B || C && D groups as (A && B) || (C && D).
    EXPECT_TRUE(eval("0 && 1 || 1"));   // (0 && 1) || 1
    EXPECT_TRUE(eval("1 || 1 && 0"));   // 1 || (1 && 0)
    EXPECT_FALSE(eval("0 || 1 && 0"));  // 0 || (1 && 0)
    EXPECT_TRUE(eval("1 && 0 || 0 && 1 || 1 && 1"));
}

TEST(Condition, ParenthesesGroup) {
    EXPECT_FALSE(eval("(1 || 1) && 0"));
    EXPECT_FALSE(eval("0 && (1 || 1)"));
    EXPECT_TRUE(eval("(1)"));
    EXPECT_TRUE(eval("((1))"));
    EXPECT_TRUE(eval(" ( 1 ) && ( 1 ) "));
    EXPECT_FALSE(eval("(1)&&(0)"));
}

TEST(Condition, Negation) {
    EXPECT_TRUE(eval("!0"));
    EXPECT_FALSE(eval("!1"));
    EXPECT_TRUE(eval("!!1"));
    EXPECT_FALSE(eval("!!!!0"));
    EXPECT_FALSE(eval("! 1"));  // HAProxy 2.6 allows a blank after '!'
    EXPECT_FALSE(eval("! !0"));
    EXPECT_TRUE(eval("!(0)"));
    EXPECT_FALSE(eval("!(1||0)"));
    EXPECT_TRUE(eval("!0 && !0"));  // '!' binds to the term, not the whole expression
    EXPECT_TRUE(eval("!defined(NOPE)"));
}

TEST(Condition, UnbalancedParenthesesAreErrors) {
    // HAProxy 2.6: "expected ')' after conditional expression '(1'".
    EXPECT_EQ(fault("(1"), "missing ')'");
    EXPECT_EQ(fault("((1)"), "missing ')'");
    EXPECT_EQ(fault("1)"), "unexpected character ')' at position 2");
    EXPECT_EQ(fault("(1)(1)"), "unexpected character '(' at position 4");
}

TEST(Condition, SingleAmpersandOrPipeIsAnError) {
    EXPECT_EQ(fault("1 & 1"), "unexpected character '&' at position 3");
    EXPECT_EQ(fault("1 | 0"), "unexpected character '|' at position 3");
    EXPECT_EQ(fault("1 &&& 1"), "unparsable conditional expression '& 1'" + kExpectedTerm);
    EXPECT_EQ(fault("1 ||| 0"), "unparsable conditional expression '| 0'" + kExpectedTerm);
}

TEST(Condition, ErrorsInShortCircuitedTermsAreStillReported) {
    // HAProxy 2.6 parses the whole expression before evaluating it: "1 || x" is an error.
    EXPECT_EQ(fault("1 || foo(a)"),
              "unparsable conditional expression 'foo(a)' (unknown predicate 'foo')");
    EXPECT_EQ(fault("0 && streq(a)"), "predicate 'streq' takes 2 arguments but got 1");
}

TEST(Condition, DeepNestingIsRefusedNotACrash) {
    const std::string deep_parens = std::string(10000, '(') + "1" + std::string(10000, ')');
    EXPECT_EQ(fault(deep_parens), "too many nested '(' or '!'");
    const std::string deep_not = std::string(10000, '!') + "1";
    EXPECT_EQ(fault(deep_not), "too many nested '(' or '!'");
    // Real conditions are far from the limit.
    EXPECT_TRUE(eval(std::string(50, '(') + "1" + std::string(50, ')')));
    EXPECT_TRUE(eval(std::string(50, '!') + "1"));
}

// --- words -----------------------------------------------------------------------------------

TEST(Condition, WordsAreJoinedWithOneSpace) {
    // HAProxy 2.6: `.if streq(a  b,a b)` is true once tokenized (the words are joined).
    EXPECT_TRUE(*evaluate_condition(Words{"streq(a", "b,a", "b)"}, test_env()));
    EXPECT_TRUE(*evaluate_condition(Words{"1", "&&", "!0"}, test_env()));
    // An empty word still counts: HAProxy 2.6 joins `.if "" 1` into " 1" (true) and
    // `.if 1 "" 0` into "1  0" (an error at position 4).
    EXPECT_TRUE(*evaluate_condition(Words{"", "1"}, test_env()));
    auto r = evaluate_condition(Words{"1", "", "0"}, test_env());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "unexpected character '0' at position 4 in condition '1  0'");
}

// --- predicates ------------------------------------------------------------------------------

TEST(Predicate, Defined) {
    EXPECT_TRUE(eval("defined(HOME)"));
    EXPECT_TRUE(eval("defined(EMPTY)"));  // set but empty is defined
    EXPECT_FALSE(eval("defined(NOPE)"));
    EXPECT_FALSE(eval("defined()"));
    EXPECT_TRUE(eval("defined(\"HOME\")"));
}

TEST(Predicate, Feature) {
    EXPECT_TRUE(eval("feature(OPENSSL)"));
    EXPECT_TRUE(eval("feature(LUA)"));
    EXPECT_FALSE(eval("feature(NOPE)"));
    // HAProxy 2.6: names are exact and case-sensitive.
    EXPECT_FALSE(eval("feature(openssl)"));
    EXPECT_FALSE(eval("feature(OPENSS)"));
    EXPECT_FALSE(eval("feature(PCRE)"));
    EXPECT_FALSE(eval("feature(+OPENSSL)"));
    // HAProxy 2.6 answers true for feature(); here the feature list decides.
    EXPECT_FALSE(eval("feature()"));
}

TEST(Predicate, MissingCallbacksAnswerFalse) {
    ConditionEnv env = test_env();
    env.env = nullptr;
    env.has_feature = nullptr;
    EXPECT_FALSE(*evaluate_condition(Words{"defined(HOME)"}, env));
    EXPECT_FALSE(*evaluate_condition(Words{"feature(OPENSSL)"}, env));
}

TEST(Predicate, StreqStrneq) {
    EXPECT_TRUE(eval("streq(a,a)"));
    EXPECT_FALSE(eval("streq(a,b)"));
    EXPECT_TRUE(eval("streq(,)"));  // HAProxy 2.6: two empty arguments are equal
    EXPECT_FALSE(eval("streq(a,A)"));
    EXPECT_TRUE(eval("strneq(a,b)"));
    EXPECT_FALSE(eval("strneq(a,a)"));
    EXPECT_FALSE(eval("strneq(,)"));
}

TEST(Predicate, BlanksInArgumentsAreSignificant) {
    // HAProxy 2.6: streq(a, a) and streq( a,a ) are false.
    EXPECT_FALSE(eval("streq(a, a)"));
    EXPECT_FALSE(eval("streq( a,a )"));
    EXPECT_TRUE(eval("streq(a b,a b)"));
}

TEST(Predicate, ArgumentsMayBeQuotedAgain) {
    // What reaches the condition after the tokenizer: `.if streq(\"a,b\",'a,b')`.
    EXPECT_TRUE(eval(R"(streq("a,b",'a,b'))"));
    EXPECT_TRUE(eval(R"~(streq("a)",'a)'))~"));
    EXPECT_TRUE(eval(R"(streq(a"b"c,abc))"));
    EXPECT_TRUE(eval(R"(streq('',""))"));
    EXPECT_TRUE(eval(R"(streq("it's",'it'\''s'))"));
}

TEST(Predicate, ArgumentEscapes) {
    EXPECT_TRUE(eval(R"(streq(a\ b,a b))"));
    EXPECT_TRUE(eval(R"(streq(a\"b,'a"b'))"));
    EXPECT_TRUE(eval(R"(streq("a\"b",'a"b'))"));
    EXPECT_TRUE(eval(R"(streq(a\\b,'a\b'))"));
    // HAProxy 2.6: a backslash before another character stays, and "\," is no escape.
    EXPECT_TRUE(eval(R"(streq("a\qb",'a\qb'))"));
    EXPECT_FALSE(eval(R"(streq(a\qb,aqb))"));
    EXPECT_EQ(fault(R"(streq(a\,b,"a,b"))"), "predicate 'streq' takes 2 arguments but got 3");
    // No escapes inside single quotes.
    EXPECT_TRUE(eval(R"(streq('a\"b','a\"b'))"));
}

TEST(Predicate, WrongArgumentCountIsAnError) {
    // HAProxy 2.6: "missing arguments (got 1/2)" and "expected ')' before ',c)'".
    EXPECT_EQ(fault("streq(a)"), "predicate 'streq' takes 2 arguments but got 1");
    EXPECT_EQ(fault("streq()"), "predicate 'streq' takes 2 arguments but got 1");
    EXPECT_EQ(fault("streq(a,b,c)"), "predicate 'streq' takes 2 arguments but got 3");
    EXPECT_EQ(fault("defined(HOME,x)"), "predicate 'defined' takes 1 argument but got 2");
    EXPECT_EQ(fault("feature(A,B)"), "predicate 'feature' takes 1 argument but got 2");
    EXPECT_EQ(fault("version_atleast(2,6)"),
              "predicate 'version_atleast' takes 1 argument but got 2");
    EXPECT_EQ(fault("version_before(2,6)"),
              "predicate 'version_before' takes 1 argument but got 2");
}

TEST(Predicate, BareNameHasOneEmptyArgument) {
    // HAProxy 2.6: `defined` is false, `version_atleast` true, `streq` lacks an argument.
    EXPECT_FALSE(eval("defined"));
    EXPECT_FALSE(eval("defined && 1"));
    EXPECT_TRUE(eval("version_atleast"));
    EXPECT_FALSE(eval("version_before"));
    EXPECT_EQ(fault("streq"), "predicate 'streq' takes 2 arguments but got 1");
    // A blank before '(' makes the name bare and leaves "(a,a)" as junk, as in HAProxy 2.6.
    EXPECT_EQ(fault("streq (a,a)"), "predicate 'streq' takes 2 arguments but got 1");
    EXPECT_EQ(fault("defined (HOME)"), "unexpected character '(' at position 9");
}

TEST(Predicate, UnterminatedArgumentsAreErrors) {
    EXPECT_EQ(fault("streq(a,b"), "missing ')' after the arguments of 'streq'");
    EXPECT_EQ(fault("defined("), "missing ')' after the arguments of 'defined'");
    EXPECT_EQ(fault(R"(streq("a,b))"), "unmatched quote in the arguments of 'streq'");
    EXPECT_EQ(fault(R"(streq('a,b))"), "unmatched quote in the arguments of 'streq'");
}

TEST(Predicate, JunkAfterPredicateIsAnError) {
    EXPECT_EQ(fault("defined(HOME)x"), "unexpected character 'x' at position 14");
    EXPECT_EQ(fault("streq(a,b) 1"), "unexpected character '1' at position 12");
}

TEST(Predicate, UnknownNamesAreErrorsWithASuggestion) {
    // HAProxy 2.6: "unparsable conditional expression 'foo(a)'"; names are case-sensitive.
    EXPECT_EQ(fault("foo(a)"),
              "unparsable conditional expression 'foo(a)' (unknown predicate 'foo')");
    EXPECT_EQ(fault("x"), "unparsable conditional expression 'x' (unknown predicate 'x')");
    EXPECT_EQ(fault("STREQ(a,a)"),
              "unparsable conditional expression 'STREQ(a,a)' (unknown "
              "predicate 'STREQ', did you mean 'streq'?)");
    EXPECT_EQ(fault("version_atlest(2.6)"),
              "unparsable conditional expression 'version_atlest(2.6)' (unknown predicate "
              "'version_atlest', did you mean 'version_atleast'?)");
    EXPECT_EQ(fault("definedx"),
              "unparsable conditional expression 'definedx' (unknown "
              "predicate 'definedx', did you mean 'defined'?)");
    EXPECT_EQ(evaluate_condition(Words{"1", "||", "defnied(A)"}, test_env()).error(),
              "unparsable conditional expression 'defnied(A)' (unknown predicate 'defnied', did "
              "you mean 'defined'?) in condition '1 || defnied(A)'");
}

TEST(Predicate, VersionAtleastAndBefore) {
    // Current version 2.6.12; HAProxy 2.6.12 gives the same answers for each of these.
    const char* const not_newer[] = {"2.6.12",   "2.6.11",    "2.6",        "2",           "2.5.99",
                                     "2.6.12.0", "2.6-dev19", "2.6.12-rc1", "2.6.12-dev1", "02.6",
                                     "2.6..12",  "2.6.12a",   "",           "abc",         "2.x"};
    const char* const newer[] = {"2.6.13", "2.7", "3", "2.6.12.1", "2.10", "99999999999999999999"};
    for (const char* v : not_newer) {
        EXPECT_TRUE(eval(std::string("version_atleast(") + v + ")")) << v;
        EXPECT_FALSE(eval(std::string("version_before(") + v + ")")) << v;
    }
    for (const char* v : newer) {
        EXPECT_FALSE(eval(std::string("version_atleast(") + v + ")")) << v;
        EXPECT_TRUE(eval(std::string("version_before(") + v + ")")) << v;
    }
}

TEST(Predicate, VersionComesFromTheEnvironment) {
    ConditionEnv env = test_env();
    env.version = "3.0.1";
    EXPECT_TRUE(*evaluate_condition(Words{"version_atleast(2.10)"}, env));
    EXPECT_FALSE(*evaluate_condition(Words{"version_before(3.0)"}, env));
}

TEST(Predicate, Combined) {
    EXPECT_TRUE(eval(R"(feature(LUA) && (streq(on,on) || strneq(,on)) && version_atleast(2.4))"));
    EXPECT_FALSE(eval("!feature(OPENSSL) || defined(NOPE) && 1"));
}

// --- compare_versions ------------------------------------------------------------------------

TEST(CompareVersions, Numeric) {
    EXPECT_LT(compare_versions("2.6.12", "2.10"), 0);
    EXPECT_GT(compare_versions("2.10", "2.6.12"), 0);
    EXPECT_EQ(compare_versions("2.6", "2.6.0"), 0);
    EXPECT_EQ(compare_versions("2.6.0.0", "2.6"), 0);
    EXPECT_LT(compare_versions("2.6", "2.6.1"), 0);
    EXPECT_EQ(compare_versions("1.10", "1.010"), 0);
}

TEST(CompareVersions, SuffixesAreIgnored) {
    EXPECT_EQ(compare_versions("2.4-dev3", "2.4"), 0);
    EXPECT_EQ(compare_versions("2.6.12-1+deb12u4", "2.6.12"), 0);
    EXPECT_EQ(compare_versions("2.6.", "2.6"), 0);
    EXPECT_LT(compare_versions("2.4-dev3", "2.4.1"), 0);
}

TEST(CompareVersions, NoDigitsIsZero) {
    EXPECT_EQ(compare_versions("", "0"), 0);
    EXPECT_EQ(compare_versions("abc", ""), 0);
    EXPECT_LT(compare_versions(" 2.6", "0.1"), 0);  // a leading blank stops the numbers
}

TEST(CompareVersions, HugePartsSaturate) {
    EXPECT_GT(compare_versions("99999999999999999999", "18446744073709551614"), 0);
    EXPECT_EQ(compare_versions("99999999999999999999", "999999999999999999999"), 0);
}

}  // namespace
}  // namespace sluice::cfg
