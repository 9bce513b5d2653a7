"""The runtime API's `show errors [<iid>|<proxy>] [request|response]`: the last invalid request of
each frontend and the last invalid response of each backend, with HAProxy 2.6's layout. Every
test pins HAProxy 2.6's output and passes against Debian's haproxy (`--sluice=/usr/sbin/haproxy`):
dates, client ports and the buffer's `wraps at` are masked, and so are the parser state lines
(HAProxy prints its H1 mux's flags there, Sluice its parser's verdict; doc/differences.md).
"""

import re
import socket

import pytest

from conftest import LoopbackServer, cli_exchange, wait_for

BAD_REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"
# A header line longer than a dump line (cut, then continued with '+'), and one with a space
# in its name, which makes the response invalid.
BAD_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nBad Header: x\r\nX-Long: "
                + b"a" * 100 + b"\r\n\r\n")

BAD_CHUNK_RESPONSE = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"


class RawServer(LoopbackServer):
    """Reads a request head and answers `answer` as is, then closes."""

    def __init__(self, port, answer):
        self.answer = answer
        super().__init__(port)

    def serve(self, conn, number):
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            conn.sendall(self.answer)


def normalize(text):
    text = re.sub(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\]", "[DATE]", text)
    text = re.sub(r"src 127\.0\.0\.1:\d+", "src 127.0.0.1:PORT", text)
    text = re.sub(r"wraps at \d+", "wraps at N", text)
    return "".join(line for line in text.splitlines(keepends=True)
                   if not re.match(r"  (H1 |Sluice H1 parser: )", line))


@pytest.fixture
def errs(sluice, backends):
    """fe (#2) -> be (#3, a raw server answering BAD_RESPONSE), fe2 (#4) -> good (#5), fe3 (#6,
    accept-invalid-http-request) -> good, fe4 (#7) -> chunky (#8, BAD_CHUNK_RESPONSE);
    an admin UNIX socket, an operator one and a user one."""
    raw = RawServer(sluice.port("raw"), BAD_RESPONSE)
    chunky = RawServer(sluice.port("chunky"), BAD_CHUNK_RESPONSE)
    web = backends.http("web")
    paths = {lvl: sluice.sock_path(lvl) for lvl in ("admin", "operator", "user")}
    sockets = "".join(f"stats socket {p} level {lvl}\n" for lvl, p in paths.items())
    sluice.start(
        sluice.base("http", extra_global=sockets)
        + f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
        + f"backend be\n    server s1 127.0.0.1:{raw.port}\n"
        + f"frontend fe2\n    bind 127.0.0.1:{sluice.port('fe2')}\n    default_backend good\n"
        + f"backend good\n    server w1 127.0.0.1:{web.port}\n"
        + f"frontend fe3\n    bind 127.0.0.1:{sluice.port('fe3')}\n"
        + "    option accept-invalid-http-request\n    default_backend good\n"
        + f"frontend fe4\n    bind 127.0.0.1:{sluice.port('fe4')}\n    default_backend chunky\n"
        + f"backend chunky\n    server c1 127.0.0.1:{chunky.port}\n")

    class Errs:
        def ask(self, command, level="admin"):
            return cli_exchange(paths[level], command + "\n").decode("latin-1")

        def show(self, args="", level="admin"):
            return normalize(self.ask(f"show errors {args}".rstrip(), level))

        def send(self, port_name, data):
            """Sends `data` at once and returns the status line of the answer."""
            with sluice.connect(port_name) as c:
                c.sendall(data)
                out = b""
                while b"\r\n" not in out:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            return out.split(b"\r\n")[0].decode()

    e = Errs()
    e.web = web
    yield e
    raw.stop()
    chunky.stop()


REQUEST_DUMP = (
    " \n"
    "[DATE] frontend fe (#2): invalid request\n"
    "  backend <NONE> (#-1), server <NONE> (#-1), event #{ev}, src 127.0.0.1:PORT\n"
    "  buffer starts at 0 (including 0 out), 16342 free,\n"
    "  len 42, wraps at N, error at position 28\n"
    "  \n"
    "  00000  GET / HTTP/1.1\\r\\n\n"
    "  00016  Host: x\\r\\n\n"
    "  00025  Bad Header: y\\r\\n\n"
    "  00040  \\r\\n\n")

RESPONSE_DUMP = (
    " \n"
    "[DATE] backend be (#3): invalid response\n"
    "  frontend fe (#2), server s1 (#1), event #{ev}, src 127.0.0.1:PORT\n"
    "  buffer starts at 0 (including 0 out), 16221 free,\n"
    "  len 163, wraps at N, error at position 39\n"
    "  \n"
    "  00000  HTTP/1.1 200 OK\\r\\n\n"
    "  00017  Content-Length: 0\\r\\n\n"
    "  00036  Bad Header: x\\r\\n\n"
    "  00051  X-Long: " + "a" * 62 + "\n"
    "  00121+ " + "a" * 38 + "\\r\\n\n"
    "  00161  \\r\\n\n")


def header(n):
    return f"Total events captured on [DATE] : {n}\n"


# HAProxy 2.6: with nothing captured, the header line and the end of the answer.
def test_empty_capture(errs):
    assert errs.show() == header(0) + "\n"
    assert errs.show("fe request") == header(0) + "\n"


# HAProxy 2.6: a space in a header name is refused with 400 and captured by the frontend, with
# no backend nor server (none is chosen yet), at the offending byte.
def test_bad_request(errs):
    assert errs.send("fe", BAD_REQUEST) == "HTTP/1.1 400 Bad request"
    assert errs.show() == header(1) + REQUEST_DUMP.format(ev=0) + "\n"


# HAProxy 2.6: a control character in the method; the event numbers run for the whole
# process, and the frontend keeps only its last capture.
def test_only_the_last_request_is_kept(errs):
    assert errs.send("fe", b"G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 400 Bad request"
    out = errs.show("fe")
    assert "error at position 1\n" in out and "  00000  G\\x01T / HTTP/1.1\\r\\n\n" in out
    assert errs.send("fe", BAD_REQUEST) == "HTTP/1.1 400 Bad request"
    assert errs.show() == header(2) + REQUEST_DUMP.format(ev=1) + "\n"


# HAProxy 2.6: the backend captures a bad response (502 to the client) with the frontend and
# server of the transaction; a long line is cut at 79 columns and continued on a '+' line.
def test_bad_response(errs):
    assert errs.send("fe", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 502 Bad Gateway"
    assert errs.show() == header(1) + RESPONSE_DUMP.format(ev=0) + "\n"


# HAProxy 2.6: a proxy (by name or id) selects its captures and those where it is the other
# end; `request`/`response` select a direction, any other word both; -1 (or any negative id)
# is every proxy; an unknown id shows nothing, an unknown name is an error.
def test_filters(errs):
    assert errs.send("fe", BAD_REQUEST) == "HTTP/1.1 400 Bad request"
    assert errs.send("fe", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 502 Bad Gateway"
    req, resp = REQUEST_DUMP.format(ev=0), RESPONSE_DUMP.format(ev=1)
    both = header(2) + req + resp + "\n"
    for args in ("", "-1", "fe", "2", "fe both", "-7 req"):
        assert errs.show(args) == both, args
    assert errs.show("be") == header(2) + resp + "\n"
    assert errs.show("3") == header(2) + resp + "\n"
    assert errs.show("fe request") == header(2) + req + "\n"
    assert errs.show("fe response") == header(2) + resp + "\n"
    assert errs.show("-1 response") == header(2) + resp + "\n"
    assert errs.show("be request") == header(2) + "\n"
    assert errs.show("fe2") == header(2) + "\n"
    assert errs.show("good") == header(2) + "\n"
    assert errs.show("99") == header(2) + "\n"
    assert errs.show("nope") == "No such proxy.\n\n"


# HAProxy 2.6: `show errors` needs the operator level; `clear counters all` keeps captures.
def test_levels_and_clear_counters(errs):
    assert errs.send("fe", BAD_REQUEST) == "HTTP/1.1 400 Bad request"
    assert errs.show(level="user") == "Permission denied\n\n"
    assert errs.show(level="operator") == header(1) + REQUEST_DUMP.format(ev=0) + "\n"
    assert errs.ask("clear counters all") == "\n"
    assert errs.show() == header(1) + REQUEST_DUMP.format(ev=0) + "\n"


# HAProxy 2.6: the whole buffer is kept, bytes after the error included, escaped as \t \\ \e
# \r \n and \xNN (upper case); an escape is never split over two dump lines.
def test_dump_escapes(errs):
    value = b"\t\\\xff" * 30
    # The NUL in a name is the error; what follows it is still dumped.
    data = b"GET / HTTP/1.1\r\nX-\x00b: c\r\n\r\nX-A: " + value + b"\x1b\r\n"
    assert errs.send("fe", data) == "HTTP/1.1 400 Bad request"
    out = errs.show("fe request")
    assert "error at position 18\n" in out  # the NUL
    dump = out.split("  \n", 1)[1]
    assert dump == (
        "  00000  GET / HTTP/1.1\\r\\n\n"
        "  00016  X-\\x00b: c\\r\\n\n"
        "  00025  \\r\\n\n"
        "  00027  X-A: " + "\\t\\\\\\xFF" * 8 + "\n"
        "  00056+ " + "\\t\\\\\\xFF" * 8 + "\\t\\\\\n"
        "  00082+ \\xFF" + "\\t\\\\\\xFF" * 8 + "\\t\n"
        "  00108+ \\\\\\xFF" + "\\t\\\\\\xFF" * 4 + "\\e\\r\\n\n\n")


# HAProxy 2.6: `option accept-invalid-http-request` lets a '#' in the target through, and the
# frontend still captures the request, at that byte.
def test_accept_invalid_still_captures(errs):
    assert errs.send("fe3", b"GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 200 OK"
    assert errs.show("fe3") == header(1) + (
        " \n"
        "[DATE] frontend fe3 (#6): invalid request\n"
        "  backend <NONE> (#-1), server <NONE> (#-1), event #0, src 127.0.0.1:PORT\n"
        "  buffer starts at 0 (including 0 out), 16354 free,\n"
        "  len 30, wraps at N, error at position 6\n"
        "  \n"
        "  00000  GET /a#b HTTP/1.1\\r\\n\n"
        "  00019  Host: x\\r\\n\n"
        "  00028  \\r\\n\n") + "\n"


# HAProxy 2.6: a bad chunk read with the head is captured with the head, before any backend
# is chosen.
def test_bad_request_chunk_with_the_head(errs):
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"
    assert errs.send("fe2", data) == "HTTP/1.1 400 Bad request"
    assert errs.show() == header(1) + (
        " \n"
        "[DATE] frontend fe2 (#4): invalid request\n"
        "  backend <NONE> (#-1), server <NONE> (#-1), event #0, src 127.0.0.1:PORT\n"
        "  buffer starts at 0 (including 0 out), 16324 free,\n"
        "  len 60, wraps at N, error at position 56\n"
        "  \n"
        "  00000  POST / HTTP/1.1\\r\\n\n"
        "  00017  Host: x\\r\\n\n"
        "  00026  Transfer-Encoding: chunked\\r\\n\n"
        "  00054  \\r\\n\n"
        "  00056  ZZ\\r\\n\n") + "\n"


# HAProxy 2.6: a bad chunk coming after the request went to its backend is captured with that
# backend, from the first byte not yet forwarded.
def test_bad_request_chunk_later(errs, sluice):
    with sluice.connect("fe2") as c:
        c.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3\r\nabc\r\n")
        errs.web.wait_connections(1)
        c.sendall(b"ZZ\r\n")
        wait_for(lambda: "event #0" in errs.show(), what="the capture")
    assert errs.show() == header(1) + (
        " \n"
        "[DATE] frontend fe2 (#4): invalid request\n"
        "  backend good (#5), server <NONE> (#-1), event #0, src 127.0.0.1:PORT\n"
        "  buffer starts at 0 (including 0 out), 16380 free,\n"
        "  len 4, wraps at N, error at position 0\n"
        "  \n"
        "  00000  ZZ\\r\\n\n") + "\n"


# HAProxy 2.6: a bad chunk in a response read with its head: 502, and the backend captures
# head and body.
def test_bad_response_chunk(errs):
    assert errs.send("fe4", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == "HTTP/1.1 502 Bad Gateway"
    assert errs.show("chunky") == header(1) + (
        " \n"
        "[DATE] backend chunky (#8): invalid response\n"
        "  frontend fe4 (#7), server c1 (#1), event #0, src 127.0.0.1:PORT\n"
        "  buffer starts at 0 (including 0 out), 16333 free,\n"
        "  len 51, wraps at N, error at position 47\n"
        "  \n"
        "  00000  HTTP/1.1 200 OK\\r\\n\n"
        "  00017  Transfer-Encoding: chunked\\r\\n\n"
        "  00045  \\r\\n\n"
        "  00047  ZZ\\r\\n\n") + "\n"


# HAProxy 2.6: framing refused in the head is captured at the field at fault: a second,
# different Content-Length at its value, a second Host at its value.
def test_framing_errors(errs):
    data = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"
    assert errs.send("fe", data) == "HTTP/1.1 400 Bad request"
    out = errs.show("fe")
    assert "event #0" in out and "len 69, wraps at N, error at position 61\n" in out
    assert errs.send("fe", b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n") == \
        "HTTP/1.1 400 Bad request"
    out = errs.show("fe")
    assert "event #1" in out and "len 36, wraps at N, error at position 31\n" in out


# HAProxy 2.6: `option accept-invalid-http-response` lets a '(' in a header name through, and
# the backend still captures the response, at that byte.
def test_accept_invalid_response_still_captures(sluice):
    raw = RawServer(sluice.port("raw"), b"HTTP/1.1 200 OK\r\nX(a): b\r\nContent-Length: 0\r\n\r\n")
    path = sluice.sock_path("admin")
    sluice.start(
        sluice.base("http", extra_global=f"stats socket {path} level admin\n")
        + f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n    default_backend be\n"
        + "backend be\n    option accept-invalid-http-response\n"
        + f"    server s1 127.0.0.1:{raw.port}\n")
    try:
        with sluice.connect("fe") as c:
            c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(path)
            s.sendall(b"show errors be\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        assert normalize(out.decode()) == header(1) + (
            " \n"
            "[DATE] backend be (#3): invalid response\n"
            "  frontend fe (#2), server s1 (#1), event #0, src 127.0.0.1:PORT\n"
            "  buffer starts at 0 (including 0 out), 16337 free,\n"
            "  len 47, wraps at N, error at position 18\n"
            "  \n"
            "  00000  HTTP/1.1 200 OK\\r\\n\n"
            "  00017  X(a): b\\r\\n\n"
            "  00026  Content-Length: 0\\r\\n\n"
            "  00045  \\r\\n\n") + "\n"
    finally:
        raw.stop()
