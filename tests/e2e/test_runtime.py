# SPDX-License-Identifier: BSD-2-Clause
"""luprobe.runtime on tests/go/rt, every figure against what the program
itself counted: goroutines started by each go statement, ended, and leaked;
garbage collections (runtime.MemStats.NumGC) and their stop-the-world pauses
(PauseTotalNs); allocations of a known type; blocking on a channel; panics
with their values, recovered or not; Go 1.19 and the newest Go, DWARF and
stripped builds."""
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


LEAKS = """
local rt = require "luprobe.runtime"
rt.goroutines{ leak = "1s", report_every = false, max_goroutines = tonumber(luprobe.args.max),
	on_start = function(g) print("GO " .. tostring(g.fn)) end,
	on_end = function(g) print("END " .. g.site) end,
	on_leaks = function(list, info)
		for _, r in ipairs(list) do print(("LEAK %s %d %d"):format(r.site, r.count, r.oldest)) end
		print(("UNTRACKED %d FINAL %s"):format(info.untracked, info.final))
	end }
"""


@each_toolchain
def test_goroutines_ended_and_leaked_by_creation_site():
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as d:
            code, lines, err = run("-q", write_script(d, "leaks.lua", LEAKS), "--",
                                   gobin("rt", variant), "-a", "5", "-b", "3", "-leak", "3",
                                   "-hold", "1500", timeout=60)
        expect_eq(code, 0, f"{variant}: exit code ({err[-300:]})")
        expect("leaked 3" in lines, f"{variant}: the program's own count: {lines}")
        ends = collections.Counter(ln[4:] for ln in lines if ln.startswith("END main."))
        order = sorted(ends, key=lambda k: int(re.sub(r"\D", "", k)))
        expect_eq([ends[k] for k in order], [5, 3], f"{variant}: goroutines ended by site: {ends}")
        leaks = [ln.split() for ln in lines if ln.startswith("LEAK ")]
        # the 3 main.leak goroutines, alive since before the program's 1.5 s sleep
        expect_eq([ln[1:3] for ln in leaks], [["main.leak", "3"]], f"{variant}: leaks: {lines}")
        expect(int(leaks[0][3]) >= 1500000000, f"{variant}: the oldest leak's age: {leaks}")
        expect_eq(lines[-1], "UNTRACKED 0 FINAL true", f"{variant}: the report at exit")


@each_toolchain
def test_goroutines_tracked_at_most_max_goroutines():
    # runtime.main, the first goroutine, is alive to the end: with room for
    # one, every other goroutine started is counted as not tracked
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", "-a", "max=1", write_script(d, "leaks.lua", LEAKS), "--",
                               gobin("rt", "stripped"), "-a", "5", "-b", "3", "-leak", "3",
                               timeout=60)
    expect_eq(code, 0, f"exit code ({err[-300:]})")
    starts = [ln for ln in lines if ln.startswith("GO ")]
    expect_eq(starts[0], "GO runtime.main", "the first goroutine")
    expect_eq(lines[-1], f"UNTRACKED {len(starts) - 1} FINAL true", f"untracked: {lines}")
    expect(not any(ln.startswith("LEAK ") for ln in lines), f"nothing tracked leaked: {lines}")
    ends = collections.Counter(ln[4:] for ln in lines if ln.startswith("END "))
    expect(set(ends) == {"(unknown)"} and ends["(unknown)"] >= 8,
           f"the 5 + 3 workers' ends, of goroutines not tracked: {ends}")


PAUSES = """
local rt = require "luprobe.runtime"
rt.pauses(function(p)
	print(("PAUSE %s %s %d %d"):format(p.phase, p.gc, p.duration, p.restart))
end)
"""


@each_toolchain
def test_stop_the_world_pauses_against_pause_total_ns():
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as d:
            code, lines, err = run("-q", write_script(d, "pauses.lua", PAUSES), "--",
                                   gobin("rt", variant), "-gc", "4", timeout=60)
        expect_eq(code, 0, f"{variant}: exit code ({err[-300:]})")
        own = re.search(r"^memstats numgc (\d+) pausetotal (\d+)$", "\n".join(lines), re.M)
        numgc, total = int(own.group(1)), int(own.group(2))
        expect(numgc >= 4, f"{variant}: the program's NumGC: {lines}")
        pauses = [ln.split() for ln in lines if ln.startswith("PAUSE ")]
        gc = [p for p in pauses if p[-3] == "true"]
        phases = [" ".join(p[1:-3]) for p in gc]
        # two stop-the-world pauses per cycle, in order: sweep, then mark termination
        expect_eq(phases, ["sweep termination", "mark termination"] * numgc,
                  f"{variant}: GC pauses, NumGC {numgc}: {pauses}")
        # ReadMemStats stops the world too: not a GC pause, not in PauseTotalNs
        expect(any(p[1] == "other" and p[2] == "false" for p in pauses), f"{variant}: {pauses}")
        # The runtime times each pause with clock reads of its own: at the
        # stop (just before stopTheWorldWithSema, or inside it), and inside
        # startTheWorldWithSema after it restarted the Ps and started threads
        # for them (sweep termination) or a little before it (mark
        # termination, after the bookkeeping that follows the mark). luprobe's
        # duration runs from the entry of the one to the entry of the other,
        # restart to the return: PauseTotalNs lies between the sums of
        # duration and of duration + restart of the sweep terminations, give
        # or take what lies between the runtime's clock reads and the probes.
        # That was up to 12 µs a pause on this machine, shared and loaded (the
        # mark termination's bookkeeping, a thread preempted between the two):
        # 25 µs a pause.
        low = sum(int(p[-2]) for p in gc)
        high = low + sum(int(p[-1]) for p in gc if p[1] == "sweep")
        slack = 25000 * len(gc)
        expect(low - slack <= total <= high + slack,
               f"{variant}: PauseTotalNs {total} within [{low}, {high}] +- {slack}")


ALLOCS = """
local rt = require "luprobe.runtime"
rt.allocs{ types = luprobe.args.types, min_size = tonumber(luprobe.args.min),
	on_alloc = function(a) print(("ALLOC %s %d"):format(a.type, a.size)) end }
"""


@each_toolchain
def test_allocations_by_type():
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as d:
            code, lines, err = run("-q", "-a", "types=^main%.",
                                   write_script(d, "allocs.lua", ALLOCS), "--",
                                   gobin("rt", variant), "-alloc", "1000", timeout=60)
        expect_eq(code, 0, f"{variant}: exit code ({err[-300:]})")
        expect("alloc 1000 48" in lines, f"{variant}: the program's count and size: {lines}")
        expect("luprobe.runtime: allocs probes runtime.mallocgc, run by every heap allocation"
               in err, f"{variant}: the warning at start: {err}")
        allocs = collections.Counter(ln for ln in lines if ln.startswith("ALLOC "))
        expect_eq(allocs, {"ALLOC main.Obj 48": 1000}, f"{variant}: allocations of main types")
    # min_size, in the kernel: the slice of 1000 pointers (8000 bytes) and no Obj
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", "-a", "min=4096", write_script(d, "allocs.lua", ALLOCS),
                               "--", gobin("rt", "stripped"), "-alloc", "1000", timeout=60)
    expect_eq(code, 0, f"exit code ({err[-300:]})")
    sizes = [int(ln.split()[-1]) for ln in lines if ln.startswith("ALLOC ")]
    expect(sizes and min(sizes) >= 4096, f"only allocations of 4096 bytes or more: {sizes}")
    expect("ALLOC *main.Obj 8000" in lines, f"the slice of 1000 *main.Obj: {lines}")


BLOCKING = """
local rt = require "luprobe.runtime"
rt.blocking{ min = "50ms", on_block = function(b)
	print(("BLOCK %s|%d|%d|%d"):format(b.reason, b.goid, b.duration, b.waker))
end }
"""


@each_toolchain
def test_blocking_on_a_channel_by_reason_and_duration():
    for variant in ("default", "stripped"):
        with tempfile.TemporaryDirectory() as d:
            code, lines, err = run("-q", write_script(d, "blocking.lua", BLOCKING), "--",
                                   gobin("rt", variant), "-block", "300", timeout=60)
        expect_eq(code, 0, f"{variant}: exit code ({err[-300:]})")
        expect("no table of wait reasons" not in err, f"{variant}: {err}")
        waited = int(re.search(r"^blocked (\d+)$", "\n".join(lines), re.M).group(1))
        blocks = [ln[6:].split("|") for ln in lines if ln.startswith("BLOCK ")]
        recv = [b for b in blocks if b[0] == "chan receive"]
        expect_eq([b[1] for b in recv], ["1"], f"{variant}: main's one long channel wait: {blocks}")
        # the sender woke main: the goroutine whose sleep ended first
        sleeper = [b[1] for b in blocks if b[0] == "sleep"]
        expect_eq([b[3] for b in recv], sleeper[:1], f"{variant}: who woke main: {blocks}")
        # the sender slept first: a park of at least 300 ms, "sleep"
        expect(any(b[0] == "sleep" and int(b[2]) >= 300000000 for b in blocks),
               f"{variant}: {blocks}")
        # main timed its receive around the park (time.Now before, time.Since
        # after): the park, until the sender made main ready, is inside that
        # window; it is all of it but the channel's own code on each side and
        # the wait for a thread and a CPU once ready (microseconds on a quiet
        # machine; 20 ms allows for a loaded one's scheduling)
        parked = int(recv[0][2])
        expect(waited - 20000000 <= parked <= waited,
               f"{variant}: parked {parked} ns, main waited {waited} ns")


def test_runtime_options_refused_with_the_way_out():
    for text, msg in (
            ('rt.goroutines{ leak = "2x" }', 'luprobe.runtime.goroutines: leak: a duration such as '
             '"2s", "500ms" or a number of ns, not 2x'),
            ('rt.goroutines{}', "luprobe.runtime.goroutines: on_start, on_end or leak is required"),
            ('rt.allocs{ on_alloc = print, min_size = "1k" }',
             "luprobe.runtime.allocs: min_size is a number of bytes")):
        with tempfile.TemporaryDirectory() as d:
            path = write_script(d, "bad.lua",
                                'local rt = require "luprobe.runtime"\n' + text + "\n")
            code, lines, err = run(path, "--", gobin("rt"), timeout=30)
        expect_eq(code, 1, f"{text}: exit code")
        expect_eq(err.strip(), f"luprobe: {path}:2: {msg}", text)


def test_runtime_script():
    code, lines, err = run("-q", "-a", "leak=1s", "-a", "allocs=1", "-a", "blocking=1",
                           os.path.join(SCRIPTS, "go-runtime.lua"), "--", gobin("rt"),
                           "-a", "4", "-b", "2", "-gc", "3", "-recovered", "1", "-leak", "2",
                           "-alloc", "100", "-block", "100", "-hold", "1200", timeout=60)
    expect_eq(code, 0, f"exit code ({err[-300:]})")
    text = "\n".join(lines)
    total = int(re.search(r"^gc 3 total (\d+)$", text, re.M).group(1))
    expect(f"garbage collections: {total}" in lines, lines)

    def rows(title):
        i = lines.index(title)
        out = {}
        for ln in lines[i + 1:]:
            if not ln.startswith("  "):
                break
            k, v = ln.strip().rsplit(None, 1)
            out[k] = v
        return out
    started = {k: int(v) for k, v in rows("goroutines started, by function:").items()}
    user = sorted(v for k, v in started.items() if k.startswith("main.main."))
    expect_eq(user, [2, 4], f"goroutines by go statement: {started}")
    expect_eq(started.get("main.leak"), 2, f"goroutines started: {started}")
    ended = {k: int(v) for k, v in rows("goroutines ended, by creation site:").items()}
    expect_eq(sorted(v for k, v in ended.items() if k.startswith("main.main.")), [2, 4], ended)
    expect("main.leak" not in ended, f"the leaked goroutines never end: {ended}")
    i = lines.index("goroutines alive longer than 1.00s, by creation site (at exit):")
    # alive since before the program's 1.2 s sleep; the age runs to the report
    m = re.match(r"^  main\.leak +2  oldest (\d+\.\d\d)s$", lines[i + 1])
    expect(m and float(m.group(1)) >= 1.2 and not lines[i + 2].startswith("  "),
           f"leaks: {lines[i:i + 3]}")
    expect(re.search(rf"^stop-the-world pauses of the GC: {2 * total}, total ", text, re.M), lines)
    expect_eq(rows("allocations, by type:").get("main.Obj"), "100", "main.Obj allocations")
    expect_eq(rows("bytes allocated, by type:").get("main.Obj"), "4800", "main.Obj bytes")
    expect(int(rows("parks, by wait reason:").get("chan receive", 0)) >= 1, lines)
    expect("panics: 2, recovered 2" in lines, lines)
