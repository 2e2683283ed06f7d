# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12, item 24 (package D's parts): messages that misled. Returns whose
entry a predicate or a scope rejected were reported as returns without an
entry; a function ending in a tail call was said to have no RET; `-p TID`
said the process was gone; Go 1.19's DWARF kind 0 for `*uintptr` made the
pointer "impossible for its kind"."""
import json
import os
import tempfile

from lib import ROOT, expect, expect_eq, gobin, run, write_script

SITES = "sites"
SITES_SRC = os.path.join(ROOT, "tests", "go", "sites", "main.go")


def _json_run(script, argv, timeout=60):
    """(exit code, events from -o FILE, the program's output, stderr)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events")
        code, lines, err = run("--json", "-o", out, write_script(d, "t.lua", script), "--",
                               *argv, timeout=timeout)
        with open(out) as f:
            events = [json.loads(ln) for ln in f]
    return code, events, lines, err


def _rounds(n):
    """What sites -rounds n prints (see tests/go/sites/main.go)."""
    return [f"round {r}: compute {r * r + 7}, inner {111 * r + 300}, "
            f"outer {2 * r + 201}, loadp {40 + 2 * r}, bump {r * (r + 1) // 2}"
            for r in range(1, n + 1)]


def test_pointer_whose_dwarf_kind_is_zero_is_a_pointer():
    """Go 1.19 writes DW_AT_go_kind 0 for *uintptr: luprobe said "type *uintptr has size 0,
    impossible for its kind" and refused main.loadp(p *uintptr, n int)."""
    binary = gobin(SITES)
    for args in ("args = true", "", 'args = { "p", "n" }'):
        script = f'probe{{ func = "main.loadp", ret = true, {args} }}'
        code, events, out, err = _json_run(script, [binary, "-rounds", "3"])
        expect_eq(code, 0, f"exit code with {script} ({err})")
        expect_eq(out, _rounds(3), "the program's output")
        expect_eq([(e["args"], e["ret"]) for e in events],
                  [({"p": 40 + r, "n": r}, {"~r0": 40 + 2 * r}) for r in (1, 2, 3)],
                  f"arguments and result with {script}")
    code, lines, err = run("-q", "-e", 'probe{ func = "main.loadp", ret = true }', "--", binary)
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln.split("  ")[0] for ln in lines if ln.startswith("main.loadp")],
              ["main.loadp(p=&0x29, n=1) = 0x2a"], "the event as text")
