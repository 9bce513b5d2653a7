// The runtime API's sockets (`stats socket`): listeners opened at start-up, watched by the
// first loop, and the sessions that read command lines from them. One-shot use (a command line,
// its answer, the close) and interactive use (`prompt`) behave as HAProxy's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cli/command.hpp"
#include "sluice/core/loop.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/util/units.hpp"

namespace sluice::cli {

// The global section's `stats socket|timeout|maxconn` (a cfg::Parts part of the global).
struct SocketConf {
    net::Endpoint endpoint;
    net::BindOptions options;
    Level level = Level::Operator;  // HAProxy's default
    cfg::Location where;
};
struct CliConf {
    std::vector<SocketConf> sockets;
    util::Duration timeout = std::chrono::seconds(10);
    std::uint32_t maxconn = 10;
};
// What a `bind` line's `level` option sets (in the line's Parts).
struct BindLevel {
    Level level = Level::Operator;
};

class Session;

class Server {
  public:
    explicit Server(proxy::Config& config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Opens the sockets (before the loops run); false with the reasons in `diag`.
    bool open(cfg::Diagnostics& diag);
    // On the first loop: start accepting.
    void setup_thread(core::Loop& loop);
    // Soft stop: accept no more sessions (those open finish), so the loop can end.
    void stop();
    // After the loops stopped, before they are destroyed: sessions and sockets close.
    void close_all();

    // Sessions report their end.
    void session_closed(Session* session);
    const CliConf& conf() const { return *conf_; }
    Hooks hooks;  // set by main before the loops run
    proxy::Config& config() { return config_; }

  private:
    struct Listener;
    static void on_accept(struct ev_loop* raw, ev_io* w, int revents);
    void pause(bool paused);
    proxy::Config& config_;
    const CliConf* conf_;
    core::Loop* loop_ = nullptr;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::vector<std::unique_ptr<Session>> sessions_;
};

}  // namespace sluice::cli
