// balance roundrobin as h2o tests its balancers: a backend of fake servers (no sockets), picks
// counted over whole cycles, state changed between picks. Exact shares with weights, smooth
// interleaving, servers skipped when down, in maintenance, weight 0 or full, `avoid` (redispatch),
// and backups.
#include "sluice/lb/roundrobin.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/lb/algorithm.hpp"
#include "sluice/lb/balance.hpp"

namespace sluice::lb {
namespace {

using Order = std::vector<std::uint32_t>;

class RoundRobinTest : public ::testing::Test {
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
        s->backend = &backend_;
        return *backend_.servers[backend_.servers.append(s)];
    }
    // Builds the balancer from the servers added so far (the schedule is fixed at construction).
    proxy::Balancer& balancer() {
        if (!rr_) rr_ = make_balancer(backend_, "roundrobin", BalanceConf{}, HashType{});
        return *rr_;
    }
    // Picks and gives the slot back at once, as a connection that ends before the next pick.
    std::string pick_name(const proxy::Server* avoid = nullptr) {
        const proxy::Pick p = balancer().pick(avoid);
        if (!p.server) return p.all_full ? "<full>" : "<none>";
        p.server->release();
        return p.server->name;
    }
    std::vector<std::string> picks(int n) {
        std::vector<std::string> out;
        for (int i = 0; i < n; ++i)
            out.push_back(pick_name());
        return out;
    }
    std::map<std::string, int> counts(int n) {
        std::map<std::string, int> out;
        for (const std::string& name : picks(n))
            ++out[name];
        return out;
    }

    proxy::Backend backend_;
    std::unique_ptr<proxy::Balancer> rr_;
};

// --- smooth_schedule ---------------------------------------------------------------------------

TEST(SmoothSchedule, VisitsEachIndexAsOftenAsItsWeight) {
    const std::vector<std::uint32_t> weights = {5, 1, 0, 3, 7, 1};
    const Order order = smooth_schedule(weights);
    ASSERT_EQ(order.size(), 17u);
    std::vector<std::uint32_t> seen(weights.size(), 0);
    for (std::uint32_t i : order) {
        ASSERT_LT(i, weights.size());
        ++seen[i];
    }
    EXPECT_EQ(seen, weights);
}

TEST(SmoothSchedule, InterleavesInsteadOfBursting) {
    // The smooth weighted round robin of nginx: the heavy server is spread over the cycle.
    EXPECT_EQ(smooth_schedule({1, 3}), (Order{1, 0, 1, 1}));
    EXPECT_EQ(smooth_schedule({5, 1, 1}), (Order{0, 0, 1, 0, 2, 0, 0}));
    EXPECT_EQ(smooth_schedule({2, 2}), (Order{0, 1, 0, 1}));
    EXPECT_EQ(smooth_schedule({1, 1, 1}), (Order{0, 1, 2}));
}

TEST(SmoothSchedule, HeavyServerNeverRunsLongerThanItsShareAllows) {
    // With weight w out of a total W, the others split a cycle into W - w + 1 gaps: a burst
    // schedule would give a run of w, the smooth one stays within one of the even spread,
    // ceil(w / (W - w)) + 1 picks in a row. Checked on a few uneven sets.
    for (const std::vector<std::uint32_t>& weights : std::vector<std::vector<std::uint32_t>>{
             {1, 9}, {2, 3, 5}, {1, 1, 30}, {256, 1}, {10, 1, 1}}) {
        const Order order = smooth_schedule(weights);
        std::uint32_t total = 0;
        for (std::uint32_t w : weights)
            total += w;
        for (std::size_t s = 0; s < weights.size(); ++s) {
            const std::uint32_t others = total - weights[s];
            const std::uint32_t limit = (weights[s] + others - 1) / others + 1;
            std::uint32_t run = 0, longest = 0;
            for (std::uint32_t picked : order) {
                run = picked == s ? run + 1 : 0;
                longest = std::max(longest, run);
            }
            EXPECT_LE(longest, limit)
                << "server " << s << " of " << ::testing::PrintToString(weights);
        }
    }
}

TEST(SmoothSchedule, ZeroWeightsAndEmptyInputGiveNothing) {
    EXPECT_EQ(smooth_schedule({}), Order{});
    EXPECT_EQ(smooth_schedule({0, 0}), Order{});
    EXPECT_EQ(smooth_schedule({0, 1}), (Order{1}));
    EXPECT_EQ(smooth_schedule({3, 0, 1}), (Order{0, 0, 2, 0}));
}

// --- picking -----------------------------------------------------------------------------------

TEST_F(RoundRobinTest, EqualWeightsAlternate) {
    add("a");
    add("b");
    add("c");
    EXPECT_EQ(picks(6), (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST_F(RoundRobinTest, WeightsOneAndThreeGiveOneToThreeEachCycle) {
    add("light", 1);
    add("heavy", 3);
    EXPECT_EQ(picks(4), (std::vector<std::string>{"heavy", "light", "heavy", "heavy"}));
    EXPECT_EQ(counts(400), (std::map<std::string, int>{{"heavy", 300}, {"light", 100}}));
}

TEST_F(RoundRobinTest, PickReservesASlotUntilReleased) {
    proxy::Server& a = add("a");
    const proxy::Pick p = balancer().pick(nullptr);
    ASSERT_EQ(p.server, &a);
    EXPECT_FALSE(p.all_full);
    EXPECT_EQ(a.cur_conns.load(), 1u);
    a.release();
    EXPECT_EQ(a.cur_conns.load(), 0u);
}

TEST_F(RoundRobinTest, WeightZeroIsNeverPicked) {
    add("zero", 0);
    add("one", 1);
    EXPECT_EQ(counts(10), (std::map<std::string, int>{{"one", 10}}));
}

TEST_F(RoundRobinTest, OnlyWeightZeroServersGiveNoServer) {
    add("zero", 0);
    const proxy::Pick p = balancer().pick(nullptr);
    EXPECT_EQ(p.server, nullptr);
    EXPECT_FALSE(p.all_full);
}

TEST_F(RoundRobinTest, NoServerAtAllGivesNoServer) {
    const proxy::Pick p = balancer().pick(nullptr);
    EXPECT_EQ(p.server, nullptr);
    EXPECT_FALSE(p.all_full);
}

TEST_F(RoundRobinTest, ServersInMaintenanceOrDownAreSkipped) {
    add("a");
    proxy::Server& b = add("b");
    proxy::Server& c = add("c");
    b.admin.store(proxy::AdminState::Maint);
    c.up.store(false);
    EXPECT_EQ(counts(6), (std::map<std::string, int>{{"a", 6}}));
    // Back in service: picked again on the next cycle, with no rebuild.
    b.admin.store(proxy::AdminState::Ready);
    c.up.store(true);
    EXPECT_EQ(counts(6), (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}}));
}

TEST_F(RoundRobinTest, EveryActiveServerDownGivesNoServer) {
    add("a").up.store(false);
    add("b").admin.store(proxy::AdminState::Maint);
    const proxy::Pick p = balancer().pick(nullptr);
    EXPECT_EQ(p.server, nullptr);
    EXPECT_FALSE(p.all_full);
}

TEST_F(RoundRobinTest, RemainingServersShareADownServersTrafficEvenly) {
    // HAProxy takes a down server out of its tree, so a and c get half each; the shared position
    // moves past skipped entries to give the same shares (not 1/3 and 2/3 to b's successor).
    add("a");
    add("b").up.store(false);
    add("c");
    EXPECT_EQ(counts(60), (std::map<std::string, int>{{"a", 30}, {"c", 30}}));
}

TEST_F(RoundRobinTest, ConsecutiveDownServersAreSharedEvenlyToo) {
    add("a");
    add("b").up.store(false);
    add("c").admin.store(proxy::AdminState::Maint);
    add("d");
    add("e");
    EXPECT_EQ(counts(60), (std::map<std::string, int>{{"a", 20}, {"d", 20}, {"e", 20}}));
}

TEST_F(RoundRobinTest, AvoidIsSkippedWhenAnotherServerIsUsable) {
    proxy::Server& a = add("a");
    add("b");
    add("c");
    for (int i = 0; i < 6; ++i)
        EXPECT_NE(pick_name(&a), "a");
}

TEST_F(RoundRobinTest, AvoidIsReturnedWhenItIsTheOnlyUsableServer) {
    proxy::Server& a = add("a");
    add("b").up.store(false);
    EXPECT_EQ(pick_name(&a), "a");
    EXPECT_EQ(pick_name(&a), "a");
}

TEST_F(RoundRobinTest, AvoidThatIsFullIsReportedFull) {
    proxy::Server& a = add("a", 1, false, 1);
    ASSERT_TRUE(a.try_reserve());
    const proxy::Pick p = balancer().pick(&a);
    EXPECT_EQ(p.server, nullptr);
    EXPECT_TRUE(p.all_full);
}

TEST_F(RoundRobinTest, BackupsServeOnlyWhenNoActiveServerIsUsable) {
    proxy::Server& a = add("a");
    add("spare", 1, true);
    EXPECT_EQ(counts(4), (std::map<std::string, int>{{"a", 4}}));
    a.up.store(false);
    EXPECT_EQ(counts(4), (std::map<std::string, int>{{"spare", 4}}));
}

TEST_F(RoundRobinTest, OnlyTheFirstUsableBackupServes) {
    // HAProxy without `option allbackups`: the first backup takes all the traffic.
    add("a").admin.store(proxy::AdminState::Maint);
    proxy::Server& first = add("first", 1, true);
    add("second", 1, true);
    add("third", 1, true);
    EXPECT_EQ(counts(6), (std::map<std::string, int>{{"first", 6}}));
    first.up.store(false);
    EXPECT_EQ(counts(6), (std::map<std::string, int>{{"second", 6}}));
}

TEST_F(RoundRobinTest, BackupWithWeightZeroIsSkipped) {
    add("a").up.store(false);
    add("zero", 0, true);
    add("next", 1, true);
    EXPECT_EQ(pick_name(), "next");
}

TEST_F(RoundRobinTest, FullFirstBackupMeansQueueNotTheNextBackup) {
    add("a").up.store(false);
    proxy::Server& first = add("first", 1, true, 1);
    add("second", 1, true);
    ASSERT_TRUE(first.try_reserve());
    const proxy::Pick p = balancer().pick(nullptr);
    EXPECT_EQ(p.server, nullptr);
    EXPECT_TRUE(p.all_full);
}

TEST_F(RoundRobinTest, BackupsAreNotUsedWhileActiveServersAreMerelyFull) {
    proxy::Server& a = add("a", 1, false, 1);
    add("spare", 1, true);
    ASSERT_TRUE(a.try_reserve());
    const proxy::Pick p = balancer().pick(nullptr);
    EXPECT_EQ(p.server, nullptr);
    EXPECT_TRUE(p.all_full);  // the stream queues for `a`
}

TEST_F(RoundRobinTest, FullServersAreSkipped) {
    proxy::Server& a = add("a", 1, false, 2);
    add("b");
    ASSERT_TRUE(a.try_reserve());
    ASSERT_TRUE(a.try_reserve());
    EXPECT_FALSE(a.try_reserve());
    EXPECT_EQ(counts(4), (std::map<std::string, int>{{"b", 4}}));
    a.release();
    EXPECT_EQ(counts(4), (std::map<std::string, int>{{"a", 2}, {"b", 2}}));
}

TEST_F(RoundRobinTest, AllFullIsReportedWhenEveryUsableServerIsAtMaxconn) {
    proxy::Server& a = add("a", 1, false, 1);
    proxy::Server& b = add("b", 1, false, 1);
    add("down", 1, false, 0).up.store(false);
    ASSERT_TRUE(a.try_reserve());
    ASSERT_TRUE(b.try_reserve());
    const proxy::Pick p = balancer().pick(nullptr);
    EXPECT_EQ(p.server, nullptr);
    EXPECT_TRUE(p.all_full);
    EXPECT_EQ(a.cur_conns.load(), 1u);  // a failed pick takes no slot
    EXPECT_EQ(b.cur_conns.load(), 1u);
}

TEST_F(RoundRobinTest, PickWithAServerIsNotMarkedFull) {
    // runtime.hpp: all_full means no slot was found; meeting a full server on the way to a free
    // one does not count.
    proxy::Server& a = add("a", 1, false, 1);
    add("b");
    ASSERT_TRUE(a.try_reserve());
    const proxy::Pick p = balancer().pick(nullptr);  // the position starts on `a`
    ASSERT_NE(p.server, nullptr);
    EXPECT_EQ(p.server->name, "b");
    EXPECT_FALSE(p.all_full);
}

TEST_F(RoundRobinTest, ScheduleIsSharedAcrossPickersInOrder) {
    // One atomic position: interleaved callers (threads) together follow one cycle exactly.
    add("a", 2);
    add("b", 1);
    proxy::Balancer& rr = balancer();
    std::map<std::string, int> seen;
    for (int i = 0; i < 30; ++i) {
        proxy::Pick p = rr.pick(nullptr);
        ASSERT_NE(p.server, nullptr);
        ++seen[p.server->name];
        p.server->release();
    }
    EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 20}, {"b", 10}}));
}

// --- registry ----------------------------------------------------------------------------------

TEST(LbRegistry, InstallGivesEveryBackendARoundRobinBalancer) {
    proxy::Config config;
    proxy::ProxyConf conf;  // balance "roundrobin" by default
    proxy::ProxyConf unknown;
    unknown.balance = "not-registered";  // falls back to roundrobin
    for (const proxy::ProxyConf* c : {&conf, &unknown}) {
        auto be = std::make_unique<proxy::Backend>();
        be->conf = c;
        auto s = std::make_unique<proxy::Server>();
        s->name = "s";
        s->backend = be.get();
        be->servers.append(s);
        config.backends.push_back(std::move(be));
    }
    install(config);
    for (const auto& be : config.backends) {
        ASSERT_TRUE(be->has_balancer());
        const proxy::Pick p = be->balancer().pick(nullptr);
        ASSERT_NE(p.server, nullptr);
        EXPECT_EQ(p.server->name, "s");
    }
}

TEST(LbRegistry, AlgorithmsAreFoundByName) {
    const AlgorithmDef* rr = find_algorithm("roundrobin");
    ASSERT_NE(rr, nullptr);
    EXPECT_NE(rr->make, nullptr);
    EXPECT_TRUE(rr->pending.empty());
    for (std::string_view name : {"static-rr", "leastconn", "first", "source", "uri", "url_param",
                                  "hdr", "random", "rdp-cookie", "hash"}) {
        const AlgorithmDef* def = find_algorithm(name);
        ASSERT_NE(def, nullptr) << name;
        EXPECT_NE(def->make, nullptr) << name;
        EXPECT_TRUE(def->pending.empty()) << name;
    }
    EXPECT_EQ(find_algorithm("nope"), nullptr);
}

}  // namespace
}  // namespace sluice::lb
