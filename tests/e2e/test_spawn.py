# SPDX-License-Identifier: BSD-2-Clause
"""Scopes that follow spawned goroutines (within = q, spawned = true) and
luprobe.speculate, on tests/go/spawn: a handler that starts workers, which
start sub-workers, all calling inner, beside an unrelated goroutine that calls
inner too; on both toolchains, stripped builds, a net/http server with
database/sql (the fakedb driver), and the real binaries of every release."""
import json
import os
import re
import signal
import tempfile
import time

from lib import (SCRIPTS, Server, Skip, each_toolchain, expect, expect_eq, free_port, gobin,
                 http_get, luprobe, release_bin, run, write_script)

SPAWN = "spawn"
WEBAPP = "webapp"
# inner(req, who) and handle(req, workers, slow), declared: stripped builds have no DWARF
INNER_ARGS = '{ {"req", "int"}, {"who", "int"} }'
HANDLE_ARGS = '{ {"req", "int"}, {"workers", "int"}, {"slow", "bool"} }'


def _run(script, *target_args, variant="default", timeout=60):
    with tempfile.TemporaryDirectory() as d:
        return run("-q", write_script(d, "s.lua", script), "--", gobin(SPAWN, variant),
                   *target_args, timeout=timeout)


# ---- within = q, spawned = true ----

COUNTS = f"""
local h = probe{{ func = "main.handle", args = {{ {{"req", "int"}} }} }}
local req_goid = {{}}
h:on_event(function(e) end)
local n = {{ within = 0, spawned = 0, all = 0, who = {{ [0] = 0, 0, 0, 0 }} }}
local lineage_bad, workers = 0, {{}}
probe{{ func = "main.inner", args = {INNER_ARGS} }}:on_event(function() n.all = n.all + 1 end)
probe{{ func = "main.inner", args = {INNER_ARGS}, within = h }}:on_event(function(e)
	n.within = n.within + 1
	if e.args.who ~= 0 then lineage_bad = lineage_bad + 1 end
	if e.parent_goid ~= nil or e.scope_goid ~= nil then lineage_bad = lineage_bad + 1 end
end)
local held = {{}}
probe{{ func = "main.inner", args = {INNER_ARGS}, within = h, spawned = true }}:on_event(function(e)
	n.spawned = n.spawned + 1
	n.who[e.args.who] = n.who[e.args.who] + 1
	held[#held + 1] = {{ req = e.args.req, who = e.args.who, goid = e.goid,
		parent = e.parent_goid, scope = e.scope_goid }}
end)
on_exit(function()
	-- the handler's own call comes first in each request: its goroutine is the scope's
	for _, x in ipairs(held) do
		if x.who == 0 then req_goid[x.req] = x.goid end
		if x.who == 1 then workers[x.goid] = x.scope end
	end
	for _, x in ipairs(held) do
		local scope = req_goid[x.req]
		if x.scope ~= scope then lineage_bad = lineage_bad + 1 end
		if x.who == 0 and x.parent ~= 0 then lineage_bad = lineage_bad + 1 end
		if x.who == 1 and x.parent ~= scope then lineage_bad = lineage_bad + 1 end
		if x.who == 2 and workers[x.parent] ~= scope then lineage_bad = lineage_bad + 1 end
	end
	print(("within %d spawned %d all %d handler %d workers %d subworkers %d lineage errors %d")
		:format(n.within, n.spawned, n.all, n.who[0], n.who[1], n.who[2], lineage_bad))
end)
"""


@each_toolchain
def test_within_spawned_counts_the_calls_of_every_goroutine_a_request_started():
    # 6 requests, each: inner in the handler, 3 workers calling inner, each starting one
    # sub-worker calling inner; 20 calls by a goroutine started before any request
    for variant in ("default", "stripped"):
        code, lines, err = _run(COUNTS, "-n", "6", "-workers", "3", "-bg", "20", variant=variant)
        expect_eq(code, 0, f"{variant}: exit code ({err})")
        expect_eq(lines, ["done", "within 6 spawned 42 all 62 handler 6 workers 18 subworkers 18 "
                          "lineage errors 0"], f"{variant}: counts")


@each_toolchain
def test_within_spawned_json_carries_the_parent_and_the_scope_goroutine():
    script = f"""
local h = probe{{ func = "main.handle", args = false }}
h:on_event(function() end)
probe{{ func = "main.inner", args = {INNER_ARGS}, within = h, spawned = true }}
    :on_event(function(e) if e.args.who == 2 then print(e:json()) end end)
"""
    code, lines, err = _run(script, "-n", "1", "-workers", "1", "-bg", "0")
    expect_eq(code, 0, f"exit code ({err})")
    ev = json.loads(next(ln for ln in lines if ln.startswith("{")))
    expect(ev["parent_goid"] not in (0, ev["goid"], ev["scope_goid"]), f"sub-worker: {ev}")
    expect(ev["scope_goid"] not in (0, ev["goid"]), f"sub-worker: {ev}")


def test_spawned_goroutines_beyond_the_scope_map_are_counted():
    # one request starts 17,000 workers, all alive at once, then each calls inner: the
    # scope map holds 16,384 goroutines (the handler's own among them); those that do
    # not fit are counted, at exit and in luprobe.stats()
    script = """
local q = probe{ func = "main.flood", args = false }
q:on_event(function() end)
local n = 0
probe{ func = "main.inner", args = false, within = q, spawned = true }
    :on_event(function() n = n + 1 end)
on_exit(function() print("inside " .. n .. " not followed " .. luprobe.stats().spawn_dropped) end)
"""
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run(write_script(d, "s.lua", script), "--", gobin(SPAWN), "-flood",
                               "17000", timeout=120)
    expect_eq(code, 0, f"exit code ({err})")
    m = re.fullmatch(r"inside (\d+) not followed (\d+)", lines[-1])
    expect(m, f"output: {lines}")
    inside, dropped = int(m.group(1)), int(m.group(2))
    # the runtime's own goroutines started inside (GC workers) may hold entries too
    expect(600 <= dropped <= 700, f"not followed: {dropped}")
    expect_eq(inside + dropped, 17000, "inside + not followed")
    expect(f"{dropped} spawned goroutines not followed (more than 16384 goroutines in scopes "
           "at once)" in err, f"summary: {err}")


def test_spawned_follows_goroutines_on_real_binaries_of_every_release():
    # esbuild bundling a file: sync.(*WaitGroup).Add, in main.main's goroutine and in the
    # goroutines it starts (stack ABI up to Go 1.16, register ABI from 1.17)
    script = """
local q = probe{ func = "main.main", args = false }
q:on_event(function() end)
local a, b, par = 0, 0, 0
probe{ func = luprobe.args.p, within = q, args = false }:on_event(function() a = a + 1 end)
probe{ func = luprobe.args.p, within = q, spawned = true, args = false }:on_event(function(e)
	b = b + 1
	if e.parent_goid ~= 0 then par = par + 1 end
end)
on_exit(function() print(("within %d spawned %d started inside %d"):format(a, b, par)) end)
"""
    seen = 0
    with tempfile.TemporaryDirectory() as d:
        path = write_script(d, "s.lua", script)
        src = write_script(d, "in.js", "export let x = 1\n")
        for minor in range(13, 28):
            label = f"go1.{minor}"
            try:
                binary = release_bin(label)
            except Skip:
                continue
            if os.path.basename(binary) != "esbuild":
                # other tools: the sites are found and the run is clean
                code, lines, err = run("-q", path, "-a", "p=sync.(*WaitGroup).Add", "--",
                                       binary, "--help", timeout=60)
                expect(code in (0, 1), f"{label}: exit code {code} ({err})")
                expect(re.fullmatch(r"within \d+ spawned \d+ started inside \d+",
                                    lines[-1] if lines else ""), f"{label}: {lines} {err}")
                continue
            add = "sync.(*WaitGroup).Add"
            code, lines, err = run("-q", path, "-a", f"p={add}", "--", binary, src, "--bundle",
                                   f"--outfile={os.path.join(d, 'out.js')}", timeout=60)
            expect_eq(code, 0, f"{label}: exit code ({err})")
            m = re.fullmatch(r"within (\d+) spawned (\d+) started inside (\d+)", lines[-1])
            expect(m, f"{label}: {lines}")
            a, b, par = (int(x) for x in m.groups())
            expect(b > a and par > 0, f"{label}: {lines[-1]}")
            # an event in a started goroutine has a parent; one in main.main's own has none
            expect_eq(b - a, par, f"{label}: calls in started goroutines")
            seen += 1
    if not seen:
        raise Skip("no release binary of esbuild (tests/gobins.sh)")


def test_spawned_needs_within_a_boolean_and_the_main_chunk():
    for spec, msg in (
            ('probe{ func = "main.inner", spawned = true }',
             "probe: 'spawned = true' needs 'within = q': it follows the goroutines started "
             "inside calls of q"),
            ('probe{ func = "main.inner", within = probe("main.handle"), spawned = 1 }',
             "probe: 'spawned' must be a boolean"),
            ('local h = probe("main.handle") attach() '
             'probe{ func = "main.inner", within = h, spawned = true }',
             "probe: spawned = true on a probe created after attach(); create it in the main "
             "chunk")):
        code, _, err = _run(spec, "-n", "1")
        expect_eq(code, 1, f"{spec}: exit code")
        expect(msg in err, f"{spec}: {err}")


def test_within_after_attach_needs_a_scope_made_before():
    """The BPF program is loaded with the scope machinery only when a probe made
    before attach() has a within: one made after works then, exactly, and is
    refused (no probe left behind) otherwise."""
    late = 'probe{ func = "main.inner", args = %s, within = h }' % INNER_ARGS
    code, _, err = _run('local h = probe("main.handle") attach() ' + late, "-n", "1")
    expect_eq(code, 1, "without a scope before: exit code")
    expect("probe: within = q on a probe created after attach(), in a script whose probes made "
           "before had no within: create one of them in the main chunk" in err, err)
    code, lines, err = _run(f"""
local h = probe("main.handle")
h:on_event(function() end)
local n = {{ before = 0, after = 0 }}
probe{{ func = "main.inner", args = {INNER_ARGS}, within = h }}:on_event(function()
	n.before = n.before + 1 end)
attach()
{late}:on_event(function() n.after = n.after + 1 end)
on_exit(function() print(("before %d after %d"):format(n.before, n.after)) end)
""", "-n", "6", "-workers", "3", "-bg", "20")
    expect_eq(code, 0, f"with a scope before: exit code ({err})")
    expect_eq(lines, ["done", "before 6 after 6"], "with a scope before: the handlers' own calls")


# ---- luprobe.speculate ----

SPECULATE = f"""
local speculate = require "luprobe.speculate"
local h = probe{{ func = "main.handle", args = {HANDLE_ARGS}, ret = true }}
local s = speculate{{
	outer = h,
	inner = {{ {{ func = "main.inner", args = {INNER_ARGS} }} }},
	keep = function(call) return call.latency > 100e6 end,
	max_events = tonumber(luprobe.args.max_events),
	max_calls = tonumber(luprobe.args.max_calls),
	on_keep = function(call, events)
		local others, last = 0, 0
		local t = speculate.trace(call, events)
		if #t.children ~= #events or t.stop - t.start ~= call.latency then others = 99 end
		for i, e in ipairs(events) do
			if e.args.req ~= call.args.req or e.scope_goid ~= call.goid then others = others + 1 end
			if e.ts < last then others = others + 1 end
			local c = t.children[i]
			if c.start < t.start or c.stop > t.stop or c.event ~= e then others = others + 1 end
			last = e.ts
		end
		print(("kept %d slow %s events %d others %d dropped %d")
			:format(call.args.req, tostring(call.args.slow), #events, others, call.dropped))
	end,
}}
on_exit(function()
	local st = s:stats()
	print(("calls %d kept %d discarded %d events kept %d discarded %d dropped %d over %d "
		.. "evicted %d of %d calls late %d open %d"):format(st.calls, st.kept, st.discarded,
		st.events_kept, st.events_discarded, st.events_dropped, st.events_over,
		st.events_evicted, st.calls_evicted, st.late, st.open))
end)
"""


@each_toolchain
def test_speculation_keeps_exactly_the_inner_calls_of_the_slow_requests():
    # 6 requests, 2 slow (250 ms): 7 inner calls each, 20 more outside any request
    for variant in ("default", "stripped"):
        code, lines, err = _run(SPECULATE, "-n", "6", "-workers", "3", "-slow", "3", "-bg",
                                "20", variant=variant)
        expect_eq(code, 0, f"{variant}: exit code ({err})")
        expect_eq([ln for ln in lines if ln != "done"], [
            "kept 2 slow true events 7 others 0 dropped 0",
            "kept 5 slow true events 7 others 0 dropped 0",
            "calls 6 kept 2 discarded 4 events kept 14 discarded 28 dropped 0 over 0 evicted 0 "
            "of 0 calls late 0 open 0",
        ], f"{variant}: speculation")
        expect("luprobe.speculate" not in err, f"{variant}: nothing dropped: {err}")


def test_speculation_bounds_are_counted_and_shown():
    # at most 4 events per call: 3 of each request's 7 are dropped, kept or not
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", write_script(d, "s.lua", SPECULATE), "-a", "max_events=4",
                               "--", gobin(SPAWN), "-n", "6", "-bg", "5", timeout=60)
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln for ln in lines if ln != "done"], [
        "kept 2 slow true events 4 others 0 dropped 3",
        "kept 5 slow true events 4 others 0 dropped 3",
        "calls 6 kept 2 discarded 4 events kept 8 discarded 16 dropped 18 over 18 evicted 0 "
        "of 0 calls late 0 open 0",
    ], "max_events")
    expect("luprobe.speculate main.handle: 6 calls, 2 kept; 18 events dropped (18 over "
           "max_events 4, 0 of 0 calls evicted over max_calls 1024, 0 late)" in err, err)
    # at most 2 calls held: the 6 requests are all open at once (-parallel), so calls are
    # evicted with their events; every event is kept, discarded or counted as dropped
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", write_script(d, "s.lua", SPECULATE), "-a", "max_calls=2",
                               "--", gobin(SPAWN), "-n", "6", "-bg", "5", "-parallel",
                               timeout=60)
    expect_eq(code, 0, f"exit code ({err})")
    m = re.fullmatch(r"calls 6 kept (\d+) discarded (\d+) events kept (\d+) discarded (\d+) "
                     r"dropped (\d+) over 0 evicted (\d+) of (\d+) calls late (\d+) open (\d+)",
                     lines[-1])
    expect(m, f"stats: {lines}")
    kept, disc, ekept, edisc, drop, evicted, ecalls, late, still = (int(x) for x in m.groups())
    expect_eq(kept + disc, 6, "calls decided")
    expect(ecalls >= 4, f"calls evicted: {lines[-1]}")
    # 6 requests of 7 inner calls; a call still held at exit holds the rest
    expect(ekept + edisc + drop == 42 or (still and ekept + edisc + drop < 42),
           f"every event accounted for: {lines[-1]}")
    expect_eq(drop, evicted + late, "dropped = evicted + late")
    for ln in lines[:-1]:
        expect(ln == "done" or re.fullmatch(r"kept [25] slow true events \d+ others 0 dropped 0",
                                             ln), f"kept: {ln}")
    expect(re.search(r"luprobe\.speculate main\.handle: 6 calls, \d kept; \d+ events dropped "
                     r"\(0 over max_events 1000, \d+ of \d+ calls evicted over max_calls 2, "
                     r"\d+ late\)", err), err)


def test_speculation_needs_a_scoped_inner_probe_and_an_outer_with_ret():
    for script, msg in (
            ('local s = require "luprobe.speculate" '
             's{ outer = probe{ func = "main.handle", args = false, ret = true }, '
             'inner = { probe{ func = "main.inner", args = false } }, on_keep = print }',
             "speculate: main.inner is not scoped to the outer probe: declare it with "
             "within = outer, spawned = true"),
            ('local s = require "luprobe.speculate" '
             's{ outer = probe{ func = "main.handle", args = false }, '
             'inner = { { func = "main.inner", args = false } }, on_keep = print }',
             "speculate: the outer probe main.handle needs ret = true"),
            ('local s = require "luprobe.speculate" s{ outer = probe("main.handle") }',
             "speculate: inner must list at least one probe or probe specification"),
            ('local s = require "luprobe.speculate" '
             's{ outer = probe("main.handle"), inner = { "x" }, on_keep = print }',
             "speculate: inner[1] must be a probe or a probe specification")):
        code, _, err = _run(script, "-n", "1", "-bg", "1")
        expect_eq(code, 1, f"{msg}: exit code ({err})")
        expect(msg in err, f"{msg}: {err}")


# ---- a net/http server with database/sql ----

def _requests(port):
    # (i, workers, ms): the 250 ms ones are slow; /bg queries on a goroutine of its own
    # started by another handler, never inside main.serveReq
    for i, workers, ms in ((1, 3, 0), (2, 3, 250), (3, 2, 0), (4, 2, 250), (5, 1, 0)):
        expect_eq(http_get(port, f"/req?i={i}&workers={workers}&ms={ms}"), f"ok {i}\n",
                  f"request {i}")
        if i == 3:
            expect_eq(http_get(port, "/bg?n=4"), "bg 4\n", "background queries")


SQL_SPECULATE = """
local speculate = require "luprobe.speculate"
local req = probe{ func = "main.serveReq", args = false, ret = {} }
speculate{
	outer = req,
	inner = { { func = "database/sql.(*DB).QueryContext", args = {
		{ "recv", "uintptr" }, { "ctx", "error" }, { "query", "string" } }, stack = true } },
	keep = function(call) return call.latency > 150e6 end,
	on_keep = function(call, events)
		local lookups = 0
		for _, e in ipairs(events) do
			for _, f in ipairs(e.stack) do
				if f.func == "main.lookup" then lookups = lookups + 1 end
			end
			if e.args.query ~= "SELECT name FROM users WHERE id = ?" then lookups = -99 end
		end
		print(("slow request: %d queries, %d from main.lookup"):format(#events, lookups))
		io.stdout:flush()
	end,
}
attach() print("ready") io.stdout:flush()
"""


@each_toolchain
def test_speculation_on_a_net_http_server_with_database_sql():
    for variant in ("default", "stripped"):
        srv = Server(gobin(SPAWN, variant))
        with tempfile.TemporaryDirectory() as d:
            lp = luprobe("-q", write_script(d, "s.lua", SQL_SPECULATE), "-p", str(srv.pid))
            lp.wait_line("^ready$")
            _requests(srv.port)
            lp.wait_line("^slow request: 2 queries")
            time.sleep(0.2)
            lp.signal(signal.SIGINT)
            expect_eq(lp.wait(10), 0, f"{variant}: exit code")
        expect_eq(lp.lines, ["ready", "slow request: 3 queries, 3 from main.lookup",
                             "slow request: 2 queries, 2 from main.lookup"], f"{variant}: kept")


def test_slow_requests_sql_and_error_requests_scripts():
    port = free_port()
    lp = luprobe("-q", os.path.join(SCRIPTS, "slow-requests-sql.lua"), "-a", "ms=150", "--",
                 gobin(SPAWN, "stripped"), "-addr", f"127.0.0.1:{port}")
    lp.wait_line("^listening on ")
    time.sleep(0.3)
    _requests(port)
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")
    heads = [ln for ln in lp.lines if ln.startswith("request ")]
    expect_eq([re.sub(r"request \S+ goroutine \d+", "request T goroutine G", ln)
               for ln in heads], ["request T goroutine G: 3 queries",
                                  "request T goroutine G: 2 queries"], "slow requests")
    queries = [ln for ln in lp.lines if "SELECT" in ln]
    expect_eq(len(queries), 5, f"queries: {lp.lines}")
    expect_eq(sum(1 for ln in lp.lines if ln.strip() == "main.lookup(...)"), 5,
              f"stacks: {lp.lines}")
    # lookupUser of ids 13 and 99 fail (locked, no rows), 1 and 2 do not: per round,
    # two calls are kept, each with the one query it made
    code, lines, err = run("-q", os.path.join(SCRIPTS, "error-requests.lua"), "-a",
                           "func=main.lookupUser", "-a", "calls=database/sql.(*DB).QueryContext",
                           "--", gobin(WEBAPP), "-workload", "2", timeout=60)
    expect_eq(code, 0, f"exit code ({err})")
    outer = [ln for ln in lines if ln.startswith("main.lookupUser(")]
    expect_eq([re.search(r"id=(\d+)", ln).group(1) for ln in outer], ["13", "99", "13", "99"],
              "calls kept")
    inner = [ln for ln in lines if ln.startswith("  +")]
    expect_eq(len(inner), 4, f"inner calls: {lines}")
    expect(all('query="SELECT name FROM users WHERE id = ?"' in ln for ln in inner), inner)
