"""Dynamic servers on the runtime API (issue #7): `add server <bk>/<srv> <addr> [options]` and
`del server <bk>/<srv>`. Pinned HAProxy 2.6 behaviour: a new server starts in maintenance and
takes traffic after `enable server`, its checks start with `enable health`; only backends with a
dynamic algorithm take one (not static-rr, not a map-based hash); `del server` wants the server
in maintenance, with no connection and nothing in the config pointing to it; the answers and
errors are HAProxy's. Every test passes against Debian's haproxy (`--sluice=/usr/sbin/haproxy`)
except where `binary_is_haproxy` says what is Sluice's own.
"""

import re
import threading
import time

import pytest

from conftest import cli_exchange, http_connect, wait_for


def ask(path, text):
    return cli_exchange(path, text + "\n").decode().strip()


def stat_rows(path, backend):
    """`show stat` rows of `backend` as {svname: status}."""
    out = ask(path, "show stat")
    head = out.splitlines()[0].lstrip("# ").split(",")
    rows = {}
    for line in out.splitlines()[1:]:
        f = dict(zip(head, line.split(",")))
        if f.get("pxname") == backend:
            rows[f["svname"]] = f
    return rows


@pytest.fixture
def setup(sluice, backends):
    """`frontend fe` to `be` (roundrobin, server a); backends rr2/srr/maphash/conshash/lc for
    the algorithm rules; a user-level TCP socket next to the admin one."""
    web = {n: backends.http(n) for n in ("a", "n", "m")}
    path = str(sluice.tmp_path / "admin.sock")
    config = sluice.base("http", extra_global=(
        f"stats socket {path} mode 600 level admin\n"
        f"stats socket 127.0.0.1:{sluice.port('cli')} level user\n")) + (
        f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
        f"frontend fe2\n    bind 127.0.0.1:{sluice.port('fe2')}\n    default_backend lc\n"
        # HAProxy checks only the servers of backends a frontend uses.
        "    use_backend chk if { path /chk }\n"
        f"backend be\n    server a 127.0.0.1:{web['a'].port} pool-purge-delay 100ms\n"
        "backend srr\n    balance static-rr\n    server a 127.0.0.1:9\n"
        "backend maphash\n    balance source\n    server a 127.0.0.1:9\n"
        "backend conshash\n    balance source\n    hash-type consistent\n"
        "backend lc\n    balance leastconn\n"
        "backend refs\n    use-server a if { path /a }\n"
        "    server a 127.0.0.1:9\n    server b 127.0.0.1:9 check inter 100ms\n"
        "    server c 127.0.0.1:9 track b\n"
        f"backend chk\n    server s 127.0.0.1:{backends.dead_port()} check inter 100ms rise 1 "
        "fall 1\n")
    proc = sluice.start(config)
    return proc, path, web


def get(port, target="/echo"):
    with http_connect(port) as c:
        c.request("GET", target, headers=[("Connection", "close")])
        return c.response().status


def test_added_server_waits_in_maintenance_then_takes_traffic(sluice, setup):
    proc, path, web = setup
    assert ask(path, f"add server be/n 127.0.0.1:{web['n'].port}") == "New server registered."
    rows = stat_rows(path, "be")
    assert list(rows) == ["a", "n", "BACKEND"]  # appended after the config's servers
    assert rows["n"]["status"] == "MAINT" and rows["n"]["sid"] == "2"
    for _ in range(4):
        assert get(sluice.port("fe")) == 200
    assert web["n"].requests == []
    assert ask(path, "enable server be/n") == ""
    assert stat_rows(path, "be")["n"]["status"] == "no check"
    for _ in range(6):
        assert get(sluice.port("fe")) == 200
    assert len(web["n"].requests) == 3 and len(web["a"].requests) == 7
    state = ask(path, "show servers state be").splitlines()
    assert state[-1].split(" ")[2:5] == ["2", "n", "127.0.0.1"]


def test_leastconn_and_consistent_hash_take_servers(sluice, setup):
    proc, path, web = setup
    assert ask(path, f"add server lc/m 127.0.0.1:{web['m'].port} weight 5") == \
        "New server registered."
    assert ask(path, "add server conshash/x 127.0.0.1:9") == "New server registered."
    assert get(sluice.port("fe2")) == 503  # its only server is in maintenance
    assert ask(path, "set server lc/m state ready") == ""
    assert get(sluice.port("fe2")) == 200
    assert len(web["m"].requests) == 1
    assert ask(path, "get weight lc/m") == "5 (initial 5)"


@pytest.mark.parametrize("line, answer", [
    ("add server srr/n 127.0.0.1:1",
     "Backend must use a dynamic load balancing to support dynamic servers."),
    ("add server maphash/n 127.0.0.1:1",
     "Backend must use a dynamic load balancing to support dynamic servers."),
    ("add server nope/n 127.0.0.1:1", "No such backend."),
    ("add server fe/n 127.0.0.1:1", "No such backend."),
    ("add server be", "Require 'backend/server'."),
    ("add server be/n", "'server' expects <name> and <addr>[:<port>] as arguments."),
    ("add server be/a 127.0.0.1:1", "Already exists a server with the same name in backend."),
    ("add server be/b@d 127.0.0.1:1", "character '@' is not permitted in server name 'b@d'."),
    ("add server be/n 127.0.0.1:1 cookie x", "'cookie' option is not accepted for dynamic server"),
    ("del server be", "Require 'backend/server'."),
    ("del server nope/a", "No such backend."),
    ("del server be/zz", "No such server."),
    ("del server be/a", "Only servers in maintenance mode can be deleted."),
])
def test_refusals(sluice, setup, line, answer):
    proc, path, web = setup
    assert ask(path, line) == answer
    assert get(sluice.port("fe")) == 200  # traffic is not disturbed


def test_refused_id_and_option(sluice, setup):
    proc, path, web = setup
    out = ask(path, "add server be/n 127.0.0.1:1 id 1")
    assert re.fullmatch(r"'id' : custom id 1 already used at .+:\d+ \('server a'\)\.", out), out
    assert "'nosuchoption'" in ask(path, "add server be/n 127.0.0.1:1 nosuchoption")
    assert ask(path, "add server be/n 127.0.0.1:1 id 9") == "New server registered."
    assert stat_rows(path, "be")["n"]["sid"] == "9"


def test_user_level_cannot_add_or_delete(sluice, setup):
    proc, path, web = setup
    for line in ("add server be/n 127.0.0.1:1", "del server be/a"):
        out = cli_exchange(("127.0.0.1", sluice.port("cli")), line + "\n")
        assert out.decode().strip() == "Permission denied"
    assert list(stat_rows(path, "be")) == ["a", "BACKEND"]


def test_delete_added_and_configured_servers(sluice, setup):
    proc, path, web = setup
    assert ask(path, f"add server be/n 127.0.0.1:{web['n'].port}") == "New server registered."
    assert ask(path, "del server be/n") == "Server deleted."
    assert ask(path, "del server be/n") == "No such server."
    assert list(stat_rows(path, "be")) == ["a", "BACKEND"]
    # The name is free again, with a fresh server behind it.
    assert ask(path, f"add server be/n 127.0.0.1:{web['n'].port}") == "New server registered."
    assert ask(path, "enable server be/n") == ""
    assert ask(path, "disable server be/a") == ""
    assert ask(path, "del server be/a") == "Server deleted."
    for _ in range(3):
        assert get(sluice.port("fe")) == 200
    assert len(web["n"].requests) == 3
    assert list(stat_rows(path, "be")) == ["n", "BACKEND"]


def test_servers_pointed_to_stay(sluice, setup):
    proc, path, web = setup
    for srv in ("a", "b"):  # a: use-server; b: tracked by c
        assert ask(path, f"disable server refs/{srv}") == ""
        assert ask(path, f"del server refs/{srv}") == (
            "This server cannot be removed at runtime due to other configuration elements "
            "pointing to it.")


def test_delete_waits_for_connections(sluice, setup):
    proc, path, web = setup
    assert ask(path, f"add server be/n 127.0.0.1:{web['n'].port}") == "New server registered."
    assert ask(path, "disable server be/a") == ""
    assert ask(path, "enable server be/n") == ""
    result = {}

    def slow():
        result["status"] = get(sluice.port("fe"), "/delay/1500")

    t = threading.Thread(target=slow)
    t.start()
    web["n"].wait_requests(1)
    assert ask(path, "disable server be/n") == ""
    assert ask(path, "del server be/n") == \
        "Server still has connections attached to it, cannot remove it."
    t.join(10)
    assert result["status"] == 200  # maintenance lets the request in flight finish
    wait_for(lambda: ask(path, "del server be/n") == "Server deleted.", what="the deletion")


def test_added_checks_start_with_enable_health(sluice, setup, backends):
    proc, path, web = setup
    dead = backends.dead_port()
    assert ask(path, f"add server be/n 127.0.0.1:{dead} check inter 50ms fall 1") == \
        "New server registered."
    assert ask(path, "enable server be/n") == ""
    state = ask(path, "show servers state be").splitlines()[-1].split(" ")
    assert state[3] == "n" and state[13] == "2"  # check: configured, not enabled
    assert ask(path, "enable health be/n") == ""
    wait_for(lambda: stat_rows(path, "be")["n"]["status"] == "DOWN", what="the check to fail")
    assert ask(path, "disable server be/n") == ""
    assert ask(path, "del server be/n") == "Server deleted."
    assert get(sluice.port("fe")) == 200


def test_added_agent_starts_with_enable_agent(sluice, setup, backends):
    proc, path, web = setup
    assert ask(path, f"add server be/n 127.0.0.1:{web['n'].port} agent-check agent-port 9 "
                     "agent-inter 1h") == "New server registered."
    state = ask(path, "show servers state be").splitlines()[-1].split(" ")
    assert state[3] == "n" and state[14] == "18"  # agent: configured, not enabled
    assert ask(path, "enable agent be/n") == ""
    state = ask(path, "show servers state be").splitlines()[-1].split(" ")
    assert state[14] == "22"


def test_add_and_delete_while_traffic_flows(sluice, setup):
    """30 servers added, used and deleted while a client sends requests without pause: no
    request fails (a deleted server took nothing in flight with it)."""
    proc, path, web = setup
    stop = threading.Event()
    failures, done = [], [0]

    def client():
        deadline = time.monotonic() + 90
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                status = get(sluice.port("fe"))
            except Exception as e:  # noqa: BLE001 (a closed connection too)
                failures.append(repr(e))
                continue
            if status != 200:
                failures.append(status)
            done[0] += 1
            time.sleep(0.002)  # a steady flow, not a flood of the one-thread-per-connection backend

    t = threading.Thread(target=client)
    t.start()
    try:
        for i in range(30):
            name = f"be/d{i}"
            # Idle server connections are purged soon: the deletion waits for them, and the
            # test backend (one thread per connection) is not flooded with idle ones.
            assert ask(path, f"add server {name} 127.0.0.1:{web['n'].port} "
                             "pool-purge-delay 100ms") == "New server registered."
            assert ask(path, f"enable server {name}") == ""
            before = len(web["n"].requests)
            wait_for(lambda: len(web["n"].requests) > before, what=f"a request on {name}")
            assert ask(path, f"disable server {name}") == ""
            wait_for(lambda: ask(path, f"del server {name}") == "Server deleted.",
                     what=f"{name} deleted")
    finally:
        stop.set()
        t.join(100)
    assert failures == []
    assert done[0] > 30
    assert list(stat_rows(path, "be")) == ["a", "BACKEND"]
    assert proc.alive()


def test_added_server_tracks_a_server_of_the_configuration(sluice, setup, backends):
    """`add server ... track` as HAProxy 2.6: the target is checked the way it checks it, the
    new server takes its state and follows it, and the tracked server can never be deleted."""
    proc, path, web = setup
    wait_for(lambda: stat_rows(path, "chk")["s"]["status"] == "DOWN", what="the first check")
    assert ask(path, "add server refs/t 127.0.0.1:9 track b check") == \
        "unable to enable checks and tracking at the same time!"
    assert ask(path, "add server refs/t 127.0.0.1:9 track zz") == \
        "unable to find required server 'zz' for tracking."
    assert ask(path, "add server refs/t 127.0.0.1:9 track nope/b") == \
        "unable to find required proxy 'nope' for tracking."
    assert ask(path, "add server refs/t 127.0.0.1:9 track a") == \
        "unable to use refs/a for tracking as it does not have any check nor agent enabled."
    assert ask(path, "add server refs/d 127.0.0.1:9 check") == "New server registered."
    assert ask(path, "add server refs/t 127.0.0.1:9 track d") == \
        "unable to use refs/d for tracking as it is a dynamic server."

    assert ask(path, f"add server chk/t 127.0.0.1:{web['n'].port} track s") == \
        "New server registered."
    # HAProxy prints its server parser's words on stderr too.
    assert [re.sub(r"\(\d+\)", "(PID)", line) for line in proc.stderr_text().splitlines()
            if "CLI : 'server" in line][-3:] == [
        "[NOTICE]   (PID) : CLI : 'server refs/d' : New server registered.",
        "[ALERT]    (PID) : CLI : 'server refs/t' : unable to use refs/d for tracking as it is "
        "a dynamic server.",
        "[NOTICE]   (PID) : CLI : 'server chk/t' : New server registered."]
    assert ask(path, "enable server chk/t") == ""
    wait_for(lambda: "Server chk/t is DOWN/READY (leaving forced maintenance)." in
             proc.stderr_text(), what="t to leave maintenance as s is, DOWN")
    row = stat_rows(path, "chk")["t"]
    assert (row["status"], row["tracked"]) == ("DOWN", "chk/s")
    assert ask(path, f"set server chk/s check-addr 127.0.0.1 port {web['a'].port}") == ""
    wait_for(lambda: stat_rows(path, "chk")["t"]["status"] == "UP", what="t to follow s")
    assert ask(path, f"set server chk/s check-addr 127.0.0.1 port {backends.dead_port()}") == ""
    wait_for(lambda: "Server chk/t is DOWN via chk/s. 0 active" in proc.stderr_text(),
             what="t to go DOWN with s")

    assert ask(path, "disable server chk/t") == ""
    assert ask(path, "del server chk/t") == "Server deleted."
    assert ask(path, "disable server chk/s") == ""
    # Once tracked, never deleted (HAProxy's SRV_F_NON_PURGEABLE).
    assert ask(path, "del server chk/s") == ("This server cannot be removed at runtime due to "
                                             "other configuration elements pointing to it.")


def test_added_server_warms_up_with_slowstart(sluice, setup, backends):
    """A dynamic server's `slowstart`: back UP after its check failed, it warms up (the
    throttle column), and it can be deleted while warming up."""
    proc, path, web = setup
    dead = backends.dead_port()
    assert ask(path, f"add server be/n 127.0.0.1:{web['n'].port} check port {dead} "
                     "inter 100ms rise 1 fall 1 slowstart 60s") == "New server registered."
    assert ask(path, "enable server be/n;enable health be/n") == ""
    wait_for(lambda: stat_rows(path, "be")["n"]["status"] == "DOWN", what="the check to fail")
    assert ask(path, f"set server be/n check-port {web['n'].port}") == ""
    wait_for(lambda: stat_rows(path, "be")["n"]["status"] == "UP", what="the check to pass")
    throttle = stat_rows(path, "be")["n"]["throttle"]
    assert throttle != "" and int(throttle) < 100
    assert ask(path, "disable server be/n") == ""
    wait_for(lambda: ask(path, "del server be/n") == "Server deleted.", what="the deletion")
    assert list(stat_rows(path, "be")) == ["a", "BACKEND"]
    assert get(sluice.port("fe")) == 200 and proc.alive()


def test_added_server_observes_its_traffic(sluice, setup, backends):
    """A dynamic server's `observe layer4`: a failed connection (error-limit 1, on-error
    mark-down) takes it DOWN although its check passes."""
    proc, path, web = setup
    dead = backends.dead_port()
    assert ask(path, f"add server be/o 127.0.0.1:{dead} check port {web['n'].port} "
                     "inter 100ms rise 1 observe layer4 error-limit 1 "
                     "on-error mark-down") == "New server registered."
    assert ask(path, "enable server be/o;enable health be/o") == ""
    wait_for(lambda: stat_rows(path, "be")["o"]["status"] == "UP", what="the check to pass")
    for _ in range(4):  # round robin: some go to o, and fail to connect there
        get(sluice.port("fe"))
    # Its next check brings it back UP: the message stays.
    wait_for(lambda: "Server be/o is DOWN, reason: Health analyze, info: \"Detected 1 "
             "consecutive errors, last one was: L4 unsuccessful connection\"" in
             proc.stderr_text(), what="o marked DOWN")
    assert ask(path, "disable server be/o") == ""
    wait_for(lambda: ask(path, "del server be/o") == "Server deleted.", what="the deletion")
    assert get(sluice.port("fe")) == 200 and proc.alive()


def test_set_check_addr(sluice, setup):
    """`set server ... check-addr <ip> [port <port>]` (HAProxy 2.6's answers): the check goes
    to the new address, and `show servers state` shows it in srv_check_addr."""
    proc, path, web = setup
    wait_for(lambda: stat_rows(path, "chk")["s"]["status"] == "DOWN", what="the first check")
    assert ask(path, "set server chk/s check-addr") == \
        "set server <b>/<s> check-addr requires an address and optionally a port."
    assert ask(path, "set server chk/s check-addr bad") == "invalid addr 'bad'"
    assert ask(path, "set server chk/s check-addr 127.0.0.1 port x") == \
        "provided port is not an integer"
    assert ask(path, "set server be/a check-addr 127.0.0.1") == \
        "health checks are not enabled on this server"
    assert ask(path, f"set server chk/s check-addr 127.0.0.1 port {web['a'].port}") == ""
    row = ask(path, "show servers state chk").splitlines()[-1].split(" ")
    assert row[21:23] == [str(web["a"].port), "127.0.0.1"]
    wait_for(lambda: stat_rows(path, "chk")["s"]["status"] == "UP", what="the check to pass")
