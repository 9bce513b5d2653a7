// The stats page's HTML (page.hpp): a process block, the legend, then one table per proxy with
// HAProxy's column groups (Queue, Session rate, Sessions, Bytes, Denied, Errors, Warnings,
// Server) and Sluice's latency percentiles after them, a row per frontend, server and backend
// coloured by state. Self-contained (inline CSS, no script but the admin form's select-all
// box); every name from the config or the request is escaped.
#include <fmt/format.h>

#include <unistd.h>

#include <array>

#include "sluice/stats/page.hpp"
#include "sluice/stats/stats.hpp"
#include "sluice/util/build.hpp"

namespace sluice::stats {
namespace {

// Column positions by name, looked up once.
struct Cols {
    std::size_t pxname, svname, qcur, qmax, qlimit, rate, rate_lim, rate_max, scur, smax, slim,
        stot, lbtot, lastsess, bin, bout, dreq, dresp, ereq, econ, eresp, wretr, wredis, status,
        lastchg, check_status, check_code, check_duration, check_desc, weight, act, bck, chkfail,
        chkdown, downtime, throttle, iid, sid, mode, addr, cookie, tracked;
    std::array<std::size_t, 12> pct;  // qtime_p50 ... ttime_p99
};

std::size_t col(std::string_view name) {
    const auto fields = stat_fields();
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (fields[i].name == name) return i;
    return fields.size();  // never: the names below are all HAProxy's or ours
}

const Cols& cols() {
    static const Cols c = [] {
        Cols k{};
        k.pxname = col("pxname");
        k.svname = col("svname");
        k.qcur = col("qcur");
        k.qmax = col("qmax");
        k.qlimit = col("qlimit");
        k.rate = col("rate");
        k.rate_lim = col("rate_lim");
        k.rate_max = col("rate_max");
        k.scur = col("scur");
        k.smax = col("smax");
        k.slim = col("slim");
        k.stot = col("stot");
        k.lbtot = col("lbtot");
        k.lastsess = col("lastsess");
        k.bin = col("bin");
        k.bout = col("bout");
        k.dreq = col("dreq");
        k.dresp = col("dresp");
        k.ereq = col("ereq");
        k.econ = col("econ");
        k.eresp = col("eresp");
        k.wretr = col("wretr");
        k.wredis = col("wredis");
        k.status = col("status");
        k.lastchg = col("lastchg");
        k.check_status = col("check_status");
        k.check_code = col("check_code");
        k.check_duration = col("check_duration");
        k.check_desc = col("check_desc");
        k.weight = col("weight");
        k.act = col("act");
        k.bck = col("bck");
        k.chkfail = col("chkfail");
        k.chkdown = col("chkdown");
        k.downtime = col("downtime");
        k.throttle = col("throttle");
        k.iid = col("iid");
        k.sid = col("sid");
        k.mode = col("mode");
        k.addr = col("addr");
        k.cookie = col("cookie");
        k.tracked = col("tracked");
        constexpr std::array<std::string_view, 12> kPct = {
            "qtime_p50", "qtime_p95", "qtime_p99", "ctime_p50", "ctime_p95", "ctime_p99",
            "rtime_p50", "rtime_p95", "rtime_p99", "ttime_p50", "ttime_p95", "ttime_p99"};
        for (std::size_t i = 0; i < kPct.size(); ++i)
            k.pct[i] = col(kPct[i]);
        return k;
    }();
    return c;
}

const Value& at(const Row& r, std::size_t i) {
    static const Value kUnset{};
    return i < r.values.size() ? r.values[i] : kUnset;
}

std::uint64_t number(const Value& v) {
    if (!v.set) return 0;
    return v.type == Type::S32 || v.type == Type::S64 ? static_cast<std::uint64_t>(v.i) : v.u;
}

// "3s", "2m5s", "1h4m", "3d2h": HAProxy's way of showing an age or a duration on the page.
std::string human(std::uint64_t s) {
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{}s", s / 60, s % 60);
    if (s < 86400) return fmt::format("{}h{}m", s / 3600, (s % 3600) / 60);
    return fmt::format("{}d{}h", s / 86400, (s % 86400) / 3600);
}

void cell(std::string& out, const Value& v) {
    out += "<td>";
    if (v.set) {
        std::string text;
        append_value(text, v);
        html_escape(out, text);
    }
    out += "</td>";
}

void text_cell(std::string& out, std::string_view text, std::string_view cls = {}) {
    out += cls.empty() ? "<td>" : fmt::format("<td class=\"{}\">", cls);
    html_escape(out, text);
    out += "</td>";
}

// The row's colour: its state, as the legend explains.
std::string_view row_class(const Row& r) {
    if (r.type == ObjType::Frontend) return "fe";
    if (r.type == ObjType::Backend) {
        const std::string& s = at(r, cols().status).s;
        return s.starts_with("DOWN") ? "be down" : "be";
    }
    const std::string& s = at(r, cols().status).s;
    const bool backup = number(at(r, cols().bck)) > 0;
    if (s.starts_with("MAINT")) return "maint";
    if (s == "DRAIN") return "drain";
    if (s == "NOLB") return "nolb";
    if (s == "no check") return backup ? "nocheck bck" : "nocheck";
    if (s.starts_with("UP ")) return "goingdown";
    if (s.starts_with("UP")) return backup ? "up bck" : "up";
    if (s.starts_with("DOWN ")) return "goingup";
    if (s.starts_with("DOWN")) return "down";
    return "";
}

constexpr std::string_view kStyle = R"(<style>
body{font-family:Arial,Helvetica,sans-serif;font-size:11px;margin:8px;color:#000;background:#fff}
h1{font-size:20px;margin:0 0 4px 0;color:#2a4f7a}
h2{font-size:14px;margin:12px 0 4px 0}
a{color:#2a4f7a}
table.px{border-collapse:collapse;margin:8px 0;width:100%}
table.px caption{text-align:left;font-weight:bold;font-size:13px;background:#2a4f7a;color:#fff;padding:3px 6px}
table.px caption a{color:#fff;text-decoration:none}
table.px th{background:#d6dde8;border:1px solid #9aa7b8;padding:1px 3px;font-weight:normal}
table.px td{border:1px solid #b8c2cf;padding:1px 4px;text-align:right;white-space:nowrap}
table.px td.name,table.px td.st{text-align:left}
tr.fe td,tr.be td{background:#e8ecf2;font-weight:bold}
tr.be.down td{background:#ff7b7b}
tr.up td,.lg.up{background:#b6f0a8}
tr.up.bck td,.lg.upbck{background:#b0d8f0}
tr.goingdown td,.lg.goingdown{background:#ffe36e}
tr.goingup td,.lg.goingup{background:#ffb870}
tr.down td,.lg.down{background:#ff7b7b}
tr.nolb td,.lg.nolb{background:#9fc0ff}
tr.drain td,.lg.drain{background:#c9b6f5}
tr.maint td,.lg.maint{background:#c8a58a}
tr.nocheck td,.lg.nocheck{background:#e4e4e4}
table.info td{padding:0 8px 0 0;vertical-align:top}
table.legend td{padding:1px 6px}
.lg{display:inline-block;width:14px;height:10px;border:1px solid #888}
.msg{padding:4px 8px;margin:6px 0;border:1px solid #888}
.msg.ok{background:#b6f0a8}.msg.warn{background:#ffe36e}.msg.err{background:#ff7b7b}
.tools a{margin-right:10px}
.small{color:#555}
</style>
)";

void info_block(std::string& out, const proxy::Config& config, const PageConf& conf,
                const Process& process) {
    const std::vector<Value> values = info(config, process);
    const auto fields = info_fields();
    const auto get = [&](std::string_view name) -> std::string {
        for (std::size_t i = 0; i < fields.size() && i < values.size(); ++i) {
            if (fields[i].name != name || !values[i].set) continue;
            std::string s;
            append_value(s, values[i]);
            return s;
        }
        return {};
    };
    out += "<table class=\"info\"><tr><td><b>General process information</b><br>";
    out += fmt::format("pid = {} (process #1, nbproc = 1, nbthread = {})<br>", get("Pid"),
                       get("Nbthread"));
    out += "uptime = ";
    html_escape(out, get("Uptime"));
    out += fmt::format("<br>system limits: maxsock = {}; maxconn = {}; maxpipes = {}<br>",
                       get("Maxsock"), get("Maxconn"), get("Maxpipes"));
    out += fmt::format("current conns = {}; current pipes = {}/{}; conn rate = {}/sec<br>",
                       get("CurrConns"), get("PipesUsed"), get("PipesFree"), get("ConnRate"));
    out += fmt::format("Running tasks: {}/{}; idle = {} %</td><td>", get("Run_queue"), get("Tasks"),
                       get("Idle_pct"));
    if (conf.node) {
        out += "<b>node</b>: ";
        html_escape(out, process.node);
        out += "<br>";
    }
    if (conf.desc) {
        out += "<b>description</b>: ";
        html_escape(out, process.description);
        out += "<br>";
    }
    out += "</td></tr></table>\n";
}

void legend(std::string& out) {
    constexpr std::pair<std::string_view, std::string_view> kItems[] = {
        {"up", "active UP"},
        {"upbck", "backup UP"},
        {"goingdown", "UP, going down"},
        {"goingup", "DOWN, going up"},
        {"down", "DOWN"},
        {"nolb", "NOLB (no new connections)"},
        {"drain", "DRAIN"},
        {"maint", "MAINT (maintenance)"},
        {"nocheck", "not checked"},
    };
    out += "<table class=\"legend\"><tr>";
    for (const auto& [cls, text] : kItems)
        out += fmt::format("<td><span class=\"lg {}\"></span> {}</td>", cls, text);
    out += "</tr></table>\n";
}

void message(std::string& out, std::string_view st, std::string_view uri) {
    if (st.empty()) return;
    std::string_view cls = "err";
    std::string_view text = "Unexpected result.";
    if (st == "DONE")
        cls = "ok", text = "Action processed successfully.";
    else if (st == "NONE")
        cls = "warn", text = "Nothing has changed.";
    else if (st == "PART")
        cls = "warn", text =
                          "Action partially processed: some server names are unknown or "
                          "ambiguous.";
    else if (st == "ERRP")
        text = "Action not processed: invalid parameters (unknown action, backend or servers).";
    else if (st == "EXCD")
        text = "Action not processed: the request body was not all received.";
    else if (st == "DENY")
        text = "Action denied.";
    out += fmt::format("<div class=\"msg {}\">", cls);
    out += text;
    out += " <a href=\"";
    html_escape(out, uri);
    out += "\">[dismiss]</a></div>\n";
}

void tools(std::string& out, const PageConf& conf, const PageView& view) {
    const auto link = [&](std::string_view suffix, std::string_view label) {
        out += "<a href=\"";
        html_escape(out, view.uri);
        html_escape(out, suffix);
        out += "\">";
        out += label;
        out += "</a>";
    };
    out += "<div class=\"tools\">";
    const std::string keep = view.refresh ? "" : ";norefresh";
    if (view.up_only)
        link(keep, "Show all servers");
    else
        link(";up" + keep, "Hide DOWN servers");
    if (conf.refresh.count() > 0) {
        if (view.refresh)
            link(std::string(view.up_only ? ";up" : "") + ";norefresh", "Disable refresh");
        else
            link(view.up_only ? ";up" : "", "Enable refresh");
    }
    link(";csv", "CSV export");
    link(";json", "JSON export");
    out +=
        "<form method=\"GET\" style=\"display:inline\"> Scope: <input name=\"scope\" size=\"8\" "
        "maxlength=\"20\" value=\"";
    html_escape(out, view.scope);
    out += "\"></form></div>\n";
}

void header_rows(std::string& out, bool admin) {
    out += "<tr>";
    if (admin) out += "<th rowspan=\"2\"></th>";
    out +=
        "<th rowspan=\"2\"></th><th colspan=\"3\">Queue</th><th colspan=\"3\">Session rate</th>"
        "<th colspan=\"6\">Sessions</th><th colspan=\"2\">Bytes</th><th colspan=\"2\">Denied</th>"
        "<th colspan=\"3\">Errors</th><th colspan=\"2\">Warnings</th><th colspan=\"9\">Server</th>"
        "<th colspan=\"4\">Latency p50 / p95 / p99 (ms)</th></tr>\n<tr>";
    constexpr std::string_view kNames[] = {
        "Cur",   "Max",    "Limit",  "Cur",    "Max",     "Limit",    "Cur",  "Max", "Limit",
        "Total", "LbTot",  "Last",   "In",     "Out",     "Req",      "Resp", "Req", "Conn",
        "Resp",  "Retr",   "Redis",  "Status", "LastChk", "Wght",     "Act",  "Bck", "Chk",
        "Dwn",   "Dwntme", "Thrtle", "Queue",  "Connect", "Response", "Total"};
    for (std::string_view n : kNames)
        out += fmt::format("<th>{}</th>", n);
    out += "</tr>\n";
}

void status_cell(std::string& out, const Row& r) {
    const Cols& c = cols();
    const std::string& s = at(r, c.status).s;
    std::string text;
    if (r.type != ObjType::Frontend && at(r, c.lastchg).set && s != "no check")
        text = human(number(at(r, c.lastchg))) + " ";
    text += s;
    text_cell(out, text, "st");
}

void lastchk_cell(std::string& out, const Row& r) {
    const Cols& c = cols();
    const Value& st = at(r, c.check_status);
    if (!st.set || r.type != ObjType::Server) {
        out += "<td></td>";
        return;
    }
    std::string text = st.s;
    if (at(r, c.check_code).set) text += fmt::format("/{}", number(at(r, c.check_code)));
    if (at(r, c.check_duration).set)
        text += fmt::format(" in {}ms", number(at(r, c.check_duration)));
    out += "<td class=\"st\" title=\"";
    html_escape(out, at(r, c.check_desc).s);
    out += "\">";
    html_escape(out, text);
    out += "</td>";
}

void row(std::string& out, const Row& r, const PageConf& conf, bool admin) {
    const Cols& c = cols();
    out += fmt::format("<tr class=\"{}\">", row_class(r));
    if (admin) {
        out += "<td>";
        if (r.type == ObjType::Server) {
            out += "<input type=\"checkbox\" class=\"pick\" name=\"s\" value=\"";
            html_escape(out, at(r, c.svname).s);
            out += "\">";
        }
        out += "</td>";
    }
    std::string_view name = at(r, c.svname).s;  // a view of the row's own string
    if (r.type == ObjType::Frontend) name = "Frontend";
    if (r.type == ObjType::Backend) name = "Backend";
    out += "<td class=\"name\"";
    if (conf.legends && r.type == ObjType::Server) {
        out += " title=\"";
        std::string t = fmt::format("id: {}", number(at(r, c.sid)));
        if (at(r, c.addr).set) t += ", IP: " + at(r, c.addr).s;
        if (at(r, c.cookie).set) t += ", cookie: " + at(r, c.cookie).s;
        if (at(r, c.tracked).set) t += ", tracking: " + at(r, c.tracked).s;
        html_escape(out, t);
        out += "\"";
    }
    out += ">";
    html_escape(out, name);
    out += "</td>";
    for (std::size_t i : {c.qcur, c.qmax, c.qlimit, c.rate, c.rate_max, c.rate_lim, c.scur, c.smax,
                          c.slim, c.stot, c.lbtot})
        cell(out, at(r, i));
    const Value& last = at(r, c.lastsess);
    if (last.set && last.type != Type::Str && static_cast<std::int64_t>(number(last)) >= 0)
        text_cell(out, human(number(last)));
    else
        out += "<td></td>";
    for (std::size_t i :
         {c.bin, c.bout, c.dreq, c.dresp, c.ereq, c.econ, c.eresp, c.wretr, c.wredis})
        cell(out, at(r, i));
    status_cell(out, r);
    lastchk_cell(out, r);
    for (std::size_t i : {c.weight, c.act, c.bck, c.chkfail, c.chkdown})
        cell(out, at(r, i));
    if (at(r, c.downtime).set && r.type != ObjType::Frontend)
        text_cell(out, human(number(at(r, c.downtime))));
    else
        out += "<td></td>";
    cell(out, at(r, c.throttle));
    for (std::size_t g = 0; g < 4; ++g) {
        const Value& p50 = at(r, c.pct[g * 3]);
        if (!p50.set) {
            out += "<td></td>";
            continue;
        }
        std::string t;
        for (std::size_t k = 0; k < 3; ++k) {
            if (k) t += " / ";
            append_value(t, at(r, c.pct[g * 3 + k]));
        }
        text_cell(out, t);
    }
    out += "</tr>\n";
}

// One proxy's rows, [first, last): its table, and with admin level and servers, its form.
void proxy_table(std::string& out, const PageConf& conf, const PageView& view,
                 const std::vector<Row>& rows, std::size_t first, std::size_t last) {
    const Cols& c = cols();
    const Row& head = rows[first];
    const std::string& px = at(head, c.pxname).s;
    bool has_servers = false;
    const Row* backend = nullptr;
    for (std::size_t i = first; i < last; ++i) {
        if (rows[i].type == ObjType::Server) has_servers = true;
        if (rows[i].type == ObjType::Backend) backend = &rows[i];
    }
    const bool admin = view.admin && backend && has_servers;
    if (admin) {
        out += "<form method=\"post\" action=\"";
        html_escape(out, view.uri);
        out += "\">";
    }
    out += "<table class=\"px\"><caption><a name=\"";
    html_escape(out, px);
    out += "\" href=\"#";
    html_escape(out, px);
    out += "\">";
    html_escape(out, px);
    out += "</a>";
    if (conf.legends) {
        out += "<span class=\"small\"> &mdash; mode: ";
        html_escape(out, at(head, c.mode).s);
        out += fmt::format(", id: {}", number(at(head, c.iid)));
        out += "</span>";
    }
    out += "</caption>\n";
    header_rows(out, admin);
    for (std::size_t i = first; i < last; ++i)
        row(out, rows[i], conf, admin);
    out += "</table>\n";
    if (admin) {
        out +=
            "<label><input type=\"checkbox\" onclick=\"for (const b of "
            "this.form.querySelectorAll('input.pick')) b.checked = this.checked\"> all</label> "
            "Action on the checked servers: <select name=\"action\"><option value=\"\"></option>"
            "<option value=\"ready\">Set state to READY</option>"
            "<option value=\"drain\">Set state to DRAIN</option>"
            "<option value=\"maint\">Set state to MAINT</option>"
            "<option value=\"dhlth\">Health: disable checks</option>"
            "<option value=\"ehlth\">Health: enable checks</option>"
            "<option value=\"hrunn\">Health: force UP</option>"
            "<option value=\"hnolb\">Health: force NOLB</option>"
            "<option value=\"hdown\">Health: force DOWN</option>"
            "<option value=\"dagent\">Agent: disable checks</option>"
            "<option value=\"eagent\">Agent: enable checks</option>"
            "<option value=\"arunn\">Agent: force UP</option>"
            "<option value=\"adown\">Agent: force DOWN</option>"
            "<option value=\"shutdown\">Kill Sessions</option></select>"
            "<input type=\"hidden\" name=\"b\" value=\"";
        out += fmt::format("#{}", number(at(*backend, c.iid)));
        out += "\"> <input type=\"submit\" value=\"Apply\"></form>\n";
    }
}

}  // namespace

void html_escape(std::string& out, std::string_view text) {
    for (char ch : text) {
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += ch;
        }
    }
}

void render_html(std::string& out, const proxy::Config& config, const PageConf& conf,
                 const PageView& view, const Process& process, const std::vector<Row>& rows) {
    out.reserve(out.size() + 4096 + rows.size() * 900);
    out +=
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>Statistics Report for Sluice</title>\n";
    out += kStyle;
    out += "</head><body>\n<h1>Sluice";
    if (!conf.hide_version) {
        out += " version ";
        html_escape(out, build::version());
    }
    out += fmt::format("</h1>\n<h2>Statistics Report for pid {}{}</h2>\n", ::getpid(),
                       process.stopping ? " (stopping)" : "");
    info_block(out, config, conf, process);
    legend(out);
    message(out, view.st, view.uri);
    tools(out, conf, view);
    const Cols& c = cols();
    for (std::size_t first = 0; first < rows.size();) {
        std::size_t last = first + 1;
        while (last < rows.size() && rows[last].proxy_id == rows[first].proxy_id &&
               at(rows[last], c.pxname).s == at(rows[first], c.pxname).s)
            ++last;
        proxy_table(out, conf, view, rows, first, last);
        first = last;
    }
    out += "</body></html>\n";
}

}  // namespace sluice::stats
