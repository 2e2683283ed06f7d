// SPDX-License-Identifier: BSD-2-Clause
/*
 * Pruning a plan that sends no events (plan__prune, see plan.h): the ops
 * whose results neither an aggregation nor a predicate reads are dropped.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "plan.h"

/* What is live at a point of the op list: temporaries, data bytes, fault bits. */
struct live {
	uint32_t tmps;
	uint64_t faults;
	uint8_t data[LP_DATA_MAX / 8];
};

static void data_set(struct live *l, uint32_t off, uint32_t len, bool on)
{
	uint32_t i;

	for (i = off; i < off + len && i < LP_DATA_MAX; i++) {
		if (on)
			l->data[i / 8] |= 1u << (i % 8);
		else
			l->data[i / 8] &= ~(1u << (i % 8));
	}
}

static bool data_any(const struct live *l, uint32_t off, uint32_t len)
{
	uint32_t i;

	for (i = off; i < off + len && i < LP_DATA_MAX; i++)
		if (l->data[i / 8] & (1u << (i % 8)))
			return true;
	return false;
}

static uint32_t tbit(unsigned t)
{
	return 1u << (t & (LP_NTMP - 1));
}

/* The data an op writes, as [off, off+len) (and a second range for REGSTR's image). */
static int op_writes_data(const struct lp_op *op, uint32_t r[2][2])
{
	switch (op->code) {
	case LP_OP_STORE:
	case LP_OP_REGSTORE:
		r[0][0] = op->out, r[0][1] = op->size;
		return 1;
	case LP_OP_READ:
		r[0][0] = op->out, r[0][1] = op->size < 8 ? 8 : op->size;
		return 1;
	case LP_OP_STR:
		r[0][0] = op->out, r[0][1] = sizeof(struct lp_var);
		return 1;
	case LP_OP_MAPGET:
		r[0][0] = op->out, r[0][1] = 1;
		return 1;
	case LP_OP_REGSTR:
		r[0][0] = op->out, r[0][1] = sizeof(struct lp_var);
		r[1][0] = (uint32_t)op->imm, r[1][1] = 16;
		return 2;
	}
	return 0;
}

static bool op_writes_tmp(const struct lp_op *op)
{
	switch (op->code) {
	case LP_OP_REG:
	case LP_OP_IMM:
	case LP_OP_ADD:
	case LP_OP_LOAD:
	case LP_OP_G:
	case LP_OP_CMP:
	case LP_OP_CMPT:
	case LP_OP_STRLEN:
	case LP_OP_STRCHUNK:
	case LP_OP_AND:
	case LP_OP_OR:
	case LP_OP_NOT:
	case LP_OP_FAULTED:
	case LP_OP_DATA:
	case LP_OP_MULI:
	case LP_OP_SEXT:
	case LP_OP_CONST:
	case LP_OP_MAPGET:
		return true;
	}
	return false;
}

/* Ops that may set their slot's fault bit. */
static bool op_sets_fault(const struct lp_op *op)
{
	return op->code == LP_OP_LOAD || op->code == LP_OP_READ || op->code == LP_OP_STR ||
	       op->code == LP_OP_REGSTR || op->code == LP_OP_FAULT || op->code == LP_OP_MAPGET;
}

/* Add what a needed op reads to the live set (after removing what it overwrites). */
static void op_uses(const struct lp_op *op, struct live *l)
{
	uint32_t r[2][2];
	int i, n = op_writes_data(op, r);

	/* full overwrites end earlier values' lives; fault bits only accumulate */
	if (op_writes_tmp(op) && op->code != LP_OP_CMPT && op->code != LP_OP_AND &&
	    op->code != LP_OP_OR)
		l->tmps &= ~tbit(op->dst);
	for (i = 0; i < n; i++)
		data_set(l, r[i][0], r[i][1], false);
	switch (op->code) {
	case LP_OP_ADD:
	case LP_OP_STORE:
	case LP_OP_CMP:
	case LP_OP_NOT:
	case LP_OP_FILTER:
	case LP_OP_MULI:
	case LP_OP_SKIPZ:
	case LP_OP_SEXT:
	case LP_OP_FAULT:
		l->tmps |= tbit(op->src);
		break;
	case LP_OP_LOAD:
	case LP_OP_READ:
	case LP_OP_MAPGET:
		l->tmps |= tbit(op->src);
		l->faults |= 1ull << (op->slot & 63);
		break;
	case LP_OP_STR:
		l->tmps |= tbit(op->src) | tbit(op->dst);
		l->faults |= 1ull << (op->slot & 63);
		break;
	case LP_OP_CMPT:
	case LP_OP_AND:
	case LP_OP_OR:
		l->tmps |= tbit(op->src) | tbit(op->dst);
		break;
	case LP_OP_STRLEN:
	case LP_OP_STRCHUNK:
		data_set(l, op->out, sizeof(struct lp_var), true);
		break;
	case LP_OP_FAULTED:
		l->faults |= 1ull << (op->slot & 63);
		break;
	case LP_OP_DATA:
		data_set(l, op->out, op->size ? op->size : 8, true);
		break;
	}
}

static bool op_needed(const struct lp_op *op, const struct live *l)
{
	uint32_t r[2][2];
	int i, n;

	if (op->code == LP_OP_FILTER)
		return true;
	if (op_writes_tmp(op) && (l->tmps & tbit(op->dst)))
		return true;
	if (op_sets_fault(op) && (l->faults & (1ull << (op->slot & 63))))
		return true;
	n = op_writes_data(op, r);
	for (i = 0; i < n; i++)
		if (data_any(l, r[i][0], r[i][1]))
			return true;
	return false;
}

/*
 * Backward over ops[0, n): marks keep[] and leaves in l what is live before
 * the first op. A SKIPZ is kept when an op it may skip is kept.
 */
static void prune_side(const struct lp_op *ops, unsigned n, bool *keep, struct live *l)
{
	int i;

	for (i = (int)n - 1; i >= 0; i--) {
		const struct lp_op *op = &ops[i];

		keep[i] = false;
		if (op->code == LP_OP_SKIPZ) {
			unsigned j;

			for (j = i + 1; j <= (unsigned)i + (unsigned)op->imm && j < n; j++)
				keep[i] |= keep[j];
		} else {
			keep[i] = op_needed(op, l);
		}
		if (keep[i])
			op_uses(op, l);
	}
}

/* Copy the kept ops, fixing the skip counts of the SKIPZ ops kept. */
static unsigned compact(const struct lp_op *ops, unsigned n, const bool *keep, struct lp_op *out)
{
	unsigned i, j, k = 0;

	for (i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		out[k] = ops[i];
		if (ops[i].code == LP_OP_SKIPZ) {
			int32_t skip = 0;

			for (j = i + 1; j <= i + (unsigned)ops[i].imm && j < n; j++)
				skip += keep[j];
			out[k].imm = skip;
		}
		k++;
	}
	return k;
}

static void agg_reads(const struct lp_plan *p, struct live *l)
{
	unsigned i;

	for (i = 0; i < p->naggs && i < LP_MAX_AGGS; i++) {
		const struct lp_agg_spec *a = &p->aggs[i];

		/* fault slots only of what is read from the record (as lp_agg checks them) */
		if (a->key_src == LP_AS_INT || a->key_src == LP_AS_STR)
			l->faults |= 1ull << (a->key_slot & 63);
		if (a->val_src == LP_AS_INT)
			l->faults |= 1ull << (a->val_slot & 63);
		if (a->key_src == LP_AS_INT)
			data_set(l, a->key_off, a->key_size, true);
		else if (a->key_src == LP_AS_STR)
			data_set(l, a->key_off, sizeof(struct lp_var), true);
		if (a->val_src == LP_AS_INT)
			data_set(l, a->val_off, a->val_size, true);
	}
}

void plan__prune(struct lp_plan *p)
{
	struct lp_op ops[LP_MAX_OPS];
	bool keep[LP_MAX_OPS];
	struct live l;
	unsigned ne = p->nentry, nr = p->nret, ke, kr;

	if (ne + nr > LP_MAX_OPS)
		return;
	/* what the aggregations read, where they run: at return when calls pair */
	memset(&l, 0, sizeof(l));
	if (p->flags & LP_PF_PAIR) {
		agg_reads(p, &l);
		prune_side(p->ops + ne, nr, keep + ne, &l);
		/* the return side starts from the entry's record */
	} else {
		memset(keep + ne, 1, nr);
		agg_reads(p, &l);
	}
	prune_side(p->ops, ne, keep, &l);
	ke = compact(p->ops, ne, keep, ops);
	kr = compact(p->ops + ne, nr, keep + ne, ops + ke);
	memcpy(p->ops, ops, (ke + kr) * sizeof(ops[0]));
	memset(p->ops + ke + kr, 0, (ne + nr - ke - kr) * sizeof(ops[0]));
	p->nentry = ke;
	p->nret = kr;
}
