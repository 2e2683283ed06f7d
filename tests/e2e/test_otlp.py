# SPDX-License-Identifier: BSD-2-Clause
"""--otlp and luprobe.otel: call events as OpenTelemetry spans, sent over
OTLP/HTTP to a real Jaeger (built from the Go module proxy at a pinned
release by tests/jaeger.sh), queried back through its API: one trace per
request, span names, parent and child, durations within what the client
measured, attributes; in protobuf and in JSON. Then collectors that are down,
that accept and never answer, that refuse (500, 429): tracing goes on with
every event counted, memory stays bounded, the summary says what was not
sent, and luprobe exits promptly."""
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lib import (ROOT, Proc, Skip, Server, expect, expect_eq, free_port, gobin, luprobe,
                 run, write_script)

JAEGER_CONFIG = """
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:{query}
    grpc:
      endpoint: 127.0.0.1:{grpc}
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:{health}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{otlp}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
"""

# the webapp's module path (tests/go/webapp's go.mod): service.name by default
SERVICE = "luprobe.test"
USERS = {1: "alice", 2: "bob", 3: "carol", 4: "dave", 5: "erin"}  # the webapp's; others 404


def _jaeger_bin():
    """Jaeger v2 (all-in-one) from the module proxy, built once into .cache/jaeger."""
    r = subprocess.run([os.path.join(ROOT, "tests", "jaeger.sh")], capture_output=True,
                       text=True, timeout=1200)
    if r.returncode:
        raise Skip(f"Jaeger could not be built (tests/jaeger.sh: {r.stderr.strip()[-300:]})")
    return r.stdout.strip().splitlines()[-1]


def test_jaeger_is_built_by_a_go_new_enough_whatever_go_is_first_on_path():
    """tests/jaeger.sh takes the newest Go on the machine: on a CI machine the go
    first on PATH is Debian's 1.19, which cannot build Jaeger (go get -tool)."""
    old = "/usr/lib/go/bin"
    if not os.path.exists(os.path.join(old, "go")):
        raise Skip("Debian's golang-go is not installed")
    env = {**os.environ, "PATH": old + ":" + os.environ.get("PATH", "")}
    env.pop("GO_NEW", None)
    r = subprocess.run([os.path.join(ROOT, "tests", "jaeger.sh"), "--go"], env=env,
                       capture_output=True, text=True, timeout=60)
    expect_eq(r.returncode, 0, f"jaeger.sh --go: {r.stderr}")
    go = r.stdout.strip()
    v = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True,
                       timeout=60).stdout.strip()
    m = re.match(r"go1\.(\d+)", v)
    expect(m and int(m.group(1)) >= 24, f"jaeger.sh builds with {go} ({v}), not Go 1.24+")


class Jaeger:
    """A Jaeger on loopback ports of its own: OTLP/HTTP receiver and query API."""

    def __init__(self, tmp):
        self.otlp, self.query, grpc, health = (free_port() for _ in range(4))
        cfg = write_script(tmp, "jaeger.yaml", JAEGER_CONFIG.format(
            otlp=self.otlp, query=self.query, grpc=grpc, health=health))
        # its own tracing would dial the default OTLP port of the host
        self.proc = Proc([_jaeger_bin(), "--config", "file:" + cfg],
                         env={**os.environ, "OTEL_TRACES_EXPORTER": "none",
                              "OTEL_SDK_DISABLED": "true"})
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{health}/status", timeout=2) as r:
                    if json.loads(r.read()).get("healthy"):
                        break
            except OSError:
                pass
            expect(self.proc.p.poll() is None,
                   f"jaeger exited ({self.proc.p.returncode}): {self.proc.stderr()[-800:]}")
            expect(time.time() < deadline, "jaeger not healthy within 30 s")
            self.proc._fill(0.2)
        self.url = f"http://127.0.0.1:{self.otlp}"

    def traces(self, service, want, timeout=20):
        """The service's traces once there are want of them (bounded wait)."""
        q = urllib.parse.urlencode({"service": service, "limit": 1000, "lookback": "1h"})
        deadline = time.time() + timeout
        got = []
        while time.time() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.query}/api/traces?{q}",
                                        timeout=5) as r:
                got = json.loads(r.read())["data"] or []
            if len(got) >= want:
                time.sleep(0.5)  # and no more come
                with urllib.request.urlopen(f"http://127.0.0.1:{self.query}/api/traces?{q}",
                                            timeout=5) as r:
                    return json.loads(r.read())["data"] or []
            time.sleep(0.25)
        raise AssertionError(f"{len(got)} traces of {service} in Jaeger after {timeout}s, "
                             f"want {want}")

    def stop(self):
        self.proc.p.terminate()
        try:
            self.proc.p.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.p.kill()
            self.proc.p.wait(5)


def _tags(span):
    return {t["key"]: t["value"] for t in span["tags"]}


def _parent(span):
    refs = [r for r in span["references"] if r["refType"] == "CHILD_OF"]
    return refs[0]["spanID"] if refs else None


class _App:
    """The webapp luprobe launched, on its port."""

    def __init__(self, port):
        self.port = port

    get = Server.get


def _requests(srv, ids):
    """GET /users/ID for each id: {id: client-measured latency in µs}."""
    took = {}
    for i in ids:
        t0 = time.monotonic()
        try:
            srv.get(f"/users/{i}")
        except urllib.error.HTTPError as e:
            expect_eq(e.code, 404, f"/users/{i}")
        took[i] = (time.monotonic() - t0) * 1e6
    return took


def _quit(srv, lp):
    try:
        srv.get("/quit")
    except OSError:
        pass
    expect_eq(lp.wait(30), 0, "luprobe's exit code")


SCRIPT = """
probe{ func = "main.handleUser", ret = true }
probe{ func = "main.lookupUser", args = { "id" }, ret = true }
"""


def test_otlp_spans_in_jaeger_one_trace_per_request_nested_and_timed():
    ids = [1, 2, 3, 4, 99]
    with tempfile.TemporaryDirectory() as tmp:
        jaeger = Jaeger(tmp)
        try:
            script = write_script(tmp, "s.lua", SCRIPT)
            port = free_port()
            lp = luprobe("--otlp", jaeger.url, script, "--", gobin("webapp"),
                         "-addr", f"127.0.0.1:{port}")
            lp.wait_line(r"^listening on ", timeout=20)
            srv = _App(port)
            took = _requests(srv, ids)
            _quit(srv, lp)
            err = lp.stderr()
            expect(re.search(r"luprobe: 10 events, 0 lost", err), f"summary: {err!r}")
            expect(f"luprobe: otlp: 10 spans sent to http://127.0.0.1:{jaeger.otlp}/v1/traces"
                   in err, f"otlp summary: {err!r}")
            traces = jaeger.traces(SERVICE, len(ids))
        finally:
            jaeger.stop()
    expect_eq(len(traces), len(ids), "traces (one per request)")
    seen = set()
    for t in traces:
        spans = {s["operationName"]: s for s in t["spans"]}
        expect_eq(sorted(spans), ["main.handleUser", "main.lookupUser"], "span names")
        h, lk = spans["main.handleUser"], spans["main.lookupUser"]
        expect_eq(_parent(h), None, "the handler's parent")
        expect_eq(_parent(lk), h["spanID"], "lookupUser's parent")
        ht, lt = _tags(h), _tags(lk)
        i = lt["arg.id"]
        seen.add(i)
        expect_eq(lt.get("return.0"), USERS.get(i, ""), f"lookupUser({i})'s name")
        expect_eq(lt["go.goroutine.id"], ht["go.goroutine.id"], "one goroutine")
        expect_eq(lt["process.pid"], ht["process.pid"], "one process")
        expect(h["startTime"] <= lk["startTime"] and
               lk["startTime"] + lk["duration"] <= h["startTime"] + h["duration"],
               f"lookupUser({i}) within its handler: {h} {lk}")
        expect(0 < h["duration"] <= took[i], f"handler of {i}: {h['duration']} µs, the client "
               f"measured {took[i]:.0f} µs")
        expect_eq(t["processes"][h["processID"]]["serviceName"], SERVICE, "service.name")
    expect_eq(seen, set(ids), "the ids of the requests")


OTEL_SCRIPT = """
local otel = require "luprobe.otel"
otel.requests()
probe{ func = "main.lookupUser", args = { "id" }, ret = true }
on_exit(function()
	local s = luprobe.stats().otlp
	printf("stats %d %d\\n", s.spans, s.dropped)
end)
"""


TRACE, PARENT = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def test_otel_requests_json_server_spans_with_http_attributes_and_traceparent():
    ids = [1, 2, 99]
    with tempfile.TemporaryDirectory() as tmp:
        jaeger = Jaeger(tmp)
        try:
            script = write_script(tmp, "s.lua", OTEL_SCRIPT)
            port = free_port()
            lp = luprobe("--otlp", jaeger.url + "/v1/traces", "--otlp-json", script, "--",
                         gobin("webapp"), "-addr", f"127.0.0.1:{port}")
            lp.wait_line(r"^listening on ", timeout=20)
            srv = _App(port)
            took = _requests(srv, ids)
            # a request that carries the W3C trace context of its caller
            req = urllib.request.Request(f"http://127.0.0.1:{port}/users/3",
                                         headers={"traceparent": f"00-{TRACE}-{PARENT}-01"})
            with urllib.request.urlopen(req, timeout=10) as r:
                expect_eq(r.read().decode().strip(), "carol", "/users/3")
            _quit(srv, lp)
            # the four requests, their lookups, and /quit
            expect_eq([ln for ln in lp.lines if ln.startswith("stats")], ["stats 9 0"],
                      "luprobe.stats().otlp")
            traces = jaeger.traces(SERVICE, len(ids) + 2)
        finally:
            jaeger.stop()
    by_path = {}
    for t in traces:
        if t["traceID"] == TRACE:
            continue
        roots = [s for s in t["spans"] if _parent(s) is None]
        expect_eq(len(roots), 1, "one root per trace")
        by_path[_tags(roots[0])["url.path"]] = t
    expect_eq(sorted(by_path), sorted([f"/users/{i}" for i in ids] + ["/quit"]), "paths")
    joined = [t for t in traces if t["traceID"] == TRACE]
    expect_eq(len(joined), 1, "the trace of the request with a traceparent")
    spans = {s["operationName"]: s for s in joined[0]["spans"]}
    expect_eq(sorted(spans), ["GET /users/3", "main.lookupUser"], "its spans")
    expect_eq(_parent(spans["GET /users/3"]), PARENT, "the request's parent: the caller's span")
    expect_eq(_parent(spans["main.lookupUser"]), spans["GET /users/3"]["spanID"],
              "lookupUser's parent")
    for i in ids:
        t = by_path[f"/users/{i}"]
        spans = {s["operationName"]: s for s in t["spans"]}
        expect_eq(sorted(spans), [f"GET /users/{i}", "main.lookupUser"], "span names")
        req, lk = spans[f"GET /users/{i}"], spans["main.lookupUser"]
        tags = _tags(req)
        expect_eq(tags["span.kind"], "server", "kind")
        expect_eq(tags["http.request.method"], "GET", "method")
        expect_eq(tags["http.response.status_code"], 200 if i in USERS else 404, "status")
        expect_eq(tags["network.protocol.version"], "1.1", "protocol")
        expect_eq(_parent(lk), req["spanID"], "lookupUser's parent")
        expect_eq(_tags(lk)["arg.id"], i, "lookupUser's id")
        expect(0 < req["duration"] <= took[i], f"request {i}: {req['duration']} µs, client "
               f"{took[i]:.0f} µs")


BATTERIES_SCRIPTS = {
    "webapp": 'local otel = require "luprobe.otel" otel.requests() otel.queries()',
    # the battery's short form: a function, the record callback
    "httpget": 'require("luprobe.otel").client(function(c) end)',
    "grpcsvc": 'require("luprobe.otel").grpc_calls()',
}


def test_otel_spans_of_the_batteries_sql_http_client_and_grpc():
    """otel.queries, otel.client and otel.grpc_calls in a real Jaeger: the webapp's
    query a SELECT span inside its request's server span; httpget's calls client
    spans with their URL and status, the first (sent with a traceparent) in that
    trace; grpcsvc's calls a server and a client span each, with their codes."""
    with tempfile.TemporaryDirectory() as tmp:
        jaeger = Jaeger(tmp)
        try:
            scripts = {k: write_script(tmp, k + ".lua", v) for k, v in BATTERIES_SCRIPTS.items()}
            port = free_port()
            lp = luprobe("--otlp", jaeger.url, scripts["webapp"], "--", gobin("webapp"),
                         "-addr", f"127.0.0.1:{port}")
            lp.wait_line(r"^listening on ", timeout=20)
            srv = _App(port)
            took = _requests(srv, [1, 2])
            urls = [f"http://127.0.0.1:{port}/users/{i}" for i in (3, 99)]
            code, lines, err = run("--otlp", jaeger.url, scripts["httpget"], "--",
                                   gobin("httpget"),
                                   "GET", urls[0], "GET", urls[1],
                                   env={**os.environ,
                                        "HTTPGET_TRACEPARENT": f"00-{TRACE}-{PARENT}-01"})
            expect_eq(code, 0, f"httpget under luprobe: {err}")
            got = [ln.split() for ln in lines if ln.startswith("GET ")]
            expect_eq([g[2] for g in got], ["200", "404"], f"httpget's own lines: {lines}")
            _quit(srv, lp)
            code, lines, err = run("--otlp", jaeger.url, scripts["grpcsvc"], "--",
                                   gobin("grpcsvc", toolchain="new"), "2", "1")
            expect_eq(code, 0, f"grpcsvc under luprobe: {err}")
            web = jaeger.traces(SERVICE, 2 + 1 + 2 + 1)  # requests, /quit, the client's
            rpc = jaeger.traces("grpcsvc", 6)
        finally:
            jaeger.stop()
    # the webapp's requests: a server span and its query
    served = {}
    for t in web:
        for s in t["spans"]:
            if _tags(s).get("span.kind") == "server":
                served[s["operationName"]] = (t, s)
    for i in (1, 2):
        t, req = served[f"GET /users/{i}"]
        spans = {s["operationName"]: s for s in t["spans"]}
        expect_eq(sorted(spans), [f"GET /users/{i}", "SELECT"], f"request {i}'s spans")
        q = spans["SELECT"]
        expect_eq(_parent(q), req["spanID"], "the query's parent: its request")
        qt = _tags(q)
        expect_eq((qt["span.kind"], qt["db.operation.name"]), ("client", "SELECT"), "query")
        expect("select" in qt["db.query.text"].lower(), f"the query's text: {qt}")
        expect(req["startTime"] <= q["startTime"] and
               q["startTime"] + q["duration"] <= req["startTime"] + req["duration"],
               f"the query within its request: {req} {q}")
        expect(0 < req["duration"] <= took[i], f"request {i}: {req['duration']} µs")
    # httpget's calls: client spans, the first in the caller's trace
    clients = [(t, s) for t in web for s in t["spans"] if _tags(s).get("span.kind") == "client"
               and s["operationName"] == "GET"]
    expect_eq(sorted(_tags(s)["url.full"] for _, s in clients), urls, "the client's calls")
    for t, s in clients:
        tags = _tags(s)
        first = tags["url.full"] == urls[0]
        expect_eq(tags["http.response.status_code"], 200 if first else 404, "status")
        expect_eq((tags["server.address"], tags["server.port"]), ("127.0.0.1", port), "server")
        expect_eq(t["traceID"] == TRACE, first, f"{tags['url.full']}: in the caller's trace")
        if first:
            expect_eq(_parent(s), PARENT, "the call's parent: the caller's span")
        else:
            expect_eq(_parent(s), None, "a call without traceparent: a trace of its own")
    # grpcsvc: each call a server and a client span, OK or NotFound
    spans = [s for t in rpc for s in t["spans"]]
    expect_eq(sorted((s["operationName"], _tags(s)["span.kind"], _tags(s)["rpc.grpc.status_code"])
                     for s in spans),
              sorted([("grpc.health.v1.Health/Check", k, c) for k in ("server", "client")
                      for c in (0, 0, 5)]), "the calls' spans")
    for s in spans:
        tags = _tags(s)
        expect_eq((tags["rpc.system"], tags["rpc.service"], tags["rpc.method"]),
                  ("grpc", "grpc.health.v1.Health", "Check"), "rpc attributes")
        expect_eq(tags.get("error.type"), "NotFound" if tags["rpc.grpc.status_code"] else None,
                  "error.type")


TRACEPARENT_SCRIPT = r"""
local otel = require "luprobe.otel"
local T, P = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
local function check(s, want)
	local t, p, f = otel.traceparent(s)
	local got = t and (t .. " " .. p .. " " .. f) or "nil"
	if got ~= want then
		error(string.format("traceparent(%q): %s, want %s", tostring(s), got, want))
	end
end
check("00-" .. T .. "-" .. P .. "-01", T .. " " .. P .. " 01")
check(" 00-" .. T .. "-" .. P .. "-00\t", T .. " " .. P .. " 00")
check("01-" .. T .. "-" .. P .. "-01-later", T .. " " .. P .. " 01")
check("00-" .. T .. "-" .. P .. "-01-later", "nil")  -- version 00 has four fields
check("ff-" .. T .. "-" .. P .. "-01", "nil")
check("00-" .. T:upper() .. "-" .. P .. "-01", "nil")
check("00-" .. string.rep("0", 32) .. "-" .. P .. "-01", "nil")
check("00-" .. T .. "-" .. string.rep("0", 16) .. "-01", "nil")
check("00-" .. T:sub(2) .. "-" .. P .. "-01", "nil")
check("00-" .. T .. "-" .. P .. "-1", "nil")
check("00_" .. T .. "-" .. P .. "-01", "nil")
check("", "nil")
check(nil, "nil")
local a = otel.http{ method = "GET", path = "/x", proto = "HTTP/2.0", status = 503,
	headers = { Host = "example.com:8443" } }
assert(a["http.request.method"] == "GET" and a["url.path"] == "/x")
assert(a["http.response.status_code"] == 503 and a["network.protocol.version"] == "2.0")
assert(a["server.address"] == "example.com" and a["server.port"] == 8443)
local g = otel.grpc{ side = "server", method = "/pkg.Svc/Get", code = 5, code_name = "NotFound",
	peer = "127.0.0.1:5000" }
assert(g["rpc.system"] == "grpc" and g["rpc.service"] == "pkg.Svc" and g["rpc.method"] == "Get")
assert(g["rpc.grpc.status_code"] == 5 and g["error.type"] == "NotFound")
assert(g["client.address"] == "127.0.0.1" and g["client.port"] == 5000)
local q = otel.sql{ query = "  select 1", err = "boom" }
assert(q["db.query.text"] == "  select 1" and q["db.operation.name"] == "SELECT")
assert(q["error.type"] == "boom")
assert(not otel.enabled())
local id, why = otel.span{ name = "x", start = 1, ["end"] = 2 }
assert(id == nil and why == "no --otlp: spans are not sent")
print("ok")
exit(0)
"""


def test_otel_traceparent_parsing_and_semantic_attributes():
    with tempfile.TemporaryDirectory() as tmp:
        code, out, err = run(write_script(tmp, "t.lua", TRACEPARENT_SCRIPT))
    expect_eq((code, out), (0, ["ok"]), f"the script (stderr {err!r})")


def test_otlp_bad_urls_are_refused_saying_why():
    cases = [
        ("https://collector:4318",
         "luprobe: --otlp https://collector:4318: https is not supported: luprobe sends plain "
         "HTTP; send to a collector on this node or its loopback (http://127.0.0.1:4318)"),
        ("collector:4318",
         "luprobe: --otlp collector:4318: not an http:// URL (e.g. http://127.0.0.1:4318)"),
        ("http://:4318", "luprobe: --otlp http://:4318: no host (e.g. http://127.0.0.1:4318)"),
        ("http://127.0.0.1:70000",
         "luprobe: --otlp http://127.0.0.1:70000: the port must be a number from 1 to 65535"),
        ("http://127.0.0.1:4318?x",
         "luprobe: --otlp http://127.0.0.1:4318?x: unexpected \"?x\" after the host and port"),
    ]
    for url, want in cases:
        code, _, err = run("--otlp", url, "-e", "exit(0)")
        expect_eq((code, err.strip()), (1, want), f"--otlp {url}")
    code, _, err = run("--otlp-json", "-e", "exit(0)")
    expect_eq((code, err.strip()), (1, "luprobe: --otlp-json says how to send spans: give "
                                       "--otlp URL too"), "--otlp-json alone")


# ---- collectors that fail ----

ROUNDS = 3000  # of the webapp's workload: 4 calls of main.lookupUser each
LOOKUP_SCRIPT = 'probe{ func = "main.lookupUser", args = { "id" }, ret = true }\n'


def _rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


def _traced_workload(url):
    """luprobe --otlp url on the workload: (exit code, stderr, seconds, peak RSS in KiB)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = write_script(tmp, "s.lua", LOOKUP_SCRIPT)
        t0 = time.monotonic()
        lp = luprobe("-q", "--otlp", url, script, "--", gobin("webapp"),
                     "-workload", str(ROUNDS))
        peak = 0
        while lp.p.poll() is None and time.monotonic() - t0 < 60:
            peak = max(peak, _rss_kb(lp.pid))
            lp._fill(0.05)
        code = lp.wait(30)
        return code, lp.stderr(), time.monotonic() - t0, peak


def _check_failed_run(code, err, took, peak, why):
    calls = 4 * ROUNDS
    expect_eq(code, 0, f"exit code (stderr {err[-600:]!r})")
    m = re.search(r"luprobe: otlp: (\d+) spans? sent to \S+(?:, (\d+) dropped \(the export "
                  r"queue was full\))?(?:, (\d+) not sent \((.*)\))?$", err, re.M)
    expect(m, f"the otlp summary line: {err!r}")
    sent, dropped, failed = (int(g or 0) for g in m.group(1, 2, 3))
    expect_eq(sent, 0, "spans sent")
    expect_eq(sent + dropped + failed, calls, "every span accounted for")
    expect(dropped > 0, f"spans dropped when the queue was full: {err!r}")
    expect(re.search(why, m.group(4) or ""), f"why: {m.group(4)!r}, want {why!r}")
    expect(re.search(rf"luprobe: otlp: 127\.0\.0\.1:\d+/v1/traces: {why}", err),
           f"the first failure said: {err!r}")
    # about 22 MB here: luprobe's own 15, the queue's 8192 spans of a few hundred bytes
    expect(peak < 60 * 1024, f"peak RSS {peak} KiB")
    # the workload takes a second or two; the last flush at most 2 s
    expect(took < 12, f"luprobe took {took:.1f} s")


def test_otlp_collector_down_tracing_goes_on_and_drops_are_counted():
    port = free_port()  # nothing listens there
    code, err, took, peak = _traced_workload(f"http://127.0.0.1:{port}")
    _check_failed_run(code, err, took, peak, "Connection refused")


def test_otlp_collector_that_never_answers_costs_nothing():
    port = free_port()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    held = []
    stop = threading.Event()

    def accept():
        ls.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(ls.accept()[0])  # read nothing, answer nothing
            except OSError:
                pass

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    try:
        code, err, took, peak = _traced_workload(f"http://127.0.0.1:{port}")
    finally:
        stop.set()
        th.join()
        for c in held:
            c.close()
        ls.close()
    _check_failed_run(code, err, took, peak, "timed out|no answer in time at exit")


class _Refuser(BaseHTTPRequestHandler):
    status = 500

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts += 1
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_otlp_collector_refusing_500_and_429_is_retried_then_counted():
    for status in (500, 429):
        port = free_port()
        httpd = ThreadingHTTPServer(("127.0.0.1", port), _Refuser)
        httpd.status, httpd.posts = status, 0
        th = threading.Thread(target=httpd.serve_forever, daemon=True)
        th.start()
        try:
            code, err, took, peak = _traced_workload(f"http://127.0.0.1:{port}")
        finally:
            httpd.shutdown()
            httpd.server_close()
        _check_failed_run(code, err, took, peak, f"HTTP {status}")
        # the first batch was tried again: more posts than batches
        expect(httpd.posts >= 2, f"{httpd.posts} POSTs to the {status} collector")


EXPORT_SCRIPT = """
local otel = require "luprobe.otel"
otel.service("users")
otel.export(probe{ func = "main.lookupUser", args = { "id" }, ret = true }, {
	name = function(e) return "lookup " .. e.args.id end,
	attrs = function(e) return { ["user.id"] = e.args.id, ["user.found"] = e.err == nil } end,
})
"""


def test_otel_export_names_and_attributes_and_the_example_script():
    """otel.export and otel.service in a script; then scripts/otel-http.lua with
    -a calls=... -a sql=1: each request a server span, the calls its children,
    the queries theirs."""
    with tempfile.TemporaryDirectory() as tmp:
        jaeger = Jaeger(tmp)
        try:
            for script, args, service in (
                    (write_script(tmp, "s.lua", EXPORT_SCRIPT), [], "users"),
                    (os.path.join(ROOT, "scripts", "otel-http.lua"),
                     ["-a", "calls=main.handleUser", "-a", "sql=1"], SERVICE)):
                port = free_port()
                lp = luprobe("--otlp", jaeger.url, script, *args, "--", gobin("webapp"),
                             "-addr", f"127.0.0.1:{port}")
                lp.wait_line(r"^listening on ", timeout=20)
                srv = _App(port)
                _requests(srv, [2, 99])
                _quit(srv, lp)
                want = 2 if service == "users" else 3  # and /quit's request
                traces = jaeger.traces(service, want)
                expect_eq(len(traces), want, f"traces of {service}")
                if service == "users":
                    spans = sorted((s["operationName"], _tags(s)["user.id"],
                                    _tags(s)["user.found"])
                                   for t in traces for s in t["spans"])
                    expect_eq(spans,
                              [("lookup 2", 2, True), ("lookup 99", 99, False)],
                              "otel.export's spans")
                    continue
                for t in traces:
                    names = sorted(s["operationName"] for s in t["spans"])
                    if names == ["GET /quit"]:
                        continue
                    by = {s["operationName"]: s for s in t["spans"]}
                    req = [n for n in names if n.startswith("GET /users/")]
                    expect_eq(len(req), 1, f"one request span in {names}")
                    expect_eq(sorted(by), sorted(req + ["SELECT", "main.handleUser"]),
                              "span names")
                    expect_eq(_parent(by["main.handleUser"]), by[req[0]]["spanID"],
                              "the handler under its request")
                    expect_eq(_parent(by["SELECT"]), by["main.handleUser"]["spanID"],
                              "the query under the handler that made it")
        finally:
            jaeger.stop()


def test_otlp_counters_in_metrics_and_stats():
    """--metrics shows the export's counters while the run goes on; every span is
    queued, dropped or failed while the collector is down."""
    down = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        script = write_script(tmp, "s.lua", SCRIPT)
        port = free_port()
        lp = luprobe("--otlp", f"http://127.0.0.1:{down}", "--metrics", "127.0.0.1:0", script,
                     "--", gobin("webapp"), "-addr", f"127.0.0.1:{port}")
        lp.wait_line(r"^listening on ", timeout=20)
        lp.wait_stderr("/metrics")
        mport = re.search(r"metrics at http://127\.0\.0\.1:(\d+)/metrics", lp.stderr()).group(1)
        srv = _App(port)
        _requests(srv, [1, 2, 3])
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=10) as r:
            text = r.read().decode()
        got = {m.group(1): int(m.group(2)) for m in
               re.finditer(r"^(luprobe_otlp_\w+) (\d+)$", text, re.M)}
        expect_eq(sorted(got), ["luprobe_otlp_spans_dropped_total",
                                "luprobe_otlp_spans_failed_total",
                                "luprobe_otlp_spans_queued",
                                "luprobe_otlp_spans_sent_total"], "the otlp metrics")
        expect_eq(got["luprobe_otlp_spans_sent_total"], 0, "sent to a collector that is down")
        expect_eq(got["luprobe_otlp_spans_queued"] + got["luprobe_otlp_spans_failed_total"] +
                  got["luprobe_otlp_spans_dropped_total"], 6, "every span")
        _quit(srv, lp)
    expect(re.search(r"luprobe: otlp: 0 spans sent to \S+, 6 not sent \(Connection refused\)$",
                     lp.stderr(), re.M), f"summary: {lp.stderr()!r}")
