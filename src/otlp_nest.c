// SPDX-License-Identifier: BSD-2-Clause
/*
 * A bounded array of finished spans waiting for their parent. Adoption is by
 * goroutine and time containment, among the tops of the goroutine's hash
 * bucket (a chain through the slots); a tree is handed out when its top
 * settles, in one linear pass that also rebuilds the buckets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "otlp_nest.h"

/* how far out of their end order spans may come (the ring buffer is filled from every CPU) */
#define REORDER_NS 1000000ull

int otlp_nest__init(struct otlp_nest *n, size_t cap, uint64_t hold_ns)
{
	size_t i;

	memset(n, 0, sizeof(*n));
	for (n->nbuckets = 1; n->nbuckets < cap; n->nbuckets <<= 1)
		;
	n->slots = calloc(cap, sizeof(*n->slots));
	n->heads = malloc(n->nbuckets * sizeof(*n->heads));
	if (!n->slots || !n->heads) {
		otlp_nest__free(n);
		return -ENOMEM;
	}
	for (i = 0; i < n->nbuckets; i++)
		n->heads[i] = -1;
	n->cap = cap;
	n->hold_ns = hold_ns;
	return 0;
}

void otlp_nest__free(struct otlp_nest *n)
{
	free(n->slots);
	free(n->heads);
	memset(n, 0, sizeof(*n));
}

static size_t bucket(const struct otlp_nest *n, uint64_t goid)
{
	return (size_t)((goid * 0x9e3779b97f4a7c15ull) >> 32) & (n->nbuckets - 1);
}

int otlp_nest__add(struct otlp_nest *n, const struct otlp_span *span, uint64_t goid, void *data)
{
	size_t i, b, me = n->hi;
	int *link;

	/* the first free slot: slots past hi are free, and those below it are reused first */
	if (n->count < n->hi)
		for (i = 0; i < n->hi; i++)
			if (!n->slots[i].used) {
				me = i;
				break;
			}
	if (me == n->cap)
		return -ENOSPC;
	/* the waiting tops of the goroutine's bucket: those inside span become its children */
	b = bucket(n, goid);
	for (link = &n->heads[b]; *link >= 0;) {
		struct otlp_pending *p = &n->slots[*link];

		/*
		 * A chain is in the order spans came, newest first, which is the
		 * order they ended give or take the ring buffer's reordering
		 * across CPUs: past a top that ended well before span started,
		 * none can be inside it.
		 */
		if (p->span.end_ns + REORDER_NS < span->start_ns)
			break;
		if (p->goid == goid && p->span.start_ns >= span->start_ns &&
		    p->span.end_ns <= span->end_ns) {
			p->parent = (int)me;
			*link = p->next; /* not a top any more */
		} else {
			link = &p->next;
		}
	}
	n->slots[me] = (struct otlp_pending){
		.span = *span, .goid = goid, .parent = -1, .used = 1, .data = data,
		.next = n->heads[b],
	};
	n->heads[b] = (int)me;
	if (me == n->hi)
		n->hi++;
	n->count++;
	return 0;
}

static size_t top_of(const struct otlp_nest *n, size_t i)
{
	while (n->slots[i].parent >= 0)
		i = (size_t)n->slots[i].parent;
	return i;
}

/*
 * One pass over the slots: a span whose top has settled takes the top's
 * trace id and its parent's span id and is handed out; the slots are freed
 * after, so that every child still finds its parent. Linear in the slots
 * (times the depth), whatever the number of trees.
 */
size_t otlp_nest__drain(struct otlp_nest *n, uint64_t now, int force, otlp_nest_emit_fn emit,
			void *ctx)
{
	size_t i, t, b, out = 0;

	for (i = 0; i < n->hi; i++) {
		struct otlp_pending *p = &n->slots[i];

		p->emitted = 0;
		if (!p->used)
			continue;
		t = top_of(n, i);
		if (!force && n->slots[t].span.end_ns + n->hold_ns > now)
			continue;
		memcpy(p->span.trace_id, n->slots[t].span.trace_id, sizeof(p->span.trace_id));
		if (p->parent >= 0)
			memcpy(p->span.parent_span_id, n->slots[p->parent].span.span_id,
			       sizeof(p->span.parent_span_id));
		emit(&p->span, p->data, ctx);
		p->emitted = 1;
		out++;
	}
	if (!out)
		return 0;
	for (i = 0; i < n->hi; i++)
		if (n->slots[i].emitted)
			n->slots[i].used = 0;
	while (n->hi && !n->slots[n->hi - 1].used)
		n->hi--;
	n->count -= out;
	/* the tops handed out leave their chains, which keep their order */
	for (b = 0; b < n->nbuckets; b++) {
		int *link = &n->heads[b];

		while (*link >= 0)
			if (!n->slots[*link].used)
				*link = n->slots[*link].next;
			else
				link = &n->slots[*link].next;
	}
	return out;
}
