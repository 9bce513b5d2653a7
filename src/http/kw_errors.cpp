// Keywords of custom error pages: `errorfile` (proxies and http-errors sections), `errorfiles`
// and `http-error`. Files are read and checked here, at the line that names them, so a broken
// page is reported once even when no proxy uses it; references to http-errors sections are
// resolved later by build_error_pages(), since a section may come after the proxy using it.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "sluice/cfg/keyword.hpp"
#include "sluice/http/error_pages.hpp"
#include "sluice/util/units.hpp"

namespace sluice::http {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

// POSIX reads rather than a stream: a directory then fails with EISDIR instead of reading as
// an empty file (an empty page, which means "close without answering").
util::Result<std::string> read_whole_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return util::error(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
    std::string out;
    char chunk[8192];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            return util::error(fmt::format("cannot read '{}': {}", path, std::strerror(err)));
        }
        out.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

// A status argument: one of kErrorStatuses, as HAProxy 2.6 accepts.
util::Result<std::uint16_t> parse_status(std::string_view text) {
    auto v = util::parse_uint(text, 999);
    if (!v) return util::error(fmt::format("invalid status code '{}'", text));
    const auto status = static_cast<std::uint16_t>(*v);
    if (!error_status_index(status))
        return util::error(fmt::format("status code {} is not handled (expected one of {})", status,
                                       fmt::join(kErrorStatuses, ", ")));
    return status;
}

ErrorRule make_rule(Ctx& ctx, decltype(ErrorRule::what) what) {
    return {.where = ctx.where(),
            .context = ctx.context(),
            .keyword = std::string(ctx.keyword()),
            .what = std::move(what)};
}

util::Result<std::shared_ptr<const ErrorPage>> load_error_file(std::uint16_t status,
                                                               const std::string& path) {
    auto raw = read_whole_file(path);
    if (!raw) return util::error(raw.error());
    auto page = error_page_from_response(status, *raw, path);
    if (!page) return util::error(fmt::format("'{}': {}", path, page.error()));
    return std::make_shared<const ErrorPage>(std::move(*page));
}

// `errorfile <code> <file>`, in a proxy or an http-errors section.
Status parse_errorfile(Args args, Ctx& ctx, ErrorPagesConf& conf) {
    const auto status = parse_status(args[0]);
    if (!status) return ctx.alert("{}", status.error());
    auto page = load_error_file(*status, args[1]);
    if (!page) return ctx.alert("{}", page.error());
    conf.rules.push_back(make_rule(ctx, ErrorRule::SetPage{std::move(*page)}));
    // HAProxy 2.6 ignores extra words silently.
    if (args.size() > 2) return ctx.warning("ignoring '{}' after the file name", args[2]);
    return Status::Ok;
}

// `errorfiles <name> [<code> ...]`: the section is looked up when the proxy is built.
Status parse_errorfiles(Args args, Ctx& ctx, ErrorPagesConf& conf) {
    ErrorRule::Import import{.section = args[0], .statuses = {}};
    for (const std::string& word : args.subspan(1)) {
        const auto status = parse_status(word);
        if (!status) return ctx.alert("{}", status.error());
        import.statuses.push_back(*status);
    }
    conf.rules.push_back(make_rule(ctx, std::move(import)));
    return Status::Ok;
}

// ---- http-error ---------------------------------------------------------------------------

enum class Payload {
    None,
    DefaultErrorfiles,
    Errorfile,
    Errorfiles,
    File,
    String,
    LfFile,
    LfString
};

struct HttpErrorLine {
    std::optional<std::uint16_t> status;
    std::optional<std::string> content_type;
    Payload payload = Payload::None;
    std::string payload_word;  // the option that set it, for messages
    std::string payload_arg;   // its argument
    std::vector<std::pair<std::string, sample::Format>> headers;  // log-format values
};

// What log-format in an http-error page may read: the page answers a transaction, its request
// (while it is at hand) and maybe its response.
constexpr sample::Use kPageUse =
    sample::Use::Internal | sample::Use::Conn | sample::Use::Req | sample::Use::Res;

// The options that say where the page comes from; a line takes at most one.
struct PayloadWord {
    std::string_view word;
    Payload payload;
    std::string_view argument;  // what it expects, for messages; empty: it takes none
};
constexpr PayloadWord kPayloadWords[] = {
    {"default-errorfiles", Payload::DefaultErrorfiles, {}},
    {"errorfile", Payload::Errorfile, "a file name"},
    {"errorfiles", Payload::Errorfiles, "the name of an http-errors section"},
    {"file", Payload::File, "a file name"},
    {"string", Payload::String, "a string"},
    {"lf-file", Payload::LfFile, "a file name"},
    {"lf-string", Payload::LfString, "a log-format string"},
};
const PayloadWord* find_payload_word(std::string_view word) {
    for (const PayloadWord& p : kPayloadWords)
        if (p.word == word) return &p;
    return nullptr;
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool valid_header_name(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}
bool valid_header_value(std::string_view s) {
    return std::none_of(s.begin(), s.end(),
                        [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Reads the words after `http-error` into `out`; an alert on the first problem.
Status read_http_error_words(Args args, Ctx& ctx, HttpErrorLine& out) {
    // "" counts as missing, as in HAProxy.
    auto value_of = [&](std::size_t i) -> const std::string* {
        return i < args.size() && !args[i].empty() ? &args[i] : nullptr;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (word == "status") {
            const std::string* v = value_of(i + 1);
            if (!v) return ctx.alert("'status' expects a status code");
            const auto status = parse_status(*v);
            if (!status) return ctx.alert("{}", status.error());
            out.status = *status;  // a second `status` wins, as in HAProxy
            ++i;
        } else if (word == "content-type") {
            const std::string* v = value_of(i + 1);
            if (!v) return ctx.alert("'content-type' expects a content type");
            out.content_type = *v;
            ++i;
        } else if (word == "hdr") {
            const std::string* name = value_of(i + 1);
            const std::string* value = value_of(i + 2);
            if (!name || !value) return ctx.alert("'hdr' expects a name and a value");
            if (!valid_header_name(*name))
                return ctx.alert("'hdr': '{}' is not a valid header name", *name);
            if (!valid_header_value(*value))
                return ctx.alert("'hdr {}': the value holds a line break or NUL", *name);
            auto format = sample::Format::parse(*value, kPageUse);
            if (!format) return ctx.alert("'hdr {}': {}", *name, format.error());
            out.headers.emplace_back(*name, std::move(*format));
            i += 2;
        } else if (const PayloadWord* p = find_payload_word(word)) {
            if (out.payload != Payload::None)
                return ctx.alert("unexpected '{}': '{}' is already given", word, out.payload_word);
            out.payload = p->payload;
            out.payload_word = word;
            if (p->argument.empty()) continue;
            const std::string* v = value_of(i + 1);
            if (!v) return ctx.alert("'{}' expects {}", word, p->argument);
            out.payload_arg = *v;
            ++i;
        } else {
            return ctx.alert("unknown option '{}'", word);
        }
    }
    if (!out.status) return ctx.alert("'status <code>' is required");
    return Status::Ok;
}

// HAProxy 2.6 warns about options that the chosen payload makes meaningless; so do we.
Status warn_ignored(Ctx& ctx, const HttpErrorLine& line) {
    Status st = Status::Ok;
    if (line.content_type)
        st = ctx.warning("content-type '{}' is ignored with '{}'", *line.content_type,
                         line.payload_word);
    if (!line.headers.empty())
        st = ctx.warning("'hdr' options are ignored with '{}'", line.payload_word);
    return st;
}

// The page of an http-error line without an errorfile: HAProxy's status line, the hdr lines,
// content-length and content-type. A page with log-format in it (lf-string, lf-file, a hdr
// value reading a sample or a variable) is made for each reply; the others once, here.
Status add_reply_page(Ctx& ctx, HttpErrorLine& line, ErrorPagesConf& conf) {
    sample::Format body;
    std::string source = "http-error";
    const bool lf = line.payload == Payload::LfString || line.payload == Payload::LfFile;
    if (line.payload == Payload::String) {
        body = sample::Format::literal(line.payload_arg);
        source = "http-error string";
    } else if (line.payload == Payload::LfString) {
        auto f = sample::Format::parse(line.payload_arg, kPageUse);
        if (!f) return ctx.alert("'lf-string': {}", f.error());
        body = std::move(*f);
        source = "http-error lf-string";
    } else if (line.payload == Payload::File || line.payload == Payload::LfFile) {
        auto raw = read_whole_file(line.payload_arg);
        if (!raw) return ctx.alert("{}", raw.error());
        if (line.payload == Payload::LfFile) {
            auto f = sample::Format::parse(*raw, kPageUse);
            if (!f) return ctx.alert("'{}': {}", line.payload_arg, f.error());
            body = std::move(*f);
        } else {
            body = sample::Format::literal(std::move(*raw));
        }
        source = line.payload_arg;
    }
    // A log-format string may render empty, it needs a content-type all the same (HAProxy's
    // rule); a file only when it is not empty.
    const bool has_body = !body.text().empty();
    Status st = Status::Ok;
    if ((has_body || line.payload == Payload::LfString) && !line.content_type)
        return ctx.alert("'content-type' is required with a non-empty '{}'", line.payload_word);
    if (!has_body && line.content_type && !lf)
        st = ctx.warning("content-type '{}' is ignored: the payload is empty", *line.content_type);
    // HAProxy computes these itself; a Connection header is the sender's (ErrorPage::head).
    auto computed = [](const auto& h) {
        static constexpr std::string_view kOwn[] = {"content-length", "content-type",
                                                    "transfer-encoding", "connection"};
        std::string name = h.first;
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return std::find(std::begin(kOwn), std::end(kOwn), name) != std::end(kOwn);
    };
    for (const auto& h : line.headers)
        if (computed(h)) st = ctx.warning("'hdr {}' is ignored: sluice sets it itself", h.first);
    std::erase_if(line.headers, computed);
    const bool dynamic =
        !body.constant() || std::any_of(line.headers.begin(), line.headers.end(),
                                        [](const auto& h) { return !h.second.constant(); });
    std::shared_ptr<const ErrorPage> page;
    if (dynamic) {
        sample::note_rule_format(body);
        for (const auto& h : line.headers)
            sample::note_rule_format(h.second);
        page = std::make_shared<const ErrorPage>(
            make_error_page_format(*line.status, line.content_type.value_or(""),
                                   std::move(line.headers), std::move(body), source));
    } else {
        std::vector<std::pair<std::string, std::string>> headers;
        for (const auto& [name, value] : line.headers)
            headers.emplace_back(name, std::string(value.constant_text()));
        page = std::make_shared<const ErrorPage>(
            make_error_page(*line.status, line.content_type.value_or(""), headers,
                            std::string(body.constant_text()), source));
    }
    conf.rules.push_back(make_rule(ctx, ErrorRule::SetPage{std::move(page)}));
    return st;
}

Status parse_http_error(Args args, Ctx& ctx, ErrorPagesConf& conf) {
    HttpErrorLine line;
    if (read_http_error_words(args, ctx, line) == Status::Alert) return Status::Alert;
    const std::uint16_t status = *line.status;
    switch (line.payload) {
        case Payload::DefaultErrorfiles:
            conf.rules.push_back(make_rule(ctx, ErrorRule::Reset{status}));
            return warn_ignored(ctx, line);
        case Payload::Errorfile: {
            auto page = load_error_file(status, line.payload_arg);
            if (!page) return ctx.alert("{}", page.error());
            conf.rules.push_back(make_rule(ctx, ErrorRule::SetPage{std::move(*page)}));
            return warn_ignored(ctx, line);
        }
        case Payload::Errorfiles:
            conf.rules.push_back(make_rule(
                ctx, ErrorRule::Import{.section = line.payload_arg, .statuses = {status}}));
            return warn_ignored(ctx, line);
        case Payload::None:
        case Payload::File:
        case Payload::String:
        case Payload::LfFile:
        case Payload::LfString:
            break;
    }
    return add_reply_page(ctx, line, conf);
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "errorfile",
     .in = cfg::kAnyProxy | In::HttpErrors,
     .arity = cfg::at_least(2),
     .parse = cfg::on_part<ErrorPagesConf, parse_errorfile>},
    {.name = "errorfiles",
     .in = cfg::kAnyProxy,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ErrorPagesConf, parse_errorfiles>},
    {.name = "http-error",
     .in = cfg::kAnyProxy,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<ErrorPagesConf, parse_http_error>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::http
