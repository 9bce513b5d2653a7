// The log side of streams (see log_clock.hpp, stream_log.hpp): timers from a transaction's
// moments, and the line's rendering and sending.
#include "sluice/stream/stream_log.hpp"

#include <atomic>
#include <cmath>
#include <vector>

#include "sluice/net/socket.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/stream/log_clock.hpp"

namespace sluice::stream {

void fill_times(log::Record& r, const LogClock& c, ev_tstamp end) {
    // Each moment as HAProxy keeps it: whole milliseconds since the accept.
    auto since_accept = [&](ev_tstamp t) -> log::Millis {
        if (t <= 0) return -1;
        const double ms = std::floor((t - c.accept) * 1000.0);
        return ms > 0 ? static_cast<log::Millis>(ms) : 0;
    };
    r.accept_us = static_cast<std::int64_t>(c.accept * 1e6);
    r.request_us = static_cast<std::int64_t>((c.request > 0 ? c.request : c.accept) * 1e6);
    const log::Millis handshake = c.handshake > 0 ? since_accept(c.handshake) : 0;
    const log::Millis first_byte = since_accept(c.request);
    const log::Millis head = since_accept(c.head);
    const log::Millis queue = since_accept(c.queue_done);
    const log::Millis connect = since_accept(c.connected);
    const log::Millis data = since_accept(c.response);
    const log::Millis close = since_accept(end > c.accept ? end : c.accept);
    r.th = handshake;
    r.ti = first_byte >= 0 ? std::max<log::Millis>(first_byte - handshake, 0) : -1;
    const log::Millis before_request = r.ti >= 0 ? r.ti + handshake : 0;
    r.tr_req = head >= 0 ? std::max<log::Millis>(head - before_request, 0) : -1;
    r.tw = queue >= 0 && head >= 0 ? queue - head : -1;
    r.tc = connect >= 0 && queue >= 0 ? connect - queue : -1;
    r.tr = data >= 0 && connect >= 0 ? data - connect : -1;
    r.tt = close;
    r.ta = close - before_request;
    r.bytes_in = c.bytes_in;
    r.bytes_out = c.bytes_out;
}

}  // namespace sluice::stream

namespace sluice::stream {

bool StreamLog::wanted(bool error, bool null, std::int8_t forced) const {
    if (forced >= 8) return false;  // set-log-level silent
    if (null && conf_.dontlognull) return false;
    if (!error && conf_.dontlog_normal) return false;
    return logger_.wants(level(error, forced));
}

void StreamLog::send(sample::Context& ctx, bool error, std::int8_t forced) const {
    // One line at a time per thread: its buffer keeps its room from one line to the next.
    thread_local std::string line;
    line.clear();
    format_.render(ctx, line, conf_.json ? sample::Format::Mode::Json : sample::Format::Mode::Log);
    lines_.fetch_add(1, std::memory_order_relaxed);
    if (!conf_.sd) {
        logger_.emit(level(error, forced), line);
        return;
    }
    thread_local std::string sd;
    sd.clear();
    conf_.sd->render(ctx, sd, sample::Format::Mode::Log);
    logger_.emit(level(error, forced), line, sd);
}

std::optional<StreamLog> stream_log(const proxy::Frontend& fe, bool http_mode) {
    if (!fe.logger || fe.logger->empty() || !fe.parts) return std::nullopt;
    const auto& conf = fe.parts->read<log::ProxyLogFormat>();
    const sample::Format* format = conf.log_format(http_mode);
    if (!format) return std::nullopt;
    return StreamLog(*fe.logger, conf, *format, fe.log_count);
}

bool logs_backend_source(const proxy::Frontend& fe, bool http_mode) {
    const std::optional<StreamLog> how = stream_log(fe, http_mode);
    return how && (how->format().uses_variable("bi") || how->format().uses_variable("bp"));
}

std::unique_ptr<ClientAddresses> socket_addresses(int fd) {
    if (fd < 0) return nullptr;
    auto a = std::make_unique<ClientAddresses>();
    if (!net::peer_address(fd, a->src)) a->src = {};
    if (!net::local_address(fd, a->dst)) a->dst = {};
    return a;
}

void split_request_line(std::string_view line, log::Record& r) {
    const std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return;
    r.method = line.substr(0, sp1);
    const std::size_t sp2 = line.rfind(' ');
    if (sp2 > sp1) {
        r.uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
        r.version = line.substr(sp2 + 1);
    } else {
        r.uri = line.substr(sp1 + 1);
    }
}

void show_captures(const sample::Captures& captures, log::Record& r) {
    thread_local std::vector<log::Record::Captured> shown[2];
    for (int response = 0; response < 2; ++response) {
        auto& out = shown[response];
        out.resize(captures.slots(response != 0));
        for (std::size_t i = 0; i < out.size(); ++i) {
            std::string_view v;
            out[i].present = captures.get(response != 0, i, v);
            out[i].value = out[i].present ? v : std::string_view();
        }
    }
    r.request_headers = shown[0];
    r.response_headers = shown[1];
}

void fill_destination(log::Record& r, const proxy::Config& config, const proxy::Frontend& fe,
                      const proxy::Backend* be, const ServerAttempt& attempt,
                      const proxy::Server* srv, std::string_view no_server) {
    const std::uint32_t own_slot = attempt.server() ? 1 : 0;
    if (srv) {
        r.server_name = srv->name;
        r.server = &srv->destination.now().addr.address;
        r.srvconn = srv->cur_conns.load(std::memory_order_relaxed) - own_slot;
    } else {
        r.server_name = no_server;
    }
    r.actconn = config.cur_conns.load(std::memory_order_relaxed);
    r.feconn = fe.cur_conns.load(std::memory_order_relaxed);
    r.log_counter = fe.log_count.load(std::memory_order_relaxed);
    r.beconn = be ? be->cur_conns.load(std::memory_order_relaxed) - own_slot : 0;
    // Retries made, not failures: the last failure of a transaction that gave up retried
    // nothing.
    r.retries = be ? std::min(attempt.attempts(), be->conf->retries) : 0;
    r.redispatched = attempt.redispatched();
}

std::uint64_t next_request_id() {
    static std::atomic<std::uint64_t> count{0};
    return count.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace sluice::stream
