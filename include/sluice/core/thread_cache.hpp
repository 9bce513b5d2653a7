// ThreadCache<T>: a per-thread free list of memory blocks for objects that are created and
// destroyed on one thread at connection rate (streams, later connections), so that after
// warm-up no malloc/free runs per connection. A type opts in with class-level operator new and
// delete calling allocate()/deallocate(). Blocks freed on another thread (only at process
// exit, when the main thread frees what the stopped loops left) go to that thread's cache.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace sluice::core {

template <class T>
class ThreadCache {
  public:
    static void* allocate(std::size_t size) {
        // Derived classes would be larger than the blocks: let them through to the heap.
        if (size != sizeof(T)) return ::operator new(size);
        Blocks& cache = blocks();
        if (cache.free.empty()) return ::operator new(sizeof(T));
        void* block = cache.free.back();
        cache.free.pop_back();
        return block;
    }

    static void deallocate(void* block, std::size_t size) {
        Blocks& cache = blocks();
        // Bounded, so a burst of connections does not pin its peak memory for ever.
        if (size != sizeof(T) || cache.free.size() >= kMaxCached) {
            ::operator delete(block);
            return;
        }
        cache.free.push_back(block);
    }

    static std::size_t cached() { return blocks().free.size(); }

  private:
    static constexpr std::size_t kMaxCached = 4096;
    struct Blocks {
        std::vector<void*> free;
        ~Blocks() {
            for (void* b : free)
                ::operator delete(b);
        }
    };
    static Blocks& blocks() {
        thread_local Blocks cache;
        return cache;
    }
};

}  // namespace sluice::core
