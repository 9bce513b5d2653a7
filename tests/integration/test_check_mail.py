"""E-mail alerts on server state changes (issue #6): `mailers` sections, `timeout mail` and the
proxies' `email-alert from|to|mailers|level|myhostname`. A fake SMTP server records what the proxy
says. Pins HAProxy 2.6's behaviour: every test also passes against /usr/sbin/haproxy (the -c
messages are compared on what both say, the wording differs)."""
import re
import signal
import socket
import time

from conftest import LoopbackServer, wait_for

from test_checks_basic import FakeServer


class FakeSmtp(LoopbackServer):
    """A loopback SMTP responder. Each session's bytes received are kept in `sessions` once it
    ends. `silent`: accepts and never answers (a mailer that hangs)."""

    def __init__(self, port, silent=False):
        self.silent = silent
        self.sessions = []
        super().__init__(port, backlog=16)

    @property
    def accepted(self):
        return self.connections

    def serve(self, c, _number):
        got = b""
        with c:
            c.settimeout(20)
            try:
                buf, data = b"", False
                if not self.silent:
                    c.sendall(b"220 fake ESMTP\r\n")
                while True:
                    d = c.recv(4096)
                    if not d:
                        break
                    got += d
                    if self.silent:
                        continue
                    buf += d
                    while b"\r\n" in buf:
                        line, buf = buf.split(b"\r\n", 1)
                        if data:
                            if line == b".":
                                data = False
                                c.sendall(b"250 2.0.0 queued\r\n")
                            continue
                        verb = line[:4].upper()
                        if verb in (b"HELO", b"EHLO", b"MAIL", b"RCPT"):
                            c.sendall(b"250 ok\r\n")
                        elif verb == b"DATA":
                            data = True
                            c.sendall(b"354 go ahead\r\n")
                        elif verb == b"QUIT":
                            c.sendall(b"221 bye\r\n")
                        else:
                            c.sendall(b"500 what\r\n")
            except OSError:
                pass
        with self._lock:
            self.sessions.append(got)

    def mails(self):
        """The sessions that carried a whole mail, in the order they ended."""
        with self._lock:
            return [s for s in self.sessions if b"\r\n.\r\n" in s]


def subject(session):
    m = re.search(rb"\r\nSubject: \[HAProxy Alert\] ([^\r]*)\r\n", session)
    return m.group(1).decode() if m else None


def masked(session):
    return re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: <date>\r\n", session)


def config(sluice, mailers, check_port, alert="", timeout="", nbthread=1):
    text = sluice.base(mode="tcp", nbthread=nbthread) + "mailers mx\n" + timeout
    for i, port in enumerate(mailers):
        text += f"    mailer m{i} 127.0.0.1:{port}\n"
    text += (f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
             "    email-alert mailers mx\n    email-alert from alerts@example.org\n"
             f"    email-alert to ops@example.org\n{alert}"
             f"    server s1 127.0.0.1:{check_port} check inter 100ms fall 1 rise 1\n")
    return text


def transcript(host, message):
    return (f"HELO {host}\r\nMAIL FROM:<alerts@example.org>\r\nRCPT TO:<ops@example.org>\r\n"
            "DATA\r\nFrom: alerts@example.org\r\nTo: ops@example.org\r\nDate: <date>\r\n"
            f"Subject: [HAProxy Alert] {message}\r\n\r\n{message}\r\n\r\n.\r\nQUIT\r\n").encode()


def test_down_and_up_mail_the_state_messages(sluice):
    smtp = FakeSmtp(sluice.port("smtp"))
    checked = FakeServer(sluice.port("check"))
    proc = sluice.start(config(sluice, [smtp.port], checked.port,
                               "    email-alert level notice\n"
                               "    email-alert myhostname lb1.example.org\n"))
    checked.stop()
    wait_for(lambda: len(smtp.mails()) >= 1, what="the DOWN mail")
    checked.start()
    wait_for(lambda: len(smtp.mails()) >= 2, what="the UP mail")
    down, up = smtp.mails()[:2]
    assert subject(down).startswith("Server lb/s1 is DOWN, reason: Layer4 connection problem")
    assert subject(up).startswith("Server lb/s1 is UP, reason: Layer4 check passed")
    # The body is the printed message without its final dot, byte for byte with HAProxy.
    for mail in (down, up):
        printed = subject(mail) + "."
        assert printed in proc.stderr_text()
        assert masked(mail) == transcript("lb1.example.org", subject(mail))
    date = re.search(rb"\r\nDate: ([^\r]*)\r\n", down).group(1).decode()
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(.+\)",
                        date)


def test_default_level_alert_mails_only_down_with_the_host_name(sluice):
    smtp = FakeSmtp(sluice.port("smtp"))
    checked = FakeServer(sluice.port("check"))
    proc = sluice.start(config(sluice, [smtp.port], checked.port))
    checked.stop()
    wait_for(lambda: len(smtp.mails()) >= 1, what="the first DOWN mail")
    checked.start()
    wait_for(lambda: "is UP" in proc.stderr_text(), what="s1 UP")
    checked.stop()
    wait_for(lambda: len(smtp.mails()) >= 2, what="the second DOWN mail")
    # The UP in between (a notice) sent nothing.
    assert [subject(m).split(",")[0] for m in smtp.mails()] == ["Server lb/s1 is DOWN"] * 2
    assert smtp.mails()[0].startswith(f"HELO {socket.gethostname()}\r\n".encode())


def test_one_mail_per_mailer(sluice):
    a, b = FakeSmtp(sluice.port("smtp1")), FakeSmtp(sluice.port("smtp2"))
    checked = FakeServer(sluice.port("check"))
    sluice.start(config(sluice, [a.port, b.port], checked.port, nbthread=2))
    checked.stop()
    wait_for(lambda: a.mails() and b.mails(), what="a mail at each mailer")
    assert len(a.mails()) == len(b.mails()) == 1
    assert masked(a.mails()[0]) == masked(b.mails()[0])


def test_a_mailer_down_or_hanging_does_not_touch_traffic(sluice, backends):
    echo = backends.echo()
    hanging = FakeSmtp(sluice.port("hang"), silent=True)
    smtp = FakeSmtp(sluice.port("smtp"))
    refused = sluice.port("refused")  # nothing listens there
    checked = FakeServer(sluice.port("check"))
    text = (sluice.base(mode="tcp") + "mailers mx\n    timeout mail 1s\n"
            f"    mailer m0 127.0.0.1:{refused}\n    mailer m1 127.0.0.1:{hanging.port}\n"
            f"    mailer m2 127.0.0.1:{smtp.port}\n"
            f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    email-alert mailers mx\n    email-alert from alerts@example.org\n"
            "    email-alert to ops@example.org\n"
            f"    server s1 127.0.0.1:{checked.port} check inter 100ms fall 1 rise 1\n"
            f"    server s2 127.0.0.1:{echo.port}\n")
    sluice.start(text)
    checked.stop()
    wait_for(lambda: smtp.mails() and hanging.accepted, what="the mail at the working mailer")
    # The proxy goes on serving through s2 while a mailer hangs.
    for _ in range(5):
        with sluice.connect(sluice.port("lb")) as c:
            c.sendall(b"ping")
            assert c.recv(4) == b"ping"
    # `timeout mail` ends the hanging session.
    wait_for(lambda: hanging.sessions, timeout=10, what="the hanging session closed")


def test_check_warns_when_email_alert_is_incomplete(sluice):
    text = (sluice.base(mode="tcp") + "mailers mx\n    mailer m0 127.0.0.1:2525\n"
            f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    email-alert from alerts@example.org\n    server s1 127.0.0.1:1 check\n")
    out = sluice.check(text)
    assert out.returncode in (0, 2), out.stderr
    assert re.search(r"\[WARNING\].*email-alert", out.stderr), out.stderr


def test_check_refuses_unknown_mailers_and_levels(sluice):
    head = sluice.base(mode="tcp") + "mailers mx\n    mailer m0 127.0.0.1:2525\nbackend be\n"
    out = sluice.check(head + "    email-alert mailers nope\n    email-alert from a@x\n"
                       "    email-alert to b@x\n    server s1 127.0.0.1:1\n")
    assert out.returncode == 1
    assert "nope" in out.stderr
    out = sluice.check(head + "    email-alert level bogus\n")
    assert out.returncode == 1
    assert "bogus" in out.stderr
    out = sluice.check(head + "    email-alert sender a@x\n")
    assert out.returncode == 1
    assert "sender" in out.stderr


def test_levels_of_stopping_and_of_down_after_stopping(sluice):
    # `email-alert level warning`: "stopping" (disable-on-404) and UP are notices, not mailed; a
    # server going DOWN from stopping is a notice too; only DOWN from UP is mailed.
    smtp = FakeSmtp(sluice.port("smtp"))
    checked = FakeServer(sluice.port("check"), response=b"HTTP/1.0 404 Not Found\r\n\r\n")
    text = (sluice.base(mode="http") + "mailers mx\n"
            f"    mailer m0 127.0.0.1:{smtp.port}\n"
            f"listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    option httpchk\n    http-check disable-on-404\n"
            "    email-alert mailers mx\n    email-alert from alerts@example.org\n"
            "    email-alert to ops@example.org\n    email-alert level warning\n"
            f"    server s1 127.0.0.1:{checked.port} check inter 100ms fall 1 rise 1\n")
    proc = sluice.start(text)
    wait_for(lambda: "is stopping" in proc.stderr_text(), what="s1 stopping")
    checked.stop()
    wait_for(lambda: "is DOWN" in proc.stderr_text(), what="s1 DOWN from stopping")
    checked.response = b"HTTP/1.0 200 OK\r\n\r\n"
    checked.start()
    wait_for(lambda: "is UP" in proc.stderr_text(), what="s1 UP")
    checked.stop()
    wait_for(lambda: proc.stderr_text().count("is DOWN") == 2, what="s1 DOWN from UP")
    wait_for(lambda: smtp.mails(), what="the mail of the second DOWN")
    assert [subject(m).split(",")[0] for m in smtp.mails()] == ["Server lb/s1 is DOWN"]
    assert "Layer4 connection problem" in subject(smtp.mails()[0])
    # Mails of a notice would have come before that one: none did.
    assert proc.stderr_text().count("is DOWN") == 2


def test_soft_stop_waits_for_the_mail_in_flight_up_to_timeout_mail(sluice):
    # HAProxy 2.6 lets a mail session in flight end (here: `timeout mail` ends it) before the
    # process exits after SIGUSR1.
    hanging = FakeSmtp(sluice.port("hang"), silent=True)
    checked = FakeServer(sluice.port("check"))
    proc = sluice.start(config(sluice, [hanging.port], checked.port,
                               timeout="    timeout mail 2s\n"))
    checked.stop()
    wait_for(lambda: hanging.accepted, what="the mail session")
    began = time.monotonic()
    proc.signal(signal.SIGUSR1)
    assert proc.wait_exit(timeout=10) == 0
    assert 1.0 <= time.monotonic() - began < 5.0
    assert hanging.sessions  # closed by the proxy, not left open


def test_a_tracking_server_mails_its_via_message(sluice):
    smtp = FakeSmtp(sluice.port("smtp"))
    checked = FakeServer(sluice.port("check"))
    text = config(sluice, [smtp.port], checked.port)
    text += f"    server s2 127.0.0.1:{checked.port} track s1\n"
    sluice.start(text)
    checked.stop()
    wait_for(lambda: len(smtp.mails()) >= 2, what="the mails of s1 and s2")
    subjects = sorted(subject(m) for m in smtp.mails())
    assert subjects[0].startswith("Server lb/s1 is DOWN, reason: Layer4 connection problem")
    assert subjects[1].startswith("Server lb/s2 is DOWN via lb/s1. 0 active and 0 backup")
