# SPDX-License-Identifier: BSD-2-Clause
"""An argument's memory read at return, bounded by a result: `args = { "b[:n]" }`.
`Read(b []byte) (n int, err error)` fills b during the call, so its bytes are
not there at entry. The slice's words are kept with the call's entry state,
n is read at the RET and the bytes are copied there, in the kernel, as Go's
b[:n] would give them: at most strcap bytes, the rest counted; an n below 0
or above cap(b) (where Go would panic) and memory that is not mapped read as
unreadable. tests/go/bounded makes one call per case, in order, through a Go
method (register ABI) and through an assembly function (stack ABI, as Go code
before 1.17 is); esbuild of Go 1.13-1.16 (stack ABI, stripped) reads files."""
import json
import os
import re
import tempfile

from lib import each_toolchain, expect, expect_eq, gobin, release_bin, run

TAIL = re.compile(r"  [0-9.]+[µmn]?s  goroutine \d+$")
FILE_TEXT = "hello from a file, read by os.File.Read\n"

# (b[:n], results) of tests/go/bounded's calls, in order
CASES = [
    ('[]byte("hello, world")', "(12, nil)"),
    ('[]byte("0123456789")', "(10, nil)"),  # n > len(b), n <= cap(b)
    ("?", "(17, nil)"),  # n > cap(b)
    ("?", '(-1, *errors.errorString("negative count"))'),  # NEG
    ("?", "(1099511627776, nil)"),  # a huge n
    ("[]uint8(nil)", "(0, nil)"),  # nil[:0]
    ("?", "(3, nil)"),  # nil[:3]
    ('[]byte("' + "x" * 64 + '"...+36 more)', "(100, nil)"),  # strcap
    ("?", "(4, nil)"),  # at an unmapped address
    ('[]byte("")', "(0, nil)"),
]
NEG = '(-1, *errors.errorString("negative count"))'
FILE_READS = [f'os.(*File).Read(b[:n]=[]byte("{FILE_TEXT.encode("unicode_escape").decode()}"))'
              " = (40, nil)",
              'os.(*File).Read(b[:n]=[]byte("")) = (0, *errors.errorString("EOF"))']


def _file():
    fd, path = tempfile.mkstemp(prefix="luprobe-bounded-")
    with os.fdopen(fd, "w") as f:
        f.write(FILE_TEXT)
    return path


def _events(variant, script, *opts):
    path = _file()
    try:
        code, lines, err = run("-q", *opts, "-e", script, "--", gobin("bounded", variant),
                               "-file", path)
    finally:
        os.unlink(path)
    expect_eq(code, 0, f"{variant}: exit code ({err[-400:]})")
    expect_eq(err, "", "stderr")
    return [TAIL.sub("", ln) for ln in lines if ln != "done"]


def _want(name):
    return [f"main.(*source).Read({name}={v}) = {r}" for v, r in CASES] + FILE_READS


@each_toolchain
def test_read_fills_its_argument_captured_at_return():
    script = ('probe{ func = "main.(*source).Read", args = { "b[:n]" }, ret = true } '
              'probe{ func = "os.(*File).Read", args = { "b[:n]" }, ret = true }')
    expect_eq(_events("default", script), _want("b[:n]"), "events")


@each_toolchain
def test_read_at_return_on_a_stripped_build():
    """The stripped build: main.(*source).Read typed by its runtime type descriptors
    (arguments a0, a1, results ~r0, ~r1), os.(*File).Read by the std table."""
    script = ('probe{ func = "main.(*source).Read", args = { "a1[:~r0]" }, ret = true } '
              'probe{ func = "os.(*File).Read", args = { "b[:n]" }, ret = true }')
    expect_eq(_events("stripped", script), _want("a1[:~r0]"), "events")


@each_toolchain
def test_read_at_return_on_the_stack_abi_declared():
    """main.passAsm is assembly (ABI0: arguments and results on the stack) with no
    DWARF parameters: declared, with b[:r] among the declarations, default and stripped."""
    script = ('probe{ func = "main.passAsm", args = { {"b", "[]byte"}, {"n", "int"}, "b[:r]" }, '
              'ret = { {"r", "int"}, {"err", "error"} } }')
    for variant in ("default", "stripped"):
        got = [re.sub(r"\(b=.*, n=-?\d+, ", "(", ln) for ln in _events(variant, script)]
        want = [f"main.passAsm(b[:r]={v}) = {r.replace(NEG, '(-1, nil)')}" for v, r in CASES]
        expect_eq(got, want, f"{variant}: events")


def test_read_at_return_in_release_binaries_of_the_stack_abi():
    """esbuild built by Go 1.13 to 1.16 (stack ABI, stripped: os.(*File).Read typed by
    the std table) reads its input file."""
    text = 'let greeting = "hello from esbuild";\nconsole.log(greeting)\n'
    fd, path = tempfile.mkstemp(prefix="luprobe-bounded-", suffix=".js")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        for label in ("go1.13", "go1.14", "go1.15", "go1.16"):
            code, lines, err = run("-q", "-e", 'probe{ func = "os.(*File).Read", '
                                   'args = { "b[:n]" }, ret = true, strcap = 100 }', "--",
                                   release_bin(label), path, f"--outfile={path}.out")
            expect_eq(code, 0, f"{label}: exit code ({err[-400:]})")
            got = [TAIL.sub("", ln) for ln in lines if ln.startswith("os.")]
            quoted = text.replace('"', '\\"').replace("\n", "\\n")
            # the file's content, then an EOF: some of these releases also read the
            # output of a stty they run, on another goroutine, in either order
            full = f'os.(*File).Read(b[:n]=[]byte("{quoted}")) = ({len(text)}, nil)'
            eof = 'os.(*File).Read(b[:n]=[]byte("")) = (0, *errors.errorString("EOF"))'
            expect(full in got and eof in got[got.index(full) + 1:], f"{label}: events {got}")
    finally:
        for p in (path, path + ".out"):
            if os.path.exists(p):
                os.unlink(p)


@each_toolchain
def test_read_at_return_in_lua_and_json():
    script = '''
local seen = {}
probe{ func = "main.(*source).Read", args = { "b[:n]" }, ret = true, strcap = 5 }:on_event(function(e)
  local v = e.args["b[:n]"]
  if v == luprobe.unreadable then
    seen[#seen + 1] = "?"
  elseif type(v) == "string" then
    seen[#seen + 1] = string.format("%q", v)
  else
    seen[#seen + 1] = type(v)
  end
end)
on_exit(function() print(table.concat(seen, " ")) end)
'''
    got = _events("default", script)
    want = ['"hello" "01234" ? ? ? "" ? "xxxxx" ? ""']
    expect_eq(got, want, "values in Lua (strcap 5)")
    lines = _events("default", 'probe{ func = "main.(*source).Read", args = { "b[:n]" }, '
                    'ret = true }', "--json")
    vals = [json.loads(ln)["args"]["b[:n]"] for ln in lines]
    expect_eq(vals, ["hello, world", "0123456789", None, None, None, None, None, "x" * 64,
                     None, ""], "values in JSON")


def test_read_at_return_refusals():
    binary = gobin("bounded")
    cases = [
        ('args = { "b[:n]" }',
         'main.(*source).Read: b[:n] is read when the call returns, bounded by the result n: '
         'it needs ret (true, or the results declared) and mode "call"'),
        ('args = { "b[:n]" }, ret = true, mode = "separate"',
         'main.(*source).Read: b[:n] is read when the call returns, bounded by the result n: '
         'it needs ret (true, or the results declared) and mode "call"'),
        ('args = { "s[:n]" }, ret = true',
         "main.(*source).Read: s[:n]: s is not a slice of plain values (bytes, integers, "
         "floats)"),
        ('args = { "b[:err]" }, ret = true',
         "main.(*source).Read: b[:err]: the result err is not an integer"),
        ('args = { "b[:x]" }, ret = true',
         "main.(*source).Read: b[:x]: main.(*source).Read has no result 'x'"),
        ('args = { "c[:n]" }, ret = true',
         "main.(*source).Read: c[:n]: main.(*source).Read has no parameter 'c'"),
        ('args = { "b[1:n]" }, ret = true',
         "main.(*source).Read: args: 'b[1:n]': a capture at return is written as b[:n], a "
         "slice parameter and an integer result"),
    ]
    for fields, msg in cases:
        code, lines, err = run("-e", 'probe{ func = "main.(*source).Read", %s }' % fields,
                               "--", binary)
        expect_eq(code, 1, f"{fields}: exit code")
        expect_eq(err.strip(), f"luprobe: (command line):1: {msg}", f"{fields}: message")
