// The bytes a connection has buffered before any protocol parses them: what `tcp-request
// content` and `tcp-response content` rules inspect (`req.payload`, `req.ssl_sni`, ...),
// attached to the evaluation Context by the stream.
#pragma once

#include <cstddef>
#include <span>

namespace sluice::sample {

struct Payload {
    std::span<const std::byte> req;  // from the client, not yet forwarded
    std::span<const std::byte> res;  // from the server, not yet forwarded
    // No more bytes will come for this evaluation (the inspect delay is over, the buffer is
    // full, the peer closed): a fetch lacking bytes then answers "none" instead of "not yet".
    bool final = true;
};

}  // namespace sluice::sample
