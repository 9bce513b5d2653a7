// One runtime-API connection (see session.hpp).
#include "session.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::cli {
namespace {
// A command line longer than this is refused (HAProxy's limit is its buffer size).
constexpr std::size_t kMaxInput = 64 * 1024;
double seconds(util::Duration d) {
    return std::chrono::duration<double>(d).count();
}
}  // namespace

Session::Session(Server& server, core::Loop& loop, int fd, Level level)
    : server_(server), loop_(loop), fd_(fd), level_(level), timeout_(server.conf().timeout) {
    ev_io_init(&io_, on_io, fd_, EV_READ);
    io_.data = this;
    ev_io_start(loop_.raw(), &io_);
    ev_init(&timer_, on_timer);
    timer_.data = this;
    arm_timer();
}

Session::~Session() {
    ev_io_stop(loop_.raw(), &io_);
    ev_timer_stop(loop_.raw(), &timer_);
    if (fd_ >= 0) ::close(fd_);
}

void Session::arm_timer() {
    ev_timer_stop(loop_.raw(), &timer_);
    if (timeout_.count() <= 0) return;
    ev_timer_set(&timer_, seconds(timeout_), 0.);
    ev_timer_start(loop_.raw(), &timer_);
}

void Session::on_timer(struct ev_loop*, ev_timer* w, int) {
    static_cast<Session*>(w->data)->close();  // idle for `stats timeout`: HAProxy closes
}

void Session::on_io(struct ev_loop*, ev_io* w, int revents) {
    auto* self = static_cast<Session*>(w->data);
    if (revents & EV_WRITE) {
        if (!self->flush()) return;
    }
    if ((revents & EV_READ) && !self->eof_) self->readable();
}

void Session::readable() {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
            if (!done_ && !eof_) in_.append(buf, static_cast<std::size_t>(n));
            if (in_.size() > kMaxInput) {
                close();
                return;
            }
            if (static_cast<std::size_t>(n) < sizeof buf) break;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == EINTR) continue;
        // The client is gone (or only shut its side): the lines it sent whole are answered.
        eof_ = true;
        break;
    }
    arm_timer();
    process();
}

void Session::process() {
    bool ran = false;
    std::size_t eol;
    while (!done_ && (eol = in_.find('\n')) != std::string::npos) {
        std::string line = in_.substr(0, eol);
        in_.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (in_payload_) {
            // The payload ends at an empty line; the command runs with it then.
            if (!line.empty()) {
                payload_.append(line).push_back('\n');
                continue;
            }
            in_payload_ = false;
            run_line(payload_command_, payload_);
        } else {
            std::string_view text = line;
            while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
                text.remove_suffix(1);
            if (text.ends_with("<<")) {
                payload_command_ = std::string(text.substr(0, text.size() - 2));
                payload_.clear();
                in_payload_ = true;
                continue;
            }
            run_line(line, {});
        }
        if (quitting_) done_ = true;
        ran = true;
    }
    // Without `prompt`, a connection carries the command lines of its first read (HAProxy
    // answers the lines that came together, then closes).
    if (eof_ || (ran && !prompt_)) done_ = true;
    if (done_) in_.clear();
    (void)flush();  // closes the session once done and flushed
}

void Session::run_line(std::string_view line, std::string_view payload) {
    const auto commands = split_line(line);
    for (const auto& args : commands) {
        run(args, payload);
        if (quitting_) return;  // `quit` answers nothing
        out_ += '\n';
    }
    if (prompt_) out_ += "> ";
}

void Session::run(std::span<const std::string> args, std::string_view payload) {
    Ctx ctx{.args = args,
            .payload = payload,
            .config = server_.config(),
            .hooks = server_.hooks,
            .session = *this,
            .out = out_};
    const Command* c = args.empty() ? nullptr : find_command(args);
    if (!c) {
        unknown_command(out_, args);
        return;
    }
    if (level_ < c->level) {
        ctx.error("Permission denied");
        return;
    }
    if (!c->pending.empty()) {
        ctx.error(fmt::format("'{}' is not implemented yet in sluice; it comes with {}.", c->words,
                              c->pending));
        return;
    }
    c->run(ctx);
}

std::vector<std::vector<std::string>> split_line(std::string_view line) {
    std::vector<std::vector<std::string>> commands(1);
    std::string word;
    bool in_word = false;
    auto end_word = [&] {
        if (in_word) commands.back().push_back(std::move(word));
        word.clear();
        in_word = false;
    };
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (ch == '\\' && i + 1 < line.size()) {
            word.push_back(line[++i]);
            in_word = true;
        } else if (ch == ' ' || ch == '\t') {
            end_word();
        } else if (ch == ';') {
            end_word();
            commands.emplace_back();
        } else {
            word.push_back(ch);
            in_word = true;
        }
    }
    end_word();
    // Empty commands between `;` are skipped, an empty line is one empty command.
    std::vector<std::vector<std::string>> out;
    for (auto& c : commands)
        if (!c.empty()) out.push_back(std::move(c));
    if (out.empty()) out.emplace_back();
    return out;
}

bool Session::flush() {
    while (!out_.empty()) {
        const ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            out_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Reading goes on meanwhile only while more input may be wanted.
            watch((eof_ || done_ ? 0 : EV_READ) | EV_WRITE);
            return true;
        }
        close();
        return false;
    }
    watch(EV_READ);
    if (done_) {
        close();
        return false;
    }
    return true;
}

void Session::watch(int events) {
    if ((io_.events & (EV_READ | EV_WRITE)) == events) return;
    ev_io_stop(loop_.raw(), &io_);
    ev_io_set(&io_, fd_, events);
    if (events) ev_io_start(loop_.raw(), &io_);
}

void Session::close() {
    server_.session_closed(this);  // deletes this
}

}  // namespace sluice::cli
