// One config line into words, as HAProxy's tokenizer does: blanks separate words, `#` starts a
// comment, single quotes are literal, double quotes allow escapes and "${VAR}" expansion,
// backslash escapes outside single quotes. Knows nothing of sections or keywords.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/util/result.hpp"

namespace sluice::cfg {

// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
EnvLookup process_env();

struct TokenizeWarning {
    std::size_t column;  // 0-based byte offset in the line
    std::string message;
};

struct Tokenized {
    std::vector<std::string> words;         // empty for a blank or comment-only line
    std::vector<TokenizeWarning> warnings;  // e.g. an unset variable expanded to empty
};

// Rules (HAProxy 2.6 configuration manual, section 2.2 and 2.3):
// - words are separated by spaces and tabs; leading/trailing blanks ignored;
// - `#` outside quotes (and not escaped) ends the line;
// - '...' is literal (no escapes, no variables); "..." allows backslash escapes and variables;
//   quotes may be glued to other text in the same word (a"b"'c' is the word abc);
//   an empty pair of quotes "" or '' is an empty word;
// - backslash escapes outside single quotes: \<space>, \#, \\, \', \", \r, \n, \t, \xHH;
//   a backslash before any other character is an error;
// - inside double quotes: "${NAME}" expands to the variable (unset: empty, with a warning),
//   "${NAME-default}" to the default when unset, "${NAME[*]}" splits the value on blanks into
//   several words; `$NAME` without braces is literal; a `${` without `}` is an error;
// - an unterminated quote is an error.
// The error message names the problem and the 1-based column, e.g.
// "unmatched double quote at column 12".
util::Result<Tokenized> tokenize_line(std::string_view line, const EnvLookup& env);

// Words joined with single spaces: the text of a free-form argument ("description a b c"),
// a condition, or a message directive.
std::string join_words(std::span<const std::string> words);

}  // namespace sluice::cfg
