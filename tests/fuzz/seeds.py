#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
Seed corpora for the fuzzers, built from real binaries' sections.

    tests/fuzz/seeds.py OUTDIR        writes OUTDIR/<target>/*, replacing what was there

Sources: the Go test targets under .output/go/*/* (tests/go/build.sh) and
the cached Go release binaries of `tests/gobins.sh --list`; either may be
absent, and then the seeds come from what is there (and from the strings
below). Whole Go binaries are megabytes and fuzz slowly (libFuzzer reads at
most -max_len bytes of an input), so the ELF seeds are small ELF files
assembled from just what the readers use, with the addresses of the original:

  gobin    a pclntab rewritten in the original's format for a dozen of its
           functions (their _func records, names, pc tables and files), the
           module data pointing at it, a window of type descriptors and a
           typelinks list, the build info or the version string, arginfo
           funcdata, a small .symtab, RELATIVE relocations for PIE originals;
           plus variants without section headers, without .symtab,
           truncated, and with single bytes changed.
  godwarf  the DWARF of a few main-package functions and of every DIE they
           refer to, in .debug_info, .debug_abbrev (and .debug_str when
           small), uncompressed, SHF_COMPRESSED and as .zdebug_ sections.
  typespec type specs as scripts write them, with field paths after a NUL.
  predicate where= expressions from the tests and docs.

Only the Python standard library is used. Output is deterministic.
"""
import bisect
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ---------------------------------------------------------------------------
# ELF reading


class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.path = path
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError("not a little-endian ELF64 file")
        (self.e_type, self.e_machine, _, self.e_entry, self.e_phoff, self.e_shoff, _,
         _, self.e_phentsize, self.e_phnum, self.e_shentsize, self.e_shnum,
         self.e_shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", d, 16)
        self.segs = []
        for i in range(self.e_phnum):
            (p_type, p_flags, p_offset, p_vaddr, _, p_filesz, p_memsz,
             p_align) = struct.unpack_from("<IIQQQQQQ", d, self.e_phoff + i * 56)
            self.segs.append(dict(type=p_type, flags=p_flags, off=p_offset, vaddr=p_vaddr,
                                  filesz=p_filesz, memsz=p_memsz, align=p_align))
        self.sections = []
        for i in range(self.e_shnum):
            (name, typ, flags, addr, off, size, link, info, align,
             entsize) = struct.unpack_from("<IIQQQQIIQQ", d, self.e_shoff + i * 64)
            self.sections.append(dict(name_off=name, type=typ, flags=flags, addr=addr, off=off,
                                      size=size, link=link, info=info, align=align,
                                      entsize=entsize))
        if self.sections and self.e_shstrndx < len(self.sections):
            ss = self.sections[self.e_shstrndx]
            for s in self.sections:
                end = d.index(b"\0", ss["off"] + s["name_off"])
                s["name"] = d[ss["off"] + s["name_off"]:end].decode("latin-1")
        else:
            for s in self.sections:
                s["name"] = ""
        self.relocs = self._relocs()

    def section(self, name):
        for s in self.sections:
            if s["name"] == name:
                return s
        return None

    def section_data(self, s):
        """Contents, decompressed (SHF_COMPRESSED or .zdebug_)."""
        raw = self.data[s["off"]:s["off"] + s["size"]]
        if s["flags"] & 0x800:  # SHF_COMPRESSED: Elf64_Chdr
            ch_type, _, ch_size, _ = struct.unpack_from("<IIQQ", raw, 0)
            if ch_type != 1:
                raise ValueError("unknown compression")
            return zlib.decompress(raw[24:])[:ch_size]
        if s["name"].startswith(".zdebug_") and raw[:4] == b"ZLIB":
            return zlib.decompress(raw[12:])
        return raw

    def _relocs(self):
        out = {}
        for s in self.segs:
            if s["type"] != 2:  # PT_DYNAMIC
                continue
            tags = {}
            for o in range(0, s["filesz"] - 15, 16):
                tag, val = struct.unpack_from("<QQ", self.data, s["off"] + o)
                if tag == 0:
                    break
                tags[tag] = val
            if 7 not in tags or 8 not in tags:  # DT_RELA, DT_RELASZ
                continue
            off = self.vaddr_to_off(tags[7])
            for o in range(0, tags[8] - 23, 24):
                where, info, addend = struct.unpack_from("<QQq", self.data, off + o)
                if info & 0xffffffff == 8 or (info & 0xffffffff == 1 and info >> 32 == 0):
                    out[where] = addend & (2**64 - 1)
        return out

    def vaddr_to_off(self, a):
        for s in self.segs:
            if s["type"] == 1 and s["vaddr"] <= a < s["vaddr"] + s["filesz"]:
                return s["off"] + a - s["vaddr"]
        return None

    def read(self, a, n):
        off = self.vaddr_to_off(a)
        if off is None:
            return None
        for s in self.segs:
            if s["type"] == 1 and s["vaddr"] <= a < s["vaddr"] + s["filesz"]:
                n = min(n, s["vaddr"] + s["filesz"] - a)
                break
        return self.data[off:off + n]

    def ptr(self, a):
        if a in self.relocs:
            return self.relocs[a]
        b = self.read(a, 8)
        return struct.unpack("<Q", b)[0] if b and len(b) == 8 else None

    def exec_range(self):
        segs = [s for s in self.segs if s["type"] == 1 and s["flags"] & 1]
        return [(s["vaddr"], s["vaddr"] + s["memsz"]) for s in segs]

    def symbols(self):
        st = next((s for s in self.sections if s["type"] == 2), None)
        if not st:
            return {}
        strs = self.sections[st["link"]]
        out = {}
        for i in range(1, st["size"] // 24):
            name, info, _, shndx, value, size = struct.unpack_from(
                "<IBBHQQ", self.data, st["off"] + i * 24)
            if not name or not shndx:
                continue
            o = strs["off"] + name
            nm = self.data[o:self.data.index(b"\0", o)].decode("latin-1")
            out.setdefault(nm, (value, size, info & 0xf))
        return out


def uvarint(b, i):
    x = shift = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7f) << shift
        if not c & 0x80:
            return x, i
        shift += 7


def cstr(b, i):
    return b[i:b.index(b"\0", i)]


# ---------------------------------------------------------------------------
# ELF writing


def elf_file(e_type, segments, sections, entry=0):
    """
    segments: [(p_type, flags, vaddr, bytes, memsz or None)]
    sections: [(name, sh_type, flags, addr, data, link, info, entsize)] where data is
    bytes, ("seg", segment index, offset in it, size) or a size (SHT_NOBITS);
    or None for no section headers. Returns the bytes of an ELF64 x86-64 file.
    """
    nph = len(segments)
    out = bytearray(64 + 56 * nph)
    seg_off = []
    for _, _, vaddr, data, _ in segments:
        while len(out) % 8 != vaddr % 8:  # keep file offsets congruent, as linkers do
            out.append(0)
        seg_off.append(len(out))
        out += data
    phdrs = bytearray()
    for (p_type, flags, vaddr, data, memsz), off in zip(segments, seg_off):
        phdrs += struct.pack("<IIQQQQQQ", p_type, flags, off, vaddr, vaddr, len(data),
                             memsz if memsz is not None else len(data), 8)
    out[64:64 + len(phdrs)] = phdrs
    shoff = shnum = shstrndx = 0
    if sections is not None:
        shstr = bytearray(b"\0")
        names = []
        for s in sections:
            names.append(len(shstr))
            shstr += s[0].encode() + b"\0"
        names.append(len(shstr))
        shstr += b".shstrtab\0"
        hdrs = [struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
        for (name, typ, flags, addr, data, link, info, entsize), no in zip(sections, names):
            if isinstance(data, tuple):
                off, size = seg_off[data[1]] + data[2], data[3]
            elif isinstance(data, int):  # SHT_NOBITS: a size, no bytes
                off, size = 0, data
            else:
                while len(out) % 8:
                    out.append(0)
                off, size = len(out), len(data)
                out += data
            hdrs.append(struct.pack("<IIQQQQIIQQ", no, typ, flags, addr, off, size, link, info,
                                    8, entsize))
        off = len(out)
        out += shstr
        hdrs.append(struct.pack("<IIQQQQIIQQ", names[-1], 3, 0, 0, off, len(shstr), 0, 0, 1, 0))
        while len(out) % 8:
            out.append(0)
        shoff, shnum, shstrndx = len(out), len(hdrs), len(hdrs) - 1
        out += b"".join(hdrs)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    out[0:64] = ident + struct.pack("<HHIQQQIHHHHHH", e_type, 62, 1, entry, 64 if nph else 0,
                                    shoff, 0, 64, 56, nph, 64, shnum, shstrndx)
    return bytes(out)


# ---------------------------------------------------------------------------
# Sources


def go_targets():
    out = []
    base = os.path.join(ROOT, ".output", "go")
    if not os.path.isdir(base):
        return out
    for prog in sorted(os.listdir(base)):
        d = os.path.join(base, prog)
        if not os.path.isdir(d):
            continue
        for variant in sorted(os.listdir(d)):
            p = os.path.join(d, variant)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                out.append((f"{prog}-{variant}", p))
    return out


def release_bins():
    try:
        r = subprocess.run([os.path.join(ROOT, "tests", "gobins.sh"), "--list"],
                           capture_output=True, text=True, timeout=60, check=False)
    except OSError:
        return []
    out = []
    for line in r.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and os.path.isfile(parts[1]):
            out.append((parts[0], parts[1]))
    return out


class Corpus:
    def __init__(self, outdir, target):
        self.dir = os.path.join(outdir, target)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.seen = set()

    def add(self, name, data):
        h = hashlib.sha1(data).hexdigest()
        if h in self.seen:
            return
        self.seen.add(h)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
        with open(os.path.join(self.dir, f"{safe}-{h[:8]}"), "wb") as f:
            f.write(data)

    def __len__(self):
        return len(self.seen)


def mutations(name, data, corpus, n=6):
    """Truncations and single-byte changes of a small seed, deterministic."""
    h = int(hashlib.sha1(data).hexdigest(), 16)
    for k, frac in enumerate((0.5, 0.9)):
        corpus.add(f"{name}-trunc{k}", data[:int(len(data) * frac)])
    for k in range(n):
        b = bytearray(data)
        i = (h >> (k * 20)) % len(b)
        b[i] ^= 1 << (k % 8) if k % 3 else 0xff
        corpus.add(f"{name}-flip{k}", bytes(b))


# ---------------------------------------------------------------------------
# typespec and predicate

TYPESPECS = [
    "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
    "uintptr", "byte", "rune", "bool", "float32", "float64", "complex64", "complex128",
    "string", "error", "any", "interface{}", "unsafe.Pointer",
    "*int", "**int", "[]byte", "[][]string", "[3]int", "[0]int", "[4][2]uint16",
    "map[string]int", "map[int][]string", "map[[2]int]*main.T", "chan int", "chan<- int",
    "<-chan string", "func(int) int", "func(int, string) (int, error)", "func()",
    "struct{ A int; B string }", "*struct{ A int; B string }", "struct{}",
    "struct{ A, B int; C [2]struct{ D *int } }", "struct{ main.Inner; Z int8 }",
    "struct { X float64; Y float32 }", "[]struct{ P *main.node }",
    "main.T", "*main.T", "main.node", "*main.node", "main.Inner", "main.Outer", "*main.Outer",
    "main.Ambig", "main.Deep", "*main.Deep", "main.Empty", "main.Floats", "main.Big",
    "*main.Big", "main.Loop", "*main.Loop", "[]main.Loop", "main.Pair[string,int]",
    "main.Other", "time.Duration", "*net/url.URL",
    "*net/http.Request", "net/http.Request", "[]*net/http.Request", "map[string]*main.T",
    "[1000000000000]int", "[9223372036854775807]byte", "[]", "[", "*", "map[", "struct{",
    "struct{ A }", "func(", "chan", "main.", "main.Nope", "strng", "int int",
]

FIELD_PATHS = {
    "*main.T": ["A", "B", "C", "E.E.A", "F", "P.X", "P.Y", "E", "Z", "A.B", "", ".", "P..X"],
    "main.T": ["A", "P.Y", "E.P.X"],
    "*main.Outer": ["X", "Y", "next", "val", "Z", "Inner.X", "node.next.val"],
    "main.Outer": ["X", "next.val"],
    "main.Ambig": ["X", "Y", "W", "Inner.X", "Other.W"],
    "*main.Deep": ["Q.R.Q.S", "Q.S", "X", "Z", "next", "Outer.Inner.Y", "Q.R.X"],
    "*net/http.Request": ["Method", "URL.Path", "URL.User.username", "Header", "Host",
                          "URL.Nope", "ctx", "ContentLength"],
    "net/http.Request": ["URL.Host", "Proto"],
    "main.Big": ["B", "A"],
    "*main.Loop": ["C.C.C.A", "B", "C.B"],
    "*main.Big": ["B"],
    "struct{ A int; B string }": ["A", "B", "C"],
    "*struct{ A int; B *struct{ C int } }": ["B.C", "B"],
    "main.Pair[string,int]": ["K", "V"],
}

PREDICATES = [
    "id == 13", "id > 1 and id < 99", "not (id == 1 or id == 2)", "id ~= 13 && !(id >= 99)",
    'key == "nope"', 'prefix(key, "k")', "len(key) == 4", "err ~= nil", "err == nil",
    'kind == "bad" and err ~= nil', "latency >= 0 and id == 2", "id == 13 or id > 1000",
    'req.Method == "POST" and prefix(req.URL.Path, "/api/")',
    "err ~= nil and latency > 1000000", "b == true", "a == -100 and b < -29999",
    "d > 12345678901234567889 and f == 0xdeadbeef", 's == "h\\xc3\\xa9llo, w\\xc3\\xb6rld"',
    "s.A == 424242 and p ~= nil", 'r.URL ~= nil and r.Method == "GET"', "len(m) == 3",
    "len(c) == 2", "len(xs) == 3", "true", 'prefix(s.B, "sma")', "id >", "(id == 1",
    "id == 1 andd id == 2", "nosuch == 1", 'id == "x"', "latency > 5",
    # the fuzz target's function: n s ok r t m sl f u i16 arr in p e ~r0 err
    "n == 1", "n", "ok", "!ok", "not ok and n < 0", 's == "abc"', "s ~= 'x\\n\\t\\\\'",
    'prefix(s, "")', "len(s) > 0", "len(sl) == 0", "len(m) ~= 0", "sl", "m", "p", "e",
    "p == nil", "e ~= nil", "r", 'r.Method == "GET"', 'prefix(r.URL.Path, "/a")',
    'r.URL.User.username == "u"', "r.ContentLength >= 4096", "r.Header ~= nil",
    "t.A == 3", "t.E.E.E.A < 0", 't.B == "x"', "t.P.X == 1", 't.P.Y == "y"', "t.F", "t.M",
    "t.K > 1", "in.X == 2", 'in.Y ~= ""', "u == 255", "u > 256", "i16 == -32768",
    "i16 < 32768", "arr", "f == 1", "~r0 == 0", "err", "err == nil or ~r0 > 0",
    "latency > 0", "n == -9223372036854775808", "n == 9223372036854775807",
    "n == 18446744073709551615", "n == 18446744073709551616", "n == 0x7fffffffffffffff",
    "n == 0777", "n == 1e3", "n == -", "((((((((n == 1))))))))", "n == 1 or " * 20 + "n == 2",
    "not " * 40 + "ok", 'prefix(s, "' + "x" * 64 + '")', 'prefix(s, "' + "x" * 65 + '")',
    's == "' + "\\x41" * 64 + '"', "len(n) == 1", "len(r) == 1", "prefix(n, \"a\")",
    "n.x == 1", "s.len == 3", "t.", ".t", "t..A", "r.URL.", "nil == nil", "true == false",
    "1 == 1", '"a" == "a"', "latency", "n <", "== n", "n === 1", "n = 1", "n != 1",
    "n !== 1", "prefix(", "prefix(s", "prefix(s,", "prefix(s, 'a'", "len(", "len(s",
    "'unterminated", '"\\q"', '"\\x4"', '"\\', "\t n \n == \r 1 ", "n == 1 and",
    "n == 1 or or", "t.E.E.E.E.E.E.E.E.E.E.E.E.E.A == 1", "a" * 200 + " == 1",
]


def typespec_seeds(corpus):
    for s in TYPESPECS:
        corpus.add("spec", s.encode())
    for spec, paths in FIELD_PATHS.items():
        for p in paths:
            corpus.add("path", spec.encode() + b"\0" + p.encode())


def predicate_seeds(corpus):
    for p in PREDICATES:
        corpus.add("pred", p.encode())


# ---------------------------------------------------------------------------
# gobin: the Go tables of a real binary, cut down to a few functions

PCLN_MAGIC = {0xfffffffb: 12, 0xfffffffa: 116, 0xfffffff0: 118, 0xfffffff1: 120}
# _func field offsets, as src/go/gobin_pcln.c's func_layout tables:
# hdr, entry_is_ptr, nameoff, args, deferreturn, pcsp, pcfile, pcln, npcdata, cuoff,
# startline, funcid, flag, nfuncdata, pcdata
FUNC_LAYOUT = {
    12: (40, True, 8, 12, 16, 20, 24, 28, 32, None, None, 36, None, 39, 40),
    116: (44, True, 8, 12, 16, 20, 24, 28, 32, 36, None, 40, 41, 43, 44),
    118: (40, False, 4, 8, 12, 16, 20, 24, 28, 32, None, 36, 37, 39, 40),
    120: (44, False, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 41, 43, 44),
}
# runtime.moduledata offsets as src/go/gobin_pcln.c's md_layouts:
# minor, text, types, etypes, gofunc, epclntab, typelinks, itaboff, itabsize
MD_LAYOUTS = [
    (2, 96, 200, 208, None, None, 240, None, None),
    (16, 176, 280, 288, None, None, 320, None, None),
    (18, 176, 280, 288, 304, None, 336, None, None),
    (20, 176, 296, 304, 320, None, 352, None, None),
    (26, 176, 296, 304, 320, 328, 360, None, None),
    (27, 176, 296, 312, 344, 352, None, 320, 328),
]
MD_BYTES = 400
BUILDINFO_MAGIC = b"\xff Go buildinf:"
MAX_FUNCS = 16


def pc_table(b, off, lo, hi):
    """Bytes of the pcvalue table at off (from lo), terminator included, and its values."""
    if not off:
        return None, []
    p = lo + off
    vals, val, first = [], -1, True
    try:
        while p < hi:
            uv, q = uvarint(b, p)
            if uv == 0 and not first:
                return b[lo + off:q], vals
            val += -((uv >> 1) + 1) if uv & 1 else uv >> 1
            vals.append(val)
            _, p = uvarint(b, q)
            first = False
    except IndexError:
        pass
    return None, []


class Pcln:
    """The function table of a binary, read as src/go/gobin*.c read it."""

    def __init__(self, elf, sec):
        self.elf = elf
        self.addr = sec["addr"]
        b = self.b = elf.section_data(sec)
        self.fmt = PCLN_MAGIC[struct.unpack_from("<I", b, 0)[0]]
        self.nfunc = struct.unpack_from("<Q", b, 8)[0]
        self.layout = FUNC_LAYOUT[self.fmt]
        if self.fmt == 12:
            self.ftab, self.fbase, self.pc_lo = 16, 0, 0
            self.file_lo = struct.unpack_from("<I", b, 16 + self.nfunc * 16 + 8)[0]
            self.text = 0
            self.name_lo = 0
        else:
            o = 24 if self.fmt == 116 else 32
            (self.name_lo, self.cu_lo, self.file_lo, self.pc_lo,
             self.ftab) = struct.unpack_from("<5Q", b, o)
            self.fbase = self.ftab
            self.text = elf.ptr(self.addr + 24) if self.fmt >= 118 else 0

    def entry(self, i):
        if self.fmt in (12, 116):
            return self.elf.ptr(self.addr + self.ftab + i * 16)
        return self.text + struct.unpack_from("<I", self.b, self.ftab + i * 8)[0]

    def funcoff(self, i):
        if self.fmt in (12, 116):
            return struct.unpack_from("<Q", self.b, self.ftab + i * 16 + 8)[0]
        return struct.unpack_from("<I", self.b, self.ftab + i * 8 + 4)[0]

    def name(self, i):
        r = self.fbase + self.funcoff(i)
        no = struct.unpack_from("<i", self.b, r + self.layout[2])[0]
        return cstr(self.b, self.name_lo + no)

    def file(self, rec, fno):
        b = self.b
        if self.fmt == 12:
            n = struct.unpack_from("<I", b, self.file_lo)[0]
            if not 0 < fno < n:
                return None
            return cstr(b, struct.unpack_from("<I", b, self.file_lo + 4 * fno)[0])
        cu = struct.unpack_from("<I", b, rec + self.layout[9])[0]
        fo = struct.unpack_from("<I", b, self.cu_lo + 4 * (cu + fno))[0]
        if fo == 0xffffffff:
            return None
        return cstr(b, self.file_lo + fo)

    def func(self, i):
        """Everything of function i that the rewritten table carries."""
        L, b = self.layout, self.b
        rec = self.fbase + self.funcoff(i)
        u32 = lambda o: struct.unpack_from("<I", b, rec + o)[0]
        hi = len(b) if self.fmt == 12 else self.ftab
        f = dict(entry=self.entry(i), name=self.name(i), args=u32(L[3]), defer=u32(L[4]),
                 npcdata=u32(L[8]), funcid=b[rec + L[11]],
                 flag=b[rec + L[12]] if L[12] is not None else 0, nfuncdata=b[rec + L[13]],
                 startline=u32(L[10]) if L[10] is not None else 0, rec=rec)
        f["pcsp"], _ = pc_table(b, u32(L[5]), self.pc_lo, hi)
        f["pcfile"], fnos = pc_table(b, u32(L[6]), self.pc_lo, hi)
        f["pcln"], _ = pc_table(b, u32(L[7]), self.pc_lo, hi)
        if f["npcdata"] > 64 or f["nfuncdata"] > 16:
            return None
        f["pcdata"] = [pc_table(b, u32(L[14] + 4 * k), self.pc_lo, hi)[0]
                       for k in range(f["npcdata"])]
        f["files"] = {}
        for fno in sorted(set(v for v in fnos if 0 <= v < 4096)):
            try:
                f["files"][fno] = self.file(rec, fno)
            except (struct.error, ValueError):
                f["files"][fno] = None
        o = L[14] + 4 * f["npcdata"]
        if self.fmt in (12, 116):
            if (self.addr + rec + o) & 4:
                o += 4
            f["funcdata"] = [self.elf.ptr(self.addr + rec + o + 8 * k) or 0
                             for k in range(f["nfuncdata"])]
        else:
            f["funcdata"] = [u32(o + 4 * k) for k in range(f["nfuncdata"])]
        return f


def build_pcln(pc, funcs, end):
    """A function table in pc's format holding funcs, as bytes, and its offsets."""
    fmt, L = pc.fmt, pc.layout
    names, pctab, cutab, filetab = bytearray(), bytearray(b"\0"), [], bytearray()
    tabs, fileoffs = {}, {}

    def pct(t):
        if not t:
            return 0
        if t not in tabs:
            tabs[t] = len(pctab)
            pctab.extend(t)
        return tabs[t]

    def fileoff(s):
        if s not in fileoffs:
            fileoffs[s] = len(filetab)
            filetab.extend(s + b"\0")
        return fileoffs[s]

    recs = []
    for f in funcs:
        r = dict(f)
        r["nameoff"] = len(names)
        names.extend(f["name"] + b"\0")
        r["pcsp_o"], r["pcfile_o"], r["pcln_o"] = pct(f["pcsp"]), pct(f["pcfile"]), pct(f["pcln"])
        r["pcdata_o"] = [pct(t) for t in f["pcdata"]]
        if fmt != 12:
            r["cuoff"] = len(cutab)
            top = max(f["files"], default=-1)
            for fno in range(top + 1):
                s = f["files"].get(fno)
                cutab.append(fileoff(s) if s is not None else 0xffffffff)
        recs.append(r)
    n = len(recs)
    if fmt == 12:
        # functab pairs and the end PC, the file table offset, records, names, tables, files
        files = {}
        for f in funcs:
            for fno, s in f["files"].items():
                if s is not None:
                    files[fno] = s
        body_off = 16 + n * 16 + 8 + 4
        out = bytearray(body_off)
        # records first, so that funcoff values are known; their offsets are patched below
        rec_offs = []
        for r in recs:
            while len(out) % 8:
                out.append(0)
            rec_offs.append(len(out))
            out.extend(record(pc, r, len(out), 0, 0))
        name_base = len(out)
        out.extend(names)
        pc_base = len(out)
        out.extend(pctab)
        while len(out) % 4:
            out.append(0)
        file_lo = len(out)
        nfiles = max(files, default=0) + 1
        strs = bytearray()
        offs = []
        str_base = file_lo + 4 * nfiles
        for fno in range(1, nfiles):
            offs.append(str_base + len(strs))
            strs.extend(files.get(fno, b"") + b"\0")
        out.extend(struct.pack("<I", nfiles) + b"".join(struct.pack("<I", o) for o in offs))
        out.extend(strs)
        for r, ro in zip(recs, rec_offs):
            rec = record(pc, r, ro, name_base, pc_base)
            out[ro:ro + len(rec)] = rec
        struct.pack_into("<4sBBBBQ", out, 0, struct.pack("<I", 0xfffffffb), 0, 0, 1, 8, n)
        for i, (r, ro) in enumerate(zip(recs, rec_offs)):
            struct.pack_into("<QQ", out, 16 + 16 * i, r["entry"], ro)
        struct.pack_into("<Q", out, 16 + 16 * n, end)
        struct.pack_into("<I", out, 16 + 16 * n + 8, file_lo)
        return bytes(out), dict(ftab=16, name_lo=0, cu_lo=0, file_lo=file_lo, pc_lo=0,
                                ftab_ptrs=[16 + 16 * i for i in range(n + 1)])
    hdr = 64 if fmt == 116 else 72
    name_lo = hdr
    cu_lo = name_lo + len(names)
    cub = b"".join(struct.pack("<I", c) for c in cutab)
    file_lo = cu_lo + len(cub)
    pc_lo = file_lo + len(filetab)
    ftab = pc_lo + len(pctab)
    while ftab % 8:
        ftab += 1
    esz = 8 if fmt == 116 else 4
    out = bytearray(ftab + (2 * n + 1) * esz)
    out[name_lo:cu_lo] = names
    out[cu_lo:file_lo] = cub
    out[file_lo:pc_lo] = filetab
    out[pc_lo:pc_lo + len(pctab)] = pctab
    rec_offs = []
    for r in recs:
        while len(out) % 8:
            out.append(0)
        rec_offs.append(len(out) - ftab)
        out.extend(record(pc, r, len(out), 0, 0))
    struct.pack_into("<IBBBBQQ", out, 0, list(PCLN_MAGIC)[list(PCLN_MAGIC.values()).index(fmt)],
                     0, 0, 1, 8, n, len(fileoffs))
    if fmt == 116:
        struct.pack_into("<5Q", out, 24, name_lo, cu_lo, file_lo, pc_lo, ftab)
    else:
        struct.pack_into("<Q5Q", out, 24, pc.text_field, name_lo, cu_lo, file_lo, pc_lo, ftab)
    ptrs = []
    for i, (r, ro) in enumerate(zip(recs, rec_offs)):
        if fmt == 116:
            struct.pack_into("<QQ", out, ftab + 16 * i, r["entry"], ro)
            ptrs.append(ftab + 16 * i)
        else:
            struct.pack_into("<II", out, ftab + 8 * i, r["entry"] - pc.text, ro)
    if fmt == 116:
        struct.pack_into("<Q", out, ftab + 16 * n, end)
        ptrs.append(ftab + 16 * n)
    else:
        struct.pack_into("<I", out, ftab + 8 * n, end - pc.text)
    return bytes(out), dict(ftab=ftab, name_lo=name_lo, cu_lo=cu_lo, file_lo=file_lo,
                            pc_lo=pc_lo, ftab_ptrs=ptrs, ncu=len(cutab),
                            nfiles=len(fileoffs), nnames=len(names), npctab=len(pctab),
                            nfilet=len(filetab))


def record(pc, r, at, name_base, pc_base):
    """The _func record of r placed at table offset at."""
    L, fmt = pc.layout, pc.fmt
    hdr = L[0]
    b = bytearray(hdr + 4 * r["npcdata"])
    if L[1]:
        struct.pack_into("<Q", b, 0, r["entry"])
    else:
        struct.pack_into("<I", b, 0, r["entry"] - pc.text)
    struct.pack_into("<iIIIII", b, L[2], name_base + r["nameoff"], r["args"], r["defer"],
                     pc_base + r["pcsp_o"] if r["pcsp_o"] else 0,
                     pc_base + r["pcfile_o"] if r["pcfile_o"] else 0,
                     pc_base + r["pcln_o"] if r["pcln_o"] else 0)
    struct.pack_into("<I", b, L[8], r["npcdata"])
    if L[9] is not None:
        struct.pack_into("<I", b, L[9], r["cuoff"])
    if L[10] is not None:
        struct.pack_into("<I", b, L[10], r["startline"])
    b[L[11]] = r["funcid"]
    if L[12] is not None:
        b[L[12]] = r["flag"]
    b[L[13]] = r["nfuncdata"]
    for k, o in enumerate(r["pcdata_o"]):
        struct.pack_into("<I", b, L[14] + 4 * k, pc_base + o if o else 0)
    if fmt in (12, 116):
        if (pc.addr + at + len(b)) & 4:
            b.extend(bytes(4))
        for v in r["funcdata"]:
            b.extend(struct.pack("<Q", v))
    else:
        for v in r["funcdata"]:
            b.extend(struct.pack("<I", v))
    return bytes(b)


def go_version(elf):
    """(minor, version bytes, buildinfo address or None) from the build info."""
    for s in elf.segs:
        if s["type"] != 1 or not s["flags"] & 2 or s["flags"] & 1:
            continue
        seg = elf.data[s["off"]:s["off"] + s["filesz"]]
        i = seg.find(BUILDINFO_MAGIC)
        while i >= 0 and (s["vaddr"] + i) % 16:
            i = seg.find(BUILDINFO_MAGIC, i + 1)
        if i < 0:
            continue
        a = s["vaddr"] + i
        h = seg[i:i + 32]
        if h[15] & 2:
            n, p = uvarint(seg, i + 32)
            v = seg[p:p + n]
        else:
            sp = elf.ptr(a + 16)
            v = elf.read(elf.ptr(sp), elf.ptr(sp + 8)) if sp else b""
        m = v.split(b".")
        try:
            return int(m[1].split(b"rc")[0].split(b"beta")[0]), v, a
        except (IndexError, ValueError):
            return None, v, a
    return None, None, None


def find_pcln(elf):
    """The function table, by its section or else (externally linked PIE) by its header."""
    sec = elf.section(".gopclntab") or elf.section(".data.rel.ro.gopclntab")
    if sec and sec["type"] != 8:
        pc = Pcln(elf, sec)
        pc.sec = sec
        return pc
    ex = elf.exec_range()
    for s in elf.segs:
        if s["type"] != 1 or s["flags"] & 1:
            continue
        seg = elf.data[s["off"]:s["off"] + s["filesz"]]
        for magic in PCLN_MAGIC:
            want = struct.pack("<IBBBB", magic, 0, 0, 1, 8)
            i = seg.find(want)
            while i >= 0:
                if (s["vaddr"] + i) % 8 == 0:
                    fake = dict(name="", type=1, flags=0, addr=s["vaddr"] + i,
                                off=s["off"] + i, size=s["filesz"] - i)
                    try:
                        pc = Pcln(elf, fake)
                        e0 = pc.entry(0)
                        if pc.nfunc and e0 and any(a <= e0 < b for a, b in ex):
                            pc.sec = fake
                            return pc
                    except (struct.error, KeyError, ValueError, TypeError):
                        pass
                i = seg.find(want, i + 1)
    return None


def find_version_string(elf, version):
    """Address of the version string in read-only data, and of a {ptr, len} header for it."""
    cands = []
    for s in elf.segs:
        if s["type"] != 1 or s["flags"] & 3:
            continue
        seg = elf.data[s["off"]:s["off"] + s["filesz"]]
        if version:
            i = seg.find(version)
            while i >= 0 and len(cands) < 50:
                cands.append((s["vaddr"] + i, len(version)))
                i = seg.find(version, i + 1)
        else:
            for m in re.finditer(rb"go1\.\d+(\.\d+)?", seg):
                cands.append((s["vaddr"] + m.start(), len(m.group())))
                if len(cands) >= 50:
                    break
    wsegs = [(s["vaddr"], elf.data[s["off"]:s["off"] + s["filesz"]]) for s in elf.segs
             if s["type"] == 1 and s["flags"] & 2]
    for a, n in cands:
        hdr = struct.pack("<QQ", a, n)
        for va, seg in wsegs:
            i = seg.find(hdr)
            if i >= 0:
                return a, n, va + i
    return (cands[0][0], cands[0][1], None) if cands else None


def find_md(elf, pc):
    """Address of runtime.moduledata, checked as src/go/gobin_pcln.c's md_check does."""
    cands = []
    want = struct.pack("<Q", pc.addr)
    for s in elf.segs:
        if s["type"] != 1 or s["flags"] & 1:
            continue
        seg = elf.data[s["off"]:s["off"] + s["filesz"]]
        i = seg.find(want)
        while i >= 0:
            if (s["vaddr"] + i) % 8 == 0:
                cands.append(s["vaddr"] + i)
            i = seg.find(want, i + 1)
    cands += [w for w, v in elf.relocs.items() if v == pc.addr]
    for x in cands:
        if pc.fmt == 12:
            if elf.ptr(x + 24) == pc.addr + pc.ftab:
                return x
        elif (elf.ptr(x + 8) == pc.addr + pc.name_lo and elf.ptr(x + 32) == pc.addr + pc.cu_lo
              and elf.ptr(x + 128) == pc.addr + pc.ftab):
            return x
    return None


def md_layout(fmt, minor):
    if fmt == 12:
        return MD_LAYOUTS[0]
    if fmt == 116:
        return MD_LAYOUTS[1]
    if fmt == 118:
        return MD_LAYOUTS[2]
    lay = MD_LAYOUTS[3]
    for m in MD_LAYOUTS:
        if minor and m[0] <= minor:
            lay = m
    return lay


def pick_funcs(pc):
    """Indices of a dozen functions worth keeping: main's, assembly, runtime, methods."""
    want_exact = [b"runtime.main", b"runtime.goexit", b"runtime.memmove", b"runtime.morestack",
                  b"runtime.rt0_go", b"time.now", b"runtime.mcall", b"runtime.newproc",
                  b"runtime.gcWriteBarrier", b"runtime.duffzero"]
    picked, mains, other = {}, [], []
    for i in range(pc.nfunc):
        try:
            nm = pc.name(i)
        except (ValueError, struct.error):
            continue
        if nm in want_exact:
            picked[i] = nm
        elif nm.startswith(b"main.") and len(mains) < 6:
            mains.append(i)
        elif (b"[" in nm or b"(*" in nm or b".func1" in nm) and len(other) < 3:
            other.append(i)
    for i in mains + other:
        picked[i] = True
    # a few functions with argument info for tracebacks (funcdata 5)
    extra = 0
    for i in range(0, pc.nfunc, max(1, pc.nfunc // 400)):
        if extra >= 3 or len(picked) >= MAX_FUNCS:
            break
        try:
            f = pc.func(i)
        except (ValueError, struct.error, IndexError):
            continue
        if f and f["nfuncdata"] > 5 and f["funcdata"][5] not in (0, 0xffffffff):
            picked[i] = True
            extra += 1
    return sorted(picked)[:MAX_FUNCS]


class Image:
    """Chunks of an address space: (vaddr -> bytes, flags), relocations, to write as an ELF."""

    def __init__(self, elf):
        self.elf = elf
        self.chunks = []  # [vaddr, bytearray, flags]
        self.relocs = {}

    def seg_flags(self, a):
        for s in self.elf.segs:
            if s["type"] == 1 and s["vaddr"] <= a < s["vaddr"] + max(s["memsz"], 1):
                return s["flags"]
        return 4

    def copy(self, a, n, flags=None):
        """Original bytes [a, a+n), with the original's relocations."""
        data = self.elf.read(a, n)
        if not data:
            return False
        self.put(a, data, flags)
        for w, v in self.elf.relocs.items():
            if a <= w < a + len(data):
                self.relocs[w] = v
        return True

    def put(self, a, data, flags=None):
        self.chunks.append([a, bytearray(data), flags or self.seg_flags(a)])

    def ptr(self, a, v, reloc=None):
        """Store pointer v at a (in a chunk already there); a relocation if reloc or original."""
        for c in self.chunks:
            if c[0] <= a and a + 8 <= c[0] + len(c[1]):
                struct.pack_into("<Q", c[1], a - c[0], v)
        if reloc or (reloc is None and a in self.elf.relocs):
            self.relocs[a] = v

    def merged(self):
        """Chunks sorted and merged (later puts win), nearby ones joined with original bytes."""
        cs = sorted(self.chunks, key=lambda c: c[0])
        out = []
        for a, d, fl in cs:
            if out and a <= out[-1][0] + len(out[-1][1]) + 256 and out[-1][2] == fl:
                pa, pd, _ = out[-1]
                gap = a - (pa + len(pd))
                if gap > 0:
                    pd.extend(self.elf.read(pa + len(pd), gap) or bytes(gap))
                    if len(pd) < a - pa:
                        pd.extend(bytes(a - pa - len(pd)))
                end = a - pa + len(d)
                if end > len(pd):
                    pd.extend(bytes(end - len(pd)))
                out[-1][1] = pd
                continue
            out.append([a, bytearray(d), fl])
        # apply every put again in order, so that rewritten bytes win over gap fill
        for a, d, fl in self.chunks:
            for c in out:
                if c[0] <= a and a + len(d) <= c[0] + len(c[1]):
                    c[1][a - c[0]:a - c[0] + len(d)] = d
                    break
        return out

    def write(self, e_type, sections, text, extra_phdrs=(), pie_relocs=True):
        chunks = self.merged()
        segs = [(1, 5, text[0], b"", text[1] - text[0])]
        relocs = {w: v for w, v in self.relocs.items()
                  if any(c[0] <= w and w + 8 <= c[0] + len(c[1]) for c in chunks)}
        if pie_relocs and relocs:
            for c in chunks:
                for w in relocs:
                    if c[0] <= w and w + 8 <= c[0] + len(c[1]):
                        struct.pack_into("<Q", c[1], w - c[0], 0)
            top = max(c[0] + len(c[1]) for c in chunks)
            rela_addr = (top + 0xfff) & ~0xfff
            rela = b"".join(struct.pack("<QQQ", w, 8, v) for w, v in sorted(relocs.items()))
            chunks.append([rela_addr, bytearray(rela), 4])
            dyn = struct.pack("<8Q", 7, rela_addr, 8, len(rela), 9, 24, 0, 0)
            chunks.append([rela_addr + len(rela) + 8, bytearray(dyn), 6])
        for a, d, fl in chunks:
            segs.append((1, fl, a, bytes(d), None))
        if pie_relocs and relocs:
            segs.append((2, 6, chunks[-1][0], chunks[-1][1], None))
        segs.extend(extra_phdrs)
        secs = None
        if sections is not None:
            secs = []
            for name, typ, flags, a, n, link, entsize in sections:
                if typ == 8 or isinstance(n, bytes):
                    secs.append((name, typ, flags, a, n, link, 0, entsize))
                    continue
                for k, s in enumerate(segs):
                    if s[0] == 1 and s[3] and s[2] <= a and a + n <= s[2] + len(s[3]):
                        secs.append((name, typ, flags, a, ("seg", k, a - s[2], n), link, 0,
                                     entsize))
                        break
        return elf_file(e_type, segs, secs)


def type_chunks(img, elf, types, etypes, minor, taddrs):
    """Type descriptors (the 48-byte header) and their names."""
    for t in taddrs:
        if not types <= t < etypes or not img.copy(t, 48):
            continue
        b = elf.read(t, 48)
        if len(b) < 48:
            continue
        off = struct.unpack_from("<i", b, 40)[0]
        if off < 0:
            continue
        na = types + off
        nb = elf.read(na, 16)
        if not nb or len(nb) < 3:
            continue
        if minor >= 17:
            n, p = uvarint(nb, 1)
        else:
            n, p = nb[1] << 8 | nb[2], 3
        img.copy(na, min(p + n, 512))


def gobin_mini(elf, label):
    """Variants of a small ELF with elf's Go tables for a few functions; [] if not a Go binary."""
    pc = find_pcln(elf)
    if not pc:
        return []
    sec = pc.sec
    minor, version, bi_addr = go_version(elf)
    if minor is None and label.startswith("go1."):
        minor = int(label[4:])
    minor = minor or {12: 13, 116: 16, 118: 18, 120: 20}[pc.fmt]
    md = find_md(elf, pc)
    lay = md_layout(pc.fmt, minor)
    if pc.fmt >= 118:
        pc.text_field = elf.ptr(pc.addr + 24)
        if not pc.text and md:
            pc.text = elf.ptr(md + lay[1])
    idx = [i for i in pick_funcs(pc) if pc.func(i)]
    funcs = [pc.func(i) for i in idx]
    if len(funcs) < 2:
        return []
    # the last function ends where the next one of the whole table starts
    end = pc.entry(idx[-1] + 1)
    table, t = build_pcln(pc, funcs, end)

    img = Image(elf)
    img.put(pc.addr, table, 4)
    if pc.fmt >= 118 and pc.addr + 24 in elf.relocs:
        img.relocs[pc.addr + 24] = pc.text_field
    if any(pc.addr + pc.ftab <= w < pc.addr + len(pc.b) for w in elf.relocs):
        for o in t["ftab_ptrs"]:  # PIE before Go 1.18: entries are relocated pointers
            img.relocs[pc.addr + o] = struct.unpack_from("<Q", table, o)[0]
    gofunc = None
    types = etypes = 0
    tl_sec = None
    if md:
        img.copy(md, MD_BYTES, 6)
        img.ptr(md, pc.addr)
        if pc.fmt == 12:
            img.ptr(md + 24, pc.addr + t["ftab"])
        else:
            # funcnametab, cutab, filetab, pctab, pclntable, ftab slices
            for o, lo, n in ((8, t["name_lo"], t["nnames"]), (32, t["cu_lo"], t["ncu"]),
                             (56, t["file_lo"], t["nfilet"]), (80, t["pc_lo"], t["npctab"]),
                             (104, 0, len(table)), (128, t["ftab"], len(funcs) + 1)):
                img.ptr(md + o, pc.addr + lo)
                img.ptr(md + o + 8, n, False)
                img.ptr(md + o + 16, n, False)
        if lay[5] is not None:
            img.ptr(md + lay[5], pc.addr + len(table))
        types, etypes = elf.ptr(md + lay[2]) or 0, elf.ptr(md + lay[3]) or 0
        gofunc = elf.ptr(md + lay[4]) if lay[4] is not None else None
        taddrs = []
        if lay[6] is not None:
            tl, tn = elf.ptr(md + lay[6]), elf.ptr(md + lay[6] + 8)
            raw = elf.read(tl, min(tn, 4096) * 4) if tl else None
            if raw:
                offs = [struct.unpack_from("<i", raw, 4 * k)[0] for k in range(len(raw) // 4)]
                keep = offs[:: max(1, len(offs) // 24)][:24]
                img.put(tl, b"".join(struct.pack("<i", o) for o in keep), 4)
                img.ptr(md + lay[6] + 8, len(keep), False)
                img.ptr(md + lay[6] + 16, len(keep), False)
                taddrs = [types + o for o in keep]
                tl_sec = (tl, 4 * len(keep))
        elif lay[7] is not None:
            io, isz = elf.ptr(md + lay[7]), elf.ptr(md + lay[8])
            a, stop, n = types + io, types + io + min(isz, 2048), 0
            while a + 32 <= stop:
                inter, typ = elf.ptr(a), elf.ptr(a + 8)
                nm = elf.ptr(inter + 64) if inter else None
                if nm is None or nm > 4096:
                    break
                taddrs += [inter, typ]
                img.copy(inter, 72)
                a += 24 + 8 * (nm or 1)
            img.copy(types + io, a - types - io)
            img.ptr(md + lay[8], a - types - io, False)
        type_chunks(img, elf, types, etypes, minor, taddrs)
    for f in funcs:
        if f["nfuncdata"] > 5:
            raw = f["funcdata"][5]
            if pc.fmt >= 118 and gofunc and raw != 0xffffffff:
                img.copy(gofunc + raw, 64)
            elif pc.fmt < 118 and raw:
                img.copy(raw, 64)
    bi = None
    if bi_addr is not None:
        h = elf.read(bi_addr, 32)
        if h[15] & 2:
            n, p = uvarint(elf.read(bi_addr, 64), 32)
            blob = elf.read(bi_addr, 4096)
            n2, q = uvarint(blob, p + n)
            bi = (bi_addr, q + n2)
            img.copy(bi_addr, q + n2, 6)
        else:
            img.copy(bi_addr, 32, 6)
            for k in (16, 24):
                sp = elf.ptr(bi_addr + k)
                if sp:
                    img.copy(sp, 16)
                    img.copy(elf.ptr(sp) or 0, min(elf.ptr(sp + 8) or 0, 4096))
            bi = (bi_addr, 32)
    # the version string, for the variant without build info
    vstr = find_version_string(elf, version)
    vimg_chunks = []
    if vstr:
        vimg_chunks.append((vstr[0] - 8, vstr[1] + 16, 4))
        if vstr[2]:
            vimg_chunks.append((vstr[2], 16, 6))
    if not bi:
        for a, n, fl in vimg_chunks:
            img.copy(a, n, fl)

    syms = elf.symbols()
    text = next(((a, b) for a, b in elf.exec_range() if a <= funcs[0]["entry"] < b),
                (funcs[0]["entry"], end))

    def symtab():
        if not syms:
            return None
        strtab, entries = bytearray(b"\0"), [bytes(24)]

        def add(name, value, size, typ):
            entries.append(struct.pack("<IBBHQQ", len(strtab), 0x10 | typ, 0, 1, value, size))
            strtab.extend(name + b"\0")

        for f in funcs:
            for nm in (f["name"], f["name"] + b".abi0"):
                if nm.decode("latin-1") in syms:
                    add(nm, syms[nm.decode("latin-1")][0], 0, 2)
        for nm in ("runtime.text", "runtime.etext", "runtime.firstmoduledata",
                   "runtime.tlsg", "runtime.buildVersion"):
            if nm in syms:
                v = syms[nm]
                add(nm.encode(), v[0], v[1], v[2])
        return b"".join(entries), bytes(strtab)

    extra = []
    for s in elf.segs:
        if s["type"] == 3:  # PT_INTERP
            extra.append((3, 4, s["vaddr"], b"/lib64/ld-linux-x86-64.so.2\0", None))
        elif s["type"] == 7:  # PT_TLS
            extra.append((7, 4, s["vaddr"], b"", s["memsz"]))

    def sections(with_bi, with_sym):
        out = [(".text", 8, 6, text[0], text[1] - text[0], 0, 0)]
        if sec["name"]:
            out.append((sec["name"], 1, 2, pc.addr, len(table), 0, 0))
        if tl_sec:
            out.append((".typelink", 1, 2, tl_sec[0], tl_sec[1], 0, 0))
        if with_bi and bi:
            out.append((".go.buildinfo", 1, 3, bi[0], bi[1], 0, 0))
        if md and elf.section(".go.module") and elf.section(".go.module")["addr"] == md:
            out.append((".go.module", 1, 3, md, MD_BYTES, 0, 0))
        elif md:
            out.append((".noptrdata", 1, 3, md, MD_BYTES, 0, 0))
        st = symtab() if with_sym else None
        if st:
            # sh_link: .strtab, next; section 0 is the null section
            out.append((".symtab", 2, 0, 0, st[0], len(out) + 2, 24))
            out.append((".strtab", 3, 0, 0, st[1], 0, 0))
        return out

    variants = []
    variants.append(("mini", img.write(elf.e_type, sections(True, True), text, extra)))
    variants.append(("noshdr", img.write(elf.e_type, None, text, extra)))
    if syms:
        variants.append(("nosym", img.write(elf.e_type, sections(True, False), text, extra)))
    if bi:
        nb = Image(elf)
        nb.chunks = [c for c in img.chunks if not (bi[0] <= c[0] < bi[0] + bi[1])]
        nb.relocs = dict(img.relocs)
        for a, n, fl in vimg_chunks:
            nb.copy(a, n, fl)
        variants.append(("nobuildinfo", nb.write(elf.e_type, sections(False, False), text,
                                                 extra)))
    return variants


def gobin_seeds(corpus, bins):
    small = []
    for label, path in bins:
        try:
            elf = Elf(path)
            vs = gobin_mini(elf, label)
        except (ValueError, struct.error, IndexError, KeyError, TypeError) as e:
            print(f"seeds: gobin: {label}: skipped ({type(e).__name__}: {e})", file=sys.stderr)
            continue
        for name, data in vs:
            corpus.add(f"{label}-{name}", data)
            if name == "mini":
                small.append((label, data))
    for label, data in small[::3]:
        mutations(label, data, corpus)
    # not Go, not amd64, not ELF: the early exits
    corpus.add("empty", b"")
    corpus.add("notelf", b"#!/bin/sh\necho hi\n")
    hdr = bytearray(elf_file(2, [(1, 5, 0x400000, b"\xc3", None)], []))
    corpus.add("notgo", bytes(hdr))
    hdr[18] = 183  # EM_AARCH64
    corpus.add("arm64", bytes(hdr))


# ---------------------------------------------------------------------------
# godwarf: the DWARF of a few functions and of every DIE they refer to

FIXED = {0x01: 8, 0x05: 2, 0x06: 4, 0x07: 8, 0x0b: 1, 0x0c: 1, 0x0e: 4, 0x10: 4, 0x11: 1,
         0x12: 2, 0x13: 4, 0x14: 8, 0x17: 4, 0x19: 0, 0x1c: 4, 0x1d: 4, 0x1e: 16, 0x1f: 4,
         0x20: 8, 0x21: 0, 0x25: 1, 0x26: 2, 0x27: 3, 0x28: 4, 0x29: 1, 0x2a: 2, 0x2b: 3,
         0x2c: 4}
ULEB = {0x0f, 0x15, 0x1a, 0x1b, 0x22, 0x23}
REFS = {0x10: 4, 0x11: 1, 0x12: 2, 0x13: 4, 0x14: 8}  # ref_addr is absolute, others CU-relative
DW_TAG_subprogram = 0x2e
DW_AT_name = 0x03
DWARF_BUDGET = 48000


def sleb_skip(b, i):
    while b[i] & 0x80:
        i += 1
    return i + 1


def parse_abbrevs(b, off):
    out = {}
    while True:
        code, off = uvarint(b, off)
        if code == 0:
            return out
        tag, off = uvarint(b, off)
        children = b[off]
        off += 1
        attrs = []
        while True:
            at, off = uvarint(b, off)
            form, off = uvarint(b, off)
            if form == 0x21:
                off = sleb_skip(b, off)
            if at == 0 and form == 0:
                break
            attrs.append((at, form))
        out[code] = (tag, children, attrs)


class Top:
    """A child of a compile unit's DIE, with its subtree: [off, end)."""

    def __init__(self, off, tag, name, unit):
        self.off, self.tag, self.name, self.unit = off, tag, name, unit
        self.end = None
        self.refs = []  # (position, form, absolute target)


def parse_info(info, abbrev):
    """The units of .debug_info, each with its CU DIE and its top-level DIEs."""
    units, off = [], 0
    while off + 11 <= len(info):
        length = struct.unpack_from("<I", info, off)[0]
        if length >= 0xfffffff0:
            break
        end = off + 4 + length
        version = struct.unpack_from("<H", info, off + 4)[0]
        hdr = 12 if version >= 5 else 11
        abbrev_off = struct.unpack_from("<I", info, off + (8 if version >= 5 else 6))[0]
        abbrevs = parse_abbrevs(abbrev, abbrev_off)
        unit = dict(start=off, hdr=hdr, end=end, tops=[], cu_end=None, close=None)
        p, depth, top = off + hdr, 0, None
        while p < end:
            start = p
            code, p = uvarint(info, p)
            if code == 0:
                depth -= 1
                if depth == 0:  # the end of the CU DIE's children
                    unit["close"] = start
                    break
                continue
            tag, children, attrs = abbrevs[code]
            name = None
            if depth == 1:
                if top:
                    top.end = start
                top = Top(start, tag, None, unit)
                unit["tops"].append(top)
            for at, form in attrs:
                while form == 0x16:
                    form, p = uvarint(info, p)
                if form in REFS:
                    n = REFS[form]
                    v = int.from_bytes(info[p:p + n], "little")
                    if top and depth >= 1:
                        top.refs.append((p, form, v if form == 0x10 else off + v))
                    p += n
                elif form in FIXED:
                    p += FIXED[form]
                elif form == 0x0d:
                    p = sleb_skip(info, p)
                elif form in ULEB:
                    p = uvarint(info, p)[1]
                elif form == 0x08:
                    q = info.index(b"\0", p)
                    if at == DW_AT_name:
                        name = info[p:q]
                    p = q + 1
                elif form in (0x09, 0x18):
                    n, p = uvarint(info, p)
                    p += n
                elif form == 0x0a:
                    p += 1 + info[p]
                elif form == 0x03:
                    p += 2 + struct.unpack_from("<H", info, p)[0]
                elif form == 0x04:
                    p += 4 + struct.unpack_from("<I", info, p)[0]
                else:
                    raise ValueError(f"DWARF form {form:#x}")
            if depth == 0:
                unit["cu_end"] = p
                unit["name"] = name
            elif depth == 1:
                top.name = name
            if children:
                depth += 1
            elif depth == 0:
                break
        if top:
            top.end = unit["close"] if unit["close"] is not None else end
        if unit["cu_end"] is not None:
            units.append(unit)
        off = end
    return units


def dwarf_closure(units, picks, budget):
    """picks (Top) and every subtree they refer to, picks added while within budget."""
    tops = sorted((t for u in units for t in u["tops"]), key=lambda t: t.off)
    starts = [t.off for t in tops]

    def owner(target):
        i = bisect.bisect_right(starts, target) - 1
        if i >= 0 and target < tops[i].end:
            return tops[i]
        return None

    kept, size = set(), 0
    for p in picks:
        new, todo = set(), [p]
        while todo:
            t = todo.pop()
            if t in kept or t in new:
                continue
            new.add(t)
            for _, _, target in t.refs:
                o = owner(target)
                if o:
                    todo.append(o)
        add = sum(t.end - t.off for t in new)
        if size + add <= budget or not kept:
            kept |= new
            size += add
    return kept, owner


def dwarf_write(info, units, kept, owner):
    """A .debug_info of the kept subtrees, in their units, with references moved."""
    out = bytearray()
    newpos, unit_new, spans = {}, {}, []
    for u in units:
        mine = [t for t in u["tops"] if t in kept]
        if not mine:
            continue
        ustart = len(out)
        unit_new[u["start"]] = ustart
        out += info[u["start"]:u["cu_end"]]
        for t in mine:
            newpos[t] = len(out)
            spans.append((t, len(out), ustart))
            out += info[t.off:t.end]
        out.append(0)
        struct.pack_into("<I", out, ustart, len(out) - ustart - 4)
    for t, at, ustart in spans:
        for pos, form, target in t.refs:
            o = owner(target)
            if o in newpos:
                new = newpos[o] + target - o.off
            elif target in unit_new:
                new = unit_new[target]
            else:
                continue
            v = new if form == 0x10 else new - ustart
            n = REFS[form]
            if v < 1 << (8 * n):
                out[at + pos - t.off:at + pos - t.off + n] = v.to_bytes(n, "little")
    return bytes(out)


def compress_chdr(data):
    return struct.pack("<IIQQ", 1, 0, len(data), 1) + zlib.compress(data, 9)


def compress_zdebug(data):
    return b"ZLIB" + struct.pack(">Q", len(data)) + zlib.compress(data, 9)


def godwarf_mini(elf):
    secs = {}
    for s in elf.sections:
        for pre in (".debug_", ".zdebug_"):
            if s["name"].startswith(pre):
                secs[s["name"][len(pre):]] = elf.section_data(s)
    if "info" not in secs or "abbrev" not in secs:
        return []
    info, abbrev = secs["info"], secs["abbrev"]
    units = parse_info(info, abbrev)
    subs = [t for u in units if u.get("name") == b"main" for t in u["tops"]
            if t.tag == DW_TAG_subprogram]
    other = [t for u in units if u.get("name") not in (b"main", b"runtime") for t in u["tops"]
             if t.tag == DW_TAG_subprogram][::97][:8]
    if not subs and not other:
        return []
    out = []
    for k, picks in enumerate((subs, subs[::-1] + other)):
        kept, owner = dwarf_closure(units, picks, DWARF_BUDGET)
        sub = dwarf_write(info, units, kept, owner)
        extra = {n: d for n, d in secs.items() if n in ("str", "line_str", "str_offsets", "addr")
                 and len(d) <= 16384}
        plain = [(".debug_abbrev", abbrev), (".debug_info", sub)] + \
            [(".debug_" + n, d) for n, d in sorted(extra.items())]
        # sections luprobe hides from libdw, present but empty
        hidden = [(".debug_line", b""), (".debug_ranges", b""), (".debug_frame", b"")]
        mk = lambda ss, flags=0: elf_file(2, [], [(n, 1, flags, 0, d, 0, 0, 0) for n, d in ss])
        out.append((f"plain{k}", mk(plain + (hidden if k else []))))
        if k == 0:
            out.append(("chdr", mk([(n, compress_chdr(d)) for n, d in plain], 0x800)))
            out.append(("zdebug", mk([(".z" + n[1:], compress_zdebug(d)) for n, d in plain])))
    return out


def godwarf_seeds(corpus, bins):
    for label, path in bins:
        try:
            vs = godwarf_mini(Elf(path))
        except (ValueError, struct.error, IndexError, KeyError, zlib.error) as e:
            print(f"seeds: godwarf: {label}: skipped ({type(e).__name__}: {e})", file=sys.stderr)
            continue
        for name, data in vs:
            corpus.add(f"{label}-{name}", data)
            if name == "plain0":
                mutations(label, data, corpus, n=3)
    corpus.add("empty", b"")
    corpus.add("nodwarf", elf_file(2, [], [(".text", 1, 6, 0, b"\xc3", 0, 0, 0)]))


# ---------------------------------------------------------------------------
# lua: script text


LUA_SNIPPETS = [
    "local p = probe{ func = 'main.f', args = { 'n' }, ret = true }\n"
    "on_event(p, function(e) return e.args.n end)\nattach()",
    "every(10, function() luprobe.now() end) after(1, function() exit(2) end)",
    "on_exit(function() local s = luprobe.stats() end)",
    "local co = coroutine.wrap(function() while true do coroutine.yield(1) end end)\n"
    "for i = 1, 100 do co() end",
    "setmetatable({}, { __gc = function(o) local x = o end }) collectgarbage()",
    "local t = setmetatable({}, { __index = function(t, k) return k end }) return t.x",
    "local ok, err = pcall(error, { code = 1 }) assert(not ok)",
    "local f = load('return 1 + 1') assert(f() == 2)",
    "local p = probe 'main.f' p:disable() p:enable() local n = p.events",
    "local s = string.rep('x', 1000) for i = 1, 10 do s = s .. s end",
    # probes of tests/go/types, which the fuzzer resolves them in: events of every kind
    "local n, h = 0, {}\n"
    "for _, f in ipairs{'main.fInts', 'main.fUints', 'main.fFloats', 'main.fComplex',\n"
    "    'main.fString', 'main.fBytes', 'main.fIntSlice', 'main.fArray', 'main.fPtrs',\n"
    "    'main.fSmall', 'main.fBig', 'main.fRequest', 'main.fError', 'main.fAny',\n"
    "    'main.fStringer', 'main.fMap', 'main.fChan', 'main.fFunc', 'main.fMulti',\n"
    "    'main.fNamed', 'main.fNode', 'main.fOuter', 'main.fCelsius', 'main.fPair'} do\n"
    "  on_event(probe{ func = f, ret = true }, function(e)\n"
    "    local s = tostring(e) .. e:json()\n"
    "    for k, v in pairs(e.args) do s = s .. k .. tostring(v) end\n"
    "    for k, v in pairs(e.ret or {}) do s = s .. tostring(v) end\n"
    "    h[e.func] = (h[e.func] or 0) + (e.latency or 0) n = n + #s\n"
    "  end)\n"
    "end",
    "local p = probe{ func = 'main.fBig', args = { 'b.A', 'b.B', 'b.D' }, ret = true }\n"
    "on_event(p, function(e) return tostring(e.args['b.B']) end)\n"
    "local q = probe 'main.fRequest' q:count() q:hist('latency')\n"
    "on_event(probe{ func = 'main.fMulti', ret = true }, function(e) local r = e.ret end)\n"
    "on_event(probe 'main.(*Counter).Add', function(e) print(e) end)",
]


def e2e_scripts():
    """The Lua of tests/e2e/*.py: its string constants that look like scripts."""
    import ast

    out = []
    d = os.path.join(ROOT, "tests", "e2e")
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if not name.endswith(".py"):
            continue
        with open(os.path.join(d, name), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                # an f-string: its literal parts with {...} left as they are
                text = "".join(v.value if isinstance(v, ast.Constant) else "1"
                               for v in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if len(text) <= 4096 and re.search(r"\b(probe|on_event|on_exit|every)\s*[({'\"]", text):
                out.append((name[:-3], text))
    return out


def lua_seeds(corpus):
    for d in ("scripts", os.path.join("lua", "luprobe")):
        path = os.path.join(ROOT, d)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            if name.endswith(".lua"):
                with open(os.path.join(path, name), "rb") as f:
                    data = f.read()
                if len(data) <= 4096:
                    corpus.add(name, data)
    for i, text in enumerate(LUA_SNIPPETS):
        corpus.add(f"snippet{i}", text.encode())
    # the probes of tests/go/types again, with event bytes after a NUL: records
    # (a u16 length, the lp_rec header, data) of each kind, flags and faults
    events = b""
    for k in range(8):
        data = bytes((i * 29 + k * 7) & 0xff for i in range(32 + 48 * k))
        hdr = struct.pack("<HHHHIIIiQQQQQQ", 1 + k % 3, (1 << k % 6) & 0x1f, 0, 0, 0, 1000 + k,
                          1000 + k, -1, 10**9 * k, 1000 * k, k + 1, (0x5 << k) if k % 2 else 0,
                          0, 0)
        rec = hdr + data
        events += struct.pack("<H", len(rec)) + rec
    for i in (len(LUA_SNIPPETS) - 2, len(LUA_SNIPPETS) - 1):
        corpus.add(f"snippet{i}-events", LUA_SNIPPETS[i].encode() + b"\0" + events)
    for i, (test, text) in enumerate(e2e_scripts()):
        corpus.add(f"{test}-{i}", text.encode())


# ---------------------------------------------------------------------------


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py OUTDIR")
    outdir = sys.argv[1]
    bins = go_targets() + release_bins()
    # nothing to do when this script and the binaries are those of the last run
    h = hashlib.sha1(open(os.path.abspath(__file__), "rb").read())
    for label, path in bins:
        st = os.stat(path)
        h.update(f"{label} {path} {st.st_size} {st.st_mtime_ns}\n".encode())
    stamp = os.path.join(outdir, ".stamp")
    try:
        with open(stamp) as f:
            if f.read() == h.hexdigest():
                return
    except OSError:
        pass
    counts = {}
    for target, fn in (("typespec", typespec_seeds), ("predicate", predicate_seeds),
                       ("lua", lua_seeds),
                       ("gobin", lambda c: gobin_seeds(c, bins)),
                       ("godwarf", lambda c: godwarf_seeds(c, bins))):
        c = Corpus(outdir, target)
        fn(c)
        counts[target] = len(c)
    with open(stamp, "w") as f:
        f.write(h.hexdigest())
    print("seeds: " + ", ".join(f"{t} {n}" for t, n in counts.items()) +
          f" (from {len(bins)} binaries)")


if __name__ == "__main__":
    main()
