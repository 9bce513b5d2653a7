"""http-request actions about what comes before the request goes on: `early-hint` (103 Early
Hints interim responses), `wait-for-body` (rules that read the body, once it is in) and
`set-nice` (accepted, with a warning that it does nothing in Sluice).

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`). Header names are compared without case: HAProxy lower-cases the
names it sends, Sluice keeps them as the config writes them (doc/differences.md).
"""

import socket
import time

import pytest

from conftest import HttpResponse, build_request, http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def start(sluice, backends, frontend, defaults="", extra=""):
    """Frontend `fe` with `frontend` lines in front of one HTTP backend `web`; `extra` is appended
    to the config (more backends)."""
    web = backends.http("web")
    text = (f"{sluice.base(mode='http')}{indent(defaults)}"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
            f"    default_backend web\nbackend web\n    server web 127.0.0.1:{web.port}\n{extra}")
    sluice.start(text)
    return web


def read_head(c):
    """The next response head on `c` (interim or final), body not read."""
    return HttpResponse(c._until(b"\r\n\r\n", 1 << 16, "EOF before a response head"))


def fields(resp):
    """A response's header fields, names lower-cased."""
    return [(n.lower(), v) for n, v in resp.headers]


EARLY_HINT = "HTTP/1.1 103 Early Hints"


# ---------------------------------------------------------------------------------------------
# early-hint


def test_early_hints_reach_the_client_before_the_server_answers(sluice, backends):
    """Consecutive early-hint rules make one 103 (another action in between starts a new one),
    with HAProxy's status line; both go out while the server has not answered yet (`/hang`
    never does), and the final response follows them as usual."""
    web = start(sluice, backends, """
        http-request early-hint Link "</style.css>; rel=preload; as=style"
        http-request early-hint Link "</app.js>; rel=preload; as=script"
        http-request set-header X-Seen yes
        http-request early-hint X-Path "%[path]"
    """)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/hang")
        first, second = read_head(c), read_head(c)
        assert first.raw_head.startswith(b"HTTP/1.1 103 Early Hints\r\n")
        assert first.status_line == second.status_line == EARLY_HINT
        assert fields(first) == [("link", "</style.css>; rel=preload; as=style"),
                                 ("link", "</app.js>; rel=preload; as=script")]
        assert fields(second) == [("x-path", "/hang")]
        web.wait_requests(1)
        assert c.nothing_pending()
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/echo")
        assert resp.status == 200
        assert [r.status for r in resp.interim] == [103, 103]
        assert c.roundtrip("GET", "/again").interim[1].header("x-path") == "/again"
    assert web.requests[-1].header("x-seen") == "yes"


def test_an_early_hint_with_a_condition_starts_its_own_103(sluice, backends):
    """An early-hint rule with a condition never joins the 103 of the rule before it: HAProxy
    2.6 ends a 103 before any rule that is not an unconditional early-hint, even one whose
    condition then fails."""
    start(sluice, backends, """
        http-request early-hint A 1 if { path /a } || { path /ab }
        http-request early-hint B 2 if { path /b } || { path /ab }
        http-request early-hint C 3 if { path /ab }
        http-request early-hint D 4
        http-request set-nice 10
        http-request early-hint E 5
    """)
    with http_connect(sluice.port("fe")) as c:
        seen = {}
        for path in ("/a", "/b", "/ab", "/none"):
            resp = c.roundtrip("GET", path)
            assert resp.status == 200
            seen[path] = [fields(r) for r in resp.interim]
    assert seen == {
        "/a": [[("a", "1")], [("d", "4")], [("e", "5")]],
        "/b": [[("b", "2")], [("d", "4")], [("e", "5")]],
        "/ab": [[("a", "1")], [("b", "2")], [("c", "3"), ("d", "4")], [("e", "5")]],
        "/none": [[("d", "4")], [("e", "5")]],
    }


def test_no_early_hints_for_http10_clients(sluice, backends):
    """An HTTP/1.0 client may not expect interim responses: it gets none."""
    start(sluice, backends, 'http-request early-hint Link "</a.css>"')
    with http_connect(sluice.port("fe")) as c:
        c.send(build_request("GET", "/echo", version="HTTP/1.0"))
        assert c.wait_closed().startswith(b"HTTP/1.1 200 ")


def test_early_hints_precede_the_replies_of_rules(sluice, backends):
    """The 103 goes out whatever the rules decide next: before a deny, a return or a redirect,
    at once when a tarpit holds the reply back, and even before a reject closes the
    connection."""
    web = start(sluice, backends, """
        http-request early-hint Link "</a.css>"
        http-request deny if { path /deny }
        http-request return status 200 if { path /return }
        http-request redirect location /elsewhere if { path /redirect }
        http-request tarpit if { path /tarpit }
        http-request reject if { path /reject }
    """, defaults="timeout tarpit 600ms")
    with http_connect(sluice.port("fe")) as c:
        for path, status in (("/deny", 403), ("/return", 200), ("/redirect", 302)):
            resp = c.roundtrip("GET", path)
            assert (resp.status, [r.status for r in resp.interim]) == (status, [103]), path
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/tarpit")
        began = time.monotonic()
        assert read_head(c).status == 103
        assert time.monotonic() - began < 0.5, "the 103 waited for the tarpit"
        assert c.response().status == 500
        assert time.monotonic() - began >= 0.55
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/reject")
        got = c.wait_closed()
        assert got.startswith(b"HTTP/1.1 103 Early Hints\r\n") and got.endswith(b"\r\n\r\n")
        assert got.count(b"HTTP/1.1") == 1
    assert web.requests == []


def test_frontend_and_backend_each_send_their_own_103(sluice, backends):
    """The frontend's rules and the backend's are separate rule sets: one 103 each."""
    web = backends.http("web")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            '    http-request early-hint Link "</fe.css>"\n'
            "    use_backend hinted if { path_beg /hinted }\n    default_backend web\n"
            f"backend web\n    server web 127.0.0.1:{web.port}\n"
            'backend hinted\n    http-request early-hint Link "</be.css>"\n'
            '    http-request early-hint Link "</be.js>"\n'
            f"    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    with http_connect(sluice.port("fe")) as c:
        assert [fields(r) for r in c.roundtrip("GET", "/hinted").interim] == [
            [("link", "</fe.css>")], [("link", "</be.css>"), ("link", "</be.js>")]]
        assert [fields(r) for r in c.roundtrip("GET", "/plain").interim] == [
            [("link", "</fe.css>")]]


# ---------------------------------------------------------------------------------------------
# wait-for-body

ECHO = ('http-request return status 200 content-type text/plain lf-string '
        '"len=%[req.body_len] body=%[req.body]" if { path /echo }')


def post_head(target, length=None, extra=""):
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return f"POST {target} HTTP/1.1\r\nHost: x\r\n{framing}\r\n{extra}\r\n".encode()


def test_wait_for_body_lets_rules_read_a_late_body(sluice, backends):
    """The rules after wait-for-body see the body sent after the head, in pieces; a request
    that goes to the server reaches it whole, once."""
    web = start(sluice, backends, f"http-request wait-for-body time 10s if METH_POST\n{ECHO}")
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/echo", 11) + b"hello")
        assert c.nothing_pending()
        c.send(b" world")
        assert c.response().body == b"len=11 body=hello world"
        c.send(post_head("/echo") + b"3\r\nabc\r\n")
        assert c.nothing_pending()
        c.send(b"2\r\nde\r\n0\r\n\r\n")
        assert c.response().body == b"len=5 body=abcde"
        c.send(post_head("/up", 6) + b"abc")
        assert c.nothing_pending()
        c.send(b"def")
        assert c.response().status == 200
        assert c.roundtrip("GET", "/echo").body == b"len=0 body="
    assert [(r.target, r.body) for r in web.requests] == [("/up", b"abcdef")]


def test_wait_for_body_stops_at_at_least(sluice, backends):
    """`at-least N` ends the wait once N payload bytes are in (chunk framing not counted): the
    rules go on with what is there. The reply closes the connection, the rest of the body
    being still on its way."""
    start(sluice, backends, f"http-request wait-for-body time 10s at-least 4\n{ECHO}")
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/echo", 10) + b"01")
        assert c.nothing_pending()
        c.send(b"234")
        resp = c.response()
        assert resp.body == b"len=5 body=01234"
        assert resp.header("connection") == "close"
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/echo") + b"2\r\nab\r\n")
        assert c.nothing_pending()
        c.send(b"3\r\ncde\r\n")
        assert c.response().body == b"len=5 body=abcde"


def test_wait_for_body_stops_when_the_buffer_is_full(sluice, backends):
    """A body larger than the buffer: the rules go on with what fits in it."""
    # The reply shows only the length: a reply larger than a buffer would be a 500.
    start(sluice, backends, "http-request wait-for-body time 10s\n" + ECHO.replace(
        " body=%[req.body]", ""))
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/echo", 100000) + b"x" * 40000)
        length = int(c.response().body.split(b"=")[1])
        # tune.bufsize is 16384 in both; HAProxy keeps some of it in reserve (15201 in 2.6.12).
        assert 12000 < length < 16384


def test_wait_for_body_ends_with_408_at_its_time(sluice, backends):
    """At `time`, counted from the start of the wait, the client gets 408 and the connection
    closes (HAProxy 2.6 does not go on with a partial body). `timeout http-request`, shorter
    here, does not cut the wait short."""
    web = start(sluice, backends, "http-request wait-for-body time 700ms",
                defaults="timeout http-request 200ms")
    with http_connect(sluice.port("fe")) as c:
        began = time.monotonic()
        c.send(post_head("/up", 10) + b"part")
        resp = c.response()
        waited = time.monotonic() - began
        assert resp.status == 408
        assert waited >= 0.65, f"408 after {waited:.3f}s"
        assert c.wait_closed() == b""
    assert web.requests == []


def test_wait_for_body_time_counts_from_the_start_of_the_wait(sluice, backends):
    """The wait's clock starts when the rule first waits, not when the request began."""
    start(sluice, backends, "http-request wait-for-body time 500ms")
    with http_connect(sluice.port("fe")) as c:
        head = post_head("/up", 10)
        c.send(head[:20])
        # The rest of the head arrives late on purpose: the wait starts only then.
        time.sleep(0.4)
        c.send(head[20:] + b"part")
        began = time.monotonic()
        assert c.response().status == 408
        assert time.monotonic() - began >= 0.45


def test_wait_for_body_time_0_waits_as_long_as_the_client_sends(sluice, backends):
    """`time 0` sets no limit of its own: `timeout client` (the client's silence) ends the
    wait, with 408."""
    start(sluice, backends, "http-request wait-for-body time 0",
          defaults="timeout client 600ms")
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/up", 10) + b"part")
        began = time.monotonic()
        assert c.response().status == 408
        assert time.monotonic() - began >= 0.55


def test_wait_for_body_answers_expect_100_continue(sluice, backends):
    """A client waiting for `100 Continue` gets it from the proxy, which needs the body; the
    server is not asked for it again."""
    web = start(sluice, backends, "http-request wait-for-body time 10s")
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/up", 5, "Expect: 100-continue\r\n"))
        assert read_head(c).status_line == "HTTP/1.1 100 Continue"
        c.send(b"hello")
        assert c.response().status == 200
    assert web.requests[0].body == b"hello"
    assert web.requests[0].header("expect") is None


def test_wait_for_body_without_a_body_does_not_wait(sluice, backends):
    start(sluice, backends, f"http-request wait-for-body time 10s\n{ECHO}")
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/echo").body == b"len=0 body="
        assert c.roundtrip("POST", "/echo", headers=[("Content-Length", "0")]).body == \
            b"len=0 body="


def test_rules_before_wait_for_body_take_effect_once(sluice, backends):
    """The rules before the wait act once, as when HAProxy resumes them: one 103, a session
    counter counted once, a rule whose condition read the partial body stays as decided then,
    and a header set before the wait is still there after it. An early hint after the wait
    goes out once the body is in."""
    shown = ("n=%[var(sess.n)] early=%[var(txn.early)] len=%[req.body_len] "
             "before=%[req.hdr(x-before)]")
    start(sluice, backends, """
        http-request set-var(sess.n) int(1) unless { var(sess.n) -m found }
        http-request set-var(sess.n) var(sess.n),add(1)
        http-request early-hint X-Hint once
        http-request set-var(txn.early) str(yes) if { req.body_len ge 3 }
        http-request set-header X-Before %[var(sess.n)]
        http-request wait-for-body time 10s
        http-request early-hint X-After body
    """ + f'http-request return status 200 content-type text/plain lf-string "{shown}"')
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/up", 6) + b"ab")
        # The 103 says the rules ran on "ab" and stopped: what follows makes them run again.
        assert read_head(c).status == 103
        for piece in (b"cd", b"e", b"f"):
            c.send(piece)
        resp = c.response()
        assert [fields(r) for r in resp.interim] == [[("x-after", "body")]]
        assert resp.body == b"n=2 early= len=6 before=2"


def test_backend_chosen_before_the_wait_stays_chosen(sluice, backends):
    """A wait-for-body in the backend's rules: the backend was chosen on the partial body and
    stays the one, even though `use_backend` would choose another on the whole body."""
    web = backends.http("web")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    use_backend big if { req.body_len ge 3 }\n    default_backend small\n"
            "backend small\n    http-request wait-for-body time 10s\n"
            "    http-request return status 200 content-type text/plain "
            "lf-string \"small len=%[req.body_len]\"\n"
            f"    server web 127.0.0.1:{web.port}\n"
            "backend big\n    http-request return status 200 content-type text/plain "
            "lf-string \"big\"\n"
            f"    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    with http_connect(sluice.port("fe")) as c:
        # The 100 Continue says the rules ran on "ab" and wait: the backend is chosen.
        c.send(post_head("/up", 6, "Expect: 100-continue\r\n") + b"ab")
        assert read_head(c).status == 100
        c.send(b"cdef")
        assert c.response().body == b"small len=6"
        c.send(post_head("/up", 6) + b"abcdef")
        assert c.response().body == b"big"


@pytest.mark.parametrize("waiting", ["http-request wait-for-body time 10s",
                                     "option http-buffer-request"])
def test_client_ending_during_the_wait_is_dropped(sluice, backends, waiting):
    """A client that stops sending before the body it owes is in: the request is dropped
    without a response, and no server hears of it."""
    web = start(sluice, backends, waiting)
    with http_connect(sluice.port("fe")) as c:
        c.send(post_head("/up", 10) + b"part")
        assert c.nothing_pending()
        c.sock.shutdown(socket.SHUT_WR)
        assert c.wait_closed() == b""
    assert web.connections == 0


# ---------------------------------------------------------------------------------------------
# set-nice


def test_set_nice_is_accepted_and_changes_nothing(sluice, backends, binary_is_haproxy):
    """set-nice passes `-c` with any one-word value (HAProxy 2.6 clamps it to -1024..1024 and
    reads a word that is no number as 0). Sluice, which has no scheduler for it to act on, warns
    at each line; traffic goes as without it."""
    web = backends.http("web")
    lines = ["tcp-request content set-nice 100", "http-request set-nice -5 if METH_GET",
             "http-request set-nice 5000", "http-response set-nice abc"]
    config = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
              f"{indent(chr(10).join(lines))}    default_backend web\nbackend web\n"
              f"    server web 127.0.0.1:{web.port}\n")
    result = sluice.check(config, name="nice.cfg")
    assert result.returncode == 0, result.stderr
    warnings = [w for w in (result.stdout + result.stderr).splitlines() if "set-nice" in w]
    if binary_is_haproxy:
        assert warnings == []
    else:
        first = config[:config.index(lines[0])].count("\n") + 1
        assert len(warnings) == len(lines)
        for i, w in enumerate(warnings):
            assert w.startswith("[WARNING]") and f"[nice.cfg:{first + i}]" in w, w
            assert "has no effect in Sluice" in w and "scheduler" in w, w
    sluice.start(config)
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/echo").status == 200
        assert c.roundtrip("POST", "/echo", body=b"x").status == 200
    assert len(web.requests) == 2


# ---------------------------------------------------------------------------------------------
# Config errors

@pytest.mark.parametrize("line", [
    "http-request early-hint Link",
    "http-response early-hint Link x",
    "http-request wait-for-body",
    "http-request wait-for-body time abc",
    "http-request wait-for-body time 1s foo",
    "http-request wait-for-body time 1s at-least",
    "http-request set-nice",
    "http-after-response set-nice 1",
])
def test_bad_hint_rules_fail_check(sluice, line):
    """What HAProxy 2.6 refuses, Sluice refuses, naming file:line."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    {line}\n    default_backend web\nbackend web\n")
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text)
    assert result.returncode != 0
    assert f":{line_no}]" in result.stdout + result.stderr


@pytest.mark.parametrize("line", ["http-request early-hint Li@nk x"])
def test_hint_rules_sluice_refuses_on_purpose(sluice, binary_is_haproxy, line):
    """HAProxy 2.6 accepts these; Sluice refuses them at `-c` (doc/differences.md): a name that
    is not a token would break the 103."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    {line}\n    default_backend web\nbackend web\n")
    result = sluice.check(text)
    assert (result.returncode == 0) == binary_is_haproxy, result.stderr
