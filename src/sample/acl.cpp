// ACLs and conditions (see acl.hpp).
#include "sluice/sample/acl.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>

namespace sluice::sample {
namespace {

constexpr Use kEverything = Use::Internal | Use::Conn | Use::Req | Use::Res;

// `path_beg` is `path` matched with `-m beg`: the derived forms HAProxy spells as suffixes.
struct Suffix {
    std::string_view suffix;
    Match match;
};
constexpr Suffix kSuffixes[] = {
    {"_beg", Match::Beg},     {"_end", Match::End}, {"_sub", Match::Sub}, {"_reg", Match::Reg},
    {"_dir", Match::Dir},     {"_dom", Match::Dom}, {"_len", Match::Len}, {"_val", Match::Int},
    {"_found", Match::Found}, {"_str", Match::Str}, {"_bin", Match::Bin}, {"_ip", Match::Ip},
};

Match default_match(Type t) {
    switch (t) {
        case Type::Bool:
            return Match::Bool;
        case Type::Sint:
            return Match::Int;
        case Type::Addr:
        case Type::Ipv4:
        case Type::Ipv6:
            return Match::Ip;
        case Type::Bin:
            return Match::Bin;
        default:
            return Match::Str;
    }
}

Use uses_of(const Expr& e) {
    return e.fetch->use;
}

// The criterion as an expression, and the match method its spelling implies, if any.
util::Result<std::pair<Expr, std::optional<Match>>> parse_criterion(const std::string& crit) {
    auto direct = parse_expr(crit, kEverything);
    if (direct) return std::pair{std::move(*direct), std::optional<Match>{}};
    // The fetch name ends at '(' or ',' ; a known suffix there is the derived form.
    const std::size_t name_end = std::min(crit.find('('), crit.find(','));
    const std::string_view name = std::string_view(crit).substr(0, name_end);
    for (const Suffix& s : kSuffixes) {
        if (name.size() <= s.suffix.size() || !name.ends_with(s.suffix)) continue;
        std::string base(name.substr(0, name.size() - s.suffix.size()));
        if (!find_fetch(base)) continue;
        if (name_end != std::string::npos) base += crit.substr(name_end);
        auto derived = parse_expr(base, kEverything);
        if (!derived) return util::error(derived.error());
        return std::pair{std::move(*derived), std::optional<Match>{s.match}};
    }
    return util::error(direct.error());
}

bool is_int_operator(std::string_view w) {
    return w == "eq" || w == "ge" || w == "gt" || w == "le" || w == "lt";
}

}  // namespace

util::Result<AclLine> parse_acl_line(std::span<const std::string> words) {
    if (words.empty()) return util::error("missing ACL criterion");
    auto crit = parse_criterion(words[0]);
    if (!crit) return util::error(crit.error());
    auto [expr, derived] = std::move(*crit);
    PatternFlags flags;
    std::optional<Match> method_flag;
    std::vector<std::string> files;
    std::size_t i = 1;
    for (; i < words.size(); ++i) {
        const std::string& w = words[i];
        if (w.size() < 2 || w[0] != '-') break;
        if (w == "--") {
            ++i;
            break;
        }
        if (w == "-i") {
            flags.ignore_case = true;
        } else if (w == "-n") {
            flags.no_dns = true;
        } else if (w == "-m" || w == "-f" || w == "-M" || w == "-u") {
            if (i + 1 >= words.size()) return util::error(fmt::format("'{}' needs an argument", w));
            const std::string& arg = words[++i];
            if (w == "-m") {
                method_flag = match_from_name(arg);
                if (!method_flag) {
                    return util::error(fmt::format(
                        "unknown match method '{}' after '-m' (expected found, bool, int, ip, bin, "
                        "len, str, sub, reg, beg, end, dir or dom)",
                        arg));
                }
            } else if (w == "-f") {
                files.push_back(arg);
            } else if (w == "-M") {
                return util::error("'-M' (pattern files given as maps) is not supported yet");
            }
            // -u ID: HAProxy's unique id of the pattern list, for the runtime API: accepted.
        } else {
            // HAProxy too: a pattern starting with '-' (a negative number) follows `--`.
            return util::error(fmt::format(
                "'{}' is not a valid ACL option (a pattern starting with '-' goes after '--')", w));
        }
    }
    if (derived && method_flag && *derived != *method_flag) {
        return util::error(fmt::format("'-m {}' conflicts with the match method implied by '{}'",
                                       match_name(*method_flag), words[0]));
    }
    const Match method = method_flag ? *method_flag
                         : derived   ? *derived
                                     : default_match(expr.type());
    AclLine line{.expr = std::move(expr), .patterns = AclPatterns(method, flags)};
    std::string_view op;
    if (i < words.size() && (method == Match::Int || method == Match::Len) &&
        is_int_operator(words[i]))
        op = words[i++];
    const std::size_t first_pattern = i;
    const RefExpr rexpr{.method = method, .flags = flags, .kind = ValueKind::None, .op = {}};
    const std::string user = fmt::format("acl at {}", config_where());
    for (const std::string& f : files) {
        auto ref = file_ref(f, false);
        if (!ref) return util::error(ref.error());
        auto at = (*ref)->attach(rexpr, PatternRef::Acl, user);
        if (!at) return util::error(at.error());
        line.patterns.refs.push_back({std::move(*ref), *at});
    }
    // The line's own patterns (HAProxy makes this reference even when there are none).
    const std::string_view criterion = words[0];
    auto own = anonymous_ref(criterion.substr(0, criterion.find_first_of("(,")));
    for (; i < words.size(); ++i)
        own->load(words[i], {}, false, 0);
    RefExpr own_expr = rexpr;
    own_expr.op = std::string(op);
    auto at = own->attach(own_expr, PatternRef::Acl, {});
    if (!at) return util::error(at.error());
    line.patterns.refs.push_back({std::move(own), *at});
    if (line.expr.fetch->check_patterns) {
        auto st =
            line.expr.fetch->check_patterns(line.expr.fetch_args, words.subspan(first_pattern));
        if (!st) return util::error(st.error());
    }
    return line;
}

namespace {

bool match_value(const AclLine& line, Context& ctx, Sample& s) {
    if (!line.expr.convert(ctx, s)) return false;
    const Match m = line.patterns.method();
    if (m == Match::Found) return true;
    if (!cast(s, match_input(m), ctx.arena())) return false;
    return line.patterns.match(s);
}

}  // namespace

std::size_t AclPatterns::size() const {
    std::size_t n = 0;
    for (const Use& u : refs)
        n += u.ref->compiled(u.expr).size();
    return n;
}

bool AclPatterns::match(const Sample& s) const {
    if (method_ == Match::Found) return true;
    if (method_ == Match::Bool) return s.sint != 0;
    for (const Use& u : refs)
        if (u.ref->compiled(u.expr).match(s)) return true;
    return false;
}

bool AclLine::match(Context& ctx) const {
    if (expr.multi_valued()) {
        // Any value matching is a match (HAProxy: every occurrence of a header is tried).
        struct State {
            const AclLine* line;
            Context* ctx;
            bool matched = false;
        } st{this, &ctx};
        expr.fetch->each(
            expr.fetch_args, ctx,
            [](void* p, Sample& v) {
                auto* s = static_cast<State*>(p);
                s->matched = match_value(*s->line, *s->ctx, v);
                return !s->matched;
            },
            &st);
        return st.matched;
    }
    Sample s;
    if (!expr.fetch->fn(expr.fetch_args, ctx, s)) return false;
    return match_value(*this, ctx, s);
}

bool Acl::match(Context& ctx) const {
    for (const AclLine& l : lines)
        if (l.match(ctx)) return true;
    return false;
}

const Acl* AclTable::find(std::string_view name) const {
    for (const auto& a : acls_)
        if (a->name == name) return a.get();
    return nullptr;
}

void AclTable::add(std::string_view name, AclLine line) {
    Acl* acl = const_cast<Acl*>(find(name));
    if (!acl) {
        acls_.push_back(std::make_shared<Acl>());
        acl = acls_.back().get();
        acl->name = std::string(name);
    }
    acl->use = acl->use | uses_of(line.expr);
    acl->lines.push_back(std::move(line));
}

const Acl* predefined_acl(std::string_view name) {
    // Built on first use (after every module registered its fetches), then read-only.
    static const std::map<std::string, Acl, std::less<>> table = [] {
        const UnlistedRefs unlisted;  // HAProxy's runtime API does not list these
        static constexpr std::pair<std::string_view, std::string_view> kDefs[] = {
            {"TRUE", "always_true"},
            {"FALSE", "always_false"},
            {"HTTP", "req.proto_http"},
            {"HTTP_1.0", "req.ver 1.0"},
            {"HTTP_1.1", "req.ver 1.1"},
            {"HTTP_CONTENT", "req.hdr_val(content-length) gt 0"},
            {"HTTP_URL_ABS", "url_reg ^[^/:]*://"},
            {"HTTP_URL_SLASH", "url_beg /"},
            {"HTTP_URL_STAR", "url *"},
            {"LOCALHOST", "src 127.0.0.1/8 ::1"},
            {"METH_CONNECT", "method CONNECT"},
            {"METH_DELETE", "method DELETE"},
            {"METH_GET", "method GET HEAD"},
            {"METH_HEAD", "method HEAD"},
            {"METH_OPTIONS", "method OPTIONS"},
            {"METH_POST", "method POST"},
            {"METH_PUT", "method PUT"},
            {"METH_TRACE", "method TRACE"},
            {"RDP_COOKIE", "req.rdp_cookie_cnt gt 0"},
            {"REQ_CONTENT", "req.len gt 0"},
        };
        std::map<std::string, Acl, std::less<>> m;
        for (const auto& [acl_name, def] : kDefs) {
            std::vector<std::string> words;
            std::size_t at = 0;
            while (at < def.size()) {
                const std::size_t sp = def.find(' ', at);
                words.emplace_back(def.substr(at, sp - at));
                at = sp == std::string_view::npos ? def.size() : sp + 1;
            }
            auto line = parse_acl_line(words);
            if (!line) continue;  // its fetch belongs to a module not built yet
            Acl acl;
            acl.name = std::string(acl_name);
            acl.use = uses_of(line->expr);
            acl.lines.push_back(std::move(*line));
            m.emplace(std::string(acl_name), std::move(acl));
        }
        return m;
    }();
    auto it = table.find(name);
    return it == table.end() ? nullptr : &it->second;
}

std::size_t condition_start(std::span<const std::string> words) {
    for (std::size_t i = 0; i < words.size(); ++i)
        if (words[i] == "if" || words[i] == "unless") return i;
    return words.size();
}

util::Result<Condition> parse_condition(std::span<const std::string> words, const AclTable& table,
                                        Use available) {
    Condition c;
    if (words.empty() || (words[0] != "if" && words[0] != "unless"))
        return util::error("expected 'if' or 'unless'");
    c.unless = words[0] == "unless";
    for (std::size_t k = 0; k < words.size(); ++k)
        c.text += (k ? " " : "") + words[k];
    std::vector<Condition::Term> group;
    std::size_t i = 1;
    while (i < words.size()) {
        std::string_view w = words[i];
        if (w == "||" || (w.size() == 2 && (w[0] | 0x20) == 'o' && (w[1] | 0x20) == 'r')) {
            if (group.empty())
                return util::error(fmt::format("missing condition term before '{}'", w));
            c.any_of.push_back(std::move(group));
            group.clear();
            ++i;
            continue;
        }
        Condition::Term term;
        // Each '!' flips the term, whether attached or a word of its own (`! !a`, `!!a`).
        while (true) {
            if (w == "!") {
                term.negate = !term.negate;
                if (++i >= words.size()) return util::error("missing ACL after '!'");
                w = words[i];
            } else if (w.size() > 1 && w[0] == '!') {
                term.negate = !term.negate;
                w.remove_prefix(1);
            } else {
                break;
            }
        }
        if (w == "{") {
            const std::size_t open = i;
            std::size_t close = open + 1;
            while (close < words.size() && words[close] != "}")
                ++close;
            if (close >= words.size()) return util::error("missing closing '}' in condition");
            auto line = parse_acl_line(words.subspan(open + 1, close - open - 1));
            if (!line) return util::error(fmt::format("in anonymous ACL: {}", line.error()));
            auto acl = std::make_shared<Acl>();
            acl->use = uses_of(line->expr);
            acl->lines.push_back(std::move(*line));
            term.acl = acl.get();
            c.owned.push_back(std::move(acl));
            i = close + 1;
        } else {
            term.acl = table.find(w);
            if (!term.acl) term.acl = predefined_acl(w);
            if (!term.acl) {
                // HAProxy also takes a bare criterion without pattern (`if ssl_fc`).
                const std::string word(w);
                auto line = parse_acl_line(std::span<const std::string>(&word, 1));
                if (!line) return util::error(fmt::format("no such ACL : '{}'", w));
                auto acl = std::make_shared<Acl>();
                acl->name = word;
                acl->use = uses_of(line->expr);
                acl->lines.push_back(std::move(*line));
                term.acl = acl.get();
                c.owned.push_back(std::move(acl));
            }
            ++i;
        }
        if (!covers(available, term.acl->use)) {
            return util::error(fmt::format(
                "acl '{}' involves keywords whose data is not available here, so it would never "
                "match",
                term.acl->name.empty() ? "{ ... }" : term.acl->name));
        }
        group.push_back(term);
    }
    if (group.empty()) {
        return util::error(c.any_of.empty() ? fmt::format("missing condition after '{}'", words[0])
                                            : std::string("missing condition term after '||'"));
    }
    c.any_of.push_back(std::move(group));
    return c;
}

bool Condition::eval(Context& ctx) const {
    bool result = false;
    for (const auto& group : any_of) {
        bool all = true;
        for (const Term& t : group) {
            if (t.acl->match(ctx) == t.negate) {
                all = false;
                break;
            }
        }
        if (all) {
            result = true;
            break;
        }
    }
    return result != unless;
}

}  // namespace sluice::sample
