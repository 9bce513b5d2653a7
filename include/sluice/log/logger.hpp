// Sending messages to a section's log targets. A Logger is resolved once at build time (the
// targets after `log global`, defaults and `no log`; the tag; the host name) and is then
// immutable but for its sampling counters. emit() never blocks: datagrams go through
// non-blocking per-thread sockets opened on first use, descriptors (stdout...) are written
// without waiting, and a message that cannot leave at once is dropped and counted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/log/conf.hpp"

namespace sluice::log {

struct FdSink;

class Logger {
  public:
    // `conf`: the section's part; `global`: the global section's (tag and host name).
    Logger(const LogConf& conf, const LogConf& global);
    ~Logger();
    Logger(const Logger&) = delete;
    Logger& operator=(const Logger&) = delete;

    bool empty() const { return targets_.empty(); }
    // Whether some target takes messages of `level`: callers building a costly message (a
    // request's log line) ask first.
    bool wants(Level level) const { return !targets_.empty() && level <= most_verbose_; }
    // Sends `message` to every target whose level lets it through; callable from any thread.
    // `sd`: rfc5424 structured data (`log-format-sd`), ignored by the other formats.
    void emit(Level level, std::string_view message, std::string_view sd = {}) const;

  private:
    struct Runtime {
        LogLine line;
        Destination destination;
        Format format = Format::Local;
        std::string host;
        FdSink* sink = nullptr;
        mutable std::atomic<std::uint64_t> sampled{0};
    };
    std::vector<std::unique_ptr<Runtime>> targets_;
    std::string tag_;
    Level most_verbose_ = Level::Emerg;
};

// The program name HAProxy uses as the default tag (argv[0]'s last component).
void set_program_name(std::string_view argv0);
std::string_view program_name();

// The process id, as the syslog header and %pid show it: asked of the kernel once per process
// (glibc no longer caches it; a fork, as -D makes, asks again), not once per line.
int process_id();

// Messages dropped since start (a target busy, a pipe full): `show info`'s DroppedLogs.
std::uint64_t dropped();

// The process's own messages (alerts, server state changes) as HAProxy sends them: to the
// global targets, set once at start-up. Null until then.
void set_global_logger(const Logger* logger);
const Logger* global_logger();

}  // namespace sluice::log
