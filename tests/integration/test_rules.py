"""ACLs, `use_backend` switching and http-request/http-response rules, end to end: routing by
path, host, header, source network and method, and every action seen from the client and the
backend.

Unless a test says otherwise, what it pins is HAProxy 2.6's behaviour, which Sluice reproduces;
every test here passes against Debian's haproxy (`--sluice=/usr/sbin/haproxy`).
"""

import pytest

from conftest import http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def routed(sluice, backends, frontend, names=("web", "api", "admin")):
    """Frontend `fe` with `frontend` lines and one HTTP backend per name (backend `NAME`, server
    `NAME`), `web` the default. Returns {name: HttpBackend}."""
    servers = {n: backends.http(n) for n in names}
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"{indent(frontend)}    default_backend web\n")
    for n, s in servers.items():
        text += f"backend {n}\n    server {n} 127.0.0.1:{s.port}\n"
    sluice.start(text)
    return servers


def get(sluice, target, headers=(), method="GET"):
    """One request on a new connection; a Host in `headers` replaces the default one."""
    headers = list(headers)
    host = next((v for n, v in headers if n.lower() == "host"), "sluice.test")
    headers = [(n, v) for n, v in headers if n.lower() != "host"]
    with http_connect(sluice.port("fe")) as c:
        c.request(method, target, headers=headers, host=host)
        return c.response(method=method)


def served_by(servers):
    """Which backend saw the last request (its name), from the request counts."""
    return [n for n, s in servers.items() if s.requests]


# ---------------------------------------------------------------------------------------------
# Switching


def test_use_backend_by_path_and_host(sluice, backends):
    """Named ACLs, derived criteria (`path_beg`, `hdr_beg`) and `-i`: each request lands on the
    backend whose rule matches first; anything else on the default backend."""
    s = routed(sluice, backends, """
        acl is_api path_beg /api
        acl is_admin hdr_beg(host) -i admin.
        use_backend admin if is_admin
        use_backend api if is_api
    """)
    assert get(sluice, "/api/v1").status == 200
    assert get(sluice, "/x", headers=[("Host", "ADMIN.example.com")]).status == 200
    assert get(sluice, "/index.html").status == 200
    assert [r.target for r in s["api"].requests] == ["/api/v1"]
    assert [r.target for r in s["admin"].requests] == ["/x"]
    assert [r.target for r in s["web"].requests] == ["/index.html"]


def test_conditions_or_not_and_anonymous(sluice, backends):
    """`||`, `!`, implicit AND and anonymous `{ }` ACLs; several lines of one ACL are OR-ed."""
    s = routed(sluice, backends, """
        acl m_post method POST
        acl p_a path /a
        acl p_a path /b
        use_backend api if m_post p_a || { path_end .json } !{ hdr(x-skip) -m found }
    """)
    assert get(sluice, "/a", method="POST").status == 200        # POST and /a
    assert get(sluice, "/b", method="POST").status == 200        # second line of p_a
    assert get(sluice, "/a").status == 200                       # GET: web
    assert get(sluice, "/d.json").status == 200                  # .json without x-skip
    assert get(sluice, "/e.json", headers=[("X-Skip", "1")]).status == 200  # skipped: web
    assert [r.target for r in s["api"].requests] == ["/a", "/b", "/d.json"]
    assert [r.target for r in s["web"].requests] == ["/a", "/e.json"]


def test_use_backend_by_source_network_and_unless(sluice, backends):
    """`src` against networks, `unless`: loopback clients are in 127.0.0.0/8."""
    s = routed(sluice, backends, """
        acl local src 10.0.0.0/8 127.0.0.0/8 ::1
        use_backend api unless local
        use_backend admin if local
    """)
    assert get(sluice, "/").status == 200
    assert len(s["admin"].requests) == 1 and not s["api"].requests


def test_dynamic_use_backend(sluice, backends):
    """`use_backend %[expr]`: the backend named by a header (lowercased); a name that matches no
    backend falls through to the default one."""
    s = routed(sluice, backends, "use_backend %[req.hdr(x-be),lower]")
    assert get(sluice, "/1", headers=[("X-Be", "API")]).status == 200
    assert get(sluice, "/2", headers=[("X-Be", "nosuch")]).status == 200
    assert get(sluice, "/3").status == 200
    assert [r.target for r in s["api"].requests] == ["/1"]
    assert [r.target for r in s["web"].requests] == ["/2", "/3"]


def test_predefined_acls(sluice, backends):
    """HAProxy's predefined ACLs need no declaration: METH_POST, HTTP_1.0, TRUE."""
    s = routed(sluice, backends, """
        use_backend api if METH_POST
        use_backend admin if HTTP_1.0 TRUE
    """)
    assert get(sluice, "/p", method="POST").status == 200
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/old", version="HTTP/1.0")
        assert c.response().status == 200
    assert [r.target for r in s["api"].requests] == ["/p"]
    assert [r.target for r in s["admin"].requests] == ["/old"]


# ---------------------------------------------------------------------------------------------
# http-request actions


def test_deny_answers_403_and_server_never_sees_it(sluice, backends):
    """`http-request deny`: HAProxy's 403 page; the request never reaches a server. A condition
    on a header lets the right requests through."""
    s = routed(sluice, backends, """
        acl is_admin path_beg /admin
        http-request deny if is_admin !{ req.hdr(x-token) -m str secret }
    """)
    resp = get(sluice, "/admin/x")
    assert resp.status_line == "HTTP/1.1 403 Forbidden"
    assert b"403" in resp.body
    assert get(sluice, "/admin/y", headers=[("X-Token", "secret")]).status == 200
    assert [r.target for r in s["web"].requests] == ["/admin/y"]


def test_deny_status_and_custom_content(sluice, backends):
    """`deny deny_status 429 content-type text/plain string ...` answers exactly that."""
    s = routed(sluice, backends, """
        http-request deny deny_status 429 content-type text/plain string slow-down if { path /rl }
    """)
    resp = get(sluice, "/rl")
    assert resp.status == 429
    assert resp.header("content-type") == "text/plain"
    assert resp.body == b"slow-down"
    assert not s["web"].requests


def test_frontend_rules_answer_with_the_frontends_pages(sluice, backends):
    """A reply decided by the frontend's rules uses the frontend's error page even when the
    default backend has its own for that status (no backend is chosen yet); a backend rule's
    reply uses the backend's."""
    s = backends.http("web")
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            "    http-error status 403 content-type text/plain string fe403\n"
            "    http-request deny if { path /fe }\n"
            "    default_backend web\n"
            "backend web\n"
            "    http-error status 403 content-type text/plain string be403\n"
            "    http-request deny if { path /be }\n"
            f"    server web 127.0.0.1:{s.port}\n")
    sluice.start(text)
    assert get(sluice, "/fe").body == b"fe403"
    assert get(sluice, "/be").body == b"be403"
    assert not s.requests


def test_return_and_keep_alive(sluice, backends):
    """`http-request return`: the given status, content and extra header; the client connection
    stays usable and the next request goes to the server."""
    s = routed(sluice, backends, """
        http-request return status 200 content-type text/plain string pong hdr X-Src %[src] if { path /ping }
    """)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", "/ping")
        assert resp.status == 200 and resp.body == b"pong"
        assert resp.header("x-src") == "127.0.0.1"
        assert c.roundtrip("GET", "/after").status == 200
    assert [r.target for r in s["web"].requests] == ["/after"]


@pytest.mark.parametrize("rule,target,host,code,location", [
    ("http-request redirect scheme https code 301 if { path /s }", "/s?q=1", "ex.com", 301,
     "https://ex.com/s?q=1"),
    ("http-request redirect prefix /new if { path_beg /old }", "/old/a?b", "h", 302,
     "/new/old/a?b"),
    ("http-request redirect prefix /new drop-query if { path_beg /old }", "/old/a?b", "h", 302,
     "/new/old/a"),
    ("http-request redirect location /elsewhere code 307 if { path /l }", "/l", "h", 307,
     "/elsewhere"),
    ("redirect scheme https if !{ ssl_fc }", "/x", "site", 302, "https://site/x"),
])
def test_redirects(sluice, backends, rule, target, host, code, location):
    """Redirect rules (and the older `redirect` keyword): status, Location, no server involved."""
    s = routed(sluice, backends, rule)
    resp = get(sluice, target, headers=[("Host", host)])
    assert resp.status == code
    assert resp.header("location") == location
    assert not s["web"].requests


def test_set_add_del_header_reach_the_server(sluice, backends):
    """set-header replaces every field of that name, add-header appends, del-header removes;
    values are log-format strings evaluated per request (`%[dst_port]`, `%[req.hdr(...)]`)."""
    s = routed(sluice, backends, """
        http-request set-header X-Forwarded-Port %[dst_port]
        http-request set-header X-Copy "v=%[req.hdr(x-in)]"
        http-request add-header X-Multi one
        http-request add-header X-Multi two
        http-request del-header X-Secret
    """)
    get(sluice, "/", headers=[("X-Forwarded-Port", "1"), ("X-In", "abc"), ("X-Secret", "s")])
    [req] = s["web"].requests
    assert req.header_all("x-forwarded-port") == [str(sluice.port("fe"))]
    assert req.header("x-copy") == "v=abc"
    assert req.header_all("x-multi") == ["one", "two"]
    assert req.header("x-secret") is None


def test_set_path_query_method_and_vars(sluice, backends):
    """set-path keeps the query, set-query replaces it, set-method; a txn variable set from
    one header is read back into another."""
    s = routed(sluice, backends, """
        http-request set-var(txn.who) req.hdr(x-user),lower
        http-request set-path /v2%[path] if { path_beg /api }
        http-request set-query a=1 if { path_beg /v2/api/q }
        http-request set-method PUT if { hdr(x-put) -m found }
        http-request set-header X-Who %[var(txn.who)]
    """)
    get(sluice, "/api/x?keep=1", headers=[("X-User", "ALICE")])
    get(sluice, "/api/q?old=2", headers=[("X-Put", "1")])
    first, second = s["web"].requests
    assert first.target == "/v2/api/x?keep=1"
    assert first.header("x-who") == "alice"
    assert (second.method, second.target) == ("PUT", "/v2/api/q?a=1")


def test_allow_stops_the_rules(sluice, backends):
    """`allow` ends the http-request rules: a later deny does not apply."""
    s = routed(sluice, backends, """
        http-request allow if { path /open }
        http-request deny
    """)
    assert get(sluice, "/open").status == 200
    assert get(sluice, "/closed").status == 403
    assert [r.target for r in s["web"].requests] == ["/open"]


# ---------------------------------------------------------------------------------------------
# http-response actions


def test_response_headers_backend_then_frontend(sluice, backends):
    """http-response rules of the backend run, then the frontend's; `status` is readable."""
    web = backends.http("web")
    sluice.start(f"""{sluice.base(mode='http')}frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    http-response set-header X-Frame-Options DENY
    http-response set-header X-Order "%[res.hdr(x-order)]-fe"
    http-response del-header X-Conn
    default_backend web
backend web
    http-response set-header X-Order be
    http-response set-header X-Status %[status]
    server web 127.0.0.1:{web.port}
""")
    resp = get(sluice, "/status/201")
    assert resp.status == 201
    assert resp.header("x-frame-options") == "DENY"
    assert resp.header("x-order") == "be-fe"
    assert resp.header("x-status") == "201"
    assert resp.header("x-conn") is None


def test_response_deny_is_502(sluice, backends):
    """`http-response deny` replaces the server's answer with a 502."""
    routed(sluice, backends, "http-response deny if { status 404 }")
    assert get(sluice, "/status/404").status == 502
    assert get(sluice, "/status/200").status == 200


# ---------------------------------------------------------------------------------------------
# Bad configurations


@pytest.mark.parametrize("line,message", [
    ("acl x pth /a", "unknown fetch method 'pth'"),
    ("acl x src 10.0.0.300", "10.0.0.300"),
    ("acl x path -m nosuch /a", "unknown match method 'nosuch'"),
    ("acl x path_reg (", "regex"),
    ("use_backend api if nosuch_acl", "no such ACL : 'nosuch_acl'"),
    ("http-request frobnicate", "unknown http-request action 'frobnicate'"),
    ("http-request set-header X %[nosuchfetch]", "unknown fetch method 'nosuchfetch'"),
    ("http-request set-header X %[path,nosuchconv]", "unknown converter 'nosuchconv'"),
    ("http-request deny if { status 200 }", "not available here"),
])
def test_bad_rules_fail_check_with_file_and_line(sluice, backends, binary_is_haproxy, line,
                                                 message):
    """`-c` refuses a config with a bad ACL or rule, naming file:line and what is wrong.
    A response fetch in a request rule is only a warning in HAProxy (the ACL "will never
    match"); Sluice refuses it."""
    text = (f"{sluice.base(mode='http')}frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n"
            f"    {line}\n    default_backend web\nbackend web\nbackend api\n")
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text)
    out = result.stdout + result.stderr
    assert f":{line_no}]" in out
    if binary_is_haproxy:
        if "status" in line:
            assert "never match" in out
        else:
            assert result.returncode != 0
        return
    assert result.returncode != 0
    assert message in out


def test_pattern_file_and_map(sluice, backends, tmp_path):
    """`src -f FILE` (networks, one per line, comments skipped) and `map_str` with a default:
    the backend sees the mapped value of the path, or the default."""
    (tmp_path / "nets.lst").write_text("# blocked\n10.0.0.0/8\n192.168.1.1\n")
    (tmp_path / "allow.lst").write_text("127.0.0.0/8\n")
    (tmp_path / "paths.map").write_text("/a alpha\n/b   beta\n")
    s = routed(sluice, backends, f"""
        acl blocked src -f {tmp_path}/nets.lst
        http-request deny if blocked
        http-request set-header X-Allowed yes if {{ src -f {tmp_path}/allow.lst }}
        http-request set-header X-Map %[path,map_str({tmp_path}/paths.map,none)]
    """)
    for path in ("/a", "/b", "/c"):
        assert get(sluice, path).status == 200
    assert [r.header("x-map") for r in s["web"].requests] == ["alpha", "beta", "none"]
    assert all(r.header("x-allowed") == "yes" for r in s["web"].requests)


def test_acl_tries_every_header_value(sluice, backends):
    """An ACL on `hdr(name)` matches when any value does: each comma-separated element of each
    field line (`fhdr`: each whole line); `hdr(name,1)` looks at the first value only."""
    s = routed(sluice, backends, """
        use_backend api if { hdr(x-list) -m str beta }
        use_backend admin if { req.fhdr(x-line) -m str "c, d" }
    """)
    assert get(sluice, "/1", headers=[("X-List", "alpha, beta")]).status == 200
    assert get(sluice, "/2", headers=[("X-List", "alpha"), ("X-List", "gamma, beta")]).status == 200
    assert get(sluice, "/3", headers=[("X-List", "alphabeta")]).status == 200
    assert get(sluice, "/4", headers=[("X-Line", "a"), ("X-Line", "c, d")]).status == 200
    assert [r.target for r in s["api"].requests] == ["/1", "/2"]
    assert [r.target for r in s["admin"].requests] == ["/4"]
    assert [r.target for r in s["web"].requests] == ["/3"]


def test_log_format_keeps_backslashes(sluice, backends):
    """A log-format value has no backslash escapes: `'a\\b\\%[src]'` (single quotes: the config
    reader keeps the backslashes) reaches the server as written, the sample expanded."""
    s = routed(sluice, backends, r"http-request set-header X-B 'a\b\%[src]'")
    get(sluice, "/")
    assert s["web"].requests[0].header("x-b") == "a\\b\\127.0.0.1"


# ---------------------------------------------------------------------------------------------
# tcp-request


@pytest.mark.parametrize("mode", ["http", "tcp"])
def test_tcp_request_connection_reject(sluice, backends, mode):
    """`tcp-request connection reject if COND` resets a matching client at once, without a
    response and without reaching a server; `accept` before it lets a client through; a client
    that matches neither goes on. In both modes."""
    web = backends.http("web")
    frontends = {
        "rej": "tcp-request connection reject if { src 127.0.0.0/8 }",
        "acc": "tcp-request connection accept if { src 127.0.0.1 }\n"
               "tcp-request connection reject",
        "pass": "tcp-request content reject if { src 10.0.0.0/8 }",
    }
    text = sluice.base(mode=mode)
    for name, rules in frontends.items():
        text += (f"frontend {name}\n    bind 127.0.0.1:{sluice.port(name)}\n{indent(rules)}"
                 f"    default_backend web\n")
    text += f"backend web\n    server web 127.0.0.1:{web.port}\n"
    sluice.start(text)
    # A rejected connection is reset at once: connecting or writing may already fail.
    try:
        with http_connect(sluice.port("rej")) as c:
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.wait_closed() == b""
    except ConnectionResetError:
        pass
    assert web.connections == 0
    for name in ("acc", "pass"):
        with http_connect(sluice.port(name)) as c:
            assert c.roundtrip("GET", f"/{name}").status == 200
    assert [r.target for r in web.requests] == ["/acc", "/pass"]


# ---------------------------------------------------------------------------------------------
# monitor-uri


def test_monitor_uri_and_monitor_fail(sluice, backends):
    """`monitor-uri` is answered by the proxy itself (200) before any rule (the deny below does
    not apply) and never reaches a server; `monitor fail if COND` turns it into a 503. The URI
    must match exactly: with a query string the request is an ordinary one (denied here)."""
    s = routed(sluice, backends, """
        monitor-uri /health
        monitor fail if { req.hdr(x-fail) -m found }
        http-request deny if { path /health }
    """)
    ok = get(sluice, "/health")
    assert ok.status_line == "HTTP/1.1 200 OK"
    assert get(sluice, "/health?x=1").status == 403
    assert get(sluice, "/health", headers=[("X-Fail", "1")]).status == 503
    assert get(sluice, "/other").status == 200
    assert [r.target for r in s["web"].requests] == ["/other"]
