// `tcp-check` rules: parsing the words and judging an answer (see tcpcheck.hpp). Messages are
// HAProxy 2.6's, checked against haproxy 2.6.12.
#include "sluice/check/tcpcheck.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sluice/util/units.hpp"

namespace sluice::check {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string to_hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

util::Result<std::uint16_t> tcp_port(std::string_view text) {
    auto v = util::parse_uint(text, 65535);
    if (!v || *v == 0)
        return util::error(fmt::format(
            "expects a valid TCP port (from range 1 to 65535) or a sample expression, got {}.",
            text));
    return static_cast<std::uint16_t>(*v);
}

util::Result<TcpRule> parse_connect(std::span<const std::string> w) {
    TcpRule r;
    r.op = TcpRule::Op::Connect;
    for (std::size_t i = 1; i < w.size(); ++i) {
        const std::string& k = w[i];
        const bool more = i + 1 < w.size();
        if (k == "default") {
        } else if (k == "linger") {
            r.linger = true;
        } else if (k == "send-proxy") {
            r.send_proxy = true;
        } else if (k == "port" && more) {
            const std::string& text = w[++i];
            const bool number =
                !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
            if (!number) {
                auto e = sample::parse_expr(text, sample::Use::Internal);
                if (!e)
                    return util::error(fmt::format(
                        "'tcp-check connect' : error detected while parsing port expression : {}",
                        e.error()));
                r.port_expr = std::make_shared<const sample::Expr>(std::move(*e));
                continue;
            }
            auto p = tcp_port(text);
            if (!p) return util::error(fmt::format("'tcp-check connect' : {}", p.error()));
            r.port = *p;
        } else if (k == "addr" && more) {
            auto a = net::parse_server_address(w[++i]);
            if (!a || (a->address.family() != AF_INET && a->address.family() != AF_INET6))
                return util::error(
                    fmt::format("'tcp-check connect' : expects a valid IPv4/IPv6 address, "
                                "got '{}'",
                                w[i]));
            r.addr = a->address;
        } else if (k == "comment" && more) {
            r.comment = w[++i];
        } else if (k == "ssl" || k == "sni" || k == "alpn" || k == "check-sni") {
            return util::error(fmt::format(
                "'tcp-check connect {}' is not implemented yet; it comes with TLS (roadmap "
                "item 7)",
                k));
        } else if (k == "proto") {
            return util::error(
                "'tcp-check connect proto' is not implemented yet; it comes with HTTP/2 "
                "(roadmap item 10)");
        } else if (k == "via-socks4") {
            return util::error(
                "'tcp-check connect via-socks4' is not supported: sluice has no SOCKS4 server "
                "connections (the 'socks4' server option)");
        } else {
            return util::error(fmt::format(
                "'tcp-check connect' : expects 'comment', 'port', 'addr', 'send-proxy', "
                "'via-socks4', 'ssl', 'sni', 'alpn', 'proto', 'linger', 'default' but got "
                "'{}' as argument.",
                k));
        }
    }
    return r;
}

util::Result<TcpRule> parse_send(std::span<const std::string> w, bool binary) {
    const std::string_view name = w[0];
    const bool lf = name.ends_with("-lf");
    if (w.size() < 2)
        return util::error(fmt::format("'tcp-check {}' expects a {} as argument.", name,
                                       binary ? "<hexstring>" : "<string>"));
    TcpRule r;
    r.op = TcpRule::Op::Send;
    if (lf) {
        // Checks have no connection or transaction to read: constants, the environment and
        // variables only.
        auto f = sample::Format::parse(w[1], sample::Use::Internal);
        if (!f)
            return util::error(fmt::format("'tcp-check {}' : '{}' invalid log-format string ({}).",
                                           name, w[1], f.error()));
        r.format = std::make_shared<const sample::Format>(std::move(*f));
        r.binary = binary;
    } else if (binary) {
        auto b = parse_hex(w[1]);
        if (!b)
            return util::error(
                fmt::format("'tcp-check send-binary' : '{}' invalid binary string "
                            "({}).",
                            w[1], b.error()));
        r.data = std::move(*b);
    } else {
        r.data = w[1];
    }
    for (std::size_t i = 2; i < w.size(); ++i) {
        if (w[i] == "comment" && i + 1 < w.size()) {
            r.comment = w[++i];
        } else {
            return util::error(fmt::format(
                "'tcp-check {}' : expects 'comment' but got '{}' as argument.", name, w[i]));
        }
    }
    return r;
}

util::Result<Status> status_word(std::string_view option, std::string_view word,
                                 std::span<const Status> allowed, std::string_view names) {
    auto st = status_from_name(word);
    if (!st || std::find(allowed.begin(), allowed.end(), *st) == allowed.end())
        return util::error(
            fmt::format("'tcp-check expect' : '{}' only supports {} status (got "
                        "'{}').",
                        option, names, word));
    return *st;
}

util::Result<TcpRule> parse_expect(std::span<const std::string> w) {
    TcpRule r;
    r.op = TcpRule::Op::Expect;
    TcpExpect& e = r.expect;
    bool have_kind = false;
    for (std::size_t i = 1; i < w.size(); ++i) {
        const std::string& k = w[i];
        const bool more = i + 1 < w.size();
        if (k == "!") {
            e.negate = true;
        } else if (k == "min-recv") {
            if (!more)
                return util::error(
                    "'tcp-check expect' : 'min-recv' expects an integer as "
                    "argument.");
            const std::string& t = w[++i];
            auto v = t == "-1" ? util::Result<std::uint64_t>(0) : util::parse_uint(t, INT32_MAX);
            if (!v)
                return util::error(fmt::format(
                    "'tcp-check expect' : 'min-recv' expects an integer as argument, got "
                    "'{}'.",
                    w[i]));
            e.min_recv = t == "-1" ? -1 : static_cast<int>(*v);
        } else if (k == "comment" || k == "ok-status" || k == "error-status" ||
                   k == "tout-status") {
            if (!more)
                return util::error(
                    fmt::format("'tcp-check expect' : '{}' expects a {} as argument.", k,
                                k == "comment" ? "string" : "status"));
            const std::string& v = w[++i];
            if (k == "comment") {
                r.comment = v;
                continue;
            }
            using S = Status;
            util::Result<Status> st = util::error("");
            if (k == "ok-status") {
                static constexpr S kOk[] = {S::L7Ok, S::L7OkConditional, S::L6Ok, S::L4Ok};
                st = status_word(k, v, kOk, "'L7OK', 'L7OKC', 'L6OK' or 'L4OK'");
                if (st) e.ok_status = *st;
            } else if (k == "error-status") {
                static constexpr S kErr[] = {S::L7OkConditional, S::L7Response, S::L7Status,
                                             S::L6Response, S::L4Conn};
                st = status_word(k, v, kErr, "'L4CON', 'L6RSP', 'L7RSP' or 'L7STS'");
                if (st) e.error_status = *st;
            } else {
                static constexpr S kTout[] = {S::L7Timeout, S::L6Timeout, S::L4Timeout};
                st = status_word(k, v, kTout, "'L4TOUT', 'L6TOUT' or 'L7TOUT'");
                if (st) e.timeout_status = *st;
            }
            if (!st) return util::error(st.error());
        } else if (k == "on-success" || k == "on-error") {
            if (!more)
                return util::error(
                    fmt::format("'tcp-check expect' : '{}' expects a log-format string as "
                                "argument.",
                                k));
            auto f = sample::Format::parse(w[++i], sample::Use::Internal);
            if (!f) return util::error(fmt::format("'tcp-check expect' : '{}' : {}", k, f.error()));
            auto shared = std::make_shared<const sample::Format>(std::move(*f));
            (k == "on-success" ? e.on_success_format : e.on_error_format) = std::move(shared);
        } else if (k == "status-code") {
            if (!more)
                return util::error(
                    "'tcp-check expect' : 'status-code' expects a sample expression as "
                    "argument.");
            auto x = sample::parse_expr(w[++i], sample::Use::Internal);
            if (!x)
                return util::error(
                    fmt::format("'tcp-check expect' : 'status-code' : {}", x.error()));
            e.status_code = std::make_shared<const sample::Expr>(std::move(*x));
        } else if (k == "string" || k == "rstring" || k == "binary" || k == "rbinary") {
            if (have_kind)
                return util::error(
                    fmt::format("'tcp-check expect' : only on pattern expected (got '{}')", k));
            if (!more)
                return util::error(
                    fmt::format("'tcp-check expect' : '{}' expects a <pattern> as argument.", k));
            have_kind = true;
            const std::string& p = w[++i];
            if (k == "string") {
                e.kind = TcpExpect::Kind::String;
                e.pattern = p;
            } else if (k == "binary") {
                e.kind = TcpExpect::Kind::Binary;
                auto b = parse_hex(p);
                if (!b)
                    return util::error(fmt::format(
                        "'tcp-check expect' : '{}' invalid binary string ({}).", p, b.error()));
                e.pattern = std::move(*b);
            } else {
                e.kind = k == "rstring" ? TcpExpect::Kind::RString : TcpExpect::Kind::RBinary;
                e.pattern = p;
                auto re = Regex::compile(p);
                if (!re) return util::error(fmt::format("'tcp-check expect' : {}", re.error()));
                e.regex = std::move(*re);
            }
        } else if (k == "string-lf" || k == "binary-lf") {
            if (have_kind)
                return util::error(
                    fmt::format("'tcp-check expect' : only on pattern expected (got '{}')", k));
            if (!more)
                return util::error(
                    fmt::format("'tcp-check expect' : '{}' expects a <pattern> as argument.", k));
            have_kind = true;
            auto f = sample::Format::parse(w[++i], sample::Use::Internal);
            if (!f) return util::error(fmt::format("'tcp-check expect' : '{}' : {}", k, f.error()));
            e.kind = k == "string-lf" ? TcpExpect::Kind::String : TcpExpect::Kind::Binary;
            e.pattern_format = std::make_shared<const sample::Format>(std::move(*f));
        } else {
            return util::error(fmt::format(
                "'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', "
                "'[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got "
                "'{}' as argument.",
                k));
        }
    }
    if (!have_kind)
        return util::error(
            "'tcp-check expect' : expects a pattern type ('string', 'rstring', "
            "'binary' or 'rbinary')");
    return r;
}

std::string_view kind_text(const TcpExpect& e) {
    switch (e.kind) {
        case TcpExpect::Kind::RString:
            return "(regex)";
        case TcpExpect::Kind::RBinary:
            return "(binary regex)";
        default:
            return "(binary)";
    }
}

std::string first_line(std::string_view s) {
    const std::size_t end = s.find_first_of("\r\n");
    return std::string(s.substr(0, end));
}

std::string info_for(InfoFrom from, const std::string& text, std::string_view answer) {
    switch (from) {
        case InfoFrom::Fixed:
            return text;
        case InfoFrom::Line:
            return first_line(answer);
        case InfoFrom::AfterCode: {
            std::string_view rest = answer.size() > 4 ? answer.substr(4) : std::string_view();
            while (!rest.empty() && rest.front() == ' ')
                rest.remove_prefix(1);
            return first_line(rest);
        }
        case InfoFrom::PgError: {
            std::string_view rest = answer.size() > 6 ? answer.substr(6) : std::string_view();
            return std::string(rest.substr(0, rest.find('\0')));
        }
        case InfoFrom::Default:
            break;
    }
    return {};
}

}  // namespace

util::Result<std::string> parse_hex(std::string_view hex) {
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_digit(hex[i]);
        if (hi < 0)
            return util::error(fmt::format("an hex digit is expected (found '{}')", hex[i]));
        if (i + 1 >= hex.size()) return util::error("odd number of digits");
        const int lo = hex_digit(hex[i + 1]);
        if (lo < 0)
            return util::error(fmt::format("an hex digit is expected (found '{}')", hex[i + 1]));
        out += static_cast<char>(hi * 16 + lo);
    }
    return out;
}

util::Result<TcpRule> parse_tcp_check(std::span<const std::string> w) {
    if (w.empty()) return util::error("'tcp-check' expects an action");
    if (w[0] == "connect") return parse_connect(w);
    if (w[0] == "send" || w[0] == "send-binary" || w[0] == "send-lf" || w[0] == "send-binary-lf")
        return parse_send(w, w[0].starts_with("send-binary"));
    if (w[0] == "expect") return parse_expect(w);
    if (w[0].starts_with("set-var") || w[0].starts_with("unset-var")) return parse_var_action(w);
    return util::error(fmt::format(
        "'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', "
        "'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{}'",
        w[0]));
}

util::Result<TcpRule> parse_var_action(std::span<const std::string> w) {
    const std::string& word = w[0];
    const std::size_t open = word.find('(');
    const std::string_view verb = std::string_view(word).substr(0, open);
    if (open == std::string::npos || word.back() != ')' ||
        (verb != "set-var" && verb != "set-var-fmt" && verb != "unset-var"))
        return util::error(fmt::format("'{}' : expects '{}(<var-name>)'", word, verb));
    const std::string_view inner = std::string_view(word).substr(open + 1, word.size() - open - 2);
    const std::size_t comma = inner.find(',');
    auto ref = sample::parse_var_name(inner.substr(0, comma));
    if (!ref) return util::error(fmt::format("'{}' : {}", verb, ref.error()));
    if (comma != std::string_view::npos) {
        if (verb == "unset-var")
            return util::error("'unset-var' : expects only a variable name, no condition");
        std::string_view rest = inner.substr(comma + 1);
        for (;;) {
            const std::size_t next = rest.find(',');
            if (auto st = sample::add_set_condition(*ref, rest.substr(0, next)); !st)
                return util::error(fmt::format("'{}' : {}", verb, st.error()));
            if (next == std::string_view::npos) break;
            rest = rest.substr(next + 1);
        }
    }
    VarAction a;
    a.ref = std::move(*ref);
    if (verb == "unset-var") {
        if (w.size() != 1) return util::error("'unset-var' : takes no argument");
    } else if (w.size() != 2) {
        return util::error(fmt::format("'{}' : expects exactly 1 argument: {}", verb,
                                       verb == "set-var" ? "<expr>" : "<fmt>"));
    } else if (verb == "set-var") {
        auto e = sample::parse_expr(w[1], sample::Use::Internal);
        if (!e) return util::error(fmt::format("'set-var' : {}", e.error()));
        a.expr = std::move(*e);
    } else {
        auto f = sample::Format::parse(w[1], sample::Use::Internal);
        if (!f) return util::error(fmt::format("'set-var-fmt' : {}", f.error()));
        a.format = std::move(*f);
    }
    TcpRule r;
    r.op = TcpRule::Op::Action;
    r.action = std::make_shared<const VarAction>(std::move(a));
    return r;
}

void run_action(const VarAction& a, sample::Context& ctx) {
    if (a.expr) {
        sample::Sample s;
        if (a.expr->eval(ctx, s)) (void)sample::write_var(ctx, a.ref, s);
    } else if (a.format) {
        std::string& text = ctx.arena().take();
        a.format->render(ctx, text);
        (void)sample::write_var(ctx, a.ref, sample::Sample::string(text));
    } else {
        (void)sample::unset_var(ctx, a.ref);
    }
}

void apply_messages(const TcpRule& r, Verdict& v, sample::Context& ctx) {
    const TcpExpect& e = r.expect;
    // A custom reader's own text (MySQL's error, LDAP's) wins over on-error, as in HAProxy.
    if (v.what == Verdict::What::Fail && e.on_error_format && e.kind <= TcpExpect::Kind::RBinary) {
        std::string text;
        e.on_error_format->render(ctx, text);
        if (!r.comment.empty()) text += fmt::format(" comment: {}", r.comment);
        v.outcome.info = std::move(text);
    }
    if (v.what == Verdict::What::Pass && e.on_success_format) {
        v.outcome.info.clear();
        e.on_success_format->render(ctx, v.outcome.info);
    }
    if (e.status_code) {
        sample::Sample s;
        if (e.status_code->eval(ctx, s) && sample::cast(s, sample::Type::Sint, ctx.arena()))
            v.outcome.code = static_cast<int>(s.sint);
    }
}

std::optional<Outcome> render_pattern(const TcpRule& r, sample::Context& ctx, TcpRule& out) {
    out = r;
    std::string text;
    r.expect.pattern_format->render(ctx, text);
    if (text.empty())
        return Outcome{Status::L7Response, -1, "log-format string evaluated to an empty string"};
    if (r.expect.kind == TcpExpect::Kind::Binary) {
        auto bytes = parse_hex(text);
        if (!bytes)
            return Outcome{Status::L7Response, -1,
                           "Failed to parse hexastring resulting of eval of a log-format string"};
        text = std::move(*bytes);
    }
    out.expect.pattern = std::move(text);
    return std::nullopt;
}

util::Result<std::string> render_send(const TcpRule& r, sample::Context& ctx) {
    std::string text;
    if (r.format) r.format->render(ctx, text);
    if (!r.binary) return text;
    return parse_hex(text);
}

std::string step_text(const TcpRule& rule, std::size_t step, bool initial_connect) {
    std::string out;
    if (initial_connect) {
        out = " at initial connection step of tcp-check";
    } else {
        out = fmt::format(" at step {} of tcp-check", step);
        switch (rule.op) {
            case TcpRule::Op::Connect:
                out += rule.port ? fmt::format(" (connect port {})", rule.port) : " (connect)";
                break;
            case TcpRule::Op::Send:
                out += " (send)";
                break;
            case TcpRule::Op::Comment:
            case TcpRule::Op::Action:
                break;
            case TcpRule::Op::Expect:
                if (rule.expect.pattern_format)
                    out += rule.expect.kind == TcpExpect::Kind::String
                               ? " (expect log-format string)"
                               : " (expect log-format binary)";
                else if (rule.expect.kind == TcpExpect::Kind::String)
                    out += fmt::format(" (expect string '{}')", rule.expect.pattern);
                else if (rule.expect.kind == TcpExpect::Kind::Binary)
                    out += " (expect binary)";
                else if (rule.expect.kind == TcpExpect::Kind::RString)
                    out += " (expect regex)";
                else if (rule.expect.kind == TcpExpect::Kind::RBinary)
                    out += " (expect binary regex)";
                else
                    out += " (expect custom function)";
                break;
        }
    }
    if (!rule.comment.empty()) out += fmt::format(" comment: '{}'", rule.comment);
    return out;
}

std::size_t opening_connect(const std::vector<TcpRule>& rules) {
    for (std::size_t i = 0; i < rules.size(); ++i) {
        if (rules[i].op == TcpRule::Op::Connect) return i;
        if (rules[i].op != TcpRule::Op::Comment && rules[i].op != TcpRule::Op::Action) break;
    }
    return std::string::npos;
}

Verdict custom_verdict(const TcpExpect& e, std::string_view answer, bool last);

Verdict evaluate_tcp(const TcpRule& rule, std::size_t step, std::string_view answer, bool last) {
    const TcpExpect& e = rule.expect;
    Verdict v;
    if (e.kind >= TcpExpect::Kind::Mysql) return custom_verdict(e, answer, last);
    if (e.min_recv > 0 && answer.size() < static_cast<std::size_t>(e.min_recv) && !last) return v;
    bool match = false;
    switch (e.kind) {
        case TcpExpect::Kind::String:
        case TcpExpect::Kind::Binary:
            match = answer.find(e.pattern) != std::string_view::npos;
            break;
        case TcpExpect::Kind::RString:
            match = e.regex->search(answer);
            break;
        case TcpExpect::Kind::RBinary:
            match = e.regex->search(to_hex(answer));
            break;
        default:
            break;
    }
    if (!match && !last && e.min_recv == -1) return v;
    int code = 0;
    if (e.code_from_answer && answer.size() >= 3) {
        auto n = util::parse_uint(answer.substr(0, 3), 999);
        if (n) code = static_cast<int>(*n);
    }
    if (match != e.negate) {
        v.what = Verdict::What::Pass;
        v.outcome = {e.ok_status, code, info_for(e.on_success, e.success_text, answer)};
        return v;
    }
    v.what = Verdict::What::Fail;
    v.outcome.status = e.error_status;
    v.outcome.code = code;
    if (e.on_error != InfoFrom::Default) {
        v.outcome.info = info_for(e.on_error, e.error_text, answer);
        return v;
    }
    const std::string_view verb = e.negate ? "matched unwanted" : "did not match";
    if (e.pattern_format)
        v.outcome.info = fmt::format("TCPCHK {} content (log-format {}) at step {}", verb,
                                     e.kind == TcpExpect::Kind::String ? "string" : "binary", step);
    else if (e.kind == TcpExpect::Kind::String)
        v.outcome.info = fmt::format("TCPCHK {} content '{}' at step {}", verb, e.pattern, step);
    else
        v.outcome.info = fmt::format("TCPCHK {} content {} at step {}", verb, kind_text(e), step);
    if (!rule.comment.empty()) v.outcome.info += fmt::format(" comment: {}", rule.comment);
    return v;
}

}  // namespace sluice::check
