// http-request|http-response wait-for-body time T [at-least N]: the rules wait, at most T from
// when the wait began, for the message's body, and go on with it visible to the body fetches
// (req.body, res.body, req.body_param...) once the whole body is in, or N payload bytes are (0:
// no such bound), or the buffer is full, or the sender stopped sending. The rule answers from
// what the stream tells it (MessageBody); the stream keeps the wait going (Verdict::WaitBody and
// RulesTrail) and ends an expired one as HAProxy 2.6 does: 408 for a request, 504 for a
// response.
#include <fmt/format.h>

#include "sluice/http/h1_chunked.hpp"
#include "sluice/rules/http_rules.hpp"

namespace sluice::rules {
namespace {

class WaitForBody final : public Action {
  public:
    WaitForBody(util::Duration time, std::uint64_t at_least) : time_(time), at_least_(at_least) {}

    bool run(RuleCtx& ctx) const override {
        // Retracing: its wait ended before the rules stopped again further on.
        if (ctx.retracing || !ctx.body) return true;
        const MessageBody& body = *ctx.body;
        if (body.cannot_grow) return true;
        const http::BodyAtHand at = http::body_at_hand(body.bytes, *body.framing, body.opts);
        // A bad chunk is for the forwarding path to refuse: more bytes would not mend it.
        if (at.complete || at.invalid || (at_least_ > 0 && at.payload >= at_least_)) return true;
        ctx.outcome.verdict = Verdict::WaitBody;
        ctx.outcome.wait = time_;
        return false;
    }

  private:
    util::Duration time_;
    std::uint64_t at_least_;
};

// `time` is required, `at-least` optional, in either order (the last of a repeated one wins, as
// in HAProxy 2.6).
util::Result<std::unique_ptr<const Action>> parse_wait_for_body(const ActionParse& p) {
    constexpr std::string_view kUsage = "expects time <time> [at-least <bytes>]";
    std::optional<util::Duration> time;
    std::uint64_t at_least = 0;
    for (std::size_t i = 1; i < p.args.size(); i += 2) {
        const std::string& word = p.args[i];
        if (word != "time" && word != "at-least")
            return util::error(fmt::format("unexpected '{}': {}", word, kUsage));
        if (i + 1 >= p.args.size())
            return util::error(fmt::format("missing argument for '{}'", word));
        const std::string& value = p.args[i + 1];
        if (word == "time") {
            auto t = util::parse_duration(value);
            if (!t) return util::error(fmt::format("'time {}': {}", value, t.error()));
            time = *t;
        } else {
            auto n = util::parse_size(value);
            if (!n) return util::error(fmt::format("'at-least {}': {}", value, n.error()));
            at_least = *n;
        }
    }
    if (!time) return util::error(std::string(kUsage));
    return std::unique_ptr<const Action>(new WaitForBody(*time, at_least));
}

constexpr ActionDef kActions[] = {
    {.name = "wait-for-body", .parse = parse_wait_for_body},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
