// The log-format variables (`%ci`, `%Tw`, `%tsc`, ...): one table row each, reading the
// log::Record a stream attaches, and the writers giving what they produce HAProxy 2.6's
// spelling in a log line (quoting, hex, escaping, '#XX' encoding) or a JSON value. Adding a
// variable is one row in kVars. Parsing and the render loop are in format.cpp.
#include "log_vars.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "sluice/log/logger.hpp"
#include "sluice/sample/format.hpp"

namespace sluice::sample {

namespace {

using Kind = LogValue::Kind;
using log::Record;

// Which bytes HAProxy writes as '#XX': in request lines '"', '#' and the non-printable ones;
// in header captures also '{', '|' and '}', which delimit them in "{a|b}".
bool url_encoded(unsigned char c) {
    return c < 32 || c >= 127 || c == '"' || c == '#';
}
bool header_encoded(unsigned char c) {
    return url_encoded(c) || c == '{' || c == '|' || c == '}';
}

void number(LogValue& v, std::int64_t n, char prefix = 0) {
    v.kind = Kind::Number;
    v.number = n;
    v.prefix = prefix;
}
void text(LogValue& v, std::string_view s) {
    v.kind = Kind::Text;
    v.text = s;
}
void url(LogValue& v, std::string_view s) {
    v.kind = Kind::Url;
    v.text = s;
}

// Dates as HAProxy logs them. `us`: microseconds since the epoch.
enum class Zone { LocalMs, Gmt, LocalOffset };
void date(LogValue& v, std::int64_t us, Zone zone) {
    static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t secs = static_cast<std::time_t>(us / 1000000);
    // Lines come many per second: the calendar (and its "dd/Mmm/yyyy:hh:mm:ss" text) is made
    // once per second and zone on each thread, as localtime_r takes a process-wide lock.
    struct Second {
        std::time_t secs = -1;
        long zone_offset = 0;  // tzset()'s `timezone` when made: a new TZ makes a new one
        std::tm tm{};
        char text[24] = {};
        std::size_t len = 0;
    };
    thread_local Second cache[2];
    Second& c = cache[zone == Zone::Gmt ? 1 : 0];
    if (c.secs != secs || c.zone_offset != ::timezone) {
        c.secs = secs;
        c.zone_offset = ::timezone;
        if (zone == Zone::Gmt)
            gmtime_r(&secs, &c.tm);
        else
            localtime_r(&secs, &c.tm);
        const auto made = fmt::format_to_n(
            c.text, sizeof c.text, "{:02}/{}/{:04}:{:02}:{:02}:{:02}", c.tm.tm_mday,
            kMonths[c.tm.tm_mon % 12], c.tm.tm_year + 1900, c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec);
        c.len = std::min(made.size, sizeof c.text);
    }
    const std::tm& tm = c.tm;
    std::memcpy(v.buf.data(), c.text, std::min(c.len, v.buf.size()));
    char* end = v.buf.data() + std::min(c.len, v.buf.size());
    const std::size_t room = v.buf.size() - static_cast<std::size_t>(end - v.buf.data());
    if (zone == Zone::LocalMs) {
        end = fmt::format_to_n(end, room, ".{:03}", (us / 1000) % 1000).out;
    } else if (zone == Zone::Gmt) {
        end = fmt::format_to_n(end, room, " +0000").out;
    } else {
        const long off = tm.tm_gmtoff / 60;
        end = fmt::format_to_n(end, room, " {}{:02}{:02}", off < 0 ? '-' : '+',
                               (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60)
                  .out;
    }
    v.kind = Kind::Raw;
    v.text = std::string_view(v.buf.data(), static_cast<std::size_t>(end - v.buf.data()));
}

void chars(LogValue& v, std::initializer_list<char> cs) {
    std::size_t n = 0;
    for (char c : cs)
        v.buf[n++] = c;
    v.kind = Kind::Raw;
    v.text = std::string_view(v.buf.data(), n);
}

void address(LogValue& v, const net::Address* a, Kind kind) {
    v.kind = kind;
    v.address = a;
}

// The request line's parts; <BADREQ> when no valid request was seen, as HAProxy prints.
constexpr std::string_view kBadReq = "<BADREQ>";
bool no_request(const Record& r) {
    return !r.http || r.method.empty();
}
void request_part(LogValue& v, const Record& r, std::string_view part) {
    url(v, no_request(r) ? kBadReq : part);
}
std::string_view uri_path(std::string_view uri) {
    return uri.substr(0, uri.find('?'));
}
// The path alone: an absolute URI loses its scheme and authority; "*" has no path.
std::string_view uri_path_only(std::string_view uri) {
    std::string_view p = uri_path(uri);
    if (p.starts_with('/')) return p;
    const std::size_t scheme = p.find("://");
    if (scheme == std::string_view::npos) return {};
    const std::size_t slash = p.find('/', scheme + 3);
    return slash == std::string_view::npos ? std::string_view() : p.substr(slash);
}
std::string_view uri_query(std::string_view uri) {
    const std::size_t q = uri.find('?');
    return q == std::string_view::npos ? std::string_view() : uri.substr(q);
}

std::string_view host_name() {
    static const std::string name = [] {
        char buf[256] = {};
        if (gethostname(buf, sizeof buf - 1) != 0) return std::string();
        return std::string(buf);
    }();
    return name;
}

// Timers: -1 when their phase was not reached, as the stream fills them.
std::int64_t request_time(const Record& r) {  // %Tq = Th + Ti + TR
    return r.tr_req < 0 ? -1 : r.th + std::max<std::int64_t>(r.ti, 0) + r.tr_req;
}
// %Td: the data phase, what remains of Tt once the earlier phases are taken out; HTTP needs
// the response headers, TCP the connection (HAProxy's two cases).
std::int64_t data_time(const Record& r) {
    if (r.http) {
        if (r.tr < 0 || r.tw < 0 || r.tc < 0) return -1;
        return r.tt - (request_time(r) + r.tw + r.tc + r.tr);
    }
    if (r.tc < 0 || r.tw < 0) return -1;
    return r.tt - (request_time(r) + r.tw + r.tc);
}

char plus(bool b) {
    return b ? '+' : 0;
}

constexpr LogVar kVars[] = {
    {"o", false, 0, nullptr},  // flags for what follows: handled by the parser
    {"B", false, 0,
     [](const Record& r, LogValue& v) {
         number(v, static_cast<std::int64_t>(r.bytes_out), plus(r.logasap));
     }},
    {"CC", true, 0, [](const Record& r, LogValue& v) { text(v, r.request_cookie.value); }},
    {"CS", true, 0, [](const Record& r, LogValue& v) { text(v, r.response_cookie.value); }},
    {"H", false, 0, [](const Record&, LogValue& v) { text(v, host_name()); }},
    {"HM", true, 0, [](const Record& r, LogValue& v) { request_part(v, r, r.method); }},
    {"HP", true, 0, [](const Record& r, LogValue& v) { request_part(v, r, uri_path(r.uri)); }},
    {"HPO", true, 0,
     [](const Record& r, LogValue& v) { request_part(v, r, uri_path_only(r.uri)); }},
    {"HQ", true, 0, [](const Record& r, LogValue& v) { request_part(v, r, uri_query(r.uri)); }},
    {"HU", true, 0, [](const Record& r, LogValue& v) { request_part(v, r, r.uri); }},
    {"HV", true, 0, [](const Record& r, LogValue& v) { request_part(v, r, r.version); }},
    {"ID", false, 0, [](const Record& r, LogValue& v) { text(v, r.unique_id); }},
    {"ST", false, 0, [](const Record& r, LogValue& v) { number(v, r.http ? r.status : 0); }},
    {"T", false, 0, [](const Record& r, LogValue& v) { date(v, r.accept_us, Zone::Gmt); }},
    {"Ta", true, 0, [](const Record& r, LogValue& v) { number(v, r.ta, plus(r.logasap)); }},
    {"Tc", false, 0, [](const Record& r, LogValue& v) { number(v, r.tc); }},
    {"Td", false, 0, [](const Record& r, LogValue& v) { number(v, data_time(r)); }},
    {"Tl", false, 0, [](const Record& r, LogValue& v) { date(v, r.accept_us, Zone::LocalOffset); }},
    {"Th", false, 0, [](const Record& r, LogValue& v) { number(v, r.th); }},
    {"Ti", true, 0, [](const Record& r, LogValue& v) { number(v, r.ti); }},
    {"Tq", true, 0, [](const Record& r, LogValue& v) { number(v, request_time(r)); }},
    {"TR", true, 0, [](const Record& r, LogValue& v) { number(v, r.tr_req); }},
    {"Tr", true, 0, [](const Record& r, LogValue& v) { number(v, r.tr); }},
    {"Ts", false, 8, [](const Record& r, LogValue& v) { number(v, r.accept_us / 1000000); }},
    {"Tt", false, 0, [](const Record& r, LogValue& v) { number(v, r.tt, plus(r.logasap)); }},
    {"Tu", false, 0,
     [](const Record& r, LogValue& v) {
         number(v, r.tt < 0 ? -1 : r.tt - std::max<std::int64_t>(r.ti, 0), plus(r.logasap));
     }},
    {"Tw", false, 0, [](const Record& r, LogValue& v) { number(v, r.tw); }},
    {"U", false, 0,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.bytes_in)); }},
    {"ac", false, 0,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.actconn)); }},
    {"b", false, 0, [](const Record& r, LogValue& v) { text(v, r.backend_name); }},
    {"bc", false, 0,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.beconn)); }},
    {"bi", false, 0, [](const Record& r, LogValue& v) { address(v, r.backend_source, Kind::Ip); }},
    {"bp", false, 0,
     [](const Record& r, LogValue& v) { address(v, r.backend_source, Kind::Port); }},
    {"bq", false, 0,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.be_queue)); }},
    {"ci", false, 0, [](const Record& r, LogValue& v) { address(v, r.client, Kind::Ip); }},
    {"cp", false, 0, [](const Record& r, LogValue& v) { address(v, r.client, Kind::Port); }},
    {"f", false, 0, [](const Record& r, LogValue& v) { text(v, r.frontend_name); }},
    {"fc", false, 0,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.feconn)); }},
    {"fi", false, 0, [](const Record& r, LogValue& v) { address(v, r.frontend, Kind::Ip); }},
    {"fp", false, 0, [](const Record& r, LogValue& v) { address(v, r.frontend, Kind::Port); }},
    {"ft", false, 0,
     [](const Record& r, LogValue& v) {
         if (!r.ssl_frontend || r.frontend_name.empty()) return text(v, r.frontend_name);
         const std::size_t n = std::min(r.frontend_name.size(), v.buf.size() - 1);
         std::copy_n(r.frontend_name.data(), n, v.buf.data());
         v.buf[n] = '~';
         text(v, std::string_view(v.buf.data(), n + 1));
     }},
    {"lc", false, 4,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.log_counter)); }},
    {"hr", false, 0,
     [](const Record& r, LogValue& v) {
         v.kind = Kind::Captures;
         v.captures = r.request_headers;
     }},
    {"hrl", false, 0,
     [](const Record& r, LogValue& v) {
         v.kind = Kind::Captures;
         v.captures = r.request_headers;
         v.clf = true;
     }},
    {"hs", false, 0,
     [](const Record& r, LogValue& v) {
         v.kind = Kind::Captures;
         v.captures = r.response_headers;
     }},
    {"hsl", false, 0,
     [](const Record& r, LogValue& v) {
         v.kind = Kind::Captures;
         v.captures = r.response_headers;
         v.clf = true;
     }},
    {"ms", false, 2,
     [](const Record& r, LogValue& v) {
         // Left-padded to 3 digits in decimal only (HAProxy's %ms).
         const std::int64_t ms = (r.accept_us / 1000) % 1000;
         number(v, ms);
         auto end = fmt::format_to_n(v.buf.data(), v.buf.size(), "{:03}", ms).out;
         v.text = std::string_view(v.buf.data(), static_cast<std::size_t>(end - v.buf.data()));
     }},
    {"pid", false, 4, [](const Record&, LogValue& v) { number(v, log::process_id()); }},
    {"r", true, 0,
     [](const Record& r, LogValue& v) {
         if (no_request(r)) return url(v, kBadReq);
         // The three parts are contiguous in most requests, but a rewritten URI is not: join
         // them in the buffer when they fit, else log the URI alone rather than truncate.
         std::string_view parts[] = {r.method, r.uri, r.version};
         std::size_t n = 0;
         for (std::string_view p : parts) {
             if (p.empty()) continue;
             if (n + p.size() + 1 > v.buf.size()) return url(v, r.uri);
             if (n) v.buf[n++] = ' ';
             std::copy(p.begin(), p.end(), v.buf.data() + n);
             n += p.size();
         }
         url(v, std::string_view(v.buf.data(), n));
     }},
    {"rc", false, 0,
     [](const Record& r, LogValue& v) { number(v, r.retries, plus(r.redispatched)); }},
    {"rt", false, 4,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.request_counter)); }},
    {"s", false, 0,
     [](const Record& r, LogValue& v) {
         text(v, r.server_name.empty() ? std::string_view("<NOSRV>") : r.server_name);
     }},
    {"sc", false, 0,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.srvconn)); }},
    {"si", false, 0, [](const Record& r, LogValue& v) { address(v, r.server, Kind::Ip); }},
    {"sp", false, 0, [](const Record& r, LogValue& v) { address(v, r.server, Kind::Port); }},
    {"sq", false, 0,
     [](const Record& r, LogValue& v) { number(v, static_cast<std::int64_t>(r.srv_queue)); }},
    {"sslc", false, 0, [](const Record& r, LogValue& v) { text(v, r.ssl_cipher); }},
    {"sslv", false, 0, [](const Record& r, LogValue& v) { text(v, r.ssl_version); }},
    {"t", false, 0, [](const Record& r, LogValue& v) { date(v, r.accept_us, Zone::LocalMs); }},
    {"tr", true, 0, [](const Record& r, LogValue& v) { date(v, r.request_us, Zone::LocalMs); }},
    {"trg", true, 0, [](const Record& r, LogValue& v) { date(v, r.request_us, Zone::Gmt); }},
    {"trl", true, 0,
     [](const Record& r, LogValue& v) { date(v, r.request_us, Zone::LocalOffset); }},
    // The manual marks %tsc HTTP-only, but haproxy 2.6 accepts it in mode tcp.
    {"ts", false, 0, [](const Record& r, LogValue& v) { chars(v, {r.term_cause, r.term_phase}); }},
    {"tsc", false, 0,
     [](const Record& r,
        LogValue&
            v) { chars(v, {r.term_cause, r.term_phase, r.cookie_request, r.cookie_response}); }},
};

void write_escaped(std::string_view s, std::uint8_t flags, std::string& out) {
    if (!(flags & kFlagEscape)) {
        out += s;
        return;
    }
    for (char c : s) {
        if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
        out.push_back(c);
    }
}

void write_encoded(std::string_view s, bool (*encoded)(unsigned char), std::uint8_t flags,
                   std::string& out) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (encoded(u)) {
            out.push_back('#');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        } else if ((flags & kFlagEscape) && (c == '\\' || c == ']')) {
            out.push_back('\\');
            out.push_back(c);
        } else {
            out.push_back(c);
        }
    }
}

void write_hex_ip(const net::Address& a, std::string& out) {
    const auto* bytes = a.family() == AF_INET
                            ? reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr)
                            : reinterpret_cast<const unsigned char*>(
                                  &reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr);
    const int n = a.family() == AF_INET ? 4 : 16;
    for (int i = 0; i < n; ++i)
        fmt::format_to(std::back_inserter(out), "{:02X}", bytes[i]);
}

bool is_ip(const net::Address* a) {
    return a && (a->family() == AF_INET || a->family() == AF_INET6);
}

void write_captures(const LogValue& v, std::uint8_t flags, std::string& out) {
    if (v.clf) {
        // CLF style: one field per header, each quoted on its own with +Q.
        for (std::size_t i = 0; i < v.captures.size(); ++i) {
            if (i) out.push_back(' ');
            const auto& c = v.captures[i];
            if (flags & kFlagQuote) out.push_back('"');
            if (c.value.empty()) {
                if (!(flags & kFlagQuote)) out.push_back('-');
            } else {
                write_encoded(c.value, header_encoded, flags, out);
            }
            if (flags & kFlagQuote) out.push_back('"');
        }
        return;
    }
    if (flags & kFlagQuote) out.push_back('"');
    out.push_back('{');
    for (std::size_t i = 0; i < v.captures.size(); ++i) {
        if (i) out.push_back('|');
        write_encoded(v.captures[i].value, header_encoded, flags, out);
    }
    out.push_back('}');
    if (flags & kFlagQuote) out.push_back('"');
}

}  // namespace

const LogVar* find_log_var(std::string_view name) {
    for (const LogVar& v : kVars)
        if (v.name == name) return &v;
    return nullptr;
}

void write_log_text(std::string_view s, std::uint8_t flags, bool dash, std::string& out) {
    if (flags & kFlagQuote) out.push_back('"');
    if (!s.empty())
        write_escaped(s, flags, out);
    else if (dash && !(flags & kFlagQuote))
        out.push_back('-');
    if (flags & kFlagQuote) out.push_back('"');
}

void write_log_value(const LogValue& v, const LogVar& var, std::uint8_t flags, std::string& out) {
    switch (v.kind) {
        case Kind::Text:
            return write_log_text(v.text, flags, true, out);
        case Kind::Url:
            if (flags & kFlagQuote) out.push_back('"');
            write_encoded(v.text, url_encoded, flags, out);
            if (flags & kFlagQuote) out.push_back('"');
            return;
        case Kind::Number:
            if (v.prefix) out.push_back(v.prefix);
            if ((flags & kFlagHex) && var.hex_width && v.number >= 0)
                fmt::format_to(std::back_inserter(out), "{:0{}X}", v.number, var.hex_width);
            else if (!v.text.empty())
                out += v.text;
            else
                fmt::format_to(std::back_inserter(out), "{}", v.number);
            return;
        case Kind::Raw:
            out += v.text;
            return;
        case Kind::Ip: {
            if (!is_ip(v.address)) return write_log_text({}, flags, true, out);
            if (flags & kFlagHex) return write_hex_ip(*v.address, out);
            char buf[INET6_ADDRSTRLEN];
            return write_log_text(v.address->ip_text(buf, sizeof buf), flags, true, out);
        }
        case Kind::Port:
            if (!is_ip(v.address)) return write_log_text({}, flags, true, out);
            if (flags & kFlagHex)
                fmt::format_to(std::back_inserter(out), "{:04X}", v.address->port());
            else
                fmt::format_to(std::back_inserter(out), "{}", v.address->port());
            return;
        case Kind::Captures:
            // No capture made (none declared, or no valid request): nothing at all.
            if (!v.captures.empty()) write_captures(v, flags, out);
            return;
    }
}

void write_json_string(std::string_view s, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u >= 0x7f) {
            // Bytes, not characters: each non-ASCII byte stands for itself (as Latin-1), so any
            // input gives valid JSON and the bytes can be recovered.
            out += "\\u00";
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 15]);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

void write_json_value(const LogValue& v, std::string& out) {
    switch (v.kind) {
        case Kind::Text:
            if (v.text.empty()) {
                out += "null";
                return;
            }
            [[fallthrough]];
        case Kind::Url:
        case Kind::Raw:
            return write_json_string(v.text, out);
        case Kind::Number:
            fmt::format_to(std::back_inserter(out), "{}", v.number);
            return;
        case Kind::Ip: {
            char buf[INET6_ADDRSTRLEN];
            if (!is_ip(v.address)) {
                out += "null";
                return;
            }
            return write_json_string(v.address->ip_text(buf, sizeof buf), out);
        }
        case Kind::Port:
            if (!is_ip(v.address)) {
                out += "null";
                return;
            }
            fmt::format_to(std::back_inserter(out), "{}", v.address->port());
            return;
        case Kind::Captures:
            out.push_back('[');
            for (std::size_t i = 0; i < v.captures.size(); ++i) {
                if (i) out.push_back(',');
                if (v.captures[i].present)
                    write_json_string(v.captures[i].value, out);
                else
                    out += "null";
            }
            out.push_back(']');
            return;
    }
}

}  // namespace sluice::sample
