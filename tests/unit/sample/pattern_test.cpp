// Pattern sets: every match method with HAProxy's semantics (manual section 7.1), flags,
// integer ranges and operators, IPv4/IPv6 networks (checked against a brute-force reference on
// a 10,000-network set), regex errors, pattern and map files.
#include "sluice/sample/pattern.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice::sample {
namespace {

namespace fs = std::filesystem;

PatternSet make(Match m, std::initializer_list<std::string_view> patterns,
                bool ignore_case = false) {
    PatternSet set(m, PatternFlags{.ignore_case = ignore_case});
    for (std::string_view p : patterns) {
        auto st = set.add(p);
        EXPECT_TRUE(st.ok()) << p << ": " << (st.ok() ? "" : st.error());
    }
    return set;
}

Sample str(std::string_view s) {
    return Sample::string(s);
}

Sample ip(const char* text) {
    Sample s;
    if (inet_pton(AF_INET, text, s.ip.data()) == 1) {
        s.type = Type::Ipv4;
    } else if (inet_pton(AF_INET6, text, s.ip.data()) == 1) {
        s.type = Type::Ipv6;
    } else {
        ADD_FAILURE() << "bad address in test: " << text;
    }
    return s;
}

std::string add_error(Match m, std::string_view pattern, std::string_view op = {}) {
    PatternSet set(m, PatternFlags{});
    auto st = set.add(pattern, op);
    EXPECT_FALSE(st.ok()) << pattern << " was accepted";
    return st.ok() ? std::string() : st.error();
}

// The value of the pattern lookup() picks, or "-" when none.
std::string lookup(const PatternSet& set, const Sample& s) {
    const std::string* v = set.lookup(s);
    return v ? *v : "-";
}

// A temporary directory removed with the fixture.
class TempDir {
  public:
    TempDir() {
        path_ = fs::temp_directory_path() / ("sluice-pattern-test-" + std::to_string(getpid()) +
                                             "-" + std::to_string(counter_++));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string write(const std::string& name, std::string_view content) const {
        const fs::path p = path_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }
    std::string path(const std::string& name) const { return (path_ / name).string(); }

  private:
    static inline int counter_ = 0;
    fs::path path_;
};

TEST(MatchNames, RoundTripAndInputTypes) {
    for (std::string_view n : {"found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg",
                               "beg", "end", "dir", "dom"}) {
        auto m = match_from_name(n);
        ASSERT_TRUE(m.has_value()) << n;
        EXPECT_EQ(match_name(*m), n);
    }
    EXPECT_FALSE(match_from_name("regm").has_value());
    EXPECT_FALSE(match_from_name("STR").has_value());
    EXPECT_EQ(match_input(Match::Int), Type::Sint);
    EXPECT_EQ(match_input(Match::Ip), Type::Addr);
    EXPECT_EQ(match_input(Match::Bin), Type::Bin);
    EXPECT_EQ(match_input(Match::Len), Type::Str);
    EXPECT_EQ(match_input(Match::Dom), Type::Str);
    EXPECT_EQ(match_input(Match::Bool), Type::Bool);
}

TEST(FoundAndBool, TakeNoPattern) {
    EXPECT_NE(add_error(Match::Found, "x").find("this match method takes no pattern"),
              std::string::npos);
    EXPECT_NE(add_error(Match::Bool, "1").find("this match method takes no pattern"),
              std::string::npos);
    PatternSet found(Match::Found, {});
    EXPECT_TRUE(found.match(str("")));
    EXPECT_TRUE(found.empty());
    PatternSet b(Match::Bool, {});
    EXPECT_TRUE(b.match(Sample::boolean(true)));
    EXPECT_FALSE(b.match(Sample::boolean(false)));
    EXPECT_EQ(b.lookup(Sample::boolean(true)), nullptr);
}

TEST(StrMatch, ExactOnly) {
    auto set = make(Match::Str, {"GET", "HEAD", ""});
    EXPECT_EQ(set.size(), 3u);
    EXPECT_TRUE(set.match(str("GET")));
    EXPECT_TRUE(set.match(str("HEAD")));
    EXPECT_TRUE(set.match(str("")));
    EXPECT_FALSE(set.match(str("get")));
    EXPECT_FALSE(set.match(str("GETX")));
    EXPECT_FALSE(set.match(str("GE")));
    // Not a string sample: nothing to compare.
    EXPECT_FALSE(set.match(Sample::integer(1)));
}

TEST(StrMatch, IgnoreCase) {
    auto set = make(Match::Str, {"Example.COM", "a-much-longer-pattern-than-eight-bytes"}, true);
    EXPECT_TRUE(set.match(str("example.com")));
    EXPECT_TRUE(set.match(str("EXAMPLE.COM")));
    EXPECT_TRUE(set.match(str("A-MUCH-LONGER-PATTERN-THAN-EIGHT-BYTES")));
    EXPECT_FALSE(set.match(str("example.co")));
    EXPECT_FALSE(set.match(str("example.comm")));
}

// -i folds ASCII letters only, on every byte position of a word (the fold works 8 bytes at a
// time): '@' is not '`', '[' is not '{', and bytes above 0x7f stay as they are.
TEST(StrMatch, IgnoreCaseFoldsAsciiLettersOnly) {
    auto lower = [](int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
    for (int b = 1; b < 256; ++b) {
        for (std::size_t len : {1u, 7u, 8u, 9u, 17u}) {
            const std::string sample(len, static_cast<char>(b));
            const std::string same(len, static_cast<char>(lower(b)));
            auto set = make(Match::Str, {same}, true);
            EXPECT_TRUE(set.match(str(sample))) << b << " x" << len;
            const int other = b ^ 0x20;
            if (lower(b) == lower(other)) continue;  // a letter and its other case
            const std::string different(len, static_cast<char>(other));
            EXPECT_FALSE(set.match(str(different))) << b << " vs " << other << " x" << len;
        }
    }
}

TEST(StrMatch, DuplicatesKeepTheFirstValue) {
    PatternSet set(Match::Str, {});
    ASSERT_TRUE(set.add("k", {}, "first").ok());
    ASSERT_TRUE(set.add("k", {}, "second").ok());
    ASSERT_TRUE(set.add("j", {}, "third").ok());
    EXPECT_EQ(set.size(), 3u);
    EXPECT_EQ(lookup(set, str("k")), "first");
    EXPECT_EQ(set.lookup_index(str("j")), 2u);
    EXPECT_EQ(set.value(2), "third");
    EXPECT_EQ(set.lookup(str("x")), nullptr);
    EXPECT_EQ(set.lookup_index(str("x")), PatternSet::npos);
}

TEST(StrMatch, ManyPatterns) {
    PatternSet set(Match::Str, {});
    for (int i = 0; i < 20000; ++i)
        ASSERT_TRUE(set.add("host" + std::to_string(i) + ".example", {}, std::to_string(i)).ok());
    for (int i = 0; i < 20000; i += 7)
        EXPECT_EQ(lookup(set, str("host" + std::to_string(i) + ".example")), std::to_string(i));
    EXPECT_FALSE(set.match(str("host20000.example")));
    EXPECT_FALSE(set.match(str("host1.exampl")));
}

TEST(BegMatch, PrefixesAndLongestWins) {
    PatternSet set(Match::Beg, {});
    ASSERT_TRUE(set.add("/api", {}, "api").ok());
    ASSERT_TRUE(set.add("/api/v2", {}, "v2").ok());
    ASSERT_TRUE(set.add("/static/", {}, "static").ok());
    EXPECT_TRUE(set.match(str("/api")));
    EXPECT_TRUE(set.match(str("/apix")));
    EXPECT_FALSE(set.match(str("/ap")));
    EXPECT_FALSE(set.match(str("api")));
    EXPECT_FALSE(set.match(str("/API")));
    // HAProxy keeps prefixes in a tree: the longest matching one wins, whatever the order.
    EXPECT_EQ(lookup(set, str("/api/v2/users")), "v2");
    EXPECT_EQ(lookup(set, str("/api/v1/users")), "api");
    EXPECT_EQ(lookup(set, str("/static/x.css")), "static");
}

TEST(BegMatch, IgnoreCaseAndEmptyPattern) {
    auto set = make(Match::Beg, {"www."}, true);
    EXPECT_TRUE(set.match(str("WWW.example.com")));
    EXPECT_FALSE(set.match(str("ww")));
    auto any = make(Match::Beg, {""});
    EXPECT_TRUE(any.match(str("")));
    EXPECT_TRUE(any.match(str("anything")));
}

TEST(EndMatch, SuffixesFirstInFileOrder) {
    PatternSet set(Match::End, {});
    ASSERT_TRUE(set.add(".com", {}, "com").ok());
    ASSERT_TRUE(set.add("example.com", {}, "example").ok());
    ASSERT_TRUE(set.add(".JPG", {}, "jpg").ok());
    EXPECT_TRUE(set.match(str("www.example.com")));
    EXPECT_TRUE(set.match(str(".com")));
    EXPECT_FALSE(set.match(str("com")));
    EXPECT_FALSE(set.match(str("a.jpg")));
    // A list in HAProxy: the first pattern of the file that matches.
    EXPECT_EQ(lookup(set, str("www.example.com")), "com");
    auto ci = make(Match::End, {".JPG"}, true);
    EXPECT_TRUE(ci.match(str("photo.jpg")));
}

TEST(SubMatch, Substrings) {
    PatternSet set(Match::Sub, {});
    ASSERT_TRUE(set.add("admin", {}, "a").ok());
    ASSERT_TRUE(set.add("min", {}, "m").ok());
    EXPECT_TRUE(set.match(str("/admin/login")));
    EXPECT_TRUE(set.match(str("admin")));
    EXPECT_TRUE(set.match(str("terminal")));
    EXPECT_FALSE(set.match(str("/ADMIN")));
    EXPECT_FALSE(set.match(str("mi")));
    EXPECT_EQ(lookup(set, str("xadminx")), "a");
    EXPECT_EQ(lookup(set, str("mining")), "m");
    auto ci = make(Match::Sub, {"Script"}, true);
    EXPECT_TRUE(ci.match(str("<SCRIPT>")));
    EXPECT_TRUE(ci.match(str("xxscriptxx")));
    EXPECT_FALSE(ci.match(str("scrip")));
}

// The manual's example (7.1.3), as HAProxy's code behaves: "png" matches too, since it is a
// whole slash-delimited component of the string (the manual's prose says otherwise).
TEST(DirMatch, SlashDelimitedComponents) {
    const Sample path = str("/images/png/logo/32x32.png");
    for (std::string_view p : {"/images", "/images/png", "images/png", "/png/logo",
                               "logo/32x32.png", "32x32.png", "png", "/images/png/logo/"}) {
        EXPECT_TRUE(make(Match::Dir, {p}).match(path)) << p;
    }
    for (std::string_view p : {"32x32", "image", "mages", "png/lo", "/", ""})
        EXPECT_FALSE(make(Match::Dir, {p}).match(path)) << p;
    // '?' ends the path component too.
    EXPECT_TRUE(make(Match::Dir, {"search"}).match(str("/search?q=1")));
    EXPECT_TRUE(make(Match::Dir, {"IMAGES"}, true).match(path));
}

// The manual's example (7.1.3), as HAProxy's code behaves: a pattern is compared as one
// contiguous run of the string, so "dc-eu.example:80", which the manual lists, does not match
// "...dc-eu.example.com:80..." (neither does it in HAProxy), while "example.com:80" does.
TEST(DomMatch, DotDelimitedComponents) {
    const Sample url = str("http://www1.dc-eu.example.com:80/blah");
    for (std::string_view p : {"http", "www1", ".www1", "dc-eu", "example", "com", "80",
                               "dc-eu.example", "blah", ":www1:", "example.com:80"}) {
        EXPECT_TRUE(make(Match::Dom, {p}).match(url)) << p;
    }
    for (std::string_view p : {"eu", "dc", "ww1", "example.co", "...", "dc-eu.example:80"})
        EXPECT_FALSE(make(Match::Dom, {p}).match(url)) << p;

    auto set = make(Match::Dom, {"example.com"});
    EXPECT_TRUE(set.match(str("www.example.com")));
    EXPECT_TRUE(set.match(str("example.com")));
    EXPECT_TRUE(set.match(str("example.com:8080")));
    EXPECT_FALSE(set.match(str("myexample.com")));
    EXPECT_FALSE(set.match(str("example.community")));
    EXPECT_TRUE(make(Match::Dom, {"Example.Com"}, true).match(str("WWW.EXAMPLE.COM")));
}

TEST(DomMatch, LookupIsFirstInFileOrder) {
    PatternSet set(Match::Dom, {});
    ASSERT_TRUE(set.add("com", {}, "tld").ok());
    ASSERT_TRUE(set.add("example.com", {}, "site").ok());
    EXPECT_EQ(lookup(set, str("www.example.com")), "tld");
    PatternSet rev(Match::Dom, {});
    ASSERT_TRUE(rev.add("example.com", {}, "site").ok());
    ASSERT_TRUE(rev.add("com", {}, "tld").ok());
    EXPECT_EQ(lookup(rev, str("www.example.com")), "site");
}

TEST(DomMatch, ManyDomains) {
    PatternSet set(Match::Dom, {});
    for (int i = 0; i < 5000; ++i)
        ASSERT_TRUE(set.add("blocked" + std::to_string(i) + ".example.org").ok());
    EXPECT_TRUE(set.match(str("ads.blocked42.example.org")));
    EXPECT_TRUE(set.match(str("blocked4999.example.org")));
    EXPECT_FALSE(set.match(str("blocked5000.example.org")));
    EXPECT_FALSE(set.match(str("notblocked42.example.org")));
}

TEST(RegMatch, MatchesAndFlags) {
    auto set = make(Match::Reg, {"^/api/v[0-9]+/", "\\.php$"});
    EXPECT_TRUE(set.match(str("/api/v12/users")));
    EXPECT_TRUE(set.match(str("/index.php")));
    EXPECT_FALSE(set.match(str("/api/vx/")));
    EXPECT_FALSE(set.match(str("/index.PHP")));
    EXPECT_TRUE(make(Match::Reg, {"\\.php$"}, true).match(str("/index.PHP")));
    EXPECT_TRUE(make(Match::Reg, {"^$"}).match(str("")));
    // Bytes after a NUL are matched too: samples are not C strings.
    EXPECT_TRUE(make(Match::Reg, {"b$"}).match(str(std::string_view("a\0b", 3))));
}

TEST(RegMatch, CompileErrorsNameThePatternAndOffset) {
    const std::string e = add_error(Match::Reg, "^(abc");
    EXPECT_NE(e.find("'^(abc'"), std::string::npos) << e;
    EXPECT_NE(e.find("missing closing parenthesis"), std::string::npos) << e;
    EXPECT_NE(e.find("offset 5"), std::string::npos) << e;
    const std::string e2 = add_error(Match::Reg, "a{2,1}");
    EXPECT_NE(e2.find("offset"), std::string::npos) << e2;
}

TEST(RegMatch, Groups) {
    PatternSet set(Match::Reg, {});
    ASSERT_TRUE(set.add("^/user/([0-9]+)(/edit)?(x)?", {}, "u").ok());
    std::size_t g[20];
    const std::string subject = "/user/42/edit";
    ASSERT_EQ(set.lookup_groups(str(subject), g), 0u);
    EXPECT_EQ(g[0], 0u);
    EXPECT_EQ(g[1], subject.size());
    EXPECT_EQ(subject.substr(g[2], g[3] - g[2]), "42");
    EXPECT_EQ(subject.substr(g[4], g[5] - g[4]), "/edit");
    EXPECT_EQ(g[6], PatternSet::npos);  // (x) did not take part
    EXPECT_EQ(g[8], PatternSet::npos);  // no such group
    ASSERT_EQ(set.lookup_groups(str("/user/7"), g), 0u);
    EXPECT_EQ(g[4], PatternSet::npos);
    EXPECT_EQ(set.lookup_groups(str("/users"), g), PatternSet::npos);
}

TEST(RegMatch, ThreadsMatchConcurrently) {
    auto set = make(Match::Reg, {"^(a+)+b$", "^[0-9a-f]{8}-[0-9a-f]{4}$"});
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                const bool want = (i + t) % 2 == 0;
                const std::string s = want ? "deadbeef-0123" : "deadbeef-012g";
                if (set.match(str(s)) != want) ++wrong;
                if (!set.match(str("aaaaab"))) ++wrong;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(IntMatch, RangesAndValues) {
    auto set = make(Match::Int, {"80", "1024:65535", ":-100", "-10:-5"});
    EXPECT_TRUE(set.match(Sample::integer(80)));
    EXPECT_FALSE(set.match(Sample::integer(81)));
    EXPECT_TRUE(set.match(Sample::integer(1024)));
    EXPECT_TRUE(set.match(Sample::integer(65535)));
    EXPECT_FALSE(set.match(Sample::integer(65536)));
    EXPECT_TRUE(set.match(Sample::integer(-100)));
    EXPECT_TRUE(set.match(Sample::integer(INT64_MIN)));
    EXPECT_FALSE(set.match(Sample::integer(-99)));
    EXPECT_TRUE(set.match(Sample::integer(-7)));
    EXPECT_FALSE(set.match(Sample::integer(-4)));
    EXPECT_FALSE(set.match(Sample::integer(0)));

    auto open_end = make(Match::Int, {"10:"});
    EXPECT_TRUE(open_end.match(Sample::integer(INT64_MAX)));
    EXPECT_FALSE(open_end.match(Sample::integer(9)));
    // HAProxy's other range spelling, and a negative single value.
    auto dash = make(Match::Int, {"10-20", "-3"});
    EXPECT_TRUE(dash.match(Sample::integer(15)));
    EXPECT_TRUE(dash.match(Sample::integer(-3)));
    EXPECT_FALSE(dash.match(Sample::integer(3)));
    // Booleans compare as 0 and 1.
    auto one = make(Match::Int, {"1"});
    EXPECT_TRUE(one.match(Sample::boolean(true)));
    EXPECT_FALSE(one.match(Sample::boolean(false)));
}

TEST(IntMatch, Operators) {
    auto with = [](std::string_view op, std::string_view v) {
        PatternSet set(Match::Int, {});
        auto st = set.add(v, op);
        EXPECT_TRUE(st.ok()) << op << " " << v << ": " << (st.ok() ? "" : st.error());
        return set;
    };
    EXPECT_TRUE(with("eq", "5").match(Sample::integer(5)));
    EXPECT_FALSE(with("eq", "5").match(Sample::integer(6)));
    EXPECT_TRUE(with("ge", "5").match(Sample::integer(5)));
    EXPECT_FALSE(with("ge", "5").match(Sample::integer(4)));
    EXPECT_FALSE(with("gt", "5").match(Sample::integer(5)));
    EXPECT_TRUE(with("gt", "5").match(Sample::integer(6)));
    EXPECT_TRUE(with("le", "5").match(Sample::integer(5)));
    EXPECT_FALSE(with("le", "5").match(Sample::integer(6)));
    EXPECT_FALSE(with("lt", "5").match(Sample::integer(5)));
    EXPECT_TRUE(with("lt", "5").match(Sample::integer(4)));
    // The manual's negative Content-Length example.
    EXPECT_TRUE(with("lt", "0").match(Sample::integer(-1)));
    EXPECT_FALSE(with("lt", "0").match(Sample::integer(0)));
    EXPECT_TRUE(with("ge", "-5").match(Sample::integer(-5)));
    EXPECT_FALSE(with("ge", "-5").match(Sample::integer(-6)));
    // Nothing is above the largest integer, nor below the smallest.
    EXPECT_FALSE(with("gt", "9223372036854775807").match(Sample::integer(INT64_MAX)));
    EXPECT_FALSE(with("lt", "-9223372036854775808").match(Sample::integer(INT64_MIN)));
    // A range after an operator is taken as a range, as HAProxy does.
    EXPECT_TRUE(with("ge", "1:3").match(Sample::integer(2)));
    EXPECT_FALSE(with("ge", "1:3").match(Sample::integer(4)));
}

TEST(IntMatch, Errors) {
    EXPECT_EQ(add_error(Match::Int, "abc"), "'abc' is not a number");
    EXPECT_EQ(add_error(Match::Int, ""), "'' is not a number");
    EXPECT_EQ(add_error(Match::Int, "20:10"), "'20:10' is not a valid number range");
    EXPECT_EQ(add_error(Match::Int, ":"), "':' is not a valid number range");
    EXPECT_EQ(add_error(Match::Int, "1:x"), "'1:x' is not a valid number range");
    EXPECT_EQ(add_error(Match::Int, "99999999999999999999"),
              "'99999999999999999999' is not a number");
    EXPECT_EQ(add_error(Match::Int, "x", "ge"), "'x' is neither a number nor a supported operator");
}

TEST(IntMatch, LookupIsFirstInFileOrder) {
    PatternSet set(Match::Int, {});
    ASSERT_TRUE(set.add("10:20", {}, "wide").ok());
    ASSERT_TRUE(set.add("15", {}, "exact").ok());
    ASSERT_TRUE(set.add("18:30", {}, "upper").ok());
    EXPECT_EQ(lookup(set, Sample::integer(15)), "wide");
    EXPECT_EQ(lookup(set, Sample::integer(20)), "wide");
    EXPECT_EQ(lookup(set, Sample::integer(21)), "upper");
    EXPECT_EQ(lookup(set, Sample::integer(9)), "-");
    EXPECT_EQ(lookup(set, Sample::integer(31)), "-");
}

// Overlapping random ranges against a scan of them in order.
TEST(IntMatch, RandomRangesAgainstAScan) {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> v(-200, 200);
    struct R {
        std::int64_t lo, hi;
    };
    std::vector<R> ranges;
    PatternSet set(Match::Int, {});
    for (int i = 0; i < 300; ++i) {
        std::int64_t a = v(rng), b = v(rng);
        if (a > b) std::swap(a, b);
        const int kind = static_cast<int>(rng() % 4);
        std::string lo = std::to_string(a), hi = std::to_string(b);
        if (kind == 1) {
            lo.clear();
            a = INT64_MIN;
        } else if (kind == 2) {
            hi.clear();
            b = INT64_MAX;
        }
        std::string text = kind == 3 ? lo : lo.append(1, ':').append(hi);
        if (kind == 3) b = a;
        ASSERT_TRUE(set.add(text, {}, std::to_string(i)).ok()) << text;
        ranges.push_back({a, b});
    }
    for (std::int64_t x = -250; x <= 250; ++x) {
        std::string want = "-";
        for (std::size_t i = 0; i < ranges.size(); ++i) {
            if (ranges[i].lo <= x && x <= ranges[i].hi) {
                want = std::to_string(i);
                break;
            }
        }
        EXPECT_EQ(lookup(set, Sample::integer(x)), want) << x;
    }
}

TEST(LenMatch, SampleLength) {
    auto set = make(Match::Len, {"0", "10:"});
    EXPECT_TRUE(set.match(str("")));
    EXPECT_FALSE(set.match(str("abc")));
    EXPECT_TRUE(set.match(str("0123456789")));
    PatternSet lt(Match::Len, {});
    ASSERT_TRUE(lt.add("4", "lt").ok());
    EXPECT_TRUE(lt.match(str("abc")));
    EXPECT_FALSE(lt.match(str("abcd")));
    EXPECT_TRUE(lt.match(Sample::string("ab", Type::Bin)));
}

TEST(BinMatch, HexPatterns) {
    auto set = make(Match::Bin, {"48656c6C6f0a", "00ff"});
    EXPECT_TRUE(set.match(Sample::string("Hello\n", Type::Bin)));
    EXPECT_TRUE(set.match(Sample::string(std::string_view("\0\xff", 2), Type::Bin)));
    EXPECT_FALSE(set.match(Sample::string("Hello", Type::Bin)));
    EXPECT_FALSE(set.match(Sample::string("hello\n", Type::Bin)));
    // -i does not apply to bytes, as in HAProxy.
    auto icase = make(Match::Bin, {"41"}, true);
    EXPECT_TRUE(icase.match(Sample::string("A", Type::Bin)));
    EXPECT_FALSE(icase.match(Sample::string("a", Type::Bin)));
    EXPECT_NE(add_error(Match::Bin, "abc").find("even number of digits"), std::string::npos);
    EXPECT_NE(add_error(Match::Bin, "zz").find("'z' is not a hex digit"), std::string::npos);
}

TEST(IpMatch, Ipv4AddressesAndNetworks) {
    auto set = make(Match::Ip, {"192.168.0.1", "10.0.0.0/8", "172.16.0.0/255.240.0.0"});
    EXPECT_TRUE(set.match(ip("192.168.0.1")));
    EXPECT_FALSE(set.match(ip("192.168.0.2")));
    EXPECT_TRUE(set.match(ip("10.255.1.2")));
    EXPECT_FALSE(set.match(ip("11.0.0.0")));
    EXPECT_TRUE(set.match(ip("172.31.255.255")));
    EXPECT_FALSE(set.match(ip("172.32.0.0")));
    // Host bits in the pattern do not matter.
    auto host_bits = make(Match::Ip, {"10.1.2.3/16"});
    EXPECT_TRUE(host_bits.match(ip("10.1.200.200")));
    auto all = make(Match::Ip, {"0.0.0.0/0"});
    EXPECT_TRUE(all.match(ip("8.8.8.8")));
    EXPECT_TRUE(all.match(ip("::ffff:8.8.8.8")));
    EXPECT_FALSE(all.match(ip("2001:db8::1")));
    EXPECT_FALSE(set.match(str("10.0.0.1")));  // not cast: no match
}

// The manual's table of shortened IPv4 forms (7.1.6): the last number fills the rest.
TEST(IpMatch, ShortIpv4Forms) {
    EXPECT_TRUE(make(Match::Ip, {"192.168.1"}).match(ip("192.168.0.1")));
    EXPECT_TRUE(make(Match::Ip, {"10.12"}).match(ip("10.0.0.12")));
    EXPECT_TRUE(make(Match::Ip, {"127.1"}).match(ip("127.0.0.1")));
    EXPECT_TRUE(make(Match::Ip, {"192.168.1/22"}).match(ip("192.168.3.200")));
    EXPECT_TRUE(make(Match::Ip, {"10.12/8"}).match(ip("10.200.0.1")));
    EXPECT_TRUE(make(Match::Ip, {"10.65535"}).match(ip("10.0.255.255")));
    EXPECT_NE(add_error(Match::Ip, "10").find("not a valid"), std::string::npos);
    EXPECT_NE(add_error(Match::Ip, "10.010").find("not a valid"), std::string::npos);
    EXPECT_NE(add_error(Match::Ip, "1.2.3.4.5").find("not a valid"), std::string::npos);
    EXPECT_NE(add_error(Match::Ip, "10.16777216").find("not a valid"), std::string::npos);
}

// A dotted mask need not be contiguous in HAProxy: such networks are matched apart.
TEST(IpMatch, NonContiguousMask) {
    auto set = make(Match::Ip, {"10.0.0.1/255.0.0.255"});
    EXPECT_TRUE(set.match(ip("10.20.30.1")));
    EXPECT_FALSE(set.match(ip("10.20.30.2")));
    EXPECT_TRUE(set.match(ip("::ffff:10.9.9.1")));
}

TEST(IpMatch, Ipv6AddressesAndNetworks) {
    auto set = make(Match::Ip, {"::1", "2001:db8::/32", "fe80::/10"});
    EXPECT_TRUE(set.match(ip("::1")));
    EXPECT_FALSE(set.match(ip("::2")));
    EXPECT_TRUE(set.match(ip("2001:db8:ffff::1")));
    EXPECT_FALSE(set.match(ip("2001:db9::1")));
    EXPECT_TRUE(set.match(ip("febf::1")));
    EXPECT_FALSE(set.match(ip("fec0::1")));
    EXPECT_TRUE(make(Match::Ip, {"::/0"}).match(ip("1234::5")));
    EXPECT_TRUE(make(Match::Ip, {"2001:db8::1/128"}).match(ip("2001:db8::1")));
    EXPECT_TRUE(make(Match::Ip, {"2001:db8::/127"}).match(ip("2001:db8::1")));
    EXPECT_FALSE(make(Match::Ip, {"2001:db8::/127"}).match(ip("2001:db8::2")));
    EXPECT_TRUE(make(Match::Ip, {"2001:db8:0:1::/65"}).match(ip("2001:db8:0:1:7fff::")));
    EXPECT_FALSE(make(Match::Ip, {"2001:db8:0:1::/65"}).match(ip("2001:db8:0:1:8000::")));
}

// Manual 7.1.6: an IPv4 sample is tried as ::ffff:a.b.c.d against IPv6 patterns; an IPv6
// sample holding an IPv4 address (::ffff:V4, ::V4, 2002:V4::) against IPv4 patterns.
TEST(IpMatch, CrossFamily) {
    auto v6pat = make(Match::Ip, {"::ffff:10.0.0.0/104"});
    EXPECT_TRUE(v6pat.match(ip("10.1.2.3")));
    EXPECT_FALSE(v6pat.match(ip("11.1.2.3")));

    auto v4pat = make(Match::Ip, {"192.168.0.0/16"});
    EXPECT_TRUE(v4pat.match(ip("::ffff:192.168.1.1")));
    EXPECT_TRUE(v4pat.match(ip("::192.168.1.1")));
    EXPECT_TRUE(v4pat.match(ip("2002:c0a8:0101::1")));
    EXPECT_FALSE(v4pat.match(ip("2003:c0a8:0101::1")));
    EXPECT_FALSE(v4pat.match(ip("::ffff:192.169.1.1")));
    EXPECT_FALSE(v4pat.match(ip("1::ffff:192.168.1.1")));

    // HAProxy's order: the sample's own family first, even if the other has a longer prefix.
    PatternSet set(Match::Ip, {});
    ASSERT_TRUE(set.add("10.0.0.0/8", {}, "v4").ok());
    ASSERT_TRUE(set.add("::ffff:10.1.2.3", {}, "v6").ok());
    EXPECT_EQ(lookup(set, ip("10.1.2.3")), "v4");
    EXPECT_EQ(lookup(set, ip("::ffff:10.1.2.3")), "v6");
    EXPECT_EQ(lookup(set, ip("::ffff:10.1.2.4")), "v4");
}

TEST(IpMatch, LongestPrefixWins) {
    PatternSet set(Match::Ip, {});
    ASSERT_TRUE(set.add("10.0.0.0/8", {}, "8").ok());
    ASSERT_TRUE(set.add("10.1.0.0/16", {}, "16").ok());
    ASSERT_TRUE(set.add("10.1.2.0/24", {}, "24").ok());
    ASSERT_TRUE(set.add("10.1.0.0/16", {}, "16 again").ok());
    ASSERT_TRUE(set.add("2001:db8::/32", {}, "32").ok());
    ASSERT_TRUE(set.add("2001:db8:1::/48", {}, "48").ok());
    EXPECT_EQ(lookup(set, ip("10.1.2.3")), "24");
    EXPECT_EQ(lookup(set, ip("10.1.3.3")), "16");
    EXPECT_EQ(lookup(set, ip("10.2.3.3")), "8");
    EXPECT_EQ(lookup(set, ip("11.2.3.3")), "-");
    EXPECT_EQ(lookup(set, ip("2001:db8:1::5")), "48");
    EXPECT_EQ(lookup(set, ip("2001:db8:2::5")), "32");
    EXPECT_EQ(set.size(), 6u);
}

TEST(IpMatch, Errors) {
    EXPECT_EQ(add_error(Match::Ip, "10.0.0.300"),
              "'10.0.0.300' is not a valid IPv4 or IPv6 address");
    EXPECT_EQ(add_error(Match::Ip, "::1::2"), "'::1::2' is not a valid IPv4 or IPv6 address");
    EXPECT_EQ(add_error(Match::Ip, ""), "'' is not a valid IPv4 or IPv6 address");
    EXPECT_NE(add_error(Match::Ip, "10.0.0.0/33").find("0 to 32"), std::string::npos);
    EXPECT_NE(add_error(Match::Ip, "10.0.0.0/").find("0 to 32"), std::string::npos);
    EXPECT_NE(add_error(Match::Ip, "10.0.0.0/255.0").find("bad mask"), std::string::npos);
    EXPECT_NE(add_error(Match::Ip, "::1/129").find("0 to 128"), std::string::npos);
    EXPECT_NE(add_error(Match::Ip, "::1/ffff::").find("0 to 128"), std::string::npos);
    const std::string name = add_error(Match::Ip, "www.example.com");
    EXPECT_NE(name.find("is not an IP address"), std::string::npos) << name;
    EXPECT_NE(name.find("does not resolve"), std::string::npos) << name;
    EXPECT_NE(add_error(Match::Ip, "localhost/8").find("is not an IP address"), std::string::npos);
}

// 10,000 random networks of both families (some nested, some duplicated), and samples inside
// and around them, against a scan that applies HAProxy's rules literally.
TEST(IpMatch, TenThousandNetworksAgainstAScan) {
    std::mt19937_64 rng(2024);
    struct Net {
        bool v6;
        std::array<std::uint8_t, 16> addr;  // v4: first 4 bytes
        unsigned len;
    };
    auto masked_eq = [](const std::uint8_t* a, const std::uint8_t* b, unsigned len) {
        if (std::memcmp(a, b, len / 8) != 0) return false;
        if (len % 8 == 0) return true;
        const auto m = static_cast<std::uint8_t>(0xff00 >> (len % 8));
        return (a[len / 8] & m) == (b[len / 8] & m);
    };
    std::vector<Net> nets;
    PatternSet set(Match::Ip, {});
    // Few distinct prefixes at the top so that random networks nest and overlap.
    auto random_net = [&](bool v6) {
        Net n{v6, {}, 0};
        for (auto& b : n.addr)
            b = static_cast<std::uint8_t>(rng());
        n.addr[0] = static_cast<std::uint8_t>(v6 ? 0x20 : 10);
        n.addr[1] = static_cast<std::uint8_t>(rng() % 4);
        n.len = v6 ? static_cast<unsigned>(rng() % 129) : static_cast<unsigned>(rng() % 33);
        if (rng() % 10 == 0)
            n.len =
                v6 ? 16 + static_cast<unsigned>(rng() % 3) : 8 + static_cast<unsigned>(rng() % 3);
        return n;
    };
    for (int i = 0; i < 10000; ++i) {
        Net n = (i > 0 && rng() % 20 == 0) ? nets[rng() % nets.size()] : random_net(rng() % 3 == 0);
        char text[INET6_ADDRSTRLEN];
        inet_ntop(n.v6 ? AF_INET6 : AF_INET, n.addr.data(), text, sizeof text);
        const std::string pattern = std::string(text) + "/" + std::to_string(n.len);
        ASSERT_TRUE(set.add(pattern, {}, std::to_string(i)).ok()) << pattern;
        nets.push_back(n);
    }
    ASSERT_EQ(set.size(), 10000u);

    // Longest prefix of the family, first added among equals; -1 for none.
    auto best = [&](bool v6, const std::uint8_t* a) {
        int found = -1;
        unsigned found_len = 0;
        for (std::size_t i = 0; i < nets.size(); ++i) {
            const Net& n = nets[i];
            if (n.v6 != v6 || !masked_eq(n.addr.data(), a, n.len)) continue;
            if (found < 0 || n.len > found_len) {
                found = static_cast<int>(i);
                found_len = n.len;
            }
        }
        return found;
    };
    // HAProxy's pat_match_ip, literally.
    auto reference = [&](const Sample& s) {
        if (s.type == Type::Ipv4) {
            const int r = best(false, s.ip.data());
            if (r >= 0) return r;
            std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            std::memcpy(mapped + 12, s.ip.data(), 4);
            return best(true, mapped);
        }
        const int r = best(true, s.ip.data());
        if (r >= 0) return r;
        static constexpr std::uint8_t kZero[10] = {};
        std::uint8_t v4[4];
        if (std::memcmp(s.ip.data(), kZero, 10) == 0 &&
            ((s.ip[10] == 0xff && s.ip[11] == 0xff) || (s.ip[10] == 0 && s.ip[11] == 0))) {
            std::memcpy(v4, s.ip.data() + 12, 4);
        } else if (s.ip[0] == 0x20 && s.ip[1] == 0x02) {
            std::memcpy(v4, s.ip.data() + 2, 4);
        } else {
            return -1;
        }
        return best(false, v4);
    };
    auto name = [](int r) { return r < 0 ? std::string("-") : std::to_string(r); };
    int checked = 0, matched = 0;
    for (int k = 0; k < 2000; ++k) {
        // Half the samples start from a pattern, with random host bits.
        Sample s;
        const bool v6 = rng() % 2 == 0;
        s.type = v6 ? Type::Ipv6 : Type::Ipv4;
        for (auto& b : s.ip)
            b = static_cast<std::uint8_t>(rng());
        s.ip[0] = static_cast<std::uint8_t>(v6 ? 0x20 : 10);
        s.ip[1] = static_cast<std::uint8_t>(rng() % 4);
        if (k % 2 == 0) {
            const Net& n = nets[rng() % nets.size()];
            if (n.v6 == v6) {
                for (unsigned bit = 0; bit < n.len; ++bit) {
                    const auto m = static_cast<std::uint8_t>(0x80 >> (bit % 8));
                    s.ip[bit / 8] =
                        static_cast<std::uint8_t>((s.ip[bit / 8] & ~m) | (n.addr[bit / 8] & m));
                }
            }
        }
        const int want = reference(s);
        EXPECT_EQ(lookup(set, s), name(want)) << k;
        EXPECT_EQ(set.match(s), want >= 0);
        ++checked;
        matched += want >= 0;
        if (!v6) {
            // The same address as ::ffff:a.b.c.d.
            Sample mapped = Sample::of(Type::Ipv6);
            mapped.ip[10] = mapped.ip[11] = 0xff;
            std::memcpy(mapped.ip.data() + 12, s.ip.data(), 4);
            EXPECT_EQ(lookup(set, mapped), name(reference(mapped))) << k;
        }
    }
    EXPECT_GT(matched, checked / 3);  // the test exercises matches, not only misses
}

TEST(PatternSetMove, KeepsPatterns) {
    auto a = make(Match::Str, {"x"});
    PatternSet b = std::move(a);
    EXPECT_TRUE(b.match(str("x")));
    PatternSet c(Match::Int, {});
    c = std::move(b);
    EXPECT_EQ(c.method(), Match::Str);
    EXPECT_TRUE(c.match(str("x")));
}

TEST(PatternFile, AclFile) {
    TempDir dir;
    const std::string path = dir.write("hosts.acl",
                                       "# comment\n"
                                       "\n"
                                       "   example.com  \n"
                                       "\t \n"
                                       " #not-a-comment\r\n"
                                       "www.example.org\r\n"
                                       "last-without-newline");
    PatternSet set(Match::Str, {});
    auto st = set.load_file(path);
    ASSERT_TRUE(st.ok()) << st.error();
    EXPECT_EQ(set.size(), 4u);
    EXPECT_TRUE(set.match(str("example.com")));
    EXPECT_TRUE(set.match(str("#not-a-comment")));
    EXPECT_TRUE(set.match(str("www.example.org")));
    EXPECT_TRUE(set.match(str("last-without-newline")));
    EXPECT_FALSE(set.match(str("# comment")));
    EXPECT_FALSE(set.match(str("")));
}

TEST(PatternFile, IntAndIpFiles) {
    TempDir dir;
    PatternSet ports(Match::Int, {});
    ASSERT_TRUE(ports.load_file(dir.write("ports", "80\n443\n8000:8999\n")).ok());
    EXPECT_TRUE(ports.match(Sample::integer(8080)));
    EXPECT_FALSE(ports.match(Sample::integer(81)));
    PatternSet nets(Match::Ip, {});
    ASSERT_TRUE(nets.load_file(dir.write("nets", "10.0.0.0/8\n2001:db8::/32\n")).ok());
    EXPECT_TRUE(nets.match(ip("10.9.9.9")));
    EXPECT_TRUE(nets.match(ip("2001:db8::9")));
}

TEST(PatternFile, BadLinesAreReportedWithFileAndLine) {
    TempDir dir;
    const std::string path = dir.write("nets.acl", "10.0.0.0/8\n# ok\n\n10.0.0.300\n");
    PatternSet set(Match::Ip, {});
    auto st = set.load_file(path);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), path + ":4: '10.0.0.300' is not a valid IPv4 or IPv6 address");

    const std::string re = dir.write("re.acl", "ok\n(bad\n");
    PatternSet regs(Match::Reg, {});
    auto st2 = regs.load_file(re);
    ASSERT_FALSE(st2.ok());
    EXPECT_EQ(st2.error().rfind(re + ":2: regex '(bad' is invalid", 0), 0u) << st2.error();

    PatternSet found(Match::Found, {});
    auto st3 = found.load_file(dir.write("f.acl", "\n# nothing\nx\n"));
    ASSERT_FALSE(st3.ok());
    EXPECT_NE(st3.error().find("f.acl:3: this match method takes no pattern"), std::string::npos);
}

TEST(PatternFile, MissingFile) {
    TempDir dir;
    const std::string path = dir.path("absent.acl");
    PatternSet set(Match::Str, {});
    auto st = set.load_file(path);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), "cannot open '" + path + "': No such file or directory");
}

TEST(PatternFile, MapFile) {
    TempDir dir;
    const std::string path = dir.write("hosts.map",
                                       "# host backend\n"
                                       "  example.com    be_main  \n"
                                       "api.example.com\tbe api  v2\t\r\n"
                                       "nothing\n"
                                       "example.com other\n");
    PatternSet set(Match::Str, {});
    auto st = set.load_file(path, true);
    ASSERT_TRUE(st.ok()) << st.error();
    EXPECT_EQ(set.size(), 4u);
    EXPECT_EQ(lookup(set, str("example.com")), "be_main");
    EXPECT_EQ(lookup(set, str("api.example.com")), "be api  v2");
    EXPECT_EQ(lookup(set, str("nothing")), "");
    EXPECT_EQ(lookup(set, str("other")), "-");
}

TEST(PatternFile, ValueCheckReportsTheLine) {
    TempDir dir;
    const std::string path = dir.write("n.map", "a 1\nb 2\nc x\n");
    PatternSet set(Match::Str, {});
    std::vector<std::string> seen;
    auto st = set.load_file(path, true, [&](std::string_view v) -> util::Status {
        seen.emplace_back(v);
        if (v == "x") return util::error("not a number");
        return util::ok();
    });
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), path + ":3: not a number");
    EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "x"}));
}

}  // namespace
}  // namespace sluice::sample
