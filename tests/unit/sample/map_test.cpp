// The map converters (HAProxy manual 7.3.1, "map"), driven through parse_expr as configs use
// them: every match method, the int and ip outputs, defaults, and load-time errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/sample/expr.hpp"

namespace sluice::sample {
namespace {

namespace fs = std::filesystem;

// Test-only fetches, prefixed so that they never collide with real ones: maptest.str(TEXT),
// maptest.int(N).
bool fetch_str(const Args& args, Context&, Sample& out) {
    out = Sample::string(args.list[0].text);
    return true;
}
bool fetch_int(const Args& args, Context&, Sample& out) {
    out = Sample::integer(args.list[0].sint);
    return true;
}
constexpr Fetch kTestFetches[] = {
    {.name = "maptest.str", .fn = fetch_str, .args = {1, 1}, .out = Type::Str},
    {.name = "maptest.int", .fn = fetch_int, .args = {1, 1, {ArgKind::Sint}}, .out = Type::Sint},
};
const FetchRegistrar kTestFetchesRegistered{kTestFetches};

std::string ip_text(const Sample& s) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (s.type == Type::Ipv4) inet_ntop(AF_INET, s.ip.data(), text, sizeof text);
    if (s.type == Type::Ipv6) inet_ntop(AF_INET6, s.ip.data(), text, sizeof text);
    return text;
}

class MapTest : public ::testing::Test {
  protected:
    MapTest() {
        dir_ = fs::temp_directory_path() /
               ("sluice-map-test-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
        fs::create_directories(dir_);
    }
    ~MapTest() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    std::string write(const std::string& name, std::string_view content) {
        const fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }

    std::optional<Sample> eval(const std::string& text) {
        auto e = parse_expr(text, Use::Internal);
        if (!e) {
            ADD_FAILURE() << text << ": " << e.error();
            return std::nullopt;
        }
        exprs_.push_back(std::move(*e));
        Sample s;
        if (!exprs_.back().eval(ctx_, s)) return std::nullopt;
        return s;
    }
    // The string result, or "<none>" when the converter gave no sample.
    std::string str(const std::string& text) {
        auto s = eval(text);
        if (!s) return "<none>";
        EXPECT_EQ(s->type, Type::Str) << text;
        return std::string(s->str);
    }
    std::optional<std::int64_t> sint(const std::string& text) {
        auto s = eval(text);
        if (!s) return std::nullopt;
        EXPECT_EQ(s->type, Type::Sint) << text;
        return s->sint;
    }
    std::string addr(const std::string& text) {
        auto s = eval(text);
        return s ? ip_text(*s) : "<none>";
    }
    std::string error(const std::string& text) {
        auto e = parse_expr(text, Use::Internal);
        EXPECT_FALSE(e.ok()) << text << " parsed";
        return e.ok() ? std::string() : e.error();
    }

    Arena arena_;
    Context ctx_{arena_};

  private:
    static inline int counter_ = 0;
    fs::path dir_;
    std::deque<Expr> exprs_;
};

TEST_F(MapTest, MapStrWithAndWithoutDefault) {
    const std::string f = write("hosts.map",
                                "# host backend\n"
                                "example.com   be_main\n"
                                "api.example.com be_api  \n");
    EXPECT_EQ(str("maptest.str(example.com),map(" + f + ")"), "be_main");
    EXPECT_EQ(str("maptest.str(api.example.com),map_str(" + f + ")"), "be_api");
    EXPECT_EQ(str("maptest.str(www.example.com),map(" + f + ")"), "<none>");
    EXPECT_EQ(str("maptest.str(www.example.com),map(" + f + ",be_default)"), "be_default");
    EXPECT_EQ(str("maptest.str(EXAMPLE.COM),map(" + f + ",none)"), "none");  // case-sensitive
    // An integer input is cast to a string first.
    const std::string codes = write("codes.map", "404 not_found\n");
    EXPECT_EQ(str("maptest.int(404),map(" + codes + ")"), "not_found");
}

// The output is a view into the loaded map, not a copy: it does not live in the arena, and
// expressions naming the same file share one loaded map.
TEST_F(MapTest, OutputIsAViewIntoTheSharedMap) {
    const std::string f = write("v.map", "k value\n");
    auto a = eval("maptest.str(k),map(" + f + ")");
    arena_.reset();
    auto b = eval("maptest.str(k),map_str(" + f + ",d)");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->str, "value");
    EXPECT_EQ(a->str.data(), b->str.data());
    // A file rewritten since is read again.
    write("v.map", "k other-value\n");
    EXPECT_EQ(str("maptest.str(k),map(" + f + ")"), "other-value");
}

TEST_F(MapTest, StringMatchMethods) {
    const std::string beg = write("beg.map", "/api api\n/api/v2 api_v2\n/ root\n");
    EXPECT_EQ(str("maptest.str(/api/v2/x),map_beg(" + beg + ")"), "api_v2");
    EXPECT_EQ(str("maptest.str(/api/v1/x),map_beg(" + beg + ")"), "api");
    EXPECT_EQ(str("maptest.str(/other),map_beg(" + beg + ")"), "root");
    EXPECT_EQ(str("maptest.str(other),map_beg(" + beg + ")"), "<none>");

    const std::string end = write("end.map", ".jpg image\n.css style\n");
    EXPECT_EQ(str("maptest.str(/a/b.jpg),map_end(" + end + ")"), "image");
    EXPECT_EQ(str("maptest.str(/a/b.jpeg),map_end(" + end + ",x)"), "x");

    const std::string sub = write("sub.map", "admin adm\nlogin log\n");
    EXPECT_EQ(str("maptest.str(/x/login/admin),map_sub(" + sub + ")"), "adm");
    EXPECT_EQ(str("maptest.str(/x/login),map_sub(" + sub + ")"), "log");

    const std::string dir = write("dir.map", "images img\nstatic/css css\n");
    EXPECT_EQ(str("maptest.str(/static/css/a.css),map_dir(" + dir + ")"), "css");
    EXPECT_EQ(str("maptest.str(/a/images/b.png),map_dir(" + dir + ")"), "img");
    EXPECT_EQ(str("maptest.str(/a/imagesx/b.png),map_dir(" + dir + ")"), "<none>");

    const std::string dom = write("dom.map", "example.com ex\nexample.org org\n");
    EXPECT_EQ(str("maptest.str(www.example.com),map_dom(" + dom + ")"), "ex");
    EXPECT_EQ(str("maptest.str(example.org:8080),map_dom(" + dom + ")"), "org");
    EXPECT_EQ(str("maptest.str(myexample.com),map_dom(" + dom + ")"), "<none>");

    const std::string reg = write("reg.map", "^/img/.*\\.png$ png\n^/img/ img\n");
    EXPECT_EQ(str("maptest.str(/img/a.png),map_reg(" + reg + ")"), "png");
    EXPECT_EQ(str("maptest.str(/img/a.gif),map_reg(" + reg + ")"), "img");
    EXPECT_EQ(str("maptest.str(/a.png),map_reg(" + reg + ",none)"), "none");
}

TEST_F(MapTest, MapRegmReplacesGroups) {
    const std::string f = write("regm.map",
                                "^/user/([0-9]+)/(.*)$ /u/\\2/\\1\n"
                                "^/hex/(.*)$ \\x41\\1\\\\\n"
                                "^/opt/(a)?(.*)$ [\\1][\\2][\\9]\n");
    EXPECT_EQ(str("maptest.str(/user/42/edit),map_regm(" + f + ")"), "/u/edit/42");
    EXPECT_EQ(str("maptest.str(/hex/z),map_regm(" + f + ")"), "Az\\");
    EXPECT_EQ(str("maptest.str(/opt/b),map_regm(" + f + ")"), "[][b][]");
    EXPECT_EQ(str("maptest.str(/none),map_regm(" + f + ",d)"), "d");
    EXPECT_EQ(str("maptest.str(/none),map_regm(" + f + ")"), "<none>");

    const std::string bad = write("bad_regm.map", "^a$ ok\n^b$ trailing\\\n");
    const std::string e = error("maptest.str(a),map_regm(" + bad + ")");
    EXPECT_NE(e.find(bad + ":2: value 'trailing\\'"), std::string::npos) << e;
}

TEST_F(MapTest, MapIntMatchesRanges) {
    const std::string f = write("int.map", "10:20 teens\n-5 minus_five\n100: big\n");
    EXPECT_EQ(str("maptest.int(15),map_int(" + f + ")"), "teens");
    EXPECT_EQ(str("maptest.int(-5),map_int(" + f + ")"), "minus_five");
    EXPECT_EQ(str("maptest.int(1000),map_int(" + f + ")"), "big");
    EXPECT_EQ(str("maptest.int(50),map_int(" + f + ",other)"), "other");
    EXPECT_EQ(str("maptest.str(12),map_int(" + f + ")"), "teens");  // cast to an integer
    EXPECT_EQ(sint("maptest.int(12),map_int_int(" + write("ii.map", "10:20 7\n") + ")"), 7);
    EXPECT_EQ(addr("maptest.int(12),map_int_ip(" + write("ip.map", "10:20 ::1\n") + ")"), "::1");
}

TEST_F(MapTest, MapIpLongestPrefix) {
    const std::string f = write("nets.map",
                                "10.0.0.0/8      lan\n"
                                "10.1.0.0/16     office\n"
                                "10.1.2.3        printer\n"
                                "2001:db8::/32   v6net\n"
                                "0.0.0.0/0       world\n");
    EXPECT_EQ(str("maptest.str(10.1.2.3),map_ip(" + f + ")"), "printer");
    EXPECT_EQ(str("maptest.str(10.1.9.9),map_ip(" + f + ")"), "office");
    EXPECT_EQ(str("maptest.str(10.2.0.1),map_ip(" + f + ")"), "lan");
    EXPECT_EQ(str("maptest.str(8.8.8.8),map_ip(" + f + ")"), "world");
    EXPECT_EQ(str("maptest.str(2001:db8::1),map_ip(" + f + ")"), "v6net");
    EXPECT_EQ(str("maptest.str(::ffff:10.1.2.3),map_ip(" + f + ")"), "printer");
    EXPECT_EQ(str("maptest.str(2002::1),map_ip(" + f + ",none)"), "world");  // 6to4 of 0.0.0.0
    EXPECT_EQ(str("maptest.str(3000::1),map_ip(" + f + ",none)"), "none");
    // Not an address: the cast fails, so there is no sample (a default does not apply).
    EXPECT_EQ(str("maptest.str(not-an-ip),map_ip(" + f + ",none)"), "<none>");
}

TEST_F(MapTest, IntOutputs) {
    const std::string f = write("weights.map", "a 10\nb -3\nc +7\n");
    EXPECT_EQ(sint("maptest.str(a),map_str_int(" + f + ")"), 10);
    EXPECT_EQ(sint("maptest.str(b),map_str_int(" + f + ")"), -3);
    EXPECT_EQ(sint("maptest.str(c),map_str_int(" + f + ")"), 7);
    EXPECT_EQ(sint("maptest.str(z),map_str_int(" + f + ",42)"), 42);
    EXPECT_EQ(sint("maptest.str(z),map_str_int(" + f + ")"), std::nullopt);
    EXPECT_EQ(sint("maptest.str(/a/b),map_beg_int(" + write("b.map", "/a 1\n/a/b 2\n") + ")"), 2);
    EXPECT_EQ(sint("maptest.str(10.0.0.1),map_ip_int(" + write("n.map", "10.0.0.0/8 8\n") + ")"),
              8);

    auto e = parse_expr("maptest.str(a),map_str_int(" + f + ")", Use::Internal);
    ASSERT_TRUE(e.ok()) << e.error();
    EXPECT_EQ(e->type(), Type::Sint);

    const std::string bad = write("bad.map", "a 1\nb 2x\n");
    EXPECT_EQ(error("maptest.str(a),map_str_int(" + bad + ")"),
              "'map_str_int': " + bad + ":2: value '2x' is not an integer");
    const std::string empty_value = write("empty.map", "a\n");
    EXPECT_NE(error("maptest.str(a),map_str_int(" + empty_value + ")").find(":1: value ''"),
              std::string::npos);
    EXPECT_NE(error("maptest.str(a),map_str_int(" + f + ",x)").find("must be an integer"),
              std::string::npos);
}

TEST_F(MapTest, IpOutputs) {
    const std::string f = write("gw.map", "a 192.0.2.1\nb 2001:db8::7\n");
    auto a = eval("maptest.str(a),map_str_ip(" + f + ")");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, Type::Ipv4);
    EXPECT_EQ(ip_text(*a), "192.0.2.1");
    auto b = eval("maptest.str(b),map_str_ip(" + f + ")");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->type, Type::Ipv6);
    EXPECT_EQ(ip_text(*b), "2001:db8::7");
    EXPECT_EQ(addr("maptest.str(z),map_str_ip(" + f + ",::1)"), "::1");
    EXPECT_EQ(addr("maptest.str(z),map_str_ip(" + f + ")"), "<none>");
    EXPECT_EQ(
        addr("maptest.str(10.9.9.9),map_ip_ip(" + write("n.map", "10.0.0.0/8 10.0.0.1\n") + ")"),
        "10.0.0.1");
    EXPECT_EQ(addr("maptest.str(x.example.com),map_dom_ip(" +
                   write("d.map", "example.com 198.51.100.1\n") + ")"),
              "198.51.100.1");

    auto e = parse_expr("maptest.str(a),map_str_ip(" + f + ")", Use::Internal);
    ASSERT_TRUE(e.ok()) << e.error();
    EXPECT_EQ(e->type(), Type::Addr);

    const std::string bad = write("bad.map", "a 1.2.3.4\nb 1.2.3\n");
    EXPECT_EQ(error("maptest.str(a),map_str_ip(" + bad + ")"),
              "'map_str_ip': " + bad + ":2: value '1.2.3' is not an IPv4 or IPv6 address");
    EXPECT_NE(error("maptest.str(a),map_str_ip(" + f + ",nope)").find("default value 'nope'"),
              std::string::npos);
}

TEST_F(MapTest, LoadErrors) {
    const std::string missing = (fs::temp_directory_path() / "sluice-no-such-map.map").string();
    EXPECT_EQ(error("maptest.str(a),map(" + missing + ")"),
              "'map': cannot open '" + missing + "': No such file or directory");
    const std::string bad_key = write("k.map", "10.0.0.0/8 a\n\nnot-an-ip b\n");
    const std::string e = error("maptest.str(a),map_ip(" + bad_key + ")");
    EXPECT_NE(e.find(bad_key + ":3: 'not-an-ip' is not an IP address"), std::string::npos) << e;
    const std::string bad_re = write("r.map", "(x b\n");
    EXPECT_NE(error("maptest.str(a),map_reg(" + bad_re + ")").find(":1: regex '(x' is invalid"),
              std::string::npos);
    EXPECT_NE(error("maptest.str(a),map()").find("at least 1 argument"), std::string::npos);
    const std::string f = write("ok.map", "a b\n");
    EXPECT_NE(error("maptest.str(a),map(" + f + ",x,y)").find("at most 2 argument"),
              std::string::npos);
}

}  // namespace
}  // namespace sluice::sample
