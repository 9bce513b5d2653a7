// The runtime API's map and ACL commands: show, get, add (with `<<` payloads), del, set,
// clear, prepare and commit, on the references of sample/pattern_ref.hpp, answering as HAProxy
// 2.6 does. HAProxy 2.6 lets every level run them, so do we.
#include <charconv>

#include "sluice/cli/command.hpp"
#include "sluice/sample/pattern_ref.hpp"

namespace sluice::cli {
namespace {

using sample::PatternRef;

struct Kind {
    bool map;
    std::uint8_t flag() const { return map ? PatternRef::Map : PatternRef::Acl; }
    std::string_view word() const { return map ? "map" : "ACL"; }
    std::string_view cmd() const { return map ? "map" : "acl"; }
};

template <bool Map>
constexpr Kind kKind{Map};

void unknown(Ctx& ctx, Kind k) {
    ctx.error(fmt::format("Unknown {} identifier. Please use #<id> or <file>.", k.word()));
}

// HAProxy reads a version as strtoul does: the leading digits, 0 without any.
std::uint32_t parse_version(std::string_view word) {
    std::uint32_t v = 0;
    (void)std::from_chars(word.data(), word.data() + word.size(), v);
    return v;
}

// The words after the command's own two, with an optional leading `@<ver>` taken out.
struct Rest {
    std::optional<std::uint32_t> version;
    std::span<const std::string> args;
};
Rest rest_of(const Ctx& ctx) {
    Rest r{{}, ctx.args.subspan(2)};
    if (!r.args.empty() && r.args[0].starts_with('@')) {
        r.version = parse_version(std::string_view(r.args[0]).substr(1));
        r.args = r.args.subspan(1);
    }
    return r;
}

// "#<hex>" names one entry (the id `show map` prints).
std::optional<std::uintptr_t> entry_id(std::string_view word) {
    if (!word.starts_with('#')) return std::nullopt;
    word.remove_prefix(1);
    if (word.starts_with("0x") || word.starts_with("0X")) word.remove_prefix(2);
    std::uintptr_t v = 0;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v, 16);
    if (ec != std::errc() || end != word.data() + word.size()) return std::uintptr_t{0};
    return v;
}

template <bool Map>
void cmd_show(Ctx& ctx) {
    constexpr Kind k = kKind<Map>;
    const Rest r = rest_of(ctx);
    if (r.args.empty()) {
        ctx.print("# id (file) description\n");
        for (const auto& ref : sample::all_refs(k.flag()))
            ctx.printf("{}\n", ref->describe());
        return;
    }
    auto ref = sample::find_ref(r.args[0], k.flag());
    if (!ref) return unknown(ctx, k);
    ref->dump(ctx.out, r.version);
}

template <bool Map>
void cmd_get(Ctx& ctx) {
    constexpr Kind k = kKind<Map>;
    if (ctx.args.size() < 4) {
        ctx.error(fmt::format("Missing {} identifier and/or key.", k.word()));
        return;
    }
    auto ref = sample::find_ref(ctx.args[2], 0);
    if (!ref) return unknown(ctx, k);
    ref->get(ctx.out, ctx.args[3], Map);
}

template <bool Map>
void cmd_add(Ctx& ctx) {
    constexpr Kind k = kKind<Map>;
    const Rest r = rest_of(ctx);
    const bool payload = !ctx.payload.empty();
    const std::size_t need = Map ? 3 : 2;
    if (r.args.empty() || (!payload && r.args.size() < need)) {
        ctx.error(Map ? "'add map' expects three parameters (map identifier, key and value) or "
                        "one parameter (map identifier) and a payload"
                      : "'add acl' expects two parameters: ACL identifier and pattern.");
        return;
    }
    auto ref = sample::find_ref(r.args[0], 0);
    if (!ref) return unknown(ctx, k);
    if (r.version && ref->in_future(*r.version)) {
        ctx.error(
            fmt::format("Version number in the future, please use 'prepare {}' before.", k.cmd()));
        return;
    }
    if (!Map && ref->has_values()) {
        ctx.error(
            "This ACL is shared with a map containing samples. You must use the command 'add "
            "map' to add values.");
        return;
    }
    std::vector<PatternRef::Item> items;
    if (payload)
        items = sample::split_entries(ctx.payload, Map);
    else
        items.push_back({r.args[1], Map ? std::string_view(r.args[2]) : std::string_view{}});
    // HAProxy ends the pattern's error with a full stop ("'x' is not a valid IPv4 or IPv6
    // address.").
    if (auto st = ref->add(r.version, items, Map); !st)
        ctx.error(st.error().ends_with('.') ? st.error() : st.error() + ".");
}

template <bool Map>
void cmd_del(Ctx& ctx) {
    constexpr Kind k = kKind<Map>;
    if (ctx.args.size() < 4) {
        ctx.error(
            fmt::format("This command expects two parameters: {} identifier and key.", k.word()));
        return;
    }
    // HAProxy 2.6 names a map here whatever the command.
    auto ref = sample::find_ref(ctx.args[2], k.flag());
    if (!ref) return unknown(ctx, kKind<true>);
    const std::string& what = ctx.args[3];
    const auto id = entry_id(what);
    const bool found = id ? ref->del_entry(*id) : ref->del_key(what);
    if (!found) ctx.error("Key not found.");
}

void cmd_set_map(Ctx& ctx) {
    if (ctx.args.size() < 5) {
        ctx.error("'set map' expects three parameters: map identifier, key and value.");
        return;
    }
    auto ref = sample::find_ref(ctx.args[2], 0);
    if (!ref) return unknown(ctx, kKind<true>);
    const std::string& what = ctx.args[3];
    bool found = false;
    const auto id = entry_id(what);
    auto st = id ? ref->set_entry(*id, ctx.args[4], found) : ref->set_key(what, ctx.args[4], found);
    if (!st)
        ctx.error(st.error());
    else if (!found)
        ctx.error(id ? "key or pattern not found." : "entry not found.");
}

template <bool Map>
void cmd_clear(Ctx& ctx) {
    constexpr Kind k = kKind<Map>;
    const Rest r = rest_of(ctx);
    if (r.args.empty()) {
        ctx.error(fmt::format("Missing {} identifier.", k.word()));
        return;
    }
    auto ref = sample::find_ref(r.args[0], k.flag());
    if (!ref) return unknown(ctx, k);
    ref->clear(r.version);
}

template <bool Map>
void cmd_prepare(Ctx& ctx) {
    constexpr Kind k = kKind<Map>;
    auto ref = ctx.args.size() > 2 ? sample::find_ref(ctx.args[2], k.flag()) : nullptr;
    if (!ref) return unknown(ctx, k);
    ctx.message(Severity::Info, fmt::format("New version created: {}", ref->prepare()));
}

template <bool Map>
void cmd_commit(Ctx& ctx) {
    constexpr Kind k = kKind<Map>;
    const Rest r = rest_of(ctx);
    if (!r.version) {
        ctx.error("Missing version number.");
        return;
    }
    if (r.args.empty()) {
        ctx.error(fmt::format("Missing {} identifier.", k.word()));
        return;
    }
    auto ref = sample::find_ref(r.args[0], k.flag());
    if (!ref) return unknown(ctx, k);
    if (!ref->commit(*r.version)) ctx.error("Version number out of range.");
}

constexpr Command kCommands[] = {
    {.words = "show map",
     .usage = "show map [@<ver>] [<map>]",
     .help = "list the maps, or the entries of one",
     .run = cmd_show<true>},
    {.words = "show acl",
     .usage = "show acl [@<ver>] [<acl>]",
     .help = "list the ACL pattern lists, or the patterns of one",
     .run = cmd_show<false>},
    {.words = "get map",
     .usage = "get map <map> <value>",
     .help = "look a value up in a map, as each of its users would",
     .run = cmd_get<true>},
    {.words = "get acl",
     .usage = "get acl <acl> <value>",
     .help = "match a value against an ACL pattern list",
     .run = cmd_get<false>},
    {.words = "add map",
     .usage = "add map [@<ver>] <map> <key> <value>",
     .help = "add an entry to a map (or several, one per payload line)",
     .run = cmd_add<true>},
    {.words = "add acl",
     .usage = "add acl [@<ver>] <acl> <pattern>",
     .help = "add a pattern to an ACL pattern list",
     .run = cmd_add<false>},
    {.words = "del map",
     .usage = "del map <map> <key>|#<id>",
     .help = "remove a map's entries with that key, or one entry",
     .run = cmd_del<true>},
    {.words = "del acl",
     .usage = "del acl <acl> <pattern>|#<id>",
     .help = "remove an ACL's patterns equal to that one, or one entry",
     .run = cmd_del<false>},
    {.words = "set map",
     .usage = "set map <map> <key>|#<id> <value>",
     .help = "change the value of a map's entries with that key, or of one entry",
     .run = cmd_set_map},
    {.words = "clear map",
     .usage = "clear map [@<ver>] <map>",
     .help = "remove every entry of a map (version)",
     .run = cmd_clear<true>},
    {.words = "clear acl",
     .usage = "clear acl [@<ver>] <acl>",
     .help = "remove every pattern of an ACL pattern list (version)",
     .run = cmd_clear<false>},
    {.words = "prepare map",
     .usage = "prepare map <map>",
     .help = "start a new version of a map, to be filled then committed",
     .run = cmd_prepare<true>},
    {.words = "prepare acl",
     .usage = "prepare acl <acl>",
     .help = "start a new version of an ACL pattern list",
     .run = cmd_prepare<false>},
    {.words = "commit map",
     .usage = "commit map @<ver> <map>",
     .help = "make a prepared map version the one matched, at once",
     .run = cmd_commit<true>},
    {.words = "commit acl",
     .usage = "commit acl @<ver> <acl>",
     .help = "make a prepared ACL version the one matched, at once",
     .run = cmd_commit<false>},
};
const CommandRegistrar kRegistered{kCommands};

}  // namespace
}  // namespace sluice::cli
