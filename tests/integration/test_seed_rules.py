"""The ACL, rule and routing lines of the guide our users come with (../shared/seed/), as written,
on loopback: the web application frontend (path routing, scheme redirect, X-Forwarded-Port),
the WebSocket frontend (routing on Upgrade or Host), the security-hardening frontend (an IP
whitelist and security headers) and the TLS example's HSTS header and 301 redirect. Lines that
belong to later issues (health checks, `balance leastconn|source`, stick tables, TLS binds,
logging) are left out; each of those is an alert naming its issue, tested elsewhere.

Every test passes against Debian's haproxy (`--sluice=/usr/sbin/haproxy`).
"""

from conftest import http_connect


def get(port, target, headers=(), host="sluice.test"):
    with http_connect(port) as c:
        c.request("GET", target, headers=list(headers), host=host)
        return c.response()


def test_web_application_routing_and_redirect(sluice, backends):
    """Seed use case 1: `acl is_api path_beg /api`, `acl is_admin path_beg /admin`,
    `use_backend ... if ...`, `default_backend`; the api backend's `http-request set-header
    X-Forwarded-Port %[dst_port]` and `add-header X-Forwarded-Proto https if { ssl_fc }`; and
    the frontend's `redirect scheme https if !{ ssl_fc }` (on its own port here, since it sends
    every plain-HTTP request away)."""
    web, api, admin = backends.http("web"), backends.http("api"), backends.http("admin")
    text = f"""{sluice.base(mode='http')}
frontend web_frontend
    bind 127.0.0.1:{sluice.port('web')}
    # ACL definitions
    acl is_api path_beg /api
    acl is_admin path_beg /admin

    # Routing rules
    use_backend api_servers if is_api
    use_backend admin_servers if is_admin
    default_backend web_servers

frontend redirecting
    bind 127.0.0.1:{sluice.port('redirect')}
    redirect scheme https if !{{ ssl_fc }}
    default_backend web_servers

backend web_servers
    balance roundrobin
    server web1 127.0.0.1:{web.port}

backend api_servers
    http-request set-header X-Forwarded-Port %[dst_port]
    http-request add-header X-Forwarded-Proto https if {{ ssl_fc }}
    server api1 127.0.0.1:{api.port}

backend admin_servers
    server admin1 127.0.0.1:{admin.port}
"""
    sluice.start(text)
    port = sluice.port("web")
    for target, backend in (("/api/users", api), ("/admin/", admin), ("/index.html", web)):
        assert get(port, target).status == 200
        assert backend.requests[-1].target == target
    assert api.requests[-1].header("x-forwarded-port") == str(port)
    assert api.requests[-1].header("x-forwarded-proto") is None  # not over TLS
    resp = get(sluice.port("redirect"), "/login?next=/", host="shop.example.com")
    assert resp.status == 302
    assert resp.header("location") == "https://shop.example.com/login?next=/"


def test_websocket_routing(sluice, backends):
    """Seed use case 3: `acl is_websocket hdr(Upgrade) -i WebSocket` and `acl is_websocket
    hdr_beg(Host) -i ws` (two lines, OR-ed), `use_backend websocket_servers if is_websocket`;
    the WebSocket backend's `option http-server-close`, `option forwardfor` and `timeout
    tunnel`. A WebSocket upgrade reaches its backend and echoes through the tunnel."""
    ws, http_srv = backends.http("ws"), backends.http("http")
    text = f"""{sluice.base(mode='http')}
frontend websocket_frontend
    bind 127.0.0.1:{sluice.port('fe')}
    mode http
    timeout client 3600s
    timeout server 3600s

    # WebSocket detection
    acl is_websocket hdr(Upgrade) -i WebSocket
    acl is_websocket hdr_beg(Host) -i ws

    use_backend websocket_servers if is_websocket
    default_backend http_servers

backend websocket_servers
    timeout tunnel 3600s
    option http-server-close
    option forwardfor
    server ws1 127.0.0.1:{ws.port}

backend http_servers
    balance roundrobin
    server web1 127.0.0.1:{http_srv.port}
"""
    sluice.start(text)
    port = sluice.port("fe")
    assert get(port, "/page").status == 200
    assert get(port, "/chat", host="ws.example.com").status == 200
    assert [r.target for r in http_srv.requests] == ["/page"]
    assert [r.target for r in ws.requests] == ["/chat"]
    assert ws.requests[-1].header("x-forwarded-for") == "127.0.0.1"
    with http_connect(port) as c:
        c.request("GET", "/upgrade", headers=[("Connection", "Upgrade"), ("Upgrade", "websocket"),
                                              ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                              ("Sec-WebSocket-Version", "13")])
        assert c.response().status == 101
        c.send(b"frame bytes")
        got = b""
        while len(got) < len(b"frame bytes"):
            got += c.sock.recv(100)
        assert got == b"frame bytes"
    assert ws.requests[-1].target == "/upgrade"


def test_security_hardening_whitelist_and_headers(sluice, backends):
    """Seed "Security Hardening": security headers set on every response, and `acl allowed_ips
    src 192.168.1.0/24 10.0.0.0/8` with `http-request deny if !allowed_ips`: a loopback client is
    not in the list, so it gets HAProxy's 403; the same list with 127.0.0.0/8 added lets it
    through. The TLS example's HSTS header and `redirect scheme https code 301` too."""
    web = backends.http("web")
    headers = """
    http-response set-header X-Content-Type-Options "nosniff"
    http-response set-header X-Frame-Options "DENY"
    http-response set-header X-XSS-Protection "1; mode=block"
    http-response set-header Referrer-Policy "no-referrer-when-downgrade"
    http-response set-header Strict-Transport-Security "max-age=31536000; includeSubDomains; preload"
"""
    text = f"""{sluice.base(mode='http')}
frontend secure_frontend
    bind 127.0.0.1:{sluice.port('secure')}
{headers}
    # IP whitelist
    acl allowed_ips src 192.168.1.0/24 10.0.0.0/8
    http-request deny if !allowed_ips
    default_backend web_servers

frontend trusted
    bind 127.0.0.1:{sluice.port('trusted')}
{headers}
    acl allowed_ips src 192.168.1.0/24 10.0.0.0/8 127.0.0.0/8
    http-request deny if !allowed_ips
    default_backend web_servers

frontend https_frontend
    bind 127.0.0.1:{sluice.port('https')}
    mode http
    option forwardfor
    redirect scheme https code 301 if !{{ ssl_fc }}
    default_backend web_servers

backend web_servers
    server web1 127.0.0.1:{web.port}
"""
    sluice.start(text)
    denied = get(sluice.port("secure"), "/")
    assert denied.status == 403
    assert not web.requests
    ok = get(sluice.port("trusted"), "/")
    assert ok.status == 200
    assert ok.header("x-content-type-options") == "nosniff"
    assert ok.header("x-frame-options") == "DENY"
    assert ok.header("x-xss-protection") == "1; mode=block"
    assert ok.header("referrer-policy") == "no-referrer-when-downgrade"
    assert ok.header("strict-transport-security") == \
        "max-age=31536000; includeSubDomains; preload"
    moved = get(sluice.port("https"), "/account", host="bank.example.com")
    assert moved.status == 301
    assert moved.header("location") == "https://bank.example.com/account"
