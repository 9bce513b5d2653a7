// Pattern sets (see pattern.hpp): parsing, indexing and matching for every method but `ip`
// (pattern_ip.cpp), and pattern files.
#include "sluice/sample/pattern.hpp"

#include <fmt/format.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>

#include "pattern_index.hpp"

namespace sluice::sample {
namespace {

using detail::kNone;

constexpr std::pair<std::string_view, Match> kNames[] = {
    {"found", Match::Found}, {"bool", Match::Bool}, {"int", Match::Int}, {"ip", Match::Ip},
    {"bin", Match::Bin},     {"len", Match::Len},   {"str", Match::Str}, {"sub", Match::Sub},
    {"reg", Match::Reg},     {"beg", Match::Beg},   {"end", Match::End}, {"dir", Match::Dir},
    {"dom", Match::Dom},
};

bool is_bytes(Type t) {
    return t == Type::Str || t == Type::Bin || t == Type::Meth;
}

// dir: components between '/' (and '?', which starts the query); dom: also '.' and ':', so
// that a host name with a port or inside a URL still splits into labels.
bool is_delim(Match m, char c) {
    if (c == '/' || c == '?') return true;
    return m == Match::Dom && (c == '.' || c == ':');
}

// ---- integers -------------------------------------------------------------------------------

struct Range {
    std::int64_t lo = INT64_MIN;
    std::int64_t hi = INT64_MAX;
    bool empty() const { return lo > hi; }
};

bool parse_int(std::string_view s, std::int64_t& out) {
    if (s.empty()) return false;
    const char* first = s.data();
    const char* last = first + s.size();
    if (*first == '+') ++first;
    if (first == last || *first == '+') return false;
    const auto [end, ec] = std::from_chars(first, last, out);
    return ec == std::errc() && end == last;
}

// "N", "N:M", ":M", "N:" (HAProxy also separates with '-': "N-M"; a '-' right at the start or
// after the separator is a sign, so negative bounds work: "-10:-5", "-10--5").
util::Result<Range> parse_range(std::string_view s) {
    std::size_t sep = s.find(':');
    if (sep == std::string_view::npos) {
        for (std::size_t i = 1; i < s.size(); ++i) {
            if (s[i] == '-' && s[i - 1] >= '0' && s[i - 1] <= '9') {
                sep = i;
                break;
            }
        }
    }
    Range r;
    if (sep == std::string_view::npos) {
        if (!parse_int(s, r.lo)) return util::error(fmt::format("'{}' is not a number", s));
        r.hi = r.lo;
        return r;
    }
    const std::string_view a = s.substr(0, sep), b = s.substr(sep + 1);
    const bool ok = !(a.empty() && b.empty()) && (a.empty() || parse_int(a, r.lo)) &&
                    (b.empty() || parse_int(b, r.hi)) && r.lo <= r.hi;
    if (!ok) return util::error(fmt::format("'{}' is not a valid number range", s));
    return r;
}

util::Result<Range> parse_int_pattern(std::string_view text, std::string_view op) {
    std::int64_t v;
    if (op.empty() || op == "eq" || !parse_int(text, v)) {
        // HAProxy hands a range to the range parser whatever the operator.
        if (!op.empty() && op != "eq" && text.find(':') == std::string_view::npos &&
            text.find('-', 1) == std::string_view::npos)
            return util::error(
                fmt::format("'{}' is neither a number nor a supported operator", text));
        return parse_range(text);
    }
    Range r;
    if (op == "ge") {
        r.lo = v;
    } else if (op == "gt") {
        if (v == INT64_MAX) return Range{1, 0};  // nothing is greater
        r.lo = v + 1;
    } else if (op == "le") {
        r.hi = v;
    } else if (op == "lt") {
        if (v == INT64_MIN) return Range{1, 0};
        r.hi = v - 1;
    } else {
        return util::error(
            fmt::format("unknown operator '{}' (expected eq, ge, gt, le or lt)", op));
    }
    return r;
}

// The ranges as sorted, disjoint segments, each holding the first pattern (add order) that
// covers it: match and lookup are one binary search.
struct Segment {
    std::int64_t start;
    std::uint32_t id;  // kNone: a gap
};

std::vector<Segment> build_segments(const std::vector<Range>& ranges) {
    struct Event {
        std::int64_t at;
        bool open;
        std::uint32_t id;
    };
    std::vector<Event> ev;
    for (std::uint32_t id = 0; id < ranges.size(); ++id) {
        const Range& r = ranges[id];
        if (r.empty()) continue;
        ev.push_back({r.lo, true, id});
        if (r.hi != INT64_MAX) ev.push_back({r.hi + 1, false, id});
    }
    std::sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
    std::vector<Segment> out;
    std::set<std::uint32_t> active;
    for (std::size_t i = 0; i < ev.size();) {
        const std::int64_t at = ev[i].at;
        for (; i < ev.size() && ev[i].at == at; ++i) {
            if (ev[i].open)
                active.insert(ev[i].id);
            else
                active.erase(ev[i].id);
        }
        const std::uint32_t id = active.empty() ? kNone : *active.begin();
        if (out.empty() || out.back().id != id) out.push_back({at, id});
    }
    return out;
}

std::uint32_t find_segment(const std::vector<Segment>& segs, std::int64_t v) {
    auto it = std::upper_bound(segs.begin(), segs.end(), v,
                               [](std::int64_t x, const Segment& s) { return x < s.start; });
    return it == segs.begin() ? kNone : std::prev(it)->id;
}

// ---- hex ------------------------------------------------------------------------------------

util::Result<std::string> parse_hex(std::string_view text) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (char c : text) {
        if (nibble(c) < 0) {
            return util::error(
                fmt::format("'{}' is not a hex string: '{}' is not a hex digit", text, c));
        }
    }
    if (text.size() % 2) {
        return util::error(
            fmt::format("'{}' is not a hex string: it needs an even number of digits", text));
    }
    std::string out(text.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<char>(nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]));
    return out;
}

// ---- regular expressions --------------------------------------------------------------------

constexpr std::size_t kGroups = 10;  // \0 to \9, as HAProxy's MAX_MATCH

// Matching needs scratch space; one per thread, shared by every set, so that match() neither
// allocates nor needs a lock. The JIT stack grows past PCRE2's 32 KiB default for regexes
// that backtrack deeply.
struct RegexScratch {
    pcre2_match_data* data = pcre2_match_data_create(kGroups, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    RegexScratch() {
        if (context && stack) pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~RegexScratch() {
        pcre2_jit_stack_free(stack);
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
    }
};

RegexScratch& regex_scratch() {
    thread_local RegexScratch s;
    return s;
}

struct Regex {
    pcre2_code* code = nullptr;
    Regex() = default;
    explicit Regex(pcre2_code* c) : code(c) {}
    Regex(Regex&& o) noexcept : code(std::exchange(o.code, nullptr)) {}
    Regex& operator=(Regex&& o) noexcept {
        std::swap(code, o.code);
        return *this;
    }
    ~Regex() { pcre2_code_free(code); }
};

util::Result<Regex> compile_regex(std::string_view text, bool ignore_case) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                     ignore_case ? PCRE2_CASELESS : 0, &err, &offset, nullptr);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return util::error(fmt::format("regex '{}' is invalid: {} at offset {}", text,
                                       reinterpret_cast<const char*>(msg), offset));
    }
    // Without JIT support (some platforms), the interpreter still matches.
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return Regex(code);
}

// Runs `re` on `subject` with this thread's scratch: the number of groups set (0 when more
// groups took part than the scratch holds), negative when it does not match (or a match or
// depth limit was hit, which HAProxy also counts as no match).
int run_regex(const Regex& re, std::string_view subject, RegexScratch& rs) {
    // PCRE2 refuses a null subject even when empty.
    const char* p = subject.data() ? subject.data() : "";
    return pcre2_match(re.code, reinterpret_cast<PCRE2_SPTR>(p), subject.size(), 0, 0, rs.data,
                       rs.context);
}

}  // namespace

std::optional<Match> match_from_name(std::string_view name) {
    for (const auto& [n, m] : kNames)
        if (n == name) return m;
    return std::nullopt;
}

std::string_view match_name(Match m) {
    for (const auto& [n, mm] : kNames)
        if (mm == m) return n;
    return "?";
}

Type match_input(Match m) {
    switch (m) {
        case Match::Found:
            return Type::Any;
        case Match::Bool:
            return Type::Bool;
        case Match::Int:
            return Type::Sint;
        case Match::Ip:
            return Type::Addr;
        case Match::Bin:
            return Type::Bin;
        case Match::Len:
        case Match::Str:
        case Match::Sub:
        case Match::Reg:
        case Match::Beg:
        case Match::End:
        case Match::Dir:
        case Match::Dom:
            return Type::Str;
    }
    return Type::Any;
}

struct PatternSet::Impl {
    Match method;
    bool ignore_case;  // -i
    // -i on a text method: keys are stored lower-cased, samples folded on the fly. HAProxy
    // compares bin patterns byte for byte whatever the flags.
    bool fold;

    std::uint32_t count = 0;
    std::vector<std::string> values;  // by pattern number; empty for ACLs

    // Str, Bin, Beg, End, Dir, Dom, Sub: the key of each pattern (lower-cased with -i; bytes for
    // Bin; without the delimiters around it for Dir/Dom), and all but Sub hash them, so that a
    // method checks one key per candidate length instead of scanning the patterns.
    std::vector<std::string> keys;
    detail::HashSlots slots;
    std::vector<std::uint8_t> has_len;  // by key length
    std::vector<std::uint32_t> lens;    // key lengths in use, ascending

    std::vector<Range> ranges;  // Int, Len
    std::vector<Segment> segments;
    detail::IpIndex ip;
    std::vector<Regex> regexes;

    Impl(Match m, const PatternFlags& f)
        : method(m), ignore_case(f.ignore_case), fold(f.ignore_case && m != Match::Bin) {}

    bool key_eq(std::uint32_t id, const char* p, std::size_t n) const {
        const std::string& k = keys[id];
        if (k.size() != n) return false;
        if (!fold) return std::memcmp(k.data(), p, n) == 0;
        for (std::size_t i = 0; i < n; ++i)
            if (k[i] != detail::fold_char(p[i])) return false;
        return true;
    }
    std::uint32_t find_key(const char* p, std::size_t n) const {
        if (n >= has_len.size() || !has_len[n]) return kNone;
        return slots.find(detail::hash_bytes(p, n, fold),
                          [&](std::uint32_t id) { return key_eq(id, p, n); });
    }
    void index_key(std::uint32_t id) {
        const std::string& k = keys[id];
        slots.insert(detail::hash_bytes(k.data(), k.size(), fold), id,
                     [&](std::uint32_t other) { return keys[other] == k; });
        if (k.size() >= has_len.size()) has_len.resize(k.size() + 1, 0);
        if (!has_len[k.size()]) {
            has_len[k.size()] = 1;
            lens.insert(std::upper_bound(lens.begin(), lens.end(), k.size()),
                        static_cast<std::uint32_t>(k.size()));
        }
    }

    util::Status add(std::string_view text, std::string_view op, std::string_view value);
    void finish() {
        if (method == Match::Int || method == Match::Len) segments = build_segments(ranges);
    }
    // The matching pattern: the first added, or for Beg the longest, as HAProxy; with `any`,
    // whichever is found first (match() needs no more).
    std::uint32_t find(const Sample& s, bool any) const;
    std::uint32_t find_words(std::string_view s, bool any) const;
    std::uint32_t find_regex(std::string_view s, std::span<std::size_t> groups) const;
};

util::Status PatternSet::Impl::add(std::string_view text, std::string_view op,
                                   std::string_view value) {
    if (count == kNone - 1) return util::error("too many patterns");
    const std::uint32_t id = count;
    switch (method) {
        case Match::Found:
        case Match::Bool:
            return util::error(fmt::format("this match method takes no pattern (got '{}')", text));
        case Match::Int:
        case Match::Len: {
            auto r = parse_int_pattern(text, op);
            if (!r) return util::error(r.error());
            ranges.push_back(*r);
            break;
        }
        case Match::Ip: {
            auto st = ip.add(text, id);
            if (!st) return st;
            break;
        }
        case Match::Reg: {
            auto re = compile_regex(text, ignore_case);
            if (!re) return util::error(re.error());
            regexes.push_back(std::move(*re));
            break;
        }
        case Match::Bin: {
            auto bytes = parse_hex(text);
            if (!bytes) return util::error(bytes.error());
            keys.push_back(std::move(*bytes));
            index_key(id);
            break;
        }
        case Match::Str:
        case Match::Beg:
        case Match::End:
        case Match::Sub:
        case Match::Dir:
        case Match::Dom: {
            std::string_view k = text;
            if (method == Match::Dir || method == Match::Dom) {
                // HAProxy ignores delimiters around the pattern: "/img/" is the word "img".
                while (!k.empty() && is_delim(method, k.front()))
                    k.remove_prefix(1);
                while (!k.empty() && is_delim(method, k.back()))
                    k.remove_suffix(1);
            }
            std::string key(k);
            if (fold)
                for (char& c : key)
                    c = detail::fold_char(c);
            keys.push_back(std::move(key));
            // A pattern made only of delimiters is no word: it never matches.
            const bool never =
                keys.back().empty() && (method == Match::Dir || method == Match::Dom);
            if (method != Match::Sub && !never) index_key(id);
            break;
        }
    }
    values.emplace_back(value);
    ++count;
    return util::ok();
}

std::uint32_t PatternSet::Impl::find_words(std::string_view s, bool any) const {
    // Candidates are the spans that start a word (start of the sample or after a delimiter)
    // and end one (end of the sample or before a delimiter), whose length some key has.
    const std::size_t n = s.size();
    const std::size_t max_len = has_len.empty() ? 0 : has_len.size() - 1;
    std::uint32_t best = kNone;
    for (std::size_t b = 0; b < n; ++b) {
        if (is_delim(method, s[b]) || (b > 0 && !is_delim(method, s[b - 1]))) continue;
        for (std::size_t e = b + 1; e <= n && e - b <= max_len; ++e) {
            if (e < n && !is_delim(method, s[e])) continue;
            if (is_delim(method, s[e - 1])) continue;
            const std::uint32_t id = find_key(s.data() + b, e - b);
            if (id == kNone) continue;
            if (any) return id;
            best = std::min(best, id);
        }
    }
    return best;
}

std::uint32_t PatternSet::Impl::find_regex(std::string_view s,
                                           std::span<std::size_t> groups) const {
    RegexScratch& rs = regex_scratch();
    if (!rs.data) return kNone;
    for (std::uint32_t id = 0; id < regexes.size(); ++id) {
        const int rc = run_regex(regexes[id], s, rs);
        if (rc < 0) continue;
        if (!groups.empty()) {
            const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(rs.data);
            const std::size_t set =
                rc == 0 ? pcre2_get_ovector_count(rs.data) : static_cast<std::size_t>(rc);
            std::fill(groups.begin(), groups.end(), npos);
            for (std::size_t i = 0; i < std::min(set, groups.size() / 2); ++i) {
                if (ov[2 * i] == PCRE2_UNSET || ov[2 * i + 1] == PCRE2_UNSET) continue;
                groups[2 * i] = ov[2 * i];
                groups[2 * i + 1] = ov[2 * i + 1];
            }
        }
        return id;
    }
    return kNone;
}

std::uint32_t PatternSet::Impl::find(const Sample& s, bool any) const {
    switch (method) {
        case Match::Found:
        case Match::Bool:
            return kNone;
        case Match::Int:
            if (s.type != Type::Sint && s.type != Type::Bool) return kNone;
            return find_segment(segments, s.sint);
        case Match::Len:
            if (!is_bytes(s.type)) return kNone;
            return find_segment(segments, static_cast<std::int64_t>(s.str.size()));
        case Match::Ip:
            return ip.find(s);
        default:
            break;
    }
    if (!is_bytes(s.type)) return kNone;
    const std::string_view v = s.str;
    switch (method) {
        case Match::Str:
        case Match::Bin:
            return find_key(v.data(), v.size());
        case Match::Beg:
            // HAProxy indexes prefixes in a tree: the longest matching prefix wins.
            for (auto it = lens.rbegin(); it != lens.rend(); ++it) {
                if (*it > v.size()) continue;
                const std::uint32_t id = find_key(v.data(), *it);
                if (id != kNone) return id;
            }
            return kNone;
        case Match::End: {
            std::uint32_t best = kNone;
            for (const std::uint32_t len : lens) {
                if (len > v.size()) break;
                const std::uint32_t id = find_key(v.data() + v.size() - len, len);
                if (id == kNone) continue;
                if (any) return id;
                best = std::min(best, id);
            }
            return best;
        }
        case Match::Dir:
        case Match::Dom:
            return find_words(v, any);
        case Match::Sub:
            for (std::uint32_t id = 0; id < keys.size(); ++id) {
                const std::string& k = keys[id];
                if (k.size() > v.size()) continue;
                if (!fold) {
                    if (k.empty() || memmem(v.data(), v.size(), k.data(), k.size())) return id;
                    continue;
                }
                for (std::size_t at = 0; at + k.size() <= v.size(); ++at)
                    if (key_eq(id, v.data() + at, k.size())) return id;
            }
            return kNone;
        case Match::Reg:
            return find_regex(v, {});
        default:
            return kNone;
    }
}

PatternSet::PatternSet(Match method, PatternFlags flags)
    : method_(method), flags_(flags), impl_(std::make_unique<Impl>(method, flags)) {}
PatternSet::~PatternSet() = default;
PatternSet::PatternSet(PatternSet&&) noexcept = default;
PatternSet& PatternSet::operator=(PatternSet&&) noexcept = default;

util::Status PatternSet::add(std::string_view pattern, std::string_view op,
                             std::string_view value) {
    auto st = impl_->add(pattern, op, value);
    impl_->finish();
    return st;
}

util::Status PatternSet::load_file(const std::string& path, bool with_values) {
    return load_file(path, with_values, nullptr);
}

util::Status PatternSet::load_file(const std::string& path, bool with_values,
                                   const ValueCheck& check) {
    auto st = read_pattern_file(
        path, with_values,
        [&](std::size_t, std::string_view key, std::string_view value) -> util::Status {
            if (check) {
                auto vst = check(value);
                if (!vst) return vst;
            }
            return impl_->add(key, {}, value);
        });
    impl_->finish();
    return st;
}

util::Status read_pattern_file(const std::string& path, bool with_values, const FileLineFn& each) {
    std::FILE* f = std::fopen(path.c_str(), "re");
    if (!f) return util::error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    struct Closer {
        std::FILE* f;
        char* line = nullptr;
        ~Closer() {
            std::free(line);
            std::fclose(f);
        }
    } c{f};
    std::size_t cap = 0;
    std::size_t lineno = 0;
    ssize_t got;
    util::Status result = util::ok();
    auto blank = [](char ch) { return ch == ' ' || ch == '\t'; };
    while ((got = getline(&c.line, &cap, f)) >= 0) {
        ++lineno;
        std::string_view l(c.line, static_cast<std::size_t>(got));
        l = l.substr(0, l.find_first_of("\r\n"));
        // Only a '#' in the first column comments: HAProxy's way to write a pattern starting
        // with '#' is to indent it.
        if (!l.empty() && l[0] == '#') continue;
        while (!l.empty() && blank(l.front()))
            l.remove_prefix(1);
        while (!l.empty() && blank(l.back()))
            l.remove_suffix(1);
        if (l.empty()) continue;
        std::string_view key = l, value;
        if (with_values) {
            std::size_t end = 0;
            while (end < l.size() && !blank(l[end]))
                ++end;
            key = l.substr(0, end);
            value = l.substr(end);
            while (!value.empty() && blank(value.front()))
                value.remove_prefix(1);
        }
        auto st = each(lineno, key, value);
        if (!st) {
            result = util::error(fmt::format("{}:{}: {}", path, lineno, st.error()));
            break;
        }
    }
    if (result && std::ferror(f))
        result = util::error(fmt::format("error reading '{}': {}", path, std::strerror(errno)));
    return result;
}

util::Status PatternSet::append(std::string_view pattern, std::string_view op,
                                std::string_view value) {
    return impl_->add(pattern, op, value);
}

void PatternSet::seal() {
    impl_->finish();
}

bool PatternSet::indexed() const {
    switch (method_) {
        case Match::Str:
        case Match::Beg:
            // HAProxy's trees hold case-sensitive strings; with -i it scans a list.
            return !flags_.ignore_case;
        case Match::Ip:
            return true;
        default:
            return false;
    }
}

std::size_t PatternSet::size() const {
    return impl_ ? impl_->count : 0;
}

bool PatternSet::match(const Sample& s) const {
    if (method_ == Match::Found) return true;
    if (method_ == Match::Bool) return s.sint != 0;
    return impl_ && impl_->find(s, true) != kNone;
}

std::size_t PatternSet::lookup_index(const Sample& s) const {
    if (!impl_) return npos;
    const std::uint32_t id = impl_->find(s, false);
    return id == kNone ? npos : id;
}

const std::string* PatternSet::lookup(const Sample& s) const {
    const std::size_t i = lookup_index(s);
    return i == npos ? nullptr : &impl_->values[i];
}

const std::string& PatternSet::value(std::size_t index) const {
    return impl_->values[index];
}

std::size_t PatternSet::lookup_groups(const Sample& s, std::span<std::size_t> offsets) const {
    if (!impl_ || method_ != Match::Reg || !is_bytes(s.type)) return npos;
    const std::uint32_t id = impl_->find_regex(s.str, offsets);
    return id == kNone ? npos : id;
}

}  // namespace sluice::sample
