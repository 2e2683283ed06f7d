# SPDX-License-Identifier: BSD-2-Clause
"""Scopes end however the scoped frame left (return, recovered
panic, Goexit, a reused goroutine); PIE load addresses come with each event;
processes that re-exec themselves keep their probes; attach(pid) at any
time."""
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error

from lib import (SCRIPTS, Proc, Server, expect, expect_eq, free_port, gobin, http_get, luprobe,
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


# ---- PIE: the load bias comes with each event ----

LIFECYCLE = "lifecycle"
# main.work(gen, i, fn, s): fn is main.double, s a main.Square in a main.Shape, an
# interface with methods (an itab, then the data), declared like error
WORK_DECLARED = '{ {"gen", "int"}, {"i", "int"}, {"fn", "func(int) int"}, {"s", "error"} }'


def _work_script(variant, target=None, stack=True, extra=""):
    args = WORK_DECLARED if variant == "stripped-pie" else "true"
    where = f', target = "{target}"' if target else ""
    return f"""
local n = 0
probe{{ func = "main.work", args = {args}, stack = {str(stack).lower()}{where} }}:on_event(function(e)
	local a, st = e.args, e.stack
	n = n + 1
	print(("%d %d %d %s %s %s %s"):format(e.pid, a.gen, a.i, tostring(a.fn),
		tostring(a.s and a.s.type), st and tostring(st[1].func) or "-",
		st and tostring(st[2].func) or "-"))
	io.stdout:flush()
end)
{extra}
"""


def test_a_short_lived_pie_is_symbolized_after_it_exited():
    for variant in ("pie", "stripped-pie"):
        with tempfile.TemporaryDirectory() as d:
            code, lines, err = run("-q", write_script(d, "s.lua", _work_script(variant)), "--",
                                   gobin(LIFECYCLE, variant), "-n", "5")
        expect_eq(code, 0, f"{variant}: exit code ({err})")
        # the command shares luprobe's stdout
        expect_eq([ln for ln in lines if ln.startswith("gen ")], ["gen 0 done"], "its output")
        events = [ln.split(" ", 1) for ln in lines if not ln.startswith("gen ")]
        expect_eq(len({pid for pid, _ in events}), 1, f"{variant}: one process: {events}")
        expect_eq([ev for _, ev in events], [f"0 {i} main.double main.Square main.work main.main"
                                             for i in range(5)], f"{variant}: events")


def test_a_pie_that_re_execs_itself_is_decoded_with_each_image_base():
    binary = gobin(LIFECYCLE, "pie")
    script = _work_script("pie", target=binary, stack=False,
                          extra='attach() print("ready") io.stdout:flush()')
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe("-q", write_script(d, "s.lua", script))
        lp.wait_line("^ready$")
        app = Proc([binary, "-n", "3", "-exec", "3"])
        expect_eq(app.wait(20), 0, "lifecycle exit code")
        lp.wait_line(r"^\d+ 3 2 ")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
    expect_eq(app.lines, [f"gen {g} done" for g in range(4)], "lifecycle output")
    expect_eq(lp.lines[1:], [f"{app.pid} {g} {i} main.double main.Square - -"
                             for g in range(4) for i in range(3)], "events of the 4 images")


def test_seventy_processes_of_one_pie_system_wide_lose_nothing():
    binary = gobin(LIFECYCLE, "pie")
    nproc, calls = 72, 50
    script = f"""
local n, bad = 0, 0
probe{{ func = "main.work", args = true, target = "{binary}" }}:on_event(function(e)
	n = n + 1
	if tostring(e.args.fn) ~= "main.double" or e.args.s.type ~= "main.Square" then
		bad = bad + 1
	end
	if n == {nproc * calls} then print("all " .. n .. " bad " .. bad) io.stdout:flush() end
end)
attach() print("ready") io.stdout:flush()
"""
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe(write_script(d, "s.lua", script))
        lp.wait_line("^ready$")
        apps = [Proc([binary, "-n", str(calls)]) for _ in range(nproc)]
        for a in apps:
            expect_eq(a.wait(30), 0, "lifecycle exit code")
        lp.wait_line(f"^all {nproc * calls} bad 0$", timeout=30)
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
    expect_eq(lp.stderr().splitlines()[-1:], [f"luprobe: {nproc * calls} events, 0 lost"],
              "summary")


# ---- attach(pid) at any time ----

COMPUTEE = "computee"
SHOW = """
local function show(tag)
	return function(e) print(tag .. " " .. e.pid .. " " .. e.args.iterations) io.stdout:flush() end
end
"""


def test_attach_pid_covers_probes_created_before_and_after_it():
    a, b = Server(gobin(COMPUTEE)), Server(gobin(COMPUTEE))
    script = SHOW + """
probe{ func = "main.computeE", args = { "iterations" } }:on_event(show("before"))
attach(tonumber(luprobe.args.b))
probe{ func = "main.computeE", args = { "iterations" } }:on_event(show("after"))
print("ready " .. table.concat(luprobe.pids, " ")) io.stdout:flush()
"""
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe("-q", write_script(d, "s.lua", script), "-p", str(a.pid), "-a",
                     f"b={b.pid}")
        lp.wait_line(f"^ready {a.pid} {b.pid}$")
        a.get("/e?iters=11")
        b.get("/e?iters=22")
        a.get("/e?iters=33")
        lp.wait_line(f"^after {a.pid} 33$")
        lp.wait_line(f"^before {a.pid} 33$")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
    expect_eq(sorted(lp.lines[1:]), sorted(
        f"{tag} {pid} {n}" for tag in ("before", "after")
        for pid, n in ((a.pid, 11), (b.pid, 22), (a.pid, 33))), "events")


def test_attach_pid_from_a_timer_after_tracing_started():
    a, b = Server(gobin(COMPUTEE)), Server(gobin(COMPUTEE))
    script = SHOW + """
probe{ func = "main.computeE", args = { "iterations" } }:on_event(show("call"))
after(1, function()
	attach(tonumber(luprobe.args.b))
	print("attached " .. table.concat(luprobe.pids, " ")) io.stdout:flush()
end)
"""
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe("-q", write_script(d, "s.lua", script), "-p", str(a.pid), "-a",
                     f"b={b.pid}")
        lp.wait_line(f"^attached {a.pid} {b.pid}$")
        for n in (1, 2, 3):
            b.get(f"/e?iters={n}")
        a.get("/e?iters=4")
        lp.wait_line(f"^call {a.pid} 4$")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
    expect_eq(lp.lines[1:], [f"call {b.pid} 1", f"call {b.pid} 2", f"call {b.pid} 3",
                             f"call {a.pid} 4"], "events")


def test_attach_pid_errors_name_the_pid_and_function_and_leave_nothing():
    a = Server(gobin(COMPUTEE))
    other = Proc([gobin(LIFECYCLE), "-wait"], stdin=subprocess.PIPE)
    other.wait_line("^gen 0 waiting$")
    path = gobin(LIFECYCLE)
    want = f"attach({other.pid}): main.computeE: no such function in {path}"
    with tempfile.TemporaryDirectory() as d:
        # in the main chunk: one line, exit 1
        text = SHOW + f"""
probe{{ func = "main.computeE", args = {{ "iterations" }} }}:on_event(show("call"))
attach({other.pid})
"""
        script = write_script(d, "m.lua", text)
        line = text.splitlines().index(f"attach({other.pid})") + 1
        code, lines, err = run(script, "-p", str(a.pid))
        expect_eq((code, lines, err.splitlines()), (1, [], [f"luprobe: {script}:{line}: {want}"]),
                  "main chunk")
        # in a callback: the error is the script's to handle; the first target is still traced
        text = SHOW + f"""
probe{{ func = "main.computeE", args = {{ "iterations" }} }}:on_event(show("call"))
after(1, function()
	local ok, e = pcall(attach, {other.pid})
	print(e) print("pids " .. table.concat(luprobe.pids, " ")) io.stdout:flush()
end)
"""
        script = write_script(d, "t.lua", text)
        lp = luprobe("-q", script, "-p", str(a.pid))
        lp.wait_line("^pids ")
        a.get("/e?iters=5")
        lp.wait_line(f"^call {a.pid} 5$")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code")
        # (called by pcall, a C function: no line to name)
        expect_eq(lp.lines, [want, f"pids {a.pid}", f"call {a.pid} 5"], "callback")
    other.p.stdin.close()
    expect_eq(other.wait(10), 0, "the other process ran on")


# ---- a traced process executes a new image ----

PER_IMAGE = """
local n, named = {}, {}
probe{ func = "main.work", args = true }:on_event(function(e)
	local g = e.args.gen
	n[g] = (n[g] or 0) + 1
	if tostring(e.args.fn) == "main.double" and e.args.s.type == "main.Square" then
		named[g] = (named[g] or 0) + 1
	end
end)
on_exit(function()
	local out = {}
	for g = 0, 3 do out[#out + 1] = (n[g] or 0) .. "/" .. (named[g] or 0) end
	print("per image " .. table.concat(out, " "))
end)
"""


def _wait_stderr(proc, pattern, timeout=10):
    deadline = time.time() + timeout
    while not re.search(pattern, proc.stderr()):
        expect(time.time() < deadline and proc.p.poll() is None,
               f"no {pattern!r} on stderr within {timeout}s: {proc.stderr()[-600:]!r}")
        proc._fill(0.1)


def test_a_command_that_re_execs_itself_from_another_thread_keeps_every_call():
    # lifecycle execs /proc/self/exe from a goroutine locked to a thread that is
    # not the main thread (the kernel then frees the task a pid's probes were
    # made for); the calls after the exec were once lost in 2 runs of 4
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "s.lua", PER_IMAGE)
        for variant in ("default", "pie"):
            for attempt in range(4):
                code, lines, err = run(script, "--", gobin(LIFECYCLE, variant), "-n", "5",
                                       "-exec", "3", timeout=60)
                what = f"{variant}, run {attempt + 1}"
                expect_eq(code, 0, f"{what}: exit code ({err})")
                expect_eq([ln for ln in lines if not ln.startswith("gen ")],
                          ["per image 5/5 5/5 5/5 5/5"], f"{what}: calls of each image")
                expect_eq(err.splitlines(), ["luprobe: 20 events, 0 lost"], f"{what}: stderr")


def test_a_pid_that_re_execs_itself_is_attached_again_and_the_gap_is_reported():
    app = Proc([gobin(LIFECYCLE), "-n", "4", "-exec", "2", "-wait"], stdin=subprocess.PIPE)
    app.wait_line("^gen 0 waiting$")
    path = gobin(LIFECYCLE)
    with tempfile.TemporaryDirectory() as d:
        lp = luprobe(write_script(d, "s.lua", PER_IMAGE + 'attach() print("ready") '
                                  'io.stdout:flush()'), "-p", str(app.pid))
        lp.wait_line("^ready$")
        for gen in range(3):
            if gen:
                app.wait_line(f"^gen {gen} waiting$")
                # not held: luprobe says when its probes are back, and how long it took
                _wait_stderr(lp, rf"luprobe: process {app.pid} executed {re.escape(path)}; its "
                                 r"probes were attached again after \d+\.\d ms: calls in that "
                                 r"time were not traced\n" * gen)
            app.p.stdin.write(b"go\n")
            app.p.stdin.flush()
            app.wait_line(f"^gen {gen} done$")
        expect_eq(app.wait(10), 0, "lifecycle exit code")
        expect_eq(lp.wait(10), 1, "exit code (the process it traced went away)")
    expect_eq(lp.lines[1:], ["per image 4/4 4/4 4/4 0/0"], "calls of each image")
    err = lp.stderr().splitlines()
    expect_eq(err[-2], f"luprobe: process {app.pid} ({path}) exited", "stderr")
    expect(re.fullmatch(r"luprobe: 12 events, 0 lost, \d+\.\d ms untraced after execs \(calls "
                        r"then are not counted\)", err[-1]), f"summary: {err[-1]!r}")


def test_a_command_that_execs_another_program_is_told_the_probes_do_not_apply():
    true = os.path.realpath("/bin/true")
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run(write_script(d, "s.lua", PER_IMAGE), "--", gobin(LIFECYCLE),
                               "-n", "2", "-exec", "1", "-then", "/bin/true")
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq(lines, ["gen 0 done", "gen 1 done", "per image 2/2 2/2 0/0 0/0"], "output")
    pid = re.search(r"process (\d+) executed", err)
    expect_eq(err.splitlines(), [
        f"luprobe: process {pid and pid.group(1)} executed {true}: {true}: not a Go binary (no "
        "Go function table found); it is not traced from now on",
        "luprobe: 4 events, 0 lost"], "stderr")
