// Checks that run once every config file is read (see late.hpp).
#include "sluice/cfg/late.hpp"

#include <algorithm>

#include "sluice/cfg/document.hpp"

namespace sluice::cfg {
namespace {

// The config is read on one thread; a scope lives only while one keyword is parsed there.
thread_local LateCheckScope* current = nullptr;

}  // namespace

LateCheckScope::LateCheckScope(std::vector<LateCheck>& sink, const Location& where,
                               std::string_view context, std::string_view keyword)
    : sink_(sink), where_(where), context_(context), keyword_(keyword), outer_(current) {
    current = this;
}

LateCheckScope::~LateCheckScope() {
    current = outer_;
}

bool defer_check(LateCheckFn check, Level level) {
    if (!current) return false;
    current->sink_.push_back({.where = current->where_,
                              .context = std::string(current->context_),
                              .keyword = std::string(current->keyword_),
                              .check = std::move(check),
                              .level = level});
    return true;
}

const Location* current_location() {
    return current ? &current->where_ : nullptr;
}

void run_late_checks(const Document& doc, Diagnostics& diag) {
    std::vector<Message> said;
    for (const LateCheck& c : doc.late_checks) {
        const std::string errors = c.check(doc);
        // One message per line of the answer (a defaults line may fail for several proxies).
        std::size_t from = 0;
        while (from < errors.size()) {
            std::size_t to = errors.find('\n', from);
            if (to == std::string::npos) to = errors.size();
            Message m{c.level, c.where, c.context, c.keyword, errors.substr(from, to - from)};
            from = to + 1;
            const bool again = std::any_of(said.begin(), said.end(), [&](const Message& s) {
                return s.where.file == m.where.file && s.where.line == m.where.line &&
                       s.text == m.text;
            });
            if (again) continue;
            said.push_back(m);
            diag.add(std::move(m));
        }
    }
}

}  // namespace sluice::cfg
