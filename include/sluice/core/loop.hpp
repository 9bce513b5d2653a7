// The thread runtime: one libev loop per thread, each with its mailbox and buffer pool.
// Everything reachable from a connection belongs to one Loop for life; other threads post Tasks
// to that loop's Mailbox instead of touching its objects.
#pragma once

#include <ev.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "sluice/core/activity.hpp"
#include "sluice/core/buffer.hpp"

namespace sluice::core {

class Loop;
// Control-plane messages between threads (rare: soft stop, resume listeners, admin changes).
// Capture ids and values, never pointers into another thread's objects.
using Task = std::function<void(Loop&)>;

// Many producers, one consumer (the owning loop); the owner is woken once per burst.
class Mailbox {
  public:
    explicit Mailbox(Loop& owner);
    ~Mailbox();
    void post(Task task);

  private:
    static void on_wake(struct ev_loop* raw, ev_async* w, int revents);
    void drain();

    Loop& owner_;
    ev_async wake_;
    std::mutex mu_;
    std::vector<Task> pending_;
};

class Loop {
  public:
    Loop(int index, struct ev_loop* raw, std::size_t bufsize, int poison);
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    struct ev_loop* raw() const {
        return raw_;
    }
    int index() const { return index_; }
    Mailbox& mailbox() { return *mailbox_; }
    BufferPool& buffers() { return buffers_; }
    const BufferPool& buffers() const { return buffers_; }
    // Written by this loop's thread only; read by any (relaxed).
    Activity& activity() { return activity_; }
    const Activity& activity() const { return activity_; }
    // The loop's cached time of the current iteration (libev's clock cache), in seconds.
    ev_tstamp now() const { return ev_now(raw_); }

  private:
    // Runs each iteration's callbacks, counting them (libev's invoke_pending hook).
    static void invoke(struct ev_loop* raw);

    int index_;
    struct ev_loop* raw_;
    Activity activity_;
    BufferPool buffers_;
    std::unique_ptr<Mailbox> mailbox_;
};

// Points `w` (stopped) at `fd` with `events` when `fd` is still the same open socket another
// watcher of this loop registered: an idle server connection moving between a stream and the
// idle pool. ev_io_set would make libev re-register the descriptor with the kernel on the next
// start (one failing epoll_ctl per move, two per reused request); the registration is still
// right, so only the watcher changes. A new or reopened descriptor needs ev_io_set.
inline void io_rebind(ev_io& w, int fd, int events) {
    ev_io_set(&w, fd, events);
    w.events &= ~EV__IOFDSET;
}

struct RuntimeOptions {
    int threads = 1;
    std::size_t bufsize = 16384;
    int poison = -1;                         // -dM: byte to fill released buffers with
    std::vector<std::vector<int>> cpu_sets;  // per thread; empty = no binding
};

// Owns the loops and their threads. Thread 0 is the caller's thread and runs libev's default
// loop, the only one that receives signals; the others block them.
class Runtime {
  public:
    explicit Runtime(RuntimeOptions options);
    ~Runtime();

    // Calls `setup` on each thread with its loop, then runs every loop until it has nothing
    // left to watch (listeners closed, connections finished) or stop() is called. Returns when
    // every thread has finished.
    void run(const std::function<void(Loop&)>& setup);

    // On thread 0's loop: `handler` runs there when `signum` arrives. Call before run().
    void on_signal(int signum, std::function<void()> handler);

    // Posts `task` to every loop (including the caller's).
    void post_all(const Task& task);
    // Breaks every loop at once (hard stop).
    void stop();

    std::span<const std::unique_ptr<Loop>> loops() const { return loops_; }
    // The process's Runtime while one exists (the runtime API's diagnostics read its loops).
    static const Runtime* current();

  private:
    struct SignalWatcher {
        ev_signal watcher;
        std::function<void()> handler;
    };
    static void on_signal_event(struct ev_loop* raw, ev_signal* w, int revents);
    static void on_thread_done(struct ev_loop* raw, ev_async* w, int revents);

    RuntimeOptions options_;
    std::vector<std::unique_ptr<Loop>> loops_;
    std::vector<std::unique_ptr<SignalWatcher>> signals_;
    std::vector<std::thread> threads_;
    // Keeps thread 0's loop (and so signal handling) alive until the other threads finish.
    ev_async threads_done_;
    std::atomic<int> threads_running_{0};
};

}  // namespace sluice::core
