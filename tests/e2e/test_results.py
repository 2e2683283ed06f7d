# SPDX-License-Identifier: BSD-2-Clause
"""Results, latency and goroutine identity without harming the
traced program: return probes on RET instructions (never uretprobes), calls
paired per goroutine and frame across stack growth, goroutine migration and
panics; stacks with callers and lines."""
import collections
import json
import os
import re
import subprocess
import tempfile

from lib import (ROOT, Skip, each_toolchain, expect, expect_eq, gobin, release_bin, run,
                 write_script)

ENV = {**os.environ, "GOMAXPROCS": "2"}
TORTURE_SRC = os.path.join(ROOT, "tests", "go", "torture", "main.go")


def _untraced(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=ENV)
    return p.returncode, p.stdout.splitlines()


def _json_run(script, argv, timeout=180):
    """Events (from -o FILE, apart from the program's output) and the program's output."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events")
        code, lines, err = run("-q", "--json", "-o", out, write_script(d, "t.lua", script), "--",
                               *argv, timeout=timeout, env=ENV)
        with open(out) as f:
            events = [json.loads(ln) for ln in f]
    return code, events, lines, err


def _line_of(text):
    with open(TORTURE_SRC) as f:
        for i, ln in enumerate(f, 1):
            if text in ln:
                return i
    raise AssertionError(f"{text!r} not in {TORTURE_SRC}")


@each_toolchain
def test_torture_traced_with_results_is_unharmed_and_pairs_every_call():
    binary = gobin("torture")
    argv = [binary, "-goroutines", "1000", "-rounds", "20", "-sleep", "20"]
    want_code, want_out = _untraced(argv)
    code, events, out, err = _json_run('probe{ func = "main.*", args = false, ret = true }',
                                       argv)
    expect_eq(code, want_code, "exit code")
    expect_eq(out, want_out, "output identical to an untraced run")
    # functions that never return normally are skipped, and said so
    expect(re.search(r"main\.\*: \d+ of \d+ functions skipped: main\.alwaysPanics has no RET", err),
           err)
    calls = collections.Counter(e["func"] for e in events)
    expect_eq(calls["main.recurse"], 10001, "recurse calls")
    expect_eq(calls["main.work"], 1000, "work calls")
    expect_eq(calls["main.step"], 20000, "step calls")
    expect_eq(calls["main.guarded"], 100, "guarded calls (they recover and return)")
    expect_eq(calls["main.mayPanic"], 50, "mayPanic calls that returned (the others panicked)")
    expect_eq(calls["main.sleepy"], 1, "sleepy calls")
    expect(all(e["kind"] == "call" and e["latency_ns"] > 0 and e["goid"] > 0 for e in events),
           "every event is a whole call with a latency and a goroutine")
    # 1,000 goroutines, each its own id, all paired although they migrate between threads
    work = [e for e in events if e["func"] == "main.work"]
    expect_eq(len({e["goid"] for e in work}), 1000, "distinct goroutines of work")
    tids = {e["tid"] for e in events if e["func"] == "main.step"}
    expect(len(tids) >= 2, f"steps ran on {len(tids)} thread(s): no migration exercised")


@each_toolchain
def test_named_results_of_a_function_with_a_defer_are_each_read_once():
    """guarded(n int) (r int, err error) recovers its panic in a defer: Go 1.26's
    DWARF lists r twice (r, r, err), which read err from the wrong registers
    (0, 5109560, ?(0x...)); each result must come from its own place."""
    code, events, out, err = _json_run('probe{ func = "main.guarded", ret = true }',
                                       [gobin("torture"), "-goroutines", "1", "-depth", "10",
                                        "-panics", "6"])
    expect_eq(code, 0, f"exit code ({err[-300:]})")
    expect("guarded: 6 calls, 3 recovered" in out, out)
    got = sorted((e["args"]["n"], e["ret"]) for e in events)
    want = [(n, {"r": n // 2, "err": None} if n % 2 == 0 else
             {"r": 0, "err": {"type": "*errors.errorString", "value": f"recovered: odd {n}"}})
            for n in range(6)]
    expect_eq(got, want, "results")


@each_toolchain
def test_entry_and_return_counts_match_exactly():
    binary = gobin("torture")
    argv = [binary, "-goroutines", "200", "-rounds", "10"]
    script = 'probe{ func = "main.*", args = false, ret = true, mode = "separate" }'
    code, events, _, _ = _json_run(script, argv)
    expect_eq(code, 0, "exit code")
    count = collections.Counter((e["func"], e["kind"]) for e in events)
    for func in {f for f, _ in count}:
        entries, returns = count[(func, "entry")], count[(func, "return")]
        if func == "main.mayPanic":
            expect_eq((entries, returns), (100, 50), "mayPanic: every odd call panics")
        elif func in ("main.main", "main.main.func2.1"):
            continue  # main.main ends in os.Exit; the deferred recover closure does not return
        else:
            expect_eq(returns, entries, f"{func}: returns == entries")
    expect_eq(count[("main.recurse", "entry")], 10001, "recurse entries")


@each_toolchain
def test_recursion_pairs_each_frame_through_stack_copies():
    binary = gobin("torture")
    argv = [binary, "-depth", "20000", "-goroutines", "1"]
    code, events, _, _ = _json_run(
        'probe{ func = "main.recurse", args = { "n" }, ret = { {"r", "int"} } }', argv)
    expect_eq(code, 0, "exit code")
    by_n = {e["args"]["n"]: e for e in events}
    expect_eq(sorted(by_n), list(range(20001)), "one call per depth")
    # recurse(n) returns n, and contains recurse(n-1): its latency is strictly larger
    expect(all(by_n[n]["ret"]["r"] == n for n in by_n), "each call's own result")
    lat = [by_n[n]["latency_ns"] for n in range(20001)]
    bad = [n for n in range(1, 20001) if lat[n] <= lat[n - 1]]
    expect(not bad, f"latency not increasing with depth at n={bad[:5]}")


@each_toolchain
def test_latency_of_a_sleep():
    binary = gobin("torture")
    code, events, _, _ = _json_run('probe{ func = "main.sleepy", args = { "ms" }, ret = true }',
                                   [binary, "-goroutines", "1", "-sleep", "50"])
    expect_eq(code, 0, "exit code")
    expect_eq(len(events), 1, "sleepy events")
    ns = events[0]["latency_ns"]
    expect(50e6 <= ns < 50e6 + 150e6, f"latency {ns / 1e6:.1f} ms for a 50 ms sleep")
    expect_eq(events[0]["args"], {"ms": 50}, "argument")
    expect_eq(events[0]["ret"], {"~r0": 50}, "result")


@each_toolchain
def test_results_of_every_kind():
    binary = gobin("torture")
    code, events, _, _ = _json_run('probe{ func = "main.ret*", args = false, ret = true }',
                                   [binary, "-goroutines", "1"])
    expect_eq(code, 0, "exit code")
    got = [(e["func"], e["ret"]) for e in events]
    expect_eq(got, [
        ("main.retMulti", {"~r0": 7, "~r1": "seven", "~r2": None}),
        ("main.retInt", {"~r0": -42}),
        ("main.retStr", {"~r0": "torture"}),
        ("main.retErr", {"~r0": {"type": "*errors.errorString", "value": "boom"}}),
        ("main.retErr", {"~r0": None}),
        ("main.retBool", {"~r0": True}),
        ("main.retSlice", {"~r0": [1, 2, 3]}),
        ("main.retStruct", {"~r0": {"A": 5, "B": "five"}}),
        ("main.retPtr", {"~r0": {"A": 6, "B": "six"}}),
    ], "results in call order")


@each_toolchain
def test_system_stack_events_name_the_user_goroutine():
    # runtime.newstack runs on g0 when main's recursion grows the stack
    binary = gobin("torture")
    code, lines, _ = run("-q", "-e", 'probe{ func = "runtime.newstack", args = false }'
                         ':on_event(function(e) print("newstack", e.g0, e.goid) end)',
                         "--", binary, "-goroutines", "1", timeout=60)
    expect_eq(code, 0, "exit code")
    seen = [ln.split("\t") for ln in lines if ln.startswith("newstack")]
    expect(seen, "runtime.newstack was traced")
    # every event is on g0 and names the goroutine it grows; main's recursion to depth
    # 10,000 (about 3 MB of frames) doubles goroutine 1's stack from a few KiB 9 times
    # or more (11 to 13 events here).
    # The runtime's own goroutines may grow theirs too (Go 1.26's scavenger, goroutine 4,
    # did under load).
    expect(all(g0 == "true" and int(goid) > 0 for _, g0, goid in seen),
           f"g0 events name a goroutine: {seen}")
    expect(sum(goid == "1" for _, _, goid in seen) >= 8, f"goroutine 1 grew: {seen}")


@each_toolchain
def test_stacks_name_the_callers_with_lines():
    binary = gobin("torture")
    script = """
local n = 0
probe{ func = "main.step", args = false, stack = true }:on_event(function(e)
	n = n + 1
	if n == 1 then
		for _, f in ipairs(e.stack) do print("frame " .. f.func .. " " .. (f.line or 0)) end
		for ln in tostring(e.stack):gmatch("[^\\n]+") do print("text " .. ln) end
	end
end)
"""
    with tempfile.TemporaryDirectory() as d:
        code, lines, _ = run("-q", write_script(d, "s.lua", script), "--", binary,
                             "-goroutines", "3", "-rounds", "2", env=ENV)
    expect_eq(code, 0, "exit code")
    frames = [ln[6:] for ln in lines if ln.startswith("frame ")]
    expect_eq(frames[:3], [f"main.step {_line_of('return id*7 + i')}",
                           f"main.work {_line_of('sum += step(id, i)')}",
                           f"main.main.func1 {_line_of('sums[g] = work(g, *rounds)')}"],
              "innermost frames")
    expect(frames[-1].startswith("runtime.goexit "), frames)
    text = [ln[5:] for ln in lines if ln.startswith("text ")]
    expect_eq(text[:2], ["main.step(...)",
                         f"\t{TORTURE_SRC}:{_line_of('return id*7 + i')}"], "traceback text")


@each_toolchain
def test_function_without_ret_is_refused_with_ret():
    binary = gobin("torture")
    code, _, err = run("-e", 'probe{ func = "main.alwaysPanics", ret = true }', "--", binary)
    expect(code != 0, "non-zero exit")
    expect_eq(err.splitlines(), [
        f"luprobe: (command line):1: main.alwaysPanics has no RET instruction in {binary} (it "
        "never returns normally); trace it without ret"], "stderr")
    code, lines, _ = run("-q", "-e", 'probe{ func = "main.alwaysPanics" }', "--", binary)
    expect_eq(code, 0, "without ret it is traced")
    expect("main.alwaysPanics(n=100)  goroutine 1" in lines, lines)


def test_stack_abi_results_latency_and_pairing_on_a_real_go_1_14_binary():
    try:
        binary = release_bin("go1.14")
    except Skip:
        raise
    with tempfile.TemporaryDirectory() as d:
        js = write_script(d, "in.js", "let x = 1\n")
        code, events, out, _ = _json_run(
            'probe{ func = "syscall.write", ret = true, mode = "separate" }'
            'probe{ func = "os.(*File).Write", ret = true }', [binary, js])
    expect_eq(code, 0, "exit code")
    expect_eq(out, ["let x = 1;"], "output")
    kinds = [(e["func"], e["kind"]) for e in events]
    expect_eq(kinds, [("syscall.write", "entry"), ("syscall.write", "return"),
                      ("os.(*File).Write", "call")], "events")
    ret = events[1]
    expect_eq(ret["ret"], {"n": 11, "err": None}, "syscall.write results")
    expect(ret["latency_ns"] > 0 and ret["goid"] == 1, ret)
    expect_eq(events[2]["ret"], {"n": 11, "err": None}, "os.(*File).Write results")
    expect_eq(events[2]["args"]["b"], "let x = 1;\n", "os.(*File).Write b")


@each_toolchain
def test_slow_calls_example_script():
    binary = gobin("torture")
    code, lines, _ = run("-q", os.path.join(ROOT, "scripts", "slow.lua"), "-a", "func=main.sleepy",
                         "-a", "ms=30", "--", binary, "-goroutines", "1", "-sleep", "40", env=ENV)
    expect_eq(code, 0, "exit code")
    m = [ln for ln in lines if ln.startswith("main.sleepy(ms=")]
    expect(len(m) == 1 and re.match(r"main\.sleepy\(ms=40\) = 40  \d+\.\dms  goroutine 1$", m[0]),
           lines)
    i = lines.index(m[0])
    expect_eq(lines[i + 1:i + 3], ["main.sleepy(...)", f"\t{TORTURE_SRC}:"
                                   f"{_line_of('func sleepy(ms int) int {')}"], "stack")
    expect("1 of 1 calls took 30 ms or more" in lines, lines)
