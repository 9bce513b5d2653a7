// HAProxy's time and size units, as config values and CLI arguments spell them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "sluice/util/result.hpp"

namespace sluice::util {

using Duration = std::chrono::microseconds;

// "150", "150ms", "10s", "2m", "1h", "1d", "500us". A bare number is in `bare_unit`
// (milliseconds for timeouts, as HAProxy). Rejects empty input, signs, unknown suffixes,
// trailing junk and values that overflow. The error message says what was wrong, without
// naming the keyword (the caller's diagnostic does that).
Result<Duration> parse_duration(std::string_view text,
                                Duration bare_unit = std::chrono::milliseconds(1));

// "16384", "16k", "1m", "2g" (powers of 1024, suffix case-insensitive). Same rules as above.
Result<std::uint64_t> parse_size(std::string_view text);

// A plain non-negative decimal integer no larger than `max` ("0x.." and signs rejected).
Result<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max = UINT64_MAX);

}  // namespace sluice::util
