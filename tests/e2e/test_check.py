# SPDX-License-Identifier: BSD-2-Clause
"""luprobe --check, the doctor: each condition, as root and without the capabilities;
and -l / --info of a running process through /proc/PID/exe."""
import os
import platform
import re
import shutil
import tempfile

from lib import LUPROBE, Proc, expect, expect_eq, free_port, gobin, run
from test_errors import NOBODY, _as_nobody

NAMES = ["kernel", "BTF", "capabilities", "perf_event_paranoid", "lockdown",
         "uprobe_multi links", "ring buffer", "uprobe"]


def _check(prefix=()):
    """(exit code, {name: (verdict, detail)}, last line) of luprobe --check."""
    p = Proc([*prefix, LUPROBE, "--check"])
    code = p.wait(30)
    expect_eq(p.stderr(), "", "stderr of --check")
    rows = {}
    for ln in p.lines[:-1]:
        m = re.match(r"^(ok|warn|FIX) +(\S+(?: \S+)?) {2,}(.*)$", ln)
        expect(m, f"--check line {ln!r}")
        rows[m.group(2)] = (m.group(1), m.group(3))
    expect_eq(list(rows), NAMES, "what --check checks, in order")
    return code, rows, p.lines[-1]


def _lockdown():
    try:
        with open("/sys/kernel/security/lockdown") as f:
            return re.search(r"\[(\w+)\]", f.read()).group(1)
    except (OSError, AttributeError):
        return None


def test_check_as_root_reports_this_machine():
    code, rows, last = _check()
    expect_eq(code, 0, f"exit code ({rows})")
    expect_eq(last, "luprobe can trace here", "last line")
    expect_eq({k: v[0] for k, v in rows.items()}, {k: "ok" for k in NAMES}, "verdicts")
    expect_eq(rows["kernel"][1], f"Linux {platform.release()} x86_64 (5.17 or later needed)",
              "kernel")
    expect_eq(rows["BTF"][1], "/sys/kernel/btf/vmlinux", "BTF")
    expect_eq(rows["capabilities"][1], "root", "capabilities")
    with open("/proc/sys/kernel/perf_event_paranoid") as f:
        paranoid = int(f.read())
    expect_eq(rows["perf_event_paranoid"][1],
              f"{paranoid} (uprobes need CAP_PERFMON whatever its value)", "paranoid")
    mode = _lockdown()
    expect(rows["lockdown"][1] == mode if mode else rows["lockdown"][1].startswith("none seen"),
           f"lockdown: {rows['lockdown']} for {mode}")
    expect_eq(rows["uprobe_multi links"][1], "available (one link per binary and process)",
              "uprobe_multi (Linux 6.6 and later have them)")
    expect_eq(rows["ring buffer"][1], "created and mapped", "ring buffer")
    expect(re.fullmatch(r"attached to a child process; its call came through the ring buffer "
                        r"in [\d.]+ ms", rows["uprobe"][1]), rows["uprobe"])


def test_check_names_the_missing_capability():
    grant = ("run luprobe with sudo, or grant it CAP_BPF and CAP_PERFMON "
             "(luprobe(1), PRIVILEGES)")
    for caps, missing, held in (((), "CAP_BPF and CAP_PERFMON", ""),
                                (("perfmon",), "CAP_BPF", ", holds CAP_PERFMON"),
                                (("bpf",), "CAP_PERFMON", ", holds CAP_BPF")):
        code, rows, last = _check(_as_nobody(caps))
        expect_eq(code, 1, f"exit code with {caps}")
        expect_eq(rows["capabilities"],
                  ("FIX", f"{missing} missing (uid {NOBODY}{held}); {grant}"),
                  f"capabilities with {caps}")
        expect_eq(rows["uprobe"][0], "FIX", f"uprobe with {caps}: {rows['uprobe']}")
        expect_eq(rows["kernel"][0], "ok", "kernel")
        expect(last.endswith("to fix before luprobe can trace here"), last)
    expect_eq(rows["ring buffer"], ("ok", "created and mapped"), "ring buffer with CAP_BPF")
    expect_eq(rows["uprobe"][1], f"cannot load a BPF program: Operation not permitted; {grant}",
              "uprobe with CAP_BPF alone")
    code, rows, last = _check(_as_nobody(("bpf", "perfmon")))
    expect_eq((code, last), (0, "luprobe can trace here"), f"with both ({rows})")
    expect_eq(rows["capabilities"][1],
              "CAP_BPF and CAP_PERFMON; without CAP_SYS_PTRACE (other users' processes), "
              "CAP_DAC_READ_SEARCH (binaries you cannot read), CAP_SETUID (--user), "
              "CAP_SETGID (--user)", "capabilities with both")
    expect_eq(rows["uprobe"][0], "ok", f"uprobe with both: {rows['uprobe']}")


def _server(binary):
    srv = Proc([binary, "-addr", f"127.0.0.1:{free_port()}"])
    srv.wait_line(r"^listening on ")
    return srv


def test_list_and_info_of_a_running_process_whose_binary_was_deleted_or_replaced():
    with tempfile.TemporaryDirectory() as d:
        app = os.path.join(d, "app")
        shutil.copy(gobin("computee"), app)
        srv = _server(app)
        code, lines, err = run("-l", "-p", str(srv.pid), "main.compute*")
        expect_eq((code, err), (0, ""), "-l -p exit code and stderr")
        expect(any(re.match(r"^0x[0-9a-f]+ +main\.computeE\(iterations int64\) float64", ln)
                   for ln in lines), f"main.computeE listed: {lines}")
        os.unlink(app)
        code, lines, err = run("--info", "-p", str(srv.pid))
        expect_eq((code, err), (0, ""), "--info -p of a deleted binary")
        expect_eq(lines[0], f"file:       {app} (deleted) (process {srv.pid})", "file line")
        expect(any(ln.startswith("go:         go1.") for ln in lines), lines)
        code, lines, err = run("-l", "-p", str(srv.pid), "main.computeE")
        expect_eq(code, 0, f"-l -p of a deleted binary ({err})")
        expect(lines and "main.computeE(iterations int64) float64" in lines[0], lines)
        # renamed over: the process still runs the old inode; the path holds another binary
        shutil.copy(gobin("webapp"), app + ".new")
        os.rename(app + ".new", app)
        code, lines, err = run("-l", "-p", str(srv.pid), "main.computeE")
        expect_eq(code, 0, f"-l -p of a replaced binary ({err})")
        expect(lines and "main.computeE(iterations int64) float64" in lines[0], lines)
        code, lines, err = run("-l", app, "main.computeE")
        expect_eq((code, err), (1, f"luprobe: main.computeE: no function matches in {app}\n"),
                  "the path itself is the new binary")


def test_list_by_pid_errors():
    code, _, err = run("-l", "-p", "999999999")
    expect_eq((code, err), (1, "luprobe: process 999999999: no such process (or it is a "
                               "kernel thread)\n"), "no such process")
    code, _, err = run("-l")
    expect_eq((code, err), (2, "luprobe: -l needs a Go binary or -p PID, e.g. -l ./app\n"),
              "-l alone")
    code, _, err = run("--info", "-p", "1", "-p", "2")
    expect_eq((code, err), (1, "luprobe: --info takes one binary: a path or -p PID\n"),
              "two pids")
    code, _, err = run("--info", gobin("computee"), "x")
    expect_eq((code, err), (1, "luprobe: --info takes one binary and nothing else\n"),
              "--info with an extra operand")
    srv = _server(gobin("computee"))
    p = Proc(_as_nobody(()) + [LUPROBE, "-l", "-p", str(srv.pid)])
    expect_eq(p.wait(20), 1, "exit code as nobody")
    expect_eq(p.stderr(), f"luprobe: process {srv.pid}: cannot read its executable: permission "
              "denied (another user's process: it needs root or CAP_SYS_PTRACE; see luprobe "
              "--check)\n", "another user's process")
