"""http-check sequences of several request/response exchanges (`http-check connect` / `send` /
`expect` repeated) against fake HTTP servers the tests start. Each test pins HAProxy 2.6's
behaviour (what each server receives, on which connection, and the messages) and passes with
--sluice=/usr/sbin/haproxy too."""
import re
import signal
import socket

from conftest import LoopbackServer

PID = re.compile(r"\(\d+\)")
DURATION = re.compile(r"check duration: \d+ms")


class FakeHttp(LoopbackServer):
    """Answers each request read on a connection with `routes[path]` (status line and body),
    keeping the connection open unless the request says `Connection: close` or is HTTP/1.0.
    Keeps every request's head and the connection it came on."""

    def __init__(self, port, routes):
        self.routes = routes
        self.requests = []  # (connection number, head bytes)
        super().__init__(port)

    def serve(self, c, n):
        with c:
            c.settimeout(5)
            buf = b""
            try:
                while True:
                    while b"\r\n\r\n" not in buf:
                        data = c.recv(4096)
                        if not data:
                            return
                        buf += data
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    with self._lock:
                        self.requests.append((n, head + b"\r\n\r\n"))
                    line = head.split(b"\r\n")[0].decode()
                    path = line.split(" ")[1]
                    status, body = self.routes.get(path, ("404 Not Found", "nope"))
                    close = (line.endswith("HTTP/1.0")
                             or b"connection: close" in head.lower())
                    c.sendall(f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
                              f"{'Connection: close' if close else 'Connection: keep-alive'}"
                              f"\r\n\r\n{body}".encode())
                    if close:
                        c.shutdown(socket.SHUT_WR)
                        while c.recv(4096):
                            pass
                        return
            except OSError:
                pass

    def heads(self):
        with self._lock:
            return list(self.requests)


def state_lines(proc):
    return [DURATION.sub("check duration: Nms", PID.sub("(PID)", line))
            for line in proc.stderr_text().splitlines() if "Server " in line]


def wait_lines(proc, wait_for, n):
    wait_for(lambda: len(state_lines(proc)) >= n, what=f"{n} state lines")
    return state_lines(proc)


def down_line(reason):
    return (f"[WARNING]  (PID) : Server be/s1 is DOWN, reason: {reason}, check duration: Nms. "
            "0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining "
            "in queue.")


def up_line(reason):
    return (f"[WARNING]  (PID) : Server be/s1 is UP, reason: {reason}, check duration: Nms. "
            "1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.")


def start(sluice, backend):
    return sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    option httpchk
{backend}
""")


def test_two_connections(sluice, wait_for):
    """HAProxy 2.6: each `http-check connect` opens a new connection; each exchange sends its own
    request (later ones default to OPTIONS / HTTP/1.0, `option httpchk` only shapes the first)
    and is judged by its own expect rules; the second failing brings the server DOWN with its
    message, and passing brings it back UP with the last answer's code."""
    a_port, b_port = sluice.port("a"), sluice.port("b")
    a = FakeHttp(a_port, {"/a": ("200 OK", "fine")})
    b = FakeHttp(b_port, {"/b": ("200 OK", "bad")})
    try:
        proc = start(sluice, f"""    http-check connect
    http-check send meth GET uri /a ver HTTP/1.1 hdr Host h body hi
    http-check expect status 200
    http-check connect port {b_port}
    http-check send uri /b hdr X-Step two
    http-check expect string ok
    server s1 127.0.0.1:{a_port} check inter 150 rise 1""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer7 invalid response, info: \"HTTP content check did not match\"")
        b.routes["/b"] = ("201 Created", "ok")
        assert wait_lines(proc, wait_for, 2)[1] == up_line("Layer7 check passed, code: 201")
        # Header names go out in lower case.
        assert a.heads()[0][1] == (b"GET /a HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n"
                                   b"connection: close\r\n\r\n")
        assert b.heads()[0][1] == b"OPTIONS /b HTTP/1.0\r\nx-step: two\r\n\r\n"
    finally:
        a.stop()
        b.stop()


def test_first_exchange_fails_first(sluice, wait_for):
    """HAProxy 2.6: a failing first exchange ends the check; the second server is never
    asked. `send-state` adds the state header to every exchange's request."""
    a_port, b_port = sluice.port("a"), sluice.port("b")
    a = FakeHttp(a_port, {"/a": ("500 Oops", "")})
    b = FakeHttp(b_port, {"/b": ("200 OK", "ok")})
    try:
        proc = start(sluice, f"""    http-check send-state
    http-check connect
    http-check send uri /a
    http-check expect status 200
    http-check connect port {b_port}
    http-check send uri /b
    server s1 127.0.0.1:{a_port} check inter 150""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer7 wrong status, code: 500, info: \"Oops\"")
        assert b.heads() == []
        a.routes["/a"] = ("200 OK", "")
        wait_for(lambda: b.heads(), what="the second exchange")
        for server, uri in ((a, "/a"), (b, "/b")):
            assert server.heads()[-1][1].startswith(
                f"OPTIONS {uri} HTTP/1.0\r\nx-haproxy-server-state: ".encode())
    finally:
        a.stop()
        b.stop()


def test_one_request_per_connection(sluice):
    """HAProxy 2.6 refuses a second send without a connect before it, and an expect in an
    exchange that sent nothing (the first may use `option httpchk`'s request, unless a connect
    opened it), numbering the step by the connects and sends before it."""
    for rules, message in [
            (["send uri /a", "send uri /b"],
             "unable to add http-check send rule at step 2 (missing connect rule)."),
            (["connect", "send uri /a", "expect status 200", "send uri /b"],
             "unable to add http-check send rule at step 3 (missing connect rule)."),
            (["connect", "expect status 200"],
             "unable to add http-check expect rule at step 2 (missing send rule)."),
            (["connect", "send", "expect status 200", "connect port 81", "expect status 200"],
             "unable to add http-check expect rule at step 4 (missing send rule)."),
            (["send uri /a", "expect status 200", "connect port 81"],
             "first step MUST also be a 'connect'")]:
        out = sluice.check(sluice.base("http") + """
backend be
    option httpchk
""" + "".join(f"    http-check {r}\n" for r in rules))
        assert out.returncode != 0, rules
        assert message in out.stderr, out.stderr
    ok = sluice.check(sluice.base("http") + f"""
listen be
    bind 127.0.0.1:{sluice.port('fe')}
    option httpchk
    http-check expect status 200
    http-check expect string x
""")
    assert ok.returncode == 0, ok.stderr


def test_second_connect_refused(sluice, wait_for):
    """HAProxy 2.6: a refused later connect is a Layer4 connection problem (http-check messages
    name no step)."""
    a_port, dead = sluice.port("a"), sluice.port("dead")
    a = FakeHttp(a_port, {"/": ("200 OK", "")})
    try:
        proc = start(sluice, f"""    http-check connect
    http-check send
    http-check expect status 200
    http-check connect port {dead}
    http-check send
    server s1 127.0.0.1:{a_port} check inter 150""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer4 connection problem, info: \"Connection refused\"")
    finally:
        a.stop()


def test_send_state(sluice, wait_for):
    """HAProxy 2.6: `http-check send-state` adds x-haproxy-server-state to each check request:
    the state with the health counter while it moves ("UP 1/3" at start, "DOWN", "DOWN 1/2"),
    the server's address and port, names, node, its weight out of the active servers' in use,
    connections and queue."""
    port = sluice.port("srv")
    srv = FakeHttp(port, {"/h": ("500 KO", "")})
    try:
        sluice.start(sluice.base("http", extra_global="node mynode") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    option httpchk GET /h
    http-check send hdr Host x
    http-check send-state
    server s1 127.0.0.1:{port} check inter 100 rise 2 fall 3 weight 3
    server s2 127.0.0.1:{sluice.port('s2')} weight 5
    server s3 127.0.0.1:{sluice.port('s3')} weight 7 backup
""")

        def states():
            out = []
            for _, head in srv.heads():
                for line in head.decode().split("\r\n"):
                    if line.startswith("x-haproxy-server-state: "):
                        value = line.split(": ", 1)[1]
                        if not out or out[-1] != value:
                            out.append(value)
            return out
        wait_for(lambda: any(s.startswith("DOWN;") for s in states()), what="a DOWN state")
        srv.routes["/h"] = ("200 OK", "")
        wait_for(lambda: states()[-1].startswith("UP;"), what="back UP")
        rest = f"address=127.0.0.1; port={port}; name=be/s1; node=mynode"
        assert states() == [f"UP 1/3; {rest}; weight=3/8; scur=0/0; qcur=0",
                            f"DOWN; {rest}; weight=3/5; scur=0/0; qcur=0",
                            f"DOWN 1/2; {rest}; weight=3/5; scur=0/0; qcur=0",
                            f"UP; {rest}; weight=3/8; scur=0/0; qcur=0"]
        assert srv.heads()[0][1].startswith(b"GET /h HTTP/1.0\r\nhost: x\r\n"
                                            b"x-haproxy-server-state: UP 1/3;")
    finally:
        srv.stop()


def test_variables_and_log_format_request(sluice, wait_for):
    """HAProxy 2.6: `http-check set-var(check.x)` / `set-var-fmt` / `unset-var` run in sequence
    order on the check's own variables (reset at each run); `uri-lf`, `body-lf` and header
    values are log-format strings (a header rendered empty is not sent)."""
    port = sluice.port("srv")
    srv = FakeHttp(port, {"/x/y": ("200 OK", "")})
    try:
        proc = start(sluice, f"""    http-check set-var(check.a) str(x)
    http-check set-var-fmt(check.b) %[var(check.a)]/y
    http-check set-var(check.c) str(gone)
    http-check unset-var(check.c)
    http-check send meth POST uri-lf /%[var(check.b)] hdr X-A %[var(check.a)] hdr X-C %[var(check.c)] body-lf b=%[var(check.a)]
    http-check expect status 200
    server s1 127.0.0.1:{port} check inter 150""")
        wait_for(lambda: srv.heads(), what="a check request")
        assert srv.heads()[0][1] == (b"POST /x/y HTTP/1.0\r\nx-a: x\r\ncontent-length: 3\r\n"
                                     b"\r\n")
        assert state_lines(proc) == []
    finally:
        srv.stop()


def test_connect_port_from_a_variable(sluice, wait_for):
    """HAProxy 2.6: `http-check connect port` takes a sample expression (a check variable set
    before it)."""
    port, dead = sluice.port("srv"), sluice.port("dead")
    srv = FakeHttp(port, {"/": ("200 OK", "")})
    try:
        proc = start(sluice, f"""    http-check set-var(check.port) int({port})
    http-check connect port var(check.port)
    http-check send uri /
    server s1 127.0.0.1:{dead} check inter 150""")
        wait_for(lambda: srv.heads(), what="the check on the variable's port")
        assert state_lines(proc) == []
    finally:
        srv.stop()


def test_expect_messages_and_status_code(sluice, wait_for):
    """HAProxy 2.6: `http-check expect` options may follow the match; `on-error` replaces the
    failure text (the comment follows it), `on-success` the success text, `status-code` the
    code; with or without variables (two ways sluice runs a check)."""
    for with_var in (False, True):
        port = sluice.port(f"srv{with_var}")
        srv = FakeHttp(port, {"/": ("500 KO", "")})
        value = "%[var(check.x)]" if with_var else "%[str(vx)]"
        try:
            proc = start(sluice, (
                "    http-check set-var(check.x) str(vx)\n" if with_var else "") + f"""
    http-check expect status 200 on-error "e {value}" on-success "s {value}" status-code int(7) comment c
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
            assert wait_lines(proc, wait_for, 1)[0] == down_line(
                "Layer7 wrong status, code: 7, info: \"e vx comment: c\"")
            srv.routes["/"] = ("200 OK", "")
            assert wait_lines(proc, wait_for, 2)[1] == up_line(
                "Layer7 check passed, code: 7, info: \"s vx\"")
            proc.signal(signal.SIGTERM)
            proc.wait_exit()
        finally:
            srv.stop()


def test_expect_log_format_patterns(sluice, wait_for):
    """HAProxy 2.6: `expect string-lf` and `hdr name-lf ... value-lf ...` render their patterns
    at each check; a pattern rendered empty fails with "log-format string evaluated to an empty
    string"."""
    for with_var in (False, True):
        port = sluice.port(f"srv{with_var}")
        srv = FakeHttp(port, {"/": ("200 OK", "bad")})
        body = "%[var(check.b)]" if with_var else "%[str(ok)]"
        try:
            proc = start(sluice, (
                "    http-check set-var(check.b) str(ok)\n" if with_var else "") + f"""
    http-check expect hdr name-lf %[str(content-length)] value-lf %[str(3)]
    http-check expect string-lf {body}
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
            assert wait_lines(proc, wait_for, 1)[0] == down_line(
                "Layer7 invalid response, info: \"HTTP content check did not match\"")
            srv.routes["/"] = ("200 OK", "ok!")
            assert wait_lines(proc, wait_for, 2)[1] == up_line("Layer7 check passed, code: 200")
            proc.signal(signal.SIGTERM)
            proc.wait_exit()
        finally:
            srv.stop()
    port = sluice.port("srv")
    srv = FakeHttp(port, {"/": ("200 OK", "x")})
    try:
        proc = start(sluice, f"""    http-check expect string-lf %[var(check.none)]
    server s1 127.0.0.1:{port} check inter 150""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer7 invalid response, info: \"log-format string evaluated to an empty string\"")
    finally:
        srv.stop()
