// `req.rdp_cookie([name])` and `req.rdp_cookie_cnt([name])`: the cookie a Remote Desktop client
// sends in its first packet (a TPKT header and an X.224 Connection Request, then a
// "Cookie: NAME=VALUE\r\n" line), for `balance rdp-cookie` and content rules in mode tcp. Only
// the first cookie is looked at, as in HAProxy.
#include "sluice/http/h1_parse.hpp"
#include "sluice/sample/payload.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::sample {
namespace {

// TPKT (4 bytes) and the fixed part of an X.224 Connection Request (7 bytes).
constexpr std::size_t kRdpHeader = 11;
constexpr std::string_view kCookie = "Cookie:";

using http::iequals;

// Finds the first cookie: false with `ctx.may_change` raised while it may still arrive.
bool first_cookie(Context& ctx, std::string_view& name, std::string_view& value) {
    const Payload* p = ctx.find<Payload>();
    if (!p) return false;
    const std::string_view d{reinterpret_cast<const char*>(p->req.data()), p->req.size()};
    auto more = [&] {
        if (!p->final) ctx.may_change = true;
        return false;
    };
    if (d.size() < kRdpHeader + kCookie.size()) return more();
    std::string_view rest = d.substr(kRdpHeader);
    if (!iequals(rest.substr(0, kCookie.size()), kCookie)) return false;
    rest.remove_prefix(kCookie.size());
    while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
    const std::size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos) return more();
    const std::string_view line = rest.substr(0, eol);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return false;
    name = line.substr(0, eq);
    value = line.substr(eq + 1);
    return true;
}

bool cookie_matches(const Args& args, Context& ctx, std::string_view& value) {
    std::string_view name;
    if (!first_cookie(ctx, name, value)) return false;
    return args.list.empty() || args.list[0].text.empty() || iequals(name, args.list[0].text);
}

bool fetch_rdp_cookie(const Args& args, Context& ctx, Sample& out) {
    std::string_view value;
    if (!cookie_matches(args, ctx, value)) return false;
    out = Sample::string(value);
    return true;
}

bool fetch_rdp_cookie_cnt(const Args& args, Context& ctx, Sample& out) {
    std::string_view value;
    const bool found = cookie_matches(args, ctx, value);
    if (!found && ctx.may_change) return false;
    out = Sample::integer(found ? 1 : 0);
    return true;
}

constexpr Use kReq = Use::Req;
constexpr Fetch kFetches[] = {
    {.name = "req.rdp_cookie", .fn = fetch_rdp_cookie, .args = {0, 1}, .use = kReq},
    {.name = "rdp_cookie", .fn = fetch_rdp_cookie, .args = {0, 1}, .use = kReq},
    {.name = "req.rdp_cookie_cnt",
     .fn = fetch_rdp_cookie_cnt,
     .args = {0, 1},
     .out = Type::Sint,
     .use = kReq},
    {.name = "rdp_cookie_cnt",
     .fn = fetch_rdp_cookie_cnt,
     .args = {0, 1},
     .out = Type::Sint,
     .use = kReq},
};
const FetchRegistrar kRegistered{kFetches};

}  // namespace
}  // namespace sluice::sample
