"""http-request actions that hold, drop or wait: `tarpit` with `timeout tarpit`, `reject`,
`silent-drop` (also as a `tcp-request` action), and `option http-buffer-request` with the body
fetches (`req.body`, `req.body_len`, `req.body_size`, `req.body_param`).

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`).
"""

import socket
import time

import pytest

from conftest import build_request, http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def start(sluice, backends, frontend, defaults=""):
    """Frontend `fe` with `frontend` lines in front of one HTTP backend `web`."""
    web = backends.http("web")
    text = (f"{sluice.base(mode='http')}{indent(defaults)}"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
            f"    default_backend web\nbackend web\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    return web


# ---------------------------------------------------------------------------------------------
# tarpit


def test_tarpit_holds_the_reply_for_timeout_tarpit(sluice, backends):
    """`http-request tarpit`: HAProxy 2.6 answers 500 only once `timeout tarpit` has passed; the
    server never sees the request, and the keep-alive connection carries on: a request
    pipelined behind it is served after the tarpit."""
    web = start(sluice, backends, "http-request tarpit if { path /trap }",
                defaults="timeout tarpit 600ms")
    with http_connect(sluice.port("fe")) as c:
        began = time.monotonic()
        c.send(build_request("GET", "/trap") + build_request("GET", "/after"))
        resp = c.response()
        waited = time.monotonic() - began
        assert resp.status == 500
        assert waited >= 0.55, f"answered after {waited:.3f}s, before timeout tarpit"
        assert c.response().status == 200
    assert [r.target for r in web.requests] == ["/after"]


def test_tarpit_deny_status_and_default_from_timeout_connect(sluice, backends):
    """`deny_status` picks the status. Without `timeout tarpit`, a tarpit in a section with a
    backend side (here `listen`) lasts `timeout connect`, HAProxy's documented fallback; in a
    plain frontend, which has no connect timeout in HAProxy 2.6, it answers at once."""
    web = backends.http("web")
    text = sluice.base(mode="http").replace("timeout connect 5s", "timeout connect 600ms")
    assert "timeout connect 600ms" in text
    text += (f"listen li\n    bind 127.0.0.1:{sluice.port('li')}\n"
             "    http-request tarpit deny_status 429 if { path /slow }\n"
             f"    server web 127.0.0.1:{web.port}\n"
             f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
             "    http-request tarpit deny_status 429 if { path /slow }\n"
             f"    default_backend web\nbackend web\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    with http_connect(sluice.port("li")) as c:
        began = time.monotonic()
        assert c.roundtrip("GET", "/slow").status == 429
        assert time.monotonic() - began >= 0.55
    with http_connect(sluice.port("fe")) as c:
        began = time.monotonic()
        assert c.roundtrip("GET", "/slow").status == 429
        assert time.monotonic() - began < 0.5


# ---------------------------------------------------------------------------------------------
# reject and silent-drop


def test_http_request_reject_closes_without_a_response(sluice, backends):
    """`http-request reject`: the connection closes with no response at all."""
    web = start(sluice, backends, "http-request reject if { path_beg /bad }")
    with http_connect(sluice.port("fe")) as c:
        c.send(build_request("GET", "/bad/x"))
        assert c.wait_closed() == b""
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/good").status == 200
    assert [r.target for r in web.requests] == ["/good"]


def _connection_stays_silent(port, request, within):
    """Sends `request` (if any) and checks that nothing at all (no byte, no FIN, no reset) comes
    back within `within` seconds. Returns True when the peer stayed silent."""
    s = socket.create_connection(("127.0.0.1", port), timeout=within)
    try:
        if request:
            s.sendall(request)
        try:
            s.recv(1)  # a byte, or b"" for a FIN: not silent
            return False
        except socket.timeout:
            return True
        except ConnectionResetError:
            return False
    finally:
        s.close()


def test_http_request_silent_drop_tells_the_client_nothing(sluice, backends):
    """`http-request silent-drop`: the proxy forgets the connection without a FIN; the client
    hears nothing (as root, TCP_REPAIR keeps even the reset from being sent, which is what
    HAProxy does too). Other requests are served."""
    web = start(sluice, backends, "http-request silent-drop if { path /drop }")
    assert _connection_stays_silent(sluice.port("fe"), build_request("GET", "/drop"), 1.0)
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/ok").status == 200
    assert [r.target for r in web.requests] == ["/ok"]


@pytest.mark.parametrize("mode", ["http", "tcp"])
def test_tcp_request_connection_silent_drop(sluice, backends, mode):
    """`tcp-request connection silent-drop`: as above, before any stream exists. The client
    sends nothing here: bytes reaching a socket that is already forgotten would draw a reset
    from the kernel, for HAProxy as for us, depending on who is faster."""
    web = backends.http("web")
    text = (f"{sluice.base(mode=mode)}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    tcp-request connection silent-drop if { src 127.0.0.0/8 }\n"
            f"    default_backend web\nbackend web\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    assert _connection_stays_silent(sluice.port("fe"), None, 1.0)
    assert web.connections == 0


# ---------------------------------------------------------------------------------------------
# option http-buffer-request and the body fetches


ECHO_BODY = ('http-request return status 200 content-type text/plain lf-string '
             '"len=%[req.body_len] size=%[req.body_size] b=%[req.body_param(b)] '
             'first=%[req.body_param] body=%[req.body]" if { path /echo }')


def test_buffered_body_fetches_content_length_and_chunked(sluice, backends):
    """With `option http-buffer-request`, rules see the whole body: req.body (chunked framing
    removed), req.body_len, req.body_size (Content-Length, or what is buffered when chunked),
    req.body_param with and without a name."""
    start(sluice, backends, f"option http-buffer-request\n{ECHO_BODY}")
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("POST", "/echo", body=b"a=1&b=2",
                           headers=[("Content-Type", "application/x-www-form-urlencoded")])
        assert resp.body == b"len=7 size=7 b=2 first=1 body=a=1&b=2"
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4\r\nx&bb\r\n6\r\n=3&b=4\r\n0\r\n\r\n")
        assert c.response().body == b"len=10 size=10 b=4 first=3 body=x&bb=3&b=4"
        assert c.roundtrip("GET", "/echo").body == b"len=0 size=0 b= first= body="


def test_body_fetches_stop_at_the_body(sluice, backends):
    """A request pipelined behind a body (or behind a request without one) is not part of it:
    req.body and req.body_len see the body's own bytes only, as in HAProxy."""
    start(sluice, backends, ECHO_BODY)
    with http_connect(sluice.port("fe")) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nb=1"
               b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.response().body == b"len=3 size=3 b=1 first=1 body=b=1"
        assert c.response().body == b"len=0 size=0 b= first= body="
        assert c.response().body == b"len=0 size=0 b= first= body="


def test_buffered_body_arriving_in_pieces_routes_on_its_content(sluice, backends):
    """A body sent after the head, in two writes, is waited for before the rules run: a rule on
    its content decides, and the server gets the whole request once."""
    web = start(sluice, backends, """
        option http-buffer-request
        http-request deny deny_status 400 if { req.body -m sub forbidden }
    """)
    with http_connect(sluice.port("fe")) as c:
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 19\r\n\r\n")
        c.send(b"this is ")
        assert c.nothing_pending()
        c.send(b"forbidden!!")
        assert c.response().status == 400
    with http_connect(sluice.port("fe")) as c:
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello")
        assert c.nothing_pending()
        c.send(b" world")
        assert c.response().status == 200
    assert [(r.target, r.body) for r in web.requests] == [("/up", b"hello world")]


def test_buffered_body_answers_expect_100_continue(sluice, backends):
    """A client that waits for `100 Continue` before sending the body is answered by the proxy
    (the body is needed for the rules), and the server is not asked to answer it again."""
    web = start(sluice, backends, "option http-buffer-request")
    with http_connect(sluice.port("fe")) as c:
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               b"Expect: 100-continue\r\n\r\n")
        assert c._until(b"\r\n\r\n", 4096, "100 Continue") == b"HTTP/1.1 100 Continue\r\n\r\n"
        c.send(b"hello")
        assert c.response().status == 200
    assert web.requests[0].body == b"hello"
    assert web.requests[0].header("expect") is None


def test_buffered_body_slow_client_gets_408(sluice, backends):
    """The wait for the body is bounded by `timeout http-request`: 408, as HAProxy."""
    web = start(sluice, backends, "option http-buffer-request\ntimeout http-request 500ms")
    with http_connect(sluice.port("fe")) as c:
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
        assert c.response().status == 408
    assert web.requests == []


def test_buffer_request_in_the_backend(sluice, backends):
    """`option http-buffer-request` in the backend the rules chose: its rules see the body."""
    web = backends.http("web")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    use_backend buf if { path_beg /buf }\n    default_backend web\n"
            "backend buf\n    option http-buffer-request\n"
            "    http-request return status 200 content-type text/plain "
            "lf-string \"got=%[req.body]\"\n"
            f"    server web 127.0.0.1:{web.port}\n"
            f"backend web\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    with http_connect(sluice.port("fe")) as c:
        c.send(b"POST /buf HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
        assert c.nothing_pending()
        c.send(b"def")
        assert c.response().body == b"got=abcdef"


# ---------------------------------------------------------------------------------------------
# set-src, set-dst and their ports


def test_set_src_and_dst_for_rules_and_forwardfor(sluice, backends):
    """`set-src hdr(x-real-ip)` (IPv4 or IPv6, the port kept), `set-src-port`, `set-dst`,
    `set-dst-port`: later rules see the new addresses, `option forwardfor` sends the new
    source, and a value that is not an address changes nothing."""
    web = start(sluice, backends, """
        option forwardfor
        http-request set-src hdr(x-real-ip) if { hdr(x-real-ip) -m found }
        http-request set-src-port int(4321) if { hdr(x-port) -m found }
        http-request set-dst str(10.9.8.7) if { path /dst }
        http-request set-dst-port int(8080) if { path /dst }
        http-request return status 200 content-type text/plain lf-string "src=%[src]:%[src_port] dst=%[dst]:%[dst_port] net=%[src,ipmask(8)]" unless { path /fwd }
    """)
    fe = sluice.port("fe")

    def body(path, headers=()):
        with http_connect(fe) as c:
            local_port = c.sock.getsockname()[1]
            return c.roundtrip("GET", path, headers=list(headers)).body.decode(), local_port

    text, port = body("/", [("X-Real-IP", "203.0.113.9")])
    assert text == f"src=203.0.113.9:{port} dst=127.0.0.1:{fe} net=203.0.0.0"
    text, _ = body("/", [("X-Real-IP", "2001:db8::5"), ("X-Port", "1")])
    assert text == f"src=2001:db8::5:4321 dst=127.0.0.1:{fe} net="
    text, port = body("/dst")
    assert text == f"src=127.0.0.1:{port} dst=10.9.8.7:8080 net=127.0.0.0"
    text, port = body("/", [("X-Real-IP", "not-an-address")])
    assert text == f"src=127.0.0.1:{port} dst=127.0.0.1:{fe} net=127.0.0.0"
    with http_connect(fe) as c:
        assert c.roundtrip("GET", "/fwd", headers=[("X-Real-IP", "198.51.100.7")]).status == 200
    assert web.requests[-1].header("x-forwarded-for") == "198.51.100.7"


# ---------------------------------------------------------------------------------------------
# strict-mode and set-timeout


def test_strict_mode_off_ignores_a_failed_rewrite(sluice, backends):
    """A rewrite that cannot be done (a replacement ending in a lone backslash) answers 500
    under the default strict-mode; after `strict-mode off` it is skipped and the rules go on."""
    start(sluice, backends, r"""
        http-request strict-mode off if { path_beg /off }
        http-request replace-path (.*) "\1\\"
        http-request set-header x-after yes
        http-request return status 200 content-type text/plain lf-string "path=%[path] after=%[req.hdr(x-after)]"
    """)
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/on").status == 500
        assert c.roundtrip("GET", "/off").body == b"path=/off after=yes"


def test_set_timeout_server_for_one_transaction(sluice, backends):
    """`set-timeout server 300ms` (in a backend: HAProxy refuses it where there is no backend
    side) on some requests: those get HAProxy's 504 after 300 ms from a slow server; the others
    wait for it (timeout server 30s)."""
    web = backends.http("web")
    sluice.start(f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
                 "    default_backend web\nbackend web\n"
                 "    http-request set-timeout server 300ms if { path_beg /delay/2000 }\n"
                 "    http-request set-timeout server int(400) if { path_beg /delay/1999 }\n"
                 f"    server web 127.0.0.1:{web.port}\n")
    with http_connect(sluice.port("fe")) as c:
        began = time.monotonic()
        assert c.roundtrip("GET", "/delay/2000").status == 504
        assert 0.25 <= time.monotonic() - began < 1.5
    with http_connect(sluice.port("fe")) as c:
        began = time.monotonic()
        assert c.roundtrip("GET", "/delay/1999").status == 504
        assert 0.35 <= time.monotonic() - began < 1.5
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/delay/500").status == 200
    assert len(web.requests) == 3


# ---------------------------------------------------------------------------------------------
# use-server


@pytest.mark.parametrize("mode", ["http", "tcp"])
def test_use_server_picks_the_named_server(sluice, backends, mode):
    """`use-server NAME if COND` in a backend: matching connections go to that server, others
    are balanced as usual; a `disabled` server named by a rule is skipped (the balancer picks)."""
    one, two, three = backends.http("one"), backends.http("two"), backends.http("three")
    rule = ("use-server s2 if { path_beg /two }" if mode == "http"
            else "use-server s2 if { dst_port " + str(sluice.port("fe2")) + " }")
    text = (f"{sluice.base(mode=mode)}"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    bind 127.0.0.1:{sluice.port('fe2')}\n    default_backend be\n"
            f"backend be\n    {rule}\n    use-server s3 if {{ always_true }}\n"
            f"    server s1 127.0.0.1:{one.port}\n    server s2 127.0.0.1:{two.port}\n"
            f"    server s3 127.0.0.1:{three.port} disabled\n")
    sluice.start(text)
    target = "/two/x" if mode == "http" else "/x"
    port = sluice.port("fe") if mode == "http" else sluice.port("fe2")
    for _ in range(3):
        with http_connect(port) as c:
            assert c.roundtrip("GET", target).status == 200
    assert len(two.requests) == 3
    for _ in range(4):
        with http_connect(sluice.port("fe")) as c:
            assert c.roundtrip("GET", "/other").status == 200
    # s3 is disabled: the balancer spreads the rest over s1 and s2.
    assert len(one.requests) == 2 and len(two.requests) == 5 and not three.requests


def test_use_server_unknown_server_fails_check(sluice, binary_is_haproxy):
    """A rule naming a server the backend lacks, or without a condition: `-c` refuses it."""
    for rule, word in (("use-server nope if TRUE", "nope"), ("use-server s1", "'if' or 'unless'")):
        text = (f"{sluice.base(mode='http')}backend be\n    {rule}\n"
                "    server s1 127.0.0.1:1\n")
        result = sluice.check(text)
        assert result.returncode != 0
        if not binary_is_haproxy or word != "nope":
            assert word in result.stderr, result.stderr
