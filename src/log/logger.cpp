// Sending (see logger.hpp). Each thread that logs has its own unconnected non-blocking
// datagram sockets (one per address family, opened on first use, closed when the thread
// ends) and its own line buffer, so emit() takes no lock and, once warm, allocates nothing.
// Descriptor targets (stdout, stderr, fd@N) are shared: writes of one line are atomic on
// pipes up to PIPE_BUF, as HAProxy relies on too.
#include "sluice/log/logger.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

#include "sluice/log/format.hpp"

namespace sluice::log {

// One descriptor target, opened on first write. A pipe or terminal is reopened through
// /proc/self/fd so that the non-blocking flag is ours alone: setting O_NONBLOCK on the
// inherited descriptor would change it for the shell, the other processes sharing it, and
// this process's own stderr messages. A socket (systemd's stdout) is written with
// MSG_DONTWAIT; a regular file is written as it is (files do not block).
struct FdSink {
    int source = -1;
    std::once_flag once;
    int fd = -1;
    bool socket = false;
    bool owned = false;

    void open() {
        struct stat st {};
        if (::fstat(source, &st) != 0) return;
        if (S_ISSOCK(st.st_mode)) {
            fd = source;
            socket = true;
        } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
            const std::string path = fmt::format("/proc/self/fd/{}", source);
            const int own = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            if (own >= 0) {
                fd = own;
                owned = true;
            } else {
                // As HAProxy does when nothing else works.
                const int flags = ::fcntl(source, F_GETFL);
                if (flags >= 0) ::fcntl(source, F_SETFL, flags | O_NONBLOCK);
                fd = source;
            }
        } else {
            fd = source;
        }
    }
    ~FdSink() {
        if (owned) ::close(fd);
    }
};

namespace {

std::atomic<std::uint64_t> g_dropped{0};
std::atomic<const Logger*> g_global{nullptr};
std::string g_program = "sluice";

std::mutex g_sinks_mutex;
std::map<int, std::unique_ptr<FdSink>>& sinks() {
    static std::map<int, std::unique_ptr<FdSink>> s;
    return s;
}

FdSink* sink_for(int fd) {
    std::lock_guard lock(g_sinks_mutex);
    auto& slot = sinks()[fd];
    if (!slot) {
        slot = std::make_unique<FdSink>();
        slot->source = fd;
    }
    return slot.get();
}

struct ThreadState {
    int inet = -1, inet6 = -1, unix_fd = -1;
    std::string line;
    std::int64_t second = -1;
    Stamp stamp;
    char pid[16]{};
    std::size_t pid_len = 0;

    ThreadState() { line.reserve(1100); }
    ~ThreadState() {
        for (int fd : {inet, inet6, unix_fd})
            if (fd >= 0) ::close(fd);
    }
    ThreadState(const ThreadState&) = delete;
    ThreadState& operator=(const ThreadState&) = delete;

    int socket_for(int family) {
        int& fd = family == AF_INET ? inet : family == AF_INET6 ? inet6 : unix_fd;
        if (fd < 0) fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        return fd;
    }
    const Stamp& now() {
        timespec ts{};
        ::clock_gettime(CLOCK_REALTIME, &ts);
        if (ts.tv_sec != second) {
            // localtime_r takes a lock and reads the zone: once a second per thread.
            stamp = make_stamp(ts.tv_sec, 0);
            second = ts.tv_sec;
        }
        stamp.usec = static_cast<std::uint32_t>(ts.tv_nsec / 1000);
        return stamp;
    }
    std::string_view pid_text() {
        const auto r = std::to_chars(pid, pid + sizeof pid, static_cast<long>(process_id()));
        pid_len = static_cast<std::size_t>(r.ptr - pid);
        return {pid, pid_len};
    }
};

ThreadState& thread_state() {
    thread_local ThreadState state;
    return state;
}

void failed(int err, std::size_t index) {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) return;
    // A target that refuses everything would otherwise flood stderr.
    static std::atomic<bool> once{false};
    if (once.exchange(true)) return;
    fmt::print(stderr, "{:<11}({}) : sendmsg()/writev() failed in logger #{}: {} (errno={})\n",
               "[ALERT]", ::getpid(), index + 1, std::strerror(err), err);
    std::fflush(stderr);
}

}  // namespace

Logger::Logger(const LogConf& conf, const LogConf& global) {
    tag_ = conf.tag ? *conf.tag : global.tag ? *global.tag : g_program;
    std::string hostname;
    if (global.send_hostname) {
        hostname = *global.send_hostname;
        if (hostname.empty()) {
            char buf[256] = {};
            if (::gethostname(buf, sizeof buf - 1) == 0) hostname = buf;
        }
    }
    for (const Target& t : conf.targets) {
        auto r = std::make_unique<Runtime>();
        r->line = t.line;
        r->destination = t.destination;
        r->format = t.line.format          ? *t.line.format
                    : global.send_hostname ? Format::Rfc3164
                                           : Format::Local;
        if (r->format == Format::Rfc3164)
            r->host = global.send_hostname ? hostname : "localhost";
        else if (r->format == Format::Rfc5424)
            r->host = hostname;  // empty: "-"
        if (t.destination.kind == TargetKind::Fd) r->sink = sink_for(t.destination.fd);
        if (t.line.level > most_verbose_) most_verbose_ = t.line.level;
        targets_.push_back(std::move(r));
    }
}

Logger::~Logger() = default;

void Logger::emit(Level level, std::string_view message, std::string_view sd) const {
    if (targets_.empty()) return;
    ThreadState& ts = thread_state();
    const Stamp& when = ts.now();
    const std::string_view pid = ts.pid_text();
    for (std::size_t i = 0; i < targets_.size(); ++i) {
        const Runtime& t = *targets_[i];
        if (level > t.line.level) continue;
        if (t.line.sample_size != 0) {
            const std::uint32_t n = static_cast<std::uint32_t>(
                t.sampled.fetch_add(1, std::memory_order_relaxed) % t.line.sample_size + 1);
            bool in = false;
            for (const SampleRange& r : t.line.ranges)
                if (n >= r.low && n <= r.high) {
                    in = true;
                    break;
                }
            if (!in) continue;
        }
        const Level sent = level < t.line.min_level ? t.line.min_level : level;
        const bool fd_target = t.destination.kind == TargetKind::Fd;
        build_line(ts.line, t.format, t.line.facility, sent, when, {t.host, tag_, pid, sd}, message,
                   t.line.max_len, fd_target);
        ssize_t n = -1;
        if (fd_target) {
            FdSink& s = *t.sink;
            std::call_once(s.once, [&s] { s.open(); });
            if (s.fd < 0) {
                failed(EBADF, i);
                continue;
            }
            n = s.socket ? ::send(s.fd, ts.line.data(), ts.line.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                         : ::write(s.fd, ts.line.data(), ts.line.size());
        } else {
            const net::Address& a = t.destination.address;
            const int fd = ts.socket_for(a.family());
            if (fd < 0) {
                failed(errno, i);
                continue;
            }
            n = ::sendto(fd, ts.line.data(), ts.line.size(), MSG_DONTWAIT | MSG_NOSIGNAL, a.raw(),
                         a.length);
        }
        if (n < 0) failed(errno, i);
    }
}

void set_program_name(std::string_view argv0) {
    const std::size_t slash = argv0.rfind('/');
    if (slash != std::string_view::npos) argv0.remove_prefix(slash + 1);
    if (!argv0.empty()) g_program = std::string(argv0);
}

std::string_view program_name() {
    return g_program;
}

namespace {
std::atomic<int> g_pid{0};
void forget_pid() {
    g_pid.store(0, std::memory_order_relaxed);
}
}  // namespace

int process_id() {
    int pid = g_pid.load(std::memory_order_relaxed);
    if (pid == 0) {
        static const int registered = ::pthread_atfork(nullptr, nullptr, forget_pid);
        (void)registered;
        pid = static_cast<int>(::getpid());
        g_pid.store(pid, std::memory_order_relaxed);
    }
    return pid;
}

std::uint64_t dropped() {
    return g_dropped.load(std::memory_order_relaxed);
}

void set_global_logger(const Logger* logger) {
    g_global.store(logger, std::memory_order_release);
}

const Logger* global_logger() {
    return g_global.load(std::memory_order_acquire);
}

}  // namespace sluice::log
