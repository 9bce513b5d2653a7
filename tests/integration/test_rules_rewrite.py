"""The regex rewrites, end to end: http-request replace-header / replace-value / replace-path /
replace-pathq / replace-uri as the backend sees them, http-response and http-after-response
replace-header / replace-value as the client sees them, and the configurations `-c` refuses.

What each test pins is HAProxy 2.6's behaviour (every test here passes against Debian's haproxy,
`--sluice=/usr/sbin/haproxy`): the regex may match a part of the value, but a matching value is
replaced whole by the expanded replacement; `\\0`..`\\9` are groups, read in the rendered
log-format text; a failed rewrite answers 500.
"""

import pytest

from conftest import http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def proxied(sluice, backends, frontend):
    """Frontend `fe` with the `frontend` lines in front of one HTTP backend `web`; returns it."""
    web = backends.http("web")
    sluice.start(f"{sluice.base(mode='http')}frontend fe\n"
                 f"    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
                 f"    default_backend web\nbackend web\n    server web 127.0.0.1:{web.port}\n")
    return web


def get(sluice, target, headers=(), method="GET"):
    """One request on a new connection; a Host in `headers` replaces the default one."""
    headers = list(headers)
    host = next((v for n, v in headers if n.lower() == "host"), "sluice.test")
    headers = [(n, v) for n, v in headers if n.lower() != "host"]
    with http_connect(sluice.port("fe")) as c:
        c.request(method, target, headers=headers, host=host)
        return c.response(method=method)


def seen(web):
    """The one request the backend received."""
    [req] = web.requests
    return req


# ---------------------------------------------------------------------------------------------
# replace-header


def test_replace_header_partial_match_replaces_the_whole_value(sluice, backends):
    """The regex need not match the whole value, but a value it matches is replaced whole:
    `curl` on `curl/7.47.0` leaves just the replacement. Every field of that name is tried;
    the others stay as they were."""
    web = proxied(sluice, backends, "http-request replace-header User-Agent curl foo")
    get(sluice, "/", headers=[("User-Agent", "curl/7.47.0"), ("User-Agent", "wget/1.0"),
                              ("User-Agent", "libcurl")])
    assert seen(web).header_all("user-agent") == ["foo", "wget/1.0", "foo"]


def test_replace_header_back_references_and_format(sluice, backends):
    r"""`\1`..`\9` are groups, `\0` the whole match, a group that did not take part is empty;
    the replacement is a log-format string (`%[src]`). Matching is case-sensitive unless the
    regex says `(?i)`."""
    web = proxied(sluice, backends, r"""
        http-request replace-header Cookie foo=([^;]*);(.*) foo=\1;ip=%[src];\2
        http-request replace-header X-A b(.)d(x)? [\1|\0|\2]
        http-request replace-header X-Case abc lower
        http-request replace-header X-Caseless (?i)abc any
    """)
    get(sluice, "/", headers=[("Cookie", "foo=foobar; expires=Tue, 14-Jun-2016 01:40:45 GMT;"),
                              ("X-A", "abcde"), ("X-Case", "ABC"), ("X-Caseless", "xABCx")])
    req = seen(web)
    assert req.header("cookie") == "foo=foobar;ip=127.0.0.1; expires=Tue, 14-Jun-2016 01:40:45 GMT;"
    assert req.header("x-a") == "[c|bcd|]"
    assert req.header("x-case") == "ABC"
    assert req.header("x-caseless") == "any"


def test_replacement_escapes_are_read_after_rendering(sluice, backends):
    r"""The escapes are expanded in the rendered text: `\xHH` is a byte, `\c` the character c,
    and a `\1` that a sample renders is a group like one written in the config."""
    web = proxied(sluice, backends, r"""
        http-request replace-header X-A ^(.)(.)$ '\2\x41\%%%[req.hdr(x-tpl)]'
    """)
    get(sluice, "/", headers=[("X-A", "ab"), ("X-Tpl", r"<\1>")])
    assert seen(web).header("x-a") == "bA%<a>"


# ---------------------------------------------------------------------------------------------
# replace-value


def test_replace_value_each_comma_separated_value(sluice, backends):
    """Each value between commas is matched on its own (commas inside double quotes do not
    split); the blanks around a replaced value go with it; empty values are matched too."""
    web = proxied(sluice, backends, r"""
        http-request replace-value X-Forwarded-For ^192\.168\.(.*)$ 172.16.\1
        http-request replace-value X-Q ^(.*)$ <\1>
        http-request replace-value X-E ^$ E
    """)
    get(sluice, "/", headers=[("X-Forwarded-For", "192.168.10.1, 192.168.13.24, 10.0.0.37"),
                              ("X-Q", '"a,b" ,c'), ("X-E", "a,,b,")])
    req = seen(web)
    assert req.header("x-forwarded-for") == "172.16.10.1,172.16.13.24, 10.0.0.37"
    assert req.header("x-q") == '<"a,b">,<c>'
    assert req.header("x-e") == "a,E,b,E"


# ---------------------------------------------------------------------------------------------
# replace-path, replace-pathq, replace-uri


def test_replace_path_keeps_the_query(sluice, backends):
    """replace-path works on the path alone: the query string stays, and so does the
    scheme://authority of an absolute-form target. A condition limits it."""
    web = proxied(sluice, backends, r"""
        http-request replace-path /foo/(.*) /\1 if { path_beg /foo/ }
        http-request replace-path (.*) /pre\1 if { hdr(x-prefix) -m found }
    """)
    get(sluice, "/foo/bar?q=/foo/x")
    get(sluice, "http://sluice.test/a/b?c", headers=[("X-Prefix", "1")])
    get(sluice, "/other?foo/")
    assert [r.target for r in web.requests] == ["/bar?q=/foo/x", "http://sluice.test/pre/a/b?c",
                                                "/other?foo/"]


def test_replace_pathq_and_uri(sluice, backends):
    """replace-pathq sees the path and the query; replace-uri the whole target, and a target
    that names an authority carries the Host header along."""
    web = proxied(sluice, backends, r"""
        http-request replace-pathq ([^?]*)(\?(.*))? \1/foo\2 if { hdr(x-t) pq }
        http-request replace-uri ([^/:]*://[^/]*)?(.*) \1/foo\2 if { hdr(x-t) uri }
        http-request replace-uri ^/abs(.*) http://other.test\1 if { hdr(x-t) abs }
    """)
    get(sluice, "/bar?q=1", headers=[("X-T", "pq")])
    get(sluice, "/bar?q=1", headers=[("X-T", "uri")])
    get(sluice, "http://sluice.test/bar", headers=[("X-T", "uri")])
    get(sluice, "/abs/x?y", headers=[("X-T", "abs")])
    pq, uri, absolute, moved = web.requests
    assert pq.target == "/bar/foo?q=1"
    assert uri.target == "/foo/bar?q=1"
    assert absolute.target == "http://sluice.test/foo/bar"
    assert (moved.target, moved.header("host")) == ("http://other.test/x?y", "other.test")


def test_replace_host_moves_the_absolute_target_authority(sluice, backends):
    """In an absolute-form request, Host and the target's authority stay equal: replacing Host
    rewrites the authority too."""
    web = proxied(sluice, backends, r"""
        http-request replace-header Host ^old\.(.*) new.\1
    """)
    get(sluice, "http://old.test/p?q", headers=[("Host", "old.test")])
    req = seen(web)
    assert (req.target, req.header("host")) == ("http://new.test/p?q", "new.test")


# ---------------------------------------------------------------------------------------------
# Responses


def test_response_replace_header_and_value(sluice, backends):
    """http-response replace-header / replace-value on the server's fields (every Set-Cookie
    tried), http-after-response on what goes to the client."""
    web = proxied(sluice, backends, r"""
        http-response replace-header Set-Cookie (C=[^;]*);(.*) \1;ip=%[src];\2
        http-response replace-value Cache-Control ^public$ private
        http-after-response replace-header Content-Type ^text/(.*) TEXT/\1
    """)
    web.raw["r"] = (b"HTTP/1.1 200 OK\r\nSet-Cookie: C=1; path=/\r\nSet-Cookie: D=2\r\n"
                    b"Set-Cookie: C=3;x\r\nCache-Control: max-age=3600, public\r\n"
                    b"Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n"
                    b"\r\nok")
    resp = get(sluice, "/raw/r")
    assert resp.status == 200 and resp.body == b"ok"
    assert resp.header_all("set-cookie") == ["C=1;ip=127.0.0.1; path=/", "D=2",
                                             "C=3;ip=127.0.0.1;x"]
    assert resp.header("cache-control") == "max-age=3600,private"
    assert resp.header("content-type") == "TEXT/plain"


# ---------------------------------------------------------------------------------------------
# Failed rewrites


def test_failed_rewrite_answers_500_and_keeps_the_connection(sluice, backends):
    r"""A replacement that cannot be expanded (it ends in a lone backslash) is a failed rewrite:
    HAProxy's default strict mode answers 500 instead of forwarding, and the client connection
    stays usable. The same in a response rule replaces the server's answer."""
    web = proxied(sluice, backends, r"""
        http-request replace-header X-Bad . 'x\'
        http-response replace-header X-Seq . 'x\' if { status 201 }
    """)
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/req", headers=[("X-Bad", "1")]).status == 500
        assert c.roundtrip("GET", "/status/201").status == 500
        assert c.roundtrip("GET", "/after").status == 200
    assert [r.target for r in web.requests] == ["/status/201", "/after"]


# ---------------------------------------------------------------------------------------------
# Bad configurations


@pytest.mark.parametrize("line", [
    "http-request replace-header X-A a( b",
    "http-request replace-value X-A a( b",
    "http-request replace-path a( b",
    "http-request replace-pathq a( b",
    "http-request replace-uri a( b",
    "http-response replace-header X-A a( b",
    "http-after-response replace-value X-A a( b",
])
def test_bad_regex_fails_check_naming_file_line_and_regex(sluice, line):
    """`-c` refuses an invalid regex, naming file:line, the regex and PCRE2's reason."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    {line}\n    default_backend web\nbackend web\n")
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text, name="bad.cfg")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"bad.cfg:{line_no}]" in out
    assert "regex 'a('" in out and "missing closing parenthesis" in out


@pytest.mark.parametrize("line", [
    "http-request replace-header X-A a",
    "http-request replace-value X-A a b c",
    "http-request replace-path a",
    "http-request replace-uri a b c",
    "http-request replace-pathq '' b",
    "http-response replace-path a b",
    "http-after-response replace-uri a b",
])
def test_bad_arguments_fail_check(sluice, line):
    """A missing, extra or empty argument, and replace-path/pathq/uri outside http-request."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    {line}\n    default_backend web\nbackend web\n")
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text, name="bad.cfg")
    assert result.returncode != 0
    assert f"bad.cfg:{line_no}]" in result.stdout + result.stderr
