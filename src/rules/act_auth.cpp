// http-request auth [realm <realm>]: asks the client for credentials. The answer is the proxy's
// own 401 page (errorfile and http-error apply), with every WWW-Authenticate field it has
// replaced by a Basic challenge for the realm, which defaults to the name of the proxy holding
// the rule; the client connection stays open, as with HAProxy 2.6. HAProxy answers 407 and
// Proxy-Authenticate instead to a proxy request (absolute target or CONNECT) when the frontend
// has `option http-use-proxy-header`, an option sluice does not have yet: always 401 here.
#include <fmt/format.h>

#include "sluice/rules/http_rules.hpp"

namespace sluice::rules {
namespace {

class Auth final : public Action {
  public:
    explicit Auth(std::string challenge) : challenge_(std::move(challenge)) {}
    bool run(RuleCtx& ctx) const override {
        Outcome& o = ctx.outcome;
        o.verdict = Verdict::Reply;
        o.status = 401;
        o.reply = {};
        o.page = nullptr;
        o.close = false;
        o.challenge_header = "www-authenticate";
        o.challenge = challenge_;
        return false;
    }

  private:
    std::string challenge_;  // the field's value
};

util::Result<std::unique_ptr<const Action>> parse_auth(const ActionParse& p) {
    std::string realm(p.proxy);
    // p.args[0] is the action word.
    for (std::size_t i = 1; i < p.args.size(); ++i) {
        if (p.args[i] != "realm")
            return util::error(fmt::format(
                "unexpected '{}' (expected 'realm <realm>', 'if' or 'unless')", p.args[i]));
        if (i + 1 >= p.args.size()) return util::error("'realm' expects a value");
        realm = p.args[++i];
    }
    // The realm goes between quotes as written, as HAProxy sends it.
    return std::unique_ptr<const Action>(new Auth(fmt::format("Basic realm=\"{}\"", realm)));
}

constexpr ActionDef kActions[] = {
    {.name = "auth", .parse = parse_auth, .response = false},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
