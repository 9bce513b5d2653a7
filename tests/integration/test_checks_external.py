"""External health checks (`option external-check`): the command's arguments and environment,
exit codes, the timeout, the state messages and the config rules. Each test pins HAProxy 2.6's
behaviour (run against /usr/sbin/haproxy with --sluice= as well) unless it says it checks a
sluice addition. The check commands are small shell scripts the tests write into tmp_path."""
import os
import re
import signal

import pytest

PID = re.compile(r"\(\d+\)")
DURATION = re.compile(r"check duration: \d+ms")
KILL = re.compile(r"kill \d+$")


def state_lines(proc):
    """The stderr lines about servers, backends and the command, pid and durations constant."""
    out = []
    for line in proc.stderr_text().splitlines():
        if ("Server " in line or "has no server available" in line or "external health" in line
                or KILL.search(line)):
            line = DURATION.sub("check duration: Nms", PID.sub("(PID)", line))
            out.append(KILL.sub("kill N", line))
    return out


def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def config(sluice, backend, extra_global="external-check\ninsecure-fork-wanted", mode="tcp"):
    return sluice.base(mode, extra_global=extra_global) + f"""
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    option external-check
{backend}
"""


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_exit_status_decides_and_is_the_code(sluice, wait_for, tmp_path):
    """HAProxy 2.6: a non-zero exit fails the check ("External check error, code: <status>"),
    exit 0 passes ("External check passed, code: 0")."""
    code = tmp_path / "code"
    code.write_text("3")
    cmd = script(tmp_path, "check.sh", f"exit $(/bin/cat {code})\n")
    proc = sluice.start(config(sluice, f"""    external-check command {cmd}
    server s1 127.0.0.1:{sluice.port('srv')} check inter 1s rise 1"""))
    wait_for(lambda: len(state_lines(proc)) >= 2, what="the DOWN messages")
    code.write_text("0")
    wait_for(lambda: len(state_lines(proc)) >= 3, what="the UP message")
    assert state_lines(proc)[:3] == [
        "[WARNING]  (PID) : Server be/s1 is DOWN, reason: External check error, code: 3, "
        "check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, "
        "0 requeued, 0 remaining in queue.",
        "[ALERT]    (PID) : backend 'be' has no server available!",
        "[WARNING]  (PID) : Server be/s1 is UP, reason: External check passed, code: 0, "
        "check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, "
        "0 total in queue.",
    ]


def test_killed_by_a_signal_is_code_minus_one(sluice, wait_for, tmp_path):
    """HAProxy 2.6: a command ended by a signal fails with code -1."""
    cmd = script(tmp_path, "check.sh", "kill -9 $$\n")
    proc = sluice.start(config(sluice, f"""    external-check command {cmd}
    server s1 127.0.0.1:{sluice.port('srv')} check inter 1s"""))
    wait_for(lambda: state_lines(proc), what="the DOWN message")
    assert state_lines(proc)[0] == (
        "[WARNING]  (PID) : Server be/s1 is DOWN, reason: External check error, code: -1, "
        "check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, "
        "0 requeued, 0 remaining in queue.")


def test_command_found_in_external_check_path(sluice, wait_for, tmp_path):
    """HAProxy 2.6: a command without '/' is searched in `external-check path`, which is also
    the child's PATH; one that is not found fails with code 255 after an alert."""
    script(tmp_path, "check.sh", "exit 7\n")
    proc = sluice.start(config(sluice, f"""    external-check command check.sh
    external-check path /nowhere:{tmp_path}
    server s1 127.0.0.1:{sluice.port('srv')} check inter 1s""").replace(
        "\nbackend be\n", f"""\nbackend be2
    option external-check
    external-check command missing.sh
    external-check path {tmp_path}
    server s2 127.0.0.1:{sluice.port('srv')} check inter 1s
backend be
"""))
    wait_for(lambda: any("be/s1 is DOWN" in l for l in state_lines(proc))
             and any("be2/s2 is DOWN" in l for l in state_lines(proc)), what="both DOWN")
    lines = state_lines(proc)
    assert any("Server be/s1 is DOWN, reason: External check error, code: 7," in l
               for l in lines)
    assert any("Server be2/s2 is DOWN, reason: External check error, code: 255," in l
               for l in lines)
    assert ("[ALERT]    (PID) : Failed to exec process for external health check: "
            "No such file or directory. Aborting.") in lines


def test_timeout_kills_the_command(sluice, wait_for, tmp_path):
    """HAProxy 2.6: the command may run for `inter`, or min(inter, timeout connect) with
    `timeout check`; then it is killed (with a "kill <pid>" warning) and the check fails with
    "External check timeout, code: 0"."""
    pidfile = tmp_path / "pid"
    cmd = script(tmp_path, "hang.sh", f"echo $$ > {pidfile}\nexec /bin/sleep 30\n")
    proc = sluice.start(config(sluice, f"""    external-check command {cmd}
    timeout connect 300
    timeout check 10s
    server s1 127.0.0.1:{sluice.port('srv')} check inter 5s"""))
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the command")
    pid = int(pidfile.read_text())
    wait_for(lambda: len(state_lines(proc)) >= 3, what="the timeout")
    lines = state_lines(proc)
    assert lines[:3] == [
        "[WARNING]  (PID) : kill N",
        "[WARNING]  (PID) : Server be/s1 is DOWN, reason: External check timeout, code: 0, "
        "check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, "
        "0 requeued, 0 remaining in queue.",
        "[ALERT]    (PID) : backend 'be' has no server available!",
    ]
    assert f"kill {pid}" in proc.stderr_text()
    ms = int(re.search(r"check duration: (\d+)ms", proc.stderr_text()).group(1))
    assert 250 <= ms < 2000  # timeout connect, not inter (5s) nor timeout check (10s)
    wait_for(lambda: not pid_alive(pid), what="the command to end")


def test_timeout_kills_what_the_command_started(sluice, wait_for, tmp_path, binary_is_haproxy):
    """Sluice addition: the command runs in a process group of its own and a timeout kills the
    whole group, so a script's own children do not outlive it (HAProxy 2.6 sends SIGTERM to
    the command alone and leaves them running)."""
    grandchild = tmp_path / "grandchild"
    cmd = script(tmp_path, "hang.sh",
                 f"/bin/sleep 30 &\necho $! > {grandchild}\nwait\n")
    proc = sluice.start(config(sluice, f"""    external-check command {cmd}
    server s1 127.0.0.1:{sluice.port('srv')} check inter 400"""))
    wait_for(lambda: any("External check timeout" in l for l in state_lines(proc)),
             what="the timeout")
    pid = int(grandchild.read_text())
    try:
        if binary_is_haproxy:
            assert pid_alive(pid)
        else:
            wait_for(lambda: not pid_alive(pid), what="the command's child to end")
    finally:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_arguments_and_environment(sluice, wait_for, tmp_path):
    """HAProxy 2.6: argv is <proxy_address> <proxy_port> <server_address> <server_port> (the
    first two NOT_USED in a backend, a listen's first bind otherwise), and the environment is
    HAProxy's variables and PATH only (proxies numbered from 1 in file order)."""
    cmd = script(tmp_path, "dump.sh", f"""out={tmp_path}/dump.$HAPROXY_SERVER_NAME
for a in "$@"; do echo "ARG $a"; done > $out.tmp
/usr/bin/env >> $out.tmp
/bin/mv $out.tmp $out
""")
    li, srv = sluice.port("li"), sluice.port("srv")
    proc = sluice.start(sluice.base("http", extra_global="external-check\ninsecure-fork-wanted")
                        + f"""
frontend fe
    mode tcp
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    mode tcp
    option external-check
    external-check command {cmd}
    server s1 127.0.0.1:{srv} check inter 1s
    server s2 127.0.0.1:{srv} check inter 1s id 40 maxconn 12
listen li
    bind 127.0.0.1:{li}
    option external-check
    external-check command {cmd}
    external-check path "/usr/bin:/bin"
    server s3 [::1]:{srv} check inter 1s
""")
    dumps = {n: tmp_path / f"dump.{n}" for n in ("s1", "s2", "s3")}
    wait_for(lambda: all(p.exists() for p in dumps.values()), what="the three dumps")

    def parse(path):
        args, env = [], {}
        for line in path.read_text().splitlines():
            if line.startswith("ARG "):
                args.append(line[4:])
            else:
                k, _, v = line.partition("=")
                env[k] = v
        env.pop("PWD", None)  # the shell's own
        return args, env

    common = {"HAPROXY_SERVER_CURCONN": "0", "HAPROXY_SERVER_SSL": "0"}
    assert parse(dumps["s1"]) == (["NOT_USED", "NOT_USED", "127.0.0.1", str(srv)], {
        **common, "HAPROXY_PROXY_ADDR": "", "HAPROXY_PROXY_ID": "2",
        "HAPROXY_PROXY_NAME": "be", "HAPROXY_PROXY_PORT": "", "HAPROXY_SERVER_ADDR": "127.0.0.1",
        "HAPROXY_SERVER_ID": "1", "HAPROXY_SERVER_MAXCONN": "0", "HAPROXY_SERVER_NAME": "s1",
        "HAPROXY_SERVER_PORT": str(srv), "HAPROXY_SERVER_PROTO": "tcp", "PATH": ""})
    assert parse(dumps["s2"])[1]["HAPROXY_SERVER_ID"] == "40"
    assert parse(dumps["s2"])[1]["HAPROXY_SERVER_MAXCONN"] == "12"
    assert parse(dumps["s3"]) == (["127.0.0.1", str(li), "::1", str(srv)], {
        **common, "HAPROXY_PROXY_ADDR": "127.0.0.1", "HAPROXY_PROXY_ID": "3",
        "HAPROXY_PROXY_NAME": "li", "HAPROXY_PROXY_PORT": str(li), "HAPROXY_SERVER_ADDR": "::1",
        "HAPROXY_SERVER_ID": "1", "HAPROXY_SERVER_MAXCONN": "0", "HAPROXY_SERVER_NAME": "s3",
        "HAPROXY_SERVER_PORT": str(srv), "HAPROXY_SERVER_PROTO": "h1",
        "PATH": "/usr/bin:/bin"})
    assert proc.alive()


def test_no_socket_is_inherited(sluice, wait_for, tmp_path):
    """HAProxy 2.6: the command gets stdin, stdout and stderr, none of the daemon's sockets."""
    out = tmp_path / "fds"
    cmd = script(tmp_path, "fds.sh", f"exec /bin/ls -l /proc/self/fd > {out}.tmp\n")
    script(tmp_path, "run.sh", f"{cmd}\n/bin/mv {out}.tmp {out}\n")
    sluice.start(config(sluice, f"""    external-check command {tmp_path}/run.sh
    server s1 127.0.0.1:{sluice.port('srv')} check inter 1s"""))
    wait_for(out.exists, what="the descriptor list")
    text = out.read_text()
    assert "socket:" not in text and "anon_inode" not in text, text


def test_soft_stop_ends_a_running_command(sluice, wait_for, tmp_path, binary_is_haproxy):
    """Sluice addition: a soft stop kills a command still running, so the daemon exits at once
    and leaves nothing behind."""
    if binary_is_haproxy:
        pytest.skip("HAProxy leaves the command running")
    pidfile = tmp_path / "pid"
    cmd = script(tmp_path, "hang.sh", f"echo $$ > {pidfile}\nexec /bin/sleep 30\n")
    proc = sluice.start(config(sluice, f"""    external-check command {cmd}
    server s1 127.0.0.1:{sluice.port('srv')} check inter 20s"""))
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="the command")
    pid = int(pidfile.read_text())
    proc.signal(signal.SIGUSR1)
    assert proc.wait_exit(5) == 0
    assert not pid_alive(pid)


@pytest.mark.parametrize("global_lines,backend,fails,says", [
    # The global `external-check` is required.
    ("insecure-fork-wanted", "    external-check command /bin/true", True,
     "global.external-check"),
    # So is a command.
    ("external-check\ninsecure-fork-wanted", "", True, "external-check command"),
    # Without insecure-fork-wanted: a warning only.
    ("external-check", "    external-check command /bin/true", False, "insecure-fork-wanted"),
    ("external-check\ninsecure-fork-wanted", "    external-check bogus x", True, "bogus"),
    ("external-check\ninsecure-fork-wanted", "    external-check command", True, "command"),
])
def test_config_rules(sluice, global_lines, backend, fails, says):
    """HAProxy 2.6's `-c` verdicts on external checks."""
    out = sluice.check(config(sluice, backend + "\n    server s1 127.0.0.1:80 check",
                              extra_global=global_lines))
    assert (out.returncode != 0) == fails, out.stderr
    assert says in out.stderr


def test_option_takes_no_argument_nor_no(sluice):
    """HAProxy 2.6 refuses `option external-check ARG` and `no option external-check`."""
    for line in ("option external-check foo", "no option external-check"):
        out = sluice.check(config(sluice, f"    external-check command /bin/true\n    {line}"))
        assert out.returncode != 0, line
        assert "external-check" in out.stderr


def test_settings_come_from_defaults(sluice, wait_for, tmp_path):
    """HAProxy 2.6: `option external-check`, `external-check command` and `path` in a defaults
    section hold for the backends after it."""
    script(tmp_path, "check.sh", "exit 9\n")
    proc = sluice.start(sluice.base(extra_global="external-check\ninsecure-fork-wanted") + f"""
    option external-check
    external-check command check.sh
    external-check path {tmp_path}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    default_backend be
backend be
    server s1 127.0.0.1:{sluice.port('srv')} check inter 1s
""")
    wait_for(lambda: state_lines(proc), what="the DOWN message")
    assert state_lines(proc)[0].startswith(
        "[WARNING]  (PID) : Server be/s1 is DOWN, reason: External check error, code: 9,")
