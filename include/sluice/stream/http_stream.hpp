// A mode-http stream over HTTP/1.x on both sides: one client connection, and for each request a
// server connection (new, or reused from the thread's idle pool). Per transaction:
//   wait for a request head (timeout http-request / http-keep-alive) -> parse, check framing
//   -> pick a server (queue, connect, retries) -> forward the request head rewritten and its
//   body, and parse the response head(s) -> forward the response body -> keep both connections
//   for the next request, or close them; an Upgrade or CONNECT switches to a tunnel.
// Errors the proxy answers itself (400, 408, 502, 503, 504) use the proxy's error pages.
// Bodies stream through the two connections' buffers: a side is not read while the buffer its
// bytes go to is full. A stream lives on its Worker's thread and deletes itself when closed.
#pragma once

#include <ev.h>

#include <optional>
#include <span>

#include "sluice/core/buffer.hpp"
#include "sluice/core/thread_cache.hpp"
#include "sluice/http/h1_chunked.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/rules/service.hpp"
#include "sluice/sample/capture.hpp"
#include "sluice/sample/vars.hpp"
#include "sluice/stream/log_clock.hpp"
#include "sluice/stream/server_attempt.hpp"
#include "sluice/stream/session.hpp"
#include "sluice/stream/stream.hpp"
#include "sluice/stream/stream_log.hpp"
#include "sluice/stream/worker.hpp"

namespace sluice::sample {
struct Connection;
}

namespace sluice::stream {

class HttpStream final : public Stream {
  public:
    // Takes ownership of `client_fd` (accepted, non-blocking); its slots are already counted.
    // `session`: what a PROXY header and the connection's first rules left (addresses, sess
    // variables), if anything.
    HttpStream(Worker& worker, proxy::Frontend& fe, int client_fd, Session session = {});
    void start();

    static constexpr std::string_view kPoolName = "http_stream";  // `show pools`
    static void* operator new(std::size_t size) {
        return core::ThreadCache<HttpStream>::allocate(size);
    }
    static void operator delete(void* p, std::size_t size) {
        core::ThreadCache<HttpStream>::deallocate(p, size);
    }

    void abandon() override;
    const proxy::Server* server() const override { return attempt_.server(); }
    void forget_server(const proxy::Server& s) override;
    void describe(std::string& out, bool detail, double now, std::uint32_t id_base) const override {
        describe_stream(out, this, client_.fd, fe_, be_,
                        attempt_.server() ? attempt_.server() : conn_server_, server_side_.fd,
                        request_started_, now, detail, id_base);
    }
    bool woken_from_queue() override;
    void soft_stop() override;

  private:
    enum class Phase : std::uint8_t {
        WaitRequest,  // reading a request head, or idle between two requests
        Queued,       // every server is full: waiting in the backend's queue
        Connecting,
        RetryWait,  // pause before trying a refused server again
        Exchange,   // request and response in flight
        Tunnel,     // after 101 / CONNECT 2xx: bytes both ways
        Tarpit,     // `http-request tarpit`: the reply waits for `timeout tarpit`
        Closing,    // our last bytes go out, then we wait for the client's FIN (bounded)
        Closed,
    };
    struct Side {
        int fd = -1;
        ev_io io;
        int events = 0;
        bool watched = false;  // ever given to the poller (set_interest with events)
        bool read_closed = false;
        bool reset = false;  // read_closed by an error (a reset), not a FIN
        bool write_shut = false;
        ev_tstamp last_activity = 0;
        core::Buffer in;   // read from this side's socket, not yet forwarded
        core::Buffer out;  // heads and pages we wrote for this side, sent before any body bytes
    };
    // The body of the message crossing from one side's `in` to the other side.
    struct Body {
        http::BodyKind kind = http::BodyKind::None;
        std::uint64_t left = 0;  // ContentLength: bytes not yet seen
        http::ChunkedDecoder chunks{};
        std::size_t ready = 0;     // bytes at the front of `in` checked and ready to send
        bool done = true;          // every byte of the body has been seen
        std::size_t error_at = 0;  // scan_body failed: offset in `in` of the offending byte
    };

    ~HttpStream();
    static void on_client_io(struct ev_loop*, ev_io* w, int revents);
    static void on_server_io(struct ev_loop*, ev_io* w, int revents);
    static void on_timer(struct ev_loop*, ev_timer* w, int revents);
    void finish_callback();

    // Request side.
    void progress();
    bool step();
    bool exchange_step();
    bool parse_request();
    // option http-buffer-request: whether the body is all in the client's buffer, or can get
    // no further (the buffer is full, the client stopped sending).
    bool body_buffered(std::span<const std::byte> body, const http::Framing& framing) const;
    std::optional<std::size_t> whole_body_length(std::span<const std::byte> body,
                                                 const http::Framing& framing) const;
    http::ParseOptions body_parse_options() const;
    bool wants_buffered_body(const proxy::Backend* be) const;
    void answer_expect_continue(http::RequestHead& head);
    // Queues an interim response (100, 103) for the client; the caller sends it. False when
    // it does not fit.
    bool queue_interim(std::string_view bytes);
    bool emit_request_head(const http::RequestHead& head, const http::Framing& framing);
    // The rewritten head (request or response) outgrew its buffer: HAProxy's failed rewrite,
    // answered with 500.
    void rewrite_overflow(bool response);
    // Queued, connecting or about to retry: a client that left before its body was whole
    // abandons the request at once (it can never be whole).
    bool waiting_step();
    void finish_request_head();

    // Server side.
    void connect_or_queue(const proxy::Pick& pick);
    void redirect_to_server(proxy::Server& srv, std::string_view target);
    // `disabled`: the rules said disable-l7-retry.
    void keep_for_retry(const http::Framing& framing, bool disabled);
    bool retry_after_sending(std::uint32_t why);
    bool reuse_idle(proxy::Server& srv);
    void connect();  // to the server attempt_ holds
    void on_connected();
    void connect_failed(bool timed_out);
    void drop_server_connection();

    // Response side.
    bool parse_response();
    bool emit_response_head(const http::ResponseHead& head, const http::Framing& framing);
    void end_transaction();
    void count_response_failure();
    // The stats of a request the rules let through or answered, and of a response (the
    // server's, or the proxy's own page).
    void count_request(const rules::Outcome& outcome);
    // Services (rules/service.hpp): the section's own for this target (`stats uri`), if any;
    // building a reply; sending it, its body as the client's socket takes it when it is larger
    // than a buffer (reply_rest_).
    // (The frontend's, then `be`'s.)
    const rules::Service* proxy_service(std::string_view target, const proxy::Backend* be) const;
    bool posts_to_own_service(const http::RequestHead& head) const;
    void serve(const rules::Service& service, const http::RequestHead& head,
               std::span<const std::byte> body, rules::ServiceReply& reply);
    void send_service_reply(rules::ServiceReply reply);
    bool send_reply_rest();
    void count_response(unsigned status, bool from_server);
    // `observe`: what the exchange says of the server the connection leads to.
    void observe(proxy::Observed what) {
        if (conn_server_) conn_server_->observed(what);
    }
    void start_tunnel();

    // I/O.
    enum class ReadResult { Data, Full, WouldBlock, Eof, NoRoom, Error };
    ReadResult read_into(Side& side);
    bool scan_body(Body& body, core::Buffer& in, bool accept_invalid);
    bool send_to(Side& to, Side& from, Body& body);
    void handle_io(Side& side, int revents);
    void update_interest();
    void set_interest(Side& side, int events);

    // Rules (http_stream_rules.cpp).
    // The variables of the client connection (sess) and of its current transaction (txn,
    // req, res), allocated the first time rules run on the connection.
    using Variables = sample::StreamVars;
    Variables& variables();
    static void change_address(void* owner, sample::Connection& conn, bool dst,
                               const net::Address& to);
    // `lazy`: the log record of log-format variables (%ci, %ST...), filled if one is rendered.
    void attach_common(sample::Context& ctx, sample::Connection& conn,
                       sample::LazyRecord* lazy = nullptr);
    // What a LazyRecord of this stream calls: fill_record(), on a transaction without its log
    // block too (it then lacks the clock).
    static void fill_lazy_record(void* self, log::Record& r);
    // The transaction's captures (see sample/capture.hpp), from the parsed head, before any
    // rule: only for a frontend with capture slots, or when the request line is read later.
    void capture_request(const http::RequestHead& head);
    void capture_response(const http::ResponseHead& head);
    void capture_cookie(const http::HeaderList& headers, bool response, std::string_view prefix,
                        std::uint32_t len);
    bool has_request_rules() const;
    // Frontend rules, backend choice (sets be_), backend rules.
    // `body`: the request body bytes in the buffer (as received, maybe chunked), for req.body.
    // WaitBody: a wait-for-body rule, or the chosen backend (option http-buffer-request),
    // waits for the body, which is not all in yet; body_wait_ says how to resume. The 103s the
    // rules build are queued in the client's out buffer, for the caller to send.
    rules::Outcome run_request_rules(http::RequestHead& head, std::size_t buffered,
                                     std::span<const std::byte> body, const http::Framing& framing);
    // The sets themselves; true once the backend is chosen.
    bool run_request_rule_sets(sample::Context& ctx, rules::RuleCtx& rctx,
                               std::span<const std::byte> body, const http::Framing& framing);
    rules::RulesTrail start_trail(sample::Arena& arena);
    void keep_body_wait(const rules::RulesTrail& trail, util::Duration wait,
                        proxy::Backend* chosen);
    // Response rules on the head and `body`, the response body bytes at hand (as received).
    // WaitBody: an http-response wait-for-body waits for more of it (body_wait_ says how to
    // resume); the response is parsed again, and its rules run again, as more comes.
    rules::Outcome run_response_rules(http::ResponseHead& head, std::span<const std::byte> body,
                                      const http::Framing& framing);
    bool monitor_request(const http::RequestHead& head, sample::Context& ctx,
                         rules::Outcome& outcome);
    // `req`: the request head, while it is at hand (a log-format page reads it).
    void send_reply(const rules::Outcome& outcome, bool request_has_body,
                    const http::RequestHead* req = nullptr);
    // The page a rule's reply sends: its own content, its own page, or the proxy's.
    const http::ErrorPage* reply_page(const rules::Outcome& outcome) const;
    // What a rule's verdict asks for; `req` as for send_reply.
    void start_tarpit(const rules::Outcome& outcome, util::Duration delay,
                      const http::RequestHead* req = nullptr);
    void drop_client(bool silent);

    // `show errors` (http_stream_errors.cpp), on error paths only: the bytes of the side's
    // input buffer become the proxy's last invalid request (the frontend's) or response (the
    // backend's). `error_at`: offset of the offending byte in the buffer; `with_backend`: a
    // request whose backend was chosen already (an error in its body).
    void capture_error(bool response, std::size_t error_at, std::string_view reason,
                       bool with_backend = false);
    void capture_invalid(bool response, const http::Invalid& invalid);
    // Under `option accept-invalid-http-request|response`: a head the strict rules refuse is
    // captured though it goes on, as HAProxy does (a second, strict parse, only on proxies
    // with the option).
    void capture_tolerated(bool response);
    // A head the framing rules refused, with the offset of the header field at fault.
    void capture_framing_error(bool response, const http::HeaderList& headers,
                               http::FramingError error, std::size_t head_len);
    // A body scan_body refused (its Body says where and why). `with_backend`: as above (an
    // error found with the request head is not: HAProxy has not chosen one then).
    void capture_body_error(bool response, bool with_backend);

    // What a transaction's log line and unique id need, from its first byte to its end, on
    // frontends that log or make unique ids (see wants_txn_log_): a block from the thread's
    // pool, so that an idle connection holds none of it and no request mallocs.
    struct TxnLog {
        static constexpr std::string_view kPoolName = "http_txn_log";  // `show pools`
        static void* operator new(std::size_t size) {
            return core::ThreadCache<TxnLog>::allocate(size);
        }
        static void operator delete(void* p, std::size_t size) {
            core::ThreadCache<TxnLog>::deallocate(p, size);
        }
        LogClock clock;
        std::string_view server;       // a service answered: its name in the log (<STATS>...)
        std::uint64_t request_id = 0;  // request_id() + 1; 0: none taken yet
        std::int16_t status = -1;      // the final status the client got (-1: none yet)
        std::int8_t level = -1;        // set-log-level (rules::Outcome::log_level); -1: none
        bool pending = true;           // not logged yet (logasap logs before the end)
        bool probe = false;            // no byte came (end_probe): dontlognull's null
        log::UniqueId unique_id;
        net::Address backend_source;  // %bi %bp: the server connection's own address
        QueuePositions queue;         // %sq %bq
    };
    // Starts the transaction's block (when the frontend wants one), dated from `accept`.
    void begin_txn_log(ev_tstamp accept);
    // The transaction's log line (http_stream_log.cpp), when the frontend logs: at its end,
    // or when the connection closes with a transaction under way; `early`: `option logasap`,
    // the response head just came.
    void log_transaction(bool early = false);
    // What the log-format variables read (the log line and the unique id share it).
    void fill_record(log::Record& r);
    // `unique-id-format`: the request's id, made before its rules run.
    void make_unique_id();
    template <class Render>
    void render_record(log::Record& r, Render&& render);
    // HAProxy's %rt for this transaction: taken once, the first time something asks.
    std::uint64_t request_id() {
        if (txn_log_->request_id == 0) txn_log_->request_id = next_request_id() + 1;
        return txn_log_->request_id - 1;
    }

    // Endings.
    // `req`: the request head when it is still at hand; otherwise a log-format page reads the
    // one written for the server, while none of it has gone (HAProxy's request is gone too once
    // forwarded).
    // `early`: an error of reading a request, which HAProxy answers below its streams with
    // static pages only (as are 400 and 408 always): a log-format page gives way to the
    // built-in one.
    void fail(std::uint16_t status, char cause, char phase, const http::RequestHead* req = nullptr,
              bool early = false);
    // The request head waiting, whole but for its last lines, in the server's out buffer:
    // parsed from a copy in the worker's arena. False when there is none.
    bool held_request(http::RequestHead& out);
    // A request that could not be read (`phase` R) or whose head was refused: a failed
    // request, counted in the frontend's requests as HAProxy counts it, answered `status`.
    void bad_request(std::uint16_t status, char cause);
    void count_bad_request();
    // The connection ended (`reset`: by an error) or timed out (`status` 408) before its first
    // request's first byte: a probe, HAProxy's pre-connect. With option http-ignore-probes it
    // closes without a word, else it is a bad request, answered and logged (dontlognull aside).
    void end_probe(std::uint16_t status, char cause, bool reset = false);
    // The client reset its connection with a request head under way (or a probe): a bad
    // request with nobody left to answer, counted and logged as if answered `status`.
    void lost_request(std::uint16_t status, char cause);
    // The page for `status`: the backend's own, else the frontend's, else the built-in one;
    // `frontend_only` leaves the backend out.
    const http::ErrorPage* error_page(std::uint16_t status, bool frontend_only = false) const;
    // Which http-after-response rules see a reply of the proxy's own: none for the errors of
    // reading a request (HAProxy answers those below its rules), the frontend's for a reply
    // its request rules decided, else the backend's and the frontend's.
    enum class AfterRules : std::uint8_t { None, Frontend, All };
    // A page's bytes for one reply.
    struct PageText {
        std::string_view head, body;
    };
    // `page`'s own bytes; for a page made of log-format (http-error lf-string, ...), its
    // rendering for this reply, in the worker's arena (not reset: the views last until the next
    // rules run or log line), from `req` (the request, when at hand) and what the stream knows.
    PageText page_text(const http::ErrorPage& page, const http::RequestHead* req);
    // Answers with `page`; `keep`: the client connection carries on after it. `text`: the bytes
    // to send for it when not the page's own (rendered, or edited for this reply). `req`: the
    // request, when at hand, for a log-format 500 page replacing a reply that cannot be sent.
    void send_page(const http::ErrorPage& page, bool keep, AfterRules after = AfterRules::All,
                   const PageText* text = nullptr, const http::RequestHead* req = nullptr);
    // http-after-response rules on a reply's head: the head they leave (in the arena), or
    // `head` itself when none apply; empty when a rule failed (the reply becomes a 500).
    std::string_view after_response_on_reply(std::string_view head, AfterRules after);
    // `client_done`: the client's request was read whole, so it has nothing more to send.
    void close_gracefully(bool client_done = false);
    ev_tstamp deadline() const;
    void on_deadline();
    void arm_timer();
    void close();

    Worker& worker_;
    proxy::Frontend& fe_;
    proxy::Backend* be_;
    ServerAttempt attempt_;  // the transaction's server (slot) and attempts
    // From the connection's first rules (sess variables), else made when rules first run.
    std::unique_ptr<Variables> vars_;
    // From the request head to the end of the transaction; back to the pool in between.
    sample::CapturesPtr captures_;
    struct Tarpit {
        rules::Outcome reply;
        ev_tstamp until = 0;
    };
    std::unique_ptr<Tarpit> tarpit_;  // Phase::Tarpit only
    // The request rules, or the response rules, stopped to wait for the body (see
    // rules::RulesTrail): how their next run retraces this one, and when the wait ends. From the
    // stop until they run to the end (or the transaction does).
    struct BodyWait {
        std::string path;
        std::size_t retrace = 0;
        bool resume = false;  // a wait-for-body rule waits (else the backend's buffering)
        proxy::Backend* backend = nullptr;  // chosen before the stop (null: not yet)
        ev_tstamp until = 0;                // wait-for-body's limit; 0: none
    };
    std::unique_ptr<BodyWait> body_wait_;
    // `retry-on`: the request head as sent, for another attempt (see keep_for_retry); kept for
    // the connection's life once made, so that it is allocated once.
    std::unique_ptr<std::string> retry_head_;
    std::unique_ptr<ClientAddresses> addrs_;  // from a PROXY header: they replace the socket's
    struct ReplyRest {
        std::string body;
        std::size_t sent = 0;
    };
    std::unique_ptr<ReplyRest> reply_rest_;  // a service's reply body not yet in client_.out
    proxy::Server* conn_server_ = nullptr;   // where server_side_.fd leads (outlives the slot)
    Phase phase_ = Phase::WaitRequest;
    Side client_, server_side_;
    Body req_, resp_;
    ev_timer timer_;
    ev_tstamp phase_started_ = 0;
    ev_tstamp request_started_ = 0;      // first byte of the request (accept for the first one)
    std::uint32_t requests_ = 0;         // on this client connection, the current one included
    std::uint32_t conn_requests_ = 0;    // carried by the current server connection
    std::uint32_t conn_generation_ = 0;  // the server Destination version it was made to
    std::size_t head_scanned_ = 0;       // resumption point of an incomplete head
    TerminationState term_;
    std::unique_ptr<TxnLog> txn_log_;  // a transaction under way on a logging frontend
    http::Version req_version_ = http::Version::Http11;
    bool req_is_head_ = false;
    bool req_is_connect_ = false;
    bool req_upgrade_ = false;
    bool req_must_close_ = false;
    bool req_head_open_ = false;       // the head in server_side_.out still lacks its last lines
    bool continue_sent_ = false;       // we answered the request's Expect: 100-continue ourselves
    bool awaited_body_ = false;        // the request is parsed again as its awaited body comes
    bool decided_in_backend_ = false;  // the request rules' verdict came from the backend's
    bool backend_counted_ = false;     // the transaction counts in its backend's stats
    // `set-timeout server|tunnel` for this transaction, in milliseconds (0: the backend's).
    std::uint32_t server_timeout_ms_ = 0, tunnel_timeout_ms_ = 0;
    util::Duration timeout_server() const;
    util::Duration timeout_tunnel() const;
    bool server_keep_ = false;       // we asked the server to keep the connection
    bool client_keep_ = false;       // the client connection carries another request after this
    bool response_started_ = false;  // a final response head went to the client
    bool soft_stopping_ = false;
    bool retry_armed_ = false;  // retry_head_ holds this transaction's request
    bool client_done_ = false;  // Closing: no lingering needed unless the client sends more
    bool closed_ = false;
    bool wants_txn_log_ = false;        // the frontend logs, or makes unique ids
    bool logs_backend_source_ = false;  // its log line shows %bi or %bp
    char client_ip_[48] = {};           // cached text of the client address (forwardfor)
};

}  // namespace sluice::stream
