#!/usr/bin/python3
"""Health-check cost: N servers (default 10,000) spread over a few loopback listeners, each
checked every `inter` (default 2 s) with a TCP connect check, as issue #6 asks. Prints the
proxy's CPU use over the measured window as a percentage of one core, and the checks the
listeners saw (so a proxy that skipped checks cannot look cheap). Runs haproxy too with
--proxy haproxy=/usr/sbin/haproxy.

    bench/checks_bench.py --proxy sluice=build/sluice [--proxy haproxy=/usr/sbin/haproxy]
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import cpu_seconds, free_port, wait_listening  # noqa: E402


class Sink:
    """Loopback listeners that accept and close, counting connections."""

    def __init__(self, count):
        self.ports = []
        self.accepted = 0
        self._lock = threading.Lock()
        self._socks = []
        for _ in range(count):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(4096)
            self._socks.append(s)
            self.ports.append(s.getsockname()[1])
            threading.Thread(target=self._run, args=(s,), daemon=True).start()

    def _run(self, s):
        n = 0
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            c.close()
            n += 1
            if n % 256 == 0:
                with self._lock:
                    self.accepted += 256

    def close(self):
        for s in self._socks:
            s.close()


def config(servers, ports, inter, fe_port, nbthread):
    lines = [f"global\n    nbthread {nbthread}\n    maxconn 1000\n",
             "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n"
             "    timeout server 30s\n",
             f"frontend fe\n    bind 127.0.0.1:{fe_port}\n    default_backend be0\n"]
    per_backend = 1000
    for b in range(0, servers, per_backend):
        lines.append(f"backend be{b // per_backend}\n")
        for i in range(b, min(servers, b + per_backend)):
            port = ports[i % len(ports)]
            lines.append(f"    server s{i} 127.0.0.1:{port} check inter {inter}\n")
    return "".join(lines)


def run(name, binary, args):
    sink = Sink(args.listeners)
    work = tempfile.mkdtemp(prefix="checks-bench-")
    fe = free_port()
    path = os.path.join(work, "checks.cfg")
    with open(path, "w") as f:
        f.write(config(args.servers, sink.ports, args.inter, fe, args.nbthread))
    proc = subprocess.Popen([binary, "-db", "-f", path], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "stderr.txt"), "w"))
    try:
        wait_listening(fe, proc)
        time.sleep(args.warmup)
        cpu0, seen0, t0 = cpu_seconds(proc.pid), sink.accepted, time.monotonic()
        time.sleep(args.duration)
        cpu1, seen1, t1 = cpu_seconds(proc.pid), sink.accepted, time.monotonic()
    finally:
        proc.terminate()
        proc.wait()
        sink.close()
    with open(os.path.join(work, "stderr.txt")) as f:
        downs = sum(1 for line in f if "is DOWN" in line)
    wall = t1 - t0
    pct = 100.0 * (cpu1 - cpu0) / wall
    rate = (seen1 - seen0) / wall
    print(f"{name}: {pct:.2f}% of one core; {rate:.0f} checks/s seen by the listeners "
          f"(expected {args.servers / (float(args.inter.rstrip('s')) or 1):.0f}); "
          f"{downs} servers marked DOWN")
    return pct


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--proxy", action="append", default=[], help="NAME=BINARY (repeatable)")
    ap.add_argument("--servers", type=int, default=10000)
    ap.add_argument("--listeners", type=int, default=4)
    ap.add_argument("--inter", default="2s")
    ap.add_argument("--nbthread", type=int, default=1)
    ap.add_argument("--warmup", type=float, default=4.0)
    ap.add_argument("--duration", type=float, default=10.0)
    args = ap.parse_args()
    proxies = [p.split("=", 1) for p in args.proxy] or [["sluice", "build/sluice"]]
    for name, binary in proxies:
        run(name, binary, args)


if __name__ == "__main__":
    main()
