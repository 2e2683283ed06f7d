#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
Regression inputs that are ELF files, made at build time rather than kept in
git (the text ones are in tests/fuzz/regressions/). Each reproduces a finding
of tests/fuzz/RESULTS.md: it broke the code as it was before that fix.

    tests/fuzz/crafted.py OUTDIR      writes OUTDIR/<target>/<name>

gobin/signed-integer-overflow-pcvalue
    A small ELF with a Go function table (seeds.py's, from a Go test target)
    whose first function's pc-file table adds 0x7fffffff twice: the value
    overflows int32 (src/go/gobin_func.c:pcvalue).
godwarf/stack-overflow-follow
    DWARF of a package main with an 8-byte struct main.Loop whose fields are
    n int and next main.Loop, both at offset 0 (a struct that contains itself
    by value, which only corrupted DWARF can say), and `func f(l Loop)`:
    planning f's capture recursed without end (src/plan.c:follow).

Only the Python standard library is used; the output is deterministic.
"""
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seeds  # noqa: E402


def uleb(v):
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def pcvalue_overflow():
    """The seed "mini" of the first Go test target, its pc-file table rewritten."""
    for label, path in seeds.go_targets():
        mini = dict(seeds.gobin_mini(seeds.Elf(path), label)).get("mini")
        if mini:
            break
    else:
        sys.exit("crafted.py: no Go test target to build from (make gotargets)")
    with tempfile.NamedTemporaryFile() as f:
        f.write(mini)
        f.flush()
        elf = seeds.Elf(f.name)
    pc = seeds.find_pcln(elf)
    rec = pc.fbase + pc.funcoff(0)
    pcfile = struct.unpack_from("<I", pc.b, rec + pc.layout[6])[0]
    # two (value delta, pc delta) pairs: +0x7fffffff at the same pc, twice
    table = (uleb(0x7fffffff << 1) + uleb(0)) * 2
    at = pc.sec["off"] + pc.pc_lo + pcfile
    out = bytearray(mini)
    out[at:at + len(table)] = table
    return bytes(out)


DW_FORM_string, DW_FORM_data1, DW_FORM_ref4, DW_FORM_addr, DW_FORM_flag = 0x08, 0x0b, 0x13, 0x01, 0x0c
DW_AT_go_kind = 0x2900
KIND_INT, KIND_STRUCT = 2, 25


def self_containing_struct():
    """An ELF with only .debug_abbrev and .debug_info: main.f(l main.Loop)."""
    abbrevs = [  # code, tag, children, [(attribute, form)]
        (1, 0x11, 1, [(0x03, DW_FORM_string), (0x13, DW_FORM_data1)]),  # compile unit
        (2, 0x24, 0, [(0x03, DW_FORM_string), (0x3e, DW_FORM_data1), (0x0b, DW_FORM_data1),
                      (DW_AT_go_kind, DW_FORM_data1)]),  # base type
        (3, 0x13, 1, [(0x03, DW_FORM_string), (0x0b, DW_FORM_data1),
                      (DW_AT_go_kind, DW_FORM_data1)]),  # struct
        (4, 0x0d, 0, [(0x03, DW_FORM_string), (0x49, DW_FORM_ref4),
                      (0x38, DW_FORM_data1)]),  # member
        (5, 0x2e, 1, [(0x03, DW_FORM_string), (0x11, DW_FORM_addr)]),  # subprogram
        (6, 0x05, 0, [(0x03, DW_FORM_string), (0x49, DW_FORM_ref4),
                      (0x4b, DW_FORM_flag)]),  # formal parameter
    ]
    abbrev = bytearray()
    for code, tag, children, attrs in abbrevs:
        abbrev += uleb(code) + uleb(tag) + bytes([children])
        for at, form in attrs:
            abbrev += uleb(at) + uleb(form)
        abbrev += b"\0\0"
    abbrev += b"\0"

    s = lambda text: text.encode() + b"\0"
    hdr = 11  # unit_length, version, debug_abbrev_offset, address_size
    body = bytearray()
    body += uleb(1) + s("main") + bytes([0x16])  # DW_LANG_Go
    int_at = hdr + len(body)
    body += uleb(2) + s("int") + bytes([0x05, 8, KIND_INT])  # DW_ATE_signed
    loop_at = hdr + len(body)
    body += uleb(3) + s("main.Loop") + bytes([8, KIND_STRUCT])
    body += uleb(4) + s("n") + struct.pack("<I", int_at) + bytes([0])
    body += uleb(4) + s("next") + struct.pack("<I", loop_at) + bytes([0])
    body += b"\0"  # end of main.Loop's members
    body += uleb(5) + s("main.f") + struct.pack("<Q", 0x401000)
    body += uleb(6) + s("l") + struct.pack("<I", loop_at) + bytes([0])
    body += b"\0"  # end of main.f's parameters
    body += b"\0"  # end of the unit's children
    info = struct.pack("<IHIB", 7 + len(body), 4, 0, 8) + body
    return seeds.elf_file(2, [], [(".debug_abbrev", 1, 0, 0, bytes(abbrev), 0, 0, 0),
                                  (".debug_info", 1, 0, 0, info, 0, 0, 0)])


CRAFTED = {
    ("gobin", "signed-integer-overflow-pcvalue"): pcvalue_overflow,
    ("godwarf", "stack-overflow-follow"): self_containing_struct,
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: crafted.py OUTDIR")
    for (target, name), make in CRAFTED.items():
        d = os.path.join(sys.argv[1], target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(make())


if __name__ == "__main__":
    main()
