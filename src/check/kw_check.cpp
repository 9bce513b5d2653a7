// Health-check keywords: the server options (`check`, `inter`, `rise`, ...), `option httpchk`,
// `http-check`, `timeout check` and the global `spread-checks`.
#include <fmt/format.h>

#include <algorithm>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/cfg/options.hpp"
#include "sluice/check/conf.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::check {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

ServerCheckConf& srv(Ctx& ctx) {
    return ctx.parts().get<ServerCheckConf>();
}

// HAProxy 2.6 refuses a checked server with no port to check; the check's own `port` may come
// later on the line, so this is decided once the whole config is read.
std::string port_to_check(const cfg::Document& doc, const std::string& proxy, int line) {
    for (const cfg::Section& s : doc.proxies) {
        if (s.name != proxy) continue;
        const auto& pc = s.parts.read<ProxyCheckConf>();
        for (const proxy::ServerLine& l : s.parts.read<proxy::ProxyConf>().servers) {
            if (l.where.line != line) continue;
            const auto& sc = l.options.read<ServerCheckConf>();
            if (!sc.enabled || sc.port || l.address.has_port || l.address.port_is_offset ||
                (pc.connect && (pc.connect->port || pc.connect->port_expr)) ||
                (l.address.address.family() != AF_INET && l.address.address.family() != AF_INET6))
                return {};
            return fmt::format("server '{}' has neither a service port nor a check port to check",
                               l.name);
        }
    }
    return {};
}

template <bool On>
Status set_check(Args, Ctx& ctx) {
    srv(ctx).enabled = On;
    if (On)
        (void)cfg::defer_check(
            [proxy = ctx.name(), line = ctx.where().line](const cfg::Document& doc) {
                return port_to_check(doc, proxy, line);
            });
    return Status::Ok;
}

// A check interval: HAProxy's time units, milliseconds when bare, above zero.
Status interval(Args args, Ctx& ctx, util::Duration& out) {
    auto d = util::parse_duration(args[0]);
    if (!d) return ctx.alert("{}", d.error());
    if (d->count() <= 0) return ctx.alert("expects a time above zero, got '{}'", args[0]);
    out = *d;
    return Status::Ok;
}
Status set_inter(Args args, Ctx& ctx) {
    return interval(args, ctx, srv(ctx).inter);
}
Status set_fastinter(Args args, Ctx& ctx) {
    util::Duration d{};
    const Status st = interval(args, ctx, d);
    if (st != Status::Alert) srv(ctx).fastinter = d;
    return st;
}
Status set_downinter(Args args, Ctx& ctx) {
    util::Duration d{};
    const Status st = interval(args, ctx, d);
    if (st != Status::Alert) srv(ctx).downinter = d;
    return st;
}
template <std::uint32_t ServerCheckConf::*Member>
Status set_count(Args args, Ctx& ctx) {
    auto v = util::parse_uint(args[0], INT32_MAX);
    if (!v || *v == 0) return ctx.alert("expects a number above zero, got '{}'", args[0]);
    srv(ctx).*Member = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}
Status set_init_state(Args args, Ctx& ctx) {
    using enum ServerCheckConf::InitState;
    static constexpr std::pair<std::string_view, ServerCheckConf::InitState> kStates[] = {
        {"fully-up", FullyUp}, {"up", Up}, {"down", Down}, {"fully-down", FullyDown}};
    for (const auto& [name, state] : kStates)
        if (args[0] == name) {
            srv(ctx).init_state = state;
            return Status::Ok;
        }
    return ctx.alert("expects 'fully-up', 'up', 'down' or 'fully-down', got '{}'", args[0]);
}
util::Result<std::uint16_t> port_number(std::string_view text) {
    auto v = util::parse_uint(text, 65535);
    if (!v || *v == 0)
        return util::error(fmt::format("expects a port from 1 to 65535, got '{}'", text));
    return static_cast<std::uint16_t>(*v);
}
Status set_port(Args args, Ctx& ctx) {
    auto p = port_number(args[0]);
    if (!p) return ctx.alert("{}", p.error());
    srv(ctx).port = *p;
    return Status::Ok;
}
util::Result<net::Address> ip_address(std::string_view text) {
    auto a = net::parse_server_address(text);
    if (!a || (a->address.family() != AF_INET && a->address.family() != AF_INET6) || a->has_port)
        return util::error(fmt::format("expects an IPv4 or IPv6 address, got '{}'", text));
    return a->address;
}
Status set_addr(Args args, Ctx& ctx) {
    auto a = ip_address(args[0]);
    if (!a) return ctx.alert("{}", a.error());
    srv(ctx).addr = *a;
    return Status::Ok;
}
template <bool On>
Status set_check_send_proxy(Args, Ctx& ctx) {
    srv(ctx).send_proxy = On;
    return Status::Ok;
}

using cfg::OptionOf;
constexpr cfg::Option kServerOptions[] = {
    {.of = OptionOf::Server, .name = "check", .parse = set_check<true>},
    {.of = OptionOf::Server, .name = "no-check", .parse = set_check<false>},
    {.of = OptionOf::Server, .name = "inter", .args = 1, .parse = set_inter},
    {.of = OptionOf::Server, .name = "fastinter", .args = 1, .parse = set_fastinter},
    {.of = OptionOf::Server, .name = "downinter", .args = 1, .parse = set_downinter},
    {.of = OptionOf::Server, .name = "rise", .args = 1, .parse = set_count<&ServerCheckConf::rise>},
    {.of = OptionOf::Server, .name = "fall", .args = 1, .parse = set_count<&ServerCheckConf::fall>},
    {.of = OptionOf::Server, .name = "init-state", .args = 1, .parse = set_init_state},
    {.of = OptionOf::Server, .name = "port", .args = 1, .parse = set_port},
    {.of = OptionOf::Server, .name = "addr", .args = 1, .parse = set_addr},
    {.of = OptionOf::Server, .name = "check-send-proxy", .parse = set_check_send_proxy<true>},
    {.of = OptionOf::Server, .name = "no-check-send-proxy", .parse = set_check_send_proxy<false>},
};
const cfg::OptionRegistrar kOptionsRegistered{kServerOptions};

// ---- proxies --------------------------------------------------------------------------------

// Headers hidden after the version (`HTTP/1.1\r\nHost:\ www`), the pre-2.2 way to send some.
Status split_legacy_version(std::string& version, HttpRequest& req, Ctx& ctx) {
    const std::size_t cut = version.find("\r\n");
    if (cut == std::string::npos) return Status::Ok;
    std::string rest = version.substr(cut + 2);
    version.resize(cut);
    std::size_t pos = 0;
    while (pos < rest.size()) {
        std::size_t end = rest.find("\r\n", pos);
        if (end == std::string::npos) end = rest.size();
        std::string_view line(rest.data() + pos, end - pos);
        pos = end + 2;
        if (line.empty()) break;  // a body after an empty line is not sent (as HAProxy 2.6)
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            return ctx.alert(
                "'option httpchk' : the header line '{}' hidden in the version has "
                "no name followed by ':'",
                line);
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        req.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return ctx.warning(
        "'option httpchk' : headers after the HTTP version still work but are deprecated; "
        "write them as 'http-check send hdr NAME VALUE'");
}

Status parse_httpchk(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    if (ctx.negated()) {
        pc.kind = Kind::Tcp;
        return Status::Ok;
    }
    pc.kind = Kind::Http;
    pc.protocol_rules = {};
    HttpRequest base;
    if (args.size() == 1) {
        base.uri = args[0];
    } else if (args.size() >= 2) {
        base.method = args[0];
        base.uri = args[1];
    }
    Status st = Status::Ok;
    if (args.size() >= 3) {
        base.version = args[2];
        st = split_legacy_version(base.version, base, ctx);
    }
    // `http-check send` may have been read first (defaults): its words stay on top.
    if (!pc.request.header_formats.empty()) {
        base.header_formats.assign(base.headers.size(), nullptr);
        base.header_formats.insert(base.header_formats.end(), pc.request.header_formats.begin(),
                                   pc.request.header_formats.end());
    }
    base.headers.insert(base.headers.end(), pc.request.headers.begin(), pc.request.headers.end());
    base.body = pc.request.body;
    base.body_format = pc.request.body_format;
    pc.request = std::move(base);
    return st;
}

void own_rules(Ctx& ctx, ProxyCheckConf& pc) {
    if (pc.rules_owner == ctx.context()) return;
    // Rules inherited from a defaults section give way to the section's own.
    if (!pc.rules_owner.empty()) {
        pc.expects.clear();
        pc.connect.reset();
        pc.sent = false;
        pc.more.clear();
        pc.http_actions.clear();
    }
    pc.rules_owner = ctx.context();
}

// HAProxy 2.6 numbers a refused http-check rule by the connects and sends before it.
std::size_t next_step(const ProxyCheckConf& pc) {
    std::size_t n = (pc.connect ? 1 : 0) + (pc.sent ? 1 : 0);
    for (const HttpExchange& x : pc.more)
        n += (x.connect ? 1 : 0) + (x.sent ? 1 : 0);
    return n + 1;
}

bool exchange_sent(const ProxyCheckConf& pc) {
    return pc.more.empty() ? pc.sent : pc.more.back().sent;
}

Status parse_send(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    // One request per connection: a later exchange opens with `http-check connect`, and only
    // the first request takes `option httpchk`'s words.
    if (exchange_sent(pc))
        return ctx.alert("unable to add http-check send rule at step {} (missing connect rule).",
                         next_step(pc));
    HttpRequest& r = pc.more.empty() ? pc.request : pc.more.back().request;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& w = args[i];
        auto value = [&](int n) -> bool { return i + static_cast<std::size_t>(n) < args.size(); };
        if (w == "meth" && value(1)) {
            r.method = args[++i];
        } else if (w == "uri" && value(1)) {
            r.uri = args[++i];
            r.uri_format.reset();
        } else if (w == "ver" && value(1)) {
            r.version = args[++i];
        } else if (w == "hdr" && value(2)) {
            // Header values are log-format strings in HAProxy.
            std::shared_ptr<const sample::Format> format;
            if (args[i + 2].find('%') != std::string::npos) {
                auto f = sample::Format::parse(args[i + 2], sample::Use::Internal);
                if (!f) return ctx.alert("'http-check send' : 'hdr' : {}", f.error());
                if (!f->constant()) format = std::make_shared<const sample::Format>(std::move(*f));
            }
            if (format || !r.header_formats.empty()) {
                r.header_formats.resize(r.headers.size());
                r.header_formats.push_back(std::move(format));
            }
            r.headers.emplace_back(args[i + 1], args[i + 2]);
            i += 2;
        } else if ((w == "uri-lf" || w == "body-lf") && value(1)) {
            auto f = sample::Format::parse(args[++i], sample::Use::Internal);
            if (!f) return ctx.alert("'http-check send' : '{}' : {}", w, f.error());
            auto shared = std::make_shared<const sample::Format>(std::move(*f));
            if (w == "uri-lf") {
                r.uri.assign(1, '/');  // (a literal trips GCC 12 -Wrestrict)
                r.uri_format = std::move(shared);
            } else {
                r.body.clear();
                r.body_format = std::move(shared);
            }
        } else if (w == "body" && value(1)) {
            r.body = args[++i];
            r.body_format.reset();
        } else if (w == "comment" && value(1)) {
            ++i;
        } else if (w == "meth" || w == "uri" || w == "ver" || w == "hdr" || w == "body" ||
                   w == "comment" || w == "uri-lf" || w == "body-lf") {
            return ctx.alert("'http-check send' : '{}' expects {}", w,
                             w == "hdr" ? "a name and a value" : "a value");
        } else {
            return ctx.alert(
                "'http-check send' : expects 'meth', 'uri', 'ver', 'hdr', 'body' or "
                "'comment', got '{}'",
                w);
        }
    }
    (pc.more.empty() ? pc.sent : pc.more.back().sent) = true;
    return Status::Ok;
}

Status parse_expect(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    // The first exchange may use `option httpchk`'s request unless a connect opened it.
    if (!exchange_sent(pc) && (pc.connect || !pc.more.empty()))
        return ctx.alert("unable to add http-check expect rule at step {} (missing send rule).",
                         next_step(pc));
    std::string warning;
    auto e = parse_http_expect(args.subspan(1), warning);
    if (!e) return ctx.alert("'http-check expect' : {}", e.error());
    Status st = Status::Ok;
    if (!warning.empty()) st = ctx.warning("'http-check expect' : {}", warning);
    if (e->kind == Expect::Kind::String && !ctx.line().empty()) {
        const std::string q = quoting_warning(last_raw_word(ctx.line()), e->pattern.text);
        if (!q.empty()) st = ctx.warning("'http-check expect' : {}", q);
    }
    (pc.more.empty() ? pc.expects : pc.more.back().expects).push_back(std::move(*e));
    return st;
}

Status parse_connect(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    const bool opening = !pc.connect && pc.expects.empty() && !pc.sent && pc.more.empty();
    if (!opening && !pc.connect)
        return ctx.alert(
            "'http-check connect' : first step MUST also be a 'connect', optionally preceded "
            "by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in "
            "the tcp-check ruleset");
    Connect c;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& w = args[i];
        const bool has_value = i + 1 < args.size();
        if (w == "default" || w == "linger") {
            if (w == "linger") c.linger = true;
        } else if (w == "send-proxy") {
            c.send_proxy = true;
        } else if (w == "port" && has_value &&
                   args[i + 1].find_first_not_of("0123456789") != std::string::npos) {
            auto e = sample::parse_expr(args[++i], sample::Use::Internal);
            if (!e)
                return ctx.alert(
                    "'http-check connect' : error detected while parsing port expression : {}",
                    e.error());
            c.port_expr = std::make_shared<const sample::Expr>(std::move(*e));
        } else if (w == "port" && has_value) {
            auto p = port_number(args[++i]);
            if (!p) return ctx.alert("'http-check connect' : 'port' {}", p.error());
            c.port = *p;
        } else if (w == "addr" && has_value) {
            auto a = ip_address(args[++i]);
            if (!a) return ctx.alert("'http-check connect' : 'addr' {}", a.error());
            c.addr = *a;
        } else if (w == "comment" && has_value) {
            ++i;
        } else if (w == "ssl" || w == "sni" || w == "alpn") {
            return ctx.alert(
                "'http-check connect {}' is not implemented yet; it comes with TLS "
                "(roadmap item 7)",
                w);
        } else if (w == "proto") {
            return ctx.alert(
                "'http-check connect proto' is not implemented yet; it comes with HTTP/2 "
                "(roadmap item 10)");
        } else if (w == "via-socks4") {
            return ctx.alert(
                "'http-check connect via-socks4' is not supported: sluice has no SOCKS4 "
                "server connections (the 'socks4' server option)");
        } else {
            return ctx.alert("'http-check connect' : unknown or incomplete option '{}'", w);
        }
    }
    if (opening) {
        pc.connect = c;
    } else {
        pc.more.emplace_back();
        pc.more.back().connect = c;
    }
    return Status::Ok;
}

Status parse_http_check(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    const std::string& what = args[0];
    if (what == "disable-on-404") {
        if (args.size() > 1) return ctx.alert("'http-check disable-on-404' takes no argument");
        pc.disable_on_404 = true;
        return Status::Ok;
    }
    if (what == "comment") return Status::Ok;
    if (what == "send-state") {
        if (args.size() > 1) return ctx.alert("cannot handle unexpected argument '{}'.", args[1]);
        pc.send_state = true;
        return Status::Ok;
    }
    if (what.starts_with("set-var") || what.starts_with("unset-var")) {
        auto rule = parse_var_action(args);
        if (!rule) return ctx.alert("{}", rule.error());
        own_rules(ctx, pc);
        const std::uint32_t exchange = static_cast<std::uint32_t>(pc.more.size());
        const bool connected = pc.more.empty() ? pc.connect.has_value() : true;
        const std::uint32_t stage = !pc.more.empty() && !pc.more.back().expects.empty() ? 3
                                    : pc.more.empty() && !pc.expects.empty()            ? 3
                                    : exchange_sent(pc)                                 ? 2
                                    : connected                                         ? 1
                                                                                        : 0;
        pc.http_actions.emplace_back(exchange * 4 + stage, std::move(*rule));
        return Status::Ok;
    }
    if (what != "send" && what != "expect" && what != "connect")
        return ctx.alert(
            "'http-check' expects 'comment', 'connect', 'disable-on-404', 'expect', "
            "'send', 'send-state', 'set-var' or 'unset-var', got '{}'",
            what);
    own_rules(ctx, pc);
    if (what == "send") return parse_send(args, ctx, pc);
    if (what == "expect") return parse_expect(args, ctx, pc);
    return parse_connect(args, ctx, pc);
}

// ---- tcp-check and the protocol checks ------------------------------------------------------

Status parse_tcp_check_kw(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    if (pc.tcp_rules_owner != ctx.context()) {
        // As with http-check: a section's own rules replace those of its defaults.
        if (!pc.tcp_rules_owner.empty()) pc.tcp_rules.rules.clear();
        pc.tcp_rules_owner = ctx.context();
        pc.tcp_comment.clear();
    }
    if (args[0] == "comment") {
        if (args.size() != 2) return ctx.alert("'tcp-check comment' expects a comment string.");
        pc.tcp_comment = args[1];
        TcpRule c;
        c.op = TcpRule::Op::Comment;
        c.comment = args[1];
        pc.tcp_rules.rules.push_back(std::move(c));
        return Status::Ok;
    }
    auto rule = parse_tcp_check(args);
    if (!rule) return ctx.alert("{}", rule.error());
    if (rule->comment.empty()) rule->comment = pc.tcp_comment;
    auto& rules = pc.tcp_rules.rules;
    // HAProxy 2.6: once a sequence has a connect, it must open with one.
    if (rule->op == TcpRule::Op::Connect && opening_connect(rules) == std::string::npos &&
        std::any_of(rules.begin(), rules.end(), [](const TcpRule& r) {
            return r.op != TcpRule::Op::Comment && r.op != TcpRule::Op::Action;
        }))
        return ctx.alert(
            "'tcp-check connect' : first step MUST also be a 'connect', optionally preceded by "
            "a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in "
            "the tcp-check ruleset.");
    rules.push_back(std::move(*rule));
    return Status::Ok;
}

Status set_kind(Ctx& ctx, ProxyCheckConf& pc, Kind kind, TcpRules rules = {}) {
    if (ctx.negated()) {
        if (pc.kind == kind) pc.kind = Kind::Tcp;
        return Status::Ok;
    }
    pc.kind = kind;
    pc.protocol_rules = std::move(rules);
    return Status::Ok;
}

Status parse_option_tcp_check(Args, Ctx& ctx, ProxyCheckConf& pc) {
    return set_kind(ctx, pc, Kind::TcpCheck);
}
Status parse_redis_check(Args, Ctx& ctx, ProxyCheckConf& pc) {
    return set_kind(ctx, pc, Kind::Protocol, redis_rules());
}
Status parse_ldap_check(Args, Ctx& ctx, ProxyCheckConf& pc) {
    return set_kind(ctx, pc, Kind::Protocol, ldap_rules());
}
Status parse_ssl_hello(Args, Ctx& ctx, ProxyCheckConf& pc) {
    return set_kind(ctx, pc, Kind::Protocol, ssl_hello_rules());
}
Status parse_smtpchk(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    // HAProxy 2.6: HELO/EHLO with a domain, anything else falls back to "HELO localhost".
    std::string verb = "HELO", domain = "localhost";
    if (args.size() == 2 && (args[0] == "HELO" || args[0] == "EHLO")) {
        verb = args[0];
        domain = args[1];
    }
    return set_kind(ctx, pc, Kind::Protocol, smtp_rules(verb, domain));
}
Status parse_pgsql_check(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    if (ctx.negated()) return set_kind(ctx, pc, Kind::Protocol);
    if (args.size() != 2 || args[0] != "user")
        return ctx.alert("expects 'user <username>' as argument");
    return set_kind(ctx, pc, Kind::Protocol, pgsql_rules(args[1]));
}

Status parse_mysql_check(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    if (ctx.negated()) return set_kind(ctx, pc, Kind::Protocol);
    std::string user;
    bool post41 = true;
    if (!args.empty()) {
        if (args[0] != "user")
            return ctx.alert("only supports optional values: 'user' (got '{}').", args[0]);
        if (args.size() < 2 || args[1].empty())
            return ctx.alert("'option mysql-check user' expects <username> as argument.");
        user = args[1];
        if (args.size() >= 3) {
            if (args[2] != "post-41" && args[2] != "pre-41")
                return ctx.alert("keyword 'user' only supports 'post-41' and 'pre-41' (got '{}').",
                                 args[2]);
            post41 = args[2] == "post-41";
        }
        if (args.size() > 3) return ctx.alert("cannot handle unexpected argument '{}'.", args[3]);
    }
    return set_kind(ctx, pc, Kind::Protocol, mysql_rules(user, post41));
}

Status parse_timeout_check(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    auto d = util::parse_duration(args[0]);
    if (!d) return ctx.alert("{}", d.error());
    pc.timeout_check = *d;
    return Status::Ok;
}

Status parse_spread_checks(Args args, Ctx& ctx, GlobalCheckConf& g) {
    auto v = util::parse_uint(args[0], 50);
    if (!v) return ctx.alert("expects a percentage from 0 to 50, got '{}'", args[0]);
    g.spread_checks = static_cast<std::uint32_t>(*v);
    return Status::Ok;
}

constexpr In BE = cfg::kBackendSide;

constexpr cfg::Keyword kKeywords[] = {
    {.name = "option httpchk",
     .in = BE,
     .arity = cfg::between(0, 3),
     .parse = cfg::on_part<ProxyCheckConf, parse_httpchk>,
     .negatable = true},
    {.name = "http-check",
     .in = BE,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ProxyCheckConf, parse_http_check>},
    {.name = "tcp-check",
     .in = BE,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ProxyCheckConf, parse_tcp_check_kw>},
    {.name = "option tcp-check",
     .in = BE,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyCheckConf, parse_option_tcp_check>,
     .negatable = true},
    {.name = "option redis-check",
     .in = BE,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyCheckConf, parse_redis_check>,
     .negatable = true},
    {.name = "option ldap-check",
     .in = BE,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyCheckConf, parse_ldap_check>,
     .negatable = true},
    {.name = "option ssl-hello-chk",
     .in = BE,
     .arity = cfg::exactly(0),
     .parse = cfg::on_part<ProxyCheckConf, parse_ssl_hello>,
     .negatable = true},
    {.name = "option smtpchk",
     .in = BE,
     .arity = cfg::between(0, 2),
     .parse = cfg::on_part<ProxyCheckConf, parse_smtpchk>,
     .negatable = true},
    {.name = "option pgsql-check",
     .in = BE,
     .arity = cfg::between(0, 2),
     .parse = cfg::on_part<ProxyCheckConf, parse_pgsql_check>,
     .negatable = true},
    {.name = "option mysql-check",
     .in = BE,
     .arity = cfg::at_least(0),
     .parse = cfg::on_part<ProxyCheckConf, parse_mysql_check>,
     .negatable = true},
    {.name = "timeout check",
     .in = BE,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<ProxyCheckConf, parse_timeout_check>},
    {.name = "spread-checks",
     .in = In::Global,
     .arity = cfg::exactly(1),
     .parse = cfg::on_global<GlobalCheckConf, parse_spread_checks>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace

TcpRules http_sequence_rules(const ProxyCheckConf& pc) {
    TcpRules set;
    set.builtin = true;  // HAProxy's http-check messages name no step
    auto connect = [&](const Connect& c) {
        TcpRule r;
        r.op = TcpRule::Op::Connect;
        r.port = c.port;
        r.port_expr = c.port_expr;
        r.addr = c.addr;
        r.send_proxy = c.send_proxy;
        r.linger = c.linger;
        set.rules.push_back(std::move(r));
    };
    auto actions = [&](std::uint32_t at) {
        for (const auto& [where, rule] : pc.http_actions)
            if (where == at) set.rules.push_back(rule);
    };
    std::uint32_t index = 0;
    auto exchange = [&](const HttpRequest& req, bool send, const std::vector<Expect>& expects,
                        bool last) {
        actions(index * 4 + 1);
        if (send) {
            TcpRule r;
            r.op = TcpRule::Op::Send;
            if (req.dynamic()) {
                r.http = std::make_shared<const HttpRequest>(req);
                r.http_state = pc.send_state;
                set.rules.push_back(std::move(r));
                send = false;  // done
            }
        }
        if (send) {
            TcpRule r;
            r.op = TcpRule::Op::Send;
            r.data = req.serialize();
            if (pc.send_state) {
                // The header's place, found by serializing with a marker value.
                const std::string marked = req.serialize("\x01");
                const std::size_t at = marked.find("x-haproxy-server-state: \x01");
                if (at != std::string::npos) r.state_at = at;
            }
            set.rules.push_back(std::move(r));
        }
        // HAProxy reads an answer where expect rules say so, and at the end of the sequence
        // (its implicit "2xx or 3xx").
        actions(index * 4 + 2);
        if (expects.empty() && !last) {
            actions(index * 4 + 3);
            return;
        }
        TcpRule r;
        r.op = TcpRule::Op::Expect;
        r.expect.kind = TcpExpect::Kind::Http;
        r.expect.http = expects;
        r.expect.disable_on_404 = pc.disable_on_404;
        r.expect.error_status = check::Status::L7Response;
        if (!expects.empty()) r.expect.timeout_status = expects.back().timeout_status;
        for (const Expect& e : expects) {
            if (e.kind == Expect::Kind::String || e.kind == Expect::Kind::RString)
                r.expect.needs_body = true;
            if (e.dynamic()) r.expect.http_dynamic = true;
        }
        set.rules.push_back(std::move(r));
        actions(index * 4 + 3);
    };
    actions(0);
    if (pc.connect) connect(*pc.connect);
    exchange(pc.request, true, pc.expects, pc.more.empty());
    for (std::size_t i = 0; i < pc.more.size(); ++i) {
        const HttpExchange& x = pc.more[i];
        index = static_cast<std::uint32_t>(i + 1);
        actions(index * 4);
        if (x.connect) connect(*x.connect);
        exchange(x.request, x.sent, x.expects, i + 1 == pc.more.size());
    }
    return set;
}

std::string format_server_state(const ServerState& s) {
    std::string out;
    const std::uint32_t full = s.rise + s.fall - 1;
    if (s.up) {
        // Going down: how far from DOWN, out of `fall`.
        out = s.stopping ? "NOLB" : "UP";
        if (s.health != full) out += fmt::format(" {}/{}", s.health - s.rise + 1, s.fall);
    } else {
        out = "DOWN";
        if (s.health != 0) out += fmt::format(" {}/{}", s.health, s.rise);
    }
    out +=
        fmt::format("; address={}; port={}; name={}/{}; node={}; weight={}/{}; scur={}/{}; qcur={}",
                    s.address, s.port, s.backend, s.server, s.node, s.weight, s.total_weight,
                    s.scur, s.backend_cur, s.qcur);
    if (s.throttle >= 0) out += fmt::format("; throttle={}%", s.throttle);
    return out;
}

bool HttpRequest::dynamic() const {
    if (uri_format || body_format) return true;
    for (const auto& f : header_formats)
        if (f) return true;
    return false;
}

std::string HttpRequest::render(sample::Context& ctx, std::string_view state) const {
    HttpRequest r;
    r.method = method;
    r.version = version;
    r.body = body;
    if (uri_format) {
        std::string rendered;
        uri_format->render(ctx, rendered);
        r.uri = rendered.empty() ? uri : std::move(rendered);  // uri is "/" with uri-lf
    } else {
        r.uri = uri;
    }
    if (body_format) {
        r.body.clear();
        body_format->render(ctx, r.body);
    }
    for (std::size_t i = 0; i < headers.size(); ++i) {
        if (i < header_formats.size() && header_formats[i]) {
            std::string value;
            header_formats[i]->render(ctx, value);
            if (!value.empty()) r.headers.emplace_back(headers[i].first, std::move(value));
        } else {
            r.headers.push_back(headers[i]);
        }
    }
    return r.serialize(state);
}

std::string HttpRequest::serialize(std::string_view state) const {
    std::string out = fmt::format("{} {} {}\r\n", method, uri, version);
    bool has_connection = false;
    for (const auto& [name, value] : headers) {
        // HAProxy 2.6 sends header names in lower case (as HTTP/2 would).
        std::string n = name;
        for (char& ch : n)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (n == "content-length" || n == "transfer-encoding") continue;
        if (n == "connection") has_connection = true;
        out += fmt::format("{}: {}\r\n", n, value);
    }
    if (!state.empty()) out += fmt::format("x-haproxy-server-state: {}\r\n", state);
    if (!body.empty()) out += fmt::format("content-length: {}\r\n", body.size());
    if (!has_connection && version != "HTTP/1.0") out += "connection: close\r\n";
    out += "\r\n";
    out += body;
    return out;
}

}  // namespace sluice::check
