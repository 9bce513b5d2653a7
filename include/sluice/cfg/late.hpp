// Checks that need the whole configuration. A line may name a section declared further down (a
// proxy's ACL names a userlist that comes after it, which HAProxy allows), so whether the name
// exists is only known once every file is read. The code that meets such a name while a keyword
// is parsed registers a check with defer_check(), even from deep inside the keyword's parse (a
// sample fetch's prepare hook, which has no cfg::Ctx at hand); the reader files it with the
// line being parsed, and run_late_checks() runs them all after the last file, reporting each
// failure at its line as if the keyword had said it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/diag.hpp"

namespace sluice::cfg {

struct Document;

// An error message, or an empty string when all is well; several messages are separated by
// '\n'. A check may also finish what its line started (bind a reference to the section it
// names).
using LateCheckFn = std::function<std::string(const Document& doc)>;

struct LateCheck {
    Location where;
    std::string context;  // "frontend 'fe'"
    std::string keyword;
    LateCheckFn check;
    Level level = Level::Alert;  // what a failure is reported as
};

// Files `check` under the line being parsed. Returns false, and files nothing, when no config
// line is being parsed (an expression parsed on its own, as unit tests do).
// `level`: Warning for a check whose failure leaves the config valid (a setting ignored).
bool defer_check(LateCheckFn check, Level level = Level::Alert);

// The config line being parsed (its file and number), or null when none is (a runtime
// reference describes the line that created it).
const Location* current_location();

// Runs every check in the order the lines came, each reported at most once per line and text
// (an expression the parser tried twice registers twice).
void run_late_checks(const Document& doc, Diagnostics& diag);

// The reader opens one around each keyword's parse: defer_check() files checks into `sink`
// meanwhile. Scopes nest; the innermost one receives.
class LateCheckScope {
  public:
    LateCheckScope(std::vector<LateCheck>& sink, const Location& where, std::string_view context,
                   std::string_view keyword);
    ~LateCheckScope();
    LateCheckScope(const LateCheckScope&) = delete;
    LateCheckScope& operator=(const LateCheckScope&) = delete;

  private:
    friend bool defer_check(LateCheckFn check, Level level);
    friend const Location* current_location();
    std::vector<LateCheck>& sink_;
    const Location& where_;
    std::string_view context_;
    std::string_view keyword_;
    LateCheckScope* outer_;
};

}  // namespace sluice::cfg
