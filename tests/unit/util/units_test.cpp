#include "sluice/util/units.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace sluice::util {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Duration duration_ok(std::string_view text, Duration bare = milliseconds(1)) {
    auto r = parse_duration(text, bare);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
    return r.ok() ? *r : Duration(-1);
}

std::string duration_error(std::string_view text) {
    auto r = parse_duration(text);
    EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r->count() : 0) << "us";
    return r.ok() ? std::string() : r.error();
}

TEST(ParseDuration, BareNumberIsInMillisecondsByDefault) {
    EXPECT_EQ(duration_ok("150"), milliseconds(150));
    EXPECT_EQ(duration_ok("0"), Duration(0));
}

TEST(ParseDuration, BareNumberUsesTheCallersUnit) {
    EXPECT_EQ(duration_ok("3", seconds(1)), seconds(3));
    EXPECT_EQ(duration_ok("3", microseconds(1)), microseconds(3));
    // A suffix overrides the bare unit.
    EXPECT_EQ(duration_ok("3ms", seconds(1)), milliseconds(3));
}

TEST(ParseDuration, EveryUnit) {
    EXPECT_EQ(duration_ok("500us"), microseconds(500));
    EXPECT_EQ(duration_ok("150ms"), milliseconds(150));
    EXPECT_EQ(duration_ok("10s"), seconds(10));
    EXPECT_EQ(duration_ok("2m"), minutes(2));
    EXPECT_EQ(duration_ok("1h"), hours(1));
    EXPECT_EQ(duration_ok("1d"), hours(24));
}

TEST(ParseDuration, LeadingZerosAreDecimal) {
    // HAProxy 2.6 reads "timeout connect 010" as 10 ms, not octal.
    EXPECT_EQ(duration_ok("010"), milliseconds(10));
    EXPECT_EQ(duration_ok("007s"), seconds(7));
}

TEST(ParseDuration, UnitsAreCaseSensitive) {
    // HAProxy 2.6 rejects "10S", "10MS" and "10Us".
    EXPECT_EQ(duration_error("10S"),
              "unexpected character 'S': unknown unit 'S' (expected us, ms, s, m, h or d)");
    duration_error("10MS");
    duration_error("10Us");
    duration_error("1D");
}

TEST(ParseDuration, RejectsEmptyInput) {
    EXPECT_EQ(duration_error(""), "empty value");
}

TEST(ParseDuration, RejectsSignsAndNonDigits) {
    EXPECT_EQ(duration_error("-1"), "unexpected character '-' (a value starts with a digit)");
    EXPECT_EQ(duration_error("+1"), "unexpected character '+' (a value starts with a digit)");
    EXPECT_EQ(duration_error("s"), "unexpected character 's' (a value starts with a digit)");
    EXPECT_EQ(duration_error(" 10"), "unexpected character ' ' (a value starts with a digit)");
}

TEST(ParseDuration, RejectsUnknownSuffixesAndTrailingJunk) {
    EXPECT_EQ(duration_error("10sec"),
              "unexpected character 's': unknown unit 'sec' (expected us, ms, s, m, h or d)");
    // HAProxy 2.6 only warns for these two and announces an error in later versions.
    duration_error("1m30s");
    duration_error("10mss");
    EXPECT_EQ(duration_error("1.5s"),
              "unexpected character '.': unknown unit '.5s' (expected us, ms, s, m, h or d)");
    duration_error("0x10");
    duration_error("10 ");
    duration_error("10k");
}

TEST(ParseDuration, LargestValuesFit) {
    EXPECT_EQ(duration_ok("9223372036854775807us"), Duration(INT64_MAX));
    EXPECT_EQ(duration_ok("106751991d"), hours(24) * 106751991);
    // HAProxy's own cap for timeouts (2^31-1 ms) belongs to the timeout keywords.
    EXPECT_EQ(duration_ok("25d"), hours(24 * 25));
}

TEST(ParseDuration, RejectsOverflow) {
    EXPECT_EQ(duration_error("9223372036854775808us"), "value too large");
    EXPECT_EQ(duration_error("106751992d"), "value too large");
    EXPECT_EQ(duration_error("9223372036854775807"), "value too large");  // x1000 for ms
    EXPECT_EQ(duration_error("99999999999999999999999999"), "value too large");
    // A bad unit is reported before the overflow it would have caused.
    EXPECT_EQ(duration_error("99999999999999999999999999x"),
              "unexpected character 'x': unknown unit 'x' (expected us, ms, s, m, h or d)");
}

std::uint64_t size_ok(std::string_view text) {
    auto r = parse_size(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
    return r.ok() ? *r : 0;
}

std::string size_error(std::string_view text) {
    auto r = parse_size(text);
    EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? *r : 0);
    return r.ok() ? std::string() : r.error();
}

TEST(ParseSize, PlainBytes) {
    EXPECT_EQ(size_ok("16384"), 16384u);
    EXPECT_EQ(size_ok("0"), 0u);
    EXPECT_EQ(size_ok("010"), 10u);
}

TEST(ParseSize, SuffixesArePowersOf1024AndCaseInsensitive) {
    EXPECT_EQ(size_ok("16k"), 16u * 1024);
    EXPECT_EQ(size_ok("16K"), 16u * 1024);
    EXPECT_EQ(size_ok("1m"), 1024u * 1024);
    EXPECT_EQ(size_ok("1M"), 1024u * 1024);
    EXPECT_EQ(size_ok("2g"), 2ull << 30);
    EXPECT_EQ(size_ok("2G"), 2ull << 30);
}

TEST(ParseSize, RejectsBadInput) {
    EXPECT_EQ(size_error(""), "empty value");
    EXPECT_EQ(size_error("k"), "unexpected character 'k' (a value starts with a digit)");
    EXPECT_EQ(size_error("-1"), "unexpected character '-' (a value starts with a digit)");
    size_error("+1");
    // HAProxy 2.6 rejects these in "stick-table size" too.
    EXPECT_EQ(size_error("1t"), "unexpected character 't': unknown unit 't' (expected k, m or g)");
    EXPECT_EQ(size_error("1kb"),
              "unexpected character 'k': unknown unit 'kb' (expected k, m or g)");
    size_error("1.5k");
    size_error("0x10");
    size_error("16 k");
}

TEST(ParseSize, OverflowIsAnError) {
    EXPECT_EQ(size_ok("18446744073709551615"), UINT64_MAX);
    EXPECT_EQ(size_error("18446744073709551616"), "value too large");
    EXPECT_EQ(size_ok("17179869183g"), 17179869183ull << 30);
    EXPECT_EQ(size_error("17179869184g"), "value too large");
    EXPECT_EQ(size_error("18014398509481984k"), "value too large");
}

TEST(ParseUint, AcceptsDecimal) {
    EXPECT_EQ(*parse_uint("0"), 0u);
    EXPECT_EQ(*parse_uint("42"), 42u);
    EXPECT_EQ(*parse_uint("007"), 7u);
    EXPECT_EQ(*parse_uint("18446744073709551615"), UINT64_MAX);
}

TEST(ParseUint, HonoursMax) {
    EXPECT_EQ(*parse_uint("256", 256), 256u);
    auto r = parse_uint("257", 256);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "larger than the maximum 256");
    EXPECT_EQ(parse_uint("18446744073709551616").error(),
              "larger than the maximum 18446744073709551615");
    EXPECT_EQ(parse_uint("99999999999999999999999", 10).error(), "larger than the maximum 10");
    EXPECT_EQ(*parse_uint("0", 0), 0u);
    EXPECT_FALSE(parse_uint("1", 0).ok());
}

TEST(ParseUint, RejectsAnythingButDigits) {
    EXPECT_EQ(parse_uint("").error(), "empty value");
    EXPECT_EQ(parse_uint("-1").error(), "unexpected character '-' (a value starts with a digit)");
    EXPECT_EQ(parse_uint("+1").error(), "unexpected character '+' (a value starts with a digit)");
    EXPECT_EQ(parse_uint("0x10").error(), "unexpected character 'x' (digits only)");
    EXPECT_EQ(parse_uint("12a").error(), "unexpected character 'a' (digits only)");
    EXPECT_EQ(parse_uint("1k").error(), "unexpected character 'k' (digits only)");
    EXPECT_EQ(parse_uint("1 ").error(), "unexpected character ' ' (digits only)");
    EXPECT_FALSE(parse_uint(" 1").ok());
}

}  // namespace
}  // namespace sluice::util
