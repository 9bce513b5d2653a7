"""The runtime API (`stats socket`), first part of issue #7: one-shot and prompt sessions,
several commands on a line, `quit`, levels (socket `level`, `operator`, `user`), `set
severity-output`, `set timeout cli`, and the commands of this part (show version, show env,
show backend, show cli level, get weight, set weight, help). Each test pins HAProxy 2.6's bytes
and passes against Debian's haproxy (`--sluice=/usr/sbin/haproxy`), values that must differ
(the version) masked.
"""

import re
import subprocess

import pytest

from conftest import cli_exchange, http_connect, wait_for


@pytest.fixture
def cli(sluice, backends):
    """A proxy with an admin UNIX socket and a user TCP socket; `ask(text, user=False)` sends
    `text` on a new connection and returns all the proxy answered before closing."""
    web = {n: backends.http(n) for n in ("a", "b")}
    path = str(sluice.tmp_path / "admin.sock")
    proc = sluice.start(
        sluice.base("http", extra_global=f"stats socket {path} mode 600 level admin\n"
                                         f"stats socket 127.0.0.1:{sluice.port('cli')} level user\n"
                                         "stats timeout 5s")
        + f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
        + f"    server a 127.0.0.1:{web['a'].port} weight 10\n"
        + f"    server b 127.0.0.1:{web['b'].port} weight 10\n")

    class Cli:
        def __init__(self):
            self.path, self.web, self.proc = path, web, proc

        def lines(self):
            """The state messages so far, the pid masked."""
            return [re.sub(r"\(\d+\)", "(PID)", line)
                    for line in proc.stderr_text().splitlines()
                    if "Server " in line or "no server available" in line]

        def served(self, n):
            """Sends `n` requests; returns how many each server got."""
            before = {k: len(w.requests) for k, w in web.items()}
            for _ in range(n):
                with http_connect(sluice.port("lb")) as c:
                    c.request("GET", "/")
                    assert c.response().status == 200
            return {k: len(w.requests) - before[k] for k, w in web.items()}

        def ask(self, text, user=False):
            return cli_exchange(("127.0.0.1", sluice.port("cli")) if user else path,
                                text).decode()
    return Cli()


def test_one_shot_answers_and_closes(cli):
    out = cli.ask("show version\n")
    assert re.fullmatch(r"\S+\n\n", out), out


def test_several_commands_on_a_line_and_quit(cli):
    assert cli.ask("get weight lb/a;get weight lb/b\n") == "10 (initial 10)\n\n" * 2
    assert cli.ask("get weight lb/a;quit;get weight lb/b\n") == "10 (initial 10)\n\n"


def test_lines_sent_together_are_all_answered(cli):
    assert cli.ask("set severity-output number\nget weight lb/x\n") == "\n[3]: No such server.\n\n"


def test_prompt_mode(cli):
    assert cli.ask("prompt\nget weight lb/a\nquit\n") == "\n> 10 (initial 10)\n\n> "
    assert (cli.ask("prompt\nset severity-output string\nget weight lb/x\nquit\n") ==
            "\n> \n> [err]: No such server.\n\n> ")


def test_weights(cli):
    assert cli.ask("set weight lb/a 5\n") == "\n"
    assert cli.ask("get weight lb/a\n") == "5 (initial 10)\n\n"
    assert cli.ask("set weight lb/a 30%\n") == "\n"
    assert cli.ask("get weight lb/a\n") == "3 (initial 10)\n\n"
    assert cli.ask("set weight lb/a 300\n") == (
        "Absolute weight can only be between 0 and 256 inclusive.\n\n")
    assert cli.ask("set weight lb/a abc\n") == "Empty weight string empty or preceded by garbage\n"
    assert cli.ask("set weight lb/a\n") == "Require <weight> or <weight%>.\n\n"
    assert cli.ask("get weight lb\n") == "Require 'backend/server'.\n\n"
    assert cli.ask("get weight nope/a\n") == "No such backend.\n\n"
    assert cli.ask("get weight lb/nope\n") == "No such server.\n\n"


def test_a_zero_weight_takes_a_server_out_of_the_rotation(cli, sluice):
    assert cli.ask("set weight lb/a 0\n") == "\n"
    for _ in range(6):
        with http_connect(sluice.port("lb")) as c:
            c.request("GET", "/")
            assert c.response().status == 200
    assert len(cli.web["a"].requests) == 0 and len(cli.web["b"].requests) == 6
    assert cli.ask("set weight lb/a 100%\n") == "\n"
    for _ in range(4):
        with http_connect(sluice.port("lb")) as c:
            c.request("GET", "/")
            assert c.response().status == 200
    assert len(cli.web["a"].requests) == 2


def test_levels(cli):
    assert cli.ask("show cli level\n") == "admin\n\n"
    assert cli.ask("show cli level\n", user=True) == "user\n\n"
    assert cli.ask("set weight lb/a 3\n", user=True) == "Permission denied\n\n"
    assert cli.ask("operator;show cli level;set weight lb/a 3\n") == (
        "\noperator\n\nPermission denied\n\n")
    # A session only lowers its level: back up is refused.
    assert cli.ask("user;operator;show cli level\n") == "\nPermission denied\n\nuser\n\n"


def test_settings_errors(cli):
    assert cli.ask("set timeout foo 5\n") == "'set timeout' only supports 'cli'.\n\n"
    assert cli.ask("set timeout cli 0\n") == "Invalid timeout value.\n\n"
    assert cli.ask("set severity-output loud\n") == (
        "one of 'none', 'number', 'string' is a required argument\n\n")


def test_show_backend_and_env(cli):
    assert cli.ask("show backend\n") == "# name\nlb\n\n"
    assert cli.ask("show env SLUICE_NO_SUCH_VARIABLE\n") == "Variable not found\n\n"
    assert re.fullmatch(r"PATH=.*\n\n", cli.ask("show env PATH\n")), cli.ask("show env PATH\n")


def test_help_and_unknown_commands(cli):
    out = cli.ask("help get\n")
    assert out.startswith("The following commands are valid at this level:\n")
    assert "  get weight <bk>/<srv>                   : report a server's current weight\n" in out
    assert out.endswith("  quit                                    : disconnect\n\n")
    assert cli.ask("\n").startswith("Unknown command")


def test_socat_one_shot(cli):
    """What users type: `echo "show version" | socat stdio unix-connect:SOCKET`."""
    out = subprocess.run(["socat", "stdio", f"unix-connect:{cli.path}"], input=b"get weight lb/a\n",
                         capture_output=True, timeout=10).stdout
    assert out == b"10 (initial 10)\n\n"


def test_check_accepts_stats_lines(sluice):
    out = sluice.check(sluice.base("http", extra_global="stats socket /tmp/x.sock level bogus")
                       + f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n")
    assert out.returncode != 0
    assert "level" in out.stderr


def test_server_states_and_their_messages(cli, wait_for):
    """HAProxy: `set server ... state` with its messages; a drained or maintained server takes
    no new balanced traffic; `disable/enable server` are maint/ready."""
    assert cli.ask("set server lb/a state drain\n") == "\n"
    wait_for(lambda: len(cli.lines()) >= 1, what="the drain message")
    assert cli.served(4) == {"a": 0, "b": 4}
    assert cli.ask("set server lb/a state ready\n") == "\n"
    assert cli.ask("set server lb/a state maint\n") == "\n"
    assert cli.ask("set server lb/b state maint\n") == "\n"
    wait_for(lambda: len(cli.lines()) >= 5, what="the maint messages")
    assert cli.ask("enable server lb/a\n") == "\n"
    assert cli.ask("set server lb/b state ready\n") == "\n"
    wait_for(lambda: len(cli.lines()) >= 7, what="the ready messages")
    assert cli.served(4) == {"a": 2, "b": 2}
    assert cli.ask("disable server lb/b\n") == "\n"
    wait_for(lambda: len(cli.lines()) >= 8, what="the disable message")
    assert cli.served(2) == {"a": 2, "b": 0}
    assert cli.lines() == [
        "[WARNING]  (PID) : Server lb/a enters drain state. 1 active and 0 backup servers online. "
        "0 sessions requeued, 0 total in queue.",
        "[WARNING]  (PID) : Server lb/a is UP (leaving forced drain).",
        "[WARNING]  (PID) : Server lb/a is going DOWN for maintenance. 1 active and 0 backup "
        "servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "[WARNING]  (PID) : Server lb/b is going DOWN for maintenance. 0 active and 0 backup "
        "servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "[ALERT]    (PID) : proxy 'lb' has no server available!",
        "[WARNING]  (PID) : Server lb/a is UP/READY (leaving forced maintenance).",
        "[WARNING]  (PID) : Server lb/b is UP/READY (leaving forced maintenance).",
        "[WARNING]  (PID) : Server lb/b is going DOWN for maintenance. 1 active and 0 backup "
        "servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
    ]


def test_set_server_errors(cli):
    assert cli.ask("set server lb/a state foo\n") == (
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n")
    assert cli.ask("set server lb/a\n") == (
        "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | "
        "agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n")
    assert cli.ask("set server lb/x state ready\n") == "No such server.\n\n"
    assert cli.ask("set server lb/a weight 500\n") == (
        "Absolute weight can only be between 0 and 256 inclusive.\n\n")
    assert cli.ask("set server lb/a state maint\n", user=True) == "Permission denied\n\n"
    assert cli.ask("set maxconn server lb/a x\n") == "maxconn string empty or preceded by garbage\n"
    assert cli.ask("set maxconn server lb/a 10\n") == "\n"
    assert cli.ask("set server lb/a weight 4\n") == "\n"
    assert cli.ask("get weight lb/a\n") == "4 (initial 10)\n\n"
