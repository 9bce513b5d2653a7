// An HTTP transaction's log line and unique id: the log::Record of what the stream knows,
// rendered with the frontend's formats (see log/record.hpp, stream_log.hpp).
#include "sluice/stream/http_stream.hpp"
#include "sluice/stream/stream_log.hpp"

namespace sluice::stream {
// What the formats read: the record, and what rules see of the transaction.
template <class Render>
void HttpStream::render_record(log::Record& r, Render&& render) {
    sample::Arena& arena = worker_.arena();
    arena.reset();
    sample::Context ctx(arena);
    sample::Connection conn;
    attach_common(ctx, conn);
    ctx.attach(&r);
    render(ctx);
}

void HttpStream::begin_txn_log(ev_tstamp accept) {
    if (!wants_txn_log_) return;
    txn_log_ = std::make_unique<TxnLog>();
    txn_log_->clock.accept = accept;
}

void HttpStream::fill_record(log::Record& r) {
    // A rule's variables on a stream without the block (a config that asked for none when the
    // stream began): what the stream knows without a clock.
    static const TxnLog kNone{};
    const TxnLog& t = txn_log_ ? *txn_log_ : kNone;
    fill_times(r, t.clock, worker_.loop().now());
    // HAProxy answers a request it could not read below its streams: the bytes of that
    // answer are not the transaction's.
    if (t.clock.head == 0) r.bytes_out = 0;
    if (!addrs_) addrs_ = socket_addresses(client_.fd);
    if (addrs_) {
        r.client = &addrs_->src;
        r.frontend = &addrs_->dst;
    }
    r.frontend_name = fe_.name;
    // A request the frontend answered (or could not read) never reached a backend.
    r.backend_name =
        be_ && backend_counted_ ? std::string_view(be_->name) : std::string_view(fe_.name);
    fill_destination(r, worker_.config(), fe_, be_, attempt_,
                     conn_server_ ? conn_server_ : attempt_.last_server(),
                     t.server.empty() ? std::string_view("<NOSRV>") : t.server);
    r.request_counter = txn_log_ ? request_id() : 0;
    r.http = true;
    r.status = t.status;
    r.term_cause = term_.cause;
    r.term_phase = term_.phase;
    r.unique_id = t.unique_id.view();
    if (t.backend_source.length > 0) r.backend_source = &t.backend_source;
    r.srv_queue = t.queue.server;
    r.be_queue = t.queue.backend;
    std::string_view line;
    if (captures_ && captures_->request_line(line)) split_request_line(line, r);
    if (captures_) {
        show_captures(*captures_, r);
        std::string_view v;
        r.request_cookie.present = captures_->cookie(false, v);
        r.request_cookie.value = v;
        v = {};
        r.response_cookie.present = captures_->cookie(true, v);
        r.response_cookie.value = v;
    }
}

void HttpStream::log_transaction(bool early) {
    TxnLog& t = *txn_log_;
    t.pending = false;
    const std::optional<StreamLog> how = stream_log(fe_, true);
    if (!how) return;
    log::Record r;
    fill_record(r);
    r.logasap = early;
    if (!early && r.term_cause == '-' && t.status < 0 && !response_started_) {
        // No response and no cause set: the connection ended under the transaction.
        r.term_cause = 'C';
        r.term_phase = 'R';
    }
    const bool error = r.term_cause != '-' || t.status >= 500 || t.status < 0;
    if (!how->wanted(error, t.probe, t.level)) return;

    render_record(r, [&](sample::Context& ctx) { how->send(ctx, error, t.level); });
}

void HttpStream::make_unique_id() {
    if (!txn_log_ || !fe_.parts) return;
    txn_log_->unique_id.size = 0;
    const sample::Format* format = fe_.parts->read<log::ProxyLogFormat>().unique_id_format();
    if (!format) return;
    log::Record r;
    fill_record(r);
    // Rendered in a buffer of the thread's that keeps its capacity, then cut as HAProxy cuts.
    thread_local std::string rendering;
    rendering.clear();
    render_record(r, [&](sample::Context& ctx) {
        format->render(ctx, rendering, sample::Format::Mode::Log);
    });
    txn_log_->unique_id.assign(rendering);
}

}  // namespace sluice::stream
