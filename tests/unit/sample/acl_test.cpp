// ACL lines (criterion, flags, match method, patterns), named ACL tables, HAProxy's predefined
// ACLs and conditions (if/unless, implicit AND, ||/or, negation, anonymous { ... }), parsed
// from words as the config gives them and evaluated on requests parsed from bytes. Where
// HAProxy's behaviour is quoted, it was checked against haproxy 2.6.12.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sluice/http/h1_parse.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/net/address.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/sample/connection.hpp"

namespace sluice::sample {
namespace {

namespace fs = std::filesystem;

constexpr Use kReqAvail = Use::Internal | Use::Conn | Use::Req;
constexpr Use kAll = Use::Internal | Use::Conn | Use::Req | Use::Res;

// "a b  c" -> {"a", "b", "c"}: the config tokenizer's words, minus quoting.
std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t sp = text.find(' ', at);
        const std::size_t end = sp == std::string_view::npos ? text.size() : sp;
        if (end > at) out.emplace_back(text.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

net::Address address(const char* ip, std::uint16_t port = 40000) {
    net::Address a;
    sockaddr_in in{};
    if (inet_pton(AF_INET, ip, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        in.sin_port = htons(port);
        std::memcpy(&a.storage, &in, sizeof in);
        a.length = sizeof in;
        return a;
    }
    sockaddr_in6 in6{};
    EXPECT_EQ(inet_pton(AF_INET6, ip, &in6.sin6_addr), 1) << ip;
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&a.storage, &in6, sizeof in6);
    a.length = sizeof in6;
    return a;
}

class AclTest : public ::testing::Test {
  protected:
    AclTest() {
        ctx.attach(&txn);
        ctx.attach(&conn);
        request("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
        source("192.0.2.10");
    }

    // Parses a request head from `text` (views into a copy kept by the fixture).
    void request(std::string_view text) {
        bytes = std::make_unique<std::string>(text);
        head = std::make_unique<http::RequestHead>();
        const auto r = http::parse_request_head(
            std::as_bytes(std::span<const char>(bytes->data(), bytes->size())), 0, *head);
        ASSERT_TRUE(std::holds_alternative<http::Done>(r)) << text;
        txn.req = head.get();
    }
    void source(const char* ip) {
        src = address(ip);
        conn.src = &src;
    }

    util::Result<AclLine> line(std::string_view text) {
        const std::vector<std::string> w = words(text);
        return parse_acl_line(w);
    }
    // Whether the ACL line `text` matches the current request (failing on a parse error).
    bool matches(std::string_view text) {
        auto l = line(text);
        if (!l) {
            ADD_FAILURE() << text << ": " << l.error();
            return false;
        }
        arena.reset();
        return l->match(ctx);
    }
    std::string line_error(std::string_view text) {
        auto l = line(text);
        if (l) ADD_FAILURE() << text << ": parsed, expected an error";
        return l ? std::string() : l.error();
    }
    Match method_of(std::string_view text) {
        auto l = line(text);
        if (!l) {
            ADD_FAILURE() << text << ": " << l.error();
            return Match::Found;
        }
        return l->patterns.method();
    }

    util::Result<Condition> condition(std::string_view text, Use available = kReqAvail) {
        const std::vector<std::string> w = words(text);
        return parse_condition(w, table, available);
    }
    bool holds(std::string_view text, Use available = kReqAvail) {
        auto c = condition(text, available);
        if (!c) {
            ADD_FAILURE() << text << ": " << c.error();
            return false;
        }
        arena.reset();
        return c->eval(ctx);
    }
    std::string condition_error(std::string_view text, Use available = kReqAvail) {
        auto c = condition(text, available);
        if (c) ADD_FAILURE() << text << ": parsed, expected an error";
        return c ? std::string() : c.error();
    }
    // Adds `acl NAME WORDS...` to the table.
    void acl(std::string_view name, std::string_view text) {
        auto l = line(text);
        ASSERT_TRUE(l.ok()) << text << ": " << l.error();
        table.add(name, std::move(*l));
    }

    Arena arena;
    Context ctx{arena};
    std::unique_ptr<std::string> bytes;
    std::unique_ptr<http::RequestHead> head;
    http::Txn txn;
    net::Address src;
    Connection conn;
    AclTable table;
};

#define EXPECT_LINE_ERROR(text, fragment)                                              \
    do {                                                                               \
        const std::string err_ = line_error(text);                                     \
        EXPECT_NE(err_.find(fragment), std::string::npos) << (text) << " -> " << err_; \
    } while (0)
#define EXPECT_COND_ERROR(text, fragment)                                              \
    do {                                                                               \
        const std::string err_ = condition_error(text);                                \
        EXPECT_NE(err_.find(fragment), std::string::npos) << (text) << " -> " << err_; \
    } while (0)

class AclLineTest : public AclTest {};
class AclTableTest : public AclTest {};
class AclPredefined : public AclTest {};
class CondParse : public AclTest {};
class CondEval : public AclTest {};

// ---- ACL lines -----------------------------------------------------------------------------

TEST_F(AclLineTest, DefaultMatchFollowsTheFetchType) {
    EXPECT_EQ(method_of("path /a"), Match::Str);        // str
    EXPECT_EQ(method_of("method GET"), Match::Str);     // meth
    EXPECT_EQ(method_of("src 10.0.0.0/8"), Match::Ip);  // addr
    EXPECT_EQ(method_of("ipv6(::1) ::1"), Match::Ip);   // ipv6
    EXPECT_EQ(method_of("always_true"), Match::Bool);   // bool
    EXPECT_EQ(method_of("ssl_fc"), Match::Bool);
    EXPECT_EQ(method_of("src_port 80"), Match::Int);  // sint
    EXPECT_EQ(method_of("hdr_cnt(host) 1"), Match::Int);
    EXPECT_EQ(method_of("req.body 00"), Match::Bin);      // bin
    EXPECT_EQ(method_of("str(x),length 1"), Match::Int);  // the last converter's type
    EXPECT_EQ(method_of("str(1.2.3.4),ipmask(8) 1.0.0.0"), Match::Ip);
    EXPECT_EQ(method_of("hdr_ip(x-forwarded-for) 10.0.0.0/8"), Match::Ip);  // a real fetch
}

TEST_F(AclLineTest, DerivedSuffixes) {
    struct Row {
        std::string_view text;
        std::string_view fetch;
        Match match;
    };
    for (const Row& r : {
             Row{"path_beg /api", "path", Match::Beg},
             Row{"path_end .jpg", "path", Match::End},
             Row{"path_sub img", "path", Match::Sub},
             Row{"path_dir img", "path", Match::Dir},
             Row{"path_len 3", "path", Match::Len},
             Row{"path_str /", "path", Match::Str},
             Row{"path_found", "path", Match::Found},
             Row{"url_reg ^/a", "url", Match::Reg},
             Row{"hdr_sub(host) exa", "hdr", Match::Sub},
             Row{"hdr_beg(host) www.", "hdr", Match::Beg},
             Row{"hdr_end(host) .com", "hdr", Match::End},
             Row{"hdr_dom(host) example.com", "hdr", Match::Dom},
             Row{"hdr_reg(host) ^ex", "hdr", Match::Reg},
             Row{"hdr_len(host) 11", "hdr", Match::Len},
             Row{"hdr_val(content-length) gt 0", "hdr", Match::Int},
             Row{"req.hdr_val(x) 1", "req.hdr", Match::Int},
             Row{"req.body_bin 00", "req.body", Match::Bin},
             Row{"src_ip 10.0.0.1", "src", Match::Ip},
             Row{"url_param_beg(x) a", "url_param", Match::Beg},
         }) {
        auto l = line(r.text);
        ASSERT_TRUE(l.ok()) << r.text << ": " << l.error();
        EXPECT_EQ(l->expr.fetch->name, r.fetch) << r.text;
        EXPECT_EQ(match_name(l->patterns.method()), match_name(r.match)) << r.text;
    }
    // The derived form keeps the fetch's arguments and converters.
    auto l = line("hdr_beg(host,1),lower www.");
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_EQ(l->expr.text, "hdr(host,1),lower");
    ASSERT_EQ(l->expr.converters.size(), 1u);
    // Errors name what is wrong: an unknown base, or the base's own error.
    EXPECT_LINE_ERROR("nope_beg x", "unknown fetch method 'nope_beg'");
    EXPECT_LINE_ERROR("path_xyz /a", "unknown fetch method 'path_xyz'");
    EXPECT_LINE_ERROR("path_beg(x) /a", "'path' takes no argument");
    EXPECT_LINE_ERROR("hdr_beg(host,x) a", "must be an integer");
    EXPECT_LINE_ERROR("", "missing ACL criterion");
}

TEST_F(AclLineTest, DerivedFormsMatch) {
    request("GET /api/v1/img/x.JPG?q=1 HTTP/1.1\r\nHost: www.Example.com\r\n\r\n");
    EXPECT_TRUE(matches("path_beg /api /v2"));
    EXPECT_FALSE(matches("path_beg /v2 /ap/"));
    EXPECT_TRUE(matches("path_end .JPG"));
    EXPECT_FALSE(matches("path_end .jpg"));
    EXPECT_TRUE(matches("path_end -i .jpg"));
    EXPECT_TRUE(matches("path_sub /v1/"));
    EXPECT_TRUE(matches("path_dir img"));
    EXPECT_FALSE(matches("path_dir im"));
    EXPECT_TRUE(matches("path_len 17"));  // "/api/v1/img/x.JPG"
    EXPECT_TRUE(matches("path_len gt 10"));
    EXPECT_FALSE(matches("path_len lt 10"));
    EXPECT_TRUE(matches("url_reg ^/api/.*\\?q="));
    EXPECT_TRUE(matches("hdr_dom(host) -i example.com"));
    EXPECT_FALSE(matches("hdr_dom(host) ample.com"));
    EXPECT_TRUE(matches("hdr_beg(host) www."));
    EXPECT_TRUE(matches("hdr_beg(host),lower www.example"));
    EXPECT_TRUE(matches("path_found"));
    EXPECT_FALSE(matches("hdr_found(x-nope)"));
    EXPECT_TRUE(matches("hdr_found(host)"));
}

TEST_F(AclLineTest, IgnoreCase) {
    request("GET / HTTP/1.1\r\nHost: EXAMPLE.com\r\n\r\n");
    EXPECT_FALSE(matches("hdr(host) example.com"));
    EXPECT_TRUE(matches("hdr(host) -i example.com"));
    EXPECT_TRUE(matches("hdr(host) -i -m beg exa"));
    EXPECT_TRUE(matches("hdr(host) -m beg -i exa"));
    auto l = line("hdr(host) -i x");
    ASSERT_TRUE(l.ok());
    EXPECT_TRUE(l->patterns.flags().ignore_case);
    l = line("hdr(host) x");
    ASSERT_TRUE(l.ok());
    EXPECT_FALSE(l->patterns.flags().ignore_case);
}

TEST_F(AclLineTest, ExplicitMatchMethod) {
    request("GET /static/app.js HTTP/1.1\r\nHost: a\r\nX-N: 42\r\n\r\n");
    EXPECT_EQ(method_of("path -m beg /s"), Match::Beg);
    EXPECT_TRUE(matches("path -m beg /static"));
    EXPECT_TRUE(matches("path -m end .js"));
    EXPECT_TRUE(matches("path -m sub app"));
    EXPECT_TRUE(matches("path -m reg ^/st.*js$"));
    EXPECT_TRUE(matches("path -m len 14"));
    EXPECT_TRUE(matches("path -m found"));
    EXPECT_FALSE(matches("hdr(x-nope) -m found"));
    EXPECT_TRUE(matches("hdr(x-n) -m int 40:50"));  // the string is cast to an integer
    EXPECT_TRUE(matches("hdr(x-n) -m int gt 41"));
    EXPECT_FALSE(matches("hdr(x-n) -m int lt 42"));
    EXPECT_TRUE(matches("hdr(x-n) -m str 42"));
    // The same method as the derived form's is no conflict.
    EXPECT_TRUE(matches("path_beg -m beg /static"));
    EXPECT_LINE_ERROR("path -m bogus x", "unknown match method 'bogus' after '-m'");
    EXPECT_LINE_ERROR("path -m", "'-m' needs an argument");
    EXPECT_LINE_ERROR("path -f", "'-f' needs an argument");
    EXPECT_LINE_ERROR("path -M x", "'-M' (pattern files given as maps) is not supported yet");
}

// sluice refuses a -m that contradicts the derived spelling. (haproxy 2.6.12 accepts
// `path_beg -m sub /a` and the -m wins: it matches "/x/a".)
TEST_F(AclLineTest, ConflictingMethodAndDerivedForm) {
    EXPECT_LINE_ERROR("path_beg -m sub /a",
                      "'-m sub' conflicts with the match method implied by 'path_beg'");
    EXPECT_LINE_ERROR("hdr_end(host) -m str x", "'-m str' conflicts");
    EXPECT_LINE_ERROR("path_len -m int 3", "conflicts");
}

TEST_F(AclLineTest, OtherFlags) {
    // -n (no DNS) and -u ID are accepted.
    auto l = line("src -n 10.0.0.0/8");
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_TRUE(l->patterns.flags().no_dns);
    EXPECT_TRUE(line("path -u 12 /a").ok());
    EXPECT_EQ(line("path -u 12 /a")->patterns.size(), 1u);
}

TEST_F(AclLineTest, DoubleDashEndsTheFlags) {
    request("GET / HTTP/1.1\r\nHost: a\r\nX-Flag: -i\r\n\r\n");
    auto l = line("hdr(x-flag) -- -i");
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_FALSE(l->patterns.flags().ignore_case);
    EXPECT_EQ(l->patterns.size(), 1u);
    EXPECT_TRUE(matches("hdr(x-flag) -- -i"));
    EXPECT_TRUE(matches("hdr(x-flag) -m str -- -i"));
    EXPECT_FALSE(matches("hdr(x-flag) -- -I"));
    EXPECT_TRUE(matches("hdr(x-flag) -i -- -I"));
    // `--` alone: an ACL with no pattern, which never matches (and says so on purpose).
    l = line("path --");
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_TRUE(l->patterns.empty());
    EXPECT_FALSE(matches("path --"));
}

TEST_F(AclLineTest, IntegerOperatorsAndRanges) {
    request("GET / HTTP/1.1\r\nHost: a\r\nX-T: 1, 2\r\nX-T: 3\r\nX-N: 42abc\r\n\r\n");
    EXPECT_TRUE(matches("hdr_cnt(x-t) eq 3"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) gt 2"));
    EXPECT_FALSE(matches("hdr_cnt(x-t) gt 3"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) ge 3"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) lt 4"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) le 3"));
    EXPECT_FALSE(matches("hdr_cnt(x-t) le 2"));
    EXPECT_TRUE(matches("req.fhdr_cnt(x-t) 2"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) 1:3"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) 3:"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) :3"));
    EXPECT_FALSE(matches("hdr_cnt(x-t) 4:10"));
    EXPECT_TRUE(matches("hdr_cnt(x-t) 7 3 9"));  // any value
    EXPECT_TRUE(matches("hdr_val(x-n) 42"));     // a leading integer, as strtol
    EXPECT_TRUE(matches("int(-5) -- -5"));       // a negative pattern after `--`
    EXPECT_TRUE(matches("int(-5) lt 0"));
    EXPECT_TRUE(matches("int(5) eq 5"));
    EXPECT_FALSE(matches("int(5) eq"));  // an operator without a value: no pattern
    // On a string method an operator word is a pattern like any other.
    auto l = line("path gt 3");
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_EQ(l->patterns.size(), 2u);
    EXPECT_LINE_ERROR("int(5) abc", "");  // not an integer
}

TEST_F(AclLineTest, PatternFiles) {
    const fs::path dir =
        fs::temp_directory_path() / ("sluice-acl-test-" + std::to_string(getpid()));
    fs::create_directories(dir);
    struct Cleanup {
        fs::path p;
        ~Cleanup() {
            std::error_code ec;
            fs::remove_all(p, ec);
        }
    } cleanup{dir};
    const std::string file = (dir / "paths.lst").string();
    std::ofstream(file) << "/api\n# a comment\n\n   /v2  \n\t/static/\n";
    const std::string bad = (dir / "bad.lst").string();
    std::ofstream(bad) << "10.0.0.0/8\nnot-an-address\n";

    request("GET /v2/users HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(matches("path_beg -f " + file));
    auto l = line("path_beg -f " + file);
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_EQ(l->patterns.size(), 3u);
    // Files and inline patterns add up, and several files may be given.
    l = line("path_beg -f " + file + " -f " + file + " /x /y");
    ASSERT_TRUE(l.ok()) << l.error();
    EXPECT_EQ(l->patterns.size(), 8u);
    request("GET /x/1 HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(matches("path_beg -f " + file + " /x"));
    EXPECT_FALSE(matches("path_beg -f " + file));
    // -i applies to the file's patterns too.
    request("GET /API/1 HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(matches("path_beg -i -f " + file));
    EXPECT_FALSE(matches("path_beg -f " + file));
    // Errors name the file (and line).
    EXPECT_LINE_ERROR("path -f " + (dir / "missing.lst").string(), "cannot open");
    EXPECT_LINE_ERROR("src -f " + bad, "bad.lst:2");
}

// Several values (a header's comma-separated elements, every occurrence of a cookie): any one
// matching is a match, as in HAProxy. An explicit occurrence picks one.
TEST_F(AclLineTest, MultiValuedFetchesMatchAnyValue) {
    request(
        "GET / HTTP/1.1\r\nHost: a\r\nX-T: 1, 2\r\nX-T: 3\r\nCookie: a=3; a=1\r\n"
        "X-Tag: Foo\r\n\r\n");
    EXPECT_TRUE(matches("hdr(x-t) 2"));
    EXPECT_TRUE(matches("hdr(x-t) 1"));
    EXPECT_TRUE(matches("req.hdr(x-t) 3"));
    EXPECT_FALSE(matches("hdr(x-t) 4"));
    EXPECT_TRUE(matches("hdr(x-t,2) 2"));
    EXPECT_FALSE(matches("hdr(x-t,1) 2"));
    EXPECT_FALSE(matches("hdr(x-t,-1) 2"));
    EXPECT_TRUE(matches("req.fhdr(x-t) -m beg 1,"));  // whole lines
    EXPECT_TRUE(matches("req.fhdr(x-t) 3"));
    EXPECT_FALSE(matches("req.fhdr(x-t) 2"));
    EXPECT_TRUE(matches("req.cook(a) 1"));
    EXPECT_TRUE(matches("cook(a) 3"));
    EXPECT_FALSE(matches("cook(a) 2"));
    EXPECT_TRUE(matches("hdr_sub(x-t) 2"));
    EXPECT_TRUE(matches("hdr(x-tag),lower foo"));  // converters apply to each value
    EXPECT_TRUE(matches("hdr_cnt(x-t) 3"));
}

// Pinned against haproxy 2.6.12 (fetch_http.cpp: hdr_ip has no `.each`): HAProxy's hdr_ip in an ACL
// tries every value until one is an address that matches: with `X-IP: junk, 10.1.2.3, 192.168.0.1`,
// `acl a hdr_ip(x-ip) 10.0.0.0/8` matches in haproxy 2.6.12.
TEST_F(AclLineTest, HdrIpMatchesAnyValue) {
    request("GET / HTTP/1.1\r\nHost: a\r\nX-IP: junk, 10.1.2.3, 192.168.0.1\r\n\r\n");
    EXPECT_TRUE(matches("hdr_ip(x-ip) 10.0.0.0/8"));
}

// Pinned against haproxy 2.6.12 (acl.cpp parse_acl_line): HAProxy refuses a word starting with '-'
// that is no flag ("'-x' is not a valid ACL option. Please use '--' before any pattern beginning
// with a
// '-'", also for `hdr_cnt -1`).
TEST_F(AclLineTest, UnknownFlagIsAnError) {
    EXPECT_LINE_ERROR("path -x foo", "'-x' is not a valid ACL option");
    EXPECT_LINE_ERROR("hdr_cnt -1", "'-1' is not a valid ACL option");
}

TEST_F(AclLineTest, Addresses) {
    source("10.1.2.3");
    EXPECT_TRUE(matches("src 10.0.0.0/8"));
    EXPECT_TRUE(matches("src 192.168.0.0/16 10.1.2.3"));
    EXPECT_FALSE(matches("src 192.168.0.0/16"));
    EXPECT_TRUE(matches("src ::ffff:10.1.2.3"));  // an IPv4 client against a mapped pattern
    EXPECT_TRUE(matches("src_port 40000"));
    EXPECT_TRUE(matches("src_port gt 1024"));
    source("2001:db8::5");
    EXPECT_TRUE(matches("src 2001:db8::/32"));
    EXPECT_FALSE(matches("src 10.0.0.0/8"));
    EXPECT_LINE_ERROR("src 10.0.0.300", "10.0.0.300");
    // No connection attached: no sample, no match.
    Arena a2;
    Context bare{a2};
    auto l = line("src 0.0.0.0/0 ::/0");
    ASSERT_TRUE(l.ok());
    EXPECT_FALSE(l->match(bare));
}

// ---- ACL tables ----------------------------------------------------------------------------

TEST_F(AclTableTest, LinesOfOneNameAreOred) {
    acl("static", "path_beg /static");
    acl("static", "path_end .css .js");
    acl("other", "path /other");
    const Acl* a = table.find("static");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->name, "static");
    EXPECT_EQ(a->lines.size(), 2u);
    EXPECT_EQ(table.find("missing"), nullptr);
    EXPECT_EQ(table.find("Static"), nullptr);  // names are case-sensitive

    request("GET /static/x HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(a->match(ctx));
    request("GET /app.css HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(a->match(ctx));
    request("GET /app.html HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_FALSE(a->match(ctx));
    EXPECT_FALSE(table.find("other")->match(ctx));
}

TEST_F(AclTableTest, UseIsTheUnionOfItsLines) {
    acl("mixed", "path /x");
    EXPECT_EQ(table.find("mixed")->use, Use::Req);
    acl("mixed", "src 10.0.0.0/8");
    EXPECT_EQ(table.find("mixed")->use, Use::Req | Use::Conn);
    acl("const", "always_true");
    EXPECT_EQ(table.find("const")->use, Use::Internal);
}

TEST_F(AclTableTest, PointersStayValidAsTheTableGrows) {
    acl("first", "always_true");
    const Acl* first = table.find("first");
    for (int i = 0; i < 100; ++i)
        acl(std::string("n").append(std::to_string(i)), "always_false");
    EXPECT_EQ(table.find("first"), first);
    EXPECT_TRUE(first->match(ctx));
}

// ---- Predefined ACLs -----------------------------------------------------------------------

TEST_F(AclPredefined, AllOfHaproxysAreKnown) {
    for (std::string_view name :
         {"TRUE", "FALSE", "HTTP", "HTTP_1.0", "HTTP_1.1", "HTTP_CONTENT", "HTTP_URL_ABS",
          "HTTP_URL_SLASH", "HTTP_URL_STAR", "LOCALHOST", "METH_CONNECT", "METH_DELETE", "METH_GET",
          "METH_HEAD", "METH_OPTIONS", "METH_POST", "METH_PUT", "METH_TRACE", "REQ_CONTENT"}) {
        const Acl* a = predefined_acl(name);
        ASSERT_NE(a, nullptr) << name;
        EXPECT_EQ(a->name, name);
        EXPECT_EQ(a->lines.size(), 1u) << name;
    }
    EXPECT_EQ(predefined_acl("NOPE"), nullptr);
    EXPECT_EQ(predefined_acl("true"), nullptr);
    EXPECT_EQ(predefined_acl(""), nullptr);
}

TEST_F(AclPredefined, Constants) {
    EXPECT_TRUE(predefined_acl("TRUE")->match(ctx));
    EXPECT_FALSE(predefined_acl("FALSE")->match(ctx));
    EXPECT_EQ(predefined_acl("TRUE")->use, Use::Internal);
}

TEST_F(AclPredefined, Methods) {
    const Acl* get = predefined_acl("METH_GET");
    const Acl* head_acl = predefined_acl("METH_HEAD");
    const Acl* post = predefined_acl("METH_POST");
    request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(get->match(ctx));
    EXPECT_FALSE(head_acl->match(ctx));
    request("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(get->match(ctx));  // METH_GET is GET or HEAD
    EXPECT_TRUE(head_acl->match(ctx));
    EXPECT_FALSE(post->match(ctx));
    request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    EXPECT_FALSE(get->match(ctx));
    EXPECT_TRUE(post->match(ctx));
    request("get / HTTP/1.1\r\nHost: a\r\n\r\n");  // methods are case-sensitive
    EXPECT_FALSE(get->match(ctx));
    request("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(predefined_acl("METH_PUT")->match(ctx));
    request("DELETE / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(predefined_acl("METH_DELETE")->match(ctx));
    request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(predefined_acl("METH_OPTIONS")->match(ctx));
    EXPECT_TRUE(predefined_acl("HTTP_URL_STAR")->match(ctx));
    EXPECT_FALSE(predefined_acl("HTTP_URL_SLASH")->match(ctx));
    request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    EXPECT_TRUE(predefined_acl("METH_CONNECT")->match(ctx));
    request("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(predefined_acl("METH_TRACE")->match(ctx));
}

TEST_F(AclPredefined, Versions) {
    const Acl* v10 = predefined_acl("HTTP_1.0");
    const Acl* v11 = predefined_acl("HTTP_1.1");
    request("GET / HTTP/1.0\r\n\r\n");
    EXPECT_TRUE(v10->match(ctx));
    EXPECT_FALSE(v11->match(ctx));
    request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_FALSE(v10->match(ctx));
    EXPECT_TRUE(v11->match(ctx));
    EXPECT_TRUE(predefined_acl("HTTP")->match(ctx));
}

TEST_F(AclPredefined, Urls) {
    request("GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\n\r\n");
    EXPECT_TRUE(predefined_acl("HTTP_URL_ABS")->match(ctx));
    EXPECT_FALSE(predefined_acl("HTTP_URL_SLASH")->match(ctx));
    request("GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_FALSE(predefined_acl("HTTP_URL_ABS")->match(ctx));
    EXPECT_TRUE(predefined_acl("HTTP_URL_SLASH")->match(ctx));
}

TEST_F(AclPredefined, Content) {
    const Acl* content = predefined_acl("HTTP_CONTENT");
    request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
    EXPECT_TRUE(content->match(ctx));
    request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    EXPECT_FALSE(content->match(ctx));
    request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_FALSE(content->match(ctx));
    const Acl* req_content = predefined_acl("REQ_CONTENT");
    txn.req_len = 0;
    EXPECT_FALSE(req_content->match(ctx));
    txn.req_len = 10;
    EXPECT_TRUE(req_content->match(ctx));
}

TEST_F(AclPredefined, Localhost) {
    const Acl* local = predefined_acl("LOCALHOST");
    EXPECT_EQ(local->use, Use::Conn);
    for (const char* ip : {"127.0.0.1", "127.255.0.9", "::1"}) {
        source(ip);
        EXPECT_TRUE(local->match(ctx)) << ip;
    }
    for (const char* ip : {"128.0.0.1", "10.0.0.1", "::2", "2001:db8::1"}) {
        source(ip);
        EXPECT_FALSE(local->match(ctx)) << ip;
    }
}

// ---- Conditions: parsing -------------------------------------------------------------------

TEST_F(CondParse, IfAndUnless) {
    auto c = condition("if TRUE");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_FALSE(c->unless);
    ASSERT_EQ(c->any_of.size(), 1u);
    ASSERT_EQ(c->any_of[0].size(), 1u);
    EXPECT_EQ(c->any_of[0][0].acl, predefined_acl("TRUE"));
    EXPECT_FALSE(c->any_of[0][0].negate);
    EXPECT_EQ(c->text, "if TRUE");
    c = condition("unless FALSE");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_TRUE(c->unless);
    EXPECT_COND_ERROR("when TRUE", "expected 'if' or 'unless'");
    EXPECT_COND_ERROR("", "expected 'if' or 'unless'");
    EXPECT_COND_ERROR("IF TRUE", "expected 'if' or 'unless'");
}

TEST_F(CondParse, AndOrAndNegation) {
    acl("a", "always_true");
    acl("b", "always_false");
    auto c = condition("if a b || !a or ! b");
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_EQ(c->any_of.size(), 3u);
    ASSERT_EQ(c->any_of[0].size(), 2u);  // implicit AND
    EXPECT_EQ(c->any_of[0][0].acl, table.find("a"));
    EXPECT_EQ(c->any_of[0][1].acl, table.find("b"));
    ASSERT_EQ(c->any_of[1].size(), 1u);
    EXPECT_TRUE(c->any_of[1][0].negate);  // attached '!'
    EXPECT_EQ(c->any_of[1][0].acl, table.find("a"));
    ASSERT_EQ(c->any_of[2].size(), 1u);
    EXPECT_TRUE(c->any_of[2][0].negate);  // separate '!'
    EXPECT_EQ(c->any_of[2][0].acl, table.find("b"));
    EXPECT_EQ(c->text, "if a b || !a or ! b");
    // A named ACL shadows nothing predefined: the table is looked up first.
    acl("TRUE", "always_false");
    c = condition("if TRUE");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->any_of[0][0].acl, table.find("TRUE"));
}

TEST_F(CondParse, AnonymousAcls) {
    auto c = condition("if { path_beg /api } !{ src 10.0.0.0/8 } || ! { method POST }");
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_EQ(c->any_of.size(), 2u);
    ASSERT_EQ(c->any_of[0].size(), 2u);
    EXPECT_FALSE(c->any_of[0][0].negate);
    EXPECT_TRUE(c->any_of[0][1].negate);
    EXPECT_TRUE(c->any_of[1][0].negate);
    EXPECT_EQ(c->owned.size(), 3u);  // the condition owns its anonymous ACLs
    EXPECT_TRUE(c->any_of[0][0].acl->name.empty());
    // Flags and several patterns inside.
    c = condition("if { hdr(host) -i -m beg www. api. }");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_COND_ERROR("if { path_beg /api", "missing closing '}' in condition");
    EXPECT_COND_ERROR("if { path_beg /api } || { src 1.2.3.4", "missing closing '}'");
    EXPECT_COND_ERROR("if { }", "in anonymous ACL: missing ACL criterion");
    EXPECT_COND_ERROR("if { nope x }", "in anonymous ACL: unknown fetch method 'nope'");
}

TEST_F(CondParse, EmptyAndDanglingTerms) {
    EXPECT_COND_ERROR("if", "missing condition after 'if'");
    EXPECT_COND_ERROR("unless", "missing condition after 'unless'");
    EXPECT_COND_ERROR("if TRUE ||", "missing condition term after '||'");
    EXPECT_COND_ERROR("if || TRUE", "missing condition term before '||'");
    EXPECT_COND_ERROR("if TRUE or or TRUE", "missing condition term before 'or'");
    EXPECT_COND_ERROR("if !", "missing ACL after '!'");
    EXPECT_COND_ERROR("if TRUE !", "missing ACL after '!'");
}

TEST_F(CondParse, UnknownAcls) {
    acl("is_api", "path_beg /api");
    EXPECT_COND_ERROR("if is_apii", "no such ACL : 'is_apii'");
    EXPECT_COND_ERROR("if is_api nope", "no such ACL : 'nope'");
    EXPECT_COND_ERROR("if !nope", "no such ACL : 'nope'");
    EXPECT_COND_ERROR("if true", "no such ACL : 'true'");
}

TEST_F(CondParse, BareCriterion) {
    // HAProxy takes a fetch without pattern as an ACL of its own (`if ssl_fc`).
    auto c = condition("if ssl_fc");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->any_of[0][0].acl->name, "ssl_fc");
    EXPECT_EQ(c->owned.size(), 1u);
    EXPECT_FALSE(c->eval(ctx));  // plain connections until TLS lands
    EXPECT_TRUE(holds("unless ssl_fc"));
    EXPECT_TRUE(holds("if always_true"));
    EXPECT_TRUE(holds("if !ssl_fc"));
    EXPECT_TRUE(holds("if path_found"));  // a derived form works too
    EXPECT_FALSE(holds("if hdr_found(x-nope)"));
}

TEST_F(CondParse, DataTheRuleDoesNotHave) {
    acl("ok", "status 200");
    std::string err = condition_error("if ok");
    EXPECT_NE(err.find("acl 'ok' involves keywords whose data is not available here, so it would "
                       "never match"),
              std::string::npos)
        << err;
    err = condition_error("if TRUE !{ status 200 }");
    EXPECT_NE(err.find("acl '{ ... }' involves keywords"), std::string::npos) << err;
    err = condition_error("if res.hdr_found(server)");
    EXPECT_NE(err.find("acl 'res.hdr_found(server)' involves"), std::string::npos) << err;
    // A connection rule has no request either.
    acl("api", "path_beg /api");
    err = condition_error("if api", Use::Internal | Use::Conn);
    EXPECT_NE(err.find("acl 'api' involves"), std::string::npos) << err;
    err = condition_error("if METH_GET", Use::Internal | Use::Conn);
    EXPECT_NE(err.find("acl 'METH_GET' involves"), std::string::npos) << err;
    EXPECT_TRUE(condition("if LOCALHOST", Use::Internal | Use::Conn).ok());
    // With the response available: fine. hdr() goes anywhere.
    EXPECT_TRUE(condition("if ok", kAll).ok());
    EXPECT_TRUE(condition("if { status 200 }", kAll).ok());
    EXPECT_TRUE(condition("if { hdr(host) a }", kReqAvail).ok());
    EXPECT_TRUE(condition("if { hdr(server) a }", Use::Internal | Use::Conn | Use::Res).ok());
}

TEST_F(CondParse, ConditionStart) {
    auto start = [](std::string_view text) {
        const std::vector<std::string> w = words(text);
        return condition_start(w);
    };
    EXPECT_EQ(start("deny if TRUE"), 1u);
    EXPECT_EQ(start("deny unless TRUE"), 1u);
    EXPECT_EQ(start("set-header X y if TRUE"), 3u);
    EXPECT_EQ(start("deny"), 1u);
    EXPECT_EQ(start(""), 0u);
}

// Pinned against haproxy 2.6.12 (acl.cpp parse_condition): haproxy 2.6.12 strips any number of
// leading '!' (each one flips the term: `if !!a` is `if a`) and takes `or` in any case (`if FALSE
// OR TRUE`); sluice does the same.
TEST_F(CondParse, RepeatedNegationAndUppercaseOr) {
    EXPECT_TRUE(holds("if !!TRUE"));
    EXPECT_FALSE(holds("if !!!TRUE"));
    EXPECT_TRUE(holds("if FALSE OR TRUE"));
}

// ---- Conditions: evaluation ----------------------------------------------------------------

TEST_F(CondEval, Constants) {
    EXPECT_TRUE(holds("if TRUE"));
    EXPECT_FALSE(holds("if FALSE"));
    EXPECT_FALSE(holds("unless TRUE"));
    EXPECT_TRUE(holds("unless FALSE"));
    EXPECT_TRUE(holds("if !FALSE"));
    EXPECT_TRUE(holds("if ! FALSE"));
    EXPECT_FALSE(holds("if !TRUE"));
}

TEST_F(CondEval, AndBindsTighterThanOr) {
    EXPECT_TRUE(holds("if TRUE TRUE"));
    EXPECT_FALSE(holds("if TRUE FALSE"));
    EXPECT_TRUE(holds("if FALSE TRUE || TRUE"));       // (F and T) or T
    EXPECT_FALSE(holds("if TRUE FALSE || FALSE"));     // (T and F) or F
    EXPECT_TRUE(holds("if FALSE || TRUE TRUE"));       // F or (T and T)
    EXPECT_FALSE(holds("if FALSE || TRUE FALSE"));     // F or (T and F)
    EXPECT_TRUE(holds("if FALSE or FALSE or TRUE"));   //
    EXPECT_FALSE(holds("unless FALSE || TRUE TRUE"));  // unless negates the whole
    EXPECT_TRUE(holds("unless FALSE || TRUE FALSE"));
}

TEST_F(CondEval, OnARequest) {
    acl("is_api", "path_beg /api");
    acl("is_api", "hdr(host) -i api.example.com");
    request("POST /v1/x HTTP/1.1\r\nHost: API.example.com\r\nContent-Length: 0\r\n\r\n");
    source("10.1.2.3");
    EXPECT_TRUE(holds("if is_api"));  // the second line
    EXPECT_FALSE(holds("if is_api !{ src 10.0.0.0/8 }"));
    EXPECT_TRUE(holds("if is_api !{ src 10.0.0.0/8 } || METH_POST"));
    EXPECT_TRUE(holds("if { src 10.0.0.0/8 } { path_beg /v1 } METH_POST"));
    source("192.0.2.1");
    EXPECT_TRUE(holds("if is_api !{ src 10.0.0.0/8 }"));
    request("GET /api/x HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
    EXPECT_TRUE(holds("if is_api METH_GET"));
    EXPECT_FALSE(holds("if is_api !METH_GET"));
    request("GET /web HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
    EXPECT_FALSE(holds("if is_api"));
    EXPECT_TRUE(holds("unless is_api"));
}

TEST_F(CondEval, WithoutData) {
    // Nothing attached: fetches have no sample, so ACLs on them do not match (their negation
    // does).
    Arena a2;
    Context bare{a2};
    auto c = condition("if { path_beg / }");
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->eval(bare));
    c = condition("if !{ path_beg / }");
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->eval(bare));
    c = condition("if LOCALHOST");
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->eval(bare));
}

}  // namespace
}  // namespace sluice::sample
