# SPDX-License-Identifier: BSD-2-Clause
"""The example scripts in scripts/, run as a user would run them against the Go
targets: latency, http-latency, sql-log, errors, trace-path, stripped and opens."""
import collections
import itertools
import math
import os
import re
import signal
import time

from lib import (SCRIPTS, Server, each_toolchain, expect, expect_eq, free_port, gobin, http_get,
                 luprobe, run)

COMPUTEE = "computee"
WEBAPP = "webapp"


def test_latency_script_prints_a_kernel_histogram():
    code, lines, _ = run("-q", os.path.join(SCRIPTS, "latency.lua"), "-a", "func=main.slow",
                         "-a", "by=ms", "--", gobin(WEBAPP), "-workload", "1", timeout=60)
    # -workload makes no slow() call: the histogram is empty and says so
    expect_eq(code, 0, "exit code")
    srv = Server(gobin(WEBAPP))
    lp = luprobe("-v", os.path.join(SCRIPTS, "latency.lua"), "-a", "func=main.slow", "-p",
                 str(srv.pid))
    lp.wait_stderr("uprobes attached", timeout=30)  # -v says so once every probe is attached
    took = []  # slow()'s own measure of each call, in ns
    for ms in (5, 5, 30):
        m = re.fullmatch(rf"slept {ms} in (\d+) ns", srv.get(f"/slow?ms={ms}").strip())
        expect(m, "the reply says how long slow() took")
        took.append(int(m.group(1)))
    time.sleep(0.2)
    lp.signal(signal.SIGINT)
    expect_eq(lp.wait(10), 0, "exit code")
    expect_eq(lp.lines[0], "main.slow hist latency:", "title")
    counts = {m.group(1): int(m.group(2)) for m in
              (re.match(r"^(\[[^)]+\))\s+(\d+) \|", ln) for ln in lp.lines) if m}
    # The probe's latency spans slow()'s own measure and a few instructions
    # more: each call lands in the power-of-two bucket of its measure, or in
    # the next one when the measure is within 1 ms of that bucket's end (a
    # sleep of 5 ms can take 9 on a loaded machine: the bucket follows it).
    want = collections.Counter()
    for ns in took:
        want[ns.bit_length() - 1] += 1
    got = collections.Counter()
    for label, n in counts.items():
        got[_bucket_of(label)] += n
    expect_eq(sum(got.values()), 3, f"calls in the histogram: {counts}")
    if got != want:
        # only a call measured within 1 ms of its bucket's end may be one bucket up
        near = [ns for ns in took if (ns + 1_000_000).bit_length() != ns.bit_length()]
        expect(near and _one_up(want, got, near), f"buckets {counts} for measures {took} ns")


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def _bucket_of(label):
    """The power of two of a histogram row's lower bound ("[4.2ms, 8.4ms)" -> 22)."""
    m = re.match(r"\[([\d.]+)(ns|us|µs|ms|s),", label)
    lo = float(m.group(1)) * _UNITS[m.group(2)]
    return max(0, round(math.log2(lo))) if lo else 0


def _one_up(want, got, near):
    """Whether moving calls measured near their bucket's end up one bucket turns want into got."""
    for k in range(1, len(near) + 1):
        for moved in itertools.combinations(near, k):
            w = collections.Counter(want)
            for ns in moved:
                b = ns.bit_length() - 1
                w[b] -= 1
                w[b + 1] += 1
            if +w == +got:
                return True
    return False


def test_http_latency_and_sql_log_scripts():
    port = free_port()
    lp = luprobe("-q", os.path.join(SCRIPTS, "http-latency.lua"), "--", gobin(WEBAPP, "stripped"),
                 "-addr", f"127.0.0.1:{port}")
    lp.wait_line("^listening on ")
    for path in ("/users/1", "/users/13", "/users/99", "/users/2", "/healthz"):
        try:
            http_get(port, path)
        except Exception:  # noqa: BLE001 - 404 and 500 raise; the status is what we test
            pass
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")
    text = "\n".join(lp.lines)
    expect("latency by path [GET /users/13]:" in text, text)
    status = lp.lines[lp.lines.index("requests by status:") + 1:]
    expect_eq(sorted(ln.split() for ln in status if ln.strip()),
              sorted([["404", "1"], ["500", "1"], ["200", "4"]]), "requests by status")

    code, lines, _ = run("-q", os.path.join(SCRIPTS, "sql-log.lua"), "--", gobin(WEBAPP),
                         "-workload", "1")
    expect_eq(code, 0, "exit code")
    log = [re.sub(r"\s+\S+  ", " T ", ln, count=1) for ln in lines
           if ln.startswith(("query", "exec "))]
    expect_eq(log, [
        "query T SELECT name FROM users WHERE id = ?",
        "query T SELECT name FROM users WHERE id = ?",
        "query T SELECT name FROM users WHERE id = ?  error: fakedb: row 13 is locked",
        "query T SELECT name FROM users WHERE id = ?",
        "query T SELECT 1 FROM users WHERE id = ?",
        "exec T INSERT INTO orders (user_id, item) VALUES (?, ?)",
        "query T SELECT 1 FROM users WHERE id = ?",
        "exec T INSERT INTO orders (user_id, item) VALUES (?, ?)",
        "query T SELECT count(*) FROM orders",
    ], "query log")
    expect("errors by query:" in lines, lines)


def test_errors_script_counts_in_the_kernel():
    code, lines, err = run("-q", os.path.join(SCRIPTS, "errors.lua"), "-a",
                           "pkg=luprobe.test/webapp/store", "--", gobin(WEBAPP), "-workload", "4")
    expect_eq(code, 0, f"exit code ({err})")
    i = lines.index("non-nil errors by function in luprobe.test/webapp/store:")
    got = sorted(ln.split() for ln in lines[i + 1:] if ln.startswith("  "))
    expect_eq(got, [["luprobe.test/webapp/store.Delete", "4"],
                    ["luprobe.test/webapp/store.Get", "4"]], "errors by function")


def test_trace_path_script_follows_one_request_path():
    port = free_port()
    lp = luprobe("-q", os.path.join(SCRIPTS, "trace-path.lua"), "-a", "path=/users/13", "--",
                 gobin(WEBAPP), "-addr", f"127.0.0.1:{port}")
    lp.wait_line("^listening on ")
    for path in ("/users/1", "/users/13", "/orders/count", "/users/2"):
        try:
            http_get(port, path)
        except Exception:  # noqa: BLE001 - /users/13 answers 500
            pass
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")
    out = [re.sub(r"in \S+$", "in T", ln) for ln in lp.lines if not ln.startswith("listening")]
    expect_eq(out, ['  query "SELECT name FROM users WHERE id = ?"  error: fakedb: row 13 is locked',
                    "GET /users/13 -> 500 in T"], "only the followed path")


@each_toolchain
def test_stripped_example_script():
    port = free_port()
    lp = luprobe(os.path.join(SCRIPTS, "stripped.lua"), "--", gobin(COMPUTEE, "stripped"),
                 "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ")
    http_get(port, "/e?iters=321")
    lp.wait_line(r"^computeE\(321\) took \d+\.\d µs  \(result \?\)$")
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")


def test_opens_script_on_stripped_releases_without_declarations():
    """scripts/opens.lua names os.OpenFile's arguments and results from the std
    table on stripped esbuild releases of the stack and the register ABI."""
    import tempfile
    from lib import release_bin
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.js")
        with open(src, "w") as f:
            f.write("let x = 1\n")
        for label in ("go1.16", "go1.26"):
            code, lines, err = run("-q", os.path.join(SCRIPTS, "opens.lua"), "--",
                                   release_bin(label), src)
            expect_eq(code, 0, f"{label}: exit code ({err[-300:]})")
            expect(f"open {src} flag=0x0 perm=0: ok" in lines, f"{label}: {lines}")
