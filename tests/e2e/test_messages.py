# SPDX-License-Identifier: BSD-2-Clause
"""Messages that misled. Returns whose entry a predicate or a scope rejected
were reported as returns without an entry; a function ending in a tail call
was said to have no RET; `-p TID` said the process was gone; Go 1.19's DWARF
kind 0 for `*uintptr` made the pointer "impossible for its kind"."""
import json
import os
import signal
import subprocess
import tempfile

from lib import ROOT, Proc, Server, expect, expect_eq, gobin, luprobe, run, write_script

SITES = "sites"
SITES_SRC = os.path.join(ROOT, "tests", "go", "sites", "main.go")


def _json_run(script, argv, timeout=60):
    """(exit code, events from -o FILE, the program's output, stderr)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events")
        code, lines, err = run("--json", "-o", out, write_script(d, "t.lua", script), "--",
                               *argv, timeout=timeout)
        with open(out) as f:
            events = [json.loads(ln) for ln in f]
    return code, events, lines, err


def _rounds(n):
    """What sites -rounds n prints (see tests/go/sites/main.go)."""
    return [f"round {r}: compute {r * r + 7}, inner {111 * r + 300}, "
            f"outer {2 * r + 201}, loadp {40 + 2 * r}, bump {r * (r + 1) // 2}"
            for r in range(1, n + 1)]


def test_pointer_whose_dwarf_kind_is_zero_is_a_pointer():
    """Go 1.19 writes DW_AT_go_kind 0 for *uintptr: luprobe said "type *uintptr has size 0,
    impossible for its kind" and refused main.loadp(p *uintptr, n int)."""
    binary = gobin(SITES)
    for args in ("args = true", "", 'args = { "p", "n" }'):
        script = f'probe{{ func = "main.loadp", ret = true, {args} }}'
        code, events, out, err = _json_run(script, [binary, "-rounds", "3"])
        expect_eq(code, 0, f"exit code with {script} ({err})")
        expect_eq(out, _rounds(3), "the program's output")
        expect_eq([(e["args"], e["ret"]) for e in events],
                  [({"p": 40 + r, "n": r}, {"~r0": 40 + 2 * r}) for r in (1, 2, 3)],
                  f"arguments and result with {script}")
    code, lines, err = run("-q", "-e", 'probe{ func = "main.loadp", ret = true }', "--", binary)
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln.split("  ")[0] for ln in lines if ln.startswith("main.loadp")],
              ["main.loadp(p=&0x29, n=1) = 0x2a"], "the event as text")


def test_pid_of_a_thread_traces_its_process():
    """-p with the id of a thread that is not the group leader: the old code said "process
    TID is gone" and exited 1 (uprobes filter by process)."""
    srv = Server(gobin("computee"))
    tids = sorted(int(t) for t in os.listdir(f"/proc/{srv.pid}/task") if int(t) != srv.pid)
    expect(tids, f"the Go server {srv.pid} runs more than one thread")
    tid = tids[0]
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "t.lua", """
local p = probe{ func = "main.computeE", args = { "iterations" } }
p:on_event(function(e) printf("call %d %d\\n", e.args.iterations, e.pid) io.stdout:flush() end)
attach()
printf("ready %s\\n", table.concat(luprobe.pids, " ")) io.stdout:flush()
""")
        # the thread, and the process itself: one target, traced once
        lp = luprobe("-q", script, "-p", str(tid), "-p", str(srv.pid))
        lp.wait_line(rf"^ready {srv.pid}$")
        srv.get("/e?iters=77")
        lp.wait_line(rf"^call 77 {srv.pid}$")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code after SIGINT")
    expect_eq(lp.lines, ["ready %d" % srv.pid, "call 77 %d" % srv.pid], "output: one event")
    expect_eq(lp.stderr().splitlines(),
              [f"luprobe: {tid} is a thread of process {srv.pid}; tracing the process"],
              "stderr")


def test_function_ending_in_a_tail_call_says_so():
    """(*Outer).Bump is the compiler's wrapper for the method promoted from the embedded
    *Inner: it loads the pointer and jumps to (*Inner).Bump. The old code said it "has no RET
    instruction (it never returns normally)"."""
    for variant in ("default", "stripped"):
        binary = gobin(SITES, variant)
        code, lines, err = run("-e", 'probe{ func = "main.(*Outer).Bump", ret = true }', "--",
                               binary)
        expect_eq((code, lines), (1, []), f"exit code and output on {variant}")
        expect_eq(err.splitlines(), [
            "luprobe: (command line):1: main.(*Outer).Bump: ends by jumping to "
            "main.(*Inner).Bump (a tail call) and has no RET of its own; trace "
            "main.(*Inner).Bump with ret = true"], f"stderr on {variant}")
        # what the message suggests works, and the wrapper is traced without ret
        code, lines, err = run("-q", "-e", """
probe{ func = "main.(*Inner).Bump", args = { {"i", "uintptr"}, {"d", "int"} },
       ret = { "int" } }:on_event(function(e) printf("inner %d %d\\n", e.args.d, e.ret[1]) end)
probe{ func = "main.(*Outer).Bump", args = false }:on_event(function(e) print("outer") end)
""", "--", binary, "-rounds", "3")
        expect_eq(code, 0, f"exit code on {variant} ({err})")
        expect_eq([ln for ln in lines if not ln.startswith("round")],
                  ["outer", "inner 1 1", "outer", "inner 2 3", "outer", "inner 3 6"],
                  f"events on {variant}")
    # a function that never returns keeps its own message (test_results has the text)
    code, _, err = run("-e", 'probe{ func = "runtime.memequal", ret = true }', "--",
                       gobin(SITES))
    expect_eq(err.splitlines(), [
        "luprobe: (command line):1: runtime.memequal: returns on some paths by jumping to "
        "memeqbody (a tail call), where its results and latency cannot be seen; trace it "
        "without ret, or memeqbody with ret = true"], "a function with RETs and a tail call")


UNMATCHED_SCRIPT = """
local q = probe{ func = "main.outer", args = false, ret = true }
q:on_event(function(e) print("outer") end)
probe{ func = "main.inner", ret = true, within = q }:on_event(function(e)
	printf("inner %d\\n", e.args.n)
end)
probe{ func = "main.compute", ret = true, where = "n == 2" }:on_event(function(e)
	printf("compute %d\\n", e.args.n)
end)
probe{ func = "main.blocked", ret = true, where = "in ~= nil" }:on_event(function(e) print("blocked returned") end)
on_exit(function()
	local s = luprobe.stats()
	printf("unmatched %d, inflight %d, filtered %d\\n", s.unmatched, s.inflight, s.filtered)
end)
attach()
print("ready") io.stdout:flush()
"""


def test_returns_of_calls_turned_away_at_entry_are_not_unmatched():
    """The old code counted the returns of calls that `within` turned away (inner outside
    outer: 3 a round) as returns without an entry (9 here), and no return of a probe with a
    `where` at entry at all, not even one whose entry was truly missed: here main.blocked,
    which was running before luprobe attached."""
    target = Proc([gobin(SITES), "-block", "-rounds", "3"], stdin=subprocess.PIPE)
    target.wait_line("^blocked$")
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe(write_script(d, "t.lua", UNMATCHED_SCRIPT), "-p", str(target.pid))
        lp.wait_line("^ready$")
        target.p.stdin.write(b"go\n")
        target.p.stdin.flush()
        expect_eq(target.wait(20), 0, "the program's exit code")
        expect_eq(lp.wait(20), 1, "luprobe's exit code once the traced process is gone")
    expect_eq(target.lines, ["blocked", "blocked read 3 bytes"] + _rounds(3), "the program's output")
    expect_eq(lp.lines, ["ready",
                         "inner 1", "inner 2", "outer", "compute 2", "inner 2", "inner 3",
                         "outer", "inner 3", "inner 4", "outer",
                         "unmatched 1, inflight 0, filtered 2"], "luprobe's output")
    expect_eq(lp.stderr().splitlines(),
              [f"luprobe: process {target.pid} ({gobin(SITES)}) exited",
               "luprobe: 10 events, 0 lost, 1 return without an entry"], "summary")
    # mode = "separate": a call turned away at entry has no return event either (the old
    # code sent one, without arguments, for each)
    code, lines, err = run("-q", "-e", 'probe{ func = "main.compute", ret = true, '
                           'mode = "separate", where = "n == 2" }:on_event(function(e) '
                           'print(e.kind, e.args and e.args.n, e.ret and e.ret[1]) end)',
                           "--", gobin(SITES), "-rounds", "3")
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln for ln in lines if not ln.startswith("round")],
              ["entry\t2\tnil", "return\t2\t11"], "events of a probe in separate mode")
