"""`mode http` end to end (HTTP/1.1 on both sides): forwarding, connection modes, pipelining,
bodies, 100-continue, upgrades and CONNECT, generated errors, HTTP timeouts, forwardfor /
originalto and error files.

Unless a test says otherwise, what it pins is HAProxy 2.6's behaviour, which Sluice reproduces.
Two departures are deliberate and accepted here: HAProxy lowercases every header name it
forwards, Sluice keeps the case it received (header names are compared case-insensitively, and
`test_header_name_case` pins each side); and the wording of generated error pages differs (only
their status line, headers and "HTML mentioning the status code" are checked).

The backend is `backends.http()` (conftest.HttpBackend): what it answers depends on the request
target (`/echo`, `/size/N`, `/chunked/N`, `/hang`, ...).
"""

import hashlib
import select
import time

import pytest

from conftest import HttpClosed, Payload, build_request, curl, http_connect, websocket_accept

MB = 1 << 20
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_HEADERS = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
              ("Sec-WebSocket-Key", WS_KEY), ("Sec-WebSocket-Version", "13")]


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def http_config(sluice, servers, frontend="", backend="", defaults=""):
    """Frontend `fe` on port('fe') to backend `be` with `servers` (`server` line tails);
    `defaults` lines are appended to the defaults section of sluice.base(mode="http")."""
    lines = "".join(f"    server {s}\n" for s in servers)
    return (f"{sluice.base(mode='http')}{indent(defaults)}"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
            f"{indent(frontend)}"
            f"backend be\n{indent(backend)}{lines}")


def start_proxy(sluice, backend_server, **kwargs):
    sluice.start(http_config(sluice, [f"s1 127.0.0.1:{backend_server.port}"], **kwargs))


def lower(headers):
    return [(n.lower(), v) for n, v in headers]


def without(headers, *names):
    """`headers` (lowercased names) minus the ones named."""
    return [(n, v) for n, v in lower(headers) if n not in names]


def assert_error_page(resp, status_line):
    """A generated error: the exact status line, an HTML body of the advertised length that
    mentions the status code, `cache-control: no-cache`."""
    assert resp.status_line == status_line
    code = status_line.split()[1]
    assert "text/html" in resp.header("content-type")
    assert resp.header("cache-control") == "no-cache"
    assert int(resp.header("content-length")) == len(resp.body) > 0
    assert b"<html>" in resp.body.lower() and code.encode() in resp.body


def chunked_encode(payload, sizes=(1, 7, 1000, 65536, 300000, MB)):
    """Yield `payload` as HTTP chunks of cycling sizes, then the last chunk."""
    i = 0
    for block in payload.chunks():
        view = memoryview(block)
        while view:
            n = sizes[i % len(sizes)]
            i += 1
            piece, view = view[:n], view[n:]
            yield b"%x\r\n" % len(piece) + bytes(piece) + b"\r\n"
    yield b"0\r\n\r\n"


def readable_within(sock, timeout):
    return bool(select.select([sock], [], [], timeout)[0])


# ---------------------------------------------------------------------------------------------
# Basic forwarding


def test_get_with_curl(sluice, backends):
    """HAProxy forwards curl's GET unchanged but for header-name case: same request line, same
    headers in the same order, nothing added (no X-Forwarded-For, no Connection); the server's
    answer comes back with its headers and body."""
    be = backends.http()
    start_proxy(sluice, be)
    out = curl("-i", f"http://127.0.0.1:{sluice.port('fe')}/echo?x=1")
    assert out.returncode == 0, out.stderr
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert [tuple(x.lower().split(": ", 1)) for x in lines[1:]] == [
        ("content-type", "application/json"), ("content-length", str(len(body))),
        ("x-conn", "1"), ("x-seq", "1")]
    [req] = be.requests
    assert (req.method, req.target, req.version) == ("GET", "/echo?x=1", "HTTP/1.1")
    assert lower(req.headers) == [("host", f"127.0.0.1:{sluice.port('fe')}"),
                                  ("user-agent", req.header("user-agent")),
                                  ("accept", "*/*")]
    assert req.header("user-agent").startswith("curl/")
    assert b'"target": "/echo?x=1"' in body


def test_get_raw_socket(sluice, backends):
    """A raw GET with a few headers: the server gets them in order, values intact; the client
    gets the server's status line, headers and JSON body; the connection stays open."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/echo/a%20b?q=1&r=2",
                  headers=[("X-One", "1"), ("Accept", "*/*"), ("X-Two", " spaced  value ")])
        resp = c.response()
        assert resp.status_line == "HTTP/1.1 200 OK"
        assert without(resp.headers, "content-length") == [
            ("content-type", "application/json"), ("x-conn", "1"), ("x-seq", "1")]
        summary = resp.json()
        assert summary["target"] == "/echo/a%20b?q=1&r=2"
        assert c.nothing_pending()
    [req] = be.requests
    assert (req.method, req.version) == ("GET", "HTTP/1.1")
    assert lower(req.headers) == [("host", "sluice.test"), ("x-one", "1"), ("accept", "*/*"),
                                  ("x-two", "spaced  value")]
    assert be.bad == []


def test_header_name_case(sluice, backends, binary_is_haproxy):
    """HAProxy 2.6 sends every header name lowercased, in both directions. Sluice departs on
    purpose: it keeps the names as received."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/echo", headers=[("X-MiXed-CaSe", "v"), ("ACCEPT", "*/*")])
    [req] = be.requests
    sent_names = ["Host", "X-MiXed-CaSe", "ACCEPT"]
    got_back = ["Content-Type", "Content-Length", "X-Conn", "X-Seq"]
    if binary_is_haproxy:
        assert [n for n, _ in req.headers] == [n.lower() for n in sent_names]
        assert [n for n, _ in resp.headers] == [n.lower() for n in got_back]
    else:
        assert [n for n, _ in req.headers] == sent_names
        assert [n for n, _ in resp.headers] == got_back


def test_head_keeps_length_and_sends_no_body(sluice, backends):
    """HEAD: the server's content-length (or transfer-encoding) header reaches the client, no
    body byte does; the connection then serves the next request normally."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        c.request("HEAD", "/size/1000")
        resp = c.response(method="HEAD")
        assert resp.status_line == "HTTP/1.1 200 OK"
        assert resp.header("content-length") == "1000"
        c.request("HEAD", "/chunked/1000")
        resp = c.response(method="HEAD")
        assert resp.header("transfer-encoding") == "chunked"
        assert resp.header("content-length") is None
        resp = c.roundtrip("GET", "/echo")  # would parse leftover body bytes as a status line
        assert resp.status_line == "HTTP/1.1 200 OK" and resp.json()["seq"] == 3
    assert [r.method for r in be.requests] == ["HEAD", "HEAD", "GET"]


@pytest.mark.parametrize("status,line", [(304, "HTTP/1.1 304 Not Modified"),
                                         (204, "HTTP/1.1 204 No Content")])
def test_bodyless_status(sluice, backends, status, line):
    """304 and 204 have no body: none is forwarded, no content-length or transfer-encoding is
    added, and the next response on the connection is intact."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        c.send(build_request("GET", f"/status/{status}") + build_request("GET", "/echo"))
        resp = c.response()
        assert resp.status_line == line
        assert without(resp.headers, "x-conn", "x-seq") == [("content-type", "text/plain")]
        assert c.response().json()["seq"] == 2


def test_http10_request_closes(sluice, backends):
    """An HTTP/1.0 request without keep-alive: HAProxy forwards it as HTTP/1.0 and, keeping its
    server connection alive, adds `connection: keep-alive` for the server; the client gets the
    server's HTTP/1.1 status line plus `connection: close`, then the close."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/echo", version="HTTP/1.0", host=None)
        resp = c.response()
        assert resp.status_line == "HTTP/1.1 200 OK"
        assert resp.tokens("connection") == ["close"]
        assert c.wait_closed() == b""
    [req] = be.requests
    assert req.version == "HTTP/1.0"
    assert lower(req.headers) == [("connection", "keep-alive")]


def test_http10_keep_alive(sluice, backends):
    """HTTP/1.0 with `Connection: keep-alive`: the client gets `connection: keep-alive` back and
    the connection serves a second request over the same server connection."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        for _ in range(2):
            resp = c.roundtrip("GET", "/echo", version="HTTP/1.0",
                               headers=[("Connection", "keep-alive")])
            assert resp.status_line == "HTTP/1.1 200 OK"
            assert resp.tokens("connection") == ["keep-alive"]
    assert be.requests_per_connection() == [2]
    assert [r.version for r in be.requests] == ["HTTP/1.0", "HTTP/1.0"]


# ---------------------------------------------------------------------------------------------
# Connection management


@pytest.mark.parametrize("reuse", ["", "http-reuse safe", "http-reuse always",
                                   "http-reuse never"])
def test_keep_alive_one_server_connection(sluice, backends, reuse):
    """Keep-alive (the default mode): 10 sequential requests on one client connection travel
    over one server connection, whatever `http-reuse` says, and no Connection header is added
    either way."""
    be = backends.http()
    start_proxy(sluice, be, backend=reuse)
    with http_connect(sluice.port("fe")) as c:
        for i in range(10):
            resp = c.roundtrip("GET", f"/echo?i={i}")
            assert resp.status_line == "HTTP/1.1 200 OK"
            assert resp.header("connection") is None
            assert (resp.header("x-conn"), resp.header("x-seq")) == ("1", str(i + 1))
    assert be.connections == 1
    assert be.requests_per_connection() == [10]
    assert all(r.header("connection") is None for r in be.requests)


def test_reuse_always_shares_idle_connection(sluice, backends):
    """`http-reuse always`: a second client's requests go over the idle server connection the
    first client's session left open, and so does a third client's after both closed."""
    be = backends.http()
    start_proxy(sluice, be, backend="http-reuse always")
    with http_connect(sluice.port("fe")) as a:
        a.roundtrip("GET", "/echo")
        with http_connect(sluice.port("fe")) as b:
            b.roundtrip("GET", "/echo")
            b.roundtrip("GET", "/echo")
    with http_connect(sluice.port("fe")) as c:
        c.roundtrip("GET", "/echo")
    assert be.requests_per_connection() == [4]


def test_reuse_skips_connection_server_closed(sluice, backends):
    """An idle server connection that the server closes (its keep-alive timeout, silently) is
    noticed and dropped from the pool: the next requests, from the same client and from a new
    one, get new server connections and succeed instead of a 502."""
    be = backends.http()
    start_proxy(sluice, be, backend="http-reuse always")
    with http_connect(sluice.port("fe")) as a:
        assert a.roundtrip("GET", "/echo?drop=1").header("x-conn") == "1"
        be.wait_closed(1)
        resp = a.roundtrip("GET", "/echo?drop=1")
        assert (resp.status, resp.header("x-conn")) == (200, "2")
    be.wait_closed(2)
    with http_connect(sluice.port("fe")) as b:
        resp = b.roundtrip("GET", "/echo")
        assert (resp.status, resp.header("x-conn")) == (200, "3")
    assert be.requests_per_connection() == [1, 1, 1]


def test_reuse_safe_first_request_new_connection(sluice, backends):
    """`http-reuse safe` (the default): the first request of a new client session never goes
    over an idle connection, even when one is left from an earlier client."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as a:
        a.roundtrip("GET", "/echo")
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/echo").header("x-conn") == "2"
    assert be.connections == 2


def test_reuse_never_private_connections(sluice, backends):
    """`http-reuse never`: two client sessions open at the same time each get their own server
    connection, and each keeps using its own."""
    be = backends.http()
    start_proxy(sluice, be, backend="http-reuse never")
    with http_connect(sluice.port("fe")) as a, http_connect(sluice.port("fe")) as b:
        first_a = a.roundtrip("GET", "/echo").header("x-conn")
        first_b = b.roundtrip("GET", "/echo").header("x-conn")
        assert first_a != first_b
        assert b.roundtrip("GET", "/echo").header("x-conn") == first_b
        assert a.roundtrip("GET", "/echo").header("x-conn") == first_a
    assert sorted(be.requests_per_connection()) == [2, 2]


CONNECTION_CASES = [
    # (mode in defaults, request version, request headers,
    #  Connection headers the server gets, Connection headers the client gets, client closed)
    ("", "HTTP/1.1", [], [], [], False),
    ("", "HTTP/1.1", [("Connection", "close")], [], ["close"], True),
    ("", "HTTP/1.1", [("Connection", "keep-alive")], [], [], False),
    ("", "HTTP/1.0", [], ["keep-alive"], ["close"], True),
    ("", "HTTP/1.0", [("Connection", "keep-alive")], ["keep-alive"], ["keep-alive"], False),
    ("option http-server-close", "HTTP/1.1", [], ["close"], [], False),
    ("option http-server-close", "HTTP/1.1", [("Connection", "close")], ["close"], ["close"],
     True),
    ("option http-server-close", "HTTP/1.1", [("Connection", "keep-alive")], ["close"], [],
     False),
    ("option http-server-close", "HTTP/1.0", [], [], ["close"], True),
    ("option http-server-close", "HTTP/1.0", [("Connection", "keep-alive")], [],
     ["keep-alive"], False),
    ("option httpclose", "HTTP/1.1", [], ["close"], ["close"], True),
    ("option httpclose", "HTTP/1.1", [("Connection", "keep-alive")], ["close"], ["close"],
     True),
    ("option httpclose", "HTTP/1.0", [], [], ["close"], True),
    ("option httpclose", "HTTP/1.0", [("Connection", "keep-alive")], [], ["close"], True),
    # Other tokens of the client's Connection header are forwarded, and so is the header they
    # name (HAProxy does not strip it); only close/keep-alive are HAProxy's to set.
    ("", "HTTP/1.1", [("Connection", "X-Foo, close"), ("X-Foo", "bar")], ["x-foo"], ["close"],
     True),
]


@pytest.mark.parametrize("mode,version,headers,to_server,to_client,closed", CONNECTION_CASES,
                         ids=[f"{c[0].split()[-1] if c[0] else 'keep-alive'}-{c[1][5:]}-"
                              f"{','.join(v for _, v in c[2]) or 'none'}"
                              for c in CONNECTION_CASES])
def test_connection_header_matrix(sluice, backends, mode, version, headers, to_server,
                                  to_client, closed):
    """The exact Connection header tokens HAProxy sends to the server and to the client for each
    connection mode (set in defaults) and client request, and whether the client connection is
    closed after the response."""
    be = backends.http()
    start_proxy(sluice, be, defaults=mode)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/echo", version=version, headers=headers)
        assert resp.status == 200
        assert resp.tokens("connection") == to_client
        if closed:
            assert c.wait_closed() == b""
        else:
            assert c.roundtrip("GET", "/echo", version=version, headers=headers).status == 200
    req = be.requests[0]
    assert sorted(t.strip().lower() for v in req.header_all("connection")
                  for t in v.split(",")) == to_server
    if ("X-Foo", "bar") in headers:
        assert req.header("x-foo") == "bar"


def test_http_server_close(sluice, backends):
    """`option http-server-close`: the client connection stays open across 5 requests (no
    Connection header to the client) while each request gets its own server connection,
    opened with `connection: close` and closed after the response."""
    be = backends.http()
    start_proxy(sluice, be, defaults="option http-server-close")
    with http_connect(sluice.port("fe")) as c:
        for i in range(5):
            resp = c.roundtrip("GET", "/echo")
            assert resp.header("connection") is None
            assert resp.header("x-conn") == str(i + 1)
    assert be.requests_per_connection() == [1] * 5
    assert [r.header_all("connection") for r in be.requests] == [["close"]] * 5
    be.wait_closed(5)


def test_httpclose(sluice, backends):
    """`option httpclose`: `connection: close` both ways and both connections closed after each
    response: 3 clients, 3 server connections of one request each."""
    be = backends.http()
    start_proxy(sluice, be, defaults="option httpclose")
    for i in range(3):
        with http_connect(sluice.port("fe")) as c:
            resp = c.roundtrip("GET", "/echo")
            assert resp.tokens("connection") == ["close"]
            assert c.wait_closed() == b""
    assert be.requests_per_connection() == [1, 1, 1]
    assert [r.header_all("connection") for r in be.requests] == [["close"]] * 3
    be.wait_closed(3)


def test_httpclose_in_backend_only_closes_server_side(sluice, backends):
    """`option httpclose` in the backend section alone closes the server side only: the server
    gets `connection: close` and a new connection per request, while the client connection,
    governed by the frontend's mode, stays keep-alive with no Connection header."""
    be = backends.http()
    start_proxy(sluice, be, backend="option httpclose")
    with http_connect(sluice.port("fe")) as c:
        for _ in range(3):
            resp = c.roundtrip("GET", "/echo")
            assert resp.status == 200 and resp.header("connection") is None
    assert be.requests_per_connection() == [1, 1, 1]
    assert [r.header_all("connection") for r in be.requests] == [["close"]] * 3


# ---------------------------------------------------------------------------------------------
# Pipelining


def test_close_request_ends_with_fin(sluice, backends):
    """After the response to a `Connection: close` request the client sees a clean end of
    stream (FIN, not a reset), whether nothing followed the request or another request was
    pipelined behind it; the pipelined one never reaches the server (HAProxy 2.6 alike)."""
    be = backends.http()
    start_proxy(sluice, be)
    expected = b"".join(Payload(300000, 300000).chunks())
    for extra in (b"", build_request("GET", "/echo?n=2")):
        with http_connect(sluice.port("fe")) as c:
            c.send(build_request("GET", "/size/300000", headers=[("Connection", "close")])
                   + extra)
            resp = c.response()
            assert resp.tokens("connection") == ["close"]
            assert resp.body == expected
            assert not c.reader.buf
            c.sock.settimeout(5)
            assert c.sock.recv(1) == b""  # a reset raises ConnectionResetError
    assert [r.target for r in be.requests] == ["/size/300000"] * 2


def test_pipelined_requests(sluice, backends):
    """5 requests (GET, POST with a body, HEAD, GET, chunked POST) sent in one write: 5
    responses, in order, all over one server connection in that order."""
    be = backends.http()
    start_proxy(sluice, be)
    reqs = [build_request("GET", "/echo?n=0"),
            build_request("POST", "/echo?n=1", body=b"hello"),
            build_request("HEAD", "/size/10"),
            build_request("GET", "/size/10"),
            build_request("POST", "/echo?n=4", headers=[("Transfer-Encoding", "chunked")],
                          body=b"3\r\nabc\r\n0\r\n\r\n")]
    with http_connect(sluice.port("fe")) as c:
        c.send(b"".join(reqs))
        r0 = c.response()
        r1 = c.response()
        r2 = c.response(method="HEAD")
        r3 = c.response()
        r4 = c.response()
    assert r0.json()["target"] == "/echo?n=0"
    assert r1.json()["target"] == "/echo?n=1" and r1.json()["body_length"] == 5
    assert r2.header("content-length") == "10" and r2.body == b""
    assert r3.body == b"".join(Payload(10, 10).chunks())
    assert r4.json()["target"] == "/echo?n=4" and r4.json()["body_length"] == 3
    assert [r.header("x-seq") for r in (r0, r1, r2, r3, r4)] == ["1", "2", "3", "4", "5"]
    assert be.requests_per_connection() == [5]
    assert [r.body for r in be.requests] == [b"", b"hello", b"", b"", b"abc"]


# ---------------------------------------------------------------------------------------------
# Bodies


def test_chunked_upload_5mib(sluice, backends):
    """A 5 MiB chunked request body (chunks from 1 byte to 1 MiB) reaches the server chunked
    (no content-length added) with the same SHA-256."""
    be = backends.http()
    start_proxy(sluice, be)
    payload = Payload(5 * MB, seed=11)
    with http_connect(sluice.port("fe"), timeout=30) as c:
        c.send(build_request("POST", "/echo", headers=[("Transfer-Encoding", "chunked")]))
        for chunk in chunked_encode(payload):
            c.send(chunk)
        resp = c.response()
    assert resp.status == 200
    assert (resp.json()["body_length"], resp.json()["body_sha256"]) == (5 * MB, payload.sha256)
    [req] = be.requests
    assert req.chunked and req.header("content-length") is None
    assert (req.body_length, req.body_sha256) == (5 * MB, payload.sha256)


def test_content_length_upload_20mib(sluice, backends):
    """A 20 MiB content-length request body reaches the server intact (SHA-256) with its
    content-length."""
    be = backends.http()
    start_proxy(sluice, be)
    payload = Payload(20 * MB, seed=12)
    with http_connect(sluice.port("fe"), timeout=30) as c:
        c.send(build_request("PUT", "/echo", headers=[("Content-Length", str(20 * MB))]))
        for chunk in payload.chunks():
            c.send(chunk)
        resp = c.response()
    assert resp.status == 200
    [req] = be.requests
    assert req.header("content-length") == str(20 * MB) and not req.chunked
    assert (req.body_length, req.body_sha256) == (20 * MB, payload.sha256)


def test_chunked_download_5mib(sluice, backends):
    """A 5 MiB chunked response reaches the client chunked and intact."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe"), timeout=30) as c:
        resp = c.roundtrip("GET", f"/chunked/{5 * MB}")
        assert resp.framing == "chunked" and resp.header("content-length") is None
        assert (resp.body_length, resp.body_sha256) == (5 * MB, Payload(5 * MB, 5 * MB).sha256)
        assert c.roundtrip("GET", "/echo").status == 200


def test_content_length_download_50mib_with_curl(sluice, backends):
    """A 50 MiB content-length response downloaded by curl is intact."""
    be = backends.http()
    start_proxy(sluice, be)
    n = 50 * MB
    out = curl("-w", "\n%{http_code} %{size_download}",
               f"http://127.0.0.1:{sluice.port('fe')}/size/{n}")
    assert out.returncode == 0, out.stderr
    body, _, stats = out.stdout.rpartition(b"\n")
    assert stats == f"200 {n}".encode()
    assert hashlib.sha256(body).hexdigest() == Payload(n, n).sha256


def test_content_length_download_raw(sluice, backends):
    """A 3 MiB content-length response on a raw socket: the length header is kept, the body is
    intact, and the connection serves another request."""
    be = backends.http()
    start_proxy(sluice, be)
    n = 3 * MB
    with http_connect(sluice.port("fe"), timeout=30) as c:
        resp = c.roundtrip("GET", f"/size/{n}")
        assert resp.framing == "length" and resp.header("content-length") == str(n)
        assert resp.body_sha256 == Payload(n, n).sha256
        assert c.roundtrip("GET", "/echo").json()["seq"] == 2


def test_close_delimited_response(sluice, backends):
    """A response with neither content-length nor transfer-encoding (ended by the server's
    close) reaches an HTTP/1.1 client close-delimited too: no length or chunking is added,
    `connection: close` is, and the client connection is closed after the body."""
    be = backends.http()
    start_proxy(sluice, be)
    n = 1 * MB + 17
    with http_connect(sluice.port("fe"), timeout=30) as c:
        resp = c.roundtrip("GET", f"/close/{n}")
        assert resp.status_line == "HTTP/1.1 200 OK"
        assert resp.header("content-length") is None
        assert resp.header("transfer-encoding") is None
        assert resp.tokens("connection") == ["close"]
        assert resp.framing == "close"
        assert (resp.body_length, resp.body_sha256) == (n, Payload(n, n).sha256)


# ---------------------------------------------------------------------------------------------
# 100-continue and trailers


def test_expect_100_continue_curl(sluice, backends, tmp_path):
    """`Expect: 100-continue` is forwarded to the server, whose `100 Continue` is relayed: curl
    (told to wait up to 20 s for it) sends the body at once and the upload arrives intact."""
    be = backends.http()
    start_proxy(sluice, be)
    data = b"".join(Payload(1 * MB, seed=13).chunks())
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    started = time.monotonic()
    out = curl("-v", "-H", "Expect: 100-continue", "--expect100-timeout", "20",
               "--data-binary", f"@{path}", f"http://127.0.0.1:{sluice.port('fe')}/echo")
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - started < 10
    assert "< HTTP/1.1 100 Continue" in out.stderr
    assert "< HTTP/1.1 200 OK" in out.stderr
    [req] = be.requests
    assert req.header("expect") == "100-continue"
    assert (req.body_length, req.body_sha256) == (len(data), hashlib.sha256(data).hexdigest())


def test_expect_100_continue_raw(sluice, backends):
    """On a raw socket: the interim `HTTP/1.1 100 Continue` arrives before any body byte is
    sent, then the final response after it."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        c.request("POST", "/echo", headers=[("Expect", "100-continue"),
                                            ("Content-Length", "5")])
        assert readable_within(c.sock, 5), "no 100 Continue"
        c.send(b"abcde")
        resp = c.response()
    assert [i.status_line for i in resp.interim] == ["HTTP/1.1 100 Continue"]
    assert resp.status == 200 and resp.json()["body_length"] == 5


def test_http_buffer_request_answers_100_itself(sluice, backends, binary_is_haproxy):
    """With `option http-buffer-request` HAProxy answers `100 Continue` itself and removes the
    Expect header: the server gets the whole request without it."""
    if not binary_is_haproxy:
        pytest.skip("option http-buffer-request comes with ACLs and rules (issue #5)")
    be = backends.http()
    start_proxy(sluice, be, frontend="option http-buffer-request")
    with http_connect(sluice.port("fe")) as c:
        c.request("POST", "/echo", headers=[("Expect", "100-continue"),
                                            ("Content-Length", "5")])
        assert readable_within(c.sock, 5), "no 100 Continue"
        c.send(b"abcde")
        resp = c.response()
    assert [i.status_line for i in resp.interim] == ["HTTP/1.1 100 Continue"]
    [req] = be.requests
    assert lower(req.headers) == [("host", "sluice.test"), ("content-length", "5")]
    assert req.body == b"abcde"


def test_chunked_request_trailers_forwarded(sluice, backends):
    """Trailers after the last chunk of a request are forwarded to the server."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("POST", "/echo", headers=[("Transfer-Encoding", "chunked")],
                           body=b"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
        assert resp.status == 200
        assert c.roundtrip("GET", "/echo").json()["seq"] == 2
    req = be.requests[0]
    assert req.body == b"hello"
    assert lower(req.trailers) == [("x-checksum", "abc"), ("x-other", "1")]


# ---------------------------------------------------------------------------------------------
# Upgrade and CONNECT


def tunnel_echo_check(c, rounds=16, size=64 * 1024):
    """Bytes sent through an established tunnel come back from the echoing server."""
    for i in range(rounds):
        block = bytes([i]) * size
        c.send(block)
        got = bytearray(c.reader.buf)
        c.reader.buf.clear()
        while len(got) < size:
            data = c.sock.recv(size)
            assert data, f"tunnel closed after {len(got)} bytes of round {i}"
            got += data
        assert bytes(got) == block


def test_websocket_upgrade_tunnel(sluice, backends):
    """A WebSocket upgrade: the request reaches the server with its Connection/Upgrade headers,
    the 101 (with Sec-WebSocket-Accept) comes back, then bytes flow both ways raw."""
    be = backends.http()
    start_proxy(sluice, be, defaults="timeout tunnel 5s")
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/upgrade", headers=WS_HEADERS)
        assert resp.status_line == "HTTP/1.1 101 Switching Protocols"
        assert resp.tokens("connection") == ["upgrade"]
        assert resp.header("upgrade") == "websocket"
        assert resp.header("sec-websocket-accept") == websocket_accept(WS_KEY)
        tunnel_echo_check(c)
    [req] = be.requests
    assert lower(req.headers) == [("host", "sluice.test")] + lower(WS_HEADERS)


def test_upgrade_other_protocol(sluice, backends):
    """An upgrade to a protocol other than WebSocket is tunnelled the same way."""
    be = backends.http()
    start_proxy(sluice, be, defaults="timeout tunnel 5s")
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/upgrade", headers=[("Connection", "Upgrade"),
                                                       ("Upgrade", "foo/1")])
        assert resp.status_line == "HTTP/1.1 101 Switching Protocols"
        assert resp.header("upgrade") == "foo/1"
        tunnel_echo_check(c, rounds=2)


def test_tunnel_timeout(sluice, backends):
    """`timeout tunnel 1s` closes an upgraded connection idle for that long (and not before),
    although `timeout client`/`server` are 30 s."""
    be = backends.http()
    start_proxy(sluice, be, defaults="timeout tunnel 1s")
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/upgrade", headers=WS_HEADERS).status == 101
        tunnel_echo_check(c, rounds=1, size=10)
        idle_from = time.monotonic()
        assert c.wait_closed(5) == b""
        assert 0.8 <= time.monotonic() - idle_from < 3


def test_websocket_upgrade_without_key_rejected(sluice, backends):
    """`Connection: Upgrade` + `Upgrade: websocket` without Sec-WebSocket-Key is an invalid
    request: 400, closed, nothing reaches the server."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/upgrade", headers=[("Connection", "Upgrade"),
                                                       ("Upgrade", "websocket")])
        assert_error_page(resp, "HTTP/1.1 400 Bad request")
        assert c.wait_closed() == b""
    assert be.connections == 0


def test_101_to_request_not_asking_upgrade_is_502(sluice, backends):
    """A 101 answering a request whose Connection header does not list `upgrade` (the Upgrade
    header alone does not count) is an invalid response: 502."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/upgrade", headers=[("Upgrade", "websocket")])
        assert_error_page(resp, "HTTP/1.1 502 Bad Gateway")
    assert be.requests[0].header("upgrade") == "websocket"


def test_connect_tunnel(sluice, backends):
    """CONNECT is forwarded to the configured server (not to the authority named), its
    `HTTP/1.1 200 OK` with no header is relayed as is, then the connection is a tunnel."""
    be = backends.http()
    start_proxy(sluice, be, defaults="timeout tunnel 5s")
    with http_connect(sluice.port("fe")) as c:
        c.request("CONNECT", "127.0.0.1:9", host="127.0.0.1:9")
        resp = c.response(method="CONNECT")
        assert resp.status_line == "HTTP/1.1 200 OK"
        assert resp.headers == []
        tunnel_echo_check(c, rounds=4)
    [req] = be.requests
    assert (req.method, req.target) == ("CONNECT", "127.0.0.1:9")
    assert lower(req.headers) == [("host", "127.0.0.1:9")]


# ---------------------------------------------------------------------------------------------
# Errors HAProxy generates


@pytest.mark.parametrize("server", ["disabled", "none"])
def test_503_no_server(sluice, backends, server):
    """No usable server (all `disabled`, or no server line): `HTTP/1.1 503 Service
    Unavailable`, an HTML page without `connection: close`, and the client connection stays
    open for another request."""
    be = backends.http()
    servers = [f"s1 127.0.0.1:{be.port} disabled"] if server == "disabled" else []
    sluice.start(http_config(sluice, servers))
    with http_connect(sluice.port("fe")) as c:
        for _ in range(2):
            resp = c.roundtrip("GET", "/echo")
            assert_error_page(resp, "HTTP/1.1 503 Service Unavailable")
            assert resp.header("connection") is None
    assert be.connections == 0


def test_503_server_refuses(sluice, backends):
    """A server refusing connections, `retries 1`, `timeout connect 500ms`: HAProxy waits
    min(timeout connect, 1 s) before retrying a refused connection, then answers `503 Service
    Unavailable`, keep-alive kept."""
    dead = backends.dead_port()
    sluice.start(http_config(sluice, [f"s1 127.0.0.1:{dead}"],
                             backend="retries 1\ntimeout connect 500ms"))
    with http_connect(sluice.port("fe")) as c:
        started = time.monotonic()
        resp = c.roundtrip("GET", "/echo")
        assert 0.4 <= time.monotonic() - started < 3
        assert_error_page(resp, "HTTP/1.1 503 Service Unavailable")
        assert resp.header("connection") is None


def test_refused_request_redispatched(sluice, backends):
    """`retries 1` + `option redispatch` under round robin over a refusing server and a live
    one: every request is answered 200 by the live one, at once (a redispatch does not wait
    the pause of a retry on the same server), each on its own client connection."""
    live = backends.http()
    sluice.start(http_config(sluice, [f"dead 127.0.0.1:{backends.dead_port()}",
                                      f"live 127.0.0.1:{live.port}"],
                             backend="balance roundrobin\nretries 1\noption redispatch"))
    started = time.monotonic()
    for i in range(6):
        with http_connect(sluice.port("fe")) as c:
            assert c.roundtrip("GET", f"/echo?i={i}").status == 200
    assert time.monotonic() - started < 2.5
    assert [r.target for r in live.requests] == [f"/echo?i={i}" for i in range(6)]


@pytest.mark.parametrize("path", ["/hang", "/slow-headers"])
def test_504_server_timeout(sluice, backends, path):
    """A server that accepts and never completes its response headers, `timeout server 1s`:
    `HTTP/1.1 504 Gateway Time-out` after about 1 s; the client connection stays open and
    serves the next request (on a new server connection)."""
    be = backends.http()
    start_proxy(sluice, be, backend="timeout server 1s")
    with http_connect(sluice.port("fe")) as c:
        started = time.monotonic()
        resp = c.roundtrip("GET", path)
        assert 0.8 <= time.monotonic() - started < 4
        assert_error_page(resp, "HTTP/1.1 504 Gateway Time-out")
        assert resp.header("connection") is None
        assert c.roundtrip("GET", "/echo").header("x-conn") == "2"


@pytest.mark.parametrize("path", ["/die-before-headers", "/garbage"])
def test_502_invalid_or_missing_response(sluice, backends, path):
    """A server that closes before any response, or sends something that is not HTTP:
    `HTTP/1.1 502 Bad Gateway` (no retry on another connection), client kept alive."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", path)
        assert_error_page(resp, "HTTP/1.1 502 Bad Gateway")
        assert resp.header("connection") is None
        assert c.roundtrip("GET", "/echo").status == 200
    assert [r.path for r in be.requests] == [path, "/echo"]


def test_request_pipelined_behind_a_502_is_served(sluice, backends):
    """A request already pipelined behind one that ends in 502 is answered right after the
    error page, without the client sending anything more (HAProxy 2.6 alike)."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        c.send(build_request("GET", "/garbage") + build_request("GET", "/echo?n=2"))
        assert_error_page(c.response(), "HTTP/1.1 502 Bad Gateway")
        assert c.response().json()["target"] == "/echo?n=2"
    assert [r.target for r in be.requests] == ["/garbage", "/echo?n=2"]


def test_server_dies_mid_body_raw(sluice, backends):
    """The server closes after 100000 of 1000000 announced body bytes: the client gets the
    headers and those bytes, then its connection is closed (the response cannot be
    completed)."""
    be = backends.http()
    start_proxy(sluice, be)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/die-mid-body")
        with pytest.raises(HttpClosed):
            c.response()
        # response() consumed the head and whatever body bytes came before the close
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/die-mid-body")
        got = c.wait_closed(10)
        head, _, body = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"content-length: 1000000" in head.lower()
        assert body == b"x" * 100000


def test_server_dies_mid_body_curl(sluice, backends):
    """The same cut seen by curl: exit status 18 (partial file), 100000 bytes received."""
    be = backends.http()
    start_proxy(sluice, be)
    out = curl("-o", "/dev/null", "-w", "%{http_code} %{size_download}",
               f"http://127.0.0.1:{sluice.port('fe')}/die-mid-body")
    assert out.returncode == 18, out.stderr
    assert out.stdout == b"200 100000"


# ---------------------------------------------------------------------------------------------
# HTTP timeouts


def test_http_request_timeout_slowloris(sluice, backends):
    """`timeout http-request 1s` bounds the whole request head: a client trickling header lines
    every 200 ms gets `HTTP/1.1 408 Request Time-out` (with `connection: close`) about 1 s
    after connecting, then the close; nothing reaches the server."""
    be = backends.http()
    start_proxy(sluice, be, frontend="timeout http-request 1s")
    with http_connect(sluice.port("fe")) as c:
        started = time.monotonic()
        c.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
        for i in range(40):  # 8 s at most
            if readable_within(c.sock, 0.2):
                break
            try:
                c.send(b"X-Slow-%d: y\r\n" % i)
            except (BrokenPipeError, ConnectionResetError):
                break
        resp = c.response()
        elapsed = time.monotonic() - started
        assert 0.8 <= elapsed < 3, elapsed
        assert_error_page(resp, "HTTP/1.1 408 Request Time-out")
        assert resp.tokens("connection") == ["close"]
        assert c.wait_closed() == b""
    assert be.connections == 0


def test_http_request_timeout_silent_client(sluice, backends):
    """A connection that sends nothing at all also gets the 408 (not a silent close) when
    `timeout http-request` expires, then is closed."""
    be = backends.http()
    start_proxy(sluice, be, frontend="timeout http-request 1s")
    with http_connect(sluice.port("fe")) as c:
        started = time.monotonic()
        resp = c.response()
        assert 0.8 <= time.monotonic() - started < 3
        assert_error_page(resp, "HTTP/1.1 408 Request Time-out")
        assert c.wait_closed() == b""
    assert be.connections == 0


def test_http_keep_alive_timeout(sluice, backends):
    """`timeout http-keep-alive 1s`: after a response, a client connection idle for 1 s is
    closed silently (no 408); a new request started in time is still served."""
    be = backends.http()
    start_proxy(sluice, be, frontend="timeout http-keep-alive 1s")
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/echo").status == 200
        assert c.roundtrip("GET", "/echo").status == 200
        idle_from = time.monotonic()
        assert c.wait_closed(5) == b""
        assert 0.8 <= time.monotonic() - idle_from < 3


def test_partial_request_after_keep_alive_gets_http_request_timeout(sluice, backends):
    """Once the next request has begun on a kept-alive connection, `timeout http-request`
    (2 s here) applies, not `timeout http-keep-alive` (1 s): 408 after about 2 s."""
    be = backends.http()
    start_proxy(sluice, be, frontend="timeout http-request 2s\ntimeout http-keep-alive 1s")
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/echo").status == 200
        started = time.monotonic()
        c.send(b"GET /echo HT")
        resp = c.response()
        assert 1.8 <= time.monotonic() - started < 4
        assert resp.status_line == "HTTP/1.1 408 Request Time-out"
        assert c.wait_closed() == b""
    assert len(be.requests) == 1


# ---------------------------------------------------------------------------------------------
# forwardfor / originalto


FORWARDFOR_CASES = [
    # (option, headers the server gets after Host for a request without / with an
    #  X-Forwarded-For: 1.2.3.4 of its own)
    ("option forwardfor", [("x-forwarded-for", "127.0.0.1")],
     [("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "127.0.0.1")]),
    ("option forwardfor header X-Client-IP", [("x-client-ip", "127.0.0.1")],
     [("x-forwarded-for", "1.2.3.4"), ("x-client-ip", "127.0.0.1")]),
    ("option forwardfor if-none", [("x-forwarded-for", "127.0.0.1")],
     [("x-forwarded-for", "1.2.3.4")]),
    ("option forwardfor except 127.0.0.0/8", [], [("x-forwarded-for", "1.2.3.4")]),
    ("option originalto", [("x-original-to", "127.0.0.1")],
     [("x-forwarded-for", "1.2.3.4"), ("x-original-to", "127.0.0.1")]),
    ("option originalto header X-Orig", [("x-orig", "127.0.0.1")],
     [("x-forwarded-for", "1.2.3.4"), ("x-orig", "127.0.0.1")]),
    ("option originalto except 127.0.0.1", [], [("x-forwarded-for", "1.2.3.4")]),
]


@pytest.mark.parametrize("option,plain,with_xff", FORWARDFOR_CASES,
                         ids=[c[0].replace("option ", "").replace(" ", "-")
                              for c in FORWARDFOR_CASES])
def test_forwardfor_originalto(sluice, backends, option, plain, with_xff):
    """`option forwardfor` appends its own header line (an existing X-Forwarded-For is kept as a
    separate line, not merged) with the client address; `header NAME` renames it, `if-none`
    adds nothing when the client sent one, `except NET` adds nothing for such clients.
    `option originalto` adds the address the client connected to."""
    be = backends.http()
    start_proxy(sluice, be, backend=option)
    with http_connect(sluice.port("fe")) as c:
        c.roundtrip("GET", "/echo")
        c.roundtrip("GET", "/echo", headers=[("X-Forwarded-For", "1.2.3.4")])
    first, second = be.requests
    assert lower(first.headers) == [("host", "sluice.test")] + plain
    assert lower(second.headers) == [("host", "sluice.test")] + with_xff


def test_forwardfor_and_originalto_in_frontend(sluice, backends):
    """Both options in the frontend section: X-Forwarded-For then X-Original-To."""
    be = backends.http()
    start_proxy(sluice, be, frontend="option forwardfor\noption originalto")
    with http_connect(sluice.port("fe")) as c:
        c.roundtrip("GET", "/echo")
    assert lower(be.requests[0].headers) == [("host", "sluice.test"),
                                             ("x-forwarded-for", "127.0.0.1"),
                                             ("x-original-to", "127.0.0.1")]


# ---------------------------------------------------------------------------------------------
# Error files


ERRORFILE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
             b"X-Custom: yes\r\nContent-Length: 5\r\n\r\nbusy\n")


@pytest.mark.parametrize("where", ["backend-errorfile", "frontend-errorfile", "http-errors",
                                   "http-error"])
def test_custom_503(sluice, backends, tmp_path, where):
    """A custom 503 replaces the generated page: `errorfile 503 FILE` (in the backend, or in the
    frontend for a backend with no server) serves the file as is; `http-errors` + `errorfiles`
    does the same; `http-error status 503 content-type text/plain string "busy"` builds
    `content-length: 4`, `content-type: text/plain`, body `busy`. The connection stays open."""
    path = tmp_path / "503.http"
    path.write_bytes(ERRORFILE)
    sections = ""
    frontend = backend = ""
    if where == "backend-errorfile":
        backend = f"errorfile 503 {path}"
    elif where == "frontend-errorfile":
        frontend = f"errorfile 503 {path}"
    elif where == "http-errors":
        sections = f"http-errors myerrors\n    errorfile 503 {path}\n"
        backend = "errorfiles myerrors"
    else:
        backend = 'http-error status 503 content-type text/plain string "busy"'
    sluice.start(http_config(sluice, [], frontend=frontend, backend=backend) + sections)
    with http_connect(sluice.port("fe")) as c:
        for _ in range(2):
            resp = c.roundtrip("GET", "/")
            assert resp.status_line == "HTTP/1.1 503 Service Unavailable"
            if where == "http-error":
                assert lower(resp.headers) == [("content-length", "4"),
                                               ("content-type", "text/plain")]
                assert resp.body == b"busy"
            else:
                assert lower(resp.headers) == [("content-type", "text/plain"),
                                               ("x-custom", "yes"), ("content-length", "5")]
                assert resp.body == b"busy\n"
