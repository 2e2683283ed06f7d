// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: plan log callsites dis gobin gotype
/*
 * Pruning of aggregation-only plans (plan__prune): ops whose results no
 * aggregation or predicate reads are dropped, everything they depend on is
 * kept, and skip counts follow. And the names callsites.c accepts as plain
 * functions.
 */
#include <string.h>
#include "unit.h"
#include "callsites.h"
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
	RUN(test_dereference_chain_and_skips);
	RUN(test_paired_plan_keeps_what_the_return_reads);
	RUN(test_plain_function_names);
	return unit_summary();
}
