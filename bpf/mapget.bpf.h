/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Go map lookups of luprobe's uprobe program (LP_OP_MAPGET, a field path
 * m["key"]). Included once, by luprobe.bpf.c, before the op interpreter:
 * one compilation unit, split for reading.
 *
 * Go seeds every map's hash with a random number of its own, so the key is
 * not hashed here: every full slot's key is compared, one bucket (hmap) or
 * group (swiss table) per loop step, at most LP_MAP_GROUPS of them. What is
 * read:
 *   hmap (runtime/map.go, Go <= 1.23 and noswissmap builds): count 0, B 9,
 *     buckets 16, oldbuckets 24 (while growing: the old array, half the size
 *     or, flags & sameSizeGrow, the same). A bucket: tophash[8] (a full slot
 *     has tophash >= minTopHash 5; an evacuated one 2..4), keys, elems, and
 *     its overflow bucket last. Both arrays are scanned while growing: an
 *     entry is in exactly one full slot of the two.
 *   swiss (internal/runtime/maps, Go 1.24+): Map used 0, dirPtr 16, dirLen
 *     24; dirLen 0: dirPtr is one group. Else dirPtr holds dirLen table
 *     pointers (a table may fill several entries, contiguous); a table's
 *     groups array is at 16, its lengthMask at 24. A group: a control word
 *     (byte i for slot i: full when the high bit is clear) and 8 slots.
 */
#ifndef LUPROBE_MAPGET_BPF_H
#define LUPROBE_MAPGET_BPF_H

#define MAP_MIN_TOPHASH	   5
#define MAP_SAME_SIZE_GROW 8

/*
 * The state of one lookup, per CPU and scratch slot (a preempted run keeps
 * its own): not on the stack, where the frames of the op interpreter and of
 * the site's program below it leave too little of the 512 bytes.
 */
struct mapscan {
	__u32 plan;
	__u32 desc; /* offset of the struct lp_mapdesc in the plan's constants */
	union {
		__u64 hdr[4]; /* the map's header words 0..3, as first read */
		struct {
			__u64 cur;  /* bucket or group to scan next; 0: take the next one */
			__u64 base; /* the array of buckets or groups being scanned */
			__u64 old;  /* hmap: the old buckets, scanned after base; 0 if none */
			__u64 dir;  /* swiss: the directory */
		};
	};
	__u64 prev;   /* swiss: the table scanned last */
	__u64 word;   /* a word just read (here, not in the callback's frame) */
	__u16 idx, n; /* next of base's n buckets or groups */
	__u16 oldn;
	__u16 d, dirlen; /* swiss: next directory entry, and how many */
	__u16 groups;	 /* buckets or groups scanned */
	__u8 status;	 /* enum lp_map_status */
	/* of the struct lp_mapdesc */
	__u8 layout, indirect;
	__u16 keys, kstride, elems, estride, bsize;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LP_NSCRATCH);
	__type(key, __u32);
	__type(value, struct mapscan);
} mapscans SEC(".maps");

/* Read n (1..8) bytes of user memory into *v (zero-extended); non-zero on a fault. */
static __always_inline long map_read(__u64 *v, __u32 n, __u64 addr)
{
	*v = 0;
	return bpf_probe_read_user(v, n & 0xf, (void *)addr);
}

static __always_inline __u64 low_bytes(__u64 v, __u32 n)
{
	return n >= 8 ? v : v & ((1ULL << (n * 8)) - 1);
}

/*
 * Does the key of a full slot at addr equal the one described at the plan's
 * constants[desc]? -1 on a fault. A global function: the verifier checks it
 * once, not in each of the 8 slots of each group.
 */
__noinline int lp_mapkey(__u32 slot, __u64 addr)
{
	struct mapscan *m = bpf_map_lookup_elem(&mapscans, &slot);
	const struct lp_mapdesc *d;
	const struct lp_plan *p;
	/* a string key's header {ptr, len}, then its bytes 8 at a time in [1]: on the stack,
	 * which the kernel's usercopy check clears fastest (see user_bounce) */
	__u64 k2[2];
	__u32 k, n, klen, desc;

	if (!m)
		return -1;
	p = bpf_map_lookup_elem(&plans, &m->plan);
	desc = m->desc & (LP_CONST_MAX - 8);
	if (!p || desc > LP_CONST_MAX - sizeof(*d))
		return -1;
	d = (const struct lp_mapdesc *)&p->consts[desc];
	if (!d->str) {
		n = d->ksize;
		if (map_read(&k2[0], n, addr))
			return -1;
		return k2[0] == low_bytes(d->key, n);
	}
	klen = d->klen;
	if (bpf_probe_read_user(k2, sizeof(k2), (void *)addr))
		return -1;
	if (k2[1] != klen)
		return 0;
	for (k = 0; k < LP_MAPKEY_MAX / 8; k++) {
		if (k * 8 >= klen)
			break;
		n = klen - k * 8;
		if (n > 8)
			n = 8;
		if (map_read(&k2[1], n, k2[0] + k * 8))
			return -1;
		if (k2[1] !=
		    low_bytes(*(__u64 *)&p->consts[(desc + 16 + k * 8) & (LP_CONST_MAX - 8)], n))
			return 0;
	}
	return 1;
}

/* Scan the bucket or group at m->cur; 1 when the lookup ended (found or a fault). */
static __always_inline int scan_group(struct mapscan *m, __u32 slot)
{
	__u64 b = m->cur;
	__u32 j, c;
	int eq;

	if (map_read(&m->word, 8, b))
		return m->status = LP_MS_FAULT, 1;
	for (j = 0; j < 8; j++) {
		c = (m->word >> (8 * j)) & 0xff;
		if (m->layout == LP_MAP_HMAP ? c < MAP_MIN_TOPHASH : (c & 0x80))
			continue;
		eq = lp_mapkey(slot, b + m->keys + j * m->kstride);
		if (eq < 0)
			return m->status = LP_MS_FAULT, 1;
		if (!eq)
			continue;
		/* found: cur is the element's address */
		m->cur = b + m->elems + j * m->estride;
		if (m->indirect && map_read(&m->cur, 8, m->cur))
			return m->status = LP_MS_FAULT, 1;
		return m->status = LP_MS_FOUND, 1;
	}
	m->cur = 0;
	/* an hmap bucket's overflow chain */
	if (m->layout == LP_MAP_HMAP && map_read(&m->cur, 8, b + m->bsize - 8))
		return m->status = LP_MS_FAULT, 1;
	return 0;
}

/* Move to the next bucket or group; 1 when there is none (the key is absent) or on a fault. */
static __always_inline int next_group(struct mapscan *m)
{
	__u64 t;

	if (m->idx < m->n) {
		m->cur = m->base + (__u64)m->idx * m->bsize;
		m->idx++;
		return 0;
	}
	if (m->old) {
		m->base = m->old;
		m->n = m->oldn;
		m->idx = 0;
		m->old = 0;
		return 0;
	}
	if (m->d >= m->dirlen)
		return m->status = LP_MS_ABSENT, 1;
	if (map_read(&m->word, 8, m->dir + (__u64)m->d * 8))
		return m->status = LP_MS_FAULT, 1;
	t = m->word;
	m->d++;
	if (t == m->prev)
		return 0;
	m->prev = t;
	/* the table's groups: data, lengthMask */
	if (map_read(&m->base, 8, t + 16) || map_read(&m->word, 8, t + 24))
		return m->status = LP_MS_FAULT, 1;
	if (m->word >= LP_MAP_GROUPS)
		return m->status = LP_MS_TOOBIG, 1;
	m->n = m->word + 1;
	m->idx = 0;
	return 0;
}

/* One step; ctx: the scratch slot, which is the mapscans entry too. */
static int mapscan_cb(__u32 i, void *ctx)
{
	struct mapscan *m = bpf_map_lookup_elem(&mapscans, ctx);

	if (!m)
		return 1;
	/*
	 * The next bucket or group is scanned in the same step, also the first
	 * of a new table or of the old buckets; a directory entry that repeats
	 * the last table takes a step of its own.
	 */
	if (!m->cur && next_group(m))
		return 1;
	if (!m->cur && next_group(m))
		return 1;
	if (!m->cur)
		return 0;
	if (++m->groups > LP_MAP_GROUPS)
		return m->status = LP_MS_TOOBIG, 1;
	return scan_group(m, *(__u32 *)ctx);
}

/* The lookup itself: an enum lp_map_status; found: *m's cur is the element's address. */
static __always_inline __u32 lookup(struct mapscan *m, __u32 *slot, const struct lp_plan *p,
				    __u64 map)
{
	const struct lp_mapdesc *d;
	__u64 count, word1;

	if (m->desc > LP_CONST_MAX - sizeof(*d))
		return LP_MS_FAULT;
	d = (const struct lp_mapdesc *)&p->consts[m->desc];
	m->layout = d->layout;
	m->indirect = d->indirect;
	m->keys = d->keys;
	m->kstride = d->kstride;
	m->elems = d->elems;
	m->estride = d->estride;
	m->bsize = d->bsize;
	if (!map)
		return LP_MS_ABSENT;
	if (bpf_probe_read_user(m->hdr, sizeof(m->hdr), (void *)map))
		return LP_MS_FAULT;
	/* count (hmap) or used (swiss) first */
	count = m->hdr[0];
	word1 = m->hdr[1];
	if (!count)
		return LP_MS_ABSENT;
	if (count > LP_MAP_GROUPS * 8)
		return LP_MS_TOOBIG;
	if (m->layout == LP_MAP_HMAP) {
		__u32 B = (word1 >> 8) & 0xff, flags = word1 & 0xff;

		if (B > 5)
			return LP_MS_TOOBIG;
		/* hdr[2]: buckets, hdr[3]: oldbuckets */
		m->base = m->hdr[2];
		m->old = m->hdr[3];
		m->cur = 0;
		m->dir = 0;
		m->n = 1u << B;
		m->oldn = (flags & MAP_SAME_SIZE_GROW) || !B ? m->n : m->n / 2;
		if (m->old && m->n + m->oldn > LP_MAP_GROUPS)
			return LP_MS_TOOBIG;
	} else if (!m->hdr[3]) {
		/* hdr[2]: dirPtr, hdr[3]: dirLen; 0: dirPtr is the one group */
		m->cur = m->hdr[2];
		m->base = m->old = m->dir = 0;
	} else {
		if (m->hdr[3] > LP_MAP_STEPS)
			return LP_MS_TOOBIG;
		m->dirlen = m->hdr[3];
		m->dir = m->hdr[2];
		m->cur = m->base = m->old = 0;
	}
	m->status = LP_MS_TOOBIG;
	bpf_loop(LP_MAP_STEPS, mapscan_cb, slot, 0);
	return m->status;
}

/*
 * LP_OP_MAPGET at op idx of r's plan: t[dst] = the address of the element of
 * the key its constants describe in the Go map whose header t[src] points
 * to, 0 when absent or not read; the status goes to the record, and a map
 * that could not be read (or scanned) marks the op's slot.
 */
__noinline int lp_mapget(struct run *r, __u32 idx)
{
	const struct lp_plan *p;
	const struct lp_op *op;
	struct scratch *s;
	struct mapscan *m;
	__u32 st, slot, plan;

	if (!r)
		return 0;
	slot = r->slot;
	plan = r->plan;
	s = bpf_map_lookup_elem(&scratch, &slot);
	p = bpf_map_lookup_elem(&plans, &plan);
	m = bpf_map_lookup_elem(&mapscans, &slot);
	if (!s || !p || !m || idx >= LP_MAX_OPS)
		return 0;
	op = &p->ops[idx];
	if (op->code != LP_OP_MAPGET)
		return 0;
	m->plan = plan;
	m->desc = op->imm & (LP_CONST_MAX - 8);
	m->d = m->dirlen = m->groups = 0;
	m->idx = m->n = 0;
	m->prev = 0;
	st = faulted(s, op->slot) ? LP_MS_FAULT
				  : lookup(m, &slot, p, r->t[op->src & (LP_NTMP - 1)]);
	/* a map too big to scan is not a read that faulted: marked, not counted */
	if (st == LP_MS_FAULT)
		fault(s, op->slot);
	else if (st == LP_MS_TOOBIG)
		s->rec.faults |= 1ULL << (op->slot & (LP_MAX_SLOTS - 1));
	s->data[op->out & (LP_DATA_MAX - 1)] = st;
	r->t[op->dst & (LP_NTMP - 1)] = st == LP_MS_FOUND ? m->cur : 0;
	return 0;
}

#endif
