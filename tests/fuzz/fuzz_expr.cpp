// Fuzzes the sample engine from config text: sample expressions (sample/expr.cpp and every
// fetch and converter behind them), rule formats (sample/format.cpp), ACL lines and conditions
// (sample/acl.cpp, the pattern sets). The input is parsed as an expression, as a format, and,
// split on spaces into words, as an ACL line and as a condition (over a table holding one ACL);
// whatever parses is evaluated against a fixed request and response, in request and in
// response rules, with variables and captures attached. Checked for every input:
//  - parse_expr_prefix takes at least one byte and at most the input; parse_expr accepts exactly
//    the inputs that the prefix parse takes whole, with the same text;
//  - an evaluated sample has a concrete type (never Any or Addr), and its bytes can be read
//    (AddressSanitizer catches a view into freed memory);
//  - a format that parses renders; an ACL line and a condition that parse evaluate.
// Inputs that would read files (`-f`, the map converters) or touch process-wide variables
// (`proc.`) are skipped, and so are inputs with many commas: a chain of growing converters
// (hex,hex,hex...) legitimately builds exponentially large samples.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sluice/http/capture.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/net/address.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/sample/capture.hpp"
#include "sluice/sample/connection.hpp"
#include "sluice/sample/expr.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/sample/vars.hpp"

namespace {

using namespace sluice;
using sample::Type;
using sample::Use;

constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;
constexpr Use kReqAvail = Use::Internal | Use::Conn | Use::Req;
constexpr std::size_t kMaxInput = 512;
constexpr std::size_t kMaxCommas = 6;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

net::Address inet(const char* ip, std::uint16_t port) {
    net::Address a;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    inet_pton(AF_INET, ip, &in.sin_addr);
    std::memcpy(&a.storage, &in, sizeof in);
    a.length = sizeof in;
    return a;
}

// The message every expression is evaluated on: parsed once, never changed.
struct Fixture {
    std::string req_bytes =
        "POST /api/v1/items;jsessionid=42?id=7&name=caf%C3%A9&flag&x=1;y=2 HTTP/1.1\r\n"
        "Host: Www.Example.com:8080\r\n"
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
        "X-Forwarded-For: 10.1.2.3, 2001:db8::1, junk, 192.168.0.1:8080\r\n"
        "Cookie: a=1; b=two; a=3; empty=; flagonly\r\n"
        "Cookie: c=\"quoted\"\r\n"
        "X-Multi: one, two,three\r\n"
        "X-Multi: four\r\n"
        "X-Empty:\r\n"
        "X-Num: -42abc\r\n"
        "Content-Length: 5\r\n"
        "\r\n";
    std::string res_bytes =
        "HTTP/1.1 302 Found\r\n"
        "Location: https://example.com/login?next=%2F\r\n"
        "Set-Cookie: sid=abc; Path=/; HttpOnly\r\n"
        "Set-Cookie: sid=def\r\n"
        "Server: backend-1\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    http::RequestHead req;
    http::ResponseHead res;
    http::Txn txn;
    net::Address src = inet("192.0.2.10", 40000);
    net::Address dst = inet("198.51.100.1", 443);
    sample::Connection conn;
    sample::AclTable table;
    sample::CaptureConf captures{.req = {{.header = "Host", .len = 8},
                                         {.header = {}, .len = 4},
                                         {.header = "x-multi", .len = 20}},
                                 .res = {{.header = "Server", .len = 6}, {.header = {}, .len = 3}}};

    Fixture() {
        const auto r = http::parse_request_head(
            std::as_bytes(std::span<const char>(req_bytes.data(), req_bytes.size())), 0, req);
        check(std::holds_alternative<http::Done>(r));
        const auto s = http::parse_response_head(
            std::as_bytes(std::span<const char>(res_bytes.data(), res_bytes.size())), 0, res);
        check(std::holds_alternative<http::Done>(s));
        txn.req = &req;
        txn.res = &res;
        txn.req_len = req_bytes.size() + 5;
        txn.req_body = "hello";
        conn.src = &src;
        conn.dst = &dst;
        const std::vector<std::string> words = {"path_beg", "/api", "/v2"};
        auto line = sample::parse_acl_line(words);
        check(line.ok());
        table.add("a", std::move(*line));
    }
};

// Reads every byte of a sample the way a rule would use it.
std::size_t consume(sample::Sample& s, sample::Arena& arena) {
    check(s.type != Type::Any && s.type != Type::Addr);
    std::size_t n = 0;
    if (s.type == Type::Str || s.type == Type::Bin || s.type == Type::Meth) {
        for (char c : s.str)
            n += static_cast<unsigned char>(c);
    }
    if (sample::cast(s, Type::Str, arena)) n += std::string(s.str).size();
    return n;
}

struct Evaluation {
    sample::Arena arena;
    sample::Context ctx{arena};
    sample::VarStore sess, txn_vars, req_vars, res_vars;
    sample::Vars vars{.sess = &sess, .txn = &txn_vars, .req = &req_vars, .res = &res_vars};
    sample::CapturesPtr captures;

    Evaluation(Fixture& f, bool response) : captures(sample::take_captures(f.captures)) {
        http::capture_request(f.captures, f.req, *captures, true);
        http::capture_response(f.captures, f.res, *captures);
        ctx.attach(&f.txn);
        ctx.attach(&f.conn);
        ctx.attach(&vars);
        ctx.attach(captures.get());
        ctx.response = response;
    }
};

volatile std::size_t g_sink;

void fuzz_expression(Fixture& f, std::string_view in) {
    auto prefix = sample::parse_expr_prefix(in, kAll);
    auto whole = sample::parse_expr(in, kAll);
    if (prefix) {
        check(prefix->consumed > 0 && prefix->consumed <= in.size());
        check(prefix->expr.text == in.substr(0, prefix->consumed));
    }
    check(whole.ok() == (prefix.ok() && prefix->consumed == in.size()));
    if (!whole) return;
    check(whole->text == in);
    (void)whole->type();
    for (bool response : {false, true}) {
        Evaluation e(f, response);
        for (int round = 0; round < 2; ++round) {  // twice: set-var then var() see the store
            sample::Sample s;
            if (whole->eval(e.ctx, s)) g_sink = g_sink + consume(s, e.arena);
        }
    }
}

void fuzz_format(Fixture& f, std::string_view in) {
    auto fmt = sample::Format::parse(in, kAll);
    if (!fmt) return;
    check(fmt->text() == in);
    Evaluation e(f, false);
    std::string out;
    fmt->render(e.ctx, out);
    e.arena.reset();
    fmt->render(e.ctx, out);
    g_sink = g_sink + out.size();
}

std::vector<std::string> split_words(std::string_view in) {
    std::vector<std::string> words;
    std::size_t at = 0;
    while (at < in.size()) {
        const std::size_t sp = in.find(' ', at);
        const std::size_t end = sp == std::string_view::npos ? in.size() : sp;
        if (end > at) words.emplace_back(in.substr(at, end - at));
        at = end + 1;
    }
    return words;
}

void fuzz_acl(Fixture& f, const std::vector<std::string>& words) {
    auto line = sample::parse_acl_line(words);
    if (!line) return;
    for (bool response : {false, true}) {
        Evaluation e(f, response);
        g_sink = g_sink + line->match(e.ctx);
    }
    // As a named ACL of its own, OR-ed with the fixture's.
    sample::AclTable table;
    table.add("x", std::move(*line));
    const sample::Acl* acl = table.find("x");
    check(acl != nullptr && acl->lines.size() == 1);
}

void fuzz_condition(Fixture& f, std::vector<std::string> words) {
    if (words.empty() || (words[0] != "if" && words[0] != "unless"))
        words.insert(words.begin(), "if");
    for (Use available : {kAll, kReqAvail}) {
        auto cond = sample::parse_condition(words, f.table, available);
        if (!cond) continue;
        check(!cond->any_of.empty());
        for (const auto& group : cond->any_of) {
            check(!group.empty());
            for (const auto& term : group)
                check(term.acl != nullptr && sample::covers(available, term.acl->use));
        }
        for (bool response : {false, true}) {
            Evaluation e(f, response);
            g_sink = g_sink + cond->eval(e.ctx);
        }
    }
    check(sample::condition_start(words) == 0);
}

bool skipped(std::string_view in) {
    if (in.size() > kMaxInput) return true;
    if (in.find("-f") != std::string_view::npos) return true;   // pattern files
    if (in.find("map") != std::string_view::npos) return true;  // map files
    if (in.find("proc.") != std::string_view::npos) return true;
    std::size_t commas = 0;
    for (char c : in)
        commas += c == ',';
    return commas > kMaxCommas;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (skipped(in)) return 0;
    static Fixture fixture;
    fuzz_expression(fixture, in);
    fuzz_format(fixture, in);
    const std::vector<std::string> words = split_words(in);
    fuzz_acl(fixture, words);
    fuzz_condition(fixture, words);
    return 0;
}
