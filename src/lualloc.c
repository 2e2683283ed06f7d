// SPDX-License-Identifier: BSD-2-Clause
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lualloc.h"

#define GRAIN	  16
#define SMALL_MAX 512		      /* bytes: larger blocks go to malloc */
#define NCLASS	  (SMALL_MAX / GRAIN) /* class c holds blocks of (c + 1) * GRAIN bytes */
#define CHUNK	  (64 * 1024)

struct chunk {
	struct chunk *next;
	/* blocks follow, 16-byte aligned */
};

struct lualloc {
	void *free[NCLASS];
	struct chunk *chunks;
	uint8_t *cur, *end; /* the unused rest of the newest chunk */
	size_t held;	    /* bytes of chunks and large blocks */
	size_t limit;	    /* held may not grow past it while enforcing (0: no limit) */
	bool enforce;
	void (*refused)(void *ctx);
	void *ctx;
};

struct lualloc *lualloc__new(size_t limit, void (*refused)(void *ctx), void *ctx)
{
	struct lualloc *a = calloc(1, sizeof(struct lualloc));

	if (!a)
		return NULL;
	a->limit = limit;
	a->refused = refused;
	a->ctx = ctx;
	return a;
}

bool lualloc__enforce(struct lualloc *a, bool on)
{
	bool was = a->enforce;

	a->enforce = on;
	return was;
}

void lualloc__grant(struct lualloc *a, size_t extra)
{
	if (a->limit)
		a->limit += extra;
}

size_t lualloc__held(const struct lualloc *a)
{
	return a->held;
}

/* May held grow by more bytes? */
static bool may_grow(struct lualloc *a, size_t more)
{
	if (!a->enforce || !a->limit || a->held + more <= a->limit)
		return true;
	if (a->refused)
		a->refused(a->ctx);
	/* the callback may have granted room */
	return a->held + more <= a->limit;
}

static size_t class_of(size_t n)
{
	return (n - 1) / GRAIN;
}

static void *small_alloc(struct lualloc *a, size_t c)
{
	size_t size = (c + 1) * GRAIN;
	void *p = a->free[c];

	if (p) {
		memcpy(&a->free[c], p, sizeof(void *));
		return p;
	}
	if ((size_t)(a->end - a->cur) < size) {
		struct chunk *ch = may_grow(a, CHUNK) ? malloc(CHUNK) : NULL;

		if (!ch)
			return NULL;
		a->held += CHUNK;
		ch->next = a->chunks;
		a->chunks = ch;
		a->cur = (uint8_t *)ch + GRAIN; /* the header takes one grain */
		a->end = (uint8_t *)ch + CHUNK;
	}
	p = a->cur;
	a->cur += size;
	return p;
}

static void small_free(struct lualloc *a, void *p, size_t c)
{
	memcpy(p, &a->free[c], sizeof(void *));
	a->free[c] = p;
}

static void *big_alloc(struct lualloc *a, size_t n)
{
	void *p = may_grow(a, n) ? malloc(n) : NULL;

	if (p)
		a->held += n;
	return p;
}

static void big_free(struct lualloc *a, void *p, size_t n)
{
	free(p);
	a->held -= n;
}

void *lualloc__fn(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lualloc *a = ud;
	bool enforce = a->enforce;
	void *n;

	/* osize is the block's size when ptr is set (else Lua passes a type tag) */
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		if (ptr && osize <= SMALL_MAX)
			small_free(a, ptr, class_of(osize));
		else if (ptr)
			big_free(a, ptr, osize);
		return NULL;
	}
	/* a shrink is never refused: Lua does not expect it to fail everywhere */
	if (nsize <= osize)
		a->enforce = false;
	if (ptr && osize > SMALL_MAX && nsize > SMALL_MAX) {
		n = nsize <= osize || may_grow(a, nsize - osize) ? realloc(ptr, nsize) : NULL;
		if (n)
			a->held = a->held - osize + nsize;
		a->enforce = enforce;
		return n;
	}
	if (ptr && osize <= SMALL_MAX && nsize <= SMALL_MAX && class_of(osize) == class_of(nsize)) {
		a->enforce = enforce;
		return ptr;
	}
	n = nsize <= SMALL_MAX ? small_alloc(a, class_of(nsize)) : big_alloc(a, nsize);
	a->enforce = enforce;
	if (!n)
		return NULL; /* Lua keeps ptr on a failed resize */
	if (ptr) {
		memcpy(n, ptr, osize < nsize ? osize : nsize);
		if (osize <= SMALL_MAX)
			small_free(a, ptr, class_of(osize));
		else
			big_free(a, ptr, osize);
	}
	return n;
}

void lualloc__free(struct lualloc *a)
{
	struct chunk *c, *next;

	if (!a)
		return;
	for (c = a->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}
