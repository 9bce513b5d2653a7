// The runtime API's diagnostics (`show activity`, `show threads`, `show pools`) in HAProxy
// 2.6's layouts. The commands (src/cli/cmd_diag.cpp) gather each loop's figures
// (core/activity.hpp); what is here only formats them, so it is tested on its own.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

// One `show activity` line: `key: total [ t1 t2 ... ]`, the brackets only with several threads
// (as HAProxy prints them); `average`: the total is the threads' rounded mean, not their sum.
void activity_line(std::string& out, std::string_view key, std::span<const std::uint64_t> values,
                   bool average = false);

// One memory pool of `show pools`, its threads added up.
struct PoolLine {
    std::string name;
    std::uint64_t block_size = 0;
    std::uint64_t allocated = 0;  // blocks obtained from the system and not given back
    std::uint64_t used = 0;       // of which handed out or kept by a thread cache (HAProxy's
                                  // "used" counts cached blocks too)
    std::uint64_t cached = 0;     // of which kept by the thread caches
    std::uint64_t needed_avg = 0;
    std::uint64_t failures = 0;
    std::uint64_t users = 1;
    std::uintptr_t address = 0;
};
// The whole `show pools` answer: pools by size (then name), then the total.
void format_pools(std::string& out, std::vector<PoolLine> pools);

// One thread's block of `show threads`.
struct ThreadLine {
    int number = 1;        // from 1
    int count = 1;         // threads in the process
    bool current = false;  // serving this command ('*')
    bool stuck = false;    // handling events and no iteration since the last `show threads` ('>')
    std::uintptr_t id = 0;
    bool handling = false;     // act
    bool mailbox = false;      // glob
    std::uint32_t events = 0;  // rq (as 0/1) and rqsz
    std::uint64_t cpu_ns = 0;  // 0: unknown
};
void format_thread(std::string& out, const ThreadLine& t);

// `show schema json`: a JSON Schema (draft 4) of what `show info json` and `show stat json`
// print, without white space as HAProxy prints its own.
std::string_view stats_json_schema();
// `text` without the white space outside JSON strings.
std::string json_minify(std::string_view text);

}  // namespace sluice::cli
