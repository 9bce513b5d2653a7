// The condition language of `.if`/`.elif` and `-cc`, and the nesting of conditional blocks.
// Tokenizing the line is the tokenizer's job; reporting messages with file:line is the reader's.
// Behaviour was checked against the haproxy 2.6.12 binary (`haproxy -cc`, `haproxy -c`).
#include "sluice/cfg/conditions.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "sluice/util/suggest.hpp"

namespace sluice::cfg {
namespace {

// Deep enough for any real condition, shallow enough that "((((..." cannot exhaust the stack.
constexpr std::size_t kMaxNesting = 100;

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
    return is_ident_start(c) || is_digit(c);
}

using Args = std::span<const std::string>;

bool pred_defined(Args a, const ConditionEnv& env) {
    return env.env && env.env(a[0]).has_value();
}
// HAProxy 2.6 answers true for `feature()`, an artefact of its substring search; here the
// callback decides, and the -vv list has no empty name.
bool pred_feature(Args a, const ConditionEnv& env) {
    return env.has_feature && env.has_feature(a[0]);
}
bool pred_streq(Args a, const ConditionEnv&) {
    return a[0] == a[1];
}
bool pred_strneq(Args a, const ConditionEnv&) {
    return a[0] != a[1];
}
bool pred_version_atleast(Args a, const ConditionEnv& env) {
    return compare_versions(env.version, a[0]) >= 0;
}
bool pred_version_before(Args a, const ConditionEnv& env) {
    return compare_versions(env.version, a[0]) < 0;
}

struct PredicateDef {
    std::string_view name;
    std::size_t arity;
    bool (*eval)(Args, const ConditionEnv&);
};

// Names are case-sensitive, as in HAProxy ("STREQ(a,a)" is an error there).
constexpr PredicateDef kPredicates[] = {
    {"defined", 1, pred_defined},
    {"feature", 1, pred_feature},
    {"streq", 2, pred_streq},
    {"strneq", 2, pred_strneq},
    {"version_atleast", 1, pred_version_atleast},
    {"version_before", 1, pred_version_before},
};

constexpr auto kPredicateNames = [] {
    std::array<std::string_view, std::size(kPredicates)> names{};
    for (std::size_t i = 0; i < names.size(); ++i)
        names[i] = kPredicates[i].name;
    return names;
}();

// Recursive descent over the joined condition text; evaluates as it parses. Every term is
// parsed even where `&&`/`||` would short-circuit, so that a typo is reported whatever the
// values (HAProxy 2.6 also rejects "1 || foo(a)"); predicates have no side effects.
class Parser {
  public:
    Parser(std::string_view text, const ConditionEnv& env) : text_(text), env_(env) {}

    util::Result<bool> run() {
        bool value = false;
        if (expr(value)) {
            skip_blanks();
            if (pos_ >= text_.size()) return value;
            fail(fmt::format("unexpected character '{}' at position {}", text_[pos_], pos_ + 1));
        }
        return util::error(std::move(error_));
    }

  private:
    bool expr(bool& out) {
        if (!enter()) return false;
        bool value = false;
        if (!and_expr(value)) return false;
        for (;;) {
            skip_blanks();
            if (!consume("||")) break;
            bool rhs = false;
            if (!and_expr(rhs)) return false;
            value = value || rhs;
        }
        --depth_;
        out = value;
        return true;
    }

    bool and_expr(bool& out) {
        bool value = false;
        if (!term(value)) return false;
        for (;;) {
            skip_blanks();
            if (!consume("&&")) break;
            bool rhs = false;
            if (!term(rhs)) return false;
            value = value && rhs;
        }
        out = value;
        return true;
    }

    bool term(bool& out) {
        skip_blanks();
        const char c = pos_ < text_.size() ? text_[pos_] : '\0';
        if (c == '!') {
            ++pos_;
            if (!enter()) return false;
            bool value = false;
            if (!term(value)) return false;
            --depth_;
            out = !value;
            return true;
        }
        if (c == '(') {
            ++pos_;
            if (!expr(out)) return false;
            skip_blanks();
            if (!consume(")")) return fail("missing ')'");
            return true;
        }
        const char after = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
        if (is_digit(c) || ((c == '+' || c == '-') && is_digit(after))) {
            out = number();
            return true;
        }
        if (is_ident_start(c)) return predicate(out);
        if (pos_ >= text_.size())
            return fail("unexpected end (expected a number, a predicate, '!' or '(')");
        return fail_term(pos_, "expected a number, a predicate, '!' or '('");
    }

    // HAProxy 2.6 reads numbers as C's strtol(…, 0) does: "0x1f" is hex, "017" octal, and an
    // overflow saturates to a non-zero value. Only zero-ness matters, so no value is built:
    // the number is true when any of its digits is non-zero. The parse stops at the first
    // character that is not a digit of the base ("08" leaves "8" for the caller to reject).
    bool number() {
        if (text_[pos_] == '+' || text_[pos_] == '-') ++pos_;
        int base = 10;
        if (text_[pos_] == '0') {
            const char x = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
            const char h = pos_ + 2 < text_.size() ? text_[pos_ + 2] : '\0';
            if ((x == 'x' || x == 'X') && is_hex(h)) {
                base = 16;
                pos_ += 2;
            } else {
                base = 8;
            }
        }
        bool non_zero = false;
        while (pos_ < text_.size() && is_digit_of(text_[pos_], base)) {
            non_zero = non_zero || text_[pos_] != '0';
            ++pos_;
        }
        return non_zero;
    }

    bool predicate(bool& out) {
        const std::size_t start = pos_;
        while (pos_ < text_.size() && is_ident_char(text_[pos_]))
            ++pos_;
        const std::string_view name = text_.substr(start, pos_ - start);
        const PredicateDef* def = nullptr;
        for (const PredicateDef& p : kPredicates)
            if (p.name == name) def = &p;
        if (!def)
            return fail_term(start, fmt::format("unknown predicate '{}'{}", name,
                                                util::did_you_mean(name, kPredicateNames)));
        std::vector<std::string> args;
        if (pos_ < text_.size() && text_[pos_] == '(') {
            ++pos_;
            if (!arguments(name, args)) return false;
        } else {
            // HAProxy 2.6 reads a bare `defined` as `defined()`: one empty argument.
            args.emplace_back();
        }
        if (args.size() != def->arity)
            return fail(fmt::format("predicate '{}' takes {} argument{} but got {}", name,
                                    def->arity, def->arity == 1 ? "" : "s", args.size()));
        out = def->eval(args, env_);
        return true;
    }

    // After the '(' of a predicate, up to and including its ')'. Arguments are split on commas
    // and may be quoted again, like HAProxy's second-level argument parser: "..." and '...'
    // protect commas and parentheses, and backslash escapes work outside single quotes (the
    // \x, \# and \$ escapes are top-level only). Blanks are part of the argument.
    bool arguments(std::string_view name, std::vector<std::string>& args) {
        std::string cur;
        char quote = 0;
        for (;;) {
            if (pos_ >= text_.size()) {
                if (quote)
                    return fail(fmt::format("unmatched quote in the arguments of '{}'", name));
                return fail(fmt::format("missing ')' after the arguments of '{}'", name));
            }
            const char c = text_[pos_++];
            if (quote == '\'') {
                if (c == '\'')
                    quote = 0;
                else
                    cur += c;
                continue;
            }
            if (c == '\\' && pos_ < text_.size()) {
                if (const auto e = unescape(text_[pos_])) {
                    cur += *e;
                    ++pos_;
                    continue;
                }
            }
            if (quote == '"') {
                if (c == '"')
                    quote = 0;
                else
                    cur += c;
                continue;
            }
            if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == ',') {
                args.push_back(std::move(cur));
                cur.clear();
            } else if (c == ')') {
                args.push_back(std::move(cur));
                return true;
            } else {
                cur += c;
            }
        }
    }

    // What a backslash followed by `c` stands for, or nothing when that is not an escape (the
    // backslash then stays, as at top level).
    static std::optional<char> unescape(char c) {
        switch (c) {
            case ' ':
            case '\\':
            case '\'':
            case '"':
                return c;
            case 'r':
                return '\r';
            case 'n':
                return '\n';
            case 't':
                return '\t';
            default:
                return std::nullopt;
        }
    }

    static bool is_hex(char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    static bool is_digit_of(char c, int base) {
        if (base == 8) return c >= '0' && c <= '7';
        if (base == 16) return is_hex(c);
        return is_digit(c);
    }

    void skip_blanks() {
        while (pos_ < text_.size() && is_blank(text_[pos_]))
            ++pos_;
    }
    bool consume(std::string_view token) {
        if (text_.substr(pos_, token.size()) != token) return false;
        pos_ += token.size();
        return true;
    }
    bool enter() {
        if (++depth_ <= kMaxNesting) return true;
        return fail("too many nested '(' or '!'");
    }
    // Every message quotes the whole condition.
    bool fail(std::string_view what) {
        error_ = fmt::format("{} in condition '{}'", what, text_);
        return false;
    }
    // A term that is not one: worded as HAProxy 2.6 does ("unparsable conditional expression"
    // quoting the text from that term on), since scripts and tests match on it. At the start,
    // that text already is the whole condition.
    bool fail_term(std::size_t at, std::string_view why) {
        std::string what =
            fmt::format("unparsable conditional expression '{}' ({})", text_.substr(at), why);
        if (at > 0) return fail(what);
        error_ = std::move(what);
        return false;
    }

    std::string_view text_;
    const ConditionEnv& env_;
    std::size_t pos_ = 0;
    std::size_t depth_ = 0;
    std::string error_;
};

struct VersionParts {
    std::array<std::uint64_t, 8> part{};
    std::size_t count = 0;
};

// Leading "N(.N)*"; a part too large saturates, a part beyond the 8th is ignored.
VersionParts split_version(std::string_view v) {
    VersionParts out;
    std::size_t i = 0;
    while (i < v.size() && is_digit(v[i])) {
        std::uint64_t n = 0;
        for (; i < v.size() && is_digit(v[i]); ++i) {
            const auto d = static_cast<std::uint64_t>(v[i] - '0');
            n = n > (std::numeric_limits<std::uint64_t>::max() - d) / 10
                    ? std::numeric_limits<std::uint64_t>::max()
                    : n * 10 + d;
        }
        if (out.count < out.part.size()) out.part[out.count++] = n;
        if (i + 1 < v.size() && v[i] == '.' && is_digit(v[i + 1]))
            ++i;
        else
            break;
    }
    return out;
}

struct MessageDirective {
    std::string_view name;
    MessageLevel level;
};
constexpr MessageDirective kMessageDirectives[] = {
    {".diag", MessageLevel::Diag},
    {".notice", MessageLevel::Notice},
    {".warning", MessageLevel::Warning},
    {".alert", MessageLevel::Alert},
};

}  // namespace

util::Result<bool> evaluate_condition(std::span<const std::string> words, const ConditionEnv& env) {
    const std::string text = join_words(words);
    // HAProxy 2.6 treats "" as false but rejects " " (two empty words joined); an expression
    // of blanks only is false here, as nothing more likely was meant.
    bool blank = true;
    for (char c : text)
        blank = blank && is_blank(c);
    if (blank) return false;
    return Parser(text, env).run();
}

int compare_versions(std::string_view a, std::string_view b) {
    const VersionParts pa = split_version(a);
    const VersionParts pb = split_version(b);
    for (std::size_t i = 0; i < pa.part.size(); ++i) {
        if (pa.part[i] != pb.part[i]) return pa.part[i] < pb.part[i] ? -1 : 1;
    }
    return 0;
}

bool ConditionalStack::active() const {
    return frames_.empty() || (frames_.back().parent_active && frames_.back().current);
}

// One mistake, one error: a failed directive leaves the stack in the state the rest of the
// block most likely wants (a `.if` whose condition fails still opens a block, skipped whole),
// so the caller can go on reading without a cascade of "lone .endif" errors.
util::Result<DirectiveOutcome> ConditionalStack::apply(std::span<const std::string> words,
                                                       const ConditionEnv& env) {
    if (words.empty() || words[0].empty() || words[0][0] != '.')
        return util::error("not a directive (directives start with '.')");
    const std::string& name = words[0];
    const std::span<const std::string> rest = words.subspan(1);

    if (name == ".if") {
        if (!active()) {
            // Not evaluated: in a skipped block the condition may be meant for another version.
            frames_.push_back(
                {.parent_active = false, .taken = true, .current = false, .seen_else = false});
            return DirectiveOutcome{};
        }
        auto value = evaluate_condition(rest, env);
        const bool v = value.ok() && *value;
        frames_.push_back(
            {.parent_active = true, .taken = !value.ok() || v, .current = v, .seen_else = false});
        if (!value.ok()) return util::error(fmt::format(".if: {}", value.error()));
        return DirectiveOutcome{};
    }

    if (name == ".elif" || name == ".else" || name == ".endif") {
        // Worded as HAProxy 2.6 words them, for scripts that match on the text.
        if (frames_.empty())
            return util::error(fmt::format("lone '{}' with no matching '.if'", name));
        Frame& f = frames_.back();
        if (name == ".endif") {
            frames_.pop_back();
            if (!rest.empty())
                return util::error(fmt::format("unexpected argument '{}' after '.endif'", rest[0]));
            return DirectiveOutcome{};
        }
        if (f.seen_else) {
            f.current = false;
            return util::error(fmt::format("'{}' after '.else' is not permitted", name));
        }
        if (name == ".else") {
            f.seen_else = true;
            f.current = !f.taken;
            f.taken = true;
            if (!rest.empty())
                return util::error(fmt::format("unexpected argument '{}' after '.else'", rest[0]));
            return DirectiveOutcome{};
        }
        // .elif: evaluated only when no earlier branch was taken (HAProxy 2.6 does not
        // evaluate "foo(" after a true `.if`).
        if (!f.parent_active || f.taken) {
            f.current = false;
            return DirectiveOutcome{};
        }
        auto value = evaluate_condition(rest, env);
        f.current = value.ok() && *value;
        f.taken = !value.ok() || f.current;
        if (!value.ok()) return util::error(fmt::format(".elif: {}", value.error()));
        return DirectiveOutcome{};
    }

    for (const MessageDirective& m : kMessageDirectives) {
        if (name != m.name) continue;
        if (!active()) return DirectiveOutcome{};
        if (rest.empty()) return util::error(fmt::format("'{}' needs a message", name));
        // HAProxy 2.6 wants one (quoted) word; joining the words accepts more, refuses nothing.
        return DirectiveOutcome{.level = m.level, .message = join_words(rest)};
    }

    // HAProxy 2.6 ignores unknown directives in skipped blocks, like any other skipped line.
    if (!active()) return DirectiveOutcome{};
    return util::error(fmt::format("unknown directive '{}'", name));
}

}  // namespace sluice::cfg
