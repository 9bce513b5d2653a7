// `show errors`' store and layout (see error_capture.hpp). The layout is HAProxy 2.6's, checked
// against haproxy byte for byte, except its H1 mux's internal state lines, which name flags
// Sluice does not have: Sluice prints its own parser's verdict in their place.
#include "sluice/http/error_capture.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace sluice::http {
namespace {

std::atomic<std::uint32_t> g_events{0};

// HAProxy's dump width: an output line (prefix included) never reaches column 80.
constexpr std::size_t kLineWidth = 80;

}  // namespace

std::uint32_t next_error_event() {
    return g_events.fetch_add(1, std::memory_order_relaxed);
}
std::uint32_t error_events() {
    return g_events.load(std::memory_order_relaxed);
}

std::int64_t wall_clock_us() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string error_date(std::int64_t when_us) {
    const auto secs = static_cast<std::time_t>(when_us / 1'000'000);
    std::tm tm{};
    ::localtime_r(&secs, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%d/%b/%Y:%H:%M:%S", &tm);
    return fmt::format("[{}.{:03}]", date, (when_us / 1000) % 1000);
}

std::size_t field_value_offset(const HeaderList& headers, std::string_view name, std::size_t nth,
                               const std::byte* head, std::size_t head_len) {
    const char* const begin = reinterpret_cast<const char*>(head);
    for (const Header& h : headers.all()) {
        if (!iequals(h.name, name) || nth-- > 0) continue;
        // Views into the head only (rules may point values elsewhere, but run later).
        if (h.value.data() < begin || h.value.data() > begin + head_len) break;
        return static_cast<std::size_t>(h.value.data() - begin);
    }
    return head_len;
}

std::size_t framing_error_offset(const HeaderList& headers, FramingError error,
                                 const std::byte* head, std::size_t head_len) {
    std::size_t lengths = 0, bad_length = 0, codings = 0;
    bool bad_found = false;
    for (const Header& h : headers.all()) {
        if (iequals(h.name, "content-length")) {
            const bool digits =
                !h.value.empty() && h.value.find_first_not_of("0123456789") == h.value.npos;
            if (!digits && !bad_found) {
                bad_length = lengths;
                bad_found = true;
            }
            ++lengths;
        } else if (iequals(h.name, "transfer-encoding")) {
            ++codings;
        }
    }
    switch (error) {
        case FramingError::BadContentLength:
            return field_value_offset(headers, "content-length", bad_length, head, head_len);
        case FramingError::ContentLengthMismatch:
            // The second value is where they stop agreeing (or the first, a list in one field).
            return field_value_offset(headers, "content-length", lengths > 1 ? 1 : 0, head,
                                      head_len);
        case FramingError::BadTransferEncoding:
            return field_value_offset(headers, "transfer-encoding", 0, head, head_len);
        case FramingError::ChunkedTwice:
            return field_value_offset(headers, "transfer-encoding", codings > 0 ? codings - 1 : 0,
                                      head, head_len);
        default:
            return head_len;
    }
}

std::size_t dump_line(std::string& out, std::string_view bytes, std::size_t pos,
                      std::size_t& line_start) {
    const std::size_t begin = out.size();
    fmt::format_to(std::back_inserter(out), "  {:05}{} ", pos, pos == line_start ? ' ' : '+');
    // An escape takes its room whole or goes to the next line: a byte needing n output
    // characters is written only while n of them (and the newline) still fit.
    const std::size_t end = begin + kLineWidth;
    static constexpr char kHex[] = "0123456789ABCDEF";
    while (pos < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[pos]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (out.size() + 2 > end) break;
            out += static_cast<char>(c);
        } else if (c == '\t' || c == '\n' || c == '\r' || c == 0x1b || c == '\\') {
            if (out.size() + 3 > end) break;
            out += '\\';
            out += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c == 0x1b ? 'e' : '\\';
        } else {
            if (out.size() + 5 > end) break;
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
        ++pos;
        if (c == '\n') {
            line_start = pos;
            break;
        }
    }
    out += '\n';
    return pos;
}

void dump_snapshot(std::string& out, const ErrorSnapshot& s, bool response, std::string_view name,
                   std::int64_t id) {
    auto o = std::back_inserter(out);
    const auto peer = [](std::string_view n) { return n.empty() ? std::string_view("<NONE>") : n; };
    fmt::format_to(o, " \n{} {} {} (#{}): invalid {}\n", error_date(s.when_us),
                   response ? "backend" : "frontend", name, id, response ? "response" : "request");
    fmt::format_to(o, "  {} {} (#{}), server {} (#{}), event #{}, src {}\n",
                   response ? "frontend" : "backend", peer(s.peer_name), s.peer_id,
                   peer(s.server_name), s.server_id, s.event, s.source);
    const auto len = static_cast<std::uint32_t>(s.bytes.size());
    fmt::format_to(o,
                   "  buffer starts at {} (including 0 out), {} free,\n"
                   "  len {}, wraps at {}, error at position {}\n",
                   s.buf_start, s.buf_size > len ? s.buf_size - len : 0, len, s.buf_size,
                   s.error_at);
    // In place of HAProxy's H1 mux state (its flags and parser state names).
    fmt::format_to(o, "  Sluice H1 parser: {} :\n  \n", s.reason);
    std::size_t line_start = 0;
    for (std::size_t pos = 0; pos < s.bytes.size();) {
        const std::size_t next = dump_line(out, s.bytes, pos, line_start);
        if (next == pos) break;  // cannot happen (a line always takes a byte); never loop
        pos = next;
    }
}

}  // namespace sluice::http
