// http-request normalize-uri: the normalizers as pure functions (rules/normalize.hpp), the
// action run on a parsed head, and its config diagnostics.
//
// Every expected target here was checked with Debian's haproxy 2.6.12: the same target sent
// through a frontend with the one rule, the request line read at the backend (targets with '#'
// need `option accept-invalid-http-request` there).
#include "sluice/rules/normalize.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../cfg/reader_test_support.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/sample.hpp"

namespace sluice::rules::normalize {
namespace {

using N = Normalizer;
using cfg::reader_test::Lines;

constexpr std::string_view kInvalid = "<400>";
constexpr std::string_view kSame = "<unchanged>";

// normalize_target() as text: the new target, kSame, or kInvalid.
std::string run(Spec spec, std::string_view target) {
    std::string out = "stale";
    Params params;
    switch (normalize_target(spec, target, out, params)) {
        case Result::Unchanged:
            return std::string(kSame);
        case Result::Invalid:
            return std::string(kInvalid);
        case Result::Rewritten:
            EXPECT_NE(out, target) << "Rewritten must change the target";
            return out;
    }
    return "?";
}

struct Case {
    std::string_view in, want;  // want: the new target, kSame or kInvalid
};

void expect_all(Spec spec, std::initializer_list<Case> cases) {
    for (const Case& c : cases)
        EXPECT_EQ(run(spec, c.in), c.want) << "target " << c.in;
}

// ---- path normalizers ------------------------------------------------------------------------

TEST(NormalizeUri, PathMergeSlashes) {
    expect_all({.kind = N::PathMergeSlashes}, {{"/", kSame},
                                               {"//", "/"},
                                               {"/foo//bar", "/foo/bar"},
                                               {"///a///b//", "/a/b/"},
                                               {"/foo//../", "/foo/../"},
                                               // The query is not the path.
                                               {"/a//b?x//y&b=1&a=2", "/a/b?x//y&b=1&a=2"},
                                               {"/a//?b//", "/a/?b//"},
                                               // Up to '?' only: a '#' is part of the path.
                                               {"/a//b#c//d", "/a/b#c/d"},
                                               {"/a/./b", kSame}});
}

TEST(NormalizeUri, PathStripDot) {
    expect_all({.kind = N::PathStripDot}, {{"/", kSame},
                                           {"//", kSame},
                                           {"/.", "/"},
                                           {"/./", "/"},
                                           {"/./bar/", "/bar/"},
                                           {"/a/./a", "/a/a"},
                                           {"/a/.", "/a/"},
                                           {"/a/./", "/a/"},
                                           {"/a/./.", "/a/"},
                                           {"/.well-known/", kSame},
                                           {"/a/.../b", kSame},
                                           {"/./../a", "/../a"},
                                           {"/..", kSame},
                                           {"/x/.?y", "/x/?y"},
                                           {"/a/./b?x/./y", "/a/b?x/./y"},
                                           {"/a/./b#/./c", "/a/b#/c"},
                                           {"/foo/%2E/", kSame}});
}

TEST(NormalizeUri, PathStripDotdot) {
    expect_all({.kind = N::PathStripDotdot},
               {{"/", kSame},
                {"//", kSame},
                {"/foo/../", "/"},
                {"/foo/../bar/", "/bar/"},
                {"/foo/bar/../", "/foo/"},
                {"/foo/..", "/"},
                {"/a/b/..", "/a/"},
                // A ".." with nothing before it stays, and one at the end leaves a slash.
                {"/../bar/", kSame},
                {"/..", "/../"},
                {"/../..", "/../../"},
                {"/bar/../../", "/../"},
                {"/a/b/../../..", "/../"},
                {"/a/b/../../../c", "/../c"},
                {"/a/../../b/../c", "/../c"},
                // Empty and "." segments are segments like any other.
                {"/foo//../", "/foo/"},
                {"/./../a", "/a"},
                {"/a/./../b", "/a/b"},
                {"/foo/%2E%2E/", kSame},
                {"/a/..b/c", kSame},
                {"/..a/", kSame},
                {"/x/..?y", "/?y"},
                {"/a/../b?x/../y", "/b?x/../y"},
                {"/a/../b#/../c", "/c"}});
}

TEST(NormalizeUri, PathStripDotdotFull) {
    expect_all({.kind = N::PathStripDotdot, .option = true}, {{"/..", "/"},
                                                              {"/../", "/"},
                                                              {"/../..", "/"},
                                                              {"/../bar/", "/bar/"},
                                                              {"/../../a", "/a"},
                                                              {"/bar/../../", "/"},
                                                              {"/a/b/../../..", "/"},
                                                              {"/a/b/../../../c", "/c"},
                                                              {"/a/b/..", "/a/"},
                                                              {"/foo//../", "/foo/"}});
}

// ---- percent normalizers ---------------------------------------------------------------------

TEST(NormalizeUri, PercentDecodeUnreserved) {
    expect_all({.kind = N::PercentDecodeUnreserved},
               {{"/", kSame},
                {"/%61dmin", "/admin"},
                {"/%7e%7E%2d%2E%5f%30%41%5A%61%7a", "/~~-._0AZaz"},
                // Reserved characters stay encoded, in the case they came in.
                {"/foo%3Fbar=baz", kSame},
                {"/%2f", kSame},
                {"/%2F", kSame},
                // Without strict, a bad '%' is copied and what follows is read as usual.
                {"/%%36%36", "/%66"},
                {"/%%6f", "/%o"},
                {"/%6%6f", "/%6o"},
                {"/%G1%6a", "/%G1j"},
                {"/%ZZ", kSame},
                {"/%", kSame},
                {"/%4", kSame},
                {"/a%", kSame},
                // The query and a fragment are decoded too.
                {"/?q=%61%zz", "/?q=a%zz"},
                {"/a%2e#%61?x=%6a", "/a.#a?x=j"}});
}

TEST(NormalizeUri, PercentDecodeUnreservedStrict) {
    expect_all({.kind = N::PercentDecodeUnreserved, .option = true}, {{"/%61dmin", "/admin"},
                                                                      {"/%2f", kSame},
                                                                      {"/%%36%36", kInvalid},
                                                                      {"/%ZZ", kInvalid},
                                                                      {"/%zz", kInvalid},
                                                                      {"/%", kInvalid},
                                                                      {"/%4", kInvalid},
                                                                      {"/%a", kInvalid},
                                                                      {"/a%", kInvalid},
                                                                      {"/a?%zz", kInvalid},
                                                                      {"/?a=1#%zz", kInvalid}});
}

TEST(NormalizeUri, PercentToUppercase) {
    expect_all({.kind = N::PercentToUppercase},
               {{"/", kSame},
                {"/%6f", "/%6F"},
                {"/%2f", "/%2F"},
                {"/%2F", kSame},
                {"/%7e%7E%2d%2E%5f%30%41%5A%61%7a", "/%7E%7E%2D%2E%5F%30%41%5A%61%7A"},
                {"/%zz", kSame},
                {"/%%6f", "/%%6F"},
                {"/%6%6f", "/%6%6F"},
                {"/%", kSame},
                {"/a%2e#%61?x=%6a", "/a%2E#%61?x=%6A"}});
}

TEST(NormalizeUri, PercentToUppercaseStrict) {
    expect_all({.kind = N::PercentToUppercase, .option = true}, {{"/%6f", "/%6F"},
                                                                 {"/%zz", kInvalid},
                                                                 {"/%%6f", kInvalid},
                                                                 {"/%", kInvalid},
                                                                 {"/%4", kInvalid},
                                                                 {"/?q=%61%zz", kInvalid},
                                                                 {"/#%zz", kInvalid}});
}

// ---- query and fragment ----------------------------------------------------------------------

TEST(NormalizeUri, QuerySortByName) {
    expect_all({.kind = N::QuerySortByName},
               {{"/", kSame},
                {"/?a=1", kSame},
                {"/?c=3&a=1&b=2", "/?a=1&b=2&c=3"},
                // Shorter names first; equal names keep their order, valued or not.
                {"/?aaa=3&a=1&aa=2", "/?a=1&aa=2&aaa=3"},
                {"/?a=3&b=4&a=1&b=5&a=2", "/?a=3&a=1&a=2&b=4&b=5"},
                {"/?b=1&a=2&b=0&a", "/?a=2&a&b=1&b=0"},
                {"/?a=2&a", kSame},
                {"/?a&a=1&a=0", kSame},
                {"/?ab&a=&a", "/?a=&a&ab"},
                // Bytes in ASCII order, the name ending at the first '='.
                {"/?B=1&a=2&_=3&1=4&~=5", "/?1=4&B=1&_=3&a=2&~=5"},
                {"/?a=1&A=2", "/?A=2&a=1"},
                {"/?a%3D=1&a=2", "/?a=2&a%3D=1"},
                {"/?=1&a&=0", "/?=1&=0&a"},
                // Empty parameters are kept, but not one after a final '&'.
                {"/?", kSame},
                {"/?&", "/?"},
                {"/?b&a", "/?a&b"},
                {"/?b=1&&a=2", "/?&a=2&b=1"},
                {"/?&b=1&a=2&", "/?&a=2&b=1"},
                // Only the first '?' starts the query; a fragment is sorted with it.
                {"/a//b?x//y&b=1&a=2", "/a//b?a=2&b=1&x//y"},
                {"/a?b=1&a=2#x&c", "/a?a=2#x&b=1&c"},
                {"/a#b?c=1", kSame}});
}

TEST(NormalizeUri, FragmentStripAndEncode) {
    expect_all({.kind = N::FragmentStrip}, {{"/", kSame},
                                            {"/#foo", "/"},
                                            {"/#", "/"},
                                            {"/a?c=1#frag", "/a?c=1"},
                                            // The first '#' ends the target, even before a '?'.
                                            {"/a#b?c=1", "/a"},
                                            {"/a#b#c", "/a"},
                                            {"/?#", "/?"}});
    expect_all({.kind = N::FragmentEncode}, {{"/", kSame},
                                             {"/#foo", "/%23foo"},
                                             {"/#", "/%23"},
                                             {"/a#b#c", "/a%23b%23c"},
                                             {"/a#b?c=1", "/a%23b?c=1"},
                                             {"/a?c=1#frag", "/a?c=1%23frag"}});
}

// ---- target forms ----------------------------------------------------------------------------

TEST(NormalizeUri, OnlyThePathOfAnAbsoluteTargetChanges) {
    EXPECT_EQ(run({.kind = N::PathStripDotdot}, "http://host/a/../b"), "http://host/b");
    EXPECT_EQ(run({.kind = N::PathMergeSlashes}, "http://host/./a//b?x=1"),
              "http://host/./a/b?x=1");
    EXPECT_EQ(run({.kind = N::PathStripDot}, "http://host/./a//b?x=1"), "http://host/a//b?x=1");
    EXPECT_EQ(run({.kind = N::FragmentEncode}, "http://host/a#b"), "http://host/a%23b");
    EXPECT_EQ(run({.kind = N::QuerySortByName}, "https://h:8443/p?b&a"), "https://h:8443/p?a&b");
    // "//" in the authority part is not the path's.
    EXPECT_EQ(run({.kind = N::PathMergeSlashes}, "http://host//x"), "http://host/x");
    EXPECT_EQ(run({.kind = N::PercentToUppercase}, "http://%61host/%6f"), "http://%61host/%6F");
}

TEST(NormalizeUri, TargetsWithoutAPathAreLeftAlone) {
    for (const N kind : {N::FragmentEncode, N::FragmentStrip, N::PathMergeSlashes, N::PathStripDot,
                         N::PathStripDotdot, N::PercentDecodeUnreserved, N::PercentToUppercase,
                         N::QuerySortByName}) {
        for (const bool option : {false, true}) {
            for (const std::string_view t : {"*", "host:80", "http://host", "http://h%zz"}) {
                EXPECT_EQ(run({.kind = kind, .option = option}, t), kSame)
                    << "normalizer " << static_cast<int>(kind) << " on " << t;
            }
        }
    }
}

// ---- the steps on their own ------------------------------------------------------------------

TEST(NormalizeUri, StepsOnEmptyAndHeadlessInput) {
    std::string out;
    Params params;
    merge_slashes("", out);
    strip_dot("", out);
    strip_dotdot("", true, out);
    strip_dotdot("", false, out);
    fragment_encode("", out);
    EXPECT_TRUE(percent_decode_unreserved("", true, out));
    EXPECT_TRUE(percent_to_uppercase("", true, out));
    query_sort_by_name("", params, out);
    EXPECT_EQ(out, "");
    EXPECT_EQ(fragment_strip(""), "");
    // Text before the first '/' is not a segment and stays.
    strip_dotdot("..", false, out);
    EXPECT_EQ(out, "..");
    out.clear();
    strip_dotdot("x/../y", true, out);
    EXPECT_EQ(out, "x/y");
    out.clear();
    strip_dot("./a/.", out);
    EXPECT_EQ(out, "./a/");
}

TEST(NormalizeUri, StepsAppendToWhatIsThere) {
    std::string out = "http://h";
    strip_dotdot("/a/b/../c", false, out);
    EXPECT_EQ(out, "http://h/a/c");
    out = "x";
    Params params{"stale"};
    query_sort_by_name("b&a", params, out);
    EXPECT_EQ(out, "xa&b");
    EXPECT_EQ(params.size(), 2u);
}

TEST(NormalizeUri, ManyEqualNamesKeepTheirOrder) {
    // Enough parameters for std::sort to leave insertion sort: ties rest on position alone.
    std::string query, want_a, want_b;
    for (int i = 0; i < 200; ++i) {
        const std::string a = "a=" + std::to_string(i), b = "b=" + std::to_string(i);
        query += (i ? "&" : "") + b + "&" + a;
        want_a += (i ? "&" : "") + a;
        want_b += "&" + b;
    }
    std::string out;
    Params params;
    query_sort_by_name(query, params, out);
    EXPECT_EQ(out, want_a + want_b);
}

// ---- the action ------------------------------------------------------------------------------

struct Ran {
    std::string target;
    const char* target_data = nullptr;  // where the head's view pointed after the rules
    Verdict verdict = Verdict::Continue;
    std::uint16_t status = 0;
    bool close = false;
};

// The frontend's http-request rules of `rules` (lines of a frontend) run on a GET of `target`.
Ran run_action(std::string_view rules, std::string_view target) {
    const std::string text =
        "global\n  expose-experimental-directives\nfrontend fe\n  mode http\n" + std::string(rules);
    cfg::reader_test::Parsed p = cfg::reader_test::parse(text);
    EXPECT_EQ(p.messages(), Lines{});
    const HttpRulesConf& conf = p.doc.proxies.at(0).parts.read<HttpRulesConf>();
    http::RequestHead head;
    head.method = "GET";
    head.target = target;
    head.version_text = "HTTP/1.1";
    head.target_form =
        target.starts_with('/') ? http::TargetForm::Origin : http::TargetForm::Absolute;
    sample::Arena arena;
    sample::Context samples(arena);
    http::Txn txn{.req = &head, .res = nullptr, .req_len = 0, .req_body = {}};
    samples.attach(&txn);  // for the conditions' fetches
    Outcome outcome;
    RuleCtx ctx{.samples = samples, .req = &head, .res = nullptr, .outcome = outcome};
    run_rules(conf.request, ctx);
    return {.target = std::string(head.target),
            .target_data = head.target.data(),
            .verdict = outcome.verdict,
            .status = outcome.status,
            .close = outcome.close};
}

TEST(NormalizeUriAction, RulesApplyInOrderOnTheRewrittenTarget) {
    const Ran r = run_action(
        "  http-request normalize-uri percent-decode-unreserved\n"
        "  http-request normalize-uri path-merge-slashes\n"
        "  http-request normalize-uri path-strip-dot\n"
        "  http-request normalize-uri path-strip-dotdot full\n"
        "  http-request normalize-uri query-sort-by-name if { path_beg /b }\n"
        "  http-request normalize-uri percent-to-uppercase strict\n",
        "http://h/a//%2e/%2E%2e/../b?z=%7e&y=%2f");
    EXPECT_EQ(r.target, "http://h/b?y=%2F&z=~");
    EXPECT_EQ(r.verdict, Verdict::Continue);
}

TEST(NormalizeUriAction, StrictRejectsWith400AndCloses) {
    const Ran r = run_action(
        "  http-request normalize-uri percent-decode-unreserved strict\n"
        "  http-request set-path /never\n",
        "/a/%zz");
    EXPECT_EQ(r.verdict, Verdict::Reply);
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(r.close);
    EXPECT_EQ(r.target, "/a/%zz");  // the rule set ended there
}

TEST(NormalizeUriAction, AnUnchangedTargetKeepsItsView) {
    const std::string_view target = "/already/normal";
    const Ran r = run_action("  http-request normalize-uri path-strip-dotdot\n", target);
    EXPECT_EQ(r.target_data, target.data());
    EXPECT_EQ(r.verdict, Verdict::Continue);
}

// ---- config diagnostics ----------------------------------------------------------------------

TEST(NormalizeUriConfig, BadNormalizersAndOptionsAreNamed) {
    const std::string ctx = "frontend 'fe' : 'http-request' : 'http-request normalize-uri': ";
    const auto alert = [&](int line, std::string_view text) {
        return fmt::format("[ALERT]    (PID) : config : parsing [t.cfg:{}] : {}{}", line, ctx,
                           text);
    };
    EXPECT_EQ(
        cfg::reader_test::messages("global\n"                                                // 1
                                   "  expose-experimental-directives\n"                      // 2
                                   "frontend fe\n"                                           // 3
                                   "  http-request normalize-uri bogus\n"                    // 4
                                   "  http-request normalize-uri path-strip-dotdt\n"         // 5
                                   "  http-request normalize-uri path-strip-dotdot fullx\n"  // 6
                                   "  http-request normalize-uri percent-to-uppercase x\n"   // 7
                                   "  http-request normalize-uri fragment-strip full\n"      // 8
                                   "  http-request normalize-uri\n"                          // 9
                                   "  http-request normalize-uri path-strip-dotdot full "
                                   "full\n"                                                 // 10
                                   "  http-request normalize-uri path-strip-dot if TRUE\n"  // 11
                                   "  http-request normalize-uri PATH-STRIP-DOT\n"),        // 12
        (Lines{
            alert(4, "unknown normalizer 'bogus'"),
            alert(5, "unknown normalizer 'path-strip-dotdt', did you mean 'path-strip-dotdot'?"),
            alert(6,
                  "unknown argument 'fullx' for the 'path-strip-dotdot' normalizer (only "
                  "'full' is allowed)"),
            alert(7,
                  "unknown argument 'x' for the 'percent-to-uppercase' normalizer (only "
                  "'strict' is allowed)"),
            alert(8, "unexpected 'full': the 'fragment-strip' normalizer takes no argument"),
            alert(9,
                  "missing argument <normalizer>, expects one of 'fragment-encode', "
                  "'fragment-strip', 'path-merge-slashes', 'path-strip-dot', "
                  "'path-strip-dotdot', 'percent-decode-unreserved', 'percent-to-uppercase', "
                  "'query-sort-by-name'"),
            alert(10, "unexpected 'full'"),
            alert(12, "unknown normalizer 'PATH-STRIP-DOT', did you mean 'path-strip-dot'?"),
        }));
}

TEST(NormalizeUriConfig, ExperimentalUnlessExposedFirstAndRequestOnly) {
    EXPECT_EQ(cfg::reader_test::messages("frontend fe\n"
                                         "  http-request normalize-uri path-strip-dot\n"
                                         "  http-response normalize-uri path-strip-dot\n"
                                         "global\n"
                                         "  expose-experimental-directives\n"
                                         "frontend fe2\n"
                                         "  http-request normalize-uri path-strip-dot\n"
                                         "  http-after-response normalize-uri path-strip-dot\n"),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:2] : frontend 'fe' : "
                     "'http-request' : 'http-request normalize-uri' is experimental (as in "
                     "HAProxy 2.6): allow it with 'expose-experimental-directives' in the global "
                     "section, before this line",
                     "[ALERT]    (PID) : config : parsing [t.cfg:3] : frontend 'fe' : "
                     "'http-response' : 'normalize-uri' is not a valid http-response action",
                     "[ALERT]    (PID) : config : parsing [t.cfg:8] : frontend 'fe2' : "
                     "'http-after-response' : 'normalize-uri' is not a valid "
                     "http-after-response action"}));
    EXPECT_TRUE(cfg::reader_test::parse("global\n  expose-experimental-directives\n")
                    .global()
                    .expose_experimental);
}

}  // namespace
}  // namespace sluice::rules::normalize
