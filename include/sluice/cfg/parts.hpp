// Parts: the typed pieces of one section's settings, one per module. The `proxy` module keeps a
// ProxyConf in every proxy section, a later `log` module its own LogConf, and so on, without
// this module knowing any of those types. Parts are copied when a proxy inherits from defaults.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace sluice::cfg {

namespace detail {
std::size_t next_part_slot();
template <class T>
std::size_t part_slot() {
    static const std::size_t slot = next_part_slot();
    return slot;
}
}  // namespace detail

class Parts {
  public:
    Parts() = default;
    Parts(const Parts& other) { *this = other; }
    Parts& operator=(const Parts& other);
    Parts(Parts&&) noexcept = default;
    Parts& operator=(Parts&&) noexcept = default;

    // The part of type T, default-constructed on first use.
    template <class T>
    T& get() {
        const std::size_t slot = detail::part_slot<T>();
        if (slots_.size() <= slot) slots_.resize(slot + 1);
        Slot& s = slots_[slot];
        if (!s.object) {
            s.object = std::shared_ptr<void>(new T(), [](void* p) { delete static_cast<T*>(p); });
            s.clone = [](const void* p) -> std::shared_ptr<void> {
                return std::shared_ptr<void>(new T(*static_cast<const T*>(p)),
                                             [](void* q) { delete static_cast<T*>(q); });
            };
        }
        return *static_cast<T*>(s.object.get());
    }

    // The part of type T if the section has one, else a default-constructed T.
    template <class T>
    const T& read() const {
        const std::size_t slot = detail::part_slot<T>();
        if (slot < slots_.size() && slots_[slot].object)
            return *static_cast<const T*>(slots_[slot].object.get());
        static const T kDefault{};
        return kDefault;
    }

  private:
    // shared_ptr<void> only for its type-erased deleter; copies are deep (see operator=).
    struct Slot {
        std::shared_ptr<void> object;
        std::shared_ptr<void> (*clone)(const void*) = nullptr;
    };
    std::vector<Slot> slots_;
};

}  // namespace sluice::cfg
