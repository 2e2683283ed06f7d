/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Parent and child spans from goroutine nesting. Call events arrive at
 * return, children before their parents: a finished span waits here until
 * a span of the same goroutine whose time interval contains it adopts it,
 * or until its tree settles (its top ended hold_ns ago, or the buffer is
 * full and it is the oldest tree). A settled tree is handed out whole, every
 * span with the top's trace id and its parent's span id.
 */
#ifndef LUPROBE_OTLP_NEST_H
#define LUPROBE_OTLP_NEST_H

#include <stddef.h>
#include <stdint.h>
#include "otlp_proto.h"

struct otlp_pending {
	struct otlp_span span; /* trace_id and parent_span_id filled when handed out */
	uint64_t goid;
	int parent; /* index of the adopting span, -1 for a top */
	int used;
	int emitted; /* handed out by the drain running now */
	int next;    /* the next top of its bucket, -1: none */
	void *data; /* the caller's (names, attributes) */
};

struct otlp_nest {
	struct otlp_pending *slots;
	size_t cap, count;
	size_t hi; /* one past the last slot in use */
	int *heads; /* per bucket of goroutine ids: its first waiting top, -1: none */
	size_t nbuckets;
	uint64_t hold_ns;
};

int otlp_nest__init(struct otlp_nest *n, size_t cap, uint64_t hold_ns);
void otlp_nest__free(struct otlp_nest *n);

/*
 * Add a finished span of goroutine goid (span_id, trace_id, times set by the
 * caller): it adopts the waiting tops of goid that it contains. Returns 0,
 * or -ENOSPC when full (drain with force first).
 */
int otlp_nest__add(struct otlp_nest *n, const struct otlp_span *span, uint64_t goid, void *data);

typedef void (*otlp_nest_emit_fn)(const struct otlp_span *span, void *data, void *ctx);

/*
 * Hand out the settled trees: tops that ended at or before now - hold_ns, or
 * every tree when force. Each span is handed out once, then forgotten.
 * Returns the number of spans handed out.
 */
size_t otlp_nest__drain(struct otlp_nest *n, uint64_t now, int force, otlp_nest_emit_fn emit,
			void *ctx);

#endif
