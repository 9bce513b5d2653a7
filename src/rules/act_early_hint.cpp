// http-request early-hint NAME FMT: a field of a `103 Early Hints` interim response (RFC 8297),
// sent to the client before the request goes on, so that it can start fetching what the final
// response will refer to (`Link: </style.css>; rel=preload`). Rules build the 103s into
// RuleCtx::hints and the stream sends them before anything else for the request, a denial
// included. run_rules decides where one 103 ends: as in HAProxy 2.6, consecutive early-hint
// rules share one, and a rule with a condition starts a new one.
#include <fmt/format.h>

#include "sluice/rules/http_rules.hpp"

namespace sluice::rules {
namespace {

class EarlyHint final : public Action {
  public:
    EarlyHint(std::string name, sample::Format value)
        : name_(std::move(name)), value_(std::move(value)) {}

    bool run(RuleCtx& ctx) const override {
        // An HTTP/1.0 client may not expect interim responses: HAProxy 2.6 sends it none. A
        // 103 sent before the rules stopped to wait for the body is not sent again.
        if (ctx.retracing || !ctx.req || ctx.req->version != http::Version::Http11) return true;
        if (!ctx.hint_open) {
            if (!ctx.hints) ctx.hints = &ctx.samples.arena().take();
            ctx.hints->append("HTTP/1.1 103 Early Hints\r\n");
            ctx.hint_open = true;
        }
        std::string& out = *ctx.hints;
        out.append(name_);
        out.append(": ");
        value_.render(ctx.samples, out);
        out.append("\r\n");
        return true;
    }
    bool extends_hint() const override { return true; }

  private:
    std::string name_;  // as written: sluice keeps the case of the names it sends
    sample::Format value_;
};

util::Result<std::unique_ptr<const Action>> parse_early_hint(const ActionParse& p) {
    if (p.args.size() != 3) return util::error("expects exactly 2 arguments: <name> <fmt>");
    if (auto st = check_header_name(p.args[1]); !st) return util::error(st.error());
    auto f = sample::Format::parse(p.args[2], p.available);
    if (!f) return util::error(f.error());
    sample::note_rule_format(*f);
    return std::unique_ptr<const Action>(new EarlyHint(p.args[1], std::move(*f)));
}

constexpr ActionDef kActions[] = {
    {.name = "early-hint", .parse = parse_early_hint, .response = false},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
