// Addresses as HAProxy's config spells them, on `bind` and `server` lines: every notation of
// address.hpp, the errors, and to_string() round trips. No DNS: only numeric addresses and
// "localhost" (resolved from /etc/hosts).
//
// Where a test says "HAProxy 2.6 ...", it was checked with Debian's haproxy 2.6.12
// (`haproxy -c -f t.cfg`).
#include "sluice/net/address.hpp"

#include <netinet/in.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace sluice::net {
namespace {

using Texts = std::vector<std::string>;

std::vector<Endpoint> bind_ok(std::string_view text) {
    auto r = parse_bind_address(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
    if (!r.ok()) return {};
    return *r;
}

std::string bind_error(std::string_view text) {
    auto r = parse_bind_address(text);
    if (r.ok()) {
        ADD_FAILURE() << "expected an error for " << text;
        return {};
    }
    return r.error();
}

// The one endpoint `text` gives, printed.
std::string bind_one(std::string_view text) {
    const std::vector<Endpoint> eps = bind_ok(text);
    if (eps.size() != 1) {
        ADD_FAILURE() << text << " gave " << eps.size() << " endpoints";
        return {};
    }
    return eps[0].address.to_string();
}

Texts printed(const std::vector<Endpoint>& eps) {
    Texts out;
    for (const Endpoint& e : eps)
        out.push_back(e.inherited_fd >= 0 ? "fd@" + std::to_string(e.inherited_fd)
                                          : e.address.to_string());
    return out;
}

ServerAddress server_ok(std::string_view text) {
    auto r = parse_server_address(text);
    EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error());
    if (!r.ok()) return {};
    return *r;
}

std::string server_error(std::string_view text) {
    auto r = parse_server_address(text);
    if (r.ok()) {
        ADD_FAILURE() << "expected an error for " << text;
        return {};
    }
    return r.error();
}

// --- bind: IPv4 and IPv6 -----------------------------------------------------------------------

TEST(BindAddress, WildcardForms) {
    EXPECT_EQ(bind_one("*:80"), "0.0.0.0:80");
    EXPECT_EQ(bind_one(":80"), "0.0.0.0:80");
    EXPECT_EQ(bind_one("0.0.0.0:80"), "0.0.0.0:80");
    EXPECT_EQ(bind_one("[::]:80"), "[::]:80");
    EXPECT_EQ(bind_one(":::80"), "[::]:80");  // the last colon separates the port
    EXPECT_EQ(bind_one("ipv4@:80"), "0.0.0.0:80");
    EXPECT_EQ(bind_one("ipv6@:80"), "[::]:80");
    EXPECT_EQ(bind_one("ipv6@*:80"), "[::]:80");
}

TEST(BindAddress, NumericAddresses) {
    EXPECT_EQ(bind_one("127.0.0.1:8080"), "127.0.0.1:8080");
    EXPECT_EQ(bind_one("[::1]:443"), "[::1]:443");
    EXPECT_EQ(bind_one("::1:443"), "[::1]:443");
    EXPECT_EQ(bind_one("[2001:db8::7]:1"), "[2001:db8::7]:1");
    EXPECT_EQ(bind_one("ipv4@10.0.0.1:65535"), "10.0.0.1:65535");
    EXPECT_EQ(bind_one("ipv6@[fe80::1]:80"), "[fe80::1]:80");
}

TEST(BindAddress, FamiliesAndLengths) {
    const auto v4 = bind_ok("127.0.0.1:80");
    ASSERT_EQ(v4.size(), 1u);
    EXPECT_EQ(v4[0].address.family(), AF_INET);
    EXPECT_EQ(v4[0].address.length, sizeof(sockaddr_in));
    EXPECT_EQ(v4[0].address.port(), 80);
    EXPECT_EQ(v4[0].inherited_fd, -1);
    EXPECT_EQ(v4[0].text, "127.0.0.1:80");
    const auto v6 = bind_ok("[::1]:80");
    ASSERT_EQ(v6.size(), 1u);
    EXPECT_EQ(v6[0].address.family(), AF_INET6);
    EXPECT_EQ(v6[0].address.length, sizeof(sockaddr_in6));
}

TEST(BindAddress, LocalhostIsResolved) {
    const auto eps = bind_ok("localhost:8080");
    ASSERT_EQ(eps.size(), 1u);
    const int family = eps[0].address.family();
    EXPECT_TRUE(family == AF_INET || family == AF_INET6) << family;
    EXPECT_EQ(eps[0].address.port(), 8080);
    const std::string text = eps[0].address.to_string();
    EXPECT_TRUE(text == "127.0.0.1:8080" || text == "[::1]:8080") << text;
}

// --- bind: ranges and lists --------------------------------------------------------------------

TEST(BindAddress, PortRangeGivesOneEndpointPerPort) {
    const auto eps = bind_ok("127.0.0.1:8000-8002");
    EXPECT_EQ(printed(eps), (Texts{"127.0.0.1:8000", "127.0.0.1:8001", "127.0.0.1:8002"}));
    for (const Endpoint& e : eps)
        EXPECT_EQ(e.text, "127.0.0.1:8000-8002");  // messages quote the line as written
    EXPECT_EQ(printed(bind_ok(":80-80")), (Texts{"0.0.0.0:80"}));
    EXPECT_EQ(printed(bind_ok("[::1]:1-2")), (Texts{"[::1]:1", "[::1]:2"}));
}

TEST(BindAddress, RangeUpToTheLastPortStops) {
    EXPECT_EQ(printed(bind_ok(":65534-65535")), (Texts{"0.0.0.0:65534", "0.0.0.0:65535"}));
}

TEST(BindAddress, CommaListMixesNotations) {
    const auto eps = bind_ok("127.0.0.1:80,[::1]:81-82,unix@/run/a.sock,fd@4");
    EXPECT_EQ(printed(eps),
              (Texts{"127.0.0.1:80", "[::1]:81", "[::1]:82", "unix@/run/a.sock", "fd@4"}));
    ASSERT_EQ(eps.size(), 5u);
    EXPECT_EQ(eps[0].text, "127.0.0.1:80");
    EXPECT_EQ(eps[1].text, "[::1]:81-82");
}

TEST(BindAddress, ErrorInAnyListItemFailsTheWhole) {
    EXPECT_EQ(bind_error("127.0.0.1:80,127.0.0.1"),
              "missing port in '127.0.0.1' (expected [address]:port)");
    EXPECT_EQ(bind_error("127.0.0.1:80,"), "missing port in '' (expected [address]:port)");
}

// --- bind: UNIX sockets and inherited descriptors ----------------------------------------------

TEST(BindAddress, UnixSocketPath) {
    for (std::string_view text : {"unix@/run/sluice.sock", "/run/sluice.sock"}) {
        const auto eps = bind_ok(text);
        ASSERT_EQ(eps.size(), 1u) << text;
        const Address& a = eps[0].address;
        EXPECT_EQ(a.family(), AF_UNIX);
        EXPECT_EQ(a.to_string(), "unix@/run/sluice.sock");
        EXPECT_EQ(a.length,
                  offsetof(sockaddr_un, sun_path) + std::string("/run/sluice.sock").size() + 1);
        EXPECT_EQ(a.port(), 0);
    }
}

TEST(BindAddress, AbstractNamespaceSocket) {
    const auto eps = bind_ok("abns@sluice-test");
    ASSERT_EQ(eps.size(), 1u);
    const Address& a = eps[0].address;
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(reinterpret_cast<const sockaddr_un*>(&a.storage)->sun_path[0], '\0');
    // No trailing NUL: the abstract name is exactly the bytes given.
    EXPECT_EQ(a.length, offsetof(sockaddr_un, sun_path) + 1 + std::string("sluice-test").size());
    EXPECT_EQ(a.to_string(), "abns@sluice-test");
}

TEST(BindAddress, UnixPathLength) {
    const std::string longest(sizeof(sockaddr_un::sun_path) - 1, 'p');
    EXPECT_EQ(bind_one("unix@" + longest), "unix@" + longest);
    const std::string too_long(sizeof(sockaddr_un::sun_path), 'p');
    EXPECT_EQ(bind_error("unix@" + too_long), "invalid UNIX socket path '" + too_long + "'");
    // The abstract name loses one byte to the leading NUL.
    EXPECT_EQ(bind_error("abns@" + longest), "invalid UNIX socket path '" + longest + "'");
    EXPECT_EQ(bind_error("unix@"), "invalid UNIX socket path ''");
    EXPECT_EQ(bind_error("abns@"), "invalid UNIX socket path ''");
}

TEST(BindAddress, InheritedFileDescriptor) {
    const auto eps = bind_ok("fd@3");
    ASSERT_EQ(eps.size(), 1u);
    EXPECT_EQ(eps[0].inherited_fd, 3);
    EXPECT_EQ(eps[0].text, "fd@3");
    EXPECT_EQ(bind_ok("fd@0").at(0).inherited_fd, 0);
    EXPECT_EQ(bind_error("fd@x"), "invalid file descriptor in 'fd@x'");
    EXPECT_EQ(bind_error("fd@"), "invalid file descriptor in 'fd@'");
    EXPECT_EQ(bind_error("fd@-1"), "invalid file descriptor in 'fd@-1'");
    EXPECT_EQ(bind_error("fd@3x"), "invalid file descriptor in 'fd@3x'");
}

// --- bind: errors ------------------------------------------------------------------------------

TEST(BindAddress, MissingPort) {
    // HAProxy 2.6: "missing port specification in '127.0.0.1'".
    EXPECT_EQ(bind_error("127.0.0.1"), "missing port in '127.0.0.1' (expected [address]:port)");
    EXPECT_EQ(bind_error("[::1]"), "missing port in '[::1]' (expected [address]:port)");
    EXPECT_EQ(bind_error("127.0.0.1:"), "missing port in '127.0.0.1:' (expected [address]:port)");
    EXPECT_EQ(bind_error(""), "missing port in '' (expected [address]:port)");
}

TEST(BindAddress, MalformedBrackets) {
    // HAProxy 2.6 refuses both (an unclosed '[' and anything but ':' after ']').
    EXPECT_EQ(bind_error("[::1"), "missing ']' in '[::1'");
    EXPECT_EQ(bind_error("[::1]80"), "expected ':' after ']' in '[::1]80'");
    EXPECT_EQ(bind_error("ipv6@[::1]x:80"), "expected ':' after ']' in '[::1]x:80'");
}

TEST(BindAddress, InvalidPorts) {
    EXPECT_EQ(bind_error(":65536"), "invalid port '65536'");
    EXPECT_EQ(bind_error(":99999"), "invalid port '99999'");
    EXPECT_EQ(bind_error(":http"), "invalid port 'http'");
    EXPECT_EQ(bind_error(":8o"), "invalid port '8o'");
    EXPECT_EQ(bind_error(":+80"), "invalid port '+80'");
    EXPECT_EQ(bind_error(":90-80"), "invalid port range '90-80'");
    EXPECT_EQ(bind_error(":80-"), "invalid port ''");
    EXPECT_EQ(bind_error(":-80"), "invalid port ''");
    EXPECT_EQ(bind_error(":80-x"), "invalid port 'x'");
}

TEST(BindAddress, PortZeroIsRejected) {
    // Port 0 would listen on a port the kernel picks; HAProxy 2.6 alerts "invalid port '0'".
    EXPECT_EQ(bind_error(":0"), "invalid port '0' in ':0'");
    EXPECT_EQ(bind_error("127.0.0.1:0-2"), "invalid port '0' in '127.0.0.1:0-2'");
    EXPECT_EQ(bind_one("127.0.0.1:1"), "127.0.0.1:1");  // the lowest valid port
}

TEST(BindAddress, UnknownFamilyPrefix) {
    EXPECT_EQ(bind_error("foo@1.2.3.4:80"),
              "unsupported address family 'foo@' in 'foo@1.2.3.4:80'");
    EXPECT_EQ(bind_error("sockpair@3"), "unsupported address family 'sockpair@' in 'sockpair@3'");
    EXPECT_EQ(bind_error("udp@:53"), "unsupported address family 'udp@' in 'udp@:53'");
}

// --- server addresses --------------------------------------------------------------------------

TEST(ServerAddressParse, AddressAndPort) {
    const ServerAddress s = server_ok("10.1.2.3:8080");
    EXPECT_TRUE(s.has_port);
    EXPECT_FALSE(s.port_is_offset);
    EXPECT_EQ(s.address.to_string(), "10.1.2.3:8080");
    EXPECT_EQ(server_ok("[::1]:80").address.to_string(), "[::1]:80");
    EXPECT_EQ(server_ok("ipv4@127.0.0.1:80").address.to_string(), "127.0.0.1:80");
    EXPECT_EQ(server_ok("ipv6@[::1]:80").address.to_string(), "[::1]:80");
    EXPECT_EQ(server_ok(":::80").address.to_string(), "[::]:80");
    EXPECT_EQ(server_ok("127.0.0.1:0").address.to_string(), "127.0.0.1:0");  // HAProxy too
}

TEST(ServerAddressParse, WithoutPortUsesTheClientsDestinationPort) {
    // An IPv6 address without port needs brackets: unbracketed, its last colon starts the port
    // (see UnbracketedIpv6TakesTheLastColonAsPortLikeHaproxy).
    for (std::string_view text : {"10.1.2.3", "[::1]", "[2001:db8::1]", "ipv6@[::1]"}) {
        const ServerAddress s = server_ok(text);
        EXPECT_FALSE(s.has_port) << text;
        EXPECT_FALSE(s.port_is_offset) << text;
        EXPECT_EQ(s.address.port(), 0) << text;
    }
    EXPECT_EQ(server_ok("[2001:db8::1]").address.to_string(), "[2001:db8::1]:0");
}

TEST(ServerAddressParse, PortOffsets) {
    const ServerAddress plus = server_ok("10.1.2.3:+10");
    EXPECT_FALSE(plus.has_port);
    EXPECT_TRUE(plus.port_is_offset);
    EXPECT_EQ(plus.port_offset, 10);
    const ServerAddress minus = server_ok("[::1]:-1000");
    EXPECT_TRUE(minus.port_is_offset);
    EXPECT_EQ(minus.port_offset, -1000);
    EXPECT_EQ(server_error("10.1.2.3:+x"), "invalid port 'x'");
    EXPECT_EQ(server_error("10.1.2.3:-"), "invalid port ''");
    EXPECT_EQ(server_error("10.1.2.3:+70000"), "invalid port '70000'");
}

TEST(ServerAddressParse, UnixSockets) {
    for (std::string_view text : {"unix@/run/app.sock", "/run/app.sock"}) {
        const ServerAddress s = server_ok(text);
        EXPECT_TRUE(s.has_port) << text;  // nothing to complete from the client
        EXPECT_EQ(s.address.to_string(), "unix@/run/app.sock");
    }
    EXPECT_EQ(server_ok("abns@app").address.to_string(), "abns@app");
    EXPECT_EQ(server_error("unix@"), "invalid UNIX socket path ''");
}

TEST(ServerAddressParse, LocalhostIsResolved) {
    const ServerAddress s = server_ok("localhost:9000");
    EXPECT_TRUE(s.has_port);
    const std::string text = s.address.to_string();
    EXPECT_TRUE(text == "127.0.0.1:9000" || text == "[::1]:9000") << text;
}

TEST(ServerAddressParse, Errors) {
    EXPECT_EQ(server_error("foo@1.2.3.4:80"), "unsupported address family in 'foo@1.2.3.4:80'");
    EXPECT_EQ(server_error("fd@3"), "unsupported address family in 'fd@3'");
    EXPECT_EQ(server_error(":80"), "missing address in ':80'");
    EXPECT_EQ(server_error(""), "missing address in ''");
    EXPECT_EQ(server_error("1.2.3.4:99999"), "invalid port '99999'");
    EXPECT_EQ(server_error("1.2.3.4:http"), "invalid port 'http'");
}

TEST(ServerAddressParse, UnbracketedIpv6TakesTheLastColonAsPortLikeHaproxy) {
    // HAProxy 2.6 splits at the last colon: 2001:db8::1 port 80. (`server s ::1` is then host
    // ':' port 1, a name lookup that fails; not tested here, a unit test does no DNS.)
    const ServerAddress s = server_ok("2001:db8::1:80");
    EXPECT_TRUE(s.has_port);
    EXPECT_EQ(s.address.to_string(), "[2001:db8::1]:80");
    EXPECT_EQ(server_ok("::ffff:10.0.0.1:8080").address.to_string(), "[::ffff:10.0.0.1]:8080");
}

TEST(ServerAddressParse, TrailingJunkAfterBracketIsAnError) {
    // Refused before any name lookup: `[::1]80` is not ::1 without port, `[::1` is no name.
    EXPECT_EQ(server_error("[::1]80"), "expected ':' after ']' in '[::1]80'");
    EXPECT_EQ(server_error("[::1"), "missing ']' in '[::1'");
    EXPECT_EQ(server_error("ipv6@[::1"), "missing ']' in '[::1'");
}

// --- Address ----------------------------------------------------------------------------------

TEST(AddressValue, SetPortAndRoundTrips) {
    for (std::string_view text : {"127.0.0.1:80", "[::1]:443", "[2001:db8::1]:65535", "0.0.0.0:1",
                                  "[::ffff:10.0.0.1]:8080"}) {
        const auto eps = bind_ok(text);
        ASSERT_EQ(eps.size(), 1u) << text;
        EXPECT_EQ(eps[0].address.to_string(), text);
        // Printing then parsing again gives the same bytes.
        const auto again = bind_ok(eps[0].address.to_string());
        ASSERT_EQ(again.size(), 1u);
        EXPECT_EQ(again[0].address.length, eps[0].address.length);
        EXPECT_EQ(
            std::memcmp(&again[0].address.storage, &eps[0].address.storage, eps[0].address.length),
            0)
            << text;
    }
    Address a = bind_ok("10.0.0.1:1").at(0).address;
    a.set_port(65535);
    EXPECT_EQ(a.to_string(), "10.0.0.1:65535");
    Address u = bind_ok("unix@/x").at(0).address;
    u.set_port(80);  // no port on a UNIX socket: unchanged
    EXPECT_EQ(u.to_string(), "unix@/x");
    EXPECT_EQ(u.port(), 0);
    EXPECT_EQ(Address{}.to_string(), "?");
    EXPECT_EQ(Address{}.port(), 0);
}

// --- networks (option forwardfor except) ---

TEST(Network, CidrDottedMaskAndHostForms) {
    auto addr = [](std::string_view text) { return server_ok(text).address; };
    auto net = [](std::string_view text) {
        auto n = parse_network(text);
        EXPECT_TRUE(n) << text;
        return *n;
    };
    EXPECT_TRUE(net("10.0.0.0/8").contains(addr("10.1.2.3:80")));
    EXPECT_FALSE(net("10.0.0.0/8").contains(addr("11.1.2.3:80")));
    EXPECT_TRUE(net("192.168.1.0/255.255.255.0").contains(addr("192.168.1.77:1")));
    EXPECT_FALSE(net("192.168.1.0/255.255.255.0").contains(addr("192.168.2.77:1")));
    EXPECT_TRUE(net("127.0.0.1").contains(addr("127.0.0.1:5")));
    EXPECT_FALSE(net("127.0.0.1").contains(addr("127.0.0.2:5")));
    EXPECT_TRUE(net("10.0.0.0/0").contains(addr("1.2.3.4:5")));
    EXPECT_TRUE(net("10.0.0.0/12").contains(addr("10.15.255.255:5")));
    EXPECT_FALSE(net("10.0.0.0/12").contains(addr("10.16.0.0:5")));
    EXPECT_TRUE(net("::1").contains(addr("[::1]:80")));
    EXPECT_TRUE(net("2001:db8::/32").contains(addr("[2001:db8:1::5]:80")));
    EXPECT_FALSE(net("2001:db8::/32").contains(addr("[2001:db9::5]:80")));
    // An IPv4 client seen through a dual-stack socket matches IPv4 networks.
    EXPECT_TRUE(net("127.0.0.0/8").contains(addr("[::ffff:127.0.0.9]:80")));
    EXPECT_FALSE(net("::1").contains(addr("127.0.0.1:80")));
}

TEST(Network, BadNetworksAreErrorsNamingThem) {
    EXPECT_EQ(parse_network("10.0.0/8").error(), "invalid network address '10.0.0/8'");
    EXPECT_EQ(parse_network("10.0.0.0/33").error(), "invalid network prefix in '10.0.0.0/33'");
    EXPECT_EQ(parse_network("10.0.0.0/255.0.255.0").error(),
              "non-contiguous network mask in '10.0.0.0/255.0.255.0'");
    EXPECT_EQ(parse_network("::/129").error(), "invalid network prefix in '::/129'");
}

}  // namespace
}  // namespace sluice::net
