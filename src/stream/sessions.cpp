// The runtime API's view of the streams (`show sess`, `shutdown session`): each worker describes
// or ends its own streams on its own loop; the Engine gathers the answers for the caller.
#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>

#include "sluice/net/socket.hpp"
#include "sluice/stats/stats.hpp"
#include "sluice/stream/worker.hpp"

namespace sluice::stream {

void describe_stream(std::string& out, const void* id, int client_fd, const proxy::Frontend& fe,
                     const proxy::Backend* be, const proxy::Server* srv, int server_fd,
                     double started, double now, bool detail, std::uint32_t id_base) {
    net::Address peer;
    std::string src = "?";
    if (client_fd >= 0 && net::peer_address(client_fd, peer)) src = peer.to_string();
    const std::string_view proto = peer.family() == AF_INET6 ? "tcpv6" : "tcpv4";
    const auto age = static_cast<long>(now > started ? now - started : 0);
    const std::string be_name = be ? be->name : "<NONE>";
    const std::string srv_name = srv ? srv->name : "<none>";
    if (!detail) {
        fmt::format_to(std::back_inserter(out),
                       "{}: proto={} src={} fe={} be={} srv={} age={}s scf=[fd={}] scb=[fd={}]\n",
                       id, proto, src, fe.name, be_name, srv_name, age, client_fd, server_fd);
        return;
    }
    const auto t = static_cast<std::time_t>(started);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%d/%b/%Y:%H:%M:%S", &tm);
    const auto usec = static_cast<long>((started - static_cast<double>(t)) * 1e6);
    fmt::format_to(std::back_inserter(out), "{}: [{}.{:06}] proto={} source={}\n", id, date, usec,
                   proto, src);
    fmt::format_to(std::back_inserter(out), "  frontend={} (id={} mode={})\n", fe.name,
                   fe.uid + id_base, fe.http ? "http" : "tcp");
    if (be)
        fmt::format_to(std::back_inserter(out), "  backend={} (id={} mode={})\n", be->name,
                       be->uid + id_base, be->conf->mode == proxy::Mode::Http ? "http" : "tcp");
    else
        out += "  backend=<NONE> (id=-1 mode=-)\n";
    if (srv)
        fmt::format_to(std::back_inserter(out), "  server={} (id={}) addr={}\n", srv->name,
                       srv->puid, srv->destination.now().addr.address.to_string());
    else
        out += "  server=<NONE> (id=-1)\n";
    fmt::format_to(std::back_inserter(out), "  age={}s scf=[fd={}] scb=[fd={}]\n", age, client_fd,
                   server_fd);
}

void Worker::describe_streams(std::string& out, const void* only, bool detail) const {
    const double now = ev_now(loop_.raw());
    const std::uint32_t id_base = stats::proxy_id_base(config());
    for (const QueueLink* l = streams_head_.next; l && l != &streams_head_; l = l->next) {
        const Stream* s = l->owner;
        if (only && static_cast<const void*>(s) != only) continue;
        s->describe(out, detail, now, id_base);
    }
}

bool Worker::kill_stream(const void* id) {
    for (QueueLink* l = streams_head_.next; l && l != &streams_head_; l = l->next) {
        if (static_cast<const void*>(l->owner) != id) continue;
        l->owner->abandon();  // not inside the stream's own callback: it may go at once
        return true;
    }
    return false;
}

namespace {

// Runs `ask` on every worker's loop (the caller's directly) and waits for the others, a
// second at most: a loop that has ended answers nothing.
template <class Answer>
void ask_all(Engine& engine, int caller, Answer ask) {
    struct Wait {
        std::mutex mu;
        std::condition_variable done;
        std::size_t left = 0;
    };
    auto wait = std::make_shared<Wait>();
    const auto loops = engine.runtime().loops();
    wait->left = loops.size() - 1;
    for (const auto& loop : loops) {
        if (loop->index() == caller) continue;
        loop->mailbox().post([wait, ask, &engine](core::Loop& l) {
            ask(engine.worker(l.index()));
            std::lock_guard lock(wait->mu);
            --wait->left;
            wait->done.notify_one();
        });
    }
    ask(engine.worker(caller));
    std::unique_lock lock(wait->mu);
    wait->done.wait_for(lock, std::chrono::seconds(1), [&] { return wait->left == 0; });
}

}  // namespace

std::string Engine::describe_streams(int caller, const void* only, bool detail) {
    auto text = std::make_shared<std::pair<std::mutex, std::string>>();
    ask_all(*this, caller, [text, only, detail](Worker& w) {
        std::string mine;
        w.describe_streams(mine, only, detail);
        std::lock_guard lock(text->first);
        text->second += mine;
    });
    std::lock_guard lock(text->first);
    return text->second;
}

bool Engine::kill_stream(int caller, const void* id) {
    auto found = std::make_shared<std::atomic<bool>>(false);
    ask_all(*this, caller, [found, id](Worker& w) {
        if (w.kill_stream(id)) found->store(true);
    });
    return found->load();
}

}  // namespace sluice::stream
