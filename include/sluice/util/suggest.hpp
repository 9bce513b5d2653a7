// "Did you mean": the known word closest to what the user typed.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace sluice::util {

// The candidate nearest to `typed` (edit distance, case-insensitive), or empty when none is
// close enough to be a plausible typo (distance above about a third of the word's length).
std::string_view nearest(std::string_view typed, std::span<const std::string_view> candidates);

// ", did you mean 'x'?" when nearest() found one, otherwise "".
std::string did_you_mean(std::string_view typed, std::span<const std::string_view> candidates);

}  // namespace sluice::util
