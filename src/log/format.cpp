// Syslog headers (see format.hpp). Written by hand rather than with strftime: month names are
// the C locale's whatever the environment says, and nothing here allocates once the caller's
// string has grown.
#include "sluice/log/format.hpp"

#include <algorithm>

namespace sluice::log {

namespace {

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void digits(std::string& out, unsigned v, int width) {
    char buf[12];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < 11);
    while (n < width)
        buf[n++] = '0';
    while (n > 0)
        out.push_back(buf[--n]);
}

void pri(std::string& out, unsigned value) {
    out.push_back('<');
    digits(out, value, 1);
    out.push_back('>');
}

// Mmm dd hh:mm:ss (day padded with a space, as rfc3164 wants)
// hh:mm:ss
void clock_time(std::string& out, const Stamp& s) {
    digits(out, static_cast<unsigned>(s.local.tm_hour), 2);
    out.push_back(':');
    digits(out, static_cast<unsigned>(s.local.tm_min), 2);
    out.push_back(':');
    digits(out, static_cast<unsigned>(s.local.tm_sec), 2);
}

void date3164(std::string& out, const Stamp& s) {
    out.append(kMonths[static_cast<unsigned>(s.local.tm_mon) % 12]);
    out.push_back(' ');
    if (s.local.tm_mday < 10) out.push_back(' ');
    digits(out, static_cast<unsigned>(s.local.tm_mday), 1);
    out.push_back(' ');
    clock_time(out, s);
}

// YYYY-MM-DDThh:mm:ss.uuuuuu+hh:mm
void date_iso(std::string& out, const Stamp& s) {
    digits(out, static_cast<unsigned>(s.local.tm_year + 1900), 4);
    out.push_back('-');
    digits(out, static_cast<unsigned>(s.local.tm_mon + 1), 2);
    out.push_back('-');
    digits(out, static_cast<unsigned>(s.local.tm_mday), 2);
    out.push_back('T');
    clock_time(out, s);
    out.push_back('.');
    digits(out, s.usec % 1000000, 6);
    long off = s.gmtoff;
    out.push_back(off < 0 ? '-' : '+');
    if (off < 0) off = -off;
    digits(out, static_cast<unsigned>(off / 3600), 2);
    out.push_back(':');
    digits(out, static_cast<unsigned>(off / 60 % 60), 2);
}

}  // namespace

Stamp make_stamp(std::int64_t unix_seconds, std::uint32_t usec) {
    Stamp s;
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    localtime_r(&t, &s.local);
    s.usec = usec;
    s.gmtoff = s.local.tm_gmtoff;
    return s;
}

void append_header(std::string& out, Format format, std::uint8_t facility, Level level,
                   const Stamp& when, const HeaderFields& f) {
    const unsigned sev = static_cast<unsigned>(level);
    const unsigned prival = static_cast<unsigned>(facility) * 8 + sev;
    switch (format) {
        case Format::Local:
        case Format::Rfc3164:
            pri(out, prival);
            date3164(out, when);
            out.push_back(' ');
            if (format == Format::Rfc3164 && !f.host.empty()) {
                out.append(f.host);
                out.push_back(' ');
            }
            out.append(f.tag);
            out.push_back('[');
            out.append(f.pid);
            out.append("]: ");
            return;
        case Format::Rfc5424:
            pri(out, prival);
            out.append("1 ");
            date_iso(out, when);
            out.push_back(' ');
            out.append(f.host.empty() ? std::string_view("-") : f.host);
            out.push_back(' ');
            out.append(f.tag);
            out.push_back(' ');
            out.append(f.pid);
            out.append(" - ");
            out.append(f.sd.empty() ? std::string_view("-") : f.sd);
            out.push_back(' ');
            return;
        case Format::Short:
            pri(out, sev);
            return;
        case Format::Priority:
            pri(out, prival);
            return;
        case Format::Timed:
            pri(out, sev);
            date_iso(out, when);
            out.push_back(' ');
            return;
        case Format::Iso:
            date_iso(out, when);
            out.push_back(' ');
            return;
        case Format::Raw:
            return;
    }
}

void build_line(std::string& out, Format format, std::uint8_t facility, Level level,
                const Stamp& when, const HeaderFields& fields, std::string_view message,
                std::uint32_t max_len, bool fd_target) {
    out.clear();
    append_header(out, format, facility, level, when, fields);
    if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
    out.append(message);
    const std::size_t keep = fd_target ? (max_len > 0 ? max_len - 1 : 0) : max_len;
    if (out.size() > keep) out.resize(keep);
    out.push_back('\n');
}

}  // namespace sluice::log
