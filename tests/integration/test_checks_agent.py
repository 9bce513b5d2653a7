"""Agent checks (`agent-check`): a fake agent answers configurable lines; the servers are loopback
HTTP servers. Each test pins HAProxy 2.6's behaviour (run against /usr/sbin/haproxy with
--sluice= as well): messages byte for byte, weights measured on the traffic's distribution."""
import collections
import socket
import threading
import urllib.error
import urllib.request

import pytest

import test_checks_basic as basic
from test_checks_basic import fakes  # noqa: F401  (the fixture)


class FakeAgent:
    """Answers every connection with `reply` (bytes), keeps what the checker sent, and closes
    once the checker has (so that an `agent-send` string is always read)."""

    def __init__(self, port, reply=b"up\n"):
        self.reply = reply
        self.answered = 0
        self.received = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        self._sock = s
        threading.Thread(target=self._accept, daemon=True).start()

    def set(self, reply):
        """Answers `reply` from now on; returns once two checks got it (so the first one has
        been applied when the second connection came)."""
        with self._cond:
            self.reply = reply
            start = self.answered
            ok = self._cond.wait_for(lambda: self.answered >= start + 2, timeout=10)
        assert ok, "the agent was not asked again"

    def wait_answers(self, n):
        with self._cond:
            start = self.answered
            assert self._cond.wait_for(lambda: self.answered >= start + n, timeout=10)

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
                reply = self.reply
            got = b""
            with c:
                try:
                    c.sendall(reply)
                    c.settimeout(2)
                    while True:
                        more = c.recv(4096)
                        if not more:
                            break
                        got += more
                except OSError:
                    pass
            with self._cond:
                self.received.append(got)
                self.answered += 1
                self._cond.notify_all()


@pytest.fixture
def agents():
    made = []

    def make(port, reply=b"up\n"):
        a = FakeAgent(port, reply)
        made.append(a)
        return a
    yield make
    for a in made:
        a.stop()


def get(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def shares(port, n):
    got = collections.Counter()
    for _ in range(n):
        status, body = get(port)
        got[body if status == 200 else status] += 1
    return got


def start_backend(sluice, fakes, agents, a_opts="", b_line=True, balance="roundrobin", extra="",
                  nbthread=1):
    a_port, b_port, agent_port = sluice.port("a"), sluice.port("b"), sluice.port("agent")
    fakes(a_port, basic.ok_response(b"a"))
    fakes(b_port, basic.ok_response(b"b"))
    agent = agents(agent_port)
    b = f"    server b 127.0.0.1:{b_port} check inter 100 weight 10\n" if b_line else ""
    proc = sluice.start(sluice.base("http", nbthread=nbthread) + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    balance {balance}
{extra}    server a 127.0.0.1:{a_port} check inter 100 weight 10 agent-check agent-port {agent_port} agent-inter 100 {a_opts}
{b}""")
    agent.wait_answers(1)
    return proc, agent


def lines(proc):
    """The state lines. HAProxy commits a state change later than the check that asked for it:
    when the regular check passes in between, its UP message names that check's reason instead
    of the agent's (a race; sluice always names the agent's)."""
    return [line.replace(
        "is UP, reason: Layer4 check passed, check duration",
        "is UP, reason: Layer7 check passed, code: 0, info: \"via agent : up\", check duration")
        for line in basic.state_lines(proc)]


def wait_lines(wait_for, proc, n, what):
    """Waits for `n` state lines; a timeout shows the lines seen."""
    try:
        wait_for(lambda: len(basic.state_lines(proc)) >= n, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; lines: {basic.state_lines(proc)}") from None


UP_TAIL = "0 sessions requeued, 0 total in queue."
DOWN_TAIL = "0 sessions active, 0 requeued, 0 remaining in queue."


@pytest.mark.parametrize("nbthread", [1, 2])
def test_weight_percentages_follow_the_agent(sluice, wait_for, fakes, agents, nbthread):
    """HAProxy 2.6: "N%" sets the weight to N% of the configured one (roundrobin follows it at
    once, whichever thread runs the agent); 0% takes the server out of the rotation; above 100%
    is allowed (capped at 256)."""
    proc, agent = start_backend(sluice, fakes, agents, nbthread=nbthread)
    fe = sluice.port("fe")
    assert shares(fe, 20) == {b"a": 10, b"b": 10}
    agent.set(b"50%\n")
    assert shares(fe, 30) == {b"a": 10, b"b": 20}
    agent.set(b"0%\n")
    assert shares(fe, 10) == {b"b": 10}
    agent.set(b"300%\n")
    assert shares(fe, 40) == {b"a": 30, b"b": 10}
    assert lines(proc) == []


def test_down_wins_over_the_regular_check_until_up(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: "down" (any case, with a comment after '#') marks the server DOWN although
    its regular check passes; other replies leave it DOWN; only "up" brings it back."""
    proc, agent = start_backend(sluice, fakes, agents)
    fe = sluice.port("fe")
    agent.set(b"DOWN # maintenance window\n")
    wait_lines(wait_for, proc, 1, "the DOWN message")
    assert shares(fe, 6) == {b"b": 6}
    agent.set(b"ready 100%\n")
    agent.wait_answers(3)
    assert shares(fe, 4) == {b"b": 4}
    agent.set(b"up\n")
    wait_lines(wait_for, proc, 2, "the UP message")
    assert lines(proc) == [
        "[WARNING]  (PID) : Server be/a is DOWN, reason: Layer7 wrong status, code: 0, info: "
        "\"via agent : DOWN (maintenance window)\", check duration: Nms. 1 active and 0 backup "
        "servers left. " + DOWN_TAIL,
        "[WARNING]  (PID) : Server be/a is UP, reason: Layer7 check passed, code: 0, info: "
        "\"via agent : up\", check duration: Nms. 2 active and 0 backup servers online. "
        + UP_TAIL,
    ]
    assert shares(fe, 4) == {b"a": 2, b"b": 2}


def test_drain_takes_no_new_traffic_until_ready(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: "drain" keeps the server UP but sends it no new traffic; a health change
    while drained says it remains so; "ready" ends it."""
    proc, agent = start_backend(sluice, fakes, agents)
    fe = sluice.port("fe")
    agent.set(b"drain\n")
    wait_lines(wait_for, proc, 1, "the drain message")
    assert shares(fe, 6) == {b"b": 6}
    agent.set(b"down\n")
    wait_lines(wait_for, proc, 3, "the DOWN message")
    agent.set(b"up\n")
    wait_lines(wait_for, proc, 5, "the UP message")
    agent.set(b"ready\n")
    wait_lines(wait_for, proc, 6, "the end of the drain")
    assert lines(proc) == [
        "[WARNING]  (PID) : Server be/a enters drain state. 1 active and 0 backup servers "
        "online. " + UP_TAIL,
        "[WARNING]  (PID) : Server be/a is DOWN, reason: Layer7 wrong status, code: 0, info: "
        "\"via agent : down\", check duration: Nms. 1 active and 0 backup servers left. "
        + DOWN_TAIL,
        "[WARNING]  (PID) : Server be/a remains in forced drain mode.",
        "[WARNING]  (PID) : Server be/a is UP, reason: Layer7 check passed, code: 0, info: "
        "\"via agent : up\", check duration: Nms. 1 active and 0 backup servers online. "
        + UP_TAIL,
        "[WARNING]  (PID) : Server be/a remains in forced drain mode.",
        "[WARNING]  (PID) : Server be/a is UP (leaving forced drain).",
    ]
    assert shares(fe, 4) == {b"a": 2, b"b": 2}


def test_drained_server_still_takes_use_server(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: a drained server takes no load-balanced traffic, but `use-server` still
    sends it what names it; in maintenance it takes nothing."""
    proc, agent = start_backend(sluice, fakes, agents,
                                extra="    use-server a if { path_beg /a }\n")
    fe = sluice.port("fe")
    agent.set(b"drain\n")
    wait_lines(wait_for, proc, 1, "the drain message")
    assert shares(fe, 4) == {b"b": 4}
    assert basic.http_status(fe, "/a")[1] == b"a"
    agent.set(b"maint\n")
    wait_lines(wait_for, proc, 2, "the maintenance message")
    assert basic.http_status(fe, "/a")[1] == b"b"


def test_backup_server_messages(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: a backup server's messages say "Backup Server"."""
    a_port, c_port, agent_port = sluice.port("a"), sluice.port("c"), sluice.port("agent")
    fakes(a_port, basic.ok_response(b"a"))
    fakes(c_port, basic.ok_response(b"c"))
    agent = agents(agent_port)
    proc = sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    server a 127.0.0.1:{a_port}
    server c 127.0.0.1:{c_port} backup check inter 100 agent-check agent-port {agent_port} agent-inter 100
""")
    agent.wait_answers(1)
    agent.set(b"drain\n")
    wait_lines(wait_for, proc, 1, "the drain message")
    agent.set(b"down\n")
    wait_lines(wait_for, proc, 3, "the DOWN message")
    assert lines(proc) == [
        "[WARNING]  (PID) : Backup Server be/c enters drain state. 1 active and 0 backup servers "
        "online. " + UP_TAIL,
        "[WARNING]  (PID) : Backup Server be/c is DOWN, reason: Layer7 wrong status, code: 0, "
        "info: \"via agent : down\", check duration: Nms. 1 active and 0 backup servers left. "
        + DOWN_TAIL,
        "[WARNING]  (PID) : Backup Server be/c remains in forced drain mode.",
    ]


def test_maint_and_back(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: "maint" takes the server out ("going DOWN for maintenance"), replies then
    change its state silently, "drain" and "ready" bring it back saying how (a health word in
    the same reply counts before)."""
    proc, agent = start_backend(sluice, fakes, agents)
    fe = sluice.port("fe")
    agent.set(b"maint\n")
    wait_lines(wait_for, proc, 1, "the maintenance message")
    assert shares(fe, 4) == {b"b": 4}
    agent.set(b"down\n")
    agent.set(b"drain\n")
    wait_lines(wait_for, proc, 3, "the end of the maintenance")
    agent.set(b"maint\n")
    agent.set(b"ready up\n")
    wait_lines(wait_for, proc, 5, "the second end")
    # "ready up" together: the server leaves maintenance UP, with no UP message of its own.
    assert lines(proc) == [
        "[WARNING]  (PID) : Server be/a is going DOWN for maintenance. 1 active and 0 backup "
        "servers left. " + DOWN_TAIL,
        "[WARNING]  (PID) : Server be/a is DOWN/DRAIN (leaving forced maintenance).",
        "[WARNING]  (PID) : Server be/a remains in forced drain mode.",
        "[WARNING]  (PID) : Server be/a was DOWN and now enters maintenance.",
        "[WARNING]  (PID) : Server be/a is UP/READY (leaving forced maintenance).",
    ]
    assert shares(fe, 4) == {b"a": 2, b"b": 2}


def test_agent_lifts_disabled_and_alerts_once(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: "ready" takes a `disabled` server out of maintenance; draining the last
    usable server says the backend has none left, and maintenance after it does not again."""
    proc, agent = start_backend(sluice, fakes, agents, a_opts="disabled", b_line=False)
    fe = sluice.port("fe")
    assert basic.http_status(fe)[0] == 503
    agent.set(b"ready\n")
    wait_lines(wait_for, proc, 1, "the end of the maintenance")
    assert basic.http_status(fe)[1] == b"a"
    agent.set(b"drain\n")
    wait_lines(wait_for, proc, 3, "the drain message and alert")
    assert basic.http_status(fe)[0] == 503
    agent.set(b"maint\n")
    wait_lines(wait_for, proc, 4, "the maintenance message")
    agent.set(b"maint\n")
    assert lines(proc) == [
        "[WARNING]  (PID) : Server be/a is UP/READY (leaving forced maintenance).",
        "[WARNING]  (PID) : Server be/a enters drain state. 0 active and 0 backup servers "
        "online. " + UP_TAIL,
        "[ALERT]    (PID) : backend 'be' has no server available!",
        "[WARNING]  (PID) : Server be/a is going DOWN for maintenance. 0 active and 0 backup "
        "servers left. " + DOWN_TAIL,
    ]


class HoldingServer:
    """Accepts connections and holds them without answering, counting them."""

    def __init__(self, port):
        self.accepted = 0
        self.conns = []
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        self._sock = s
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self._sock.accept()
            except OSError:
                return
            self.conns.append(c)
            self.accepted += 1

    def stop(self):
        self._sock.close()
        for c in self.conns:
            c.close()


def test_maxconn_from_the_agent_queues(sluice, wait_for, agents):
    """HAProxy 2.6: "maxconn:N" sets the server's connection limit: with 1, a second request
    waits in the queue (and times out there) while the first holds the slot."""
    srv_port, agent_port = sluice.port("srv"), sluice.port("agent")
    held = HoldingServer(srv_port)
    agent = agents(agent_port, b"maxconn:1\n")
    try:
        sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    timeout queue 300ms
    timeout server 10s
    server a 127.0.0.1:{srv_port} agent-check agent-port {agent_port} agent-inter 100
""")
        agent.wait_answers(2)
        first = sluice.connect(sluice.port("fe"))
        first.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_for(lambda: held.accepted == 1, what="the first request at the server")
        assert get(sluice.port("fe"))[0] == 503  # queued, then the queue timeout
        assert held.accepted == 1
        first.close()
    finally:
        held.stop()


def test_agent_alone_without_a_regular_check(sluice, wait_for, agents):
    """HAProxy 2.6: an agent on a server without `check` takes it DOWN and UP by itself, "stopped"
    and "fail" as "down"."""
    a_port, agent_port = sluice.port("a"), sluice.port("agent")
    agent = agents(agent_port)
    proc = sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    server a 127.0.0.1:{a_port} agent-check agent-port {agent_port} agent-inter 100
""")
    agent.wait_answers(1)
    agent.set(b"stopped\n")
    wait_lines(wait_for, proc, 2, "the DOWN message")
    agent.set(b"up\n")
    wait_lines(wait_for, proc, 3, "the UP message")
    agent.set(b"fail # disk\n")
    wait_lines(wait_for, proc, 5, "the second DOWN message")
    assert lines(proc) == [
        "[WARNING]  (PID) : Server be/a is DOWN, reason: Layer7 wrong status, code: 0, info: "
        "\"via agent : stopped\", check duration: Nms. 0 active and 0 backup servers left. "
        + DOWN_TAIL,
        "[ALERT]    (PID) : backend 'be' has no server available!",
        "[WARNING]  (PID) : Server be/a is UP, reason: Layer7 check passed, code: 0, info: "
        "\"via agent : up\", check duration: Nms. 1 active and 0 backup servers online. "
        + UP_TAIL,
        "[WARNING]  (PID) : Server be/a is DOWN, reason: Layer7 wrong status, code: 0, info: "
        "\"via agent : fail (disk)\", check duration: Nms. 0 active and 0 backup servers left. "
        + DOWN_TAIL,
        "[ALERT]    (PID) : backend 'be' has no server available!",
    ]


def test_maxconn_raised_lets_the_queue_in(sluice, wait_for, agents):
    """HAProxy 2.6: raising "maxconn:N" serves the requests waiting in the queue at once, not
    when a connection ends."""
    srv_port, agent_port = sluice.port("srv"), sluice.port("agent")
    held = HoldingServer(srv_port)
    agent = agents(agent_port, b"maxconn:1\n")
    conns = []
    try:
        sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    timeout queue 20s
    timeout server 20s
    server a 127.0.0.1:{srv_port} agent-check agent-port {agent_port} agent-inter 100
""")
        agent.wait_answers(2)
        for _ in range(3):
            c = sluice.connect(sluice.port("fe"))
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            conns.append(c)
        wait_for(lambda: held.accepted == 1, what="the first request at the server")
        agent.set(b"maxconn:3\n")
        wait_for(lambda: held.accepted == 3, what="the queued requests at the server")
    finally:
        for c in conns:
            c.close()
        held.stop()


def test_reply_without_a_newline_is_ignored(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: a reply must end its line; "down" alone, closed, changes nothing."""
    proc, agent = start_backend(sluice, fakes, agents)
    agent.set(b"down")
    agent.wait_answers(3)
    assert lines(proc) == []
    assert shares(sluice.port("fe"), 4) == {b"a": 2, b"b": 2}


def test_agent_send_and_address(sluice, wait_for, fakes, agents):
    """HAProxy 2.6: `agent-send` is sent once connected, to `agent-addr` when given; only the
    agent's connection failing changes nothing (here: no agent on 127.0.0.1's port)."""
    a_port, agent_port = sluice.port("a"), sluice.port("agent")
    fakes(a_port, basic.ok_response(b"a"))
    agent = agents(agent_port)
    proc = sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    default-server agent-send "hello\\n" agent-port {agent_port} agent-inter 100
    server a 127.0.0.2:{a_port} addr 127.0.0.1 port {a_port} check inter 100 agent-check agent-addr 127.0.0.1
    server b 127.0.0.1:{sluice.port('none')} agent-check agent-inter 100 agent-send x agent-port {sluice.port('none')}
""")
    agent.wait_answers(2)
    assert agent.received[-1] == b"hello\n"
    assert lines(proc) == []


@pytest.mark.parametrize("line,message", [
    ("server s1 127.0.0.1:80 agent-check",
     "server s1 does not have agent port. Agent check has been disabled."),
    ("server s1 127.0.0.1:80 agent-check agent-port 0",
     "server s1 does not have agent port. Agent check has been disabled."),
    ("server s1 127.0.0.1:80 agent-addr foo agent-port 1",
     "parsing agent-addr failed. Check if 'foo' is correct address."),
])
def test_agent_refusals(sluice, line, message):
    """HAProxy 2.6's refusals (fatal at -c), in its words (the line prefix is each program's)."""
    res = sluice.check(sluice.base("http") + f"backend b\n    {line}\n")
    assert res.returncode != 0
    assert message in res.stderr + res.stdout


def test_agent_options_accepted(sluice):
    """HAProxy 2.6 accepts the agent options on default-server and server lines."""
    res = sluice.check(sluice.base("http") + f"""frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend b
backend b
    default-server agent-port 7000 agent-inter 1s agent-send "x\\n" agent-addr 127.0.0.1
    server s1 127.0.0.1:80 agent-check
    server s2 127.0.0.1:81 agent-check no-agent-check
""")
    assert res.returncode == 0, res.stderr
