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

// Check: a health check's own variables (`tcp-check set-var(check.x)`), reset at each run.
enum class VarScope : std::uint8_t { Proc, Sess, Txn, Req, Res, Check };

// set-var's conditions (`set-var(txn.x,ifnotexists,ifgt)`, as an action or a converter): the
// variable is written only when all of them hold. ifexists/ifset: the variable is there (a
// proc variable exists from the config on, as in HAProxy, where parsing creates it; it is set
// once written); ifempty: the new value is an empty string (a scalar never is); ifgt/iflt: the
// variable's integer is greater/less than the new one (true unless both are integers).
enum SetCondition : std::uint8_t {
    kIfExists = 1 << 0,
    kIfNotExists = 1 << 1,
    kIfEmpty = 1 << 2,
    kIfNotEmpty = 1 << 3,
    kIfSet = 1 << 4,
    kIfNotSet = 1 << 5,
    kIfGt = 1 << 6,
    kIfLt = 1 << 7,
};

struct VarRef {
    VarScope scope = VarScope::Txn;
    std::string name;             // without the scope: "foo" for "txn.foo"
    std::uint8_t conditions = 0;  // SetCondition bits, for writes
};
// "txn.foo" -> {Txn, "foo"}; an error names what is wrong ("unknown variable scope 'tx'").
util::Result<VarRef> parse_var_name(std::string_view text);
// Adds the condition named `word` ("ifnotexists"...) to `ref`; an error for an unknown one.
util::Status add_set_condition(VarRef& ref, std::string_view word);

// One scope's variables. Few per transaction: a flat vector beats a map.
class VarStore {
  public:
    bool get(std::string_view name, Sample& out) const;  // views into the store
    const Sample* find(std::string_view name) const;     // null when unset
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
    VarStore* check = nullptr;
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
// Sets a variable if its conditions hold; false when its scope is not available here.
bool write_var(Context& ctx, const VarRef& ref, const Sample& value);
bool unset_var(Context& ctx, const VarRef& ref);

}  // namespace sluice::sample
