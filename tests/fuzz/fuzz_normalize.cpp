// Fuzzes the URI normalizers of `http-request normalize-uri` (rules/normalize.cpp). The first
// input byte picks the normalizer (low 3 bits) and its option (bit 3: full or strict); the rest
// is the request target. Checked for every input:
//  - Rewritten means a different target, and the scheme://authority before the path is kept;
//  - the path normalizers keep what follows the path, and agree with a plain reference written
//    with a vector of segments (remove_dots below);
//  - only fragment-encode grows a target (by two bytes per '#'), and path-strip-dotdot by the
//    one slash a final ".." leaves;
//  - strict percent normalizers answer Invalid exactly when a '%' lacks two hex digits, the
//    others never;
//  - query-sort-by-name keeps the parameters (a final empty one aside), sorted by name;
//  - every normalizer but query-sort-by-name and percent-decode-unreserved is idempotent
//    (those two are not: "&&" sorts to "&", then to ""; "%%36%36" decodes to "%66", then "f").
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/http/txn.hpp"
#include "sluice/rules/normalize.hpp"

namespace {

using namespace sluice::rules::normalize;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool has_bad_percent(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i] == '%' && (i + 2 >= s.size() || !hex(s[i + 1]) || !hex(s[i + 2]))) return true;
    return false;
}

// A second reading of path-strip-dot and path-strip-dotdot: split into segments, edit the list.
std::string remove_dots(std::string_view path, Normalizer kind, bool full) {
    const std::size_t first = path.find('/');
    if (first == std::string_view::npos) return std::string(path);
    std::vector<std::string_view> segs;
    for (std::size_t i = first; i < path.size();) {
        std::size_t end = path.find('/', i + 1);
        if (end == std::string_view::npos) end = path.size();
        segs.push_back(path.substr(i + 1, end - i - 1));
        i = end;
    }
    std::vector<std::string_view> kept;
    std::size_t leading_dotdots = 0;
    for (const std::string_view s : segs) {
        if (kind == Normalizer::PathStripDot) {
            if (s != ".") kept.push_back(s);
        } else if (s != "..") {
            kept.push_back(s);
        } else if (kept.size() > leading_dotdots) {
            kept.pop_back();
        } else if (!full) {
            kept.push_back(s);
            ++leading_dotdots;
        }
    }
    std::string out(path.substr(0, first));
    for (const std::string_view s : kept)
        out.append("/").append(s);
    const std::string_view dots = kind == Normalizer::PathStripDot ? "." : "..";
    if (segs.back() == dots) out.push_back('/');
    return out;
}

std::vector<std::string_view> split_query(std::string_view q) {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < q.size();) {
        std::size_t amp = q.find('&', i);
        if (amp == std::string_view::npos) amp = q.size();
        out.push_back(q.substr(i, amp - i));
        i = amp + 1;
    }
    return out;
}

std::string_view name_of(std::string_view param) {
    return param.substr(0, param.find('='));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > 4096) return 0;
    const Spec spec{.kind = static_cast<Normalizer>(data[0] & 7), .option = (data[0] & 8) != 0};
    const std::string target(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string out;
    Params params;
    const Result r = normalize_target(spec, target, out, params);

    const std::string_view path = sluice::http::target_path(target);
    if (path.empty()) {
        check(r == Result::Unchanged);
        return 0;
    }
    const std::size_t at = static_cast<std::size_t>(path.data() - target.data());
    const std::string_view rest = std::string_view(target).substr(at);
    const std::string_view after_path = rest.substr(path.size());
    const bool percent = spec.kind == Normalizer::PercentDecodeUnreserved ||
                         spec.kind == Normalizer::PercentToUppercase;
    check((r == Result::Invalid) == (percent && spec.option && has_bad_percent(rest)));
    if (r == Result::Invalid) return 0;
    const std::string result = r == Result::Rewritten ? out : target;
    check(r == Result::Unchanged || out != target);
    check(result.compare(0, at, target, 0, at) == 0);

    switch (spec.kind) {
        case Normalizer::PathMergeSlashes:
            check(result.size() <= target.size());
            check(result.find("//", at) == std::string::npos ||
                  result.find("//", at) >= result.size() - after_path.size());
            break;
        case Normalizer::PathStripDot:
        case Normalizer::PathStripDotdot:
            check(result.substr(at) ==
                  remove_dots(path, spec.kind, spec.option) + std::string(after_path));
            check(result.size() <= target.size() + 1);
            break;
        case Normalizer::FragmentEncode:
            check(result.size() == target.size() + 2 * static_cast<std::size_t>(std::count(
                                                           rest.begin(), rest.end(), '#')));
            break;
        case Normalizer::QuerySortByName: {
            const std::size_t q = rest.find('?');
            if (q == std::string_view::npos) {
                check(r == Result::Unchanged);
                break;
            }
            std::vector<std::string_view> before = split_query(rest.substr(q + 1));
            std::vector<std::string_view> after =
                split_query(std::string_view(result).substr(at + q + 1));
            // The output may now end in an empty parameter that split_query drops.
            if (!before.empty() && after.size() + 1 == before.size()) after.emplace_back();
            check(before.size() == after.size());
            check(std::is_sorted(after.begin(), after.end(),
                                 [](auto a, auto b) { return name_of(a) < name_of(b); }));
            std::sort(before.begin(), before.end());
            std::sort(after.begin(), after.end());
            check(before == after);
            break;
        }
        default:
            check(result.size() <= target.size());
            break;
    }

    if (spec.kind != Normalizer::QuerySortByName &&
        spec.kind != Normalizer::PercentDecodeUnreserved) {
        std::string again;
        check(normalize_target(spec, result, again, params) == Result::Unchanged);
    }
    return 0;
}
