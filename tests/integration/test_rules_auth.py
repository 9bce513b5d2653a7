"""HTTP Basic authentication end to end: `userlist` sections, the `http_auth`/`http_auth_group`
fetches in ACLs, and `http-request auth`, seen from real clients (curl and raw requests) and
from the backend; and the `-c` alerts of bad userlists and of names that do not exist.

Unless a test says otherwise, what it pins is HAProxy 2.6's behaviour, which Sluice reproduces;
every test here passes against Debian's haproxy (`--sluice=/usr/sbin/haproxy`).
"""

import base64
import subprocess

import pytest

from conftest import curl, http_connect


def crypt_hash(method, password):
    """A crypt(3) hash as a user makes one: `openssl passwd -6 PASSWORD` (or -5, -1)."""
    out = subprocess.run(["openssl", "passwd", f"-{method}", password], capture_output=True,
                         text=True, check=True, timeout=30)
    return out.stdout.strip()


def basic(user, password):
    return ("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def start(sluice, backends, userlists, frontend, backend=""):
    """Userlist sections as given, frontend `fe` with `frontend` lines sending to backend `be`
    (with `backend` lines) and its HTTP server, which is returned."""
    server = backends.http("be")
    text = (f"{sluice.base(mode='http')}{userlists.strip()}\n"
            f"frontend fe\n    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
            f"    default_backend be\n"
            f"backend be\n{indent(backend)}    server be 127.0.0.1:{server.port}\n")
    sluice.start(text)
    return server


def get(sluice, target="/", headers=(), method="GET"):
    with http_connect(sluice.port("fe")) as c:
        c.request(method, target, headers=list(headers))
        return c.response(method=method)


def curl_get(sluice, target="/", *args):
    """curl on the frontend; returns (status, {lowercased name: value}, body)."""
    out = curl("-i", *args, f"http://127.0.0.1:{sluice.port('fe')}{target}")
    assert out.returncode == 0, out.stderr
    head, _, body = out.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


# The configuration users write, as in the task's example.
ADMINS = """
userlist admins
    group ops
    user alice password {alice} groups ops
    user bob insecure-password s3cret
"""
TYPICAL = """
    acl authed http_auth(admins)
    acl is_ops http_auth_group(admins) ops
    http-request auth realm Admin if !authed
    http-request deny if !is_ops { path_beg /ops }
"""


@pytest.fixture
def typical(sluice, backends):
    return start(sluice, backends, ADMINS.format(alice=crypt_hash(6, "hunter2")), TYPICAL)


def test_no_credentials_get_a_basic_challenge(sluice, typical):
    """No Authorization: 401 with the proxy's page and `WWW-Authenticate: Basic realm="Admin"`;
    the server never sees the request."""
    status, headers, body = curl_get(sluice, "/")
    assert status == 401
    assert headers["www-authenticate"] == 'Basic realm="Admin"'
    assert headers["content-type"] == "text/html"
    assert headers["cache-control"] == "no-cache"
    assert int(headers["content-length"]) == len(body) and b"401" in body
    assert not typical.requests


@pytest.mark.parametrize("user,password", [
    ("alice", "hunter3"), ("alice", ""), ("bob", "S3cret"), ("Bob", "s3cret"), ("eve", "s3cret"),
])
def test_wrong_credentials_get_401(sluice, typical, user, password):
    status, headers, _ = curl_get(sluice, "/", "-u", f"{user}:{password}")
    assert status == 401
    assert headers["www-authenticate"] == 'Basic realm="Admin"'
    assert not typical.requests


def test_hashed_and_insecure_passwords_reach_the_backend(sluice, typical):
    """curl -u with a sha512-crypt user and a clear-text one: 200 from the backend, which gets
    the Authorization header as the client sent it."""
    status, _, _ = curl_get(sluice, "/a", "-u", "alice:hunter2")
    assert status == 200
    status, _, _ = curl_get(sluice, "/b", "-u", "bob:s3cret")
    assert status == 200
    assert [r.target for r in typical.requests] == ["/a", "/b"]
    assert typical.requests[1].header_all("authorization") == [basic("bob", "s3cret")[1]]


def test_group_acl(sluice, typical):
    """`http_auth_group(admins) ops`: alice (in ops) reaches /ops, bob (valid, in no group) is
    denied there but not elsewhere."""
    assert curl_get(sluice, "/ops/x", "-u", "alice:hunter2")[0] == 200
    status, _, body = curl_get(sluice, "/ops/y", "-u", "bob:s3cret")
    assert status == 403 and b"403" in body
    assert curl_get(sluice, "/other", "-u", "bob:s3cret")[0] == 200
    assert [r.target for r in typical.requests] == ["/ops/x", "/other"]


def test_401_keeps_the_connection(sluice, typical):
    """After the 401 the client connection stays open: the retry with credentials goes on the
    same connection, as a browser does."""
    with http_connect(sluice.port("fe")) as c:
        first = c.roundtrip("GET", "/x")
        assert first.status_line == "HTTP/1.1 401 Unauthorized"
        assert first.header("connection") is None
        second = c.roundtrip("GET", "/x", headers=[basic("bob", "s3cret")])
        assert second.status == 200
        head = c.roundtrip("HEAD", "/x")
        assert head.status == 401 and head.body == b""
        assert head.header("www-authenticate") == 'Basic realm="Admin"'
    assert len(typical.requests) == 1


@pytest.mark.parametrize("method", [1, 5, 6])
def test_every_openssl_hash_method(sluice, backends, method):
    """md5-crypt, sha256-crypt and sha512-crypt hashes as `openssl passwd` makes them."""
    server = start(sluice, backends,
                   f"userlist L\n    user u password {crypt_hash(method, 'pw')}\n",
                   "http-request auth unless { http_auth(L) }")
    assert get(sluice, headers=[basic("u", "pw")]).status == 200
    assert get(sluice, headers=[basic("u", "pW")]).status == 401
    assert len(server.requests) == 1


def test_realms(sluice, backends):
    """The realm defaults to the name of the proxy whose rule answers (the backend's for a
    backend rule) and goes between quotes as written, spaces included."""
    start(sluice, backends, "",
          """
          http-request auth realm "My Admin Area" if { path /spaces }
          http-request auth if { path /fe }
          """,
          backend="http-request auth if { path /be }")
    assert get(sluice, "/spaces").header("www-authenticate") == 'Basic realm="My Admin Area"'
    assert get(sluice, "/fe").header("www-authenticate") == 'Basic realm="fe"'
    assert get(sluice, "/be").header("www-authenticate") == 'Basic realm="be"'


def test_custom_401_pages(sluice, backends, tmp_path):
    """The reply is the proxy's own 401 page with its WWW-Authenticate fields replaced by the
    challenge: a frontend rule uses the frontend's page even though the backend has one, a
    backend rule the backend's."""
    page = tmp_path / "401.http"
    page.write_bytes(b"HTTP/1.1 401 Go Away\r\nContent-Type: text/plain\r\n"
                     b"WWW-Authenticate: Bearer\r\nX-Custom: 1\r\nContent-Length: 5\r\n\r\nnope\n")
    start(sluice, backends, "",
          f"""
          errorfile 401 {page}
          http-request auth realm R if {{ path /fe }}
          """,
          backend="""
          http-error status 401 content-type text/plain string bad hdr www-authenticate foo
          http-request auth if { path /be }
          """)
    fe = get(sluice, "/fe")
    assert fe.status_line == "HTTP/1.1 401 Go Away"
    assert fe.header_all("www-authenticate") == ['Basic realm="R"']
    assert fe.header("x-custom") == "1" and fe.body == b"nope\n"
    be = get(sluice, "/be")
    assert be.header_all("www-authenticate") == ['Basic realm="be"']
    assert be.body == b"bad"


def test_what_the_client_sent_reaches_the_server(sluice, backends):
    """http_auth_user, http_auth_type and http_auth_group (the user's name outside ACLs) in
    headers for the server; a bearer token is handed out, never checked."""
    server = start(sluice, backends, "userlist L\n    group g users u\n"
                   "    user u insecure-password pw\n",
                   """
                   http-request set-header X-User %[http_auth_user]
                   http-request set-header X-Type %[http_auth_type]
                   http-request set-header X-Checked %[http_auth_group(L)]
                   http-request set-header X-Token %[http_auth_bearer]
                   """)
    assert get(sluice, "/1", headers=[basic("u", "pw")]).status == 200
    assert get(sluice, "/2", headers=[basic("u", "nope")]).status == 200
    assert get(sluice, "/3", headers=[("Authorization", "Bearer abc.def")]).status == 200
    one, two, three = server.requests
    assert (one.header("x-user"), one.header("x-type"), one.header("x-checked")) == \
        ("u", "Basic", "u")
    assert (two.header("x-user"), two.header("x-checked")) == ("u", "")
    assert (three.header("x-type"), three.header("x-token"), three.header("x-user")) == \
        ("Bearer", "abc.def", "")


# ---------------------------------------------------------------------------------------------
# Bad configurations

FRONTEND = "frontend fe\n    bind 127.0.0.1:{port}\n    {line}\n    default_backend be\n" \
           "backend be\n"


@pytest.mark.parametrize("userlist,line,message", [
    ("userlist L\n    user u insecure-password x",
     "acl a http_auth(nolist)", "no userlist named 'nolist'"),
    ("userlist L\n    user u insecure-password x",
     "http-request set-var(txn.u) http_auth_group(nolist)", "no userlist named 'nolist'"),
    ("userlist L\n    group G1\n    user u insecure-password x",
     "acl a http_auth_group(L) G1 G9", "userlist 'L' has no group 'G9'"),
])
def test_names_that_do_not_exist_fail_check(sluice, binary_is_haproxy, userlist, line, message):
    """A userlist or group named by a fetch must exist: an alert at the line naming it (HAProxy
    names no line for a group, and its wording differs)."""
    text = sluice.base(mode="http") + userlist + "\n" + FRONTEND.format(port=sluice.port("fe"),
                                                                       line=line)
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text, name="t.cfg")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    if binary_is_haproxy:
        return
    assert f"[t.cfg:{line_no}]" in out and message in out, out


@pytest.mark.parametrize("lines,bad,message,haproxy", [
    # What HAProxy 2.6 refuses too.
    (["group G1", "user u insecure-password x groups G1,G3"], 2,
     "user 'u' is in group 'G3', which userlist 'L' does not declare", "no such group 'G3'"),
    (["group G1 users u,nosuch", "user u insecure-password x"], 1,
     "group 'G1' lists user 'nosuch', which userlist 'L' does not declare",
     "no such user 'nosuch'"),
    (["user u insecure-password x", "frobnicate 1"], 2,
     "unknown keyword 'frobnicate' in 'userlist' section", "unknown keyword 'frobnicate'"),
    (["user u insecure-password x foo"], 1, "unknown option 'foo'",
     "'user' only supports"),
    (["group G foo"], 1, "unknown option 'foo'", "'group' only supports"),
    # What HAProxy 2.6 accepts: a warning for a duplicate, nothing for a user without a
    # password (it crashes when that user logs in).
    (["user u insecure-password x", "user u insecure-password y"], 2,
     "user 'u' is already declared at t.cfg:", None),
    (["user nopw"], 1, "user 'nopw' has no password", None),
])
def test_bad_userlist_lines_fail_check(sluice, binary_is_haproxy, lines, bad, message,
                                       haproxy):
    """Each bad line is an alert naming file:line, section and what is wrong."""
    text = (sluice.base(mode="http") + "userlist L\n" + "".join(f"    {ln}\n" for ln in lines) +
            FRONTEND.format(port=sluice.port("fe"), line="http-request auth"))
    line_no = text.count("\n", 0, text.index("userlist L\n")) + 1 + bad
    result = sluice.check(text, name="t.cfg")
    out = result.stdout + result.stderr
    if binary_is_haproxy:
        if haproxy is None:
            assert result.returncode == 0, out
        else:
            assert result.returncode != 0 and haproxy in out, out
        return
    assert result.returncode != 0
    assert f"[t.cfg:{line_no}] : userlist 'L' : " in out and message in out, out


def test_auth_is_a_request_action_only(sluice, binary_is_haproxy):
    text = sluice.base(mode="http") + FRONTEND.format(port=sluice.port("fe"),
                                                      line="http-response auth")
    result = sluice.check(text, name="t.cfg")
    assert result.returncode != 0
    if not binary_is_haproxy:
        assert "'auth' is not a valid http-response action" in result.stderr
