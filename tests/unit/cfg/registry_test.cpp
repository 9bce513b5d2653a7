// The registries' contents: golden lists of every config keyword, bind/server option and balance
// algorithm name, so that a module whose registrar is dropped (or a table line deleted by
// mistake) fails here loudly instead of turning a user's keyword into "unknown keyword". When you
// add or remove a keyword on purpose, update the list in the same change. Also the registry's
// own rules: lookup preference, table invariants, duplicate registration.
#include "sluice/cfg/keyword.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/options.hpp"
#include "sluice/lb/algorithm.hpp"

namespace sluice::cfg {
namespace {

using Names = std::vector<std::string>;

template <class Range>
Names sorted(const Range& names) {
    Names out;
    for (const auto& n : names)
        out.emplace_back(n);
    std::sort(out.begin(), out.end());
    return out;
}

Names keyword_names() {
    Names out;
    for (const Keyword* kw : Registry::instance().all())
        out.emplace_back(kw->name);
    std::sort(out.begin(), out.end());
    return out;
}

// A name twice means two tables own it for different sections (e.g. global and proxy maxconn).
const Names kKeywords = {
    "acl",
    "backlog",
    "balance",
    "bind",
    "ca-base",
    "capture cookie",
    "capture request",
    "capture response",
    "chroot",
    "clitimeout",
    "compression",
    "contimeout",
    "cookie",
    "cpu-map",
    "crt-base",
    "daemon",
    "declare capture",
    "default-server",
    "default_backend",
    "description",
    "description",
    "disabled",
    "email-alert",
    "enabled",
    "error-log-format",
    "errorfile",
    "errorfiles",
    "expose-experimental-directives",
    "external-check",
    "external-check",
    "filter",
    "fullconn",
    "gid",
    "group",
    "group",
    "hard-stop-after",
    "hash-balance-factor",
    "hash-type",
    "http-after-response",
    "http-check",
    "http-error",
    "http-request",
    "http-response",
    "http-reuse",
    "http-send-name-header",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "load-server-state-from-file",
    "log",
    "log-format",
    "log-format-sd",
    "log-send-hostname",
    "log-tag",
    "lua-load",
    "lua-prepend-path",
    "mailer",
    "master-worker",
    "maxconn",
    "maxconn",
    "maxconnrate",
    "maxsessrate",
    "mode",
    "monitor",
    "monitor-uri",
    "mworker-max-reloads",
    "nbproc",
    "nbthread",
    "node",
    "option accept-invalid-http-request",
    "option accept-invalid-http-response",
    "option allbackups",
    "option clitcpka",
    "option contstats",
    "option dontlog-normal",
    "option dontlognull",
    "option external-check",
    "option forwardfor",
    "option http-buffer-request",
    "option http-ignore-probes",
    "option http-keep-alive",
    "option http-pretend-keepalive",
    "option http-server-close",
    "option httpchk",
    "option httpclose",
    "option httplog",
    "option httpslog",
    "option ldap-check",
    "option log-health-checks",
    "option log-separate-errors",
    "option logasap",
    "option mysql-check",
    "option nolinger",
    "option originalto",
    "option persist",
    "option pgsql-check",
    "option redis-check",
    "option redispatch",
    "option smtpchk",
    "option splice-auto",
    "option splice-request",
    "option splice-response",
    "option srvtcpka",
    "option ssl-hello-chk",
    "option tcp-check",
    "option tcpka",
    "option tcplog",
    "persist",
    "pidfile",
    "redirect",
    "redispatch",
    "retries",
    "retry-on",
    "server",
    "server-state-base",
    "server-state-file",
    "server-state-file-name",
    "set-var",
    "set-var-fmt",
    "spread-checks",
    "srvtimeout",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-curves",
    "ssl-default-bind-options",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-options",
    "ssl-dh-param-file",
    "ssl-server-verify",
    "stats",
    "stats",
    "stick",
    "stick-table",
    "tcp-check",
    "tcp-request",
    "tcp-response",
    "timeout check",
    "timeout client",
    "timeout client-fin",
    "timeout clitimeout",
    "timeout connect",
    "timeout contimeout",
    "timeout http-keep-alive",
    "timeout http-request",
    "timeout mail",
    "timeout queue",
    "timeout server",
    "timeout server-fin",
    "timeout srvtimeout",
    "timeout tarpit",
    "timeout tunnel",
    "tune.bufsize",
    "tune.comp.maxlevel",
    "tune.h2.initial-window-size",
    "tune.h2.max-concurrent-streams",
    "tune.maxrewrite",
    "tune.ssl.cachesize",
    "tune.ssl.default-dh-param",
    "tune.ssl.lifetime",
    "uid",
    "ulimit-n",
    "unique-id-format",
    "unique-id-header",
    "use-server",
    "use_backend",
    "user",
    "user",
};

const Names kBindOptions = {
    "accept-proxy",
    "alpn",
    "backlog",
    "ca-file",
    "ciphers",
    "ciphersuites",
    "crt",
    "crt-list",
    "defer-accept",
    "expose-fd",
    "gid",
    "group",
    "interface",
    "level",
    "maxconn",
    "mode",
    "mss",
    "name",
    "no-tls-tickets",
    "npn",
    "process",
    "proto",
    "ssl",
    "ssl-max-ver",
    "ssl-min-ver",
    "strict-sni",
    "tfo",
    "thread",
    "uid",
    "user",
    "v4v6",
    "v6only",
    "verify",
};

const Names kServerOptions = {
    "addr",
    "agent-addr",
    "agent-check",
    "agent-inter",
    "agent-port",
    "agent-send",
    "alpn",
    "backup",
    "ca-file",
    "check",
    "check-send-proxy",
    "cookie",
    "crt",
    "disabled",
    "downinter",
    "enabled",
    "error-limit",
    "fall",
    "fastinter",
    "id",
    "init-addr",
    "init-state",
    "inter",
    "maxconn",
    "maxqueue",
    "minconn",
    "no-agent-check",
    "no-backup",
    "no-check",
    "no-check-send-proxy",
    "no-send-proxy",
    "no-send-proxy-v2",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "redir",
    "resolvers",
    "rise",
    "send-proxy",
    "send-proxy-v2",
    "slowstart",
    "sni",
    "socks4",
    "ssl",
    "track",
    "verify",
    "weight",
};

const Names kAlgorithms = {
    "first",      "hash",   "hdr",       "leastconn", "random",    "rdp-cookie",
    "roundrobin", "source", "static-rr", "uri",       "url_param",
};

TEST(RegistryGolden, EveryKeywordIsRegistered) {
    EXPECT_EQ(keyword_names(), kKeywords);
}

TEST(RegistryGolden, EveryBindOptionIsRegistered) {
    EXPECT_EQ(sorted(option_names(OptionOf::Bind)), kBindOptions);
}

TEST(RegistryGolden, EveryServerOptionIsRegistered) {
    EXPECT_EQ(sorted(option_names(OptionOf::Server)), kServerOptions);
}

TEST(RegistryGolden, EveryBalanceAlgorithmIsRegistered) {
    EXPECT_EQ(sorted(lb::algorithm_names()), kAlgorithms);
}

// --- invariants of the tables ------------------------------------------------------------------

TEST(RegistryTables, EveryKeywordParsesAliasesOrIsPending) {
    for (const Keyword* kw : Registry::instance().all()) {
        const int ways = (kw->parse != nullptr) + !kw->alias_of.empty() + !kw->pending.empty();
        EXPECT_EQ(ways, 1) << kw->name;
        EXPECT_NE(kw->in, In::None) << kw->name;
        EXPECT_LE(kw->arity.min, kw->arity.max) << kw->name;
    }
}

TEST(RegistryTables, PendingKeywordsTakeAnyArgumentsAndNameAnIssue) {
    for (const Keyword* kw : Registry::instance().all()) {
        if (kw->pending.empty()) continue;
        EXPECT_EQ(kw->arity.min, 0) << kw->name;
        EXPECT_EQ(kw->arity.max, 255) << kw->name;
        const bool names_it = kw->pending.find("(issue #") != std::string_view::npos ||
                              kw->pending.find("(roadmap item ") != std::string_view::npos;
        EXPECT_TRUE(names_it) << kw->name << ": " << kw->pending;
    }
}

TEST(RegistryTables, AliasTargetsExistWhereverTheAliasIsAllowed) {
    const Registry& r = Registry::instance();
    for (const Keyword* kw : r.all()) {
        if (kw->alias_of.empty()) continue;
        EXPECT_FALSE(kw->deprecation.empty()) << kw->name << " must say why it is obsolete";
        for (SectionKind kind : {SectionKind::Global, SectionKind::Defaults, SectionKind::Frontend,
                                 SectionKind::Backend, SectionKind::Listen}) {
            if (!any(kw->in, capabilities(kind))) continue;
            const Keyword* target = r.find(kw->alias_of, kind);
            ASSERT_NE(target, nullptr) << kw->name << " -> " << kw->alias_of;
            EXPECT_TRUE(any(target->in, capabilities(kind)))
                << kw->name << " -> " << kw->alias_of << " in " << section_name(kind);
            EXPECT_TRUE(target->alias_of.empty()) << "alias of an alias: " << kw->name;
        }
    }
}

TEST(RegistryTables, SameNameKeywordsCoverDisjointSections) {
    const auto all = Registry::instance().all();
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = i + 1; j < all.size(); ++j) {
            if (all[i]->name == all[j]->name) {
                EXPECT_FALSE(any(all[i]->in, all[j]->in)) << all[i]->name;
            }
        }
    }
}

TEST(RegistryTables, TwoWordNamesBelongToAFamily) {
    // The reader's "did you mean" groups `option x`, `timeout x` and the other families below
    // (any first word that starts a two-word name); a new family needs a look at that code.
    for (const Keyword* kw : Registry::instance().all()) {
        const std::string_view name = kw->name;
        const std::size_t space = name.find(' ');
        if (space == std::string_view::npos) continue;
        EXPECT_EQ(name.find(' ', space + 1), std::string_view::npos) << name;
        const std::string_view family = name.substr(0, space);
        EXPECT_TRUE(family == "option" || family == "timeout" || family == "capture" ||
                    family == "declare")
            << name;
    }
}

TEST(RegistryTables, OptionNamesAreUniquePerKind) {
    for (OptionOf of : {OptionOf::Bind, OptionOf::Server}) {
        const auto names = option_names(of);
        const std::set<std::string_view> unique(names.begin(), names.end());
        EXPECT_EQ(unique.size(), names.size());
    }
}

// --- lookup ------------------------------------------------------------------------------------

TEST(RegistryLookup, PrefersTheKeywordAllowedInTheSection) {
    const Registry& r = Registry::instance();
    const Keyword* in_global = r.find(std::string_view("maxconn"), SectionKind::Global);
    const Keyword* in_frontend = r.find(std::string_view("maxconn"), SectionKind::Frontend);
    ASSERT_NE(in_global, nullptr);
    ASSERT_NE(in_frontend, nullptr);
    EXPECT_NE(in_global, in_frontend);
    EXPECT_TRUE(any(in_global->in, In::Global));
    EXPECT_TRUE(any(in_frontend->in, In::Frontend));
    EXPECT_EQ(r.find(std::string_view("maxconn"), SectionKind::Defaults), in_frontend);
    EXPECT_EQ(r.find(std::string_view("maxconn"), SectionKind::Listen), in_frontend);
}

TEST(RegistryLookup, TwoWordNamesComeFirst) {
    const Registry& r = Registry::instance();
    const std::vector<std::string> words = {"timeout", "connect", "5s"};
    const Keyword* kw = r.find(words, SectionKind::Backend);
    ASSERT_NE(kw, nullptr);
    EXPECT_EQ(kw->name, "timeout connect");
    const std::vector<std::string> server = {"server", "s1", "1.2.3.4:80"};
    ASSERT_NE(r.find(server, SectionKind::Backend), nullptr);
    EXPECT_EQ(r.find(server, SectionKind::Backend)->name, "server");
    EXPECT_EQ(r.find(std::vector<std::string>{}, SectionKind::Backend), nullptr);
    EXPECT_EQ(r.find(std::string_view("no-such-keyword"), SectionKind::Backend), nullptr);
}

TEST(RegistryLookup, KeywordOnlyAllowedElsewhereIsStillFound) {
    const Keyword* kw = Registry::instance().find(std::string_view("bind"), SectionKind::Backend);
    ASSERT_NE(kw, nullptr);
    EXPECT_EQ(kw->name, "bind");
    EXPECT_FALSE(any(kw->in, In::Backend));
}

constexpr Keyword kGlobalOnly[] = {
    {.name = "limit", .in = In::Global, .arity = exactly(1), .parse = nullptr}};
constexpr Keyword kFrontendOnly[] = {
    {.name = "limit", .in = kFrontendSide, .arity = exactly(1), .parse = nullptr}};

TEST(RegistryLookup, FallbackPrefersAProxyKeywordInAProxySection) {
    // Whichever order the tables registered in: in a backend, the frontend-side keyword is
    // meant (warning "ignored: a backend has no frontend capability"), not the global one
    // (fatal "allowed only in the 'global' section").
    Registry r;  // a private registry: the global one is not touched
    r.add(kGlobalOnly);
    r.add(kFrontendOnly);
    EXPECT_EQ(r.find(std::string_view("limit"), SectionKind::Backend), &kFrontendOnly[0]);
    EXPECT_EQ(r.find(std::string_view("limit"), SectionKind::Defaults), &kFrontendOnly[0]);
    Registry reversed;
    reversed.add(kFrontendOnly);
    reversed.add(kGlobalOnly);
    EXPECT_EQ(reversed.find(std::string_view("limit"), SectionKind::Backend), &kFrontendOnly[0]);
}

TEST(RegistryLookup, KeywordThatFitsTheSectionWinsOverTheFamilyFallback) {
    Registry r;
    r.add(kFrontendOnly);
    r.add(kGlobalOnly);
    EXPECT_EQ(r.find(std::string_view("limit"), SectionKind::Global), &kGlobalOnly[0]);
    EXPECT_EQ(r.find(std::string_view("limit"), SectionKind::Frontend), &kFrontendOnly[0]);
}

TEST(RegistryLookupDeathTest, SameNameInOverlappingSectionsAborts) {
    EXPECT_DEATH(
        {
            Registry r;
            r.add(kFrontendOnly);
            r.add(kFrontendOnly);
        },
        "keyword 'limit' registered twice");
}

constexpr Option kDuplicateWeight[] = {
    {.of = OptionOf::Server, .name = "weight", .args = 1, .pending = "a test"}};

TEST(RegistryLookupDeathTest, OptionRegisteredTwiceAborts) {
    // As for keywords: when a pending option of src/cfg/kw_pending.cpp is implemented and its
    // pending line forgotten, the first registration would shadow the real option for ever.
    EXPECT_DEATH({ const OptionRegistrar r{kDuplicateWeight}; },
                 "server option 'weight' registered twice");
}

}  // namespace
}  // namespace sluice::cfg
