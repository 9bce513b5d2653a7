"""The runtime API's diagnostics (issue #7): `show activity`, `show threads`, `show pools`,
`show stat ... desc`, `show info ... desc` and `show schema json`, parsed as a tool would parse
them. The shapes pin HAProxy 2.6's (Debian's haproxy run with `nbthread 2`): each test passes
against it (`--sluice=/usr/sbin/haproxy`); what only Sluice promises (which keys it leaves out,
its own schema validating its outputs, every column described) is checked for Sluice alone.
"""

import json
import re
import socket
import time

import pytest

from conftest import cli_exchange, http_connect, wait_for

# HAProxy 2.6's `show activity` keys, in its order. Sluice prints those it has a notion for, in
# the same order (doc/differences.md).
HAPROXY_ACTIVITY_KEYS = [
    "ctxsw", "tasksw", "empty_rq", "long_rq", "loops", "wake_tasks", "wake_signal", "poll_io",
    "poll_exp", "poll_drop_fd", "poll_skip_fd", "conn_dead", "stream_calls", "pool_fail",
    "buf_wait", "cpust_ms_tot", "cpust_ms_1s", "cpust_ms_15s", "avg_loop_us", "accepted",
    "accq_pushed", "accq_full", "accq_ring", "fd_takeover",
]
# What both print.
SHARED_ACTIVITY_KEYS = [
    "ctxsw", "tasksw", "empty_rq", "long_rq", "loops", "wake_tasks", "wake_signal", "poll_io",
    "pool_fail", "avg_loop_us", "accepted", "accq_pushed",
]

POOL_LINE = re.compile(
    r"^  - Pool (\S+) \((\d+) bytes\) : (\d+) allocated \((\d+) bytes\), (\d+) used "
    r"\(~(\d+) by thread caches\), needed_avg (\d+), (\d+) failures, (\d+) users, "
    r"@0x[0-9a-f]+( \[SHARED\])?$")
POOL_TOTAL = re.compile(
    r"^Total: (\d+) pools, (\d+) bytes allocated, (\d+) used \(~(\d+) by thread caches\)\.$")
THREAD_LINE = re.compile(r"^([ *>]) Thread (\d+) : (.*)$")
TYPED_DESC = re.compile(
    r'^([FBSL])\.(\d+)\.(\d+)\.(\d+)\.([^.:]+)\.1:([A-Za-z]{3}):(s32|s64|u32|u64|str):(.*):'
    r'"([^"]+)"$')
INFO_TYPED_DESC = re.compile(
    r'^(\d+)\.([^.:]+)\.1:([A-Za-z]{3}):(s32|s64|u32|u64|str):(.*):"([^"]+)"$')


def validate(value, schema, root=None):
    """Whether `value` follows `schema`: the part of JSON Schema draft 4 these schemas use
    ($ref within the document, type, enum, minimum, maximum, properties, required, items,
    oneOf, anyOf). Debian's python3 has no jsonschema module."""
    root = root or schema
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return validate(value, node, root)
    kinds = {"object": dict, "array": list, "string": str, "integer": int}
    if "type" in schema:
        kind = kinds[schema["type"]]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if "maximum" in schema and value > schema["maximum"]:
        return False
    if isinstance(value, dict):
        if any(k not in value for k in schema.get("required", [])):
            return False
        for k, sub in schema.get("properties", {}).items():
            if k in value and not validate(value[k], sub, root):
                return False
    if isinstance(value, list) and "items" in schema:
        if not all(validate(v, schema["items"], root) for v in value):
            return False
    if "oneOf" in schema and sum(validate(value, s, root) for s in schema["oneOf"]) != 1:
        return False
    if "anyOf" in schema and not any(validate(value, s, root) for s in schema["anyOf"]):
        return False
    return True


@pytest.fixture
def diag(sluice, backends):
    """Two threads, an http frontend to one backend server, an admin and a user socket."""
    web = backends.http("web")
    admin = str(sluice.tmp_path / "admin.sock")
    user = str(sluice.tmp_path / "user.sock")
    proc = sluice.start(
        sluice.base("http", nbthread=2,
                    extra_global=f"stats socket {admin} level admin\n"
                                 f"stats socket {user} level user\n")
        + f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
        + f"backend be\n    server s1 127.0.0.1:{web.port}\n")

    class Diag:
        def __init__(self):
            self.proc, self.web, self.port = proc, web, sluice.port("fe")

        def ask(self, text, user_level=False):
            return cli_exchange(user if user_level else admin, text).decode()

        def activity(self):
            """`show activity` as {key: (total, [per thread])}, plus its first two lines."""
            lines = self.ask("show activity\n").split("\n")
            assert lines[-2:] == ["", ""], lines[-3:]
            head = {}
            values = {}
            for line in lines[:-2]:
                key, _, rest = line.partition(": ")
                if key in ("thread_id", "date_now"):
                    head[key] = rest
                    continue
                m = re.fullmatch(r"(\d+) \[((?: \d+)+) \]", rest)
                assert m, line
                values[key] = (int(m.group(1)), [int(v) for v in m.group(2).split()])
            return head, values

        def pools(self):
            """`show pools` as {name: dict}, after checking every line's shape."""
            lines = self.ask("show pools\n").split("\n")
            assert lines[0] == "Dumping pools usage. Use SIGQUIT to flush them."
            assert lines[-2:] == ["", ""]
            pools = {}
            sizes = []
            for line in lines[1:-3]:
                m = POOL_LINE.match(line)
                assert m, line
                size, count, nbytes = int(m.group(2)), int(m.group(3)), int(m.group(4))
                assert nbytes == size * count, line
                sizes.append(size)
                pools[m.group(1)] = {
                    "size": size, "allocated": count, "used": int(m.group(5)),
                    "cached": int(m.group(6)), "needed_avg": int(m.group(7)),
                    "failures": int(m.group(8)), "users": int(m.group(9))}
            assert sizes == sorted(sizes), "pools are listed by size"
            total = POOL_TOTAL.match(lines[-3])
            assert total, lines[-3]
            assert int(total.group(1)) == len(lines) - 4
            assert int(total.group(2)) == sum(p["size"] * p["allocated"] for p in pools.values())
            assert int(total.group(3)) == sum(p["size"] * p["used"] for p in pools.values())
            return pools

    return Diag()


def requests(port, n):
    for _ in range(n):
        with http_connect(port) as c:
            c.request("GET", "/")
            assert c.response().status == 200


def test_show_activity_shape(diag):
    head, values = diag.activity()
    m = re.fullmatch(r"(\d+) \(1\.\.2\)", head["thread_id"])
    assert m and m.group(1) in ("1", "2")
    assert re.fullmatch(r"\d+\.\d{6}", head["date_now"])
    assert abs(float(head["date_now"]) - time.time()) < 60
    keys = list(values)
    assert set(SHARED_ACTIVITY_KEYS) <= set(keys)
    # Whatever is printed comes in HAProxy's order.
    assert keys == [k for k in HAPROXY_ACTIVITY_KEYS if k in keys]
    for key, (total, threads) in values.items():
        assert len(threads) == 2, key
        if key == "avg_loop_us":
            assert abs(total - sum(threads) / 2) <= 1
        else:
            assert total == sum(threads), key


def test_activity_counts_the_traffic(diag):
    _, before = diag.activity()
    requests(diag.port, 20)
    _, after = diag.activity()
    assert after["accepted"][0] >= before["accepted"][0] + 20
    assert after["accq_pushed"][0] >= before["accq_pushed"][0] + 20
    for key in ("loops", "ctxsw", "poll_io"):
        assert after[key][0] > before[key][0] + 20, key
    assert after["pool_fail"][0] == 0


def test_clear_counters_resets_activity(diag):
    requests(diag.port, 10)
    _, before = diag.activity()
    assert before["accepted"][0] >= 10
    # HAProxy clears `show activity` with the statistics (operator level).
    assert diag.ask("clear counters\n") == "\n"
    _, after = wait_for(lambda: (lambda a: a if a[1]["accepted"][0] < 5 else None)(
        diag.activity()), what="activity cleared")
    assert after["loops"][0] < before["loops"][0]


def test_show_threads_shape(diag, binary_is_haproxy):
    out = diag.ask("show threads\n")
    heads = [THREAD_LINE.match(line) for line in out.split("\n")]
    heads = [m for m in heads if m]
    assert [m.group(2) for m in heads] == ["1", "2"]
    marks = [m.group(1) for m in heads]
    assert marks.count("*") == 1, "the thread serving the command is marked"
    for m in heads:
        fields = dict(kv.split("=", 1) for kv in m.group(3).split())
        assert {"id", "act", "glob", "rq", "rqsz"} <= set(fields)
        assert re.fullmatch(r"0x[0-9a-f]+", fields["id"])
        assert fields["act"] in ("0", "1") and fields["glob"] in ("0", "1")
        assert fields["rq"] in ("0", "1") and fields["rqsz"].isdigit()
        if m.group(1) == "*":
            assert fields["act"] == "1", "the thread running the command is active"
        if not binary_is_haproxy:
            # No tasklets nor wait queue of timers to report (doc/differences.md).
            assert set(fields) == {"id", "act", "glob", "rq", "rqsz"}
    assert out.endswith("\n\n")


def test_show_pools_shape_and_buffers(diag, binary_is_haproxy):
    pools = diag.pools()
    assert pools["buffer"]["size"] == 16384
    for p in pools.values():
        assert p["cached"] <= p["used"] <= p["allocated"]
        assert p["failures"] == 0
    if not binary_is_haproxy:
        assert {"buffer", "http_stream", "tcp_stream"} <= set(pools)


def test_pools_follow_the_traffic(diag, binary_is_haproxy):
    """Requests held half sent each keep a buffer (and, in Sluice, a stream) from the pools."""
    held = []
    try:
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", diag.port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the head's end never comes
            held.append(s)
        wait_for(lambda: diag.pools()["buffer"]["used"] - diag.pools()["buffer"]["cached"] >= 6,
                 what="six buffers in use")
        if not binary_is_haproxy:
            streams = diag.pools()["http_stream"]
            assert streams["used"] - streams["cached"] >= 6
    finally:
        for s in held:
            s.close()
    if not binary_is_haproxy:
        # Idle or closed connections hold no buffer: every one comes back to a thread's cache.
        wait_for(lambda: (lambda b: b["used"] == b["cached"] and b["cached"] >= 6)(
            diag.pools()["buffer"]), what="buffers back in the caches")


def test_every_command_is_user_level(diag):
    for cmd in ("show activity", "show threads", "show pools", "show schema json",
                "show stat typed desc", "show info desc"):
        out = diag.ask(cmd + "\n", user_level=True)
        assert "Permission denied" not in out and "Unknown command" not in out, cmd


def test_show_stat_desc(diag, binary_is_haproxy):
    requests(diag.port, 2)
    # CSV and JSON do not change with `desc` (HAProxy 2.6 prints descriptions in typed output).
    csv = diag.ask("show stat desc\n").split("\n")
    assert csv[0] == diag.ask("show stat\n").split("\n")[0]
    assert [len(line.split(",")) for line in csv[1:] if line] == \
        [len(csv[0].split(","))] * (len([line for line in csv[1:] if line]))
    rows = json.loads(diag.ask("show stat json desc\n"))
    assert all("desc" not in item and "description" not in item for row in rows for item in row)
    typed = [line for line in diag.ask("show stat typed desc\n").split("\n") if line]
    plain = [line for line in diag.ask("show stat typed\n").split("\n") if line]
    assert len(typed) == len(plain)
    described = {}
    for line, bare in zip(typed, plain):
        m = TYPED_DESC.match(line)
        assert m, line
        assert bare.split(":", 3)[:3] == line.split(":", 3)[:3]
        described[m.group(5)] = m.group(9)
    assert described["pxname"] and described["scur"] != described["smax"]
    if not binary_is_haproxy:
        # Each column has its own words, Sluice's percentiles included.
        assert "qtime_p99" in described and "Sluice" in described["qtime_p99"]
        assert len(set(described.values())) == len(described)


def test_show_info_desc(diag):
    lines = [line for line in diag.ask("show info desc\n").split("\n") if line]
    for line in lines:
        assert re.fullmatch(r'[^:]+: .*:"[^"]+"', line), line
    assert lines[0].startswith("Name: HAProxy:\"")
    typed = [line for line in diag.ask("show info typed desc\n").split("\n") if line]
    assert all(INFO_TYPED_DESC.match(line) for line in typed)


def test_show_schema_json(diag, binary_is_haproxy):
    out = diag.ask("show schema json\n")
    assert out.endswith("\n\n") and " " not in out.split('"$schema"')[0]
    schema = json.loads(out)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    titles = [s.get("title") for s in schema.get("oneOf", schema.get("anyOf", []))]
    assert titles == ["Info", "Stat", "Error"]
    info = json.loads(diag.ask("show info json\n"))
    assert validate(info, schema)
    if not binary_is_haproxy:
        # HAProxy 2.6's schema describes a stat answer as one flat array of fields, which its
        # own `show stat json` (an array of rows) does not follow; Sluice's describes the rows.
        requests(diag.port, 1)
        stat = json.loads(diag.ask("show stat json\n"))
        assert validate(stat, schema)
        assert validate([], schema)
        assert not validate([[{"objType": "Frontend"}]], schema)
        assert not validate([[dict(stat[0][0], value={"type": "u32", "value": -1})]], schema)
