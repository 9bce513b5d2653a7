// The runtime API's `show sess` and `shutdown session`, with HAProxy 2.6's answers. A stream's
// id is its address, as HAProxy's; an id is only ever compared with live streams' addresses,
// never followed.
#include <charconv>

#include "session.hpp"

namespace sluice::cli {
namespace {

// "0x55d0c8a0c800" (or without 0x): the id, or null.
const void* parse_id(std::string_view text) {
    if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
    std::uintptr_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (ec != std::errc{} || end != text.data() + text.size() || v == 0) return nullptr;
    return reinterpret_cast<const void*>(v);
}

void cmd_show_sess(Ctx& ctx) {
    if (!ctx.hooks.describe_sessions) return;
    const std::string_view arg = ctx.args.size() > 2 ? std::string_view(ctx.args[2]) : "";
    if (arg == "all") {
        ctx.print(ctx.hooks.describe_sessions(nullptr, true));
        return;
    }
    const void* id = parse_id(arg);
    if (!id) {
        // As HAProxy, a word that is not an id lists them all.
        ctx.print(ctx.hooks.describe_sessions(nullptr, false));
        return;
    }
    const std::string one = ctx.hooks.describe_sessions(id, true);
    if (one.empty())
        ctx.print("Session not found.\n");
    else
        ctx.print(one);
}

void cmd_shutdown_session(Ctx& ctx) {
    const void* id = ctx.args.size() > 2 ? parse_id(ctx.args[2]) : nullptr;
    if (!id) {
        ctx.error("Session pointer expected (use 'show sess').");
        return;
    }
    if (!ctx.hooks.kill_session || !ctx.hooks.kill_session(id))
        ctx.error("No such session (use 'show sess').");
}

constexpr Command kCommands[] = {
    {.words = "show sess",
     .usage = "show sess [id|all]",
     .help = "report the list of current sessions or dump this exact session",
     .level = Level::Operator,
     .run = cmd_show_sess},
    {.words = "shutdown session",
     .usage = "shutdown session [id]",
     .help = "kill a specific session",
     .level = Level::Admin,
     .run = cmd_shutdown_session},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
