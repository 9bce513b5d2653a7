"""Server options that follow another server's health: `track` (a server takes the state of
another's checks) and `slowstart` (a server back UP warms up). Each test pins HAProxy 2.6's
behaviour (run against /usr/sbin/haproxy with --sluice= as well)."""
import collections
import time

import pytest

import test_checks_basic as basic
from test_checks_basic import fakes  # noqa: F401  (the fixture)


def two_backends(sluice, b_servers, c_servers):
    return sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend b
backend b
{b_servers}
backend c
{c_servers}
"""


def test_track_follows_depth_first_with_via_messages(sluice, wait_for, fakes):
    """HAProxy 2.6: tracking servers take the tracked server's state right after it, each with
    "is DOWN via px/srv" (no reason), depth first; the backend alert comes when its last
    usable server goes."""
    chk, srv = sluice.port("chk"), sluice.port("srv")
    fakes(srv, basic.ok_response())
    proc = sluice.start(two_backends(
        sluice,
        f"""    server s1 127.0.0.1:{chk} check inter 150 fall 1 rise 1
    server s2 127.0.0.1:{srv} track s1
    server s3 127.0.0.1:{srv} track c/s4""",
        f"    server s4 127.0.0.1:{srv} track b/s2"))
    wait_for(lambda: len(basic.state_lines(proc)) >= 6, what="the DOWN messages")
    tail = ("0 sessions active, 0 requeued, 0 remaining in queue.")
    assert basic.state_lines(proc)[:6] == [
        "[WARNING]  (PID) : Server b/s1 is DOWN, reason: Layer4 connection problem, info: "
        "\"Connection refused\", check duration: Nms. 2 active and 0 backup servers left. " + tail,
        "[WARNING]  (PID) : Server b/s2 is DOWN via b/s1. 1 active and 0 backup servers left. "
        + tail,
        "[WARNING]  (PID) : Server c/s4 is DOWN via b/s2. 0 active and 0 backup servers left. "
        + tail,
        "[ALERT]    (PID) : backend 'c' has no server available!",
        "[WARNING]  (PID) : Server b/s3 is DOWN via c/s4. 0 active and 0 backup servers left. "
        + tail,
        "[ALERT]    (PID) : backend 'b' has no server available!",
    ]
    # The tracking servers take no traffic although their own port answers.
    assert basic.http_status(sluice.port("fe"))[0] == 503
    fakes(chk)
    wait_for(lambda: len(basic.state_lines(proc)) >= 10, what="the UP messages")
    up = "0 sessions requeued, 0 total in queue."
    assert basic.state_lines(proc)[6:10] == [
        "[WARNING]  (PID) : Server b/s1 is UP, reason: Layer4 check passed, check duration: "
        "Nms. 1 active and 0 backup servers online. " + up,
        "[WARNING]  (PID) : Server b/s2 is UP via b/s1. 2 active and 0 backup servers online. "
        + up,
        "[WARNING]  (PID) : Server c/s4 is UP via b/s2. 1 active and 0 backup servers online. "
        + up,
        "[WARNING]  (PID) : Server b/s3 is UP via c/s4. 3 active and 0 backup servers online. "
        + up,
    ]


@pytest.mark.parametrize("lines,message", [
    ("    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2 track s1",
     "unable to use b/s1 for tracking as it does not have any check nor agent enabled."),
    ("    server s2 127.0.0.1:2 track s9", "unable to find required server 's9' for tracking."),
    ("    server s2 127.0.0.1:2 track x/s1", "unable to find required proxy 'x' for tracking."),
    ("    server s1 127.0.0.1:1 check\n    server s2 127.0.0.1:2 check track s1",
     "unable to enable checks and tracking at the same time!"),
    ("    server s7 127.0.0.1:2 track s7",
     "unable to track b/s7 as it belongs to a tracking chain looping back to b/s7."),
    ("    server s1 127.0.0.1:1 track s2\n    server s2 127.0.0.1:2 track s1",
     "unable to track b/s1 as it belongs to a tracking chain looping back to b/s2."),
])
def test_track_errors(sluice, lines, message):
    """HAProxy 2.6's refusals of `track`, in its words (the line prefix is each program's)."""
    cfg = two_backends(sluice, lines, "    server c1 127.0.0.1:3")
    res = sluice.check(cfg)
    assert res.returncode != 0
    assert message in res.stderr + res.stdout


def shares(port, n):
    got = collections.Counter()
    for _ in range(n):
        got[basic.http_status(port)[1]] += 1
    return got


@pytest.mark.parametrize("balance,ramps", [("roundrobin", True), ("static-rr", False)])
def test_slowstart_ramps_the_weight_after_coming_back(sluice, wait_for, fakes, balance, ramps):
    """HAProxy 2.6: a server back UP with `slowstart` starts at about 1/16 of its weight (even
    at weight 1) and grows to the full weight over the slowstart time; at start-up it is at
    full weight at once. Static algorithms keep their weights."""
    a_port, b_port, health = sluice.port("a"), sluice.port("b"), sluice.port("health")
    fakes(a_port, basic.ok_response(b"a"))
    fakes(b_port, basic.ok_response(b"b"))
    h = fakes(health)
    proc = sluice.start(sluice.base("http") + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    balance {balance}
    server a 127.0.0.1:{a_port} check port {health} inter 100 fall 1 rise 1 slowstart 3s
    server b 127.0.0.1:{b_port}
""")
    fe = sluice.port("fe")
    got = shares(fe, 20)
    assert got[b"a"] == 10, got  # no warm-up at start
    h.stop()
    wait_for(lambda: any("be/a is DOWN" in l for l in basic.state_lines(proc)), what="DOWN")
    fakes(health)
    wait_for(lambda: any("be/a is UP" in l for l in basic.state_lines(proc)), what="UP")
    began = time.monotonic()
    got = shares(fe, 34)
    if not ramps:
        assert got[b"a"] == 17, got
    elif time.monotonic() - began < 0.9:  # still in the first second: 1/16 of the weight
        assert got[b"a"] <= 4, got
    time.sleep(max(0, began + 3.2 - time.monotonic()))
    got = shares(fe, 20)
    assert 9 <= got[b"a"] <= 11, got
