// Fuzzes the whole config path short of sockets: arbitrary text through cfg::Reader::read_text
// (tokenizer, conditional blocks, sections, every registered keyword and option), then
// proxy::build (names, routes, binds, timeouts, threads, CPU maps), then lb::install.
// A `bind`, `server`, `mailer` or `log` address with a host name would go to getaddrinfo (DNS), so
// an input with such a line is skipped: lines are tokenized as the reader does and the address word
// must be numeric (or a prefix the parser handles without lookup: unix@, abns@, fd@, a path).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "numeric_address.hpp"
#include "sluice/cfg/reader.hpp"
#include "sluice/lb/algorithm.hpp"
#include "sluice/proxy/runtime.hpp"

namespace {

std::optional<std::string> fake_lookup(std::string_view name) {
    if (name == "HOME") return "/home/op";
    if (name == "PORT") return "8080";
    if (name == "ADDR") return "127.0.0.1:80";
    if (name == "EMPTY") return "";
    if (name == "LIST") return " a b\t c ";
    return std::nullopt;
}

bool fake_feature(std::string_view name) {
    return name == "OPENSSL" || name == "LINUX_SPLICE";
}

// A `log` target: the udp prefixes are stripped before the address is resolved.
bool numeric_log_target(std::string_view t) {
    if (t == "global" || t == "stdout" || t == "stderr") return true;
    if (t.starts_with("udp@")) return sluice::fuzz::numeric_address(t.substr(4));
    if (t.starts_with("udp4@") || t.starts_with("udp6@"))
        return sluice::fuzz::numeric_address(std::string(t[3] == '4' ? "ipv4@" : "ipv6@") +
                                             std::string(t.substr(5)));
    return sluice::fuzz::numeric_address(t);
}

// Whether no line of `input` would make the reader resolve a host name.
bool resolves_nothing(std::string_view input, const sluice::cfg::EnvLookup& env) {
    while (!input.empty()) {
        const std::size_t eol = input.find('\n');
        std::string_view line = input.substr(0, eol);
        input = eol == std::string_view::npos ? std::string_view{} : input.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto tokens = sluice::cfg::tokenize_line(line, env);
        if (!tokens.ok()) continue;
        const auto& w = tokens->words;
        if (w.size() >= 2 && w[0] == "bind" && !sluice::fuzz::numeric_address(w[1])) return false;
        if (w.size() >= 3 && (w[0] == "server" || w[0] == "mailer") &&
            !sluice::fuzz::numeric_address(w[2]))
            return false;
        if (w.size() >= 2 && w[0] == "log" && !numeric_log_target(w[1])) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace sluice;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const cfg::EnvLookup env = fake_lookup;
    if (!resolves_nothing(input, env)) return 0;

    cfg::Document doc;
    cfg::Diagnostics diag;
    cfg::Reader reader(doc, diag, {.env = env, .has_feature = fake_feature, .version = "2.6.12"});
    reader.read_text("fuzz.cfg", input);
    for (const cfg::Message& m : diag.messages())
        (void)cfg::format_message(m);

    // As main() does: build only a config the reader accepted.
    if (diag.has_alerts()) return 0;
    auto config = proxy::build(
        std::move(doc), diag,
        {.global_maxconn = size % 3 == 0 ? 0u : 1000u, .proxy_maxconn = size % 5 == 0 ? 100u : 0u});
    for (const cfg::Message& m : diag.messages())
        (void)cfg::format_message(m);
    if (!config) return 0;
    if (config->nbthread == 0 || config->cpu_sets.size() != config->nbthread) __builtin_trap();
    lb::install(*config);
    for (auto& be : config->backends) {
        // One pick per backend exercises the schedule built from the parsed weights.
        if (!be->has_balancer()) continue;
        proxy::Pick p = be->balancer().pick(nullptr);
        if (p.server) p.server->release();
    }
    return 0;
}
