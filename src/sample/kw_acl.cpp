// The `acl` keyword: `acl NAME CRITERION [FLAGS] [OPERATOR] [VALUE]...`, lines of one name
// OR-ed, into the section's AclConf.
#include "sluice/cfg/keyword.hpp"
#include "sluice/sample/acl.hpp"

namespace sluice::sample {
namespace {

cfg::Status parse_acl(cfg::Args args, cfg::Ctx& ctx) {
    const std::string& name = args[0];
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ':';
        if (!ok) return ctx.alert("invalid character '{}' in ACL name '{}'", c, name);
    }
    if (predefined_acl(name))
        return ctx.alert("'{}' is a predefined ACL and cannot be redefined", name);
    auto line = parse_acl_line(args.subspan(1));
    if (!line) return ctx.alert("error detected while parsing ACL '{}' : {}", name, line.error());
    const bool never = line->patterns.empty() && line->patterns.method() != Match::Found &&
                       line->patterns.method() != Match::Bool;
    const bool explicit_end = std::find(args.begin(), args.end(), "--") != args.end();
    ctx.parts().get<AclConf>().table.add(name, std::move(*line));
    if (never && !explicit_end) {
        return ctx.warning(
            "parsing ACL '{}' : no pattern to match against were provided, so this ACL will "
            "never match. If this is what you intended, please add '--' to get rid of this "
            "warning. If you intended to match only for existence, please use '-m found'. If "
            "you wanted to enforce an int or bool match, please add '-m int' or '-m bool'.",
            name);
    }
    return cfg::Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "acl",
     .in = cfg::In::Frontend | cfg::In::Backend,
     .arity = cfg::at_least(2),
     .parse = parse_acl},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::sample
