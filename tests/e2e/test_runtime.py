# SPDX-License-Identifier: BSD-2-Clause
"""luprobe.runtime on tests/go/rt, every figure against what the program
itself counted: goroutines started by each go statement, garbage collections
(runtime.MemStats.NumGC), panics with their values, recovered or not; Go 1.19
and the newest Go, DWARF and stripped builds."""
import collections
import os
import re
import tempfile

from lib import SCRIPTS, each_toolchain, expect, expect_eq, gobin, run, write_script

SCRIPT = """
local rt = require "luprobe.runtime"
rt.goroutines(function(g) print("GO " .. tostring(g.fn)) end)
rt.gc(function(c) print("GC " .. c.n) end)
rt.panics(function(p)
	print(("PANIC %s %s %s"):format(p.type, tostring(p.value), p.recovered))
end)
"""


@each_toolchain
def test_goroutines_gc_and_panics_as_the_program_counted_them():
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as d:
            code, lines, err = run("-q", write_script(d, "rt.lua", SCRIPT), "--",
                                   gobin("rt", variant), "-a", "5", "-b", "3", "-gc", "4",
                                   "-recovered", "2", "-die", timeout=60)
        # the program ends with a panic nothing recovers: its exit code is 2
        expect_eq(code, 2, f"{variant}: exit code ({err[-300:]})")
        expect("panic: the end" in err, f"{variant}: the program's own panic message")
        own = re.search(r"^gc (\d+) total (\d+)$", "\n".join(lines), re.M)
        expect(own and own.group(1) == "4", f"{variant}: the program's count: {lines}")
        # go workerA(&wg) runs a wrapper named after main.main: func1/func2, gowrap1/gowrap2
        starts = collections.Counter(ln[3:] for ln in lines if ln.startswith("GO main."))
        order = sorted(starts, key=lambda k: int(re.sub(r"\D", "", k)))  # by go statement
        expect_eq([starts[k] for k in order], [5, 3], f"{variant}: goroutines by go statement")
        expect(set(starts) in ({"main.main.func1", "main.main.func2"},
                               {"main.main.gowrap1", "main.main.gowrap2"}),
               f"{variant}: the wrappers' names: {starts}")
        expect(any(ln == "GO runtime.main" for ln in lines), f"{variant}: runtime.main's start")
        gcs = [int(ln[3:]) for ln in lines if ln.startswith("GC ")]
        expect_eq(gcs, list(range(1, int(own.group(2)) + 1)),
                  f"{variant}: one record per cycle, as NumGC ({own.group(2)}) counts them")
        panics = [ln for ln in lines if ln.startswith("PANIC ")]
        expect_eq(panics, ["PANIC string boom 0 true", "PANIC string boom 1 true",
                           "PANIC *errors.errorString an error value true",
                           "PANIC string the end false"], f"{variant}: panics")


def test_runtime_script():
    code, lines, err = run("-q", os.path.join(SCRIPTS, "go-runtime.lua"), "--", gobin("rt"),
                           "-a", "4", "-b", "2", "-gc", "3", "-recovered", "1", timeout=60)
    expect_eq(code, 0, f"exit code ({err[-300:]})")
    total = int(re.search(r"^gc 3 total (\d+)$", "\n".join(lines), re.M).group(1))
    expect(f"garbage collections: {total}" in lines, lines)
    i = lines.index("goroutines started, by function:")
    rows = {ln.split()[0]: int(ln.split()[1]) for ln in lines[i + 1:] if ln.startswith("  main.")}
    expect_eq(sorted(rows.values()), [2, 4], f"goroutines by go statement: {rows}")
    expect("panics: 2, recovered 2" in lines, lines)
