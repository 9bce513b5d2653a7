// The runtime API's `show errors [<iid>|<proxy>] [request|response]`: the last invalid request
// of each frontend and the last invalid response of each backend (http/error_capture.hpp), in
// HAProxy 2.6's layout and order (by proxy id, a proxy's request before its response).
#include <algorithm>
#include <cctype>

#include "session.hpp"
#include "sluice/http/error_capture.hpp"

namespace sluice::cli {
namespace {

// The id filter as HAProxy reads it: a number (C's atoi: leading digits, anything after them
// ignored), else a proxy's name; 0 is no number.
std::int64_t leading_number(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
        ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
    std::int64_t v = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && v < (1LL << 40); ++i)
        v = v * 10 + (text[i] - '0');
    return negative ? -v : v;
}

struct Entry {
    std::int64_t id;
    bool response;
    std::string_view name;
    const http::ErrorSlot* slot;
};

void cmd_show_errors(Ctx& ctx) {
    // HAProxy counts its CLI's own proxy first, so with a stats socket (there is one: this
    // command came through it) the config's proxies start at 2 (stats::proxy_id_base).
    const std::uint32_t base = 1;
    std::int64_t only = -1;
    if (ctx.args.size() > 2 && !ctx.args[2].empty()) {
        only = leading_number(ctx.args[2]);
        if (only == 0) {
            // A backend's name first, as HAProxy looks them up.
            const std::string_view name = ctx.args[2];
            if (const proxy::Backend* be = ctx.config.find_backend(name)) {
                only = be->uid + base;
            } else {
                auto fe = std::find_if(ctx.config.frontends.begin(), ctx.config.frontends.end(),
                                       [&](const auto& f) { return f->name == name; });
                if (fe == ctx.config.frontends.end()) {
                    ctx.error("No such proxy.");
                    return;
                }
                only = (*fe)->uid + base;
            }
        }
    }
    const std::string_view which = ctx.args.size() > 3 ? std::string_view(ctx.args[3]) : "";
    const bool requests = which != "response";
    const bool responses = which != "request";

    ctx.printf("Total events captured on {} : {}\n", http::error_date(http::wall_clock_us()),
               http::error_events());
    std::vector<Entry> entries;
    if (requests)
        for (const auto& fe : ctx.config.frontends)
            entries.push_back({fe->uid + base, false, fe->name, &fe->invalid_request});
    if (responses)
        for (const auto& be : ctx.config.backends)
            entries.push_back({be->uid + base, true, be->name, &be->invalid_response});
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return a.id != b.id ? a.id < b.id : !a.response && b.response;
    });
    for (const Entry& e : entries) {
        const std::shared_ptr<const http::ErrorSnapshot> s = e.slot->load();
        if (!s) continue;
        // A proxy's id selects its own captures and those it took part in as the other end.
        if (only >= 0 && e.id != only && s->peer_id != only) continue;
        http::dump_snapshot(ctx.out, *s, e.response, e.name, e.id);
    }
}

constexpr Command kCommands[] = {
    {.words = "show errors",
     .usage = "show errors [<px>] [request|response]",
     .help = "dump the last invalid request and response of each proxy",
     .level = Level::Operator,
     .run = cmd_show_errors},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
