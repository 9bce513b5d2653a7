// Patterns: what ACLs and maps match samples against, with HAProxy's match methods (`-m str`,
// `-m beg`, `-m ip`, ...) and flags (`-i`, `-n`, `-f FILE`, ...). A set holds every pattern of
// one ACL line or map file in the structure its method needs: hashed strings for `str`, prefix
// tables by mask length for `ip` (no linear scan over thousands of networks), JIT-compiled
// PCRE2 for `reg`, sorted ranges for `int`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/sample.hpp"
#include "sluice/util/result.hpp"

namespace sluice::sample {

enum class Match : std::uint8_t {
    Found,  // the sample exists (no pattern)
    Bool,   // the sample, as a boolean, is true (no pattern)
    Int,    // integer ranges "10", "10:20", ":20", "10:", and operators eq/ge/gt/le/lt
    Ip,     // addresses and networks "10.0.0.0/8", "192.168.0.1", "::1", "1.2.3.4/255.0.0.0"
    Bin,    // hex byte strings
    Len,    // the sample's length against integer ranges
    Str,    // exact string
    Sub,    // substring
    Reg,    // PCRE2 regular expression
    Beg,    // prefix
    End,    // suffix
    Dir,    // a slash-delimited component ("/a/b/c" matches "b")
    Dom,    // a dot-delimited component sequence ("www.example.com" matches "example.com")
};
// "-m" names: "found", "bool", "int", ... Unknown names give nullopt.
std::optional<Match> match_from_name(std::string_view name);
std::string_view match_name(Match m);
// The sample type a method compares against (the sample is cast to it first).
Type match_input(Match m);

struct PatternFlags {
    bool ignore_case = false;  // -i
    bool no_dns = false;       // -n (no name resolution for -m ip; sluice never resolves)
};

// One set of patterns. Built at config time (add/load), read-only afterwards: match() is
// thread-safe and allocates nothing (regex match data is per thread).
class PatternSet {
  public:
    PatternSet(Match method, PatternFlags flags);
    ~PatternSet();
    PatternSet(PatternSet&&) noexcept;
    PatternSet& operator=(PatternSet&&) noexcept;

    Match method() const { return method_; }
    const PatternFlags& flags() const { return flags_; }

    // Adds one pattern; an error message says why it is invalid ("'10.0.0.300' is not a valid
    // IPv4 or IPv6 address", a regex compile error with its offset...). For Int and Len, `op`
    // is an operator word already seen ("eq", "ge", "gt", "le", "lt") or empty. `value` is the
    // map value associated with the pattern (maps only).
    util::Status add(std::string_view pattern, std::string_view op = {},
                     std::string_view value = {});
    // Loads a pattern file: one pattern per line, leading/trailing blanks dropped, empty lines
    // and lines starting with '#' skipped (in the first column: HAProxy's way to have a pattern
    // start with '#' is to indent it). For a map (`with_values`), each line is "KEY VALUE":
    // the key ends at the first blank, the value is the rest of the line with blanks trimmed.
    // Errors name the file and line: "file.acl:12: ...".
    util::Status load_file(const std::string& path, bool with_values = false);
    // As load_file, and each map value is first given to `check` (a map whose values must be
    // integers or addresses): its error is reported at the value's file and line.
    using ValueCheck = std::function<util::Status(std::string_view value)>;
    util::Status load_file(const std::string& path, bool with_values, const ValueCheck& check);

    // Bulk building (a map reference compiling its entries): as add(), without re-indexing
    // after each pattern; seal() once after the last one, before any match.
    util::Status append(std::string_view pattern, std::string_view op = {},
                        std::string_view value = {});
    void seal();

    std::size_t size() const;
    bool empty() const { return size() == 0; }

    // Matches `s` (already cast to match_input(method())) against the set.
    bool match(const Sample& s) const;
    // For maps: the value of the first (file order) or best (ip, beg: longest prefix) matching
    // pattern, or null.
    const std::string* lookup(const Sample& s) const;

    // Patterns are numbered in the order they were added, from 0. lookup_index() is the
    // number of the pattern lookup() picks (npos: none), so that a map can keep its values
    // parsed (integers, addresses) beside the set; value() is that pattern's value.
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t lookup_index(const Sample& s) const;
    const std::string& value(std::size_t index) const;
    // For `reg` (map_regm): as lookup_index, and where the matching regex's groups 0..n-1 are
    // in the sample: offsets[2*i] and offsets[2*i+1] are group i's begin and end, npos when
    // the group did not take part. Up to 10 groups (\0 to \9) are reported.
    std::size_t lookup_groups(const Sample& s, std::span<std::size_t> offsets) const;

    // How `get map`/`get acl` describe the set: whether it is looked up in an index ("tree")
    // or scanned ("list"), as HAProxy's runtime API says.
    bool indexed() const;

  private:
    struct Impl;
    Match method_;
    PatternFlags flags_;
    std::unique_ptr<Impl> impl_;
};

// Reads a pattern file as PatternSet::load_file does, giving each pattern (and for a map, its
// value) with its line number to `each`; an error `each` returns stops the read and is
// reported at that line ("file.map:12: ...").
using FileLineFn =
    std::function<util::Status(std::size_t line, std::string_view key, std::string_view value)>;
util::Status read_pattern_file(const std::string& path, bool with_values, const FileLineFn& each);

}  // namespace sluice::sample
