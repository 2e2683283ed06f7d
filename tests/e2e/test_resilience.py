# SPDX-License-Identifier: BSD-2-Clause
"""Whatever the script does, luprobe neither crashes nor
hangs. The Lua bindings keep their stack discipline; finalizers run while
what they reach still exists; timers take any number; pcall and coroutines
cannot escape the budget or Ctrl-C; the script's memory is bounded; the
event loop keeps timers, signals and --duration on time under overload;
write errors and a closed stdout end the run; files that are not regular
are refused."""
import os
import re
import signal
import subprocess
import tempfile
import time

from lib import (LUPROBE, ROOT, Proc, Server, expect, expect_eq, gobin, luprobe, run,
                 write_script)

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
        ('args = { {"a", "int", 5} }',
         'probe: args[1] must be {"name", "type"} or {"name", "type", "fallback type"}'),
        ('args = { {"a", "int", "int", "int"} }', 'probe: args[1] must be a name or {"name", "type"}'),
        ('args = { "a.X", {"b", "*main.T", "*struct{ X int }"} }',
         'probe: args mixes names and declarations; declare every entry as {"name", "type"}'),
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


# ---- the budget, Ctrl-C and os.exit reach every instruction of a callback ----

def _workload(script, *args, rounds=1, timeout=30):
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", *args, write_script(d, "s.lua", script), "--",
                               gobin("webapp"), "-workload", str(rounds), timeout=timeout)
    return code, [ln for ln in lines if not ln.startswith(("round ", "total: "))], err


BUDGET = ("callback ran more than 100000 instructions (a runaway loop?); raise the budget "
          "with --budget")


def test_pcall_and_coroutines_cannot_escape_the_budget():
    cases = {
        "pcall": """
probe{ func = "main.lookupUser" }:on_event(function()
	while true do pcall(function() while true do end end) end
end)""",
        "xpcall in a coroutine": """
probe{ func = "main.lookupUser" }:on_event(function()
	local co = coroutine.create(function() while true do xpcall(function() while true do end end, function(m) return m end) end end)
	while true do coroutine.resume(co) end
end)""",
        "coroutine from the main chunk": """
local co = coroutine.create(function() while true do end end)
probe{ func = "main.lookupUser" }:on_event(function()
	print(coroutine.resume(co))
	print("not reached")
end)""",
        "wrap from the main chunk": """
local w = coroutine.wrap(function() local x = 0 while true do x = x + 1 end end)
probe{ func = "main.lookupUser" }:on_event(function()
	pcall(w)
	print("not reached")
end)""",
        "a finalizer (Lua runs __gc with hooks off)": """
probe{ func = "main.lookupUser" }:on_event(function()
	setmetatable({}, { __gc = function() while true do end end })
	collectgarbage()
	print("not reached")
end)""",
        "many coroutines, a little each": """
local cos = {}
for i = 1, 100 do cos[i] = coroutine.wrap(function() while true do for j = 1, 500 do end coroutine.yield() end end) end
probe{ func = "main.lookupUser" }:on_event(function()
	while true do for i = 1, 100 do cos[i]() end end
end)""",
    }
    for name, script in cases.items():
        code, out, err = _workload(script + "\non_exit(function() print('on_exit ran') end)",
                                   "--budget", "100000")
        expect_eq(code, 1, f"{name}: exit code ({err})")
        expect_eq(out, ["on_exit ran"], f"{name}: stdout")
        first = err.splitlines()[0]
        expect(re.fullmatch(r"luprobe: /\S+/s\.lua:\d+: " + re.escape(BUDGET), first),
               f"{name}: {err}")
        expect_eq(err.count(BUDGET), 1, f"{name}: one error, the run stopped")


def test_first_ctrl_c_stops_a_callback_that_pcalls_or_resumes_a_runaway_loop():
    cases = {
        "pcall": "while true do pcall(function() while true do end end) end",
        "coroutine": "co()",
        "coroutine under pcall": "while true do pcall(co) end",
    }
    for name, body in cases.items():
        script = f"""
co = coroutine.wrap(function() while true do end end)
probe{{ func = "main.lookupUser" }}:on_event(function()
	print("looping") io.stdout:flush()
	{body}
end)
on_exit(function() print("on_exit ran") end)
"""
        with tempfile.TemporaryDirectory() as d:
            # no budget: only Ctrl-C can stop it
            lp = luprobe("-q", "--budget", "0", write_script(d, "s.lua", script), "--",
                         gobin("webapp"), "-workload", "1")
            lp.wait_line("^looping$")
            t0 = time.time()
            lp.signal(signal.SIGINT)
            code = lp.wait(10)
        expect(time.time() - t0 < 3, f"{name}: stopped at the first SIGINT")
        expect_eq((code, lp.stderr()), (0, ""), f"{name}: exit code and stderr")
        expect_eq([ln for ln in lp.lines if not ln.startswith(("round ", "total: "))],
                  ["looping", "on_exit ran"], f"{name}: stdout")


def test_an_error_in_on_exit_after_ctrl_c_is_reported():
    script = """
probe{ func = "main.computeE" }
on_exit(function() error("in on_exit") end)
"""
    with tempfile.TemporaryDirectory() as d:
        path = write_script(d, "s.lua", script)
        lp = luprobe("-q", path, "--", *_computee())
        lp.wait_line("^listening on ")  # the command runs: tracing has started
        lp.signal(signal.SIGINT)
        code = lp.wait(10)
    expect_eq(code, 1, "exit code")
    expect_eq(lp.stderr().splitlines()[:2], [f"luprobe: on_exit: {path}:3: in on_exit",
                                              "stack traceback:"], "stderr")


def _state(pid):
    """A process's state letter, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_second_ctrl_c_takes_the_command_with_it():
    script = """
print("pid", luprobe.pids[1]) io.stdout:flush()
probe{ func = "main.computeE" }
on_exit(function()
	print("on_exit") io.stdout:flush()
	local t = os.clock() while os.clock() - t < 20 do end
end)
"""
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe("-q", "--budget", "0", write_script(d, "s.lua", script), "--",
                     gobin("computee"), "-addr", "127.0.0.1:0")
        pid = int(lp.wait_line(r"^pid\t(\d+)$").group(1))
        try:
            lp.wait_line("^listening on ")
            lp.signal(signal.SIGINT)
            lp.wait_line("^on_exit$")
            expect_eq(_state(pid) not in (None, "Z"), True, "the command runs during on_exit")
            lp.signal(signal.SIGINT)
            expect_eq(lp.wait(5), -signal.SIGINT, "luprobe died of the second SIGINT")
            deadline = time.time() + 5
            while _state(pid) not in (None, "Z") and time.time() < deadline:
                time.sleep(0.05)
            expect(_state(pid) in (None, "Z"), f"the command is gone: state {_state(pid)}")
        finally:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_os_exit_ends_the_run_like_exit_at_once():
    script = """
probe{ func = "main.lookupUser", args = { "id" } }:on_event(function(e)
	print("event " .. e.args.id)
	if e.args.id == 2 then pcall(os.exit, 3) print("not reached") end
end)
on_exit(function() print("on_exit ran") end)
"""
    code, out, err = _workload(script, rounds=3)
    expect_eq((code, err), (3, ""), "exit code and stderr")
    expect_eq(out, ["event 1", "event 2", "on_exit ran"], "the callback stopped at os.exit")
    # in a timer, with the command still running: it is terminated, luprobe exits with the code
    code, lines, err = run("-q", "-e", 'probe{ func = "main.computeE" } after(50, function() '
                           'os.exit(false) end) on_exit(function() print("on_exit ran") end)',
                           "--", gobin("computee"), "-addr", "127.0.0.1:0", timeout=10)
    expect_eq((code, err), (1, ""), "os.exit(false) in a timer")
    expect_eq(lines[-1], "on_exit ran", "on_exit ran")
    # in the main chunk: as exit(), the command never starts
    with tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "ran")
        code, lines, err = run("-e", 'print("bye") os.exit(4) print("not reached")', "--",
                               "/usr/bin/touch", marker)
        expect_eq((code, lines, err), (4, ["bye"], "luprobe: 0 events, 0 lost\n"), "the run")
        expect(not os.path.exists(marker), "the command never ran")
    code, _, err = run("-q", "-e", "os.exit(300)", "--", *_computee())
    expect_eq((code, err), (1, "luprobe: (command line):1: bad argument #1 to 'exit' (exit "
                               "code must be from 0 to 255)\n"), "os.exit(300)")


# ---- the script's memory has a limit ----

def _rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))
    except (OSError, AttributeError):
        return 0


def test_a_script_that_keeps_every_event_meets_its_memory_limit():
    n = 3000000
    want = subprocess.run([gobin("leaves"), "-n", str(n)], capture_output=True, text=True,
                          timeout=60).stdout
    script = """
local kept = {}
probe{ func = "main.direct", args = { "a" } }:on_event(function(e)
	kept[#kept + 1] = { e, e.args }
end)
attach()
print("ready") io.stdout:flush()
on_exit(function() print("on_exit: kept " .. #kept) end)
"""
    with tempfile.TemporaryDirectory() as d:
        target = Proc([gobin("leaves"), "-wait", "-n", str(n)], stdin=subprocess.PIPE)
        lp = luprobe("-q", "--memory", "64M", write_script(d, "keep.lua", script), "-p",
                     str(target.pid))
        lp.wait_line("^ready$")
        target.p.stdin.write(b"go\n")
        target.p.stdin.close()
        peak, deadline = 0, time.time() + 60
        while lp.p.poll() is None and time.time() < deadline:
            peak = max(peak, _rss_kib(lp.pid))
            lp._fill(0.01)
        code = lp.wait(10)
    err = lp.stderr().splitlines()
    expect_eq((code, err[:1]), (1, ["luprobe: callback: the script's memory limit of 64 MiB was "
                                    "reached; raise it with --memory SIZE"]),
              "exit code and stderr")
    # a slow consumer (ASan) may have lost calls meanwhile: counted, and said
    expect(all(re.fullmatch(r"luprobe: \d+ events were lost because the ring buffer was full; "
                            r"raise --ringbuf or do less work per event", ln) for ln in err[1:]),
           err)
    m = re.fullmatch(r"on_exit: kept (\d+)", lp.lines[-1])
    expect(m and int(m.group(1)) > 100000, f"on_exit ran, with the events kept: {lp.lines}")
    # 64 MiB for the script, an eighth more to end the run, luprobe itself (~20 MiB) and
    # the C library's slack; under ASan its quarantine keeps up to 256 MiB of freed blocks
    bound = (64 + 8 + 64 + (320 if os.environ.get("LUPROBE_SANITIZE") == "1" else 0)) * 1024
    expect(peak < bound, f"luprobe's peak RSS {peak} kB, bound {bound} kB")
    expect_eq((target.wait(60), "\n".join(target.lines) + "\n"), (0, want),
              "the traced program ran to its end, its output unchanged")
    code, _, err = run("--memory", "64X", "-e", "exit()", "--", *_computee())
    expect_eq((code, err), (1, "luprobe: --memory needs a size from 1M to 1T, e.g. 256M or "
                               "2G\n"), "--memory 64X")
    # the main chunk meets it too
    code, _, err = run("--memory", "1M", "-e", "local t = {} for i = 1, 1e8 do t[i] = i end",
                       "--", *_computee())
    expect_eq((code, err), (1, "luprobe: (command line): the script's memory limit of 1 MiB was "
                               "reached; raise it with --memory SIZE\n"), "main chunk")


# ---- the event loop under overload ----

def test_overload_keeps_timers_and_duration_on_time_and_counts_what_it_costs():
    # each event costs the script 1 ms; main.direct is called millions of times a second
    script = """
-- the time luprobe waited for a CPU so far (ns): a loaded machine's doing, not luprobe's
local function waited()
	local f = io.open("/proc/self/schedstat")
	local line = f and f:read("l") or "0 0"
	if f then f:close() end
	return math.tointeger(tonumber(line:match("^%d+ (%d+)"))) or 0
end
local t0, w0
every(100, function()
	t0, w0 = t0 or luprobe.now(), w0 or waited()
	printf("tick %d %d\\n", (luprobe.now() - t0) // 1000000, (waited() - w0) // 1000000)
	io.stdout:flush()
end)
probe{ func = "main.direct", args = false }:on_event(function(e)
	local t = os.clock() while os.clock() - t < 0.001 do end
end)
on_exit(function()
	local st = luprobe.stats()
	printf("waited %d\\n", waited() // 1000000)
	printf("stats %d %d %d %d\\n", st.events, st.lost, st.undelivered, st.batches_cut)
end)
"""
    with tempfile.TemporaryDirectory() as d:
        t0 = time.time()
        code, lines, err = run("-v", "--duration", "2", write_script(d, "slow.lua", script),
                               "--", gobin("leaves"), "-n", "100000000", timeout=30)
        took = time.time() - t0
    expect_eq(code, 0, f"exit code ({err})")
    # The main thread's time waiting for a CPU (schedstat's run delay) is the
    # machine's doing: on a loaded machine it excuses that much lateness, and
    # no more (the script's own work per event is running time, not waiting).
    waited = [int(m.group(1)) for m in (re.fullmatch(r"waited (\d+)", ln) for ln in lines) if m]
    expect(len(waited) == 1, f"on_exit printed the wait: {lines[-3:]}")
    # --duration, then at most a second to deliver what the ring holds
    expect(2 <= took < 4.5 + waited[0] / 1000, f"the run took {took:.2f} s, waited {waited[0]} ms")
    ticks = [(int(m.group(1)), int(m.group(2)))
             for m in (re.fullmatch(r"tick (\d+) (\d+)", ln) for ln in lines) if m]
    expect(len(ticks) >= 14 - waited[0] // 100, f"ticks every 100 ms for 2 s: {ticks}")
    # every() keeps its cadence: tick k is due 100 k ms after the first, late
    # by at most 150 ms plus the time waited for a CPU since the tick before
    bad = [(k, t, w) for k, (t, w) in enumerate(ticks)
           if not -30 <= t - 100 * k <= 150 + (w - ticks[k - 1][1] if k else 0)]
    expect(not bad, f"ticks on time (ms, ms waited): {ticks}")
    m = re.fullmatch(r"stats (\d+) (\d+) (\d+) (\d+)", lines[-1])
    expect(m, f"on_exit printed the stats: {lines[-3:]}")
    events, lost, undelivered, cut = (int(g) for g in m.groups())
    expect(events > 0 and lost > 0 and cut > 0, f"stats: {m.group(0)}")
    summary = [ln for ln in err.splitlines() if re.match(r"luprobe: \d+ events, ", ln)]
    want = f"luprobe: {events} events, {lost} lost"
    if undelivered:
        want += f", {undelivered} undelivered"
    expect_eq(summary, [want], "the summary")
    expect(f"luprobe: {lost} events were lost because the ring buffer was full; raise --ringbuf "
           "or do less work per event" in err, err)
    if undelivered:
        expect(f"luprobe: {undelivered} events were still in the ring buffer a second after the "
               "run ended, not delivered: the script handles events slower than they come"
               in err, err)
    expect(re.search(rf"luprobe: {cut} of \d+ batches of events were cut after 5 ms so that "
                     r"timers, signals and --duration kept their time: the script handled "
                     r"events slower than they came", err), err)


# ---- finalizers at exit ----

def test_finalizers_at_exit_reach_stats_aggregations_probes_and_stacks():
    script = """
local kept
local count = probe{ func = "main.lookupUser", args = false }:count()
probe{ func = "main.lookupUser", args = { "id" }, stack = true }:on_event(function(e) kept = e end)
keeper = setmetatable({}, { __gc = function()
	print("gc stats " .. luprobe.stats().events)
	print("gc count " .. count:get())
	print("gc probe " .. select(2, pcall(probe, { func = "main.lookupUser" })))
	print("gc attach " .. select(2, pcall(attach)))
	print("gc stack " .. kept.stack[1].func .. " " .. select(2, tostring(kept.stack):gsub("\\n", "")))
	print("gc args " .. kept.args.id)
end })
"""
    code, out, err = _workload(script, rounds=2)
    expect_eq((code, err), (0, ""), "exit code and stderr")
    # the count, printed at exit as no print showed it; then the finalizer
    expect_eq(out[:3], ["main.lookupUser count: 8", "gc stats 8", "gc count 8"],
              "stats and the kernel count")
    out = out[1:]
    expect_eq(out[2:4], [
        "gc probe probe: the run has ended; create probes in the main chunk or in callbacks, "
        "not in on_exit or finalizers",
        "gc attach attach: the run has ended; attach in the main chunk or in callbacks, not in "
        "on_exit or finalizers"], "probe() and attach() say why not")
    m = re.fullmatch(r"gc stack main\.lookupUser (\d+)", out[4])
    expect(m and int(m.group(1)) >= 4, f"the stack, symbolized: {out[4]}")
    expect_eq(out[5:], ["gc args 99"], "the event's arguments")
    # a finalizer that never ends, or eats memory, is stopped like a callback
    for body, want in (
            ("while true do end", "luprobe: finalizers (__gc) ran more than 1000000 "
             "instructions at exit; the rest did not run (raise the budget with --budget)\n"),
            ("local t = {} while true do t[#t + 1] = {} end", "luprobe: finalizers (__gc) at "
             "exit: the script's memory limit of 16 MiB was reached; raise it with --memory "
             "SIZE\n")):
        # Lua runs finalizers in the reverse order of setmetatable: a, then b
        script = ("b = setmetatable({}, { __gc = function() print('gc b') end })\n"
                  f"a = setmetatable({{}}, {{ __gc = function() print('gc a') {body} end }})\n"
                  'probe{ func = "main.lookupUser" }:on_event(function() end)')
        code, out, err = _workload(script, "--budget", "1000000", "--memory", "16M")
        expect_eq((code, err), (0, want), f"{body}: exit code and stderr")
        expect_eq(out, ["gc a"], f"{body}: the first finalizer ran and was stopped, the "
                                 "second did not run")


# ---- output: write errors and a reader that goes away ----

def test_a_write_error_is_an_error_that_says_what_was_not_written():
    script = 'probe{ func = "main.lookupUser", args = { "id" } } on_exit(function() print("bye") end)'
    for how in ("-o", "stdout"):
        argv = [LUPROBE, "-e", script, "--", gobin("webapp"), "-workload", "3"]
        if how == "-o":
            argv[1:1] = ["-o", "/dev/full"]
        with open("/dev/full", "w") as full:
            p = subprocess.run(argv, stdout=full if how == "stdout" else subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=30)
        name = "-o /dev/full" if how == "-o" else "stdout"
        m = re.fullmatch(rf"luprobe: {re.escape(name)}: write error: No space left on device "
                         r"\(the output of (\d+) events? was not written\)\n"
                         r"luprobe: (\d+) events?, 0 lost(?:, \d+ undelivered)?, (\d+) not written\n",
                         p.stderr)
        expect(m, f"{how}: stderr {p.stderr!r}")
        expect_eq(p.returncode, 1, f"{how}: exit code")
        unwritten, events, unwritten2 = (int(g) for g in m.groups())
        expect(events > 0 and unwritten == unwritten2 == events,
               f"{how}: every event printed was lost: {m.group(0)}")
    # the script's own writes, and -l
    with open("/dev/full", "w") as full:
        p = subprocess.run([LUPROBE, "-q", "-e", 'io.write("x\\n") printf("%d\\n", 1) exit()',
                            "-p", str(Proc(["sleep", "30"]).pid)], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        expect_eq((p.returncode, p.stderr), (1, "luprobe: stdout: write error: No space left "
                                                "on device\n"), "io.write and printf")
        p = subprocess.run([LUPROBE, "-l", gobin("webapp"), "main.*"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        expect_eq((p.returncode, p.stderr), (1, "luprobe: stdout: write error: No space left "
                                                "on device\n"), "-l")


def test_a_closed_stdout_ends_the_run_at_once():
    # idle: nothing more is written, yet the run ends when the reader goes
    srv = Server(gobin("computee"))
    script = """
probe{ func = "main.computeE" }
on_exit(function() io.stderr:write("on_exit ran\\n") print("dropped") end)
attach()
print("first") io.stdout:flush()
"""
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe(write_script(d, "idle.lua", script), "-p", str(srv.pid))
        lp.wait_line("^first$")
        t0 = time.time()
        lp.p.stdout.close()
        code = lp.wait(10)
    expect(time.time() - t0 < 2, f"ended {time.time() - t0:.2f} s after the reader left")
    expect_eq((code, lp.stderr()), (0, "on_exit ran\nluprobe: 0 events, 0 lost\n"), "the run")
    expect(srv.get("/e?iters=3").startswith("e = "), "the traced server is unharmed")
    # streaming, with a command: it is terminated as on Ctrl-C
    lp = luprobe("-e", 'probe{ func = "main.direct" } print("pid", luprobe.pids[1])', "--",
                 gobin("leaves"), "-n", "100000000")
    pid = int(lp.wait_line(r"^pid\t(\d+)$").group(1))
    lp.wait_line(r"^main\.direct\(")
    t0 = time.time()
    lp.p.stdout.close()
    code = lp.wait(10)
    expect(time.time() - t0 < 3, f"ended {time.time() - t0:.2f} s after the reader left")
    expect_eq(code, 0, f"exit code ({lp.stderr()})")
    # the events printed after the reader left, if any came before luprobe saw it go
    expect(re.fullmatch(r"luprobe: \d+ events?, \d+ lost(, \d+ undelivered)?(, \d+ not "
                        r"written)?\n", lp.stderr()), lp.stderr())
    expect(_state(pid) in (None, "Z"), f"the command was terminated: state {_state(pid)}")


def test_rate_script_prints_calls_per_interval_and_what_was_lost():
    # two intervals, then Ctrl-C: a --duration would race the second tick on a loaded machine
    lp = luprobe("-q", os.path.join(ROOT, "scripts", "rate.lua"), "-a", "func=main.direct", "-a",
                 "every=0.5", "--", gobin("leaves"), "-n", "100000000")
    lp.wait_line(r"calls/s", timeout=30)
    first = next(i for i, ln in enumerate(lp.lines) if "calls/s" in ln)
    lp.wait_line(r"calls/s", timeout=30, start=first + 1)
    lp.signal(signal.SIGINT)
    code = lp.wait(30)
    lines, err = lp.lines, lp.stderr()
    expect_eq((code, err), (0, ""), "exit code and stderr")
    rates = [ln for ln in lines if "calls/s" in ln]
    expect(len(rates) >= 2, f"a line every 0.5 s: {lines}")
    for ln in rates:
        m = re.fullmatch(r"\s*(\d+) calls/s\s+(\d+) lost\s+(\d+) batches cut", ln)
        expect(m and int(m.group(1)) > 0, ln)
    m = re.fullmatch(r"(\d+) events, (\d+) lost, (\d+) undelivered", lines[-1])
    expect(m and int(m.group(1)) > 0, f"the totals: {lines[-1]}")
