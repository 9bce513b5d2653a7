// Pattern references: the lists of patterns (and map values) behind ACLs and maps, which the
// runtime API (`add map`, `del acl`, `commit map`...) and the set-map/add-acl actions change
// while running, as HAProxy's references. Every ACL or map converter reading one file shares
// one reference; each ACL line's own patterns are an anonymous one.
//
// Readers (every request) never lock: a reference publishes an immutable Generation (one
// compiled PatternSet per way it is matched) through an atomic pointer. A writer (the CLI, an
// action) takes the reference's mutex, rebuilds a generation from the entries, swaps the
// pointer, and hands the old one to the retire hook, which frees it once every worker loop has
// passed a point where it holds none (a reader keeps a generation only within one callback).
// See doc/architecture.md, "Threads and shared state".
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/pattern.hpp"

namespace sluice::sample {

// What a map converter makes of the values: strings, integers (map_*_int), addresses
// (map_*_ip), regsub templates (map_regm). None: an ACL.
enum class ValueKind : std::uint8_t { None, Str, Int, Ip, Regm };

// One way a reference is matched (HAProxy's "expression"): users with the same one share its
// compiled set.
struct RefExpr {
    Match method = Match::Str;
    PatternFlags flags;
    ValueKind kind = ValueKind::None;
    std::string op;  // an inline ACL's integer operator ("ge"), applied to every pattern
};

// A compiled set of some entries of a reference, for one RefExpr. `ints`/`ips` are the values
// parsed, by pattern number; `entries` says which entry each pattern number came from (for
// `get map`, under the reference's lock: readers never follow them).
struct CompiledSet {
    PatternSet set;
    std::vector<std::int64_t> ints;
    std::vector<Sample> ips;
    std::vector<const void*> entries;
};

// A pattern found: the set holding it and its number there (for the values beside it).
struct RefHit {
    const CompiledSet* set = nullptr;
    std::size_t index = PatternSet::npos;
    explicit operator bool() const { return set != nullptr; }
    const std::string& value() const { return set->set.value(index); }
};

// A generation's form of one RefExpr: the entries compiled when the generation was last
// rebuilt (`base`), and those appended since (`tail`, small, recompiled alone at each append),
// so that adding one entry to a large map does not recompile it. Only methods where the first
// pattern added wins are split (all entries of `base` precede those of `tail`); `beg` and `ip`,
// where the longest one wins, have no tail.
struct CompiledExpr {
    std::shared_ptr<const CompiledSet> base, tail;
    bool match(const Sample& s) const { return base->set.match(s) || (tail && tail->set.match(s)); }
    RefHit lookup(const Sample& s) const {
        if (std::size_t i = base->set.lookup_index(s); i != PatternSet::npos)
            return {base.get(), i};
        if (tail)
            if (std::size_t i = tail->set.lookup_index(s); i != PatternSet::npos)
                return {tail.get(), i};
        return {};
    }
    // map_regm: see PatternSet::lookup_groups.
    RefHit lookup_groups(const Sample& s, std::span<std::size_t> offsets) const {
        if (std::size_t i = base->set.lookup_groups(s, offsets); i != PatternSet::npos)
            return {base.get(), i};
        if (tail)
            if (std::size_t i = tail->set.lookup_groups(s, offsets); i != PatternSet::npos)
                return {tail.get(), i};
        return {};
    }
    std::size_t size() const { return base->set.size() + (tail ? tail->set.size() : 0); }
};

// The value checks a map kind needs, shared with the map converters.
bool parse_map_int(std::string_view v, std::int64_t& out);
bool parse_map_ip(std::string_view v, Sample& out);
// map_regm templates: "\N" is group N, "\xHH" a byte, "\c" the character c. With `groups`
// null, only checks the template.
bool expand_regm(std::string_view tpl, std::string_view subject, const std::size_t* groups,
                 std::string* out);

class PatternRef {
  public:
    enum Kind : std::uint8_t { Acl = 1, Map = 2 };
    struct Entry {
        std::string key;
        std::string value;
        bool has_value = false;
        std::uint32_t version = 0;
        std::uint32_t line = 0;  // in the file; 0 when added while running
    };

    PatternRef(std::string name, std::string description);
    PatternRef(const PatternRef&) = delete;
    PatternRef& operator=(const PatternRef&) = delete;
    ~PatternRef();

    int id() const { return id_; }
    const std::string& name() const { return name_; }  // the file; empty when anonymous
    bool is(Kind k) const { return (kinds_ & k) != 0; }
    // A reference holding map values (HAProxy refuses `add acl` on those).
    bool has_values() const { return has_values_; }

    // The data path: the current compiled form of expression `expr`, lock-free. Valid until
    // the caller's loop callback returns.
    const CompiledExpr& compiled(std::size_t expr) const {
        return gen_.load(std::memory_order_acquire)->sets[expr];
    }

    // ---- config time ----
    // Adds an entry of the current version (file lines, inline patterns); not compiled yet.
    void load(std::string_view key, std::string_view value, bool has_value, std::uint32_t line);
    // Makes `expr` one way this reference is matched and compiles it: its index for
    // compiled(). `user` is what uses it ("map", "acl") for `show map`'s description.
    util::Result<std::size_t> attach(const RefExpr& expr, Kind kind, std::string_view user);

    // ---- runtime API and actions (each takes the reference's lock) ----
    // "0 (file) description. curr_ver=0 next_ver=0 entry_cnt=3"
    std::string describe() const;
    // The entries of a version (the current one by default), one "0x... key [value]" line each.
    void dump(std::string& out, std::optional<std::uint32_t> version) const;
    // `get map`/`get acl`: one line per expression, in the order they came.
    void get(std::string& out, std::string_view value, bool map_style) const;
    // Adds entries to `version` (current one when unset); checked against every expression
    // first, so that nothing is added when one is invalid.
    struct Item {
        std::string_view key, value;
    };
    util::Status add(std::optional<std::uint32_t> version, std::span<const Item> items,
                     bool has_value);
    // Deletes the current version's entries with that key / that entry: false when none.
    bool del_key(std::string_view key);
    bool del_entry(std::uintptr_t entry);
    // Sets the value of the current version's entries with that key / of that entry.
    util::Status set_key(std::string_view key, std::string_view value, bool& found);
    util::Status set_entry(std::uintptr_t entry, std::string_view value, bool& found);
    // set-map: sets the key's value, adding the key when absent. add-acl: adds the key when
    // absent. Cheap when nothing changes (the action runs per request).
    util::Status upsert(std::string_view key, std::string_view value, bool has_value);
    void clear(std::optional<std::uint32_t> version);
    std::uint32_t prepare();
    // Whether `version` was not allocated by prepare yet.
    bool in_future(std::uint32_t version) const;
    // Makes `version` current and drops older ones; false when it is not in
    // curr_ver+1..next_ver.
    bool commit(std::uint32_t version);

    std::size_t entries() const;  // of every version

  private:
    friend struct RefAccess;
    struct Generation {
        std::vector<CompiledExpr> sets;
    };
    util::Result<std::shared_ptr<const CompiledSet>> compile(
        const RefExpr& e, const std::vector<const Entry*>& entries) const;
    std::vector<const Entry*> current() const;
    // After entries were appended to the current version: the new ones go to each
    // expression's tail, or the whole is rebuilt when a tail would grow too long.
    void appended(std::size_t count);
    util::Status check_item(std::string_view key, std::string_view value) const;
    void publish(std::shared_ptr<const Generation> gen);
    void rebuild();  // under mu_, after the current version's entries changed
    std::list<Entry>::iterator remove(std::list<Entry>::iterator it);

    mutable std::mutex mu_;
    std::list<Entry> entries_;  // insertion order; stable addresses are the entry ids
    std::vector<RefExpr> exprs_;
    std::vector<std::string> users_;  // in the order they came
    std::atomic<const Generation*> gen_{nullptr};
    std::shared_ptr<const Generation> owner_;           // what gen_ points to
    std::vector<std::shared_ptr<const void>> retired_;  // kept when no retire hook is set
    std::uint32_t curr_ver_ = 0, next_ver_ = 0;
    std::int64_t entry_cnt_ = 0;
    int id_ = -1;
    std::string name_, description_;
    std::uint8_t kinds_ = 0;
    bool has_values_ = false;
};

// The entries of a `<<` payload: one per non-blank line, trimmed; with `with_values`, the key
// ends at the first blank and the value is the rest of the line (spaces included).
std::vector<PatternRef::Item> split_entries(std::string_view text, bool with_values);

// ---- the process's references ----

// The reference of a pattern file (a map when `with_values`), loading it the first time.
util::Result<std::shared_ptr<PatternRef>> file_ref(const std::string& path, bool with_values);
// A new anonymous reference (an ACL line's own patterns), described as HAProxy does
// ("acl 'path_beg' file 'h.cfg' line 12.").
std::shared_ptr<PatternRef> anonymous_ref(std::string_view criterion);
// What the config line being parsed is, for descriptions: "file 'h.cfg' line 12"; empty when
// no config line is being read.
std::string config_where();

// The reference `word` names, "#<id>" or a file name, among those of `kind` (0: any), or null.
std::shared_ptr<PatternRef> find_ref(std::string_view word, std::uint8_t kind);
// Every listed reference of `kind`, by id.
std::vector<std::shared_ptr<PatternRef>> all_refs(std::uint8_t kind);

// Installs how old generations are freed (main: after every loop passed a quiescent point).
// Without one, a reference keeps them until it is destroyed.
void set_retire(std::function<void(std::shared_ptr<const void>)> retire);

// While one lives on this thread, new references are not listed (HAProxy's predefined ACLs).
class UnlistedRefs {
  public:
    UnlistedRefs();
    ~UnlistedRefs();
    UnlistedRefs(const UnlistedRefs&) = delete;
    UnlistedRefs& operator=(const UnlistedRefs&) = delete;
};

}  // namespace sluice::sample
