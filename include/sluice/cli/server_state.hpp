// Server state across restarts, as HAProxy 2.6 keeps it: `show servers state [<backend>]`
// writes it (format version 1), and at start-up `load-server-state-from-file global|local`
// reads such a file (`server-state-file`, `server-state-base`, `server-state-file-name`) and
// gives each server found its admin state, weight, operational state and port again.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/proxy/runtime.hpp"

namespace sluice::cli {

// The settings of the four keywords.
struct ServerStateGlobalConf {
    std::string file;  // `server-state-file`
    std::string base;  // `server-state-base`
};
struct ServerStateProxyConf {
    enum class Load : std::uint8_t { None, Global, Local } load = Load::None;
    std::string file_name;  // `server-state-file-name`; empty: the backend's name
};

// One server's line of a state file (format version 1: 20 to 25 fields).
struct ServerStateLine {
    std::size_t line = 0;  // in the file, from 1
    std::uint32_t be_id = 0;
    std::string be_name;
    std::uint32_t srv_id = 0;
    std::string srv_name;
    std::string addr;
    std::uint32_t op_state = 0;     // 0 stopped, 1 starting, 2 running, 3 stopping
    std::uint32_t admin_state = 0;  // kAdmin* bits
    std::uint32_t uweight = 0, iweight = 0;
    std::int64_t since_change = 0;
    std::uint32_t check_status = 0, check_result = 0, check_health = 0;
    std::uint32_t check_state = 0, agent_state = 0;
    std::uint32_t port = 0;
    // Version 1's optional fields (srv_use_ssl and later).
    std::uint32_t check_port = 0, agent_port = 0;
    std::string check_addr, agent_addr;
};

// HAProxy's admin-state bits in the file.
inline constexpr std::uint32_t kAdminForcedMaint = 0x01, kAdminConfigMaint = 0x04,
                               kAdminForcedDrain = 0x08;
// Check-state bits: configured, enabled, paused; an agent adds kCheckAgent.
inline constexpr std::uint32_t kCheckConfigured = 0x02, kCheckEnabled = 0x04, kCheckPaused = 0x08,
                               kCheckAgent = 0x10;

struct ServerStateFile {
    bool versioned = false;  // the first line said "1"
    std::vector<ServerStateLine> servers;
    std::vector<std::string> errors;  // lines left out, with why
};
// Reads a state file's text; never throws, whatever the bytes.
ServerStateFile parse_server_state(std::string_view text);

// `show servers state [<backend>]` for one backend, or all when `only` is null; `now` is the
// wall clock (the "time since last change" column).
void dump_servers_state(std::string& out, const proxy::Config& config, const proxy::Backend* only,
                        std::time_t now);
// HAProxy's id of a proxy: they are numbered from 2 (1 is its internal CLI frontend) in the
// order of the configuration.
std::uint32_t proxy_id(const proxy::Config& config, std::string_view name);

// Applies the state files the configuration asks for, before the loops run, printing
// HAProxy's messages. Call it before the health checks are built: they start from what it set.
void load_server_state(proxy::Config& config);

}  // namespace sluice::cli
