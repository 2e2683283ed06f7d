// SPDX-License-Identifier: BSD-2-Clause
/*
 * The runtime type reader checked against an independent source: the DWARF
 * of the unstripped build of the same program (godwarf) for struct sizes,
 * field names, offsets and types and for method signatures; the stripped
 * builds (plain and PIE) against the unstripped one; and the real binaries
 * of other Go releases in .cache/gobins (tests/gobins.sh), which must read
 * with no error and describe net/http.Request or os.File as Go lays them out.
 *
 * Fixtures: .output/go/rtypes/{default,stripped,stripped-pie}
 * (tests/go/build.sh; or the set of another toolchain, see gotarget()).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gobin.h"
#include "godwarf.h"
#include "gotype.h"
#include "log.h"
#include "rtype.h"
#include "unit.h"

#define RTYPES(v) gotarget("rtypes/" v)

static bool exists(const char *path)
{
	return access(path, R_OK) == 0;
}

struct fixture {
	struct gobin *gb;
	struct rtypes *rt;
	struct gotypes *ts;
	struct godwarf *dw;
};

static bool fixture_open(struct fixture *fx, const char *path, bool dwarf)
{
	int err;

	memset(fx, 0, sizeof(*fx));
	if (gobin__open(path, &fx->gb)) {
		CHECK(0, "gobin__open(%s): %s", path, lp_lasterr());
		return false;
	}
	err = rtypes__open(fx->gb, &fx->rt);
	CHECK(err == 0, "rtypes__open(%s): %d %s", path, err, lp_lasterr());
	if (err)
		return false;
	CHECK(rtypes__stats(fx->rt)->errors == 0, "%s: %zu errors reading types", path,
	      rtypes__stats(fx->rt)->errors);
	if (!dwarf)
		return true;
	fx->ts = gotypes__new();
	err = fx->ts ? godwarf__open(path, fx->ts, &fx->dw) : -ENOMEM;
	CHECK(err == 0, "godwarf__open(%s): %d %s", path, err, lp_lasterr());
	return err == 0;
}

static void fixture_close(struct fixture *fx)
{
	rtypes__free(fx->rt);
	godwarf__free(fx->dw);
	gotypes__free(fx->ts);
	gobin__free(fx->gb);
}

/* The gotype kind a reflect.Kind maps to. */
static enum gokind gokind_of(const struct rtype *t)
{
	switch (t->kind) {
	case RK_BOOL:
		return GK_BOOL;
	case RK_INT ... RK_INT64:
		return GK_INT;
	case RK_UINT ... RK_UINT64:
		return GK_UINT;
	case RK_UINTPTR:
		return GK_UINTPTR;
	case RK_FLOAT32:
	case RK_FLOAT64:
		return GK_FLOAT;
	case RK_COMPLEX64:
	case RK_COMPLEX128:
		return GK_COMPLEX;
	case RK_ARRAY:
		return GK_ARRAY;
	case RK_CHAN:
		return GK_CHAN;
	case RK_FUNC:
		return GK_FUNC;
	case RK_INTERFACE:
		return t->nimethods ? GK_IFACE : GK_EFACE;
	case RK_MAP:
		return GK_MAP;
	case RK_PTR:
		return GK_PTR;
	case RK_SLICE:
		return GK_SLICE;
	case RK_STRING:
		return GK_STRING;
	case RK_STRUCT:
		return GK_STRUCT;
	case RK_UNSAFEPTR:
		return GK_UNSAFEPTR;
	default:
		return GK_INVALID;
	}
}

/*
 * DWARF spells a few types differently from Go: "uint8" for byte, and its
 * own words for unnamed func, struct and interface types. Names are
 * compared where both are of the kinds whose spelling rtype builds.
 */
static bool names_comparable(const struct rtype *t)
{
	for (int depth = 0; t && depth < 8; depth++) {
		if (t->named)
			return true;
		switch (t->kind) {
		case RK_PTR:
		case RK_SLICE:
		case RK_ARRAY:
			t = t->elem;
			continue;
		case RK_FUNC:
		case RK_STRUCT:
		case RK_INTERFACE:
		case RK_MAP:
		case RK_CHAN:
			return false;
		default:
			return true;
		}
	}
	return false;
}

/* One struct type against DWARF; false (with a message) on the first difference. */
static bool struct_matches(const struct rtype *t, const struct gotype *d)
{
	if (d->kind != GK_STRUCT || d->size != t->size || d->nfields != t->nfields) {
		CHECK(0, "%s: DWARF kind %d size %lu fields %zu, runtime size %lu fields %zu",
		      t->name, d->kind, (unsigned long)d->size, d->nfields, (unsigned long)t->size,
		      t->nfields);
		return false;
	}
	for (size_t i = 0; i < t->nfields; i++) {
		const struct rtype_field *f = &t->fields[i];
		const struct gofield *g = &d->fields[i];

		if (strcmp(f->name, g->name) != 0 || f->offset != g->offset ||
		    f->embedded != g->embedded || !f->type || !g->type ||
		    gokind_of(f->type) != g->type->kind || f->type->size != g->type->size ||
		    (names_comparable(f->type) && strcmp(f->type->name, g->type->name) != 0)) {
			CHECK(0, "%s field %zu: runtime %s %s @%lu%s, DWARF %s %s @%lu%s",
			      t->name, i, f->name, f->type ? f->type->name : "?",
			      (unsigned long)f->offset, f->embedded ? " embedded" : "", g->name,
			      g->type && g->type->name ? g->type->name : "?",
			      (unsigned long)g->offset, g->embedded ? " embedded" : "");
			return false;
		}
	}
	return true;
}

/* The conversion to the gotype model against DWARF's. */
static bool gotype_matches(const char *name, const struct gotype *g, const struct gotype *d)
{
	bool ok = g && g->kind == d->kind && g->size == d->size && g->nfields == d->nfields;

	for (size_t i = 0; ok && i < g->nfields; i++) {
		const struct gofield *a = &g->fields[i], *b = &d->fields[i];

		ok = strcmp(a->name, b->name) == 0 && a->offset == b->offset &&
		     a->embedded == b->embedded && a->type->kind == b->type->kind &&
		     a->type->size == b->type->size && a->type->align == b->type->align;
	}
	CHECK(ok, "%s: converted type differs from DWARF's", name);
	return ok;
}

static void test_fields_match_dwarf(void)
{
	static const char *const mains[] = {"main.Kinds",   "main.Derived", "main.Box[int]",
					    "main.Account", "main.Base",    "main.Box[string]"};
	struct fixture fx;
	size_t compared = 0, matched = 0;

	if (!exists(RTYPES("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", RTYPES("default"));
	if (!fixture_open(&fx, RTYPES("default"), true))
		goto out;
	/* every struct type the binary describes that DWARF knows by the same name */
	for (size_t i = 0; i < rtypes__stats(fx.rt)->types; i++) {
		const struct rtype *t = rtypes__type(fx.rt, i);
		const struct gotype *d;

		if (t->kind != RK_STRUCT || !t->named || !(d = godwarf__type(fx.dw, t->name)))
			continue;
		compared++;
		matched += struct_matches(t, d) &&
			   gotype_matches(t->name, rtypes__gotype(fx.rt, t, fx.ts), d);
	}
	CHECK(compared > 100 && matched == compared, "%zu of %zu struct types match DWARF",
	      matched, compared);
	printf("     %zu of %zu struct types match DWARF\n", matched, compared);
	for (size_t i = 0; i < sizeof(mains) / sizeof(mains[0]); i++) {
		const struct rtype *t = rtypes__lookup(fx.rt, mains[i]);

		CHECK(t && godwarf__type(fx.dw, mains[i]), "%s: runtime %p, DWARF %p", mains[i],
		      (void *)t, (const void *)godwarf__type(fx.dw, mains[i]));
	}
out:
	fixture_close(&fx);
}

/* sig against the receiver, parameters and results DWARF lists for the function. */
static bool sig_matches(const char *fn, const struct rtype_sig *s, const struct goparam *p,
			size_t n, bool strict)
{
	size_t nin = 0, nout = 0, first;
	char recv[256];

	for (size_t i = 0; i < n; i++)
		*(p[i].is_result ? &nout : &nin) += 1;
	snprintf(recv, sizeof(recv), "%s%s", s->recv_ptr ? "*" : "", s->recv->name);
	/* the DWARF of a compiler-made wrapper leaves its receiver out */
	first = nin == s->func->nin ? 0 : 1;
	if (nin != first + s->func->nin || nout != s->func->nout ||
	    (first && (!p[0].type || strcmp(p[0].type->name, recv) != 0))) {
		if (!strict) {
			printf("     %s: DWARF %zu in %zu out; runtime %zu in %zu out\n", fn, nin,
			       nout, 1 + s->func->nin, s->func->nout);
			return false;
		}
		CHECK(0, "%s: DWARF %zu in %zu out, receiver %s; runtime %zu in %zu out, "
		      "receiver %s",
		      fn, nin, nout, p[0].type ? p[0].type->name : "?", 1 + s->func->nin,
		      s->func->nout, recv);
		return false;
	}
	for (size_t i = first; i < n; i++) {
		const struct rtype *t = i < nin ? s->func->in[i - first] : s->func->out[i - nin];

		if (!p[i].type || gokind_of(t) != p[i].type->kind ||
		    (names_comparable(t) && strcmp(t->name, p[i].type->name) != 0)) {
			CHECK(0, "%s parameter %zu: runtime %s, DWARF %s", fn, i, t->name,
			      p[i].type ? p[i].type->name : "?");
			return false;
		}
	}
	return true;
}

static void test_methods_match_dwarf(void)
{
	static const char *const want[] = {"main.(*Account).Deposit", "main.Account.Total",
					   "main.(*Account).Tag",     "main.Account.Flags",
					   "main.(*job).run",	      "main.(*ConsoleLogger).Log",
					   "main.byteCounter.Write",  "main.(*Base).Rename"};
	struct fixture fx;
	size_t found = 0, compared = 0, matched = 0, mains = 0;

	if (!exists(RTYPES("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", RTYPES("default"));
	if (!fixture_open(&fx, RTYPES("default"), true))
		goto out;
	for (size_t i = 0; i < gobin__nfuncs(fx.gb); i++) {
		const struct gobin_func *f = gobin__func(fx.gb, i);
		const struct goparam *p;
		struct rtype_sig s;
		size_t n;

		if (rtypes__func_params(fx.rt, f->entry, &s))
			continue;
		found++;
		CHECK(s.method && s.recv && s.func && s.func->kind == RK_FUNC, "%s: sig", f->name);
		if (godwarf__func_params_at(fx.dw, f->name, f->entry, &p, &n) || !n ||
		    p[0].is_result || !strcmp(p[0].name, ".dict"))
			continue;
		compared++;
		if (sig_matches(f->name, &s, p, n, strncmp(f->name, "main.", 5) == 0)) {
			matched++;
			mains += strncmp(f->name, "main.", 5) == 0;
		}
	}
	/*
	 * Go's DWARF for a few optimized std functions lists results wrongly
	 * (Go 1.26: reflect.Value.Comparable() bool has none, runtime's
	 * (*_panic).nextFrame() (ok bool) two): a handful may disagree.
	 */
	CHECK(found > 200 && compared > 100 && matched + 5 >= compared && mains >= 15,
	      "%zu methods found, %zu of %zu match DWARF, %zu of package main", found, matched,
	      compared, mains);
	printf("     %zu methods found, %zu of %zu match DWARF, %zu of package main\n", found,
	       matched, compared, mains);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct gobin_func *f = gobin__find_func(fx.gb, want[i]);
		struct rtype_sig s;

		CHECK(f && rtypes__func_params(fx.rt, f->entry, &s) == 0, "%s: no signature",
		      want[i]);
	}
out:
	fixture_close(&fx);
}

static void check_sig(struct fixture *fx, const char *fn, const char *recv, bool recv_ptr,
		      const char *func)
{
	const struct gobin_func *f = gobin__find_func(fx->gb, fn);
	struct rtype_sig s;

	if (!f || rtypes__func_params(fx->rt, f->entry, &s)) {
		CHECK(0, "%s: no signature", fn);
		return;
	}
	CHECK_STR(s.recv->name, recv);
	CHECK(s.recv_ptr == recv_ptr, "%s: recv_ptr %d", fn, s.recv_ptr);
	CHECK_STR(s.func->name, func);
}

/* main.Derived in the gotype model: field lookup and paths as probes use them. */
static void check_gotype(struct fixture *fx, const struct rtype *d)
{
	struct gotypes *ts = gotypes__new();
	const struct gotype *g = rtypes__gotype(fx->rt, d, ts), *k;
	const struct gofield *path[4];
	uint64_t off = 0;

	CHECK(g && g->kind == GK_STRUCT && g->size == 64 && g->nfields == 5, "main.Derived");
	CHECK(g && gotype__field(g, "Name", &off) && off == 8, "Derived.Name");
	CHECK(g && gotype__field_path(g, "X", path, 4) == 2 && path[0]->type->kind == GK_PTR &&
		      path[1]->offset == 0,
	      "Derived.X through *Point");
	CHECK(rtypes__gotype(fx->rt, d, ts) == g, "memoized");
	k = rtypes__gotype(fx->rt, rtypes__lookup(fx->rt, "main.Kinds"), ts);
	CHECK(k && k->nfields == 34 && k->fields[22].type == gotypes__builtin(ts, "error") &&
		      k->fields[21].type->kind == GK_EFACE && k->fields[26].type->kind == GK_STRING,
	      "main.Kinds: error, interface{}, string");
	CHECK(k && k->fields[33].type->kind == GK_MAP &&
		      k->fields[33].type->key->kind == GK_STRUCT &&
		      k->fields[33].type->elem->elem == k,
	      "map[main.Point]*main.Kinds refers to itself");
	gotypes__free(ts);
}

/* Details the DWARF comparison does not cover, on every build of the program. */
static void check_program(const char *variant)
{
	const struct rtype *k, *d, *l, *f, *a, *pa;
	struct fixture fx;
	uint64_t off = 0;

	if (!exists(gotarget(variant)))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", gotarget(variant));
	if (!fixture_open(&fx, gotarget(variant), false))
		goto out;
	k = rtypes__lookup(fx.rt, "main.Kinds");
	CHECK(k && k->nfields == 34 && k->size == 344, "main.Kinds");
	if (k && k->nfields == 34) {
		const struct rtype *arr = rtype__field(k, "Arr", NULL)->type;

		CHECK(arr->kind == RK_ARRAY && arr->len == 3 && arr->elem->kind == RK_UINT16,
		      "Arr");
		CHECK(rtype__field(k, "Ch", NULL)->type->chan_dir == 3 &&
			      rtype__field(k, "RCh", NULL)->type->chan_dir == 1 &&
			      rtype__field(k, "SCh", NULL)->type->chan_dir == 2,
		      "chan directions");
		CHECK_STR(rtype__field(k, "RCh", NULL)->type->name, "<-chan string");
		CHECK_STR(rtype__field(k, "SCh", NULL)->type->name, "chan<- bool");
		f = rtype__field(k, "Fn", NULL)->type;
		CHECK(f->kind == RK_FUNC && f->nin == 2 && f->nout == 2 && f->variadic &&
			      f->in[1]->kind == RK_SLICE && f->out[1]->kind == RK_INTERFACE,
		      "func(int, ...string) (bool, error)");
		CHECK(rtype__field(k, "Any", NULL)->type->nimethods == 0 &&
			      rtype__field(k, "Err", NULL)->type->nimethods == 1,
		      "interface{} and error");
		CHECK_STR(rtype__field(k, "MPtrs", NULL)->type->name, "map[main.Point]*main.Kinds");
		CHECK_STR(rtype__field(k, "Nest", NULL)->type->name, "[2][]*main.Point");
		CHECK_STR(rtype__field(k, "L", NULL)->type->name, "main.Labels");
		CHECK(rtype__field(k, "UPtr", NULL)->type->kind == RK_UNSAFEPTR, "unsafe.Pointer");
	}
	d = rtypes__lookup(fx.rt, "main.Derived");
	check_gotype(&fx, d);
	CHECK(d && rtype__field(d, "Name", &off) && off == 8, "Derived.Name promoted from Base");
	CHECK(d && rtype__field(d, "Extra", &off) && off == 48, "Derived.Extra");
	CHECK(d && !rtype__field(d, "X", &off), "X is behind the embedded *Point");
	CHECK(d && !rtype__field(d, "nope", &off), "no such field");
	l = rtypes__lookup(fx.rt, "main.Labels");
	CHECK(l && l->kind == RK_MAP && l->named && l->key->kind == RK_STRING &&
		      l->elem->kind == RK_SLICE,
	      "main.Labels");
	a = rtypes__lookup(fx.rt, "main.Account");
	pa = rtypes__lookup(fx.rt, "*main.Account");
	CHECK(a && pa && pa->elem == a && a->ptr_to == pa, "*main.Account and ptrToThis");
	CHECK(rtypes__lookup(fx.rt, "main.Pair[string,main.Point]") != NULL, "generic pair");
	CHECK_STR(a ? a->pkgpath : NULL, "main");
	check_sig(&fx, "main.(*Account).Deposit", "*main.Account", false,
		  "func(int64, string) (int64, error)");
	check_sig(&fx, "main.Account.Total", "main.Account", false, "func(...int64) int64");
	check_sig(&fx, "main.(*Account).Total", "*main.Account", false, "func(...int64) int64");
	/* called only through interfaces */
	check_sig(&fx, "main.(*job).run", "*main.job", false, "func(int) int");
	check_sig(&fx, "main.(*ConsoleLogger).Log", "*main.ConsoleLogger", false,
		  "func(string, int) int");
	check_sig(&fx, "main.byteCounter.Write", "main.byteCounter", false,
		  "func([]uint8) (int, error)");
	CHECK(rtypes__stats(fx.rt)->itabs > 5, "%zu itabs", rtypes__stats(fx.rt)->itabs);
out:
	fixture_close(&fx);
}

static void test_program_default(void)
{
	check_program("rtypes/default");
}

static void test_program_stripped(void)
{
	check_program("rtypes/stripped");
}

static void test_program_stripped_pie(void)
{
	check_program("rtypes/stripped-pie");
}

/* The real binaries of other Go releases */

struct gobin_file {
	char label[32], path[512];
};

static size_t list_gobins(struct gobin_file *out, size_t max)
{
	char line[1024];
	size_t n = 0;
	FILE *p = popen("tests/gobins.sh --list 2>/dev/null", "r");

	if (!p)
		return 0;
	while (n < max && fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%31s %511s", out[n].label, out[n].path) == 2)
			n++;
	}
	pclose(p);
	return n;
}

static bool field_is(const struct rtype *t, const char *name, uint64_t offset, const char *type)
{
	uint64_t off;
	const struct rtype_field *f = rtype__field(t, name, &off);

	return f && off == offset && f->type && strcmp(f->type->name, type) == 0;
}

/* *os.File's Read, called through io.Reader in every Go program that reads a file */
static void check_file_read(const char *label, struct fixture *fx)
{
	const struct gobin_func *f = gobin__find_func(fx->gb, "os.(*File).Read");
	struct rtype_sig s;

	if (!f || rtypes__func_params(fx->rt, f->entry, &s))
		return;
	CHECK(strcmp(s.recv->name, "*os.File") == 0 && !s.recv_ptr && s.func->nin == 1 &&
		      s.func->nout == 2 && strcmp(s.func->in[0]->name, "[]uint8") == 0 &&
		      strcmp(s.func->out[1]->name, "error") == 0,
	      "%s: os.(*File).Read is %s%s %s", label, s.recv_ptr ? "*" : "", s.recv->name,
	      s.func->name);
}

static void test_release_binaries(void)
{
	struct gobin_file files[64];
	size_t n = list_gobins(files, 64), with_request = 0;

	if (!n)
		SKIP("no binaries in .cache/gobins; run: tests/gobins.sh");
	for (size_t i = 0; i < n; i++) {
		const struct rtype *req, *file;
		struct fixture fx;

		if (fixture_open(&fx, files[i].path, false)) {
			const struct rtypes_stats *st = rtypes__stats(fx.rt);

			CHECK(st->types > 1000 && st->methods > 500, "%s: %zu types, %zu methods",
			      files[i].label, st->types, st->methods);
			req = rtypes__lookup(fx.rt, "net/http.Request");
			file = rtypes__lookup(fx.rt, "os.File");
			CHECK(file && field_is(file, "file", 0, "*os.file") &&
				      file->fields[0].embedded,
			      "%s: os.File", files[i].label);
			if (req) {
				with_request++;
				CHECK(field_is(req, "Method", 0, "string") &&
					      field_is(req, "URL", 16, "*net/url.URL") &&
					      field_is(req, "Header", 56, "net/http.Header") &&
					      rtypes__lookup(fx.rt, "http.Request") == req,
				      "%s: net/http.Request", files[i].label);
			}
			check_file_read(files[i].label, &fx);
		}
		fixture_close(&fx);
	}
	CHECK(n < 8 || with_request >= 8, "net/http.Request in %zu of %zu binaries", with_request,
	      n);
}

/* Damaged type data: bytes of the types region overwritten at random, never a crash. */
static void test_damaged_types_never_crash(void)
{
	struct gobin *gb = NULL;
	uint64_t lo, hi, off;
	unsigned seed = 14;
	char *buf;
	FILE *f;
	long len;

	if (!exists(RTYPES("default")))
		SKIP("no %s; run: OUTPUT=.output tests/go/build.sh", RTYPES("default"));
	f = fopen(RTYPES("default"), "rb");
	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)len)) || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		CHECK(0, "cannot read %s", RTYPES("default"));
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	if (gobin__open_mem(buf, (size_t)len, "rtypes", &gb) || gobin__types_range(gb, &lo, &hi) ||
	    gobin__vaddr_to_offset(gb, lo, &off) || hi - lo > (uint64_t)len - off) {
		CHECK(0, "types region of %s", RTYPES("default"));
		gobin__free(gb);
		free(buf);
		return;
	}
	gobin__free(gb);
	for (int round = 0; round < 40; round++) {
		char *copy = malloc((size_t)len);
		struct rtypes *rt = NULL;
		const struct rtype *t;
		struct rtype_sig s;

		memcpy(copy, buf, (size_t)len);
		for (int k = 0; k < 16 << (round % 6); k++)
			copy[off + (uint64_t)rand_r(&seed) % (hi - lo)] = (char)rand_r(&seed);
		if (!gobin__open_mem(copy, (size_t)len, "damaged", &gb) && !rtypes__open(gb, &rt)) {
			struct gotypes *ts = gotypes__new();

			t = rtypes__lookup(rt, "main.Derived");
			rtype__field(t, "Name", &off);
			for (size_t i = 0; ts && i < rtypes__stats(rt)->types; i++)
				rtypes__gotype(rt, rtypes__type(rt, i), ts);
			gotypes__free(ts);
			for (size_t i = 0; i < gobin__nfuncs(gb); i += 7)
				rtypes__func_params(rt, gobin__func(gb, i)->entry, &s);
			CHECK(rtypes__stats(rt)->types > 0, "round %d read nothing", round);
		}
		rtypes__free(rt);
		gobin__free(gb);
		free(copy);
	}
	free(buf);
}

static void test_null_and_absent(void)
{
	struct rtypes *rt = (struct rtypes *)1;
	struct rtype_sig s;

	rtypes__free(NULL);
	CHECK(rtypes__open(NULL, &rt) == -EINVAL && rt == NULL, "open(NULL)");
	CHECK(rtypes__lookup(NULL, "int") == NULL && rtypes__at(NULL, 1) == NULL, "NULL set");
	CHECK(rtypes__func_params(NULL, 1, &s) == -ENOENT, "func_params(NULL)");
	CHECK(rtype__field(NULL, "x", NULL) == NULL, "field of NULL");
}

int main(void)
{
	RUN(test_fields_match_dwarf);
	RUN(test_methods_match_dwarf);
	RUN(test_program_default);
	RUN(test_program_stripped);
	RUN(test_program_stripped_pie);
	RUN(test_release_binaries);
	RUN(test_damaged_types_never_crash);
	RUN(test_null_and_absent);
	return unit_summary();
}
