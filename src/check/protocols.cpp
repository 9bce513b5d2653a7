// The protocol checks of HAProxy 2.6 as tcp-check rule sets: the bytes they send and how they
// judge the answer were compared with haproxy 2.6.12 (a fake server recording what it got).
#include <fmt/format.h>

#include <ctime>

#include "sluice/check/tcpcheck.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/util/units.hpp"

namespace sluice::check {
namespace {

TcpRule send(std::string bytes) {
    TcpRule r;
    r.op = TcpRule::Op::Send;
    r.data = std::move(bytes);
    return r;
}

TcpRule expect_regex(std::string_view re, bool binary, int min_recv, Status error) {
    TcpRule r;
    r.op = TcpRule::Op::Expect;
    r.expect.kind = binary ? TcpExpect::Kind::RBinary : TcpExpect::Kind::RString;
    r.expect.pattern = std::string(re);
    r.expect.regex = *Regex::compile(re);
    r.expect.min_recv = min_recv;
    r.expect.error_status = error;
    return r;
}

TcpRule expect_custom(TcpExpect::Kind kind) {
    TcpRule r;
    r.op = TcpRule::Op::Expect;
    r.expect.kind = kind;
    return r;
}

}  // namespace

TcpRules redis_rules() {
    TcpRules set;
    set.builtin = true;
    set.rules.push_back(send("*1\r\n$4\r\nPING\r\n"));
    TcpRule e;
    e.op = TcpRule::Op::Expect;
    e.expect.kind = TcpExpect::Kind::String;
    e.expect.pattern = "+PONG\r\n";
    e.expect.error_status = Status::L7Status;
    e.expect.on_error = InfoFrom::Line;
    e.expect.on_success = InfoFrom::Fixed;
    e.expect.success_text = "Redis server is ok";
    set.rules.push_back(std::move(e));
    return set;
}

TcpRules smtp_rules(std::string_view verb, std::string_view domain) {
    TcpRules set;
    set.builtin = true;
    // The greeting, then the answer to HELO/EHLO: any 3-digit code is a protocol answer, and
    // only 2xx passes (a 554 greeting is "Layer7 wrong status, code: 554").
    auto any_code = [](std::string_view re) {
        TcpRule r = expect_regex(re, false, 4, Status::L7Response);
        r.expect.on_error = InfoFrom::Line;
        return r;
    };
    auto two_xx = [](std::string_view re, bool last) {
        TcpRule r = expect_regex(re, false, 4, Status::L7Status);
        r.expect.on_error = InfoFrom::AfterCode;
        r.expect.code_from_answer = true;
        if (last) r.expect.on_success = InfoFrom::AfterCode;
        return r;
    };
    set.rules.push_back(any_code("^[0-9]{3}[ \r]"));
    set.rules.push_back(two_xx("^2[0-9]{2}[ \r]", false));
    set.rules.push_back(send(fmt::format("{} {}\r\n", verb, domain)));
    set.rules.push_back(any_code("^[0-9]{3}[- \r]"));
    set.rules.push_back(two_xx("^2[0-9]{2}[- \r]", true));
    return set;
}

TcpRules pgsql_rules(std::string_view user) {
    TcpRules set;
    set.builtin = true;
    // A StartupMessage: length, protocol 3.0, "user" NAME, and the closing NUL.
    std::string body;
    body.append("\x00\x03\x00\x00", 4);
    body += "user";
    body += '\0';
    body += user;
    body += '\0';
    body += '\0';
    const auto len = static_cast<std::uint32_t>(body.size() + 4);
    std::string packet;
    for (int shift = 24; shift >= 0; shift -= 8)
        packet += static_cast<char>((len >> shift) & 0xff);
    packet += body;
    set.rules.push_back(send(std::move(packet)));
    TcpRule not_error = expect_regex("^E", false, 5, Status::L7Response);
    not_error.expect.negate = true;
    not_error.expect.on_error = InfoFrom::PgError;
    set.rules.push_back(std::move(not_error));
    // AuthenticationOk: 'R', length 8, code 0.
    TcpRule auth_ok = expect_regex("^520000000800000000", true, 9, Status::L7Status);
    auth_ok.expect.on_error = InfoFrom::Fixed;
    auth_ok.expect.error_text = "PostgreSQL unknown error";
    auth_ok.expect.on_success = InfoFrom::Fixed;
    auth_ok.expect.success_text = "PostgreSQL server is ok";
    set.rules.push_back(std::move(auth_ok));
    return set;
}

TcpRules ldap_rules() {
    TcpRules set;
    set.builtin = true;
    // An anonymous simple bind, LDAPv3, message id 1.
    set.rules.push_back(
        send(std::string("\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", 14)));
    set.rules.push_back(expect_custom(TcpExpect::Kind::Ldap));
    return set;
}

TcpRules ssl_hello_rules() {
    TcpRules set;
    set.builtin = true;
    // An SSLv3 ClientHello offering the old suites: any TLS record back (a handshake or an
    // alert) shows a TLS stack is listening.
    std::string hello;
    hello.append("\x16\x03\x00\x00\x79", 5);      // handshake record, 121 bytes
    hello.append("\x01\x00\x00\x75\x03\x00", 6);  // ClientHello, 117 bytes, version 3.0
    const auto now = static_cast<std::uint32_t>(std::time(nullptr));
    for (int shift = 24; shift >= 0; shift -= 8)
        hello += static_cast<char>((now >> shift) & 0xff);
    hello += "HAPROXYSSLCHK\nHAPROXYSSLCHK\n";  // the rest of the 32 random bytes
    hello += '\0';                              // no session id
    hello.append("\x00\x4e", 2);                // 39 cipher suites
    for (int s = 0x01; s <= 0x1b; ++s) {
        hello += '\0';
        hello += static_cast<char>(s);
    }
    for (int s = 0x2f; s <= 0x3a; ++s) {
        hello += '\0';
        hello += static_cast<char>(s);
    }
    hello.append("\x01\x00", 2);  // null compression only
    set.rules.push_back(send(std::move(hello)));
    TcpRule r = expect_regex("^1[56]", true, 5, Status::L6Response);
    r.expect.ok_status = Status::L6Ok;
    r.expect.timeout_status = Status::L6Timeout;
    set.rules.push_back(std::move(r));
    return set;
}

TcpRules mysql_rules(std::string_view user, bool post41) {
    TcpRules set;
    set.builtin = true;
    // A FIN rather than a reset: MySQL counts aborted connections against the checking host
    // (max_connect_errors) and ends up refusing it.
    TcpRule connect;
    connect.op = TcpRule::Op::Connect;
    connect.linger = true;
    set.rules.push_back(std::move(connect));
    if (!user.empty()) {
        // The client authentication goes out at once (no password, so the server's scramble
        // is not needed), followed by COM_QUIT so the server ends the session cleanly.
        std::string body;
        if (post41) {
            body.append("\x00\x82\x00\x00", 4);  // capabilities (4.1 protocol, secure auth)
            body.append("\x00\x80\x00\x01", 4);  // max packet size
            body += '\x21';                      // utf8_general_ci
            body.append(23, '\0');               // reserved
        } else {
            body.append("\x00\x80", 2);      // capabilities
            body.append("\x00\x00\x01", 3);  // max packet size
        }
        body += user;
        body += '\0';
        body += '\0';  // an empty auth response
        std::string packet;
        const std::size_t len = body.size();
        packet += static_cast<char>(len & 0xff);
        packet += static_cast<char>((len >> 8) & 0xff);
        packet += static_cast<char>((len >> 16) & 0xff);
        packet += '\x01';  // sequence id
        packet += body;
        packet.append("\x01\x00\x00\x00\x01", 5);  // COM_QUIT, sequence 0
        set.rules.push_back(send(std::move(packet)));
    }
    set.rules.push_back(expect_custom(TcpExpect::Kind::Mysql));
    if (!user.empty()) {
        TcpRule ok = expect_custom(TcpExpect::Kind::Mysql);
        ok.expect.after_handshake = true;
        set.rules.push_back(std::move(ok));
    }
    return set;
}

namespace {

std::size_t le(std::string_view a, std::size_t at, int bytes) {
    std::size_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        const std::size_t k = at + static_cast<std::size_t>(i);
        v = v * 256 + (k < a.size() ? static_cast<unsigned char>(a[k]) : 0);
    }
    return v;
}

// One MySQL packet: the server's handshake, or the packet after it. An ERR packet (0xff) is a
// wrong status with the server's error code and text; a short answer an invalid response.
Verdict mysql_verdict(const TcpExpect& e, std::string_view a, bool last) {
    const Verdict wait{};
    const Verdict truncated{Verdict::What::Fail, {Status::L7Response, 0, {}}};
    const std::size_t offset = e.after_handshake ? 4 + le(a, 0, 3) : 0;
    if (a.size() < offset + 4) return last ? truncated : wait;
    const std::size_t len = le(a, offset, 3);
    if (a.size() < offset + 4 + len) return last ? truncated : wait;
    if (a.size() > offset + 4 && static_cast<unsigned char>(a[offset + 4]) == 0xff) {
        std::string_view text = a.size() > offset + 7 ? a.substr(offset + 7) : std::string_view();
        text = text.substr(0, text.find('\0'));
        // HAProxy keeps 127 bytes of a check's text.
        text = text.substr(0, 127);
        return {Verdict::What::Fail,
                {Status::L7Status, static_cast<int>(le(a, offset + 5, 2)), std::string(text)}};
    }
    // The server's version would be at hand, but HAProxy 2.6 reports a passing MySQL check
    // without any text.
    return {Verdict::What::Pass, {Status::L7Ok, 0, {}}};
}

// LDAP's BindResponse: SEQUENCE { messageID 1, [APPLICATION 1] { resultCode ENUMERATED ... } }.
Verdict ldap_verdict(std::string_view a, bool last) {
    Verdict v;
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(a[i]); };
    if (a.size() < 2) {
        if (last) {
            v.what = Verdict::What::Fail;
            v.outcome = {Status::L7Response, 0, "Not LDAPv3 protocol"};
        }
        return v;
    }
    std::size_t pos = 2;
    if (byte(0) != 0x30) {
        v.what = Verdict::What::Fail;
        v.outcome = {Status::L7Response, 0, "Not LDAPv3 protocol"};
        return v;
    }
    std::size_t len = byte(1);
    if (len & 0x80) {
        const std::size_t n = len & 0x7f;
        if (a.size() < 2 + n)
            return last ? Verdict{Verdict::What::Fail,
                                  {Status::L7Response, 0, "Not LDAPv3 protocol"}}
                        : v;
        len = 0;
        for (std::size_t i = 0; i < n; ++i)
            len = len * 256 + byte(2 + i);
        pos = 2 + n;
    }
    if (a.size() < pos + len) {
        if (last) v = {Verdict::What::Fail, {Status::L7Response, 0, "Not LDAPv3 protocol"}};
        return v;
    }
    // messageID 1, then the BindResponse tag, then its length, then resultCode.
    const std::string_view msg = a.substr(pos, len);
    std::size_t p = 0;
    auto bad = [&] {
        return Verdict{Verdict::What::Fail, {Status::L7Response, 0, "Not LDAPv3 protocol"}};
    };
    if (msg.size() < 5 || msg.substr(0, 3) != std::string_view("\x02\x01\x01", 3) ||
        static_cast<unsigned char>(msg[3]) != 0x61)
        return bad();
    p = 4;
    std::size_t blen = static_cast<unsigned char>(msg[p++]);
    if (blen & 0x80) p += blen & 0x7f;
    if (msg.size() < p + 3 || msg[p] != 0x0a || msg[p + 1] != 0x01) return bad();
    if (msg[p + 2] != 0)
        return {Verdict::What::Fail,
                {Status::L7Status, static_cast<unsigned char>(msg[p + 2]),
                 "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"}};
    return {Verdict::What::Pass, {Status::L7Ok, 0, {}}};
}

// An exchange of an http-check sequence: the answer's head, and its body when a rule reads it
// (up to Content-Length, else until the server closes), judged by the exchange's rules.
Verdict http_verdict(const TcpExpect& e, std::string_view a, bool last) {
    const Verdict invalid{Verdict::What::Fail, {Status::L7Response, -1, {}}};
    http::ResponseHead head;
    const auto bytes = std::as_bytes(std::span(a.data(), a.size()));
    http::ParseOptions opts;
    opts.accept_invalid = true;
    const http::HeadResult r = http::parse_response_head(bytes, 0, head, opts);
    if (std::holds_alternative<http::Incomplete>(r)) return last ? invalid : Verdict{};
    if (std::holds_alternative<http::Invalid>(r)) return invalid;
    const std::size_t head_len = std::get<http::Done>(r).consumed;
    std::string_view body = a.substr(head_len);
    if (e.needs_body && !last) {
        const http::Header* cl = head.headers.find("content-length");
        if (!cl) return {};
        auto len = util::parse_uint(cl->value);
        if (!len || body.size() < *len) return {};
        body = body.substr(0, *len);
    }
    const HttpAnswer answer{
        .status = head.status, .reason = head.reason, .headers = &head.headers, .body = body};
    std::size_t decided = std::string::npos;
    Outcome o = evaluate_http(e.http, answer, e.disable_on_404, &decided);
    const auto what = passed(o.status) ? Verdict::What::Pass : Verdict::What::Fail;
    return {what, std::move(o), decided};
}

}  // namespace

Verdict custom_verdict(const TcpExpect& e, std::string_view a, bool last) {
    if (e.kind == TcpExpect::Kind::Mysql) return mysql_verdict(e, a, last);
    if (e.kind == TcpExpect::Kind::Http) return http_verdict(e, a, last);
    return ldap_verdict(a, last);
}

}  // namespace sluice::check
