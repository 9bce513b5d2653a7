// The map converters: map(FILE[,DEFAULT]), map_<match>(...) and map_<match>_<output>(...), as
// HAProxy's. The file is loaded once, when the config is parsed, into the file's PatternRef,
// which the runtime API may change; a lookup returns a view into the reference's current
// generation, valid for the rest of the callback (integer and address outputs are parsed when
// compiled, so a bad value fails the config at its line instead of failing requests).
#include <fmt/format.h>

#include "sluice/sample/pattern_ref.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::sample {
namespace {

enum class Out : std::uint8_t { Str, Int, Ip, Regm };

struct MapState {
    std::shared_ptr<PatternRef> ref;  // shared with every user of the file
    std::size_t expr = 0;
    bool has_default = false;
    std::string default_text;
    std::int64_t default_int = 0;
    Sample default_ip;
    const CompiledExpr& map() const { return ref->compiled(expr); }
};

constexpr ValueKind kind_of(Out o) {
    return o == Out::Int    ? ValueKind::Int
           : o == Out::Ip   ? ValueKind::Ip
           : o == Out::Regm ? ValueKind::Regm
                            : ValueKind::Str;
}

template <Match M, Out O>
util::Status prepare_map(Args& args) {
    auto ref = file_ref(args.list[0].text, true);
    if (!ref) return util::error(ref.error());
    auto at = (*ref)->attach(RefExpr{.method = M, .flags = {}, .kind = kind_of(O), .op = {}},
                             PatternRef::Map, fmt::format("map at {}", config_where()));
    if (!at) return util::error(at.error());
    auto state = std::make_shared<MapState>();
    state->ref = std::move(*ref);
    state->expr = *at;
    if (const Arg* d = args.at(1)) {
        state->has_default = true;
        state->default_text = d->text;
        state->default_int = d->sint;
        if (O == Out::Ip && !parse_map_ip(d->text, state->default_ip)) {
            return util::error(
                fmt::format("default value '{}' is not an IPv4 or IPv6 address", d->text));
        }
    }
    args.prepared = std::move(state);
    return util::ok();
}

bool conv_map_str(const Args& args, Context&, Sample& s) {
    const MapState& st = args.state<MapState>();
    if (const RefHit hit = st.map().lookup(s)) {
        s = Sample::string(hit.value());
        return true;
    }
    if (!st.has_default) return false;
    s = Sample::string(st.default_text);
    return true;
}

bool conv_map_int(const Args& args, Context&, Sample& s) {
    const MapState& st = args.state<MapState>();
    const RefHit hit = st.map().lookup(s);
    if (!hit && !st.has_default) return false;
    s = Sample::integer(hit ? hit.set->ints[hit.index] : st.default_int);
    return true;
}

bool conv_map_ip(const Args& args, Context&, Sample& s) {
    const MapState& st = args.state<MapState>();
    const RefHit hit = st.map().lookup(s);
    if (!hit && !st.has_default) return false;
    s = hit ? hit.set->ips[hit.index] : st.default_ip;
    return true;
}

bool conv_map_regm(const Args& args, Context& ctx, Sample& s) {
    const MapState& st = args.state<MapState>();
    std::size_t groups[20];
    const RefHit hit = st.map().lookup_groups(s, groups);
    if (!hit) {
        if (!st.has_default) return false;
        s = Sample::string(st.default_text);
        return true;
    }
    std::string& out = ctx.arena().take();
    if (!expand_regm(hit.value(), s.str, groups, &out)) return false;
    s = Sample::string(out);
    return true;
}

constexpr ArgSpec kStrArgs{1, 2, {ArgKind::Str, ArgKind::Str}};
constexpr ArgSpec kIntArgs{1, 2, {ArgKind::Str, ArgKind::Sint}};

template <Match M, Out O>
constexpr Converter map_conv(std::string_view name, Type in) {
    const ConvertFn fn = O == Out::Int    ? conv_map_int
                         : O == Out::Ip   ? conv_map_ip
                         : O == Out::Regm ? conv_map_regm
                                          : conv_map_str;
    const Type out = O == Out::Int ? Type::Sint : O == Out::Ip ? Type::Addr : Type::Str;
    return Converter{.name = name,
                     .fn = fn,
                     .args = O == Out::Int ? kIntArgs : kStrArgs,
                     .in = in,
                     .out = out,
                     .prepare = prepare_map<M, O>};
}

constexpr Type S = Type::Str;

constexpr Converter kConverters[] = {
    map_conv<Match::Str, Out::Str>("map", S),
    map_conv<Match::Str, Out::Str>("map_str", S),
    map_conv<Match::Beg, Out::Str>("map_beg", S),
    map_conv<Match::Sub, Out::Str>("map_sub", S),
    map_conv<Match::Dir, Out::Str>("map_dir", S),
    map_conv<Match::Dom, Out::Str>("map_dom", S),
    map_conv<Match::End, Out::Str>("map_end", S),
    map_conv<Match::Reg, Out::Str>("map_reg", S),
    map_conv<Match::Reg, Out::Regm>("map_regm", S),
    map_conv<Match::Int, Out::Str>("map_int", Type::Sint),
    map_conv<Match::Ip, Out::Str>("map_ip", Type::Addr),

    map_conv<Match::Str, Out::Int>("map_str_int", S),
    map_conv<Match::Beg, Out::Int>("map_beg_int", S),
    map_conv<Match::Sub, Out::Int>("map_sub_int", S),
    map_conv<Match::Dir, Out::Int>("map_dir_int", S),
    map_conv<Match::Dom, Out::Int>("map_dom_int", S),
    map_conv<Match::End, Out::Int>("map_end_int", S),
    map_conv<Match::Reg, Out::Int>("map_reg_int", S),
    map_conv<Match::Int, Out::Int>("map_int_int", Type::Sint),
    map_conv<Match::Ip, Out::Int>("map_ip_int", Type::Addr),

    map_conv<Match::Str, Out::Ip>("map_str_ip", S),
    map_conv<Match::Beg, Out::Ip>("map_beg_ip", S),
    map_conv<Match::Sub, Out::Ip>("map_sub_ip", S),
    map_conv<Match::Dir, Out::Ip>("map_dir_ip", S),
    map_conv<Match::Dom, Out::Ip>("map_dom_ip", S),
    map_conv<Match::End, Out::Ip>("map_end_ip", S),
    map_conv<Match::Reg, Out::Ip>("map_reg_ip", S),
    map_conv<Match::Int, Out::Ip>("map_int_ip", Type::Sint),
    map_conv<Match::Ip, Out::Ip>("map_ip_ip", Type::Addr),
};
const ConverterRegistrar kConvertersRegistered{kConverters};

}  // namespace
}  // namespace sluice::sample
