// Services at the stream (rules/service.hpp): `use-service` and a section's own service
// (`stats uri`) answer in place of a server; their replies may be larger than a buffer.
#include <cstring>

#include <fmt/format.h>

#include "sluice/http/error_pages.hpp"
#include "sluice/http/h1_emit.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/stream/http_stream.hpp"

namespace sluice::stream {

const rules::Service* HttpStream::proxy_service(std::string_view target,
                                                const proxy::Backend* be) const {
    for (const cfg::Parts* parts : {fe_.parts, be ? be->parts : nullptr}) {
        if (!parts) continue;
        const auto& own = parts->read<rules::ProxyServiceConf>();
        if (own.service && target.starts_with(own.uri_prefix)) return own.service.get();
    }
    return nullptr;
}

// A POST to a section's own service (the stats page's admin form) is answered once its body
// is in (or fills the buffer), as HAProxy's stats applet reads it whole. The target as
// received: rules rewriting it into the service's prefix are not foreseen.
bool HttpStream::posts_to_own_service(const http::RequestHead& head) const {
    return head.method == "POST" && proxy_service(head.target, fe_.backend);
}

void HttpStream::serve(const rules::Service& service, const http::RequestHead& head,
                       std::span<const std::byte> body, rules::ServiceReply& reply) {
    if (txn_log_) txn_log_->server = service.log_name();
    sample::Arena& arena = worker_.arena();
    sample::Context ctx(arena);
    sample::Connection conn;
    attach_common(ctx, conn);
    http::Txn txn{.req = &head,
                  .res = nullptr,
                  .req_len = client_.in.size(),
                  .req_body = {reinterpret_cast<const char*>(body.data()), body.size()},
                  .req_body_chunked = req_.kind == http::BodyKind::Chunked};
    ctx.attach(&txn);
    const rules::ServiceRequest request{.head = head,
                                        .body = body,
                                        .config = worker_.config(),
                                        .frontend = fe_,
                                        .backend = be_,
                                        .samples = ctx};
    service.serve(request, reply);
}

void HttpStream::send_service_reply(rules::ServiceReply reply) {
    http::ErrorPage page;
    page.status = reply.status;
    page.head = fmt::format("HTTP/1.1 {} {}\r\n{}content-length: {}\r\n", reply.status,
                            http::default_reason(reply.status), reply.fields, reply.body.size());
    const std::size_t room = worker_.config().global.bufsize;
    const bool keep = client_keep_ && !reply.close && req_.done && !soft_stopping_;
    if (!req_is_head_ && page.head.size() + reply.body.size() + 32 > room) {
        // Larger than a buffer: the head and the start of the body now, the rest as the
        // socket takes it (send_reply_rest).
        reply_rest_ = std::make_unique<ReplyRest>();
        reply_rest_->body = std::move(reply.body);
    } else {
        page.body = std::move(reply.body);
    }
    send_page(page, keep, AfterRules::All);
}

bool HttpStream::send_reply_rest() {
    while (reply_rest_) {
        if (!client_.out.holds_memory()) client_.out = core::Buffer::take(worker_.loop().buffers());
        if (!client_.out.holds_memory()) return true;  // out of memory: the next event retries
        std::span<std::byte> room = client_.out.writable();
        const std::size_t n = std::min(room.size(), reply_rest_->body.size() - reply_rest_->sent);
        std::memcpy(room.data(), reply_rest_->body.data() + reply_rest_->sent, n);
        client_.out.commit(n);
        reply_rest_->sent += n;
        if (reply_rest_->sent == reply_rest_->body.size()) reply_rest_.reset();
        if (!send_to(client_, server_side_, resp_)) return false;
        if (!client_.out.empty()) break;  // the socket is full: its next writability goes on
    }
    return true;
}

}  // namespace sluice::stream
