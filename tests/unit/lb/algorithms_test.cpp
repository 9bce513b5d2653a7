// The algorithms other than round robin, on fake servers (no sockets): hash tables (map-based
// and consistent), key extraction helpers, leastconn's order, first, random, backups tiers.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "sluice/lb/balance.hpp"
#include "sluice/lb/keys.hpp"

namespace sluice::lb {
namespace {

class Farm : public ::testing::Test {
  protected:
    proxy::Server& add(const std::string& name, std::uint32_t weight = 1, bool backup = false,
                       std::uint32_t maxconn = 0) {
        auto s = std::make_unique<proxy::Server>();
        s->name = name;
        s->options.weight = weight;
        s->weight.store(weight);
        s->options.backup = backup;
        s->options.maxconn = maxconn;
        s->maxconn.store(maxconn);
        s->puid = backend_.servers.slots() + 1;
        s->backend = &backend_;
        return *backend_.servers[backend_.servers.append(s)];
    }
    proxy::Balancer& make(std::string_view algorithm, HashType ht = {}, BalanceConf bc = {}) {
        balancer_ = make_balancer(backend_, algorithm, bc, ht);
        return *balancer_;
    }
    // Picks for `hash` and gives the slot back.
    std::string pick_hash(std::uint32_t hash, const proxy::Server* avoid = nullptr) {
        const proxy::Pick p = balancer_->pick(proxy::PickRequest{avoid, true, hash});
        if (!p.server) return p.all_full ? "<full>" : "<none>";
        p.server->release();
        return p.server->name;
    }
    std::string pick_any() {
        const proxy::Pick p = balancer_->pick(nullptr);
        if (!p.server) return p.all_full ? "<full>" : "<none>";
        p.server->release();
        balancer_->load_changed(*p.server);
        return p.server->name;
    }
    proxy::Backend backend_;
    std::unique_ptr<proxy::Balancer> balancer_;
};

// --- hash functions ------------------------------------------------------------------------

std::uint32_t h(HashFunction fn, std::string_view text) {
    return hash_bytes(fn, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

TEST(HashFunctions, KnownValues) {
    EXPECT_EQ(h(HashFunction::Djb2, ""), 5381u);
    EXPECT_EQ(h(HashFunction::Djb2, "a"), 5381u * 33 + 'a');
    EXPECT_EQ(h(HashFunction::Sdbm, "a"), static_cast<std::uint32_t>('a'));
    EXPECT_EQ(h(HashFunction::Crc32, "123456789"), 0xCBF43926u);  // the CRC-32 check value
    EXPECT_EQ(h(HashFunction::None, std::string_view("\0\0\0\0\0\0\1\2", 8)), 0x102u);
    EXPECT_NE(h(HashFunction::Wt6, "a"), h(HashFunction::Wt6, "b"));
    EXPECT_NE(avalanche(1), avalanche(2));
}

// --- keys ----------------------------------------------------------------------------------

TEST(UriKey, OptionsCutTheTargetAsHaproxyDocuments) {
    BalanceConf c;
    EXPECT_EQ(uri_key("/a/b?x=1", c), "/a/b");
    c.uri_whole = true;
    EXPECT_EQ(uri_key("/a/b?x=1", c), "/a/b?x=1");
    c = {};
    c.uri_depth = 2;
    EXPECT_EQ(uri_key("/a/b/c/d", c), "/a/b");
    EXPECT_EQ(uri_key("/a", c), "/a");
    c = {};
    c.uri_len = 3;
    EXPECT_EQ(uri_key("/abcdef", c), "/ab");
    c = {};
    c.uri_path_only = true;
    EXPECT_EQ(uri_key("http://h.example:80/p/q?x", c), "/p/q");
    EXPECT_EQ(uri_key("/p/q?x", c), "/p/q");
    EXPECT_EQ(uri_key("http://h.example", c), "");
}

TEST(DomainOnly, KeepsTheLabelBeforeTheTopLevelDomain) {
    EXPECT_EQ(domain_only("haproxy.1wt.eu"), "1wt");
    EXPECT_EQ(domain_only("www.example.com:8080"), "example");
    EXPECT_EQ(domain_only("example.com"), "example");
    EXPECT_EQ(domain_only("localhost"), "localhost");
}

// --- hash tables ---------------------------------------------------------------------------

TEST_F(Farm, MapBasedIsStickyAndSpreadsByWeight) {
    add("a", 1);
    add("b", 3);
    make("source");
    std::map<std::string, int> seen;
    for (std::uint32_t k = 0; k < 4000; ++k) {
        const std::string first = pick_hash(k * 2654435761u);
        EXPECT_EQ(pick_hash(k * 2654435761u), first);
        ++seen[first];
    }
    EXPECT_EQ(seen["a"], 1000);  // hash % 4 over a smooth map of 4 entries
    EXPECT_EQ(seen["b"], 3000);
}

TEST_F(Farm, ConsistentRemovingAServerMovesOnlyItsKeys) {
    for (const char* name : {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"})
        add(name);
    HashType ht;
    ht.consistent = true;
    make("source", ht);
    std::map<std::uint32_t, std::string> before;
    for (std::uint32_t k = 0; k < 20000; ++k)
        before[k] = pick_hash(avalanche(k));
    proxy::Server& gone = *backend_.servers[3];
    gone.up.store(false);
    balancer_->server_changed(gone);
    int moved = 0;
    for (auto& [k, name] : before) {
        const std::string now = pick_hash(avalanche(k));
        if (now != name) {
            ++moved;
            EXPECT_EQ(name, "s3");
        }
        EXPECT_NE(now, "s3");
    }
    EXPECT_LT(moved, 20000 * (0.1 + 0.05));
    EXPECT_GT(moved, 20000 * (0.1 - 0.05));
}

TEST_F(Farm, HashAvoidAndFullServers) {
    add("a", 1, false, 1);
    add("b");
    make("source");
    const std::string first = pick_hash(7);
    EXPECT_NE(pick_hash(7, first == "a" ? &*backend_.servers[0] : &*backend_.servers[1]), first);
    // The key's server full: the request waits for it (all_full), it does not go elsewhere.
    proxy::Server& a = *backend_.servers[0];
    ASSERT_TRUE(a.try_reserve());
    for (std::uint32_t k = 0; k < 8; ++k) {
        const std::string name = pick_hash(k);
        EXPECT_TRUE(name == "b" || name == "<full>") << name;
    }
    a.release();
}

TEST_F(Farm, HashWithoutKeyIsRoundRobin) {
    add("a");
    add("b");
    make("uri");
    EXPECT_EQ(pick_any(), "a");
    EXPECT_EQ(pick_any(), "b");
    EXPECT_EQ(pick_any(), "a");
}

// --- leastconn and first -------------------------------------------------------------------

TEST_F(Farm, LeastConnPicksTheLeastLoadedAndRotatesAmongEquals) {
    proxy::Server& a = add("a");
    add("b");
    add("c");
    proxy::Balancer& lc = make("leastconn");
    // Equal loads take turns.
    EXPECT_EQ(pick_any(), "a");
    EXPECT_EQ(pick_any(), "b");
    EXPECT_EQ(pick_any(), "c");
    // Held connections: a has 2, b 1, c 0 -> c, then b or c.
    std::vector<proxy::Pick> held;
    for (int i = 0; i < 3; ++i)
        held.push_back(lc.pick(nullptr));
    std::map<std::string, int> load;
    for (auto& p : held)
        ++load[p.server->name];
    EXPECT_EQ(load, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}}));
    held[1].server->release();
    lc.load_changed(*held[1].server);
    const proxy::Pick p = lc.pick(nullptr);
    EXPECT_EQ(p.server, held[1].server);
    p.server->release();
    lc.load_changed(*p.server);
    (void)a;
}

TEST_F(Farm, LeastConnWeighsLoadByWeight) {
    add("light", 1);
    add("heavy", 3);
    proxy::Balancer& lc = make("leastconn");
    std::map<std::string, int> load;
    for (int i = 0; i < 8; ++i)
        ++load[lc.pick(nullptr).server->name];
    EXPECT_EQ(load, (std::map<std::string, int>{{"heavy", 6}, {"light", 2}}));
}

TEST_F(Farm, LeastConnSharesEvenlyBetweenIdleServersWhateverTheirWeights) {
    // HAProxy 2.6 ranks by connections / weight: idle servers tie, and take turns.
    add("light", 1);
    add("heavy", 3);
    make("leastconn");
    std::map<std::string, int> seen;
    for (int i = 0; i < 10; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"heavy", 5}, {"light", 5}}));
}

TEST_F(Farm, LeastConnSkipsDownAndFullServers) {
    add("a").up.store(false);
    add("b", 1, false, 1);
    add("c", 1, false, 1);
    proxy::Balancer& lc = make("leastconn");
    const proxy::Pick p1 = lc.pick(nullptr);
    const proxy::Pick p2 = lc.pick(nullptr);
    ASSERT_TRUE(p1.server && p2.server);
    EXPECT_NE(p1.server, p2.server);
    const proxy::Pick p3 = lc.pick(nullptr);
    EXPECT_EQ(p3.server, nullptr);
    EXPECT_TRUE(p3.all_full);
}

TEST_F(Farm, FirstFillsTheLowestIdFirst) {
    add("a", 1, false, 2).puid = 3;
    add("b", 1, false, 2).puid = 1;
    add("c", 1, false, 2).puid = 2;
    proxy::Balancer& f = make("first");
    std::vector<std::string> order;
    for (int i = 0; i < 7; ++i) {
        const proxy::Pick p = f.pick(nullptr);
        order.push_back(p.server ? p.server->name : p.all_full ? "<full>" : "<none>");
    }
    EXPECT_EQ(order, (std::vector<std::string>{"b", "b", "c", "c", "a", "a", "<full>"}));
}

TEST_F(Farm, RandomRespectsWeightsAndSkipsDownServers) {
    add("a", 1);
    add("b", 3);
    add("down", 5).up.store(false);
    BalanceConf bc;
    bc.draws = 1;
    make("random", {}, bc);
    std::map<std::string, int> seen;
    for (int i = 0; i < 8000; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen.count("down"), 0u);
    EXPECT_NEAR(seen["b"] / static_cast<double>(seen["a"]), 3.0, 0.6);
}

// --- tiers ---------------------------------------------------------------------------------

TEST_F(Farm, AllBackupsSpreadsOverEveryBackup) {
    add("act").up.store(false);
    add("bk1", 1, true);
    add("bk2", 1, true);
    BalanceConf bc;
    bc.all_backups = true;
    make("roundrobin", {}, bc);
    std::map<std::string, int> seen;
    for (int i = 0; i < 10; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"bk1", 5}, {"bk2", 5}}));
    make("roundrobin");
    seen.clear();
    for (int i = 0; i < 10; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"bk1", 10}}));
}

TEST_F(Farm, RoundRobinFollowsWeightChangesStaticRrDoesNot) {
    proxy::Server& a = add("a", 1);
    add("b", 1);
    make("roundrobin");
    a.weight.store(3);
    balancer_->server_changed(a);
    std::map<std::string, int> seen;
    for (int i = 0; i < 40; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 30}, {"b", 10}}));
    a.weight.store(1);
    make("static-rr");
    a.weight.store(3);
    balancer_->server_changed(a);
    seen.clear();
    for (int i = 0; i < 40; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 20}, {"b", 20}}));
}

TEST_F(Farm, DynamicMaxconnGrowsWithTheBackendLoad) {
    proxy::Server& s = add("s", 1, false, 100);
    s.options.minconn = 10;
    backend_.fullconn = 1000;
    EXPECT_EQ(s.limit(), 10u);
    backend_.cur_conns.store(500);
    EXPECT_EQ(s.limit(), 50u);
    backend_.cur_conns.store(5000);
    EXPECT_EQ(s.limit(), 100u);
    backend_.fullconn = 0;
    EXPECT_EQ(s.limit(), 100u);
}

// slowstart (HAProxy 2.6): a warming server weighs from 1/16 of its weight with the dynamic
// algorithms; map-based hashing keeps the configured weights; maxconn grows from 1.
TEST_F(Farm, WarmupScalesDynamicWeightsOnly) {
    proxy::Server& a = add("a", 1);
    add("b", 1);
    make("roundrobin");
    a.warmup.store(0);
    balancer_->server_changed(a);
    std::map<std::string, int> seen;
    for (int i = 0; i < 170; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 10}, {"b", 160}}));
    a.warmup.store(50);  // 1 + 16 * 50% = 9/16
    balancer_->server_changed(a);
    seen.clear();
    for (int i = 0; i < 250; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 90}, {"b", 160}}));
    a.warmup.store(100);
    balancer_->server_changed(a);
    seen.clear();
    for (int i = 0; i < 40; ++i)
        ++seen[pick_any()];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 20}, {"b", 20}}));

    a.warmup.store(0);
    make("source");  // map-based: static
    seen.clear();
    for (std::uint32_t k = 0; k < 4000; ++k)
        ++seen[pick_hash(k * 2654435761u)];
    EXPECT_EQ(seen["a"], 2000);
    HashType consistent;
    consistent.consistent = true;
    make("source", consistent);
    seen.clear();
    for (std::uint32_t k = 0; k < 4000; ++k)
        ++seen[pick_hash(k * 2654435761u)];
    EXPECT_LT(seen["a"], 600);  // about 1/17 of the keys
}

TEST_F(Farm, WarmupGrowsMaxconnFromOne) {
    proxy::Server& s = add("s", 1, false, 100);
    EXPECT_EQ(s.limit(), 100u);
    s.warmup.store(0);
    EXPECT_EQ(s.limit(), 1u);
    s.warmup.store(30);
    EXPECT_EQ(s.limit(), 30u);
    s.maxconn.store(0);
    EXPECT_EQ(s.limit(), 0u);  // no limit stays no limit
}

}  // namespace
}  // namespace sluice::lb
