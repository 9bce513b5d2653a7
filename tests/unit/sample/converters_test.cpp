// The converters of conv_string.cpp, conv_arith.cpp and conv_hash.cpp, driven through
// parse_expr as configs use them: results on good inputs and edges, and the parse-time
// rejection of bad arguments. Expected values come from HAProxy's manual and regression tests
// or from reference implementations (Python's hashlib, zlib), not from this code.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/sample/expr.hpp"
#include "sluice/sample/vars.hpp"

namespace sluice::sample {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// Test-only fetches, prefixed so that they never collide with real ones: convtest.str(TEXT),
// convtest.bin(HEX), convtest.int(N).
bool fetch_str(const Args& args, Context&, Sample& out) {
    out = Sample::string(args.list[0].text);
    return true;
}
util::Status prepare_bin(Args& args) {
    const std::string& hex = args.list[0].text;
    auto bytes = std::make_shared<std::string>();
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes->push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    args.prepared = std::move(bytes);
    return util::ok();
}
bool fetch_bin(const Args& args, Context&, Sample& out) {
    out = Sample::string(args.state<std::string>(), Type::Bin);
    return true;
}
bool fetch_int(const Args& args, Context&, Sample& out) {
    out = Sample::integer(args.list[0].sint);
    return true;
}
constexpr Fetch kTestFetches[] = {
    {.name = "convtest.str", .fn = fetch_str, .args = {1, 1}, .out = Type::Str},
    {.name = "convtest.bin",
     .fn = fetch_bin,
     .args = {1, 1},
     .out = Type::Bin,
     .prepare = prepare_bin},
    {.name = "convtest.int", .fn = fetch_int, .args = {1, 1, {ArgKind::Sint}}, .out = Type::Sint},
};
const FetchRegistrar kTestFetchesRegistered{kTestFetches};

class ConvTest : public ::testing::Test {
  protected:
    ConvTest() { ctx.attach(&vars); }

    std::optional<Sample> eval(std::string_view text) {
        auto e = parse_expr(text, Use::Internal);
        if (!e) {
            ADD_FAILURE() << text << ": " << e.error();
            return std::nullopt;
        }
        exprs.push_back(std::move(*e));  // samples may view into the expression's arguments
        Sample s;
        if (!exprs.back().eval(ctx, s)) return std::nullopt;
        return s;
    }
    std::optional<Sample> typed(std::string_view text, Type t) {
        auto s = eval(text);
        if (!s) ADD_FAILURE() << text << ": no sample";
        if (s && s->type != t)
            ADD_FAILURE() << text << ": type " << type_name(s->type) << ", not " << type_name(t);
        return s;
    }
    std::string str(std::string_view text, Type t = Type::Str) {
        auto s = typed(text, t);
        return s ? std::string(s->str) : "<none>";
    }
    std::int64_t sint(std::string_view text) {
        auto s = typed(text, Type::Sint);
        return s ? s->sint : -424242;
    }
    bool boolean(std::string_view text) {
        auto s = typed(text, Type::Bool);
        return s && s->sint;
    }
    std::string ip(std::string_view text) {
        auto s = eval(text);
        if (!s || (s->type != Type::Ipv4 && s->type != Type::Ipv6)) return "<none>";
        char buf[INET6_ADDRSTRLEN];
        inet_ntop(s->type == Type::Ipv4 ? AF_INET : AF_INET6, s->ip.data(), buf, sizeof buf);
        return buf;
    }
    bool none(std::string_view text) { return !eval(text).has_value(); }
    std::string error(std::string_view text) {
        auto e = parse_expr(text, Use::Internal);
        if (e) ADD_FAILURE() << text << ": parsed, expected an error";
        return e ? std::string() : e.error();
    }

    Arena arena;
    Context ctx{arena};
    VarStore sess, txn;
    Vars vars{.sess = &sess, .txn = &txn};
    std::deque<Expr> exprs;
};

#define EXPECT_ERROR(expr, fragment)                                                   \
    do {                                                                               \
        const std::string err_ = error(expr);                                          \
        EXPECT_NE(err_.find(fragment), std::string::npos) << (expr) << " -> " << err_; \
    } while (0)

class ConvString : public ConvTest {};
class ConvArith : public ConvTest {};
class ConvHash : public ConvTest {};

TEST(ConvTypes, ConvertersDeclareHaproxyTypes) {
    struct Row {
        std::string_view name;
        Type in, out;
    };
    const Row rows[] = {
        {"lower", Type::Str, Type::Str},
        {"upper", Type::Str, Type::Str},
        {"length", Type::Str, Type::Sint},
        {"bytes", Type::Bin, Type::Bin},
        {"field", Type::Str, Type::Str},
        {"word", Type::Str, Type::Str},
        {"regsub", Type::Str, Type::Str},
        {"json", Type::Str, Type::Str},
        {"url_dec", Type::Str, Type::Str},
        {"url_enc", Type::Str, Type::Str},
        {"base64", Type::Bin, Type::Str},
        {"b64dec", Type::Str, Type::Bin},
        {"hex", Type::Bin, Type::Str},
        {"hex2i", Type::Str, Type::Sint},
        {"ltrim", Type::Str, Type::Str},
        {"rtrim", Type::Str, Type::Str},
        {"host_only", Type::Str, Type::Str},
        {"port_only", Type::Str, Type::Sint},
        {"concat", Type::Str, Type::Str},
        {"strcmp", Type::Str, Type::Sint},
        {"secure_memcmp", Type::Bin, Type::Bool},
        {"add", Type::Sint, Type::Sint},
        {"sub", Type::Sint, Type::Sint},
        {"mul", Type::Sint, Type::Sint},
        {"div", Type::Sint, Type::Sint},
        {"mod", Type::Sint, Type::Sint},
        {"and", Type::Sint, Type::Sint},
        {"or", Type::Sint, Type::Sint},
        {"xor", Type::Sint, Type::Sint},
        {"neg", Type::Sint, Type::Sint},
        {"cpl", Type::Sint, Type::Sint},
        {"bool", Type::Sint, Type::Bool},
        {"not", Type::Sint, Type::Bool},
        {"odd", Type::Sint, Type::Bool},
        {"even", Type::Sint, Type::Bool},
        {"ipmask", Type::Addr, Type::Ipv4},
        {"crc32", Type::Bin, Type::Sint},
        {"crc32c", Type::Bin, Type::Sint},
        {"djb2", Type::Bin, Type::Sint},
        {"sdbm", Type::Bin, Type::Sint},
        {"wt6", Type::Bin, Type::Sint},
        {"xxh3", Type::Bin, Type::Sint},
        {"xxh32", Type::Bin, Type::Sint},
        {"xxh64", Type::Bin, Type::Sint},
        {"digest", Type::Bin, Type::Bin},
        {"hmac", Type::Bin, Type::Bin},
        {"sha1", Type::Bin, Type::Bin},
        {"sha2", Type::Bin, Type::Bin},
    };
    for (const Row& r : rows) {
        const Converter* c = find_converter(r.name);
        ASSERT_NE(c, nullptr) << r.name;
        EXPECT_EQ(c->in, r.in) << r.name;
        EXPECT_EQ(c->out, r.out) << r.name;
    }
}

TEST_F(ConvString, CaseAndLength) {
    EXPECT_EQ(str("convtest.str(HeLLo-Z1),lower"), "hello-z1");
    EXPECT_EQ(str("convtest.str(HeLLo-a1),upper"), "HELLO-A1");
    EXPECT_EQ(str("convtest.int(-42),upper"), "-42");                   // cast to str first
    EXPECT_EQ(str("convtest.bin(C3A9),upper", Type::Str), "\xC3\xA9");  // bytes >= 0x80 kept
    EXPECT_EQ(sint("convtest.str(hello),length"), 5);
    EXPECT_EQ(sint("convtest.str(''),length"), 0);
    EXPECT_ERROR("convtest.str(a),lower(x)", "'lower' takes no argument");
}

TEST_F(ConvString, Bytes) {
    EXPECT_EQ(str("convtest.str(0123456789),bytes(2)", Type::Bin), "23456789");
    EXPECT_EQ(str("convtest.str(0123456789),bytes(2,3)", Type::Bin), "234");
    EXPECT_EQ(str("convtest.str(0123456789),bytes(8,5)", Type::Bin), "89");
    EXPECT_EQ(str("convtest.str(0123456789),bytes(10)", Type::Bin), "");
    EXPECT_EQ(str("convtest.str(0123456789),bytes(0,0)", Type::Bin), "");
    EXPECT_ERROR("convtest.str(a),bytes(-1)", "offset must not be negative");
    EXPECT_ERROR("convtest.str(a),bytes(1,-2)", "length must not be negative");
    EXPECT_ERROR("convtest.str(a),bytes(x)", "must be an integer");
    EXPECT_ERROR("convtest.str(a),bytes", "at least 1");
}

TEST_F(ConvString, Field) {
    // The manual's examples.
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),field(5,_)"), "f5");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),field(2,_,0)"), "f2_f3__f5");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),field(2,_,2)"), "f2_f3");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),field(-2,_,3)"), "f2_f3_");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),field(-3,_,0)"), "f1_f2_f3");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),field(4,_)"), "");  // empty, but present
    EXPECT_EQ(str("convtest.str(/foo/bar/baz),field(3,/)"), "bar");
    EXPECT_EQ(str("convtest.str(a-b_c),field(2,'_-')"), "b");
    EXPECT_EQ(str("convtest.str(abc),field(1,/)"), "abc");
    EXPECT_TRUE(none("convtest.str(f1_f2_f3__f5),field(6,_)"));
    EXPECT_TRUE(none("convtest.str(/foo),field(3,/)"));
    EXPECT_TRUE(none("convtest.str(a_b),field(-3,_)"));
    EXPECT_ERROR("convtest.str(a),field(0,_)", "index must not be 0");
    EXPECT_ERROR("convtest.str(a),field(1,'')", "delimiters is empty");
    EXPECT_ERROR("convtest.str(a),field(x,_)", "must be an integer");
    EXPECT_ERROR("convtest.str(a),field(1)", "at least 2");
}

TEST_F(ConvString, Word) {
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),word(4,_)"), "f5");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),word(2,_,0)"), "f2_f3__f5");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),word(3,_,2)"), "f3__f5");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),word(-2,_,3)"), "f1_f2_f3");
    EXPECT_EQ(str("convtest.str(f1_f2_f3__f5),word(-3,_,0)"), "f1_f2");
    EXPECT_EQ(str("convtest.str(/f1/f2/f3/f4),word(1,/)"), "f1");
    EXPECT_EQ(str("convtest.str(__a__b__),word(-1,_)"), "b");
    EXPECT_TRUE(none("convtest.str(f1_f2_f3__f5),word(5,_)"));
    EXPECT_TRUE(none("convtest.str(___),word(1,_)"));
    EXPECT_ERROR("convtest.str(a),word(0,_)", "index must not be 0");
}

TEST_F(ConvString, Regsub) {
    EXPECT_EQ(str("convtest.str(/////a///b/c/xzxyz/),regsub('/+','/',g)"), "/a/b/c/xzxyz/");
    EXPECT_EQ(str("convtest.str(/////a///b/c/xzxyz/),regsub('/+','/')"), "/a///b/c/xzxyz/");
    EXPECT_EQ(str("convtest.str(?;&a=1),regsub([?;&]*,'')"), "a=1");
    EXPECT_EQ(str(R"x(convtest.str(FOO12),regsub('(foo|bar)([0-9]+)?','\2\1',i))x"), "12FOO");
    EXPECT_EQ(str(R"x(convtest.str(foo12),regsub('(foo|bar)([0-9]+)?','\2\1'))x"), "12foo");
    EXPECT_EQ(str(R"x(convtest.str(FOO12),regsub('(foo|bar)','x'))x"), "FOO12");  // no i
    EXPECT_EQ(str(R"x(convtest.str(ab),regsub('(x)?b','[\1]'))x"), "a[]");        // unset group
    EXPECT_EQ(str(R"x(convtest.str(ab),regsub(a,'\x41\\'))x"), "A\\b");
    // Empty matches copy one character and move on, as sed does.
    EXPECT_EQ(str("convtest.str(abc),regsub('x*','-',g)"), "-a-b-c-");
    EXPECT_EQ(str("convtest.str(abc),regsub('x*','-')"), "-abc");
    EXPECT_EQ(str("convtest.str(''),regsub('x*','-',g)"), "-");
    // Later rounds do not see the start of the input again.
    EXPECT_EQ(str("convtest.str(aaa),regsub('^a','b',g)"), "baa");
    EXPECT_EQ(str("convtest.str(abc),regsub(z,y,gi)"), "abc");
    EXPECT_ERROR("convtest.str(a),regsub('(',x)", "invalid regex '('");
    EXPECT_ERROR("convtest.str(a),regsub(a,b,x)", "invalid regex flag 'x'");
    EXPECT_ERROR(R"x(convtest.str(a),regsub(a,b\\))x", "lone '\\'");
    EXPECT_ERROR(R"x(convtest.str(a),regsub(a,'\xZ1'))x", "two hex digits");
    EXPECT_ERROR("convtest.str(a),regsub(a)", "at least 2");
}

TEST_F(ConvString, RegsubIsStableAcrossArenaResets) {
    auto e = parse_expr(R"(convtest.str(a.b.c),regsub('\.',/,g))", Use::Internal);
    ASSERT_TRUE(e) << e.error();
    for (int i = 0; i < 100; ++i) {
        arena.reset();
        Sample s;
        ASSERT_TRUE(e->eval(ctx, s));
        ASSERT_EQ(s.str, "a/b/c");
    }
}

TEST_F(ConvString, Json) {
    EXPECT_EQ(str("convtest.str(foo 1/2),json"), "foo 1\\/2");
    EXPECT_EQ(str("convtest.bin(225C0A090D080C01),json"), R"(\"\\\n\t\r\b\f\u0001)");
    EXPECT_EQ(str("convtest.bin(C3A9),json"), "\\u00c3\\u00a9");  // ascii: byte by byte
    EXPECT_EQ(str("convtest.bin(C3A9),json(ascii)"), "\\u00c3\\u00a9");
    EXPECT_EQ(str("convtest.bin(C3A9),json(utf8)"), "\\u00e9");
    EXPECT_EQ(str("convtest.bin(E282AC),json(utf8)"), "\\u20ac");
    // HAProxy's regression test: a truncated sequence fails utf8, is dropped by utf8s.
    EXPECT_TRUE(none("convtest.bin(E0),json(utf8)"));
    EXPECT_EQ(str("convtest.bin(2DE02D),json(utf8s)"), "--");
    // Overlong '/': only the p modes accept (and fix) it.
    EXPECT_TRUE(none("convtest.bin(C0AF),json(utf8)"));
    EXPECT_EQ(str("convtest.bin(2DC0AF2D),json(utf8s)"), "--");
    EXPECT_EQ(str("convtest.bin(C0AF),json(utf8p)"), "\\/");
    EXPECT_EQ(str("convtest.bin(C0AF),json(utf8ps)"), "\\/");
    // A surrogate is an invalid range even for p; beyond 16 bits JSON cannot escape it.
    EXPECT_TRUE(none("convtest.bin(EDA080),json(utf8p)"));
    EXPECT_EQ(str("convtest.bin(41EDA080),json(utf8ps)"), "A");
    EXPECT_TRUE(none("convtest.bin(F09F9880),json(utf8)"));
    EXPECT_EQ(str("convtest.bin(41F09F9880),json(utf8s)"), "A");
    EXPECT_EQ(str("convtest.bin(80C341),json(utf8s)"), "A");  // lone continuation, cut seq
    EXPECT_ERROR("convtest.str(a),json(latin1)", "unexpected input code 'latin1'");
}

TEST_F(ConvString, UrlDecodeAndEncode) {
    EXPECT_EQ(str("convtest.str(/bla+%20?foo%3Dbar+a),url_dec"), "/bla+ ?foo=bar a");
    EXPECT_EQ(str("convtest.str(a+b),url_dec"), "a+b");
    EXPECT_EQ(str("convtest.str(a+b),url_dec(1)"), "a b");
    EXPECT_EQ(str("convtest.str(a+b),url_dec(0)"), "a+b");
    EXPECT_EQ(str("convtest.str(%41%4a%4A),url_dec"), "AJJ");
    EXPECT_TRUE(none("convtest.str(a%zz),url_dec"));
    EXPECT_TRUE(none("convtest.str(a%4),url_dec"));
    EXPECT_ERROR("convtest.str(a),url_dec(x)", "must be an integer");
    // HAProxy's regression test.
    EXPECT_EQ(str("convtest.str('foo=bar+42 42 '),url_enc"), "foo%3Dbar%2B42%2042%20");
    EXPECT_EQ(str("convtest.str('foo=bar+42 42 '),url_enc(query)"), "foo%3Dbar%2B42%2042%20");
    EXPECT_EQ(str("convtest.str(aZ09-._~),url_enc"), "aZ09-._~");
    EXPECT_EQ(str("convtest.bin(E92F00),url_enc"), "%E9%2F%00");
    EXPECT_ERROR("convtest.str(a),url_enc(path)", "only 'query'");
}

TEST_F(ConvString, Base64AndHex) {
    EXPECT_EQ(str("convtest.str(hello),base64"), "aGVsbG8=");
    EXPECT_EQ(str("convtest.str(he),base64"), "aGU=");
    EXPECT_EQ(str("convtest.str(hel),base64"), "aGVs");
    EXPECT_EQ(str("convtest.str(''),base64"), "");
    EXPECT_EQ(str("convtest.bin(00FF10FB),base64"), "AP8Q+w==");
    EXPECT_EQ(str("convtest.str(aGVsbG8=),b64dec", Type::Bin), "hello");
    EXPECT_EQ(str("convtest.str(aGU=),b64dec", Type::Bin), "he");
    EXPECT_EQ(str("convtest.str(''),b64dec", Type::Bin), "");
    EXPECT_EQ(str("convtest.str(AP8Q+w==),b64dec,hex"), "00FF10FB");
    EXPECT_TRUE(none("convtest.str(aGVsbG8),b64dec"));      // not whole groups
    EXPECT_TRUE(none("convtest.str(aG==bG8=),b64dec"));     // padding inside
    EXPECT_TRUE(none("convtest.str(a===),b64dec"));         // too much padding
    EXPECT_TRUE(none("convtest.str('aGVs bG8='),b64dec"));  // no blanks
    EXPECT_EQ(str("convtest.bin(00FF7f),hex"), "00FF7F");
    EXPECT_EQ(str("convtest.str(''),hex"), "");
    EXPECT_EQ(sint("convtest.str(7f),hex2i"), 127);
    EXPECT_EQ(sint("convtest.str(FFFF),hex2i"), 65535);
    EXPECT_EQ(sint("convtest.str(ffffffffffffffff),hex2i"), -1);
    EXPECT_EQ(sint("convtest.str(''),hex2i"), 0);
    EXPECT_TRUE(none("convtest.str(12g4),hex2i"));
}

TEST_F(ConvString, Trim) {
    EXPECT_EQ(str("convtest.str('  a b  '),ltrim(' ')"), "a b  ");
    EXPECT_EQ(str("convtest.str('  a b  '),rtrim(' ')"), "  a b");
    EXPECT_EQ(str("convtest.str(abcba),ltrim(ab)"), "cba");
    EXPECT_EQ(str("convtest.str(abcba),rtrim(ab)"), "abc");
    EXPECT_EQ(str("convtest.str(aaa),ltrim(a)"), "");
    EXPECT_EQ(str("convtest.str(aaa),rtrim(a)"), "");
    EXPECT_EQ(str("convtest.str(abc),ltrim('')"), "abc");
    EXPECT_ERROR("convtest.str(a),ltrim", "at least 1");
}

TEST_F(ConvString, HostAndPort) {
    EXPECT_EQ(str("convtest.str(Example.COM:8080),host_only"), "example.com");
    EXPECT_EQ(str("convtest.str(example.com),host_only"), "example.com");
    EXPECT_EQ(str("convtest.str(127.0.0.1:80),host_only"), "127.0.0.1");
    EXPECT_EQ(str("convtest.str([::1]:80),host_only"), "[::1]");
    EXPECT_EQ(str("convtest.str([2001:DB8::1]),host_only"), "[2001:db8::1]");
    EXPECT_EQ(sint("convtest.str(example.com:8080),port_only"), 8080);
    EXPECT_EQ(sint("convtest.str(127.0.0.1:80),port_only"), 80);
    EXPECT_EQ(sint("convtest.str([::1]:443),port_only"), 443);
    EXPECT_EQ(sint("convtest.str([::1]),port_only"), 0);
    EXPECT_EQ(sint("convtest.str(example.com),port_only"), 0);
    EXPECT_EQ(sint("convtest.str(example.com:),port_only"), 0);
}

TEST_F(ConvString, ConcatStrcmpSecureMemcmp) {
    txn.set("ip", Sample::string("1.2.3.4"));
    txn.set("n", Sample::integer(42));
    EXPECT_EQ(str("convtest.str(a),concat(<ip=,txn.ip,>)"), "a<ip=1.2.3.4>");
    EXPECT_EQ(str("convtest.str(a),concat(<ip=,txn.missing,>)"), "a<ip=>");
    EXPECT_EQ(str("convtest.str(a),concat(,txn.n)"), "a42");
    EXPECT_EQ(str("convtest.str(a),concat('-')"), "a-");
    EXPECT_EQ(str("convtest.str(a),concat(,,z)"), "az");
    EXPECT_EQ(str("convtest.str(a),concat()"), "a");
    EXPECT_EQ(str("convtest.int(7),concat(x)"), "7x");
    EXPECT_ERROR("convtest.str(a),concat(x,nope)", "has no scope");
    EXPECT_ERROR("convtest.str(a),concat(x,txn.)", "empty variable name");

    txn.set("host", Sample::string("example.com"));
    EXPECT_EQ(sint("convtest.str(example.com),strcmp(txn.host)"), 0);
    EXPECT_LT(sint("convtest.str(example.co),strcmp(txn.host)"), 0);
    EXPECT_GT(sint("convtest.str(example.comm),strcmp(txn.host)"), 0);
    EXPECT_GT(sint("convtest.str(example.cop),strcmp(txn.host)"), 0);
    EXPECT_LT(sint("convtest.str(Example.com),strcmp(txn.host)"), 0);
    EXPECT_TRUE(none("convtest.str(a),strcmp(txn.missing)"));
    EXPECT_ERROR("convtest.str(a),strcmp(host)", "has no scope");
    EXPECT_ERROR("convtest.str(a),strcmp('')", "missing variable name");
    EXPECT_ERROR("convtest.str(a),strcmp", "at least 1");

    txn.set("tok", Sample::string("secret"));
    EXPECT_TRUE(boolean("convtest.str(secret),secure_memcmp(txn.tok)"));
    EXPECT_FALSE(boolean("convtest.str(secreT),secure_memcmp(txn.tok)"));
    EXPECT_FALSE(boolean("convtest.str(secre),secure_memcmp(txn.tok)"));
    EXPECT_TRUE(none("convtest.str(a),secure_memcmp(sess.tok)"));
    EXPECT_ERROR("convtest.str(a),secure_memcmp(tok)", "has no scope");
}

TEST_F(ConvArith, Operations) {
    EXPECT_EQ(sint("convtest.int(10),add(5)"), 15);
    EXPECT_EQ(sint("convtest.int(10),add(-15)"), -5);
    EXPECT_EQ(sint("convtest.int(10),sub(3)"), 7);
    EXPECT_EQ(sint("convtest.int(10),mul(-3)"), -30);
    EXPECT_EQ(sint("convtest.int(10),div(3)"), 3);
    EXPECT_EQ(sint("convtest.int(-10),div(3)"), -3);  // truncates toward zero
    EXPECT_EQ(sint("convtest.int(10),mod(3)"), 1);
    EXPECT_EQ(sint("convtest.int(-10),mod(3)"), -1);
    EXPECT_EQ(sint("convtest.int(10),and(6)"), 2);
    EXPECT_EQ(sint("convtest.int(10),or(5)"), 15);
    EXPECT_EQ(sint("convtest.int(10),xor(3)"), 9);
    EXPECT_EQ(sint("convtest.int(10),neg"), -10);
    EXPECT_EQ(sint("convtest.int(10),cpl"), -11);
    EXPECT_EQ(sint("convtest.int(5),neg,add(8)"), 3);  // the manual's reversed subtract
    EXPECT_TRUE(boolean("convtest.int(4),bool"));
    EXPECT_FALSE(boolean("convtest.int(0),bool"));
    EXPECT_TRUE(boolean("convtest.int(0),not"));
    EXPECT_FALSE(boolean("convtest.int(-3),not"));
    EXPECT_TRUE(boolean("convtest.int(-3),odd"));
    EXPECT_FALSE(boolean("convtest.int(4),odd"));
    EXPECT_TRUE(boolean("convtest.int(4),even"));
    EXPECT_TRUE(boolean("convtest.int(12),and(4),bool"));
    EXPECT_EQ(sint("convtest.str(12),add(+1)"), 13);  // strings are read as integers
    EXPECT_TRUE(none("convtest.str(abc),add(1)"));
}

TEST_F(ConvArith, SaturatesInsteadOfOverflowing) {
    EXPECT_EQ(sint("convtest.int(9223372036854775807),add(1)"), kMax);
    EXPECT_EQ(sint("convtest.int(-9223372036854775808),add(-1)"), kMin);
    EXPECT_EQ(sint("convtest.int(-9223372036854775808),sub(1)"), kMin);
    EXPECT_EQ(sint("convtest.int(0),sub(-9223372036854775808)"), kMax);
    EXPECT_EQ(sint("convtest.int(-5),sub(-9223372036854775808)"), kMax - 4);
    EXPECT_EQ(sint("convtest.int(4611686018427387904),mul(3)"), kMax);
    EXPECT_EQ(sint("convtest.int(4611686018427387904),mul(-3)"), kMin);
    EXPECT_EQ(sint("convtest.int(4611686018427387904),mul(-2)"), kMin);  // exact, no overflow
    EXPECT_EQ(sint("convtest.int(-9223372036854775808),mul(-1)"), kMax);
    EXPECT_EQ(sint("convtest.int(-9223372036854775808),neg"), kMax);
    // Division by zero: the largest integer, whatever the sign; modulo by zero: 0.
    EXPECT_EQ(sint("convtest.int(5),div(0)"), kMax);
    EXPECT_EQ(sint("convtest.int(-5),div(0)"), kMax);
    EXPECT_EQ(sint("convtest.int(-9223372036854775808),div(-1)"), kMax);
    EXPECT_EQ(sint("convtest.int(5),mod(0)"), 0);
    EXPECT_EQ(sint("convtest.int(-9223372036854775808),mod(-1)"), 0);
}

TEST_F(ConvArith, VariableOperands) {
    txn.set("n", Sample::integer(4));
    txn.set("s", Sample::string("7"));
    txn.set("junk", Sample::string("abc"));
    sess.set("m", Sample::integer(2));
    EXPECT_EQ(sint("convtest.int(10),add(txn.n)"), 14);
    EXPECT_EQ(sint("convtest.int(10),sub(txn.s)"), 3);
    EXPECT_EQ(sint("convtest.int(10),mul(sess.m)"), 20);
    EXPECT_EQ(sint("convtest.int(10),div(sess.m),and(txn.n)"), 4);
    EXPECT_TRUE(none("convtest.int(10),add(txn.junk)"));
    EXPECT_TRUE(none("convtest.int(10),add(txn.missing)"));
    EXPECT_TRUE(none("convtest.int(10),add(req.n)"));  // no request scope attached here
}

TEST_F(ConvArith, BadArguments) {
    EXPECT_ERROR("convtest.int(1),add(foo)", "expects an integer or a variable name, not 'foo'");
    EXPECT_ERROR("convtest.int(1),div(1.5)", "expects an integer or a variable name");
    EXPECT_ERROR("convtest.int(1),mod(tx.n)", "unknown variable scope 'tx'");
    EXPECT_ERROR("convtest.int(1),add(99999999999999999999)", "expects an integer");
    EXPECT_ERROR("convtest.int(1),add", "at least 1");
    EXPECT_ERROR("convtest.int(1),add(1,2)", "at most 1");
    EXPECT_ERROR("convtest.int(1),neg(1)", "'neg' takes no argument");
    EXPECT_ERROR("convtest.bin(00),add(1)", "cannot be applied to a sample of type 'bin'");
}

TEST_F(ConvArith, Ipmask) {
    EXPECT_EQ(ip("convtest.str(192.168.1.77),ipmask(24)"), "192.168.1.0");
    EXPECT_EQ(ip("convtest.str(192.168.1.77),ipmask(255.255.0.0)"), "192.168.0.0");
    EXPECT_EQ(ip("convtest.str(192.168.1.77),ipmask(255.0.255.0)"), "192.0.1.0");
    EXPECT_EQ(ip("convtest.str(192.168.1.77),ipmask(0)"), "0.0.0.0");
    EXPECT_EQ(ip("convtest.str(192.168.1.77),ipmask(32)"), "192.168.1.77");
    EXPECT_EQ(ip("convtest.str(192.168.1.77),ipmask(20)"), "192.168.0.0");
    EXPECT_EQ(ip("convtest.str(2001:db8:1:2::5),ipmask(24,64)"), "2001:db8:1:2::");
    EXPECT_EQ(ip("convtest.str(2001:db8:1:2::5),ipmask(24,ffff:ffff::)"), "2001:db8::");
    EXPECT_EQ(ip("convtest.str(2001:db8:1:2::5),ipmask(24,128)"), "2001:db8:1:2::5");
    EXPECT_EQ(ip("convtest.str(::ffff:10.1.2.3),ipmask(8)"), "10.0.0.0");  // v4-mapped
    EXPECT_TRUE(none("convtest.str(2001:db8::1),ipmask(24)"));             // IPv6 needs a mask6
    EXPECT_TRUE(none("convtest.str(not-an-ip),ipmask(24)"));
    auto e = parse_expr("convtest.str(1.2.3.4),ipmask(24)", Use::Internal);
    ASSERT_TRUE(e) << e.error();
    EXPECT_EQ(e->type(), Type::Ipv4);
    EXPECT_ERROR("convtest.str(a),ipmask(33)", "invalid IPv4 mask '33'");
    EXPECT_ERROR("convtest.str(a),ipmask(-1)", "invalid IPv4 mask");
    EXPECT_ERROR("convtest.str(a),ipmask(255.255.0)", "invalid IPv4 mask");
    EXPECT_ERROR("convtest.str(a),ipmask(24,129)", "invalid IPv6 mask '129'");
    EXPECT_ERROR("convtest.str(a),ipmask(24,zz::)", "invalid IPv6 mask");
    EXPECT_ERROR("convtest.str(a),ipmask", "at least 1");
    EXPECT_ERROR("convtest.int(1),ipmask(24)", "cannot be applied to a sample of type 'sint'");
}

TEST_F(ConvHash, LoadBalancingHashes) {
    // Plain values from zlib.crc32 and the published check values; avalanche values from a
    // transcription of HAProxy's full_hash.
    EXPECT_EQ(sint("convtest.str(123456789),crc32"), 0xCBF43926);
    EXPECT_EQ(sint("convtest.str(123456789),crc32(1)"), 1130417534);
    EXPECT_EQ(sint("convtest.str(123456789),crc32(7)"), 1130417534);  // any non-zero
    EXPECT_EQ(sint("convtest.str(123456789),crc32(0)"), 0xCBF43926);
    EXPECT_EQ(sint("convtest.str(123456789),crc32c"), 0xE3069283);
    EXPECT_EQ(sint("convtest.str(123456789),crc32c(1)"), 1236241323);
    EXPECT_EQ(sint("convtest.str(''),crc32"), 0);
    EXPECT_EQ(sint("convtest.str(''),crc32(1)"), 2874071335);
    EXPECT_EQ(sint("convtest.str(''),djb2"), 5381);
    EXPECT_EQ(sint("convtest.str(a),djb2"), 177670);
    EXPECT_EQ(sint("convtest.str('hello world'),djb2"), 894552257);
    EXPECT_EQ(sint("convtest.str('hello world'),djb2(1)"), 2328455893);
    EXPECT_EQ(sint("convtest.str(a),sdbm"), 97);
    EXPECT_EQ(sint("convtest.str('hello world'),sdbm"), 430867652);
    EXPECT_EQ(sint("convtest.str('hello world'),sdbm(1)"), 261123301);
    EXPECT_EQ(sint("convtest.str(''),wt6"), 4187620192);
    EXPECT_EQ(sint("convtest.str(a),wt6"), 1900802597);
    EXPECT_EQ(sint("convtest.str(123456789),wt6"), 2225171485);
    EXPECT_EQ(sint("convtest.str(123456789),wt6(1)"), 4053691039);
    // An integer hashes as its 8 big-endian bytes (HAProxy's sint-to-bin cast).
    EXPECT_EQ(sint("convtest.int(1),crc32"), 304476159);
    EXPECT_ERROR("convtest.str(a),crc32(yes)", "must be an integer");
    EXPECT_ERROR("convtest.str(a),djb2(1,2)", "at most 1");
}

TEST_F(ConvHash, XxHash) {
    // The reference implementation's published values for the empty input and "abc".
    EXPECT_EQ(sint("convtest.str(''),xxh32"), 0x02CC5D05);
    EXPECT_EQ(sint("convtest.str(abc),xxh32"), 0x32D153FF);
    EXPECT_EQ(sint("convtest.str(''),xxh64"), -1205034819632174695);  // 0xEF46DB3751D8E999
    EXPECT_EQ(sint("convtest.str(abc),xxh64"), 0x44BC2CF5AD770999);
    EXPECT_EQ(sint("convtest.str(''),xxh3"), 0x2D06800538D394C2);
    EXPECT_NE(sint("convtest.str(abc),xxh32(1)"), sint("convtest.str(abc),xxh32"));
    EXPECT_NE(sint("convtest.str(abc),xxh64(1)"), sint("convtest.str(abc),xxh64"));
    EXPECT_NE(sint("convtest.str(abc),xxh3(1)"), sint("convtest.str(abc),xxh3"));
    EXPECT_EQ(sint("convtest.str(abc),xxh3(0)"), sint("convtest.str(abc),xxh3"));
}

TEST_F(ConvHash, Digests) {
    EXPECT_EQ(str("convtest.str(abc),sha1,hex,lower"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(str("convtest.str(abc),sha1", Type::Bin).size(), 20u);
    EXPECT_EQ(str("convtest.str(abc),sha2,hex,lower"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(str("convtest.str(abc),sha2(224),hex,lower"),
              "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    EXPECT_EQ(str("convtest.str(abc),sha2(384),hex,lower"),
              "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358"
              "baeca134c825a7");
    EXPECT_EQ(str("convtest.str(abc),sha2(512),hex,lower"),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
              "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    EXPECT_EQ(str("convtest.str(abc),digest(md5),hex,lower"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(str("convtest.str(abc),digest(sha256),hex"), str("convtest.str(abc),sha2,hex"));
    EXPECT_ERROR("convtest.str(a),sha2(100)", "unsupported number of bits 100");
    EXPECT_ERROR("convtest.str(a),sha1(1)", "'sha1' takes no argument");
    EXPECT_ERROR("convtest.str(a),digest(nope)", "unknown message digest 'nope'");
    EXPECT_ERROR("convtest.str(a),digest", "at least 1");
}

TEST_F(ConvHash, Hmac) {
    // HAProxy's regression test: a literal base64 key, and a key held base64 in a variable.
    EXPECT_EQ(str("convtest.str(1),hmac(sha1,a2V5),hex,lower"),
              "e23feb105f9622241bf23db1638cd2b4208b1f53");
    txn.set("key", Sample::string("bXlfc3VwZXJfc2VjcmV0X2xvbmdfa2V5"));
    EXPECT_EQ(str("convtest.str(2),hmac(sha256,txn.key),hex,lower"),
              "c073191a2ebf29f510444b92c187d62199d84b58f58dceeadb91994c170a9a16");
    EXPECT_EQ(str("convtest.str(abc),hmac(sha256,''),hex,lower"),
              "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351");
    // Keys longer than the digest's block are hashed first; SHA-3 has a 136-byte block.
    txn.set(
        "long",
        Sample::string(
            "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tr"
            "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2traw=="));  // 100 'k'
    EXPECT_EQ(str("convtest.str(abc),hmac(sha256,txn.long),hex,lower"),
              "b58b2b694fdba0dd76da3ebe99174f728d327560f36ece224e90867972479922");
    EXPECT_EQ(str("convtest.str(abc),hmac(sha512,txn.long),hex,lower"),
              "ed99a1284c39586942dd1e802ed67e0f54f6afb6b62481ad16c82467ee5d09d19dc663a134e23950"
              "5c9d8e221ca98a3d513c670216c714235fee63edaf717ce8");
    EXPECT_EQ(str("convtest.str(abc),hmac(sha3-256,a2V5),hex,lower"),
              "09b6dbab8d11795ca7c8d82f1cf91682013c7cb980abbb25473be4ae7f7b5683");
    EXPECT_TRUE(none("convtest.str(abc),hmac(sha256,txn.missing)"));
    txn.set("bad", Sample::string("not base64!"));
    EXPECT_TRUE(none("convtest.str(abc),hmac(sha256,txn.bad)"));
    EXPECT_ERROR("convtest.str(a),hmac(sha256,'!!!')", "neither base64 nor a variable name");
    EXPECT_ERROR("convtest.str(a),hmac(nope,a2V5)", "unknown message digest 'nope'");
    EXPECT_ERROR("convtest.str(a),hmac(shake128,a2V5)", "cannot be used for an HMAC");
    EXPECT_ERROR("convtest.str(a),hmac(sha256)", "at least 2");
}

}  // namespace
}  // namespace sluice::sample
