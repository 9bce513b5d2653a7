// Error pages: the built-in ones, the two page builders, and errorfile / errorfiles / http-error /
// http-errors from config text to a proxy's ErrorPages (the Reader, then build_error_pages).
//
// Where a test says "HAProxy 2.6 ...", it was checked with Debian's haproxy 2.6.12, by
// `haproxy -c -f t.cfg` and by provoking each error on a loopback port.
#include "sluice/http/error_pages.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/reader.hpp"
#include "sluice/http/h1_parse.hpp"

namespace sluice::http {
namespace {

using Lines = std::vector<std::string>;
namespace fs = std::filesystem;

// ---- helpers --------------------------------------------------------------------------------

std::string shown(const cfg::Message& m) {
    std::string text = cfg::format_message(m);
    const std::string pid = fmt::format("({})", ::getpid());
    if (const std::size_t at = text.find(pid); at != std::string::npos)
        text.replace(at, pid.size(), "(PID)");
    return text;
}

// The page as the sender writes it when it does not close: head, empty line, body.
std::string wire(const ErrorPage& page) {
    return page.head + "\r\n" + page.body;
}

// Parses a page's head as a client would; the views in `head` point into `text`.
HeadResult parse_wire(const std::string& text, ResponseHead& head) {
    return parse_response_head(std::as_bytes(std::span(text.data(), text.size())), 0, head);
}

// A directory of page files, one per test process (several build trees may run at once).
class Files {
  public:
    Files() : dir_(fs::path(::testing::TempDir()) / fmt::format("sluice-errpages-{}", ::getpid())) {
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    ~Files() { fs::remove_all(dir_); }
    std::string write(const std::string& name, std::string_view content) {
        const fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    std::string dir() const { return dir_.string(); }

  private:
    fs::path dir_;
};

struct Config {
    cfg::Document doc;
    cfg::Diagnostics diag;

    Lines messages() const {
        Lines out;
        for (const cfg::Message& m : diag.messages())
            out.push_back(shown(m));
        return out;
    }
    const cfg::Section& proxy(std::string_view name) const {
        for (const cfg::Section& s : doc.proxies)
            if (s.name == name) return s;
        ADD_FAILURE() << "no proxy " << name;
        return doc.proxies.at(0);
    }
    // build_error_pages() for a proxy; its messages join the reader's.
    std::shared_ptr<const ErrorPages> build(std::string_view name, std::size_t max_size = 16384) {
        return build_error_pages(proxy(name).parts, doc.global, diag, max_size);
    }
};

Config parse(std::string_view text) {
    Config c;
    cfg::ConditionEnv env{
        .env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; },
        .has_feature = [](std::string_view) { return false; },
        .version = "2.6.12",
    };
    cfg::Reader reader(c.doc, c.diag, env);
    reader.read_text("t.cfg", text);
    return c;
}

std::string alert(int line, std::string_view rest) {
    return fmt::format("[ALERT]    (PID) : config : parsing [t.cfg:{}] : {}", line, rest);
}
std::string warning(int line, std::string_view rest) {
    return fmt::format("[WARNING]  (PID) : config : parsing [t.cfg:{}] : {}", line, rest);
}

// ---- built-in pages -------------------------------------------------------------------------

TEST(BuiltInPages, EveryStatusHasAValidPageWithTheRightLength) {
    for (std::uint16_t status : kErrorStatuses) {
        const ErrorPage* page = default_error_page(status);
        ASSERT_NE(page, nullptr) << status;
        EXPECT_EQ(page->status, status);
        EXPECT_FALSE(page->must_close);
        const std::string text = wire(*page);
        ResponseHead head;
        const HeadResult r = parse_wire(text, head);
        ASSERT_TRUE(std::holds_alternative<Done>(r)) << status;
        EXPECT_EQ(head.status, status);
        EXPECT_EQ(head.version, Version::Http11);
        EXPECT_EQ(std::get<Done>(r).consumed, page->head.size() + 2);
        const Framing f = analyze_response_framing(head, "GET");
        EXPECT_EQ(f.kind, BodyKind::ContentLength) << status;
        EXPECT_EQ(f.content_length, page->body.size()) << status;
        ASSERT_NE(head.headers.find("cache-control"), nullptr);
        EXPECT_EQ(head.headers.find("cache-control")->value, "no-cache");
        ASSERT_NE(head.headers.find("content-type"), nullptr);
        EXPECT_EQ(head.headers.find("content-type")->value, "text/html");
        EXPECT_EQ(head.headers.find("connection"), nullptr) << "the sender adds it";
        const std::string h1 = fmt::format("<h1>{} {}</h1>", status, head.reason);
        EXPECT_NE(page->body.find(h1), std::string::npos) << page->body;
    }
}

TEST(BuiltInPages, StatusLinesAreHaproxys) {
    // HAProxy 2.6.12's own pages, status line for status line (its quirks included).
    const std::pair<std::uint16_t, std::string_view> cases[] = {
        {200, "HTTP/1.1 200 OK"},
        {400, "HTTP/1.1 400 Bad request"},
        {401, "HTTP/1.1 401 Unauthorized"},
        {403, "HTTP/1.1 403 Forbidden"},
        {404, "HTTP/1.1 404 Not Found"},
        {405, "HTTP/1.1 405 Method Not Allowed"},
        {407, "HTTP/1.1 407 Unauthorized"},
        {408, "HTTP/1.1 408 Request Time-out"},
        {410, "HTTP/1.1 410 Gone"},
        {413, "HTTP/1.1 413 Payload Too Large"},
        {421, "HTTP/1.1 421 Misdirected Request"},
        {422, "HTTP/1.1 422 Unprocessable Content"},
        {425, "HTTP/1.1 425 Too Early"},
        {429, "HTTP/1.1 429 Too Many Requests"},
        {500, "HTTP/1.1 500 Internal Server Error"},
        {501, "HTTP/1.1 501 Not Implemented"},
        {502, "HTTP/1.1 502 Bad Gateway"},
        {503, "HTTP/1.1 503 Service Unavailable"},
        {504, "HTTP/1.1 504 Gateway Time-out"},
    };
    for (const auto& [status, line] : cases) {
        const std::string& head = default_error_page(status)->head;
        EXPECT_EQ(head.substr(0, head.find("\r\n")), line);
        // HAProxy's header order.
        EXPECT_NE(head.find("\r\ncontent-length: "), std::string::npos);
        EXPECT_TRUE(head.ends_with("\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n"));
    }
}

TEST(BuiltInPages, OtherStatusesHaveNone) {
    EXPECT_EQ(default_error_page(418), nullptr);
    EXPECT_EQ(default_error_page(0), nullptr);
    EXPECT_EQ(default_error_page(505), nullptr);
    EXPECT_EQ(ErrorPages{}.find(418), nullptr);
    EXPECT_EQ(ErrorPages{}.find(503), default_error_page(503));
    EXPECT_EQ(ErrorPages{}.find_own(503), nullptr);
}

// ---- page builders --------------------------------------------------------------------------

TEST(ErrorPageFromResponse, KeepsStatusLineDropsConnectionLowersNames) {
    const std::string raw =
        "HTTP/1.1 503 Sorry\r\nCache-Control: no-cache\r\nConnection: close\r\n"
        "Content-Length: 11\r\n\r\n<p>down</p>";
    auto page = error_page_from_response(503, raw, "/x.http");
    ASSERT_TRUE(page) << page.error();
    EXPECT_EQ(page->status, 503);
    EXPECT_EQ(page->head,
              "HTTP/1.1 503 Sorry\r\ncache-control: no-cache\r\ncontent-length: 11\r\n");
    EXPECT_EQ(page->body, "<p>down</p>");
    EXPECT_FALSE(page->must_close);
    EXPECT_EQ(page->source, "/x.http");
}

TEST(ErrorPageFromResponse, BareLfBecomesCrlfInTheHeadOnly) {
    auto page = error_page_from_response(403, "HTTP/1.1 200 OK\nX-A: b\n\nline1\nline2\n", "f");
    ASSERT_TRUE(page) << page.error();
    // HAProxy 2.6 sends a file's status line even when it is not the configured code.
    EXPECT_EQ(page->head, "HTTP/1.1 200 OK\r\nx-a: b\r\n");
    EXPECT_EQ(page->body, "line1\nline2\n");
    EXPECT_EQ(page->status, 403);  // what logs show, as HAProxy's
    EXPECT_TRUE(page->must_close) << "no content-length: the close ends the body";
}

TEST(ErrorPageFromResponse, EmptyFileMeansCloseWithoutAnswer) {
    auto page = error_page_from_response(408, "", "/dev/null");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->head, "");
    EXPECT_EQ(page->body, "");
    EXPECT_TRUE(page->must_close);
}

TEST(ErrorPageFromResponse, Http10PagesClose) {
    auto page = error_page_from_response(503, "HTTP/1.0 503 X\r\nContent-Length: 0\r\n\r\n", "f");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->head, "HTTP/1.0 503 X\r\ncontent-length: 0\r\n");
    EXPECT_TRUE(page->must_close);
    // A 204 needs no length to end.
    auto no_content = error_page_from_response(503, "HTTP/1.1 204 Nothing\r\n\r\n", "f");
    ASSERT_TRUE(no_content);
    EXPECT_FALSE(no_content->must_close);
}

TEST(ErrorPageFromResponse, RefusesWhatHaproxyRefuses) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"garbage here\n\n", "not a valid HTTP response: "},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a valid HTTP response: "},
        {"HTTP/1.1 503 X\r\nContent-Type: text/html\r\n",
         "not a complete HTTP response head (no empty line after the headers)"},
        {"HTTP/1.1 503 X\r\nContent-Length: 3\r\n\r\nhello",
         "the body is 5 bytes long but content-length announces 3"},
        {"HTTP/1.1 503 X\r\nContent-Length: x\r\n\r\nab", "not a valid HTTP response: "},
        {"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         "a chunked body is not supported in an error page"},
        {"HTTP/1.1 100 Continue\r\n\r\n", "status 100 cannot be an error page"},
        {"HTTP/1.1 304 Same\r\n\r\nbody",
         "a 304 response has no body, but 4 bytes follow the "
         "head"},
    };
    for (const auto& [raw, why] : cases) {
        auto page = error_page_from_response(503, raw, "f");
        ASSERT_FALSE(page) << raw;
        EXPECT_TRUE(page.error().starts_with(why)) << page.error();
    }
}

TEST(MakeErrorPage, HaproxysReplyLayout) {
    const std::vector<std::pair<std::string, std::string>> headers = {{"X-Foo", "a b"}};
    const ErrorPage page = make_error_page(503, "text/plain", headers, "hello", "s");
    // HAProxy 2.6: the hdr lines, then content-length, then content-type.
    EXPECT_EQ(page.head,
              "HTTP/1.1 503 Service Unavailable\r\nx-foo: a b\r\ncontent-length: 5\r\n"
              "content-type: text/plain\r\n");
    EXPECT_EQ(page.body, "hello");
    const ErrorPage empty = make_error_page(400, "text/plain", {}, "", "s");
    // http-error pages take HAProxy's general reason table, not its built-in pages' lines.
    EXPECT_EQ(empty.head, "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n");
    EXPECT_EQ(make_error_page(502, "", {}, "", "s").head,
              "HTTP/1.1 502 Bad Gateway or Proxy Error\r\ncontent-length: 0\r\n");
}

TEST(ReplaceField, EveryFieldOfThatNameGoesAndOneIsAppended) {
    // What http-request auth does to the proxy's 401 page (HAProxy 2.6 the same: the challenge
    // comes last, whatever the page had).
    std::string out;
    replace_field(
        "HTTP/1.1 401 Go Away\r\nWWW-Authenticate: Bearer\r\nx-a: 1\r\n"
        "www-authenticate: Negotiate\r\ncontent-length: 5\r\n",
        "www-authenticate", "Basic realm=\"r\"", out);
    EXPECT_EQ(out,
              "HTTP/1.1 401 Go Away\r\nx-a: 1\r\ncontent-length: 5\r\n"
              "www-authenticate: Basic realm=\"r\"\r\n");
    // A name that merely starts the same is another field.
    replace_field("HTTP/1.1 401 X\r\nwww-authenticate-x: 1\r\n", "www-authenticate", "v", out);
    EXPECT_EQ(out, "HTTP/1.1 401 X\r\nwww-authenticate-x: 1\r\nwww-authenticate: v\r\n");
}

// ---- errorfile ------------------------------------------------------------------------------

TEST(Errorfile, ReplacesThatStatusOnly) {
    Files files;
    const std::string f =
        files.write("503.http", "HTTP/1.1 503 Sorry\r\nContent-Length: 4\r\n\r\ndown");
    Config c = parse(fmt::format("frontend fe\n  errorfile 503 {}\n", f));
    EXPECT_EQ(c.messages(), Lines{});
    auto pages = c.build("fe");
    ASSERT_NE(pages, nullptr);
    ASSERT_NE(pages->find_own(503), nullptr);
    EXPECT_EQ(pages->find(503)->head, "HTTP/1.1 503 Sorry\r\ncontent-length: 4\r\n");
    EXPECT_EQ(pages->find(503)->body, "down");
    EXPECT_EQ(pages->find(502), default_error_page(502));
    EXPECT_EQ(c.messages(), Lines{});
}

TEST(Errorfile, FileProblemsAreAlertsAtTheLine) {
    Files files;
    const std::string bad = files.write("bad.http", "garbage here\n\n");
    const std::string cl =
        files.write("cl.http", "HTTP/1.1 503 X\r\nContent-Length: 3\r\n\r\nhello");
    const std::string missing = files.path("missing.http");
    const Config c = parse(
        fmt::format("frontend fe\n  errorfile 503 {}\n  errorfile 503 {}\n  errorfile 503 {}\n"
                    "  errorfile 503 {}\n",
                    bad, cl, missing, files.dir()));
    EXPECT_EQ(c.messages(),
              (Lines{alert(2, fmt::format("frontend 'fe' : 'errorfile' : '{}': not a valid HTTP "
                                          "response: invalid HTTP version at offset 0",
                                          bad)),
                     alert(3, fmt::format("frontend 'fe' : 'errorfile' : '{}': the body is 5 "
                                          "bytes long but content-length announces 3",
                                          cl)),
                     alert(4, fmt::format("frontend 'fe' : 'errorfile' : cannot open '{}': No "
                                          "such file or directory",
                                          missing)),
                     alert(5, fmt::format("frontend 'fe' : 'errorfile' : cannot read '{}': Is a "
                                          "directory",
                                          files.dir()))}));
}

TEST(Errorfile, StatusMustBeOneHaproxyHandles) {
    Files files;
    const std::string f = files.write("p.http", "HTTP/1.1 404 Nope\r\n\r\n");
    // HAProxy 2.6: `status code '418' not handled.`, an alert; 404 (and 200, 401, 407, 421,
    // 422, which its manual does not all list) are accepted.
    const Config c = parse(
        fmt::format("defaults\n  errorfile 404 {0}\n  errorfile 418 {0}\n  errorfile abc {0}\n"
                    "  errorfile 421 {0}\n  errorfile 503\n  errorfile 503 {0} extra\n",
                    f));
    const std::string statuses =
        "200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, "
        "503, 504";
    EXPECT_EQ(c.messages(),
              (Lines{alert(3, fmt::format("defaults : 'errorfile' : status code 418 is not "
                                          "handled (expected one of {})",
                                          statuses)),
                     alert(4, "defaults : 'errorfile' : invalid status code 'abc'"),
                     alert(6, "defaults : 'errorfile' : expects at least 2 arguments, got 1"),
                     warning(7, "defaults : 'errorfile' : ignoring 'extra' after the file name")}));
}

TEST(Errorfile, EmptyFileIsAccepted) {
    // HAProxy's manual: `errorfile 408 /dev/null` to close silently.
    Config c = parse("frontend fe\n  errorfile 408 /dev/null\n");
    EXPECT_EQ(c.messages(), Lines{});
    auto pages = c.build("fe");
    ASSERT_NE(pages, nullptr);
    EXPECT_EQ(pages->find(408)->head, "");
    EXPECT_TRUE(pages->find(408)->must_close);
}

TEST(Errorfile, PageLargerThanTheBufferIsAnAlertAtBuild) {
    Files files;
    const std::string f =
        files.write("big.http", "HTTP/1.1 503 X\r\n\r\n" + std::string(20000, 'a'));
    Config c = parse(fmt::format("frontend fe\n  errorfile 503 {}\n", f));
    EXPECT_EQ(c.messages(), Lines{});
    EXPECT_EQ(c.build("fe"), nullptr);
    EXPECT_EQ(c.messages(), (Lines{alert(2, fmt::format("frontend 'fe' : 'errorfile' : '{}': the "
                                                        "page takes 20037 bytes, more than "
                                                        "tune.bufsize (16384)",
                                                        f))}));
    EXPECT_NE(c.build("fe", 32768), nullptr);
}

// ---- http-errors and errorfiles -------------------------------------------------------------

TEST(HttpErrors, ImportAllOrSelectedStatuses) {
    Files files;
    const std::string a = files.write("a.http", "HTTP/1.1 503 A\r\nContent-Length: 1\r\n\r\nA");
    const std::string b = files.write("b.http", "HTTP/1.1 400 B\r\nContent-Length: 1\r\n\r\nB");
    Config c =
        parse(fmt::format("frontend all\n  errorfiles site\n"
                          "frontend some\n  errorfiles site 400\n"
                          "http-errors site\n  errorfile 503 {}\n  errorfile 400 {}\n",
                          a, b));
    EXPECT_EQ(c.messages(), Lines{});
    auto all = c.build("all");
    ASSERT_NE(all, nullptr);
    EXPECT_EQ(all->find(503)->body, "A");
    EXPECT_EQ(all->find(400)->body, "B");
    auto some = c.build("some");
    ASSERT_NE(some, nullptr);
    EXPECT_EQ(some->find(400)->body, "B");
    EXPECT_EQ(some->find(503), default_error_page(503));
    EXPECT_EQ(c.messages(), Lines{});
    // The section itself, as the reader keeps it.
    const auto& named = c.doc.global.read<cfg::NamedSections>();
    const cfg::Section* site = named.find(cfg::SectionKind::HttpErrors, "site");
    ASSERT_NE(site, nullptr);
    EXPECT_EQ(site->label(), "http-errors 'site'");
    EXPECT_EQ(site->parts.read<ErrorPagesConf>().rules.size(), 2u);
}

TEST(HttpErrors, UnknownSectionIsAnAlertAndUndeclaredStatusAWarning) {
    Files files;
    const std::string a = files.write("a.http", "HTTP/1.1 503 A\r\nContent-Length: 1\r\n\r\nA");
    Config c =
        parse(fmt::format("http-errors site\n  errorfile 503 {}\n"
                          "frontend fe\n  errorfiles nope\n"
                          "frontend fe2\n  errorfiles site 503 400\n  errorfiles site 418\n",
                          a));
    const std::string statuses =
        "200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, "
        "503, 504";
    EXPECT_EQ(c.messages(), (Lines{alert(7, fmt::format("frontend 'fe2' : 'errorfiles' : status "
                                                        "code 418 is not handled (expected one "
                                                        "of {})",
                                                        statuses))}));
    // HAProxy 2.6: "proxy 'fe': unknown http-errors section 'nope' (at t.cfg:4)", and a
    // warning "status '400' not declared in http-errors section 'site'".
    EXPECT_EQ(c.build("fe"), nullptr);
    EXPECT_NE(c.build("fe2"), nullptr);
    EXPECT_EQ(c.messages()[1],
              alert(4, "frontend 'fe' : 'errorfiles' : unknown http-errors section 'nope'"));
    EXPECT_EQ(c.messages()[2], warning(6,
                                       "frontend 'fe2' : 'errorfiles' : status 400 is not "
                                       "declared in http-errors section 'site'; ignored"));
}

TEST(HttpErrors, SectionGrammar) {
    Files files;
    const std::string a = files.write("a.http", "HTTP/1.1 503 A\r\n\r\n");
    const Config c =
        parse(fmt::format("http-errors site\n  errorfile 503 {0}\n"
                          "http-errors site\n  errorfile 400 {0}\n"
                          "http-errors\n"
                          "http-errors a/b\n"
                          "http-errors other extra\n"
                          "  errorfiles site\n"
                          "  bogus 1\n",
                          a));
    EXPECT_EQ(c.messages(),
              (Lines{alert(3, "http-errors section 'site' is already declared at t.cfg:1"),
                     alert(5, "'http-errors' needs a name"),
                     alert(6, "character '/' is not permitted in http-errors name 'a/b'"),
                     warning(7, "ignoring 'extra' after the http-errors name"),
                     alert(8,
                           "http-errors 'other' : 'errorfiles' : not allowed in a "
                           "'http-errors' section"),
                     alert(9,
                           "http-errors 'other' : unknown keyword 'bogus' in 'http-errors' "
                           "section")}));
}

// ---- http-error -----------------------------------------------------------------------------

TEST(HttpError, StringFileAndEmptyPages) {
    Files files;
    const std::string payload = files.write("p.txt", "from a file\n");
    Config c = parse(fmt::format(
        "frontend fe\n"
        "  http-error status 503 content-type text/plain string hello hdr X-Foo \"a b\"\n"
        "  http-error status 502 content-type text/plain file {}\n"
        "  http-error status 504 hdr x y\n",
        payload));
    EXPECT_EQ(c.messages(), Lines{});
    auto pages = c.build("fe");
    ASSERT_NE(pages, nullptr);
    EXPECT_EQ(pages->find(503)->head,
              "HTTP/1.1 503 Service Unavailable\r\nx-foo: a b\r\ncontent-length: 5\r\n"
              "content-type: text/plain\r\n");
    EXPECT_EQ(pages->find(503)->body, "hello");
    EXPECT_EQ(pages->find(502)->head,
              "HTTP/1.1 502 Bad Gateway or Proxy Error\r\ncontent-length: 12\r\n"
              "content-type: text/plain\r\n");
    EXPECT_EQ(pages->find(502)->body, "from a file\n");
    // HAProxy 2.6 sends a bare status when there is no payload.
    EXPECT_EQ(pages->find(504)->head,
              "HTTP/1.1 504 Gateway Time-out\r\nx: y\r\ncontent-length: 0\r\n");
}

// Log-format pages: made for each reply (ErrorPage::format) when anything in them reads the
// transaction; made once when all of it is constant (`%%` is a '%').
TEST(HttpError, LogFormatPages) {
    Files files;
    const std::string lf = files.write("p.lf", "host %[req.hdr(host)]\n");
    Config c = parse(fmt::format(
        "frontend fe\n"
        "  http-error status 503 content-type text/plain lf-string \"st=%ST\" hdr X-P %[path]\n"
        "  http-error status 502 content-type text/plain lf-file {}\n"
        "  http-error status 504 content-type text/plain lf-string 100%% hdr x a%%b\n"
        "  http-error status 500 content-type text/plain string x hdr x-ci %ci\n",
        lf));
    EXPECT_EQ(c.messages(), Lines{});
    auto pages = c.build("fe");
    ASSERT_NE(pages, nullptr);
    const ErrorPage* p503 = pages->find(503);
    ASSERT_NE(p503->format, nullptr);
    EXPECT_EQ(p503->format->status_line, "HTTP/1.1 503 Service Unavailable\r\n");
    EXPECT_EQ(p503->format->content_type, "text/plain");
    ASSERT_EQ(p503->format->headers.size(), 1u);
    EXPECT_EQ(p503->format->headers[0].first, "x-p");
    EXPECT_EQ(p503->format->body.text(), "st=%ST");
    EXPECT_TRUE(p503->head.empty());
    ASSERT_NE(pages->find(502)->format, nullptr);
    EXPECT_EQ(pages->find(502)->format->body.text(), "host %[req.hdr(host)]\n");
    ASSERT_NE(pages->find(500)->format, nullptr);  // only a header reads the transaction
    const ErrorPage* p504 = pages->find(504);
    EXPECT_EQ(p504->format, nullptr);
    EXPECT_EQ(p504->head,
              "HTTP/1.1 504 Gateway Time-out\r\nx: a%b\r\ncontent-length: 4\r\n"
              "content-type: text/plain\r\n");
    EXPECT_EQ(p504->body, "100%");
}

// render_reply: hdr fields in order (one rendering empty is left out), then content-length and,
// for a non-empty body, content-type.
TEST(HttpError, RenderReply) {
    auto body = sample::Format::parse("%[str(hi)]", sample::Use::Internal);
    auto empty = sample::Format::parse("%[str()]", sample::Use::Internal);
    auto a = sample::Format::parse("%[str(1)]", sample::Use::Internal);
    ASSERT_TRUE(body && empty && a);
    std::vector<std::pair<std::string, sample::Format>> headers;
    headers.emplace_back("X-A", *a);
    headers.emplace_back("x-gone", *empty);
    headers.emplace_back("Content-Length", *a);  // computed: dropped
    const ErrorPage page =
        make_error_page_format(429, "text/plain", std::move(headers), *body, "test");
    sample::Arena arena;
    sample::Context ctx(arena);
    std::string head, text;
    render_reply(*page.format, ctx, head, text);
    EXPECT_EQ(head,
              "HTTP/1.1 429 Too Many Requests\r\nx-a: 1\r\ncontent-length: 2\r\n"
              "content-type: text/plain\r\n");
    EXPECT_EQ(text, "hi");
    const ErrorPage none = make_error_page_format(200, "text/plain", {}, *empty, "test");
    render_reply(*none.format, ctx, head, text);
    EXPECT_EQ(head, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n");
    EXPECT_EQ(reply_status_line(299), "HTTP/1.1 299 Success\r\n");
    EXPECT_EQ(reply_status_line(418), "HTTP/1.1 418 I'm a teapot\r\n");
    EXPECT_EQ(reply_status_line(413), "HTTP/1.1 413 Request Entity Too Large\r\n");
    EXPECT_EQ(reply_status_line(599), "HTTP/1.1 599 Server Error\r\n");
}

TEST(HttpError, ErrorfileErrorfilesAndDefaultErrorfiles) {
    Files files;
    const std::string a = files.write("a.http", "HTTP/1.1 503 A\r\nContent-Length: 1\r\n\r\nA");
    const std::string c_file =
        files.write("c.http", "HTTP/1.1 503 C\r\nContent-Length: 1\r\n\r\nC");
    Config c =
        parse(fmt::format("http-errors s\n  errorfile 503 {1}\n"
                          "defaults\n  errorfile 400 {0}\n"
                          "frontend f1\n  http-error status 503 errorfile {0}\n"
                          "frontend f2\n  http-error status 503 errorfiles s\n"
                          "frontend f3\n  http-error status 400 default-errorfiles\n",
                          a, c_file));
    EXPECT_EQ(c.messages(), Lines{});
    EXPECT_EQ(c.build("f1")->find(503)->body, "A");
    EXPECT_EQ(c.build("f2")->find(503)->body, "C");
    EXPECT_EQ(c.build("f2")->find(400)->body, "A");  // inherited
    EXPECT_EQ(c.build("f3")->find(400), default_error_page(400));
}

TEST(HttpError, Diagnostics) {
    Files files;
    const std::string a = files.write("a.http", "HTTP/1.1 503 A\r\n\r\n");
    const Config c = parse(fmt::format(
        "frontend fe\n"
        "  http-error status 503 string hello\n"                                           // 2
        "  http-error content-type text/plain string x\n"                                  // 3
        "  http-error status 505\n"                                                        // 4
        "  http-error status 503 content-type text/plain string a string b\n"              // 5
        "  http-error status 503 content-type text/plain lf-string %[nope]\n"              // 6
        "  http-error status 503 content-type text/plain string a hdr x %zz\n"             // 7
        "  http-error status 503 bogus\n"                                                  // 8
        "  http-error status 503 content-type text/plain errorfile {0}\n"                  // 9
        "  http-error status 503 content-type text/plain\n"                                // 10
        "  http-error status 503 content-type text/plain string a hdr content-length 5\n"  // 11
        "  http-error status 503 string\n"                                                 // 12
        "  http-error status 503 content-type text/plain string a hdr x\n"                 // 13
        "  http-error status 503 content-type t string a hdr \"a b\" c\n"                  // 14
        "  http-error status\n",                                                           // 15
        a));
    const std::string ctx = "frontend 'fe' : 'http-error' : ";
    EXPECT_EQ(
        c.messages(),
        (Lines{alert(2, ctx + "'content-type' is required with a non-empty 'string'"),
               alert(3, ctx + "'status <code>' is required"),
               alert(4, ctx + "status code 505 is not handled (expected one of 200, 400, 401, "
                              "403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, "
                              "502, 503, 504)"),
               alert(5, ctx + "unexpected 'string': 'string' is already given"),
               alert(6, ctx + "'lf-string': in '%[nope]': unknown fetch method 'nope'"),
               alert(7, ctx + "'hdr x': no such format variable 'zz'. If you wanted to emit the "
                              "'%' character verbatim, you need to use '%%'"),
               alert(8, ctx + "unknown option 'bogus'"),
               warning(9, ctx + "content-type 'text/plain' is ignored with 'errorfile'"),
               warning(10, ctx + "content-type 'text/plain' is ignored: the payload is empty"),
               warning(11, ctx + "'hdr content-length' is ignored: sluice sets it itself"),
               alert(12, ctx + "'string' expects a string"),
               alert(13, ctx + "'hdr' expects a name and a value"),
               alert(14, ctx + "'hdr': 'a b' is not a valid header name"),
               alert(15, ctx + "'status' expects a status code")}));
}

// ---- order and inheritance ------------------------------------------------------------------

TEST(ErrorRules, LaterLinesWinAndProxiesOverrideDefaults) {
    Files files;
    const std::string a = files.write("a.http", "HTTP/1.1 503 A\r\nContent-Length: 1\r\n\r\nA");
    const std::string c_file =
        files.write("c.http", "HTTP/1.1 503 C\r\nContent-Length: 1\r\n\r\nC");
    const std::string d = files.write("d.http", "HTTP/1.1 503 D\r\nContent-Length: 1\r\n\r\nD");
    // HAProxy 2.6 resolves the three keywords in config order, the last one winning.
    Config c =
        parse(fmt::format("http-errors s\n  errorfile 503 {1}\n"
                          "defaults\n  errorfile 503 {2}\n"
                          "frontend inherits\n"
                          "frontend f4\n  errorfile 503 {0}\n  errorfiles s\n"
                          "frontend f5\n  errorfiles s\n  errorfile 503 {0}\n"
                          "frontend f7\n  errorfile 503 {0}\n"
                          "  http-error status 503 content-type text/plain string B\n"
                          "defaults\n"
                          "frontend fresh\n",
                          a, c_file, d));
    EXPECT_EQ(c.messages(), Lines{});
    EXPECT_EQ(c.build("inherits")->find(503)->body, "D");
    EXPECT_EQ(c.build("f4")->find(503)->body, "C");
    EXPECT_EQ(c.build("f5")->find(503)->body, "A");
    EXPECT_EQ(c.build("f7")->find(503)->body, "B");
    EXPECT_EQ(c.build("fresh")->find(503), default_error_page(503));
}

TEST(ErrorRules, DefaultsLineIsReportedOnceForAllItsProxies) {
    Config c = parse("defaults\n  errorfiles nope\nfrontend a\nfrontend b\n");
    EXPECT_EQ(c.build("a"), nullptr);
    EXPECT_EQ(c.build("b"), nullptr);
    EXPECT_EQ(c.messages(),
              (Lines{alert(2, "defaults : 'errorfiles' : unknown http-errors section 'nope'")}));
}

TEST(ErrorRules, BackendThenFrontendThenBuiltIn) {
    Files files;
    const std::string a = files.write("a.http", "HTTP/1.1 503 A\r\nContent-Length: 1\r\n\r\nA");
    const std::string c_file =
        files.write("c.http", "HTTP/1.1 503 C\r\nContent-Length: 1\r\n\r\nC");
    Config c = parse(fmt::format(
        "frontend fe\n  errorfile 503 {0}\n"
        "backend own\n  errorfile 503 {1}\n"
        "backend reset\n  errorfile 503 {1}\n  http-error status 503 default-errorfiles\n",
        a, c_file));
    EXPECT_EQ(c.messages(), Lines{});
    auto fe = c.build("fe");
    auto own = c.build("own");
    auto reset = c.build("reset");
    // HAProxy 2.6: a backend's page wins; `default-errorfiles` there exposes the frontend's.
    EXPECT_EQ(find_error_page(503, *fe, own.get())->body, "C");
    EXPECT_EQ(find_error_page(503, *fe, reset.get())->body, "A");
    EXPECT_EQ(find_error_page(503, *fe, nullptr)->body, "A");
    EXPECT_EQ(find_error_page(502, *fe, own.get()), default_error_page(502));
}

}  // namespace
}  // namespace sluice::http
