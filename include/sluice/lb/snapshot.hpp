// A value rebuilt now and then (a server changed) and read by every thread on each pick: the
// readers take a reference to the current version, a rebuild swaps in a new one; old versions
// live until their last reader lets go.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

namespace sluice::lb {

template <class T>
class Snapshot {
  public:
    std::shared_ptr<const T> get() const { return current_.load(std::memory_order_acquire); }
    // `build()` makes the new version; rebuilds are serialized so that the last one stored
    // is built from the newest state.
    template <class Build>
    void rebuild(Build&& build) {
        std::lock_guard lock(rebuilding_);
        current_.store(std::make_shared<const T>(build()), std::memory_order_release);
    }

  private:
    std::atomic<std::shared_ptr<const T>> current_;
    std::mutex rebuilding_;
};

}  // namespace sluice::lb
