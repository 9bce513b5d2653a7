// What the reader tests share (reader_*_test.cpp): a fixed environment for conditions, the
// reader run on a text, and its diagnostics as the text a user sees. Header-only so that each
// test file stays one translation unit of its own (tests/CMakeLists.txt globs *_test.cpp).
//
// Where a test says "HAProxy 2.6 ...", the behaviour was checked with Debian's haproxy 2.6.12
// (`haproxy -c -f t.cfg`); where sluice departs from it on purpose, the test says so.
#pragma once

#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/document.hpp"
#include "sluice/cfg/reader.hpp"
#include "sluice/net/bind_options.hpp"
#include "sluice/proxy/conf.hpp"

namespace sluice::cfg::reader_test {

using Lines = std::vector<std::string>;
using Ints = std::vector<int>;
inline ConditionEnv test_env() {
    static const std::map<std::string, std::string, std::less<>> vars = {
        {"HOME", "/home/op"}, {"PORT", "8080"}, {"EMPTY", ""}};
    return ConditionEnv{
        .env = [](std::string_view name) -> std::optional<std::string> {
            auto it = vars.find(name);
            if (it == vars.end()) return std::nullopt;
            return it->second;
        },
        .has_feature = [](std::string_view name) { return name == "OPENSSL"; },
        .version = "2.6.12",
    };
}

// format_message() as the tests compare it: HAProxy's shape carries the process id, which is
// replaced by "PID" so that expected texts are constants.
inline std::string shown(const Message& m) {
    std::string text = format_message(m);
    const std::string pid = fmt::format("({})", ::getpid());
    if (const std::size_t at = text.find(pid); at != std::string::npos)
        text.replace(at, pid.size(), "(PID)");
    return text;
}

struct Parsed {
    Document doc;
    Diagnostics diag;

    std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const Message& m : diag.messages())
            out.push_back(shown(m));
        return out;
    }
    const proxy::ProxyConf& proxy(std::size_t i) const {
        return doc.proxies.at(i).parts.read<proxy::ProxyConf>();
    }
    const proxy::ProxyConf& defaults(std::size_t i) const {
        return doc.defaults.at(i).parts.read<proxy::ProxyConf>();
    }
    const proxy::GlobalConf& global() const { return doc.global.read<proxy::GlobalConf>(); }
};

inline Parsed parse(std::string_view text) {
    Parsed p;
    Reader reader(p.doc, p.diag, test_env());
    reader.read_text("t.cfg", text);
    return p;
}

inline std::vector<std::string> messages(std::string_view text) {
    return parse(text).messages();
}

// A small config in the shape every later test varies: no diagnostics at all.
inline constexpr std::string_view kClean = R"(global
    maxconn 1000
    nbthread 2
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:8080
    default_backend be
backend be
    balance roundrobin
    server s1 127.0.0.1:9001 weight 2
    server s2 127.0.0.1:9002
)";

}  // namespace sluice::cfg::reader_test
