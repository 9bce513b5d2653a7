// The command registry, `help`'s listing, the answer to unknown commands, and what every
// command shares (messages with their severity, `<backend>/<server>` arguments).
#include "sluice/cli/command.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "session.hpp"
#include "sluice/util/suggest.hpp"

namespace sluice::cli {
namespace {

std::vector<const Command*>& registry() {
    static std::vector<const Command*> commands;  // function-local: no init-order trap
    return commands;
}

std::vector<std::string_view> words_of(std::string_view text) {
    std::vector<std::string_view> words;
    while (!text.empty()) {
        const auto space = text.find(' ');
        words.push_back(text.substr(0, space));
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
    }
    return words;
}

// How many of `c`'s fixed words `args` starts with (0 when they differ).
std::size_t matched(const Command& c, std::span<const std::string> args) {
    const auto words = words_of(c.words);
    if (args.size() < words.size()) return 0;
    for (std::size_t i = 0; i < words.size(); ++i)
        if (args[i] != words[i]) return 0;
    return words.size();
}

void list_line(std::string& out, const Command& c) {
    fmt::format_to(std::back_inserter(out), "  {:<40}: {}\n", c.usage, c.help);
}

// The commands every level has, listed last as HAProxy does.
bool is_basic(const Command& c) {
    return c.words == "help" || c.words == "prompt" || c.words == "quit";
}

void list(std::string& out, auto&& keep) {
    std::vector<const Command*> sorted = registry();
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Command* a, const Command* b) { return a->usage < b->usage; });
    for (const Command* c : sorted)
        if (!is_basic(*c) && !c->usage.empty() && keep(*c)) list_line(out, *c);
    for (std::string_view basic : {"help", "prompt", "quit"})
        for (const Command* c : sorted)
            if (c->words == basic) list_line(out, *c);
}

}  // namespace

std::string_view level_name(Level level) {
    switch (level) {
        case Level::User:
            return "user";
        case Level::Operator:
            return "operator";
        case Level::Admin:
            return "admin";
    }
    return "user";
}

CommandRegistrar::CommandRegistrar(std::span<const Command> commands) {
    for (const Command& c : commands) {
        for (const Command* existing : registry())
            if (existing->words == c.words) {
                std::fprintf(stderr, "sluice: CLI command '%.*s' registered twice\n",
                             static_cast<int>(c.words.size()), c.words.data());
                std::abort();
            }
        registry().push_back(&c);
    }
}

const Command* find_command(std::span<const std::string> args) {
    const Command* best = nullptr;
    std::size_t best_words = 0;
    for (const Command* c : registry()) {
        const std::size_t n = matched(*c, args);
        if (n > best_words) {
            best = c;
            best_words = n;
        }
    }
    return best;
}

void list_commands(std::string& out, std::span<const std::string> filter) {
    out += "The following commands are valid at this level:\n";
    list(out, [&](const Command& c) {
        const auto words = words_of(c.words);
        for (std::size_t i = 0; i < filter.size() && i < words.size(); ++i)
            if (!words[i].starts_with(filter[i])) return false;
        return true;
    });
}

void unknown_command(std::string& out, std::span<const std::string> args) {
    // Commands whose first word is the one typed, starts with it, or is the nearest to it.
    std::vector<std::string_view> firsts;
    for (const Command* c : registry())
        firsts.push_back(words_of(c->words).front());
    const std::string_view typed = args.empty() ? std::string_view{} : std::string_view(args[0]);
    const std::string_view nearest =
        typed.empty() ? std::string_view{} : util::nearest(typed, firsts);
    auto close = [&](const Command& c) {
        if (typed.empty()) return false;
        const std::string_view first = words_of(c.words).front();
        return first.starts_with(typed) || first == nearest;
    };
    const bool any = std::any_of(registry().begin(), registry().end(),
                                 [&](const Command* c) { return !is_basic(*c) && close(*c); });
    if (any) {
        out += "Unknown command, but maybe one of the following ones is a better match:\n";
        list(out, close);
    } else {
        out += "Unknown command. Please enter one of the following commands only:\n";
        list(out, [](const Command&) { return true; });
    }
}

proxy::Server* find_server(proxy::Config& config, std::string_view arg, std::string_view& error) {
    const auto slash = arg.find('/');
    if (slash == std::string_view::npos) {
        error = "Require 'backend/server'.";
        return nullptr;
    }
    proxy::Backend* be = config.find_backend(arg.substr(0, slash));
    if (!be) {
        error = "No such backend.";
        return nullptr;
    }
    const std::string_view name = arg.substr(slash + 1);
    for (const auto& s : be->servers)
        if (s->name == name) return s;
    error = "No such server.";
    return nullptr;
}

proxy::Server* server_at(Ctx& ctx, std::size_t at) {
    std::string_view error;
    proxy::Server* s =
        find_server(ctx.config, ctx.args.size() > at ? std::string_view(ctx.args[at]) : "", error);
    if (!s) ctx.error(error);
    return s;
}

void Ctx::message(Severity severity, std::string_view text) {
    static constexpr std::string_view kNames[] = {"emerg",   "alert",  "crit", "err",
                                                  "warning", "notice", "info", "debug"};
    const auto n = static_cast<std::size_t>(severity);
    switch (session.severity_output()) {
        case SeverityOutput::None:
            break;
        case SeverityOutput::Number:
            printf("[{}]: ", n);
            break;
        case SeverityOutput::String:
            printf("[{}]: ", kNames[n]);
            break;
    }
    print(text);
    print("\n");
}

}  // namespace sluice::cli
