// Per-thread buffer pool: blocks are recycled on their thread, never freed while running.
#include "sluice/core/buffer.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

namespace sluice::core {

BufferPool::~BufferPool() {
    for (std::byte* b : free_)
        std::free(b);
}

std::byte* BufferPool::acquire() {
    std::byte* b;
    if (!free_.empty()) {
        b = free_.back();
        free_.pop_back();
        stats_.cached.set(free_.size());
    } else {
        b = static_cast<std::byte*>(std::malloc(block_size_));
        if (!b) {
            stats_.failures.add();
            return nullptr;
        }
    }
    ++in_use_;
    stats_.in_use.add();
    return b;
}

void BufferPool::release(std::byte* block) {
    if (poison_ >= 0) std::memset(block, poison_, block_size_);
    stats_.needed.add(in_use_);
    --in_use_;
    stats_.in_use.sub();
    // Keep a bounded cache so that a burst does not pin its peak memory for ever.
    if (free_.size() >= 1024) {
        std::free(block);
        return;
    }
    free_.push_back(block);
    stats_.cached.set(free_.size());
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = other.pool_;
        block_ = other.block_;
        head_ = other.head_;
        tail_ = other.tail_;
        other.block_ = nullptr;
        other.head_ = other.tail_ = 0;
    }
    return *this;
}

Buffer Buffer::take(BufferPool& pool) {
    Buffer b;
    b.pool_ = &pool;
    b.block_ = pool.acquire();
    return b;
}

std::span<std::byte> Buffer::writable() {
    if (!block_) return {};
    const std::size_t cap = pool_->block_size();
    if (tail_ == cap && head_ > 0) {
        std::memmove(block_, block_ + head_, tail_ - head_);
        tail_ -= head_;
        head_ = 0;
    }
    return {block_ + tail_, cap - tail_};
}

void Buffer::consume(std::size_t n) {
    head_ += n;
    if (head_ == tail_) head_ = tail_ = 0;
}

void Buffer::release() {
    if (block_) pool_->release(block_);
    block_ = nullptr;
    head_ = tail_ = 0;
}

}  // namespace sluice::core
