// Fetches that need nothing but the process or the client connection: constants, environment,
// time, randomness, addresses; and the TLS fetches' answers on plain connections (until TLS
// lands, every bind is plain: ssl_fc is false, its strings absent).
#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "sluice/net/socket.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::sample {
namespace {

bool fetch_true(const Args&, Context&, Sample& out) {
    out = Sample::boolean(true);
    return true;
}
bool fetch_false(const Args&, Context&, Sample& out) {
    out = Sample::boolean(false);
    return true;
}

// `str()` is the empty string, as in HAProxy (set-var(txn.x,ifempty) str() sets it).
bool fetch_str(const Args& args, Context&, Sample& out) {
    out = Sample::string(args.list.empty() ? std::string_view() : args.list[0].text);
    return true;
}
bool fetch_int(const Args& args, Context&, Sample& out) {
    out = Sample::integer(args.list[0].sint);
    return true;
}
bool fetch_bool(const Args& args, Context&, Sample& out) {
    out = Sample::boolean(args.list[0].sint != 0);
    return true;
}
bool fetch_meth(const Args& args, Context&, Sample& out) {
    out = Sample::string(args.list[0].text, Type::Meth);
    return true;
}

template <Type Family>
util::Status prepare_ip(Args& args) {
    Sample s = Sample::string(args.list[0].text);
    Arena arena;
    if (!cast(s, Type::Addr, arena) || s.type != Family)
        return util::error("'" + args.list[0].text + "' is not an " +
                           (Family == Type::Ipv4 ? "IPv4" : "IPv6") + " address");
    args.prepared = std::make_shared<const Sample>(s);
    return util::ok();
}
bool fetch_ip(const Args& args, Context&, Sample& out) {
    out = args.state<Sample>();
    return true;
}

bool fetch_env(const Args& args, Context&, Sample& out) {
    // The environment is fixed once the config is read; getenv is safe to call concurrently
    // as long as nobody sets variables.
    const char* v = std::getenv(args.list[0].text.c_str());
    if (!v) return false;
    out = Sample::string(v);
    return true;
}

// date([offset[,unit]]): seconds since the epoch, plus offset; unit s (default), ms, us.
bool fetch_date(const Args& args, Context&, Sample& out) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const Arg* offset = args.at(0);
    const Arg* unit = args.at(1);
    std::int64_t v;
    const std::string_view u = unit ? std::string_view(unit->text) : "s";
    if (u == "ms") {
        v = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
    } else if (u == "us") {
        v = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    } else {
        v = std::chrono::duration_cast<std::chrono::seconds>(now).count();
    }
    if (offset) v += offset->sint * (u == "ms" ? 1000 : u == "us" ? 1000000 : 1);
    out = Sample::integer(v);
    return true;
}
util::Status prepare_date(Args& args) {
    if (const Arg* unit = args.at(1);
        unit && unit->text != "s" && unit->text != "ms" && unit->text != "us")
        return util::error("unit must be 's', 'ms' or 'us', not '" + unit->text + "'");
    return util::ok();
}

bool fetch_rand(const Args& args, Context&, Sample& out) {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    const std::uint64_t r = gen() & 0xffffffffu;
    const Arg* range = args.at(0);
    out = Sample::integer(
        range && range->sint > 0
            ? static_cast<std::int64_t>((r * static_cast<std::uint64_t>(range->sint)) >> 32)
            : static_cast<std::int64_t>(r));
    return true;
}

// The client's address: given by the stream, or asked of the socket when a rule needs it.
bool source(Context& ctx, net::Address& out) {
    const Connection* c = ctx.find<Connection>();
    if (!c) return false;
    if (c->src) {
        out = *c->src;
        return true;
    }
    return c->fd >= 0 && net::peer_address(c->fd, out);
}
bool fetch_src(const Args&, Context& ctx, Sample& out) {
    net::Address a;
    return source(ctx, a) && Sample::from_address(a, out);
}
bool fetch_src_port(const Args&, Context& ctx, Sample& out) {
    net::Address a;
    if (!source(ctx, a) || (a.family() != AF_INET && a.family() != AF_INET6)) return false;
    out = Sample::integer(a.port());
    return true;
}
bool destination(Context& ctx, net::Address& out) {
    const Connection* c = ctx.find<Connection>();
    if (!c) return false;
    if (c->dst) {
        out = *c->dst;
        return true;
    }
    return c->fd >= 0 && net::local_address(c->fd, out);
}
bool fetch_dst(const Args&, Context& ctx, Sample& out) {
    net::Address a;
    return destination(ctx, a) && Sample::from_address(a, out);
}
bool fetch_dst_port(const Args&, Context& ctx, Sample& out) {
    net::Address a;
    if (!destination(ctx, a) || (a.family() != AF_INET && a.family() != AF_INET6)) return false;
    out = Sample::integer(a.port());
    return true;
}

bool fetch_absent(const Args&, Context&, Sample&) {
    return false;
}

// No connection error is tracked yet on a connection that reached a stream: HAProxy's code 0.
bool fetch_no_error(const Args&, Context&, Sample& out) {
    out = Sample::integer(0);
    return true;
}

constexpr ArgSpec kOneStr{1, 1};
constexpr ArgSpec kOneInt{1, 1, {ArgKind::Sint}};

constexpr Fetch kFetches[] = {
    {.name = "always_true", .fn = fetch_true, .out = Type::Bool},
    {.name = "always_false", .fn = fetch_false, .out = Type::Bool},
    {.name = "str", .fn = fetch_str, .args = {0, 1}, .out = Type::Str},
    {.name = "int", .fn = fetch_int, .args = kOneInt, .out = Type::Sint},
    {.name = "bool", .fn = fetch_bool, .args = kOneInt, .out = Type::Bool},
    {.name = "meth", .fn = fetch_meth, .args = kOneStr, .out = Type::Meth},
    {.name = "ipv4",
     .fn = fetch_ip,
     .args = kOneStr,
     .out = Type::Ipv4,
     .prepare = prepare_ip<Type::Ipv4>},
    {.name = "ipv6",
     .fn = fetch_ip,
     .args = kOneStr,
     .out = Type::Ipv6,
     .prepare = prepare_ip<Type::Ipv6>},
    {.name = "env", .fn = fetch_env, .args = kOneStr, .out = Type::Str},
    {.name = "date",
     .fn = fetch_date,
     .args = {0, 2, {ArgKind::Sint, ArgKind::Str}},
     .out = Type::Sint,
     .prepare = prepare_date},
    {.name = "rand", .fn = fetch_rand, .args = {0, 1, {ArgKind::Sint}}, .out = Type::Sint},
    {.name = "src", .fn = fetch_src, .out = Type::Addr, .use = Use::Conn},
    {.name = "src_port", .fn = fetch_src_port, .out = Type::Sint, .use = Use::Conn},
    {.name = "dst", .fn = fetch_dst, .out = Type::Addr, .use = Use::Conn},
    {.name = "dst_port", .fn = fetch_dst_port, .out = Type::Sint, .use = Use::Conn},
    // Plain connections until TLS lands: not TLS, and no TLS strings.
    {.name = "ssl_fc", .fn = fetch_false, .out = Type::Bool, .use = Use::Conn},
    {.name = "ssl_fc_sni", .fn = fetch_absent, .out = Type::Str, .use = Use::Conn},
    {.name = "ssl_fc_alpn", .fn = fetch_absent, .out = Type::Str, .use = Use::Conn},
    {.name = "ssl_fc_protocol", .fn = fetch_absent, .out = Type::Str, .use = Use::Conn},
    {.name = "ssl_fc_cipher", .fn = fetch_absent, .out = Type::Str, .use = Use::Conn},
    {.name = "ssl_c_used", .fn = fetch_false, .out = Type::Bool, .use = Use::Conn},
    // What `option httpslog` logs: no TLS errors on a plain connection (absent, as HAProxy).
    {.name = "fc_err", .fn = fetch_no_error, .out = Type::Sint, .use = Use::Conn},
    {.name = "ssl_fc_err", .fn = fetch_absent, .out = Type::Sint, .use = Use::Conn},
    {.name = "ssl_c_err", .fn = fetch_absent, .out = Type::Sint, .use = Use::Conn},
    {.name = "ssl_c_ca_err", .fn = fetch_absent, .out = Type::Sint, .use = Use::Conn},
    {.name = "ssl_fc_is_resumed", .fn = fetch_absent, .out = Type::Bool, .use = Use::Conn},
};
const FetchRegistrar kRegistered{kFetches};

}  // namespace
}  // namespace sluice::sample
