// http-request / http-response / http-after-response rules: an action and an optional
// condition per line, run in order on a parsed head. Actions edit the head in place (its views
// then point into the transaction's Arena), set variables, build interim responses (103 Early
// Hints) for the stream to send, or end the rule set with a verdict: allow, deny, return,
// redirect, or wait for the request body. Each action registers its keyword in a table next to
// its code (act_*.cpp); the rule keywords themselves are in http_rules.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/keyword.hpp"
#include "sluice/http/error_pages.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/util/units.hpp"

namespace sluice::rules {

enum class RuleSet : std::uint8_t { Request, Response, AfterResponse };

// What running a rule set decided.
enum class Verdict : std::uint8_t {
    Continue,  // every rule ran (or none applied): go on
    Allow,     // `allow`: stop this rule set, go on
    Reply,     // answer with Outcome::reply (deny, return, redirect) and skip the server
    Drop,      // close the client connection without a word (reject, silent-drop)
    WaitBody,  // the request body must be in first: run the rules again then (RulesTrail)
};

// Whether a verdict ends the transaction instead of letting it go on to (or from) the server.
constexpr bool ends_transaction(Verdict v) {
    return v == Verdict::Reply || v == Verdict::Drop;
}

// The response an action answers with: a complete head (status line and header lines, each
// ending in CRLF, no Connection header, no final empty line) and a body, like an error page.
struct Outcome {
    Verdict verdict = Verdict::Continue;
    std::uint16_t status = 0;
    http::ErrorPage reply;  // empty head: use `page`, else the proxy's error page for `status`
    // A page of the rule's own (errorfile, errorfiles, a content without log-format), which
    // lives as long as the config.
    const http::ErrorPage* page = nullptr;
    bool close = false;   // the connection closes after the reply (deny does, as HAProxy)
    bool tarpit = false;  // Reply: hold it for `timeout tarpit` first
    bool denied = false;  // Reply: deny or tarpit (the stats count it as denied)
    bool silent = false;  // Drop: not even a reset reaches the client (silent-drop)
    // `set-timeout server|tunnel`: this transaction's own (zero: the backend's).
    util::Duration server_timeout{0}, tunnel_timeout{0};
    // `disable-l7-retry`: only a connection failure may send the request again (retry-on).
    bool no_l7_retry = false;
    // `set-log-level`: the level of this transaction's log line (syslog's 0-7), kSilentLog for
    // none; -1: unchanged.
    static constexpr std::int8_t kSilentLog = 8;
    std::int8_t log_level = -1;
    // The frontend's request rules (or monitor-uri) decided, before any backend was chosen: the
    // page for `status` is the frontend's, as in HAProxy, even if a default backend has one.
    bool frontend = false;
    // With the proxy's page: its `challenge_header` fields replaced by one carrying
    // `challenge` (http-request auth's `www-authenticate: Basic realm="..."`). Views into the
    // action, which lives as long as the config.
    std::string_view challenge_header;
    std::string_view challenge;
    // WaitBody from wait-for-body: how long the wait may last, from its start (0: no limit of
    // its own). The rule does not see the clock; the stream ends an expired wait (HAProxy 2.6
    // answers 408 then).
    util::Duration wait{0};
    // Reply from `use-service`: the service builds the response (service.hpp).
    const class Service* service = nullptr;
};

// The body of the message the rules run on, as far as it has arrived, for wait-for-body; set by
// the stream on request and response rules. Views into the sender's buffer, valid while the
// rules run.
struct MessageBody {
    std::span<const std::byte> bytes;  // after the head, as received (chunk framing and all)
    const http::Framing* framing = nullptr;
    http::ParseOptions opts;
    bool cannot_grow = false;  // the buffer is full, or the sender stopped sending
};

// A rule set may stop before its end to wait for the body (wait-for-body, or the chosen
// backend's option http-buffer-request) and go on once more of it has arrived. Bytes arriving
// may move the buffer under the parsed head's views, so the stream parses the head again and
// runs the rules from the start: the trail makes that run retrace the stopped one.
// Each rule met records whether it applied. Up to the stop, the next run takes the same
// decisions without evaluating conditions again (one reading the body, the date or `rand`
// could now decide otherwise), and runs those actions with RuleCtx::retracing set: head edits,
// lost with the old parse, are made again, while effects that outlive the head (a 103 already
// sent, a session variable already set, any variable a response rule set, a wait already
// over) are not repeated. The rule that
// stopped the set runs again as itself, its condition taken as still holding, as HAProxy
// resumes a yielding action. Owned by the stream; run_rules reads and extends it.
struct RulesTrail {
    std::string* path = nullptr;  // '1' applied, '0' skipped, for each rule met in order
    std::size_t retrace = 0;      // how many of `path` this run replays
    bool resume = false;          // the rule after those stopped the set and runs again
    std::size_t at = 0;           // rules met so far in this run
    // The run stopped at the rule met last (its decision is dropped, `resume` says it).
    void stopped_at_rule();
    // The run stopped after the last rule met (between two rule sets).
    void stopped_between();
};

// What an action works on.
struct RuleCtx {
    sample::Context& samples;
    http::RequestHead* req = nullptr;   // request rules: editable
    http::ResponseHead* res = nullptr;  // response rules: editable
    Outcome& outcome;
    // `strict-mode on|off`: whether a failed rewrite answers 500 (HAProxy's default) or is
    // ignored; back to on for each rule set.
    bool strict = true;
    const MessageBody* body = nullptr;  // the message's body (http-request, http-response)
    RulesTrail* trail = nullptr;        // see RulesTrail
    bool retracing = false;             // the running rule already ran before a stop
    // 103 Early Hints responses built by early-hint rules, for the stream to send before any
    // other response: null until one is. `hint_open`: the last one still takes fields (the
    // run of early-hint rules goes on).
    std::string* hints = nullptr;
    bool hint_open = false;
    // Stable storage for edited values: the head's views may point here until it is sent (the
    // stream resets the arena only once the head is out).
    std::string_view keep(std::string_view value) {
        std::string& s = samples.arena().take();
        s.assign(value);
        return s;
    }
};

class Action {
  public:
    virtual ~Action() = default;
    // Runs the action; false ends the rule set (the verdict is in ctx.outcome).
    virtual bool run(RuleCtx& ctx) const = 0;
    // Whether, met right after an early-hint rule and without a condition, it adds its field to
    // that rule's 103 instead of ending it (early-hint only; HAProxy groups such runs).
    virtual bool extends_hint() const { return false; }
};

struct Rule {
    std::unique_ptr<const Action> action;
    std::shared_ptr<const sample::Condition> cond;
    cfg::Location where;
};

// An action keyword's parser: the words after the action name, up to (not including) any
// `if`/`unless`. `available` is what the rule set can read (for expressions and formats).
struct ActionParse {
    std::span<const std::string> args;
    RuleSet set;
    sample::Use available;
    std::string_view proxy = {};  // the name of the proxy section holding the rule
    // The line being parsed: its section (kind, Parts) for actions that declare something
    // there (`capture ... len` takes a capture slot), and late checks. Null when an action is
    // parsed on its own.
    cfg::Ctx* cfg = nullptr;
};
using ActionParseFn = util::Result<std::unique_ptr<const Action>> (*)(const ActionParse& p);

struct ActionDef {
    std::string_view name;
    ActionParseFn parse = nullptr;
    bool request = true, response = true, after_response = false;
    bool backend_side = false;  // only where a backend side exists (backend, listen)
    // Set for an action of a later issue: an alert naming it instead of a half-done action.
    std::string_view pending = {};
    // Set for an action accepted for compatibility that cannot do in Sluice what it does in
    // HAProxy: a warning at every use saying why.
    std::string_view no_effect = {};
    // Experimental in haproxy 2.6: refused unless the global section said
    // `expose-experimental-directives` before the rule.
    bool experimental = false;
};

class ActionRegistrar {
  public:
    explicit ActionRegistrar(std::span<const ActionDef> actions);
};
const ActionDef* find_action(std::string_view name);
std::string nearest_action(std::string_view name);

// A proxy section's rules, in its cfg::Parts.
struct HttpRulesConf {
    std::vector<std::shared_ptr<const Rule>> request, response, after_response;
};

// `monitor-uri` and `monitor fail`, in a frontend's cfg::Parts.
struct MonitorConf {
    std::string uri;  // empty: none
    std::vector<std::shared_ptr<const sample::Condition>> fail;
};

// Runs `rules` in order; the first action that ends the set decides.
void run_rules(std::span<const std::shared_ptr<const Rule>> rules, RuleCtx& ctx);

// What a rewriting action returns when its rewrite cannot be done: under strict-mode (the
// default) an internal error (500) answers, the connection kept; else the rules go on.
bool rewrite_failed(RuleCtx& ctx);

// Header edits shared by actions (and usable by other modules).
void del_header(http::HeaderList& h, std::string_view name);
bool add_header(http::HeaderList& h, std::string_view name, std::string_view value);
// A header name an action adds must be a token (RFC 9110 5.6.2): checked when parsing.
util::Status check_header_name(std::string_view name);

}  // namespace sluice::rules
