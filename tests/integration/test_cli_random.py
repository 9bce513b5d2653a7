"""1,000 randomized runtime API lines, from valid commands to garbage, fired at the admin socket
while requests flow (issue #7): not one request fails, the process stays up, and every line is
answered. Bounded in count and time. Passes against Debian's haproxy too, with the same seed
and the same lines.
"""

import random
import socket
import threading
import time

from conftest import http_connect

WORDS = ["show", "set", "get", "add", "del", "clear", "enable", "disable", "shutdown", "stat",
         "info", "servers", "state", "conn", "weight", "server", "backend", "frontend", "map",
         "acl", "maxconn", "global", "health", "agent", "typed", "json", "up", "no-maint",
         "be/a", "be/b", "be/", "/a", "nope/x", "-1", "0", "1", "4", "99999999999", "50%", "abc",
         "drain", "ready", "maint", "#1", "@1", "prompt", "help", "version", "env", "level",
         "quit", "\\;", ";", "\t", "  ", "é", "\x01", "a" * 300, "cli", "timeout", "severity-output"]

# Commands that would change what the traffic needs (the servers taking requests, the listener)
# are left out: the point is that nothing else disturbs it.
FORBIDDEN = ("disable", "shutdown", "maint", "drain", "set weight", "set server",
             "set maxconn", "del", "clear", "quit", "prompt", "timeout", "add", "commit",
             "set map", "set rate-limit", "weight")

VALID = ["show stat", "show stat typed", "show stat json", "show info", "show info json",
         "show servers state", "show servers conn", "show backend", "get weight be/a",
         "show version", "help", "show map", "show acl", "show stat -1 4 -1", "show cli level",
         "enable server be/a", "enable health be/a", "get map #0 x"]


def random_line(rng):
    if rng.random() < 0.4:
        return rng.choice(VALID)
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6)))


def test_random_lines_do_not_disturb_traffic(sluice, backends):
    web = {n: backends.http(n) for n in ("a", "b")}
    path = str(sluice.tmp_path / "admin.sock")
    proc = sluice.start(
        sluice.base("http", nbthread=2, extra_global=f"stats socket {path} level admin")
        + f"listen be\n    bind 127.0.0.1:{sluice.port('lb')}\n"
        + f"    server a 127.0.0.1:{web['a'].port}\n"
        + f"    server b 127.0.0.1:{web['b'].port}\n")
    rng = random.Random(7)
    lines = []
    while len(lines) < 1000:
        line = random_line(rng)
        if not any(f in line for f in FORBIDDEN):
            lines.append(line)

    failures, served = [], [0]
    stop = threading.Event()

    def traffic():
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                with http_connect(sluice.port("lb")) as c:
                    for _ in range(10):
                        c.request("GET", "/")
                        r = c.response()
                        if r.status != 200:
                            failures.append(r.status)
                        served[0] += 1
            except OSError as e:
                failures.append(repr(e))

    clients = [threading.Thread(target=traffic) for _ in range(2)]
    for t in clients:
        t.start()
    answered = 0
    try:
        deadline = time.monotonic() + 60
        for i in range(0, len(lines), 10):
            assert time.monotonic() < deadline, "the lines took too long"
            # Ten lines per connection, in one write: every one gets an answer before the close.
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(10)
                s.connect(path)
                s.sendall("".join(line.replace("\n", " ") + "\n"
                                  for line in lines[i:i + 10]).encode("utf-8", "replace"))
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
            answered += 1
            assert out, lines[i:i + 10]
    finally:
        stop.set()
        for t in clients:
            t.join()
    assert answered == 100
    assert proc.alive()
    assert failures == []
    assert served[0] > 0
