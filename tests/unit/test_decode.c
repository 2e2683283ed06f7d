// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: decode decode_text decode_json decode_lua strbuf gotype log
/*
 * The walker (decode__walk), through a sink that records what it is told,
 * and the decoder's three forms of every node kind, on records built by
 * hand: Go-like text (decode__format, the text sink), JSON (decode__json)
 * and Lua values (decode__push, rendered back to text by a small Lua
 * walker). Unreadable values, values not captured, sequences cut by the
 * capture bounds (shown vs total) and field keys. The binary's type and
 * function names come from the stubs of gobin__type_name/_kind and
 * gobin__func_at below.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>
#include "unit.h"
#include "decode.h"
#include "gobin.h"
#include "gotype.h"
#include "strbuf.h"

/* Type descriptors and a function of a pretend binary. */
enum {
	T_INT = 0x1000,
	T_STRING = 0x2000,
	T_ERRSTR = 0x3000,
	T_PTR = 0x4000,
	T_FLOAT = 0x5000,
	T_BOOL = 0x6000,
	T_INT8 = 0x7000,
	T_UINT16 = 0x8000,
	T_UINTPTR = 0x9000,
	F_TRIPLE = 0x401000,
};

const char *gobin__type_name(struct gobin *gb, uint64_t a)
{
	switch (a) {
	case T_INT:
		return "int";
	case T_STRING:
		return "string";
	case T_ERRSTR:
		return "*errors.errorString";
	case T_PTR:
		return "*main.T";
	case T_FLOAT:
		return "float64";
	case T_BOOL:
		return "bool";
	case T_INT8:
		return "int8";
	case T_UINT16:
		return "main.Port";
	case T_UINTPTR:
		return "uintptr";
	}
	return NULL;
}

int gobin__type_kind(struct gobin *gb, uint64_t a)
{
	switch (a) {
	case T_INT:
		return RK_INT;
	case T_STRING:
		return RK_STRING;
	case T_ERRSTR:
	case T_PTR:
		return RK_PTR;
	case T_FLOAT:
		return RK_FLOAT64;
	case T_BOOL:
		return RK_BOOL;
	case T_INT8:
		return RK_INT8;
	case T_UINT16:
		return RK_UINT16;
	case T_UINTPTR:
		return RK_UINTPTR;
	}
	return -1;
}

const struct gobin_func *gobin__func_at(const struct gobin *gb, uint64_t pc)
{
	static const struct gobin_func f = {.name = "main.triple", .entry = F_TRIPLE};

	return pc >= F_TRIPLE && pc < F_TRIPLE + 0x100 ? &f : NULL;
}

static struct gotypes *ts;
static lua_State *L;
static int fake_binary;

/* A record: data, fault bits, and a context over them. */
struct rec {
	uint8_t data[1024];
	struct decode_ctx c;
};

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->c.data = r->data;
	r->c.len = sizeof(r->data);
	r->c.gb = (struct gobin *)&fake_binary;
}

static void put(struct rec *r, uint32_t off, uint64_t v, unsigned size)
{
	memcpy(r->data + off, &v, size);
}

/* A bounded copy of len bytes at off, described by the lp_var at var. */
static void put_var(struct rec *r, uint16_t var, uint16_t off, const void *bytes, uint16_t len)
{
	struct lp_var v = {.off = off, .len = len};

	memcpy(r->data + var, &v, sizeof(v));
	memcpy(r->data + off, bytes, len);
}

static const struct gotype *type(const char *spec)
{
	const struct gotype *t = NULL;
	char err[128];

	if (gotypes__parse(ts, spec, NULL, NULL, &t, err, sizeof(err)) < 0)
		fprintf(stderr, "  type %s: %s\n", spec, err);
	return t;
}

/* struct { A int32; B string } named main.P */
static const struct gotype *struct_p(void)
{
	struct gotype *t = gotypes__new_type(ts, GK_STRUCT, "main.P", 24, 8);
	struct gofield *f = gotypes__alloc(ts, 2 * sizeof(*f));

	f[0] = (struct gofield){.name = "A", .offset = 0, .type = type("int32")};
	f[1] = (struct gofield){.name = NULL, .offset = 8, .type = type("string")};
	t->fields = f;
	t->nfields = 2;
	return t;
}

/* Lua value -> text: keys sorted, slices' len/cap/isnil after the elements. */
static const char *const LUA_SHOW =
	"local function show(v)\n"
	"  local t = type(v)\n"
	"  if t == 'string' then\n"
	"    return '\"' .. v:gsub('[^ !#-~]', function(c)\n"
	"      return string.format('\\\\x%02x', c:byte()) end) .. '\"'\n"
	"  elseif t == 'number' then\n"
	"    return math.type(v) == 'integer' and tostring(v) or string.format('%.17g', v)\n"
	"  elseif t == 'userdata' then return 'U' .. tostring(v)\n"
	"  elseif t ~= 'table' then return tostring(v) end\n"
	"  local keys, parts = {}, {}\n"
	"  for k in pairs(v) do keys[#keys + 1] = k end\n"
	"  table.sort(keys, function(a, b)\n"
	"    if type(a) == type(b) then return a < b end\n"
	"    return type(a) == 'number' end)\n"
	"  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. '=' .. show(v[k]) end\n"
	"  local mt = getmetatable(v)\n"
	"  if mt and type(mt.__index) == 'table' then\n"
	"    local i = mt.__index\n"
	"    parts[#parts + 1] = string.format('#%s/%s/%s', i.len, i.cap, i.isnil)\n"
	"  end\n"
	"  return '{' .. table.concat(parts, ',') .. '}'\n"
	"end\n"
	"return show\n";

static char out_text[4096], out_json[4096], out_lua[4096];

static void decode_all(const struct decode_ctx *c, const struct dnode *n)
{
	struct strbuf sb;
	int top = lua_gettop(L);

	sb_init(&sb);
	decode__format(&sb, c, n);
	snprintf(out_text, sizeof(out_text), "%s", sb.len ? sb_str(&sb) : "");
	sb_reset(&sb);
	decode__json(&sb, c, n);
	snprintf(out_json, sizeof(out_json), "%s", sb.len ? sb_str(&sb) : "");
	sb_free(&sb);

	lua_getfield(L, LUA_REGISTRYINDEX, "show");
	decode__push(L, c, n);
	if (lua_gettop(L) != top + 2)
		snprintf(out_lua, sizeof(out_lua), "pushed %d values", lua_gettop(L) - top - 1);
	else if (lua_pcall(L, 1, 1, 0) != LUA_OK)
		snprintf(out_lua, sizeof(out_lua), "error: %s", lua_tostring(L, -1));
	else
		snprintf(out_lua, sizeof(out_lua), "%s", lua_tostring(L, -1));
	lua_settop(L, top);
}

#define CHECK3(c, n, text, json, lua)                                                              \
	do {                                                                                       \
		decode_all((c), (n));                                                              \
		CHECK_STR(out_text, text);                                                         \
		CHECK_STR(out_json, json);                                                         \
		CHECK_STR(out_lua, lua);                                                           \
	} while (0)

static struct dnode node(enum dnode_kind kind, const struct gotype *t, uint16_t img)
{
	struct dnode n = {.kind = kind, .type = t, .img = img};

	return n;
}

/* A slice at 0 whose elements are copied flat, as the lp_var at 24 says (fault bit 2). */
static struct dnode flat_slice(const char *spec)
{
	struct dnode n = node(DN_SLICE, type(spec), 0);

	n.flat = true;
	n.var = 24;
	n.var_slot = 2;
	return n;
}

/* A record holding a main.P{A: a, "ok"} whose string is glen bytes long in Go. */
static void p_record(struct rec *r, struct dnode *n, struct dnode ch[2], int32_t a, uint64_t glen)
{
	rec_init(r);
	*n = node(DN_STRUCT, struct_p(), 0);
	n->child = ch;
	n->nchild = 2;
	ch[0] = node(DN_SCALAR, type("int32"), 0);
	ch[1] = node(DN_STRING, type("string"), 8);
	ch[1].var = 24;
	put(r, 0, (uint32_t)a, 4);
	put(r, 8, 0xc000001000, 8);
	put(r, 16, glen, 8);
	put_var(r, 24, 100, "ok", 2);
}

/* A sink that writes down the calls: the walker's side of the contract. */
static void rec_nil(void *st, const struct decode_group *g)
{
	sb_printf(st, "nil(%d %s) ", g->kind, g->name);
}

static void rec_missing(void *st, enum decode_missing why)
{
	sb_printf(st, "missing(%d) ", why);
}

static void rec_scalar(void *st, const struct decode_scalar *v)
{
	sb_printf(st, "scalar(%d ", v->kind);
	decode__scalar_text(st, v);
	sb_puts(st, ") ");
}

static void rec_string(void *st, const char *s, uint32_t n, uint64_t total)
{
	sb_printf(st, "string(%.*s %u/%llu) ", (int)n, s, n, (unsigned long long)total);
}

static bool rec_bytes(void *st, const struct decode_group *g, const char *s, uint32_t n)
{
	sb_printf(st, "bytes(%s %u/%llu) ", s ? "ok" : "NULL", n, (unsigned long long)g->total);
	return n == 2; /* taken when two bytes were copied, else walked as elements */
}

static void rec_begin(void *st, const struct decode_group *g)
{
	sb_printf(st, "begin(%d %s %llu/%llu%s%s) ", g->kind, g->name,
		  (unsigned long long)g->shown, (unsigned long long)g->total,
		  g->faulted ? " faulted" : "", g->nil ? " nil" : "");
}

static void rec_key(void *st, const char *name, uint64_t i)
{
	sb_printf(st, "key(%s %llu) ", name ? name : "-", (unsigned long long)i);
}

static void rec_end(void *st, const struct decode_group *g)
{
	sb_printf(st, "end(%d) ", g->kind);
}

static void rec_deref(void *st)
{
	sb_puts(st, "deref ");
}

static const struct decode_sink recorder = {
	rec_nil, rec_missing, rec_scalar, rec_string, rec_bytes,
	rec_begin, rec_key, rec_end, rec_deref,
};

static char out_walk[4096];

static const char *walk(const struct decode_ctx *c, const struct dnode *n)
{
	struct strbuf sb;

	sb_init(&sb);
	decode__walk(c, n, &recorder, &sb);
	snprintf(out_walk, sizeof(out_walk), "%s", sb.len ? sb_str(&sb) : "");
	sb_free(&sb);
	return out_walk;
}

static void test_walker_sequences_shown_and_total(void)
{
	struct rec r;
	struct dnode n, ch[2];
	int16_t xs[3] = {1, -2, 3};

	rec_init(&r);
	/* a flat []int16 of 5, 3 copied */
	n = flat_slice("[]int16");
	put(&r, 0, 0xc000001000, 8);
	put(&r, 8, 5, 8);
	put(&r, 16, 8, 8);
	put_var(&r, 24, 100, xs, sizeof(xs));
	CHECK_STR(walk(&r.c, &n), "begin(0 []int16 3/5) key(- 0) scalar(1 1) key(- 1) scalar(1 -2) "
				  "key(- 2) scalar(1 3) end(0) ");
	/* the copy faulted: no elements */
	r.c.faults = 1ULL << 2;
	CHECK_STR(walk(&r.c, &n), "begin(0 []int16 0/5 faulted) end(0) ");
	r.c.faults = 0;
	/* nil */
	put(&r, 0, 0, 8);
	put(&r, 8, 0, 8);
	CHECK_STR(walk(&r.c, &n), "nil(0 []int16) ");
	/* 1-byte elements go to bytes() first; walked as a slice when it declines */
	n.type = type("[]int8");
	put(&r, 0, 0xc000001000, 8);
	put(&r, 8, 3, 8);
	put_var(&r, 24, 100, "ab", 2);
	CHECK_STR(walk(&r.c, &n), "bytes(ok 2/3) ");
	put_var(&r, 24, 100, "a", 1);
	CHECK_STR(walk(&r.c, &n), "bytes(ok 1/3) begin(0 []int8 1/3) key(- 0) scalar(1 97) end(0) ");
	/* children: shown is the smaller of the Go length and the children captured */
	n = node(DN_ARRAY, gotypes__array_of(ts, type("int16"), 4), 200);
	n.child = ch;
	n.nchild = 2;
	ch[0] = node(DN_SCALAR, type("int16"), 200);
	ch[1] = node(DN_SCALAR, type("int16"), 202);
	ch[1].avail = DA_NOTFOLLOWED;
	CHECK_STR(walk(&r.c, &n), "begin(1 [4]int16 2/4) key(- 0) scalar(1 0) key(- 1) missing(1) "
				  "end(1) ");
}

static void test_walker_keys_and_groups(void)
{
	struct rec r;
	struct dnode n, ch[2], pointee;

	p_record(&r, &n, ch, 7, 9);
	CHECK_STR(walk(&r.c, &n), "begin(2 main.P 2/2) key(A 0) scalar(1 7) key(_ 1) string(ok 2/9) "
				  "end(2) ");
	/* a map's count, a followed pointer, an interface */
	n = node(DN_MAP, type("map[string]int"), 200);
	n.aux = 208;
	put(&r, 200, 0xc000002000, 8);
	put(&r, 208, 3, 8);
	CHECK_STR(walk(&r.c, &n), "begin(3 map[string]int 1/1) key(len 0) scalar(2 3) end(3) ");
	n = node(DN_PTR, type("*int32"), 200);
	pointee = node(DN_SCALAR, type("int32"), 0);
	n.child = &pointee;
	n.nchild = 1;
	CHECK_STR(walk(&r.c, &n), "deref scalar(1 7) ");
	n.nchild = 0;
	CHECK_STR(walk(&r.c, &n), "scalar(6 (*int32)(0xc000002000)) ");
	n = node(DN_IFACE, type("error"), 200);
	n.aux = 216;
	n.var = 240;
	put(&r, 216, T_INT, 8);
	put(&r, 224, 5, 8);
	CHECK_STR(walk(&r.c, &n), "begin(5 int 1/1) scalar(1 5) end(5) ");
	put(&r, 200, 0, 8);
	CHECK_STR(walk(&r.c, &n), "nil(5 error) ");
}

static void test_integers_of_each_size_and_sign(void)
{
	struct rec r;
	struct dnode n;

	rec_init(&r);
	put(&r, 0, (uint8_t)-8, 1);
	n = node(DN_SCALAR, type("int8"), 0);
	CHECK3(&r.c, &n, "-8", "-8", "-8");
	put(&r, 8, (uint16_t)-1600, 2);
	n = node(DN_SCALAR, type("int16"), 8);
	CHECK3(&r.c, &n, "-1600", "-1600", "-1600");
	put(&r, 16, (uint32_t)-320000, 4);
	n = node(DN_SCALAR, type("int32"), 16);
	CHECK3(&r.c, &n, "-320000", "-320000", "-320000");
	put(&r, 24, (uint64_t)-64000000000LL, 8);
	n = node(DN_SCALAR, type("int64"), 24);
	CHECK3(&r.c, &n, "-64000000000", "-64000000000", "-64000000000");
	put(&r, 32, 200, 1);
	n = node(DN_SCALAR, type("uint8"), 32);
	CHECK3(&r.c, &n, "200", "200", "200");
	put(&r, 40, 4000000000u, 4);
	n = node(DN_SCALAR, type("uint32"), 40);
	CHECK3(&r.c, &n, "4000000000", "4000000000", "4000000000");
	/* from 2^63 up: exact in text and JSON, the nearest float in Lua */
	put(&r, 48, (1ULL << 63) + 12345, 8);
	n = node(DN_SCALAR, type("uint64"), 48);
	CHECK3(&r.c, &n, "9223372036854788153", "9223372036854788153", "9.2233720368547881e+18");
	put(&r, 56, 0xdeadbeef, 8);
	n = node(DN_SCALAR, type("uintptr"), 56);
	CHECK3(&r.c, &n, "0xdeadbeef", "3735928559", "3735928559");
	n = node(DN_SCALAR, type("unsafe.Pointer"), 56);
	CHECK3(&r.c, &n, "0xdeadbeef", "3735928559", "3735928559");
	put(&r, 64, 1, 1);
	n = node(DN_SCALAR, type("bool"), 64);
	CHECK3(&r.c, &n, "true", "true", "true");
	put(&r, 64, 0, 1);
	CHECK3(&r.c, &n, "false", "false", "false");
}

static void test_floats_and_complex(void)
{
	struct rec r;
	struct dnode n;
	float f32 = 1.5f, c64[2] = {1, -2};
	double f64 = -2.25, nan = __builtin_nan(""), inf = __builtin_inf(), c128[2] = {-0.5, 4},
	       third = 1.0 / 3;

	rec_init(&r);
	memcpy(r.data, &f32, 4);
	n = node(DN_SCALAR, type("float32"), 0);
	CHECK3(&r.c, &n, "1.5", "1.5", "1.5");
	memcpy(r.data + 8, &f64, 8);
	n = node(DN_SCALAR, type("float64"), 8);
	CHECK3(&r.c, &n, "-2.25", "-2.25", "-2.25");
	memcpy(r.data + 8, &third, 8);
	CHECK3(&r.c, &n, "0.3333333333333333", "0.3333333333333333", "0.33333333333333331");
	memcpy(r.data + 8, &inf, 8);
	CHECK3(&r.c, &n, "+Inf", "null", "inf");
	memcpy(r.data + 8, &nan, 8);
	decode_all(&r.c, &n);
	CHECK_STR(out_text, "NaN");
	CHECK_STR(out_json, "null");
	memcpy(r.data + 16, c64, 8);
	n = node(DN_SCALAR, type("complex64"), 16);
	CHECK3(&r.c, &n, "(1-2i)", "\"(1-2i)\"", "{im=-2,re=1}");
	memcpy(r.data + 24, c128, 16);
	n = node(DN_SCALAR, type("complex128"), 24);
	CHECK3(&r.c, &n, "(-0.5+4i)", "\"(-0.5+4i)\"", "{im=4,re=-0.5}");
}

static void test_unreadable_and_not_captured(void)
{
	struct rec r;
	struct dnode n;

	rec_init(&r);
	put(&r, 0, 42, 8);
	n = node(DN_SCALAR, type("int"), 0);
	CHECK3(&r.c, &n, "42", "42", "42");
	n.avail = DA_FLOATREG;
	CHECK3(&r.c, &n, "?", "null", "U?");
	n.avail = DA_UNKNOWN;
	CHECK3(&r.c, &n, "?", "null", "U?");
	n.avail = DA_NOTFOLLOWED;
	CHECK3(&r.c, &n, "...", "null", "U...");
	/* a faulted slot, and an image past the end of the record */
	n.avail = DA_OK;
	n.slot = 3;
	r.c.faults = 1ULL << 3;
	CHECK3(&r.c, &n, "?", "null", "U?");
	r.c.faults = 0;
	n.img = 1020;
	CHECK3(&r.c, &n, "?", "null", "U?");
}

static void test_strings(void)
{
	struct rec r;
	struct dnode n;

	rec_init(&r);
	n = node(DN_STRING, type("string"), 0);
	n.var = 16;
	n.var_slot = 1;
	/* empty: no copy needed */
	CHECK3(&r.c, &n, "\"\"", "\"\"", "\"\"");
	put(&r, 0, 0xc000001000, 8);
	put(&r, 8, 5, 8);
	put_var(&r, 16, 100, "h\xc3\xa9\"\n", 5);
	CHECK3(&r.c, &n, "\"hé\\\"\\n\"", "\"hé\\\"\\u000a\"", "\"h\\xc3\\xa9\\x22\\x0a\"");
	/* truncated: Go length 10, 3 bytes copied */
	put(&r, 8, 10, 8);
	put_var(&r, 16, 100, "abc", 3);
	CHECK3(&r.c, &n, "\"abc\"...+7 more", "\"abc\"", "\"abc\"");
	/* not UTF-8, control bytes */
	put(&r, 8, 4, 8);
	put_var(&r, 16, 100, "\xff\x01\x7fz", 4);
	CHECK3(&r.c, &n, "\"\\xff\\x01\\x7fz\"", "\"\\ufffd\\u0001\\u007fz\"",
	       "\"\\xff\\x01\\x7fz\"");
	/* the copy faulted */
	r.c.faults = 1ULL << 1;
	CHECK3(&r.c, &n, "?", "null", "U?");
	r.c.faults = 0;
	/* shallow: the bytes were left out of the capture */
	n.shallow = true;
	CHECK3(&r.c, &n, "...", "null", "U...");
}

static void test_flat_slices(void)
{
	struct rec r;
	struct dnode n;
	int32_t xs[3] = {1, -2, 3};

	rec_init(&r);
	n = flat_slice("[]int32");
	/* nil */
	CHECK3(&r.c, &n, "[]int32(nil)", "null", "{#0/0/true}");
	/* 3 of 5 elements shown */
	put(&r, 0, 0xc000001000, 8);
	put(&r, 8, 5, 8);
	put(&r, 16, 8, 8);
	put_var(&r, 24, 100, xs, sizeof(xs));
	CHECK3(&r.c, &n, "[]int32{1, -2, 3...+2 more}", "[1,-2,3]", "{1=1,2=-2,3=3,#5/8/false}");
	/* empty, not nil */
	put(&r, 8, 0, 8);
	put_var(&r, 24, 100, xs, 0);
	CHECK3(&r.c, &n, "[]int32{}", "[]", "{#0/8/false}");
	/* the copy faulted */
	put(&r, 8, 3, 8);
	r.c.faults = 1ULL << 2;
	CHECK3(&r.c, &n, "[]int32{?}", "[]", "{#3/8/false}");
	r.c.faults = 0;
	/* elements that are structs are not decoded from a flat copy */
	n.type = gotypes__slice_of(ts, struct_p());
	put_var(&r, 24, 100, r.data + 400, 24 * 2);
	put(&r, 8, 2, 8);
	CHECK3(&r.c, &n, "[]main.P{{...}, {...}}", "[null,null]", "{1=U?,2=U?,#2/8/false}");
}

static void test_byte_slices(void)
{
	struct rec r;
	struct dnode n;

	rec_init(&r);
	n = flat_slice("[]byte");
	put(&r, 0, 0xc000001000, 8);
	put(&r, 8, 7, 8);
	put(&r, 16, 7, 8);
	put_var(&r, 24, 100, "bytes", 5);
	CHECK3(&r.c, &n, "[]byte(\"bytes\"...+2 more)", "\"bytes\"", "\"bytes\"");
	put(&r, 8, 3, 8);
	put_var(&r, 24, 100, "\0\1\xfe", 3);
	CHECK3(&r.c, &n, "[]uint8{0, 1, 254}", "\"\\u0000\\u0001\\ufffd\"", "\"\\x00\\x01\\xfe\"");
	/* empty, and the (empty) copy faulted: nothing to read (this read a NULL before) */
	put(&r, 8, 0, 8);
	r.c.faults = 1ULL << 2;
	CHECK3(&r.c, &n, "[]byte(\"\")", "null", "\"\"");
	r.c.faults = 0;
	put(&r, 0, 0, 8);
	put(&r, 8, 0, 8);
	put_var(&r, 24, 100, "", 0);
	CHECK3(&r.c, &n, "[]uint8(nil)", "null", "\"\"");
}

static void test_slices_of_children(void)
{
	struct rec r;
	struct dnode n, ch[2];

	rec_init(&r);
	/* []string with 2 elements captured of 4 */
	n = node(DN_SLICE, type("[]string"), 0);
	n.child = ch;
	n.nchild = 2;
	put(&r, 0, 0xc000001000, 8);
	put(&r, 8, 4, 8);
	put(&r, 16, 4, 8);
	ch[0] = node(DN_STRING, type("string"), 32);
	ch[0].var = 64;
	ch[1] = node(DN_STRING, type("string"), 48);
	ch[1].var = 68;
	put(&r, 40, 1, 8);
	put_var(&r, 64, 100, "x", 1);
	put(&r, 56, 2, 8);
	put_var(&r, 68, 110, "yz", 2);
	CHECK3(&r.c, &n, "[]string{\"x\", \"yz\"...+2 more}", "[\"x\",\"yz\"]",
	       "{1=\"x\",2=\"yz\",#4/4/false}");
	/* a Go length shorter than the children captured shows the Go length */
	put(&r, 8, 1, 8);
	CHECK3(&r.c, &n, "[]string{\"x\"}", "[\"x\"]", "{1=\"x\",#1/4/false}");
}

static void test_arrays(void)
{
	struct rec r;
	struct dnode n, ch[2];

	rec_init(&r);
	n = node(DN_ARRAY, gotypes__array_of(ts, type("int16"), 3), 0);
	n.child = ch;
	n.nchild = 2;
	ch[0] = node(DN_SCALAR, type("int16"), 0);
	ch[1] = node(DN_SCALAR, type("int16"), 2);
	put(&r, 0, 7, 2);
	put(&r, 2, (uint16_t)-8, 2);
	CHECK3(&r.c, &n, "[3]int16{7, -8...+1 more}", "[7,-8]", "{1=7,2=-8}");
	ch[1].avail = DA_FLOATREG;
	CHECK3(&r.c, &n, "[3]int16{7, ?...+1 more}", "[7,null]", "{1=7,2=U?}");
}

static void test_structs_and_keys(void)
{
	struct rec r;
	struct dnode n, ch[2];

	p_record(&r, &n, ch, 31337, 2);
	/* a field without a name is "_" */
	CHECK3(&r.c, &n, "{A:31337, _:\"ok\"}", "{\"A\":31337,\"_\":\"ok\"}", "{A=31337,_=\"ok\"}");
}

static void test_pointers(void)
{
	struct rec r;
	struct dnode n, pointee;

	rec_init(&r);
	n = node(DN_PTR, type("*int"), 0);
	CHECK3(&r.c, &n, "nil", "null", "nil");
	put(&r, 0, 0xc000001000, 8);
	/* not followed: its address */
	CHECK3(&r.c, &n, "(*int)(0xc000001000)", "824633724928", "824633724928");
	pointee = node(DN_SCALAR, type("int"), 8);
	put(&r, 8, 99, 8);
	n.child = &pointee;
	n.nchild = 1;
	CHECK3(&r.c, &n, "&99", "99", "99");
	pointee.slot = 5;
	r.c.faults = 1ULL << 5;
	CHECK3(&r.c, &n, "&?", "null", "U?");
}

static void test_interfaces(void)
{
	struct rec r;
	struct dnode n;
	double f = 3.5;

	rec_init(&r);
	n = node(DN_IFACE, type("any"), 0);
	n.aux = 16;
	n.aux_slot = 4;
	n.var = 40;
	n.var_slot = 5;
	CHECK3(&r.c, &n, "nil", "null", "nil");
	put(&r, 0, T_INT, 8);
	put(&r, 8, 0xc000002000, 8);
	put(&r, 16, T_INT, 8);
	put(&r, 24, (uint64_t)-42, 8);
	CHECK3(&r.c, &n, "int(-42)", "{\"type\":\"int\",\"value\":-42}", "{type=\"int\",value=-42}");
	put(&r, 16, T_INT8, 8);
	put(&r, 24, 0xf8, 8);
	CHECK3(&r.c, &n, "int8(-8)", "{\"type\":\"int8\",\"value\":-8}", "{type=\"int8\",value=-8}");
	put(&r, 16, T_UINT16, 8);
	put(&r, 24, 0x12345678, 8);
	CHECK3(&r.c, &n, "main.Port(22136)", "{\"type\":\"main.Port\",\"value\":22136}",
	       "{type=\"main.Port\",value=22136}");
	put(&r, 16, T_BOOL, 8);
	put(&r, 24, 0x101, 8);
	CHECK3(&r.c, &n, "bool(true)", "{\"type\":\"bool\",\"value\":true}",
	       "{type=\"bool\",value=true}");
	put(&r, 16, T_FLOAT, 8);
	memcpy(r.data + 24, &f, 8);
	CHECK3(&r.c, &n, "float64(3.5)", "{\"type\":\"float64\",\"value\":3.5}",
	       "{type=\"float64\",value=3.5}");
	f = __builtin_inf();
	memcpy(r.data + 24, &f, 8);
	CHECK3(&r.c, &n, "float64(+Inf)", "{\"type\":\"float64\",\"value\":null}",
	       "{type=\"float64\",value=inf}");
	/* a uintptr is its value in each form, not the data word */
	put(&r, 16, T_UINTPTR, 8);
	put(&r, 24, 0xdead, 8);
	CHECK3(&r.c, &n, "uintptr(0xdead)", "{\"type\":\"uintptr\",\"value\":57005}",
	       "{type=\"uintptr\",value=57005}");
	/* a string: its bytes, cut at the capture */
	put(&r, 16, T_STRING, 8);
	put(&r, 32, 6, 8);
	put_var(&r, 40, 100, "str", 3);
	CHECK3(&r.c, &n, "string(\"str\"...+3 more)", "{\"type\":\"string\",\"value\":\"str\"}",
	       "{type=\"string\",value=\"str\"}");
	/* an error whose pointee starts with its message */
	put(&r, 16, T_ERRSTR, 8);
	put(&r, 32, 3, 8);
	CHECK3(&r.c, &n, "*errors.errorString(\"str\")",
	       "{\"type\":\"*errors.errorString\",\"value\":\"str\"}",
	       "{type=\"*errors.errorString\",value=\"str\"}");
	r.c.faults = 1ULL << 5;
	CHECK3(&r.c, &n, "*errors.errorString(?)",
	       "{\"type\":\"*errors.errorString\",\"value\":null}",
	       "{type=\"*errors.errorString\",value=U?}");
	r.c.faults = 0;
	/* other pointers: the data word */
	put(&r, 16, T_PTR, 8);
	CHECK3(&r.c, &n, "*main.T(0xc000002000)", "{\"type\":\"*main.T\",\"value\":824633729024}",
	       "{type=\"*main.T\",value=824633729024}");
	/* a type unknown to the binary */
	put(&r, 16, 0xa000, 8);
	CHECK3(&r.c, &n, "?(0xc000002000)", "{\"type\":\"?\",\"value\":824633729024}",
	       "{type=\"?\",value=824633729024}");
	/* the dynamic type could not be read */
	r.c.faults = 1ULL << 4;
	CHECK3(&r.c, &n, "?", "null", "U?");
	r.c.faults = 0;
	n.shallow = true;
	CHECK3(&r.c, &n, "...", "null", "U...");
}

static void test_maps_chans_funcs(void)
{
	struct rec r;
	struct dnode n;

	rec_init(&r);
	n = node(DN_MAP, type("map[string]int"), 0);
	n.aux = 8;
	n.aux_slot = 1;
	CHECK3(&r.c, &n, "map[string]int(nil)", "null", "nil");
	put(&r, 0, 0xc000003000, 8);
	put(&r, 8, 100, 8);
	CHECK3(&r.c, &n, "map[string]int{len:100}", "{\"len\":100}", "{len=100}");
	r.c.faults = 1ULL << 1;
	CHECK3(&r.c, &n, "map[string]int{len:?}", "{\"len\":null}", "{len=U?}");
	r.c.faults = 0;

	n = node(DN_CHAN, type("chan int"), 0);
	n.aux = 8;
	n.aux_slot = 1;
	put(&r, 16, 4, 8);
	CHECK3(&r.c, &n, "chan int{len:100, cap:4}", "{\"len\":100,\"cap\":4}", "{cap=4,len=100}");
	r.c.faults = 1ULL << 1;
	CHECK3(&r.c, &n, "chan int{len:?, cap:?}", "{\"len\":null,\"cap\":null}", "{}");
	r.c.faults = 0;
	put(&r, 0, 0, 8);
	CHECK3(&r.c, &n, "chan int(nil)", "null", "nil");

	n = node(DN_FUNC, type("func(int) int"), 0);
	n.aux = 8;
	n.aux_slot = 1;
	CHECK3(&r.c, &n, "nil", "null", "nil");
	put(&r, 0, 0x4a0000, 8);
	put(&r, 8, F_TRIPLE, 8);
	CHECK3(&r.c, &n, "main.triple", "\"main.triple\"", "\"main.triple\"");
	/* not a function's entry */
	put(&r, 8, F_TRIPLE + 4, 8);
	CHECK3(&r.c, &n, "func(0x4a0000)", "null", "U?");
	n.shallow = true;
	CHECK3(&r.c, &n, "...", "null", "U...");
}

static void test_load_bias(void)
{
	struct rec r;
	struct dnode n;

	rec_init(&r);
	r.c.bias = 0x7f0000000000;
	n = node(DN_FUNC, type("func()"), 0);
	n.aux = 8;
	put(&r, 0, 0xc000004000, 8);
	put(&r, 8, F_TRIPLE + r.c.bias, 8);
	CHECK3(&r.c, &n, "main.triple", "\"main.triple\"", "\"main.triple\"");
}

static void test_quoting_helpers(void)
{
	struct strbuf sb;

	sb_init(&sb);
	decode__quote(&sb, "a\"\\\t\r\x7f\xe2\x82", 8);
	CHECK_STR(sb_str(&sb), "\"a\\\"\\\\\\t\\r\\x7f\\xe2\\x82\"");
	sb_reset(&sb);
	/* overlong form, surrogate, past U+10FFFF: not UTF-8 */
	decode__json_string(&sb, "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82\xac", 12);
	CHECK_STR(sb_str(&sb), "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd€\"");
	sb_free(&sb);
}

static void test_int_and_readable(void)
{
	struct rec r;
	struct dnode n;
	int64_t v = 0;

	rec_init(&r);
	put(&r, 0, 0xff, 1);
	n = node(DN_SCALAR, type("int8"), 0);
	CHECK(decode__int(&r.c, &n, &v) == 0 && v == -1, "int8 0xff: %lld", (long long)v);
	n = node(DN_SCALAR, type("uint8"), 0);
	CHECK(decode__int(&r.c, &n, &v) == 0 && v == 255, "uint8 0xff: %lld", (long long)v);
	n.avail = DA_FLOATREG;
	CHECK(decode__int(&r.c, &n, &v) == -ENOENT, "unreadable");
	CHECK(!decode__readable(&r.c, &n), "a float register is not readable");
}

int main(void)
{
	ts = gotypes__new();
	L = luaL_newstate();
	luaL_openlibs(L);
	decode__init_lua(L);
	if (luaL_dostring(L, LUA_SHOW) != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		return 1;
	}
	lua_setfield(L, LUA_REGISTRYINDEX, "show");

	RUN(test_walker_sequences_shown_and_total);
	RUN(test_walker_keys_and_groups);
	RUN(test_integers_of_each_size_and_sign);
	RUN(test_floats_and_complex);
	RUN(test_unreadable_and_not_captured);
	RUN(test_strings);
	RUN(test_flat_slices);
	RUN(test_byte_slices);
	RUN(test_slices_of_children);
	RUN(test_arrays);
	RUN(test_structs_and_keys);
	RUN(test_pointers);
	RUN(test_interfaces);
	RUN(test_maps_chans_funcs);
	RUN(test_load_bias);
	RUN(test_quoting_helpers);
	RUN(test_int_and_readable);

	lua_close(L);
	gotypes__free(ts);
	return unit_summary();
}
