// Fuzzes `show errors`' dump of a captured buffer (http/error_capture.cpp) with any bytes.
// Checked for every input:
//  - every output line fits in 79 columns and starts with "  NNNNN" and ' ' or '+';
//  - its offset is where the previous line stopped, and '+' exactly when that line did not end
//    on an LF;
//  - unescaping the lines gives the input back, byte for byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/http/error_capture.hpp"

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    check(false);
    return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 60000) return 0;  // offsets stay five digits
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string back;
    std::size_t line_start = 0;
    bool after_lf = true;
    for (std::size_t pos = 0; pos < in.size();) {
        std::string out;
        const std::size_t next = sluice::http::dump_line(out, in, pos, line_start);
        check(next > pos && next <= in.size());
        check(out.size() <= 80 && out.back() == '\n');  // 79 columns, then the newline
        check(out.starts_with("  ") && out.size() >= 9 && out[8] == ' ');
        check(std::stoul(out.substr(2, 5)) == pos % 100000 || pos >= 100000);
        check(out[7] == (after_lf ? ' ' : '+'));
        for (std::size_t i = 9; i + 1 < out.size(); ++i) {
            if (out[i] != '\\') {
                back += out[i];
                continue;
            }
            const char e = out[++i];
            if (e == 'x') {
                back += static_cast<char>(hex(out[i + 1]) * 16 + hex(out[i + 2]));
                i += 2;
            } else {
                back += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 'e' ? '\x1b' : e;
            }
        }
        after_lf = in[next - 1] == '\n';
        check(after_lf == (line_start == next));
        pos = next;
    }
    check(back == in);
    return 0;
}
