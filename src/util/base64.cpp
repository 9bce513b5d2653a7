// Strict base64 decoding (see base64.hpp).
#include "sluice/util/base64.hpp"

#include <cstdint>

namespace sluice::util {
namespace {

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

bool base64_decode(std::string_view in, std::string& out) {
    if (in.size() % 4) return false;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        int pad = 0;
        if (i + 4 == in.size() && in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
        std::uint32_t v = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const int d = j >= 4 - static_cast<std::size_t>(pad) ? 0 : base64_value(in[i + j]);
            if (d < 0) return false;
            v = (v << 6) | static_cast<std::uint32_t>(d);
        }
        out.push_back(static_cast<char>(v >> 16));
        if (pad < 2) out.push_back(static_cast<char>(v >> 8));
        if (pad < 1) out.push_back(static_cast<char>(v));
    }
    return true;
}

}  // namespace sluice::util
