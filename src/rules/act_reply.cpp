// Actions that end a rule set: allow, deny, return, redirect (and the `redirect` keyword,
// HAProxy's older spelling of `http-request redirect`); and the actions of later issues, each
// an alert naming what brings it.
#include <fmt/format.h>

#include <algorithm>
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

// A page named by `errorfile` or `errorfiles`: the first is read with the rule, the second
// found once the config is read (the http-errors section may come later).
struct PageSlot {
    std::shared_ptr<const http::ErrorPage> page;
};

// The reply of deny and return: a status, then either the proxy's error page for it, a page of
// its own (errorfile, errorfiles), or a content of our own (with a content-type and extra
// headers), rendered for each reply when it holds log-format.
struct ReplySpec {
    std::uint16_t status = 0;
    std::string content_type;
    std::optional<std::string> body;            // string/file
    std::optional<sample::Format> body_format;  // lf-string/lf-file
    std::vector<std::pair<std::string, sample::Format>> headers;
    bool use_error_page = true;
    std::shared_ptr<PageSlot> page;  // errorfile, errorfiles
    bool page_ignores = false;       // content-type or hdr given with errorfile(s)
    // Built by finish_reply() from the above when the reply has a content of its own: a page
    // made once (nothing in it is log-format), or the formats of one made for each reply.
    std::shared_ptr<const http::ErrorPage> fixed;
    std::shared_ptr<const http::ReplyFormat> format;
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

// `errorfiles <name>`: the section's page for the status, looked up once every section is read.
// HAProxy 2.6 refuses an unknown section, and warns about a status the section does not declare
// (the reply is then empty).
void find_section_page(std::uint16_t status, std::string section, std::shared_ptr<PageSlot> slot) {
    cfg::defer_check([status, section, slot](const cfg::Document& doc) -> std::string {
        const cfg::Section* s =
            doc.global.read<cfg::NamedSections>().find(cfg::SectionKind::HttpErrors, section);
        if (!s) return fmt::format("unknown http-errors section '{}'", section);
        for (const http::ErrorRule& rule : s->parts.read<http::ErrorPagesConf>().rules)
            if (const auto* set = std::get_if<http::ErrorRule::SetPage>(&rule.what))
                if (set->page->status == status) slot->page = set->page;
        return {};
    });
    cfg::defer_check(
        [status, section, slot](const cfg::Document& doc) -> std::string {
            if (slot->page ||
                !doc.global.read<cfg::NamedSections>().find(cfg::SectionKind::HttpErrors, section))
                return {};
            slot->page = std::make_shared<const http::ErrorPage>(
                http::make_error_page(status, "", {}, "", "errorfiles"));
            return fmt::format(
                "status {} is not declared in http-errors section '{}'; the reply "
                "is empty",
                status, section);
        },
        cfg::Level::Warning);
}

// The page or formats of a reply with a content of its own. HAProxy computes content-length
// and content-type itself: `hdr` lines naming them are dropped, as it does (with a warning).
void finish_reply(ReplySpec& r, std::string_view action, cfg::Ctx* cfg) {
    if (r.page_ignores && cfg)
        (void)cfg->warning("'{}': 'content-type' and 'hdr' are ignored with an errorfile", action);
    std::erase_if(r.headers, [&](const auto& h) {
        const bool own =
            http::iequals(h.first, "content-length") || http::iequals(h.first, "content-type") ||
            http::iequals(h.first, "transfer-encoding") || http::iequals(h.first, "connection");
        if (own && cfg)
            (void)cfg->warning("'{}': 'hdr {}' is ignored: sluice sets it itself", action, h.first);
        return own;
    });
    if (r.page || (r.use_error_page && r.headers.empty())) return;
    sample::Format body =
        r.body_format ? std::move(*r.body_format) : sample::Format::literal(r.body.value_or(""));
    r.body_format.reset();
    r.body.reset();
    const bool dynamic =
        !body.constant() || std::any_of(r.headers.begin(), r.headers.end(),
                                        [](const auto& h) { return !h.second.constant(); });
    if (!dynamic) {
        std::vector<std::pair<std::string, std::string>> fields;
        for (const auto& [name, value] : r.headers)
            fields.emplace_back(name, std::string(value.constant_text()));
        r.fixed = std::make_shared<const http::ErrorPage>(
            http::make_error_page(r.status, r.content_type, fields,
                                  std::string(body.constant_text()), std::string(action)));
        return;
    }
    sample::note_rule_format(body);
    for (const auto& h : r.headers)
        sample::note_rule_format(h.second);
    http::ErrorPage page = http::make_error_page_format(
        r.status, r.content_type, std::move(r.headers), std::move(body), std::string(action));
    r.format = page.format;
}

// Parses `[deny_status|status N] [content-type T] [string S|lf-string F|file P|lf-file P|
// errorfile P|errorfiles N|default-errorfiles] [hdr N F]...`.
Result<ReplySpec> parse_reply(std::span<const std::string> a, std::string_view status_word,
                              std::uint16_t default_status, sample::Use available) {
    ReplySpec r;
    r.status = default_status;
    std::string_view payload;  // the option that gave the content, if any
    std::string errorfiles;
    for (std::size_t i = 1; i < a.size(); ++i) {
        const std::string& w = a[i];
        auto next = [&]() -> Result<std::string> {
            if (i + 1 >= a.size() || a[i + 1].empty())
                return util::error(fmt::format("'{}' expects an argument", w));
            return a[++i];
        };
        const bool is_payload = w == "string" || w == "file" || w == "errorfile" ||
                                w == "errorfiles" || w == "lf-string" || w == "lf-file" ||
                                w == "default-errorfiles";
        if (is_payload && !payload.empty())
            return util::error(fmt::format("unexpected '{}': '{}' is already given", w, payload));
        if (is_payload) payload = w;
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
        } else if (w == "string" || w == "file") {
            auto v = next();
            if (!v) return util::error(v.error());
            if (w == "string") {
                r.body = *v;
            } else {
                auto content = read_file(*v);
                if (!content) return util::error(content.error());
                r.body = std::move(*content);
            }
            check_fits(a[0], w == "file" ? fmt::format("file '{}'", *v) : std::string("string"),
                       r.body->size());
            r.use_error_page = false;
        } else if (w == "errorfile") {
            auto v = next();
            if (!v) return util::error(v.error());
            auto content = read_file(*v);
            if (!content) return util::error(content.error());
            // The status is checked below, once every word is read.
            auto page = http::error_page_from_response(0, *content, *v);
            if (!page) return util::error(fmt::format("'{}': {}", *v, page.error()));
            r.page = std::make_shared<PageSlot>();
            r.page->page = std::make_shared<const http::ErrorPage>(std::move(*page));
            check_fits(a[0], fmt::format("errorfile '{}'", *v),
                       r.page->page->head.size() + r.page->page->body.size());
            r.use_error_page = false;
        } else if (w == "errorfiles") {
            auto v = next();
            if (!v) return util::error(v.error());
            errorfiles = *v;
            r.page = std::make_shared<PageSlot>();
            r.use_error_page = false;
        } else if (w == "lf-string" || w == "lf-file") {
            auto v = next();
            if (!v) return util::error(v.error());
            std::string text = *v;
            if (w == "lf-file") {
                auto content = read_file(*v);
                if (!content) return util::error(content.error());
                text = std::move(*content);
                check_fits(a[0], fmt::format("file '{}'", *v), text.size());
            }
            auto f = sample::Format::parse(text, available);
            if (!f)
                return util::error(w == "lf-file" ? fmt::format("'{}': {}", *v, f.error())
                                                  : f.error());
            r.body_format = std::move(*f);
            r.use_error_page = false;
        } else if (w == "default-errorfiles") {
            r.use_error_page = true;
        } else if (w == "hdr") {
            if (i + 2 >= a.size() || a[i + 1].empty() || a[i + 2].empty())
                return util::error("'hdr' expects <name> <fmt>");
            auto f = sample::Format::parse(a[i + 2], available);
            if (!f) return util::error(fmt::format("'hdr {}': {}", a[i + 1], f.error()));
            r.headers.emplace_back(a[i + 1], std::move(*f));
            i += 2;
        } else {
            return util::error(fmt::format("unexpected '{}'", w));
        }
    }
    if (r.page) {
        // HAProxy 2.6 sends these pages as they are: the status must have one of its pages.
        if (!http::error_status_index(r.status))
            return util::error(
                fmt::format("status {} has no error page, as '{}' needs", r.status, payload));
        if (r.page->page) {  // errorfile: the page answers the rule's status
            auto page = std::make_shared<http::ErrorPage>(*r.page->page);
            page->status = r.status;
            r.page->page = std::move(page);
        } else {
            find_section_page(r.status, errorfiles, r.page);
        }
        // content-type and hdr mean nothing then (HAProxy warns).
        r.page_ignores = !r.content_type.empty() || !r.headers.empty();
        r.headers.clear();
        return r;
    }
    if (r.body && r.content_type.empty() && !r.body->empty())
        return util::error("a reply with a body needs a 'content-type'");
    if (r.body_format && r.content_type.empty() &&
        (payload == "lf-string" || !r.body_format->text().empty()))
        return util::error("a reply with a body needs a 'content-type'");
    return r;
}

void build_reply(RuleCtx& ctx, const ReplySpec& spec, Outcome& o) {
    o.status = spec.status;
    o.reply = {};
    o.page = nullptr;
    if (spec.page) {
        o.page = spec.page->page.get();
        return;
    }
    if (spec.fixed) {
        o.page = spec.fixed.get();
        return;
    }
    if (!spec.format) return;  // the proxy's page for this status
    // %ST shows the status of this reply, as HAProxy sets it before making the content.
    sample::LazyRecord* lazy = ctx.samples.find<sample::LazyRecord>();
    const int status_before = lazy ? lazy->status : -1;
    if (lazy) lazy->status = spec.status;
    // A response rule's reply replaces the response before it is made: HAProxy's content reads
    // no response (res.hdr, status: empty).
    http::Txn* txn = ctx.samples.find<http::Txn>();
    http::Txn without_response;
    if (txn && txn->res) {
        without_response = *txn;
        without_response.res = nullptr;
        without_response.res_body = {};
        ctx.samples.attach(&without_response);
    }
    http::render_reply(*spec.format, ctx.samples, o.reply.head, o.reply.body);
    if (txn && txn->res) ctx.samples.attach(txn);
    if (lazy) lazy->status = status_before;
    o.reply.status = spec.status;
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
    finish_reply(*spec, p.args[0], p.cfg);
    return std::unique_ptr<const Action>(new Reply(std::move(*spec), false, true, true));
}

Result<std::unique_ptr<const Action>> parse_deny(const ActionParse& p) {
    // A denied response becomes a 502, as in HAProxy.
    auto spec =
        parse_reply(p.args, "deny_status", p.set == RuleSet::Request ? 403 : 502, p.available);
    if (!spec) return util::error(spec.error());
    finish_reply(*spec, p.args[0], p.cfg);
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
    finish_reply(*spec, p.args[0], p.cfg);
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
        o.page = nullptr;
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
    sample::note_rule_format(*f);
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
