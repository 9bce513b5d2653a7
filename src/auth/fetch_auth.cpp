// The HTTP authentication fetches: http_auth(<userlist>) and http_auth_group(<userlist>) check
// the request's Basic credentials against a userlist; http_auth_type, http_auth_user,
// http_auth_pass and http_auth_bearer hand out what the client sent, unchecked. And reading the
// Authorization header (credentials.hpp).
#include <fmt/format.h>

#include "sluice/auth/credentials.hpp"
#include "sluice/auth/userlist.hpp"
#include "sluice/cfg/document.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/sample/registry.hpp"
#include "sluice/util/base64.hpp"

namespace sluice::auth {
namespace {

// A prefix of `word` in any case ("B", "bas" and "BASIC" of "Basic"); never empty.
bool prefix_of(std::string_view text, std::string_view word) {
    return !text.empty() && text.size() <= word.size() &&
           http::iequals(text, word.substr(0, text.size()));
}

std::string_view skip_spaces(std::string_view s) {
    while (!s.empty() && s.front() == ' ')
        s.remove_prefix(1);
    return s;
}

}  // namespace

Credentials parse_authorization(std::string_view value, std::string& scratch) {
    const std::size_t space = value.find(' ');
    if (space == std::string_view::npos) return {};
    const std::string_view scheme = value.substr(0, space);
    const std::string_view rest = skip_spaces(value.substr(space + 1));
    if (prefix_of(scheme, "Basic")) {
        scratch.clear();
        if (!util::base64_decode(rest, scratch)) return {};
        const std::string_view decoded = scratch;
        std::size_t colon = 0;
        for (; colon < decoded.size() && decoded[colon] != ':'; ++colon)
            if (decoded[colon] == '\0') return {};
        if (colon == decoded.size()) return {};
        std::string_view password = decoded.substr(colon + 1);
        password = password.substr(0, password.find('\0'));
        return {.scheme = Scheme::Basic,
                .user = decoded.substr(0, colon),
                .password = password,
                .token = {}};
    }
    if (prefix_of(scheme, "Bearer") && !rest.empty())
        return {.scheme = Scheme::Bearer, .user = {}, .password = {}, .token = rest};
    return {};
}

std::string_view bearer_token(std::string_view value) {
    constexpr std::string_view kScheme = "Bearer ";
    if (value.size() < kScheme.size() || !http::iequals(value.substr(0, kScheme.size()), kScheme))
        return {};
    return skip_spaces(value.substr(kScheme.size()));
}

namespace {

using sample::Args;
using sample::Context;
using sample::Sample;
using sample::Type;
using sample::Use;

// The userlist a fetch names. It may be declared after the line that names it, so it is found
// once the whole config is read (a late check), which also reports a name declared nowhere.
struct UserlistRef {
    std::string name;
    std::shared_ptr<const Userlist> list;
};

util::Status prepare_userlist(Args& args) {
    auto ref = std::make_shared<UserlistRef>();
    ref->name = args.list[0].text;  // never empty: `http_auth()` has no argument
    cfg::defer_check([ref](const cfg::Document& doc) -> std::string {
        const UserlistConf* conf = find_userlist(doc, ref->name);
        if (!conf) return fmt::format("no userlist named '{}' is declared", ref->name);
        ref->list = conf->list;
        return {};
    });
    args.prepared = std::move(ref);
    return util::ok();
}

// The ACL form of http_auth_group(): its patterns are group names, which HAProxy checks against
// the userlist when the config is loaded.
util::Status check_groups(const Args& args, std::span<const std::string> patterns) {
    const std::string& list = args.state<UserlistRef>().name;
    std::vector<std::string> groups(patterns.begin(), patterns.end());
    cfg::defer_check([list, groups](const cfg::Document& doc) -> std::string {
        const UserlistConf* conf = find_userlist(doc, list);
        if (!conf) return {};  // the reference says so
        for (const std::string& g : groups) {
            const bool declared =
                std::any_of(conf->groups.begin(), conf->groups.end(),
                            [&](const UserlistConf::GroupLine& line) { return line.name == g; });
            if (!declared) return fmt::format("userlist '{}' has no group '{}'", list, g);
        }
        return {};
    });
    return util::ok();
}

// The first comma-separated element of the first field called `name`, blanks trimmed (HAProxy
// reads a single value of the header, not the whole line).
bool first_value(Context& ctx, std::string_view name, std::string_view& out) {
    const http::Txn* t = ctx.find<http::Txn>();
    if (!t || !t->req) return false;
    const http::Header* h = t->req->headers.find(name);
    if (!h) return false;
    std::string_view v = h->value.substr(0, h->value.find(','));
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
    out = v;
    return true;
}

Credentials credentials(Context& ctx) {
    std::string_view value;
    if (!first_value(ctx, "authorization", value)) return {};
    return parse_authorization(value, ctx.arena().take());
}

// The user whose valid Basic credentials the request carries, checked against the fetch's
// userlist; nullptr without credentials, with wrong ones, or when no list is bound.
const User* authenticated(const Args& args, Context& ctx, bool& has_basic) {
    const Credentials c = credentials(ctx);
    has_basic = c.scheme == Scheme::Basic;
    const Userlist* list = args.state<UserlistRef>().list.get();
    if (!has_basic || !list) return nullptr;
    return list->authenticate(c.user, c.password);
}

// No sample without Basic credentials; else whether they are valid.
bool fetch_http_auth(const Args& args, Context& ctx, Sample& out) {
    bool has_basic = false;
    const User* u = authenticated(args, ctx, has_basic);
    if (!has_basic || !args.state<UserlistRef>().list) return false;
    out = Sample::boolean(u != nullptr);
    return true;
}

// Outside ACLs: the authenticated user's name.
bool fetch_http_auth_group(const Args& args, Context& ctx, Sample& out) {
    bool has_basic = false;
    const User* u = authenticated(args, ctx, has_basic);
    if (!u) return false;
    out = Sample::string(u->name);
    return true;
}

// In ACLs: each group of the authenticated user, so that the line matches when one of them is
// among its patterns.
void each_http_auth_group(const Args& args, Context& ctx, sample::VisitFn visit, void* state) {
    bool has_basic = false;
    const User* u = authenticated(args, ctx, has_basic);
    if (!u) return;
    for (std::string_view g : u->groups) {
        Sample s = Sample::string(g);
        if (!visit(state, s)) return;
    }
}

bool fetch_http_auth_type(const Args&, Context& ctx, Sample& out) {
    const Credentials c = credentials(ctx);
    if (c.scheme == Scheme::None) return false;
    out = Sample::string(c.scheme == Scheme::Basic ? "Basic" : "Bearer");
    return true;
}

template <std::string_view Credentials::*Field>
bool fetch_basic_part(const Args&, Context& ctx, Sample& out) {
    const Credentials c = credentials(ctx);
    if (c.scheme != Scheme::Basic) return false;
    out = Sample::string(c.*Field);
    return true;
}

// http_auth_bearer([<header>]): the token of Authorization, or of another header.
bool fetch_http_auth_bearer(const Args& args, Context& ctx, Sample& out) {
    std::string_view token;
    if (const sample::Arg* header = args.at(0); header && !header->text.empty()) {
        std::string_view value;
        if (!first_value(ctx, header->text, value)) return false;
        token = bearer_token(value);
    } else {
        const Credentials c = credentials(ctx);
        if (c.scheme == Scheme::Bearer) token = c.token;
    }
    if (token.empty()) return false;
    out = Sample::string(token);
    return true;
}

constexpr sample::ArgSpec kUserlist{1, 1};

constexpr sample::Fetch kFetches[] = {
    {.name = "http_auth",
     .fn = fetch_http_auth,
     .args = kUserlist,
     .out = Type::Bool,
     .use = Use::Req,
     .prepare = prepare_userlist},
    {.name = "http_auth_group",
     .fn = fetch_http_auth_group,
     .args = kUserlist,
     .out = Type::Str,
     .use = Use::Req,
     .prepare = prepare_userlist,
     .each = each_http_auth_group,
     .each_unless_arg = 1,
     .check_patterns = check_groups},
    {.name = "http_auth_type", .fn = fetch_http_auth_type, .out = Type::Str, .use = Use::Req},
    {.name = "http_auth_user",
     .fn = fetch_basic_part<&Credentials::user>,
     .out = Type::Str,
     .use = Use::Req},
    {.name = "http_auth_pass",
     .fn = fetch_basic_part<&Credentials::password>,
     .out = Type::Str,
     .use = Use::Req},
    {.name = "http_auth_bearer",
     .fn = fetch_http_auth_bearer,
     .args = {0, 1},
     .out = Type::Str,
     .use = Use::Req},
};
const sample::FetchRegistrar kRegistered{kFetches};

}  // namespace
}  // namespace sluice::auth
