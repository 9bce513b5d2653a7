// Log-format strings for rules (see format.hpp).
#include "sluice/sample/format.hpp"

#include <fmt/format.h>

namespace sluice::sample {

util::Result<Format> Format::parse(std::string_view text, Use available) {
    Format f;
    f.text_ = std::string(text);
    std::string literal;
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
        if (i + 1 < text.size() && text[i + 1] == '[') {
            const std::size_t start = i + 2;
            auto parsed = parse_expr_prefix(text.substr(start), available);
            if (!parsed)
                return util::error(
                    fmt::format("in '%[{}': {}", text.substr(start), parsed.error()));
            const std::size_t end = start + parsed->consumed;
            if (end >= text.size() || text[end] != ']') {
                return util::error(fmt::format("missing ']' after '%[{}' (expression '{}')",
                                               text.substr(start, end - start), parsed->expr.text));
            }
            if (!literal.empty()) f.pieces_.push_back({std::move(literal), std::nullopt});
            literal.clear();
            f.pieces_.push_back({{}, std::move(parsed->expr)});
            i = end + 1;
            continue;
        }
        return util::error(fmt::format(
            "'{}': log-format variables other than %[expr] come with logging (issue #8)",
            text.substr(i, std::min<std::size_t>(4, text.size() - i))));
    }
    if (!literal.empty()) f.pieces_.push_back({std::move(literal), std::nullopt});
    return f;
}

void Format::render(Context& ctx, std::string& out) const {
    for (const Piece& p : pieces_) {
        if (!p.expr) {
            out += p.literal;
            continue;
        }
        Sample s;
        if (p.expr->eval(ctx, s) && cast(s, Type::Str, ctx.arena())) out += s.str;
    }
}

}  // namespace sluice::sample
