# SPDX-License-Identifier: BSD-2-Clause
"""luprobe.http: the status of every request a net/http
server answers, over HTTP/1.1 and HTTP/2, driven by real curl against
tests/go/https (TLS on loopback, ALPN), DWARF and stripped builds."""
import os
import re
import signal
import subprocess
import tempfile

from lib import (LUPROBE, Proc, SCRIPTS, Server, Skip, each_toolchain, expect, expect_eq, free_port,
                 gobin, luprobe, release_bin, run, write_script)

PANIC = "the handler panicked or called runtime.Goexit: net/http cut the response off"
HIJACK = "the handler hijacked the connection"

# (method, path, status over HTTP/1.1, over HTTP/2, note over HTTP/1.1, over HTTP/2);
# the statuses are what curl receives, None where no response comes
CASES = [
    ("GET", "/ok", 200, 200, None, None),
    ("POST", "/created", 201, 201, None, None),
    ("GET", "/missing", 404, 404, None, None),
    ("DELETE", "/fail", 500, 500, None, None),
    ("GET", "/implicit", 200, 200, None, None),
    ("PUT", "/empty", 200, 200, None, None),
    ("GET", "/late", 200, 200, None, None),
    ("GET", "/hints", 202, 202, None, None),
    ("PATCH", "/other", 202, 202, None, None),
    ("GET", "/panic", None, None, PANIC, PANIC),
    ("POST", "/invalid", None, None, PANIC, PANIC),
    # over HTTP/1.1 the handler writes "200 OK" itself; HTTP/2 cannot hijack
    ("GET", "/hijack", None, 501, HIJACK, None),
]

RECORDS = """
local http = require "luprobe.http"
http.requests{ where = %s, on_request = function(r)
	local lat = r.latency == nil and "none" or (math.type(r.latency) == "integer" and r.latency > 0
		and "ns" or "bad:" .. tostring(r.latency))
	printf("REQ %%s %%s %%s %%s %%s %%s\\n", r.method, r.path, r.proto, r.status or "-", lat,
		r.note or "-")
	io.stdout:flush()
end }
"""


def _curl(port, proto, urls, method="GET", host=None, local_port=None, headers=()):
    """curl the paths on one connection: [(http_code, http_version)], curl's exit code."""
    argv = ["curl", "-sk", "--max-time", "10", "--http1.1" if proto == "1.1" else "--http2",
            "-X", method, "-w", "%{http_code} %{http_version}\\n", *headers]
    argv += ["-H", f"Host: {host}"] if host else []
    argv += ["--local-port", str(local_port)] if local_port else []
    for u in urls:
        argv += ["-o", "/dev/null", f"https://127.0.0.1:{port}{u}"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return [tuple(ln.split()) for ln in p.stdout.splitlines()], p.returncode


def _server(variant, where="nil", script=None, opts=("-q",)):
    binary = gobin("https", variant)
    d = tempfile.mkdtemp()
    script = write_script(d, "records.lua", script or RECORDS % where)
    port = free_port()
    lp = luprobe(*opts, script, "--", binary, "-addr", f"127.0.0.1:{port}")
    lp.wait_line("^listening on ", timeout=20)
    return lp, port


def _quit(lp, port):
    got, rc = _curl(port, "2", ["/quit"])
    expect_eq((got, rc), ([("200", "2")], 0), "/quit")
    expect_eq(lp.wait(20), 0, f"exit code ({lp.stderr()[-800:]})")


@each_toolchain
def test_http_module_reports_the_status_of_every_http1_and_http2_request():
    if not os.path.exists("/usr/bin/curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    for variant in ("default", "stripped"):
        lp, port = _server(variant)
        want = []
        for proto in ("1.1", "2"):
            for method, path, s1, s2, n1, n2 in CASES:
                status, note = (s1, n1) if proto == "1.1" else (s2, n2)
                got, rc = _curl(port, proto, [path], method)
                # what the client received, so the records are checked against the wire
                if status is None and path != "/hijack":
                    expect_eq(rc, 52 if proto == "1.1" else 92, f"{variant} {proto} {path}: curl")
                    expect_eq(got, [("000", "0")], f"{variant} {proto} {path}: curl")
                else:
                    wire = 200 if status is None else status
                    expect_eq((got, rc), ([(str(wire), proto)], 0),
                              f"{variant} {proto} {path}: curl")
                line = lp.wait_line(r"^REQ ", timeout=10, start=len(lp.lines)).string
                want_line = (f"REQ {method} {path} HTTP/{'1.1' if proto == '1.1' else '2.0'} "
                             f"{status or '-'} {'none' if note == PANIC else 'ns'} {note or '-'}")
                expect_eq(line, want_line, f"{variant}: record of {method} {path} over {proto}")
                want.append(want_line)
        _quit(lp, port)
        got = [ln for ln in lp.lines if ln.startswith("REQ ")]
        expect_eq(got[:-1], want, f"{variant}: every record, once")
        expect_eq(len(got), 2 * len(CASES) + 1, f"{variant}: number of records")


@each_toolchain
def test_http_statuses_of_filtered_requests_on_kept_alive_connections():
    """A request the kernel filtered out must not lend its status to the next
    request on the same connection (HTTP/1.1 keep-alive serves both on one
    goroutine), and over HTTP/2 every stream gets its own."""
    if not os.path.exists("/usr/bin/curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    lp, port = _server("stripped", where="'req.URL.Path == \"/missing\"'")
    paths = ["/ok", "/missing", "/created", "/missing", "/late"]
    for proto in ("1.1", "2"):
        got, rc = _curl(port, proto, paths)
        v = "1.1" if proto == "1.1" else "2"
        expect_eq((got, rc), ([("200", v), ("404", v), ("201", v), ("404", v), ("200", v)], 0),
                  f"{proto}: curl")
    _quit(lp, port)
    got = [ln for ln in lp.lines if ln.startswith("REQ ")]
    expect_eq(got, [f"REQ GET /missing HTTP/{p} 404 ns -" for p in ("1.1", "1.1", "2.0", "2.0")],
              "only the filtered path, with its own status")


@each_toolchain
def test_http_module_filters_on_request_fields_at_the_binarys_offsets():
    """where on req.Host, a field of http.Request beyond the prefix the module
    once declared (Method, URL, Proto): the stripped build's own type
    descriptors place it, and only the requests whose Host header names the
    host are reported, with the method and path the client sent."""
    if not os.path.exists("/usr/bin/curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    for variant in ("stripped", "default"):
        lp, port = _server(variant, where="'req.Host == \"b.example\" and req.Method ~= \"GET\"'")
        sent = [("a.example", "POST", "/created", 201), ("b.example", "POST", "/created", 201),
                ("b.example", "GET", "/ok", 200), ("b.example", "DELETE", "/fail", 500),
                ("a.example", "DELETE", "/fail", 500)]
        for proto in ("1.1", "2"):
            for host, method, path, status in sent:
                got, rc = _curl(port, proto, [path], method, host=host)
                expect_eq((got, rc), ([(str(status), proto)], 0), f"{variant} {host} {path}")
        _quit(lp, port)
        expect_eq([ln for ln in lp.lines if ln.startswith("REQ ")],
                  [f"REQ {m} {p} HTTP/{v} {s} ns -" for v in ("1.1", "2.0")
                   for m, p, s in (("POST", "/created", 201), ("DELETE", "/fail", 500))],
                  f"{variant}: the requests to b.example that are not GETs")


HEADERS = """
local http = require "luprobe.http"
http.requests{ headers = { "x-request-id", "Traceparent", "X-Absent", "X-Filler-40" },
	where = %s, on_request = function(r)
	local h = {}
	for _, k in ipairs{ "X-Request-Id", "Traceparent", "X-Absent", "X-Filler-40", "x-request-id" } do
		h[#h + 1] = k .. "=" .. tostring(r.headers[k])
	end
	printf("REQ %%s %%s %%s\\n", r.path, r.proto, table.concat(h, " "))
	io.stdout:flush()
end }
"""
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@each_toolchain
def test_http_request_headers_over_http1_and_http2():
    """headers = {...}: the first value of each named header, by its canonical
    name, read from r.Header in the kernel; nil when the request lacks it,
    also among 40 other headers, and when the request has more header fields
    than the kernel scans (300). HTTP/1.1 and HTTP/2 (lower-case on the wire),
    DWARF and stripped builds, with a where beside them."""
    if not os.path.exists("/usr/bin/curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    known = ["-H", "X-Request-Id: req-7", "-H", "X-Request-Id: second", "-H",
             f"traceparent: {TRACEPARENT}"]
    many = [a for i in range(1, 41) for a in ("-H", f"X-Filler-{i}: f{i}")]
    lots = [a for i in range(1, 301) for a in ("-H", f"X-Lot-{i}: {i}")]
    sent = [("/ok", known), ("/created", []), ("/implicit", known + many), ("/late", known + lots)]
    for variant in ("default", "stripped"):
        lp, port = _server(variant, script=HEADERS % "'req.Method == \"GET\"'")
        want = []
        for proto in ("1.1", "2"):
            for path, extra in sent:
                argv = ["curl", "-sk", "--max-time", "10", "--http1.1" if proto == "1.1" else
                        "--http2", "-o", "/dev/null", "-w", "%{http_code}", *extra,
                        f"https://127.0.0.1:{port}{path}"]
                got = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
                expect_eq(got, "201" if path == "/created" else "200", f"{variant} {path}: curl")
                lp.wait_line(r"^REQ ", timeout=10, start=len(lp.lines))
                rid, tp = ("req-7", TRACEPARENT) if extra and extra is not lots else ("nil", "nil")
                if path == "/late":
                    rid, tp = "nil", "nil"  # 300 header fields: more than the kernel scans
                filler = "f40" if path == "/implicit" else "nil"
                want.append(f"REQ {path} HTTP/{'1.1' if proto == '1.1' else '2.0'} "
                            f"X-Request-Id={rid} Traceparent={tp} X-Absent=nil "
                            f"X-Filler-40={filler} x-request-id=nil")
        _quit(lp, port)
        expect_eq([ln for ln in lp.lines if ln.startswith("REQ ") and "/quit" not in ln], want,
                  f"{variant}: the headers of every request")


def test_http_requests_script_shows_chosen_headers():
    if not os.path.exists("/usr/bin/curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    binary = gobin("https", "stripped")
    port = free_port()
    lp = luprobe("-q", os.path.join(SCRIPTS, "http-requests.lua"), "-a",
                 "headers=user-agent,X-Request-Id", "--", binary, "-addr", f"127.0.0.1:{port}")
    lp.wait_line("^listening on ", timeout=20)
    for proto, rid in (("1.1", "r-1"), ("2", None)):
        got, rc = _curl(port, proto, ["/created"], "POST", headers=(
            ["-A", "probe/1.0"] + (["-H", f"X-Request-Id: {rid}"] if rid else [])))
        expect_eq((got, rc), ([("201", proto)], 0), f"{proto}: curl")
    _quit(lp, port)
    lines = [re.sub(r" [0-9.]+[µmn]?s ", " T ", ln) for ln in lp.lines if ln.startswith("POST ")]
    expect_eq(lines, ["POST /created HTTP/1.1 201 T User-Agent=probe/1.0 X-Request-Id=r-1",
                      "POST /created HTTP/2.0 201 T User-Agent=probe/1.0 X-Request-Id=-"],
              "the script's lines")


def test_http_request_headers_that_cannot_be_asked_are_refused():
    binary = gobin("https", "stripped")
    for headers, want in [('"a", 3', "headers[2] must be a header name"),
                          ('"a\\"b"', "headers[1] must be a header name"),
                          ('"h1", "h2", "h3", "h4", "h5", "h6", "h7"', "at most 6 headers")]:
        code, lines, err = run("-q", "-e", 'require("luprobe.http").requests{ headers = { %s }, '
                               "on_request = print }" % headers, "--", binary)
        expect_eq(code, 1, f"exit code for {headers}")
        expect(f"luprobe.http.requests: {want}" in err, f"{headers}: {err[-400:]}")


# A declaration whose type the binary describes, with only field paths of
# it captured; the prefix is the fallback when the binary does not describe it.
FIELDS = """
local PREFIX = "*struct{ Method string; URL *struct{ Scheme string; Opaque string; User uintptr; "
	.. "Host string; Path string }; Proto string }"
local p = probe{ func = "net/http.serverHandler.ServeHTTP",
	args = { {"sh", "uintptr"}, {"rw", "error"}, {"req", "%s", PREFIX}, %s } }
p:on_event(function(e)
	local names = {}
	for k in pairs(e.args) do names[#names + 1] = k end
	table.sort(names)
	local out = {}
	for _, k in ipairs(names) do out[#out + 1] = k .. "=" .. tostring(e.args[k]) end
	printf("ARGS %%s\\n", table.concat(out, " "))
	io.stdout:flush()
end)
"""


@each_toolchain
def test_declared_request_type_is_the_binarys_with_only_its_field_paths_captured():
    """{"req", "*net/http.Request", PREFIX} takes the binary's http.Request
    (DWARF, or the stripped build's runtime type descriptors): req.Host and
    req.RemoteAddr, which no prefix declares, read what the client sent; the
    names listed are all that is captured. A type the binary does not
    describe falls back to the declared prefix, and -v says which was used."""
    if not os.path.exists("/usr/bin/curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    for variant, source in (("stripped", "runtime types"), ("default", "DWARF")):
        names = '"req.Method", "req.URL.Path", "req.Host", "req.RemoteAddr"'
        lp, port = _server(variant, script=FIELDS % ("*net/http.Request", names),
                           opts=("-q", "-v"))
        local = free_port()
        got, rc = _curl(port, "1.1", ["/created"], "POST", host="c.example:8443",
                        local_port=local)
        expect_eq((got, rc), ([("201", "1.1")], 0), f"{variant}: curl")
        line = lp.wait_line(r"^ARGS ", timeout=10).string
        expect_eq(line, f"ARGS req.Host=c.example:8443 req.Method=POST req.RemoteAddr=127.0.0.1:"
                  f"{local} req.URL.Path=/created", f"{variant}: the field paths, and only them")
        _quit(lp, port)
        expect("luprobe: net/http.serverHandler.ServeHTTP: req: *net/http.Request from "
               f"{source}\n" in lp.stderr(), lp.stderr()[-800:])

        lp, port = _server(variant, script=FIELDS % ("*net/http.NoSuchType",
                                                     '"req.Method", "req.URL.Path"'),
                           opts=("-q", "-v"))
        got, rc = _curl(port, "2", ["/missing"], "GET")
        expect_eq((got, rc), ([("404", "2")], 0), f"{variant}: curl")
        line = lp.wait_line(r"^ARGS ", timeout=10).string
        expect_eq(line, "ARGS req.Method=GET req.URL.Path=/missing", f"{variant}: fallback")
        _quit(lp, port)
        expect(f"luprobe: net/http.serverHandler.ServeHTTP: req: {gobin('https', variant)} does "
               "not describe *net/http.NoSuchType; the declared fallback type is used\n"
               in lp.stderr(), lp.stderr()[-800:])

        with tempfile.TemporaryDirectory() as d:
            script = write_script(d, "host.lua", FIELDS % ("*net/http.NoSuchType", '"req.Host"'))
            code, _, err = run("-q", script, "--", gobin("https", variant), "-addr", "127.0.0.1:0")
        expect_eq((code, err.strip().splitlines()[-1]), (1, f"luprobe: {script}:4: req: struct {{ "
                  "Method string; URL *struct { Scheme string; Opaque string; User uintptr; "
                  "Host string; Path string }; Proto string } has no field Host"),
                  f"{variant}: the fallback has no Host")


@each_toolchain
def test_http_latency_script_counts_http2_requests_by_status():
    if not os.path.exists("/usr/bin/curl"):
        raise Skip("curl is not installed (scripts/install-deps.sh installs it)")
    port = free_port()
    lp = luprobe("-q", os.path.join(SCRIPTS, "http-latency.lua"), "--", gobin("https", "stripped"),
                 "-addr", f"127.0.0.1:{port}")
    lp.wait_line("^listening on ", timeout=20)
    for proto in ("2", "1.1"):
        _curl(port, proto, ["/ok", "/created", "/missing", "/fail", "/implicit"])
        # alone: curl sends a request again when a kept-alive connection dies
        _curl(port, proto, ["/panic"])
    _quit(lp, port)
    i = lp.lines.index("requests by status:")
    status = sorted(ln.split(None, 1) for ln in lp.lines[i + 1:] if ln.strip())
    expect_eq(status, sorted([["200", "5"], ["201", "2"], ["404", "2"], ["500", "2"],
                              ["none", "2"]]), "requests by status")
    expect("latency by path [GET /created]:" in lp.lines, lp.lines)


def test_http_module_on_real_binaries_of_go_1_16_to_1_27():
    """Servers of real Go releases, the statuses their own handlers answer, as
    curl receives them: esbuild's dev server (HTTP/1.1 on Go 1.16 to 1.19,
    stack ABI on 1.16; HTTPS with HTTP/2 from 1.20, where esbuild can serve
    it) and buf's studio agent on Go 1.27, whose HTTP/2 server moved to
    net/http/internal/http2 (POST answers 415)."""
    if not os.path.exists("/usr/bin/curl") or not os.path.exists("/usr/bin/openssl"):
        raise Skip("curl and openssl are needed (scripts/install-deps.sh installs curl)")
    tried = 0
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write("<p>hi</p>\n")
        key, cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True,
                       timeout=30)
        script = write_script(d, "records.lua", RECORDS % "nil")
        esbuild = [("GET", "/index.html", 200), ("GET", "/nope", 404), ("POST", "/index.html", 404)]
        for minor in (16, 17, 18, 19, 20, 22, 23, 25, 26, 27):
            try:
                binary = release_bin(f"go1.{minor}")
            except Skip:
                continue
            tried += 1
            port = free_port()
            tls = minor >= 20
            if minor == 27:
                argv, ready, cases = (["beta", "studio-agent", "--port", str(port),
                                       "--server-cert", cert, "--server-key", key], "starting",
                                      [("GET", "/x", 200), ("POST", "/y", 415)])
            else:
                argv = [f"--serve=127.0.0.1:{port}", f"--servedir={d}"]
                argv += [f"--keyfile={key}", f"--certfile={cert}"] if tls else []
                ready, cases = "Local:", esbuild
            # newer esbuild serves until its stdin closes; Ctrl-C to luprobe ends both
            lp = Proc([LUPROBE, "-q", script, "--", binary, *argv], stdin=subprocess.PIPE)
            lp.wait_stderr(ready, timeout=30)
            want = []
            for proto in ("1.1", "2") if tls else ("1.1",):
                for method, path, status in cases:
                    argv = ["curl", "-sk", "--max-time", "10", "-X", method,
                            "--http1.1" if proto == "1.1" else "--http2", "-o", "/dev/null",
                            "-w", "%{http_code} %{http_version}",
                            f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}"]
                    got = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
                    expect_eq(got, f"{status} {proto}", f"go1.{minor} {method} {path}: curl")
                    lp.wait_line(r"^REQ ", timeout=10, start=len(lp.lines))
                    want.append(f"REQ {method} {path} HTTP/{'1.1' if proto == '1.1' else '2.0'} "
                                f"{status} ns -")
            lp.signal(signal.SIGINT)
            expect_eq(lp.wait(20), 0, f"go1.{minor}: exit code ({lp.stderr()[-600:]})")
            expect_eq([ln for ln in lp.lines if ln.startswith("REQ ")], want, f"go1.{minor}")
    if not tried:
        raise Skip("no real Go binaries of other releases available")


# ---- the client side: http.client ----

CLIENT = """
local http = require "luprobe.http"
http.client{ max_paths = tonumber(luprobe.args.max_paths), on_call = function(c)
	printf("CALL %s %s %s %s %s %s %d\\n", c.method, c.url, c.path, c.status or "-",
		c.err or "-", math.type(c.latency) == "integer" and c.latency or "bad", c.goid)
	io.stdout:flush()
end }
"""


def _client_run(variant, port, max_paths, requests):
    """httpget's own lines and luprobe's CALL records for the requests."""
    argv = []
    for method, path in requests:
        argv += [method, f"http://127.0.0.1:{port}{path}"]
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", write_script(d, "client.lua", CLIENT), "-a",
                               f"max_paths={max_paths}", "--", gobin("httpget", variant), *argv)
    expect_eq(code, 0, f"{variant}: exit code ({err})")
    own = [ln.split() for ln in lines if not ln.startswith("CALL ") and ln != "done"]
    calls = [ln.split()[1:] for ln in lines if ln.startswith("CALL ")]
    return own, calls, err


@each_toolchain
def test_client_calls_have_method_url_status_error_and_latency():
    """Every Client.Do of tests/go/httpget against the webapp: the method, URL
    (without its query), status as the client got it (200, 404, 500, 400), a
    refused connection's error, a latency within the client's own measure;
    the same on the stripped build."""
    srv = Server(gobin("webapp"))
    closed = free_port()  # nothing listens there: the connection is refused
    requests = [("GET", "/users/1"), ("GET", "/users/9"), ("GET", "/users/13"),
                ("GET", "/fail?kind=boom"), ("POST", "/orders?user=1&item=book"),
                ("GET", "/healthz")]
    for variant in ("default", "stripped"):
        own, calls, err = _client_run(variant, srv.port, 100, requests)
        argv_urls = [f"http://127.0.0.1:{srv.port}{p}" for _, p in requests]
        expect_eq([o[:2] for o in own], [[m, u] for (m, _), u in zip(requests, argv_urls)],
                  f"{variant}: httpget's own lines")
        expect_eq(len(calls), len(requests), f"{variant}: one record per call: {calls}")
        for (method, path), o, c in zip(requests, own, calls):
            url = f"http://127.0.0.1:{srv.port}{path.split('?')[0]}"
            expect_eq(c[:5], [method, url, path.split("?")[0], o[2], "-"],
                      f"{variant}: {method} {path}")
            expect(0 < int(c[5]) <= int(o[3]), f"{variant}: {path}: latency {c[5]} ns "
                   f"within the client's own {o[3]} ns")
        own, calls, err = _client_run(variant, closed, 100, [("GET", "/x")])
        expect_eq(own[0][2], "error", f"{variant}: the refused call, as the client saw it")
        expect_eq(calls[0][:5], ["GET", f"http://127.0.0.1:{closed}/x", "/x", "-", "*url.Error"],
                  f"{variant}: the refused call's record")
        expect(0 < int(calls[0][5]) <= int(own[0][3]), f"{variant}: refused call's latency")
    srv.get("/quit")


@each_toolchain
def test_client_calls_carry_the_request_headers_asked_for():
    """headers = { ... } on the client: the X-Request-Id httpget set on each
    request (req-0, req-1, ...), and nil for one it did not set; default and
    stripped builds."""
    srv = Server(gobin("webapp"))
    urls = [f"http://127.0.0.1:{srv.port}{p}" for p in ("/users/1", "/users/9", "/healthz")]
    script = """
local http = require "luprobe.http"
http.client{ headers = { "x-request-id", "X-Missing" }, on_call = function(c)
	printf("CALL %s %s %s\\n", c.path, c.headers["X-Request-Id"] or "-",
		tostring(c.headers["X-Missing"]))
end }
"""
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as d:
            argv = [a for u in urls for a in ("GET", u)]
            code, lines, err = run("-q", write_script(d, "h.lua", script), "--",
                                   gobin("httpget", variant), *argv)
        expect_eq(code, 0, f"{variant}: exit code ({err})")
        expect_eq([ln.split()[1:] for ln in lines if ln.startswith("CALL ")],
                  [["/users/1", "req-0", "nil"], ["/users/9", "req-1", "nil"],
                   ["/healthz", "req-2", "nil"]], f"{variant}: the headers of each call")
    srv.get("/quit")


def test_client_paths_beyond_max_paths_are_other_and_counted():
    srv = Server(gobin("webapp"))
    requests = [("GET", f"/users/{i}") for i in (1, 2, 1, 3, 4, 2, 5)]
    own, calls, err = _client_run("stripped", srv.port, 2, requests)
    expect_eq([c[2] for c in calls],
              ["/users/1", "/users/2", "/users/1", "(other)", "(other)", "/users/2", "(other)"],
              "paths past the first two distinct ones")
    expect_eq(calls[3][1], f"http://127.0.0.1:{srv.port}/(other)", "the url of an (other) path")
    expect_eq([c[3] for c in calls], [o[2] for o in own], "statuses as the client got them")
    expect('luprobe.http: 3 client calls had a path beyond the first 2 distinct ones (max_paths) '
           'and were given as "(other)"' in err, err)
    srv.get("/quit")


def test_server_paths_beyond_max_paths_are_other_and_counted():
    srv = Server(gobin("webapp", "stripped"))
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe("-v", write_script(d, "req.lua", """
local http = require "luprobe.http"
http.requests{ max_paths = 2, on_request = function(r)
	print("REQ", r.path, r.status) io.stdout:flush()
end }
"""), "-p", str(srv.pid))
        lp.wait_stderr("uprobes attached", timeout=30)
        paths = ["/users/1", "/users/2", "/users/1", "/users/3", "/healthz"]
        for p in paths:
            srv.get(p)
        lp.wait_line(r"^REQ", timeout=10, start=4)  # the fifth record
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
    expect_eq([ln.split("\t")[1:] for ln in lp.lines if ln.startswith("REQ")],
              [["/users/1", "200"], ["/users/2", "200"], ["/users/1", "200"], ["(other)", "200"],
               ["(other)", "200"]], "paths past the first two distinct ones")
    expect('luprobe.http: 2 requests had a path beyond the first 2 distinct ones (max_paths) '
           'and were given as "(other)"' in lp.stderr(), lp.stderr())
    srv.get("/quit")


def test_http_client_script():
    srv = Server(gobin("webapp"))
    urls = [f"http://127.0.0.1:{srv.port}{p}" for p in ("/users/1", "/users/9", "/users/1")]
    code, lines, err = run("-q", os.path.join(SCRIPTS, "http-client.lua"), "--",
                           gobin("httpget", "stripped"), "GET", urls[0], "GET", urls[1], "GET",
                           urls[2])
    expect_eq(code, 0, f"exit code ({err})")
    calls = [ln.split()[:3] for ln in lines if ln.startswith("GET    ")]
    expect_eq(calls, [["GET", urls[0], "200"], ["GET", urls[1], "404"], ["GET", urls[2], "200"]],
              "a line per call")
    i = lines.index("client calls by status:")
    expect_eq(sorted(ln.split() for ln in lines[i + 1:i + 3]), [["200", "2"], ["404", "1"]],
              "calls by status")
    expect(f"client latency by call [GET 127.0.0.1:{srv.port}/users/1]:" in lines, lines)
    # -a header=...: each call's request header (httpget sets X-Request-Id)
    code, lines, err = run("-q", os.path.join(SCRIPTS, "http-client.lua"), "-a",
                           "header=x-request-id", "--", gobin("httpget", "stripped"), "GET",
                           urls[0], "GET", urls[1])
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln.split()[-1] for ln in lines if ln.startswith("GET    ")],
              ["X-Request-Id=req-0", "X-Request-Id=req-1"], "the header of each call")
    srv.get("/quit")
