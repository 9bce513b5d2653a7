// Internal to the cli module: one runtime-API connection. It reads command lines, splits them
// as HAProxy does (words on spaces and tabs, `\` escaping, `;` between commands, a payload after
// a final `<<` up to an empty line), runs them and writes their answers, each followed by an
// empty line, and by the prompt in interactive mode.
#pragma once

#include <ev.h>

#include <string>
#include <vector>

#include "sluice/cli/command.hpp"
#include "sluice/cli/server.hpp"

namespace sluice::cli {

class Session {
  public:
    Session(Server& server, core::Loop& loop, int fd, Level level);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    Level level() const { return level_; }
    // `operator`, `user`: a session may only lower its level.
    void lower_level(Level level) {
        if (level < level_) level_ = level;
    }
    SeverityOutput severity_output() const { return severity_; }
    void set_severity_output(SeverityOutput s) { severity_ = s; }
    void toggle_prompt() { prompt_ = !prompt_; }
    void quit() { quitting_ = true; }
    void set_timeout(util::Duration d) { timeout_ = d; }

  private:
    static void on_io(struct ev_loop* raw, ev_io* w, int revents);
    static void on_timer(struct ev_loop* raw, ev_timer* w, int revents);
    void readable();
    void process();
    void run_line(std::string_view line, std::string_view payload);
    void run(std::span<const std::string> args, std::string_view payload);
    bool flush();
    void close();
    void arm_timer();
    void watch(int events);

    Server& server_;
    core::Loop& loop_;
    int fd_;
    Level level_;
    SeverityOutput severity_ = SeverityOutput::None;
    util::Duration timeout_;
    ev_io io_;
    ev_timer timer_;
    std::string in_, out_;
    std::string payload_command_;  // a line that ended in `<<`: its payload is being read
    std::string payload_;
    bool in_payload_ = false;
    bool prompt_ = false;
    bool quitting_ = false;
    bool eof_ = false;   // the client sent its last byte
    bool done_ = false;  // nothing more is read: close once the output is out
};

}  // namespace sluice::cli
