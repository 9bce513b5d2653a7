// Fetches on the raw bytes of a connection (sample/fetch_payload.cpp): req.payload,
// req.payload_lv, res.payload(_lv) and the TLS ClientHello fetches (req.ssl_hello_type,
// req.ssl_ver, req.ssl_sni, req.ssl_alpn, req.ssl_ec_ext, req.ssl_st_ext), on real hellos, on
// every truncation of them, on bytes that are not TLS and on hellos whose length fields lie;
// their arguments as a config gives them; and rules::run_content_rules deciding or waiting on
// them. Every byte string is copied into a buffer of exactly its size, so that a read past the
// end is a heap overflow under the sanitizers (-DSLUICE_SANITIZE=ON); tests/fuzz/fuzz_payload.cpp
// checks the same on arbitrary bytes.
//
// Where HAProxy's answer is quoted, it was checked against haproxy 2.6.12: the fetch set into a
// variable by `tcp-request content set-var(...) ... if WAIT_END` and logged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client_hellos.hpp"
#include "sluice/rules/tcp_rules.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/sample/expr.hpp"
#include "sluice/sample/payload.hpp"

namespace sluice::sample {
namespace {

using Bytes = std::vector<std::byte>;
using View = std::span<const std::byte>;

constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;
constexpr Use kReqAvail = Use::Internal | Use::Conn | Use::Req;

// The TLS fetches, each with its older name where HAProxy has one.
constexpr std::string_view kTlsFetches[] = {
    "req.ssl_hello_type", "req_ssl_hello_type", "req.ssl_ver",    "req_ssl_ver",    "req.ssl_sni",
    "req_ssl_sni",        "req.ssl_alpn",       "req.ssl_ec_ext", "req.ssl_st_ext",
};

Bytes bytes(std::string_view s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return Bytes(p, p + s.size());
}
template <std::size_t N>
Bytes bytes(const unsigned char (&a)[N]) {
    const auto* p = reinterpret_cast<const std::byte*>(a);
    return Bytes(p, p + N);
}
Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
void put8(Bytes& b, std::size_t at, unsigned v) {
    b.at(at) = static_cast<std::byte>(v);
}
void put16(Bytes& b, std::size_t at, unsigned v) {
    put8(b, at, v >> 8 & 0xff);
    put8(b, at + 1, v & 0xff);
}

// What one evaluation gave, copied out before the buffers it viewed are gone.
struct Answer {
    bool found = false;
    bool may_change = false;
    Type type = Type::Any;
    std::string text;  // "<none>", the bytes of a string, an integer, "true"/"false"

    const std::string& value() const { return text; }
};

std::string text_of(const Sample& s) {
    switch (s.type) {
        case Type::Str:
        case Type::Bin:
            return std::string(s.str);
        case Type::Sint:
            return std::to_string(s.sint);
        case Type::Bool:
            return s.sint ? "true" : "false";
        default:
            return std::string(type_name(s.type));  // not expected here
    }
}

// A copy of `b` in a heap block of exactly its size: a read past its end is an overflow that the
// sanitizers report (a vector's spare capacity would hide it).
class Exact {
  public:
    explicit Exact(const Bytes& b)
        : bytes_(std::make_unique<std::byte[]>(b.size())), size_(b.size()) {
        std::copy(b.begin(), b.end(), bytes_.get());
    }
    View view() const { return {bytes_.get(), size_}; }

  private:
    std::unique_ptr<std::byte[]> bytes_;
    std::size_t size_;
};

// True when `s` is a view into `buf` (not a copy, and not past its end).
bool inside(const Sample& s, View buf) {
    if (s.type != Type::Str && s.type != Type::Bin) return true;
    const auto* b = reinterpret_cast<const char*>(buf.data());
    return s.str.data() >= b && s.str.data() + s.str.size() <= b + buf.size();
}

class PayloadTest : public ::testing::Test {
  protected:
    // Parses once per test (failing it on an error); samples may be views into arguments.
    const Expr* expr(std::string_view text, Use available = kAll) {
        const std::string key(text);
        if (auto it = exprs_.find(key); it != exprs_.end()) return &it->second;
        auto e = parse_expr(text, available);
        if (!e) {
            ADD_FAILURE() << text << ": " << e.error();
            return nullptr;
        }
        return &exprs_.emplace(key, std::move(*e)).first->second;
    }
    // The parse error for `text` (failing the test when it parses).
    std::string error(std::string_view text) {
        auto e = parse_expr(text, kAll);
        if (e) {
            ADD_FAILURE() << text << ": parsed, expected an error";
            return {};
        }
        return e.error();
    }
    // Evaluates `text` with `req` (and `res`) as the payload. Both are copied into buffers of
    // their exact size; a string answer must be a view into the one it came from.
    Answer fetch(std::string_view text, const Bytes& req, bool final, const Bytes& res = {}) {
        Answer a;
        const Expr* e = expr(text);
        if (!e) return a;
        const Exact req_buf(req), res_buf(res);
        Payload p{.req = req_buf.view(), .res = res_buf.view(), .final = final};
        Arena arena;
        Context ctx(arena);
        ctx.attach(&p);
        Sample s;
        a.found = e->eval(ctx, s);
        a.may_change = ctx.may_change;
        a.text = a.found ? text_of(s) : "<none>";
        if (a.found) a.type = s.type;
        if (a.found && e->converters.empty()) {
            EXPECT_TRUE(inside(s, text.starts_with("res.") ? p.res : p.req))
                << text << " answered bytes outside its buffer";
        }
        return a;
    }
    // The value on a final payload, checking that no waiting was asked for and that a payload
    // that is not final (more may come) gives the same answer: the bytes are all there.
    std::string value(std::string_view text, const Bytes& req, const Bytes& res = {}) {
        const Answer a = fetch(text, req, true, res);
        EXPECT_FALSE(a.may_change) << text << ": may_change on a final payload";
        const Answer b = fetch(text, req, false, res);
        EXPECT_FALSE(b.may_change) << text << ": waits although the bytes are all there";
        EXPECT_EQ(b.value(), a.value()) << text << ": not final";
        return a.value();
    }
    // The answer must be "none, ask again later" while not final, and "none" once final.
    void expect_waits(std::string_view text, const Bytes& req, const std::string& what) {
        const Answer a = fetch(text, req, false);
        EXPECT_FALSE(a.found) << text << " on " << what << ": " << a.value();
        EXPECT_TRUE(a.may_change) << text << " on " << what << ": does not wait";
        const Answer f = fetch(text, req, true);
        EXPECT_FALSE(f.found) << text << " on " << what << " (final): " << f.value();
        EXPECT_FALSE(f.may_change) << text << " on " << what << " (final): still waits";
    }
    // "none" with no waiting, final or not: what is there already rules the answer out.
    void expect_none(std::string_view text, const Bytes& req, const std::string& what) {
        for (bool final : {false, true}) {
            const Answer a = fetch(text, req, final);
            EXPECT_FALSE(a.found) << text << " on " << what << " final=" << final << ": "
                                  << a.value();
            EXPECT_FALSE(a.may_change) << text << " on " << what << " final=" << final;
        }
    }
    // Whether the ACL line `text` matches `req` (a final payload).
    bool matches(std::string_view text, const Bytes& req) {
        std::vector<std::string> w;
        for (std::size_t at = 0; at < text.size();) {
            const std::size_t sp = std::min(text.find(' ', at), text.size());
            if (sp > at) w.emplace_back(text.substr(at, sp - at));
            at = sp + 1;
        }
        auto line = parse_acl_line(w);
        if (!line) {
            ADD_FAILURE() << text << ": " << line.error();
            return false;
        }
        const Exact buf(req);
        Payload p{.req = buf.view(), .res = {}, .final = true};
        Arena arena;
        Context ctx(arena);
        ctx.attach(&p);
        return line->match(ctx);
    }

  private:
    std::map<std::string, Expr> exprs_;
};

// ---- Real hellos ----------------------------------------------------------------------------

struct RealHello {
    const char* name;
    Bytes bytes;
    const char* sni;
    const char* alpn;  // the first protocol offered
    const char* ec_ext;
    const char* st_ext;
};

std::vector<RealHello> real_hellos() {
    using namespace test;
    return {
        {"modern", bytes(kHelloModern), "www.example.com", "h2", "true", "1"},
        {"plain12", bytes(kHelloPlain12), "<none>", "<none>", "<none>", "0"},
        {"resume12", bytes(kHelloResume12), "resume.example.net", "<none>", "true", "2"},
        {"sclient12", bytes(kHelloSClient12), "sni.test", "http/1.1", "true", "1"},
    };
}

// haproxy 2.6.12 gives the same on these four: 196611|1|www.example.com|h2|1|1,
// 196611|1|-|-|-|0, 196611|1|resume.example.net|-|1|2, 196611|1|sni.test|http/1.1|1|1.
TEST_F(PayloadTest, RealHellosTellWhatTheyCarry) {
    for (const RealHello& h : real_hellos()) {
        SCOPED_TRACE(h.name);
        EXPECT_EQ(value("req.ssl_hello_type", h.bytes), "1");
        // The ClientHello's client_version (3.3 even for TLS 1.3, whose supported_versions
        // extension says more), not the record layer's 3.1.
        EXPECT_EQ(value("req.ssl_ver", h.bytes), std::to_string(3 * 65536 + 3));
        EXPECT_EQ(value("req.ssl_sni", h.bytes), h.sni);
        EXPECT_EQ(value("req.ssl_alpn", h.bytes), h.alpn);
        EXPECT_EQ(value("req.ssl_ec_ext", h.bytes), h.ec_ext);
        EXPECT_EQ(value("req.ssl_st_ext", h.bytes), h.st_ext);
        // The types the fetches announce.
        const Answer sni = fetch("req.ssl_sni", h.bytes, true);
        if (sni.found) {
            EXPECT_EQ(sni.type, Type::Str);
        }
        EXPECT_EQ(fetch("req.ssl_ver", h.bytes, true).type, Type::Sint);
        EXPECT_EQ(fetch("req.ssl_st_ext", h.bytes, true).type, Type::Sint);
        // The record, by the length in its header.
        EXPECT_EQ(value("req.payload_lv(3,2)", h.bytes).size(), h.bytes.size() - 5);
        EXPECT_EQ(value("req.payload(0,1),hex", h.bytes), "16");
    }
}

TEST_F(PayloadTest, OlderNamesAnswerAlike) {
    for (const RealHello& h : real_hellos()) {
        SCOPED_TRACE(h.name);
        EXPECT_EQ(value("req_ssl_hello_type", h.bytes), value("req.ssl_hello_type", h.bytes));
        EXPECT_EQ(value("req_ssl_ver", h.bytes), value("req.ssl_ver", h.bytes));
        EXPECT_EQ(value("req_ssl_sni", h.bytes), value("req.ssl_sni", h.bytes));
        EXPECT_EQ(value("payload(0,3),hex", h.bytes), value("req.payload(0,3),hex", h.bytes));
        EXPECT_EQ(value("payload_lv(3,2)", h.bytes), value("req.payload_lv(3,2)", h.bytes));
    }
}

// As a sample the first protocol offered; in an ACL any of them matches, as HAProxy iterates
// over the list (2.6.12: `{ req.ssl_alpn h2 }` holds for a client offering http/1.1 then h2).
TEST_F(PayloadTest, AlpnAclMatchesAnyOfferedProtocol) {
    const Bytes modern = bytes(test::kHelloModern);
    const Bytes sclient = bytes(test::kHelloSClient12);
    EXPECT_TRUE(matches("req.ssl_alpn h2", modern));
    EXPECT_TRUE(matches("req.ssl_alpn http/1.1", modern));
    EXPECT_TRUE(matches("req.ssl_alpn h2", sclient));
    EXPECT_TRUE(matches("req.ssl_alpn http/1.1", sclient));
    EXPECT_FALSE(matches("req.ssl_alpn h3", sclient));
    EXPECT_FALSE(matches("req.ssl_alpn -m found", bytes(test::kHelloPlain12)));
    EXPECT_TRUE(matches("req.ssl_alpn -m beg http/", modern));
    EXPECT_TRUE(matches("req.ssl_alpn,upper H2", sclient));
}

TEST_F(PayloadTest, SniMatchesAsConfigsWriteIt) {
    const Bytes modern = bytes(test::kHelloModern);
    EXPECT_TRUE(matches("req.ssl_sni -i WWW.Example.COM", modern));
    EXPECT_TRUE(matches("req_ssl_sni -m end .example.com", modern));
    EXPECT_FALSE(matches("req.ssl_sni example.com", modern));
    EXPECT_TRUE(matches("req.ssl_ec_ext", modern));
    EXPECT_FALSE(matches("req.ssl_ec_ext", bytes(test::kHelloPlain12)));
    EXPECT_TRUE(matches("req.ssl_st_ext 2", bytes(test::kHelloResume12)));
    // HAProxy also takes dotted versions in these ACLs (`req.ssl_ver ge 3.3`); sluice's
    // integer patterns do not read them yet, hence the numbers.
    EXPECT_TRUE(matches("req.ssl_ver ge 196611", modern));
    EXPECT_TRUE(matches("req_ssl_ver 196609:196611", modern));
    EXPECT_FALSE(matches("req.ssl_ver lt 196611", modern));
    // Payload ACLs match bytes written in hex (haproxy 2.6.12: `payload(0,1) 16` holds).
    EXPECT_TRUE(matches("payload(0,1) 16", modern));
    EXPECT_TRUE(matches("req.payload(0,3) 160301", modern));
    EXPECT_TRUE(matches("req.payload(0,4) -m str QUIT", bytes("QUIT\r\n")));
}

// The bytes after the hello (the next record, early data) change nothing.
TEST_F(PayloadTest, BytesAfterTheHelloAreIgnored) {
    const Bytes more = bytes(std::string_view("\x17\x03\x03\x00\x05hello and more", 19));
    for (const RealHello& h : real_hellos()) {
        SCOPED_TRACE(h.name);
        const Bytes longer = concat(h.bytes, more);
        for (std::string_view f : kTlsFetches)
            EXPECT_EQ(value(f, longer), value(f, h.bytes)) << f;
    }
}

// Every prefix of a hello: nothing yet, ask again; once final, nothing.
TEST_F(PayloadTest, TruncatedHellosWaitWhileMoreMayCome) {
    for (const RealHello& h : real_hellos()) {
        SCOPED_TRACE(h.name);
        for (std::size_t n = 0; n < h.bytes.size(); ++n) {
            const Bytes prefix(h.bytes.begin(), h.bytes.begin() + static_cast<std::ptrdiff_t>(n));
            const std::string what = std::to_string(n) + " bytes";
            for (std::string_view f : kTlsFetches)
                expect_waits(f, prefix, what);
            expect_waits("req.payload_lv(3,2)", prefix, what);
            if (n < 5) expect_waits("req.payload(0,5)", prefix, what);
        }
    }
}

TEST_F(PayloadTest, BytesThatAreNotTlsAreNoHello) {
    const std::vector<std::pair<std::string, Bytes>> cases = {
        {"an HTTP request", bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
        {"one letter", bytes("Q")},
        {"an SSLv2 hello",
         bytes(std::string_view("\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10", 11))},
        {"application data", bytes(std::string_view("\x17\x03\x03\x00\x05hello", 10))},
        {"an alert", bytes(std::string_view("\x15\x03\x03\x00\x02\x02\x28", 7))},
        {"a record of version 2.0",
         bytes(std::string_view("\x16\x02\x00\x00\x04\x01\x00\x00\x00", 9))},
        {"a NUL", bytes(std::string_view("\x00", 1))},
    };
    for (const auto& [what, b] : cases)
        for (std::string_view f : kTlsFetches)
            expect_none(f, b, what);
    // One byte that may start a record: wait. A version byte that is not 3: no.
    for (std::string_view f : kTlsFetches) {
        expect_waits(f, bytes("\x16"), "0x16");
        expect_waits(f, bytes("\x16\x03"), "0x16 0x03");
        expect_none(f, bytes("\x16\x02"), "0x16 0x02");
    }
}

// No Payload attached (an HTTP rule, a connection rule): none, and nothing to wait for.
TEST_F(PayloadTest, NothingAttachedIsNone) {
    for (std::string_view f : kTlsFetches) {
        const Expr* e = expr(f);
        ASSERT_NE(e, nullptr);
        Arena arena;
        Context ctx(arena);
        Sample s;
        EXPECT_FALSE(e->eval(ctx, s)) << f;
        EXPECT_FALSE(ctx.may_change) << f;
    }
    for (std::string_view f : {"req.payload(0,1)", "req.payload_lv(0,1)", "res.payload(0,0)",
                               "res.payload_lv(0,2,+1)"}) {
        const Expr* e = expr(f);
        ASSERT_NE(e, nullptr);
        Arena arena;
        Context ctx(arena);
        Sample s;
        EXPECT_FALSE(e->eval(ctx, s)) << f;
        EXPECT_FALSE(ctx.may_change) << f;
    }
}

// ---- Synthetic hellos, with lengths that lie ------------------------------------------------

struct Ext {
    unsigned type;
    Bytes data;
};

Ext sni_ext(std::initializer_list<std::pair<unsigned, std::string_view>> names) {
    Bytes list;
    for (const auto& [type, name] : names) {
        list.push_back(static_cast<std::byte>(type));
        list.push_back(static_cast<std::byte>(name.size() >> 8));
        list.push_back(static_cast<std::byte>(name.size() & 0xff));
        list = concat(list, bytes(name));
    }
    Bytes data(2);
    put16(data, 0, static_cast<unsigned>(list.size()));
    return {0, concat(data, list)};
}
Ext sni_ext(std::string_view name) {
    return sni_ext({{0, name}});
}
Ext alpn_ext(std::initializer_list<std::string_view> protocols) {
    Bytes list;
    for (std::string_view p : protocols) {
        list.push_back(static_cast<std::byte>(p.size()));
        list = concat(list, bytes(p));
    }
    Bytes data(2);
    put16(data, 0, static_cast<unsigned>(list.size()));
    return {16, concat(data, list)};
}

struct HelloSpec {
    unsigned record_version = 0x0301;
    unsigned type = 1;  // ClientHello
    unsigned client_version = 0x0303;
    std::size_t session_id = 0;  // bytes
    std::size_t ciphers = 2;     // bytes
    std::size_t compression = 1;
    bool extension_block = true;
    std::vector<Ext> extensions;
};

// A well-formed record holding the hello, and where each of its length fields is.
struct Built {
    Bytes bytes;
    std::size_t record_len = 3, hs_len = 6, sid_len = 0, cs_len = 0, comp_len = 0, ext_len = 0;
    std::vector<std::size_t> ext_at;  // each extension's type field
};

Built build(const HelloSpec& spec) {
    Built b;
    Bytes& o = b.bytes;
    o.resize(9);
    put8(o, 0, 0x16);
    put16(o, 1, spec.record_version);
    put8(o, 5, spec.type);
    o.resize(o.size() + 2 + 32);
    put16(o, 9, spec.client_version);
    for (std::size_t i = 0; i < 32; ++i)
        put8(o, 11 + i, 0xa0 + static_cast<unsigned>(i));
    b.sid_len = o.size();
    o.push_back(static_cast<std::byte>(spec.session_id));
    o.resize(o.size() + spec.session_id, std::byte{0x55});
    b.cs_len = o.size();
    o.resize(o.size() + 2);
    put16(o, b.cs_len, static_cast<unsigned>(spec.ciphers));
    for (std::size_t i = 0; i < spec.ciphers; ++i)
        o.push_back(static_cast<std::byte>(i % 2 ? 0x01 : 0x13));
    b.comp_len = o.size();
    o.push_back(static_cast<std::byte>(spec.compression));
    o.resize(o.size() + spec.compression, std::byte{0});
    if (spec.extension_block) {
        b.ext_len = o.size();
        o.resize(o.size() + 2);
        for (const Ext& e : spec.extensions) {
            b.ext_at.push_back(o.size());
            o.resize(o.size() + 4);
            put16(o, b.ext_at.back(), e.type);
            put16(o, b.ext_at.back() + 2, static_cast<unsigned>(e.data.size()));
            o = concat(o, e.data);
        }
        put16(o, b.ext_len, static_cast<unsigned>(o.size() - b.ext_len - 2));
    }
    put16(o, 3, static_cast<unsigned>(o.size() - 5));
    put8(o, 6, 0);
    put16(o, 7, static_cast<unsigned>(o.size() - 9));
    return b;
}

HelloSpec full_spec() {
    HelloSpec s;
    s.session_id = 32;
    s.ciphers = 4;
    s.extensions = {sni_ext("a.example"),
                    {10, bytes(std::string_view("\x00\x02\x00\x1d", 4))},
                    {35, {}},
                    alpn_ext({"h2", "http/1.1"})};
    return s;
}

// The ClientHello fetches that read its extensions.
constexpr std::string_view kExtensionFetches[] = {"req.ssl_sni", "req.ssl_alpn", "req.ssl_ec_ext",
                                                  "req.ssl_st_ext"};

TEST_F(PayloadTest, SyntheticHelloAsBuilt) {
    const Built b = build(full_spec());
    EXPECT_EQ(value("req.ssl_hello_type", b.bytes), "1");
    EXPECT_EQ(value("req.ssl_ver", b.bytes), "196611");
    EXPECT_EQ(value("req.ssl_sni", b.bytes), "a.example");
    EXPECT_EQ(value("req.ssl_alpn", b.bytes), "h2");
    EXPECT_EQ(value("req.ssl_ec_ext", b.bytes), "true");
    EXPECT_EQ(value("req.ssl_st_ext", b.bytes), "1");
    // Versions: the hello's, whatever the record says.
    HelloSpec s = full_spec();
    s.record_version = 0x0300;
    s.client_version = 0x0301;
    EXPECT_EQ(value("req.ssl_ver", build(s).bytes), "196609");
    s.record_version = 0x0303;
    s.client_version = 0x0302;
    EXPECT_EQ(value("req.ssl_ver", build(s).bytes), "196610");
}

TEST_F(PayloadTest, HelloWithoutExtensions) {
    HelloSpec s;
    s.extension_block = false;
    const Bytes b = build(s).bytes;
    EXPECT_EQ(value("req.ssl_hello_type", b), "1");
    EXPECT_EQ(value("req.ssl_sni", b), "<none>");
    EXPECT_EQ(value("req.ssl_alpn", b), "<none>");
    EXPECT_EQ(value("req.ssl_ec_ext", b), "<none>");
    EXPECT_EQ(value("req.ssl_st_ext", b), "0");
    s.extension_block = true;  // an empty extension list
    EXPECT_EQ(value("req.ssl_st_ext", build(s).bytes), "0");
    EXPECT_EQ(value("req.ssl_sni", build(s).bytes), "<none>");
}

// Another handshake message than a ClientHello (a ServerHello sent the wrong way): its type
// and version, and no extension read from it.
TEST_F(PayloadTest, OtherHandshakeMessages) {
    HelloSpec s = full_spec();
    s.type = 2;
    const Bytes b = build(s).bytes;
    EXPECT_EQ(value("req.ssl_hello_type", b), "2");
    EXPECT_EQ(value("req.ssl_ver", b), "196611");
    for (std::string_view f : kExtensionFetches)
        expect_none(f, b, "a ServerHello");
}

TEST_F(PayloadTest, RecordLengthsThatLie) {
    const Built good = build(full_spec());
    for (unsigned len : {0u, 1u, 3u}) {  // no room for a handshake header
        Bytes b = good.bytes;
        put16(b, good.record_len, len);
        for (std::string_view f : kTlsFetches)
            expect_none(f, b, "record length " + std::to_string(len));
    }
    for (unsigned extra : {1u, 100u}) {  // longer than what came: wait for the rest
        Bytes b = good.bytes;
        put16(b, good.record_len, static_cast<unsigned>(b.size() - 5 + extra));
        for (std::string_view f : kTlsFetches)
            expect_waits(f, b, "record length +" + std::to_string(extra));
    }
    {
        Bytes b = good.bytes;
        put16(b, good.record_len, 0xffff);
        for (std::string_view f : kTlsFetches)
            expect_waits(f, b, "record length 65535");
    }
    // A handshake longer than its record (a hello split over records is not read), or the
    // record length shorter than the hello it holds.
    for (unsigned extra : {1u, 1000u, 0xffffffu - static_cast<unsigned>(good.bytes.size())}) {
        Bytes b = good.bytes;
        const unsigned hs = static_cast<unsigned>(b.size() - 9 + extra);
        put8(b, good.hs_len, hs >> 16 & 0xff);
        put16(b, good.hs_len + 1, hs & 0xffff);
        for (std::string_view f : kTlsFetches)
            expect_none(f, b, "handshake length +" + std::to_string(extra));
    }
    {
        Bytes b = good.bytes;
        put16(b, good.record_len, static_cast<unsigned>(b.size() - 5 - 1));
        for (std::string_view f : kTlsFetches)
            expect_none(f, b, "record one byte shorter than the hello");
    }
    // A handshake shorter than its record: the rest of the record is not part of the hello.
    {
        Bytes b = concat(good.bytes, bytes("trailing"));
        put16(b, good.record_len, static_cast<unsigned>(b.size() - 5));
        EXPECT_EQ(value("req.ssl_sni", b), "a.example");
        EXPECT_EQ(value("req.ssl_alpn", b), "h2");
    }
}

TEST_F(PayloadTest, HelloLengthsThatLie) {
    const Built good = build(full_spec());
    struct Case {
        std::string what;
        std::size_t at;
        unsigned value;
        bool wide;  // a 16-bit field
    };
    const std::vector<Case> cases = {
        {"session id 33", good.sid_len, 33, false},
        {"session id 255", good.sid_len, 255, false},
        {"cipher suites 0xffff", good.cs_len, 0xffff, true},
        {"cipher suites past the end", good.cs_len,
         static_cast<unsigned>(good.bytes.size() - good.cs_len), true},
        {"compression 255", good.comp_len, 255, false},
        {"extensions 0xffff", good.ext_len, 0xffff, true},
        {"extensions one past the end", good.ext_len,
         static_cast<unsigned>(good.bytes.size() - good.ext_len - 1), true},
        {"first extension 0xffff", good.ext_at[0] + 2, 0xffff, true},
        {"first extension past the list", good.ext_at[0] + 2,
         static_cast<unsigned>(good.bytes.size() - good.ext_at[0] - 3), true},
    };
    for (const Case& c : cases) {
        Bytes b = good.bytes;
        if (c.wide)
            put16(b, c.at, c.value);
        else
            put8(b, c.at, c.value);
        // The record is whole: the hello is there, only its inside is broken.
        EXPECT_EQ(value("req.ssl_hello_type", b), "1") << c.what;
        EXPECT_EQ(value("req.ssl_ver", b), "196611") << c.what;
        for (std::string_view f : kExtensionFetches)
            expect_none(f, b, c.what);
    }
    // Compression methods taking up the rest: a hello without extensions.
    {
        Bytes b = good.bytes;
        put8(b, good.comp_len, static_cast<unsigned>(b.size() - good.comp_len - 1));
        EXPECT_EQ(value("req.ssl_st_ext", b), "0");
        for (std::string_view f : {"req.ssl_sni", "req.ssl_alpn", "req.ssl_ec_ext"})
            expect_none(f, b, "compression to the end");
    }
    // A body too short for even the random, or ending inside the session id or the suites.
    for (std::size_t body : {0u, 1u, 2u, 33u, 34u, 35u, 40u, 67u, 68u, 69u, 70u, 71u, 72u}) {
        Bytes b = good.bytes;
        b.resize(9 + body);
        put16(b, good.record_len, static_cast<unsigned>(b.size() - 5));
        put8(b, good.hs_len, 0);
        put16(b, good.hs_len + 1, static_cast<unsigned>(body));
        EXPECT_EQ(value("req.ssl_hello_type", b), "1") << body;
        for (std::string_view f : kExtensionFetches)
            expect_none(f, b, "a body of " + std::to_string(body) + " bytes");
    }
    // An extension list whose last extension header is cut short: the ones before it count.
    {
        HelloSpec s = full_spec();
        s.extensions.push_back({0x1234, bytes("xy")});
        Built b = build(s);
        b.bytes.resize(b.bytes.size() - 4);  // cut the last header and its data
        put16(b.bytes, b.ext_len, static_cast<unsigned>(b.bytes.size() - b.ext_len - 2));
        put16(b.bytes, b.record_len, static_cast<unsigned>(b.bytes.size() - 5));
        put16(b.bytes, b.hs_len + 1, static_cast<unsigned>(b.bytes.size() - 9));
        EXPECT_EQ(value("req.ssl_sni", b.bytes), "a.example");
        EXPECT_EQ(value("req.ssl_st_ext", b.bytes), "1");
    }
}

// Inside the extensions: the server_name list and the ALPN list have lengths of their own.
TEST_F(PayloadTest, ExtensionContents) {
    auto with = [&](std::vector<Ext> exts) {
        HelloSpec s;
        s.extensions = std::move(exts);
        return build(s).bytes;
    };
    // The first name of type host_name.
    EXPECT_EQ(value("req.ssl_sni", with({sni_ext({{1, "other"}, {0, "host.test"}})})), "host.test");
    EXPECT_EQ(value("req.ssl_sni", with({sni_ext({{0, "one.test"}, {0, "two.test"}})})),
              "one.test");
    EXPECT_EQ(value("req.ssl_sni", with({sni_ext({{1, "other"}})})), "<none>");
    EXPECT_EQ(value("req.ssl_sni", with({sni_ext("")})), "<none>");
    EXPECT_EQ(value("req.ssl_sni", with({{0, {}}})), "<none>");
    EXPECT_EQ(value("req.ssl_sni", with({{0, bytes(std::string_view("\x00\x00", 2))}})), "<none>");
    // A name running past its extension, or a name header cut short.
    EXPECT_EQ(
        value("req.ssl_sni", with({{0, bytes(std::string_view("\x00\x08\x00\x00\x09short", 10))},
                                   alpn_ext({"h2"})})),
        "<none>");
    EXPECT_EQ(value("req.ssl_sni", with({{0, bytes(std::string_view("\x00\x02\x00\x00", 4))}})),
              "<none>");
    // A later extension does not matter once the name is found; the first server_name counts.
    EXPECT_EQ(value("req.ssl_sni", with({alpn_ext({"h2"}), sni_ext("x.test"), sni_ext("y")})),
              "x.test");

    EXPECT_EQ(value("req.ssl_alpn", with({alpn_ext({"http/1.1"})})), "http/1.1");
    EXPECT_EQ(value("req.ssl_alpn", with({alpn_ext({})})), "<none>");
    EXPECT_EQ(value("req.ssl_alpn", with({{16, {}}})), "<none>");
    EXPECT_EQ(value("req.ssl_alpn", with({{16, bytes(std::string_view("\x00\x03\x05h2", 5))}})),
              "<none>");  // a name running past its extension
    EXPECT_EQ(value("req.ssl_alpn", with({{16, bytes(std::string_view("\x00\x01\x00", 3))}})),
              "<none>");  // an empty name
    // In an ACL, the names up to the first broken one.
    const Bytes broken_second = with({{16, bytes(std::string_view("\x00\x06\x02h2\x09xy", 8))}});
    EXPECT_TRUE(matches("req.ssl_alpn h2", broken_second));
    EXPECT_FALSE(matches("req.ssl_alpn xy", broken_second));

    EXPECT_EQ(value("req.ssl_ec_ext", with({{11, bytes("\x01")}, {10, {}}})), "true");
    EXPECT_EQ(value("req.ssl_ec_ext", with({{11, bytes("\x01")}})), "<none>");
    EXPECT_EQ(value("req.ssl_st_ext", with({{35, bytes("ticket")}})), "2");
    EXPECT_EQ(value("req.ssl_st_ext", with({{35, {}}})), "1");
    EXPECT_EQ(value("req.ssl_st_ext", with({{10, {}}})), "0");
}

// ---- req.payload and friends ----------------------------------------------------------------

TEST_F(PayloadTest, PayloadAtOffset) {
    const Bytes quit = bytes("QUIT\r\n");
    EXPECT_EQ(value("req.payload(0,4)", quit), "QUIT");
    EXPECT_EQ(value("req.payload(2,4)", quit), "IT\r\n");
    EXPECT_EQ(value("req.payload(5,1),hex", quit), "0A");
    EXPECT_EQ(fetch("req.payload(0,4)", quit, true).type, Type::Bin);
    // Past what came: wait, then none.
    expect_waits("req.payload(3,4)", quit, "QUIT\\r\\n");
    expect_waits("req.payload(6,1)", quit, "QUIT\\r\\n");
    expect_waits("req.payload(0,1)", {}, "nothing");
    expect_waits("req.payload(100000,1)", quit, "QUIT\\r\\n");
    // Offsets and lengths near the top of the range neither wrap nor crash.
    expect_waits("req.payload(9223372036854775807,1)", quit, "QUIT\\r\\n");
    expect_waits("req.payload(9223372036854775807,9223372036854775807)", quit, "QUIT\\r\\n");
    expect_waits("req.payload(1,9223372036854775807)", quit, "QUIT\\r\\n");
}

// Length 0: everything from the offset on, what has come so far, and no waiting once there is
// something (HAProxy flags that sample "may change" and keeps a rule that does not match it
// waiting; sluice's rules only wait on "none"). At least one byte past the offset is wanted:
// haproxy 2.6.12 gives an empty sample at the very end, which here would let a rule decide on
// a buffer that is still empty.
TEST_F(PayloadTest, PayloadLengthZero) {
    const Bytes abc = bytes("abcdef");
    EXPECT_EQ(value("req.payload(0,0)", abc), "abcdef");
    EXPECT_EQ(value("req.payload(2,0)", abc), "cdef");
    EXPECT_EQ(value("req.payload(5,0)", abc), "f");
    expect_waits("req.payload(6,0)", abc, "abcdef");
    expect_waits("req.payload(7,0)", abc, "abcdef");
    expect_waits("req.payload(0,0)", {}, "nothing");
    expect_waits("req.payload(9223372036854775807,0)", abc, "abcdef");
}

TEST_F(PayloadTest, ResPayloadReadsTheResponse) {
    const Bytes req = bytes("request bytes");
    const Bytes res = bytes("\x05hello response");
    EXPECT_EQ(value("res.payload(0,5)", req, res), "\x05hell");
    EXPECT_EQ(value("res.payload(7,0)", req, res), "response");
    EXPECT_EQ(value("res.payload_lv(0,1)", req, res), "hello");
    EXPECT_EQ(value("req.payload(0,7)", req, res), "request");
    EXPECT_EQ(fetch("res.payload(0,100)", req, false, res).may_change, true);
    // A request rule cannot read the response.
    auto e = parse_expr("res.payload(0,1)", kReqAvail);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().find("none of which is available here"), std::string::npos) << e.error();
}

TEST_F(PayloadTest, PayloadLv) {
    const Bytes one = bytes(
        "\x03"
        "abcdef");
    EXPECT_EQ(value("req.payload_lv(0,1)", one), "abc");
    EXPECT_EQ(fetch("req.payload_lv(0,1)", one, true).type, Type::Bin);
    // Big-endian lengths of 2, 3 and 4 bytes, at an offset.
    EXPECT_EQ(value("req.payload_lv(0,2)", bytes(std::string_view("\x00\x02xyz", 5))), "xy");
    EXPECT_EQ(value("req.payload_lv(1,3)", bytes(std::string_view("_\x00\x00\x01xyz", 7))), "x");
    EXPECT_EQ(value("req.payload_lv(2,4)", bytes(std::string_view("__\x00\x00\x00\x03xyz", 9))),
              "xyz");
    const Bytes b =
        bytes(std::string_view("\x00\x01\x02"
                               "abcdef",
                               9));
    EXPECT_EQ(value("req.payload_lv(2,1)", b), "ab");
    // A third argument with a sign is relative to the end of the length field; without one,
    // from the start of the buffer (haproxy 2.6.12 on "\x02bcd": 6263, 6364, 6263, 0262).
    const Bytes two = bytes(
        "\x02"
        "bcd");
    EXPECT_EQ(value("req.payload_lv(0,1),hex", two), "6263");
    EXPECT_EQ(value("req.payload_lv(0,1,+1),hex", two), "6364");
    EXPECT_EQ(value("req.payload_lv(0,1,1),hex", two), "6263");
    EXPECT_EQ(value("req.payload_lv(0,1,-1),hex", two), "0262");
    EXPECT_EQ(value("req.payload_lv(0,1,+0),hex", two), "6263");
    EXPECT_EQ(value("req.payload_lv(0,1,-0),hex", two), "6263");
    EXPECT_EQ(value("req.payload_lv(0,1,0),hex", two), "0262");
    EXPECT_EQ(value("req.payload_lv(0,1,2),hex", two), "6364");
    EXPECT_EQ(value("req.payload_lv(2,1,-3),hex", b), "0001");
    EXPECT_EQ(value("req.payload_lv(2,1,7)", b), "ef");
    // The block or its length field not all there: wait, then none.
    expect_waits("req.payload_lv(0,1,+2)", two, "\\x02bcd");
    expect_waits("req.payload_lv(0,1,3)", two, "\\x02bcd");
    expect_waits("req.payload_lv(0,1)",
                 bytes("\x09"
                       "abc"),
                 "9 announced, 3 there");
    expect_waits("req.payload_lv(0,2)", bytes("\x09"), "half a length field");
    expect_waits("req.payload_lv(0,4)",
                 bytes("\xff\xff\xff\xff"
                       "abc"),
                 "4 GB announced");
    expect_waits("req.payload_lv(3,1)", two, "no length field yet");
    expect_waits("req.payload_lv(0,1)", {}, "nothing");
    expect_waits("req.payload_lv(9223372036854775807,4)", two, "a far offset");
    expect_waits("req.payload_lv(0,1,9223372036854775807)", two, "a far block");
    expect_waits("req.payload_lv(0,1,+9223372036854775807)", two, "a far relative block");
}

// An empty block never matches (haproxy 2.6.12: `req.payload_lv(0,1) -m found` is false on a
// zero length), whatever may come after it.
TEST_F(PayloadTest, PayloadLvEmptyBlock) {
    expect_none("req.payload_lv(0,1)",
                bytes(std::string_view("\x00"
                                       "abc",
                                       4)),
                "length 0");
    expect_none("req.payload_lv(1,2,+5)", bytes(std::string_view("_\x00\x00", 3)), "length 0");
    expect_none("req.payload_lv(0,4)", bytes(std::string_view("\x00\x00\x00\x00", 4)), "length 0");
}

TEST_F(PayloadTest, BadArgumentsAreRefusedAtParseTime) {
    EXPECT_EQ(error("req.payload(-1,2)"), "'req.payload': offset and length must not be negative");
    EXPECT_EQ(error("req.payload(0,-2)"), "'req.payload': offset and length must not be negative");
    EXPECT_EQ(error("res.payload(-5,0)"), "'res.payload': offset and length must not be negative");
    EXPECT_EQ(error("payload(-1,2)"), "'payload': offset and length must not be negative");
    EXPECT_EQ(error("req.payload(0)"), "'req.payload' expects at least 2 argument(s), got 1");
    EXPECT_EQ(error("req.payload"), "'req.payload' expects at least 2 argument(s), got 0");
    EXPECT_EQ(error("req.payload(0,1,2)"), "'req.payload' expects at most 2 argument(s), got 3");
    EXPECT_EQ(error("req.payload(a,1)"), "'req.payload': argument 1 must be an integer, not 'a'");
    EXPECT_EQ(error("req.payload(0,99999999999999999999)"),
              "'req.payload': argument 2 must be an integer, not '99999999999999999999'");

    EXPECT_EQ(error("req.payload_lv(-1,1)"), "'req.payload_lv': offset must not be negative");
    EXPECT_EQ(error("req.payload_lv(0,0)"),
              "'req.payload_lv': the length field is 1 to 4 bytes long");
    EXPECT_EQ(error("req.payload_lv(0,5)"),
              "'req.payload_lv': the length field is 1 to 4 bytes long");
    EXPECT_EQ(error("req.payload_lv(0,-1)"),
              "'req.payload_lv': the length field is 1 to 4 bytes long");
    EXPECT_EQ(error("res.payload_lv(0,8)"),
              "'res.payload_lv': the length field is 1 to 4 bytes long");
    EXPECT_EQ(error("payload_lv(0,0)"), "'payload_lv': the length field is 1 to 4 bytes long");
    EXPECT_EQ(error("req.payload_lv(0,1,x)"), "'req.payload_lv': 'x' is not an offset");
    EXPECT_EQ(error("req.payload_lv(0,1,+)"), "'req.payload_lv': '+' is not an offset");
    EXPECT_EQ(error("req.payload_lv(0,1,-)"), "'req.payload_lv': '-' is not an offset");
    EXPECT_EQ(error("req.payload_lv(0,1,1x)"), "'req.payload_lv': '1x' is not an offset");
    EXPECT_EQ(error("req.payload_lv(0,1,+-1)"), "'req.payload_lv': '+-1' is not an offset");
    EXPECT_EQ(error("req.payload_lv(0,1, 1)"), "'req.payload_lv': ' 1' is not an offset");
    EXPECT_EQ(error("req.payload_lv(0,1,)"), "'req.payload_lv': '' is not an offset");
    // Out of range: refused here, not thrown when the first connection is inspected.
    EXPECT_EQ(error("req.payload_lv(0,1,99999999999999999999)"),
              "'req.payload_lv': offset '99999999999999999999' is out of range");
    EXPECT_EQ(error("req.payload_lv(0,1,-99999999999999999999)"),
              "'req.payload_lv': offset '-99999999999999999999' is out of range");
    // A relative offset before the start of the buffer (HAProxy: "payload offset2 too
    // negative").
    EXPECT_EQ(error("req.payload_lv(0,1,-2)"),
              "'req.payload_lv': offset -2 is before the start of the buffer");
    EXPECT_EQ(error("req.payload_lv(3,2,-6)"),
              "'req.payload_lv': offset -6 is before the start of the buffer");
    EXPECT_EQ(error("req.payload_lv(0,1,-9223372036854775808)"),
              "'req.payload_lv': offset -9223372036854775808 is before the start of the buffer");
    EXPECT_TRUE(parse_expr("req.payload_lv(3,2,-5)", kAll).ok());
    EXPECT_TRUE(
        parse_expr("req.payload_lv(9223372036854775807,4,-9223372036854775807)", kAll).ok());
    // The TLS fetches take no argument.
    EXPECT_EQ(error("req.ssl_sni(1)"), "'req.ssl_sni' takes no argument");
    EXPECT_EQ(error("req.ssl_hello_type(x)"), "'req.ssl_hello_type' takes no argument");
}

// ---- Content rules --------------------------------------------------------------------------

using rules::ContentVerdict;
using rules::TcpRule;
using rules::TcpVerb;

const char* verdict_name(ContentVerdict v) {
    switch (v) {
        case ContentVerdict::Accept:
            return "accept";
        case ContentVerdict::Reject:
            return "reject";
        case ContentVerdict::SilentDrop:
            return "silent-drop";
        case ContentVerdict::Close:
            return "close";
        case ContentVerdict::Wait:
            return "wait";
    }
    return "?";
}

class PayloadRulesTest : public ::testing::Test {
  protected:
    // `tcp-request content` rules, one a line: "reject if { req.payload(0,4) -m str QUIT }".
    std::vector<TcpRule> rules(std::initializer_list<std::string_view> lines) {
        std::vector<TcpRule> out;
        for (std::string_view line : lines) {
            std::vector<std::string> w;
            for (std::size_t at = 0; at < line.size();) {
                const std::size_t sp = std::min(line.find(' ', at), line.size());
                if (sp > at) w.emplace_back(line.substr(at, sp - at));
                at = sp + 1;
            }
            TcpRule r;
            r.verb = w[0] == "accept"   ? TcpVerb::Accept
                     : w[0] == "reject" ? TcpVerb::Reject
                                        : TcpVerb::SilentDrop;
            if (w.size() > 1) {
                auto c = parse_condition(std::span(w).subspan(1), table, kReqAvail);
                if (!c) {
                    ADD_FAILURE() << line << ": " << c.error();
                    continue;
                }
                r.cond = std::make_shared<const Condition>(std::move(*c));
            }
            out.push_back(std::move(r));
        }
        return out;
    }
    std::string run(const std::vector<TcpRule>& rs, const Bytes& req, bool final,
                    bool stale_may_change = false) {
        const Exact buf(req);
        Payload p{.req = buf.view(), .res = {}, .final = final};
        Arena arena;
        Context ctx(arena);
        ctx.attach(&p);
        ctx.may_change = stale_may_change;
        std::int8_t log_level = -1;
        return verdict_name(rules::run_content_rules(rs, ctx, final, log_level));
    }
    Bytes prefix(const Bytes& b, std::size_t n) {
        return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    }

    AclTable table;
    const Bytes modern = bytes(test::kHelloModern);
    const Bytes sclient = bytes(test::kHelloSClient12);
    const Bytes plain = bytes(test::kHelloPlain12);
};

TEST_F(PayloadRulesTest, WaitWhileAConditionReadsMissingBytes) {
    const auto rs = rules({"reject if { req.payload(0,4) -m str QUIT }",
                           "accept if { req.ssl_hello_type 1 }", "reject"});
    EXPECT_EQ(run(rs, {}, false), "wait");
    EXPECT_EQ(run(rs, bytes("QU"), false), "wait");
    EXPECT_EQ(run(rs, bytes("QUIT"), false), "reject");
    // Final: what is there is all the rules get.
    EXPECT_EQ(run(rs, {}, true), "reject");
    EXPECT_EQ(run(rs, bytes("QU"), true), "reject");
    // Four bytes of a hello: the first rule decides it is no QUIT, the second waits.
    EXPECT_EQ(run(rs, prefix(modern, 4), false), "wait");
    EXPECT_EQ(run(rs, prefix(modern, 4), true), "reject");
    for (std::size_t n = 4; n < modern.size(); ++n)
        ASSERT_EQ(run(rs, prefix(modern, n), false), "wait") << n;
    EXPECT_EQ(run(rs, modern, false), "accept");
    EXPECT_EQ(run(rs, modern, true), "accept");
    // Not TLS, not QUIT: decided at once.
    EXPECT_EQ(run(rs, bytes("GET / HTTP/1.1\r\n"), false), "reject");
}

TEST_F(PayloadRulesTest, NegatedAndUnlessConditionsWaitToo) {
    const auto neg = rules({"reject if !{ req.ssl_hello_type 1 }"});
    EXPECT_EQ(run(neg, prefix(modern, 100), false), "wait");
    EXPECT_EQ(run(neg, prefix(modern, 100), true), "reject");
    EXPECT_EQ(run(neg, modern, false), "accept");
    EXPECT_EQ(run(neg, bytes("hello, not TLS"), false), "reject");

    const auto unless = rules({"reject unless { req.ssl_sni -m end .example.com }"});
    EXPECT_EQ(run(unless, prefix(modern, 10), false), "wait");
    EXPECT_EQ(run(unless, prefix(modern, 10), true), "reject");
    EXPECT_EQ(run(unless, modern, false), "accept");
    EXPECT_EQ(run(unless, sclient, false), "reject");
    EXPECT_EQ(run(unless, plain, false), "reject");  // no name at all
}

TEST_F(PayloadRulesTest, DecisionsOnBytesThatAreThere) {
    // The first rule decides on its one byte; the second, which would wait, is not reached.
    const auto rs =
        rules({"accept if { req.payload(0,2),hex 1603 }", "reject if { req.ssl_sni -m found }"});
    EXPECT_EQ(run(rs, prefix(modern, 2), false), "accept");
    EXPECT_EQ(run(rs, prefix(modern, 1), false), "wait");
    EXPECT_EQ(run(rs, modern, false), "accept");
    EXPECT_EQ(run(rs, bytes("xy"), false), "accept");  // no rule hit, nothing to wait for
    EXPECT_EQ(run(rs, bytes("x"), false), "wait");
    EXPECT_EQ(run(rs, bytes("x"), true), "accept");
    // Rules without a condition, and no rules.
    EXPECT_EQ(run(rules({"accept"}), {}, false), "accept");
    EXPECT_EQ(run(rules({"reject"}), {}, false), "reject");
    EXPECT_EQ(run(rules({"silent-drop"}), {}, false), "silent-drop");
    EXPECT_EQ(run({}, {}, false), "accept");
    // A stale may_change from an earlier evaluation is not taken for this one's.
    EXPECT_EQ(run(rules({"reject if { req.payload(0,1) -m found }"}), bytes("x"), false, true),
              "reject");
    EXPECT_EQ(run(rules({"accept if FALSE", "reject"}), {}, false, true), "reject");
}

TEST_F(PayloadRulesTest, SniAndAlpnDecide) {
    const auto rs = rules({"silent-drop if { req.ssl_sni -i WWW.EXAMPLE.COM }",
                           "reject if { req.ssl_alpn h2 } { req.ssl_ec_ext }",
                           "accept if { req.ssl_st_ext 0 }", "reject"});
    EXPECT_EQ(run(rs, modern, false), "silent-drop");
    EXPECT_EQ(run(rs, sclient, false), "reject");  // h2 is its second protocol
    EXPECT_EQ(run(rs, plain, false), "accept");
    EXPECT_EQ(run(rs, bytes(test::kHelloResume12), false), "reject");
    EXPECT_EQ(run(rs, prefix(sclient, 200), false), "wait");
    // The ACL's iteration over the ALPN names waits on a partial hello as the sample does.
    const auto alpn = rules({"accept if { req.ssl_alpn h2 }", "reject"});
    EXPECT_EQ(run(alpn, prefix(sclient, 200), false), "wait");
    EXPECT_EQ(run(alpn, prefix(sclient, 200), true), "reject");
    EXPECT_EQ(run(alpn, sclient, false), "accept");
    EXPECT_EQ(run(alpn, plain, false), "reject");
}

// A condition on a later rule that reads missing bytes once the payload is final: no wait,
// and the rules go on.
TEST_F(PayloadRulesTest, FinalPayloadNeverWaits) {
    const auto rs =
        rules({"reject if { req.payload_lv(0,2) -m found }", "accept if HTTP", "silent-drop"});
    for (std::size_t n = 0; n < 3; ++n)
        EXPECT_EQ(run(rs, prefix(modern, n), true), "silent-drop") << n;
    EXPECT_EQ(run(rs, prefix(modern, 1), false), "wait");
    // The HTTP ACL (req.proto_http) in mode tcp waits for a whole request head.
    const auto http = rules({"accept if HTTP", "reject"});
    EXPECT_EQ(run(http, bytes("GET / HTTP/1.1\r\nHost: x\r\n"), false), "wait");
    EXPECT_EQ(run(http, bytes("GET / HTTP/1.1\r\nHost: x\r\n"), true), "reject");
    EXPECT_EQ(run(http, bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false), "accept");
    EXPECT_EQ(run(http, modern, false), "reject");
}

}  // namespace
}  // namespace sluice::sample
