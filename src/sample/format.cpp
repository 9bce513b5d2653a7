// Log-format strings (see format.hpp): parsing with HAProxy's rules and messages, and the render
// loop. What each variable renders is in log_vars.cpp.
#include "sluice/sample/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>

#include "log_vars.hpp"
#include "sluice/log/record.hpp"
#include "sluice/sample/capture.hpp"

namespace sluice::sample {

namespace {

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// `+Q,-X`, `+Q+X`: each flag set or cleared from `flags`. HAProxy ignores a flag it does not
// know and a word without its sign, and so do we.
std::uint8_t apply_flags(std::string_view args, std::uint8_t flags) {
    std::size_t i = 0;
    while (i < args.size()) {
        const char sign = args[i];
        if (sign != '+' && sign != '-') {
            ++i;
            continue;
        }
        std::size_t end = i + 1;
        while (end < args.size() && args[end] != ',' && args[end] != '+' && args[end] != '-')
            ++end;
        const std::string_view name = args.substr(i + 1, end - i - 1);
        std::uint8_t bit = 0;
        if (name == "Q") bit = kFlagQuote;
        if (name == "X") bit = kFlagHex;
        if (name == "E") bit = kFlagEscape;
        flags = sign == '+' ? static_cast<std::uint8_t>(flags | bit)
                            : static_cast<std::uint8_t>(flags & ~bit);
        i = end;
    }
    return flags;
}

std::atomic<bool> g_rule_variables{false};

}  // namespace

void note_rule_format(const Format& f) {
    if (!f.has_variables()) return;
    g_rule_variables.store(true, std::memory_order_relaxed);
    // The request line's variables read it from the transaction's captures, which keep it only
    // when something asks (HAProxy keeps it for a proxy whose formats read it).
    static constexpr std::string_view kLineVars[] = {"r", "HM", "HU", "HV", "HP", "HPO", "HQ"};
    for (const Format::Piece& p : f.pieces_)
        if (p.var && std::find(std::begin(kLineVars), std::end(kLineVars), p.var->name) !=
                         std::end(kLineVars))
            note_request_line_wanted();
}

bool rule_variables_wanted() {
    return g_rule_variables.load(std::memory_order_relaxed);
}

const log::Record& LazyRecord::get() {
    if (!record_) fill_(owner_, record_.emplace());
    if (status >= 0) record_->status = status;
    return *record_;
}

Format Format::literal(std::string text) {
    Format f;
    f.text_ = text;
    if (!text.empty()) f.pieces_.push_back({std::move(text), std::nullopt});
    return f;
}

util::Result<Format> Format::parse(std::string_view text, Use available) {
    Format f;
    f.text_ = std::string(text);
    std::string literal;
    std::uint8_t defaults = 0;  // what `%o` set for everything after it
    auto flush = [&] {
        if (!literal.empty()) f.pieces_.push_back({std::move(literal), std::nullopt});
        literal.clear();
    };
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        // No backslash escapes: HAProxy's log-format keeps them as written.
        if (c != '%') {
            literal.push_back(c);
            ++i;
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '%') {
            literal.push_back('%');
            i += 2;
            continue;
        }
        const std::size_t percent = i++;
        if (i >= text.size()) return util::error("truncated line after '%'");
        std::uint8_t flags = defaults;
        if (text[i] == '{') {
            const std::size_t close = text.find('}', i + 1);
            if (close == std::string_view::npos)
                return util::error(fmt::format("truncated line after '{}'", text.substr(i + 1)));
            flags = apply_flags(text.substr(i + 1, close - i - 1), defaults);
            i = close + 1;
            if (i >= text.size() || (text[i] != '[' && !is_alpha(text[i])))
                return util::error(
                    fmt::format("parse argument modifier without variable name near '{}'",
                                text.substr(percent, i - percent)));
        }
        if (text[i] == '[') {
            const std::size_t start = i + 1;
            auto parsed = parse_expr_prefix(text.substr(start), available);
            if (!parsed)
                return util::error(
                    fmt::format("in '%[{}': {}", text.substr(start), parsed.error()));
            const std::size_t end = start + parsed->consumed;
            if (end >= text.size() || text[end] != ']') {
                return util::error(fmt::format("missing ']' after '%[{}' (expression '{}')",
                                               text.substr(start, end - start), parsed->expr.text));
            }
            flush();
            f.pieces_.push_back({{}, std::move(parsed->expr), nullptr, flags});
            i = end + 1;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && is_alpha(text[end]))
            ++end;
        const std::string_view name = text.substr(i, end - i);
        const LogVar* var = find_log_var(name);
        if (!var)
            return util::error(
                fmt::format("no such format variable '{}'. If you wanted to emit the '%' "
                            "character verbatim, you need to use '%%'",
                            name));
        i = end;
        if (!var->get) {  // %o
            defaults = flags;
            continue;
        }
        flush();
        f.pieces_.push_back({{}, std::nullopt, var, flags});
    }
    flush();
    return f;
}

std::string_view Format::http_only_variable() const {
    for (const Piece& p : pieces_)
        if (p.var && p.var->http_only) return p.var->name;
    return {};
}

bool Format::has_variables() const {
    for (const Piece& p : pieces_)
        if (p.var) return true;
    return false;
}

bool Format::uses_variable(std::string_view name) const {
    for (const Piece& p : pieces_)
        if (p.var && p.var->name == name) return true;
    return false;
}

// In a log line HAProxy treats spaces as separators: a run of them is written once, and none
// at the start of the line or right after another one, even when a variable that wrote nothing
// (`%hr` without captures) stands between them.
static void write_log_literal(std::string_view text, bool& after_space, std::string& out) {
    for (char c : text) {
        if (c == ' ') {
            if (!after_space) out.push_back(' ');
            after_space = true;
        } else {
            out.push_back(c);
            after_space = false;
        }
    }
}

// The record variables read: the one attached, else a lazy one's (filled on first use).
static const log::Record* record_of(Context& ctx) {
    if (const log::Record* rec = ctx.find<log::Record>()) return rec;
    if (LazyRecord* lazy = ctx.find<LazyRecord>()) return &lazy->get();
    return nullptr;
}

void Format::render(Context& ctx, std::string& out, Mode mode) const {
    if (mode == Mode::Json) return render_json(ctx, pieces_, out);
    const log::Record* rec = nullptr;
    bool rec_sought = false;
    bool after_space = true;
    for (const Piece& p : pieces_) {
        const std::size_t before = out.size();
        if (!p.var && !p.expr) {
            if (mode == Mode::Log)
                write_log_literal(p.literal, after_space, out);
            else
                out += p.literal;
            continue;
        }
        if (p.var) {
            if (!rec_sought) {
                rec = record_of(ctx);
                rec_sought = true;
            }
            if (!rec) {
                write_log_text({}, p.flags, true, out);
            } else {
                LogValue v;
                p.var->get(*rec, v);
                write_log_value(v, *p.var, p.flags, out);
            }
        } else {
            Sample s;
            if (p.expr->eval(ctx, s) && cast(s, Type::Str, ctx.arena()))
                write_log_text(s.str, p.flags, mode == Mode::Log, out);
            else
                write_log_text({}, p.flags, mode == Mode::Log, out);
        }
        if (out.size() != before) after_space = false;
    }
}

void Format::render_json(Context& ctx, const std::vector<Piece>& pieces, std::string& out) {
    const log::Record* rec = record_of(ctx);
    out.push_back('{');
    bool first = true;
    for (const Piece& p : pieces) {
        if (!p.var && !p.expr) continue;
        if (!first) out.push_back(',');
        first = false;
        write_json_string(p.var ? p.var->name : std::string_view(p.expr->text), out);
        out.push_back(':');
        if (p.var) {
            if (!rec) {
                out += "null";
                continue;
            }
            LogValue v;
            p.var->get(*rec, v);
            write_json_value(v, out);
            continue;
        }
        Sample s;
        if (!p.expr->eval(ctx, s)) {
            out += "null";
        } else if (s.type == Type::Sint) {
            fmt::format_to(std::back_inserter(out), "{}", s.sint);
        } else if (s.type == Type::Bool) {
            out += s.sint ? "true" : "false";
        } else if (cast(s, Type::Str, ctx.arena())) {
            write_json_string(s.str, out);
        } else {
            out += "null";
        }
    }
    out.push_back('}');
}

}  // namespace sluice::sample
