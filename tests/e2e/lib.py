# SPDX-License-Identifier: BSD-2-Clause
"""Helpers for luprobe's end-to-end tests: run luprobe, start Go targets,
wait for lines with a deadline, and clean up every process afterwards."""
import fcntl
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the build under test: .output, or .output-asan for make test SANITIZE=1
OUTPUT = os.path.join(ROOT, os.environ.get("LUPROBE_OUTPUT", ".output"))
LUPROBE = os.path.join(OUTPUT, "luprobe")
SCRIPTS = os.path.join(ROOT, "scripts")
BPFTOOL = "/usr/sbin/bpftool" if os.path.exists("/usr/sbin/bpftool") else "bpftool"

_procs = []
_gobins = None


class Skip(Exception):
    """Raised by a test that cannot run here (says why)."""


def parse_summary(line):
    m = re.search(r"(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", line)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def setup():
    """Fetch the pinned Go binaries of other releases (a no-op when cached)."""
    subprocess.run([os.path.join(ROOT, "tests", "gobins.sh")], timeout=900)


# tests/go/build.sh builds the targets once per toolchain: "base" is Debian's
# Go 1.19, "new" the newest other Go on the machine (absent without one)
TOOLCHAIN_DIRS = {"base": "go", "new": "go-new"}


def toolchains():
    """The toolchains whose targets are built: "base", and "new" when there is one."""
    return [tc for tc, d in TOOLCHAIN_DIRS.items()
            if os.path.exists(os.path.join(ROOT, ".output", d, ".toolchain"))] or ["base"]


def toolchain_go(toolchain=None):
    """(go command, "go1.26.8") of the toolchain that built that set of targets
    (by default the one the running test is for)."""
    d = os.path.join(ROOT, ".output", TOOLCHAIN_DIRS[toolchain or TOOLCHAIN])
    try:
        with open(os.path.join(d, ".go")) as f:
            go = f.read().strip()
        with open(os.path.join(d, ".toolchain")) as f:
            version = f.read().split()[2]
    except (OSError, IndexError):
        raise Skip(f"{d}: no targets built by that toolchain (tests/go/build.sh)")
    return go, version


# The toolchain whose targets gobin() gives by default: tests/run.py runs the
# tests marked @each_toolchain once per toolchain, setting it.
TOOLCHAIN = "base"


def each_toolchain(test):
    """Mark a test that checks values against the Go sources: tests/run.py runs
    it once per toolchain that built the targets, "go" on PATH being that one."""
    test.each_toolchain = True
    return test


def go_minor(toolchain=None):
    """Minor release of the Go that built the targets (19 for go1.19.8), for
    expectations that differ between releases."""
    return int(toolchain_go(toolchain or TOOLCHAIN)[1].split(".")[1])


def gobin(target, variant="default", toolchain=None):
    """Path of a Go test target built by tests/go/build.sh with that toolchain
    (by default the one the running test is for)."""
    toolchain = toolchain or TOOLCHAIN
    p = os.path.join(ROOT, ".output", TOOLCHAIN_DIRS[toolchain], target, variant)
    if not os.path.exists(p):
        raise Skip(f"{p} not built" + (" (no Go newer than the base one?)"
                                       if toolchain != "base" else ""))
    return p


def release_bin(label):
    """Path of a real Go binary of another release (tests/gobins.sh), or Skip."""
    global _gobins
    if _gobins is None:
        out = subprocess.run([os.path.join(ROOT, "tests", "gobins.sh"), "--list"],
                             capture_output=True, text=True).stdout
        _gobins = dict(ln.split(" ", 1) for ln in out.splitlines() if " " in ln)
    if label not in _gobins:
        raise Skip(f"{label} binary not available (npm registry unreachable?)")
    return _gobins[label]


def track(p):
    _procs.append(p)
    return p


def cleanup():
    """Kill every process a test started (whole process groups), then reap them."""
    while _procs:
        p = _procs.pop()
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (p.stdout, p.stderr, p.stdin):
            if f:
                f.close()


# Every process the tests start inherits this tag: a luprobe program held by a
# process without it belongs to another test run on the same machine.
RUN_TAG = f"LUPROBE_TEST_RUN={os.getpid()}"
os.environ["LUPROBE_TEST_RUN"] = str(os.getpid())


def _prog_holders():
    """prog id -> pids holding it (its fd, or a link's), from /proc/PID/fdinfo:
    a bpftool built without the pids feature (Debian 12's) lists none."""
    holders = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fdinfo")
        except OSError:
            continue
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    m = re.search(r"^prog_id:\s+(\d+)$", f.read(), re.M)
            except OSError:
                continue
            if m:
                holders.setdefault(int(m.group(1)), []).append(int(pid))
    return holders


def _ours(prog, holders):
    pids = [p.get("pid") for p in prog.get("pids", [])] or holders.get(prog["id"], [])
    if not pids:
        return True  # held by no process: nobody else can be blamed
    for pid in pids:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if RUN_TAG.encode() in f.read().split(b"\0"):
                    return True
        except OSError:
            pass
    return False


def _loaded_probes():
    try:
        out = subprocess.run([BPFTOOL, "-j", "prog", "show"], capture_output=True, text=True,
                             timeout=20).stdout
        progs = json.loads(out or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return []
    progs = [p for p in progs if p.get("name") == "lp_uprobe"]
    holders = _prog_holders() if any(not p.get("pids") for p in progs) else {}
    return [f"prog {p['id']} {p.get('name')}" for p in progs if _ours(p, holders)]


def leftover_probes(grace=3.0):
    """luprobe BPF programs still loaded (none may survive a test). The kernel
    frees a program after its links, one RCU grace period after the last
    close: allow it that long."""
    deadline = time.time() + grace
    while True:
        left = _loaded_probes()
        if not left or time.time() >= deadline:
            return left
        time.sleep(0.05)


def remove_leftovers():
    subprocess.run(["pkill", "-KILL", "-f", LUPROBE], capture_output=True)
    leftover_probes(grace=5.0)


_PORT_LOCKS = "/tmp/luprobe-test-ports"
_ports_held = {}  # port -> the fd of its lock file, held until the test run ends


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A loopback port no one else will take before the caller's server binds
    it: below the kernel's ephemeral range (which a port bound to 0 and closed
    would be in, free for any client's connection to take meanwhile), never
    handed out twice in a run, and locked against test runs in other trees
    (a lock file held until this run ends)."""
    lo, _ = _ephemeral_range()
    first, last = (20000, lo - 1) if lo > 21000 else (1024, lo - 1)
    os.makedirs(_PORT_LOCKS, exist_ok=True)
    for _ in range(500):
        port = random.randint(first, last)
        if port in _ports_held:
            continue
        fd = os.open(os.path.join(_PORT_LOCKS, str(port)), os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            os.close(fd)
            continue
        _ports_held[port] = fd
        return port
    raise AssertionError(f"no free port in {first}-{last} after 500 tries")


class Proc:
    """A process with line-oriented, deadline-bounded reading of its stdout."""

    def __init__(self, argv, env=None, cwd=None, stdin=None):
        self.argv = argv
        self.p = track(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                        start_new_session=True, env=env, cwd=cwd or ROOT))
        self.pid = self.p.pid
        self.lines = []   # stdout lines read so far
        self._buf = b""
        self._err = b""

    def _fill(self, timeout):
        fds = [f for f in (self.p.stdout, self.p.stderr) if f and not f.closed]
        if not fds:
            return False
        r, _, _ = select.select(fds, [], [], max(0.0, timeout))
        got = False
        for f in r:
            chunk = os.read(f.fileno(), 65536)
            if not chunk:
                f.close()
                continue
            got = True
            if f is self.p.stdout:
                self._buf += chunk
                while b"\n" in self._buf:
                    line, self._buf = self._buf.split(b"\n", 1)
                    self.lines.append(line.decode("utf-8", "replace"))
            else:
                self._err += chunk
        return got

    def wait_line(self, pattern, timeout=10, start=0):
        """Wait until a stdout line (from index start) matches; return the match."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        seen = start
        while True:
            for i in range(seen, len(self.lines)):
                m = rx.search(self.lines[i])
                if m:
                    return m
            seen = max(seen, len(self.lines))
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(
                    f"no line matching {pattern!r} within {timeout}s from {self.argv[0]}; "
                    f"stdout: {self.lines[-10:]!r}; stderr: {self.stderr()[-800:]!r}")
            if not self._fill(min(left, 0.2)) and self.p.poll() is not None:
                self._fill(0)
                if not any(rx.search(ln) for ln in self.lines[seen:]):
                    raise AssertionError(
                        f"{self.argv[0]} exited ({self.p.returncode}) before a line matching "
                        f"{pattern!r}; stdout: {self.lines[-10:]!r}; "
                        f"stderr: {self.stderr()[-800:]!r}")

    def wait_stderr(self, text, timeout=10):
        """Wait until stderr contains text (for programs that say they are ready there)."""
        deadline = time.time() + timeout
        while text not in self.stderr():
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"no {text!r} on stderr within {timeout}s from "
                                     f"{self.argv[0]}; stderr: {self.stderr()[-800:]!r}")
            if not self._fill(min(left, 0.2)) and self.p.poll() is not None:
                self._fill(0)
                if text not in self.stderr():
                    raise AssertionError(f"{self.argv[0]} exited ({self.p.returncode}) before "
                                         f"{text!r} on stderr; stderr: {self.stderr()[-800:]!r}")

    def wait(self, timeout=20):
        """Wait for exit (reading output meanwhile); return the exit code."""
        deadline = time.time() + timeout
        while self.p.poll() is None:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"{self.argv} still running after {timeout}s; "
                                     f"stdout: {self.lines[-10:]!r}; "
                                     f"stderr: {self.stderr()[-800:]!r}")
            self._fill(min(left, 0.2))
        while self._fill(0.05):
            pass
        if self._buf:
            self.lines.append(self._buf.decode("utf-8", "replace"))
            self._buf = b""
        return self.p.returncode

    def stderr(self):
        return self._err.decode("utf-8", "replace")

    def signal(self, sig):
        self.p.send_signal(sig)


def luprobe(*args, env=None):
    """Start luprobe with args (strings)."""
    return Proc([LUPROBE, *args], env=env)


def run(*args, timeout=30, env=None):
    """Run luprobe to completion: (exit code, stdout lines, stderr text)."""
    p = luprobe(*args, env=env)
    code = p.wait(timeout)
    return code, p.lines, p.stderr()


class Server:
    """The computee demo server (or another HTTP target) on a loopback port."""

    def __init__(self, binary, *extra):
        self.port = free_port()
        self.proc = Proc([binary, "-addr", f"127.0.0.1:{self.port}", *extra])
        self.proc.wait_line(r"^listening on ", timeout=10)
        self.pid = self.proc.pid

    def get(self, path, timeout=10):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as r:
            return r.read().decode()


def http_get(port, path, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.read().decode()


def write_script(tmpdir, name, text):
    path = os.path.join(tmpdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def _short(v, limit=600):
    r = repr(v)
    return r if len(r) <= limit else r[:limit] + f"...({len(r)} chars)"


def expect_eq(got, want, what="value"):
    if got != want:
        raise AssertionError(f"{what}: got {_short(got)}, want {_short(want)}")
