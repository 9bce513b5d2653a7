// A backend's servers: those of the config, then those the runtime API adds (`add server`),
// in that order. Any thread iterates without a lock while the API appends or removes one.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

namespace sluice::proxy {

struct Server;

// Slots live in chunks of growing size that never move, and a removed server leaves its slot
// empty for good: a server's index is stable, and an iteration that began before a change sees
// each server at most once. A removed server is handed to the caller, which frees it once no
// loop can still be reading it.
class ServerList {
  public:
    ServerList() = default;
    ~ServerList();
    ServerList(const ServerList&) = delete;
    ServerList& operator=(const ServerList&) = delete;

    struct End {};
    class Iterator {
      public:
        Iterator(const ServerList* list, std::uint32_t index, std::uint32_t end)
            : list_(list), index_(index), end_(end) {
            skip_empty();
        }
        // Never null: the server skip_empty() found (a removal since does not free it before
        // this loop's turn ends).
        Server* operator*() const { return current_; }
        Iterator& operator++() {
            ++index_;
            skip_empty();
            return *this;
        }
        // Each iteration ends where the list ended when it began (see end()).
        bool operator==(End) const { return index_ >= end_; }

      private:
        void skip_empty() {
            for (; index_ < end_; ++index_)
                if ((current_ = list_->at(index_))) return;
        }
        const ServerList* list_;
        std::uint32_t index_, end_;
        Server* current_ = nullptr;
    };
    // A server appended during an iteration is not seen by it.
    Iterator begin() const { return {this, 0, slots()}; }
    End end() const { return {}; }

    // Indexes handed out so far, empty slots included.
    std::uint32_t slots() const { return slots_.load(std::memory_order_acquire); }
    // The server at `index`, or null when it was removed.
    Server* at(std::uint32_t index) const {
        const Place p = place(index);
        const auto* chunk = chunks_[p.chunk].load(std::memory_order_acquire);
        return chunk ? chunk[p.offset].load(std::memory_order_acquire) : nullptr;
    }
    Server* operator[](std::uint32_t index) const { return at(index); }
    std::size_t size() const { return live_.load(std::memory_order_acquire); }
    bool empty() const { return size() == 0; }
    Server* find(std::string_view name) const;

    // Takes `server` at the next index, which it returns (and stores in Server::index);
    // kFull, leaving `server` to the caller, once a billion indexes were handed out.
    static constexpr std::uint32_t kFull = UINT32_MAX;
    std::uint32_t append(std::unique_ptr<Server>& server);
    // Empties the slot of `server` and gives the server back.
    std::unique_ptr<Server> remove(const Server& server);

  private:
    static constexpr std::uint32_t kFirstChunk = 16;  // chunk k holds kFirstChunk << k slots
    static constexpr std::size_t kChunks = 26;
    struct Place {
        std::size_t chunk;
        std::uint32_t offset;
    };
    static Place place(std::uint32_t index);

    std::array<std::atomic<std::atomic<Server*>*>, kChunks> chunks_{};
    std::atomic<std::uint32_t> slots_{0}, live_{0};
    std::mutex writing_;
};

}  // namespace sluice::proxy
