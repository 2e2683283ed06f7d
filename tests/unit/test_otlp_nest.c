// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: otlp_nest
/*
 * Parent and child spans from goroutine nesting: children that arrive
 * before their parent are adopted by it (same goroutine, contained in its
 * interval) and handed out with its trace id and their parent's span id; a
 * tree waits until its top settles; other goroutines and disjoint spans stay
 * roots; a full buffer refuses until drained.
 */
#include <errno.h>
#include "unit.h"
#include "otlp_nest.h"

struct got {
	uint8_t id[8], parent[8], trace[16];
} got[8];
static int ngot;

static void collect(const struct otlp_span *s, void *data, void *ctx)
{
	(void)data;
	(void)ctx;
	memcpy(got[ngot].id, s->span_id, 8);
	memcpy(got[ngot].parent, s->parent_span_id, 8);
	memcpy(got[ngot].trace, s->trace_id, 16);
	ngot++;
}

static struct otlp_span mk(uint8_t id, uint64_t start, uint64_t end)
{
	struct otlp_span s = { .span_id = { id }, .trace_id = { id }, .start_ns = start,
			       .end_ns = end, .name = "f" };
	return s;
}

static const struct got *find(uint8_t id)
{
	for (int i = 0; i < ngot; i++)
		if (got[i].id[0] == id)
			return &got[i];
	return NULL;
}

static void test_children_before_parent_are_adopted(void)
{
	struct otlp_nest n;
	struct otlp_span a = mk(1, 110, 120), b = mk(2, 130, 140), c = mk(3, 100, 200);
	struct otlp_span d = mk(4, 105, 150), other = mk(5, 120, 130);
	const struct got *g;

	ngot = 0;
	CHECK(otlp_nest__init(&n, 8, 1000) == 0, "init");
	otlp_nest__add(&n, &a, 7, NULL); /* grandchild */
	otlp_nest__add(&n, &b, 7, NULL); /* grandchild */
	otlp_nest__add(&n, &other, 8, NULL); /* another goroutine */
	otlp_nest__add(&n, &d, 7, NULL); /* child of c, parent of a and b */
	otlp_nest__add(&n, &c, 7, NULL); /* top */
	CHECK(otlp_nest__drain(&n, 1000, 0, collect, NULL) == 0, "nothing settled yet");
	CHECK(otlp_nest__drain(&n, 1200, 0, collect, NULL) == 5, "all settled");
	CHECK(ngot == 5, "ngot %d", ngot);
	g = find(1);
	CHECK(g && g->parent[0] == 4 && g->trace[0] == 3, "a under d in c's trace");
	g = find(2);
	CHECK(g && g->parent[0] == 4 && g->trace[0] == 3, "b under d in c's trace");
	g = find(4);
	CHECK(g && g->parent[0] == 3 && g->trace[0] == 3, "d under c");
	g = find(3);
	CHECK(g && g->parent[0] == 0 && g->trace[0] == 3, "c is a root");
	g = find(5);
	CHECK(g && g->parent[0] == 0 && g->trace[0] == 5, "other goroutine stays a root");
	CHECK(n.count == 0, "empty");
	otlp_nest__free(&n);
}

static void test_full_buffer_refuses_until_forced(void)
{
	struct otlp_nest n;
	struct otlp_span a = mk(1, 10, 20), b = mk(2, 30, 40), c = mk(3, 50, 60);

	ngot = 0;
	CHECK(otlp_nest__init(&n, 2, 1000) == 0, "init");
	CHECK(otlp_nest__add(&n, &a, 1, NULL) == 0, "a");
	CHECK(otlp_nest__add(&n, &b, 1, NULL) == 0, "b, disjoint from a");
	CHECK(otlp_nest__add(&n, &c, 1, NULL) == -ENOSPC, "full");
	CHECK(otlp_nest__drain(&n, 0, 1, collect, NULL) == 2, "forced");
	CHECK(find(1) && find(1)->parent[0] == 0 && find(2) && find(2)->parent[0] == 0,
	      "disjoint spans are roots");
	CHECK(otlp_nest__add(&n, &c, 1, NULL) == 0, "room again");
	otlp_nest__free(&n);
}

int main(void)
{
	RUN(test_children_before_parent_are_adopted);
	RUN(test_full_buffer_refuses_until_forced);
	return unit_summary();
}
