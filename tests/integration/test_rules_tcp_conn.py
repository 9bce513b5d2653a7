"""`tcp-request connection` and `tcp-request session` actions, which run before any stream
exists: sess (and proc) variables set there and read by every request of the connection, in
http rules, headers and backend switching, and in mode tcp; `set-src`, `set-src-port`,
`set-dst`, `set-dst-port` changing what later rules, `option forwardfor`, `send-proxy` and a
server line without a port see; `set-tos` and `set-mark` on what is sent to the client, in tcp
and http rules.

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`), except where one says it checks Sluice's own diagnostics.
"""

import os
import socket
import struct
import subprocess
import threading

import pytest

from conftest import HttpClient, http_connect

ECHO = 'http-request return status 200 content-type text/plain lf-string "{}"'


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def read_all(port, data=b"", src=None):
    """Connects (from `src` if given), sends `data`, returns what comes back until EOF."""
    s = socket.socket()
    s.settimeout(5)
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    try:
        if data:
            s.sendall(data)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return got
            if not chunk:
                return got
            got += chunk
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------
# sess variables set before the stream


def test_sess_variables_reach_every_request_of_the_connection(sluice, backends):
    """Connection and session rules set sess and proc variables; http-request rules of the
    frontend and of the backend, `set-header %[var(...)]` and a dynamic `use_backend` read them
    on every request of a keep-alive connection. A sess counter the http rules increment
    counts the requests of each connection apart."""
    web, api = backends.http("web"), backends.http("api")
    fe = sluice.port("fe")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{fe}\n" + indent("""
        tcp-request connection set-var(sess.peer) src
        tcp-request connection set-var(proc.seen) str(yes)
        tcp-request connection set-var(sess.route) str(api) if { src 127.0.0.2 }
        tcp-request session set-var(sess.count) int(0)
        http-request set-var(sess.count) var(sess.count),add(1)
        http-request set-header X-Peer %[var(sess.peer)]
        http-request set-header X-Count %[var(sess.count)]
        http-request set-header X-Proc %[var(proc.seen)]
        use_backend %[var(sess.route)] if { var(sess.route) -m found }
        default_backend web
    """) + f"backend web\n    server web 127.0.0.1:{web.port}\n"
            "backend api\n    http-request set-header X-Route %[var(sess.route)]\n"
            f"    server api 127.0.0.1:{api.port}\n")
    sluice.start(text)
    with http_connect(fe) as c:
        for _ in range(3):
            assert c.roundtrip("GET", "/").status == 200
    with http_connect(fe) as c:
        assert c.roundtrip("GET", "/again").status == 200
    assert [(r.header("x-peer"), r.header("x-count"), r.header("x-proc"))
            for r in web.requests] == [("127.0.0.1", "1", "yes"), ("127.0.0.1", "2", "yes"),
                                       ("127.0.0.1", "3", "yes"), ("127.0.0.1", "1", "yes")]
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", fe))
    with HttpClient(s) as c:
        assert c.roundtrip("GET", "/one").status == 200
        assert c.roundtrip("GET", "/two").status == 200
    assert [(r.target, r.header("x-route"), r.header("x-count")) for r in api.requests] == \
        [("/one", "api", "1"), ("/two", "api", "2")]


def test_sess_variables_route_in_mode_tcp(sluice, backends):
    """Mode tcp: a variable set by a connection rule picks the backend (`use_backend
    %[var(sess.dest)]`, no content rule needed) and is read by a content rule."""
    names = {n: backends.named(n) for n in ("a", "b", "other")}
    fe = sluice.port("fe")
    text = (f"{sluice.base(mode='tcp')}frontend fe\n    bind 127.0.0.1:{fe}\n" + indent("""
        tcp-request connection set-var(sess.dest) str(a) if { src 127.0.0.2 }
        tcp-request session set-var(sess.dest) str(b) if { src 127.0.0.3 }
        tcp-request connection set-var(sess.deny) bool(1) if { src 127.0.0.4 }
        tcp-request content reject if { var(sess.deny) -m bool }
        use_backend %[var(sess.dest)] if { var(sess.dest) -m found }
        default_backend other
    """))
    for n, s in names.items():
        text += f"backend {n}\n    server {n} 127.0.0.1:{s.port}\n"
    sluice.start(text)
    assert read_all(fe, src="127.0.0.2") == b"a\n"
    assert read_all(fe, src="127.0.0.3") == b"b\n"
    assert read_all(fe) == b"other\n"
    assert read_all(fe, src="127.0.0.4") == b""
    assert names["other"].connections == 1


def test_connection_rules_run_before_the_proxy_header_session_rules_after(sluice):
    """With `accept-proxy`, connection rules see the socket's peer and session rules the
    addresses of the PROXY header; variables of both reach the request."""
    fe = sluice.port("fe")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{fe} accept-proxy\n" +
            indent("""
        tcp-request connection set-var(sess.peer) src
        tcp-request session set-var(sess.client) src
    """) + "    " + ECHO.format("peer=%[var(sess.peer)] client=%[var(sess.client)]") + "\n")
    sluice.start(text)
    body = read_all(fe, b"PROXY TCP4 198.51.100.1 198.51.100.2 1111 80\r\n"
                        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert body.endswith(b"\r\n\r\npeer=127.0.0.1 client=198.51.100.1")


# ---------------------------------------------------------------------------------------------
# set-src, set-dst and their ports before the stream


def test_set_src_at_connection_stage_for_rules_and_forwardfor(sluice, backends):
    """`tcp-request connection set-src` and `tcp-request session set-src-port`: `src`,
    `src_port` and `option forwardfor` see the new address for every request."""
    web = backends.http("web")
    fe = sluice.port("fe")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{fe}\n" + indent("""
        option forwardfor
        tcp-request connection set-src ipv4(192.0.2.7)
        tcp-request session set-src-port int(4321)
        http-request set-header X-Src %[src]:%[src_port]
        http-request set-header X-Net %[src,ipmask(24)]
        default_backend web
    """) + f"backend web\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    with http_connect(fe) as c:
        assert c.roundtrip("GET", "/a").status == 200
        assert c.roundtrip("GET", "/b").status == 200
    assert [(r.header("x-forwarded-for"), r.header("x-src"), r.header("x-net"))
            for r in web.requests] == [("192.0.2.7", "192.0.2.7:4321", "192.0.2.0")] * 2


def test_set_src_in_mode_tcp_goes_to_send_proxy(sluice):
    """Mode tcp: an address set by a connection rule (`set-src`) and one set by a content rule
    (`set-dst`) are what `send-proxy` tells the next hop, here our own accept-proxy frontend."""
    outer, inner = sluice.port("outer"), sluice.port("inner")
    text = (f"{sluice.base(mode='tcp')}frontend inner\n    mode http\n"
            f"    bind 127.0.0.1:{inner} accept-proxy\n"
            "    " + ECHO.format("src=%[src] dst=%[dst]:%[dst_port]") + "\n"
            f"frontend outer\n    bind 127.0.0.1:{outer}\n" + indent("""
        tcp-request connection set-src ipv4(203.0.113.5)
        tcp-request content set-dst ipv4(203.0.113.80)
        default_backend next
    """) + f"backend next\n    server s 127.0.0.1:{inner} send-proxy\n")
    sluice.start(text)
    body = read_all(outer, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert body.endswith(f"\r\n\r\nsrc=203.0.113.5 dst=203.0.113.80:{outer}".encode())


@pytest.mark.parametrize("mode", ["tcp", "http"])
def test_set_dst_port_is_the_port_of_a_server_without_one(sluice, backends, mode):
    """A server line without a port connects to the port the client connected to: the one
    `set-dst-port` set (here by a connection rule) when there is one."""
    named = backends.named("n") if mode == "tcp" else backends.http("n")
    fe = sluice.port("fe")
    text = (f"{sluice.base(mode=mode)}frontend fe\n    bind 127.0.0.1:{fe}\n"
            f"    tcp-request connection set-dst-port int({named.port})\n"
            "    default_backend be\nbackend be\n    server s 127.0.0.1\n")
    sluice.start(text)
    if mode == "tcp":
        assert read_all(fe) == b"n\n"
    else:
        with http_connect(fe) as c:
            assert c.roundtrip("GET", "/").status == 200
        assert [r.target for r in named.requests] == ["/"]


# ---------------------------------------------------------------------------------------------
# set-tos and set-mark


def need_root():
    if os.geteuid() != 0:
        pytest.skip("reading packets off the loopback and socket marks needs root")


class Sniffer:
    """Records the TOS byte of IPv4 TCP packets with a payload, seen on the loopback, by
    (source port, destination port)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.seen = {}
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                pkt = self.sock.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(pkt) < 20 or pkt[9] != 6:
                continue
            ihl = (pkt[0] & 15) * 4
            sport, dport = struct.unpack("!HH", pkt[ihl:ihl + 4])
            if len(pkt) > ihl + (pkt[ihl + 12] >> 4) * 4:
                with self.lock:
                    self.seen.setdefault((sport, dport), set()).add(pkt[1])

    def tos(self, sport, dport):
        with self.lock:
            return self.seen.get((sport, dport))

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def sniffer():
    need_root()
    s = Sniffer()
    yield s
    s.close()


def test_set_tos_marks_what_the_client_receives(sluice, backends, sniffer, wait_for):
    """`tcp-request connection set-tos` (mode tcp) and `http-request set-tos` (mode http, per
    request condition): the packets sent to the client carry the TOS byte, seen on the wire."""
    n = backends.named("n")
    web = backends.http("web")
    tcp_fe, http_fe = sluice.port("tcp_fe"), sluice.port("http_fe")
    text = (f"{sluice.base(mode='tcp')}frontend tcp_fe\n    bind 127.0.0.1:{tcp_fe}\n"
            "    tcp-request connection set-tos 0x28 if { src 127.0.0.1 }\n"
            "    default_backend n\n"
            f"backend n\n    server n 127.0.0.1:{n.port}\n"
            f"frontend http_fe\n    mode http\n    bind 127.0.0.1:{http_fe}\n"
            "    http-request set-tos 0x48 if { path /tos }\n"
            "    default_backend web\n"
            f"backend web\n    mode http\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    s = socket.create_connection(("127.0.0.1", tcp_fe), timeout=5)
    with s:
        assert s.recv(10) == b"n\n"
        local = s.getsockname()[1]
    assert wait_for(lambda: sniffer.tos(tcp_fe, local), what="a packet to the client") == {0x28}
    with http_connect(http_fe) as c:
        local = c.sock.getsockname()[1]
        assert c.roundtrip("GET", "/plain").status == 200
        assert wait_for(lambda: sniffer.tos(http_fe, local), what="a response") == {0}
        assert c.roundtrip("GET", "/tos").status == 200
        assert wait_for(lambda: 0x48 in (sniffer.tos(http_fe, local) or ()),
                        what="a response with TOS 0x48")


def socket_mark(local_port, peer_port):
    """The fwmark of the socket 127.0.0.1:local_port <-> 127.0.0.1:peer_port (`ss -e`), or
    None when it has none."""
    out = subprocess.run(["ss", "-tnHe", "state", "established", "(", "sport", "=",
                          f":{local_port}", "and", "dport", "=", f":{peer_port}", ")"],
                         capture_output=True, text=True, timeout=10).stdout
    assert out.strip(), f"no socket {local_port} -> {peer_port}"
    for word in out.split():
        if word.startswith("fwmark:"):
            return int(word[len("fwmark:"):], 16)
    return None


@pytest.mark.parametrize("stage", ["connection", "session", "content"])
def test_set_mark_on_the_client_socket(sluice, backends, stage):
    """`tcp-request connection|session|content set-mark`: the socket facing the client carries
    the netfilter mark (SO_MARK), as `ss -e` shows, and the connection works as before."""
    need_root()
    web = backends.http("web")
    fe = sluice.port("fe")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{fe}\n"
            f"    tcp-request {stage} set-mark 0x2a\n"
            "    http-request set-mark 7 if { path /seven }\n"
            f"    default_backend web\nbackend web\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    with http_connect(fe) as c:
        local = c.sock.getsockname()[1]
        assert c.roundtrip("GET", "/").status == 200
        assert socket_mark(fe, local) == 0x2a
        assert c.roundtrip("GET", "/seven").status == 200
        assert socket_mark(fe, local) == 7


# ---------------------------------------------------------------------------------------------
# What the config may say


def test_txn_variables_before_the_stream_are_refused(sluice, binary_is_haproxy):
    """A txn (or req, res) variable at the connection or session stage: HAProxy 2.6 accepts it
    and never sets it (no transaction exists yet), Sluice refuses it at `-c`, naming the
    scopes that work there. Sluice's own diagnostics."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    tcp-request connection set-var(txn.x) src\n"
            "    tcp-request session unset-var(req.y)\n")
    out = sluice.check(text, name="t.cfg")
    if binary_is_haproxy:
        assert out.returncode == 0, out.stderr
        return
    assert out.returncode == 1
    line = text.splitlines().index("    tcp-request connection set-var(txn.x) src") + 1
    assert (f"parsing [t.cfg:{line}] : frontend 'fe' : 'tcp-request' : 'tcp-request connection "
            "set-var(txn.x)': a 'txn' variable does not exist before the stream does; "
            "connection rules can only use 'sess' and 'proc' variables") in out.stderr
    assert (f"parsing [t.cfg:{line + 1}] : frontend 'fe' : 'tcp-request' : 'tcp-request session "
            "unset-var(req.y)': a 'req' variable does not exist before the stream does; "
            "session rules can only use 'sess' and 'proc' variables") in out.stderr


@pytest.mark.parametrize("line", [
    "tcp-request connection set-mark",
    "tcp-request connection set-mark nope",
    "tcp-request session set-tos 1 2",
    "tcp-request connection set-nice 1",
    "tcp-request content close",
    "tcp-response content set-src src",
])
def test_bad_actions_fail_check(sluice, line):
    """Wrong arguments, and actions of another stage, fail `-c` in both."""
    text = (f"{sluice.base(mode='tcp')}listen px\n    bind 127.0.0.1:{sluice.port('px')}\n"
            f"    {line}\n    server s 127.0.0.1:{sluice.port('s')}\n")
    assert sluice.check(text).returncode != 0


def test_connection_rules_belong_to_frontends(sluice):
    """`tcp-request connection` and `session` in a backend are errors in both: they run
    before any backend is chosen."""
    text = (f"{sluice.base(mode='tcp')}backend be\n"
            "    tcp-request connection set-var(sess.x) src\n"
            f"    server s 127.0.0.1:{sluice.port('s')}\n")
    assert sluice.check(text).returncode != 0
