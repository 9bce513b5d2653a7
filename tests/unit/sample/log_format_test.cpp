// Log-format variables and flags rendered from a hand-built log::Record. The expected strings
// are what Debian's haproxy 2.6.12 printed for the same facts (`log stdout format raw` and a
// log-format line per flag set, requests sent by hand), with dates and ports made fixed.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "sluice/log/proxy_format.hpp"
#include "sluice/log/record.hpp"
#include "sluice/sample/format.hpp"

namespace sluice::sample {
namespace {

using log::Record;
using Mode = Format::Mode;

net::Address ipv4(const char* ip, std::uint16_t port) {
    net::Address a;
    EXPECT_TRUE(net::parse_numeric_ip(ip, port, a));
    return a;
}

class LogFormatTest : public ::testing::Test {
  protected:
    void SetUp() override {
        setenv("TZ", "UTC", 1);
        tzset();
        // 07/Dec/2026:13:53:40.375 UTC, request 2 ms later.
        rec.accept_us = 1796651620375000;
        rec.request_us = rec.accept_us + 2000;
        rec.th = 0;
        rec.ti = 0;
        rec.tr_req = 2;
        rec.tw = 0;
        rec.tc = 0;
        rec.tr = 2;
        rec.ta = 2;
        rec.tt = 4;
        rec.client = &client;
        rec.frontend = &frontend;
        rec.backend_source = &source;
        rec.server = &server;
        rec.frontend_name = "fe";
        rec.backend_name = "be";
        rec.server_name = "s1";
        rec.actconn = 1;
        rec.feconn = 1;
        rec.beconn = 1;
        rec.srvconn = 1;
        rec.http = true;
        rec.status = 200;
        rec.method = "GET";
        rec.uri = "/a\"b{|}~?x=y";
        rec.version = "HTTP/1.1";
        rec.bytes_out = 94;
        rec.bytes_in = 58;
        rec.request_headers = req_caps;
        rec.response_headers = res_caps;
        rec.request_cookie = {"SID=x\"]z", true};
        rec.response_cookie = {"SID=abc\"d|", true};
        rec.unique_id = "7F000001:ABCC";
    }

    std::string render(std::string_view text, Mode mode = Mode::Log, bool with_record = true) {
        auto f = Format::parse(text, log::kLogFormatUse);
        EXPECT_TRUE(f) << text << ": " << (f ? "" : f.error());
        if (!f) return "<error>";
        Arena arena;
        Context ctx(arena);
        if (with_record) ctx.attach(&rec);
        std::string out;
        f->render(ctx, out, mode);
        return out;
    }
    std::string error(std::string_view text) {
        auto f = Format::parse(text, log::kLogFormatUse);
        return f ? std::string("<parsed>") : f.error();
    }

    net::Address client = ipv4("127.0.0.1", 43980);
    net::Address frontend = ipv4("127.0.0.1", 18080);
    net::Address source = ipv4("127.0.0.1", 32990);
    net::Address server = ipv4("127.0.0.1", 18081);
    Record::Captured req_caps[2] = {{"h{\"\xe9 \\", true}, {"", false}};
    Record::Captured res_caps[1] = {{"r{1}|\x01", true}};
    Record rec;
};

TEST_F(LogFormatTest, Dates) {
    EXPECT_EQ(render("%t"), "07/Dec/2026:13:53:40.375");
    EXPECT_EQ(render("%T"), "07/Dec/2026:13:53:40 +0000");
    EXPECT_EQ(render("%Tl"), "07/Dec/2026:13:53:40 +0000");
    EXPECT_EQ(render("%tr"), "07/Dec/2026:13:53:40.377");
    EXPECT_EQ(render("%trg|%trl"), "07/Dec/2026:13:53:40 +0000|07/Dec/2026:13:53:40 +0000");
    EXPECT_EQ(render("%Ts %ms"), "1796651620 375");
    EXPECT_EQ(render("%{+X}o %Ts %ms"), "6B16BA64 177");
    // Dates are never quoted.
    EXPECT_EQ(render("%{+Q}t"), "07/Dec/2026:13:53:40.375");
    setenv("TZ", "EST5", 1);
    tzset();
    EXPECT_EQ(render("%Tl %trl"), "07/Dec/2026:08:53:40 -0500 07/Dec/2026:08:53:40 -0500");
    EXPECT_EQ(render("%t %T"), "07/Dec/2026:08:53:40.375 07/Dec/2026:13:53:40 +0000");
}

TEST_F(LogFormatTest, Timers) {
    EXPECT_EQ(render("%Th/%Ti/%TR/%Tw/%Tc/%Tr/%Ta/%Tt/%Tq/%Td/%Tu"), "0/0/2/0/0/2/2/4/2/0/4");
    rec.tc = -1;
    rec.tr = -1;
    EXPECT_EQ(render("%Tc %Tr %Td"), "-1 -1 -1");
    rec.logasap = true;
    EXPECT_EQ(render("%Ta %Tt %Tu %B %U"), "+2 +4 +4 +94 58");
    rec.tr_req = -1;
    EXPECT_EQ(render("%TR %Tq"), "-1 -1");
}

TEST_F(LogFormatTest, TcpDataTime) {
    // mode tcp, as haproxy logged it: Tw 1 (its t_request is -1 there), Tc 0, Tt 5004.
    rec.http = false;
    rec.tr_req = -1;
    rec.tw = 1;
    rec.tr = -1;
    rec.tt = 5004;
    EXPECT_EQ(render("%Tw %Tc %Tt %Td %Tu %ST"), "1 0 5004 5004 5004 0");
}

TEST_F(LogFormatTest, PlainVariables) {
    EXPECT_EQ(render("%ci:%cp %fi:%fp %bi:%bp %si:%sp"),
              "127.0.0.1:43980 127.0.0.1:18080 127.0.0.1:32990 127.0.0.1:18081");
    EXPECT_EQ(render("%f %ft %b %s"), "fe fe be s1");
    EXPECT_EQ(render("%ac/%fc/%bc/%sc/%rc %sq/%bq %lc %rt"), "1/1/1/1/0 0/0 0 0");
    EXPECT_EQ(render("%ST %B %U"), "200 94 58");
    EXPECT_EQ(render("%ID"), "7F000001:ABCC");
    EXPECT_EQ(render("%ts %tsc"), "-- ----");
    EXPECT_EQ(render("%sslv %sslc"), "- -");
    rec.term_cause = 'P';
    rec.term_phase = 'R';
    EXPECT_EQ(render("%ts %tsc"), "PR PR--");
    rec.ssl_frontend = true;
    rec.redispatched = true;
    rec.retries = 2;
    EXPECT_EQ(render("%ft %rc"), "fe~ +2");
    rec.server_name = {};
    EXPECT_EQ(render("%s"), "<NOSRV>");
    EXPECT_EQ(render("%o%%pid"), "%pid");
    EXPECT_FALSE(render("%pid").empty());
    EXPECT_FALSE(render("%H").empty());
}

TEST_F(LogFormatTest, RequestLine) {
    EXPECT_EQ(render("%r"), "GET /a#22b{|}~?x=y HTTP/1.1");
    EXPECT_EQ(render("%HM|%HU|%HV"), "GET|/a#22b{|}~?x=y|HTTP/1.1");
    EXPECT_EQ(render("%HP %HPO %HQ"), "/a#22b{|}~ /a#22b{|}~ ?x=y");
    EXPECT_EQ(render("%{+Q}r"), "\"GET /a#22b{|}~?x=y HTTP/1.1\"");
    rec.uri = "http://h/p/q";
    EXPECT_EQ(render("[%HQ]%HP %HPO %HU [%{+Q}HQ]"), "[]http://h/p/q /p/q http://h/p/q [\"\"]");
    rec.uri = "*";
    EXPECT_EQ(render("%HP [%HPO]"), "* []");
    rec.method = {};
    EXPECT_EQ(render("%r %HM %HU %HV %HP %HPO %HQ"),
              "<BADREQ> <BADREQ> <BADREQ> <BADREQ> <BADREQ> <BADREQ> <BADREQ>");
    EXPECT_EQ(render("%{+Q}r"), "\"<BADREQ>\"");
}

TEST_F(LogFormatTest, Captures) {
    EXPECT_EQ(render("%hr %hs"), "{h#7B#22#E9 \\|} {r#7B1#7D#7C#01}");
    EXPECT_EQ(render("%hrl|%hsl"), "h#7B#22#E9 \\ -|r#7B1#7D#7C#01");
    EXPECT_EQ(render("%{+Q}hr %{+Q}hrl"), "\"{h#7B#22#E9 \\|}\" \"h#7B#22#E9 \\\" \"\"");
    EXPECT_EQ(render("%{+E}hr %{+E}hrl"), "{h#7B#22#E9 \\\\|} h#7B#22#E9 \\\\ -");
    EXPECT_EQ(render("%CC %CS"), "SID=x\"]z SID=abc\"d|");
    EXPECT_EQ(render("%{+Q}CC %{+E}CC"), "\"SID=x\"]z\" SID=x\\\"\\]z");
    // No capture was made (none declared, or an invalid request): nothing at all.
    rec.request_headers = {};
    rec.request_cookie = {};
    EXPECT_EQ(render("[%hr][%hrl][%{+Q}hr]%CC %{+Q}CC"), "[][][]- \"\"");
}

TEST_F(LogFormatTest, Flags) {
    EXPECT_EQ(render("%{+Q}o %ci %cp %b %ST %B %ts"), "\"127.0.0.1\" 43980 \"be\" 200 94 --");
    EXPECT_EQ(render("%{+X}o %ci:%cp %fp %lc %rt %rc %B"), "7F000001:ABCC 46A0 0000 0000 0 94");
    EXPECT_EQ(render("%{+Q,+X}ci %{+Q+X}b %{+Q}o %{-Q}ci %b"), "7F000001 \"be\" 127.0.0.1 \"be\"");
    // Unknown flags and words without a sign are ignored, as HAProxy does.
    EXPECT_EQ(render("%{+Z}ci %{Q}b"), "127.0.0.1 be");
    EXPECT_EQ(render("%{+Q}o %{+E}[str(a]b\\\\c)] %[int(12)]"), "\"a\\]b\\\\c\" \"12\"");
    EXPECT_EQ(render("%{+X}o %{+Q}[str(x)]"), "\"x\"");
    // Spaces are separators in a log line: merged, none at the start.
    EXPECT_EQ(render("  a  %hs  b %o "), "a {r#7B1#7D#7C#01} b ");
    rec.response_headers = {};
    EXPECT_EQ(render("a %hs b"), "a b");
    net::Address v6;
    ASSERT_TRUE(net::parse_numeric_ip("::1", 443, v6));
    rec.client = &v6;
    EXPECT_EQ(render("%ci %{+X}ci %{+X}cp"), "::1 00000000000000000000000000000001 01BB");
}

TEST_F(LogFormatTest, EmptyValues) {
    rec.backend_source = nullptr;
    rec.unique_id = {};
    EXPECT_EQ(render("%bi:%bp %ID"), "-:- -");
    EXPECT_EQ(render("%{+Q}o %bi:%bp %ID"), "\"\":\"\" \"\"");
    EXPECT_EQ(render("%{+X}o %bi:%bp"), "-:-");
}

TEST_F(LogFormatTest, MissingSamplesPerMode) {
    EXPECT_EQ(render("a%[var(txn.nope)]b", Mode::Log), "a-b");
    EXPECT_EQ(render("a%{+Q}[var(txn.nope)]b", Mode::Log), "a\"\"b");
    EXPECT_EQ(render("a%[var(txn.nope)]b", Mode::Rule), "ab");
    EXPECT_EQ(render("a  %[var(txn.nope)]  b", Mode::Rule, false), "a    b");
    // Variables without a Record (a rule renders before any log) are "-".
    EXPECT_EQ(render("%ci %ST", Mode::Rule, false), "- -");
}

TEST_F(LogFormatTest, Json) {
    EXPECT_EQ(render("%ci:%cp [%t] %b/%s %ST %Tw %ID %hr %[var(txn.nope)] %[int(3)] %[str(x)]",
                     Mode::Json),
              "{\"ci\":\"127.0.0.1\",\"cp\":43980,\"t\":\"07/Dec/2026:13:53:40.375\","
              "\"b\":\"be\",\"s\":\"s1\",\"ST\":200,\"Tw\":0,\"ID\":\"7F000001:ABCC\","
              "\"hr\":[\"h{\\\"\\u00e9 \\\\\",null],\"var(txn.nope)\":null,\"int(3)\":3,"
              "\"str(x)\":\"x\"}");
    rec.backend_source = nullptr;
    rec.server_name = {};
    EXPECT_EQ(render("%bi %bp %{+Q}o %s", Mode::Json),
              "{\"bi\":null,\"bp\":null,\"s\":\"<NOSRV>\"}");
    EXPECT_EQ(render("%ci", Mode::Json, false), "{\"ci\":null}");
}

TEST_F(LogFormatTest, ParseErrors) {
    EXPECT_EQ(error("%ci %xx"),
              "no such format variable 'xx'. If you wanted to emit the '%' character verbatim, "
              "you need to use '%%'");
    EXPECT_EQ(error("%{+Q}c"), error("%c").replace(error("%c").find("'c'"), 3, "'c'"));
    EXPECT_EQ(error("%{+Q"), "truncated line after '+Q'");
    EXPECT_EQ(error("%{+Q}"), "parse argument modifier without variable name near '%{+Q}'");
    EXPECT_EQ(error("%ci%"), "truncated line after '%'");
    EXPECT_NE(error("%[src").find("missing ']'"), std::string::npos);
    EXPECT_EQ(error("%[src]x %ci"), "<parsed>");
}

TEST_F(LogFormatTest, HttpOnlyVariables) {
    for (const char* v : {"CC", "CS", "HM", "HP", "HPO", "HQ", "HU", "HV", "Ta", "Ti", "Tq", "TR",
                          "Tr", "r", "tr", "trg", "trl"}) {
        auto f = Format::parse(std::string("%ci %") + v, log::kLogFormatUse);
        ASSERT_TRUE(f) << v;
        EXPECT_EQ(f->http_only_variable(), v);
    }
    // The manual says %tsc is HTTP-only; haproxy 2.6 accepts it in mode tcp.
    auto f = Format::parse(std::string(log::kTcpLogFormat) + " %tsc", log::kLogFormatUse);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->http_only_variable(), "");
}

TEST_F(LogFormatTest, BuiltInFormats) {
    EXPECT_EQ(render(log::kHttpLogFormat),
              "127.0.0.1:43980 [07/Dec/2026:13:53:40.377] fe be/s1 2/0/0/2/2 200 94 SID=x\"]z "
              "SID=abc\"d| ---- 1/1/1/1/0 0/0 {h#7B#22#E9 \\|} {r#7B1#7D#7C#01} "
              "\"GET /a#22b{|}~?x=y HTTP/1.1\"");
    EXPECT_EQ(render(log::kHttpLogClfFormat),
              "127.0.0.1 - - [07/Dec/2026:13:53:40 +0000] \"GET /a#22b{|}~?x=y HTTP/1.1\" 200 94 "
              "\"\" \"\" 43980 375 \"fe\" \"be\" \"s1\" 2 0 0 2 2 ---- 1 1 1 1 0 0 0 "
              "\"SID=x\"]z\" \"SID=abc\"d|\" \"h#7B#22#E9 \\\" \"\" \"r#7B1#7D#7C#01\"");
    EXPECT_EQ(render(log::kHttpsLogFormat).substr(render(log::kHttpLogFormat).size()),
              " 0/-/-/-/- -/-/-");
    rec.http = false;
    EXPECT_EQ(render(log::kTcpLogFormat),
              "127.0.0.1:43980 [07/Dec/2026:13:53:40.375] fe be/s1 0/0/4 94 -- 1/1/1/1/0 0/0");
    EXPECT_EQ(render(log::kDefaultSd), "- ");
    EXPECT_EQ(render(log::kLegacyErrorPrefix), "127.0.0.1:43980 [07/Dec/2026:13:53:40.377] fe");
}

}  // namespace
}  // namespace sluice::sample
