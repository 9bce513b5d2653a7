"""Log keywords (issue #8, the config half): `log-format`, `log-format-sd`, `error-log-format`,
`option httplog [clf|json]`, `option httpslog`, `option tcplog [json]`, the log options,
`unique-id-format|header` and `capture cookie`: where each is accepted, what is refused and
what is warned about. Every message checked here is HAProxy 2.6's text (after Sluice's own
"parsing [file:line] : section : 'keyword' :" prefix), and each test passes against Debian's
haproxy 2.6.12 (`--sluice=/usr/sbin/haproxy`) as well; `json` is Sluice's own.
"""

import pytest

FE = "frontend fe\n    bind 127.0.0.1:{port}\n    log stdout format raw local0\n"


def fe(sluice, mode, lines):
    body = "".join(f"    {line}\n" for line in lines)
    return (sluice.base(mode=mode) + FE.format(port=sluice.port("fe")) + body
            + "    default_backend be\nbackend be\n    server s1 127.0.0.1:1\n")


def check_ok(sluice, text):
    out = sluice.check(text)
    assert out.returncode == 0, out.stderr
    assert "WARNING" not in out.stderr and "ALERT" not in out.stderr, out.stderr
    return out


def check_fails(sluice, text, *needles):
    out = sluice.check(text)
    assert out.returncode != 0, out.stderr
    for n in needles:
        assert n in out.stderr, out.stderr
    return out


def check_warns(sluice, text, *needles):
    out = sluice.check(text)
    assert "ALERT" not in out.stderr, out.stderr
    assert "WARNING" in out.stderr, out.stderr
    for n in needles:
        assert n in out.stderr, out.stderr
    return out


@pytest.mark.parametrize("lines", [
    ["option httplog"],
    ["option httplog clf"],
    ["option httpslog"],
    ["option tcplog"],
    ["log-format \"%{+Q}o %ci:%cp [%tr] %ft %b/%s %{-Q}r %[src] %%\""],
    ["log-format %{+Q,+X}ci\\ %{+Q+X}cp\\ %{+E}[str(a)]\\ %{+Z}o\\ %{Q}b"],
    ["log-format-sd %{+Q,+E}o\\ [id@1\\ host=%[capture.req.hdr(0)]]",
     "capture request header Host len 20"],
    ["error-log-format \"%ci:%cp [%tr] %ft %ac/%fc\""],
    ["unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid", "unique-id-header X-Unique-ID"],
    ["capture cookie SID len 32"],
    ["option dontlognull", "option dontlog-normal", "option log-separate-errors",
     "option logasap", "no option logasap", "no option dontlognull"],
    ["option httplog", "log-format %ci", "option tcplog"],  # the last wins, no warning here
])
def test_accepted_in_http_frontend(sluice, lines):
    check_ok(sluice, fe(sluice, "http", lines))


def test_tcp_frontend_with_tcplog(sluice):
    # %tsc is marked HTTP-only in the manual, yet accepted in mode tcp.
    check_ok(sluice, fe(sluice, "tcp", ["option tcplog", "log-format \"%ci %ts %tsc %Tt %B\""]))


def test_defaults_are_inherited_and_health_checks_logged_in_backends(sluice):
    text = (sluice.base(mode="http") + "    option httplog\n    option dontlognull\n"
            + FE.format(port=sluice.port("fe")) + "    default_backend be\n"
            "backend be\n    option log-health-checks\n    server s1 127.0.0.1:1\n")
    check_ok(sluice, text)


@pytest.mark.parametrize("fmt,message", [
    ("'%ci %xx'", "no such format variable 'xx'. If you wanted to emit the '%' character "
                  "verbatim, you need to use '%%'."),
    ("'%{+Q}c'", "no such format variable 'c'."),
    ("'%ci%'", "truncated line after '%'."),
    ("'%{+Q'", "truncated line after '+Q'."),
    ("'%{+Q}'", "parse argument modifier without variable name near '%{+Q}'."),
])
def test_bad_format_is_an_alert(sluice, fmt, message):
    for kw in ("log-format", "error-log-format", "unique-id-format"):
        out = check_fails(sluice, fe(sluice, "http", [f"{kw} {fmt}"]), message)
        assert "failed to parse " in out.stderr


def test_bad_sample_in_format(sluice):
    check_fails(sluice, fe(sluice, "http", ["log-format %[src"]), "failed to parse log-format")
    check_fails(sluice, fe(sluice, "http", ["log-format %[nope]"]), "failed to parse log-format")


@pytest.mark.parametrize("kw", ["log-format", "log-format-sd", "error-log-format",
                                "unique-id-format"])
def test_format_argument_count(sluice, kw):
    check_fails(sluice, fe(sluice, "http", [kw]), f"{kw} expects an argument.")
    check_fails(sluice, fe(sluice, "http", [f"{kw} %ci %cp"]),
                f"{kw} expects only one argument, don't forget to escape spaces!")


def test_unique_id_header_needs_an_argument(sluice):
    check_fails(sluice, fe(sluice, "http", ["unique-id-header"]),
                "unique-id-header expects an argument.")


@pytest.mark.parametrize("var", ["r", "HU", "CC", "Ta", "trg"])
def test_http_only_variables_in_mode_tcp(sluice, var):
    check_fails(sluice, fe(sluice, "tcp", [f"log-format %ci\\ %{var}"]),
                f"format variable '{var}' is reserved for HTTP mode.")


def test_mode_set_after_the_format_counts(sluice):
    text = (sluice.base(mode="tcp") + FE.format(port=sluice.port("fe"))
            + "    log-format %r\n    mode http\n    default_backend be\n"
            "backend be\n    mode http\n    server s1 127.0.0.1:1\n")
    check_ok(sluice, text)


@pytest.mark.parametrize("option", ["httplog", "httpslog"])
def test_http_option_in_mode_tcp_falls_back(sluice, option):
    check_warns(sluice, fe(sluice, "tcp", [f"option {option}"]),
                f"'option {option}' not usable with frontend 'fe' (needs 'mode http'). "
                "Falling back to 'option tcplog'.")


def defaults_then_tcp_listens(sluice, defaults_lines, listen_lines=()):
    """A defaults section with a traffic log, a mode tcp listen inheriting it and one with its
    own `listen_lines`."""
    text = sluice.base(mode="tcp") + "    log stdout format raw local0\n"
    text += "".join(f"    {line}\n" for line in defaults_lines)
    for name, own in (("inherits", ()), ("own", listen_lines)):
        text += (f"listen {name}\n    bind 127.0.0.1:{sluice.port(name)}\n"
                 + "".join(f"    {line}\n" for line in own) + "    server s1 127.0.0.1:1\n")
    return text


def test_inherited_http_option_in_mode_tcp_falls_back(sluice):
    """HAProxy warns at the defaults line, once per proxy still using it, naming a listen a
    "proxy"; a proxy with its own tcplog is not warned about."""
    out = check_warns(sluice, defaults_then_tcp_listens(sluice, ["option httplog"],
                                                         ["option tcplog"]),
                      "'option httplog' not usable with proxy 'inherits' (needs 'mode http'). "
                      "Falling back to 'option tcplog'.")
    assert "'own'" not in out.stderr, out.stderr


def test_inherited_log_format_with_http_variable_in_mode_tcp(sluice):
    """HAProxy refuses a defaults log-format with an HTTP-only variable in a mode tcp proxy
    that uses it, naming the defaults line; one with its own format is fine."""
    check_fails(sluice, defaults_then_tcp_listens(sluice, ['log-format "%ci %HM %r"'],
                                                  ["log-format %ci"]),
                "failed to parse log-format : format variable 'HM' is reserved for HTTP mode.")
    check_ok(sluice, defaults_then_tcp_listens(sluice, ["log-format %ci"]))


def test_log_format_without_log_address_is_warned(sluice):
    """A frontend with a traffic log format but no `log` target: HAProxy 2.6 warns that the
    format is ignored ("proxy" for a listen); a backend is not concerned."""
    text = (sluice.base(mode="http") + "    option httplog\n"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
            f"listen both\n    bind 127.0.0.1:{sluice.port('both')}\n"
            "    server s1 127.0.0.1:1\n"
            "backend be\n    server s1 127.0.0.1:1\n")
    out = check_warns(sluice, text,
                      "log format ignored for frontend 'fe' since it has no log address.",
                      "log format ignored for proxy 'both' since it has no log address.")
    assert "'be'" not in out.stderr, out.stderr


@pytest.mark.parametrize("line,what", [
    ("log-format %ci", "'log-format'"),
    ("log-format-sd %ci", "'log-format-sd'"),
    ("error-log-format %ci", "'error-log-format'"),
    ("option httplog", "'option httplog'"),
    ("option tcplog", "'option tcplog'"),
])
def test_ignored_in_backends(sluice, line, what):
    text = (sluice.base(mode="http") + FE.format(port=sluice.port("fe"))
            + "    default_backend be\nbackend be\n" + f"    {line}\n    server s1 127.0.0.1:1\n")
    out = check_warns(sluice, text, "directive is ignored in backends.", "backend 'be'", what)
    assert out.returncode == 0


@pytest.mark.parametrize("first,second,said,previous", [
    ("option httplog", "log-format %ci", "log-format", "option httplog"),
    ("log-format %ci", "option httplog clf", "option httplog clf", "log-format"),
    ("option tcplog", "option httpslog", "option httplog", "option tcplog"),
    ("option httpslog", "option tcplog", "option tcplog", "option httpslog"),
    ("option httplog clf", "option httplog", "option httplog", "option httplog clf"),
])
def test_override_warned_in_defaults(sluice, first, second, said, previous):
    text = (sluice.base(mode="http") + f"    {first}\n    {second}\n"
            + FE.format(port=sluice.port("fe")) + "    default_backend be\n"
            "backend be\n    server s1 127.0.0.1:1\n")
    check_warns(sluice, text,
                f"'{said}' overrides previous '{previous}' in 'defaults' section.")


@pytest.mark.parametrize("line,message", [
    ("option httplog foo", "keyword 'httplog' only supports option 'clf'"),
    ("option httplog clf x", "'option httplog' cannot handle unexpected argument 'x'."),
    ("option tcplog x", "'option tcplog' cannot handle unexpected argument 'x'."),
    ("no option httplog", "negation/default is not supported for option 'httplog'."),
    ("no option tcplog", "negation/default is not supported for option 'tcplog'."),
])
def test_bad_option_arguments(sluice, line, message):
    check_fails(sluice, fe(sluice, "http", [line]), message)


def test_json_is_sluices(sluice, binary_is_haproxy):
    for line in ("option httplog json", "option tcplog json"):
        out = sluice.check(fe(sluice, "http", [line]))
        if binary_is_haproxy:
            assert out.returncode != 0
        else:
            assert out.returncode == 0 and "ALERT" not in out.stderr, out.stderr


def test_capture_cookie(sluice):
    check_fails(sluice, fe(sluice, "http", ["capture cookie"]),
                "'capture' expects 'cookie' <cookie_name> 'len' <len>.")
    check_fails(sluice, fe(sluice, "http", ["capture cookie SID len"]),
                "'capture' expects 'cookie' <cookie_name> 'len' <len>.")
    check_warns(sluice, fe(sluice, "http", ["capture cookie SID len 100"]),
                "truncating capture length to 63 bytes for frontend 'fe'.")
    text = sluice.base(mode="http") + "    capture cookie SID len 5\n" \
        + FE.format(port=sluice.port("fe")) + "    default_backend be\n" \
        "backend be\n    server s1 127.0.0.1:1\n"
    check_fails(sluice, text, "'capture cookie'", "not allowed in", "'defaults' section")
    text = (sluice.base(mode="http") + FE.format(port=sluice.port("fe"))
            + "    default_backend be\nbackend be\n    capture cookie SID len 5\n"
            "    server s1 127.0.0.1:1\n")
    check_warns(sluice, text, "backend 'be'", "no frontend capability")


@pytest.mark.parametrize("option", ["dontlognull", "dontlog-normal", "log-separate-errors",
                                    "logasap"])
def test_frontend_options_ignored_in_backends(sluice, option):
    text = (sluice.base(mode="http") + FE.format(port=sluice.port("fe"))
            + "    default_backend be\nbackend be\n" + f"    option {option}\n"
            "    server s1 127.0.0.1:1\n")
    check_warns(sluice, text, "backend 'be'", "no frontend capability")


def test_log_health_checks_ignored_in_frontends(sluice):
    check_warns(sluice, fe(sluice, "http", ["option log-health-checks"]),
                "frontend 'fe'", "no backend capability")
