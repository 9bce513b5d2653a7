"""The PROXY protocol, both ways: `bind ... accept-proxy` and `tcp-request connection
expect-proxy layer4 [if COND]` read a v1 or v2 header and use its addresses for rules and
headers; `server ... send-proxy` / `send-proxy-v2` send one. A chain of two frontends checks
the two ends against each other.

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`), but for the one place where Sluice is more tolerant, marked.
"""

import socket
import struct

from conftest import http_connect

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
SHOW_ADDRESSES = ('http-request return status 200 content-type text/plain '
                  'lf-string "src=%[src]:%[src_port] dst=%[dst]:%[dst_port] '
                  'xff=%[req.hdr(x-forwarded-for)]"')


def v2_tcp4(src, dst, sport, dport, command=0x21):
    return (V2_SIGNATURE + bytes([command, 0x11]) + struct.pack("!H", 12) +
            socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport))


def body_of(port, data, src=None):
    """Sends `data` on a new connection (from `src` if given) and returns the response body, or
    None if the connection was closed or reset without a response."""
    s = socket.socket()
    if src:
        s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(data)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                break
            got += chunk
            head, sep, body = got.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    return body
        return got.partition(b"\r\n\r\n")[2] or None
    finally:
        s.close()


def start_inner(sluice, extra=""):
    text = (f"{sluice.base(mode='http')}frontend inner\n"
            f"    bind 127.0.0.1:{sluice.port('inner')} accept-proxy\n"
            f"    {SHOW_ADDRESSES}\n{extra}")
    sluice.start(text)
    return sluice.port("inner")


def test_accept_proxy_v1_and_v2_set_the_client_addresses(sluice):
    """v1 TCP4, TCP6 and v2 headers give src/dst to the rules; v1 UNKNOWN and v2 LOCAL keep the
    connection's own addresses."""
    port = start_inner(sluice)
    assert body_of(port, b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n" + REQUEST) == \
        b"src=1.2.3.4:1111 dst=5.6.7.8:2222 xff="
    assert body_of(port, b"PROXY TCP6 2001:db8::1 2001:db8::2 3333 443\r\n" + REQUEST) == \
        b"src=2001:db8::1:3333 dst=2001:db8::2:443 xff="
    assert body_of(port, v2_tcp4("9.8.7.6", "1.1.1.1", 4444, 80) + REQUEST) == \
        b"src=9.8.7.6:4444 dst=1.1.1.1:80 xff="
    for header in (b"PROXY UNKNOWN\r\n", V2_SIGNATURE + b"\x20\x00\x00\x00"):
        body = body_of(port, header + REQUEST)
        assert body.startswith(b"src=127.0.0.1:") and f"dst=127.0.0.1:{port}".encode() in body


def test_accept_proxy_refuses_a_missing_or_bad_header(sluice, binary_is_haproxy):
    """No header, a v1 line with a field missing or a v2 header of an unknown version: the
    connection is closed without a response. An address that is not one (1.2.3.999) too in
    Sluice; HAProxy 2.6's own parser reads it as 1.2.6.231."""
    port = start_inner(sluice)
    for data in (REQUEST,
                 b"PROXY TCP4 1.2.3.4 5.6.7.8 1111\r\n" + REQUEST,
                 V2_SIGNATURE + b"\x31\x11\x00\x0c" + b"\x00" * 12 + REQUEST):
        assert body_of(port, data) is None, data
    bad_ip = body_of(port, b"PROXY TCP4 1.2.3.999 5.6.7.8 1111 2222\r\n" + REQUEST)
    assert bad_ip == (b"src=1.2.6.231:1111 dst=5.6.7.8:2222 xff=" if binary_is_haproxy else None)


def test_accept_proxy_keeps_the_bytes_after_the_header(sluice):
    """The header is read exactly: two pipelined requests behind it are both answered, with the
    header's addresses."""
    port = start_inner(sluice)
    with http_connect(port) as c:
        c.send(b"PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\n" + REQUEST + REQUEST)
        assert c.response().body.startswith(b"src=10.0.0.1:5000")
        assert c.response().body.startswith(b"src=10.0.0.1:5000")


def test_header_in_pieces(sluice, binary_is_haproxy):
    """A v1 header that arrives in several segments: HAProxy 2.6 resets the connection (the
    specification lets a receiver refuse a line not complete in its first read); Sluice waits
    for the rest, as the specification also allows."""
    port = start_inner(sluice)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        header = b"PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n"
        s.sendall(header[:9])
        # Whether both pieces arrive together or not, the outcome must be one of the two below.
        try:
            if binary_is_haproxy:
                s.sendall(header[9:] + REQUEST)
                data = s.recv(4096)
                assert data == b"" or b"src=1.2.3.4" in data
                return
            s.sendall(header[9:] + REQUEST)
            got = b""
            while b"src=" not in got:
                chunk = s.recv(4096)
                assert chunk, "closed before the response"
                got += chunk
            assert b"src=1.2.3.4:1111" in got
        except ConnectionResetError:
            assert binary_is_haproxy


def test_send_proxy_chain_v1_tcp_and_v2_http(sluice):
    """`send-proxy` (mode tcp) and `send-proxy-v2` (mode http) tell the next hop, here our own
    accept-proxy frontend, the original client's addresses; `option forwardfor` at the inner
    frontend uses them too. Keep-alive requests on a send-proxy server connection reuse it."""
    inner = sluice.port("inner")
    text = (f"{sluice.base(mode='http')}frontend inner\n"
            f"    bind 127.0.0.1:{inner} accept-proxy\n    option forwardfor\n"
            f"    use_backend echo_xff if {{ path /xff }}\n"
            f"    {SHOW_ADDRESSES} unless {{ path /xff }}\n"
            f"backend echo_xff\n    server self 127.0.0.1:{sluice.port('xff')}\n"
            f"frontend xff\n    bind 127.0.0.1:{sluice.port('xff')}\n    {SHOW_ADDRESSES}\n"
            f"frontend outer_tcp\n    mode tcp\n    bind 127.0.0.1:{sluice.port('outer_tcp')}\n"
            f"    default_backend v1\n"
            f"backend v1\n    mode tcp\n    server s 127.0.0.1:{inner} send-proxy\n"
            f"frontend outer_http\n    bind 127.0.0.1:{sluice.port('outer_http')}\n"
            f"    default_backend v2\n"
            f"backend v2\n    server s 127.0.0.1:{inner} send-proxy-v2\n")
    sluice.start(text)
    for name in ("outer_tcp", "outer_http"):
        port = sluice.port(name)
        with http_connect(port) as c:
            local = c.sock.getsockname()
            body = c.roundtrip("GET", "/").body
            assert body.startswith(f"src=127.0.0.1:{local[1]} dst=127.0.0.1:{port} ".encode())
            assert c.roundtrip("GET", "/xff").body.endswith(b"xff=127.0.0.1")


def test_expect_proxy_only_for_trusted_sources(sluice):
    """`tcp-request connection expect-proxy layer4 if { src 127.0.0.2 }`: clients from there
    must send a header; others are served as they are."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    tcp-request connection expect-proxy layer4 if { src 127.0.0.2 }\n"
            f"    {SHOW_ADDRESSES}\n")
    sluice.start(text)
    port = sluice.port("fe")
    assert body_of(port, REQUEST).startswith(b"src=127.0.0.1:")
    assert body_of(port, b"PROXY TCP4 3.3.3.3 5.6.7.8 1111 2222\r\n" + REQUEST,
                   src="127.0.0.2").startswith(b"src=3.3.3.3:1111 ")
    assert body_of(port, REQUEST, src="127.0.0.2") is None


def test_proxy_options_check(sluice, binary_is_haproxy):
    """`expect-proxy` needs `layer4` and belongs to connection rules: `-c` refuses the rest."""
    for line in ("tcp-request connection expect-proxy",
                 "tcp-request content expect-proxy layer4"):
        text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:1\n    {line}\n"
                "    http-request return status 200\n")
        result = sluice.check(text)
        assert result.returncode != 0, line
        if not binary_is_haproxy:
            assert "expect-proxy" in result.stderr
