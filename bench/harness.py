"""Shared pieces of the bench/ drivers: ports, an nginx backend, running a proxy under wrk with
its CPU time measured from /proc, and the ratio table (medians, range of paired ratios)."""
import os
import socket
import statistics
import subprocess
import time


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


def start_backend(work, port):
    """nginx answering 200 with a 128-byte body on every path."""
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx.error.log warn;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "{'x' * 128}"; }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", work, "-c", conf], stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    return proc


WRK_RESULT_LUA = """
done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("WRK_RESULT requests=%d duration_s=%.6f errors=%d status_errors=%d\\n",
      summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def run_wrk_through(name, binary, config_text, port, work, wrk_args, max_error_ratio=0.001):
    """Starts `binary -db -f CFG` on `config_text` (listening on `port`), runs wrk with
    `wrk_args` (the URL included), stops the proxy. Returns (requests, seconds, proxy CPU s,
    non-2xx/3xx count)."""
    cfg = os.path.join(work, f"{name}.cfg")
    with open(cfg, "w") as f:
        f.write(config_text)
    proc = subprocess.Popen([binary, "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        before = cpu_seconds(proc.pid)
        out = subprocess.run(["wrk", *wrk_args], capture_output=True, text=True,
                             check=True).stdout
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
    if int(vals["errors"]) > reqs * max_error_ratio:
        raise RuntimeError(f"{name}: {vals['errors']} socket errors in {reqs} requests")
    return reqs, dur, after - before, int(vals["status_errors"])


def print_table(results, proxies, figures):
    """Markdown table: per figure, each proxy's median and, for each non-haproxy proxy, the
    ratio of medians to haproxy with the range of run-by-run paired ratios."""
    others = [n for n in proxies if n != "haproxy"]
    print("\n| figure | " + " | ".join(proxies) + " | " +
          " | ".join(f"{n}/haproxy" for n in others) + " |")
    print("|---" * (1 + len(proxies) + len(others)) + "|")
    for fig in figures:
        med = {n: statistics.median(r[fig] for r in rs) for n, rs in results.items()}
        cells = [f"{med[n]:.4g}" for n in proxies]
        for n in others:
            paired = [a[fig] / b[fig] for a, b in zip(results[n], results["haproxy"])]
            cells.append(f"{med[n] / med['haproxy']:.2f} [{min(paired):.2f}–{max(paired):.2f}]")
        print(f"| {fig} | " + " | ".join(cells) + " |")


def interleave(proxies, runs, measure):
    """Runs `measure(name, binary)` for every proxy in turn, `runs` times (run 1 for all, then
    run 2...), so drift and neighbours hit every proxy alike. Returns {name: [figures...]}."""
    import sys
    results = {name: [] for name in proxies}
    for run in range(runs):
        for name, binary in proxies.items():
            r = measure(name, binary)
            results[name].append(r)
            print(f"run {run + 1}/{runs} {name}: " +
                  ", ".join(f"{k} {v:.4g}" for k, v in r.items()), file=sys.stderr)
    return results


def run_bench(doc, measure, figures, prefix, setup=None):
    """The common main of a bench driver: options (--proxy NAME=BIN, --runs, --duration,
    --connections), an nginx backend, a work directory (prepared by `setup(work)`), interleaved
    runs of `measure(name, binary, work, backend_port, args)`, then the ratio table. Returns
    the figures per proxy."""
    import argparse
    import shutil
    import tempfile
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--proxy", action="append", default=[])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    proxies = {"haproxy": shutil.which("haproxy") or "/usr/sbin/haproxy",
               "sluice": os.path.join(here, "..", "build", "sluice")}
    for p in args.proxy:
        name, _, binary = p.partition("=")
        proxies[name] = binary
    work = tempfile.mkdtemp(prefix=prefix)
    if setup:
        setup(work)
    backend_port = free_port()
    backend = start_backend(work, backend_port)
    try:
        results = interleave(proxies, args.runs,
                             lambda name, binary: measure(name, binary, work, backend_port, args))
    finally:
        backend.terminate()
        backend.wait()
        shutil.rmtree(work, ignore_errors=True)
    print_table(results, proxies, figures)
    return results
