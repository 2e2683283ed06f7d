// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: plan plan_prune plan_map
/*
 * Pruning of aggregation-only plans (plan__prune): ops whose results no
 * aggregation or predicate reads are dropped, everything they depend on is
 * kept, and skip counts follow. Default captures that do not fit the plan
 * (plan__fit). Field paths through type assertions and map lookups. And the names
 * callsites.c accepts as plain functions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "callsites.h"
#include "gotype.h"
#include "log.h"
#include "plan.h"

static struct lp_op op(uint8_t code, uint8_t dst, uint8_t src, uint8_t slot, int32_t imm,
		       uint16_t out, uint16_t size)
{
	struct lp_op o = {.code = code,
			  .dst = dst,
			  .src = src,
			  .slot = slot,
			  .imm = imm,
			  .out = out,
			  .size = size};
	return o;
}

/* work(a int64, s string): a stored at 0, s as REGSTR (lp_var at 8, image at 16) */
static void two_args(struct lp_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->ops[0] = op(LP_OP_REGSTORE, 0, LP_REG_AX, 0, 0, 0, 8);
	p->ops[1] = op(LP_OP_REGSTR, LP_REG_CX, LP_REG_BX, 1, 16, 8, 64);
	p->nentry = 2;
	p->flags = LP_PF_NOEVENT;
}

static void test_count_keeps_nothing(void)
{
	struct lp_plan p;

	two_args(&p);
	p.naggs = 1;
	p.aggs[0].kind = LP_AGG_COUNT;
	p.aggs[0].key_src = LP_AS_NONE;
	p.aggs[0].val_src = LP_AS_NONE;
	p.aggs[0].key_slot = p.aggs[0].val_slot = 63;
	plan__prune(&p);
	CHECK(p.nentry == 0, "a count reads no argument: %u ops left", p.nentry);
}

/* slot 0 is the first value's: a count, or a key by pid or stack, reads no slot */
static void test_count_by_process_or_stack_keeps_nothing(void)
{
	static const uint8_t keys[] = {LP_AS_NONE, LP_AS_PLAN, LP_AS_REG, LP_AS_COMM, LP_AS_STACK};
	struct lp_plan p;
	size_t i;

	for (i = 0; i < sizeof(keys); i++) {
		two_args(&p);
		p.naggs = 1;
		p.aggs[0].kind = LP_AGG_COUNT;
		p.aggs[0].key_src = keys[i];
		p.aggs[0].key_off = LP_REG_PID;
		plan__prune(&p);
		CHECK(p.nentry == 0, "count by key source %u: %u ops left", keys[i], p.nentry);
	}
}

static void test_keyed_by_int_keeps_its_store(void)
{
	struct lp_plan p;

	two_args(&p);
	p.naggs = 1;
	p.aggs[0].kind = LP_AGG_COUNT;
	p.aggs[0].key_src = LP_AS_INT;
	p.aggs[0].key_off = 0;
	p.aggs[0].key_size = 8;
	p.aggs[0].key_slot = 0;
	p.aggs[0].val_slot = 63;
	plan__prune(&p);
	CHECK(p.nentry == 1 && p.ops[0].code == LP_OP_REGSTORE, "only a's store: %u ops", p.nentry);
}

static void test_keyed_by_string_keeps_the_copy(void)
{
	struct lp_plan p;

	two_args(&p);
	p.naggs = 1;
	p.aggs[0].key_src = LP_AS_STR;
	p.aggs[0].key_off = 8;
	p.aggs[0].key_slot = 1;
	p.aggs[0].val_slot = 63;
	plan__prune(&p);
	CHECK(p.nentry == 1 && p.ops[0].code == LP_OP_REGSTR, "only s's copy: %u ops", p.nentry);
}

static void test_predicate_and_its_inputs_are_kept(void)
{
	struct lp_plan p;

	/* where s == "x": STRLEN + CMP + FILTER, plus a's store nobody reads */
	two_args(&p);
	p.ops[2] = op(LP_OP_STRLEN, 3, 0, 1, 0, 8, 0);
	p.ops[3] = op(LP_OP_CMP, 3, 3, 0, 1, 0, LP_CMP_EQ);
	p.ops[4] = op(LP_OP_FILTER, 0, 3, 0, 0, 0, 0);
	p.nentry = 5;
	plan__prune(&p);
	CHECK(p.nentry == 4, "REGSTR, STRLEN, CMP, FILTER: %u ops", p.nentry);
	CHECK(p.ops[0].code == LP_OP_REGSTR && p.ops[3].code == LP_OP_FILTER, "order kept");
}

static void test_dereference_chain_and_skips(void)
{
	struct lp_plan p;

	/* t1 = arg pointer; if nil skip 2; t2 = *(t1+8); store t2 at 24 (the key) */
	memset(&p, 0, sizeof(p));
	p.flags = LP_PF_NOEVENT;
	p.ops[0] = op(LP_OP_REG, 1, LP_REG_AX, 2, 0, 0, 0);
	p.ops[1] = op(LP_OP_REGSTORE, 0, LP_REG_BX, 0, 0, 0, 8); /* unread */
	p.ops[2] = op(LP_OP_SKIPZ, 0, 1, 2, 3, 0, 0);
	p.ops[3] = op(LP_OP_LOAD, 2, 1, 2, 8, 0, 8);
	p.ops[4] = op(LP_OP_STORE, 0, 0, 3, 0, 40, 8); /* unread, inside the skip */
	p.ops[5] = op(LP_OP_STORE, 0, 2, 2, 0, 24, 8);
	p.nentry = 6;
	p.naggs = 1;
	p.aggs[0].key_src = LP_AS_INT;
	p.aggs[0].key_off = 24;
	p.aggs[0].key_size = 8;
	p.aggs[0].key_slot = 2;
	p.aggs[0].val_slot = 63;
	plan__prune(&p);
	CHECK(p.nentry == 4, "REG, SKIPZ, LOAD, STORE: %u ops", p.nentry);
	CHECK(p.ops[1].code == LP_OP_SKIPZ && p.ops[1].imm == 2,
	      "the skip covers the two ops kept after it (imm %d)", p.ops[1].imm);
}

static void test_paired_plan_keeps_what_the_return_reads(void)
{
	struct lp_plan p;

	/* latency histogram keyed by a: a's entry store feeds the return side's agg */
	two_args(&p);
	p.flags |= LP_PF_PAIR;
	p.ops[2] = op(LP_OP_REGSTORE, 0, LP_REG_AX, 5, 0, 200, 8); /* a result, unread */
	p.nret = 1;
	p.naggs = 1;
	p.aggs[0].kind = LP_AGG_HIST;
	p.aggs[0].key_src = LP_AS_INT;
	p.aggs[0].key_off = 0;
	p.aggs[0].key_size = 8;
	p.aggs[0].val_src = LP_AS_LATENCY;
	p.aggs[0].key_slot = 0;
	p.aggs[0].val_slot = 63;
	plan__prune(&p);
	CHECK(p.nentry == 1 && p.ops[0].code == LP_OP_REGSTORE && p.ops[0].out == 0,
	      "a's store at entry: %u ops", p.nentry);
	CHECK(p.nret == 0, "no return op is read: %u", p.nret);
}

static void test_fault_op_is_kept_when_its_slot_is_read(void)
{
	struct lp_plan p;

	/*
	 * b[:n] keyed: the return side compares n (t0) with cap (t1) and marks
	 * slot 3 faulted when it is above; the aggregation skips a faulted key,
	 * so the FAULT op and the compare feeding it stay.
	 */
	two_args(&p);
	p.flags |= LP_PF_PAIR;
	p.ops[2] = op(LP_OP_REG, 0, LP_REG_AX, 3, 0, 0, 0);
	p.ops[3] = op(LP_OP_DATA, 1, 0, 3, 0, 16, 8);
	p.ops[4] = op(LP_OP_CMPT, 0, 1, 3, 0, 0, LP_CMP_GTU);
	p.ops[5] = op(LP_OP_FAULT, 0, 0, 3, 0, 0, 0);
	p.ops[6] = op(LP_OP_REGSTORE, 0, LP_REG_BX, 3, 0, 300, 8);
	p.nret = 5;
	p.naggs = 1;
	p.aggs[0].kind = LP_AGG_COUNT;
	p.aggs[0].key_src = LP_AS_INT;
	p.aggs[0].key_off = 300;
	p.aggs[0].key_size = 8;
	p.aggs[0].key_slot = 3;
	p.aggs[0].val_slot = 63;
	plan__prune(&p);
	CHECK(p.nret == 5 && p.ops[p.nentry + 3].code == LP_OP_FAULT,
	      "the fault op and what it reads are kept: %u return ops", p.nret);
	CHECK(p.nentry == 1 && p.ops[0].code == LP_OP_REGSTR,
	      "at entry, the string whose image (at 16) the DATA op reads: %u ops", p.nentry);
}

/* The *T of x.(*T): a named struct main.T { A int64; F int64 } */
static const struct gotype *assert_type(void *ctx, const char *text)
{
	struct gotypes *ts = ctx;
	struct gotype *t;
	struct gofield *f;

	if (strcmp(text, "*main.T") != 0)
		return NULL;
	t = gotypes__new_type(ts, GK_STRUCT, "main.T", 16, 8);
	f = gotypes__alloc(ts, 2 * sizeof(*f));
	f[0] = (struct gofield){.name = "A", .type = gotypes__builtin(ts, "int64"), .offset = 0};
	f[1] = (struct gofield){.name = "F", .type = gotypes__builtin(ts, "int64"), .offset = 8};
	t->fields = f;
	t->nfields = 2;
	return gotypes__ptr_to(ts, t);
}

static void test_type_assertion_in_a_field_path(void)
{
	struct gotypes *ts = gotypes__new();
	struct plan_opts opts = {.depth = 1, .parse_type = assert_type, .parse_ctx = ts};
	struct goassign loc = {.in_regs = false, .stack_off = 8};
	const struct gotype *t = NULL;
	const char *specs[] = {"*struct{ x any }", "*struct{ x error }"};
	char err[128];
	int k;

	for (k = 0; k < 2; k++) {
		struct plan_builder *pb = plan__new(&opts);
		const struct plan_value *v;
		struct plan_param pp;
		struct lp_plan *bp;
		unsigned i, loads = 0, stores_of_guard = 0;
		size_t n;
		bool res;

		CHECK(gotypes__parse(ts, specs[k], NULL, NULL, &t, err, sizeof(err)) == 0, "%s",
		      err);
		pp = (struct plan_param){"p", t, false, &loc, false};
		CHECK(plan__add(pb, &pp, "x.(*main.T).F", "p.x.(*main.T).F") == 0, "%s: added: %s",
		      specs[k], lp_lasterr());
		v = plan__values(pb, &n);
		CHECK(n == 1 && v[0].root.nguard == 1 && v[0].root.guard_type[0] &&
			      strcmp(v[0].root.guard_type[0]->elem->name, "main.T") == 0,
		      "%s: one guard, *main.T", specs[k]);
		bp = plan__bpf(pb);
		for (i = 0; i < bp->nentry; i++) {
			loads += bp->ops[i].code == LP_OP_LOAD;
			stores_of_guard += bp->ops[i].code == LP_OP_STORE &&
					   bp->ops[i].out == v[0].root.guard[0];
		}
		/* p, the type word (and the itab's type), the data word; then F's READ */
		CHECK(loads == (k == 0 ? 3u : 4u) && stores_of_guard == 1,
		      "%s: %u loads, %u stores of the dynamic type", specs[k], loads,
		      stores_of_guard);
		CHECK(plan__resolve(pb, "p.x.(*main.T).F", &res) == NULL,
		      "%s: no predicate or aggregation reads it", specs[k]);
		plan__free(pb);
	}
	{
		struct plan_builder *pb = plan__new(&opts);
		struct plan_param pp;

		CHECK(gotypes__parse(ts, "*struct{ x int64 }", NULL, NULL, &t, err, sizeof(err)) == 0,
		      "%s", err);
		pp = (struct plan_param){"p", t, false, &loc, false};
		CHECK(plan__add(pb, &pp, "x.(*main.T).F", NULL) == -EINVAL &&
			      strstr(lp_lasterr(), "is not an interface"),
		      "an int64 asserted: %s", lp_lasterr());
		CHECK(plan__add(pb, &pp, "x.(*main.T", NULL) == -EINVAL &&
			      strstr(lp_lasterr(), "is written .(*T)"),
		      "unclosed: %s", lp_lasterr());
		plan__free(pb);
	}
	gotypes__free(ts);
}

/* Where keys and elements sit in buckets (hmap) and groups (swiss), as the Go compiler lays them out. */
static void test_map_layouts(void)
{
	static const struct {
		const char *spec, *key;
		bool swiss;
		unsigned keys, kstride, elems, estride, bsize, indirect;
	} c[] = {
		{"map[string][]string", "\"X-Request-Id\"", false, 8, 16, 136, 24, 336, 0},
		{"map[string][]string", "\"X-Request-Id\"", true, 8, 40, 24, 40, 328, 0},
		{"map[int64]int32", "-5", false, 8, 8, 72, 4, 112, 0},
		{"map[int64]int32", "-5", true, 8, 16, 16, 16, 136, 0},
		{"map[uint8]string", "255", false, 8, 1, 16, 16, 152, 0},
		{"map[uint8]string", "255", true, 8, 24, 16, 24, 200, 0},
		{"map[string][20]int64", "\"a\"", false, 8, 16, 136, 8, 208, 1},
		{"map[string][20]int64", "\"a\"", true, 8, 24, 24, 24, 200, 1},
		{"map[string]struct{}", "\"a\"", true, 8, 24, 24, 24, 200, 0},
		{"map[int32]bool", "7", true, 8, 8, 12, 8, 72, 0},
	};
	struct gotypes *ts = gotypes__new();
	uint8_t buf[PLAN_MAPDESC_MAX];
	struct lp_mapdesc d;
	const struct gotype *t;
	char err[128];
	size_t i;
	int n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		CHECK(gotypes__parse(ts, c[i].spec, NULL, NULL, &t, err, sizeof(err)) == 0, "%s",
		      err);
		n = plan__map_desc(t, c[i].swiss, c[i].key, buf);
		memcpy(&d, buf, sizeof(d));
		CHECK(n >= 24 && d.layout == (c[i].swiss ? LP_MAP_SWISS : LP_MAP_HMAP) &&
			      d.keys == c[i].keys && d.kstride == c[i].kstride &&
			      d.elems == c[i].elems && d.estride == c[i].estride &&
			      d.bsize == c[i].bsize && d.indirect == c[i].indirect,
		      "%s %s: keys %u+%u elems %u+%u bucket %u indirect %u", c[i].spec,
		      c[i].swiss ? "swiss" : "hmap", d.keys, d.kstride, d.elems, d.estride,
		      d.bsize, d.indirect);
	}
	/* keys: a string's bytes past the first 8 follow the description */
	CHECK(gotypes__parse(ts, "map[string]int", NULL, NULL, &t, err, sizeof(err)) == 0, "%s",
	      err);
	n = plan__map_desc(t, true, "\"Traceparent\"", buf);
	memcpy(&d, buf, sizeof(d));
	CHECK(n == 16 + 11 && d.str && d.klen == 11 && memcmp(&d.key, "Tracepar", 8) == 0 &&
		      memcmp(buf + 24, "ent", 3) == 0,
	      "string key: %d bytes", n);
	n = plan__map_desc(t, true, "\"a\\\"b\\x41\"", buf);
	memcpy(&d, buf, sizeof(d));
	CHECK(n == 24 && d.klen == 4 && memcmp(&d.key, "a\"bA", 4) == 0, "escapes: %d", n);
	CHECK(plan__map_desc(t, true, "42", buf) == -EINVAL && strstr(lp_lasterr(), "quoted"),
	      "an integer for a string key: %s", lp_lasterr());
	CHECK(gotypes__parse(ts, "map[int8]int", NULL, NULL, &t, err, sizeof(err)) == 0, "%s", err);
	n = plan__map_desc(t, false, "-128", buf);
	memcpy(&d, buf, sizeof(d));
	CHECK(n == 24 && !d.str && d.ksize == 1 && (uint8_t)d.key == 0x80, "int8 -128");
	CHECK(plan__map_desc(t, false, "128", buf) == -EINVAL, "int8 128 is refused");
	CHECK(gotypes__parse(ts, "map[float64]int", NULL, NULL, &t, err, sizeof(err)) == 0, "%s",
	      err);
	CHECK(plan__map_desc(t, false, "1", buf) == -EINVAL &&
		      strstr(lp_lasterr(), "maps of string or integer keys"),
	      "float keys: %s", lp_lasterr());
	gotypes__free(ts);
}

/* r.H["k"]: the map pointer loaded, looked up, the element's ops skipped when absent. */
static void test_map_lookup_in_a_field_path(void)
{
	struct gotypes *ts = gotypes__new();
	struct goruntime rt = {.swiss_maps = true};
	struct plan_opts opts = {.depth = 1, .strcap = 64, .elems = 8, .rt = &rt};
	struct goassign loc = {.in_regs = false, .stack_off = 8};
	struct plan_builder *pb = plan__new(&opts);
	const struct plan_value *v;
	const struct gotype *t;
	struct plan_param pp;
	struct lp_plan *bp;
	unsigned i, at = 0, mapgets = 0;
	char err[128];
	size_t n;
	bool res;

	CHECK(gotypes__parse(ts, "*struct{ A int; H map[string]string }", NULL, NULL, &t, err,
			     sizeof(err)) == 0,
	      "%s", err);
	pp = (struct plan_param){"r", t, false, &loc, false};
	CHECK(plan__add(pb, &pp, "H[\"k\"]", "r.H[\"k\"]") == 0, "added: %s", lp_lasterr());
	v = plan__values(pb, &n);
	CHECK(n == 1 && v[0].root.lookup && v[0].root.kind == DN_STRING, "a string, looked up");
	bp = plan__bpf(pb);
	for (i = 0; i < bp->nentry; i++)
		if (bp->ops[i].code == LP_OP_MAPGET) {
			mapgets++;
			at = i;
		}
	CHECK(mapgets == 1 && bp->ops[at].out == v[0].root.lookup_at &&
		      bp->ops[at].dst == bp->ops[at].src && bp->ops[at + 1].code == LP_OP_SKIPZ &&
		      bp->ops[at + 1].src == bp->ops[at].dst &&
		      at + 2 + bp->ops[at + 1].imm == bp->nentry,
	      "one lookup, then a skip over the rest when absent");
	CHECK(plan__resolve(pb, "r.H[\"k\"]", &res) == NULL, "no predicate reads it");
	CHECK(plan__add(pb, &pp, "A[\"k\"]", NULL) == -EINVAL && strstr(lp_lasterr(), "not a map"),
	      "an int looked up: %s", lp_lasterr());
	for (i = 0; i < LP_MAX_LOOKUPS - 1; i++)
		CHECK(plan__add(pb, &pp, "H[\"k\"]", NULL) == 0, "lookup %u: %s", i + 2,
		      lp_lasterr());
	CHECK(plan__add(pb, &pp, "H[\"k\"]", NULL) == -E2BIG &&
		      strstr(lp_lasterr(), "at most 8 map lookups"),
	      "a ninth: %s", lp_lasterr());
	plan__free(pb);
	pb = plan__new(&opts);
	CHECK(plan__add(pb, &pp, "H[\"k\"][\"j\"]", NULL) == -EINVAL &&
		      strstr(lp_lasterr(), "string is not a map"),
	      "a string looked up: %s", lp_lasterr());
	plan__free(pb);
	gotypes__free(ts);
}

/* n parameters of one type, each on the stack (at entry SP + 8 + 24 i). */
static struct plan_builder *stack_params(struct gotypes *ts, const char *spec, size_t n,
					 struct goassign *loc, bool best_effort)
{
	struct plan_opts opts = {.depth = 1}; /* as probe{} sets it */
	struct plan_builder *pb = plan__new(&opts);
	const struct gotype *t = NULL;
	char err[128];
	size_t i;

	if (gotypes__parse(ts, spec, NULL, NULL, &t, err, sizeof(err)))
		return pb;
	for (i = 0; i < n; i++) {
		char name[16];
		struct plan_param pp = {name, t, false, &loc[i], best_effort};

		snprintf(name, sizeof(name), "p%zu", i);
		loc[i] = (struct goassign){.in_regs = false, .stack_off = 8 + 24 * (int32_t)i};
		CHECK(plan__add(pb, &pp, NULL, NULL) == 0, "add %s", name);
	}
	return pb;
}

static void test_fit_captures_every_image_first_then_what_fits(void)
{
	struct gotypes *ts = gotypes__new();
	struct goassign loc[24];
	struct plan_builder *pb = stack_params(ts, "string", 24, loc, true);
	const struct plan_value *v;
	size_t n, i, followed = 0;
	struct lp_plan *bp;

	CHECK(plan__fit(pb) == 0 && plan__fitted(pb), "fitted");
	v = plan__values(pb, &n);
	CHECK(n == 24, "%zu values", n);
	for (i = 0; i < n; i++) {
		CHECK(v[i].root.avail == DA_OK, "p%zu's image captured", i);
		/* in the order they come: the first ones whole, then images only */
		CHECK(v[i].root.shallow == (i >= followed) || (!v[i].root.shallow && i == followed),
		      "p%zu out of order", i);
		followed += !v[i].root.shallow;
	}
	bp = plan__bpf(pb);
	/* per string: SP, its image, then ptr, len and the copy */
	CHECK(followed == (LP_MAX_OPS - PLAN_FIT_RESERVE_OPS - 2 * 24) / 3, "%zu followed",
	      followed);
	CHECK(bp->nentry + bp->nret <= LP_MAX_OPS - PLAN_FIT_RESERVE_OPS, "%u ops leave no room",
	      bp->nentry + bp->nret);
	/* what was left for a predicate: a string captured in full, hidden */
	{
		struct plan_param pp = {"p23", v[23].root.type, false, &loc[23], false};
		bool res;

		CHECK(plan__resolve(pb, "p23", &res) == NULL, "a shallow string is not resolved");
		CHECK(plan__add(pb, &pp, NULL, NULL) == 0, "room for a predicate's operand");
		plan__hide(pb, "p23");
		v = plan__values(pb, &n);
		CHECK(plan__resolve(pb, "p23", &res) == &v[24].root && v[24].hidden &&
			      !v[23].hidden,
		      "the hidden one resolves, the shown one stays shown");
	}
	plan__free(pb);
	gotypes__free(ts);
}

static void test_fit_follows_shallower_and_strings_before_pointees(void)
{
	struct gotypes *ts = gotypes__new();
	struct goassign loc[12];
	struct plan_builder *pb = stack_params(
		ts, "*struct{ A string; B string; C string; D string }", 12, loc, true);
	const struct plan_value *v;
	size_t n, i, pointees = 0, strings = 0;

	CHECK(plan__fit(pb) == 0 && plan__fitted(pb), "fitted");
	v = plan__values(pb, &n);
	for (i = 0; i < n; i++) {
		const struct dnode *r = &v[i].root;
		size_t k;

		CHECK(r->avail == DA_OK, "p%zu's image", i);
		pointees += r->nchild == 1;
		for (k = 0; r->nchild && k < r->child[0].nchild; k++)
			strings += !r->child[0].child[k].shallow;
	}
	/* every pointee (level 0) before any string in them (level 1), and some of those */
	CHECK(pointees == 12 && strings > 0 && strings < 48, "%zu pointees, %zu strings", pointees,
	      strings);
	plan__free(pb);
	gotypes__free(ts);
}

static void test_fit_changes_nothing_that_fits(void)
{
	struct gotypes *ts = gotypes__new();
	struct goassign loc[4];
	struct plan_builder *pb = stack_params(ts, "string", 4, loc, true), *full;
	struct lp_plan a, b;

	CHECK(plan__fit(pb) == 0 && !plan__fitted(pb), "nothing left out");
	full = stack_params(ts, "string", 4, loc, false);
	a = *plan__bpf(pb);
	b = *plan__bpf(full);
	CHECK(a.nentry == b.nentry && !memcmp(a.ops, b.ops, sizeof(a.ops)),
	      "the same ops as a capture that is not best effort (%u, %u)", a.nentry, b.nentry);
	plan__free(pb);
	plan__free(full);
	gotypes__free(ts);
}

static void test_plain_function_names(void)
{
	CHECK(callsites__plain_func("main.leaf"), "main.leaf");
	/* Go escapes the dots of the last path element in symbol names */
	CHECK(callsites__plain_func("gopkg.in/yaml%2ev3.Marshal"), "escaped dotted package");
	CHECK(callsites__plain_func("example.com/pkg/sub.F"), "path with slashes");
	CHECK(!callsites__plain_func("main.T.M"), "value method");
	CHECK(!callsites__plain_func("main.(*T).M"), "pointer method");
	CHECK(!callsites__plain_func("main.F.func1"), "closure");
	CHECK(!callsites__plain_func("main.G[...]"), "generic");
	CHECK(!callsites__plain_func("main"), "no function");
}

int main(void)
{
	RUN(test_count_keeps_nothing);
	RUN(test_keyed_by_int_keeps_its_store);
	RUN(test_keyed_by_string_keeps_the_copy);
	RUN(test_predicate_and_its_inputs_are_kept);
	RUN(test_count_by_process_or_stack_keeps_nothing);
	RUN(test_dereference_chain_and_skips);
	RUN(test_paired_plan_keeps_what_the_return_reads);
	RUN(test_fault_op_is_kept_when_its_slot_is_read);
	RUN(test_type_assertion_in_a_field_path);
	RUN(test_map_layouts);
	RUN(test_map_lookup_in_a_field_path);
	RUN(test_fit_captures_every_image_first_then_what_fits);
	RUN(test_fit_follows_shallower_and_strings_before_pointees);
	RUN(test_fit_changes_nothing_that_fits);
	RUN(test_plain_function_names);
	return unit_summary();
}
