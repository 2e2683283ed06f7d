/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LUPROBE_LUALLOC_H
#define LUPROBE_LUALLOC_H
#include <stddef.h>

/*
 * The allocator of luprobe's Lua state. Every event makes a few small
 * objects (the event, its argument table, the table's slots) that die young;
 * size-class free lists serve those without the C library's malloc, which
 * cost the consumer a sixth of its time per event. Larger blocks go to
 * malloc. Memory of the small classes is kept for reuse, not returned.
 */
struct lualloc;

struct lualloc *lualloc__new(void);
void *lualloc__fn(void *ud, void *ptr, size_t osize, size_t nsize); /* a lua_Alloc */
void lualloc__free(struct lualloc *a);

#endif
