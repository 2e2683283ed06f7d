# SPDX-License-Identifier: BSD-2-Clause
"""Every bad input gets one exact message and a clean exit, the signals that
can hit a run, the ring buffer overflowing, and privileges: the minimum
capabilities, --user and text-only Lua loading. (Other bad inputs are in
test_cli, test_binaries, test_arguments and test_script_api.) The runner
fails any test that leaves a probe behind."""
import json
import os
import pwd
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time

from lib import (BPFTOOL, LUPROBE, Proc, Skip, expect, expect_eq, free_port, gobin, http_get,
                 luprobe, run, write_script)

SETPRIV = "/usr/bin/setpriv"
NOBODY = 65534
# exactly the capabilities README.md documents for tracing
MIN_CAPS = ("bpf", "perfmon")


def _one_error(args, want, code=1, prefix=()):
    """Run luprobe args (under prefix, e.g. setpriv); it must exit with code and print
    exactly want."""
    p = Proc([*prefix, LUPROBE, *args])
    got = p.wait(30)
    expect_eq(p.stderr().splitlines(), [want], f"stderr of luprobe {' '.join(args)}")
    expect_eq(got, code, f"exit code of luprobe {' '.join(args)}")
    return p.lines


def _as_nobody(caps):
    """argv prefix running what follows as nobody with exactly the capabilities caps."""
    if not os.path.exists(SETPRIV):
        raise Skip("setpriv (util-linux) not installed")
    argv = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if caps:
        c = ",".join("+" + x for x in caps)
        argv += [f"--inh-caps=-all,{c}", f"--ambient-caps={c}"]
    else:
        argv += ["--inh-caps=-all"]
    return argv


def _idle():
    """A process to give -p when the run never gets to trace it."""
    return Proc(["sleep", "30"]).pid


def _shared_tmpdir(d):
    """A temporary directory nobody can enter (mkdtemp makes it 0700)."""
    os.chmod(d, 0o755)
    return d


# ---- unreadable, a directory, truncated, corrupted ----

def test_unreadable_binary_and_script_and_a_directory_as_script():
    nobody = _as_nobody(MIN_CAPS)
    with tempfile.TemporaryDirectory() as d:
        _shared_tmpdir(d)
        app = os.path.join(d, "app")
        shutil.copy(gobin("computee"), app)
        os.chmod(app, 0o111)  # it may run, but not be read
        script = write_script(d, "t.lua", 'probe{ func = "main.computeE" }\n')
        os.chmod(script, 0)
        _one_error(["-e", f'probe{{ func = "main.computeE", target = "{app}" }}'],
                   f"luprobe: (command line):1: {app}: permission denied", prefix=nobody)
        _one_error(["-e", 'probe{ func = "main.computeE" }', "--", app],
                   f"luprobe: (command line):1: {app}: permission denied", prefix=nobody)
        os.chmod(app, 0)
        _one_error(["-e", 'probe{ func = "main.computeE" }', "--", app],
                   f"luprobe: {app}: cannot execute: Permission denied", prefix=nobody)
        _one_error([script, "-p", str(_idle())], f"luprobe: {script}: permission denied",
                   prefix=nobody)
        _one_error([d, "-p", str(_idle())], f"luprobe: {d}: is a directory")


def _pclntab(data):
    """File offset of .gopclntab in an ELF64 image."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = secs[shstrndx][4]
    for s in secs:
        o = names + s[0]
        if data[o:data.index(b"\0", o)] == b".gopclntab":
            return s[4]
    raise AssertionError("no .gopclntab")


def test_truncated_and_corrupted_go_binaries_as_the_command():
    src = gobin("computee", "stripped")
    with open(src, "rb") as f:
        data = f.read()
    tab = _pclntab(data)
    nfunc, = struct.unpack_from("<Q", data, tab + 8)
    ftab = tab + struct.unpack_from("<Q", data, tab + 64)[0]  # Go 1.18+ header: pclnOffset
    first_rec = ftab + struct.unpack_from("<I", data, ftab + 4)[0]
    expect(nfunc > 1000, f"nfunc {nfunc}: the header was not found where expected")

    def patched(name, at, fmt, value):
        c = bytearray(data)
        struct.pack_into(fmt, c, at, value)
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(c)
        os.chmod(path, 0o755)
        return path

    with tempfile.TemporaryDirectory() as d:
        half = os.path.join(d, "half")
        with open(half, "wb") as f:
            f.write(data[:len(data) // 2])
        os.chmod(half, 0o755)
        magic = patched("magic", tab, "<I", 0xdeadbeef)
        record = patched("record", ftab + 4 + 8 * 5, "<I", 0x7fffffff)
        name = patched("name", first_rec + 4, "<i", 0x7ffffff0)
        cases = [
            (half, "truncated or corrupted ELF file (section names past end of file)"),
            (magic, "truncated or corrupted Go function table (bad header in .gopclntab)"),
            (record, "truncated or corrupted Go function table (function record past end "
                     "of table in .gopclntab)"),
            (name, "truncated or corrupted Go function table (function name outside the "
                   "name table)"),
        ]
        for path, what in cases:
            _one_error(["-e", 'probe{ func = "main.computeE" }', "--", path, "-addr",
                        f"127.0.0.1:{free_port()}"],
                       f"luprobe: (command line):1: {path}: {what}")
            _one_error(["-e", f'probe{{ func = "main.computeE", target = "{path}" }}'],
                       f"luprobe: (command line):1: {path}: {what}")


def test_too_many_arguments_declared_names_the_function_and_sizes():
    binary = gobin("types", "stripped")
    # fString(s string): 16 bytes of arguments; fInts(int8, int16, int32, int64, int): 32
    _one_error(["-q", "-e", 'probe{ func = "main.fString", args = { {"s", "string"}, '
                '{"n", "int"} } }', "--", binary],
               "luprobe: (command line):1: main.fString: the arguments declared take 24 "
               "bytes, but its own take 16 (the pclntab says); declare its parameters in "
               "order, and no more")
    ints = '{"a", "int8"}, {"b", "int16"}, {"c", "int32"}, {"d", "int64"}, {"e", "int"}'
    _one_error(["-q", "-e", f'probe{{ func = "main.fInts", args = {{ {ints}, {{"f", "string"}} '
                '} }', "--", binary],
               "luprobe: (command line):1: main.fInts: the arguments declared take 40 "
               "bytes, but its own take 24 (the pclntab says); declare its parameters in "
               "order, and no more")
    # all of them, or the first few, is fine
    for decl, shown in ((ints, "a=-100, b=-30000, c=-2000000000, d=-123456789012, "
                               "e=-123456789"),
                        ('{"a", "int8"}, {"b", "int16"}', "a=-100, b=-30000")):
        code, lines, err = run("-q", "-e", f'probe{{ func = "main.fInts", args = {{ {decl} }} }}',
                               "--", binary)
        expect_eq(code, 0, f"exit code with {decl} ({err})")
        expect(f"main.fInts({shown})  goroutine 1" in lines, lines)


# ---- targets that go away or never start ----

def test_pid_that_exits_mid_trace():
    srv_port = free_port()
    srv = Proc([gobin("computee"), "-addr", f"127.0.0.1:{srv_port}"])
    srv.wait_line(r"^listening on ")
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "t.lua", """
probe{ func = "main.computeE", args = { "iterations" } }:on_event(function(e)
	print("call", e.args.iterations) io.stdout:flush()
end)
on_exit(function() print("on_exit ran") end)
attach()
print("ready") io.stdout:flush()
""")
        lp = luprobe(script, "-p", str(srv.pid))
        lp.wait_line("^ready$")
        http_get(srv_port, "/e?iters=9")
        lp.wait_line(r"^call\t9$")
        srv.signal(signal.SIGKILL)
        expect_eq(lp.wait(10), 1, "exit code once the traced process is gone")
    expect_eq(lp.lines, ["ready", "call\t9", "on_exit ran"], "stdout")
    expect_eq(lp.stderr().splitlines(),
              [f"luprobe: process {srv.pid} ({gobin('computee')}) exited",
               "luprobe: 1 event, 0 lost"], "stderr")


def test_commands_that_fail_to_start():
    binary = gobin("computee")
    probe = f'probe{{ func = "main.computeE", target = "{binary}" }}'
    with tempfile.TemporaryDirectory() as d:
        plain = write_script(d, "plain", "echo hi\n")  # not executable
        nointerp = write_script(d, "nointerp", "#!/nonexistent/sh\necho hi\n")
        badinterp = write_script(d, "badinterp", f"#!{plain}\necho hi\n")
        noformat = write_script(d, "noformat", "echo no #! line\n")
        for p in (nointerp, badinterp, noformat):
            os.chmod(p, 0o755)
        noloader = os.path.join(d, "noloader")  # an ELF whose dynamic loader is missing
        with open("/bin/true", "rb") as f:
            elf = f.read()
        ld = b"/lib64/ld-linux-x86-64.so.2"
        if ld not in elf:
            raise Skip("/bin/true does not use " + ld.decode())
        with open(noloader, "wb") as f:
            f.write(elf.replace(ld, b"/lib64/ld-missing-x86.so.2\0", 1))
        os.chmod(noloader, 0o755)
        marker = os.path.join(d, "ran")
        cases = [
            ([plain], f"luprobe: {plain}: cannot execute: Permission denied"),
            ([nointerp], f"luprobe: {nointerp}: cannot execute: its interpreter "
                         "/nonexistent/sh (the #! line) does not exist"),
            ([badinterp], f"luprobe: {badinterp}: cannot execute: its interpreter {plain} "
                          "(the #! line): Permission denied"),
            ([noformat], f"luprobe: {noformat}: cannot execute: not an executable format (no "
                         "ELF header, no #! line)"),
            ([noloader], f"luprobe: {noloader}: cannot execute: its dynamic loader "
                         "/lib64/ld-missing-x86.so.2 does not exist"),
            ([d], f"luprobe: {d}: cannot execute: Is a directory"),
            (["no-such-command-here", marker], "luprobe: no-such-command-here: command not "
                                               "found"),
        ]
        for cmd, want in cases:
            _one_error(["-q", "-e", probe, "--", *cmd], want)
        expect(not os.path.exists(marker), "nothing ran")


# ---- the main chunk ----

def test_runtime_errors_in_the_main_chunk_are_one_line_with_file_and_line():
    with tempfile.TemporaryDirectory() as d:
        cases = [
            ('local x = 1\nerror("x")\n', "2: x"),
            ("local x = 1\nerror({})\n", "2: (error object is a table value)"),
            ("local function f()\n\terror({ code = 7 })\nend\nf()\n",
             "2: (error object is a table value)"),
            ("local t\nlocal x = 1\nt.f()\n", "3: attempt to index a nil value (local 't')"),
            ("local x = 1\nnot_defined(x)\n",
             "2: attempt to call a nil value (global 'not_defined')"),
            ('probe{ func = "main.computeE" }:on_event(function() end)\nlocal n = nil + 1\n',
             "2: attempt to perform arithmetic on a nil value"),
        ]
        srv = Proc([gobin("computee"), "-addr", f"127.0.0.1:{free_port()}"])
        srv.wait_line(r"^listening on ")
        for i, (text, want) in enumerate(cases):
            script = write_script(d, f"e{i}.lua", text)
            _one_error([script, "-p", str(srv.pid)], f"luprobe: {script}:{want}")
        expect(srv.p.poll() is None, "the target is unharmed")
        # the same error object thrown by a callback: where, then the traceback
        script = write_script(d, "cb.lua", 'probe{ func = "main.lookupUser" }:on_event(function()\n'
                              '\terror({})\nend)\n')
        code, _, err = run("-q", script, "--", gobin("webapp"), "-workload", "1")
        expect_eq(code, 1, "exit code")
        expect_eq(err.splitlines()[:2], [f"luprobe: {script}:2: (error object is a table value)",
                                         "stack traceback:"], "stderr")


def test_exit_in_the_main_chunk_never_starts_the_command():
    with tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "ran")
        code, lines, err = run("-e", 'print("bye") exit(4)', "--", "/usr/bin/touch", marker)
        expect_eq((code, lines, err), (4, ["bye"], "luprobe: 0 events, 0 lost\n"), "the run")
        expect(not os.path.exists(marker), "the command never ran")


# ---- the ring buffer overflowing ----

def test_ring_buffer_overflow_counts_the_lost_events_and_exits_cleanly():
    n = 3000
    script = """
local handled = 0
probe{ func = "main.fString" }:on_event(function(e)
	local t = os.clock()
	while os.clock() - t < 0.002 do end -- a slow callback
	handled = handled + 1
end)
on_exit(function() print("handled " .. handled) end)
"""
    with tempfile.TemporaryDirectory() as d:
        path = write_script(d, "slow.lua", script)
        # 4096 is the smallest --ringbuf accepted
        code, _, err = run("--ringbuf", "4095", path, "--", gobin("types"), "-n", "1")
        expect_eq((code, err), (1, "luprobe: --ringbuf needs a size from 4096 to 1073741824 "
                                   "bytes\n"), "--ringbuf 4095")
        code, lines, err = run("--ringbuf", "4096", path, "--", gobin("types"), "-n", str(n))
    expect_eq(code, 0, f"exit code ({err})")
    m = re.fullmatch(r"luprobe: (\d+) events, (\d+) lost\n"
                     r"luprobe: (\d+) events were lost because the ring buffer was full; raise "
                     r"--ringbuf or do less work per event\n", err)
    expect(m, f"stderr: {err!r}")
    events, lost, lost2 = (int(g) for g in m.groups())
    expect_eq(lost, lost2, "lost count, twice")
    expect(events > 0 and lost > n // 2, f"{events} events, {lost} lost")
    expect_eq(events + lost, n, "every call is delivered or counted lost")
    expect(f"handled {events}" in lines, f"on_exit saw every delivered event: {lines[-3:]}")
    expect_eq(sum(ln.startswith("fString(") for ln in lines), n, "the program ran whole")


# ---- signals ----

def test_sigint_before_tracing_started_exits_130_and_never_runs_the_command():
    with tempfile.TemporaryDirectory() as d:
        # a copy: the glob's probes see only this inode, not another test's processes
        app = os.path.join(d, "app")
        shutil.copy(gobin("computee"), app)
        marker = os.path.join(d, "ran")
        busy = "local t = os.clock() while os.clock() - t < 5 do end\n"
        cases = {
            # Ctrl-C while the glob's ~3000 functions are being resolved
            "resolving": 'print("go") io.stdout:flush()\n'
                         f'probe{{ func = "[a-q]*", target = "{app}", args = false, '
                         'limit = 100000 }\n' + busy,
            # Ctrl-C with every probe loaded and attached, before the command started
            "attached": f'probe{{ func = "main.*", target = "{app}", args = false }}\nattach()\n'
                        'print("go") io.stdout:flush()\n' + busy,
        }
        for name, text in cases.items():
            script = write_script(d, f"{name}.lua", text)
            lp = luprobe(script, "--", "/usr/bin/touch", marker)
            lp.wait_line("^go$")
            t0 = time.time()
            lp.signal(signal.SIGINT)
            code = lp.wait(10)
            expect(time.time() - t0 < 3, f"{name}: stopped at once")
            expect_eq(code, 130, f"{name}: exit code")
            expect_eq(lp.stderr(), "luprobe: interrupted before tracing started\n",
                      f"{name}: stderr")
            expect(not os.path.exists(marker), f"{name}: the command never ran")


def _bpf_ids(pid):
    """The BPF programs and links process pid holds, from its fdinfo."""
    ids = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                text = f.read()
        except OSError:
            continue
        for kind in ("prog", "link"):
            m = re.search(rf"^{kind}_id:\s*(\d+)", text, re.M)
            if m:
                ids.add((kind, int(m.group(1))))
    return ids


def _loaded_bpf_ids():
    ids = set()
    for kind in ("prog", "link"):
        out = subprocess.run([BPFTOOL, "-j", kind, "show"], capture_output=True, text=True,
                             timeout=20).stdout
        ids |= {(kind, o["id"]) for o in json.loads(out or "[]")}
    return ids


def test_sigkill_of_luprobe_takes_its_probes_and_leaves_the_target_running():
    port = free_port()
    lp = luprobe("-e", 'print("pid", luprobe.pids[1]) io.stdout:flush()\n'
                 'probe{ func = "main.computeE", args = { "iterations" } }', "--",
                 gobin("computee"), "-addr", f"127.0.0.1:{port}")
    target = int(lp.wait_line(r"^pid\t(\d+)$").group(1))
    try:
        lp.wait_line(r"^listening on ")
        http_get(port, "/e?iters=4")
        lp.wait_line(r"^main\.computeE\(iterations=4\)")
        mine = _bpf_ids(lp.pid)
        expect(("prog", min(i for k, i in mine if k == "prog")) in _loaded_bpf_ids(),
               f"luprobe's programs are loaded: {mine}")
        expect(any(k == "link" for k, _ in mine), f"luprobe holds links: {mine}")
        # calls in flight while luprobe dies
        answers, stop = [], threading.Event()

        def load():
            while not stop.is_set() and len(answers) < 10000:
                answers.append(http_get(port, "/e?iters=4"))

        def answered(n, what):
            # a fixed 0.2 s could pass without one answer on a loaded machine
            deadline = time.time() + 10
            while len(answers) < n and th.is_alive() and time.time() < deadline:
                time.sleep(0.01)
            expect(len(answers) >= n, f"{n} answers {what}: {len(answers)}")

        th = threading.Thread(target=load)
        th.start()
        answered(3, "before the kill")
        os.kill(lp.pid, signal.SIGKILL)
        lp.p.wait(10)
        answered(len(answers) + 3, "after the kill")
        stop.set()
        th.join(10)
        deadline = time.time() + 5
        while mine & _loaded_bpf_ids() and time.time() < deadline:
            time.sleep(0.05)
        expect_eq(mine & _loaded_bpf_ids(), set(), "luprobe's programs and links after SIGKILL")
        for _ in range(20):
            answers.append(http_get(port, "/e?iters=4"))
        expect(len(answers) > 20, f"requests answered: {len(answers)}")
        expect_eq(set(answers), {"e = 2.6667\n"}, "every answer, before, during and after")
        os.kill(target, 0)  # still running
        lp._fill(0.5)
        expect("main.computeE(iterations=4)" in "\n".join(lp.lines), "it was traced")
    finally:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---- Lua source text only ----

def test_bytecode_is_refused_as_script_and_by_load_loadfile_dofile_require():
    luac = shutil.which("luac5.4")
    if not luac:
        raise Skip("luac5.4 (package lua5.4) not installed")
    with tempfile.TemporaryDirectory() as d:
        src = write_script(d, "mod.lua", 'print("module ran") return { name = "mod" }\n')
        os.makedirs(os.path.join(d, "bc"))
        compiled = os.path.join(d, "script.luac")
        module = os.path.join(d, "bc", "bcmod.lua")  # bytecode under a .lua name
        subprocess.run([luac, "-o", compiled, src], check=True, timeout=20)
        subprocess.run([luac, "-o", module, src], check=True, timeout=20)
        refused = "precompiled Lua bytecode; luprobe loads only Lua source text"
        idle = str(_idle())
        _one_error([compiled, "-p", idle], f"luprobe: {compiled}: {refused}")
        script = write_script(d, "t.lua", f"""
print(load(string.dump(function() return 1 end)))
print(load(string.dump(function() return 1 end), "dumped", "b"))
print(loadfile("{compiled}", "bt"))
print(pcall(dofile, "{compiled}"))
print(pcall(require, "bcmod"))
print(load("return 6 * 7")(), loadfile("{src}")().name, load("return x", "c", "t", {{x = 5}})())
exit(3)
""")
        code, lines, err = run("-q", "-I", os.path.join(d, "bc"), script, "-p", idle)
        expect_eq((code, err), (3, ""), "exit code and stderr")
        expect_eq(lines, [
            f"nil\t{refused}",
            f"nil\t{refused}",
            f"nil\t{compiled}: {refused}",
            f"false\t{compiled}: {refused}",
            f"false\t{script}:6: module 'bcmod': {module}: {refused}",
            "module ran",
            "42\tmod\t5",
        ], "what each loader did")
        main = write_script(d, "main.lua", 'require "bcmod"\n')
        _one_error(["-I", os.path.join(d, "bc"), main, "-p", idle],
                   f"luprobe: {main}:1: module 'bcmod': {module}: {refused}")


# ---- --user ----

USER_SCRIPT = """
local function uid(pid) -- the uids and effective capabilities of a process
	local u, c
	for l in io.lines("/proc/" .. pid .. "/status") do
		u = u or l:match("^Uid:%s+(%d+%s+%d+%s+%d+)")
		c = c or l:match("^CapEff:%s+(%x+)")
	end
	return u:gsub("%s+", "/") .. " caps " .. c
end
local function threads() -- the effective capabilities of every thread of luprobe
	local pid, caps = io.open("/proc/self/stat"):read("n"), {}
	for tid in io.popen("ls /proc/" .. pid .. "/task"):lines() do
		for l in io.lines("/proc/" .. pid .. "/task/" .. tid .. "/status") do
			caps[#caps + 1] = l:match("^CapEff:%s+(%x+)")
		end
	end
	return table.concat(caps, ",")
end
print("main chunk uid " .. uid("self"))
local p = probe{ func = "main.lookupUser", args = { "id" } }
local calls = p:count()
local q = probe{ func = "main.countOrders", enabled = false }
q:on_event(function() print("countOrders") end)
p:on_event(function(e)
	if e.args.id == 1 then
		q:enable() -- before print(), which flushes: the test goes on when it sees a line
	end
	print("callback uid " .. uid("self") .. ", command uid " .. uid(e.pid) .. ", id " .. e.args.id)
	print("shadow " .. (io.open("/etc/shadow") and "readable" or "unreadable"))
	print("threads " .. threads())
	if e.args.id == 2 then
		print(select(2, pcall(attach, 1)))
		probe{ func = "main.createOrder" }
	end
end)
on_exit(function() print("on_exit uid " .. uid("self") .. ", calls " .. calls:get()) end)
"""


def test_user_runs_callbacks_and_command_unprivileged_after_attaching():
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "user.lua", USER_SCRIPT)
        lp = luprobe("--user", "nobody", script, "--", gobin("webapp"), "-addr",
                     f"127.0.0.1:{port}")
        lp.wait_line(r"^listening on ")
        expect_eq(http_get(port, "/users/1"), "alice\n", "answer")
        lp.wait_line(r"^shadow ")
        expect_eq(http_get(port, "/orders/count"), "0\n", "answer")
        lp.wait_line("^countOrders$")  # enabled after the switch
        expect_eq(http_get(port, "/users/2"), "bob\n", "answer")
        code = lp.wait(10)
    expect_eq(code, 1, "exit code: probe() after the switch is an error")
    main_uid = lp.lines[0]
    expect(re.fullmatch(r"main chunk uid 0/0/0 caps [0-9a-f]*[1-9a-f][0-9a-f]*", main_uid),
           "the main chunk runs as root: " + main_uid)
    nobody = f"{NOBODY}/{NOBODY}/{NOBODY} caps 0000000000000000"
    expect_eq([ln for ln in lp.lines[1:] if not ln.startswith("listening on ")], [
        f"callback uid {nobody}, command uid {nobody}, id 1",
        "shadow unreadable",
        "threads 0000000000000000",  # the only thread left: no capability
        "countOrders",
        f"callback uid {nobody}, command uid {nobody}, id 2",
        "shadow unreadable",
        "threads 0000000000000000",
        "attach(1): no process can be added after luprobe switched to user nobody (--user); "
        "give it with -p",
        f"on_exit uid {nobody}, calls 2",
        "main.lookupUser count: 2",  # the kernel aggregation, printed at exit
    ], "stdout")
    line = USER_SCRIPT.split("\n").index('\t\tprobe{ func = "main.createOrder" }') + 1
    err = lp.stderr().splitlines()
    expect_eq(err[0], f"luprobe: {script}:{line}: probe: no probe can be added after luprobe "
              "switched to user nobody (--user); create every probe in the main chunk", "stderr")
    expect_eq(err[-1], "luprobe: 3 events, 0 lost, 1 error", "summary")


def test_user_from_a_non_root_luprobe_drops_every_capability():
    try:
        daemon = pwd.getpwnam("daemon").pw_uid
    except KeyError:
        raise Skip("no user daemon")
    caps = MIN_CAPS + ("setuid", "setgid")
    with tempfile.TemporaryDirectory() as d:
        _shared_tmpdir(d)
        script = write_script(d, "user.lua", USER_SCRIPT)
        p = Proc(_as_nobody(caps) + [LUPROBE, "-q", "--user", "daemon", script, "--",
                                    gobin("webapp"), "-workload", "1"])
        code = p.wait(30)
    expect_eq(code, 1, f"exit code ({p.stderr()})")  # probe() after the switch
    expect(p.lines[0].startswith(f"main chunk uid {NOBODY}/{NOBODY}/{NOBODY} caps "), p.lines)
    expect(not p.lines[0].endswith(" caps 0000000000000000"), "the main chunk has capabilities")
    daemon = f"{daemon}/{daemon}/{daemon} caps 0000000000000000"
    calls = [ln for ln in p.lines if ln.startswith("callback ")]
    expect_eq(calls, [f"callback uid {daemon}, command uid {daemon}, id {i}" for i in (1, 2)],
              "who the callbacks and the command run as")
    threads = [ln.split(" ", 1)[1].split(",") for ln in p.lines if ln.startswith("threads ")]
    expect(threads and all(c == "0000000000000000" for t in threads for c in t),
           f"no thread of luprobe keeps a capability: {threads}")


def test_user_that_does_not_exist_or_is_root_or_cannot_be_switched_to():
    args = ["-e", 'probe{ func = "main.computeE" }', "--", gobin("computee")]
    _one_error(["--user", "no-such-user-here", *args],
               "luprobe: --user no-such-user-here: no such user")
    _one_error(["--user", "root", *args], "luprobe: --user root: that is root; give an "
               "unprivileged user for the script to run as")
    _one_error(["--user", "daemon", *args], "luprobe: --user daemon needs root or the "
               f"CAP_SETUID and CAP_SETGID capabilities (running as uid {NOBODY} without them); "
               "see luprobe --check",
               prefix=_as_nobody(MIN_CAPS))


# ---- the minimum capabilities ----

def test_exactly_cap_bpf_and_cap_perfmon_are_enough_and_each_is_needed():
    binary = gobin("webapp")
    args = ["-e", 'probe{ func = "main.lookupUser", args = { "id" } }', "--", binary,
            "-workload", "1"]
    p = Proc(_as_nobody(MIN_CAPS) + [LUPROBE, *args])
    expect_eq(p.wait(30), 0, f"exit code as nobody with {MIN_CAPS} ({p.stderr()})")
    expect_eq([ln for ln in p.lines if ln.startswith("main.lookupUser")],
              [f"main.lookupUser(id={i})  goroutine 1" for i in (1, 2, 13, 99)], "events")
    expect_eq(p.stderr(), "luprobe: 4 events, 0 lost\n", "stderr")
    for caps in (("bpf",), ("perfmon",), ("sys_ptrace", "dac_read_search")):
        _one_error(args, "luprobe: tracing needs root or the CAP_BPF and CAP_PERFMON "
                   f"capabilities (running as uid {NOBODY} without them); run it with sudo, "
                   "or see luprobe --check",
                   prefix=_as_nobody(caps))
    # another user's process: CAP_SYS_PTRACE too
    srv = Proc([gobin("computee"), "-addr", f"127.0.0.1:{free_port()}"])
    srv.wait_line(r"^listening on ")
    _one_error(["-e", 'probe{ func = "main.computeE" }', "-p", str(srv.pid)],
               f"luprobe: process {srv.pid}: cannot read its executable: permission denied "
               "(another user's process: tracing it needs root or CAP_SYS_PTRACE; see luprobe "
               "--check)",
               prefix=_as_nobody(MIN_CAPS))
