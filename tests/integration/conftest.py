"""Fixtures for Sluice's integration tests: they start the real binary and real loopback backends.

Run with `pytest-3 tests/integration --sluice=PATH`. HAProxy 2.6 (`--sluice=/usr/sbin/haproxy`) is
the behaviour oracle: every test passes against it, and the few behaviours where Sluice departs on
purpose are asserted through the `binary_is_haproxy` fixture.

Only 127.0.0.1, ::1 and unix sockets ever receive traffic. Ports come from binding port 0. Nothing
here sleeps for a fixed time: `wait_for` polls a condition against a deadline.
"""

import hashlib
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
    """What start() waits for: every TCP port and unix path named on a `bind` line.

    Raises ValueError for addresses this cannot read (environment variables, `.if` blocks make
    some bind lines inactive): those tests pass `listening=` explicitly."""
    targets = []
    for raw in config_text.splitlines():
        words = raw.split()
        if len(words) < 2 or words[0] != "bind":
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
            self._wake_w.send(b"x")
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
