// Variables (`set-var`, `var()`), in HAProxy's scopes: proc (the process), sess (the client
// connection), txn (one HTTP transaction), req and res (its request and response halves). A
// variable holds a copy of a sample. Stores are attached to the evaluation Context by the
// stream; proc variables live in one process-wide store.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/sample.hpp"
#include "sluice/util/result.hpp"

namespace sluice::sample {

enum class VarScope : std::uint8_t { Proc, Sess, Txn, Req, Res };

struct VarRef {
    VarScope scope = VarScope::Txn;
    std::string name;  // without the scope: "foo" for "txn.foo"
};
// "txn.foo" -> {Txn, "foo"}; an error names what is wrong ("unknown variable scope 'tx'").
util::Result<VarRef> parse_var_name(std::string_view text);

// One scope's variables. Few per transaction: a flat vector beats a map.
class VarStore {
  public:
    bool get(std::string_view name, Sample& out) const;  // views into the store
    void set(std::string_view name, const Sample& value);
    void unset(std::string_view name);
    void clear() { vars_.clear(); }
    bool empty() const { return vars_.empty(); }

  private:
    struct Var {
        std::string name;
        Sample value;
        std::string bytes;  // owns value.str
    };
    std::vector<Var> vars_;
};

// The stores a stream attaches to a Context (`ctx.attach(&vars)`); null members are scopes the
// evaluation has not (a connection rule has no txn).
struct Vars {
    VarStore* sess = nullptr;
    VarStore* txn = nullptr;
    VarStore* req = nullptr;
    VarStore* res = nullptr;
};

// A stream's own scopes, with the view to attach: allocated the first time rules need them.
struct StreamVars {
    VarStore sess, txn, req, res;
    Vars view{&sess, &txn, &req, &res};
    StreamVars() = default;
    StreamVars(const StreamVars&) = delete;  // `view` points into this object
    StreamVars& operator=(const StreamVars&) = delete;
};

// Reads a variable into `out` (views into the store, valid until it changes); false when unset
// or its scope is not available here.
bool read_var(Context& ctx, const VarRef& ref, Sample& out);
// Sets a variable; false when its scope is not available here.
bool write_var(Context& ctx, const VarRef& ref, const Sample& value);
bool unset_var(Context& ctx, const VarRef& ref);

}  // namespace sluice::sample
