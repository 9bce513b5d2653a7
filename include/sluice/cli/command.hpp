// The runtime API's commands (`stats socket`): each module registers its commands in a table
// next to their code, as keywords are registered. A command line is split into words as
// HAProxy splits them; the command whose fixed words are the longest prefix of the line runs,
// if the session's level allows it.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/check/checks.hpp"
#include "sluice/proxy/runtime.hpp"

namespace sluice::cli {

// What a socket (`level`) or a session (`operator`, `user`) may do, lowest first.
enum class Level : std::uint8_t { User, Operator, Admin };
std::string_view level_name(Level level);

// How messages carry their severity (`set severity-output`).
enum class SeverityOutput : std::uint8_t { None, Number, String };

// Syslog severities, as HAProxy tags its CLI messages.
enum class Severity : std::uint8_t { Err = 3, Warning = 4, Notice = 5, Info = 6 };

class Session;

// What the runtime API reaches beyond the config (the checks, the streams), given by main
// before the loops run. Each is called on the API's loop.
struct Hooks {
    // An admin state change with its messages, on the loop of the server's checks.
    std::function<void(proxy::Server&, proxy::AdminState)> set_admin;
    // The streams holding a connection to the server end, on every thread.
    std::function<void(const proxy::Server&)> shutdown_sessions;
    // The server's connection limit grew: queued requests may go.
    std::function<void(proxy::Server&)> limit_raised;
    // Health, agent and address changes for the server's checks, on their loop.
    std::function<void(proxy::Server&, check::ChecksChange)> checks_change;
    // A frontend's Frontend::listening changed: every thread's watchers follow (Stopped: the
    // listeners close once none watches them). Null frontend: connection limits grew, paused
    // listeners look again.
    std::function<void(proxy::Frontend*, proxy::Frontend::Listening)> frontend_listening;
    // `show sess [id|all]`: the streams described (all, or the one whose id is `only`).
    std::function<std::string(const void* only, bool detail)> describe_sessions;
    // `shutdown session <id>`: false when no stream has that id.
    std::function<bool(const void* id)> kill_session;
    // `clear counters [all]`: each thread resets its own counter blocks (proxy/counters.hpp).
    std::function<void(bool all)> clear_counters;
    // `add server`: the server's checks, before it is listed.
    std::function<void(proxy::Server&)> add_server;
    // After `add server` and `del server`: the replaced balancer and the deleted server (either
    // may be null) are freed once no loop can still hold them, the server's checks stopped,
    // its idle connections closed and its uid given back.
    std::function<void(std::unique_ptr<proxy::Server>, std::unique_ptr<proxy::Balancer>)> retire;
};

// What a command works with, and where its answer goes.
struct Ctx {
    std::span<const std::string> args;  // every word of the command, its own names included
    std::string_view payload;           // after `<<`, up to the empty line (may be empty)
    proxy::Config& config;
    const Hooks& hooks;
    Session& session;
    std::string& out;

    // Raw output (tables, values): as is.
    void print(std::string_view text) { out.append(text); }
    template <class... A>
    void printf(fmt::format_string<A...> f, A&&... a) {
        fmt::format_to(std::back_inserter(out), f, std::forward<A>(a)...);
    }
    // A message (an error, a notice): one line, prefixed with its severity when the session
    // asked for it.
    void message(Severity severity, std::string_view text);
    void error(std::string_view text) { message(Severity::Err, text); }
};

using Handler = void (*)(Ctx& ctx);

struct Command {
    std::string_view words;  // the fixed words that select it ("show version")
    std::string_view usage;  // as `help` lists it ("get weight <bk>/<srv>"); empty: a variant
                             // of a listed command (with its own level), not listed
    std::string_view help;
    Level level = Level::User;
    Handler run = nullptr;
    // Set for a command of a later issue: it answers that it is not there yet, naming what
    // brings it, instead of half-working.
    std::string_view pending = {};
};

class CommandRegistrar {
  public:
    explicit CommandRegistrar(std::span<const Command> commands);
};

// One command line as HAProxy splits it: commands separated by `;`, words by spaces and tabs,
// `\` making the next character plain (`\;`, `\ `). Empty commands between `;` are dropped;
// an empty line is one empty command.
std::vector<std::vector<std::string>> split_line(std::string_view line);

// The command for `args` (the longest registered prefix), or null.
const Command* find_command(std::span<const std::string> args);
// `help [words...]`: the commands (whose words start with `filter`, when given), one per line,
// in HAProxy's layout.
void list_commands(std::string& out, std::span<const std::string> filter);
// The answer to a line no command knows: the commands that look like it, else all of them.
void unknown_command(std::string& out, std::span<const std::string> args);

// The server a `<backend>/<server>` argument names; on failure the error message HAProxy gives
// ("Require 'backend/server'.", "No such backend.", "No such server.") is in `error`.
proxy::Server* find_server(proxy::Config& config, std::string_view arg, std::string_view& error);
// The server the command's word `at` names, or null with that error printed.
proxy::Server* server_at(Ctx& ctx, std::size_t at);

}  // namespace sluice::cli
