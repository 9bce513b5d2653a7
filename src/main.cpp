// sluice: the command line, then the config, then the threads. Everything else lives in modules.
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <utility>

#include "sluice/cfg/reader.hpp"
#include "sluice/check/checks.hpp"
#include "sluice/cli/server.hpp"
#include "sluice/cli/server_state.hpp"
#include "sluice/cmdline.hpp"
#include "sluice/core/loop.hpp"
#include "sluice/lb/algorithm.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/sample/pattern_ref.hpp"
#include "sluice/stats/page.hpp"
#include "sluice/stats/stats.hpp"
#include "sluice/stream/worker.hpp"

namespace {

using namespace sluice;

void alert(const std::string& text) {
    fmt::print(stderr, "[ALERT]    ({}) : {}\n", getpid(), text);
}

bool has_listeners(const proxy::Config& config) {
    for (const auto& fe : config.frontends)
        if (!fe->listeners.empty()) return true;
    return false;
}

int evaluate_condition_flag(const std::string& expr) {
    // -cc: tokenized like a config line, so quotes and "${VAR}" work as in `.if`.
    cfg::ConditionEnv env = cfg::default_condition_env();
    auto words = cfg::tokenize_line(expr, env.env);
    if (!words) {
        alert(fmt::format("failed to evaluate condition: {}", words.error()));
        return 2;
    }
    auto result = cfg::evaluate_condition(words->words, env);
    if (!result) {
        alert(fmt::format("failed to evaluate condition: {}", result.error()));
        return 2;
    }
    return *result ? 0 : 1;
}

// Raises the descriptor limit: `ulimit-n` if set, else as far as the hard limit allows, so
// that maxconn derived from it (as HAProxy does) is not the shell's default 1024/2.
void raise_fd_limit(std::uint32_t wanted) {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rl.rlim_cur = wanted ? std::min<rlim_t>(wanted, rl.rlim_max) : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

// user/group/chroot are checked now and applied with master-worker mode (roadmap item 8); say
// so rather than pretend.
void check_identity(const proxy::GlobalConf& g, cfg::Diagnostics& diag) {
    if (!g.user.empty() && !getpwnam(g.user.c_str()))
        diag.alert({}, fmt::format("global: unknown user '{}'", g.user));
    if (!g.group.empty() && !getgrnam(g.group.c_str()))
        diag.alert({}, fmt::format("global: unknown group '{}'", g.group));
    if (!g.chroot.empty()) {
        struct stat st {};
        if (::stat(g.chroot.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            diag.alert({}, fmt::format("global: chroot directory '{}' does not exist", g.chroot));
    }
    if (!g.user.empty() || !g.group.empty() || g.uid || g.gid || !g.chroot.empty())
        diag.warning({},
                     "global: 'user', 'group', 'uid', 'gid' and 'chroot' are checked but not "
                     "applied yet (master-worker mode, roadmap item 8): sluice keeps the "
                     "identity and root directory it was started with");
}

bool write_pidfile(const std::string& path, pid_t pid) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
        alert(fmt::format("cannot write pid file '{}': {}", path, std::strerror(errno)));
        return false;
    }
    fmt::print(f, "{}\n", pid);
    std::fclose(f);
    return true;
}

// -D: the parent returns (and exits 0) once the child runs; the child loses its terminal.
bool daemonize(const std::string& pidfile) {
    const pid_t pid = fork();
    if (pid < 0) {
        alert(fmt::format("cannot fork: {}", std::strerror(errno)));
        std::exit(1);
    }
    if (pid > 0) {
        if (!pidfile.empty() && !write_pidfile(pidfile, pid)) std::exit(1);
        std::exit(0);
    }
    setsid();
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2) ::close(null);
    }
    return true;
}

// Soft stop, as HAProxy: each proxy says it stopped, with its cumulated connections (a
// frontend's accepted ones, a backend's sessions), on stderr and to its log targets; the
// frontends first (their listeners stop at once), then the backends, each in config order.
// (HAProxy also names its stats-socket proxy, "GLOBAL", after the frontends.)
void announce_stopped(const proxy::Config& config) {
    auto say = [](const std::string& name, std::uint64_t fe, std::uint64_t be,
                  const log::Logger* logger) {
        const std::string text =
            fmt::format("Proxy {} stopped (cumulated conns: FE: {}, BE: {}).", name, fe, be);
        fmt::print(stderr, "[WARNING]  ({}) : {}\n", getpid(), text);
        if (logger) logger->emit(log::Level::Warning, text);
    };
    for (const auto& fe : config.frontends) {
        const proxy::Backend* be = config.find_backend(fe->name);
        const bool listen = be && be->listen;
        say(fe->name, fe->counts.sum(&proxy::Counts::connections),
            listen ? be->counts.sum(&proxy::Counts::sessions) : 0, fe->logger.get());
    }
    for (const auto& be : config.backends)
        if (!be->listen)
            say(be->name, 0, be->counts.sum(&proxy::Counts::sessions), be->logger.get());
    std::fflush(stderr);
}

}  // namespace

namespace {
// What `add server` and `del server` replaced or removed: freed when the last loop has run
// the task holding it (no pick, stream or stats dump can still be using it then).
struct Retired {
    Retired(proxy::Config& c, std::unique_ptr<proxy::Server> s, std::unique_ptr<proxy::Balancer> b)
        : config(c), server(std::move(s)), balancer(std::move(b)) {}
    Retired(const Retired&) = delete;
    Retired& operator=(const Retired&) = delete;
    ~Retired() {
        if (server) config.give_back_server_uid(server->uid);
    }
    proxy::Config& config;
    std::unique_ptr<proxy::Server> server;
    std::unique_ptr<proxy::Balancer> balancer;
};

void retire_server(stream::Engine& engine, check::Checks& checks,
                   std::unique_ptr<proxy::Server> server,
                   std::unique_ptr<proxy::Balancer> balancer) {
    auto held = std::make_shared<Retired>(engine.config(), std::move(server), std::move(balancer));
    auto forget = [&engine, held] {
        engine.runtime().post_all([&engine, held](core::Loop& l) {
            if (held->server) engine.worker(l.index()).forget_server(*held->server);
        });
    };
    // The server's checks go first, on their loop: nothing changes the server after that.
    if (held->server)
        checks.remove_server(*held->server, forget);
    else
        forget();
}
}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (argc > 0) log::set_program_name(argv[0]);
    auto parsed = parse_command_line(args);
    if (!parsed) {
        fmt::print(stderr, "{}\n", usage_text());
        alert(parsed.error());
        return 1;
    }
    Options opt = std::move(*parsed);
    if (opt.help) {
        fmt::print(stderr, "{}", usage_text());
        return 1;  // as HAProxy: the usage screen is an error exit
    }
    if (opt.version) {
        fmt::print("{}", version_text(opt.version >= 2));
        return 0;
    }
    if (opt.has_condition) return evaluate_condition_flag(opt.condition);
    if (opt.config_paths.empty()) {
        fmt::print(stderr, "{}\n", usage_text());
        alert("no configuration file given (use -f)");
        return 1;
    }
    if (!opt.chdir.empty() && ::chdir(opt.chdir.c_str()) != 0) {
        alert(fmt::format("cannot change to directory '{}': {}", opt.chdir, std::strerror(errno)));
        return 1;
    }

    cfg::Document doc;
    cfg::Diagnostics diag;
    cfg::Reader reader(doc, diag, cfg::default_condition_env());
    for (const std::string& path : opt.config_paths)
        reader.read_path(path);
    const proxy::GlobalConf global = doc.global.read<proxy::GlobalConf>();
    raise_fd_limit(global.ulimit_n);
    check_identity(global, diag);
    std::unique_ptr<proxy::Config> config;
    if (!diag.has_alerts())
        config = proxy::build(
            std::move(doc), diag,
            {.global_maxconn = opt.global_maxconn, .proxy_maxconn = opt.proxy_maxconn});

    const cfg::Level shown = opt.diagnostics ? cfg::Level::Diag
                             : opt.quiet     ? cfg::Level::Alert
                                             : cfg::Level::Notice;
    diag.print(stderr, shown);
    const bool failed = !config || diag.has_alerts() ||
                        (opt.warnings_are_fatal && diag.count(cfg::Level::Warning) > 0);
    if (failed) {
        alert("config : Fatal errors found in configuration.");
        return 1;
    }
    if (opt.check_only) {
        if (diag.count(cfg::Level::Warning) > 0 && !opt.quiet) fmt::print("Warnings were found.\n");
        // HAProxy's exit 2: valid, but a process with nothing to listen on would not start.
        if (!has_listeners(*config)) {
            if (!opt.quiet)
                fmt::print(
                    "Configuration file has no error but will not start (no listener) => "
                    "exit(2).\n");
            return 2;
        }
        if (!opt.quiet) fmt::print("Configuration file is valid\n");
        return 0;
    }
    if (!has_listeners(*config)) {
        alert("config : No enabled listener found (check for 'bind' directives) ! Exiting.");
        return 1;
    }
    config->splice_allowed = !opt.no_splice;

    if (opt.memory_limit_mb) {
        rlimit rl{};
        rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(opt.memory_limit_mb) << 20;
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            alert(fmt::format("cannot set the memory limit: {}", std::strerror(errno)));
    }
    ::signal(SIGPIPE, SIG_IGN);

    cfg::Diagnostics bind_diag;
    if (!proxy::open_listeners(*config, bind_diag)) {
        bind_diag.print(stderr);
        alert("Startup failed: could not open every listener.");
        return 1;
    }
    lb::install(*config);
    log::set_global_logger(config->logger.get());
    stats::set_process_start(static_cast<double>(std::time(nullptr)));
    // Before the checks are built: they start from the state it restores.
    cli::load_server_state(*config);
    cli::Server cli_server(*config);
    if (!cli_server.open(bind_diag)) {
        bind_diag.print(stderr);
        alert("Startup failed: could not open every stats socket.");
        return 1;
    }

    const std::string pidfile = !opt.pidfile.empty() ? opt.pidfile : config->global.pidfile;
    const bool background = opt.daemon || (config->global.daemon && !opt.foreground);
    if (background)
        daemonize(pidfile);
    else if (!pidfile.empty() && !write_pidfile(pidfile, getpid()))
        return 1;

    core::RuntimeOptions ro{.threads = static_cast<int>(config->nbthread),
                            .bufsize = config->global.bufsize,
                            .poison = opt.poison,
                            .cpu_sets = config->cpu_sets};
    core::Runtime runtime(ro);
    stream::Engine engine(*config, runtime);
    check::Checks checks(*config, runtime);
    // The streams holding a connection to a server end, on every thread.
    auto shutdown_sessions = [&engine](const proxy::Server& srv) {
        const proxy::Server* target = &srv;
        engine.runtime().post_all([&engine, target](core::Loop& l) {
            engine.worker(l.index()).shutdown_server_sessions(*target);
        });
    };
    checks.on_shutdown_sessions(shutdown_sessions);
    checks.on_limit_raised([&engine](proxy::Server& srv, core::Loop& l) {
        engine.worker(l.index()).server_released(srv);
    });

    // A map or ACL generation replaced while running is freed once every loop has run the
    // task that holds it: no evaluation on any loop can still be reading it then.
    sample::set_retire([&runtime](std::shared_ptr<const void> old) {
        runtime.post_all([old = std::move(old)](core::Loop&) {});
    });

    // The stats page's admin form acts as `set server ... state` and `shutdown sessions` do.
    const stats::PageAdminScope page_admin(
        {.set_admin = [&checks](proxy::Server& s, proxy::AdminState a) { checks.set_admin(s, a); },
         .shutdown_sessions = shutdown_sessions,
         .checks_change = [&checks](proxy::Server& s,
                                    check::ChecksChange c) { checks.apply(s, std::move(c)); }});
    cli_server.hooks = {
        .set_admin = [&checks](proxy::Server& s, proxy::AdminState a) { checks.set_admin(s, a); },
        .shutdown_sessions = shutdown_sessions,
        // The API runs on the first loop: its worker wakes the queues.
        .limit_raised = [&engine](proxy::Server& s) { engine.worker(0).server_released(s); },
        .checks_change = [&checks](proxy::Server& s,
                                   check::ChecksChange c) { checks.apply(s, std::move(c)); },
        .frontend_listening =
            [&engine](proxy::Frontend* fe, proxy::Frontend::Listening to) {
                if (fe && to == proxy::Frontend::Listening::Stopped) {
                    engine.shutdown_frontend(*fe);
                    return;
                }
                engine.runtime().post_all([&engine, fe](core::Loop& l) {
                    if (fe)
                        engine.worker(l.index()).frontend_listening(*fe);
                    else
                        engine.worker(l.index()).resume_paused();
                });
            },
        .describe_sessions = [&engine](
                                 const void* only,
                                 bool detail) { return engine.describe_streams(0, only, detail); },
        .kill_session = [&engine](const void* id) { return engine.kill_stream(0, id); },
        .clear_counters =
            [&engine](bool all) {
                engine.runtime().post_all([&engine, all](core::Loop& l) {
                    proxy::clear_counters(engine.config(), static_cast<std::uint32_t>(l.index()),
                                          all);
                    l.activity().reset();  // `show activity`, as HAProxy clears it
                });
            },
        .add_server = [&checks](proxy::Server& s) { checks.add_server(s); },
        .retire =
            [&engine, &checks](std::unique_ptr<proxy::Server> server,
                               std::unique_ptr<proxy::Balancer> balancer) {
                retire_server(engine, checks, std::move(server), std::move(balancer));
            },
    };

    ev_timer hard_stop_timer;
    ev_init(&hard_stop_timer, [](struct ev_loop*, ev_timer* w, int) {
        static_cast<core::Runtime*>(w->data)->stop();
    });
    hard_stop_timer.data = &runtime;
    const double hard_stop_after =
        std::chrono::duration<double>(config->global.hard_stop_after).count();

    bool announced_stop = false;
    auto soft_stop = [&] {
        if (!std::exchange(announced_stop, true)) announce_stopped(*config);
        engine.soft_stop();
        checks.stop();
        cli_server.stop();
        if (hard_stop_after > 0 && !ev_is_active(&hard_stop_timer)) {
            ev_timer_set(&hard_stop_timer, hard_stop_after, 0.);
            ev_timer_start(runtime.loops()[0]->raw(), &hard_stop_timer);
            ev_unref(runtime.loops()[0]->raw());  // the timer alone does not keep us running
        }
    };
    runtime.on_signal(SIGUSR1, soft_stop);
    runtime.on_signal(SIGTERM, [&] { runtime.stop(); });
    runtime.on_signal(SIGINT, [&] { runtime.stop(); });
    runtime.run([&](core::Loop& loop) {
        engine.setup_thread(loop);
        checks.setup_thread(loop);
        cli_server.setup_thread(loop);
    });
    cli_server.close_all();
    sample::set_retire(nullptr);  // the loops are gone; nothing changes the references now
    if (ev_is_active(&hard_stop_timer)) {
        ev_ref(runtime.loops()[0]->raw());
        ev_timer_stop(runtime.loops()[0]->raw(), &hard_stop_timer);
    }
    // Every thread has stopped: the engine frees what a hard stop left open, then the loops
    // and the config go, so that sanitizer builds see a clean exit.
    return 0;
}
