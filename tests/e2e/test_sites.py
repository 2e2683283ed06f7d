# SPDX-License-Identifier: BSD-2-Clause
"""A probe must never land inside an instruction, even when
the binary's function table is corrupt. Before attaching, every function that
holds a probe site has its entry checked (aligned as Go's linker aligns
functions, where .symtab says, where the code before it ends) and every site
must start an instruction on the linear decode from that entry.

The copies of tests/go/sites made here have one function's entry moved in
the pclntab (the functab and the function's own record, which must agree) or
in .symtab. With the code before this check, luprobe attached to them: a copy
whose main.compute starts 2 bytes late died with SIGSEGV at its first call,
and one whose main.outer starts 32 bytes early, inside main.inner, printed
wrong numbers (`inner 62853955863970668, outer 40951284806713928`)."""
import os
import re
import stat
import struct
import subprocess
import sys
import tempfile

from lib import ROOT, Proc, expect, expect_eq, gobin, luprobe, run

sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))
import seeds  # noqa: E402

SITES = "sites"


def _rounds(n):
    """What sites -rounds n prints (see tests/go/sites/main.go)."""
    return [f"round {r}: compute {r * r + 7}, inner {111 * r + 300}, "
            f"outer {2 * r + 201}, loadp {40 + 2 * r}, bump {r * (r + 1) // 2}"
            for r in range(1, n + 1)]


def _entries(path):
    """{name: entry} from the binary's function table."""
    pc = seeds.find_pcln(seeds.Elf(path))
    return {pc.name(i).decode(): pc.entry(i) for i in range(pc.nfunc)}


def _corrupt(src, dst, name, entry=None, symtab=None):
    """Copy src to dst with function `name` starting at `entry` in the pclntab (Go 1.18+
    layout: the functab's and the function record's entry offsets), or at `symtab` in
    .symtab."""
    elf = seeds.Elf(src)
    pc = seeds.find_pcln(elf)
    data = bytearray(elf.data)
    i = next(i for i in range(pc.nfunc) if pc.name(i) == name.encode())
    if entry is not None:
        expect(pc.fmt >= 118, f"{src}: a Go 1.18+ function table")
        base = pc.sec["off"]
        off = entry - pc.text
        struct.pack_into("<I", data, base + pc.ftab + i * 8, off)
        struct.pack_into("<I", data, base + pc.fbase + pc.funcoff(i), off)
    if symtab is not None:
        st = next(s for s in elf.sections if s["type"] == 2)
        strs = elf.sections[st["link"]]
        for k in range(1, st["size"] // 24):
            o = st["off"] + k * 24
            s0 = strs["off"] + struct.unpack_from("<I", data, o)[0]
            if data[s0:data.index(b"\0", s0)] == name.encode():
                struct.pack_into("<Q", data, o + 8, symtab)
    with open(dst, "wb") as f:
        f.write(data)
    os.chmod(dst, stat.S_IRWXU)
    return dst


def _refusal(path, func, entry, why):
    return (f"luprobe: (command line):1: {func}: entry 0x{entry:x} in {path} is not where a "
            f"function can start ({why}); the binary's function table looks corrupt")


def test_entry_two_bytes_late_is_refused_and_the_target_unharmed():
    for variant in ("default", "stripped"):
        e = _entries(gobin(SITES, variant))
        with tempfile.TemporaryDirectory() as d:
            bad = _corrupt(gobin(SITES, variant), os.path.join(d, "sites"), "main.compute",
                           entry=e["main.compute"] + 2)
            why = "not 32-byte aligned; "
            if variant == "default":
                why += f".symtab says 0x{e['main.compute']:x}; "
            why += f"it is inside main.touch's instruction at 0x{e['main.compute']:x}"
            want = _refusal(bad, "main.compute", e["main.compute"] + 2, why)
            # a running process: refused, and it goes on unharmed
            target = Proc([bad, "-block", "-rounds", "3"], stdin=subprocess.PIPE)
            target.wait_line("^blocked$")
            lp = luprobe("-e", 'probe{ func = "main.compute" }', "-p", str(target.pid))
            expect_eq(lp.wait(20), 1, f"luprobe's exit code on {variant}")
            expect_eq(lp.stderr().splitlines(), [want], f"stderr on {variant}")
            target.p.stdin.write(b"go\n")
            target.p.stdin.flush()
            expect_eq(target.wait(20), 0, f"the program's exit code on {variant}")
            expect_eq(target.lines, ["blocked", "blocked read 3 bytes"] + _rounds(3),
                      f"the program's output on {variant}")
            # a command: refused before it ever runs
            code, lines, err = run("-e", 'probe{ func = "main.compute" }', "--", bad)
            expect_eq((code, lines, err.splitlines()), (1, [], [want]),
                      f"exit code, output and stderr with -- on {variant}")


def test_implausible_entries_are_refused_with_the_reason():
    sym = _entries(gobin(SITES))
    e = _entries(gobin(SITES, "stripped"))
    with tempfile.TemporaryDirectory() as d:
        cases = [
            # .symtab disagrees: which of the two is right cannot be known
            (_corrupt(gobin(SITES), os.path.join(d, "symtab"), "main.compute",
                      symtab=sym["main.compute"] + 32),
             "main.compute", sym["main.compute"], f".symtab says 0x{sym['main.compute'] + 32:x}"),
            # on the instruction after the stack check: the code before does not end there
            (_corrupt(gobin(SITES, "stripped"), os.path.join(d, "plus4"), "main.compute",
                      entry=e["main.compute"] + 4),
             "main.compute", e["main.compute"] + 4,
             "not 32-byte aligned; main.touch does not end there"),
            # aligned, on main.outer's last instruction (JMP back after morestack)
            (_corrupt(gobin(SITES, "stripped"), os.path.join(d, "minus32"), "main.blocked",
                      entry=e["main.blocked"] - 32),
             "main.blocked", e["main.blocked"] - 32, "main.outer does not end there"),
        ]
        for path, func, entry, why in cases:
            code, lines, err = run("-e", f'probe{{ func = "{func}" }}', "--", path)
            expect_eq((code, lines, err.splitlines()), (1, [], [_refusal(path, func, entry, why)]),
                      f"exit code, output and stderr for {os.path.basename(path)}")
        # aligned, inside main.inner (the function before main.outer)
        path = _corrupt(gobin(SITES, "stripped"), os.path.join(d, "inside"), "main.outer",
                        entry=e["main.outer"] - 32)
        code, lines, err = run("-e", 'probe{ func = "main.outer" }', "--", path)
        m = re.fullmatch(re.escape(_refusal(path, "main.outer", e["main.outer"] - 32, "@"))
                         .replace("@", r"it is inside main\.inner's instruction at 0x([0-9a-f]+)"),
                         err.strip())
        expect(code == 1 and not lines and m, f"refused: exit {code}, {lines}, {err!r}")
        expect(e["main.outer"] - 32 - 15 < int(m.group(1), 16) < e["main.outer"] - 32,
               f"an instruction that starts before the entry: {m.group(1)}")


def test_a_glob_skips_the_functions_of_a_corrupt_table_and_traces_the_rest():
    e = _entries(gobin(SITES, "stripped"))
    with tempfile.TemporaryDirectory() as d:
        bad = _corrupt(gobin(SITES, "stripped"), os.path.join(d, "sites"), "main.compute",
                       entry=e["main.compute"] + 2)
        code, lines, err = run("-q", "-e", 'probe{ func = "main.*", args = false }', "--", bad,
                               "-rounds", "2")
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([ln for ln in lines if ln.startswith("round")], _rounds(2), "the program's output")
    # main.touch's code now runs into main.compute's first instruction: it cannot be decoded
    n = len([f for f in e if f.startswith("main.")])
    expect_eq(err.splitlines(), [
        f"luprobe: main.*: 2 of {n} functions skipped: main.touch: cannot decode the "
        f"instruction at 0x{e['main.compute']:x} in {bad}; no probe placed (-v lists them all)"],
        "stderr")
    traced = [ln.split("()")[0] for ln in lines if ln.startswith("main.")]
    expect_eq(sorted(set(traced)), ["main.(*Inner).Bump", "main.(*Outer).Bump", "main.inner",
                                    "main.loadp", "main.main", "main.outer"], "functions traced")
    expect_eq(traced.count("main.inner"), 10, "main.inner calls")


def test_call_sites_in_a_function_with_a_bad_entry_give_way_to_the_entry_probe():
    """main.direct (frameless) is probed at its CALLs when they are all its calls; some are
    in main.main, whose code runs into main.main.func1 once that function's entry is moved
    2 bytes: the entry probe is used instead, and every call is still seen once."""
    e = _entries(gobin("leaves"))
    with tempfile.TemporaryDirectory() as d:
        bad = _corrupt(gobin("leaves"), os.path.join(d, "leaves"), "main.main.func1",
                       entry=e["main.main.func1"] + 2)
        script = ('local n = 0 probe{ func = "main.direct", args = false }:on_event('
                  'function() n = n + 1 end) on_exit(function() print("calls", n) end)')
        code, lines, err = run("-v", "-e", script, "--", gobin("leaves"), "-n", "50")
        expect_eq(code, 0, f"exit code, intact binary ({err})")
        expect("probed at its entry" not in err, err)
        code, bad_lines, err = run("-v", "-e", script, "--", bad, "-n", "50")
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq(bad_lines, lines, "output, the same as with the intact binary")
    expect("calls\t200" in lines, lines)
    why = [ln for ln in err.splitlines() if "probed at its entry" in ln]
    expect_eq(len(why), 1, err)
    # main.main's code now runs into main.main.func1's first instruction
    expect(re.fullmatch(
        re.escape("luprobe: main.direct: probed at its entry, not at its call sites: "
                  "main.direct: its call site 0x") + "[0-9a-f]+" + re.escape(
                      " is in main.main: cannot decode the instruction at "
                      f"0x{e['main.main.func1']:x} in {bad}; no probe placed"), why[0]), why[0])
