"""Log targets (issue #8, the output layer): `log` lines in global, defaults and proxies with
`log global`, `no log` and defaults inheritance; UDP over IPv4 and IPv6, UNIX datagram sockets,
stdout; every header format; `len`, `sample`, levels; sending that never blocks. Until option
httplog lands the messages are the process's own: server state changes (here driven from the
runtime API, so both binaries emit the same ones at the same moment) and "Proxy X stopped".

Each test pins what Debian's haproxy 2.6.12 sends (checked with a UDP listener, byte for byte
but for dates and the pid) and passes against it (`--sluice=/usr/sbin/haproxy`).
"""

import fcntl
import os
import re
import select
import signal
import socket
import subprocess

import pytest

from conftest import cli_exchange, wait_for

DOWN = (b"Server be/s1 is going DOWN for maintenance. 1 active and 0 backup servers left. "
        b"0 sessions active, 0 requeued, 0 remaining in queue.")
READY = b"Server be/s1 is UP/READY (leaving forced maintenance)."
MONTH = rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
RFC3164_DATE = MONTH + rb" [ 123]\d \d\d:\d\d:\d\d"
ISO_DATE = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d"


class Listener:
    """A datagram socket the test binds (UDP on 127.0.0.1 or ::1, or a UNIX path)."""

    def __init__(self, family=socket.AF_INET, path=None):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        if family == socket.AF_UNIX:
            self.sock.bind(path)
            self.target = path
        else:
            host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
            self.sock.bind((host, 0))
            port = self.sock.getsockname()[1]
            self.target = f"[::1]:{port}" if family == socket.AF_INET6 else f"127.0.0.1:{port}"
        self.sock.setblocking(False)
        self.received = []

    def drain(self):
        while True:
            try:
                self.received.append(self.sock.recv(70000))
            except BlockingIOError:
                return self.received

    def wait(self, count, what="log messages"):
        wait_for(lambda: len(self.drain()) >= count, what=f"{count} {what} on {self.target}")
        return self.received

    def close(self):
        self.sock.close()


@pytest.fixture
def listeners():
    made = []

    def make(family=socket.AF_INET, path=None):
        made.append(Listener(family, path))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


def cli(path, text):
    return cli_exchange(path, text + "\n").decode()


def start(sluice, backends, global_lines="", body_lines="", extra=""):
    """A `listen be` with servers s1 and s2 (no checks) and a stats socket; `global_lines` go in
    the global section, `body_lines` in `listen be`."""
    web = backends.echo("web")
    sock = os.path.join(sluice.sock_dir, "cli.sock")
    config = (sluice.base("tcp", extra_global=f"stats socket {sock} level admin\n"
                                               "log-tag logtest\n" + global_lines)
              + f"listen be\n    bind 127.0.0.1:{sluice.port('be')}\n"
              + "".join(f"    {line.strip()}\n" for line in body_lines.splitlines()
                        if line.strip())
              + f"    server s1 127.0.0.1:{web.port}\n    server s2 127.0.0.1:{web.port}\n"
              + extra)
    return sluice.start(config), sock


def maint_then_ready(sock, times=1):
    for _ in range(times):
        cli(sock, "set server be/s1 state maint")
        cli(sock, "set server be/s1 state ready")


def echo_works(sluice):
    with sluice.connect("be") as c:
        c.sendall(b"ping")
        return c.recv(4) == b"ping"


# HAProxy 2.6: a usable server taken to maintenance is an alert (1), its return a notice (5);
# local0 is facility 16. The default format is rfc3164 without the host ("local"), an explicit
# rfc3164 names "localhost" unless log-send-hostname says otherwise, rfc5424 says "-".
def test_every_format_byte_for_byte(sluice, backends, listeners):
    formats = ["", "local", "rfc3164", "rfc5424", "short", "raw", "iso", "priority", "timed"]
    ls = {f: listeners() for f in formats}
    lines = "".join(f"log {ls[f].target} {'format ' + f if f else ''} local0\n" for f in formats)
    proc, sock = start(sluice, backends, lines, "log global")
    maint_then_ready(sock)
    pid = str(proc.pid).encode()
    expected = {
        "": rb"<129>" + RFC3164_DATE + rb" logtest\[" + pid + rb"\]: ",
        "local": rb"<129>" + RFC3164_DATE + rb" logtest\[" + pid + rb"\]: ",
        "rfc3164": rb"<129>" + RFC3164_DATE + rb" localhost logtest\[" + pid + rb"\]: ",
        "rfc5424": rb"<129>1 " + ISO_DATE + rb" - logtest " + pid + rb" - - ",
        "short": rb"<1>",
        "raw": rb"",
        "iso": ISO_DATE + rb" ",
        "priority": rb"<129>",
        "timed": rb"<1>" + ISO_DATE + rb" ",
    }
    for f in formats:
        got = ls[f].wait(2)
        assert len(got) == 2, (f, got)
        assert re.fullmatch(expected[f] + re.escape(DOWN) + rb"\n", got[0]), (f, got[0])
        notice = expected[f].replace(b"<129>", b"<133>").replace(b"<1>", b"<5>")
        assert re.fullmatch(notice + re.escape(READY) + rb"\n", got[1]), (f, got[1])


def test_send_hostname_and_proxy_tag(sluice, backends, listeners):
    default, r3164, r5424 = listeners(), listeners(), listeners()
    proc, sock = start(
        sluice, backends,
        f"log-send-hostname myhost\nlog {default.target} local1\n"
        f"log {r3164.target} format rfc3164 local1\nlog {r5424.target} format rfc5424 local1\n",
        "log global\nlog-tag betag")
    cli(sock, "set server be/s1 state maint")
    pid = str(proc.pid).encode()
    # With log-send-hostname the default format becomes rfc3164 with the host.
    for listener in (default, r3164):
        got = listener.wait(1)
        assert re.fullmatch(rb"<137>" + RFC3164_DATE + rb" myhost betag\[" + pid + rb"\]: "
                            + re.escape(DOWN) + rb"\n", got[0]), got
    got = r5424.wait(1)
    assert re.fullmatch(rb"<137>1 " + ISO_DATE + rb" myhost betag " + pid + rb" - - "
                        + re.escape(DOWN) + rb"\n", got[0]), got


def test_ipv6_unix_path_and_stdout_targets(sluice, backends, listeners):
    v6 = listeners(socket.AF_INET6)
    ux = listeners(socket.AF_UNIX, os.path.join(sluice.sock_dir, "log1.sock"))
    bare = listeners(socket.AF_UNIX, os.path.join(sluice.sock_dir, "log2.sock"))
    proc, sock = start(sluice, backends, "",
                       f"log {v6.target} format short daemon\n"
                       f"log unix@{ux.target} format raw daemon\n"
                       f"log {bare.target} format priority daemon\n"
                       "log stdout format raw daemon\n")
    cli(sock, "set server be/s1 state maint")
    assert v6.wait(1) == [b"<1>" + DOWN + b"\n"]
    assert ux.wait(1) == [DOWN + b"\n"]
    assert bare.wait(1) == [b"<25>" + DOWN + b"\n"]
    wait_for(lambda: DOWN.decode() + "\n" in proc.stdout_text(), what="the message on stdout")


def test_len_cuts_header_and_message(sluice, backends, listeners):
    udp = listeners()
    proc, sock = start(sluice, backends, "",
                       f"log {udp.target} len 100 format rfc5424 local0\n"
                       "log stdout len 80 format raw daemon\n")
    cli(sock, "set server be/s1 state maint")
    got = udp.wait(1)[0]
    # A datagram: header and text cut at `len`, then the newline (101 bytes).
    assert len(got) == 101 and got.endswith(b"\n"), got
    assert DOWN.startswith(got[got.index(b" - - ") + 5:-1]), got
    # A descriptor: the newline is within `len`.
    wait_for(lambda: proc.stdout_text().endswith("\n"), what="stdout line")
    assert proc.stdout_text() == DOWN[:79].decode() + "\n"


def test_sample_sends_the_numbered_messages(sluice, backends, listeners):
    every, sampled = listeners(), listeners()
    proc, sock = start(sluice, backends, "",
                       f"log {every.target} format raw local0\n"
                       f"log {sampled.target} format raw sample 1,3:4 local0\n")
    maint_then_ready(sock, 3)  # messages 1..6: DOWN READY DOWN READY DOWN READY
    assert every.wait(6) == [DOWN + b"\n", READY + b"\n"] * 3
    # 1 and 3 of each 4: messages 1, 3 and 5.
    assert sampled.wait(3) == [DOWN + b"\n"] * 3


def test_levels_filter_and_cap(sluice, backends, listeners):
    alerts, capped = listeners(), listeners()
    proc, sock = start(sluice, backends, "",
                       f"log {alerts.target} format short local0 alert\n"
                       f"log {capped.target} format short local0 debug err\n")
    maint_then_ready(sock)
    cli(sock, "set server be/s1 state maint")
    cli(sock, "set server be/s2 state maint")  # no server left: an emerg too
    # `alert`: the notice (READY) is not sent.
    got = alerts.wait(4)
    assert [m[:3] for m in got] == [b"<1>", b"<1>", b"<1>", b"<0>"], got
    assert got[3] == b"<0>proxy be has no server available!\n"
    # minimum level err: more severe messages are sent as err.
    got = capped.wait(5)
    assert [m[:3] for m in got] == [b"<3>", b"<5>", b"<3>", b"<3>", b"<3>"], got


# HAProxy: a proxy without `log` lines logs nothing, even with global ones; `log global` copies
# the global lines; a proxy starts from its defaults' lines, `no log` empties them.
def test_inheritance(sluice, backends, listeners):
    glob, deflt, own = listeners(), listeners(), listeners()
    web = backends.echo("web")
    sock = os.path.join(sluice.sock_dir, "cli.sock")
    servers = f"    server s1 127.0.0.1:{web.port}\n    server s2 127.0.0.1:{web.port}\n"
    config = (
        sluice.base("tcp", extra_global=f"stats socket {sock} level admin\n"
                                         f"log {glob.target} format raw local0\n")
        + f"listen fe\n    bind 127.0.0.1:{sluice.port('fe')}\n" + servers
        + f"defaults d2\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n"
        f"    timeout server 5s\n    log {deflt.target} format raw local0\n"
        + "backend inherits\n" + servers
        + "backend cleared\n    no log\n" + servers
        + "backend both\n    log global\n" + servers
        + f"backend replaced\n    no log\n    log {own.target} format raw local0\n" + servers)
    sluice.start(config)
    for be in ("fe", "inherits", "cleared", "both", "replaced"):
        cli(sock, f"set server {be}/s1 state maint")
    want = lambda be: (f"Server {be}/s1 is going DOWN for maintenance. 1 active and 0 backup "
                       "servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n"
                       ).encode()
    assert own.wait(1) == [want("replaced")]
    assert deflt.wait(2) == [want("inherits"), want("both")]
    assert glob.wait(1) == [want("both")]


def test_stop_message_goes_to_the_proxy_targets(sluice, backends, listeners):
    udp = listeners()
    proc, sock = start(sluice, backends, "", f"log {udp.target} format raw local0 warning")
    assert echo_works(sluice)
    proc.signal(signal.SIGUSR1)
    assert udp.wait(1) == [b"Proxy be stopped (cumulated conns: FE: 1, BE: 1).\n"]
    assert proc.wait_exit() == 0


# HAProxy 2.6: a server its check finds dead is an alert, the backend left without a server an
# emerg (the stderr line quotes the name, the log line does not), to the backend's targets.
def test_check_failure_messages(sluice, backends, listeners):
    udp = listeners()
    dead = backends.dead_port()
    proc = sluice.start(
        sluice.base("tcp")
        + f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
        f"backend be\n    log {udp.target} local2\n    log-tag chk\n"
        f"    server s1 127.0.0.1:{dead} check inter 100 fall 1 rise 1\n")
    got = udp.wait(2)
    pid = str(proc.pid).encode()
    assert re.fullmatch(
        rb"<145>" + RFC3164_DATE + rb" chk\[" + pid + rb"\]: Server be/s1 is DOWN, reason: "
        rb"Layer4 connection problem, info: \"Connection refused\", check duration: \d+ms\. 0 "
        rb"active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in "
        rb"queue\.\n", got[0]), got
    assert re.fullmatch(rb"<144>" + RFC3164_DATE + rb" chk\[" + pid
                        + rb"\]: backend be has no server available!\n", got[1]), got
    assert "[ALERT]    (%d) : backend 'be' has no server available!" % proc.pid \
        in proc.stderr_text()


# HAProxy 2.6: a server that was draining goes DOWN as a notice, then "remains in forced drain
# mode" (its srv_was_stopping counts the drain).
def test_a_drained_server_going_down_is_a_notice(sluice, backends, listeners):
    udp = listeners()
    checked = backends.echo("checked")
    web = backends.echo("web")
    sock = os.path.join(sluice.sock_dir, "cli.sock")
    sluice.start(
        sluice.base("tcp", extra_global=f"stats socket {sock} level admin\n")
        + f"listen be\n    bind 127.0.0.1:{sluice.port('be')}\n"
        f"    log {udp.target} format short local0\n"
        f"    server s1 127.0.0.1:{checked.port} check inter 100 fall 1 rise 1\n"
        f"    server s2 127.0.0.1:{web.port}\n")
    cli(sock, "set server be/s1 state drain")
    udp.wait(1)
    checked.stop()
    got = udp.wait(3)
    assert got[0].startswith(b"<5>Server be/s1 enters drain state."), got
    assert got[1].startswith(b"<5>Server be/s1 is DOWN, reason: Layer4 connection problem"), got
    assert got[2] == b"<5>Server be/s1 remains in forced drain mode.\n", got


# HAProxy 2.6 at soft stop: the frontends (listen sections too) first, then the backends, each
# with its cumulated connections; to stderr and to each proxy's targets.
def test_soft_stop_names_every_proxy(sluice, backends, listeners):
    udp = listeners()
    web = backends.echo("web")
    proc = sluice.start(
        sluice.base("tcp", extra_global=f"log {udp.target} format raw local0 warning\n")
        + f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    log global\n"
        "    default_backend be\n"
        f"backend be\n    server s1 127.0.0.1:{web.port}\n"
        f"listen li\n    bind 127.0.0.1:{sluice.port('li')}\n    server s1 127.0.0.1:{web.port}\n"
        f"backend unused\n    log global\n    server s1 127.0.0.1:{web.port}\n")
    for port in ("fe", "fe", "li"):
        with sluice.connect(port) as c:
            c.sendall(b"x")
            assert c.recv(1) == b"x"
    proc.signal(signal.SIGUSR1)
    assert proc.wait_exit() == 0
    lines = [re.sub(r"\(\d+\)", "(PID)", line) for line in proc.stderr_text().splitlines()
             if "stopped (cumulated" in line and "GLOBAL" not in line and "<HTTP" not in line]
    assert lines == [
        "[WARNING]  (PID) : Proxy fe stopped (cumulated conns: FE: 2, BE: 0).",
        "[WARNING]  (PID) : Proxy li stopped (cumulated conns: FE: 1, BE: 1).",
        "[WARNING]  (PID) : Proxy be stopped (cumulated conns: FE: 0, BE: 2).",
        "[WARNING]  (PID) : Proxy unused stopped (cumulated conns: FE: 0, BE: 0).",
    ]
    got = [m for m in udp.wait(2) if b"<HTTP" not in m]
    assert got == [b"Proxy fe stopped (cumulated conns: FE: 2, BE: 0).\n",
                   b"Proxy unused stopped (cumulated conns: FE: 0, BE: 0).\n"]


def test_unreachable_and_full_targets_never_block(sluice, backends, listeners, binary_is_haproxy):
    # A UDP port nobody listens on (ICMP refused) and a UNIX socket nobody reads (full after
    # net.unix.max_dgram_qlen datagrams): traffic goes on, the full one counts drops.
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    full = listeners(socket.AF_UNIX, os.path.join(sluice.sock_dir, "full.sock"))
    proc, sock = start(sluice, backends, "",
                       f"log 127.0.0.1:{dead_port} local0\nlog {full.target} local0\n")
    with open("/proc/sys/net/unix/max_dgram_qlen") as f:
        rounds = int(f.read()) // 40 + 5  # 40 messages a round: more than the queue holds
    for _ in range(rounds):
        cli(sock, ";".join(["set server be/s1 state maint; set server be/s1 state ready"] * 20))
        assert echo_works(sluice)
    info = cli(sock, "show info")
    dropped = int(re.search(r"^DroppedLogs: (\d+)$", info, re.M).group(1))
    assert dropped > 0, info
    assert proc.alive()
    assert len(full.drain()) + dropped >= rounds * 40


def test_full_stdout_pipe_never_blocks(sluice, backends, binary, tmp_path):
    # stdout is a pipe nobody reads, shrunk to one page: once full, messages are dropped and
    # the proxy keeps serving.
    web = backends.echo("web")
    sock = os.path.join(sluice.sock_dir, "cli.sock")
    config = sluice.write_config(
        sluice.base("tcp", extra_global=f"stats socket {sock} level admin\n"
                                        "log stdout format raw daemon\n")
        + f"listen be\n    bind 127.0.0.1:{sluice.port('be')}\n    log global\n"
        f"    server s1 127.0.0.1:{web.port}\n    server s2 127.0.0.1:{web.port}\n")
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, 1031, 4096)  # F_SETPIPE_SZ
    with open(tmp_path / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([binary, "-db", "-f", config], stdin=subprocess.DEVNULL,
                                stdout=write_end, stderr=err)
    os.close(write_end)
    try:
        wait_for(lambda: os.path.exists(sock), what="the stats socket")
        wait_for(lambda: _connects(sluice.port("be")), what="the listener")
        for _ in range(10):
            cli(sock, ";".join(["set server be/s1 state maint; set server be/s1 state ready"]
                               * 20))
            assert echo_works(sluice)
        info = cli(sock, "show info")
        assert int(re.search(r"^DroppedLogs: (\d+)$", info, re.M).group(1)) > 0, info
        readable, _, _ = select.select([read_end], [], [], 0)
        # (HAProxy also logs "Connect from ..." for each connection of a proxy without
        # tcplog/httplog: per-connection logs are not in Sluice yet.)
        assert readable and b"Server be/s1 is going DOWN" in os.read(read_end, 4096)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.close(read_end)


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("line, says", [
    ("log 127.0.0.1 local9", "unknown log facility 'local9'"),
    ("log 127.0.0.1 local0 loud", "unknown optional log level 'loud'"),
    ("log 127.0.0.1 local0 info loud", "unknown optional minimum log level 'loud'"),
    ("log 127.0.0.1 len 70 local0", "invalid log length '70', must be between 80 and 65535"),
    ("log 127.0.0.1 format json local0", "unknown log format 'json'"),
    ("log 127.0.0.1 sample 0:3 local0", "wrong sample range '0'"),
    ("log 127.0.0.1 sample 1-4:3 local0", "sample size 3 should be greater or equal to 4"),
    ("log 127.0.0.1", "expects <address> and <facility>"),
    ("log 127.0.0.1 local0 info err x", "cannot handle unexpected argument 'x'"),
    ("log 127.0.0.1:99999 local0", "invalid port '99999'"),
    ("log global", "'global' is not supported for a global syslog server"),
])
def test_bad_lines_name_file_and_line(sluice, line, says):
    out = sluice.check(f"global\n    {line}\n", name="bad.cfg")
    assert out.returncode != 0
    assert "[bad.cfg:2]" in out.stderr and says in out.stderr, out.stderr


def test_no_log_takes_no_argument(sluice):
    out = sluice.check("defaults\n    no log 127.0.0.1 local0\n", name="bad.cfg")
    assert out.returncode != 0
    assert "[bad.cfg:2]" in out.stderr and "'no log' does not expect arguments" in out.stderr


def test_ring_targets_are_refused_by_sluice(sluice, binary_is_haproxy):
    # Sluice-only: rings are not built; HAProxy accepts the line.
    out = sluice.check("global\n    log ring@events local0\n", name="ring.cfg")
    if binary_is_haproxy:
        assert "ring" not in out.stderr
        return
    assert out.returncode != 0
    assert "[ring.cfg:2]" in out.stderr and "not supported yet" in out.stderr, out.stderr
