// Fuzzes the server-state file's reader (cli/server_state.cpp parse_server_state): any bytes
// parse; every server kept has in-range values and came from a line of the input; a file
// whose first line is not "1" gives no server.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sluice/cli/server_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto f = sluice::cli::parse_server_state(text);
    if (!f.versioned && (!f.servers.empty() || !f.errors.empty())) std::abort();
    std::size_t lines = 1;
    for (char c : text)
        if (c == '\n') ++lines;
    std::size_t last = 1;
    for (const auto& s : f.servers) {
        if (s.op_state > 3 || s.port > 65535 || s.check_port > 65535 || s.agent_port > 65535)
            std::abort();
        if (s.line <= last || s.line > lines) std::abort();
        if (s.be_name.empty() || s.srv_name.empty() || s.addr.empty()) std::abort();
        last = s.line;
    }
    return 0;
}
