// Userlists (see userlist.hpp): credential checks and the build step.
#include "sluice/auth/userlist.hpp"

#include <crypt.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "sluice/cfg/document.hpp"

namespace sluice::auth {
namespace {

// Compares every byte of the longer input, so that the time taken says nothing about where a
// guess first differs.
bool same_bytes(std::string_view a, std::string_view b) {
    const std::size_t n = std::max(a.size(), b.size());
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

// crypt(3) keeps its state in a static buffer; crypt_rn() takes one of ours instead. One per
// thread (32 KiB, zeroed once as libxcrypt asks), so workers hash side by side without a lock.
struct CryptScratch {
    std::unique_ptr<crypt_data> data = std::make_unique<crypt_data>();
    std::string password;  // the NUL-terminated copy crypt wants
};
CryptScratch& scratch() {
    thread_local CryptScratch s;
    return s;
}

// crypt_rn() of `password` with `setting`; nullptr when crypt refuses the setting.
const char* hash_with(std::string_view password, const std::string& setting) {
    CryptScratch& s = scratch();
    s.password.assign(password);
    return crypt_rn(s.password.c_str(), setting.c_str(), s.data.get(),
                    static_cast<int>(sizeof(crypt_data)));
}

}  // namespace

const User* Userlist::find(std::string_view user) const {
    auto it = users.find(user);
    return it == users.end() ? nullptr : &it->second;
}

bool Userlist::has_group(std::string_view group) const {
    return std::find(groups.begin(), groups.end(), group) != groups.end();
}

const User* Userlist::authenticate(std::string_view user, std::string_view password) const {
    const User* u = find(user);
    return u && password_matches(*u, password) ? u : nullptr;
}

bool password_matches(const User& user, std::string_view password) {
    if (user.insecure) return same_bytes(user.password, password);
    // crypt stops at a NUL; so would the comparison of C strings HAProxy makes.
    password = password.substr(0, password.find('\0'));
    const char* hashed = hash_with(password, user.password);
    return hashed && same_bytes(hashed, user.password);
}

bool crypt_supports(const std::string& hash) {
    return crypt_checksalt(hash.c_str()) != CRYPT_SALT_INVALID;
}

const UserlistConf* find_userlist(const cfg::Document& doc, std::string_view name) {
    const cfg::Section* s =
        doc.global.read<cfg::NamedSections>().find(cfg::SectionKind::Userlist, name);
    return s ? &s->parts.read<UserlistConf>() : nullptr;
}

bool build_userlists(cfg::Parts& global, cfg::Diagnostics& diag) {
    bool ok = true;
    for (cfg::Section& section : global.get<cfg::NamedSections>().sections) {
        if (section.kind != cfg::SectionKind::Userlist) continue;
        UserlistConf& conf = section.parts.get<UserlistConf>();
        Userlist& list = *conf.list;
        const std::string context = section.label();
        auto alert = [&](const cfg::Location& where, std::string_view keyword, std::string text) {
            diag.add({cfg::Level::Alert, where, context, std::string(keyword), std::move(text)});
            ok = false;
        };
        list.name = section.name;
        list.groups.clear();
        list.users.clear();
        for (const UserlistConf::GroupLine& g : conf.groups)
            list.groups.push_back(g.name);
        // Memberships from both sides: a user's `groups` and a group's `users`.
        std::map<std::string_view, std::set<std::string_view>> member_of;
        for (const UserlistConf::UserLine& u : conf.users) {
            std::set<std::string_view>& mine = member_of[u.name];
            for (const std::string& g : u.groups) {
                if (list.has_group(g))
                    mine.insert(g);
                else
                    alert(u.where, "user",
                          fmt::format("user '{}' is in group '{}', which userlist '{}' does not "
                                      "declare",
                                      u.name, g, section.name));
            }
        }
        for (const UserlistConf::GroupLine& g : conf.groups) {
            for (const std::string& name : g.users) {
                auto it = member_of.find(name);
                if (it != member_of.end())
                    it->second.insert(g.name);
                else
                    alert(g.where, "group",
                          fmt::format("group '{}' lists user '{}', which userlist '{}' does not "
                                      "declare",
                                      g.name, name, section.name));
            }
        }
        for (const UserlistConf::UserLine& u : conf.users) {
            User user{.name = u.name, .password = u.password, .insecure = u.insecure, .groups = {}};
            const std::set<std::string_view>& mine = member_of[u.name];
            for (const std::string& g : list.groups)
                if (mine.count(g)) user.groups.push_back(g);
            list.users.emplace(u.name, std::move(user));
        }
    }
    return ok;
}

}  // namespace sluice::auth
