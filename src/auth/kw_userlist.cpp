// The lines of a userlist section: `group NAME [users U,U...]` and `user NAME [password HASH |
// insecure-password PASS] [groups G,G...]`. Names that lines refer to are checked by
// build_userlists(), since a group may be declared after a user that joins it.
//
// HAProxy 2.6 ignores a second user or group of the same name with a warning, takes the last of
// repeated options, accepts a user without a password (and crashes when that user logs in) and
// an option without its value; sluice refuses each of these: each means the list does not say
// what its author thinks it says (doc/differences.md).
#include <fmt/format.h>

#include "sluice/auth/userlist.hpp"
#include "sluice/cfg/keyword.hpp"

namespace sluice::auth {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::Status;

// "a,b,,c" as {a, b, c}: HAProxy skips empty elements too.
std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        if (comma != 0) out.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string where_text(const cfg::Location& l) {
    return fmt::format("{}:{}", l.file, l.line);
}

Status parse_group(Args args, Ctx& ctx, UserlistConf& conf) {
    const std::string& name = args[0];
    if (name.empty()) return ctx.alert("a group needs a name");
    for (const UserlistConf::GroupLine& g : conf.groups)
        if (g.name == name)
            return ctx.alert("group '{}' is already declared at {}", name, where_text(g.where));
    UserlistConf::GroupLine line{.name = name, .users = {}, .where = ctx.where()};
    bool has_users = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] != "users")
            return ctx.alert("unknown option '{}' (a group line only takes 'users')", args[i]);
        if (has_users) return ctx.alert("'users' is given twice");
        if (i + 1 >= args.size() || args[i + 1].empty())
            return ctx.alert("'users' expects a comma-separated list of user names");
        line.users = split_list(args[++i]);
        has_users = true;
    }
    conf.groups.push_back(std::move(line));
    return Status::Ok;
}

Status parse_user(Args args, Ctx& ctx, UserlistConf& conf) {
    const std::string& name = args[0];
    if (name.empty()) return ctx.alert("a user needs a name");
    for (const UserlistConf::UserLine& u : conf.users)
        if (u.name == name)
            return ctx.alert("user '{}' is already declared at {}", name, where_text(u.where));
    UserlistConf::UserLine line{
        .name = name, .password = {}, .insecure = false, .groups = {}, .where = ctx.where()};
    std::string_view password_word;  // the option that gave the password, once given
    bool has_groups = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& word = args[i];
        const bool has_value = i + 1 < args.size();
        if (word == "password" || word == "insecure-password") {
            if (!password_word.empty())
                return ctx.alert("'{}' after '{}': a user has one password", word, password_word);
            // An empty insecure password is a password ("" in the config); a missing one is not.
            if (!has_value)
                return ctx.alert("'{}' expects {}", word,
                                 word == "password" ? "a crypt(3) hash" : "a password");
            line.password = args[++i];
            line.insecure = word == "insecure-password";
            password_word = word;
        } else if (word == "groups") {
            if (has_groups) return ctx.alert("'groups' is given twice");
            if (!has_value || args[i + 1].empty())
                return ctx.alert("'groups' expects a comma-separated list of group names");
            line.groups = split_list(args[++i]);
            has_groups = true;
        } else {
            return ctx.alert(
                "unknown option '{}' (a user line takes 'password', 'insecure-password' and "
                "'groups')",
                word);
        }
    }
    if (password_word.empty())
        return ctx.alert(
            "user '{}' has no password: give it 'password <crypt(3) hash>' or "
            "'insecure-password <password>'",
            name);
    Status st = Status::Ok;
    // HAProxy 2.6 takes any text; such a user can never log in.
    if (!line.insecure && !crypt_supports(line.password))
        st = ctx.warning(
            "the password of user '{}' is not a hash that crypt(3) knows: this user can never "
            "log in",
            name);
    conf.users.push_back(std::move(line));
    return st;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "group",
     .in = cfg::In::Userlist,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<UserlistConf, parse_group>},
    {.name = "user",
     .in = cfg::In::Userlist,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<UserlistConf, parse_user>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::auth
