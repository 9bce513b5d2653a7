// Number, duration and size parsing for config values and CLI arguments. Owns only the
// syntax; range limits that belong to one keyword (HAProxy caps timeouts at 2^31-1 ms) are the
// keyword's business.
#include "sluice/util/units.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string_view>

namespace sluice::util {
namespace {

struct Digits {
    std::uint64_t value = 0;
    std::size_t length = 0;  // number of digits consumed
    bool overflow = false;
};

// Leading decimal digits of `text`. Keeps scanning after an overflow so that the caller's
// "trailing junk" check still looks at what follows the whole number.
Digits leading_digits(std::string_view text) {
    Digits d;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    while (d.length < text.size() && text[d.length] >= '0' && text[d.length] <= '9') {
        const auto digit = static_cast<std::uint64_t>(text[d.length] - '0');
        if (d.value > (kMax - digit) / 10)
            d.overflow = true;
        else
            d.value = d.value * 10 + digit;
        ++d.length;
    }
    return d;
}

// Callers quote the value in their own message, so these describe the fault only.
Error not_a_number(std::string_view text) {
    if (text.empty()) return error("empty value");
    // HAProxy's wording ("unexpected character") is what users search for.
    return error(
        fmt::format("unexpected character '{}' (a value starts with a digit)", text.front()));
}

Error too_large() {
    return error("value too large");
}

struct TimeUnit {
    std::string_view suffix;
    Duration length;
};

// Case-sensitive like HAProxy 2.6, which rejects "10S" and "10MS".
constexpr TimeUnit kTimeUnits[] = {
    {"us", std::chrono::microseconds(1)}, {"ms", std::chrono::milliseconds(1)},
    {"s", std::chrono::seconds(1)},       {"m", std::chrono::minutes(1)},
    {"h", std::chrono::hours(1)},         {"d", std::chrono::hours(24)},
};

}  // namespace

Result<Duration> parse_duration(std::string_view text, Duration bare_unit) {
    const Digits d = leading_digits(text);
    if (d.length == 0) return not_a_number(text);
    const std::string_view suffix = text.substr(d.length);
    Duration unit = bare_unit;
    if (!suffix.empty()) {
        const TimeUnit* found = nullptr;
        for (const TimeUnit& u : kTimeUnits)
            if (u.suffix == suffix) found = &u;
        if (!found)
            // HAProxy 2.6 only warns about "10sec" or "1m30s"; we refuse, as 2.6's warning
            // announces later versions will.
            return error(
                fmt::format("unexpected character '{}': unknown unit '{}' (expected us, "
                            "ms, s, m, h or d)",
                            suffix.front(), suffix));
        unit = found->length;
    }
    if (d.overflow ||
        d.value > static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max()))
        return too_large();
    Duration::rep micros = 0;
    if (__builtin_mul_overflow(static_cast<Duration::rep>(d.value), unit.count(), &micros))
        return too_large();
    return Duration(micros);
}

Result<std::uint64_t> parse_size(std::string_view text) {
    const Digits d = leading_digits(text);
    if (d.length == 0) return not_a_number(text);
    const std::string_view suffix = text.substr(d.length);
    unsigned shift = 0;
    if (!suffix.empty()) {
        switch (suffix.size() == 1 ? suffix.front() : '\0') {
            case 'k':
            case 'K':
                shift = 10;
                break;
            case 'm':
            case 'M':
                shift = 20;
                break;
            case 'g':
            case 'G':
                shift = 30;
                break;
            default:
                return error(
                    fmt::format("unexpected character '{}': unknown unit '{}' (expected "
                                "k, m or g)",
                                suffix.front(), suffix));
        }
    }
    if (d.overflow || d.value > (std::numeric_limits<std::uint64_t>::max() >> shift))
        return too_large();
    return d.value << shift;
}

Result<std::uint64_t> parse_uint(std::string_view text, std::uint64_t max) {
    const Digits d = leading_digits(text);
    if (d.length == 0) return not_a_number(text);
    if (d.length != text.size())
        return error(fmt::format("unexpected character '{}' (digits only)", text[d.length]));
    if (d.overflow || d.value > max) return error(fmt::format("larger than the maximum {}", max));
    return d.value;
}

}  // namespace sluice::util
