// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The generic uprobe program of luprobe. Every uprobe luprobe attaches runs
 * lp_uprobe; the BPF cookie picks the plan and the kind of site. No code is
 * generated per probe.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "luprobe.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load. */
const volatile __u64 wakeup_bytes = 256 * 1024; /* wake the consumer past this much data */
const volatile __u32 fsbase_off; /* offsetof(task_struct, thread.fsbase); 0: no TLS reads */
/*
 * The parts of the program the probes use (enum lp_features). The verifier
 * does not follow a branch on a constant, nor verify a global function that
 * no followed path calls: a script without scopes, aggregations or stacks
 * loads a program a fraction of the size, and sooner.
 */
const volatile __u32 features = LP_FEAT_ALL;
#define HAS(feat) (features & (feat))

/*
 * Set by the consumer when it found the ring empty for a whole drain
 * interval and is about to sleep: the next record wakes it at once (and
 * clears this), so the first event after a quiet spell is not held back.
 */
__u32 consumer_idle;

/*
 * struct pt_regs of x86-64 as the user ABI lays it out (stable): reading it
 * at fixed offsets needs no CO-RE relocation, so libbpf need not load the
 * kernel's BTF, which costs milliseconds at every start.
 */
struct lp_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip,
		cs, flags, sp, ss;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized at load */
	__type(key, __u32);
	__type(value, struct lp_plan);
} plans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* resized at load */
	__type(key, __u32);
	__type(value, struct lp_probe_state);
} probes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized at load */
} rb SEC(".maps");

/*
 * The record being built, the machine registers, and room for bounded copies.
 * Uprobe programs run with migration disabled but may be preempted, so a
 * per-CPU buffer can be in use by a preempted run: each run claims a free
 * slot with a compare-and-swap on `busy`.
 */
struct scratch {
	__u64 busy;
	__u64 regs[LP_NREGS];
	struct lp_lineage lineage; /* LP_RF_LINEAGE: appended to the record's data by emit() */
	struct lp_rec rec;
	__u8 data[2 * LP_DATA_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_NSCRATCH);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* In-flight calls: the entry record, kept until a RET of the same frame. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192); /* resized at load */
	__uint(key_size, sizeof(struct lp_call_key));
	__uint(value_size, sizeof(struct lp_rec)); /* resized at load to the largest entry record */
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1); /* resized at load (0 entries are not allowed) */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, LP_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* In-kernel aggregations: per-CPU, so updates need no atomics; summed when read. */
/* Allocated as keys appear: a script without aggregations costs nothing. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, LP_AGG_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lp_agg_key);
	__type(value, struct lp_agg_val);
} aggs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, LP_AGG_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lp_agg_key16);
	__type(value, struct lp_agg_val);
} aggs16 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);

	if (v)
		*v += 1;
}

/*
 * Does the stack-check branch send this call to morestack? Branch-free: one
 * bit per x86 condition (O, B, E, BE, S, P, L, LE; cc>>1 picks it, cc&1
 * negates it), which keeps the verifier from walking eight paths.
 */
static __always_inline bool cc_holds(__u32 cc, __u64 fl)
{
	__u64 cf = fl & 1, pf = (fl >> 2) & 1, zf = (fl >> 6) & 1, sf = (fl >> 7) & 1,
	      of = (fl >> 11) & 1, lt = sf ^ of;
	__u64 v = of | cf << 1 | zf << 2 | (cf | zf) << 3 | sf << 4 | pf << 5 | lt << 6 |
		  (zf | lt) << 7;

	return ((v >> ((cc >> 1) & 7)) ^ cc) & 1;
}

static __always_inline void save_regs(struct scratch *s, struct pt_regs *pctx)
{
	struct lp_regs *ctx = (struct lp_regs *)pctx;

	s->regs[LP_REG_AX] = ctx->ax;
	s->regs[LP_REG_BX] = ctx->bx;
	s->regs[LP_REG_CX] = ctx->cx;
	s->regs[LP_REG_DI] = ctx->di;
	s->regs[LP_REG_SI] = ctx->si;
	s->regs[LP_REG_R8] = ctx->r8;
	s->regs[LP_REG_R9] = ctx->r9;
	s->regs[LP_REG_R10] = ctx->r10;
	s->regs[LP_REG_R11] = ctx->r11;
	s->regs[LP_REG_DX] = ctx->dx;
	s->regs[LP_REG_BP] = ctx->bp;
	s->regs[LP_REG_R12] = ctx->r12;
	s->regs[LP_REG_R13] = ctx->r13;
	s->regs[LP_REG_R14] = ctx->r14;
	s->regs[LP_REG_R15] = ctx->r15;
	s->regs[LP_REG_SP] = ctx->sp;
	s->regs[LP_REG_IP] = ctx->ip;
	s->regs[LP_REG_FLAGS] = ctx->flags;
	s->regs[LP_REG_LATENCY] = 0;
}

static __noinline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	/* a small frame: see user_bounce */
	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/*
 * The running g: a register the stack check just loaded it into (the
 * cookie says which), R14 under the register ABI, else thread-local storage
 * at fsbase + tls_off.
 */
static __always_inline __u64 tls_g(const struct lp_plan *p)
{
	__u64 fsbase = 0, task;

	if (p->gsrc != LP_G_TLS || !fsbase_off)
		return 0;
	task = bpf_get_current_task();
	if (bpf_probe_read_kernel(&fsbase, sizeof(fsbase), (void *)(task + fsbase_off)))
		return 0;
	return read_u64(fsbase + p->tls_off);
}

static __always_inline __u64 current_g(const struct lp_plan *p, struct scratch *s, __u64 cookie)
{
	__u32 greg = LP_COOKIE_GREG(cookie);

	if (greg && greg <= LP_NREGS)
		return s->regs[greg - 1];
	if (p->gsrc == LP_G_R14)
		return s->regs[LP_REG_R14];
	return tls_g(p);
}

/*
 * The op interpreter is a global function, which the verifier checks once on
 * its own instead of in every context that runs it: it cannot be handed map
 * value pointers, so it finds the scratch slot and the plan by index.
 */
struct run {
	struct scratch *s;	 /* for the inline callers only */
	const struct lp_plan *p; /* for the inline callers only */
	__u32 slot;		 /* scratch slot index */
	__u32 plan;		 /* plan index */
	__u64 t[LP_NTMP];
	__u32 first, end; /* op range */
	__u32 vpos;	  /* next free byte of the variable area */
	__u32 skip_to;	  /* ops before this index are skipped (LP_OP_SKIPZ) */
	__u64 g;
	bool drop;
	/*
	 * LP_OP_MAPGET at index lookup - 1 stopped the loop: run_ops does the
	 * lookup, below the op interpreter's frames (the stack has no room for
	 * its frames above them), and resumes after it.
	 */
	__u32 lookup;
};

static __always_inline void fault(struct scratch *s, __u32 slot)
{
	s->rec.faults |= 1ULL << (slot & (LP_MAX_SLOTS - 1));
	stat_inc(LP_STAT_FAULTS);
}

static __always_inline bool faulted(struct scratch *s, __u32 slot)
{
	return s->rec.faults & (1ULL << (slot & (LP_MAX_SLOTS - 1)));
}

static __always_inline bool cmp(__u32 cc, __u64 a, __u64 b)
{
	switch (cc) {
	case LP_CMP_EQ:
		return a == b;
	case LP_CMP_NE:
		return a != b;
	case LP_CMP_LT:
		return (__s64)a < (__s64)b;
	case LP_CMP_LE:
		return (__s64)a <= (__s64)b;
	case LP_CMP_GT:
		return (__s64)a > (__s64)b;
	case LP_CMP_GE:
		return (__s64)a >= (__s64)b;
	case LP_CMP_LTU:
		return a < b;
	case LP_CMP_LEU:
		return a <= b;
	case LP_CMP_GTU:
		return a > b;
	case LP_CMP_GEU:
		return a >= b;
	}
	return false;
}

/*
 * User memory is read into a buffer on the stack of a function whose frame
 * is under 64 bytes. The kernel's usercopy hardening checks a destination
 * on the task stack in a few instructions but walks several tables for
 * anything else (a map value, or the per-CPU private stack the JIT gives
 * frames of 64 bytes or more); that walk cost more than the copy itself.
 */
#define LP_BOUNCE 32
static __noinline long user_bounce(void *dst, __u32 n, __u64 addr)
{
	__u64 b[LP_BOUNCE / 8];
	long err;

	if (n > LP_BOUNCE)
		return -1;
	err = bpf_probe_read_user(b, n, (void *)addr);
	if (err)
		return err;
	/* whole words: bytes past n land in the caller's slack and are not sent */
	((__u64 *)dst)[0] = b[0];
	if (n > 8)
		((__u64 *)dst)[1] = b[1];
	if (n > 16)
		((__u64 *)dst)[2] = b[2];
	if (n > 24)
		((__u64 *)dst)[3] = b[3];
	return 0;
}

/* Copy n bytes of user memory into the record data at off; non-zero on a fault. */
static __always_inline long copy_user(struct scratch *s, __u32 off, __u32 n, __u64 addr)
{
	__u32 o = off & (LP_DATA_MAX - 1);

	if (n <= LP_BOUNCE)
		return user_bounce(&s->data[o], n, addr);
	return bpf_probe_read_user(&s->data[o], n & (LP_COPY_MAX - 1), (void *)addr);
}

#include "mapget.bpf.h"

__noinline int lp_op(__u32 i, struct run *r)
{
	struct scratch *s;
	const struct lp_plan *p;
	const struct lp_op *op;
	__u32 idx, slot, plan;
	__u8 dst, src;
	__u64 v, addr;
	__u32 n, out;

	if (!r)
		return 1;
	idx = r->first + i;
	if (idx >= r->end || idx >= LP_MAX_OPS)
		return 1;
	if (idx < r->skip_to)
		return 0;
	slot = r->slot;
	plan = r->plan;
	s = bpf_map_lookup_elem(&scratch, &slot);
	p = bpf_map_lookup_elem(&plans, &plan);
	if (!s || !p)
		return 1;
	op = &p->ops[idx];
	dst = op->dst & (LP_NTMP - 1);
	src = op->src;
	out = op->out & (LP_DATA_MAX - 1);

	switch (op->code) {
	case LP_OP_REG:
		if (src < LP_NREGS)
			r->t[dst] = s->regs[src];
		break;
	case LP_OP_IMM:
		r->t[dst] = (__s64)op->imm;
		break;
	case LP_OP_ADD:
		r->t[dst] = r->t[src & (LP_NTMP - 1)] + (__s64)op->imm;
		break;
	case LP_OP_LOAD:
		v = 0;
		if (!faulted(s, op->slot)) {
			addr = r->t[src & (LP_NTMP - 1)] + (__s64)op->imm;
			n = op->size;
			if (n > 8)
				n = 8;
			if (bpf_probe_read_user(&v, n & 0xf, (void *)addr)) {
				v = 0;
				fault(s, op->slot);
			}
		}
		r->t[dst] = v;
		break;
	case LP_OP_STORE:
		v = r->t[src & (LP_NTMP - 1)];
		switch (op->size) {
		case 1:
			*(__u8 *)&s->data[out] = v;
			break;
		case 2:
			*(__u16 *)&s->data[out] = v;
			break;
		case 4:
			*(__u32 *)&s->data[out] = v;
			break;
		default:
			*(__u64 *)&s->data[out] = v;
			break;
		}
		break;
	case LP_OP_READ:
		n = op->size & (LP_COPY_MAX - 1);
		if (faulted(s, op->slot)) {
			__builtin_memset(&s->data[out], 0, 8);
			break;
		}
		addr = r->t[src & (LP_NTMP - 1)] + (__s64)op->imm;
		if (n && bpf_probe_read_user(&s->data[out], n, (void *)addr))
			fault(s, op->slot);
		break;
	case LP_OP_STR: {
		struct lp_var var = {.off = r->vpos, .len = 0};
		__u64 want = r->t[dst];

		if (!faulted(s, op->slot) && want) {
			n = op->size;
			if (want < n)
				n = want;
			if (n > LP_DATA_MAX - r->vpos) {
				n = LP_DATA_MAX - r->vpos;
				s->rec.flags |= LP_RF_TRUNC;
			}
			n &= LP_COPY_MAX - 1;
			addr = r->t[src & (LP_NTMP - 1)];
			if (n && copy_user(s, r->vpos, n, addr)) {
				fault(s, op->slot);
				n = 0;
			}
			var.len = n;
			r->vpos += n;
		}
		*(struct lp_var *)&s->data[out] = var;
		break;
	}
	case LP_OP_G:
		r->t[dst] = r->g;
		break;
	case LP_OP_CMP:
		r->t[dst] = cmp(op->size, r->t[src & (LP_NTMP - 1)], (__s64)op->imm);
		break;
	case LP_OP_CMPT:
		r->t[dst] = cmp(op->size, r->t[dst], r->t[src & (LP_NTMP - 1)]);
		break;
	case LP_OP_STRLEN:
		r->t[dst] = ((struct lp_var *)&s->data[out])->len;
		break;
	case LP_OP_STRCHUNK: {
		/* bytes [8k, 8k+size) of the copied string against 8 constant bytes */
		struct lp_var var = *(struct lp_var *)&s->data[out];
		__u64 a, b, mask = op->size >= 8 ? ~0ULL : (1ULL << (op->size * 8)) - 1;

		a = *(__u64 *)&s->data[(var.off + (__u32)src * 8) & (LP_DATA_MAX - 1)];
		b = *(__u64 *)&p->consts[op->imm & (LP_CONST_MAX - 8)];
		r->t[dst] = !((a ^ b) & mask);
		break;
	}
	case LP_OP_AND:
		r->t[dst] = r->t[dst] && r->t[src & (LP_NTMP - 1)];
		break;
	case LP_OP_OR:
		r->t[dst] = r->t[dst] || r->t[src & (LP_NTMP - 1)];
		break;
	case LP_OP_NOT:
		r->t[dst] = !r->t[src & (LP_NTMP - 1)];
		break;
	case LP_OP_FILTER:
		if (!r->t[src & (LP_NTMP - 1)]) {
			r->drop = true;
			return 1;
		}
		break;
	case LP_OP_FAULTED:
		r->t[dst] = faulted(s, op->slot);
		break;
	case LP_OP_DATA:
		switch (op->size) {
		case 1:
			r->t[dst] = *(__u8 *)&s->data[out];
			break;
		case 2:
			r->t[dst] = *(__u16 *)&s->data[out];
			break;
		case 4:
			r->t[dst] = *(__u32 *)&s->data[out];
			break;
		default:
			r->t[dst] = *(__u64 *)&s->data[out];
			break;
		}
		break;
	case LP_OP_MULI:
		r->t[dst] = r->t[src & (LP_NTMP - 1)] * (__s64)op->imm;
		break;
	case LP_OP_SKIPZ:
		if (!r->t[src & (LP_NTMP - 1)])
			r->skip_to = idx + 1 + op->imm;
		break;
	case LP_OP_REGSTORE:
		v = src < LP_NREGS ? s->regs[src] : 0;
		if (op->size == 1)
			*(__u8 *)&s->data[out] = v;
		else if (op->size == 2)
			*(__u16 *)&s->data[out] = v;
		else if (op->size == 4)
			*(__u32 *)&s->data[out] = v;
		else
			*(__u64 *)&s->data[out] = v;
		break;
	case LP_OP_REGSTR: {
		struct lp_var var = {.off = r->vpos, .len = 0};
		__u32 img = op->imm & (LP_DATA_MAX - 1);
		__u64 ptr = src < LP_NREGS ? s->regs[src] : 0;
		__u64 want = op->dst < LP_NREGS ? s->regs[op->dst] : 0;

		*(__u64 *)&s->data[img] = ptr;
		*(__u64 *)&s->data[(img + 8) & (LP_DATA_MAX - 1)] = want;
		if (want) {
			n = op->size;
			if (want < n)
				n = want;
			if (n > LP_DATA_MAX - r->vpos) {
				n = LP_DATA_MAX - r->vpos;
				s->rec.flags |= LP_RF_TRUNC;
			}
			n &= LP_COPY_MAX - 1;
			if (n && copy_user(s, r->vpos, n, ptr)) {
				fault(s, op->slot);
				n = 0;
			}
			var.len = n;
			r->vpos += n;
		}
		*(struct lp_var *)&s->data[out] = var;
		break;
	}
	case LP_OP_CONST:
		r->t[dst] = *(__u64 *)&p->consts[op->imm & (LP_CONST_MAX - 8)];
		break;
	case LP_OP_FAULT:
		/* not a read that faulted: the value is marked, the fault counter is not */
		if (r->t[src & (LP_NTMP - 1)])
			s->rec.faults |= 1ULL << (op->slot & (LP_MAX_SLOTS - 1));
		break;
	case LP_OP_MAPGET:
		if (HAS(LP_FEAT_MAPS)) {
			r->lookup = idx + 1;
			return 1;
		}
		/* not loaded (the compiler refuses it then): unreadable, never the header */
		r->t[dst] = 0;
		s->data[out] = LP_MS_FAULT;
		s->rec.faults |= 1ULL << (op->slot & (LP_MAX_SLOTS - 1));
		break;
	case LP_OP_SEXT:
		v = r->t[src & (LP_NTMP - 1)];
		if (op->size == 1)
			v = (__s64)(__s8)v;
		else if (op->size == 2)
			v = (__s64)(__s16)v;
		else if (op->size == 4)
			v = (__s64)(__s32)v;
		r->t[dst] = v;
		break;
	}
	return 0;
}

static int run_op_cb(__u32 i, void *ctx)
{
	return lp_op(i, ctx) ? 1 : 0;
}

static __always_inline void run_ops(struct run *r, __u32 first, __u32 n)
{
	__u32 k, at;

	r->first = first;
	r->end = first + n;
	r->skip_to = 0;
	r->lookup = 0;
	if (!n)
		return;
	bpf_loop(n, run_op_cb, r, 0);
	if (!HAS(LP_FEAT_MAPS))
		return;
	for (k = 0; k < LP_MAX_LOOKUPS && r->lookup; k++) {
		at = r->lookup - 1;
		r->lookup = 0;
		lp_mapget(r, at);
		if (at + 1 >= r->end)
			break;
		r->first = at + 1;
		bpf_loop(r->end - r->first, run_op_cb, r, 0);
	}
}

/* Goroutine id of g; on the system stack (goid 0), the user goroutine's. */
static __always_inline __u64 goid_of(const struct lp_plan *p, __u64 g, __u64 *user_g, __u16 *flags)
{
	__u64 goid, m, curg;

	*user_g = g;
	if (!g)
		return 0;
	goid = read_u64(g + p->goid_off);
	if (goid)
		return goid;
	m = read_u64(g + p->m_off);
	curg = m ? read_u64(m + p->curg_off) : 0;
	if (!curg)
		return 0;
	*flags |= LP_RF_G0;
	*user_g = curg;
	return read_u64(curg + p->goid_off);
}

/* An integer image of the record, sign-extended when signed. */
static __always_inline __s64 data_int(struct scratch *s, __u16 off, __u8 size, bool sgn)
{
	__u32 o = off & (LP_DATA_MAX - 1);

	if (size == 1)
		return sgn ? (__s64) * (__s8 *)&s->data[o] : *(__u8 *)&s->data[o];
	if (size == 2)
		return sgn ? (__s64) * (__s16 *)&s->data[o] : *(__u16 *)&s->data[o];
	if (size == 4)
		return sgn ? (__s64) * (__s32 *)&s->data[o] : *(__u32 *)&s->data[o];
	return *(__s64 *)&s->data[o];
}

/* bucket 0: negative, 1: zero, 2+k: [2^k, 2^(k+1)); an unsigned value is never negative */
static __always_inline __u32 log2_bucket(__s64 v, bool sgn)
{
	__u64 x = v;
	__u32 b = 0;

	if (sgn && v < 0)
		return 0;
	if (v == 0)
		return 1;
	if (x >> 32) {
		x >>= 32;
		b += 32;
	}
	if (x >> 16) {
		x >>= 16;
		b += 16;
	}
	if (x >> 8) {
		x >>= 8;
		b += 8;
	}
	if (x >> 4) {
		x >>= 4;
		b += 4;
	}
	if (x >> 2) {
		x >>= 2;
		b += 2;
	}
	if (x >> 1)
		b += 1;
	return 2 + b;
}

struct agg_run {
	__u32 slot; /* scratch slot index */
	__u32 plan; /* plan index */
	__u64 latency;
};

/* A global function, verified once, like lp_op. */
__noinline int lp_agg(__u32 i, struct agg_run *ar)
{
	/* key16 is a prefix of key (id, bucket, 8 bytes): one buffer, the stack is tight */
	union {
		struct lp_agg_key key;
		struct lp_agg_key16 key16;
	} k, *a = &k;
	const struct lp_agg_spec *sp;
	struct lp_agg_val init = {}, *v;
	const struct lp_plan *p;
	struct scratch *s;
	__u32 slot, plan;
	__s64 val = 1;
	__u64 lo, d;
	bool sgn;

	if (!ar || i >= LP_MAX_AGGS)
		return 1;
	slot = ar->slot;
	plan = ar->plan;
	s = bpf_map_lookup_elem(&scratch, &slot);
	p = bpf_map_lookup_elem(&plans, &plan);
	if (!s || !p)
		return 1;
	sp = &p->aggs[i];
	if (sp->kind == LP_AGG_NONE)
		return 1;
	/* an unreadable key or value is not counted as anything */
	if ((sp->key_src == LP_AS_INT || sp->key_src == LP_AS_STR) &&
	    (s->rec.faults & (1ULL << (sp->key_slot & 63))))
		return 0;
	if (sp->val_src == LP_AS_INT && (s->rec.faults & (1ULL << (sp->val_slot & 63))))
		return 0;
	__builtin_memset(&a->key, 0, sizeof(a->key));
	a->key.id = sp->id;
	if (sp->key_src == LP_AS_REG) {
		*(__u64 *)a->key.key = s->regs[sp->key_off < LP_NREGS ? sp->key_off : LP_REG_PID];
	} else if (sp->key_src == LP_AS_COMM) {
		*(__u64 *)a->key.key = s->regs[LP_REG_COMM0];
		*(__u64 *)&a->key.key[8] = s->regs[LP_REG_COMM1];
	} else if (sp->key_src == LP_AS_STACK) {
		struct lp_stack_key *sk = (struct lp_stack_key *)a->key.key;

		/* a stack that could not be captured is a key of its own, never dropped */
		sk->flags = s->rec.flags & (LP_RF_STACK | LP_RF_BIAS);
		sk->stack_id = (s->rec.flags & LP_RF_STACK) ? s->rec.stack_id : -1;
		sk->plan = s->rec.plan;
		sk->stack_ret = (s->rec.flags & LP_RF_STACK) ? s->rec.stack_ret : 0;
		sk->bias = s->rec.bias;
	} else if (sp->key_src == LP_AS_INT) {
		*(__s64 *)a->key.key = data_int(s, sp->key_off, sp->key_size, sp->sign & 2);
	} else if (sp->key_src == LP_AS_STR) {
		struct lp_var var = *(struct lp_var *)&s->data[sp->key_off & (LP_DATA_MAX - 1)];
		__u32 n = var.len < LP_AGG_KEYLEN ? var.len : LP_AGG_KEYLEN;

		if (n)
			bpf_probe_read_kernel(a->key.key, n & 63,
					      &s->data[var.off & (LP_DATA_MAX - 1)]);
	} else if (sp->key_src == LP_AS_PLAN) {
		*(__u32 *)a->key.key = s->rec.plan;
	}
	/* the value's Go signedness decides every comparison; latency is unsigned */
	sgn = sp->val_src == LP_AS_INT && (sp->sign & 1);
	if (sp->val_src == LP_AS_INT)
		val = data_int(s, sp->val_off, sp->val_size, sgn);
	else if (sp->val_src == LP_AS_LATENCY)
		val = ar->latency;
	if (sp->kind == LP_AGG_HIST) {
		a->key.bucket = log2_bucket(val, sgn);
	} else if (sp->kind == LP_AGG_LHIST) {
		/* a uint64 from 2^63 up is above any int64 bound; max - min needs 64 bits */
		bool above = !sgn && val < 0;

		d = (__u64)val - (__u64)sp->lmin;
		if (sp->lstep <= 0 || (!above && val < sp->lmin))
			a->key.bucket = 0;
		else if (above || d / (__u64)sp->lstep >= sp->lcount)
			a->key.bucket = sp->lcount + 1;
		else
			a->key.bucket = 1 + d / (__u64)sp->lstep;
	}
	if (sp->key_src != LP_AS_STR && sp->key_src != LP_AS_COMM && sp->key_src != LP_AS_STACK) {
		v = bpf_map_lookup_elem(&aggs16, &a->key16);
		if (!v) {
			bpf_map_update_elem(&aggs16, &a->key16, &init, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&aggs16, &a->key16);
		}
	} else {
		v = bpf_map_lookup_elem(&aggs, &a->key);
		if (!v) {
			bpf_map_update_elem(&aggs, &a->key, &init, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&aggs, &a->key);
		}
	}
	if (!v) {
		stat_inc(LP_STAT_AGG_FULL);
		return 0;
	}
	/*
	 * A new key has zeroed slots on every CPU, also those of CPUs that
	 * did not create it: the first value a slot sees is its min and max.
	 */
	if (!v->count || (sgn ? val < v->min : (__u64)val < (__u64)v->min))
		v->min = val;
	if (!v->count || (sgn ? val > v->max : (__u64)val > (__u64)v->max))
		v->max = val;
	v->count += 1;
	/* 128-bit sum: add the value sign- or zero-extended, with the carry */
	lo = v->sum + (__u64)val;
	v->sum_hi += (lo < v->sum) - (sgn && val < 0);
	v->sum = lo;
	return 0;
}

static int run_agg_cb(__u32 i, void *ctx)
{
	return lp_agg(i, ctx) ? 1 : 0;
}

static __always_inline void run_aggs(struct run *r, const struct lp_plan *p, __u64 latency)
{
	struct agg_run a = {.slot = r->slot, .plan = r->plan, .latency = latency};

	if (!HAS(LP_FEAT_AGGS) || !p->naggs)
		return;
	bpf_loop(p->naggs, run_agg_cb, &a, 0);
}

/* Bytes this CPU produced since it last woke the consumer. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} produced SEC(".maps");

/*
 * The lineage goes last, where the decoder looks for it (no room: not sent).
 * The new length of the data. A global function: emit is inlined in many paths.
 */
__noinline __u32 lp_add_lineage(__u32 slot, __u32 len)
{
	struct scratch *s = bpf_map_lookup_elem(&scratch, &slot);

	if (!s)
		return len;
	if (len > LP_DATA_MAX - sizeof(struct lp_lineage)) {
		s->rec.flags &= ~LP_RF_LINEAGE;
		return len;
	}
	*(struct lp_lineage *)&s->data[len & (LP_DATA_MAX - 1)] = s->lineage;
	return len + sizeof(struct lp_lineage);
}

static __always_inline void emit(struct scratch *s, __u32 slot, __u32 len)
{
	__u64 fl = BPF_RB_NO_WAKEUP, *bytes;
	__u32 zero = 0;

	if (HAS(LP_FEAT_SCOPES) && (s->rec.flags & LP_RF_LINEAGE))
		len = lp_add_lineage(slot, len);
	s->rec.data_len = len;
	len = (len & (LP_DATA_MAX * 2 - 1)) + sizeof(struct lp_rec);
	if (len > sizeof(struct lp_rec) + LP_DATA_MAX)
		len = sizeof(struct lp_rec) + LP_DATA_MAX;
	/*
	 * A wakeup costs microseconds, so records are not woken one by one: the
	 * consumer drains every few milliseconds, each CPU wakes it once per
	 * wakeup_bytes it produces (so a fast stream cannot fill the ring between
	 * drains), and the first record after a quiet spell wakes it at once.
	 * Asking the ring how full it is would read the consumer's cache line
	 * on every event.
	 */
	bytes = bpf_map_lookup_elem(&produced, &zero);
	if (bytes) {
		*bytes += len;
		if (*bytes >= wakeup_bytes) {
			*bytes = 0;
			fl = BPF_RB_FORCE_WAKEUP;
		}
	}
	if (consumer_idle) {
		consumer_idle = 0;
		fl = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&rb, &s->rec, len, fl))
		stat_inc(LP_STAT_LOST);
}

#include "scope.bpf.h"

static __always_inline void call_key(struct lp_call_key *key, const struct lp_plan *p,
				     struct scratch *s, __u32 pid, __u32 plan, __u64 g)
{
	key->pid = pid;
	key->plan = plan;
	key->g = g;
	key->depth = read_u64(g + p->stackhi_off) - s->regs[LP_REG_SP];
}

/*
 * The load bias of a PIE plan's binary in this process, from where the
 * probe fired (the kernel reports the probed instruction's address as ip):
 * the site is at the function's entry plus the cookie's offset, or, for a
 * call site (a CALL rel32 of the function), its target is the entry. Every
 * event carries it, so nothing is looked up later, when the process may be
 * gone or running another image.
 */
static __always_inline void rec_bias(struct lp_rec *rec, const struct lp_plan *p, __u64 cookie,
				     __u64 ip)
{
	__u32 off = LP_COOKIE_SITEOFF(cookie);
	__u64 w;

	if (!(p->flags & LP_PF_PIE))
		return;
	if (LP_COOKIE_SITE(cookie) == LP_SITE_CALL) {
		/* bytes ip+1..ip+4 are the rel32 (the breakpoint replaced only ip's) */
		w = read_u64(ip - 3);
		if (!w)
			return;
		rec->bias = ip + 5 + (__s64)(__s32)(w >> 32) - p->entry;
	} else if (off != LP_SITEOFF_NONE) {
		rec->bias = ip - p->entry - off;
	} else {
		return;
	}
	rec->flags |= LP_RF_BIAS;
}

/* Distance of SP from the top of g's stack: unlike SP, it survives stack copying. */
static __always_inline __u64 frame_depth(const struct lp_plan *p, struct scratch *s, __u64 g)
{
	return read_u64(g + p->stackhi_off) - s->regs[LP_REG_SP];
}

/*
 * A paired call that `where` or `within` turns away at entry still leaves a
 * mark in `calls`, so that its return is known for what it is: not a return
 * whose entry went missing (begun before the probe, or evicted), which is
 * counted as unmatched.
 */
static __always_inline void mark_rejected(const struct lp_plan *p, struct scratch *s, __u64 g)
{
	struct lp_call_key key;

	if (!(p->flags & LP_PF_PAIR))
		return;
	s->rec.flags |= LP_RF_REJECTED;
	s->rec.data_len = 0;
	call_key(&key, p, s, s->rec.pid, s->rec.plan, g);
	if (bpf_map_update_elem(&calls, &key, &s->rec, BPF_ANY))
		stat_inc(LP_STAT_CALLS_FULL);
}

/* Who made the call, for predicates and aggregation keys (LP_PF_CTX). */
static __always_inline void set_ctx_regs(const struct lp_plan *p, struct scratch *s)
{
	if (!(p->flags & LP_PF_CTX))
		return;
	s->regs[LP_REG_PID] = s->rec.pid;
	s->regs[LP_REG_TID] = s->rec.tid;
	s->regs[LP_REG_GOID] = s->rec.goid;
	s->regs[LP_REG_COMM0] = 0;
	s->regs[LP_REG_COMM1] = 0;
	bpf_get_current_comm(&s->regs[LP_REG_COMM0], 16);
}

/*
 * Entry and return are global functions too, verified once each instead of
 * inline in every path of lp_uprobe: that halves the time the kernel spends
 * loading the program, which every start of luprobe waits for.
 */
__noinline int lp_entry(struct pt_regs *ctx, __u64 cookie, __u32 slot, __u32 enabled)
{
	__u32 site = LP_COOKIE_SITE(cookie), idx = LP_COOKIE_PLAN(cookie);
	const struct lp_plan *p = bpf_map_lookup_elem(&plans, &idx);
	struct scratch *s = bpf_map_lookup_elem(&scratch, &slot);

	struct run r = {};
	struct lp_call_key key;
	__u64 user_g, depth = 0;
	__u64 pid_tgid;
	bool light;

	if (!ctx || !p || !s)
		return 0;
	/* a plan that only feeds aggregations needs no time, process or goroutine */
	light = (p->flags & LP_PF_NOEVENT) &&
		!(p->flags & (LP_PF_PAIR | LP_PF_SCOPE | LP_PF_WITHIN | LP_PF_STACK | LP_PF_CTX));

	s->rec.type = LP_REC_ENTRY;
	s->rec.flags = 0;
	s->rec.plan = LP_COOKIE_PLAN(cookie);
	s->rec.faults = 0;
	if (light && enabled) {
		r.s = s;
		r.p = p;
		r.slot = slot;
		r.plan = LP_COOKIE_PLAN(cookie);
		r.vpos = p->data_fixed;
		run_ops(&r, 0, p->nentry);
		if (r.drop) {
			stat_inc(LP_STAT_FILTERED);
			return 0;
		}
		run_aggs(&r, p, 0);
		return 0;
	}
	pid_tgid = bpf_get_current_pid_tgid();
	s->rec.pid = pid_tgid >> 32;
	s->rec.tid = (__u32)pid_tgid;
	s->rec.ts = bpf_ktime_get_ns();
	s->rec.latency = 0;
	s->rec.faults = 0;
	s->rec.stack_id = -1;
	s->rec.stack_ret = 0;
	s->rec.bias = 0;
	rec_bias(&s->rec, p, cookie, s->regs[LP_REG_IP]);
	/* A probe on a call site runs before CALL pushes the return address. */
	if (site == LP_SITE_CALL)
		s->regs[LP_REG_SP] -= 8;

	r.s = s;
	r.p = p;
	r.slot = slot;
	r.plan = LP_COOKIE_PLAN(cookie);
	r.vpos = p->data_fixed;
	r.g = current_g(p, s, cookie);
	s->rec.goid = goid_of(p, r.g, &user_g, &s->rec.flags);
	set_ctx_regs(p, s);

	if (HAS(LP_FEAT_SCOPES) && (p->flags & (LP_PF_WITHIN | LP_PF_SCOPE)))
		depth = frame_depth(p, s, r.g);
	if (HAS(LP_FEAT_SCOPES) && enabled && (p->flags & LP_PF_WITHIN) &&
	    !lp_inside(slot, r.plan, r.g, user_g, depth)) {
		stat_inc(LP_STAT_OUTSIDE);
		mark_rejected(p, s, r.g);
		return 0;
	}

	run_ops(&r, 0, p->nentry);
	if (r.drop) {
		stat_inc(LP_STAT_FILTERED);
		mark_rejected(p, s, r.g);
		return 0;
	}

	if (HAS(LP_FEAT_SCOPES) && (p->flags & LP_PF_SCOPE))
		scope_open(s->rec.pid, r.g, r.g == user_g ? s->rec.goid : 0, p->probe, depth,
			   p->flags & LP_PF_SCOPE_SPAWN);

	if (HAS(LP_FEAT_STACKS) && enabled && (p->flags & LP_PF_STACK)) {
		long id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);

		if (id >= 0) {
			s->rec.stack_id = id;
			/* at a call site the walk starts in the caller: nothing to add */
			s->rec.stack_ret = site == LP_SITE_CALL ? 0 : read_u64(s->regs[LP_REG_SP]);
			s->rec.flags |= LP_RF_STACK;
		} else {
			stat_inc(LP_STAT_STACK_ERR);
		}
	}

	s->rec.data_len = r.vpos;
	if (p->flags & LP_PF_PAIR) {
		call_key(&key, p, s, s->rec.pid, s->rec.plan, r.g);
		if (bpf_map_update_elem(&calls, &key, &s->rec, BPF_ANY))
			stat_inc(LP_STAT_CALLS_FULL);
	}
	if (!enabled)
		return 0;
	if (!(p->flags & LP_PF_PAIR))
		run_aggs(&r, p, 0);
	if ((p->flags & LP_PF_ENTRY_EVENT) || !(p->flags & (LP_PF_PAIR | LP_PF_NOEVENT)))
		emit(s, slot, r.vpos);
	return 0;
}

__noinline int lp_return(struct pt_regs *ctx, __u64 cookie, __u32 slot, __u32 enabled)
{
	__u32 idx = LP_COOKIE_PLAN(cookie);
	const struct lp_plan *p = bpf_map_lookup_elem(&plans, &idx);
	struct scratch *s = bpf_map_lookup_elem(&scratch, &slot);
	struct run r = {};
	struct lp_call_key key;
	struct lp_rec *entry;
	__u64 now = bpf_ktime_get_ns(), user_g, goid;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u16 gflags = 0;
	__u32 len;

	if (!ctx || !p || !s)
		return 0;
	r.s = s;
	r.p = p;
	r.slot = slot;
	r.plan = LP_COOKIE_PLAN(cookie);
	r.g = current_g(p, s, cookie);
	goid = goid_of(p, r.g, &user_g, &gflags);
	call_key(&key, p, s, pid_tgid >> 32, LP_COOKIE_PLAN(cookie), r.g);
	if (HAS(LP_FEAT_SCOPES) && (p->flags & LP_PF_SCOPE))
		scope_close(key.pid, r.g, r.g == user_g ? goid : 0, p->probe, key.depth);
	if (!(p->flags & LP_PF_PAIR))
		return 0;
	entry = bpf_map_lookup_elem(&calls, &key);

	if (entry && (entry->flags & LP_RF_REJECTED)) {
		/* turned away at entry: nothing to pair, nothing lost */
		bpf_map_delete_elem(&calls, &key);
		return 0;
	}
	if (!entry) {
		/* begun before the probe was attached or enabled, or evicted */
		if ((p->flags & LP_PF_PAIR) && enabled)
			stat_inc(LP_STAT_UNMATCHED);
		if (!enabled || !(p->flags & LP_PF_ENTRY_EVENT))
			return 0;
		s->rec.type = LP_REC_RET;
		s->rec.flags = LP_RF_NOENTRY | gflags;
		s->rec.plan = key.plan;
		s->rec.pid = key.pid;
		s->rec.tid = (__u32)pid_tgid;
		s->rec.ts = now;
		s->rec.latency = 0;
		s->rec.goid = goid;
		s->rec.faults = 0;
		s->rec.stack_id = -1;
		s->rec.stack_ret = 0;
		s->rec.bias = 0;
		rec_bias(&s->rec, p, cookie, s->regs[LP_REG_IP]);
		r.vpos = p->data_fixed;
	} else {
		if (!enabled) {
			/* disabled since the call began */
			bpf_map_delete_elem(&calls, &key);
			return 0;
		}
		len = entry->data_len;
		if (len > LP_DATA_MAX)
			len = LP_DATA_MAX;
		bpf_probe_read_kernel(&s->rec, sizeof(struct lp_rec), entry);
		bpf_probe_read_kernel(s->data, len & (LP_DATA_MAX - 1), (void *)(entry + 1));
		bpf_map_delete_elem(&calls, &key);
		s->rec.type = (p->flags & LP_PF_ENTRY_EVENT) ? LP_REC_RET : LP_REC_CALL;
		s->rec.latency = now - s->rec.ts;
		r.vpos = len & (LP_DATA_MAX - 1);
	}
	s->regs[LP_REG_LATENCY] = s->rec.latency;
	set_ctx_regs(p, s);
	s->rec.flags &= ~LP_RF_LINEAGE;
	if (HAS(LP_FEAT_SCOPES) && (p->flags & LP_PF_SPAWNED))
		lp_return_lineage(slot, r.plan, r.g, user_g, goid);

	run_ops(&r, p->nentry, p->nret);
	if (r.drop) {
		stat_inc(LP_STAT_FILTERED);
		return 0;
	}
	run_aggs(&r, p, s->rec.latency);
	if (!(p->flags & LP_PF_NOEVENT))
		emit(s, slot, r.vpos);
	return 0;
}

static __always_inline struct scratch *claim_scratch(__u32 *slot)
{
	struct scratch *s;
	__u32 i;

	for (i = 0; i < LP_NSCRATCH; i++) {
		s = bpf_map_lookup_elem(&scratch, &i);
		if (s && __sync_val_compare_and_swap(&s->busy, 0, 1) == 0) {
			*slot = i;
			return s;
		}
	}
	stat_inc(LP_STAT_NESTED);
	return NULL;
}

/* The processes traced by pid (-p, --, attach(pid)): an exec replaces their probes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct lp_watch);
} watched SEC(".maps");

#define LP_SIGSTOP 19

/*
 * A uprobe link made for a pid keeps the task it was made for; when a
 * thread other than the leader executes a new image, that thread becomes
 * the leader and the old one is freed, so the link never fires again. Each
 * exec of a watched process is reported, so luprobe attaches its probes
 * again, and a process luprobe launched is stopped here, before its first
 * instruction, until they are back. A report that does not fit in the ring
 * is counted, and the process is not stopped: nobody would resume it.
 */
SEC("raw_tracepoint/sched_process_exec")
int lp_exec(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct lp_watch *w = bpf_map_lookup_elem(&watched, &tgid);
	struct lp_rec rec = {};

	if (!w)
		return 0;
	if (w->skip) {
		w->skip--;
		return 0;
	}
	rec.type = LP_REC_EXEC;
	rec.pid = tgid;
	rec.tid = (__u32)pid_tgid;
	rec.ts = bpf_ktime_get_ns();
	rec.stack_id = -1;
	if (bpf_ringbuf_output(&rb, &rec, sizeof(rec), BPF_RB_FORCE_WAKEUP)) {
		stat_inc(LP_STAT_EXEC_LOST);
		return 0;
	}
	if (w->hold)
		bpf_send_signal(LP_SIGSTOP);
	return 0;
}

SEC("uprobe")
int lp_uprobe(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 site = LP_COOKIE_SITE(cookie), idx = LP_COOKIE_PLAN(cookie);
	const struct lp_plan *p;
	struct lp_probe_state *ps;
	struct scratch *s;
	__u32 slot = 0;
	bool enabled;

	if (site == LP_SITE_JCC && cc_holds(LP_COOKIE_CC(cookie), ((struct lp_regs *)ctx)->flags) !=
					   LP_COOKIE_CC_NEG(cookie)) {
		stat_inc(LP_STAT_MORESTACK);
		return 0;
	}
	p = bpf_map_lookup_elem(&plans, &idx);
	if (!p) {
		stat_inc(LP_STAT_NOPLAN);
		return 0;
	}
	if (HAS(LP_FEAT_SCOPES) && site == LP_SITE_RECOVER) {
		/* belongs to no probe: every scope of the binary depends on it */
		lp_recover(idx, ((struct lp_regs *)ctx)->sp, bpf_get_current_pid_tgid() >> 32);
		return 0;
	}
	if (HAS(LP_FEAT_SCOPES) && (site == LP_SITE_SPAWN || site == LP_SITE_GOEXIT)) {
		/* belong to no probe either: every spawned scope of the binary depends on them */
		lp_goroutine(ctx, idx, site == LP_SITE_SPAWN);
		return 0;
	}
	ps = bpf_map_lookup_elem(&probes, &p->probe);
	enabled = ps && ps->enabled;
	/* a disabled probe still finishes its calls' state and its scopes */
	if (!enabled && !(p->flags & (LP_PF_PAIR | LP_PF_SCOPE))) {
		stat_inc(LP_STAT_DISABLED);
		return 0;
	}
	s = claim_scratch(&slot);
	if (!s)
		return 0;
	save_regs(s, ctx);
	if (site == LP_SITE_RET)
		lp_return(ctx, cookie, slot, enabled);
	else if (enabled || (p->flags & LP_PF_SCOPE))
		lp_entry(ctx, cookie, slot, enabled);
	/* on x86 a plain store releases: the CPU does not move it before the writes above */
	asm volatile("" ::: "memory");
	s->busy = 0;
	return 0;
}
