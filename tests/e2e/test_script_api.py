# SPDX-License-Identifier: BSD-2-Clause
"""The scripting surface: kernel predicates, aggregations in Lua and in the
kernel, timers and lifecycle, enable/disable and within, many targets,
libraries, --describe, JSON, runaway and failing callbacks. The example
scripts are in test_example_scripts."""
import json
import os
import re
import signal
import tempfile
import time

from lib import (SCRIPTS, Server, each_toolchain, expect, expect_eq, free_port, gobin, luprobe,
                 run, write_script)

WEBAPP = "webapp"
ROUNDS = 5


def _workload(script, *extra, rounds=ROUNDS, variant="default"):
    with tempfile.TemporaryDirectory() as d:
        path = write_script(d, "s.lua", script)
        code, lines, err = run("-q", *extra, path, "--", gobin(WEBAPP, variant), "-workload",
                               str(rounds), timeout=60)
    out = [ln for ln in lines if not ln.startswith(("round ", "total: "))]
    return code, out, err


# ---- predicates ----

@each_toolchain
def test_kernel_predicates_keep_exactly_the_matching_calls():
    cases = [
        # (function, where, ret, calls kept per round of the workload)
        ("main.lookupUser", "id == 13", False, 1),
        ("main.lookupUser", "id > 1 and id < 99", False, 2),
        ("main.lookupUser", "not (id == 1 or id == 2)", False, 2),
        ("main.lookupUser", "id ~= 13 && !(id >= 99)", False, 2),
        ("luprobe.test/webapp/store.Get", 'key == "nope"', False, 1),
        ("luprobe.test/webapp/store.Get", 'prefix(key, "k")', False, 1),
        ("luprobe.test/webapp/store.Get", "len(key) == 4", False, 1),
        ("luprobe.test/webapp/store.Get", "err ~= nil", True, 1),
        ("luprobe.test/webapp/store.Delete", "err == nil", True, 1),
        ("main.process", 'kind == "bad" and err ~= nil', True, 1),
        ("main.lookupUser", "latency >= 0 and id == 2", True, 1),
    ]
    for func, where, ret, per_round in cases:
        script = (f'local n = 0 probe{{ func = "{func}", ret = {str(ret).lower()}, '
                  f'where = {json.dumps(where)} }}:on_event(function() n = n + 1 end) '
                  'on_exit(function() local st = luprobe.stats() '
                  'print("kept " .. n .. " filtered " .. st.filtered) end)')
        code, out, err = _workload(script)
        expect_eq(code, 0, f"{where}: exit code ({err})")
        calls = {"main.lookupUser": 4, "luprobe.test/webapp/store.Get": 2,
                 "luprobe.test/webapp/store.Delete": 2, "main.process": 2}[func]
        expect_eq(out, [f"kept {per_round * ROUNDS} filtered {(calls - per_round) * ROUNDS}"],
                  f"{func} where {where}")


@each_toolchain
def test_predicates_on_every_kind_of_value():
    binary = gobin("types")
    script = """
for _, s in ipairs{
	{ "main.fBool", "b == true" }, { "main.fInts", "a == -100 and b < -29999 and d == -123456789012" },
	{ "main.fUints", "d > 12345678901234567889 and f == 0xdeadbeef" },
	{ "main.fString", 's == "h\\xc3\\xa9llo, w\\xc3\\xb6rld"' }, { "main.fError", "err ~= nil" },
	{ "main.fPtrs", "s.A == 424242 and p ~= nil" }, { "main.fRequest", 'r.URL ~= nil and r.Method == "GET"' },
	{ "main.fMap", "len(m) == 3" }, { "main.fChan", "len(c) == 2" }, { "main.fIntSlice", "len(xs) == 3" },
	{ "main.fArray1", "true" }, { "main.fSmall", 'prefix(s.B, "sma")' },
} do
	probe{ func = s[1], where = s[2], deref = 2 }:on_event(function(e) print("hit " .. e.func) end)
end
"""
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", write_script(d, "p.lua", script), "--", binary)
    expect_eq(code, 0, f"exit code ({err})")
    hits = [ln[4:] for ln in lines if ln.startswith("hit ")]
    expect_eq(sorted(hits), sorted(["main.fBool", "main.fInts", "main.fUints", "main.fString",
                                    "main.fError", "main.fError", "main.fError", "main.fPtrs",
                                    "main.fRequest", "main.fMap", "main.fChan", "main.fIntSlice",
                                    "main.fArray1", "main.fSmall"]), "calls kept")


def test_malformed_or_impossible_predicates_name_the_column():
    cases = [
        ("id >", "probe: where: unexpected end of expression at column 5"),
        ("(id == 1", "probe: where: expected ')' at column 9"),
        ("id == 1 andd id == 2", "probe: where: unexpected 'a' at column 9"),
        ("nosuch == 1", "main.lookupUser: where: unknown name 'nosuch' at column 1"),
        ('id == "x"', "main.lookupUser: where: id is not a string at column 4"),
        ("latency > 5", "main.lookupUser: where: latency needs ret = true at column 1"),
    ]
    for where, want in cases:
        code, _, err = run("-q", "-e", f"probe{{ func = 'main.lookupUser', where = "
                           f"{json.dumps(where)} }}", "--", gobin(WEBAPP), "-workload", "1")
        expect(code != 0, f"non-zero exit for {where}")
        expect_eq(err.splitlines(), [f"luprobe: (command line):1: {want}"], f"stderr for {where}")


def test_handler_returning_false_hides_the_event_from_later_handlers():
    script = """
local seen1, seen2 = 0, 0
local p = probe{ func = "main.lookupUser", args = { "id" } }
p:on_event(function(e) seen1 = seen1 + 1 return e.args.id ~= 13 end)
p:on_event(function(e) seen2 = seen2 + 1 assert(e.args.id ~= 13) end)
on_exit(function() print(seen1 .. " " .. seen2) end)
"""
    code, out, _ = _workload(script)
    expect_eq(code, 0, "exit code")
    expect_eq(out, [f"{4 * ROUNDS} {3 * ROUNDS}"], "events seen by each handler")


# ---- aggregations ----

AGG_SCRIPT = """
local agg = require "luprobe.agg"
local json = require "luprobe.json"
-- the same numbers, aggregated by the script from events and by the kernel without events
local lua = { count = agg.count(), sum = agg.sum(), min = agg.min(), max = agg.max(),
	avg = agg.avg(), hist = agg.hist(), lhist = agg.lhist(0, 100, 10) }
probe{ func = "main.lookupUser", args = { "id" } }:on_event(function(e)
	lua.count:add(e.args.id)
	for _, k in ipairs{ "sum", "min", "max", "avg", "hist", "lhist" } do lua[k]:add(e.args.id, "all") end
end)
local k = probe{ func = "main.lookupUser", args = false }
local kern = { count = k:count("id"), sum = k:sum("id", "func"), min = k:min("id", "func"),
	max = k:max("id", "func"), avg = k:avg("id", "func"), hist = k:hist("id", "func"),
	lhist = k:lhist("id", 0, 100, 10, "func") }
on_exit(function()
	for _, name in ipairs{ "count", "sum", "min", "max", "avg", "hist", "lhist" } do
		local a, b = {}, {}
		for _, it in ipairs(lua[name]:items()) do a[#a + 1] = { it.value, it.group.buckets } end
		for _, it in ipairs(kern[name]:items()) do b[#b + 1] = { it.value, it.group.buckets } end
		print(name .. " " .. json.encode(a) .. " " .. json.encode(b))
	end
	-- compared, not to be printed at exit (cleared after all are read: sum, min, max and
	-- avg of one value share their kernel data)
	for _, name in ipairs{ "count", "sum", "min", "max", "avg", "hist", "lhist" } do
		lua[name]:clear()
		kern[name]:clear()
	end
	print("events " .. luprobe.stats().events)
end)
"""


def test_aggregations_in_lua_and_in_the_kernel_agree():
    code, out, err = _workload(AGG_SCRIPT)
    expect_eq(code, 0, f"exit code ({err})")
    rows = dict(ln.split(" ", 1) for ln in out)
    for name in ("count", "sum", "min", "max", "avg", "hist", "lhist"):
        lua_json, kern_json = rows[name].split(" ")
        expect_eq(json.loads(kern_json), json.loads(lua_json), f"{name}: kernel vs Lua")
    # ids 1, 2, 13, 99 per round
    expect_eq(json.loads(rows["count"].split(" ")[0]),
              [[ROUNDS]] * 4, "count by id")
    expect_eq(json.loads(rows["sum"].split(" ")[0])[0][0], 115 * ROUNDS, "sum of ids")
    # only the script's probe sent events: the kernel-only probe sent none
    expect_eq(rows["events"], str(4 * ROUNDS), "events delivered")


def test_unprinted_aggregations_print_at_exit_with_bars_or_as_json():
    script = 'probe{ func = "main.lookupUser", args = false }:hist("id")'
    code, out, _ = _workload(script)
    expect_eq(code, 0, "exit code")
    expect_eq(out[0], "main.lookupUser hist id:", "title")
    bars = [ln for ln in out if "|" in ln]
    expect(re.match(r"^\[1\]\s+5 \|@{52}\|$", bars[0]), bars)   # id 1: bucket [1]
    expect(re.match(r"^\[2, 4\)\s+5 \|@{52}\|$", bars[1]), bars)
    code, out, _ = _workload(script, "--json")
    obj = json.loads(out[0])
    expect_eq((obj["aggregation"], obj["kind"]), ("main.lookupUser hist id", "hist"), "json")
    buckets = {(b["min"], b["max"]): b["count"] for b in obj["groups"][0]["buckets"]}
    expect_eq(buckets[(1, 2)], ROUNDS, "bucket [1, 2)")
    expect_eq(buckets[(64, 128)], ROUNDS, "bucket [64, 128) holds id 99")
    expect_eq(obj["groups"][0]["count"], 4 * ROUNDS, "count")


# ---- time and lifecycle ----

def test_every_after_on_exit_and_exit_code():
    binary = gobin("computee")
    script = """
local ticks, first = 0, nil
every(20, function()
	ticks = ticks + 1
	first = first or luprobe.now()
	if ticks == 6 then
		printf("5 intervals in %d ms\\n", (luprobe.now() - first) // 1000000)
		exit(3)
	end
end)
after(30, function() print("after") end)
on_exit(function() print("ticks " .. ticks) end)
probe{ func = "main.computeE" }
"""
    with tempfile.TemporaryDirectory() as d:
        code, lines, _ = run("-q", write_script(d, "t.lua", script), "--", binary, "-addr",
                             f"127.0.0.1:{free_port()}")
    expect_eq(code, 3, "exit code from exit(3)")
    lines = [ln for ln in lines if not ln.startswith("listening on")]
    expect_eq(lines[0], "after", "after(30) ran once, before the sixth tick")
    ms = int(re.match(r"5 intervals in (\d+) ms", lines[1]).group(1))
    expect(95 <= ms <= 250, f"5 intervals of 20 ms took {ms} ms")
    expect_eq(lines[2:], ["ticks 6"], "on_exit ran, the timer stopped at exit()")


def test_duration_stops_the_run_cleanly():
    srv = Server(gobin("computee"))
    t0 = time.time()
    code, lines, _ = run("-q", "--duration", "0.4", "-e",
                         'probe{ func = "main.computeE" } on_exit(function() print("done") end)',
                         "-p", str(srv.pid))
    took = time.time() - t0
    expect_eq(code, 0, "exit code")
    expect_eq(lines, ["done"], "on_exit ran")
    expect(0.4 <= took < 3, f"took {took:.2f}s for --duration 0.4")
    expect(srv.get("/e?iters=3").startswith("e = "), "server unaffected")


# ---- conditional tracing ----

def test_enable_disable_from_callbacks_and_start_disabled():
    srv = Server(gobin("computee"))
    script = """
local p = probe{ func = "main.computeE", enabled = false }
p:on_event(function(e) print("traced " .. e.args.iterations) io.stdout:flush() end)
probe{ func = "net/http.(*ServeMux).ServeHTTP", args = { "r.URL.RawQuery" } }:on_event(function(e)
	local q = e.args["r.URL.RawQuery"]
	if q == "iters=1000" then p:enable() print("enabled") end
	if q == "iters=2000" then p:disable() print("disabled") end
	io.stdout:flush()
end)
attach()
print("ready") io.stdout:flush()
"""
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe("-q", write_script(d, "e.lua", script), "-p", str(srv.pid))
        lp.wait_line("^ready$")
        srv.get("/e?iters=11")          # disabled: not traced
        srv.get("/e?iters=1000")        # enables (this call itself started before: not traced)
        lp.wait_line("^enabled$")
        srv.get("/e?iters=22")          # traced
        srv.get("/e?iters=2000")        # disables; its own computeE may be traced or not
        lp.wait_line("^disabled$")
        srv.get("/e?iters=33")          # not traced
        srv.get("/e?iters=44")
        time.sleep(0.1)
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
    traced = [int(ln.split()[1]) for ln in lp.lines if ln.startswith("traced ")]
    expect(traced in ([22], [22, 2000], [1000, 22], [1000, 22, 2000]), f"traced {traced}")


def test_within_scopes_a_probe_to_calls_of_another():
    script = """
local outer = probe{ func = "main.lookupUser", args = { "id" }, where = "id == 13" }
probe{ func = "database/sql.(*DB).QueryContext", args = { "query" }, within = outer }
	:on_event(function(e) print("inner " .. e.args.query) end)
"""
    code, out, _ = _workload(script)
    expect_eq(code, 0, "exit code")
    inner = [ln for ln in out if ln.startswith("inner ")]
    expect_eq(inner, ["inner SELECT name FROM users WHERE id = ?"] * ROUNDS,
              "queries inside lookupUser(13) only")
    outer = [ln for ln in out if ln.startswith("main.lookupUser(")]
    expect_eq(len(outer), ROUNDS, "the scope probe's own events (default printer)")


# ---- targets ----

def test_many_targets_by_pid_and_by_binary_path():
    binary = gobin("computee")
    a, b = Server(binary), Server(binary)
    script = """
probe{ func = "main.computeE", %s }:on_event(function(e)
	print(e.pid .. " " .. e.args.iterations) io.stdout:flush() end)
attach() print("ready") io.stdout:flush()
"""
    for how, args in (("pids", ["-p", str(a.pid), "-p", str(b.pid)]),
                      ("path", [])):
        target = "" if how == "pids" else f'target = "{binary}"'
        with tempfile.TemporaryDirectory() as d:
            lp = luprobe("-q", write_script(d, "m.lua", script % target), *args)
            lp.wait_line("^ready$")
            a.get("/e?iters=101")
            b.get("/e?iters=202")
            lp.wait_line(rf"^{a.pid} 101$")
            lp.wait_line(rf"^{b.pid} 202$")
            lp.signal(signal.SIGINT)
            expect_eq(lp.wait(10), 0, f"{how}: exit code")


# ---- libraries, arguments, describe ----

def test_require_finds_modules_next_to_the_script_in_I_and_LUPROBE_PATH():
    srv = Server(gobin("computee"))
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "inc"))
        os.makedirs(os.path.join(d, "env"))
        write_script(d, "nextdoor.lua", "return { name = 'nextdoor' }")
        write_script(os.path.join(d, "inc"), "viaflag.lua", "return { name = 'viaflag' }")
        write_script(os.path.join(d, "env"), "viaenv.lua", "return { name = 'viaenv' }")
        script = write_script(d, "main.lua", """
local fmt = require "luprobe.fmt"
print(require("nextdoor").name, require("viaflag").name, require("viaenv").name,
	fmt.duration(12400), luprobe.args.color, luprobe.args.size)
exit()
""")
        code, lines, err = run("-q", "-I", os.path.join(d, "inc"), "-a", "color=blue", "-a",
                               "size=3", script, "-p", str(srv.pid),
                               env={**os.environ, "LUPROBE_PATH": os.path.join(d, "env")})
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq(lines, ["nextdoor\tviaflag\tviaenv\t12.4µs\tblue\t3"], "modules and arguments")


def test_fmt_number_is_exact_and_shortest():
    """fmt.number, which the aggregations and the metrics print numbers with:
    integers exactly, floats in the fewest digits that read back as them."""
    code, lines, err = run("-q", "-e", 'local fmt = require "luprobe.fmt"; print(fmt.number(2^64), '
                           'fmt.number(0.1), fmt.number(1/3), fmt.number(-7), fmt.number(0.1 + 0.2), '
                           'fmt.number(math.maxinteger), fmt.number(2.5)) exit()')
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq(lines, ["1.8446744073709552e+19\t0.1\t0.3333333333333333\t-7\t0.30000000000000004\t"
                      "9223372036854775807\t2.5"], "fmt.number")
    code, lines, err = run("-q", "-e", 'local fmt = require "luprobe.fmt"; print(fmt.errmsg(nil), '
                           'fmt.errmsg({ type = "*url.Error" }), fmt.errmsg({ type = '
                           '"*errors.errorString", value = "no rows" })) exit()')
    expect_eq((code, lines), (0, ["nil\t*url.Error\tno rows"]), f"fmt.errmsg ({err})")
    code, lines, err = run("-q", "-e", 'local fmt = require "luprobe.fmt"; print(fmt.addr("\\127\\0\\0\\1", '
                           '8443), fmt.addr(("\\0"):rep(10) .. "\\255\\255\\10\\1\\2\\3", 80), '
                           'fmt.addr(("\\0"):rep(15) .. "\\1", 53), fmt.addr(nil, 1)) exit()')
    expect_eq((code, lines), (0, ["127.0.0.1:8443\t10.1.2.3:80\t[0:0:0:0:0:0:0:1]:53\tnil"]),
              f"fmt.addr ({err})")


def test_describe_prints_the_script_header():
    code, lines, _ = run("--describe", os.path.join(SCRIPTS, "latency.lua"))
    expect_eq(code, 0, "exit code")
    expect_eq(lines, [
        f"{SCRIPTS}/latency.lua: Latency histogram of any Go function, kept in the kernel",
        "arguments (-a name=value):",
        "  func         the Go function or glob (required)",
        "  by           an argument to split the histogram by (optional)",
        "  every        print (and start over) every this many seconds (default: at exit)",
    ], "describe")


# ---- failing and runaway callbacks ----

def test_runaway_callback_is_stopped_by_the_budget():
    code, out, err = _workload('probe{ func = "main.lookupUser" }:on_event(function() '
                               'while true do end end)', "--budget", "100000")
    expect_eq(code, 1, "exit code")
    expect("callback ran more than 100000 instructions (a runaway loop?); raise the budget "
           "with --budget" in err, err)


def test_error_in_a_callback_prints_a_traceback_and_stops():
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "boom.lua", 'probe{ func = "main.lookupUser" }\n'
                              ':on_event(function(e)\n  error("boom " .. e.args.id)\nend)\n')
        code, lines, err = run("-q", script, "--", gobin(WEBAPP), "-workload", "3")
        expect_eq(code, 1, "exit code")
        expect(f"luprobe: {script}:3: boom 1" in err, err)
        expect("stack traceback:" in err, err)
        expect_eq(err.count(": boom "), 1, "one error: the run stopped at the first")
        code, lines, err = run(script, "--keep-going", "--", gobin(WEBAPP), "-workload", "3")
        expect_eq(code, 0, "exit code with --keep-going")
        expect_eq(err.count(": boom "), 12, "every error reported")
        expect("luprobe: 12 events, 0 lost, 12 errors" in err, err)
