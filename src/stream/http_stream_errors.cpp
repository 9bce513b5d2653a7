// `show errors`: an invalid request or response, as the stream holds it when it refuses it,
// becomes its proxy's last capture (http/error_capture.hpp). Only error paths come here; the
// copy of the buffer is made then, never before.
#include <fmt/format.h>

#include "sluice/http/error_capture.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/stats/stats.hpp"
#include "sluice/stream/http_stream.hpp"

namespace sluice::stream {

[[gnu::cold]] void HttpStream::capture_error(bool response, std::size_t error_at,
                                             std::string_view reason, bool with_backend) {
    const core::Buffer& in = response ? server_side_.in : client_.in;
    const std::uint32_t bufsize = worker_.config().global.bufsize;
    const std::span<const std::byte> bytes = in.readable();
    auto s = std::make_shared<http::ErrorSnapshot>();
    s->when_us = http::wall_clock_us();
    s->event = http::next_error_event();
    const std::uint32_t base = stats::proxy_id_base(worker_.config());
    if (response) {
        s->peer_name = fe_.name;
        s->peer_id = fe_.uid + base;
        if (conn_server_) {
            s->server_name = conn_server_->name;
            s->server_id = conn_server_->puid;
        }
    } else if (with_backend && be_) {
        s->peer_name = be_->name;
        s->peer_id = be_->uid + base;
    }
    net::Address peer;
    if (addrs_) peer = addrs_->src;
    if (addrs_ || net::peer_address(client_.fd, peer)) {
        if (peer.family() == AF_INET || peer.family() == AF_INET6) {
            char ip[64] = {};
            (void)peer.ip_text(ip, sizeof ip);
            s->source = fmt::format("{}:{}", ip, peer.port());
        } else {
            s->source = "unix:0";  // HAProxy names no path either
        }
    }
    s->buf_size = bufsize;
    s->bytes.assign(reinterpret_cast<const char*>(bytes.data()),
                    std::min<std::size_t>(bytes.size(), bufsize));
    s->error_at = static_cast<std::uint32_t>(std::min(error_at, s->bytes.size()));
    s->reason = reason;
    (response ? be_->invalid_response : fe_.invalid_request).store(std::move(s));
}

void HttpStream::capture_invalid(bool response, const http::Invalid& invalid) {
    capture_error(response, invalid.offset,
                  fmt::format("{} (message head)", http::to_string(invalid.reason)));
}

void HttpStream::capture_tolerated(bool response) {
    const http::HeadResult r = [&] {
        if (response) {
            http::ResponseHead head;
            return http::parse_response_head(server_side_.in.readable(), 0, head);
        }
        http::RequestHead head;
        return http::parse_request_head(client_.in.readable(), 0, head);
    }();
    if (const auto* bad = std::get_if<http::Invalid>(&r)) capture_invalid(response, *bad);
}

void HttpStream::capture_framing_error(bool response, const http::HeaderList& headers,
                                       http::FramingError error, std::size_t head_len) {
    const core::Buffer& in = response ? server_side_.in : client_.in;
    const std::size_t at =
        http::framing_error_offset(headers, error, in.readable().data(), head_len);
    capture_error(response, at, fmt::format("{} (message head)", http::to_string(error)));
}

void HttpStream::capture_body_error(bool response, bool with_backend) {
    const Body& body = response ? resp_ : req_;
    capture_error(response, body.error_at,
                  fmt::format("{} (message body)", http::to_string(body.chunks.error)),
                  with_backend);
}

}  // namespace sluice::stream
