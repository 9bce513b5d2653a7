// `use_backend` switching, shared by both stream kinds: the first rule whose condition holds
// names the backend (statically, or by a name computed per request); else default_backend.
// Then `use-server` in the chosen backend.
#pragma once

#include "sluice/proxy/runtime.hpp"
#include "sluice/sample/sample.hpp"

namespace sluice::stream {

proxy::Backend* choose_backend(const proxy::Frontend& fe, const proxy::Config& config,
                               sample::Context& ctx);
// `use-server`: the server of the backend's first rule whose condition holds, or none.
proxy::Server* choose_server(const proxy::Backend& be, sample::Context& ctx);

}  // namespace sluice::stream
