# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12: scopes end however the scoped frame left (return, recovered
panic, Goexit, a reused goroutine); PIE load addresses come with each event;
processes that re-exec themselves keep their probes; attach(pid) at any
time."""
import os
import signal
import tempfile
import urllib.error

from lib import (SCRIPTS, Server, expect, expect_eq, free_port, gobin, http_get, luprobe,
                 release_bin, run, write_script)

SCOPES = "scopes"


# ---- within: scopes end when the scoped frame is gone ----

def _scope_script(declare):
    args = '{ {"where", "int"} }' if declare else '{ "where" }'
    return f"""
local q = probe{{ func = "main.q", args = false }}
local inside, outside, qs = 0, 0, 0
q:on_event(function() qs = qs + 1 end)
probe{{ func = "main.p", args = {args}, within = q }}:on_event(function(e)
	if e.args.where == 1 then inside = inside + 1 else outside = outside + 1 end
end)
on_exit(function() print("q " .. qs .. " inside " .. inside .. " outside " .. outside) end)
"""


def test_within_ends_at_a_recovered_panic_a_goexit_and_a_reused_goroutine():
    # tests/go/scopes: 3 phases of 10 rounds (one goroutine; a new goroutine per
    # round; q ending its goroutine with Goexit). Each round calls q once, which
    # calls p(1) twice and panics on odd rounds (its caller recovers), and calls
    # p(0) twice outside q, first deeper than q's frame was.
    for variant, declare in (("default", False), ("stripped", True)):
        with tempfile.TemporaryDirectory() as d:
            code, lines, err = run("-q", write_script(d, "s.lua", _scope_script(declare)), "--",
                                   gobin(SCOPES, variant), "-n", "10", timeout=60)
        expect_eq(code, 0, f"{variant}: exit code ({err})")
        expect_eq(lines, ["done", "q 30 inside 60 outside 0"], f"{variant}: events")


def test_within_a_net_http_handler_that_panics_on_odd_requests():
    srv = Server(gobin(SCOPES))
    script = """
local h = probe{ func = "net/http.serverHandler.ServeHTTP", args = false }
local n = { h = 0, p = 0, rr = 0 }
h:on_event(function() n.h = n.h + 1 end)
probe{ func = "main.p", args = { "where" }, within = h }:on_event(function(e)
	n.p = n.p + 1 print("p " .. n.p) io.stdout:flush()
end)
-- called by conn.serve for every request, before the handler: never inside it
probe{ func = "net/http.(*conn).readRequest", args = false, within = h }
	:on_event(function() n.rr = n.rr + 1 end)
on_exit(function() print(("handler %d p %d readRequest %d"):format(n.h, n.p, n.rr)) end)
attach() print("ready") io.stdout:flush()
"""
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe("-q", write_script(d, "h.lua", script), "-p", str(srv.pid))
        lp.wait_line("^ready$")
        for i in range(1, 12):
            try:
                expect_eq(http_get(srv.port, f"/h?i={i}"), f"ok {i}\n", f"request {i}")
                expect(i % 2 == 0, f"request {i} should have panicked")
            except (urllib.error.URLError, ConnectionError) as e:
                # the handler panicked: net/http recovers, logs and drops the connection
                expect(i % 2 == 1, f"request {i}: {e}")
        lp.wait_line("^p 11$")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
    expect_eq(lp.lines[-1], "handler 11 p 11 readRequest 0", "events")
    # the example script
    port = free_port()
    lp = luprobe("-q", os.path.join(SCRIPTS, "in-handlers.lua"), "-a", "func=main.p", "--",
                 gobin(SCOPES), "-addr", f"127.0.0.1:{port}")
    lp.wait_line("^listening on ")
    for i in range(1, 4):
        try:
            http_get(port, f"/h?i={i}")
        except (urllib.error.URLError, ConnectionError):
            pass
    at = -1
    for k in range(3):  # the k-th event's line, each after the one before
        lp.wait_line(r"^main\.p\(where=1\)  goroutine ", start=at + 1)
        at = [i for i, ln in enumerate(lp.lines) if ln.startswith("main.p(")][k]
    lp.signal(signal.SIGINT)
    expect_eq(lp.wait(10), 0, "in-handlers.lua: exit code")
    calls = [ln for ln in lp.lines if ln.startswith("main.p(")]
    expect_eq(len(calls), 3, f"in-handlers.lua: {lp.lines}")
    expect_eq(lp.lines[-1], "3 calls of main.p inside handlers", "in-handlers.lua: summary")
