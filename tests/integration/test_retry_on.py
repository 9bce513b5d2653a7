"""`retry-on` (issue #6): a request that went out is sent again when the server answers with a
listed status, closes without answering, sends junk, or times out, within `retries`, to
another server when `option redispatch` says so.

What a test pins is HAProxy 2.6's behaviour unless it says otherwise; each passes against
Debian's haproxy (`--sluice=/usr/sbin/haproxy`) too.
"""

import socket
import threading

import pytest

from conftest import http_connect


class FakeServer:
    """Answers every request the same way: `status` (a status line, no body), `close` (closes
    without a byte), `junk` (a line that is not HTTP) or `hang` (never answers)."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.requests = 0
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._held = []
        self._stop = False
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while not self._stop:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data = b""
        conn.settimeout(10)
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    conn.close()
                    return
                data += chunk
        except OSError:
            conn.close()
            return
        with self._lock:
            self.requests += 1
        if self.behaviour == "hang":
            self._held.append(conn)
            return
        if self.behaviour == "junk":
            conn.sendall(b"this is not http\r\n\r\n")
        elif self.behaviour != "close":
            conn.sendall(f"HTTP/1.1 {self.behaviour} X\r\nContent-Length: 0\r\n\r\n".encode())
        conn.close()

    def close(self):
        self._stop = True
        self._sock.close()
        for c in self._held:
            c.close()


@pytest.fixture
def fakes():
    made = []

    def make(behaviour):
        f = FakeServer(behaviour)
        made.append(f)
        return f
    yield make
    for f in made:
        f.close()


def start(sluice, lines, bad, good):
    text = (f"{sluice.base(mode='http')}listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    balance roundrobin\n    retries 3\n")
    text += "".join(f"    {line}\n" for line in lines)
    text += f"    server bad 127.0.0.1:{bad.port}\n    server good 127.0.0.1:{good.port}\n"
    sluice.start(text)


def get(sluice, target="/x"):
    with http_connect(sluice.port("lb")) as c:
        c.request("GET", target)
        return c.response()


@pytest.mark.parametrize("when,behaviour,extra", [
    ("503", "503", []),
    ("empty-response", "close", []),
    ("junk-response", "junk", []),
    ("response-timeout", "hang", ["timeout server 300ms"]),
    ("all-retryable-errors", "502", []),
])
def test_failed_request_is_redispatched_to_another_server(sluice, backends, fakes, when,
                                                          behaviour, extra):
    bad, good = fakes(behaviour), backends.http("good")
    start(sluice, [f"retry-on {when}", "option redispatch 1", *extra], bad, good)
    r = get(sluice)  # roundrobin: the first request goes to `bad`
    assert r.status == 200
    assert bad.requests == 1
    assert [q.target for q in good.requests] == ["/x"]


def test_without_redispatch_the_same_server_is_tried_until_retries_run_out(sluice, backends,
                                                                          fakes):
    """retries 3: the request reaches `bad` four times, then its 503 goes to the client."""
    bad, good = fakes("503"), backends.http("good")
    start(sluice, ["retry-on 503"], bad, good)
    assert get(sluice).status == 503
    assert bad.requests == 4
    assert good.requests == []


def test_by_default_a_response_is_never_retried(sluice, backends, fakes):
    """The default is conn-failure: a 503 from the server goes to the client as is."""
    bad, good = fakes("503"), backends.http("good")
    start(sluice, ["option redispatch 1"], bad, good)
    assert get(sluice).status == 503
    assert bad.requests == 1 and good.requests == []


def test_retry_on_errors_name_the_keyword(sluice):
    for words, message in (("foo", "unknown keyword 'foo'"), ("418", "unknown keyword '418'"),
                           ("", "needs at least one keyword"),
                           ("none 503", "only usable alone")):
        text = f"{sluice.base(mode='http')}backend b\n    retry-on {words}\n"
        r = sluice.check(text)
        assert r.returncode != 0
        assert message in r.stderr, r.stderr


def test_a_request_with_a_body_is_not_sent_again(sluice, backends, fakes, binary_is_haproxy):
    """Sluice keeps only bodiless requests for retry-on (a body streams through and is gone);
    HAProxy keeps a copy of any request that fits in a buffer. See doc/differences.md."""
    if binary_is_haproxy:
        pytest.skip("sluice's own limit")
    bad, good = fakes("503"), backends.http("good")
    start(sluice, ["retry-on 503", "option redispatch 1"], bad, good)
    with http_connect(sluice.port("lb")) as c:
        c.request("POST", "/form", body=b"a=1")
        assert c.response().status == 503
    assert bad.requests == 1 and good.requests == []


def test_disable_l7_retry_leaves_only_connection_failures(sluice, backends, fakes):
    """HAProxy: `http-request disable-l7-retry` turns retry-on off for the request (beyond
    conn-failure): the 503 goes to the client."""
    bad, good = fakes("503"), backends.http("good")
    start(sluice, ["retry-on 503", "option redispatch 1",
                   "http-request disable-l7-retry if { path_beg /no }"], bad, good)
    assert get(sluice, "/no").status == 503  # roundrobin: bad first
    assert bad.requests == 1
    # Round robin sends one of the next two to bad: retried on good.
    assert get(sluice, "/yes").status == 200
    assert get(sluice, "/yes").status == 200
    assert bad.requests == 2
    assert [q.target for q in good.requests] == ["/yes", "/yes"]
