# SPDX-License-Identifier: BSD-2-Clause
"""A root tracer runs only trusted code and probes only the file it read.

Code: luprobe.* comes from the installed library whatever is planted on the
module path; a privileged run refuses a script, module or module directory
another user can write (the rule itself, privileged or not: tests/unit/
test_trust.c); pure-Lua modules of the system's Lua directories load, native
ones are refused saying why.

Files: a target binary renamed over by another build after luprobe read it:
the processes of the file read get their events, the new file's run unharmed
and unprobed, and luprobe says the path names another file; a command given
after -- runs the file that was read.
"""
import os
import shutil
import signal
import subprocess
import tempfile

from lib import (LUPROBE, Proc, Skip, expect, expect_eq, gobin, luprobe, run,
                 write_script)

SETPRIV = "/usr/bin/setpriv"
NOBODY = 65534
WHY = "luprobe runs with privileges and loads no code another user could change"


def _refused(args, want, env=None):
    code, out, err = run(*args, env=env)
    expect_eq(err.splitlines(), [want], f"stderr of luprobe {' '.join(args)}")
    expect_eq(code, 1, "exit code")


# ---- code ----

def test_module_planted_next_to_the_script_does_not_replace_the_library():
    with tempfile.TemporaryDirectory() as d:
        for where in ("luprobe", "inc/luprobe", "env/luprobe"):
            os.makedirs(os.path.join(d, where))
            write_script(d, f"{where}/fmt.lua", 'print("PLANTED") return {}\n')
        script = write_script(d, "t.lua",
                              'local fmt = require "luprobe.fmt"\n'
                              'print(fmt.duration(1500))\n'
                              'exit()\n')
        env = dict(os.environ, LUPROBE_PATH=os.path.join(d, "env"))
        code, out, err = run(script, "-I", os.path.join(d, "inc"), env=env)
        expect_eq(code, 0, f"exit code (stderr {err!r})")
        expect_eq(out, ["1.5µs"], "the library's luprobe.fmt, not a planted one")
        # any other name is looked up next to the script first, as before
        write_script(d, "mine.lua", 'return "mine"\n')
        code, out, _ = run("-e", 'print((require "mine")) exit()', "-I", d)
        expect_eq(out, ["mine"], "a module of the script's own")


def test_world_writable_script_module_and_directory_are_refused_when_privileged():
    with tempfile.TemporaryDirectory() as d:
        script = write_script(d, "t.lua", 'require "m"\nexit()\n')
        mod = write_script(d, "m.lua", "return 1\n")
        os.chmod(script, 0o666)
        _refused([script], f"luprobe: {script}: writable by every user (mode 0666): {WHY}; "
                 f"chmod o-w {script}")
        os.chmod(script, 0o644)
        os.chmod(mod, 0o666)
        _refused([script], f"luprobe: {script}:1: module 'm': {mod}: writable by every user "
                 f"(mode 0666): {WHY}; chmod o-w {mod}")
        os.chmod(mod, 0o644)
        code, _, err = run(script)
        expect_eq(code, 0, f"accepted once fixed (stderr {err!r})")
        # a directory on the module path: a module could be planted in it
        inc = os.path.join(d, "inc")
        os.mkdir(inc)
        os.chmod(inc, 0o777)
        _refused(["-I", inc, "-e", 'require "other"'],
                 f"luprobe: (command line):1: module 'other': {inc}, a directory on the module "
                 f"path, is writable by every user (mode 0777): {WHY} (a module could be planted "
                 "in it); keep scripts and modules in directories only root and you can write")
        # a directory above the script: the script could be swapped
        sub = os.path.join(d, "sub")
        os.mkdir(sub)
        inner = write_script(sub, "t.lua", "exit()\n")
        os.chmod(sub, 0o777)
        _refused([inner], f"luprobe: {inner}: its directory {sub} is writable by every user "
                 f"(mode 0777): {WHY}; chmod o-w {sub}")
        # another user's module, and a dofile of it
        os.chmod(sub, 0o755)
        os.chown(mod, NOBODY, -1)
        _refused(["-e", f'dofile("{mod}")'],
                 f"luprobe: {mod}: writable by user nobody (its owner): {WHY}; "
                 f"chown root {mod}")


def test_invoking_users_own_script_is_accepted_with_capabilities():
    if not os.path.exists(SETPRIV):
        raise Skip("setpriv (util-linux) not installed")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        script = write_script(d, "t.lua", 'print("ran") exit()\n')
        os.chown(script, NOBODY, NOBODY)
        caps = "+bpf,+perfmon"
        prefix = [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                  f"--inh-caps=-all,{caps}", f"--ambient-caps={caps}"]
        p = Proc([*prefix, LUPROBE, script])
        expect_eq(p.wait(30), 0, f"exit code (stderr {p.stderr()!r})")
        expect_eq(p.lines, ["ran"], "nobody's own script, run by nobody")
        # root does not run nobody's script
        _refused([script], f"luprobe: {script}: writable by user nobody (its owner): {WHY}; "
                 f"chown root {script}")


def _ensure_package(pkg, path):
    """Install a Debian package if its file is missing (bounded), else Skip with why."""
    if os.path.exists(path):
        return
    if not shutil.which("apt-get") or os.geteuid() != 0:
        raise Skip(f"{pkg} is not installed and cannot be (no apt-get, or not root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        p = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg],
                           capture_output=True, text=True, timeout=180, env=env)
    except subprocess.TimeoutExpired:
        raise Skip(f"apt-get install {pkg} took over 180 s")
    if p.returncode != 0 or not os.path.exists(path):
        raise Skip(f"apt-get install {pkg} failed: {(p.stderr or p.stdout).strip()[-300:]}")


def test_require_inspect_installed_by_debian():
    # bookworm's lua-inspect ships for Lua 5.1 to 5.3: its 5.3 file is on luprobe's path
    _ensure_package("lua-inspect", "/usr/share/lua/5.3/inspect.lua")
    code, out, err = run("-e", 'local inspect = require "inspect"\n'
                         'print(inspect({ func = "main.computeE", n = 3 }, { newline = " " }))\n'
                         "exit()")
    expect_eq(code, 0, f"exit code (stderr {err!r})")
    expect_eq(out, ['{   func = "main.computeE",   n = 3 }'], "inspect's output")


def test_native_module_is_refused_saying_why():
    d = "/usr/local/lib/lua/5.4"
    made = [p for p in ("/usr/local/lib/lua", d) if not os.path.exists(p)]
    so = os.path.join(d, "luprobe_test_native.so")
    os.makedirs(d, exist_ok=True)
    try:
        with open(so, "wb") as f:
            f.write(b"\x7fELF")
        _refused(["-e", 'require "luprobe_test_native"'],
                 f"luprobe: (command line):1: module 'luprobe_test_native': {so} is a native (C) "
                 "module: luprobe loads Lua source only (native code would run unchecked inside "
                 "the tracer, with its privileges); use a pure-Lua module")
    finally:
        os.unlink(so)
        for p in reversed(made):
            os.rmdir(p)


# ---- files ----

def _two_builds():
    """chatty built twice, differently: (the build read, the build renamed over it)."""
    old = gobin("chatty", "default", "base")
    try:
        new = gobin("chatty", "default", "new")
    except Skip:
        raise Skip("a second build of chatty (by a newer Go) is needed")
    with open(old, "rb") as a, open(new, "rb") as b:
        expect(a.read() != b.read(), "two different builds")
    return old, new


def test_target_renamed_over_after_it_was_read():
    _renamed_over(None)


def test_target_renamed_over_after_it_was_read_with_perf_event_uprobes():
    # one perf-event uprobe per site, as on kernels without uprobe_multi links
    _renamed_over(dict(os.environ, LUPROBE_NO_UPROBE_MULTI="1"))


def _renamed_over(env):
    old, new = _two_builds()
    with tempfile.TemporaryDirectory() as d:
        app = os.path.join(d, "app")
        shutil.copy(old, app)
        shutil.copy(new, app + ".new")
        # a process of the file luprobe will read, calling main.tick every millisecond
        running = Proc([app, "-lines", "1000000", "-calls", "1000000", "-pause", "1"])
        running.wait_line(r"^line 000000 ")
        script = write_script(d, "t.lua", f"""
local p = probe{{ func = "main.tick", target = "{app}", args = {{ "i" }} }}
-- a deploy renames a new build over the file between reading and attaching
assert(os.rename("{app}.new", "{app}"))
local seen = {{}}
on_event(p, function(e)
  if not seen[e.pid] then seen[e.pid] = true print("events from " .. e.pid) end
end)
""")
        lp = luprobe(script, env=env)
        try:
            lp.wait_line(rf"^events from {running.pid}$", timeout=20)
            # the new file's process: unprobed and unharmed
            fresh = subprocess.run([app, "-lines", "2000", "-calls", "500"],
                                   capture_output=True, text=True, timeout=30)
            expect_eq(fresh.returncode, 0, f"exit code of the new build ({fresh.stderr!r})")
            expect_eq(fresh.stderr, "calls 500 sum 249500\n", "the new build's result")
            lp.signal(signal.SIGINT)
            expect_eq(lp.wait(20), 0, "luprobe's exit code")
        finally:
            running.signal(signal.SIGKILL)
            running.wait(10)
        expect(all(ln.startswith("events from ") for ln in lp.lines), f"{lp.lines}")
        expect_eq(lp.lines, [f"events from {running.pid}"],
                  "events of the file read only, none of the new one")
        expect(f"luprobe: {app} now names another file than the one luprobe read: the probes "
               "stay on the file read (its processes are traced, the new file's are not); "
               'replaced = "resolve" in a probe resolves it in the new file' in lp.stderr(),
               f"luprobe says so: {lp.stderr()!r}")


def test_replaced_resolve_follows_the_path_to_the_new_file():
    old, new = _two_builds()
    with tempfile.TemporaryDirectory() as d:
        app = os.path.join(d, "app")
        shutil.copy(old, app)
        shutil.copy(new, app + ".new")
        script = write_script(d, "t.lua", f"""
local p = probe{{ func = "main.tick", target = "{app}", args = {{ "i" }}, replaced = "resolve" }}
assert(os.rename("{app}.new", "{app}"))
local n = 0
on_event(p, function(e) n = n + 1 end)
-- from the event loop: tracing has started
local said = false
every(10, function() if not said then said = true print("attached") end end)
on_exit(function() print("events " .. n) end)
""")
        lp = luprobe(script)
        lp.wait_line("^attached$", timeout=20)
        fresh = subprocess.run([app, "-lines", "200", "-calls", "20"], capture_output=True,
                               text=True, timeout=30)
        expect_eq(fresh.stderr, "calls 20 sum 380\n", "the new build's result")
        lp.signal(signal.SIGINT)
        expect_eq(lp.wait(20), 0, f"exit code ({lp.stderr()!r})")
        expect_eq(lp.lines, ["attached", "events 20"], "the new build's calls are traced")
        expect(f"luprobe: {app} now names another file than the one luprobe read: 1 probe "
               'with replaced = "resolve" is resolved in the new file' in lp.stderr(),
               f"luprobe says so: {lp.stderr()!r}")


def test_command_runs_the_file_that_was_read():
    old, new = _two_builds()
    with tempfile.TemporaryDirectory() as d:
        app = os.path.join(d, "app")
        shutil.copy(old, app)
        shutil.copy(new, app + ".new")
        # renamed over after luprobe read the command, before it executes
        script = write_script(d, "t.lua", f"""
local p = probe{{ func = "main.tick", args = {{ "i" }} }}
assert(os.rename("{app}.new", "{app}"))
local n = 0
on_event(p, function(e) n = n + 1 end)
on_exit(function() print("events " .. n) end)
""")
        lp = luprobe(script, "--", app, "-lines", "200", "-calls", "20")
        expect_eq(lp.wait(30), 0, f"exit code ({lp.stderr()!r})")
        expect_eq(lp.lines[-1:], ["events 20"], "every call of the command was traced")
        expect("calls 20 sum 380\n" in lp.stderr(), f"the command ran: {lp.stderr()!r}")


def test_target_renamed_over_while_tracing_is_reported_and_resolve_follows_it():
    old, new = _two_builds()
    with tempfile.TemporaryDirectory() as d:
        app = os.path.join(d, "app")
        shutil.copy(old, app)
        running = Proc([app, "-lines", "1000000", "-calls", "1000000", "-pause", "1"])
        running.wait_line(r"^line 000000 ")
        script = write_script(d, "t.lua", f"""
local p = probe{{ func = "main.tick", target = "{app}", args = {{ "i" }}, replaced = "resolve" }}
local seen = {{}}
on_event(p, function(e)
  if not seen[e.pid] then seen[e.pid] = true print("events from " .. e.pid) end
end)
""")
        lp = luprobe(script)
        try:
            lp.wait_line(rf"^events from {running.pid}$", timeout=20)
            # a deploy while tracing
            shutil.copy(new, app + ".new")
            os.rename(app + ".new", app)
            lp.wait_stderr(f"luprobe: {app} now names another file than the one luprobe read: "
                           '1 probe with replaced = "resolve" is resolved in the new file',
                           timeout=10)
            # the message comes before the new file is resolved and attached: calls for 2 s
            fresh = Proc([app, "-lines", "2000", "-calls", "500", "-pause", "1"])
            expect_eq(fresh.wait(30), 0, f"exit code of the new build ({fresh.stderr()!r})")
            expect_eq(fresh.stderr(), "calls 500 sum 249500\n", "the new build's result")
            lp.wait_line(rf"^events from {fresh.pid}$", timeout=10)
            lp.signal(signal.SIGINT)
            expect_eq(lp.wait(20), 0, "luprobe's exit code")
        finally:
            running.signal(signal.SIGKILL)
            running.wait(10)
