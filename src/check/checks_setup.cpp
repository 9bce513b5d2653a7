// The health-check scheduler's set-up (see checks.hpp): one Check per server with `check`, and
// its agent, built before the loops run or when the runtime API adds a server, spread over the
// loops; the owners the runtime API and the stats page reach them through.
#include <unistd.h>

#include "check_run.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/log/proxy_format.hpp"
#include "watch.hpp"

namespace sluice::check {

Checks::Checks(proxy::Config& config, core::Runtime& runtime)
    : config_(config), runtime_(runtime), watch_(std::make_unique<Watch>(config)) {
    const auto loops = runtime.loops();
    const auto& global = config.doc.global.read<GlobalCheckConf>();
    for (const auto& loop : loops) {
        auto t = std::make_unique<ThreadChecks>();
        t->owner = this;
        t->loop = loop.get();
        t->bufsize = config.global.bufsize;
        t->spread = global.spread_checks;
        t->rng.seed(static_cast<unsigned>(getpid()) * 7919u + static_cast<unsigned>(loop->index()));
        threads_.push_back(std::move(t));
    }
    for (const auto& be : config.backends)
        for (proxy::Server* srv : be->servers)
            add_checks(*srv, false);
    // HAProxy spreads the first checks of the process over the shortest first interval; it
    // is computed here, before any loop runs and changes a check's health.
    for (const auto& th : threads_)
        for (const auto& c : th->checks)
            first_interval_ = std::min(first_interval_, c->health.next_interval(c->conf));
}

Plan* Checks::plan_for(proxy::Backend& be) {
    for (const auto& p : plans_)
        if (p->backend == &be) return p.get();
    const auto& pc = be.parts->read<ProxyCheckConf>();
    auto plan = std::make_unique<Plan>();
    plan->backend = &be;
    plan->kind = pc.kind;
    plan->timeout_check = pc.timeout_check;
    plan->connect = pc.connect;
    if (pc.kind == Kind::TcpCheck) plan->rules = pc.tcp_rules;
    if (pc.kind == Kind::Protocol) plan->rules = pc.protocol_rules;
    if (pc.kind == Kind::Http && pc.send_state) {
        plan->send_state = true;
        plan->node = config_.global.node;
        if (plan->node.empty()) {  // HAProxy's default node name
            char host[256] = "";
            gethostname(host, sizeof host - 1);
            plan->node = host;
        }
    }
    if (pc.kind == Kind::Http && (!pc.more.empty() || !pc.http_actions.empty() ||
                                  pc.request.dynamic() || (pc.connect && pc.connect->port_expr))) {
        plan->http_sequence = true;
        plan->rules = http_sequence_rules(pc);
    } else if (pc.kind == Kind::Http) {
        plan->request = pc.request.serialize();
        plan->request_conf = pc.request;
        plan->expects = pc.expects;
        plan->disable_on_404 = pc.disable_on_404;
        for (const Expect& e : pc.expects) {
            if (e.kind == Expect::Kind::String || e.kind == Expect::Kind::RString)
                plan->needs_body = true;
            if (e.dynamic()) plan->dynamic_expects = true;
        }
    }
    plans_.push_back(std::move(plan));
    return plans_.back().get();
}

// The server's regular check and agent, as its line asks. Before the loops run (`running`
// false) they go straight into their thread's lists; for a server the runtime API adds, the
// thread takes them on its own loop.
void Checks::add_checks(proxy::Server& srv, bool running) {
    if (!srv.line_parts) return;
    const auto& sc = srv.line_parts->read<ServerCheckConf>();
    const auto& ac = srv.line_parts->read<ServerAgentConf>();
    const bool agent = ac.enabled && ac.port;
    if (!sc.enabled && !agent) return;
    proxy::Backend& be = *srv.backend;
    const auto timeout_check = be.parts->read<ProxyCheckConf>().timeout_check;
    std::unique_ptr<Check> c;
    AgentPtr a;
    ThreadChecks* t = nullptr;
    if (!sc.enabled) {
        // An agent alone: no regular check's health to combine with.
        t = threads_[agents_++ % threads_.size()].get();
        a = make_agent(srv, ac, nullptr,
                       {*t->loop, *watch_, timeout_check, t->bufsize, t->spread, wake_queue_});
    } else {
        const Plan* plan = plan_for(be);
        c = std::make_unique<Check>();
        c->server = &srv;
        c->plan = plan;
        c->conf = sc;
        c->health = Health::start(sc.rise, sc.fall, sc.init_state);
        c->log.on = be.parts->read<log::ProxyLogFormat>().log_health_checks;
        if (srv.state_restored) {
            // As after HAProxy's reload: fully UP, or DOWN with no health.
            c->health.up = srv.up.load(std::memory_order_relaxed);
            c->health.value = c->health.up ? c->health.full() : 0;
        } else if (!c->health.up) {
            start_down(srv);
        }
        c->enabled = srv.check_enabled.load(std::memory_order_relaxed);
        c->position = count_;
        srv.check_health.store(c->health.value, std::memory_order_relaxed);
        // A port the server-state file restored (`set server ... check-port` before the
        // reload) wins over the configuration's.
        if (!srv.state_restored || srv.check_port.load(std::memory_order_relaxed) == 0)
            srv.check_port.store(sc.port, std::memory_order_relaxed);
        c->target = check_target(*c);
        if (plan->connect) {
            if (plan->connect->send_proxy) c->send_proxy = true;
            c->linger = plan->connect->linger;
        }
        if (sc.send_proxy) c->send_proxy = true;
        t = threads_[count_++ % threads_.size()].get();
        c->thread = t;
        if (agent) {
            // On the check's thread: the agent reads and resets the check's health.
            a = make_agent(
                srv, ac, &c->health,
                {*t->loop, *watch_, plan->timeout_check, t->bufsize, t->spread, wake_queue_});
            c->agent = a.get();
            ++agents_;
        }
        ev_init(&c->timer, on_timer);
        c->timer.data = c.get();
        ev_init(&c->io, on_io);
        c->io.data = c.get();
        if (plan->kind == Kind::External)
            c->ext = std::make_unique<ExternalProcess>(
                make_external_command(config_, srv), t->loop->raw(),
                [check = c.get()](Outcome o) { finish(*check, std::move(o)); });
        watch_->observe(srv, *c);
    }
    owners_[&srv] = {t, c.get(), a.get()};
    if (!running) {
        if (c) c->thread = t;
        if (c) t->checks.push_back(std::move(c));
        if (a) t->agents.push_back(std::move(a));
        return;
    }
    // Both start disabled (`enable health|agent`, as HAProxy's dynamic servers): nothing to
    // arm until then.
    auto parts =
        std::make_shared<std::pair<std::unique_ptr<Check>, AgentPtr>>(std::move(c), std::move(a));
    thread_loop(*t).mailbox().post([t, parts](core::Loop&) {
        if (parts->first) t->checks.push_back(std::move(parts->first));
        if (parts->second) t->agents.push_back(std::move(parts->second));
    });
}

void Checks::add_server(proxy::Server& s) {
    s.check_enabled.store(false, std::memory_order_relaxed);
    s.agent_enabled.store(false, std::memory_order_relaxed);
    watch_->add_server(s);
    std::lock_guard lock(owners_mutex_);
    add_checks(s, true);
}

void Checks::remove_server(proxy::Server& s, std::function<void()> done) {
    // First: nothing the watch posts about `s` can reach a loop after the check is gone.
    watch_->remove_server(s);
    Owner owner;
    {
        std::lock_guard lock(owners_mutex_);
        const auto it = owners_.find(&s);
        if (it != owners_.end()) {
            owner = it->second;
            owners_.erase(it);
        }
    }
    if (!owner.thread) {
        done();
        return;
    }
    ThreadChecks* t = owner.thread;
    thread_loop(*t).mailbox().post([t, owner, done = std::move(done)](core::Loop&) {
        if (owner.check) {
            check_enable(*owner.check, false);
            std::erase_if(t->checks, [&](const auto& c) { return c.get() == owner.check; });
        }
        if (owner.agent) {
            stop_agent(*owner.agent);
            std::erase_if(t->agents, [&](const auto& a) { return a.get() == owner.agent; });
        }
        done();
    });
}

Checks::Owner Checks::owner_of(const proxy::Server& s) {
    std::lock_guard lock(owners_mutex_);
    const auto it = owners_.find(&s);
    return it == owners_.end() ? Owner{threads_.front().get()} : it->second;
}

void Checks::set_admin(proxy::Server& s, proxy::AdminState next) {
    const Owner owner = owner_of(s);
    core::Loop& loop = *owner.thread->loop;
    Watch* watch = watch_.get();
    proxy::Server* server = &s;
    loop.mailbox().post([server, next, owner, watch](core::Loop& l) {
        change_admin(*server, next, owner.check ? &owner.check->health : nullptr, owner.agent,
                     *watch, l);
    });
}

Checks::~Checks() {
    for (auto& t : threads_)
        stop_thread(*t);
}

void Checks::setup_thread(core::Loop& loop) {
    ThreadChecks& t = *threads_[static_cast<std::size_t>(loop.index())];
    for (std::size_t i = 0; i < t.agents.size(); ++i)
        start_agent(*t.agents[i], i, t.agents.size());
    if (t.checks.empty()) return;
    for (auto& c : t.checks) {
        const auto offset = first_interval_ * static_cast<std::int64_t>(c->position) /
                            static_cast<std::int64_t>(count_);
        arm_timeout(*c, offset);
    }
}

void Checks::stop() {
    runtime_.post_all([this](core::Loop& l) {
        stop_thread(*threads_[static_cast<std::size_t>(l.index())]);
        watch_->stop_thread(l);
    });
}

}  // namespace sluice::check
