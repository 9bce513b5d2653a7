// The keywords of log::ProxyLogFormat (see proxy_format.hpp): formats compiled when their line
// is read, so a bad one is an alert at its line, and HAProxy 2.6's rules for who wins and what
// it warns about. Checks needing the proxy's final mode (HTTP-only variables, `option httplog`
// in mode tcp) are filed as late checks, since `mode` may come after the line.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/log/proxy_format.hpp"
#include "sluice/log/record.hpp"
#include "sluice/proxy/conf.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::log {

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::SectionKind;
using cfg::Status;

const sample::Format& compiled(std::string_view text) {
    // Built-in strings: a failure is a bug caught by the unit tests, never a user's error.
    static const auto compile = [](std::string_view t) {
        auto f = sample::Format::parse(t, kLogFormatUse);
        return f ? std::move(*f) : sample::Format();
    };
    static const sample::Format kHttp = compile(kHttpLogFormat);
    static const sample::Format kClf = compile(kHttpLogClfFormat);
    static const sample::Format kHttps = compile(kHttpsLogFormat);
    static const sample::Format kTcp = compile(kTcpLogFormat);
    static const sample::Format kSd = compile(kDefaultSd);
    static const sample::Format kError = compile(kLegacyErrorPrefix);
    if (text == kHttpLogFormat) return kHttp;
    if (text == kHttpLogClfFormat) return kClf;
    if (text == kHttpsLogFormat) return kHttps;
    if (text == kTcpLogFormat) return kTcp;
    if (text == kDefaultSd) return kSd;
    return kError;
}

// The keyword that set `kind`, as HAProxy names it in its override warning.
std::string_view origin(LogKind kind) {
    switch (kind) {
        case LogKind::Http:
            return "option httplog";
        case LogKind::HttpClf:
            return "option httplog clf";
        case LogKind::Https:
            return "option httpslog";
        case LogKind::Tcp:
            return "option tcplog";
        default:
            return "log-format";
    }
}

// How HAProxy names a proxy in its messages (a listen section is a "proxy").
std::string_view proxy_type(SectionKind kind) {
    return kind == SectionKind::Listen ? "proxy" : cfg::section_name(kind);
}

bool is_backend_only(const Ctx& ctx) {
    return ctx.section() == SectionKind::Backend;
}

// HAProxy: "backend 'be' : 'log-format' directive is ignored in backends."; our prefix
// already names the section and the keyword.
Status warn_backend(Ctx& ctx) {
    return ctx.warning("directive is ignored in backends.");
}

// The frontends and listens in mode tcp whose traffic log a defaults line chose: `say` what
// is wrong with each (one line each, as late checks take several), once every mode is known.
template <class Say>
void check_inheriting_tcp_proxies(Say say) {
    const cfg::Location* here = cfg::current_location();
    if (!here) return;
    (void)cfg::defer_check(
        [here = *here, say](const cfg::Document& doc) -> std::string {
            std::string out;
            for (const cfg::Section& s : doc.proxies) {
                if (s.kind != SectionKind::Frontend && s.kind != SectionKind::Listen) continue;
                if (s.parts.read<proxy::ProxyConf>().mode == proxy::Mode::Http) continue;
                const ProxyLogFormat& conf = s.parts.read<ProxyLogFormat>();
                if (conf.origin.file != here.file || conf.origin.line != here.line) continue;
                const std::string line = say(s, conf);
                if (line.empty()) continue;
                if (!out.empty()) out += '\n';
                out += line;
            }
            return out;
        },
        say.level);
}

// Files the check of a proxy's final mode: formats with HTTP-only variables are refused in
// mode tcp, where HAProxy falls back to `option tcplog` for its HTTP formats.
void check_mode_later(Ctx& ctx, std::string keyword, std::string http_var) {
    if (ctx.section() == SectionKind::Defaults) {
        // Checked in the proxies that use it: the traffic log's format only (the others' use
        // is not tracked).
        if (keyword != "log-format") return;
        struct {
            cfg::Level level = cfg::Level::Alert;
            std::string keyword, http_var;
            std::string operator()(const cfg::Section&, const ProxyLogFormat& conf) const {
                if (conf.kind != LogKind::Custom) return {};
                return fmt::format(
                    "failed to parse {} : format variable '{}' is reserved for "
                    "HTTP mode.",
                    keyword, http_var);
            }
        } say{.level = cfg::Level::Alert, .keyword = keyword, .http_var = http_var};
        check_inheriting_tcp_proxies(say);
        return;
    }
    const SectionKind kind = ctx.section();
    (void)cfg::defer_check(
        [kind, name = ctx.name(), keyword, http_var](const cfg::Document& doc) -> std::string {
            for (const cfg::Section& s : doc.proxies) {
                if (s.kind != kind || s.name != name) continue;
                if (s.parts.read<proxy::ProxyConf>().mode == proxy::Mode::Http) return {};
                return fmt::format(
                    "failed to parse {} : format variable '{}' is reserved for "
                    "HTTP mode.",
                    keyword, http_var);
            }
            return {};
        });
}

void warn_tcp_fallback_later(Ctx& ctx, std::string option) {
    if (is_backend_only(ctx)) return;
    if (ctx.section() == SectionKind::Defaults) {
        struct {
            cfg::Level level = cfg::Level::Warning;
            std::string option;
            std::string operator()(const cfg::Section& s, const ProxyLogFormat& conf) const {
                if (conf.kind != LogKind::Http && conf.kind != LogKind::HttpClf &&
                    conf.kind != LogKind::Https)
                    return {};
                return fmt::format(
                    "'{}' not usable with {} '{}' (needs 'mode http'). Falling "
                    "back to 'option tcplog'.",
                    option, proxy_type(s.kind), s.name);
            }
        } say{.level = cfg::Level::Warning, .option = option};
        check_inheriting_tcp_proxies(say);
        return;
    }
    const SectionKind kind = ctx.section();
    (void)cfg::defer_check(
        [kind, name = ctx.name(), option](const cfg::Document& doc) -> std::string {
            for (const cfg::Section& s : doc.proxies) {
                if (s.kind != kind || s.name != name) continue;
                if (s.parts.read<proxy::ProxyConf>().mode == proxy::Mode::Http) return {};
                return fmt::format(
                    "'{}' not usable with {} '{}' (needs 'mode http'). Falling back to "
                    "'option tcplog'.",
                    option, proxy_type(kind), name);
            }
            return {};
        },
        cfg::Level::Warning);
}

// One format argument (`log-format`, `log-format-sd`, `error-log-format`,
// `unique-id-format`), HAProxy's messages for a missing or split one.
Status one_format(Args args, Ctx& ctx, sample::Use use, std::optional<sample::Format>& out) {
    if (args.empty()) return ctx.alert("{} expects an argument.", ctx.keyword());
    if (args.size() > 1)
        return ctx.alert("{} expects only one argument, don't forget to escape spaces!",
                         ctx.keyword());
    auto f = sample::Format::parse(args[0], use);
    if (!f) return ctx.alert("failed to parse {} : {}.", ctx.keyword(), f.error());
    const std::string_view http_var = f->http_only_variable();
    if (!http_var.empty()) check_mode_later(ctx, std::string(ctx.keyword()), std::string(http_var));
    out = std::move(*f);
    return Status::Ok;
}

// The last of `log-format` / `option httplog|httpslog|tcplog` wins; in a defaults section
// HAProxy says so. `said`: how the warning names the new one (HAProxy names `option httpslog`
// "option httplog" there).
Status set_log(Ctx& ctx, ProxyLogFormat& conf, LogKind kind, std::string_view said,
               sample::Format format, bool json) {
    Status st = Status::Ok;
    if (conf.kind != LogKind::None && ctx.section() == SectionKind::Defaults)
        st = ctx.warning("'{}' overrides previous '{}' in 'defaults' section.", said,
                         origin(conf.kind));
    conf.kind = kind;
    conf.log = std::move(format);
    conf.json = json;
    if (const cfg::Location* here = cfg::current_location()) conf.origin = *here;
    return st;
}

Status parse_log_format(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    std::optional<sample::Format> f;
    if (const Status st = one_format(args, ctx, kLogFormatUse, f); st == Status::Alert) return st;
    const Status st = set_log(ctx, conf, LogKind::Custom, "log-format", std::move(*f), false);
    if (is_backend_only(ctx)) return warn_backend(ctx);
    return st;
}

Status parse_option_httplog(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    if (ctx.negated()) return ctx.alert("negation/default is not supported for option 'httplog'.");
    LogKind kind = LogKind::Http;
    bool json = false;
    if (!args.empty()) {
        if (args[0] == "clf")
            kind = LogKind::HttpClf;
        else if (args[0] == "json")  // Sluice's
            json = true;
        else
            return ctx.alert("keyword 'httplog' only supports option 'clf' (or Sluice's 'json').");
        if (args.size() > 1)
            return ctx.alert("'option httplog' cannot handle unexpected argument '{}'.", args[1]);
    }
    const Status st =
        set_log(ctx, conf, kind, kind == LogKind::HttpClf ? "option httplog clf" : "option httplog",
                compiled(kind == LogKind::HttpClf ? kHttpLogClfFormat : kHttpLogFormat), json);
    if (is_backend_only(ctx)) return warn_backend(ctx);
    warn_tcp_fallback_later(ctx, "option httplog");
    return st;
}

Status parse_option_httpslog(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    if (ctx.negated()) return ctx.alert("negation/default is not supported for option 'httpslog'.");
    if (!args.empty())
        return ctx.alert("'option httpslog' cannot handle unexpected argument '{}'.", args[0]);
    const Status st =
        set_log(ctx, conf, LogKind::Https, "option httplog", compiled(kHttpsLogFormat), false);
    if (is_backend_only(ctx)) return warn_backend(ctx);
    warn_tcp_fallback_later(ctx, "option httpslog");
    return st;
}

Status parse_option_tcplog(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    if (ctx.negated()) return ctx.alert("negation/default is not supported for option 'tcplog'.");
    bool json = false;
    if (!args.empty()) {
        if (args[0] != "json" || args.size() > 1)
            return ctx.alert("'option tcplog' cannot handle unexpected argument '{}'.",
                             args[0] != "json" ? args[0] : args[1]);
        json = true;
    }
    const Status st =
        set_log(ctx, conf, LogKind::Tcp, "option tcplog", compiled(kTcpLogFormat), json);
    if (is_backend_only(ctx)) return warn_backend(ctx);
    return st;
}

Status parse_log_format_sd(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    const Status st = one_format(args, ctx, kLogFormatUse, conf.sd);
    if (st != Status::Alert && is_backend_only(ctx)) return warn_backend(ctx);
    return st;
}

Status parse_error_log_format(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    const Status st = one_format(args, ctx, kLogFormatUse, conf.error);
    if (st != Status::Alert && is_backend_only(ctx)) return warn_backend(ctx);
    return st;
}

Status parse_unique_id_format(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    return one_format(args, ctx, kUniqueIdUse, conf.unique_id);
}

Status parse_unique_id_header(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    if (args.empty()) return ctx.alert("{} expects an argument.", ctx.keyword());
    conf.unique_id_header = args[0];
    return Status::Ok;
}

// HAProxy keeps at most 63 bytes of a captured cookie.
constexpr std::uint32_t kMaxCookieCapture = 63;

Status parse_capture_cookie(Args args, Ctx& ctx, ProxyLogFormat& conf) {
    // HAProxy reads the length at the fourth word without checking the third.
    if (args.size() < 3) return ctx.alert("'capture' expects 'cookie' <cookie_name> 'len' <len>.");
    std::int64_t len = 0;
    // atol(): digits at the start, anything else is 0.
    std::from_chars(args[2].data(), args[2].data() + args[2].size(), len);
    conf.capture_cookie = args[0];
    conf.capture_cookie_len = static_cast<std::uint32_t>(std::clamp<std::int64_t>(len, 0, 1 << 20));
    if (conf.capture_cookie_len > kMaxCookieCapture) {
        conf.capture_cookie_len = kMaxCookieCapture;
        return ctx.warning("truncating capture length to {} bytes for frontend '{}'.",
                           kMaxCookieCapture, ctx.name());
    }
    return Status::Ok;
}

template <bool ProxyLogFormat::*Member>
Status option_flag(Args, Ctx& ctx, ProxyLogFormat& conf) {
    conf.*Member = !ctx.negated();
    return Status::Ok;
}

template <Status (*Fn)(Args, Ctx&, ProxyLogFormat&)>
constexpr cfg::ParseFn on_conf = cfg::on_part<ProxyLogFormat, Fn>;

constexpr cfg::In kAny = cfg::kAnyProxy;
constexpr cfg::In kFront = cfg::kFrontendSide;
constexpr cfg::In kBack = cfg::kBackendSide;

constexpr cfg::Keyword kKeywords[] = {
    {.name = "log-format",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_log_format>},
    {.name = "log-format-sd",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_log_format_sd>},
    {.name = "error-log-format",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_error_log_format>},
    {.name = "option httplog",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_option_httplog>,
     .negatable = true},
    {.name = "option httpslog",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_option_httpslog>,
     .negatable = true},
    {.name = "option tcplog",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_option_tcplog>,
     .negatable = true},
    {.name = "option dontlognull",
     .in = kFront,
     .arity = cfg::exactly(0),
     .parse = on_conf<option_flag<&ProxyLogFormat::dontlognull>>,
     .negatable = true},
    {.name = "option dontlog-normal",
     .in = kFront,
     .arity = cfg::exactly(0),
     .parse = on_conf<option_flag<&ProxyLogFormat::dontlog_normal>>,
     .negatable = true},
    {.name = "option log-separate-errors",
     .in = kFront,
     .arity = cfg::exactly(0),
     .parse = on_conf<option_flag<&ProxyLogFormat::log_separate_errors>>,
     .negatable = true},
    {.name = "option logasap",
     .in = kFront,
     .arity = cfg::exactly(0),
     .parse = on_conf<option_flag<&ProxyLogFormat::logasap>>,
     .negatable = true},
    {.name = "option log-health-checks",
     .in = kBack,
     .arity = cfg::exactly(0),
     .parse = on_conf<option_flag<&ProxyLogFormat::log_health_checks>>,
     .negatable = true},
    {.name = "unique-id-format",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_unique_id_format>},
    {.name = "unique-id-header",
     .in = kAny,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_unique_id_header>},
    {.name = "capture cookie",
     .in = cfg::In::Frontend,
     .arity = cfg::at_least(0),
     .parse = on_conf<parse_capture_cookie>},
};
const cfg::Registrar kRegistered{kKeywords};

// `unique-id`: the transaction's id, made before its request rules run; none without
// unique-id-format (HAProxy's fetch fails then too).
bool fetch_unique_id(const sample::Args&, sample::Context& ctx, sample::Sample& out) {
    const UniqueId* id = ctx.find<UniqueId>();
    if (!id || id->size == 0) return false;
    out = sample::Sample::string(id->view());
    return true;
}

constexpr sample::Fetch kFetches[] = {
    {.name = "unique-id",
     .fn = fetch_unique_id,
     .out = sample::Type::Str,
     .use = sample::Use::Conn},
};
const sample::FetchRegistrar kFetchesRegistered{kFetches};

}  // namespace

const sample::Format* ProxyLogFormat::log_format(bool http_mode) const {
    if (kind == LogKind::None || !log) return nullptr;
    const bool http_format =
        kind == LogKind::Http || kind == LogKind::HttpClf || kind == LogKind::Https;
    if (http_format && !http_mode) return &compiled(kTcpLogFormat);
    return &*log;
}

const sample::Format& ProxyLogFormat::sd_format() const {
    return sd ? *sd : compiled(kDefaultSd);
}

const sample::Format& ProxyLogFormat::legacy_error_prefix() {
    return compiled(kLegacyErrorPrefix);
}

}  // namespace sluice::log
