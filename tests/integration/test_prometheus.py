"""`http-request use-service prometheus-exporter` (issue #7): HAProxy 2.6's exporter. Counters
after traffic, server states, `scope=` and `no-maint`, the families compared with Debian's
haproxy on the same config, Sluice's latency histograms, and Debian's
prometheus-haproxy-exporter reading our stats socket.

Where a test says "HAProxy 2.6 ...", it was checked with Debian's haproxy 2.6.12, and the file
passes with `--sluice=/usr/sbin/haproxy`."""
import http.client
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import Sluice, _free_port

HAPROXY = "/usr/sbin/haproxy"
EXPORTER = "/usr/bin/prometheus-haproxy-exporter"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{family: type}, [(name, {labels}, value)] from an exposition text; fails on a sample
    line that is not of the format."""
    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line.startswith("#") or not line:
            continue
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            labels = dict(LABEL.findall(m.group(2) or ""))
            samples.append((m.group(1), labels, float(m.group(3))))
    return types, samples


def value(samples, name, **labels):
    found = [v for n, l, v in samples if n == name and l == labels]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
    return found[0]


def scrape(port, query="", path="/metrics"):
    """(status, content-type, body) of one scrape."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path + query)
        r = conn.getresponse()
        return r.status, r.getheader("content-type"), r.read().decode()
    finally:
        conn.close()


def metrics(port, query=""):
    status, ctype, body = scrape(port, query)
    assert status == 200, body
    return parse(body)


def traffic(port, path, count, threads=10):
    """`count` GETs of `path`, spread over `threads` keep-alive connections; all must get 200."""
    errors = []

    def run(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _ in range(n):
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
        except Exception as e:  # reported below, not lost in the thread
            errors.append(repr(e))
        finally:
            conn.close()

    per = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    workers = [threading.Thread(target=run, args=(n,)) for n in per if n]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []


def exporter_config(sluice, servers, extra_global="", backend_extra=""):
    """A `stats` frontend answering /metrics, a `fe` frontend to `be` with `servers` (lines)."""
    return (sluice.base("http", extra_global=extra_global)
            + f"frontend stats\n    bind 127.0.0.1:{sluice.port('stats')}\n"
            + "    http-request use-service prometheus-exporter if { path /metrics }\n"
            + f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
            + "backend be\n" + backend_extra
            + "".join(f"    {line}\n" for line in servers))


# HAProxy 2.6: frontend requests, backend and server responses by class, sessions, bytes.
def test_counters_after_traffic(sluice, backends, wait_for):
    web = backends.http("web")
    sluice.start(exporter_config(sluice, [f"server s1 127.0.0.1:{web.port}"]))
    traffic(sluice.port("fe"), "/delay/5", 200)
    status, ctype, body = scrape(sluice.port("stats"))
    assert status == 200
    assert ctype == "text/plain; version=0.0.4"

    def counted():
        _, s = metrics(sluice.port("stats"))
        return (value(s, "haproxy_backend_http_responses_total", proxy="be", code="2xx") == 200
                and value(s, "haproxy_server_http_responses_total", proxy="be", server="s1",
                          code="2xx") == 200)
    wait_for(counted, what="200 responses counted")
    types, s = metrics(sluice.port("stats"))
    assert value(s, "haproxy_frontend_http_requests_total", proxy="fe") == 200
    assert value(s, "haproxy_frontend_http_responses_total", proxy="fe", code="2xx") == 200
    assert value(s, "haproxy_frontend_http_responses_total", proxy="fe", code="5xx") == 0
    assert value(s, "haproxy_backend_http_requests_total", proxy="be") == 200
    assert value(s, "haproxy_backend_http_responses_total", proxy="be", code="4xx") == 0
    assert value(s, "haproxy_server_loadbalanced_total", proxy="be", server="s1") == 200
    assert value(s, "haproxy_frontend_sessions_total", proxy="fe") == 10
    assert value(s, "haproxy_frontend_bytes_in_total", proxy="fe") > 0
    assert value(s, "haproxy_backend_bytes_out_total", proxy="be") > 0
    assert types["haproxy_frontend_http_requests_total"] == "counter"
    assert types["haproxy_frontend_current_sessions"] == "gauge"
    assert value(s, "haproxy_process_requests_total") >= 200
    assert value(s, "haproxy_process_nbthread") == 1
    # The stats frontend counts its own scrapes.
    assert value(s, "haproxy_frontend_http_requests_total", proxy="stats") >= 2


# HAProxy 2.6: one sample per state, 1 for the server's; check_status only for checked servers.
def test_server_states(sluice, backends, wait_for):
    web = backends.http("web")
    dead = backends.dead_port()
    sluice.start(exporter_config(sluice, [
        f"server up1 127.0.0.1:{web.port} check inter 100ms",
        f"server down1 127.0.0.1:{dead} check inter 100ms fall 1",
        f"server off 127.0.0.1:{web.port} disabled",
        f"server plain 127.0.0.1:{web.port}",
    ]))

    def down():
        _, s = metrics(sluice.port("stats"))
        return value(s, "haproxy_server_status", proxy="be", server="down1", state="DOWN") == 1
    wait_for(down, what="down1 DOWN")
    types, s = metrics(sluice.port("stats"))
    expect = {"up1": "UP", "down1": "DOWN", "off": "MAINT", "plain": "UP"}
    for server, state in expect.items():
        for st in ("DOWN", "UP", "MAINT", "DRAIN", "NOLB"):
            assert value(s, "haproxy_server_status", proxy="be", server=server,
                         state=st) == (1 if st == state else 0), (server, st)
    assert value(s, "haproxy_server_check_status", proxy="be", server="down1",
                 state="L4CON") == 1
    assert value(s, "haproxy_server_check_status", proxy="be", server="up1", state="L4OK") == 1
    checked = {l["server"] for n, l, _ in s if n == "haproxy_server_check_status"}
    assert checked == {"up1", "down1"}
    assert value(s, "haproxy_backend_agg_server_status", proxy="be", state="UP") == 2
    assert value(s, "haproxy_backend_agg_server_status", proxy="be", state="DOWN") == 1
    assert value(s, "haproxy_backend_agg_server_status", proxy="be", state="MAINT") == 1
    assert value(s, "haproxy_backend_agg_check_status", proxy="be", state="L4CON") == 1
    assert value(s, "haproxy_backend_status", proxy="be", state="UP") == 1
    assert value(s, "haproxy_backend_active_servers", proxy="be") == 2
    # A server without maxconn has no limit: HAProxy prints NaN for an empty stat field.
    assert str(value(s, "haproxy_server_limit_sessions", proxy="be", server="plain")) == "nan"
    assert types["haproxy_server_status"] == "gauge"


# HAProxy 2.6: the first scope= replaces the default (everything), an empty one clears the ones
# before it, an unknown one (or one without '=') is a 400; no-maint leaves servers in
# maintenance out.
def test_scope_and_no_maint(sluice, backends):
    web = backends.http("web")
    sluice.start(exporter_config(sluice, [f"server s1 127.0.0.1:{web.port}",
                                          f"server s2 127.0.0.1:{web.port} disabled"]))
    port = sluice.port("stats")

    def kinds(query):
        types, samples = metrics(port, query)
        # Every sample under a TYPE line (a histogram's as <family>_bucket, _sum, _count).
        assert all(n in types or n.rsplit("_", 1)[0] in types for n, _, _ in samples)
        return {re.match(r"haproxy_([a-z]+)_", n).group(1) for n, _, _ in samples}

    assert kinds("") == {"process", "frontend", "backend", "server"}
    assert kinds("?scope=") == set()
    assert scrape(port, "?scope=")[2] == ""
    assert kinds("?scope=server") == {"server"}
    assert kinds("?scope=global&scope=frontend") == {"process", "frontend"}
    assert kinds("?scope=frontend&scope=backend") == {"frontend", "backend"}
    # An empty scope clears the ones before it.
    assert kinds("?no-maint&scope=backend&scope=") == set()
    assert kinds("?scope=frontend&scope=&scope=server") == {"server"}
    _, s = metrics(port, "?scope=server")
    assert {l["server"] for n, l, _ in s} == {"s1", "s2"}
    _, s = metrics(port, "?scope=server&no-maint")
    assert {l["server"] for n, l, _ in s} == {"s1"}
    # Backends still count the server in maintenance.
    _, s = metrics(port, "?scope=backend&no-maint")
    assert value(s, "haproxy_backend_agg_server_status", proxy="be", state="MAINT") == 1
    for bad in ("?scope=bogus", "?scope=Backend", "?scope"):
        status, _, body = scrape(port, bad)
        assert status == 400, bad
        assert "400 Bad request" in body


COMPARE_CONFIG = """\
frontend stats
    bind 127.0.0.1:{stats}
    http-request use-service prometheus-exporter if {{ path /metrics }}
frontend fe
    bind 127.0.0.1:{fe}
    default_backend be
frontend ft
    mode tcp
    bind 127.0.0.1:{ft}
    default_backend bt
backend be
    server s1 127.0.0.1:{web} check inter 200ms
    server s2 127.0.0.1:{web} disabled
    server s3 127.0.0.1:{web} maxconn 10 maxqueue 5 backup
backend bt
    mode tcp
    server t1 127.0.0.1:{web}
listen li
    bind 127.0.0.1:{li}
    server s4 127.0.0.1:{web}
"""


def shape(text):
    """What must match HAProxy's: each family's type, and every sample's name and labels."""
    types, samples = parse(text)
    # Sluice's own histograms (doc/differences.md) are left out of the comparison.
    ours = {n for n, t in types.items() if t == "histogram"}
    types = {n: t for n, t in types.items() if n not in ours}
    keys = set()
    for n, l, _ in samples:
        if any(n == h or n.startswith(h + "_") for h in ours):
            continue
        if n == "haproxy_process_build_info":
            l = {}  # the version differs, the label does not
        keys.add((n, tuple(sorted(l.items()))))
    return types, keys


# HAProxy 2.6: the same families with the same types, labels and objects as Debian's haproxy
# on the same config (only values differ).
def test_families_match_haproxy(sluice, backends, tmp_path, wait_for):
    if not os.path.exists(HAPROXY):
        pytest.skip("no /usr/sbin/haproxy")
    web = backends.http("web")
    texts = []
    for name, binary in (("under-test", sluice.binary), ("haproxy", HAPROXY)):
        d = tmp_path / name
        d.mkdir()
        runner = sluice if binary == sluice.binary else Sluice(binary, True, d)
        try:
            ports = {p: _free_port() for p in ("stats", "fe", "ft", "li")}
            runner.start(runner.base("http") + COMPARE_CONFIG.format(web=web.port, **ports))
            traffic(ports["fe"], "/echo", 5, threads=1)

            def checked():
                _, s = metrics(ports["stats"])
                return value(s, "haproxy_server_check_status", proxy="be", server="s1",
                             state="L7OK") == 1 or value(
                    s, "haproxy_server_check_status", proxy="be", server="s1",
                    state="L4OK") == 1
            wait_for(checked, what="s1 checked")
            texts.append(scrape(ports["stats"])[2])
        finally:
            if runner is not sluice:
                problems = runner.stop_all()
                assert not problems, problems
    (ours_types, ours), (ha_types, ha) = shape(texts[0]), shape(texts[1])
    assert ours_types == ha_types
    assert sorted(ours - ha) == []
    assert sorted(ha - ours) == []
    # Families in HAProxy's order too.
    order = [n for n in re.findall(r"^# TYPE (\S+)", texts[0], re.M) if n in ha_types]
    assert order == re.findall(r"^# TYPE (\S+)", texts[1], re.M)


# Sluice only: latency histograms, cumulative, in seconds, consistent with the delays imposed.
def test_latency_histograms(sluice, backends, binary_is_haproxy, wait_for):
    if binary_is_haproxy:
        pytest.skip("Sluice's own histograms")
    web = backends.http("web")
    sluice.start(exporter_config(sluice, [f"server s1 127.0.0.1:{web.port}"]))
    traffic(sluice.port("fe"), "/delay/120", 20, threads=10)

    def counted():
        _, s = metrics(sluice.port("stats"))
        return value(s, "haproxy_backend_response_time_seconds_count", proxy="be") == 20
    wait_for(counted, what="20 response times")
    types, s = metrics(sluice.port("stats"))
    assert types["haproxy_backend_response_time_seconds"] == "histogram"
    assert types["haproxy_server_connect_time_seconds"] == "histogram"
    assert types["haproxy_frontend_total_time_seconds"] == "histogram"

    def bucket(name, le, **labels):
        return value(s, name + "_bucket", le=le, **labels)

    for name, labels in (("haproxy_backend_response_time_seconds", {"proxy": "be"}),
                         ("haproxy_server_response_time_seconds", {"proxy": "be", "server": "s1"})):
        assert bucket(name, "0.1", **labels) == 0
        assert bucket(name, "0.25", **labels) == 20
        assert bucket(name, "+Inf", **labels) == 20
        assert 20 * 0.12 <= value(s, name + "_sum", **labels) < 20 * 0.25
        les = [(float(l["le"]), v) for n, l, v in s if n == name + "_bucket" and
               all(l.get(k) == v for k, v in labels.items()) and len(l) == len(labels) + 1]
        assert [v for _, v in sorted(les)] == sorted(v for _, v in les)  # cumulative
    assert bucket("haproxy_frontend_total_time_seconds", "0.1", proxy="fe") == 0
    assert value(s, "haproxy_frontend_total_time_seconds_count", proxy="fe") == 20
    assert "haproxy_frontend_response_time_seconds" not in types
    # HAProxy's own average stays as it is.
    assert 0.1 <= value(s, "haproxy_backend_response_time_average_seconds", proxy="be") < 0.25


# Debian's prometheus-haproxy-exporter reads `show stat` from the stats socket, or the stats
# page's `;csv` URI, and exports haproxy_server_up per server: 1 for UP, 0 for DOWN or MAINT.
@pytest.mark.parametrize("source", ["socket", "csv"])
def test_prometheus_haproxy_exporter(sluice, backends, wait_for, source):
    if not shutil.which(EXPORTER):
        pytest.skip("prometheus-haproxy-exporter not installed (scripts/deps installs it)")
    web = backends.http("web")
    dead = backends.dead_port()
    sock = sluice.sock_path("admin")
    sluice.start(exporter_config(sluice, [
        f"server s1 127.0.0.1:{web.port} check inter 100ms",
        f"server s2 127.0.0.1:{dead} check inter 100ms fall 1",
        f"server s3 127.0.0.1:{web.port} disabled",
    ], extra_global=f"stats socket {sock} level admin")
        + f"listen page\n    bind 127.0.0.1:{sluice.port('page')}\n    stats enable\n"
        + "    stats uri /stats\n")

    def down():
        _, s = metrics(sluice.port("stats"))
        return value(s, "haproxy_server_status", proxy="be", server="s2", state="DOWN") == 1
    wait_for(down, what="s2 DOWN")
    port = _free_port()
    exporter = subprocess.Popen(
        [EXPORTER,
         f"--haproxy.scrape-uri=unix:{sock}" if source == "socket"
         else f"--haproxy.scrape-uri=http://127.0.0.1:{sluice.port('page')}/stats;csv",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def exported():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    exported.text = r.read().decode()
            except (urllib.error.URLError, ConnectionError):
                return False
            return "haproxy_server_up{" in exported.text
        wait_for(exported, what="the exporter's metrics")
        _, s = parse(exported.text)
        assert value(s, "haproxy_up") == 1
        assert value(s, "haproxy_server_up", backend="be", server="s1") == 1
        assert value(s, "haproxy_server_up", backend="be", server="s2") == 0
        assert value(s, "haproxy_server_up", backend="be", server="s3") == 0
        assert value(s, "haproxy_backend_up", backend="be") == 1
        assert value(s, "haproxy_frontend_current_sessions", frontend="fe") == 0
    finally:
        exporter.terminate()
        try:
            exporter.wait(timeout=10)
        except subprocess.TimeoutExpired:
            exporter.kill()
            exporter.wait()
        exporter.stderr.close()
