// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the DWARF reader (src/go/godwarf.c, over libdw). The input
 * is a whole ELF file. After a successful open, the names found in the
 * input (Go writes DIE names inline) are looked up as functions and as
 * types, and what comes back is used as probes use it: the ABI model
 * places the parameters and the probe compiler captures them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "goabi.h"
#include "godwarf.h"
#include "plan.h"

#define MAX_NAMES  48
#define MAX_PARAMS 16

/* Read a type graph (bounded: types may be cyclic). */
static size_t walk(const struct gotype *t, int depth)
{
	size_t sum;

	if (!t || depth > 6)
		return 0;
	sum = t->kind + t->size + t->align + t->len + (t->name ? strlen(t->name) : 0);
	sum += walk(t->elem, depth + 1) + walk(t->key, depth + 1);
	for (size_t i = 0; i < t->nfields && i < 64; i++) {
		const struct gofield *f = &t->fields[i];

		sum += f->offset + f->embedded + (f->name ? strlen(f->name) : 0);
		sum += walk(f->type, depth + 1);
	}
	return sum;
}

static size_t use_params(const struct goparam *p, size_t n)
{
	const struct gotype *pt[MAX_PARAMS], *rt[MAX_PARAMS];
	struct goassign pl[MAX_PARAMS], rl[MAX_PARAMS];
	struct plan_opts opts = {.depth = 1};
	struct goframe fr;
	size_t np = 0, nr = 0, sum = 0;

	for (size_t i = 0; i < n; i++) {
		sum += strlen(p[i].name) + walk(p[i].type, 0);
		if (p[i].is_result && nr < MAX_PARAMS)
			rt[nr++] = p[i].type;
		else if (!p[i].is_result && np < MAX_PARAMS)
			pt[np++] = p[i].type;
	}
	for (int abi = GOABI_STACK; abi <= GOABI_REG; abi++) {
		struct plan_builder *pb;

		if (goabi__assign(abi, pt, np, rt, nr, pl, rl, &fr))
			continue;
		sum += fr.args_size + fr.results_size;
		pb = plan__new(&opts);
		if (!pb)
			continue;
		for (size_t i = 0; i < np && i < 4; i++) {
			struct plan_param pp = {"a", pt[i], false, &pl[i]};

			if (plan__add(pb, &pp, NULL, NULL))
				break;
		}
		plan__free(pb);
	}
	return sum;
}

/*
 * Strings of the input that look like Go names ("main.F", "runtime.g"):
 * printable runs with a dot, ended by a NUL. DWARF writes a DIE's name
 * right after its abbreviation code, so a run starts after any byte that is
 * not printable, not only after a NUL.
 */
static size_t find_names(const char *data, size_t size, const char **out, size_t max)
{
	size_t n = 0, start = 0;
	bool dot = false;

	for (size_t j = 0; j < size && n < max; j++) {
		unsigned char c = (unsigned char)data[j];

		if (!c && j - start >= 3 && j - start < 200 && dot)
			out[n++] = data + start;
		if (c <= ' ' || c >= 0x7f) {
			start = j + 1;
			dot = false;
		} else {
			dot |= c == '.';
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *names[MAX_NAMES];
	struct gotypes *ts = gotypes__new();
	struct godwarf *dw = NULL;
	void *img = malloc(size ? size : 1);
	size_t n, sum = 0;

	if (!ts || !img)
		goto out;
	/* libelf reads the image in place and the reader edits its section headers */
	memcpy(img, data, size);
	if (godwarf__open_mem(img, size, "fuzz", ts, &dw))
		goto out;
	n = find_names((const char *)data, size, names, MAX_NAMES);
	for (size_t i = 0; i < n; i++) {
		const struct goparam *p;
		size_t np;
		uint64_t entry = 0;

		if (!godwarf__func_params(dw, names[i], &p, &np))
			sum += use_params(p, np);
		if (size >= 8)
			memcpy(&entry, data + (i * 8) % (size - 7), 8);
		if (!godwarf__func_params_at(dw, names[i], entry, &p, &np))
			sum += np;
		sum += walk(godwarf__type(dw, names[i]), 0);
	}
	sum += walk(godwarf__type(dw, "*main.T"), 0);
	sum += walk(godwarf__type(dw, "[]map[string]*runtime.g"), 0);
	sum += godwarf__func_params(dw, "main.Map[go.shape.int]", &(const struct goparam *){0},
				    &n) == 0;
out:
	godwarf__free(dw);
	gotypes__free(ts);
	free(img);
	__asm__ volatile("" : : "r"(sum));
	return 0;
}
