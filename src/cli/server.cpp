// The runtime API's listening sockets and its sessions (see server.hpp).
#include "sluice/cli/server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "session.hpp"

namespace sluice::cli {

struct Server::Listener {
    ev_io io;
    Server* server = nullptr;
    net::ListenSocket socket;
    Level level = Level::Operator;
};

Server::Server(proxy::Config& config)
    : config_(config), conf_(&config.doc.global.read<CliConf>()) {}

Server::~Server() {
    close_all();
}

void Server::close_all() {
    sessions_.clear();
    stop();
    loop_ = nullptr;
}

bool Server::open(cfg::Diagnostics& diag) {
    for (const SocketConf& sc : conf_->sockets) {
        auto socket = net::open_listener(sc.endpoint, sc.options, 0);
        if (!socket) {
            diag.alert(sc.where, fmt::format("stats socket : {}", socket.error()));
            return false;
        }
        auto l = std::make_unique<Listener>();
        l->server = this;
        l->socket = std::move(*socket);
        l->level = sc.level;
        ev_io_init(&l->io, on_accept, l->socket.fd, EV_READ);
        l->io.data = l.get();
        listeners_.push_back(std::move(l));
    }
    return true;
}

void Server::setup_thread(core::Loop& loop) {
    if (loop.index() != 0) return;  // one loop serves the runtime API, as HAProxy's thread 1
    loop_ = &loop;
    for (auto& l : listeners_)
        ev_io_start(loop.raw(), &l->io);
}

void Server::stop() {
    for (auto& l : listeners_) {
        if (loop_) ev_io_stop(loop_->raw(), &l->io);
        net::close_listener(l->socket);
    }
    listeners_.clear();
}

void Server::on_accept(struct ev_loop*, ev_io* w, int) {
    auto* l = static_cast<Listener*>(w->data);
    Server& self = *l->server;
    for (int i = 0; i < 16; ++i) {
        // `stats maxconn`: at the limit, clients wait in the backlog until a session ends.
        if (self.sessions_.size() >= self.conf_->maxconn) {
            self.pause(true);
            return;
        }
        const int fd = ::accept4(l->socket.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or an error the next readiness retries
        self.loop_->activity().accepted.add();
        self.sessions_.push_back(std::make_unique<Session>(self, *self.loop_, fd, l->level));
    }
}

void Server::pause(bool paused) {
    if (!loop_) return;
    for (auto& l : listeners_) {
        if (paused)
            ev_io_stop(loop_->raw(), &l->io);
        else
            ev_io_start(loop_->raw(), &l->io);
    }
}

void Server::session_closed(Session* session) {
    auto it = std::find_if(sessions_.begin(), sessions_.end(),
                           [&](const auto& s) { return s.get() == session; });
    if (it == sessions_.end()) return;
    const bool was_full = sessions_.size() >= conf_->maxconn;
    sessions_.erase(it);
    if (was_full) pause(false);
}

}  // namespace sluice::cli
