# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12, item 24 (package D's parts): messages that misled. Returns whose
entry a predicate or a scope rejected were reported as returns without an
entry; a function ending in a tail call was said to have no RET; `-p TID`
said the process was gone; Go 1.19's DWARF kind 0 for `*uintptr` made the
pointer "impossible for its kind"."""
import json
import os
import signal
import tempfile

from lib import ROOT, Server, expect, expect_eq, gobin, luprobe, run, write_script

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
