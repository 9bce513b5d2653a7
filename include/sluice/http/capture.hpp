// Header captures (`capture request header`, `capture response header`; see
// sample/capture.hpp): what a parsed head gives a transaction's Captures before any rule runs.
#pragma once

#include "sluice/http/h1_parse.hpp"
#include "sluice/sample/capture.hpp"

namespace sluice::http {

// Empties `into` for a new request, then fills the request slots naming a header with the
// value of that header's last occurrence, whole (a field repeated keeps the last one, as
// HAProxy does; an absent header leaves its slot empty). `keep_line`: also keep the request
// line (see sample::request_line_wanted).
void capture_request(const sample::CaptureConf& conf, const RequestHead& head,
                     sample::Captures& into, bool keep_line);
// The same for a final response's head, into the response slots.
void capture_response(const sample::CaptureConf& conf, const ResponseHead& head,
                      sample::Captures& into);

}  // namespace sluice::http
