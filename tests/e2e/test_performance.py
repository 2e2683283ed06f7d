# SPDX-License-Identifier: BSD-2-Clause
"""The cheap probe sites are used where they are sound, and the
benchmark runs. Frameless functions are probed at their direct CALLs when
those are provably all their calls; every other function keeps its entry
probe, and the counts show that no call is missed either way. Speed itself
is measured by `make bench`, not here."""
import collections
import json
import os
import re
import shutil
import subprocess
import tempfile

from lib import ROOT, each_toolchain, expect, expect_eq, gobin, run, write_script

N = 20000  # calls of each kind: up to 160,000 events, about 10 MB of records
# A ring that holds every record of a run even if the consumer read none of
# them, so that no count depends on how fast the script keeps up (under ASan,
# on a loaded machine, the default 8 MiB ring overflowed and events were lost).
RING = str(64 << 20)


def _events(script, binary, extra=(), env=None):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events")
        code, lines, err = run("-vv", "--json", "-o", out, "--ringbuf", RING, *extra,
                               write_script(d, "t.lua", script),
                               "--", binary, "-n", str(N), timeout=60, env=env)
        with open(out) as f:
            events = [json.loads(ln) for ln in f if ln.startswith("{")]
    expect(re.search(r"luprobe: \d+ events, 0 lost", err), err[-400:])
    return code, events, lines, err


def _check_leaves(variant):
    binary = gobin("leaves", variant)
    want = subprocess.run([binary, "-n", str(N)], capture_output=True, text=True,
                          timeout=60).stdout.splitlines()
    code, events, lines, err = _events(
        'probe{ func = "main.direct" } probe{ func = "main.valued" } '
        'probe{ func = "main.T.Meth" }', binary)
    expect_eq(code, 0, f"exit code ({err[-400:]})")
    expect_eq(lines, want, "the program's output, traced")
    # direct: every call is a CALL instruction, probed there (no single-step)
    expect(re.search(r"main\.direct: 4 call sites \(emulated\)", err), err)
    # valued is also called through a function value; Meth is a method
    expect(re.search(r"main\.valued: not probed at its call sites: its address is "
                     r"(stored in data|in a relocation)", err), err)
    expect(re.search(r"main\.valued: entry site", err), err)
    expect(re.search(r"main\.T\.Meth: entry site", err), err)
    calls = collections.Counter(e["func"] for e in events)
    expect_eq(calls["main.direct"], 4 * N, "direct: main, goroutine, deferred, closure")
    expect_eq(calls["main.valued"], 2 * N, "valued: direct and through a function value")
    expect_eq(calls["main.T.Meth"], 2 * N, "Meth: direct and through an interface")
    return events


@each_toolchain
def test_frameless_function_probed_at_its_call_sites_sees_every_call():
    events = _check_leaves("default")
    # the arguments read at a call site are those the function receives
    seen = collections.defaultdict(set)
    for e in events:
        if e["func"] == "main.direct":
            seen[e["args"]["s"]].add(e["args"]["a"])
    expect_eq(sorted(seen), ["closure", "deferred", "goroutine", "main"], "callers")
    for who, vals in seen.items():
        expect_eq(vals, set(range(N)), f"a from {who}")


@each_toolchain
def test_call_sites_in_a_pie_and_a_stripped_pie():
    _check_leaves("pie")
    _check_leaves("stripped-pie")


@each_toolchain
def test_call_site_entries_pair_with_returns():
    binary = gobin("leaves")
    code, events, _, err = _events('probe{ func = "main.direct", ret = true }', binary)
    expect_eq(code, 0, f"exit code ({err[-400:]})")
    expect(re.search(r"main\.direct: 4 call sites \(emulated\), 1 RET", err), err)
    expect_eq(len(events), 4 * N, "calls")
    for e in events:
        a, s = e["args"]["a"], e["args"]["s"]
        expect_eq(list(e["ret"].values()), [a * 3 + len(s)], f"result of direct({a}, {s!r})")
        expect(isinstance(e["latency_ns"], int) and e["latency_ns"] >= 0, e)


@each_toolchain
def test_stacks_keep_the_entry_probe():
    # the stack at a call site lacks the function itself: stacks need the entry
    binary = gobin("leaves")
    code, events, _, err = _events('probe{ func = "main.direct", stack = true }', binary)
    expect_eq(code, 0, f"exit code ({err[-400:]})")
    expect(re.search(r"main\.direct: entry site", err), err)
    expect_eq(len(events), 4 * N, "calls")


def test_bench_smoke_run():
    """The benchmark's short run: every row runs and counts every call."""
    p = subprocess.run(["python3", os.path.join(ROOT, "bench", "run.py"), "--smoke",
                        "--out", os.path.join(ROOT, ".output", "bench", "smoke.md")],
                       capture_output=True, text=True, timeout=600)
    expect_eq(p.returncode, 0, f"bench --smoke exit code: {p.stderr[-800:]}")
    for row in ("luprobe: in-kernel count", "luprobe: int + 16-byte string into a Lua callback",
                "frameless leaf", "results and latency", "launch to first event"):
        expect(row in p.stdout, f"{row!r} in the table:\n{p.stdout}")
    # with bpftrace (make bench installs it), startup as a ratio to its own
    if shutil.which("bpftrace"):
        expect(re.search(r"^\| launch to first event, luprobe ÷ bpftrace \(one probe, this run\) "
                         r"\| < 1× \| [\d.]+× \(", p.stdout, re.M),
               f"the startup ratio in the table:\n{p.stdout}")
    # the luprobe rows delivered one event per call, none lost
    for m in re.finditer(r"^\| luprobe: [^|]*\| [^|]*\| ([\d,]+) / ([\d,]+) \| (\d+)", p.stdout,
                         re.M):
        expect_eq(m.group(1), m.group(2), f"events / calls in {m.group(0)}")
        expect_eq(m.group(3), "0", f"lost in {m.group(0)}")
