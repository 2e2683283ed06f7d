// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the runtime type reader (rtype.c) needs from the binary beyond
 * gobin.h's other functions: the module data's type region and itab area,
 * and pointers as linked.
 */
#include <errno.h>
#include "gobin_internal.h"

int gobin__types_range(struct gobin *gb, uint64_t *start, uint64_t *end)
{
	if (!gb || !gobin_md_find(gb))
		return -ENOENT;
	*start = gb->types;
	*end = gb->etypes;
	return 0;
}

int gobin__itab_area(struct gobin *gb, uint64_t *start, uint64_t *size)
{
	uint64_t off, n;

	if (!gb || !gobin_md_find(gb) || gb->md->itaboff < 0 ||
	    !gobin_read_ptr(gb, gb->md_addr + gb->md->itaboff, &off) ||
	    !gobin_read_ptr(gb, gb->md_addr + gb->md->itabsize, &n) ||
	    off > gb->etypes - gb->types || n > gb->etypes - gb->types - off)
		return -ENOENT;
	*start = gb->types + off;
	*size = n;
	return 0;
}

bool gobin__read_ptr(const struct gobin *gb, uint64_t vaddr, uint64_t *out)
{
	return gb && gobin_read_ptr(gb, vaddr, out);
}
