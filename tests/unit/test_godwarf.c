// SPDX-License-Identifier: BSD-2-Clause
/*
 * The DWARF reader against real Go binaries: tests/go/types (built by
 * tests/go/build.sh, with its own layout printed by the program itself) and
 * esbuild binaries built by Go 1.13 and 1.14 (compressed .zdebug sections).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "gobin.h"
#include "godwarf.h"
#include "log.h"
#include "unit.h"

struct want {
	const char *name;
	bool result;
	const char *type;
	enum gokind kind;
	uint64_t size;
};

#define P(n, t, k, s)                                                                              \
	{                                                                                          \
		n, false, t, k, s                                                                  \
	}
#define R(n, t, k, s)                                                                              \
	{                                                                                          \
		n, true, t, k, s                                                                   \
	}
#define END                                                                                        \
	{                                                                                          \
		NULL, false, NULL, GK_INVALID, 0                                                   \
	}

static const char *types_path(const char *variant)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "types/%s", variant);
	return gotarget(rel);
}

static const char *gobin_path(const char *label)
{
	static char path[512];
	const char *cache = getenv("LUPROBE_GOBINS");

	snprintf(path, sizeof(path), "%s/%s/esbuild", cache && *cache ? cache : ".cache/gobins",
		 label);
	return path;
}

/* The Go release that built the types target (its minor number), from its buildinfo. */
static int types_go_minor(void)
{
	static int minor = -1;
	struct gobin *gb;

	if (minor < 0) {
		minor = 0;
		if (gobin__open(types_path("default"), &gb) == 0) {
			minor = gobin__info(gb)->go_minor;
			gobin__free(gb);
		}
	}
	return minor;
}

/* Open the types target's DWARF, or say why not. */
static struct godwarf *open_types(struct gotypes *ts)
{
	struct godwarf *dw = NULL;
	int err;

	if (access(types_path("default"), R_OK) != 0)
		return NULL;
	err = godwarf__open(types_path("default"), ts, &dw);
	CHECK(err == 0, "godwarf__open(%s) = %d: %s", types_path("default"), err, lp_lasterr());
	return dw;
}

static void check_params(struct godwarf *dw, const char *func, uint64_t entry,
			 const struct want *want)
{
	const struct goparam *p = NULL;
	size_t n = 0, i, nwant = 0;
	int err = godwarf__func_params_at(dw, func, entry, &p, &n);

	while (want[nwant].name)
		nwant++;
	CHECK(err == 0, "%s: %d", func, err);
	if (err)
		return;
	CHECK(n == nwant, "%s: %zu parameters, want %zu", func, n, nwant);
	for (i = 0; i < n && i < nwant; i++) {
		const struct want *w = &want[i];

		CHECK(strcmp(p[i].name, w->name) == 0, "%s: parameter %zu is %s, want %s", func, i,
		      p[i].name, w->name);
		CHECK(p[i].is_result == w->result, "%s: %s: is_result %d", func, w->name,
		      p[i].is_result);
		CHECK(p[i].type && p[i].type->kind == w->kind, "%s: %s: kind %d, want %d", func,
		      w->name, p[i].type ? (int)p[i].type->kind : -1, w->kind);
		CHECK(p[i].type && p[i].type->size == w->size, "%s: %s: size %lu, want %lu", func,
		      w->name, p[i].type ? (unsigned long)p[i].type->size : 0,
		      (unsigned long)w->size);
		if (w->type)
			CHECK(p[i].type && p[i].type->name && strcmp(p[i].type->name, w->type) == 0,
			      "%s: %s: type %s, want %s", func, w->name,
			      p[i].type && p[i].type->name ? p[i].type->name : "(null)", w->type);
	}
}

/* One row per function of tests/go/types/main.go, parameters as declared there. */
static const struct want w_bool[] = {P("b", "bool", GK_BOOL, 1), R("~r0", "bool", GK_BOOL, 1), END};
static const struct want w_ints[] = {
	P("a", "int8", GK_INT, 1),
	P("b", "int16", GK_INT, 2),
	P("c", "int32", GK_INT, 4),
	P("d", "int64", GK_INT, 8),
	P("e", "int", GK_INT, 8),
	R("~r0", "int64", GK_INT, 8),
	END,
};
static const struct want w_uints[] = {
	P("a", "uint8", GK_UINT, 1),	P("b", "uint16", GK_UINT, 2),
	P("c", "uint32", GK_UINT, 4),	P("d", "uint64", GK_UINT, 8),
	P("e", "uint", GK_UINT, 8),	P("f", "uintptr", GK_UINTPTR, 8),
	R("~r0", "uint64", GK_UINT, 8), END,
};
static const struct want w_floats[] = {P("a", "float32", GK_FLOAT, 4),
				       P("b", "float64", GK_FLOAT, 8),
				       R("~r0", "float64", GK_FLOAT, 8), END};
static const struct want w_complex[] = {P("a", "complex64", GK_COMPLEX, 8),
					P("b", "complex128", GK_COMPLEX, 16),
					R("~r0", "complex128", GK_COMPLEX, 16), END};
static const struct want w_string[] = {P("s", "string", GK_STRING, 16), R("~r0", "int", GK_INT, 8),
				       END};
static const struct want w_bytes[] = {P("b", "[]uint8", GK_SLICE, 24), R("~r0", "int", GK_INT, 8),
				      END};
static const struct want w_intslice[] = {P("xs", "[]int", GK_SLICE, 24), R("~r0", "int", GK_INT, 8),
					 END};
static const struct want w_array[] = {P("a", "[3]int", GK_ARRAY, 24), R("~r0", "int", GK_INT, 8),
				      END};
static const struct want w_array1[] = {P("a", "[1]string", GK_ARRAY, 16),
				       R("~r0", "string", GK_STRING, 16), END};
static const struct want w_ptrs[] = {P("p", "*int", GK_PTR, 8), P("s", "*main.Small", GK_PTR, 8),
				     R("~r0", "int", GK_INT, 8), END};
static const struct want w_small[] = {P("s", "main.Small", GK_STRUCT, 24),
				      R("~r0", "main.Small", GK_STRUCT, 24), END};
static const struct want w_big[] = {P("b", "main.Big", GK_STRUCT, 128), R("~r0", "int", GK_INT, 8),
				    END};
static const struct want w_padded[] = {P("p", "main.Padded", GK_STRUCT, 48),
				       R("~r0", "int", GK_INT, 8), END};
static const struct want w_request[] = {P("r", "*main.Request", GK_PTR, 8),
					R("~r0", "string", GK_STRING, 16), END};
static const struct want w_error[] = {P("err", "error", GK_IFACE, 16),
				      R("~r0", "string", GK_STRING, 16), END};
static const struct want w_any[] = {P("v", "interface {}", GK_EFACE, 16),
				    R("~r0", "string", GK_STRING, 16), END};
static const struct want w_stringer[] = {P("s", "fmt.Stringer", GK_IFACE, 16),
					 R("~r0", "string", GK_STRING, 16), END};
static const struct want w_map[] = {P("m", "map[string]int", GK_MAP, 8), R("~r0", "int", GK_INT, 8),
				    END};
static const struct want w_chan[] = {P("c", "chan int", GK_CHAN, 8), R("~r0", "int", GK_INT, 8),
				     END};
static const struct want w_recvchan[] = {P("c", "<-chan int", GK_CHAN, 8),
					 R("~r0", "int", GK_INT, 8), END};
static const struct want w_func[] = {P("f", "func(int) int", GK_FUNC, 8), P("x", "int", GK_INT, 8),
				     R("~r0", "int", GK_INT, 8), END};
static const struct want w_unsafe[] = {P("p", "unsafe.Pointer", GK_UNSAFEPTR, 8),
				       P("n", "uintptr", GK_UINTPTR, 8),
				       R("~r0", "uintptr", GK_UINTPTR, 8), END};
static const struct want w_get[] = {P("c", "main.Counter", GK_STRUCT, 24),
				    R("~r0", "int", GK_INT, 8), END};
static const struct want w_add[] = {P("c", "*main.Counter", GK_PTR, 8), P("d", "int", GK_INT, 8),
				    R("~r0", "int", GK_INT, 8), END};
static const struct want w_many[] = {
	P("a1", "int", GK_INT, 8),  P("a2", "int", GK_INT, 8),
	P("a3", "int", GK_INT, 8),  P("a4", "int", GK_INT, 8),
	P("a5", "int", GK_INT, 8),  P("a6", "int", GK_INT, 8),
	P("a7", "int", GK_INT, 8),  P("a8", "int", GK_INT, 8),
	P("a9", "int", GK_INT, 8),  P("a10", "int", GK_INT, 8),
	P("a11", "int", GK_INT, 8), P("a12", "int", GK_INT, 8),
	R("~r0", "int", GK_INT, 8), END,
};
static const struct want w_mixed[] = {
	P("a", "int", GK_INT, 8),
	P("b", "float64", GK_FLOAT, 8),
	P("c", "int32", GK_INT, 4),
	P("d", "float32", GK_FLOAT, 4),
	P("e", "string", GK_STRING, 16),
	R("~r0", "float64", GK_FLOAT, 8),
	END,
};
static const struct want w_multi[] = {
	P("x", "int", GK_INT, 8),
	R("~r0", "int", GK_INT, 8),
	R("~r1", "string", GK_STRING, 16),
	R("~r2", "error", GK_IFACE, 16),
	R("~r3", "float64", GK_FLOAT, 8),
	R("~r4", "main.Small", GK_STRUCT, 24),
	END,
};
static const struct want w_named[] = {P("x", "int", GK_INT, 8), P("s", "string", GK_STRING, 16),
				      R("n", "int", GK_INT, 8), R("err", "error", GK_IFACE, 16),
				      END};
static const struct want w_node[] = {P("n", "*main.Node", GK_PTR, 8), R("~r0", "int", GK_INT, 8),
				     END};
static const struct want w_outer[] = {P("o", "main.Outer", GK_STRUCT, 40),
				      R("~r0", "int", GK_INT, 8), END};
static const struct want w_celsius[] = {P("c", "main.Celsius", GK_FLOAT, 8),
					R("~r0", "main.Celsius", GK_FLOAT, 8), END};
/*
 * fBlank(_ int, s string): the DWARF of Go 1.19 and before leaves "_" out
 * although it occupies RAX; Go 1.26's names it ~p0 (releases in between are
 * not built here: either is accepted).
 */
static const struct want w_blank[] = {P("s", "string", GK_STRING, 16), R("~r0", "int", GK_INT, 8),
				      END};
static const struct want w_blank_named[] = {P("~p0", "int", GK_INT, 8),
					    P("s", "string", GK_STRING, 16),
					    R("~r0", "int", GK_INT, 8), END};
static const struct want w_pair[] = {P("p", "main.Pair[string,int]", GK_STRUCT, 24),
				     R("~r0", "int", GK_INT, 8), END};
static const struct want w_leafint[] = {P("x", "int", GK_INT, 8), R("~r0", "int", GK_INT, 8), END};
static const struct want w_leafstr[] = {P("s", "string", GK_STRING, 16), R("~r0", "int", GK_INT, 8),
					END};
static const struct want w_string_method[] = {P("c", "main.Celsius", GK_FLOAT, 8),
					      R("~r0", "string", GK_STRING, 16), END};
static const struct want w_myerr[] = {P("e", "*main.MyErr", GK_PTR, 8),
				      R("~r0", "string", GK_STRING, 16), END};
static const struct want w_none[] = {END};

static const struct {
	const char *func;
	const struct want *want;
} types_funcs[] = {
	{"main.fBool", w_bool},
	{"main.fInts", w_ints},
	{"main.fUints", w_uints},
	{"main.fFloats", w_floats},
	{"main.fComplex", w_complex},
	{"main.fString", w_string},
	{"main.fBytes", w_bytes},
	{"main.fIntSlice", w_intslice},
	{"main.fArray", w_array},
	{"main.fArray1", w_array1},
	{"main.fPtrs", w_ptrs},
	{"main.fSmall", w_small},
	{"main.fBig", w_big},
	{"main.fPadded", w_padded},
	{"main.fRequest", w_request},
	{"main.fError", w_error},
	{"main.fAny", w_any},
	{"main.fStringer", w_stringer},
	{"main.fMap", w_map},
	{"main.fChan", w_chan},
	{"main.fRecvChan", w_recvchan},
	{"main.fFunc", w_func},
	{"main.fUnsafe", w_unsafe},
	{"main.Counter.Get", w_get},
	{"main.(*Counter).Add", w_add},
	{"main.fMany", w_many},
	{"main.fMixed", w_mixed},
	{"main.fMulti", w_multi},
	{"main.fNamed", w_named},
	{"main.fNode", w_node},
	{"main.fOuter", w_outer},
	{"main.fCelsius", w_celsius},
	{"main.fBlank", w_blank},
	{"main.fPair", w_pair},
	{"main.leafInt", w_leafint},
	{"main.leafStr", w_leafstr},
	/* out-of-line copies of functions also inlined elsewhere: names and types on the abstract
	   DIE */
	{"main.addOne", w_leafint},
	{"main.Celsius.String", w_string_method},
	{"main.(*MyErr).Error", w_myerr},
	{"main.touch", w_none},
};

static bool blank_named(struct godwarf *dw)
{
	const struct goparam *p;
	size_t n;

	return godwarf__func_params(dw, "main.fBlank", &p, &n) == 0 && n == 3;
}

static void test_types_every_function_matches_the_source(void)
{
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = open_types(ts);
	size_t i;

	if (!dw) {
		gotypes__free(ts);
		SKIP("%s absent (run: OUTPUT=.output tests/go/build.sh)", types_path("default"));
	}
	for (i = 0; i < sizeof(types_funcs) / sizeof(types_funcs[0]); i++) {
		const struct want *want = types_funcs[i].want;
		int minor = types_go_minor();

		if (want == w_blank && (minor >= 26 || (minor > 19 && blank_named(dw))))
			want = w_blank_named;
		check_params(dw, types_funcs[i].func, 0, want);
	}
	godwarf__free(dw);
	gotypes__free(ts);
}

static const struct goparam *param(struct godwarf *dw, const char *func, size_t i)
{
	const struct goparam *p;
	size_t n;

	if (godwarf__func_params(dw, func, &p, &n) != 0 || i >= n) {
		CHECK(0, "%s: no parameter %zu", func, i);
		return NULL;
	}
	return &p[i];
}

static void test_types_element_and_field_types(void)
{
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = open_types(ts);
	const struct goparam *p;
	const struct gotype *t, *url;
	const struct gofield *f;
	uint64_t off;

	if (!dw) {
		gotypes__free(ts);
		SKIP("%s absent (run: OUTPUT=.output tests/go/build.sh)", types_path("default"));
	}
	if ((p = param(dw, "main.fBytes", 0)))
		CHECK(p->type->elem == gotypes__builtin(ts, "uint8"), "[]byte elem");
	if ((p = param(dw, "main.fArray", 0)))
		CHECK(p->type->len == 3 && p->type->elem == gotypes__builtin(ts, "int") &&
			      p->type->align == 8,
		      "[3]int len %lu", (unsigned long)p->type->len);
	if ((p = param(dw, "main.fMap", 0)))
		CHECK(p->type->key == gotypes__builtin(ts, "string") &&
			      p->type->elem == gotypes__builtin(ts, "int"),
		      "map key/elem");
	if ((p = param(dw, "main.fChan", 0)))
		CHECK(p->type->elem == gotypes__builtin(ts, "int"), "chan elem");
	if ((p = param(dw, "main.fPtrs", 0)))
		CHECK(p->type->elem == gotypes__builtin(ts, "int"), "*int elem");
	if ((p = param(dw, "main.fError", 0)))
		CHECK(gotype__is_error(p->type), "error is not error");
	if ((p = param(dw, "main.fStringer", 0)))
		CHECK(!gotype__is_error(p->type), "fmt.Stringer is error");
	if ((p = param(dw, "main.fComplex", 0)))
		CHECK(p->type->align == 4, "complex64 align %u", p->type->align);

	/* r.URL.Path: Request.URL at 16 (after Method string), URL.Path at 32 (after two strings)
	 */
	if ((p = param(dw, "main.fRequest", 0))) {
		t = p->type->elem;
		CHECK_STR(t ? t->name : NULL, "main.Request");
		f = t ? gotype__field(t, "URL", &off) : NULL;
		CHECK(f && off == 16, "URL at %lu", (unsigned long)off);
		url = f && f->type->kind == GK_PTR ? f->type->elem : NULL;
		CHECK_STR(url ? url->name : NULL, "main.URL");
		f = url ? gotype__field(url, "Path", &off) : NULL;
		CHECK(f && off == 32 && f->type == gotypes__builtin(ts, "string"), "Path at %lu",
		      (unsigned long)off);
		f = t ? gotype__field(t, "Header", &off) : NULL;
		CHECK(f && strcmp(f->type->name, "map[string][]string") == 0 &&
			      f->type->elem->kind == GK_SLICE,
		      "Header");
	}

	/* The recursive type closes on itself. */
	t = godwarf__type(dw, "main.Node");
	f = t ? gotype__field(t, "Next", &off) : NULL;
	CHECK(f && off == 8 && f->type->kind == GK_PTR && f->type->elem == t, "Node.Next");
	CHECK(t && t == godwarf__type(dw, "main.Node"), "types are memoized");
	if ((p = param(dw, "main.fNode", 0)))
		CHECK(p->type->elem == t, "*main.Node param elem is main.Node");

	/* Embedded fields and promotion through them. */
	t = godwarf__type(dw, "main.Outer");
	f = t ? gotype__field(t, "Inner", &off) : NULL;
	CHECK(f && f->embedded && off == 4, "Outer.Inner");
	f = t ? gotype__field(t, "Y", &off) : NULL;
	CHECK(f && off == 8, "Outer.Y promoted at %lu", (unsigned long)off);
	f = t ? gotype__field(t, "Name", &off) : NULL;
	CHECK(f && !f->embedded && off == 16, "Outer.Name");

	/* Composite names without a DIE of their own, and unknown names. */
	t = godwarf__type(dw, "[]main.Node");
	CHECK(t && t->kind == GK_SLICE && t->elem == godwarf__type(dw, "main.Node"), "[]main.Node");
	t = godwarf__type(dw, "*main.Padded");
	CHECK(t && t->kind == GK_PTR && t->elem == godwarf__type(dw, "main.Padded"),
	      "*main.Padded");
	CHECK(godwarf__type(dw, "main.NoSuchType") == NULL, "unknown type found");
	CHECK(godwarf__type(dw, "error") == gotypes__builtin(ts, "error"), "error is shared");
	CHECK(godwarf__type(dw, "int") == gotypes__builtin(ts, "int"), "int is shared");

	t = godwarf__type(dw, "main.Padded");
	godwarf__free(dw);
	/* Types belong to ts and outlive the reader. */
	CHECK_STR(t ? t->name : NULL, "main.Padded");
	CHECK(t && t->nfields == 7 && strcmp(t->fields[6].name, "G") == 0 &&
		      t->fields[6].offset == 36 &&
		      strcmp(t->fields[6].type->name, "[3]uint16") == 0,
	      "main.Padded after godwarf__free");
	gotypes__free(ts);
}

/* Compare with what the program itself prints from unsafe/reflect: values that cannot drift. */
static void test_types_layout_matches_the_program(void)
{
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = open_types(ts);
	char cmd[600], line[512];
	FILE *fp;
	int ntypes = 0, nfields = 0;

	if (!dw) {
		gotypes__free(ts);
		SKIP("%s absent (run: OUTPUT=.output tests/go/build.sh)", types_path("default"));
	}
	snprintf(cmd, sizeof(cmd), "%s -layout", types_path("default"));
	fp = popen(cmd, "r");
	CHECK(fp != NULL, "popen %s", cmd);
	while (fp && fgets(line, sizeof(line), fp)) {
		char name[256];
		unsigned long size, align, off;

		if (sscanf(line, "type %255s size %lu align %lu", name, &size, &align) == 3) {
			const struct gotype *t = godwarf__type(dw, name);

			ntypes++;
			CHECK(t && t->kind == GK_STRUCT, "%s: not found", name);
			if (t)
				CHECK(t->size == size && t->align == align,
				      "%s: size %lu align %u, program says %lu %lu", name,
				      (unsigned long)t->size, t->align, size, align);
		} else if (sscanf(line, "field %255s %lu", name, &off) == 2) {
			char *dot = strrchr(name, '.');
			const struct gotype *t;
			const struct gofield *f = NULL;
			uint64_t got = 0;

			nfields++;
			if (!dot)
				continue;
			*dot = '\0';
			t = godwarf__type(dw, name);
			/* Direct fields only: a promoted name would not be the field the line
			 * names. */
			for (size_t i = 0; t && i < t->nfields; i++) {
				if (strcmp(t->fields[i].name, dot + 1) == 0) {
					f = &t->fields[i];
					got = f->offset;
				}
			}
			CHECK(f && got == off, "%s.%s: offset %lu, program says %lu", name, dot + 1,
			      (unsigned long)got, off);
		}
	}
	CHECK(fp && pclose(fp) == 0, "%s failed", cmd);
	CHECK(ntypes >= 11 && nfields >= 40, "layout printed %d types, %d fields", ntypes, nfields);
	godwarf__free(dw);
	gotypes__free(ts);
}

/* Every .symtab function whose name starts with prefix: names and addresses. */
static int symbols(const char *path, const char *prefix, char names[][128], uint64_t *addrs,
		   int max)
{
	int fd = open(path, O_RDONLY), n = 0;
	Elf *elf;
	Elf_Scn *scn = NULL;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize && n < max; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && strncmp(name, prefix, strlen(prefix)) == 0) {
				snprintf(names[n], 128, "%s", name);
				addrs[n++] = sym.st_value;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return n;
}

/*
 * Generic functions: one DIE per shape instance. Go 1.18+ names them like
 * the symbol table ("main.Sum[go.shape.int_0]", "_0" gone from 1.20), and
 * the entry address tells instances apart under the elided "main.Sum[...]".
 */
static void test_types_generic_instances(void)
{
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = open_types(ts);
	char names[4][128];
	uint64_t addrs[4];
	const struct goparam *p, *q;
	size_t n, m;
	int nsyms, i;

	if (!dw) {
		gotypes__free(ts);
		SKIP("%s absent (run: OUTPUT=.output tests/go/build.sh)", types_path("default"));
	}
	nsyms = symbols(types_path("default"), "main.Sum[", names, addrs, 4);
	CHECK(nsyms == 2, "%d symbols main.Sum[...]", nsyms);
	for (i = 0; i < nsyms; i++) {
		bool is_float = strstr(names[i], "float64") != NULL;
		int err = godwarf__func_params_at(dw, names[i], addrs[i], &p, &n);

		CHECK(err == 0 && n == 3, "%s: %d, %zu params", names[i], err, n);
		if (err || n != 3)
			continue;
		/* the dictionary first, then xs []T, then the T result */
		CHECK_STR(p[0].name, ".dict");
		CHECK(p[0].type->kind == GK_UNSAFEPTR && !p[0].is_result, ".dict type");
		CHECK_STR(p[1].name, "xs");
		CHECK(p[1].type->kind == GK_SLICE && p[1].type->elem &&
			      p[1].type->elem->kind == (is_float ? GK_FLOAT : GK_INT),
		      "%s: xs elem kind", names[i]);
		CHECK_STR(p[2].name, "~r0");
		CHECK(p[2].is_result && p[2].type->size == 8 &&
			      p[2].type->kind == (is_float ? GK_FLOAT : GK_INT),
		      "%s: result", names[i]);
		/* the same instance under the elided name, chosen by address */
		CHECK(godwarf__func_params_at(dw, "main.Sum[...]", addrs[i], &q, &m) == 0 && q == p,
		      "main.Sum[...] at %#lx", (unsigned long)addrs[i]);
	}
	CHECK(godwarf__func_params(dw, "main.Sum[...]", &q, &m) == -ENOENT,
	      "ambiguous main.Sum[...] without an address");

	nsyms = symbols(types_path("default"), "main.(*Stack[", names, addrs, 1);
	CHECK(nsyms == 1, "no main.(*Stack[...]).Push symbol");
	if (nsyms == 1 && godwarf__func_params(dw, names[0], &p, &n) == 0) {
		/*
		 * the dictionary comes before the receiver in Go 1.18 and 1.19,
		 * after it from 1.20 (checked against the code both compile)
		 */
		size_t d = types_go_minor() >= 20, r = !d;

		CHECK(n == 4, "%s: %zu params", names[0], n);
		if (n == 4) {
			CHECK_STR(p[d].name, ".dict");
			CHECK(p[d].type->kind == GK_UNSAFEPTR, ".dict type");
			CHECK_STR(p[r].name, "s");
			CHECK(p[r].type->kind == GK_PTR, "receiver kind");
			CHECK_STR(p[2].name, "v");
			CHECK(p[2].type->kind == GK_STRING && p[2].type->size == 16, "v string");
			CHECK(p[3].is_result && p[3].type == gotypes__builtin(ts, "int"), "result");
		}
	}
	godwarf__free(dw);
	gotypes__free(ts);
}

static void test_types_unknown_functions(void)
{
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = open_types(ts);
	const struct goparam *p;
	size_t n;

	if (!dw) {
		gotypes__free(ts);
		SKIP("%s absent (run: OUTPUT=.output tests/go/build.sh)", types_path("default"));
	}
	lp_clearerr();
	CHECK(godwarf__func_params(dw, "main.fNope", &p, &n) == -ENOENT, "main.fNope");
	CHECK(godwarf__func_params(dw, "nosuchpkg.F", &p, &n) == -ENOENT, "nosuchpkg.F");
	CHECK(godwarf__func_params(dw, "noperiod", &p, &n) == -ENOENT, "noperiod");
	CHECK(godwarf__func_params(dw, "", &p, &n) == -ENOENT, "empty name");
	CHECK(godwarf__func_params(dw, "main.Sum[go.shape.complex64_0]", &p, &n) == -ENOENT,
	      "uninstantiated shape");
	CHECK_STR(lp_lasterr(), "");
	/* Functions of other packages are found in their units. */
	CHECK(godwarf__func_params(dw, "fmt.Sprintf", &p, &n) == 0 && n == 3, "fmt.Sprintf");
	godwarf__free(dw);
	gotypes__free(ts);
}

static void test_no_dwarf_is_enoent(void)
{
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw;
	const char *variants[] = {"nodwarf", "stripped"};
	int err;

	for (size_t i = 0; i < 2; i++) {
		if (access(types_path(variants[i]), R_OK) != 0) {
			gotypes__free(ts);
			SKIP("%s absent (run: OUTPUT=.output tests/go/build.sh)",
			     types_path(variants[i]));
		}
		lp_clearerr();
		err = godwarf__open(types_path(variants[i]), ts, &dw);
		CHECK(err == -ENOENT && dw == NULL, "%s: %d", types_path(variants[i]), err);
		CHECK_STR(lp_lasterr(), "");
	}
	/* Not an ELF file: an error with a message naming the file. */
	err = godwarf__open("tests/unit/test_godwarf.c", ts, &dw);
	CHECK(err == -ENOEXEC && dw == NULL, "C source: %d", err);
	CHECK_STR(lp_lasterr(), "tests/unit/test_godwarf.c: not an ELF file");
	err = godwarf__open("/nonexistent/app", ts, &dw);
	CHECK(err == -ENOENT, "missing file: %d", err);
	CHECK_STR(lp_lasterr(), "/nonexistent/app: cannot open: No such file or directory");
	godwarf__free(NULL);
	gotypes__free(ts);
}

/* esbuild built by an old Go: stack ABI, compressed .zdebug_* sections. */
static void check_old_go(const char *label)
{
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = NULL;
	const char *path = gobin_path(label);
	const struct goparam *p;
	const struct gotype *t, *f0;
	const struct gofield *f;
	uint64_t off;
	size_t n;
	int err;

	static const struct want write[] = {
		P("f", "*os.File", GK_PTR, 8),
		P("b", "[]uint8", GK_SLICE, 24),
		R("n", "int", GK_INT, 8),
		R("err", "error", GK_IFACE, 16),
		END,
	};

	if (access(path, R_OK) != 0) {
		gotypes__free(ts);
		SKIP("%s absent (run: tests/gobins.sh)", path);
	}
	err = godwarf__open(path, ts, &dw);
	CHECK(err == 0, "%s: %d %s", path, err, lp_lasterr());
	if (err) {
		gotypes__free(ts);
		return;
	}
	check_params(dw, "os.(*File).Write", 0, write);
	if (godwarf__func_params(dw, "os.(*File).Write", &p, &n) == 0 && n == 4) {
		CHECK(gotype__is_error(p[3].type), "err is error");
		CHECK(p[1].type->elem == gotypes__builtin(ts, "uint8"), "[]uint8 elem");
		/* type File struct { *file }: the embedded pointer at 0 */
		t = p[0].type->elem;
		CHECK_STR(t ? t->name : NULL, "os.File");
		CHECK(t && t->size == 8 && t->nfields == 1 && t->fields[0].embedded &&
			      t->fields[0].offset == 0,
		      "os.File layout");
		CHECK(t && t == godwarf__type(dw, "os.File"), "os.File by name");
	}

	/* Layouts fixed by the kernel's struct stat on amd64, whatever the Go release. */
	t = godwarf__type(dw, "syscall.Stat_t");
	CHECK(t && t->size == 144 && t->align == 8, "syscall.Stat_t size");
	f = t ? gotype__field(t, "Mode", &off) : NULL;
	CHECK(f && off == 24 && f->type == gotypes__builtin(ts, "uint32"), "Stat_t.Mode");
	f = t ? gotype__field(t, "Size", &off) : NULL;
	CHECK(f && off == 48 && f->type == gotypes__builtin(ts, "int64"), "Stat_t.Size");
	f = t ? gotype__field(t, "Mtim", &off) : NULL;
	CHECK(f && off == 88 && f->type->size == 16, "Stat_t.Mtim");
	f = t ? gotype__field(t, "Nsec", &off) : NULL;
	CHECK(f == NULL, "Nsec is no field of Stat_t (Mtim is not embedded)");
	/* time.Time {wall uint64; ext int64; loc *Location}, unchanged since Go 1.9 */
	t = godwarf__type(dw, "time.Time");
	CHECK(t && t->size == 24 && t->nfields == 3, "time.Time");
	f = t ? gotype__field(t, "loc", &off) : NULL;
	CHECK(f && off == 16 && f->type->kind == GK_PTR, "time.Time.loc");
	/* runtime.g starts with stack {lo, hi} and stackguard0 in every release */
	t = godwarf__type(dw, "runtime.g");
	f = t ? gotype__field(t, "stackguard0", &off) : NULL;
	CHECK(f && off == 16, "runtime.g.stackguard0");
	f0 = t && t->nfields ? t->fields[0].type : NULL;
	CHECK(f0 && f0->size == 16 && strcmp(f0->name, "runtime.stack") == 0, "runtime.g.stack");

	CHECK(godwarf__func_params(dw, "os.(*File).NoSuch", &p, &n) == -ENOENT, "NoSuch");
	godwarf__free(dw);
	gotypes__free(ts);
}

static void test_go113_esbuild(void)
{
	check_old_go("go1.13");
}

static void test_go114_esbuild(void)
{
	check_old_go("go1.14");
}

int main(void)
{
	RUN(test_types_every_function_matches_the_source);
	RUN(test_types_element_and_field_types);
	RUN(test_types_layout_matches_the_program);
	RUN(test_types_generic_instances);
	RUN(test_types_unknown_functions);
	RUN(test_no_dwarf_is_enoent);
	RUN(test_go113_esbuild);
	RUN(test_go114_esbuild);
	return unit_summary();
}
