"""Maps and ACLs changed while running (issue #7): the runtime API's `show|get|add|del|set|
clear|prepare|commit map|acl` and the http-request set-map/del-map/add-acl/del-acl actions.
Every test pins HAProxy 2.6's behaviour and bytes and passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`); entry ids (pointers in HAProxy) are masked, and HAProxy's own
internal references (its httpclient's, "file 'httpclient'") are left out of `show acl`.
"""

import re
import threading

import pytest

from conftest import cli_exchange, http_connect, wait_for


def mask(text):
    return re.sub(r"0x[0-9a-f]+", "PTR", text)


@pytest.fixture
def maps(sluice, backends):
    """A frontend routing by a map of host names (default be_a), denying the paths of an ACL
    file, with the actions that change both; `ask(text, user=False)` talks to the API."""
    web = {n: backends.http(n) for n in ("a", "b", "c")}
    tmp = sluice.tmp_path
    hosts = tmp / "hosts.map"
    hosts.write_text("a.example be_a\nb.example be_b\n")
    block = tmp / "block.acl"
    block.write_text("/blocked\n")
    sock = str(tmp / "admin.sock")
    cfg = (sluice.base("http", nbthread=2,
                       extra_global=f"stats socket {sock} level admin\n"
                                    f"stats socket 127.0.0.1:{sluice.port('cli')} level user")
           + f"frontend fe\n"
           + f"    bind 127.0.0.1:{sluice.port('lb')}\n"
           + f"    acl blocked path_beg -f {block}\n"
           + "    http-request deny if blocked\n"
           + f"    http-request set-map({hosts}) %[req.hdr(x-key)] %[req.hdr(x-val)]"
           + " if { path /set }\n"
           + f"    http-request del-map({hosts}) %[req.hdr(x-key)] if {{ path /del }}\n"
           + f"    http-request add-acl({block}) %[req.hdr(x-key)] if {{ path /addacl }}\n"
           + f"    http-request del-acl({block}) %[req.hdr(x-key)] if {{ path /delacl }}\n"
           + f"    use_backend %[req.hdr(host),lower,map({hosts},be_a)]\n"
           + "".join(f"backend be_{n}\n    server {n} 127.0.0.1:{w.port}\n"
                     for n, w in web.items()))
    proc = sluice.start(cfg)
    lines = cfg.split("\n")

    class Maps:
        def __init__(self):
            self.hosts, self.block, self.web, self.proc = str(hosts), str(block), web, proc

        def line(self, text):
            """The config line number of the first line holding `text`."""
            return next(i + 1 for i, line in enumerate(lines) if text in line)

        def ask(self, text, user=False):
            return cli_exchange(("127.0.0.1", sluice.port("cli")) if user else sock,
                                text).decode()

        def request(self, path="/", host="x", headers=()):
            """The status and the backend that answered (None for the proxy's own replies)."""
            self.probes = getattr(self, "probes", 0) + 1
            target = f"{path}?probe={self.probes}-{threading.get_ident()}"
            with http_connect(sluice.port("lb")) as c:
                c.request("GET", target, headers=list(headers), host=host)
                status = c.response().status
            got = [k for k, w in web.items() if any(r.target == target for r in list(w.requests))]
            return status, (got[0] if got else None)

        def id_of(self, name, kind="map"):
            """The `#<id>` HAProxy gave the reference of file `name`."""
            for line in self.ask(f"show {kind}\n").splitlines():
                m = re.match(r"(\d+) \((.*?)\) ", line)
                if m and m.group(2) == name:
                    return "#" + m.group(1)
            raise AssertionError(f"no {kind} reference for {name}")
    return Maps()


def test_show_map_lists_references_and_entries(maps):
    # HAProxy 2.6: one line per reference, then an empty line; entries as "<id> key value".
    out = maps.ask("show map\n")
    lines = out.split("\n")
    assert lines[0] == "# id (file) description"
    assert re.fullmatch(
        r"\d+ \(" + re.escape(maps.hosts) + r"\) pattern loaded from file '"
        + re.escape(maps.hosts) + r"' used by map at file '\S+' line "
        + str(maps.line("use_backend")) + r"\. curr_ver=0 next_ver=0 entry_cnt=2", lines[1]), out
    assert lines[2:] == ["", ""]
    assert mask(maps.ask(f"show map {maps.hosts}\n")) == \
        "PTR a.example be_a\nPTR b.example be_b\n\n"
    assert maps.ask(f"show map {maps.id_of(maps.hosts)}\n") == maps.ask(f"show map {maps.hosts}\n")


def test_show_acl_lists_files_and_inline_patterns(maps):
    out = [line for line in maps.ask("show acl\n").split("\n") if "'httpclient'" not in line]
    assert out[0] == "# id (file) description"
    body = [re.sub(r"^\d+ ", "N ", re.sub(r"file '\S+' line", "file 'CFG' line", line))
            for line in out[1:-2]]
    acl = maps.line("acl blocked")
    assert body == [
        f"N ({maps.block}) pattern loaded from file '{maps.block}' used by acl at file 'CFG' line "
        f"{acl}. curr_ver=0 next_ver=0 entry_cnt=1",
        f"N () acl 'path_beg' file 'CFG' line {acl}. curr_ver=0 next_ver=0 entry_cnt=0",
    ] + [f"N () acl 'path' file 'CFG' line {maps.line(a)}. curr_ver=0 next_ver=0 entry_cnt=1"
         for a in ("set-map", "del-map", "add-acl", "del-acl")], out
    assert mask(maps.ask(f"show acl {maps.block}\n")) == "PTR /blocked\n\n"


def test_get_map_and_acl(maps):
    # HAProxy 2.6's match report, one line per way the reference is matched.
    assert maps.ask(f"get map {maps.hosts} b.example\n") == (
        'type=str, case=sensitive, found=yes, idx=tree, key="b.example", value="be_b", '
        'type="str"\n\n')
    assert maps.ask(f"get map {maps.hosts} z.example\n") == \
        "type=str, case=sensitive, found=no\n\n"
    assert maps.ask(f"get acl {maps.block} /blocked/x\n") == \
        'type=beg, case=sensitive, match=yes, idx=tree, pattern="/blocked"\n\n'
    assert maps.ask(f"get acl {maps.block} /open\n") == "type=beg, case=sensitive, match=no\n\n"


def test_traffic_follows_map_changes_without_failures(maps):
    """Requests flow on their own connections while the map changes; none fails and each
    change is seen by the next request once the command has answered."""
    failures, stop = [], threading.Event()

    def load():
        while not stop.is_set():
            status, _ = maps.request("/load", host="C.example")
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        assert maps.request(host="c.example") == (200, "a")  # the default
        assert maps.ask(f"add map {maps.hosts} c.example be_c\n") == "\n"
        assert maps.request(host="c.example") == (200, "c")
        assert maps.ask(f"set map {maps.hosts} c.example be_b\n") == "\n"
        assert maps.request(host="c.example") == (200, "b")
        assert maps.ask(f"del map {maps.hosts} c.example\n") == "\n"
        assert maps.request(host="c.example") == (200, "a")
        # Atomic replacement: the new version is invisible until committed.
        assert maps.ask(f"prepare map {maps.hosts}\n") == "New version created: 1\n\n"
        assert maps.ask(f"add map @1 {maps.hosts} <<\nc.example be_c\nb.example be_a\n\n") == "\n"
        assert maps.request(host="c.example") == (200, "a")
        assert maps.request(host="b.example") == (200, "b")
        assert maps.ask(f"commit map @1 {maps.hosts}\n") == "\n"
        assert maps.request(host="c.example") == (200, "c")
        assert maps.request(host="b.example") == (200, "a")
        assert maps.request(host="a.example") == (200, "a")  # not in version 1: the default
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []


def test_versions_and_their_errors(maps):
    h = maps.hosts
    assert maps.ask(f"add map @1 {h} k v\n") == \
        "Version number in the future, please use 'prepare map' before.\n\n"
    assert maps.ask(f"prepare map {h}\n") == "New version created: 1\n\n"
    assert maps.ask(f"prepare map {h}\n") == "New version created: 2\n\n"
    assert maps.ask(f"add map @2 {h} k v\n") == "\n"
    assert mask(maps.ask(f"show map @2 {h}\n")) == "PTR k v\n\n"
    assert "curr_ver=0 next_ver=2 entry_cnt=3" in maps.ask("show map\n")
    assert maps.ask(f"commit map @3 {h}\n") == "Version number out of range.\n\n"
    assert maps.ask(f"commit map {h}\n") == "Missing version number.\n\n"
    assert maps.ask("commit map @2\n") == "Missing map identifier.\n\n"
    assert maps.ask(f"clear map @2 {h}\n") == "\n"
    assert maps.ask(f"show map @2 {h}\n") == "\n"
    assert maps.ask(f"commit map @1 {h}\n") == "\n"  # an empty version: the map empties
    assert maps.ask(f"show map {h}\n") == "\n"
    assert "curr_ver=1 next_ver=2 entry_cnt=0" in maps.ask("show map\n")
    assert maps.ask(f"commit map @1 {h}\n") == "Version number out of range.\n\n"
    assert maps.request(host="b.example") == (200, "a")


def test_acl_file_change_changes_the_deny_rule(maps):
    assert maps.request("/secret")[0] == 200
    assert maps.request("/blocked/x")[0] == 403
    assert maps.ask(f"add acl {maps.block} /secret\n") == "\n"
    assert maps.request("/secret")[0] == 403
    assert maps.ask(f"del acl {maps.block} /blocked\n") == "\n"
    assert maps.request("/blocked/x")[0] == 200
    assert maps.ask(f"clear acl {maps.block}\n") == "\n"
    assert maps.request("/secret")[0] == 200
    # The line's own (empty) reference takes patterns too.
    anon = re.search(r"^(\d+) \(\) acl 'path_beg'", maps.ask("show acl\n"), re.M).group(1)
    assert maps.ask(f"add acl #{anon} /inline\n") == "\n"
    assert maps.request("/inline/x")[0] == 403


def test_actions_change_the_map_and_the_acl(maps):
    # set-map adds the key, then changes its value; del-map removes it.
    maps.request("/set", headers=[("x-key", "d.example"), ("x-val", "be_c")])
    assert maps.request(host="d.example") == (200, "c")
    maps.request("/set", headers=[("x-key", "d.example"), ("x-val", "be_b")])
    assert maps.request(host="d.example") == (200, "b")
    assert mask(maps.ask(f"show map {maps.hosts}\n")) == \
        "PTR a.example be_a\nPTR b.example be_b\nPTR d.example be_b\n\n"
    maps.request("/del", headers=[("x-key", "d.example")])
    assert maps.request(host="d.example") == (200, "a")
    # add-acl adds a pattern once; del-acl removes it.
    maps.request("/addacl", headers=[("x-key", "/private")])
    maps.request("/addacl", headers=[("x-key", "/private")])
    assert mask(maps.ask(f"show acl {maps.block}\n")) == "PTR /blocked\nPTR /private\n\n"
    assert maps.request("/private/x")[0] == 403
    maps.request("/delacl", headers=[("x-key", "/private")])
    assert maps.request("/private/x")[0] == 200


def test_entries_by_id_payloads_and_duplicates(maps):
    h = maps.hosts
    assert maps.ask(f"add map {h} <<\na.example be_c\ne.example be_b with spaces\n\n") == "\n"
    out = maps.ask(f"show map {h}\n")
    assert mask(out) == ("PTR a.example be_a\nPTR b.example be_b\nPTR a.example be_c\n"
                         "PTR e.example be_b with spaces\n\n")
    assert maps.request(host="a.example") == (200, "a")  # the first of duplicates wins
    ids = re.findall(r"^(0x[0-9a-f]+) ", out, re.M)
    assert maps.ask(f"del map {h} #{ids[0]}\n") == "\n"
    assert maps.request(host="a.example") == (200, "c")
    assert maps.ask(f"set map {h} #{ids[2]} be_b\n") == "\n"
    assert maps.request(host="a.example") == (200, "b")
    assert maps.ask(f"add map {h} a.example be_a\n") == "\n"
    assert maps.ask(f"del map {h} a.example\n") == "\n"  # every entry of the key
    assert "a.example" not in maps.ask(f"show map {h}\n")
    assert maps.ask(f"del map {h} #{ids[0]}\n") == "Key not found.\n\n"
    assert maps.ask(f"set map {h} #{ids[0]} x\n") == "key or pattern not found.\n\n"


def test_bad_input_is_answered_as_haproxy(maps):
    h, b = maps.hosts, maps.block
    unknown_map = "Unknown map identifier. Please use #<id> or <file>.\n\n"
    unknown_acl = "Unknown ACL identifier. Please use #<id> or <file>.\n\n"
    cases = [
        ("show map /nonexistent", unknown_map),
        ("show map #99", unknown_map),
        ("show map #1x", unknown_map),
        (f"show map {b}", unknown_map),  # an ACL's file is not a map
        (f"show acl {h}", unknown_acl),
        ("get map", "Missing map identifier and/or key.\n\n"),
        (f"get map {h}", "Missing map identifier and/or key.\n\n"),
        ("get acl #99 x", unknown_acl),
        (f"add map {h}", "'add map' expects three parameters (map identifier, key and value) or "
                         "one parameter (map identifier) and a payload\n\n"),
        (f"add map {h} k", "'add map' expects three parameters (map identifier, key and value) "
                           "or one parameter (map identifier) and a payload\n\n"),
        (f"add acl {b}", "'add acl' expects two parameters: ACL identifier and pattern.\n\n"),
        (f"add acl {h} x", "This ACL is shared with a map containing samples. You must use the "
                           "command 'add map' to add values.\n\n"),
        ("add map /nonexistent k v", unknown_map),
        (f"del map {h}", "This command expects two parameters: map identifier and key.\n\n"),
        (f"del acl {b}", "This command expects two parameters: ACL identifier and key.\n\n"),
        (f"del map {h} nokey", "Key not found.\n\n"),
        (f"del map {h} #zz", "Key not found.\n\n"),
        (f"del acl {h} x", unknown_map),  # sic: HAProxy 2.6 says map here
        (f"set map {h} a.example", "'set map' expects three parameters: map identifier, key and "
                                   "value.\n\n"),
        (f"set map {h} nokey v", "entry not found.\n\n"),
        ("set map #99 k v", unknown_map),
        ("clear map", "Missing map identifier.\n\n"),
        ("clear acl", "Missing ACL identifier.\n\n"),
        (f"clear acl {h}", unknown_acl),
        ("prepare map", unknown_map),
        (f"prepare acl {h}", unknown_acl),
        ("commit acl", "Missing version number.\n\n"),
    ]
    for cmd, want in cases:
        assert maps.ask(cmd + "\n") == want, cmd
    assert maps.ask("set severity-output number\nshow map #99\n") == f"\n[3]: {unknown_map}"


def test_every_level_may_change_maps(maps):
    """HAProxy 2.6 asks no level for these commands: a `level user` socket may change maps."""
    assert maps.ask("show cli level\n", user=True) == "user\n\n"
    assert maps.ask(f"add map {maps.hosts} f.example be_c\n", user=True) == "\n"
    assert maps.request(host="f.example") == (200, "c")
    assert maps.ask(f"del map {maps.hosts} f.example\n", user=True) == "\n"
    assert maps.ask(f"prepare acl {maps.block}\n", user=True) == "New version created: 1\n\n"


def test_set_map_on_a_file_nothing_loads_is_accepted(sluice, binary_is_haproxy):
    # HAProxy 2.6: accepted, and does nothing (no reference has that name).
    out = sluice.check(sluice.base("http")
                       + f"frontend fe\n    bind 127.0.0.1:{sluice.port('lb')}\n"
                       + "    http-request set-map(/nonexistent.map) %[req.hdr(k)] x\n"
                       + "    http-request del-acl(/nonexistent.acl) %[req.hdr(k)]\n")
    assert out.returncode == 0, out.stderr
    if binary_is_haproxy:
        return  # haproxy 2.6 reports the next one, then dies of a segmentation fault
    out = sluice.check(sluice.base("http")
                       + f"frontend fe\n    bind 127.0.0.1:{sluice.port('lb')}\n"
                       + "    http-request del-map(/x.map)\n")
    assert out.returncode != 0
    assert "expects exactly 1 arguments." in out.stderr


def test_pattern_errors_and_match_reports_by_method(sluice):
    """HAProxy 2.6: a pattern the method refuses is refused with its reason; `get acl` names the
    method, the case and whether an index (tree) or a scan (list) found the pattern."""
    ips = sluice.tmp_path / "ips.acl"
    ips.write_text("192.168.0.0/16\n")
    names = sluice.tmp_path / "names.acl"
    names.write_text("Example.COM\n")
    subs = sluice.tmp_path / "subs.acl"
    subs.write_text("bot\n")
    sock = str(sluice.tmp_path / "admin.sock")
    sluice.start(sluice.base("http", extra_global=f"stats socket {sock} level admin")
                 + f"frontend fe\n    bind 127.0.0.1:{sluice.port('lb')}\n"
                 + f"    http-request deny if {{ src -f {ips} }}\n"
                 + f"    http-request deny if {{ hdr(host) -i -f {names} }}\n"
                 + f"    http-request deny if {{ hdr_sub(user-agent) -f {subs} }}\n"
                 + "    http-request return status 200\n")

    def ask(text):
        return cli_exchange(sock, text).decode()

    assert ask(f"add acl {ips} bad\n") == "'bad' is not a valid IPv4 or IPv6 address.\n\n"
    assert ask(f"add acl {ips} 10.0.0.0/8\n") == "\n"
    assert ask(f"get acl {ips} 10.1.2.3\n") == \
        'type=ip, case=sensitive, match=yes, idx=tree, pattern="10.0.0.0/8"\n\n'
    assert ask(f"get acl {names} example.com\n") == \
        'type=str, case=insensitive, match=yes, idx=list, pattern="Example.COM"\n\n'
    assert ask(f"get acl {subs} a-bot-b\n") == \
        'type=sub, case=sensitive, match=yes, idx=list, pattern="bot"\n\n'
    with http_connect(sluice.port("lb")) as c:
        c.request("GET", "/", host="x")
        assert c.response().status == 200
    assert ask(f"add acl {ips} 127.0.0.1\n") == "\n"
    with http_connect(sluice.port("lb")) as c:
        c.request("GET", "/", host="x")
        assert c.response().status == 403
