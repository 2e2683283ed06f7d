# SPDX-License-Identifier: BSD-2-Clause
"""The command line: a Lua script traces the computeE demo end to end,
one-liners, attaching to a PID, the exit status, --json and -o, --help and
--version, and the bad inputs of the command line, each with its exact
message."""
import json
import os
import re
import signal
import subprocess
import tempfile

from lib import (SCRIPTS, Server, each_toolchain, expect, expect_eq, free_port, gobin, http_get,
                 luprobe, run, write_script)

COMPUTEE = "computee"
ITERS = [10, 150, 7]


def _calls(lines):
    return [int(m.group(1)) for m in (re.search(r"main\.computeE\(iterations=(\d+)\)", ln)
                                      for ln in lines) if m]


@each_toolchain
def test_demo_script_with_command_reports_exact_iterations():
    port = free_port()
    lp = luprobe(os.path.join(SCRIPTS, "computee.lua"), "--",
                 gobin(COMPUTEE), "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ")  # the server prints it once probes are in place
    for n in ITERS:
        body = http_get(port, f"/e?iters={n}")
        expect(body.startswith("e = "), f"unexpected answer {body!r}")
        lp.wait_line(rf"iterations={n}\)")
    http_get(port, "/quit")
    code = lp.wait(20)
    expect_eq(code, 0, "luprobe exit code (the command's)")
    expect_eq(_calls(lp.lines), ITERS, "traced iterations, in order")
    pids = {int(m.group(1)) for m in (re.search(r"pid (\d+)", ln) for ln in lp.lines) if m}
    expect_eq(len(pids), 1, "one traced process")
    expect(all(re.search(r"goroutine [1-9]\d*$", ln) for ln in lp.lines if "computeE" in ln),
           f"every event names its goroutine: {lp.lines}")
    expect(f"{len(ITERS)} calls traced" in lp.lines, f"on_exit ran: {lp.lines}")
    expect(re.search(r"luprobe: 3 events, 0 lost", lp.stderr()), lp.stderr())


def test_attach_to_pid_then_sigint_exits_zero_and_target_survives():
    srv = Server(gobin(COMPUTEE))
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "t.lua", """
local p = probe{ func = "main.computeE", args = { "iterations" } }
p:on_event(function(e) printf("call %d %d\\n", e.args.iterations, e.pid) io.stdout:flush() end)
attach()
print("ready") io.stdout:flush()
on_exit(function() print("bye") end)
""")
        lp = luprobe(script, "-p", str(srv.pid))
        lp.wait_line("^ready$")
        for n in (3, 33, 333):
            srv.get(f"/e?iters={n}")
            lp.wait_line(rf"^call {n} {srv.pid}$")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(10), 0, "exit code after SIGINT")
        expect_eq(lp.lines[-1], "bye", "on_exit handler ran last")
        expect_eq(lp.lines.count("call 33 %d" % srv.pid), 1, "one event per call")
    # the traced program is unharmed and no longer traced
    expect(srv.get("/e?iters=4").startswith("e = 2.6667"), "server still answers correctly")
    expect(srv.proc.p.poll() is None, "server still running")


def test_one_liner_prints_events_by_default():
    port = free_port()
    lp = luprobe("-e", 'probe{ func = "main.computeE" }', "--",
                 gobin(COMPUTEE), "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ")
    http_get(port, "/e?iters=42")
    lp.wait_line(r"^main\.computeE\(iterations=42\)  goroutine \d+$")
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")


def test_command_exit_status_is_propagated():
    code, lines, err = run("-q", "-e", 'probe{ func = "main.computeE" }', "--",
                           gobin(COMPUTEE), "-no-such-flag")
    expect_eq(code, 2, "exit code of the command (flag parse error)")
    expect("flag provided but not defined: -no-such-flag" in err, err)


@each_toolchain
def test_stripped_pie_with_declared_arguments():
    port = free_port()
    lp = luprobe("-e", 'probe{ func = "main.computeE", args = { {"iterations", "int64"} } }',
                 "--", gobin(COMPUTEE, "stripped-pie"), "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ")
    for n in (12, 1234567):
        http_get(port, f"/e?iters={n}")
        lp.wait_line(rf"^main\.computeE\(iterations={n}\)")
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")


def test_json_output_has_the_argument():
    port = free_port()
    lp = luprobe("--json", "-e", 'probe{ func = "main.computeE" }', "--",
                 gobin(COMPUTEE), "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ")
    http_get(port, "/e?iters=77")
    lp.wait_line(r'^\{"probe":1,"kind":"entry","func":"main.computeE","pid":\d+,"tid":\d+,'
                 r'"goid":\d+,"ts":\d+,"time":\d+,"args":\{"iterations":77\}\}$')
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")


def test_help_and_version():
    code, lines, _ = run("--help")
    expect_eq(code, 0, "exit code of --help")
    expect(lines[0].startswith("Usage: luprobe"), lines[:1])
    expect(any("-- COMMAND" in ln for ln in lines), "help mentions -- COMMAND")
    expect(any(ln.startswith("Examples:") for ln in lines), "help has examples")
    code, lines, _ = run("--version")
    expect_eq(code, 0, "exit code of --version")
    expect(re.match(r"^luprobe \d+\.\d+\.\d+$", lines[0]), lines)


# ---- bad input: one line, exact message, non-zero exit ----

def _one_error(args, want, env=None):
    code, lines, err = run(*args, env=env)
    expect(code != 0, f"exit code is non-zero for {args}")
    err_lines = [ln for ln in err.splitlines() if ln.strip()]
    expect_eq(err_lines, [want], f"stderr of luprobe {' '.join(args)}")
    return lines


def test_missing_script_file():
    _one_error(["/nonexistent/trace.lua", "-p", "1"],
               "luprobe: /nonexistent/trace.lua: no such file")


def test_lua_syntax_error_names_file_and_line():
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "bad.lua", "-- comment\nprobe{ func = }\n")
        _one_error([script, "-p", "1"], f"luprobe: {script}:2: unexpected symbol near '}}'")


def test_unknown_function_names_binary_and_suggests():
    binary = gobin(COMPUTEE)
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "typo.lua", 'local p = probe{ func = "main.computeF" }\n')
        _one_error([script, "--", binary],
                   f"luprobe: {script}:1: main.computeF: no such function in {binary} "
                   "(did you mean main.computeE?)")


def test_missing_command():
    _one_error(["-e", 'probe{ func = "main.computeE" }', "--", "/nonexistent/app"],
               "luprobe: /nonexistent/app: cannot execute: No such file or directory")


def test_missing_target_binary():
    _one_error(["-e", 'probe{ func = "main.computeE", target = "/nonexistent/app" }'],
               "luprobe: (command line):1: /nonexistent/app: no such file")


def test_target_not_an_elf_file():
    with tempfile.TemporaryDirectory() as d:
        path = write_script(d, "app", "#!/bin/sh\necho hi\n")
        _one_error(["-e", f'probe{{ func = "main.computeE", target = "{path}" }}'],
                   f"luprobe: (command line):1: {path}: not an ELF file")


def test_target_not_a_go_binary():
    _one_error(["-e", 'probe{ func = "main.main", target = "/bin/ls" }'],
               "luprobe: (command line):1: /bin/ls: not a Go binary (no Go function table "
               "found)")


def test_pid_that_does_not_exist():
    _one_error(["-e", 'probe{ func = "main.computeE" }', "-p", "999999999"],
               "luprobe: process 999999999: no such process")


def test_unprivileged_user_is_told_what_is_needed():
    setpriv = "/usr/bin/setpriv"
    if not os.path.exists(setpriv):
        from lib import Skip
        raise Skip("setpriv (util-linux) not installed")
    from lib import LUPROBE
    p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", LUPROBE, "-e", 'probe{ func = "main.computeE" }',
                        "-p", "1"], capture_output=True, text=True, timeout=20)
    expect(p.returncode != 0, "non-zero exit without privileges")
    expect_eq(p.stderr.strip().splitlines(),
              ["luprobe: tracing needs root or the CAP_BPF and CAP_PERFMON capabilities "
               "(running as uid 65534 without them); run it with sudo, or see luprobe --check"],
              "stderr")


def test_output_file_keeps_events_apart_from_the_command():
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events.json")
        lp = luprobe("--json", "-o", out, "-e", 'probe{ func = "main.computeE" }', "--",
                     gobin(COMPUTEE), "-addr", f"127.0.0.1:{port}")
        lp.wait_line(r"^listening on ")  # the command's output stays on luprobe's stdout
        http_get(port, "/e?iters=64")
        http_get(port, "/quit")
        expect_eq(lp.wait(20), 0, "exit code")
        with open(out) as f:
            events = [json.loads(ln) for ln in f]
    expect_eq([e["args"] for e in events], [{"iterations": 64}], "events in the file")
    expect(not any(ln.startswith("{") for ln in lp.lines), "no event on stdout")


def test_json_lines_stay_whole_on_a_pipe_the_command_shares():
    """luprobe's events and the command's own lines share one pipe: each side's
    lines arrive whole (a write of a batch used to be cut by the command's
    writes, in the middle of a JSON line, several times a run of this size)."""
    binary = gobin("types")
    script = ('for _, f in ipairs{ "main.f*", "main.Counter.Get", "main.(*Counter).Add", '
              '"main.leaf*" } do probe{ func = f, args = true, ret = true } end')
    one = [ln for ln in run("-q", "--json", "-e", script, "--", binary)[1] if ln.startswith("{")]
    untraced = subprocess.run([binary, "-n", "30"], capture_output=True, text=True,
                              timeout=60).stdout.splitlines()
    for attempt in range(3):
        code, lines, err = run("-q", "--json", "-e", script, "--", binary, "-n", "30",
                               timeout=120)
        expect_eq(code, 0, f"exit code ({err[-300:]})")
        events = [ln for ln in lines if ln.startswith("{")]
        broken = []
        for ln in events:
            try:
                json.loads(ln)
            except ValueError:
                broken.append(ln)
        expect_eq(broken[:2], [], f"run {attempt}: JSON lines cut ({len(broken)})")
        expect_eq(len(events), 30 * len(one), f"run {attempt}: events")
        expect_eq([ln for ln in lines if not ln.startswith("{")], untraced,
                  f"run {attempt}: the command's lines")
