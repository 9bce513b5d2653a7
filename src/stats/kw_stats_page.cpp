// The `stats` proxy keywords of the stats page (page.hpp). Each one enables the page, as in
// HAProxy ("this statement alone is enough to enable statistics reporting"), and rebuilds the
// section's own service from the PageConf so that the section's ProxyServiceConf always matches
// it; a section inheriting from defaults copies both and rebuilds on its own `stats` lines.
#include <algorithm>
#include <cctype>

#include "sluice/cfg/keyword.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/stats/page.hpp"

namespace sluice::stats {
namespace {

constexpr std::string_view kExpects =
    "expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', "
    "'show-desc', 'show-legends', 'refresh' or 'http-request'";

// The page is on once any `stats` line is seen: keep the service in step with the settings.
cfg::Status enable(cfg::Ctx& ctx, PageConf& conf) {
    conf.enabled = true;
    ctx.parts().get<rules::ProxyServiceConf>() = {.uri_prefix = conf.uri,
                                                  .service = make_page_service(conf)};
    return cfg::Status::Ok;
}

PageConf& page(cfg::Ctx& ctx) {
    return ctx.parts().get<PageConf>();
}

cfg::Status parse_enable(cfg::Args, cfg::Ctx& ctx) {
    return enable(ctx, page(ctx));
}

cfg::Status parse_uri(cfg::Args args, cfg::Ctx& ctx) {
    if (args.empty() || args[0].empty()) return ctx.alert("'uri' needs an URI prefix.");
    page(ctx).uri = args[0];
    return enable(ctx, page(ctx));
}

cfg::Status parse_realm(cfg::Args args, cfg::Ctx& ctx) {
    if (args.empty() || args[0].empty()) return ctx.alert("'realm' needs a realm name.");
    page(ctx).realm = args[0];
    return enable(ctx, page(ctx));
}

cfg::Status parse_auth(cfg::Args args, cfg::Ctx& ctx) {
    if (args.empty() || args[0].empty()) return ctx.alert("'auth' needs a user:password account.");
    page(ctx).users.push_back(args[0]);
    return enable(ctx, page(ctx));
}

cfg::Status parse_scope(cfg::Args args, cfg::Ctx& ctx) {
    if (args.empty() || args[0].empty()) return ctx.alert("'scope' needs a proxy name.");
    page(ctx).scope.push_back(args[0] == "." ? ctx.name() : args[0]);
    return enable(ctx, page(ctx));
}

cfg::Status parse_refresh(cfg::Args args, cfg::Ctx& ctx) {
    if (args.empty() || args[0].empty()) return ctx.alert("'refresh' needs a delay.");
    auto d = util::parse_duration(args[0], std::chrono::seconds(1));
    if (!d) return ctx.alert("invalid delay '{}' for 'stats refresh': {}", args[0], d.error());
    page(ctx).refresh = *d;
    return enable(ctx, page(ctx));
}

cfg::Status parse_legends(cfg::Args, cfg::Ctx& ctx) {
    page(ctx).legends = true;
    return enable(ctx, page(ctx));
}

cfg::Status parse_hide_version(cfg::Args, cfg::Ctx& ctx) {
    page(ctx).hide_version = true;
    return enable(ctx, page(ctx));
}

bool valid_node_name(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

cfg::Status parse_show_node(cfg::Args args, cfg::Ctx& ctx) {
    const std::string name = args.empty() ? std::string() : args[0];
    if (!valid_node_name(name))
        return ctx.alert(
            "'stats show-node' invalid node name: it takes digits, letters, '-', '_' and '.'");
    page(ctx).node = name;
    return enable(ctx, page(ctx));
}

cfg::Status parse_show_desc(cfg::Args args, cfg::Ctx& ctx) {
    page(ctx).desc = cfg::join_words(args);
    return enable(ctx, page(ctx));
}

cfg::Status parse_show_modules(cfg::Args, cfg::Ctx& ctx) {
    (void)enable(ctx, page(ctx));
    return ctx.warning(
        "'stats show-modules' is ignored: the page has no extra statistics modules to show "
        "(its latency percentiles are always shown)");
}

constexpr sample::Use kAvailable = sample::Use::Internal | sample::Use::Conn | sample::Use::Req;

cfg::Status parse_admin(cfg::Args args, cfg::Ctx& ctx) {
    if (ctx.section() == cfg::SectionKind::Defaults)
        return ctx.alert("'stats admin' not allowed in 'defaults' section.");
    if (args.empty() || (args[0] != "if" && args[0] != "unless"))
        return ctx.alert("'stats admin' requires either 'if' or 'unless' followed by a condition.");
    auto cond = sample::parse_condition(args, ctx.parts().get<sample::AclConf>().table, kAvailable);
    if (!cond) return ctx.alert("'stats admin': {}", cond.error());
    page(ctx).admin.push_back(std::make_shared<const sample::Condition>(std::move(*cond)));
    return enable(ctx, page(ctx));
}

cfg::Status parse_http_request(cfg::Args args, cfg::Ctx& ctx) {
    if (ctx.section() == cfg::SectionKind::Defaults)
        return ctx.alert("'stats http-request' not allowed in 'defaults' section.");
    if (args.empty()) return ctx.alert("'stats http-request' expects an action.");
    PageRule rule;
    std::size_t i = 1;
    if (args[0] == "allow") {
        rule.kind = PageRule::Kind::Allow;
    } else if (args[0] == "deny") {
        rule.kind = PageRule::Kind::Deny;
    } else if (args[0] == "auth") {
        rule.kind = PageRule::Kind::Auth;
        if (i < args.size() && args[i] == "realm") {
            if (i + 1 >= args.size())
                return ctx.alert("'stats http-request auth realm' expects a realm");
            rule.realm = args[i + 1];
            i += 2;
        }
    } else {
        return ctx.alert(
            "'stats http-request {}': only 'allow', 'deny' and 'auth [realm <realm>]' are "
            "supported here (use the section's own 'http-request' rules for the others)",
            args[0]);
    }
    if (i < args.size()) {
        if (args[i] != "if" && args[i] != "unless")
            return ctx.alert("'stats http-request {}': unexpected '{}' (expected 'if' or 'unless')",
                             args[0], args[i]);
        auto cond = sample::parse_condition(args.subspan(i),
                                            ctx.parts().get<sample::AclConf>().table, kAvailable);
        if (!cond) return ctx.alert("'stats http-request': {}", cond.error());
        rule.cond = std::make_shared<const sample::Condition>(std::move(*cond));
    }
    page(ctx).rules.push_back(std::move(rule));
    return enable(ctx, page(ctx));
}

struct Sub {
    std::string_view name;
    cfg::ParseFn parse;
};
constexpr Sub kSubs[] = {
    {"enable", parse_enable},
    {"uri", parse_uri},
    {"realm", parse_realm},
    {"auth", parse_auth},
    {"scope", parse_scope},
    {"refresh", parse_refresh},
    {"show-legends", parse_legends},
    {"hide-version", parse_hide_version},
    {"show-node", parse_show_node},
    {"show-desc", parse_show_desc},
    {"show-modules", parse_show_modules},
    {"admin", parse_admin},  // not in defaults: rejected by its parser, with HAProxy's words
    {"http-request", parse_http_request},
};

// One `stats` keyword taking the setting as its first word (as the global section's `stats`
// does), so that the registry's two-word families stay those of the reader's suggestions.
cfg::Status parse_stats(cfg::Args args, cfg::Ctx& ctx) {
    if (args.empty()) return ctx.alert("missing keyword in 'stats', {}.", kExpects);
    for (const Sub& sub : kSubs)
        if (args[0] == sub.name) return sub.parse(args.subspan(1), ctx);
    return ctx.alert("unknown stats parameter '{}', {}.", args[0], kExpects);
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "stats", .in = cfg::kAnyProxy, .arity = cfg::at_least(0), .parse = parse_stats},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::stats
