// `http-request normalize-uri <normalizer> [full|strict]`: rewrites the request target with one
// of the normalizers of normalize.hpp, as haproxy 2.6 does (checked against 2.6.12). Like
// haproxy, it needs `expose-experimental-directives` in the global section first: the action
// is marked experimental in the table and the rule keyword checks it.
//
// A strict percent normalizer that meets a bad "%" sequence ends the rule set with a 400 and
// closes the connection, as haproxy answers an invalid request.
#include <fmt/format.h>

#include "sluice/proxy/runtime.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/rules/normalize.hpp"
#include "sluice/util/suggest.hpp"

namespace sluice::rules {
namespace {

using normalize::Normalizer;
using util::Result;

struct NormalizerDef {
    std::string_view name;
    Normalizer kind;
    std::string_view option = {};  // the one optional word it takes, if any
};

constexpr NormalizerDef kNormalizers[] = {
    {.name = "fragment-encode", .kind = Normalizer::FragmentEncode},
    {.name = "fragment-strip", .kind = Normalizer::FragmentStrip},
    {.name = "path-merge-slashes", .kind = Normalizer::PathMergeSlashes},
    {.name = "path-strip-dot", .kind = Normalizer::PathStripDot},
    {.name = "path-strip-dotdot", .kind = Normalizer::PathStripDotdot, .option = "full"},
    {.name = "percent-decode-unreserved",
     .kind = Normalizer::PercentDecodeUnreserved,
     .option = "strict"},
    {.name = "percent-to-uppercase", .kind = Normalizer::PercentToUppercase, .option = "strict"},
    {.name = "query-sort-by-name", .kind = Normalizer::QuerySortByName},
};

// The size of `r` on the wire with `target` as its target.
std::size_t head_bytes(const http::RequestHead& r, std::string_view target) {
    std::size_t n = r.method.size() + 1 + target.size() + 1 + r.version_text.size() + 2;
    for (const http::Header& h : r.headers.all())
        n += h.name.size() + 2 + h.value.size() + 2;
    return n + 2;
}

// haproxy rewrites a head inside one buffer: a target that makes the head outgrow it fails the
// rewrite. Only fragment-encode grows a target much (path-strip-dotdot adds at most a slash).
// haproxy's own limit is a few dozen bytes lower (its internal head format has more overhead
// than HTTP/1 text).
bool fits(RuleCtx& ctx, std::string_view target) {
    if (target.size() <= ctx.req->target.size()) return true;
    const proxy::Config* c = ctx.samples.find<proxy::Config>();
    return head_bytes(*ctx.req, target) <= (c ? c->global.bufsize : 16384);
}

// The parameter views query-sort-by-name sorts: per thread, so that after the first requests
// they need no allocation and no lock.
normalize::Params& thread_params() {
    thread_local normalize::Params params;
    return params;
}

class NormalizeUri final : public Action {
  public:
    explicit NormalizeUri(normalize::Spec spec) : spec_(spec) {}

    bool run(RuleCtx& ctx) const override {
        http::RequestHead* r = ctx.req;
        if (!r || ctx.res) return true;
        std::string& out = ctx.samples.arena().take();
        switch (normalize::normalize_target(spec_, r->target, out, thread_params())) {
            case normalize::Result::Unchanged:
                return true;
            case normalize::Result::Rewritten:
                if (!fits(ctx, out)) return rewrite_failed(ctx);
                // The arena string lives until the head is written, like set-path's.
                r->target = out;
                return true;
            case normalize::Result::Invalid:
                ctx.outcome.verdict = Verdict::Reply;
                ctx.outcome.status = 400;
                ctx.outcome.reply = {};
                ctx.outcome.page = nullptr;
                ctx.outcome.close = true;
                return false;
        }
        return true;
    }

  private:
    normalize::Spec spec_;
};

std::string normalizer_names() {
    std::string names;
    for (const NormalizerDef& d : kNormalizers)
        names += fmt::format("{}'{}'", names.empty() ? "" : ", ", d.name);
    return names;
}

Result<std::unique_ptr<const Action>> parse_normalize_uri(const ActionParse& p) {
    if (p.args.size() < 2)
        return util::error(
            fmt::format("missing argument <normalizer>, expects one of {}", normalizer_names()));
    const std::string& name = p.args[1];
    const NormalizerDef* def = nullptr;
    for (const NormalizerDef& d : kNormalizers)
        if (d.name == name) def = &d;
    if (!def) {
        std::vector<std::string_view> names;
        for (const NormalizerDef& d : kNormalizers)
            names.push_back(d.name);
        return util::error(
            fmt::format("unknown normalizer '{}'{}", name, util::did_you_mean(name, names)));
    }
    normalize::Spec spec{.kind = def->kind};
    if (p.args.size() > 2) {
        const std::string& word = p.args[2];
        if (def->option.empty())
            return util::error(fmt::format("unexpected '{}': the '{}' normalizer takes no argument",
                                           word, def->name));
        if (word != def->option)
            return util::error(
                fmt::format("unknown argument '{}' for the '{}' normalizer (only '{}' is allowed)",
                            word, def->name, def->option));
        spec.option = true;
    }
    if (p.args.size() > 3) return util::error(fmt::format("unexpected '{}'", p.args[3]));
    return std::unique_ptr<const Action>(new NormalizeUri(spec));
}

constexpr ActionDef kActions[] = {
    {.name = "normalize-uri",
     .parse = parse_normalize_uri,
     .response = false,
     .experimental = true},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
