// mode http (see http_stream.hpp): event callbacks, reading and sending with back-pressure,
// body framing checks, timeouts, and the ways a stream ends.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "sluice/http/error_pages.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/stream/http_stream.hpp"

namespace sluice::stream {
namespace {

// Reads per readiness event on one side before letting other connections run.
constexpr int kMaxReadsPerEvent = 4;
// How long a closing client gets to send its FIN after our last byte, at most.
constexpr double kLingerSeconds = 1.0;

double seconds(util::Duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

void HttpStream::on_client_io(struct ev_loop*, ev_io* w, int revents) {
    auto* self = static_cast<HttpStream*>(w->data);
    self->handle_io(self->client_, revents);
    self->finish_callback();
}

void HttpStream::on_server_io(struct ev_loop*, ev_io* w, int revents) {
    auto* self = static_cast<HttpStream*>(w->data);
    if (self->phase_ == Phase::Connecting) {
        if (net::connect_result(self->server_side_.fd) != 0 ||
            !self->attempt_.send_proxy_header(self->server_side_.fd, self->client_.fd,
                                              self->addrs_.get())) {
            self->connect_failed(false);
            if (!self->closed_) self->progress();
            self->finish_callback();
            return;
        }
        self->on_connected();
        revents &= ~EV_WRITE;  // the writability was the connect completing
    }
    self->handle_io(self->server_side_, revents);
    self->finish_callback();
}

void HttpStream::handle_io(Side& side, int revents) {
    if (closed_) return;
    if (revents & EV_READ) {
        for (int i = 0; i < kMaxReadsPerEvent; ++i) {
            const bool was_empty = side.in.empty();
            const ReadResult r = read_into(side);
            if (r == ReadResult::Error) {
                if (&side == &client_) {
                    if (phase_ == Phase::WaitRequest && requests_ == 0 && client_.in.empty()) {
                        end_probe(400, 'C', true);
                        return;
                    }
                    if (phase_ == Phase::WaitRequest && !client_.in.empty() && !awaited_body_) {
                        lost_request(400, 'C');  // in the middle of a request head
                        return;
                    }
                    fe_.errors.count(&proxy::ErrorCounters::client_aborts);
                    term_.set('C', phase_ == Phase::WaitRequest ? 'R' : 'D');
                    close();
                    return;
                }
                side.read_closed = true;  // a reset server: handled as a close below
                side.reset = true;
                break;
            }
            const bool got = r == ReadResult::Data || r == ReadResult::Full;
            if (got && &side == &client_ && phase_ == Phase::WaitRequest &&
                !(txn_log_ && txn_log_->pending)) {
                const ev_tstamp now = worker_.loop().now();
                if (requests_ > 0) {
                    // Between transactions request_started_ holds the end of the last one:
                    // HAProxy's accept date for the next.
                    if (!txn_log_) begin_txn_log(request_started_);
                    if (txn_log_) txn_log_->clock.request = now;
                    if (was_empty) request_started_ = now;  // http-request counts
                }
                if (txn_log_) txn_log_->pending = true;
            }
            if (r != ReadResult::Full) break;
            // The read filled the room: more is likely queued. Forward, then read again if
            // the stream still wants this side.
            progress();
            if (closed_) return;
            if (side.fd < 0 || !(side.events & EV_READ)) return;
        }
    }
    progress();
}

HttpStream::ReadResult HttpStream::read_into(Side& side) {
    if (side.read_closed || side.fd < 0) return ReadResult::Eof;
    if (!side.in.holds_memory()) {
        side.in = core::Buffer::take(worker_.loop().buffers());
        if (!side.in.holds_memory()) return ReadResult::NoRoom;
    }
    std::span<std::byte> room = side.in.writable();
    if (room.empty()) return ReadResult::NoRoom;
    const ssize_t n = ::recv(side.fd, room.data(), room.size(), 0);
    if (n > 0) {
        side.in.commit(static_cast<std::size_t>(n));
        side.last_activity = worker_.loop().now();
        return static_cast<std::size_t>(n) == room.size() ? ReadResult::Full : ReadResult::Data;
    }
    if (n == 0) {
        side.read_closed = true;
        side.in.release_if_empty();
        return ReadResult::Eof;
    }
    side.in.release_if_empty();
    if (errno == EAGAIN || errno == EINTR) return ReadResult::WouldBlock;
    return ReadResult::Error;
}

// Checks the body bytes that arrived past `ready` and makes them ready to send. False on a
// framing error (a bad chunk).
bool HttpStream::scan_body(Body& body, core::Buffer& in, bool accept_invalid) {
    switch (body.kind) {
        case http::BodyKind::None:
        case http::BodyKind::Invalid:
            body.done = true;
            return true;
        case http::BodyKind::ContentLength: {
            const std::uint64_t take = std::min<std::uint64_t>(in.size() - body.ready, body.left);
            body.ready += static_cast<std::size_t>(take);
            body.left -= take;
            if (body.left == 0) body.done = true;
            return true;
        }
        case http::BodyKind::Chunked: {
            // The framing is forwarded as received: it must read the same at the next hop.
            const http::ParseOptions opts{.accept_invalid = accept_invalid, .strict_crlf = true};
            while (!body.done && body.ready < in.size()) {
                const http::ChunkStep st =
                    http::decode_chunked(body.chunks, in.readable().subspan(body.ready), opts);
                if (st.event == http::ChunkEvent::Invalid) {
                    body.error_at = body.ready + st.error_offset;
                    return false;
                }
                body.ready += st.consumed;
                if (st.event == http::ChunkEvent::Done) body.done = true;
                if (st.event == http::ChunkEvent::NeedMore && st.consumed == 0) break;
            }
            return true;
        }
        case http::BodyKind::UntilClose:
        case http::BodyKind::Tunnel:
            body.ready = in.size();
            return true;
    }
    return true;
}

// Sends `to.out`, then the ready body bytes of `from.in`, in one system call. False when the
// stream failed or closed on a write error.
bool HttpStream::send_to(Side& to, Side& from, Body& body) {
    if (to.fd < 0 || to.write_shut) return true;
    if (&to == &server_side_ && (phase_ != Phase::Exchange && phase_ != Phase::Tunnel)) return true;
    for (;;) {
        iovec iov[2];
        int n = 0;
        std::span<const std::byte> out = to.out.readable();
        if (!out.empty()) iov[n++] = {const_cast<std::byte*>(out.data()), out.size()};
        const std::size_t body_bytes = std::min(body.ready, from.in.size());
        if (body_bytes > 0)
            iov[n++] = {const_cast<std::byte*>(from.in.readable().data()), body_bytes};
        if (n == 0) break;
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = static_cast<std::size_t>(n);
        const ssize_t w = ::sendmsg(to.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            if (&to == &client_) {
                fe_.errors.count(&proxy::ErrorCounters::client_aborts);
                term_.set('C', 'D');
                close();
            } else if (!response_started_ && phase_ == Phase::Exchange) {
                if (retry_after_sending(proxy::retry_on::kEmptyResponse)) return false;
                count_response_failure();
                fail(502, 'S', 'H');
            } else {
                be_->errors.count(&proxy::ErrorCounters::server_aborts);
                term_.set('S', 'D');
                close();
            }
            return false;
        }
        to.last_activity = worker_.loop().now();
        worker_.count_bytes(fe_, be_, conn_server_, &to == &client_, static_cast<std::uint64_t>(w));
        if (txn_log_)
            (&to == &client_ ? txn_log_->clock.bytes_out : txn_log_->clock.bytes_in) +=
                static_cast<std::uint64_t>(w);
        std::size_t k = static_cast<std::size_t>(w);
        const std::size_t from_out = std::min(k, out.size());
        to.out.consume(from_out);
        k -= from_out;
        from.in.consume(k);
        body.ready -= k;
        if (static_cast<std::size_t>(w) < out.size() + body_bytes) break;  // socket full
    }
    to.out.release_if_empty();
    from.in.release_if_empty();
    return true;
}

void HttpStream::update_interest() {
    if (closed_) return;
    int c = 0, s = 0;
    const bool exchanging = phase_ == Phase::Exchange || phase_ == Phase::Tunnel;
    // While a request read whole is served, a client not yet given to the poller stays out
    // of it: a `Connection: close` exchange then never registers the client socket (HAProxy
    // alike, which does not watch the client for reads during that time either). Once
    // watched, it stays watched: taking it out and back costs a system call each time.
    const bool serving = req_.done && (phase_ == Phase::Exchange || phase_ == Phase::Queued ||
                                       phase_ == Phase::Connecting || phase_ == Phase::RetryWait);
    if (!client_.read_closed && !client_.in.full() && (client_.watched || !serving)) c |= EV_READ;
    if (!client_.write_shut && (!client_.out.empty() || (exchanging && resp_.ready > 0)))
        c |= EV_WRITE;
    if (server_side_.fd >= 0) {
        if (phase_ == Phase::Connecting) {
            s = EV_WRITE;
        } else if (exchanging) {
            if (!server_side_.read_closed && !server_side_.in.full()) s |= EV_READ;
            if (!req_head_open_ && !server_side_.write_shut &&
                (!server_side_.out.empty() || req_.ready > 0))
                s |= EV_WRITE;
        }
        set_interest(server_side_, s);
    }
    set_interest(client_, c);
}

void HttpStream::set_interest(Side& side, int events) {
    if (side.events == events) return;
    ev_io_stop(worker_.loop().raw(), &side.io);
    ev_io_modify(&side.io, events);
    if (events) {
        ev_io_start(worker_.loop().raw(), &side.io);
        side.watched = true;
    }
    side.events = events;
}

// Answers `status` with the proxy's page; or, once a response has begun, cuts the connection.
// After 502, 503 and 504 HAProxy keeps a keep-alive client connection whose request was read
// whole; after the others (a bad, late or incomplete request) it closes.
void HttpStream::fail(std::uint16_t status, char cause, char phase, const http::RequestHead* req,
                      bool early) {
    term_.set(cause, phase);
    if (queue_link.linked()) worker_.dequeue(queue_link);
    const bool reading_request = status == 400 || status == 408;
    const http::ErrorPage* page = error_page(status);
    if (page->format && (early || reading_request)) {
        const http::ErrorPage* built_in = http::default_error_page(status);
        page = built_in ? built_in : http::default_error_page(500);
    }
    http::RequestHead held;
    if (page->format && !req && !response_started_ && held_request(held)) req = &held;
    drop_server_connection();
    attempt_.release();
    server_side_.out.release();
    req_head_open_ = false;
    if (response_started_) {
        close();
        return;
    }
    const bool keep = (status == 502 || status == 503 || status == 504) && client_keep_ &&
                      phase_ != Phase::WaitRequest && req_.done && !page->must_close &&
                      !soft_stopping_;
    const PageText text = page_text(*page, req);
    send_page(*page, keep, reading_request ? AfterRules::None : AfterRules::All, &text, req);
}

bool HttpStream::held_request(http::RequestHead& out) {
    // Open: its last lines (and the empty line) wait for the connection, so none of it has gone.
    if (!req_head_open_ || server_side_.out.empty()) return false;
    const std::span<const std::byte> bytes = server_side_.out.readable();
    std::string& text = worker_.arena().take();
    text.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size()).append("\r\n");
    const auto parsed =
        http::parse_request_head(std::as_bytes(std::span(text.data(), text.size())), 0, out,
                                 http::ParseOptions{.accept_invalid = true});
    return std::holds_alternative<http::Done>(parsed);
}

void HttpStream::count_bad_request() {
    fe_.errors.count(&proxy::ErrorCounters::failed_requests);
    proxy::Counts& c = worker_.counts(fe_.counts);
    c.requests.add();
    c.request_rate.add(worker_.second());
}

void HttpStream::bad_request(std::uint16_t status, char cause) {
    count_bad_request();
    fail(status, cause, 'R', nullptr, true);
}

void HttpStream::end_probe(std::uint16_t status, char cause, bool reset) {
    if (fe_.conf->http_ignore_probes) {
        close();  // not pending: no log line
        return;
    }
    if (txn_log_) txn_log_->pending = txn_log_->probe = true;
    if (reset)
        lost_request(status, cause);
    else
        bad_request(status, cause);
}

void HttpStream::lost_request(std::uint16_t status, char cause) {
    // Nobody to answer: counted and logged as the answer HAProxy would have sent.
    count_bad_request();
    count_response(status, false);
    term_.set(cause, 'R');
    close();
}

const http::ErrorPage* HttpStream::error_page(std::uint16_t status, bool frontend_only) const {
    const proxy::Backend* be = frontend_only ? nullptr : be_;
    const http::ErrorPage* page =
        fe_.error_pages
            ? http::find_error_page(status, *fe_.error_pages, be ? be->error_pages.get() : nullptr)
            : http::default_error_page(status);
    return page ? page : http::default_error_page(500);
}

HttpStream::PageText HttpStream::page_text(const http::ErrorPage& page,
                                           const http::RequestHead* req) {
    if (!page.format) return {page.head, page.body};
    sample::Arena& arena = worker_.arena();
    sample::Context ctx(arena);
    sample::Connection conn;
    sample::LazyRecord lazy(this, &HttpStream::fill_lazy_record);
    lazy.status = page.status;  // %ST: this reply's
    attach_common(ctx, conn, &lazy);
    http::Txn txn{
        .req = req, .res = nullptr, .req_len = 0, .req_body = {}, .req_version = req_version_};
    ctx.attach(&txn);
    std::string& head = arena.take();
    std::string& body = arena.take();
    // HAProxy makes the reply before it sets the termination state: %ts shows "--".
    const TerminationState term = term_;
    term_ = {};
    http::render_reply(*page.format, ctx, head, body);
    term_ = term;
    return {head, body};
}

void HttpStream::send_page(const http::ErrorPage& page_ref, bool keep, AfterRules after,
                           const PageText* text_in, const http::RequestHead* req) {
    const http::ErrorPage* page = &page_ref;
    PageText text = text_in ? *text_in : page_text(*page, req);
    // http-after-response rules on the reply; when one fails, HAProxy answers 500 instead,
    // without the rules.
    bool rules_failed = false;
    auto apply_rules = [&] {
        if (text.head.empty() || after == AfterRules::None || rules_failed) return true;
        const std::string_view head = after_response_on_reply(text.head, after);
        if (head.empty()) {
            rules_failed = true;
            return false;
        }
        text.head = head;
        return true;
    };
    // A reply that cannot be sent as made: HAProxy answers 500 instead, counted as an internal
    // error.
    auto internal_error = [&] {
        fe_.errors.count(&proxy::ErrorCounters::internal_errors);
        page = error_page(500);
        text = page_text(*page, req);
    };
    if (!apply_rules()) internal_error();
    resp_ = Body{};
    body_wait_.reset();  // the transaction ends here, a wait for its body with it
    // What the client's out buffer holds before a final response is interim responses (100
    // Continue, early hints, a server's 1xx), maybe partly sent: they go out first, whole.
    if (!client_.out.holds_memory()) client_.out = core::Buffer::take(worker_.loop().buffers());
    std::span<std::byte> room = client_.out.writable();
    // An empty page (`errorfile 408 /dev/null`) sends nothing: the connection just closes.
    const std::string_view end = keep ? "\r\n" : "connection: close\r\n\r\n";
    auto total = [&] {
        return text.head.size() + end.size() + (req_is_head_ ? 0 : text.body.size());
    };
    if (!text.head.empty() && room.size() < total()) {
        // A reply that does not fit in a buffer (a long `return` content, a page rendered
        // long): the 500 goes through the rules; the connection goes on as it would have. A
        // 500 page that cannot be sent either gives way to the built-in one.
        internal_error();
        if (!apply_rules()) internal_error();
        if (room.size() < total()) {
            page = http::default_error_page(500);
            text = {page->head, page->body};
        }
    }
    const std::size_t body = req_is_head_ ? 0 : text.body.size();
    if (!text.head.empty() && room.size() >= total()) {
        std::byte* p = room.data();
        std::memcpy(p, text.head.data(), text.head.size());
        std::memcpy(p + text.head.size(), end.data(), end.size());
        if (body > 0) std::memcpy(p + text.head.size() + end.size(), text.body.data(), body);
        client_.out.commit(total());
    }
    response_started_ = true;
    if (!text.head.empty()) count_response(page->status, false);
    if (keep && !text.head.empty()) {
        // The request's unsent body bytes go; the page is this transaction's response.
        client_.in.consume(std::min(req_.ready, client_.in.size()));
        req_.ready = 0;
        phase_ = Phase::Exchange;
        return;
    }
    client_keep_ = false;
    close_gracefully();
}

// Our last bytes go out, then a FIN; the client's own FIN (or a short bound) ends the stream,
// so that a client still sending does not get a reset that would destroy the response.
void HttpStream::close_gracefully(bool client_done) {
    client_done_ = client_done;
    if (queue_link.linked()) worker_.dequeue(queue_link);
    drop_server_connection();
    attempt_.release();
    server_side_.out.release();
    phase_ = Phase::Closing;
    phase_started_ = worker_.loop().now();
}

ev_tstamp HttpStream::deadline() const {
    auto at = [](ev_tstamp from, util::Duration d) -> ev_tstamp {
        return d.count() > 0 ? from + seconds(d) : 0;
    };
    auto earliest = [](ev_tstamp a, ev_tstamp b) {
        if (a == 0) return b;
        if (b == 0) return a;
        return std::min(a, b);
    };
    switch (phase_) {
        case Phase::WaitRequest:
            // wait-for-body: its own limit and the client's silence bound the wait, not
            // timeout http-request (HAProxy 2.6 alike).
            if (body_wait_ && body_wait_->resume)
                return earliest(body_wait_->until, at(client_.last_activity, fe_.timeout_client));
            if (client_.in.empty() && requests_ > 0)
                return at(request_started_, fe_.timeout_http_keep_alive);
            return at(request_started_, fe_.timeout_http_request);
        case Phase::Queued:
            return at(phase_started_, be_->timeout_queue);
        case Phase::Connecting:
            return at(phase_started_, be_->timeout_connect);
        case Phase::RetryWait:
            return phase_started_ + attempt_.retry_pause();
        case Phase::Exchange: {
            // http-response wait-for-body: its own limit, besides the server's silence.
            ev_tstamp t =
                !response_started_ && body_wait_ && body_wait_->resume ? body_wait_->until : 0;
            // The client side counts while we wait on it: its request body, or its reading.
            if (!req_.done || !client_.out.empty() || resp_.ready > 0)
                t = earliest(t, at(client_.last_activity, fe_.timeout_client));
            if (!response_started_ || !resp_.done || !server_side_.out.empty() || req_.ready > 0)
                t = earliest(t, at(server_side_.last_activity, timeout_server()));
            return t;
        }
        case Phase::Tunnel:
            if (timeout_tunnel().count() > 0)
                return std::max(client_.last_activity, server_side_.last_activity) +
                       seconds(timeout_tunnel());
            return earliest(at(client_.last_activity, fe_.timeout_client),
                            at(server_side_.last_activity, timeout_server()));
        case Phase::Tarpit:
            return tarpit_->until;
        case Phase::Closing: {
            const double bound = fe_.timeout_client.count() > 0
                                     ? std::min(kLingerSeconds, seconds(fe_.timeout_client))
                                     : kLingerSeconds;
            return phase_started_ + bound;
        }
        case Phase::Closed:
            return 0;
    }
    return 0;
}

void HttpStream::arm_timer() {
    struct ev_loop* raw = worker_.loop().raw();
    const ev_tstamp when = deadline();
    if (when == 0) {
        ev_timer_stop(raw, &timer_);
        return;
    }
    // Only a deadline earlier than the armed one needs re-arming now; a later one is handled
    // when the timer fires (libev's lazy pattern), which saves a heap update per event.
    if (ev_is_active(&timer_) && ev_timer_remaining(raw, &timer_) + ev_now(raw) <= when + 0.0005)
        return;
    ev_timer_stop(raw, &timer_);
    ev_timer_set(&timer_, std::max(0.0, when - ev_now(raw)), 0.);
    ev_timer_start(raw, &timer_);
}

void HttpStream::on_timer(struct ev_loop* raw, ev_timer* w, int) {
    auto* self = static_cast<HttpStream*>(w->data);
    const ev_tstamp when = self->deadline();
    if (when == 0) return;
    if (when > ev_now(raw) + 0.0005) {
        ev_timer_set(w, when - ev_now(raw), 0.);
        ev_timer_start(raw, w);
        return;
    }
    self->on_deadline();
    if (!self->closed_) self->progress();
    self->finish_callback();
}

void HttpStream::on_deadline() {
    const ev_tstamp now = worker_.loop().now();
    switch (phase_) {
        case Phase::WaitRequest:
            if (body_wait_ && body_wait_->resume) {
                // The body did not come in time: HAProxy 2.6 answers 408, it does not go on.
                bad_request(408, 'c');
                return;
            }
            if (client_.in.empty() && requests_ > 0)
                close();  // idle keep-alive connection: closed without a word, as HAProxy
            else if (client_.in.empty())
                end_probe(408, 'c');
            else
                bad_request(408, 'c');
            return;
        case Phase::Queued:
            worker_.dequeue(queue_link);
            fail(503, 's', 'Q');
            return;
        case Phase::Connecting:
            connect_failed(true);
            return;
        case Phase::RetryWait:
            connect_or_queue(attempt_.retry());
            return;
        case Phase::Exchange: {
            if (!response_started_ && body_wait_ && body_wait_->resume && body_wait_->until > 0 &&
                body_wait_->until <= now + 0.0005) {
                // The response body did not come in time: HAProxy 2.6 answers 504 (and counts
                // no failed response), keeping the client connection.
                fail(504, 's', 'H');
                return;
            }
            const bool server_late =
                timeout_server().count() > 0 &&
                server_side_.last_activity + seconds(timeout_server()) <= now + 0.0005 &&
                (!response_started_ || !resp_.done || !server_side_.out.empty() || req_.ready > 0);
            if (server_late) {
                if (!response_started_) {
                    if (retry_after_sending(proxy::retry_on::kResponseTimeout)) return;
                    observe(proxy::Observed::ReadTimeout);
                    count_response_failure();
                    fail(504, 's', 'H');
                } else {
                    term_.set('s', 'D');
                    close();
                }
                return;
            }
            if (!response_started_ && !req_.done) {
                fe_.errors.count(&proxy::ErrorCounters::failed_requests);
                fail(408, 'c', 'D');
                return;
            }
            term_.set('c', 'D');
            close();
            return;
        }
        case Phase::Tunnel:
            term_.set(timeout_tunnel().count() > 0 ? 'c' : 's', 'D');
            close();
            return;
        case Phase::Tarpit: {
            const std::unique_ptr<Tarpit> t = std::move(tarpit_);
            send_reply(t->reply, !req_.done);
            return;
        }
        case Phase::Closing:
        case Phase::Closed:
            close();
            return;
    }
}

void HttpStream::abandon() {
    close();
    delete this;
}

void HttpStream::close() {
    if (closed_) return;
    if (txn_log_ && txn_log_->pending) log_transaction();
    closed_ = true;
    struct ev_loop* raw = worker_.loop().raw();
    ev_timer_stop(raw, &timer_);
    if (queue_link.linked()) worker_.dequeue(queue_link);
    for (Side* s : {&client_, &server_side_}) {
        if (s->fd >= 0) {
            ev_io_stop(raw, &s->io);
            ::close(s->fd);
            s->fd = -1;
        }
        s->in.release();
        s->out.release();
    }
    phase_ = Phase::Closed;
    attempt_.release();
    captures_.reset();
    worker_.stream_closed(fe_, worker_link);
}

}  // namespace sluice::stream
