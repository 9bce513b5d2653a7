// http-request / http-response / http-after-response rules: an action and an optional
// condition per line, run in order on a parsed head. Actions edit the head in place (its views
// then point into the transaction's Arena), set variables, or end the rule set with a verdict:
// allow, deny, return, redirect. Each action registers its keyword in a table next to its code
// (act_*.cpp); the rule keywords themselves are in kw_http_rules.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/http/error_pages.hpp"
#include "sluice/http/h1_parse.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/sample/format.hpp"

namespace sluice::rules {

enum class RuleSet : std::uint8_t { Request, Response, AfterResponse };

// What running a rule set decided.
enum class Verdict : std::uint8_t {
    Continue,  // every rule ran (or none applied): go on
    Allow,     // `allow`: stop this rule set, go on
    Reply,     // answer with Outcome::reply (deny, return, redirect) and skip the server
    Drop,      // close the client connection without a word (reject, silent-drop)
    WaitBody,  // (stream) the request body must be in first: run the rules again then
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
    http::ErrorPage reply;  // empty head: use the proxy's error page for `status`
    bool close = false;     // the connection closes after the reply (deny does, as HAProxy)
    bool tarpit = false;    // Reply: hold it for `timeout tarpit` first
    bool silent = false;    // Drop: not even a reset reaches the client (silent-drop)
    // The frontend's request rules (or monitor-uri) decided, before any backend was chosen: the
    // page for `status` is the frontend's, as in HAProxy, even if a default backend has one.
    bool frontend = false;
    // With the proxy's page: its `challenge_header` fields replaced by one carrying
    // `challenge` (http-request auth's `www-authenticate: Basic realm="..."`). Views into the
    // action, which lives as long as the config.
    std::string_view challenge_header;
    std::string_view challenge;
};

// What an action works on.
struct RuleCtx {
    sample::Context& samples;
    http::RequestHead* req = nullptr;   // request rules: editable
    http::ResponseHead* res = nullptr;  // response rules: editable
    Outcome& outcome;
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
};
using ActionParseFn = util::Result<std::unique_ptr<const Action>> (*)(const ActionParse& p);

struct ActionDef {
    std::string_view name;
    ActionParseFn parse = nullptr;
    bool request = true, response = true, after_response = false;
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

// Header edits shared by actions (and usable by other modules).
void del_header(http::HeaderList& h, std::string_view name);
bool add_header(http::HeaderList& h, std::string_view name, std::string_view value);

}  // namespace sluice::rules
