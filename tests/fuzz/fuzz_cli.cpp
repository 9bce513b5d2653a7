// Fuzzes the runtime API's line reading (cli/session.cpp split_line) and command lookup: any
// line splits; every word of the result is non-empty and each command has words (but for a
// line with none); writing the commands back with escapes and splitting again gives them
// back; looking each command up and listing the help it filters never fails.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sluice/cli/command.hpp"

namespace {

std::string escaped(const std::vector<std::vector<std::string>>& commands) {
    std::string out;
    for (std::size_t c = 0; c < commands.size(); ++c) {
        if (c) out += ';';
        for (std::size_t w = 0; w < commands[c].size(); ++w) {
            if (w) out += ' ';
            for (char ch : commands[c][w]) {
                if (ch == ' ' || ch == '\t' || ch == ';' || ch == '\\') out += '\\';
                out += ch;
            }
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto commands = sluice::cli::split_line(line);
    if (commands.empty()) std::abort();
    for (const auto& c : commands) {
        if (c.empty() && commands.size() != 1) std::abort();
        for (const auto& w : c)
            if (w.empty()) std::abort();
        (void)sluice::cli::find_command(c);
        std::string out;
        sluice::cli::list_commands(out, c);
        sluice::cli::unknown_command(out, c);
    }
    if (!(commands.size() == 1 && commands[0].empty()) &&
        sluice::cli::split_line(escaped(commands)) != commands)
        std::abort();
    return 0;
}
