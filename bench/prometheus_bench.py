#!/usr/bin/python3
"""Prometheus scrapes under load: sluice and haproxy side by side on the same mode http config
(a backend of --servers servers, all on one nginx), keep-alive requests (wrk -c50), run twice:
without scrapes, then with `/metrics` (use-service prometheus-exporter, on its own frontend)
scraped once a second. Figures: requests/s both ways, their ratio, and the mean scrape time and
size. The scrape is built on a worker thread, so its cost shows up as lost requests.

usage: bench/prometheus_bench.py [--proxy NAME=BIN]... [--runs 3] [--duration 10]
                                 [--connections 50]
"""
import os
import threading
import time
import urllib.request

from harness import WRK_RESULT_LUA, free_port, run_bench, run_wrk_through

SERVERS = 200


def setup(work):
    with open(os.path.join(work, "result.lua"), "w") as f:
        f.write(WRK_RESULT_LUA)


def proxy_config(port, stats_port, backend_port):
    servers = "".join(f"    server s{i} 127.0.0.1:{backend_port}\n" for i in range(SERVERS))
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
frontend stats
    bind 127.0.0.1:{stats_port}
    http-request use-service prometheus-exporter
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    http-reuse always
{servers}"""


class Scraper(threading.Thread):
    """GETs /metrics once a second until stopped; records each scrape's time and size."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.stop = threading.Event()
        self.times, self.sizes = [], []

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    self.sizes.append(len(r.read()))
                self.times.append(time.monotonic() - started)
            except OSError:
                pass  # not listening yet
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))


def measure(name, binary, work, backend_port, args):
    figures = {}
    for scraped in (False, True):
        port, stats_port = free_port(), free_port()
        scraper = Scraper(stats_port) if scraped else None
        if scraper:
            scraper.start()
        try:
            reqs, dur, cpu, bad = run_wrk_through(
                name, binary, proxy_config(port, stats_port, backend_port), port, work,
                ["-t1", f"-c{args.connections}", f"-d{args.duration}s", "-s",
                 os.path.join(work, "result.lua"), f"http://127.0.0.1:{port}/"])
        finally:
            if scraper:
                scraper.stop.set()
                scraper.join()
        if bad > reqs / 1000:
            raise RuntimeError(f"{name}: {bad} error statuses in {reqs} requests")
        if scraped:
            figures["req/s scraped"] = reqs / dur
            figures["scrape ms"] = 1000 * sum(scraper.times) / max(1, len(scraper.times))
            figures["scrape kB"] = sum(scraper.sizes) / max(1, len(scraper.sizes)) / 1024
        else:
            figures["req/s"] = reqs / dur
    figures["scraped/plain"] = figures["req/s scraped"] / figures["req/s"]
    return figures


if __name__ == "__main__":
    run_bench(__doc__, measure, ("req/s", "req/s scraped", "scraped/plain", "scrape ms",
                                 "scrape kB"), "sluice-prom.", setup)
