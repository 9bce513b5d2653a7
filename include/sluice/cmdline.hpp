// The command line, as HAProxy 2.6 spells it (`haproxy -h`), parsed into Options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/util/result.hpp"

namespace sluice {

struct Options {
    std::vector<std::string> config_paths;  // -f (repeatable) and files after --
    bool check_only = false;                // -c
    std::string condition;                  // -cc EXPR
    bool has_condition = false;
    bool foreground = false;            // -d / -db
    bool debug = false;                 // -d
    bool daemon = false;                // -D
    std::string pidfile;                // -p
    bool verbose = false;               // -V
    bool quiet = false;                 // -q
    int version = 0;                    // -v: 1, -vv: 2
    std::uint32_t global_maxconn = 0;   // -n
    std::uint32_t proxy_maxconn = 0;    // -N
    std::string local_peer;             // -L
    std::string chdir;                  // -C
    std::uint64_t memory_limit_mb = 0;  // -m
    int poison = -1;                    // -dM[byte]
    bool no_splice = false;             // -dS
    bool warnings_are_fatal = false;    // -dW
    bool diagnostics = false;           // -dD
    bool help = false;                  // -h
};

// Parses argv (without argv[0]). Errors name the offending argument.
util::Result<Options> parse_command_line(const std::vector<std::string>& args);

// HAProxy's usage text, adapted: what each flag does here.
std::string usage_text();

// `-v` and `-vv` output.
std::string version_text(bool build_details);

}  // namespace sluice
