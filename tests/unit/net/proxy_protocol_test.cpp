// The PROXY protocol header (net/proxy_protocol.hpp): v1 and v2 parsing, with every way a
// header can be incomplete or wrong, and what we write read back by our own parser. Facts from
// the protocol's specification (haproxy-doc's proxy-protocol.txt).
#include "sluice/net/proxy_protocol.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>

namespace sluice::net {
namespace {

std::span<const std::byte> bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string text_of(const Address& a) {
    return a.to_string();
}

Address inet4(const char* ip, std::uint16_t port) {
    Address a;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    inet_pton(AF_INET, ip, &in.sin_addr);
    std::memcpy(&a.storage, &in, sizeof in);
    a.length = sizeof in;
    return a;
}

Address inet6(const char* ip, std::uint16_t port) {
    Address a;
    sockaddr_in6 in{};
    in.sin6_family = AF_INET6;
    in.sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &in.sin6_addr);
    std::memcpy(&a.storage, &in, sizeof in);
    a.length = sizeof in;
    return a;
}

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

TEST(ProxyProtocol, V1Tcp4AndTheBytesAfterIt) {
    const std::string in = "PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\nGET /";
    ProxyHeader h;
    ASSERT_EQ(parse_proxy_header(bytes(in), h), ProxyParse::Done);
    EXPECT_EQ(h.length, in.size() - 5);
    EXPECT_FALSE(h.local);
    EXPECT_EQ(text_of(h.src), "192.168.0.1:56324");
    EXPECT_EQ(text_of(h.dst), "10.0.0.2:443");
}

TEST(ProxyProtocol, V1Tcp6AndUnknown) {
    ProxyHeader h;
    ASSERT_EQ(parse_proxy_header(bytes("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n"), h),
              ProxyParse::Done);
    EXPECT_EQ(text_of(h.src), "[2001:db8::1]:1");
    EXPECT_EQ(text_of(h.dst), "[::1]:65535");
    ASSERT_EQ(parse_proxy_header(bytes("PROXY UNKNOWN\r\n"), h), ProxyParse::Done);
    EXPECT_TRUE(h.local);
    ASSERT_EQ(parse_proxy_header(bytes("PROXY UNKNOWN whatever follows\r\nX"), h),
              ProxyParse::Done);
    EXPECT_TRUE(h.local);
    EXPECT_EQ(h.length, 32u);
}

TEST(ProxyProtocol, V1IncompleteAtEveryLength) {
    const std::string in = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
    for (std::size_t n = 0; n < in.size(); ++n) {
        ProxyHeader h;
        EXPECT_EQ(parse_proxy_header(bytes(in.substr(0, n)), h), ProxyParse::Incomplete) << n;
    }
}

TEST(ProxyProtocol, V1Invalid) {
    for (const char* bad : {
             "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",        // a field missing
             "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",    // one too many
             "PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n",    // not an address
             "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",          // the wrong family
             "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",  // port out of range
             "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",     // leading zero
             "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",     // sign
             "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",     // two spaces
             "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",      // unknown protocol
             "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",        // bare LF
             "GET / HTTP/1.1\r\n",                      // no header at all
             "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",      // case matters
         }) {
        ProxyHeader h;
        std::string why;
        EXPECT_EQ(parse_proxy_header(bytes(bad), h, &why), ProxyParse::Invalid) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
    // No CRLF within 107 bytes.
    ProxyHeader h;
    EXPECT_EQ(parse_proxy_header(bytes("PROXY UNKNOWN " + std::string(100, 'x')), h),
              ProxyParse::Invalid);
}

std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& body) {
    std::string s = kSig;
    s += static_cast<char>(ver_cmd);
    s += static_cast<char>(fam);
    s += static_cast<char>(body.size() >> 8);
    s += static_cast<char>(body.size() & 0xFF);
    return s + body;
}

TEST(ProxyProtocol, V2Tcp4WithTlvsAndIncomplete) {
    std::string addr("\x0a\x00\x00\x01\x0a\x00\x00\x02\x13\x88\x00\x50", 12);
    const std::string in = v2(0x21, 0x11, addr + std::string("\x04\x00\x01x", 4));  // + a TLV
    ProxyHeader h;
    ASSERT_EQ(parse_proxy_header(bytes(in + "rest"), h), ProxyParse::Done);
    EXPECT_EQ(h.length, in.size());
    EXPECT_EQ(text_of(h.src), "10.0.0.1:5000");
    EXPECT_EQ(text_of(h.dst), "10.0.0.2:80");
    for (std::size_t n = 0; n < in.size(); ++n)
        EXPECT_EQ(parse_proxy_header(bytes(in.substr(0, n)), h), ProxyParse::Incomplete) << n;
}

TEST(ProxyProtocol, V2LocalUnspecAndUnix) {
    ProxyHeader h;
    ASSERT_EQ(parse_proxy_header(bytes(v2(0x20, 0x00, "")), h), ProxyParse::Done);
    EXPECT_TRUE(h.local);
    ASSERT_EQ(parse_proxy_header(bytes(v2(0x21, 0x00, "")), h), ProxyParse::Done);
    EXPECT_TRUE(h.local);
    ASSERT_EQ(parse_proxy_header(bytes(v2(0x21, 0x31, std::string(216, '\0'))), h),
              ProxyParse::Done);
    EXPECT_TRUE(h.local);
    // LOCAL with an address block: the block is skipped.
    ASSERT_EQ(parse_proxy_header(bytes(v2(0x20, 0x11, std::string(12, '\1'))), h),
              ProxyParse::Done);
    EXPECT_TRUE(h.local);
}

TEST(ProxyProtocol, V2Invalid) {
    ProxyHeader h;
    EXPECT_EQ(parse_proxy_header(bytes(v2(0x11, 0x11, std::string(12, '\0'))), h),
              ProxyParse::Invalid);  // version 1 in a v2 header
    EXPECT_EQ(parse_proxy_header(bytes(v2(0x22, 0x11, std::string(12, '\0'))), h),
              ProxyParse::Invalid);  // unknown command
    EXPECT_EQ(parse_proxy_header(bytes(v2(0x21, 0x11, std::string(11, '\0'))), h),
              ProxyParse::Invalid);  // address block too short
    EXPECT_EQ(parse_proxy_header(bytes(v2(0x21, 0x41, std::string(12, '\0'))), h),
              ProxyParse::Invalid);  // unknown family
    EXPECT_EQ(parse_proxy_header(bytes(v2(0x21, 0x11, std::string(2000, '\0'))), h),
              ProxyParse::Invalid);  // longer than we accept
}

TEST(ProxyProtocol, WrittenHeadersReadBack) {
    std::array<std::byte, 256> buf;
    for (int version : {1, 2}) {
        for (const auto& [src, dst] : {std::pair{inet4("1.2.3.4", 1000), inet4("5.6.7.8", 80)},
                                       std::pair{inet6("2001:db8::7", 9), inet6("::1", 443)}}) {
            const std::size_t n = write_proxy_header(version, src, dst, buf);
            ProxyHeader h;
            ASSERT_EQ(parse_proxy_header(std::span(buf.data(), n), h), ProxyParse::Done);
            EXPECT_EQ(h.length, n);
            EXPECT_FALSE(h.local);
            EXPECT_EQ(text_of(h.src), text_of(src));
            EXPECT_EQ(text_of(h.dst), text_of(dst));
        }
        // Mixed or unknown families: v1 UNKNOWN, v2 LOCAL.
        const std::size_t n = write_proxy_header(version, inet4("1.2.3.4", 1), Address{}, buf);
        ProxyHeader h;
        ASSERT_EQ(parse_proxy_header(std::span(buf.data(), n), h), ProxyParse::Done);
        EXPECT_TRUE(h.local);
    }
    const std::size_t n = write_proxy_header(1, inet4("1.2.3.4", 1000), inet4("5.6.7.8", 80), buf);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), n),
              "PROXY TCP4 1.2.3.4 5.6.7.8 1000 80\r\n");
}

}  // namespace
}  // namespace sluice::net
