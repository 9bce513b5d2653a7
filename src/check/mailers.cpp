// E-mail alerts (see mailers.hpp): the message, the SMTP replies, and the sessions that carry
// the mails, one queue per mailer of a proxy on each loop, run like a check: non-blocking
// connect and I/O on the loop, bounded by `timeout mail`, one mail at a time so mails of one
// loop reach a mailer in the order their changes happened.
#include "sluice/check/mailers.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <deque>
#include <map>

#include "sluice/cfg/document.hpp"
#include "sluice/net/socket.hpp"

namespace sluice::check {

std::optional<int> parse_log_level(std::string_view name) {
    static constexpr std::string_view kLevels[] = {"emerg",   "alert",  "crit", "err",
                                                   "warning", "notice", "info", "debug"};
    for (int i = 0; i < 8; ++i)
        if (kLevels[i] == name) return i;
    return std::nullopt;
}

int state_level(bool down_from_up) {
    return down_from_up ? 1 : 5;  // LOG_ALERT, LOG_NOTICE
}

std::string build_mail_data(std::string_view from, std::string_view to, std::string_view date,
                            std::string_view text) {
    return fmt::format(
        "From: {}\r\nTo: {}\r\nDate: {}\r\nSubject: [HAProxy Alert] {}\r\n\r\n{}\r\n\r\n.\r\n",
        from, to, date, text, text);
}

std::string format_mail_date(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[128];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %T %z (%Z)", &tm);
    return std::string(buf, n);
}

SmtpReply parse_smtp_reply(std::string_view in) {
    std::size_t pos = 0;
    int first = -1;
    while (true) {
        const std::size_t eol = in.find("\r\n", pos);
        if (eol == std::string_view::npos) {
            // A line this long is no SMTP reply (RFC 5321 caps them at 512 bytes).
            if (in.size() - pos > 1024) return {SmtpReply::State::Invalid, 0, 0};
            return {};
        }
        const std::string_view line = in.substr(pos, eol - pos);
        if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
            line[2] < '0' || line[2] > '9' || (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
            return {SmtpReply::State::Invalid, 0, 0};
        const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (first >= 0 && code != first) return {SmtpReply::State::Invalid, 0, 0};
        first = code;
        pos = eol + 2;
        if (line.size() == 3 || line[3] == ' ') return {SmtpReply::State::Complete, code, pos};
    }
}

namespace {

double seconds(util::Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

// One mailer of one proxy, on one loop: the mails waiting and the session sending the first.
struct MailQueue {
    core::Loop* loop = nullptr;
    const MailAlerts::Target* target = nullptr;
    net::Address mailer;
    std::deque<std::string> pending;  // DATA payloads, oldest first
    int fd = -1;
    ev_io io{};
    ev_timer timer{};
    bool connecting = false;
    std::size_t step = 0;  // replies received in this session
    std::string in, out;
    std::size_t sent = 0;

    // The reply each step waits for, and what follows it.
    static constexpr int kExpect[] = {220, 250, 250, 250, 354, 250, 221};
    static constexpr std::size_t kMaxReply = 16384;

    void push(std::string data) {
        if (pending.size() >= kMaxPendingMails) return;  // dropped: see kMaxPendingMails
        pending.push_back(std::move(data));
        if (fd < 0) start();
    }

    void start() {
        while (!pending.empty()) {
            auto fd_or = net::start_connect(mailer);
            if (!fd_or) {  // no socket, or refused at once: this mail is lost, as in HAProxy
                pending.pop_front();
                continue;
            }
            fd = *fd_or;
            connecting = true;
            step = 0;
            in.clear();
            out.clear();
            sent = 0;
            ev_io_set(&io, fd, EV_WRITE);
            ev_io_start(loop->raw(), &io);
            ev_timer_set(&timer, seconds(target->timeout), 0.);
            ev_timer_start(loop->raw(), &timer);
            return;
        }
    }

    // The session ends (sent or failed): its mail is done with, the next one starts.
    void end() {
        close_session();
        if (!pending.empty()) pending.pop_front();
        start();
    }

    void close_session() {
        if (fd < 0) return;
        ev_io_stop(loop->raw(), &io);
        ev_timer_stop(loop->raw(), &timer);
        ::close(fd);
        fd = -1;
        in.clear();
        in.shrink_to_fit();
        out.clear();
        out.shrink_to_fit();
    }

    void want(int events) {
        ev_io_stop(loop->raw(), &io);
        ev_io_set(&io, fd, events);
        ev_io_start(loop->raw(), &io);
    }

    std::string command(std::size_t after) const {
        const EmailAlertConf& c = target->conf;
        switch (after) {
            case 0:
                return fmt::format("HELO {}\r\n", target->hostname);
            case 1:
                return fmt::format("MAIL FROM:<{}>\r\n", c.from);
            case 2:
                return fmt::format("RCPT TO:<{}>\r\n", c.to);
            case 3:
                return "DATA\r\n";
            case 4:
                return pending.front();
            case 5:
                return "QUIT\r\n";
        }
        return {};
    }

    // False when the session ended.
    bool flush() {
        while (sent < out.size()) {
            const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                want(EV_WRITE);
                return true;
            }
            end();
            return false;
        }
        out.clear();
        sent = 0;
        want(EV_READ);
        return true;
    }

    void on_readable() {
        char buf[1024];
        while (true) {
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                in.append(buf, static_cast<std::size_t>(n));
                if (in.size() > kMaxReply) {  // no mailer says that much at once
                    end();
                    return;
                }
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
            // Closed or reset: whatever it said before counts, then the session ends.
            if (!replies()) return;
            end();
            return;
        }
        replies();
    }

    // Handles every complete reply read; false when the session ended.
    bool replies() {
        while (true) {
            const SmtpReply r = parse_smtp_reply(in);
            if (r.state == SmtpReply::State::Incomplete) return true;
            if (r.state == SmtpReply::State::Invalid || r.code != kExpect[step]) {
                end();
                return false;
            }
            in.erase(0, r.length);
            if (step + 1 == std::size(kExpect)) {
                end();
                return false;
            }
            out = command(step);
            ++step;
            if (!flush()) return false;
            if (!out.empty()) return true;  // the rest goes when the socket takes it
        }
    }

    static void on_io(struct ev_loop*, ev_io* w, int revents) {
        MailQueue& q = *static_cast<MailQueue*>(w->data);
        if (q.connecting) {
            if (net::connect_result(q.fd) != 0) {
                q.end();
                return;
            }
            q.connecting = false;
            q.want(EV_READ);
            return;
        }
        if (revents & EV_WRITE) {
            q.flush();
            return;
        }
        q.on_readable();
    }

    static void on_timer(struct ev_loop*, ev_timer* w, int) {
        static_cast<MailQueue*>(w->data)->end();
    }
};

struct MailThread {
    std::map<std::pair<const MailAlerts::Target*, std::size_t>, std::unique_ptr<MailQueue>> queues;
    bool stopped = false;
};

MailAlerts::MailAlerts(proxy::Config& config, std::size_t loops) {
    std::string host;
    {
        char buf[256] = {};
        if (::gethostname(buf, sizeof buf - 1) == 0) host = buf;
    }
    const auto& named = config.doc.global.read<cfg::NamedSections>();
    for (const auto& be : config.backends) {
        if (!be->parts) continue;
        const auto& conf = be->parts->read<EmailAlertConf>();
        if (!conf.complete()) continue;
        const cfg::Section* section = named.find(cfg::SectionKind::Mailers, conf.mailers);
        if (!section) continue;
        const auto& mc = section->parts.read<MailersConf>();
        auto t = std::make_unique<Target>();
        t->conf = conf;
        t->hostname = conf.myhostname.empty() ? host : conf.myhostname;
        t->timeout = mc.timeout;
        for (const auto& m : mc.mailers)
            t->mailers.push_back(m.address);
        if (t->mailers.empty()) continue;
        targets_.emplace(be.get(), std::move(t));
    }
    for (std::size_t i = 0; i < loops; ++i)
        threads_.push_back(std::make_unique<MailThread>());
}

MailAlerts::~MailAlerts() {
    for (auto& t : threads_)
        for (auto& [key, q] : t->queues)
            q->close_session();
}

void MailAlerts::alert(const proxy::Server& s, int level, std::string_view message,
                       core::Loop& loop) {
    if (targets_.empty()) return;
    auto it = targets_.find(s.backend);
    if (it == targets_.end()) return;
    const Target& t = *it->second;
    if (level > t.conf.level) return;
    const auto index = static_cast<std::size_t>(loop.index());
    if (index >= threads_.size()) return;
    MailThread& th = *threads_[index];
    if (th.stopped) return;
    if (message.ends_with('.')) message.remove_suffix(1);
    const std::string data =
        build_mail_data(t.conf.from, t.conf.to,
                        format_mail_date(static_cast<std::int64_t>(std::time(nullptr))), message);
    for (std::size_t i = 0; i < t.mailers.size(); ++i) {
        auto& slot = th.queues[{&t, i}];
        if (!slot) {
            slot = std::make_unique<MailQueue>();
            slot->loop = &loop;
            slot->target = &t;
            slot->mailer = t.mailers[i];
            ev_init(&slot->io, MailQueue::on_io);
            slot->io.data = slot.get();
            ev_init(&slot->timer, MailQueue::on_timer);
            slot->timer.data = slot.get();
        }
        slot->push(data);
    }
}

void MailAlerts::stop_thread(core::Loop& loop) {
    const auto index = static_cast<std::size_t>(loop.index());
    if (index >= threads_.size()) return;
    MailThread& th = *threads_[index];
    th.stopped = true;
    // As HAProxy: the mail in flight may finish (within `timeout mail`, its watchers keep the
    // loop running until then); those waiting behind it are dropped.
    for (auto& [key, q] : th.queues)
        q->pending.resize(q->fd >= 0 && !q->pending.empty() ? 1 : 0);
}

}  // namespace sluice::check
