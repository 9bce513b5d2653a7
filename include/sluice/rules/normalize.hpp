// The URI normalizers of `http-request normalize-uri`, as pure functions on text so that tests
// and fuzzers reach them without a stream. The action (src/rules/act_normalize.cpp) picks one
// by name and applies it to a request's target with normalize_target(). Behaviour follows
// haproxy 2.6.12, checked request by request against it; the .cpp says where it is surprising.
//
// Nothing here allocates beyond `out` and `params` growing: callers pass storage that keeps its
// capacity from one request to the next (an Arena string, a per-thread vector).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::rules::normalize {

enum class Normalizer : std::uint8_t {
    FragmentEncode,           // every '#' becomes "%23"
    FragmentStrip,            // the first '#' and all after it go
    PathMergeSlashes,         // runs of '/' in the path become one
    PathStripDot,             // "." segments of the path go
    PathStripDotdot,          // ".." segments remove the segment before them
    PercentDecodeUnreserved,  // "%61" becomes "a", for letters, digits and "-._~" only
    PercentToUppercase,       // "%2f" becomes "%2F"
    QuerySortByName,          // the '&'-separated parameters sorted by name, stably
};

// One `normalize-uri` rule: a normalizer and its option (`full` for path-strip-dotdot, `strict`
// for the two percent normalizers; ignored by the others).
struct Spec {
    Normalizer kind = Normalizer::PathMergeSlashes;
    bool option = false;
};

enum class Result : std::uint8_t {
    Unchanged,  // the target is already normal; `out` holds nothing useful
    Rewritten,  // `out` holds the new target
    Invalid,    // a strict percent normalizer met a '%' not followed by two hex digits
};

// Scratch storage for query-sort-by-name: views of the parameters being sorted.
using Params = std::vector<std::string_view>;

// Applies `spec` to a request target. Only the part from the path on is touched: the scheme and
// authority of an absolute-form target stay, and a target without a path ("*", a CONNECT
// authority, "http://host") is left alone. The path normalizers read the path up to the first
// '?'; the percent and fragment normalizers the path, query and fragment; query-sort-by-name
// everything after the first '?' of that part (a fragment there included, as haproxy does).
// `out` is cleared first.
Result normalize_target(Spec spec, std::string_view target, std::string& out, Params& params);

// The steps, each appending its result for `in` to `out`. A path normally starts with '/';
// text before its first '/' is kept as it is.
void fragment_encode(std::string_view in, std::string& out);
// A view of `in` up to its first '#'.
std::string_view fragment_strip(std::string_view in);
void merge_slashes(std::string_view path, std::string& out);
void strip_dot(std::string_view path, std::string& out);
// `full`: a ".." with nothing left to remove is dropped instead of kept.
void strip_dotdot(std::string_view path, bool full, std::string& out);
// False when `strict` and `in` holds a '%' not followed by two hex digits (`out` then holds
// part of the result). Without `strict` such a '%' is copied and the bytes after it are read
// as usual.
bool percent_decode_unreserved(std::string_view in, bool strict, std::string& out);
bool percent_to_uppercase(std::string_view in, bool strict, std::string& out);
// `query` without its '?'. An empty parameter is kept ("b&&a" gives "&a&b"), except after a
// final '&', which goes ("b&a&" gives "a&b").
void query_sort_by_name(std::string_view query, Params& params, std::string& out);

}  // namespace sluice::rules::normalize
