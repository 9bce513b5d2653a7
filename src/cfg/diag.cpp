// Formatting and collecting config diagnostics (see diag.hpp for the voice).
#include "sluice/cfg/diag.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>

namespace sluice::cfg {
namespace {
// HAProxy pads the tag to one width; tools that parse its output split on " : ".
std::string_view tag(Level level) {
    switch (level) {
        case Level::Diag:
            return "[DIAG]     ";
        case Level::Notice:
            return "[NOTICE]   ";
        case Level::Warning:
            return "[WARNING]  ";
        case Level::Alert:
            return "[ALERT]    ";
    }
    return "[?]        ";
}
}  // namespace

std::string format_message(const Message& m) {
    // HAProxy's shape: `[ALERT]    (PID) : config : parsing [file:line] : text`, with the
    // section and keyword named before the text so every message says where and what.
    std::string out = fmt::format("{}({}) : config : ", tag(m.level), ::getpid());
    if (!m.where.file.empty()) {
        if (m.where.line > 0)
            out += fmt::format("parsing [{}:{}] : ", m.where.file, m.where.line);
        else
            out += fmt::format("[{}] : ", m.where.file);
    }
    if (!m.context.empty()) out += fmt::format("{} : ", m.context);
    if (!m.keyword.empty()) out += fmt::format("'{}' : ", m.keyword);
    out += m.text;
    return out;
}

void Diagnostics::alert(Location where, std::string text, std::string context) {
    add({Level::Alert, std::move(where), std::move(context), {}, std::move(text)});
}
void Diagnostics::warning(Location where, std::string text, std::string context) {
    add({Level::Warning, std::move(where), std::move(context), {}, std::move(text)});
}
void Diagnostics::notice(Location where, std::string text, std::string context) {
    add({Level::Notice, std::move(where), std::move(context), {}, std::move(text)});
}

std::size_t Diagnostics::count(Level level) const {
    return static_cast<std::size_t>(std::count_if(
        messages_.begin(), messages_.end(), [&](const Message& m) { return m.level == level; }));
}

void Diagnostics::print(std::FILE* out, Level min_level) const {
    for (const Message& m : messages_)
        if (m.level >= min_level) fmt::print(out, "{}\n", format_message(m));
    std::fflush(out);
}

}  // namespace sluice::cfg
