"""Health checks speaking a protocol: `tcp-check` sequences and the protocol options
(`redis-check`, `smtpchk`, `pgsql-check`, `ldap-check`, `ssl-hello-chk`) against fake servers
the tests start. Each test pins HAProxy 2.6's behaviour (the bytes the check sends, the
messages) and passes with --sluice=/usr/sbin/haproxy too."""
import re
import socket

import pytest

from conftest import LoopbackServer

PID = re.compile(r"\(\d+\)")
DURATION = re.compile(r"check duration: \d+ms")


def state_lines(proc):
    out = []
    for line in proc.stderr_text().splitlines():
        if "Server " in line:
            out.append(DURATION.sub("check duration: Nms", PID.sub("(PID)", line)))
    return out


class FakeTcp(LoopbackServer):
    """A loopback server: each connection gets `greeting` (bytes, may be empty), then for each
    chunk received `answer(chunk)` is sent back (None: close). Everything received is kept."""

    def __init__(self, port, greeting=b"", answer=None, close_after=True):
        self.greeting = greeting
        self.answer = answer
        self.close_after = close_after
        self.received = []
        super().__init__(port)

    def serve(self, c, _number):
        with c:
            c.settimeout(5)
            try:
                if self.greeting:
                    c.sendall(self.greeting)
                while True:
                    data = c.recv(4096)
                    if not data:
                        return
                    with self._lock:
                        self.received.append(data)
                    reply = self.answer(data) if self.answer else None
                    if reply is None:
                        return
                    c.sendall(reply)
                    if self.close_after:
                        c.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def first(self):
        with self._lock:
            return self.received[0] if self.received else None


@pytest.fixture
def fake():
    made = []

    def make(*args, **kwargs):
        f = FakeTcp(*args, **kwargs)
        made.append(f)
        return f
    yield make
    for f in made:
        f.stop()


def start(sluice, backend):
    return sluice.start(sluice.base("tcp") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
{backend}
""")


def down_line(reason):
    return (f"[WARNING]  (PID) : Server be/s1 is DOWN, reason: {reason}, check duration: Nms. "
            "0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining "
            "in queue.")


def up_line(reason):
    return (f"[WARNING]  (PID) : Server be/s1 is UP, reason: {reason}, check duration: Nms. "
            "1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.")


def wait_lines(proc, wait_for, n):
    wait_for(lambda: len(state_lines(proc)) >= n, what=f"{n} state lines")
    return state_lines(proc)


def test_tcp_check_sequence_fails_then_passes(sluice, wait_for, fake):
    """HAProxy 2.6: a send/expect sequence; a wrong answer fails at its step with the pattern,
    a right one brings the server UP with "(tcp-check)"."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: b"-NOPE\r\n")
    proc = start(sluice, f"""    option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 invalid response, info: \"TCPCHK did not match content '+PONG' at step 2\"")
    assert srv.first() == b"PING\r\n"
    srv.answer = lambda d: b"+PONG\r\n"
    assert wait_lines(proc, wait_for, 2)[1] == up_line(
        "Layer7 check passed, code: 0, info: \"(tcp-check)\"")


def test_tcp_check_several_exchanges(sluice, wait_for, fake):
    """HAProxy 2.6: several send/expect exchanges on one connection (the answer to one
    request is forgotten when the next is sent); steps count from the first rule; with
    min-recv reached a mismatch is final; an expect `comment` follows the message."""
    port = sluice.port("srv")
    answers = {b"A\r\n": b"A-ok\r\n", b"B\r\n": b"B-bad\r\n"}
    fake(port, answer=lambda d: answers.get(d, b"?\r\n"), close_after=False)
    proc = start(sluice, f"""    option tcp-check
    tcp-check connect
    tcp-check send A\\r\\n
    tcp-check expect string A-ok
    tcp-check send-binary 420d0a
    tcp-check expect min-recv 5 rstring ^B-ok comment second\\ answer
    server s1 127.0.0.1:{port} check inter 150""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 invalid response, info: \"TCPCHK did not match content (regex) at step 5 "
        "comment: second answer\"")


def test_tcp_check_binary_and_negation(sluice, wait_for, fake):
    """HAProxy 2.6: `! string` fails on the unwanted content; `error-status L7STS` reports a
    wrong status with code 0."""
    port = sluice.port("srv")
    fake(port, answer=lambda d: b"+OK ERR\r\n")
    proc = start(sluice, f"""    option tcp-check
    tcp-check send-binary 50494e470d0a
    tcp-check expect binary 2b4f4b
    tcp-check expect ! string ERR error-status L7STS
    server s1 127.0.0.1:{port} check inter 150""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 wrong status, code: 0, info: \"TCPCHK matched unwanted content 'ERR' at "
        "step 3\"")


def test_tcp_check_timeout_names_the_step_and_comment(sluice, wait_for, fake):
    """HAProxy 2.6: a server that never answers times the expect out; the message names the
    step (a `tcp-check comment` is a step), the pattern and that comment."""
    port = sluice.port("srv")
    fake(port, greeting=b"hello\r\n", answer=lambda d: b"", close_after=False)
    proc = start(sluice, f"""    option tcp-check
    tcp-check comment banner
    tcp-check expect string world
    server s1 127.0.0.1:{port} check inter 200""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 timeout, info: \" at step 2 of tcp-check (expect string 'world') comment: "
        "'banner'\"")


def test_tcp_check_connect_step_refused(sluice, wait_for, fake):
    """HAProxy 2.6: a refused `tcp-check connect` names its step and port; without a connect
    rule the initial connection is named."""
    port, dead = sluice.port("srv"), sluice.port("dead")
    fake(port, answer=lambda d: b"+PONG\r\n")
    proc = start(sluice, f"""    option tcp-check
    tcp-check connect port {dead}
    tcp-check expect string x
    server s1 127.0.0.1:{port} check inter 150""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        f"Layer4 connection problem, info: \"Connection refused at step 1 of tcp-check "
        f"(connect port {dead})\"")


def test_tcp_check_initial_connection_refused(sluice, wait_for):
    dead = sluice.port("dead")
    proc = start(sluice, f"""    option tcp-check
    tcp-check expect string x
    server s1 127.0.0.1:{dead} check inter 150""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer4 connection problem, info: \"Connection refused at initial connection step of "
        "tcp-check\"")


def test_redis_check(sluice, wait_for, fake):
    """HAProxy 2.6: `option redis-check` sends PING as a RESP array; -ERR is a wrong status
    showing the line; +PONG is "Redis server is ok"."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: b"-ERR oops\r\n")
    proc = start(sluice, f"""    option redis-check
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 wrong status, code: 0, info: \"-ERR oops\"")
    assert srv.first() == b"*1\r\n$4\r\nPING\r\n"
    srv.answer = lambda d: b"+PONG\r\n"
    assert wait_lines(proc, wait_for, 2)[1] == up_line(
        "Layer7 check passed, code: 0, info: \"Redis server is ok\"")


def test_smtp_check(sluice, wait_for, fake):
    """HAProxy 2.6: `option smtpchk EHLO domain`: a 554 greeting is a wrong status with its
    code and text; a 220 greeting and a 250 answer to EHLO pass with the answer's text."""
    port = sluice.port("srv")
    srv = fake(port, greeting=b"554 go away\r\n", answer=lambda d: b"250 hello there\r\n",
               close_after=False)
    proc = start(sluice, f"""    option smtpchk EHLO me.example
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 wrong status, code: 554, info: \"go away\"")
    srv.greeting = b"220 mail ready\r\n"
    assert wait_lines(proc, wait_for, 2)[1] == up_line(
        "Layer7 check passed, code: 250, info: \"hello there\"")
    assert srv.first() == b"EHLO me.example\r\n"


def test_pgsql_check(sluice, wait_for, fake):
    """HAProxy 2.6: `option pgsql-check user NAME` sends a StartupMessage; an ErrorResponse is
    an invalid response showing its severity; AuthenticationOk passes."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: b"E\x00\x00\x00\x10SFATAL\x00Mnope\x00\x00")
    proc = start(sluice, f"""    option pgsql-check user bob
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 invalid response, info: \"FATAL\"")
    assert srv.first() == b"\x00\x00\x00\x12\x00\x03\x00\x00user\x00bob\x00\x00"
    srv.answer = lambda d: b"R\x00\x00\x00\x08\x00\x00\x00\x00"
    assert wait_lines(proc, wait_for, 2)[1] == up_line(
        "Layer7 check passed, code: 0, info: \"PostgreSQL server is ok\"")


def ldap_bind_response(code):
    return bytes([0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, code, 0x04, 0x00,
                  0x04, 0x00])


def test_ldap_check(sluice, wait_for, fake):
    """HAProxy 2.6: `option ldap-check` sends an anonymous bind; a non-zero result code is a
    wrong status pointing at the RFC; result 0 passes."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: ldap_bind_response(49))
    proc = start(sluice, f"""    option ldap-check
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    lines = wait_lines(proc, wait_for, 1)
    assert srv.first() == bytes.fromhex("300c020101600702010304008000")
    assert lines[0] == down_line(
        "Layer7 wrong status, code: 49, info: \"See RFC: "
        "http://tools.ietf.org/html/rfc4511#section-4.1.9\"")
    srv.answer = lambda d: ldap_bind_response(0)
    assert wait_lines(proc, wait_for, 2)[1] == up_line(
        "Layer7 check passed, code: 0")


def test_ldap_check_not_ldap(sluice, wait_for, fake):
    port = sluice.port("srv")
    fake(port, answer=lambda d: b"HTTP/1.0 400 Bad\r\n\r\n")
    proc = start(sluice, f"""    option ldap-check
    server s1 127.0.0.1:{port} check inter 150""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 invalid response, info: \"Not LDAPv3 protocol\"")


def test_ssl_hello_check(sluice, wait_for, fake):
    """HAProxy 2.6: `option ssl-hello-chk` sends an SSLv3 ClientHello; a non-TLS answer is a
    Layer6 invalid response; a TLS record (here an alert) passes at Layer6."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: b"hello world\r\n")
    proc = start(sluice, f"""    option ssl-hello-chk
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line("Layer6 invalid response")
    hello = srv.first()
    assert hello[:11] == bytes.fromhex("1603000079010000750300")
    assert hello[15:43] == b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n"
    assert len(hello) == 5 + 0x79
    srv.answer = lambda d: bytes.fromhex("15030100020228")
    assert wait_lines(proc, wait_for, 2)[1].startswith(
        "[WARNING]  (PID) : Server be/s1 is UP, reason: Layer6 check passed")


def test_tcp_check_variables_and_log_format_sends(sluice, wait_for, fake):
    """HAProxy 2.6: `tcp-check set-var(check.x)` sets the check's variables for the steps after
    it; `send-lf` renders a log-format string, `send-binary-lf` one of hex digits."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: b"+PONG\r\n" if d.endswith(b"A\r\n") else b"",
               close_after=False)
    proc = start(sluice, f"""    option tcp-check
    tcp-check set-var(check.w) str(PING)
    tcp-check send-lf %[var(check.w)]\\r\\n
    tcp-check set-var(check.h) str(410d0a)
    tcp-check send-binary-lf %[var(check.h)]
    tcp-check expect string +PONG
    server s1 127.0.0.1:{port} check inter 150""")
    wait_for(lambda: b"".join(srv.received).startswith(b"PING\r\nA\r\n"), what="both sends")
    assert state_lines(proc) == []


def test_tcp_check_connect_port_from_a_variable(sluice, wait_for, fake):
    """HAProxy 2.6: `tcp-check connect port` takes a sample expression, here a check variable
    set before the connect: the check goes to that port, not the server's."""
    port, dead = sluice.port("srv"), sluice.port("dead")
    srv = fake(port, answer=lambda d: b"+PONG\r\n")
    proc = start(sluice, f"""    option tcp-check
    tcp-check set-var(check.port) int({port})
    tcp-check connect port var(check.port)
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG
    server s1 127.0.0.1:{dead} check inter 150""")
    wait_for(lambda: srv.first() == b"PING\r\n", what="the check on the variable's port")
    assert state_lines(proc) == []


def test_tcp_check_expect_messages_and_status_code(sluice, wait_for, fake):
    """HAProxy 2.6: an expect's `on-error` log-format replaces the failure text (the rule's
    comment follows it), `on-success` the success text, and `status-code` gives the code."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: b"-ERR\r\n")
    proc = start(sluice, f"""    option tcp-check
    tcp-check set-var(check.x) str(vx)
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG on-error "err %[var(check.x)]" on-success "ok %[var(check.x)]" status-code int(42) comment cmt
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 invalid response, info: \"err vx comment: cmt\"")
    srv.answer = lambda d: b"+PONG\r\n"
    assert wait_lines(proc, wait_for, 2)[1] == up_line(
        "Layer7 check passed, code: 42, info: \"ok vx\"")


def test_tcp_check_expect_log_format_patterns(sluice, wait_for, fake):
    """HAProxy 2.6: `expect string-lf` / `binary-lf` render their pattern at each check (here
    from a check variable); a mismatch names the log-format kind, not the pattern."""
    port = sluice.port("srv")
    srv = fake(port, answer=lambda d: b"-ERR\r\n")
    proc = start(sluice, f"""    option tcp-check
    tcp-check set-var(check.x) str(PONG)
    tcp-check set-var(check.h) str(0d0a)
    tcp-check send PING\\r\\n
    tcp-check expect string-lf +%[var(check.x)]
    tcp-check expect binary-lf %[var(check.h)]
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
    assert wait_lines(proc, wait_for, 1)[0] == down_line(
        "Layer7 invalid response, info: \"TCPCHK did not match content (log-format string) at "
        "step 4\"")
    srv.answer = lambda d: b"+PONG\r\n"
    assert wait_lines(proc, wait_for, 2)[1] == up_line(
        "Layer7 check passed, code: 0, info: \"(tcp-check)\"")
