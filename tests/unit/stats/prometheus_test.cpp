// The Prometheus rendering on a tiny built config (no socket, no traffic): HELP/TYPE lines,
// labels, states, NaN for empty stat fields, HTTP-only families, the scopes, and Sluice's
// histograms from timings added by hand. Whole-output comparisons with Debian's haproxy are in
// tests/integration/test_prometheus.py.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/cfg/reader.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/stats/prometheus.hpp"

namespace sluice::stats {
namespace {

std::unique_ptr<proxy::Config> build_config(std::string_view text) {
    cfg::Document doc;
    cfg::Diagnostics diag;
    cfg::Reader reader(
        doc, diag,
        cfg::ConditionEnv{
            .env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; },
            .has_feature = [](std::string_view) { return false; },
            .version = "2.6.12",
        });
    reader.read_text("t.cfg", text);
    cfg::Diagnostics build_diag;
    return proxy::build(std::move(doc), build_diag, {});
}

constexpr std::string_view kConfig =
    "global\n  nbthread 2\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n"
    "  timeout server 30s\n"
    "frontend fe\n  bind 127.0.0.1:8080\n  default_backend be\n"
    "frontend ft\n  mode tcp\n  bind 127.0.0.1:8081\n  default_backend bt\n"
    "backend be\n  server s1 127.0.0.1:9001 maxconn 10\n  server s2 127.0.0.1:9002 disabled\n"
    "backend bt\n  mode tcp\n  server t1 127.0.0.1:9003\n";

class Prometheus : public ::testing::Test {
  protected:
    void SetUp() override {
        config_ = build_config(kConfig);
        ASSERT_NE(config_, nullptr);
        process_.now = 1000;
        process_.start = 990;
    }
    std::string render(std::string_view query = {}) {
        const auto q = parse_prom_query(query);
        EXPECT_TRUE(q.has_value());
        std::string out;
        prometheus(out, *config_, process_, q.value_or(PromQuery{}));
        return out;
    }
    static bool has(const std::string& out, std::string_view line) {
        return out.find(std::string(line) + "\n") != std::string::npos;
    }
    proxy::Backend& backend(std::string_view name) {
        for (auto& be : config_->backends)
            if (be->name == name) return *be;
        throw std::runtime_error("no backend");
    }

    std::unique_ptr<proxy::Config> config_;
    Process process_;
};

TEST_F(Prometheus, HeadersOncePerFamilyWithHaproxysTypes) {
    const std::string out = render();
    EXPECT_TRUE(out.starts_with("# HELP haproxy_process_nbthread "));
    EXPECT_TRUE(has(out, "# TYPE haproxy_process_nbthread gauge"));
    EXPECT_TRUE(has(out, "haproxy_process_nbthread 2"));
    EXPECT_TRUE(has(out, "# TYPE haproxy_frontend_sessions_total counter"));
    EXPECT_TRUE(has(out, "# TYPE haproxy_server_status gauge"));
    std::size_t n = 0;
    for (std::size_t at = 0;
         (at = out.find("# TYPE haproxy_server_status ", at)) != std::string::npos; ++at)
        ++n;
    EXPECT_EQ(n, 1u);
    EXPECT_TRUE(out.ends_with("\n"));
}

TEST_F(Prometheus, ServerStatesAndEmptyFieldsAsNaN) {
    const std::string out = render();
    EXPECT_TRUE(has(out, R"(haproxy_server_status{proxy="be",server="s1",state="UP"} 1)"));
    EXPECT_TRUE(has(out, R"(haproxy_server_status{proxy="be",server="s1",state="MAINT"} 0)"));
    EXPECT_TRUE(has(out, R"(haproxy_server_status{proxy="be",server="s2",state="MAINT"} 1)"));
    EXPECT_TRUE(has(out, R"(haproxy_server_status{proxy="be",server="s2",state="UP"} 0)"));
    EXPECT_TRUE(has(out, R"(haproxy_server_limit_sessions{proxy="be",server="s1"} 10)"));
    EXPECT_TRUE(has(out, R"(haproxy_server_limit_sessions{proxy="be",server="s2"} NaN)"));
    EXPECT_TRUE(has(out, R"(haproxy_backend_agg_server_status{proxy="be",state="MAINT"} 1)"));
    EXPECT_TRUE(has(out, R"(haproxy_backend_agg_server_status{proxy="be",state="UP"} 1)"));
    EXPECT_TRUE(has(out, R"(haproxy_frontend_status{proxy="fe",state="UP"} 1)"));
    // No server is checked: no check family at all.
    EXPECT_EQ(out.find("haproxy_server_check_status"), std::string::npos);
    EXPECT_TRUE(has(out, R"(haproxy_backend_queue_time_average_seconds{proxy="be"} 0.000000)"));
}

TEST_F(Prometheus, HttpFamiliesOnlyForHttpProxies) {
    const std::string out = render();
    EXPECT_TRUE(has(out, R"(haproxy_frontend_http_responses_total{proxy="fe",code="1xx"} 0)"));
    EXPECT_TRUE(has(out, R"(haproxy_frontend_http_responses_total{proxy="fe",code="other"} 0)"));
    EXPECT_EQ(out.find(R"(haproxy_frontend_http_requests_total{proxy="ft"})"), std::string::npos);
    EXPECT_EQ(out.find(R"(haproxy_server_http_responses_total{proxy="bt")"), std::string::npos);
    EXPECT_TRUE(has(out, R"(haproxy_frontend_connections_total{proxy="ft"} 0)"));
    // Code-major, as HAProxy: every server's 1xx before any 2xx.
    const auto s2_1xx =
        out.find(R"(haproxy_server_http_responses_total{proxy="be",server="s2",code="1xx"})");
    const auto s1_2xx =
        out.find(R"(haproxy_server_http_responses_total{proxy="be",server="s1",code="2xx"})");
    ASSERT_NE(s2_1xx, std::string::npos);
    EXPECT_LT(s2_1xx, s1_2xx);
}

TEST_F(Prometheus, Scopes) {
    EXPECT_EQ(render("scope="), "");
    const std::string servers = render("scope=server&no-maint");
    EXPECT_NE(servers.find(R"(server="s1")"), std::string::npos);
    EXPECT_EQ(servers.find(R"(server="s2")"), std::string::npos);
    EXPECT_EQ(servers.find("haproxy_process_"), std::string::npos);
    EXPECT_EQ(servers.find("haproxy_backend_"), std::string::npos);
    const std::string global = render("scope=global");
    EXPECT_NE(global.find("haproxy_process_build_info{version=\""), std::string::npos);
    EXPECT_EQ(global.find("haproxy_frontend_"), std::string::npos);
}

TEST(PrometheusQuery, ParsesAsHaproxy) {
    const auto all = parse_prom_query("");
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->global && all->frontend && all->backend && all->server && !all->no_maint);
    const auto two = parse_prom_query("scope=frontend&x=1&scope=server&no-maint");
    ASSERT_TRUE(two);
    EXPECT_FALSE(two->global || two->backend);
    EXPECT_TRUE(two->frontend && two->server && two->no_maint);
    const auto cleared = parse_prom_query("scope=frontend&scope=&scope=backend");
    ASSERT_TRUE(cleared);
    EXPECT_FALSE(cleared->global || cleared->frontend || cleared->server);
    EXPECT_TRUE(cleared->backend);
    EXPECT_FALSE(parse_prom_query("scope=bogus"));
    EXPECT_FALSE(parse_prom_query("scope"));
}

TEST_F(Prometheus, HistogramsAreCumulativeInSeconds) {
    proxy::Backend& be = backend("be");
    for (std::uint32_t ms : {0u, 3u, 120u, 120u, 70000u})
        be.counts.at(1).timing(proxy::TimingKind::Response).add(ms);
    be.servers[0]->counts.at(0).timing(proxy::TimingKind::Response).add(120);
    const std::string out = render("scope=backend&scope=server");
    EXPECT_TRUE(has(out, "# TYPE haproxy_backend_response_time_seconds histogram"));
    const std::string_view b = "haproxy_backend_response_time_seconds_bucket{proxy=\"be\",le=";
    auto line = [&](std::string_view le, int n) {
        return std::string(b) + "\"" + std::string(le) + "\"} " + std::to_string(n);
    };
    EXPECT_TRUE(has(out, line("0.001", 1)));
    EXPECT_TRUE(has(out, line("0.005", 2)));
    EXPECT_TRUE(has(out, line("0.1", 2)));
    EXPECT_TRUE(has(out, line("0.25", 4)));
    EXPECT_TRUE(has(out, line("60", 4)));
    EXPECT_TRUE(has(out, line("+Inf", 5)));
    EXPECT_TRUE(has(out, R"(haproxy_backend_response_time_seconds_sum{proxy="be"} 70.243)"));
    EXPECT_TRUE(has(out, R"(haproxy_backend_response_time_seconds_count{proxy="be"} 5)"));
    EXPECT_TRUE(has(
        out, R"(haproxy_server_response_time_seconds_bucket{proxy="be",server="s1",le="0.25"} 1)"));
    EXPECT_TRUE(
        has(out, R"(haproxy_server_response_time_seconds_count{proxy="be",server="s2"} 0)"));
}

TEST_F(Prometheus, ManyServersRenderOnce) {
    std::string text(kConfig);
    text += "backend big\n";
    for (int i = 0; i < 2000; ++i)
        text += "  server s" + std::to_string(i) + " 127.0.0.1:" + std::to_string(10000 + i) + "\n";
    config_ = build_config(text);
    ASSERT_NE(config_, nullptr);
    const std::string out = render("scope=server");
    EXPECT_TRUE(has(out, R"(haproxy_server_status{proxy="big",server="s1999",state="UP"} 1)"));
    EXPECT_GT(out.size(), 2000u * 4000u);
}

}  // namespace
}  // namespace sluice::stats
