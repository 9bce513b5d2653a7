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
    }
    for (Task& t : batch)
        t(owner_);
}

Loop::Loop(int index, struct ev_loop* raw, std::size_t bufsize, int poison)
    : index_(index), raw_(raw), buffers_(bufsize, poison) {
    mailbox_ = std::make_unique<Mailbox>(*this);
}

Loop::~Loop() {
    mailbox_.reset();
    if (!ev_is_default_loop(raw_)) ev_loop_destroy(raw_);
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
}

Runtime::~Runtime() {
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

void Runtime::on_signal_event(struct ev_loop*, ev_signal* w, int) {
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
            bind_to_cpus(cpus_of(options_, i));
            ev_run(loop->raw(), 0);
            threads_running_.fetch_sub(1);
            ev_async_send(main_raw, &threads_done_);
        });
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    bind_to_cpus(cpus_of(options_, 0));
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
