// One Worker per thread: it watches every listener on its loop, accepts within the global and
// frontend maxconn (pausing, not refusing, at the limit), owns the thread's streams and its
// queues of streams waiting for a server slot. The Engine ties the workers of a process together.
#pragma once

#include <ev.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "sluice/core/loop.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/rules/tcp_rules.hpp"
#include "sluice/sample/sample.hpp"
#include "sluice/stream/session.hpp"
#include "sluice/stream/stream.hpp"

namespace sluice::stream {

struct ClientAddresses;
class Engine;
class IdlePool;

class Worker {
  public:
    Worker(Engine& engine, core::Loop& loop);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    core::Loop& loop() { return loop_; }
    Engine& engine() { return engine_; }
    const proxy::Config& config() const;

    void start_listeners();
    void stop_listeners();  // soft stop: no new accepts on this thread
    void resume_paused();   // a slot was freed somewhere: accept again if limits allow
    // The runtime API paused, resumed or stopped `fe` (Frontend::listening): this thread's
    // watchers of its listeners follow.
    void frontend_listening(const proxy::Frontend& fe);

    // A stream registers when it starts and leaves when it ends (freeing its frontend and
    // global slots), so that a stopped worker can free what is still open.
    void stream_opened(QueueLink& link);
    void stream_closed(proxy::Frontend& fe, QueueLink& link);
    // A connection passes from one stream object to another (its slots go with it).
    void stream_handed_over(QueueLink& link);
    // tcp-request session rules (after any PROXY header), then the mode's stream; `session`:
    // what the PROXY header and the connection rules left (addresses, sess variables).
    void launch(proxy::Frontend& fe, int fd, Session session);
    // Called when a stream gives a slot on `srv` back: wake a queued stream, here or elsewhere
    // (the server's own queue first, then its backend's).
    void server_released(proxy::Server& srv);
    // Puts a stream whose `pick` found no free slot in the queue it names: the server's it is
    // bound to (Pick::wait_for), else the backend's. A stream already in that queue keeps its
    // place. False when the server's queue is at its `maxqueue` (the stream is not queued).
    // Streams are kept in `priority` order, those of equal priority in arrival order.
    bool enqueue(proxy::Backend& be, const proxy::Pick& pick, const proxy::QueuePriority& priority,
                 WaitLink& link);
    void dequeue(WaitLink& link);
    // The stream leaves its queue (if in one: `be`'s or one of its servers') because it got
    // its slot: its position in that queue is added to `positions`.
    void dequeue_served(WaitLink& link, const proxy::Backend& be, QueuePositions& positions);
    // `on-marked-down shutdown-sessions`: this thread's streams holding a slot on `srv` end.
    void shutdown_server_sessions(const proxy::Server& srv);
    // `del server`, on this thread: nothing of it is kept (idle connections, streams'
    // memories of it); a stream still waiting in its queue goes back to the balancer.
    void forget_server(const proxy::Server& srv);
    // `show sess`: this thread's streams (or the one whose id is `only`), described.
    void describe_streams(std::string& out, const void* only, bool detail) const;
    // `shutdown session`: ends the stream whose id is `id`, if it is one of this thread's.
    bool kill_stream(const void* id);
    // This thread's idle server connections (http-reuse).
    IdlePool& idle_pool() { return *idle_pool_; }
    // Scratch strings for rule evaluation on this thread (reset per message head).
    sample::Arena& arena() { return arena_; }
    // This thread's stats block of a frontend, backend or server (proxy/counters.hpp), and the
    // loop's clock in whole seconds for the rates.
    proxy::Counts& counts(proxy::PerThreadCounts& of) {
        return of.at(static_cast<std::uint32_t>(loop_.index()));
    }
    std::uint32_t second() const { return static_cast<std::uint32_t>(ev_now(loop_.raw())); }
    // A stream got a slot on `srv` for a new session (`balanced`: the algorithm chose it).
    void count_session(proxy::Server& srv, bool balanced);
    // The time from `since` to now, for the frontend (when given), the server and its backend
    // (when given).
    void count_time(proxy::Frontend* fe, proxy::Server* srv, proxy::TimingKind kind,
                    ev_tstamp since);
    // Bytes sent on: `to_client` (bout) or to the server (bin), for each object given.
    void count_bytes(proxy::Frontend& fe, proxy::Backend* be, const proxy::Server* srv,
                     bool to_client, std::uint64_t n);

  private:
    struct ListenWatcher {
        ev_io io;
        Worker* worker;
        proxy::Frontend* frontend;
        proxy::Listener* listener;
        bool paused = false;    // at a connection limit (resume_paused)
        bool disabled = false;  // its frontend is paused or stopped (frontend_listening)
    };
    static void on_listener_ready(struct ev_loop* raw, ev_io* w, int revents);
    static void on_fd_limit_timer(struct ev_loop* raw, ev_timer* w, int revents);
    void accept_from(ListenWatcher& lw);
    // tcp-request connection rules on a just-accepted connection; what their actions set
    // (addresses, sess variables) goes into `session`.
    rules::Admission admitted(proxy::Frontend& fe, int fd, Session& session);
    bool has_room(const proxy::Frontend& fe) const;
    void pause(ListenWatcher& lw);
    // Out of descriptors, or at a connection or session rate: no listener of this thread is
    // watched for `seconds`.
    void rest_listeners(double seconds);
    void log_connect(const proxy::Frontend& fe, const ClientAddresses& a);
    // Wakes the streams of one queue, oldest first, until one finds no slot.
    void drain(QueueLink& head);
    void drain_after_release(proxy::Server& srv);

    Engine& engine_;
    core::Loop& loop_;
    std::vector<std::unique_ptr<ListenWatcher>> watchers_;
    std::vector<QueueLink> queue_heads_;  // per backend index; circular sentinel
    // Per Server::uid, circular sentinels; a deque, so that growing for a server the runtime
    // API added moves no sentinel a queue points to.
    std::deque<QueueLink> server_heads_;
    QueueLink& server_head(const proxy::Server& srv);
    ev_timer fd_limit_timer_;
    bool stopping_ = false;
    bool shutting_down_ = false;
    QueueLink streams_head_;  // every open stream of this thread; circular sentinel
    std::unique_ptr<IdlePool> idle_pool_;
    sample::Arena arena_;
};

// The process-wide side of the data path: the config, the workers, soft and hard stop.
class Engine {
  public:
    Engine(proxy::Config& config, core::Runtime& runtime);
    ~Engine();

    proxy::Config& config() { return config_; }
    core::Runtime& runtime() { return runtime_; }
    // Runtime::run's per-thread setup: creates the thread's Worker and starts its listeners.
    void setup_thread(core::Loop& loop);
    Worker& worker(int index) { return *workers_[static_cast<std::size_t>(index)]; }

    // SIGUSR1: every thread stops accepting; the listeners close once all have; connections
    // finish on their own, and each loop ends when its last one does.
    void soft_stop();
    // Any listener paused for lack of room elsewhere asks every thread to look again.
    std::atomic<bool>& any_paused() { return any_paused_; }
    void listener_stopped();  // a worker stopped its watchers (soft stop)
    // The runtime API (on `caller`'s loop): every thread's streams described, or the one
    // whose id is `only`; ends the stream `id` (false: no thread has it). Other threads answer
    // through their mailboxes; the caller waits for them, a second at most.
    std::string describe_streams(int caller, const void* only, bool detail);
    bool kill_stream(int caller, const void* id);
    // `shutdown frontend`: every thread stops watching the frontend's listeners, then the last
    // one closes them.
    void shutdown_frontend(proxy::Frontend& fe);

  private:
    proxy::Config& config_;
    core::Runtime& runtime_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::atomic<bool> any_paused_{false};
    std::atomic<int> threads_to_stop_{0};
    std::atomic<bool> stopping_{false};
};

}  // namespace sluice::stream
