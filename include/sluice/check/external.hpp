// External health checks (`option external-check`): a command run per check with the proxy's
// and the server's addresses as arguments and HAProxy's HAPROXY_* variables as its whole
// environment; exit status 0 passes. The child is spawned without a shell (clone with
// CLONE_VFORK as posix_spawn does, every inherited descriptor above stderr closed, in a process
// group of its own) and reaped through a pidfd watched on the check's own loop: no thread
// blocks, and no SIGCHLD handler runs (libev's own is removed, see ExternalProcess()).
#pragma once

#include <ev.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/check/expect.hpp"

namespace sluice::proxy {
struct Config;
struct Server;
}  // namespace sluice::proxy

namespace sluice::check {

// A proxy's `external-check command` and `external-check path` (inherited from defaults).
struct ExternalCheckConf {
    std::string command;
    std::string path;  // the command's PATH; HAProxy's default is empty
};

// The global section's `external-check`, `insecure-fork-wanted`, `insecure-setuid-wanted`.
struct GlobalExternalConf {
    bool allowed = false;
    bool insecure_fork = false;
    bool insecure_setuid = false;
};

// What one server's command is run with, fixed once at start-up (the current connection count
// is filled in at each run, as HAProxy does).
struct ExternalCommand {
    std::string command;            // as configured: argv[0], searched in `path` without a '/'
    std::string path;               // PATH for the search and the child
    std::vector<std::string> args;  // <proxy_address> <proxy_port> <server_address> <server_port>
    std::vector<std::string> env;   // "NAME=value", HAProxy's variables in HAProxy's order
    std::size_t curconn_index = 0;  // the HAPROXY_SERVER_CURCONN entry of `env`
};
ExternalCommand make_external_command(const proxy::Config& config, const proxy::Server& server);

// The result of a finished child, as HAProxy reports it: exit 0 passes ("code: 0"), another
// status fails with that code, a signal (`exited` false) fails with code -1.
Outcome external_outcome(bool exited, int code);

// One server's running command, on one loop.
class ExternalProcess {
  public:
    using Done = std::function<void(Outcome)>;
    ExternalProcess(ExternalCommand command, struct ev_loop* loop, Done done);
    ~ExternalProcess();
    ExternalProcess(const ExternalProcess&) = delete;
    ExternalProcess& operator=(const ExternalProcess&) = delete;

    // Runs the command; `done` is called from the loop when it exits. When it cannot start,
    // returns the outcome to report now (and `done` is not called).
    std::optional<Outcome> start(std::uint32_t curconn);
    // Ends the running command (timeout, soft stop): the child and its process group are
    // killed, `done` is not called, and the child is reaped when the kernel says it is gone.
    // `announce`: print HAProxy's "kill <pid>" warning (its timeout does).
    void kill(bool announce);
    bool running() const;

  private:
    struct Child;
    static void on_exit(struct ev_loop*, ev_io* w, int revents);
    void reap(Child& child);
    ExternalCommand command_;
    struct ev_loop* loop_;
    Done done_;
    // Children not yet reaped: the running one, and killed ones the kernel has not yet freed.
    std::vector<std::unique_ptr<Child>> children_;
};

}  // namespace sluice::check
