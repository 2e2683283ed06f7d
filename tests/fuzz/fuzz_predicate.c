// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the where= predicate language (src/predicate.c),
 * parsed and compiled against a probe on a function like
 *
 *   func handle(n int, s string, ok bool, r *net/http.Request, t *main.T,
 *               m map[string]int, sl []int, f float64, u uint8, i16 int16,
 *               arr [4]int32, in main.Inner, p unsafe.Pointer, e any)
 *               (~r0 int, err error)
 *
 * that captures some parameters up front and the others when the predicate
 * names them, as src/probe.c does. The input is the expression.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_types.h"
#include "goabi.h"
#include "plan.h"
#include "predicate.h"

static const struct {
	const char *name, *type;
	bool result, upfront;
} params[] = {
	{"n", "int", false, true},
	{"s", "string", false, true},
	{"ok", "bool", false, true},
	{"r", "*net/http.Request", false, false},
	{"t", "*main.T", false, false},
	{"m", "map[string]int", false, false},
	{"sl", "[]int", false, true},
	{"f", "float64", false, false},
	{"u", "uint8", false, false},
	{"i16", "int16", false, false},
	{"arr", "[4]int32", false, false},
	{"in", "main.Inner", false, false},
	{"p", "unsafe.Pointer", false, false},
	{"e", "any", false, false},
	{"~r0", "int", true, true},
	{"err", "error", true, false},
};

#define NPARAMS (sizeof(params) / sizeof(params[0]))
#define NRES	2

struct fn {
	const struct gotype *types[NPARAMS];
	struct goassign loc[NPARAMS];
	struct plan_builder *pb;
	bool want_ret;
};

/* As probe.c's capture_hidden: the parameter named before the first dot, then the path. */
static int capture(void *arg, const char *path)
{
	struct fn *fn = arg;
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path);

	for (size_t i = 0; i < NPARAMS; i++) {
		struct plan_param pp = {params[i].name, fn->types[i], params[i].result,
					&fn->loc[i]};

		if (strlen(params[i].name) != len || strncmp(params[i].name, path, len) != 0)
			continue;
		if (params[i].result && !fn->want_ret)
			return -ENOENT;
		if (plan__add(fn->pb, &pp, dot ? dot + 1 : NULL, path))
			return -EINVAL;
		plan__hide(fn->pb, path);
		return 0;
	}
	return -ENOENT;
}

static size_t compile(struct fn *fn, const char *expr, bool want_ret)
{
	static struct lp_plan copy;
	struct plan_opts opts = {0};
	struct pred_ctx pc = {.has_ret = want_ret, .capture = capture, .arg = fn};
	char err[256] = "";
	size_t sum = 0;

	fn->want_ret = want_ret;
	fn->pb = plan__new(&opts);
	if (!fn->pb)
		return 0;
	pc.pb = fn->pb;
	for (size_t i = 0; i < NPARAMS; i++) {
		struct plan_param pp = {params[i].name, fn->types[i], params[i].result,
					&fn->loc[i]};

		if (params[i].upfront && (want_ret || !params[i].result) &&
		    plan__add(fn->pb, &pp, NULL, NULL))
			goto out;
	}
	if (predicate__compile(expr, &pc, err, sizeof(err)) == 0) {
		copy = *plan__bpf(fn->pb);
		sum += copy.nentry + copy.nret;
		copy.flags |= LP_PF_NOEVENT;
		plan__prune(&copy);
		sum += copy.nentry;
	}
	sum += strlen(err);
out:
	plan__free(fn->pb);
	fn->pb = NULL;
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_types ft = {0};
	const struct gotype *ptypes[NPARAMS], *rtypes[NRES];
	struct goassign ploc[NPARAMS], rloc[NRES];
	struct goframe fr;
	struct fn fn = {0};
	char *expr, err[256];
	size_t sum = 0, np = 0, nr = 0;

	expr = malloc(size + 1);
	if (!expr)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	sum += predicate__check(expr, err, sizeof(err)) == 0;
	ft.ts = gotypes__new();
	if (!ft.ts)
		goto out;
	for (size_t i = 0; i < NPARAMS; i++) {
		if (gotypes__parse(ft.ts, params[i].type, fuzz_lookup, &ft, &fn.types[i], NULL, 0))
			goto out;
		if (params[i].result)
			rtypes[nr++] = fn.types[i];
		else
			ptypes[np++] = fn.types[i];
	}
	if (goabi__assign(GOABI_REG, ptypes, np, rtypes, nr, ploc, rloc, &fr))
		goto out;
	for (size_t i = 0, p = 0, r = 0; i < NPARAMS; i++)
		fn.loc[i] = params[i].result ? rloc[r++] : ploc[p++];
	sum += compile(&fn, expr, true);
	sum += compile(&fn, expr, false);
out:
	gotypes__free(ft.ts);
	free(expr);
	__asm__ volatile("" : : "r"(sum));
	return 0;
}
