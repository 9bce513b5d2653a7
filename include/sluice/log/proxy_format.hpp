// What a proxy logs and how: the `log-format`, `option httplog|httpslog|tcplog`,
// `log-format-sd`, `error-log-format`, `unique-id-format|header`, `capture cookie` keywords and
// the logging options (`dontlognull`, `dontlog-normal`, `log-separate-errors`, `logasap`,
// `log-health-checks`), compiled when the config is read (src/log/kw_logformat.cpp). A
// `ProxyLogFormat` is a part of each proxy section's cfg::Parts, so a proxy starts with its
// defaults' settings and its own lines replace them, as HAProxy does. The stream reads it with
// `fe.parts->read<log::ProxyLogFormat>()` when it logs; nothing here changes once running.
//
// This header names sample::Format, one module below `log`: the formats' variables read a
// log::Record, and the keywords that compile them are logging's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/cfg/diag.hpp"
#include "sluice/sample/format.hpp"

namespace sluice::log {

// HAProxy 2.6's built-in formats (src/log.c), as `log-format` strings.
inline constexpr std::string_view kHttpLogFormat =
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc "
    "%sq/%bq %hr %hs %{+Q}r";
inline constexpr std::string_view kHttpLogClfFormat =
    "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc "
    "%ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
inline constexpr std::string_view kHttpsLogFormat =
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc "
    "%sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/"
    "%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc";
inline constexpr std::string_view kTcpLogFormat =
    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
// The structured data of an rfc5424 header when no `log-format-sd` is given.
inline constexpr std::string_view kDefaultSd = "- ";
// HAProxy has no format string for its default error line (connection errors before a stream:
// TLS handshake, PROXY header): it is fixed, "CLIENT:PORT [ACCEPT_DATE] FRONTEND/BIND: MESSAGE".
// This renders its first part; the stream appends "/<bind name>: <message>".
inline constexpr std::string_view kLegacyErrorPrefix = "%ci:%cp [%tr] %ft";

// Which keyword chose the traffic log's format (the last one given wins).
enum class LogKind : std::uint8_t { None, Custom, Http, HttpClf, Https, Tcp };

struct ProxyLogFormat {
    // The traffic log: `log-format` (Custom) or an option's built-in format, compiled for this
    // section. None: the proxy sends no traffic log (HAProxy's default without a format).
    LogKind kind = LogKind::None;
    std::optional<sample::Format> log;
    // The line that chose it (a defaults line for a proxy that inherited it), for the checks
    // made once every proxy's mode is known.
    cfg::Location origin;
    // `option httplog json` / `option tcplog json` (Sluice's): one JSON object per line, with
    // the members of the chosen format (Format::Mode::Json).
    bool json = false;
    // `log-format-sd`: the structured data of rfc5424 headers; unset: kDefaultSd.
    std::optional<sample::Format> sd;
    // `error-log-format`: connection errors before a stream; unset: HAProxy's legacy line
    // (kLegacyErrorPrefix + "/<bind>: <message>").
    std::optional<sample::Format> error;
    // `unique-id-format` (unset: no unique id, %ID is "-") and `unique-id-header` (empty: none
    // added to the request sent to the server).
    std::optional<sample::Format> unique_id;
    std::string unique_id_header;
    // The options: skip connections that exchanged no data; log only errors; raise errors to
    // level `err`; log as soon as the server answered (HTTP) or connected (TCP), with '+' on
    // the totals; log health check changes (backend side).
    bool dontlognull = false;
    bool dontlog_normal = false;
    bool log_separate_errors = false;
    bool logasap = false;
    bool log_health_checks = false;
    // `capture cookie NAME len N`: the first request Cookie / response Set-Cookie value whose
    // name starts with NAME, "NAME=value" cut to `capture_cookie_len` bytes (%CC, %CS).
    // Empty name: no capture.
    std::string capture_cookie;
    std::uint32_t capture_cookie_len = 0;

    // The traffic log's format for a proxy in this mode, or nullptr when it does not log
    // traffic. HAProxy falls back to `option tcplog` for the HTTP formats in mode tcp.
    const sample::Format* log_format(bool http_mode) const;
    // kDefaultSd compiled when no `log-format-sd` is given.
    const sample::Format& sd_format() const;
    // The `error-log-format`, or nullptr: the stream writes the legacy line (see above) and may
    // use legacy_error_prefix() for its first part.
    const sample::Format* error_format() const { return error ? &*error : nullptr; }
    static const sample::Format& legacy_error_prefix();
    const sample::Format* unique_id_format() const { return unique_id ? &*unique_id : nullptr; }
};

// What the formats may read: the connection, the process, the captures and the response (a
// log line leaves at the end), not the request's headers (HAProxy 2.6 refuses them, use
// captures); a unique id is made when the request arrives.
inline constexpr sample::Use kLogFormatUse =
    sample::Use::Internal | sample::Use::Conn | sample::Use::Res;
inline constexpr sample::Use kUniqueIdUse =
    sample::Use::Internal | sample::Use::Conn | sample::Use::Req;

}  // namespace sluice::log
