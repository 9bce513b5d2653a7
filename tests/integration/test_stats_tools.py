"""The operators' tools on the admin socket (issue #7): Debian's hatop, run in tmux as a user
would, reads `show info` and `show stat` in prompt mode and shows our proxies and servers
with their states; a server put in maintenance through hatop's own command line shows as MAINT.
Passes against Debian's haproxy too (`--sluice=/usr/sbin/haproxy`).
"""

import shutil
import subprocess
import uuid

import pytest

from conftest import wait_for

pytestmark = pytest.mark.skipif(not shutil.which("hatop") or not shutil.which("tmux"),
                                reason="hatop and tmux come with scripts/deps")


@pytest.fixture
def tmux_session():
    name = f"sluice-test-{uuid.uuid4().hex[:8]}"
    sessions = []

    def start(command):
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "200", "-y", "50",
                        command], check=True)
        sessions.append(name)
        return name

    yield start
    for s in sessions:
        subprocess.run(["tmux", "kill-session", "-t", s], check=False, capture_output=True)


def screen(session):
    r = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                       text=True, check=False)
    return r.stdout


def keys(session, *k):
    subprocess.run(["tmux", "send-keys", "-t", session, *k], check=True)


def test_hatop_shows_proxies_and_states(sluice, backends, tmux_session):
    web = backends.http("web")
    closed = sluice.port("closed")
    path = str(sluice.tmp_path / "admin.sock")
    sluice.start(
        sluice.base("http", extra_global=f"stats socket {path} level admin")
        + f"frontend web_in\n    bind 127.0.0.1:{sluice.port('fe')}\n"
        + "    default_backend pool\n"
        + f"backend pool\n    server alive 127.0.0.1:{web.port} check inter 200\n"
        + f"    server gone 127.0.0.1:{closed} check inter 200\n")
    session = tmux_session(f"hatop -s {path} -i 1")

    def shows(*words):
        text = screen(session)
        return all(w in text for w in words) and text

    # hatop's main screen: the version line of `show info`, then one row per proxy and server
    # with its status.
    text = wait_for(lambda: shows("HAProxy Version", "web_in", "pool", "alive", "gone"),
                    timeout=20, what="hatop's first screen")
    wait_for(lambda: "DOWN" in screen(session) and "UP" in screen(session), timeout=20,
             what="the servers' states on hatop's screen")
    rows = {line.split()[0]: line for line in screen(session).splitlines()
            if line.split() and line.split()[0] in ("alive", "gone")}
    assert "UP" in rows["alive"] and "DOWN" in rows["gone"], text
    # Its CLI mode (key 5) sends a command line as typed.
    keys(session, "5")
    wait_for(lambda: "CLI" in screen(session) or ">" in screen(session), timeout=10,
             what="hatop's CLI mode")
    keys(session, "disable server pool/alive", "Enter")
    keys(session, "Escape", "1")  # ESC-n leaves the CLI for screen n
    wait_for(lambda: "MAINT" in screen(session), timeout=20,
             what="the server in maintenance on hatop's screen")
    keys(session, "q")
