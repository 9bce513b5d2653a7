"""Command-line flags, check mode and the configuration language, end to end.

HAProxy 2.6 is the oracle: unless a test says "Sluice only", what it pins is HAProxy 2.6's
behaviour (messages quoted from `haproxy -c` runs), which Sluice reproduces as a drop-in
replacement.
"""

import re
import signal

import pytest

from client import echo_once, connect_refused

ALL_TIMEOUTS = """
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
"""


def line_of(text, needle, nth=1):
    """1-based number of the `nth` line of `text` containing `needle`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not in config"
    return hits[nth - 1]


def simple_proxy(sluice, fe_port, be_port):
    return f"""{sluice.base()}
frontend fe
    bind 127.0.0.1:{fe_port}
    default_backend be
backend be
    server s1 127.0.0.1:{be_port}
"""


# ---------------------------------------------------------------------------------------------
# Version and usage


def test_version_first_line(sluice):
    """`-v` prints `HAProxy version 2.6.x ...` first (scripts parse it), exits 0."""
    out = sluice.run("-v")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].startswith("HAProxy version 2.6.")


def test_build_options_sections_in_order(sluice):
    """`-vv` prints HAProxy's build report: these headings once each, in this order."""
    out = sluice.run("-vv")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    markers = ["TARGET  = linux-glibc", "Feature list : ", "Available polling systems :",
               "Available multiplexer protocols :", "Available services :",
               "Available filters :"]
    positions = []
    for marker in markers:
        hits = [i for i, line in enumerate(lines) if marker in line]
        assert len(hits) == 1, f"{marker!r} appears {len(hits)} times in -vv output"
        positions.append(hits[0])
    assert positions == sorted(positions), "-vv sections out of order"


@pytest.mark.parametrize("flag", ["-Z", "--no-such-flag"])
def test_unknown_flag_prints_usage(sluice, flag):
    """HAProxy: an unknown flag prints the usage text on stderr and exits 1."""
    out = sluice.run(flag)
    assert out.returncode == 1
    assert "Usage : " in out.stderr
    assert "-f <cfgfile|cfgdir>" in out.stderr


def test_no_config_file_prints_usage(sluice):
    """HAProxy: no `-f` at all is a usage error (exit 1), not a daemon with nothing to do."""
    out = sluice.run()
    assert out.returncode == 1
    assert "Usage : " in out.stderr


# ---------------------------------------------------------------------------------------------
# -cc: evaluate a condition


@pytest.mark.parametrize("expr,env,status", [
    ("version_atleast(2.5)", None, 0),
    ("version_before(2.0)", None, 1),
    ("defined(SLUICE_TEST_VAR)", {"SLUICE_TEST_VAR": "1"}, 0),
    ("defined(SLUICE_TEST_VAR)", {"SLUICE_TEST_VAR": ""}, 0),
    ("defined(SLUICE_TEST_VAR)", {"SLUICE_TEST_VAR": None}, 1),
], ids=["atleast-true", "before-false", "defined-set", "defined-empty", "defined-unset"])
def test_check_condition(sluice, expr, env, status):
    """HAProxy: `-cc EXPR` exits 0 when the condition holds, 1 when not, printing nothing
    (a variable set to the empty string counts as defined)."""
    out = sluice.run("-cc", expr, env=env)
    assert out.returncode == status, out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("expr", ["foo(", "no_such_predicate(1)"])
def test_check_condition_unparsable(sluice, expr):
    """HAProxy: an expression that does not parse exits 2 with an [ALERT] quoting it."""
    out = sluice.run("-cc", expr)
    assert out.returncode == 2
    assert "[ALERT]" in out.stderr
    assert f"unparsable conditional expression '{expr}'" in out.stderr


# ---------------------------------------------------------------------------------------------
# -c: check mode diagnostics


def test_check_valid_config(sluice, backends):
    """HAProxy: `-c` on a valid config prints `Configuration file is valid` on stdout, exit 0,
    and no [ALERT]/[WARNING]."""
    out = sluice.check(simple_proxy(sluice, sluice.port("fe"), backends.dead_port()))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Configuration file is valid\n"
    assert "[ALERT]" not in out.stderr and "[WARNING]" not in out.stderr


def test_check_unknown_keyword(sluice):
    """HAProxy: `parsing [t.cfg:N] : unknown keyword 'balanse' in 'backend' section; did you mean
    'balance' maybe ?`, exit 1."""
    text = f"""{sluice.base()}
backend be
    balanse roundrobin
"""
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 1
    alert = next(line for line in out.stderr.splitlines() if "balanse" in line)
    assert alert.startswith("[ALERT]")
    assert f"t.cfg:{line_of(text, 'balanse')}]" in alert
    assert "unknown keyword 'balanse'" in alert
    assert "did you mean 'balance'" in alert
    # The last line sums up, in HAProxy's `[ALERT]    (PID) : config : ` shape.
    assert re.fullmatch(r"\[ALERT\] {4}\(\d+\) : config : Fatal errors found in configuration\.",
                        out.stderr.splitlines()[-1]), out.stderr


def test_check_duplicate_backend(sluice):
    """HAProxy: a second `backend be` is fatal and the alert names both places, `Parsing
    [t.cfg:N2]: backend 'be' has the same name as backend 'be' declared at t.cfg:N1.`, exit 1."""
    text = f"""{sluice.base()}
backend be
    server s1 127.0.0.1:9
backend be
    server s1 127.0.0.1:9
"""
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 1
    first, second = line_of(text, "backend be", 1), line_of(text, "backend be", 2)
    alert = next(line for line in out.stderr.splitlines() if "same name" in line)
    assert alert.startswith("[ALERT]")
    assert f"t.cfg:{second}]" in alert and f"t.cfg:{first}" in alert
    assert "'be'" in alert


def test_check_missing_default_backend(sluice):
    """HAProxy: `default_backend` naming no backend is fatal, exit 1; its alert names the proxy
    and the missing backend (`Proxy 'fe': unable to find required default_backend: 'nope'.`).
    HAProxy gives no file:line for this one: it is found after parsing."""
    text = f"""{sluice.base()}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend nope
"""
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 1
    alert = next(line for line in out.stderr.splitlines() if "default_backend" in line)
    assert alert.startswith("[ALERT]")
    assert "'fe'" in alert and "'nope'" in alert


def test_check_frontend_without_bind(sluice):
    """HAProxy: a frontend with no `bind` is only a [WARNING], but with no listener at all the
    process would not start, so `-c` exits 2 and says so on stdout."""
    text = f"""{sluice.base()}
frontend fe
    default_backend be
backend be
    server s1 127.0.0.1:9
"""
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 2
    warning = next(line for line in out.stderr.splitlines() if "'fe'" in line)
    assert warning.startswith("[WARNING]") and "bind" in warning
    assert "Configuration file has no error but will not start (no listener) => exit(2)." \
        in out.stdout


def test_check_last_line_without_newline(sluice, tmp_path, binary_is_haproxy):
    """HAProxy: a config whose last line lacks its LF is rejected as possibly truncated (`parsing
    [t.cfg:N]: Missing LF on last line, file might have been truncated at position P.`), exit 1.
    Sluice words it in its own message style (`parsing [t.cfg:N] : missing LF on last line, ...`,
    no final dot), with the same line and position."""
    text = simple_proxy(sluice, sluice.port("fe"), 9).rstrip("\n")
    (tmp_path / "t.cfg").write_text(text)
    out = sluice.run("-c", "-f", "t.cfg")
    assert out.returncode == 1
    phrase = "Missing LF on last line" if binary_is_haproxy else "missing LF on last line"
    alert = next(line for line in out.stderr.splitlines() if phrase in line)
    assert alert.startswith("[ALERT]") and f"t.cfg:{len(text.splitlines())}]" in alert
    position = len(text.splitlines()[-1]) + 1  # 1-based, just past the last character
    assert f"truncated at position {position}" in alert


@pytest.mark.parametrize("lines,haproxy_phrase,sluice_phrase", [
    (".iff 1", "unknown directive '.iff'", "unknown directive '.iff'"),
    ("frontend fe\n    bind 127.0.0.1:0", "invalid port '0'", "invalid port '0'"),
    ("frontend fe\n    bind [::1]80", "missing port specification in '[::1]80'",
     "expected ':' after ']' in '[::1]80'"),
    ("backend be\n    balance roundrobin(x)", "balance only supports",
     "algorithm 'roundrobin' takes no argument"),
], ids=["unknown-directive", "bind-port-0", "bind-junk-after-bracket", "balance-argument"])
def test_check_rejects_at_file_line(sluice, lines, haproxy_phrase, sluice_phrase,
                                    binary_is_haproxy):
    """HAProxy: each of these lines is an [ALERT] at its file:line and `-c` exits 1: an unknown
    `.` directive, port 0 on a bind (it would listen on a port the kernel picks), text between
    `]` and `:`, an argument to an algorithm that takes none. Sluice words some of them its own
    way."""
    text = f"{sluice.base()}{lines}\n"
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 1
    phrase = haproxy_phrase if binary_is_haproxy else sluice_phrase
    alert = next(line for line in out.stderr.splitlines() if phrase in line)
    assert alert.startswith("[ALERT]") and f"t.cfg:{len(text.splitlines())}]" in alert


def test_check_listen_without_client_timeout_warns(sluice, backends, binary_is_haproxy):
    """HAProxy: a `listen` section without `timeout client` is valid but warned about (`missing
    timeouts for proxy 'l'`); `-c` prints `Warnings were found.` and exits 0. Sluice's warning
    names the section as `listen 'l'` and the timeout missing."""
    text = f"""global
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout server 30s
listen l
    bind 127.0.0.1:{sluice.port('fe')}
    server s1 127.0.0.1:{backends.dead_port()}
"""
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 0, out.stderr
    phrase = "missing timeouts for proxy 'l'" if binary_is_haproxy \
        else "missing timeouts for listen 'l'"
    warning = next(line for line in out.stderr.splitlines() if phrase in line)
    assert warning.startswith("[WARNING]")
    if not binary_is_haproxy:
        assert f"t.cfg:{line_of(text, 'listen l')}]" in warning and "timeout client" in warning
    assert out.stdout == "Warnings were found.\nConfiguration file is valid\n"


def test_start_without_listener_exits(sluice, backends):
    """HAProxy: started (not `-c`) with nothing to listen on, the process alerts `No enabled
    listener found (check for 'bind' directives) ! Exiting.` and exits 1."""
    text = f"""{sluice.base()}
backend be
    server s1 127.0.0.1:{backends.dead_port()}
"""
    px = sluice.start(text, expect_fail=True)
    assert px.popen.returncode == 1
    alert = next(line for line in px.stderr_text().splitlines() if "No enabled listener" in line)
    assert alert.startswith("[ALERT]")


def test_check_missing_file(sluice):
    """HAProxy: an unreadable `-f` path is an [ALERT] naming it, exit 1."""
    out = sluice.run("-c", "-f", "no-such-file.cfg")
    assert out.returncode == 1
    assert "no-such-file.cfg" in out.stderr and "[ALERT]" in out.stderr


# ---------------------------------------------------------------------------------------------
# Where configuration comes from: -f DIR, --, -C


def test_config_dir_loads_only_cfg_files(sluice, tmp_path, backends):
    """HAProxy: `-f DIR` loads DIR's `*.cfg` files; other files and dot-files are ignored."""
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "10-fe.cfg").write_text(f"""{sluice.base()}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
""")
    (d / "20-be.cfg").write_text(f"backend be\n    server s1 127.0.0.1:{backends.dead_port()}\n")
    (d / "README").write_text("not a config\n")
    (d / "30-old.cfg.bak").write_text("not a config\n")
    (d / ".hidden.cfg").write_text("not a config\n")
    out = sluice.run("-c", "-f", "conf.d")
    assert out.returncode == 0, out.stderr
    assert "Configuration file is valid" in out.stdout


def test_config_dir_lexical_order(sluice, tmp_path):
    """HAProxy: `-f DIR` reads its files in lexical order: the duplicate-backend alert says
    20-be.cfg repeats what 05-be.cfg declared."""
    d = tmp_path / "conf.d"
    d.mkdir()
    (d / "20-be.cfg").write_text("backend be\n    server s1 127.0.0.1:9\n")
    (d / "05-be.cfg").write_text(f"{sluice.base()}backend be\n    server s1 127.0.0.1:9\n")
    out = sluice.run("-c", "-f", "conf.d")
    assert out.returncode == 1
    alert = next(line for line in out.stderr.splitlines() if "same name" in line)
    assert "conf.d/20-be.cfg:1]" in alert and "conf.d/05-be.cfg:" in alert


def test_double_dash_then_config_files(sluice, tmp_path, backends):
    """HAProxy: arguments after `--` are config files."""
    (tmp_path / "fe.cfg").write_text(f"""{sluice.base()}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
""")
    (tmp_path / "be.cfg").write_text(
        f"backend be\n    server s1 127.0.0.1:{backends.dead_port()}\n")
    out = sluice.run("-c", "--", "fe.cfg", "be.cfg")
    assert out.returncode == 0, out.stderr
    assert "Configuration file is valid" in out.stdout


@pytest.mark.parametrize("order", ["chdir-first", "chdir-between"])
def test_chdir_before_loading(sluice, tmp_path, backends, order):
    """HAProxy: `-C DIR` changes directory before any file is loaded, wherever it appears among
    the flags, so relative `-f` paths resolve inside DIR."""
    d = tmp_path / "etc"
    d.mkdir()
    (d / "fe.cfg").write_text(f"""{sluice.base()}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
""")
    (d / "be.cfg").write_text(f"backend be\n    server s1 127.0.0.1:{backends.dead_port()}\n")
    args = (["-C", str(d), "-f", "fe.cfg", "-f", "be.cfg"] if order == "chdir-first"
            else ["-f", "fe.cfg", "-C", str(d), "-f", "be.cfg"])
    out = sluice.run("-c", *args, cwd="/")
    assert out.returncode == 0, out.stderr
    assert "Configuration file is valid" in out.stdout


# ---------------------------------------------------------------------------------------------
# Process control: -p, -D, signals, master-worker


def test_daemon_mode_writes_pidfile(sluice, backends, tmp_path, wait_for):
    """HAProxy: `-D` forks; the parent exits 0 once the child is up, `-p FILE` holds the child's
    pid (one line), and that child serves traffic."""
    echo = backends.echo()
    cfg = sluice.write_config(simple_proxy(sluice, sluice.port("fe"), echo.port))
    pidfile = tmp_path / "sluice.pid"
    parent = sluice.run_daemonizing("-D", "-p", str(pidfile), "-f", cfg)
    assert parent.returncode == 0, parent.stderr
    text = pidfile.read_text()
    assert text.endswith("\n") and text.strip().isdigit()
    daemon = sluice.adopt_daemon(int(text))
    assert daemon.running()
    wait_for(lambda: sluice.port("fe") in daemon.listening_ports(), what="daemon to listen")
    assert echo_once(sluice.port("fe")) == b"ping"


def test_foreground_pidfile(sluice, backends, tmp_path, binary_is_haproxy, wait_for):
    """`-p FILE` without `-D`. HAProxy 2.6 writes no pidfile in the foreground (only daemon and
    master-worker modes write one; it has written it, if at all, before it listens); Sluice
    writes its own pid."""
    pidfile = tmp_path / "fg.pid"
    px = sluice.start(simple_proxy(sluice, sluice.port("fe"), backends.dead_port()),
                      args=("-p", str(pidfile)))
    if binary_is_haproxy:
        assert not pidfile.exists()
    else:
        wait_for(lambda: pidfile.exists() and pidfile.read_text().endswith("\n"),
                 what="pidfile to be written")
        assert pidfile.read_text() == f"{px.pid}\n"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_foreground_stop_signal(sluice, backends, sig, binary_is_haproxy):
    """SIGINT/SIGTERM stop a foreground process at once. HAProxy 2.6 leaves both signals at their
    default action outside master-worker mode, so it dies of the signal; Sluice exits 0."""
    px = sluice.start(simple_proxy(sluice, sluice.port("fe"), backends.dead_port()))
    px.signal(sig)
    status = px.wait_exit(5)
    assert status == (-sig if binary_is_haproxy else 0), px.stderr_text()


@pytest.mark.parametrize("flags", [["-W"], ["-Ws"], ["-S", "@SOCK@"]], ids=["W", "Ws", "S"])
def test_master_worker_rejected(sluice, backends, flags, binary_is_haproxy):
    """Sluice only: master-worker mode (`-W`, `-Ws`, `-S`) is not implemented, and asking for it
    is an error naming it. HAProxy 2.6 implements it."""
    if binary_is_haproxy:
        pytest.skip("HAProxy 2.6 implements master-worker mode")
    flags = [sluice.sock_path("master") if f == "@SOCK@" else f for f in flags]
    px = sluice.start(simple_proxy(sluice, sluice.port("fe"), backends.dead_port()),
                      args=flags, expect_fail=True)
    assert px.popen.returncode != 0
    assert "master-worker" in px.stderr_text()


# ---------------------------------------------------------------------------------------------
# Configuration language: conditionals, environment, directives, units


IF_BLOCK = """{base}
frontend fe
.if defined(SLUICE_TEST_FIRST)
    bind 127.0.0.1:{a}
.elif version_atleast(2.5)
    bind 127.0.0.1:{b}
.else
    bind 127.0.0.1:{c}
.endif
    default_backend be
backend be
    server s1 127.0.0.1:{be}
"""


@pytest.mark.parametrize("first,chosen", [(True, "a"), (False, "b")], ids=["if", "elif"])
def test_if_elif_chooses_bind(sluice, backends, first, chosen):
    """HAProxy: `.if/.elif/.else/.endif` keep only the lines of the first true branch: exactly
    the chosen `bind` listens."""
    echo = backends.echo()
    env = {"SLUICE_TEST_FIRST": "1" if first else None}
    text = IF_BLOCK.format(base=sluice.base(), a=sluice.port("a"), b=sluice.port("b"),
                           c=sluice.port("c"), be=echo.port)
    px = sluice.start(text, env=env, listening=[sluice.port(chosen)])
    others = {sluice.port(n) for n in "abc" if n != chosen}
    assert not others & px.listening_ports()
    assert echo_once(sluice.port(chosen)) == b"ping"
    assert all(connect_refused(p) for p in others)


def test_else_branch_chooses_bind(sluice, backends):
    """HAProxy: when no `.if`/`.elif` condition holds, the `.else` lines are kept."""
    echo = backends.echo()
    text = IF_BLOCK.format(base=sluice.base(), a=sluice.port("a"), b=sluice.port("b"),
                           c=sluice.port("c"), be=echo.port)
    text = text.replace("version_atleast(2.5)", "version_before(2.0)")
    px = sluice.start(text, env={"SLUICE_TEST_FIRST": None}, listening=[sluice.port("c")])
    assert not {sluice.port("a"), sluice.port("b")} & px.listening_ports()
    assert echo_once(sluice.port("c")) == b"ping"


@pytest.mark.parametrize("text,haproxy_message,sluice_message", [
    (".if defined(HOME)\n    maxconn 10\n", "non-terminated '.if' block",
     "missing '.endif' at end of file"),
    (".endif\n", "lone '.endif' with no matching '.if'", "lone '.endif' with no matching '.if'"),
], ids=["unterminated-if", "lone-endif"])
def test_unbalanced_conditional_block(sluice, text, haproxy_message, sluice_message,
                                      binary_is_haproxy):
    """HAProxy: an unbalanced `.if`/`.endif` is an [ALERT] at file:line, exit 1: a lone `.endif`
    at its own line, a `.if` left open at the last line of the file. Sluice words the open `.if`
    as a missing `.endif`, at the same line."""
    text = f"{sluice.base()}{text}"
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 1
    message = haproxy_message if binary_is_haproxy else sluice_message
    alert = next(line for line in out.stderr.splitlines() if message in line)
    assert alert.startswith("[ALERT]") and f"t.cfg:{len(text.splitlines())}]" in alert


def test_environment_variables_in_bind(sluice, backends):
    """HAProxy: `"${VAR}"` expands an environment variable and `"${VAR-default}"` falls back to
    the default when VAR is unset; both work inside a bind address."""
    echo = backends.echo()
    p1, p2 = sluice.port("p1"), sluice.port("p2")
    text = f"""{sluice.base()}
frontend fe
    bind "${{SLUICE_TEST_ADDR}}:{p1}"
    bind "${{SLUICE_TEST_UNSET-127.0.0.1}}:{p2}"
    default_backend be
backend be
    server s1 127.0.0.1:{echo.port}
"""
    sluice.start(text, env={"SLUICE_TEST_ADDR": "127.0.0.1", "SLUICE_TEST_UNSET": None},
                 listening=[p1, p2])
    assert echo_once(p1) == b"ping"
    assert echo_once(p2) == b"ping"


def test_alert_directive_fails_check(sluice):
    """HAProxy: `.alert "msg"` prints `[ALERT] ... parsing [t.cfg:N]: 'msg'.` and `-c` exits 1."""
    text = f'{sluice.base()}.alert "stop right here"\n'
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 1
    alert = next(line for line in out.stderr.splitlines() if "stop right here" in line)
    assert alert.startswith("[ALERT]") and f"t.cfg:{line_of(text, '.alert')}]" in alert


def test_warning_directive_passes_check(sluice, backends):
    """HAProxy: `.warning "msg"` prints a [WARNING] with file:line, but `-c` still exits 0
    (stdout: `Warnings were found.` then `Configuration file is valid`)."""
    text = simple_proxy(sluice, sluice.port("fe"), backends.dead_port()) \
        + '.warning "just so you know"\n'
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 0, out.stderr
    warning = next(line for line in out.stderr.splitlines() if "just so you know" in line)
    assert warning.startswith("[WARNING]") and f"t.cfg:{line_of(text, '.warning')}]" in warning
    assert out.stdout == "Warnings were found.\nConfiguration file is valid\n"


@pytest.mark.parametrize("value", ["1m", "100ms", "2h", "1d", "1500", "10s"])
def test_time_units_accepted(sluice, backends, value):
    """HAProxy: timeouts take us/ms/s/m/h/d suffixes (no suffix: milliseconds)."""
    text = simple_proxy(sluice, sluice.port("fe"), backends.dead_port()) \
        + f"    timeout server {value}\n"
    out = sluice.check(text)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("value,message", [
    ("1x", "unexpected character 'x'"),
    ("-1", "unexpected character '-'"),
    ("2147483648", "timer overflow"),
], ids=["bad-unit", "negative", "overflow"])
def test_time_units_rejected(sluice, backends, value, message):
    """HAProxy: an unknown time unit, a sign, or more than 2^31-1 ms is an [ALERT], exit 1."""
    text = simple_proxy(sluice, sluice.port("fe"), backends.dead_port()) \
        + f"    timeout server {value}\n"
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == 1
    alert = next(line for line in out.stderr.splitlines() if message in line)
    assert f"t.cfg:{line_of(text, 'timeout server ' + value)}]" in alert


@pytest.mark.parametrize("value,ok", [("100k", True), ("1m", True), ("1g", True),
                                      ("100x", False)], ids=["k", "m", "g", "bad-unit"])
def test_size_units(sluice, backends, value, ok, binary_is_haproxy):
    """HAProxy: sizes take k/m/g suffixes (stick-table `size`); another suffix is an [ALERT] at
    file:line (`stick-table: unexpected character 'x' in argument of 'size'.`), exit 1.
    Sluice has no stick tables yet (roadmap item 9): the same values go to `tune.bufsize`, which
    HAProxy 2.6 cannot take with a suffix (see test_bufsize_size_units)."""
    if binary_is_haproxy:
        text = f"""{sluice.base()}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    stick-table type ip size {value}
"""
        keyword = "stick-table"
    else:
        text = simple_proxy(sluice, sluice.port("fe"), backends.dead_port()).replace(
            "global\n", f"global\n    tune.bufsize {value}\n", 1)
        keyword = "tune.bufsize"
    out = sluice.check(text, name="t.cfg")
    assert out.returncode == (0 if ok else 1), out.stderr
    if not ok:
        alert = next(line for line in out.stderr.splitlines() if "unexpected character 'x'" in line)
        assert alert.startswith("[ALERT]") and f"t.cfg:{line_of(text, keyword)}]" in alert


def test_bufsize_size_units(sluice, backends, binary_is_haproxy):
    """Sluice only: `tune.bufsize 32k` means 32768 bytes. HAProxy 2.6 reads this value with
    atol(), takes it as 32 bytes and crashes (SIGSEGV) during `-c`."""
    if binary_is_haproxy:
        pytest.skip("HAProxy 2.6 parses `tune.bufsize 32k` as 32 bytes and segfaults")
    text = f"""{sluice.base(extra_global="tune.bufsize 32k")}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    server s1 127.0.0.1:{backends.dead_port()}
"""
    out = sluice.check(text)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("section,line,replacement", [
    ("global", "nbproc 2", "nbthread"),
    ("defaults", "contimeout 5s", "timeout connect"),
    ("defaults", "clitimeout 30s", "timeout client"),
    ("defaults", "srvtimeout 30s", "timeout server"),
], ids=["nbproc", "contimeout", "clitimeout", "srvtimeout"])
def test_removed_keywords(sluice, backends, section, line, replacement, binary_is_haproxy):
    """Keywords HAProxy removed (`nbproc` in 2.5, `contimeout`/`clitimeout`/`srvtimeout` in 2.1).
    Sluice accepts them with a [WARNING] at file:line naming the replacement, `-c` exits 0.
    HAProxy 2.6 rejects them with an [ALERT] at file:line, exit 1 (its nbproc alert says
    "Threads will automatically be used", without naming `nbthread`)."""
    text = simple_proxy(sluice, sluice.port("fe"), backends.dead_port()).replace(
        f"{section}\n", f"{section}\n    {line}\n", 1)
    out = sluice.check(text, name="t.cfg")
    keyword = line.split()[0]
    where = f"t.cfg:{line_of(text, line)}]"
    diag = next(l for l in out.stderr.splitlines() if keyword in l)
    assert where in diag
    if binary_is_haproxy:
        assert out.returncode == 1
        assert diag.startswith("[ALERT]")
        if keyword != "nbproc":
            assert f"Use '{replacement}'" in diag
    else:
        assert out.returncode == 0, out.stderr
        assert diag.startswith("[WARNING]") and replacement in diag
