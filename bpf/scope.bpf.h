/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Scopes of luprobe's uprobe program (`within = q`, `spawned = true`): the
 * per-goroutine state, its map and the functions that open, close and test
 * it. Included once, by luprobe.bpf.c, after the scratch slots, the record
 * emitter and the goroutine helpers it uses: one compilation unit, split for
 * reading.
 */
#ifndef LUPROBE_SCOPE_BPF_H
#define LUPROBE_SCOPE_BPF_H

/*
 * Open scopes (`within = q`), per goroutine: for each scoping probe whose
 * call is live in the goroutine, the depth (g.stack.hi - SP at entry) of its
 * outermost live call. A frame is gone when its RET runs, when a recovered
 * panic resumes the goroutine above it (runtime.recovery), or when the
 * goroutine ends (the goid no longer matches: g structs are reused). Entries
 * exist only while a scope is open, so a plain hash with its misses counted
 * (LP_STAT_SCOPE_FULL) bounds the memory without ever evicting a live scope.
 *
 * A goroutine started while a scope that spawned goroutines inherit is open
 * (runtime.newproc) gets the scope as an inherited frame at depth 0, open
 * until it ends (runtime.goexit1 deletes its state), and passes it on to the
 * goroutines it starts.
 */
struct scope_key {
	__u32 pid;
	__u32 pad;
	__u64 g;
};

enum scope_frame_flags {
	SF_FOLLOW = 1 << 0,    /* goroutines started inside inherit it */
	SF_INHERITED = 1 << 1, /* opened in an ancestor goroutine (depth 0) */
};

struct scope_frame {
	__u32 probe;
	__u32 flags; /* enum scope_frame_flags */
	__u64 depth;
	__u64 root; /* the goroutine whose call opened it */
};

struct scope_state {
	__u64 goid;   /* the goroutine that owns g now (0 for g0 and gsignal) */
	__u64 parent; /* the goroutine that started it, when it inherited scopes */
	__u32 n;      /* frames in use */
	__u32 pad;
	struct scope_frame f[LP_SCOPE_FRAMES];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384); /* resized at load */
	__type(key, struct scope_key);
	__type(value, struct scope_state);
} scopes SEC(".maps");

static struct scope_state scope_empty; /* never written; static: not in the skeleton */

/* The scopes open in goroutine g, when they are its own: a g of an ended goroutine is reused. */
static __always_inline struct scope_state *scope_get(__u32 pid, __u64 g, __u64 goid)
{
	struct scope_key k = {.pid = pid, .g = g};
	struct scope_state *st = bpf_map_lookup_elem(&scopes, &k);

	if (st && st->goid != goid) {
		bpf_map_delete_elem(&scopes, &k);
		return NULL;
	}
	return st;
}

static __always_inline void scope_put(__u32 pid, __u64 g, struct scope_state *st)
{
	struct scope_key k = {.pid = pid, .g = g};

	if (!st->n)
		bpf_map_delete_elem(&scopes, &k);
}

/*
 * Forget the frames deeper than d (and at d with `at`): a goroutine that
 * runs at depth d has left every frame below it, however it left. The
 * frames are in the order of their depths (inherited ones, at 0, first): a
 * frame is opened only above those left after trimming to its depth, and
 * every removal but scope_close's is a trim, so this cuts the stack.
 */
static __always_inline void scope_trim(struct scope_state *st, __u64 d, bool at)
{
	__u32 i, n = st->n;

	for (i = 0; i < LP_SCOPE_FRAMES && i < n; i++)
		if (st->f[i].depth > d || (at && st->f[i].depth == d))
			break;
	st->n = i;
}

/* The frame of probe's scope in st: own frames only, or inherited ones too; -1: none. */
static __always_inline int scope_find(const struct scope_state *st, __u32 probe, bool inherited)
{
	__u32 i;

	for (i = 0; i < LP_SCOPE_FRAMES && i < st->n; i++)
		if (st->f[i].probe == probe && (inherited || !(st->f[i].flags & SF_INHERITED)))
			return i;
	return -1;
}

/*
 * A call of scoping probe `probe` begins at depth d: open its scope unless
 * the goroutine has one open itself (an inherited one does not count: the
 * call is the goroutine's own).
 */
static __always_inline void scope_open(__u32 pid, __u64 g, __u64 goid, __u32 probe, __u64 d,
				       bool follow)
{
	struct scope_key k = {.pid = pid, .g = g};
	struct scope_state *st = scope_get(pid, g, goid);
	__u32 n;

	if (!st) {
		/* inserted from .bss: the state would not fit on the BPF stack */
		if (bpf_map_update_elem(&scopes, &k, &scope_empty, BPF_NOEXIST) == 0)
			st = bpf_map_lookup_elem(&scopes, &k);
		if (!st) {
			stat_inc(LP_STAT_SCOPE_FULL);
			return;
		}
		st->goid = goid;
	}
	/* a frame of the same probe at d is a call whose RET was missed: the same scope */
	scope_trim(st, d, false);
	if (scope_find(st, probe, false) >= 0)
		return;
	n = st->n;
	if (n >= LP_SCOPE_FRAMES) {
		stat_inc(LP_STAT_SCOPE_FULL);
		return;
	}
	st->f[n].probe = probe;
	st->f[n].flags = follow ? SF_FOLLOW : 0;
	st->f[n].depth = d;
	st->f[n].root = goid;
	st->n = n + 1;
}

/* The call of `probe` at depth d returns: its scope, and anything below it, closes. */
static __always_inline void scope_close(__u32 pid, __u64 g, __u64 goid, __u32 probe, __u64 d)
{
	struct scope_state *st = scope_get(pid, g, goid);
	__u32 i, n;

	if (!st)
		return;
	scope_trim(st, d, false);
	/* the frames at d are last: probe's goes, the last takes its place (same depth) */
	n = st->n;
	for (i = n; i > 0 && i <= LP_SCOPE_FRAMES; i--) {
		if (st->f[i - 1].depth != d)
			break;
		if (st->f[i - 1].probe == probe) {
			st->f[i - 1] = st->f[(n - 1) & (LP_SCOPE_FRAMES - 1)];
			st->n = n - 1;
			break;
		}
	}
	scope_put(pid, g, st);
}

/*
 * Is the goroutine inside a call of probe `within`? g is the running g and
 * d the depth on its stack; user_g is the goroutine an event on the system
 * stack (g0, gsignal) runs for, whose scopes count too, at any depth. With
 * `spawned`, scopes inherited from the goroutines that started it count
 * too, and the goroutine's lineage is set in *ln.
 */
static __always_inline bool scope_inside(__u32 pid, __u64 g, __u64 goid, __u64 user_g,
					 __u64 user_goid, __u32 within, __u64 d, bool spawned,
					 struct lp_lineage *ln)
{
	struct scope_state *st = scope_get(pid, g, g == user_g ? user_goid : 0);
	int i = -1;

	if (st) {
		/* strictly inside: a frame at this depth or below has returned or unwound */
		scope_trim(st, d, true);
		i = scope_find(st, within, spawned);
		if (i >= 0) {
			ln->parent_goid = st->parent;
			ln->scope_goid = st->f[i & (LP_SCOPE_FRAMES - 1)].root;
		}
		scope_put(pid, g, st);
	}
	if (i < 0 && g != user_g) {
		st = scope_get(pid, user_g, user_goid);
		i = st ? scope_find(st, within, spawned) : -1;
		if (i >= 0) {
			ln->parent_goid = st->parent;
			ln->scope_goid = st->f[i & (LP_SCOPE_FRAMES - 1)].root;
		}
	}
	return i >= 0;
}

/* The lineage of the goroutine at a return of a spawned = true probe; false: not known. */
static __always_inline bool scope_lineage(__u32 pid, __u64 g, __u64 user_g, __u64 user_goid,
					  __u32 within, struct lp_lineage *ln)
{
	struct scope_state *st = scope_get(pid, user_g, user_goid);
	int i = st ? scope_find(st, within, true) : -1;

	if (i < 0 && g != user_g) {
		st = scope_get(pid, g, 0);
		i = st ? scope_find(st, within, true) : -1;
	}
	if (i < 0 || !st)
		return false;
	ln->parent_goid = st->parent;
	ln->scope_goid = st->f[i & (LP_SCOPE_FRAMES - 1)].root;
	return true;
}

/*
 * The runtime is about to queue newg, which the running goroutine (m.curg:
 * this runs on the system stack) started: newg inherits its open scopes that
 * spawned goroutines follow, inherited ones included, at depth 0. newg has
 * not run yet, so no state of its own can be lost.
 */
__noinline int lp_spawn(__u32 idx, __u32 pid, __u64 g, __u64 newg)
{
	const struct lp_plan *p = bpf_map_lookup_elem(&plans, &idx);
	struct scope_key k = {.pid = pid, .g = newg};
	struct scope_state *ps, *cs;
	__u64 user_g, goid, child;
	__u16 fl = 0;
	__u32 i, n = 0;

	if (!p || !g || !newg)
		return 0;
	goid = goid_of(p, g, &user_g, &fl);
	if (!goid)
		return 0;
	ps = scope_get(pid, user_g, goid);
	if (!ps)
		return 0;
	for (i = 0; i < LP_SCOPE_FRAMES && i < ps->n; i++)
		n += (ps->f[i].flags & SF_FOLLOW) != 0;
	if (!n)
		return 0;
	child = read_u64(newg + p->goid_off);
	bpf_map_delete_elem(&scopes, &k); /* a g of an ended goroutine, reused */
	if (bpf_map_update_elem(&scopes, &k, &scope_empty, BPF_NOEXIST) == 0)
		cs = bpf_map_lookup_elem(&scopes, &k);
	else
		cs = NULL;
	if (!cs) {
		stat_inc(LP_STAT_SPAWN_FULL);
		return 0;
	}
	cs->goid = child;
	cs->parent = goid;
	for (i = 0, n = 0; i < LP_SCOPE_FRAMES && i < ps->n; i++) {
		if (!(ps->f[i].flags & SF_FOLLOW))
			continue;
		cs->f[n & (LP_SCOPE_FRAMES - 1)] = ps->f[i];
		cs->f[n & (LP_SCOPE_FRAMES - 1)].flags = SF_FOLLOW | SF_INHERITED;
		cs->f[n & (LP_SCOPE_FRAMES - 1)].depth = 0;
		n++;
	}
	cs->n = n;
	return 0;
}

/*
 * A goroutine is about to be queued (spawn), or the running one ends
 * (runtime.goexit1): then its scopes, inherited or not, are gone.
 */
__noinline int lp_goroutine(struct pt_regs *ctx, __u32 idx, bool spawn)
{
	const struct lp_plan *p = bpf_map_lookup_elem(&plans, &idx);
	struct lp_regs *rg = (struct lp_regs *)ctx;
	struct scope_key k = {.pid = bpf_get_current_pid_tgid() >> 32};
	__u64 newg;

	if (!ctx || !p)
		return 0;
	k.g = p->gsrc == LP_G_R14 ? rg->r14 : tls_g(p);
	if (!k.g)
		return 0;
	if (!spawn) {
		bpf_map_delete_elem(&scopes, &k);
		return 0;
	}
	newg = p->newg_sp ? read_u64(rg->sp + p->newg_sp) : rg->bx;
	return lp_spawn(idx, k.pid, k.g, newg);
}

/*
 * runtime.recovery is about to resume the goroutine whose gobuf is the
 * argument of its CALL of gogo (at 0(SP): gogo is assembly, ABI0, in every
 * release), at gobuf.sp: every frame below that is gone.
 */
__noinline int lp_recover(__u32 idx, __u64 at_sp, __u32 pid)
{
	const struct lp_plan *p = bpf_map_lookup_elem(&plans, &idx);
	__u64 sched = read_u64(at_sp), gp, sp, hi, goid;
	struct scope_state *st;

	if (!p || !sched)
		return 0;
	gp = sched - p->sched_off;
	sp = read_u64(sched);
	hi = read_u64(gp + p->stackhi_off);
	goid = read_u64(gp + p->goid_off);
	if (!sp || sp > hi)
		return 0;
	st = scope_get(pid, gp, goid);
	if (!st)
		return 0;
	scope_trim(st, hi - sp, false);
	scope_put(pid, gp, st);
	return 0;
}

/*
 * The `within` test of an entry (1: inside), and its lineage with spawned =
 * true. A global function, verified once: its loops over the scope frames
 * would otherwise be verified in every path of lp_entry, and its state
 * stays out of lp_entry's frame, which is on the deepest path of calls (the
 * BPF stack of the whole chain is 512 bytes).
 */
__noinline int lp_inside(__u32 slot, __u32 plan, __u64 g, __u64 user_g, __u64 depth)
{
	struct scratch *s = bpf_map_lookup_elem(&scratch, &slot);
	const struct lp_plan *p = bpf_map_lookup_elem(&plans, &plan);
	bool spawned;

	if (!s || !p)
		return 0;
	spawned = p->flags & LP_PF_SPAWNED;
	if (!scope_inside(s->rec.pid, g, s->rec.goid, user_g, s->rec.goid, p->within, depth,
			  spawned, &s->lineage))
		return 0;
	if (spawned)
		s->rec.flags |= LP_RF_LINEAGE;
	return 1;
}

/* At a return of a spawned = true probe: the goroutine's lineage, when it is known. */
__noinline int lp_return_lineage(__u32 slot, __u32 plan, __u64 g, __u64 user_g, __u64 user_goid)
{
	struct scratch *s = bpf_map_lookup_elem(&scratch, &slot);
	const struct lp_plan *p = bpf_map_lookup_elem(&plans, &plan);

	if (!s || !p)
		return 0;
	s->rec.flags &= ~LP_RF_LINEAGE;
	if (scope_lineage(bpf_get_current_pid_tgid() >> 32, g, user_g, user_goid, p->within,
			  &s->lineage))
		s->rec.flags |= LP_RF_LINEAGE;
	return 0;
}

#endif /* LUPROBE_SCOPE_BPF_H */
