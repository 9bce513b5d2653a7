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
    std::string_view req_body;          // the buffered body (option http-buffer-request)
};

// The path of a request target: from its first '/' (after any scheme://authority) up to '?'.
std::string_view target_path(std::string_view target);
// The query: after the first '?', without it; empty when there is none.
std::string_view target_query(std::string_view target);

}  // namespace sluice::http
