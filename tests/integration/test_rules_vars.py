"""Variables end to end: set-var's conditions (`set-var(txn.x,ifnotexists,ifgt)`, action and
converter), `set-var-fmt` in http and tcp rules, `var(name,default)`, and the global section's
`set-var` / `set-var-fmt` (proc variables set once, when the config is read).

What these tests pin is HAProxy 2.6's behaviour; every test passes against Debian's haproxy
(`--sluice=/usr/sbin/haproxy`).
"""

from conftest import http_connect


def indent(text):
    return "".join(f"    {line.strip()}\n" for line in text.splitlines() if line.strip())


def body(sluice, frontend, global_lines="", path="/"):
    """One GET to a frontend made of `frontend` lines (ending in a `return`): its body."""
    text = (f"{sluice.base(mode='http', extra_global=global_lines)}frontend fe\n"
            f"    bind 127.0.0.1:{sluice.port('fe')}\n{indent(frontend)}")
    sluice.start(text)
    with http_connect(sluice.port("fe")) as c:
        resp = c.roundtrip("GET", path)
        assert resp.status == 200
        return resp.body.decode()


def test_set_var_conditions(sluice):
    """Each condition, as HAProxy 2.6 applies it: exists/set (a proc variable exists from the
    config on), empty (strings only), gt/lt (the variable compared with the new value, true
    unless both are integers); the converter takes them too."""
    got = body(sluice, """
        http-request set-var(txn.a) int(5)
        http-request set-var(txn.a,ifgt) int(3)
        http-request set-var(txn.b) int(5)
        http-request set-var(txn.b,iflt) int(3)
        http-request set-var(txn.c,ifexists) int(1)
        http-request set-var(txn.d,ifnotexists) int(1)
        http-request set-var(txn.d,ifnotexists) int(2)
        http-request set-var(txn.e,ifempty) str()
        http-request set-var(txn.f,ifnotempty) str()
        http-request set-var(txn.g,ifempty) int(0)
        http-request set-var(txn.h) str(x)
        http-request unset-var(txn.h)
        http-request set-var(txn.h,ifset) str(y)
        http-request set-var(proc.p,ifnotexists) int(1)
        http-request set-var(proc.q,ifnotset) int(1)
        http-request set-var(txn.j) str(abc)
        http-request set-var(txn.j,ifgt) str(b)
        http-request set-var(txn.l) str(zz)
        http-request set-var(txn.m) str(q),set-var(txn.l,ifnotempty)
        http-request set-var(txn.n) str(),set-var(txn.l,ifnotempty)
        http-request return status 200 content-type text/plain lf-string "a=%[var(txn.a)] b=%[var(txn.b)] c=%[var(txn.c)] d=%[var(txn.d)] e=<%[var(txn.e)]>%[var(txn.e),length] f=%[var(txn.f)] g=%[var(txn.g)] h=%[var(txn.h)] p=%[var(proc.p)] q=%[var(proc.q)] j=%[var(txn.j)] l=%[var(txn.l)]"
    """)
    assert got == "a=3 b=5 c= d=1 e=<>0 f= g= h= p= q=1 j=b l=q"


def test_set_var_fmt_and_var_default(sluice):
    """`set-var-fmt` at the connection stage (a sess variable), in http-request rules, with a
    condition; `var(name,default)` gives the default, as a string, for an unset variable."""
    got = body(sluice, """
        tcp-request connection set-var-fmt(sess.peer) "%[src]/%[dst_port]"
        tcp-request session set-var-fmt(sess.greeting,ifnotexists) "hello"
        http-request set-var-fmt(txn.path) "path=%[path]"
        http-request set-var-fmt(txn.path,ifnotexists) "never"
        http-request return status 200 content-type text/plain lf-string "%[var(sess.peer)] %[var(sess.greeting)] %[var(txn.path)] %[var(txn.none,dflt)]"
    """, path="/x")
    assert got == f"127.0.0.1/{sluice.port('fe')} hello path=/x dflt"


def test_global_set_var_and_set_var_fmt(sluice):
    """The global section sets proc variables once, from what needs no traffic, in order (a
    later line reads an earlier one); rules read them."""
    got = body(sluice, """
        http-request return status 200 content-type text/plain lf-string "%[var(proc.state)] %[var(proc.threshold)] %[var(proc.label)]"
    """, global_lines="""
        set-var proc.state str(primary)
        set-var proc.prio int(100)
        set-var proc.threshold int(200),sub(proc.prio)
        set-var-fmt proc.label "prio-%[var(proc.prio)]"
    """)
    assert got == "primary 100 prio-100"


def test_global_set_var_errors(sluice):
    """Only proc variables, and only expressions that need no traffic, fail `-c` in both."""
    for line in ("set-var txn.x int(1)", "set-var proc.x req.hdr(host)", "set-var proc.x"):
        text = sluice.base(mode="http", extra_global=line)
        assert sluice.check(text).returncode != 0, line
