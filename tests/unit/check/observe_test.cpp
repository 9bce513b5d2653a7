// observe, error-limit, on-error: parsing and HAProxy 2.6's refusals (checked with haproxy
// 2.6.12), which outcomes count in each mode, the consecutive-error count, what each on-error
// mode does to a check's health, and the message without a check duration.
#include <gtest/gtest.h>

#include "../cfg/reader_test_support.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/check/watch.hpp"
#include "sluice/proxy/runtime.hpp"

namespace sluice::cfg::reader_test {
namespace {

using check::Health;
using check::OnError;
using proxy::Observed;
using proxy::ObserveMode;
using proxy::ObserveVerdict;

const check::ServerWatchConf& watch(const Parsed& p, std::size_t proxy, std::size_t i) {
    return p.proxy(proxy).servers.at(i).options.read<check::ServerWatchConf>();
}

TEST(CheckObserve, OptionsAndDefaults) {
    const Parsed p = parse(
        "backend b\n  mode http\n  default-server observe layer7 error-limit 3\n"
        "  server s1 127.0.0.1:80 check\n"
        "  server s2 127.0.0.1:81 check observe layer4 on-error mark-down\n"
        "  server s3 127.0.0.1:82 check observe none on-error sudden-death error-limit 1\n"
        "  server s4 127.0.0.1:83 check on-error fastinter\n"
        "backend c\n  server s 127.0.0.1:80\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(watch(p, 0, 0).observe, ObserveMode::Layer7);
    EXPECT_EQ(watch(p, 0, 0).error_limit, 3u);
    EXPECT_EQ(watch(p, 0, 0).on_error, OnError::FailCheck);
    EXPECT_EQ(watch(p, 0, 1).observe, ObserveMode::Layer4);
    EXPECT_EQ(watch(p, 0, 1).on_error, OnError::MarkDown);
    EXPECT_EQ(watch(p, 0, 2).observe, ObserveMode::None);
    EXPECT_EQ(watch(p, 0, 2).on_error, OnError::SuddenDeath);
    EXPECT_EQ(watch(p, 0, 2).error_limit, 1u);
    EXPECT_EQ(watch(p, 0, 3).on_error, OnError::FastInter);
    EXPECT_EQ(watch(p, 1, 0).observe, ObserveMode::None);
    EXPECT_EQ(watch(p, 1, 0).error_limit, 10u);  // HAProxy's default
}

TEST(CheckObserve, Refusals) {
    const std::string pre = "[ALERT]    (PID) : config : parsing [t.cfg:2] : backend 'b' : ";
    EXPECT_EQ(messages("backend b\n  server s 127.0.0.1:80 check observe foo error-limit 0 "
                       "error-limit x on-error foo\n"),
              (Lines{pre + "'observe' : 'observe' expects one of 'none', 'layer4', 'layer7' but "
                           "got 'foo'.",
                     pre + "'error-limit' : error-limit has to be > 0, got '0'.",
                     pre + "'error-limit' : error-limit has to be > 0, got 'x'.",
                     pre + "'on-error' : 'on-error' expects one of 'fastinter', 'fail-check', "
                           "'sudden-death' or 'mark-down' but got 'foo'"}));
}

TEST(CheckObserve, Layer7OnlyInHttpProxies) {
    Parsed p = parse(
        "defaults\n  mode tcp\n"
        "backend b\n  server s 127.0.0.1:80 check observe layer7\n"
        "backend h\n  mode http\n  server s 127.0.0.1:80 check observe layer7\n");
    run_late_checks(p.doc, p.diag);
    EXPECT_EQ(p.messages(),
              (Lines{"[ALERT]    (PID) : config : parsing [t.cfg:4] : backend 'b' : 'server' : "
                     "'layer7' can only be used in http proxies."}));
}

TEST(CheckObserve, WhatCountsInEachMode) {
    using V = ObserveVerdict;
    EXPECT_EQ(classify(ObserveMode::Layer4, Observed::L4Ok), V::Success);
    EXPECT_EQ(classify(ObserveMode::Layer4, Observed::L4Error), V::Error);
    EXPECT_EQ(classify(ObserveMode::Layer4, Observed::HttpStatus), V::Ignore);
    EXPECT_EQ(classify(ObserveMode::Layer4, Observed::ReadTimeout), V::Ignore);
    EXPECT_EQ(classify(ObserveMode::Layer7, Observed::L4Ok), V::Ignore);
    EXPECT_EQ(classify(ObserveMode::Layer7, Observed::L4Error), V::Error);
    EXPECT_EQ(classify(ObserveMode::Layer7, Observed::HttpOk), V::Success);
    for (Observed e : {Observed::HttpStatus, Observed::HttpHeaders, Observed::HttpResponse,
                       Observed::ReadError, Observed::ReadTimeout, Observed::BrokenPipe})
        EXPECT_EQ(classify(ObserveMode::Layer7, e), V::Error);
    EXPECT_EQ(classify(ObserveMode::None, Observed::L4Error), V::Ignore);
    // 501 and 505 answer what the client asked: not the server's fault.
    for (int st : {100, 200, 302, 404, 499, 501, 505})
        EXPECT_EQ(proxy::observed_status(st), Observed::HttpOk) << st;
    for (int st : {500, 502, 503, 504, 506, 599, 600})
        EXPECT_EQ(proxy::observed_status(st), Observed::HttpStatus) << st;
    EXPECT_EQ(describe(Observed::HttpStatus), "Wrong http response");
    EXPECT_EQ(describe(Observed::L4Error), "L4 unsuccessful connection");
}

struct Sink : proxy::ObserveSink {
    int calls = 0;
    Observed last{};
    std::uint32_t errors = 0;
    void limit_reached(proxy::Server&, Observed what, std::uint32_t n) override {
        ++calls;
        last = what;
        errors = n;
    }
};

TEST(CheckObserve, ConsecutiveErrorsReachTheLimitOnceAndSuccessResets) {
    proxy::Server s;
    Sink sink;
    s.observe_sink = &sink;
    s.error_limit = 3;
    s.observed(Observed::L4Error);  // observe off: nothing counted
    EXPECT_EQ(s.consecutive_errors.load(), 0u);
    s.observe = ObserveMode::Layer7;
    s.observed(Observed::HttpStatus);
    s.observed(Observed::HttpStatus);
    s.observed(Observed::HttpOk);  // a good answer starts the count again
    s.observed(Observed::L4Ok);    // ignored in layer7
    s.observed(Observed::HttpStatus);
    s.observed(Observed::ReadTimeout);
    EXPECT_EQ(sink.calls, 0);
    s.observed(Observed::BrokenPipe);
    EXPECT_EQ(sink.calls, 1);
    EXPECT_EQ(sink.last, Observed::BrokenPipe);
    EXPECT_EQ(sink.errors, 3u);
    EXPECT_EQ(s.consecutive_errors.load(), 0u);
}

TEST(CheckObserve, OnErrorModesAndHealth) {
    // rise 2, fall 3: fully UP is 4; UP down to 2.
    Health h = Health::start(2, 3);
    h.value = h.full();
    EXPECT_EQ(analyze(h, OnError::FastInter), Health::Change::None);
    EXPECT_EQ(h.value, 4u);
    EXPECT_EQ(analyze(h, OnError::FailCheck), Health::Change::None);
    EXPECT_EQ(h.value, 3u);
    h.value = h.full();
    EXPECT_EQ(analyze(h, OnError::SuddenDeath), Health::Change::None);
    EXPECT_EQ(h.value, 2u);  // one failed check from DOWN
    EXPECT_EQ(analyze(h, OnError::FailCheck), Health::Change::Down);
    EXPECT_EQ(h.value, 0u);
    EXPECT_FALSE(h.up);
    h = Health::start(2, 3);
    h.value = h.full();
    EXPECT_EQ(analyze(h, OnError::MarkDown), Health::Change::Down);
    EXPECT_EQ(analyze(h, OnError::MarkDown), Health::Change::None);  // already DOWN
    // fall 1: sudden death is death.
    h = Health::start(2, 1);
    EXPECT_EQ(analyze(h, OnError::SuddenDeath), Health::Change::Down);
}

TEST(CheckObserve, MessageHasNoCheckDuration) {
    const check::Outcome o{check::Status::Hana, -1,
                           "Detected 3 consecutive errors, last one was: Wrong http response"};
    EXPECT_EQ(check::format_state_message(
                  {.backend = "be", .server = "s1", .outcome = &o, .duration_ms = -1, .active = 1}),
              "Server be/s1 is DOWN, reason: Health analyze, info: \"Detected 3 consecutive "
              "errors, last one was: Wrong http response\". 1 active and 0 backup servers left. "
              "0 sessions active, 0 requeued, 0 remaining in queue.");
}

}  // namespace
}  // namespace sluice::cfg::reader_test
