// Sample expressions (expr.cpp), casts (sample.cpp), rule formats (format.cpp) and variables
// (vars.cpp): parsing with HAProxy's quoting and escapes, the errors a config gets (unknown
// names with a suggestion, argument counts and kinds, data the rule does not have, trailing
// bytes), evaluation through converter chains, and set-var/var()/unset-var on attached stores.
// Where HAProxy's behaviour is quoted, it was checked against haproxy 2.6.12.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/expr.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/sample/vars.hpp"

namespace sluice::sample {
namespace {

constexpr Use kReqAvail = Use::Internal | Use::Conn | Use::Req;
constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;

std::string ip_text(const Sample& s) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (s.type == Type::Ipv4) inet_ntop(AF_INET, s.ip.data(), buf, sizeof buf);
    if (s.type == Type::Ipv6) inet_ntop(AF_INET6, s.ip.data(), buf, sizeof buf);
    return buf;
}

Sample ipv4(const char* text) {
    Sample s = Sample::of(Type::Ipv4);
    EXPECT_EQ(inet_pton(AF_INET, text, s.ip.data()), 1) << text;
    return s;
}
Sample ipv6(const char* text) {
    Sample s = Sample::of(Type::Ipv6);
    EXPECT_EQ(inet_pton(AF_INET6, text, s.ip.data()), 1) << text;
    return s;
}

class ExprTest : public ::testing::Test {
  protected:
    ExprTest() { ctx.attach(&vars); }

    // Parses (failing the test on an error) and keeps the expression: samples may be views
    // into its arguments.
    const Expr* parse(std::string_view text, Use available = kAll) {
        auto e = parse_expr(text, available);
        if (!e) {
            ADD_FAILURE() << text << ": " << e.error();
            return nullptr;
        }
        exprs.push_back(std::move(*e));
        return &exprs.back();
    }
    std::optional<Sample> eval(std::string_view text) {
        const Expr* e = parse(text);
        Sample s;
        if (!e || !e->eval(ctx, s)) return std::nullopt;
        return s;
    }
    // The value as a string ("<none>" when there is no sample), checking its type.
    std::string str(std::string_view text, Type t = Type::Str) {
        auto s = eval(text);
        if (!s) return "<none>";
        EXPECT_EQ(type_name(s->type), type_name(t)) << text;
        if (s->type == Type::Ipv4 || s->type == Type::Ipv6) return ip_text(*s);
        if (!cast(*s, Type::Str, arena)) return "<uncastable>";
        return std::string(s->str);
    }
    std::int64_t sint(std::string_view text) {
        auto s = eval(text);
        if (!s) {
            ADD_FAILURE() << text << ": no sample";
            return -424242;
        }
        EXPECT_EQ(type_name(s->type), type_name(Type::Sint)) << text;
        return s->sint;
    }
    std::string error(std::string_view text, Use available = kAll) {
        auto e = parse_expr(text, available);
        if (e) ADD_FAILURE() << text << ": parsed, expected an error";
        return e ? std::string() : e.error();
    }

    Arena arena;
    Context ctx{arena};
    VarStore sess, txn, req, res;
    Vars vars{.sess = &sess, .txn = &txn, .req = &req, .res = &res};
    std::deque<Expr> exprs;
};

#define EXPECT_ERROR(text, fragment)                                                   \
    do {                                                                               \
        const std::string err_ = error(text);                                          \
        EXPECT_NE(err_.find(fragment), std::string::npos) << (text) << " -> " << err_; \
    } while (0)

class ExprParse : public ExprTest {};
class ExprEval : public ExprTest {};
class VarTest : public ExprTest {};

// ---- Parsing -------------------------------------------------------------------------------

TEST_F(ExprParse, FetchWithoutAndWithArguments) {
    const Expr* e = parse("always_true");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->fetch->name, "always_true");
    EXPECT_TRUE(e->fetch_args.list.empty());
    EXPECT_TRUE(e->converters.empty());
    EXPECT_EQ(e->text, "always_true");
    EXPECT_EQ(e->type(), Type::Bool);

    e = parse("hdr(host,-2)");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->fetch->name, "hdr");
    ASSERT_EQ(e->fetch_args.list.size(), 2u);
    EXPECT_EQ(e->fetch_args.list[0].text, "host");
    EXPECT_EQ(e->fetch_args.list[1].text, "-2");
    EXPECT_EQ(e->fetch_args.list[1].sint, -2);  // the spec asks for an integer there
    EXPECT_EQ(e->fetch_args.at(1), &e->fetch_args.list[1]);
    EXPECT_EQ(e->fetch_args.at(2), nullptr);

    e = parse("int(+17)");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->fetch_args.list[0].sint, 17);
    EXPECT_EQ(sint("int(-9223372036854775808)"), INT64_MIN);
}

TEST_F(ExprParse, QuotesAndEscapes) {
    // Bare words and double quotes take backslash escapes; single quotes keep everything.
    EXPECT_EQ(str(R"(str(a\,b))"), "a,b");
    EXPECT_EQ(str(R"(str(a\\b))"), R"(a\b)");
    EXPECT_EQ(str(R"(str(a\)b))"), "a)b");
    EXPECT_EQ(str(R"(str("a,b"))"), "a,b");
    EXPECT_EQ(str(R"(str("a\"b"))"), R"(a"b)");
    EXPECT_EQ(str(R"(str("a\\b"))"), R"(a\b)");
    EXPECT_EQ(str(R"(str('a\b'))"), R"(a\b)");
    EXPECT_EQ(str(R"(str('a\\b'))"), R"(a\\b)");
    EXPECT_EQ(str(R"(str('a,b'))"), "a,b");
    EXPECT_EQ(str(R"(str('x"y'))"), R"(x"y)");
    EXPECT_EQ(str(R"(str("x'y"))"), "x'y");
    // Quotes group and go, wherever they are in the word.
    EXPECT_EQ(str(R"(str(a"b,c"d))"), "ab,cd");
    EXPECT_EQ(str(R"(str(""))"), "");
    EXPECT_EQ(str("str('')"), "");
    EXPECT_EQ(str(R"(str(" a "))"), " a ");
    // A regex back-reference survives in single quotes (regsub's documented spelling).
    EXPECT_EQ(str(R"(str(abc),regsub('(b)','<\1>'))"), "a<b>c");
}

TEST_F(ExprParse, SplitArgs) {
    auto v = split_args("a,b");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, (std::vector<std::string>{"a", "b"}));
    v = split_args("");
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v->empty());
    v = split_args("a,");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, (std::vector<std::string>{"a", ""}));
    v = split_args(",");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, (std::vector<std::string>{"", ""}));
    v = split_args(R"('a,b',"c\"d",e\,f)");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, (std::vector<std::string>{"a,b", R"(c"d)", "e,f"}));
    v = split_args("f(x,y),z");  // parentheses nest
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, (std::vector<std::string>{"f(x,y)", "z"}));
    auto bad = split_args(R"("abc)");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().find("unterminated quote"), std::string::npos) << bad.error();
    bad = split_args("'abc");
    EXPECT_FALSE(bad.ok());
}

TEST_F(ExprParse, ConverterChain) {
    const Expr* e = parse("str(HeLLo),lower,upper");
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->converters.size(), 2u);
    EXPECT_EQ(e->converters[0].converter->name, "lower");
    EXPECT_EQ(e->converters[1].converter->name, "upper");
    EXPECT_EQ(e->text, "str(HeLLo),lower,upper");
    EXPECT_EQ(str("str(HeLLo),lower,upper"), "HELLO");

    e = parse("str(abc),length");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->type(), Type::Sint);  // the last converter's output type
    EXPECT_EQ(sint("str(abc),length"), 3);
    EXPECT_EQ(sint("int(5),add(3),mul(2)"), 16);
    EXPECT_EQ(sint("int(5),add(3),mul(2),sub(1)"), 15);
    // A converter's arguments are split and checked as a fetch's are.
    EXPECT_EQ(str("str('x,y'),field(2,',')"), "y");
    EXPECT_EQ(str("str(a_b_c),field(2,_)"), "b");
}

TEST_F(ExprParse, UnknownNamesSuggestTheNearest) {
    EXPECT_ERROR("hdrr(host)", "unknown fetch method 'hdrr'");
    EXPECT_ERROR("hdrr(host)", "(did you mean 'hdr'?)");
    EXPECT_ERROR("metod", "(did you mean 'method'?)");
    EXPECT_ERROR("str(a),lowr", "unknown converter 'lowr'");
    EXPECT_ERROR("str(a),lowr", "(did you mean 'lower'?)");
    EXPECT_ERROR("str(a),lower,uper", "(did you mean 'upper'?)");
    // Nothing close: no suggestion.
    const std::string far = error("zzzzzzzzzz");
    EXPECT_NE(far.find("unknown fetch method 'zzzzzzzzzz'"), std::string::npos) << far;
    EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
    const std::string far_conv = error("str(a),qqqqqqqqqq");
    EXPECT_NE(far_conv.find("unknown converter 'qqqqqqqqqq'"), std::string::npos) << far_conv;
    EXPECT_EQ(far_conv.find("did you mean"), std::string::npos) << far_conv;
    // A derived ACL spelling is no fetch.
    EXPECT_ERROR("path_beg", "unknown fetch method 'path_beg'");
}

TEST_F(ExprParse, ArgumentCounts) {
    EXPECT_ERROR("always_true(x)", "'always_true' takes no argument");
    EXPECT_ERROR("str(a,b)", "'str' expects at most 1 argument(s), got 2");
    EXPECT_ERROR("hdr(a,1,2)", "'hdr' expects at most 2 argument(s), got 3");
    EXPECT_ERROR("int", "'int' expects at least 1 argument(s), got 0");
    EXPECT_ERROR("str(a),lower(x)", "'lower' takes no argument");
    EXPECT_ERROR("str(a),add", "'add' expects at least 1 argument(s)");
    EXPECT_ERROR("str(a),field(1)", "at least 2");
}

TEST_F(ExprParse, PathWithEmptyParenthesesIsZeroArguments) {
    // `path()` passes no argument: as `path`.
    const Expr* e = parse("path()");
    ASSERT_NE(e, nullptr);
    EXPECT_TRUE(e->fetch_args.list.empty());
}

TEST_F(ExprParse, IntegersWhereTheSpecAsksForThem) {
    EXPECT_ERROR("int(abc)", "'int': argument 1 must be an integer, not 'abc'");
    EXPECT_ERROR("int(12x)", "must be an integer, not '12x'");
    EXPECT_ERROR("int( 5)", "must be an integer");
    EXPECT_ERROR("int(5 )", "must be an integer");
    EXPECT_ERROR("int()", "");  // empty: no integer (or no argument)
    EXPECT_ERROR("int(+)", "must be an integer");
    EXPECT_ERROR("int(9223372036854775808)", "must be an integer");
    EXPECT_ERROR("hdr(host,x)", "'hdr': argument 2 must be an integer, not 'x'");
    // add() takes an integer or a variable name, as in HAProxy.
    EXPECT_ERROR("str(a),add(two)", "'add': expects an integer or a variable name, not 'two'");
    EXPECT_ERROR("str(a),bytes(1,x)", "argument 2 must be an integer");
}

TEST_F(ExprParse, PrepareHooksCheckArguments) {
    EXPECT_ERROR("ipv4(nope)", "'nope' is not an IPv4 address");
    EXPECT_ERROR("date(0,h)", "unit must be 's', 'ms' or 'us', not 'h'");
    EXPECT_ERROR("var(foo)", "has no scope");
    EXPECT_ERROR("str(a),set-var(tx.foo)", "unknown variable scope 'tx'");
}

TEST_F(ExprParse, DataTheRuleDoesNotHave) {
    // A response-only fetch where only the request is available.
    std::string err = error("status", kReqAvail);
    EXPECT_NE(err.find("fetch method 'status' extracts information from response contents, none "
                       "of which is available here"),
              std::string::npos)
        << err;
    err = error("res.hdr(server)", kReqAvail);
    EXPECT_NE(err.find("'res.hdr'"), std::string::npos) << err;
    err = error("path", Use::Internal | Use::Conn);
    EXPECT_NE(err.find("request contents"), std::string::npos) << err;
    err = error("src", Use::Internal);
    EXPECT_NE(err.find("connection information"), std::string::npos) << err;
    // With the data: fine. hdr() reads whichever message the rule has.
    EXPECT_TRUE(parse_expr("status", kAll).ok());
    EXPECT_TRUE(parse_expr("src", Use::Internal | Use::Conn).ok());
    EXPECT_TRUE(parse_expr("hdr(host)", kReqAvail).ok());
    EXPECT_TRUE(parse_expr("hdr(host)", Use::Internal | Use::Conn | Use::Res).ok());
    EXPECT_TRUE(parse_expr("str(a),lower", Use::Internal).ok());
}

TEST_F(ExprParse, TrailingGarbage) {
    EXPECT_ERROR("str(a) junk", "unexpected ' junk' after the expression 'str(a)'");
    EXPECT_ERROR("str(a)x", "unexpected 'x' after the expression 'str(a)'");
    EXPECT_ERROR("str(a),lower)", "unexpected ')'");
    EXPECT_ERROR("path ", "unexpected ' '");
    // What is not an expression at all.
    EXPECT_ERROR("", "missing fetch method");
    EXPECT_ERROR("(x)", "unexpected character '('");
    EXPECT_ERROR("str(abc", "missing closing ')' after arguments to 'str'");
    EXPECT_ERROR(R"(str("abc))", "missing closing ')'");
    EXPECT_ERROR("str(a),", "after 'str(a)'");
    EXPECT_ERROR("str(a),,lower", "after 'str(a)'");
}

TEST_F(ExprParse, PrefixSaysWhatItTook) {
    auto p = parse_expr_prefix("str(a),lower rest", kAll);
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->consumed, 12u);
    EXPECT_EQ(p->expr.text, "str(a),lower");
    p = parse_expr_prefix("path]", kAll);
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->consumed, 4u);
    p = parse_expr_prefix("hdr(x,1)] and more", kAll);
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->consumed, 8u);
    EXPECT_FALSE(parse_expr_prefix("]", kAll).ok());
}

TEST_F(ExprParse, ConverterInputTypesAreChecked) {
    // An address has no integer form here, and a method converts to nothing numeric.
    EXPECT_ERROR("ipv6(::1),add(1)",
                 "converter 'add' cannot be applied to a sample of type 'ipv6'");
    EXPECT_ERROR("meth(GET),add(1)", "cannot be applied to a sample of type 'meth'");
    // Strings convert to anything at run time; Any (var()) is decided then too.
    EXPECT_TRUE(parse_expr("str(1),add(1)", kAll).ok());
    EXPECT_TRUE(parse_expr("var(txn.x),add(1)", kAll).ok());
    EXPECT_TRUE(parse_expr("int(1),lower", kAll).ok());
}

// ---- Evaluation and casts ------------------------------------------------------------------

TEST_F(ExprEval, ConstantFetches) {
    EXPECT_EQ(str("str(hello)"), "hello");
    EXPECT_EQ(sint("int(-42)"), -42);
    auto b = eval("bool(7)");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->type, Type::Bool);
    EXPECT_EQ(b->sint, 1);
    b = eval("always_false");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->sint, 0);
    EXPECT_EQ(str("meth(PURGE)", Type::Meth), "PURGE");
    EXPECT_EQ(str("ipv4(10.1.2.3)", Type::Ipv4), "10.1.2.3");
    EXPECT_EQ(str("ipv6(2001:db8::1)", Type::Ipv6), "2001:db8::1");
}

TEST_F(ExprEval, ConvertersCastTheirInput) {
    EXPECT_EQ(str("int(-42),upper"), "-42");   // sint to str
    EXPECT_EQ(sint("str(42abc),add(1)"), 43);  // str to sint reads a leading integer
    EXPECT_EQ(sint("str(' 7'),add(0)"), 7);    // after blanks
    EXPECT_EQ(sint("str(+7),add(0)"), 7);      // a plus sign
    EXPECT_FALSE(eval("str(abc),add(1)"));     // no digit: no sample
    EXPECT_FALSE(eval("str(''),add(1)"));      //
    EXPECT_EQ(str("str(10.1.2.3),ipmask(8)", Type::Ipv4), "10.0.0.0");  // str to address
    EXPECT_FALSE(eval("str(nope),ipmask(8)"));
    EXPECT_EQ(sint("bool(1),add(1)"), 2);  // bool to sint
}

TEST(ExprCast, IntegersAndStrings) {
    Arena arena;
    Sample s = Sample::integer(-1234);
    ASSERT_TRUE(cast(s, Type::Str, arena));
    EXPECT_EQ(s.type, Type::Str);
    EXPECT_EQ(s.str, "-1234");
    ASSERT_TRUE(cast(s, Type::Sint, arena));
    EXPECT_EQ(s.type, Type::Sint);
    EXPECT_EQ(s.sint, -1234);

    s = Sample::string("9223372036854775807");
    ASSERT_TRUE(cast(s, Type::Sint, arena));
    EXPECT_EQ(s.sint, INT64_MAX);
    s = Sample::string("99999999999999999999");  // out of range: no value
    EXPECT_FALSE(cast(s, Type::Sint, arena));
    s = Sample::string("12 monkeys");
    ASSERT_TRUE(cast(s, Type::Sint, arena));
    EXPECT_EQ(s.sint, 12);
    s = Sample::string("-");
    EXPECT_FALSE(cast(s, Type::Sint, arena));

    s = Sample::string("0");
    ASSERT_TRUE(cast(s, Type::Bool, arena));
    EXPECT_EQ(s.type, Type::Bool);
    EXPECT_EQ(s.sint, 0);
    s = Sample::string("5");
    ASSERT_TRUE(cast(s, Type::Bool, arena));
    EXPECT_EQ(s.sint, 1);
    s = Sample::integer(-3);
    ASSERT_TRUE(cast(s, Type::Bool, arena));
    EXPECT_EQ(s.sint, 1);
    s = Sample::boolean(true);
    ASSERT_TRUE(cast(s, Type::Str, arena));
    EXPECT_EQ(s.str, "1");

    // Method <-> string.
    s = Sample::string("GET");
    ASSERT_TRUE(cast(s, Type::Meth, arena));
    EXPECT_EQ(s.type, Type::Meth);
    ASSERT_TRUE(cast(s, Type::Str, arena));
    EXPECT_EQ(s.str, "GET");
    s = Sample::integer(1);
    EXPECT_FALSE(cast(s, Type::Meth, arena));

    // Casting to the same type or to Any changes nothing.
    s = Sample::string("x");
    ASSERT_TRUE(cast(s, Type::Any, arena));
    EXPECT_EQ(s.type, Type::Str);
}

TEST(ExprCast, ArenaStringsStayValidUntilReset) {
    Arena arena;
    Sample a = Sample::integer(111);
    Sample b = Sample::integer(222);
    ASSERT_TRUE(cast(a, Type::Str, arena));
    for (int i = 0; i < 100; ++i) {  // many more strings: the first must not move
        Sample t = Sample::integer(i);
        ASSERT_TRUE(cast(t, Type::Str, arena));
    }
    ASSERT_TRUE(cast(b, Type::Str, arena));
    EXPECT_EQ(a.str, "111");
    EXPECT_EQ(b.str, "222");
    arena.reset();
    std::string& reused = arena.take();
    EXPECT_TRUE(reused.empty());
}

TEST(ExprCast, Addresses) {
    Arena arena;
    // ipv4 -> ipv6 maps; a mapped ipv6 -> ipv4 unmaps; another ipv6 has no IPv4 form.
    Sample s = ipv4("192.0.2.1");
    ASSERT_TRUE(cast(s, Type::Ipv6, arena));
    EXPECT_EQ(s.type, Type::Ipv6);
    EXPECT_EQ(ip_text(s), "::ffff:192.0.2.1");
    ASSERT_TRUE(cast(s, Type::Ipv4, arena));
    EXPECT_EQ(s.type, Type::Ipv4);
    EXPECT_EQ(ip_text(s), "192.0.2.1");
    s = ipv6("2001:db8::1");
    EXPECT_FALSE(cast(s, Type::Ipv4, arena));
    s = ipv6("::1");
    EXPECT_FALSE(cast(s, Type::Ipv4, arena));

    // str -> addresses, either family for Addr.
    s = Sample::string("10.0.0.1");
    ASSERT_TRUE(cast(s, Type::Addr, arena));
    EXPECT_EQ(s.type, Type::Ipv4);
    EXPECT_EQ(ip_text(s), "10.0.0.1");
    s = Sample::string("::1");
    ASSERT_TRUE(cast(s, Type::Addr, arena));
    EXPECT_EQ(s.type, Type::Ipv6);
    s = Sample::string("10.0.0.1");
    ASSERT_TRUE(cast(s, Type::Ipv6, arena));
    EXPECT_EQ(ip_text(s), "::ffff:10.0.0.1");
    s = Sample::string("::ffff:1.2.3.4");
    ASSERT_TRUE(cast(s, Type::Ipv4, arena));
    EXPECT_EQ(ip_text(s), "1.2.3.4");
    for (const char* bad : {"", "nope", "10.0.0.256", "1.2.3.4:80", "10.0.0.1 ", "::1::2",
                            "1.2.3.4.5", "0123456789abcdef0123456789abcdef0123456789abcdef"}) {
        s = Sample::string(bad);
        EXPECT_FALSE(cast(s, Type::Addr, arena)) << bad;
    }

    // sint -> ipv4: the integer is the address in host order.
    s = Sample::integer(0x0A000001);
    ASSERT_TRUE(cast(s, Type::Ipv4, arena));
    EXPECT_EQ(ip_text(s), "10.0.0.1");

    // Addresses print as text, and as their bytes in binary.
    s = ipv6("2001:db8::1");
    ASSERT_TRUE(cast(s, Type::Str, arena));
    EXPECT_EQ(s.str, "2001:db8::1");
    s = ipv4("1.2.3.4");
    ASSERT_TRUE(cast(s, Type::Bin, arena));
    EXPECT_EQ(s.str, std::string_view("\x01\x02\x03\x04", 4));
    s = ipv4("1.2.3.4");
    EXPECT_FALSE(cast(s, Type::Bool, arena));
}

TEST(ExprCast, Castable) {
    EXPECT_TRUE(castable(Type::Sint, Type::Str));
    EXPECT_TRUE(castable(Type::Str, Type::Sint));
    EXPECT_TRUE(castable(Type::Str, Type::Addr));
    EXPECT_TRUE(castable(Type::Ipv4, Type::Ipv6));
    EXPECT_TRUE(castable(Type::Ipv6, Type::Ipv4));
    EXPECT_TRUE(castable(Type::Sint, Type::Ipv4));
    EXPECT_TRUE(castable(Type::Str, Type::Meth));
    EXPECT_TRUE(castable(Type::Any, Type::Sint));
    EXPECT_TRUE(castable(Type::Ipv4, Type::Any));
    EXPECT_TRUE(castable(Type::Meth, Type::Str));
    EXPECT_FALSE(castable(Type::Ipv6, Type::Sint));
    EXPECT_FALSE(castable(Type::Sint, Type::Meth));
    EXPECT_FALSE(castable(Type::Ipv4, Type::Bool));
    EXPECT_FALSE(castable(Type::Bin, Type::Sint));
    EXPECT_EQ(type_name(Type::Addr), "addr");
    EXPECT_EQ(type_name(Type::Meth), "meth");
}

// HAProxy 2.6 casts ipv4 to sint (the address as a host-order integer): `ipv4(1.2.3.4),add(1)`
// gives 16909061 in haproxy 2.6.12.
TEST(ExprCast, Ipv4ToSintAsHaproxy) {
    Arena arena;
    EXPECT_TRUE(castable(Type::Ipv4, Type::Sint));
    Sample s = ipv4("1.2.3.4");
    ASSERT_TRUE(cast(s, Type::Sint, arena));
    EXPECT_EQ(s.sint, 16909060);
}

// HAProxy casts sint (and bool) to bin as 8 big-endian bytes: `int(1),hex` is
// "0000000000000001" and `int(1),crc32` 304476159 in haproxy 2.6.12.
TEST(ExprCast, SintToBinIsEightBigEndianBytes) {
    Arena arena;
    Sample s = Sample::integer(258);
    ASSERT_TRUE(cast(s, Type::Bin, arena));
    EXPECT_EQ(s.str, std::string_view("\0\0\0\0\0\0\x01\x02", 8));
}

// Pinned against haproxy 2.6.12 (fetch_basic.cpp prepare_ip): `ipv4(::1)` and `ipv6(1.2.3.4)` are
// refused by HAProxy ("failed to parse '::1' as type 'IPv4 address'"), and by sluice.
TEST_F(ExprParse, IpFetchesCheckTheirFamily) {
    EXPECT_ERROR("ipv4(::1)", "::1");
    EXPECT_ERROR("ipv6(1.2.3.4)", "1.2.3.4");
}

TEST_F(ExprParse, IpFetchesTakeMappedAddresses) {
    EXPECT_EQ(str("ipv6(::ffff:1.2.3.4)", Type::Ipv6), "::ffff:1.2.3.4");
}

// ---- Formats -------------------------------------------------------------------------------

class FormatTest : public ::testing::Test {
  protected:
    std::string render(std::string_view text) {
        auto f = Format::parse(text, kAll);
        if (!f) {
            ADD_FAILURE() << text << ": " << f.error();
            return "<error>";
        }
        std::string out = "[";
        f->render(ctx, out);  // appends
        return out.substr(1);
    }
    std::string error(std::string_view text, Use available = kAll) {
        auto f = Format::parse(text, available);
        if (f) ADD_FAILURE() << text << ": parsed, expected an error";
        return f ? std::string() : f.error();
    }
    Arena arena;
    Context ctx{arena};
};

#define EXPECT_FORMAT_ERROR(text, fragment)                                            \
    do {                                                                               \
        const std::string err_ = error(text);                                          \
        EXPECT_NE(err_.find(fragment), std::string::npos) << (text) << " -> " << err_; \
    } while (0)

TEST_F(FormatTest, LiteralText) {
    auto f = Format::parse("hello world", kAll);
    ASSERT_TRUE(f.ok()) << f.error();
    EXPECT_TRUE(f->constant());
    EXPECT_EQ(f->text(), "hello world");
    EXPECT_EQ(render("hello world"), "hello world");
    EXPECT_EQ(render(""), "");
    EXPECT_TRUE(Format::parse("", kAll)->constant());
    EXPECT_EQ(render("100%%"), "100%");
    EXPECT_EQ(render("%%%%"), "%%");
    EXPECT_EQ(render("a]b[c"), "a]b[c");
    EXPECT_TRUE(Format::parse("100%%", kAll)->constant());
}

TEST_F(FormatTest, Samples) {
    EXPECT_EQ(render("%[str(b)]"), "b");
    EXPECT_EQ(render("a%[str(b)]c"), "abc");
    EXPECT_EQ(render("%[str(x),upper]%[int(3)]"), "X3");
    EXPECT_EQ(render("%[int(-5),add(2)]%%"), "-3%");
    EXPECT_EQ(render("%[ipv4(10.0.0.1)]"), "10.0.0.1");
    EXPECT_EQ(render("%[str(a)]junk"), "ajunk");  // as haproxy 2.6.12
    EXPECT_EQ(render("x%[str(a)]]y"), "xa]y");    // as haproxy 2.6.12
    EXPECT_EQ(render("%[str('a]b')]"), "a]b");    // a quoted ']' is part of the argument
    // A sample that has nothing renders as nothing (haproxy 2.6.12 in set-header: empty).
    EXPECT_EQ(render("<%[var(txn.none)]>"), "<>");
    EXPECT_EQ(render("<%[str(abc),add(1)]>"), "<>");
    auto f = Format::parse("a%[str(b)]", kAll);
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->constant());
    EXPECT_EQ(f->text(), "a%[str(b)]");
}

TEST_F(FormatTest, RenderTwiceGivesTheSameAndArenaResetIsSafe) {
    auto f = Format::parse("%[int(7),add(1)]-%[str(q),upper]", kAll);
    ASSERT_TRUE(f.ok()) << f.error();
    std::string a, b;
    f->render(ctx, a);
    arena.reset();
    f->render(ctx, b);
    EXPECT_EQ(a, "8-Q");
    EXPECT_EQ(b, "8-Q");
}

TEST_F(FormatTest, Errors) {
    EXPECT_FORMAT_ERROR("%[str(b)", "missing ']'");
    EXPECT_FORMAT_ERROR("%[str(a) junk]", "missing ']'");
    EXPECT_FORMAT_ERROR("a%[path", "missing ']' after '%[path'");
    EXPECT_FORMAT_ERROR("%[]", "in '%[]': unexpected character ']'");
    EXPECT_FORMAT_ERROR("%[pth]", "unknown fetch method 'pth'");
    EXPECT_FORMAT_ERROR("%[path,lowr]", "unknown converter 'lowr'");
    EXPECT_FORMAT_ERROR("%[hdr(a,b)]", "must be an integer");
    // Log-format variables: HAProxy's messages (tests/unit/sample/log_format_test.cpp has more).
    EXPECT_FORMAT_ERROR("client %cx:%cp", "no such format variable 'cx'");
    EXPECT_FORMAT_ERROR("%{+Q}", "parse argument modifier without variable name near '%{+Q}'");
    EXPECT_FORMAT_ERROR("%", "truncated line after '%'");
    EXPECT_FORMAT_ERROR("abc%", "truncated line after '%'");
    // The rule's available data applies inside %[...].
    std::string err = error("%[status]", kReqAvail);
    EXPECT_NE(err.find("response contents"), std::string::npos) << err;
}

// HAProxy's log-format keeps backslashes as they come from the config tokenizer: `hdr X
// "a\\\\b%%c"` (tokenized to `a\\b%%c`) renders `a\\b%c` in haproxy 2.6.12, and `\%d` is refused
// ("no such format variable 'd'").
TEST_F(FormatTest, BackslashesAreLiteral) {
    EXPECT_EQ(render(R"(a\\b%%c)"), R"(a\\b%c)");
    EXPECT_EQ(render(R"(a\b)"), R"(a\b)");
    EXPECT_FORMAT_ERROR(R"(\%d)", "no such format variable 'd'");
}

// ---- Variables -----------------------------------------------------------------------------

TEST(VarName, Scopes) {
    struct Row {
        std::string_view text;
        VarScope scope;
        std::string_view name;
    };
    for (const Row& r : {Row{"proc.a", VarScope::Proc, "a"}, Row{"sess.b1", VarScope::Sess, "b1"},
                         Row{"txn.foo", VarScope::Txn, "foo"}, Row{"req.x_y", VarScope::Req, "x_y"},
                         Row{"res.Z", VarScope::Res, "Z"}, Row{"txn.a.b", VarScope::Txn, "a.b"}}) {
        auto ref = parse_var_name(r.text);
        ASSERT_TRUE(ref.ok()) << r.text << ": " << ref.error();
        EXPECT_EQ(ref->scope, r.scope) << r.text;
        EXPECT_EQ(ref->name, r.name) << r.text;
    }
}

TEST(VarName, Errors) {
    auto expect_error = [](std::string_view text, std::string_view fragment) {
        auto ref = parse_var_name(text);
        ASSERT_FALSE(ref.ok()) << text;
        EXPECT_NE(ref.error().find(fragment), std::string::npos) << text << " -> " << ref.error();
    };
    expect_error("foo", "variable name 'foo' has no scope");
    expect_error("", "has no scope");
    expect_error("tx.foo", "unknown variable scope 'tx' in 'tx.foo'");
    expect_error("TXN.foo", "unknown variable scope 'TXN'");
    expect_error(".foo", "unknown variable scope ''");
    expect_error("txn.", "empty variable name in 'txn.'");
    expect_error("txn.a-b", "may only hold letters, digits, '_' and '.'");
    expect_error("txn.a b", "may only hold");
    expect_error("sess.é", "may only hold");
}

TEST(VarStoreTest, SetGetUnset) {
    VarStore store;
    EXPECT_TRUE(store.empty());
    Sample out;
    EXPECT_FALSE(store.get("a", out));
    std::string bytes = "value";
    store.set("a", Sample::string(bytes));
    bytes = "XXXXX";  // the store holds a copy
    ASSERT_TRUE(store.get("a", out));
    EXPECT_EQ(out.type, Type::Str);
    EXPECT_EQ(out.str, "value");
    store.set("a", Sample::integer(5));  // replaces, type and all
    ASSERT_TRUE(store.get("a", out));
    EXPECT_EQ(out.type, Type::Sint);
    EXPECT_EQ(out.sint, 5);
    store.unset("a");
    EXPECT_FALSE(store.get("a", out));
    store.unset("never-set");  // harmless
    store.set("b", Sample::boolean(true));
    EXPECT_FALSE(store.empty());
    store.clear();
    EXPECT_TRUE(store.empty());
}

TEST(VarStoreTest, ManyShortStringsKeepTheirBytes) {
    // Short strings live inside the vector's elements, which move as it grows.
    // (std::string::append, not "v" + to_string: g++ 12 -O2 warns falsely on the latter.)
    auto name = [](int i) { return std::string("v").append(std::to_string(i)); };
    VarStore store;
    for (int i = 0; i < 200; ++i)
        store.set(name(i), Sample::string(std::to_string(i * 7)));
    for (int i = 0; i < 200; ++i) {
        Sample out;
        ASSERT_TRUE(store.get(name(i), out)) << i;
        EXPECT_EQ(out.str, std::to_string(i * 7)) << i;
    }
    store.unset("v0");
    Sample out;
    ASSERT_TRUE(store.get("v199", out));
    EXPECT_EQ(out.str, "1393");
}

TEST_F(VarTest, SetVarConverterAndVarFetch) {
    // set-var passes the sample through and stores a copy.
    EXPECT_EQ(str("str(hello),set-var(txn.greeting)"), "hello");
    EXPECT_EQ(str("var(txn.greeting)"), "hello");
    EXPECT_EQ(sint("int(42),set-var(req.n)"), 42);
    EXPECT_EQ(sint("var(req.n)"), 42);
    EXPECT_EQ(sint("var(req.n),add(1)"), 43);  // Any is cast when the converter runs
    Sample out;
    ASSERT_TRUE(txn.get("greeting", out));
    EXPECT_EQ(out.str, "hello");
    // Overwriting changes the type too.
    EXPECT_EQ(str("str(now-a-string),set-var(req.n)"), "now-a-string");
    EXPECT_EQ(str("var(req.n)"), "now-a-string");
    // Unset.
    EXPECT_EQ(str("str(x),unset-var(txn.greeting)"), "x");
    EXPECT_FALSE(eval("var(txn.greeting)"));
    EXPECT_FALSE(eval("var(txn.never)"));
}

TEST_F(VarTest, ScopesAreSeparate) {
    (void)eval("str(s),set-var(sess.v)");
    (void)eval("str(t),set-var(txn.v)");
    (void)eval("str(q),set-var(req.v)");
    (void)eval("str(r),set-var(res.v)");
    EXPECT_EQ(str("var(sess.v)"), "s");
    EXPECT_EQ(str("var(txn.v)"), "t");
    EXPECT_EQ(str("var(req.v)"), "q");
    EXPECT_EQ(str("var(res.v)"), "r");
    txn.clear();  // a new transaction: the session's variables stay
    EXPECT_FALSE(eval("var(txn.v)"));
    EXPECT_EQ(str("var(sess.v)"), "s");
}

TEST_F(VarTest, ValuesOutliveTheArena) {
    EXPECT_EQ(str("str(abc),upper,set-var(txn.u)"), "ABC");  // "ABC" was built in the arena
    arena.reset();
    for (int i = 0; i < 10; ++i)
        (void)eval("str(zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz),upper");  // reuse the arena
    EXPECT_EQ(str("var(txn.u)"), "ABC");
}

TEST_F(VarTest, MissingScopesAndStores) {
    // A rule without a transaction (a connection rule): txn variables do nothing.
    Vars conn_only{.sess = &sess};
    Arena a2;
    Context c2{a2};
    c2.attach(&conn_only);
    const Expr* set_txn = parse("str(x),set-var(txn.v)");
    const Expr* get_txn = parse("var(txn.v)");
    const Expr* set_sess = parse("str(y),set-var(sess.w)");
    const Expr* get_sess = parse("var(sess.w)");
    ASSERT_TRUE(set_txn && get_txn && set_sess && get_sess);
    Sample s;
    EXPECT_TRUE(set_txn->eval(c2, s));  // the sample still passes through
    EXPECT_EQ(s.str, "x");
    EXPECT_FALSE(get_txn->eval(c2, s));
    EXPECT_TRUE(set_sess->eval(c2, s));
    ASSERT_TRUE(get_sess->eval(c2, s));
    EXPECT_EQ(s.str, "y");
    // No Vars at all.
    Arena a3;
    Context bare{a3};
    EXPECT_TRUE(set_txn->eval(bare, s));
    EXPECT_FALSE(get_txn->eval(bare, s));
    EXPECT_FALSE(get_sess->eval(bare, s));
    // The read/write functions say so.
    auto ref = parse_var_name("txn.v");
    ASSERT_TRUE(ref.ok());
    EXPECT_FALSE(write_var(bare, *ref, Sample::integer(1)));
    EXPECT_FALSE(read_var(bare, *ref, s));
    EXPECT_FALSE(unset_var(bare, *ref));
    EXPECT_TRUE(write_var(ctx, *ref, Sample::integer(1)));
    ASSERT_TRUE(read_var(ctx, *ref, s));
    EXPECT_EQ(s.sint, 1);
    EXPECT_TRUE(unset_var(ctx, *ref));
    EXPECT_FALSE(read_var(ctx, *ref, s));
}

TEST_F(VarTest, ProcScopeIsProcessWide) {
    const Expr* set = parse("str(shared),set-var(proc.t3_expr_test_shared)");
    const Expr* get = parse("var(proc.t3_expr_test_shared)");
    ASSERT_TRUE(set && get);
    Sample s;
    ASSERT_TRUE(set->eval(ctx, s));
    // Another evaluation, without any store attached, sees it.
    Arena other_arena;
    Context other{other_arena};
    ASSERT_TRUE(get->eval(other, s));
    EXPECT_EQ(s.str, "shared");
    const Expr* unset = parse("str(x),unset-var(proc.t3_expr_test_shared)");
    ASSERT_TRUE(unset && unset->eval(other, s));
    EXPECT_FALSE(get->eval(ctx, s));
}

TEST_F(VarTest, NameErrorsAtParseTime) {
    EXPECT_ERROR("var(foo)", "'var': variable name 'foo' has no scope");
    EXPECT_ERROR("var(tx.foo)", "unknown variable scope 'tx'");
    EXPECT_ERROR("str(a),set-var(txn.a-b)", "'set-var': variable name 'txn.a-b' may only hold");
    EXPECT_ERROR("str(a),unset-var(txn.)", "empty variable name");
    EXPECT_ERROR("var", "at least 1");
    EXPECT_ERROR("var(txn.a,dflt,more)", "at most 2");  // var(name[,default])
}

}  // namespace
}  // namespace sluice::sample
