// HAProxy's userlists: named sets of users and groups that the http_auth() and
// http_auth_group() fetches check HTTP Basic credentials against.
//
//   userlist admins
//       group ops [users alice,bob]
//       user alice password $6$...        (a crypt(3) hash)
//       user bob insecure-password s3cret [groups ops,...]
//
// A userlist section's `group` and `user` lines are stored as written (UserlistConf, in the
// section's Parts); build_userlists() checks the names they refer to once every file is read
// and builds the Userlist that fetches use at run time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/cfg/parts.hpp"

namespace sluice::cfg {
struct Document;
}

namespace sluice::auth {

struct User {
    std::string name;
    std::string password;  // a crypt(3) hash, or the password itself when `insecure`
    bool insecure = false;
    std::vector<std::string_view> groups;  // names in Userlist::groups, in declaration order
};

// A built userlist: read-only once the config is built, shared by every thread.
class Userlist {
  public:
    std::string name;
    std::vector<std::string> groups;  // declared group names, in order
    std::map<std::string, User, std::less<>> users;

    const User* find(std::string_view user) const;
    bool has_group(std::string_view group) const;
    // The user if `password` is theirs, else nullptr. A hash costs one crypt(3) call, which
    // takes milliseconds by design (sha512-crypt ~1.6 ms, bcrypt far more) and runs on the
    // calling thread; HAProxy does the same, and nothing is cached.
    const User* authenticate(std::string_view user, std::string_view password) const;
};

// `password` against a user's stored one: equal bytes for an insecure password, else crypt(3)
// with the stored hash as setting. Constant time in the compared bytes.
bool password_matches(const User& user, std::string_view password);

// False when crypt(3) does not know the method or salt of `hash` (an htpasswd `$apr1$` one, a
// locked `!`), which then never matches. It hashes nothing (crypt_checksalt), so that a costly
// setting cannot stall a config check; a malformed hash of a known method still passes.
bool crypt_supports(const std::string& hash);

// ---- What the keywords store --------------------------------------------------------------

struct UserlistConf {
    struct GroupLine {
        std::string name;
        std::vector<std::string> users;
        cfg::Location where;
    };
    struct UserLine {
        std::string name;
        std::string password;
        bool insecure = false;
        std::vector<std::string> groups;
        cfg::Location where;
    };
    std::vector<GroupLine> groups;
    std::vector<UserLine> users;
    // What build_userlists() makes of the lines; fetches naming this list share it.
    std::shared_ptr<Userlist> list = std::make_shared<Userlist>();
};

// Checks every userlist section of the global Parts' cfg::NamedSections (a user's `groups` and
// a group's `users` must name declared ones) and builds its Userlist. Alerts go to `diag` at
// the line at fault. Returns false when it raised one.
bool build_userlists(cfg::Parts& global, cfg::Diagnostics& diag);

// The userlist section called `name`, or nullptr.
const UserlistConf* find_userlist(const cfg::Document& doc, std::string_view name);

}  // namespace sluice::auth
