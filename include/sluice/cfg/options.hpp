// Options that follow an address on `bind` and `server` lines ("weight 3", "backup", "ssl").
// Like keywords, each module registers the options it owns; an option stores into a Part of the
// line's own Parts (the TLS module will keep its `crt` there without the proxy module knowing).
#pragma once

#include <span>
#include <string_view>

#include "sluice/cfg/keyword.hpp"

namespace sluice::cfg {

enum class OptionOf { Bind, Server };

struct Option {
    OptionOf of;
    std::string_view name;
    std::uint8_t args = 0;          // words taken after the name
    ParseFn parse = nullptr;        // ctx.parts() is the line's Parts
    std::string_view pending = {};  // as Keyword::pending
    std::string_view ignored = {};  // accepted with this warning and no effect (e.g. `process`)
};

class OptionRegistrar {
  public:
    explicit OptionRegistrar(std::span<const Option> options);
};

// Parses `args` (everything after the address) as a sequence of options into `target`.
// Reports unknown options with a suggestion, and missing arguments; goes on after an error.
// Returns Alert if any option failed.
// `only`, when not empty: the options allowed here (the runtime API's `add server` takes a
// subset); another registered one is refused, naming `only_what` ("dynamic server").
Status parse_options(OptionOf of, Args args, Ctx& line_ctx, Parts& target,
                     std::span<const std::string_view> only = {}, std::string_view only_what = {});

// Every registered option name of that kind (for tests and suggestions).
std::vector<std::string_view> option_names(OptionOf of);

}  // namespace sluice::cfg
