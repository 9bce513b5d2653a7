// The HTTP/1 head parser and framing analysis of include/sluice/http/h1_parse.hpp: one table per
// start line giving each rule a positive and a negative case, in strict mode and under
// accept_invalid; views and offsets; resumed parsing split at every byte; the header limit; the
// body framing rules and the request smuggling vectors they defend against.
//
// Where a case says "HAProxy 2.6 ...", it pins the behaviour of Debian's haproxy 2.6.12 in mode
// http, fed the same bytes over a socket (400/502 versus forwarded), with and without
// `option accept-invalid-http-request/response`. Where we differ, the case says so and
// src/http/h1_parse.cpp says why at the rule.
#include "sluice/http/h1_parse.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http {

// Readable failures; found by ADL since HeadResult is a variant of sluice::http types.
void PrintTo(const HeadResult& r, std::ostream* os) {
    if (const auto* d = std::get_if<Done>(&r)) {
        *os << "Done{" << d->consumed << "}";
    } else if (const auto* i = std::get_if<Invalid>(&r)) {
        *os << "Invalid{" << to_string(i->reason) << " @" << i->offset << "}";
    } else {
        *os << "Incomplete";
    }
}

namespace {

using namespace std::string_view_literals;

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

bool inside(std::string_view view, std::string_view buffer) {
    return view.data() >= buffer.data() &&
           view.data() + view.size() <= buffer.data() + buffer.size();
}

HeadResult parse_req(std::string_view text, RequestHead& head, bool loose = false) {
    return parse_request_head(bytes(text), 0, head, {.accept_invalid = loose});
}
HeadResult parse_res(std::string_view text, ResponseHead& head, bool loose = false) {
    return parse_response_head(bytes(text), 0, head, {.accept_invalid = loose});
}

// A verdict: accepted (nullopt) or refused for a reason.
using Verdict = std::optional<InvalidReason>;
constexpr Verdict kOk = std::nullopt;
using R = InvalidReason;

void expect_verdict(const HeadResult& r, Verdict want, std::string_view mode) {
    if (!want) {
        EXPECT_TRUE(std::holds_alternative<Done>(r)) << mode << ": " << testing::PrintToString(r);
    } else {
        const auto* bad = std::get_if<Invalid>(&r);
        ASSERT_NE(bad, nullptr) << mode << ": " << testing::PrintToString(r);
        EXPECT_EQ(to_string(bad->reason), to_string(*want)) << mode;
    }
}

struct RuleCase {
    const char* name;  // the behaviour, used as the test name
    std::string_view text;
    Verdict strict;
    Verdict loose;  // under accept_invalid
};
void PrintTo(const RuleCase& c, std::ostream* os) {
    *os << c.name;
}

// ---- Request line and header fields ------------------------------------------------------

const RuleCase kRequestRules[] = {
    {"AcceptsSimpleGet", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", kOk, kOk},
    {"AcceptsLowercaseMethod", "get / HTTP/1.1\r\n\r\n", kOk, kOk},
    {"AcceptsEveryTokenCharInMethod", "G!#$%&'*+-.^_`|~T / HTTP/1.1\r\n\r\n", kOk, kOk},
    {"RejectsParenInMethod", "GE(T / HTTP/1.1\r\n\r\n", R::BadMethod, R::BadMethod},
    {"RejectsNonAsciiMethod", "G\xc3\xa9T / HTTP/1.1\r\n\r\n", R::BadMethod, R::BadMethod},
    {"RejectsEmptyMethod", " / HTTP/1.1\r\n\r\n", R::BadMethod, R::BadMethod},
    {"RejectsMethodAlone", "GET\r\n\r\n", R::MissingTarget, R::MissingTarget},
    {"RejectsMissingTarget", "GET \r\n\r\n", R::MissingTarget, R::MissingTarget},
    // HAProxy 2.6 accepts runs of SP/HTAB between the words, but not VT.
    {"AcceptsRunsOfSpacesAndTabs", "GET  /\t HTTP/1.1\r\n\r\n", kOk, kOk},
    {"RejectsVerticalTabSeparator", "GET\x0b/ HTTP/1.1\r\n\r\n", R::BadMethod, R::BadMethod},
    // HAProxy 2.6: trailing whitespace or a fourth word is a 400 even with the option.
    {"RejectsTrailingSpaceAfterVersion", "GET / HTTP/1.1 \r\n\r\n", R::BadVersion, R::BadVersion},
    {"RejectsFourthWord", "GET / HTTP/1.1 x\r\n\r\n", R::BadVersion, R::BadVersion},
    {"RejectsSpaceInsideTarget", "GET /a b HTTP/1.1\r\n\r\n", R::BadVersion, R::BadVersion},
    // HAProxy 2.6 skips empty lines before the request line; a line starting with SP is a 400.
    {"SkipsLeadingEmptyLines", "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n", kOk, kOk},
    {"RejectsLeadingSpace", " GET / HTTP/1.1\r\n\r\n", R::BadMethod, R::BadMethod},
    {"RejectsBareCrBeforeRequestLine", "\rGET / HTTP/1.1\r\n\r\n", R::BareCr, R::BareCr},
    // Target bytes. HAProxy 2.6 forwards " < > \ ^ ` { | } despite its manual.
    {"AcceptsQuotesAndBracesInTarget", "GET /a\"<>\\^`{|}b HTTP/1.1\r\n\r\n", kOk, kOk},
    {"RejectsFragmentUnlessAcceptInvalid", "GET /a#b HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsNonAsciiTargetUnlessAcceptInvalid", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", R::BadTarget,
     kOk},
    // HAProxy 2.6 forwards DEL in a target; its manual says it always blocks 127, and so do we.
    {"RejectsDelInTarget", "GET /a\x7f HTTP/1.1\r\n\r\n", R::BadTarget, R::BadTarget},
    {"RejectsControlInTarget", "GET /a\x01 HTTP/1.1\r\n\r\n", R::BadTarget, R::BadTarget},
    {"RejectsNulInTarget", "GET /a\0b HTTP/1.1\r\n\r\n"sv, R::BadTarget, R::BadTarget},
    // Target forms (RFC 9112 3.2), as HAProxy 2.6 checks them; the option lifts the check.
    {"AcceptsAsteriskForm", "OPTIONS * HTTP/1.1\r\n\r\n", kOk, kOk},
    {"AcceptsAsteriskFormWithAnyMethod", "GET * HTTP/1.1\r\n\r\n", kOk, kOk},
    // HAProxy 2.6 accepts "*x"; it is no request-target form.
    {"RejectsAsteriskWithSuffix", "OPTIONS *x HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"AcceptsAbsoluteForm", "GET http://a/x HTTP/1.1\r\n\r\n", kOk, kOk},
    {"AcceptsAnySchemeInAbsoluteForm", "GET x-y.z+w://a/ HTTP/1.1\r\n\r\n", kOk, kOk},
    {"RejectsSchemeWithoutSlashes", "GET a:b HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsSchemeStartingWithDigit", "GET 1ttp://a/ HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsRelativeTarget", "GET abc HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsQueryWithoutPath", "GET ?x HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsAuthorityFormWithoutConnect", "GET a:443 HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"AcceptsConnectAuthority", "CONNECT a:443 HTTP/1.1\r\n\r\n", kOk, kOk},
    {"AcceptsConnectIpv6Authority", "CONNECT [::1]:443 HTTP/1.1\r\n\r\n", kOk, kOk},
    {"RejectsConnectWithoutPort", "CONNECT a HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsConnectNonNumericPort", "CONNECT a:b HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsConnectOriginForm", "CONNECT / HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    // HAProxy 2.6 accepts these three for CONNECT; RFC 9112 3.2.3 allows host:port only.
    {"RejectsConnectAbsoluteForm", "CONNECT http://a:443 HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsConnectUserinfo", "CONNECT u@a:443 HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    {"RejectsConnectPath", "CONNECT a:443/x HTTP/1.1\r\n\r\n", R::BadTarget, kOk},
    // Versions. HAProxy 2.6 takes any HTTP/<digit>.<digit> (2.0, 1.2 and 0.9 are forwarded as
    // 1.1/1.0); we take 1.0 and 1.1 only. With the option, as HAProxy: several digits, other
    // protocol names, no version; but never lowercase "http/" or non-digits after "HTTP/".
    {"AcceptsHttp10", "GET / HTTP/1.0\r\n\r\n", kOk, kOk},
    {"RejectsHttp20UnlessAcceptInvalid", "GET / HTTP/2.0\r\n\r\n", R::BadVersion, kOk},
    {"RejectsHttp12UnlessAcceptInvalid", "GET / HTTP/1.2\r\n\r\n", R::BadVersion, kOk},
    {"RejectsHttp09VersionUnlessAcceptInvalid", "GET / HTTP/0.9\r\n\r\n", R::BadVersion, kOk},
    {"RejectsMultiDigitMinorUnlessAcceptInvalid", "GET / HTTP/1.10\r\n\r\n", R::BadVersion, kOk},
    {"RejectsMultiDigitMajorUnlessAcceptInvalid", "GET / HTTP/11.1\r\n\r\n", R::BadVersion, kOk},
    {"RejectsOtherProtocolUnlessAcceptInvalid", "GET / RTSP/1.0\r\n\r\n", R::BadVersion, kOk},
    {"RejectsMissingVersionUnlessAcceptInvalid", "GET /\r\n\r\n", R::BadVersion, kOk},
    {"RejectsLowercaseHttp", "GET / http/1.1\r\n\r\n", R::BadVersion, R::BadVersion},
    {"RejectsNonDigitVersion", "GET / HTTP/a.b\r\n\r\n", R::BadVersion, R::BadVersion},
    {"RejectsJunkAfterVersion", "GET / HTTP/1.1x\r\n\r\n", R::BadVersion, R::BadVersion},
    {"RejectsNonTokenProtocolName", "GET / H(P/1.1\r\n\r\n", R::BadVersion, R::BadVersion},
    // Line ends: HAProxy 2.6 takes a bare LF anywhere, and refuses a bare CR anywhere.
    {"AcceptsBareLfLineEnds", "GET / HTTP/1.1\nHost: a\n\n", kOk, kOk},
    {"AcceptsMixedLineEnds", "GET / HTTP/1.1\nHost: a\r\nX: 1\n\r\n", kOk, kOk},
    {"RejectsBareCrInRequestLine", "GET / HTTP/1.1\rHost: a\r\n\r\n", R::BareCr, R::BareCr},
    {"RejectsBareCrInValue", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", R::BareCr, R::BareCr},
    {"RejectsCrCrLf", "GET / HTTP/1.1\r\r\n\r\n", R::BareCr, R::BareCr},
    {"RejectsBareCrOnFinalLine", "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", R::BareCr, R::BareCr},
    // Header names: tokens. The option lets other bytes through as in HAProxy 2.6, except
    // whitespace and NUL, which HAProxy takes too (smuggling vectors, see h1_parse.cpp).
    {"AcceptsUnderscoreInName", "GET / HTTP/1.1\r\nX_Y: z\r\n\r\n", kOk, kOk},
    {"RejectsSpaceBeforeColon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", R::SpaceBeforeColon,
     R::SpaceBeforeColon},
    {"RejectsTabBeforeColon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", R::SpaceBeforeColon,
     R::SpaceBeforeColon},
    {"RejectsSpaceInName", "GET / HTTP/1.1\r\nX Y: z\r\n\r\n", R::SpaceBeforeColon,
     R::SpaceBeforeColon},
    {"RejectsParenInNameUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX(Y: z\r\n\r\n", R::BadHeaderName,
     kOk},
    {"RejectsAtInNameUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX@Y: z\r\n\r\n", R::BadHeaderName,
     kOk},
    {"RejectsNonAsciiNameUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX\xc3\xa9: z\r\n\r\n",
     R::BadHeaderName, kOk},
    {"RejectsControlInNameUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX\x01Y: z\r\n\r\n",
     R::BadHeaderName, kOk},
    {"RejectsDelInNameUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX\x7fY: z\r\n\r\n", R::BadHeaderName,
     kOk},
    {"RejectsNulInName", "GET / HTTP/1.1\r\nX\0Y: z\r\n\r\n"sv, R::BadHeaderName, R::BadHeaderName},
    {"RejectsEmptyName", "GET / HTTP/1.1\r\n: z\r\n\r\n", R::EmptyHeaderName, R::EmptyHeaderName},
    {"RejectsLineWithoutColon", "GET / HTTP/1.1\r\nXYZ\r\n\r\n", R::MissingColon, R::MissingColon},
    // obs-fold: HAProxy 2.6 unfolds it into spaces; we refuse it (RFC 9112 5.2 allows a 400).
    {"RejectsObsFoldWithSpace", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", R::ObsFold, R::ObsFold},
    {"RejectsObsFoldWithTab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", R::ObsFold, R::ObsFold},
    // HAProxy 2.6 refuses this one, and takes " X" as a name with the option; we refuse both.
    {"RejectsIndentedFirstField", "GET / HTTP/1.1\r\n X: b\r\n\r\n", R::ObsFold, R::ObsFold},
    // Values. HAProxy 2.6 forwards every control but CR/LF, NUL included; RFC 9110 5.5 wants
    // NUL refused (or replaced), and calls the other controls invalid.
    {"RejectsNulInValue", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"sv, R::BadHeaderValue,
     R::BadHeaderValue},
    {"RejectsControlInValueUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",
     R::BadHeaderValue, kOk},
    {"RejectsEscapeInValueUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX: a\x1bz\r\n\r\n",
     R::BadHeaderValue, kOk},
    {"RejectsDelInValueUnlessAcceptInvalid", "GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n",
     R::BadHeaderValue, kOk},
    {"AcceptsTabInValue", "GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", kOk, kOk},
    {"AcceptsObsTextInValue", "GET / HTTP/1.1\r\nX: a\xc3\xa9\xff\r\n\r\n", kOk, kOk},
    {"AcceptsEmptyValue", "GET / HTTP/1.1\r\nX:\r\n\r\n", kOk, kOk},
    {"AcceptsColonInValue", "GET / HTTP/1.1\r\nX: a:b\r\n\r\n", kOk, kOk},
};

class H1RequestRule : public testing::TestWithParam<RuleCase> {};

TEST_P(H1RequestRule, Verdict) {
    const RuleCase& c = GetParam();
    RequestHead head;
    expect_verdict(parse_req(c.text, head, false), c.strict, "strict");
    expect_verdict(parse_req(c.text, head, true), c.loose, "accept_invalid");
}

std::string case_name(const testing::TestParamInfo<RuleCase>& info) {
    return info.param.name;
}
INSTANTIATE_TEST_SUITE_P(, H1RequestRule, testing::ValuesIn(kRequestRules), case_name);

// ---- Status line ---------------------------------------------------------------------------

const RuleCase kResponseRules[] = {
    {"AcceptsStatusLine", "HTTP/1.1 200 OK\r\n\r\n", kOk, kOk},
    {"AcceptsReasonWithSpaces", "HTTP/1.1 200 All Good Here\r\n\r\n", kOk, kOk},
    {"AcceptsEmptyReason", "HTTP/1.1 204 \r\n\r\n", kOk, kOk},
    // HAProxy 2.6 accepts a status line without the SP before an empty reason.
    {"AcceptsMissingSpaceBeforeEmptyReason", "HTTP/1.1 200\r\n\r\n", kOk, kOk},
    {"AcceptsObsTextAndTabInReason", "HTTP/1.1 200 a\tb\xc3\xa9\r\n\r\n", kOk, kOk},
    // HAProxy 2.6 forwards controls, NUL included, in the reason; we treat it as a value.
    {"RejectsControlInReasonUnlessAcceptInvalid", "HTTP/1.1 200 a\x01z\r\n\r\n", R::BadReason, kOk},
    {"RejectsNulInReason", "HTTP/1.1 200 a\0z\r\n\r\n"sv, R::BadReason, R::BadReason},
    {"AcceptsRunsOfWhitespaceBeforeStatus", "HTTP/1.1 \t 200 OK\r\n\r\n", kOk, kOk},
    // HAProxy 2.6 forwards "20", "2000", "099" and "000"; RFC 9110 15 says three digits.
    {"RejectsTwoDigitStatus", "HTTP/1.1 20 OK\r\n\r\n", R::BadStatus, R::BadStatus},
    {"RejectsFourDigitStatus", "HTTP/1.1 2000 OK\r\n\r\n", R::BadStatus, R::BadStatus},
    {"RejectsNonDigitStatus", "HTTP/1.1 2x0 OK\r\n\r\n", R::BadStatus, R::BadStatus},
    {"RejectsStatusBelow100", "HTTP/1.1 099 OK\r\n\r\n", R::BadStatus, R::BadStatus},
    {"AcceptsStatusAbove599", "HTTP/1.1 999 Whatever\r\n\r\n", kOk, kOk},
    {"RejectsMissingStatus", "HTTP/1.1\r\n\r\n", R::BadStatus, R::BadStatus},
    {"AcceptsResponseHttp10", "HTTP/1.0 200 OK\r\n\r\n", kOk, kOk},
    // HAProxy 2.6 forwards HTTP/2.0 as 1.1; with the option it takes "HTTP/11.1" and "ICY".
    {"RejectsResponseHttp20UnlessAcceptInvalid", "HTTP/2.0 200 OK\r\n\r\n", R::BadVersion, kOk},
    {"RejectsMultiDigitResponseVersionUnlessAcceptInvalid", "HTTP/11.1 200 OK\r\n\r\n",
     R::BadVersion, kOk},
    {"RejectsIcyUnlessAcceptInvalid", "ICY 200 OK\r\n\r\n", R::BadVersion, kOk},
    {"RejectsLowercaseResponseVersion", "http/1.1 200 OK\r\n\r\n", R::BadVersion, R::BadVersion},
    {"RejectsLeadingSpaceBeforeVersion", " HTTP/1.1 200 OK\r\n\r\n", R::BadVersion, R::BadVersion},
    {"SkipsEmptyLinesBeforeStatusLine", "\r\nHTTP/1.1 200 OK\r\n\r\n", kOk, kOk},
    {"AcceptsBareLfInResponse", "HTTP/1.1 200 OK\nX: y\n\n", kOk, kOk},
    {"RejectsSpaceBeforeColonInResponse", "HTTP/1.1 200 OK\r\nX : y\r\n\r\n", R::SpaceBeforeColon,
     R::SpaceBeforeColon},
    {"RejectsParenInResponseNameUnlessAcceptInvalid", "HTTP/1.1 200 OK\r\nX(: y\r\n\r\n",
     R::BadHeaderName, kOk},
    {"RejectsObsFoldInResponse", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", R::ObsFold, R::ObsFold},
};

class H1ResponseRule : public testing::TestWithParam<RuleCase> {};

TEST_P(H1ResponseRule, Verdict) {
    const RuleCase& c = GetParam();
    ResponseHead head;
    expect_verdict(parse_res(c.text, head, false), c.strict, "strict");
    expect_verdict(parse_res(c.text, head, true), c.loose, "accept_invalid");
}

INSTANTIATE_TEST_SUITE_P(, H1ResponseRule, testing::ValuesIn(kResponseRules), case_name);

// ---- Views, offsets, limits ----------------------------------------------------------------

constexpr std::string_view kBrowserRequest =
    "GET /static/app.js?v=3 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: */*\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: session=abc123; theme=dark\r\n"
    "\r\n";

TEST(H1Request, ViewsPointIntoTheInput) {
    RequestHead h;
    const HeadResult r = parse_req(kBrowserRequest, h);
    ASSERT_EQ(r, HeadResult(Done{kBrowserRequest.size()}));
    EXPECT_EQ(h.method, "GET");
    EXPECT_EQ(h.target, "/static/app.js?v=3");
    EXPECT_EQ(h.version_text, "HTTP/1.1");
    EXPECT_EQ(h.version, Version::Http11);
    EXPECT_EQ(h.target_form, TargetForm::Origin);
    ASSERT_EQ(h.headers.size(), 8u);
    EXPECT_EQ(h.headers[0].name, "Host");
    EXPECT_EQ(h.headers[0].value, "www.example.com");
    EXPECT_EQ(h.headers[7].value, "session=abc123; theme=dark");
    for (std::string_view v : {h.method, h.target, h.version_text})
        EXPECT_TRUE(inside(v, kBrowserRequest));
    for (const Header& f : h.headers.all()) {
        EXPECT_TRUE(inside(f.name, kBrowserRequest));
        EXPECT_TRUE(inside(f.value, kBrowserRequest));
    }
}

TEST(H1Request, TrimsWhitespaceAroundValuesAndKeepsNameCase) {
    RequestHead h;
    ASSERT_TRUE(std::holds_alternative<Done>(
        parse_req("GET / HTTP/1.1\r\nX-MiXeD: \t a b \t \r\nE:\r\n\r\n", h)));
    EXPECT_EQ(h.headers[0].name, "X-MiXeD");
    EXPECT_EQ(h.headers[0].value, "a b");
    EXPECT_EQ(h.headers[1].value, "");
    ASSERT_NE(h.headers.find("x-mixed"), nullptr);
    EXPECT_EQ(h.headers.find("x-mixed")->value, "a b");
    EXPECT_EQ(h.headers.find("x-mixe"), nullptr);
}

TEST(H1Request, ConsumedStopsAtTheEndOfTheHead) {
    RequestHead h;
    constexpr std::string_view text = "\r\nPOST / HTTP/1.0\nContent-Length: 2\n\nokGET";
    EXPECT_EQ(parse_req(text, h), HeadResult(Done{text.size() - 5}));  // leading CRLF counted
    EXPECT_EQ(h.version, Version::Http10);
}

TEST(H1Request, AcceptInvalidReportsOtherVersionAndTargetForm) {
    RequestHead h;
    ASSERT_TRUE(std::holds_alternative<Done>(parse_req("GET abc RTSP/1.0\r\n\r\n", h, true)));
    EXPECT_EQ(h.version, Version::Other);
    EXPECT_EQ(h.version_text, "RTSP/1.0");
    EXPECT_EQ(h.target_form, TargetForm::Other);
    ASSERT_TRUE(std::holds_alternative<Done>(parse_req("GET /\r\n\r\n", h, true)));
    EXPECT_EQ(h.version, Version::Other);
    EXPECT_EQ(h.version_text, "");
}

TEST(H1Request, InvalidOffsetPointsAtTheOffendingByte) {
    RequestHead h;
    EXPECT_EQ(parse_req("GET / HTTP/1.1\r\nHost: a\r\nX(: y\r\n\r\n", h),
              HeadResult(Invalid{R::BadHeaderName, 26}));
    EXPECT_EQ(parse_req("GET / HTTP/2.0\r\n\r\n", h), HeadResult(Invalid{R::BadVersion, 11}));
    EXPECT_EQ(parse_req("GET / HTTP/1.1\r\nX: 1\r\n y\r\n\r\n", h),
              HeadResult(Invalid{R::ObsFold, 22}));
}

TEST(H1Request, RejectsBeforeTheHeadIsComplete) {
    // A hostile prefix is refused at once rather than after the buffer fills.
    RequestHead h;
    EXPECT_EQ(parse_req("GE(T", h), HeadResult(Invalid{R::BadMethod, 2}));
    EXPECT_EQ(parse_req("GET / HTTP/2", h), HeadResult(Invalid{R::BadVersion, 11}));
    EXPECT_EQ(parse_req("GET / HTTP/1.1\r\nX : ", h), HeadResult(Invalid{R::SpaceBeforeColon, 17}));
}

TEST(H1Request, EveryProperPrefixIsIncomplete) {
    for (std::string_view text : {kBrowserRequest, std::string_view("\r\nGET / HTTP/1.0\nA: b\n\n"),
                                  std::string_view("CONNECT [::1]:443 HTTP/1.1\r\n\r\n")}) {
        for (std::size_t n = 0; n < text.size(); ++n) {
            RequestHead h;
            EXPECT_EQ(parse_req(text.substr(0, n), h), HeadResult(Incomplete{}))
                << "prefix of " << n << " bytes";
        }
    }
}

std::string request_with_fields(std::size_t n) {
    std::string text = "GET / HTTP/1.1\r\n";
    for (std::size_t i = 0; i < n; ++i)
        text += "X-" + std::to_string(i) + ": v\r\n";
    return text + "\r\n";
}

// HAProxy 2.6 with tune.http.maxhdr 101 (its default) forwards 100 fields and refuses 101,
// in requests (400) and responses (502) alike: the start line counts as one.
TEST(H1Request, AcceptsOneHundredFieldsAndRefusesTheNext) {
    RequestHead h;
    const std::string ok = request_with_fields(100);
    EXPECT_EQ(parse_req(ok, h), HeadResult(Done{ok.size()}));
    EXPECT_EQ(h.headers.size(), 100u);
    const std::string over = request_with_fields(101);
    EXPECT_EQ(parse_req(over, h), HeadResult(Invalid{R::TooManyHeaders, ok.size() - 2}));
}

TEST(H1Request, MaxHeadersOptionLowersTheLimit) {
    RequestHead h;
    const std::string text = request_with_fields(3);
    EXPECT_TRUE(
        std::holds_alternative<Done>(parse_request_head(bytes(text), 0, h, {.max_headers = 3})));
    EXPECT_TRUE(
        std::holds_alternative<Invalid>(parse_request_head(bytes(text), 0, h, {.max_headers = 2})));
    // Above the capacity it acts as the capacity.
    const std::string over = request_with_fields(101);
    EXPECT_TRUE(std::holds_alternative<Invalid>(
        parse_request_head(bytes(over), 0, h, {.max_headers = 500})));
}

TEST(H1Response, ViewsAndStatus) {
    ResponseHead h;
    constexpr std::string_view text = "HTTP/1.0 404  Not  Found \r\nServer: x\r\n\r\nbody";
    ASSERT_EQ(parse_res(text, h), HeadResult(Done{text.size() - 4}));
    EXPECT_EQ(h.version, Version::Http10);
    EXPECT_EQ(h.status, 404);
    EXPECT_EQ(h.reason, "Not  Found");
    EXPECT_EQ(h.headers.find("server")->value, "x");
    EXPECT_TRUE(inside(h.reason, text));
}

TEST(H1Response, AcceptsOneHundredFieldsAndRefusesTheNext) {
    std::string text = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 100; ++i)
        text += "X: v\r\n";
    ResponseHead h;
    EXPECT_TRUE(std::holds_alternative<Done>(parse_res(text + "\r\n", h)));
    EXPECT_TRUE(std::holds_alternative<Invalid>(parse_res(text + "X: v\r\n\r\n", h)));
}

TEST(H1Fields, ParsesATrailerBlock) {
    HeaderList list;
    EXPECT_EQ(parse_fields(bytes("\r\n"), 0, list), HeadResult(Done{2}));
    EXPECT_TRUE(list.empty());
    EXPECT_EQ(parse_fields(bytes("A: 1\nB: 2\r\n\r\nrest"), 0, list), HeadResult(Done{13}));
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ(parse_fields(bytes("A: 1\r\n"), 0, list), HeadResult(Incomplete{}));
    EXPECT_EQ(parse_fields(bytes("A: 1\r\n\r\n"), 6, list), HeadResult(Done{8}));
    EXPECT_EQ(parse_fields(bytes("\r"), 0, list), HeadResult(Incomplete{}));
    EXPECT_EQ(parse_fields(bytes("\r\n"), 1, list), HeadResult(Done{2}));
}

// ---- Resumed parsing -----------------------------------------------------------------------

template <class Head>
void expect_same_head(const Head& a, const Head& b) {
    ASSERT_EQ(a.headers.size(), b.headers.size());
    for (std::size_t i = 0; i < a.headers.size(); ++i) {
        EXPECT_EQ(a.headers[i].name.data(), b.headers[i].name.data());
        EXPECT_EQ(a.headers[i].name.size(), b.headers[i].name.size());
        EXPECT_EQ(a.headers[i].value.data(), b.headers[i].value.data());
        EXPECT_EQ(a.headers[i].value.size(), b.headers[i].value.size());
    }
    EXPECT_EQ(a.version_text.data(), b.version_text.data());
    EXPECT_EQ(a.version, b.version);
}

// A first call on the first k bytes, then a resumed call on all of them with already_scanned = k,
// for every k: the result and the views are those of a single call.
TEST(H1Resume, RequestSplitAtEveryOffsetGivesTheOneShotResult) {
    const std::string samples[] = {std::string(kBrowserRequest),
                                   "\r\n\r\nPOST /x HTTP/1.1\nContent-Length: 3\n\nabc",
                                   "GET / HTTP/1.1\r\nA: b\n\r\n", "GET / HTTP/1.1\r\n\r\n"};
    for (const std::string& text : samples) {
        RequestHead one;
        const HeadResult expected = parse_req(text, one);
        ASSERT_TRUE(std::holds_alternative<Done>(expected)) << text;
        const std::size_t head = std::get<Done>(expected).consumed;
        for (std::size_t k = 0; k < head; ++k) {
            RequestHead h;
            EXPECT_EQ(parse_request_head(bytes(text).first(k), 0, h), HeadResult(Incomplete{}));
            ASSERT_EQ(parse_request_head(bytes(text), k, h), expected) << "split at " << k;
            EXPECT_EQ(h.method.data(), one.method.data());
            EXPECT_EQ(h.target, one.target);
            expect_same_head(h, one);
        }
    }
}

TEST(H1Resume, ResponseArrivingByteByByteGivesTheOneShotResult) {
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: y\r\n\r\n";
    ResponseHead one;
    const HeadResult expected = parse_res(text, one);
    ResponseHead h;
    HeadResult r = Incomplete{};
    std::size_t n = 0;
    while (std::holds_alternative<Incomplete>(r) && n < text.size()) {
        r = parse_response_head(bytes(text).first(n + 1), n, h);
        ++n;
    }
    EXPECT_EQ(n, text.size());
    EXPECT_EQ(r, expected);
    EXPECT_EQ(h.status, 200);
    expect_same_head(h, one);
}

TEST(H1Resume, FindsAnEndSplitAcrossCalls) {
    const std::string text = "GET / HTTP/1.1\r\nA: b\r\n\r\n";
    for (std::size_t cut = text.size() - 4; cut < text.size(); ++cut) {
        RequestHead h;
        EXPECT_EQ(parse_request_head(bytes(text).first(cut), 0, h), HeadResult(Incomplete{}));
        EXPECT_EQ(parse_request_head(bytes(text), cut, h), HeadResult(Done{text.size()}));
    }
    const std::string lf = "GET / HTTP/1.1\nA: b\n\n";
    RequestHead h;
    EXPECT_EQ(parse_request_head(bytes(lf), lf.size() - 1, h), HeadResult(Done{lf.size()}));
}

// The documented price of resuming: new bytes are checked once the end of the head is there.
TEST(H1Resume, ValidatesNewBytesOnceTheHeadIsComplete) {
    const std::string partial = "GET / HTTP/1.1\r\nHo";
    const std::string more = partial + "\x01st: a\r\n";
    const std::string full = more + "\r\n";
    RequestHead h;
    EXPECT_EQ(parse_request_head(bytes(partial), 0, h), HeadResult(Incomplete{}));
    EXPECT_EQ(parse_request_head(bytes(more), partial.size(), h), HeadResult(Incomplete{}));
    EXPECT_EQ(parse_request_head(bytes(full), more.size(), h),
              HeadResult(Invalid{R::BadHeaderName, 18}));
}

// ---- Body framing --------------------------------------------------------------------------

struct FramingWant {
    BodyKind kind;
    std::uint64_t length = 0;
    FramingError error = FramingError::None;
    bool drop_cl = false;
    bool must_close = false;  // Invalid implies it
};

void expect_framing(const Framing& f, const FramingWant& want) {
    EXPECT_EQ(static_cast<int>(f.kind), static_cast<int>(want.kind));
    EXPECT_EQ(f.content_length, want.length);
    EXPECT_EQ(to_string(f.error), to_string(want.error));
    EXPECT_EQ(f.drop_content_length, want.drop_cl);
    EXPECT_EQ(f.must_close, want.must_close || want.kind == BodyKind::Invalid);
}

using K = BodyKind;
using E = FramingError;
constexpr FramingWant kChunkedClose{K::Chunked, 0, E::None, false, true};
constexpr FramingWant kChunkedDropClose{K::Chunked, 0, E::None, true, true};
constexpr FramingWant kUntilClose{K::UntilClose, 0, E::None, false, true};
constexpr FramingWant invalid(E e) {
    return {K::Invalid, 0, e};
}

struct RequestFramingCase {
    const char* name;
    std::string_view fields;  // after "POST / HTTP/1.1" unless `start` says otherwise
    FramingWant want;
    std::string_view start = "POST / HTTP/1.1";
};
void PrintTo(const RequestFramingCase& c, std::ostream* os) {
    *os << c.name;
}

const RequestFramingCase kRequestFraming[] = {
    {"RequestWithoutFramingHasNoBody", "", {K::None}},
    {"ContentLength", "Content-Length: 5\r\n", {K::ContentLength, 5}},
    {"ContentLengthZero", "Content-Length: 0\r\n", {K::ContentLength}},
    {"ContentLengthOnGetIsHonoured",
     "Content-Length: 5\r\n",
     {K::ContentLength, 5},
     "GET / HTTP/1.1"},
    {"ContentLengthMaximum",
     "Content-Length: 9223372036854775807\r\n",
     {K::ContentLength, 9223372036854775807u}},
    // HAProxy 2.6: identical values merge, "5" and "005" included; anything else is a 400.
    {"RepeatedEqualContentLengths",
     "Content-Length: 5\r\ncontent-length: 005\r\n",
     {K::ContentLength, 5}},
    {"ContentLengthListOfEqualValues", "Content-Length: 5 , 5\r\n", {K::ContentLength, 5}},
    {"DifferingContentLengths", "Content-Length: 5\r\nContent-Length: 6\r\n",
     invalid(E::ContentLengthMismatch)},
    {"DifferingContentLengthList", "Content-Length: 5,6\r\n", invalid(E::ContentLengthMismatch)},
    {"ContentLengthWithPlus", "Content-Length: +5\r\n", invalid(E::BadContentLength)},
    {"ContentLengthInHex", "Content-Length: 0x5\r\n", invalid(E::BadContentLength)},
    {"NegativeContentLength", "Content-Length: -1\r\n", invalid(E::BadContentLength)},
    {"EmptyContentLength", "Content-Length:\r\n", invalid(E::BadContentLength)},
    {"ContentLengthWithEmptyElement", "Content-Length: 5,\r\n", invalid(E::BadContentLength)},
    {"ContentLengthWithTwoNumbers", "Content-Length: 5 5\r\n", invalid(E::BadContentLength)},
    // HAProxy 2.6 refuses 2^63 but forwards 2^64 (wrapped to 0 for itself); we refuse both.
    {"ContentLengthAboveSigned64", "Content-Length: 9223372036854775808\r\n",
     invalid(E::BadContentLength)},
    {"ContentLengthOverflow", "Content-Length: 18446744073709551616\r\n",
     invalid(E::BadContentLength)},
    {"Chunked", "Transfer-Encoding: chunked\r\n", {K::Chunked}},
    {"ChunkedAnyCase", "Transfer-Encoding: ChUnKeD\r\n", {K::Chunked}},
    // HAProxy 2.6 drops the Content-Length, forwards chunked; RFC 9112 6.1 wants a close after.
    {"ContentLengthThenChunked", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
     kChunkedDropClose},
    {"ChunkedThenContentLength", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
     kChunkedDropClose},
    {"BadContentLengthNextToChunked", "Transfer-Encoding: chunked\r\nContent-Length: abc\r\n",
     invalid(E::BadContentLength)},
    {"ChunkedInHttp10ForcesClose", "Transfer-Encoding: chunked\r\n", kChunkedClose,
     "POST / HTTP/1.0"},
    // Request codings, all refused by HAProxy 2.6 (400, or 422 when chunked comes last).
    {"IdentityCoding", "Transfer-Encoding: identity\r\n", invalid(E::BadTransferEncoding)},
    {"ChunkedThenIdentity", "Transfer-Encoding: chunked, identity\r\n",
     invalid(E::BadTransferEncoding)},
    {"GzipAloneInRequest", "Transfer-Encoding: gzip\r\n", invalid(E::ChunkedNotFinal)},
    {"ChunkedThenGzipInRequest", "Transfer-Encoding: chunked, gzip\r\n",
     invalid(E::ChunkedNotFinal)},
    {"GzipThenChunkedInRequest", "Transfer-Encoding: gzip, chunked\r\n",
     invalid(E::UnsupportedTransferCoding)},
    {"ChunkedTwiceInOneField", "Transfer-Encoding: chunked, chunked\r\n", invalid(E::ChunkedTwice)},
    {"ChunkedTwiceInTwoFields", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
     invalid(E::ChunkedTwice)},
    {"EmptyTransferEncoding", "Transfer-Encoding:\r\n", invalid(E::BadTransferEncoding)},
    {"ChunkedWithParameter", "Transfer-Encoding: chunked;q=1\r\n", invalid(E::BadTransferEncoding)},
};

class H1RequestFraming : public testing::TestWithParam<RequestFramingCase> {};

TEST_P(H1RequestFraming, Analysis) {
    const RequestFramingCase& c = GetParam();
    const std::string text = std::string(c.start) + "\r\n" + std::string(c.fields) + "\r\n";
    RequestHead h;
    ASSERT_TRUE(std::holds_alternative<Done>(parse_req(text, h)));
    expect_framing(analyze_request_framing(h), c.want);
}

std::string request_framing_name(const testing::TestParamInfo<RequestFramingCase>& info) {
    return info.param.name;
}
INSTANTIATE_TEST_SUITE_P(, H1RequestFraming, testing::ValuesIn(kRequestFraming),
                         request_framing_name);

struct ResponseFramingCase {
    const char* name;
    std::string_view status;  // the start of the status line
    std::string_view fields;
    std::string_view method;  // of the request answered
    FramingWant want;
};
void PrintTo(const ResponseFramingCase& c, std::ostream* os) {
    *os << c.name;
}

const ResponseFramingCase kResponseFraming[] = {
    {"ContentLength", "HTTP/1.1 200", "Content-Length: 5\r\n", "GET", {K::ContentLength, 5}},
    {"WithoutLengthRunsUntilClose", "HTTP/1.1 200", "", "GET", kUntilClose},
    {"Chunked", "HTTP/1.1 200", "Transfer-Encoding: chunked\r\n", "GET", {K::Chunked}},
    // HAProxy 2.6 answers 502 to these three; RFC 9112 6.3 item 4 frames them as here.
    {"NotChunkedRunsUntilClose", "HTTP/1.1 200", "Transfer-Encoding: gzip\r\n", "GET", kUntilClose},
    {"ChunkedThenGzipRunsUntilClose", "HTTP/1.1 200", "Transfer-Encoding: chunked, gzip\r\n", "GET",
     kUntilClose},
    {"GzipThenChunkedIsChunked",
     "HTTP/1.1 200",
     "Transfer-Encoding: gzip, chunked\r\n",
     "GET",
     {K::Chunked}},
    {"IdentityCoding", "HTTP/1.1 200", "Transfer-Encoding: identity\r\n", "GET",
     invalid(E::BadTransferEncoding)},
    {"ChunkedTwice", "HTTP/1.1 200", "Transfer-Encoding: chunked, chunked\r\n", "GET",
     invalid(E::ChunkedTwice)},
    {"ContentLengthAndChunked", "HTTP/1.1 200",
     "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "GET", kChunkedDropClose},
    {"DifferingContentLengths", "HTTP/1.1 200", "Content-Length: 1\r\nContent-Length: 2\r\n", "GET",
     invalid(E::ContentLengthMismatch)},
    {"ChunkedInHttp10ForcesClose", "HTTP/1.0 200", "Transfer-Encoding: chunked\r\n", "GET",
     kChunkedClose},
    {"HeadResponseHasNoBody", "HTTP/1.1 200", "Content-Length: 5\r\n", "HEAD", {K::None}},
    {"HeadResponseWithChunkedHasNoBody",
     "HTTP/1.1 200",
     "Transfer-Encoding: chunked\r\n",
     "HEAD",
     {K::None}},
    // HAProxy 2.6 removes Content-Length from a 204 and keeps it on a 304.
    {"NoContentHasNoBody",
     "HTTP/1.1 204",
     "Content-Length: 5\r\n",
     "GET",
     {K::None, 0, E::None, true}},
    {"NotModifiedHasNoBody", "HTTP/1.1 304", "Content-Length: 5\r\n", "GET", {K::None}},
    // HAProxy 2.6: a 204 with "Content-Length: x" is still a 502.
    {"NoContentWithBadContentLength", "HTTP/1.1 204", "Content-Length: x\r\n", "GET",
     invalid(E::BadContentLength)},
    {"ContinueHasNoBody", "HTTP/1.1 100", "", "POST", {K::None}},
    {"EarlyHintsHasNoBody", "HTTP/1.1 103", "Link: </a>\r\n", "GET", {K::None}},
    {"SwitchingProtocolsIsATunnel", "HTTP/1.1 101", "Upgrade: websocket\r\n", "GET", {K::Tunnel}},
    {"ConnectSuccessIsATunnel", "HTTP/1.1 200", "Content-Length: 5\r\n", "CONNECT", {K::Tunnel}},
    {"ConnectRefusalHasABody",
     "HTTP/1.1 407",
     "Content-Length: 5\r\n",
     "CONNECT",
     {K::ContentLength, 5}},
};

class H1ResponseFraming : public testing::TestWithParam<ResponseFramingCase> {};

TEST_P(H1ResponseFraming, Analysis) {
    const ResponseFramingCase& c = GetParam();
    const std::string text = std::string(c.status) + " X\r\n" + std::string(c.fields) + "\r\n";
    ResponseHead h;
    ASSERT_TRUE(std::holds_alternative<Done>(parse_res(text, h)));
    expect_framing(analyze_response_framing(h, c.method), c.want);
}

std::string response_framing_name(const testing::TestParamInfo<ResponseFramingCase>& info) {
    return info.param.name;
}
INSTANTIATE_TEST_SUITE_P(, H1ResponseFraming, testing::ValuesIn(kResponseFraming),
                         response_framing_name);

Framing request_framing(const std::string& text, bool loose = false) {
    RequestHead h;
    const HeadResult r = parse_req(text, h, loose);
    EXPECT_TRUE(std::holds_alternative<Done>(r)) << testing::PrintToString(r);
    return analyze_request_framing(h);
}

TEST(H1FramingFlags, ConnectionUpgradeAndExpect) {
    Framing f = request_framing(
        "GET / HTTP/1.1\r\nConnection: Keep-Alive, Upgrade\r\nUpgrade: websocket\r\n"
        "Expect: 100-Continue\r\n\r\n");
    EXPECT_TRUE(f.conn_keep_alive);
    EXPECT_TRUE(f.conn_upgrade);
    EXPECT_FALSE(f.conn_close);
    EXPECT_TRUE(f.has_upgrade);
    EXPECT_TRUE(f.expect_continue);
    f = request_framing("GET / HTTP/1.1\r\nConnection: x, ,CLOSE\r\nExpect: 200-ok\r\n\r\n");
    EXPECT_TRUE(f.conn_close);
    EXPECT_FALSE(f.conn_keep_alive);
    EXPECT_FALSE(f.expect_continue);
    EXPECT_FALSE(f.has_upgrade);
    // RFC 9110 10.1.1: ignored from an HTTP/1.0 client.
    EXPECT_FALSE(request_framing("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);
}

TEST(H1FramingFlags, KeepAliveFollowsVersionAndConnection) {
    EXPECT_TRUE(keeps_alive(Version::Http11, request_framing("GET / HTTP/1.1\r\n\r\n")));
    EXPECT_FALSE(keeps_alive(Version::Http11,
                             request_framing("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")));
    EXPECT_FALSE(keeps_alive(Version::Http10, request_framing("GET / HTTP/1.0\r\n\r\n")));
    EXPECT_TRUE(keeps_alive(Version::Http10,
                            request_framing("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")));
    EXPECT_FALSE(keeps_alive(
        Version::Http11,
        request_framing(
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")));
}

// ---- Request smuggling vectors -------------------------------------------------------------
// Each is refused, or framed one way only, with the head as a server would receive it.

void expect_refused(std::string_view text, R reason, bool loose = false) {
    RequestHead h;
    const HeadResult r = parse_req(text, h, loose);
    const auto* bad = std::get_if<Invalid>(&r);
    ASSERT_NE(bad, nullptr) << testing::PrintToString(r);
    EXPECT_EQ(to_string(bad->reason), to_string(reason));
}

void expect_framing_error(const std::string& text, E error, bool loose = false) {
    const Framing f = request_framing(text, loose);
    EXPECT_EQ(f.kind, K::Invalid);
    EXPECT_EQ(to_string(f.error), to_string(error));
}

const std::string kPost = "POST / HTTP/1.1\r\nHost: a\r\n";

// CL.TE and TE.CL: whichever comes first, the body is chunked, the length goes, the connection
// closes after the response.
TEST(H1Smuggling, ClTeAndTeClUseChunkedDropTheLengthAndClose) {
    for (const char* fields : {"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n",
                               "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"})
        expect_framing(request_framing(kPost + fields), kChunkedDropClose);
}

TEST(H1Smuggling, TeTeObfuscationsAreRefused) {
    const std::string cl = "Content-Length: 4\r\n";
    expect_framing_error(kPost + cl + "Transfer-Encoding: xchunked\r\n\r\n", E::ChunkedNotFinal);
    expect_framing_error(kPost + cl + "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n",
                         E::ChunkedNotFinal);
    expect_framing_error(kPost + cl + "Transfer-Encoding: \"chunked\"\r\n\r\n",
                         E::BadTransferEncoding);
    // HAProxy 2.6 takes "chunked," and refuses ", chunked"; we refuse both.
    expect_framing_error(kPost + cl + "Transfer-Encoding: chunked,\r\n\r\n",
                         E::BadTransferEncoding);
    expect_framing_error(kPost + cl + "Transfer-Encoding: , chunked\r\n\r\n",
                         E::BadTransferEncoding);
    expect_framing_error(kPost + "Transfer-Encoding: chunked, identity\r\n\r\n",
                         E::BadTransferEncoding);
    expect_refused(kPost + "Transfer-Encoding : chunked\r\n\r\n", R::SpaceBeforeColon);
    expect_refused(kPost + "Transfer-Encoding : chunked\r\n\r\n", R::SpaceBeforeColon, true);
    expect_refused(kPost + "Transfer-Encoding:\r\n chunked\r\n\r\n", R::ObsFold);
    expect_refused(kPost +
                       "Transfer-Encoding: \x0b"
                       "chunked\r\n\r\n",
                   R::BadHeaderValue);
    expect_framing_error(kPost +
                             "Transfer-Encoding: \x0b"
                             "chunked\r\n\r\n",
                         E::BadTransferEncoding, true);
    expect_refused(kPost + "Transfer-Encoding: chunked\rX: y\r\n\r\n", R::BareCr);
}

TEST(H1Smuggling, TabAroundChunkedIsStillChunked) {
    EXPECT_EQ(request_framing(kPost + "Transfer-Encoding:\t chunked\t\r\n\r\n").kind, K::Chunked);
}

// HAProxy 2.6 too takes a bare LF as a line end, so this is a Transfer-Encoding field;
// h1_emit writes CRLF, so the server cannot read it as part of X's value.
TEST(H1Smuggling, FieldAfterBareLfIsAField) {
    EXPECT_EQ(request_framing(kPost + "X: a\nTransfer-Encoding: chunked\r\n\r\n").kind, K::Chunked);
}

// "+5", "0x5" and differing fields are in H1RequestFraming.
TEST(H1Smuggling, ContentLengthTricksAreRefused) {
    expect_framing_error(kPost + "Content-Length: 5, 50\r\n\r\n", E::ContentLengthMismatch);
    expect_refused(kPost + "Content-Length : 5\r\n\r\n", R::SpaceBeforeColon);
}

TEST(H1Smuggling, NulBytesAreRefused) {
    using namespace std::string_literals;
    expect_refused(kPost + "X: a\0b\r\n\r\n"s, R::BadHeaderValue);
    expect_refused(kPost + "X: a\0b\r\n\r\n"s, R::BadHeaderValue, true);
    expect_refused(kPost + "Content-Length\0x: 5\r\n\r\n"s, R::BadHeaderName, true);
}

}  // namespace
}  // namespace sluice::http
