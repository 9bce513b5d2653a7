// The bind/server option registry and the option-list parser.
#include "sluice/cfg/options.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sluice/util/suggest.hpp"

namespace sluice::cfg {
namespace {
std::vector<const Option*>& registry() {
    static std::vector<const Option*> options;
    return options;
}
const Option* find_option(OptionOf of, std::string_view name) {
    for (const Option* o : registry())
        if (o->of == of && o->name == name) return o;
    return nullptr;
}
}  // namespace

OptionRegistrar::OptionRegistrar(std::span<const Option> options) {
    for (const Option& o : options) {
        // As for keywords: two modules claiming one option is a build mistake (often a line
        // left in kw_pending.cpp when the feature landed).
        if (find_option(o.of, o.name)) {
            std::fprintf(stderr, "sluice: %s option '%.*s' registered twice\n",
                         o.of == OptionOf::Bind ? "bind" : "server",
                         static_cast<int>(o.name.size()), o.name.data());
            std::abort();
        }
        registry().push_back(&o);
    }
}

std::vector<std::string_view> option_names(OptionOf of) {
    std::vector<std::string_view> names;
    for (const Option* o : registry())
        if (o->of == of) names.push_back(o->name);
    return names;
}

Status parse_options(OptionOf of, Args args, Ctx& line_ctx, Parts& target,
                     std::span<const std::string_view> only, std::string_view only_what) {
    const std::string_view line_kind = of == OptionOf::Bind ? "bind" : "server";
    Status worst = Status::Ok;
    auto note = [&](Status s) {
        if (s == Status::Alert || (s == Status::Warning && worst == Status::Ok)) worst = s;
    };
    std::size_t i = 0;
    while (i < args.size()) {
        const std::string& name = args[i];
        const Option* opt = find_option(of, name);
        if (!opt) {
            const auto names = option_names(of);
            note(line_ctx.alert("unknown {} option '{}'{}", line_kind, name,
                                util::did_you_mean(name, names)));
            // Its arguments are unknown too: reading on would report them as more options.
            break;
        }
        if (!only.empty() && std::find(only.begin(), only.end(), opt->name) == only.end()) {
            note(line_ctx.alert("'{}' option is not accepted for {}", name, only_what));
            break;
        }
        if (args.size() - i - 1 < opt->args) {
            note(line_ctx.alert("{} option '{}' expects {} argument{}", line_kind, name, opt->args,
                                opt->args == 1 ? "" : "s"));
            break;
        }
        Args opt_args = args.subspan(i + 1, opt->args);
        i += 1 + opt->args;
        if (!opt->pending.empty()) {
            note(line_ctx.alert("{} option '{}' is not implemented yet; it comes with {}",
                                line_kind, name, opt->pending));
            continue;
        }
        if (!opt->ignored.empty()) {
            note(line_ctx.warning("{} option '{}' ignored: {}", line_kind, name, opt->ignored));
            continue;
        }
        Ctx option_ctx(line_ctx.diagnostics(), line_ctx.where(), line_ctx.context(),
                       line_ctx.section(), target, line_ctx.global(), line_ctx.name());
        option_ctx.begin_keyword(opt->name, false);
        note(opt->parse(opt_args, option_ctx));
    }
    return worst;
}

}  // namespace sluice::cfg
