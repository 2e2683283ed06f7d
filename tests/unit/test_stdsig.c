// SPDX-License-Identifier: BSD-2-Clause
/*
 * The table of the Go standard library's signatures: lookups of well-known
 * functions and methods, entries that changed between releases, wrappers and
 * generics; every type in it parses and can be placed; and, on real binaries
 * of Go 1.13 to 1.27 (.cache/gobins, tests/gobins.sh) and the Go 1.19 test
 * targets, the stack-ABI size of each signature equals the argument size the
 * binary's pclntab records. STDSIG_VERBOSE=1 prints the figures.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "goabi.h"
#include "gobin.h"
#include "gotype.h"
#include "log.h"
#include "stdsig.h"
#include "unit.h"

static bool verbose;

/* "name type, name type" of a parameter list, for comparing in one string */
static const char *join(const struct stdsig_param *ps, size_t n)
{
	static char buf[2][1024];
	static int which;
	char *b = buf[which ^= 1];
	size_t o = 0;

	b[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(buf[0]); i++)
		o += (size_t)snprintf(b + o, sizeof(buf[0]) - o, "%s%s %s", i ? ", " : "",
				      ps[i].name ? ps[i].name : "_", ps[i].type);
	return b;
}

static void check_sig(const char *symbol, int minor, const char *params, const char *results,
		      int since, int until)
{
	struct stdsig s;
	int err = stdsig__lookup(symbol, minor, &s);

	CHECK(err == 0, "%s in 1.%d: %d", symbol, minor, err);
	if (err)
		return;
	CHECK_STR(join(s.params, s.nparams), params);
	CHECK_STR(join(s.results, s.nresults), results);
	CHECK(s.since == since && s.until == until, "%s: releases %d-%d, want %d-%d", symbol,
	      s.since, s.until, since, until);
}

static void check_absent(const char *symbol, int minor)
{
	struct stdsig s;
	int err = stdsig__lookup(symbol, minor, &s);

	CHECK(err == -ENOENT, "%s in 1.%d: %d, want -ENOENT", symbol, minor, err);
}

static void test_functions(void)
{
	check_sig("strconv.ParseFloat", 26, "s string, bitSize int", "_ float64, _ error", 0, 0);
	check_sig("strconv.ParseFloat", 13, "s string, bitSize int", "_ float64, _ error", 0, 0);
	check_sig("strings.Cut", 18, "s string, sep string",
		  "before string, after string, found bool", 18, 0);
	check_absent("strings.Cut", 17);
	check_sig("strings.Lines", 24, "s string", "_ iter.Seq[string]", 24, 0);
	check_sig("net/http.Get", 19, "url string", "resp *net/http.Response, err error", 0, 0);
	check_sig("time.Sleep", 13, "d time.Duration", "", 0, 0);
	check_sig("os.Exit", 20, "code int", "", 0, 0);
	check_sig("context.WithTimeout", 21, "parent context.Context, timeout time.Duration",
		  "_ context.Context, _ context.CancelFunc", 7, 0);
	check_sig("syscall.Syscall", 19, "trap uintptr, a1 uintptr, a2 uintptr, a3 uintptr",
		  "r1 uintptr, r2 uintptr, err syscall.Errno", 0, 0);
	/* after the newest release in the table: what it has */
	check_sig("strconv.Itoa", 99, "i int", "_ string", 0, 0);
}

static void test_methods(void)
{
	struct stdsig s;

	check_sig("net/http.(*Client).Do", 22, "c *net/http.Client, req *net/http.Request",
		  "_ *net/http.Response, _ error", 0, 0);
	check_sig("time.Time.Format", 13, "t time.Time, layout string", "_ string", 0, 0);
	check_sig("bytes.(*Buffer).Write", 17, "b *bytes.Buffer, p []uint8", "n int, err error", 0,
		  0);
	check_sig("database/sql.(*DB).QueryContext", 20,
		  "db *database/sql.DB, ctx context.Context, query string, args []any",
		  "_ *database/sql.Rows, _ error", 8, 0);
	CHECK(stdsig__lookup("database/sql.(*DB).QueryContext", 20, &s) == 0 && s.variadic,
	      "QueryContext is variadic");
	check_sig("fmt.Fprintf", 13, "w io.Writer, format string, a []any", "n int, err error", 0,
		  0);

	/* promoted through an embedded *Reader: the wrapper takes the outer struct */
	check_sig("bufio.ReadWriter.ReadString", 19, "b bufio.ReadWriter, delim uint8",
		  "_ string, _ error", 0, 0);
	CHECK(stdsig__lookup("bufio.ReadWriter.ReadString", 19, &s) == 0 && s.wrapper &&
		      !s.ptr_wrapper,
	      "bufio.ReadWriter.ReadString is a promoted method");
	CHECK(stdsig__lookup("bytes.(*Buffer).Write", 19, &s) == 0 && !s.wrapper,
	      "bytes.(*Buffer).Write is not a wrapper");

	/* the (*T).M wrapper of a value method, which the API does not list */
	check_sig("time.(*Time).Format", 20, "t *time.Time, layout string", "_ string", 0, 0);
	CHECK(stdsig__lookup("time.(*Time).Format", 20, &s) == 0 && s.ptr_wrapper &&
		      strcmp(s.symbol, "time.Time.Format") == 0,
	      "time.(*Time).Format is the wrapper of time.Time.Format");
	/* but a value method is not found for a pointer one */
	check_absent("bytes.Buffer.Write", 20);
	check_absent("time.(*Time).NoSuchMethod", 20);
}

/* Entries that changed: one per span of releases */
static void test_changes(void)
{
	struct stdsig s;

	/* os.FileMode became an alias of io/fs.FileMode in Go 1.16 */
	check_sig("os.Chmod", 15, "name string, mode os.FileMode", "_ error", 0, 16);
	check_sig("os.Chmod", 16, "name string, mode io/fs.FileMode", "_ error", 16, 0);
	check_sig("os.FileMode.String", 13, "m os.FileMode", "_ string", 0, 16);
	check_absent("os.FileMode.String", 16);
	check_sig("io/fs.FileMode.String", 16, "m io/fs.FileMode", "_ string", 16, 0);
	check_sig("os.(*PathError).Error", 15, "e *os.PathError", "_ string", 0, 16);
	check_absent("os.(*PathError).Error", 16);
	check_sig("io/fs.(*PathError).Error", 16, "e *io/fs.PathError", "_ string", 16, 0);
	/* a line of Go 1.0 the API checker keeps as it stands, older than the alias */
	check_sig("archive/zip.(*FileHeader).Mode", 13, "h *archive/zip.FileHeader",
		  "mode os.FileMode", 0, 16);
	check_sig("archive/zip.(*FileHeader).Mode", 20, "h *archive/zip.FileHeader",
		  "mode io/fs.FileMode", 16, 0);
	/* a result type changed in Go 1.1 */
	check_sig("net.ListenUnixgram", 0, "network string, laddr *net.UnixAddr",
		  "_ *net.UDPConn, _ error", 0, 1);
	check_sig("net.ListenUnixgram", 13, "network string, laddr *net.UnixAddr",
		  "_ *net.UnixConn, _ error", 1, 0);
	/* a pointer method that became a value method in Go 1.8 */
	check_sig("encoding/json.(*RawMessage).MarshalJSON", 7, "m *encoding/json.RawMessage",
		  "_ []uint8, _ error", 0, 8);
	check_sig("encoding/json.(*RawMessage).MarshalJSON", 8, "m *encoding/json.RawMessage",
		  "_ []uint8, _ error", 8, 0);
	CHECK(stdsig__lookup("encoding/json.(*RawMessage).MarshalJSON", 8, &s) == 0 &&
		      s.ptr_wrapper,
	      "from Go 1.8 (*RawMessage).MarshalJSON is the wrapper");
	/* parameters added: testing.MainStart */
	check_sig("testing.MainStart", 17,
		  "_ testing.testDeps, _ []testing.InternalTest, _ []testing.InternalBenchmark, "
		  "_ []testing.InternalExample",
		  "_ *testing.M", 8, 18);
	check_sig("testing.MainStart", 18,
		  "deps testing.testDeps, tests []testing.InternalTest, benchmarks "
		  "[]testing.InternalBenchmark, fuzzTargets []testing.InternalFuzzTarget, "
		  "examples []testing.InternalExample",
		  "_ *testing.M", 18, 0);
}

static void test_generics(void)
{
	struct stdsig s;

	/* a binary names each instantiation by its shapes */
	CHECK(stdsig__lookup("slices.Sort[go.shape.[]int,go.shape.int]", 22, &s) == 0,
	      "slices.Sort");
	CHECK(s.generic && strcmp(s.symbol, "slices.Sort[...]") == 0, "%s", s.symbol);
	CHECK_STR(join(s.params, s.nparams), "x S");
	CHECK_STR(s.tparams, "S ~[]E, E cmp.Ordered");
	check_absent("slices.Sort[go.shape.int]", 20);
	/* Go 1.18-1.20 name every instantiation "[...]" */
	CHECK(stdsig__lookup("sync/atomic.(*Pointer[...]).Load", 19, &s) == 0 && s.generic,
	      "atomic.Pointer.Load");
	CHECK(stdsig__lookup("sync/atomic.(*Pointer[go.shape.struct { a int }]).Swap", 22, &s) ==
			      0 &&
		      s.generic,
	      "atomic.Pointer.Swap");
	CHECK_STR(join(s.params, s.nparams), "x *sync/atomic.Pointer[T], new *T");
	CHECK_STR(join(s.results, s.nresults), "old *T");
	check_absent("slices.Sort[go.shape.int", 22);
	check_absent("slices.Sort]", 22);
}

static void test_not_std(void)
{
	check_absent("main.main", 26);
	check_absent("strconv.parseFloatPrefix", 26);
	check_absent("net/http.(*http2Framer).WriteData", 26);
	check_absent("io.Reader.Read", 26); /* an interface method is no function */
	check_absent("", 26);
	check_absent("strconv.ParseFloat", -1);
}

static void check_type(const char *name, enum stdsig_class cls, int layout, const char *spec)
{
	struct stdsig_type t;
	int err = stdsig__type(name, &t);

	CHECK(err == 0, "type %s: %d", name, err);
	if (err)
		return;
	CHECK(t.cls == cls && t.layout_minor == layout, "type %s: class %d/%d, want %d/%d", name,
	      t.cls, t.layout_minor, cls, layout);
	if (spec)
		CHECK_STR(t.spec, spec);
	else
		CHECK(!t.spec, "type %s: spec %s", name, t.spec);
}

static void test_named_types(void)
{
	int minor = stdsig__go_minor();

	check_type("time.Duration", STDSIG_FIXED, 0, "int64");
	check_type("io/fs.FileMode", STDSIG_FIXED, 0, "uint32");
	check_type("os.FileMode", STDSIG_FIXED, 0, "uint32");
	check_type("io.Reader", STDSIG_IFACE, 0, NULL);
	check_type("net/http.Request", STDSIG_OPAQUE, 0, NULL);
	check_type("time.Time", STDSIG_GUESS, minor,
		   "struct{ wall uint64; ext int64; loc *time.Location }");
	check_type("crypto/tls.RecordHeaderError", STDSIG_SINCE, 12,
		   "struct{ Msg string; RecordHeader [5]uint8; Conn net.Conn }");
	check_type("iter.Seq[string]", STDSIG_FIXED, 0, "func(func(string) bool)");
	check_type("context.CancelFunc", STDSIG_FIXED, 0, "func()");
	CHECK(stdsig__type("main.T", &(struct stdsig_type){0}) == -ENOENT, "main.T");
}

/* The table's order, fields and release spans are what lookups rely on */
static void test_table_shape(void)
{
	static struct stdsig s, prev;
	size_t n = stdsig__count(), i, generic = 0;

	CHECK(stdsig__go_minor() >= 26, "table from Go 1.%d", stdsig__go_minor());
	CHECK(n > 4900, "%zu entries", n);
	for (i = 0; i < n; i++) {
		int err = stdsig__entry(i, &s);

		CHECK(err == 0, "entry %zu: %d", i, err);
		if (err)
			break;
		CHECK(s.since >= 0 && s.since <= stdsig__go_minor() &&
			      (!s.until || s.until > s.since),
		      "%s: releases %d-%d", s.symbol, s.since, s.until);
		if (i) {
			int c = strcmp(prev.symbol, s.symbol);

			CHECK(c < 0 || (c == 0 && prev.until && prev.until <= s.since),
			      "%s (%d-%d) after %s (%d-%d)", s.symbol, s.since, s.until,
			      prev.symbol, prev.since, prev.until);
		}
		CHECK(!s.generic == !s.tparams && !s.generic == !strstr(s.symbol, "[...]"),
		      "%s: generic flag, type parameters and symbol disagree", s.symbol);
		generic += s.generic;
		prev = s;
		prev.symbol = prev.buf; /* the copy's own string */
	}
	CHECK(stdsig__entry(n, &s) == -ENOENT, "past the end");
	CHECK(generic > 50, "%zu generic entries", generic);
}

/* A count of entries per release: the API only grows, and these releases' files are frozen */
static void test_counts(void)
{
	int minor = stdsig__go_minor();
	size_t prev = 0;

	for (int v = 0; v <= minor; v++) {
		size_t n = stdsig__count_release(v);

		if (verbose)
			printf("  Go 1.%d: %zu entries\n", v, n);
		CHECK(n >= prev, "Go 1.%d has %zu entries, fewer than 1.%d's %zu", v, n, v - 1,
		      prev);
		prev = n;
	}
	CHECK(stdsig__count_release(0) == 2785, "Go 1.0: %zu", stdsig__count_release(0));
	CHECK(stdsig__count_release(13) == 3860, "Go 1.13: %zu", stdsig__count_release(13));
	CHECK(stdsig__count_release(17) == 4055, "Go 1.17: %zu", stdsig__count_release(17));
	CHECK(stdsig__count_release(26) == 4971, "Go 1.26: %zu", stdsig__count_release(26));
	CHECK(stdsig__count_release(-1) == 0, "Go 1.-1");
}

/* Every type of every non-generic entry parses, and every signature can be placed */
static void test_every_type_parses(void)
{
	static struct stdsig s;
	static struct stdsig_type nt;
	struct gotypes *ts = gotypes__new();
	struct stdsig_types *st = stdsig_types__new(ts);
	size_t n = stdsig__count(), bad = 0, placed = 0, i, j;
	char err[256];

	CHECK(ts && st, "registry");
	if (!ts || !st)
		goto out;
	for (i = 0; i < stdsig__ntypes(); i++) {
		const struct gotype *t;

		CHECK(stdsig__type_at(i, &nt) == 0, "type %zu", i);
		t = stdsig_types__lookup(st, nt.name);
		CHECK(t && strcmp(t->name, nt.name) == 0, "type %s does not resolve", nt.name);
		if (!t)
			continue;
		CHECK((nt.cls == STDSIG_OPAQUE) == (t->kind == GK_INVALID) &&
			      (nt.cls != STDSIG_IFACE || t->kind == GK_IFACE),
		      "type %s: kind %d for class %d", nt.name, t->kind, nt.cls);
	}
	CHECK(stdsig__type_at(stdsig__ntypes(), &nt) == -ENOENT, "past the end");
	for (i = 0; i < n; i++) {
		const struct gotype *pt[STDSIG_MAXPARAMS], *rt[STDSIG_MAXPARAMS];
		struct goassign pl[STDSIG_MAXPARAMS], rl[STDSIG_MAXPARAMS];
		struct goframe fr;
		int ok = 1;

		if (stdsig__entry(i, &s) || s.generic)
			continue;
		for (j = 0; j < s.nparams + s.nresults; j++) {
			const struct stdsig_param *p =
				j < s.nparams ? &s.params[j] : &s.results[j - s.nparams];
			const struct gotype **t = j < s.nparams ? &pt[j] : &rt[j - s.nparams];

			if (gotypes__parse(ts, p->type, stdsig_types__lookup, st, t, err,
					   sizeof(err))) {
				if (bad++ < 10)
					CHECK(0, "%s: %s: %s", s.symbol, p->type, err);
				ok = 0;
			}
		}
		if (!ok)
			continue;
		for (int abi = GOABI_STACK; abi <= GOABI_REG; abi++) {
			int ret = goabi__assign(abi, pt, s.nparams, rt, s.nresults, pl, rl, &fr);

			CHECK(ret == 0, "%s: cannot be placed (%s)", s.symbol, lp_lasterr());
			placed += ret == 0;
		}
	}
	CHECK(bad == 0, "%zu types do not parse", bad);
	if (verbose)
		printf("  %zu signatures placed in both ABIs\n", placed / 2);
out:
	stdsig_types__free(st);
	gotypes__free(ts);
}

/* --- real binaries ----------------------------------------------------------------------- */

/* Is name an exported function or method of a std package, as the API would list it? */
static bool std_exported(const char *name)
{
	const char *slash = strrchr(name, '/'), *dot, *p, *first_end;
	bool ident_start = true;

	dot = strchr(slash ? slash : name, '.');
	if (!dot || strncmp(name, "main.", 5) == 0 || strncmp(name, "vendor/", 7) == 0)
		return false;
	first_end = strchr(name, '/');
	if (!first_end || first_end > dot)
		first_end = dot;
	if (memchr(name, '.', (size_t)(first_end - name)))
		return false; /* a module path: example.com/x */
	for (p = name; p < dot; p = strchr(p, '/') + 1) {
		if (strncmp(p, "internal", 8) == 0 && (p[8] == '/' || p + 8 == dot))
			return false;
		if (!strchr(p, '/') || strchr(p, '/') > dot)
			break;
	}
	/* F, F[...], T.M, (*T).M, T[...].M, (*T[...]).M: exported identifiers only */
	p = dot + 1;
	if (strncmp(p, "(*", 2) == 0)
		p += 2;
	for (; *p; p++) {
		if (*p == '[') {
			int depth = 0;

			for (; *p; p++) {
				depth += *p == '[';
				depth -= *p == ']';
				if (!depth)
					break;
			}
			if (!*p)
				return false;
			continue;
		}
		if (ident_start) {
			if (!(*p >= 'A' && *p <= 'Z'))
				return false;
			ident_start = false;
		} else if (*p == '.' || (*p == ')' && p[1] == '.')) {
			p += *p == ')';
			ident_start = true;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '_')) {
			return false;
		}
	}
	return !ident_start;
}

struct bin_stats {
	size_t std, iface, newer, found, generic, checked, agree, layout, unexplained;
	size_t wrappers, ptr_wrappers; /* of those that agree */
};

/*
 * The size of a signature's argument area as the pclntab records it, from
 * the table's types; -1 if it cannot be computed. The stack ABI (before Go
 * 1.17, and assembly) counts arguments and results; the register ABI the
 * stack-assigned arguments and results and the spill slots of the
 * register-assigned arguments (cmd/compile ABIParamResultInfo.ArgWidth).
 */
static int64_t want_args(struct gotypes *ts, struct stdsig_types *st, const struct stdsig *s,
			 const struct gobin_info *info, const struct gobin_func *f,
			 const struct gotype **pt, const struct gotype **rt)
{
	struct goassign pl[STDSIG_MAXPARAMS], rl[STDSIG_MAXPARAMS];
	bool regabi = info->go_minor >= 17 && !f->asm_abi0;
	struct goframe fr;

	for (size_t j = 0; j < s->nparams + s->nresults; j++) {
		const struct stdsig_param *p =
			j < s->nparams ? &s->params[j] : &s->results[j - s->nparams];
		const struct gotype **t = j < s->nparams ? &pt[j] : &rt[j - s->nparams];

		if (gotypes__parse(ts, p->type, stdsig_types__lookup, st, t, NULL, 0))
			return -1;
	}
	if (goabi__assign(regabi ? GOABI_REG : GOABI_STACK, pt, s->nparams, rt, s->nresults, pl, rl,
			  &fr))
		return -1;
	return (int64_t)fr.args_size + fr.results_size + (regabi ? fr.spill_size : 0);
}

/* Does a value of t hold a struct whose layout in release minor may not be the table's? */
static bool layout_varies(const struct gotype *t, int minor, int depth)
{
	static struct stdsig_type nt;

	if (!t || depth > 16)
		return false;
	if (t->name && stdsig__type(t->name, &nt) == 0 &&
	    ((nt.cls == STDSIG_GUESS && nt.layout_minor != minor) ||
	     (nt.cls == STDSIG_SINCE && nt.layout_minor > minor)))
		return true;
	if (t->kind == GK_ARRAY)
		return layout_varies(t->elem, minor, depth + 1);
	for (size_t i = 0; t->kind == GK_STRUCT && i < t->nfields; i++) {
		if (layout_varies(t->fields[i].type, minor, depth + 1))
			return true;
	}
	return false;
}

/* Is name a method of an interface type (a method expression's wrapper, I.M)? */
static bool iface_method(const char *name)
{
	static struct stdsig_type nt;
	char type[512];
	const char *last = strrchr(name, '.');

	if (!last || (size_t)(last - name) >= sizeof(type))
		return false;
	memcpy(type, name, (size_t)(last - name));
	type[last - name] = '\0';
	return stdsig__type(type, &nt) == 0 && nt.cls == STDSIG_IFACE;
}

/* Is the package of name one of the table's? */
static bool std_package(const char *name)
{
	static struct stdsig s;
	const char *slash = strrchr(name, '/');
	const char *dot = strchr(slash ? slash : name, '.');
	size_t lo = 0, hi = stdsig__count(), n = dot ? (size_t)(dot - name) : 0;

	if (!n)
		return false;
	/* the first entry not before "pkg." */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (stdsig__entry(mid, &s))
			return false;
		if (strncmp(s.symbol, name, n + 1) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < stdsig__count() && stdsig__entry(lo, &s) == 0 &&
	       strncmp(s.symbol, name, n + 1) == 0;
}

static void check_binary(const char *label, const char *path, struct bin_stats *total)
{
	static struct stdsig s;
	const struct gotype *pt[STDSIG_MAXPARAMS], *rt[STDSIG_MAXPARAMS];
	struct gotypes *ts = gotypes__new();
	struct stdsig_types *st = stdsig_types__new(ts);
	struct bin_stats bs = {0};
	struct gobin *gb = NULL;
	const struct gobin_info *info;
	int newest = stdsig__go_minor();

	if (gobin__open(path, &gb)) {
		CHECK(0, "%s: %s", label, lp_lasterr());
		goto out;
	}
	info = gobin__info(gb);
	for (size_t i = 0; i < gobin__nfuncs(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i);
		int64_t want;
		bool varies = false;

		if (!std_exported(f->name) || !std_package(f->name) ||
		    gobin__find_func(gb, f->name) != f)
			continue;
		if (iface_method(f->name)) {
			bs.iface++;
			continue;
		}
		bs.std++;
		if (stdsig__lookup(f->name, info->go_minor, &s)) {
			/* API added after the table's release cannot be in it */
			if (info->go_minor > newest) {
				bs.newer++;
				continue;
			}
			CHECK(0, "%s: %s: exported std function not in the table", label, f->name);
			continue;
		}
		bs.found++;
		if (s.generic) {
			bs.generic++;
			continue;
		}
		if (f->args < 0)
			continue;
		want = want_args(ts, st, &s, info, f, pt, rt);
		CHECK(want >= 0, "%s: %s: cannot compute its size", label, f->name);
		if (want < 0)
			continue;
		bs.checked++;
		if (want == f->args) {
			bs.agree++;
			bs.wrappers += s.wrapper;
			bs.ptr_wrappers += s.ptr_wrapper;
			continue;
		}
		for (size_t j = 0; j < s.nparams + s.nresults; j++)
			varies |= layout_varies(j < s.nparams ? pt[j] : rt[j - s.nparams],
						info->go_minor, 0);
		if (varies) {
			bs.layout++;
			if (verbose)
				printf("    %s: %s: %lld bytes by the table's layouts, %d in the "
				       "pclntab\n",
				       label, f->name, (long long)want, f->args);
			continue;
		}
		bs.unexplained++;
		CHECK(0, "%s: %s: %lld bytes by the table, %d in the pclntab%s%s", label, f->name,
		      (long long)want, f->args, f->asm_abi0 ? " (assembly)" : "",
		      s.ptr_wrapper ? " (pointer wrapper)" : "");
	}
	if (verbose)
		printf("  %-8s Go 1.%-2d %4zu exported std functions and methods (%zu interface "
		       "method wrappers left out): %zu in the table, %zu added after Go 1.%d, "
		       "%zu generic; %zu sizes checked: %zu agree (%.1f%%; %zu promoted-method "
		       "and %zu (*T).M wrappers among them), %zu differ by a struct layout of "
		       "another release, %zu unexplained\n",
		       label, info->go_minor, bs.std, bs.iface, bs.found, bs.newer, newest,
		       bs.generic, bs.checked, bs.agree,
		       bs.checked ? 100.0 * (double)bs.agree / (double)bs.checked : 0.0,
		       bs.wrappers, bs.ptr_wrappers, bs.layout, bs.unexplained);
	total->std += bs.std;
	total->found += bs.found;
	total->newer += bs.newer;
	total->checked += bs.checked;
	total->agree += bs.agree;
	total->layout += bs.layout;
	total->wrappers += bs.wrappers;
	total->ptr_wrappers += bs.ptr_wrappers;
	total->unexplained += bs.unexplained;
out:
	gobin__free(gb);
	stdsig_types__free(st);
	gotypes__free(ts);
}

static void test_real_binaries(void)
{
	static const char *const targets[] = {"computee", "webapp", "types",  "abi",
					      "torture",  "leaves", "loadgen"};
	struct bin_stats total = {0};
	char line[1024], label[64], path[960];
	size_t n = 0;
	FILE *p = popen("tests/gobins.sh --list 2>/dev/null", "r");

	while (p && fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%63s %959s", label, path) == 2) {
			check_binary(label, path, &total);
			n++;
		}
	}
	if (p)
		pclose(p);
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(path, sizeof(path), "%s/default", gotarget(targets[i]));
		if (access(path, R_OK) == 0) {
			check_binary(targets[i], path, &total);
			n++;
		}
	}
	if (!n)
		SKIP("no binaries (run tests/gobins.sh and tests/go/build.sh)");
	if (verbose)
		printf("  all: %zu exported std functions and methods, %zu in the table, %zu "
		       "newer; "
		       "%zu sizes checked: %zu agree (%.2f%%; %zu promoted-method and %zu (*T).M "
		       "wrappers), %zu by layout, %zu unexplained\n",
		       total.std, total.found, total.newer, total.checked, total.agree,
		       total.checked ? 100.0 * (double)total.agree / (double)total.checked : 0.0,
		       total.wrappers, total.ptr_wrappers, total.layout, total.unexplained);
}

int main(void)
{
	verbose = getenv("STDSIG_VERBOSE") != NULL;
	RUN(test_functions);
	RUN(test_methods);
	RUN(test_changes);
	RUN(test_generics);
	RUN(test_not_std);
	RUN(test_named_types);
	RUN(test_table_shape);
	RUN(test_counts);
	RUN(test_every_type_parses);
	RUN(test_real_binaries);
	return unit_summary();
}
