// Userlists (auth/kw_userlist.cpp, auth/userlist.cpp): the section's diagnostics with their
// exact texts, the late checks of userlists and groups that proxies name, the memberships a
// list is built with, password checks through crypt(3), and the `http-request auth` action's
// own errors.
//
// Where a test says "HAProxy 2.6 ...", it was checked with Debian's haproxy 2.6.12
// (`haproxy -c -f t.cfg`); where sluice departs from it on purpose, the test says so.
#include <crypt.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "../cfg/reader_test_support.hpp"
#include "sluice/auth/userlist.hpp"
#include "sluice/cfg/late.hpp"

namespace sluice::auth {
namespace {

using cfg::reader_test::Lines;
using cfg::reader_test::Parsed;

// `openssl passwd -6 -salt abcdefgh hunter2`
constexpr std::string_view kHunter2Sha512 =
    "$6$abcdefgh$M/eYsB4rVXAm3ZNc88J.UD9rCKAT6FB1rahiwJCHtEndQNORCub5qhjxn50qbqVVthkM.9HpEwtf0t."
    "iV9uH0/";

constexpr std::string_view kHttpDefaults =
    "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n";

// What proxy::build does first: the userlists, then the late checks.
Parsed checked(std::string_view text) {
    Parsed p = cfg::reader_test::parse(text);
    (void)build_userlists(p.doc.global, p.diag);
    cfg::run_late_checks(p.doc, p.diag);
    return p;
}
Lines messages(std::string_view text) {
    return checked(text).messages();
}
std::string alert(int line, std::string_view context, std::string_view text) {
    return fmt::format("[ALERT]    (PID) : config : parsing [t.cfg:{}] : {} : {}", line, context,
                       text);
}

const Userlist& list_of(const Parsed& p, std::string_view name) {
    const UserlistConf* conf = find_userlist(p.doc, name);
    EXPECT_NE(conf, nullptr) << name;
    return *conf->list;
}

// A crypt(3) hash of `password` with a fresh salt for the method `prefix` ("$6$", "$2b$"...).
std::string hash(const char* prefix, const char* password, unsigned long rounds = 0) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    EXPECT_NE(crypt_gensalt_rn(prefix, rounds, nullptr, 0, setting, sizeof setting), nullptr)
        << prefix;
    crypt_data data{};
    const char* out = crypt_rn(password, setting, &data, sizeof data);
    EXPECT_NE(out, nullptr) << prefix;
    return out ? out : "";
}

// ---- The section ---------------------------------------------------------------------------

TEST(UserlistSection, TheManualsExampleIsCleanAndBothFormsAgree) {
    // HAProxy's manual: L1 and L2 give the same memberships, one from the groups' side, the
    // other from the users'.
    const std::string text = fmt::format(
        "userlist L1\n"
        "  group G1 users tiger,scott\n"
        "  group G2 users xdb,scott\n"
        "  user tiger password {0}\n"
        "  user scott insecure-password elgato\n"
        "  user xdb insecure-password hello\n"
        "userlist L2\n"
        "  group G1\n"
        "  group G2\n"
        "  user tiger password {0} groups G1\n"
        "  user scott insecure-password elgato groups G1,G2\n"
        "  user xdb insecure-password hello groups G2\n",
        kHunter2Sha512);
    const Parsed p = checked(text);
    EXPECT_EQ(p.messages(), Lines{});
    for (std::string_view name : {"L1", "L2"}) {
        const Userlist& l = list_of(p, name);
        EXPECT_EQ(l.name, name);
        EXPECT_EQ(l.groups, (std::vector<std::string>{"G1", "G2"}));
        ASSERT_EQ(l.users.size(), 3u);
        using Groups = std::vector<std::string_view>;
        EXPECT_EQ(l.find("tiger")->groups, (Groups{"G1"})) << name;
        EXPECT_EQ(l.find("scott")->groups, (Groups{"G1", "G2"})) << name;
        EXPECT_EQ(l.find("xdb")->groups, (Groups{"G2"})) << name;
        EXPECT_FALSE(l.find("tiger")->insecure);
        EXPECT_TRUE(l.find("scott")->insecure);
        EXPECT_EQ(l.find("nobody"), nullptr);
    }
}

TEST(UserlistSection, MembershipFromBothSidesIsOneSetInDeclarationOrder) {
    const Parsed p = checked(
        "userlist L\n"
        "  group b users u\n"
        "  group a\n"
        "  user u insecure-password x groups a,b,,a\n"  // empty elements are skipped
        "  group c users u,u\n");
    EXPECT_EQ(p.messages(), Lines{});
    EXPECT_EQ(list_of(p, "L").find("u")->groups, (std::vector<std::string_view>{"b", "a", "c"}));
}

TEST(UserlistSection, AGroupMayBeDeclaredAfterTheUserJoiningIt) {
    EXPECT_EQ(messages("userlist L\n  user u insecure-password x groups late\n  group late\n"),
              Lines{});
}

TEST(UserlistSection, NamesThatDoNotExistAreAlertsAtTheirLine) {
    // HAProxy 2.6: "userlist 'L1': no such group 'G3' specified in user 'tiger'" and "no such
    // user 'nosuch' specified in group 'G1'", without a line.
    EXPECT_EQ(messages("userlist L1\n"
                       "  group G1 users tiger,nosuch\n"
                       "  user tiger insecure-password x groups G1,G3\n"),
              (Lines{alert(3, "userlist 'L1' : 'user'",
                           "user 'tiger' is in group 'G3', which userlist 'L1' does not declare"),
                     alert(2, "userlist 'L1' : 'group'",
                           "group 'G1' lists user 'nosuch', which userlist 'L1' does not "
                           "declare")}));
}

TEST(UserlistSection, LinesThatSayTooLittleOrTooMuch) {
    const std::string ul = "userlist 'L' : ";
    EXPECT_EQ(
        messages("userlist L\n"
                 "  user nopw\n"
                 "  user a password\n"
                 "  user b insecure-password\n"
                 "  user c insecure-password x groups\n"
                 "  user d insecure-password x foo bar\n"
                 "  group G foo\n"
                 "  group H users\n"
                 "  group\n"
                 "  user\n"
                 "  frobnicate 1\n"),
        (Lines{
            // HAProxy 2.6 accepts it and crashes when that user logs in.
            alert(2, ul + "'user'",
                  "user 'nopw' has no password: give it 'password <crypt(3) hash>' or "
                  "'insecure-password <password>'"),
            // HAProxy 2.6 takes the missing value as an empty one.
            alert(3, ul + "'user'", "'password' expects a crypt(3) hash"),
            alert(4, ul + "'user'", "'insecure-password' expects a password"),
            alert(5, ul + "'user'", "'groups' expects a comma-separated list of group names"),
            // HAProxy 2.6: "'user' only supports 'password', 'insecure-password' and
            // 'groups' options."
            alert(6, ul + "'user'",
                  "unknown option 'foo' (a user line takes 'password', "
                  "'insecure-password' and 'groups')"),
            // HAProxy 2.6: "'group' only supports 'users' option."
            alert(7, ul + "'group'", "unknown option 'foo' (a group line only takes 'users')"),
            alert(8, ul + "'group'", "'users' expects a comma-separated list of user names"),
            alert(9, ul + "'group'", "expects at least 1 argument, got 0"),
            alert(10, ul + "'user'", "expects at least 1 argument, got 0"),
            // HAProxy 2.6: "unknown keyword 'frobnicate' in 'users' section"
            alert(11, "userlist 'L'", "unknown keyword 'frobnicate' in 'userlist' section"),
        }));
}

TEST(UserlistSection, DuplicatesAndRepeatedOptionsAreAlerts) {
    // HAProxy 2.6 warns "ignoring duplicated user/group/userlist" and keeps the first; for
    // repeated options the last value wins, but a user given both kinds of password stays in
    // clear text with the hash as its password. Sluice refuses them all: the list would not say
    // what its author thinks it says.
    const std::string ul = "userlist 'L' : ";
    EXPECT_EQ(messages("userlist L\n"
                       "  group G\n"
                       "  group G\n"
                       "  user u insecure-password x\n"
                       "  user u insecure-password y\n"
                       "  user v insecure-password x password y\n"
                       "  user w insecure-password x groups G groups G\n"
                       "  group H users u users u\n"
                       "userlist L\n"),
              (Lines{
                  alert(3, ul + "'group'", "group 'G' is already declared at t.cfg:2"),
                  alert(5, ul + "'user'", "user 'u' is already declared at t.cfg:4"),
                  alert(6, ul + "'user'",
                        "'password' after 'insecure-password': a user has one password"),
                  alert(7, ul + "'user'", "'groups' is given twice"),
                  alert(8, ul + "'group'", "'users' is given twice"),
                  "[ALERT]    (PID) : config : parsing [t.cfg:9] : userlist section 'L' is "
                  "already declared at t.cfg:1",
              }));
}

TEST(UserlistSection, AnEmptyInsecurePasswordIsAPassword) {
    const Parsed p = checked("userlist L\n  user carol insecure-password \"\"\n");
    EXPECT_EQ(p.messages(), Lines{});
    const Userlist& l = list_of(p, "L");
    EXPECT_NE(l.authenticate("carol", ""), nullptr);
    EXPECT_EQ(l.authenticate("carol", "x"), nullptr);
}

TEST(UserlistSection, AHashCryptDoesNotKnowIsAWarning) {
    // HAProxy 2.6 takes it silently (later versions refuse it); the user can never log in.
    // Apache's htpasswd makes such `$apr1$` hashes.
    EXPECT_EQ(messages("userlist L\n  user u password $apr1$Vb4kzzdO$3vNcUCUB3zInYBLQJkpn.1\n"),
              (Lines{"[WARNING]  (PID) : config : parsing [t.cfg:2] : userlist 'L' : 'user' : "
                     "the password of user 'u' is not a hash that crypt(3) knows: this user can "
                     "never log in"}));
}

// ---- Names that proxies refer to ----------------------------------------------------------

TEST(UserlistReferences, AUserlistMayComeAfterTheProxyNamingIt) {
    const Parsed p = checked(std::string(kHttpDefaults) +
                             "frontend fe\n"
                             "  acl ok http_auth(L)\n"
                             "  acl ops http_auth_group(L) ops\n"
                             "  http-request auth if !ok || !ops\n"
                             "userlist L\n"
                             "  group ops\n");
    EXPECT_EQ(p.messages(), Lines{});
}

TEST(UserlistReferences, UndeclaredUserlistsAndGroupsAreAlertsAtTheLineNamingThem) {
    // HAProxy 2.6: "unable to find userlist 'nolist' referenced in arg 1 of ACL keyword
    // 'http_auth' in proxy 'fe'" and "proxy fe: acl b http_auth_group(): invalid group 'G9'".
    const std::string fe = "frontend 'fe' : ";
    EXPECT_EQ(messages(std::string(kHttpDefaults) +
                       "userlist L\n"
                       "  group G1\n"
                       "frontend fe\n"  // line 8
                       "  acl a http_auth(nolist)\n"
                       "  acl b http_auth_group(L) G1 G9\n"
                       "  acl c http_auth_group(nolist) G1\n"
                       "  http-request set-var(txn.u) http_auth_group(other)\n"
                       "  http-request deny if { http_auth(L) } !{ http_auth(gone) }\n"),
              (Lines{
                  alert(9, fe + "'acl'", "no userlist named 'nolist' is declared"),
                  alert(10, fe + "'acl'", "userlist 'L' has no group 'G9'"),
                  alert(11, fe + "'acl'", "no userlist named 'nolist' is declared"),
                  alert(12, fe + "'http-request'", "no userlist named 'other' is declared"),
                  alert(13, fe + "'http-request'", "no userlist named 'gone' is declared"),
              }));
}

TEST(UserlistReferences, AnEmptyNameIsRefusedAtOnce) {
    EXPECT_EQ(messages(std::string(kHttpDefaults) + "frontend fe\n  acl a http_auth(\"\")\n"),
              (Lines{alert(7, "frontend 'fe' : 'acl'",
                           "error detected while parsing ACL 'a' : 'http_auth' expects at least "
                           "1 argument(s), got 0")}));
}

// ---- http-request auth ---------------------------------------------------------------------

TEST(AuthAction, ItsOwnErrors) {
    // HAProxy 2.6: "missing realm value." and "expects either 'if' or 'unless' followed by a
    // condition but found 'foo'"; `auth` is not an http-response action there either.
    const std::string fe = "frontend 'fe' : ";
    EXPECT_EQ(messages(std::string(kHttpDefaults) + "frontend fe\n"
                                                    "  http-request auth realm\n"
                                                    "  http-request auth foo\n"
                                                    "  http-request auth realm a b\n"
                                                    "  http-response auth\n"
                                                    "  http-after-response auth\n"
                                                    "  http-request auth realm \"A B\" if TRUE\n"
                                                    "  http-request auth\n"),
              (Lines{
                  alert(7, fe + "'http-request'", "'http-request auth': 'realm' expects a value"),
                  alert(8, fe + "'http-request'",
                        "'http-request auth': unexpected 'foo' (expected 'realm <realm>', 'if' "
                        "or 'unless')"),
                  alert(9, fe + "'http-request'",
                        "'http-request auth': unexpected 'b' (expected 'realm <realm>', 'if' or "
                        "'unless')"),
                  alert(10, fe + "'http-response'", "'auth' is not a valid http-response action"),
                  alert(11, fe + "'http-after-response'",
                        "'auth' is not a valid http-after-response action"),
              }));
}

// ---- Passwords -----------------------------------------------------------------------------

TEST(Passwords, InsecureOnesCompareEveryByte) {
    const User u{.name = "u", .password = "s3cret", .insecure = true, .groups = {}};
    EXPECT_TRUE(password_matches(u, "s3cret"));
    EXPECT_FALSE(password_matches(u, "S3cret"));
    EXPECT_FALSE(password_matches(u, "s3cre"));
    EXPECT_FALSE(password_matches(u, "s3crett"));
    EXPECT_FALSE(password_matches(u, ""));
}

TEST(Passwords, AKnownSha512CryptHash) {
    const User u{
        .name = "alice", .password = std::string(kHunter2Sha512), .insecure = false, .groups = {}};
    EXPECT_TRUE(password_matches(u, "hunter2"));
    EXPECT_FALSE(password_matches(u, "hunter3"));
    EXPECT_FALSE(password_matches(u, ""));
    // The hash itself is no password.
    EXPECT_FALSE(password_matches(u, kHunter2Sha512));
    // crypt(3) reads up to a NUL, as HAProxy's C strings do.
    EXPECT_TRUE(password_matches(u, std::string_view("hunter2\0junk", 12)));
}

TEST(Passwords, EveryMethodCryptOffers) {
    // md5-crypt, sha256-crypt, sha512-crypt, bcrypt (cheapest cost), yescrypt, and the
    // traditional DES one (`crypt("pw", "ab")`).
    const std::string hashes[] = {
        hash("$1$", "pw"),     hash("$5$", "pw"), hash("$6$", "pw"),
        hash("$2b$", "pw", 4), hash("$y$", "pw"), "abzlUXK5ed5rs",
    };
    for (const std::string& h : hashes) {
        const User u{.name = "u", .password = h, .insecure = false, .groups = {}};
        EXPECT_TRUE(crypt_supports(h)) << h;
        EXPECT_TRUE(password_matches(u, "pw")) << h;
        EXPECT_FALSE(password_matches(u, "pW")) << h;
    }
}

TEST(Passwords, AHashCryptCannotUseNeverMatches) {
    for (const char* bad : {"", "*", "!", "$apr1$Vb4kzzdO$3vNcUCUB3zInYBLQJkpn.1", "{SHA}x="}) {
        const User u{.name = "u", .password = bad, .insecure = false, .groups = {}};
        EXPECT_FALSE(crypt_supports(bad)) << bad;
        EXPECT_FALSE(password_matches(u, "")) << bad;
        EXPECT_FALSE(password_matches(u, bad)) << bad;
    }
    // A known method with a malformed setting passes the check but still never matches.
    const User u{.name = "u", .password = "$7$x", .insecure = false, .groups = {}};
    EXPECT_TRUE(crypt_supports(u.password));
    EXPECT_FALSE(password_matches(u, ""));
}

TEST(Passwords, AuthenticateNeedsTheRightUserAndPassword) {
    const Parsed p = checked(
        fmt::format("userlist L\n  user alice password {}\n  user bob insecure-password s3cret\n",
                    kHunter2Sha512));
    const Userlist& l = list_of(p, "L");
    EXPECT_EQ(l.authenticate("alice", "hunter2"), l.find("alice"));
    EXPECT_EQ(l.authenticate("bob", "s3cret"), l.find("bob"));
    EXPECT_EQ(l.authenticate("alice", "s3cret"), nullptr);
    EXPECT_EQ(l.authenticate("Bob", "s3cret"), nullptr);  // names are case-sensitive
    EXPECT_EQ(l.authenticate("carol", "s3cret"), nullptr);
}

}  // namespace
}  // namespace sluice::auth
