// Diagnostics: every config message (alert, warning, notice, diag) with where it comes from,
// written in one voice: `[ALERT] (file:line) : parsing [frontend fe] : 'keyword' : message`.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace sluice::cfg {

enum class Level { Diag, Notice, Warning, Alert };

struct Location {
    std::string file;
    int line = 0;  // 1-based; 0 when the message is about the file or the whole config
};

struct Message {
    Level level;
    Location where;
    std::string context;  // "frontend fe", "global", ... or empty
    std::string keyword;  // the keyword being parsed, or empty
    std::string text;
};

// Formats one message the way every part of sluice reports config problems.
std::string format_message(const Message& m);

class Diagnostics {
  public:
    void add(Message m) { messages_.push_back(std::move(m)); }
    void alert(Location where, std::string text, std::string context = {});
    void warning(Location where, std::string text, std::string context = {});
    void notice(Location where, std::string text, std::string context = {});

    std::size_t count(Level level) const;
    bool has_alerts() const { return count(Level::Alert) > 0; }
    const std::vector<Message>& messages() const { return messages_; }

    // Writes the messages at or above `min_level` to `out`, in the order they were found.
    void print(std::FILE* out, Level min_level = Level::Notice) const;

  private:
    std::vector<Message> messages_;
};

}  // namespace sluice::cfg
