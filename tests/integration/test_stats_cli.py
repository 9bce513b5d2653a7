"""`show stat` and `show info` on the admin socket (issue #7): HAProxy 2.6's CSV columns in
HAProxy's order, which columns each kind of row fills, typed and JSON forms, the filters, the
status strings, and counters that follow the traffic. Each test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`); what only Sluice has (its latency percentiles after HAProxy's
columns) is checked for Sluice alone.
"""

import json
import re
import socket
import time

import pytest

from conftest import cli_exchange, http_connect, wait_for

# HAProxy 2.6's `show stat` header, up to the stats modules' separator and after it.
HAPROXY_COLUMNS = (
    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
    "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,"
    "cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,"
    "ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,"
    "check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,"
    "conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,"
    "srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,"
    "safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,"
    "agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,"
    "h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,"
    "h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,"
    "h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,"
    "h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out"
).split(",")

# HAProxy 2.6's `show info` keys, in order (`description` only when set).
HAPROXY_INFO_KEYS = [
    "Name", "Version", "Release_date", "Nbthread", "Nbproc", "Process_num", "Pid", "Uptime",
    "Uptime_sec", "Memmax_MB", "PoolAlloc_MB", "PoolUsed_MB", "PoolFailed", "Ulimit-n",
    "Maxsock", "Maxconn", "Hard_maxconn", "CurrConns", "CumConns", "CumReq", "MaxSslConns",
    "CurrSslConns", "CumSslConns", "Maxpipes", "PipesUsed", "PipesFree", "ConnRate",
    "ConnRateLimit", "MaxConnRate", "SessRate", "SessRateLimit", "MaxSessRate", "SslRate",
    "SslRateLimit", "MaxSslRate", "SslFrontendKeyRate", "SslFrontendMaxKeyRate",
    "SslFrontendSessionReuse_pct", "SslBackendKeyRate", "SslBackendMaxKeyRate",
    "SslCacheLookups", "SslCacheMisses", "CompressBpsIn", "CompressBpsOut",
    "CompressBpsRateLim", "Tasks", "Run_queue", "Idle_pct", "node", "Stopping", "Jobs",
    "Unstoppable Jobs", "Listeners", "ActivePeers", "ConnectedPeers", "DroppedLogs",
    "BusyPolling", "FailedResolutions", "TotalBytesOut", "TotalSplicdedBytesOut",
    "BytesOutRate", "DebugCommandsIssued", "CumRecvLogs", "Build info", "Memmax_bytes",
    "PoolAlloc_bytes", "PoolUsed_bytes", "Start_time_sec", "Tainted",
]

# Which columns HAProxy 2.6 fills in each kind of row of the config below (checked servers
# DOWN after a refused connection): column names per row.
FILLED = {
    ("ft", "FRONTEND"):
        "pxname svname scur smax slim stot bin bout dreq dresp ereq status pid iid sid type rate "
        "rate_lim rate_max req_rate req_rate_max req_tot comp_in comp_out comp_byp comp_rsp mode "
        "conn_rate conn_rate_max conn_tot dcon dses wrew eint MODULES",
    ("bt", "t1"):
        "pxname svname qcur qmax scur smax stot bin bout dresp econ eresp wretr wredis status "
        "weight act bck chkfail chkdown lastchg downtime pid iid sid lbtot type rate rate_max "
        "check_status check_duration cli_abrt srv_abrt lastsess last_chk qtime ctime rtime ttime "
        "check_desc check_rise check_fall check_health addr mode wrew connect reuse srv_icur "
        "qtime_max ctime_max rtime_max ttime_max eint idle_conn_cur safe_conn_cur used_conn_cur "
        "need_conn_est uweight SSL",
    ("bt", "t2"):
        "pxname svname qcur qmax scur smax stot bin bout dresp econ eresp wretr wredis status "
        "weight act bck lastchg pid iid sid lbtot type rate rate_max cli_abrt srv_abrt lastsess "
        "qtime ctime rtime ttime addr mode wrew connect reuse srv_icur qtime_max ctime_max "
        "rtime_max ttime_max eint idle_conn_cur safe_conn_cur used_conn_cur need_conn_est "
        "uweight SSL",
    ("bt", "BACKEND"):
        "pxname svname qcur qmax scur smax slim stot bin bout dreq dresp econ eresp wretr wredis "
        "status weight act bck chkdown lastchg downtime pid iid sid lbtot type rate rate_max "
        "cli_abrt srv_abrt comp_in comp_out comp_byp comp_rsp lastsess qtime ctime rtime ttime "
        "mode algo wrew connect reuse qtime_max ctime_max rtime_max ttime_max eint uweight "
        "agg_server_status agg_server_check_status agg_check_status MODULES",
    ("fh", "FRONTEND"):
        "pxname svname scur smax slim stot bin bout dreq dresp ereq status pid iid sid type rate "
        "rate_lim rate_max hrsp_1xx hrsp_2xx hrsp_3xx hrsp_4xx hrsp_5xx hrsp_other req_rate "
        "req_rate_max req_tot comp_in comp_out comp_byp comp_rsp mode conn_rate conn_rate_max "
        "conn_tot intercepted dcon dses wrew cache_lookups cache_hits eint MODULES",
    ("bh", "h1"):
        "pxname svname qcur qmax scur smax stot bin bout dresp econ eresp wretr wredis status "
        "weight act bck chkfail chkdown lastchg downtime pid iid sid lbtot type rate rate_max "
        "check_status check_duration hrsp_1xx hrsp_2xx hrsp_3xx hrsp_4xx hrsp_5xx hrsp_other "
        "req_tot cli_abrt srv_abrt lastsess last_chk qtime ctime rtime ttime check_desc "
        "check_rise check_fall check_health addr mode wrew connect reuse srv_icur qtime_max "
        "ctime_max rtime_max ttime_max eint idle_conn_cur safe_conn_cur used_conn_cur "
        "need_conn_est uweight SSL",
    ("bh", "h2"):
        "pxname svname qcur qmax scur smax stot bin bout dresp econ eresp wretr wredis status "
        "weight act bck lastchg pid iid sid lbtot type rate rate_max hrsp_1xx hrsp_2xx hrsp_3xx "
        "hrsp_4xx hrsp_5xx hrsp_other req_tot cli_abrt srv_abrt lastsess qtime ctime rtime "
        "ttime addr mode wrew connect reuse srv_icur qtime_max ctime_max rtime_max ttime_max "
        "eint idle_conn_cur safe_conn_cur used_conn_cur need_conn_est uweight SSL",
    ("bh", "BACKEND"):
        "pxname svname qcur qmax scur smax slim stot bin bout dreq dresp econ eresp wretr wredis "
        "status weight act bck chkdown lastchg downtime pid iid sid lbtot type rate rate_max "
        "hrsp_1xx hrsp_2xx hrsp_3xx hrsp_4xx hrsp_5xx hrsp_other req_tot cli_abrt srv_abrt "
        "comp_in comp_out comp_byp comp_rsp lastsess qtime ctime rtime ttime mode algo wrew "
        "connect reuse cache_lookups cache_hits qtime_max ctime_max rtime_max ttime_max eint "
        "uweight agg_server_status agg_server_check_status agg_check_status MODULES",
}
MODULES = HAPROXY_COLUMNS[HAPROXY_COLUMNS.index("-") + 1:]


def filled_set(names):
    out = set()
    for n in names.split():
        if n == "MODULES":
            out.update(MODULES)
        elif n == "SSL":
            out.update(MODULES[:3])
        else:
            out.add(n)
    return out


@pytest.fixture
def stats(sluice, backends):
    """A proxy with an http and a tcp frontend, each with a backend of a server whose checks are
    refused (DOWN) and one without checks; `ask(text)` asks the admin socket."""
    web = backends.http("web")
    closed = sluice.port("closed")  # nothing listens there
    path = str(sluice.tmp_path / "admin.sock")
    proc = sluice.start(
        sluice.base("http", extra_global=f"stats socket {path} level admin")
        + f"frontend ft\n    mode tcp\n    bind 127.0.0.1:{sluice.port('ft')}\n"
        + "    default_backend bt\n"
        + f"backend bt\n    mode tcp\n    server t1 127.0.0.1:{closed} check inter 100\n"
        + f"    server t2 127.0.0.1:{web.port}\n"
        + f"frontend fh\n    bind 127.0.0.1:{sluice.port('fh')}\n"
        + "    http-request deny if { path /deny }\n"
        + "    http-request return status 200 content-type text/plain string hi"
        + " if { path /return }\n"
        + "    default_backend bh\n"
        + f"backend bh\n    server h1 127.0.0.1:{closed} check inter 100\n"
        + f"    server h2 127.0.0.1:{web.port}\n"
        + "    server h3 127.0.0.1:1 disabled\n")

    class Stats:
        def __init__(self):
            self.web, self.proc = web, proc

        def ask(self, text):
            return cli_exchange(path, text).decode()

        def rows(self, args=""):
            """`show stat` as {(pxname, svname): {column: value}}."""
            lines = self.ask(f"show stat {args}\n").split("\n")
            header = lines[0][2:].rstrip(",").split(",")
            out = {}
            for line in lines[1:]:
                if not line:
                    continue
                values = line.rstrip(",").split(",")
                values += [""] * (len(header) - len(values))
                out[(values[0], values[1])] = dict(zip(header, values))
            return out

    st = Stats()
    wait_for(lambda: st.rows()[("bh", "h1")]["status"] == "DOWN"
             and st.rows()[("bt", "t1")]["status"] == "DOWN", what="checked servers DOWN")
    return st


def get(port, path, n=1):
    statuses = []
    with http_connect(port) as c:
        for _ in range(n):
            c.request("GET", path)
            r = c.response()
            statuses.append(r.status)
    return statuses


def test_header_is_haproxys_then_ours(stats, binary_is_haproxy):
    header = stats.ask("show stat\n").split("\n")[0]
    assert header.startswith("# ") and header.endswith(",")
    columns = header[2:-1].split(",")
    assert columns[:len(HAPROXY_COLUMNS)] == HAPROXY_COLUMNS
    extra = columns[len(HAPROXY_COLUMNS):]
    if binary_is_haproxy:
        assert extra == []
    else:
        # Sluice's latency percentiles come after every HAProxy column.
        assert extra == [f"{t}_{p}" for t in ("qtime", "ctime", "rtime", "ttime")
                         for p in ("p50", "p95", "p99")]


def test_each_kind_of_row_fills_haproxys_columns(stats):
    rows = stats.rows()
    for key, names in FILLED.items():
        row = rows[key]
        filled = {c for c in HAPROXY_COLUMNS if c != "-" and row[c] != ""}
        assert filled == filled_set(names), (key, filled ^ filled_set(names))
    assert [k for k in rows] == [("ft", "FRONTEND"), ("bt", "t1"), ("bt", "t2"),
                                 ("bt", "BACKEND"), ("fh", "FRONTEND"), ("bh", "h1"),
                                 ("bh", "h2"), ("bh", "h3"), ("bh", "BACKEND")]


def test_fixed_values_and_status_strings(stats):
    rows = stats.rows()
    # Proxy ids count from 2: HAProxy numbers its CLI proxy first when a stats socket exists.
    assert [rows[(p, "FRONTEND" if p[0] == "f" else "BACKEND")]["iid"]
            for p in ("ft", "bt", "fh", "bh")] == ["2", "3", "4", "5"]
    assert rows[("bh", "h2")]["sid"] == "2" and rows[("bh", "h1")]["type"] == "2"
    assert rows[("fh", "FRONTEND")]["status"] == "OPEN"
    assert rows[("bh", "h2")]["status"] == "no check"
    assert rows[("bh", "h3")]["status"] == "MAINT"
    assert rows[("bh", "BACKEND")]["status"] == "UP"
    assert rows[("bh", "BACKEND")]["act"] == "1" and rows[("bh", "BACKEND")]["weight"] == "1"
    h1 = rows[("bh", "h1")]
    assert (h1["check_status"], h1["check_desc"], h1["last_chk"]) == (
        "L4CON", "Layer4 connection problem", "Connection refused")
    assert (h1["check_rise"], h1["check_fall"], h1["check_health"]) == ("2", "3", "0")
    assert int(h1["chkfail"]) >= 1 and h1["chkdown"] == "1"
    assert rows[("bh", "BACKEND")]["algo"] == "roundrobin"
    assert rows[("ft", "FRONTEND")]["mode"] == "tcp" and rows[("bh", "h2")]["mode"] == "http"
    assert rows[("bh", "h2")]["lastsess"] == "-1"
    # Administrative states, as the runtime API sets them.
    assert stats.ask("set server bh/h2 state drain\n") == "\n"
    wait_for(lambda: stats.rows()[("bh", "h2")]["status"] == "DRAIN", what="DRAIN")
    assert stats.rows()[("bh", "BACKEND")]["status"] == "DOWN"
    assert stats.ask("set server bh/h2 state maint\n") == "\n"
    wait_for(lambda: stats.rows()[("bh", "h2")]["status"] == "MAINT", what="MAINT")
    assert stats.ask("set server bh/h2 state ready\n") == "\n"
    wait_for(lambda: stats.rows()[("bh", "h2")]["status"] == "no check", what="ready again")


def test_counters_follow_the_traffic(stats, sluice):
    assert get(sluice.port("fh"), "/", 10) == [200] * 10
    assert get(sluice.port("fh"), "/deny") == [403]
    assert get(sluice.port("fh"), "/return") == [200]
    with socket.create_connection(("127.0.0.1", sluice.port("ft"))) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.")

    def settled():
        r = stats.rows()
        return r[("fh", "FRONTEND")]["req_tot"] == "12" and r[("bt", "t2")]["bout"] != "0" \
            and r[("fh", "FRONTEND")]["scur"] == "0"
    wait_for(settled, what="counters of the requests")
    r = stats.rows()
    fe, be, h2 = r[("fh", "FRONTEND")], r[("bh", "BACKEND")], r[("bh", "h2")]
    # One connection per get(): sessions count connections, req_tot requests.
    assert fe["stot"] == "3" and fe["conn_tot"] == "3"
    assert fe["hrsp_2xx"] == "11" and fe["hrsp_4xx"] == "1"
    assert fe["dreq"] == "1" and fe["intercepted"] == "1"
    assert h2["hrsp_2xx"] == "10" and h2["lbtot"] == "10" and h2["stot"] == "10"
    assert be["hrsp_2xx"] == "10" and be["lbtot"] == "10"
    assert int(fe["bin"]) > 0 and int(fe["bout"]) > int(fe["bin"])
    assert int(h2["bout"]) > 0 and int(be["bout"]) >= int(h2["bout"])
    assert 0 <= int(h2["lastsess"]) <= 60
    assert int(fe["smax"]) >= 1 and int(fe["rate_max"]) >= 1
    ft, t2 = r[("ft", "FRONTEND")], r[("bt", "t2")]
    assert ft["stot"] == "1" and t2["stot"] == "1"
    assert int(t2["bin"]) == len(b"GET / HTTP/1.0\r\n\r\n") and int(t2["bout"]) == len(answer)


def test_typed_and_json_say_the_same(stats, sluice):
    get(sluice.port("fh"), "/", 3)
    csv_rows = stats.rows()
    typed = stats.ask("show stat typed\n")
    assert typed.endswith("\n\n")
    seen = {}
    for line in typed.strip("\n").split("\n"):
        m = re.fullmatch(r"([FBS])\.(\d+)\.(\d+)\.(\d+)\.([a-z0-9_]+)\.1:([A-Za-z]{3}):"
                         r"(u32|u64|s32|s64|str):(.*)", line)
        assert m, line
        seen.setdefault((m[1], m[2], m[3]), {})[m[5]] = m[8]
    by_id = {}
    for (px, sv), row in csv_rows.items():
        kind = "F" if sv == "FRONTEND" else "B" if sv == "BACKEND" else "S"
        by_id[(kind, row["iid"], row["sid"])] = row
    for key, fields in seen.items():
        for name, value in fields.items():
            if name in ("rate", "req_rate", "conn_rate", "lastchg", "lastsess", "downtime"):
                continue  # time moved between the two questions
            assert by_id[key][name] == value, (key, name)
    doc = json.loads(stats.ask("show stat json\n"))
    assert isinstance(doc, list) and len(doc) == len(csv_rows)
    first = doc[0][0]
    assert first["objType"] == "Frontend" and first["field"] == {"pos": 0, "name": "pxname"}
    assert first["tags"] == {"origin": "Key", "nature": "Name", "scope": "Service"}
    assert first["value"] == {"type": "str", "value": "ft"}
    status = [f for f in doc[-1] if f["field"]["name"] == "status"][0]
    assert status["value"] == {"type": "str", "value": "UP"} and status["objType"] == "Backend"


def test_filters(stats):
    def keys(args):
        return list(stats.rows(args))
    assert keys("-1 1 -1") == [("ft", "FRONTEND"), ("fh", "FRONTEND")]
    assert keys("bh 4 -1") == [("bh", "h1"), ("bh", "h2"), ("bh", "h3")]
    assert keys("5 4 2") == [("bh", "h2")]
    assert keys("bh 2 -1") == [("bh", "BACKEND")]
    assert keys("99 -1 -1") == []
    # Fewer than three filter words: no filter (as HAProxy).
    assert len(keys("bh")) == 9
    assert ("bh", "h1") not in keys("up") and ("bh", "h2") in keys("up")
    assert ("bh", "h3") not in keys("up") and ("bh", "h3") not in keys("no-maint")
    assert ("bh", "h1") in keys("no-maint")
    assert keys("bh 4 -1 up") == [("bh", "h2")]


def test_show_info(stats, sluice):
    text = stats.ask("show info\n")
    assert text.endswith("\n\n")
    pairs = [line.split(": ", 1) for line in text.strip("\n").split("\n")]
    assert [k for k, _ in pairs] == HAPROXY_INFO_KEYS
    info = dict(pairs)
    assert info["Nbthread"] == "1" and info["Nbproc"] == "1"
    assert info["Pid"] == str(stats.proc.popen.pid)
    assert re.fullmatch(r"\d+d \d+h\d\dm\d\ds", info["Uptime"])
    assert info["Version"].startswith("2.6.")
    before = int(info["CumReq"])
    get(sluice.port("fh"), "/", 4)
    wait_for(lambda: int(dict(line.split(": ", 1) for line in stats.ask("show info\n")
                              .strip("\n").split("\n"))["CumReq"]) >= before + 4,
             what="CumReq counting the requests")
    typed = stats.ask("show info typed\n").strip("\n").split("\n")
    assert typed[0].startswith("0.Name.1:POS:str:")
    assert [line.split(".")[1].split(":")[0] for line in typed][3] == "Nbthread"
    doc = json.loads(stats.ask("show info json\n"))
    assert [f["field"]["name"] for f in doc] == HAPROXY_INFO_KEYS
    assert doc[3]["value"] == {"type": "u32", "value": 1}


def test_latency_percentiles(stats, sluice, binary_is_haproxy):
    """Sluice's histograms: a server that answers after 120 ms has its response-time
    percentiles in the 100-250 ms bucket (HAProxy has only averages)."""
    statuses = get(sluice.port("fh"), "/delay/120", 8)
    assert statuses == [200] * 8
    wait_for(lambda: stats.rows()[("bh", "h2")]["rtime"] not in ("", "0"), what="rtime")
    h2 = stats.rows()[("bh", "h2")]
    assert 110 <= int(h2["rtime"]) <= 400 and 110 <= int(h2["ttime"]) <= 400
    assert int(h2["rtime_max"]) >= 120
    if binary_is_haproxy:
        return
    for p in ("p50", "p95", "p99"):
        assert 100 <= int(h2[f"rtime_{p}"]) <= 250, (p, h2[f"rtime_{p}"])
    assert int(h2["qtime_p99"]) == 0 and int(h2["ctime_p50"]) <= 5


def test_clear_counters(stats, sluice):
    assert get(sluice.port("fh"), "/", 5) == [200] * 5
    wait_for(lambda: stats.rows()[("bh", "h2")]["hrsp_2xx"] == "5", what="counted")
    assert int(stats.rows()[("fh", "FRONTEND")]["smax"]) >= 1
    # The maxima go; the counts stay.
    assert stats.ask("clear counters\n") == "\n"
    wait_for(lambda: stats.rows()[("fh", "FRONTEND")]["smax"] == "0", what="smax cleared")
    assert stats.rows()[("bh", "h2")]["hrsp_2xx"] == "5"
    # `all` needs the admin level, and clears the counts.
    assert stats.ask("operator;clear counters all\n") == "\nPermission denied\n\n"
    assert stats.rows()[("bh", "h2")]["hrsp_2xx"] == "5"
    assert stats.ask("clear counters all\n") == "\n"
    wait_for(lambda: stats.rows()[("bh", "h2")]["hrsp_2xx"] == "0", what="counts cleared")
    rows = stats.rows()
    assert rows[("bh", "h2")]["stot"] == "0" and rows[("fh", "FRONTEND")]["req_tot"] == "0"
    assert get(sluice.port("fh"), "/", 2) == [200] * 2
    wait_for(lambda: stats.rows()[("bh", "h2")]["hrsp_2xx"] == "2", what="counting again")


def test_show_and_shutdown_sessions(stats, sluice):
    """`show sess` lists a request in flight with its proxies and server; `shutdown session`
    ends it (its client sees the connection close); bad ids answer as HAProxy."""
    c = socket.create_connection(("127.0.0.1", sluice.port("fh")), timeout=10)
    with c:
        c.sendall(b"GET /delay/5000 HTTP/1.1\r\nHost: x\r\n\r\n")

        def in_flight():
            for line in stats.ask("show sess\n").splitlines():
                if "fe=fh" in line and "be=bh" in line and "srv=h2" in line:
                    return line
            return None
        line = wait_for(in_flight, what="the request in `show sess`")
        assert re.match(r"0x[0-9a-f]+: proto=tcpv4 src=127\.0\.0\.1:\d+ fe=fh be=bh srv=h2 ", line)
        sid = line.split(":")[0]
        detail = stats.ask(f"show sess {sid}\n")
        assert detail.startswith(sid + ": [") and "  frontend=fh (id=4 mode=http)" in detail
        assert stats.ask(f"shutdown session {sid}\n") == "\n"
        c.settimeout(5)
        got = c.recv(65536)
        # Ended: closed (sluice) or with an error page (haproxy), never the server's answer.
        assert got == b"" or got.startswith(b"HTTP/1.1 5"), got[:40]
    assert stats.ask("show sess 0x1234\n") == "Session not found.\n\n"
    assert stats.ask("shutdown session foo\n") == "Session pointer expected (use 'show sess').\n\n"
    assert stats.ask("shutdown session 0x1234\n") == "No such session (use 'show sess').\n\n"
    assert stats.ask("operator;shutdown session 0x1234\n") == "\nPermission denied\n\n"
