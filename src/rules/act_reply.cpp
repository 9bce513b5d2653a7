// Actions that end a rule set: allow, deny, return, redirect (and the `redirect` keyword,
// HAProxy's older spelling of `http-request redirect`); and the actions of later issues, each
// an alert naming what brings it.
#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/http/h1_emit.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/log/conf.hpp"
#include "sluice/proxy/conf.hpp"
#include "sluice/rules/http_rules.hpp"

namespace sluice::rules {
namespace {

using util::Result;

class Allow final : public Action {
  public:
    bool run(RuleCtx& ctx) const override {
        ctx.outcome.verdict = Verdict::Allow;
        return false;
    }
};

Result<std::unique_ptr<const Action>> parse_allow(const ActionParse& p) {
    if (p.args.size() != 1) return util::error(fmt::format("unexpected '{}'", p.args[1]));
    return std::unique_ptr<const Action>(new Allow);
}

Result<std::uint16_t> parse_status(std::string_view s, unsigned lo, unsigned hi) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
        return util::error(
            fmt::format("expects a status code between {} and {}, got '{}'", lo, hi, s));
    return static_cast<std::uint16_t>(v);
}

// The reply of deny and return: a status, then either the proxy's error page for it or a
// content of our own (with a content-type and extra headers).
struct ReplySpec {
    std::uint16_t status = 0;
    std::string content_type;
    std::optional<std::string> body;            // string/file
    std::optional<sample::Format> body_format;  // lf-string
    std::vector<std::pair<std::string, sample::Format>> headers;
    bool use_error_page = true;
};

Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return util::error(fmt::format("cannot open file '{}'", path));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A content larger than a buffer can never be sent: refused once the config is read (when
// tune.bufsize is known). HAProxy 2.6 refuses such a file; a string that long it sends empty.
void check_fits(std::string_view action, std::string what, std::size_t size) {
    cfg::defer_check([action = std::string(action), what = std::move(what),
                      size](const cfg::Document& doc) -> std::string {
        const std::size_t limit = doc.global.read<proxy::GlobalConf>().bufsize;
        if (size <= limit) return {};
        return fmt::format("'{}': {} exceeds the buffer size ({} > {})", action, what, size, limit);
    });
}

// Parses `[deny_status|status N] [content-type T] [string S|lf-string F|file P|errorfile P|
// default-errorfiles] [hdr N F]...`.
Result<ReplySpec> parse_reply(std::span<const std::string> a, std::string_view status_word,
                              std::uint16_t default_status, sample::Use available) {
    ReplySpec r;
    r.status = default_status;
    for (std::size_t i = 1; i < a.size(); ++i) {
        const std::string& w = a[i];
        auto next = [&]() -> Result<std::string> {
            if (i + 1 >= a.size()) return util::error(fmt::format("'{}' expects an argument", w));
            return a[++i];
        };
        if (w == status_word) {
            auto v = next();
            if (!v) return util::error(v.error());
            auto st = parse_status(*v, 200, 599);
            if (!st) return util::error(st.error());
            r.status = *st;
        } else if (w == "content-type") {
            auto v = next();
            if (!v) return util::error(v.error());
            r.content_type = *v;
        } else if (w == "string" || w == "file" || w == "errorfile") {
            auto v = next();
            if (!v) return util::error(v.error());
            if (w == "string") {
                r.body = *v;
            } else {
                auto content = read_file(*v);
                if (!content) return util::error(content.error());
                if (w == "errorfile") {
                    return util::error("'errorfile' replies are not supported yet; use 'file'");
                }
                r.body = std::move(*content);
            }
            check_fits(a[0], w == "file" ? fmt::format("file '{}'", *v) : std::string("string"),
                       r.body->size());
            r.use_error_page = false;
        } else if (w == "lf-string") {
            auto v = next();
            if (!v) return util::error(v.error());
            auto f = sample::Format::parse(*v, available);
            if (!f) return util::error(f.error());
            r.body_format = std::move(*f);
            r.use_error_page = false;
        } else if (w == "default-errorfiles") {
            r.use_error_page = true;
        } else if (w == "hdr") {
            if (i + 2 >= a.size()) return util::error("'hdr' expects <name> <fmt>");
            auto f = sample::Format::parse(a[i + 2], available);
            if (!f) return util::error(f.error());
            r.headers.emplace_back(a[i + 1], std::move(*f));
            i += 2;
        } else if (w == "lf-file" || w == "errorfiles") {
            return util::error(fmt::format("'{}' is not supported yet", w));
        } else {
            return util::error(fmt::format("unexpected '{}'", w));
        }
    }
    if (r.body && r.content_type.empty() && !r.body->empty())
        return util::error("a reply with a body needs a 'content-type'");
    if (r.body_format && r.content_type.empty())
        return util::error("a reply with a body needs a 'content-type'");
    return r;
}

void build_reply(RuleCtx& ctx, const ReplySpec& spec, Outcome& o) {
    o.status = spec.status;
    if (spec.use_error_page && spec.headers.empty()) {
        o.reply = {};  // the proxy's page for this status
        return;
    }
    std::string& body = ctx.samples.arena().take();
    if (spec.body) body = *spec.body;
    if (spec.body_format) spec.body_format->render(ctx.samples, body);
    http::ErrorPage& page = o.reply;
    page.status = spec.status;
    page.head = fmt::format("HTTP/1.1 {} {}\r\n", spec.status, http::default_reason(spec.status));
    if (!spec.content_type.empty())
        page.head += fmt::format("content-type: {}\r\n", spec.content_type);
    page.head += fmt::format("content-length: {}\r\n", body.size());
    for (const auto& [name, value] : spec.headers) {
        std::string v;
        value.render(ctx.samples, v);
        page.head += fmt::format("{}: {}\r\n", name, v);
    }
    page.body = body;
}

class Reply final : public Action {
  public:
    Reply(ReplySpec spec, bool close, bool tarpit = false, bool deny = false)
        : spec_(std::move(spec)), close_(close), tarpit_(tarpit), deny_(deny) {}
    bool run(RuleCtx& ctx) const override {
        ctx.outcome.verdict = Verdict::Reply;
        ctx.outcome.close = close_;
        ctx.outcome.tarpit = tarpit_;
        ctx.outcome.denied = deny_;
        build_reply(ctx, spec_, ctx.outcome);
        return false;
    }

  private:
    ReplySpec spec_;
    bool close_;
    bool tarpit_;
    bool deny_;  // deny, tarpit: counted as denied (dreq, dresp), not as intercepted
};

// reject and silent-drop: the connection ends, nothing is answered.
class Drop final : public Action {
  public:
    explicit Drop(bool silent) : silent_(silent) {}
    bool run(RuleCtx& ctx) const override {
        ctx.outcome.verdict = Verdict::Drop;
        ctx.outcome.silent = silent_;
        return false;
    }

  private:
    bool silent_;
};

template <bool Silent>
Result<std::unique_ptr<const Action>> parse_drop(const ActionParse& p) {
    if (p.args.size() != 1) return util::error(fmt::format("unexpected '{}'", p.args[1]));
    return std::unique_ptr<const Action>(new Drop(Silent));
}

// tarpit: the deny reply (500 unless deny_status says otherwise), after `timeout tarpit`, so
// that an abusive client waits instead of retrying at once. As in HAProxy 2.6, a keep-alive
// connection carries on after it.
Result<std::unique_ptr<const Action>> parse_tarpit(const ActionParse& p) {
    auto spec = parse_reply(p.args, "deny_status", 500, p.available);
    if (!spec) return util::error(spec.error());
    return std::unique_ptr<const Action>(new Reply(std::move(*spec), false, true, true));
}

Result<std::unique_ptr<const Action>> parse_deny(const ActionParse& p) {
    // A denied response becomes a 502, as in HAProxy.
    auto spec =
        parse_reply(p.args, "deny_status", p.set == RuleSet::Request ? 403 : 502, p.available);
    if (!spec) return util::error(spec.error());
    return std::unique_ptr<const Action>(new Reply(std::move(*spec), false, false, true));
}

Result<std::unique_ptr<const Action>> parse_return(const ActionParse& p) {
    auto spec = parse_reply(p.args, "status", 200, p.available);
    if (!spec) return util::error(spec.error());
    if (spec->use_error_page && spec->status != 200 && !http::error_status_index(spec->status) &&
        spec->headers.empty()) {
        // No built-in page for it: an empty reply with that status.
        spec->use_error_page = false;
        spec->body = std::string();
    }
    if (spec->use_error_page && spec->status == 200 && spec->headers.empty()) {
        spec->use_error_page = false;
        spec->body = std::string();
    }
    return std::unique_ptr<const Action>(new Reply(std::move(*spec), false));
}

// redirect location|prefix|scheme TARGET [code N] [drop-query] [append-slash]
//          [set-cookie NAME[=VALUE]] [clear-cookie NAME]
enum class RedirectKind { Location, Prefix, Scheme };
struct RedirectSpec {
    RedirectKind kind = RedirectKind::Location;
    sample::Format target;
    std::uint16_t code = 302;
    bool drop_query = false;
    bool append_slash = false;
    std::string set_cookie;
    std::string clear_cookie;
};

class Redirect final : public Action {
  public:
    explicit Redirect(RedirectSpec spec) : spec_(std::move(spec)) {}
    bool run(RuleCtx& ctx) const override {
        std::string& location = ctx.samples.arena().take();
        spec_.target.render(ctx.samples, location);
        const http::RequestHead* r = ctx.req;
        if (spec_.kind != RedirectKind::Location && r) {
            std::string_view uri = r->target;
            if (spec_.kind == RedirectKind::Scheme || r->target_form != http::TargetForm::Origin) {
                const std::string_view path = http::target_path(r->target);
                if (!path.empty())
                    uri = std::string_view(path.data(),
                                           r->target.data() + r->target.size() - path.data());
            }
            if (spec_.drop_query) uri = uri.substr(0, uri.find('?'));
            if (spec_.kind == RedirectKind::Scheme) {
                const http::Header* host = r->headers.find("host");
                location += "://";
                if (host) location += host->value;
                location += uri;
            } else {
                // prefix "/" alone would double the slash.
                if (location == "/") location.clear();
                location += uri;
            }
            if (spec_.append_slash && !location.ends_with('/')) location += '/';
        }
        Outcome& o = ctx.outcome;
        o.verdict = Verdict::Reply;
        o.status = spec_.code;
        o.close = false;
        o.reply = {};
        o.reply.status = spec_.code;
        o.reply.head = fmt::format("HTTP/1.1 {} {}\r\ncontent-length: 0\r\nlocation: {}\r\n",
                                   spec_.code, http::default_reason(spec_.code), location);
        if (!spec_.set_cookie.empty()) {
            o.reply.head += fmt::format("set-cookie: {}{}; path=/\r\n", spec_.set_cookie,
                                        spec_.set_cookie.find('=') == std::string::npos ? "=" : "");
        }
        if (!spec_.clear_cookie.empty())
            o.reply.head += fmt::format(
                "set-cookie: {}; path=/; Max-Age=0; Expires=Thu, 01-Jan-1970 00:00:01 GMT\r\n",
                spec_.clear_cookie);
        o.reply.head += "cache-control: no-cache\r\n";
        return false;
    }

  private:
    RedirectSpec spec_;
};

Result<std::unique_ptr<const Action>> parse_redirect_words(std::span<const std::string> a,
                                                           sample::Use available) {
    // a[0] is the action word.
    if (a.size() < 3)
        return util::error("expects 'location', 'prefix' or 'scheme' followed by a target");
    RedirectSpec spec;
    if (a[1] == "location") {
        spec.kind = RedirectKind::Location;
    } else if (a[1] == "prefix") {
        spec.kind = RedirectKind::Prefix;
    } else if (a[1] == "scheme") {
        spec.kind = RedirectKind::Scheme;
    } else {
        return util::error(fmt::format("expects 'location', 'prefix' or 'scheme', not '{}'", a[1]));
    }
    auto f = sample::Format::parse(a[2], available);
    if (!f) return util::error(f.error());
    spec.target = std::move(*f);
    for (std::size_t i = 3; i < a.size(); ++i) {
        const std::string& w = a[i];
        if (w == "code") {
            if (i + 1 >= a.size()) return util::error("'code' expects a status");
            auto code = parse_status(a[++i], 301, 308);
            if (!code || (*code > 303 && *code < 307))
                return util::error(
                    fmt::format("'code' expects 301, 302, 303, 307 or 308, got '{}'", a[i]));
            spec.code = *code;
        } else if (w == "drop-query") {
            spec.drop_query = true;
        } else if (w == "append-slash") {
            spec.append_slash = true;
        } else if (w == "set-cookie" || w == "clear-cookie") {
            if (i + 1 >= a.size()) return util::error(fmt::format("'{}' expects a cookie name", w));
            (w == "set-cookie" ? spec.set_cookie : spec.clear_cookie) = a[++i];
        } else {
            return util::error(fmt::format("unexpected '{}'", w));
        }
    }
    return std::unique_ptr<const Action>(new Redirect(std::move(spec)));
}

Result<std::unique_ptr<const Action>> parse_redirect(const ActionParse& p) {
    return parse_redirect_words(p.args, p.available);
}

// The `redirect` keyword: an http-request redirect rule placed with the others.
cfg::Status parse_redirect_keyword(cfg::Args args, cfg::Ctx& ctx) {
    constexpr sample::Use kAvailable = sample::Use::Internal | sample::Use::Conn | sample::Use::Req;
    const std::size_t cond_at = sample::condition_start(args);
    std::vector<std::string> words{"redirect"};
    words.insert(words.end(), args.begin(), args.begin() + static_cast<std::ptrdiff_t>(cond_at));
    auto action = parse_redirect_words(words, kAvailable);
    if (!action) return ctx.alert("{}", action.error());
    auto rule = std::make_shared<Rule>();
    rule->action = std::move(*action);
    rule->where = ctx.where();
    if (cond_at < args.size()) {
        auto cond = sample::parse_condition(args.subspan(cond_at),
                                            ctx.parts().get<sample::AclConf>().table, kAvailable);
        if (!cond) return ctx.alert("{}", cond.error());
        rule->cond = std::make_shared<const sample::Condition>(std::move(*cond));
    }
    ctx.parts().get<HttpRulesConf>().request.push_back(std::move(rule));
    return cfg::Status::Ok;
}

// set-log-level <level>|silent: the level of this transaction's log line, or none.
class SetLogLevel final : public Action {
  public:
    explicit SetLogLevel(std::int8_t level) : level_(level) {}
    bool run(RuleCtx& ctx) const override {
        ctx.outcome.log_level = level_;
        return true;
    }

  private:
    std::int8_t level_;
};

Result<std::unique_ptr<const Action>> parse_set_log_level(const ActionParse& p) {
    if (p.args.size() != 2) return util::error("expects a log level or 'silent'");
    if (p.args[1] == "silent")
        return std::unique_ptr<const Action>(new SetLogLevel(Outcome::kSilentLog));
    const auto level = log::parse_level(p.args[1]);
    if (!level) return util::error(fmt::format("unknown log level '{}'", p.args[1]));
    return std::unique_ptr<const Action>(new SetLogLevel(static_cast<std::int8_t>(*level)));
}

constexpr std::string_view kStick = "stick tables (roadmap item 9)";

constexpr ActionDef kActions[] = {
    {.name = "allow", .parse = parse_allow, .after_response = true},
    {.name = "deny", .parse = parse_deny},
    {.name = "return", .parse = parse_return, .response = false},
    {.name = "redirect", .parse = parse_redirect},
    {.name = "tarpit", .parse = parse_tarpit, .response = false},
    {.name = "set-log-level", .parse = parse_set_log_level, .after_response = true},
    {.name = "track-sc0", .pending = kStick},
    {.name = "track-sc1", .pending = kStick},
    {.name = "track-sc2", .pending = kStick},
    {.name = "sc-inc-gpc0", .pending = kStick},
    {.name = "sc-set-gpt0", .pending = kStick},
    {.name = "silent-drop", .parse = parse_drop<true>, .after_response = false},
    {.name = "reject", .parse = parse_drop<false>, .response = false},
    {.name = "wait-for-handshake", .pending = "TLS (roadmap item 7)"},
    {.name = "do-resolve", .pending = "DNS resolvers (roadmap item 12)"},
    {.name = "lua", .pending = "Lua scripting (roadmap item 13)"},
};
const ActionRegistrar kRegistered{kActions};

constexpr cfg::Keyword kKeywords[] = {
    {.name = "redirect",
     .in = cfg::In::Frontend | cfg::In::Backend,
     .arity = cfg::at_least(2),
     .parse = parse_redirect_keyword},
};
const cfg::Registrar kKeywordsRegistered{kKeywords};

}  // namespace
}  // namespace sluice::rules
