// The HTTP sample fetches (http/fetch_http.cpp) on request and response heads parsed from
// bytes: the target's parts for each request-target form, base, url_param, header values and
// occurrences, header counts, addresses in headers, cookies, status and versions, and which
// message hdr()/cook() read. Expected values were checked against haproxy 2.6.12 (the same
// expressions in `http-request return ... hdr X "<%[expr]>"`, `,length` telling an empty
// sample from none).
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "sluice/http/h1_parse.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/sample/expr.hpp"

namespace sluice::http {
namespace {

using sample::Sample;
using sample::Type;
using sample::Use;

constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;

class FetchHttp : public ::testing::Test {
  protected:
    FetchHttp() { ctx.attach(&txn); }

    void request(std::string_view text) {
        req_bytes = std::make_unique<std::string>(text);
        req = std::make_unique<RequestHead>();
        const auto r = parse_request_head(
            std::as_bytes(std::span<const char>(req_bytes->data(), req_bytes->size())), 0, *req);
        ASSERT_TRUE(std::holds_alternative<Done>(r)) << text;
        txn.req = req.get();
    }
    void response(std::string_view text) {
        res_bytes = std::make_unique<std::string>(text);
        res = std::make_unique<ResponseHead>();
        const auto r = parse_response_head(
            std::as_bytes(std::span<const char>(res_bytes->data(), res_bytes->size())), 0, *res);
        ASSERT_TRUE(std::holds_alternative<Done>(r)) << text;
        txn.res = res.get();
    }

    std::optional<Sample> eval(std::string_view text) {
        auto e = sample::parse_expr(text, kAll);
        if (!e) {
            ADD_FAILURE() << text << ": " << e.error();
            return std::nullopt;
        }
        exprs.push_back(std::move(*e));
        Sample s;
        if (!exprs.back().eval(ctx, s)) return std::nullopt;
        return s;
    }
    // The sample as text, "<none>" when there is none.
    std::string get(std::string_view text) {
        auto s = eval(text);
        if (!s) return "<none>";
        if (s->type == Type::Ipv4 || s->type == Type::Ipv6) {
            char buf[INET6_ADDRSTRLEN];
            inet_ntop(s->type == Type::Ipv4 ? AF_INET : AF_INET6, s->ip.data(), buf, sizeof buf);
            return buf;
        }
        if (!sample::cast(*s, Type::Str, arena)) return "<uncastable>";
        return std::string(s->str);
    }
    std::int64_t sint(std::string_view text) {
        auto s = eval(text);
        if (!s) {
            ADD_FAILURE() << text << ": no sample";
            return -424242;
        }
        EXPECT_EQ(sample::type_name(s->type), "sint") << text;
        return s->sint;
    }
    Type type(std::string_view text) {
        auto s = eval(text);
        return s ? s->type : Type::Any;
    }

    sample::Arena arena;
    sample::Context ctx{arena};
    Txn txn;
    std::unique_ptr<std::string> req_bytes, res_bytes;
    std::unique_ptr<RequestHead> req;
    std::unique_ptr<ResponseHead> res;
    std::deque<sample::Expr> exprs;
};

// ---- The request target --------------------------------------------------------------------

TEST_F(FetchHttp, OriginForm) {
    request("GET /p/q?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("path"), "/p/q");
    EXPECT_EQ(get("pathq"), "/p/q?x=1&y");
    EXPECT_EQ(get("query"), "x=1&y");
    EXPECT_EQ(get("url"), "/p/q?x=1&y");
    EXPECT_EQ(type("path"), Type::Str);

    request("GET /p HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("path"), "/p");
    EXPECT_EQ(get("pathq"), "/p");
    EXPECT_EQ(get("query"), "<none>");  // no '?': no query at all
    request("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("query"), "");  // an empty one
    EXPECT_EQ(get("pathq"), "/p?");
    request("GET /x;a=1?b=2?c HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("path"), "/x;a=1");
    EXPECT_EQ(get("query"), "b=2?c");  // after the first '?'
}

TEST_F(FetchHttp, AbsoluteForm) {
    request("GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_EQ(get("path"), "/a/b");
    EXPECT_EQ(get("pathq"), "/a/b?x=1");
    EXPECT_EQ(get("query"), "x=1");
    EXPECT_EQ(get("url"), "http://example.com/a/b?x=1");
    EXPECT_EQ(get("base"), "example.com/a/b");

    request("GET https://user@example.com:8443/ HTTP/1.1\r\nHost: example.com:8443\r\n\r\n");
    EXPECT_EQ(get("path"), "/");
    EXPECT_EQ(get("url"), "https://user@example.com:8443/");

    request("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_EQ(get("pathq"), "<none>");
    EXPECT_EQ(get("url"), "http://example.com");
    EXPECT_EQ(get("base"), "example.com");
}

// Pinned against haproxy 2.6.12 (fetch_http.cpp fetch_path): on an absolute-form target without a
// path
// (`GET http://example.com HTTP/1.1`), haproxy 2.6.12's path has no sample (`%[path,length]` is
// empty, `path -m found` does not match);
TEST_F(FetchHttp, PathOfAbsoluteFormWithoutPathIsNone) {
    request("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_EQ(get("path"), "<none>");
}

TEST_F(FetchHttp, AsteriskAndAuthorityForms) {
    request("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("path"), "<none>");
    EXPECT_EQ(get("url"), "*");
    EXPECT_EQ(get("query"), "<none>");
    request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    EXPECT_EQ(get("path"), "<none>");
    EXPECT_EQ(get("pathq"), "<none>");
    EXPECT_EQ(get("url"), "example.com:443");
    EXPECT_EQ(get("method"), "CONNECT");
}

TEST_F(FetchHttp, TargetHelpers) {
    EXPECT_EQ(target_path("/a/b?c"), "/a/b");
    EXPECT_EQ(target_path("/a/b"), "/a/b");
    EXPECT_EQ(target_path("http://h/a?b"), "/a");
    EXPECT_EQ(target_path("http://h"), "");
    EXPECT_EQ(target_path("h:443"), "");
    EXPECT_EQ(target_query("/a?b=1"), "b=1");
    EXPECT_EQ(target_query("/a?"), "");
    EXPECT_EQ(target_query("/a"), "");
}

TEST_F(FetchHttp, Base) {
    request("GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_EQ(get("base"), "example.com/a/b");
    request("GET /nohost HTTP/1.0\r\n\r\n");
    EXPECT_EQ(get("base"), "/nohost");  // the path alone
    request("PURGE /p?& HTTP/1.1\r\nHost:\r\n\r\n");
    EXPECT_EQ(get("base"), "/p");  // an empty Host: the path alone
    request("GET /a HTTP/1.1\r\nHost: first\r\nHost: second\r\n\r\n");
    EXPECT_EQ(get("base"), "first/a");
}

TEST_F(FetchHttp, UrlParam) {
    request("GET /p?a=1&b=&q=1&q=2&ab=3 HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("url_param(a)"), "1");
    EXPECT_EQ(get("url_param(b)"), "");   // present, empty value
    EXPECT_EQ(get("url_param(q)"), "1");  // the first occurrence
    EXPECT_EQ(get("url_param(ab)"), "3");
    EXPECT_EQ(get("url_param(z)"), "<none>");
    EXPECT_EQ(get("url_param(A)"), "<none>");  // case-sensitive
    EXPECT_EQ(get("urlp(a)"), "1");
    // A custom delimiter.
    request("GET /p?a=1;b=2 HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("url_param(b,;)"), "2");
    request("GET /p HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("url_param(a)"), "<none>");
    request("GET /p?& HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("url_param(a)"), "<none>");
    EXPECT_FALSE(sample::parse_expr("url_param", kAll).ok());
}

// Pinned against haproxy 2.6.12 (fetch_http.cpp fetch_url_param): HAProxy's url_param
// (http_find_param_list and http_find_url_param_pos in haproxy's http.c) differs in three ways,
// each checked against haproxy 2.6.12:
//  - a name needs '=' to match: `?flag&x=1` has no `flag` parameter;
//  - '&' and ';' both separate parameters, besides the delimiter: `?a=1;b=2` has b=2;
//  - a custom delimiter also starts the list (at its first occurrence in the URI, instead of
//    '?') and '?' then separates nothing: on `/x;a=1;b=2?b=9`, url_param(b,;) is "2?b=9".
TEST_F(FetchHttp, UrlParamAsHaproxy) {
    request("GET /p?flag&a=1;b=2 HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("url_param(flag)"), "<none>");
    EXPECT_EQ(get("url_param(b)"), "2");
    request("GET /x;a=1;b=2?b=9 HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("url_param(b,;)"), "2?b=9");
    EXPECT_EQ(get("url_param(b)"), "9");
    request("GET /p;a=1?b=2 HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("url_param(a,;)"), "1?b=2");
}

// ---- Headers -------------------------------------------------------------------------------

TEST_F(FetchHttp, HeaderOccurrences) {
    request("GET / HTTP/1.1\r\nHost: h\r\nX-T: 1, 2\r\nx-t:3\r\nX-E:\r\nX-Sp:  a ,  b  \r\n\r\n");
    EXPECT_EQ(get("hdr(x-t)"), "3");  // the last value by default
    EXPECT_EQ(get("hdr(X-T)"), "3");  // names in any case
    EXPECT_EQ(get("req.hdr(x-t)"), "3");
    EXPECT_EQ(get("hdr(x-t,1)"), "1");  // comma-separated values count one by one
    EXPECT_EQ(get("hdr(x-t,2)"), "2");
    EXPECT_EQ(get("hdr(x-t,3)"), "3");
    EXPECT_EQ(get("hdr(x-t,-1)"), "3");
    EXPECT_EQ(get("hdr(x-t,-2)"), "2");
    EXPECT_EQ(get("hdr(x-t,-3)"), "1");
    EXPECT_EQ(get("hdr(x-t,4)"), "<none>");
    EXPECT_EQ(get("hdr(x-t,-4)"), "<none>");
    EXPECT_EQ(get("hdr(x-t,-5)"), "<none>");
    EXPECT_EQ(get("hdr(x-nope)"), "<none>");
    EXPECT_EQ(get("hdr(x-e)"), "");    // present and empty
    EXPECT_EQ(get("hdr(x-sp)"), "b");  // blanks around values go
    EXPECT_EQ(get("hdr(x-sp,1)"), "a");
    EXPECT_EQ(get("hdr(host)"), "h");
}

// Pinned against haproxy 2.6.12 (fetch_http.cpp header_value): `hdr(name,0)`: HAProxy
// reads an occurrence of 0 outside ACLs as "the last" (smp_fetch_hdr: `if (!occ && !(smp->opt &
// SMP_OPT_ITERATE)) occ = -1;`): with `X-T: 1, 2` and `X-T: 3`, haproxy 2.6.12 gives "3".
TEST_F(FetchHttp, HeaderOccurrenceZeroIsTheLast) {
    request("GET / HTTP/1.1\r\nHost: h\r\nX-T: 1, 2\r\nX-T: 3\r\n\r\n");
    EXPECT_EQ(get("hdr(x-t,0)"), "3");
}

TEST_F(FetchHttp, FullHeaderLinesKeepCommas) {
    request(
        "GET / HTTP/1.1\r\nHost: h\r\nX-T: 1, 2\r\nX-T: 3\r\nDate: Tue, 15 Nov 1994 08:12:31 "
        "GMT\r\n\r\n");
    EXPECT_EQ(get("req.fhdr(x-t)"), "3");
    EXPECT_EQ(get("req.fhdr(x-t,1)"), "1, 2");
    EXPECT_EQ(get("req.fhdr(x-t,-2)"), "1, 2");
    EXPECT_EQ(get("req.fhdr(x-t,3)"), "<none>");
    EXPECT_EQ(get("req.fhdr(date)"), "Tue, 15 Nov 1994 08:12:31 GMT");
    EXPECT_EQ(get("hdr(date)"), "15 Nov 1994 08:12:31 GMT");  // hdr splits it
}

TEST_F(FetchHttp, HeaderCounts) {
    request(
        "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2; a=3\r\nX-T: 1, 2\r\nX-T: 3\r\nX-E:\r\n"
        "\r\n");
    EXPECT_EQ(sint("hdr_cnt(x-t)"), 3);
    EXPECT_EQ(sint("req.hdr_cnt(X-T)"), 3);
    EXPECT_EQ(sint("req.fhdr_cnt(x-t)"), 2);
    EXPECT_EQ(sint("hdr_cnt(x-nope)"), 0);  // a count, even of nothing
    EXPECT_EQ(sint("req.fhdr_cnt(x-nope)"), 0);
    EXPECT_EQ(sint("hdr_cnt(x-e)"), 1);
    // Without a name: every value of every header (as haproxy 2.6.12: 6 here), every line.
    EXPECT_EQ(sint("req.hdr_cnt"), 6);
    EXPECT_EQ(sint("req.fhdr_cnt"), 5);
    EXPECT_EQ(sint("hdr_cnt"), 6);
}

TEST_F(FetchHttp, HeaderAddresses) {
    request(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1, 2001:db8::1\r\nX-Bad: "
        "junk\r\nX-V4: 1.2.3.4 \r\n\r\n");
    EXPECT_EQ(get("hdr_ip(x-forwarded-for)"), "2001:db8::1");
    EXPECT_EQ(type("hdr_ip(x-forwarded-for)"), Type::Ipv6);
    EXPECT_EQ(get("hdr_ip(x-forwarded-for,1)"), "10.0.0.1");
    EXPECT_EQ(type("hdr_ip(x-forwarded-for,1)"), Type::Ipv4);
    EXPECT_EQ(get("req.hdr_ip(x-forwarded-for,-2)"), "10.0.0.1");
    EXPECT_EQ(get("hdr_ip(x-bad)"), "<none>");
    EXPECT_EQ(get("hdr_ip(x-nope)"), "<none>");
    EXPECT_EQ(get("hdr_ip(x-v4)"), "1.2.3.4");
}

// Pinned against haproxy 2.6.12 (fetch_http.cpp fetch_hdr_ip): haproxy 2.6.12 reads an IPv4 address
// followed by a port (url2ipv4): `X-IP: 10.0.0.1:8080` gives hdr_ip 10.0.0.1.
TEST_F(FetchHttp, HeaderAddressWithPort) {
    request("GET / HTTP/1.1\r\nHost: h\r\nX-IP: 10.0.0.1:8080\r\n\r\n");
    EXPECT_EQ(get("hdr_ip(x-ip)"), "10.0.0.1");
}

// ---- Cookies -------------------------------------------------------------------------------

TEST_F(FetchHttp, RequestCookies) {
    request("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2 ;  c = 3 ; e=; f\r\n\r\n");
    EXPECT_EQ(get("req.cook(a)"), "1");
    EXPECT_EQ(get("cook(b)"), "2");
    EXPECT_EQ(get("req.cook(c)"), "3");  // blanks around names and values go
    EXPECT_EQ(get("req.cook(e)"), "");   // present, empty
    EXPECT_EQ(get("req.cook(f)"), "<none>");
    EXPECT_EQ(get("req.cook(d)"), "<none>");
    EXPECT_EQ(get("req.cook(A)"), "<none>");  // names are case-sensitive
    request("GET / HTTP/1.1\r\nHost: h\r\nCookie: x=1\r\nCookie: y=2\r\n\r\n");
    EXPECT_EQ(get("req.cook(y)"), "2");  // any Cookie line
    request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("req.cook(a)"), "<none>");
}

TEST_F(FetchHttp, ResponseCookiesTakeTheFirstPairOnly) {
    request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    response(
        "HTTP/1.1 200 OK\r\nSet-Cookie: s=1; Path=/; x=9\r\nSet-Cookie: t=2\r\n"
        "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(get("res.cook(s)"), "1");
    EXPECT_EQ(get("res.cook(t)"), "2");
    EXPECT_EQ(get("scook(s)"), "1");
    EXPECT_EQ(get("res.cook(x)"), "<none>");  // an attribute, not a cookie
    EXPECT_EQ(get("res.cook(Path)"), "<none>");
}

// Pinned against haproxy 2.6.12 (fetch_http.cpp find_cookie): outside ACLs HAProxy returns the LAST
// cookie of that name (smp_fetch_cookie: "no explicit occurrence and single fetch => last cookie by
// default"); sluice returns the first (its comment says HAProxy takes the first). haproxy 2.6.12:
// `Cookie: a=1; b=2; a=3` gives req.cook(a) "3"; `Cookie: a=1` + `Cookie: a=2` gives "2";
// `Set-Cookie: a=1; Path=/` + `Set-Cookie: a=2` gives res.cook(a) "2".
TEST_F(FetchHttp, CookieIsTheLastOccurrence) {
    request("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2; a=3\r\n\r\n");
    EXPECT_EQ(get("req.cook(a)"), "3");
    request("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: a=2\r\n\r\n");
    EXPECT_EQ(get("req.cook(a)"), "2");
    response(
        "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: a=2\r\nContent-Length: "
        "0\r\n\r\n");
    EXPECT_EQ(get("res.cook(a)"), "2");
}

// ---- Status, versions, method --------------------------------------------------------------

TEST_F(FetchHttp, StatusAndVersions) {
    request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("req.ver"), "1.1");
    EXPECT_EQ(get("req_ver"), "1.1");
    EXPECT_EQ(get("status"), "<none>");  // no response yet
    EXPECT_EQ(get("res.ver"), "<none>");
    response("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(sint("status"), 404);
    EXPECT_EQ(get("res.ver"), "1.1");
    EXPECT_EQ(get("resp_ver"), "1.1");
    response("HTTP/1.0 503 Service Unavailable\r\n\r\n");
    EXPECT_EQ(sint("status"), 503);
    EXPECT_EQ(get("res.ver"), "1.0");
    request("GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(get("req.ver"), "1.0");
}

TEST_F(FetchHttp, Method) {
    request("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(type("method"), Type::Meth);
    EXPECT_EQ(get("method"), "GET");
    request("PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(get("method"), "PURGE");
    EXPECT_EQ(get("method,lower"), "purge");
}

TEST_F(FetchHttp, RequestLengthBodyAndProto) {
    request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n");
    EXPECT_EQ(sint("req.len"), 0);
    txn.req_len = 42;
    EXPECT_EQ(sint("req.len"), 42);
    EXPECT_EQ(get("req.body"), "<none>");
    txn.req_body = "abc";
    EXPECT_EQ(type("req.body"), Type::Bin);
    EXPECT_EQ(get("req.body"), "abc");
    auto p = eval("req.proto_http");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->type, Type::Bool);
    EXPECT_EQ(p->sint, 1);
}

TEST_F(FetchHttp, BodiesReadWithoutChunkFraming) {
    request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    // What the stream attached: the bytes as received, a chunk still coming.
    txn.req_body = "2\r\nab\r\n3\r\ncd";
    txn.req_body_chunked = true;
    EXPECT_EQ(get("req.body"), "abcd");
    EXPECT_EQ(sint("req.body_len"), 4);
    EXPECT_EQ(sint("req.body_size"), 4);  // chunked: what is there
    response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    EXPECT_EQ(get("res.body"), "<none>");
    EXPECT_EQ(sint("res.body_len"), 0);
    EXPECT_EQ(sint("res.body_size"), 10);  // the advertised length
    txn.res_body = "xyz";
    EXPECT_EQ(type("res.body"), Type::Bin);
    EXPECT_EQ(get("res.body"), "xyz");
    EXPECT_EQ(sint("res.body_len"), 3);
    response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    txn.res_body = "3\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
    txn.res_body_chunked = true;
    EXPECT_EQ(get("res.body"), "abcde");  // trailers are not body
    EXPECT_EQ(sint("res.body_size"), 5);
    // A bad chunk ends what the fetches read.
    txn.res_body = "3\r\nabc\r\nzz\r\n";
    EXPECT_EQ(get("res.body"), "abc");
}

// ---- Which message -------------------------------------------------------------------------

TEST_F(FetchHttp, HdrReadsTheResponseInResponseRules) {
    request("GET / HTTP/1.1\r\nHost: h\r\nX-A: req\r\nCookie: c=req\r\n\r\n");
    response(
        "HTTP/1.1 200 OK\r\nX-A: res\r\nX-A: res2\r\nSet-Cookie: c=res\r\nContent-Length: "
        "0\r\n\r\n");
    EXPECT_EQ(get("hdr(x-a)"), "req");
    EXPECT_EQ(sint("hdr_cnt(x-a)"), 1);
    EXPECT_EQ(get("cook(c)"), "req");
    ctx.response = true;
    EXPECT_EQ(get("hdr(x-a)"), "res2");
    EXPECT_EQ(get("hdr(x-a,1)"), "res");
    EXPECT_EQ(sint("hdr_cnt(x-a)"), 2);
    EXPECT_EQ(get("cook(c)"), "res");
    // The explicit forms do not care.
    EXPECT_EQ(get("req.hdr(x-a)"), "req");
    EXPECT_EQ(get("res.hdr(x-a)"), "res2");
    EXPECT_EQ(get("req.cook(c)"), "req");
    EXPECT_EQ(get("res.cook(c)"), "res");
    EXPECT_EQ(sint("req.hdr_cnt(x-a)"), 1);
    EXPECT_EQ(sint("res.hdr_cnt(x-a)"), 2);
    EXPECT_EQ(sint("res.fhdr_cnt(x-a)"), 2);
    EXPECT_EQ(get("res.fhdr(x-a,1)"), "res");
    ctx.response = false;
    EXPECT_EQ(get("res.hdr(x-a)"), "res2");
    EXPECT_EQ(get("hdr(x-a)"), "req");
}

TEST_F(FetchHttp, ResponseRuleWithoutResponse) {
    request("GET / HTTP/1.1\r\nHost: h\r\nX-A: req\r\n\r\n");
    ctx.response = true;  // e.g. an error before the response head was parsed
    EXPECT_EQ(get("hdr(x-a)"), "<none>");
    EXPECT_EQ(get("hdr_cnt(x-a)"), "<none>");
    EXPECT_EQ(get("req.hdr(x-a)"), "req");
}

TEST_F(FetchHttp, NothingAttached) {
    sample::Arena a2;
    sample::Context bare{a2};
    for (const char* text : {"path", "url", "method", "hdr(host)", "req.hdr_cnt", "status",
                             "cook(a)", "url_param(a)", "base", "req.ver", "req.len"}) {
        auto e = sample::parse_expr(text, kAll);
        ASSERT_TRUE(e.ok()) << text << ": " << e.error();
        Sample s;
        EXPECT_FALSE(e->eval(bare, s)) << text;
    }
}

TEST_F(FetchHttp, DeclaredUses) {
    constexpr Use kReqAvail = Use::Internal | Use::Conn | Use::Req;
    constexpr Use kResAvail = Use::Internal | Use::Conn | Use::Res;
    for (const char* text :
         {"path", "url", "method", "query", "base", "url_param(a)", "req.hdr(a)", "req.ver",
          "req.cook(a)", "req.fhdr(a)", "req.hdr_cnt", "req.body", "req.len", "req.hdr_ip(a)"}) {
        EXPECT_TRUE(sample::parse_expr(text, kReqAvail).ok()) << text;
        EXPECT_FALSE(sample::parse_expr(text, Use::Internal | Use::Conn).ok()) << text;
    }
    for (const char* text :
         {"status", "res.hdr(a)", "res.ver", "res.cook(a)", "scook(a)", "res.fhdr(a)",
          "res.hdr_cnt", "res.hdr_ip(a)", "res.body", "res.body_len", "res.body_size"}) {
        EXPECT_TRUE(sample::parse_expr(text, kResAvail).ok()) << text;
        EXPECT_FALSE(sample::parse_expr(text, kReqAvail).ok()) << text;
    }
    for (const char* text : {"hdr(a)", "hdr_cnt(a)", "cook(a)", "hdr_ip(a)"}) {
        EXPECT_TRUE(sample::parse_expr(text, kReqAvail).ok()) << text;
        EXPECT_TRUE(sample::parse_expr(text, kResAvail).ok()) << text;
    }
    EXPECT_FALSE(sample::parse_expr("hdr(a,x)", kAll).ok());
    EXPECT_FALSE(sample::parse_expr("cook", kAll).ok());
}

}  // namespace
}  // namespace sluice::http
