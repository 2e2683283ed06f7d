# SPDX-License-Identifier: BSD-2-Clause
"""Aggregation numbers and map memory — min and max when both CPUs
ran the probe, Go signedness of uint64 and int64 values, the last interval of
a periodic print, a full aggregation map, JSON of strings that are not UTF-8,
linear histograms over the whole int64 range, and the kernel memory of every
map."""
import json
import os
import subprocess
import tempfile
import time

from lib import (LUPROBE, SCRIPTS, Skip, expect, expect_eq, gobin, leftover_probes, run,
                 write_script)

AGGS = "aggs"
U = [0, 1, 2**63 - 1, 2**63, 18000000000000000000, 2**64 - 1]   # big(u, s), in order
S = [-2**63, -1, 0, 5, 2**63 - 1, 0]


def _json_lines(lines):
    return [json.loads(ln) for ln in lines if ln.startswith("{")]


def _buckets(group):
    return {(b.get("min"), b.get("max")): b["count"] for b in group["buckets"]}


def _agg_run(text, mode, *extra, luprobe_args=(), timeout=60):
    """Run script text against the aggs target in mode: (exit code, stdout lines, stderr)."""
    with tempfile.TemporaryDirectory() as d:
        return run(*luprobe_args, write_script(d, "s.lua", text), "--", gobin(AGGS), "-mode",
                   mode, *extra, timeout=timeout)


# ---- every CPU's slot ----

CPUS_SCRIPT = """
local k = probe{ func = "main.obs", args = false }
local a = { k:min("v", "kind"), k:max("v", "kind"), k:sum("v", "kind"), k:avg("v", "kind"),
	k:count("kind"), k:hist("v", "kind") }
"""


def test_min_max_and_avg_are_right_when_both_cpus_ran_the_probe():
    """The keys are made on CPU 0; CPU 1's zeroed slots of them must not read as a 0
    minimum (positive values) or a 0 maximum (negative values)."""
    if not {0, 1} <= os.sched_getaffinity(0):
        raise Skip("needs CPUs 0 and 1")
    code, lines, err = _agg_run(CPUS_SCRIPT, "cpus", luprobe_args=("-q", "--json"))
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln for ln in lines if not ln.startswith("{")],
              ["ran on cpu 0", "ran on cpu 1", "done"], "the calls ran on CPU 0, then on CPU 1")
    aggs = {o["aggregation"]: {g["key"]: g for g in o["groups"]} for o in _json_lines(lines)}
    # kind 1: 40, 7, 300 on CPU 0; 5, 900 on CPU 1. kind 2: the same, negated.
    for kind, sign in ((1, 1), (2, -1)):
        want = {"count": 5, "sum": sign * 1252, "min": min(sign * 5, sign * 900),
                "max": max(sign * 5, sign * 900)}
        for name in ("min", "max", "sum", "avg", "hist"):
            g = aggs[f"main.obs {name} v by kind"][kind]
            expect_eq({f: g[f] for f in want}, want, f"{name} by kind {kind}")
        expect_eq(aggs["main.obs min v by kind"][kind]["value"], want["min"], "min")
        expect_eq(aggs["main.obs max v by kind"][kind]["value"], want["max"], "max")
        expect_eq(aggs["main.obs sum v by kind"][kind]["value"], sign * 1252, "sum")
        expect_eq(aggs["main.obs avg v by kind"][kind]["value"], sign * 250.4, "avg")
        expect_eq(aggs["main.obs count by kind"][kind]["value"], 5, "count")
    expect_eq(_buckets(aggs["main.obs hist v by kind"][1]),
              {(4, 8): 2, (32, 64): 1, (256, 512): 1, (512, 1024): 1}, "hist of kind 1")
    expect_eq(_buckets(aggs["main.obs hist v by kind"][2]), {(None, 0): 5}, "hist of kind 2")


# ---- Go signedness, and how a uint64 from 2^63 up reaches Lua ----

VALUES_SCRIPT = """
local agg = require "luprobe.agg"
local json = require "luprobe.json"
local k = probe{ func = "main.big", args = false }
local kern = { stats_u = k:sum("u"), avg_u = k:avg("u"), hist_u = k:hist("u"),
	lhist_u = k:lhist("u", 0, 1000, 100), count_u = k:count("u"), stats_s = k:min("s"),
	hist_s = k:hist("s") }
local lua = { stats_u = agg.sum(), hist_u = agg.hist(), lhist_u = agg.lhist(0, 1000, 100),
	count_u = agg.count(), stats_s = agg.min(), hist_s = agg.hist() }
probe{ func = "main.big", args = { "u", "s" } }:on_event(function(e)
	local u, s = e.args.u, e.args.s
	print(string.format("ev %s %s %s %s", math.type(u), json.encode(u), tostring(u > math.maxinteger),
		json.encode(s)))
	print(tostring(e))
	print(e:json())
	lua.stats_u:add(u) lua.hist_u:add(u) lua.lhist_u:add(u) lua.count_u:add(u)
	lua.stats_s:add(s) lua.hist_s:add(s)
end)
probe{ func = "main.boxed", args = { "v" } }:on_event(function(e)
	print(string.format("boxed %s %s", math.type(e.args.v.value), json.encode(e.args.v)))
end)
on_exit(function()
	-- printed, then cleared (sum, min, max and avg of one value share their kernel data)
	for _, side in ipairs{ { "kernel", kern }, { "lua", lua } } do
		for name, a in pairs(side[2]) do
			print('{"side":"' .. side[1] .. '","name":"' .. name .. '","agg":' .. a:json() .. "}")
		end
	end
	for _, side in ipairs{ kern, lua } do
		for _, a in pairs(side) do a:clear() end
	end
end)
"""


def _values_run():
    code, lines, err = _agg_run(VALUES_SCRIPT, "values", luprobe_args=("-q",))
    expect_eq(code, 0, f"exit code ({err})")
    aggs = {(o["side"], o["name"]): o["agg"] for o in _json_lines(lines) if "side" in o}
    return lines, aggs


def _groups(agg):
    return {g.get("key"): g for g in agg["groups"]}


def test_uint64_and_int64_values_keep_their_signedness():
    lines, aggs = _values_run()
    # in Lua: an integer when it fits, else the nearest float; text and JSON stay exact
    evs = [ln.split(" ") for ln in lines if ln.startswith("ev ")]
    expect_eq([e[1] for e in evs], ["integer"] * 3 + ["float"] * 3, "math.type(e.args.u)")
    expect_eq([float(e[2]) for e in evs], [float(u) for u in U], "e.args.u")
    expect_eq([e[3] for e in evs], ["false"] * 3 + ["true"] * 3, "e.args.u > math.maxinteger")
    expect_eq([int(e[4]) for e in evs], S, "e.args.s")
    texts = [ln for ln in lines if ln.startswith("main.big(")]
    expect_eq([t.split("  ")[0] for t in texts],
              [f"main.big(u={u}, s={s})" for u, s in zip(U, S)], "tostring(e): exact decimals")
    objs = [o for o in _json_lines(lines) if o.get("func") == "main.big"]
    expect_eq([(o["args"]["u"], o["args"]["s"]) for o in objs], list(zip(U, S)),
              "e:json(): exact decimals")
    boxed = [ln.split(" ", 2) for ln in lines if ln.startswith("boxed ")]
    expect_eq([(b[1], json.loads(b[2])) for b in boxed],
              [("float", {"type": "uint64", "value": 1.8e19}),
               ("integer", {"type": "int64", "value": -5})], "uint64 and int64 in an interface")

    # the kernel keeps exact 128-bit sums and compares with the value's signedness
    fu = [float(u) for u in U]
    st = _groups(aggs[("kernel", "stats_u")])[None]
    expect_eq((st["count"], st["sum"], st["min"], st["max"], st["value"]),
              (6, float(sum(U)), 0, float(2**64 - 1), float(sum(U))), "sum, min, max of u")
    expect_eq(_groups(aggs[("kernel", "avg_u")])[None]["value"], float(sum(U)) / 6, "avg of u")
    expect_eq(_buckets(_groups(aggs[("kernel", "hist_u")])[None]),
              {(0, 1): 1, (1, 2): 1, (2**62, 2**63): 1, (2**63, 2**64): 3}, "hist of u")
    expect_eq(_buckets(_groups(aggs[("kernel", "lhist_u")])[None]),
              {(0, 100): 2, (1000, None): 4}, "lhist of u: 2^63 and up are above 1000")
    expect_eq({k: g["count"] for k, g in _groups(aggs[("kernel", "count_u")]).items()},
              {k: 1 for k in [0, 1, 2**63 - 1] + fu[3:]}, "count by u: the keys")
    st = _groups(aggs[("kernel", "stats_s")])[None]
    expect_eq((st["count"], st["sum"], st["min"], st["max"], st["value"]),
              (6, 3, -2**63, 2**63 - 1, -2**63), "sum, min, max of s")
    expect_eq(_buckets(_groups(aggs[("kernel", "hist_s")])[None]),
              {(None, 0): 2, (0, 1): 2, (4, 8): 1, (2**62, 2**63): 1}, "hist of s")

    # aggregations in Lua see the same numbers (2^64 - 1 reaches Lua rounded to 2^64)
    st = _groups(aggs[("lua", "stats_u")])[None]
    expect_eq((st["count"], st["min"], st["max"]), (6, 0, float(2**64)), "Lua: min, max of u")
    expect_eq(st["sum"], float(2**63) + (fu[3] + fu[4] + fu[5]), "Lua: sum of u")
    expect_eq(_buckets(_groups(aggs[("lua", "hist_u")])[None]),
              {(0, 1): 1, (1, 2): 1, (2**62, 2**63): 1, (2**63, 2**64): 2, (2**64, 2**65): 1},
              "Lua: hist of u")
    expect_eq(_buckets(_groups(aggs[("lua", "lhist_u")])[None]), {(0, 100): 2, (1000, None): 4},
              "Lua: lhist of u")
    expect_eq(aggs[("lua", "count_u")]["groups"], aggs[("kernel", "count_u")]["groups"],
              "Lua and kernel: count by u")
    for name in ("stats_s", "hist_s"):
        expect_eq(aggs[("lua", name)]["groups"], aggs[("kernel", name)]["groups"],
                  f"Lua and kernel: {name}")


# ---- linear histograms over the whole int64 range ----

LHIST_SCRIPT = """
local agg = require "luprobe.agg"
local k = probe{ func = "main.big", args = false }
local q = 1 << 62
local kern = k:lhist("s", math.mininteger, math.maxinteger, q)
local lua = agg.lhist(math.mininteger, math.maxinteger, q)
-- 1000 buckets from math.mininteger: values up to 2^64 - 1 above min, all above max
local low = math.mininteger + 1000
local kern2, lua2 = k:lhist("s", math.mininteger, low, 1), agg.lhist(math.mininteger, low, 1)
probe{ func = "main.big", args = { "s" } }:on_event(function(e) lua:add(e.args.s) lua2:add(e.args.s) end)
for _, f in ipairs{ function() k:lhist("s", math.mininteger, math.maxinteger, 1) end,
		function() agg.lhist(math.mininteger, math.maxinteger, 1) end } do
	print(select(2, pcall(f)))
end
on_exit(function()
	for _, a in ipairs{ kern, lua, kern2, lua2 } do
		print(a:json())
		a:clear()
	end
end)
"""


def test_lhist_over_the_whole_int64_range_has_right_buckets_or_is_refused():
    code, lines, err = _agg_run(LHIST_SCRIPT, "values", luprobe_args=("-q",))
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln.split(": ", 1)[1] for ln in lines[:2]], [
        "lhist(value, min, max, step): min < max, step > 0, at most 1000 buckets",
        "lhist(min, max, step): numbers with min < max and step > 0, at most 1000 buckets",
    ], "2^64 - 1 buckets are refused, in the kernel and in Lua")
    q = 2**62
    want = {(-2**63, -q): 1, (-q, 0): 1, (0, q): 3, (q, None): 1}
    kern, lua, kern2, lua2 = _json_lines(lines)
    expect_eq(_buckets(kern["groups"][0]), want, "kernel: buckets of s")
    expect_eq(_buckets(lua["groups"][0]), want, "Lua: buckets of s")
    want = {(-2**63, -2**63 + 1): 1, (-2**63 + 1000, None): 5}
    expect_eq(_buckets(kern2["groups"][0]), want, "kernel: buckets of s from math.mininteger")
    expect_eq(_buckets(lua2["groups"][0]), want, "Lua: buckets of s from math.mininteger")


# ---- the last part of an interval printed by a timer ----

def test_every_prints_the_last_partial_interval_at_exit():
    """latency.lua -a every=2 --duration 4: 25 calls from 0 to 2.5 s after the start;
    the counts of every printed histogram add up to the calls."""
    with tempfile.TemporaryDirectory():
        code, lines, err = run("-q", os.path.join(SCRIPTS, "latency.lua"), "-a", "func=main.tick",
                               "-a", "every=2", "--duration", "4", "--", gobin(AGGS), "-mode",
                               "ticks", "-n", "25", "-ms", "100", "-wait", timeout=60)
    expect_eq(code, 0, f"exit code ({err})")
    expect("done" in lines, f"the target made its 25 calls before the end: {lines}")
    titles = [ln for ln in lines if ln.endswith(":")]
    expect_eq(titles[0], "main.tick latency (last 2s):", "the timer's print")
    expect_eq(titles[-1], "main.tick hist latency:", "the rest, printed at exit")
    counts = [int(ln.split("|")[0].split()[-1]) for ln in lines if ln.endswith("|")]
    expect_eq(sum(counts), 25, f"calls in all printed intervals ({lines})")


# ---- a full aggregation map ----

KEYS_SCRIPT = """
%s
local c = probe{ func = "main.keyed", args = false }:count("k")
on_exit(function()
	local n, ok = 0, true
	for k, g in pairs(c:data()) do
		n = n + 1
		ok = ok and k >= 0 and k < 100 and g.count == 2
	end
	print(string.format("keys %%d, each 0..99 counted twice: %%s, dropped %%d", n, ok,
		luprobe.stats().agg_dropped))
	c:clear()
end)
"""


def test_full_aggregation_map_counts_and_reports_every_dropped_update():
    """150 keys, two rounds, a map of 100 keys: keys 0..99 are counted twice, the
    other 50 keys' 100 updates are dropped, counted and reported."""
    want_err = ("luprobe: 0 events, 0 lost, 100 aggregation updates dropped\n"
                "luprobe: 100 aggregation updates were dropped because an in-kernel "
                "aggregation map was full (100 keys); raise --agg-keys or "
                "luprobe.options{ agg_keys = N }\n")
    for how, text, args in (("luprobe.options", "luprobe.options{ agg_keys = 100 }", ()),
                            ("--agg-keys", "", ("--agg-keys", "100"))):
        code, lines, err = _agg_run(KEYS_SCRIPT % text, "keys", "-n", "150", "-r", "2",
                                    luprobe_args=args)
        expect_eq(code, 0, f"{how}: exit code ({err})")
        expect_eq(lines, ["done", "keys 100, each 0..99 counted twice: true, dropped 100"],
                  f"{how}: what the script saw")
        expect_eq(err, want_err, f"{how}: the summary")


def test_agg_keys_is_set_in_the_main_chunk_only_and_within_the_memory_limit():
    cases = [
        ("attach() luprobe.options{ agg_keys = 100 }",
         "agg_keys must be set before the probes are attached (in the main chunk, before "
         "attach())"),
        ("luprobe.options{ agg_key = 100 }",
         "luprobe.options: unknown option 'agg_key' (known: agg_keys)"),
        ("luprobe.options{ agg_keys = 0 }",
         "luprobe.options: agg_keys must be an integer from 1 to 1073741824"),
        ("luprobe.options{ agg_keys = 8388608 }",
         "luprobe.options{ agg_keys = 8388608 } would take 1.9 GiB of kernel memory for "
         "in-kernel aggregations when full (240 bytes a key on 2 CPUs); the limit is 1.0 GiB: "
         "lower agg_keys (or raise --map-limit)"),
    ]
    if len(os.sched_getaffinity(0)) != 2 or os.cpu_count() != 2:
        cases = cases[:3]   # the size depends on the number of CPUs
    for code_text, msg in cases:
        code, lines, err = run("-e", 'probe{ func = "main.keyed", args = false }:count("k") '
                               + code_text, "--", gobin(AGGS), "-mode", "keys")
        expect_eq((code, lines, err), (1, [], f"luprobe: (command line):1: {msg}\n"), code_text)
    code, lines, err = run("--agg-keys", "8388608", "-e",
                           'probe{ func = "main.keyed", args = false }:count("k")', "--",
                           gobin(AGGS), "-mode", "keys")
    expect_eq(code, 1, "exit code")
    expect(err.startswith("luprobe: --agg-keys 8388608 would take "), err)
    expect_eq(lines, [], "the command never ran")


# ---- JSON of strings that are not UTF-8 ----

STRINGS_SCRIPT = """
local agg = require "luprobe.agg"
local json = require "luprobe.json"
local by = agg.count("by s in Lua")
probe{ func = "main.label", args = { "s" }, strcap = 5 }:on_event(function(e)
	print(json.encode(e.args))
	print(e:json())
	print(tostring(e))
	by:add(e.args.s)
end)
probe{ func = "main.label", args = { "s" }, strcap = 5 }:count("s")
"""


def test_json_of_strings_cut_inside_a_character_or_not_utf8_is_valid():
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([LUPROBE, "-q", "--json", write_script(d, "s.lua", STRINGS_SCRIPT),
                            "--", gobin(AGGS), "-mode", "strings"], capture_output=True,
                           timeout=60, start_new_session=True)
    expect_eq(p.returncode, 0, f"exit code ({p.stderr!r})")
    text = p.stdout.decode("utf-8")   # strict: every byte luprobe wrote is UTF-8
    lines = text.splitlines()
    # "aé€€" cut at 5 bytes (two bytes of "€"), "\xffok", a UTF-8-encoded surrogate, an
    # overlong "/": each byte that is not part of a valid character is U+FFFD
    want = ["aé\ufffd\ufffd", "\ufffdok", "\ufffd\ufffd\ufffdx", "\ufffd\ufffdx"]
    objs = _json_lines(lines)
    expect_eq([o["s"] for o in objs if set(o) == {"s"}], want, "luprobe.json.encode(e.args)")
    expect_eq([o["args"]["s"] for o in objs if "args" in o], want, "e:json()")
    for name in ("by s in Lua", "main.label count by s"):
        agg = [o for o in objs if o.get("aggregation") == name][0]
        expect_eq(sorted(g["key"] for g in agg["groups"]), sorted(want), name)
    expect_eq([ln.split("  ")[0] for ln in lines if ln.startswith("main.label(")], [
        'main.label(s="aé\\xe2\\x82"...+4 more)', 'main.label(s="\\xffok")',
        'main.label(s="\\xed\\xa0\\x80x")', 'main.label(s="\\xc0\\xafx")'], "tostring(e)")


# ---- the kernel memory of every map ----

CALLS_SCRIPT = 'probe{ func = "main.label", args = { "s" }, ret = true, strcap = 4095 }'


def _new_probes(before, grace=10.0):
    """luprobe programs loaded since before that are still there after grace seconds (the
    kernel frees a program some time after its links: seconds on a busy machine)."""
    deadline = time.time() + grace
    while True:
        new = [p for p in leftover_probes(grace=0) if p not in before]
        if not new or time.time() >= deadline:
            return new
        time.sleep(0.1)


def test_maps_past_the_memory_limit_are_refused_before_anything_is_created():
    before = leftover_probes(grace=0)
    code, lines, err = run("--max-calls", "1048576", "-e", CALLS_SCRIPT, "--", gobin(AGGS),
                           "-mode", "strings")
    expect_eq((code, lines), (1, []), "refused; the command never ran")
    expect_eq(err, "luprobe: --max-calls 1048576 would take 4.2 GiB of kernel memory for "
              "in-flight calls (4256 bytes each, for main.label with strcap 4095); the limit "
              "is 1.0 GiB: lower --max-calls or strcap (or raise --map-limit)\n", "message")
    expect_eq(_new_probes(before), [], "nothing left in the kernel")
    # a lower limit: 60000 calls of 4256 bytes (245 MiB) fit in 256 MiB, 65536 do not
    limit = str(256 << 20)
    code, lines, err = run("--map-limit", limit, "--max-calls", "65536", "-e", CALLS_SCRIPT,
                           "--", gobin(AGGS), "-mode", "strings")
    expect_eq((code, lines, err), (1, [], (
        "luprobe: --max-calls 65536 would take 266.0 MiB of kernel memory for in-flight calls "
        "(4256 bytes each, for main.label with strcap 4095); the limit is 256.0 MiB: lower "
        "--max-calls or strcap (or raise --map-limit)\n")), "65536 calls in 256 MiB")
    code, lines, err = run("-q", "--map-limit", limit, "--max-calls", "60000", "-e",
                           CALLS_SCRIPT, "--", gobin(AGGS), "-mode", "strings")
    expect_eq(code, 0, f"60000 calls in 256 MiB: exit code ({err})")
    expect_eq([ln.split(")")[0] for ln in lines if ln.startswith("main.label(")], [
        'main.label(s="aé€€"', 'main.label(s="\\xffok"', 'main.label(s="\\xed\\xa0\\x80x"',
        'main.label(s="\\xc0\\xafx"'], "every call paired with its return")
