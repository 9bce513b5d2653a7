// tcp-request rules: `tcp-request connection|session|content accept|reject|silent-drop
// [if|unless COND]`, `tcp-request content set-nice N` (no effect, see nice.hpp) and
// `tcp-request inspect-delay`. Connection and session rules run on a new
// client connection before any stream exists, on what it offers at that point: addresses,
// ports, proxies. Content rules run in the stream on what the client sent (sample::Payload):
// in mode tcp they are evaluated again as bytes arrive, until one decides or the inspect delay
// is over; in mode http once per request, on the parsed request.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "sluice/util/units.hpp"

#include "sluice/sample/acl.hpp"

namespace sluice::rules {

// Reject resets the connection; SilentDrop closes it telling the client nothing (no FIN, and
// no reset where the system allows), so that an attacker's connection stays open on its side.
// Nothing: an action accepted for compatibility that does nothing in Sluice (`content
// set-nice`); the rules go on past it.
enum class TcpVerb : std::uint8_t { Accept, Reject, SilentDrop, Nothing };

struct TcpRule {
    TcpVerb verb = TcpVerb::Accept;
    std::shared_ptr<const sample::Condition> cond;  // null: always
};

// A proxy section's tcp-request rules, in its cfg::Parts.
struct TcpRulesConf {
    std::vector<TcpRule> connection, session, content;
    util::Duration inspect_delay{0};  // how long content rules may wait for more bytes
    bool admits_all() const { return connection.empty() && session.empty(); }
};

// Runs the connection then the session rules; the verb that ends them (Accept when none
// refuses). An `accept` ends its own set only.
TcpVerb admit_connection(const TcpRulesConf& conf, sample::Context& ctx);

enum class ContentVerdict : std::uint8_t { Accept, Reject, SilentDrop, Wait };
// Runs content rules on the context's Payload. Wait: a condition read bytes that are not there
// yet and `final` is false (more may come within the inspect delay): run them again later.
ContentVerdict run_content_rules(std::span<const TcpRule> rules, sample::Context& ctx, bool final);

}  // namespace sluice::rules
