// The keyword registry. Each module declares the config keywords it owns in a table next to the
// code that implements them and registers it with a static Registrar; the reader finds a line's
// keyword here, checks where it may appear and how many arguments it takes, and calls its parse
// function with the section's Parts. Keyword code never prints or exits: it returns
// ctx.alert(...) or ctx.warning(...), and Diagnostics formats the message.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/parts.hpp"
#include "sluice/cfg/tokenizer.hpp"
#include "sluice/util/result.hpp"
#include "sluice/util/units.hpp"

namespace sluice::cfg {

// HttpErrors and the kinds after it are named sections that are neither global nor proxies:
// they live in cfg::NamedSections (document.hpp), and proxies refer to them by name.
enum class SectionKind : std::uint8_t {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    HttpErrors,
    Userlist,
    Mailers,
};
std::string_view section_name(SectionKind kind);  // "global", "defaults", ...
constexpr bool is_named_section(SectionKind kind) {
    return kind >= SectionKind::HttpErrors;
}

// Where a keyword may appear. A `listen` section has both Frontend and Backend capabilities.
enum class In : std::uint8_t {
    None = 0,
    Global = 1,
    Defaults = 2,
    Frontend = 4,
    Backend = 8,
    HttpErrors = 16,
    Userlist = 32,
    Mailers = 64,
};
constexpr In operator|(In a, In b) {
    return static_cast<In>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool any(In a, In b) {
    return (static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b)) != 0;
}
inline constexpr In kAnyProxy = In::Defaults | In::Frontend | In::Backend;
inline constexpr In kBackendSide = In::Defaults | In::Backend;
inline constexpr In kFrontendSide = In::Defaults | In::Frontend;

// The capabilities of a section kind, for matching against Keyword::in.
In capabilities(SectionKind kind);

// A keyword's arguments: the words after its name ("timeout connect 5s" gives {"5s"}).
using Args = std::span<const std::string>;

enum class [[nodiscard]] Status{Ok, Warning, Alert};

class Ctx {
  public:
    Ctx(Diagnostics& diag, Location where, std::string context, SectionKind kind, Parts& parts,
        Parts& global, std::string name = {})
        : diag_(diag),
          where_(std::move(where)),
          context_(std::move(context)),
          name_(std::move(name)),
          kind_(kind),
          parts_(parts),
          global_(global) {}

    template <class... A>
    Status alert(fmt::format_string<A...> f, A&&... a) {
        return report(Level::Alert, fmt::format(f, std::forward<A>(a)...));
    }
    template <class... A>
    Status warning(fmt::format_string<A...> f, A&&... a) {
        return report(Level::Warning, fmt::format(f, std::forward<A>(a)...));
    }
    template <class... A>
    void notice(fmt::format_string<A...> f, A&&... a) {
        (void)report(Level::Notice, fmt::format(f, std::forward<A>(a)...));
    }

    // This section's settings, and the global section's (a proxy keyword may need both).
    Parts& parts() { return parts_; }
    Parts& global() { return global_; }
    Diagnostics& diagnostics() { return diag_; }
    SectionKind section() const { return kind_; }
    const Location& where() const { return where_; }
    const std::string& context() const { return context_; }  // "frontend fe"
    const std::string& name() const { return name_; }  // the section's name: "fe"; "" for global
    std::string_view keyword() const { return keyword_; }
    bool negated() const { return negated_; }  // the line started with "no "
    // The line as written in the file, before quotes and escapes were applied (for warnings
    // about what the quoting did to a word); empty when not read from a file.
    std::string_view line() const { return line_; }
    void set_line(std::string_view line) { line_ = line; }

    // Set by the reader before each parse call.
    void begin_keyword(std::string_view keyword, bool negated) {
        keyword_ = keyword;
        negated_ = negated;
    }
    Status report(Level level, std::string text);

  private:
    Diagnostics& diag_;
    Location where_;
    std::string context_;
    std::string name_;
    SectionKind kind_;
    Parts& parts_;
    Parts& global_;
    std::string_view keyword_;
    bool negated_ = false;
    std::string_view line_;
};

using ParseFn = Status (*)(Args args, Ctx& ctx);

struct Arity {
    std::uint8_t min = 0;
    std::uint8_t max = 255;  // 255: unbounded
};
constexpr Arity exactly(std::uint8_t n) {
    return {n, n};
}
constexpr Arity at_least(std::uint8_t n) {
    return {n, 255};
}
constexpr Arity between(std::uint8_t a, std::uint8_t b) {
    return {a, b};
}

struct Keyword {
    std::string_view name;  // one or two words: "maxconn", "timeout connect", "option splice-auto"
    In in = In::None;
    Arity arity;
    ParseFn parse = nullptr;
    bool negatable = false;  // accepts "no option x"
    // A removed keyword still accepted: parse as `alias_of` (same arguments) with a warning.
    std::string_view alias_of = {};
    // Set for keywords users still carry that we keep accepting; the warning to print.
    std::string_view deprecation = {};
    // A keyword of a feature not built yet: an alert saying what brings it ("logging (issue
    // #8)"), so that a config using it fails clearly instead of being half-obeyed.
    std::string_view pending = {};
    // In a frontend-only or backend-only section where it does not apply: an alert instead of
    // HAProxy's usual "ignored" warning (HAProxy does so for `server`).
    bool fatal_on_wrong_side = false;
};

// A keyword of a later issue (see Keyword::pending).
constexpr Keyword pending(std::string_view name, In in, std::string_view comes_with) {
    return {.name = name, .in = in, .arity = at_least(0), .parse = nullptr, .pending = comes_with};
}

// Adapts `Fn(args, ctx, T&)` to ParseFn, handing it this section's part of type T.
template <class T, Status (*Fn)(Args, Ctx&, T&)>
Status on_part(Args args, Ctx& ctx) {
    return Fn(args, ctx, ctx.parts().get<T>());
}
template <class T, Status (*Fn)(Args, Ctx&, T&)>
Status on_global(Args args, Ctx& ctx) {
    return Fn(args, ctx, ctx.global().get<T>());
}

namespace detail {
template <class M>
struct member_traits;
template <class C, class V>
struct member_traits<V C::*> {
    using owner = C;
    using value = V;
};

Status set_duration_value(Args args, Ctx& ctx, util::Duration& out);
Status set_size_value(Args args, Ctx& ctx, std::uint64_t max, std::uint64_t& out);
Status set_uint_value(Args args, Ctx& ctx, std::uint64_t max, std::uint64_t& out);

template <auto Member, bool Global>
auto& target(Ctx& ctx) {
    using Owner = typename member_traits<decltype(Member)>::owner;
    Parts& parts = Global ? ctx.global() : ctx.parts();
    return parts.get<Owner>().*Member;
}
template <auto Member, bool Global>
Status duration_slot(Args args, Ctx& ctx) {
    util::Duration d{};
    const Status st = set_duration_value(args, ctx, d);
    if (st != Status::Alert) target<Member, Global>(ctx) = d;  // plain or std::optional field
    return st;
}
template <auto Member, bool Global>
Status uint_slot(Args args, Ctx& ctx) {
    using V = typename member_traits<decltype(Member)>::value;
    std::uint64_t v = 0;
    const Status st = set_uint_value(args, ctx, std::numeric_limits<V>::max(), v);
    if (st != Status::Alert) target<Member, Global>(ctx) = static_cast<V>(v);
    return st;
}
template <auto Member, bool Global>
Status size_slot(Args args, Ctx& ctx) {
    using V = typename member_traits<decltype(Member)>::value;
    std::uint64_t v = 0;
    const Status st = set_size_value(args, ctx, std::numeric_limits<V>::max(), v);
    if (st != Status::Alert) target<Member, Global>(ctx) = static_cast<V>(v);
    return st;
}
template <auto Member, bool Global>
Status flag_slot(Args, Ctx& ctx) {
    target<Member, Global>(ctx) = !ctx.negated();
    return Status::Ok;
}
template <auto Member, bool Global>
Status string_slot(Args args, Ctx& ctx) {
    target<Member, Global>(ctx) = args[0];
    return Status::Ok;
}
template <auto Member, bool Global>
Status text_slot(Args args, Ctx& ctx) {
    target<Member, Global>(ctx) = join_words(args);
    return Status::Ok;
}
}  // namespace detail

// Slot keywords: a plain value written into one field of a module's part, no code needed.
// `Global` selects the global section's part instead of the current section's.
template <auto Member, bool Global = false>
constexpr Keyword duration(std::string_view name, In in) {
    return {.name = name,
            .in = in,
            .arity = exactly(1),
            .parse = detail::duration_slot<Member, Global>};
}
template <auto Member, bool Global = false>
constexpr Keyword uint(std::string_view name, In in) {
    return {
        .name = name, .in = in, .arity = exactly(1), .parse = detail::uint_slot<Member, Global>};
}
template <auto Member, bool Global = false>
constexpr Keyword size(std::string_view name, In in) {
    return {
        .name = name, .in = in, .arity = exactly(1), .parse = detail::size_slot<Member, Global>};
}
template <auto Member, bool Global = false>
constexpr Keyword flag(std::string_view name, In in) {
    return {.name = name,
            .in = in,
            .arity = exactly(0),
            .parse = detail::flag_slot<Member, Global>,
            .negatable = true};
}
// Free text: every remaining word, joined with spaces (`description`).
template <auto Member, bool Global = false>
constexpr Keyword text(std::string_view name, In in) {
    return {
        .name = name, .in = in, .arity = at_least(1), .parse = detail::text_slot<Member, Global>};
}
template <auto Member, bool Global = false>
constexpr Keyword string(std::string_view name, In in) {
    return {
        .name = name, .in = in, .arity = exactly(1), .parse = detail::string_slot<Member, Global>};
}

// Registers a module's keyword table before main(). Tables must outlive the program (static).
class Registrar {
  public:
    explicit Registrar(std::span<const Keyword> keywords);
};

// Looks keywords up. Frozen (read-only) once the first config line is read.
class Registry {
  public:
    static Registry& instance();
    void add(std::span<const Keyword> keywords);

    // The keyword that `words` start with (two-word names first), preferring one allowed in a
    // section of `kind`; one allowed elsewhere when none is (so the caller can say where it
    // belongs); nullptr when the name is unknown.
    const Keyword* find(std::span<const std::string> words, SectionKind kind) const;
    const Keyword* find(std::string_view name, SectionKind kind) const;
    std::vector<const Keyword*> all() const;

  private:
    std::vector<const Keyword*> keywords_;
};

}  // namespace sluice::cfg
