// The Buffer/BufferPool contract of include/sluice/core/buffer.hpp: an empty default buffer holds
// no memory; take/commit/consume move the window; writable() compacts when the tail is full;
// release_if_empty() gives idle memory back; moves transfer the block; the pool reuses blocks,
// counts them and poisons released ones.
#include "sluice/core/buffer.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::core {
namespace {

constexpr std::size_t kBlock = 16;

// Writes `text` at the tail and commits it; fails the test if it does not fit.
void put(Buffer& b, std::string_view text) {
    std::span<std::byte> room = b.writable();
    ASSERT_GE(room.size(), text.size());
    std::memcpy(room.data(), text.data(), text.size());
    b.commit(text.size());
}

std::string contents(const Buffer& b) {
    const std::span<const std::byte> r = b.readable();
    return std::string(reinterpret_cast<const char*>(r.data()), r.size());
}

TEST(Buffer, DefaultHoldsNoMemory) {
    Buffer b;
    EXPECT_FALSE(b.holds_memory());
    EXPECT_TRUE(b.empty());
    EXPECT_FALSE(b.full());
    EXPECT_EQ(b.size(), 0u);
    EXPECT_TRUE(b.readable().empty());
    EXPECT_TRUE(b.writable().empty());
    b.release_if_empty();  // harmless without memory
    b.release();
    EXPECT_FALSE(b.holds_memory());
}

TEST(Buffer, TakeGivesAWholeEmptyBlock) {
    BufferPool pool(kBlock);
    Buffer b = Buffer::take(pool);
    EXPECT_TRUE(b.holds_memory());
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.writable().size(), kBlock);
    EXPECT_EQ(pool.in_use(), 1u);
}

TEST(Buffer, CommitAndConsumeMoveTheWindow) {
    BufferPool pool(kBlock);
    Buffer b = Buffer::take(pool);
    put(b, "hello");
    EXPECT_EQ(contents(b), "hello");
    EXPECT_EQ(b.size(), 5u);
    EXPECT_EQ(b.writable().size(), kBlock - 5);
    put(b, " world");
    EXPECT_EQ(contents(b), "hello world");
    b.consume(6);
    EXPECT_EQ(contents(b), "world");
    EXPECT_FALSE(b.empty());
    // Room is still only at the tail: the consumed head is not reused yet.
    EXPECT_EQ(b.writable().size(), kBlock - 11);
}

TEST(Buffer, ConsumingEverythingRewindsToTheStart) {
    BufferPool pool(kBlock);
    Buffer b = Buffer::take(pool);
    put(b, "abcdefgh");
    b.consume(8);
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(b.writable().size(), kBlock);  // the whole block again, no copy needed
}

TEST(Buffer, FullOnlyWhenEveryByteIsPending) {
    BufferPool pool(kBlock);
    Buffer b = Buffer::take(pool);
    put(b, std::string(kBlock, 'x'));
    EXPECT_TRUE(b.full());
    EXPECT_TRUE(b.writable().empty());
    b.consume(1);
    EXPECT_FALSE(b.full());  // one byte can be reclaimed by compaction
}

TEST(Buffer, WritableCompactsWhenTheTailIsFull) {
    BufferPool pool(kBlock);
    Buffer b = Buffer::take(pool);
    put(b, "0123456789abcdef");
    b.consume(10);
    EXPECT_EQ(contents(b), "abcdef");
    const std::span<std::byte> room = b.writable();
    EXPECT_EQ(room.size(), 10u);
    EXPECT_EQ(contents(b), "abcdef");  // pending bytes kept, now at the front
    EXPECT_EQ(b.readable().data(), room.data() - 6);
    put(b, "ghij");
    EXPECT_EQ(contents(b), "abcdefghij");
}

TEST(Buffer, ReleaseIfEmptyKeepsPendingData) {
    BufferPool pool(kBlock);
    Buffer b = Buffer::take(pool);
    put(b, "x");
    b.release_if_empty();
    EXPECT_TRUE(b.holds_memory());
    EXPECT_EQ(pool.in_use(), 1u);
    b.consume(1);
    b.release_if_empty();
    EXPECT_FALSE(b.holds_memory());
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(pool.cached(), 1u);
}

TEST(Buffer, DestructorReturnsTheBlock) {
    BufferPool pool(kBlock);
    {
        Buffer b = Buffer::take(pool);
        put(b, "pending");
        EXPECT_EQ(pool.in_use(), 1u);
    }
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(pool.cached(), 1u);
}

TEST(Buffer, MoveConstructionTransfersTheBlockAndData) {
    BufferPool pool(kBlock);
    Buffer a = Buffer::take(pool);
    put(a, "data");
    Buffer b(std::move(a));
    EXPECT_FALSE(a.holds_memory());  // NOLINT(bugprone-use-after-move): the contract says so
    EXPECT_TRUE(a.empty());
    EXPECT_TRUE(b.holds_memory());
    EXPECT_EQ(contents(b), "data");
    EXPECT_EQ(pool.in_use(), 1u);
}

TEST(Buffer, MoveAssignmentReleasesTheTargetsOwnBlock) {
    BufferPool pool(kBlock);
    Buffer a = Buffer::take(pool);
    Buffer b = Buffer::take(pool);
    put(a, "from a");
    EXPECT_EQ(pool.in_use(), 2u);
    b = std::move(a);
    EXPECT_EQ(pool.in_use(), 1u);
    EXPECT_EQ(contents(b), "from a");
    EXPECT_FALSE(a.holds_memory());  // NOLINT(bugprone-use-after-move)
    Buffer& same = b;
    b = std::move(same);  // self-move keeps everything
    EXPECT_EQ(contents(b), "from a");
    EXPECT_EQ(pool.in_use(), 1u);
}

TEST(Buffer, MovedFromBufferCanTakeAgain) {
    BufferPool pool(kBlock);
    Buffer a = Buffer::take(pool);
    Buffer b(std::move(a));
    a = Buffer::take(pool);  // NOLINT(bugprone-use-after-move)
    EXPECT_TRUE(a.holds_memory());
    EXPECT_EQ(pool.in_use(), 2u);
}

TEST(BufferPool, ReusesReleasedBlocksLastInFirstOut) {
    BufferPool pool(kBlock);
    Buffer a = Buffer::take(pool);
    const std::byte* block = a.writable().data();
    a.release();
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(pool.cached(), 1u);
    Buffer b = Buffer::take(pool);
    EXPECT_EQ(b.writable().data(), block);
    EXPECT_EQ(pool.cached(), 0u);
    EXPECT_EQ(pool.in_use(), 1u);
}

TEST(BufferPool, CountsBlocksInUse) {
    BufferPool pool(kBlock);
    EXPECT_EQ(pool.block_size(), kBlock);
    std::vector<Buffer> bufs;
    for (int i = 0; i < 5; ++i)
        bufs.push_back(Buffer::take(pool));
    EXPECT_EQ(pool.in_use(), 5u);
    EXPECT_EQ(pool.cached(), 0u);
    bufs.erase(bufs.begin(), bufs.begin() + 2);
    EXPECT_EQ(pool.in_use(), 3u);
    EXPECT_EQ(pool.cached(), 2u);
    bufs.clear();
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(pool.cached(), 5u);
}

TEST(BufferPool, CacheIsBounded) {
    // A burst must not pin its peak memory for ever: the pool keeps at most 1024 idle blocks.
    BufferPool pool(kBlock);
    std::vector<Buffer> bufs;
    for (int i = 0; i < 1030; ++i)
        bufs.push_back(Buffer::take(pool));
    bufs.clear();
    EXPECT_EQ(pool.in_use(), 0u);
    EXPECT_EQ(pool.cached(), 1024u);
}

TEST(BufferPool, PoisonFillsReleasedBlocks) {
    BufferPool pool(kBlock, 0x50);  // -dM
    Buffer a = Buffer::take(pool);
    put(a, "secret");
    a.release();
    Buffer b = Buffer::take(pool);  // the same block, as released
    const std::span<std::byte> room = b.writable();
    ASSERT_EQ(room.size(), kBlock);
    for (std::byte c : room)
        EXPECT_EQ(c, std::byte{0x50});
}

TEST(BufferPool, WithoutPoisonReleasedBlocksAreLeftAsTheyWere) {
    BufferPool pool(kBlock);
    Buffer a = Buffer::take(pool);
    put(a, "kept");
    a.release();
    Buffer b = Buffer::take(pool);
    EXPECT_EQ(std::memcmp(b.writable().data(), "kept", 4), 0);
}

}  // namespace
}  // namespace sluice::core
