/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LUPROBE_LUALLOC_H
#define LUPROBE_LUALLOC_H
#include <stdbool.h>
#include <stddef.h>

/*
 * The allocator of luprobe's Lua state. Every event makes a few small
 * objects (the event, its argument table, the table's slots) that die young;
 * size-class free lists serve those without the C library's malloc, which
 * cost the consumer a sixth of its time per event. Larger blocks go to
 * malloc. Memory of the small classes is kept for reuse, not returned.
 *
 * It counts the bytes it holds (the small classes' chunks and the large
 * blocks) and, while enforcing, refuses to grow past a limit: Lua then
 * collects garbage, tries again, and raises a memory error. Shrinking is
 * never refused.
 */
struct lualloc;

/* refused is called when an allocation is refused, before Lua sees the failure. */
struct lualloc *lualloc__new(size_t limit, void (*refused)(void *ctx), void *ctx);
void *lualloc__fn(void *ud, void *ptr, size_t osize, size_t nsize); /* a lua_Alloc */
/*
 * Refuse past the limit only while on: where a memory error can unwind
 * safely (a protected call) and cannot skip a free in C code. Returns the
 * previous setting.
 */
bool lualloc__enforce(struct lualloc *a, bool on);
/* Allow extra bytes past the limit from now on (room to report and end the run). */
void lualloc__grant(struct lualloc *a, size_t extra);
size_t lualloc__held(const struct lualloc *a);
void lualloc__free(struct lualloc *a);

#endif
