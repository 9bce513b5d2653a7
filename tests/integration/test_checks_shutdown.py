"""`on-marked-down shutdown-sessions` and `on-marked-up shutdown-backup-sessions` (issue #6):
a server marked DOWN by its check loses its connections at once; a server coming back UP takes
the backend back from the backups, whose connections are shut. Pins HAProxy 2.6's behaviour
(each test also passes against /usr/sbin/haproxy)."""
import socket

from conftest import wait_for

from test_checks_basic import FakeServer


def config(sluice, backends, option, servers):
    """mode tcp `listen lb`, checks every 100 ms, one failure marks DOWN, one success UP."""
    text = (f"{sluice.base(mode='tcp')}listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    default-server inter 100ms fall 1 rise 1\n")
    for name, port, check_port, extra in servers:
        text += f"    server {name} 127.0.0.1:{port} check port {check_port} {extra} {option}\n"
    return text


def connected(sluice):
    c = socket.create_connection(("127.0.0.1", sluice.port("lb")), timeout=10)
    c.sendall(b"ping")
    assert c.recv(4) == b"ping"
    return c


def ends(c):
    """True when the connection is closed by the proxy (EOF or reset) within the timeout."""
    try:
        return c.recv(10) == b""
    except ConnectionResetError:
        return True


def test_on_marked_down_shuts_the_servers_sessions(sluice, backends):
    echo = backends.echo()
    checked = FakeServer(sluice.port("check"))
    sluice.start(config(sluice, backends, "on-marked-down shutdown-sessions",
                        [("s1", echo.port, sluice.port("check"), "")]))
    c = connected(sluice)
    checked.stop()  # the check fails: s1 goes DOWN and its session is shut
    assert ends(c)
    c.close()


def test_without_the_option_sessions_survive_a_down_server(sluice, backends):
    echo = backends.echo()
    checked = FakeServer(sluice.port("check"))
    proc = sluice.start(config(sluice, backends, "",
                               [("s1", echo.port, sluice.port("check"), "")]))
    c = connected(sluice)
    checked.stop()
    wait_for(lambda: "is DOWN" in proc.stderr_text(), what="s1 DOWN")
    c.sendall(b"more")
    assert c.recv(4) == b"more"
    c.close()


def test_on_marked_up_shuts_the_backup_sessions(sluice, backends):
    active, backup = backends.echo(), backends.echo()
    check_port = sluice.port("check")
    FakeServer(sluice.port("bcheck"))  # the backup's check passes from the start
    sluice.start(config(sluice, backends, "",
                        [("s1", active.port, check_port, "on-marked-up shutdown-backup-sessions"),
                         ("b1", backup.port, sluice.port("bcheck"), "backup")]))
    # s1's check port is closed: s1 goes DOWN, the connection lands on the backup.
    c = None

    def on_backup():
        # Until s1's first check fails, a connection may reach s1 (servers start UP); one
        # made as s1 goes DOWN may be cut: try again then.
        nonlocal c
        if c:
            c.close()
            c = None
        try:
            c = connected(sluice)
        except (OSError, AssertionError):  # refused or cut while the servers settle
            return False
        return backup.open_connections == 1 and active.open_connections == 0
    wait_for(on_backup, what="a connection on the backup")
    FakeServer(check_port)  # s1 comes UP: the backup's session is shut
    assert ends(c)
    c.close()
