// ACLs and conditions, as HAProxy writes them:
//   acl is_api path_beg /api /v2        (several lines of one name are OR-ed)
//   use_backend api if is_api !{ src 10.0.0.0/8 } || METH_POST
// An ACL line is a sample expression (the criterion), flags, a match method and patterns. A
// condition is an OR of AND-ed terms, each a named, predefined or anonymous `{ ... }` ACL,
// possibly negated. Everything is parsed and checked when the config is read; evaluation reads
// samples and patterns and allocates nothing.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/sample/expr.hpp"
#include "sluice/sample/pattern_ref.hpp"

namespace sluice::sample {

// What an ACL line matches against: its `-f` files' references, then its own patterns' (an
// anonymous reference), each compiled for the line's method and flags. Read without a lock.
class AclPatterns {
  public:
    AclPatterns(Match method, PatternFlags flags) : method_(method), flags_(flags) {}
    Match method() const { return method_; }
    const PatternFlags& flags() const { return flags_; }
    std::size_t size() const;
    bool empty() const { return size() == 0; }
    bool match(const Sample& s) const;

    struct Use {
        std::shared_ptr<PatternRef> ref;
        std::size_t expr = 0;
    };
    std::vector<Use> refs;

  private:
    Match method_;
    PatternFlags flags_;
};

struct AclLine {
    Expr expr;
    AclPatterns patterns;
    bool match(Context& ctx) const;
};

struct Acl {
    std::string name;  // empty for an anonymous one
    std::vector<AclLine> lines;
    Use use = Use::None;  // what its fetches read
    bool match(Context& ctx) const;
};

// Parses the words of one ACL line after its name: criterion, flags, operator, patterns.
// `base_dir` resolves relative `-f` paths (HAProxy: relative to the current directory).
util::Result<AclLine> parse_acl_line(std::span<const std::string> words);

// The ACLs of one proxy, by name. Shared pointers: conditions point into them, and the table
// is copied around with the proxy's settings before the config is frozen.
class AclTable {
  public:
    const Acl* find(std::string_view name) const;
    // Appends a line to `name` (creating it).
    void add(std::string_view name, AclLine line);

  private:
    std::vector<std::shared_ptr<Acl>> acls_;
};

// A proxy section's ACLs, kept in its cfg::Parts (the `acl` keyword fills it).
struct AclConf {
    AclTable table;
};

// An ACL known without declaration: TRUE, FALSE, HTTP, METH_GET, LOCALHOST... (HAProxy's
// predefined ACLs). Null when `name` is not one.
const Acl* predefined_acl(std::string_view name);

struct Condition {
    struct Term {
        const Acl* acl = nullptr;
        bool negate = false;
    };
    bool unless = false;
    std::vector<std::vector<Term>> any_of;          // OR of AND-ed terms
    std::vector<std::shared_ptr<const Acl>> owned;  // anonymous ACLs
    std::string text;                               // as written, for messages

    bool eval(Context& ctx) const;
};

// Parses `if|unless TERMS...` (the words from `if` on). `available` is what the rule can
// read: an ACL needing more is an error naming it. `table` holds the proxy's named ACLs.
util::Result<Condition> parse_condition(std::span<const std::string> words, const AclTable& table,
                                        Use available);

// For rules ending in an optional condition: the index of the first word of the condition
// (`if` or `unless`), or words.size() when there is none.
std::size_t condition_start(std::span<const std::string> words);

}  // namespace sluice::sample
