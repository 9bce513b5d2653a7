"""`tcp-request inspect-delay` and `tcp-request content` rules on what the client sent: SNI
routing of TLS without decrypting it (`req.ssl_sni`, `req_ssl_hello_type`, `req.ssl_alpn`),
`req.payload`, `req.len`, the `HTTP` ACL in mode tcp, waiting for bytes that come late, and
content rules in mode http (run once per request).

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`).
"""

import socket
import ssl
import time

import pytest

from conftest import build_request, http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def client_hello(sni, alpn=None):
    """The first flight of a real TLS client (Python's ssl module), as bytes."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def tcp_frontend(sluice, backends, rules, names=("a", "b", "other")):
    """A mode tcp frontend `fe` with `rules`, a `named` backend per name (it answers its name),
    `other` the default, and an `echo` backend. Returns {name: Backend}."""
    servers = {n: backends.named(n) for n in names}
    servers["echo"] = backends.echo("echo")
    text = (f"{sluice.base(mode='tcp')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"{indent(rules)}    default_backend other\n")
    for n, s in servers.items():
        text += f"backend {n}\n    server {n} 127.0.0.1:{s.port}\n"
    sluice.start(text)
    return servers


def exchange(port, *pieces, pause=0.0, read_timeout=5.0):
    """Sends `pieces` (with `pause` seconds between them), then returns what comes back until
    EOF, or b"" if the connection was reset."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    try:
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)  # the point of the test: bytes that come late
            s.sendall(piece)
        got = b""
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                return got
            if not data:
                return got
            got += data
    finally:
        s.close()


SNI_RULES = """
    tcp-request inspect-delay 5s
    tcp-request content accept if { req_ssl_hello_type 1 }
    use_backend a if { req_ssl_sni -i a.example.com }
    use_backend b if { req.ssl_sni -m end .b.test } { req.ssl_alpn h2 }
    use_backend echo if { req.ssl_sni echo.test }
"""


def test_sni_routing_without_decrypting(sluice, backends):
    """The ClientHello's server name (any case with -i) and ALPN pick the backend; anything
    else goes to the default backend."""
    tcp_frontend(sluice, backends, SNI_RULES)
    port = sluice.port("fe")
    assert exchange(port, client_hello("a.example.com")) == b"a\n"
    assert exchange(port, client_hello("A.Example.COM")) == b"a\n"
    assert exchange(port, client_hello("x.b.test", ["h2", "http/1.1"])) == b"b\n"
    assert exchange(port, client_hello("x.b.test", ["http/1.1"])) == b"other\n"
    assert exchange(port, client_hello("unknown.test")) == b"other\n"


def test_sni_routing_waits_for_a_hello_sent_in_pieces(sluice, backends):
    """A hello that arrives in three pieces is waited for (within inspect-delay), routed on
    its name, and reaches the server byte for byte."""
    tcp_frontend(sluice, backends, SNI_RULES)
    hello = client_hello("echo.test")
    with socket.create_connection(("127.0.0.1", sluice.port("fe")), timeout=5) as s:
        s.sendall(hello[:3])
        time.sleep(0.1)  # late bytes: the proxy must wait, not decide on a partial hello
        s.sendall(hello[3:40])
        time.sleep(0.1)
        s.sendall(hello[40:])
        got = b""
        while len(got) < len(hello):
            data = s.recv(65536)
            assert data, "closed before the hello came back"
            got += data
    assert got == hello


def test_inspect_delay_bounds_the_wait(sluice, backends):
    """A client that sends nothing is decided on when inspect-delay ends: here rejected by a
    rule that wants a TLS hello; plain text that is not TLS is rejected at once."""
    servers = tcp_frontend(sluice, backends, """
        tcp-request inspect-delay 700ms
        tcp-request content reject if !{ req.ssl_hello_type 1 }
    """)
    port = sluice.port("fe")
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        assert s.recv(100) == b""
    waited = time.monotonic() - began
    assert 0.6 <= waited < 4, f"decided after {waited:.2f}s"
    began = time.monotonic()
    assert exchange(port, b"hello, not TLS") == b""
    assert time.monotonic() - began < 0.6
    assert servers["other"].connections == 0
    assert exchange(port, client_hello("x")) == b"other\n"


def test_payload_length_and_http_in_mode_tcp(sluice, backends):
    """`req.payload(offset,length)`, `req.len` and the `HTTP` ACL (req.proto_http): rules wait
    until enough bytes are in, then route on them."""
    tcp_frontend(sluice, backends, """
        tcp-request inspect-delay 5s
        tcp-request content reject if { req.payload(0,4) -m str QUIT }
        tcp-request content accept if HTTP
        tcp-request content accept if { req.len ge 8 }
        use_backend a if HTTP
        use_backend b if { req.payload(0,2) -m str B: }
    """)
    port = sluice.port("fe")
    # A request head that is not whole yet may still be HTTP: the rules wait for the rest.
    assert exchange(port, b"GET / HT", b"TP/1.1\r\nHost: x\r\n\r\n", pause=0.2) == b"a\n"
    assert exchange(port, b"B:", b" and more", pause=0.2) == b"b\n"
    assert exchange(port, b"\x01 binary stuff") == b"other\n"
    assert exchange(port, b"QUIT now") == b""


def test_backend_content_rules_run_after_switching(sluice, backends):
    """A backend's own tcp-request content rules run once the frontend chose it."""
    a = backends.named("a")
    text = (f"{sluice.base(mode='tcp')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    tcp-request inspect-delay 5s\n"
            "    tcp-request content accept if { req.len ge 4 }\n"
            "    default_backend a\n"
            "backend a\n    tcp-request inspect-delay 5s\n"
            "    tcp-request content reject if { req.payload(0,4) -m str DENY }\n"
            f"    server a 127.0.0.1:{a.port}\n")
    sluice.start(text)
    assert exchange(sluice.port("fe"), b"DENY this") == b""
    assert exchange(sluice.port("fe"), b"fine") == b"a\n"
    assert a.connections == 1


def test_content_rules_in_mode_http_run_per_request(sluice, backends):
    """In mode http, tcp-request content rules see each request of a keep-alive connection:
    `reject` closes the connection without a response when a later request matches."""
    web = backends.http("web")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    tcp-request content reject if { hdr(x-evil) -m found }\n"
            "    default_backend web\n"
            f"backend web\n    server web 127.0.0.1:{web.port}\n")
    sluice.start(text)
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/one").status == 200
        c.send(build_request("GET", "/two", headers=[("X-Evil", "1")]))
        assert c.wait_closed() == b""
    assert [r.target for r in web.requests] == ["/one"]


def test_content_set_var_routes_through_a_map(sluice, backends, tmp_path):
    """`tcp-request content set-var(txn.sni) req.ssl_sni,lower` then a dynamic use_backend
    through a map of names: the variable set while inspecting is read by the switching rule; in
    mode http the same variable is visible to http-request rules."""
    names = tmp_path / "sni.map"
    names.write_text("a.example.com a\nx.b.test b\n")
    tcp_frontend(sluice, backends, f"""
        tcp-request inspect-delay 5s
        tcp-request content set-var(txn.sni) req.ssl_sni,lower
        tcp-request content accept if {{ req_ssl_hello_type 1 }}
        use_backend %[var(txn.sni),map_str({names},other)]
    """)
    port = sluice.port("fe")
    assert exchange(port, client_hello("A.example.COM")) == b"a\n"
    hello = client_hello("x.b.test")
    assert exchange(port, hello[:10], hello[10:], pause=0.1) == b"b\n"
    assert exchange(port, client_hello("nowhere.test")) == b"other\n"


def test_content_set_var_in_mode_http(sluice, backends):
    """In mode http, a variable set by a content rule is there for the http-request rules."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    tcp-request content set-var(txn.first) method\n"
            "    http-request return status 200 content-type text/plain "
            "lf-string \"first=%[var(txn.first)]\"\n")
    sluice.start(text)
    with http_connect(sluice.port("fe")) as c:
        assert c.roundtrip("GET", "/").body == b"first=GET"
        assert c.roundtrip("PUT", "/", body=b"x").body == b"first=PUT"


def test_tcp_response_content_rules(sluice, backends):
    """`tcp-response inspect-delay` and `tcp-response content`: the server's first bytes are
    held until a rule decides; `reject` closes the client's connection before any of them
    reach it, `close` ends the server connection once what it sent is forwarded, and a rule
    waits for bytes that have not come yet."""
    evil, good, echo = backends.named("EVIL-server"), backends.named("good"), backends.echo("echo")
    text = sluice.base(mode="tcp")
    for name, srv in (("evil", evil), ("good", good), ("echo", echo)):
        text += (f"listen {name}\n    bind 127.0.0.1:{sluice.port(name)}\n"
                 "    tcp-response inspect-delay 5s\n"
                 "    tcp-response content reject if { res.payload(0,4) -m str EVIL }\n"
                 "    tcp-response content close if { res.payload(0,3) -m str BYE }\n"
                 "    tcp-response content accept if { res.len ge 4 }\n"
                 f"    server s 127.0.0.1:{srv.port}\n")
    sluice.start(text)
    assert exchange(sluice.port("evil"), b"hello") == b""
    assert exchange(sluice.port("good"), b"hello") == b"good\n"
    # The echo server keeps its connection open: only `close` ends the exchange. "B" alone
    # cannot decide the rules yet: they wait for the rest.
    with socket.create_connection(("127.0.0.1", sluice.port("echo")), timeout=5) as s:
        s.sendall(b"B")
        time.sleep(0.1)  # the point of the test: the rest comes late
        s.sendall(b"YE now")
        got = b""
        while True:
            data = s.recv(100)
            if not data:
                break
            got += data
    assert got == b"BYE now"
