// Sample expressions: parsing and evaluation (see expr.hpp).
#include "sluice/sample/expr.hpp"

#include <fmt/format.h>

#include <charconv>

namespace sluice::sample {
namespace {

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

std::string_view use_text(Use u) {
    switch (u) {
        case Use::Req:
            return "request contents";
        case Use::Res:
            return "response contents";
        case Use::Conn:
            return "connection information";
        default:
            return "information";
    }
}

// The name and, if any, the parenthesized arguments at the start of `text`.
struct Call {
    std::string_view name;
    std::vector<std::string> args;
    std::size_t consumed = 0;
};

util::Result<Call> read_call(std::string_view text) {
    Call c;
    std::size_t i = 0;
    while (i < text.size() && name_char(text[i]))
        ++i;
    if (i == 0) {
        if (text.empty()) return util::error("missing fetch method");
        return util::error(fmt::format("unexpected character '{}'", text[0]));
    }
    c.name = text.substr(0, i);
    if (i < text.size() && text[i] == '(') {
        // Find the closing parenthesis, minding quotes, escapes and nesting.
        std::size_t depth = 1, j = i + 1;
        char quote = 0;
        for (; j < text.size(); ++j) {
            const char ch = text[j];
            if (ch == '\\') {
                ++j;
                continue;
            }
            if (quote) {
                if (ch == quote) quote = 0;
                continue;
            }
            if (ch == '"' || ch == '\'') {
                quote = ch;
            } else if (ch == '(') {
                ++depth;
            } else if (ch == ')' && --depth == 0) {
                break;
            }
        }
        if (j >= text.size())
            return util::error(fmt::format("missing closing ')' after arguments to '{}'", c.name));
        auto args = split_args(text.substr(i + 1, j - i - 1));
        if (!args)
            return util::error(fmt::format("in arguments to '{}': {}", c.name, args.error()));
        c.args = std::move(*args);
        i = j + 1;
    }
    c.consumed = i;
    return c;
}

}  // namespace

util::Result<std::vector<std::string>> split_args(std::string_view text) {
    std::vector<std::string> out;
    if (text.empty()) return out;
    std::string cur;
    char quote = 0;
    int depth = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        // A backslash escapes outside quotes and inside double quotes; single quotes keep
        // everything as written (so `regsub(a,'\1')` keeps its back-reference).
        if (ch == '\\' && i + 1 < text.size() && quote != '\'') {
            cur.push_back(text[++i]);
            continue;
        }
        if (quote) {
            if (ch == quote)
                quote = 0;
            else
                cur.push_back(ch);
            continue;
        }
        if (ch == '"' || ch == '\'') {
            quote = ch;
        } else if (ch == ',' && depth == 0) {
            out.push_back(std::move(cur));
            cur.clear();
        } else {
            if (ch == '(') ++depth;
            if (ch == ')') --depth;
            cur.push_back(ch);
        }
    }
    if (quote) return util::error("unterminated quote");
    out.push_back(std::move(cur));
    return out;
}

util::Result<Args> make_args(std::vector<std::string> words, const ArgSpec& spec, PrepareFn prepare,
                             std::string_view callee) {
    if (words.size() < spec.min) {
        return util::error(fmt::format("'{}' expects at least {} argument(s), got {}", callee,
                                       spec.min, words.size()));
    }
    if (words.size() > spec.max) {
        if (spec.max == 0) return util::error(fmt::format("'{}' takes no argument", callee));
        return util::error(fmt::format("'{}' expects at most {} argument(s), got {}", callee,
                                       spec.max, words.size()));
    }
    Args args;
    for (std::size_t i = 0; i < words.size(); ++i) {
        Arg a{.text = std::move(words[i])};
        if (spec.kinds[i] == ArgKind::Sint) {
            const char* first = a.text.data();
            const char* last = first + a.text.size();
            if (first < last && *first == '+') ++first;
            const auto [end, ec] = std::from_chars(first, last, a.sint);
            if (ec != std::errc() || end != last || first == last) {
                return util::error(fmt::format("'{}': argument {} must be an integer, not '{}'",
                                               callee, i + 1, a.text));
            }
        }
        args.list.push_back(std::move(a));
    }
    if (prepare) {
        auto st = prepare(args);
        if (!st) return util::error(fmt::format("'{}': {}", callee, st.error()));
    }
    return args;
}

util::Result<ParsedExpr> parse_expr_prefix(std::string_view text, Use available) {
    auto call = read_call(text);
    if (!call) return util::error(call.error());
    const Fetch* fetch = find_fetch(call->name);
    if (!fetch) {
        const std::string near = nearest_fetch(call->name);
        return util::error(
            fmt::format("unknown fetch method '{}'{}", call->name,
                        near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
    }
    if (!covers(available, fetch->use)) {
        return util::error(fmt::format(
            "fetch method '{}' extracts information from {}, none of which is available here",
            fetch->name, use_text(fetch->use)));
    }
    ParsedExpr p;
    p.expr.fetch = fetch;
    auto args = make_args(std::move(call->args), fetch->args, fetch->prepare, fetch->name);
    if (!args) return util::error(args.error());
    p.expr.fetch_args = std::move(*args);
    std::size_t at = call->consumed;
    Type type = fetch->out;
    while (at < text.size() && text[at] == ',') {
        auto conv_call = read_call(text.substr(at + 1));
        if (!conv_call)
            return util::error(
                fmt::format("after '{}': {}", text.substr(0, at), conv_call.error()));
        const Converter* conv = find_converter(conv_call->name);
        if (!conv) {
            const std::string near = nearest_converter(conv_call->name);
            return util::error(
                fmt::format("unknown converter '{}'{}", conv_call->name,
                            near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
        }
        if (!castable(type, conv->in)) {
            return util::error(
                fmt::format("converter '{}' cannot be applied to a sample of type '{}'", conv->name,
                            type_name(type)));
        }
        auto cargs = make_args(std::move(conv_call->args), conv->args, conv->prepare, conv->name);
        if (!cargs) return util::error(cargs.error());
        p.expr.converters.push_back({conv, std::move(*cargs)});
        if (conv->out != Type::Any) type = conv->out;
        at += 1 + conv_call->consumed;
    }
    p.expr.text = std::string(text.substr(0, at));
    p.consumed = at;
    return p;
}

util::Result<Expr> parse_expr(std::string_view text, Use available) {
    auto p = parse_expr_prefix(text, available);
    if (!p) return util::error(p.error());
    if (p->consumed != text.size()) {
        return util::error(fmt::format("unexpected '{}' after the expression '{}'",
                                       text.substr(p->consumed), p->expr.text));
    }
    return std::move(p->expr);
}

bool Expr::eval(Context& ctx, Sample& out) const {
    return fetch->fn(fetch_args, ctx, out) && convert(ctx, out);
}

bool Expr::convert(Context& ctx, Sample& out) const {
    for (const ConverterCall& c : converters) {
        if (!cast(out, c.converter->in, ctx.arena())) return false;
        if (!c.converter->fn(c.args, ctx, out)) return false;
    }
    return true;
}

Type Expr::type() const {
    Type t = fetch->out;
    for (const ConverterCall& c : converters)
        if (c.converter->out != Type::Any) t = c.converter->out;
    return t;
}

}  // namespace sluice::sample
