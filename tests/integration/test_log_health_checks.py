"""`option log-health-checks`: every change of a check's result is reported, not only the
server's UP/DOWN transitions, for regular checks (TCP, HTTP) and agent checks. Each test pins
HAProxy 2.6's lines byte for byte (run against /usr/sbin/haproxy with --sluice= as well), with
the pid and the check durations made constant."""
import re

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
