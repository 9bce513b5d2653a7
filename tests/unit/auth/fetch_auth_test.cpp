// The HTTP authentication fetches (auth/fetch_auth.cpp): how an Authorization header is read,
// and http_auth, http_auth_group (as a value and as an ACL on group names), http_auth_type,
// http_auth_user, http_auth_pass and http_auth_bearer on requests parsed from bytes, with the
// userlists of a config built as proxy::build does. Expected values were checked against
// haproxy 2.6.12 (the same fetches in `http-request return ... lf-string "[%[expr]]"`).
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "../cfg/reader_test_support.hpp"
#include "sluice/auth/credentials.hpp"
#include "sluice/auth/userlist.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/sample/expr.hpp"

namespace sluice::auth {
namespace {

// ---- Reading the Authorization header ------------------------------------------------------

std::string shown(const Credentials& c) {
    switch (c.scheme) {
        case Scheme::None:
            return "none";
        case Scheme::Basic:
            return fmt::format("basic [{}] [{}]", c.user, c.password);
        case Scheme::Bearer:
            return fmt::format("bearer [{}]", c.token);
    }
    return "?";
}
std::string read(std::string_view value) {
    std::string scratch;
    return shown(parse_authorization(value, scratch));
}

TEST(Authorization, BasicCredentials) {
    EXPECT_EQ(read("Basic Ym9iOnMzY3JldA=="), "basic [bob] [s3cret]");
    EXPECT_EQ(read("basic Ym9iOnMzY3JldA=="), "basic [bob] [s3cret]");
    EXPECT_EQ(read("BASIC Ym9iOnMzY3JldA=="), "basic [bob] [s3cret]");
    EXPECT_EQ(read("Basic   Ym9iOnMzY3JldA=="), "basic [bob] [s3cret]");  // spaces skipped
    EXPECT_EQ(read("Basic Y2Fyb2w6"), "basic [carol] []");                // "carol:"
    EXPECT_EQ(read("Basic Og=="), "basic [] []");                         // ":"
    // The user ends at the first ':'.
    EXPECT_EQ(read("Basic Ym9iOnMzY3JldDp4"), "basic [bob] [s3cret:x]");
    EXPECT_EQ(read("Basic ZGFuOng6cHc="), "basic [dan] [x:pw]");
}

TEST(Authorization, TheSchemeIsComparedOnItsOwnLength) {
    // HAProxy 2.6 compares as many bytes as the client sent: a prefix of "Basic", else of
    // "Bearer", in any case.
    EXPECT_EQ(read("B Ym9iOnMzY3JldA=="), "basic [bob] [s3cret]");
    EXPECT_EQ(read("bas Ym9iOnMzY3JldA=="), "basic [bob] [s3cret]");
    EXPECT_EQ(read("Bear tok"), "bearer [tok]");
    EXPECT_EQ(read("B tok"), "none");  // Basic, whose credentials are no base64
    EXPECT_EQ(read("Basicx Ym9iOnMzY3JldA=="), "none");
    EXPECT_EQ(read("Digest username=x"), "none");
    EXPECT_EQ(read("Foo bar"), "none");
}

TEST(Authorization, WhatSpoilsBasicCredentials) {
    EXPECT_EQ(read("Basic"), "none");                           // no space
    EXPECT_EQ(read("Basic\tYm9iOnMzY3JldA=="), "none");         // a tab is no separator
    EXPECT_EQ(read("Basic \tYm9iOnMzY3JldA=="), "none");        // nor skipped
    EXPECT_EQ(read("Basic Ym9iOnMzY3JldA== x"), "none");        // base64 with a blank
    EXPECT_EQ(read("Basic Ym9iOnMzY3JldA"), "none");            // unpadded
    EXPECT_EQ(read("Basic Ym9iOnMzY3JldA===="), "none");        // over-padded
    EXPECT_EQ(read("Basic !!!!"), "none");                      // not the alphabet
    EXPECT_EQ(read("Basic Ym9i"), "none");                      // "bob": no ':'
    EXPECT_EQ(read("Basic Ym8AYjpwdw=="), "none");              // "bo\0b:pw": NUL in the user
    EXPECT_EQ(read("Basic Ym9iOnB3AHh5"), "basic [bob] [pw]");  // "bob:pw\0xy": ends at NUL
}

TEST(Authorization, BearerTokens) {
    EXPECT_EQ(read("Bearer tok"), "bearer [tok]");
    EXPECT_EQ(read("bearer  tok  x"), "bearer [tok  x]");  // leading spaces go, the rest stays
    EXPECT_EQ(read("Bearer"), "none");
    EXPECT_EQ(bearer_token("Bearer abc"), "abc");
    EXPECT_EQ(bearer_token("BEARER  a b"), "a b");
    // Another header's value must say "Bearer" in full.
    EXPECT_EQ(bearer_token("Bear abc"), "");
    EXPECT_EQ(bearer_token("abc"), "");
    EXPECT_EQ(bearer_token("Bearer\tabc"), "");
    EXPECT_EQ(bearer_token("Bearer"), "");
}

// ---- The fetches ---------------------------------------------------------------------------

// `openssl passwd -6 -salt abcdefgh hunter2`
constexpr std::string_view kHunter2Sha512 =
    "$6$abcdefgh$M/eYsB4rVXAm3ZNc88J.UD9rCKAT6FB1rahiwJCHtEndQNORCub5qhjxn50qbqVVthkM.9HpEwtf0t."
    "iV9uH0/";

class FetchAuth : public ::testing::Test {
  protected:
    FetchAuth() {
        // The userlist comes after the frontend, as HAProxy allows.
        parsed =
            cfg::reader_test::parse(fmt::format("defaults\n  mode http\n"
                                                "frontend fe\n"
                                                "  acl authed http_auth(admins)\n"
                                                "  acl is_ops http_auth_group(admins) ops\n"
                                                "  acl is_dev http_auth_group(admins) dev ops\n"
                                                "userlist admins\n"
                                                "  group ops\n"
                                                "  group dev users bob\n"
                                                "  user alice password {} groups ops\n"
                                                "  user bob insecure-password s3cret\n"
                                                "  user carol insecure-password \"\"\n",
                                                kHunter2Sha512));
        (void)build_userlists(parsed.doc.global, parsed.diag);
        cfg::run_late_checks(parsed.doc, parsed.diag);
        EXPECT_EQ(parsed.messages(), cfg::reader_test::Lines{});
        ctx.attach(&txn);
    }

    void request(std::string_view headers) {
        bytes = std::make_unique<std::string>(
            fmt::format("GET / HTTP/1.1\r\nHost: h\r\n{}\r\n", headers));
        head = std::make_unique<http::RequestHead>();
        const auto r = http::parse_request_head(
            std::as_bytes(std::span<const char>(bytes->data(), bytes->size())), 0, *head);
        ASSERT_TRUE(std::holds_alternative<http::Done>(r)) << headers;
        txn.req = head.get();
    }
    void basic(std::string_view base64) {
        request(fmt::format("Authorization: Basic {}\r\n", base64));
    }

    bool acl(std::string_view name) {
        const sample::Acl* a =
            parsed.doc.proxies.at(0).parts.read<sample::AclConf>().table.find(name);
        EXPECT_NE(a, nullptr) << name;
        return a && a->match(ctx);
    }
    // An expression's value as text, "<none>" when there is no sample.
    std::string get(std::string_view text) {
        auto e = sample::parse_expr(text, sample::Use::Req);
        if (!e) return "<error: " + e.error() + ">";
        sample::Sample s;
        if (!e->eval(ctx, s)) return "<none>";
        if (!sample::cast(s, sample::Type::Str, arena)) return "<uncastable>";
        return std::string(s.str);
    }

    cfg::reader_test::Parsed parsed;
    sample::Arena arena;
    sample::Context ctx{arena};
    http::Txn txn;
    std::unique_ptr<std::string> bytes;
    std::unique_ptr<http::RequestHead> head;
};

TEST_F(FetchAuth, HashedAndClearPasswords) {
    basic("YWxpY2U6aHVudGVyMg==");  // alice:hunter2
    EXPECT_TRUE(acl("authed"));
    EXPECT_TRUE(acl("is_ops"));
    EXPECT_TRUE(acl("is_dev"));
    basic("Ym9iOnMzY3JldA==");  // bob:s3cret
    EXPECT_TRUE(acl("authed"));
    EXPECT_FALSE(acl("is_ops"));
    EXPECT_TRUE(acl("is_dev"));  // a member through the group's `users`
    basic("Y2Fyb2w6");           // carol:
    EXPECT_TRUE(acl("authed"));
    EXPECT_FALSE(acl("is_dev"));
}

TEST_F(FetchAuth, WrongOrMissingCredentials) {
    for (std::string_view b64 : {"YWxpY2U6aHVudGVyMw==",  // alice:hunter3
                                 "Ym9iOlMzY3JldA==",      // bob:S3cret
                                 "Qm9iOnMzY3JldA==",      // Bob:s3cret
                                 "ZXZlOng="}) {           // eve:x
        basic(b64);
        EXPECT_FALSE(acl("authed")) << b64;
        EXPECT_FALSE(acl("is_dev")) << b64;
        EXPECT_EQ(get("http_auth_group(admins)"), "<none>") << b64;
    }
    request("");
    EXPECT_FALSE(acl("authed"));
    request("Authorization: Bearer tok\r\n");
    EXPECT_FALSE(acl("authed"));
}

TEST_F(FetchAuth, ValuesOutsideAcls) {
    // Fetches parsed on their own are not bound to a userlist (no late check ran for them):
    // http_auth() has no sample then. The ACLs above are bound.
    basic("YWxpY2U6aHVudGVyMg==");
    EXPECT_EQ(get("http_auth(admins)"), "<none>");
    EXPECT_EQ(get("http_auth_type"), "Basic");
    EXPECT_EQ(get("http_auth_user"), "alice");
    EXPECT_EQ(get("http_auth_pass"), "hunter2");
    EXPECT_EQ(get("http_auth_bearer"), "<none>");

    request("Authorization: bearer  abc.def\r\nX-Tok: Bearer xyz, other\r\n");
    EXPECT_EQ(get("http_auth_type"), "Bearer");
    EXPECT_EQ(get("http_auth_user"), "<none>");
    EXPECT_EQ(get("http_auth_pass"), "<none>");
    EXPECT_EQ(get("http_auth_bearer"), "abc.def");
    EXPECT_EQ(get("http_auth_bearer(x-tok)"), "xyz");  // the first value of the header
    EXPECT_EQ(get("http_auth_bearer(x-none)"), "<none>");

    request("Authorization: Basic Ym9i\r\n");  // no ':'
    EXPECT_EQ(get("http_auth_type"), "<none>");
    EXPECT_EQ(get("http_auth_user"), "<none>");
}

TEST_F(FetchAuth, OnlyTheFirstValueOfTheFirstAuthorizationCounts) {
    request("Authorization: Basic Ym9iOnMzY3JldA==, Basic YWxpY2U6aHVudGVyMg==\r\n");
    EXPECT_EQ(get("http_auth_user"), "bob");
    request(
        "Authorization: Basic Ym9iOnMzY3JldA==\r\nAuthorization: Basic YWxpY2U6aHVudGVyMg==\r\n");
    EXPECT_EQ(get("http_auth_user"), "bob");
    request("Authorization: Foo x\r\nAuthorization: Basic YWxpY2U6aHVudGVyMg==\r\n");
    EXPECT_EQ(get("http_auth_user"), "<none>");
    request("Authorization: Basic Ym9i, Basic YWxpY2U6aHVudGVyMg==\r\n");
    EXPECT_EQ(get("http_auth_user"), "<none>");
}

TEST_F(FetchAuth, TheFetchesNeedARequest) {
    txn.req = nullptr;
    EXPECT_FALSE(acl("authed"));
    EXPECT_EQ(get("http_auth_type"), "<none>");
    EXPECT_EQ(get("http_auth_bearer(x)"), "<none>");
}

}  // namespace
}  // namespace sluice::auth
