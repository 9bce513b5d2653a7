// `show errors`' dump layout and framing error offsets. The expected dumps are HAProxy 2.6.12's
// own output (Debian's haproxy, `show errors` after sending these bytes), copied from a run.
#include "sluice/http/error_capture.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sluice::http {
namespace {

std::string dump(std::string_view bytes) {
    std::string out;
    std::size_t line_start = 0;
    for (std::size_t pos = 0; pos < bytes.size();)
        pos = dump_line(out, bytes, pos, line_start);
    return out;
}

TEST(ErrorCapture, LinesEndAfterTheirLfWithEscapes) {
    EXPECT_EQ(dump("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
              "  00000  GET / HTTP/1.1\\r\\n\n"
              "  00016  Host: x\\r\\n\n"
              "  00025  \\r\\n\n");
}

TEST(ErrorCapture, LongLinesAreCutAtSeventyNineColumns) {
    const std::string line = "X-Long: " + std::string(100, 'a') + "\r\n";
    EXPECT_EQ(dump(line), "  00000  X-Long: " + std::string(62, 'a') + "\n  00070+ " +
                              std::string(38, 'a') + "\\r\\n\n");
}

// An escape is never split: the line stops before one that does not fit whole.
TEST(ErrorCapture, EscapesStayWhole) {
    std::string group = "\t\\\x7f\xff\x1b";
    std::string value;
    for (int i = 0; i < 40; ++i)
        value += group;
    const std::string msg = "X-A: " + value + "\r\n" + std::string("X-\0b: c\r\n", 9);
    const std::string row =
        "\\xFF\\e\\t\\\\\\x7F\\xFF\\e\\t\\\\\\x7F\\xFF\\e\\t\\\\\\x7F\\xFF\\e\\t\\\\"
        "\\x7F\\xFF\\e\\t\\\\\\x7F";
    std::string expected =
        "  00000  X-A: \\t\\\\\\x7F\\xFF\\e\\t\\\\\\x7F\\xFF\\e\\t\\\\\\x7F\\xFF\\e"
        "\\t\\\\\\x7F\\xFF\\e\\t\\\\\\x7F\n";
    for (int off = 28; off <= 178; off += 25)
        expected += fmt::format("  {:05}+ {}\n", off, row);
    expected += "  00203+ \\xFF\\e\\r\\n\n  00207  X-\\x00b: c\\r\\n\n";
    EXPECT_EQ(dump(msg), expected);
    for (std::size_t start = 0, end; (end = expected.find('\n', start)) != expected.npos;
         start = end + 1)
        EXPECT_LE(end - start, 79u);
}

TEST(ErrorCapture, UnfinishedLastLine) {
    EXPECT_EQ(dump("ZZ"), "  00000  ZZ\n");
    EXPECT_EQ(dump("a\nb"), "  00000  a\\n\n  00002  b\n");
}

TEST(ErrorCapture, SnapshotLayout) {
    ErrorSnapshot s;
    s.when_us = 0;
    s.event = 2;
    s.peer_name = "fe";
    s.peer_id = 2;
    s.server_name = "s1";
    s.server_id = 1;
    s.source = "127.0.0.1:34506";
    s.buf_size = 16384;
    s.error_at = 17;
    s.reason = "invalid character in header name (message head)";
    s.bytes = "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n";
    std::string out;
    dump_snapshot(out, s, true, "be", 4);
    const std::string date = error_date(0);
    EXPECT_EQ(out, " \n" + date +
                       " backend be (#4): invalid response\n"
                       "  frontend fe (#2), server s1 (#1), event #2, src 127.0.0.1:34506\n"
                       "  buffer starts at 0 (including 0 out), 16350 free,\n"
                       "  len 34, wraps at 16384, error at position 17\n"
                       "  Sluice H1 parser: invalid character in header name (message head) :\n"
                       "  \n"
                       "  00000  HTTP/1.1 200 OK\\r\\n\n"
                       "  00017  Bad Header: x\\r\\n\n"
                       "  00032  \\r\\n\n");
    out.clear();
    s.peer_name.clear();
    s.server_name.clear();
    s.peer_id = s.server_id = -1;
    dump_snapshot(out, s, false, "fe", 2);
    EXPECT_NE(out.find("frontend fe (#2): invalid request\n"
                       "  backend <NONE> (#-1), server <NONE> (#-1), event #2"),
              std::string::npos);
}

TEST(ErrorCapture, DateHasMilliseconds) {
    const std::string d = error_date(1'700'000'000'123'456);
    ASSERT_EQ(d.size(), 26u);
    EXPECT_EQ(d.front(), '[');
    EXPECT_EQ(d.substr(21), ".123]");
}

TEST(ErrorCapture, FramingOffsetsPointAtTheFieldAtFault) {
    const std::string head =
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n";
    RequestHead req;
    const auto* bytes = reinterpret_cast<const std::byte*>(head.data());
    ASSERT_TRUE(std::holds_alternative<Done>(parse_request_head({bytes, head.size()}, 0, req)));
    // HAProxy 2.6 reports position 61: the second value.
    EXPECT_EQ(
        framing_error_offset(req.headers, FramingError::ContentLengthMismatch, bytes, head.size()),
        61u);
    EXPECT_EQ(framing_error_offset(req.headers, FramingError::ChunkedNotFinal, bytes, head.size()),
              head.size());
    EXPECT_EQ(field_value_offset(req.headers, "host", 1, bytes, head.size()), head.size());
    EXPECT_EQ(field_value_offset(req.headers, "host", 0, bytes, head.size()), 23u);
}

}  // namespace
}  // namespace sluice::http
