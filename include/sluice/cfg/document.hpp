// The parsed configuration as the reader leaves it: sections with their Parts, in file order.
// Modules turn it into runtime objects after validation (proxy::build).
#pragma once

#include <string>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/keyword.hpp"
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

struct Document {
    Parts global;
    std::vector<Section> defaults;   // every defaults section, in order
    std::vector<Section> proxies;    // frontend, backend and listen sections, in order
    std::vector<std::string> files;  // the files read, in order
};

}  // namespace sluice::cfg
