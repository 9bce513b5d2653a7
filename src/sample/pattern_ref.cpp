// Pattern references (see pattern_ref.hpp): entries, versions, generations and the process's
// list of references.
#include "sluice/sample/pattern_ref.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <tuple>

#include "sluice/cfg/late.hpp"

namespace sluice::sample {
namespace {

struct Registry {
    std::mutex mu;
    std::vector<std::weak_ptr<PatternRef>> refs;  // creation order
    // File references by the file's identity, so that a file rewritten between two configs
    // read by one process (tests, `-c` then run) is read again.
    using FileKey = std::tuple<std::string, dev_t, ino_t, std::int64_t, std::int64_t, off_t>;
    std::vector<std::pair<FileKey, std::weak_ptr<PatternRef>>> files;
    int next_id = 0;
    std::function<void(std::shared_ptr<const void>)> retire;
};

Registry& registry() {
    static Registry r;
    return r;
}

thread_local int unlisted_depth = 0;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view case_word(const PatternFlags& f) {
    return f.ignore_case ? "insensitive" : "sensitive";
}

// Version numbers wrap, as HAProxy's: `a` is before `b` when b - a is less than half the range.
bool before(std::uint32_t a, std::uint32_t b) {
    return a != b && b - a < 0x80000000u;
}

}  // namespace

bool parse_map_int(std::string_view v, std::int64_t& out) {
    const char* first = v.data();
    const char* last = first + v.size();
    if (first < last && *first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, last, out);
    return first < last && ec == std::errc() && end == last;
}

bool parse_map_ip(std::string_view v, Sample& out) {
    char buf[INET6_ADDRSTRLEN];
    if (v.size() >= sizeof buf) return false;
    std::memcpy(buf, v.data(), v.size());
    buf[v.size()] = 0;
    Sample s;
    if (inet_pton(AF_INET, buf, s.ip.data()) == 1) {
        s.type = Type::Ipv4;
    } else if (inet_pton(AF_INET6, buf, s.ip.data()) == 1) {
        s.type = Type::Ipv6;
    } else {
        return false;
    }
    out = s;
    return true;
}

bool expand_regm(std::string_view tpl, std::string_view subject, const std::size_t* groups,
                 std::string* out) {
    for (std::size_t i = 0; i < tpl.size(); ++i) {
        const char c = tpl[i];
        if (c != '\\') {
            if (out) out->push_back(c);
            continue;
        }
        if (++i == tpl.size()) return false;
        const char e = tpl[i];
        if (e >= '0' && e <= '9') {
            const std::size_t g = static_cast<std::size_t>(e - '0');
            if (out && groups[2 * g] != PatternSet::npos)
                out->append(subject.substr(groups[2 * g], groups[2 * g + 1] - groups[2 * g]));
        } else if (e == 'x') {
            if (i + 2 >= tpl.size() || hex_digit(tpl[i + 1]) < 0 || hex_digit(tpl[i + 2]) < 0)
                return false;
            if (out)
                out->push_back(
                    static_cast<char>(hex_digit(tpl[i + 1]) << 4 | hex_digit(tpl[i + 2])));
            i += 2;
        } else if (out) {
            out->push_back(e);
        }
    }
    return true;
}

namespace {

util::Status check_value(ValueKind kind, std::string_view v) {
    switch (kind) {
        case ValueKind::Int: {
            std::int64_t n;
            if (!parse_map_int(v, n))
                return util::error(fmt::format("value '{}' is not an integer", v));
            break;
        }
        case ValueKind::Ip: {
            Sample s;
            if (!parse_map_ip(v, s))
                return util::error(fmt::format("value '{}' is not an IPv4 or IPv6 address", v));
            break;
        }
        case ValueKind::Regm:
            if (!expand_regm(v, {}, nullptr, nullptr)) {
                return util::error(fmt::format(
                    "value '{}' ends in a lone '\\' or has a '\\x' without two hex digits", v));
            }
            break;
        default:
            break;
    }
    return util::ok();
}

}  // namespace

PatternRef::PatternRef(std::string name, std::string description)
    : name_(std::move(name)), description_(std::move(description)) {
    publish(std::make_shared<const Generation>());
}

PatternRef::~PatternRef() = default;

void PatternRef::load(std::string_view key, std::string_view value, bool has_value,
                      std::uint32_t line) {
    std::lock_guard lock(mu_);
    entries_.push_back(Entry{std::string(key), std::string(value), has_value, curr_ver_, line});
    if (has_value) has_values_ = true;
}

std::vector<const PatternRef::Entry*> PatternRef::current() const {
    std::vector<const Entry*> out;
    out.reserve(entries_.size());
    for (const Entry& en : entries_)
        if (en.version == curr_ver_) out.push_back(&en);
    return out;
}

util::Result<std::shared_ptr<const CompiledSet>> PatternRef::compile(
    const RefExpr& e, const std::vector<const Entry*>& entries) const {
    auto out =
        std::make_shared<CompiledSet>(CompiledSet{PatternSet(e.method, e.flags), {}, {}, {}});
    for (const Entry* en : entries) {
        auto st = check_value(e.kind, en->value);
        if (st) st = out->set.append(en->key, e.op, en->value);
        if (!st) {
            if (en->line && !name_.empty())
                return util::error(fmt::format("{}:{}: {}", name_, en->line, st.error()));
            return util::error(st.error());
        }
        if (e.kind == ValueKind::Int) {
            std::int64_t n = 0;
            (void)parse_map_int(en->value, n);
            out->ints.push_back(n);
        } else if (e.kind == ValueKind::Ip) {
            Sample s;
            (void)parse_map_ip(en->value, s);
            out->ips.push_back(s);
        }
        out->entries.push_back(en);
    }
    out->set.seal();
    return std::shared_ptr<const CompiledSet>(std::move(out));
}

util::Result<std::size_t> PatternRef::attach(const RefExpr& e, Kind kind, std::string_view user) {
    std::lock_guard lock(mu_);
    kinds_ |= kind;
    if (!user.empty()) users_.emplace_back(user);
    for (std::size_t i = 0; i < exprs_.size(); ++i) {
        const RefExpr& x = exprs_[i];
        if (x.method == e.method && x.flags.ignore_case == e.flags.ignore_case &&
            x.kind == e.kind && x.op == e.op)
            return i;
    }
    const auto entries = current();
    auto set = compile(e, entries);
    if (!set) return util::error(set.error());
    auto gen = std::make_shared<Generation>(*owner_);
    gen->sets.push_back(CompiledExpr{std::move(*set), nullptr});
    exprs_.push_back(e);
    // HAProxy counts the entries once more for each expression that loads them.
    entry_cnt_ += static_cast<std::int64_t>(entries.size());
    publish(std::move(gen));
    return exprs_.size() - 1;
}

void PatternRef::publish(std::shared_ptr<const Generation> gen) {
    std::shared_ptr<const Generation> old = std::exchange(owner_, std::move(gen));
    gen_.store(owner_.get(), std::memory_order_release);
    if (!old) return;
    // Whatever the retire hook reads of the readers' progress comes after the swap.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    auto& retire = registry().retire;
    if (retire)
        retire(std::move(old));
    else
        retired_.push_back(std::move(old));
}

void PatternRef::rebuild() {
    auto gen = std::make_shared<Generation>();
    const auto entries = current();
    for (const RefExpr& e : exprs_) {
        auto set = compile(e, entries);
        // Entries were checked against every expression when added.
        if (!set)
            set = std::make_shared<const CompiledSet>(
                CompiledSet{PatternSet(e.method, e.flags), {}, {}, {}});
        gen->sets.push_back(CompiledExpr{std::move(*set), nullptr});
    }
    publish(std::move(gen));
}

void PatternRef::appended(std::size_t count) {
    if (count == 0) return;
    const std::size_t total = owner_->sets.empty() ? 0 : owner_->sets[0].size() + count;
    // A tail up to about sqrt(2n) entries: an append costs O(sqrt(n)) on average.
    std::size_t limit = 64;
    while (limit * limit < 2 * total)
        limit *= 2;
    auto gen = std::make_shared<Generation>();
    for (std::size_t i = 0; i < exprs_.size(); ++i) {
        const RefExpr& e = exprs_[i];
        const CompiledExpr& old = owner_->sets[i];
        const std::size_t tail_now = old.tail ? old.tail->entries.size() : 0;
        const bool longest_wins = e.method == Match::Beg || e.method == Match::Ip;
        if (longest_wins || tail_now + count > limit) return rebuild();
        std::vector<const Entry*> tail;
        if (old.tail)
            for (const void* p : old.tail->entries)
                tail.push_back(static_cast<const Entry*>(p));
        auto it = entries_.end();
        for (std::size_t n = 0; n < count; ++n)
            --it;
        for (; it != entries_.end(); ++it)
            tail.push_back(&*it);
        auto set = compile(e, tail);
        if (!set) return rebuild();
        gen->sets.push_back(CompiledExpr{old.base, std::move(*set)});
    }
    publish(std::move(gen));
}

std::string PatternRef::describe() const {
    std::lock_guard lock(mu_);
    std::string d = description_;
    if (!name_.empty()) {
        d = fmt::format("pattern loaded from file '{}'", name_);
        for (std::size_t i = 0; i < users_.size(); ++i)
            d += fmt::format("{} {}", i ? ", by" : " used by", users_[i]);
        d += '.';
    }
    return fmt::format("{} ({}) {} curr_ver={} next_ver={} entry_cnt={}", id_, name_, d, curr_ver_,
                       next_ver_, entry_cnt_);
}

void PatternRef::dump(std::string& out, std::optional<std::uint32_t> version) const {
    std::lock_guard lock(mu_);
    const std::uint32_t v = version.value_or(curr_ver_);
    for (const Entry& e : entries_) {
        if (e.version != v) continue;
        if (e.has_value)
            fmt::format_to(std::back_inserter(out), "{} {} {}\n", fmt::ptr(&e), e.key, e.value);
        else
            fmt::format_to(std::back_inserter(out), "{} {}\n", fmt::ptr(&e), e.key);
    }
}

void PatternRef::get(std::string& out, std::string_view value, bool map_style) const {
    std::lock_guard lock(mu_);
    Arena arena;
    for (std::size_t i = 0; i < exprs_.size(); ++i) {
        const RefExpr& e = exprs_[i];
        const CompiledExpr& ce = owner_->sets[i];
        Sample s = Sample::string(value);
        RefHit hit;
        if (cast(s, match_input(e.method), arena)) hit = ce.lookup(s);
        const std::string_view found = map_style ? "found" : "match";
        fmt::format_to(std::back_inserter(out), "type={}, case={}, {}={}", match_name(e.method),
                       case_word(e.flags), found, hit ? "yes" : "no");
        if (hit) {
            const auto* en = static_cast<const Entry*>(hit.set->entries[hit.index]);
            fmt::format_to(std::back_inserter(out), ", idx={}",
                           hit.set->set.indexed() ? "tree" : "list");
            if (!map_style) {
                fmt::format_to(std::back_inserter(out), ", pattern=\"{}\"", en->key);
            } else {
                fmt::format_to(std::back_inserter(out), ", key=\"{}\"", en->key);
                if (en->has_value) {
                    std::string_view type = "str";
                    if (e.kind == ValueKind::Int) type = "sint";
                    if (e.kind == ValueKind::Ip) type = type_name(hit.set->ips[hit.index].type);
                    fmt::format_to(std::back_inserter(out), ", value=\"{}\", type=\"{}\"",
                                   en->value, type);
                }
            }
        }
        out += '\n';
    }
}

util::Status PatternRef::check_item(std::string_view key, std::string_view value) const {
    for (const RefExpr& e : exprs_) {
        auto st = check_value(e.kind, value);
        if (!st) return st;
        PatternSet scratch(e.method, e.flags);
        st = scratch.append(key, e.op, value);
        // HAProxy resolves no name at run time and gives one reason for any bad address.
        if (!st && e.method == Match::Ip)
            return util::error(fmt::format("'{}' is not a valid IPv4 or IPv6 address", key));
        if (!st) return st;
    }
    return util::ok();
}

util::Status PatternRef::add(std::optional<std::uint32_t> version, std::span<const Item> items,
                             bool has_value) {
    std::lock_guard lock(mu_);
    for (const Item& it : items) {
        auto st = check_item(it.key, it.value);
        if (!st) return st;
    }
    const std::uint32_t v = version.value_or(curr_ver_);
    if (has_value && !items.empty()) has_values_ = true;
    for (const Item& it : items) {
        entries_.push_back(Entry{std::string(it.key), std::string(it.value), has_value, v, 0});
        entry_cnt_ += static_cast<std::int64_t>(std::max<std::size_t>(exprs_.size(), 1));
    }
    if (v == curr_ver_) appended(items.size());
    return util::ok();
}

std::list<PatternRef::Entry>::iterator PatternRef::remove(std::list<Entry>::iterator it) {
    --entry_cnt_;
    return entries_.erase(it);
}

bool PatternRef::del_key(std::string_view key) {
    std::lock_guard lock(mu_);
    bool found = false;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->version == curr_ver_ && it->key == key) {
            it = remove(it);
            found = true;
        } else {
            ++it;
        }
    }
    if (found) rebuild();
    return found;
}

bool PatternRef::del_entry(std::uintptr_t entry) {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (reinterpret_cast<std::uintptr_t>(&*it) != entry) continue;
        const bool current = it->version == curr_ver_;
        remove(it);
        if (current) rebuild();
        return true;
    }
    return false;
}

util::Status PatternRef::set_key(std::string_view key, std::string_view value, bool& found) {
    std::lock_guard lock(mu_);
    found = false;
    for (const RefExpr& e : exprs_) {
        auto st = check_value(e.kind, value);
        if (!st) return st;
    }
    for (Entry& e : entries_) {
        if (e.version != curr_ver_ || e.key != key) continue;
        e.value = value;
        e.has_value = true;
        found = true;
    }
    if (found) rebuild();
    return util::ok();
}

util::Status PatternRef::set_entry(std::uintptr_t entry, std::string_view value, bool& found) {
    std::lock_guard lock(mu_);
    found = false;
    for (const RefExpr& e : exprs_) {
        auto st = check_value(e.kind, value);
        if (!st) return st;
    }
    for (Entry& e : entries_) {
        if (reinterpret_cast<std::uintptr_t>(&e) != entry) continue;
        e.value = value;
        e.has_value = true;
        found = true;
        if (e.version == curr_ver_) rebuild();
        break;
    }
    return util::ok();
}

util::Status PatternRef::upsert(std::string_view key, std::string_view value, bool has_value) {
    std::lock_guard lock(mu_);
    bool present = false, same = true;
    for (const Entry& e : entries_) {
        if (e.version != curr_ver_ || e.key != key) continue;
        present = true;
        if (has_value && e.value != value) same = false;
    }
    if (present && (same || !has_value)) return util::ok();
    auto st = check_item(key, value);
    if (!st) return st;
    if (present) {
        for (Entry& e : entries_)
            if (e.version == curr_ver_ && e.key == key) e.value = value;
        rebuild();
    } else {
        if (has_value) has_values_ = true;
        entries_.push_back(Entry{std::string(key), std::string(value), has_value, curr_ver_, 0});
        entry_cnt_ += static_cast<std::int64_t>(std::max<std::size_t>(exprs_.size(), 1));
        appended(1);
    }
    return util::ok();
}

void PatternRef::clear(std::optional<std::uint32_t> version) {
    std::lock_guard lock(mu_);
    const std::uint32_t v = version.value_or(curr_ver_);
    bool any = false;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->version == v) {
            it = remove(it);
            any = true;
        } else {
            ++it;
        }
    }
    if (any && v == curr_ver_) rebuild();
}

std::uint32_t PatternRef::prepare() {
    std::lock_guard lock(mu_);
    return ++next_ver_;
}

bool PatternRef::in_future(std::uint32_t version) const {
    std::lock_guard lock(mu_);
    return before(next_ver_, version);
}

bool PatternRef::commit(std::uint32_t version) {
    std::lock_guard lock(mu_);
    // Allowed: curr_ver+1 .. next_ver.
    if (!before(curr_ver_, version) || before(next_ver_, version)) return false;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (before(it->version, version))
            it = remove(it);
        else
            ++it;
    }
    curr_ver_ = version;
    rebuild();
    return true;
}

std::size_t PatternRef::entries() const {
    std::lock_guard lock(mu_);
    return entries_.size();
}

std::vector<PatternRef::Item> split_entries(std::string_view text, bool with_values) {
    std::vector<PatternRef::Item> items;
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        while (!line.empty() && blank(line.front()))
            line.remove_prefix(1);
        while (!line.empty() && blank(line.back()))
            line.remove_suffix(1);
        if (line.empty()) continue;
        std::string_view key = line, value;
        if (with_values) {
            std::size_t end = 0;
            while (end < line.size() && !blank(line[end]))
                ++end;
            key = line.substr(0, end);
            value = line.substr(end);
            while (!value.empty() && blank(value.front()))
                value.remove_prefix(1);
        }
        items.push_back({key, value});
    }
    return items;
}

// ---- registry -------------------------------------------------------------------------------

std::string config_where() {
    const cfg::Location* at = cfg::current_location();
    if (!at) return {};
    return fmt::format("file '{}' line {}", at->file, at->line);
}

struct RefAccess {
    static void set_id(PatternRef& r, int id) { r.id_ = id; }
    static std::uint8_t kinds(const PatternRef& r) { return r.kinds_; }
};

namespace {

std::shared_ptr<PatternRef> make_ref(std::string name, std::string description) {
    const bool listed = unlisted_depth == 0 && cfg::current_location() != nullptr;
    auto ref = std::make_shared<PatternRef>(std::move(name), std::move(description));
    if (listed) {
        Registry& r = registry();
        std::lock_guard lock(r.mu);
        std::erase_if(r.refs, [](const auto& w) { return w.expired(); });
        if (r.refs.empty()) r.next_id = 0;
        RefAccess::set_id(*ref, r.next_id++);
        r.refs.push_back(ref);
    }
    return ref;
}

}  // namespace

util::Result<std::shared_ptr<PatternRef>> file_ref(const std::string& path, bool with_values) {
    Registry& r = registry();
    struct stat st {};
    std::optional<Registry::FileKey> key;
    if (::stat(path.c_str(), &st) == 0)
        key = Registry::FileKey{
            path, st.st_dev, st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_size};
    if (key) {
        std::lock_guard lock(r.mu);
        for (const auto& [k, w] : r.files)
            if (k == *key)
                if (auto ref = w.lock()) return ref;
    }
    auto ref = make_ref(path, {});
    auto loaded = read_pattern_file(
        path, with_values,
        [&](std::size_t line, std::string_view k, std::string_view v) -> util::Status {
            ref->load(k, v, with_values, static_cast<std::uint32_t>(line));
            return util::ok();
        });
    if (!loaded) return util::error(loaded.error());
    if (key) {
        std::lock_guard lock(r.mu);
        std::erase_if(r.files, [](const auto& kw) { return kw.second.expired(); });
        r.files.emplace_back(*key, ref);
    }
    return ref;
}

std::shared_ptr<PatternRef> anonymous_ref(std::string_view criterion) {
    return make_ref({}, fmt::format("acl '{}' {}.", criterion, config_where()));
}

std::shared_ptr<PatternRef> find_ref(std::string_view word, std::uint8_t kind) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    std::optional<int> id;
    if (word.starts_with('#')) {
        int n = 0;
        const auto [end, ec] = std::from_chars(word.data() + 1, word.data() + word.size(), n);
        if (ec != std::errc() || end != word.data() + word.size()) return nullptr;
        id = n;
    }
    for (const auto& w : r.refs) {
        auto ref = w.lock();
        if (!ref || (kind && !(RefAccess::kinds(*ref) & kind))) continue;
        if (id ? ref->id() == *id : ref->name() == word) return ref;
    }
    return nullptr;
}

std::vector<std::shared_ptr<PatternRef>> all_refs(std::uint8_t kind) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    std::vector<std::shared_ptr<PatternRef>> out;
    for (const auto& w : r.refs)
        if (auto ref = w.lock(); ref && (!kind || (RefAccess::kinds(*ref) & kind)))
            out.push_back(ref);
    return out;
}

void set_retire(std::function<void(std::shared_ptr<const void>)> retire) {
    registry().retire = std::move(retire);
}

UnlistedRefs::UnlistedRefs() {
    ++unlisted_depth;
}
UnlistedRefs::~UnlistedRefs() {
    --unlisted_depth;
}

}  // namespace sluice::sample
