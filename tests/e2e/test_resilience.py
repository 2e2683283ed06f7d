# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12 (package C): whatever the script does, luprobe neither crashes nor
hangs. The Lua bindings keep their stack discipline; finalizers run while
what they reach still exists; timers take any number; pcall and coroutines
cannot escape the budget or Ctrl-C; the script's memory is bounded; the
event loop keeps timers, signals and --duration on time under overload;
write errors and a closed stdout end the run; files that are not regular
are refused."""
import os
import re
import tempfile

from lib import (ROOT, Proc, expect, expect_eq, gobin, run, write_script)

TORTURE_SRC = os.path.join(ROOT, "tests", "go", "torture", "main.go")


def _line_of(text):
    with open(TORTURE_SRC) as f:
        for i, ln in enumerate(f, 1):
            if text in ln:
                return i
    raise AssertionError(f"{text!r} not in {TORTURE_SRC}")


# ---- the Lua bindings' stack discipline ----

def test_stack_text_longer_than_a_lua_buffer_block():
    # 65 frames of ~60 bytes: the text outgrows luaL_Buffer's first block (1 KiB)
    script = """
local first
probe{ func = "main.recurse", args = { "n" }, stack = true, where = "n < 30" }:on_event(function(e)
	local text = tostring(e.stack)
	assert(text == tostring(e.stack) and text == getmetatable(e.stack).__tostring(e.stack))
	print("stack " .. e.args.n .. " " .. #e.stack .. " " .. #text)
	if e.args.n == 0 then io.write(text) end
end)
"""
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", write_script(d, "s.lua", script), "--", gobin("torture"),
                               "-depth", "100", "-goroutines", "1", "-panics", "0")
    expect_eq(code, 0, f"exit code ({err})")
    entry = f"\t{TORTURE_SRC}:{_line_of('func recurse(n int) int {')}"
    call = f"\t{TORTURE_SRC}:{_line_of('return recurse(n-1)')}"
    want = ["main.recurse(...)", entry] + ["main.recurse(...)", call] * 64
    size = sum(len(ln) + 1 for ln in want)
    expect_eq([ln for ln in lines if ln.startswith("stack ")],
              [f"stack {n} 65 {size}" for n in range(29, -1, -1)], "every event's stack text")
    i = lines.index("main.recurse(...)")
    expect_eq(lines[i:i + len(want)], want, "the text of the innermost call's stack")


# ---- bad arguments get their own message ----

def _computee():
    return [gobin("computee"), "-addr", "127.0.0.1:0"]


def test_within_that_is_not_a_probe_is_named():
    code, _, err = run("-q", "-e", 'probe{ func = "main.computeE", within = 5 }', "--",
                       *_computee())
    expect_eq((code, err), (1, "luprobe: (command line):1: probe: 'within' must be a probe "
                               "(returned by probe{...})\n"), "within = 5")


def test_exit_codes_outside_0_to_255_are_refused():
    for arg in ("256", "-1", "1 << 32"):
        code, _, err = run("-q", "-e", f"exit({arg})", "--", *_computee())
        expect_eq((code, err), (1, "luprobe: (command line):1: bad argument #1 to 'exit' (exit "
                                   "code must be from 0 to 255)\n"), f"exit({arg})")
    code, _, err = run("-q", "-e", "exit(255)", "--", *_computee())
    expect_eq((code, err), (255, ""), "exit(255)")
    # from a callback: an error like any other, the run ends with 1, not 256 & 0xff
    code, _, err = run("-q", "-e", 'probe{ func = "main.computeE" } after(1, function() '
                       'exit(256) end)', "--", *_computee())
    expect_eq(code, 1, "exit(256) in a timer")
    expect_eq(err.splitlines()[:2], [
        "luprobe: timer: (command line):1: bad argument #1 to 'exit' (exit code must be from 0 "
        "to 255)", "stack traceback:"], "stderr")


def test_malformed_args_and_ret_lists_are_named_and_leak_nothing():
    # under SANITIZE=1 LeakSanitizer checks that the strings parsed before the error are freed
    cases = [
        ('args = { "a", 5 }', 'probe: args[2] must be a name or {"name", "type"}'),
        ('args = { {"a", "int"}, "b" }',
         'probe: args mixes names and declarations; declare every entry as {"name", "type"}'),
        ('args = { {"a", "int"}, {"b", 1} }', 'probe: args[2] must be {"name", "type"}'),
        ('args = { "a", [4] = "b" }', "probe: 'args' must be a list, in order: "
         '{ {"n", "int64"}, {"s", "string"} } or { "n", "s" }'),
        ('ret = { "int", {} }', 'probe: ret[2] must be a name or {"name", "type"}'),
        ('args = { {"a", "int"} }, ret = { "int", false }',
         'probe: ret[2] must be a name or {"name", "type"}'),
    ]
    for spec, want in cases:
        code, _, err = run("-q", "-e", f'probe{{ func = "main.computeE", {spec} }}', "--",
                           *_computee())
        expect_eq((code, err), (1, f"luprobe: (command line):1: {want}\n"), spec)


# ---- timers take any number ----

def test_huge_timer_delays_never_fire_and_nan_is_refused():
    script = """
after(math.huge, function() print("after(math.huge) fired") end)
every(1e300, function() print("every(1e300) fired") end)
after(2^63, function() print("after(2^63) fired") end)
every(2^62 / 1e6, function() print("every(2^62 ns) fired") end)
after(1e12, function() print("after(1e12) fired") end):cancel()
after(1, function() print("after(1) fired") end)
every(100, function() print("tick") end)
after(250, function() exit() end)
on_exit(function() print("end") end)
probe{ func = "main.computeE" }
"""
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", write_script(d, "t.lua", script), "--", *_computee())
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln for ln in lines if not ln.startswith("listening on")],
              ["after(1) fired", "tick", "tick", "end"], "only the reachable timers fired")
    for fn, what in (("after", "delay"), ("every", "interval")):
        for arg in ("0/0", "-(0/0)", "math.huge - math.huge"):
            code, _, err = run("-q", "-e", f"{fn}({arg}, print)", "--", *_computee())
            expect_eq((code, err), (1, f"luprobe: (command line):1: bad argument #1 to '{fn}' "
                                       f"({what} must be a number of milliseconds, not NaN)\n"),
                      f"{fn}({arg})")
    code, _, err = run("-q", "-e", "after(-math.huge, print)", "--", *_computee())
    expect_eq((code, err), (1, "luprobe: (command line):1: bad argument #1 to 'after' (delay "
                               "must be positive)\n"), "after(-math.huge)")


# ---- files that are not regular files ----

def test_fifos_and_devices_are_refused_at_once():
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        os.chmod(fifo, 0o755)
        os.symlink(fifo, os.path.join(d, "mod.lua"))
        idle = Proc(["sleep", "30"]).pid
        cases = [
            ([fifo, "-p", str(idle)], f"luprobe: {fifo}: not a regular file (a FIFO)"),
            (["-e", f'probe{{ func = "main.computeE", target = "{fifo}" }}'],
             f"luprobe: (command line):1: {fifo}: not a regular file (a FIFO)"),
            (["-e", 'probe{ func = "main.computeE" }', "--", fifo],
             f"luprobe: {fifo}: cannot execute: not a regular file (a FIFO)"),
            (["-l", fifo], f"luprobe: {fifo}: not a regular file (a FIFO)"),
            (["--info", "/dev/zero"],
             "luprobe: /dev/zero: not a regular file (a character device)"),
            (["--describe", fifo], f"luprobe: {fifo}: not a regular file (a FIFO)"),
            (["--describe", "/dev/zero"],
             "luprobe: /dev/zero: not a regular file (a character device)"),
            (["-I", d, "-e", 'require "mod"', "-p", str(idle)],
             f"luprobe: (command line):1: module 'mod': {d}/mod.lua: not a regular file "
             "(a FIFO)"),
            (["-e", f'dofile("{fifo}")', "-p", str(idle)],
             f"luprobe: {fifo}: not a regular file (a FIFO)"),
        ]
        for args, want in cases:
            code, _, err = run("-q", *args, timeout=10)
            expect_eq((code, err), (1, want + "\n"), " ".join(args))
