// set-map(FILE) KEY VALUE, del-map(FILE) KEY, add-acl(FILE) KEY, del-acl(FILE) KEY in
// http-request and http-response rules: the runtime API's map and ACL changes made by traffic.
// As in HAProxy 2.6, the file names a reference some ACL or map converter loaded; naming one
// that nothing loads is accepted and does nothing. KEY and VALUE are log-format strings.
#include <fmt/format.h>

#include "sluice/cfg/late.hpp"
#include "sluice/rules/http_rules.hpp"
#include "sluice/sample/format.hpp"
#include "sluice/sample/pattern_ref.hpp"

namespace sluice::rules {
namespace {

using util::Result;

enum class Op : std::uint8_t { SetMap, DelMap, AddAcl, DelAcl };

class RefWrite final : public Action {
  public:
    RefWrite(Op op, sample::Format key, std::optional<sample::Format> value)
        : op_(op), key_(std::move(key)), value_(std::move(value)) {}

    // Bound once the whole config is read (the reference may be loaded by a later line).
    std::shared_ptr<sample::PatternRef> ref;

    bool run(RuleCtx& ctx) const override {
        if (!ref || ctx.retracing) return true;
        std::string& key = ctx.samples.arena().take();
        key_.render(ctx.samples, key);
        switch (op_) {
            case Op::SetMap: {
                std::string& value = ctx.samples.arena().take();
                value_->render(ctx.samples, value);
                (void)ref->upsert(key, value, true);
                break;
            }
            case Op::AddAcl:
                (void)ref->upsert(key, {}, false);
                break;
            case Op::DelMap:
            case Op::DelAcl:
                (void)ref->del_key(key);
                break;
        }
        return true;
    }

  private:
    Op op_;
    sample::Format key_;
    std::optional<sample::Format> value_;
};

template <Op O>
Result<std::unique_ptr<const Action>> parse_ref_write(const ActionParse& p) {
    const std::string& word = p.args[0];
    const std::size_t open = word.find('(');
    std::string file;
    if (open != std::string::npos)
        file =
            word.substr(open + 1, word.back() == ')' ? word.size() - open - 2 : std::string::npos);
    const std::size_t want = O == Op::SetMap ? 2 : 1;
    if (p.args.size() != want + 1)
        return util::error(fmt::format("expects exactly {} arguments.", want));
    auto key = sample::Format::parse(p.args[1], p.available);
    if (!key) return util::error(key.error());
    sample::note_rule_format(*key);
    std::optional<sample::Format> value;
    if (O == Op::SetMap) {
        auto v = sample::Format::parse(p.args[2], p.available);
        if (!v) return util::error(v.error());
        sample::note_rule_format(*v);
        value = std::move(*v);
    }
    auto action = std::make_unique<RefWrite>(O, std::move(*key), std::move(value));
    RefWrite* raw = action.get();
    // A check that binds the action: it never fails (HAProxy accepts an unknown file).
    (void)cfg::defer_check([raw, file](const cfg::Document&) {
        raw->ref = sample::find_ref(file, 0);
        return std::string();
    });
    return std::unique_ptr<const Action>(std::move(action));
}

constexpr ActionDef kActions[] = {
    {.name = "set-map", .parse = parse_ref_write<Op::SetMap>},
    {.name = "del-map", .parse = parse_ref_write<Op::DelMap>},
    {.name = "add-acl", .parse = parse_ref_write<Op::AddAcl>},
    {.name = "del-acl", .parse = parse_ref_write<Op::DelAcl>},
};
const ActionRegistrar kRegistered{kActions};

}  // namespace
}  // namespace sluice::rules
