// Header captures (see capture.hpp).
#include "sluice/http/capture.hpp"

namespace sluice::http {
namespace {

void capture_headers(const std::vector<sample::CaptureSlot>& slots, const HeaderList& headers,
                     bool response, sample::Captures& into) {
    for (std::size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].header.empty()) continue;  // filled by rules
        const Header* last = nullptr;
        for (const Header& h : headers.all())
            if (iequals(h.name, slots[i].header)) last = &h;
        if (last) (void)into.store(response, i, last->value);
    }
}

std::string_view version_text(Version v, std::string_view as_received) {
    switch (v) {
        case Version::Http10:
            return "HTTP/1.0";
        case Version::Http11:
            return "HTTP/1.1";
        case Version::Other:
            break;
    }
    return as_received;
}

}  // namespace

void capture_request(const sample::CaptureConf& conf, const RequestHead& head,
                     sample::Captures& into, bool keep_line) {
    into.reset(conf);
    if (keep_line)
        into.set_request_line(head.method, head.target,
                              version_text(head.version, head.version_text));
    capture_headers(conf.req, head.headers, false, into);
}

void capture_response(const sample::CaptureConf& conf, const ResponseHead& head,
                      sample::Captures& into) {
    capture_headers(conf.res, head.headers, true, into);
}

}  // namespace sluice::http
