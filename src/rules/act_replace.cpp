// Actions that rewrite with a regular expression: replace-header, replace-value (header fields,
// in every rule set), replace-path, replace-pathq and replace-uri (the request target). Each
// behaves as its HAProxy 2.6 namesake, checked against haproxy 2.6.12:
//
// - The regex is searched, not anchored: it may match a part of the subject, but a subject that
//   matches is replaced whole by the expansion of the replacement ("curl" on "curl/7.47.0"
//   gives just the replacement). Matching is case-sensitive unless the regex says `(?i)`.
// - The replacement is a log-format string, rendered first; the expansion then reads the
//   rendered text: `\0`..`\9` insert a group (nothing when it did not take part), `\xHH` a byte,
//   `\c` the character c. A backslash that a sample renders is read the same way, and a text
//   ending in a lone backslash (or a truncated `\x`) fails the rewrite. The log-format string
//   keeps its backslashes for this (they are not log-format escapes in HAProxy).
// - replace-value splits a field at the commas outside double quotes; the blanks around a value
//   that is replaced go with it ("max-age=1, public" becomes "max-age=1,private"); empty
//   values, a trailing one included, are matched too.
// - A failed rewrite (a bad escape, an expansion of tune.bufsize bytes or more, an authority
//   that cannot be found) ends the rule set with a 500, the connection kept: HAProxy's
//   strict-mode, which is on by default.
// - The request's Host and the authority of an absolute-form target stay in step: replacing
//   Host rewrites the target's authority, and replace-uri with a target that names one sets
//   every Host field to it.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/http/txn.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/expr.hpp"
#include "sluice/util/units.hpp"

namespace sluice::rules {
namespace {

using util::Result;

// Groups \0 to \9, as HAProxy's MAX_MATCH.
constexpr std::uint32_t kGroups = 10;

struct CodeFree {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
using Regex = std::unique_ptr<pcre2_code, CodeFree>;

Result<Regex> compile(const std::string& text) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    Regex re(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, &err, &offset,
                           nullptr));
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return util::error(fmt::format("regex '{}' is invalid: {} at offset {}", text,
                                       reinterpret_cast<const char*>(msg), offset));
    }
    // Without JIT support (some platforms), the interpreter still matches.
    (void)pcre2_jit_compile(re.get(), PCRE2_JIT_COMPLETE);
    return re;
}

// Match data is per thread so that matching allocates nothing and needs no lock.
pcre2_match_data* thread_match_data() {
    thread_local std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md{
        pcre2_match_data_create(kGroups, nullptr), pcre2_match_data_free};
    return md.get();
}

// One match of a regex on a subject: where its groups are.
struct Match {
    std::string_view subject;
    const PCRE2_SIZE* ov = nullptr;
    std::uint32_t groups = 0;  // the groups the ovector holds

    std::string_view group(unsigned n) const {
        if (n >= groups || ov[2 * n] == PCRE2_UNSET) return {};
        return subject.substr(ov[2 * n], ov[2 * n + 1] - ov[2 * n]);
    }
};

// Searches `subject`; a match or depth limit counts as no match, as in HAProxy.
bool search(const Regex& re, std::string_view subject, Match& m) {
    pcre2_match_data* md = thread_match_data();
    if (!md) return false;
    // PCRE2 refuses a null subject even when empty.
    const char* p = subject.data() ? subject.data() : "";
    const int rc =
        pcre2_match(re.get(), reinterpret_cast<PCRE2_SPTR>(p), subject.size(), 0, 0, md, nullptr);
    if (rc < 0) return false;
    m.subject = std::string_view(p, subject.size());
    m.ov = pcre2_get_ovector_pointer(md);
    // rc == 0: more groups took part than the ovector holds; the first ten are still set.
    m.groups = rc == 0 ? kGroups : static_cast<std::uint32_t>(rc);
    return true;
}

char ascii_upper(char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// HAProxy's exp_replace(): the rendered replacement `text` with its escapes expanded against
// `m`, appended to `out`. False for a lone trailing backslash, a truncated `\x`, or a result of
// `limit` bytes or more (HAProxy builds it in a buffer of tune.bufsize bytes).
bool expand(std::string_view text, const Match& m, std::size_t limit, std::string& out) {
    const std::size_t start = out.size();
    // The rendering is a C string in HAProxy: a NUL a sample rendered ends it.
    text = text.substr(0, text.find('\0'));
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i++];
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        if (i == text.size()) return false;
        const char e = text[i++];
        if (e >= '0' && e <= '9') {
            out.append(m.group(static_cast<unsigned>(e - '0')));
        } else if (e == 'x') {
            // Two characters, hex digits or not, computed as HAProxy does.
            if (i + 2 > text.size()) return false;
            auto nibble = [](char h) {
                auto v = static_cast<std::uint8_t>(ascii_upper(h) - '0');
                if (v > 9) v = static_cast<std::uint8_t>(v - ('A' - '9' - 1));
                return v;
            };
            const std::uint8_t hi = nibble(text[i]);
            const std::uint8_t lo = nibble(text[i + 1]);
            out.push_back(static_cast<char>((hi << 4) + lo));
            i += 2;
        } else {
            out.push_back(e);
        }
    }
    return out.size() - start < limit;
}

// The replacement's log-format string; its backslashes stay for the expansion above
// (HAProxy's log-format has no backslash escape).
Result<sample::Format> parse_replacement(std::string_view text, sample::Use available) {
    auto f = sample::Format::parse(text, available);
    if (f) sample::note_rule_format(*f);
    return f;
}

std::size_t buffer_limit(RuleCtx& ctx) {
    const proxy::Config* c = ctx.samples.find<proxy::Config>();
    return c ? c->global.bufsize : 16384;
}

// HAProxy's http_parse_authority() with userinfo left out: what follows "scheme://" up to the
// next '/'; a target without "scheme://" (a CONNECT authority, "foo:bar") is its own
// authority. Empty for origin-form and asterisk-form targets.
std::string_view authority_of(std::string_view uri) {
    if (uri.empty() || uri[0] == '*' || uri[0] == '/') return {};
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    std::size_t p = 0;
    if (alpha(uri[0])) {
        p = 1;
        while (p < uri.size() &&
               (alpha(uri[p]) || digit(uri[p]) || uri[p] == '+' || uri[p] == '-' || uri[p] == '.'))
            ++p;
        for (const char want : {':', '/', '/'}) {
            if (p == uri.size() || uri[p++] != want) return uri;
        }
    }
    std::size_t start = p;
    while (p < uri.size() && uri[p] != '/') {
        if (uri[p++] == '@') start = p;
    }
    return uri.substr(start, p - start);
}

// A request whose target carries an authority (absolute-form, or a CONNECT's authority-form):
// its Host and that authority are kept equal.
bool has_authority(const http::RequestHead& r) {
    return r.target_form == http::TargetForm::Absolute ||
           r.target_form == http::TargetForm::Authority;
}

// HAProxy's http_update_authority(): Host became `host`, so the target's authority follows.
bool update_authority(RuleCtx& ctx, std::string_view host) {
    http::RequestHead& r = *ctx.req;
    const std::string_view authority = authority_of(r.target);
    if (authority.empty()) return false;
    if (authority == host) return true;
    const std::string_view t = r.target;
    const std::size_t at = static_cast<std::size_t>(authority.data() - t.data());
    std::string& out = ctx.samples.arena().take();
    out.append(t.substr(0, at)).append(host).append(t.substr(at + authority.size()));
    r.target = out;
    return true;
}

// HAProxy's http_update_host() after the whole target was replaced: a target that names an
// authority sets every Host field to it; the target's form follows the new text.
bool update_host(RuleCtx& ctx) {
    http::RequestHead& r = *ctx.req;
    const std::string_view uri = r.target;
    if (uri.empty() || uri[0] == '/') {
        r.target_form = http::TargetForm::Origin;
        return true;
    }
    if (uri[0] == '*') {
        r.target_form = http::TargetForm::Asterisk;
        return true;
    }
    std::string_view authority = uri;
    if (r.method == "CONNECT") {
        r.target_form = http::TargetForm::Authority;
    } else {
        r.target_form = http::TargetForm::Absolute;
        authority = authority_of(uri);
        if (authority.empty()) return false;
    }
    for (std::size_t i = 0; i < r.headers.size(); ++i)
        if (http::iequals(r.headers[i].name, "host")) r.headers.at(i).value = authority;
    return true;
}

bool is_lws(char c) {
    return c == ' ' || c == '\t';
}

// Where the comma-separated value starting at `from` ends: at the next comma outside a quoted
// string (HAProxy's http_find_hdr_value_end()).
std::size_t value_end(std::string_view s, std::size_t from) {
    bool quoted = false, pair = false;
    for (std::size_t i = from; i < s.size(); ++i) {
        const char c = s[i];
        if (pair) {
            pair = false;
        } else if (quoted) {
            if (c == '\\')
                pair = true;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            return i;
        }
    }
    return s.size();
}

// replace-header / replace-value NAME REGEX FMT
class HeaderReplace final : public Action {
  public:
    HeaderReplace(std::string name, Regex re, sample::Format fmt, bool full)
        : name_(std::move(name)), re_(std::move(re)), fmt_(std::move(fmt)), full_(full) {}

    bool run(RuleCtx& ctx) const override {
        http::HeaderList* h = ctx.res ? &ctx.res->headers : ctx.req ? &ctx.req->headers : nullptr;
        if (!h) return true;
        const bool host =
            !ctx.res && ctx.req && has_authority(*ctx.req) && http::iequals(name_, "host");
        Rendered rendered;
        for (std::size_t i = 0; i < h->size(); ++i) {
            if (!http::iequals((*h)[i].name, name_)) continue;
            const bool ok = full_ ? replace_whole(ctx, h->at(i), host, rendered)
                                  : replace_values(ctx, h->at(i), host, rendered);
            if (!ok) return rewrite_failed(ctx);
        }
        return true;
    }

  private:
    // The replacement, rendered at the first match: before any field changes, as HAProxy
    // renders it before looking at them.
    struct Rendered {
        bool done = false;
        std::string_view text;
        std::size_t limit = 0;
    };
    std::string_view render(RuleCtx& ctx, Rendered& r) const {
        if (!r.done) {
            std::string& s = ctx.samples.arena().take();
            fmt_.render(ctx.samples, s);
            r.text = s;
            r.limit = buffer_limit(ctx);
            r.done = true;
        }
        return r.text;
    }

    bool replace_whole(RuleCtx& ctx, http::Header& field, bool host, Rendered& r) const {
        Match m;
        if (!search(re_, field.value, m)) return true;
        const std::string_view text = render(ctx, r);
        std::string& out = ctx.samples.arena().take();
        if (!expand(text, m, r.limit, out)) return false;
        field.value = out;
        return !host || update_authority(ctx, out);
    }

    // Each comma-separated value in turn, the text after a replaced one read as it was.
    bool replace_values(RuleCtx& ctx, http::Header& field, bool host, Rendered& r) const {
        const std::string_view v = field.value;
        std::string* out = nullptr;  // the new value, once a value was replaced
        std::size_t copied = 0;      // bytes of `v` already in *out
        std::size_t pos = 0;
        for (bool first = true;; first = false) {
            if (!first) {
                if (pos == v.size()) break;
                if (v[pos] == ',') ++pos;
            }
            const std::size_t blank_start = pos;
            std::size_t start = pos;
            while (start < v.size() && is_lws(v[start]))
                ++start;
            const std::size_t comma = value_end(v, start);
            std::size_t end = comma;
            while (end > start && is_lws(v[end - 1]))
                --end;
            pos = comma;
            Match m;
            if (!search(re_, v.substr(start, end - start), m)) continue;
            const std::string_view text = render(ctx, r);
            if (!out) out = &ctx.samples.arena().take();
            out->append(v.substr(copied, blank_start - copied));
            if (!expand(text, m, r.limit, *out)) return false;
            copied = comma;  // the blanks around the value go with it
            if (host) {
                // HAProxy syncs the authority after each replacement, from the whole field.
                std::string& now = ctx.samples.arena().take();
                now.append(*out).append(v.substr(copied));
                if (!update_authority(ctx, now)) return false;
            }
        }
        if (out) {
            out->append(v.substr(copied));
            field.value = *out;
        }
        return true;
    }

    std::string name_;
    Regex re_;
    sample::Format fmt_;
    bool full_;
};

template <bool Full>
Result<std::unique_ptr<const Action>> parse_replace_header(const ActionParse& p) {
    if (p.args.size() != 4 || p.args[1].empty() || p.args[2].empty() || p.args[3].empty())
        return util::error("expects exactly 3 arguments: <name> <match-regex> <replace-fmt>");
    auto re = compile(p.args[2]);
    if (!re) return util::error(re.error());
    auto f = parse_replacement(p.args[3], p.available);
    if (!f) return util::error(f.error());
    return std::unique_ptr<const Action>(
        new HeaderReplace(p.args[1], std::move(*re), std::move(*f), Full));
}

// replace-path / replace-pathq / replace-uri REGEX FMT
enum class TargetPart { Path, PathQuery, Uri };

class TargetReplace final : public Action {
  public:
    TargetReplace(TargetPart part, Regex re, sample::Format fmt)
        : part_(part), re_(std::move(re)), fmt_(std::move(fmt)) {}

    bool run(RuleCtx& ctx) const override {
        http::RequestHead* r = ctx.req;
        if (!r || ctx.res) return true;
        const std::string_view target = r->target;
        std::string_view subject = target;
        if (part_ != TargetPart::Uri) {
            // From the path's first '/' (after any scheme://authority) to the end.
            const std::string_view path = http::target_path(target);
            if (path.empty()) return true;  // "*", an authority, "http://host": no path
            subject = target.substr(static_cast<std::size_t>(path.data() - target.data()));
            if (part_ == TargetPart::Path) subject = path;
        }
        if (subject.empty()) return true;
        Match m;
        if (!search(re_, subject, m)) return true;
        std::string& text = ctx.samples.arena().take();
        fmt_.render(ctx.samples, text);
        std::string& out = ctx.samples.arena().take();
        const std::size_t at = static_cast<std::size_t>(subject.data() - target.data());
        out.append(target.substr(0, at));
        if (!expand(text, m, buffer_limit(ctx), out)) return rewrite_failed(ctx);
        out.append(target.substr(at + subject.size()));
        r->target = out;
        if (part_ == TargetPart::Uri && !update_host(ctx)) return rewrite_failed(ctx);
        return true;
    }

  private:
    TargetPart part_;
    Regex re_;
    sample::Format fmt_;
};

template <TargetPart Part>
Result<std::unique_ptr<const Action>> parse_replace_target(const ActionParse& p) {
    if (p.args.size() != 3 || p.args[1].empty() || p.args[2].empty())
        return util::error("expects exactly 2 arguments: <match-regex> <replace-fmt>");
    auto re = compile(p.args[1]);
    if (!re) return util::error(re.error());
    auto f = parse_replacement(p.args[2], p.available);
    if (!f) return util::error(f.error());
    return std::unique_ptr<const Action>(new TargetReplace(Part, std::move(*re), std::move(*f)));
}

// set-timeout server|tunnel <time>|<expr>: this transaction's timeout, in milliseconds when
// computed.
class SetTimeout final : public Action {
  public:
    SetTimeout(bool tunnel, util::Duration fixed, std::optional<sample::Expr> expr)
        : tunnel_(tunnel), fixed_(fixed), expr_(std::move(expr)) {}
    bool run(RuleCtx& ctx) const override {
        util::Duration d = fixed_;
        if (expr_) {
            sample::Sample s;
            if (!expr_->eval(ctx.samples, s) ||
                (s.type != sample::Type::Sint &&
                 !sample::cast(s, sample::Type::Sint, ctx.samples.arena())) ||
                s.sint <= 0)
                return true;  // no usable value: the timeout stays
            d = std::chrono::milliseconds(s.sint);
        }
        (tunnel_ ? ctx.outcome.tunnel_timeout : ctx.outcome.server_timeout) = d;
        return true;
    }

  private:
    bool tunnel_;
    util::Duration fixed_;
    std::optional<sample::Expr> expr_;
};

Result<std::unique_ptr<const Action>> parse_set_timeout(const ActionParse& p) {
    if (p.args.size() != 3 || (p.args[1] != "server" && p.args[1] != "tunnel"))
        return util::error("expects 'server' or 'tunnel', then a timeout or an expression");
    const bool tunnel = p.args[1] == "tunnel";
    if (auto d = util::parse_duration(p.args[2])) {
        if (d->count() == 0) return util::error("the timeout must not be zero");
        return std::unique_ptr<const Action>(new SetTimeout(tunnel, *d, std::nullopt));
    }
    auto e = sample::parse_expr(p.args[2], p.available);
    if (!e) return util::error(e.error());
    return std::unique_ptr<const Action>(new SetTimeout(tunnel, {}, std::move(*e)));
}

// disable-l7-retry: `retry-on` beyond conn-failure does not apply to this transaction.
class DisableL7Retry final : public Action {
  public:
    bool run(RuleCtx& ctx) const override {
        ctx.outcome.no_l7_retry = true;
        return true;
    }
};

Result<std::unique_ptr<const Action>> parse_disable_l7_retry(const ActionParse& p) {
    if (p.args.size() != 1) return util::error("takes no argument");
    return std::unique_ptr<const Action>(new DisableL7Retry());
}

// strict-mode on|off: for the rules after it in this rule set.
class StrictMode final : public Action {
  public:
    explicit StrictMode(bool on) : on_(on) {}
    bool run(RuleCtx& ctx) const override {
        ctx.strict = on_;
        return true;
    }

  private:
    bool on_;
};

Result<std::unique_ptr<const Action>> parse_strict_mode(const ActionParse& p) {
    if (p.args.size() != 2 || (p.args[1] != "on" && p.args[1] != "off"))
        return util::error("expects 'on' or 'off'");
    return std::unique_ptr<const Action>(new StrictMode(p.args[1] == "on"));
}

constexpr ActionDef kActions[] = {
    {.name = "replace-header", .parse = parse_replace_header<true>, .after_response = true},
    {.name = "replace-value", .parse = parse_replace_header<false>, .after_response = true},
    {.name = "replace-path", .parse = parse_replace_target<TargetPart::Path>, .response = false},
    {.name = "replace-pathq",
     .parse = parse_replace_target<TargetPart::PathQuery>,
     .response = false},
    {.name = "replace-uri", .parse = parse_replace_target<TargetPart::Uri>, .response = false},
    {.name = "strict-mode", .parse = parse_strict_mode, .after_response = true},
    {.name = "set-timeout", .parse = parse_set_timeout, .response = false, .backend_side = true},
    {.name = "disable-l7-retry", .parse = parse_disable_l7_retry, .response = false},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
