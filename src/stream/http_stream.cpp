// mode http over HTTP/1.x (see http_stream.hpp): the transaction's state machine. Reading,
// sending, timers and endings are in http_stream_io.cpp.
#include "sluice/stream/http_stream.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "sluice/http/error_pages.hpp"
#include "sluice/http/h1_emit.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/stream/idle_pool.hpp"

namespace sluice::stream {

HttpStream::HttpStream(Worker& worker, proxy::Frontend& fe, int client_fd, Session session)
    : worker_(worker),
      fe_(fe),
      be_(fe.backend),
      attempt_(worker, fe.backend),
      vars_(std::move(session.vars)),
      addrs_(std::move(session.addrs)) {
    const ev_tstamp now = worker.loop().now();
    wants_txn_log_ = (fe.logger && !fe.logger->empty()) ||
                     (fe.parts && fe.parts->read<log::ProxyLogFormat>().unique_id_format()) ||
                     sample::rule_variables_wanted();
    logs_backend_source_ = logs_backend_source(fe, true);
    begin_txn_log(session.accepted > 0 ? session.accepted : now);
    if (txn_log_) {
        if (session.accepted > 0) txn_log_->clock.handshake = now;
        txn_log_->clock.request = now;  // the first request's bytes come with the connection
        txn_log_->pending = false;      // until the first byte comes
    }
    client_.fd = client_fd;
    ev_io_init(&client_.io, on_client_io, client_fd, 0);
    client_.io.data = this;
    ev_io_init(&server_side_.io, on_server_io, -1, 0);
    server_side_.io.data = this;
    ev_init(&timer_, on_timer);
    timer_.data = this;
    if (fe.conf->tcpka_client) net::set_keepalive(client_fd);
    if (fe.conf->nolinger) net::set_nolinger(client_fd);
    worker_.stream_opened(worker_link);
}

HttpStream::~HttpStream() = default;

void HttpStream::start() {
    request_started_ = client_.last_activity = worker_.loop().now();
    phase_ = Phase::WaitRequest;
    // A client usually sends its request right behind the handshake: reading now saves the
    // poller a round, and (see update_interest) a request served whole saves a registration.
    handle_io(client_, EV_READ);
    finish_callback();
}

void HttpStream::finish_callback() {
    if (closed_) delete this;
}

// Moves the transaction as far as the bytes at hand allow. Called after every I/O event; each
// round is one step of the phase in force, and a step that changes the phase earns another.
void HttpStream::progress() {
    for (int round = 0; round < 16 && !closed_; ++round) {
        const Phase before = phase_;
        const bool moved = step();
        if (closed_) return;
        if (!moved && phase_ == before) break;
    }
    if (!closed_) {
        update_interest();
        arm_timer();
    }
}

// One step; true when it changed something that may let another step go further.
bool HttpStream::step() {
    switch (phase_) {
        case Phase::WaitRequest:
            // A 100 Continue or 103 written while the body is awaited goes out first.
            if (!client_.out.empty() && !send_to(client_, server_side_, resp_)) return false;
            return parse_request();
        case Phase::Tarpit:
            // The rules' 103s reach the client during the tarpit, as with HAProxy.
            (void)send_to(client_, server_side_, resp_);
            return false;
        case Phase::Exchange:
            return exchange_step();
        case Phase::Tunnel: {
            req_.ready = client_.in.size();
            resp_.ready = server_side_.in.size();
            if (!send_to(server_side_, client_, req_)) return false;
            if (!send_to(client_, server_side_, resp_)) return false;
            // Half-closes cross the tunnel as in mode tcp.
            for (auto [from, to] :
                 {std::pair{&client_, &server_side_}, std::pair{&server_side_, &client_}}) {
                if (from->read_closed && from->in.empty() && !to->write_shut) {
                    ::shutdown(to->fd, SHUT_WR);
                    to->write_shut = true;
                }
            }
            if (client_.write_shut && server_side_.write_shut) close();
            return false;
        }
        case Phase::Closing:
            if (reply_rest_ && (!send_reply_rest() || reply_rest_)) return false;
            if (!send_to(client_, server_side_, resp_)) return false;
            if (client_.out.empty() && !client_.write_shut && client_done_ && client_.in.empty() &&
                (client_.read_closed || net::pending_input(client_.fd) != net::Pending::Bytes)) {
                // Done both ways and nothing in flight from the client (or it left already):
                // close() sends the FIN and no reset can follow, so lingering for the client's
                // FIN (an event-loop round, two system calls, a descriptor held) buys nothing.
                // nginx closes the same way.
                close();
                return false;
            }
            if (client_.out.empty() && !client_.write_shut) {
                ::shutdown(client_.fd, SHUT_WR);
                client_.write_shut = true;
                phase_started_ = worker_.loop().now();
            }
            // What the client still sends is dropped; its FIN (or the bound) ends the stream.
            client_.in.consume(client_.in.size());
            client_.in.release();
            if (client_.write_shut && client_.read_closed) close();
            return false;
        case Phase::Queued:
        case Phase::Connecting:
        case Phase::RetryWait:
            return waiting_step();
        default:
            return false;
    }
}

// Waiting for a server: its events (or the queue) drive the stream, but the client may give up.
bool HttpStream::waiting_step() {
    if (req_.done || !client_.read_closed) return false;
    // Body bytes that came meanwhile may have completed it: checked as forwarding checks them.
    if (!scan_body(req_, client_.in, fe_.accept_invalid_request)) {
        capture_body_error(false, true);
        fe_.errors.count(&proxy::ErrorCounters::failed_requests);
        fail(400, 'P', 'D');
        return true;
    }
    if (req_.done) return false;  // a whole request: it is served, half-closed or not
    // The client stopped sending in the middle of its body: the request can never be whole,
    // so HAProxy gives it up at once rather than waiting for a server to take it.
    fe_.errors.count(&proxy::ErrorCounters::client_aborts);
    be_->errors.count(&proxy::ErrorCounters::client_aborts);
    term_.set('C', phase_ == Phase::Queued ? 'Q' : 'C');
    close();
    return false;
}

bool HttpStream::exchange_step() {
    if (!req_.done && !scan_body(req_, client_.in, fe_.accept_invalid_request)) {
        // A bad chunk in the request body.
        capture_body_error(false, true);
        fe_.errors.count(&proxy::ErrorCounters::failed_requests);
        fail(400, 'P', 'D');
        return true;
    }
    if (!req_.done && client_.read_closed && req_.ready == 0 && client_.in.size() == 0) {
        // The client left in the middle of its request body.
        fe_.errors.count(&proxy::ErrorCounters::client_aborts);
        be_->errors.count(&proxy::ErrorCounters::client_aborts);
        term_.set('C', 'D');
        close();
        return false;
    }
    if (!req_head_open_ && !send_to(server_side_, client_, req_)) return true;
    if (!response_started_) {
        if (!parse_response()) {
            // fail() answered with an error page (another step sends it and ends the
            // transaction), or the stream moved on.
            if (phase_ != Phase::Exchange || response_started_) return true;
            // Interim responses (100 Continue) go out while the final one is awaited.
            if (!client_.out.empty() && !send_to(client_, server_side_, resp_)) return true;
            return false;
        }
        if (phase_ != Phase::Exchange) return true;  // a tunnel
    }
    if (!resp_.done && !scan_body(resp_, server_side_.in, be_->accept_invalid_response)) {
        // The response broke mid-body: the client connection is cut, as HAProxy does.
        capture_body_error(true, false);
        observe(proxy::Observed::HttpResponse);
        count_response_failure();
        term_.set('S', 'D');
        close();
        return false;
    }
    if (!resp_.done && server_side_.read_closed) {
        if (resp_.kind == http::BodyKind::UntilClose) {
            resp_.done = true;
            resp_.ready = server_side_.in.size();
        } else if (resp_.ready == 0 || resp_.ready == server_side_.in.size()) {
            // The server left mid-body: what it sent goes out, then the client is cut.
            if (!send_to(client_, server_side_, resp_)) return false;
            be_->errors.count(&proxy::ErrorCounters::server_aborts);
            if (conn_server_) conn_server_->errors.count(&proxy::ErrorCounters::server_aborts);
            term_.set('S', 'D');
            if (client_.out.empty() && resp_.ready == 0) close();
            return false;
        }
    }
    if (reply_rest_) {
        if (!send_reply_rest()) return true;
        if (reply_rest_) return false;  // the client's socket is full
    }
    if (!send_to(client_, server_side_, resp_)) return true;
    if (resp_.done && resp_.ready == 0 && client_.out.empty()) {
        end_transaction();
        return true;
    }
    return false;
}

void HttpStream::count_response_failure() {
    be_->errors.count(&proxy::ErrorCounters::failed_responses);
    if (conn_server_) conn_server_->errors.count(&proxy::ErrorCounters::failed_responses);
}

namespace {

// A WebSocket upgrade (`Upgrade: websocket`) must carry its key (RFC 6455 4.1), as HAProxy
// checks; other upgrades have nothing to check here.
bool valid_websocket_request(const http::RequestHead& head) {
    const http::Header* upgrade = head.headers.find("upgrade");
    if (!upgrade || !http::iequals(upgrade->value, "websocket")) return true;
    const http::Header* key = head.headers.find("sec-websocket-key");
    return key && !key->value.empty();
}

// One Host at most, and in an absolute-form request the same authority as the target's: two
// names for one request are how a request reaches a different virtual host than checked
// (HAProxy answers 400 to both, even with accept-invalid-http-request).
bool valid_host(const http::RequestHead& head, bool accept_invalid) {
    const http::Header* host = nullptr;
    for (const http::Header& h : head.headers.all()) {
        if (!http::iequals(h.name, "host")) continue;
        if (host) return false;
        host = &h;
    }
    // accept-invalid-http-request lets a differing authority through, as in HAProxy.
    if (head.target_form != http::TargetForm::Absolute || !host || accept_invalid) return true;
    std::string_view t = head.target;
    const std::size_t scheme_end = t.find("://");
    if (scheme_end == std::string_view::npos) return true;
    t.remove_prefix(scheme_end + 3);
    // The authority runs up to the path's '/', whatever comes before it: `http://host?a` names
    // "host?a", which a Host of "host" does not match (HAProxy reads it so, and answers 400).
    std::string_view authority = t.substr(0, t.find('/'));
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos)
        authority.remove_prefix(at + 1);
    return http::iequals(authority, host->value);
}

}  // namespace

// ---- Request --------------------------------------------------------------------------------

// Parses a request head from the client's buffer. True when the transaction moved on (the
// caller loops), false when more bytes are needed or the stream answered an error.
bool HttpStream::parse_request() {
    if (client_.in.empty()) {
        if (client_.read_closed) {
            if (requests_ == 0) {
                end_probe(400, 'C');
                return false;
            }
            close();  // the client left between requests: a normal end
        }
        return false;
    }
    if (soft_stopping_ && requests_ > 0 && head_scanned_ == 0) {
        close();
        return false;
    }
    http::RequestHead head;
    const http::ParseOptions opts{.accept_invalid = fe_.accept_invalid_request};
    const http::HeadResult r =
        http::parse_request_head(client_.in.readable(), head_scanned_, head, opts);
    const std::size_t limit = worker_.config().global.bufsize - worker_.config().global.maxrewrite;
    if (std::holds_alternative<http::Incomplete>(r)) {
        head_scanned_ = client_.in.size();
        if (client_.in.size() >= limit) {
            capture_error(false, client_.in.size(), "request head too large");
            bad_request(400, 'P');  // a head larger than HAProxy allows
        } else if (client_.read_closed) {
            bad_request(400, 'C');  // HAProxy answers a truncated head with 400 too
        }
        return false;
    }
    head_scanned_ = 0;
    if (const auto* bad = std::get_if<http::Invalid>(&r)) {
        capture_invalid(false, *bad);
        bad_request(400, 'P');
        return false;
    }
    const std::size_t head_len = std::get<http::Done>(r).consumed;
    if (fe_.accept_invalid_request && !awaited_body_) capture_tolerated(false);
    if (head_len > limit) {
        capture_error(false, limit, "request head too large");
        bad_request(400, 'P');
        return false;
    }
    const http::Framing framing = http::analyze_request_framing(head);
    if (framing.kind == http::BodyKind::Invalid) {
        // HAProxy 2.6 decodes no coding but chunked: that refusal is no parse error to it.
        if (framing.error != http::FramingError::UnsupportedTransferCoding)
            capture_framing_error(false, head.headers, framing.error, head_len);
        bad_request(framing.error == http::FramingError::UnsupportedTransferCoding ? 422 : 400,
                    'P');
        return false;
    }
    if (!valid_host(head, fe_.accept_invalid_request)) {
        // A second Host is a parse error to HAProxy (captured), a differing authority not.
        const std::size_t second = http::field_value_offset(head.headers, "host", 1,
                                                            client_.in.readable().data(), head_len);
        if (second < head_len) capture_error(false, second, "duplicate Host (message head)");
        bad_request(400, 'P');
        return false;
    }
    if (framing.conn_upgrade && framing.has_upgrade && !valid_websocket_request(head)) {
        capture_error(false, head_len, "WebSocket upgrade without its key (message head)");
        bad_request(400, 'P');  // HAProxy: a WebSocket upgrade needs its key
        return false;
    }
    std::span<const std::byte> body = client_.in.readable().subspan(head_len);
    // Only the body's own bytes: a request pipelined behind it is not part of it (a chunked
    // body ends where its decoder says, for whoever decodes it).
    if (framing.kind == http::BodyKind::None)
        body = body.first(0);
    else if (framing.kind == http::BodyKind::ContentLength)
        body = body.first(
            static_cast<std::size_t>(std::min<std::uint64_t>(body.size(), framing.content_length)));
    if ((wants_buffered_body(fe_.backend) || posts_to_own_service(head)) &&
        !body_buffered(body, framing)) {
        awaited_body_ = true;
        answer_expect_continue(head);
        return false;  // parsed again, whole, once more of the body is in
    }
    if (awaited_body_ && client_.read_closed && !whole_body_length(body, framing)) {
        // The client stopped sending before the body we wait for was whole: HAProxy 2.6 drops
        // the request without a word, and no server hears of it.
        fe_.errors.count(&proxy::ErrorCounters::client_aborts);
        term_.set('C', 'R');
        close();
        return false;
    }
    ++requests_;
    if (!txn_log_) begin_txn_log(request_started_);
    if (txn_log_) {
        txn_log_->clock.head = worker_.loop().now();
        txn_log_->pending = true;
    }
    req_version_ = head.version;
    req_is_head_ = head.method == "HEAD";
    req_is_connect_ = head.method == "CONNECT";
    req_upgrade_ = framing.conn_upgrade && framing.has_upgrade;
    req_must_close_ = framing.must_close;
    client_keep_ = !fe_.client_close && http::keeps_alive(head.version, framing);
    req_ = Body{};
    req_.kind = framing.kind;
    req_.left = framing.content_length;
    req_.done = framing.kind == http::BodyKind::None ||
                (framing.kind == http::BodyKind::ContentLength && framing.content_length == 0);
    resp_ = Body{};
    response_started_ = false;
    attempt_.reset();
    capture_request(head);
    make_unique_id();
    rules::Outcome outcome = run_request_rules(head, client_.in.size(), body, framing);
    if (outcome.log_level >= 0 && txn_log_) txn_log_->level = outcome.log_level;
    // Early hints go out now, ahead of the wait, the reply or the server's response (HAProxy
    // 2.6 sends them even before a reject closes the connection).
    if (!client_.out.empty() && !send_to(client_, server_side_, resp_)) return false;
    if (outcome.verdict == rules::Verdict::WaitBody) {
        // A rule, or the backend the rules chose, waits for the body: the whole request is
        // parsed, and its rules run, again once more of it is in (see body_wait_).
        --requests_;
        awaited_body_ = true;
        answer_expect_continue(head);
        return false;
    }
    body_wait_.reset();
    awaited_body_ = false;
    attempt_.set_backend(be_);
    if (!rules::ends_transaction(outcome.verdict)) {
        // A section's own service (`stats uri`) answers once its rules let the request go.
        if (const rules::Service* own = proxy_service(head.target, be_)) {
            outcome.verdict = rules::Verdict::Reply;
            outcome.service = own;
        }
    }
    count_request(outcome);
    if (outcome.verdict == rules::Verdict::Reply) {
        // A body read whole with the head goes with it: the connection can carry on.
        const auto body_len = whole_body_length(body, framing);
        if (outcome.service) {
            rules::ServiceReply reply;
            serve(*outcome.service, head, body, reply);  // before the head's views die
            client_.in.consume(head_len + body_len.value_or(0));
            if (body_len) req_.done = true;
            continue_sent_ = false;
            send_service_reply(std::move(reply));
            return true;
        }
        if (body_len) req_.done = true;
        continue_sent_ = false;
        // The reply is made while the request head is at hand (a log-format page reads it);
        // the request leaves the buffer after.
        if (outcome.tarpit) {
            start_tarpit(outcome, decided_in_backend_ ? be_->timeout_tarpit : fe_.timeout_tarpit,
                         &head);
            client_.in.consume(head_len + body_len.value_or(0));  // the views in `head` die here
            return false;
        }
        send_reply(outcome, !req_.done, &head);
        client_.in.consume(head_len + body_len.value_or(0));  // the views in `head` die here
        return true;
    }
    if (outcome.verdict == rules::Verdict::Drop) {
        drop_client(outcome.silent);
        return false;
    }
    const auto ms = [](util::Duration d) {
        return static_cast<std::uint32_t>(std::min<std::int64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), UINT32_MAX));
    };
    server_timeout_ms_ = ms(outcome.server_timeout);
    tunnel_timeout_ms_ = ms(outcome.tunnel_timeout);
    if (continue_sent_) {
        // We said 100 Continue already: the server must not be asked again.
        rules::del_header(head.headers, "expect");
        continue_sent_ = false;
    }
    if (!be_) {
        // A frontend without a backend has nowhere to send it: HAProxy answers 503 (with the
        // request at hand for a log-format page).
        fail(503, 'P', 'R', &head);
        client_.in.consume(head_len);  // the views in `head` die here
        return false;
    }
    proxy::Pick early;
    const bool picked_early = be_->redirects && (head.method == "GET" || req_is_head_);
    if (picked_early) {
        // A `redir` server answers GET and HEAD with a redirection instead of a response.
        early = attempt_.pick();
        if (early.server && !early.server->options.redir.empty()) {
            redirect_to_server(*early.server, head.target);
            client_.in.consume(head_len);
            return false;
        }
    }
    if (!emit_request_head(head, framing)) {
        // A body read whole with the head goes with the 500: the connection can carry on.
        const auto body_len = whole_body_length(body, framing);
        client_.in.consume(head_len + body_len.value_or(0));  // the views in `head` die here
        if (body_len) req_.done = true;
        rewrite_overflow(false);
        return true;
    }
    keep_for_retry(framing, outcome.no_l7_retry);
    // Body bytes that came with the head are checked before any server is bothered; from behind
    // the head, still in the buffer, so that a capture of a bad one shows it too (as HAProxy's).
    bool body_ok = true;
    if (!req_.done) {
        req_.ready += head_len;
        body_ok = scan_body(req_, client_.in, fe_.accept_invalid_request);
        req_.ready -= head_len;
        if (!body_ok) capture_body_error(false, false);
    }
    client_.in.consume(head_len);  // the views in `head` die here
    phase_ = Phase::Exchange;      // provisional: connect_or_queue sets the real phase
    if (!body_ok) {
        fe_.errors.count(&proxy::ErrorCounters::failed_requests);
        fail(400, 'P', 'R');
        return false;
    }
    connect_or_queue(picked_early ? early : attempt_.pick());
    return !closed_;
}

// `retry-on` beyond conn-failure: the request head as written for the server (without the
// lines that depend on the server) is kept until the response starts, so that it can be sent
// again. Only requests without a body are kept (a body streams through and is gone).
void HttpStream::keep_for_retry(const http::Framing& framing, bool disabled) {
    retry_armed_ = false;
    if ((be_->retry_on & proxy::retry_on::kAfterSending) == 0 || disabled) return;
    const bool bodiless =
        framing.kind == http::BodyKind::None ||
        (framing.kind == http::BodyKind::ContentLength && framing.content_length == 0);
    if (!bodiless || req_upgrade_ || req_is_connect_) return;
    if (!retry_head_) retry_head_ = std::make_unique<std::string>();
    const std::span<const std::byte> head = server_side_.out.readable();
    retry_head_->assign(reinterpret_cast<const char*>(head.data()), head.size());
    retry_armed_ = true;
}

// The request went out and `why` happened before any response reached the client: when
// `retry-on` says so and `retries` allows, the server connection is dropped and the kept
// request goes to a server again (another one when `option redispatch` says so).
bool HttpStream::retry_after_sending(std::uint32_t why) {
    if (!retry_armed_ || (be_->retry_on & why) == 0 || response_started_ || !attempt_.may_retry())
        return false;
    drop_server_connection();
    server_side_.out.consume(server_side_.out.size());
    if (!server_side_.out.holds_memory())
        server_side_.out = core::Buffer::take(worker_.loop().buffers());
    const std::span<std::byte> room = server_side_.out.writable();
    if (room.size() < retry_head_->size()) return false;
    std::memcpy(room.data(), retry_head_->data(), retry_head_->size());
    server_side_.out.commit(retry_head_->size());
    req_head_open_ = true;
    head_scanned_ = 0;
    resp_ = Body{};
    (void)attempt_.failed_after_sending();  // may_retry() said there is an attempt left
    connect_or_queue(attempt_.retry());
    return true;
}

// HAProxy's `redir` reply: a 302 to the server's prefix followed by the request's path (from
// its leading '/') and query, then the connection closes.
void HttpStream::redirect_to_server(proxy::Server& srv, std::string_view target) {
    if (const std::size_t scheme = target.find("://");
        scheme != std::string_view::npos && target.front() != '/') {
        const std::size_t path = target.find('/', scheme + 3);
        target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
    }
    std::string& head = worker_.arena().take();
    head.assign("HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\n");
    head.append("location: ").append(srv.options.redir).append(target).append("\r\n");
    attempt_.release();
    term_.set('P', 'R');
    static const http::ErrorPage kRedirect = [] {
        http::ErrorPage page;
        page.status = 302;
        return page;
    }();
    const PageText text{head, {}};
    send_page(kRedirect, false, AfterRules::All, &text);
}

util::Duration HttpStream::timeout_server() const {
    return server_timeout_ms_ ? std::chrono::milliseconds(server_timeout_ms_) : be_->timeout_server;
}

util::Duration HttpStream::timeout_tunnel() const {
    return tunnel_timeout_ms_ ? std::chrono::milliseconds(tunnel_timeout_ms_) : be_->timeout_tunnel;
}

bool HttpStream::wants_buffered_body(const proxy::Backend* be) const {
    return fe_.buffer_request || (be && be->buffer_request);
}

bool HttpStream::body_buffered(std::span<const std::byte> body,
                               const http::Framing& framing) const {
    if (client_.in.full() || client_.read_closed) return true;
    // A bad chunk is for the forwarding path to refuse; waiting longer changes nothing.
    const http::BodyAtHand at = http::body_at_hand(body, framing, body_parse_options());
    return at.complete || at.invalid;
}

// How many of `body`'s bytes are the message body, when all of it is there.
std::optional<std::size_t> HttpStream::whole_body_length(std::span<const std::byte> body,
                                                         const http::Framing& framing) const {
    const http::BodyAtHand at = http::body_at_hand(body, framing, body_parse_options());
    if (!at.complete) return std::nullopt;
    return at.length;
}

// Chunks are read as scan_body reads them when forwarding.
http::ParseOptions HttpStream::body_parse_options() const {
    return {.accept_invalid = fe_.accept_invalid_request, .strict_crlf = true};
}

// A client that sent `Expect: 100-continue` waits for our go before sending the body we wait
// for: we give it, as HAProxy does, and the server is not asked again.
void HttpStream::answer_expect_continue(http::RequestHead& head) {
    if (continue_sent_ || head.version != http::Version::Http11) return;
    const http::Header* expect = head.headers.find("expect");
    if (!expect || !http::iequals(expect->value, "100-continue")) return;
    if (!queue_interim("HTTP/1.1 100 Continue\r\n\r\n")) return;
    continue_sent_ = true;
    send_to(client_, server_side_, resp_);
}

// Interim responses are small and optional: one that does not fit (the client reads nothing
// and its buffer is full) is dropped, never cut.
bool HttpStream::queue_interim(std::string_view bytes) {
    if (!client_.out.holds_memory()) client_.out = core::Buffer::take(worker_.loop().buffers());
    std::span<std::byte> room = client_.out.writable();
    if (room.size() < bytes.size()) return false;
    std::memcpy(room.data(), bytes.data(), bytes.size());
    client_.out.commit(bytes.size());
    return true;
}

// Writes the request head for the server into its out buffer, without the final empty line:
// the server-dependent lines (http-send-name-header) come once a connection is made.
bool HttpStream::emit_request_head(const http::RequestHead& head, const http::Framing& framing) {
    if (!server_side_.out.holds_memory())
        server_side_.out = core::Buffer::take(worker_.loop().buffers());
    if (!server_side_.out.holds_memory()) return false;
    const bool close_server = fe_.server_close || be_->server_close;
    // A message that must close (CL with TE, chunked in HTTP/1.0) ends the server connection
    // too, but HAProxy says nothing of it to the server.
    server_keep_ = !close_server && !framing.must_close;
    const proxy::AddressHeader* xff = be_->forwardfor ? be_->forwardfor : fe_.forwardfor;
    const proxy::AddressHeader* xot = be_->originalto ? be_->originalto : fe_.originalto;
    const std::string& name_header = be_->conf->send_name_header;

    std::string_view ours;
    if (!req_upgrade_ && !req_is_connect_) {
        if (close_server && !be_->pretend_keepalive) {
            if (head.version == http::Version::Http11) ours = "close";
        } else if (server_keep_ && head.version != http::Version::Http11) {
            ours = "keep-alive";
        }
    }
    http::HeadWriter w(server_side_.out.writable());
    w.request_line(head);
    bool has_xff = false;
    bool connection_done = false;
    bool content_length_done = false;
    for (const http::Header& h : head.headers.all()) {
        if (http::iequals(h.name, "connection")) {
            // Rewritten in place of the first one: close/keep-alive are ours to say.
            if (!connection_done) w.connection_field(head.headers, ours);
            connection_done = true;
            continue;
        } else if (http::iequals(h.name, "content-length")) {
            // Equal duplicates ("5" twice, "2, 2") go out as one, as HAProxy sends them.
            if (framing.drop_content_length || content_length_done) continue;
            content_length_done = true;
            char digits[24];
            const auto [end, ec] =
                std::to_chars(digits, digits + sizeof digits, framing.content_length);
            (void)ec;
            w.field(h.name, std::string_view(digits, static_cast<std::size_t>(end - digits)));
            continue;
        } else if (!name_header.empty() && http::iequals(h.name, name_header)) {
            continue;
        }
        if (xff && xff->if_none && http::iequals(h.name, xff->header)) has_xff = true;
        w.field(h.name, h.value);
    }
    if (!connection_done && !ours.empty()) w.field("Connection", ours);
    if (txn_log_ && txn_log_->unique_id.size > 0) {
        const std::string& name = fe_.parts->read<log::ProxyLogFormat>().unique_id_header;
        if (!name.empty()) w.field(name, txn_log_->unique_id.view());
    }
    // One system call per request that needs the client's address; its text is kept.
    net::Address peer;
    const bool need_peer = (xff && !has_xff) || xot;
    if (need_peer && addrs_) peer = addrs_->src;
    if (need_peer && (addrs_ || net::peer_address(client_.fd, peer))) {
        if (xff && !has_xff && !(xff->except && xff->except->contains(peer))) {
            if (client_ip_[0] == 0) (void)peer.ip_text(client_ip_, sizeof client_ip_);
            if (client_ip_[0] != 0) w.field(xff->header, client_ip_);
        }
        net::Address local;
        char text[INET6_ADDRSTRLEN] = {};
        if (addrs_) local = addrs_->dst;
        if (xot && !(xot->except && xot->except->contains(peer)) &&
            (addrs_ || net::local_address(client_.fd, local))) {
            const std::string_view ip = local.ip_text(text, sizeof text);
            if (!ip.empty()) w.field(xot->header, ip);
        }
    }
    if (w.overflow()) return false;
    server_side_.out.commit(w.size());
    req_head_open_ = true;
    return true;
}

void HttpStream::rewrite_overflow(bool response) {
    // Counted where HAProxy counts a failed rewrite: the frontend, and the backend and server
    // for a response.
    for (proxy::ErrorCounters* c : {&fe_.errors, response ? &be_->errors : nullptr,
                                    response && conn_server_ ? &conn_server_->errors : nullptr}) {
        if (!c) continue;
        c->count(&proxy::ErrorCounters::failed_rewrites);
        c->count(&proxy::ErrorCounters::internal_errors);
    }
    if (response) {
        // The server's response goes unread: its connection cannot be reused.
        term_.set('P', 'H');
        drop_server_connection();
        attempt_.release();
    }
    rules::Outcome outcome;
    outcome.verdict = rules::Verdict::Reply;
    outcome.status = 500;
    // As after a rule's failed rewrite, the client connection carries on.
    send_reply(outcome, !response && !req_.done);
}

// Completes the head in the server's out buffer once the connection is made.
void HttpStream::finish_request_head() {
    if (!req_head_open_) return;
    req_head_open_ = false;
    http::HeadWriter w(server_side_.out.writable());
    const std::string& name_header = be_->conf->send_name_header;
    if (!name_header.empty() && attempt_.server()) w.field(name_header, attempt_.server()->name);
    w.end();
    if (w.overflow()) {
        fail(400, 'P', 'R');
        return;
    }
    server_side_.out.commit(w.size());
}

// ---- Response -------------------------------------------------------------------------------

// Parses response heads (1xx ones are forwarded and the next awaited). True once the final
// head went to the client; false when more bytes are needed or the stream failed.
bool HttpStream::parse_response() {
    while (!response_started_) {
        if (server_side_.in.empty()) {
            if (server_side_.read_closed) {
                if (retry_after_sending(proxy::retry_on::kEmptyResponse)) return false;
                // Closed before a response: HAProxy's 502 (termination SH).
                observe(server_side_.reset ? proxy::Observed::ReadError
                                           : proxy::Observed::BrokenPipe);
                count_response_failure();
                fail(502, 'S', 'H');
            }
            return false;
        }
        http::ResponseHead head;
        const http::ParseOptions opts{.accept_invalid = be_->accept_invalid_response};
        const http::HeadResult r =
            http::parse_response_head(server_side_.in.readable(), head_scanned_, head, opts);
        const std::size_t limit =
            worker_.config().global.bufsize - worker_.config().global.maxrewrite;
        if (std::holds_alternative<http::Incomplete>(r)) {
            head_scanned_ = server_side_.in.size();
            if (server_side_.in.size() >= limit || server_side_.read_closed) {
                // A head too large is invalid, counted before a retry; one cut by the
                // server's close is that close, counted when no retry follows (as HAProxy).
                const bool too_large = server_side_.in.size() >= limit;
                if (too_large) {
                    capture_error(true, server_side_.in.size(), "response head too large");
                    observe(proxy::Observed::HttpHeaders);
                }
                if (retry_after_sending(proxy::retry_on::kJunkResponse)) return false;
                if (!too_large)
                    observe(server_side_.reset ? proxy::Observed::ReadError
                                               : proxy::Observed::BrokenPipe);
                count_response_failure();
                fail(502, 'S', 'H');
            }
            return false;
        }
        head_scanned_ = 0;
        const auto* done = std::get_if<http::Done>(&r);
        if (done && be_->accept_invalid_response && !body_wait_) capture_tolerated(true);
        http::Framing framing;
        if (done)
            framing = http::analyze_response_framing(head, req_is_head_      ? "HEAD"
                                                           : req_is_connect_ ? "CONNECT"
                                                                             : "GET");
        if (!done || done->consumed > limit || framing.kind == http::BodyKind::Invalid) {
            if (const auto* bad = std::get_if<http::Invalid>(&r))
                capture_invalid(true, *bad);
            else if (done->consumed > limit)
                capture_error(true, limit, "response head too large");
            else
                capture_framing_error(true, head.headers, framing.error, done->consumed);
            observe(proxy::Observed::HttpHeaders);  // before a retry, as HAProxy
            if (retry_after_sending(proxy::retry_on::kJunkResponse)) return false;
            count_response_failure();
            fail(502, 'P', 'H');
            return false;
        }
        if (framing.kind == http::BodyKind::UntilClose && head.headers.find("transfer-encoding")) {
            // A coding whose end cannot be seen (`Transfer-Encoding: gzip` alone): HAProxy's 502.
            capture_framing_error(true, head.headers, http::FramingError::ChunkedNotFinal,
                                  done->consumed);
            observe(proxy::Observed::HttpHeaders);
            count_response_failure();
            fail(502, 'P', 'H');
            return false;
        }
        if (head.status == 101 && !req_upgrade_) {
            // Switching protocols nobody asked to switch: HAProxy's 502 (its status counted
            // good first, as HAProxy does).
            observe(proxy::Observed::HttpOk);
            observe(proxy::Observed::HttpHeaders);
            count_response_failure();
            fail(502, 'P', 'H');
            return false;
        }
        const bool interim = head.status < 200 && head.status != 101;
        if (!interim && retry_after_sending(proxy::retry_on::status_bit(head.status))) return false;
        if (interim) observe(proxy::Observed::HttpOk);
        if (!interim) {
            resp_ = Body{};
            resp_.kind = framing.kind;
            resp_.left = framing.content_length;
            resp_.done =
                framing.kind == http::BodyKind::None ||
                (framing.kind == http::BodyKind::ContentLength && framing.content_length == 0);
            // The server connection may serve another request only if both ends said so.
            server_keep_ = server_keep_ && http::keeps_alive(head.version, framing) &&
                           framing.kind != http::BodyKind::UntilClose &&
                           framing.kind != http::BodyKind::Tunnel;
            if (req_must_close_ || soft_stopping_) client_keep_ = false;
            // The body bytes at hand, for the body fetches and wait-for-body: none past the
            // body's end, and none at all where no body follows (a tunnel's bytes are not one).
            std::span<const std::byte> body = server_side_.in.readable().subspan(done->consumed);
            http::Framing body_framing = framing;
            if (framing.kind == http::BodyKind::ContentLength)
                body = body.first(static_cast<std::size_t>(
                    std::min<std::uint64_t>(body.size(), framing.content_length)));
            else if (framing.kind != http::BodyKind::Chunked &&
                     framing.kind != http::BodyKind::UntilClose) {
                body = body.first(0);
                body_framing = http::Framing{};
            }
            capture_response(head);
            const rules::Outcome outcome = run_response_rules(head, body, body_framing);
            if (outcome.log_level >= 0 && txn_log_) txn_log_->level = outcome.log_level;
            if (outcome.verdict == rules::Verdict::WaitBody) {
                // Nothing is consumed: the head is parsed, and the rules run, again as more of
                // the body comes (or at the wait's end, on_deadline).
                return false;
            }
            body_wait_.reset();
            // Once per response: a head parsed again while rules wait for the body is not.
            observe(proxy::observed_status(head.status));
            if (outcome.verdict == rules::Verdict::Drop ||
                (outcome.verdict == rules::Verdict::Reply && outcome.denied)) {
                for (proxy::PerThreadCounts* of :
                     {&fe_.counts, &be_->counts, conn_server_ ? &conn_server_->counts : nullptr})
                    if (of) worker_.counts(*of).denied_responses.add();
            }
            if (outcome.verdict == rules::Verdict::Drop) {
                drop_server_connection();
                attempt_.release();
                drop_client(outcome.silent);
                return false;
            }
            if (outcome.verdict == rules::Verdict::Reply) {
                // The server's response goes unread: its connection cannot be reused.
                drop_server_connection();
                attempt_.release();
                send_reply(outcome, false);
                return false;
            }
            // A body that ends at the close ends the client connection too, once it is the one
            // forwarded (an answer of the proxy's instead keeps it, as HAProxy does).
            if (framing.kind == http::BodyKind::UntilClose) client_keep_ = false;
        }
        if (!emit_response_head(head, framing)) {
            if (client_.out.holds_memory()) {
                rewrite_overflow(true);
            } else {
                count_response_failure();
                fail(502, 'P', 'H');
            }
            return false;
        }
        // Body bytes read with the head are checked from behind it (see parse_request).
        bool body_ok = true;
        if (!interim && !resp_.done) {
            resp_.ready += done->consumed;
            body_ok = scan_body(resp_, server_side_.in, be_->accept_invalid_response);
            resp_.ready -= done->consumed;
            if (!body_ok) capture_body_error(true, false);
        }
        server_side_.in.consume(done->consumed);
        count_response(head.status, true);
        if (interim) continue;
        if (!body_ok) {
            // A bad chunk in the same read as the head: nothing has gone out yet, so a 502.
            client_.out.consume(client_.out.size());
            observe(proxy::Observed::HttpHeaders);  // HAProxy sees it with the head
            count_response_failure();
            fail(502, 'P', 'H');
            return false;
        }
        response_started_ = true;
        if (txn_log_) txn_log_->clock.response = worker_.loop().now();
        if (txn_log_ && txn_log_->pending && fe_.logger && !fe_.logger->empty() && fe_.parts &&
            fe_.parts->read<log::ProxyLogFormat>().logasap)
            log_transaction(true);
        if (framing.kind == http::BodyKind::Tunnel) start_tunnel();
    }
    return true;
}

bool HttpStream::emit_response_head(const http::ResponseHead& head, const http::Framing& framing) {
    if (!client_.out.holds_memory()) client_.out = core::Buffer::take(worker_.loop().buffers());
    if (!client_.out.holds_memory()) return false;
    const bool tunnel = framing.kind == http::BodyKind::Tunnel;
    const bool interim = head.status < 200 && head.status != 101;
    std::string_view ours;
    if (!tunnel && !interim) {
        if (!client_keep_)
            ours = "close";  // HAProxy says so to HTTP/1.0 clients too
        else if (req_version_ != http::Version::Http11 || head.version != http::Version::Http11)
            ours = "keep-alive";  // an HTTP/1.0 message keeps alive only when it says so
    }
    http::HeadWriter w(client_.out.writable());
    w.status_line(head);
    bool connection_done = false;
    for (const http::Header& h : head.headers.all()) {
        if (http::iequals(h.name, "connection")) {
            if (!connection_done) w.connection_field(head.headers, ours);
            connection_done = true;
            continue;
        }
        if (framing.drop_content_length && http::iequals(h.name, "content-length")) continue;
        w.field(h.name, h.value);
    }
    if (!connection_done && !ours.empty()) w.field("Connection", ours);
    w.end();
    if (w.overflow()) return false;
    client_.out.commit(w.size());
    return true;
}

void HttpStream::start_tunnel() {
    phase_ = Phase::Tunnel;
    req_.kind = resp_.kind = http::BodyKind::Tunnel;
    req_.done = resp_.done = false;
    server_keep_ = client_keep_ = false;
}

// The response reached the client whole: keep or close each connection, and wait for the
// next request.
void HttpStream::end_transaction() {
    const bool request_complete = req_.done && req_.ready == 0 && server_side_.out.empty();
    const bool server_reusable = server_keep_ && request_complete && server_side_.in.empty() &&
                                 !server_side_.read_closed && server_side_.fd >= 0;
    proxy::Server* srv = conn_server_;
    worker_.count_time(&fe_, srv, proxy::TimingKind::Total, request_started_);
    if (txn_log_ && txn_log_->pending) log_transaction();
    txn_log_.reset();
    backend_counted_ = false;
    attempt_.release();
    captures_.reset();  // the next transaction takes its own
    body_wait_.reset();
    if (server_reusable && srv) {
        set_interest(server_side_, 0);
        if (be_->http_reuse == proxy::HttpReuse::Never || srv->options.send_proxy) {
            // Private to this client connection: kept attached for its next request.
        } else {
            worker_.idle_pool().give(*srv, server_side_.fd, conn_requests_ >= 2, conn_generation_);
            server_side_.fd = -1;
            conn_server_ = nullptr;
        }
        server_side_.in.release();
        server_side_.out.release();
    } else {
        drop_server_connection();
        server_side_.out.release();
    }
    if (!client_keep_ || !request_complete || soft_stopping_ ||
        (client_.read_closed && client_.in.empty())) {
        close_gracefully(request_complete);
        return;
    }
    phase_ = Phase::WaitRequest;
    request_started_ = client_.last_activity = worker_.loop().now();
    if (!client_.in.empty()) {
        // The next request's first bytes came before this one ended.
        begin_txn_log(request_started_);
        if (txn_log_) txn_log_->clock.request = request_started_;
    }
    req_ = Body{};
    resp_ = Body{};
    response_started_ = false;
    retry_armed_ = false;
    client_.out.release_if_empty();
    client_.in.release_if_empty();
}

void HttpStream::count_request(const rules::Outcome& outcome) {
    const std::uint32_t sec = worker_.second();
    // A request the frontend's rules answered never reached a backend (as in HAProxy).
    backend_counted_ = be_ && (!rules::ends_transaction(outcome.verdict) || decided_in_backend_);
    for (proxy::PerThreadCounts* of : {&fe_.counts, backend_counted_ ? &be_->counts : nullptr}) {
        if (!of) continue;
        proxy::Counts& c = worker_.counts(*of);
        c.requests.add();
        c.request_rate.add(sec);
        if (outcome.verdict == rules::Verdict::Reply) {
            // deny and tarpit are denials; return, redirect, auth, services are intercepted.
            if (outcome.denied)
                c.denied_requests.add();
            else
                c.intercepted.add();
        } else if (outcome.verdict == rules::Verdict::Drop) {
            c.denied_requests.add();
        }
    }
}

void HttpStream::count_response(unsigned status, bool from_server) {
    if ((status >= 200 || status == 101) && txn_log_)
        txn_log_->status = static_cast<std::int16_t>(status);
    worker_.counts(fe_.counts).response(status);
    if (be_ && (backend_counted_ || from_server)) worker_.counts(be_->counts).response(status);
    if (!from_server || !conn_server_) return;
    worker_.counts(conn_server_->counts).response(status);
    if (status >= 200)
        worker_.count_time(nullptr, conn_server_, proxy::TimingKind::Response, phase_started_);
}

void HttpStream::soft_stop() {
    soft_stopping_ = true;
    // Idle between requests: nothing is lost by closing now.
    if (phase_ == Phase::WaitRequest && client_.in.empty() && requests_ > 0) close();
    finish_callback();
}

}  // namespace sluice::stream
