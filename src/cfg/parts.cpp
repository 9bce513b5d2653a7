// Slot numbering and deep copies for Parts (see parts.hpp).
#include "sluice/cfg/parts.hpp"

namespace sluice::cfg {

std::size_t detail::next_part_slot() {
    static std::atomic<std::size_t> next{0};
    return next.fetch_add(1, std::memory_order_relaxed);
}

Parts& Parts::operator=(const Parts& other) {
    if (this == &other) return *this;
    slots_.clear();
    slots_.resize(other.slots_.size());
    for (std::size_t i = 0; i < other.slots_.size(); ++i) {
        const Slot& from = other.slots_[i];
        if (!from.object) continue;
        slots_[i].object = from.clone(from.object.get());
        slots_[i].clone = from.clone;
    }
    return *this;
}

}  // namespace sluice::cfg
