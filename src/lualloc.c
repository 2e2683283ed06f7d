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
};

struct lualloc *lualloc__new(void)
{
	return calloc(1, sizeof(struct lualloc));
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
		struct chunk *ch = malloc(CHUNK);

		if (!ch)
			return NULL;
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

void *lualloc__fn(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct lualloc *a = ud;
	void *n;

	/* osize is the block's size when ptr is set (else Lua passes a type tag) */
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		if (ptr && osize <= SMALL_MAX)
			small_free(a, ptr, class_of(osize));
		else
			free(ptr);
		return NULL;
	}
	if (ptr && osize > SMALL_MAX && nsize > SMALL_MAX)
		return realloc(ptr, nsize);
	if (ptr && osize <= SMALL_MAX && nsize <= SMALL_MAX && class_of(osize) == class_of(nsize))
		return ptr;
	n = nsize <= SMALL_MAX ? small_alloc(a, class_of(nsize)) : malloc(nsize);
	if (!n)
		return NULL; /* Lua keeps ptr on a failed resize */
	if (ptr) {
		memcpy(n, ptr, osize < nsize ? osize : nsize);
		if (osize <= SMALL_MAX)
			small_free(a, ptr, class_of(osize));
		else
			free(ptr);
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
