// Conditional blocks: `.if/.elif/.else/.endif` and the `.diag/.notice/.warning/.alert` messages,
// with HAProxy 2.6's condition language. Used by the config reader and by `sluice -cc EXPR`.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/tokenizer.hpp"
#include "sluice/util/result.hpp"

namespace sluice::cfg {

struct ConditionEnv {
    EnvLookup env;                                      // for defined(NAME)
    std::function<bool(std::string_view)> has_feature;  // for feature(NAME): -vv list
    std::string_view version;                           // e.g. "2.6.12" for version_*()
};

// Evaluates a condition given as the words after `.if`/`.elif` (already tokenized, so variables
// are expanded). Grammar as HAProxy 2.6's manual, section 2.4: a term is empty/"0" (false),
// a non-zero number (true), or a predicate: defined(NAME), feature(NAME), streq(A,B),
// strneq(A,B), version_atleast(V), version_before(V); `!` negates a term; `&&` and `||`
// combine (&& binds tighter); parentheses group. Words are joined with a space before parsing.
// An unknown predicate, a wrong argument count or unbalanced parentheses is an error whose
// message quotes the offending text.
util::Result<bool> evaluate_condition(std::span<const std::string> words, const ConditionEnv& env);

// Compares dotted versions numerically ("2.6.12" vs "2.10"); a missing part counts as 0 and
// anything after the numeric parts (like "-dev3") is ignored.
int compare_versions(std::string_view a, std::string_view b);

// What a directive line asks the reader to do with its message, if any.
enum class MessageLevel { None, Diag, Notice, Warning, Alert };

struct DirectiveOutcome {
    MessageLevel level = MessageLevel::None;  // set for an active .diag/.notice/.warning/.alert
    std::string message;                      // its text (words after the directive, joined)
};

// Tracks nesting of conditional blocks while lines are read in order.
class ConditionalStack {
  public:
    // Applies a directive line. Errors: .elif/.else/.endif without .if, .elif after .else,
    // a condition that does not evaluate, an unknown directive such as ".iff", a message
    // directive without text. Conditions inside a skipped block are not evaluated (they may be
    // invalid there, as in HAProxy), but nesting is still tracked.
    util::Result<DirectiveOutcome> apply(std::span<const std::string> words,
                                         const ConditionEnv& env);

    // Whether ordinary lines are currently read (false inside a false branch).
    bool active() const;
    // Depth of open .if blocks; non-zero at end of file is an error for the caller to report.
    std::size_t depth() const { return frames_.size(); }

  private:
    struct Frame {
        bool parent_active;  // whether the block around this .if is read at all
        bool taken;          // some branch of this .if was already true
        bool current;        // the branch being read now is true
        bool seen_else;
    };
    std::vector<Frame> frames_;
};

}  // namespace sluice::cfg
