// Reads config files into a Document: lines, conditional blocks, sections, keywords.
// Parsing goes on after an error so that `-c` reports every problem at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/conditions.hpp"
#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/document.hpp"

namespace sluice::cfg {

class Reader {
  public:
    Reader(Document& doc, Diagnostics& diag, ConditionEnv cond);

    // A file, or a directory whose *.cfg files are read in lexical order (HAProxy's -f DIR).
    void read_path(const std::string& path);
    // Text already in memory, reported as `name` (tests, fuzzing).
    void read_text(std::string_view name, std::string_view text);

  private:
    std::string_view current_line_;  // the raw text of the line being dispatched
    void read_line(const Location& where, std::string_view line);
    void begin_section(const Location& where, SectionKind kind, Args args);
    void begin_named_section(const Location& where, SectionKind kind, Args args);
    void dispatch(const Location& where, std::span<const std::string> words);

    Document& doc_;
    Diagnostics& diag_;
    ConditionEnv cond_;
    ConditionalStack conds_;
    enum class Current { None, Global, Defaults, Proxy, Named, Unsupported };
    Current current_ = Current::None;
    std::size_t index_ = 0;  // into doc_.defaults, doc_.proxies or the NamedSections
};

// The version and features `.if` and `-cc` see: this build's -vv.
ConditionEnv default_condition_env();

}  // namespace sluice::cfg
