// SPDX-License-Identifier: BSD-2-Clause
/*
 * b[:n]: an argument's memory read at return, bounded by a result. See
 * bounded.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bounded.h"
#include "log.h"

#define NAME_MAX_ 128

static size_t ident_len(const char *s)
{
	size_t n = 0;

	/* Go identifiers, and the names unnamed results get ("~r0") */
	if (s[0] == '~')
		n++;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '_' ||
	       (n && s[n] >= '0' && s[n] <= '9'))
		n++;
	return n;
}

/* Split "b[:n]" into "b" and "n". */
static bool parse(const char *expr, char *slice, char *bound)
{
	size_t a = ident_len(expr), b;

	if (!a || a >= NAME_MAX_ || strncmp(expr + a, "[:", 2) != 0)
		return false;
	b = ident_len(expr + a + 2);
	if (!b || b >= NAME_MAX_ || strcmp(expr + a + 2 + b, "]") != 0)
		return false;
	memcpy(slice, expr, a);
	slice[a] = '\0';
	memcpy(bound, expr + a + 2, b);
	bound[b] = '\0';
	return true;
}

static bool scalar(const struct gotype *t)
{
	switch (t ? t->kind : GK_INVALID) {
	case GK_BOOL:
	case GK_INT:
	case GK_UINT:
	case GK_UINTPTR:
	case GK_FLOAT:
	case GK_COMPLEX:
	case GK_UNSAFEPTR:
		return t->size > 0;
	default:
		return false;
	}
}

static int emit(struct plan_builder *pb, bool ret, uint8_t code, int dst, int src, unsigned slot,
		int32_t imm, int out, uint32_t size)
{
	struct lp_op op = {.code = code,
			   .dst = dst,
			   .src = src,
			   .slot = slot,
			   .imm = imm,
			   .out = (uint16_t)out,
			   .size = (uint16_t)size};

	return plan__emit(pb, ret, &op);
}

/* The slice's three words, at entry, into the image at img. */
static int slice_words(struct plan_builder *pb, const struct goassign *loc, unsigned slot, int img)
{
	uint32_t i;
	int err = 0;

	if (!loc->in_regs) {
		err = emit(pb, false, LP_OP_REG, 0, LP_REG_SP, slot, 0, 0, 0);
		return err ?: emit(pb, false, LP_OP_READ, 0, 0, slot, loc->stack_off, img, 24);
	}
	for (i = 0; i < loc->npieces && !err; i++)
		err = emit(pb, false, LP_OP_REGSTORE, 0, loc->pieces[i].reg, slot, 0,
			   img + loc->pieces[i].offset, loc->pieces[i].size);
	return err;
}

/* The bound, at the RET, into temporary 0 (sign-extended when its type is signed). */
static int bound_word(struct plan_builder *pb, const struct goparam *n, const struct goassign *loc,
		      unsigned slot)
{
	uint32_t size = n->type->size;
	int err;

	if (loc->in_regs)
		err = emit(pb, true, LP_OP_REG, 0, loc->pieces[0].reg, slot, 0, 0, 0);
	else
		err = emit(pb, true, LP_OP_REG, 1, LP_REG_SP, slot, 0, 0, 0)
			      ?: emit(pb, true, LP_OP_LOAD, 0, 1, slot, loc->stack_off, 0, size);
	if (!err && n->type->kind == GK_INT && size < 8)
		err = emit(pb, true, LP_OP_SEXT, 0, 0, slot, 0, 0, size);
	return err;
}

/*
 * At the RET: t0 = n, t1 = cap(b); n above cap(b) unsigned (so a negative n
 * too) marks the value unreadable; the new image {ptr, n, cap} and the
 * bytes, at most strcap (or elems elements), from ptr.
 */
static int at_return(struct plan_builder *pb, const struct gotype *st, int img, unsigned slot,
		     struct dnode *dn)
{
	const struct plan_opts *o = plan__opts(pb);
	uint32_t esize = st->elem->size;
	uint32_t cap = esize == 1 ? o->strcap : o->elems * esize;
	int out, var, err;

	if (cap > LP_COPY_MAX - 1)
		cap = (LP_COPY_MAX - 1) / esize * esize;
	out = plan__alloc(pb, 24, 8);
	var = out < 0 ? out : plan__alloc(pb, sizeof(struct lp_var), 2);
	if (var < 0)
		return var;
	err = emit(pb, true, LP_OP_DATA, 1, 0, slot, 0, img + 16, 8) ?:
	      emit(pb, true, LP_OP_ADD, 2, 0, slot, 0, 0, 0) ?:
	      emit(pb, true, LP_OP_CMPT, 2, 1, slot, 0, 0, LP_CMP_GTU) ?:
	      emit(pb, true, LP_OP_FAULT, 0, 2, slot, 0, 0, 0) ?:
	      emit(pb, true, LP_OP_DATA, 3, 0, slot, 0, img, 8) ?:
	      emit(pb, true, LP_OP_STORE, 0, 3, slot, 0, out, 8) ?:
	      emit(pb, true, LP_OP_STORE, 0, 0, slot, 0, out + 8, 8) ?:
	      emit(pb, true, LP_OP_STORE, 0, 1, slot, 0, out + 16, 8);
	if (!err && esize > 1)
		err = emit(pb, true, LP_OP_MULI, 0, 0, slot, esize, 0, 0);
	err = err ?: emit(pb, true, LP_OP_STR, 0, 3, slot, 0, var, cap);
	if (err)
		return err;
	plan__var_cap(pb, true, cap);
	*dn = (struct dnode){.kind = DN_SLICE,
			     .type = st,
			     .img = (uint16_t)out,
			     .slot = (uint8_t)slot,
			     .aux_slot = (uint8_t)slot,
			     .var_slot = (uint8_t)slot,
			     .flat = true,
			     .var = (uint16_t)var};
	return 0;
}

static const struct goparam *find(const struct bounded_sig *sig, const char *name, bool result,
				  size_t *idx)
{
	size_t i, first = result ? sig->np : 0, end = result ? sig->np + sig->nr : sig->np;

	for (i = first; i < end; i++) {
		if (strcmp(sig->params[i].name, name) == 0) {
			*idx = i - first;
			return &sig->params[i];
		}
	}
	return NULL;
}

/* Why the slice and the bound cannot be captured, or 0. */
static int check(const struct bounded_sig *sig, const char *expr, const char *sname,
		 const char *bname, const struct goparam *s, const struct goparam *n)
{
	const char *f = sig->func;

	if (!s) {
		lp_seterr("%s: %s: %s has no parameter '%s'", f, expr, f, sname);
		return -EINVAL;
	}
	if (s->type->kind != GK_SLICE || !scalar(s->type->elem)) {
		lp_seterr("%s: %s: %s is not a slice of plain values (bytes, integers, floats)", f,
			  expr, sname);
		return -EINVAL;
	}
	if (!sig->want_ret || sig->separate) {
		lp_seterr("%s: %s is read when the call returns, bounded by the result %s: it "
			  "needs ret (true, or the results declared) and mode \"call\"",
			  f, expr, bname);
		return -EINVAL;
	}
	if (!n) {
		lp_seterr("%s: %s: %s has no result '%s'%s", f, expr, f, bname,
			  sig->nr ? "" : " (no source gives its results: declare them)");
		return -EINVAL;
	}
	if ((n->type->kind != GK_INT && n->type->kind != GK_UINT) || n->type->size > 8) {
		lp_seterr("%s: %s: the result %s is not an integer", f, expr, bname);
		return -EINVAL;
	}
	return 0;
}

int bounded__add(struct plan_builder *pb, const struct bounded_sig *sig, const char *expr)
{
	char sname[NAME_MAX_], bname[NAME_MAX_];
	const struct goparam *s, *n;
	struct plan_value *v;
	struct dnode dn;
	size_t si = 0, ni = 0;
	unsigned slot;
	int img, err;

	if (!parse(expr, sname, bname)) {
		lp_seterr("%s: args: '%s': a capture at return is written as b[:n], a slice "
			  "parameter and an integer result",
			  sig->func, expr);
		return -EINVAL;
	}
	s = find(sig, sname, false, &si);
	n = find(sig, bname, true, &ni);
	err = check(sig, expr, sname, bname, s, n);
	if (err)
		return err;
	slot = plan__slot(pb);
	img = plan__alloc(pb, 24, 8);
	err = img < 0 ? img : slice_words(pb, &sig->ploc[si], slot, img);
	err = err ?: bound_word(pb, n, &sig->rloc[ni], slot);
	err = err ?: at_return(pb, s->type, img, slot, &dn);
	if (!err) {
		v = plan__new_value(pb, expr, false);
		if (!v)
			return -ENOMEM;
		v->root = dn;
		return 0;
	}
	lp_seterr("%s: too much to capture in one probe (at most %d operations and %d bytes); "
		  "capture fewer values or lower strcap/elems",
		  expr, LP_MAX_OPS, LP_DATA_MAX);
	return -E2BIG;
}
