# SPDX-License-Identifier: BSD-2-Clause
"""Any Go binary — stripped, PIE, cgo, every Go release from 1.13 —
names and globs, one event per call, -l, --info, and malformed binaries."""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile

from lib import (Skip, each_toolchain, expect, expect_eq, free_port, gobin, http_get, luprobe,
                 release_bin, run, toolchain_go, write_script)

TORTURE_ARGS = ["-goroutines", "20", "-rounds", "5"]
COUNT_SCRIPT = """
local n = 0
local p = probe{ func = %r, args = false }
p:on_event(function(e) n = n + 1 end)
on_exit(function()
	local st = luprobe.stats()
	print("events " .. n .. " morestack " .. st.morestack .. " funcs " .. #p:funcs())
end)
"""


def _untraced(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "GOMAXPROCS": "2"})
    return p.returncode, p.stdout


def _count(binary, func, extra, tmp):
    script = write_script(tmp, "count.lua", COUNT_SCRIPT % func)
    code, lines, err = run("-q", script, "--", binary, *extra, timeout=120,
                           env={**os.environ, "GOMAXPROCS": "2"})
    m = re.match(r"events (\d+) morestack (\d+) funcs (\d+)", lines[-1] if lines else "")
    expect(m, f"summary line missing: {lines[-3:]} {err}")
    return code, lines[:-1], int(m.group(1)), int(m.group(2)), int(m.group(3))


@each_toolchain
def test_recursion_growing_the_stack_gives_one_event_per_call():
    for variant, depth in (("default", 10000), ("stripped", 30000)):
        binary = gobin("torture", variant)
        argv = [binary, "-depth", str(depth), *TORTURE_ARGS]
        want_code, want_out = _untraced(argv)
        with tempfile.TemporaryDirectory() as d:
            code, out, events, morestack, _ = _count(binary, "main.recurse", argv[1:], d)
        expect_eq(code, want_code, f"{variant}: exit code")
        expect_eq(out, want_out.splitlines(), f"{variant}: output identical to an untraced run")
        expect_eq(events, depth + 1, f"{variant}: events for recurse({depth})")
        # the stack grew while the probe was in place, so the dedup was exercised
        expect(morestack > 0, f"{variant}: no morestack pass seen at the entry site")


def test_every_go_release_traces_main_main_on_goroutine_1():
    labels = ["go1.13", "go1.14", "go1.15", "go1.16", "go1.17", "go1.18", "go1.19", "go1.20",
              "go1.21", "go1.22", "go1.23", "go1.24", "go1.25", "go1.26", "go1.27"]
    tried = 0
    with tempfile.TemporaryDirectory() as d:
        js = write_script(d, "in.js", "let x = 1\n")
        for label in labels:
            try:
                binary = release_bin(label)
            except Skip:
                continue
            tried += 1
            name = os.path.basename(binary)
            argv = {"esbuild": [binary, js], "lefthook": [binary, "version"],
                    "buf": [binary, "--version"]}[name]
            want_code, want_out = _untraced(argv)
            code, lines, err = run("-q", "-e", 'probe{ func = "main.main", args = false }', "--",
                                   *argv, timeout=60)
            expect_eq(code, want_code, f"{label}: exit code")
            traced = [ln for ln in lines if ln.startswith("main.main(")]
            expect_eq(traced, ["main.main()  goroutine 1"], f"{label}: events ({err})")
            others = [ln for ln in lines if not ln.startswith("main.main(")]
            expect_eq(others, want_out.splitlines(), f"{label}: output unchanged")
    if not tried:
        raise Skip("no real Go binaries of other releases available")


@each_toolchain
def test_events_name_the_go_release_of_their_binary():
    script = ('probe{ func = "main.main", args = false }:on_event(function(e) '
              'print("goversion " .. tostring(e.goversion)) end)')
    go = toolchain_go()[1]  # the Go that built the targets, as tests/go/build.sh recorded it
    cases = [(gobin("types"), [], go), (gobin("types", "stripped"), [], go)]
    with tempfile.TemporaryDirectory() as d:
        js = write_script(d, "in.js", "let x = 1\n")
        # from buildinfo (Go 1.13, 1.19, 1.27) and from the version string alone (1.25)
        for label, want in (("go1.13", "go1.13.8"), ("go1.19", None), ("go1.25", "go1.25.4"),
                            ("go1.27", None)):
            try:
                binary = release_bin(label)
            except Skip:
                continue
            argv = {"esbuild": [js], "buf": ["--version"]}[os.path.basename(binary)]
            cases.append((binary, argv, want or label))
        for binary, argv, want in cases:
            code, lines, err = run("-q", "-e", script, "--", binary, *argv, timeout=60)
            got = [ln.split()[1] for ln in lines if ln.startswith("goversion ")]
            expect(len(got) == 1 and (got[0] == want or got[0].startswith(want + ".")),
                   f"{binary}: e.goversion {got}, want {want} ({err})")


@each_toolchain
def test_glob_attaches_to_every_match():
    binary = gobin("torture")
    with tempfile.TemporaryDirectory() as d:
        code, _, events, _, funcs = _count(binary, "main.ret*", TORTURE_ARGS, d)
    expect_eq(code, 0, "exit code")
    # retInt retStr retErr retMulti retBool retSlice retStruct retPtr: 8 functions, retErr twice
    expect_eq(funcs, 8, "functions matched by main.ret*")
    expect_eq(events, 9, "calls of main.ret*")


def test_glob_with_leading_star_and_method_names():
    port = free_port()
    script = 'probe{ func = "*.ServeHTTP", args = false }'
    lp = luprobe("-e", script, "--", gobin("computee"), "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ")
    http_get(port, "/e?iters=5")
    lp.wait_line(r"^net/http\.HandlerFunc\.ServeHTTP\(\)")
    lp.wait_line(r"^net/http\.\(\*ServeMux\)\.ServeHTTP\(\)")
    lp.wait_line(r"^net/http\.serverHandler\.ServeHTTP\(\)")
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")


def test_exact_name_with_parentheses_star_and_slashes():
    port = free_port()
    lp = luprobe("-e", 'probe{ func = "net/http.(*ServeMux).ServeHTTP", args = { "r.URL.Path" } }',
                 "--", gobin("computee"), "-addr", f"127.0.0.1:{port}")
    lp.wait_line(r"^listening on ")
    http_get(port, "/e?iters=5")
    lp.wait_line(r'^net/http\.\(\*ServeMux\)\.ServeHTTP\(r\.URL\.Path="/e"\)')
    http_get(port, "/quit")
    expect_eq(lp.wait(20), 0, "exit code")


@each_toolchain
def test_generic_function_name_covers_every_instantiation():
    # "[...]" stands for the type arguments, which Go 1.18-1.20 name "[...]" in the
    # function table too, later releases by shape ("main.Sum[go.shape.int]")
    code, lines, err = run("-q", "-e", 'probe{ func = "main.Sum[...]", args = { "xs" } }', "--",
                           gobin("types"))
    expect_eq(code, 0, f"exit code ({err})")
    traced = [ln for ln in lines if ln.startswith("main.Sum[")]
    expect_eq(len(traced), 2, f"one event per instantiation: {traced}")
    expect(any("{10, 20, 30}" in ln for ln in traced), traced)
    expect(any("{0.25, 0.5}" in ln for ln in traced), traced)
    # a method's dictionary comes before its receiver in Go 1.19, after it from 1.20
    code, lines, err = run("-q", "--json", "-e", 'probe{ func = "main.(*Stack[...]).Push", '
                           'args = true, ret = true, deref = 2 }', "--", gobin("types"))
    expect_eq(code, 0, f"exit code ({err})")
    events = [json.loads(ln) for ln in lines if ln.startswith("{")]
    expect_eq([(e["args"]["s"]["items"], e["args"]["v"], e["ret"]["~r0"]) for e in events],
              [(["a"], "pushed", 2)], "(*Stack[string]).Push(\"pushed\") on a stack of one")
    expect(events[0]["args"][".dict"] > 0x400000, f".dict: {events[0]['args']}")
    # a call through an interface goes through a generated wrapper that calls the shape
    # instance: one event per call all the same
    code, lines, err = run("-q", "--json", "-e", 'probe{ func = "main.(*Queue[...]).Put", '
                           'args = { "v" }, ret = true }', "--", gobin("types"))
    expect_eq(code, 0, f"exit code ({err})")
    expect_eq([(e["args"]["v"], e["ret"]["~r0"]) for e in
               (json.loads(ln) for ln in lines if ln.startswith("{"))],
              [("queued", 1), ("direct", 2)], "putter.Put(\"queued\"), then q.Put(\"direct\")")


@each_toolchain
def test_a_glob_over_a_generic_method_and_its_wrapper_sees_each_call_once():
    # "main.(*Queue*" matches the shape instance and the wrapper that calls through an
    # interface go through (Go 1.19 names both "main.(*Queue[...]).Put", 1.26 the
    # wrapper "main.(*Queue[string]).Put"): the wrapper is left out, as with "[...]"
    code, lines, err = run("-q", "--json", "-e", 'probe{ func = "main.(*Queue*" }', "--",
                           gobin("types"))
    expect_eq((code, err), (0, ""), "exit code and messages")
    events = [json.loads(ln) for ln in lines if ln.startswith("{")]
    expect_eq([(e["func"].startswith("main.(*Queue["), e["args"].get("v")) for e in events],
              [(True, "queued"), (True, "direct")], f"one event per call: {events}")


def test_glob_over_the_limit_is_refused():
    binary = gobin("computee")
    code, _, err = run("-e", 'probe{ func = "net/*", limit = 10 }', "--", binary)
    expect(code != 0, "non-zero exit")
    m = re.fullmatch(r"luprobe: \(command line\):1: net/\*: matches (\d+) functions in (\S+), "
                     r"more than the limit of 10; narrow the pattern or raise limit=\n", err)
    expect(m and int(m.group(1)) > 10 and m.group(2) == binary, repr(err))


def test_glob_matching_nothing():
    binary = gobin("computee")
    code, _, err = run("-e", 'probe{ func = "main.nothing*" }', "--", binary)
    expect(code != 0, "non-zero exit")
    expect_eq(err, f"luprobe: (command line):1: main.nothing*: no function matches in {binary}\n",
              "stderr")


@each_toolchain
def test_list_functions_with_addresses_and_parameters():
    binary = gobin("computee")
    code, lines, _ = run("-l", binary, "main.*")
    expect_eq(code, 0, "exit code")
    nm = subprocess.run(["go", "tool", "nm", binary], capture_output=True, text=True).stdout
    addr = int(re.search(r"^\s*([0-9a-f]+) T main\.computeE$", nm, re.M).group(1), 16)
    expect(f"0x{addr:<10x} main.computeE(iterations int64) float64  # DWARF" in lines, lines)
    code, lines, _ = run("-l", gobin("computee", "stripped"), "main.compute*")
    expect_eq(lines, [f"0x{addr:<10x} main.computeE(a0)  # layout only"],
              "stripped: the layout the binary records")


@each_toolchain
def test_info_describes_each_build():
    want = {
        "default": {"go": toolchain_go()[1] + " (from buildinfo)", "pie": "no",
                    "linking": "static", "cgo": "no",
                    "symtab": "yes", "dwarf": "yes", "buildinfo": "yes"},
        "stripped-pie": {"pie": "yes", "symtab": "no", "dwarf": "no", "buildinfo": "yes"},
        "cgo": {"linking": "dynamic", "cgo": "yes", "symtab": "yes"},
        "cgo-pie": {"pie": "yes", "cgo": "yes", "symtab": "no"},
    }
    for variant, fields in want.items():
        code, lines, _ = run("--info", gobin("computee", variant))
        expect_eq(code, 0, f"{variant}: exit code")
        info = dict(re.match(r"(\w+):\s+(.*)", ln).groups() for ln in lines)
        for k, v in fields.items():
            expect(info.get(k, "").startswith(v), f"{variant}: {k}: {info.get(k)!r}, want {v!r}")
        expect_eq(info["abi"].split()[0], "register", f"{variant}: abi")
    try:
        b = release_bin("go1.25")
    except Skip:
        return
    code, lines, _ = run("--info", b)
    expect("go:         go1.25.4 (from version string)" in lines, lines)
    expect("buildinfo:  no" in lines, lines)
    code, lines, _ = run("--info", release_bin("go1.14"))
    expect("abi:        stack (ABI0)" in lines, lines)


def test_malformed_binaries_get_one_clear_message():
    src = gobin("computee", "stripped")
    with tempfile.TemporaryDirectory() as d:
        short = os.path.join(d, "short")
        with open(src, "rb") as f, open(short, "wb") as g:
            g.write(f.read(4096))
        arm = os.path.join(d, "arm64")
        shutil.copy(src, arm)
        with open(arm, "r+b") as f:
            f.seek(18)
            f.write(struct.pack("<H", 183))  # EM_AARCH64
        cases = [
            (short, f"luprobe: {short}: truncated or corrupted ELF file (section names past end "
                    "of file)"),
            (arm, f"luprobe: {arm}: built for arm64; luprobe traces amd64 binaries only"),
            ("/bin/ls", "luprobe: /bin/ls: not a Go binary (no Go function table found)"),
            (d, f"luprobe: {d}: is a directory"),
        ]
        for path, msg in cases:
            for args in (["--info", path], ["-l", path]):
                code, _, err = run(*args)
                expect(code != 0, f"non-zero exit for {args}")
                expect_eq(err.splitlines(), [msg], f"stderr of {args}")
