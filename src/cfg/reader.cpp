// Reading config files: lines -> words -> conditional blocks -> sections -> keywords.
// Owns the section grammar (global, defaults, frontend, backend, listen, and the named sections
// such as http-errors) and defaults inheritance; what a keyword means belongs to the module that
// registered it.
#include "sluice/cfg/reader.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sluice/cfg/keyword.hpp"
#include "sluice/util/build.hpp"
#include "sluice/util/suggest.hpp"

namespace sluice::cfg {
namespace {

struct SectionWord {
    std::string_view word;
    SectionKind kind;
};
constexpr SectionWord kSections[] = {
    {"global", SectionKind::Global},     {"defaults", SectionKind::Defaults},
    {"frontend", SectionKind::Frontend}, {"backend", SectionKind::Backend},
    {"listen", SectionKind::Listen},     {"http-errors", SectionKind::HttpErrors},
    {"userlist", SectionKind::Userlist}, {"mailers", SectionKind::Mailers},
};

// Sections HAProxy 2.6 has that we do not read yet: the header is an alert and the body is
// skipped, so one unsupported section gives one clear message, not one per line.
struct UnsupportedSection {
    std::string_view word;
    std::string_view comes_with;
};
constexpr UnsupportedSection kUnsupportedSections[] = {
    {"peers", "stick tables and peers (roadmap item 9)"},
    {"resolvers", "DNS resolvers (roadmap item 12)"},
    {"program", "master-worker mode (roadmap item 8)"},
    {"ring", "logging (issue #8)"},
    {"cache", "the HTTP cache (roadmap item 11)"},
    {"fcgi-app", "FastCGI (not planned yet)"},
};

// HAProxy's rule for proxy names, which it applies to the named sections too.
bool valid_proxy_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':';
}

bool is_cfg_file(const std::string& name) {
    return name.size() > 4 && name.compare(name.size() - 4, 4, ".cfg") == 0;
}

}  // namespace

std::string Section::label() const {
    if (name.empty()) return std::string(section_name(kind));
    return fmt::format("{} '{}'", section_name(kind), name);
}

const Section* NamedSections::find(SectionKind kind, std::string_view name) const {
    for (const Section& s : sections)
        if (s.kind == kind && s.name == name) return &s;
    return nullptr;
}

Reader::Reader(Document& doc, Diagnostics& diag, ConditionEnv cond)
    : doc_(doc), diag_(diag), cond_(std::move(cond)) {}

void Reader::read_path(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR* dir = ::opendir(path.c_str());
        if (!dir) {
            diag_.alert({path, 0}, fmt::format("cannot open configuration directory: {}",
                                               std::strerror(errno)));
            return;
        }
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(dir)) {
            std::string name = e->d_name;
            if (name.starts_with('.') || !is_cfg_file(name)) continue;  // as HAProxy
            const std::string full = path + "/" + name;
            struct stat fst {};
            if (::stat(full.c_str(), &fst) == 0 && S_ISREG(fst.st_mode)) names.push_back(full);
        }
        ::closedir(dir);
        std::sort(names.begin(), names.end());
        for (const std::string& f : names)
            read_path(f);
        return;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diag_.alert({path, 0}, fmt::format("cannot open configuration file: {}",
                                           std::strerror(errno ? errno : ENOENT)));
        return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    read_text(path, text.str());
}

void Reader::read_text(std::string_view name, std::string_view text) {
    doc_.files.emplace_back(name);
    // Each file starts outside any section, with no open conditional block (as HAProxy).
    current_ = Current::None;
    conds_ = ConditionalStack{};
    const std::string_view whole = text;
    int line_no = 0;
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        ++line_no;
        read_line({std::string(name), line_no}, line);
    }
    // A config cut short (full disk, interrupted copy) usually ends mid-line; HAProxy refuses
    // it rather than run half a config, and so do we.
    if (!whole.empty() && whole.back() != '\n')
        diag_.alert(
            {std::string(name), line_no},
            fmt::format(
                "missing LF on last line, file might have been truncated at "
                "position {}",
                whole.size() -
                    (whole.rfind('\n') == std::string_view::npos ? 0 : whole.rfind('\n') + 1) + 1));
    if (conds_.depth() != 0)
        diag_.alert({std::string(name), line_no}, "missing '.endif' at end of file");
}

void Reader::read_line(const Location& where, std::string_view line) {
    auto tokens = tokenize_line(line, cond_.env);
    if (!tokens) {
        diag_.alert(where, tokens.error());
        return;
    }
    if (conds_.active())
        for (const TokenizeWarning& w : tokens->warnings)
            diag_.warning(where, w.message);
    const std::vector<std::string>& words = tokens->words;
    if (words.empty()) return;

    if (words[0].starts_with('.')) {  // unknown ones (".iff") are reported by apply()
        auto outcome = conds_.apply(words, cond_);
        if (!outcome) {
            diag_.alert(where, outcome.error());
            return;
        }
        switch (outcome->level) {
            case MessageLevel::None:
                break;
            case MessageLevel::Diag:
                diag_.add({Level::Diag, where, {}, {}, outcome->message});
                break;
            case MessageLevel::Notice:
                diag_.notice(where, outcome->message);
                break;
            case MessageLevel::Warning:
                diag_.warning(where, outcome->message);
                break;
            case MessageLevel::Alert:
                diag_.alert(where, outcome->message);
                break;
        }
        return;
    }
    if (!conds_.active()) return;

    for (const SectionWord& s : kSections) {
        if (words[0] == s.word) {
            begin_section(where, s.kind, Args(words).subspan(1));
            return;
        }
    }
    for (const UnsupportedSection& s : kUnsupportedSections) {
        if (words[0] == s.word) {
            diag_.alert(where, fmt::format("section '{}' is not supported yet; it comes with {}",
                                           s.word, s.comes_with));
            current_ = Current::Unsupported;
            return;
        }
    }
    current_line_ = line;
    dispatch(where, words);
    current_line_ = {};
}

void Reader::begin_section(const Location& where, SectionKind kind, Args args) {
    if (is_named_section(kind)) {
        begin_named_section(where, kind, args);
        return;
    }
    if (kind == SectionKind::Global) {
        // Several global sections merge into one, as in HAProxy.
        if (!args.empty())
            diag_.alert(where, fmt::format("'global' takes no argument (got '{}')", args[0]));
        current_ = Current::Global;
        return;
    }

    Section section{.kind = kind, .name = {}, .where = where, .defaults_name = {}, .parts = {}};
    std::size_t next = 0;
    if (!args.empty() && args[0] != "from") section.name = args[next++];
    const std::string label(section_name(kind));
    if (section.name.empty() && kind != SectionKind::Defaults) {
        diag_.alert(where, fmt::format("'{}' needs a name", label));
        section.name = fmt::format("<unnamed@{}>", where.line);
    }
    for (char c : (args.empty() || args[0] == "from" ? std::string() : section.name)) {
        if (!valid_proxy_name_char(c)) {
            diag_.alert(where, fmt::format("character '{}' is not permitted in {} name '{}'", c,
                                           label, section.name));
            break;
        }
    }

    const Section* parent = doc_.defaults.empty() ? nullptr : &doc_.defaults.back();
    if (next < args.size() && args[next] == "from") {
        if (next + 1 >= args.size()) {
            diag_.alert(where, fmt::format("'from' needs the name of a defaults section"));
        } else {
            const std::string& from = args[next + 1];
            auto it = std::find_if(doc_.defaults.begin(), doc_.defaults.end(),
                                   [&](const Section& d) { return d.name == from; });
            const auto named = std::count_if(doc_.defaults.begin(), doc_.defaults.end(),
                                             [&](const Section& d) { return d.name == from; });
            if (named > 1) {
                diag_.alert(where, fmt::format("ambiguous defaults section name '{}' (declared "
                                               "{} times)",
                                               from, named));
            } else if (it == doc_.defaults.end()) {
                diag_.alert(where, fmt::format("{} '{}' inherits from defaults section '{}', "
                                               "which is not declared before it",
                                               label, section.name, from));
            } else {
                parent = &*it;
            }
        }
        next += 2;
    } else if (kind == SectionKind::Defaults) {
        parent = nullptr;  // a defaults section starts from scratch unless it says `from`
    }
    if (next < args.size())
        diag_.alert(where, fmt::format("unexpected '{}' after the {} name", args[next], label));

    if (parent) {
        section.parts = parent->parts;
        section.defaults_name = parent->name;
    }
    if (kind == SectionKind::Defaults) {
        doc_.defaults.push_back(std::move(section));
        index_ = doc_.defaults.size() - 1;
        current_ = Current::Defaults;
    } else {
        doc_.proxies.push_back(std::move(section));
        index_ = doc_.proxies.size() - 1;
        current_ = Current::Proxy;
    }
}

// A named section has a name and nothing else: no defaults, no `from`. A second section of the
// same kind and name is an alert (HAProxy's rule for http-errors, peers, userlist, ...); it is
// still read, so that its lines are checked, but lookups find the first one.
void Reader::begin_named_section(const Location& where, SectionKind kind, Args args) {
    const std::string_view label = section_name(kind);
    NamedSections& named = doc_.global.get<NamedSections>();
    Section section{.kind = kind, .name = {}, .where = where, .defaults_name = {}, .parts = {}};
    if (args.empty()) {
        diag_.alert(where, fmt::format("'{}' needs a name", label));
        section.name = fmt::format("<unnamed@{}>", where.line);
    } else {
        section.name = args[0];
        for (char c : section.name) {
            if (!valid_proxy_name_char(c)) {
                diag_.alert(where, fmt::format("character '{}' is not permitted in {} name '{}'", c,
                                               label, section.name));
                break;
            }
        }
        if (const Section* first = named.find(kind, section.name))
            diag_.alert(where, fmt::format("{} section '{}' is already declared at {}:{}", label,
                                           section.name, first->where.file, first->where.line));
        // HAProxy 2.6 ignores them silently; a warning costs nothing and catches a typo.
        if (args.size() > 1)
            diag_.warning(where, fmt::format("ignoring '{}' after the {} name", args[1], label));
    }
    named.sections.push_back(std::move(section));
    index_ = named.sections.size() - 1;
    current_ = Current::Named;
}

void Reader::dispatch(const Location& where, std::span<const std::string> words) {
    if (current_ == Current::Unsupported) return;  // alerted once at the section header
    if (current_ == Current::None) {
        diag_.alert(where, fmt::format("unknown keyword '{}' out of section", words[0]));
        return;
    }
    Section* section = nullptr;
    SectionKind kind = SectionKind::Global;
    if (current_ == Current::Defaults) section = &doc_.defaults[index_];
    if (current_ == Current::Proxy) section = &doc_.proxies[index_];
    if (current_ == Current::Named) section = &doc_.global.get<NamedSections>().sections[index_];
    if (section) kind = section->kind;
    const std::string context = section ? section->label() : std::string("global");
    Parts& parts = section ? section->parts : doc_.global;

    const bool negated = words[0] == "no" && words.size() > 1;
    std::span<const std::string> rest = negated ? words.subspan(1) : words;
    const Registry& registry = Registry::instance();
    const Keyword* kw = registry.find(rest, kind);

    if (!kw) {
        // For keyword families ("option x", "timeout x"), suggest among the two-word names.
        std::string typed = rest[0];
        // Suggest among every keyword, as HAProxy does: `balance` typed as `balanse` in a
        // frontend is still most likely a typo of `balance`.
        std::vector<std::string_view> names;
        for (const Keyword* k : registry.all())
            if (k->pending.empty()) names.push_back(k->name);
        const std::string family = rest[0] + ' ';
        const bool is_family = std::any_of(
            names.begin(), names.end(), [&](std::string_view n) { return n.starts_with(family); });
        if (is_family && rest.size() >= 2) typed = family + rest[1];
        diag_.alert(where,
                    fmt::format("unknown keyword '{}' in '{}' section{}", typed, section_name(kind),
                                util::did_you_mean(typed, names)),
                    context);
        return;
    }

    Ctx ctx(diag_, where, context, kind, parts, doc_.global, section ? section->name : "");
    ctx.begin_keyword(kw->name, negated);
    ctx.set_line(current_line_);
    const In caps = capabilities(kind);
    if (!any(kw->in, caps)) {
        const bool proxy_keyword = any(kw->in, kFrontendSide | In::Backend);
        if (proxy_keyword && (kind == SectionKind::Frontend || kind == SectionKind::Backend)) {
            // HAProxy ignores such lines with a warning rather than failing the config, except
            // for the few whose loss would change where traffic goes (a `server`).
            const std::string_view missing = kind == SectionKind::Frontend ? "backend" : "frontend";
            if (kw->fatal_on_wrong_side)
                (void)ctx.alert("not allowed: a {} has no {} capability", section_name(kind),
                                missing);
            else
                (void)ctx.warning("ignored: a {} has no {} capability", section_name(kind),
                                  missing);
        } else if (any(kw->in, In::Global)) {
            (void)ctx.alert("allowed only in the 'global' section");
        } else {
            (void)ctx.alert("not allowed in a '{}' section", section_name(kind));
        }
        return;
    }
    if (!kw->pending.empty()) {
        (void)ctx.alert("not implemented yet; it comes with {}", kw->pending);
        return;
    }
    if (negated && !kw->negatable) {
        (void)ctx.alert("cannot be negated with 'no'");
        return;
    }
    const std::size_t name_words =
        1 + static_cast<std::size_t>(std::count(kw->name.begin(), kw->name.end(), ' '));
    Args args = rest.subspan(name_words);
    if (args.size() < kw->arity.min || (kw->arity.max != 255 && args.size() > kw->arity.max)) {
        if (kw->arity.min == kw->arity.max)
            (void)ctx.alert("expects {} argument{}, got {}", kw->arity.min,
                            kw->arity.min == 1 ? "" : "s", args.size());
        else if (args.size() < kw->arity.min)
            (void)ctx.alert("expects at least {} argument{}, got {}", kw->arity.min,
                            kw->arity.min == 1 ? "" : "s", args.size());
        else
            (void)ctx.alert("expects at most {} argument{}, got {}", kw->arity.max,
                            kw->arity.max == 1 ? "" : "s", args.size());
        return;
    }
    if (!kw->pending.empty()) {
        (void)ctx.alert("not implemented yet; it comes with {}", kw->pending);
        return;
    }
    if (!kw->deprecation.empty()) (void)ctx.warning("{}", kw->deprecation);
    const LateCheckScope late(doc_.late_checks, where, context, kw->name);
    if (!kw->alias_of.empty()) {
        const Keyword* target = registry.find(kw->alias_of, kind);
        if (!target) {
            (void)ctx.alert("obsolete, and its replacement '{}' is not available", kw->alias_of);
            return;
        }
        ctx.begin_keyword(target->name, negated);
        (void)target->parse(args, ctx);
        return;
    }
    (void)kw->parse(args, ctx);
}

ConditionEnv default_condition_env() {
    return ConditionEnv{.env = process_env(),
                        .has_feature = [](std::string_view f) { return build::has_feature(f); },
                        .version = build::compat_version()};
}

}  // namespace sluice::cfg
