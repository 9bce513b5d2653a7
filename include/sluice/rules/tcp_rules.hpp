// tcp-request rules: `tcp-request connection|session|content ACTION [if|unless COND]` and
// `tcp-request inspect-delay`, and their tcp-response counterparts. Connection and session
// rules run on a new client connection before any stream exists, on what it offers at that
// point: addresses, ports, proxies; their actions (set-var of sess and proc variables, set-src,
// set-dst, set-mark, set-tos...) act on the connection. Content rules run in the stream on
// what the client sent (sample::Payload): in mode tcp they are evaluated again as bytes arrive,
// until one decides or the inspect delay is over; in mode http once per request, on the parsed
// request. Actions that http rules have too are parsed by the action registry (http_rules.hpp).
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "sluice/util/units.hpp"

#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/acl.hpp"

namespace sluice::rules {

// Reject resets the connection; SilentDrop closes it telling the client nothing (no FIN, and
// no reset where the system allows), so that an attacker's connection stays open on its side.
// ExpectProxy (`expect-proxy layer4`, connection rules only) does not end the set: the
// connection must begin with a PROXY protocol header.
// Run: an action such as set-var, set-src or set-tos runs and the rules go on. Close
// (tcp-response only): the server connection ends once what it sent is forwarded. Nothing: an
// action accepted for compatibility that does nothing in Sluice (`content set-nice`); the rules
// go on past it.
enum class TcpVerb : std::uint8_t { Accept, Reject, SilentDrop, ExpectProxy, Run, Close, Nothing };

struct TcpRule {
    TcpVerb verb = TcpVerb::Accept;
    std::shared_ptr<const sample::Condition> cond;  // null: always
    std::shared_ptr<const Action> action;           // Run: set-var, unset-var, capture, ...
};

// A proxy section's tcp-request rules, in its cfg::Parts.
struct TcpRulesConf {
    std::vector<TcpRule> connection, session, content;
    util::Duration inspect_delay{0};  // how long content rules may wait for more bytes
    // `tcp-response content` and `tcp-response inspect-delay` (backend side): the same, on
    // what the server sends.
    std::vector<TcpRule> response;
    util::Duration response_inspect_delay{0};
    // A rule of that set sets a variable of a scope the connection or the stream keeps
    // (sess, txn...): the stores are made before the rules run (for connection and session
    // rules, the connection's store, which its stream takes over). Known at parse time, so
    // nothing is looked for per connection or per read, and others allocate nothing.
    bool connection_sets_vars = false, session_sets_vars = false;
    bool content_sets_vars = false, response_sets_vars = false;
    bool admits_all() const { return connection.empty() && session.empty(); }
};

// What the connection rules decided: the verb that ended them (Accept when none refused), and
// whether a PROXY protocol header must come first.
struct Admission {
    TcpVerb verb = TcpVerb::Accept;
    bool expect_proxy = false;
};
// Runs the connection rules; an `accept` ends them. Their actions act on what `ctx` holds (the
// sample::Connection, the variables).
Admission admit_connection(const TcpRulesConf& conf, sample::Context& ctx);
// Runs the session rules (after any PROXY header): Accept, Reject or SilentDrop.
TcpVerb admit_session(const TcpRulesConf& conf, sample::Context& ctx);

// `tcp-request content capture <expr> len <length>` (act_capture.cpp): `args` from the word
// `capture` up to any condition. Takes a request capture slot in the line's section.
util::Result<std::unique_ptr<const Action>> parse_content_capture(std::span<const std::string> args,
                                                                  cfg::Ctx& ctx,
                                                                  sample::Use available);

enum class ContentVerdict : std::uint8_t { Accept, Reject, SilentDrop, Close, Wait };
// Runs content rules on the context's Payload. Wait: a condition read bytes that are not there
// yet and `final` is false (more may come within the inspect delay): run them again later.
// `log_level`: where a set-log-level rule leaves its level (Outcome::log_level's values).
ContentVerdict run_content_rules(std::span<const TcpRule> rules, sample::Context& ctx, bool final,
                                 std::int8_t& log_level);

}  // namespace sluice::rules
