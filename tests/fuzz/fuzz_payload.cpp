// Fuzzes the payload fetches (sample/fetch_payload.cpp) with arbitrary bytes as what the client
// sent (and the server, for res.*): req.payload, req.payload_lv, res.payload(_lv) with fixed
// arguments and with arguments taken from the input's first bytes, and the ClientHello fetches
// (req.ssl_hello_type, req.ssl_ver, req.ssl_sni, req.ssl_alpn and its ACL iteration,
// req.ssl_ec_ext, req.ssl_st_ext). Each is evaluated on the input as a payload that is final
// and as one that is not, and on prefixes of it that are not; every buffer is a heap block of
// exactly its size, so AddressSanitizer catches a read past its end. Checked for every input:
//  - a string answer is a view into the buffer it was read from, of the announced type;
//  - may_change is raised only when the payload is not final, and only with no answer;
//  - what a payload that is not final answers without may_change is what it answers once final
//    (a content rule decides on it without waiting); with may_change, final is "none";
//  - what a prefix answers without may_change is what the whole input answers: more bytes do
//    not change a decision already made (except req.payload with length 0, "what has come");
//  - integers in their ranges: a handshake type is a byte, ssl_st_ext 0 to 2, ssl_ec_ext true;
//  - req.ssl_alpn's first value as a sample is the first the ACL iteration visits.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/expr.hpp"
#include "sluice/sample/payload.hpp"

namespace {

using namespace sluice;
using sample::Type;
using sample::Use;

constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

constexpr std::string_view kFixed[] = {
    "req.payload(0,1)",
    "req.payload(0,5)",
    "req.payload(3,2)",
    "req.payload(0,0)",
    "req.payload(5,0)",
    "req.payload(9223372036854775807,9223372036854775807)",
    "payload(1,0)",
    "req.payload_lv(0,1)",
    "req.payload_lv(3,2)",
    "req.payload_lv(1,3)",
    "req.payload_lv(0,4)",
    "req.payload_lv(0,1,+1)",
    "req.payload_lv(2,2,-4)",
    "req.payload_lv(0,1,4)",
    "req.payload_lv(3,2,+9223372036854775807)",
    "payload_lv(0,2,-0)",
    "res.payload(0,3)",
    "res.payload(2,0)",
    "res.payload_lv(0,1)",
    "res.payload_lv(1,2,+1)",
    "req.ssl_hello_type",
    "req_ssl_hello_type",
    "req.ssl_ver",
    "req_ssl_ver",
    "req.ssl_sni",
    "req_ssl_sni",
    "req.ssl_alpn",
    "req.ssl_ec_ext",
    "req.ssl_st_ext",
};

struct Case {
    sample::Expr expr;
    bool res = false;    // reads the response buffer
    bool stable = true;  // its answer cannot grow with more bytes (see the header)
};

Case make_case(sample::Expr e) {
    Case c{.expr = std::move(e)};
    const std::string_view name = c.expr.fetch->name;
    c.res = name.starts_with("res.");
    const bool fixed_payload = name == "req.payload" || name == "payload" || name == "res.payload";
    c.stable = !(fixed_payload && c.expr.fetch_args.list[1].sint == 0);
    return c;
}

const std::vector<Case>& fixed_cases() {
    static const std::vector<Case> cases = [] {
        std::vector<Case> out;
        for (std::string_view text : kFixed) {
            auto e = sample::parse_expr(text, kAll);
            check(e.ok());
            out.push_back(make_case(std::move(*e)));
        }
        return out;
    }();
    return cases;
}

// A heap block of exactly `n` bytes holding a copy of `in`.
struct Buffer {
    std::unique_ptr<std::byte[]> bytes;
    std::span<const std::byte> view;
    explicit Buffer(std::span<const std::uint8_t> in) : bytes(new std::byte[in.size()]) {
        if (!in.empty()) std::memcpy(bytes.get(), in.data(), in.size());
        view = {bytes.get(), in.size()};
    }
};

bool inside(std::string_view v, std::span<const std::byte> buf) {
    const char* b = reinterpret_cast<const char*>(buf.data());
    return v.data() >= b && v.data() + v.size() <= b + buf.size();
}

struct Answer {
    bool found = false;
    bool may_change = false;
    Type type = Type::Any;
    std::int64_t sint = 0;
    std::string str;
    std::vector<std::string> each;  // what Fetch::each visits, when the fetch has it
};

bool same(const Answer& a, const Answer& b) {
    return a.found == b.found && a.type == b.type && a.sint == b.sint && a.str == b.str &&
           a.each == b.each;
}

Answer evaluate(const Case& c, std::span<const std::uint8_t> in, bool final) {
    const Buffer req(in), res(in);
    sample::Payload p{.req = req.view, .res = res.view, .final = final};
    const std::span<const std::byte> read = c.res ? res.view : req.view;
    sample::Arena arena;
    Answer a;
    {
        sample::Context ctx(arena);
        ctx.attach(&p);
        sample::Sample s;
        a.found = c.expr.eval(ctx, s);
        a.may_change = ctx.may_change;
        if (a.found) {
            a.type = s.type;
            check(s.type == c.expr.fetch->out);
            if (s.type == Type::Str || s.type == Type::Bin) {
                check(inside(s.str, read));
                a.str = std::string(s.str);
            } else {
                a.sint = s.sint;
            }
        }
    }
    if (c.expr.fetch->each) {
        sample::Context ctx(arena);
        ctx.attach(&p);
        struct State {
            std::span<const std::byte> read;
            std::vector<std::string>* out;
        } st{read, &a.each};
        c.expr.fetch->each(
            c.expr.fetch_args, ctx,
            [](void* state, sample::Sample& v) {
                auto* s = static_cast<State*>(state);
                check(v.type == Type::Str && inside(v.str, s->read));
                s->out->emplace_back(v.str);
                return true;
            },
            &st);
        // The iteration waits exactly when the single fetch does; its first value is the sample.
        check(ctx.may_change == a.may_change);
        check(a.found == !a.each.empty());
        check(!a.found || a.each.front() == a.str);
    }
    // may_change: only while more may come, and only with no answer.
    check(!a.may_change || (!final && !a.found));
    return a;
}

void check_ranges(const Case& c, const Answer& a) {
    if (!a.found) return;
    const std::string_view name = c.expr.fetch->name;
    if (name.ends_with("ssl_hello_type")) check(a.sint >= 0 && a.sint <= 255);
    if (name.ends_with("ssl_ver")) check(a.sint >= 0 && a.sint <= 0xff00ff);
    if (name == "req.ssl_st_ext") check(a.sint >= 0 && a.sint <= 2);
    if (name == "req.ssl_ec_ext") check(a.sint == 1);
    if (name.ends_with("ssl_sni") || name == "req.ssl_alpn") check(!a.str.empty());
}

// Prefix lengths to try: the first few, around the record's end, and some picked from the data.
std::vector<std::size_t> prefixes(std::span<const std::uint8_t> in) {
    std::vector<std::size_t> out;
    for (std::size_t n = 0; n < 10 && n < in.size(); ++n)
        out.push_back(n);
    if (in.size() >= 5) {
        const std::size_t record = 5 + (std::size_t{in[3]} << 8 | in[4]);
        for (std::size_t n : {record - 1, record, record + 1})
            if (n > 9 && n < in.size()) out.push_back(n);
    }
    std::uint64_t h = 1469598103934665603ULL;
    for (std::uint8_t b : in)
        h = (h ^ b) * 1099511628211ULL;
    for (int i = 0; i < 6 && in.size() > 10; ++i) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        out.push_back(10 + static_cast<std::size_t>((h >> 33) % (in.size() - 10)));
    }
    return out;
}

void fuzz_case(const Case& c, std::span<const std::uint8_t> in,
               const std::vector<std::size_t>& cuts) {
    const Answer fin = evaluate(c, in, true);
    const Answer more = evaluate(c, in, false);
    check_ranges(c, fin);
    // What a rule decides on without waiting is what it would decide on once final.
    if (!more.may_change)
        check(same(more, fin));
    else
        check(!fin.found);
    if (!c.stable) return;
    for (std::size_t n : cuts) {
        const Answer part = evaluate(c, in.first(n), false);
        if (!part.may_change) check(same(part, more));
    }
}

// payload and payload_lv with arguments from the first bytes of the input.
void fuzz_arguments(std::span<const std::uint8_t> in, const std::vector<std::size_t>& cuts) {
    if (in.size() < 3) return;
    std::string texts[2] = {
        "req.payload(" + std::to_string(in[0] % 24) + "," + std::to_string(in[1] % 6) + ")",
        "req.payload_lv(" + std::to_string(in[0] % 12) + "," + std::to_string(1 + in[1] % 4),
    };
    const char* signs[] = {"", ",+", ",-", ","};
    if (in[2] >> 6) texts[1] += signs[in[2] >> 6] + std::to_string(in[2] % 16);
    texts[1] += ")";
    for (const std::string& t : texts) {
        auto e = sample::parse_expr(t, kAll);
        if (!e) continue;  // a relative offset before the buffer
        fuzz_case(make_case(std::move(*e)), in, cuts);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    const std::vector<std::size_t> cuts = prefixes(in);
    for (const Case& c : fixed_cases())
        fuzz_case(c, in, cuts);
    fuzz_arguments(in, cuts);
    return 0;
}
