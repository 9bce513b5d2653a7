"""`option mysql-check` against a fake MySQL server the tests start (a v10 handshake, then an
OK or an ERR packet). Each test pins HAProxy 2.6's behaviour (the bytes the check sends, which
answers pass, the messages) and passes with --sluice=/usr/sbin/haproxy too."""
import re
import socket

from conftest import LoopbackServer

PID = re.compile(r"\(\d+\)")
DURATION = re.compile(r"check duration: \d+ms")


def packet(seq, body):
    n = len(body)
    return bytes([n & 0xff, (n >> 8) & 0xff, n >> 16, seq]) + body


HANDSHAKE = packet(0, b"\x0a" + b"5.7.99-fake\x00" + b"\x01\x00\x00\x00" + b"abcdefgh\x00"
                   + b"\xff\xf7\x21\x02\x00\xff\x81\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00"
                   + b"mysql_native_password\x00")
OK = packet(2, b"\x00\x00\x00\x02\x00\x00\x00")


def err(seq, code, text):
    return packet(seq, b"\xff" + bytes([code & 0xff, code >> 8]) + text)


class FakeMysql(LoopbackServer):
    """Each connection gets `greeting` at once; what the client sends is kept; `answer` (or
    None: nothing) is sent after the first bytes come. `close`: the server closes after its
    answer (a real server closes on COM_QUIT)."""

    def __init__(self, port, greeting=HANDSHAKE, answer=OK, close=True):
        self.greeting, self.answer, self.close = greeting, answer, close
        self.received = []
        self.eofs = 0
        super().__init__(port)

    def serve(self, c, _number):
        with c:
            c.settimeout(5)
            try:
                if self.greeting:
                    c.sendall(self.greeting)
                answered = False
                while True:
                    data = c.recv(4096)
                    if not data:
                        with self._lock:
                            self.eofs += 1
                        return
                    with self._lock:
                        self.received.append(data)
                    if not answered and self.answer:
                        answered = True
                        c.sendall(self.answer)
                        if self.close:
                            c.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def first(self):
        with self._lock:
            return self.received[0] if self.received else None


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
    return sluice.start(sluice.base("tcp") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
{backend}
""")


POST41_AUTH = bytes.fromhex(
    "29000001" "00820000" "00800001" "21" + "00" * 23 + "686170726f787900" "00" "0100000001")
PRE41_AUTH = bytes.fromhex("0e000001" "0080" "000001" "686170726f787900" "00" "0100000001")


def test_user_post41_err_then_ok(sluice, wait_for):
    """HAProxy 2.6: with a user, a 4.1 client authentication packet and COM_QUIT go out at once;
    an ERR packet after the handshake is a wrong status with the MySQL error code and text; an
    OK packet passes with code 0 and no text (the server version is not shown)."""
    port = sluice.port("srv")
    srv = FakeMysql(port, answer=err(2, 1045, b"#28000Access denied for user 'haproxy'"))
    try:
        proc = start(sluice, f"""    option mysql-check user haproxy
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer7 wrong status, code: 1045, info: \"#28000Access denied for user 'haproxy'\"")
        assert b"".join(srv.received[:1]) == POST41_AUTH
        srv.answer = OK
        assert wait_lines(proc, wait_for, 2)[1] == up_line("Layer7 check passed, code: 0")
        # The check closes with a FIN (no reset MySQL would count as an aborted connection).
        wait_for(lambda: srv.eofs >= 1, what="a clean close")
    finally:
        srv.stop()


def test_user_pre41(sluice, wait_for):
    """HAProxy 2.6: `pre-41` sends the old 4.0 authentication packet."""
    port = sluice.port("srv")
    srv = FakeMysql(port, answer=err(2, 1045, b"denied"))
    try:
        proc = start(sluice, f"""    option mysql-check user haproxy pre-41
    server s1 127.0.0.1:{port} check inter 150""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer7 wrong status, code: 1045, info: \"denied\"")
        assert srv.first() == PRE41_AUTH
    finally:
        srv.stop()


def test_no_user_handshake_only(sluice, wait_for):
    """HAProxy 2.6: without a user nothing is sent; an ERR packet in place of the handshake
    (a blocked host) is a wrong status; a handshake passes."""
    port = sluice.port("srv")
    srv = FakeMysql(port, greeting=err(0, 1129, b"Host '127.0.0.1' is blocked"), answer=None)
    try:
        proc = start(sluice, f"""    option mysql-check
    server s1 127.0.0.1:{port} check inter 150 rise 1""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer7 wrong status, code: 1129, info: \"Host '127.0.0.1' is blocked\"")
        srv.greeting = HANDSHAKE
        assert wait_lines(proc, wait_for, 2)[1] == up_line("Layer7 check passed, code: 0")
        assert srv.received == []
    finally:
        srv.stop()


def test_user_handshake_refused(sluice, wait_for):
    """HAProxy 2.6: with a user, an ERR packet in place of the handshake fails at once."""
    port = sluice.port("srv")
    srv = FakeMysql(port, greeting=err(0, 1040, b"Too many connections"), answer=None,
                    close=False)
    try:
        proc = start(sluice, f"""    option mysql-check user haproxy
    server s1 127.0.0.1:{port} check inter 150""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line(
            "Layer7 wrong status, code: 1040, info: \"Too many connections\"")
    finally:
        srv.stop()


def test_truncated_answer(sluice, wait_for):
    """HAProxy 2.6: a packet shorter than its length, then a close, is an invalid response
    without text."""
    port = sluice.port("srv")
    srv = FakeMysql(port, greeting=None, answer=HANDSHAKE[:10])
    try:
        proc = start(sluice, f"""    option mysql-check user haproxy
    server s1 127.0.0.1:{port} check inter 150""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line("Layer7 invalid response")
    finally:
        srv.stop()


def test_handshake_without_answer_times_out(sluice, wait_for):
    """HAProxy 2.6: a handshake and then silence is a Layer7 timeout."""
    port = sluice.port("srv")
    srv = FakeMysql(port, answer=None, close=False)
    try:
        proc = start(sluice, f"""    option mysql-check user haproxy
    timeout check 200
    server s1 127.0.0.1:{port} check inter 150""")
        assert wait_lines(proc, wait_for, 1)[0] == down_line("Layer7 timeout")
    finally:
        srv.stop()


def test_config_errors(sluice, binary_is_haproxy):
    """HAProxy 2.6 refuses other words than `user NAME [post-41|pre-41]` (sluice says which
    keyword in its own prefix)."""
    base = sluice.base("tcp") + "backend be\n    "
    for line, message in [
            ("option mysql-check usr x", "only supports optional values: 'user' (got 'usr')."),
            ("option mysql-check user", "'option mysql-check user' expects <username> as "
             "argument."),
            ("option mysql-check user x post-42",
             "keyword 'user' only supports 'post-41' and 'pre-41' (got 'post-42')."),
            ("option mysql-check user x pre-41 y", "cannot handle unexpected argument 'y'.")]:
        out = sluice.check(base + line + "\n")
        assert out.returncode != 0, line
        assert message in out.stderr, out.stderr
    ok = sluice.check(sluice.base("tcp") + f"""
listen mysql_cluster
    bind 127.0.0.1:{sluice.port('fe')}
    option mysql-check user haproxy
    balance leastconn
    server mysql1 127.0.0.1:3306 check
    server mysql2 127.0.0.1:3307 check backup
""")
    assert ok.returncode == 0, ok.stderr
