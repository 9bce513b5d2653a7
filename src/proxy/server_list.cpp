#include "sluice/proxy/server_list.hpp"

#include <bit>

#include "sluice/proxy/runtime.hpp"

namespace sluice::proxy {

ServerList::~ServerList() {
    const std::uint32_t n = slots();
    for (std::uint32_t i = 0; i < n; ++i)
        delete at(i);
    for (auto& c : chunks_)
        delete[] c.load(std::memory_order_relaxed);
}

ServerList::Place ServerList::place(std::uint32_t index) {
    // Chunk k starts at kFirstChunk * (2^k - 1).
    const std::uint32_t q = index / kFirstChunk + 1;
    const auto k = static_cast<std::size_t>(std::bit_width(q) - 1);
    return {k, index - kFirstChunk * ((1u << k) - 1)};
}

Server* ServerList::find(std::string_view name) const {
    for (Server* s : *this)
        if (s->name == name) return s;
    return nullptr;
}

std::uint32_t ServerList::append(std::unique_ptr<Server>& server) {
    std::lock_guard lock(writing_);
    const std::uint32_t index = slots_.load(std::memory_order_relaxed);
    const Place p = place(index);
    if (p.chunk >= kChunks) return kFull;
    auto* chunk = chunks_[p.chunk].load(std::memory_order_relaxed);
    if (!chunk) {
        chunk = new std::atomic<Server*>[kFirstChunk << p.chunk] {};
        chunks_[p.chunk].store(chunk, std::memory_order_release);
    }
    server->index = index;
    chunk[p.offset].store(server.release(), std::memory_order_release);
    live_.fetch_add(1, std::memory_order_release);
    slots_.store(index + 1, std::memory_order_release);
    return index;
}

std::unique_ptr<Server> ServerList::remove(const Server& server) {
    std::lock_guard lock(writing_);
    const Place p = place(server.index);
    auto* chunk = chunks_[p.chunk].load(std::memory_order_relaxed);
    Server* s = chunk ? chunk[p.offset].exchange(nullptr, std::memory_order_acq_rel) : nullptr;
    if (s) live_.fetch_sub(1, std::memory_order_release);
    return std::unique_ptr<Server>(s);
}

}  // namespace sluice::proxy
