#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""What each battery costs a busy Go server: requests/s traced ÷ untraced.

    bench/batteries.py [--rounds N] [--seconds S] [--only NAMES] [--out FILE]

wrk (a C program: the uprobes on the Go binary never trap in it) drives
the server on loopback with 8 keep-alive connections as fast as it answers,
for S seconds untraced and then S seconds with luprobe attached to the
server (-p), in each of N interleaved rounds; the table gives the median
rate of each and the median ratio with its range. gRPC has no wrk: the
grpcsvc target's own client makes unary calls one after another on one
connection to its server in the same process (both sides traced), run
alone and then under luprobe (-- CMD); its rate is calls over the sum of
the latencies the client measured. The machine's load moves
the rates; the ratio of one round is measured within seconds and is what to
read. Each traced run also reports luprobe's own count of events and lost
events, so a cheap-looking row that dropped its work shows.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, ".output")
LUPROBE = os.path.join(OUT, "luprobe")
WAIT = 30

# battery: (server, path, script). The scripts do what a user's would: a
# handler per record that keeps a count n, nothing printed per event; each
# prints n at exit (RECORDS).
RECORDS = 'on_exit(function() io.stderr:write("records " .. n .. "\\n") end)\n'
BATTERIES = [
    ("http", "webapp", "/users/1", """
local http = require "luprobe.http"
local n = 0
http.requests{ on_request = function(r) n = n + 1 end }
"""),
    ("sql", "webapp", "/users/1", """
local sql = require "luprobe.sql"
local n = 0
sql.queries(function(q) n = n + 1 end)
"""),
    ("http+sql", "webapp", "/users/1", """
local http, sql = require "luprobe.http", require "luprobe.sql"
local n = 0
http.requests{ on_request = function(r) n = n + 1 end }
sql.queries(function(q) n = n + 1 end)
"""),
    ("runtime", "webapp", "/users/1", """
local rt = require "luprobe.runtime"
local n = 0
rt.goroutines(function(g) n = n + 1 end)
rt.gc(function() n = n + 1 end)
rt.panics(function(p) n = n + 1 end)
"""),
    ("runtime-leaks", "webapp", "/users/1", """
local rt = require "luprobe.runtime"
local n = 0
rt.goroutines{ leak = "5s", on_start = function(g) n = n + 1 end,
	on_end = function(g) n = n + 1 end }
rt.gc(function() n = n + 1 end)
rt.pauses(function(p) n = n + 1 end)
rt.panics(function(p) n = n + 1 end)
"""),
    ("grpc", "grpcsvc", "Check", """
local grpc = require "luprobe.grpc"
local n = 0
grpc.calls{ on_call = function(c) n = n + 1 end }
"""),
    ("tls", "tlsecho", "/hello", """
local tls = require "luprobe.tls"
local n = 0
tls.data{ on_http = function(m) n = n + 1 end }
"""),
]


def fail(msg):
    sys.exit(f"batteries: {msg}")


def free_port():
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    from lib import free_port as fp  # the tests' own: below the ephemeral range, locked
    return fp()


def start_server(name):
    binary = os.path.join(OUT, "go", name, "default")
    if not os.access(binary, os.X_OK):
        fail(f"{binary} is missing: run make gotargets")
    port = free_port()
    argv = [binary, "serve", "-addr", f"127.0.0.1:{port}"] if name == "tlsecho" else \
        [binary, "-addr", f"127.0.0.1:{port}"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        line = p.stdout.readline()
        if "listening" in line:
            scheme = "https" if name == "tlsecho" else "http"
            return p, f"{scheme}://127.0.0.1:{port}"
        if not line and p.poll() is not None:
            break
    p.kill()
    fail(f"{name} did not start")


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", f"{seconds}s", url],
                         capture_output=True, text=True, timeout=seconds + WAIT).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        fail(f"wrk gave no rate: {out!r}")
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errs:
        fail(f"wrk: {errs.group(1)} answers were not 2xx: {out!r}")
    return float(m.group(1))


def traced(script, pid, url, seconds):
    lp = subprocess.Popen([LUPROBE, "-v", script, "-p", str(pid)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + WAIT
    err = []
    while time.monotonic() < deadline:
        line = lp.stderr.readline()
        err.append(line)
        if "uprobes attached" in line:
            break
        if not line and lp.poll() is not None:
            fail(f"luprobe did not attach: {''.join(err)}")
    rate = wrk(url, seconds)
    lp.send_signal(signal.SIGINT)
    _, rest = lp.communicate(timeout=WAIT)
    return (rate, *counts("".join(err) + rest))


def counts(stderr):
    """luprobe's events and lost events, and the script's records, from its stderr."""
    ev = re.search(r"(\d+) events?, (\d+) lost", stderr)
    rec = re.search(r"records (\d+)", stderr)
    return int(ev.group(1)) if ev else 0, int(ev.group(2)) if ev else 0, \
        int(rec.group(1)) if rec else 0


GRPC_CALLS = 20000


def grpc_rate(out):
    lat = [int(m) for m in re.findall(r"^call ok 0 (\d+)$", out, re.M)]
    if len(lat) != GRPC_CALLS:
        fail(f"grpcsvc made {len(lat)} good calls of {GRPC_CALLS}: {out[-300:]!r}")
    return len(lat) / (sum(lat) / 1e9)


def grpc_round(script):
    binary = os.path.join(OUT, "go-new", "grpcsvc", "default")
    if not os.access(binary, os.X_OK):
        fail(f"{binary} is missing: run make gotargets")
    argv = [binary, str(GRPC_CALLS), "0"]
    u = grpc_rate(subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout)
    p = subprocess.run([LUPROBE, script, "--", *argv], capture_output=True, text=True,
                       timeout=120)
    return (u, grpc_rate(p.stdout), *counts(p.stderr))


def measure(name, rounds, one_round):
    """rounds of one_round() -> (untraced, traced, events, lost, records), summed up."""
    u, t, ratios, events, lost, records = [], [], [], 0, 0, 0
    for r in range(rounds):
        ur, tr, ev, lo, rec = one_round()
        u.append(ur)
        t.append(tr)
        ratios.append(tr / ur)
        events, lost, records = events + ev, lost + lo, records + rec
        print(f"batteries: {name} round {r + 1}: untraced {ur:,.0f}/s, traced {tr:,.0f}/s, "
              f"{ev} events, {lo} lost, {rec} records", file=sys.stderr)
    return u, t, ratios, events, lost, records


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--only", help="comma-separated battery names")
    ap.add_argument("--out", default=os.path.join(OUT, "bench", "batteries.md"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        fail("run as root (uprobes and BPF)")
    if not shutil.which("wrk"):
        fail("wrk is missing: LUPROBE_EXTRA_PKGS=wrk scripts/install-deps.sh")
    chosen = [b for b in BATTERIES if not a.only or b[0] in a.only.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, server, path, code in chosen:
            script = os.path.join(d, name.replace("+", "_") + ".lua")
            with open(script, "w") as f:
                f.write(code + RECORDS)
            if server == "grpcsvc":
                rows.append((name, server, path,
                             *measure(name, a.rounds, lambda: grpc_round(script))))
                continue
            srv, base = start_server(server)
            url = base + path
            try:
                wrk(url, 1)  # warm up: connections, the server's pools
                rows.append((name, server, path, *measure(name, a.rounds, lambda: (
                    wrk(url, a.seconds), *traced(script, srv.pid, url, a.seconds)))))
            finally:
                srv.kill()
                srv.wait()
    lines = [f"luprobe batteries on a busy server, {time.strftime('%Y-%m-%d')}: wrk -t2 -c8, "
             f"{a.rounds} rounds of {a.seconds} s; median [range]", "",
             "| battery | server, request | untraced, requests/s | traced | ratio | events "
             "(lost) | records |", "|---|---|---|---|---|---|---|"]
    for name, server, path, u, t, ratios, events, lost, records in rows:
        what = f"{server}, unary {path}, 1 connection" if server == "grpcsvc" else \
            f"{server}, GET {path}"
        lines.append(f"| `{name}` | {what} | {statistics.median(u):,.0f} | "
                     f"{statistics.median(t):,.0f} | {statistics.median(ratios):.2f} "
                     f"[{min(ratios):.2f}–{max(ratios):.2f}] | {events:,} ({lost:,}) | "
                     f"{records:,} |")
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
