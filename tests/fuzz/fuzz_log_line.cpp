// Fuzzes the `log` line parser (log/parse.cpp) and the header builder behind it: the input is
// a line of words split on spaces; whatever parses must respect the bounds it promises, and
// the line built from it must fit `len` as HAProxy cuts it. The address is not resolved (no
// network in a fuzzer).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/log/conf.hpp"
#include "sluice/log/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::size_t nl = in.find('\n');
    const std::string_view words = in.substr(0, nl);
    const std::string_view message = nl == std::string_view::npos ? "" : in.substr(nl + 1);
    std::vector<std::string> args;
    std::size_t pos = 0;
    while (pos <= words.size() && args.size() < 32) {
        const std::size_t sp = words.find(' ', pos);
        args.emplace_back(words.substr(pos, sp == std::string_view::npos ? sp : sp - pos));
        if (sp == std::string_view::npos) break;
        pos = sp + 1;
    }
    auto line = sluice::log::parse_log_line(args);
    if (!line) return 0;
    if (line->max_len < 80 || line->max_len > 65535 || line->facility > 23) __builtin_trap();
    for (const auto& r : line->ranges)
        if (r.low == 0 || r.high < r.low || r.high > line->sample_size) __builtin_trap();
    const sluice::log::Stamp when = sluice::log::make_stamp(1700000000, 123456);
    std::string out;
    for (bool fd : {false, true}) {
        sluice::log::build_line(out, line->format.value_or(sluice::log::Format::Local),
                                line->facility, line->level, when, {"host", "tag", "1234"}, message,
                                line->max_len, fd);
        if (out.empty() || out.back() != '\n' || out.size() > line->max_len + 1) __builtin_trap();
    }
    return 0;
}
