// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "plan.h"

#define IMG_MAX	  512 /* bytes of one value's image kept in the record */
#define MAX_LEVEL 3   /* memory indirection levels (4 temporaries each) */
#define FIXED_MAX (LP_DATA_MAX - 256)
/*
 * Bounds of a value's decode tree. Real Go types nest a few structs and
 * arrays by value and make at most a few thousand nodes (the fixed area is
 * 4 KiB); corrupted DWARF can give a struct itself as a field, or fields
 * that overlap so that the tree grows exponentially. Beyond these bounds a
 * struct or array is left unfollowed, a pointer or slice unexpanded.
 */
#define NEST_MAX  32
#define DNODE_MAX 8192

enum side { ENTRY = 0, RET = 1 };

/* A best-effort value waiting for plan__fit(). */
struct pending {
	struct plan_param param;
	size_t value; /* index in values[] */
};

/*
 * plan__fit() ranks what a best-effort value needs: its image (rank 0),
 * then each indirection by its level and kind (follow_rank).
 */
#define FIT_PRIOS    4
#define FIT_MAX_RANK (1 + MAX_LEVEL * FIT_PRIOS + FIT_PRIOS - 1)
#define FIT_ALL	     UINT32_MAX

struct plan_builder {
	struct plan_opts opts;
	struct lp_plan bpf;
	uint32_t nconsts; /* bytes of bpf.consts used */
	/* the string or slice whose ptr and len capture left in temporaries a and b */
	const struct dnode *preloaded;
	uint16_t extra_flags; /* set by plan__set_flags */
	struct lp_op ops[2][LP_MAX_OPS];
	unsigned nops[2];
	uint32_t fixed;	      /* fixed area used (entry and return values share it) */
	uint32_t var_caps[2]; /* variable-area bytes the copies of each side may take */
	unsigned next_slot;
	unsigned nlookups[2]; /* LP_OP_MAPGET ops of each side */
	size_t nvalues, cap;
	struct plan_value *values;
	bool overflow;	  /* too many ops: reported once */
	unsigned nest;	  /* structs and arrays being followed by value */
	uint32_t ndnodes; /* decode-tree nodes made */
	uint32_t max_ops, max_fixed; /* limits, lowered while plan__fit() makes room */
	struct pending *pending;     /* best-effort values not captured yet */
	size_t npending, pending_cap;
	/* while plan__fit() lays out: follow what ranks below fit_rank, and fit_count of it */
	bool fitting;
	uint32_t fit_rank, fit_count, fit_seen;
	bool fitted; /* plan__fit() left something out */
	/* a string's follow decided in capture(), before its image (REGSTR does both) */
	const struct dnode *decided;
	bool decision;
};

/* Where a value's bytes are at the probe site. */
struct src {
	bool regs;
	const struct goassign *loc; /* regs: the register pieces of the whole parameter */
	uint32_t base;		    /* regs: offset of this sub-value inside the parameter */
	int tmp;		    /* mem: temporary holding the base address */
	int32_t off;		    /* mem: offset from that address */
};

struct plan_builder *plan__new(const struct plan_opts *opts)
{
	struct plan_builder *pb = calloc(1, sizeof(*pb));

	if (!pb)
		return NULL;
	pb->opts = *opts;
	pb->max_ops = LP_MAX_OPS;
	pb->max_fixed = FIXED_MAX;
	if (!pb->opts.reserve_ops)
		pb->opts.reserve_ops = PLAN_FIT_RESERVE_OPS;
	if (!pb->opts.reserve_bytes)
		pb->opts.reserve_bytes = PLAN_FIT_RESERVE_BYTES;
	if (!pb->opts.strcap)
		pb->opts.strcap = 64;
	if (pb->opts.strcap > LP_COPY_MAX - 1)
		pb->opts.strcap = LP_COPY_MAX - 1;
	if (!pb->opts.elems)
		pb->opts.elems = 8;
	return pb;
}

static void free_node(struct dnode *n)
{
	uint32_t i;

	for (i = 0; i < n->nchild; i++)
		free_node(&n->child[i]);
	free(n->child);
}

void plan__free(struct plan_builder *pb)
{
	size_t i;

	if (!pb)
		return;
	for (i = 0; i < pb->nvalues; i++) {
		free_node(&pb->values[i].root);
		free((char *)pb->values[i].name);
	}
	free(pb->values);
	free(pb->pending);
	free(pb);
}

struct lp_plan *plan__bpf(struct plan_builder *pb)
{
	memcpy(pb->bpf.ops, pb->ops[ENTRY], pb->nops[ENTRY] * sizeof(struct lp_op));
	memcpy(pb->bpf.ops + pb->nops[ENTRY], pb->ops[RET], pb->nops[RET] * sizeof(struct lp_op));
	pb->bpf.nentry = pb->nops[ENTRY];
	pb->bpf.nret = pb->nops[RET];
	pb->bpf.data_fixed = pb->fixed;
	pb->bpf.flags |= pb->extra_flags;
	return &pb->bpf;
}

void plan__set_flags(struct plan_builder *pb, uint16_t flags)
{
	pb->extra_flags |= flags;
}

unsigned plan__nops(const struct plan_builder *pb, bool at_return)
{
	return pb->nops[at_return ? RET : ENTRY];
}

int plan__const(struct plan_builder *pb, const void *bytes, size_t len)
{
	uint32_t at = (pb->nconsts + 7) & ~7u, padded = (len + 7) & ~(size_t)7;

	if (!padded)
		padded = 8;
	if (at + padded > LP_CONST_MAX)
		return -E2BIG;
	memset(pb->bpf.consts + at, 0, padded);
	memcpy(pb->bpf.consts + at, bytes, len);
	pb->nconsts = at + padded;
	return at;
}

void plan__hide(struct plan_builder *pb, const char *name)
{
	size_t i;

	/* the one captured last: a value shown may have the name too (plan__resolve) */
	for (i = pb->nvalues; i-- > 0;) {
		if (strcmp(pb->values[i].name, name) == 0) {
			pb->values[i].hidden = true;
			return;
		}
	}
}

/* The node at path inside v (whose name is path's first len bytes), or NULL. */
static const struct dnode *resolve_in(const struct plan_value *v, const char *path, size_t len)
{
	const struct dnode *n = &v->root;
	const char *rest = path + len;
	size_t i;

	/*
	 * through a type assertion or a map lookup: only the decoder checks the
	 * type (dnode.guard), or whether the key was there (dnode.lookup_at)
	 */
	if (n->nguard || n->lookup)
		return NULL;

	while (*rest == '.') {
		const char *name = rest + 1, *end = strchr(name, '.');
		size_t nl = end ? (size_t)(end - name) : strlen(name);
		bool found = false;

		if (n->avail == DA_NOTFOLLOWED)
			return NULL;
		if (n->kind == DN_PTR) {
			if (!n->nchild)
				return NULL;
			n = &n->child[0];
		}
		if (n->kind != DN_STRUCT)
			return NULL;
		for (i = 0; i < n->nchild; i++) {
			const char *fn = n->type->fields[i].name;

			if (fn && strlen(fn) == nl && strncmp(fn, name, nl) == 0) {
				n = &n->child[i];
				found = true;
				break;
			}
		}
		if (!found)
			return NULL;
		rest = name + nl;
	}
	/* what plan__fit() left out is not there to read */
	if (n->avail == DA_NOTFOLLOWED || n->shallow)
		return NULL;
	return n;
}

const struct dnode *plan__resolve(const struct plan_builder *pb, const char *path, bool *is_result)
{
	const struct dnode *n, *best = NULL;
	size_t i, best_len = 0, len;

	/*
	 * The longest captured name that is a prefix of the path, at a dot,
	 * that has the node: a value captured again for a predicate or an
	 * aggregation shares the name of the one left out of it.
	 */
	for (i = 0; i < pb->nvalues; i++) {
		len = strlen(pb->values[i].name);
		if (len < best_len || strncmp(path, pb->values[i].name, len) != 0 ||
		    (path[len] != '\0' && path[len] != '.'))
			continue;
		n = resolve_in(&pb->values[i], path, len);
		if (n && (len > best_len || !best)) {
			best = n;
			best_len = len;
			*is_result = pb->values[i].is_result;
		}
	}
	return best;
}

uint32_t plan__entry_bytes(const struct plan_builder *pb)
{
	uint32_t n = pb->fixed + pb->var_caps[ENTRY];

	return n > LP_DATA_MAX ? LP_DATA_MAX : n;
}

const struct plan_value *plan__values(const struct plan_builder *pb, size_t *n)
{
	*n = pb->nvalues;
	return pb->values;
}

const struct plan_value *plan__find(const struct plan_builder *pb, const char *name)
{
	size_t i;

	for (i = 0; i < pb->nvalues; i++)
		if (strcmp(pb->values[i].name, name) == 0)
			return &pb->values[i];
	return NULL;
}

static int emit(struct plan_builder *pb, enum side sd, uint8_t code, int dst, int src,
		unsigned slot, int32_t imm, uint32_t out, uint32_t size)
{
	struct lp_op *op;

	/* entry and return ops share the plan's op array */
	if (pb->nops[ENTRY] + pb->nops[RET] >= pb->max_ops) {
		pb->overflow = true;
		return -E2BIG;
	}
	op = &pb->ops[sd][pb->nops[sd]++];
	op->code = code;
	op->dst = dst;
	op->src = src;
	op->slot = slot;
	op->imm = imm;
	op->out = out;
	op->size = size;
	return 0;
}

int plan__emit(struct plan_builder *pb, bool at_return, const struct lp_op *op)
{
	return emit(pb, at_return ? RET : ENTRY, op->code, op->dst, op->src, op->slot, op->imm,
		    op->out, op->size);
}

static uint32_t alloc_fixed(struct plan_builder *pb, uint32_t size, uint32_t align)
{
	uint32_t at;

	if (align > 8)
		align = 8;
	if (!align)
		align = 1;
	at = (pb->fixed + align - 1) & ~(align - 1);
	if (at + size > pb->max_fixed) {
		pb->overflow = true;
		return 0;
	}
	pb->fixed = at + size;
	return at;
}

static unsigned alloc_slot(struct plan_builder *pb)
{
	if (pb->next_slot < LP_MAX_SLOTS - 1)
		return pb->next_slot++;
	return LP_MAX_SLOTS - 1; /* shared: a fault there marks every value using it */
}

int plan__alloc(struct plan_builder *pb, uint32_t size, uint32_t align)
{
	uint32_t at = alloc_fixed(pb, size, align);

	return pb->overflow ? -E2BIG : (int)at;
}

unsigned plan__slot(struct plan_builder *pb)
{
	return alloc_slot(pb);
}

void plan__var_cap(struct plan_builder *pb, bool at_return, uint32_t bytes)
{
	pb->var_caps[at_return ? RET : ENTRY] += bytes;
}

const struct plan_opts *plan__opts(const struct plan_builder *pb)
{
	return &pb->opts;
}

static enum dnode_kind kind_of(const struct gotype *t)
{
	switch (t->kind) {
	case GK_STRING:
		return DN_STRING;
	case GK_SLICE:
		return DN_SLICE;
	case GK_ARRAY:
		return DN_ARRAY;
	case GK_PTR:
		return DN_PTR;
	case GK_STRUCT:
		return DN_STRUCT;
	case GK_IFACE:
	case GK_EFACE:
		return DN_IFACE;
	case GK_MAP:
		return DN_MAP;
	case GK_CHAN:
		return DN_CHAN;
	case GK_FUNC:
		return DN_FUNC;
	default:
		return DN_SCALAR;
	}
}

/* is_flat() within bounds: at most *budget types visited (corrupted DWARF: see NEST_MAX) */
static bool flat(const struct gotype *t, unsigned nest, uint32_t *budget)
{
	uint64_t i;

	if (nest > NEST_MAX || !*budget)
		return false;
	--*budget;
	switch (t->kind) {
	case GK_BOOL:
	case GK_INT:
	case GK_UINT:
	case GK_UINTPTR:
	case GK_FLOAT:
	case GK_COMPLEX:
	case GK_UNSAFEPTR:
		return true;
	case GK_ARRAY:
		return t->elem && flat(t->elem, nest + 1, budget);
	case GK_STRUCT:
		for (i = 0; i < t->nfields; i++)
			if (!flat(t->fields[i].type, nest + 1, budget))
				return false;
		return true;
	default:
		return false;
	}
}

/* Does a value of this type need anything beyond its own bytes? */
static bool is_flat(const struct gotype *t)
{
	uint32_t budget = DNODE_MAX;

	return flat(t, 0, &budget);
}

static int tmp(int level, int k)
{
	return level * 4 + k;
}

static int follow(struct plan_builder *pb, enum side sd, struct dnode *n, int level,
		  uint32_t depth);

/* Copy a value's bytes into a new image in the record, then follow it. */
/* The integer registers of a string's two words, if both are in registers. */
static bool string_regs(const struct src *s, int *preg, int *lreg)
{
	uint32_t i;

	*preg = *lreg = -1;
	for (i = 0; i < s->loc->npieces; i++) {
		const struct gopiece *pc = &s->loc->pieces[i];

		if (pc->cls != GOREG_INT)
			continue;
		if (pc->offset == s->base)
			*preg = pc->reg;
		else if (pc->offset == s->base + 8)
			*lreg = pc->reg;
	}
	return *preg >= 0 && *lreg >= 0;
}

/* While plan__fit() lays out: may something of this rank be captured? */
static bool fit_allows(struct plan_builder *pb, uint32_t rank)
{
	if (!pb->fitting || rank < pb->fit_rank)
		return true;
	if (rank == pb->fit_rank)
		return pb->fit_seen++ < pb->fit_count;
	return false;
}

/*
 * The rank of following n at this level of indirection: shallower first,
 * and within a level strings, then interfaces, then small pointees, then the
 * rest (slices, maps, channels, funcs, big pointees).
 */
static uint32_t follow_rank(const struct dnode *n, int level)
{
	uint32_t prio;

	switch (n->kind) {
	case DN_STRING:
		prio = 0;
		break;
	case DN_IFACE:
		prio = 1;
		break;
	case DN_PTR:
		prio = n->type->elem && n->type->elem->size <= 128 ? 2 : 3;
		break;
	default:
		prio = 3;
	}
	return 1 + (uint32_t)level * FIT_PRIOS + prio;
}

/* Would following n copy anything (and so cost room)? */
static bool follow_costs(const struct dnode *n, int level, uint32_t depth)
{
	const struct gotype *t = n->type;

	switch (n->kind) {
	case DN_STRING:
	case DN_IFACE:
	case DN_MAP:
	case DN_CHAN:
	case DN_FUNC:
		return true;
	case DN_SLICE:
		return t->elem && t->elem->size;
	case DN_PTR:
		return t->elem && t->elem->size && depth && level + 1 <= MAX_LEVEL;
	default:
		return false;
	}
}

/* Follow n? Always, except what plan__fit() leaves out (n is then shallow). */
static bool follow_ok(struct plan_builder *pb, struct dnode *n, int level, uint32_t depth)
{
	bool ok;

	if (pb->decided == n) {
		pb->decided = NULL;
		ok = pb->decision;
	} else {
		ok = !follow_costs(n, level, depth) || fit_allows(pb, follow_rank(n, level));
	}
	n->shallow = !ok;
	return ok;
}

static int capture(struct plan_builder *pb, enum side sd, const struct gotype *t,
		   const struct src *s, struct dnode *n, int level, uint32_t depth, unsigned slot)
{
	uint32_t size = t->size > IMG_MAX ? IMG_MAX : t->size;
	uint32_t i;
	bool any_float = false;
	int preg, lreg;

	n->kind = kind_of(t);
	n->type = t;
	n->slot = slot;
	n->img = alloc_fixed(pb, size ? size : 1, t->align);
	if (n->kind == DN_STRING) {
		pb->decision = follow_ok(pb, n, level, depth);
		pb->decided = n;
	}
	if (s->regs && n->kind == DN_STRING && pb->decision && string_regs(s, &preg, &lreg)) {
		pb->decided = NULL;
		/* one op: both words to the image, the bytes to the variable area */
		n->var = alloc_fixed(pb, sizeof(struct lp_var), 2);
		n->var_slot = alloc_slot(pb);
		emit(pb, sd, LP_OP_REGSTR, lreg, preg, n->var_slot, n->img, n->var,
		     pb->opts.strcap);
		pb->var_caps[sd] += pb->opts.strcap;
		return 0;
	}
	if (s->regs) {
		/*
		 * A string's or slice's words go through temporaries 1, 2, 3 of the
		 * level, where follow() wants ptr and len: it need not read them back.
		 */
		bool keep = n->kind == DN_STRING || n->kind == DN_SLICE;
		int k = 1;

		for (i = 0; i < s->loc->npieces; i++) {
			const struct gopiece *pc = &s->loc->pieces[i];
			int t_;

			if (pc->offset < s->base || pc->offset >= s->base + t->size)
				continue;
			t_ = keep && k <= 3 ? tmp(level, k++) : tmp(level, 0);
			if (pc->cls == GOREG_FLOAT) {
				any_float = true;
				keep = false;
				continue;
			}
			if (keep) {
				emit(pb, sd, LP_OP_REG, t_, pc->reg, slot, 0, 0, 0);
				emit(pb, sd, LP_OP_STORE, 0, t_, slot, 0,
				     n->img + pc->offset - s->base, pc->size);
			} else {
				emit(pb, sd, LP_OP_REGSTORE, 0, pc->reg, slot, 0,
				     n->img + pc->offset - s->base, pc->size);
			}
		}
		if (keep && k > 2)
			pb->preloaded = n;
		if (any_float && is_flat(t) && t->kind != GK_STRUCT && t->kind != GK_ARRAY) {
			n->avail = DA_FLOATREG;
			return 0;
		}
	} else if (size) {
		emit(pb, sd, LP_OP_READ, 0, s->tmp, slot, s->off, n->img, size);
	}
	return follow(pb, sd, n, level, depth);
}

/* Mark the children of a register-held composite that came from XMM registers. */
static void mark_floats(struct dnode *n, const struct src *s, uint32_t base)
{
	uint32_t i;

	if (!s->regs)
		return;
	if (n->kind == DN_SCALAR) {
		for (i = 0; i < s->loc->npieces; i++) {
			const struct gopiece *pc = &s->loc->pieces[i];

			if (pc->cls == GOREG_FLOAT && pc->offset >= base &&
			    pc->offset < base + n->type->size)
				n->avail = DA_FLOATREG;
		}
		return;
	}
	if (n->kind == DN_STRUCT)
		for (i = 0; i < n->nchild; i++)
			mark_floats(&n->child[i], s, base + n->type->fields[i].offset);
	if (n->kind == DN_ARRAY && n->type->elem)
		for (i = 0; i < n->nchild; i++)
			mark_floats(&n->child[i], s, base + i * n->type->elem->size);
}

/* Emit a SKIPZ on temporary t; returns its index to patch with patch_skip(). */
static int skip_begin(struct plan_builder *pb, enum side sd, int t)
{
	if (emit(pb, sd, LP_OP_SKIPZ, 0, t, 0, 0, 0, 0))
		return -1;
	return pb->nops[sd] - 1;
}

static void skip_end(struct plan_builder *pb, enum side sd, int at)
{
	if (at >= 0)
		pb->ops[sd][at].imm = pb->nops[sd] - at - 1;
}

static struct dnode *children(struct plan_builder *pb, struct dnode *n, uint32_t count)
{
	n->child = calloc(count ? count : 1, sizeof(*n->child));
	if (!n->child)
		return NULL;
	n->nchild = count;
	pb->ndnodes += count;
	return n->child;
}

/* Whether count more nodes fit the bounds; a struct or array that does not is unfollowed. */
static bool within_bounds(struct plan_builder *pb, struct dnode *n, uint32_t count)
{
	bool by_value = n->kind == DN_STRUCT || n->kind == DN_ARRAY;

	if (count <= DNODE_MAX - pb->ndnodes && (!by_value || pb->nest < NEST_MAX))
		return true;
	if (by_value)
		n->avail = DA_NOTFOLLOWED;
	return false;
}

/* A word of the runtime header a map, chan or func value points to. */
struct hdr_word {
	int off;
	int size;
};

/*
 * Copy words of the header n's pointer points to into n's aux (8 bytes each),
 * through temporaries a and b; nothing is read through a nil pointer.
 */
static void header_words(struct plan_builder *pb, enum side sd, struct dnode *n, int a, int b,
			 const struct hdr_word *w, int nw)
{
	int i, sk;

	n->aux = alloc_fixed(pb, 8 * nw, 8);
	n->aux_slot = alloc_slot(pb);
	emit(pb, sd, LP_OP_DATA, a, 0, n->slot, 0, n->img, 8);
	sk = skip_begin(pb, sd, a);
	for (i = 0; i < nw; i++) {
		emit(pb, sd, LP_OP_LOAD, b, a, n->aux_slot, w[i].off, 0, w[i].size);
		emit(pb, sd, LP_OP_STORE, 0, b, n->aux_slot, 0, n->aux + 8 * i, 8);
	}
	skip_end(pb, sd, sk);
}

/* A string: its bytes, up to strcap, from the pointer and length in its image. */
static void follow_string(struct plan_builder *pb, enum side sd, struct dnode *n, int a, int b)
{
	n->var = alloc_fixed(pb, sizeof(struct lp_var), 2);
	n->var_slot = alloc_slot(pb);
	if (pb->preloaded != n) {
		emit(pb, sd, LP_OP_DATA, a, 0, n->slot, 0, n->img, 8);
		emit(pb, sd, LP_OP_DATA, b, 0, n->slot, 0, n->img + 8, 8);
	}
	pb->preloaded = NULL;
	emit(pb, sd, LP_OP_STR, b, a, n->var_slot, 0, n->var, pb->opts.strcap);
	pb->var_caps[sd] += pb->opts.strcap;
}

/*
 * A slice: flat elements are copied as bytes (up to strcap bytes, or elems
 * elements); others are captured one by one, the first few.
 */
static int follow_slice(struct plan_builder *pb, enum side sd, struct dnode *n, int level,
			uint32_t depth)
{
	const struct gotype *t = n->type;
	int a = tmp(level, 1), b = tmp(level, 2), c = tmp(level, 3);
	uint32_t i, count, esize = t->elem ? t->elem->size : 0;
	struct src s;
	int sk;

	if (!esize) {
		pb->preloaded = NULL;
		return 0;
	}
	if (pb->preloaded != n) {
		emit(pb, sd, LP_OP_DATA, a, 0, n->slot, 0, n->img, 8);
		emit(pb, sd, LP_OP_DATA, b, 0, n->slot, 0, n->img + 8, 8);
	}
	pb->preloaded = NULL;
	if (is_flat(t->elem)) {
		uint32_t cap = esize == 1 ? pb->opts.strcap : pb->opts.elems * esize;

		if (cap > LP_COPY_MAX - 1)
			cap = (LP_COPY_MAX - 1) / esize * esize;
		n->flat = true;
		n->var = alloc_fixed(pb, sizeof(struct lp_var), 2);
		n->var_slot = alloc_slot(pb);
		if (esize > 1)
			emit(pb, sd, LP_OP_MULI, b, b, n->slot, esize, 0, 0);
		emit(pb, sd, LP_OP_STR, b, a, n->var_slot, 0, n->var, cap);
		pb->var_caps[sd] += cap;
		return 0;
	}
	if (level + 1 > MAX_LEVEL)
		return 0;
	count = pb->opts.elems < 4 ? pb->opts.elems : 4;
	if (!within_bounds(pb, n, count))
		return 0;
	if (!children(pb, n, count))
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		emit(pb, sd, LP_OP_CMP, c, b, n->slot, i, 0, LP_CMP_GTU);
		sk = skip_begin(pb, sd, c);
		s = (struct src){.regs = false, .tmp = a, .off = i * esize};
		capture(pb, sd, t->elem, &s, &n->child[i], level + 1, depth, alloc_slot(pb));
		skip_end(pb, sd, sk);
	}
	return 0;
}

/* An array or struct by value: its elements or fields, within the captured image. */
static int follow_inline(struct plan_builder *pb, enum side sd, struct dnode *n, int level,
			 uint32_t depth)
{
	const struct gotype *t = n->type;
	uint32_t i, count, esize, captured = t->size > IMG_MAX ? IMG_MAX : t->size;

	if (n->kind == DN_ARRAY) {
		esize = t->elem ? t->elem->size : 0;
		if (!esize || !t->len)
			return 0;
		count = t->len;
		if (count > pb->opts.elems)
			count = pb->opts.elems;
		if (count * esize > captured)
			count = captured / esize;
	} else {
		esize = 0;
		count = t->nfields;
	}
	if (!within_bounds(pb, n, count))
		return 0;
	if (!children(pb, n, count))
		return -ENOMEM;
	pb->nest++;
	for (i = 0; i < count; i++) {
		struct dnode *ch = &n->child[i];
		const struct gotype *ct = n->kind == DN_ARRAY ? t->elem : t->fields[i].type;
		uint32_t off = n->kind == DN_ARRAY ? i * esize : t->fields[i].offset;

		ch->kind = kind_of(ct);
		ch->type = ct;
		ch->slot = n->slot;
		if (n->kind == DN_STRUCT && off + ct->size > captured) {
			ch->avail = DA_NOTFOLLOWED;
			continue;
		}
		ch->img = n->img + off;
		follow(pb, sd, ch, level, depth);
	}
	pb->nest--;
	return 0;
}

/* A pointer: its pointee, one level deeper, unless nil. */
static int follow_ptr(struct plan_builder *pb, enum side sd, struct dnode *n, int level,
		      uint32_t depth)
{
	const struct gotype *t = n->type;
	int a = tmp(level, 1);
	struct src s;
	int sk;

	if (!t->elem || !t->elem->size || depth == 0 || level + 1 > MAX_LEVEL ||
	    !within_bounds(pb, n, 1))
		return 0;
	if (!children(pb, n, 1))
		return -ENOMEM;
	emit(pb, sd, LP_OP_DATA, a, 0, n->slot, 0, n->img, 8);
	sk = skip_begin(pb, sd, a);
	s = (struct src){.regs = false, .tmp = a, .off = 0};
	capture(pb, sd, t->elem, &s, &n->child[0], level + 1, depth - 1, alloc_slot(pb));
	skip_end(pb, sd, sk);
	return 0;
}

/* An interface: its dynamic type, the first two words at its data pointer, as bytes too. */
static void follow_iface(struct plan_builder *pb, enum side sd, struct dnode *n, int level)
{
	const struct goruntime *rt = pb->opts.rt;
	int a = tmp(level, 1), b = tmp(level, 2), c = tmp(level, 3);
	int sk;

	/* aux: dynamic type (8), first two words at the data pointer (16) */
	n->aux = alloc_fixed(pb, 24, 8);
	n->aux_slot = alloc_slot(pb);
	n->var = alloc_fixed(pb, sizeof(struct lp_var), 2);
	n->var_slot = alloc_slot(pb);
	emit(pb, sd, LP_OP_DATA, a, 0, n->slot, 0, n->img, 8);
	if (n->type->kind == GK_IFACE) {
		sk = skip_begin(pb, sd, a);
		emit(pb, sd, LP_OP_LOAD, a, a, n->aux_slot, rt ? rt->itab_type : 8, 0, 8);
		skip_end(pb, sd, sk);
	}
	emit(pb, sd, LP_OP_STORE, 0, a, n->aux_slot, 0, n->aux, 8);
	emit(pb, sd, LP_OP_DATA, b, 0, n->slot, 0, n->img + 8, 8);
	sk = skip_begin(pb, sd, b);
	emit(pb, sd, LP_OP_READ, 0, b, n->aux_slot, 0, n->aux + 8, 16);
	emit(pb, sd, LP_OP_DATA, a, 0, n->aux_slot, 0, n->aux + 8, 8);
	emit(pb, sd, LP_OP_DATA, c, 0, n->aux_slot, 0, n->aux + 16, 8);
	emit(pb, sd, LP_OP_STR, c, a, n->var_slot, 0, n->var, pb->opts.strcap);
	skip_end(pb, sd, sk);
	pb->var_caps[sd] += pb->opts.strcap;
}

/* Follow what n's image leads to (in the kernel), as far as depth and the bounds allow. */
static int follow(struct plan_builder *pb, enum side sd, struct dnode *n, int level, uint32_t depth)
{
	const struct goruntime *rt = pb->opts.rt;
	int a = tmp(level, 1), b = tmp(level, 2);

	if (!follow_ok(pb, n, level, depth)) {
		pb->preloaded = NULL;
		return 0;
	}
	switch (n->kind) {
	case DN_SCALAR:
		return 0;
	case DN_STRING:
		follow_string(pb, sd, n, a, b);
		return 0;
	case DN_SLICE:
		return follow_slice(pb, sd, n, level, depth);
	case DN_ARRAY:
	case DN_STRUCT:
		return follow_inline(pb, sd, n, level, depth);
	case DN_PTR:
		return follow_ptr(pb, sd, n, level, depth);
	case DN_IFACE:
		follow_iface(pb, sd, n, level);
		return 0;
	case DN_MAP: {
		const struct hdr_word w[] = {{rt ? rt->map_count : 0, rt ? rt->map_count_size : 8}};

		header_words(pb, sd, n, a, b, w, 1);
		return 0;
	}
	case DN_CHAN: {
		const struct hdr_word w[] = {{rt ? rt->chan_qcount : 0, 8},
					     {rt ? rt->chan_dataqsiz : 8, 8}};

		header_words(pb, sd, n, a, b, w, 2);
		return 0;
	}
	case DN_FUNC: {
		const struct hdr_word w[] = {{rt ? rt->funcval_fn : 0, 8}};

		header_words(pb, sd, n, a, b, w, 1);
		return 0;
	}
	}
	return 0;
}

static struct plan_value *new_value(struct plan_builder *pb, const char *name, bool is_result)
{
	struct plan_value *v;

	if (pb->nvalues == pb->cap) {
		size_t ncap = pb->cap ? pb->cap * 2 : 8;
		struct plan_value *nv = realloc(pb->values, ncap * sizeof(*nv));

		if (!nv)
			return NULL;
		pb->values = nv;
		pb->cap = ncap;
	}
	v = &pb->values[pb->nvalues];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	if (!v->name)
		return NULL;
	v->is_result = is_result;
	pb->nvalues++;
	return v;
}

struct plan_value *plan__new_value(struct plan_builder *pb, const char *name, bool is_result)
{
	return new_value(pb, name, is_result);
}

/* The source of the parameter itself: its registers, or its stack slot from SP. */
static void param_src(struct plan_builder *pb, enum side sd, const struct plan_param *p,
		      struct src *s, unsigned slot)
{
	memset(s, 0, sizeof(*s));
	if (p->loc->in_regs) {
		s->regs = true;
		s->loc = p->loc;
		return;
	}
	emit(pb, sd, LP_OP_REG, tmp(0, 0), LP_REG_SP, slot, 0, 0, 0);
	s->tmp = tmp(0, 0);
	s->off = p->loc->stack_off;
}

/* Move s to the pointee of the pointer at s (one level deeper). */
static int deref_step(struct plan_builder *pb, enum side sd, const struct plan_param *p,
		      const char *path, struct src *s, unsigned slot, int level)
{
	int nt = tmp(level < MAX_LEVEL ? level + 1 : MAX_LEVEL, 0);

	if (s->regs) {
		uint32_t i;
		int reg = -1;

		for (i = 0; i < s->loc->npieces; i++)
			if (s->loc->pieces[i].offset == s->base)
				reg = s->loc->pieces[i].reg;
		if (reg < 0) {
			lp_seterr("%s.%s: pointer not in a register", p->name, path);
			return -EINVAL;
		}
		emit(pb, sd, LP_OP_REG, nt, reg, slot, 0, 0, 0);
	} else {
		emit(pb, sd, LP_OP_LOAD, nt, s->tmp, slot, s->off, 0, 8);
	}
	*s = (struct src){.regs = false, .tmp = nt, .off = 0};
	return 0;
}

/*
 * A type assertion x.(*T) in a field path: the interface's data word read
 * as a *T. Its dynamic type (an iface's itab's type) goes into the record
 * for the decoder to check (g->guard): another type reads as unreadable.
 */
static int assert_step(struct plan_builder *pb, enum side sd, const struct plan_param *p,
		       const char *text, struct src *s, const struct gotype **t, unsigned slot,
		       int level, struct dnode *g)
{
	const struct gotype *to =
		pb->opts.parse_type ? pb->opts.parse_type(pb->opts.parse_ctx, text) : NULL;
	int gt = tmp(level, 3), reg = -1;
	uint32_t i, at;

	if ((*t)->kind != GK_IFACE && (*t)->kind != GK_EFACE) {
		lp_seterr("%s: .(%s): %s is not an interface", p->name, text,
			  (*t)->name ? (*t)->name : "the value");
		return -EINVAL;
	}
	if (!to || to->kind != GK_PTR || !to->elem || !to->elem->name) {
		lp_seterr("%s: .(%s): a field path asserts pointers to named types the binary "
			  "describes, as .(*net.TCPConn)",
			  p->name, text);
		return -EINVAL;
	}
	if (g->nguard == DNODE_GUARDS) {
		lp_seterr("%s: at most %d type assertions in a field path", p->name, DNODE_GUARDS);
		return -EINVAL;
	}
	if (s->regs) {
		for (i = 0; i < s->loc->npieces; i++)
			if (s->loc->pieces[i].offset == s->base)
				reg = s->loc->pieces[i].reg;
		if (reg < 0) {
			lp_seterr("%s: .(%s): interface not in registers", p->name, text);
			return -EINVAL;
		}
		emit(pb, sd, LP_OP_REG, gt, reg, slot, 0, 0, 0);
		s->base += 8;
	} else {
		emit(pb, sd, LP_OP_LOAD, gt, s->tmp, slot, s->off, 0, 8);
		s->off += 8;
	}
	if ((*t)->kind == GK_IFACE) {
		emit(pb, sd, LP_OP_SKIPZ, 0, gt, 0, 1, 0, 0);
		emit(pb, sd, LP_OP_LOAD, gt, gt, slot, pb->opts.rt ? pb->opts.rt->itab_type : 8, 0,
		     8);
	}
	at = alloc_fixed(pb, 8, 8);
	emit(pb, sd, LP_OP_STORE, 0, gt, slot, 0, at, 8);
	g->guard[g->nguard] = at;
	g->guard_type[g->nguard++] = to;
	*t = to;
	return 0;
}

/*
 * A map lookup m["key"] in a field path: the kernel scans the map the value
 * at s points to for the key (LP_OP_MAPGET) and s moves to the element; the
 * value's ops are skipped when the key is absent (patched in plan__add).
 * The lookup's status goes into the record for the decoder (g->lookup_at).
 */
static int lookup_step(struct plan_builder *pb, enum side sd, const struct plan_param *p,
		       const char *path, const char *key, struct src *s, const struct gotype **t,
		       unsigned slot, int *level, struct dnode *g)
{
	const struct goruntime *rt = pb->opts.rt;
	uint8_t desc[PLAN_MAPDESC_MAX];
	int len, at, err;

	const char *dot = path[0] == '[' ? "" : ".";

	if ((*t)->kind != GK_MAP) {
		lp_seterr("%s%s%s: %s is not a map", p->name, dot, path,
			  (*t)->name ? (*t)->name : "the value");
		return -EINVAL;
	}
	if (g->lookup) {
		lp_seterr("%s%s%s: at most one map lookup in a field path", p->name, dot, path);
		return -EINVAL;
	}
	if (pb->nlookups[sd] == LP_MAX_LOOKUPS) {
		lp_seterr("%s%s%s: at most %d map lookups in one probe", p->name, dot, path,
			  LP_MAX_LOOKUPS);
		return -E2BIG;
	}
	len = plan__map_desc(*t, rt && rt->swiss_maps, key, desc);
	if (len < 0) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s", lp_lasterr());
		lp_seterr("%s%s%s: %s", p->name, dot, path, msg);
		return len;
	}
	at = plan__const(pb, desc, (size_t)len);
	if (at < 0) {
		lp_seterr("%s%s%s: no room left for the map key in the probe's constants (%d "
			  "bytes)",
			  p->name, dot, path, LP_CONST_MAX);
		return -E2BIG;
	}
	/* the map value is a pointer to its header */
	err = deref_step(pb, sd, p, path, s, slot, *level);
	if (err)
		return err;
	g->lookup = true;
	pb->nlookups[sd]++;
	g->lookup_at = alloc_fixed(pb, 1, 1);
	emit(pb, sd, LP_OP_MAPGET, s->tmp, s->tmp, slot, at, g->lookup_at, 0);
	g->lookup_skip = skip_begin(pb, sd, s->tmp);
	*t = (*t)->elem;
	if (*level < MAX_LEVEL)
		(*level)++;
	return 0;
}

/* The end of the key of a lookup "[...]" at q (at its ']'), or NULL. */
static const char *key_end(const char *q)
{
	const char *e = q + 1;

	if (*e == '"') {
		for (e++; *e && *e != '"'; e++)
			if (*e == '\\' && e[1])
				e++;
		if (!*e)
			return NULL;
		e++;
	} else {
		e += strcspn(e, "]");
	}
	return *e == ']' ? e : NULL;
}

/*
 * Walk a field path ("URL.Path", "conn.(*net.TCPConn).fd") from the
 * parameter's source: fields move the offset, pointers are loaded into a
 * temporary of the next level, type assertions take an interface's data
 * word (guards in g).
 */
static int walk_path(struct plan_builder *pb, enum side sd, const struct plan_param *p,
		     const char *path, struct src *s, const struct gotype **t, unsigned slot,
		     int *level, struct dnode *g)
{
	const char *q = path;
	int err = 0;

	while (*q && !err) {
		const struct gofield *f;
		uint64_t off = 0;
		char part[256];
		size_t n;

		if (*q == '(') {
			/* the type ends at the ')' before the next field, or at the end */
			for (n = 1; q[n] && !(q[n] == ')' && (q[n + 1] == '.' || !q[n + 1])); n++)
				;
			if (!q[n] || n < 2 || n - 1 >= sizeof(part)) {
				lp_seterr("%s.%s: a type assertion is written .(*T)", p->name,
					  path);
				return -EINVAL;
			}
			memcpy(part, q + 1, n - 1);
			part[n - 1] = '\0';
			q += n + 1;
			q += *q == '.';
			err = assert_step(pb, sd, p, part, s, t, slot, *level, g);
			continue;
		}
		if (*q == '[') {
			const char *e = key_end(q);

			if (!e || (size_t)(e - q - 1) >= sizeof(part)) {
				lp_seterr("%s%s%s: a map lookup is written m[\"key\"] or m[42]",
					  p->name, path[0] == '[' ? "" : ".", path);
				return -EINVAL;
			}
			memcpy(part, q + 1, e - q - 1);
			part[e - q - 1] = '\0';
			q = e + 1;
			q += *q == '.';
			err = lookup_step(pb, sd, p, path, part, s, t, slot, level, g);
			continue;
		}
		n = strcspn(q, ".[");
		if (n >= sizeof(part))
			n = sizeof(part) - 1;
		memcpy(part, q, n);
		part[n] = '\0';
		q += n;
		q += *q == '.';
		if ((*t)->kind == GK_PTR) {
			if (!(*t)->elem) {
				lp_seterr("%s.%s: field path through an untyped pointer", p->name,
					  path);
				return -EINVAL;
			}
			/* beyond the last level, one temporary holds each address in turn */
			err = deref_step(pb, sd, p, path, s, slot, *level);
			if (err)
				break;
			*t = (*t)->elem;
			if (*level < MAX_LEVEL)
				(*level)++;
		}
		if ((*t)->kind != GK_STRUCT || !(f = gotype__field(*t, part, &off))) {
			lp_seterr("%s: %s has no field %s", p->name,
				  (*t)->name ? (*t)->name : "value", part);
			return -EINVAL;
		}
		if (s->regs)
			s->base += off;
		else
			s->off += off;
		*t = f->type;
	}
	return err;
}

/* A best-effort value as it reads before plan__fit(), or when left out whole. */
static void not_captured(struct plan_value *v, const struct gotype *t)
{
	memset(&v->root, 0, sizeof(v->root));
	v->root.kind = kind_of(t);
	v->root.type = t;
	v->root.avail = DA_NOTFOLLOWED;
}

int plan__add(struct plan_builder *pb, const struct plan_param *param, const char *path,
	      const char *display_name)
{
	enum side sd = param->is_result ? RET : ENTRY;
	const struct gotype *t = param->type;
	struct plan_value *v;
	struct dnode g;
	unsigned slot;
	int level = 0, err;
	struct src s;

	if (param->best_effort && !(path && *path)) {
		struct pending *pd;

		if (pb->npending == pb->pending_cap) {
			size_t cap = pb->pending_cap ? pb->pending_cap * 2 : 8;

			pd = realloc(pb->pending, cap * sizeof(*pd));
			if (!pd)
				return -ENOMEM;
			pb->pending = pd;
			pb->pending_cap = cap;
		}
		v = new_value(pb, display_name ? display_name : param->name, param->is_result);
		if (!v)
			return -ENOMEM;
		not_captured(v, t);
		pd = &pb->pending[pb->npending++];
		pd->param = *param;
		pd->value = pb->nvalues - 1;
		return 0;
	}
	slot = alloc_slot(pb);

	param_src(pb, sd, param, &s, slot);
	memset(&g, 0, sizeof(g));
	if (path && *path) {
		err = walk_path(pb, sd, param, path, &s, &t, slot, &level, &g);
		if (err)
			return err;
	}
	v = new_value(pb, display_name ? display_name : param->name, param->is_result);
	if (!v)
		return -ENOMEM;
	err = capture(pb, sd, t, &s, &v->root, level, pb->opts.depth, slot);
	if (g.lookup)
		skip_end(pb, sd, g.lookup_skip);
	v->root.lookup = g.lookup;
	v->root.lookup_at = g.lookup_at;
	v->root.nguard = g.nguard;
	memcpy(v->root.guard, g.guard, sizeof(g.guard));
	memcpy(v->root.guard_type, g.guard_type, sizeof(g.guard_type));
	if (!err && s.regs)
		mark_floats(&v->root, &s, s.base);
	if (err)
		return err;
	if (pb->overflow) {
		lp_seterr("%s: too much to capture in one probe (at most %d operations and %d "
			  "bytes); capture fewer values or lower strcap/elems",
			  v->name, LP_MAX_OPS, LP_DATA_MAX);
		return -E2BIG;
	}
	return 0;
}

/*
 * One try of plan__fit(): from the state in snap, capture the pending values
 * following what ranks below `rank` and `count` of that rank, within the
 * limits. Returns 0, -E2BIG when it does not fit, or -ENOMEM.
 */
static int fit_try(struct plan_builder *pb, const struct plan_builder *snap, uint32_t max_ops,
		   uint32_t max_fixed, uint32_t rank, uint32_t count)
{
	size_t i;
	int err = 0;

	for (i = 0; i < pb->npending; i++) {
		struct plan_value *v = &pb->values[pb->pending[i].value];

		free_node(&v->root);
		not_captured(v, pb->pending[i].param.type);
	}
	*pb = *snap;
	pb->max_ops = max_ops;
	pb->max_fixed = max_fixed;
	pb->fitting = rank != FIT_ALL;
	pb->fit_rank = rank;
	pb->fit_count = count;
	pb->fit_seen = 0;
	for (i = 0; i < pb->npending && !err && !pb->overflow; i++) {
		const struct plan_param *p = &pb->pending[i].param;
		struct plan_value *v = &pb->values[pb->pending[i].value];
		enum side sd = p->is_result ? RET : ENTRY;
		unsigned slot;
		struct src s;

		if (!fit_allows(pb, 0))
			continue; /* not even its image: "..." */
		slot = alloc_slot(pb);
		param_src(pb, sd, p, &s, slot);
		memset(&v->root, 0, sizeof(v->root));
		err = capture(pb, sd, p->type, &s, &v->root, 0, pb->opts.depth, slot);
		if (!err && s.regs)
			mark_floats(&v->root, &s, s.base);
	}
	pb->fitting = false;
	pb->max_ops = LP_MAX_OPS;
	pb->max_fixed = FIXED_MAX;
	if (!err && pb->overflow)
		err = -E2BIG;
	return err;
}

int plan__fit(struct plan_builder *pb)
{
	struct plan_builder *snap;
	uint32_t ops, fixed, rank, lo, hi;
	int err;

	if (!pb->npending)
		return 0;
	snap = malloc(sizeof(*snap));
	if (!snap)
		return -ENOMEM;
	*snap = *pb;
	/* everything, when it fits (all the room, as if none of it were best effort) */
	err = fit_try(pb, snap, LP_MAX_OPS, FIXED_MAX, FIT_ALL, 0);
	if (err != -E2BIG)
		goto out;
	/* else leave room for a predicate and aggregations, if what must be captured allows */
	ops = LP_MAX_OPS - pb->opts.reserve_ops;
	fixed = FIXED_MAX - pb->opts.reserve_bytes;
	if (snap->nops[ENTRY] + snap->nops[RET] > ops || snap->fixed > fixed) {
		ops = LP_MAX_OPS;
		fixed = FIXED_MAX;
	}
	/* the highest rank up to which everything fits... */
	for (rank = FIT_MAX_RANK + 1; rank > 0; rank--) {
		err = fit_try(pb, snap, ops, fixed, rank - 1, 0);
		if (err != -E2BIG)
			break;
	}
	if (err)
		goto out; /* not even the required values: cannot happen, they fitted before */
	rank--;
	/* ...and how many of the next fit, in the order they come */
	lo = 0;
	hi = pb->fit_seen;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		err = fit_try(pb, snap, ops, fixed, rank, mid);
		if (err == -ENOMEM)
			goto out;
		if (err)
			hi = mid;
		else
			lo = mid;
	}
	err = fit_try(pb, snap, ops, fixed, rank, lo);
	pb->fitted = true;
out:
	free(snap);
	if (!err)
		pb->npending = 0;
	return err;
}

bool plan__fitted(const struct plan_builder *pb)
{
	return pb->fitted;
}

int plan__add_raw(struct plan_builder *pb, const char *name, enum raw_loc loc, int reg, int32_t off,
		  unsigned size)
{
	static const struct gotype raw_types[4] = {
		{.kind = GK_UINTPTR, .name = "uint8", .size = 1, .align = 1},
		{.kind = GK_UINTPTR, .name = "uint16", .size = 2, .align = 2},
		{.kind = GK_UINTPTR, .name = "uint32", .size = 4, .align = 4},
		{.kind = GK_UINTPTR, .name = "uintptr", .size = 8, .align = 8},
	};
	unsigned slot = alloc_slot(pb);
	struct plan_value *v = new_value(pb, name, false);

	if (!v)
		return -ENOMEM;
	if (size != 1 && size != 2 && size != 4)
		size = 8;
	v->root.kind = DN_SCALAR;
	v->root.type = &raw_types[size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3];
	v->root.slot = slot;
	v->root.img = alloc_fixed(pb, 8, 8);
	switch (loc) {
	case RAW_REG:
		emit(pb, ENTRY, LP_OP_REG, 0, reg, slot, 0, 0, 0);
		emit(pb, ENTRY, LP_OP_STORE, 0, 0, slot, 0, v->root.img, 8);
		break;
	case RAW_STACK:
		emit(pb, ENTRY, LP_OP_REG, 0, LP_REG_SP, slot, 0, 0, 0);
		emit(pb, ENTRY, LP_OP_LOAD, 0, 0, slot, off, 0, 8);
		emit(pb, ENTRY, LP_OP_STORE, 0, 0, slot, 0, v->root.img, 8);
		break;
	case RAW_FLOAT:
		v->root.avail = DA_FLOATREG;
		break;
	case RAW_UNKNOWN:
		v->root.avail = DA_UNKNOWN;
		break;
	}
	if (pb->overflow) {
		lp_seterr("%s: too much to capture in one probe", name);
		return -E2BIG;
	}
	return 0;
}
