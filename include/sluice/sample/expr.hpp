// Sample expressions: a fetch and its converters, `hdr(host),lower,map_str(/etc/hosts.map,x)`,
// parsed and checked once when the config is read, evaluated per request without allocating.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/registry.hpp"

namespace sluice::sample {

struct ConverterCall {
    const Converter* converter = nullptr;
    Args args;
};

struct Expr {
    const Fetch* fetch = nullptr;
    Args fetch_args;
    std::vector<ConverterCall> converters;
    std::string text;  // as written, for messages

    // The expression's value; false when the fetch or a converter had nothing.
    bool eval(Context& ctx, Sample& out) const;
    // Applies the converters to a fetched value.
    bool convert(Context& ctx, Sample& s) const;
    // True when the fetch has several values to offer here (see Fetch::each).
    bool multi_valued() const {
        return fetch->each && fetch_args.list.size() <= fetch->each_unless_arg;
    }
    // The type of what eval() produces.
    Type type() const;
};

// Parses one expression from the start of `text` and says how many bytes it took (an ACL or a
// log-format stops at what follows). `available` is what the calling rule can read: a fetch
// needing more is an error, as in HAProxy. Errors name the fetch or converter at fault and
// suggest the nearest known name.
struct ParsedExpr {
    Expr expr;
    std::size_t consumed = 0;
};
util::Result<ParsedExpr> parse_expr_prefix(std::string_view text, Use available);
// The whole of `text` must be one expression.
util::Result<Expr> parse_expr(std::string_view text, Use available);

// Splits `fetch(a,b)` arguments as HAProxy does: commas separate, quotes group (and go), a
// backslash escapes the next byte. `text` is what is between the parentheses.
util::Result<std::vector<std::string>> split_args(std::string_view text);

// Checks a call's words against its spec (count, integers) and runs its prepare hook.
util::Result<Args> make_args(std::vector<std::string> words, const ArgSpec& spec, PrepareFn prepare,
                             std::string_view callee);

}  // namespace sluice::sample
