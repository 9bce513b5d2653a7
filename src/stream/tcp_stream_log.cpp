// A TCP session's log line (see stream_log.hpp): the log::Record of what the stream knows,
// rendered with the frontend's format when the session ends.
#include <chrono>

#include "sluice/stream/stream_log.hpp"
#include "sluice/stream/tcp_stream.hpp"

namespace sluice::stream {

util::Duration TcpStream::client_timeout() const {
    return client_.read_closed && fe_.timeout_client_fin.count() > 0 ? fe_.timeout_client_fin
                                                                     : fe_.timeout_client;
}

char TcpStream::timed_out_side() const {
    // The side whose own deadline passed (HAProxy's 'c' or 's'); a tunnel timeout is the
    // client's, as HAProxy reports it.
    if (be_->timeout_tunnel.count() > 0) return 'c';
    const util::Duration ct = client_timeout();
    if (ct.count() == 0) return 's';
    const ev_tstamp client_end = client_.last_activity + std::chrono::duration<double>(ct).count();
    return client_end <= worker_.loop().now() + 0.0005 ? 'c' : 's';
}

void TcpStream::log_session(bool early) {
    if (logged_) return;
    logged_ = true;
    const std::optional<StreamLog> how = stream_log(fe_, false);
    if (!how) return;
    const bool error = term_.cause != '-';
    // HAProxy's `dontlognull` leaves out a session whose client sent nothing.
    if (!how->wanted(error, !client_sent_, log_level_)) return;

    log::Record r;
    fill_times(r, clock_, worker_.loop().now());
    r.logasap = early;
    if (!addrs_) addrs_ = socket_addresses(client_.fd);
    if (addrs_) {
        r.client = &addrs_->src;
        r.frontend = &addrs_->dst;
    }
    r.frontend_name = fe_.name;
    r.backend_name = be_ ? std::string_view(be_->name) : std::string_view(fe_.name);
    fill_destination(r, worker_.config(), fe_, be_, attempt_, attempt_.last_server(), "<NOSRV>");
    r.request_counter = next_request_id();
    r.backend_source = backend_source_.get();
    r.srv_queue = queue_positions_.server;
    r.be_queue = queue_positions_.backend;
    r.term_cause = term_.cause;
    r.term_phase = term_.phase;
    if (captures_) show_captures(*captures_, r);

    sample::Arena& arena = worker_.arena();
    arena.reset();
    sample::Context ctx(arena);
    sample::Connection conn;
    attach_connection(ctx, conn, false);
    ctx.attach(&r);
    how->send(ctx, error, log_level_);
}

}  // namespace sluice::stream
