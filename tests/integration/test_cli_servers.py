"""The runtime API's server, frontend and state-file commands (issue #7): `set server ... addr|
health|agent|check-port|agent-*`, `enable|disable health|agent`, `set maxconn frontend|global`,
`set rate-limit`, `enable|disable|shutdown frontend`, `show servers state|conn`, and the
server-state file read at start-up (`server-state-file`, `load-server-state-from-file`). Each
test pins HAProxy 2.6's answers and messages and passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`); what must differ is masked or said.
"""

import re
import socket
import time

import pytest

from conftest import http_connect, wait_for

HEADER = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
          "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
          "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
          "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
          "srv_agent_port\n")


class Cli:
    def __init__(self, sluice, proc, path, web):
        self.sluice, self.proc, self.path, self.web = sluice, proc, path, web

    def ask(self, text, user=False):
        """Sends `text` on a new connection (the admin UNIX socket, or the user TCP one) and
        returns all the proxy answered before closing."""
        if user:
            s = socket.create_connection(("127.0.0.1", self.sluice.port("cli")), timeout=5)
        else:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(self.path)
        with s:
            s.sendall(text.encode())
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode()

    def lines(self, word="Server "):
        """Messages printed so far that contain `word`, the pid masked."""
        return [re.sub(r"\(\d+\)", "(PID)", line) for line in self.proc.stderr_text().splitlines()
                if word in line]

    def wait_line(self, text):
        wait_for(lambda: any(text in line for line in self.lines("")), what=text)

    def state(self, backend=""):
        """`show servers state` as rows of fields, the time column masked."""
        out = self.ask(f"show servers state {backend}\n".replace("  ", " "))
        assert out.startswith(HEADER), out
        rows = [line.split(" ") for line in out[len(HEADER):].splitlines() if line]
        for r in rows:
            r[9] = "T"
        return rows


def start(sluice, body, extra_global="", name="cli"):
    path = str(sluice.tmp_path / f"{name}.sock")
    proc = sluice.start(
        sluice.base("http", extra_global=f"stats socket {path} mode 600 level admin\n"
                                         f"stats socket 127.0.0.1:{sluice.port('cli')} level user\n"
                                         "stats timeout 5s\n" + extra_global) + body)
    return proc, path


@pytest.fixture
def cli(sluice, backends):
    """`listen lb` with servers a and b (b without check, a with an agent on a dead port that
    answers nothing), and `frontend fe` to backend `be` with server c."""
    web = {n: backends.http(n) for n in ("a", "b", "c", "d")}
    dead = backends.dead_port()
    body = (f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            f"    server a 127.0.0.1:{web['a'].port} weight 10 agent-check agent-port {dead} "
            "agent-inter 1h\n"
            f"    server b 127.0.0.1:{web['b'].port} weight 10\n"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
            f"backend be\n    server c 127.0.0.1:{web['c'].port}\n")
    proc, path = start(sluice, body, extra_global="maxconn 1000")
    return Cli(sluice, proc, path, web)


def counts(cli, port, n):
    before = {k: len(w.requests) for k, w in cli.web.items()}
    for _ in range(n):
        with http_connect(port) as c:
            c.request("GET", "/")
            assert c.response().status == 200
    return {k: len(w.requests) - before[k] for k, w in cli.web.items() if
            len(w.requests) != before[k]}


# ---- set server addr ------------------------------------------------------------------------

def test_set_server_addr_sends_new_requests_to_the_new_address(cli, sluice):
    # HAProxy's answers, pinned.
    c_port, d_port = cli.web["c"].port, cli.web["d"].port
    assert counts(cli, sluice.port("fe"), 2) == {"c": 2}
    # A client connection that already used the server keeps an idle server connection to
    # the old address: it must not be reused.
    with http_connect(sluice.port("fe")) as kept:
        kept.request("GET", "/")
        assert kept.response().status == 200
        assert cli.ask(f"set server be/c addr 127.0.0.1 port {d_port}\n") == (
            f"no need to change the addr, port changed from '{c_port}' to '{d_port}' by "
            "'stats socket command'\n\n")
        before = len(cli.web["d"].requests)
        kept.request("GET", "/")
        assert kept.response().status == 200
        assert len(cli.web["d"].requests) == before + 1
    assert counts(cli, sluice.port("fe"), 2) == {"d": 2}
    assert cli.ask(f"set server be/c addr 127.0.0.1 port {d_port}\n") == (
        "no need to change the addr, no need to change the port by 'stats socket command'\n\n")
    assert cli.ask("set server be/c addr 127.0.0.2\n") == (
        "IP changed from '127.0.0.1' to '127.0.0.2' by 'stats socket command'\n\n")
    assert cli.ask(f"set server be/c addr 127.0.0.1 port {c_port}\n") == (
        f"IP changed from '127.0.0.2' to '127.0.0.1', port changed from '{d_port}' to "
        f"'{c_port}' by 'stats socket command'\n\n")
    assert counts(cli, sluice.port("fe"), 1) == {"c": 1}


def test_set_server_addr_bad_input(cli):
    # HAProxy's answers, pinned.
    assert cli.ask("set server be/c addr\n") == (
        "set server <b>/<s> addr requires an address and optionally a port.\n\n")
    assert cli.ask("set server be/c addr foo\n") == (
        "Invalid addr 'foo' by 'stats socket command'\n\n")
    assert cli.ask("set server be/c addr 127.0.0.1:80\n") == (
        "Invalid addr '127.0.0.1:80' by 'stats socket command'\n\n")
    assert cli.ask("set server be/c addr 127.0.0.1 port abc\n") == (
        "no need to change the addr, problem converting port 'abc' to an int by "
        "'stats socket command'\n\n")
    assert cli.ask("set server nope/c addr 127.0.0.1\n") == "No such backend.\n\n"
    assert cli.ask("set server be/x addr 127.0.0.1\n") == "No such server.\n\n"
    assert cli.ask("set server be/c addr 127.0.0.1\n", user=True) == "Permission denied\n\n"


# ---- health and agent -----------------------------------------------------------------------

def test_set_server_health_changes_state_with_messages(cli, sluice):
    # HAProxy's messages, pinned; a server without check can be set too.
    assert cli.ask("set server lb/b health down\n") == "\n"
    cli.wait_line("Server lb/b is DOWN")
    assert counts(cli, sluice.port("lb"), 4) == {"a": 4}
    assert cli.ask("set server lb/b health stopping\n") == "\n"
    cli.wait_line("Server lb/b is stopping")
    assert cli.ask("set server lb/b health up\n") == "\n"
    cli.wait_line("Server lb/b is UP")
    assert counts(cli, sluice.port("lb"), 4) == {"a": 2, "b": 2}
    assert cli.lines() == [
        "[WARNING]  (PID) : Server lb/b is DOWN, changed from CLI. 1 active and 0 backup servers "
        "left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "[WARNING]  (PID) : Server lb/b is stopping, changed from CLI. 1 active and 0 backup "
        "servers online. 0 sessions requeued, 0 total in queue.",
        "[WARNING]  (PID) : Server lb/b is UP, changed from CLI. 2 active and 0 backup servers "
        "online. 0 sessions requeued, 0 total in queue.",
    ]
    assert cli.ask("set server lb/b health x\n") == (
        "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n")
    assert cli.ask("set server lb/b check-port 80\n") == (
        "health checks are not enabled on this server\n")
    assert cli.ask("enable health lb/b\n") == (
        "Health check was not configured on this server, cannot enable.\n\n")
    assert cli.ask("disable health lb/b\n") == "\n"


def test_set_health_on_a_tracking_server(sluice, backends):
    # HAProxy's answer, pinned: a tracking server follows the tracked one only.
    web = backends.http("a")
    proc, path = start(sluice, f"backend be\n    server s1 127.0.0.1:{web.port} check inter 1h\n"
                               f"    server s2 127.0.0.1:{web.port} track s1\n"
                               f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
                               "    default_backend be\n")
    cli = Cli(sluice, proc, path, {"a": web})
    assert cli.ask("set server be/s2 health down\n") == (
        "cannot change health on a tracking server.\n\n")
    assert cli.ask("enable health be/s2\n") == (
        "Health check was not configured on this server, cannot enable.\n\n")
    assert cli.ask("set server be/s2 check-port 5\n") == (
        "health checks are not enabled on this server\n")


def test_set_server_agent(cli, sluice):
    # HAProxy's answers and messages, pinned.
    assert cli.ask("set server lb/b agent down\n") == (
        "agent checks are not enabled on this server.\n\n")
    assert cli.ask("set server lb/a agent x\n") == (
        "'set server <srv> agent' expects 'up' or 'down'.\n\n")
    assert cli.ask("set server lb/a agent down\n") == "\n"
    cli.wait_line("Server lb/a is DOWN")
    assert counts(cli, sluice.port("lb"), 2) == {"b": 2}
    assert cli.ask("set server lb/a agent up\n") == "\n"
    cli.wait_line("Server lb/a is UP")
    assert cli.lines() == [
        "[WARNING]  (PID) : Server lb/a is DOWN, changed from CLI. 1 active and 0 backup servers "
        "left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "[WARNING]  (PID) : Server lb/a is UP, changed from CLI. 2 active and 0 backup servers "
        "online. 0 sessions requeued, 0 total in queue.",
    ]
    assert cli.ask("set server lb/a agent-port x\n") == "provided port is not an integer\n"
    assert cli.ask("set server lb/a agent-port 70000\n") == "provided port is invalid\n"
    assert cli.ask("set server lb/a agent-port\n") == (
        "set server <b>/<s> agent-port requires a port.\n\n")
    assert cli.ask("set server lb/a agent-addr x\n") == "invalid addr 'x'\n"
    assert cli.ask("set server lb/b agent-send hi\n") == (
        "agent checks are not enabled on this server.\n\n")
    assert cli.ask("set server lb/b agent-port 1\n") == (
        "agent checks are not enabled on this server\n")
    assert cli.ask("set server lb/a agent-addr 127.0.0.5 port 1234\n") == "\n"
    assert cli.ask("set server lb/a agent-send hello\n") == "\n"
    assert cli.ask("disable agent lb/a\n") == "\n"
    assert cli.ask("enable agent lb/b\n") == (
        "Agent was not configured on this server, cannot enable.\n\n")
    # What the state shows of it: agent configured (2) and agent (16), no longer enabled (4).
    wait_for(lambda: cli.state("lb")[0][14] == "18", what="agent disabled")
    row = cli.state("lb")[0]
    assert row[23:] == ["127.0.0.5", "1234"]
    assert cli.ask("enable agent lb/a\n") == "\n"
    wait_for(lambda: cli.state("lb")[0][14] == "22", what="agent enabled")
    assert cli.ask("disable agent lb/a\n", user=True) == "Permission denied\n\n"


# ---- frontends and limits -------------------------------------------------------------------

def no_answer_yet(conn, seconds=0.5):
    """True if no response byte came back on `conn` within `seconds` (proving an absence
    needs a bound; the request is then shown to be served once the limit goes)."""
    conn.settimeout(seconds)
    try:
        return conn.recv(1) == b""  # refused or closed: not served either
    except socket.timeout:
        return True
    except ConnectionError:
        return True


def served(port):
    with http_connect(port) as c:
        c.request("GET", "/")
        return c.response().status == 200


def test_disable_and_enable_frontend(cli, sluice):
    # HAProxy's answers and messages, pinned.
    port = sluice.port("fe")
    assert cli.ask("disable frontend fe\n") == "\n"
    assert cli.ask("disable frontend fe\n") == "All sockets are already disabled.\n\n"
    # A client is not served while the frontend is paused (the kernel may queue or refuse it).
    try:
        waiting = socket.create_connection(("127.0.0.1", port), timeout=2)
        waiting.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        assert no_answer_yet(waiting)
        waiting.close()
    except ConnectionError:
        pass
    assert cli.ask("enable frontend fe\n") == "\n"
    assert cli.ask("enable frontend fe\n") == "All sockets are already enabled.\n\n"
    wait_for(lambda: served(port), what="served again")
    assert cli.lines("frontend fe") == [
        "[WARNING]  (PID) : Paused frontend fe.",
        "[WARNING]  (PID) : Resumed frontend fe.",
    ]
    assert cli.ask("disable frontend\n") == "A frontend name is expected.\n\n"
    assert cli.ask("disable frontend be\n") == "No such frontend.\n\n"
    assert cli.ask("disable frontend fe\n", user=True) == "Permission denied\n\n"
    # A `listen` section is a proxy in the messages; its backend counts the same connections.
    assert counts(cli, sluice.port("lb"), 2) == {"a": 1, "b": 1}
    assert cli.ask("disable frontend lb;enable frontend lb;shutdown frontend lb\n") == "\n\n\n"
    cli.wait_line("Proxy lb stopped")
    assert cli.lines("oxy lb") == [
        "[WARNING]  (PID) : Paused proxy lb.",
        "[WARNING]  (PID) : Resumed proxy lb.",
        "[WARNING]  (PID) : Proxy lb stopped (cumulated conns: FE: 2, BE: 2).",
    ]


def test_shutdown_frontend(cli, sluice):
    # HAProxy's answers and message, pinned (connection counts masked).
    port = sluice.port("fe")
    assert counts(cli, port, 1) == {"c": 1}
    assert cli.ask("shutdown frontend fe\n") == "\n"

    def refused():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return False
        except ConnectionRefusedError:
            return True
    wait_for(refused, what="listener closed")
    assert [re.sub(r"\d+", "N", line) for line in cli.lines("Proxy fe")] == [
        "[WARNING]  (PID) : Proxy fe stopped (cumulated conns: FE: N, BE: N)."]
    assert cli.ask("shutdown frontend fe\n") == "Frontend was already shut down.\n\n"
    assert cli.ask("enable frontend fe\n") == (
        "Frontend was previously shut down, cannot enable.\n\n")
    assert cli.ask("disable frontend fe\n") == (
        "Frontend was previously shut down, cannot disable.\n\n")
    # The other proxy still works.
    assert sum(counts(cli, sluice.port("lb"), 2).values()) == 2


def test_set_maxconn_frontend_is_enforced(cli, sluice):
    # HAProxy's answers, pinned; at the limit a client waits until a slot frees.
    port = sluice.port("fe")
    assert cli.ask("set maxconn frontend fe 1\n") == "\n"
    with http_connect(port) as first:
        first.request("GET", "/")
        assert first.response().status == 200  # kept alive: holds the only slot
        second = socket.create_connection(("127.0.0.1", port), timeout=5)
        second.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        assert no_answer_yet(second)
    second.settimeout(5)
    assert second.recv(12) == b"HTTP/1.1 200"
    second.close()
    assert cli.ask("set maxconn frontend fe 100\n") == "\n"
    assert cli.ask("set maxconn frontend nope 1\n") == "No such frontend.\n\n"
    assert cli.ask("set maxconn frontend fe\n") == "Integer value expected.\n\n"
    assert cli.ask("set maxconn frontend\n") == "A frontend name is expected.\n\n"
    assert cli.ask("set maxconn global 500\n") == "\n"
    assert cli.ask("set maxconn global 999999999\n") == "Value out of range.\n\n"
    assert cli.ask("set maxconn global\n") == "Expects an integer value.\n\n"
    assert cli.ask("set maxconn global 10\n", user=True) == "Permission denied\n\n"


def test_set_rate_limit(cli, sluice, binary_is_haproxy):
    usage = ("'set rate-limit' only supports :\n"
             "   - 'connections global' to set the per-process maximum connection rate\n"
             "   - 'sessions global' to set the per-process maximum session rate\n"
             "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n"
             "   - 'http-compression global' to set the per-process maximum compression speed "
             "in kB/s\n\n")
    # HAProxy's answers, pinned.
    assert cli.ask("set rate-limit foo global 1\n") == usage
    assert cli.ask("set rate-limit connections local 1\n") == usage
    assert cli.ask("set rate-limit connections global\n") == "Expects an integer value.\n\n"
    assert cli.ask("set rate-limit sessions global 1000\n") == "\n"
    assert cli.ask("set rate-limit sessions global 0\n") == "\n"
    assert cli.ask("set rate-limit connections global 1\n", user=True) == "Permission denied\n\n"
    # At one connection a second, three clients in a row take a second or more to be served
    # (each waits in the backlog meanwhile); with the limit gone they go at once.
    assert cli.ask("set rate-limit connections global 1\n") == "\n"
    started = time.monotonic()
    assert sum(counts(cli, sluice.port("fe"), 3).values()) == 3
    assert time.monotonic() - started >= 0.9
    assert cli.ask("set rate-limit connections global 0\n") == "\n"
    assert sum(counts(cli, sluice.port("fe"), 5).values()) == 5
    out = cli.ask("set rate-limit ssl-sessions global 10\n")
    if binary_is_haproxy:
        assert out == "\n"
    else:
        # No TLS yet, so no TLS session rate to change: sluice says so (doc/differences.md).
        assert out == ("'set rate-limit ssl-sessions global' is not implemented yet in sluice; "
                       "it comes with TLS (roadmap item 7).\n\n")


def test_maxconnrate_in_the_config(sluice, backends):
    # HAProxy's global rate limits: the third client of a second waits for the next one.
    web = backends.http("a")
    proc, path = start(sluice, f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
                               "    default_backend be\n"
                               f"backend be\n    server a 127.0.0.1:{web.port}\n",
                       extra_global="maxconnrate 2\nmaxsessrate 1000")
    cli = Cli(sluice, proc, path, {"a": web})
    started = time.monotonic()
    assert counts(cli, sluice.port("fe"), 5) == {"a": 5}
    assert time.monotonic() - started >= 0.9


# ---- show servers state / conn, the state file ---------------------------------------------

def test_show_servers_state(cli):
    # HAProxy's format, pinned: lb is the first proxy (id 2), be the third (4).
    rows = cli.state()
    a, b, c = (str(cli.web[n].port) for n in "abc")
    assert [r[:9] + r[10:] for r in rows] == [
        ["2", "lb", "1", "a", "127.0.0.1", "2", "0", "10", "10", "1", "0", "2", "0", "22",
         "0", "0", "-", a, "-", "0", "0", "-", "-", rows[0][24]],
        ["2", "lb", "2", "b", "127.0.0.1", "2", "0", "10", "10", "1", "0", "2", "0", "0",
         "0", "0", "-", b, "-", "0", "0", "-", "-", "0"],
        ["4", "be", "1", "c", "127.0.0.1", "2", "0", "1", "1", "1", "0", "2", "0", "0",
         "0", "0", "-", c, "-", "0", "0", "-", "-", "0"],
    ]
    assert [r[3] for r in cli.state("be")] == ["c"]
    assert cli.ask("show servers state nope\n") == "Can't find backend.\n\n"
    assert cli.ask("set server lb/b state maint;set weight lb/a 5\n") == "\n\n"
    wait_for(lambda: cli.state("lb")[1][5:7] == ["0", "1"], what="b in maint")
    assert cli.state("lb")[0][7:9] == ["5", "10"]


def test_show_servers_conn(cli):
    # HAProxy's layout, pinned; the usage counters are masked.
    out = cli.ask("show servers conn be\n")
    lines = out.splitlines()
    assert lines[0] == ("# bkname/svname bkid/svid addr port - purge_delay used_cur used_max "
                        "need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[1]")
    fields = lines[1].split(" ")
    assert fields[:6] == ["be/c", "4/1", "127.0.0.1", str(cli.web["c"].port), "-", "5000"]
    assert fields[11] == "-1" and len(fields) == 14
    assert out.endswith("\n\n")
    assert cli.ask("show servers conn nope\n") == "Can't find backend.\n\n"


def test_server_state_file_round_trip(sluice, backends):
    # HAProxy's reload behaviour and messages, pinned: admin state, weight and DOWN kept.
    web = {n: backends.http(n) for n in ("a", "b", "c")}
    state = sluice.tmp_path / "state"
    body = (f"    load-server-state-from-file global\n"
            f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            f"    server a 127.0.0.1:{web['a'].port} weight 10\n"
            f"    server b 127.0.0.1:{web['b'].port} weight 20\n"
            f"    server c 127.0.0.1:{web['c'].port} weight 30\n")
    proc, path = start(sluice, body, extra_global=f"server-state-file {state}")
    cli = Cli(sluice, proc, path, web)
    assert cli.ask("set server lb/a state maint;set weight lb/b 5;"
                   "set server lb/c health down\n") == "\n\n\n"
    wait_for(lambda: [r[5] for r in cli.state()] == ["0", "2", "0"], what="changes")
    dump = cli.ask("show servers state\n")
    state.write_text(dump[:-1])  # what `socat ... > file` keeps, less the CLI's blank line
    assert "config : config: Can't open global server state file" in proc.stderr_text()
    proc.signal(15)
    proc.wait_exit()

    proc, path = start(sluice, body, extra_global=f"server-state-file {state}", name="cli2")
    cli = Cli(sluice, proc, path, web)
    assert [r[5:9] for r in cli.state()] == [
        ["0", "1", "10", "10"], ["2", "0", "5", "20"], ["0", "0", "30", "30"]]
    assert cli.ask("get weight lb/b\n") == "5 (initial 20)\n\n"
    assert counts(cli, sluice.port("lb"), 3) == {"b": 3}
    assert cli.lines() == [
        "[WARNING]  (PID) : config : Server lb/a is DOWN, changed from server-state after a "
        "reload. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining "
        "in queue.",
        "[WARNING]  (PID) : config : Server lb/c is DOWN, changed from server-state after a "
        "reload. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining "
        "in queue.",
    ]


def test_server_state_file_keeps_check_and_agent_targets(sluice, backends):
    # HAProxy applies srv_check_addr/port and srv_agent_addr/port last, and says so when the
    # server has no such check ("server-state partially applied ...").
    web = backends.http("a")
    dead = backends.dead_port()
    state = sluice.tmp_path / "state"
    body = (f"    load-server-state-from-file global\n"
            f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            f"    server s 127.0.0.1:{web.port} check port {dead} inter 100ms rise 1 fall 1 "
            f"agent-check agent-port {dead} agent-inter 1h\n"
            f"    server n 127.0.0.1:{web.port}\n")
    proc, path = start(sluice, body, extra_global=f"server-state-file {state}")
    cli = Cli(sluice, proc, path, {"a": web})
    wait_for(lambda: cli.state()[0][5] == "0", what="the check on the dead port")
    assert cli.ask(f"set server lb/s check-addr 127.0.0.1 port {web.port};"
                   f"set server lb/s agent-addr 127.0.0.3;set server lb/s agent-port 7\n") == \
        "\n\n\n"
    rows = cli.state()
    assert rows[0][21:25] == [str(web.port), "127.0.0.1", "127.0.0.3", "7"]
    # Written DOWN, so only a check on the restored target brings it UP after the restart.
    rows[0][5] = "0"
    rows[1][21:25] = ["0", "127.0.0.9", "-", "0"]  # no check there: refused with a warning
    state.write_text(HEADER + "".join(" ".join(r) + "\n" for r in rows).replace(" T ", " 0 "))
    proc.signal(15)
    proc.wait_exit()

    proc, path = start(sluice, body, extra_global=f"server-state-file {state}", name="cli2")
    cli = Cli(sluice, proc, path, {"a": web})
    assert cli.state()[0][21:25] == [str(web.port), "127.0.0.1", "127.0.0.3", "7"]
    wait_for(lambda: cli.state()[0][5] == "2", what="the check on the restored address")
    assert cli.lines("server-state partially") == [
        "[WARNING]  (PID) : config : server-state partially applied for server 'lb/n', health "
        "checks are not enabled on this server"]


def test_server_state_local_files(sluice, backends):
    # HAProxy's reading of per-backend files, pinned: `server-state-base` joined to the
    # backend's name or its `server-state-file-name`.
    web = backends.http("a")
    base = sluice.tmp_path / "states"
    base.mkdir()
    body = ("    load-server-state-from-file local\n"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
            f"backend be\n    server s1 127.0.0.1:{web.port} weight 10\n"
            f"backend be2\n    server-state-file-name other\n"
            f"    server s1 127.0.0.1:{web.port} weight 10\n")
    proc, path = start(sluice, body, extra_global=f"server-state-base {base}")
    cli = Cli(sluice, proc, path, {"a": web})
    assert [re.sub(r"\(\d+\)", "(PID)", line) for line in proc.stderr_text().splitlines()
            if "server state file" in line] == [
        f"[WARNING]  (PID) : config : Proxy 'be': Can't open server state file '{base}/be': "
        "No such file or directory.",
        f"[WARNING]  (PID) : config : Proxy 'be2': Can't open server state file "
        f"'{base}/other': No such file or directory.",
    ]
    assert cli.ask("set weight be/s1 3;set weight be2/s1 4\n") == "\n\n"
    (base / "be").write_text(cli.ask("show servers state be\n")[:-1])
    (base / "other").write_text(cli.ask("show servers state be2\n")[:-1])
    proc.signal(15)
    proc.wait_exit()
    proc, path = start(sluice, body, extra_global=f"server-state-base {base}", name="cli2")
    cli = Cli(sluice, proc, path, {"a": web})
    assert cli.ask("get weight be/s1;get weight be2/s1\n") == (
        "3 (initial 10)\n\n4 (initial 10)\n\n")
    assert "server state file" not in proc.stderr_text()


def test_server_state_keywords(sluice):
    # HAProxy accepts these where its manual says.
    cfg = (sluice.base("tcp", extra_global="server-state-file /nonexistent/state\n"
                                           "server-state-base /tmp")
           + "    load-server-state-from-file local\n"
           + f"backend be\n    server-state-file-name be.state\n    server s 127.0.0.1:1\n"
           + f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n")
    r = sluice.check(cfg)
    assert r.returncode == 0, r.stderr
