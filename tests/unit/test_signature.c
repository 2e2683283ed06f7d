// SPDX-License-Identifier: BSD-2-Clause
/*
 * Signature sources other than DWARF, on the stdcalls target: the std table's
 * signatures (named, typed, placed for the binary's release), the argument
 * layout the binary records and the check of declarations against it (every
 * DWARF signature of the binary passes it, as the compiler's own record
 * must), and separate debug files by build id.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "debugfile.h"
#include "goabi.h"
#include "gobin.h"
#include "godwarf.h"
#include "gotype.h"
#include "log.h"
#include "signature.h"
#include "unit.h"

#define TEST_BUILD_ID "6c7570726f62652d74657374" /* tests/go/build.sh: "luprobe-test" */

static struct gobin *open_target(const char *rel)
{
	struct gobin *gb = NULL;

	if (gobin__open(gotarget(rel), &gb))
		return NULL;
	return gb;
}

static const char *params_text(const struct goparam *p, int n)
{
	static char buf[1024];
	size_t k = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		k += (size_t)snprintf(buf + k, k < sizeof(buf) ? sizeof(buf) - k : 0, "%s%s%s %s",
				      i ? ", " : "", p[i].is_result ? "->" : "", p[i].name,
				      p[i].type->name ? p[i].type->name : "?");
	return buf;
}

static void test_std_signatures_of_a_stripped_build(void)
{
	struct gobin *gb = open_target("stdcalls/stripped");
	struct gotypes *ts = gotypes__new();
	struct sigsrc *ss;
	struct goparam p[32];
	int n;

	if (!gb)
		SKIP("stdcalls/stripped not built");
	ss = sigsrc__new(ts, gobin__info(gb)->go_minor, NULL, NULL);
	n = sigsrc__std(ss, gobin__find_func(gb, "strconv.ParseInt"), p, 32);
	CHECK(n == 5, "n=%d", n);
	CHECK_STR(params_text(p, n), "s string, base int, bitSize int, ->i int64, ->err error");
	n = sigsrc__std(ss, gobin__find_func(gb, "strings.Fields"), p, 32);
	CHECK_STR(params_text(p, n), "s string, ->~r0 []string");
	n = sigsrc__std(ss, gobin__find_func(gb, "net/url.Parse"), p, 32);
	CHECK_STR(params_text(p, n), "rawURL string, ->~r0 *net/url.URL, ->~r1 error");
	n = sigsrc__std(ss, gobin__find_func(gb, "bytes.(*Buffer).WriteString"), p, 32);
	CHECK_STR(params_text(p, n), "b *bytes.Buffer, s string, ->n int, ->err error");
	n = sigsrc__std(ss, gobin__find_func(gb, "time.Duration.String"), p, 32);
	CHECK_STR(params_text(p, n), "d time.Duration, ->~r0 string");
	CHECK(n == 2 && p[0].type->kind == GK_INT && p[0].type->size == 8, "Duration is an int64");
	n = sigsrc__std(ss, gobin__find_func(gb, "main.run"), p, 32);
	CHECK(n == -ENOENT, "main.run: %d", n);
	sigsrc__free(ss);
	gotypes__free(ts);
	gobin__free(gb);
}

static void test_the_recorded_layout(void)
{
	struct gobin *gb = open_target("stdcalls/stripped");
	char buf[256];
	int n;

	if (!gb)
		SKIP("stdcalls/stripped not built");
	n = signature__layout(gb, gobin__find_func(gb, "strconv.ParseInt"), buf, sizeof(buf));
	CHECK(n > 0, "n=%d", n);
	CHECK_STR(buf, "({a0, a1}, a2, a3)");
	n = signature__layout(gb, gobin__find_func(gb, "strings.EqualFold"), buf, sizeof(buf));
	CHECK_STR(buf, "({a0, a1}, {a2, a3})");
	gobin__free(gb);
}

/* declare params as written: "s string", "base int" */
static int check_decl(struct gobin *gb, struct gotypes *ts, const char *fn, const char **types,
		      size_t n)
{
	struct goparam p[16];
	size_t i;

	for (i = 0; i < n; i++) {
		p[i].name = "x";
		p[i].is_result = false;
		if (gotypes__parse(ts, types[i], NULL, NULL, &p[i].type, NULL, 0))
			return -999;
	}
	return signature__check(gb, gobin__find_func(gb, fn), p, n);
}

static void test_declarations_against_the_layout(void)
{
	struct gobin *gb = open_target("stdcalls/stripped");
	struct gotypes *ts = gotypes__new();
	const char *right[] = {"string", "int", "int"}, *wrong[] = {"int", "int", "int"};
	const char *prefix[] = {"string"}, *more[] = {"string", "int", "int", "int"};
	const char *narrow[] = {"string", "int32", "int"}, *bytes[] = {"[]byte", "int", "int"};

	if (!gb)
		SKIP("stdcalls/stripped not built");
	CHECK(check_decl(gb, ts, "strconv.ParseInt", right, 3) == 0, "right");
	CHECK(check_decl(gb, ts, "strconv.ParseInt", prefix, 1) == 0, "the first alone");
	CHECK(check_decl(gb, ts, "strconv.ParseInt", wrong, 3) == -EINVAL, "int for a string");
	CHECK(strstr(lp_lasterr(), "({a0, a1}, a2, a3)"), "%s", lp_lasterr());
	CHECK(check_decl(gb, ts, "strconv.ParseInt", more, 4) == -EINVAL, "one more");
	CHECK(check_decl(gb, ts, "strconv.ParseInt", narrow, 3) == -EINVAL, "int32 for an int");
	CHECK(check_decl(gb, ts, "strconv.ParseInt", bytes, 3) == -EINVAL, "slice for a string");
	gotypes__free(ts);
	gobin__free(gb);
}

/* The stack-ABI argument size of params, as the pclntab counts it. */
static bool complete(const struct gobin_func *f, const struct goparam *params, size_t n,
		     bool regabi)
{
	const struct gotype *pt[64], *rt[64];
	struct goassign pl[65], rl[65];
	struct goframe fr;
	size_t np = 0, nr = 0, i;

	if (n > 64 || f->args < 0)
		return false;
	for (i = 0; i < n; i++)
		if (params[i].is_result)
			rt[nr++] = params[i].type;
		else
			pt[np++] = params[i].type;
	if (goabi__assign(GOABI_STACK, pt, np, rt, nr, pl, rl, &fr))
		return false;
	return (regabi ? fr.args_size : fr.args_size + fr.results_size) == (uint32_t)f->args;
}

static void test_every_dwarf_signature_fits_the_layout(void)
{
	struct gobin *gb = open_target("stdcalls/default");
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = NULL;
	size_t i, checked = 0, failed = 0;

	if (!gb)
		SKIP("stdcalls/default not built");
	if (godwarf__open(gotarget("stdcalls/default"), ts, &dw))
		SKIP("no DWARF");
	for (i = 0; i < gobin__nfuncs(gb); i++) {
		const struct gobin_func *f = gobin__func(gb, i);
		const struct goparam *params;
		struct goparam args[64];
		size_t n, j, na = 0;

		/* the compiler's equality functions record one word for (p, q) */
		if (strstr(f->name, "type:.eq.") == f->name || strstr(f->name, "type..eq.") == f->name)
			continue;
		if (godwarf__func_params_at(dw, f->name, f->entry, &params, &n) || n > 64 ||
		    !complete(f, params, n, gobin__info(gb)->go_minor >= 17))
			continue;
		for (j = 0; j < n; j++)
			if (!params[j].is_result)
				args[na++] = params[j];
		checked++;
		/* a closure of a generic function: its DWARF has one parameter too many */
		if (strstr(f->name, "].func"))
			continue;
		if (signature__check(gb, f, args, na)) {
			if (failed++ < 5)
				fprintf(stderr, "  %s\n", lp_lasterr());
		}
	}
	CHECK(checked > 1000, "checked %zu", checked);
	CHECK(failed == 0, "%zu of %zu do not fit", failed, checked);
	godwarf__free(dw);
	gotypes__free(ts);
	gobin__free(gb);
}

static void test_debug_files_by_build_id(void)
{
	struct gobin *gb = open_target("stdcalls/debug-stripped");
	struct gobin *dbg = open_target("stdcalls/debug"), *other = open_target("types/default");
	char id[64], dir[] = "/tmp/luprobe-debugXXXXXX", path[512], want[512];
	int n;

	if (!gb || !dbg || !other)
		SKIP("targets not built");
	n = debugfile__build_id(gb, id, sizeof(id));
	CHECK(n == 24, "n=%d", n);
	CHECK_STR(id, TEST_BUILD_ID);
	/* Go 1.26's linker gives every binary one of its own */
	n = debugfile__build_id(other, id, sizeof(id));
	CHECK(n == -ENOENT || strcmp(id, TEST_BUILD_ID) != 0, "types has another build id");
	CHECK(mkdtemp(dir), "mkdtemp");
	CHECK(debugfile__find(gb, dir, path, sizeof(path)) == -ENOENT, "none yet");
	snprintf(want, sizeof(want), "%s/.build-id/6c/7570726f62652d74657374.debug", dir);
	snprintf(path, sizeof(path), "%s/.build-id", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/.build-id/6c", dir);
	mkdir(path, 0755);
	CHECK(realpath(gotarget("stdcalls/debug"), path) && symlink(path, want) == 0, "symlink");
	CHECK(debugfile__find(gb, dir, path, sizeof(path)) == 0, "found");
	CHECK_STR(path, want);
	CHECK(debugfile__match(gb, dbg, path) == 0, "%s", lp_lasterr());
	CHECK(debugfile__match(gb, other, "types") == -EINVAL, "another program");
	CHECK(strstr(lp_lasterr(), "debug file types is not of"), "%s", lp_lasterr());
	CHECK(debugfile__match(gb, gb, "itself") == -EINVAL, "no DWARF");
	CHECK(strstr(lp_lasterr(), "has no DWARF"), "%s", lp_lasterr());
	unlink(want);
	snprintf(path, sizeof(path), "%s/.build-id/6c", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/.build-id", dir);
	rmdir(path);
	rmdir(dir);
	gobin__free(other);
	gobin__free(dbg);
	gobin__free(gb);
}

int main(void)
{
	RUN(test_std_signatures_of_a_stripped_build);
	RUN(test_the_recorded_layout);
	RUN(test_declarations_against_the_layout);
	RUN(test_every_dwarf_signature_fits_the_layout);
	RUN(test_debug_files_by_build_id);
	return unit_summary();
}
