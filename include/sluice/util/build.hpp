// What this build is and can do: the version string scripts parse from `-v`/`-vv`, and the
// feature flags `.if feature(X)` and `-vv` report. A feature is on only when a user can use it.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace sluice::build {

struct Feature {
    std::string_view name;
    bool enabled;
};

// HAProxy 2.6's feature names, in the order `haproxy -vv` lists them.
std::span<const Feature> features();
bool has_feature(std::string_view name);

// "2.6.12-sluice-0.1.0": the HAProxy release we are compatible with, then our own version.
std::string version();
// "2.6.12": what `.if version_atleast()` compares against.
std::string_view compat_version();

}  // namespace sluice::build
