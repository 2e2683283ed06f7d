// SPDX-License-Identifier: BSD-2-Clause
/*
 * Type descriptors: kinds and names from runtime._type, and the list of
 * types in module data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
#include "gobin_internal.h"
#include "log.h"

static bool type_addr_ok(struct gobin *gb, uint64_t vaddr)
{
	return gb->md_state > 0 && vaddr >= gb->types && vaddr < gb->etypes &&
	       gobin__data(gb, vaddr, TYPE_HDR);
}

int gobin__type_kind(struct gobin *gb, uint64_t type_vaddr)
{
	const uint8_t *t;

	if (!gb || !type_addr_ok(gb, type_vaddr))
		return -1;
	t = gobin__data(gb, type_vaddr, TYPE_HDR);
	return t[23] & KIND_MASK;
}

static struct tname *tname_slot(struct gobin *gb, uint64_t addr)
{
	size_t h = (size_t)((addr >> 3) * 0x9e3779b97f4a7c15ULL) & gb->tn_mask;

	while (gb->tnames[h].name && gb->tnames[h].addr != addr)
		h = (h + 1) & gb->tn_mask;
	return &gb->tnames[h];
}

static int tname_grow(struct gobin *gb)
{
	struct tname *old = gb->tnames;
	size_t omask = gb->tn_mask, size = old ? (omask + 1) * 2 : 256;

	gb->tnames = calloc(size, sizeof(*gb->tnames));
	if (!gb->tnames) {
		gb->tnames = old;
		return -ENOMEM;
	}
	gb->tn_mask = size - 1;
	for (size_t i = 0; old && i <= omask; i++)
		if (old[i].name)
			*tname_slot(gb, old[i].addr) = old[i];
	free(old);
	return 0;
}

/* The runtime name record at vaddr: a flag byte, then the length, then the bytes. */
static const char *read_name(const struct gobin *gb, uint64_t vaddr, size_t *len)
{
	uint64_t avail, n;
	const uint8_t *p = gobin_data_avail(gb, vaddr, &avail);
	size_t hdr;

	if (!p || avail < 3)
		return NULL;
	if (gb->minor >= 17) {
		hdr = uvarint(p + 1, p + avail, &n);
		if (!hdr)
			return NULL;
		hdr += 1;
	} else {
		n = (uint64_t)p[1] << 8 | p[2];
		hdr = 3;
	}
	if (n > avail - hdr)
		return NULL;
	*len = (size_t)n;
	return (const char *)p + hdr;
}

const char *gobin__type_name(struct gobin *gb, uint64_t type_vaddr)
{
	const uint8_t *t;
	const char *s;
	struct tname *slot;
	size_t len;
	int32_t off;

	if (!gb || !type_addr_ok(gb, type_vaddr))
		return NULL;
	if (gb->tnames) {
		slot = tname_slot(gb, type_vaddr);
		if (slot->name)
			return slot->name;
	}
	t = gobin__data(gb, type_vaddr, TYPE_HDR);
	off = (int32_t)le32(t + 40);
	if (off < 0 || (uint64_t)off >= gb->etypes - gb->types)
		return NULL;
	s = read_name(gb, gb->types + (uint64_t)off, &len);
	if (!s)
		return NULL;
	if ((t[20] & TFLAG_EXTRA_STAR) && len > 0 && s[0] == '*') {
		s++;
		len--;
	}
	if ((gb->tn_count + 1) * 2 > (gb->tnames ? gb->tn_mask + 1 : 0) && tname_grow(gb))
		return NULL;
	slot = tname_slot(gb, type_vaddr);
	slot->name = strndup(s, len);
	if (!slot->name)
		return NULL;
	slot->addr = type_vaddr;
	gb->tn_count++;
	return slot->name;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t gobin__types(struct gobin *gb, uint64_t *out, size_t max)
{
	size_t count = 0, cap = 0, uniq = 0;
	uint64_t ptr, n, end, *all = NULL;

	if (!gb || gb->md_state <= 0)
		return 0;
	if (gb->md->typelinks >= 0) {
		const uint8_t *p;

		if (!gobin_read_ptr(gb, gb->md_addr + gb->md->typelinks, &ptr) ||
		    !gobin_read_ptr(gb, gb->md_addr + gb->md->typelinks + 8, &n) || n > (1 << 24))
			return 0;
		p = gobin__data(gb, ptr, n * 4);
		for (uint64_t i = 0; p && i < n; i++) {
			if (count < max)
				out[count] =
					gb->types + (uint64_t)(int64_t)(int32_t)le32(p + i * 4);
			count++;
		}
		return count;
	}
	/*
	 * Go 1.27 dropped typelinks; list the concrete types of the itabs the
	 * linker laid out after the type descriptors. An itab is {inter, type,
	 * hash, pad, fun[max(1, len(inter.methods))]}.
	 */
	if (!gobin_read_ptr(gb, gb->md_addr + gb->md->itaboff, &ptr) ||
	    !gobin_read_ptr(gb, gb->md_addr + gb->md->itabsize, &n) ||
	    ptr > gb->etypes - gb->types || n > gb->etypes - gb->types - ptr)
		return 0;
	end = gb->types + ptr + n;
	for (uint64_t a = gb->types + ptr; a + 32 <= end;) {
		uint64_t inter, typ, nm;

		if (!gobin_read_ptr(gb, a, &inter) || !gobin_read_ptr(gb, a + 8, &typ) ||
		    !type_addr_ok(gb, inter) || !gobin_read_ptr(gb, inter + 64, &nm) || nm > 4096)
			break;
		if (count == cap) {
			uint64_t *na = realloc(all, (cap = cap ? cap * 2 : 1024) * sizeof(*all));

			if (!na)
				break;
			all = na;
		}
		all[count++] = typ;
		a += 24 + 8 * (nm ? nm : 1);
	}
	/* a type implementing several interfaces has several itabs */
	if (count)
		qsort(all, count, sizeof(*all), u64_cmp);
	for (size_t i = 0; i < count; i++) {
		if (i && all[i] == all[i - 1])
			continue;
		if (uniq < max)
			out[uniq] = all[i];
		uniq++;
	}
	free(all);
	return uniq;
}
