// Agent checks (`agent-check`): a second, independent check per server that asks an agent
// running next to the server for a one-line report ("up 75%", "drain", "maxconn:30 # busy")
// and applies it to the server's state, weight and connection limit. The options of a server
// line, and the reply's reader (pure, so unit tests and the fuzzer reach it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/net/address.hpp"
#include "sluice/util/units.hpp"

namespace sluice::check {

// Options of one `server` line (and `default-server`).
struct ServerAgentConf {
    bool enabled = false;  // `agent-check`
    std::uint16_t port = 0;
    util::Duration inter = std::chrono::seconds(2);  // `agent-inter`
    std::string send;                                // `agent-send`: sent once connected
    std::optional<net::Address> addr;                // `agent-addr`; the server's when unset
};

// One reply, read as HAProxy reads it: the first line only (up to CR or LF; a NUL before
// them leaves no line), words split on spaces, tabs and commas, case-insensitive, a word "#"
// starting the comment. Views point into the reply.
struct AgentReply {
    bool complete = false;  // a line ended: a reply without one is ignored
    enum class Health : std::uint8_t { None, Up, Down, Stopped, Fail } health = Health::None;
    enum class Admin : std::uint8_t { None, Ready, Drain, Maint } admin = Admin::None;
    std::string_view health_word;  // as written ("DOWN"), for the message
    std::string_view weight;       // the last "N%" word
    std::string_view maxconn;      // what follows the last "maxconn:"
    std::string_view error;        // the first word not understood
    std::string_view comment;      // after "#", leading blanks skipped
};
AgentReply parse_agent_reply(std::string_view reply);

// A weight word ("75%") applied to the configured weight, capped at 256 as HAProxy's; an error
// text when the word is refused (the weight then stays).
struct AgentChange {
    std::optional<std::uint32_t> value;
    std::string_view warning;  // empty when accepted
};
AgentChange agent_weight(std::string_view word, std::uint32_t configured);
// A `maxconn:N` value (0: no limit).
AgentChange agent_maxconn(std::string_view word);

// The check's info text as HAProxy's messages show it: "via agent : down (comment)".
std::string agent_info(const AgentReply& r, std::string_view warning);

}  // namespace sluice::check
