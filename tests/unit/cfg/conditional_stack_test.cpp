// ConditionalStack: the `.if`/`.elif`/`.else`/`.endif` blocks and the message directives
// (`.diag`, `.notice`, `.warning`, `.alert`), one directive line at a time. The condition
// language itself is in conditions_test.cpp; how the reader applies the stack to a file is in
// reader_sections_test.cpp.
//
// Where a test pins HAProxy behaviour it says so; those were checked against the haproxy 2.6.12
// binary with small configs.
#include "sluice/cfg/conditions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::cfg {
namespace {

using Words = std::vector<std::string>;

// The directives here only use constant conditions: no variable or feature is defined.
ConditionEnv test_env() {
    return ConditionEnv{
        .env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; },
        .has_feature = [](std::string_view) { return false; },
        .version = "2.6.12",
    };
}

// One directive line, split on single spaces (enough for these tests), and what should follow.
struct Step {
    std::string_view line;
    bool active_after;
    std::string_view error = {};  // expected error message, empty when the line is fine
};

class Stack : public ::testing::Test {
  protected:
    static Words split(std::string_view line) {
        Words words;
        for (std::size_t start = 0; start <= line.size();) {
            const std::size_t end = std::min(line.find(' ', start), line.size());
            words.emplace_back(line.substr(start, end - start));
            start = end + 1;
        }
        return words;
    }
    void run(std::initializer_list<Step> steps) {
        for (const Step& step : steps) {
            auto r = stack.apply(split(step.line), test_env());
            EXPECT_EQ(r.ok() ? std::string() : r.error(), step.error) << step.line;
            if (r.ok()) last = *r;
            EXPECT_EQ(stack.active(), step.active_after) << step.line;
        }
    }
    std::string error_of(Words words) {
        auto r = stack.apply(words, test_env());
        return r.ok() ? std::string() : r.error();
    }

    ConditionalStack stack;
    DirectiveOutcome last;
};

TEST_F(Stack, IfTrueAndFalse) {
    EXPECT_TRUE(stack.active());
    EXPECT_EQ(stack.depth(), 0u);
    run({{".if 1", true}});
    EXPECT_EQ(stack.depth(), 1u);
    run({{".endif", true}, {".if 0", false}, {".endif", true}});
    EXPECT_EQ(stack.depth(), 0u);
}

TEST_F(Stack, IfWithoutConditionIsFalse) {
    EXPECT_EQ(error_of({".if"}), "");
    EXPECT_FALSE(stack.active());
    EXPECT_EQ(error_of({".elif"}), "");
    EXPECT_FALSE(stack.active());
    run({{".else", true}});
}

TEST_F(Stack, ConditionWordsAreJoined) {
    run({{".if 1 && 0", false}, {".elif 1 || 0", true}});
}

TEST_F(Stack, Else) {
    run({{".if 0", false}, {".else", true}, {".endif", true}});
    run({{".if 1", true}, {".else", false}, {".endif", true}});
}

TEST_F(Stack, ElifChainTakesTheFirstTrueBranchOnly) {
    run({{".if 1", true},
         {".if 0", false},
         {".elif 1", true},
         {".elif 1", false},  // a later true .elif is not taken
         {".else", false},
         {".endif", true},
         {".else", false},
         {".endif", true}});
    EXPECT_EQ(stack.depth(), 0u);
}

TEST_F(Stack, ElseAfterFalseElifs) {
    run({{".if 0", false}, {".elif 0", false}, {".elif 0", false}, {".else", true}});
}

TEST_F(Stack, ElifAfterTakenBranchIsNotEvaluated) {
    // HAProxy 2.6 accepts `.if 1` / `.elif foo(` / `.endif`.
    run({{".if 1", true}, {".elif foo(", false}, {".endif", true}});
}

TEST_F(Stack, ElifIsEvaluatedWhenNoBranchWasTaken) {
    // After the error the rest of the block is skipped, .else included.
    run({{".if 0", false},
         {".elif foo(", false,
          ".elif: unparsable conditional expression 'foo(' (unknown predicate 'foo')"},
         {".elif 1", false},
         {".else", false},
         {".endif", true}});
}

TEST_F(Stack, BadIfConditionStillOpensASkippedBlock) {
    run({{".if (1", false, ".if: missing ')' in condition '(1'"}});
    EXPECT_EQ(stack.depth(), 1u);
    // No "lone .endif" cascade, and no branch of the block is read.
    run({{".elif 1", false}, {".else", false}, {".endif", true}});
    EXPECT_EQ(stack.depth(), 0u);
}

TEST_F(Stack, NestedIfInSkippedBlockIsNotEvaluated) {
    // HAProxy 2.6 accepts `.if 0` / `.if foo(` / ... / `.endif` / `.endif`.
    run({{".if 0", false}, {".if foo(", false}});
    EXPECT_EQ(stack.depth(), 2u);
    run({{".elif bar(", false},
         {".else", false},  // the outer block is still skipped
         {".endif", false},
         {".else", true},
         {".endif", true}});
    EXPECT_EQ(stack.depth(), 0u);
}

TEST_F(Stack, NestedInsideActiveBlock) {
    run({{".if 1", true}, {".if 1", true}, {".else", false}, {".endif", true}, {".endif", true}});
}

TEST_F(Stack, LoneElifElseEndifAreErrors) {
    run({{".elif 1", true, "lone '.elif' with no matching '.if'"},
         {".else", true, "lone '.else' with no matching '.if'"},
         {".endif", true, "lone '.endif' with no matching '.if'"},
         {".if 0", false},
         {".endif", true},
         {".endif", true, "lone '.endif' with no matching '.if'"}});
    EXPECT_EQ(stack.depth(), 0u);
}

TEST_F(Stack, ElseTwiceIsAnError) {
    // After the error the rest of the block is skipped.
    run({{".if 0", false},
         {".else", true},
         {".else", false, "'.else' after '.else' is not permitted"},
         {".endif", true}});
}

TEST_F(Stack, ElifAfterElseIsAnError) {
    run({{".if 1", true},
         {".else", false},
         {".elif 1", false, "'.elif' after '.else' is not permitted"},
         {".endif", true}});
}

TEST_F(Stack, StructureIsCheckedInSkippedBlocks) {
    // HAProxy 2.6 reports a second .else even inside a skipped block.
    run({{".if 0", false},
         {".if 1", false},
         {".else", false},
         {".else", false, "'.else' after '.else' is not permitted"},
         {".elif 1", false, "'.elif' after '.else' is not permitted"}});
}

TEST_F(Stack, ExtraArgumentsAfterElseOrEndif) {
    // Applied anyway: one mistake, one error.
    run({{".if 0", false},
         {".else junk", true, "unexpected argument 'junk' after '.else'"},
         {".endif junk more", true, "unexpected argument 'junk' after '.endif'"}});
    EXPECT_EQ(stack.depth(), 0u);
}

TEST_F(Stack, UnknownDirective) {
    // HAProxy 2.6: directive names are case-sensitive.
    run({{".iff 1", true, "unknown directive '.iff'"},
         {".", true, "unknown directive '.'"},
         {".IF 1", true, "unknown directive '.IF'"}});
    EXPECT_EQ(stack.depth(), 0u);
}

TEST_F(Stack, UnknownDirectiveInSkippedBlockIsIgnored) {
    // HAProxy 2.6 accepts `.if 0` / `.iff 1` / `.endif`.
    run({{".if 0", false}, {".iff 1", false}, {".endif", true}});
}

TEST_F(Stack, NotADirective) {
    const std::string expected = "not a directive (directives start with '.')";
    EXPECT_EQ(error_of({"mode", "http"}), expected);
    EXPECT_EQ(error_of({}), expected);
    EXPECT_EQ(error_of({""}), expected);
}

TEST_F(Stack, MessageDirectives) {
    run({{".if 1", true}});
    EXPECT_EQ(last.level, MessageLevel::None);  // block directives carry no message
    const std::pair<std::string_view, MessageLevel> cases[] = {
        {".diag d", MessageLevel::Diag},
        {".notice d", MessageLevel::Notice},
        {".warning d", MessageLevel::Warning},
        {".alert d", MessageLevel::Alert},
    };
    for (const auto& [line, level] : cases) {
        run({{line, true}});
        EXPECT_EQ(last.level, level) << line;
        EXPECT_EQ(last.message, "d") << line;
    }
}

TEST_F(Stack, MessageWordsAreJoined) {
    // HAProxy 2.6 refuses a second word ("Use quotes if the message should contain spaces").
    run({{".notice staging build", true}});
    EXPECT_EQ(last.message, "staging build");
}

TEST_F(Stack, MessageMayBeAnEmptyWord) {
    EXPECT_EQ(error_of({".notice", ""}), "");
    run({{".notice ", true}});  // the same, split from a line
    EXPECT_EQ(last.level, MessageLevel::Notice);
    EXPECT_EQ(last.message, "");
}

TEST_F(Stack, MessageWithoutTextIsAnError) {
    run({{".notice", true, "'.notice' needs a message"},
         {".alert", true, "'.alert' needs a message"}});
}

TEST_F(Stack, MessagesInSkippedBlocksAreSilent) {
    run({{".if 0", false}, {".alert x", false}});
    EXPECT_EQ(last.level, MessageLevel::None);
    run({{".notice", false}, {".else", true}, {".warning y", true}});  // not even checked
    EXPECT_EQ(last.level, MessageLevel::Warning);
    EXPECT_EQ(last.message, "y");
}

TEST_F(Stack, UnclosedIfLeavesDepth) {
    run({{".if 1", true}, {".if 0", false}});
    EXPECT_EQ(stack.depth(), 2u);  // the caller reports a missing .endif at end of file
}

}  // namespace
}  // namespace sluice::cfg
