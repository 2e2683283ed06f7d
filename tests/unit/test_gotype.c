// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Go type model: predeclared types, derived types, the type-spec parser
 * (layouts checked against Go's rules for amd64) and field promotion.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "gotype.h"
#include "unit.h"

static struct gotypes *ts;

/* Named types the parser resolves through the lookup callback. */
static const struct gotype *t_inner, *t_small, *t_other, *t_pair;
static char last_lookup[128];

static const struct gotype *lookup(void *ctx, const char *name)
{
	(void)ctx;
	snprintf(last_lookup, sizeof(last_lookup), "%s", name);
	if (strcmp(name, "main.Inner") == 0)
		return t_inner;
	if (strcmp(name, "main.Small") == 0 || strcmp(name, "net/http.Request") == 0)
		return t_small;
	if (strcmp(name, "main.Other") == 0)
		return t_other;
	if (strcmp(name, "main.Pair[string,int]") == 0)
		return t_pair;
	return NULL;
}

static const struct gotype *parse(const char *spec)
{
	const struct gotype *t = NULL;
	char err[256];
	int ret = gotypes__parse(ts, spec, lookup, NULL, &t, err, sizeof(err));

	CHECK(ret == 0, "parse(\"%s\") = %d: %s", spec, ret, err);
	return ret == 0 ? t : NULL;
}

/* The message of a failing parse ("" if it did not fail with -EINVAL). */
static const char *parse_err(const char *spec)
{
	static char err[256];
	const struct gotype *t = NULL;
	int ret = gotypes__parse(ts, spec, lookup, NULL, &t, err, sizeof(err));

	CHECK(ret == -EINVAL, "parse(\"%s\") = %d, want -EINVAL", spec, ret);
	return ret == -EINVAL ? err : "";
}

static void check_type(const char *spec, enum gokind kind, const char *name, uint64_t size,
		       uint32_t align)
{
	const struct gotype *t = parse(spec);

	if (!t)
		return;
	CHECK(t->kind == kind, "%s: kind %d, want %d", spec, t->kind, kind);
	CHECK_STR(t->name, name);
	CHECK(t->size == size, "%s: size %lu, want %lu", spec, (unsigned long)t->size,
	      (unsigned long)size);
	CHECK(t->align == align, "%s: align %u, want %u", spec, t->align, align);
}

static void check_field(const struct gotype *t, size_t i, const char *name, uint64_t offset,
			const char *type)
{
	if (!t || i >= t->nfields) {
		CHECK(0, "no field %zu (%s)", i, name);
		return;
	}
	CHECK_STR(t->fields[i].name, name);
	CHECK(t->fields[i].offset == offset, "%s: offset %lu, want %lu", name,
	      (unsigned long)t->fields[i].offset, (unsigned long)offset);
	CHECK_STR(t->fields[i].type->name, type);
}

static void test_builtin_sizes_and_aligns(void)
{
	static const struct {
		const char *name, *want_name;
		enum gokind kind;
		uint64_t size;
		uint32_t align;
	} cases[] = {
		{"bool", "bool", GK_BOOL, 1, 1},
		{"int8", "int8", GK_INT, 1, 1},
		{"int16", "int16", GK_INT, 2, 2},
		{"int32", "int32", GK_INT, 4, 4},
		{"int64", "int64", GK_INT, 8, 8},
		{"int", "int", GK_INT, 8, 8},
		{"uint8", "uint8", GK_UINT, 1, 1},
		{"uint16", "uint16", GK_UINT, 2, 2},
		{"uint32", "uint32", GK_UINT, 4, 4},
		{"uint64", "uint64", GK_UINT, 8, 8},
		{"uint", "uint", GK_UINT, 8, 8},
		{"uintptr", "uintptr", GK_UINTPTR, 8, 8},
		{"byte", "uint8", GK_UINT, 1, 1},
		{"rune", "int32", GK_INT, 4, 4},
		{"float32", "float32", GK_FLOAT, 4, 4},
		{"float64", "float64", GK_FLOAT, 8, 8},
		/* complex numbers align like their float halves */
		{"complex64", "complex64", GK_COMPLEX, 8, 4},
		{"complex128", "complex128", GK_COMPLEX, 16, 8},
		{"string", "string", GK_STRING, 16, 8},
		{"error", "error", GK_IFACE, 16, 8},
		{"any", "interface {}", GK_EFACE, 16, 8},
		{"interface{}", "interface {}", GK_EFACE, 16, 8},
		{"unsafe.Pointer", "unsafe.Pointer", GK_UNSAFEPTR, 8, 8},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct gotype *t = gotypes__builtin(ts, cases[i].name);

		CHECK(t != NULL, "builtin %s missing", cases[i].name);
		if (!t)
			continue;
		CHECK(t->kind == cases[i].kind, "%s: kind %d", cases[i].name, t->kind);
		CHECK_STR(t->name, cases[i].want_name);
		CHECK(t->size == cases[i].size, "%s: size %lu", cases[i].name,
		      (unsigned long)t->size);
		CHECK(t->align == cases[i].align, "%s: align %u", cases[i].name, t->align);
	}
	CHECK(gotypes__builtin(ts, "byte") == gotypes__builtin(ts, "uint8"), "byte is not uint8");
	CHECK(gotypes__builtin(ts, "rune") == gotypes__builtin(ts, "int32"), "rune is not int32");
	CHECK(gotypes__builtin(ts, "any") == gotypes__builtin(ts, "interface{}"), "any");
	CHECK(gotypes__builtin(ts, "strng") == NULL, "unknown builtin found");
	CHECK(gotypes__builtin(ts, "main.T") == NULL, "named type is not builtin");
	CHECK(gotype__is_error(gotypes__builtin(ts, "error")), "error is not error");
	CHECK(!gotype__is_error(gotypes__builtin(ts, "any")), "any is error");
	CHECK(!gotype__is_error(NULL), "NULL is error");
}

static void test_derived_types_are_memoized(void)
{
	const struct gotype *i64 = gotypes__builtin(ts, "int64");
	const struct gotype *p = gotypes__ptr_to(ts, i64), *s = gotypes__slice_of(ts, i64);
	const struct gotype *a = gotypes__array_of(ts, i64, 5);

	CHECK(p && p == gotypes__ptr_to(ts, i64), "ptr_to not memoized");
	CHECK(s && s == gotypes__slice_of(ts, i64), "slice_of not memoized");
	CHECK(a && a == gotypes__array_of(ts, i64, 5), "array_of not memoized");
	CHECK(a != gotypes__array_of(ts, i64, 6), "array lengths share a type");
	if (!p || !s || !a)
		return;
	CHECK_STR(p->name, "*int64");
	CHECK(p->kind == GK_PTR && p->elem == i64 && p->size == 8, "ptr");
	CHECK_STR(s->name, "[]int64");
	CHECK(s->kind == GK_SLICE && s->elem == i64 && s->size == 24 && s->align == 8, "slice");
	CHECK_STR(a->name, "[5]int64");
	CHECK(a->kind == GK_ARRAY && a->len == 5 && a->size == 40 && a->align == 8, "array");
	/* Many distinct derived types: the memo table grows and keeps every one. */
	for (uint64_t n = 0; n < 2000; n++) {
		const struct gotype *t = gotypes__array_of(ts, i64, n);

		CHECK(t && t->len == n && t == gotypes__array_of(ts, i64, n), "array %lu",
		      (unsigned long)n);
	}
	CHECK(gotypes__ptr_to(ts, NULL) == NULL, "ptr_to(NULL)");
}

static void test_parse_basic_and_composite_forms(void)
{
	const struct gotype *t;

	check_type("int", GK_INT, "int", 8, 8);
	check_type("  byte ", GK_UINT, "uint8", 1, 1);
	check_type("[]byte", GK_SLICE, "[]uint8", 24, 8);
	check_type("[4]int", GK_ARRAY, "[4]int", 32, 8);
	check_type("[0]int", GK_ARRAY, "[0]int", 0, 8);
	check_type("[2][3]int16", GK_ARRAY, "[2][3]int16", 12, 2);
	check_type("[3]complex64", GK_ARRAY, "[3]complex64", 24, 4);
	check_type("*string", GK_PTR, "*string", 8, 8);
	check_type("**int", GK_PTR, "**int", 8, 8);
	check_type("map[string][]int", GK_MAP, "map[string][]int", 8, 8);
	check_type("chan int", GK_CHAN, "chan int", 8, 8);
	check_type("<-chan int", GK_CHAN, "<-chan int", 8, 8);
	check_type("chan<- int", GK_CHAN, "chan<- int", 8, 8);
	check_type("chan (<-chan int)", GK_CHAN, "chan (<-chan int)", 8, 8);
	check_type("chan<- chan int", GK_CHAN, "chan<- chan int", 8, 8);
	check_type("func(int) string", GK_FUNC, "func(int) string", 8, 8);
	check_type("func()", GK_FUNC, "func()", 8, 8);
	check_type("func(int, ...string) (bool, error)", GK_FUNC,
		   "func(int, ...string) (bool, error)", 8, 8);
	check_type("func(func() int) (int)", GK_FUNC, "func(func() int) int", 8, 8);
	check_type("interface{}", GK_EFACE, "interface {}", 16, 8);
	check_type("interface { }", GK_EFACE, "interface {}", 16, 8);
	check_type("any", GK_EFACE, "interface {}", 16, 8);
	check_type("error", GK_IFACE, "error", 16, 8);
	check_type("unsafe.Pointer", GK_UNSAFEPTR, "unsafe.Pointer", 8, 8);
	check_type("(int)", GK_INT, "int", 8, 8);
	check_type("[]*map[string]error", GK_SLICE, "[]*map[string]error", 24, 8);

	t = parse("map[string][]int");
	if (t) {
		CHECK_STR(t->key->name, "string");
		CHECK_STR(t->elem->name, "[]int");
		CHECK_STR(t->elem->elem->name, "int");
	}
	t = parse("<-chan *int");
	if (t)
		CHECK_STR(t->elem->name, "*int");
	t = parse("[3]int");
	if (t)
		CHECK(t->len == 3 && t->elem == gotypes__builtin(ts, "int"), "[3]int elem/len");
	/* The parser derives through the memo too. */
	CHECK(parse("*int") == gotypes__ptr_to(ts, gotypes__builtin(ts, "int")), "*int memo");
}

static void test_parse_named_types_through_lookup(void)
{
	const struct gotype *t;

	CHECK(parse("main.Small") == t_small, "main.Small");
	CHECK(parse("net/http.Request") == t_small, "net/http.Request");
	t = parse("*net/http.Request");
	if (t) {
		CHECK(t->kind == GK_PTR && t->elem == t_small, "*net/http.Request");
		CHECK_STR(t->name, "*main.Small");
	}
	t = parse("[]main.Inner");
	if (t)
		CHECK(t->elem == t_inner, "[]main.Inner");
	/* Type arguments are passed on as Go spells them in names: no space after the comma. */
	CHECK(parse("main.Pair[string, int]") == t_pair, "generic instance");
	CHECK_STR(last_lookup, "main.Pair[string,int]");
	t = parse("map[main.Pair[string,int]]bool");
	if (t)
		CHECK(t->key == t_pair, "generic instance as a map key");
	/* Without a lookup function, only predeclared types resolve. */
	{
		const struct gotype *out = NULL;
		char err[128];

		CHECK(gotypes__parse(ts, "main.Small", NULL, NULL, &out, err, sizeof(err)) ==
			      -EINVAL,
		      "parsed a named type without lookup");
		CHECK_STR(err, "unknown type 'main.Small' at column 1");
		CHECK(gotypes__parse(ts, "[]int", NULL, NULL, &out, NULL, 0) == 0,
		      "no lookup, no error buffer");
	}
}

/*
 * Struct layouts, with the offsets Go computes (cmd/compile types.CalcSize on
 * amd64): each field at the next multiple of its alignment, the struct
 * aligned to its largest field alignment, size rounded up to that; a
 * non-empty struct ending in a zero-size field gets one byte more.
 */
static void test_parse_struct_layouts(void)
{
	const struct gotype *t;

	t = parse("struct{ A int; B string }");
	if (t) {
		CHECK_STR(t->name, "struct { A int; B string }");
		CHECK(t->kind == GK_STRUCT && t->nfields == 2, "fields %zu", t->nfields);
		/* A: 0..8; B (align 8): 8..24 */
		check_field(t, 0, "A", 0, "int");
		check_field(t, 1, "B", 8, "string");
		CHECK(t->size == 24 && t->align == 8, "size %lu align %u", (unsigned long)t->size,
		      t->align);
	}

	/* Same layout as main.Padded in tests/go/types, whose -layout prints A0 B8 C16 D20 E24 F28
	 * G36, size 48. */
	t = parse("struct { A int8; B int64; C int16; D int32; E int8; F complex64; G [3]uint16 }");
	if (t) {
		check_field(t, 0, "A", 0, "int8");	 /* 0..1 */
		check_field(t, 1, "B", 8, "int64");	 /* 1 -> 8 (align 8), ..16 */
		check_field(t, 2, "C", 16, "int16");	 /* ..18 */
		check_field(t, 3, "D", 20, "int32");	 /* 18 -> 20 (align 4), ..24 */
		check_field(t, 4, "E", 24, "int8");	 /* ..25 */
		check_field(t, 5, "F", 28, "complex64"); /* 25 -> 28 (align 4), ..36 */
		check_field(t, 6, "G", 36, "[3]uint16"); /* align 2, ..42 */
		/* 42 rounded up to the largest alignment, 8 */
		CHECK(t->size == 48 && t->align == 8, "Padded: size %lu align %u",
		      (unsigned long)t->size, t->align);
	}

	t = parse("struct { A, B int32; C bool }");
	if (t) {
		CHECK_STR(t->name, "struct { A int32; B int32; C bool }");
		check_field(t, 0, "A", 0, "int32");
		check_field(t, 1, "B", 4, "int32");
		check_field(t, 2, "C", 8, "bool");
		/* 9 rounded up to align 4 */
		CHECK(t->size == 12 && t->align == 4, "size %lu align %u", (unsigned long)t->size,
		      t->align);
	}

	t = parse("struct { A byte; B [3]byte; C uint16 }");
	if (t) {
		check_field(t, 1, "B", 1, "[3]uint8");
		check_field(t, 2, "C", 4, "uint16");
		CHECK(t->size == 6 && t->align == 2, "size %lu", (unsigned long)t->size);
	}

	t = parse("struct { A bool; B complex128 }");
	if (t) {
		check_field(t, 1, "B", 8, "complex128");
		CHECK(t->size == 24 && t->align == 8, "size %lu", (unsigned long)t->size);
	}

	check_type("struct{}", GK_STRUCT, "struct {}", 0, 1);
	check_type("struct { A struct{}; B [0]int }", GK_STRUCT, "struct { A struct {}; B [0]int }",
		   0, 8);
	/* A: 0..8, B: zero size at 8 = end: one byte of padding, then 9 -> 16 */
	check_type("struct { A int64; B struct{} }", GK_STRUCT, "struct { A int64; B struct {} }",
		   16, 8);
	/* zero-size field first: no padding */
	check_type("struct { B struct{}; A int32 }", GK_STRUCT, "struct { B struct {}; A int32 }",
		   4, 4);

	/* Tags are accepted and left out of the name; newlines separate fields too. */
	t = parse("struct {\n\tA int `json:\"a\"`\n\tB string \"x\\\"y\"\n}");
	if (t) {
		CHECK_STR(t->name, "struct { A int; B string }");
		check_field(t, 1, "B", 8, "string");
	}

	t = parse("struct { A struct { X int8; Y int64 }; B int8 }");
	if (t) {
		/* inner: X 0, Y 8, size 16 align 8; B at 16; size 17 -> 24 */
		check_field(t, 0, "A", 0, "struct { X int8; Y int64 }");
		check_field(t, 1, "B", 16, "int8");
		CHECK(t->size == 24, "nested size %lu", (unsigned long)t->size);
		check_field(t->fields[0].type, 1, "Y", 8, "int64");
	}
}

static void test_parse_embedded_fields(void)
{
	const struct gotype *t;

	/* main.Inner is {X, Y int32} (size 8 align 4), main.Small {A int; B string} (size 24). */
	t = parse("struct { Flag bool; main.Inner; Name string; *main.Small }");
	if (!t)
		return;
	CHECK_STR(t->name, "struct { Flag bool; main.Inner; Name string; *main.Small }");
	check_field(t, 0, "Flag", 0, "bool");
	check_field(t, 1, "Inner", 4, "main.Inner"); /* 1 -> 4 */
	check_field(t, 2, "Name", 16, "string");     /* 12 -> 16 */
	check_field(t, 3, "Small", 32, "*main.Small");
	CHECK(t->size == 40, "size %lu", (unsigned long)t->size); /* as main.Outer */
	CHECK(t->fields[1].embedded && t->fields[3].embedded && !t->fields[0].embedded &&
		      !t->fields[2].embedded,
	      "embedded flags");

	/* An unqualified embedded name goes through lookup too; unknown ones fail. */
	CHECK_STR(parse_err("struct { Missing; X int }"), "unknown type 'Missing' at column 10");
	CHECK_STR(parse_err("struct { *[]int }"),
		  "embedded field must be a type name at column 10");
}

static void test_parse_errors_name_the_column(void)
{
	char deep[200];

	CHECK_STR(parse_err("strng"), "unknown type 'strng' at column 1");
	CHECK_STR(parse_err("[]strng"), "unknown type 'strng' at column 3");
	CHECK_STR(parse_err("[4int"), "expected ']' at column 3");
	CHECK_STR(parse_err("[10 int"), "expected ']' at column 5");
	CHECK_STR(parse_err("map[string"), "expected ']' at column 11");
	CHECK_STR(parse_err("map string"), "expected '[' at column 5");
	CHECK_STR(parse_err(""), "expected a type at column 1");
	CHECK_STR(parse_err("*"), "expected a type at column 2");
	CHECK_STR(parse_err("int int"), "unexpected 'int' at column 5");
	CHECK_STR(parse_err("int]"), "unexpected ']' at column 4");
	CHECK_STR(parse_err("[x]int"), "expected array length or ']' at column 2");
	CHECK_STR(parse_err("<-int"), "expected 'chan' at column 3");
	CHECK_STR(parse_err("chan"), "expected a type at column 5");
	CHECK_STR(parse_err("struct{ A int"), "expected ';' or '}' at column 14");
	CHECK_STR(parse_err("struct{ A int; 5 }"), "expected field name or '}' at column 16");
	CHECK_STR(parse_err("struct { A, }"), "expected field name at column 13");
	CHECK_STR(parse_err("struct { A, B; C int }"), "expected a type at column 14");
	CHECK_STR(parse_err("struct { A, *B int }"), "expected field name at column 13");
	CHECK_STR(parse_err("struct { A, x.B int }"), "expected field name at column 13");
	CHECK_STR(parse_err("struct { A int `x }"), "unterminated tag at column 16");
	CHECK_STR(parse_err("func(int"), "expected ',' at column 9");
	CHECK_STR(parse_err("func(...int, bool)"), "expected ')' at column 12");
	CHECK_STR(parse_err("interface{ String() string }"),
		  "expected '}' (only interface{} can be written; name other interface types) at "
		  "column 12");
	CHECK_STR(parse_err("main.Pair[string"), "expected ']' at column 17");
	CHECK_STR(parse_err("[99999999999999999999]int"), "array length too large at column 2");
	CHECK_STR(parse_err("[4611686018427387904]int64"), "array too large at column 1");
	CHECK_STR(parse_err("struct { A [2305843009213693952]int32; B [2305843009213693952]int32; "
			    "C int8 }"),
		  "struct too large at column 40");

	/* Nesting is bounded: the 65th level is refused where it starts. */
	memset(deep, '*', 100);
	strcpy(deep + 100, "int");
	CHECK_STR(parse_err(deep), "type nested too deeply at column 65");
	memset(deep, '[', 150);
	deep[150] = '\0';
	CHECK_STR(parse_err(deep), "expected array length or ']' at column 2");
	for (int i = 0; i < 60; i++)
		memcpy(deep + 2 * i, "[]", 2);
	strcpy(deep + 120, "int");
	CHECK(parse(deep) != NULL, "60 levels of slices");

	/* A short error buffer truncates, a missing one is fine. */
	{
		const struct gotype *t;
		char small[8];

		CHECK(gotypes__parse(ts, "strng", lookup, NULL, &t, small, sizeof(small)) ==
			      -EINVAL,
		      "short buffer");
		CHECK_STR(small, "unknown");
		CHECK(gotypes__parse(ts, "strng", lookup, NULL, &t, NULL, 0) == -EINVAL,
		      "no buffer");
	}
}

/* Deterministic pseudo-random numbers for the generator below. */
static unsigned rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

/* Append a random valid type spec to buf (depth-limited). */
static void gen_type(char *buf, size_t len, int depth)
{
	static const char *const leaves[] = {"int",	   "string",	  "byte",
					     "main.Small", "error",	  "any",
					     "complex64",  "*main.Inner", "interface{}"};
	size_t used = strlen(buf);
	unsigned k = depth > 4 ? 0 : rnd(9);

	if (used + 64 > len)
		k = 0;
	switch (k) {
	case 0:
		strncat(buf, leaves[rnd(sizeof(leaves) / sizeof(leaves[0]))], len - used - 1);
		return;
	case 1:
		strncat(buf, "[]", len - used - 1);
		break;
	case 2:
		snprintf(buf + used, len - used, "[%u]", rnd(5));
		break;
	case 3:
		strncat(buf, "*", len - used - 1);
		break;
	case 4:
		strncat(buf, "map[", len - used - 1);
		gen_type(buf, len, depth + 1);
		strncat(buf, "]", len - strlen(buf) - 1);
		break;
	case 5:
		strncat(buf, rnd(2) ? "chan " : "<-chan ", len - used - 1);
		break;
	case 6:
		strncat(buf, "func(", len - used - 1);
		gen_type(buf, len, depth + 1);
		strncat(buf, ") ", len - strlen(buf) - 1);
		break;
	default:
		strncat(buf, "struct { A ", len - used - 1);
		gen_type(buf, len, depth + 1);
		strncat(buf, "; main.Inner; B, C ", len - strlen(buf) - 1);
		gen_type(buf, len, depth + 1);
		strncat(buf, " }", len - strlen(buf) - 1);
		return;
	}
	gen_type(buf, len, depth + 1);
}

/*
 * Random valid specs must parse; the same specs with a byte deleted,
 * duplicated or replaced must answer 0 or -EINVAL with a column, never crash.
 */
static void test_parse_random_input_is_safe(void)
{
	static const char junk[] = "[]*(){};,.`\"<-x9 \n\001\377";
	int ok = 0, bad = 0;

	for (int i = 0; i < 5000; i++) {
		char spec[512] = "", mut[520];
		const struct gotype *t;
		char err[160];
		size_t n, at;
		int ret;

		gen_type(spec, sizeof(spec), 0);
		ret = gotypes__parse(ts, spec, lookup, NULL, &t, err, sizeof(err));
		CHECK(ret == 0 && t && t->name, "\"%s\": %d %s", spec, ret, err);

		n = strlen(spec);
		at = rnd((unsigned)n);
		switch (rnd(3)) {
		case 0: /* delete */
			memcpy(mut, spec, at);
			strcpy(mut + at, spec + at + 1);
			break;
		case 1: /* duplicate */
			memcpy(mut, spec, at + 1);
			strcpy(mut + at + 1, spec + at);
			break;
		default: /* replace */
			strcpy(mut, spec);
			mut[at] = junk[rnd(sizeof(junk) - 1)];
			break;
		}
		ret = gotypes__parse(ts, mut, lookup, NULL, &t, err, sizeof(err));
		if (ret == 0) {
			ok++;
			CHECK(t && t->name, "\"%s\": no type", mut);
		} else {
			bad++;
			CHECK(ret == -EINVAL && strstr(err, " at column "), "\"%s\": %d %s", mut,
			      ret, err);
		}
	}
	CHECK(ok > 100 && bad > 1000, "ok %d bad %d", ok, bad);
}

static void test_field_promotion(void)
{
	const struct gotype *outer, *amb, *shadow;
	const struct gofield *f, *path[4];
	uint64_t off = 0;
	int n;

	outer = parse("struct { Flag bool; main.Inner; Name string; *main.Small }");
	if (!outer)
		return;
	f = gotype__field(outer, "Name", &off);
	CHECK(f && off == 16, "Name at %lu", (unsigned long)off);
	/* promoted from Inner (at 4): X at 4+0, Y at 4+4 */
	f = gotype__field(outer, "X", &off);
	CHECK(f && off == 4 && strcmp(f->type->name, "int32") == 0, "X at %lu", (unsigned long)off);
	f = gotype__field(outer, "Y", &off);
	CHECK(f && off == 8, "Y at %lu", (unsigned long)off);
	f = gotype__field(outer, "Inner", &off);
	CHECK(f && f->embedded && off == 4, "Inner at %lu", (unsigned long)off);
	/* A and B live behind the embedded *main.Small: no fixed offset */
	CHECK(gotype__field(outer, "A", &off) == NULL, "A through a pointer has an offset");
	n = gotype__field_path(outer, "B", path, 4);
	CHECK(n == 2, "path to B: %d", n);
	if (n == 2) {
		CHECK_STR(path[0]->name, "Small");
		CHECK(path[0]->offset == 32 && path[0]->type->kind == GK_PTR, "via *Small");
		CHECK_STR(path[1]->name, "B");
		CHECK(path[1]->offset == 8, "B at 8 in Small");
	}
	n = gotype__field_path(outer, "Y", path, 4);
	CHECK(n == 2 && path[0]->offset == 4 && path[1]->offset == 4, "path to Y: %d", n);
	CHECK(gotype__field_path(outer, "Y", path, 1) == -E2BIG, "short path buffer");
	CHECK(gotype__field_path(outer, "Nope", path, 4) == -ENOENT, "missing field path");
	CHECK(gotype__field(outer, "Nope", &off) == NULL, "missing field");
	CHECK(gotype__field(gotypes__builtin(ts, "int"), "X", &off) == NULL, "field of int");
	CHECK(gotype__field(NULL, "X", &off) == NULL, "field of NULL");

	/* main.Other also has X: two at the same depth make it ambiguous, as in Go */
	amb = parse("struct { main.Inner; main.Other }");
	CHECK(amb && gotype__field(amb, "X", &off) == NULL, "ambiguous X found");
	f = amb ? gotype__field(amb, "Z", &off) : NULL;
	/* Inner: 0..8, Other (align 8) at 8, Z at 8 in it */
	CHECK(f && off == 16, "Z at %lu", (unsigned long)off);

	/* the shallower field wins */
	shadow = parse("struct { main.Inner; X string }");
	f = shadow ? gotype__field(shadow, "X", &off) : NULL;
	CHECK(f && off == 8 && strcmp(f->type->name, "string") == 0, "shadowing X");
}

static void test_field_promotion_two_levels(void)
{
	struct gotype *mid, *top;
	struct gofield *mf, *tf;
	const struct gotype *i8 = gotypes__builtin(ts, "int8");
	const struct gofield *f;
	uint64_t off = 0;

	/* type Mid struct { Q int8; Inner }   Q 0, Inner 4 (align 4), size 12 */
	mid = gotypes__new_type(ts, GK_STRUCT, "main.Mid", 12, 4);
	mf = gotypes__alloc(ts, 2 * sizeof(*mf));
	/* type Top struct { P [3]int8; Mid }  Mid at 4 */
	top = gotypes__new_type(ts, GK_STRUCT, "main.Top", 16, 4);
	tf = gotypes__alloc(ts, 2 * sizeof(*tf));
	if (!mid || !mf || !top || !tf) {
		CHECK(0, "out of memory");
		return;
	}
	mf[0] = (struct gofield){"Q", 0, i8, false};
	mf[1] = (struct gofield){"Inner", 4, t_inner, true};
	mid->fields = mf;
	mid->nfields = 2;
	tf[0] = (struct gofield){"P", 0, gotypes__array_of(ts, i8, 3), false};
	tf[1] = (struct gofield){"Mid", 4, mid, true};
	top->fields = tf;
	top->nfields = 2;

	/* Y: Mid at 4 + Inner at 4 + Y at 4 */
	f = gotype__field(top, "Y", &off);
	CHECK(f && off == 12, "Y at %lu", (unsigned long)off);
	f = gotype__field(top, "Q", &off);
	CHECK(f && off == 4, "Q at %lu", (unsigned long)off);
}

/* type Node struct { Next *Node; Node2 } style cycles through embedded pointers terminate. */
static void test_field_promotion_cycle(void)
{
	struct gotype *node = gotypes__new_type(ts, GK_STRUCT, "main.Node", 16, 8);
	struct gofield *f = gotypes__alloc(ts, 2 * sizeof(*f));
	uint64_t off;

	if (!node || !f) {
		CHECK(0, "out of memory");
		return;
	}
	f[0] = (struct gofield){"Val", 0, gotypes__builtin(ts, "int"), false};
	f[1] = (struct gofield){"Node", 8, gotypes__ptr_to(ts, node), true};
	node->fields = f;
	node->nfields = 2;
	CHECK(gotype__field(node, "Missing", &off) == NULL, "cycle");
	CHECK(gotype__field(node, "Val", &off) != NULL && off == 0, "Val");
}

static void setup(void)
{
	struct gotype *inner, *small, *other, *pair;
	struct gofield *f;

	ts = gotypes__new();
	inner = gotypes__new_type(ts, GK_STRUCT, "main.Inner", 8, 4);
	small = gotypes__new_type(ts, GK_STRUCT, "main.Small", 24, 8);
	other = gotypes__new_type(ts, GK_STRUCT, "main.Other", 16, 8);
	pair = gotypes__new_type(ts, GK_STRUCT, "main.Pair[string,int]", 24, 8);
	f = gotypes__alloc(ts, 8 * sizeof(*f));
	if (!ts || !inner || !small || !other || !pair || !f) {
		fprintf(stderr, "setup: out of memory\n");
		exit(1);
	}
	f[0] = (struct gofield){"X", 0, gotypes__builtin(ts, "int32"), false};
	f[1] = (struct gofield){"Y", 4, gotypes__builtin(ts, "int32"), false};
	inner->fields = &f[0];
	inner->nfields = 2;
	f[2] = (struct gofield){"A", 0, gotypes__builtin(ts, "int"), false};
	f[3] = (struct gofield){"B", 8, gotypes__builtin(ts, "string"), false};
	small->fields = &f[2];
	small->nfields = 2;
	f[4] = (struct gofield){"X", 0, gotypes__builtin(ts, "int64"), false};
	f[5] = (struct gofield){"Z", 8, gotypes__builtin(ts, "int64"), false};
	other->fields = &f[4];
	other->nfields = 2;
	f[6] = (struct gofield){"Key", 0, gotypes__builtin(ts, "string"), false};
	f[7] = (struct gofield){"Val", 16, gotypes__builtin(ts, "int"), false};
	pair->fields = &f[6];
	pair->nfields = 2;
	t_inner = inner;
	t_small = small;
	t_other = other;
	t_pair = pair;
}

int main(void)
{
	setup();
	RUN(test_builtin_sizes_and_aligns);
	RUN(test_derived_types_are_memoized);
	RUN(test_parse_basic_and_composite_forms);
	RUN(test_parse_named_types_through_lookup);
	RUN(test_parse_struct_layouts);
	RUN(test_parse_embedded_fields);
	RUN(test_parse_errors_name_the_column);
	RUN(test_parse_random_input_is_safe);
	RUN(test_field_promotion);
	RUN(test_field_promotion_two_levels);
	RUN(test_field_promotion_cycle);
	gotypes__free(ts);
	gotypes__free(NULL);
	return unit_summary();
}
