// External health checks (see external.hpp): the keywords, the command line each server's
// check runs, and the child processes.
#include "sluice/check/external.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/check/conf.hpp"
#include "sluice/proxy/conf.hpp"
#include "sluice/proxy/runtime.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3  // linux/wait.h's, which clashes with sys/wait.h
#endif

namespace sluice::check {

// ---- keywords -------------------------------------------------------------------------------

namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

// What keeps a proxy's external check from running, as HAProxy 2.6 says it.
std::string proxy_problem(const cfg::Document& doc, const cfg::Section& s) {
    if (s.parts.read<ProxyCheckConf>().kind != Kind::External) return {};
    if (!doc.global.read<GlobalExternalConf>().allowed)
        return fmt::format(
            "proxy '{}' : 'option external-check' unable to find required "
            "'global.external-check'.",
            s.name);
    if (s.parts.read<ExternalCheckConf>().command.empty())
        return fmt::format(
            "proxy '{}' : 'option external-check' unable to find required "
            "'external-check command'.",
            s.name);
    return {};
}

// The line's own section, or with a defaults section every proxy that inherited the option
// from it (HAProxy checks each proxy, whichever section wrote the option).
template <class Fn>
std::string each_affected(const cfg::Document& doc, cfg::SectionKind kind, const std::string& name,
                          Fn fn) {
    for (const cfg::Section& s : doc.proxies) {
        if (s.kind == cfg::SectionKind::Frontend) continue;  // no checks run there
        if (kind != cfg::SectionKind::Defaults && s.name != name) continue;
        if (kind == cfg::SectionKind::Defaults && s.defaults_name != name) continue;
        if (std::string e = fn(s); !e.empty()) return e;
    }
    return {};
}

Status parse_option(Args args, Ctx& ctx, ProxyCheckConf& pc) {
    // HAProxy 2.6's own wording for both.
    if (ctx.negated())
        return ctx.alert("negation/default is not supported for option 'external-check'.");
    if (!args.empty())
        return ctx.alert("'option external-check' cannot handle unexpected argument '{}'.",
                         args[0]);
    pc.kind = Kind::External;
    pc.protocol_rules = {};
    const auto kind = ctx.section();
    (void)cfg::defer_check([kind, name = ctx.name()](const cfg::Document& doc) {
        return each_affected(doc, kind, name,
                             [&](const cfg::Section& s) { return proxy_problem(doc, s); });
    });
    (void)cfg::defer_check(
        [kind, name = ctx.name()](const cfg::Document& doc) -> std::string {
            if (doc.global.read<GlobalExternalConf>().insecure_fork) return {};
            return each_affected(doc, kind, name, [](const cfg::Section& s) -> std::string {
                if (s.parts.read<ProxyCheckConf>().kind != Kind::External) return {};
                return fmt::format(
                    "proxy '{}' : 'insecure-fork-wanted' not enabled in the global section, "
                    "'option external-check' will likely fail (with HAProxy; sluice runs it).",
                    s.name);
            });
        },
        cfg::Level::Warning);
    return Status::Ok;
}

Status parse_proxy_kw(Args args, Ctx& ctx, ExternalCheckConf& ec) {
    const std::string& what = args[0];
    if (what != "command" && what != "path")
        return ctx.alert("'external-check' only supports 'command' and 'path'. but got '{}'.",
                         what);
    if (args.size() < 2) return ctx.alert("missing argument after '{}'.", what);
    if (args.size() > 2)
        return ctx.alert("'external-check {}' cannot handle unexpected argument '{}'.", what,
                         args[2]);
    (what == "command" ? ec.command : ec.path) = args[1];
    return Status::Ok;
}

Status parse_global(Args, Ctx& ctx, GlobalExternalConf& g) {
    const std::string_view kw = ctx.keyword();
    if (kw == "external-check") {
        if (ctx.negated()) return ctx.alert("'external-check' cannot be negated.");
        g.allowed = true;
    } else if (kw == "insecure-fork-wanted") {
        g.insecure_fork = !ctx.negated();
    } else {
        g.insecure_setuid = !ctx.negated();
    }
    return Status::Ok;
}

constexpr In BE = cfg::kBackendSide;
constexpr cfg::Keyword kKeywords[] = {
    {.name = "option external-check",
     .in = BE,
     .arity = cfg::at_least(0),
     .parse = cfg::on_part<ProxyCheckConf, parse_option>,
     .negatable = true},
    {.name = "external-check",
     .in = BE,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ExternalCheckConf, parse_proxy_kw>},
    {.name = "external-check",
     .in = In::Global,
     .arity = cfg::exactly(0),
     .parse = cfg::on_global<GlobalExternalConf, parse_global>},
    {.name = "insecure-fork-wanted",
     .in = In::Global,
     .arity = cfg::exactly(0),
     .parse = cfg::on_global<GlobalExternalConf, parse_global>,
     .negatable = true},
    {.name = "insecure-setuid-wanted",
     .in = In::Global,
     .arity = cfg::exactly(0),
     .parse = cfg::on_global<GlobalExternalConf, parse_global>,
     .negatable = true},
};
const cfg::Registrar kRegistered{kKeywords};

// ---- the command line -----------------------------------------------------------------------

constexpr std::string_view kNotUsed = "NOT_USED";

std::string ip_of(const net::Address& a) {
    char buf[INET6_ADDRSTRLEN + 1];
    return std::string(a.ip_text(buf, sizeof buf));
}

// A listen section's first IPv4, IPv6 or UNIX listener, as HAProxy picks it.
const proxy::Listener* first_listener(const proxy::Config& config, const std::string& name) {
    for (const auto& fe : config.frontends) {
        if (fe->name != name) continue;
        for (const auto& l : fe->listeners) {
            const int f = l.endpoint.address.family();
            if (f == AF_INET || f == AF_INET6 || f == AF_UNIX) return &l;
        }
    }
    return nullptr;
}

}  // namespace

ExternalCommand make_external_command(const proxy::Config& config, const proxy::Server& server) {
    const proxy::Backend& be = *server.backend;
    ExternalCommand cmd;
    const auto& ec = be.parts->read<ExternalCheckConf>();
    cmd.command = ec.command;
    cmd.path = ec.path;

    // HAProxy numbers its proxies from 1 in the order of the file.
    std::uint32_t proxy_id = 0;
    bool listen = false;
    for (std::size_t i = 0; i < config.doc.proxies.size(); ++i) {
        const cfg::Section& s = config.doc.proxies[i];
        if (s.name == be.name && s.kind != cfg::SectionKind::Frontend) {
            proxy_id = static_cast<std::uint32_t>(i + 1);
            listen = s.kind == cfg::SectionKind::Listen;
            break;
        }
    }
    std::string proxy_addr(kNotUsed), proxy_port(kNotUsed), env_addr, env_port;
    if (const proxy::Listener* l = listen ? first_listener(config, be.name) : nullptr) {
        const net::Address& a = l->endpoint.address;
        if (a.family() == AF_UNIX) {
            const auto* sun = reinterpret_cast<const sockaddr_un*>(&a.storage);
            proxy_addr = env_addr = sun->sun_path;
        } else {
            proxy_addr = env_addr = ip_of(a);
            proxy_port = env_port = std::to_string(a.port());
        }
    }
    const net::Address& sa = server.address.address;
    std::string server_addr, server_port;
    if (sa.family() == AF_UNIX) {
        server_addr = reinterpret_cast<const sockaddr_un*>(&sa.storage)->sun_path;
    } else {
        server_addr = ip_of(sa);
        server_port = std::to_string(sa.port());
    }
    cmd.args = {proxy_addr, proxy_port, server_addr,
                server_port.empty() ? std::string(kNotUsed) : server_port};

    const bool http = be.conf && be.conf->mode == proxy::Mode::Http;
    cmd.env = {
        "HAPROXY_PROXY_ADDR=" + env_addr,
        fmt::format("HAPROXY_PROXY_ID={}", proxy_id),
        "HAPROXY_PROXY_NAME=" + be.name,
        "HAPROXY_PROXY_PORT=" + env_port,
        "HAPROXY_SERVER_ADDR=" + server_addr,
        "HAPROXY_SERVER_CURCONN=0",
        fmt::format("HAPROXY_SERVER_ID={}", server.puid),
        fmt::format("HAPROXY_SERVER_MAXCONN={}", server.options.maxconn),
        "HAPROXY_SERVER_NAME=" + server.name,
        "HAPROXY_SERVER_PORT=" + server_port,
        "HAPROXY_SERVER_SSL=0",
        std::string("HAPROXY_SERVER_PROTO=") + (http ? "h1" : "tcp"),
        "PATH=" + ec.path,
    };
    cmd.curconn_index = 5;
    return cmd;
}

Outcome external_outcome(bool exited, int code) {
    if (!exited) return {check::Status::ProcErr, -1, {}};
    return {code == 0 ? check::Status::ProcOk : check::Status::ProcErr, code, {}};
}

// ---- the children ---------------------------------------------------------------------------

struct ExternalProcess::Child {
    ExternalProcess* owner = nullptr;
    pid_t pid = -1;
    int pidfd = -1;
    ev_io io{};
    bool killed = false;  // its end is reported by whoever killed it, not by its exit
};

namespace {

void print_warning(const std::string& text) {
    fmt::print(stderr, "{:<11}({}) : {}\n", "[WARNING]", getpid(), text);
    std::fflush(stderr);
}

// What the child needs, all prepared before the clone: it runs in the parent's memory until it
// execs, so it only makes system calls and touches nothing but its own stack.
struct ChildArgs {
    std::vector<std::string> files;  // execvp's candidates, in PATH order
    char** argv = nullptr;
    char** envp = nullptr;
    // execvp's way with a file the kernel cannot run (a script without "#!"): /bin/sh FILE
    // ARGS..., slot 1 set by the child (the parent waits meanwhile).
    char** sh_argv = nullptr;
};

// The candidates execvp would try: the command itself when it has a '/', else each entry of
// the command's own PATH (an empty entry is the current directory).
std::vector<std::string> candidates(const std::string& command, const std::string& path) {
    if (command.find('/') != std::string::npos) return {command};
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        std::size_t end = path.find(':', pos);
        if (end == std::string::npos) end = path.size();
        const std::string dir = path.substr(pos, end - pos);
        out.push_back(dir.empty() ? command : dir + "/" + command);
        pos = end + 1;
    }
    return out;
}

void append(char* buf, std::size_t& len, std::size_t cap, const char* text) {
    while (*text && len < cap)
        buf[len++] = *text++;
}

int child_main(void* arg) {
    const auto& a = *static_cast<const ChildArgs*>(arg);
    // Signals as a fresh program expects them (the parent blocked them all around the clone).
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Its own process group, so that a timeout ends what it started too; only stdin, stdout
    // and stderr go along (as HAProxy keeps them), none of sluice's sockets.
    ::setpgid(0, 0);
    ::close_range(3, ~0U, 0);
    int err = ENOENT;
    for (const std::string& f : a.files) {
        ::execve(f.c_str(), a.argv, a.envp);
        if (errno == ENOEXEC) {
            a.sh_argv[1] = const_cast<char*>(f.c_str());
            ::execve("/bin/sh", a.sh_argv, a.envp);
            errno = ENOEXEC;
        }
        if (errno != ENOENT && errno != ENOTDIR) err = errno;
    }
    // As HAProxy's child: say so and exit with 255 (the check reports "code: 255").
    char buf[512];
    std::size_t len = 0;
    char num[16];
    int n = 0;
    for (unsigned v = static_cast<unsigned>(::getpid()); v > 0 || n == 0; v /= 10)
        num[n++] = static_cast<char>('0' + v % 10);
    append(buf, len, sizeof buf, "[ALERT]    (");
    while (n > 0 && len < sizeof buf)
        buf[len++] = num[--n];
    append(buf, len, sizeof buf, ") : Failed to exec process for external health check: ");
    const char* desc = ::strerrordesc_np(err);
    append(buf, len, sizeof buf, desc ? desc : "Unknown error");
    append(buf, len, sizeof buf, ". Aborting.\n");
    [[maybe_unused]] const ssize_t w = ::write(2, buf, len);
    ::_exit(255);
}

// Waits for (or with `nohang`, looks at) a child; true once it is reaped. __WALL: the child
// sends no SIGCHLD, so that libev's reaper on the default loop (waitpid(-1)) leaves it alone.
bool reap_pidfd(int pidfd, bool nohang, bool& exited, int& code) {
    siginfo_t info{};
    int r;
    do {
        r = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
                     WEXITED | __WALL | (nohang ? WNOHANG : 0));
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        exited = false;
        code = -1;
        return true;  // nothing left to wait for
    }
    if (info.si_pid == 0) return false;
    exited = info.si_code == CLD_EXITED;
    code = info.si_status;
    return true;
}

}  // namespace

ExternalProcess::ExternalProcess(ExternalCommand command, struct ev_loop* loop, Done done)
    : command_(std::move(command)), loop_(loop), done_(std::move(done)) {
    // libev's default loop reaps every child on SIGCHLD (waitpid(-1), for ev_child, which
    // sluice does not use) and would steal the commands' exit statuses: with external checks,
    // SIGCHLD goes back to its default action (nothing), and each check reaps its own child.
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGCHLD, &dfl, nullptr);
    });
}

ExternalProcess::~ExternalProcess() {
    // Stopping for good: nothing is left behind, not even a zombie.
    for (auto& c : children_) {
        ev_io_stop(loop_, &c->io);
        ::kill(-c->pid, SIGKILL);
        bool exited = false;
        int code = 0;
        (void)reap_pidfd(c->pidfd, false, exited, code);
        ::close(c->pidfd);
    }
}

bool ExternalProcess::running() const {
    for (const auto& c : children_)
        if (!c->killed) return true;
    return false;
}

std::optional<Outcome> ExternalProcess::start(std::uint32_t curconn) {
    command_.env[command_.curconn_index] = fmt::format("HAPROXY_SERVER_CURCONN={}", curconn);
    ChildArgs args;
    args.files = candidates(command_.command, command_.path);
    std::vector<char*> argv, envp;
    argv.push_back(command_.command.data());
    for (auto& a : command_.args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : command_.env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    args.argv = argv.data();
    args.envp = envp.data();
    static char sh[] = "/bin/sh";
    std::vector<char*> sh_argv{sh, nullptr};
    sh_argv.insert(sh_argv.end(), argv.begin() + 1, argv.end());
    args.sh_argv = sh_argv.data();

    // posix_spawn's recipe, plus a pidfd and no exit signal: the child shares our memory and
    // this thread waits until it has exec'd (CLONE_VFORK), on a stack of its own.
    constexpr std::size_t kStack = 64 * 1024;
    auto stack = std::make_unique<char[]>(kStack);
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    int pidfd = -1;
    const pid_t pid = ::clone(child_main, stack.get() + kStack,
                              CLONE_VM | CLONE_VFORK | CLONE_PIDFD, &args, &pidfd);
    const int err = errno;
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (pid < 0) {
        fmt::print(stderr,
                   "{:<11}({}) : Failed to fork process for external health check: {}. "
                   "Aborting.\n",
                   "[ALERT]", getpid(), std::strerror(err));
        std::fflush(stderr);
        return Outcome{check::Status::SocketError, -1, {}};
    }
    auto child = std::make_unique<Child>();
    child->owner = this;
    child->pid = pid;
    child->pidfd = pidfd;
    ev_io_init(&child->io, on_exit, child->pidfd, EV_READ);
    child->io.data = child.get();
    ev_io_start(loop_, &child->io);
    children_.push_back(std::move(child));
    return std::nullopt;
}

void ExternalProcess::kill(bool announce) {
    for (auto& c : children_) {
        if (c->killed) continue;
        c->killed = true;
        if (announce) print_warning(fmt::format("kill {}", c->pid));
        ::kill(-c->pid, SIGKILL);
    }
}

void ExternalProcess::on_exit(struct ev_loop*, ev_io* w, int) {
    Child& c = *static_cast<Child*>(w->data);
    c.owner->reap(c);
}

void ExternalProcess::reap(Child& child) {
    bool exited = false;
    int code = 0;
    if (!reap_pidfd(child.pidfd, true, exited, code)) return;  // a spurious wake-up
    ev_io_stop(loop_, &child.io);
    ::close(child.pidfd);
    const bool report = !child.killed;
    for (auto it = children_.begin(); it != children_.end(); ++it)
        if (it->get() == &child) {
            children_.erase(it);
            break;
        }
    // Last: `done_` may start the next check from here.
    if (report) done_(external_outcome(exited, code));
}

}  // namespace sluice::check
