// `use_backend` switching, shared by both stream kinds: the first rule whose condition holds
// names the backend (statically, or by a name computed per request); else default_backend.
// Then `use-server` and the balance algorithm's key in the chosen backend.
#pragma once

#include "sluice/proxy/runtime.hpp"
#include "sluice/sample/sample.hpp"
#include "sluice/stream/server_attempt.hpp"

namespace sluice::stream {

proxy::Backend* choose_backend(const proxy::Frontend& fe, const proxy::Config& config,
                               sample::Context& ctx);
// What the request says about its server once the backend is chosen: `use-server` (the
// server of the backend's first rule whose condition holds) and, for a hashing balance
// algorithm, the request's key.
void choose_server(const proxy::Backend& be, sample::Context& ctx, ServerAttempt& attempt);
// Whether choose_server has anything to do for `be` (the stream then evaluates the request
// once its backend is chosen).
inline bool needs_server_choice(const proxy::Backend& be) {
    return !be.server_rules.empty() || be.balancer().hashes();
}

}  // namespace sluice::stream
