"""`mode tcp` end to end: byte-exact forwarding, half-close, server selection, limits, soft stop,
timeouts and the forms a `bind` address takes.

Unless a test says otherwise, what it pins is HAProxy 2.6's behaviour, which Sluice reproduces.
"""

import hashlib
import os
import selectors
import signal
import socket
import struct
import threading
import time

import pytest

from client import connect_refused, echo_once, recv_all, recv_exactly, roundtrip, served_by

MB = 1 << 20
BIG = 100 * MB


def proxy_config(sluice, servers, nbthread=1, frontend="", backend="", bind=None):
    """A frontend `fe` on port('fe') (or the `bind` address given) to backend `be` with
    `servers`, a list of `server` lines."""
    bind = bind or f"127.0.0.1:{sluice.port('fe')}"
    lines = "\n".join(f"    server {s}" for s in servers)
    return f"""{sluice.base(nbthread=nbthread)}
frontend fe
    bind {bind}
    default_backend be
{frontend}
backend be
{backend}
{lines}
"""


def send_payload(sock, payload, shutdown=True):
    """Send every chunk of `payload`, then half-close; return the sha256 of what was sent."""
    h = hashlib.sha256()
    for chunk in payload.chunks():
        h.update(chunk)
        sock.sendall(chunk)
    if shutdown:
        sock.shutdown(socket.SHUT_WR)
    return h.hexdigest()


def hash_stream(sock, already=b""):
    """Read to EOF; return (byte count, sha256 hex) of `already` followed by what was read."""
    h, n = hashlib.sha256(already), len(already)
    buf = bytearray(4 * MB)
    view = memoryview(buf)
    while True:
        got = sock.recv_into(buf)
        if not got:
            return n, h.hexdigest()
        h.update(view[:got])
        n += got


def nonblocking_recv_nothing(sock):
    """True when no byte (and no EOF) is waiting on `sock` right now. The socket's timeout is
    restored afterwards (setblocking(True) would clear it and let a later recv hang)."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.recv(1)
        return False
    except BlockingIOError:
        return True
    finally:
        sock.settimeout(timeout)


# ---------------------------------------------------------------------------------------------
# Byte-exact forwarding


@pytest.mark.parametrize("nbthread", [1, 2], ids=["nbthread1", "nbthread2"])
def test_upload_100mb(sluice, backends, nbthread):
    """100 MB sent by the client reach the server intact (SHA-256), and the server's reply, sent
    only after it saw the client's half-close, comes back."""
    sink = backends.sink()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{sink.port}"], nbthread))
    with sluice.connect("fe", timeout=30) as c:
        sent = send_payload(c, backends.payload(BIG, seed=1))
        reply = recv_all(c).decode()
    assert reply == f"{BIG} {sent}\n"
    assert sink.received == [(BIG, sent)]


@pytest.mark.parametrize("nbthread", [1, 2], ids=["nbthread1", "nbthread2"])
def test_download_100mb(sluice, backends, nbthread):
    """100 MB sent by the server reach the client intact (SHA-256), then the close does."""
    source = backends.source(BIG, seed=2)
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{source.port}"], nbthread))
    with sluice.connect("fe", timeout=30) as c:
        assert hash_stream(c) == (BIG, source.payload.sha256)


@pytest.mark.parametrize("nbthread", [1, 2], ids=["nbthread1", "nbthread2"])
def test_echo_100mb_both_ways(sluice, backends, nbthread):
    """100 MB up and the same 100 MB back at the same time, both intact."""
    echo = backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"], nbthread))
    with sluice.connect("fe", timeout=30) as c:
        sent = {}
        writer = threading.Thread(
            target=lambda: sent.setdefault("sha", send_payload(c, backends.payload(BIG, 3))))
        writer.start()
        got = hash_stream(c)
        writer.join(30)
    assert got == (BIG, sent["sha"])


def test_half_close_still_receives_echo(sluice, backends):
    """After the client shuts down its write side the proxy keeps the other direction open:
    the whole echo still arrives, then EOF."""
    echo = backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"]))
    message = bytes(range(256)) * 4096  # 1 MiB
    with sluice.connect("fe") as c:
        c.sendall(message)
        c.shutdown(socket.SHUT_WR)
        assert recv_all(c) == message


# ---------------------------------------------------------------------------------------------
# Choosing a server


def test_dead_server_redispatched(sluice, backends):
    """HAProxy: with `retries 1` and `option redispatch`, a connection whose server refuses is
    retried on another server: every client is served, by the live one."""
    live = backends.named("live")
    sluice.start(proxy_config(sluice, [f"dead 127.0.0.1:{backends.dead_port()}",
                                       f"live 127.0.0.1:{live.port}"],
                              backend="    balance roundrobin\n    retries 1\n"
                                      "    option redispatch"))
    seen = [served_by(sluice.port("fe")) for _ in range(10)]
    assert seen == ["live"] * 10


@pytest.mark.parametrize("nbthread", [1, 2], ids=["nbthread1", "nbthread2"])
def test_roundrobin_weights(sluice, backends, nbthread):
    """HAProxy: `balance roundrobin` with weights 1 and 3 gives 10 and 30 of 40 sequential
    connections, exactly."""
    a, b = backends.named("a"), backends.named("b")
    sluice.start(proxy_config(sluice, [f"a 127.0.0.1:{a.port} weight 1",
                                       f"b 127.0.0.1:{b.port} weight 3"], nbthread,
                              backend="    balance roundrobin"))
    seen = [served_by(sluice.port("fe")) for _ in range(40)]
    assert (seen.count("a"), seen.count("b")) == (10, 30)
    assert (a.connections, b.connections) == (10, 30)


def test_backup_server_only_when_active_down(sluice, backends, wait_for):
    """HAProxy: a `backup` server gets nothing while an active server is up, and everything once
    health checks mark every active server down."""
    active, backup = backends.named("active"), backends.named("backup")
    check = "check inter 100ms fall 1 rise 1"
    sluice.start(proxy_config(sluice, [f"active 127.0.0.1:{active.port} {check}",
                                       f"backup 127.0.0.1:{backup.port} backup {check}"]))
    assert [served_by(sluice.port("fe")) for _ in range(10)] == ["active"] * 10
    active.stop()
    wait_for(lambda: served_by(sluice.port("fe")) == "backup", what="traffic to reach backup")
    assert [served_by(sluice.port("fe")) for _ in range(10)] == ["backup"] * 10


def test_disabled_server_never_used(sluice, backends):
    """HAProxy: a server marked `disabled` receives no connection."""
    s1, s2 = backends.named("s1"), backends.named("s2")
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{s1.port}",
                                       f"s2 127.0.0.1:{s2.port} disabled"]))
    assert [served_by(sluice.port("fe")) for _ in range(20)] == ["s1"] * 20
    assert s2.connections == 0


# ---------------------------------------------------------------------------------------------
# Limits


BARRIER = """
frontend probe
    bind 127.0.0.1:{port}
    default_backend probe_be
backend probe_be
    server p1 127.0.0.1:{echo}
"""


def event_loop_barrier(sluice):
    """Return once a round trip through the `probe` frontend has completed. With nbthread 1 that
    takes several turns of the daemon's one event loop, so any connection whose handshake
    finished earlier has been seen by then: what it has not done yet, it is not going to do
    "soon"."""
    assert echo_once(sluice.port("probe")) == b"ping"


def test_server_maxconn_queues(sluice, backends):
    """HAProxy: with server `maxconn 1`, a second client waits in the queue (nothing reaches the
    server, nothing comes back) until the first closes, then is served."""
    echo, probe = backends.echo(), backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port} maxconn 1"])
                 + BARRIER.format(port=sluice.port("probe"), echo=probe.port))
    with sluice.connect("fe") as first, sluice.connect("fe") as second:
        assert roundtrip(first, b"first") == b"first"
        second.sendall(b"second")
        event_loop_barrier(sluice)
        assert echo.connections == 1
        assert nonblocking_recv_nothing(second)
        first.close()
        assert recv_exactly(second, 6) == b"second"
        assert echo.connections == 2


def test_client_leaving_during_retry_pause_frees_its_slot_once(sluice, backends):
    """HAProxy: a client that resets while its connection waits for a retry (the server refused
    it) hands back nothing more than it held. With `maxconn 1` on the server, once the server
    listens, the next client reaches it at once rather than finding it full forever (a slot
    given back twice would wrap the server's connection count)."""
    probe = backends.echo()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))  # refuses until it listens
    port = server.getsockname()[1]
    try:
        sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{port} maxconn 1"],
                                  backend="    retries 3\n    timeout connect 5s\n"
                                          "    timeout queue 3s")
                     + BARRIER.format(port=sluice.port("probe"), echo=probe.port))
        with sluice.connect("fe") as leaving:
            leaving.sendall(b"x")
            event_loop_barrier(sluice)  # refused once: waiting a second for the retry
            leaving.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        event_loop_barrier(sluice)  # the reset was seen: that stream is gone
        server.listen(8)
        server.settimeout(5)
        with sluice.connect("fe") as client:
            client.sendall(b"hello")
            conn, _ = server.accept()
            with conn:
                conn.settimeout(5)
                assert recv_exactly(conn, 5) == b"hello"
    finally:
        server.close()


def test_frontend_maxconn_holds_extra_client(sluice, backends):
    """HAProxy: with frontend `maxconn 2`, a third client completes the TCP handshake (kernel
    backlog) but is not served until one of the first two closes."""
    echo, probe = backends.echo(), backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"], frontend="    maxconn 2")
                 + BARRIER.format(port=sluice.port("probe"), echo=probe.port))
    with sluice.connect("fe") as c1, sluice.connect("fe") as c2:
        assert roundtrip(c1, b"one") == b"one"
        assert roundtrip(c2, b"two") == b"two"
        with sluice.connect("fe") as c3:
            c3.sendall(b"three")
            event_loop_barrier(sluice)
            assert echo.connections == 2
            assert nonblocking_recv_nothing(c3)
            c1.close()
            assert recv_exactly(c3, 5) == b"three"
            assert echo.connections == 3


def test_thousand_concurrent_connections(sluice, backends):
    """1,000 client connections open at the same time (nbthread 2), each echoing its own message
    through the proxy, all within 30 s."""
    count, deadline = 1000, time.monotonic() + 30
    echo = backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"], nbthread=2))
    sel = selectors.DefaultSelector()
    pending = {}
    for i in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", sluice.port("fe")))
        msg = f"message {i:04d} ".encode() * 4
        pending[s] = [msg, 0, b""]  # message, bytes sent, bytes received
        sel.register(s, selectors.EVENT_WRITE | selectors.EVENT_READ)
    try:
        open_now = 0
        while pending and time.monotonic() < deadline:
            for key, events in sel.select(timeout=1):
                s = key.fileobj
                msg, sent, got = pending[s]
                if events & selectors.EVENT_WRITE and sent < len(msg):
                    sent += s.send(msg[sent:])
                    if sent == len(msg):
                        sel.modify(s, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    data = s.recv(4096)
                    assert data, f"connection closed after {got!r}"
                    got += data
                pending[s] = [msg, sent, got]
                if got == msg:
                    del pending[s]  # keep it open: all 1,000 stay concurrent
                    sel.unregister(s)
                    open_now += 1
        assert not pending, f"{len(pending)} of {count} connections not echoed within 30 s"
        assert open_now == count
        assert echo.connections == count
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
        for s in list(pending):
            s.close()


# ---------------------------------------------------------------------------------------------
# Soft stop and timeouts


def test_soft_stop_finishes_transfer_then_exits(sluice, backends, wait_for):
    """HAProxy: SIGUSR1 (soft stop) closes the listeners at once (new connections are refused)
    but lets the transfer in progress finish intact, then the process exits 0 by itself."""
    source = backends.source(32 * MB, seed=4)
    px = sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{source.port}"]))
    with sluice.connect("fe", timeout=30) as c:
        head = recv_exactly(c, MB)  # the rest waits on back-pressure while we stop
        px.signal(signal.SIGUSR1)
        wait_for(lambda: connect_refused(sluice.port("fe")), what="listener to close")
        assert px.alive()
        assert hash_stream(c, already=head) == (32 * MB, source.payload.sha256)
    assert px.wait_exit(10) == 0, px.stderr_text()


def test_bind_inherited_fd(sluice, backends):
    """HAProxy: `bind fd@N` serves on a listening socket inherited from the parent process,
    which is how a seamless reload hands listeners over."""
    echo = backends.echo()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        fd = listener.fileno()
        os.set_inheritable(fd, True)
        config = f"""{sluice.base()}
frontend fe
    bind fd@{fd}
    default_backend be
backend be
    server s1 127.0.0.1:{echo.port}
"""
        sluice.start(config, pass_fds=(fd,), listening=[port])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            assert roundtrip(c, b"through an inherited socket") == b"through an inherited socket"
    assert echo.connections == 1


def test_hard_stop_after_bounds_soft_stop(sluice, backends):
    """HAProxy: `hard-stop-after 1s` ends a soft stop (SIGUSR1) about 1 s later even while a
    connection is still open; the process exits 0 and the client sees its connection end."""
    echo = backends.echo()
    config = f"""{sluice.base(nbthread=2, extra_global="hard-stop-after 1s")}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    server s1 127.0.0.1:{echo.port}
"""
    px = sluice.start(config)
    with sluice.connect("fe") as c:
        assert roundtrip(c, b"still here") == b"still here"
        stopped_at = time.monotonic()
        px.signal(signal.SIGUSR1)
        assert px.wait_exit(10) == 0, px.stderr_text()
        elapsed = time.monotonic() - stopped_at
        assert recv_all(c) == b""  # the open connection was closed with the process
    assert 0.9 <= elapsed <= 3.0, f"exited {elapsed:.2f}s after SIGUSR1"


def test_client_timeout_closes_idle_connection(sluice, backends):
    """HAProxy: `timeout client 1s` closes a connection idle on both sides after about 1 s."""
    echo = backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"],
                              frontend="    timeout client 1s"))
    with sluice.connect("fe") as c:
        assert roundtrip(c, b"hello") == b"hello"
        idle_since = time.monotonic()
        assert recv_all(c) == b""  # blocks until the proxy closes (socket timeout 10 s)
        elapsed = time.monotonic() - idle_since
    assert 0.9 <= elapsed <= 3.0, f"closed after {elapsed:.2f}s"


def test_server_timeout_closes_when_server_silent(sluice, backends):
    """HAProxy: `timeout server 1s` closes the connection about 1 s after the request when the
    server never answers."""
    sink = backends.sink()  # answers only after EOF, which never comes
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{sink.port}"],
                              backend="    timeout server 1s"))
    with sluice.connect("fe") as c:
        c.sendall(b"anyone there?")
        sent_at = time.monotonic()
        assert recv_all(c) == b""
        elapsed = time.monotonic() - sent_at
    assert 0.9 <= elapsed <= 3.0, f"closed after {elapsed:.2f}s"
    assert sink.connections == 1


# ---------------------------------------------------------------------------------------------
# Bind address forms


def test_bind_port_range(sluice, backends):
    """HAProxy: `bind 127.0.0.1:LO-HI` listens on every port of the range."""
    echo = backends.echo()
    lo, hi = sluice.port_range("fe", 2)
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"],
                              bind=f"127.0.0.1:{lo}-{hi}"))
    lo, hi = sluice.port_range("fe", 2)
    assert echo_once(lo) == b"ping" and echo_once(hi) == b"ping"


def test_bind_ipv4_prefix(sluice, backends):
    """HAProxy: `bind ipv4@127.0.0.1:PORT` is an explicit IPv4 address."""
    echo = backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"],
                              bind=f"ipv4@127.0.0.1:{sluice.port('fe')}"))
    assert echo_once(sluice.port("fe")) == b"ping"


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 on loopback")
def test_bind_ipv6_loopback(sluice, backends):
    """HAProxy: `bind [::1]:PORT` listens on IPv6 loopback."""
    echo = backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"],
                              bind=f"[::1]:{sluice.port('fe6', v6=True)}"))
    assert echo_once(sluice.port("fe6"), host="::1", family=socket.AF_INET6) == b"ping"


def test_bind_unix_socket(sluice, backends):
    """HAProxy: `bind unix@PATH` listens on a unix stream socket."""
    echo = backends.echo()
    path = sluice.sock_path("fe")
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"], bind=f"unix@{path}"))
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        assert roundtrip(c, b"over unix") == b"over unix"


def test_bind_address_list(sluice, backends):
    """HAProxy: `bind A:P1,B:P2` listens on every address of the comma-separated list."""
    echo = backends.echo()
    sluice.start(proxy_config(sluice, [f"s1 127.0.0.1:{echo.port}"],
                              bind=f"127.0.0.1:{sluice.port('p1')},127.0.0.1:{sluice.port('p2')}"))
    assert echo_once(sluice.port("p1")) == b"ping"
    assert echo_once(sluice.port("p2")) == b"ping"
