#!/usr/bin/python3
"""mode tcp connection rate: sluice and haproxy side by side on the same config.

Each request of `wrk -t1 -cN` carries `Connection: close`, so every request is a new client
connection and a new server connection through a `mode tcp` proxy, in front of an nginx that
answers a small fixed body. Figures: connections/s and proxy CPU seconds per 10k connections,
as medians over interleaved runs, with the ratio to haproxy and the range of paired ratios.
The shared harness (../shared/bench/run) covers tcp-bulk; this covers what it does not.

usage: bench/tcp_connrate.py [--proxy NAME=BIN]... [--runs 3] [--duration 10] [--connections 50]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_SCRIPT = """
wrk.headers["Connection"] = "close"
done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("WRK_RESULT requests=%d duration_s=%.6f errors=%d status_errors=%d\\n",
      summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"port {port} not listening after {timeout}s")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proxy_config(port, backend_port):
    return f"""global
    nbthread 1
    maxconn 4000
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 127.0.0.1:{backend_port}
"""


def start_backend(work, port):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx.error.log warn;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "{'x' * 128}"; }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", work, "-c", conf], stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    return proc


def measure(name, binary, work, backend_port, args):
    port = free_port()
    cfg = os.path.join(work, f"{name}.cfg")
    with open(cfg, "w") as f:
        f.write(proxy_config(port, backend_port))
    proc = subprocess.Popen([binary, "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        before = cpu_seconds(proc.pid)
        out = subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s",
                              "-s", os.path.join(work, "close.lua"), f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True, check=True).stdout
        after = cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    line = next(l for l in out.splitlines() if l.startswith("WRK_RESULT"))
    vals = dict(kv.split("=") for kv in line.split()[1:])
    reqs, dur = int(vals["requests"]), float(vals["duration_s"])
    errors = int(vals["errors"]) + int(vals["status_errors"])
    if errors > reqs / 1000:
        raise RuntimeError(f"{name}: {errors} errors in {reqs} requests")
    return {"conn/s": reqs / dur, "CPU s/10k conn": (after - before) / reqs * 1e4}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--proxy", action="append", default=[])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    proxies = {"haproxy": shutil.which("haproxy") or "/usr/sbin/haproxy",
               "sluice": os.path.join(HERE, "..", "build", "sluice")}
    for p in args.proxy:
        name, _, binary = p.partition("=")
        proxies[name] = binary
    work = tempfile.mkdtemp(prefix="sluice-connrate.")
    with open(os.path.join(work, "close.lua"), "w") as f:
        f.write(WRK_SCRIPT)
    backend_port = free_port()
    backend = start_backend(work, backend_port)
    results = {name: [] for name in proxies}
    try:
        for run in range(args.runs):
            for name, binary in proxies.items():  # interleaved: drift hits every proxy alike
                r = measure(name, binary, work, backend_port, args)
                results[name].append(r)
                print(f"run {run + 1}/{args.runs} {name}: " +
                      ", ".join(f"{k} {v:.3f}" for k, v in r.items()), file=sys.stderr)
    finally:
        backend.terminate()
        backend.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n| figure | " + " | ".join(proxies) + " | " +
          " | ".join(f"{n}/haproxy" for n in proxies if n != "haproxy") + " |")
    print("|---" * (1 + 2 * len(proxies) - 1) + "|")
    for fig in ("conn/s", "CPU s/10k conn"):
        med = {n: statistics.median(r[fig] for r in rs) for n, rs in results.items()}
        cells = [f"{med[n]:.3f}" for n in proxies]
        for n in proxies:
            if n == "haproxy":
                continue
            paired = [a[fig] / b[fig] for a, b in zip(results[n], results["haproxy"])]
            cells.append(f"{med[n] / med['haproxy']:.2f} [{min(paired):.2f}–{max(paired):.2f}]")
        print(f"| {fig} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
