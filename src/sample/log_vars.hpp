// Private to sample/format.cpp and sample/log_vars.cpp: the log-format variables' table and the
// writers that turn what a variable produced into text (with its flags) or JSON.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sluice/log/record.hpp"

namespace sluice::sample {

// What a variable produced, before the flags and the mode shape it. Every kind has its own
// rules in HAProxy's logs: numbers are never quoted, dates never quoted nor escaped, an empty
// text is "-" but an empty URI part is nothing, and so on.
struct LogValue {
    enum class Kind : std::uint8_t {
        Text,  // a name, an id: "-" when empty
        Url,   // request line parts: '#XX' for '"', '#' and non-printable bytes; nothing when empty
        Number,    // with `prefix` ('+': logasap, redispatch) when set
        Raw,       // dates, termination states: written as they are
        Ip,        // `address`: the IP, or hex with +X; "-" without an IP
        Port,      // `address`: the port, or %04X with +X; "-" without an IP
        Captures,  // `captures`: "{a|b}" or, with `clf`, "a b" (header captures)
    };
    Kind kind = Kind::Text;
    char prefix = 0;
    bool clf = false;
    std::int64_t number = 0;
    std::string_view text;
    const net::Address* address = nullptr;
    std::span<const log::Record::Captured> captures;
    std::array<char, 48> buf{};  // dates are formatted here and `text` points at them
};

struct LogVar {
    std::string_view name;
    bool http_only = false;  // HAProxy refuses it in a mode tcp proxy
    // Digits of the uppercase hex form with +X; 0: +X leaves the number decimal.
    std::uint8_t hex_width = 0;
    void (*get)(const log::Record& rec, LogValue& out) = nullptr;
};

// nullptr when `name` is no variable.
const LogVar* find_log_var(std::string_view name);

// Text of a log line or a rule: `value` with `flags` (kFlagQuote...).
void write_log_value(const LogValue& value, const LogVar& var, std::uint8_t flags,
                     std::string& out);
// A string with flags: `dash` puts "-" for an empty unquoted string (log lines).
void write_log_text(std::string_view text, std::uint8_t flags, bool dash, std::string& out);
// JSON forms.
void write_json_value(const LogValue& value, std::string& out);
void write_json_string(std::string_view text, std::string& out);

}  // namespace sluice::sample
