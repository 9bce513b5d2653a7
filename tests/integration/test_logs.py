"""Traffic logs (issue #8): `option httplog`, `option tcplog`, `log-format`, captures, timers and
termination states. Each case runs the same requests through the binary under test and, when
it is not HAProxy itself, through Debian's haproxy 2.6 on the same config: their log lines,
received by a UDP listener in the test, must match field by field, with only times, ports and
dates masked (and the syslog header's program name and pid)."""

import os
import re
import socket
import struct

import pytest

from conftest import Sluice, cli_exchange, http_connect, wait_for

HAPROXY = "/usr/sbin/haproxy"


class SyslogListener:
    """A UDP syslog receiver on a free loopback port; `.lines()` are the messages so far, the
    header up to the program's `name[pid]: ` cut off."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.raw = []  # the whole datagrams

    def lines(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            text = data.decode("utf-8", "replace").rstrip("\n")
            self.raw.append(text)
            self.received.append(re.sub(r"^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d [\w.-]+\[\d+\]: ", "",
                                        text))
        return list(self.received)

    def close(self):
        self.sock.close()


def run_both(sluice, tmp_path, config_for, scenario, raw=None):
    """Runs `scenario(proxy, port_of)` against the binary under test and, unless it is haproxy,
    against Debian's haproxy too, each with its own log listener. Returns the two lists of log
    lines (the second None when haproxy is not there or is the binary under test)."""
    results = []
    runners = [sluice]
    if not sluice.is_haproxy and os.path.exists(HAPROXY):
        other = Sluice(HAPROXY, True, tmp_path / "haproxy")
        (tmp_path / "haproxy").mkdir()
        runners.append(other)
    try:
        for runner in runners:
            listener = SyslogListener()
            try:
                runner.start(config_for(runner, listener.port))
                expected = scenario(runner)
                wait_for(lambda: len(listener.lines()) >= expected, what=f"{expected} log lines")
                results.append(listener.lines())
                if raw is not None:
                    raw[runner.binary] = list(listener.raw)
            finally:
                listener.close()
    finally:
        for runner in runners[1:]:
            problems = runner.stop_all()
            assert not problems, problems
    return results[0], (results[1] if len(results) > 1 else None)


def mask_timers(field):
    """Timer values differ from run to run; -1 (a phase not reached) and logasap's '+' stay."""
    return "/".join(t if t.startswith("-") else ("+N" if t.startswith("+") else "N")
                    for t in field.split("/"))


def mask_counts(field):
    """%ac/%fc/%bc/%sc/%rc: how many other connections the process, frontend, backend and
    server still count when the line is made is a race with the previous test connection's end
    (seen under the sanitizers: a previous stream still ending held its server slot); the
    retries are not."""
    parts = field.split("/")
    return "/".join(["N", "N", "N", "N"] + parts[4:])


# The fields of httplog that may differ between two runs or by design: the client port, the
# date, the timers, the response size (sluice keeps header names' case and has its own error
# pages' text: doc/differences.md; the sizes are checked against what the client received
# instead), and the concurrent connections of the process and frontend.
def mask_http(line):
    f = line.split(" ")
    f[0] = re.sub(r":\d+$", ":PORT", f[0])
    f[1] = "[DATE]"
    f[4] = mask_timers(f[4])
    f[6] = "B" if f[6] != "0" else "0"
    f[10] = mask_counts(f[10])
    return f


def mask_tcp(line):
    f = line.split(" ")
    f[0] = re.sub(r":\d+$", ":PORT", f[0])
    f[1] = "[DATE]"
    f[4] = mask_timers(f[4])
    f[7] = mask_counts(f[7])
    return f


def http_config(backends):
    web = backends.http("web")
    dead = backends.dead_port()

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n"
                "    option httplog\n"
                "    timeout server 1s\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n"
                "    capture request header Host len 32\n"
                "    capture request header User-Agent len 10\n"
                "    capture response header Content-Type len 32\n"
                "    http-request deny if { path /deny }\n"
                "    use_backend dead if { path /dead }\n"
                "    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port}\n"
                f"backend dead\n    server gone 127.0.0.1:{dead}\n")
    return config_for


def raw_exchange(port, data, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        if read:
            out = b""
            while chunk := s.recv(65536):
                out += chunk
            return out
        return b""


def test_httplog_matches_haproxy(sluice, backends, tmp_path):
    """httplog lines of a normal request, a 404, a denied request, a dead server, a server
    timeout, a bad request and two keep-alive requests, field by field as haproxy's."""
    received = {}

    def scenario(runner):
        port = runner.port("fe")
        sizes = received.setdefault(runner.binary, [])
        for target in ("/echo", "/status/404", "/deny", "/dead", "/hang"):
            sizes.append(len(raw_exchange(port, f"GET {target} HTTP/1.1\r\nHost: example.test\r\n"
                                                "User-Agent: test-agent/1.0 with a long tail\r\n"
                                                "Connection: close\r\n\r\n".encode())))
        raw_exchange(port, b"GARBAGE\r\n\r\n")
        with http_connect(port) as c:
            for target in ("/echo?a=1", "/status/201"):
                c.request("GET", target, host="ka.test")
                c.response()
        return 8

    ours, theirs = run_both(sluice, tmp_path, http_config(backends), scenario)
    assert len(ours) == 8, ours
    if not sluice.is_haproxy:
        # %B is what the client received, headers included. (HAProxy 2.6 counts its internal
        # form: 4 bytes less per header field; doc/logging.md.)
        assert [int(line.split(" ")[6]) for line in ours[:5]] == received[sluice.binary]
    got = [mask_http(line) for line in ours]
    # What a line says beyond the masked fields, pinned: HAProxy 2.6's httplog (client, date,
    # frontend, backend/server, timers, status, bytes, cookies, termination state, counts,
    # queues, captured headers, request line).
    assert got[0][2:4] == ["fe", "be/web"] and got[0][5] == "200" and got[0][7:10] == [
        "-", "-", "----"]
    assert got[0][12] == "{example.test|test-agent}" and got[0][-3:] == [
        '"GET', "/echo", 'HTTP/1.1"']
    assert got[2][3] == "fe/<NOSRV>" and got[2][5] == "403" and got[2][9] == "PR--"
    assert got[3][3] == "dead/gone" and got[3][5] == "503" and got[3][9] == "SC--"
    assert got[4][5] == "504" and got[4][9] == "sH--"
    assert got[5][3] == "fe/<NOSRV>" and got[5][5] == "400" and got[5][9] == "PR--"
    assert got[5][-1] == '"<BADREQ>"'
    assert got[6][-2] == "/echo?a=1" and got[7][5] == "201"
    if theirs is not None:
        assert len(theirs) == len(ours), theirs
        for mine, hx in zip(ours, theirs):
            assert mask_http(mine) == mask_http(hx), f"\nsluice:  {mine}\nhaproxy: {hx}"


def test_custom_log_format_of_the_seed(sluice, backends, tmp_path):
    """The seed guide's custom log-format line renders field for field as haproxy renders it."""
    web = backends.http("web")

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n"
                '    log-format "%ci:%cp [%t] %ft %b/%s %Tq/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc '
                '%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"\n'
                "    capture request header Host len 32\n"
                "    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port}\n")

    def scenario(runner):
        raw_exchange(runner.port("fe"), b"GET /echo HTTP/1.1\r\nHost: seed.test\r\n"
                                        b"Connection: close\r\n\r\n")
        return 1

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)
    f = mask_http(ours[0])
    assert f[2:4] == ["fe", "be/web"] and f[5] == "200" and f[9] == "----"
    if theirs is not None:
        assert mask_http(ours[0]) == mask_http(theirs[0]), f"\n{ours[0]}\n{theirs[0]}"


def test_tcplog_and_dontlognull(sluice, backends, tmp_path):
    """tcplog lines of a forwarded session and a refused server; a connection that carried
    nothing is not logged under dontlognull."""
    echo = backends.echo("echo")
    dead = backends.dead_port()

    def config_for(runner, log_port):
        return (runner.base("tcp", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n    option tcplog\n    option dontlognull\n"
                f"listen ok\n    bind 127.0.0.1:{runner.port('ok')}\n"
                f"    server echo 127.0.0.1:{echo.port}\n"
                f"listen refused\n    bind 127.0.0.1:{runner.port('refused')}\n"
                f"    server gone 127.0.0.1:{dead}\n")

    def scenario(runner):
        socket.create_connection(("127.0.0.1", runner.port("ok")), timeout=5).close()  # null
        with socket.create_connection(("127.0.0.1", runner.port("ok")), timeout=5) as s:
            s.sendall(b"hello")
            assert s.recv(5) == b"hello"
        raw_exchange(runner.port("refused"), b"x")
        return 2

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)
    assert len(ours) == 2, ours
    got = [mask_tcp(line) for line in ours]
    assert got[0][2:4] == ["ok", "ok/echo"] and got[0][5] == "5" and got[0][6] == "--"
    assert got[1][2:4] == ["refused", "refused/gone"] and got[1][6] == "SC"
    if theirs is not None:
        assert len(theirs) == len(ours), theirs
        for mine, hx in zip(ours, theirs):
            assert mask_tcp(mine) == mask_tcp(hx), f"\nsluice:  {mine}\nhaproxy: {hx}"


def test_capture_cookie(sluice, backends, tmp_path):
    """`capture cookie NAME len N`: %CC and %CS show the first request cookie and response
    Set-Cookie whose name starts with NAME, "name=value" cut at N, as haproxy shows them."""
    web = backends.http("web")
    web.raw["cookie"] = (b"HTTP/1.1 200 OK\r\nSet-Cookie: other=1\r\n"
                         b"Set-Cookie: SIDY=resp4567890; path=/\r\ncontent-length: 0\r\n\r\n")

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n    option httplog\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n"
                "    capture cookie SID len 10\n"
                "    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port}\n")

    def scenario(runner):
        raw_exchange(runner.port("fe"), b"GET /raw/cookie HTTP/1.1\r\nHost: c.test\r\n"
                                        b"Cookie: a=1; SIDX=req123; SIDZ=2\r\n"
                                        b"Connection: close\r\n\r\n")
        raw_exchange(runner.port("fe"), b"GET /echo HTTP/1.1\r\nHost: c.test\r\n"
                                        b"Connection: close\r\n\r\n")
        return 2

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)
    assert [mask_http(line)[7:9] for line in ours] == [["SIDX=req12", "SIDY=resp4"], ["-", "-"]]
    if theirs is not None:
        for mine, hx in zip(ours, theirs):
            assert mask_http(mine) == mask_http(hx), f"\nsluice:  {mine}\nhaproxy: {hx}"


def test_json_log_lines(sluice, backends, tmp_path, binary_is_haproxy):
    """Sluice's `option httplog json`: one JSON object per line, with the httplog fields."""
    if binary_is_haproxy:
        pytest.skip("Sluice's own addition")
    import json
    web = backends.http("web")
    listener = SyslogListener()
    try:
        sluice.start(sluice.base("http", extra_global=f"log 127.0.0.1:{listener.port} local0") +
                     "    log global\n    option httplog json\n"
                     f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
                     "    default_backend be\n"
                     f"backend be\n    server web 127.0.0.1:{web.port}\n")
        raw_exchange(sluice.port("fe"), b'GET /echo?q="x" HTTP/1.1\r\nHost: j.test\r\n'
                                        b"Connection: close\r\n\r\n")
        wait_for(lambda: listener.lines(), what="the log line")
        record = json.loads(listener.lines()[0])
    finally:
        listener.close()
    assert record["ci"] == "127.0.0.1" and record["ST"] == 200 and record["b"] == "be"
    assert record["s"] == "web" and record["tsc"] == "----"
    assert record["r"] == 'GET /echo?q="x" HTTP/1.1'


def test_proxy_header_errors_are_logged(sluice, backends, tmp_path):
    """A connection that fails before its stream (a bad or missing PROXY header) gets HAProxy's
    error line: "CLIENT:PORT [DATE] FRONTEND/BIND: WHY", BIND the bind's number or name."""
    web = backends.http("web")

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n    option httplog\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')} accept-proxy\n"
                f"    bind 127.0.0.1:{runner.port('named')} accept-proxy name second\n"
                "    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port}\n")

    def scenario(runner):
        with socket.create_connection(("127.0.0.1", runner.port("fe")), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\n\r\n")
            try:
                s.recv(100)
            except ConnectionResetError:
                pass
        socket.create_connection(("127.0.0.1", runner.port("named")), timeout=5).close()
        return 2

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)
    masked = [re.sub(r"^127\.0\.0\.1:\d+ \[[^]]+\] ", "", line) for line in ours]
    assert masked == [
        "fe/1: Received something which does not look like a PROXY protocol header",
        "fe/second: Connection closed while waiting for PROXY protocol header"]
    if theirs is not None:
        assert [re.sub(r"^127\.0\.0\.1:\d+ \[[^]]+\] ", "", line) for line in theirs] == masked


def test_set_log_level(sluice, backends, tmp_path):
    """`http-request set-log-level`: `silent` leaves the transaction out of the logs, a level
    changes the line's syslog priority (local0.err is <131>), as haproxy does."""
    web = backends.http("web")
    pris = {}

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n    option httplog\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n"
                "    http-request set-log-level silent if { path /quiet }\n"
                "    http-request set-log-level err if { path /loud }\n"
                "    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port}\n")

    def scenario(runner):
        for target in ("/quiet", "/loud", "/echo"):
            raw_exchange(runner.port("fe"), f"GET {target} HTTP/1.1\r\nHost: l.test\r\n"
                                            "Connection: close\r\n\r\n".encode())
        return 2

    raw = {}
    ours, theirs = run_both(sluice, tmp_path, config_for, scenario, raw)
    assert [line.split(" ")[-2] for line in ours] == ["/loud", "/echo"]
    assert [d[:5] for d in raw[sluice.binary]] == ["<131>", "<134>"]
    if theirs is not None:
        assert [d[:5] for d in raw[HAPROXY]] == ["<131>", "<134>"]


def test_tcp_rules_set_log_level(sluice, backends, tmp_path):
    """`tcp-request content set-log-level` and `tcp-response content set-log-level` in mode
    tcp, and tcp-request content's in mode http: `silent` drops the line, a level sets its
    priority (local0.err is <131>, local0.warning <132>, info <134>), as haproxy does."""
    echo = backends.echo("echo")
    web = backends.http("web")

    def config_for(runner, log_port):
        return (runner.base("tcp", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n"
                f"listen t\n    bind 127.0.0.1:{runner.port('t')}\n    option tcplog\n"
                "    tcp-request inspect-delay 2s\n"
                "    tcp-request content set-log-level silent if { req.payload(0,5) -m str quiet }\n"
                "    tcp-request content set-log-level err if { req.payload(0,4) -m str loud }\n"
                "    tcp-response inspect-delay 2s\n"
                "    tcp-response content set-log-level warning if { res.payload(0,4) -m str warn }\n"
                f"    server echo 127.0.0.1:{echo.port}\n"
                f"frontend h\n    mode http\n    bind 127.0.0.1:{runner.port('h')}\n"
                "    option httplog\n"
                "    tcp-request content set-log-level err if { req.hdr(host) -m str loud.test }\n"
                "    default_backend web\n"
                f"backend web\n    mode http\n    server web 127.0.0.1:{web.port}\n")

    def scenario(runner):
        for word in (b"quiet", b"loud", b"warn", b"plain"):
            with socket.create_connection(("127.0.0.1", runner.port("t")), timeout=10) as s:
                s.sendall(word)
                got = b""
                while len(got) < len(word):
                    got += s.recv(64)
                assert got == word
        for host in ("loud.test", "calm.test"):
            raw_exchange(runner.port("h"), f"GET /echo HTTP/1.1\r\nHost: {host}\r\n"
                                           "Connection: close\r\n\r\n".encode())
        return 5

    raw = {}
    ours, theirs = run_both(sluice, tmp_path, config_for, scenario, raw)
    assert [d[:5] for d in raw[sluice.binary]] == ["<131>", "<132>", "<134>", "<131>", "<134>"]
    if theirs is not None:
        assert [d[:5] for d in raw[HAPROXY]] == ["<131>", "<132>", "<134>", "<131>", "<134>"]


def test_connect_line_without_a_format(sluice, backends, tmp_path):
    """A proxy with log targets and no traffic format logs HAProxy's "Connect from" line per
    connection."""
    web = backends.http("web")

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port}\n"
                f"listen t\n    mode tcp\n    bind 127.0.0.1:{runner.port('t')}\n"
                f"    server web 127.0.0.1:{web.port}\n")

    def scenario(runner):
        raw_exchange(runner.port("fe"), b"GET /echo HTTP/1.1\r\nHost: c.test\r\n"
                                        b"Connection: close\r\n\r\n")
        socket.create_connection(("127.0.0.1", runner.port("t")), timeout=5).close()
        return 2

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)
    mask = [re.sub(r"127\.0\.0\.1:\d+ to", "127.0.0.1:PORT to", line) for line in ours]
    assert mask == [f"Connect from 127.0.0.1:PORT to 127.0.0.1:{sluice.port('fe')} (fe/HTTP)",
                    f"Connect from 127.0.0.1:PORT to 127.0.0.1:{sluice.port('t')} (t/TCP)"]


def probe(port, how):
    """One connection that sends no whole request: `fin` (connect, shut down), `rst`
    (connect, reset), `timeout` (connect, wait), `partial-fin`/`partial-rst` (half a request
    line first). Returns what came back (None after a reset)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        if how.startswith("partial"):
            s.sendall(b"GET / HT")
        if how.endswith("rst"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return None
        if how.endswith("fin"):
            s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out
    finally:
        s.close()


@pytest.mark.parametrize("option", ["", "option dontlognull", "option http-ignore-probes"])
def test_probes_and_cut_requests(sluice, backends, tmp_path, option):
    """A connection that ends or times out before its first request's first byte (a browser's
    pre-connect): HAProxy 2.6 answers 400 (end, reset) or 408 (timeout http-request), counts a
    failed request and a request, and logs "<BADREQ>" with CR--/cR--; dontlognull keeps those
    lines out; option http-ignore-probes closes such connections silently. A head cut by the
    client's end or reset is a bad request whatever the options."""
    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0\n"
                            f"    stats socket {runner.sock_path('admin')} level admin") +
                f"    log global\n    option httplog\n    {option}\n"
                "    timeout http-request 300ms\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n"
                f"    default_backend be\nbackend be\n    server s 127.0.0.1:{dead}\n")

    dead = backends.dead_port()
    answers = {}
    counters = {}
    cases = ("fin", "rst", "timeout", "partial-fin", "partial-rst")

    def scenario(runner):
        got = answers.setdefault(runner.binary, {})
        failed = logged = 0
        for how in cases:
            got[how] = probe(runner.port("fe"), how)
            if how.startswith("partial") or "ignore" not in option:
                failed += 1
                if how.endswith("rst"):
                    # Nothing comes back after a reset: the proxy's count says it was read.
                    wait_for(lambda: frontend_row(runner)["ereq"] == str(failed),
                             what="the reset counted")
            if how.startswith("partial") or not option:
                logged += 1
        counters[runner.binary] = frontend_row(runner)
        return logged

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)
    mine = answers[sluice.binary]
    if "ignore" in option:
        assert mine["fin"] == b"" and mine["timeout"] == b""
    else:
        assert mine["fin"].startswith(b"HTTP/1.1 400 ")
        assert mine["timeout"].startswith(b"HTTP/1.1 408 ")
    assert mine["partial-fin"].startswith(b"HTTP/1.1 400 ")
    failed = 2 if "ignore" in option else 5
    row = counters[sluice.binary]
    assert (row["ereq"], row["req_tot"], row["hrsp_4xx"]) == (str(failed),) * 3
    expected = {"fin": "400 CR--", "rst": "400 CR--", "timeout": "408 cR--",
                "partial-fin": "400 CR--", "partial-rst": "400 CR--"}
    kept = [how for how in cases if how.startswith("partial") or not option]
    assert len(ours) == len(kept), ours
    for line, how in zip(ours, kept):
        f = mask_http(line)
        assert f[-1] == '"<BADREQ>"' and f[3] == "fe/<NOSRV>", line
        assert f"{f[5]} {f[9]}" == expected[how], line
    if theirs is not None:
        assert sorted(map(mask_http, ours)) == sorted(map(mask_http, theirs)), (ours, theirs)
        assert counters[HAPROXY] == row


def frontend_row(runner):
    """The frontend's `show stat` row, by column name."""
    lines = cli_exchange(runner.sock_path("admin"), "show stat\n").decode().split("\n")
    header = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        fields = line.split(",")
        if fields[:2] == ["fe", "FRONTEND"]:
            row = dict(zip(header, fields))
            return {k: row[k] for k in ("ereq", "req_tot", "hrsp_4xx")}
    raise AssertionError(f"no frontend row in {lines}")



def test_unique_id_reaches_server_rules_and_log(sluice, backends, tmp_path):
    """`unique-id-format` + `unique-id-header`: the server gets the id in the header, the
    `unique-id` fetch gives it to the rules, %ID to the log, all the same; an id longer than
    HAProxy's 127 characters is cut there, as HAProxy cuts it."""
    web = backends.http("web")
    long_tail = "x" * 200

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0") +
                "    log global\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n"
                '    log-format "%ID %{+Q}r"\n'
                '    unique-id-format "%{+X}o %ci:%cp_%fi:%fp_%rt:%pid"\n'
                "    unique-id-header X-Unique-ID\n"
                "    http-response set-header X-Id %[unique-id]\n"
                "    default_backend be\n"
                f"frontend long\n    bind 127.0.0.1:{runner.port('long')}\n"
                '    log-format "%ID"\n'
                f'    unique-id-format "%rt-{long_tail}"\n'
                "    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port}\n")

    seen = {}

    def scenario(runner):
        with http_connect(runner.port("fe")) as c:
            c.request("GET", "/echo", host="id.test")
            r = c.response()
        sent = dict((k.lower(), v) for k, v in web.requests[-1].headers)["x-unique-id"]
        seen[runner.binary] = (sent, r.header("X-Id"))
        raw_exchange(runner.port("long"), b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return 2

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)
    sent, in_response = seen[sluice.binary]
    logged = ours[0].split(" ")[0]
    assert sent == in_response == logged, (sent, in_response, ours)
    assert re.fullmatch(r"7F000001:[0-9A-F]{4}_7F000001:[0-9A-F]{4}_[0-9A-F]{4}:[0-9A-F]{4}", sent)
    assert len(ours[1]) == 127 and ours[1].endswith("x"), ours[1]
    if theirs is not None:
        assert len(theirs[1]) == len(ours[1])
        hx_sent, hx_response = seen[HAPROXY]
        assert hx_sent == hx_response == theirs[0].split(" ")[0]


def test_counters_queue_positions_and_backend_source(sluice, backends, tmp_path):
    """%lc (lines the frontend logged before), %rt, %sq/%bq (requests served from the
    server's/backend's queue since this one entered it, itself included; 0 when not queued)
    and %bi:%bp (the server connection's own address), in HTTP and TCP, as haproxy logs them.
    Four requests wait for a server with maxconn 1: each is sent once the previous one is
    counted in the backend's queue."""
    web = backends.http("web")
    echo = backends.echo("echo")

    def config_for(runner, log_port):
        return (runner.base("http", extra_global=f"log 127.0.0.1:{log_port} local0\n"
                            f"    stats socket {runner.sock_path('admin')} level admin") +
                "    log global\n    timeout queue 10s\n"
                f"frontend fe\n    bind 127.0.0.1:{runner.port('fe')}\n"
                '    log-format "lc=%lc sq=%sq bq=%bq src=%bi:%bp %{+Q}r"\n'
                "    default_backend be\n"
                f"backend be\n    server web 127.0.0.1:{web.port} maxconn 1\n"
                f"listen tcp\n    mode tcp\n    bind 127.0.0.1:{runner.port('tcp')}\n"
                '    log-format "tcp lc=%lc sq=%sq bq=%bq src=%bi:%bp"\n'
                f"    server echo 127.0.0.1:{echo.port}\n")

    def backend_row(runner):
        lines = cli_exchange(runner.sock_path("admin"), "show stat\n").decode().split("\n")
        header = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "be" and row.get("svname") == "BACKEND":
                return row
        return {}

    def scenario(runner):
        port = runner.port("fe")
        for target in ("/echo?1", "/echo?2"):
            raw_exchange(port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                         .encode())
        with socket.create_connection(("127.0.0.1", runner.port("tcp")), timeout=10) as s:
            s.sendall(b"ping")
            assert s.recv(4) == b"ping"
        clients = []
        try:
            for i in range(4):
                c = socket.create_connection(("127.0.0.1", port), timeout=10)
                clients.append(c)
                c.sendall(f"GET /delay/800?{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          .encode())
                # The first holds the server, then each waits behind the previous ones.
                if i == 0:
                    wait_for(lambda: backend_row(runner).get("scur") == "1",
                             what="the first request served")
                else:
                    wait_for(lambda: backend_row(runner).get("qcur") == str(i),
                             what=f"{i} requests queued")
            for c in clients:
                while c.recv(65536):
                    pass
        finally:
            for c in clients:
                c.close()
        return 7

    ours, theirs = run_both(sluice, tmp_path, config_for, scenario)

    def fields(line):
        return dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv)

    http = [fields(line) for line in ours if not line.startswith("tcp ")]
    tcp = [fields(line) for line in ours if line.startswith("tcp ")]
    assert [f["lc"] for f in http] == ["0", "1", "2", "3", "4", "5"], ours
    assert sorted(f["bq"] for f in http[2:]) == ["0", "1", "2", "3"], ours
    assert all(f["sq"] == "0" for f in http + tcp), ours
    for f in http + tcp:
        ip, port = f["src"].rsplit(":", 1)
        assert ip == "127.0.0.1" and port.isdigit(), ours
    assert tcp[0]["lc"] == "0" and tcp[0]["bq"] == "0", ours
    if theirs is not None:
        def masked(line):
            return re.sub(r"src=127\.0\.0\.1:\d+", "src=127.0.0.1:PORT", line)
        assert sorted(map(masked, ours)) == sorted(map(masked, theirs)), (ours, theirs)
