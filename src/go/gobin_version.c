// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Go version and build settings of a binary: the build info blob
 * and, when it is missing, the runtime's version string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
#include "gobin_internal.h"
#include "log.h"

/*
 * Parse "go1.N[.M]" (optionally "go1.N[.M]rcK" or "betaK") at s; returns the
 * length of the well-formed version, 0 if s does not start with one.
 */
static size_t parse_version(const char *s, size_t len, int *minor, int *patch)
{
	size_t i = 4, start;
	long v;

	if (len < 5 || memcmp(s, "go1.", 4) != 0 || s[4] < '0' || s[4] > '9')
		return 0;
	for (v = 0; i < len && s[i] >= '0' && s[i] <= '9' && i < 8; i++)
		v = v * 10 + (s[i] - '0');
	*minor = (int)v;
	*patch = 0;
	if (i + 1 < len && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
		for (v = 0, i++; i < len && s[i] >= '0' && s[i] <= '9' && i < 16; i++)
			v = v * 10 + (s[i] - '0');
		*patch = (int)v;
	}
	start = i;
	if (i + 2 < len && memcmp(s + i, "rc", 2) == 0)
		i += 2;
	else if (i + 4 < len && memcmp(s + i, "beta", 4) == 0)
		i += 4;
	if (i > start && i < len && s[i] >= '0' && s[i] <= '9') {
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		return i;
	}
	return start;
}

static void set_version(struct gobin *gb, const char *s, size_t len)
{
	const char *g = memmem(s, len, "go1.", 4);
	int minor, patch;
	size_t n;

	if (!g)
		return;
	n = parse_version(g, len - (size_t)(g - s), &minor, &patch);
	if (!n || n >= sizeof(gb->info.go_version))
		return;
	memcpy(gb->info.go_version, g, n);
	gb->info.go_version[n] = '\0';
	gb->info.go_major = 1;
	gb->info.go_minor = minor;
	gb->info.go_patch = patch;
}

/* A Go string header {data, len} at vaddr, through relocations. */
static const uint8_t *read_gostring(const struct gobin *gb, uint64_t vaddr, uint64_t *len)
{
	uint64_t data, n;

	if (!gobin_read_ptr(gb, vaddr, &data) || !gobin_read_ptr(gb, vaddr + 8, &n) ||
	    n > (1 << 24))
		return NULL;
	*len = n;
	return gobin__data(gb, data, n);
}

static void parse_modinfo(struct gobin *gb, const uint8_t *s, uint64_t len)
{
	const char *line, *end;

	/* modinfo is framed by two 16-byte sentinels around newline-ended text */
	if (len < 33 || s[len - 17] != '\n')
		return;
	gb->info.build_settings = strndup((const char *)s + 16, len - 32);
	if (!gb->info.build_settings)
		return;
	for (line = gb->info.build_settings; *line; line = end + (*end != '\0')) {
		const char *f;

		end = strchrnul(line, '\n');
		if (!gb->info.mod_path && (size_t)(end - line) > 4 &&
		    memcmp(line, "mod\t", 4) == 0) {
			f = memchr(line + 4, '\t', (size_t)(end - line - 4));
			gb->info.mod_path = strndup(line + 4, (size_t)((f ? f : end) - line - 4));
		}
		if ((size_t)(end - line) == 19 && memcmp(line, "build\tCGO_ENABLED=1", 19) == 0)
			gb->info.cgo = true;
	}
}

static bool parse_buildinfo(struct gobin *gb, uint64_t vaddr)
{
	uint64_t avail, vlen, mlen;
	const uint8_t *h = gobin_data_avail(gb, vaddr, &avail), *v, *mi;

	if (!h || avail < BUILDINFO_HDR || memcmp(h, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0)
		return false;
	if (h[15] & 2) {
		/* Go 1.18+: two varint-prefixed strings inline after the header */
		const uint8_t *p = h + BUILDINFO_HDR, *end = h + avail;
		size_t n = uvarint(p, end, &vlen);

		if (!n || vlen > (uint64_t)(end - p - n))
			return false;
		v = p + n;
		p = v + vlen;
		n = uvarint(p, end, &mlen);
		if (!n || mlen > (uint64_t)(end - p - n))
			return false;
		mi = p + n;
	} else {
		uint64_t pv, pm;

		/* before 1.18: pointers to Go string headers; amd64 is 8-byte little-endian */
		if (h[14] != 8 || h[15] != 0)
			return false;
		if (!gobin_read_ptr(gb, vaddr + 16, &pv) || !gobin_read_ptr(gb, vaddr + 24, &pm))
			return false;
		v = read_gostring(gb, pv, &vlen);
		if (!v)
			return false;
		mi = read_gostring(gb, pm, &mlen);
		if (!mi)
			mlen = 0;
	}
	set_version(gb, (const char *)v, vlen);
	if (!gb->info.go_version[0])
		return false;
	gb->info.version_from_buildinfo = true;
	gb->info.has_buildinfo = true;
	if (mi)
		parse_modinfo(gb, mi, mlen);
	return true;
}

void gobin_find_buildinfo(struct gobin *gb)
{
	const Elf64_Shdr *sh = gobin_find_section(gb, ".go.buildinfo");

	if (sh && parse_buildinfo(gb, sh->sh_addr))
		return;
	/* by its 16-byte-aligned magic in writable data */
	for (size_t i = 0; i < gb->nsegs; i++) {
		const struct seg *s = &gb->segs[i];
		uint64_t a = (s->vaddr + 15) & ~15ULL;

		if (!(s->flags & PF_W) || (s->flags & PF_X))
			continue;
		for (; a - s->vaddr + BUILDINFO_HDR <= s->filesz; a += 16) {
			const uint8_t *p = gb->map + s->off + (a - s->vaddr);

			if (p[0] == 0xff && memcmp(p, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) == 0 &&
			    parse_buildinfo(gb, a))
				return;
		}
	}
}

struct vcand {
	uint64_t addr;
	int len, minor, patch;
	bool whole;
};

#define MAX_VCANDS 512

static int vcand_cmp(const void *a, const void *b)
{
	const struct vcand *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool better_version(const struct vcand *a, const struct vcand *b)
{
	if (a->len != b->len)
		return a->len > b->len;
	if (a->minor != b->minor)
		return a->minor > b->minor;
	return a->patch > b->patch;
}

/*
 * Without buildinfo the version is runtime.buildVersion, a Go string in
 * read-only data. Go strings are not terminated, so "go1.13.8" may run into
 * the next string: a candidate counts as whole when a string header in
 * writable data points at it with its exact length. Failing that, a match
 * bounded by non-version characters on both sides is accepted.
 */
void gobin_find_version_string(struct gobin *gb)
{
	struct vcand c[MAX_VCANDS], best = {0};
	size_t nc = 0;
	bool found = false;

	for (size_t i = 0; i < gb->nsegs && nc < MAX_VCANDS; i++) {
		const struct seg *s = &gb->segs[i];
		const uint8_t *base = gb->map + s->off, *p = base, *end = base + s->filesz;

		if (s->flags & (PF_W | PF_X))
			continue;
		while (nc < MAX_VCANDS && (p = memmem(p, (size_t)(end - p), "go1.", 4)) != NULL) {
			int minor, patch;
			size_t n =
				parse_version((const char *)p, (size_t)(end - p), &minor, &patch);
			bool before =
				p > base && (p[-1] == '.' || p[-1] == '/' || p[-1] == '_' ||
					     (p[-1] >= '0' && p[-1] <= '9') ||
					     ((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z'));
			uint8_t after = p + n < end ? p[n] : 0;

			if (n && !before) {
				c[nc] = (struct vcand){s->vaddr + (uint64_t)(p - base), (int)n,
						       minor, patch, false};
				c[nc].whole = after != '.' && after != '-' && after != '_' &&
					      !(after >= '0' && after <= '9');
				nc++;
			}
			p += 4;
		}
	}
	if (!nc)
		return;
	qsort(c, nc, sizeof(c[0]), vcand_cmp);
	/* a {ptr, len} header in writable data confirms a whole string */
	for (size_t i = 0; i < gb->nsegs; i++) {
		const struct seg *s = &gb->segs[i];

		if (!(s->flags & PF_W))
			continue;
		for (uint64_t o = (8 - (s->vaddr & 7)) & 7; o + 16 <= s->filesz; o += 8) {
			const uint8_t *p = gb->map + s->off + o;
			uint64_t ptr = gobin_ptr_at(gb, s->vaddr + o, p), len = le64(p + 8);

			size_t lo = 0, hi = nc;

			if (len < 5 || len > 16)
				continue;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (c[mid].addr < ptr)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t k = lo; k < nc && c[k].addr == ptr; k++) {
				struct vcand v = c[k];
				int mi, pa;

				if (len > (uint64_t)v.len)
					continue;
				if (len < (uint64_t)v.len) {
					/* a shorter prefix must itself be well formed */
					const uint8_t *q = gobin__data(gb, v.addr, len);

					if (!q ||
					    parse_version((const char *)q, len, &mi, &pa) != len)
						continue;
					v.len = (int)len;
					v.minor = mi;
					v.patch = pa;
				}
				if (!found || better_version(&v, &best))
					best = v;
				found = true;
			}
		}
	}
	if (!found) {
		for (size_t k = 0; k < nc; k++) {
			if (c[k].whole && (!found || better_version(&c[k], &best))) {
				best = c[k];
				found = true;
			}
		}
	}
	if (found) {
		const uint8_t *q = gobin__data(gb, best.addr, (size_t)best.len);

		if (q)
			set_version(gb, (const char *)q, (size_t)best.len);
	}
}
