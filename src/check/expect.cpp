// `http-check expect` rules: parsing the words as HAProxy 2.6 reads them, and matching them on
// an answer with HAProxy's outcomes (which status, which info text).
#include "sluice/check/expect.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "sluice/http/h1_parse.hpp"
#include "sluice/util/units.hpp"

namespace sluice::check {

std::string_view describe(Status status) {
    switch (status) {
        case Status::Unknown:
            return "Unknown";
        case Status::Hana:
            return "Health analyze";
        case Status::SocketError:
            return "Socket error";
        case Status::L4Ok:
            return "Layer4 check passed";
        case Status::L4Timeout:
            return "Layer4 timeout";
        case Status::L4Conn:
            return "Layer4 connection problem";
        case Status::L6Ok:
            return "Layer6 check passed";
        case Status::L6Timeout:
            return "Layer6 timeout";
        case Status::L6Response:
            return "Layer6 invalid response";
        case Status::L7Timeout:
            return "Layer7 timeout";
        case Status::L7Response:
            return "Layer7 invalid response";
        case Status::Layer7Data:
            return "Unknown";
        case Status::L7Ok:
            return "Layer7 check passed";
        case Status::L7OkConditional:
            return "Layer7 check conditionally passed";
        case Status::L7Status:
            return "Layer7 wrong status";
        case Status::ProcErr:
            return "External check error";
        case Status::ProcTimeout:
            return "External check timeout";
        case Status::ProcOk:
            return "External check passed";
    }
    return "Unknown";
}

bool passed(Status status) {
    return status == Status::L4Ok || status == Status::L6Ok || status == Status::L7Ok ||
           status == Status::L7OkConditional || status == Status::ProcOk;
}

std::string_view status_name(Status status) {
    switch (status) {
        case Status::Unknown:
            return "INI";  // no check finished yet
        case Status::Hana:
            return "HANA";
        case Status::SocketError:
            return "SOCKERR";
        case Status::L4Ok:
            return "L4OK";
        case Status::L4Timeout:
            return "L4TOUT";
        case Status::L4Conn:
            return "L4CON";
        case Status::L6Ok:
            return "L6OK";
        case Status::L6Timeout:
            return "L6TOUT";
        case Status::L6Response:
            return "L6RSP";
        case Status::L7Timeout:
            return "L7TOUT";
        case Status::L7Response:
            return "L7RSP";
        case Status::Layer7Data:
            return "UNK";
        case Status::L7Ok:
            return "L7OK";
        case Status::L7OkConditional:
            return "L7OKC";
        case Status::L7Status:
            return "L7STS";
        case Status::ProcErr:
            return "PROCERR";
        case Status::ProcTimeout:
            return "PROCTOUT";
        case Status::ProcOk:
            return "PROCOK";
    }
    return "UNK";
}

util::Result<Status> status_from_name(std::string_view name) {
    struct Named {
        std::string_view name;
        Status status;
    };
    static constexpr Named kNames[] = {
        {"L4OK", Status::L4Ok},        {"L4TOUT", Status::L4Timeout},
        {"L4CON", Status::L4Conn},     {"L6OK", Status::L6Ok},
        {"L6TOUT", Status::L6Timeout}, {"L6RSP", Status::L6Response},
        {"L7TOUT", Status::L7Timeout}, {"L7RSP", Status::L7Response},
        {"L7OK", Status::L7Ok},        {"L7OKC", Status::L7OkConditional},
        {"L7STS", Status::L7Status},
    };
    for (const Named& n : kNames)
        if (n.name == name) return n.status;
    return util::error(fmt::format("unknown check status '{}'", name));
}

util::Result<std::shared_ptr<const Regex>> Regex::compile(std::string_view pattern, bool caseless) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     caseless ? PCRE2_CASELESS : 0, &err, &offset, nullptr);
    if (!code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(err, buf, sizeof buf);
        return util::error(fmt::format("regex '{}' does not compile at offset {}: {}", pattern,
                                       offset, reinterpret_cast<const char*>(buf)));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    std::shared_ptr<Regex> re(new Regex());
    re->code_ = code;
    return std::shared_ptr<const Regex>(std::move(re));
}

Regex::~Regex() {
    pcre2_code_free(static_cast<pcre2_code*>(code_));
}

bool Regex::search(std::string_view subject) const {
    auto* code = static_cast<pcre2_code*>(code_);
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    if (!md) return false;
    const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                               0, 0, md, nullptr);
    pcre2_match_data_free(md);
    return rc >= 0;
}

util::Result<Method> method_from_name(std::string_view name) {
    if (name == "str") return Method::Str;
    if (name == "beg") return Method::Beg;
    if (name == "end") return Method::End;
    if (name == "sub") return Method::Sub;
    if (name == "reg") return Method::Reg;
    return util::error(
        fmt::format("'-m' expects 'str', 'beg', 'end', 'sub' or 'reg', got '{}'", name));
}

namespace {

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}
std::size_t ifind(std::string_view hay, std::string_view needle) {
    if (needle.empty()) return 0;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
        if (iequal(hay.substr(i, needle.size()), needle)) return i;
    return std::string_view::npos;
}

}  // namespace

bool Matcher::matches(std::string_view s) const {
    switch (method) {
        case Method::Str:
            return caseless ? iequal(s, text) : s == text;
        case Method::Beg:
            return s.size() >= text.size() &&
                   (caseless ? iequal(s.substr(0, text.size()), text) : s.starts_with(text));
        case Method::End:
            return s.size() >= text.size() &&
                   (caseless ? iequal(s.substr(s.size() - text.size()), text) : s.ends_with(text));
        case Method::Sub:
            return (caseless ? ifind(s, text) : s.find(text)) != std::string_view::npos;
        case Method::Reg:
            return regex && regex->search(s);
    }
    return false;
}

util::Result<std::vector<std::pair<std::uint16_t, std::uint16_t>>> parse_status_list(
    std::string_view text) {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> out;
    auto bad = [&] {
        return util::error(fmt::format(
            "expects status codes or ranges separated by commas ('200,301-399'), got '{}'", text));
    };
    if (text.empty()) return bad();
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) comma = text.size();
        std::string_view item = text.substr(pos, comma - pos);
        std::string_view lo = item, hi = item;
        if (auto dash = item.find('-'); dash != std::string_view::npos) {
            lo = item.substr(0, dash);
            hi = item.substr(dash + 1);
        }
        auto l = util::parse_uint(lo, 999);
        auto h = util::parse_uint(hi, 999);
        if (!l || !h || *l > *h) return bad();
        out.emplace_back(static_cast<std::uint16_t>(*l), static_cast<std::uint16_t>(*h));
        pos = comma + 1;
    }
    return out;
}

namespace {

util::Result<Matcher> make_matcher(Method method, std::string text, bool caseless) {
    Matcher m;
    m.method = method;
    m.caseless = caseless;
    if (method == Method::Reg) {
        auto re = Regex::compile(text, caseless);
        if (!re) return util::error(re.error());
        m.regex = *re;
    }
    m.text = std::move(text);
    return m;
}

// `[-m METH] WORD` at words[i]; advances i past them.
util::Result<Matcher> parse_method_and_word(std::span<const std::string> words, std::size_t& i,
                                            std::string_view what, bool caseless) {
    Method method = Method::Str;
    if (i < words.size() && words[i] == "-m") {
        if (i + 1 >= words.size()) return util::error("'-m' expects a method");
        auto m = method_from_name(words[i + 1]);
        if (!m) return util::error(m.error());
        method = *m;
        i += 2;
    }
    if (i >= words.size()) return util::error(fmt::format("expects a header {}", what));
    return make_matcher(method, words[i++], caseless);
}

}  // namespace

namespace {
bool is_option(std::string_view w) {
    return w == "min-recv" || w == "comment" || w == "ok-status" || w == "error-status" ||
           w == "tout-status" || w == "on-success" || w == "on-error" || w == "status-code";
}
}  // namespace

util::Result<Expect> parse_http_expect(std::span<const std::string> words, std::string& warning) {
    Expect e;
    std::size_t i = 0;
    // Options, before or after the match (HAProxy reads them anywhere).
    auto options = [&]() -> util::Status {
        while (i < words.size()) {
            const std::string& w = words[i];
            auto need = [&]() -> bool { return i + 1 < words.size(); };
            if (w == "min-recv") {
                if (!need()) return util::error("'min-recv' expects an integer");
                const std::string& v = words[i + 1];
                if (v == "-1") {
                    e.min_recv = -1;
                } else {
                    auto n = util::parse_uint(v, INT32_MAX);
                    if (!n)
                        return util::error(
                            fmt::format("'min-recv' expects an integer, got '{}'", v));
                    e.min_recv = static_cast<int>(*n);
                }
                i += 2;
            } else if (w == "comment") {
                if (!need()) return util::error("'comment' expects a message");
                e.comment = words[i + 1];
                i += 2;
            } else if (w == "ok-status" || w == "error-status" || w == "tout-status") {
                if (!need()) return util::error(fmt::format("'{}' expects a check status", w));
                auto st = status_from_name(words[i + 1]);
                if (!st) return util::error(fmt::format("'{}': {}", w, st.error()));
                if (w == "ok-status") {
                    if (*st != Status::L7Ok && *st != Status::L7OkConditional &&
                        *st != Status::L6Ok && *st != Status::L4Ok)
                        return util::error("'ok-status' expects L7OK, L7OKC, L6OK or L4OK");
                    e.ok_status = *st;
                } else if (w == "error-status") {
                    if (*st != Status::L7OkConditional && *st != Status::L7Response &&
                        *st != Status::L7Status && *st != Status::L6Response &&
                        *st != Status::L4Conn)
                        return util::error(
                            "'error-status' expects L7OKC, L7RSP, L7STS, L6RSP or L4CON");
                    e.error_status = *st;
                } else {
                    if (*st != Status::L7Timeout && *st != Status::L6Timeout &&
                        *st != Status::L4Timeout)
                        return util::error("'tout-status' expects L7TOUT, L6TOUT or L4TOUT");
                    e.timeout_status = *st;
                }
                i += 2;
            } else if (w == "on-success" || w == "on-error") {
                if (!need()) return util::error(fmt::format("'{}' expects a log-format string", w));
                auto f = sample::Format::parse(words[i + 1], sample::Use::Internal);
                if (!f) return util::error(fmt::format("'{}' : {}", w, f.error()));
                auto shared = std::make_shared<const sample::Format>(std::move(*f));
                (w == "on-success" ? e.on_success : e.on_error) = std::move(shared);
                i += 2;
            } else if (w == "status-code") {
                if (!need()) return util::error("'status-code' expects a sample expression");
                auto x = sample::parse_expr(words[i + 1], sample::Use::Internal);
                if (!x) return util::error(fmt::format("'status-code' : {}", x.error()));
                e.status_code = std::make_shared<const sample::Expr>(std::move(*x));
                i += 2;
            } else {
                break;
            }
        }
        return util::ok();
    };
    if (auto st = options(); !st) return util::error(st.error());
    if (i >= words.size())
        return util::error(
            "expects a match ('status', 'rstatus', 'hdr', 'fhdr', 'string' or 'rstring') and its "
            "pattern");
    std::string match = words[i++];
    if (match == "!") {
        e.negate = true;
        if (i >= words.size()) return util::error("expects a match after '!'");
        match = words[i++];
    } else if (match.starts_with('!')) {
        e.negate = true;
        match.erase(0, 1);
    }
    auto one_pattern = [&]() -> util::Result<std::string> {
        if (i >= words.size()) return util::error(fmt::format("'{}' expects a pattern", match));
        if (i + 1 < words.size() && !is_option(words[i + 1]))
            return util::error(fmt::format(
                "'{}' takes one pattern but got '{}' after it (escape spaces with '\\' or quote "
                "the pattern)",
                match, words[i + 1]));
        return words[i++];
    };
    if (match == "status") {
        auto p = one_pattern();
        if (!p) return util::error(p.error());
        auto codes = parse_status_list(*p);
        if (!codes) return util::error(codes.error());
        e.kind = Expect::Kind::Status;
        e.codes = std::move(*codes);
        e.pattern.text = *p;
    } else if (match == "rstatus" || match == "rstring") {
        auto p = one_pattern();
        if (!p) return util::error(p.error());
        auto m = make_matcher(Method::Reg, *p, false);
        if (!m) return util::error(m.error());
        e.kind = match == "rstatus" ? Expect::Kind::RStatus : Expect::Kind::RString;
        e.pattern = std::move(*m);
    } else if (match == "string") {
        auto p = one_pattern();
        if (!p) return util::error(p.error());
        e.kind = Expect::Kind::String;
        e.pattern.method = Method::Sub;
        e.pattern.text = *p;
    } else if (match == "hdr" || match == "fhdr") {
        e.kind = match == "hdr" ? Expect::Kind::Hdr : Expect::Kind::FHdr;
        // `name-lf` / `value-lf`: the word is a log-format string rendered at each check.
        auto formatted =
            [&](const Matcher& m,
                std::string_view what) -> util::Result<std::shared_ptr<const sample::Format>> {
            if (m.method == Method::Reg)
                return util::error(fmt::format("'{}-lf' cannot match with a regex", what));
            auto f = sample::Format::parse(m.text, sample::Use::Internal);
            if (!f) return util::error(fmt::format("'{}-lf' : {}", what, f.error()));
            return std::make_shared<const sample::Format>(std::move(*f));
        };
        if (i >= words.size() || (words[i] != "name" && words[i] != "name-lf"))
            return util::error(fmt::format("'{}' expects 'name' and a header name", match));
        const bool name_lf = words[i++] == "name-lf";
        auto name = parse_method_and_word(words, i, "name", true);
        if (!name) return util::error(name.error());
        e.name = std::move(*name);
        if (name_lf) {
            auto f = formatted(e.name, "name");
            if (!f) return util::error(f.error());
            e.name_format = std::move(*f);
        }
        if (i < words.size() && !is_option(words[i])) {
            if (words[i] != "value" && words[i] != "value-lf")
                return util::error(
                    fmt::format("'{}' expects 'value' after the name, got '{}'", match, words[i]));
            const bool value_lf = words[i++] == "value-lf";
            auto value = parse_method_and_word(words, i, "value", false);
            if (!value) return util::error(value.error());
            e.pattern = std::move(*value);
            e.has_value = true;
            if (value_lf) {
                auto f = formatted(e.pattern, "value");
                if (!f) return util::error(f.error());
                e.pattern_format = std::move(*f);
            }
        }
        if (i < words.size() && !is_option(words[i]))
            return util::error(
                fmt::format("unexpected word '{}' after the header pattern", words[i]));
    } else if (match == "header") {
        // Written by guides for older HAProxy versions; 2.6 refuses it. The meaning is plain:
        // read it as the 2.6 `hdr` form and say how 2.6 spells it.
        e.kind = Expect::Kind::Hdr;
        if (i >= words.size()) return util::error("'header' expects a header name");
        auto name = make_matcher(Method::Str, words[i++], true);
        if (!name) return util::error(name.error());
        e.name = std::move(*name);
        std::string spelled = fmt::format("hdr name {}", e.name.text);
        if (i < words.size() && !is_option(words[i])) {
            auto value = parse_method_and_word(words, i, "value", false);
            if (!value) return util::error(value.error());
            e.pattern = std::move(*value);
            e.has_value = true;
            spelled += e.pattern.method == Method::Str
                           ? fmt::format(" value {}", e.pattern.text)
                           : fmt::format(" value -m {} {}", words[i - 2], e.pattern.text);
        }
        if (i < words.size() && !is_option(words[i]))
            return util::error(
                fmt::format("unexpected word '{}' after the header pattern", words[i]));
        warning = fmt::format(
            "'header' is not a match HAProxy 2.6 knows (it refuses this line); read as "
            "'http-check expect {}{}', which is how to write it for HAProxy 2.6",
            e.negate ? "! " : "", spelled);
    } else if (match == "string-lf") {
        auto p = one_pattern();
        if (!p) return util::error(p.error());
        auto f = sample::Format::parse(*p, sample::Use::Internal);
        if (!f) return util::error(fmt::format("'string-lf' : {}", f.error()));
        e.kind = Expect::Kind::String;
        e.pattern.method = Method::Sub;
        e.pattern.text = *p;
        e.pattern_format = std::make_shared<const sample::Format>(std::move(*f));
    } else {
        return util::error(fmt::format(
            "expects 'status', 'rstatus', 'hdr', 'fhdr', 'string' or 'rstring', got '{}'", match));
    }
    if (auto st = options(); !st) return util::error(st.error());
    if (i < words.size())
        return util::error(fmt::format("unexpected word '{}' after the pattern", words[i]));
    return e;
}

namespace {

// Every value of the header(s) named like `e.name`; `hdr` splits values on commas.
bool header_matches(const Expect& e, const http::HeaderList& headers) {
    for (std::size_t k = 0; k < headers.size(); ++k) {
        const auto& h = headers[k];
        if (!e.name.matches(h.name)) continue;
        if (!e.has_value) return true;
        if (e.kind == Expect::Kind::FHdr) {
            if (e.pattern.matches(h.value)) return true;
            continue;
        }
        std::string_view rest = h.value;
        while (true) {
            const std::size_t comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
                item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
                item.remove_suffix(1);
            if (e.pattern.matches(item)) return true;
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return false;
}

Outcome wrong_status(const Expect* e, const HttpAnswer& a) {
    const Status st = e && e->error_status != Status::Unknown ? e->error_status : Status::L7Status;
    return {st, a.status, e && !e->comment.empty() ? e->comment : std::string(a.reason)};
}
Outcome bad_content(const Expect& e, const HttpAnswer& a, std::string_view info) {
    const Status st = e.error_status != Status::Unknown ? e.error_status : Status::L7Response;
    return {st, a.status, !e.comment.empty() ? e.comment : std::string(info)};
}

}  // namespace

std::optional<Outcome> render_expects(std::span<const Expect> in, std::vector<Expect>& out,
                                      sample::Context& ctx) {
    out.assign(in.begin(), in.end());
    for (Expect& e : out) {
        for (auto [format, text] : {std::pair{e.pattern_format.get(), &e.pattern.text},
                                    std::pair{e.name_format.get(), &e.name.text}}) {
            if (!format) continue;
            text->clear();
            format->render(ctx, *text);
            if (text->empty())
                return Outcome{Status::L7Response, -1,
                               "log-format string evaluated to an empty string"};
        }
    }
    return std::nullopt;
}

void apply_messages(const Expect& e, Outcome& o, sample::Context& ctx) {
    if (!passed(o.status) && e.on_error) {
        std::string text;
        e.on_error->render(ctx, text);
        if (!e.comment.empty()) text += fmt::format(" comment: {}", e.comment);
        o.info = std::move(text);
    }
    if (passed(o.status) && e.on_success) {
        o.info.clear();
        e.on_success->render(ctx, o.info);
    }
    if (e.status_code) {
        sample::Sample s;
        if (e.status_code->eval(ctx, s) && sample::cast(s, sample::Type::Sint, ctx.arena()))
            o.code = static_cast<int>(s.sint);
    }
}

Outcome evaluate_http(std::span<const Expect> rules, const HttpAnswer& a, bool disable_on_404,
                      std::size_t* decided) {
    std::size_t unused = 0;
    std::size_t& at = decided ? *decided : unused;
    at = std::string_view::npos;
    if (disable_on_404 && a.status == 404) return {Status::L7OkConditional, 404, {}};
    if (rules.empty()) {
        if (a.status >= 200 && a.status < 400) return {Status::L7Ok, a.status, {}};
        return wrong_status(nullptr, a);
    }
    char code[4];
    fmt::format_to_n(code, sizeof code, "{:03}", a.status % 1000);
    const std::string_view code_text(code, 3);
    for (const Expect& e : rules) {
        at = static_cast<std::size_t>(&e - rules.data());
        bool match = false;
        switch (e.kind) {
            case Expect::Kind::Status:
                for (auto [lo, hi] : e.codes)
                    if (a.status >= lo && a.status <= hi) match = true;
                if (match == e.negate) return wrong_status(&e, a);
                break;
            case Expect::Kind::RStatus:
                if (e.pattern.matches(code_text) == e.negate) return wrong_status(&e, a);
                break;
            case Expect::Kind::Hdr:
            case Expect::Kind::FHdr:
                if (!a.headers || header_matches(e, *a.headers) == e.negate)
                    return wrong_status(&e, a);
                break;
            case Expect::Kind::String:
            case Expect::Kind::RString:
                if (a.body.empty())
                    return bad_content(e, a, "HTTP content check could not find a response body");
                match = e.pattern.matches(a.body);
                if (!e.negate && !match)
                    return bad_content(e, a, "HTTP content check did not match");
                if (e.negate && match)
                    return bad_content(e, a, "HTTP check matched unwanted content");
                break;
        }
    }
    return {rules.back().ok_status, a.status, {}};
}

std::string_view last_raw_word(std::string_view line) {
    // Walk the line with the tokenizer's quoting rules, remembering where each word began.
    std::size_t start = std::string_view::npos, end = 0;
    bool in_word = false;
    char quote = 0;
    for (std::size_t k = 0; k < line.size(); ++k) {
        const char c = line[k];
        if (quote) {
            if (c == '\\' && quote == '"' && k + 1 < line.size()) {
                ++k;
            } else if (c == quote) {
                quote = 0;
            }
            end = k + 1;
            continue;
        }
        if (c == '#') break;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            in_word = false;
            continue;
        }
        if (!in_word) {
            in_word = true;
            start = k;
        }
        if (c == '\\' && k + 1 < line.size()) ++k;
        if (c == '"' || c == '\'') quote = c;
        end = k + 1;
    }
    if (start == std::string_view::npos) return {};
    return line.substr(start, end - start);
}

std::string quoting_warning(std::string_view raw, std::string_view parsed) {
    if (raw.find('"') == std::string_view::npos) return {};
    // One quoted string around the whole word is the usual way to keep spaces: fine.
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"' &&
        raw.substr(1, raw.size() - 2).find('"') == std::string_view::npos)
        return {};
    if (parsed.find('"') != std::string_view::npos) return {};  // escaped quotes were kept
    if (parsed.find('\'') != std::string_view::npos) return {};
    std::string wanted;
    for (std::size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] == '\\' && k + 1 < raw.size()) {
            wanted += raw[++k];
            continue;
        }
        if (raw[k] == '\'') return {};  // mixed quoting: leave it to the writer
        wanted += raw[k];
    }
    return fmt::format(
        "the pattern is matched as '{}': the config's quoting rules remove the double quotes "
        "in {}; to match them, write the word in single quotes: '{}'",
        parsed, raw, wanted);
}

}  // namespace sluice::check
