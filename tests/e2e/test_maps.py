# SPDX-License-Identifier: BSD-2-Clause
"""Field paths that look a key up in a Go map, in the kernel: m["key"] and
m[42], on maps of known contents (tests/go/maps): small ones, one of 100
entries over several buckets or groups, one of 1000 (beyond the scan's
bound: unreadable, with the reason), a growing hmap, empty and nil maps
(absent: nil), integer keys, elements stored apart (over 128 bytes), struct
and []string elements. Go 1.19 has the old hmap, Go 1.26 swiss tables; the
stripped build takes the map's type from the script's declaration."""
import json
import re
import tempfile

from lib import each_toolchain, expect, expect_eq, gobin, run, write_script

MAPS = "maps"
TAIL = re.compile(r"  goroutine \d+$")

LOOKUPS = """
probe{ func = "main.small", args = { 'm["alpha"]', 'm["echo"]', 'm["zulu"]' } }
probe{ func = "main.big", args = { 'm["k0"]', 'm["k57"]', 'm["k99"]', 'm["k100"]' } }
probe{ func = "main.huge", args = { 'm["k5"]' } }
probe{ func = "main.grow", args = { 'm["g0"]', 'm["g13"]', 'm["g30"]', 'm["g52"]' } }
probe{ func = "main.empty", args = { 'm["a"]' } }
probe{ func = "main.nilmap", args = { 'm["a"]' } }
probe{ func = "main.ints", args = { 'm[-5]', 'm[7]', 'm[1099511627776]', 'm[8]' } }
probe{ func = "main.bytes", args = { 'm[0]', 'm[99]', 'm[255]' } }
probe{ func = "main.header", elems = 2,
       args = { 'h["X-Request-Id"]', 'h["Traceparent"]', 'h["Accept"]', 'h["Nope"]' } }
probe{ func = "main.large", elems = 3, args = { 'm["a"]', 'm["z"]' } }
probe{ func = "main.pairs", args = { 'm["p"]', 'm["q"]', 'm["r"]' } }
"""

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
WANT = [
    'main.small(m["alpha"]="one", m["echo"]="five", m["zulu"]=nil)',
    'main.big(m["k0"]="v0", m["k57"]="v57", m["k99"]="v99", m["k100"]=nil)',
    'main.huge(m["k5"]=?(map too big to scan))',
    'main.grow(m["g0"]="w0", m["g13"]="w13", m["g30"]="w30", m["g52"]="w52")',
    'main.empty(m["a"]=nil)',
    'main.nilmap(m["a"]=nil)',
    'main.ints(m[-5]=-50, m[7]=70, m[1099511627776]=99, m[8]=nil)',
    'main.bytes(m[0]="b0", m[99]="b99", m[255]=nil)',
    'main.header(h["X-Request-Id"]=[]string{"req-42"}, '
    f'h["Traceparent"]=[]string{{"{TRACEPARENT}"}}, '
    'h["Accept"]=[]string{"text/plain", "application/json"}, h["Nope"]=nil)',
    'main.large(m["a"]=[20]int64{0, 11, 22...+17 more}, m["z"]=[20]int64{0, 0, 0...+17 more})',
    'main.pairs(m["p"]={N:7, S:"seven"}, m["q"]={N:-1, S:""}, m["r"]=nil)',
]


def _run(text, binary, *args):
    with tempfile.TemporaryDirectory() as d:
        code, lines, err = run("-q", *args, write_script(d, "s.lua", text), "--", binary)
    expect_eq(code, 0, f"exit code ({err[-600:]})")
    return lines


def _events(lines):
    return [TAIL.sub("", ln) for ln in lines if ln.startswith("main.")]


@each_toolchain
def test_lookups_read_what_the_program_put_in_its_maps():
    """Every kind of map and key, found, absent (nil) and too big to scan (?)."""
    lines = _run(LOOKUPS, gobin(MAPS))
    expect_eq(_events(lines), WANT, "the lookups")
    expect_eq([ln for ln in lines if not ln.startswith("main.")][:3],
              ["small 5", "big 100", "huge 1000"], "the program's own account")


@each_toolchain
def test_lookups_as_lua_and_json_values():
    """Absent is nil (null), too big is luprobe.unreadable (null), found is the value."""
    script = """
local function show(v) return v == nil and "nil" or v == luprobe.unreadable and "unreadable"
  or tostring(v) end
probe{ func = "main.small", args = { 'm["alpha"]', 'm["zulu"]' } }:on_event(function(e)
  print("small", show(e.args['m["alpha"]']), show(e.args['m["zulu"]']))
end)
probe{ func = "main.huge", args = { 'm["k5"]' } }:on_event(function(e)
  print("huge", show(e.args['m["k5"]']))
end)
probe{ func = "main.header", elems = 1, args = { 'h["Traceparent"]', 'h["Nope"]' } }:on_event(
  function(e)
    local v = e.args['h["Traceparent"]']
    print("header", #v, v[1], show(e.args['h["Nope"]']))
  end)
"""
    lines = _run(script, gobin(MAPS))
    expect_eq([ln for ln in lines if ln.split("\t")[0] in ("small", "huge", "header")],
              ["small\tone\tnil", "huge\tunreadable", f"header\t1\t{TRACEPARENT}\tnil"],
              "Lua values")
    lines = _run('probe{ func = "main.small", args = { \'m["alpha"]\', \'m["zulu"]\' } }\n'
                 'probe{ func = "main.huge", args = { \'m["k5"]\' } }', gobin(MAPS), "--json")
    got = [json.loads(ln)["args"] for ln in lines if ln.startswith("{")]
    expect_eq(got, [{'m["alpha"]': "one", 'm["zulu"]': None}, {'m["k5"]': None}], "JSON")


@each_toolchain
def test_lookups_on_a_stripped_build_take_the_declared_map_type():
    script = """
probe{ func = "main.small", args = { {"m", "map[string]string"}, 'm["alpha"]', 'm["zulu"]' } }
probe{ func = "main.big", args = { {"m", "map[string]string"}, 'm["k57"]' } }
probe{ func = "main.huge", args = { {"m", "map[string]string"}, 'm["k5"]' } }
probe{ func = "main.ints", args = { {"m", "map[int64]int32"}, 'm[-5]', 'm[8]' } }
probe{ func = "main.header", elems = 1,
       args = { {"h", "map[string][]string"}, 'h["Traceparent"]' } }
probe{ func = "main.pairs", args = { {"m", "map[string]struct{ N int32; S string }"},
       'm["p"]' } }
"""
    want = ['main.small(m["alpha"]="one", m["zulu"]=nil)',
            'main.big(m["k57"]="v57")',
            'main.huge(m["k5"]=?(map too big to scan))',
            'main.ints(m[-5]=-50, m[8]=nil)',
            f'main.header(h["Traceparent"]=[]string{{"{TRACEPARENT}"}})',
            'main.pairs(m["p"]={N:7, S:"seven"})']
    expect_eq(_events(_run(script, gobin(MAPS, "stripped"))), want, "stripped")
    expect_eq(_events(_run(script, gobin(MAPS))), want, "with DWARF, the same declaration")


def test_lookups_that_cannot_be_made_are_refused_with_the_reason():
    binary = gobin(MAPS)
    long = "x" * 65
    cases = [
        ('probe{ func = "main.small", args = { \'m[3]\' } }',
         'm[3]: the key of a map[string]string is a string: write it quoted, as '
         '["X-Request-Id"]'),
        ('probe{ func = "main.ints", args = { \'m["a"]\' } }',
         'm["a"]: the key of a map[int64]int32 is int64: write an integer it holds, as [42]'),
        ('probe{ func = "main.bytes", args = { \'m[256]\' } }',
         'm[256]: the key of a map[uint8]string is uint8: write an integer it holds, as [42]'),
        ('probe{ func = "main.pairs", args = { \'m["p"].N["x"]\' } }',
         'm["p"].N["x"]: int32 is not a map'),
        ('probe{ func = "main.small", args = { \'m["alpha"\' } }',
         'm["alpha": a map lookup is written m["key"] or m[42]'),
        (f'probe{{ func = "main.small", args = {{ \'m["{long}"]\' }} }}',
         f'm["{long}"]: a map key in a field path has at most 64 bytes'),
    ]
    for script, want in cases:
        code, lines, err = run("-q", "-e", script, "--", binary)
        expect_eq(code, 1, f"exit code of {script}")
        expect_eq(err.splitlines()[-1:], [f"luprobe: (command line):1: {want}"], script)


def test_lookup_after_attach_needs_one_made_before():
    """The BPF program is loaded with the map scan only when a probe made before
    attach() looks a key up: one made after works then, and is refused otherwise."""
    late = 'probe{ func = "main.small", args = { \'m["alpha"]\' } }'
    code, _, err = run("-q", "-e", 'probe{ func = "main.big", args = false } attach() ' + late,
                       "--", gobin(MAPS))
    expect_eq(code, 1, "without a lookup before: exit code")
    expect('probe: a map lookup (m["key"]) on a probe created after attach(), in a script whose '
           "probes made before had none: create one of them in the main chunk" in err, err)
    code, lines, err = run("-q", "-e", 'probe{ func = "main.big", args = { \'m["k1"]\' } } '
                           "attach() " + late, "--", gobin(MAPS))
    expect_eq(code, 0, f"with one before: exit code ({err[-400:]})")
    expect_eq(_events(lines), ['main.small(m["alpha"]="one")', 'main.big(m["k1"]="v1")'],
              "both lookups, in the program's order")
