// proxy::ServerList: stable indexes across chunks, removal leaving an empty slot, iterations
// that skip removed servers and ignore servers appended after they began.
#include "sluice/proxy/server_list.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sluice/proxy/runtime.hpp"

namespace sluice::proxy {
namespace {

std::unique_ptr<Server> named(std::string name) {
    auto s = std::make_unique<Server>();
    s->name = std::move(name);
    return s;
}

std::vector<std::string> names(const ServerList& list) {
    std::vector<std::string> out;
    for (Server* s : list)
        out.push_back(s->name);
    return out;
}

TEST(ServerList, AppendsAcrossChunksWithStableIndexes) {
    ServerList list;
    EXPECT_TRUE(list.empty());
    std::vector<Server*> added;
    for (int i = 0; i < 100; ++i) {  // chunks of 16, 32, 64 slots
        auto s = named(fmt::format("s{}", i));
        Server* raw = s.get();
        const std::uint32_t index = list.append(s);
        EXPECT_EQ(index, static_cast<std::uint32_t>(i));
        EXPECT_EQ(raw->index, index);
        EXPECT_EQ(s, nullptr);  // the list owns it now
        added.push_back(raw);
    }
    EXPECT_EQ(list.size(), 100u);
    EXPECT_EQ(list.slots(), 100u);
    for (std::uint32_t i = 0; i < 100; ++i)
        EXPECT_EQ(list[i], added[i]);
    EXPECT_EQ(list.find("s47"), added[47]);
    EXPECT_EQ(list.find("nope"), nullptr);
}

TEST(ServerList, RemovalLeavesAnEmptySlotForGood) {
    ServerList list;
    for (const char* n : {"a", "b", "c"}) {
        auto s = named(n);
        list.append(s);
    }
    std::unique_ptr<Server> b = list.remove(*list.find("b"));
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->name, "b");
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ(list.slots(), 3u);
    EXPECT_EQ(list[1], nullptr);
    EXPECT_EQ(names(list), (std::vector<std::string>{"a", "c"}));
    auto d = named("d");
    EXPECT_EQ(list.append(d), 3u);  // indexes are never reused
    EXPECT_EQ(names(list), (std::vector<std::string>{"a", "c", "d"}));
    EXPECT_EQ(list.remove(*b), nullptr);  // not there any more
}

TEST(ServerList, AnIterationEndsWhereTheListEndedWhenItBegan) {
    ServerList list;
    auto a = named("a");
    list.append(a);
    std::vector<std::string> seen;
    for (Server* s : list) {
        seen.push_back(s->name);
        if (seen.size() == 1) {
            auto late = named("late");
            list.append(late);
        }
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"a"}));
    EXPECT_EQ(names(list), (std::vector<std::string>{"a", "late"}));
}

TEST(ServerList, EmptyListsIterateNothing) {
    ServerList list;
    EXPECT_TRUE(names(list).empty());
    auto a = named("a");
    list.append(a);
    (void)list.remove(*list.find("a"));
    EXPECT_TRUE(names(list).empty());
    EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace sluice::proxy
