// Services: answers the proxy builds itself from what it knows, instead of a server's (HAProxy's
// `http-request use-service <name>` and the stats page of `stats uri`). A service gets the
// request and returns a complete response, which may be larger than a buffer: the stream sends
// it as the socket takes it. Services register by name in a table next to their code, as
// actions do; nothing here runs unless a request is sent to one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sluice/http/h1_parse.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/sample/sample.hpp"

namespace sluice::rules {

struct ServiceRequest {
    const http::RequestHead& head;
    std::span<const std::byte> body;  // the request body bytes at hand (as received)
    const proxy::Config& config;
    const proxy::Frontend& frontend;
    const proxy::Backend* backend;  // the chosen one, if any
    sample::Context& samples;       // for conditions (`stats admin if ...`) and auth
};

struct ServiceReply {
    std::uint16_t status = 200;
    // Header lines, each ending in CRLF (content-type, cache-control...); the stream adds the
    // status line, content-length and the connection header.
    std::string fields;
    std::string body;
    bool close = false;  // close the connection after it
};

class Service {
  public:
    virtual ~Service() = default;
    virtual void serve(const ServiceRequest& request, ServiceReply& reply) const = 0;
    // What a log line says in place of the server's name (HAProxy's "<STATS>", "<PROMEX>").
    virtual std::string_view log_name() const { return "<NOSRV>"; }
};

// `use-service <name>`: builds the service from the words after its name (none for most).
struct ServiceDef {
    std::string_view name;
    util::Result<std::shared_ptr<const Service>> (*make)(std::span<const std::string> args);
};
class ServiceRegistrar {
  public:
    explicit ServiceRegistrar(std::span<const ServiceDef> services);
};
const ServiceDef* find_service(std::string_view name);

// A proxy section's built-in service (HAProxy's `stats uri`): a request whose path starts with
// `uri_prefix` is answered by `service` once the section's http-request rules have run (the
// frontend's, then the backend's). In the section's cfg::Parts.
struct ProxyServiceConf {
    std::string uri_prefix;
    std::shared_ptr<const Service> service;
};

}  // namespace sluice::rules
