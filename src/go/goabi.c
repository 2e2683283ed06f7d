// SPDX-License-Identifier: BSD-2-Clause
/*
 * The amd64 Go calling conventions, after src/cmd/compile/abi-internal.md and
 * checked against the Go 1.19 compiler by tests/unit/test_goabi.c.
 *
 * Both ABIs share one walk: ABI0 is ABIInternal with no registers, which is
 * how the Go document defines it, so GOABI_STACK simply never tries registers.
 */
#include <errno.h>
#include <string.h>
#include "goabi.h"
#include "log.h"

#define PTR_SIZE 8
/* A Go value cannot contain itself; deeper nesting means a corrupt type graph. */
#define MAX_DEPTH 64
/* Far beyond any real frame; keeps every offset representable in int32_t. */
#define MAX_FRAME (1u << 30)

struct regs {
	unsigned nint;
	unsigned nfloat;
};

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static const char *type_name(const struct gotype *t)
{
	return t->name ? t->name : "(unnamed)";
}

/* Whether t's size is one amd64 allows for its kind (composites may have any size). */
static bool size_fits_kind(const struct gotype *t)
{
	switch (t->kind) {
	case GK_BOOL:
		return t->size == 1;
	case GK_INT:
	case GK_UINT:
		return t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8;
	case GK_UINTPTR:
	case GK_PTR:
	case GK_UNSAFEPTR:
	case GK_MAP:
	case GK_CHAN:
	case GK_FUNC:
		return t->size == PTR_SIZE;
	case GK_FLOAT:
		return t->size == 4 || t->size == 8;
	case GK_COMPLEX:
		return t->size == 8 || t->size == 16;
	case GK_STRING:
	case GK_IFACE:
	case GK_EFACE:
		return t->size == 2 * PTR_SIZE;
	case GK_SLICE:
		return t->size == 3 * PTR_SIZE;
	case GK_STRUCT:
	case GK_ARRAY:
		return true;
	case GK_INVALID:
		break;
	}
	return false;
}

static int check_type(const struct gotype *t)
{
	if (!t) {
		lp_seterr("a parameter or result has no type");
		return -EINVAL;
	}
	if (!size_fits_kind(t)) {
		lp_seterr("type %s has size %llu, impossible for its kind", type_name(t),
			  (unsigned long long)t->size);
		return -EINVAL;
	}
	if (t->align == 0 || t->align > PTR_SIZE || (t->align & (t->align - 1))) {
		lp_seterr("type %s has alignment %u, not a power of two up to 8", type_name(t),
			  t->align);
		return -EINVAL;
	}
	if (t->size >= MAX_FRAME) {
		lp_seterr("type %s is too large to be passed by value (%llu bytes)", type_name(t),
			  (unsigned long long)t->size);
		return -EINVAL;
	}
	return 0;
}

static int add_piece(struct goassign *a, struct regs *r, enum goreg_class cls, uint64_t off,
		     uint64_t size)
{
	unsigned *used = cls == GOREG_INT ? &r->nint : &r->nfloat;
	unsigned avail = cls == GOREG_INT ? GOABI_NINTREG : GOABI_NFLOATREG;
	struct gopiece *p;

	if (*used >= avail)
		return 0;
	if (a->npieces >= GOABI_MAXPIECES) {
		lp_seterr("a value has more than %d register pieces", GOABI_MAXPIECES);
		return -E2BIG;
	}
	p = &a->pieces[a->npieces++];
	p->offset = (uint32_t)off;
	p->size = (uint8_t)size;
	p->cls = cls;
	p->reg = (uint8_t)(*used)++;
	return 1;
}

/*
 * Register-assign t, found at byte off of the top-level value: 1 when every
 * scalar got a register, 0 when the value must go to the stack (the caller
 * rolls back), -errno for a malformed type.
 */
static int assign_regs(const struct gotype *t, uint64_t off, struct regs *r, struct goassign *a,
		       int depth)
{
	int err;

	err = check_type(t);
	if (err)
		return err;
	if (depth > MAX_DEPTH) {
		lp_seterr("type %s nests more than %d levels deep", type_name(t), MAX_DEPTH);
		return -EINVAL;
	}

	switch (t->kind) {
	case GK_BOOL:
	case GK_INT:
	case GK_UINT:
	case GK_UINTPTR:
	case GK_PTR:
	case GK_UNSAFEPTR:
	case GK_MAP:
	case GK_CHAN:
	case GK_FUNC:
		return add_piece(a, r, GOREG_INT, off, t->size);
	case GK_FLOAT:
		return add_piece(a, r, GOREG_FLOAT, off, t->size);
	case GK_COMPLEX:
		err = add_piece(a, r, GOREG_FLOAT, off, t->size / 2);
		if (err <= 0)
			return err;
		return add_piece(a, r, GOREG_FLOAT, off + t->size / 2, t->size / 2);
	case GK_STRING:
	case GK_IFACE:
	case GK_EFACE:
	case GK_SLICE:
		/* {ptr, len}, {itab or type, data}, {ptr, len, cap}: one word each. */
		for (uint64_t w = 0; w < t->size; w += PTR_SIZE) {
			err = add_piece(a, r, GOREG_INT, off + w, PTR_SIZE);
			if (err <= 0)
				return err;
		}
		return 1;
	case GK_STRUCT:
		/* Only a struct with a sized field has a size: else its fields are unknown. */
		if ((t->nfields && !t->fields) || (t->size && !t->nfields)) {
			lp_seterr("struct type %s has no field list", type_name(t));
			return -EINVAL;
		}
		for (size_t i = 0; i < t->nfields; i++) {
			const struct gofield *f = &t->fields[i];

			if (f->type && f->offset + f->type->size > t->size) {
				lp_seterr("field %s of type %s lies outside it",
					  f->name ? f->name : "(unnamed)", type_name(t));
				return -EINVAL;
			}
			err = assign_regs(f->type, off + f->offset, r, a, depth + 1);
			if (err <= 0)
				return err;
		}
		return 1;
	case GK_ARRAY:
		/*
		 * Only trivial arrays travel in registers: indexing a longer one
		 * would need a computed offset. This holds even when the elements
		 * are zero-sized, and makes any struct holding one go to the stack.
		 */
		if (t->len > 1)
			return 0;
		if ((t->len == 1 && (!t->elem || t->elem->size != t->size)) ||
		    (t->len == 0 && t->size)) {
			lp_seterr("array type %s does not match its element type", type_name(t));
			return -EINVAL;
		}
		if (t->len == 0)
			return 1;
		return assign_regs(t->elem, off, r, a, depth + 1);
	case GK_INVALID:
		break;
	}
	lp_seterr("type %s has an invalid kind", type_name(t));
	return -EINVAL;
}

struct layout {
	enum goabi abi;
	struct regs regs;
	uint64_t stack; /* next free byte of the stack-assigned area, from SP+8 */
	uint64_t spill; /* next free byte of the spill area, from its start */
};

static int assign_value(struct layout *l, const struct gotype *t, bool is_result,
			struct goassign *out)
{
	struct regs saved = l->regs;
	int err;

	memset(out, 0, sizeof(*out));
	err = check_type(t);
	if (err)
		return err;

	/* Zero-sized values go to the stack, where they still impose their alignment. */
	if (l->abi == GOABI_REG && t->size > 0) {
		err = assign_regs(t, 0, &l->regs, out, 0);
		if (err < 0)
			return err;
		if (err == 1) {
			out->in_regs = true;
			if (!is_result) {
				/* Final offset once the spill area's start is known. */
				l->spill = align_up(l->spill, t->align);
				out->spill_off = (int32_t)l->spill;
				l->spill += t->size;
			}
			return 0;
		}
		l->regs = saved;
		out->npieces = 0;
		memset(out->pieces, 0, sizeof(out->pieces));
	}

	l->stack = align_up(l->stack, t->align);
	out->stack_off = (int32_t)(PTR_SIZE + l->stack);
	l->stack += t->size;
	if (l->stack >= MAX_FRAME) {
		lp_seterr("the parameters and results of this function take more than %u bytes",
			  MAX_FRAME);
		return -EINVAL;
	}
	return 0;
}

int goabi__assign(enum goabi abi, const struct gotype *const *params, size_t nparams,
		  const struct gotype *const *results, size_t nresults, struct goassign *out_params,
		  struct goassign *out_results, struct goframe *frame)
{
	struct layout l = {.abi = abi};
	uint64_t results_start, spill_start;
	int err;

	if (abi != GOABI_STACK && abi != GOABI_REG) {
		lp_seterr("unknown Go ABI %d", (int)abi);
		return -EINVAL;
	}

	for (size_t i = 0; i < nparams; i++) {
		err = assign_value(&l, params[i], false, &out_params[i]);
		if (err)
			return err;
	}
	results_start = align_up(l.stack, PTR_SIZE);

	/* Results take registers afresh but continue the stack sequence. */
	l.stack = results_start;
	l.regs = (struct regs){0, 0};
	for (size_t i = 0; i < nresults; i++) {
		err = assign_value(&l, results[i], true, &out_results[i]);
		if (err)
			return err;
	}
	spill_start = align_up(l.stack, PTR_SIZE);
	if (spill_start + l.spill + PTR_SIZE >= MAX_FRAME) {
		lp_seterr("the parameters and results of this function take more than %u bytes",
			  MAX_FRAME);
		return -EINVAL;
	}

	for (size_t i = 0; i < nparams; i++) {
		if (out_params[i].in_regs)
			out_params[i].spill_off += (int32_t)(PTR_SIZE + spill_start);
	}

	frame->args_size = (uint32_t)results_start;
	frame->results_size = (uint32_t)(spill_start - results_start);
	frame->spill_size = (uint32_t)align_up(l.spill, PTR_SIZE);
	return 0;
}

const char *goabi__reg_name(enum goreg_class cls, unsigned idx)
{
	static const char *const int_names[GOABI_NINTREG] = {
		"RAX", "RBX", "RCX", "RDI", "RSI", "R8", "R9", "R10", "R11",
	};
	static const char *const float_names[GOABI_NFLOATREG] = {
		"X0", "X1", "X2",  "X3",  "X4",	 "X5",	"X6",  "X7",
		"X8", "X9", "X10", "X11", "X12", "X13", "X14",
	};

	if (cls == GOREG_INT && idx < GOABI_NINTREG)
		return int_names[idx];
	if (cls == GOREG_FLOAT && idx < GOABI_NFLOATREG)
		return float_names[idx];
	return "?";
}
