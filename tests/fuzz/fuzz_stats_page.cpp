// Fuzzes the stats page's request parsing (stats/page.cpp): the URI after the stats prefix and
// the admin form's urlencoded body never fail; the query's fields stay within their bounds; a
// decoded form value is never longer than its text; escaped HTML holds no special character.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sluice/stats/page.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const sluice::stats::PageQuery q = sluice::stats::parse_page_query(text);
    if (q.st.size() > 4 || q.scope.size() > 20) std::abort();
    std::size_t decoded = 0;
    for (const auto& [k, v] : sluice::stats::parse_form(text))
        decoded += k.size() + v.size();
    if (decoded > size) std::abort();
    std::string html;
    sluice::stats::html_escape(html, text);
    if (html.find_first_of("<>\"'") != std::string::npos) std::abort();
    return 0;
}
