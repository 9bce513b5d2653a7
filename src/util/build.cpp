// Build facts (see build.hpp). Flip a feature to true in the change that makes it usable.
#include "sluice/util/build.hpp"

#include <fmt/format.h>

namespace sluice::build {
namespace {
constexpr Feature kFeatures[] = {
    {"51DEGREES", false},    {"ACCEPT4", true},      {"BACKTRACE", false},
    {"CLOSEFROM", false},    {"CPU_AFFINITY", true}, {"CRYPT_H", false},
    {"DEVICEATLAS", false},  {"DL", false},          {"ENGINE", false},
    {"EPOLL", true},         {"EVPORTS", false},     {"GETADDRINFO", true},
    {"KQUEUE", false},       {"LIBCRYPT", false},    {"LINUX_SPLICE", true},
    {"LINUX_TPROXY", false}, {"LUA", false},         {"MEMORY_PROFILING", false},
    {"NETFILTER", false},    {"NS", false},          {"OBSOLETE_LINKER", false},
    {"OPENSSL", false},      {"OT", false},          {"PCRE", false},
    {"PCRE2", false},        {"PCRE2_JIT", false},   {"PCRE_JIT", false},
    {"POLL", false},         {"PRCTL", false},       {"PROCCTL", false},
    {"PROMEX", false},       {"QUIC", false},        {"RT", false},
    {"SLZ", false},          {"STATIC_PCRE", false}, {"STATIC_PCRE2", false},
    {"SYSTEMD", false},      {"TFO", true},          {"THREAD", true},
    {"THREAD_DUMP", false},  {"TPROXY", false},      {"WURFL", false},
    {"ZLIB", false},
};
}  // namespace

std::span<const Feature> features() {
    return kFeatures;
}

bool has_feature(std::string_view name) {
    for (const Feature& f : kFeatures)
        if (f.name == name) return f.enabled;
    return false;
}

std::string version() {
    return fmt::format("{}-sluice-{}", SLUICE_HAPROXY_COMPAT, SLUICE_VERSION);
}

std::string_view compat_version() {
    return SLUICE_HAPROXY_COMPAT;
}

}  // namespace sluice::build
