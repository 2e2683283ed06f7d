// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the runtime type reader (rtype.c) needs from the binary beyond
 * gobin.h's other functions, found through gobin's public API only.
 */
#include <errno.h>
#include <string.h>
#include "gobin.h"

/* nameOff and typeOff are int32: the region is less than 4 GiB either side of a descriptor */
#define SPAN (1ULL << 32)

static bool in_types(struct gobin *gb, uint64_t a)
{
	return gobin__type_kind(gb, a) >= 0;
}

/*
 * gobin__type_kind() answers for exactly the addresses of [types, etypes)
 * (less the last header's worth at a segment's end): bisect its edges from
 * one descriptor the type index lists.
 */
int gobin__types_range(struct gobin *gb, uint64_t *start, uint64_t *end)
{
	uint64_t root, lo, hi;

	if (!gb || gobin__types(gb, &root, 1) < 1 || !in_types(gb, root))
		return -ENOENT;
	/* smallest address in the region: in_types(lo - 1) is false, in_types(hi) true */
	lo = root > SPAN ? root - SPAN : 0;
	hi = root;
	if (in_types(gb, lo))
		return -ENOENT;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (in_types(gb, mid))
			hi = mid;
		else
			lo = mid;
	}
	*start = hi;
	/* first address past it: in_types(lo) true, in_types(hi) false */
	lo = root;
	hi = root + SPAN;
	if (in_types(gb, hi))
		return -ENOENT;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (in_types(gb, mid))
			lo = mid;
		else
			hi = mid;
	}
	*end = hi;
	return 0;
}

/*
 * The Go 1.27 module data, in its own .go.module section, has itaboff and
 * itabsize (offsets 320 and 328, from types at 296) in runtime/symtab.go.
 */
int gobin__itab_area(struct gobin *gb, uint64_t *start, uint64_t *size)
{
	const struct gobin_info *in = gb ? gobin__info(gb) : NULL;
	struct gobin_section s;
	uint64_t w[42];

	if (!in || in->go_major != 1 || in->go_minor < 27)
		return -ENOENT;
	for (size_t i = 0; gobin__section(gb, i, &s); i++) {
		if (strcmp(s.name, ".go.module") != 0 || !s.data || s.size < sizeof(w))
			continue;
		memcpy(w, s.data, sizeof(w));
		/* a PIE build leaves these words to relocations: not handled here */
		if (w[0] != in->pclntab_addr || w[39] < w[37] || w[40] > w[39] - w[37] ||
		    w[41] > w[39] - w[37] - w[40])
			return -ENOENT;
		*start = w[37] + w[40];
		*size = w[41];
		return 0;
	}
	return -ENOENT;
}
