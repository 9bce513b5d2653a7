"""Replies made of log-format: `http-error ... lf-string|lf-file|hdr NAME FMT` (the proxy's own
pages, used by the errors it generates and by deny) and `http-request return|deny` with
`lf-string`, `lf-file`, `hdr`, `errorfile` and `errorfiles`.

Each reply is rendered when it is sent, from the transaction: sample fetches (`%[req.hdr(host)]`,
`%[path]`, variables) and log-format variables (`%ci`, `%ST`, `%b`, `%s`). What these tests pin
is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`). Header names are compared lower-cased.
"""

import pytest

from conftest import build_request, http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def config(sluice, frontend="", backend="", servers=(), sections="", defaults="",
           extra_global=""):
    """Frontend `fe` (its `frontend` lines) in front of backend `be` (`backend` lines, then one
    `server` line per entry of `servers`)."""
    lines = "".join(f"    server {s}\n" for s in servers)
    return (f"{sluice.base(mode='http', extra_global=extra_global)}{indent(defaults)}"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
            f"    default_backend be\nbackend be\n{indent(backend)}{lines}{sections}")


def lower(headers):
    return [(n.lower(), v) for n, v in headers]


def test_http_error_lf_string_on_a_real_503(sluice):
    """A backend without a server answers 503 with its `http-error status 503 ... lf-string`
    page, rendered per request: the request as the rules left it (`set-header host`), a txn
    variable, `%ci`, `%ST` (the reply's status), `%b`, `%s` (`<NOSRV>`). The status line and
    reason are HAProxy's; `hdr` fields come first, then content-length and content-type; a
    `hdr` whose value renders empty is left out. The keep-alive connection carries on, and the
    next request gets its own rendering."""
    sluice.start(config(
        sluice,
        frontend="""
            http-request set-header host edited.test if { path /edit }
            http-request set-var(txn.who) str(tester)
        """,
        backend=('http-error status 503 content-type text/plain lf-string '
                 '"h=%[req.hdr(host)] p=%[path] v=%[var(txn.who)] ci=%ci st=%ST b=%b s=%s" '
                 'hdr x-path "%[path]" hdr x-missing "%[req.hdr(x-nope)]" hdr x-fixed "a%%b"')))
    with http_connect(sluice.port("fe")) as c:
        for path, host in (("/first", "sluice.test"), ("/edit", "edited.test")):
            resp = c.roundtrip("GET", path)
            body = f"h={host} p={path} v=tester ci=127.0.0.1 st=503 b=be s=<NOSRV>".encode()
            assert resp.status_line == "HTTP/1.1 503 Service Unavailable"
            assert lower(resp.headers) == [("x-path", path), ("x-fixed", "a%b"),
                                           ("content-length", str(len(body))),
                                           ("content-type", "text/plain")]
            assert resp.body == body


def test_http_error_lf_file_on_a_real_504(sluice, backends, tmp_path):
    """`http-error status 504 content-type text/plain lf-file FILE`: the file's content is a
    log-format string (its final newline kept), used when the server does not answer within
    `timeout server`. The request went to the server already: HAProxy's request fetches then
    render empty, its log-format variables do not (`%s`: the server that timed out)."""
    page = tmp_path / "504.lf"
    page.write_text("timed out: s=%s st=%ST b=%b path=[%[path]]\n")
    web = backends.http("web")
    sluice.start(config(sluice, backend=f"""
            timeout server 300ms
            http-error status 504 content-type text/plain lf-file {page}
        """, servers=[f"web 127.0.0.1:{web.port}"]))
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/hang")
    body = b"timed out: s=web st=504 b=be path=[]\n"
    assert resp.status_line == "HTTP/1.1 504 Gateway Time-out"
    assert lower(resp.headers) == [("content-length", str(len(body))),
                                   ("content-type", "text/plain")]
    assert resp.body == body


def test_deny_uses_the_lf_page_and_head_has_no_body(sluice):
    """`http-request deny deny_status 429` decided in the frontend answers with the frontend's
    `http-error status 429` page, rendered with the request; a HEAD request gets the same head
    (content-length of the rendered body) and no body. A content whose log-format renders
    empty has no content-type, as HAProxy sends it."""
    sluice.start(config(sluice, frontend="""
            http-error status 429 content-type text/plain lf-string "slow down, %[req.hdr(host)]" hdr retry-after "%[str(30)]"
            http-error status 403 content-type text/plain lf-string "%[req.hdr(x-why)]"
            http-request deny deny_status 429 if { path /busy }
            http-request deny if { path /no }
        """))
    with http_connect(sluice.port("fe")) as c:
        body = b"slow down, sluice.test"
        resp = c.roundtrip("GET", "/busy")
        assert resp.status_line == "HTTP/1.1 429 Too Many Requests"
        assert lower(resp.headers) == [("retry-after", "30"), ("content-length", str(len(body))),
                                       ("content-type", "text/plain")]
        assert resp.body == body
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("HEAD", "/busy")
        assert resp.status == 429
        assert resp.header("content-length") == str(len(body))
        assert c.nothing_pending() or c.wait_closed() == b""
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/no")
        assert resp.status_line == "HTTP/1.1 403 Forbidden"
        assert ("content-type", "text/plain") not in lower(resp.headers)
        assert resp.header("content-length") == "0" and resp.body == b""


def test_return_lf_file_lf_string_and_hdr(sluice, tmp_path):
    """`http-request return` with `lf-file` and `lf-string`: rendered per request, `%ST` being
    the reply's status; `hdr` values are log-format too (`%%` is a '%'). HAProxy's reasons for
    statuses the proxy has no page of its own for (`299 Success`, `418 I'm a teapot`)."""
    page = tmp_path / "body.lf"
    page.write_text("Hello %[req.hdr(host)] from %ci, st=%ST f=%f b=%b\n")
    sluice.start(config(sluice, frontend=f"""
            http-request return status 299 content-type text/plain lf-file {page} hdr x-ci "%ci" hdr x-pct "100%%" if {{ path /file }}
            http-request return status 418 content-type text/plain lf-string "tea for %[path]" if {{ path /tea }}
        """))
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/file")
        body = b"Hello sluice.test from 127.0.0.1, st=299 f=fe b=fe\n"
        assert resp.status_line == "HTTP/1.1 299 Success"
        assert lower(resp.headers) == [("x-ci", "127.0.0.1"), ("x-pct", "100%"),
                                       ("content-length", str(len(body))),
                                       ("content-type", "text/plain")]
        assert resp.body == body
        resp = c.roundtrip("GET", "/tea")
        assert resp.status_line == "HTTP/1.1 418 I'm a teapot"
        assert resp.body == b"tea for /tea"


ERRORFILE_503 = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                 b"X-From: section\r\nContent-Length: 5\r\n\r\nbusy\n")
ERRORFILE_404 = (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 9\r\n\r\nnot here\n")


def test_return_errorfile_and_errorfiles(sluice, tmp_path):
    """`return ... errorfiles NAME` sends the section's page for the status as it is (the
    section may come after the proxy); `deny ... errorfiles` too; `return ... errorfile FILE`
    sends the file. A status the section does not declare is a warning at `-c`, and the reply
    is then an empty one with that status."""
    e503 = tmp_path / "503.http"
    e503.write_bytes(ERRORFILE_503)
    e404 = tmp_path / "404.http"
    e404.write_bytes(ERRORFILE_404)
    text = config(sluice, frontend=f"""
            http-request return status 503 errorfiles errs if {{ path /section }}
            http-request deny deny_status 503 errorfiles errs if {{ path /deny }}
            http-request return status 404 errorfile {e404} if {{ path /file }}
            http-request return status 404 errorfiles errs if {{ path /undeclared }}
        """, sections=f"http-errors errs\n    errorfile 503 {e503}\n")
    checked = sluice.check(text)
    assert checked.returncode == 0 and "WARNING" in checked.stderr, checked.stderr
    assert "404" in checked.stderr and "errs" in checked.stderr
    sluice.start(text)
    with http_connect(sluice.port("fe")) as c:
        for path in ("/section", "/deny"):
            resp = c.roundtrip("GET", path)
            assert resp.status_line == "HTTP/1.1 503 Service Unavailable"
            assert lower(resp.headers)[:3] == [("content-type", "text/plain"),
                                               ("x-from", "section"), ("content-length", "5")]
            assert resp.body == b"busy\n"
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/file")
        assert resp.status_line == "HTTP/1.1 404 Not Found"
        assert resp.body == b"not here\n"
        resp = c.roundtrip("GET", "/undeclared")
        assert resp.status_line == "HTTP/1.1 404 Not Found"
        assert lower(resp.headers) == [("content-length", "0")]
        assert resp.body == b""


def test_response_deny_lf_content_reads_no_response(sluice, backends):
    """`http-response deny` with an lf-string content: HAProxy drops the server's response
    before it makes the reply, so response fetches render empty; transaction variables and
    `%s` remain."""
    web = backends.http("web")
    sluice.start(config(sluice, backend="""
            http-request set-var(txn.path) path
            http-response deny deny_status 503 content-type text/plain lf-string "denied [%[res.hdr(x-seq)]] %[var(txn.path)] st=%ST" hdr x-srv "%s" if { var(txn.path) -m str /deny }
        """, servers=[f"web 127.0.0.1:{web.port}"]))
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/deny")
    body = b"denied [] /deny st=503"
    assert resp.status_line == "HTTP/1.1 503 Service Unavailable"
    assert lower(resp.headers)[:3] == [("x-srv", "web"), ("content-length", str(len(body))),
                                       ("content-type", "text/plain")]
    assert resp.body == body


def test_lf_reply_larger_than_a_buffer_becomes_500(sluice):
    """A reply whose rendering does not fit in a buffer (tune.bufsize) is answered with 500, as
    HAProxy does, with the proxy's 500 page (itself log-format here, rendered with the request)
    and the http-after-response rules applied to it."""
    sluice.start(config(sluice, extra_global="tune.bufsize 4096", frontend="""
            http-error status 500 content-type text/plain lf-string "oops %ST %[path]"
            http-request return status 200 content-type text/plain lf-string "%[req.hdr(x-big)]%[req.hdr(x-big)]%[req.hdr(x-big)]%[req.hdr(x-big)]%[req.hdr(x-big)]%[req.hdr(x-big)]%[req.hdr(x-big)]%[req.hdr(x-big)]"
            http-after-response set-header x-after "%[status]"
        """))
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/big", headers=[("X-Big", "b" * 300)])
        assert resp.status == 200 and resp.body == b"b" * 2400
        resp = c.roundtrip("GET", "/big", headers=[("X-Big", "b" * 600)])
        assert resp.status_line == "HTTP/1.1 500 Internal Server Error"
        assert resp.header("x-after") == "500"
        assert resp.body == b"oops 500 /big"


def test_early_request_errors_use_the_built_in_page(sluice):
    """HAProxy answers the errors of reading a request (400 for a head it cannot parse, 408 for
    one that does not come in time) below its streams, with static pages only: a log-format
    `http-error` page for them gives way to the built-in one."""
    sluice.start(config(sluice, defaults="timeout http-request 300ms", frontend="""
            http-error status 400 content-type text/plain lf-string "bad %ci"
            http-error status 408 content-type text/plain lf-string "late %ci"
        """))
    with http_connect(sluice.port("fe")) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
        resp = c.response()
        assert resp.status_line == "HTTP/1.1 400 Bad request"
        assert "text/html" in resp.header("content-type")
    with http_connect(sluice.port("fe")) as c:
        c.send(b"GET / HTTP/1.1\r\n")
        resp = c.response()
        assert resp.status_line == "HTTP/1.1 408 Request Time-out"
        assert "text/html" in resp.header("content-type")


@pytest.mark.parametrize("line, wanted", [
    # A fetch that does not exist, in a page, in a header and in a file.
    ('http-error status 503 content-type text/plain lf-string "%[nope]"', "nope"),
    ('http-error status 503 content-type text/plain string x hdr x-a "%[nope]"', "nope"),
    ("http-error status 503 content-type text/plain lf-file {bad}", "nope"),
    ("http-request return content-type text/plain lf-file {bad}", "nope"),
    # A variable that does not exist.
    ('http-error status 503 content-type text/plain lf-string "%zz"', "zz"),
    # Files that cannot be read.
    ("http-error status 503 content-type text/plain lf-file {missing}", "missing.lf"),
    ("http-request return content-type text/plain lf-file {missing}", "missing.lf"),
    # A log-format content without its content-type.
    ('http-request return lf-string "%[path]"', "content"),
    ('http-error status 503 lf-string "%[path]"', "content"),
    # errorfiles needs a status the proxy has pages for.
    ("http-request return status 418 errorfiles errs", "418"),
])
def test_bad_lf_replies_fail_the_check(sluice, tmp_path, line, wanted):
    """Each bad line is an [ALERT] at `-c` naming the file and line it is on."""
    (tmp_path / "bad.lf").write_text("x %[nope]\n")
    text = config(sluice, frontend=line.format(bad=tmp_path / "bad.lf",
                                               missing=tmp_path / "missing.lf"),
                  sections="http-errors errs\n    errorfile 503 /dev/null\n")
    result = sluice.check(text, name="lf.cfg")
    assert result.returncode != 0
    at = text.splitlines().index("    " + line.format(bad=tmp_path / "bad.lf",
                                                    missing=tmp_path / "missing.lf")) + 1
    assert "ALERT" in result.stderr and f"lf.cfg:{at}]" in result.stderr, result.stderr
    assert wanted in result.stderr, result.stderr


def test_unknown_errorfiles_section_fails_the_check(sluice):
    """`return ... errorfiles NAME` with no such http-errors section is an alert."""
    result = sluice.check(config(sluice, frontend="http-request return status 503 errorfiles nope"))
    assert result.returncode != 0
    assert "ALERT" in result.stderr and "nope" in result.stderr


def test_http_error_is_not_an_http_errors_keyword(sluice):
    """An http-errors section holds `errorfile` lines only: `http-error` there is refused."""
    result = sluice.check(config(sluice, sections=(
        "http-errors errs\n"
        "    http-error status 503 content-type text/plain lf-string \"%[path]\"\n")))
    assert result.returncode != 0
    assert "ALERT" in result.stderr and "http-error" in result.stderr
