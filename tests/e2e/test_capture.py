# SPDX-License-Identifier: BSD-2-Clause
"""The default capture captures what fits and never fails.
A plan holds at most 96 operations and 4 KiB of data; a handler's
`(w http.ResponseWriter, r *http.Request)` needs more when every string,
interface, map and pointee of the request is followed. The code before this
refused such functions ("r: too much to capture in one probe"), the
documented `serverHandler.ServeHTTP` example and the plainest handler
one-liner among them, and a glob failed as a whole when one function did.
Now every value's own bytes come first, then its indirections one level after
another (strings, interfaces, pointees, the rest) while they fit; what is left
out prints as `...` (a pointer not followed as its address), is null in JSON
and luprobe.notcaptured in Lua. An explicit request (a field path, a
predicate operand) that cannot fit is still an error naming the function and
the value."""
import json
import os
import re
import signal
import socket

from lib import (SCRIPTS, expect, expect_eq, free_port, gobin, luprobe, run)

COMPUTEE = "computee"
WEBAPP = "webapp"
ADDR = r"0x[0-9a-f]+"


def _serve(binary, *args):
    """luprobe args -- binary -addr 127.0.0.1:PORT, once the server listens."""
    port = free_port()
    lp = luprobe(*args, "--", binary, "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ", timeout=30)
    return lp, port


def _request(port, method, target, body=b""):
    """One HTTP/1.1 request with exactly the headers User-Agent and Connection (and
    Content-Length with a body); returns the status line."""
    head = (f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: t\r\n"
            f"Connection: close\r\n")
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    return got.split(b"\r\n", 1)[0].decode()


def _stop(lp):
    lp.signal(signal.SIGINT)
    return lp.wait(20)


def test_handler_closure_one_liner_shows_the_request():
    """probe{func="main.main.func1"} on computee's /e handler: the old code said "r: too
    much to capture in one probe" and exited 1."""
    lp, port = _serve(gobin(COMPUTEE), "-q", "-e", 'probe{ func = "main.main.func1" }')
    expect_eq(_request(port, "GET", "/e?iters=5"), "HTTP/1.1 200 OK", "response")
    line = lp.wait_line(r"^main\.main\.func1\(").string
    expect_eq(_stop(lp), 0, "exit code")
    want = (r"main\.main\.func1\(w=\*http\.response\(ADDR\), r=&\{Method:\"GET\", "
            r"URL:\(\*net/url\.URL\)\(ADDR\), Proto:\"HTTP/1\.1\", ProtoMajor:1, ProtoMinor:1, "
            r"Header:net/http\.Header\{len:2\}, Body:http\.noBody\(ADDR\), GetBody:nil, "
            r"ContentLength:0, TransferEncoding:\[\]string\(nil\), Close:true, "
            rf"Host:\"127\.0\.0\.1:{port}\", Form:net/url\.Values\(nil\), "
            r"PostForm:net/url\.Values\(nil\), MultipartForm:nil, "
            r"Trailer:net/http\.Header\(nil\), RemoteAddr:\"127\.0\.0\.1:\d+\", "
            r"RequestURI:\"/e\?iters=5\", TLS:nil, Cancel:<-chan struct \{\}\(nil\), "
            r"Response:nil, ctx:\*context\.cancelCtx\(ADDR\)\}\)  goroutine \d+")
    expect(re.fullmatch(want.replace("ADDR", ADDR), line), line)
    expect_eq(lp.stderr(), "", "stderr")


def test_documented_where_example_on_the_server_handler():
    """docs/lua-api.md's probe on net/http.serverHandler.ServeHTTP: the old code said "rw:
    too much to capture in one probe". One call of three passes the predicate; the request
    is shown as far as the plan has room, with the predicate's operands and room for it."""
    script = ('probe{ func = "net/http.serverHandler.ServeHTTP", '
              'where = \'req.Method == "POST" and prefix(req.URL.Path, "/api/")\' }')
    lp, port = _serve(gobin(COMPUTEE), "-q", "-e", script)
    expect_eq(_request(port, "GET", "/api/v1/items"), "HTTP/1.1 404 Not Found", "GET /api")
    expect_eq(_request(port, "POST", "/e?iters=3", b"x"), "HTTP/1.1 200 OK", "POST /e")
    expect_eq(_request(port, "POST", "/api/v1/items?x=1", b"hello"),
              "HTTP/1.1 404 Not Found", "POST /api")
    line = lp.wait_line(r"^net/http\.serverHandler\.ServeHTTP\(").string
    expect_eq(_stop(lp), 0, "exit code")
    events = [ln for ln in lp.lines if ln.startswith("net/http.")]
    expect_eq(len(events), 1, f"one event: {events}")
    # what the plan had room for, and what it left out ("...")
    for part in (r'sh=\{srv:&\{Addr:"", Handler:nil, TLSConfig:\(\*crypto/tls\.Config\)\(ADDR\), ',
                 r'rw=\*http\.response\(ADDR\), req=&\{Method:"POST", '
                 r'URL:\(\*net/url\.URL\)\(ADDR\), Proto:"HTTP/1\.1", ProtoMajor:1, ProtoMinor:1, '
                 r'Header:\.\.\., Body:\.\.\., GetBody:nil, ContentLength:5, '
                 r'TransferEncoding:\[\]string\(nil\), Close:true, '
                 rf'Host:"127\.0\.0\.1:{port}", ',
                 r'RequestURI:"/api/v1/items\?x=1", TLS:nil, '):
        expect(re.search(part.replace("ADDR", ADDR), line), f"{part} in {line}")
    expect("?" not in line.replace('"/api/v1/items?x=1"', ""), f"nothing unreadable: {line}")


def test_left_out_values_are_null_in_json_and_notcaptured_in_lua():
    """serverHandler.ServeHTTP without a predicate: the request's Header map is among what
    does not fit."""
    script = ('local fmt, json = require("luprobe.fmt"), require("luprobe.json") '
              'probe{ func = "net/http.serverHandler.ServeHTTP" }:on_event(function(e) '
              'local r = e.args.req '
              'print(r.Method, r.RequestURI, r.Header == luprobe.notcaptured, tostring(r.Header), '
              'fmt.value(r.Header), json.encode(r.Header), r.Body.type) '
              'end)')
    lp, port = _serve(gobin(COMPUTEE), "-q", "-e", script)
    _request(port, "POST", "/e?iters=3", b"x")
    lp.wait_line(r"^POST\t")
    expect_eq(_stop(lp), 0, "exit code")
    expect_eq([ln for ln in lp.lines if ln.startswith("POST")],
              ["POST\t/e?iters=3\ttrue\t...\t...\tnull\t*http.body"], "Lua values")
    lp, port = _serve(gobin(COMPUTEE), "-q", "--json", "-e",
                      'probe{ func = "net/http.serverHandler.ServeHTTP" }')
    _request(port, "POST", "/e?iters=3", b"x")
    line = lp.wait_line(r'^\{"probe"').string
    expect_eq(_stop(lp), 0, "exit code")
    req = json.loads(line)["args"]["req"]
    expect_eq((req["Method"], req["RequestURI"], req["ContentLength"], req["Header"],
               req["Body"]["type"]), ("POST", "/e?iters=3", 1, None, "*http.body"),
              "JSON values")


def test_a_glob_captures_what_fits_of_each_function():
    """The old code failed the whole glob: "r: too much to capture in one probe"."""
    lp, port = _serve(gobin(WEBAPP), "-q", "-e",
                      'probe{ func = "net/http.*ServeHTTP", ret = true }')
    expect_eq(_request(port, "GET", "/users/1"), "HTTP/1.1 200 OK", "response")
    lp.wait_line(r"^net/http\.serverHandler\.ServeHTTP\(")
    expect_eq(_stop(lp), 0, "exit code")
    events = [ln for ln in lp.lines if ln.startswith("net/http.")]
    expect_eq([re.match(r"(.*?ServeHTTP)\(", ln).group(1) for ln in events],
              ["net/http.HandlerFunc.ServeHTTP", "net/http.(*ServeMux).ServeHTTP",
               "net/http.serverHandler.ServeHTTP"], "events, innermost first")
    expect(re.match(r"net/http\.HandlerFunc\.ServeHTTP\(f=main\.handleUser, "
                    r"w=\*http\.response\(0x[0-9a-f]+\), r=&\{Method:\"GET\", ", events[0]),
           events[0])
    expect('RequestURI:"/users/1"' in events[2] and "Header:..." in events[2], events[2])
    expect_eq(lp.stderr(), "", "stderr")


def test_an_explicit_request_that_cannot_fit_names_the_function_and_the_value():
    paths = ", ".join(['"r.Method"', '"r.Proto"', '"r.Host"', '"r.RemoteAddr"',
                       '"r.RequestURI"'] * 4)
    code, lines, err = run("-e", f'probe{{ func = "main.main.func1", args = {{ {paths} }} }}',
                           "--", gobin(COMPUTEE))
    expect_eq((code, lines), (1, []), "exit code and output")
    expect_eq(err.splitlines(), [
        "luprobe: (command line):1: main.main.func1: r.RequestURI: too much to capture in one "
        "probe (at most 96 operations and 4096 bytes); capture fewer values or lower "
        "strcap/elems"], "stderr")


def test_errors_script_on_a_dwarf_and_a_stripped_build():
    """scripts/errors.lua over database/sql: the old code said "~r0: too much to capture in
    one probe" on the DWARF build. On a stripped build nothing says which result is an
    error: one message says so."""
    code, lines, err = run("-q", os.path.join(SCRIPTS, "errors.lua"), "-a", "pkg=database/sql",
                           "--", gobin(WEBAPP), "-workload", "3")
    expect_eq(code, 0, f"exit code ({err})")
    i = lines.index("non-nil errors by function in database/sql:")
    expect_eq(sorted(ln.split() for ln in lines[i + 1:] if ln.startswith("  ")), [
        ["database/sql.(*DB).QueryContext", "3"], ["database/sql.(*DB).putConn", "3"],
        ["database/sql.(*DB).query", "3"], ["database/sql.(*DB).queryDC", "3"],
        ["database/sql.(*Row).Scan", "6"], ["database/sql.(*driverConn).releaseConn", "3"],
        ["database/sql.ctxDriverQuery", "3"]], "non-nil errors by function")
    expect(re.fullmatch(r"luprobe: database/sql\.\*: \d+ of \d+ functions skipped: "
                        r"database/sql\.\S+: where: unknown name 'err' at column 1 "
                        r"\(-v lists them all\)\n", err), err)
    stripped = gobin(WEBAPP, "stripped")
    code, lines, err = run("-q", os.path.join(SCRIPTS, "errors.lua"), "-a",
                           "pkg=luprobe.test/webapp/store", "--", stripped, "-workload", "3")
    expect_eq((code, lines), (1, []), "exit code and output on the stripped build")
    expect_eq(err.splitlines(), [
        f"luprobe: {SCRIPTS}/errors.lua:14: luprobe.test/webapp/store.Get: where: unknown name "
        f"'err' at column 1 ({stripped} has no DWARF to name parameters and results: declare "
        'them, e.g. args = { {"n", "int"} }, ret = { "string", "error" })'],
        "stderr on the stripped build")


def test_requests_example_script():
    lp, port = _serve(gobin(COMPUTEE), "-q", os.path.join(SCRIPTS, "requests.lua"))
    expect_eq(_request(port, "GET", "/api/v1/items"), "HTTP/1.1 404 Not Found", "GET /api")
    expect_eq(_request(port, "POST", "/api/v1/items?x=1", b"hello"),
              "HTTP/1.1 404 Not Found", "POST /api")
    lp.wait_line(r"^  net/http\.serverHandler\.ServeHTTP\(")
    expect_eq(_stop(lp), 0, "exit code")
    out = [ln for ln in lp.lines if not ln.startswith("listening")]
    expect_eq(len(out), 2, out)
    expect(re.fullmatch(r"POST /api/v1/items\?x=1 from 127\.0\.0\.1:\d+, 5 bytes", out[0]), out)
    expect('req=&{Method:"POST", ' in out[1] and "Header:..., Body:..., " in out[1], out[1])
