// Captures: the slots that `capture request|response header`, `declare capture` and the
// capture actions declare (numbering, and what the config refuses, with file:line), the
// per-transaction store, header captures from parsed heads, the capture.* fetches and the
// capture-req/-res converters, and the actions run on a head. The traffic side is in
// tests/integration/test_rules_capture.py.
//
// Where a case says "HAProxy 2.6 ...", it was checked with Debian's haproxy 2.6.12 (`haproxy -c`
// or traffic through it).
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "../cfg/reader_test_support.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/http/capture.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/rules/tcp_rules.hpp"
#include "sluice/sample/capture.hpp"
#include "sluice/sample/expr.hpp"

namespace sluice::sample {
namespace {

using cfg::reader_test::Lines;
using cfg::reader_test::Parsed;

Parsed parse_all(std::string_view text) {
    Parsed p = cfg::reader_test::parse(text);
    cfg::run_late_checks(p.doc, p.diag);
    return p;
}

// A frontend whose third line is `line`.
std::string frontend_with(std::string_view line, std::string_view mode = "http") {
    return fmt::format("frontend fe\n  mode {}\n  {}\n", mode, line);
}

Lines messages_for(std::string_view line, std::string_view mode = "http") {
    return parse_all(frontend_with(line, mode)).messages();
}

std::string alert(std::string_view keyword, std::string_view text, int line = 3,
                  std::string_view section = "frontend 'fe'") {
    return fmt::format("[ALERT]    (PID) : config : parsing [t.cfg:{}] : {} : '{}' : {}", line,
                       section, keyword, text);
}

const CaptureConf& slots_of(const Parsed& p, std::size_t proxy = 0) {
    return p.doc.proxies.at(proxy).parts.read<CaptureConf>();
}

// --- slots -----------------------------------------------------------------------------------

TEST(CaptureSlots, EveryKindOfLineTakesTheNextSlotOfItsDirection) {
    // HAProxy 2.6 numbers them so: `%[capture.req.hdr(1)]` reads the declared slot, which
    // `http-request capture ... id 1` fills.
    const auto p = parse_all(
        "frontend fe\n"
        "  mode http\n"
        "  capture request header Host len 4\n"
        "  declare capture request len 10\n"
        "  capture response header X-Srv len 5\n"
        "  capture request header X-A len 20\n"
        "  http-request capture req.hdr(x-b) len 3\n"
        "  http-request capture path id 1\n"
        "  tcp-request content capture src len 15\n"
        "  declare capture response len 7\n"
        "  http-response capture status id 1\n");
    EXPECT_EQ(p.messages(), Lines{});
    const CaptureConf& c = slots_of(p);
    ASSERT_EQ(c.req.size(), 5u);
    EXPECT_EQ(c.req[0].header, "Host");
    EXPECT_EQ(c.req[0].len, 4u);
    EXPECT_EQ(c.req[1].header, "");
    EXPECT_EQ(c.req[1].len, 10u);
    EXPECT_EQ(c.req[2].header, "X-A");
    EXPECT_EQ(c.req[3].len, 3u);
    EXPECT_EQ(c.req[4].len, 15u);
    ASSERT_EQ(c.res.size(), 2u);
    EXPECT_EQ(c.res[0].header, "X-Srv");
    EXPECT_EQ(c.res[1].len, 7u);
}

TEST(CaptureSlots, ListenSectionsHaveThemTooBackendsDoNot) {
    const auto p = parse_all(
        "listen li\n  mode http\n  capture request header Host len 4\n"
        "  http-request capture path len 9\n"
        "backend be\n  mode http\n  http-request capture path id 7\n");
    EXPECT_EQ(p.messages(), Lines{});  // a backend's id is checked at run time, as in HAProxy
    EXPECT_EQ(slots_of(p, 0).req.size(), 2u);
    EXPECT_TRUE(slots_of(p, 1).empty());
}

// --- the keywords ------------------------------------------------------------------------------

TEST(CaptureKeywords, HeaderCaptureRefusesBadShapesAndLengths) {
    const std::string usage = "expects 'header' <header_name> 'len' <length>";
    EXPECT_EQ(messages_for("capture request header Host"), Lines{alert("capture request", usage)});
    EXPECT_EQ(messages_for("capture response header Host size 5"),
              Lines{alert("capture response", usage)});
    EXPECT_EQ(messages_for("capture request hdr Host len 5"),
              Lines{alert("capture request", usage)});
    EXPECT_EQ(messages_for("capture request header Host len 5 extra"),
              Lines{alert("capture request", "unexpected argument 'extra'")});
    // HAProxy 2.6 reads the length with atol: "abc" is 0, "-1" makes a slot it then overruns.
    EXPECT_EQ(messages_for("capture request header Host len abc"),
              Lines{alert("capture request", "'len' expects a number of bytes, got 'abc'")});
    EXPECT_EQ(messages_for("capture request header Host len -1"),
              Lines{alert("capture request", "'len' expects a number of bytes, got '-1'")});
    // 0 is accepted, as in HAProxy: the slot holds an empty value when the header is there.
    EXPECT_EQ(messages_for("capture request header Host len 0"), Lines{});
}

TEST(CaptureKeywords, UnknownKindsAreUnknownKeywords) {
    const std::string unknown =
        "[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'fe' : unknown keyword '{}' in "
        "'frontend' section{}";
    EXPECT_EQ(messages_for("capture requets header Host len 5"),
              Lines{fmt::format(fmt::runtime(unknown), "capture requets",
                                ", did you mean 'capture request'?")});
    EXPECT_EQ(messages_for("capture req header Host len 5"),
              Lines{fmt::format(fmt::runtime(unknown), "capture req", "")});
    EXPECT_EQ(messages_for("declare foo request len 4"),
              Lines{fmt::format(fmt::runtime(unknown), "declare foo", "")});
}

TEST(CaptureKeywords, CookieCaptureIsAccepted) {
    // Only the logs show a captured cookie (%CC, %CS): log/kw_logformat.cpp keeps it.
    EXPECT_EQ(messages_for("capture cookie JSESSIONID len 32"), Lines{});
}

TEST(CaptureKeywords, FrontendSideOnly) {
    // HAProxy 2.6: `capture` in a backend is ignored with a warning, `declare` is an alert, and
    // neither may be in defaults.
    EXPECT_EQ(parse_all("backend be\n  capture request header Host len 5\n").messages(),
              Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : backend 'be' : 'capture "
                    "request' : ignored: a backend has no frontend capability"});
    EXPECT_EQ(parse_all("backend be\n  declare capture request len 5\n").messages(),
              Lines{alert("declare capture", "not allowed: a backend has no frontend capability", 2,
                          "backend 'be'")});
    EXPECT_EQ(
        parse_all("defaults\n  capture request header Host len 5\n").messages(),
        Lines{alert("capture request", "not allowed in a 'defaults' section", 2, "defaults")});
}

TEST(CaptureKeywords, DeclareCaptureRefusesWhatHAProxyRefuses) {
    EXPECT_EQ(messages_for("declare capture"),
              Lines{alert("declare capture", "requires a direction ('request' or 'response')")});
    EXPECT_EQ(messages_for("declare capture req len 4"),
              Lines{alert("declare capture", "requires a direction ('request' or 'response')")});
    EXPECT_EQ(messages_for("declare capture request"),
              Lines{alert("declare capture", "requires a capture length ('len')")});
    EXPECT_EQ(messages_for("declare capture request len 0"),
              Lines{alert("declare capture", "length must be > 0")});
    EXPECT_EQ(messages_for("declare capture response len x"),
              Lines{alert("declare capture", "'len' expects a number of bytes, got 'x'")});
    // HAProxy 2.6 ignores words after the length; sluice says so.
    EXPECT_EQ(messages_for("declare capture request len 4 x"),
              Lines{alert("declare capture", "unexpected argument 'x'")});
}

// --- the actions -------------------------------------------------------------------------------

TEST(CaptureActions, HttpRequestCaptureTakesLenOrId) {
    const auto req = [](std::string_view text) {
        return alert("http-request", fmt::format("'http-request capture': {}", text));
    };
    const std::string usage = "expects <expression> [ 'len' <length> | 'id' <idx> ]";
    EXPECT_EQ(messages_for("http-request capture path"), Lines{req(usage)});
    EXPECT_EQ(messages_for("http-request capture path len"), Lines{req(usage)});
    EXPECT_EQ(messages_for("http-request capture path len 0"), Lines{req("length must be > 0")});
    EXPECT_EQ(messages_for("http-request capture path len abc"),
              Lines{req("'len' expects a number of bytes, got 'abc'")});
    EXPECT_EQ(messages_for("http-request capture path foo 4"),
              Lines{req("expects 'len' or 'id', found 'foo'")});
    EXPECT_EQ(messages_for("http-request capture path id abc"),
              Lines{req("cannot parse id 'abc': expects a slot number from 0")});
    // HAProxy 2.6 accepts a negative id, which never names a slot.
    EXPECT_EQ(messages_for("http-request capture path id -1"),
              Lines{req("cannot parse id '-1': expects a slot number from 0")});
    EXPECT_EQ(messages_for("http-request capture path len 4 id 0"),
              Lines{req("unexpected 'id' (expected 'if' or 'unless')")});
    const Lines res = messages_for("http-request capture status len 4");
    ASSERT_EQ(res.size(), 1u);
    EXPECT_NE(res[0].find("none of which is available here"), std::string::npos) << res[0];
    EXPECT_EQ(messages_for("http-request capture path len 4 if { path /x }"), Lines{});
}

TEST(CaptureActions, LenNeedsAFrontendSide) {
    EXPECT_EQ(
        parse_all("backend be\n  http-request capture path len 4\n").messages(),
        Lines{alert("http-request", "'http-request capture': proxy 'be' has no frontend capability",
                    2, "backend 'be'")});
}

TEST(CaptureActions, AnIdMustNameASlotOfTheFrontendOnceAllIsRead) {
    EXPECT_EQ(messages_for("http-request capture path id 0"),
              Lines{alert("http-request",
                          "unable to find capture id '0' referenced by http-request capture rule: "
                          "frontend 'fe' declares 0 request capture slots")});
    // Declared further down: fine, as in HAProxy.
    EXPECT_EQ(parse_all("frontend fe\n  http-request capture path id 1\n"
                        "  capture request header Host len 4\n  declare capture request len 9\n")
                  .messages(),
              Lines{});
    // Request and response slots are counted apart.
    EXPECT_EQ(parse_all("frontend fe\n  declare capture request len 4\n"
                        "  http-response capture status id 0\n")
                  .messages(),
              Lines{alert("http-response",
                          "unable to find capture id '0' referenced by http-response capture "
                          "rule: frontend 'fe' declares 0 response capture slots",
                          3)});
    EXPECT_EQ(parse_all("listen li\n  declare capture response len 4\n"
                        "  http-after-response capture status id 1\n")
                  .messages(),
              Lines{alert("http-after-response",
                          "unable to find capture id '1' referenced by http-response capture "
                          "rule: listen 'li' declares 1 response capture slot",
                          3, "listen 'li'")});
}

TEST(CaptureActions, ResponseSidesTakeAnIdOnly) {
    EXPECT_EQ(messages_for("http-response capture status len 4"),
              Lines{alert("http-response", "'http-response capture': expects 'id', found 'len'")});
    EXPECT_EQ(
        messages_for("http-response capture status"),
        Lines{alert("http-response", "'http-response capture': expects <expression> id <idx>")});
    EXPECT_EQ(parse_all("frontend fe\n  declare capture response len 4\n"
                        "  http-after-response capture res.hdr(x) id 0\n"
                        "  http-response capture status id 0 if { status 200 }\n")
                  .messages(),
              Lines{});
}

TEST(CaptureActions, TcpRequestContentCaptureTakesLenOnly) {
    const auto tcp = [](std::string_view text) {
        return alert("tcp-request", fmt::format("'tcp-request content capture': {}", text));
    };
    EXPECT_EQ(messages_for("tcp-request content capture req.payload(0,4) len 4", "tcp"), Lines{});
    EXPECT_EQ(messages_for("tcp-request content capture req.payload(0,4)", "tcp"),
              Lines{tcp("a positive 'len' argument is mandatory")});
    EXPECT_EQ(messages_for("tcp-request content capture req.payload(0,4) id 0", "tcp"),
              Lines{tcp("a positive 'len' argument is mandatory")});
    EXPECT_EQ(messages_for("tcp-request content capture req.payload(0,4) len 0", "tcp"),
              Lines{tcp("length must be > 0")});
    EXPECT_EQ(messages_for("tcp-request content capture req.payload(0,4) len 4 foo", "tcp"),
              Lines{tcp("unexpected 'foo' (expected 'if' or 'unless')")});
    EXPECT_EQ(parse_all("backend be\n  tcp-request content capture src len 4\n").messages(),
              Lines{alert("tcp-request",
                          "'tcp-request content capture': proxy 'be' has no frontend capability", 2,
                          "backend 'be'")});
    EXPECT_EQ(messages_for("tcp-request connection capture src len 4", "tcp"),
              Lines{alert("tcp-request",
                          "'tcp-request connection capture' is not allowed: captures are taken "
                          "by 'tcp-request content' rules only")});
    EXPECT_EQ(parse_all("backend be\n  tcp-response content capture res.len len 4\n").messages(),
              Lines{alert("tcp-response",
                          "'tcp-response content capture' is not allowed: captures are taken "
                          "by 'tcp-request content' rules only",
                          2, "backend 'be'")});
}

TEST(CaptureActions, SetLogLevelInHttpAndContentRules) {
    EXPECT_EQ(messages_for("http-request set-log-level silent"), Lines{});
    EXPECT_EQ(messages_for("tcp-request content set-log-level silent", "tcp"), Lines{});
    // Connection and session rules have no stream (nor log line) yet: HAProxy refuses it too.
    EXPECT_NE(messages_for("tcp-request connection set-log-level err", "tcp"), Lines{});
}

// --- the store ---------------------------------------------------------------------------------

CaptureConf conf_of(std::initializer_list<std::uint32_t> req,
                    std::initializer_list<std::uint32_t> res = {}) {
    CaptureConf c;
    for (std::uint32_t len : req)
        c.req.push_back({.header = {}, .len = len});
    for (std::uint32_t len : res)
        c.res.push_back({.header = {}, .len = len});
    return c;
}

TEST(CaptureStore, CutsAtTheSlotLengthAndAtANul) {
    const CaptureConf conf = conf_of({4, 0, 10}, {3});
    CapturesPtr c = take_captures(conf);
    std::string_view v;
    EXPECT_FALSE(c->get(false, 0, v));  // nothing captured yet: no value, not an empty one
    EXPECT_TRUE(c->store(false, 0, "abcdef"));
    ASSERT_TRUE(c->get(false, 0, v));
    EXPECT_EQ(v, "abcd");
    EXPECT_TRUE(c->store(false, 1, "x"));  // len 0: present and empty
    ASSERT_TRUE(c->get(false, 1, v));
    EXPECT_EQ(v, "");
    EXPECT_TRUE(c->store(false, 2, std::string_view("ab\0cd", 5)));
    ASSERT_TRUE(c->get(false, 2, v));
    EXPECT_EQ(v, "ab");
    EXPECT_FALSE(c->store(false, 3, "no such slot"));
    EXPECT_TRUE(c->store(true, 0, "response"));
    ASSERT_TRUE(c->get(true, 0, v));
    EXPECT_EQ(v, "res");
    c->reset(conf);
    EXPECT_FALSE(c->get(false, 0, v));
    EXPECT_FALSE(c->get(true, 0, v));
}

TEST(CaptureStore, ThePoolHandsTheSameObjectBack) {
    const CaptureConf conf = conf_of({8});
    const Captures* first = nullptr;
    {
        CapturesPtr c = take_captures(conf);
        first = c.get();
        c->store(false, 0, "value");
    }
    const std::size_t pooled = pooled_captures();
    EXPECT_GE(pooled, 1u);
    CapturesPtr again = take_captures(conf);
    EXPECT_EQ(again.get(), first);
    EXPECT_EQ(pooled_captures(), pooled - 1);
    std::string_view v;
    EXPECT_FALSE(again->get(false, 0, v));  // reset on the way out of the pool
}

TEST(CaptureStore, TheRequestLineIsCutAs1023Bytes) {
    CapturesPtr c = take_captures(CaptureConf{});
    std::string_view line;
    EXPECT_FALSE(c->request_line(line));
    c->set_request_line("GET", "/" + std::string(1100, 'a'), "HTTP/1.1");
    ASSERT_TRUE(c->request_line(line));
    EXPECT_EQ(line.size(), kRequestLineMax);
    EXPECT_TRUE(line.starts_with("GET /aaa"));
}

// --- heads, fetches, converters and actions ----------------------------------------------------

constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;

class CaptureTxn : public ::testing::Test {
  protected:
    CaptureTxn() { ctx.attach(&txn); }

    void request(std::string_view text) {
        req_bytes = std::make_unique<std::string>(text);
        req = std::make_unique<http::RequestHead>();
        const auto r = http::parse_request_head(
            std::as_bytes(std::span<const char>(req_bytes->data(), req_bytes->size())), 0, *req);
        ASSERT_TRUE(std::holds_alternative<http::Done>(r)) << text;
        txn.req = req.get();
    }
    void response(std::string_view text) {
        res_bytes = std::make_unique<std::string>(text);
        res = std::make_unique<http::ResponseHead>();
        const auto r = http::parse_response_head(
            std::as_bytes(std::span<const char>(res_bytes->data(), res_bytes->size())), 0, *res);
        ASSERT_TRUE(std::holds_alternative<http::Done>(r)) << text;
        txn.res = res.get();
    }
    // The frontend `fe` of `config`: its slots, and its rules for run().
    void frontend(std::string_view config) {
        parsed = std::make_unique<Parsed>(parse_all(config));
        ASSERT_EQ(parsed->messages(), Lines{});
        conf = &slots_of(*parsed);
        captures = take_captures(*conf);
        ctx.attach(captures.get());
    }
    void run(rules::RuleSet set) {
        const auto& r = parsed->doc.proxies.at(0).parts.read<rules::HttpRulesConf>();
        rules::Outcome outcome;
        rules::RuleCtx rctx{.samples = ctx,
                            .req = set == rules::RuleSet::Request ? req.get() : nullptr,
                            .res = set == rules::RuleSet::Request ? nullptr : res.get(),
                            .outcome = outcome};
        ctx.response = set != rules::RuleSet::Request;
        rules::run_rules(set == rules::RuleSet::Request ? r.request : r.response, rctx);
    }
    std::string get(std::string_view text) {
        auto e = parse_expr(text, kAll);
        if (!e) {
            ADD_FAILURE() << text << ": " << e.error();
            return "<error>";
        }
        exprs.push_back(std::move(*e));
        Sample s;
        if (!exprs.back().eval(ctx, s)) return "<none>";
        if (!cast(s, Type::Str, arena)) return "<uncastable>";
        return std::string(s.str);
    }

    Arena arena;
    Context ctx{arena};
    http::Txn txn;
    std::unique_ptr<std::string> req_bytes, res_bytes;
    std::unique_ptr<http::RequestHead> req;
    std::unique_ptr<http::ResponseHead> res;
    std::unique_ptr<Parsed> parsed;
    const CaptureConf* conf = nullptr;
    CapturesPtr captures;
    std::deque<Expr> exprs;
};

TEST_F(CaptureTxn, HeaderCapturesTakeTheLastOccurrenceWholeAndCut) {
    // Checked with haproxy 2.6.12: `X-A: first` then `X-A: second, third` captures the second
    // line whole; a header absent leaves its slot without a value (the fetch finds nothing), a
    // header present but empty captures an empty value.
    frontend(
        "frontend fe\n  mode http\n  capture request header Host len 4\n"
        "  declare capture request len 10\n  capture request header X-A len 20\n"
        "  capture request header X-None len 5\n  capture request header X-Empty len 5\n"
        "  capture response header x-srv len 5\n");
    request(
        "GET /p HTTP/1.1\r\nHost: example.org\r\nX-A: first\r\nx-a: second, third\r\n"
        "X-Empty:\r\n\r\n");
    http::capture_request(*conf, *req, *captures, false);
    EXPECT_EQ(get("capture.req.hdr(0)"), "exam");
    EXPECT_EQ(get("capture.req.hdr(1)"), "<none>");  // declared: for rules to fill
    EXPECT_EQ(get("capture.req.hdr(2)"), "second, third");
    EXPECT_EQ(get("capture.req.hdr(3)"), "<none>");
    EXPECT_EQ(get("capture.req.hdr(4)"), "");
    EXPECT_EQ(get("capture.req.hdr(5)"), "<none>");
    EXPECT_EQ(get("capture.req.hdr(-1)"), "<none>");
    EXPECT_EQ(get("capture.req.method"), "<none>");  // the line was not kept
    response("HTTP/1.1 200 OK\r\nX-Srv: one\r\nX-Srv: two-long\r\n\r\n");
    http::capture_response(*conf, *res, *captures);
    EXPECT_EQ(get("capture.res.hdr(0)"), "two-l");
    EXPECT_EQ(get("capture.res.hdr(1)"), "<none>");
}

TEST_F(CaptureTxn, RequestLineFetches) {
    frontend("frontend fe\n  mode http\n");
    const auto line = [&](std::string_view text) {
        request(text);
        http::capture_request(*conf, *req, *captures, true);
        txn.req = nullptr;  // as in response rules: the head is gone, the line is kept
        return get("capture.req.method") + " " + get("capture.req.uri");
    };
    EXPECT_EQ(line("GET /x/y?z HTTP/1.1\r\nHost: h\r\n\r\n"), "GET /x/y?z");
    EXPECT_EQ(line("POST http://h/abs/p?q HTTP/1.1\r\nHost: h\r\n\r\n"), "POST /abs/p?q");
    EXPECT_EQ(line("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), "OPTIONS <none>");
    EXPECT_EQ(line("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"), "CONNECT <none>");
    EXPECT_EQ(line("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n"), "GET <none>");
    // Checked with haproxy 2.6.12: the line is kept up to 1023 bytes, the URI with it.
    const std::string long_uri = "/" + std::string(1100, 'a');
    EXPECT_EQ(line("GET " + long_uri + " HTTP/1.1\r\nHost: h\r\n\r\n"),
              "GET " + long_uri.substr(0, 1019));
}

TEST_F(CaptureTxn, VersionFetchesInEitherDirection) {
    frontend("frontend fe\n  mode http\n");
    request("GET / HTTP/1.0\r\n\r\n");
    EXPECT_EQ(get("capture.req.ver"), "HTTP/1.0");
    EXPECT_EQ(get("capture.res.ver"), "<none>");
    txn.req = nullptr;
    txn.req_version = http::Version::Http10;
    response("HTTP/1.1 204 No Content\r\n\r\n");
    EXPECT_EQ(get("capture.req.ver"), "HTTP/1.0");
    EXPECT_EQ(get("capture.res.ver"), "HTTP/1.1");
}

TEST_F(CaptureTxn, ConvertersStoreAndPassTheSampleOn) {
    frontend(
        "frontend fe\n  mode http\n  declare capture request len 3\n"
        "  declare capture response len 20\n");
    EXPECT_EQ(get("str(abcdef),capture-req(0),length"), "6");
    EXPECT_EQ(get("capture.req.hdr(0)"), "abc");
    EXPECT_EQ(get("int(42),capture-res(0)"), "42");
    EXPECT_EQ(get("capture.res.hdr(0)"), "42");
    // No such slot: the converter fails, as HAProxy's does.
    EXPECT_EQ(get("str(x),capture-req(1)"), "<none>");
}

TEST_F(CaptureTxn, ActionsFillTheirSlots) {
    frontend(
        "frontend fe\n  mode http\n  capture request header Host len 4\n"
        "  declare capture request len 10\n  declare capture response len 3\n"
        "  http-request capture req.hdr(x-b) len 3\n"
        "  http-request capture path id 1\n"
        "  http-request capture req.hdr(x-none) len 5\n"
        "  http-request capture req.hdr(x-b) id 0 if { req.hdr(x-over) -m found }\n"
        "  http-response capture status id 0\n");
    request("GET /some/path?q HTTP/1.1\r\nHost: example\r\nX-B: abcdef\r\n\r\n");
    http::capture_request(*conf, *req, *captures, false);
    run(rules::RuleSet::Request);
    EXPECT_EQ(get("capture.req.hdr(0)"), "exam");
    EXPECT_EQ(get("capture.req.hdr(1)"), "/some/path");
    EXPECT_EQ(get("capture.req.hdr(2)"), "abc");
    EXPECT_EQ(get("capture.req.hdr(3)"), "<none>");  // the expression found nothing
    request("GET / HTTP/1.1\r\nHost: example\r\nX-B: overwritten\r\nX-Over: 1\r\n\r\n");
    http::capture_request(*conf, *req, *captures, false);
    run(rules::RuleSet::Request);
    EXPECT_EQ(get("capture.req.hdr(0)"), "over");  // the header slot's own length
    response("HTTP/1.1 404 Not Found\r\n\r\n");
    run(rules::RuleSet::Response);
    EXPECT_EQ(get("capture.res.hdr(0)"), "404");
}

}  // namespace
}  // namespace sluice::sample
