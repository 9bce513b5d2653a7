// What HTTP sample fetches read of a transaction: the parsed heads (views into the connection
// buffers), attached to the evaluation Context by the stream.
#pragma once

#include <cstddef>
#include <string_view>

#include "sluice/http/h1_parse.hpp"

namespace sluice::http {

struct Txn {
    const RequestHead* req = nullptr;
    const ResponseHead* res = nullptr;  // once the response head is parsed
    std::size_t req_len = 0;            // request bytes buffered (head and body so far)
    // The request body bytes buffered with the head (all of them with option
    // http-buffer-request), as received: `req_body_chunked` says they still hold chunk framing,
    // which the body fetches remove.
    std::string_view req_body;
    bool req_body_chunked = false;
    // The request's version, for response rules, which have no request head (capture.req.ver).
    Version req_version = Version::Http11;
    // The same for the response body, in response rules (all of it with http-response
    // wait-for-body, else what came with the head).
    std::string_view res_body = {};
    bool res_body_chunked = false;
};

// The path of a request target: from its first '/' (after any scheme://authority) up to '?'.
std::string_view target_path(std::string_view target);
// The query: after the first '?', without it; empty when there is none.
std::string_view target_query(std::string_view target);

}  // namespace sluice::http
