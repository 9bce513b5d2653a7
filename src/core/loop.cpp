// Loops, mailboxes and the threads that run them.
#include "sluice/core/loop.hpp"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>

namespace sluice::core {

Mailbox::Mailbox(Loop& owner) : owner_(owner) {
    ev_async_init(&wake_, on_wake);
    wake_.data = this;
    ev_async_start(owner_.raw(), &wake_);
    // The mailbox alone must not keep a loop alive: a loop ends when its listeners and
    // connections are gone (soft stop), whatever messages might still come.
    ev_unref(owner_.raw());
}

Mailbox::~Mailbox() {
    ev_ref(owner_.raw());
    ev_async_stop(owner_.raw(), &wake_);
}

void Mailbox::post(Task task) {
    bool was_empty;
    {
        std::lock_guard lock(mu_);
        was_empty = pending_.empty();
        pending_.push_back(std::move(task));
        owner_.activity().mailbox_queued.store(static_cast<std::uint32_t>(pending_.size()),
                                               std::memory_order_relaxed);
    }
    if (was_empty) ev_async_send(owner_.raw(), &wake_);  // otherwise a wake-up is on its way
}

void Mailbox::on_wake(struct ev_loop*, ev_async* w, int) {
    static_cast<Mailbox*>(w->data)->drain();
}

void Mailbox::drain() {
    std::vector<Task> batch;
    {
        std::lock_guard lock(mu_);
        batch.swap(pending_);
        owner_.activity().mailbox_queued.store(0, std::memory_order_relaxed);
    }
    Activity& a = owner_.activity();
    a.wakes.add();
    a.tasks.add(batch.size());
    for (Task& t : batch)
        t(owner_);
}

Loop::Loop(int index, struct ev_loop* raw, std::size_t bufsize, int poison)
    : index_(index), raw_(raw), buffers_(bufsize, poison, index) {
    mailbox_ = std::make_unique<Mailbox>(*this);
    ev_set_userdata(raw_, this);
    ev_set_invoke_pending_cb(raw_, invoke);
}

// Once per iteration, after the poll: a few relaxed stores and one clock read, nothing per
// event.
void Loop::invoke(struct ev_loop* raw) {
    auto* self = static_cast<Loop*>(ev_userdata(raw));
    Activity& a = self->activity_;
    const unsigned n = ev_pending_count(raw);
    a.loops.add();
    if (n == 0) {
        a.empty_loops.add();
        return;
    }
    a.busy_loops.add();
    a.events.add(n);
    if (n >= Activity::kLongIteration) a.long_loops.add();
    const ev_tstamp start = ev_now(raw);
    a.iteration_events.store(n, std::memory_order_relaxed);
    a.handling.store(true, std::memory_order_relaxed);
    ev_invoke_pending(raw);
    a.handling.store(false, std::memory_order_relaxed);
    a.iteration_events.store(0, std::memory_order_relaxed);
    const double ns = (ev_time() - start) * 1e9;
    a.loop_ns.add(ns > 0 ? static_cast<std::uint64_t>(ns) : 0);
}

Loop::~Loop() {
    mailbox_.reset();
    if (!ev_is_default_loop(raw_)) {
        ev_loop_destroy(raw_);
        return;
    }
    // libev's default loop outlives us (a later Runtime, a test): it must not call back here.
    ev_set_invoke_pending_cb(raw_, ev_invoke_pending);
    ev_set_userdata(raw_, nullptr);
}

namespace {
std::atomic<const Runtime*> g_current{nullptr};
}

const Runtime* Runtime::current() {
    return g_current.load(std::memory_order_acquire);
}

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {
    if (options_.threads < 1) options_.threads = 1;
    struct ev_loop* def = ev_default_loop(unsigned(EVBACKEND_EPOLL) | unsigned(EVFLAG_NOENV));
    if (!def) def = ev_default_loop(EVFLAG_AUTO);
    if (!def) {
        std::fprintf(stderr, "[ALERT] : could not initialise the event loop\n");
        std::abort();
    }
    loops_.push_back(std::make_unique<Loop>(0, def, options_.bufsize, options_.poison));
    for (int i = 1; i < options_.threads; ++i) {
        struct ev_loop* raw = ev_loop_new(unsigned(EVBACKEND_EPOLL) | unsigned(EVFLAG_NOENV) |
                                          unsigned(EVFLAG_NOSIGMASK));
        if (!raw) raw = ev_loop_new(EVFLAG_AUTO);
        if (!raw) {
            std::fprintf(stderr, "[ALERT] : could not create the event loop of thread %d\n", i);
            std::abort();
        }
        loops_.push_back(std::make_unique<Loop>(i, raw, options_.bufsize, options_.poison));
    }
    g_current.store(this, std::memory_order_release);
}

Runtime::~Runtime() {
    const Runtime* self = this;
    g_current.compare_exchange_strong(self, nullptr);
    for (auto& s : signals_)
        ev_signal_stop(loops_[0]->raw(), &s->watcher);
}

void Runtime::on_signal(int signum, std::function<void()> handler) {
    auto s = std::make_unique<SignalWatcher>();
    s->handler = std::move(handler);
    ev_signal_init(&s->watcher, on_signal_event, signum);
    s->watcher.data = s.get();
    ev_signal_start(loops_[0]->raw(), &s->watcher);
    ev_unref(loops_[0]->raw());  // signals alone do not keep the process running
    signals_.push_back(std::move(s));
}

void Runtime::on_signal_event(struct ev_loop* raw, ev_signal* w, int) {
    static_cast<Loop*>(ev_userdata(raw))->activity().signals.add();
    static_cast<SignalWatcher*>(w->data)->handler();
}

namespace {
void bind_to_cpus(const std::vector<int>& cpus) {
    if (cpus.empty()) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus)
        if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
    // Best effort, as HAProxy: a CPU that does not exist here leaves the thread unbound.
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}
const std::vector<int>& cpus_of(const RuntimeOptions& o, std::size_t i) {
    static const std::vector<int> kNone;
    return i < o.cpu_sets.size() ? o.cpu_sets[i] : kNone;
}
}  // namespace

void Runtime::run(const std::function<void(Loop&)>& setup) {
    // Worker threads inherit a mask blocking the signals we handle, so that they are delivered
    // to thread 0, whose libev loop owns the signal watchers.
    sigset_t handled, previous;
    sigemptyset(&handled);
    for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT, SIGTTOU, SIGTTIN})
        sigaddset(&handled, s);
    pthread_sigmask(SIG_BLOCK, &handled, &previous);
    struct ev_loop* main_raw = loops_[0]->raw();
    ev_async_init(&threads_done_, on_thread_done);
    threads_done_.data = this;
    threads_running_.store(static_cast<int>(loops_.size()) - 1);
    if (loops_.size() > 1) ev_async_start(main_raw, &threads_done_);
    for (std::size_t i = 1; i < loops_.size(); ++i) {
        Loop* loop = loops_[i].get();
        setup(*loop);
        threads_.emplace_back([this, loop, i, main_raw] {
            loop->activity().thread_id.store(static_cast<std::uintptr_t>(pthread_self()),
                                             std::memory_order_relaxed);
            bind_to_cpus(cpus_of(options_, i));
            ev_run(loop->raw(), 0);
            threads_running_.fetch_sub(1);
            ev_async_send(main_raw, &threads_done_);
        });
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    bind_to_cpus(cpus_of(options_, 0));
    loops_[0]->activity().thread_id.store(static_cast<std::uintptr_t>(pthread_self()),
                                          std::memory_order_relaxed);
    setup(*loops_[0]);
    ev_run(loops_[0]->raw(), 0);
    for (std::thread& t : threads_)
        t.join();
    threads_.clear();
}

void Runtime::on_thread_done(struct ev_loop* raw, ev_async* w, int) {
    auto* self = static_cast<Runtime*>(w->data);
    if (self->threads_running_.load() == 0) ev_async_stop(raw, w);
}

void Runtime::post_all(const Task& task) {
    for (auto& loop : loops_)
        loop->mailbox().post(task);
}

void Runtime::stop() {
    post_all([](Loop& loop) { ev_break(loop.raw(), EVBREAK_ALL); });
}

}  // namespace sluice::core
