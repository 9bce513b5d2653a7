// Helpers for sample fetches of other modules that read a proxy: the one an argument names.
#pragma once

#include "sluice/proxy/runtime.hpp"
#include "sluice/sample/registry.hpp"

namespace sluice::proxy {

// The backend named by the fetch's first argument, else the stream's current one.
const Backend* backend_arg(const sample::Args& args, sample::Context& ctx);

}  // namespace sluice::proxy
