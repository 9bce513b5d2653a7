// The runtime API's `show stat` and `show info`, with HAProxy 2.6's arguments and output.
#include <charconv>

#include "sluice/cli/command.hpp"
#include "sluice/stats/stats.hpp"

namespace sluice::stats {
namespace {

enum class Format : std::uint8_t { Text, Typed, Json };

bool parse_int(std::string_view s, std::int64_t& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

void cmd_show_info(cli::Ctx& ctx) {
    Format format = Format::Text;
    bool desc = false;
    for (std::size_t i = 2; i < ctx.args.size(); ++i) {
        if (ctx.args[i] == "typed") format = Format::Typed;
        if (ctx.args[i] == "json") format = Format::Json;
        if (ctx.args[i] == "desc") desc = true;
    }
    const std::vector<Value> values = info(ctx.config, process_now(ctx.config));
    if (format == Format::Json)
        info_json(ctx.out, values);
    else if (format == Format::Typed)
        info_typed(ctx.out, values, desc);
    else
        info_text(ctx.out, values, desc);
}

// `show stat [domain proxy] [{<iid>|<proxy>} <type> <sid>] [typed|json] [up|no-maint]`: as
// HAProxy, the three filter words count only together; a proxy name that matches nothing
// shows nothing.
void cmd_show_stat(cli::Ctx& ctx) {
    Format format = Format::Text;
    bool desc = false;
    Filter filter;
    std::vector<std::string_view> positional;
    for (std::size_t i = 2; i < ctx.args.size(); ++i) {
        const std::string_view w = ctx.args[i];
        if (w == "typed" && format != Format::Json)
            format = Format::Typed;
        else if (w == "json")
            format = Format::Json;
        else if (w == "up")
            filter.up_only = true;
        else if (w == "no-maint")
            filter.no_maint = true;
        else if (w == "desc")
            desc = true;
        else if (w == "domain" && i + 1 < ctx.args.size())
            ++i;
        else
            positional.push_back(w);
    }
    if (positional.size() >= 3) {
        std::int64_t iid = -1, type = -1, sid = -1;
        if (!parse_int(positional[0], iid)) {
            filter.proxy_name = std::string(positional[0]);
            iid = -1;
        }
        filter.proxy_id = iid;
        if (parse_int(positional[1], type) && type != -1)
            filter.types = static_cast<unsigned>(type) & 7u;
        if (parse_int(positional[2], sid)) filter.server_id = sid;
    }
    const std::vector<Row> rows = collect(ctx.config, process_now(ctx.config), filter);
    if (format == Format::Json) {
        json(ctx.out, rows);
    } else if (format == Format::Typed) {
        typed(ctx.out, rows, desc);
    } else {
        csv_header(ctx.out);
        csv(ctx.out, rows);
    }
}

// `clear counters`: the maxima; `clear counters all`: every count. Each thread clears its own
// blocks at its next loop iteration.
template <bool All>
void cmd_clear_counters(cli::Ctx& ctx) {
    if (ctx.hooks.clear_counters) ctx.hooks.clear_counters(All);
}

constexpr cli::Command kCommands[] = {
    {.words = "clear counters",
     .usage = "clear counters [all]",
     .help = "clear the maxima of the statistics counters (or every counter)",
     .level = cli::Level::Operator,
     .run = cmd_clear_counters<false>},
    {.words = "clear counters all",
     .usage = "",  // listed with `clear counters`
     .help = "",
     .level = cli::Level::Admin,
     .run = cmd_clear_counters<true>},
    {.words = "show info",
     .usage = "show info [desc|json|typed|float]*",
     .help = "report information about the running process",
     .run = cmd_show_info},
    {.words = "show stat",
     .usage = "show stat [desc|json|no-maint|typed|up]*",
     .help = "report counters for each proxy and server",
     .run = cmd_show_stat},
};
const cli::CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::stats
