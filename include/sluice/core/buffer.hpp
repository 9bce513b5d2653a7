// Buffers of tune.bufsize bytes from the owning thread's pool. A default-constructed Buffer holds
// no memory, which is the state of every idle connection. Single-thread: a Buffer is taken,
// used and released on its pool's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sluice/core/activity.hpp"

namespace sluice::core {

class BufferPool {
  public:
    // `poison` >= 0: fill released blocks with that byte (`-dM`), so a use after release reads
    // garbage that tests notice instead of stale data.
    // `thread`: the loop's index, for `show pools` and `show activity`.
    BufferPool(std::size_t block_size, int poison = -1, int thread = -1)
        : block_size_(block_size), poison_(poison), stats_("buffer", block_size, thread) {}
    ~BufferPool();
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    std::byte* acquire();
    void release(std::byte* block);
    std::size_t block_size() const { return block_size_; }
    std::size_t in_use() const { return in_use_; }
    std::size_t cached() const { return free_.size(); }
    const PoolStats& stats() const { return stats_; }

  private:
    std::size_t block_size_;
    int poison_;
    std::size_t in_use_ = 0;
    std::vector<std::byte*> free_;
    PoolStats stats_;
};

class Buffer {
  public:
    Buffer() = default;
    Buffer(Buffer&& other) noexcept { *this = std::move(other); }
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { release(); }

    static Buffer take(BufferPool& pool);

    bool holds_memory() const { return block_ != nullptr; }
    bool empty() const { return head_ == tail_; }
    bool full() const { return block_ && head_ == 0 && tail_ == pool_->block_size(); }
    std::size_t size() const { return tail_ - head_; }

    std::span<const std::byte> readable() const { return {block_ + head_, tail_ - head_}; }
    // Contiguous room at the tail; moves pending bytes to the front first when that frees room.
    std::span<std::byte> writable();
    void commit(std::size_t n) { tail_ += n; }
    void consume(std::size_t n);
    // Gives the memory back to the pool when nothing is pending (a connection going idle).
    void release_if_empty() {
        if (empty()) release();
    }
    void release();

  private:
    BufferPool* pool_ = nullptr;
    std::byte* block_ = nullptr;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

}  // namespace sluice::core
