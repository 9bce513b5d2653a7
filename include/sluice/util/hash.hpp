// Small integer hashes shared by the hashing converters and the balancers.
#pragma once

#include <cstdint>

namespace sluice::util {

// One of Bob Jenkins' public-domain 32-bit integer mixers
// (burtleburtle.net/bob/hash/integer.html): every input bit changes each output bit with
// probability about 1/2.
constexpr std::uint32_t jenkins_mix32(std::uint32_t a) {
    a = (a + 0x7ed55d16) + (a << 12);
    a = (a ^ 0xc761c23c) ^ (a >> 19);
    a = (a + 0x165667b1) + (a << 5);
    a = (a + 0xd3a2646c) ^ (a << 9);
    a = (a + 0xfd7046c5) + (a << 3);
    a = (a ^ 0xb55a4f09) ^ (a >> 16);
    return a;
}

}  // namespace sluice::util
