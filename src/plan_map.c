// SPDX-License-Identifier: BSD-2-Clause
/*
 * Map lookups in field paths (m["key"]): where a key and its element sit in
 * a Go map's buckets or groups, for the kernel's scan (LP_OP_MAPGET, see
 * bpf/mapget.bpf.h for what it reads).
 *
 * hmap (runtime/map.go; cmd/compile bmap): a bucket is tophash [8]uint8,
 * keys [8]K, elems [8]V, overflow *bmap: keys at 8, elements at 8 + 8 *
 * sizeof(K), 16 + 8 * (sizeof(K) + sizeof(V)) bytes in all (K and V are
 * multiples of their alignment, at most 8, and 8 of them are so multiples
 * of 8).
 * swiss (internal/runtime/maps; cmd/compile/internal/reflectdata/map.go): a
 * group is ctrl uint64 and [8]struct{ key K; elem V }; the slot is a Go
 * struct, so the element is at the key's size rounded up to its alignment,
 * and the slot's size is rounded up to the larger alignment (a zero-size
 * element last gets a byte of padding first, as Go pads a struct that ends
 * in one).
 * Both: a key or element over 128 bytes is stored as a pointer to it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "plan.h"

#define MAX_INLINE 128 /* abi.MapMaxKeyBytes, abi.MapMaxElemBytes; runtime maxKeySize */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return a > 1 ? (v + a - 1) / a * a : v;
}

/* A Go string literal: "..." with the escapes \" \\ \n \t \r \xNN. Returns its length, or -1. */
static int parse_string(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	if (*s++ != '"')
		return -1;
	while (*s && *s != '"') {
		char c = *s++;

		if (c == '\\') {
			char e = *s++;

			if (e == 'n')
				c = '\n';
			else if (e == 't')
				c = '\t';
			else if (e == 'r')
				c = '\r';
			else if (e == '"' || e == '\\')
				c = e;
			else if (e == 'x' && s[0] && s[1]) {
				char hex[3] = {s[0], s[1], 0}, *end;

				c = (char)strtoul(hex, &end, 16);
				if (*end)
					return -1;
				s += 2;
			} else
				return -1;
		}
		if (n == cap)
			return -2;
		out[n++] = c;
	}
	if (*s != '"' || s[1])
		return -1;
	return (int)n;
}

/* The integer key literal of an integer key type of that size and signedness. */
static int parse_int(const char *s, const struct gotype *k, uint64_t *out)
{
	char *end;
	unsigned bits = (unsigned)k->size * 8;

	errno = 0;
	if (k->kind == GK_INT) {
		long long v = strtoll(s, &end, 0);

		if (errno || *end || end == s)
			return -1;
		if (bits < 64 && (v < -(1LL << (bits - 1)) || v >= (1LL << (bits - 1))))
			return -1;
		*out = (uint64_t)v;
	} else {
		unsigned long long v;

		if (*s == '-')
			return -1;
		v = strtoull(s, &end, 0);
		if (errno || *end || end == s)
			return -1;
		if (bits < 64 && v >> bits)
			return -1;
		*out = v;
	}
	return 0;
}

int plan__map_desc(const struct gotype *map, bool swiss, const char *key,
		   uint8_t buf[PLAN_MAPDESC_MAX])
{
	const struct gotype *k = map->key, *v = map->elem;
	struct lp_mapdesc d;
	uint64_t ks, es, ea, eoff, slot;
	char bytes[LP_MAPKEY_MAX];
	int len = 0;

	memset(&d, 0, sizeof(d));
	memset(buf, 0, PLAN_MAPDESC_MAX);
	if (!k || !v) {
		lp_seterr("the map's key and element types are not known");
		return -EINVAL;
	}
	if (k->kind == GK_STRING) {
		len = parse_string(key, bytes, sizeof(bytes));
		if (len == -2) {
			lp_seterr("a map key in a field path has at most %d bytes", LP_MAPKEY_MAX);
			return -EINVAL;
		}
		if (len < 0) {
			lp_seterr("the key of a %s is a string: write it quoted, as "
				  "[\"X-Request-Id\"]",
				  map->name ? map->name : "map");
			return -EINVAL;
		}
		d.str = 1;
		d.klen = (uint16_t)len;
		memcpy(&d.key, bytes, len < 8 ? len : 8);
	} else if ((k->kind == GK_INT || k->kind == GK_UINT || k->kind == GK_UINTPTR) &&
		   (k->size == 1 || k->size == 2 || k->size == 4 || k->size == 8)) {
		uint64_t iv;

		if (parse_int(key, k, &iv)) {
			lp_seterr("the key of a %s is %s: write an integer it holds, as [42]",
				  map->name ? map->name : "map", k->name ? k->name : "an integer");
			return -EINVAL;
		}
		d.key = iv;
		d.ksize = (uint8_t)k->size;
	} else {
		lp_seterr("a field path looks keys up in maps of string or integer keys, not in %s",
			  map->name ? map->name : "this map");
		return -EINVAL;
	}
	ks = k->size;
	es = v->size;
	ea = v->align ? v->align : 1;
	if (es > MAX_INLINE) {
		d.indirect = 1;
		es = ea = 8;
	}
	if (swiss) {
		uint64_t ka = k->align ? k->align : 1;

		eoff = align_up(ks, ea);
		slot = align_up(eoff + (es ? es : 1), ka > ea ? ka : ea);
		if (!es && !eoff)
			slot = 1;
		d.layout = LP_MAP_SWISS;
		d.keys = 8;
		d.kstride = (uint16_t)slot;
		d.elems = (uint16_t)(8 + eoff);
		d.estride = (uint16_t)slot;
		d.bsize = (uint16_t)(8 + 8 * slot);
	} else {
		d.layout = LP_MAP_HMAP;
		d.keys = 8;
		d.kstride = (uint16_t)ks;
		d.elems = (uint16_t)(8 + 8 * ks);
		d.estride = (uint16_t)es;
		d.bsize = (uint16_t)(16 + 8 * (ks + es));
	}
	memcpy(buf, &d, sizeof(d));
	if (len > 8)
		memcpy(buf + sizeof(d), bytes + 8, len - 8);
	return (int)(offsetof(struct lp_mapdesc, key) + (len > 8 ? (size_t)len : 8));
}
