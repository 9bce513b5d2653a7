"""Health checks: the scheduler, TCP connect checks, HTTP checks, state messages and what the
balancer does with a DOWN server. Each test pins HAProxy 2.6's behaviour (run against
/usr/sbin/haproxy with --sluice= as well) unless it says it checks a sluice addition."""
import re
import socket
import threading
import time
import urllib.request

import pytest

from test_log_targets import RFC3164_DATE, listeners  # noqa: F401  (the fixture)

PID = re.compile(r"\(\d+\)")
DURATION = re.compile(r"check duration: \d+ms")


def state_lines(proc):
    """The stderr lines about servers and backends, with the pid and durations made constant."""
    out = []
    for line in proc.stderr_text().splitlines():
        if "Server " in line or "has no server available" in line:
            out.append(DURATION.sub("check duration: Nms", PID.sub("(PID)", line)))
    return out


class FakeServer:
    """A loopback server the test starts, stops and restarts on the same port. In HTTP mode it
    reads a request head and answers `self.response` (bytes), counting requests by method; in
    TCP mode it accepts and closes."""

    def __init__(self, port, response=None):
        self.port = port
        self.response = response
        self.methods = []
        self._sock = None
        self._lock = threading.Lock()
        self.start()

    def start(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(128)
        self._sock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def stop(self):
        s, self._sock = self._sock, None
        if s:
            s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        with c:
            if self.response is None:
                return
            data = b""
            c.settimeout(5)
            try:
                while b"\r\n\r\n" not in data:
                    more = c.recv(4096)
                    if not more:
                        return
                    data += more
                with self._lock:
                    self.methods.append(data.split(b" ", 1)[0].decode())
                c.sendall(self.response)
            except OSError:
                pass

    def count(self, method):
        with self._lock:
            return self.methods.count(method)


def http_status(port, path="/"):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def ok_response(body=b"ok", ctype="text/plain"):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype.encode() + b"\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


@pytest.fixture
def fakes():
    made = []

    def make(port, response=None):
        f = FakeServer(port, response)
        made.append(f)
        return f
    yield make
    for f in made:
        f.stop()


def config(sluice, backend, mode="http"):
    return sluice.base(mode) + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
{backend}
"""


def test_tcp_check_marks_a_closed_port_down_at_once(sluice, wait_for):
    """HAProxy 2.6: a server with `check` starts UP with its health at `rise`, so the first
    failed check marks it DOWN whatever `fall` is; the messages name the Layer4 problem and
    the backend left without a server."""
    dead = sluice.port("dead")
    proc = sluice.start(config(sluice, f"    server s1 127.0.0.1:{dead} check inter 200 fall 3"))
    wait_for(lambda: len(state_lines(proc)) >= 2, what="the DOWN messages")
    assert state_lines(proc)[:2] == [
        "[WARNING]  (PID) : Server be/s1 is DOWN, reason: Layer4 connection problem, info: "
        "\"Connection refused\", check duration: Nms. 0 active and 0 backup servers left. "
        "0 sessions active, 0 requeued, 0 remaining in queue.",
        "[ALERT]    (PID) : backend 'be' has no server available!",
    ]
    # No usable server: 503 at once, with no connection attempt.
    start = time.monotonic()
    assert http_status(sluice.port("fe"))[0] == 503
    assert time.monotonic() - start < 1.0


def test_server_comes_back_up_after_rise_checks(sluice, wait_for, fakes):
    """HAProxy 2.6: a DOWN server passing `rise` checks in a row is UP again, with the Layer4
    message, and takes traffic again."""
    port = sluice.port("srv")
    proc = sluice.start(config(sluice, f"    server s1 127.0.0.1:{port} check inter 150 rise 3"))
    wait_for(lambda: any("is DOWN" in l for l in state_lines(proc)), what="DOWN")
    srv = fakes(port, ok_response())
    began = time.monotonic()
    wait_for(lambda: any("is UP" in l for l in state_lines(proc)), what="UP")
    # Three checks 150 ms apart: at least two intervals after the first success.
    assert time.monotonic() - began >= 0.25
    assert state_lines(proc)[-1] == (
        "[WARNING]  (PID) : Server be/s1 is UP, reason: Layer4 check passed, check duration: "
        "Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.")
    assert http_status(sluice.port("fe")) == (200, b"ok")
    assert srv.count("GET") == 1


def test_fall_timing_and_no_traffic_to_a_down_server(sluice, wait_for, fakes):
    """HAProxy 2.6: a fully healthy server goes DOWN after `fall` failed checks (here the check
    port closes while the traffic port stays open), then gets no new traffic."""
    a_port, b_port, health = sluice.port("a"), sluice.port("b"), sluice.port("health")
    a, b = fakes(a_port, ok_response(b"a")), fakes(b_port, ok_response(b"b"))
    h = fakes(health, ok_response())
    proc = sluice.start(config(sluice, f"""    option httpchk
    server a 127.0.0.1:{a_port} check port {health} inter 200 fall 3 rise 1
    server b 127.0.0.1:{b_port} check inter 200"""))
    # Both fully healthy once checked (rise 1: one success brings full health; a check request
    # read is one the server answers at once): every request alternates.
    wait_for(lambda: h.count("OPTIONS") >= 1 and b.count("OPTIONS") >= 1,
             what="a first check of each")
    assert {http_status(sluice.port("fe"))[1] for _ in range(4)} == {b"a", b"b"}
    h.stop()
    stopped = time.monotonic()
    wait_for(lambda: any("Server be/a is DOWN" in l for l in state_lines(proc)), what="a DOWN",
             timeout=5)
    elapsed = time.monotonic() - stopped
    # Three failures 200 ms apart (fastinter = inter): about 0.4 to 0.6 s after the close.
    assert 0.3 <= elapsed <= 1.5, elapsed
    assert state_lines(proc)[-1].startswith(
        "[WARNING]  (PID) : Server be/a is DOWN, reason: Layer4 connection problem, info: "
        "\"Connection refused\", check duration: Nms. 1 active and 0 backup servers left.")
    before = a.count("GET")
    assert [http_status(sluice.port("fe"))[1] for _ in range(10)] == [b"b"] * 10
    assert a.count("GET") == before


def test_running_on_backup_messages(sluice, wait_for, fakes, listeners):
    """HAProxy 2.6: when only backup servers are usable after a change, the counts are followed
    by "Running on backup." (a server going DOWN or coming UP, active or backup); with none
    left, only the separate alert; the log targets get the same text."""
    udp = listeners()
    ports = {name: sluice.port(name) for name in ("s", "b1", "b2")}
    srv = {name: fakes(port, ok_response(name.encode())) for name, port in ports.items()}
    proc = sluice.start(config(sluice, f"""    log {udp.target} local2
    server s 127.0.0.1:{ports['s']} check inter 100 rise 1 fall 1
    server b1 127.0.0.1:{ports['b1']} check inter 100 rise 1 fall 1 backup
    server b2 127.0.0.1:{ports['b2']} check inter 100 rise 1 fall 1 backup"""))
    refused = ("is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check "
               "duration: Nms. ")
    passed = "is UP, reason: Layer4 check passed, check duration: Nms. "
    left = " 0 sessions active, 0 requeued, 0 remaining in queue."
    online = " 0 sessions requeued, 0 total in queue."
    expected = []

    def step(name, up, line, *more):
        (srv[name].start if up else srv[name].stop)()
        expected.extend(["[WARNING]  (PID) : " + line, *more])
        wait_for(lambda: len(state_lines(proc)) >= len(expected), what=f"{name} {up}")
        assert state_lines(proc) == expected

    step("s", False, "Server be/s " + refused + "0 active and 2 backup servers left. Running on "
         "backup." + left)
    assert http_status(sluice.port("fe")) == (200, b"b1")
    step("b1", False, "Backup Server be/b1 " + refused + "0 active and 1 backup servers left. "
         "Running on backup." + left)
    assert http_status(sluice.port("fe")) == (200, b"b2")
    step("b2", False, "Backup Server be/b2 " + refused + "0 active and 0 backup servers left." +
         left, "[ALERT]    (PID) : backend 'be' has no server available!")
    step("b2", True, "Backup Server be/b2 " + passed + "0 active and 1 backup servers online. "
         "Running on backup." + online)
    step("s", True, "Server be/s " + passed + "1 active and 1 backup servers online." + online)
    assert http_status(sluice.port("fe")) == (200, b"s")

    # The log targets: the same words, DOWN as alerts (local2: <145>), UP as notices (<149>).
    texts = [line.split(" : ", 1)[1] for line in expected if "Server " in line]
    got = udp.wait(len(texts) + 1, "state messages")
    logged = [re.fullmatch(rb"<(?P<pri>\d+)>" + RFC3164_DATE + rb" \S+\[\d+\]: (?P<text>.*)\n", m)
              for m in got if b"has no server" not in m]
    assert [DURATION.sub("check duration: Nms", m["text"].decode()) for m in logged] == texts
    assert [m["pri"] for m in logged] == [b"145", b"145", b"145", b"149", b"149"]


def test_http_check_status_messages(sluice, wait_for, fakes):
    """HAProxy 2.6: `option httpchk` passes on 2xx/3xx; a 500 marks the server DOWN with the
    status and the reason phrase; a 200 again brings it UP with the code."""
    port = sluice.port("srv")
    srv = fakes(port, b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
    proc = sluice.start(config(sluice, f"""    option httpchk GET /health
    server s1 127.0.0.1:{port} check inter 150 rise 1"""))
    wait_for(lambda: len(state_lines(proc)) >= 2, what="DOWN")
    assert state_lines(proc)[:2] == [
        "[WARNING]  (PID) : Server be/s1 is DOWN, reason: Layer7 wrong status, code: 500, "
        "info: \"Internal Server Error\", check duration: Nms. 0 active and 0 backup servers "
        "left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "[ALERT]    (PID) : backend 'be' has no server available!",
    ]
    assert http_status(sluice.port("fe"))[0] == 503
    srv.response = ok_response()
    wait_for(lambda: any("is UP" in l for l in state_lines(proc)), what="UP")
    assert state_lines(proc)[2] == (
        "[WARNING]  (PID) : Server be/s1 is UP, reason: Layer7 check passed, code: 200, check "
        "duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in "
        "queue.")
    assert srv.count("GET") >= 2
    assert http_status(sluice.port("fe")) == (200, b"ok")


def test_http_check_expect_rules(sluice, wait_for, fakes):
    """HAProxy 2.6: expect rules run in order on one answer; a body mismatch is a Layer7
    invalid response, a header mismatch a wrong status with the reason phrase."""
    good, nobody = sluice.port("good"), sluice.port("nobody")
    body = b'{"status":"healthy"}'
    good_server = fakes(good, ok_response(body, "application/json; charset=utf-8"))
    fakes(nobody, ok_response(b"", "text/html"))
    proc = sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be1
backend be1
    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host api.example.com
    http-check expect status 200
    http-check expect hdr name content-type value -m sub application/json
    http-check expect string '{{"status":"healthy"}}'
    server s1 127.0.0.1:{good} check inter 150
backend be2
    option httpchk
    http-check expect hdr name content-type value -m sub application/json
    server s2 127.0.0.1:{nobody} check inter 150
backend be3
    option httpchk
    http-check expect ! rstring healthy
    server s3 127.0.0.1:{good} check inter 150
backend be4
    option httpchk
    http-check expect string healthy
    server s4 127.0.0.1:{nobody} check inter 150
""")
    wait_for(lambda: len(state_lines(proc)) >= 6, what="three backends DOWN")
    # A few more rounds of checks on the good server: be1 must stay silent through them.
    seen = len(good_server.methods)
    wait_for(lambda: len(good_server.methods) >= seen + 4, what="more checks on the good server")
    lines = [l for l in state_lines(proc) if "WARNING" in l]
    assert sorted(lines) == sorted([
        "[WARNING]  (PID) : Server be2/s2 is DOWN, reason: Layer7 wrong status, code: 200, "
        "info: \"OK\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions "
        "active, 0 requeued, 0 remaining in queue.",
        "[WARNING]  (PID) : Server be3/s3 is DOWN, reason: Layer7 invalid response, info: "
        "\"HTTP check matched unwanted content\", check duration: Nms. 0 active and 0 backup "
        "servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "[WARNING]  (PID) : Server be4/s4 is DOWN, reason: Layer7 invalid response, info: "
        "\"HTTP content check could not find a response body\", check duration: Nms. 0 active "
        "and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ])
    assert http_status(sluice.port("fe")) == (200, body)


def test_disable_on_404_stops_new_traffic(sluice, wait_for, fakes):
    """HAProxy 2.6: with `http-check disable-on-404` a 404 puts a running server in NOLB
    ("stopping"): it takes no new traffic, and a 200 brings it back."""
    port = sluice.port("srv")
    srv = fakes(port, ok_response())
    proc = sluice.start(config(sluice, f"""    option httpchk
    http-check disable-on-404
    server s1 127.0.0.1:{port} check inter 150"""))
    wait_for(lambda: srv.count("OPTIONS") >= 1, what="a first check")
    assert http_status(sluice.port("fe"))[0] == 200
    srv.response = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    wait_for(lambda: len(state_lines(proc)) >= 2, what="stopping")
    assert state_lines(proc)[:2] == [
        "[WARNING]  (PID) : Server be/s1 is stopping, reason: Layer7 check conditionally "
        "passed, code: 404, check duration: Nms. 0 active and 0 backup servers online. 0 "
        "sessions requeued, 0 total in queue.",
        "[ALERT]    (PID) : backend 'be' has no server available!",
    ]
    assert http_status(sluice.port("fe"))[0] == 503
    srv.response = ok_response()
    wait_for(lambda: http_status(sluice.port("fe"))[0] == 200, what="back in the farm")


def test_seed_block_warnings(sluice, binary_is_haproxy):
    """Sluice addition: the seed guide's block passes -c with a warning at each line HAProxy
    2.6 reads differently from what was meant (it refuses `header`, and drops the quotes)."""
    if binary_is_haproxy:
        pytest.skip("HAProxy 2.6 refuses 'http-check expect header'")
    out = sluice.check(sluice.base("http") + """
backend api_servers
    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host api.example.com
    http-check expect status 200
    http-check expect header Content-Type -m sub application/json
    http-check expect string {"status":"healthy"}
    server api1 10.0.9.10:8080 check inter 2s fall 3 rise 2
""", name="seed.cfg")
    assert out.returncode == 2, out.stderr  # valid, but no listener
    assert "[seed.cfg:15]" in out.stderr and "hdr name Content-Type value -m sub" in out.stderr
    assert "[seed.cfg:16]" in out.stderr and "'{\"status\":\"healthy\"}'" in out.stderr


@pytest.mark.parametrize("state", ["down", "fully-down"])
def test_init_state_down_waits_for_checks(sluice, wait_for, fakes, binary_is_haproxy, state):
    """Sluice addition (HAProxy 3.1's `init-state`; 2.6 refuses it): a server starting `down`
    takes no traffic until one check passes, `fully-down` until `rise` checks pass."""
    if binary_is_haproxy:
        pytest.skip("HAProxy 2.6 has no init-state")
    port, health = sluice.port("srv"), sluice.port("health")
    fakes(port, ok_response())
    proc = sluice.start(config(sluice, f"    server s1 127.0.0.1:{port} check port {health} "
                                       f"inter 150 rise 3 init-state {state}"))
    # The traffic port answers, but the server is DOWN until its checks pass: 503.
    assert http_status(sluice.port("fe"))[0] == 503
    fakes(health)
    began = time.monotonic()
    wait_for(lambda: any("is UP" in l for l in state_lines(proc)), what="UP")
    if state == "fully-down":  # three checks 150 ms apart
        assert time.monotonic() - began >= 0.25
    assert http_status(sluice.port("fe")) == (200, b"ok")
    assert not any("is DOWN" in l for l in state_lines(proc))


def test_init_state_fully_up_takes_fall_failures(sluice, wait_for, fakes, binary_is_haproxy):
    """Sluice addition (HAProxy 3.1's `init-state fully-up`): a server starting fully up goes
    DOWN only after `fall` failed checks, where the default goes DOWN at the first."""
    if binary_is_haproxy:
        pytest.skip("HAProxy 2.6 has no init-state")
    port = sluice.port("srv")
    srv = fakes(port, b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    proc = sluice.start(config(sluice, f"    option httpchk\n    server s1 127.0.0.1:{port} "
                                       f"check inter 100 fall 3 init-state fully-up"))
    wait_for(lambda: any("is DOWN" in l for l in state_lines(proc)), what="DOWN")
    # The fake counts a check when it reads its request, before answering: three failed.
    assert srv.count("OPTIONS") >= 3
