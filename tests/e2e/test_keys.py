# SPDX-License-Identifier: BSD-2-Clause
"""Who made a call and from where: pid, tid, goid and comm in predicates and as
aggregation keys, counts and histograms keyed by stack, stacks in the default
output; and what histograms print (count, average, percentile estimates), top
N, print and clear, distinct titles, and empty aggregations at exit. Every
figure is checked against the target's own account (tests/go/keys)."""
import json
import os
import re
import tempfile

from lib import SCRIPTS, each_toolchain, expect, expect_eq, gobin, run, write_script

KEYS = "keys"


def _json_lines(lines):
    return [json.loads(ln) for ln in lines if ln.startswith("{")]


def _aggs(lines):
    return {o["aggregation"]: o for o in _json_lines(lines) if "aggregation" in o}


def _run(text, *argv, luprobe_args=("-q",), timeout=60):
    with tempfile.TemporaryDirectory() as d:
        return run(*luprobe_args, write_script(d, "s.lua", text), "--", *argv, timeout=timeout)


# ---- goroutines, threads and processes ----

GOROUTINES_SCRIPT = """
local agg = require "luprobe.agg"
local p = probe{ func = "main.work", args = false }
p:count("goid")
p:count("tid")
probe{ func = "main.work", args = false, where = "goid > 1 && tid > 0" }:count()
probe{ func = "main.work", args = false, where = "goid == 1" }:count()
probe{ func = "main.work", args = false, ret = true, where = "latency > 0 && goid ~= 1" }:count()
local by_goid = agg.count("events by goid")
probe{ func = "main.work", args = false }:on_event(function(e) by_goid:add(e.goid) end)
"""


@each_toolchain
def test_counts_by_goroutine_and_goid_predicates_match_the_targets_own_counts():
    """Goroutine k calls work 10*k times, main 7 times: counts by goid in the kernel and
    from events, and where = "goid ..." in the kernel, agree with what each goroutine
    says it made."""
    code, lines, err = _run(GOROUTINES_SCRIPT, gobin(KEYS), "-mode", "goroutines", "-g", "4",
                            luprobe_args=("-q", "--json"))
    expect_eq(code, 0, f"exit code ({err})")
    truth = {int(m.group(1)): int(m.group(2))
             for m in (re.match(r"^goroutine (\d+) calls (\d+)$", ln) for ln in lines) if m}
    expect_eq(sorted(truth.values()), [7, 10, 20, 30, 40], f"the target's account: {lines}")
    aggs = _aggs(lines)
    for title in ("main.work count by goid", "events by goid"):
        got = {g["key"]: g["value"] for g in aggs[title]["groups"]}
        expect_eq(got, truth, title)
    tids = aggs["main.work count by tid"]["groups"]
    expect_eq(sum(g["value"] for g in tids), 107, "counts by thread add up to the calls")
    expect(all(g["key"] > 0 for g in tids), f"thread ids: {tids}")
    main_goid = [k for k, n in truth.items() if n == 7][0]
    expect_eq(main_goid, 1, "main runs in goroutine 1")
    expect_eq(aggs["main.work count"]["groups"][0]["value"], 100, "where goid > 1")
    expect_eq(aggs["main.work count #2"]["groups"][0]["value"], 7, "where goid == 1")
    expect_eq(aggs["main.work count #3"]["groups"][0]["value"], 100, "at return: goid ~= 1")


def test_counts_by_pid_and_comm_over_two_processes_and_comm_predicates():
    """Two processes of one binary, named alpha and beta (symbolic links: comm comes from
    the name executed), traced system-wide: counts by pid and by comm, and
    where = 'comm == ...' and prefix(comm, ...), against what each process says."""
    binary = gobin(KEYS)
    with tempfile.TemporaryDirectory() as d:
        for name in ("alpha", "beta"):
            os.symlink(binary, os.path.join(d, name))
        text = f"""
local t = "{binary}"
local p = probe{{ func = "main.work", target = t, args = false }}
p:count("pid")
p:count("comm")
probe{{ func = "main.work", target = t, args = false, where = 'comm == "alpha"' }}:count()
probe{{ func = "main.work", target = t, args = false, where = 'prefix(comm, "bet")' }}:count()
probe{{ func = "main.work", target = t, args = false, where = 'comm ~= "alph" && comm ~= "alpha"' }}:count()
"""
        code, lines, err = run("-q", "--json", write_script(d, "s.lua", text), "--", "sh", "-c",
                               f"{d}/alpha -mode count -n 30 & {d}/beta -mode count -n 50; wait",
                               timeout=60)
    expect_eq(code, 0, f"exit code ({err})")
    truth = {int(m.group(1)): int(m.group(2))
             for m in (re.match(r"^pid (\d+) calls (\d+)$", ln) for ln in lines) if m}
    expect_eq(sorted(truth.values()), [30, 50], f"the processes' account: {lines}")
    aggs = _aggs(lines)
    expect_eq({g["key"]: g["value"] for g in aggs["main.work count by pid"]["groups"]}, truth,
              "count by pid")
    expect_eq({g["key"]: g["value"] for g in aggs["main.work count by comm"]["groups"]},
              {"alpha": 30, "beta": 50}, "count by comm")
    expect_eq(aggs["main.work count"]["groups"][0]["value"], 30, "comm == alpha")
    expect_eq(aggs["main.work count #2"]["groups"][0]["value"], 50, "prefix(comm, bet)")
    expect_eq(aggs["main.work count #3"]["groups"][0]["value"], 50, "comm ~= alpha")


def test_pid_predicates_keep_exactly_that_process():
    text = """
local pid = luprobe.pids[1]
probe{ func = "main.work", args = false, where = "pid == " .. pid }:count()
probe{ func = "main.work", args = false, where = "pid ~= " .. pid }:count()
"""
    code, lines, err = _run(text, gobin(KEYS), "-mode", "count", "-n", "25")
    expect_eq(code, 0, f"exit code ({err})")
    expect("main.work count: 25" in lines, lines)
    expect("main.work count #2: no data" in lines, lines)


def test_misused_process_names_in_where_are_refused_with_the_column():
    binary = gobin(KEYS)
    for where, msg in (
            ("comm > 3", "where: comm is a string; compare it with == \"...\" or prefix() "
                         "at column 1"),
            ('comm == "a-name-of-sixteen"', "where: comm holds at most 15 bytes (the kernel "
                                            "cuts thread names) at column 6"),
            ('pid == "x"', "where: pid is not a string at column 5"),
            ("goid", "where: goid is not a condition; compare it with something at column 1"),
            ("len(tid) > 1", "where: len() of tid, which is not a string, slice, map or "
                             "channel at column 1")):
        text = f"probe{{ func = 'main.work', args = false, where = [[{where}]] }}"
        code, lines, err = _run(text, binary, "-mode", "count", "-n", "1")
        expect_eq(code, 1, f"{where}: exit code")
        expect(msg in err, f"{where}: {err!r}")


# ---- stacks ----

PATH_A = ["main.leaf", "main.pathA", "main.main"]
PATH_B = ["main.leaf", "main.mid", "main.pathB", "main.main"]


def _funcs(stack):
    return [f.get("func") for f in stack][:len(PATH_B) if stack[1].get("func") == "main.mid"
                                           else len(PATH_A)]


STACKS_SCRIPT = """
local agg = require "luprobe.agg"
probe{ func = "main.leaf", args = false }:count("stack")
probe{ func = "main.leaf", args = false, ret = true }:hist("latency", "stack")
local from_events = agg.count("events by stack")
probe{ func = "main.leaf", args = false, stack = true }:on_event(function(e)
	from_events:add(e.stack)
end)
"""


@each_toolchain
def test_counts_and_histograms_by_stack_match_the_two_call_paths():
    """leaf is called 300 times from pathA and 200 times from pathB through mid: counts
    and latency histograms by stack in the kernel, and counts by e.stack in Lua, find
    exactly these two stacks with these counts; the text prints the larger first, a frame
    per line with file:line."""
    for variant in ("default", "pie"):
        argv = (gobin(KEYS, variant), "-mode", "paths", "-a", "300", "-b", "200")
        code, lines, err = _run(STACKS_SCRIPT, *argv, luprobe_args=("-q", "--json"))
        expect_eq(code, 0, f"{variant}: exit code ({err})")
        expect("pathA 300" in lines and "pathB 200" in lines, lines)
        aggs = _aggs(lines)
        for title in ("main.leaf count by stack", "main.leaf hist latency by stack",
                      "events by stack"):
            got = sorted((_funcs(g["key"]), g["count"]) for g in aggs[title]["groups"])
            expect_eq(got, sorted([(PATH_A, 300), (PATH_B, 200)]), f"{variant}: {title}")
            for g in aggs[title]["groups"]:
                f = g["key"][0]
                expect(f["file"].endswith("tests/go/keys/main.go") and f["line"] > 0,
                       f"{variant}: the leaf frame has its file and line: {f}")

        code, lines, err = _run(STACKS_SCRIPT, *argv)
        expect_eq(code, 0, f"{variant}: exit code ({err})")
        at = lines.index("main.leaf count by stack:")
        expect_eq(lines[at + 1], "  300", f"{variant}: the most frequent stack first")
        expect(re.match(r"^    main\.leaf  /\S+/tests/go/keys/main\.go:\d+$", lines[at + 2]),
               f"{variant}: a frame per line: {lines[at + 2]!r}")
        expect(lines[at + 3].startswith("    main.pathA  "), lines[at + 3])
        nxt = lines.index("  200", at)
        expect_eq([ln.split()[0] for ln in lines[nxt + 1:nxt + 5]], PATH_B, f"{variant}")


def test_a_full_stack_map_is_counted_and_its_calls_kept_under_their_own_key():
    """--max-stacks 1: pathA's stack fills the map; pathB's 200 calls are counted under
    "[stack not captured]", never under a guessed stack, and the summary says so."""
    script = 'probe{ func = "main.leaf", args = false }:count("stack")'
    code, lines, err = _run(script, gobin(KEYS), "-mode", "paths", "-a", "300", "-b", "200",
                            luprobe_args=("--max-stacks", "1"))
    expect_eq(code, 0, f"exit code ({err})")
    at = lines.index("main.leaf count by stack:")
    expect_eq(lines[at + 1], "  300", "pathA's stack")
    expect(lines[at + 2].startswith("    main.leaf  "), lines[at + 2])
    expect(any(re.match(r"^  \[stack not captured\]\s+200$", ln) for ln in lines), lines)
    expect("200 stacks not captured" in err, err)
    expect("200 stacks were not captured (counted under \"[stack not captured]\" in "
           "aggregations by stack): the stack map was full (--max-stacks 1) or the "
           "frame-pointer walk failed" in err, err)


def test_stacks_in_the_default_text_and_json_output():
    script = 'probe{ func = "main.leaf", args = { "i" }, stack = true }'
    argv = (gobin(KEYS), "-mode", "paths", "-a", "1", "-b", "1")
    code, lines, err = _run(script, *argv)
    expect_eq(code, 0, f"exit code ({err})")
    events = [i for i, ln in enumerate(lines) if ln.startswith("main.leaf(i=0)")]
    expect_eq(len(events), 2, f"two events: {lines}")
    for i, path in zip(events, (PATH_A, PATH_B)):
        frames = [ln.split() for ln in lines[i + 1:i + 1 + len(path)]]
        expect_eq([f[0] for f in frames], path, f"the frames after the event: {lines}")
        expect(all(re.match(r"^/\S+:\d+$", f[1]) for f in frames), frames)
    code, lines, err = _run(script, *argv, luprobe_args=("-q", "--json"))
    expect_eq(code, 0, f"exit code ({err})")
    evs = [o for o in _json_lines(lines) if o.get("func") == "main.leaf"]
    expect_eq([[f["func"] for f in e["stack"][:len(p)]] for e, p in zip(evs, (PATH_A, PATH_B))],
              [PATH_A, PATH_B], "JSON stacks")


# ---- what histograms print ----

VALUES_SCRIPT = """
local agg = require "luprobe.agg"
local p = probe{ func = "main.val", args = { "v" } }
p:hist("v")
p:lhist("v", 0, 1000, 100)
local lua = agg.hist("Lua hist")
p:on_event(function(e) lua:add(e.args.v) end)
"""


def test_histograms_print_count_average_and_percentiles_of_known_values():
    """v = 1..1000: p50, p90 and p99 are 500, 900 and 990; the estimates from log2 and
    linear buckets (interpolated, clamped to the exact min and max) are within 1%."""
    argv = (gobin(KEYS), "-mode", "values", "-n", "1000")
    code, lines, err = _run(VALUES_SCRIPT, *argv, luprobe_args=("-q", "--json"))
    expect_eq(code, 0, f"exit code ({err})")
    aggs = _aggs(lines)
    for title in ("main.val hist v", "main.val lhist v", "Lua hist"):
        g = aggs[title]["groups"][0]
        expect_eq((g["count"], g["avg"], g["min"], g["max"]), (1000, 500.5, 1, 1000), title)
        for q, want in (("p50", 500), ("p90", 900), ("p99", 990)):
            expect(abs(g[q] - want) <= want / 100, f"{title}: {q} {g[q]} vs {want}")
    code, lines, err = _run(VALUES_SCRIPT, *argv)
    expect_eq(code, 0, f"exit code ({err})")
    at = lines.index("main.val hist v:")
    expect(re.match(r"^count 1000, average 500\.5, p50 ~\d+(\.\d+)?, p90 ~\d+(\.\d+)?, "
                    r"p99 ~\d+(\.\d+)?$", lines[at + 1]), lines[at + 1])


def test_latency_percentiles_agree_with_the_targets_own_clock():
    """80 calls spin 80 µs, 20 calls 5 ms (at least: a spin only ends late): every call of
    5 ms is in a bucket from 4.2 ms up, and the percentile estimates of the latency
    histogram are within a factor of 2 (the precision of log2 buckets) of the percentiles
    the target measured around its calls (which add the probes' traps, and under load
    the machine's delays, to what luprobe measures between the probes)."""
    script = 'probe{ func = "main.spin", args = false, ret = true }:hist("latency")'
    code, lines, err = _run(script, gobin(KEYS), "-mode", "spins", "-a", "80", "-b", "20",
                            luprobe_args=("-q", "--json"))
    expect_eq(code, 0, f"exit code ({err})")
    m = [re.match(r"^spin p50 (\d+) p90 (\d+) p99 (\d+)$", ln) for ln in lines]
    truth = [int(x) for x in next(x for x in m if x).groups()]
    g = _aggs(lines)["main.spin hist latency"]["groups"][0]
    expect_eq(g["count"], 100, "calls")
    slow = sum(b["count"] for b in g["buckets"] if b["min"] is not None and b["min"] >= 2**22)
    expect(20 <= slow <= 100, f"the 20 spins of 5 ms are 4.2 ms or longer: {g['buckets']}")
    for q, want in zip(("p50", "p90", "p99"), truth):
        expect(want / 2 <= g[q] <= want * 2, f"{q}: estimate {g[q]} ns, target {want} ns")
        expect(g["min"] <= g[q] <= g["max"], f"{q} within min and max")


PRINT_SCRIPT = """
local p = probe{ func = "main.work", args = false }
local c = p:count("goid")
local again = p:count("goid")
probe{ func = "main.val", args = false }:count()
on_exit(function()
	again:print()
	c:print{ top = 2, title = "top 2" }
	c:print{ clear = true, title = "all" }
	c:print{ title = "after clear" }
end)
"""


def test_print_top_and_clear_distinct_titles_and_empty_aggregations_at_exit():
    code, lines, err = _run(PRINT_SCRIPT, gobin(KEYS), "-mode", "goroutines", "-g", "4")
    expect_eq(code, 0, f"exit code ({err})")
    top = lines.index("top 2:")
    expect_eq([ln.split()[1] for ln in lines[top + 1:top + 3]], ["30", "40"], "the 2 largest")
    expect_eq(lines[top + 3], "  ... and 3 more", "what the top 2 left out")
    expect_eq(lines[top + 4], "all:", "nothing more after the top 2")
    counts = [int(ln.split()[1]) for ln in lines[top + 5:top + 10]]
    expect_eq(counts, [7, 10, 20, 30, 40], "all keys")
    expect_eq(lines[top + 10], "after clear: no data", "cleared by the print")
    expect_eq(lines[top - 6], "main.work count by goid #2:",
              "the same aggregation twice on one probe: a distinct title")
    # at exit: what no print showed; the cleared one and the printed one are not repeated
    expect_eq(lines[top + 11:], ["main.val count: no data"], "an empty aggregation says so")


def test_stacks_script_counts_callers_by_stack_or_by_goroutine():
    """scripts/stacks.lua as a user runs it: the most frequent stack (top=1) and what was
    left out; by=goid with a where on goid, against the target's own counts."""
    code, lines, err = run("-q", os.path.join(SCRIPTS, "stacks.lua"), "-a", "func=main.leaf",
                           "-a", "top=1", "--", gobin(KEYS), "-mode", "paths", "-a", "30",
                           "-b", "20", timeout=60)
    expect_eq(code, 0, f"exit code ({err})")
    at = lines.index("calls of main.leaf by stack:")
    expect_eq(lines[at + 1], "  30", "the most frequent stack")
    expect_eq([ln.split()[0] for ln in lines[at + 2:at + 5]], PATH_A, "its frames")
    expect_eq(lines[-1], "  ... and 1 more", "the other stack is left out, and counted")
    code, lines, err = run("-q", os.path.join(SCRIPTS, "stacks.lua"), "-a", "func=main.work",
                           "-a", "by=goid", "-a", "where=goid > 1", "--", gobin(KEYS), "-mode",
                           "goroutines", timeout=60)
    expect_eq(code, 0, f"exit code ({err})")
    truth = {m.group(1): int(m.group(2))
             for m in (re.match(r"^goroutine (\d+) calls (\d+)$", ln) for ln in lines) if m}
    at = lines.index("calls of main.work by goid:")
    got = {ln.split()[0]: int(ln.split()[1]) for ln in lines[at + 1:]}
    expect_eq(got, {k: n for k, n in truth.items() if k != "1"}, "calls by goroutine but main")


def test_counts_without_a_value_key_ignore_unreadable_captures():
    """fUnreadable's u.S cannot be read (its pointer is unmapped): a count, and a count by
    pid, still count the call; a count keyed by u.S counts nothing rather than a guess."""
    text = """
local p = probe{ func = "main.fUnreadable", args = { "u.S" } }
p:count()
p:count("pid")
p:count("u.S")
"""
    code, lines, err = _run(text, gobin("values"))
    expect_eq(code, 0, f"exit code ({err})")
    expect("main.fUnreadable count: 1" in lines, lines)
    at = lines.index("main.fUnreadable count by pid:")
    expect_eq(lines[at + 1].split()[1], "1", "by pid")
    expect("main.fUnreadable count by u.S: no data" in lines, lines)
