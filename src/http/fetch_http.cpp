// HTTP sample fetches: method, path, url, query, headers, cookies, status, versions, bodies.
// They read the heads (and the body bytes at hand) the stream attached as an http::Txn. `hdr()`
// and `cook()` read the request in request rules and the response in response rules, as in
// HAProxy.
#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "sluice/http/h1_chunked.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/sample/payload.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::http {

std::string_view target_path(std::string_view target) {
    std::size_t start = 0;
    if (!target.empty() && target[0] != '/') {
        // absolute-form: skip scheme://authority
        const std::size_t scheme = target.find("://");
        if (scheme == std::string_view::npos) return {};
        start = target.find('/', scheme + 3);
        if (start == std::string_view::npos) return {};
    }
    const std::size_t q = target.find('?', start);
    return target.substr(start, q == std::string_view::npos ? target.size() - start : q - start);
}

std::string_view target_query(std::string_view target) {
    const std::size_t q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

namespace {

using sample::Args;
using sample::Context;
using sample::Sample;
using sample::Type;
using sample::Use;

const RequestHead* request(Context& ctx) {
    const Txn* t = ctx.find<Txn>();
    return t ? t->req : nullptr;
}
const ResponseHead* response(Context& ctx) {
    const Txn* t = ctx.find<Txn>();
    return t ? t->res : nullptr;
}
const HeaderList* headers(Context& ctx, bool res) {
    if (res) {
        const ResponseHead* r = response(ctx);
        return r ? &r->headers : nullptr;
    }
    const RequestHead* r = request(ctx);
    return r ? &r->headers : nullptr;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
    return v;
}

// Calls `each(value)` for every value of the fields named `name`; with `split`, values are the
// comma-separated elements (hdr), else whole lines (fhdr). Stops when `each` returns false.
template <class F>
void for_each_value(const HeaderList& h, std::string_view name, bool split, F each) {
    for (const Header& f : h.all()) {
        if (!iequals(f.name, name)) continue;
        if (!split) {
            if (!each(f.value)) return;
            continue;
        }
        std::string_view rest = f.value;
        while (true) {
            const std::size_t comma = rest.find(',');
            if (!each(trim(rest.substr(0, comma)))) return;
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
}

// The occurrence `occ` of a header: 1 the first, -1 (default) the last, -2 the one before...
bool header_value(const HeaderList& h, const Args& args, bool split, Sample& out) {
    const std::string& name = args.list[0].text;
    // Outside ACLs an occurrence of 0 means the last one, as the default does (HAProxy).
    const std::int64_t occ = args.at(1) && args.list[1].sint != 0 ? args.list[1].sint : -1;
    std::size_t count = 0;
    for_each_value(h, name, split, [&](std::string_view) { return ++count, true; });
    if (count == 0) return false;
    std::int64_t want = occ > 0 ? occ : static_cast<std::int64_t>(count) + occ + 1;
    if (want < 1 || want > static_cast<std::int64_t>(count)) return false;
    std::int64_t i = 0;
    bool found = false;
    for_each_value(h, name, split, [&](std::string_view v) {
        if (++i != want) return true;
        out = Sample::string(v);
        found = true;
        return false;
    });
    return found;
}

template <bool Res, bool Split>
bool fetch_hdr_fixed(const Args& args, Context& ctx, Sample& out) {
    const HeaderList* h = headers(ctx, Res);
    return h && header_value(*h, args, Split, out);
}
template <bool Split>
bool fetch_hdr_ctx(const Args& args, Context& ctx, Sample& out) {
    const HeaderList* h = headers(ctx, ctx.response);
    return h && header_value(*h, args, Split, out);
}

std::int64_t count_values(const HeaderList& h, const Args& args, bool split) {
    std::int64_t n = 0;
    if (args.list.empty()) {
        for (const Header& f : h.all()) {
            if (!split) {
                ++n;
                continue;
            }
            for (char c : f.value)
                n += c == ',';
            ++n;
        }
        return n;
    }
    for_each_value(h, args.list[0].text, split, [&](std::string_view) { return ++n, true; });
    return n;
}
template <bool Res, bool Split>
bool fetch_hdr_cnt_fixed(const Args& args, Context& ctx, Sample& out) {
    const HeaderList* h = headers(ctx, Res);
    if (!h) return false;
    out = Sample::integer(count_values(*h, args, Split));
    return true;
}
bool fetch_hdr_cnt_ctx(const Args& args, Context& ctx, Sample& out) {
    const HeaderList* h = headers(ctx, ctx.response);
    if (!h) return false;
    out = Sample::integer(count_values(*h, args, true));
    return true;
}

// A header value as an address: IPv4 with an optional ":port" (HAProxy reads it so), or IPv6.
bool to_address(Sample& s, Context& ctx) {
    std::string_view v = s.str;
    const std::size_t colon = v.find(':');
    if (colon != std::string_view::npos && v.find(':', colon + 1) == std::string_view::npos)
        s.str = v.substr(0, colon);
    return sample::cast(s, Type::Addr, ctx.arena());
}

template <bool Res>
bool fetch_hdr_ip(const Args& args, Context& ctx, Sample& out) {
    const HeaderList* h = headers(ctx, Res || ctx.response);
    return h && header_value(*h, args, true, out) && to_address(out, ctx);
}

bool fetch_method(const Args&, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r) return false;
    out = Sample::string(r->method, Type::Meth);
    return true;
}
bool fetch_url(const Args&, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r) return false;
    out = Sample::string(r->target);
    return true;
}
bool fetch_path(const Args&, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r || r->target_form == TargetForm::Authority || r->target_form == TargetForm::Asterisk)
        return false;
    const std::string_view path = target_path(r->target);
    if (path.empty()) return false;  // `http://host` alone has no path (HAProxy: no sample)
    out = Sample::string(path);
    return true;
}
bool fetch_pathq(const Args&, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r) return false;
    const std::string_view path = target_path(r->target);
    if (path.empty()) return false;
    out = Sample::string(
        std::string_view(path.data(), r->target.data() + r->target.size() - path.data()));
    return true;
}
bool fetch_query(const Args&, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r || r->target.find('?') == std::string_view::npos) return false;
    out = Sample::string(target_query(r->target));
    return true;
}
// base: the Host header's value followed by the path.
bool fetch_base(const Args&, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r) return false;
    const Header* host = r->headers.find("host");
    const std::string_view path = target_path(r->target);
    std::string& buf = ctx.arena().take();
    if (host) buf.assign(host->value);
    buf.append(path);
    if (buf.empty()) return false;
    out = Sample::string(buf);
    return true;
}

// url_param(name[,delim]): the value of the first `name=` parameter of the query string.
bool fetch_url_param(const Args& args, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r) return false;
    // As HAProxy: the list starts after the first '?' (or the first custom delimiter, '?'
    // then being an ordinary byte); '&', ';' and the delimiter separate parameters; a name
    // counts only followed by '='.
    const std::string& name = args.list[0].text;
    const char delim = args.at(1) && !args.list[1].text.empty() ? args.list[1].text[0] : '?';
    std::string_view q = r->target;
    const std::size_t start = q.find(delim);
    if (start == std::string_view::npos) return false;
    q.remove_prefix(start + 1);
    auto separator = [delim](char c) { return c == '&' || c == ';' || c == delim; };
    while (true) {
        std::size_t end = 0;
        while (end < q.size() && !separator(q[end]))
            ++end;
        const std::string_view param = q.substr(0, end);
        if (param.size() > name.size() && param.starts_with(name) && param[name.size()] == '=') {
            out = Sample::string(param.substr(name.size() + 1));
            return true;
        }
        if (end >= q.size()) return false;
        q.remove_prefix(end + 1);
    }
}

std::string_view version_number(std::string_view text) {
    return text.starts_with("HTTP/") ? text.substr(5) : text;
}
bool fetch_req_ver(const Args&, Context& ctx, Sample& out) {
    const RequestHead* r = request(ctx);
    if (!r) return false;
    out = Sample::string(r->version_text.empty() ? "0.9" : version_number(r->version_text));
    return true;
}
bool fetch_res_ver(const Args&, Context& ctx, Sample& out) {
    const ResponseHead* r = response(ctx);
    if (!r) return false;
    out = Sample::string(version_number(r->version_text));
    return true;
}
// capture.req.ver / capture.res.ver: "HTTP/1.0" or "HTTP/1.1", in either direction for the
// request's (HAProxy keeps a flag of it for its logs).
std::string_view version_name(Version v) {
    return v == Version::Http11 ? "HTTP/1.1" : "HTTP/1.0";
}
bool fetch_capture_req_ver(const Args&, Context& ctx, Sample& out) {
    const Txn* t = ctx.find<Txn>();
    if (!t || (!t->req && !t->res)) return false;
    out = Sample::string(version_name(t->req ? t->req->version : t->req_version));
    return true;
}
bool fetch_capture_res_ver(const Args&, Context& ctx, Sample& out) {
    const ResponseHead* r = response(ctx);
    if (!r) return false;
    out = Sample::string(version_name(r->version));
    return true;
}
bool fetch_status(const Args&, Context& ctx, Sample& out) {
    const ResponseHead* r = response(ctx);
    if (!r) return false;
    out = Sample::integer(r->status);
    return true;
}
// In mode http, a parsed request; in mode tcp, whether the bytes received so far start with a
// valid HTTP/1 request head (content rules wait while it is incomplete).
bool fetch_proto_http(const Args&, Context& ctx, Sample& out) {
    if (request(ctx)) {
        out = Sample::boolean(true);
        return true;
    }
    const sample::Payload* p = ctx.find<sample::Payload>();
    if (!p) {
        out = Sample::boolean(false);
        return true;
    }
    RequestHead head;
    const HeadResult r = parse_request_head(p->req, 0, head, {});
    if (std::holds_alternative<Incomplete>(r) && !p->final) {
        ctx.may_change = true;
        return false;
    }
    out = Sample::boolean(std::holds_alternative<Done>(r));
    return true;
}
// The request bytes buffered: the head and body so far in mode http, the payload in mode tcp.
bool fetch_req_len(const Args&, Context& ctx, Sample& out) {
    if (const Txn* t = ctx.find<Txn>()) {
        out = Sample::integer(static_cast<std::int64_t>(t->req_len));
        return true;
    }
    const sample::Payload* p = ctx.find<sample::Payload>();
    if (!p) return false;
    out = Sample::integer(static_cast<std::int64_t>(p->req.size()));
    return true;
}
// A buffered body as the body fetches read it: without chunk framing (http::body_at_hand
// removes it, as it does when the stream asks how much of a body is in).
std::string_view dechunk(Context& ctx, std::string_view raw, bool chunked) {
    if (!chunked || raw.empty()) return raw;
    std::string& out = ctx.arena().take();
    Framing framing;
    framing.kind = BodyKind::Chunked;
    (void)body_at_hand({reinterpret_cast<const std::byte*>(raw.data()), raw.size()}, framing, {},
                       &out);
    return out;
}
// The request's (or the response's) body at hand; none outside its rules.
template <bool Res>
std::optional<std::string_view> message_body(Context& ctx) {
    const Txn* t = ctx.find<Txn>();
    if constexpr (Res) {
        if (!t || !t->res) return std::nullopt;
        return dechunk(ctx, t->res_body, t->res_body_chunked);
    } else {
        if (!t || !t->req) return std::nullopt;
        return dechunk(ctx, t->req_body, t->req_body_chunked);
    }
}
template <bool Res>
bool fetch_body(const Args&, Context& ctx, Sample& out) {
    const auto body = message_body<Res>(ctx);
    if (!body || body->empty()) return false;
    out = Sample::string(*body, Type::Bin);
    return true;
}
template <bool Res>
bool fetch_body_len(const Args&, Context& ctx, Sample& out) {
    const auto body = message_body<Res>(ctx);
    if (!body) return false;
    out = Sample::integer(static_cast<std::int64_t>(body->size()));
    return true;
}
// The advertised length: Content-Length, or what is buffered of a chunked body.
template <bool Res>
bool fetch_body_size(const Args&, Context& ctx, Sample& out) {
    const auto body = message_body<Res>(ctx);
    if (!body) return false;
    const HeaderList* h = headers(ctx, Res);
    std::int64_t size = static_cast<std::int64_t>(body->size());
    if (!h->find("transfer-encoding")) {
        if (const Header* cl = h->find("content-length")) {
            std::uint64_t v = 0;
            const std::string_view s = cl->value;
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (ec == std::errc() &&
                v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                size = static_cast<std::int64_t>(v);
        }
    }
    out = Sample::integer(size);
    return true;
}
// req.body_param([name]): a url-encoded body's first `name=` parameter (any with no name).
bool fetch_req_body_param(const Args& args, Context& ctx, Sample& out) {
    const auto whole = message_body<false>(ctx);
    if (!whole || whole->empty()) return false;
    const std::string_view name = args.at(0) ? std::string_view(args.list[0].text) : "";
    std::string_view body = *whole;
    while (!body.empty()) {
        const std::size_t end = std::min(body.find('&'), body.size());
        const std::string_view param = body.substr(0, end);
        const std::size_t eq = param.find('=');
        if (name.empty() ? eq != std::string_view::npos
                         : param.size() > name.size() && param.starts_with(name) &&
                               param[name.size()] == '=') {
            out = Sample::string(param.substr(eq + 1));
            return true;
        }
        body.remove_prefix(std::min(end + 1, body.size()));
    }
    return false;
}

// Cookies: in a request, `Cookie: a=1; b=2`; in a response, each Set-Cookie's leading
// `name=value`. Calls `each(value)` for every cookie named `name` until it returns false.
template <class F>
void for_each_cookie(const HeaderList& h, bool res, std::string_view name, F each) {
    for_each_value(h, res ? "set-cookie" : "cookie", false, [&](std::string_view line) {
        while (!line.empty()) {
            const std::size_t semi = line.find(';');
            std::string_view pair = trim(line.substr(0, semi));
            const std::size_t eq = pair.find('=');
            if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name &&
                !each(trim(pair.substr(eq + 1))))
                return false;
            if (res || semi == std::string_view::npos) break;  // Set-Cookie: only the first pair
            line.remove_prefix(semi + 1);
        }
        return true;
    });
}
// Outside ACLs the last cookie of that name counts, as in HAProxy.
bool find_cookie(const HeaderList& h, bool res, std::string_view name, Sample& out) {
    bool found = false;
    for_each_cookie(h, res, name, [&](std::string_view v) {
        out = Sample::string(v);
        found = true;
        return true;
    });
    return found;
}

// The multi-valued forms, for ACLs: every value in turn.
void visit_values(std::string_view v, sample::VisitFn visit, void* state, bool& go) {
    Sample s = Sample::string(v);
    go = visit(state, s);
}
template <bool Split>
void each_hdr(const HeaderList* h, const Args& args, sample::VisitFn visit, void* state) {
    if (!h) return;
    bool go = true;
    for_each_value(*h, args.list[0].text, Split, [&](std::string_view v) {
        visit_values(v, visit, state, go);
        return go;
    });
}
template <bool Res, bool Split>
void each_hdr_fixed(const Args& args, Context& ctx, sample::VisitFn visit, void* state) {
    each_hdr<Split>(headers(ctx, Res), args, visit, state);
}
void each_hdr_ctx(const Args& args, Context& ctx, sample::VisitFn visit, void* state) {
    each_hdr<true>(headers(ctx, ctx.response), args, visit, state);
}
// hdr_ip in ACLs: every value that reads as an address.
template <bool Res>
void each_hdr_ip(const Args& args, Context& ctx, sample::VisitFn visit, void* state) {
    const HeaderList* h = headers(ctx, Res || ctx.response);
    if (!h) return;
    bool go = true;
    for_each_value(*h, args.list[0].text, true, [&](std::string_view v) {
        Sample s = Sample::string(v);
        if (to_address(s, ctx)) go = visit(state, s);
        return go;
    });
}
template <bool Res>
void each_cook(const HeaderList* h, const Args& args, sample::VisitFn visit, void* state) {
    if (!h) return;
    bool go = true;
    for_each_cookie(*h, Res, args.list[0].text, [&](std::string_view v) {
        visit_values(v, visit, state, go);
        return go;
    });
}
template <bool Res>
void each_cook_fixed(const Args& args, Context& ctx, sample::VisitFn visit, void* state) {
    each_cook<Res>(headers(ctx, Res), args, visit, state);
}
void each_cook_ctx(const Args& args, Context& ctx, sample::VisitFn visit, void* state) {
    if (ctx.response)
        each_cook<true>(headers(ctx, true), args, visit, state);
    else
        each_cook<false>(headers(ctx, false), args, visit, state);
}

template <bool Res>
bool fetch_cook_fixed(const Args& args, Context& ctx, Sample& out) {
    const HeaderList* h = headers(ctx, Res);
    return h && find_cookie(*h, Res, args.list[0].text, out);
}
bool fetch_cook_ctx(const Args& args, Context& ctx, Sample& out) {
    const HeaderList* h = headers(ctx, ctx.response);
    return h && find_cookie(*h, ctx.response, args.list[0].text, out);
}

constexpr sample::ArgSpec kName{1, 1};
constexpr sample::ArgSpec kNameOcc{1, 2, {sample::ArgKind::Str, sample::ArgKind::Sint}};
constexpr sample::ArgSpec kOptName{0, 1};
constexpr Use kReq = Use::Req;
constexpr Use kRes = Use::Res;
// hdr(), cook()...: the request in request rules, the response in response rules.
constexpr Use kEither = Use::None;

constexpr sample::Fetch kFetches[] = {
    {.name = "method", .fn = fetch_method, .out = Type::Meth, .use = kReq},
    {.name = "url", .fn = fetch_url, .out = Type::Str, .use = kReq},
    {.name = "path", .fn = fetch_path, .out = Type::Str, .use = kReq},
    {.name = "pathq", .fn = fetch_pathq, .out = Type::Str, .use = kReq},
    {.name = "query", .fn = fetch_query, .out = Type::Str, .use = kReq},
    {.name = "base", .fn = fetch_base, .out = Type::Str, .use = kReq},
    {.name = "url_param", .fn = fetch_url_param, .args = {1, 2}, .out = Type::Str, .use = kReq},
    {.name = "urlp", .fn = fetch_url_param, .args = {1, 2}, .out = Type::Str, .use = kReq},
    {.name = "req.ver", .fn = fetch_req_ver, .out = Type::Str, .use = kReq},
    {.name = "req_ver", .fn = fetch_req_ver, .out = Type::Str, .use = kReq},
    {.name = "capture.req.ver",
     .fn = fetch_capture_req_ver,
     .out = Type::Str,
     .use = Use::Internal},
    {.name = "capture.res.ver", .fn = fetch_capture_res_ver, .out = Type::Str, .use = kRes},
    {.name = "req.proto_http", .fn = fetch_proto_http, .out = Type::Bool, .use = kReq},
    {.name = "req.len", .fn = fetch_req_len, .out = Type::Sint, .use = kReq},
    {.name = "req_len", .fn = fetch_req_len, .out = Type::Sint, .use = kReq},
    {.name = "req.body", .fn = fetch_body<false>, .out = Type::Bin, .use = kReq},
    {.name = "req.body_len", .fn = fetch_body_len<false>, .out = Type::Sint, .use = kReq},
    {.name = "req.body_size", .fn = fetch_body_size<false>, .out = Type::Sint, .use = kReq},
    {.name = "res.body", .fn = fetch_body<true>, .out = Type::Bin, .use = kRes},
    {.name = "res.body_len", .fn = fetch_body_len<true>, .out = Type::Sint, .use = kRes},
    {.name = "res.body_size", .fn = fetch_body_size<true>, .out = Type::Sint, .use = kRes},
    {.name = "req.body_param",
     .fn = fetch_req_body_param,
     .args = kOptName,
     .out = Type::Str,
     .use = kReq},
    {.name = "hdr",
     .fn = fetch_hdr_ctx<true>,
     .args = kNameOcc,
     .out = Type::Str,
     .use = kEither,
     .each = each_hdr_ctx,
     .each_unless_arg = 1},
    {.name = "req.hdr",
     .fn = fetch_hdr_fixed<false, true>,
     .args = kNameOcc,
     .out = Type::Str,
     .use = kReq,
     .each = each_hdr_fixed<false, true>,
     .each_unless_arg = 1},
    {.name = "req.fhdr",
     .fn = fetch_hdr_fixed<false, false>,
     .args = kNameOcc,
     .out = Type::Str,
     .use = kReq,
     .each = each_hdr_fixed<false, false>,
     .each_unless_arg = 1},
    {.name = "res.hdr",
     .fn = fetch_hdr_fixed<true, true>,
     .args = kNameOcc,
     .out = Type::Str,
     .use = kRes,
     .each = each_hdr_fixed<true, true>,
     .each_unless_arg = 1},
    {.name = "res.fhdr",
     .fn = fetch_hdr_fixed<true, false>,
     .args = kNameOcc,
     .out = Type::Str,
     .use = kRes,
     .each = each_hdr_fixed<true, false>,
     .each_unless_arg = 1},
    {.name = "hdr_cnt",
     .fn = fetch_hdr_cnt_ctx,
     .args = kOptName,
     .out = Type::Sint,
     .use = kEither},
    {.name = "req.hdr_cnt",
     .fn = fetch_hdr_cnt_fixed<false, true>,
     .args = kOptName,
     .out = Type::Sint,
     .use = kReq},
    {.name = "req.fhdr_cnt",
     .fn = fetch_hdr_cnt_fixed<false, false>,
     .args = kOptName,
     .out = Type::Sint,
     .use = kReq},
    {.name = "res.hdr_cnt",
     .fn = fetch_hdr_cnt_fixed<true, true>,
     .args = kOptName,
     .out = Type::Sint,
     .use = kRes},
    {.name = "res.fhdr_cnt",
     .fn = fetch_hdr_cnt_fixed<true, false>,
     .args = kOptName,
     .out = Type::Sint,
     .use = kRes},
    {.name = "hdr_ip",
     .fn = fetch_hdr_ip<false>,
     .args = kNameOcc,
     .out = Type::Addr,
     .use = kEither,
     .each = each_hdr_ip<false>,
     .each_unless_arg = 1},
    {.name = "req.hdr_ip",
     .fn = fetch_hdr_ip<false>,
     .args = kNameOcc,
     .out = Type::Addr,
     .use = kReq,
     .each = each_hdr_ip<false>,
     .each_unless_arg = 1},
    {.name = "res.hdr_ip",
     .fn = fetch_hdr_ip<true>,
     .args = kNameOcc,
     .out = Type::Addr,
     .use = kRes,
     .each = each_hdr_ip<true>,
     .each_unless_arg = 1},
    {.name = "cook",
     .fn = fetch_cook_ctx,
     .args = kName,
     .out = Type::Str,
     .use = kEither,
     .each = each_cook_ctx,
     .each_unless_arg = 1},
    {.name = "req.cook",
     .fn = fetch_cook_fixed<false>,
     .args = kName,
     .out = Type::Str,
     .use = kReq,
     .each = each_cook_fixed<false>,
     .each_unless_arg = 1},
    {.name = "res.cook",
     .fn = fetch_cook_fixed<true>,
     .args = kName,
     .out = Type::Str,
     .use = kRes,
     .each = each_cook_fixed<true>,
     .each_unless_arg = 1},
    {.name = "scook",
     .fn = fetch_cook_fixed<true>,
     .args = kName,
     .out = Type::Str,
     .use = kRes,
     .each = each_cook_fixed<true>,
     .each_unless_arg = 1},
    {.name = "status", .fn = fetch_status, .out = Type::Sint, .use = kRes},
    {.name = "res.ver", .fn = fetch_res_ver, .out = Type::Str, .use = kRes},
    {.name = "resp_ver", .fn = fetch_res_ver, .out = Type::Str, .use = kRes},
};
const sample::FetchRegistrar kRegistered{kFetches};

}  // namespace
}  // namespace sluice::http
