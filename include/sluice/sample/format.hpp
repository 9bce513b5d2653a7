// Log-format strings: literal text, `%[expr]` samples and HAProxy's log-format variables (`%ci`,
// `%ST`, `%{+Q}r`, ...), with their flags (`+Q` quote, `+X` hex, `+E` escape, `%o` applying
// flags to what follows). Compiled once when the config is read, rendered per request into a
// caller's buffer. Rules render them (`http-request set-header X %[src]`), and so do logs, each
// with its own semantics (Mode). The variables themselves, one table row each, are in
// src/sample/log_vars.cpp; they read the log::Record the stream attaches to the Context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/log/record.hpp"
#include "sluice/sample/expr.hpp"

namespace sluice::sample {

struct LogVar;  // a log-format variable (src/sample/log_vars.hpp)

// Flags of a variable or sample, as `%{+Q,+X}` sets them.
enum FormatFlag : std::uint8_t {
    kFlagQuote = 1,   // +Q: strings between double quotes
    kFlagHex = 2,     // +X: addresses, ports and some counters in uppercase hex
    kFlagEscape = 4,  // +E: '"', '\' and ']' prefixed with '\' (RFC 5424 structured data)
};

class Format {
  public:
    // How a rendering reads: rules (a missing sample renders nothing), a log line (a missing
    // sample renders "-", as HAProxy's logs do), or Sluice's JSON object (one member per
    // variable or sample; the literal text is left out).
    enum class Mode : std::uint8_t { Rule, Log, Json };

    // Errors are HAProxy's wording where it has one ("no such format variable 'xx'. ...").
    static util::Result<Format> parse(std::string_view text, Use available);
    // A format that renders `text` as it is (a `string` or `file` content beside log-format
    // headers).
    static Format literal(std::string text);
    // Appends the rendering to `out`. Variables read the log::Record attached to `ctx`; without
    // one they render "-".
    void render(Context& ctx, std::string& out, Mode mode = Mode::Rule) const;
    bool constant() const {
        return pieces_.size() <= 1 && (pieces_.empty() || (!pieces_[0].expr && !pieces_[0].var));
    }
    const std::string& text() const { return text_; }
    // The first variable that only HTTP mode fills (`r`, `ST`... as HAProxy reserves them), or
    // "" when there is none: a proxy in mode tcp refuses the format.
    std::string_view http_only_variable() const;
    // True when the format has log-format variables (not only literals and samples).
    bool has_variables() const;
    // True when the format has the variable `name` (without its %: "bi").
    bool uses_variable(std::string_view name) const;
    // What a constant() format renders.
    std::string_view constant_text() const {
        return pieces_.empty() ? std::string_view() : std::string_view(pieces_[0].literal);
    }

  private:
    friend void note_rule_format(const Format& f);
    struct Piece {
        std::string literal;
        std::optional<Expr> expr;
        const LogVar* var = nullptr;
        std::uint8_t flags = 0;
    };
    static void render_json(Context& ctx, const std::vector<Piece>& pieces, std::string& out);
    std::vector<Piece> pieces_;
    std::string text_;
};

// Variables outside logs: rules and replies (`hdr x %ci`, `lf-string "%ST"`) render them from a
// record the stream fills only when one is rendered (filling one costs): it attaches a
// LazyRecord to the Context, and Format::render asks it (an attached log::Record comes first).
class LazyRecord {
  public:
    using Fill = void (*)(void* owner, log::Record& r);
    LazyRecord(void* owner, Fill fill) : owner_(owner), fill_(fill) {}
    const log::Record& get();
    int status = -1;  // >= 0: the status of the reply being made, which %ST shows

  private:
    void* owner_;
    Fill fill_;
    std::optional<log::Record> record_;  // made on first use: most rule runs need none
};

// A format of rules or replies (not of logs) uses log-format variables: the streams then keep
// the transaction's clock and state, as they do on a logging frontend. Called by the parsers of
// such formats; cleared never (a reload may only add uses).
void note_rule_format(const Format& f);
bool rule_variables_wanted();

}  // namespace sluice::sample
