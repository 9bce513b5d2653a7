// The hashing algorithms' `balance` options and their request keys (see keys.hpp); the tables
// they hash into are in hashed.cpp.
#include "sluice/lb/keys.hpp"

#include <fmt/format.h>

#include <cstring>

#include "sluice/lb/algorithm.hpp"

namespace sluice::lb {

std::string_view uri_key(std::string_view target, const BalanceConf& conf) {
    std::string_view key = target;
    if (conf.uri_path_only) {
        // An absolute target: the path starts at the first '/' after "scheme://authority".
        const std::size_t scheme = key.find("://");
        if (scheme != std::string_view::npos && key.find('/') > scheme) {
            const std::size_t path = key.find('/', scheme + 3);
            key = path == std::string_view::npos ? std::string_view{} : key.substr(path);
        }
    }
    if (!conf.uri_whole) key = key.substr(0, key.find('?'));
    if (conf.uri_len > 0 && key.size() > conf.uri_len) key = key.substr(0, conf.uri_len);
    if (conf.uri_depth > 0) {
        std::uint32_t slashes = 0;
        for (std::size_t i = 0; i < key.size(); ++i) {
            if (key[i] != '/') continue;
            if (slashes == conf.uri_depth) return key.substr(0, i);
            ++slashes;
        }
    }
    return key;
}

std::string_view domain_only(std::string_view host) {
    if (!host.empty() && host.front() != '[') host = host.substr(0, host.rfind(':'));
    const std::size_t last = host.rfind('.');
    if (last == std::string_view::npos) return host;
    const std::size_t before = host.rfind('.', last - (last > 0 ? 1 : 0));
    const std::size_t start = before == std::string_view::npos || last == 0 ? 0 : before + 1;
    return host.substr(start, last - start);
}

bool KeySource::key_bytes(sample::Context& ctx, std::string_view& key,
                          std::array<std::uint8_t, 16>& scratch) const {
    sample::Sample s;
    bool found = conf_.expr->eval(ctx, s);
    if (!found && conf_.post) found = conf_.post->eval(ctx, s);
    if (!found) return false;
    switch (s.type) {
        case sample::Type::Str:
        case sample::Type::Bin:
        case sample::Type::Meth:
            key = s.str;
            break;
        case sample::Type::Ipv4:
        case sample::Type::Ipv6: {
            const std::size_t n = s.type == sample::Type::Ipv4 ? 4 : 16;
            std::memcpy(scratch.data(), s.ip.data(), n);
            key = {reinterpret_cast<const char*>(scratch.data()), n};
            break;
        }
        default: {
            // Integers and booleans hash as eight big-endian bytes.
            auto v = static_cast<std::uint64_t>(s.sint);
            for (int i = 7; i >= 0; --i, v >>= 8)
                scratch[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
            key = {reinterpret_cast<const char*>(scratch.data()), 8};
        }
    }
    if (conf_.key == BalanceConf::Key::Uri) key = uri_key(key, conf_);
    if (conf_.use_domain_only) key = domain_only(key);
    // An empty header or parameter is no key (HAProxy goes round robin then).
    return !key.empty() || conf_.key == BalanceConf::Key::Expr;
}

bool KeySource::hash(sample::Context& ctx, std::uint32_t& out) const {
    std::string_view key;
    std::array<std::uint8_t, 16> scratch{};
    if (!key_bytes(ctx, key, scratch)) return false;
    out = hash_key(type_, {reinterpret_cast<const std::uint8_t*>(key.data()), key.size()});
    return true;
}

std::unique_ptr<KeySource> make_key_source(const BalanceConf& conf, const HashType& type) {
    if (conf.key == BalanceConf::Key::None || !conf.expr) return nullptr;
    return std::make_unique<KeySource>(conf, type);
}

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

// What keys may read: the connection and the request (its payload in mode tcp).
constexpr sample::Use kKeyUse = sample::Use::Internal | sample::Use::Conn | sample::Use::Req;

Status set_expr(Ctx& ctx, BalanceConf& conf, BalanceConf::Key key, const std::string& text) {
    auto expr = sample::parse_expr(text, kKeyUse);
    if (!expr) return ctx.alert("{}", expr.error());
    conf.key = key;
    conf.expr = std::make_shared<const sample::Expr>(std::move(*expr));
    return Status::Ok;
}

// Fetch arguments are written between parentheses: keep commas and parentheses of a name
// from breaking the call.
bool plain_name(std::string_view name) {
    return name.find_first_of(",()\\'\" ") == std::string_view::npos;
}

Status parse_source(std::string_view, Args args, Ctx& ctx, BalanceConf& conf) {
    if (!args.empty()) return ctx.alert("algorithm 'source' takes no option, got '{}'", args[0]);
    return set_expr(ctx, conf, BalanceConf::Key::Source, "src");
}

Status parse_uri(std::string_view, Args args, Ctx& ctx, BalanceConf& conf) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view opt = args[i];
        if (opt == "whole") {
            conf.uri_whole = true;
        } else if (opt == "path-only") {
            conf.uri_path_only = true;
        } else if (opt == "len" || opt == "depth") {
            const std::string_view value =
                i + 1 < args.size() ? std::string_view(args[i + 1]) : std::string_view();
            auto v = util::parse_uint(value, UINT32_MAX);
            if (!v || *v == 0)
                return ctx.alert("balance uri : '{}' expects a positive integer (got '{}')", opt,
                                 value);
            (opt == "len" ? conf.uri_len : conf.uri_depth) = static_cast<std::uint32_t>(*v);
            ++i;
        } else {
            return ctx.alert(
                "balance uri : unknown option '{}' (expects 'whole', 'len', 'depth' or "
                "'path-only')",
                opt);
        }
    }
    return set_expr(ctx, conf, BalanceConf::Key::Uri, "url");
}

Status parse_url_param(std::string_view, Args args, Ctx& ctx, BalanceConf& conf) {
    if (args.empty()) return ctx.alert("balance url_param requires an URL parameter name");
    if (!plain_name(args[0])) return ctx.alert("invalid URL parameter name '{}'", args[0]);
    // `check_post [max_wait]`: the optional limit is obsolete and ignored, as in HAProxy.
    std::size_t i = 1;
    if (i < args.size() && args[i] == "check_post") {
        auto post = sample::parse_expr(fmt::format("req.body_param({})", args[0]), kKeyUse);
        if (!post) return ctx.alert("{}", post.error());
        conf.post = std::make_shared<const sample::Expr>(std::move(*post));
        ++i;
        if (i < args.size() && util::parse_uint(args[i])) ++i;
    }
    if (i < args.size())
        return ctx.alert("balance url_param : unknown option '{}' (expects 'check_post')", args[i]);
    return set_expr(ctx, conf, BalanceConf::Key::UrlParam, fmt::format("url_param({})", args[0]));
}

Status parse_hdr(std::string_view arg, Args args, Ctx& ctx, BalanceConf& conf) {
    if (arg.empty() || !plain_name(arg))
        return ctx.alert("balance hdr(name) : expects a header name between parentheses");
    if (!args.empty()) {
        if (args[0] != "use_domain_only" || args.size() > 1)
            return ctx.alert("balance hdr() : unknown option '{}' (expects 'use_domain_only')",
                             args[0]);
        conf.use_domain_only = true;
    }
    return set_expr(ctx, conf, BalanceConf::Key::Header, fmt::format("req.hdr({},1)", arg));
}

Status parse_rdp_cookie(std::string_view arg, Args args, Ctx& ctx, BalanceConf& conf) {
    if (!args.empty())
        return ctx.alert("algorithm 'rdp-cookie' takes no option, got '{}'", args[0]);
    if (!plain_name(arg)) return ctx.alert("invalid RDP cookie name '{}'", arg);
    return set_expr(ctx, conf, BalanceConf::Key::RdpCookie,
                    fmt::format("req.rdp_cookie({})", arg.empty() ? "mstshash" : arg));
}

Status parse_hash(std::string_view, Args args, Ctx& ctx, BalanceConf& conf) {
    if (args.empty()) return ctx.alert("balance hash requires a sample expression");
    if (args.size() > 1)
        return ctx.alert("balance hash takes one sample expression, got '{}' after it", args[1]);
    return set_expr(ctx, conf, BalanceConf::Key::Expr, std::string(args[0]));
}

constexpr AlgorithmDef kAlgorithms[] = {
    {.name = "source", .parse = parse_source, .make = make_hash_tier},
    {.name = "uri", .parse = parse_uri, .make = make_hash_tier},
    {.name = "url_param", .parse = parse_url_param, .make = make_hash_tier},
    {.name = "hdr", .parse = parse_hdr, .make = make_hash_tier, .takes_parenthesis = true},
    {.name = "rdp-cookie",
     .parse = parse_rdp_cookie,
     .make = make_hash_tier,
     .takes_parenthesis = true},
    {.name = "hash", .parse = parse_hash, .make = make_hash_tier},
};
const Registrar kRegistered{kAlgorithms};

}  // namespace
}  // namespace sluice::lb
