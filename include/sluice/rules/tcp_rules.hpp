// tcp-request rules: `tcp-request connection|session|content accept|reject [if|unless COND]`,
// run in that order on a new client connection before any stream exists. What they can read
// is what a connection offers at that point: addresses, ports, proxies (payload inspection
// with `tcp-request inspect-delay` comes later).
#pragma once

#include <memory>
#include <vector>

#include "sluice/sample/acl.hpp"

namespace sluice::rules {

// Reject resets the connection; SilentDrop closes it telling the client nothing (no FIN, and
// no reset where the system allows), so that an attacker's connection stays open on its side.
enum class TcpVerb : std::uint8_t { Accept, Reject, SilentDrop };

struct TcpRule {
    TcpVerb verb = TcpVerb::Accept;
    std::shared_ptr<const sample::Condition> cond;  // null: always
};

// A proxy section's tcp-request rules, in its cfg::Parts.
struct TcpRulesConf {
    std::vector<TcpRule> connection, session, content;
    bool empty() const { return connection.empty() && session.empty() && content.empty(); }
};

// Runs the rule sets in order; the verb that ends them (Accept when none refuses). An
// `accept` ends its own set only.
TcpVerb admit_connection(const TcpRulesConf& conf, sample::Context& ctx);

}  // namespace sluice::rules
