"""http-request normalize-uri, end to end: the request line the backend receives after each
normalizer, the 400 a strict percent normalizer answers (and the connection it closes), rules and
routing that read the normalized target, and the configurations `-c` refuses.

Every test passes against Debian's haproxy 2.6.12 (`--sluice=/usr/sbin/haproxy`), where the
action is experimental: each config says `expose-experimental-directives` first. Targets with a
'#' need `option accept-invalid-http-request`, which haproxy 2.6 asks for to let one in.
"""

import pytest

from conftest import http_connect

EXPERIMENTAL = "expose-experimental-directives"


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def proxied(sluice, backends, frontend, backend=""):
    """Frontend `fe` with the `frontend` lines in front of one HTTP backend `web`; returns it."""
    web = backends.http("web")
    sluice.start(f"{sluice.base(mode='http', extra_global=EXPERIMENTAL)}frontend fe\n"
                 f"    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}"
                 f"    default_backend web\nbackend web\n{indent(backend)}"
                 f"    server web 127.0.0.1:{web.port}\n")
    return web


def send(sluice, target, headers=()):
    """One GET of `target` on a new connection; its response."""
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", target, headers=list(headers))
        return c.response()


def targets_seen(sluice, web, targets):
    """Sends each target in turn (each must get a 200) and returns what the backend saw."""
    for t in targets:
        assert send(sluice, t).status == 200, t
    web.wait_requests(len(targets))
    return [r.target for r in web.requests]


# What each normalizer makes of a target, as haproxy 2.6.12 forwards it.
CASES = {
    "path-merge-slashes": [
        ("//", "/"),
        ("/foo//bar", "/foo/bar"),
        ("///a///b//", "/a/b/"),
        ("/a//b?x//y", "/a/b?x//y"),
        ("http://sluice.test//a//b?c//d", "http://sluice.test/a/b?c//d"),
    ],
    "path-strip-dot": [
        ("/.", "/"),
        ("/./bar/", "/bar/"),
        ("/a/./a", "/a/a"),
        ("/a/.", "/a/"),
        ("/.well-known/", "/.well-known/"),
        ("/a/./b?x/./y", "/a/b?x/./y"),
        ("http://sluice.test/./a", "http://sluice.test/a"),
    ],
    "path-strip-dotdot": [
        ("/foo/../", "/"),
        ("/foo/../bar/", "/bar/"),
        ("/foo/bar/../", "/foo/"),
        ("/../bar/", "/../bar/"),
        ("/bar/../../", "/../"),
        ("/foo//../", "/foo/"),
        ("/foo/%2E%2E/", "/foo/%2E%2E/"),
        ("/..", "/../"),
        ("/a/b/..", "/a/"),
        ("/a/../b?x/../y", "/b?x/../y"),
        ("http://sluice.test/a/../b", "http://sluice.test/b"),
    ],
    "path-strip-dotdot full": [
        ("/../bar/", "/bar/"),
        ("/bar/../../", "/"),
        ("/..", "/"),
        ("/a/b/../../../c", "/c"),
        ("http://sluice.test/../x", "http://sluice.test/x"),
    ],
    "percent-decode-unreserved": [
        ("/%61dmin", "/admin"),
        ("/foo%3Fbar=baz", "/foo%3Fbar=baz"),
        ("/%%36%36", "/%66"),
        ("/%ZZ", "/%ZZ"),
        ("/%2f", "/%2f"),
        ("/%7e%2D%2e%5F%30", "/~-._0"),
        ("/?q=%61%zz", "/?q=a%zz"),
        ("http://sluice.test/%41", "http://sluice.test/A"),
    ],
    "percent-decode-unreserved strict": [
        ("/%61dmin", "/admin"),
        ("/%2f", "/%2f"),
    ],
    "percent-to-uppercase": [
        ("/%6f", "/%6F"),
        ("/%zz", "/%zz"),
        ("/%2f?a=%3d", "/%2F?a=%3D"),
        ("/%%6f", "/%%6F"),
    ],
    "percent-to-uppercase strict": [
        ("/%6f", "/%6F"),
        ("/%2F", "/%2F"),
    ],
    "query-sort-by-name": [
        ("/?c=3&a=1&b=2", "/?a=1&b=2&c=3"),
        ("/?aaa=3&a=1&aa=2", "/?a=1&aa=2&aaa=3"),
        ("/?a=3&b=4&a=1&b=5&a=2", "/?a=3&a=1&a=2&b=4&b=5"),
        ("/?b=1&&a=2", "/?&a=2&b=1"),
        ("/?b&a&", "/?a&b"),
        ("/?B=1&a=2&_=3", "/?B=1&_=3&a=2"),
        ("/p//x?y", "/p//x?y"),
        ("http://sluice.test/p?b&a", "http://sluice.test/p?a&b"),
    ],
}


@pytest.mark.parametrize("normalizer", list(CASES))
def test_normalizer_rewrites_the_request_line(sluice, backends, normalizer):
    """Each normalizer as the backend sees it: only the part it owns changes (the path for the
    path normalizers, path and query for the percent ones, the query for query-sort), and the
    scheme://authority of an absolute-form target stays."""
    web = proxied(sluice, backends, f"http-request normalize-uri {normalizer}")
    cases = CASES[normalizer]
    assert targets_seen(sluice, web, [t for t, _ in cases]) == [want for _, want in cases]


def test_fragment_normalizers(sluice, backends):
    """fragment-strip drops the first '#' and all after it, query included; fragment-encode
    turns every '#' into %23. A condition chooses between them here."""
    web = proxied(sluice, backends, """
        option accept-invalid-http-request
        http-request normalize-uri fragment-strip if { req.hdr(x-n) strip }
        http-request normalize-uri fragment-encode if { req.hdr(x-n) encode }
    """)
    cases = [("strip", "/#foo", "/"), ("strip", "/a?c=1#frag", "/a?c=1"),
             ("strip", "/a#b?c=1", "/a"), ("encode", "/#foo", "/%23foo"),
             ("encode", "/a#b?c=1#d", "/a%23b?c=1%23d"), ("none", "/a#b", "/a#b")]
    for n, target, _ in cases:
        assert send(sluice, target, headers=[("X-N", n)]).status == 200
    web.wait_requests(len(cases))
    assert [r.target for r in web.requests] == [want for _, _, want in cases]


@pytest.mark.parametrize("normalizer", ["percent-decode-unreserved strict",
                                        "percent-to-uppercase strict"])
@pytest.mark.parametrize("target", ["/%zz", "/%%36%36", "/a%", "/%4", "/ok?q=%G1"])
def test_strict_answers_400_and_closes(sluice, backends, normalizer, target):
    """A '%' not followed by two hex digits, anywhere in path or query: 400, the connection
    closes (a request pipelined behind it is not answered), and the backend sees nothing."""
    web = proxied(sluice, backends, f"""
        http-request normalize-uri {normalizer}
        http-request set-header X-Seen yes
    """)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", target)
        c.request("GET", "/next")
        resp = c.response()
        assert resp.status == 400
        assert c.wait_closed() == b""
    assert send(sluice, "/%41").status == 200  # the frontend still serves
    web.wait_requests(1)
    assert [r.target for r in web.requests] == ["/A" if "decode" in normalizer else "/%41"]


def test_normalized_target_is_what_later_rules_and_routing_read(sluice, backends):
    """Rules run in order on the rewritten target: an ACL on the path sees the normalized one
    (so "/%61dmin/./x" cannot slip past a deny on /admin), use_backend routes on it, and the
    backend's own rules normalize further."""
    web = backends.http("web")
    api = backends.http("api")
    sluice.start(f"""{sluice.base(mode='http', extra_global=EXPERIMENTAL)}
frontend fe
    bind 127.0.0.1:{sluice.port('fe')}
    http-request normalize-uri percent-decode-unreserved
    http-request normalize-uri path-merge-slashes
    http-request normalize-uri path-strip-dot
    http-request normalize-uri path-strip-dotdot full
    http-request deny if {{ path_beg /admin }}
    use_backend api if {{ path_beg /api/ }}
    default_backend web
backend web
    server web 127.0.0.1:{web.port}
backend api
    http-request normalize-uri query-sort-by-name
    http-request normalize-uri percent-to-uppercase
    http-request set-header X-Path %[path]
    server api 127.0.0.1:{api.port}
""")
    assert send(sluice, "/%61dmin/./x").status == 403
    assert send(sluice, "/x/../admin").status == 403
    assert send(sluice, "//static/./%7euser/../a.css").status == 200
    assert send(sluice, "/%61pi//v1/../v2?z=%2f&a=1").status == 200
    web.wait_requests(1)
    api.wait_requests(1)
    assert [r.target for r in web.requests] == ["/static/a.css"]
    [req] = api.requests
    assert req.target == "/api/v2?a=1&z=%2F"
    assert req.header("x-path") == "/api/v2"


def test_fragment_encode_outgrowing_the_buffer_fails_the_rewrite(sluice, backends):
    """A target that fragment-encode makes larger than a buffer cannot be rewritten: 500, as
    for any failed rewrite, and the connection is kept for the next request."""
    web = proxied(sluice, backends, """
        option accept-invalid-http-request
        http-request normalize-uri fragment-encode
    """)
    with http_connect(sluice.port("fe")) as c:
        c.request("GET", "/" + "#" * 6000)
        assert c.response().status == 500
        resp = c.roundtrip("GET", "/a#b")
        assert resp.status == 200
    web.wait_requests(1)
    assert [r.target for r in web.requests] == ["/a%23b"]


# ---------------------------------------------------------------------------------------------
# Bad configurations


@pytest.mark.parametrize("line,message", [
    ("http-request normalize-uri", "missing argument <normalizer>"),
    ("http-request normalize-uri path-strip-dotdt", "unknown normalizer 'path-strip-dotdt'"),
    ("http-request normalize-uri path-strip-dotdot fullx", "unknown argument 'fullx'"),
    ("http-request normalize-uri percent-to-uppercase full", "unknown argument 'full'"),
    ("http-request normalize-uri query-sort-by-name strict", "unexpected 'strict'"),
    ("http-request normalize-uri path-strip-dot extra if TRUE", "unexpected 'extra'"),
    ("http-response normalize-uri path-strip-dot", "not a valid http-response action"),
])
def test_bad_normalizers_fail_check_with_file_and_line(sluice, binary_is_haproxy, line,
                                                       message):
    """`-c` refuses an unknown normalizer, an option it does not take, an extra word, and the
    action outside http-request, naming file:line (haproxy words its messages its own way)."""
    text = (f"{sluice.base(mode='http', extra_global=EXPERIMENTAL)}frontend fe\n"
            f"    bind 127.0.0.1:{sluice.port('fe')}\n    {line}\n    default_backend web\n"
            f"backend web\n")
    line_no = text[:text.index(line)].count("\n") + 1
    result = sluice.check(text, name="bad.cfg")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"bad.cfg:{line_no}]" in out
    if not binary_is_haproxy:
        assert message in out


def test_experimental_without_the_global_directive_fails_check(sluice, binary_is_haproxy):
    """Without `expose-experimental-directives` before it, the rule is refused; with it, the
    same config is valid."""
    rules = ("frontend fe\n    bind 127.0.0.1:{port}\n"
             "    http-request normalize-uri path-strip-dotdot full\n"
             "    default_backend web\nbackend web\n")
    text = sluice.base(mode="http") + rules.format(port=sluice.port("fe"))
    result = sluice.check(text, name="bad.cfg")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    line_no = text[:text.index("normalize-uri")].count("\n") + 1
    assert f"bad.cfg:{line_no}]" in out and "expose-experimental-directives" in out
    good = sluice.base(mode="http", extra_global=EXPERIMENTAL) + rules.format(
        port=sluice.port("fe"))
    ok = sluice.check(good, name="good.cfg")
    assert ok.returncode == 0, ok.stdout + ok.stderr
