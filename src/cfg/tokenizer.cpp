// The config line tokenizer: bytes of one line into words, with quotes, escapes and ${VAR}
// expansion. Sections, keywords and .if blocks are the reader's; this file only cuts words.
//
// Where the header's summary and HAProxy 2.6 differ, we follow what the haproxy 2.6.12 binary
// does, so that a config it accepts reads the same here:
// - a backslash before a character that is not an escape stays in the word ("\." in an
//   unquoted regex is common), and outside quotes `\$` and `\<tab>` are not escapes either;
// - "$NAME" without braces expands too (the manual's own example is `user "$HAPROXY_USER"`);
// - a `$` inside double quotes that does not start a name is an error.
// We go beyond 2.6 where it only adds: "${NAME-default}" (documented, but 2.6.12 rejects it),
// a warning for an unset variable, and no empty words from the blanks around a [*] value.
#include "sluice/cfg/tokenizer.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string>

namespace sluice::cfg {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}
bool is_space(char c) {
    return is_blank(c) || c == '\n' || c == '\r';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_name_char(char c) {
    return is_alpha(c) || is_digit(c) || c == '_';
}

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Columns in messages are 1-based, like an editor's.
util::Error error_at(std::string_view what, std::size_t offset, std::string_view hint = {}) {
    return util::error(fmt::format("{} at column {}{}", what, offset + 1, hint));
}

class Tokenizer {
  public:
    Tokenizer(std::string_view line, const EnvLookup& env) : line_(line), env_(env) {}

    util::Result<Tokenized> run();

  private:
    enum class Quote { None, Single, Double };

    // Returns false after setting error_.
    bool step_unquoted();
    bool step_single();
    bool step_double();
    bool escape(Quote quote);
    bool expand_variable();
    void append_split(std::string_view value);

    void append(char c) {
        word_ += c;
        has_word_ = true;
    }
    void end_word() {
        if (has_word_) out_.words.push_back(std::move(word_));
        word_.clear();
        has_word_ = false;
    }
    bool fail(std::string_view what, std::size_t offset, std::string_view hint = {}) {
        error_ = error_at(what, offset, hint);
        return false;
    }
    bool at_end() const { return pos_ >= line_.size() || stop_; }

    std::string_view line_;
    const EnvLookup& env_;
    std::size_t pos_ = 0;
    bool stop_ = false;  // a comment or an end-of-line character was reached
    Quote quote_ = Quote::None;
    std::size_t quote_start_ = 0;
    std::string word_;
    // Whether the current word exists even when empty: `""` is a word, nothing is not.
    bool has_word_ = false;
    Tokenized out_;
    util::Error error_;
};

util::Result<Tokenized> Tokenizer::run() {
    while (!at_end()) {
        bool ok = true;
        switch (quote_) {
            case Quote::None:
                ok = step_unquoted();
                break;
            case Quote::Single:
                ok = step_single();
                break;
            case Quote::Double:
                ok = step_double();
                break;
        }
        if (!ok) return error_;
    }
    if (quote_ != Quote::None)
        return error_at(
            quote_ == Quote::Single ? "unmatched single quote" : "unmatched double quote",
            quote_start_);
    end_word();
    return std::move(out_);
}

bool Tokenizer::step_unquoted() {
    const char c = line_[pos_];
    if (c == '\0') return fail("NUL character", pos_);
    // A CR ends the line as in HAProxy, so CRLF files read like LF files.
    if (c == '#' || c == '\n' || c == '\r') {
        stop_ = true;
        return true;
    }
    if (is_blank(c)) {
        end_word();
        ++pos_;
        return true;
    }
    if (c == '\\') return escape(Quote::None);
    if (c == '\'' || c == '"') {
        quote_ = c == '\'' ? Quote::Single : Quote::Double;
        quote_start_ = pos_++;
        has_word_ = true;
        return true;
    }
    append(c);
    ++pos_;
    return true;
}

bool Tokenizer::step_single() {
    const char c = line_[pos_];
    if (c == '\0') return fail("NUL character", pos_);
    if (c == '\n' || c == '\r') {
        stop_ = true;
        return true;
    }
    if (c == '\'')
        quote_ = Quote::None;
    else
        append(c);
    ++pos_;
    return true;
}

bool Tokenizer::step_double() {
    const char c = line_[pos_];
    if (c == '\0') return fail("NUL character", pos_);
    if (c == '\n' || c == '\r') {
        stop_ = true;
        return true;
    }
    if (c == '\\') return escape(Quote::Double);
    if (c == '$') return expand_variable();
    if (c == '"')
        quote_ = Quote::None;
    else
        append(c);
    ++pos_;
    return true;
}

// At a backslash outside single quotes.
bool Tokenizer::escape(Quote quote) {
    const std::size_t start = pos_;
    const char next = pos_ + 1 < line_.size() ? line_[pos_ + 1] : '\0';
    char emitted = 0;
    std::size_t consumed = 2;
    switch (next) {
        case ' ':
        case '#':
        case '\\':
        case '\'':
        case '"':
            emitted = next;
            break;
        case 'r':
            emitted = '\r';
            break;
        case 'n':
            emitted = '\n';
            break;
        case 't':
            emitted = '\t';
            break;
        case '$':
            // HAProxy 2.6: "\$" is an escape inside double quotes only; unquoted, both stay.
            if (quote != Quote::Double) {
                append('\\');
                pos_ += 1;
                return true;
            }
            emitted = '$';
            break;
        case 'x': {
            const int hi = pos_ + 2 < line_.size() ? hex_value(line_[pos_ + 2]) : -1;
            const int lo = pos_ + 3 < line_.size() ? hex_value(line_[pos_ + 3]) : -1;
            if (hi < 0 || lo < 0) return fail("truncated or invalid \\x escape", start);
            emitted = static_cast<char>(hi * 16 + lo);
            // HAProxy's C strings end at a NUL and silently drop the rest of the word; we
            // refuse it rather than carry a NUL into file names and header values.
            if (emitted == '\0') return fail("NUL character (\\x00)", start);
            consumed = 4;
            break;
        }
        default:
            // Not an escape: HAProxy 2.6 keeps the backslash ("\." in regexes relies on it),
            // and the next character is read normally (a trailing backslash stays too).
            append('\\');
            pos_ += 1;
            return true;
    }
    append(emitted);
    pos_ += consumed;
    return true;
}

// At a `$` inside double quotes: "$NAME", "${NAME}", "${NAME[*]}", "${NAME-default}",
// "${NAME[*]-default}". A name is a letter or `_` then letters, digits and `_`; a leading `.`
// names a pseudo-variable (.FILE, .LINE, .SECTION) that the lookup may provide.
bool Tokenizer::expand_variable() {
    const std::size_t dollar = pos_;
    std::size_t i = pos_ + 1;
    const bool braced = i < line_.size() && line_[i] == '{';
    const std::size_t brace = i;
    if (braced) ++i;
    const std::size_t name_start = i;
    if (i >= line_.size() || !(is_alpha(line_[i]) || line_[i] == '_' || line_[i] == '.'))
        return fail("invalid first character in variable name", i,
                    " (write \\$ for a literal dollar sign)");
    ++i;
    while (i < line_.size() && is_name_char(line_[i]))
        ++i;
    const std::string_view name = line_.substr(name_start, i - name_start);

    bool split = false;
    bool has_default = false;
    std::string_view default_value;
    if (braced) {
        if (i < line_.size() && line_[i] == '[') {
            if (line_.substr(i, 3) != "[*]")
                return fail("invalid word expansion (only [*] is supported)", i);
            split = true;
            i += 3;
        }
        if (i < line_.size() && line_[i] == '-') {
            // The default is raw text up to the brace: no quotes, escapes or variables in it.
            const std::size_t close = line_.find('}', i + 1);
            if (close == std::string_view::npos) return fail("unmatched brace in variable", brace);
            has_default = true;
            default_value = line_.substr(i + 1, close - i - 1);
            i = close;
        }
        if (i >= line_.size() || line_[i] != '}') return fail("unmatched brace in variable", brace);
        ++i;
    }
    pos_ = i;

    std::optional<std::string> value = env_ ? env_(name) : std::nullopt;
    if (!value) {
        if (has_default) {
            value = std::string(default_value);
        } else {
            // HAProxy 2.6 is silent here; a typo in a name deserves a hint.
            out_.warnings.push_back(
                {dollar,
                 fmt::format("environment variable '{}' is not set, using an empty string", name)});
            value.emplace();
        }
    }
    if (split)
        append_split(*value);
    else
        for (char c : *value)
            append(c);
    return true;
}

// "${NAME[*]}": the value's blank-separated fields become words. Blanks at either end of the
// value still separate it from text glued to the variable ("x${L[*]}" with L=" a" gives "x" and
// "a", as HAProxy 2.6), but never make an empty word of their own: HAProxy would emit one, and
// its keyword parsers read an empty word as the end of the line, while ours would see a word.
void Tokenizer::append_split(std::string_view value) {
    // Only the expansion decides whether a word that is still empty exists.
    if (word_.empty()) has_word_ = false;
    bool pending_break = false;
    for (char c : value) {
        if (is_space(c)) {
            pending_break = true;
            continue;
        }
        if (pending_break) end_word();
        pending_break = false;
        append(c);
    }
    if (pending_break) end_word();
}

}  // namespace

EnvLookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        if (name.find('\0') != std::string_view::npos) return std::nullopt;
        const char* value = std::getenv(std::string(name).c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

util::Result<Tokenized> tokenize_line(std::string_view line, const EnvLookup& env) {
    return Tokenizer(line, env).run();
}

std::string join_words(std::span<const std::string> words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i) out += ' ';
        out += words[i];
    }
    return out;
}

}  // namespace sluice::cfg
