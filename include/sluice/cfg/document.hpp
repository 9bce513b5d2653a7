// The parsed configuration as the reader leaves it: sections with their Parts, in file order.
// Modules turn it into runtime objects after validation (proxy::build).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/cfg/parts.hpp"

namespace sluice::cfg {

struct Section {
    SectionKind kind;
    std::string name;  // empty for global and anonymous defaults
    Location where;
    std::string defaults_name;  // the defaults it inherited from ("" = last anonymous/none)
    Parts parts;
    std::string label() const;  // "frontend fe", "defaults", "global"
};

// The named sections that are neither global nor proxies (http-errors, userlist; later peers,
// resolvers, ring): sets of settings that proxies refer to by name. They are kept in the
// global Parts, not beside the proxies in the Document, because everything that resolves such
// a reference already holds the global Parts: a keyword through ctx.global(), a module's build
// step as an argument (http::build_error_pages). Names are unique per kind (the reader checks).
struct NamedSections {
    std::vector<Section> sections;  // in file order, every kind together
    // The first section of `kind` called `name`, or nullptr.
    const Section* find(SectionKind kind, std::string_view name) const;
};

struct Document {
    Parts global;                        // the global section's settings, and the NamedSections
    std::vector<Section> defaults;       // every defaults section, in order
    std::vector<Section> proxies;        // frontend, backend and listen sections, in order
    std::vector<std::string> files;      // the files read, in order
    std::vector<LateCheck> late_checks;  // run by proxy::build, once everything is read
};

}  // namespace sluice::cfg
