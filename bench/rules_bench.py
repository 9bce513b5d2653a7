#!/usr/bin/python3
"""ACLs and rules: sluice and haproxy side by side on the same mode http config carrying 100 ACL
rules, a 10,000-network IP list and a 10,000-entry map, keep-alive requests (wrk -c50) to an
nginx backend. Every request goes through all of it: 100 `http-request set-header ... if
{ path_beg ... }` rules that do not match, a `deny if { src -f ips.lst }` that does not match
(loopback is not in the list), a `set-header X-Map %[path,map_str(paths.map,none)]` lookup and
a conditional `use_backend`. Figures: requests/s and proxy CPU s per 10k requests, medians of
interleaved runs with the ratio to haproxy.

usage: bench/rules_bench.py [--proxy NAME=BIN]... [--runs 3] [--duration 10] [--connections 50]
"""
import os
import random

from harness import WRK_RESULT_LUA, free_port, run_bench, run_wrk_through

RULES = 100
ENTRIES = 10000


def setup(work):
    with open(os.path.join(work, "result.lua"), "w") as f:
        f.write(WRK_RESULT_LUA)
    write_lists(work)


def write_lists(work):
    rnd = random.Random(42)
    with open(os.path.join(work, "ips.lst"), "w") as f:
        for _ in range(ENTRIES):
            a, b, c = rnd.randrange(1, 126), rnd.randrange(256), rnd.randrange(256)
            prefix = rnd.choice((16, 24, 32))
            f.write(f"{a}.{b}.{c}.0/{prefix}\n" if prefix != 32 else f"{a}.{b}.{c}.{rnd.randrange(256)}\n")
    with open(os.path.join(work, "paths.map"), "w") as f:
        for i in range(ENTRIES):
            f.write(f"/page/{i} value{i}\n")


def proxy_config(port, backend_port, work):
    rules = "".join(f"    http-request set-header X-R{i} r{i} if {{ path_beg /nomatch{i}/ }}\n"
                    for i in range(RULES))
    return f"""global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 30s
    timeout http-keep-alive 30s
frontend fe
    bind 127.0.0.1:{port}
    acl blocked src -f {work}/ips.lst
    http-request deny if blocked
{rules}    http-request set-header X-Map %[path,map_str({work}/paths.map,none)]
    use_backend other if {{ hdr(host) -m str other.example }}
    default_backend be
backend be
    http-reuse always
    server s1 127.0.0.1:{backend_port}
backend other
    server s1 127.0.0.1:{backend_port}
"""


def measure(name, binary, work, backend_port, args):
    port = free_port()
    reqs, dur, cpu, bad_status = run_wrk_through(
        name, binary, proxy_config(port, backend_port, work), port, work,
        ["-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s",
         os.path.join(work, "result.lua"), f"http://127.0.0.1:{port}/page/1234"])
    if bad_status > reqs / 1000:
        raise RuntimeError(f"{name}: {bad_status} error statuses in {reqs} requests")
    return {"req/s": reqs / dur, "CPU s/10k req": cpu / reqs * 1e4}


if __name__ == "__main__":
    run_bench(__doc__, measure, ("req/s", "CPU s/10k req"), "sluice-rules.", setup)
