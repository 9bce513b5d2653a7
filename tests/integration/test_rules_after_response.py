"""http-after-response on the replies the proxy makes itself: a `deny`, a `return`, a
`redirect`, a 503 when no server is usable. HAProxy 2.6 runs the backend's rules then the
frontend's on them as on a server's response, the frontend's alone when the frontend's request
rules replied, and none on the errors of reading a request (a 400). Every test here passes
against Debian's haproxy (`--sluice=/usr/sbin/haproxy`).
"""

import socket

import pytest

from conftest import http_connect


def start(sluice, backends, frontend="", backend="", server=""):
    web = backends.http("web")
    fe = "".join(f"    {line.strip()}\n" for line in frontend.splitlines() if line.strip())
    be = "".join(f"    {line.strip()}\n" for line in backend.splitlines() if line.strip())
    sluice.start(f"{sluice.base(mode='http')}frontend fe\n"
                 f"    bind 127.0.0.1:{sluice.port('fe')}\n{fe}"
                 "    http-after-response set-header X-Fe fe\n"
                 "    default_backend be\n"
                 f"backend be\n{be}"
                 "    http-after-response set-header X-Be be\n"
                 f"    server web 127.0.0.1:{web.port} {server}\n")
    return web


def get(sluice, target, headers=()):
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", target, headers=list(headers))
        return c.response()


def marks(resp):
    return resp.header("x-fe"), resp.header("x-be")


def test_server_responses_get_both_sets(sluice, backends):
    start(sluice, backends)
    resp = get(sluice, "/")
    assert resp.status == 200
    assert marks(resp) == ("fe", "be")


@pytest.mark.parametrize("rule,status", [
    ("http-request deny if { path /x }", 403),
    ("http-request return status 404 content-type text/plain string nope if { path /x }", 404),
    ("http-request redirect location /elsewhere if { path /x }", 302),
])
def test_frontend_replies_get_the_frontend_set(sluice, backends, rule, status):
    web = start(sluice, backends, frontend=rule)
    resp = get(sluice, "/x")
    assert resp.status == status
    assert marks(resp) == ("fe", None)
    assert web.requests == []


def test_backend_replies_get_both_sets(sluice, backends):
    web = start(sluice, backends, backend="http-request deny deny_status 429 if { path /x }")
    resp = get(sluice, "/x")
    assert resp.status == 429
    assert marks(resp) == ("fe", "be")
    assert web.requests == []


def test_no_usable_server_503_gets_both_sets(sluice, backends):
    start(sluice, backends, server="disabled")
    resp = get(sluice, "/")
    assert resp.status == 503
    assert marks(resp) == ("fe", "be")


def test_after_response_may_change_a_reply_status(sluice, backends):
    start(sluice, backends, frontend="http-request deny if { path /x }\n"
                                     "http-after-response set-status 418 if { status 403 }")
    assert get(sluice, "/x").status == 418


def test_a_bad_request_400_gets_no_rules(sluice, backends):
    """HAProxy: errors of reading the request are answered below the rules."""
    start(sluice, backends)
    with socket.create_connection(("127.0.0.1", sluice.port("fe")), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 400")
    assert b"x-fe" not in head and b"x-be" not in head
