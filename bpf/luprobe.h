/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The contract between the BPF programs and user space: probe plans (what to
 * fetch at a probe site), ring-buffer records, map keys and counters.
 *
 * Plain fixed-width types only. The BPF side gets __u8.. from vmlinux.h;
 * user space gets them from <linux/types.h>, the one include below.
 *
 * A probe is data, not code. Every uprobe runs the same program; its BPF
 * cookie selects a plan (an array-map entry) and says what kind of site it
 * is. A plan is a short list of ops for a tiny register machine with LP_NTMP
 * 64-bit temporaries: load machine registers and memory, store values into
 * the record, copy bounded byte strings, evaluate a predicate.
 */
#ifndef LUPROBE_BPF_H
#define LUPROBE_BPF_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define LP_MAX_OPS     96    /* ops per plan (entry and return together) */
#define LP_MAX_AGGS    8     /* in-kernel aggregations fed by one plan */
#define LP_AGG_KEYS    16384 /* keys per aggregation map by default (--agg-keys) */
#define LP_AGG_KEYLEN  56    /* bytes of an aggregation key (a string key is cut there) */
#define LP_NTMP	       16    /* temporaries */
#define LP_DATA_MAX    4096  /* bytes of record data (power of two) */
#define LP_COPY_MAX    4096  /* largest single bounded copy (power of two) */
#define LP_CONST_MAX   256   /* predicate constants per plan */
#define LP_MAX_SLOTS   64    /* fault bits per record */
#define LP_STACK_DEPTH 64    /* frames kept per stack trace */
#define LP_NSCRATCH    4     /* scratch slots per CPU: a preempted run keeps its own */

#define LP_SCOPE_FRAMES 8 /* scopes (distinct `within` probes) open at once in one goroutine */

/*
 * Machine registers as the plan names them. 0..8 are the Go register-ABI
 * integer argument registers in ABI order, so a goabi register index is also
 * an LP_REG_ index.
 */
enum lp_reg {
	LP_REG_AX = 0,
	LP_REG_BX,
	LP_REG_CX,
	LP_REG_DI,
	LP_REG_SI,
	LP_REG_R8,
	LP_REG_R9,
	LP_REG_R10,
	LP_REG_R11,
	LP_REG_DX,
	LP_REG_BP,
	LP_REG_R12,
	LP_REG_R13,
	LP_REG_R14,
	LP_REG_R15,
	LP_REG_SP,
	LP_REG_IP,
	LP_REG_FLAGS,
	LP_REG_LATENCY, /* pseudo-register: the call's latency at a return site, 0 at entry */
	/* pseudo-registers of plans with LP_PF_CTX: who made the call */
	LP_REG_PID,   /* process (tgid) */
	LP_REG_TID,   /* thread */
	LP_REG_GOID,  /* goroutine id, 0 when not known */
	LP_REG_COMM0, /* bytes 0-7 of the thread's name (comm, zero-padded) */
	LP_REG_COMM1, /* bytes 8-15 */
	LP_NREGS,
};

enum lp_opcode {
	LP_OP_NOP = 0,
	LP_OP_REG,   /* t[dst] = reg[src] */
	LP_OP_IMM,   /* t[dst] = imm */
	LP_OP_ADD,   /* t[dst] = t[src] + imm */
	LP_OP_LOAD,  /* t[dst] = zero-extended `size`-byte user load at t[src] + imm */
	LP_OP_STORE, /* data[out..out+size) = low `size` bytes of t[src] */
	LP_OP_READ,  /* data[out..out+size) = user memory at t[src] + imm (size <= LP_COPY_MAX) */
	LP_OP_STR,  /* copy min(t[dst], size) bytes at t[src] to the var area; data[out] = lp_var */
	LP_OP_G,    /* t[dst] = current g (the plan says from R14 or from TLS) */
	LP_OP_CMP,  /* t[dst] = t[src] <cc> imm   (cc in size: enum lp_cmp) */
	LP_OP_CMPT, /* t[dst] = t[dst] <cc> t[src] */
	LP_OP_STRLEN,	/* t[dst] = bytes copied of the string whose lp_var is at data[out] */
	LP_OP_STRCHUNK, /* t[dst] = bytes [8*src, 8*src+size) of that string == consts[imm..] */
	LP_OP_AND,	/* t[dst] = t[dst] && t[src] */
	LP_OP_OR,	/* t[dst] = t[dst] || t[src] */
	LP_OP_NOT,	/* t[dst] = !t[src] */
	LP_OP_FILTER,	/* drop the event unless t[src] != 0 */
	LP_OP_FAULTED,	/* t[dst] = fault bit `slot` is set */
	LP_OP_DATA,	/* t[dst] = zero-extended `size`-byte value at data[out] */
	LP_OP_MULI,	/* t[dst] = t[src] * imm */
	LP_OP_SKIPZ,	/* if t[src] == 0, skip the next imm ops */
	LP_OP_SEXT,	/* t[dst] = t[src] sign-extended from `size` bytes */
	LP_OP_CONST,	/* t[dst] = the 8 bytes at consts[imm] */
	LP_OP_REGSTORE, /* data[out..out+size) = low `size` bytes of reg[src] */
	LP_OP_REGSTR,	/* a string in reg[src] (ptr) and reg[dst] (len): image at
			 * data[imm], bytes (at most size) to the var area, lp_var at data[out] */
	LP_OP_FAULT,	/* set fault bit `slot` if t[src] != 0 (a value that cannot be, as b[:n]
			 * with n beyond cap(b)) */
	LP_OP_MAPGET,	/* t[dst] = address of the element of the key described at consts[imm]
			 * (struct lp_mapdesc) in the Go map t[src] points to, 0 if absent;
			 * data[out] = enum lp_map_status; fault bit `slot` unless found or absent */
};

/*
 * A Go map lookup by key (LP_OP_MAPGET). Go seeds each map's hash, so the
 * kernel does not hash: it compares the key with every full slot, bucket by
 * bucket (hmap, Go <= 1.23 and noswissmap builds) or group by group (swiss
 * tables, Go 1.24+), at most LP_MAP_GROUPS of them (8 slots each). A bigger
 * map is LP_MS_TOOBIG, never a guess.
 */
#define LP_MAP_GROUPS 32 /* buckets or groups scanned at most */
#define LP_MAP_STEPS  64 /* loop steps: a bucket, a group or a directory entry each */
#define LP_MAPKEY_MAX 64 /* bytes of a string key */
#define LP_MAX_LOOKUPS 8 /* LP_OP_MAPGET ops on each side of a plan */

enum lp_map_layout {
	LP_MAP_HMAP = 0, /* runtime.hmap: 2^B buckets (+ overflow chains, + old buckets) */
	LP_MAP_SWISS,	 /* internal/runtime/maps.Map: one group, or a directory of tables */
};

enum lp_map_status {
	LP_MS_ABSENT = 0, /* no such key (or a nil or empty map) */
	LP_MS_FOUND,
	LP_MS_TOOBIG, /* more than LP_MAP_GROUPS buckets or groups to scan */
	LP_MS_FAULT,  /* the map's memory could not be read */
};

/*
 * Where a key and its element are: slot i of the bucket or group at b has
 * its key at b + keys + i * kstride and its element at b + elems + i * estride.
 */
struct lp_mapdesc {
	__u8 layout;   /* enum lp_map_layout */
	__u8 str;      /* a string key of klen bytes; else an integer of ksize bytes */
	__u8 ksize;    /* integer key: 1, 2, 4, 8 */
	__u8 indirect; /* the slot holds a pointer to the element (elements over 128 bytes) */
	__u16 keys;
	__u16 kstride;
	__u16 elems;
	__u16 estride;
	__u16 bsize; /* bytes of a bucket (its overflow pointer last) or group */
	__u16 klen;
	__u64 key; /* the integer, or the string's first bytes: its klen bytes continue past */
};

enum lp_cmp {
	LP_CMP_EQ = 0,
	LP_CMP_NE,
	LP_CMP_LT, /* signed */
	LP_CMP_LE,
	LP_CMP_GT,
	LP_CMP_GE,
	LP_CMP_LTU, /* unsigned */
	LP_CMP_LEU,
	LP_CMP_GTU,
	LP_CMP_GEU,
};

/*
 * One op. `slot` is the value slot the op belongs to: when a user load in
 * that slot faults, its bit is set in the record's fault mask and later ops
 * of the same slot read as zero instead of dereferencing garbage.
 */
struct lp_op {
	__u8 code; /* enum lp_opcode */
	__u8 dst;  /* temporary */
	__u8 src;  /* temporary or register */
	__u8 slot; /* fault bit, 0..LP_MAX_SLOTS-1 */
	__s32 imm;
	__u16 out;  /* offset in record data */
	__u16 size; /* bytes, or condition code */
};

/* Where a bounded copy landed in the record's variable area. */
struct lp_var {
	__u16 off; /* from the start of record data */
	__u16 len; /* bytes copied (the Go length is stored separately) */
};

enum lp_gsrc {
	LP_G_NONE = 0, /* no goroutine identity (not Go code) */
	LP_G_R14,      /* register ABI: R14 holds g */
	LP_G_TLS,      /* stack ABI: g at fsbase + tls_off */
};

enum lp_plan_flags {
	LP_PF_RET = 1 << 0,	     /* the function has return sites */
	LP_PF_PAIR = 1 << 1,	     /* entry waits for return: one event per call */
	LP_PF_ENTRY_EVENT = 1 << 2,  /* emit an event at entry (separate entry/return mode) */
	LP_PF_STACK = 1 << 3,	     /* capture the user stack at entry */
	LP_PF_NOEVENT = 1 << 4,	     /* in-kernel aggregation only: no ring-buffer record */
	LP_PF_WITHIN = 1 << 5,	     /* only inside a call of probe `within` */
	LP_PF_SCOPE = 1 << 6,	     /* other probes are scoped to calls of this one */
	LP_PF_ENTRY_FILTER = 1 << 7, /* a predicate may drop calls at entry */
	LP_PF_PIE = 1 << 8,	     /* position-independent binary: records carry the load bias */
	LP_PF_CTX = 1 << 9,	     /* ops or aggregations read LP_REG_PID ... LP_REG_COMM1 */
	LP_PF_SPAWNED = 1 << 10,     /* LP_PF_WITHIN: also in goroutines started inside */
	LP_PF_SCOPE_SPAWN = 1 << 11, /* LP_PF_SCOPE: goroutines started inside inherit the scope */
};

/* Parts of the BPF program that are verified only when a probe needs them. */
enum lp_features {
	LP_FEAT_SCOPES = 1 << 0, /* within, scope, spawned: the scope map and its sites */
	LP_FEAT_AGGS = 1 << 1,	 /* in-kernel aggregations */
	LP_FEAT_STACKS = 1 << 2, /* stack = true, keys by stack */
	LP_FEAT_MAPS = 1 << 3,	 /* field paths that look up a key in a Go map: m["k"] */
	LP_FEAT_ALL = (1 << 4) - 1,
};

enum lp_agg_kind {
	LP_AGG_NONE = 0,
	LP_AGG_COUNT,
	LP_AGG_STATS, /* count, sum, min and max of a value (sum, min, max and avg read it) */
	LP_AGG_HIST,  /* log2 histogram: bucket 0 negative, 1 zero, 2+k [2^k, 2^(k+1)), k <= 63 */
	LP_AGG_LHIST, /* linear histogram: bucket 0 below min, 1+i [min+i*step, ...), last above */
};

enum lp_agg_src {
	LP_AS_NONE = 0,
	LP_AS_INT,     /* an integer image in the record: off, size, signed */
	LP_AS_STR,     /* a copied string: the struct lp_var at off */
	LP_AS_LATENCY, /* the call's latency */
	LP_AS_PLAN,    /* the plan index (which function of a glob) */
	LP_AS_REG,     /* a pseudo-register (key_off: LP_REG_PID, _TID, _GOID): 8 bytes */
	LP_AS_COMM,    /* the thread's name: 16 bytes, a string key */
	LP_AS_STACK,   /* the user stack: struct lp_stack_key in the key (LP_PF_STACK) */
};

/* The key of an aggregation by stack: what symbolizes it (see struct lp_rec). */
struct lp_stack_key {
	__s32 stack_id; /* < 0: the stack could not be captured */
	__u32 plan;
	__u64 stack_ret;
	__u64 bias;  /* load bias, when flags has LP_RF_BIAS */
	__u16 flags; /* LP_RF_STACK, LP_RF_BIAS */
	__u16 pad[3];
};

/* One aggregation a plan feeds, in the per-CPU hash "aggs". */
struct lp_agg_spec {
	__u32 id;      /* aggregation id, unique in the run */
	__u8 kind;     /* enum lp_agg_kind */
	__u8 key_src;  /* enum lp_agg_src */
	__u8 val_src;  /* enum lp_agg_src */
	__u8 key_size; /* LP_AS_INT: 1, 2, 4, 8 */
	__u8 val_size;
	__u8 sign;     /* bit 0: the value is signed; bit 1: the key is signed */
	__u8 key_slot; /* fault slots: a faulted key or value skips the update */
	__u8 val_slot;
	__u16 key_off;
	__u16 val_off;
	__u32 lcount; /* LP_AGG_LHIST: buckets between min and max */
	__s64 lmin;
	__s64 lstep;
};

struct lp_agg_key {
	__u32 id;
	__u32 bucket;
	__u8 key[LP_AGG_KEYLEN];
};

/* The key of aggregations whose key is not a string: hashed 16 bytes, not 64. */
struct lp_agg_key16 {
	__u32 id;
	__u32 bucket;
	__u64 key;
};

/*
 * Per CPU. The sum has 128 bits (sum_hi:sum, two's complement), so it never
 * wraps; min and max compare with the value's signedness (sign bit 0 of the
 * spec). A slot whose count is 0 holds no value yet: another CPU created the
 * key, and this CPU's copy started zeroed.
 */
struct lp_agg_val {
	__u64 count;
	__u64 sum;    /* low 64 bits */
	__s64 sum_hi; /* high 64 bits */
	__s64 min;
	__s64 max;
};

/* One traced function of one probe. Array map "plans", indexed by the cookie. */
struct lp_plan {
	__u32 probe; /* user-visible probe id: index into "probes" */
	__u16 flags; /* enum lp_plan_flags */
	__u8 gsrc;   /* enum lp_gsrc */
	__u8 nentry; /* ops[0, nentry) run at entry */
	__u8 nret;   /* ops[nentry, nentry+nret) run at return */
	__u8 pad0;
	__u16 data_fixed; /* fixed part of the data; the variable area starts here */
	__s16 tls_off;	/* LP_G_TLS: offset of g from fsbase (-8 unless an external linker moved it)
			 */
	__u16 goid_off; /* runtime.g.goid */
	__u16 m_off;	/* runtime.g.m */
	__u16 curg_off; /* runtime.m.curg */
	__u16 stackhi_off; /* runtime.g.stack.hi */
	__u32 within;	   /* LP_PF_WITHIN: the scoping probe */
	__u32 entry;	   /* LP_PF_PIE: the function's entry address as linked */
	__u8 naggs;	   /* aggregations fed at the emission point */
	__u8 pad2;
	__u16 sched_off; /* LP_SITE_RECOVER: runtime.g.sched (its first word is sched.sp) */
	__u16 newg_sp;	 /* LP_SITE_SPAWN, stack ABI: newg is at newg_sp(SP); 0: in BX */
	__u16 pad3;
	struct lp_agg_spec aggs[LP_MAX_AGGS];
	struct lp_op ops[LP_MAX_OPS];
	__u8 consts[LP_CONST_MAX];
};

/* Per user-visible probe; array map "probes". */
struct lp_probe_state {
	__u32 enabled;
	__u32 pad;
};

/*
 * Cookie of a uprobe: plan index, site kind and, for a stack-check branch,
 * the condition that sends the call to runtime.morestack.
 */
#define LP_COOKIE_PLAN(c)   ((__u32)((c)&0xfffff))
#define LP_COOKIE_SITE(c)   ((__u32)(((c) >> 20) & 0xf))
#define LP_COOKIE_CC(c)	    ((__u32)(((c) >> 24) & 0x1f))
#define LP_COOKIE_CC_NEG(c) ((__u32)(((c) >> 29) & 0x1))
#define LP_COOKIE_SPADJ(c)  ((__s32)(__s8)(((c) >> 32) & 0xff))
/* A register that holds g at this site (LP_REG_* + 1), 0: the plan's g source. */
#define LP_COOKIE_GREG(c)	     ((__u32)(((c) >> 40) & 0x1f))
#define LP_COOKIE_WITH_GREG(c, greg) ((c) | ((__u64)(greg) << 40))
/*
 * Where the site is from the function's entry, as linked (LP_SITEOFF_NONE:
 * too far to say): with the site's address at run time, the load bias.
 */
#define LP_COOKIE_SITEOFF(c) ((__u32)(((c) >> 45) & 0x7ffff))
#define LP_SITEOFF_NONE	     0x7ffff
#define LP_COOKIE_WITH_SITEOFF(c, off)                                                             \
	((c) | ((__u64)((off) < LP_SITEOFF_NONE ? (off) : LP_SITEOFF_NONE) << 45))
#define LP_COOKIE(plan, site, cc, neg, spadj)                                                      \
	((__u64)(plan) | ((__u64)(site) << 20) | ((__u64)(cc) << 24) | ((__u64)(neg) << 29) |      \
	 ((__u64)(__u8)(spadj) << 32))

enum lp_site {
	LP_SITE_ENTRY = 0, /* first instruction of the function */
	LP_SITE_JCC,	 /* the stack check's conditional branch: skip when it goes to morestack */
	LP_SITE_RET,	 /* a RET instruction */
	LP_SITE_CALL,	 /* a direct CALL to the function (SP is 8 higher than at entry) */
	LP_SITE_RECOVER, /* runtime.recovery's CALL of runtime.gogo: a recovered panic resumes */
	LP_SITE_SPAWN,	 /* the runtime's CALL of runqput(pp, newg, true): a goroutine starts */
	LP_SITE_GOEXIT,	 /* entry of runtime.goexit1: the running goroutine ends */
};

/*
 * x86 condition codes (low nibble of Jcc opcodes 0x70-0x7f). The branch is
 * taken when the condition holds; LP_COOKIE_CC_NEG says the morestack path
 * is the fall-through instead.
 */
enum lp_cc {
	LP_CC_O = 0,
	LP_CC_NO,
	LP_CC_B,
	LP_CC_AE,
	LP_CC_E,
	LP_CC_NE,
	LP_CC_BE,
	LP_CC_A,
	LP_CC_S,
	LP_CC_NS,
	LP_CC_P,
	LP_CC_NP,
	LP_CC_L,
	LP_CC_GE,
	LP_CC_LE,
	LP_CC_G,
};

enum lp_rec_type {
	LP_REC_CALL = 1,  /* a whole call: entry data, return data, latency */
	LP_REC_ENTRY = 2, /* entry only */
	LP_REC_RET = 3,	  /* return only (entry state missing or separate mode) */
	LP_REC_EXEC = 4,  /* a watched process executed a new image (header only: pid, tid, ts) */
};

/* A process whose execs luprobe follows; hash map "watched", keyed by tgid. */
struct lp_watch {
	__u32 hold; /* stop it (SIGSTOP) at the exec until its probes are attached again */
	__u32 skip; /* execs to let pass unreported (a launched command's own) */
};

enum lp_rec_flags {
	LP_RF_G0 = 1 << 0,	/* the event ran on the system stack; goid is m.curg's */
	LP_RF_NOENTRY = 1 << 1, /* a return whose entry was not seen */
	LP_RF_TRUNC = 1 << 2,	/* the variable area ran out; some copies are short */
	LP_RF_STACK = 1 << 3,	/* stack_id / stack_ret are valid */
	LP_RF_BIAS = 1 << 4,	/* bias is the load bias of the plan's binary in this process */
	/* call state only: `where` or `within` turned the call away at entry */
	LP_RF_REJECTED = 1 << 5,
	/*
	 * spawned = true: the last 16 bytes of data are the goroutine ids of the
	 * goroutine's parent (0: not started inside a scope) and of the goroutine
	 * that runs the scoping call (struct lp_lineage)
	 */
	LP_RF_LINEAGE = 1 << 6,
};

struct lp_lineage {
	__u64 parent_goid;
	__u64 scope_goid;
};

/* Every ring-buffer record starts with this header. */
struct lp_rec {
	__u16 type;	/* enum lp_rec_type */
	__u16 flags;	/* enum lp_rec_flags */
	__u16 data_len; /* bytes of data after the header */
	__u16 pad;
	__u32 plan;
	__u32 pid; /* tgid */
	__u32 tid;
	__s32 stack_id; /* bpf_get_stackid() result, or < 0 */
	__u64 ts;	/* entry time, CLOCK_MONOTONIC ns */
	__u64 latency;	/* ns, LP_REC_CALL / LP_REC_RET with entry */
	__u64 goid;
	__u64 faults;	 /* bit i: value slot i could not be read */
	__u64 stack_ret; /* return address at entry SP (the caller frame the FP walk misses) */
	__u64 bias;	 /* LP_RF_BIAS: run-time address - link-time address (PIE) */
			 /* data_len bytes of data follow */
};

/* Key of the in-flight call state: one per goroutine and frame. */
struct lp_call_key {
	__u32 pid;
	__u32 plan;
	__u64 g;     /* runtime.g address of the goroutine */
	__u64 depth; /* g.stack.hi - SP at entry: survives stack copying */
};

/* Counters in the per-CPU array "stats". */
enum lp_stat {
	LP_STAT_EVENTS = 0, /* records written */
	LP_STAT_LOST,	    /* ring buffer full */
	LP_STAT_FILTERED,   /* dropped by a predicate */
	LP_STAT_MORESTACK,  /* entry hits that went to morestack (and will restart) */
	LP_STAT_UNMATCHED,  /* returns without entry state */
	LP_STAT_CALLS_FULL, /* call state could not be stored */
	LP_STAT_FAULTS,	    /* user reads that faulted */
	LP_STAT_NOPLAN,	    /* cookie without a plan (should not happen) */
	LP_STAT_STACK_ERR,  /* stack capture failed */
	LP_STAT_DISABLED,   /* hits on disabled probes */
	LP_STAT_OUTSIDE,    /* hits outside their `within` scope */
	LP_STAT_NESTED,	    /* no free scratch slot (the program was preempted LP_NSCRATCH times) */
	LP_STAT_AGG_FULL,   /* aggregation map full: updates dropped */
	LP_STAT_SCOPE_FULL, /* a scope could not be opened (scope map or frame stack full) */
	LP_STAT_EXEC_LOST,  /* an exec of a watched process could not be reported (ring full) */
	LP_STAT_SPAWN_FULL, /* a goroutine started in a scope was not followed (map full) */
	LP_NSTATS,
};

#endif
