#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""luprobe's benchmark: what a traced call costs, against the floors and bpftrace.

    bench/run.py [--rounds N] [--calls N] [--smoke] [--rows WORDS] [--out FILE] [--json FILE]

Every row runs in each of --rounds interleaved rounds (row A, row B, ...,
then again), and the table gives the median and the range. Needs root, the
binaries `make bench` builds, and bpftrace for its rows (skipped without it).
"""
import argparse
import datetime
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, ".output")
LUPROBE = os.path.join(ROOT, os.environ.get("LUPROBE_OUTPUT", ".output"), "luprobe")
BENCH = os.path.join(OUT, "bench", "bench")
FLOOR = os.path.join(OUT, "bench", "floor")
WAIT = 60  # seconds: the longest any step may take

# Targets from the issue that set them: (key, limit, unit, what).
TARGETS = [
    ("stream_ns", 1000, "ns", "streaming int + 16-byte string into Lua, per call"),
    ("count_ns", 900, "ns", "in-kernel count, per call"),
    ("lost", 0, "events", "lost events, default settings, target calling flat out"),
    ("first_event_ms", 15, "ms", "launch to first event, one probe"),
    ("rss_mb", 20, "MB", "peak RSS, one-probe streaming script"),
]


class Skip(Exception):
    pass


def fail(msg):
    raise RuntimeError(msg)


def readline(p, what, timeout=WAIT):
    """The next stdout line of p, within timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            fail(f"{what}: no output within {timeout} s")
        r, _, _ = select.select([p.stdout], [], [], left)
        if r:
            line = p.stdout.readline()
            if not line:
                err = p.stderr.read() if p.stderr else ""
                fail(f"{what}: ended early: {err.strip()[-300:]}")
            return line.strip()


def wait_line(p, prefix, what):
    while True:
        line = readline(p, what)
        if line.startswith(prefix):
            return line


def reap(p, what, sig=None, grace=5, read_out=True):
    """Wait for p, signalling it if it has not ended within grace seconds;
    (rusage, stdout, stderr). Not Popen.wait: its rusage is needed."""
    signalled = sig is None
    end = time.monotonic() + grace
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > end:
            if signalled:
                p.kill()
                fail(f"{what}: did not exit")
            os.kill(p.pid, sig)  # not p.send_signal: it would reap p first
            signalled, end = True, time.monotonic() + WAIT
        time.sleep(0.005)
    out = p.stdout.read() if p.stdout and read_out else ""
    err = p.stderr.read() if p.stderr else ""
    return ru, out, err


def start_bench(fn, n):
    p = subprocess.Popen([BENCH, "-fn", fn, "-n", str(n), "-wait"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_line(p, "ready", "bench")
    return p


def go(b):
    """Start the calls; the bench's ns per call once they are done."""
    b.stdin.write("\n")
    b.stdin.flush()
    line = wait_line(b, "ns/call", "bench")
    b.wait(WAIT)
    return float(line.split()[1])


# ---- what the rows run ----

def untraced(fn, n):
    b = start_bench(fn, n)
    return {"ns": go(b)}


def file_offset(path, vaddr):
    """The file offset of a virtual address, from the ELF program headers."""
    with open(path, "rb") as f:
        hdr = f.read(64)
        phoff, = struct.unpack_from("<Q", hdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
        f.seek(phoff)
        for _ in range(phnum):
            ph = f.read(phentsize)
            ptype, _, off, va, _, filesz = struct.unpack_from("<IIQQQQ", ph)
            if ptype == 1 and va <= vaddr < va + filesz:
                return vaddr - va + off
    fail(f"{path}: no segment holds {vaddr:#x}")


def sites(fn):
    """File offsets of fn's first instruction and of the site luprobe probes."""
    out = subprocess.run([LUPROBE, "-l", BENCH, "main." + fn], capture_output=True, text=True,
                         timeout=WAIT).stdout
    entry = int(out.split()[0], 16)
    out = subprocess.run([LUPROBE, "-vv", "-q", "-e",
                          f'probe{{func="main.{fn}", target="{BENCH}"}} exit()'],
                         capture_output=True, text=True, timeout=WAIT).stderr
    m = re.search(r"main\.%s: \w+ site (0x[0-9a-f]+)" % fn, out)
    site = int(m.group(1), 16) if m else entry
    return file_offset(BENCH, entry), file_offset(BENCH, site)


def floor(mode, offset, fn, n):
    f = subprocess.Popen([FLOOR, BENCH, hex(offset), mode], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_line(f, "attached", "floor")
    b = start_bench(fn, n)
    ns = go(b)
    f.stdin.close()
    records = int(wait_line(f, "records", "floor").split()[1])
    reap(f, "floor")
    return {"ns": ns, "events": records, "calls": n} if mode == "emit" else {"ns": ns}


# peak RSS, read by luprobe itself (the rusage of a child counts the forked
# parent's pages it had before exec)
LUA_HWM = """
local function hwm()
	local f = io.open("/proc/self/status")
	local kb = f and f:read("a"):match("VmHWM:%%s*(%%d+)")
	if f then f:close() end
	return kb or 0
end
"""

LUA_COUNT = LUA_HWM + """
local c = probe{ func = "main.%(fn)s" }:count()
attach()
print("attached") io.stdout:flush()
on_exit(function() print("count " .. tostring(c:get() or 0) .. " hwm " .. hwm()) end)
"""

LUA_STREAM = LUA_HWM + """
local n, first, last, sum = 0, nil, nil, 0
probe{ func = "main.%(fn)s", args = { "a", "s" }%(ret)s }:on_event(function(e)
	local a, s = e.args.a, e.args.s
	sum = sum + #s %(lat)s
	n = n + 1
	if not first then first = e.ts end
	last = e.ts
end)
attach()
print("attached") io.stdout:flush()
on_exit(function()
	print(string.format("count %%d span %%d hwm %%s", n, n > 1 and last - first or 0, hwm()))
end)
"""


def luprobe_row(kind, fn, n, extra=()):
    code = (LUA_COUNT if kind == "count" else LUA_STREAM) % {
        "fn": fn,
        "ret": ", ret = true" if kind == "ret" else "",
        "lat": "+ (e.latency and 0 or 1)" if kind == "ret" else "",
    }
    b = start_bench(fn, n)
    lp = subprocess.Popen([LUPROBE, *extra, "-e", code, "-p", str(b.pid)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_line(lp, "attached", "luprobe")
    ns = go(b)
    ru, out, err = reap(lp, "luprobe", signal.SIGINT)
    m = re.search(r"count (\d+)(?: span (\d+))? hwm (\d+)", out)
    s = re.search(r"(\d+) events?, (\d+) lost", err)
    if not m:
        fail(f"luprobe {kind}: no count in {out!r} {err!r}")
    events = int(m.group(1))
    row = {"ns": ns, "calls": n, "events": events, "lost": int(s.group(2)) if s else 0,
           "cpu_s": ru.ru_utime + ru.ru_stime, "rss_mb": int(m.group(3)) / 1024}
    if m.group(2) and int(m.group(2)) > 0:
        row["events_per_s"] = (events - 1) / (int(m.group(2)) / 1e9)
    o = re.search(r"otlp: (\d+) spans? sent to \S+(?:, (\d+) dropped)?(?:.*?, (\d+) not sent)?",
                  err)
    if extra and not o:
        fail(f"luprobe {kind} {extra}: no otlp line in {err[-300:]!r}")
    if o:
        row.update(spans_sent=int(o.group(1)), spans_dropped=int(o.group(2) or 0),
                   spans_failed=int(o.group(3) or 0))
    return row


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that takes every batch and keeps nothing."""
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def otlp_row(fn, n):
    """--otlp to a local sink that accepts: the export's cost on top of the ret row."""
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    th = threading.Thread(target=sink.serve_forever, daemon=True)
    th.start()
    try:
        return luprobe_row("ret", fn, n, ["--otlp", f"http://127.0.0.1:{sink.server_port}"])
    finally:
        sink.shutdown()
        sink.server_close()


def json_row(shared, fn, n):
    """--json to a pipe that a reader drains: the rule for a pipe the command
    shares (whole lines, writes of at most PIPE_BUF) against a pipe of
    luprobe's own (-p: 64 KiB writes)."""
    # luprobe's own CPU time (the rusage of the shared run includes the command's)
    code = (f'probe{{ func = "main.{fn}", args = true }} attach() print("attached") '
            'io.stdout:flush() on_exit(function() io.stderr:write("cpu ", os.clock(), "\\n") end)')
    if shared:
        b = None
        lp = subprocess.Popen([LUPROBE, "--json", "-e", code, "--", BENCH, "-fn", fn, "-n", str(n),
                               "-wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    else:
        b = start_bench(fn, n)
        lp = subprocess.Popen([LUPROBE, "--json", "-e", code, "-p", str(b.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events, other, started = [], [], threading.Event()

    def drain():
        for line in lp.stdout:
            (events if line.startswith("{") else other).append(line)
            # the command's "ready" (shared) or the script's "attached"
            if line.startswith("ready" if shared else "attached"):
                started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    if not started.wait(WAIT):
        reap(lp, "luprobe", signal.SIGINT, read_out=False)
        fail(f"luprobe json: did not start: {lp.stderr.read().strip()[-300:]}")
    if shared:
        lp.stdin.write("\n")
        lp.stdin.flush()
        ru, _, err = reap(lp, "luprobe", None, grace=WAIT, read_out=False)
        reader.join(WAIT)
        m = [ln for ln in other if ln.startswith("ns/call")]
        ns = float(m[0].split()[1]) if m else float("nan")
    else:
        ns = go(b)
        ru, _, err = reap(lp, "luprobe", signal.SIGINT, read_out=False)
        reader.join(WAIT)
    s = re.search(r"(\d+) events?, (\d+) lost", err)
    cpu = re.search(r"^cpu (\S+)$", err, re.M)
    if not cpu:
        fail(f"luprobe json: no cpu line in {err[-300:]!r}")
    row = {"ns": ns, "calls": n, "events": len(events), "lost": int(s.group(2)) if s else 0,
           "cpu_s": float(cpu.group(1)), "rss_mb": ru.ru_maxrss / 1024}
    if len(events) > 1:
        first, last = json.loads(events[0])["ts"], json.loads(events[-1])["ts"]
        if last > first:
            row["events_per_s"] = (len(events) - 1) / ((last - first) / 1e9)
    return row


def bpftrace_row(kind, fn, n):
    if not shutil.which("bpftrace"):
        raise Skip("bpftrace is not installed")
    if kind == "count":
        prog = f'uprobe:{BENCH}:main.{fn} {{ @c = count(); }}'
    else:
        prog = (f'uprobe:{BENCH}:main.{fn} {{ printf("%d %s\\n", reg("ax"), '
                f'str(reg("bx"), 16)); }}')
    prog = 'BEGIN { printf("attached\\n"); } ' + prog
    b = start_bench(fn, n)
    bt = subprocess.Popen(["bpftrace", "-p", str(b.pid), "-e", prog], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    # read its output as it comes: a pipe nobody reads would stop bpftrace
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(bt.stdout), daemon=True)
    reader.start()
    end = time.monotonic() + WAIT
    while not any(line.startswith("attached") for line in lines[:3]):
        if bt.poll() is not None or time.monotonic() > end:
            fail(f"bpftrace: did not attach: {bt.stderr.read().strip()[-300:]}")
        time.sleep(0.01)
    ns = go(b)
    ru, _, err = reap(bt, "bpftrace", signal.SIGINT, read_out=False)
    reader.join(WAIT)
    out = "".join(lines)
    if kind == "count":
        m = re.search(r"@c: (\d+)", out)
        events = int(m.group(1)) if m else 0
    else:
        events = sum(1 for line in lines if re.match(r"^-?\d+ ", line))
    lost = sum(int(x) for x in re.findall(r"Lost (\d+) events", out + err))
    return {"ns": ns, "calls": n, "events": events, "lost": lost,
            "cpu_s": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024}


def startup(tool, probes, env=None):
    """Milliseconds from launch to attached and to the first event."""
    fn, pat = ("work", "main.work") if probes == 1 else ("many", "main.f*")
    if tool == "bpftrace":
        if not shutil.which("bpftrace"):
            raise Skip("bpftrace is not installed")
        args = ["bpftrace", "-e",
                'BEGIN { printf("attached %lld\\n", nsecs); } '
                f'uprobe:{BENCH}:{pat} {{ printf("first %lld\\n", nsecs); exit(); }}',
                "-c", f"{BENCH} -fn {fn} -n 0"]
    else:
        code = (f'probe{{func="{pat}"}}:on_event(function(e) print("first", luprobe.now()) '
                f'exit() end) attach() print("attached", luprobe.now())')
        args = [LUPROBE, "-q", "-e", code, "--", BENCH, "-fn", fn, "-n", "0"]
    t0 = time.monotonic_ns()
    p = subprocess.run(args, capture_output=True, text=True, timeout=WAIT,
                       env=dict(os.environ, **(env or {})))
    whole = (time.monotonic_ns() - t0) / 1e6
    got = {}
    for line in p.stdout.split("\n"):
        f = line.split()
        if len(f) == 2 and f[0] in ("attached", "first"):
            got[f[0]] = (int(f[1]) - t0) / 1e6
    if "first" not in got:
        fail(f"{tool} startup: no event: {p.stderr.strip()[-300:]}")
    return {"attached_ms": got.get("attached"), "first_event_ms": got["first"],
            "whole_ms": whole}


def open_big():
    """Milliseconds to open the largest cached Go binary and resolve a name."""
    out = subprocess.run([os.path.join(ROOT, "tests", "gobins.sh"), "--list"],
                         capture_output=True, text=True).stdout
    bins = [line.split()[1] for line in out.split("\n") if line.strip()]
    if not bins:
        raise Skip("no cached Go binaries (tests/gobins.sh)")
    big = max(bins, key=os.path.getsize)
    t0 = time.monotonic_ns()
    p = subprocess.run([LUPROBE, "-l", big, "main.main"], capture_output=True, text=True,
                       timeout=WAIT)
    ms = (time.monotonic_ns() - t0) / 1e6
    if "main.main" not in p.stdout:
        fail(f"{big}: main.main not resolved: {p.stderr.strip()}")
    return {"ms": ms, "mb": os.path.getsize(big) / 1e6, "path": os.path.relpath(big, ROOT)}


# ---- the table ----

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def cell(vals, fmt="{:,.0f}"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    m = statistics.median(vals)
    if len(vals) == 1:
        return fmt.format(m)
    return f"{fmt.format(m)} [{fmt.format(min(vals))}–{fmt.format(max(vals))}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=2_000_000, help="calls per fast row")
    ap.add_argument("--smoke", action="store_true", help="one short round: does it all run?")
    ap.add_argument("--out", default=os.path.join(OUT, "bench", "results.md"))
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--rows", help="only the rows whose key contains one of these "
                    "comma-separated words (e.g. stream,startup)")
    a = ap.parse_args()
    if a.smoke:
        a.rounds, a.calls = 1, 20_000
    if os.geteuid() != 0:
        sys.exit("bench: run as root (uprobes and BPF)")
    for f in (LUPROBE, BENCH, FLOOR):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench: {f} is missing; run make bench")

    # another copy of the target running would be counted by the system-wide floors and
    # would take a CPU: the numbers would be wrong
    busy = subprocess.run(["pgrep", "-f", BENCH], capture_output=True, text=True).stdout.split()
    if busy:
        sys.exit(f"bench: {BENCH} is already running (pid {', '.join(busy)}); stop it first")
    n, slow = a.calls, max(a.calls // 20, 2000)
    entry, site = sites("work")
    leaf_entry, _ = sites("leaf")
    rows = [
        ("untraced", "untraced `work`", lambda: untraced("work", n)),
        ("floor_entry", "empty BPF program at `work`'s first instruction (floor)",
         lambda: floor("empty", entry, "work", slow)),
        ("floor_jcc", "empty BPF program at `work`'s stack-check Jcc (floor)",
         lambda: floor("empty", site, "work", n)),
        ("ref_emit", "hand-written BPF: ts, pid, int + 16 bytes to a ring buffer, at the Jcc",
         lambda: floor("emit", site, "work", n)),
        ("count", "luprobe: in-kernel count", lambda: luprobe_row("count", "work", n)),
        ("stream", "luprobe: int + 16-byte string into a Lua callback",
         lambda: luprobe_row("stream", "work", n)),
        ("stream_frame", "luprobe: the same, function with a large frame (`frame`)",
         lambda: luprobe_row("stream", "frame", n)),
        ("stream_leaf", "luprobe: the same, frameless leaf (`leaf`)",
         lambda: luprobe_row("stream", "leaf", slow)),
        ("ret", "luprobe: the same, with results and latency",
         lambda: luprobe_row("ret", "work", slow)),
        ("otlp", "luprobe: the same, and every call a span sent by `--otlp` to a local sink",
         lambda: otlp_row("work", slow)),
        ("json_pipe", "luprobe: `--json` to a pipe of its own (`-p`)",
         lambda: json_row(False, "work", slow)),
        ("json_pipe_shared", "luprobe: `--json` to a pipe the command shares (whole lines)",
         lambda: json_row(True, "work", slow)),
        ("bpftrace_count", "bpftrace: count", lambda: bpftrace_row("count", "work", slow)),
        ("bpftrace_printf", "bpftrace: printf of both arguments",
         lambda: bpftrace_row("printf", "work", slow)),
    ]
    starts = [
        ("luprobe_1", "luprobe, 1 probe", lambda: startup("luprobe", 1)),
        ("luprobe_100", "luprobe, 100 probes (glob)", lambda: startup("luprobe", 100)),
        ("luprobe_1_cold", "luprobe, 1 probe, no preload or warm-up (LUPROBE_NO_WARMUP=1)",
         lambda: startup("luprobe", 1, {"LUPROBE_NO_WARMUP": "1"})),
        ("bpftrace_1", "bpftrace, 1 probe", lambda: startup("bpftrace", 1)),
        ("bpftrace_100", "bpftrace, 100 probes (glob)", lambda: startup("bpftrace", 100)),
    ]
    if a.rows:
        words = a.rows.split(",")
        keep = lambda k: any(w in k for w in words)
        rows = [r for r in rows if keep(r[0])]
        starts = [r for r in starts if keep(r[0]) or "startup" in words]
    res = {k: [] for k, _, _ in rows + starts}
    res["open"] = []
    skipped, failed = {}, {}
    for r in range(a.rounds):
        print(f"bench: round {r + 1} of {a.rounds}", file=sys.stderr)
        for key, _, fn in rows + starts + ([] if a.rows else [("open", "", open_big)]):
            if key in skipped:
                continue
            try:
                res[key].append(fn())
            except Skip as e:
                skipped[key] = str(e)
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
                print(f"bench: {key}: {e}", file=sys.stderr)
                failed.setdefault(key, str(e))
    write(a, rows, starts, res, skipped, failed, n, slow)


def write(a, rows, starts, res, skipped, failed, n, slow):
    def vals(key, field):
        return [r.get(field) for r in res.get(key, [])]

    summary = {}
    summary["stream_ns"] = med(vals("stream", "ns"))
    summary["count_ns"] = med(vals("count", "ns"))
    summary["lost"] = max([r.get("lost", 0) for k in ("count", "stream", "stream_frame",
                                                      "stream_leaf", "ret")
                           for r in res.get(k, [])] or [0])
    summary["first_event_ms"] = med(vals("luprobe_1", "first_event_ms"))
    summary["rss_mb"] = max(vals("stream", "rss_mb") or [0])
    otlp = res.get("otlp") or []
    untr = med(vals("untraced", "ns")) or 0

    kernel = platform.release()
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    L = []
    L.append(f"luprobe benchmark, {datetime.date.today().isoformat()}: Linux {kernel}, "
             f"{os.cpu_count()} CPUs ({cpu}), {a.rounds} round(s); median [range]")
    L.append("")
    L.append(f"Calls of `work(a int64, s string) int64` in a tight loop; {n:,} calls per row, "
             f"{slow:,} for the slow rows. ns per call include the call itself "
             f"(untraced: {untr:.1f} ns).")
    L.append("")
    L.append("| what | ns per call | events / calls | lost | events/s consumed | tracer CPU | peak RSS |")
    L.append("|---|---|---|---|---|---|---|")
    for key, what, _ in rows:
        if key in skipped:
            L.append(f"| {what} | skipped: {skipped[key]} | | | | | |")
            continue
        rs = res[key]
        ev = ""
        if rs and "events" in rs[0]:
            ev = f"{med(vals(key, 'events')):,.0f} / {rs[0]['calls']:,}"
        lost = cell(vals(key, "lost")) if rs and "lost" in rs[0] else ""
        eps = cell(vals(key, "events_per_s")) if rs and "events_per_s" in rs[0] else ""
        cpu_s = ""
        if rs and "cpu_s" in rs[0]:
            per = [r["cpu_s"] / max(r["events"], 1) * 1e6 for r in rs]
            cpu_s = f"{cell(vals(key, 'cpu_s'), '{:.2f}')} s ({med(per):.2f} µs/event)"
        rss = f"{max(vals(key, 'rss_mb')):.1f} MB" if rs and "rss_mb" in rs[0] else ""
        L.append(f"| {what} | {cell(vals(key, 'ns'))} | {ev} | {lost} | {eps} | {cpu_s} | {rss} |")
    if otlp:
        L.append("")
        L.append(f"`--otlp` row: spans sent {cell(vals('otlp', 'spans_sent'))}, dropped "
                 f"(queue full) {cell(vals('otlp', 'spans_dropped'))}, not sent "
                 f"{cell(vals('otlp', 'spans_failed'))}.")
    L.append("")
    L.append("| startup | launch to attached, ms | launch to first event, ms | whole run, ms |")
    L.append("|---|---|---|---|")
    for key, what, _ in starts:
        if key in skipped:
            L.append(f"| {what} | skipped: {skipped[key]} | | |")
            continue
        L.append(f"| {what} | {cell(vals(key, 'attached_ms'), '{:.1f}')} | "
                 f"{cell(vals(key, 'first_event_ms'), '{:.1f}')} | "
                 f"{cell(vals(key, 'whole_ms'), '{:.0f}')} |")
    L.append("")
    if "open" in skipped:
        L.append(f"Open a large Go binary: skipped: {skipped['open']}")
    elif res["open"]:
        o = res["open"][0]
        L.append(f"Open `{o['path']}` ({o['mb']:.1f} MB) and resolve `main.main` "
                 f"(`luprobe -l`, whole process): {cell(vals('open', 'ms'), '{:.1f}')} ms")
    L.append("")
    L.append("| target | limit | this run | |")
    L.append("|---|---|---|---|")
    met = {}
    for key, limit, unit, what in TARGETS:
        got = summary.get(key)
        ok = got is not None and got <= limit
        met[key] = ok
        shown = "–" if got is None else (f"{got:,.0f}" if unit != "MB" else f"{got:.1f}")
        L.append(f"| {what} | ≤ {limit:,} {unit} | {shown} {unit} | "
                 f"{'met' if ok else 'NOT met'} ({got / limit:.2f}× the limit) |"
                 if got is not None and limit else
                 f"| {what} | ≤ {limit:,} {unit} | {shown} {unit} | {'met' if ok else 'NOT met'} |")
    bt = med(vals("bpftrace_printf", "ns"))
    if bt and summary["stream_ns"]:
        L.append(f"| streaming, bpftrace printf ÷ luprobe | ≥ 10× | "
                 f"{bt / summary['stream_ns']:.1f}× | "
                 f"{'met' if bt / summary['stream_ns'] >= 10 else 'NOT met'} |")
    # startup against bpftrace's in the same run, both tracing one probe of the same target
    lp1, bt1 = med(vals("luprobe_1", "first_event_ms")), med(vals("bpftrace_1", "first_event_ms"))
    if lp1 and bt1:
        summary["first_event_vs_bpftrace"] = lp1 / bt1
        L.append(f"| launch to first event, luprobe ÷ bpftrace (one probe, this run) | < 1× | "
                 f"{lp1 / bt1:.2f}× ({lp1:.1f} / {bt1:.1f} ms) | "
                 f"{'met' if lp1 < bt1 else 'NOT met'} |")
    text = "\n".join(L) + "\n"
    print(text)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": res, "skipped": skipped, "summary": summary, "met": met},
                      f, indent=1)
    # the smoke run fails on anything that did not run or lost events it should not have
    problems = [f"{k}: {e}" for k, e in failed.items()]
    for key in ("count", "stream", "stream_frame", "stream_leaf", "ret", "otlp"):
        for r in res.get(key, []):
            if r["events"] != r["calls"]:
                problems.append(f"{key}: {r['events']} events for {r['calls']} calls")
    if problems:
        print("bench: problems: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
