// The keyword registry and the slot setters shared by every module's keyword table.
#include "sluice/cfg/keyword.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace sluice::cfg {

std::string_view section_name(SectionKind kind) {
    switch (kind) {
        case SectionKind::Global:
            return "global";
        case SectionKind::Defaults:
            return "defaults";
        case SectionKind::Frontend:
            return "frontend";
        case SectionKind::Backend:
            return "backend";
        case SectionKind::Listen:
            return "listen";
        case SectionKind::HttpErrors:
            return "http-errors";
        case SectionKind::Userlist:
            return "userlist";
        case SectionKind::Mailers:
            return "mailers";
    }
    return "?";
}

In capabilities(SectionKind kind) {
    switch (kind) {
        case SectionKind::Global:
            return In::Global;
        case SectionKind::Defaults:
            return In::Defaults;
        case SectionKind::Frontend:
            return In::Frontend;
        case SectionKind::Backend:
            return In::Backend;
        case SectionKind::Listen:
            return In::Frontend | In::Backend;
        case SectionKind::HttpErrors:
            return In::HttpErrors;
        case SectionKind::Userlist:
            return In::Userlist;
        case SectionKind::Mailers:
            return In::Mailers;
    }
    return In::None;
}

Status Ctx::report(Level level, std::string text) {
    diag_.add({level, where_, context_, std::string(keyword_), std::move(text)});
    return level == Level::Alert     ? Status::Alert
           : level == Level::Warning ? Status::Warning
                                     : Status::Ok;
}

Status detail::set_duration_value(Args args, Ctx& ctx, util::Duration& out) {
    auto d = util::parse_duration(args[0]);
    if (!d) return ctx.alert("invalid time value '{}': {}", args[0], d.error());
    // HAProxy keeps timers in signed 32-bit milliseconds; larger values are refused there, and
    // accepting them here would make the same config mean something else.
    constexpr util::Duration kMaxTimer = std::chrono::milliseconds(INT32_MAX);
    if (*d > kMaxTimer)
        return ctx.alert("timer overflow in argument '{}' (maximum value is {} ms or ~24.8 days)",
                         args[0], INT32_MAX);
    out = *d;
    return Status::Ok;
}

Status detail::set_size_value(Args args, Ctx& ctx, std::uint64_t max, std::uint64_t& out) {
    auto v = util::parse_size(args[0]);
    if (!v) return ctx.alert("invalid size '{}': {}", args[0], v.error());
    if (*v > max) return ctx.alert("size '{}' is too large (at most {})", args[0], max);
    out = *v;
    return Status::Ok;
}

Status detail::set_uint_value(Args args, Ctx& ctx, std::uint64_t max, std::uint64_t& out) {
    auto v = util::parse_uint(args[0], max);
    if (!v)
        return ctx.alert("expects a number from 0 to {}, got '{}': {}", max, args[0], v.error());
    out = *v;
    return Status::Ok;
}

Registrar::Registrar(std::span<const Keyword> keywords) {
    Registry::instance().add(keywords);
}

Registry& Registry::instance() {
    static Registry registry;  // function-local: no static-initialisation-order trap
    return registry;
}

void Registry::add(std::span<const Keyword> keywords) {
    for (const Keyword& kw : keywords) {
        for (const Keyword* existing : keywords_) {
            // Two modules claiming one keyword is a build mistake: refuse to start.
            if (existing->name == kw.name && any(existing->in, kw.in)) {
                std::fprintf(stderr, "sluice: keyword '%.*s' registered twice\n",
                             static_cast<int>(kw.name.size()), kw.name.data());
                std::abort();
            }
        }
        keywords_.push_back(&kw);
    }
}

const Keyword* Registry::find(std::string_view name, SectionKind kind) const {
    // When no keyword of that name fits the section, prefer one of the same family (a proxy
    // keyword for a proxy section), so the message says "ignored: no backend capability"
    // rather than "global only", whatever order the modules registered in.
    const In family = kind == SectionKind::Global ? In::Global
                      : is_named_section(kind)    ? capabilities(kind)
                                                  : kAnyProxy;
    const Keyword* same_family = nullptr;
    const Keyword* elsewhere = nullptr;
    for (const Keyword* kw : keywords_) {
        if (kw->name != name) continue;
        if (any(kw->in, capabilities(kind))) return kw;
        if (!same_family && any(kw->in, family)) same_family = kw;
        if (!elsewhere) elsewhere = kw;
    }
    return same_family ? same_family : elsewhere;
}

const Keyword* Registry::find(std::span<const std::string> words, SectionKind kind) const {
    if (words.empty()) return nullptr;
    if (words.size() >= 2) {
        std::string two = words[0] + ' ' + words[1];
        if (const Keyword* kw = find(std::string_view(two), kind)) return kw;
    }
    return find(std::string_view(words[0]), kind);
}

std::vector<const Keyword*> Registry::all() const {
    return keywords_;
}

}  // namespace sluice::cfg
