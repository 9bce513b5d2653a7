// set-var's conditions (ifexists, ifnotexists, ifempty, ifnotempty, ifset, ifnotset, ifgt,
// iflt) as the converter and write_var() apply them, proc variables' "exists from the config
// on", and var()'s default. Every expected value was checked against haproxy 2.6.12 with the
// same rules (http-request set-var(...,COND) then a return showing each variable).
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <string_view>

#include "sluice/sample/expr.hpp"
#include "sluice/sample/vars.hpp"

namespace sluice::sample {
namespace {

constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;

class VarConditions : public ::testing::Test {
  protected:
    VarConditions() { ctx.attach(&vars); }

    // Evaluates `text` for its effect (a set-var converter), failing on a parse error.
    void run(std::string_view text) {
        auto e = parse_expr(text, kAll);
        ASSERT_TRUE(e) << text << ": " << e.error();
        exprs.push_back(std::move(*e));
        Sample s;
        (void)exprs.back().eval(ctx, s);
    }
    // The variable's value as text, "<unset>" when it is not set.
    std::string value(std::string_view name) {
        auto ref = parse_var_name(name);
        EXPECT_TRUE(ref) << name;
        Sample s;
        if (!ref || !read_var(ctx, *ref, s)) return "<unset>";
        if (s.type == Type::Sint) return std::to_string(s.sint);
        return std::string(s.str);
    }

    Arena arena;
    Context ctx{arena};
    VarStore sess, txn, req, res;
    Vars vars{.sess = &sess, .txn = &txn, .req = &req, .res = &res};
    std::deque<Expr> exprs;
};

TEST_F(VarConditions, ExistsAndSet) {
    run("int(1),set-var(txn.c,ifexists)");
    EXPECT_EQ(value("txn.c"), "<unset>");
    run("int(1),set-var(txn.d,ifnotexists)");
    run("int(2),set-var(txn.d,ifnotexists)");
    EXPECT_EQ(value("txn.d"), "1");
    run("str(x),set-var(txn.h)");
    run("str(x),unset-var(txn.h)");
    run("str(y),set-var(txn.h,ifset)");
    EXPECT_EQ(value("txn.h"), "<unset>");
    run("str(y),set-var(txn.h,ifexists)");  // unset removes a txn variable: it no longer exists
    EXPECT_EQ(value("txn.h"), "<unset>");
    run("str(z),set-var(txn.h,ifnotset,ifnotexists)");
    EXPECT_EQ(value("txn.h"), "z");
}

TEST_F(VarConditions, ProcVariablesExistFromTheConfigOn) {
    // HAProxy creates a proc variable when the config names it, so ifnotexists never holds;
    // ifnotset does until it is written.
    run("int(1),set-var(proc.vars_test_p,ifnotexists)");
    EXPECT_EQ(value("proc.vars_test_p"), "<unset>");
    run("int(1),set-var(proc.vars_test_q,ifnotset)");
    run("int(2),set-var(proc.vars_test_q,ifnotset)");
    EXPECT_EQ(value("proc.vars_test_q"), "1");
    run("int(3),set-var(proc.vars_test_q,ifexists,ifset)");
    EXPECT_EQ(value("proc.vars_test_q"), "3");
}

TEST_F(VarConditions, EmptyIsAnEmptyStringNeverAScalar) {
    run("str(),set-var(txn.e,ifempty)");
    EXPECT_EQ(value("txn.e"), "");
    run("str(),set-var(txn.f,ifnotempty)");
    EXPECT_EQ(value("txn.f"), "<unset>");
    run("int(0),set-var(txn.g,ifempty)");
    EXPECT_EQ(value("txn.g"), "<unset>");
    run("str(l),set-var(txn.l)");
    run("str(q),set-var(txn.l,ifnotempty)");
    run("str(),set-var(txn.l,ifnotempty)");
    EXPECT_EQ(value("txn.l"), "q");
}

TEST_F(VarConditions, GreaterAndLessCompareTheVariableWithTheNewValue) {
    run("int(5),set-var(txn.a)");
    run("int(3),set-var(txn.a,ifgt)");  // 5 > 3: written
    EXPECT_EQ(value("txn.a"), "3");
    run("int(5),set-var(txn.b)");
    run("int(3),set-var(txn.b,iflt)");  // 5 < 3 does not hold
    EXPECT_EQ(value("txn.b"), "5");
    run("int(8),set-var(txn.b,iflt)");
    EXPECT_EQ(value("txn.b"), "8");
    // Not two integers (or no variable yet): the comparison holds.
    run("str(abc),set-var(txn.j)");
    run("str(b),set-var(txn.j,ifgt)");
    EXPECT_EQ(value("txn.j"), "b");
    run("int(3),set-var(txn.k,ifgt)");
    EXPECT_EQ(value("txn.k"), "3");
}

TEST_F(VarConditions, UnknownConditionsAndTooManyAreErrors) {
    auto e = parse_expr("int(1),set-var(txn.x,bogus)", kAll);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().find("unknown condition 'bogus'"), std::string::npos) << e.error();
    // HAProxy documents at most four conditions for the converter.
    EXPECT_FALSE(parse_expr("int(1),set-var(txn.x,ifset,ifgt,iflt,ifempty,ifexists)", kAll));
    EXPECT_TRUE(parse_expr("int(1),set-var(txn.x,ifset,ifgt,iflt,ifempty)", kAll));
    // unset-var takes none.
    EXPECT_FALSE(parse_expr("int(1),unset-var(txn.x,ifset)", kAll));
}

TEST_F(VarConditions, VarDefaultIsAString) {
    auto e = parse_expr("var(txn.none,fallback)", kAll);
    ASSERT_TRUE(e) << e.error();
    Sample s;
    ASSERT_TRUE(e->eval(ctx, s));
    EXPECT_EQ(s.type, Type::Str);
    EXPECT_EQ(s.str, "fallback");
    run("int(4),set-var(txn.some)");
    auto set = parse_expr("var(txn.some,fallback)", kAll);
    ASSERT_TRUE(set);
    ASSERT_TRUE(set->eval(ctx, s));
    EXPECT_EQ(s.type, Type::Sint);
    EXPECT_EQ(s.sint, 4);
}

}  // namespace
}  // namespace sluice::sample
