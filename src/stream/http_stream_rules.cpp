// mode http: where rules meet the stream (see http_stream.hpp). http-request rules of the
// frontend, then `use_backend` switching, then the backend's; http-response rules of the
// backend, then the frontend's; answers that rules give instead of the server's.
#include <chrono>

#include "sluice/http/capture.hpp"
#include "sluice/http/h1_emit.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/net/socket.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/rules/tcp_rules.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/sample/payload.hpp"
#include "sluice/sample/vars.hpp"
#include "sluice/stream/http_stream.hpp"
#include "sluice/stream/stream_log.hpp"
#include "sluice/stream/switching.hpp"

namespace sluice::stream {

namespace {

const rules::HttpRulesConf* rules_of(const cfg::Parts* parts) {
    return parts ? &parts->read<rules::HttpRulesConf>() : nullptr;
}

bool has_content_rules(const cfg::Parts* parts) {
    return parts && !parts->read<rules::TcpRulesConf>().content.empty();
}

// tcp-request content rules in mode http: run once per request, on the request received
// whole (HAProxy runs them again for each request of a keep-alive connection). False when
// they end the transaction (`outcome` says how).
bool content_rules_pass(const cfg::Parts* parts, sample::Context& ctx, rules::Outcome& outcome) {
    if (!has_content_rules(parts)) return true;
    const auto& rules = parts->read<rules::TcpRulesConf>().content;
    switch (rules::run_content_rules(rules, ctx, true, outcome.log_level)) {
        case rules::ContentVerdict::Reject:
            outcome.verdict = rules::Verdict::Drop;
            return false;
        case rules::ContentVerdict::SilentDrop:
            outcome.verdict = rules::Verdict::Drop;
            outcome.silent = true;
            return false;
        case rules::ContentVerdict::Accept:
        case rules::ContentVerdict::Close:  // tcp-response only
        case rules::ContentVerdict::Wait:   // cannot happen on a final payload
            return true;
    }
    return true;
}

}  // namespace

// set-src / set-dst: the new address holds for the rest of the connection, as in HAProxy.
void HttpStream::change_address(void* owner, sample::Connection& conn, bool dst,
                                const net::Address& to) {
    auto* self = static_cast<HttpStream*>(owner);
    change_client_address(self->addrs_, conn, dst, to);
    self->client_ip_[0] = 0;  // forwardfor's cached text of the old address
}

HttpStream::Variables& HttpStream::variables() {
    if (!vars_) vars_ = std::make_unique<Variables>();
    return *vars_;
}

void HttpStream::fill_lazy_record(void* self, log::Record& r) {
    static_cast<HttpStream*>(self)->fill_record(r);
}

void HttpStream::attach_common(sample::Context& ctx, sample::Connection& conn,
                               sample::LazyRecord* lazy) {
    if (lazy) ctx.attach(lazy);
    conn.fd = client_.fd;
    if (addrs_) {
        conn.src = &addrs_->src;
        conn.dst = &addrs_->dst;
    }
    conn.owner = this;
    conn.change_address = &HttpStream::change_address;
    ctx.attach(&conn);
    ctx.attach(&fe_);
    ctx.attach(const_cast<proxy::Config*>(&worker_.config()));
    ctx.attach(&variables().view);
    ctx.attach(&attempt_.priority());
    if (be_) ctx.attach(be_);
    if (captures_) ctx.attach(captures_.get());
    if (txn_log_ && txn_log_->unique_id.size > 0) ctx.attach(&txn_log_->unique_id);
}

void HttpStream::capture_request(const http::RequestHead& head) {
    if (!fe_.parts) return;
    const sample::CaptureConf& conf = fe_.parts->read<sample::CaptureConf>();
    // The logs' %r reads the request line too.
    const bool keep_line = sample::request_line_wanted() || stream_log(fe_, true).has_value();
    if (conf.empty() && !keep_line) return;
    if (!captures_) captures_ = sample::take_captures(conf);
    http::capture_request(conf, head, *captures_, keep_line);
    const log::ProxyLogFormat& logs = fe_.parts->read<log::ProxyLogFormat>();
    if (!logs.capture_cookie.empty())
        capture_cookie(head.headers, false, logs.capture_cookie, logs.capture_cookie_len);
}

void HttpStream::capture_response(const http::ResponseHead& head) {
    if (!captures_) return;
    const sample::CaptureConf& conf = fe_.parts->read<sample::CaptureConf>();
    if (!conf.res.empty()) http::capture_response(conf, head, *captures_);
    const log::ProxyLogFormat& logs = fe_.parts->read<log::ProxyLogFormat>();
    if (!logs.capture_cookie.empty())
        capture_cookie(head.headers, true, logs.capture_cookie, logs.capture_cookie_len);
}

// `capture cookie NAME len N`: the first cookie whose name starts with NAME, "name=value",
// from the request's Cookie headers or the response's Set-Cookie ones.
void HttpStream::capture_cookie(const http::HeaderList& headers, bool response,
                                std::string_view prefix, std::uint32_t len) {
    const std::string_view field = response ? "set-cookie" : "cookie";
    for (const http::Header& h : headers.all()) {
        if (!http::iequals(h.name, field)) continue;
        std::string_view rest = h.value;
        while (!rest.empty()) {
            // A Set-Cookie names one cookie, its attributes after ';'; a Cookie lists several.
            const std::size_t end = rest.find(';');
            std::string_view one = rest.substr(0, end);
            rest = end == std::string_view::npos || response ? std::string_view()
                                                             : rest.substr(end + 1);
            while (!one.empty() && (one.front() == ' ' || one.front() == '\t'))
                one.remove_prefix(1);
            while (!one.empty() && (one.back() == ' ' || one.back() == '\t'))
                one.remove_suffix(1);
            if (one.size() >= prefix.size() && one.substr(0, prefix.size()) == prefix) {
                captures_->set_cookie(response, one, len);
                return;
            }
        }
    }
}

bool HttpStream::has_request_rules() const {
    if (!fe_.switching.empty()) return true;
    if (has_content_rules(fe_.parts)) return true;
    if (fe_.backend && has_content_rules(fe_.backend->parts)) return true;
    if (fe_.backend && needs_server_choice(*fe_.backend)) return true;
    if (fe_.parts && !fe_.parts->read<rules::MonitorConf>().uri.empty()) return true;
    const rules::HttpRulesConf* f = rules_of(fe_.parts);
    if (f && !f->request.empty()) return true;
    if (fe_.backend && fe_.backend->parts != fe_.parts) {
        const rules::HttpRulesConf* b = rules_of(fe_.backend->parts);
        if (b && !b->request.empty()) return true;
    }
    return false;
}

// monitor-uri: answered before any rule, 200 or (a `monitor fail` condition holds) 503, with
// the frontend's pages for them.
bool HttpStream::monitor_request(const http::RequestHead& head, sample::Context& ctx,
                                 rules::Outcome& outcome) {
    const rules::MonitorConf& m = fe_.parts->read<rules::MonitorConf>();
    if (m.uri.empty()) return false;
    // A URI starting with '/' is compared with the path and query of the request (its target
    // without scheme://authority), as haproxy 2.6 does; another with the whole target.
    std::string_view target = head.target;
    if (m.uri[0] == '/') {
        const std::string_view path = http::target_path(head.target);
        if (!path.empty())
            target = head.target.substr(static_cast<std::size_t>(path.data() - head.target.data()));
    }
    if (target != m.uri) return false;
    bool failing = false;
    for (const auto& cond : m.fail)
        failing = failing || cond->eval(ctx);
    outcome.verdict = rules::Verdict::Reply;
    outcome.status = failing ? 503 : 200;
    return true;
}

rules::Outcome HttpStream::run_request_rules(http::RequestHead& head, std::size_t buffered,
                                             std::span<const std::byte> body,
                                             const http::Framing& framing) {
    rules::Outcome outcome;
    be_ = fe_.backend;
    decided_in_backend_ = false;
    if (!has_request_rules()) return outcome;
    sample::Arena& arena = worker_.arena();
    arena.reset();
    sample::Context ctx(arena);
    sample::Connection conn;
    sample::LazyRecord lazy(this, &HttpStream::fill_lazy_record);
    attach_common(ctx, conn, &lazy);
    Variables& vars = variables();
    vars.txn.clear();
    vars.req.clear();
    vars.res.clear();
    http::Txn txn{.req = &head,
                  .res = nullptr,
                  .req_len = buffered,
                  .req_body = {reinterpret_cast<const char*>(body.data()), body.size()},
                  .req_body_chunked = req_.kind == http::BodyKind::Chunked};
    ctx.attach(&txn);
    sample::Payload payload{.req = client_.in.readable(), .res = {}, .final = true};
    ctx.attach(&payload);
    rules::RulesTrail trail = start_trail(arena);
    const rules::MessageBody request_body{.bytes = body,
                                          .framing = &framing,
                                          .opts = body_parse_options(),
                                          .cannot_grow = client_.in.full() || client_.read_closed};
    rules::RuleCtx rctx{.samples = ctx,
                        .req = &head,
                        .res = nullptr,
                        .outcome = outcome,
                        .body = &request_body,
                        .trail = &trail};
    const bool switched = run_request_rule_sets(ctx, rctx, body, framing);
    if (rctx.hints) (void)queue_interim(*rctx.hints);
    if (outcome.verdict == rules::Verdict::WaitBody)
        keep_body_wait(trail, outcome.wait, switched ? be_ : nullptr);
    return outcome;
}

bool HttpStream::run_request_rule_sets(sample::Context& ctx, rules::RuleCtx& rctx,
                                       std::span<const std::byte> body,
                                       const http::Framing& framing) {
    rules::Outcome& outcome = rctx.outcome;
    if (!content_rules_pass(fe_.parts, ctx, outcome)) return false;
    if (monitor_request(*rctx.req, ctx, outcome)) {
        outcome.frontend = true;
        return false;
    }
    if (const rules::HttpRulesConf* f = rules_of(fe_.parts)) {
        rules::run_rules(f->request, rctx);
        if (rules::ends_transaction(outcome.verdict)) {
            outcome.frontend = true;
            return false;
        }
        if (outcome.verdict == rules::Verdict::WaitBody) return false;
    }
    // A backend chosen before the rules stopped to wait stays chosen: HAProxy chooses once.
    be_ = body_wait_ && body_wait_->backend ? body_wait_->backend
                                            : choose_backend(fe_, worker_.config(), ctx);
    if (be_ && be_->buffer_request && !wants_buffered_body(fe_.backend) &&
        !body_buffered(body, framing)) {
        outcome.verdict = rules::Verdict::WaitBody;
        rctx.trail->stopped_between();
        return true;
    }
    if (be_ && be_->parts != fe_.parts) {
        ctx.attach(be_);
        outcome.verdict = rules::Verdict::Continue;  // an allow ends the frontend's rules only
        decided_in_backend_ = true;
        if (!content_rules_pass(be_->parts, ctx, outcome)) return true;
        if (const rules::HttpRulesConf* b = rules_of(be_->parts))
            rules::run_rules(b->request, rctx);
    }
    if (be_ && needs_server_choice(*be_) && !rules::ends_transaction(outcome.verdict) &&
        outcome.verdict != rules::Verdict::WaitBody) {
        ctx.attach(be_);
        choose_server(*be_, ctx, attempt_);
    }
    return true;
}

// Every run records its path (a byte per rule met, in a string the arena keeps): cheaper than
// finding out first whether any rule or backend may stop it. A run after a stop for the body
// retraces the path the stopped one recorded.
rules::RulesTrail HttpStream::start_trail(sample::Arena& arena) {
    if (body_wait_)
        return {.path = &body_wait_->path,
                .retrace = body_wait_->retrace,
                .resume = body_wait_->resume};
    rules::RulesTrail trail;
    trail.path = &arena.take();
    return trail;
}

// The rules stopped to wait for the body: what their next run needs to resume them.
void HttpStream::keep_body_wait(const rules::RulesTrail& trail, util::Duration wait,
                                proxy::Backend* chosen) {
    // The rule that waited before waits again: its clock keeps running. A new wait starts it.
    const bool same_wait =
        body_wait_ && body_wait_->resume && trail.resume && body_wait_->retrace == trail.retrace;
    if (!body_wait_) body_wait_ = std::make_unique<BodyWait>();
    BodyWait& w = *body_wait_;
    if (trail.path != &w.path) w.path = *trail.path;
    w.retrace = trail.retrace;
    w.resume = trail.resume;
    w.backend = chosen;
    if (!same_wait)
        w.until = trail.resume && wait.count() > 0
                      ? worker_.loop().now() + std::chrono::duration<double>(wait).count()
                      : 0;
}

rules::Outcome HttpStream::run_response_rules(http::ResponseHead& head,
                                              std::span<const std::byte> body,
                                              const http::Framing& framing) {
    rules::Outcome outcome;
    const rules::HttpRulesConf* b = be_ ? rules_of(be_->parts) : nullptr;
    const rules::HttpRulesConf* f = be_ && be_->parts == fe_.parts ? nullptr : rules_of(fe_.parts);
    const std::vector<rules::TcpRule>* tcp =
        be_ && !be_->parts->read<rules::TcpRulesConf>().response.empty()
            ? &be_->parts->read<rules::TcpRulesConf>().response
            : nullptr;
    const bool any = tcp || (b && (!b->response.empty() || !b->after_response.empty())) ||
                     (f && (!f->response.empty() || !f->after_response.empty()));
    if (!any) return outcome;
    sample::Arena& arena = worker_.arena();
    arena.reset();
    sample::Context ctx(arena);
    ctx.response = true;
    sample::Connection conn;
    sample::LazyRecord lazy(this, &HttpStream::fill_lazy_record);
    attach_common(ctx, conn, &lazy);
    if (attempt_.server()) ctx.attach(attempt_.server());
    http::Txn txn{.req = nullptr,
                  .res = &head,
                  .req_len = 0,
                  .req_body = {},
                  .req_version = req_version_,
                  .res_body = {reinterpret_cast<const char*>(body.data()), body.size()},
                  .res_body_chunked = framing.kind == http::BodyKind::Chunked};
    ctx.attach(&txn);
    // Resuming a wait for the body: the content rules ran on the head already, and let it pass.
    if (tcp && !body_wait_) {
        // tcp-response content rules: once per response, on its head received whole.
        sample::Payload payload{.req = {}, .res = server_side_.in.readable(), .final = true};
        ctx.attach(&payload);
        switch (rules::run_content_rules(*tcp, ctx, true, outcome.log_level)) {
            case rules::ContentVerdict::Reject:
                outcome.verdict = rules::Verdict::Drop;
                return outcome;
            case rules::ContentVerdict::SilentDrop:
                outcome.verdict = rules::Verdict::Drop;
                outcome.silent = true;
                return outcome;
            case rules::ContentVerdict::Close:
                server_keep_ = false;  // the server connection ends with this response
                break;
            case rules::ContentVerdict::Accept:
            case rules::ContentVerdict::Wait:  // not on a final payload
                break;
        }
    }
    rules::RulesTrail trail = start_trail(arena);
    const rules::MessageBody response_body{
        .bytes = body,
        .framing = &framing,
        .opts = {.accept_invalid = be_->accept_invalid_response, .strict_crlf = true},
        .cannot_grow = server_side_.in.full() || server_side_.read_closed};
    rules::RuleCtx rctx{.samples = ctx,
                        .req = nullptr,
                        .res = &head,
                        .outcome = outcome,
                        .body = &response_body,
                        .trail = &trail};
    for (const rules::HttpRulesConf* set : {b, f}) {
        if (!set) continue;
        outcome.verdict = rules::Verdict::Continue;
        rules::run_rules(set->response, rctx);
        if (rules::ends_transaction(outcome.verdict)) return outcome;
        if (outcome.verdict == rules::Verdict::WaitBody) {
            keep_body_wait(trail, outcome.wait, nullptr);
            return outcome;
        }
    }
    // http-after-response: on what goes to the client, server answers included.
    for (const rules::HttpRulesConf* set : {b, f}) {
        if (!set) continue;
        outcome.verdict = rules::Verdict::Continue;
        rules::run_rules(set->after_response, rctx);
        if (rules::ends_transaction(outcome.verdict)) return outcome;  // a failed rewrite: 500
    }
    outcome.verdict = rules::Verdict::Continue;
    return outcome;
}

std::string_view HttpStream::after_response_on_reply(std::string_view head, AfterRules after) {
    const rules::HttpRulesConf* b =
        after == AfterRules::All && be_ && be_->parts != fe_.parts ? rules_of(be_->parts) : nullptr;
    const rules::HttpRulesConf* f = rules_of(fe_.parts);
    if ((!b || b->after_response.empty()) && (!f || f->after_response.empty())) return head;
    // The arena is not reset: `head` may live in it (an edited page).
    sample::Arena& arena = worker_.arena();
    std::string& text = arena.take();
    text.assign(head).append("\r\n");
    http::ResponseHead parsed;
    const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
    if (!std::holds_alternative<http::Done>(http::parse_response_head(bytes, 0, parsed)))
        return head;  // our own pages parse; a user's errorfile that does not goes as it is
    sample::Context ctx(arena);
    ctx.response = true;
    sample::Connection conn;
    sample::LazyRecord lazy(this, &HttpStream::fill_lazy_record);
    attach_common(ctx, conn, &lazy);
    if (after != AfterRules::All) ctx.attach<proxy::Backend>(nullptr);  // be_name: none
    http::Txn txn{
        .req = nullptr, .res = &parsed, .req_len = 0, .req_body = {}, .req_version = req_version_};
    ctx.attach(&txn);
    rules::Outcome outcome;
    rules::RuleCtx rctx{.samples = ctx, .req = nullptr, .res = &parsed, .outcome = outcome};
    for (const rules::HttpRulesConf* set : {b, f}) {
        if (!set) continue;
        outcome.verdict = rules::Verdict::Continue;
        rules::run_rules(set->after_response, rctx);
        if (rules::ends_transaction(outcome.verdict)) return {};
    }
    std::string& out = arena.take();
    out.resize(worker_.config().global.bufsize);
    http::HeadWriter w(std::as_writable_bytes(std::span(out.data(), out.size())));
    w.status_line(parsed);
    for (const http::Header& h : parsed.headers.all())
        w.field(h.name, h.value);
    if (w.overflow()) return {};
    out.resize(w.size());
    return out;
}

const http::ErrorPage* HttpStream::reply_page(const rules::Outcome& outcome) const {
    if (!outcome.reply.head.empty()) return &outcome.reply;
    if (outcome.page) return outcome.page;
    return error_page(outcome.status, outcome.frontend);
}

// Answers the transaction with what a rule decided, instead of a server's response.
void HttpStream::send_reply(const rules::Outcome& outcome, bool request_has_body,
                            const http::RequestHead* req) {
    term_.set('P', 'R');
    const http::ErrorPage* page = reply_page(outcome);
    // A body still on its way would be read as the next request: close after the reply then.
    const bool keep =
        !outcome.close && client_keep_ && !request_has_body && !page->must_close && !soft_stopping_;
    const AfterRules after = outcome.frontend ? AfterRules::Frontend : AfterRules::All;
    PageText text = page_text(*page, req);
    if (!outcome.challenge.empty() && !text.head.empty()) {
        // The arena lives until the next head is parsed; the page is copied out before that.
        std::string& head = worker_.arena().take();
        http::replace_field(text.head, outcome.challenge_header, outcome.challenge, head);
        text.head = head;
    }
    send_page(*page, keep, after, &text, req);
}

// `http-request tarpit`: the reply waits for `delay`; meanwhile the client holds a connection
// and learns nothing.
void HttpStream::start_tarpit(const rules::Outcome& outcome, util::Duration delay,
                              const http::RequestHead* req) {
    term_.set('P', 'T');
    if (delay.count() <= 0) {
        send_reply(outcome, !req_.done, req);
        return;
    }
    tarpit_ = std::make_unique<Tarpit>(
        Tarpit{.reply = outcome,
               .until = worker_.loop().now() + std::chrono::duration<double>(delay).count()});
    // A log-format page is made when the wait ends, without the request (as HAProxy's).
    phase_ = Phase::Tarpit;
    phase_started_ = worker_.loop().now();
}

// reject and silent-drop: the client connection ends without a response.
void HttpStream::drop_client(bool silent) {
    term_.set('P', 'R');
    if (silent && client_.fd >= 0) net::prepare_silent_drop(client_.fd);
    close();
}

}  // namespace sluice::stream
