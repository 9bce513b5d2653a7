// ThreadCache: blocks are reused on the same thread, the cache is bounded, and objects of
// another size bypass it.
#include "sluice/core/thread_cache.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sluice::core {
namespace {

struct Cached {
    char payload[200];
    static void* operator new(std::size_t size) { return ThreadCache<Cached>::allocate(size); }
    static void operator delete(void* p, std::size_t size) {
        ThreadCache<Cached>::deallocate(p, size);
    }
};

TEST(ThreadCache, ReusesTheLastFreedBlock) {
    auto* a = new Cached;
    void* const address = a;
    delete a;
    EXPECT_EQ(ThreadCache<Cached>::cached(), 1u);
    auto* b = new Cached;
    EXPECT_EQ(static_cast<void*>(b), address);
    EXPECT_EQ(ThreadCache<Cached>::cached(), 0u);
    delete b;
}

TEST(ThreadCache, KeepsAtMostItsBound) {
    std::vector<Cached*> many;
    for (int i = 0; i < 5000; ++i)
        many.push_back(new Cached);
    for (Cached* c : many)
        delete c;
    EXPECT_EQ(ThreadCache<Cached>::cached(), 4096u);
}

TEST(ThreadCache, EachThreadHasItsOwnBlocks) {
    delete new Cached;  // at least one block cached here
    const std::size_t here = ThreadCache<Cached>::cached();
    std::size_t there = 99;
    std::thread([&] { there = ThreadCache<Cached>::cached(); }).join();
    EXPECT_GE(here, 1u);
    EXPECT_EQ(there, 0u);
}

TEST(ThreadCache, OtherSizesBypassTheCache) {
    const std::size_t before = ThreadCache<Cached>::cached();
    void* p = ThreadCache<Cached>::allocate(sizeof(Cached) + 8);
    ThreadCache<Cached>::deallocate(p, sizeof(Cached) + 8);
    EXPECT_EQ(ThreadCache<Cached>::cached(), before);
}

}  // namespace
}  // namespace sluice::core
