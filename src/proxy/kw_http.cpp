// Keywords of mode http owned by the proxy module: connection modes, HTTP timeouts, headers the
// proxy adds (forwardfor, originalto, send-name-header), parser strictness, server connection
// reuse and the server options of the idle pools. Error pages are the http module's.
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::proxy {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

template <HttpConnMode M>
Status set_conn_mode(Args, Ctx& ctx, ProxyConf& px) {
    // `no option X` only cancels X if it is the mode in force (as HAProxy does).
    if (ctx.negated()) {
        if (px.http_conn_mode == M) px.http_conn_mode = HttpConnMode::Unset;
    } else {
        px.http_conn_mode = M;
    }
    return Status::Ok;
}

// `option forwardfor [except NET] [header NAME] [if-none]` and `option originalto [except NET]
// [header NAME]`: the words may come in any order.
Status parse_address_header(Args args, Ctx& ctx, AddressHeader& h, bool allow_if_none) {
    if (ctx.negated()) {
        h.enabled = false;
        return Status::Ok;
    }
    AddressHeader parsed{true, h.header, std::nullopt, false};
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& w = args[i];
        if (w == "except" || w == "header") {
            if (i + 1 >= args.size()) return ctx.alert("'{}' expects an argument", w);
            const std::string& v = args[++i];
            if (w == "header") {
                if (v.empty()) return ctx.alert("'header' expects a header name");
                parsed.header = v;
            } else {
                auto net = net::parse_network(v);
                if (!net) return ctx.alert("'except': {}", net.error());
                parsed.except = *net;
            }
        } else if (w == "if-none" && allow_if_none) {
            parsed.if_none = true;
        } else {
            return ctx.alert(
                "unexpected '{}'; expects {}", w,
                allow_if_none ? "'except', 'header' or 'if-none'" : "'except' or 'header'");
        }
    }
    h = std::move(parsed);
    return Status::Ok;
}
Status parse_forwardfor(Args args, Ctx& ctx, ProxyConf& px) {
    return parse_address_header(args, ctx, px.forwardfor, true);
}
Status parse_originalto(Args args, Ctx& ctx, ProxyConf& px) {
    return parse_address_header(args, ctx, px.originalto, false);
}

Status parse_http_reuse(Args args, Ctx& ctx, ProxyConf& px) {
    const std::string& v = args[0];
    if (v == "never")
        px.http_reuse = HttpReuse::Never;
    else if (v == "safe")
        px.http_reuse = HttpReuse::Safe;
    else if (v == "aggressive")
        px.http_reuse = HttpReuse::Aggressive;
    else if (v == "always")
        px.http_reuse = HttpReuse::Always;
    else
        return ctx.alert("expects 'never', 'safe', 'aggressive' or 'always', got '{}'", v);
    return Status::Ok;
}

// `retry-on KEYWORD...`: replaces what was set before, as in HAProxy.
Status parse_retry_on(Args args, Ctx& ctx, ProxyConf& px) {
    if (args.empty())
        return ctx.alert("'retry-on' needs at least one keyword to specify when to retry");
    static constexpr std::pair<std::string_view, std::uint32_t> kWords[] = {
        {"conn-failure", retry_on::kConnFailure},
        {"empty-response", retry_on::kEmptyResponse},
        {"junk-response", retry_on::kJunkResponse},
        {"response-timeout", retry_on::kResponseTimeout},
        {"0rtt-rejected", retry_on::k0rttRejected},
        {"all-retryable-errors",
         retry_on::kConnFailure | retry_on::kEmptyResponse | retry_on::kJunkResponse |
             retry_on::kResponseTimeout | retry_on::k0rttRejected | retry_on::status_bit(500) |
             retry_on::status_bit(502) | retry_on::status_bit(503) | retry_on::status_bit(504)},
    };
    std::uint32_t bits = 0;
    for (const std::string& word : args) {
        if (word == "none") {
            if (args.size() > 1) return ctx.alert("'none' is only usable alone");
            continue;
        }
        std::uint32_t bit = 0;
        for (const auto& [name, value] : kWords)
            if (word == name) bit = value;
        if (bit == 0 && word.size() == 3 && std::isdigit(static_cast<unsigned char>(word[0])))
            bit = retry_on::status_bit(static_cast<std::uint16_t>(std::stoi(word)));
        if (bit == 0) return ctx.alert("unknown keyword '{}'", word);
        bits |= bit;
    }
    px.retry_on = bits;
    return Status::Ok;
}

Status parse_send_name_header(Args args, Ctx& ctx, ProxyConf& px) {
    if (args.empty() || args[0].empty()) return ctx.alert("expects a header name");
    px.send_name_header = args[0];
    return Status::Ok;
}

Status set_pool_max_conn(Args args, Ctx& ctx) {
    const std::string& v = args[0];
    if (v == "-1") {
        ctx.parts().get<ServerOptions>().pool_max_conn = -1;
        return Status::Ok;
    }
    auto n = util::parse_uint(v, INT32_MAX);
    if (!n) return ctx.alert("expects -1 (no limit) or a number of connections, got '{}'", v);
    ctx.parts().get<ServerOptions>().pool_max_conn = static_cast<std::int32_t>(*n);
    return Status::Ok;
}
Status set_pool_purge_delay(Args args, Ctx& ctx) {
    auto d = util::parse_duration(args[0]);
    if (!d) return ctx.alert("{}", d.error());
    ctx.parts().get<ServerOptions>().pool_purge_delay = *d;
    return Status::Ok;
}

constexpr In P = cfg::kAnyProxy;
constexpr In BE = cfg::kBackendSide;
constexpr In FE = cfg::kFrontendSide;

constexpr cfg::Keyword kHttpKeywords[] = {
    {.name = "option http-keep-alive",
     .in = P,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyConf, set_conn_mode<HttpConnMode::KeepAlive>>,
     .negatable = true},
    {.name = "option http-server-close",
     .in = P,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyConf, set_conn_mode<HttpConnMode::ServerClose>>,
     .negatable = true},
    {.name = "option httpclose",
     .in = P,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyConf, set_conn_mode<HttpConnMode::Close>>,
     .negatable = true},
    cfg::flag<&ProxyConf::http_pretend_keepalive>("option http-pretend-keepalive", BE),
    cfg::duration<&ProxyConf::timeout_http_request>("timeout http-request", P),
    cfg::duration<&ProxyConf::timeout_http_keep_alive>("timeout http-keep-alive", P),
    cfg::duration<&ProxyConf::timeout_tarpit>("timeout tarpit", P),
    cfg::flag<&ProxyConf::http_buffer_request>("option http-buffer-request", P),
    {.name = "option forwardfor",
     .in = P,
     .arity = cfg::between(0, 5),
     .parse = cfg::on_part<ProxyConf, parse_forwardfor>,
     .negatable = true},
    {.name = "option originalto",
     .in = P,
     .arity = cfg::between(0, 4),
     .parse = cfg::on_part<ProxyConf, parse_originalto>,
     .negatable = true},
    cfg::flag<&ProxyConf::accept_invalid_request>("option accept-invalid-http-request", FE),
    cfg::flag<&ProxyConf::accept_invalid_response>("option accept-invalid-http-response", BE),
    cfg::flag<&ProxyConf::http_ignore_probes>("option http-ignore-probes", FE),
    {.name = "retry-on",
     .in = cfg::kBackendSide,
     .arity = cfg::at_least(0),
     .parse = cfg::on_part<ProxyConf, parse_retry_on>},
    {.name = "http-reuse",
     .in = BE,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<ProxyConf, parse_http_reuse>},
    {.name = "http-send-name-header",
     .in = BE,
     .arity = cfg::between(0, 1),
     .parse = cfg::on_part<ProxyConf, parse_send_name_header>},
};
const cfg::Registrar kRegistered{kHttpKeywords};

using cfg::OptionOf;
constexpr cfg::Option kServerPoolOptions[] = {
    {.of = OptionOf::Server, .name = "pool-max-conn", .args = 1, .parse = set_pool_max_conn},
    {.of = OptionOf::Server, .name = "pool-purge-delay", .args = 1, .parse = set_pool_purge_delay},
};
const cfg::OptionRegistrar kOptionsRegistered{kServerPoolOptions};

}  // namespace
}  // namespace sluice::proxy
