// The built-in error pages, the two page builders (a raw response from an errorfile, and an
// http-error page from its parts) and the per-proxy resolution of errorfile, errorfiles and
// http-error rules. Parsing those lines is kw_errors.cpp's.
#include "sluice/http/error_pages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <span>

#include "sluice/cfg/document.hpp"
#include "sluice/http/h1_parse.hpp"

namespace sluice::http {
namespace {

struct BuiltIn {
    std::uint16_t status;
    // HAProxy 2.6's status line for its own page, byte for byte ("400 Bad request",
    // "407 Unauthorized" and "Time-out" included): clients and monitoring match on it.
    std::string_view reason;
    // The reason http-error pages carry: HAProxy takes those from its general table, which
    // differs from the line above for 400, 407, 413 and 502.
    std::string_view reply_reason;
    std::string_view explanation;  // our own words
};

constexpr BuiltIn kBuiltIns[] = {
    {200, "OK", "OK", "The proxy is up and answering requests."},
    {400, "Bad request", "Bad Request", "The request is not valid HTTP and cannot be handled."},
    {401, "Unauthorized", "Unauthorized", "Access to this resource requires authentication."},
    {403, "Forbidden", "Forbidden", "The access rules of this site do not allow this request."},
    {404, "Not Found", "Not Found", "Nothing matches the requested address."},
    {405, "Method Not Allowed", "Method Not Allowed",
     "The resource does not accept this request method."},
    {407, "Unauthorized", "Proxy Authentication Required",
     "The proxy requires authentication before it forwards this request."},
    {408, "Request Time-out", "Request Time-out",
     "The request did not arrive in full before the time limit."},
    {410, "Gone", "Gone", "This resource has been removed for good."},
    {413, "Payload Too Large", "Request Entity Too Large",
     "The request body is larger than this site accepts."},
    {421, "Misdirected Request", "Misdirected Request",
     "This server cannot answer for the requested host."},
    {422, "Unprocessable Content", "Unprocessable Content",
     "The request is well formed but its content cannot be acted upon."},
    {425, "Too Early", "Too Early",
     "The request came as TLS early data; send it again once the handshake is complete."},
    {429, "Too Many Requests", "Too Many Requests",
     "The request rate limit was exceeded; please try again later."},
    {500, "Internal Server Error", "Internal Server Error",
     "The proxy ran into an unexpected problem while handling the request."},
    {501, "Not Implemented", "Not Implemented",
     "The request asks for a feature that is not supported here."},
    {502, "Bad Gateway", "Bad Gateway or Proxy Error",
     "The upstream server sent back a response that was invalid or cut short."},
    {503, "Service Unavailable", "Service Unavailable",
     "No server is able to take this request at the moment."},
    {504, "Gateway Time-out", "Gateway Time-out", "The upstream server took too long to answer."},
};
static_assert(std::size(kBuiltIns) == kErrorStatuses.size());

constexpr bool built_ins_follow_statuses() {
    for (std::size_t i = 0; i < kErrorStatuses.size(); ++i)
        if (kBuiltIns[i].status != kErrorStatuses[i]) return false;
    return true;
}
static_assert(built_ins_follow_statuses(), "kBuiltIns must list kErrorStatuses in order");

ErrorPage make_built_in(const BuiltIn& b) {
    ErrorPage page;
    page.status = b.status;
    page.source = "built-in";
    page.body = fmt::format(
        "<!DOCTYPE html>\n<html><head><title>{0} {1}</title></head>\n"
        "<body><h1>{0} {1}</h1>\n<p>{2}</p>\n</body></html>\n",
        b.status, b.reason, b.explanation);
    // HAProxy's header names and order, so a client sees the same head from both.
    page.head = fmt::format(
        "HTTP/1.1 {} {}\r\ncontent-length: {}\r\ncache-control: no-cache\r\n"
        "content-type: text/html\r\n",
        b.status, b.reason, page.body.size());
    return page;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool same_message(const cfg::Message& a, const cfg::Message& b) {
    return a.level == b.level && a.where.file == b.where.file && a.where.line == b.where.line &&
           a.context == b.context && a.keyword == b.keyword && a.text == b.text;
}

// A line inherited from defaults is resolved once per proxy that inherits it; its problem is
// reported once.
void report_once(cfg::Diagnostics& diag, cfg::Message m) {
    for (const cfg::Message& seen : diag.messages())
        if (same_message(seen, m)) return;
    diag.add(std::move(m));
}

cfg::Message message(cfg::Level level, const ErrorRule& rule, std::string text) {
    return {level, rule.where, rule.context, rule.keyword, std::move(text)};
}

class Resolver {
  public:
    Resolver(const cfg::NamedSections& named, cfg::Diagnostics& diag, std::size_t max_size)
        : named_(named), diag_(diag), max_size_(max_size) {}

    void apply(const ErrorRule& rule, ErrorPages& out) {
        std::visit([&](const auto& what) { apply_one(rule, what, out); }, rule.what);
    }
    bool failed() const { return failed_; }

  private:
    void apply_one(const ErrorRule& rule, const ErrorRule::SetPage& set, ErrorPages& out) {
        if (!fits(rule, *set.page)) return;
        if (auto i = error_status_index(set.page->status)) out.own[*i] = set.page;
    }
    void apply_one(const ErrorRule&, const ErrorRule::Reset& reset, ErrorPages& out) {
        if (auto i = error_status_index(reset.status)) out.own[*i] = nullptr;
    }
    void apply_one(const ErrorRule& rule, const ErrorRule::Import& import, ErrorPages& out) {
        const cfg::Section* section = named_.find(cfg::SectionKind::HttpErrors, import.section);
        if (!section) {
            failed_ = true;
            report_once(diag_,
                        message(cfg::Level::Alert, rule,
                                fmt::format("unknown http-errors section '{}'", import.section)));
            return;
        }
        // The section's own errorfile lines, the last one winning for a status given twice.
        ErrorPages pages;
        for (const ErrorRule& line : section->parts.read<ErrorPagesConf>().rules)
            apply(line, pages);
        if (import.statuses.empty()) {
            for (std::size_t i = 0; i < pages.own.size(); ++i)
                if (pages.own[i]) out.own[i] = pages.own[i];
            return;
        }
        for (std::uint16_t status : import.statuses) {
            const auto i = error_status_index(status);
            if (i && pages.own[*i]) {
                out.own[*i] = pages.own[*i];
            } else {
                // HAProxy 2.6 warns and keeps what the proxy had for that status.
                report_once(diag_, message(cfg::Level::Warning, rule,
                                           fmt::format("status {} is not declared in "
                                                       "http-errors section '{}'; ignored",
                                                       status, import.section)));
            }
        }
    }

    // The page is sent from one buffer: it must fit in one, `connection: close` included.
    bool fits(const ErrorRule& rule, const ErrorPage& page) {
        constexpr std::size_t kCloseHeader = sizeof("connection: close\r\n\r\n") - 1;
        const std::size_t size = page.head.size() + kCloseHeader + page.body.size();
        if (page.head.empty() || size <= max_size_) return true;
        failed_ = true;
        report_once(diag_, message(cfg::Level::Alert, rule,
                                   fmt::format("'{}': the page takes {} bytes, more than "
                                               "tune.bufsize ({})",
                                               page.source, size, max_size_)));
        return false;
    }

    const cfg::NamedSections& named_;
    cfg::Diagnostics& diag_;
    std::size_t max_size_;
    bool failed_ = false;
};

}  // namespace

const ErrorPage* default_error_page(std::uint16_t status) {
    static const std::array<ErrorPage, kErrorStatuses.size()> kPages = [] {
        std::array<ErrorPage, kErrorStatuses.size()> pages;
        for (std::size_t i = 0; i < pages.size(); ++i)
            pages[i] = make_built_in(kBuiltIns[i]);
        return pages;
    }();
    const auto i = error_status_index(status);
    return i ? &kPages[*i] : nullptr;
}

const ErrorPage* ErrorPages::find_own(std::uint16_t status) const {
    const auto i = error_status_index(status);
    return i ? own[*i].get() : nullptr;
}

const ErrorPage* ErrorPages::find(std::uint16_t status) const {
    if (const ErrorPage* page = find_own(status)) return page;
    return default_error_page(status);
}

const ErrorPage* find_error_page(std::uint16_t status, const ErrorPages& frontend,
                                 const ErrorPages* backend) {
    if (backend)
        if (const ErrorPage* page = backend->find_own(status)) return page;
    return frontend.find(status);
}

util::Result<ErrorPage> error_page_from_response(std::uint16_t status, std::string_view raw,
                                                 std::string source) {
    ErrorPage page;
    page.status = status;
    page.source = std::move(source);
    if (raw.empty()) {  // `errorfile 408 /dev/null`: answer nothing, close
        page.must_close = true;
        return page;
    }
    ResponseHead head;
    const auto bytes = std::as_bytes(std::span(raw.data(), raw.size()));
    const HeadResult parsed = parse_response_head(bytes, 0, head);
    if (std::holds_alternative<Incomplete>(parsed))
        return util::error("not a complete HTTP response head (no empty line after the headers)");
    if (const auto* bad = std::get_if<Invalid>(&parsed))
        return util::error(fmt::format("not a valid HTTP response: {} at offset {}",
                                       to_string(bad->reason), bad->offset));
    if (head.status < 200)
        return util::error(fmt::format("status {} cannot be an error page", head.status));
    const std::string_view body = raw.substr(std::get<Done>(parsed).consumed);
    const Framing framing = analyze_response_framing(head, "GET");
    switch (framing.kind) {
        case BodyKind::Invalid:
            return util::error(
                fmt::format("not a valid HTTP response: {}", to_string(framing.error)));
        case BodyKind::Chunked:
            return util::error("a chunked body is not supported in an error page");
        case BodyKind::None:  // 204 and 304
            if (!body.empty())
                return util::error(
                    fmt::format("a {} response has no body, but {} bytes follow "
                                "the head",
                                head.status, body.size()));
            break;
        case BodyKind::ContentLength:
            if (framing.content_length != body.size())
                return util::error(
                    fmt::format("the body is {} bytes long but content-length announces {}",
                                body.size(), framing.content_length));
            break;
        case BodyKind::UntilClose:
        case BodyKind::Tunnel:  // not for a status >= 200 to GET; listed for -Wswitch
            page.must_close = true;
            break;
    }
    if (head.version == Version::Http10) page.must_close = true;

    // Rebuilt from the parsed views: CRLF line ends whatever the file used, and no Connection
    // header (the sender owns the connection's fate).
    page.head = fmt::format("{} {} {}\r\n", head.version_text, head.status, head.reason);
    for (const Header& h : head.headers.all()) {
        std::string name = lower(h.name);
        if (name == "connection") continue;
        page.head += fmt::format("{}: {}\r\n", name, h.value);
    }
    page.body = body;
    return page;
}

namespace {

// The reasons of HAProxy 2.6's replies, as it sends them (checked on every code from 200 to
// 599): the usual names, a few of its own spellings, and the class's name for the others.
std::string_view reply_reason(std::uint16_t status) {
    if (const auto i = error_status_index(status)) return kBuiltIns[*i].reply_reason;
    switch (status) {
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 203:
            return "Non-Authoritative Information";
        case 204:
            return "No Content";
        case 205:
            return "Reset Content";
        case 206:
            return "Partial Content";
        case 207:
            return "Multi-Status";
        case 210:
            return "Content Different";
        case 226:
            return "IM Used";
        case 300:
            return "Multiple Choices";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Moved Temporarily";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 305:
            return "Use Proxy";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 310:
            return "Too many Redirects";
        case 402:
            return "Payment Required";
        case 406:
            return "Not Acceptable";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 412:
            return "Precondition Failed";
        case 414:
            return "Request-URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Requested range unsatisfiable";
        case 417:
            return "Expectation failed";
        case 418:
            return "I'm a teapot";
        case 423:
            return "Locked";
        case 424:
            return "Method failure";
        case 426:
            return "Upgrade Required";
        case 428:
            return "Precondition Required";
        case 431:
            return "Request Header Fields Too Large";
        case 449:
            return "Retry With";
        case 450:
            return "Blocked by Windows Parental Controls";
        case 451:
            return "Unavailable For Legal Reasons";
        case 456:
            return "Unrecoverable Error";
        case 499:
            return "client has closed connection";
        case 505:
            return "HTTP Version not supported";
        case 506:
            return "Variant also negotiate";
        case 507:
            return "Insufficient storage";
        case 508:
            return "Loop detected";
        case 509:
            return "Bandwidth Limit Exceeded";
        case 510:
            return "Not extended";
        case 511:
            return "Network authentication required";
        case 520:
            return "Web server is returning an unknown error";
        default:
            break;
    }
    if (status < 300) return "Success";
    if (status < 400) return "Redirection";
    if (status < 500) return "Client Error";
    return "Server Error";
}

bool computed_field(std::string_view name) {
    return iequals(name, "content-length") || iequals(name, "content-type") ||
           iequals(name, "transfer-encoding") || iequals(name, "connection");
}

}  // namespace

std::string reply_status_line(std::uint16_t status) {
    return fmt::format("HTTP/1.1 {} {}\r\n", status, reply_reason(status));
}

void render_reply(const ReplyFormat& f, sample::Context& ctx, std::string& head,
                  std::string& body) {
    body.clear();
    f.body.render(ctx, body);
    head.assign(f.status_line);
    for (const auto& [name, value] : f.headers) {
        // A value that renders empty leaves its field out, as HAProxy does.
        const std::size_t start = head.size();
        head.append(name).append(": ");
        const std::size_t before = head.size();
        value.render(ctx, head);
        if (head.size() == before)
            head.resize(start);
        else
            head.append("\r\n");
    }
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, body.size());
    (void)ec;
    head.append("content-length: ").append(digits, end).append("\r\n");
    if (!body.empty() && !f.content_type.empty())
        head.append("content-type: ").append(f.content_type).append("\r\n");
}

ErrorPage make_error_page_format(std::uint16_t status, std::string content_type,
                                 std::vector<std::pair<std::string, sample::Format>> headers,
                                 sample::Format body, std::string source) {
    auto f = std::make_shared<ReplyFormat>();
    f->status_line = reply_status_line(status);
    for (auto& [name, value] : headers)
        if (!computed_field(name)) f->headers.emplace_back(lower(name), std::move(value));
    f->content_type = std::move(content_type);
    f->body = std::move(body);
    ErrorPage page;
    page.status = status;
    page.source = std::move(source);
    page.format = std::move(f);
    return page;
}

ErrorPage make_error_page(std::uint16_t status, std::string_view content_type,
                          std::span<const std::pair<std::string, std::string>> headers,
                          std::string body, std::string source) {
    ErrorPage page;
    page.status = status;
    page.source = std::move(source);
    page.head = reply_status_line(status);
    for (const auto& [name, value] : headers)
        page.head += fmt::format("{}: {}\r\n", lower(name), value);
    // HAProxy's order: the hdr lines, then the two it computes.
    page.head += fmt::format("content-length: {}\r\n", body.size());
    if (!body.empty()) page.head += fmt::format("content-type: {}\r\n", content_type);
    page.body = std::move(body);
    return page;
}

std::shared_ptr<const ErrorPages> build_error_pages(const cfg::Parts& proxy_parts,
                                                    const cfg::Parts& global_parts,
                                                    cfg::Diagnostics& diag, std::size_t max_size) {
    auto pages = std::make_shared<ErrorPages>();
    Resolver resolver(global_parts.read<cfg::NamedSections>(), diag, max_size);
    for (const ErrorRule& rule : proxy_parts.read<ErrorPagesConf>().rules)
        resolver.apply(rule, *pages);
    if (resolver.failed()) return nullptr;
    return pages;
}

void replace_field(std::string_view head, std::string_view name, std::string_view value,
                   std::string& out) {
    out.clear();
    while (!head.empty()) {
        const std::size_t eol = head.find("\r\n");
        const std::size_t len = eol == std::string_view::npos ? head.size() : eol + 2;
        const std::string_view line = head.substr(0, len);
        head.remove_prefix(len);
        const std::size_t colon = line.find(':');
        const bool named = colon != std::string_view::npos && iequals(line.substr(0, colon), name);
        if (!named) out.append(line);
    }
    out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace sluice::http
