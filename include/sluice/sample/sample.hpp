// Samples: the typed values that fetches produce, converters transform and ACLs match, with
// HAProxy's types and casts between them. A sample's bytes are views: into the message being
// processed, into the config (literals), or into the evaluation's Arena (what converters
// build). Nothing here allocates once the arena is warm.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/net/address.hpp"

namespace sluice::sample {

// HAProxy's sample types. Addr is "either IP family" (an input type only).
enum class Type : std::uint8_t { Any, Bool, Sint, Addr, Ipv4, Ipv6, Str, Bin, Meth };
std::string_view type_name(Type t);  // "bool", "sint", "ipv4", ... as HAProxy names them

struct Sample {
    Type type = Type::Bool;
    std::int64_t sint = 0;              // Bool (0/1), Sint
    std::array<std::uint8_t, 16> ip{};  // Ipv4: the first 4 bytes; network order
    std::string_view str;               // Str, Bin, Meth

    static Sample of(Type t) {
        Sample s;
        s.type = t;
        return s;
    }
    static Sample boolean(bool b) {
        Sample s = of(Type::Bool);
        s.sint = b ? 1 : 0;
        return s;
    }
    static Sample integer(std::int64_t v) {
        Sample s = of(Type::Sint);
        s.sint = v;
        return s;
    }
    static Sample string(std::string_view v, Type t = Type::Str) {
        Sample s = of(t);
        s.str = v;
        return s;
    }
    // Ipv4 or Ipv6 from a socket address; false for another family.
    static bool from_address(const net::Address& a, Sample& out);
};

// Scratch strings for one evaluation: what converters build lives here until the caller resets
// the arena (after the rule that evaluated it is done). Strings keep their capacity across
// resets and their addresses while in use, so views into them stay valid.
class Arena {
  public:
    std::string& take();
    void reset() { used_ = 0; }

  private:
    std::vector<std::unique_ptr<std::string>> strings_;
    std::size_t used_ = 0;
};

// What fetches read from: the objects of the connection or transaction being evaluated, each
// attached by the stream under its own type. A module's fetches look up the types they know
// (`ctx.find<http::Txn>()`), so this module knows none of them.
class Context {
  public:
    explicit Context(Arena& arena) : arena_(arena) {}
    template <class T>
    void attach(T* object) {
        for (Facet& f : facets_)
            if (f.key == key<T>() || f.key == nullptr) {
                f = {key<T>(), object};
                return;
            }
    }
    template <class T>
    T* find() const {
        for (const Facet& f : facets_)
            if (f.key == key<T>()) return static_cast<T*>(f.object);
        return nullptr;
    }
    Arena& arena() { return arena_; }
    // Response rules: `hdr()` and friends read the response.
    bool response = false;
    // Set by a fetch that found too few bytes in a Payload that is not final: the answer may
    // change when more arrive, so content rules wait instead of deciding on it.
    bool may_change = false;

  private:
    template <class T>
    static const void* key() {
        static const char k = 0;
        return &k;
    }
    struct Facet {
        const void* key = nullptr;
        void* object = nullptr;
    };
    // Response rules attach the most: connection, proxies, config, server, priority,
    // variables, captures, unique id, lazy log record, transaction, payload: 12, and room.
    std::array<Facet, 16> facets_{};
    Arena& arena_;
};

// Converts `s` to type `to` in place, as HAProxy casts (sint to str prints decimal, str to
// sint reads a leading integer, ipv4 to ipv6 maps, ...). False when no cast exists or the
// value does not convert. Strings built by the cast live in `arena`.
bool cast(Sample& s, Type to, Arena& arena);
// True when a value of type `from` can be cast to `to` (checked when parsing expressions).
bool castable(Type from, Type to);

}  // namespace sluice::sample
