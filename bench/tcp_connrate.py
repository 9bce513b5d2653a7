#!/usr/bin/python3
"""mode tcp connection rate: sluice and haproxy side by side on the same config.

Each request of `wrk -t1 -cN` carries `Connection: close`, so every request is a new client
connection and a new server connection through a `mode tcp` proxy, in front of an nginx that
answers a small fixed body. Figures: connections/s and proxy CPU seconds per 10k connections,
as medians over interleaved runs, with the ratio to haproxy and the range of paired ratios.
The shared harness (../shared/bench/run) covers tcp-bulk; this covers what it does not.

usage: bench/tcp_connrate.py [--proxy NAME=BIN]... [--runs 3] [--duration 10] [--connections 50]
"""
import os

from harness import WRK_RESULT_LUA, free_port, run_bench, run_wrk_through

WRK_SCRIPT = 'wrk.headers["Connection"] = "close"\n' + WRK_RESULT_LUA


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


def write_lua(work):
    with open(os.path.join(work, "close.lua"), "w") as f:
        f.write(WRK_SCRIPT)


def measure(name, binary, work, backend_port, args):
    port = free_port()
    reqs, dur, cpu, bad_status = run_wrk_through(
        name, binary, proxy_config(port, backend_port), port, work,
        ["-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s",
         os.path.join(work, "close.lua"), f"http://127.0.0.1:{port}/"])
    if bad_status > reqs / 1000:
        raise RuntimeError(f"{name}: {bad_status} error statuses in {reqs} requests")
    return {"conn/s": reqs / dur, "CPU s/10k conn": cpu / reqs * 1e4}


if __name__ == "__main__":
    run_bench(__doc__, measure, ("conn/s", "CPU s/10k conn"), "sluice-connrate.", write_lua)
