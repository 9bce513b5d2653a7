// HAProxy's stats page (`stats enable`, `stats uri` and the other `stats` proxy keywords): the
// HTML report built from stats::collect() rows, its `;csv`, `;json` and `;typed` renderings, and
// the admin form whose POST changes servers' admin states. The page is a section's own service
// (rules::ProxyServiceConf): the keywords fill a PageConf in the section's Parts and keep the
// service built from it next to it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/check/checks.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/rules/service.hpp"
#include "sluice/sample/acl.hpp"
#include "sluice/stats/stats.hpp"
#include "sluice/util/units.hpp"

namespace sluice::stats {

// `stats http-request { allow | deny | auth [realm R] } [{if | unless} COND]`.
struct PageRule {
    enum class Kind : std::uint8_t { Allow, Deny, Auth };
    Kind kind = Kind::Allow;
    std::string realm;  // Auth: empty for the page's realm
    std::shared_ptr<const sample::Condition> cond;
};

struct PageConf {
    bool enabled = false;
    std::string uri = "/haproxy?stats";
    std::string realm;               // empty: "HAProxy Statistics"
    std::vector<std::string> users;  // `stats auth user:password`, as written
    std::vector<std::shared_ptr<const sample::Condition>> admin;  // any holding: admin level
    std::vector<PageRule> rules;
    util::Duration refresh{};  // 0: no refresh
    bool legends = false;
    bool hide_version = false;
    std::optional<std::string> node;  // `stats show-node`: empty for the global node name
    std::optional<std::string> desc;  // `stats show-desc`: empty for the global description
    std::vector<std::string> scope;   // proxy names shown (empty: all); "." resolved at parse
};

// What the page shows, decided from the request's URI suffixes and the section's settings.
struct PageView {
    bool admin = false;      // the admin form is shown (the admin condition held)
    bool up_only = false;    // `;up`
    bool refresh = true;     // `;norefresh` clears it
    std::string st;          // `;st=DONE`...: the last action's result
    std::string uri;         // the stats URI prefix, for links
    std::string_view scope;  // the `scope=` of the query: a proxy name substring filter
};

// What the URI says after the stats prefix: HAProxy's `;csv`, `;json`, `;typed`, `;up`,
// `;no-maint`, `;norefresh`, `;st=XXXX` (anywhere after the prefix) and the query's `scope=`.
struct PageQuery {
    enum class Format : std::uint8_t { Html, Csv, Json, Typed };
    Format format = Format::Html;
    bool up = false;
    bool no_maint = false;
    bool norefresh = false;
    std::string st;     // at most 4 characters
    std::string scope;  // at most 20 characters, as HAProxy's form takes
};
PageQuery parse_page_query(std::string_view rest);

// An application/x-www-form-urlencoded body (the admin form's POST): its `key=value` pairs,
// decoded ('+' is a space, %XX a byte; a bad escape stays as written), in order.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

// The HTML page, from the rows stats::collect() gives and the process info.
void render_html(std::string& out, const proxy::Config& config, const PageConf& conf,
                 const PageView& view, const Process& process, const std::vector<Row>& rows);

// Appends `text` with the HTML special characters (& < > " ') escaped.
void html_escape(std::string& out, std::string_view text);

// The service answering the page for one section.
std::shared_ptr<const rules::Service> make_page_service(PageConf conf);

// The admin actions' way to the servers: the state machine the CLI's `set server ... state`
// uses (check::Checks::set_admin) and the CLI's `shutdown sessions server`. main() installs them
// for the life of the checks and the engine with a PageAdminScope; without one the page answers
// admin POSTs with ;st=UNKN. Both must be callable from any thread (they post to the loops).
struct PageAdminHooks {
    std::function<void(proxy::Server&, proxy::AdminState)> set_admin;
    std::function<void(const proxy::Server&)> shutdown_sessions;
    // The health and agent actions, as the runtime API's `enable|disable health|agent` and
    // `set server ... health|agent`.
    std::function<void(proxy::Server&, check::ChecksChange)> checks_change;
};
class PageAdminScope {
  public:
    explicit PageAdminScope(PageAdminHooks hooks);
    ~PageAdminScope();
    PageAdminScope(const PageAdminScope&) = delete;
    PageAdminScope& operator=(const PageAdminScope&) = delete;

  private:
    PageAdminHooks hooks_;
};

}  // namespace sluice::stats
