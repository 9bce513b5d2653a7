// proxy::RateLimit, the per-second counter behind `maxconnrate`, `maxsessrate` and `set
// rate-limit`: HAProxy's estimate (this second's events plus the previous second's, weighted by
// what is left of this one) and how long a listener rests at the limit.
#include "sluice/proxy/rate.hpp"

#include <gtest/gtest.h>

namespace sluice::proxy {
namespace {

TEST(RateLimit, NoLimitNeverWaits) {
    RateLimit r;
    for (int i = 0; i < 100; ++i)
        r.count(1000.5);
    EXPECT_EQ(r.wait(1000.5), 0);
}

TEST(RateLimit, WaitsForTheNextSecondOnceThisOneIsFull) {
    RateLimit r;
    r.limit = 2;
    EXPECT_EQ(r.wait(1000.25), 0);
    r.count(1000.25);
    EXPECT_EQ(r.wait(1000.25), 0);
    r.count(1000.25);
    EXPECT_NEAR(r.wait(1000.25), 0.75, 0.01);  // two this second: until it ends
}

TEST(RateLimit, ThePreviousSecondWeighsWhatIsLeftOfThisOne) {
    RateLimit r;
    r.limit = 2;
    r.count(1000.9);
    r.count(1000.9);
    // At 1001.25 the estimate is 0 + 2 * 0.75 = 1.5 < 2: one more fits.
    EXPECT_EQ(r.wait(1001.25), 0);
    r.count(1001.25);
    // Now 1 + 2 * 0.75 = 2.5: wait until 1 + 2 * (1 - f) < 2, f > 0.5.
    EXPECT_NEAR(r.wait(1001.25), 0.25, 0.01);
    EXPECT_EQ(r.wait(1001.6), 0);
    // Two seconds on, nothing of it is left.
    EXPECT_EQ(r.wait(1003.0), 0);
}

TEST(RateLimit, AClockBehindCountsNothingAnew) {
    RateLimit r;
    r.limit = 1;
    r.count(1000.5);
    r.count(999.5);  // another thread's clock, a little late
    EXPECT_NEAR(r.wait(1000.5), 0.5, 0.01);
}

}  // namespace
}  // namespace sluice::proxy
