// SPDX-License-Identifier: BSD-2-Clause
/*
 * A bounded array of finished spans waiting for their parent. Adoption is by
 * goroutine and time containment; a tree is handed out when its top settles.
 * The array is small (a batch), so scans are linear.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_nest.h"

int otlp_nest__init(struct otlp_nest *n, size_t cap, uint64_t hold_ns)
{
	memset(n, 0, sizeof(*n));
	n->slots = calloc(cap, sizeof(*n->slots));
	if (!n->slots)
		return -ENOMEM;
	n->cap = cap;
	n->hold_ns = hold_ns;
	return 0;
}

void otlp_nest__free(struct otlp_nest *n)
{
	free(n->slots);
	memset(n, 0, sizeof(*n));
}

int otlp_nest__add(struct otlp_nest *n, const struct otlp_span *span, uint64_t goid, void *data)
{
	size_t i, me = n->cap;

	for (i = 0; i < n->cap; i++)
		if (!n->slots[i].used) {
			me = i;
			break;
		}
	if (me == n->cap)
		return -ENOSPC;
	for (i = 0; i < n->cap; i++) {
		struct otlp_pending *p = &n->slots[i];

		if (p->used && p->parent < 0 && p->goid == goid &&
		    p->span.start_ns >= span->start_ns && p->span.end_ns <= span->end_ns)
			p->parent = (int)me;
	}
	n->slots[me] = (struct otlp_pending){
		.span = *span, .goid = goid, .parent = -1, .used = 1, .data = data,
	};
	n->count++;
	return 0;
}

static size_t top_of(const struct otlp_nest *n, size_t i)
{
	while (n->slots[i].parent >= 0)
		i = (size_t)n->slots[i].parent;
	return i;
}

/* Hand out the tree whose top is t (in slot order), then free its slots. */
static size_t emit_tree(struct otlp_nest *n, size_t t, otlp_nest_emit_fn emit, void *ctx)
{
	size_t i, out = 0;

	for (i = 0; i < n->cap; i++) {
		struct otlp_pending *p = &n->slots[i];

		if (!p->used || top_of(n, i) != t)
			continue;
		memcpy(p->span.trace_id, n->slots[t].span.trace_id, sizeof(p->span.trace_id));
		if (p->parent >= 0)
			memcpy(p->span.parent_span_id, n->slots[p->parent].span.span_id,
			       sizeof(p->span.parent_span_id));
	}
	for (i = 0; i < n->cap; i++)
		if (n->slots[i].used && top_of(n, i) == t) {
			emit(&n->slots[i].span, n->slots[i].data, ctx);
			out++;
		}
	for (i = 0; i < n->cap; i++)
		if (n->slots[i].used && i != t && top_of(n, i) == t)
			n->slots[i].used = 0;
	n->slots[t].used = 0;
	n->count -= out;
	return out;
}

size_t otlp_nest__drain(struct otlp_nest *n, uint64_t now, int force, otlp_nest_emit_fn emit,
			void *ctx)
{
	size_t out = 0;

	for (size_t t = 0; t < n->cap; t++) {
		const struct otlp_pending *p = &n->slots[t];

		if (p->used && p->parent < 0 && (force || p->span.end_ns + n->hold_ns <= now))
			out += emit_tree(n, t, emit, ctx);
	}
	return out;
}
