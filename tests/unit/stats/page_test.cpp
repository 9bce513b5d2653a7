// The stats page's pieces that need no running proxy: the `stats` keywords (what they leave in
// the section's Parts, their alerts), the URI suffixes, the admin form's body and escaping.
#include "sluice/stats/page.hpp"

#include <gtest/gtest.h>

#include <string>

#include "../cfg/reader_test_support.hpp"

namespace sluice::stats {
namespace {

TEST(StatsPageKeywords, EnableSetsTheDefaultUriAndTheService) {
    auto p = cfg::reader_test::parse("listen l\n  stats enable\n");
    EXPECT_TRUE(p.messages().empty());
    const auto& own = p.doc.proxies.at(0).parts.read<rules::ProxyServiceConf>();
    EXPECT_EQ(own.uri_prefix, "/haproxy?stats");
    EXPECT_NE(own.service, nullptr);
}

TEST(StatsPageKeywords, SettingsAccumulateAndDefaultsAreInherited) {
    auto p = cfg::reader_test::parse(
        "defaults\n  mode http\n  stats uri /st\n  stats realm R\n"
        "frontend f\n  stats auth a:b\n  stats auth c:d\n  stats scope .\n  stats refresh 5s\n"
        "  stats show-node n1\n  stats show-desc some text\n  stats hide-version\n"
        "  stats show-legends\n  stats admin if TRUE\n"
        "backend b\n");
    EXPECT_TRUE(p.messages().empty()) << p.messages().front();
    const auto& f = p.doc.proxies.at(0).parts.read<PageConf>();
    EXPECT_TRUE(f.enabled);
    EXPECT_EQ(f.uri, "/st");
    EXPECT_EQ(f.realm, "R");
    EXPECT_EQ(f.users, (std::vector<std::string>{"a:b", "c:d"}));
    EXPECT_EQ(f.scope, (std::vector<std::string>{"f"}));
    EXPECT_EQ(f.refresh, std::chrono::seconds(5));
    EXPECT_EQ(f.node, "n1");
    EXPECT_EQ(f.desc, "some text");
    EXPECT_TRUE(f.hide_version && f.legends);
    EXPECT_EQ(f.admin.size(), 1u);
    EXPECT_EQ(p.doc.proxies.at(0).parts.read<rules::ProxyServiceConf>().uri_prefix, "/st");
    // The backend inherits the defaults' page as it stood.
    const auto& b = p.doc.proxies.at(1).parts.read<PageConf>();
    EXPECT_TRUE(b.enabled);
    EXPECT_TRUE(b.users.empty());
    EXPECT_EQ(p.doc.proxies.at(1).parts.read<rules::ProxyServiceConf>().uri_prefix, "/st");
}

TEST(StatsPageKeywords, NoStatsNoService) {
    auto p = cfg::reader_test::parse("listen l\n  mode http\n");
    EXPECT_EQ(p.doc.proxies.at(0).parts.read<rules::ProxyServiceConf>().service, nullptr);
}

TEST(StatsPageKeywords, Alerts) {
    const auto has = [](const std::vector<std::string>& m, std::string_view what) {
        return m.size() == 1 && m[0].find(what) != std::string::npos;
    };
    EXPECT_TRUE(has(cfg::reader_test::parse("defaults\n  stats admin if TRUE\n").messages(),
                    "not allowed in 'defaults'"));
    EXPECT_TRUE(
        has(cfg::reader_test::parse("listen l\n  stats admin\n").messages(), "'if' or 'unless'"));
    EXPECT_TRUE(has(cfg::reader_test::parse("listen l\n  stats bogus\n").messages(),
                    "unknown stats parameter 'bogus'"));
    EXPECT_TRUE(has(cfg::reader_test::parse("listen l\n  stats\n").messages(), "missing keyword"));
    EXPECT_TRUE(has(cfg::reader_test::parse("listen l\n  stats uri\n").messages(), "URI prefix"));
    EXPECT_TRUE(
        has(cfg::reader_test::parse("listen l\n  stats refresh xx\n").messages(), "invalid delay"));
    EXPECT_TRUE(has(cfg::reader_test::parse("listen l\n  stats show-node a/b\n").messages(),
                    "invalid node name"));
    EXPECT_TRUE(
        has(cfg::reader_test::parse("listen l\n  stats http-request redirect x\n").messages(),
            "only 'allow', 'deny' and 'auth"));
    EXPECT_TRUE(
        has(cfg::reader_test::parse("listen l\n  stats show-modules\n").messages(), "ignored"));
}

TEST(StatsPageQuery, Suffixes) {
    EXPECT_EQ(parse_page_query("").format, PageQuery::Format::Html);
    EXPECT_EQ(parse_page_query(";csv").format, PageQuery::Format::Csv);
    EXPECT_EQ(parse_page_query(";json").format, PageQuery::Format::Json);
    EXPECT_EQ(parse_page_query(";typed").format, PageQuery::Format::Typed);
    EXPECT_EQ(parse_page_query(";csvx").format, PageQuery::Format::Html);
    const PageQuery q = parse_page_query(";up;norefresh;st=DONE;no-maint?scope=ab%20&x");
    EXPECT_TRUE(q.up && q.norefresh && q.no_maint);
    EXPECT_EQ(q.st, "DONE");
    EXPECT_EQ(q.scope, "ab%20");
    EXPECT_EQ(parse_page_query(";st=").st, "");
    EXPECT_EQ(parse_page_query("?scope=0123456789012345678901234").scope.size(), 20u);
}

TEST(StatsPageForm, PairsDecodedInOrder) {
    using P = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(parse_form("s=a&s=b+c&action=maint&b=%23"),
              (P{{"s", "a"}, {"s", "b c"}, {"action", "maint"}, {"b", "#"}}));
    EXPECT_EQ(parse_form(""), P{});
    EXPECT_EQ(parse_form("novalue&k=%zz&%41=%4"), (P{{"k", "%zz"}, {"A", "%4"}}));
}

TEST(StatsPageHtml, Escape) {
    std::string out;
    html_escape(out, "<a href=\"x\">&'</a>");
    EXPECT_EQ(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace sluice::stats
