// Actions that edit the message: set-header, add-header, del-header, set-path, set-pathq,
// set-query, set-uri, set-method, set-status. The variables' actions are in act_vars.cpp.
#include <fmt/format.h>

#include <charconv>

#include "sluice/http/h1_emit.hpp"
#include "sluice/http/txn.hpp"
#include "sluice/rules/http_rules.hpp"

namespace sluice::rules {
namespace {

using util::Result;

http::HeaderList* headers_of(RuleCtx& ctx) {
    if (ctx.res) return &ctx.res->headers;
    return ctx.req ? &ctx.req->headers : nullptr;
}

std::string_view render(RuleCtx& ctx, const sample::Format& f) {
    std::string& out = ctx.samples.arena().take();
    f.render(ctx.samples, out);
    return out;
}

// set-header / add-header NAME FMT
class HeaderWrite final : public Action {
  public:
    HeaderWrite(std::string name, sample::Format value, bool replace)
        : name_(std::move(name)), value_(std::move(value)), replace_(replace) {}
    bool run(RuleCtx& ctx) const override {
        http::HeaderList* h = headers_of(ctx);
        if (!h) return true;
        // Rendered before the old fields go: the new value may be computed from them.
        const std::string_view v = render(ctx, value_);
        if (replace_) del_header(*h, name_);
        (void)add_header(*h, name_, v);  // a full list drops the field, as a rewrite failure
        return true;
    }

  private:
    std::string name_;
    sample::Format value_;
    bool replace_;
};

template <bool Replace>
Result<std::unique_ptr<const Action>> parse_header_write(const ActionParse& p) {
    if (p.args.size() != 3) return util::error("expects exactly 2 arguments: <name> <fmt>");
    if (auto st = check_header_name(p.args[1]); !st) return util::error(st.error());
    auto f = sample::Format::parse(p.args[2], p.available);
    if (!f) return util::error(f.error());
    sample::note_rule_format(*f);
    return std::unique_ptr<const Action>(new HeaderWrite(p.args[1], std::move(*f), Replace));
}

class HeaderDelete final : public Action {
  public:
    explicit HeaderDelete(std::string name) : name_(std::move(name)) {}
    bool run(RuleCtx& ctx) const override {
        if (http::HeaderList* h = headers_of(ctx)) del_header(*h, name_);
        return true;
    }

  private:
    std::string name_;
};

Result<std::unique_ptr<const Action>> parse_del_header(const ActionParse& p) {
    if (p.args.size() == 4 && p.args[2] == "-m" && p.args[3] == "str")
        return std::unique_ptr<const Action>(new HeaderDelete(p.args[1]));
    if (p.args.size() != 2) {
        if (p.args.size() == 4 && p.args[2] == "-m")
            return util::error(
                fmt::format("'-m {}' is not supported yet (only '-m str')", p.args[3]));
        return util::error("expects exactly 1 argument: <name>");
    }
    return std::unique_ptr<const Action>(new HeaderDelete(p.args[1]));
}

// The request target rewrites.
enum class TargetPart { Path, PathQuery, Query, Uri, Method };

class TargetWrite final : public Action {
  public:
    TargetWrite(TargetPart part, sample::Format value) : part_(part), value_(std::move(value)) {}
    bool run(RuleCtx& ctx) const override {
        http::RequestHead* r = ctx.req;
        if (!r) return true;
        const std::string_view v = render(ctx, value_);
        if (part_ == TargetPart::Method) {
            if (!v.empty()) r->method = ctx.keep(v);
            return true;
        }
        if (part_ == TargetPart::Uri) {
            if (!v.empty()) r->target = ctx.keep(v);
            r->target_form = v.starts_with("/") ? http::TargetForm::Origin : r->target_form;
            return true;
        }
        const std::string_view target = r->target;
        const std::string_view path = http::target_path(target);
        const std::string_view before =
            path.empty() ? target.substr(0, target.find('?'))
                         : target.substr(0, static_cast<std::size_t>(path.data() - target.data()));
        const std::size_t qmark = target.find('?');
        const std::string_view query =
            qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark);
        std::string& out = ctx.samples.arena().take();
        out.assign(before);
        switch (part_) {
            case TargetPart::Path:
                out.append(v.empty() ? "/" : v);
                out.append(query);
                break;
            case TargetPart::PathQuery:
                out.append(v.empty() ? "/" : v);
                break;
            case TargetPart::Query:
                out.append(path);
                if (!v.empty()) {
                    if (v[0] != '?') out.push_back('?');
                    out.append(v);
                }
                break;
            default:
                break;
        }
        r->target = out;
        return true;
    }

  private:
    TargetPart part_;
    sample::Format value_;
};

template <TargetPart Part>
Result<std::unique_ptr<const Action>> parse_target_write(const ActionParse& p) {
    if (p.args.size() != 2) return util::error("expects exactly 1 argument: <fmt>");
    auto f = sample::Format::parse(p.args[1], p.available);
    if (!f) return util::error(f.error());
    sample::note_rule_format(*f);
    return std::unique_ptr<const Action>(new TargetWrite(Part, std::move(*f)));
}

// set-status CODE [reason TEXT]
class StatusWrite final : public Action {
  public:
    StatusWrite(std::uint16_t status, std::string reason)
        : status_(status), reason_(std::move(reason)) {}
    bool run(RuleCtx& ctx) const override {
        if (!ctx.res) return true;
        ctx.res->status = status_;
        if (!reason_.empty())
            ctx.res->reason = reason_;
        else
            ctx.res->reason = http::default_reason(status_);
        return true;
    }

  private:
    std::uint16_t status_;
    std::string reason_;
};

Result<std::unique_ptr<const Action>> parse_set_status(const ActionParse& p) {
    if (p.args.size() != 2 && !(p.args.size() == 4 && p.args[2] == "reason"))
        return util::error("expects <status> [reason <str>]");
    unsigned v = 0;
    const std::string& s = p.args[1];
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 100 || v > 999)
        return util::error(fmt::format("expects a status code between 100 and 999, got '{}'", s));
    return std::unique_ptr<const Action>(new StatusWrite(
        static_cast<std::uint16_t>(v), p.args.size() == 4 ? p.args[3] : std::string()));
}

constexpr ActionDef kActions[] = {
    {.name = "set-header", .parse = parse_header_write<true>, .after_response = true},
    {.name = "add-header", .parse = parse_header_write<false>, .after_response = true},
    {.name = "del-header", .parse = parse_del_header, .after_response = true},
    {.name = "set-path", .parse = parse_target_write<TargetPart::Path>, .response = false},
    {.name = "set-pathq", .parse = parse_target_write<TargetPart::PathQuery>, .response = false},
    {.name = "set-query", .parse = parse_target_write<TargetPart::Query>, .response = false},
    {.name = "set-uri", .parse = parse_target_write<TargetPart::Uri>, .response = false},
    {.name = "set-method", .parse = parse_target_write<TargetPart::Method>, .response = false},
    {.name = "set-status", .parse = parse_set_status, .request = false, .after_response = true},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
