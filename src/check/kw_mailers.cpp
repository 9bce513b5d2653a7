// The keywords of e-mail alerts: the `mailers` section's `mailer` and `timeout mail`, and the
// proxies' `email-alert`. Whether a proxy's settings are complete and the mailers it names exist
// is only known once everything is read (late checks).
#include <fmt/format.h>

#include "sluice/cfg/document.hpp"
#include "sluice/cfg/keyword.hpp"
#include "sluice/cfg/late.hpp"
#include "sluice/check/mailers.hpp"

namespace sluice::check {
namespace {

using cfg::Args;
using cfg::Ctx;
using cfg::In;
using cfg::Status;

Status parse_mailer(Args args, Ctx& ctx, MailersConf& conf) {
    const std::string& name = args[0];
    for (const MailersConf::Mailer& m : conf.mailers)
        if (m.name == name)
            return ctx.alert("mailer '{}' is already declared at {}:{}", name, m.where.file,
                             m.where.line);
    auto a = net::parse_server_address(args[1]);
    if (!a || (a->address.family() != AF_INET && a->address.family() != AF_INET6))
        return ctx.alert("expects an IPv4 or IPv6 address with a port, got '{}'", args[1]);
    if (!a->has_port || a->port_is_offset || a->address.port() == 0)
        return ctx.alert("missing port in '{}' (a mailer needs <ip>:<port>)", args[1]);
    conf.mailers.push_back({.name = name, .address = a->address, .where = ctx.where()});
    return Status::Ok;
}

Status parse_timeout_mail(Args args, Ctx& ctx, MailersConf& conf) {
    auto d = util::parse_duration(args[0]);
    if (!d) return ctx.alert("invalid time value '{}': {}", args[0], d.error());
    if (d->count() <= 0) return ctx.alert("expects a time above zero, got '{}'", args[0]);
    conf.timeout = *d;
    return Status::Ok;
}

// Every proxy whose settings come from the section at `origin` (that proxy itself, or the
// defaults it inherited them from) and lack something: HAProxy warns for each.
std::string check_complete(const cfg::Document& doc, const cfg::Location& origin) {
    std::string off;
    for (const cfg::Section& s : doc.proxies) {
        const auto& conf = s.parts.read<EmailAlertConf>();
        if (!conf.any || conf.complete() || conf.origin.file != origin.file ||
            conf.origin.line != origin.line)
            continue;
        std::string missing;
        for (auto [value, word] : {std::pair{&conf.from, "from"}, std::pair{&conf.to, "to"},
                                   std::pair{&conf.mailers, "mailers"}}) {
            if (!value->empty()) continue;
            if (!missing.empty()) missing += ", ";
            missing += fmt::format("'email-alert {}'", word);
        }
        if (!off.empty()) off += ", ";
        off += fmt::format("{} (missing {})", s.label(), missing);
    }
    if (off.empty()) return {};
    return fmt::format(
        "e-mail alerts are off for {}: they need 'email-alert from', 'email-alert to' and "
        "'email-alert mailers'",
        off);
}

Status parse_email_alert(Args args, Ctx& ctx, EmailAlertConf& conf) {
    const std::string& what = args[0];
    if (what != "from" && what != "to" && what != "mailers" && what != "level" &&
        what != "myhostname")
        return ctx.alert(
            "unknown argument '{}' (expects 'from', 'to', 'mailers', 'level' or 'myhostname')",
            what);
    // HAProxy takes a missing value as an empty one and then ignores the proxy's alerts.
    if (args.size() < 2 || args[1].empty())
        return ctx.alert("'email-alert {}' expects a value", what);
    if (args.size() > 2)
        (void)ctx.warning("ignoring '{}' after 'email-alert {} {}'", args[2], what, args[1]);
    const std::string& value = args[1];
    if (what == "level") {
        auto level = parse_log_level(value);
        if (!level)
            return ctx.alert(
                "unknown log level '{}' (expects emerg, alert, crit, err, warning, notice, info "
                "or debug)",
                value);
        conf.level = *level;
    } else if (what == "from") {
        conf.from = value;
    } else if (what == "to") {
        conf.to = value;
    } else if (what == "myhostname") {
        conf.myhostname = value;
    } else {
        conf.mailers = value;
        (void)cfg::defer_check([name = value](const cfg::Document& doc) -> std::string {
            if (doc.global.read<cfg::NamedSections>().find(cfg::SectionKind::Mailers, name))
                return {};
            return fmt::format("unable to find mailers section '{}'", name);
        });
    }
    conf.any = true;
    if (conf.checked_for != ctx.context()) {
        conf.checked_for = ctx.context();
        conf.origin = ctx.where();
        (void)cfg::defer_check(
            [where = ctx.where()](const cfg::Document& doc) { return check_complete(doc, where); },
            cfg::Level::Warning);
    }
    return Status::Ok;
}

constexpr cfg::Keyword kKeywords[] = {
    {.name = "mailer",
     .in = In::Mailers,
     .arity = cfg::exactly(2),
     .parse = cfg::on_part<MailersConf, parse_mailer>},
    {.name = "timeout mail",
     .in = In::Mailers,
     .arity = cfg::exactly(1),
     .parse = cfg::on_part<MailersConf, parse_timeout_mail>},
    {.name = "email-alert",
     .in = cfg::kAnyProxy,
     .arity = cfg::at_least(1),
     .parse = cfg::on_part<EmailAlertConf, parse_email_alert>},
};
const cfg::Registrar kRegistered{kKeywords};

}  // namespace
}  // namespace sluice::check
