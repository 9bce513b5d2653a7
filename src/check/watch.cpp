// Tracking and slowstart at run time (see watch.hpp).
#include "watch.hpp"

#include <ctime>

#include "sluice/cfg/parts.hpp"

namespace sluice::check {

// One server's warm-up after it came back UP: a timer on the loop that changed it, stepping
// Server::warmup (and the backend's balancer) until the server runs at full speed.
struct Warmup {
    proxy::Server* server = nullptr;
    util::Duration slowstart{0};
    core::Loop* loop = nullptr;
    ev_timer timer{};
    ev_tstamp since = 0;

    void start(core::Loop& l) {
        stop();
        loop = &l;
        since = ev_now(l.raw());
        set(0);
        arm();
    }
    void stop() {
        if (loop) ev_timer_stop(loop->raw(), &timer);
    }
    void set(std::uint8_t pct) {
        if (server->warmup.exchange(pct, std::memory_order_relaxed) == pct) return;
        server->backend->server_changed(*server);
    }
    void arm() {
        const double step = std::chrono::duration<double>(warmup_step(slowstart)).count();
        ev_timer_set(&timer, step, 0.);
        ev_timer_start(loop->raw(), &timer);
    }
    static void on_timer(struct ev_loop*, ev_timer* w, int) {
        Warmup& self = *static_cast<Warmup*>(w->data);
        const auto elapsed = std::chrono::duration_cast<util::Duration>(
            std::chrono::duration<double>(ev_now(self.loop->raw()) - self.since));
        const std::uint8_t pct = warmup_percent(elapsed, self.slowstart);
        self.set(pct);
        if (pct < 100) self.arm();
    }
};

Watch::Watch(proxy::Config& config)
    : config_(config), mail_(std::make_unique<MailAlerts>(config, config.nbthread)) {
    for (const auto& be : config.backends)
        for (proxy::Server* srv : be->servers) {
            if (!srv->line_parts) continue;
            const auto& w = srv->line_parts->read<ServerWatchConf>();
            if (w.slowstart.count() > 0) add_warmup(*srv, w.slowstart);
            // The config was checked (-c): the target exists.
            if (!w.track.empty()) add_tracker(*srv, be->name, w.track);
        }
}

Watch::~Watch() {
    for (auto& [s, w] : warmups_)
        w->stop();
}

void Watch::add_warmup(proxy::Server& srv, util::Duration slowstart) {
    auto wu = std::make_unique<Warmup>();
    wu->server = &srv;
    wu->slowstart = slowstart;
    ev_init(&wu->timer, Warmup::on_timer);
    wu->timer.data = wu.get();
    warmups_.emplace(&srv, std::move(wu));
}

void Watch::add_tracker(proxy::Server& srv, std::string_view backend, const std::string& track) {
    const TrackTarget t = split_track(track, backend);
    if (const proxy::Backend* other = config_.find_backend(t.proxy))
        if (proxy::Server* target = other->servers.find(t.server)) {
            // The newest first, as HAProxy links them (and so tells them of a change).
            auto& list = trackers_[target];
            list.insert(list.begin(), &srv);
        }
}

const proxy::Server* Watch::tracked(const proxy::Server& s) const {
    if (!s.line_parts) return nullptr;
    const std::string& track = s.line_parts->read<ServerWatchConf>().track;
    if (track.empty()) return nullptr;
    const TrackTarget t = split_track(track, s.backend->name);
    const proxy::Backend* other = config_.find_backend(t.proxy);
    return other ? other->servers.find(t.server) : nullptr;
}

void Watch::add_server(proxy::Server& s) {
    if (!s.line_parts) return;
    const auto& w = s.line_parts->read<ServerWatchConf>();
    std::lock_guard lock(mutex_);
    if (w.slowstart.count() > 0) add_warmup(s, w.slowstart);
    if (w.track.empty()) return;
    add_tracker(s, s.backend->name, w.track);
    if (const proxy::Server* target = tracked(s)) {
        s.up.store(target->up.load(std::memory_order_acquire), std::memory_order_relaxed);
        s.stopping.store(target->stopping.load(std::memory_order_acquire),
                         std::memory_order_relaxed);
    }
}

void Watch::remove_server(const proxy::Server& s) {
    observe_->remove(s);
    std::unique_ptr<Warmup> warmup;
    {
        std::lock_guard lock(mutex_);
        trackers_.erase(&s);
        for (auto& [target, list] : trackers_)
            std::erase(list, &s);
        if (auto it = warmups_.find(&s); it != warmups_.end()) {
            warmup = std::move(it->second);
            warmups_.erase(it);
        }
    }
    if (!warmup || !warmup->loop) return;
    // Its timer belongs to the loop that started it.
    core::Loop& loop = *warmup->loop;
    loop.mailbox().post(
        [w = std::shared_ptr<Warmup>(std::move(warmup))](core::Loop&) { w->stop(); });
}

std::vector<proxy::Server*> Watch::trackers(const proxy::Server& s) const {
    std::lock_guard lock(mutex_);
    auto it = trackers_.find(&s);
    return it == trackers_.end() ? std::vector<proxy::Server*>{} : it->second;
}

void Watch::changed(proxy::Server& s, StateMessage::What what, bool was_down, core::Loop& loop) {
    follow(s, what, was_down, loop, nullptr);
}

void Watch::follow(proxy::Server& s, StateMessage::What what, bool was_down, core::Loop& loop,
                   const proxy::Server* via) {
    if (via) {
        // A tracking server takes the state of the one it tracks, and says so.
        const bool up = what != StateMessage::What::Down;
        const bool stopping = what == StateMessage::What::Stopping;
        const bool was_up = s.up.load(std::memory_order_acquire);
        const bool was_stopping = s.stopping.load(std::memory_order_acquire);
        if (was_up == up && was_stopping == stopping) return;
        was_down = !was_up;
        const std::int64_t wall = static_cast<std::int64_t>(std::time(nullptr));
        if (!up) s.check_downs.fetch_add(1, std::memory_order_relaxed);
        const std::int64_t since = s.last_change.exchange(wall, std::memory_order_relaxed);
        if (up && !was_up && since > 0)
            s.down_time.fetch_add(wall - since, std::memory_order_relaxed);
        s.stopping.store(stopping, std::memory_order_release);
        s.up.store(up, std::memory_order_release);
        s.backend->server_changed(s);
        if (s.admin.load(std::memory_order_acquire) != proxy::AdminState::Maint)
            mail(s, state_level(what == StateMessage::What::Down && !was_stopping),
                 announce(s, StateMessage{.backend = s.backend->name,
                                          .server = s.name,
                                          .what = what,
                                          .via_backend = via->backend->name,
                                          .via_server = via->name,
                                          .sessions = s.cur_conns.load(std::memory_order_relaxed),
                                          .quiet_down = was_stopping}),
                 loop);
    }
    shut_sessions(s, what);
    {
        std::lock_guard lock(mutex_);
        if (auto it = warmups_.find(&s); it != warmups_.end()) {
            // The warm-up applies only to a server seen failed that comes back (never at start).
            if (what == StateMessage::What::Up && was_down) {
                it->second->start(loop);
            } else if (what == StateMessage::What::Down) {
                it->second->stop();
                it->second->set(100);
            }
        }
    }
    for (proxy::Server* t : trackers(s))
        follow(*t, what, false, loop, &s);
}

// on-marked-down: a server going DOWN loses its connections at once; on-marked-up: a server
// coming UP takes the backend back from its backups, whose connections are shut.
void Watch::shut_sessions(const proxy::Server& s, StateMessage::What what) {
    if (!shutdown_sessions || !s.line_parts) return;
    const auto& conf = s.line_parts->read<ServerWatchConf>();
    if (what == StateMessage::What::Down && conf.shutdown_sessions) shutdown_sessions(s);
    if (what == StateMessage::What::Up && conf.shutdown_backup_sessions && !s.options.backup)
        for (const auto& other : s.backend->servers)
            if (other->options.backup) shutdown_sessions(*other);
}

void Checks::on_shutdown_sessions(std::function<void(const proxy::Server&)> shut) {
    watch_->shutdown_sessions = std::move(shut);
}

void Watch::mail(const proxy::Server& s, int level, std::string_view message, core::Loop& loop) {
    mail_->alert(s, level, message, loop);
}

void Watch::stop_thread(core::Loop& loop) {
    mail_->stop_thread(loop);
    std::lock_guard lock(mutex_);
    for (auto& [s, w] : warmups_)
        if (w->loop == &loop) w->stop();
}

}  // namespace sluice::check
