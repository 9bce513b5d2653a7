// The stats page service (page.hpp): access (`stats http-request`, `stats auth`), the URI
// suffixes (`;csv`, `;json`, `;typed`, `;up`, `;no-maint`, `;norefresh`, `;st=`), the admin
// POST and the choice of rendering. The HTML itself is in page_html.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <optional>

#include "sluice/auth/credentials.hpp"
#include "sluice/http/error_pages.hpp"
#include "sluice/stats/page.hpp"
#include "sluice/stats/stats.hpp"

namespace sluice::stats {
namespace {

// The installed admin hook (PageAdminScope); read by any worker thread, set by main() before
// the workers start and cleared after they stop.
std::atomic<const PageAdminHooks*> g_hooks{nullptr};

constexpr std::string_view kDefaultRealm = "HAProxy Statistics";

// application/x-www-form-urlencoded decoding of one key or value.
std::string form_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%' && i + 2 < in.size()) {
            unsigned v = 0;
            const auto r = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
            if (r.ec == std::errc() && r.ptr == in.data() + i + 3) {
                out += static_cast<char>(v);
                i += 2;
            } else {
                out += '%';
            }
        } else {
            out += in[i];
        }
    }
    return out;
}

void plain_page(rules::ServiceReply& reply, std::uint16_t status, std::string_view extra) {
    reply.status = status;
    reply.fields = fmt::format("cache-control: no-cache\r\ncontent-type: text/html\r\n{}", extra);
    if (const http::ErrorPage* page = http::default_error_page(status)) reply.body = page->body;
}

bool user_allowed(const PageConf& conf, const http::RequestHead& head) {
    const http::Header* h = head.headers.find("authorization");
    if (!h) return false;
    std::string_view value = h->value.substr(0, std::min(h->value.find(','), h->value.size()));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
    std::string scratch;
    const auth::Credentials c = auth::parse_authorization(value, scratch);
    if (c.scheme != auth::Scheme::Basic) return false;
    return std::any_of(conf.users.begin(), conf.users.end(), [&](const std::string& u) {
        const auto colon = u.find(':');
        const std::string_view user = std::string_view(u).substr(0, colon);
        const std::string_view pass =
            colon == std::string::npos ? std::string_view() : std::string_view(u).substr(colon + 1);
        return user == c.user && pass == c.password;
    });
}

const proxy::Backend* find_backend(const proxy::Config& config, std::string_view key,
                                   std::uint32_t id_base) {
    if (key.starts_with('#')) {
        std::uint32_t id = 0;
        const auto r = std::from_chars(key.data() + 1, key.data() + key.size(), id);
        if (r.ec != std::errc() || r.ptr != key.data() + key.size()) return nullptr;
        for (const auto& b : config.backends)
            if (b->uid + id_base == id) return b.get();
        return nullptr;
    }
    const proxy::Backend* found = nullptr;
    for (const auto& b : config.backends) {
        if (b->name != key) continue;
        if (found) return nullptr;  // ambiguous
        found = b.get();
    }
    return found;
}

// The admin form's POST: `s=<server>`..., `action=<ready|drain|maint|dhlth|ehlth|hrunn|hnolb|
// hdown|dagent|eagent|arunn|adown|shutdown>`, `b=#<iid>` or a name.
// The result code is HAProxy's: DONE, PART (some servers unknown), NONE (no server checked),
// ERRP (bad backend, action or servers), EXCD (the body is not all in), UNKN (no way to act).
std::string_view apply_post(const rules::ServiceRequest& request, const Process& process) {
    const std::string_view body(reinterpret_cast<const char*>(request.body.data()),
                                request.body.size());
    if (const http::Header* cl = request.head.headers.find("content-length")) {
        std::size_t want = 0;
        std::from_chars(cl->value.data(), cl->value.data() + cl->value.size(), want);
        if (want > body.size()) return "EXCD";
    }
    std::string backend_key;
    std::string action;
    std::vector<std::string> servers;
    for (auto& [key, value] : parse_form(body)) {
        if (key == "b")
            backend_key = std::move(value);
        else if (key == "action")
            action = std::move(value);
        else if (key == "s")
            servers.push_back(std::move(value));
    }
    const proxy::Backend* be = find_backend(request.config, backend_key, process.proxy_id_base);
    if (!be) return "ERRP";
    // What the action does to each server (a health action does nothing to a server without
    // check, an agent one to a server without agent).
    using W = check::ChecksChange::What;
    using S = check::StateMessage::What;
    std::optional<proxy::AdminState> state;
    std::optional<check::ChecksChange> change;
    bool agent = false;
    if (action == "ready")
        state = proxy::AdminState::Ready;
    else if (action == "drain")
        state = proxy::AdminState::Drain;
    else if (action == "maint")
        state = proxy::AdminState::Maint;
    else if (action == "dhlth" || action == "ehlth")
        change = check::ChecksChange{.what = W::CheckEnable, .enable = action == "ehlth"};
    else if (action == "hrunn" || action == "hnolb" || action == "hdown")
        change = check::ChecksChange{.what = W::Health,
                                     .state = action == "hrunn"   ? S::Up
                                              : action == "hnolb" ? S::Stopping
                                                                  : S::Down};
    else if (action == "dagent" || action == "eagent")
        change = check::ChecksChange{.what = W::AgentEnable, .enable = action == "eagent"};
    else if (action == "arunn" || action == "adown")
        change =
            check::ChecksChange{.what = W::Agent, .state = action == "arunn" ? S::Up : S::Down};
    else if (action != "shutdown")
        return "ERRP";
    if (change) agent = change->what == W::AgentEnable || change->what == W::Agent;
    if (servers.empty()) return "NONE";
    const PageAdminHooks* hooks = g_hooks.load(std::memory_order_acquire);
    if (!hooks) return "UNKN";
    // HAProxy counts a server the action does not apply to neither as asked nor as altered.
    std::size_t asked = 0, altered = 0;
    for (const std::string& name : servers) {
        proxy::Server* target = nullptr;
        int matches = 0;
        for (const auto& s : be->servers) {
            if (s->name == name) {
                target = s;
                ++matches;
            }
        }
        ++asked;
        if (matches != 1) continue;  // unknown or ambiguous
        if (state) {
            if (hooks->set_admin) hooks->set_admin(*target, *state);
        } else if (change) {
            if (!(agent ? check::has_agent(*target) : check::has_check(*target))) {
                --asked;
                continue;
            }
            if (hooks->checks_change) hooks->checks_change(*target, *change);
        } else if (hooks->shutdown_sessions) {
            hooks->shutdown_sessions(*target);
        }
        ++altered;
    }
    if (asked == 0) return "NONE";
    if (altered == 0) return "ERRP";
    return altered == asked ? "DONE" : "PART";
}

bool in_scope(const PageConf& conf, std::string_view scope, std::string_view name) {
    if (!conf.scope.empty() &&
        std::find(conf.scope.begin(), conf.scope.end(), name) == conf.scope.end())
        return false;
    if (scope.empty()) return true;
    // The form's scope box: a case-insensitive substring of the proxy's name.
    const auto lower = [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    };
    return std::search(name.begin(), name.end(), scope.begin(), scope.end(),
                       [&](char a, char b) { return lower(a) == lower(b); }) != name.end();
}

class Page final : public rules::Service {
  public:
    explicit Page(PageConf conf) : conf_(std::move(conf)) {}
    std::string_view log_name() const override { return "<STATS>"; }

    void serve(const rules::ServiceRequest& request, rules::ServiceReply& reply) const override {
        const std::string_view target = request.head.target;
        const PageQuery sfx =
            parse_page_query(target.substr(std::min(conf_.uri.size(), target.size())));
        if (!allowed(request, reply)) return;
        bool admin = false;
        for (const auto& cond : conf_.admin)
            if (cond->eval(request.samples)) admin = true;
        const Process process = make_process(request.config);
        if (request.head.method == "POST") {
            const std::string_view st = admin ? apply_post(request, process) : "DENY";
            reply.status = 303;
            reply.fields = fmt::format(
                "cache-control: no-cache\r\ncontent-type: text/plain\r\nlocation: {};st={}{}{}\r\n",
                conf_.uri, st, sfx.up ? ";up" : "", sfx.norefresh ? ";norefresh" : "");
            return;
        }
        Filter filter;
        filter.up_only = sfx.up;
        filter.no_maint = sfx.no_maint;
        std::vector<Row> rows = collect(request.config, process, filter);
        std::erase_if(rows,
                      [&](const Row& r) { return !in_scope(conf_, sfx.scope, r.values[0].s); });
        std::string_view type = "text/html";
        switch (sfx.format) {
            case PageQuery::Format::Csv:
                type = "text/plain";
                csv_header(reply.body);
                csv(reply.body, rows);
                break;
            case PageQuery::Format::Json:
                type = "application/json";
                json(reply.body, rows);
                break;
            case PageQuery::Format::Typed:
                type = "text/plain";
                typed(reply.body, rows);
                break;
            case PageQuery::Format::Html: {
                const PageView view{.admin = admin,
                                    .up_only = sfx.up,
                                    .refresh = !sfx.norefresh,
                                    .st = sfx.st,
                                    .uri = conf_.uri,
                                    .scope = sfx.scope};
                render_html(reply.body, request.config, conf_, view, process, rows);
                break;
            }
        }
        reply.status = 200;
        reply.fields = fmt::format("cache-control: no-cache\r\ncontent-type: {}\r\n", type);
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(conf_.refresh).count();
        if (secs > 0 && !sfx.norefresh) reply.fields += fmt::format("refresh: {}\r\n", secs);
    }

  private:
    Process make_process(const proxy::Config& config) const {
        Process p = process_now(config);
        if (conf_.node && !conf_.node->empty()) p.node = *conf_.node;
        if (conf_.desc && !conf_.desc->empty()) p.description = *conf_.desc;
        return p;
    }

    // `stats http-request` rules, first match wins, then `stats auth` (which HAProxy adds as
    // a last `auth` rule unless the credentials are good).
    bool allowed(const rules::ServiceRequest& request, rules::ServiceReply& reply) const {
        for (const PageRule& rule : conf_.rules) {
            if (rule.cond && !rule.cond->eval(request.samples)) continue;
            switch (rule.kind) {
                case PageRule::Kind::Allow:
                    return true;
                case PageRule::Kind::Deny:
                    plain_page(reply, 403, {});
                    return false;
                case PageRule::Kind::Auth:
                    challenge(reply, rule.realm.empty() ? realm() : rule.realm);
                    return false;
            }
        }
        if (conf_.users.empty() || user_allowed(conf_, request.head)) return true;
        challenge(reply, realm());
        return false;
    }

    std::string_view realm() const { return conf_.realm.empty() ? kDefaultRealm : conf_.realm; }

    static void challenge(rules::ServiceReply& reply, std::string_view realm) {
        plain_page(reply, 401, fmt::format("www-authenticate: Basic realm=\"{}\"\r\n", realm));
    }

    PageConf conf_;
};

}  // namespace

// HAProxy looks for each `;word` anywhere after the prefix, and for `scope=` in the query.
PageQuery parse_page_query(std::string_view rest) {
    PageQuery s;
    for (std::size_t at = rest.find(';'); at != std::string_view::npos;
         at = rest.find(';', at + 1)) {
        const std::string_view w = rest.substr(at + 1);
        const auto word = [&](std::string_view name) {
            return w.starts_with(name) &&
                   (w.size() == name.size() || w[name.size()] == ';' || w[name.size()] == '?' ||
                    w[name.size()] == '&' || w[name.size()] == '#');
        };
        if (word("csv"))
            s.format = PageQuery::Format::Csv;
        else if (word("json"))
            s.format = PageQuery::Format::Json;
        else if (word("typed"))
            s.format = PageQuery::Format::Typed;
        else if (word("up"))
            s.up = true;
        else if (word("no-maint"))
            s.no_maint = true;
        else if (word("norefresh"))
            s.norefresh = true;
        else if (w.starts_with("st="))
            s.st = std::string(w.substr(3, std::min<std::size_t>(4, w.size() - 3)));
    }
    if (const auto q = rest.find("scope="); q != std::string_view::npos) {
        std::string_view v = rest.substr(q + 6);
        v = v.substr(0, std::min(v.find_first_of(";&#"), v.size()));
        s.scope = std::string(v.substr(0, 20));  // HAProxy's scope box takes 20 characters
    }
    return s;
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t pos = 0;
    while (pos <= body.size()) {
        const std::size_t end = std::min(body.find('&', pos), body.size());
        const std::string_view pair = body.substr(pos, end - pos);
        const std::size_t eq = pair.find('=');
        if (eq != std::string_view::npos)
            out.emplace_back(form_decode(pair.substr(0, eq)), form_decode(pair.substr(eq + 1)));
        pos = end + 1;
    }
    return out;
}

std::shared_ptr<const rules::Service> make_page_service(PageConf conf) {
    return std::make_shared<const Page>(std::move(conf));
}

PageAdminScope::PageAdminScope(PageAdminHooks hooks) : hooks_(std::move(hooks)) {
    g_hooks.store(&hooks_, std::memory_order_release);
}

PageAdminScope::~PageAdminScope() {
    g_hooks.store(nullptr, std::memory_order_release);
}

}  // namespace sluice::stats
