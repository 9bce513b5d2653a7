// A mode-tcp stream: one client connection joined to one server connection, bytes forwarded
// both ways with back-pressure and half-close propagation. Phases, in order:
//   inspect what the client sent (tcp-request content rules, use_backend; only while a rule
//   waits for bytes within tcp-request inspect-delay)
//   -> pick a server (or wait in the backend's queue) -> connect (retries, redispatch)
//   -> forward (buffers, or splice when enabled) -> close.
// Lives on its Worker's thread for life; deletes itself when closed.
#pragma once

#include <ev.h>

#include "sluice/core/buffer.hpp"
#include "sluice/core/thread_cache.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/sample/capture.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/sample/vars.hpp"
#include "sluice/stream/log_clock.hpp"
#include "sluice/stream/server_attempt.hpp"
#include "sluice/stream/session.hpp"
#include "sluice/stream/worker.hpp"

namespace sluice::stream {

class TcpStream final : public Stream {
  public:
    // Takes ownership of `client_fd` (accepted, non-blocking). The frontend and global slots
    // are already counted for it.
    // `session`: what a PROXY header and the connection's first rules left (addresses, sess
    // variables), if anything.
    TcpStream(Worker& worker, proxy::Frontend& fe, int client_fd, Session session = {});
    void start();

    // From the thread's cache of stream-sized blocks: no malloc per connection once warm.
    static constexpr std::string_view kPoolName = "tcp_stream";  // `show pools`
    static void* operator new(std::size_t size) {
        return core::ThreadCache<TcpStream>::allocate(size);
    }
    static void operator delete(void* p, std::size_t size) {
        core::ThreadCache<TcpStream>::deallocate(p, size);
    }

  private:
    enum class Phase { Inspecting, Picking, Queued, Connecting, RetryWait, Forwarding, Closed };

    // One socket of the stream.
    struct Side {
        int fd = -1;
        ev_io io;
        int events = 0;            // interest currently registered with the loop
        bool read_closed = false;  // the peer sent its FIN
        bool write_shut = false;   // we sent ours
        ev_tstamp last_activity = 0;
    };
    // One direction, from one side to the other.
    struct Flow {
        core::Buffer buf;
        int pipe_r = -1, pipe_w = -1;  // when splicing
        std::size_t in_pipe = 0;
        bool splicing = false;
        bool may_splice = false;   // option splice-request/response
        bool auto_splice = false;  // option splice-auto: switch after a full read
        std::size_t pending() const { return splicing ? in_pipe : buf.size(); }
    };

    ~TcpStream();
    static void on_client_io(struct ev_loop*, ev_io* w, int revents);
    static void on_server_io(struct ev_loop*, ev_io* w, int revents);
    static void on_timer(struct ev_loop*, ev_timer* w, int revents);
    void finish_callback();

    bool needs_inspection() const;
    void inspect(bool expired);
    // What content rules read of the connection, attached to `ctx` (`conn` is its storage);
    // the variable scopes come into being when the rules may set one.
    void attach_connection(sample::Context& ctx, sample::Connection& conn, bool rules_set_vars);
    static void change_address(void* owner, sample::Connection& conn, bool dst,
                               const net::Address& to);
    // tcp-response content rules on what the server sent, before any of it reaches the client.
    void inspect_response(bool expired);
    ev_tstamp response_inspection_end() const;
    const cfg::Parts& inspected_parts() const;
    void connect_or_queue(const proxy::Pick& pick);
    void connect();  // to the server attempt_ holds
    void on_connected();
    void connect_failed(bool timed_out);

    void handle(Side& side, int revents);
    void pump(Flow& f, Side& from, Side& to);
    bool flush(Flow& f, Side& from, Side& to);
    enum class SpliceIn { Moved, Fallback, Closed };
    SpliceIn splice_in(Flow& f, Side& from);
    bool start_splicing(Flow& f);
    void propagate_shutdown(Flow& f, Side& from, Side& to);
    void update_interest();
    void set_interest(Side& side, int events);

    ev_tstamp deadline() const;
    void arm_timer();
    void close();

  public:
    void abandon() override;
    const proxy::Server* server() const override { return attempt_.server(); }
    void forget_server(const proxy::Server& s) override { attempt_.forget(s); }
    void describe(std::string& out, bool detail, double now, std::uint32_t id_base) const override {
        describe_stream(out, this, client_.fd, fe_, be_, attempt_.server(), server_side_.fd,
                        started_at_, now, detail, id_base);
    }
    bool woken_from_queue() override;

  private:
    Worker& worker_;
    proxy::Frontend& fe_;
    proxy::Backend* be_;
    ServerAttempt attempt_;
    Phase phase_ = Phase::Picking;
    Side client_, server_side_;
    Flow up_, down_;  // client -> server, server -> client
    ev_timer timer_;
    ev_tstamp phase_started_ = 0;
    // From a PROXY header or a set-src/set-dst rule: they replace the socket's.
    std::unique_ptr<ClientAddresses> addrs_;
    // From the connection's first rules (sess variables), else made once content rules run.
    std::unique_ptr<sample::StreamVars> vars_;
    sample::CapturesPtr captures_;      // once rules run, if the frontend has slots
    std::uint8_t inspect_stage_ = 0;    // 0: the frontend's content rules, 1: the backend's
    bool inspecting_response_ = false;  // down_ is held for the tcp-response rules
    ev_tstamp connected_at_ = 0;
    ev_tstamp started_at_ = 0;
    TerminationState term_;
    LogClock clock_;                                // for the session's log line
    std::unique_ptr<net::Address> backend_source_;  // %bi %bp, when the log line shows them
    QueuePositions queue_positions_;                // %sq %bq
    bool closed_ = false;
    bool logged_ = false;
    std::int8_t log_level_ = -1;  // set-log-level (rules::Outcome::log_level); -1: none
    bool client_sent_ = false;    // some byte came from the client (`dontlognull`)
    // The session's log line (tcp_stream_log.cpp), when the frontend logs: from close(), or
    // (`early`, `option logasap`) once the server connection is up.
    void log_session(bool early = false);
    // On a timeout while forwarding: 'c' when the client's ran out, else 's'.
    char timed_out_side() const;
    // The client's idle limit now: `timeout client-fin` once it closed, if set.
    util::Duration client_timeout() const;
};

}  // namespace sluice::stream
