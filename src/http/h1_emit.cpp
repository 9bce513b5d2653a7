// Writing HTTP/1.x heads (see h1_emit.hpp).
#include "sluice/http/h1_emit.hpp"

namespace sluice::http {

void HeadWriter::connection_field(const HeaderList& headers, std::string_view ours) {
    bool started = false;
    auto token = [&](std::string_view t) {
        raw(started ? ", " : "Connection: ");
        raw(t);
        started = true;
    };
    for (const Header& h : headers.all()) {
        if (!iequals(h.name, "connection")) continue;
        std::string_view rest = h.value;
        while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            std::string_view t = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            while (!t.empty() && (t.front() == ' ' || t.front() == '\t'))
                t.remove_prefix(1);
            while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
                t.remove_suffix(1);
            if (t.empty() || iequals(t, "close") || iequals(t, "keep-alive")) continue;
            token(t);
        }
    }
    if (!ours.empty()) token(ours);
    if (started) raw("\r\n");
}

}  // namespace sluice::http
