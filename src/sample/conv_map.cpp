// The map converters: map(FILE[,DEFAULT]), map_<match>(...) and map_<match>_<output>(...), as
// HAProxy's. The file is loaded once, when the config is parsed, into a PatternSet holding the
// values; a lookup returns a view into it (integer and address outputs are parsed at load, so
// a bad value fails the config at its line instead of failing requests).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <charconv>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "sluice/sample/pattern.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::sample {
namespace {

enum class Out : std::uint8_t { Str, Int, Ip, Regm };

struct LoadedMap {
    PatternSet set;
    std::vector<std::int64_t> ints;  // Out::Int: each pattern's value, parsed
    std::vector<Sample> ips;         // Out::Ip
};

struct MapState {
    std::shared_ptr<const LoadedMap> map;
    bool has_default = false;
    std::string default_text;
    std::int64_t default_int = 0;
    Sample default_ip;
};

bool parse_int_value(std::string_view v, std::int64_t& out) {
    const char* first = v.data();
    const char* last = first + v.size();
    if (first < last && *first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, last, out);
    return first < last && ec == std::errc() && end == last;
}

bool parse_ip_value(std::string_view v, Sample& out) {
    char buf[INET6_ADDRSTRLEN];
    if (v.size() >= sizeof buf) return false;
    std::memcpy(buf, v.data(), v.size());
    buf[v.size()] = 0;
    Sample s;
    if (inet_pton(AF_INET, buf, s.ip.data()) == 1) {
        s.type = Type::Ipv4;
    } else if (inet_pton(AF_INET6, buf, s.ip.data()) == 1) {
        s.type = Type::Ipv6;
    } else {
        return false;
    }
    out = s;
    return true;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// map_regm values are templates: "\N" is what group N (0-9) matched, "\xHH" a byte, "\c" the
// character c (HAProxy's exp_replace). With `groups` null, only checks the template.
bool expand(std::string_view tpl, std::string_view subject, const std::size_t* groups,
            std::string* out) {
    for (std::size_t i = 0; i < tpl.size(); ++i) {
        const char c = tpl[i];
        if (c != '\\') {
            if (out) out->push_back(c);
            continue;
        }
        if (++i == tpl.size()) return false;
        const char e = tpl[i];
        if (e >= '0' && e <= '9') {
            const std::size_t g = static_cast<std::size_t>(e - '0');
            if (out && groups[2 * g] != PatternSet::npos)
                out->append(subject.substr(groups[2 * g], groups[2 * g + 1] - groups[2 * g]));
        } else if (e == 'x') {
            if (i + 2 >= tpl.size() || hex_digit(tpl[i + 1]) < 0 || hex_digit(tpl[i + 2]) < 0)
                return false;
            if (out)
                out->push_back(
                    static_cast<char>(hex_digit(tpl[i + 1]) << 4 | hex_digit(tpl[i + 2])));
            i += 2;
        } else if (out) {
            out->push_back(e);
        }
    }
    return true;
}

util::Result<std::shared_ptr<const LoadedMap>> read_map(const std::string& path, Match m, Out o) {
    auto map = std::make_shared<LoadedMap>(LoadedMap{PatternSet(m, PatternFlags{}), {}, {}});
    PatternSet::ValueCheck check;
    if (o == Out::Int) {
        check = [&](std::string_view v) -> util::Status {
            std::int64_t n;
            if (!parse_int_value(v, n))
                return util::error(fmt::format("value '{}' is not an integer", v));
            map->ints.push_back(n);
            return util::ok();
        };
    } else if (o == Out::Ip) {
        check = [&](std::string_view v) -> util::Status {
            Sample s;
            if (!parse_ip_value(v, s))
                return util::error(fmt::format("value '{}' is not an IPv4 or IPv6 address", v));
            map->ips.push_back(s);
            return util::ok();
        };
    } else if (o == Out::Regm) {
        check = [](std::string_view v) -> util::Status {
            if (!expand(v, {}, nullptr, nullptr)) {
                return util::error(fmt::format(
                    "value '{}' ends in a lone '\\' or has a '\\x' without two hex digits", v));
            }
            return util::ok();
        };
    }
    auto st = map->set.load_file(path, true, check);
    if (!st) return util::error(st.error());
    return std::shared_ptr<const LoadedMap>(std::move(map));
}

// Converters naming one file share its loaded form while it is in use (HAProxy loads a file
// once per config, whatever uses it). Keyed by the file itself and its version, so that a
// file rewritten between two loads (tests, `-c` then run) is read again.
util::Result<std::shared_ptr<const LoadedMap>> load_map(const std::string& path, Match m, Out o) {
    struct stat stbuf;
    if (::stat(path.c_str(), &stbuf) != 0) return read_map(path, m, o);
    using Key = std::tuple<dev_t, ino_t, std::int64_t, std::int64_t, off_t, Match, Out>;
    const Key key{stbuf.st_dev,
                  stbuf.st_ino,
                  stbuf.st_mtim.tv_sec,
                  stbuf.st_mtim.tv_nsec,
                  stbuf.st_size,
                  m,
                  o == Out::Regm ? Out::Str : o};
    static std::mutex mu;
    static std::map<Key, std::weak_ptr<const LoadedMap>> cache;
    std::lock_guard lock(mu);
    if (auto it = cache.find(key); it != cache.end()) {
        if (auto shared = it->second.lock()) return shared;
    }
    auto loaded = read_map(path, m, o);
    if (loaded) cache[key] = *loaded;
    return loaded;
}

template <Match M, Out O>
util::Status prepare_map(Args& args) {
    auto map = load_map(args.list[0].text, M, O);
    if (!map) return util::error(map.error());
    auto state = std::make_shared<MapState>();
    state->map = std::move(*map);
    if (const Arg* d = args.at(1)) {
        state->has_default = true;
        state->default_text = d->text;
        state->default_int = d->sint;
        if (O == Out::Ip && !parse_ip_value(d->text, state->default_ip)) {
            return util::error(
                fmt::format("default value '{}' is not an IPv4 or IPv6 address", d->text));
        }
    }
    args.prepared = std::move(state);
    return util::ok();
}

bool conv_map_str(const Args& args, Context&, Sample& s) {
    const MapState& st = args.state<MapState>();
    if (const std::string* v = st.map->set.lookup(s)) {
        s = Sample::string(*v);
        return true;
    }
    if (!st.has_default) return false;
    s = Sample::string(st.default_text);
    return true;
}

bool conv_map_int(const Args& args, Context&, Sample& s) {
    const MapState& st = args.state<MapState>();
    const std::size_t i = st.map->set.lookup_index(s);
    if (i == PatternSet::npos && !st.has_default) return false;
    s = Sample::integer(i == PatternSet::npos ? st.default_int : st.map->ints[i]);
    return true;
}

bool conv_map_ip(const Args& args, Context&, Sample& s) {
    const MapState& st = args.state<MapState>();
    const std::size_t i = st.map->set.lookup_index(s);
    if (i == PatternSet::npos && !st.has_default) return false;
    s = i == PatternSet::npos ? st.default_ip : st.map->ips[i];
    return true;
}

bool conv_map_regm(const Args& args, Context& ctx, Sample& s) {
    const MapState& st = args.state<MapState>();
    std::size_t groups[20];
    const std::size_t i = st.map->set.lookup_groups(s, groups);
    if (i == PatternSet::npos) {
        if (!st.has_default) return false;
        s = Sample::string(st.default_text);
        return true;
    }
    std::string& out = ctx.arena().take();
    if (!expand(st.map->set.value(i), s.str, groups, &out)) return false;
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
