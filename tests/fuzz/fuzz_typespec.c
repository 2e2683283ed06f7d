// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the type-spec parser (gotypes__parse, what a script
 * writes in args = { {"r", "*net/http.Request"} }) and what probes do with
 * the type: the ABI model places it, and the probe compiler captures it or
 * a field path into it (args = { "r.URL.Path" }) and resolves names in it.
 *
 * Input: the type spec, optionally followed by a NUL byte and a field path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_types.h"
#include "goabi.h"
#include "plan.h"

/* Walk a decode tree, reading every node (bounded: trees follow the plan's limits). */
static size_t walk(const struct dnode *n, int depth)
{
	size_t sum = n->kind + n->img + n->var + n->aux;

	if (depth > 16)
		return sum;
	for (uint32_t i = 0; i < n->nchild; i++)
		sum += walk(&n->child[i], depth + 1);
	return sum;
}

static size_t compile(struct fuzz_types *ft, const struct gotype *t, const char *path, bool result,
		      const struct goassign *loc)
{
	static struct lp_plan copy;
	struct plan_opts opts = {.depth = 2};
	struct plan_param pp = {"x", t, result, loc};
	const struct plan_value *vals;
	struct plan_builder *pb;
	char name[128];
	size_t sum = 0, n;
	bool res;

	(void)ft;
	pb = plan__new(&opts);
	if (!pb)
		return 0;
	snprintf(name, sizeof(name), "x%s%.100s", path ? "." : "", path ? path : "");
	if (plan__add(pb, &pp, path, name) == 0) {
		vals = plan__values(pb, &n);
		for (size_t i = 0; i < n; i++)
			sum += walk(&vals[i].root, 0);
		sum += plan__resolve(pb, "x", &res) != NULL;
		sum += plan__resolve(pb, name, &res) != NULL;
		sum += plan__resolve(pb, "x.A.B", &res) != NULL;
		sum += plan__entry_bytes(pb);
		copy = *plan__bpf(pb);
		copy.flags |= LP_PF_NOEVENT;
		plan__prune(&copy);
		sum += copy.nentry;
	}
	plan__free(pb);
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_types ft = {0};
	const struct gotype *t, *types[2];
	const struct gofield *fpath[8];
	struct goassign ploc[2], rloc[2];
	struct goframe fr;
	char *spec, *path = NULL, err[256];
	size_t sum = 0;
	const char *nul = memchr(data, '\0', size);

	/* exact-size copies, so that reading past the end is caught */
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (nul) {
		size_t off = (size_t)(nul - (const char *)data) + 1;

		path = malloc(size - off + 1);
		if (!path)
			goto out;
		memcpy(path, data + off, size - off);
		path[size - off] = '\0';
	}
	ft.ts = gotypes__new();
	if (!ft.ts)
		goto out;
	if (gotypes__parse(ft.ts, spec, fuzz_lookup, &ft, &t, err, sizeof(err))) {
		sum += strlen(err);
		goto out;
	}
	sum += strlen(t->name ? t->name : "") + t->size + t->align;
	types[0] = types[1] = t;
	for (int abi = GOABI_STACK; abi <= GOABI_REG; abi++) {
		if (goabi__assign(abi, types, 2, types, 1, ploc, rloc, &fr))
			continue;
		sum += fr.args_size + fr.results_size + fr.spill_size;
		sum += compile(&ft, t, path && *path ? path : NULL, false, &ploc[0]);
		sum += compile(&ft, t, path && *path ? path : NULL, true, &rloc[0]);
	}
	if (path && *path) {
		uint64_t off;

		sum += gotype__field(t, path, &off) != NULL;
		sum += (size_t)gotype__field_path(t, path, fpath, 8);
		if (t->kind == GK_PTR)
			sum += (size_t)gotype__field_path(t->elem, path, fpath, 2);
	}
	sum += gotype__is_error(t);
	sum += gotypes__ptr_to(ft.ts, t) != NULL;
	sum += gotypes__slice_of(ft.ts, t) != NULL;
	sum += gotypes__array_of(ft.ts, t, 3) != NULL;
out:
	gotypes__free(ft.ts);
	free(path);
	free(spec);
	__asm__ volatile("" : : "r"(sum));
	return 0;
}
