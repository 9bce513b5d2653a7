"""`http-response wait-for-body time T [at-least N]` and the response body fetches (`res.body`,
`res.body_len`, `res.body_size`): the response rules after the wait see the response body, once
it is whole, or N payload bytes are in, or the buffer is full, or the server closed; at T the
client gets 504 instead.

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`). The server side is driven by the test itself (`Server`), piece
by piece, so that "the body came later" is what happens, not what a timer hopes. Header names
are compared without case (HAProxy lower-cases them, Sluice keeps them as written).
"""

import hashlib
import socket
import time

import pytest

from conftest import http_connect


class Server:
    """A loopback listener whose connections the test answers by hand."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.conns = []

    def accept(self):
        """The next connection, once its request head is in; returns (socket, head)."""
        conn, _ = self.sock.accept()
        conn.settimeout(10)
        self.conns.append(conn)
        return conn, self.request(conn)

    @staticmethod
    def request(conn):
        """The next request head on `conn` (these tests' requests have no body)."""
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(65536)
            assert data, "the proxy closed before a whole request head"
            head += data
        return head

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


SHOW = ('http-response set-header X-Seen "len=%[res.body_len] size=%[res.body_size] '
        'body=%[res.body]"')


def start(sluice, server, rules, defaults="", frontend=""):
    sluice.start(f"{sluice.base(mode='http')}{indent(defaults)}"
                 f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
                 f"    default_backend be\nbackend be\n{indent(rules)}"
                 f"    server s 127.0.0.1:{server.port}\n")


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def seen(resp):
    return resp.header("x-seen")


def test_rules_see_a_body_that_comes_after_the_head(sluice, server):
    """The head comes alone, the body in two pieces later: the rules after the wait see all of
    it, the client gets the response whole, and the connection carries on."""
    start(sluice, server, f"http-response wait-for-body time 10s\n{SHOW}")
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/a")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
        assert c.nothing_pending()
        s.sendall(b"xyz")
        assert c.nothing_pending()
        s.sendall(b"uvw")
        resp = c.response()
        assert (resp.status, resp.body) == (200, b"xyzuvw")
        assert seen(resp) == "len=6 size=6 body=xyzuvw"
        # The next response on the same connection, its body with its head, waits for nothing.
        # It is sent once the request is in: bytes that reach an idle server connection
        # before the proxy uses it again are no answer to anything, and both HAProxy and
        # Sluice then drop that connection and open another.
        c.request("GET", "/b")
        assert Server.request(s).startswith(b"GET /b ")
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        resp = c.response()
        assert (resp.body, seen(resp)) == (b"ok", "len=2 size=2 body=ok")


def test_chunked_response_read_without_its_framing(sluice, server):
    """A chunked body: the fetches read its payload (no chunk framing, no trailers), and the
    client gets the chunks and the trailers as the server sent them."""
    start(sluice, server, f"http-response wait-for-body time 10s\n{SHOW}")
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        assert c.nothing_pending()
        s.sendall(b"2\r\nde\r\n")
        assert c.nothing_pending()
        s.sendall(b"0\r\nX-Trailer: t\r\n\r\n")
        resp = c.response()
        assert resp.framing == "chunked"
        assert resp.body == b"abcde"
        assert [(n.lower(), v) for n, v in resp.trailers] == [("x-trailer", "t")]
        assert seen(resp) == "len=5 size=5 body=abcde"


def test_a_body_ending_at_the_close(sluice, server):
    """A response without length ends when the server closes: so does the wait."""
    start(sluice, server, f"http-response wait-for-body time 10s\n{SHOW}")
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nxyz")
        assert c.nothing_pending()
        s.sendall(b"uvw")
        s.close()
        resp = c.response()
        assert (resp.body, seen(resp)) == (b"xyzuvw", "len=6 size=6 body=xyzuvw")
        assert c.wait_closed() == b""


def test_at_least_ends_the_wait_early(sluice, server):
    """`at-least N`: the rules go on once N payload bytes are in; the rest follows."""
    start(sluice, server, f"http-response wait-for-body time 10s at-least 4\n{SHOW}")
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        assert c.nothing_pending()
        s.sendall(b"cde")
        s.sendall(b"fghij")
        resp = c.response()
        assert resp.body == b"abcdefghij"
        # At least the five bytes that ended the wait (a read may have taken more).
        length = int(seen(resp).split()[0].split("=")[1])
        assert 5 <= length <= 10


def test_a_body_larger_than_the_buffer(sluice, server):
    """The wait ends when the buffer is full: the rules see its first part, the advertised size
    says the rest, and the whole body reaches the client intact."""
    start(sluice, server, "http-response wait-for-body time 10s\n"
                          'http-response set-header X-Seen "%[res.body_len] %[res.body_size]"')
    body = bytes(range(256)) * 400
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert c.nothing_pending()
        s.sendall(body)
        resp = c.response()
        length, size = (int(v) for v in seen(resp).split())
        # tune.bufsize is 16384 in both; HAProxy keeps some of it in reserve (15226 in 2.6.12).
        assert 12000 < length < 16384
        assert size == len(body)
        assert resp.body_sha256 == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("framing", [b"Content-Length: 10\r\n", b"Connection: close\r\n"])
def test_504_when_the_body_does_not_come_in_time(sluice, server, framing):
    """At `time`, counted from the start of the wait, the client gets 504 and its connection
    carries on (even when the response would have ended it); the server's response is
    dropped."""
    start(sluice, server, f"http-response wait-for-body time 600ms\n{SHOW}")
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        began = time.monotonic()
        s.sendall(b"HTTP/1.1 200 OK\r\n" + framing + b"\r\npart")
        resp = c.response()
        waited = time.monotonic() - began
        assert resp.status == 504
        assert waited >= 0.55, f"504 after {waited:.3f}s"
        assert resp.header("connection") is None
        c.request("GET", "/next")
        s2, head = server.accept()
        assert head.startswith(b"GET /next ")
        s2.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        assert c.response().body == b"ok"


def test_time_0_waits_for_the_server_timeout(sluice, server):
    """`time 0` sets no limit of its own: `timeout server` (the server's silence) ends the wait,
    with 504."""
    start(sluice, server, "http-response wait-for-body time 0",
          defaults="timeout server 600ms")
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\npart")
        began = time.monotonic()
        assert c.response().status == 504
        assert time.monotonic() - began >= 0.5


def test_server_leaving_mid_wait(sluice, server):
    """The server closes before the body it announced is whole: the rules go on with what
    came, the client gets that much, then its connection is cut."""
    start(sluice, server, f"http-response wait-for-body time 10s\n{SHOW}")
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nxyz")
        assert c.nothing_pending()
        s.close()
        rest = c.wait_closed()
        head, _, body = rest.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"len=3 size=10 body=xyz" in head
        assert body == b"xyz"


@pytest.mark.parametrize("method,status", [("GET", 204), ("HEAD", 200), ("GET", 304)])
def test_no_body_no_wait(sluice, server, method, status):
    """A response that has no body (204, 304, an answer to HEAD) does not wait."""
    start(sluice, server, f"http-response wait-for-body time 10s\n{SHOW}")
    with http_connect(sluice.port("fe")) as c:
        c.request(method, "/")
        s, _ = server.accept()
        length = b"Content-Length: 5\r\n" if method == "HEAD" else b""
        s.sendall(b"HTTP/1.1 %d Whatever\r\n%s\r\n" % (status, length))
        resp = c.response(method=method)
        assert resp.status == status
        assert seen(resp).startswith("len=0 ")


def test_rules_before_the_wait_act_once(sluice, server):
    """The rules before the wait act once, as when HAProxy resumes them: a variable incremented
    once, a header added once, a condition that read the partial body stays as decided then.
    The frontend's rules and http-after-response come after the wait and see the whole body."""
    start(sluice, server, """
        http-request set-var(txn.n) int(1)
        http-response set-var(txn.n) var(txn.n),add(1)
        http-response add-header X-A "%[var(txn.n)]"
        http-response set-var(txn.early) str(yes) if { res.body_len ge 1 }
        http-response wait-for-body time 10s
        http-response add-header X-B "n=%[var(txn.n)] early=%[var(txn.early)] len=%[res.body_len]"
        http-after-response add-header X-After "%[res.body_len]"
    """, frontend='http-response set-header X-Fe "%[res.body_len]"')
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nxyz")
        assert c.nothing_pending()
        s.sendall(b"uvw")
        resp = c.response()
        assert resp.header_all("x-a") == ["2"]
        assert resp.header_all("x-b") == ["n=2 early=yes len=6"]
        assert resp.header("x-fe") == "6"
        assert resp.header("x-after") == "6"


def test_a_reply_after_the_wait_replaces_the_response(sluice, server):
    """A rule after the wait may answer instead of the server, on what the body says."""
    start(sluice, server, """
        http-response wait-for-body time 10s
        http-response deny deny_status 403 if { res.body -m sub secret }
    """)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nthe se")
        assert c.nothing_pending()
        s.sendall(b"cret!!")
        assert c.response().status == 403


def test_without_a_wait_the_fetches_see_what_came_with_the_head(sluice, server):
    """No wait-for-body: the body bytes that came with the head (one write here) are what the
    fetches see."""
    start(sluice, server, SHOW)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/")
        s, _ = server.accept()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz")
        assert seen(c.response()) == "len=3 size=3 body=xyz"


@pytest.mark.parametrize("line", [
    "http-response wait-for-body",
    "http-response wait-for-body time abc",
    "http-response wait-for-body time 1s at-least",
    "http-after-response wait-for-body time 1s",
    "http-request set-header X %[res.body_len]",
])
def test_bad_lines_fail_check(sluice, line):
    """What HAProxy 2.6 refuses, Sluice refuses, naming file:line."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    {line}\n    default_backend web\nbackend web\n")
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text)
    assert result.returncode != 0
    assert f":{line_no}]" in result.stdout + result.stderr
