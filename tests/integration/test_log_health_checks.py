"""`option log-health-checks`: every change of a check's result is reported, not only the
server's UP/DOWN transitions, for regular checks (TCP, HTTP) and agent checks. Each test pins
HAProxy 2.6's lines byte for byte (run against /usr/sbin/haproxy with --sluice= as well), with
the pid and the check durations made constant."""
import re
import select
import socket
import threading

import pytest

import test_checks_basic as basic
from test_checks_agent import agents  # noqa: F401  (the fixture)
from test_checks_basic import fakes  # noqa: F401  (the fixture)
from test_log_targets import RFC3164_DATE, listeners  # noqa: F401  (the fixture)

PID = re.compile(r"\(\d+\)")
DURATION = re.compile(r"check duration: \d+ms")


def lines(proc):
    """stderr's lines about checks, servers and backends, pid and durations masked."""
    out = []
    for line in proc.stderr_text().splitlines():
        if "check for " in line or "Server " in line or "has no server available" in line:
            out.append(DURATION.sub("check duration: Nms", PID.sub("(PID)", line)))
    return out


def wait_lines(proc, wait_for, n):
    return wait_for(lambda: len(lines(proc)) >= n and lines(proc), what=f"{n} check lines")


W = "[WARNING]  (PID) : "


def response(code, reason):
    return (f"HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .encode())


def test_http_check_reports_every_change(sluice, wait_for, fakes):
    """HAProxy 2.6: the first result is always told (the status was "INI"); then a line for each
    run that moves the health or changes the status, none while it stays full; the UP/DOWN
    messages no longer repeat the reason."""
    port = sluice.port("srv")
    srv = fakes(port, response(200, "OK"))
    proc = sluice.start(basic.config(sluice, f"""    option httpchk
    option log-health-checks
    server s 127.0.0.1:{port} check inter 100 rise 2 fall 2"""))
    ok = (W + "Health check for server be/s succeeded, reason: Layer7 check passed, code: 200, "
          "check duration: Nms, status: {}.")
    bad = (W + "Health check for server be/s failed, reason: Layer7 wrong status, code: 500, "
           "info: \"Internal Server Error\", check duration: Nms, status: {}.")
    assert wait_lines(proc, wait_for, 1) == [ok.format("2/2 UP")]
    # Passing checks at full health say nothing more.
    seen = srv.count("OPTIONS")
    wait_for(lambda: srv.count("OPTIONS") >= seen + 3, what="three more checks")
    assert lines(proc) == [ok.format("2/2 UP")]

    srv.response = response(500, "Internal Server Error")
    got = wait_lines(proc, wait_for, 5)
    assert got == [
        ok.format("2/2 UP"),
        bad.format("1/2 UP"),
        bad.format("0/2 DOWN"),
        W + "Server be/s is DOWN. 0 active and 0 backup servers left. 0 sessions active, "
        "0 requeued, 0 remaining in queue.",
        "[ALERT]    (PID) : backend 'be' has no server available!",
    ]
    # Failing again at no health with the same status: nothing.
    seen = srv.count("OPTIONS")
    wait_for(lambda: srv.count("OPTIONS") >= seen + 3, what="three more checks")
    assert lines(proc) == got

    srv.response = response(200, "OK")
    got = wait_lines(proc, wait_for, 8)
    assert got[5:] == [
        ok.format("1/2 DOWN"),
        ok.format("2/2 UP"),
        W + "Server be/s is UP. 1 active and 0 backup servers online. 0 sessions requeued, "
        "0 total in queue.",
    ]


def test_tcp_check_backup_and_drain_and_log_level(sluice, wait_for, fakes, listeners):
    """HAProxy 2.6: a backup server says "backup server", a server of weight 0 "DRAIN"; a status
    change with no change of health is told too (a refused connection after a passed one at no
    health cannot happen, so a closed port then an open one); the lines go to the backend's log
    targets as notices."""
    udp = listeners()
    port = sluice.port("srv")
    proc = sluice.start(basic.config(sluice, f"""    log {udp.target} local2
    option log-health-checks
    server s 127.0.0.1:{port} check inter 100 rise 1 fall 1 weight 0
    server b 127.0.0.1:{port} check inter 100 rise 1 fall 1 backup""", mode="tcp"))
    refused = ("Health check for {}server be/{} failed, reason: Layer4 connection problem, "
               "info: \"Connection refused\", check duration: Nms, status: 0/1 DOWN.")
    passed = ("Health check for {}server be/{} succeeded, reason: Layer4 check passed, "
              "check duration: Nms, status: 1/1 {}.")
    got = wait_for(lambda: [line for line in lines(proc) if "check for" in line] if len(
        [line for line in lines(proc) if "check for" in line]) >= 2 else None,
        what="both failures")
    assert sorted(got) == sorted([W + refused.format("", "s"), W + refused.format("backup ", "b")])

    fakes(port)
    wait_for(lambda: len([line for line in lines(proc) if "succeeded" in line]) >= 2,
             what="both successes")
    ups = [line for line in lines(proc) if "succeeded" in line]
    assert sorted(ups) == sorted([W + passed.format("", "s", "DRAIN"),
                                  W + passed.format("backup ", "b", "UP")])

    pid = str(proc.pid).encode()
    checks = wait_for(lambda: [m for m in udp.drain() if b"check for" in m] if len(
        [m for m in udp.drain() if b"check for" in m]) >= 4 else None, what="4 logged lines")
    for m in checks:
        # local2 (18 * 8) + notice (5)
        assert re.fullmatch(rb"<149>" + RFC3164_DATE + rb" \S+\[" + pid + rb"\]: (Health check "
                            rb"for (backup )?server be/[sb] (failed|succeeded), .*)\n", m), m


def test_agent_check_reports_every_change(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: the agent's lines say "Agent check", with its own health (rise and fall of
    1); an unreachable agent is reported without touching the server's state."""
    srv_port, agent_port = sluice.port("srv"), sluice.port("agent")
    fakes(srv_port, basic.ok_response(b"a"))
    agent = agents(agent_port, b"up\n")
    proc = sluice.start(basic.config(sluice, f"""    option log-health-checks
    server s 127.0.0.1:{srv_port} agent-check agent-port {agent_port} agent-inter 100"""))
    up = (W + "Agent check for server be/s succeeded, reason: Layer7 check passed, code: 0, "
          "info: \"via agent : up\", check duration: Nms, status: 1/1 UP.")
    assert wait_lines(proc, wait_for, 1) == [up]

    agent.set(b"down\n")
    got = wait_lines(proc, wait_for, 4)
    assert got == [
        up,
        W + "Agent check for server be/s failed, reason: Layer7 wrong status, code: 0, "
        "info: \"via agent : down\", check duration: Nms, status: 0/1 DOWN.",
        W + "Server be/s is DOWN. 0 active and 0 backup servers left. 0 sessions active, "
        "0 requeued, 0 remaining in queue.",
        "[ALERT]    (PID) : backend 'be' has no server available!",
    ]

    agent.set(b"up\n")
    wait_for(lambda: any("Server be/s is UP" in line for line in lines(proc)), what="UP")
    assert lines(proc)[-2:] == [
        up,
        W + "Server be/s is UP. 1 active and 0 backup servers online. 0 sessions requeued, "
        "0 total in queue.",
    ]

    n = len(lines(proc))
    agent.stop()
    got = wait_lines(proc, wait_for, n + 1)
    assert got[n:] == [
        W + "Agent check for server be/s failed, reason: Layer4 connection problem, "
        "info: \"Connection refused\", check duration: Nms, status: 1/1 UP."]
    # An unreachable agent leaves the server UP.
    assert basic.http_status(sluice.port("fe"))[0] == 200


def test_without_the_option_only_state_changes(sluice, wait_for):
    """HAProxy 2.6: without the option, no per-check lines, and the DOWN names its reason."""
    dead = sluice.port("dead")
    proc = sluice.start(basic.config(sluice, f"    server s 127.0.0.1:{dead} check inter 100"))
    got = wait_lines(proc, wait_for, 2)
    assert got[0].startswith(W + "Server be/s is DOWN, reason: Layer4 connection problem")
    assert not any("check for" in line for line in lines(proc))


class MisbehavingAgent:
    """An agent that reads what the checker sends (`expect`, bytes: the agent-send string) and
    then does what `act` says with each connection: ("line", b"up\\n") answers a line; ("cut",
    b"up\\0") sends a line without its end and closes; ("close",) closes with nothing said;
    ("unread",) waits for the string and leaves it unread as it closes: the kernel then resets
    the connection.

    The cut lines end with a NUL: HAProxy reads the reply as a C string in a recycled buffer, so
    without one whatever an earlier use left after the reply may end the line (a line end from
    an earlier "up\\n" makes "up" a whole line)."""

    def __init__(self, port, expect=b"", act=("line", b"up\n")):
        self.expect = expect
        self.act = act
        self.answered = 0
        self.unexpected = []  # what came instead of `expect`
        self._cond = threading.Condition()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        self._sock = s
        threading.Thread(target=self._accept, daemon=True).start()

    def set(self, *act):
        """Acts as `act` from now on; returns once two checks got it (the first one is over)."""
        with self._cond:
            self.act = act
            start = self.answered
            assert self._cond.wait_for(lambda: self.answered >= start + 2, timeout=10), \
                f"the agent was not asked again ({act})"
            assert not self.unexpected

    def stop(self):
        s, self._sock = self._sock, None
        if s:
            s.close()

    def _accept(self):
        while self._sock:
            try:
                c, _ = self._sock.accept()
            except OSError:
                return
            with self._cond:
                act = self.act
            with c:
                try:
                    self._serve(c, act)
                except OSError:
                    pass
            with self._cond:
                self.answered += 1
                self._cond.notify_all()

    def _serve(self, c, act):
        c.settimeout(5)
        if act[0] == "unread":
            select.select([c], [], [], 5)  # the string has come
        else:
            got = b""
            while len(got) < len(self.expect):
                more = c.recv(4096)
                if not more:
                    return
                got += more
            if got != self.expect:
                self.unexpected.append(got)
                return
        if act[0] in ("line", "cut"):
            c.sendall(act[1])
        if act[0] == "line":
            # Until the checker closes, so that the line is read whole.
            while c.recv(4096):
                pass


@pytest.fixture
def misbehaving():
    made = []

    def make(port, expect=b"", act=("line", b"up\n")):
        made.append(MisbehavingAgent(port, expect, act))
        return made[-1]
    yield make
    for a in made:
        a.stop()


def agent_config(sluice, srv_port, agent_port, extra="", log=True):
    """A backend with one server whose state only its agent gives, and a stats socket."""
    stats = f"stats socket {sluice.sock_path('cli')} level admin"
    return sluice.base("http", extra_global=stats) + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
{"    option log-health-checks" if log else ""}
    server s 127.0.0.1:{srv_port} agent-check agent-port {agent_port} agent-inter 100 {extra}
"""


def cli(sluice, text):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sluice.sock_path("cli"))
    with s:
        s.sendall(text.encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


AGENT_UP = (W + "Agent check for server be/s succeeded, reason: Layer7 check passed, code: 0, "
            "info: \"via agent : up\", check duration: Nms, status: 1/1 UP.")
AGENT_DOWN = (W + "Agent check for server be/s failed, reason: Layer7 wrong status, code: 0, "
              "info: \"via agent : down\", check duration: Nms, status: 0/1 DOWN.")
EMPTY = ("Agent check for server be/s failed, reason: Layer7 invalid response, info: \"TCPCHK "
         "got an empty response at step 2\", check duration: Nms, status: {}.")
RESET = ("Agent check for server be/s failed, reason: Socket error, info: \"Connection reset by "
         "peer\", check duration: Nms, status: {}.")
REFUSED = ("Agent check for server be/s failed, reason: Layer4 connection problem, info: "
           "\"Connection refused\", check duration: Nms, status: {}.")
SERVER_DOWN = [W + "Server be/s is DOWN. 0 active and 0 backup servers left. 0 sessions active, "
               "0 requeued, 0 remaining in queue.",
               "[ALERT]    (PID) : backend 'be' has no server available!"]
SERVER_UP = (W + "Server be/s is UP. 1 active and 0 backup servers online. 0 sessions requeued, "
             "0 total in queue.")


def wait_more(proc, wait_for, got, n):
    """The lines after `got`, once there are `n` more."""
    return wait_lines(proc, wait_for, len(got) + n)[len(got):]


@pytest.mark.parametrize("send", [False, True], ids=["no-agent-send", "agent-send"])
def test_agent_closing_or_resetting_without_a_reply(sluice, wait_for, fakes, misbehaving, send):
    """HAProxy 2.6: an agent that closes without a word is a Layer7 invalid response ("TCPCHK got
    an empty response at step 2", whether agent-send sent a string or not: its agent rules are
    the send and the reply); one that resets (closing with the agent-send string unread) a
    socket error; one that refuses a Layer4 connection problem. None touches the agent's health
    (1/1 UP or 0/1 DOWN as its last reply said), nor the server's state."""
    srv_port, agent_port = sluice.port("srv"), sluice.port("agent")
    fakes(srv_port, basic.ok_response(b"a"))
    string = b"ping\n" if send else b""
    agent = misbehaving(agent_port, expect=string)
    proc = sluice.start(agent_config(sluice, srv_port, agent_port,
                                     "agent-send ping\\n" if send else ""))
    got = wait_lines(proc, wait_for, 1)
    assert got == [AGENT_UP]

    agent.set("close")
    got += wait_more(proc, wait_for, got, 1)
    assert got[-1] == W + EMPTY.format("1/1 UP")
    agent.set("line", b"up\n")
    got += wait_more(proc, wait_for, got, 1)
    assert got[-1] == AGENT_UP
    if send:
        agent.set("unread")
        got += wait_more(proc, wait_for, got, 1)
        assert got[-1] == W + RESET.format("1/1 UP")
    assert basic.http_status(sluice.port("fe"))[0] == 200

    # The same at no health: the server stays DOWN, nothing more is said of it.
    agent.set("line", b"down\n")
    got += wait_more(proc, wait_for, got, 3)
    assert got[-3:] == [AGENT_DOWN] + SERVER_DOWN
    agent.set("close")
    got += wait_more(proc, wait_for, got, 1)
    assert got[-1] == W + EMPTY.format("0/1 DOWN")
    if send:
        agent.set("unread")
        got += wait_more(proc, wait_for, got, 1)
        assert got[-1] == W + RESET.format("0/1 DOWN")
    agent.stop()
    got += wait_more(proc, wait_for, got, 1)
    assert got[-1] == W + REFUSED.format("0/1 DOWN")
    assert basic.http_status(sluice.port("fe"))[0] == 503

    # Only a reply brings it back.
    agent = misbehaving(agent_port, expect=string)
    got += wait_more(proc, wait_for, got, 2)
    assert got[-2:] == [AGENT_UP, SERVER_UP]
    assert basic.http_status(sluice.port("fe"))[0] == 200


def test_agent_first_reply_cut_short(sluice, wait_for, fakes, misbehaving):
    """HAProxy 2.6: a line cut short by the agent's close before any result leaves the run
    unfinished until its timeout: a Layer7 timeout. Later cut lines keep the last status, so
    say nothing. (A reset after the cut line is a socket error then, but whether HAProxy sees
    the line and the reset in one read or two changes what it says: not pinned.)"""
    srv_port, agent_port = sluice.port("srv"), sluice.port("agent")
    fakes(srv_port, basic.ok_response(b"a"))
    agent = misbehaving(agent_port, act=("cut", b"up\0"))
    proc = sluice.start(agent_config(sluice, srv_port, agent_port))
    first = (W + "Agent check for server be/s failed, reason: Layer7 timeout, check duration: "
             "Nms, status: 1/1 UP.")
    assert wait_lines(proc, wait_for, 1) == [first]
    agent.set("cut", b"up\0")
    agent.set("line", b"up\n")
    assert wait_lines(proc, wait_for, 2) == [first, AGENT_UP]
    agent.set("cut", b"down\0")
    agent.set("line", b"up\n")
    assert lines(proc) == [first, AGENT_UP]
    assert basic.http_status(sluice.port("fe"))[0] == 200


@pytest.mark.parametrize("log", [True, False], ids=["log-health-checks", "no-option"])
def test_agent_line_cut_short_repeats_the_last_status(sluice, wait_for, fakes, misbehaving, log):
    """HAProxy 2.6: a line cut short is ignored ("Ignoring incomplete line from agent") by
    setting the agent's last status again: nothing changes, unless the runtime API forced the
    agent's health against it (`set server agent down` after an "up", `up` after a "down"), which
    the status then undoes, with that text as the reason (in the DOWN/UP message without the
    option)."""
    srv_port, agent_port = sluice.port("srv"), sluice.port("agent")
    fakes(srv_port, basic.ok_response(b"a"))
    agent = misbehaving(agent_port)
    proc = sluice.start(agent_config(sluice, srv_port, agent_port, log=log))
    first = [AGENT_UP] if log else []
    wait_for(lambda: agent.answered >= 1, what="a whole first reply")
    agent.set("cut", b"down\0")  # the status stays L7OK: nothing
    assert lines(proc) == first

    assert cli(sluice, "set server be/s agent down\n") == "\n"
    got = wait_more(proc, wait_for, first, 4 if log else 3)
    assert got[:2] == [W + "Server be/s is DOWN, changed from CLI. 0 active and 0 backup servers "
                       "left. 0 sessions active, 0 requeued, 0 remaining in queue.",
                       "[ALERT]    (PID) : backend 'be' has no server available!"]
    ignoring = 'info: "Ignoring incomplete line from agent", check duration: Nms'
    if log:
        assert got[2:] == [W + "Agent check for server be/s succeeded, reason: Layer7 check "
                           f"passed, code: 0, {ignoring}, status: 1/1 UP.", SERVER_UP]
    else:
        assert got[2:] == [W + "Server be/s is UP, reason: Layer7 check passed, code: 0, "
                           f"{ignoring}. 1 active and 0 backup servers online. 0 sessions "
                           "requeued, 0 total in queue."]
    assert basic.http_status(sluice.port("fe"))[0] == 200

    seen = lines(proc)
    agent.set("line", b"down\n")
    seen += wait_more(proc, wait_for, seen, 3 if log else 2)
    # A NUL before the line's end leaves no line either. The status stays L7STS: nothing.
    agent.set("cut", b"up\0\n")
    assert lines(proc) == seen
    assert cli(sluice, "set server be/s agent up\n") == "\n"
    got = wait_more(proc, wait_for, seen, 4 if log else 3)
    assert got[0] == (W + "Server be/s is UP, changed from CLI. 1 active and 0 backup servers "
                      "online. 0 sessions requeued, 0 total in queue.")
    if log:
        assert got[1:] == [W + "Agent check for server be/s failed, reason: Layer7 wrong status, "
                           f"code: 0, {ignoring}, status: 0/1 DOWN."] + SERVER_DOWN
    else:
        assert got[1:] == [W + "Server be/s is DOWN, reason: Layer7 wrong status, code: 0, "
                           f"{ignoring}. 0 active and 0 backup servers left. 0 sessions active, "
                           "0 requeued, 0 remaining in queue.", SERVER_DOWN[1]]
    assert basic.http_status(sluice.port("fe"))[0] == 503
