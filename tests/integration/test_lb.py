"""Balance algorithms end to end (issue #6): distribution measured over many connections and
requests, stickiness of the hashing algorithms, consistent hashing moving only a removed
server's keys, leastconn and first with long connections, backups, and `redir` servers.

What a test pins is HAProxy 2.6's behaviour unless it says otherwise; every test here passes
against Debian's haproxy (`--sluice=/usr/sbin/haproxy`). Hash algorithms map keys to servers
differently from HAProxy (other tables): tests check the properties (same key, same server;
spread; what moves), never which server a given key lands on.
"""

import collections
import socket
import struct

import pytest

from conftest import http_connect, wait_for


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def start_tcp(sluice, backends, lines, servers, nbthread=1):
    """`listen lb` in mode tcp with `named` servers: [(name, options)]."""
    named = {n: backends.named(n) for n, _ in servers}
    text = (f"{sluice.base(mode='tcp', nbthread=nbthread)}listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            f"{indent(lines)}")
    text += "".join(f"    server {n} 127.0.0.1:{named[n].port} {o}\n" for n, o in servers)
    sluice.start(text)
    return named


def reached(sluice, source=None):
    """Connects (from `source` if given), returns the name the server sent."""
    with socket.create_connection(("127.0.0.1", sluice.port("lb")), timeout=5,
                                  source_address=(source, 0) if source else None) as s:
        data = b""
        while chunk := s.recv(100):
            data += chunk
    return data.decode().strip()


def start_http(sluice, backends, lines, servers):
    """`listen lb` in mode http with HTTP servers: [(name, options)]."""
    web = {n: backends.http(n) for n, _ in servers}
    text = (f"{sluice.base(mode='http')}listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            f"{indent(lines)}")
    text += "".join(f"    server {n} 127.0.0.1:{web[n].port} {o}\n" for n, o in servers)
    sluice.start(text)
    return web


def who_served(web, send):
    """Sends one request with `send()` and says which server recorded it."""
    before = {n: len(s.requests) for n, s in web.items()}
    send()
    got = [n for n, s in web.items() if len(s.requests) > before[n]]
    assert len(got) == 1, got
    return got[0]


def get(sluice, target, headers=()):
    """One request on a new connection; a Host in `headers` replaces the default one."""
    host = next((v for n, v in headers if n.lower() == "host"), "sluice.test")
    headers = [(n, v) for n, v in headers if n.lower() != "host"]
    with http_connect(sluice.port("lb")) as c:
        c.request("GET", target, headers=headers, host=host)
        r = c.response()
        assert r.status == 200, r.status
        return r


# ---------------------------------------------------------------------------------------------
# Round robin family


@pytest.mark.parametrize("algorithm", ["roundrobin", "static-rr"])
@pytest.mark.parametrize("nbthread", [1, 2])
def test_round_robin_shares_are_exact_per_weight(sluice, backends, algorithm, nbthread):
    """Over whole cycles each server gets exactly its weight's share (1:2:3), whatever thread
    accepts each connection."""
    start_tcp(sluice, backends, f"balance {algorithm}",
              [("a", "weight 1"), ("b", "weight 2"), ("c", "weight 3")], nbthread=nbthread)
    seen = collections.Counter(reached(sluice) for _ in range(60))
    assert seen == {"a": 10, "b": 20, "c": 30}


def test_http_requests_on_one_connection_are_balanced_each(sluice, backends):
    """In mode http every request is balanced, even on one keep-alive client connection."""
    web = start_http(sluice, backends, "balance roundrobin", [("a", ""), ("b", "")])
    with http_connect(sluice.port("lb")) as c:
        for _ in range(10):
            c.request("GET", "/")
            assert c.response().status == 200
    assert len(web["a"].requests) == 5 and len(web["b"].requests) == 5


# ---------------------------------------------------------------------------------------------
# leastconn and first, with connections held open


def hold(sluice, n):
    return [socket.create_connection(("127.0.0.1", sluice.port("lb")), timeout=5)
            for _ in range(n)]


def open_tracked(sluice, echo):
    """Opens one connection and says which server it reached (whose open count grew)."""
    before = {n: e.open_connections for n, e in echo.items()}
    s = socket.create_connection(("127.0.0.1", sluice.port("lb")), timeout=5)
    wait_for(lambda: sum(e.open_connections for e in echo.values()) == sum(before.values()) + 1,
             what="the new connection at a server")
    got = [n for n, e in echo.items() if e.open_connections > before[n]]
    assert len(got) == 1
    return s, got[0]


@pytest.mark.parametrize("nbthread", [1, 2])
def test_leastconn_sends_new_connections_to_the_least_loaded(sluice, backends, nbthread):
    """Two connections each on a, b, c; a's two end: the next two both go to a (round robin
    would send one to b). With two threads, each counts the other's connections."""
    echo = {n: backends.echo(n) for n in ("a", "b", "c")}
    text = (f"{sluice.base(mode='tcp', nbthread=nbthread)}listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    balance leastconn\n")
    text += "".join(f"    server {n} 127.0.0.1:{e.port}\n" for n, e in echo.items())
    sluice.start(text)
    held = [open_tracked(sluice, echo) for _ in range(6)]
    assert collections.Counter(n for _, n in held) == {"a": 2, "b": 2, "c": 2}
    for s, n in held:
        if n == "a":
            s.close()
    wait_for(lambda: echo["a"].open_connections == 0, what="a idle")
    again = [open_tracked(sluice, echo) for _ in range(2)]
    assert [n for _, n in again] == ["a", "a"]
    for s, _ in held + again:
        s.close()


def test_first_fills_the_lowest_id_up_to_maxconn(sluice, backends):
    """`first` uses the server with the lowest id (`id`, not line order) until its maxconn."""
    echo = {n: backends.echo(n) for n in ("a", "b", "c")}
    text = (f"{sluice.base(mode='tcp')}listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    balance first\n"
            f"    server a 127.0.0.1:{echo['a'].port} id 3 maxconn 2\n"
            f"    server b 127.0.0.1:{echo['b'].port} id 1 maxconn 2\n"
            f"    server c 127.0.0.1:{echo['c'].port} id 2 maxconn 2\n")
    sluice.start(text)
    socks = []
    for expected in ({"b": 1}, {"b": 2}, {"b": 2, "c": 1}, {"b": 2, "c": 2},
                     {"b": 2, "c": 2, "a": 1}):
        socks += hold(sluice, 1)
        want = {n: expected.get(n, 0) for n in echo}
        wait_for(lambda: {n: e.open_connections for n, e in echo.items()} == want,
                 what=f"loads {want}")
    for s in socks:
        s.close()


# ---------------------------------------------------------------------------------------------
# Hashing


def test_source_sends_each_client_address_to_one_server(sluice, backends):
    start_tcp(sluice, backends, "balance source", [("a", ""), ("b", ""), ("c", "")])
    first = {}
    for i in range(2, 40):
        src = f"127.0.0.{i}"
        first[src] = reached(sluice, src)
    for src, name in first.items():
        assert reached(sluice, src) == name, src
    assert len(set(first.values())) == 3  # 38 addresses spread over every server


@pytest.mark.parametrize("balance,request_for", [
    ("balance uri", lambda k: (f"/{k}/page?x={k}", [])),
    ("balance uri whole", lambda k: (f"/p?id={k}", [])),
    ("balance url_param id", lambda k: (f"/p?a=1&id={k}", [])),
    ("balance hdr(x-user)", lambda k: ("/p", [("X-User", k)])),
    ("balance hash req.hdr(x-user),lower", lambda k: ("/p", [("X-User", k.upper())])),
])
def test_hashing_algorithms_are_sticky_and_spread(sluice, backends, balance, request_for):
    web = start_http(sluice, backends, balance, [("a", ""), ("b", ""), ("c", "")])

    def server_of(key):
        target, headers = request_for(key)
        return who_served(web, lambda: get(sluice, target, headers))

    mapping = {f"k{i}": server_of(f"k{i}") for i in range(40)}
    for key, name in list(mapping.items())[:15]:
        assert server_of(key) == name, key
    assert len(set(mapping.values())) == 3


def test_hashing_without_a_key_falls_back_to_round_robin(sluice, backends):
    """url_param absent, header absent: round robin, as HAProxy."""
    web = start_http(sluice, backends, "balance url_param id", [("a", ""), ("b", "")])
    for _ in range(10):
        get(sluice, "/none")
    assert len(web["a"].requests) == 5 and len(web["b"].requests) == 5


def test_hdr_use_domain_only_hashes_the_domain_label(sluice, backends):
    """`hdr(host) use_domain_only`: www.x.com and api.x.com:8080 share the label "x"."""
    web = start_http(sluice, backends, "balance hdr(host) use_domain_only",
                     [("a", ""), ("b", ""), ("c", "")])
    for label in ("alpha", "beta", "gamma", "delta"):
        names = {who_served(web, lambda h=h: get(sluice, "/", [("Host", h)]))
                 for h in (f"www.{label}.com", f"api.{label}.org:8080", f"{label}.net")}
        assert len(names) == 1, (label, names)


def test_consistent_hashing_moves_only_the_removed_servers_keys(sluice, backends):
    """With `hash-type consistent`, taking one server of N out moves only the keys it had
    (under 1/N + 5% of all keys), every other key stays where it was."""
    names = ["s1", "s2", "s3", "s4", "s5"]
    web = {n: backends.http(n) for n in names}

    def mapping(servers, port_name):
        text = (f"{sluice.base(mode='http')}listen lb\n"
                f"    bind 127.0.0.1:{sluice.port(port_name)}\n"
                "    balance uri\n    hash-type consistent\n")
        text += "".join(f"    server {n} 127.0.0.1:{web[n].port} id {names.index(n) + 1}\n"
                        for n in servers)
        proc = sluice.start(text)
        out = {}
        for i in range(400):
            def send(i=i):
                with http_connect(sluice.port(port_name)) as c:
                    c.request("GET", f"/obj/{i}")
                    assert c.response().status == 200
            out[i] = who_served(web, send)
        proc.signal(15)
        proc.wait_exit()
        return out

    before = mapping(names, "lb")
    after = mapping([n for n in names if n != "s3"], "lb2")
    moved = [k for k in before if before[k] != after[k]]
    assert all(before[k] == "s3" for k in moved)
    assert len(moved) / len(before) < 1 / len(names) + 0.05
    assert len(set(before.values())) == 5


def test_map_based_hashing_spreads_keys_by_weight(sluice, backends):
    web = start_http(sluice, backends, "balance uri",
                     [("a", "weight 1"), ("b", "weight 3")])
    for i in range(400):
        get(sluice, f"/k/{i}")
    ratio = len(web["b"].requests) / max(1, len(web["a"].requests))
    assert 2.0 < ratio < 4.5, ratio


def test_random_respects_weights(sluice, backends):
    web = start_http(sluice, backends, "balance random(2)",
                     [("a", "weight 1"), ("b", "weight 3")])
    for i in range(400):
        get(sluice, f"/r/{i}")
    assert len(web["a"].requests) + len(web["b"].requests) == 400
    # Sequential requests: every server is idle when drawn, so weights alone decide.
    ratio = len(web["b"].requests) / max(1, len(web["a"].requests))
    assert 1.8 < ratio < 5, ratio


def rdp_request(cookie):
    line = f"Cookie: mstshash={cookie}\r\n".encode()
    x224 = bytes([6 + len(line), 0xE0, 0, 0, 0, 0, 0]) + line
    return struct.pack(">BBH", 3, 0, 4 + len(x224)) + x224


def test_rdp_cookie_sends_one_user_to_one_server(sluice, backends):
    echo = {n: backends.echo(n) for n in ("a", "b", "c")}
    text = (f"{sluice.base(mode='tcp')}listen lb\n    bind 127.0.0.1:{sluice.port('lb')}\n"
            "    balance rdp-cookie\n    tcp-request inspect-delay 5s\n"
            "    tcp-request content accept if RDP_COOKIE\n")
    text += "".join(f"    server {n} 127.0.0.1:{e.port}\n" for n, e in echo.items())
    sluice.start(text)

    def server_for(user):
        before = {n: e.connections for n, e in echo.items()}
        with socket.create_connection(("127.0.0.1", sluice.port("lb")), timeout=5) as s:
            s.sendall(rdp_request(user))
            assert s.recv(100)  # echoed back through the chosen server
        got = [n for n, e in echo.items() if e.connections > before[n]]
        assert len(got) == 1
        return got[0]

    users = {f"user{i}": server_for(f"user{i}") for i in range(24)}
    for u, name in list(users.items())[:8]:
        assert server_for(u) == name
    assert len(set(users.values())) >= 2


# ---------------------------------------------------------------------------------------------
# Backups


@pytest.mark.parametrize("allbackups", [False, True])
def test_backups_serve_only_when_no_active_server_can(sluice, backends, allbackups):
    """Active servers in maintenance (`disabled`): the first backup takes everything, or with
    `option allbackups` every backup shares the load."""
    opt = "option allbackups" if allbackups else ""
    start_tcp(sluice, backends, f"balance roundrobin\n{opt}",
              [("act", "disabled"), ("bk1", "backup"), ("bk2", "backup")])
    seen = collections.Counter(reached(sluice) for _ in range(10))
    assert seen == ({"bk1": 5, "bk2": 5} if allbackups else {"bk1": 10})


# ---------------------------------------------------------------------------------------------
# redir


def test_redir_server_answers_get_and_head_with_a_302(sluice, backends):
    """HAProxy: `redir PREFIX` answers GET and HEAD with `302 Found`, `location: PREFIX` then
    the path and query, and closes; other methods are forwarded to the server."""
    web = start_http(sluice, backends, "", [("s", "redir http://other.example/pre")])
    with http_connect(sluice.port("lb")) as c:
        c.request("GET", "/a/b?x=1")
        r = c.response()
        assert r.status == 302
        assert r.header("location") == "http://other.example/pre/a/b?x=1"
        assert r.header("cache-control") == "no-cache"
        assert r.header("connection") == "close"
    with http_connect(sluice.port("lb")) as c:
        c.request("POST", "/form", body=b"a=1")
        assert c.response().status == 200
    assert [r.target for r in web["s"].requests] == ["/form"]


# ---------------------------------------------------------------------------------------------
# Queues


def test_queue_timeout_answers_503_and_a_freed_slot_serves_the_next(sluice, backends):
    """HAProxy: a request finding its only server at maxconn waits in the queue; after `timeout
    queue` it gets 503. Once the slot frees, the next request is served."""
    web = start_http(sluice, backends, "timeout queue 300ms", [("s", "maxconn 1")])
    holder = http_connect(sluice.port("lb"))
    holder.request("GET", "/delay/1500")
    wait_for(lambda: len(web["s"].requests) == 1, what="the first request at the server")
    with http_connect(sluice.port("lb")) as c:
        c.request("GET", "/queued")
        assert c.response().status == 503
    assert holder.response().status == 200
    holder.close()
    assert get(sluice, "/after").status == 200
    assert [r.target for r in web["s"].requests] == ["/delay/1500", "/after"]


def hold_server(sluice, web, name, headers=()):
    """A request that keeps server `name` busy for 1.5 s, once the server has it."""
    before = len(web[name].requests)
    c = http_connect(sluice.port("lb"))
    c.request("GET", "/delay/1500", headers=headers)
    wait_for(lambda: len(web[name].requests) > before, what=f"the holding request at {name}")
    return c


def answers(clients):
    """The statuses of the clients' responses, each closed after."""
    statuses = []
    for c in clients:
        with c:
            statuses.append(c.response().status)
    return statuses


def test_a_hashed_request_waits_for_its_full_server_up_to_maxqueue(sluice, backends):
    """HAProxy: a request whose key maps to a full server waits in that server's queue (it never
    goes to another server); once `maxqueue` requests wait there, the next is refused with 503
    at once, `option redispatch` or not (hashing would choose the same server again)."""
    web = start_http(sluice, backends, "balance hdr(X-Key)\noption redispatch\ntimeout queue 20s",
                     [("a", "maxconn 1 maxqueue 1"), ("b", "maxconn 1 maxqueue 1")])
    key = {}
    for i in range(40):  # a key for each server
        k = f"k{i}"
        key.setdefault(who_served(web, lambda: get(sluice, "/", [("X-Key", k)])), k)
        if len(key) == 2:
            break
    holder = hold_server(sluice, web, "a", [("X-Key", key["a"])])
    waiting = [http_connect(sluice.port("lb")) for _ in range(2)]
    for c in waiting:
        c.request("GET", "/bound", headers=[("X-Key", key["a"])])
    # The other server's keys go on meanwhile.
    assert who_served(web, lambda: get(sluice, "/free", [("X-Key", key["b"])])) == "b"
    # One of the two waits for `a`, the other found its queue full: 503 before the holder ends.
    assert answers(waiting) in ([200, 503], [503, 200])
    assert answers([holder]) == [200]
    assert [r.target for r in web["a"].requests][-2:] == ["/delay/1500", "/bound"]


@pytest.mark.parametrize("redispatch", [False, True])
def test_use_server_waits_for_its_full_server_then_redispatches(sluice, backends, redispatch):
    """HAProxy: `use-server` to a server at maxconn queues the request on that server rather than
    balancing it; past `maxqueue`, `option redispatch` sends it to another server, else 503."""
    web = start_http(sluice, backends,
                     "use-server a if { req.hdr(X-Pin) -m found }\ntimeout queue 20s\n" +
                     ("option redispatch" if redispatch else ""),
                     [("a", "maxconn 1 maxqueue 1"), ("b", "")])
    holder = hold_server(sluice, web, "a", [("X-Pin", "1")])
    pinned = [http_connect(sluice.port("lb")) for _ in range(2)]
    for c in pinned:
        c.request("GET", "/pinned", headers=[("X-Pin", "1")])
    if redispatch:
        web["b"].wait_requests(1)
        assert answers(pinned) == [200, 200]
        assert [r.target for r in web["b"].requests] == ["/pinned"]
    else:
        assert sorted(answers(pinned)) == [200, 503]
        assert web["b"].requests == []
    assert answers([holder]) == [200]
    assert [r.target for r in web["a"].requests] == ["/delay/1500", "/pinned"]


@pytest.mark.parametrize("persist", [False, True])
def test_use_server_passes_over_a_server_in_maintenance_unless_option_persist(sluice, backends,
                                                                              persist):
    """HAProxy: a `use-server` rule whose server is in maintenance (`disabled`) or down passes to
    the next matching rule; with `option persist` the request goes to that server anyway."""
    web = start_http(sluice, backends,
                     "use-server a if { req.hdr(X-Pin) -m found }\n"
                     "use-server c if { req.hdr(X-Pin) -m found }\n" +
                     ("option persist" if persist else ""),
                     [("a", "disabled"), ("b", ""), ("c", "")])
    for _ in range(3):
        assert who_served(web, lambda: get(sluice, "/", [("X-Pin", "1")])) == ("a" if persist
                                                                                else "c")


def queue_length(sluice):
    """The proxy's own count of waiting requests (the `queue` fetch), from /queue."""
    with http_connect(sluice.port("lb")) as c:
        c.request("GET", "/queue")
        r = c.response()
        assert r.status == 200, r.status
        return int(r.header("x-queue"))


@pytest.mark.parametrize("rule", ["set-priority-class int(-1)", "set-priority-offset int(-5000)"])
def test_priority_serves_urgent_requests_first(sluice, backends, rule):
    """HAProxy: queued requests are served by priority class, then by arrival time plus the
    priority offset: an urgent request queued last is served first. `queue` counts them."""
    web = start_http(sluice, backends,
                     "timeout queue 20s\n"
                     "http-request return status 200 hdr X-Queue %[queue] if { path /queue }\n"
                     f"http-request {rule} if {{ req.hdr(X-Urgent) -m found }}\n",
                     [("s", "maxconn 1")])
    holder = hold_server(sluice, web, "s")
    waiting = []
    for name, headers in (("/a1", []), ("/a2", []), ("/urgent", [("X-Urgent", "1")])):
        c = http_connect(sluice.port("lb"))
        c.request("GET", name, headers=headers)
        waiting.append(c)
        wait_for(lambda: queue_length(sluice) == len(waiting), what=f"{name} queued")
    assert answers([holder] + waiting) == [200] * 4
    assert [r.target for r in web["s"].requests] == ["/delay/1500", "/urgent", "/a1", "/a2"]
