// Variables (see vars.hpp), with the var() fetch and the set-var/unset-var converters' store.
#include "sluice/sample/vars.hpp"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include "sluice/sample/registry.hpp"

namespace sluice::sample {
namespace {

// proc.* variables: one store for the process, shared by every thread.
struct ProcVars {
    std::mutex mu;
    VarStore store;
};
ProcVars& proc_vars() {
    static ProcVars p;
    return p;
}

VarStore* store_for(Context& ctx, VarScope scope) {
    const Vars* v = ctx.find<Vars>();
    if (!v) return nullptr;
    switch (scope) {
        case VarScope::Sess:
            return v->sess;
        case VarScope::Txn:
            return v->txn;
        case VarScope::Req:
            return v->req;
        case VarScope::Res:
            return v->res;
        case VarScope::Check:
            return v->check;
        case VarScope::Proc:
            return nullptr;
    }
    return nullptr;
}

}  // namespace

util::Result<VarRef> parse_var_name(std::string_view text) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) {
        return util::error(fmt::format(
            "variable name '{}' has no scope: expected proc., sess., txn., req. or res.", text));
    }
    const std::string_view scope = text.substr(0, dot);
    VarRef ref;
    if (scope == "proc") {
        ref.scope = VarScope::Proc;
    } else if (scope == "sess") {
        ref.scope = VarScope::Sess;
    } else if (scope == "txn") {
        ref.scope = VarScope::Txn;
    } else if (scope == "req") {
        ref.scope = VarScope::Req;
    } else if (scope == "res") {
        ref.scope = VarScope::Res;
    } else if (scope == "check") {
        ref.scope = VarScope::Check;
    } else {
        return util::error(
            fmt::format("unknown variable scope '{}' in '{}': expected proc, sess, txn, req or res",
                        scope, text));
    }
    ref.name = std::string(text.substr(dot + 1));
    if (ref.name.empty()) return util::error(fmt::format("empty variable name in '{}'", text));
    for (char c : ref.name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (!ok) {
            return util::error(
                fmt::format("variable name '{}' may only hold letters, digits, '_' and '.'", text));
        }
    }
    return ref;
}

util::Status add_set_condition(VarRef& ref, std::string_view word) {
    static constexpr std::pair<std::string_view, SetCondition> kNames[] = {
        {"ifexists", kIfExists}, {"ifnotexists", kIfNotExists},
        {"ifempty", kIfEmpty},   {"ifnotempty", kIfNotEmpty},
        {"ifset", kIfSet},       {"ifnotset", kIfNotSet},
        {"ifgt", kIfGt},         {"iflt", kIfLt},
    };
    for (const auto& [name, bit] : kNames) {
        if (name == word) {
            ref.conditions |= bit;
            return util::ok();
        }
    }
    return util::error(fmt::format(
        "unknown condition '{}' (expected ifexists, ifnotexists, ifempty, ifnotempty, ifset, "
        "ifnotset, ifgt or iflt)",
        word));
}

const Sample* VarStore::find(std::string_view name) const {
    for (const Var& v : vars_)
        if (v.name == name) return &v.value;
    return nullptr;
}

bool VarStore::get(std::string_view name, Sample& out) const {
    for (const Var& v : vars_) {
        if (v.name == name) {
            out = v.value;
            // The vector may have moved the Var (and a short string's bytes with it) since
            // set(): point at where the bytes are now.
            if (v.value.type == Type::Str || v.value.type == Type::Bin ||
                v.value.type == Type::Meth)
                out.str = v.bytes;
            return true;
        }
    }
    return false;
}

void VarStore::set(std::string_view name, const Sample& value) {
    Var* slot = nullptr;
    for (Var& v : vars_)
        if (v.name == name) slot = &v;
    if (!slot) {
        vars_.push_back(Var{.name = std::string(name), .value = {}, .bytes = {}});
        slot = &vars_.back();
    }
    slot->value = value;
    if (value.type == Type::Str || value.type == Type::Bin || value.type == Type::Meth) {
        slot->bytes.assign(value.str);
        slot->value.str = slot->bytes;
    }
}

void VarStore::unset(std::string_view name) {
    for (std::size_t i = 0; i < vars_.size(); ++i) {
        if (vars_[i].name == name) {
            vars_.erase(vars_.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
    }
}

bool read_var(Context& ctx, const VarRef& ref, Sample& out) {
    if (ref.scope == VarScope::Proc) {
        ProcVars& p = proc_vars();
        std::lock_guard lock(p.mu);
        Sample v;
        if (!p.store.get(ref.name, v)) return false;
        // Another thread may change it: the caller gets its own copy of the bytes.
        out = v;
        if (v.type == Type::Str || v.type == Type::Bin || v.type == Type::Meth) {
            std::string& buf = ctx.arena().take();
            buf.assign(v.str);
            out.str = buf;
        }
        return true;
    }
    VarStore* s = store_for(ctx, ref.scope);
    return s && s->get(ref.name, out);
}

namespace {

bool is_empty(const Sample& s) {
    return (s.type == Type::Str || s.type == Type::Bin || s.type == Type::Meth) && s.str.empty();
}

// Whether a write of `value` over `current` (null: unset) may happen; `exists`: the variable
// exists even when unset (proc variables).
bool conditions_hold(std::uint8_t c, const Sample* current, bool exists, const Sample& value) {
    if (c == 0) return true;
    const bool set = current != nullptr;
    exists = exists || set;
    const bool integers = set && current->type == Type::Sint && value.type == Type::Sint;
    return !((c & kIfExists && !exists) || (c & kIfNotExists && exists) ||
             (c & kIfEmpty && !is_empty(value)) || (c & kIfNotEmpty && is_empty(value)) ||
             (c & kIfSet && !set) || (c & kIfNotSet && set) ||
             (c & kIfGt && integers && !(current->sint > value.sint)) ||
             (c & kIfLt && integers && !(current->sint < value.sint)));
}

}  // namespace

bool write_var(Context& ctx, const VarRef& ref, const Sample& value) {
    if (ref.scope == VarScope::Proc) {
        ProcVars& p = proc_vars();
        std::lock_guard lock(p.mu);
        if (ref.conditions == 0 ||
            conditions_hold(ref.conditions, p.store.find(ref.name), true, value))
            p.store.set(ref.name, value);
        return true;
    }
    VarStore* s = store_for(ctx, ref.scope);
    if (!s) return false;
    if (ref.conditions == 0 || conditions_hold(ref.conditions, s->find(ref.name), false, value))
        s->set(ref.name, value);
    return true;
}

bool unset_var(Context& ctx, const VarRef& ref) {
    if (ref.scope == VarScope::Proc) {
        ProcVars& p = proc_vars();
        std::lock_guard lock(p.mu);
        p.store.unset(ref.name);
        return true;
    }
    VarStore* s = store_for(ctx, ref.scope);
    if (!s) return false;
    s->unset(ref.name);
    return true;
}

namespace {

util::Status prepare_var(Args& args) {
    auto ref = parse_var_name(args.list[0].text);
    if (!ref) return util::error(ref.error());
    args.prepared = std::make_shared<const VarRef>(std::move(*ref));
    return util::ok();
}

// set-var(name[,condition...])
util::Status prepare_set_var(Args& args) {
    auto ref = parse_var_name(args.list[0].text);
    if (!ref) return util::error(ref.error());
    for (std::size_t i = 1; i < args.list.size(); ++i)
        if (auto st = add_set_condition(*ref, args.list[i].text); !st) return st;
    args.prepared = std::make_shared<const VarRef>(std::move(*ref));
    return util::ok();
}

// var(name[,default]): the default is a string, as in HAProxy.
struct VarFetch {
    VarRef ref;
    std::optional<std::string> fallback;
};

util::Status prepare_var_fetch(Args& args) {
    auto ref = parse_var_name(args.list[0].text);
    if (!ref) return util::error(ref.error());
    VarFetch f{.ref = std::move(*ref), .fallback = std::nullopt};
    if (args.list.size() > 1) f.fallback = args.list[1].text;
    args.prepared = std::make_shared<const VarFetch>(std::move(f));
    return util::ok();
}

bool fetch_var(const Args& args, Context& ctx, Sample& out) {
    const VarFetch& f = args.state<VarFetch>();
    if (read_var(ctx, f.ref, out)) return true;
    if (!f.fallback) return false;
    out = Sample::string(*f.fallback);
    return true;
}

bool conv_set_var(const Args& args, Context& ctx, Sample& s) {
    (void)write_var(ctx, args.state<VarRef>(), s);
    return true;  // the sample passes through unchanged
}

bool conv_unset_var(const Args& args, Context& ctx, Sample&) {
    (void)unset_var(ctx, args.state<VarRef>());
    return true;
}

constexpr Fetch kFetches[] = {
    {.name = "var",
     .fn = fetch_var,
     .args = {1, 2},
     .out = Type::Any,
     .use = Use::Internal,
     .prepare = prepare_var_fetch},
};
const FetchRegistrar kFetchesRegistered{kFetches};

constexpr Converter kConverters[] = {
    {.name = "set-var",
     .fn = conv_set_var,
     .args = {1, 5},  // the name, then up to four conditions as in HAProxy
     .in = Type::Any,
     .out = Type::Any,
     .prepare = prepare_set_var},
    {.name = "unset-var",
     .fn = conv_unset_var,
     .args = {1, 1},
     .in = Type::Any,
     .out = Type::Any,
     .prepare = prepare_var},
};
const ConverterRegistrar kConvertersRegistered{kConverters};

}  // namespace
}  // namespace sluice::sample
