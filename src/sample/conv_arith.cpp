// HAProxy's arithmetic and bitwise converters on signed 64-bit integers, and ipmask. Results
// saturate instead of wrapping or trapping (HAProxy's choice: a division by zero gives the
// largest integer, a modulo by zero gives 0), so no input can crash or surprise a rule.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "sluice/sample/registry.hpp"
#include "sluice/sample/vars.hpp"

namespace sluice::sample {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// The <value> of add(), and() ...: an integer, or a variable read at each evaluation.
struct Operand {
    std::int64_t value = 0;
    bool is_var = false;
    VarRef var;
};

bool parse_int(std::string_view text, std::int64_t& out) {
    const char* first = text.data();
    const char* last = first + text.size();
    if (first < last && *first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, last, out);
    return ec == std::errc() && end == last && first != last;
}

util::Status prepare_operand(Args& args) {
    const std::string& text = args.list[0].text;
    auto op = std::make_shared<Operand>();
    if (!parse_int(text, op->value)) {
        auto ref = parse_var_name(text);
        if (!ref) {
            return util::error(fmt::format("expects an integer or a variable name, not '{}' ({})",
                                           text, ref.error()));
        }
        op->is_var = true;
        op->var = std::move(*ref);
    }
    args.prepared = std::move(op);
    return util::ok();
}

// An unset variable, or one that does not read as an integer, makes the converter fail.
bool operand(const Args& args, Context& ctx, std::int64_t& out) {
    const Operand& op = args.state<Operand>();
    if (!op.is_var) {
        out = op.value;
        return true;
    }
    Sample v;
    if (!read_var(ctx, op.var, v) || !cast(v, Type::Sint, ctx.arena())) return false;
    out = v.sint;
    return true;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return a < 0 ? kMin : kMax;
    return r;
}

template <std::int64_t (*Op)(std::int64_t, std::int64_t)>
bool conv_binary(const Args& args, Context& ctx, Sample& s) {
    std::int64_t v;
    if (!operand(args, ctx, v)) return false;
    s.sint = Op(s.sint, v);
    return true;
}

std::int64_t op_add(std::int64_t a, std::int64_t b) {
    return saturating_add(a, b);
}
std::int64_t op_sub(std::int64_t a, std::int64_t b) {
    // -kMin does not exist: add kMax, then one more unless already saturated.
    if (b == kMin) {
        const std::int64_t r = saturating_add(a, kMax);
        return r == kMax ? r : r + 1;
    }
    return saturating_add(a, -b);
}
std::int64_t op_mul(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return (a < 0) == (b < 0) ? kMax : kMin;
    return r;
}
std::int64_t op_div(std::int64_t a, std::int64_t b) {
    if (b == 0) return kMax;
    if (a == kMin && b == -1) return kMax;
    return a / b;
}
std::int64_t op_mod(std::int64_t a, std::int64_t b) {
    if (b == 0 || b == -1) return 0;  // x % -1 is 0, and kMin % -1 traps
    return a % b;
}
std::int64_t op_and(std::int64_t a, std::int64_t b) {
    return a & b;
}
std::int64_t op_or(std::int64_t a, std::int64_t b) {
    return a | b;
}
std::int64_t op_xor(std::int64_t a, std::int64_t b) {
    return a ^ b;
}

bool conv_neg(const Args&, Context&, Sample& s) {
    s.sint = s.sint == kMin ? kMax : -s.sint;
    return true;
}
bool conv_cpl(const Args&, Context&, Sample& s) {
    s.sint = ~s.sint;
    return true;
}
bool conv_bool(const Args&, Context&, Sample& s) {
    s = Sample::boolean(s.sint != 0);
    return true;
}
bool conv_not(const Args&, Context&, Sample& s) {
    s = Sample::boolean(s.sint == 0);
    return true;
}
bool conv_odd(const Args&, Context&, Sample& s) {
    s = Sample::boolean((s.sint & 1) != 0);
    return true;
}
bool conv_even(const Args&, Context&, Sample& s) {
    s = Sample::boolean((s.sint & 1) == 0);
    return true;
}

// --- ipmask ----------------------------------------------------------------------------------

struct IpMask {
    std::array<std::uint8_t, 4> v4{};
    std::array<std::uint8_t, 16> v6{};
    bool has_v6 = false;
};

// A mask is a prefix length or, when it contains `sep`, an address-form mask; like HAProxy,
// an address-form mask need not be contiguous.
bool parse_mask(const std::string& text, int family, char sep, std::uint8_t* out, int bits) {
    if (text.find(sep) != std::string::npos) return inet_pton(family, text.c_str(), out) == 1;
    std::int64_t len;
    if (!parse_int(text, len) || len < 0 || len > bits) return false;
    for (int i = 0; i < bits / 8; ++i) {
        const std::int64_t left = len - i * 8;
        out[i] = left >= 8 ? 0xff : left <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - left));
    }
    return true;
}

util::Status prepare_ipmask(Args& args) {
    IpMask m;
    if (!parse_mask(args.list[0].text, AF_INET, '.', m.v4.data(), 32)) {
        return util::error(
            fmt::format("invalid IPv4 mask '{}': expected a length from 0 to 32 or a dotted mask",
                        args.list[0].text));
    }
    if (const Arg* v6 = args.at(1)) {
        if (!parse_mask(v6->text, AF_INET6, ':', m.v6.data(), 128)) {
            return util::error(fmt::format(
                "invalid IPv6 mask '{}': expected a length from 0 to 128 or an IPv6 mask",
                v6->text));
        }
        m.has_v6 = true;
    }
    args.prepared = std::make_shared<const IpMask>(m);
    return util::ok();
}

bool conv_ipmask(const Args& args, Context& ctx, Sample& s) {
    const IpMask& m = args.state<IpMask>();
    // A v4-mapped IPv6 address is masked as the IPv4 address it is.
    if (s.type == Type::Ipv6) (void)cast(s, Type::Ipv4, ctx.arena());
    if (s.type == Type::Ipv4) {
        for (std::size_t i = 0; i < 4; ++i)
            s.ip[i] &= m.v4[i];
        return true;
    }
    // Without a mask6, IPv6 fails: HAProxy kept that for configs written before mask6.
    if (s.type != Type::Ipv6 || !m.has_v6) return false;
    for (std::size_t i = 0; i < 16; ++i)
        s.ip[i] &= m.v6[i];
    return true;
}

constexpr ArgSpec kNone{0, 0};
constexpr ArgSpec kValue{1, 1};

constexpr Converter kConverters[] = {
    {.name = "add",
     .fn = conv_binary<op_add>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "sub",
     .fn = conv_binary<op_sub>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "mul",
     .fn = conv_binary<op_mul>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "div",
     .fn = conv_binary<op_div>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "mod",
     .fn = conv_binary<op_mod>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "and",
     .fn = conv_binary<op_and>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "or",
     .fn = conv_binary<op_or>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "xor",
     .fn = conv_binary<op_xor>,
     .args = kValue,
     .in = Type::Sint,
     .out = Type::Sint,
     .prepare = prepare_operand},
    {.name = "neg", .fn = conv_neg, .args = kNone, .in = Type::Sint, .out = Type::Sint},
    {.name = "cpl", .fn = conv_cpl, .args = kNone, .in = Type::Sint, .out = Type::Sint},
    {.name = "bool", .fn = conv_bool, .args = kNone, .in = Type::Sint, .out = Type::Bool},
    {.name = "not", .fn = conv_not, .args = kNone, .in = Type::Sint, .out = Type::Bool},
    {.name = "odd", .fn = conv_odd, .args = kNone, .in = Type::Sint, .out = Type::Bool},
    {.name = "even", .fn = conv_even, .args = kNone, .in = Type::Sint, .out = Type::Bool},
    // HAProxy declares "addr" out; an expression's type cannot be "either family", so like
    // HAProxy's fetches of both families this says ipv4 and the value may be IPv6.
    {.name = "ipmask",
     .fn = conv_ipmask,
     .args = {1, 2},
     .in = Type::Addr,
     .out = Type::Ipv4,
     .prepare = prepare_ipmask},
};
const ConverterRegistrar kRegistered{kConverters};

}  // namespace
}  // namespace sluice::sample
