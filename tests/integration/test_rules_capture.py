"""Captures, seen through headers and routing set from the capture.* fetches: `capture request
header` and `capture response header`, `declare capture` with `http-request capture ... id` (in
a backend too) and `http-response capture`, `http-request capture ... len`, `tcp-request content
capture` in mode tcp and in mode http, the capture-req converter, and capture.req.method,
capture.req.uri, capture.req.ver and capture.res.ver. (The logs, which show the same values,
come with logging.)

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`).
"""

import socket
import time

from conftest import build_request, http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def start(sluice, backends, frontend, backend=""):
    """Frontend `fe` with `frontend` lines in front of backend `web` (with `backend` lines) and
    its one HTTP server, which is returned."""
    web = backends.http("web")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"{indent(frontend)}    default_backend web\n"
            f"backend web\n{indent(backend)}    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    return web


def show(name, fetch, slots):
    """Rules that copy `fetch(N)` into header `name-N` for each slot N, and say in `name-N-found`
    whether it had a value: `%[...]` renders "no value" and "empty value" alike."""
    lines = ""
    for n in slots:
        lines += f'http-request set-header {name}-{n} "%[{fetch}({n})]"\n'
        lines += f"http-request set-header {name}-{n}-found 1 if {{ {fetch}({n}) -m found }}\n"
    return lines


def seen(request, name, n):
    """What `show` put in the request the server received: the value, or None when none."""
    if request.header(f"{name}-{n}-found") is None:
        return None
    return request.header(f"{name}-{n}")


def test_request_slots_are_numbered_across_headers_declares_and_rules(sluice, backends):
    """Header captures, `declare capture` and `http-request capture ... len` share one
    numbering, in the order of their lines. A header seen twice gives its last line, whole
    (commas and all), cut at the slot's length; a header absent leaves no value, one present
    and empty an empty value. `http-request capture ... id` fills a declared slot (cut at its
    length), and the capture-req converter stores its input and passes it on."""
    web = start(sluice, backends, """
        capture request header Host len 4
        declare capture request len 10
        capture request header X-A len 20
        http-request capture req.hdr(x-b) len 3
        capture request header X-None len 5
        capture request header X-Empty len 5
        declare capture request len 6
        http-request capture path id 1
        http-request set-header X-Conv %[req.hdr(x-c),capture-req(6)]
    """ + show("X-Cap", "capture.req.hdr", range(8)))
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/some/path?q=1", headers=[
            ("X-A", "first"), ("X-A", "second, third"), ("X-B", "abcdef"), ("X-Empty", ""),
            ("X-C", "converted")])
        assert resp.status == 200
    r = web.requests[-1]
    assert [seen(r, "X-Cap", n) for n in range(8)] == [
        "slui", "/some/path", "second, third", "abc", None, "", "conver", None]
    assert r.header("x-conv") == "converted"


def test_captures_are_per_transaction(sluice, backends):
    """Each request of a keep-alive connection starts with empty slots: a header the second
    request lacks leaves no value, even though the first one had it."""
    web = start(sluice, backends, "capture request header X-A len 20\n" +
                show("X-Cap", "capture.req.hdr", [0]))
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/1", headers=[("X-A", "one")]).status == 200
        assert c.roundtrip("GET", "/2").status == 200
        assert c.roundtrip("GET", "/3", headers=[("X-A", "three")]).status == 200
    assert [seen(r, "X-Cap", 0) for r in web.requests] == ["one", None, "three"]
    assert len({r.conn for r in web.requests}) == 1


def test_response_header_captures_in_response_rules(sluice, backends):
    """`capture response header` takes the server's headers before any http-response rule runs
    (a rule deleting the header does not change the capture), the last of repeated ones, cut
    at the slot's length; `http-response capture ... id` fills a declared response slot, and
    the request's captures are still there in response rules."""
    web = start(sluice, backends, """
        capture request header Host len 6
        capture response header X-Srv len 5
        declare capture response len 3
        capture response header X-None len 5
        http-response del-header X-Srv
        http-response capture status id 1
        http-response set-header X-Res-0 "%[capture.res.hdr(0)]"
        http-response set-header X-Res-1 "%[capture.res.hdr(1)]"
        http-response set-header X-Res-2-found 1 if { capture.res.hdr(2) -m found }
        http-response set-header X-Req-0 "%[capture.req.hdr(0)]"
    """)
    web.raw["dup"] = (b"HTTP/1.1 404 Not Found\r\nX-Srv: one\r\nX-Srv: two-long\r\n"
                      b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/raw/dup")
    assert resp.status == 404
    assert resp.header("x-srv") is None
    assert resp.header("x-res-0") == "two-l"
    assert resp.header("x-res-1") == "404"
    assert resp.header("x-res-2-found") is None
    assert resp.header("x-req-0") == "sluice"


def test_backend_rules_capture_into_the_frontend_slots(sluice, backends):
    """`declare capture` reserves slots that a backend's `http-request capture ... id` and
    `http-response capture ... id` fill; the frontend's rules read them. A backend rule naming
    a slot the frontend lacks is skipped at run time (HAProxy cannot check it when the config
    is read, since a backend may serve several frontends)."""
    web = start(sluice, backends, """
        declare capture request len 8
        declare capture response len 16
        http-response set-header X-From-Backend "%[capture.req.hdr(0)]"
        http-response set-header X-Res-From-Backend "%[capture.res.hdr(0)]"
    """, backend="""
        http-request capture req.hdr(x-id) id 0
        http-request capture req.hdr(x-id) id 5
        http-response capture res.hdr(content-type) id 0
        http-response capture res.hdr(content-type) id 9
    """)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/echo", headers=[("X-Id", "0123456789")])
    assert resp.status == 200
    assert resp.header("x-from-backend") == "01234567"
    assert resp.header("x-res-from-backend") == "application/json"
    assert len(web.requests) == 1


def test_request_line_and_version_captures(sluice, backends):
    """capture.req.method and capture.req.uri give the request as received (before a rule
    rewrote its path), in response rules too; the URI starts at the path of an absolute target,
    and the request line is kept up to 1023 bytes. capture.req.ver and capture.res.ver say
    HTTP/1.0 or HTTP/1.1."""
    start(sluice, backends, """
        http-request set-path /rewritten
        http-response set-header X-Method "%[capture.req.method]"
        http-response set-header X-Uri "%[capture.req.uri]"
        http-response set-header X-Uri-Len "%[capture.req.uri,length]"
        http-response set-header X-Req-Ver "%[capture.req.ver]"
        http-response set-header X-Res-Ver "%[capture.res.ver]"
    """)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("POST", "/some/where?x=1", body=b"hello")
        assert resp.status == 200
        assert (resp.header("x-method"), resp.header("x-uri")) == ("POST", "/some/where?x=1")
        assert (resp.header("x-req-ver"), resp.header("x-res-ver")) == ("HTTP/1.1", "HTTP/1.1")
        resp = c.roundtrip("GET", "http://sluice.test/abs/p?q")
        assert resp.header("x-uri") == "/abs/p?q"
        long_target = "/" + "a" * 1100
        resp = c.roundtrip("GET", long_target)
        assert resp.status == 200
        # "GET " and the first 1019 bytes of the target make the 1023 bytes kept.
        assert resp.header("x-uri-len") == "1019"
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/old", version="HTTP/1.0")
        assert resp.header("x-req-ver") == "HTTP/1.0"
        assert resp.header("x-uri") == "/old"


def test_tcp_request_content_capture_in_mode_http(sluice, backends):
    """`tcp-request content capture` takes the next request slot too; in mode http it runs for
    each request, before the http-request rules that read it."""
    web = start(sluice, backends, """
        capture request header Host len 20
        tcp-request content capture src len 15
        tcp-request content capture dst_port len 1
    """ + show("X-Cap", "capture.req.hdr", range(3)))
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/").status == 200
    r = web.requests[-1]
    port = str(sluice.port("fe"))
    assert [seen(r, "X-Cap", n) for n in range(3)] == ["sluice.test", "127.0.0.1", port[0]]


def test_tcp_request_content_capture_routes_in_mode_tcp(sluice, backends):
    """In mode tcp, a capture of the first bytes (waiting for them within the inspect delay)
    is readable by later content rules and by `use_backend`."""
    servers = {n: backends.named(n) for n in ("abc", "xyz", "other")}
    text = (f"{sluice.base(mode='tcp')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            + indent("""
                tcp-request inspect-delay 5s
                tcp-request content capture req.payload(0,4) len 3
                tcp-request content reject if { capture.req.hdr(0) -m str bad }
                use_backend %[capture.req.hdr(0)] if { capture.req.hdr(0) -m str abc xyz }
            """) + "    default_backend other\n")
    for n, s in servers.items():
        text += f"backend {n}\n    server {n} 127.0.0.1:{s.port}\n"
    sluice.start(text)

    def exchange(*pieces):
        with socket.create_connection(("127.0.0.1", sluice.port("fe")), timeout=5) as s:
            for i, piece in enumerate(pieces):
                if i:
                    time.sleep(0.2)  # the point: the capture waits for bytes that come late
                s.sendall(piece)
            got = b""
            try:
                while data := s.recv(4096):
                    got += data
            except ConnectionResetError:
                pass
            return got

    assert exchange(b"abcd") == b"abc\n"
    assert exchange(b"xy", b"z!") == b"xyz\n"
    assert exchange(b"abzz") == b"other\n"
    assert exchange(b"bad!") == b""
    assert [s.connections for s in servers.values()] == [1, 1, 1]


def test_captures_survive_a_rewritten_request(sluice, backends):
    """Header captures are taken when the request arrives: rules that delete or change the
    header afterwards do not change what was captured."""
    web = start(sluice, backends, """
        capture request header X-A len 20
        http-request set-header X-A changed
        http-request del-header X-A if { path /gone }
    """ + show("X-Cap", "capture.req.hdr", [0]))
    with http_connect(sluice.port("fe")) as c:
        c.send(build_request("GET", "/kept", headers=[("X-A", "original")]) +
               build_request("GET", "/gone", headers=[("X-A", "original2")]))
        assert c.response().status == 200
        assert c.response().status == 200
    assert [(r.header("x-a"), seen(r, "X-Cap", 0)) for r in web.requests] == [
        ("changed", "original"), (None, "original2")]
