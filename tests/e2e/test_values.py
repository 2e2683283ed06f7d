# SPDX-License-Identifier: BSD-2-Clause
"""Every kind of value the decoder handles, in its three forms: the text of
an event, its --json form and the Lua values a script walks. tests/go/values
prints what it passes before each call; the program's lines are checked
first, so that every value asserted below is one the program passed. Only
addresses vary between runs: they are taken from the program's lines."""
import json
import re
import subprocess
import tempfile

from lib import each_toolchain, expect, expect_eq, gobin, run, write_script

FUNCS = "main.f[A-Z]*"

# What the program prints, with {anyp} and {myerr} for addresses
GO_LINES = [
    "fScalars {I8:-8 I16:-1600 I32:-320000 I64:-64000000000 I:-42 U8:200 U16:60000 "
    "U32:4000000000 U64:6400000000 Huge:9223372036854788153 U:77 P:3735928559 F32:1.5 "
    "F64:-2.25 NaN:NaN Inf:+Inf C64:(1-2i) C128:(-0.5+4i) T:true F:false Pad:[1 -1]}",
    'fStrings main.Strings{Empty:"", ASCII:"plain", UTF8:"héllo, wörld", Bad:"\\xff\\xfeok", '
    'Esc:"tab\\tquote\\"nl\\n", Long:"' + "0123456789" * 10 + '", '
    "Bytes:[]uint8{0x62, 0x79, 0x74, 0x65, 0x73}, Bin:[]uint8{0x0, 0x1, 0xfe}, "
    'NilB:[]uint8(nil), Arr:[2]string{"a", "b"}}',
    "fSlices {Ints:[1 -2 3] Many:[0 1 4 9 16 25 36 49 64 81 100 121 144 169 196 225 256 289 "
    "324 361] Strs:[x yz] Points:[{X:1 Y:2} {X:-3 Y:4}] NilInts:[] Empty:[] Arr:[7 -8 9] "
    "Nested:[{X:5 Y:6} {X:7 Y:8}]}",
    "fRefs Small=2 Large=100 P={X:11 Y:-12} Fn=3 Ch=1/4",
    'fIfaces AnyI=42 AnyS="str" AnyF=3.5 AnyB=true AnyP={anyp} Err="disk on fire" '
    'Wrap="open: denied" MyErr="myerr 404"/{myerr}',
    "fUnreadable P=0x7ffff0001000 S.len=5 Ints.len=3",
]

TEXT = [
    "main.fScalars(s={I8:-8, I16:-1600, I32:-320000, I64:-64000000000, I:-42, U8:200, "
    "U16:60000, U32:4000000000, U64:6400000000, Huge:9223372036854788153, U:77, P:0xdeadbeef, "
    "F32:1.5, F64:-2.25, NaN:NaN, Inf:+Inf, C64:(1-2i), C128:(-0.5+4i), T:true, F:false, "
    "Pad:[2]int64{1, -1}}) = -8",
    'main.fStrings(s={Empty:"", ASCII:"plain", UTF8:"héllo, wörld", Bad:"\\xff\\xfeok", '
    'Esc:"tab\\tquote\\"nl\\n", Long:"' + ("0123456789" * 7)[:64] + '"...+36 more, '
    'Bytes:[]byte("bytes"), Bin:[]uint8{0, 1, 254}, NilB:[]uint8(nil), '
    'Arr:[2]string{"a", "b"}}) = 100',
    "main.fSlices(s={Ints:[]int{1, -2, 3}, Many:[]int32{0, 1, 4, 9, 16, 25, 36, 49...+12 more}, "
    'Strs:[]string{"x", "yz"}, Points:[]main.Point{{...}, {...}}, NilInts:[]int(nil), '
    "Empty:[]int{}, Arr:[3]int16{7, -8, 9}, Nested:[2]main.Point{{X:5, Y:6}, {X:7, Y:8}}}) "
    "= 20",
    "main.fRefs(r={Small:map[string]int{len:2}, Large:map[int]int{len:100}, "
    "NilMap:map[string]int(nil), P:&{X:11, Y:-12}, NilP:nil, Fn:main.triple, NilFn:nil, "
    "Ch:chan int{len:1, cap:4}, NilCh:chan int(nil), Arr:[1]int{9}}) = 100",
    'main.fIfaces(i={AnyI:int(42), AnyS:string("str"), AnyF:float64(3.5), AnyB:bool(true), '
    "AnyP:*main.Point({anyp}), NilAny:nil, Err:*errors.errorString(\"disk on fire\"), "
    'Wrap:*fmt.wrapError("open: denied"), MyErr:*main.MyErr({myerr}), NilErr:nil, '
    "Arr:[1]int{9}}) = 9",
    "main.fUnreadable(u={P:&?, S:?, Ints:[]int{?}, Arr:[1]int{5}}) = 5",
]

JSON = [
    ("main.fScalars", {"s": {
        "I8": -8, "I16": -1600, "I32": -320000, "I64": -64000000000, "I": -42, "U8": 200,
        "U16": 60000, "U32": 4000000000, "U64": 6400000000, "Huge": 9223372036854788153,
        "U": 77, "P": 3735928559, "F32": 1.5, "F64": -2.25, "NaN": None, "Inf": None,
        "C64": "(1-2i)", "C128": "(-0.5+4i)", "T": True, "F": False, "Pad": [1, -1]}},
     {"~r0": -8}),
    ("main.fStrings", {"s": {
        "Empty": "", "ASCII": "plain", "UTF8": "héllo, wörld", "Bad": "\ufffd\ufffdok",
        "Esc": "tab\tquote\"nl\n", "Long": ("0123456789" * 7)[:64], "Bytes": "bytes",
        "Bin": "\u0000\u0001\ufffd", "NilB": None, "Arr": ["a", "b"]}},
     {"~r0": 100}),
    ("main.fSlices", {"s": {
        "Ints": [1, -2, 3], "Many": [0, 1, 4, 9, 16, 25, 36, 49], "Strs": ["x", "yz"],
        "Points": [None, None], "NilInts": None, "Empty": [], "Arr": [7, -8, 9],
        "Nested": [{"X": 5, "Y": 6}, {"X": 7, "Y": 8}]}},
     {"~r0": 20}),
    ("main.fRefs", {"r": {
        "Small": {"len": 2}, "Large": {"len": 100}, "NilMap": None, "P": {"X": 11, "Y": -12},
        "NilP": None, "Fn": "main.triple", "NilFn": None, "Ch": {"len": 1, "cap": 4},
        "NilCh": None, "Arr": [9]}},
     {"~r0": 100}),
    ("main.fIfaces", {"i": {
        "AnyI": {"type": "int", "value": 42}, "AnyS": {"type": "string", "value": "str"},
        "AnyF": {"type": "float64", "value": 3.5}, "AnyB": {"type": "bool", "value": True},
        "AnyP": {"type": "*main.Point", "value": "{anyp}"}, "NilAny": None,
        "Err": {"type": "*errors.errorString", "value": "disk on fire"},
        "Wrap": {"type": "*fmt.wrapError", "value": "open: denied"},
        "MyErr": {"type": "*main.MyErr", "value": "{myerr}"}, "NilErr": None, "Arr": [9]}},
     {"~r0": 9}),
    ("main.fUnreadable", {"u": {"P": None, "S": None, "Ints": [], "Arr": [5]}}, {"~r0": 5}),
]

# A script that walks e.args and e.ret: keys sorted, strings with bytes outside
# printable ASCII as \xNN, floats with 17 digits, a slice's len, cap and isnil
# (from its metatable) after its elements, markers through tostring.
WALK = r"""
local function show(v)
	local t = type(v)
	if t == "string" then
		return '"' .. v:gsub('[^ !#-~]', function(c)
			return string.format("\\x%02x", c:byte())
		end) .. '"'
	elseif t == "number" then
		return math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
	elseif t == "userdata" then
		return "userdata:" .. tostring(v)
	elseif t ~= "table" then
		return tostring(v)
	end
	local keys, parts = {}, {}
	for k in pairs(v) do keys[#keys + 1] = k end
	table.sort(keys, function(a, b)
		if type(a) == type(b) then return a < b end
		return type(a) == "number"
	end)
	for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. show(v[k]) end
	local mt = getmetatable(v)
	if mt and type(mt.__index) == "table" then
		local i = mt.__index
		parts[#parts + 1] = string.format("#len=%s cap=%s isnil=%s", i.len, i.cap, i.isnil)
	end
	return "{" .. table.concat(parts, ", ") .. "}"
end
probe{ func = "FUNCS", ret = true }:on_event(function(e)
	print(e.func .. " " .. show(e.args) .. " = " .. show(e.ret))
end)
""".replace("FUNCS", FUNCS)

LUA = [
    "main.fScalars {s={C128={im=4, re=-0.5}, C64={im=-2, re=1}, F=false, F32=1.5, F64=-2.25, "
    "Huge=9.2233720368547881e+18, I=-42, I16=-1600, I32=-320000, I64=-64000000000, I8=-8, "
    "Inf=inf, NaN={nan}, P=3735928559, Pad={1=1, 2=-1}, T=true, U=77, U16=60000, U32=4000000000, "
    "U64=6400000000, U8=200}} = {1=-8, ~r0=-8}",
    'main.fStrings {s={ASCII="plain", Arr={1="a", 2="b"}, Bad="\\xff\\xfeok", '
    'Bin="\\x00\\x01\\xfe", Bytes="bytes", Empty="", Esc="tab\\x09quote\\x22nl\\x0a", '
    'Long="' + ("0123456789" * 7)[:64] + '", NilB="", '
    'UTF8="h\\xc3\\xa9llo, w\\xc3\\xb6rld"}} = {1=100, ~r0=100}',
    "main.fSlices {s={Arr={1=7, 2=-8, 3=9}, Empty={#len=0 cap=0 isnil=false}, "
    "Ints={1=1, 2=-2, 3=3, #len=3 cap=3 isnil=false}, Many={1=0, 2=1, 3=4, 4=9, 5=16, 6=25, "
    "7=36, 8=49, #len=20 cap=24 isnil=false}, Nested={1={X=5, Y=6}, 2={X=7, Y=8}}, "
    "NilInts={#len=0 cap=0 isnil=true}, Points={1=userdata:?, 2=userdata:?, "
    '#len=2 cap=2 isnil=false}, Strs={1="x", 2="yz", #len=2 cap=2 isnil=false}}} '
    "= {1=20, ~r0=20}",
    'main.fRefs {r={Arr={1=9}, Ch={cap=4, len=1}, Fn="main.triple", Large={len=100}, '
    "P={X=11, Y=-12}, Small={len=2}}} = {1=100, ~r0=100}",
    'main.fIfaces {i={AnyB={type="bool", value=true}, AnyF={type="float64", value=3.5}, '
    'AnyI={type="int", value=42}, AnyP={type="*main.Point", value={anyp}}, '
    'AnyS={type="string", value="str"}, Arr={1=9}, Err={type="*errors.errorString", '
    'value="disk on fire"}, MyErr={type="*main.MyErr", value={myerr}}, '
    'Wrap={type="*fmt.wrapError", value="open: denied"}}} = {1=9, ~r0=9}',
    "main.fUnreadable {u={Arr={1=5}, Ints={#len=3 cap=3 isnil=false}, P=userdata:?, "
    "S=userdata:?}} = {1=5, ~r0=5}",
]


def _untraced(binary):
    p = subprocess.run([binary], capture_output=True, text=True, timeout=60)
    expect_eq(p.returncode, 0, "untraced exit code")
    return p.stdout.splitlines()


def _unaddressed(line):
    return re.sub(r"(AnyP=|/)0x[0-9a-f]+", r"\1ADDR", line) if line.startswith("fIfaces ") else line


def _addresses(go_lines):
    """The addresses the program printed: {"anyp": 0xc000..., "myerr": ...}."""
    line = next((ln for ln in go_lines if ln.startswith("fIfaces ")), "")
    m = re.search(r"AnyP=(0x[0-9a-f]+) .*/(0x[0-9a-f]+)$", line)
    expect(m, f"fIfaces line with two addresses: {line!r}")
    return {"anyp": int(m.group(1), 16), "myerr": int(m.group(2), 16)}


def _placed(lines, addr, fmt):
    """lines with the program's addresses in place of {anyp} and {myerr}."""
    return [ln.replace("{anyp}", fmt(addr["anyp"])).replace("{myerr}", fmt(addr["myerr"]))
            for ln in lines]


def _program_values(go_lines):
    """Check what the program says it passes; return its addresses."""
    addr = _addresses(go_lines)
    expect_eq(go_lines, _placed(GO_LINES, addr, hex), "what the program passes")
    return addr


def _trace(binary, *args):
    code, lines, err = run("-q", *args, "--", binary)
    expect_eq(code, 0, f"exit code ({err})")
    go = [ln for ln in lines if re.match(r"f[A-Z]\w* ", ln)]
    return go, [ln for ln in lines if ln.startswith("main.") or ln.startswith("{")]


def _fill(v, addr):
    if isinstance(v, dict):
        return {k: _fill(x, addr) for k, x in v.items()}
    if isinstance(v, list):
        return [_fill(x, addr) for x in v]
    if v in ("{anyp}", "{myerr}"):
        return addr[v[1:-1]]
    return v


@each_toolchain
def test_values_as_text():
    binary = gobin("values")
    untraced = _untraced(binary)
    go, lines = _trace(binary, "-e", f'probe{{ func = "{FUNCS}", ret = true }}')
    expect_eq([_unaddressed(ln) for ln in go], [_unaddressed(ln) for ln in untraced],
              "program output identical to an untraced run (but for addresses)")
    addr = _program_values(go)
    text = [re.sub(r"  \S+s  goroutine 1$", "", ln) for ln in lines]
    expect_eq(text, _placed(TEXT, addr, hex), "text lines")


@each_toolchain
def test_values_as_json():
    binary = gobin("values")
    go, lines = _trace(binary, "--json", "-e", f'probe{{ func = "{FUNCS}", ret = true }}')
    addr = _program_values(go)
    events = [json.loads(ln) for ln in lines if ln.startswith("{")]
    got = [(e["func"], e["args"], e["ret"]) for e in events]
    expect_eq(got, [(f, _fill(a, addr), _fill(r, addr)) for f, a, r in JSON], "JSON events")
    for e in events:  # exact integers: Python's json keeps them
        if e["func"] == "main.fScalars":
            expect(type(e["args"]["s"]["Huge"]) is int, "a uint64 >= 2^63 is an exact integer")


@each_toolchain
def test_values_as_lua():
    binary = gobin("values")
    with tempfile.TemporaryDirectory() as d:
        go, lines = _trace(binary, write_script(d, "walk.lua", WALK))
    addr = _program_values(go)
    # NaN prints as "nan" or "-nan" depending on its sign bit: C's printf either way
    lua = [re.sub(r"NaN=-?nan", "NaN={nan}", ln) for ln in lines]
    expect_eq(lua, _placed(LUA, addr, str), "Lua values")
