"""Fixtures for Sluice's integration tests: they start the real binary and real loopback backends.

Run with `pytest-3 tests/integration --sluice=PATH`. HAProxy 2.6 (`--sluice=/usr/sbin/haproxy`) is
the behaviour oracle: every test passes against it, and the few behaviours where Sluice departs on
purpose are asserted through the `binary_is_haproxy` fixture.

Only 127.0.0.1, ::1 and unix sockets ever receive traffic. Ports come from binding port 0. Nothing
here sleeps for a fixed time: `wait_for` polls a condition against a deadline.
"""

import base64
import hashlib
import http.client
import json
import os
import random
import re
import resource
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")
START_DEADLINE = 10.0
STOP_GRACE = 5.0

# A pytest started as a background job of a non-interactive shell inherits SIGINT ignored, and an
# ignored signal stays ignored across exec: the daemon would never see the SIGINT the tests send.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_fd_limit():
    """The 1,000-connection test holds ~2,000 sockets in this process (client side and backend
    side), and the daemon inherits the limit too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


_raise_fd_limit()


def pytest_addoption(parser):
    parser.addoption("--sluice", required=True, metavar="PATH",
                     help="daemon binary under test (build/sluice, or /usr/sbin/haproxy as oracle)")


def pytest_configure(config):
    binary = config.getoption("--sluice")
    # A suite that passes because the binary is missing is worse than no suite.
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise pytest.UsageError(f"--sluice={binary}: not an executable file")


# --------------------------------------------------------------------------------------------
# Waiting


def wait_for(cond, timeout=10.0, what="condition", interval=0.02):
    """Poll `cond()` until it returns a truthy value (returned) or `timeout` seconds pass, then
    raise AssertionError naming `what`. The only way tests wait."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(name="wait_for")
def wait_for_fixture():
    return wait_for


# --------------------------------------------------------------------------------------------
# Which binary


@pytest.fixture(scope="session")
def binary(request):
    return os.path.abspath(request.config.getoption("--sluice"))


@pytest.fixture(scope="session")
def binary_is_haproxy(binary):
    """True when running against the HAProxy oracle, False for Sluice, whose `-v` first line reads
    like `HAProxy version 2.6.12-sluice-0.1.0 2026/11/25 - https://...`."""
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
    first = out.stdout.splitlines()[0] if out.stdout else ""
    assert first.startswith("HAProxy version "), f"unexpected `-v` output: {out.stdout!r}"
    return "-sluice-" not in first


# --------------------------------------------------------------------------------------------
# Ports and listening sockets


def _free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _free_port_range(count):
    """`count` consecutive free loopback ports, for `bind 127.0.0.1:LO-HI`."""
    for _ in range(50):
        held = []
        try:
            first = socket.socket()
            held.append(first)
            first.bind(("127.0.0.1", 0))
            lo = first.getsockname()[1]
            for p in range(lo + 1, lo + count):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.1", p))
            return lo, lo + count - 1
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise AssertionError(f"no {count} consecutive free ports found")


def _socket_inodes(pid):
    """Inodes of the sockets process `pid` holds open."""
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for fd in names:
        try:
            link = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes


def _listening_tcp_ports(pid):
    """TCP ports that process `pid` listens on (any address, v4 or v6)."""
    mine = _socket_inodes(pid)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and fields[9] in mine:  # 0A: LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            continue
    return ports


def _listening_unix_paths(pid):
    mine = _socket_inodes(pid)
    paths = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            fields = line.split()
            # Flags 00010000 is __SO_ACCEPTCON: a listening socket.
            if len(fields) >= 8 and fields[3] == "00010000" and fields[6] in mine:
                paths.add(fields[7])
    return paths


_ADDR_PREFIXES = ("ipv4@", "ipv6@", "tcp@", "tcp4@", "tcp6@")


def bind_targets(config_text):
    """What start() waits for: every TCP port and unix path named on a `bind` or `stats
    socket` line.

    Raises ValueError for addresses this cannot read (environment variables, `.if` blocks make
    some bind lines inactive): those tests pass `listening=` explicitly."""
    targets = []
    for raw in config_text.splitlines():
        words = raw.split()
        if words[:2] == ["stats", "socket"]:
            words = words[1:]
        elif len(words) < 2 or words[0] != "bind":
            continue
        for addr in words[1].strip("\"'").split(","):
            if "$" in addr:
                raise ValueError(f"cannot tell what `{raw.strip()}` binds; pass listening=")
            if addr.startswith("unix@"):
                targets.append(addr[len("unix@"):])
                continue
            if addr.startswith("/"):
                targets.append(addr)
                continue
            for prefix in _ADDR_PREFIXES:
                if addr.startswith(prefix):
                    addr = addr[len(prefix):]
            port = addr.rsplit(":", 1)[1]
            lo, _, hi = port.partition("-")
            targets.extend(range(int(lo), int(hi or lo) + 1))
    return targets


# --------------------------------------------------------------------------------------------
# The daemon


class Proc:
    """One daemon process started by the `sluice` fixture."""

    def __init__(self, popen, stdout_path, stderr_path, config_path, expect_fail):
        self.popen = popen
        self.pid = popen.pid
        self.config_path = config_path
        self.expect_fail = expect_fail
        self.signals_sent = []
        self.reported = False  # start-up failure already failed the test
        self._stdout_path = stdout_path
        self._stderr_path = stderr_path

    def stdout_text(self):
        with open(self._stdout_path, errors="replace") as f:
            return f.read()

    def stderr_text(self):
        with open(self._stderr_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        self.signals_sent.append(sig)
        self.popen.send_signal(sig)

    def wait_exit(self, timeout=10.0):
        """Wait for the process to exit and return its status (Popen style: -N for signal N)."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"pid {self.pid} still running after {timeout:g}s") from None

    def listening_ports(self):
        return _listening_tcp_ports(self.pid)

    def listening_paths(self):
        """Unix socket paths this process listens on."""
        return _listening_unix_paths(self.pid)

    def listens_on_path(self, path):
        # HAProxy binds `PATH.PID.tmp` and renames it to PATH, and the kernel keeps reporting the
        # name bound: accept either, once PATH itself is a socket.
        try:
            if not stat.S_ISSOCK(os.stat(path).st_mode):
                return False
        except FileNotFoundError:
            return False
        return any(p == path or p.startswith(path + ".") for p in self.listening_paths())


class Sluice:
    """The `sluice` fixture: config text, ports and processes for one test."""

    def __init__(self, binary, is_haproxy, tmp_path):
        self.binary = binary
        self.is_haproxy = is_haproxy
        self.tmp_path = tmp_path
        # unix socket paths must stay under 108 bytes; pytest's tmp_path can be long.
        self.sock_dir = tempfile.mkdtemp(prefix="sluice-", dir="/tmp")
        self._ports = {}
        self._procs = []
        self._daemons = []
        self._problems = []  # found by run(): reported at teardown
        self._configs = 0

    # --- ports ---

    def port(self, name, v6=False):
        """A free loopback port for `name`, the same one for the whole test. Read it again after
        start(): a start-up retry may have moved it."""
        if name not in self._ports:
            family, host = (socket.AF_INET6, "::1") if v6 else (socket.AF_INET, "127.0.0.1")
            port = _free_port(family, host)
            while port in self._taken():
                port = _free_port(family, host)
            self._ports[name] = (port, port, v6)
        return self._ports[name][0]

    def port_range(self, name, count=2):
        """`count` consecutive free ports as (lo, hi), for `bind 127.0.0.1:LO-HI`."""
        if name not in self._ports:
            lo, hi = _free_port_range(count)
            self._ports[name] = (lo, hi, False)
        lo, hi, _ = self._ports[name]
        return lo, hi

    def _taken(self):
        return {p for lo, hi, _ in self._ports.values() for p in range(lo, hi + 1)}

    def sock_path(self, name):
        return os.path.join(self.sock_dir, f"{name}.sock")

    def connect(self, port, timeout=10.0):
        """A TCP client socket connected to 127.0.0.1:`port` (a number or a port() name)."""
        if isinstance(port, str):
            port = self.port(port)
        return socket.create_connection(("127.0.0.1", port), timeout=timeout)

    # --- config ---

    def base(self, mode="tcp", nbthread=1, extra_global=""):
        """`global` and `defaults` sections with every timeout set, so no test trips a warning."""
        http = ("\n    timeout http-request 10s\n    timeout http-keep-alive 10s"
                if mode == "http" else "")
        extra = "".join(f"\n    {line.strip()}" for line in extra_global.splitlines()
                        if line.strip())
        return (f"global\n    nbthread {nbthread}{extra}\n"
                f"defaults\n    mode {mode}\n    timeout connect 5s\n"
                f"    timeout client 30s\n    timeout server 30s{http}\n")

    def write_config(self, text, name=None):
        """Write `text` to a file in the test's directory and return its path. A final newline is
        added: HAProxy 2.6 rejects a last line without LF ("Missing LF on last line")."""
        self._configs += 1
        path = self.tmp_path / (name or f"sluice-{self._configs}.cfg")
        path.write_text(text if text.endswith("\n") else text + "\n")
        return str(path)

    # --- running ---

    def check(self, config, *extra, env=None, name=None):
        """`BIN -c -f FILE [extra...]` run in the test's directory. `config` is config text (written
        to `name`, passed as a relative path so diagnostics read `name:LINE`) or a file path."""
        if "\n" in config:
            path = os.path.basename(self.write_config(config, name))
        else:
            path = config
        return self.run("-c", "-f", path, *extra, env=env)

    def run(self, *args, env=None, cwd=None, timeout=20):
        """Run the binary with `args` to completion (flags that exit by themselves). `env` entries
        are added to the environment (None removes one). A crash or a sanitizer report fails the
        test at teardown whatever the test asserts."""
        out = subprocess.run([self.binary, *args], capture_output=True, text=True,
                             env=self._env(env), cwd=cwd or self.tmp_path, timeout=timeout)
        self._audit(args, out.returncode, out.stderr)
        return out

    def _audit(self, args, status, stderr):
        if status < 0:
            self._problems.append(f"`{' '.join(map(str, args))}` died of signal {-status}; "
                                  f"stderr:\n{stderr}")
        if any(marker in stderr for marker in SANITIZER_MARKERS):
            self._problems.append(f"`{' '.join(map(str, args))}`: sanitizer report in stderr:\n"
                                  f"{stderr}")

    def _env(self, env):
        if env is None:
            return None
        merged = dict(os.environ)
        for k, v in env.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return merged

    def start(self, config_text, args=(), expect_fail=False, env=None, listening=None,
              pass_fds=()):
        """Run `BIN -db -f FILE [args]` and return its Proc once every bind listens.

        `listening` overrides what to wait for (ports and unix paths) when the bind lines cannot
        be read literally. With `expect_fail`, wait for the process to exit instead. If start-up
        reports the address in use, retry once on fresh ports. `pass_fds` are inherited by the
        process (for `bind fd@N`)."""
        proc = self._spawn(config_text, args, expect_fail, env, pass_fds)
        if expect_fail:
            proc.wait_exit(START_DEADLINE)
            return proc
        if self._wait_listening(proc, config_text, listening):
            return proc
        if "Address already in use" not in proc.stderr_text():
            pytest.fail(self._startup_failure(proc))
        proc.reported = True  # a lost race for a port, not a daemon fault
        config_text, listening = self._move_ports(config_text, listening)
        proc = self._spawn(config_text, args, expect_fail, env, pass_fds)
        if not self._wait_listening(proc, config_text, listening):
            pytest.fail(self._startup_failure(proc))
        return proc

    def _spawn(self, config_text, args, expect_fail, env, pass_fds=()):
        path = self.write_config(config_text)
        n = self._configs
        out_path, err_path = self.tmp_path / f"stdout-{n}.txt", self.tmp_path / f"stderr-{n}.txt"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            popen = subprocess.Popen([self.binary, "-db", "-f", path, *args],
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                     env=self._env(env), cwd=self.tmp_path, pass_fds=pass_fds)
        proc = Proc(popen, out_path, err_path, path, expect_fail)
        self._procs.append(proc)
        return proc

    def _wait_listening(self, proc, config_text, listening):
        # Probing with connect() would be served as a client connection and dispatched to a
        # server, skewing the exact per-server counts tests assert: read the socket tables.
        targets = bind_targets(config_text) if listening is None else list(listening)
        ports = {t for t in targets if isinstance(t, int)}
        paths = {t for t in targets if isinstance(t, str)}
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if not proc.alive():
                return False
            if ports <= proc.listening_ports() and all(map(proc.listens_on_path, paths)):
                return True
            time.sleep(0.02)
        pytest.fail(f"{self.binary} did not listen on {sorted(map(str, targets))} within "
                    f"{START_DEADLINE:g}s; stderr:\n{proc.stderr_text()}")

    def _move_ports(self, config_text, listening):
        moved = {}
        for name, (lo, hi, v6) in list(self._ports.items()):
            del self._ports[name]
            if lo == hi:
                new_lo = new_hi = self.port(name, v6)
            else:
                new_lo, new_hi = self.port_range(name, hi - lo + 1)
            for old, new in zip(range(lo, hi + 1), range(new_lo, new_hi + 1)):
                moved[old] = new
        for old, new in moved.items():
            config_text = re.sub(rf"(?<=[:\-]){old}(?!\d)", str(new), config_text)
        if listening is not None:
            listening = [moved.get(t, t) if isinstance(t, int) else t for t in listening]
        return config_text, listening

    def _startup_failure(self, proc):
        rc = proc.wait_exit(STOP_GRACE)
        proc.reported = True
        return (f"{self.binary} exited with status {rc} during start-up; stderr:\n"
                f"{proc.stderr_text()}")

    def run_daemonizing(self, *args, timeout=20):
        """Run the binary with `args` (e.g. `-D ...`) until the parent exits. Output goes to files,
        not pipes: a daemon child that kept a pipe open would keep us reading forever."""
        self._configs += 1
        out_path = self.tmp_path / f"stdout-{self._configs}.txt"
        err_path = self.tmp_path / f"stderr-{self._configs}.txt"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            status = subprocess.run([self.binary, *args], stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, cwd=self.tmp_path, timeout=timeout).returncode
        out = subprocess.CompletedProcess(args, status, out_path.read_text(errors="replace"),
                                          err_path.read_text(errors="replace"))
        self._audit(args, status, out.stderr)
        return out

    def adopt_daemon(self, pid):
        """Track `pid`, a process that daemonized itself (so not our child), and stop it at
        teardown."""
        self._daemons.append(pid)
        return Daemon(pid)

    # --- teardown ---

    def stop_all(self):
        """Stop every process; return the list of problems (unclean exits, sanitizer reports)."""
        problems = list(self._problems)
        problems += [p for pid in self._daemons for p in _stop_daemon(pid)]
        for proc in self._procs:
            if proc.alive():
                proc.signal(signal.SIGTERM)
                try:
                    proc.popen.wait(timeout=STOP_GRACE)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()
                    proc.popen.wait()
                    problems.append(f"pid {proc.pid} ignored SIGTERM for {STOP_GRACE:g}s: killed")
                    continue
            if not proc.reported:
                problems.extend(self._exit_problems(proc))
        shutil.rmtree(self.sock_dir, ignore_errors=True)
        return problems

    def _exit_problems(self, proc):
        rc = proc.popen.returncode
        stderr = proc.stderr_text()
        problems = [f"pid {proc.pid}: sanitizer report in stderr:\n{stderr}"
                    for marker in SANITIZER_MARKERS if marker in stderr][:1]
        if proc.expect_fail:
            clean = rc > 0
        elif rc == 0:
            clean = True
        else:
            # HAProxy 2.6 leaves SIGTERM and SIGINT at their default action in the foreground:
            # it dies of the signal we sent. Sluice must exit 0.
            clean = self.is_haproxy and -rc in (signal.SIGTERM, signal.SIGINT) \
                and -rc in proc.signals_sent
        if not clean:
            problems.append(f"pid {proc.pid} exited uncleanly (status {rc}); stderr:\n{stderr}")
        return problems


class Daemon:
    """A daemonized process we did not fork ourselves."""

    def __init__(self, pid):
        self.pid = pid

    def running(self):
        return pid_running(self.pid)

    def listening_ports(self):
        return _listening_tcp_ports(self.pid)


def pid_running(pid):
    """True while `pid` exists and is not a zombie (a daemon's zombie is reaped by init, not us)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _stop_daemon(pid):
    if not pid_running(pid):
        return []
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        if not pid_running(pid):
            return []
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    return [f"daemon pid {pid} ignored SIGTERM for {STOP_GRACE:g}s: killed"]


@pytest.fixture
def sluice(binary, binary_is_haproxy, tmp_path):
    s = Sluice(binary, binary_is_haproxy, tmp_path)
    yield s
    problems = s.stop_all()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --------------------------------------------------------------------------------------------
# Test backends: one selector thread per server, standard library only


class LoopbackServer:
    """A fake server the test writes: listens on 127.0.0.1:`port` and serves each connection in a
    thread of its own through `serve(conn, number)` (numbers from 1, in accept order), which a
    subclass defines. Subclasses set their fields before calling this constructor: the first
    connection may come at once. `_lock` guards what the threads share."""

    def __init__(self, port, backlog=64):
        self.port = port
        self.connections = 0
        self._lock = threading.Lock()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(backlog)
        self._sock = s
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self._sock.close()

    def serve(self, conn, number):
        raise NotImplementedError

    def _accept(self):
        while True:
            try:
                c, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                n = self.connections
            threading.Thread(target=self.serve, args=(c, n), daemon=True).start()


class Payload:
    """`nbytes` of deterministic pseudo-random bytes from `seed`, produced in 1 MiB chunks."""

    CHUNK = 1 << 20

    def __init__(self, nbytes, seed):
        self.nbytes, self.seed = nbytes, seed
        self._sha256 = None

    def chunks(self):
        rng = random.Random(self.seed)
        left = self.nbytes
        while left > 0:
            n = min(self.CHUNK, left)
            yield rng.randbytes(n)
            left -= n

    @property
    def sha256(self):
        if self._sha256 is None:
            h = hashlib.sha256()
            for chunk in self.chunks():
                h.update(chunk)
            self._sha256 = h.hexdigest()
        return self._sha256


class _Handler:
    """Per-connection behaviour. Queue bytes in `out`; set `done` to close once `out` is sent."""

    streams = False  # True: keeps writing via refill() whatever the peer does

    def __init__(self, server):
        self.server = server
        self.out = bytearray()
        self.done = False
        self.read_closed = False

    def on_open(self):
        pass

    def on_data(self, data):
        pass

    def on_eof(self):
        self.done = True

    def refill(self):
        """Called when `out` is empty and the socket is writable: stream more, if any."""


class _Echo(_Handler):
    def on_data(self, data):
        self.out += data


class _Sink(_Handler):
    def on_open(self):
        self.hash, self.count = hashlib.sha256(), 0

    def on_data(self, data):
        self.hash.update(data)
        self.count += len(data)

    def on_eof(self):
        digest = self.hash.hexdigest()
        with self.server.lock:
            self.server.received.append((self.count, digest))
        self.out += f"{self.count} {digest}\n".encode()
        self.done = True


class _Source(_Handler):
    streams = True

    def on_open(self):
        self.chunks = self.server.payload.chunks()
        self.refill()

    def on_eof(self):
        pass  # keep sending: the client may half-close and still read

    def refill(self):
        chunk = next(self.chunks, None)
        if chunk is None:
            self.done = True
        else:
            self.out += chunk


class _Named(_Handler):
    def on_open(self):
        self.out += f"{self.server.name}\n".encode()
        self.done = True


class Backend:
    """A loopback server running `handler` per connection in its own thread."""

    HIGH_WATER = 4 << 20  # stop reading while this much is queued for the peer

    def __init__(self, name, handler, payload=None):
        self.name = name
        self.payload = payload
        self.received = []  # sink: (byte count, sha256 hex) per finished connection
        self.lock = threading.Lock()
        self._handler = handler
        self._accepted = 0
        self._open = 0
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4096)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self.error = None
        self._sel = selectors.DefaultSelector()
        self._thread = threading.Thread(target=self._loop, name=f"backend-{name}", daemon=True)
        self._thread.start()

    @property
    def connections(self):
        """Connections accepted so far."""
        return self._accepted

    @property
    def open_connections(self):
        return self._open

    def wait_connections(self, n, timeout=10.0):
        wait_for(lambda: self._accepted >= n, timeout, f"{self.name} to accept {n} connections "
                 f"(has {self._accepted})")

    def wait_received(self, n, timeout=10.0):
        wait_for(lambda: len(self.received) >= n, timeout,
                 f"{self.name} to finish receiving {n} connections")

    def stop(self):
        """Close the listener and every connection: the port then refuses connections."""
        if not self._stopping:
            self._stopping = True
            # The loop may already have seen _stopping (woken by a closing connection) and
            # exited: the wake socket is ours to close, after the join, so this never races.
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass  # the loop already left and closed its end: nothing to wake
            self._thread.join(10)
            self._wake_w.close()

    # --- the loop ---

    def _loop(self):
        sel = self._sel
        sel.register(self._listener, selectors.EVENT_READ, None)
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stopping:
                for key, events in sel.select():
                    if key.data == "wake":
                        continue
                    if key.data is None:
                        self._accept()
                    else:
                        self._service(key.fileobj, key.data, events)
        except Exception as e:  # reported by Backends.close(): a test must not pass over it
            self.error = e
            raise
        finally:
            for key in list(sel.get_map().values()):
                key.fileobj.close()
            sel.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.setblocking(False)
            self._accepted += 1
            self._open += 1
            handler = self._handler(self)
            handler.on_open()
            self._sel.register(conn, self._interest(handler), handler)

    def _interest(self, h):
        ev = 0
        if not h.read_closed and len(h.out) < self.HIGH_WATER:
            ev |= selectors.EVENT_READ
        if h.out or (h.streams and not h.done):
            ev |= selectors.EVENT_WRITE
        return ev

    def _service(self, conn, h, events):
        try:
            if events & selectors.EVENT_READ and not h.read_closed:
                data = conn.recv(1 << 18)
                if data:
                    h.on_data(data)
                else:
                    h.read_closed = True
                    h.on_eof()
            if events & selectors.EVENT_WRITE:
                if not h.out:
                    h.refill()
                if h.out:
                    sent = conn.send(h.out)
                    del h.out[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # reset by peer, broken pipe: the connection is over
            self._close(conn)
            return
        if h.done and not h.out:
            self._close(conn)
            return
        if h.read_closed and not h.out and not h.streams:
            # Peer half-closed and we have nothing more to say (echo finished, named sent).
            h.done = True
            self._close(conn)
            return
        self._sel.modify(conn, self._interest(h), h)

    def _close(self, conn):
        self._sel.unregister(conn)
        conn.close()
        self._open -= 1


# --------------------------------------------------------------------------------------------
# HTTP/1.1 test backend: one thread per connection, blocking sockets, standard library only


class HttpRequest:
    """One request as the HTTP backend received it. `headers` keeps the received order and case;
    the body is hashed while it streams in and kept whole only up to BODY_KEPT bytes."""

    BODY_KEPT = 1 << 20

    def __init__(self, conn, seq, method, target, version, headers, raw_head):
        self.conn, self.seq = conn, seq  # connection number (1-based), rank on that connection
        self.method, self.target, self.version = method, target, version
        self.headers = headers  # [(name, value)] as received
        self.raw_head = raw_head
        self.chunked = False
        self.trailers = []
        self.body_length = 0
        self.body_sha256 = hashlib.sha256().hexdigest()
        self.body = b""

    @property
    def path(self):
        return self.target.split("?", 1)[0]

    def header_all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n.lower() == name]

    def header(self, name):
        """The first value of header `name` (any case), or None."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_names(self, name):
        """The names, as spelt on the wire, of every header called `name` in any case."""
        return [n for n, _ in self.headers if n.lower() == name.lower()]

    def summary(self):
        return {"conn": self.conn, "seq": self.seq, "method": self.method,
                "target": self.target, "version": self.version,
                "headers": [list(h) for h in self.headers], "chunked": self.chunked,
                "trailers": [list(t) for t in self.trailers],
                "body_length": self.body_length, "body_sha256": self.body_sha256}

    def __repr__(self):
        return (f"<HttpRequest conn={self.conn} seq={self.seq} {self.method} {self.target} "
                f"{self.version} headers={self.headers} body={self.body_length}>")


class _BadMessage(Exception):
    pass


class _Reader:
    """Buffered reads from a blocking socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(1 << 18)
        if not data:
            raise EOFError
        self.buf += data

    def until(self, delim, limit):
        start = 0
        while True:
            i = self.buf.find(delim, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(delim)])
                del self.buf[:i + len(delim)]
                return out
            if len(self.buf) > limit:
                raise _BadMessage(f"no {delim!r} within {limit} bytes")
            start = max(0, len(self.buf) - len(delim) + 1)
            self.fill()

    def exactly(self, n, sink):
        """Pass exactly `n` bytes to `sink`, as they come."""
        while n > 0:
            if not self.buf:
                self.fill()
            take = bytes(self.buf[:n])
            del self.buf[:len(take)]
            sink(take)
            n -= len(take)


def websocket_accept(key):
    """The Sec-WebSocket-Accept value answering Sec-WebSocket-Key `key` (RFC 6455)."""
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest).decode()


def _parse_head(raw):
    lines = raw[:-4].split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3:
        raise _BadMessage(f"bad request line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise _BadMessage(f"bad header line {line!r}")
        headers.append((name, value.strip(" \t")))
    return parts, headers


class HttpBackend:
    """A loopback HTTP/1.1 server (`backends.http()`): it records every request (`.requests`,
    in arrival order) and answers according to the request target:

    - `/echo` and anything unknown: 200, a JSON summary of the request (HttpRequest.summary)
    - `/size/N`: 200 with content-length N, body Payload(N, seed=N)
    - `/chunked/N`: 200, the same N bytes chunked (chunk sizes vary from 1 byte to 300 kB)
    - `/close/N`: 200 without content-length nor transfer-encoding, N bytes, then close
    - `/status/N`: status N, body `status N\\n` (none for 1xx, 204, 304 and HEAD)
    - `/hang`: no answer; waits for the peer to close
    - `/slow-headers`: sends the status line and one header, then hangs like `/hang`
    - `/delay/MS`: the `/echo` answer after MS milliseconds
    - `/die-before-headers`: closes without answering
    - `/die-mid-body`: content-length 1000000, sends 100000 bytes, closes
    - `/garbage`: a line that is not HTTP, then close
    - `/upgrade`: with an `Upgrade` header, 101 (with Sec-WebSocket-Accept when the request
      has a Sec-WebSocket-Key) then echoes raw bytes until EOF; else 400
    - method CONNECT: `HTTP/1.1 200 OK` with no body, then echoes raw bytes until EOF
    - `/raw/NAME`: sends `.raw[NAME]` (bytes set by the test) as is, then closes

    HEAD gets the headers of the matching GET (content-length included) and no body. A request
    with `Expect: 100-continue` and a body gets `HTTP/1.1 100 Continue` before the body is read.
    The connection is kept alive unless the request says otherwise (`Connection: close`, or
    HTTP/1.0 without `Connection: keep-alive`), the target contains `close=1`, or the answer is
    close-delimited. With `drop=1` in the target the answer says keep-alive but the connection
    is closed right after it, as a server whose keep-alive timeout ran out. Every answer carries `X-Conn` and `X-Seq` (connection number, request rank
    on it). Requests it cannot parse are listed in `.bad`, not raised."""

    HEAD_LIMIT = 1 << 20
    CHUNK_SIZES = (1, 10, 1000, 16384, 65536, 300000)

    def __init__(self, name):
        self.name = name
        self.requests = []
        self.bad = []  # (connection number, reason): what it could not parse
        self.raw = {}
        self.error = None
        self.lock = threading.Lock()
        self._accepted = 0
        self._closed = 0
        self._per_conn = {}
        self._socks = {}
        self._threads = []
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1024)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name=f"http-{name}",
                                        daemon=True)
        self._thread.start()

    # --- what tests read ---

    @property
    def connections(self):
        """Connections accepted so far."""
        return self._accepted

    @property
    def closed_connections(self):
        return self._closed

    @property
    def open_connections(self):
        return self._accepted - self._closed

    def requests_per_connection(self):
        """Requests received on each connection, in accept order."""
        with self.lock:
            return [self._per_conn[c] for c in sorted(self._per_conn)]

    def wait_requests(self, n, timeout=10.0):
        wait_for(lambda: len(self.requests) >= n, timeout,
                 f"{self.name} to receive {n} requests (has {len(self.requests)})")
        return self.requests

    def wait_connections(self, n, timeout=10.0):
        wait_for(lambda: self._accepted >= n, timeout,
                 f"{self.name} to accept {n} connections (has {self._accepted})")

    def wait_closed(self, n, timeout=10.0):
        wait_for(lambda: self._closed >= n, timeout,
                 f"{self.name} to see {n} connections closed (has {self._closed})")

    def stop(self):
        """Close the listener and every connection."""
        if self._stop.is_set():
            return
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self.lock:
            socks = list(self._socks.values())
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(10)
        for t in list(self._threads):
            t.join(10)

    # --- serving ---

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self.lock:
                self._accepted += 1
                number = self._accepted
                self._per_conn[number] = 0
                self._socks[number] = conn
            t = threading.Thread(target=self._serve, args=(conn, number), daemon=True,
                                 name=f"http-{self.name}-{number}")
            self._threads.append(t)
            t.start()

    def _serve(self, conn, number):
        conn.settimeout(120)
        try:
            self._serve_requests(conn, number)
        except (OSError, EOFError):
            pass
        except _BadMessage as e:
            with self.lock:
                self.bad.append((number, str(e)))
        except Exception as e:  # reported by Backends.close(): a test must not pass over it
            self.error = e
            raise
        finally:
            with self.lock:
                self._socks.pop(number, None)
            conn.close()
            with self.lock:
                self._closed += 1

    def _serve_requests(self, conn, number):
        reader = _Reader(conn)
        seq = 0
        while not self._stop.is_set():
            try:
                head = reader.until(b"\r\n\r\n", self.HEAD_LIMIT)
            except EOFError:
                if reader.buf:
                    raise _BadMessage(f"EOF inside a request head: {bytes(reader.buf)!r}")
                return
            (method, target, version), headers = _parse_head(head)
            seq += 1
            req = HttpRequest(number, seq, method, target, version, headers, head)
            self._read_body(conn, reader, req)
            with self.lock:
                self.requests.append(req)
                self._per_conn[number] += 1
            if not self._respond(conn, reader, req) or "drop=1" in req.target:
                return

    def _read_body(self, conn, reader, req):
        te = ",".join(req.header_all("transfer-encoding")).lower()
        cl = req.header_all("content-length")
        has_body = "chunked" in te or (cl and cl[0] != "0")
        if has_body and (req.header("expect") or "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        h = hashlib.sha256()
        kept = bytearray()

        def sink(data):
            h.update(data)
            req.body_length += len(data)
            if len(kept) < HttpRequest.BODY_KEPT:
                kept.extend(data)

        if "chunked" in te:
            req.chunked = True
            while True:
                line = reader.until(b"\r\n", 4096)
                size_text = line[:-2].split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise _BadMessage(f"bad chunk size line {line!r}") from None
                if size == 0:
                    break
                reader.exactly(size, sink)
                if reader.until(b"\r\n", 2) != b"\r\n":
                    raise _BadMessage("chunk not followed by CRLF")
            while True:
                line = reader.until(b"\r\n", self.HEAD_LIMIT)
                if line == b"\r\n":
                    break
                name, _, value = line[:-2].decode("latin-1").partition(":")
                req.trailers.append((name, value.strip(" \t")))
        elif cl:
            reader.exactly(int(cl[0]), sink)
        req.body_sha256 = h.hexdigest()
        req.body = bytes(kept) if req.body_length <= HttpRequest.BODY_KEPT else None

    def _keep_alive(self, req):
        tokens = {t.strip().lower() for v in req.header_all("connection") for t in v.split(",")}
        if "close" in tokens or "close=1" in req.target:
            return False
        return req.version == "HTTP/1.1" or "keep-alive" in tokens

    def _send(self, conn, req, status, headers, body=b"", keep=True):
        """Send a response head (adding X-Conn, X-Seq and Connection as needed) and `body`
        unless the request is HEAD or the status has none. `body` may be an iterator of
        chunks."""
        reason = http.client.responses.get(status, "Whatever")
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{n}: {v}" for n, v in headers),
                 f"X-Conn: {req.conn}", f"X-Seq: {req.seq}"]
        if not keep:
            lines.append("Connection: close")
        elif req.version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if req.method == "HEAD" or status in (204, 304) or status < 200:
            return keep
        if isinstance(body, (bytes, bytearray)):
            conn.sendall(body)
        else:
            for chunk in body:
                conn.sendall(chunk)
        return keep

    def _hang(self, conn, reader):
        """Read (and drop) until the peer closes or the server stops."""
        try:
            while not self._stop.is_set():
                reader.fill()
                reader.buf.clear()
        except (EOFError, OSError):
            pass
        return False

    def _echo_raw(self, conn, reader):
        if reader.buf:
            conn.sendall(bytes(reader.buf))
            reader.buf.clear()
        while True:
            data = conn.recv(1 << 18)
            if not data:
                return False
            conn.sendall(data)

    def _chunked(self, payload):
        sizes = self.CHUNK_SIZES
        i = 0
        for block in payload.chunks():
            view = memoryview(block)
            while view:
                n = sizes[i % len(sizes)]
                i += 1
                piece, view = view[:n], view[n:]
                yield b"%x\r\n" % len(piece) + bytes(piece) + b"\r\n"
        yield b"0\r\n\r\n"

    def _respond(self, conn, reader, req):
        keep = self._keep_alive(req)
        path = req.path
        parts = path.strip("/").split("/")
        arg = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        if req.method == "CONNECT":
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
            return self._echo_raw(conn, reader)
        if parts[0] == "upgrade":
            proto = req.header("upgrade")
            if not proto:
                return self._send(conn, req, 400, [("Content-Length", "0")], keep=keep)
            lines = ["HTTP/1.1 101 Switching Protocols", f"Upgrade: {proto}",
                     "Connection: Upgrade"]
            key = req.header("sec-websocket-key")
            if key is not None:
                lines.append(f"Sec-WebSocket-Accept: {websocket_accept(key)}")
            conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            return self._echo_raw(conn, reader)
        if parts[0] == "size" and arg is not None:
            p = Payload(arg, arg)
            return self._send(conn, req, 200, [("Content-Type", "application/octet-stream"),
                                               ("Content-Length", str(arg))],
                              p.chunks(), keep)
        if parts[0] == "chunked" and arg is not None:
            return self._send(conn, req, 200, [("Content-Type", "application/octet-stream"),
                                               ("Transfer-Encoding", "chunked")],
                              self._chunked(Payload(arg, arg)), keep)
        if parts[0] == "close" and arg is not None:
            self._send(conn, req, 200, [("Content-Type", "application/octet-stream")],
                       Payload(arg, arg).chunks(), keep=True)
            return False
        if parts[0] == "status" and arg is not None:
            body = f"status {arg}\n".encode()
            headers = [("Content-Type", "text/plain")]
            if arg >= 200 and arg not in (204, 304):
                headers.append(("Content-Length", str(len(body))))
            return self._send(conn, req, arg, headers, body, keep)
        if parts[0] == "hang":
            return self._hang(conn, reader)
        if parts[0] == "slow-headers":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
            return self._hang(conn, reader)
        if parts[0] == "die-before-headers":
            return False
        if parts[0] == "die-mid-body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 100000)
            return False
        if parts[0] == "garbage":
            conn.sendall(b"this is not an HTTP response\r\n\r\n")
            return False
        if parts[0] == "raw" and len(parts) > 1:
            conn.sendall(self.raw[parts[1]])
            return False
        if parts[0] == "delay" and arg is not None:
            if self._stop.wait(arg / 1000):
                return False
        body = json.dumps(req.summary()).encode()
        return self._send(conn, req, 200, [("Content-Type", "application/json"),
                                           ("Content-Length", str(len(body)))], body, keep)


class Backends:
    """The `backends` fixture: loopback servers stopped at teardown."""

    def __init__(self):
        self._servers = []
        self._held = []
        self._n = 0

    def _add(self, name, handler, payload=None):
        self._n += 1
        server = Backend(name or f"b{self._n}", handler, payload)
        self._servers.append(server)
        return server

    def echo(self, name=None):
        """Echoes every byte back; when the client half-closes, finishes echoing, then closes."""
        return self._add(name, _Echo)

    def sink(self, name=None):
        """Reads until EOF, records (byte count, sha256) in `.received`, replies
        `"<count> <sha256 hex>\\n"`, then closes."""
        return self._add(name, _Sink)

    def source(self, nbytes, seed=0, name=None):
        """Sends `Payload(nbytes, seed)` (see `.payload.sha256`) to every client, then closes."""
        return self._add(name, _Source, Payload(nbytes, seed))

    def named(self, name):
        """Sends `name\\n` on connect and closes: the client learns which server it reached."""
        return self._add(name, _Named)

    def http(self, name=None):
        """An HTTP/1.1 server (see HttpBackend for what each request target does)."""
        self._n += 1
        server = HttpBackend(name or f"h{self._n}")
        self._servers.append(server)
        return server

    def payload(self, nbytes, seed):
        return Payload(nbytes, seed)

    def dead_port(self):
        """A loopback port that refuses connections: bound (so no one else takes it), never
        listening, until teardown."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self._held.append(s)
        return s.getsockname()[1]

    def close(self):
        """Stop everything; return the errors backend threads died of."""
        for server in self._servers:
            server.stop()
        for s in self._held:
            s.close()
        return [f"backend {s.name} crashed: {s.error!r}" for s in self._servers if s.error]


@pytest.fixture
def backends():
    b = Backends()
    yield b
    errors = b.close()
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


# --------------------------------------------------------------------------------------------
# HTTP client side: raw-socket helpers and curl, for the test_http*.py files


class HttpClosed(EOFError):
    """The connection ended before a complete response: `.data` holds what did arrive."""

    def __init__(self, what, data=b""):
        super().__init__(f"{what} ({len(data)} bytes received)")
        self.data = data


class HttpResponse:
    def __init__(self, raw_head):
        self.raw_head = raw_head
        lines = raw_head[:-4].decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.version, _, rest = self.status_line.partition(" ")
        code, _, self.reason = rest.partition(" ")
        self.status = int(code)
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name, value.strip(" \t")))
        self.interim = []  # 1xx responses received before this one
        self.trailers = []
        self.body = b""
        self.body_length = 0
        self.body_sha256 = hashlib.sha256().hexdigest()
        self.framing = None  # "length", "chunked", "close" or None (no body)

    def header_all(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n.lower() == name]

    def header(self, name):
        values = self.header_all(name)
        return values[0] if values else None

    def header_names(self, name):
        return [n for n, _ in self.headers if n.lower() == name.lower()]

    def tokens(self, name):
        """The comma-separated tokens of every `name` header, lowercased."""
        return sorted(t.strip().lower() for v in self.header_all(name) for t in v.split(",")
                      if t.strip())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<HttpResponse {self.status_line!r} {self.headers} body={self.body_length}>"


class HttpClient:
    """An HTTP/1.x client on one raw socket: send bytes or requests, read responses in order."""

    def __init__(self, sock):
        self.sock = sock
        self.reader = _Reader(sock)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method="GET", target="/echo", headers=(), body=b"", version="HTTP/1.1",
                host="sluice.test"):
        """Send one request; a content-length is added for a non-empty bytes body unless
        `headers` sets content-length or transfer-encoding."""
        self.send(build_request(method, target, headers, body, version, host))

    def _fill(self, what):
        try:
            self.reader.fill()
        except (EOFError, ConnectionResetError):
            raise HttpClosed(what, bytes(self.reader.buf)) from None

    def _until(self, delim, limit, what):
        while True:
            i = self.reader.buf.find(delim)
            if i >= 0:
                out = bytes(self.reader.buf[:i + len(delim)])
                del self.reader.buf[:i + len(delim)]
                return out
            assert len(self.reader.buf) <= limit, f"no {delim!r} within {limit} bytes"
            self._fill(what)

    def response(self, method="GET", keep_body=True):
        """Read one final response (1xx ones land in `.interim`). The body is hashed as it
        arrives; kept in `.body` when `keep_body`."""
        interim = []
        while True:
            resp = HttpResponse(self._until(b"\r\n\r\n", 1 << 20, "EOF before a response head"))
            if 100 <= resp.status < 200 and resp.status != 101:
                interim.append(resp)
                continue
            resp.interim = interim
            break
        h = hashlib.sha256()
        kept = []

        def take(data):
            h.update(data)
            resp.body_length += len(data)
            if keep_body:
                kept.append(data)

        te = ",".join(resp.header_all("transfer-encoding")).lower()
        cl = resp.header("content-length")
        if method == "HEAD" or resp.status in (101, 204, 304) or \
                (method == "CONNECT" and 200 <= resp.status < 300):
            pass
        elif "chunked" in te:
            resp.framing = "chunked"
            while True:
                size = int(self._until(b"\r\n", 4096, "EOF in a chunk size")[:-2]
                           .split(b";")[0], 16)
                if size == 0:
                    break
                self._take(size, take)
                assert self._until(b"\r\n", 2, "EOF after a chunk") == b"\r\n"
            while True:
                line = self._until(b"\r\n", 1 << 20, "EOF in trailers")
                if line == b"\r\n":
                    break
                name, _, value = line[:-2].decode("latin-1").partition(":")
                resp.trailers.append((name, value.strip()))
        elif cl is not None:
            resp.framing = "length"
            self._take(int(cl), take)
        else:
            resp.framing = "close"
            while True:
                if self.reader.buf:
                    take(bytes(self.reader.buf))
                    self.reader.buf.clear()
                try:
                    self.reader.fill()
                except (EOFError, ConnectionResetError):
                    break
        resp.body_sha256 = h.hexdigest()
        resp.body = b"".join(kept)
        return resp

    def _take(self, n, take):
        while n > 0:
            if not self.reader.buf:
                try:
                    self.reader.fill()
                except (EOFError, ConnectionResetError):
                    raise HttpClosed(f"EOF with {n} body bytes missing") from None
            piece = bytes(self.reader.buf[:n])
            del self.reader.buf[:len(piece)]
            take(piece)
            n -= len(piece)

    def roundtrip(self, *args, **kwargs):
        self.request(*args, **kwargs)
        return self.response(method=kwargs.get("method", args[0] if args else "GET"))

    def wait_closed(self, timeout=5.0):
        """Wait until the peer closes (EOF or reset) and return the bytes that came before,
        buffered ones included. Fails if the connection is still open after `timeout`."""
        got = bytearray(self.reader.buf)
        self.reader.buf.clear()
        deadline = time.monotonic() + timeout
        old = self.sock.gettimeout()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"connection still open after {timeout:g}s "
                                         f"(received {bytes(got[:200])!r})")
                self.sock.settimeout(left)
                try:
                    data = self.sock.recv(1 << 16)
                except ConnectionResetError:
                    return bytes(got)
                except socket.timeout:
                    continue
                if not data:
                    return bytes(got)
                got += data
        finally:
            self.sock.settimeout(old)

    def nothing_pending(self):
        """True when no byte and no EOF are waiting right now."""
        if self.reader.buf:
            return False
        old = self.sock.gettimeout()
        self.sock.setblocking(False)
        try:
            self.sock.recv(1, socket.MSG_PEEK)
            return False
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            self.sock.settimeout(old)


def build_request(method="GET", target="/echo", headers=(), body=b"", version="HTTP/1.1",
                  host="sluice.test"):
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{n}: {v}" for n, v in headers]
    names = {n.lower() for n, _ in headers}
    if body and not names & {"content-length", "transfer-encoding"}:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def cli_exchange(address, text):
    """Sends `text` on a new connection to a stats socket (a UNIX path, or a (host, port) TCP
    address) and returns every byte the proxy answered before closing."""
    if isinstance(address, tuple):
        s = socket.create_connection(address, timeout=5)
    else:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(address)
    with s:
        s.sendall(text.encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def http_connect(port, timeout=10.0):
    """An HttpClient connected to 127.0.0.1:`port`."""
    return HttpClient(socket.create_connection(("127.0.0.1", port), timeout=timeout))


def curl(*args, timeout=60):
    """Run `curl -sS` (no proxy from the environment, no ~/.curlrc) with `args`; return the
    CompletedProcess with bytes stdout and text stderr."""
    out = subprocess.run(["curl", "-q", "-sS", "--noproxy", "*", "--max-time", str(timeout - 5),
                          *args], capture_output=True, timeout=timeout)
    out.stderr = out.stderr.decode(errors="replace")
    return out
