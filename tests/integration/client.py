"""Client-side helpers shared by the integration tests (plain blocking sockets)."""

import socket


def recv_all(sock, limit=1 << 26):
    """Read until EOF (or a reset, which ends the stream too) and return the bytes."""
    chunks, total = [], 0
    while total <= limit:
        try:
            data = sock.recv(1 << 20)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


def recv_exactly(sock, n):
    """Read exactly `n` bytes; fail if the stream ends first."""
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(min(1 << 20, n - len(buf)))
        assert data, f"stream ended after {len(buf)} of {n} bytes"
        buf += data
    return bytes(buf)


def roundtrip(sock, message):
    """Send `message` and read the same number of bytes back (an echo server's answer)."""
    sock.sendall(message)
    return recv_exactly(sock, len(message))


def served_by(port, timeout=10.0, host="127.0.0.1", family=socket.AF_INET):
    """Connect, read a `named` backend's greeting to EOF, return the name ('' if cut off)."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        return recv_all(s).decode().strip()


def echo_once(port, message=b"ping", timeout=10.0, host="127.0.0.1", family=socket.AF_INET):
    """Open a connection, check one echo round trip, close. Returns what came back."""
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        return roundtrip(s, message)


def connect_refused(port, host="127.0.0.1"):
    """True when nothing listens on `port` any more."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        # Caught in the backlog of a listener being closed: ask again.
        return False
