// "Did you mean": picks the known word nearest to a misspelt one. Knows nothing of which words
// exist; callers pass their keyword, algorithm or command names.
#include "sluice/util/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace sluice::util {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Edit distance where a swap of two neighbours costs 1 like an insertion, deletion or
// substitution (optimal string alignment): "blaance" is one slip away from "balance", not two.
std::size_t distance(std::string_view a, std::string_view b) {
    const std::size_t width = b.size() + 1;
    // Three rows: the transposition rule looks two rows back.
    std::vector<std::size_t> older(width), prev(width), cur(width);
    for (std::size_t j = 0; j < width; ++j)
        prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j < width; ++j) {
            const bool same = lower(a[i - 1]) == lower(b[j - 1]);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]))
                cur[j] = std::min(cur[j], older[j - 2] + 1);
        }
        std::swap(older, prev);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace

std::string_view nearest(std::string_view typed, std::span<const std::string_view> candidates) {
    if (typed.empty()) return {};
    // A third of the word: "balanse" (1 slip in 7) is a typo, "xyzzy" for "bind" is not. Short
    // words still get one slip, or "bnd" would never find "bind".
    const std::size_t budget = std::max<std::size_t>(1, typed.size() / 3);
    std::string_view best;
    std::size_t best_distance = budget + 1;
    for (std::string_view candidate : candidates) {
        // The distance is at least the difference in length: skip hopeless candidates cheaply.
        const std::size_t gap = candidate.size() > typed.size() ? candidate.size() - typed.size()
                                                                : typed.size() - candidate.size();
        if (gap >= best_distance) continue;
        const std::size_t d = distance(typed, candidate);
        if (d < best_distance) {  // strict: the first of equally near candidates wins
            best = candidate;
            best_distance = d;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view typed, std::span<const std::string_view> candidates) {
    const std::string_view found = nearest(typed, candidates);
    if (found.empty()) return {};
    return fmt::format(", did you mean '{}'?", found);
}

}  // namespace sluice::util
