// The fetch and converter tables (see registry.hpp).
#include "sluice/sample/registry.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "sluice/util/suggest.hpp"

namespace sluice::sample {
namespace {

// Function-local statics: registrars in other translation units may run first.
std::map<std::string_view, const Fetch*>& fetches() {
    static std::map<std::string_view, const Fetch*> m;
    return m;
}
std::map<std::string_view, const Converter*>& converters() {
    static std::map<std::string_view, const Converter*> m;
    return m;
}

template <class T>
void add(std::map<std::string_view, const T*>& table, std::span<const T> items, const char* what) {
    for (const T& item : items) {
        if (!table.emplace(item.name, &item).second) {
            // Two modules claiming one name is a build mistake, not a config error.
            std::fprintf(stderr, "sluice: %s '%.*s' registered twice\n", what,
                         static_cast<int>(item.name.size()), item.name.data());
            std::abort();
        }
    }
}

template <class T>
std::string nearest_in(const std::map<std::string_view, const T*>& table, std::string_view name) {
    std::vector<std::string_view> names;
    names.reserve(table.size());
    for (const auto& [n, _] : table)
        names.push_back(n);
    return std::string(util::nearest(name, names));
}

}  // namespace

FetchRegistrar::FetchRegistrar(std::span<const Fetch> items) {
    add(fetches(), items, "sample fetch");
}
ConverterRegistrar::ConverterRegistrar(std::span<const Converter> items) {
    add(converters(), items, "converter");
}

const Fetch* find_fetch(std::string_view name) {
    auto it = fetches().find(name);
    return it == fetches().end() ? nullptr : it->second;
}
const Converter* find_converter(std::string_view name) {
    auto it = converters().find(name);
    return it == converters().end() ? nullptr : it->second;
}
std::string nearest_fetch(std::string_view name) {
    return nearest_in(fetches(), name);
}
std::string nearest_converter(std::string_view name) {
    return nearest_in(converters(), name);
}

}  // namespace sluice::sample
