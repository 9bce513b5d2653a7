// Keywords and options of features that later issues build. Each is an alert naming what brings
// it, so a user's existing haproxy.cfg fails `-c` with a clear list instead of half-working.
// When a feature lands, its module registers the real keyword and the line here goes (a keyword
// registered twice aborts start-up, so a forgotten line is noticed at once).
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/options.hpp"

namespace sluice::cfg {
namespace {

constexpr std::string_view kStats = "the runtime API and stats (issue #7)";
constexpr std::string_view kTls = "TLS (roadmap item 7)";
constexpr std::string_view kMaster = "master-worker mode (roadmap item 8)";
constexpr std::string_view kStick = "stick tables and persistence (roadmap item 9)";
constexpr std::string_view kH2 = "HTTP/2 (roadmap item 10)";
constexpr std::string_view kComp = "compression and cache (roadmap item 11)";
constexpr std::string_view kDns = "DNS resolvers (roadmap item 12)";
constexpr std::string_view kLua = "Lua scripting (roadmap item 13)";
constexpr std::string_view kSocks = "SOCKS4 server connections (not planned yet)";

constexpr In G = In::Global;
constexpr In P = kAnyProxy;
constexpr In FE = kFrontendSide;
constexpr In BE = kBackendSide;

constexpr Keyword kPending[] = {
    // global
    pending("master-worker", G, kMaster),
    pending("mworker-max-reloads", G, kMaster),
    pending("lua-load", G, kLua),
    pending("lua-prepend-path", G, kLua),
    pending("ssl-default-bind-ciphers", G, kTls),
    pending("ssl-default-bind-ciphersuites", G, kTls),
    pending("ssl-default-bind-options", G, kTls),
    pending("ssl-default-bind-curves", G, kTls),
    pending("ssl-default-server-ciphers", G, kTls),
    pending("ssl-default-server-ciphersuites", G, kTls),
    pending("ssl-default-server-options", G, kTls),
    pending("ssl-server-verify", G, kTls),
    pending("ssl-dh-param-file", G, kTls),
    pending("crt-base", G, kTls),
    pending("ca-base", G, kTls),
    pending("tune.ssl.default-dh-param", G, kTls),
    pending("tune.ssl.cachesize", G, kTls),
    pending("tune.ssl.lifetime", G, kTls),
    pending("tune.h2.max-concurrent-streams", G, kH2),
    pending("tune.h2.initial-window-size", G, kH2),
    pending("tune.comp.maxlevel", G, kComp),
    // proxies: rules and switching
    // proxies: checks and algorithms
    pending("option contstats", P, kStats),
    // proxies: persistence, compression, misc
    pending("stick-table", FE | BE, kStick),
    pending("stick", BE, kStick),
    pending("cookie", BE, kStick),
    pending("persist", BE, kStick),
    pending("compression", P, kComp),
    pending("filter", FE | BE, kComp),
};
const Registrar kPendingRegistered{kPending};

constexpr Option kPendingOptions[] = {
    // bind
    {.of = OptionOf::Bind, .name = "ssl", .pending = kTls},
    {.of = OptionOf::Bind, .name = "crt", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "crt-list", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "ca-file", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "verify", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "alpn", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "npn", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "ciphers", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "ciphersuites", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "ssl-min-ver", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "ssl-max-ver", .args = 1, .pending = kTls},
    {.of = OptionOf::Bind, .name = "strict-sni", .pending = kTls},
    {.of = OptionOf::Bind, .name = "no-tls-tickets", .pending = kTls},
    {.of = OptionOf::Bind, .name = "proto", .args = 1, .pending = kH2},
    {.of = OptionOf::Bind, .name = "expose-fd", .args = 1, .pending = kMaster},
    // server
    {.of = OptionOf::Server, .name = "ssl", .pending = kTls},
    {.of = OptionOf::Server, .name = "verify", .args = 1, .pending = kTls},
    {.of = OptionOf::Server, .name = "sni", .args = 1, .pending = kTls},
    {.of = OptionOf::Server, .name = "ca-file", .args = 1, .pending = kTls},
    {.of = OptionOf::Server, .name = "crt", .args = 1, .pending = kTls},
    {.of = OptionOf::Server, .name = "alpn", .args = 1, .pending = kTls},
    {.of = OptionOf::Server, .name = "cookie", .args = 1, .pending = kStick},
    {.of = OptionOf::Server, .name = "socks4", .args = 1, .pending = kSocks},
    {.of = OptionOf::Server, .name = "resolvers", .args = 1, .pending = kDns},
    {.of = OptionOf::Server, .name = "init-addr", .args = 1, .pending = kDns},
    {.of = OptionOf::Server, .name = "proto", .args = 1, .pending = kH2},
};
const OptionRegistrar kPendingOptionsRegistered{kPendingOptions};

}  // namespace
}  // namespace sluice::cfg
