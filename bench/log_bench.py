#!/usr/bin/python3
"""Traffic logs' overhead: sluice and haproxy side by side on the same mode http config, keep-alive
requests (wrk -c50) to an nginx backend, each without logs and with `option httplog` (two
captured headers) sent to a UDP syslog target on loopback (a bound socket nobody reads: the
kernel drops what does not fit, as a busy syslog would; the proxies' work is the same).
Figures: requests/s and proxy CPU s per 10k requests, medians of interleaved runs; then each
proxy's cost of logging (with logs / without) and sluice's ratio of it to haproxy's.

usage: bench/log_bench.py [--proxy NAME=BIN]... [--runs 3] [--duration 10] [--connections 50]
"""
import os
import socket
import statistics
import sys

from harness import WRK_RESULT_LUA, free_port, run_bench, run_wrk_through

SINK = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
SINK.bind(("127.0.0.1", 0))


def setup(work):
    with open(os.path.join(work, "result.lua"), "w") as f:
        f.write(WRK_RESULT_LUA)


def proxy_config(port, backend_port, logs):
    log_global = f"    log 127.0.0.1:{SINK.getsockname()[1]} local0\n" if logs else ""
    log_proxy = ("    log global\n    option httplog\n"
                 "    capture request header Host len 32\n"
                 "    capture request header User-Agent len 32\n") if logs else ""
    return f"""global
    nbthread 1
    maxconn 4000
{log_global}defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 30s
    timeout http-keep-alive 30s
frontend fe
    bind 127.0.0.1:{port}
{log_proxy}    default_backend be
backend be
    http-reuse always
    server s1 127.0.0.1:{backend_port}
"""


def measure(name, binary, work, backend_port, args):
    port = free_port()
    reqs, dur, cpu, bad_status = run_wrk_through(
        name, binary, proxy_config(port, backend_port, name.endswith("+log")), port, work,
        ["-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s",
         os.path.join(work, "result.lua"), f"http://127.0.0.1:{port}/small"])
    if bad_status > reqs / 1000:
        raise RuntimeError(f"{name}: {bad_status} error statuses in {reqs} requests")
    return {"req/s": reqs / dur, "CPU s/10k req": cpu / reqs * 1e4}


def overhead(results):
    """Each proxy's CPU per request with logs over without, and sluice's over haproxy's."""
    med = {n: statistics.median(r["CPU s/10k req"] for r in rs) for n, rs in results.items()}
    cost = {n: med[n + "+log"] / med[n] for n in ("haproxy", "sluice") if n + "+log" in med}
    print("\n| CPU per request, with logs / without | haproxy | sluice | sluice/haproxy |")
    print("|---|---|---|---|")
    print(f"| httplog to UDP | {cost['haproxy']:.2f} | {cost['sluice']:.2f} | "
          f"{cost['sluice'] / cost['haproxy']:.2f} |")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sluice = os.path.join(here, "..", "build", "sluice")
    haproxy = "/usr/sbin/haproxy"
    # Both variants of both proxies, interleaved run by run.
    sys.argv += ["--proxy", f"haproxy+log={haproxy}", "--proxy", f"sluice+log={sluice}"]
    results = run_bench(__doc__, measure, ("req/s", "CPU s/10k req"), "sluice-logs.", setup)
    overhead(results)
