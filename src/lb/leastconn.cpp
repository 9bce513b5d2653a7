// balance leastconn and first.
//
// leastconn: the usable server with the fewest connections relative to its weight; among
// equals, the one that has waited longest since its load last changed, so that equal servers
// take turns (HAProxy's round robin within a load group). The servers sit in an indexed binary
// heap ordered that way, updated whenever a slot is taken or given back: a pick costs
// O(log n) whatever the number of servers. Counts are every thread's (Server::cur_conns).
//
// first: the usable server with the lowest id that still has a free slot.
#include <algorithm>
#include <mutex>

#include "sluice/lb/algorithm.hpp"

namespace sluice::lb {
namespace {

class LeastConnTier final : public Tier {
  public:
    explicit LeastConnTier(std::vector<proxy::Server*> servers) : Tier(std::move(servers)) {
        std::uint32_t max_index = 0;
        for (proxy::Server* s : servers_) {
            heap_.push_back({key_of(*s), ++sequence_, s});
            max_index = std::max(max_index, s->index);
        }
        // Sorted best first is a valid heap: every parent is better than its children.
        std::sort(heap_.begin(), heap_.end(),
                  [](const Entry& a, const Entry& b) { return after(b, a); });
        position_of_.assign(servers_.empty() ? 0 : max_index + 1, kNowhere);
        for (std::size_t i = 0; i < heap_.size(); ++i)
            position_of_[heap_[i].server->index] = i;
    }

    proxy::Pick pick(const proxy::PickRequest& request) override {
        std::lock_guard lock(mutex_);
        // The heap's top is the least loaded; unusable, full or avoided servers are passed
        // over by a bounded walk of the heap in order.
        candidates_.clear();
        candidates_.push_back(0);
        bool any_full = false;
        proxy::Server* fallback = nullptr;
        for (std::size_t n = 0; n < candidates_.size(); ++n) {
            const std::size_t at = best_remaining(n);
            proxy::Server* s = heap_[at].server;
            if (!s->usable()) {
                push_children(at);
                continue;
            }
            if (s == request.avoid) {
                fallback = s;
                push_children(at);
                continue;
            }
            if (s->try_reserve()) {
                refresh(*s);
                return {s, false};
            }
            any_full = true;
            push_children(at);
        }
        if (fallback) {
            if (fallback->try_reserve()) {
                refresh(*fallback);
                return {fallback, false};
            }
            any_full = true;
        }
        return {nullptr, any_full};
    }

    void load_changed(proxy::Server& s) override {
        std::lock_guard lock(mutex_);
        refresh(s);
    }
    void server_changed(proxy::Server& s) override { load_changed(s); }

  private:
    struct Entry {
        std::uint64_t load;
        std::uint64_t sequence;
        proxy::Server* server;
    };
    // Heap order: `a` comes after `b` (std heap functions keep the greatest on top, so the
    // comparison is reversed: the least loaded, then the longest waiting, is "greatest").
    static bool after(const Entry& a, const Entry& b) {
        return a.load != b.load ? a.load > b.load : a.sequence > b.sequence;
    }
    // Connections relative to weight, as HAProxy 2.6 ranks them: idle servers tie whatever
    // their weights (and take turns). HAProxy counts queued connections too; ours queue in the
    // backend, not per server.
    static std::uint64_t key_of(const proxy::Server& s) { return relative_load(s); }

    // Candidates: heap positions still to look at in a best-first walk (a small frontier).
    std::size_t best_remaining(std::size_t n) {
        auto best = candidates_.begin() + static_cast<std::ptrdiff_t>(n);
        for (auto it = best + 1; it != candidates_.end(); ++it)
            if (after(heap_[*best], heap_[*it])) best = it;
        std::iter_swap(candidates_.begin() + static_cast<std::ptrdiff_t>(n), best);
        return candidates_[n];
    }
    void push_children(std::size_t at) {
        for (std::size_t c = 2 * at + 1; c <= 2 * at + 2 && c < heap_.size(); ++c)
            candidates_.push_back(c);
    }

    void refresh(proxy::Server& s) {
        if (s.index >= position_of_.size() || position_of_[s.index] == kNowhere) return;
        std::size_t at = position_of_[s.index];
        heap_[at].load = key_of(s);
        heap_[at].sequence = ++sequence_;
        // Up while better than the parent, else down while a child is better.
        while (at > 0 && after(heap_[(at - 1) / 2], heap_[at])) {
            swap_entries(at, (at - 1) / 2);
            at = (at - 1) / 2;
        }
        for (;;) {
            std::size_t best = at;
            for (std::size_t c = 2 * at + 1; c <= 2 * at + 2 && c < heap_.size(); ++c)
                if (after(heap_[best], heap_[c])) best = c;
            if (best == at) break;
            swap_entries(at, best);
            at = best;
        }
    }
    void swap_entries(std::size_t a, std::size_t b) {
        std::swap(heap_[a], heap_[b]);
        position_of_[heap_[a].server->index] = a;
        position_of_[heap_[b].server->index] = b;
    }

    std::mutex mutex_;
    std::vector<Entry> heap_;
    static constexpr std::size_t kNowhere = SIZE_MAX;
    std::vector<std::size_t> position_of_;  // Server::index -> heap slot
    std::vector<std::size_t> candidates_;
    std::uint64_t sequence_ = 0;
};

class FirstTier final : public Tier {
  public:
    explicit FirstTier(std::vector<proxy::Server*> servers) : Tier(std::move(servers)) {
        std::stable_sort(
            servers_.begin(), servers_.end(),
            [](const proxy::Server* a, const proxy::Server* b) { return a->puid < b->puid; });
    }
    proxy::Pick pick(const proxy::PickRequest& request) override {
        bool any_full = false;
        proxy::Server* fallback = nullptr;
        for (proxy::Server* s : servers_) {
            if (!s->usable()) continue;
            if (s == request.avoid) {
                fallback = s;
                continue;
            }
            if (s->try_reserve()) return {s, false};
            any_full = true;
        }
        if (fallback) return reserve(fallback);
        return {nullptr, any_full};
    }
};

std::unique_ptr<Tier> make_leastconn(std::vector<proxy::Server*> servers, const BalanceConf&,
                                     const HashType&) {
    return std::make_unique<LeastConnTier>(std::move(servers));
}
std::unique_ptr<Tier> make_first(std::vector<proxy::Server*> servers, const BalanceConf&,
                                 const HashType&) {
    return std::make_unique<FirstTier>(std::move(servers));
}

constexpr AlgorithmDef kAlgorithms[] = {
    {.name = "leastconn", .make = make_leastconn},
    {.name = "first", .make = make_first},
};
const Registrar kRegistered{kAlgorithms};

}  // namespace
}  // namespace sluice::lb
