"""`observe layer4|layer7`, `error-limit` and `on-error` (issue #6): what the proxied traffic
sees of a server feeds its health check. Each test pins HAProxy 2.6's behaviour and passes
against /usr/sbin/haproxy too (`--sluice=/usr/sbin/haproxy`): the messages are compared byte
for byte after the pid."""
import socket
import struct
import threading

from conftest import http_connect, wait_for

from test_checks_basic import FakeServer, state_lines


def down_line(backend, errors, last, sessions=1):
    """HAProxy's message for a server marked DOWN by health analysis: no check duration; the
    stream that saw the last error still counts among the server's sessions."""
    return (f"[WARNING]  (PID) : Server {backend}/s1 is DOWN, reason: Health analyze, info: "
            f"\"Detected {errors} consecutive errors, last one was: {last}\". 0 active and 0 "
            f"backup servers left. {sessions} sessions active, 0 requeued, 0 remaining in queue.")


def no_server(backend):
    return f"[ALERT]    (PID) : backend '{backend}' has no server available!"


def http_config(sluice, app, server_opts, check_port=None, backend_lines=(), nbthread=1):
    """frontend fe (with `monitor-uri /alive`, answered by the proxy itself) to backend be with
    one server s1 on `app`; its check is `option httpchk GET /check`, on `check_port` when
    given."""
    port = f" port {check_port}" if check_port else ""
    text = (f"{sluice.base(mode='http', nbthread=nbthread)}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    monitor-uri /alive\n    default_backend be\n"
            "backend be\n    option httpchk GET /check\n    retries 0\n")
    text += "".join(f"    {line}\n" for line in backend_lines)
    text += f"    server s1 127.0.0.1:{app.port} check{port} {server_opts}\n"
    return text


def get(sluice, target):
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", target)
        return c.response().status


def settled(sluice):
    """A request the proxy answers itself: once it is answered, what the previous requests
    posted to the check's loop (nbthread 1) has been handled."""
    assert get(sluice, "/alive") == 200


def downs(proc):
    return [line for line in state_lines(proc) if "is DOWN" in line]


def first_check_passed(sluice, checked):
    """Waits for the first check to be answered (the server closed its connection), then for
    one proxied request: the check's answer came before that request's, so the check has been
    judged (nbthread 1)."""
    wait_for(lambda: checked.closed_connections >= 1, what="the first check")
    assert get(sluice, "/") == 200


def test_layer4_refused_connections_mark_down(sluice, backends):
    """mode tcp, a server refusing connections: error-limit 3 failed connects mark it DOWN."""
    FakeServer(sluice.port("check"))  # its check passes
    dead = backends.dead_port()
    proc = sluice.start(
        f"{sluice.base(mode='tcp')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
        "    default_backend be\nbackend be\n    retries 0\n"
        f"    server s1 127.0.0.1:{dead} check port {sluice.port('check')} inter 10s "
        "observe layer4 error-limit 3 on-error mark-down\n")
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", sluice.port("fe")), timeout=10) as c:
            c.sendall(b"x")
            try:
                assert c.recv(10) == b""  # no server answered
            except ConnectionResetError:  # sluice closes with the client's byte unread
                pass
    wait_for(lambda: downs(proc), what="s1 DOWN")
    assert state_lines(proc) == [down_line("be", 3, "L4 unsuccessful connection"),
                                 no_server("be")]


def test_layer7_default_limit_and_fail_check(sluice, backends):
    """Default on-error (fail-check) and error-limit (10): with fall 1, one failed check is DOWN;
    nine 500s are not enough, the tenth is."""
    app = backends.http()
    proc = sluice.start(http_config(sluice, app, "inter 10s fall 1 observe layer7"))
    for _ in range(9):
        assert get(sluice, "/status/500") == 500
    settled(sluice)
    assert downs(proc) == []
    assert get(sluice, "/status/500") == 500
    wait_for(lambda: downs(proc), what="s1 DOWN")
    assert state_lines(proc) == [down_line("be", 10, "Wrong http response"), no_server("be")]
    assert get(sluice, "/") == 503  # no server left


def test_good_response_resets_the_count_and_501_505_are_good(sluice, backends):
    app = backends.http()
    proc = sluice.start(http_config(
        sluice, app, "inter 10s fall 1 observe layer7 error-limit 2 on-error mark-down"))
    for target in ("/status/500", "/status/200", "/status/502", "/status/501",
                   "/status/503", "/status/505", "/status/404", "/status/504"):
        get(sluice, target)
    settled(sluice)
    assert downs(proc) == []
    assert get(sluice, "/status/503") == 503
    wait_for(lambda: downs(proc), what="s1 DOWN")
    assert state_lines(proc) == [down_line("be", 2, "Wrong http response"), no_server("be")]


def test_fail_check_counts_as_one_failed_check(sluice, backends):
    """rise 1 fall 2: once fully UP, error-limit 2 reached once leaves s1 UP; twice, DOWN."""
    app = backends.http()
    proc = sluice.start(http_config(
        sluice, app, "inter 10s rise 1 fall 2 observe layer7 error-limit 2 on-error fail-check"))
    first_check_passed(sluice, app)
    for _ in range(2):
        assert get(sluice, "/status/500") == 500
    settled(sluice)
    assert downs(proc) == []
    for _ in range(2):
        assert get(sluice, "/status/500") == 500
    wait_for(lambda: downs(proc), what="s1 DOWN")
    assert state_lines(proc) == [down_line("be", 2, "Wrong http response"), no_server("be")]


def test_sudden_death_leaves_one_check_and_forces_fastinter(sluice, backends):
    """rise 1 fall 3: after sudden-death s1 is still UP, but the next check, brought forward to
    fastinter, fails and marks it DOWN: the second check of all (fail-check would leave two)."""
    app, checked = backends.http("app"), backends.http("checked")
    checked.raw["chk"] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    proc = sluice.start(http_config(
        sluice, app, "inter 30s fastinter 200ms rise 1 fall 3 observe layer7 error-limit 1 "
        "on-error sudden-death", check_port=checked.port).replace("GET /check", "GET /raw/chk"))
    first_check_passed(sluice, checked)
    checked.raw["chk"] = b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"
    assert get(sluice, "/status/500") == 500
    settled(sluice)
    assert downs(proc) == []
    wait_for(lambda: downs(proc), what="s1 DOWN by its next check")
    assert len(checked.requests) == 2  # DOWN checks wait for inter (30s)
    lines = state_lines(proc)
    assert lines == ["[WARNING]  (PID) : Server be/s1 is DOWN, reason: Layer7 wrong status, "
                     "code: 503, info: \"Busy\", check duration: Nms. 0 active and 0 backup "
                     "servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
                     no_server("be")]


def test_fastinter_mode_only_brings_the_next_check_forward(sluice, backends):
    app, checked = backends.http("app"), backends.http("checked")
    proc = sluice.start(http_config(
        sluice, app, "inter 30s fastinter 100ms fall 1 observe layer7 error-limit 1 "
        "on-error fastinter", check_port=checked.port))
    first_check_passed(sluice, checked)
    assert get(sluice, "/status/500") == 500
    # The next check comes after fastinter, not after inter (30s).
    wait_for(lambda: len(checked.requests) >= 2, timeout=5, what="a check at fastinter")
    settled(sluice)
    assert downs(proc) == []
    assert get(sluice, "/") == 200


def response_error_cases():
    """(target, backend lines, reason, status, sessions): after a close or a timeout HAProxy
    no longer counts the stream among the server's sessions; after a bad head it still does."""
    return [
        ("/die-before-headers", [], "Close from server (http)", 502, 0),
        ("/hang", ["timeout server 200ms"], "Read timeout (http)", 504, 0),
        ("/garbage", [], "Invalid http response (headers)", 502, 1),
        ("/raw/cut", [], "Close from server (http)", 502, 0),  # a head cut by a close
        ("/raw/badchunk", [], "Invalid http response (headers)", 502, 1),  # with its head
    ]


def test_layer7_response_errors_name_the_last_one(sluice, backends):
    """mark-down at the first error, for each kind of bad answer; one proxy per kind."""
    for target, lines, reason, status, sessions in response_error_cases():
        app = backends.http()
        app.raw["cut"] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"  # then a close
        app.raw["badchunk"] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"
        proc = sluice.start(http_config(
            sluice, app, "inter 10s observe layer7 error-limit 1 on-error mark-down",
            backend_lines=lines))
        assert get(sluice, target) == status
        # The two lines are two writes: wait for both, not only the first.
        wait_for(lambda: len(state_lines(proc)) >= 2, what=f"s1 DOWN after {target}")
        assert state_lines(proc) == [down_line("be", 1, reason, sessions), no_server("be")]
        sluice.stop_all()


def test_layer7_connect_failure_counts(sluice, backends):
    """layer7 judges connections too: a refused one is an error."""
    dead = backends.dead_port()

    class Dead:
        port = dead

    checked = FakeServer(sluice.port("check"))
    assert checked
    proc = sluice.start(
        http_config(sluice, Dead, "inter 10s observe layer7 error-limit 2 on-error mark-down",
                    check_port=sluice.port("check")).replace("option httpchk GET /check\n", ""))
    for _ in range(2):
        assert get(sluice, "/") == 503
    wait_for(lambda: downs(proc), what="s1 DOWN")
    assert state_lines(proc) == [down_line("be", 2, "L4 unsuccessful connection"),
                                 no_server("be")]


def test_errors_seen_by_every_thread_add_up(sluice, backends):
    """nbthread 4: requests land on any thread, the count is the server's; the change is made
    by the thread of the server's check. `inter 60s`: a passing check (it resets the count)
    lands among the six requests far less often than with the default spread of 2 s."""
    app = backends.http()
    proc = sluice.start(http_config(
        sluice, app, "inter 60s fall 1 observe layer7 error-limit 6 on-error mark-down",
        nbthread=4))
    for _ in range(6):
        assert get(sluice, "/status/500") == 500
    wait_for(lambda: downs(proc), what="s1 DOWN")
    assert state_lines(proc) == [down_line("be", 6, "Wrong http response"), no_server("be")]


class Resetting:
    """Reads each request head, then resets the connection instead of answering."""

    def __init__(self):
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                c, _ = self._sock.accept()
            except OSError:
                return
            data = b""
            c.settimeout(5)
            try:
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

    def close(self):
        self._sock.close()


def test_layer7_reset_before_answering_is_a_read_error(sluice):
    app = Resetting()
    FakeServer(sluice.port("check"))
    try:
        proc = sluice.start(http_config(
            sluice, app, "inter 10s observe layer7 error-limit 1 on-error mark-down",
            check_port=sluice.port("check")).replace("option httpchk GET /check\n", ""))
        assert get(sluice, "/") == 502
        wait_for(lambda: len(state_lines(proc)) >= 2, what="s1 DOWN")  # two lines, two writes
        assert state_lines(proc) == [down_line("be", 1, "Read error (http)", 0),
                                     no_server("be")]
    finally:
        app.close()


def test_layer4_ignores_what_the_server_answers(sluice, backends):
    """observe layer4 in an http proxy: only connections count, a 500 or a bad answer does not."""
    app = backends.http()
    proc = sluice.start(http_config(
        sluice, app, "inter 10s fall 1 observe layer4 error-limit 1 on-error mark-down"))
    for target in ("/status/500", "/garbage", "/die-before-headers", "/status/503"):
        get(sluice, target)
    settled(sluice)
    assert downs(proc) == []
    assert get(sluice, "/") == 200
