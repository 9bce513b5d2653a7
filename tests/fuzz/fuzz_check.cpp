// Fuzzes the health checks' parsers and matchers (check/expect.cpp). The input is split at the
// first NUL: before it, the words of an `http-check expect` line (split on spaces); after it, a
// server's answer, parsed as an HTTP response and matched by the rule. Checked for every input:
//  - parsing never crashes, and a refused line says why;
//  - an accepted rule matched on any answer gives a status HAProxy can show (a pass, or a
//    Layer7 failure), with the answer's code;
//  - last_raw_word stays inside the line and quoting_warning handles any pair of words;
//  - the same words read as a `tcp-check` line (tcpcheck.cpp) parse or say why (variable
//    actions and log-format sends then run on a check's variables), and an expect
//    rule judges the answer as raw bytes (waiting only while more may come); the protocol
//    checks' rules (LDAP's BindResponse and MySQL's packet readers among them) judge it too;
//  - the answer read as an agent check's reply (agent.cpp): every word it keeps lies inside
//    the first line, and the weight and maxconn words and the info text are computed safely.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/check/agent.hpp"
#include "sluice/check/expect.hpp"
#include "sluice/check/tcpcheck.hpp"
#include "sluice/http/h1_parse.hpp"

namespace {

void require(bool ok) {
    if (!ok) __builtin_trap();
}

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() &&
                            part.data() + part.size() <= whole.data() + whole.size());
}

void judge_agent(std::string_view answer) {
    using sluice::check::AgentReply;
    const AgentReply r = sluice::check::parse_agent_reply(answer);
    // A NUL before the line's end leaves no line (HAProxy reads a C string).
    const std::size_t eol = answer.find_first_of("\r\n");
    const bool nul_first = answer.substr(0, eol).find('\0') != std::string_view::npos;
    require(r.complete == (eol != std::string_view::npos && !nul_first));
    if (!r.complete) {
        require(r.health == AgentReply::Health::None && r.admin == AgentReply::Admin::None);
        return;
    }
    const std::string_view line = answer.substr(0, eol);
    for (std::string_view w : {r.health_word, r.weight, r.maxconn, r.error, r.comment})
        require(inside(w, line));
    require((r.health == AgentReply::Health::None) == r.health_word.empty());
    if (!r.weight.empty()) {
        const auto w = sluice::check::agent_weight(r.weight, 256);
        require(w.value.has_value() != !w.warning.empty());
        require(!w.value || *w.value <= 256);
    }
    if (!r.maxconn.empty() || answer.find(':') != std::string_view::npos) {
        const auto m = sluice::check::agent_maxconn(r.maxconn);
        require(m.value.has_value() != !m.warning.empty());
    }
    (void)sluice::check::agent_info(r, "w");
}

void judge_tcp(const sluice::check::TcpRule& r, std::string_view answer) {
    using sluice::check::Verdict;
    if (r.action || r.format || r.expect.pattern_format) {
        // Variable actions and log-format sends evaluate on a check's own variables.
        sluice::sample::VarStore store;
        sluice::sample::Vars vars;
        vars.check = &store;
        sluice::sample::Arena arena;
        sluice::sample::Context ctx(arena);
        ctx.attach(&vars);
        if (r.action) sluice::check::run_action(*r.action, ctx);
        if (r.format) (void)sluice::check::render_send(r, ctx);
        if (r.expect.pattern_format) {
            sluice::check::TcpRule rendered;
            if (!sluice::check::render_pattern(r, ctx, rendered)) {
                const Verdict v = sluice::check::evaluate_tcp(rendered, 1, answer, true);
                require(v.what != Verdict::What::Wait);
            }
        }
        return;
    }
    if (r.op != sluice::check::TcpRule::Op::Expect) return;
    const Verdict last = sluice::check::evaluate_tcp(r, 1, answer, true);
    require(last.what != Verdict::What::Wait);
    const Verdict more = sluice::check::evaluate_tcp(r, 1, answer, false);
    require(more.what == Verdict::What::Wait || more.what == last.what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sluice;
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = all.find('\0');
    const std::string_view line = all.substr(0, nul);
    const std::string_view answer = nul == std::string_view::npos ? "" : all.substr(nul + 1);

    judge_agent(answer);
    judge_agent(all);

    const std::string_view raw = check::last_raw_word(line);
    require(raw.empty() ||
            (raw.data() >= line.data() && raw.data() + raw.size() <= line.data() + line.size()));
    (void)check::quoting_warning(raw, line);

    std::vector<std::string> words;
    std::size_t pos = 0;
    while (pos < line.size()) {
        const std::size_t sp = line.find(' ', pos);
        const std::size_t end = sp == std::string_view::npos ? line.size() : sp;
        if (end > pos) words.emplace_back(line.substr(pos, end - pos));
        pos = end + 1;
    }
    if (auto tcp = check::parse_tcp_check(words); !tcp) {
        require(!tcp.error().empty());
    } else {
        judge_tcp(*tcp, answer);
    }
    for (const auto& set : {check::redis_rules(), check::smtp_rules("EHLO", "x"),
                            check::pgsql_rules("u"), check::ldap_rules(), check::ssl_hello_rules(),
                            check::mysql_rules("u", true), check::mysql_rules("", false)})
        for (const auto& r : set.rules)
            judge_tcp(r, answer);

    std::string warning;
    auto rule = check::parse_http_expect(words, warning);
    if (!rule) {
        require(!rule.error().empty());
        return 0;
    }
    http::ResponseHead head;
    const auto bytes = std::as_bytes(std::span(answer.data(), answer.size()));
    const auto r = http::parse_response_head(bytes, 0, head, {.accept_invalid = true});
    if (!std::holds_alternative<http::Done>(r)) return 0;
    const std::size_t n = std::get<http::Done>(r).consumed;
    const check::HttpAnswer a{head.status, head.reason, &head.headers, answer.substr(n)};
    const std::vector<check::Expect> rules{*rule};
    for (bool on404 : {false, true}) {
        const check::Outcome o = check::evaluate_http(rules, a, on404);
        require(o.status != check::Status::Unknown && o.status != check::Status::Layer7Data);
        require(o.code == head.status);
    }
    return 0;
}
