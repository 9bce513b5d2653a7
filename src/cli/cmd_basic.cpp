// The runtime API's own commands (help, prompt, quit, levels, timeouts, severity) and the
// simple queries: version, environment, backends, server weights.
#include <cstdlib>

#include "session.hpp"
#include "sluice/util/build.hpp"
#include "sluice/util/units.hpp"

extern char** environ;

namespace sluice::cli {
namespace {

void cmd_help(Ctx& ctx) {
    list_commands(ctx.out, ctx.args.subspan(1));
}
void cmd_prompt(Ctx& ctx) {
    ctx.session.toggle_prompt();
}
void cmd_quit(Ctx& ctx) {
    ctx.session.quit();
}
template <Level L>
void cmd_lower_level(Ctx& ctx) {
    ctx.session.lower_level(L);
}
void cmd_show_cli_level(Ctx& ctx) {
    ctx.printf("{}\n", level_name(ctx.session.level()));
}

void cmd_set_timeout(Ctx& ctx) {
    if (ctx.args.size() < 3 || ctx.args[2] != "cli") {
        ctx.error("'set timeout' only supports 'cli'.");
        return;
    }
    auto d = ctx.args.size() > 3 ? util::parse_duration(ctx.args[3], std::chrono::seconds(1))
                                 : util::error("missing");
    if (!d || d->count() <= 0) {
        ctx.error("Invalid timeout value.");
        return;
    }
    ctx.session.set_timeout(*d);
}

void cmd_set_severity(Ctx& ctx) {
    const std::string_view v = ctx.args.size() > 2 ? std::string_view(ctx.args[2]) : "";
    if (v == "none")
        ctx.session.set_severity_output(SeverityOutput::None);
    else if (v == "number")
        ctx.session.set_severity_output(SeverityOutput::Number);
    else if (v == "string")
        ctx.session.set_severity_output(SeverityOutput::String);
    else
        ctx.error("one of 'none', 'number', 'string' is a required argument");
}

void cmd_show_version(Ctx& ctx) {
    ctx.printf("{}\n", build::version());
}

void cmd_show_env(Ctx& ctx) {
    const std::string_view only = ctx.args.size() > 2 ? std::string_view(ctx.args[2]) : "";
    bool found = false;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry = *e;
        if (!only.empty() &&
            !(entry.starts_with(only) && entry.size() > only.size() && entry[only.size()] == '='))
            continue;
        ctx.printf("{}\n", entry);
        found = true;
    }
    if (!only.empty() && !found) ctx.error("Variable not found");
}

void cmd_show_backend(Ctx& ctx) {
    ctx.print("# name\n");
    for (const auto& be : ctx.config.backends)
        ctx.printf("{}\n", be->name);
}

void cmd_get_weight(Ctx& ctx) {
    const proxy::Server* s = server_at(ctx, 2);
    if (!s) return;
    ctx.printf("{} (initial {})\n", s->weight.load(std::memory_order_relaxed), s->options.weight);
}

constexpr Command kCommands[] = {
    {.words = "help",
     .usage = "help [<command>]",
     .help = "list matching or all commands",
     .run = cmd_help},
    {.words = "prompt",
     .usage = "prompt",
     .help = "toggle interactive mode with prompt",
     .run = cmd_prompt},
    {.words = "quit", .usage = "quit", .help = "disconnect", .run = cmd_quit},
    {.words = "operator",
     .usage = "operator",
     .help = "lower the level of the current CLI session to operator",
     .level = Level::Operator,
     .run = cmd_lower_level<Level::Operator>},
    {.words = "user",
     .usage = "user",
     .help = "lower the level of the current CLI session to user",
     .run = cmd_lower_level<Level::User>},
    {.words = "show cli level",
     .usage = "show cli level",
     .help = "display the level of the current CLI session",
     .run = cmd_show_cli_level},
    {.words = "set timeout",
     .usage = "set timeout [cli] <delay>",
     .help = "change this session's idle timeout",
     .run = cmd_set_timeout},
    {.words = "set severity-output",
     .usage = "set severity-output [none|number|string]",
     .help = "set presence of severity level in feedback information",
     .run = cmd_set_severity},
    {.words = "show version",
     .usage = "show version",
     .help = "show version of the current process",
     .run = cmd_show_version},
    {.words = "show env",
     .usage = "show env [var]",
     .help = "dump environment variables known to the process",
     .level = Level::Operator,
     .run = cmd_show_env},
    {.words = "show backend",
     .usage = "show backend",
     .help = "list backends in the current running config",
     .run = cmd_show_backend},
    {.words = "get weight",
     .usage = "get weight <bk>/<srv>",
     .help = "report a server's current weight",
     .run = cmd_get_weight},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
