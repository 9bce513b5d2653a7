// `http-check expect` parsing and matching, health counting and state messages. Where a test
// says "HAProxy 2.6", the outcome was checked against Debian's haproxy 2.6.12.
#include "sluice/check/expect.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sluice/check/checks.hpp"
#include "sluice/http/h1_parse.hpp"

namespace sluice::check {
namespace {

using Words = std::vector<std::string>;

Expect parse_ok(const Words& w) {
    std::string warning;
    auto e = parse_http_expect(w, warning);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error());
    EXPECT_EQ(warning, "");
    return e.ok() ? *e : Expect{};
}
std::string parse_error(const Words& w) {
    std::string warning;
    auto e = parse_http_expect(w, warning);
    return e.ok() ? "(accepted)" : e.error();
}

struct Answer {
    std::string raw;
    http::ResponseHead head;
    HttpAnswer view;
    explicit Answer(std::string text) : raw(std::move(text)) {
        const auto bytes = std::as_bytes(std::span(raw.data(), raw.size()));
        auto r = http::parse_response_head(bytes, 0, head);
        const std::size_t n = std::get<http::Done>(r).consumed;
        view = {head.status, head.reason, &head.headers, std::string_view(raw).substr(n)};
    }
};

Outcome run(const std::vector<Expect>& rules, const std::string& response, bool on404 = false) {
    Answer a(response);
    return evaluate_http(rules, a.view, on404);
}

TEST(CheckExpect, StatusLists) {
    auto l = parse_status_list("200,301-308,404");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->size(), 3u);
    EXPECT_EQ((*l)[1], (std::pair<std::uint16_t, std::uint16_t>(301, 308)));
    for (std::string_view bad : {"", "2x0", "300-200", "200,", "1000", "-5"})
        EXPECT_FALSE(parse_status_list(bad).ok()) << bad;
}

TEST(CheckExpect, ParsesEveryMatchAndOption) {
    Expect e = parse_ok(
        {"min-recv", "10", "comment", "c", "ok-status", "L7OKC", "!", "status", "200-299"});
    EXPECT_TRUE(e.negate);
    EXPECT_EQ(e.kind, Expect::Kind::Status);
    EXPECT_EQ(e.min_recv, 10);
    EXPECT_EQ(e.comment, "c");
    EXPECT_EQ(e.ok_status, Status::L7OkConditional);
    EXPECT_TRUE(parse_ok({"!rstring", "^x"}).negate);
    e = parse_ok({"hdr", "name", "-m", "beg", "x-", "value", "-m", "reg", "^a+$"});
    EXPECT_EQ(e.name.method, Method::Beg);
    EXPECT_TRUE(e.name.caseless);
    EXPECT_EQ(e.pattern.method, Method::Reg);
    EXPECT_TRUE(e.has_value);
    EXPECT_FALSE(parse_ok({"fhdr", "name", "X"}).has_value);
    EXPECT_EQ(parse_ok({"string", "ok"}).kind, Expect::Kind::String);
}

TEST(CheckExpect, Errors) {
    EXPECT_EQ(parse_error({}),
              "expects a match ('status', 'rstatus', 'hdr', 'fhdr', 'string' or 'rstring') and "
              "its pattern");
    EXPECT_EQ(parse_error({"stat", "200"}),
              "expects 'status', 'rstatus', 'hdr', 'fhdr', 'string' or 'rstring', got 'stat'");
    EXPECT_EQ(parse_error({"string", "a", "b"}),
              "'string' takes one pattern but got 'b' after it (escape spaces with '\\' or quote "
              "the pattern)");
    EXPECT_EQ(parse_error({"status"}), "'status' expects a pattern");
    EXPECT_EQ(parse_error({"rstring", "(x"}).substr(0, 30), "regex '(x' does not compile at");
    EXPECT_EQ(parse_error({"hdr", "X"}), "'hdr' expects 'name' and a header name");
    EXPECT_EQ(parse_error({"hdr", "name", "-m", "in", "x"}),
              "'-m' expects 'str', 'beg', 'end', 'sub' or 'reg', got 'in'");
    EXPECT_EQ(parse_error({"ok-status", "L7STS", "status", "200"}),
              "'ok-status' expects L7OK, L7OKC, L6OK or L4OK");
    EXPECT_EQ(parse_error({"status", "200", "status-code", "nope("}).substr(0, 15),
              "'status-code' :");
    EXPECT_EQ(parse_error({"status", "200", "x"}),
              "'status' takes one pattern but got 'x' after "
              "it (escape spaces with '\\' or quote the "
              "pattern)");
    EXPECT_EQ(parse_error({"string", "a", "comment", "c", "x"}),
              "unexpected word 'x' after the pattern");
    // Options may follow the match, as in HAProxy.
    EXPECT_EQ(parse_error({"status", "200", "on-error", "e", "comment", "c"}), "(accepted)");
    EXPECT_EQ(parse_error({"!"}), "expects a match after '!'");
}

TEST(CheckExpect, OldHeaderFormIsReadAsHdrWithAWarning) {
    std::string warning;
    auto e = parse_http_expect(Words{"header", "Content-Type", "-m", "sub", "application/json"},
                               warning);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->kind, Expect::Kind::Hdr);
    EXPECT_EQ(e->name.text, "Content-Type");
    EXPECT_EQ(e->pattern.method, Method::Sub);
    EXPECT_EQ(e->pattern.text, "application/json");
    EXPECT_EQ(warning,
              "'header' is not a match HAProxy 2.6 knows (it refuses this line); read as "
              "'http-check expect hdr name Content-Type value -m sub application/json', which is "
              "how to write it for HAProxy 2.6");
}

TEST(CheckExpect, DefaultRuleIs2xxAnd3xx) {
    EXPECT_EQ(run({}, "HTTP/1.1 302 Found\r\n\r\n").status, Status::L7Ok);
    const Outcome o = run({}, "HTTP/1.1 500 Internal Server Error\r\n\r\n");
    EXPECT_EQ(o.status, Status::L7Status);
    EXPECT_EQ(o.code, 500);
    EXPECT_EQ(o.info, "Internal Server Error");
}

TEST(CheckExpect, OutcomesAsHaproxy) {
    const std::string ok =
        "HTTP/1.1 200 OK\r\nContent-Type: text/html, charset=x\r\nContent-Length: "
        "20\r\n\r\n{\"status\":\"healthy\"}";
    // HAProxy 2.6: a body mismatch is L7RSP with a fixed info, a header mismatch L7STS with the
    // reason phrase, a negated status match L7STS.
    Outcome o = run({parse_ok({"string", "healthyX"})}, ok);
    EXPECT_EQ(o.status, Status::L7Response);
    EXPECT_EQ(o.info, "HTTP content check did not match");
    o = run({parse_ok({"!", "string", "healthy"})}, ok);
    EXPECT_EQ(o.info, "HTTP check matched unwanted content");
    o = run({parse_ok({"string", "x"})}, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(o.info, "HTTP content check could not find a response body");
    o = run({parse_ok({"hdr", "name", "content-type", "value", "-m", "sub", "json"})}, ok);
    EXPECT_EQ(o.status, Status::L7Status);
    EXPECT_EQ(o.info, "OK");
    EXPECT_EQ(run({parse_ok({"hdr", "name", "content-type", "value", "charset=x"})}, ok).status,
              Status::L7Ok);  // hdr splits on commas
    EXPECT_EQ(run({parse_ok({"fhdr", "name", "content-type", "value", "charset=x"})}, ok).status,
              Status::L7Status);
    EXPECT_EQ(run({parse_ok({"!", "status", "200"})}, ok).status, Status::L7Status);
    EXPECT_EQ(run({parse_ok({"rstatus", "^2"}), parse_ok({"rstring", "^\\{.status"})}, ok).status,
              Status::L7Ok);
    o = run({parse_ok({"error-status", "L7OKC", "status", "500"})}, ok);
    EXPECT_EQ(o.status, Status::L7OkConditional);
    // The seed's block, with the quotes kept (as single quotes give them).
    EXPECT_EQ(run({parse_ok({"status", "200"}),
                   [] {
                       std::string w;
                       return *parse_http_expect(
                           Words{"header", "Content-Type", "-m", "sub", "text/html"}, w);
                   }(),
                   parse_ok({"string", "{\"status\":\"healthy\"}"})},
                  ok)
                  .status,
              Status::L7Ok);
}

TEST(CheckExpect, DisableOn404TakesPrecedence) {
    const Outcome o = run({parse_ok({"status", "200"})}, "HTTP/1.1 404 Not Found\r\n\r\n", true);
    EXPECT_EQ(o.status, Status::L7OkConditional);
    EXPECT_EQ(o.code, 404);
}

TEST(CheckExpect, QuotingWarning) {
    EXPECT_EQ(last_raw_word(R"(  http-check expect string {"status":"healthy"}  # c)"),
              R"({"status":"healthy"})");
    EXPECT_EQ(last_raw_word(R"(x "a b" 'c d')"), "'c d'");
    EXPECT_EQ(last_raw_word(R"(x a\ b)"), R"(a\ b)");
    EXPECT_EQ(quoting_warning(R"({"status":"healthy"})", "{status:healthy}"),
              "the pattern is matched as '{status:healthy}': the config's quoting rules remove "
              "the double quotes in {\"status\":\"healthy\"}; to match them, write the word in "
              "single quotes: '{\"status\":\"healthy\"}'");
    EXPECT_EQ(quoting_warning(R"("two words")", "two words"), "");
    EXPECT_EQ(quoting_warning(R"('{"a":1}')", R"({"a":1})"), "");
    EXPECT_EQ(quoting_warning(R"(\"x\")", R"("x")"), "");
    EXPECT_EQ(quoting_warning("plain", "plain"), "");
}

TEST(CheckHealth, StartsGoingDownThenCountsFall) {
    // HAProxy 2.6: a server with `check` starts UP; its first failure marks it DOWN.
    Health h = Health::start(2, 3);
    EXPECT_EQ(h.record(false), Health::Change::Down);
    EXPECT_EQ(h.record(false), Health::Change::None);
    EXPECT_EQ(h.record(true), Health::Change::None);
    EXPECT_EQ(h.record(true), Health::Change::Up);
    EXPECT_EQ(h.value, 4u);
    EXPECT_EQ(h.record(false), Health::Change::None);
    EXPECT_EQ(h.record(false), Health::Change::None);
    EXPECT_EQ(h.record(false), Health::Change::Down);
    h = Health::start(2, 3);
    EXPECT_EQ(h.record(true), Health::Change::None);  // full health at once
    EXPECT_EQ(h.value, 4u);
    h = Health::start(1, 1);
    EXPECT_EQ(h.record(false), Health::Change::Down);
    EXPECT_EQ(h.record(true), Health::Change::Up);
}

TEST(CheckHealth, InitStates) {
    // `init-state` (HAProxy 3.1): where the counter starts.
    using enum ServerCheckConf::InitState;
    Health h = Health::start(2, 3, FullyUp);
    EXPECT_TRUE(h.up);
    EXPECT_EQ(h.record(false), Health::Change::None);
    EXPECT_EQ(h.record(false), Health::Change::None);
    EXPECT_EQ(h.record(false), Health::Change::Down);
    h = Health::start(2, 3, Down);
    EXPECT_FALSE(h.up);
    EXPECT_EQ(h.record(true), Health::Change::Up);  // one passing check
    EXPECT_EQ(h.value, 4u);
    h = Health::start(3, 3, FullyDown);
    EXPECT_FALSE(h.up);
    EXPECT_EQ(h.record(true), Health::Change::None);
    EXPECT_EQ(h.record(true), Health::Change::None);
    EXPECT_EQ(h.record(true), Health::Change::Up);
    h = Health::start(1, 2, Down);
    EXPECT_EQ(h.record(false), Health::Change::None);
    EXPECT_EQ(h.record(true), Health::Change::Up);
}

TEST(CheckHealth, Intervals) {
    ServerCheckConf c;
    c.inter = std::chrono::seconds(2);
    c.fastinter = std::chrono::milliseconds(500);
    c.downinter = std::chrono::seconds(5);
    Health h = Health::start(2, 3);
    EXPECT_EQ(h.next_interval(c), std::chrono::milliseconds(500));  // going down
    (void)h.record(true);
    EXPECT_EQ(h.next_interval(c), std::chrono::seconds(2));
    (void)h.record(false);
    EXPECT_EQ(h.next_interval(c), std::chrono::milliseconds(500));
    (void)h.record(false);
    (void)h.record(false);
    EXPECT_EQ(h.next_interval(c), std::chrono::seconds(5));
    c.downinter.reset();
    EXPECT_EQ(h.next_interval(c), std::chrono::seconds(2));
}

TEST(CheckMessages, AsHaproxy) {
    Outcome refused{Status::L4Conn, -1, "Connection refused"};
    StateMessage m{
        .backend = "be", .server = "s1", .what = StateMessage::What::Down, .outcome = &refused};
    EXPECT_EQ(format_state_message(m),
              "Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection "
              "refused\", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions "
              "active, 0 requeued, 0 remaining in queue.");
    Outcome up{Status::L7Ok, 200, {}};
    m = {.backend = "be3",
         .server = "s3",
         .what = StateMessage::What::Up,
         .outcome = &up,
         .duration_ms = 3,
         .active = 1};
    EXPECT_EQ(format_state_message(m),
              "Server be3/s3 is UP, reason: Layer7 check passed, code: 200, check duration: 3ms. "
              "1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.");
    Outcome nolb{Status::L7OkConditional, 404, {}};
    m = {.backend = "b7",
         .server = "s",
         .what = StateMessage::What::Stopping,
         .outcome = &nolb,
         .duration_ms = 2};
    EXPECT_EQ(format_state_message(m),
              "Server b7/s is stopping, reason: Layer7 check conditionally passed, code: 404, "
              "check duration: 2ms. 0 active and 0 backup servers online. 0 sessions requeued, 0 "
              "total in queue.");
    Outcome rsp{Status::L7Response, 200, {}};
    m = {.backend = "b8", .server = "s", .what = StateMessage::What::Down, .outcome = &rsp};
    EXPECT_EQ(format_state_message(m),
              "Server b8/s is DOWN, reason: Layer7 invalid response, check duration: 0ms. 0 "
              "active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in "
              "queue.");
    // Only backup servers left usable: HAProxy says so after the counts, going down or up.
    m = {.backend = "be",
         .server = "s1",
         .what = StateMessage::What::Down,
         .outcome = &refused,
         .backup = 2,
         .sessions = 3};
    EXPECT_EQ(format_state_message(m),
              "Server be/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection "
              "refused\", check duration: 0ms. 0 active and 2 backup servers left. Running on "
              "backup. 3 sessions active, 0 requeued, 0 remaining in queue.");
    m = {.backend = "be",
         .server = "b",
         .what = StateMessage::What::Up,
         .outcome = &up,
         .backup = 1,
         .backup_server = true};
    EXPECT_EQ(format_state_message(m),
              "Backup Server be/b is UP, reason: Layer7 check passed, code: 200, check duration: "
              "0ms. 0 active and 1 backup servers online. Running on backup. 0 sessions "
              "requeued, 0 total in queue.");
    // Active servers left: the backups do not run.
    m = {.backend = "be",
         .server = "b",
         .what = StateMessage::What::Down,
         .outcome = &refused,
         .active = 1,
         .backup = 1,
         .backup_server = true};
    EXPECT_EQ(format_state_message(m),
              "Backup Server be/b is DOWN, reason: Layer4 connection problem, info: \"Connection "
              "refused\", check duration: 0ms. 1 active and 1 backup servers left. 0 sessions "
              "active, 0 requeued, 0 remaining in queue.");
}

}  // namespace
}  // namespace sluice::check
