// ThreadCache<T>: a per-thread free list of memory blocks for objects that are created and
// destroyed on one thread at connection rate (streams, later connections), so that after
// warm-up no malloc/free runs per connection. A type opts in with class-level operator new and
// delete calling allocate()/deallocate(). Blocks freed on another thread (only at process
// exit, when the main thread frees what the stopped loops left) go to that thread's cache.
// T names its pool for `show pools` with `static constexpr std::string_view kPoolName`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "sluice/core/activity.hpp"

namespace sluice::core {

template <class T>
class ThreadCache {
  public:
    static void* allocate(std::size_t size) {
        // Derived classes would be larger than the blocks: let them through to the heap.
        if (size != sizeof(T)) return ::operator new(size);
        (void)&kind_;  // instantiates the kind's entry
        Blocks& cache = blocks();
        void* block;
        if (cache.free.empty()) {
            block = ::operator new(sizeof(T));
        } else {
            block = cache.free.back();
            cache.free.pop_back();
            cache.stats.cached.set(cache.free.size());
        }
        cache.stats.in_use.add();
        return block;
    }

    static void deallocate(void* block, std::size_t size) {
        if (size != sizeof(T)) {
            ::operator delete(block);
            return;
        }
        Blocks& cache = blocks();
        const std::uint64_t used = cache.stats.in_use.get();
        // Only blocks of another thread, freed here at exit, take it below zero.
        if (static_cast<std::int64_t>(used) > 0) cache.stats.needed.add(used);
        cache.stats.in_use.sub();
        // Bounded, so a burst of connections does not pin its peak memory for ever.
        if (cache.free.size() >= kMaxCached) {
            ::operator delete(block);
            return;
        }
        cache.free.push_back(block);
        cache.stats.cached.set(cache.free.size());
    }

    static std::size_t cached() { return blocks().free.size(); }

  private:
    static constexpr std::size_t kMaxCached = 4096;
    static constexpr std::string_view pool_name() {
        if constexpr (requires { T::kPoolName; })
            return T::kPoolName;
        else
            return "unnamed";
    }
    struct Blocks {
        std::vector<void*> free;
        PoolStats stats{pool_name(), sizeof(T)};
        ~Blocks() {
            for (void* b : free)
                ::operator delete(b);
        }
    };
    // An empty entry made at start-up, so that `show pools` lists the kind before any thread
    // has used it.
    static inline PoolStats kind_{pool_name(), sizeof(T)};
    static Blocks& blocks() {
        thread_local Blocks cache;
        return cache;
    }
};

}  // namespace sluice::core
