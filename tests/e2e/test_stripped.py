# SPDX-License-Identifier: BSD-2-Clause
"""Stripped Go binaries (no DWARF, no symbol table) show named, typed
arguments with no declaration: standard-library functions and methods from
luprobe's signature table, struct fields from the binary's runtime type
descriptors. What they print is checked against the same program built with
DWARF and against the values the program itself passed."""
import os
import re
import tempfile

from lib import SCRIPTS, each_toolchain, expect, expect_eq, gobin, release_bin, run

STD = ["strconv.ParseInt", "strconv.ParseFloat", "strconv.Atoi", "strconv.Quote",
       "strings.Repeat", "strings.Fields", "strings.EqualFold", "net/url.Parse",
       "bytes.(*Buffer).WriteString", "time.Duration.String"]

# what the program passed and got (tests/go/stdcalls prints the same); a
# struct behind a pointer may print as its fields or as the pointer
WANT = [
    r'strconv\.ParseInt\(s="-12345", base=10, bitSize=64\) = \(-12345, nil\)',
    r'strconv\.ParseFloat\(s="2\.5", bitSize=64\) = \((2\.5|\?), nil\)',
    r'strconv\.Atoi\(s="12x"\) = \(0, \*strconv\.NumError\(0x[0-9a-f]+\)\)',
    r'strconv\.Quote\(s="tab\\there"\) = "\\"tab\\\\there\\""',
    r'strings\.Repeat\(s="ab", count=3\) = "ababab"',
    r'strings\.Fields\(s=" alpha  beta gamma "\) = \[\]string\{"alpha", "beta", "gamma"\}',
    r'strings\.EqualFold\(s="Gopher", t="GOPHER"\) = true',
    r'net/url\.Parse\(rawURL="http://example\.test:8080/a/b\?x=1"\) = '
    r'\((&\{Scheme:"http", .*Host:"example\.test:8080", Path:"/a/b", .*RawQuery:"x=1", .*\}'
    r'|\(\*net/url\.URL\)\(0x[0-9a-f]+\)), nil\)',
    r'bytes\.\(\*Buffer\)\.WriteString\(b=(&\{buf:\[\]uint8\(nil\), off:0, lastRead:0\}'
    r'|\(\*bytes\.Buffer\)\(0x[0-9a-f]+\)), s="head-"\) = \(5, nil\)',
    r'bytes\.\(\*Buffer\)\.WriteString\(b=(&\{buf:\[\]byte\("head-"\), off:0, lastRead:0\}'
    r'|\(\*bytes\.Buffer\)\(0x[0-9a-f]+\)), s="payload"\) = \(7, nil\)',
    r'time\.Duration\.String\(d=1500000000\) = "1\.5s"',
]
HEX = re.compile(r"0x[0-9a-f]+")
TAIL = re.compile(r"(  [0-9.]+[µmn]?s)?  goroutine \d+$")


def _events(variant, script):
    code, lines, err = run("-q", "-e", script, "--", gobin("stdcalls", variant))
    expect_eq(code, 0, f"{variant}: exit code ({err[-400:]})")
    return [TAIL.sub("", ln) for ln in lines if "(" in ln and " -> " not in ln
            and not ln.startswith("types ")]


@each_toolchain
def test_std_functions_on_a_stripped_build_are_named_and_typed():
    script = ("for _, f in ipairs{%s} do probe{ func = f, ret = true } end"
              % ", ".join(f'"{f}"' for f in STD))
    stripped = _events("stripped", script)
    expect_eq(len(stripped), len(WANT), f"events on the stripped build: {stripped}")
    for got, want in zip(stripped, WANT):
        expect(re.fullmatch(want, got), f"stripped: {got!r} does not match {want!r}")
    # the same program with DWARF prints the same, a struct's fields aside
    dwarf = _events("default", script)
    for got, ref in zip(stripped, dwarf):
        if "&{" in ref and "&{" not in got:
            continue
        expect_eq(HEX.sub("0x?", got), HEX.sub("0x?", ref), "stripped as with DWARF")


@each_toolchain
def test_field_paths_on_a_stripped_build_from_runtime_types():
    script = ('probe{ func = "bytes.(*Buffer).WriteString", args = { "b.off", "b.buf", "s" }, '
              'ret = true }')
    want = ['bytes.(*Buffer).WriteString(b.off=0, b.buf=[]uint8(nil), s="head-") = (5, nil)',
            'bytes.(*Buffer).WriteString(b.off=0, b.buf=[]byte("head-"), s="payload") = (7, nil)']
    expect_eq(_events("default", script), want, "with DWARF")
    expect_eq(_events("stripped", script), want, "stripped")


def test_a_declaration_that_does_not_fit_the_layout_is_refused():
    """strconv.ParseInt's first parameter is a string (two words): declaring
    it an int read garbage (s=4913271, base=6) instead of failing."""
    binary = gobin("stdcalls", "stripped")
    code, lines, err = run("-q", "-e", 'probe{ func = "strconv.ParseInt", args = '
                           '{ {"s", "int"}, {"base", "int"}, {"bitSize", "int"} } }', "--", binary)
    expect_eq(code, 1, "exit code")
    expect_eq([ln for ln in lines if ln.startswith("strconv.ParseInt(")], [], "no event")
    expect("strconv.ParseInt" in err and "{" in err, f"the message names the function and "
           f"shows the layout: {err[-400:]}")


# stripped esbuild releases from npm (tests/gobins.sh): stack ABI (1.15, 1.16)
# and register ABI; each opens the file it is given with os.OpenFile
ESBUILD = ["go1.15", "go1.16", "go1.17", "go1.18", "go1.19", "go1.20", "go1.22", "go1.23",
           "go1.25", "go1.26"]


def test_std_functions_in_stripped_releases_of_every_abi():
    """os.OpenFile(name string, flag int, perm os.FileMode) (*os.File, error)
    in esbuild built by Go 1.15 to 1.26, stripped: the name luprobe reads is
    the file esbuild was given, the flag O_RDONLY, and a result is there."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.js")
        with open(src, "w") as f:
            f.write("let x = 1; console.log(x)\n")
        want = re.compile(r'os\.OpenFile\(name="%s", flag=0, perm=0\) = '
                          r'\((&\{.*\}|\(\*os\.File\)\(0x[0-9a-f]+\)), nil\)' % re.escape(src))
        for label in ESBUILD:
            binary = release_bin(label)
            code, lines, err = run("-q", "-e", 'probe{ func = "os.OpenFile", ret = true }', "--",
                                   binary, src)
            expect_eq(code, 0, f"{label}: exit code ({err[-300:]})")
            opened = [TAIL.sub("", ln) for ln in lines if ln.startswith("os.OpenFile(")]
            expect(any(want.fullmatch(ln) for ln in opened),
                   f"{label}: no os.OpenFile of {src} in {opened}")


@each_toolchain
def test_a_method_of_a_stripped_program_typed_by_its_runtime_types():
    """main.(*ConsoleLogger).Log(msg string, level int) int of tests/go/rtypes,
    called as l.Log("x", i) through an interface: on the stripped build its
    method table types the receiver, the arguments and the result (named a0,
    a1, ... as only their types are known); the values are those DWARF gives."""
    script = 'probe{ func = "main.(*ConsoleLogger).Log", ret = true }'
    dwarf = 'main.(*ConsoleLogger).Log(c=&{prefix:"log", count:0}, msg="x", level=0) = 1'
    stripped = 'main.(*ConsoleLogger).Log(a0=&{prefix:"log", count:0}, a1="x", a2=0) = 1'
    for variant, want in (("default", dwarf), ("stripped", stripped), ("stripped-pie", stripped)):
        code, lines, err = run("-q", "-e", script, "--", gobin("rtypes", variant))
        expect_eq(code, 0, f"{variant}: exit code ({err[-300:]})")
        expect_eq([TAIL.sub("", ln) for ln in lines if ln.startswith("main.")], [want], variant)
    # a field path through the receiver's struct type, from the same descriptors
    code, lines, err = run("-q", "-e", 'probe{ func = "main.(*ConsoleLogger).Log", '
                           'args = { "a0.prefix", "a2" } }', "--", gobin("rtypes", "stripped"))
    expect_eq([TAIL.sub("", ln) for ln in lines if ln.startswith("main.")],
              ['main.(*ConsoleLogger).Log(a0.prefix="log", a2=0)'], f"field path ({err[-300:]})")


@each_toolchain
def test_list_says_where_each_signature_comes_from():
    """-l prints the best signature luprobe has for each function and its
    source; --info counts the functions each source covers."""
    cases = [("stdcalls", "default", "strconv.ParseInt",
              "strconv.ParseInt(s string, base int, bitSize int) (i int64, err error)  # DWARF"),
             ("stdcalls", "stripped", "strconv.ParseInt",
              "strconv.ParseInt(s string, base int, bitSize int) (i int64, err error)  # std table"),
             ("rtypes", "stripped", "main.(*ConsoleLogger).Log",
              "main.(*ConsoleLogger).Log(a0 *main.ConsoleLogger, a1 string, a2 int) int"
              "  # runtime types"),
             ("stdcalls", "stripped", "main.run", "main.run()  # layout only"),
             ("computee", "stripped", "main.main.func1", "main.main.func1({a0, a1}, a2)  # layout "
              "only; a closure in main.main: its captured variables are not arguments")]
    for target, variant, func, want in cases:
        code, lines, err = run("-l", gobin(target, variant), func)
        expect_eq((code, [ln.split(None, 1)[1] for ln in lines]), (0, [want]),
                  f"{target}/{variant} {func} ({err})")
    code, lines, _ = run("--info", gobin("stdcalls", "stripped"))
    cov = [ln for ln in lines if ln.startswith("signatures:")]
    m = re.fullmatch(r"signatures: (\d+) functions: 0 DWARF, (\d+) std table, (\d+) runtime types, "
                     r"(\d+) layout only, (\d+) none", cov[0] if cov else "")
    expect(m and sum(map(int, m.groups()[1:])) == int(m.group(1)) and int(m.group(2)) > 50
           and int(m.group(3)) > 10, f"--info: {cov}")


QUOTED = ('strconv.appendQuotedWith(buf=[]byte(""), s="-12345", quote=34, ASCIIonly=false, '
          'graphicOnly=false)')


def _quoted(*args, env=None):
    """The first strconv.appendQuotedWith event (an unexported function: only
    DWARF names its arguments) of the stdcalls build with a GNU build id."""
    code, lines, err = run("-q", *args, "--", gobin("stdcalls", "debug-stripped"), env=env)
    first = [TAIL.sub("", ln) for ln in lines if ln.startswith("strconv.appendQuotedWith(")][:1]
    return code, first, err


@each_toolchain
def test_a_separate_debug_file_by_build_id_option_or_probe():
    probe = 'probe{ func = "strconv.appendQuotedWith" }'
    debug = gobin("stdcalls", "debug")
    code, first, err = _quoted("-e", probe)
    expect(code == 0 and first and first[0].startswith("strconv.appendQuotedWith(a0="),
           f"without a debug file: raw words ({first} {err[-300:]})")
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, ".build-id", "6c"))
        os.symlink(debug, os.path.join(d, ".build-id", "6c", "7570726f62652d74657374.debug"))
        env = dict(os.environ, LUPROBE_DEBUG_DIR=d)
        expect_eq(_quoted("-e", probe, env=env)[:2], (0, [QUOTED]), "found by build id")
    expect_eq(_quoted("--debug-file", debug, "-e", probe)[:2], (0, [QUOTED]), "--debug-file")
    expect_eq(_quoted("-e", 'probe{ func = "strconv.appendQuotedWith", debug = "%s" }' % debug)[:2],
              (0, [QUOTED]), "debug =")


def test_a_debug_file_of_another_build_is_refused():
    binary = gobin("stdcalls", "debug-stripped")
    other = gobin("stdcalls", "debug", toolchain="new")
    code, first, err = _quoted("-e", 'probe{ func = "strconv.appendQuotedWith", debug = "%s" }'
                               % other)
    expect_eq((code, first), (1, []), "another Go release: refused, no event")
    expect(f"debug file {other} is not of {binary}: built by go1." in err, err)
    types = gobin("types")
    code, first, err = _quoted("--debug-file", types, "-e",
                               'probe{ func = "strconv.appendQuotedWith" }')
    expect_eq((code, first), (1, []), "another program: refused, no event")
    expect(f"debug file {types} is not of {binary}: " in err, err)


@each_toolchain
def test_declared_named_types_from_runtime_types_on_a_stripped_build():
    """A declaration may name a type the stripped binary describes only in
    its runtime type descriptors (*bytes.Buffer for Go 1.19, whose layout the
    std table only guesses): its fields are the binary's."""
    script = ('probe{ func = "bytes.(*Buffer).WriteString", args = { {"b", "*bytes.Buffer"}, '
              '{"s", "string"} }, where = [[b.off == 0 and s == "payload"]] }')
    code, lines, err = run("-q", "-e", script, "--", gobin("stdcalls", "stripped"))
    expect_eq(code, 0, f"exit code ({err[-300:]})")
    expect_eq([TAIL.sub("", ln) for ln in lines if ln.startswith("bytes.(*Buffer).WriteString(")],
              ['bytes.(*Buffer).WriteString(b=&{buf:[]byte("head-"), off:0, lastRead:0}, '
               's="payload")'], "events")


def test_errors_script_on_a_std_package_of_a_stripped_build():
    """scripts/errors.lua counts the non-nil errors of strconv in the stripped
    stdcalls build: only Atoi("12x") fails (ParseInt and ParseFloat succeed)."""
    code, lines, err = run(os.path.join(SCRIPTS, "errors.lua"), "-a", "pkg=strconv", "--",
                           gobin("stdcalls", "stripped"))
    expect_eq(code, 0, f"exit code ({err[-300:]})")
    counts = [ln.split() for ln in lines if ln.startswith("  strconv.")]
    expect_eq(counts, [["strconv.Atoi", "1"]], f"counts ({lines[-6:]})")
