// The tables of sample fetches and converters. Each module declares the fetches and converters
// it owns in a table next to their code and registers it with a static registrar, as config
// keywords are (cfg/keyword.hpp); expressions look names up here when a config is parsed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/sample.hpp"
#include "sluice/util/result.hpp"

namespace sluice::sample {

// Where a fetch finds its data, and so where it may be used: a rule of a given kind may only
// use fetches whose data it has (HAProxy's "none of which is available here").
enum class Use : std::uint8_t {
    None = 0,
    Internal = 1,  // constants, environment, time: anywhere
    Conn = 2,      // the connection's addresses, the proxies: from tcp-request connection on
    Req = 4,       // the HTTP request (or request payload in mode tcp)
    Res = 8,       // the HTTP response
};
constexpr Use operator|(Use a, Use b) {
    return static_cast<Use>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool covers(Use available, Use needed) {
    return (static_cast<std::uint8_t>(available) & static_cast<std::uint8_t>(needed)) ==
           static_cast<std::uint8_t>(needed);
}

// One argument of a fetch or converter call, as written, plus its integer value when the
// callee asked for an integer.
struct Arg {
    std::string text;
    std::int64_t sint = 0;
};
enum class ArgKind : std::uint8_t { Str, Sint };

// A call's arguments, checked when parsed. `prepared` holds what the callee built from them
// once (a compiled regex, a loaded map), shared by every evaluation.
struct Args {
    std::vector<Arg> list;
    std::shared_ptr<const void> prepared;
    const Arg* at(std::size_t i) const { return i < list.size() ? &list[i] : nullptr; }
    template <class T>
    const T& state() const {
        return *static_cast<const T*>(prepared.get());
    }
};

// Optional parse-time hook: validates the arguments beyond their kinds and fills `prepared`.
// Returns an error message naming what is wrong.
using PrepareFn = util::Status (*)(Args& args);

// Optional hook run on an ACL line whose criterion is the fetch: checks the line's patterns (as
// written, not those of `-f` files) against the fetch's arguments. http_auth_group() uses it so
// that a pattern naming no group of its userlist is an error, as in HAProxy.
using PatternCheckFn = util::Status (*)(const Args& args, std::span<const std::string> patterns);

// Writes the sample into `out`; false when there is none (the header is absent, the
// connection has no such address...): an ACL then does not match.
using FetchFn = bool (*)(const Args& args, Context& ctx, Sample& out);
// Multi-valued fetches (a header's values, a name's cookies): calls `visit(state, value)` for
// each value in order until it returns false. ACLs match on any value, as in HAProxy.
using VisitFn = bool (*)(void* state, Sample& value);
using FetchEachFn = void (*)(const Args& args, Context& ctx, VisitFn visit, void* state);

// Transforms `s` (already cast to the converter's input type) in place; false: no sample.
using ConvertFn = bool (*)(const Args& args, Context& ctx, Sample& s);

inline constexpr std::size_t kMaxArgs = 5;

struct ArgSpec {
    std::uint8_t min = 0;
    std::uint8_t max = 0;
    std::array<ArgKind, kMaxArgs> kinds{};  // per position; Str when unset
};

struct Fetch {
    std::string_view name;
    FetchFn fn = nullptr;
    ArgSpec args{};
    Type out = Type::Str;
    Use use = Use::Internal;
    PrepareFn prepare = nullptr;
    // Set for multi-valued fetches; used when no argument at `each_unless_arg` picks a
    // single occurrence (hdr(name,occ)).
    FetchEachFn each = nullptr;
    std::uint8_t each_unless_arg = kMaxArgs;
    PatternCheckFn check_patterns = nullptr;
};

struct Converter {
    std::string_view name;
    ConvertFn fn = nullptr;
    ArgSpec args{};
    Type in = Type::Any;  // Any: takes the sample as it comes
    Type out = Type::Str;
    PrepareFn prepare = nullptr;
};

class FetchRegistrar {
  public:
    explicit FetchRegistrar(std::span<const Fetch> fetches);
};
class ConverterRegistrar {
  public:
    explicit ConverterRegistrar(std::span<const Converter> converters);
};

const Fetch* find_fetch(std::string_view name);
const Converter* find_converter(std::string_view name);
// The known name nearest to `name`, for "did you mean" (empty when none is close).
std::string nearest_fetch(std::string_view name);
std::string nearest_converter(std::string_view name);

}  // namespace sluice::sample
