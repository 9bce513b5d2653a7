// E-mail alerts on server state changes: `mailers` sections (`mailer NAME IP:PORT`, `timeout
// mail`), the proxy's `email-alert from|to|mailers|level|myhostname`, the SMTP message and
// dialogue (pure, below), and MailAlerts, which sends them from the loop of the check that saw
// the change, without ever blocking it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/cfg/diag.hpp"
#include "sluice/core/loop.hpp"
#include "sluice/net/address.hpp"
#include "sluice/proxy/runtime.hpp"
#include "sluice/util/units.hpp"

namespace sluice::check {

// One `mailers` section (kept in its named section's Parts).
struct MailersConf {
    struct Mailer {
        std::string name;
        net::Address address;
        cfg::Location where;
    };
    std::vector<Mailer> mailers;
    util::Duration timeout{std::chrono::seconds(10)};  // `timeout mail`; HAProxy's default
};

// A proxy's `email-alert` settings (inherited from defaults like any proxy setting).
struct EmailAlertConf {
    std::string from, to, mailers, myhostname;
    int level = 1;     // syslog level: mails for messages at this level or more urgent
    bool any = false;  // some email-alert line applies to the proxy
    // The first email-alert line of the section that last set any: the completeness check
    // filed there covers every proxy carrying these settings (its own, or a defaults').
    std::string checked_for;
    cfg::Location origin;
    bool complete() const { return !from.empty() && !to.empty() && !mailers.empty(); }
};

// Syslog level names as HAProxy reads them: emerg 0 ... debug 7.
std::optional<int> parse_log_level(std::string_view name);

// The level of a state change's message: a server going DOWN from UP is an alert; coming UP,
// stopping (NOLB) or going DOWN from stopping, a notice.
int state_level(bool down_from_up);

// The DATA part of an alert mail, up to and including the ending ".\r\n". `text` is the state
// message without its final dot; `date` as RFC 5322 wants it (format_mail_date).
std::string build_mail_data(std::string_view from, std::string_view to, std::string_view date,
                            std::string_view text);
// "Mon, 07 Dec 2026 03:22:33 +0000 (UTC)", in local time.
std::string format_mail_date(std::int64_t unix_seconds);

// An SMTP reply read so far: Incomplete until its last line ("NNN text\r\n") is in.
struct SmtpReply {
    enum class State : std::uint8_t { Incomplete, Complete, Invalid } state = State::Incomplete;
    int code = 0;
    std::size_t length = 0;  // bytes of the whole reply when Complete
};
SmtpReply parse_smtp_reply(std::string_view in);

// The mails in flight and waiting are per loop; at most this many wait for one mailer of one
// proxy on one loop, later ones are dropped (a flapping server cannot eat memory).
inline constexpr std::size_t kMaxPendingMails = 32;

struct MailThread;

class MailAlerts {
  public:
    MailAlerts(proxy::Config& config, std::size_t loops);
    ~MailAlerts();
    MailAlerts(const MailAlerts&) = delete;
    MailAlerts& operator=(const MailAlerts&) = delete;

    // On the loop of the change: `message` is the state message as printed (with its final
    // dot); a mail goes to every mailer of the server's proxy when `level` passes its filter.
    void alert(const proxy::Server& s, int level, std::string_view message, core::Loop& loop);
    // Soft stop: this loop's mails in flight finish (bounded by `timeout mail`), those waiting
    // are dropped, so the loop can end.
    void stop_thread(core::Loop& loop);

    struct Target {
        EmailAlertConf conf;
        std::string hostname;  // HELO
        std::vector<net::Address> mailers;
        util::Duration timeout{};
    };

  private:
    std::unordered_map<const proxy::Backend*, std::unique_ptr<Target>> targets_;
    std::vector<std::unique_ptr<MailThread>> threads_;
};

}  // namespace sluice::check
