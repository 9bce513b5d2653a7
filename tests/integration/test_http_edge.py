"""mode http at its edges: replies and rewritten heads that do not fit in a buffer
(`tune.bufsize`), a client leaving while its request waits in a server queue, and a response
the rules replace.

What these tests pin is HAProxy 2.6's behaviour (checked with Debian's haproxy 2.6.12); every
test passes against it (`--sluice=/usr/sbin/haproxy`), and says where Sluice departs on purpose.
"""

import socket

import pytest

from conftest import build_request, http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def start(sluice, backends, frontend="", backend="", server_opts="", defaults=""):
    web = backends.http("web")
    sluice.start(f"{sluice.base(mode='http')}{indent(defaults)}"
                 f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
                 f"    default_backend be\nbackend be\n{indent(backend)}"
                 f"    server web 127.0.0.1:{web.port} {server_opts}\n")
    return web


# ---------------------------------------------------------------------------------------------
# Replies larger than a buffer


def test_a_reply_larger_than_a_buffer_is_a_500(sluice, backends):
    """A `return` whose reply does not fit in one buffer (tune.bufsize, 16384 here) cannot be
    sent: the client gets 500 instead, and the connection carries on. One that fits goes out
    whole."""
    big = sluice.tmp_path / "big.txt"
    big.write_bytes(b"b" * 15000)
    three = "%[req.hdr(x-a)]" * 3
    start(sluice, backends, f"""
        http-request return status 200 content-type text/plain lf-string "{three}" if {{ path /lf }}
        http-request return status 200 content-type text/plain file {big} if {{ path /file }}
    """)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/file")
        assert (resp.status, resp.body) == (200, b"b" * 15000)
        resp = c.roundtrip("GET", "/lf", headers=[("X-A", "a" * 5000)])
        assert (resp.status, len(resp.body)) == (200, 15000)
        resp = c.roundtrip("GET", "/lf", headers=[("X-A", "a" * 6000)])
        assert resp.status == 500
        assert resp.header("connection") is None
        assert c.roundtrip("GET", "/lf", headers=[("X-A", "a")]).body == b"aaa"


@pytest.mark.parametrize("kind", ["file", "string"])
def test_a_reply_content_larger_than_a_buffer_fails_check(sluice, binary_is_haproxy, kind):
    """A `file` larger than tune.bufsize is refused at `-c`, as HAProxy 2.6 does, naming the
    line. So is such a `string` in Sluice, which HAProxy 2.6 accepts and then sends with an
    empty body (doc/differences.md)."""
    big = sluice.tmp_path / "big.txt"
    big.write_bytes(b"b" * 17000)
    content = f"file {big}" if kind == "file" else f'string "{"s" * 17000}"'
    line = f"http-request return status 200 content-type text/plain {content}"
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    {line}\n    default_backend web\nbackend web\n")
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text)
    if kind == "string" and binary_is_haproxy:
        assert result.returncode == 0
        return
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert f":{line_no}]" in out and "exceeds the buffer size (17000 > 16384)" in out


# ---------------------------------------------------------------------------------------------
# Rewrites that outgrow the buffer


def test_a_request_rewrite_outgrowing_the_buffer_is_a_500(sluice, backends):
    """A header set by a rule makes the request head larger than a buffer: HAProxy's failed
    rewrite, answered with 500 (not a 400: the client's request was fine), and the connection
    carries on. The server hears nothing of it."""
    web = start(sluice, backends, 'http-request set-header X-B "%[req.hdr(x-a)]"')
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/echo", headers=[("X-A", "a" * 9000)])
        assert resp.status == 500
        assert resp.header("connection") is None
        resp = c.roundtrip("GET", "/echo", headers=[("X-A", "small")])
        assert resp.status == 200
    assert [r.target for r in web.requests] == ["/echo"]
    assert web.requests[0].header("x-b") == "small"


def test_a_response_rewrite_outgrowing_the_buffer_is_a_500(sluice, backends):
    """The same on the response side: 500 instead of the server's response (not a 502: the
    server's response was fine), and the client connection carries on."""
    start(sluice, backends, """
        http-request set-var(txn.a) req.hdr(x-a)
        http-response set-header X-B "%[var(txn.a)]%[var(txn.a)]%[var(txn.a)]"
    """)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/echo", headers=[("X-A", "a" * 6000)])
        assert resp.status == 500
        assert resp.header("connection") is None
        resp = c.roundtrip("GET", "/echo", headers=[("X-A", "small")])
        assert resp.status == 200 and resp.header("x-b") == "smallsmallsmall"


# ---------------------------------------------------------------------------------------------
# Queued requests


QUEUE_DEFAULTS = "timeout queue 20s"


def hold_the_only_slot(sluice, web, target="/hang"):
    """Take the one slot of `web` (maxconn 1) with a request to `target` (by default one the
    server never answers)."""
    holder = http_connect(sluice.port("fe"))
    holder.request("GET", target)
    web.wait_requests(1)
    return holder


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_queued_client_leaving_mid_body_is_dropped_at_once(sluice, backends, framing):
    """A request waiting in the queue whose client sends its FIN before the body is whole can
    never be served: it leaves the queue at once (not at `timeout queue`), without a response,
    and no server hears of it."""
    web = start(sluice, backends, server_opts="maxconn 1", defaults=QUEUE_DEFAULTS)
    with hold_the_only_slot(sluice, web):
        with http_connect(sluice.port("fe")) as c:
            if framing == "length":
                c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcd")
            else:
                c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"4\r\nabcd\r\n")
            assert c.nothing_pending()
            c.sock.shutdown(socket.SHUT_WR)
            # Well before `timeout queue`, while the slot stays taken.
            assert c.wait_closed(timeout=5) == b""
    assert [r.target for r in web.requests] == ["/hang"]


def test_a_queued_client_that_sent_everything_may_half_close(sluice, backends):
    """A whole request stays queued after the client's FIN, and is served once a slot frees."""
    web = start(sluice, backends, server_opts="maxconn 1", defaults=QUEUE_DEFAULTS)
    with hold_the_only_slot(sluice, web, "/delay/800"), http_connect(sluice.port("fe")) as c:
        c.send(build_request("POST", "/echo", body=b"abcd"))
        assert c.nothing_pending()
        c.sock.shutdown(socket.SHUT_WR)
        resp = c.response()
        assert resp.status == 200 and resp.json()["target"] == "/echo"
    assert web.requests[-1].body == b"abcd"


# ---------------------------------------------------------------------------------------------
# Responses the rules replace


def test_a_denied_response_ending_at_the_close_keeps_the_client(sluice, backends):
    """`http-response deny` on a response whose body ends at the close: the client gets the 502
    instead, and its connection carries on, the server's closing not being its own."""
    start(sluice, backends, backend="http-response deny if { status 200 }")
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/close/10")
        assert resp.status == 502
        assert resp.header("connection") is None
        assert c.roundtrip("GET", "/status/404").status == 404
