// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "ring.h"
#include "tracer.h"
#include "util.h"
#include "luprobe.skel.h"

/* What a loaded BPF object is sized for: everything fixed at load time. */
struct load_cfg {
	uint64_t rb_bytes, wakeup_bytes;
	uint32_t plans, probes, stacks, call_value, calls, scopes, fsbase_off, agg_keys;
	uint32_t features; /* enum lp_features: the parts of the program that are verified */
	bool multi;
};

struct tracer {
	struct tracer_opts opts;
	struct luprobe_bpf *skel;
	struct ring *rb;
	/* plans and probe states set before load */
	struct lp_plan **plans;
	uint32_t nplans;
	uint8_t *probe_enabled;
	struct tracer_needs needs; /* what the probes need (set before load) */
	uint32_t features;	   /* enum lp_features of the loaded program */
	uint32_t script_agg_keys;  /* luprobe.options{ agg_keys }: 0 if not given (not in opts,
				    * which the preload thread reads) */
	/* links: libbpf perf-event links, or raw uprobe_multi link fds */
	struct bpf_link **links;
	pid_t *link_pids; /* the process each link is for (-1: every process) */
	size_t nlinks, links_cap;
	int *mfds;
	pid_t *mfd_pids;
	size_t *mfd_sites;
	size_t nmfds, mfds_cap;
	size_t nsites;
	bool multi; /* the kernel has uprobe_multi links (Linux 6.6+) */
	tracer_event_fn fn;
	void *fn_ctx;
	/* the warm-up (see tracer__warm_up) */
	pthread_t warm_thread;
	bool warming;
	bool multi_known;
	pthread_t preload_thread;
	bool preloading;
	struct bpf_link *exec_link; /* lp_exec on sched_process_exec, once a process is watched */
	pthread_t close_thread;	    /* closes the warm-up's descriptors */
	bool closing;
	struct luprobe_bpf *pre_skel; /* loaded while the script ran */
	struct load_cfg pre_cfg;
	int pre_err;
	uint64_t created_ns, pre_start_ns, pre_end_ns;
	int warm_fds[3]; /* link, program, memfd */
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int want = level == LIBBPF_WARN ? 1 : 2;

	if (want > lp_verbosity)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int tracer__new(const struct tracer_opts *opts, struct tracer **out)
{
	struct tracer *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->opts = *opts;
	t->created_ns = now_ns();
	if (!t->opts.ringbuf_bytes)
		t->opts.ringbuf_bytes =
			8 << 20; /* ~70,000 events: 80 ms of a core tracing flat out */
	if (!t->opts.wakeup_bytes)
		t->opts.wakeup_bytes = t->opts.ringbuf_bytes / 8;
	if (!t->opts.max_plans)
		t->opts.max_plans = 4096;
	if (!t->opts.max_probes)
		t->opts.max_probes = 1024;
	if (!t->opts.agg_keys)
		t->opts.agg_keys = LP_AGG_KEYS;
	if (!t->opts.map_limit)
		t->opts.map_limit = LP_MAP_LIMIT;

	t->plans = calloc(t->opts.max_plans, sizeof(*t->plans));
	t->probe_enabled = calloc(t->opts.max_probes, 1);
	if (!t->plans || !t->probe_enabled) {
		tracer__free(t);
		return -ENOMEM;
	}
	libbpf_set_print(libbpf_print);
	*out = t;
	return 0;
}

bool tracer__has(const struct tracer *t, uint32_t feat)
{
	return !t->skel || (t->features & feat) == feat;
}

bool tracer__loaded(const struct tracer *t)
{
	return t->skel != NULL;
}

int tracer__alloc_plan(struct tracer *t)
{
	if (t->nplans >= t->opts.max_plans) {
		lp_seterr("too many traced functions (at most %u)", t->opts.max_plans);
		return -ENOSPC;
	}
	return t->nplans++;
}

int tracer__set_plan(struct tracer *t, uint32_t idx, const struct lp_plan *plan)
{
	if (idx >= t->nplans)
		return -EINVAL;
	if (t->skel)
		return bpf_map__update_elem(t->skel->maps.plans, &idx, sizeof(idx), plan,
					    sizeof(*plan), BPF_ANY);
	if (!t->plans[idx]) {
		t->plans[idx] = malloc(sizeof(*plan));
		if (!t->plans[idx])
			return -ENOMEM;
	}
	memcpy(t->plans[idx], plan, sizeof(*plan));
	return 0;
}

void tracer__set_needs(struct tracer *t, const struct tracer_needs *needs)
{
	t->needs = *needs;
}

/*
 * offsetof(struct task_struct, thread.fsbase) from the kernel's BTF. Loading
 * that BTF takes milliseconds, so it is done only when a site needs TLS.
 */
static uint32_t fsbase_offset(void)
{
	const struct btf_member *m;
	const struct btf_type *t;
	struct btf *btf = btf__load_vmlinux_btf();
	uint32_t off = 0, i;
	int id;

	if (!btf || libbpf_get_error(btf))
		return 0;
	id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (i = 0, m = t ? btf_members(t) : NULL; t && i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), "thread") != 0)
			continue;
		off = btf_member_bit_offset(t, i) / 8;
		t = btf__type_by_id(btf, m->type);
		for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
			if (strcmp(btf__name_by_offset(btf, m->name_off), "fsbase") == 0) {
				off += btf_member_bit_offset(t, i) / 8;
				btf__free(btf);
				return off;
			}
		}
		break;
	}
	btf__free(btf);
	return 0;
}

/*
 * Sum one key's per-CPU values; false if nothing was counted. A CPU whose
 * count is 0 never saw the key (its slot is zeroed, min and max too). The
 * 128-bit sums add up without wrapping; min and max compare as the value's
 * Go type says (sgn).
 */
static bool sum_cpus(const struct lp_agg_val *vals, int ncpu, bool sgn, struct lp_agg_val *sum)
{
	unsigned __int128 total = 0;
	bool first = true;
	int c;

	memset(sum, 0, sizeof(*sum));
	for (c = 0; c < ncpu; c++) {
		const struct lp_agg_val *v = &vals[c];

		if (!v->count)
			continue;
		sum->count += v->count;
		total += (unsigned __int128)(uint64_t)v->sum_hi << 64 | v->sum;
		if (first || (sgn ? v->min < sum->min : (uint64_t)v->min < (uint64_t)sum->min))
			sum->min = v->min;
		if (first || (sgn ? v->max > sum->max : (uint64_t)v->max > (uint64_t)sum->max))
			sum->max = v->max;
		first = false;
	}
	sum->sum = (uint64_t)total;
	sum->sum_hi = (int64_t)(uint64_t)(total >> 64);
	return sum->count != 0;
}

int tracer__agg_read(const struct tracer *t, uint32_t id, bool sgn, tracer_agg_fn fn, void *ctx)
{
	int ncpu = libbpf_num_possible_cpus(), fd, err = 0;
	struct lp_agg_key key, next, *prev = NULL;
	struct lp_agg_key16 k16, n16, *prev16 = NULL;
	struct lp_agg_val *vals, sum;

	if (!t->skel || ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	fd = bpf_map__fd(t->skel->maps.aggs);
	while (!err && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.id != id || bpf_map_lookup_elem(fd, &key, vals))
			continue;
		if (sum_cpus(vals, ncpu, sgn, &sum))
			err = fn(ctx, &key, &sum);
	}
	/* keys that are not strings live in the 16-byte-key map */
	fd = bpf_map__fd(t->skel->maps.aggs16);
	while (!err && bpf_map_get_next_key(fd, prev16, &n16) == 0) {
		k16 = n16;
		prev16 = &k16;
		if (k16.id != id || bpf_map_lookup_elem(fd, &k16, vals))
			continue;
		memset(&key, 0, sizeof(key));
		key.id = k16.id;
		key.bucket = k16.bucket;
		memcpy(key.key, &k16.key, sizeof(k16.key));
		if (sum_cpus(vals, ncpu, sgn, &sum))
			err = fn(ctx, &key, &sum);
	}
	free(vals);
	return err;
}

/* Delete the keys of map fd whose first 4 bytes are id: collected first, then deleted. */
static int clear_keys(int fd, size_t ksize, uint32_t id)
{
	char *keys = NULL, *prev = NULL, next[sizeof(struct lp_agg_key)];
	size_t n = 0, cap = 0, i;
	uint32_t kid;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		if (n == cap) {
			char *nk;

			cap = cap ? cap * 2 : 64;
			nk = realloc(keys, cap * ksize);
			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
		}
		memcpy(keys + n * ksize, next, ksize);
		prev = keys + n * ksize;
		memcpy(&kid, next, sizeof(kid));
		n++;
		if (kid != id)
			continue;
	}
	for (i = 0; i < n; i++) {
		memcpy(&kid, keys + i * ksize, sizeof(kid));
		if (kid == id)
			bpf_map_delete_elem(fd, keys + i * ksize);
	}
	free(keys);
	return 0;
}

int tracer__agg_clear(const struct tracer *t, uint32_t id)
{
	int err;

	if (!t->skel)
		return 0;
	err = clear_keys(bpf_map__fd(t->skel->maps.aggs), sizeof(struct lp_agg_key), id);
	if (!err)
		err = clear_keys(bpf_map__fd(t->skel->maps.aggs16), sizeof(struct lp_agg_key16),
				 id);
	return err;
}

int tracer__set_probe_enabled(struct tracer *t, uint32_t probe, bool enabled)
{
	struct lp_probe_state st = {.enabled = enabled};

	if (probe >= t->opts.max_probes) {
		lp_seterr("too many probes (at most %u)", t->opts.max_probes);
		return -ENOSPC;
	}
	t->probe_enabled[probe] = enabled;
	if (!t->skel)
		return 0;
	return bpf_map__update_elem(t->skel->maps.probes, &probe, sizeof(probe), &st, sizeof(st),
				    BPF_ANY);
}

/*
 * uprobe_multi links (Linux 6.6) attach many sites of one binary with one
 * syscall, and detach them with one RCU grace period instead of one per
 * site (~100 ms each here). libbpf 1.1 predates them, so the link is
 * created with the raw syscall; the attr layout is the kernel's
 * union bpf_attr link_create.
 */
#define LP_TRACE_UPROBE_MULTI 48

struct link_create_uprobe_multi {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 pad;
};

static int uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, uint32_t cnt, pid_t pid)
{
	union {
		struct link_create_uprobe_multi lc;
		char attr[144]; /* sizeof(union bpf_attr) in kernels with uprobe_multi */
	} u;

	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = prog_fd;
	u.lc.attach_type = LP_TRACE_UPROBE_MULTI;
	u.lc.path = (uintptr_t)path;
	u.lc.offsets = (uintptr_t)offsets;
	u.lc.cookies = (uintptr_t)cookies;
	u.lc.cnt = cnt;
	u.lc.pid = pid > 0 ? pid : 0;
	return syscall(__NR_bpf, BPF_LINK_CREATE, &u, sizeof(u));
}

int tracer__uprobe_multi(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = LP_TRACE_UPROBE_MULTI);
	uint64_t off = 0, cookie = 0;
	int prog, link, err;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &opts);
	if (prog < 0)
		return -errno;
	/* "/" is not a regular file: a kernel that knows the link type says EBADF */
	link = uprobe_multi_link(prog, "/", &off, &cookie, 1, 0);
	err = errno;
	if (link >= 0)
		close(link);
	close(prog);
	return link < 0 && err == EBADF;
}

static bool probe_uprobe_multi(void)
{
	return tracer__uprobe_multi() == 1;
}

int tracer__uprobe_multi_link(int prog_fd, const char *path, uint64_t offset, pid_t pid)
{
	uint64_t cookie = 0;

	return uprobe_multi_link(prog_fd, path, &offset, &cookie, 1, pid);
}

/*
 * The first uprobe registered after a quiet spell waits for an RCU grace
 * period (registration takes a per-CPU rw-semaphore for writing): 7-11 ms
 * here, longer than everything else luprobe does before its first event.
 * Registrations within a grace period of another one do not wait. So, while
 * the script runs and the verifier checks the program, a thread registers a
 * throwaway uprobe on an empty memfd that no process maps (no breakpoint is
 * written anywhere), and the real attach a few milliseconds later is
 * immediate. The thread also finds out whether uprobe_multi links exist.
 */
static void *warm_main(void *arg)
{
	struct tracer *t = arg;
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = LP_TRACE_UPROBE_MULTI);
	uint64_t off = 0, cookie = 0;
	char path[64];
	int prog, fd;

	if (!probe_uprobe_multi())
		return NULL;
	fd = memfd_create("luprobe-warm-up", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	t->warm_fds[2] = fd;
	if (ftruncate(fd, 4096) < 0)
		return NULL;
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &opts);
	if (prog < 0)
		return NULL;
	t->warm_fds[1] = prog;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	t->warm_fds[0] = uprobe_multi_link(prog, path, &off, &cookie, 1, 0);
	return NULL;
}

static void *preload_main(void *arg);

void tracer__warm_up(struct tracer *t)
{
	if (t->warming || t->preloading || t->skel || getenv("LUPROBE_NO_WARMUP"))
		return;
	t->warming = !pthread_create(&t->warm_thread, NULL, warm_main, t);
	t->preloading = !pthread_create(&t->preload_thread, NULL, preload_main, t);
}

/* Closing a uprobe link waits for RCU too: off the main thread. */
static void *warm_close(void *arg)
{
	int *fds = arg, i;

	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return NULL;
}

static void warm_join(struct tracer *t)
{
	if (t->warming) {
		pthread_join(t->warm_thread, NULL);
		t->warming = false;
	}
	if (t->preloading) {
		pthread_join(t->preload_thread, NULL);
		t->preloading = false;
	}
}

static void warm_close_now(struct tracer *t)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (t->warm_fds[i] >= 0)
			close(t->warm_fds[i]);
		t->warm_fds[i] = -1;
	}
}

void tracer__warm_release(struct tracer *t)
{
	int *fds;

	warm_join(t);
	if (t->warm_fds[0] < 0 && t->warm_fds[1] < 0 && t->warm_fds[2] < 0)
		return;
	fds = malloc(sizeof(t->warm_fds));
	if (fds) {
		memcpy(fds, t->warm_fds, sizeof(t->warm_fds));
		if (t->closing || pthread_create(&t->close_thread, NULL, warm_close, fds))
			warm_close(fds);
		else
			t->closing = true;
	}
	t->warm_fds[0] = t->warm_fds[1] = t->warm_fds[2] = -1;
}

void tracer__settle(struct tracer *t)
{
	warm_join(t);
	if (t->closing) {
		pthread_join(t->close_thread, NULL);
		t->closing = false;
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size < sizeof(struct lp_rec))
		return 0;
	return t->fn(t->fn_ctx, data, size);
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 4096;

	while (p < n)
		p <<= 1;
	return p;
}

/* What the probes created so far need. */
static void exact_cfg(struct tracer *t, struct load_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->rb_bytes = pow2_at_least(t->opts.ringbuf_bytes);
	c->wakeup_bytes = t->opts.wakeup_bytes;
	c->multi = t->multi;
	if (t->needs.tls)
		c->fsbase_off = fsbase_offset();
	/* room for the plans so far and for probes created later, not for 4096 of them */
	c->plans = t->opts.max_plans;
	if (t->nplans + 512 < c->plans)
		c->plans = t->nplans + 512;
	c->probes = t->opts.max_probes;
	/* a stack map is only worth its memory when a probe captures stacks */
	c->stacks = t->needs.stacks ? tracer__max_stacks(t) : 1;
	c->call_value = sizeof(struct lp_rec) + ((t->needs.call_bytes + 7) & ~7u);
	if (c->call_value > sizeof(struct lp_rec) + LP_DATA_MAX)
		c->call_value = sizeof(struct lp_rec) + LP_DATA_MAX;
	c->scopes = t->needs.scopes ? 16384 : 1024;
	c->features = (t->needs.scopes ? LP_FEAT_SCOPES : 0) | (t->needs.aggs ? LP_FEAT_AGGS : 0) |
		      (t->needs.stacks ? LP_FEAT_STACKS : 0) | (t->needs.maps ? LP_FEAT_MAPS : 0);
	c->agg_keys = t->script_agg_keys ? t->script_agg_keys : t->opts.agg_keys;
	/*
	 * In-flight calls: as many as 64 MiB of kernel memory holds, from 4096
	 * to 65536 (deep recursion keeps one entry per frame); when nothing pairs
	 * calls yet, probes created later get a small map, not 64 MiB.
	 */
	c->calls = t->opts.max_calls;
	if (!c->calls && !t->needs.calls)
		c->calls = 1024;
	if (!c->calls) {
		c->calls = (64u << 20) / c->call_value;
		if (c->calls > 65536)
			c->calls = 65536;
		if (c->calls < 4096)
			c->calls = 4096;
	}
}

/*
 * What most scripts need: no call pairing, scopes, stacks or TLS, and at
 * most 512 traced functions. The object is loaded for it while the script
 * runs (see tracer__warm_up); other scripts load their own afterwards.
 */
static void likely_cfg(struct tracer *t, struct load_cfg *c)
{
	struct tracer none = {.opts = t->opts, .multi = t->multi, .nplans = 512};

	exact_cfg(&none, c);
}

static bool cfg_covers(const struct load_cfg *have, const struct load_cfg *need)
{
	struct load_cfg h = *have;

	if (h.plans < need->plans)
		return false;
	h.plans = need->plans;
	return !memcmp(&h, need, sizeof(h));
}

/*
 * Kernel memory of the maps, computed as the kernel itself accounts it
 * (map_mem_usage of Linux 6.x: elements, per-element headers, per-CPU
 * copies, hash buckets), before any map is created: a map that would take
 * more than the limit is refused with the option that sizes it, instead of
 * taking the host's memory. Hash maps are counted full, also those that
 * allocate as keys appear.
 */
#define HTAB_ELEM   48 /* sizeof(struct htab_elem) */
#define HTAB_BUCKET 16 /* sizeof(struct bucket) */

static uint64_t round8(uint64_t n)
{
	return (n + 7) & ~7ULL;
}

static uint64_t pow2_of(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/*
 * A hash map with n entries: preallocated or allocated per key, per-CPU
 * values or not; a plain preallocated hash (not LRU) has an extra element
 * per CPU, and a pointer to it.
 */
static uint64_t htab_bytes(uint32_t key, uint32_t value, uint64_t n, bool percpu, bool prealloc,
			   bool extra, int ncpu)
{
	uint64_t b = 832 + pow2_of(n) * HTAB_BUCKET + 4ULL * ncpu * 8, elem;

	elem = HTAB_ELEM + round8(key) + (percpu ? 8 : round8(value));
	if (extra)
		b += 8ULL * ncpu + elem * ncpu;
	if (prealloc)
		return b + n * (elem + (percpu ? round8(value) * ncpu : 0));
	/* an llist node per element, and per-CPU values behind a pointer */
	return b + n * (elem + 8 + (percpu ? 16 + round8(value) * ncpu : 0));
}

static uint64_t array_bytes(uint32_t value, uint64_t n, bool percpu, int ncpu)
{
	return 312 + (percpu ? n * (8 + round8(value) * ncpu) : n * round8(value));
}

static void fmt_bytes(char *buf, size_t n, uint64_t b)
{
	if (b >= 1ULL << 30)
		snprintf(buf, n, "%.1f GiB", b / (double)(1ULL << 30));
	else if (b >= 1ULL << 20)
		snprintf(buf, n, "%.1f MiB", b / (double)(1ULL << 20));
	else
		snprintf(buf, n, "%.1f KiB", b / 1024.0);
}

enum {
	MEM_RB,
	MEM_CALLS,
	MEM_AGGS,
	MEM_AGGS16,
	MEM_PLANS,
	MEM_SCOPES,
	MEM_STACKS,
	MEM_OTHER,
	MEM_N
};

static void cfg_memory(const struct load_cfg *c, int ncpu, uint64_t mem[MEM_N])
{
	mem[MEM_RB] = c->rb_bytes; /* what --ringbuf says; the kernel's bookkeeping is < 0.5% */
	mem[MEM_CALLS] = htab_bytes(sizeof(struct lp_call_key), c->call_value, c->calls, false,
				    true, false, ncpu);
	mem[MEM_AGGS] = htab_bytes(sizeof(struct lp_agg_key), sizeof(struct lp_agg_val),
				   c->agg_keys, true, false, false, ncpu);
	mem[MEM_AGGS16] = htab_bytes(sizeof(struct lp_agg_key16), sizeof(struct lp_agg_val),
				     c->agg_keys, true, false, false, ncpu);
	mem[MEM_PLANS] = array_bytes(sizeof(struct lp_plan), c->plans, false, ncpu);
	/* struct scope_key, struct scope_state */
	mem[MEM_SCOPES] =
		htab_bytes(16, 24 + 24 * LP_SCOPE_FRAMES, c->scopes, false, true, true, ncpu);
	mem[MEM_STACKS] = 320 + pow2_of(c->stacks) * 8 + c->stacks * (16 + LP_STACK_DEPTH * 8);
	mem[MEM_OTHER] = array_bytes(sizeof(struct lp_probe_state), c->probes, false, ncpu) +
			 array_bytes(8 + 8 * LP_NREGS + sizeof(struct lp_rec) + 2 * LP_DATA_MAX,
				     LP_NSCRATCH, true, ncpu) +
			 array_bytes(8, LP_NSTATS, true, ncpu) + array_bytes(8, 1, true, ncpu) +
			 htab_bytes(4, sizeof(struct lp_watch), 256, false, true, true, ncpu);
}

/*
 * Refuse c when one of its maps would take more than the limit; with say,
 * the message names the option (not from the preload thread: lp_seterr's
 * buffer belongs to the main thread).
 */
static int cfg_check(const struct tracer *t, const struct load_cfg *c, bool say)
{
	static const char *const names[MEM_N] = {"the ring buffer",
						 "in-flight calls",
						 "in-kernel aggregations",
						 "in-kernel aggregations",
						 "probe plans",
						 "scopes",
						 "stacks",
						 "luprobe's other maps"};
	int ncpu = libbpf_num_possible_cpus(), i;
	char size[32], limit[32];
	uint64_t mem[MEM_N];

	if (ncpu <= 0)
		ncpu = 1;
	cfg_memory(c, ncpu, mem);
	fmt_bytes(limit, sizeof(limit), t->opts.map_limit);
	for (i = 0; i < MEM_N; i++) {
		if (mem[i] <= t->opts.map_limit)
			continue;
		if (!say)
			return -E2BIG;
		fmt_bytes(size, sizeof(size), mem[i]);
		if (i == MEM_RB)
			lp_seterr("--ringbuf %llu would take %s of kernel memory for the ring "
				  "buffer; "
				  "the limit is %s: lower --ringbuf (or raise --map-limit)",
				  (unsigned long long)c->rb_bytes, size, limit);
		else if (i == MEM_CALLS)
			lp_seterr(
				"--max-calls %u would take %s of kernel memory for in-flight calls "
				"(%llu bytes each, for %s); the limit is %s: lower --max-calls or "
				"strcap (or raise --map-limit)",
				c->calls, size, (unsigned long long)(mem[i] / c->calls),
				t->needs.call_why[0] ? t->needs.call_why : "the entry records",
				limit);
		else if (i == MEM_AGGS || i == MEM_AGGS16)
			lp_seterr(
				"%s%u%s would take %s of kernel memory for in-kernel aggregations "
				"when full (%llu bytes a key on %d CPUs); the limit is %s: lower "
				"%s "
				"(or raise --map-limit)",
				t->script_agg_keys ? "luprobe.options{ agg_keys = " : "--agg-keys ",
				c->agg_keys, t->script_agg_keys ? " }" : "", size,
				(unsigned long long)(mem[i] / c->agg_keys), ncpu, limit,
				t->script_agg_keys ? "agg_keys" : "--agg-keys");
		else if (i == MEM_STACKS)
			lp_seterr("--max-stacks %u would take %s of kernel memory for stacks; the "
				  "limit is %s: lower --max-stacks (or raise --map-limit)",
				  c->stacks, size, limit);
		else
			lp_seterr("%s would take %s of kernel memory; the limit is %s: raise "
				  "--map-limit",
				  names[i], size, limit);
		return -E2BIG;
	}
	return 0;
}

int tracer__set_agg_keys(struct tracer *t, uint32_t n)
{
	struct load_cfg c;
	uint32_t was = t->script_agg_keys;
	int err;

	if (t->skel) {
		lp_seterr("agg_keys must be set before the probes are attached (in the main chunk, "
			  "before attach())");
		return -EBUSY;
	}
	memset(&c, 0, sizeof(c));
	c.agg_keys = n;
	t->script_agg_keys = n;
	err = cfg_check(t, &c, true);
	if (err)
		t->script_agg_keys = was;
	return err;
}

uint32_t tracer__max_stacks(const struct tracer *t)
{
	return t->opts.max_stacks ? t->opts.max_stacks : 4096;
}

uint32_t tracer__agg_keys(const struct tracer *t)
{
	return t->script_agg_keys ? t->script_agg_keys : t->opts.agg_keys;
}

/* Open and load the object for c; errors are left to the caller to report. */
static int load_object(const struct load_cfg *c, struct luprobe_bpf **out)
{
	struct luprobe_bpf *skel;
	int err;

	*out = NULL;
	skel = luprobe_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->wakeup_bytes = c->wakeup_bytes;
	skel->rodata->fsbase_off = c->fsbase_off;
	skel->rodata->features = c->features;
	bpf_map__set_max_entries(skel->maps.rb, c->rb_bytes);
	bpf_map__set_max_entries(skel->maps.plans, c->plans);
	bpf_map__set_max_entries(skel->maps.probes, c->probes);
	bpf_map__set_max_entries(skel->maps.stacks, c->stacks);
	bpf_map__set_value_size(skel->maps.calls, c->call_value);
	bpf_map__set_max_entries(skel->maps.calls, c->calls);
	bpf_map__set_max_entries(skel->maps.scopes, c->scopes);
	bpf_map__set_max_entries(skel->maps.aggs, c->agg_keys);
	bpf_map__set_max_entries(skel->maps.aggs16, c->agg_keys);
	if (c->multi)
		bpf_program__set_expected_attach_type(skel->progs.lp_uprobe, LP_TRACE_UPROBE_MULTI);
	err = luprobe_bpf__load(skel);
	if (err) {
		luprobe_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* The speculative load, in a thread of its own. */
static void *preload_main(void *arg)
{
	struct tracer *t = arg;
	struct load_cfg c;

	t->multi = !getenv("LUPROBE_NO_UPROBE_MULTI") && probe_uprobe_multi();
	t->multi_known = true;
	likely_cfg(t, &c);
	t->pre_cfg = c;
	t->pre_start_ns = now_ns();
	/* nothing past the memory limit, not even speculatively (tracer__load says why) */
	t->pre_err = cfg_check(t, &c, false);
	if (!t->pre_err)
		t->pre_err = load_object(&c, &t->pre_skel);
	t->pre_end_ns = now_ns();
	return NULL;
}

int tracer__load(struct tracer *t, tracer_event_fn fn, void *ctx)
{
	struct luprobe_bpf *skel = NULL;
	struct load_cfg need;
	uint32_t i;
	int err;

	warm_join(t);
	if (!t->multi_known) {
		t->multi = !getenv("LUPROBE_NO_UPROBE_MULTI") && probe_uprobe_multi();
		t->multi_known = true;
	}
	pr_debug("luprobe: uprobe_multi links %s\n", t->multi ? "available" : "not available");
	exact_cfg(t, &need);
	err = cfg_check(t, &need, true);
	if (err) {
		luprobe_bpf__destroy(t->pre_skel);
		t->pre_skel = NULL;
		return err;
	}
	if (t->needs.tls && !need.fsbase_off)
		pr_info("luprobe: cannot find task_struct.thread.fsbase in the kernel's BTF: "
			"goroutine ids of stack-ABI returns will be 0\n");
	if (t->pre_skel && cfg_covers(&t->pre_cfg, &need)) {
		skel = t->pre_skel;
		need = t->pre_cfg;
		pr_debug("luprobe: using the BPF object loaded while the script ran (%.2f to %.2f "
			 "ms)\n",
			 (t->pre_start_ns - t->created_ns) / 1e6,
			 (t->pre_end_ns - t->created_ns) / 1e6);
	} else {
		if (t->pre_skel)
			pr_debug("luprobe: the script needs a BPF object of its own (plans %u/%u, "
				 "calls %u/%u x %u/%u, scopes %u/%u, stacks %u/%u, parts "
				 "0x%x/0x%x)\n",
				 need.plans, t->pre_cfg.plans, need.calls, t->pre_cfg.calls,
				 need.call_value, t->pre_cfg.call_value, need.scopes,
				 t->pre_cfg.scopes, need.stacks, t->pre_cfg.stacks, need.features,
				 t->pre_cfg.features);
		luprobe_bpf__destroy(t->pre_skel);
		err = load_object(&need, &skel);
		if (err) {
			if (err == -EPERM || err == -EACCES)
				lp_seterr("cannot load BPF programs: %s; run as root, or grant "
					  "CAP_BPF and CAP_PERFMON (luprobe --check says what is "
					  "missing)",
					  strerror(-err));
			else
				lp_seterr("cannot load the BPF program: %s (kernel with BTF, BPF "
					  "ring buffers and bpf_loop needed: Linux 5.17 or later; "
					  "luprobe --check says what this one lacks)",
					  strerror(-err));
			return err;
		}
	}
	t->pre_skel = NULL;
	if (lp_verbosity >= 2) {
		uint64_t mem[MEM_N];
		int ncpu = libbpf_num_possible_cpus();

		cfg_memory(&need, ncpu > 0 ? ncpu : 1, mem);
		pr_debug("luprobe: kernel memory of the maps, at most: ring %llu, calls %llu (%u x "
			 "%u), aggregations %llu + %llu (%u keys each), plans %llu, scopes %llu, "
			 "stacks %llu, other %llu bytes\n",
			 (unsigned long long)mem[MEM_RB], (unsigned long long)mem[MEM_CALLS],
			 need.calls, need.call_value, (unsigned long long)mem[MEM_AGGS],
			 (unsigned long long)mem[MEM_AGGS16], need.agg_keys,
			 (unsigned long long)mem[MEM_PLANS], (unsigned long long)mem[MEM_SCOPES],
			 (unsigned long long)mem[MEM_STACKS], (unsigned long long)mem[MEM_OTHER]);
	}
	t->opts.max_plans = need.plans;
	t->opts.max_calls = need.calls;
	t->features = need.features;
	t->skel = skel;
	/* the consumer has not seen a record yet: the first one wakes it */
	skel->bss->consumer_idle = 1;
	for (i = 0; i < t->nplans; i++) {
		if (!t->plans[i])
			continue;
		err = bpf_map__update_elem(skel->maps.plans, &i, sizeof(i), t->plans[i],
					   sizeof(struct lp_plan), BPF_ANY);
		if (err)
			goto fail;
	}
	for (i = 0; i < t->opts.max_probes; i++) {
		if (t->probe_enabled[i] && (err = tracer__set_probe_enabled(t, i, true)))
			goto fail;
	}
	t->fn = fn;
	t->fn_ctx = ctx;
	t->rb = ring__open(bpf_map__fd(skel->maps.rb), bpf_map__max_entries(skel->maps.rb),
			   on_record, t);
	if (!t->rb) {
		err = -errno;
		lp_seterr("cannot map the BPF ring buffer: %s (see luprobe --check)",
			  strerror(-err));
		goto fail;
	}
	return 0;
fail:
	if (!*lp_lasterr())
		lp_seterr("cannot fill the BPF maps: %s", strerror(-err));
	luprobe_bpf__destroy(skel);
	t->skel = NULL;
	return err;
}

/* path is what the kernel resolves (/proc/self/fd/N), name the binary as the user knows it */
static void attach_error(const char *name, uint64_t offset, pid_t pid, int err)
{
	if (err == -ESRCH)
		lp_seterr("process %d is gone", pid);
	else if (err == -EPERM || err == -EACCES)
		lp_seterr(
			"cannot attach a uprobe to %s: %s; run as root, or grant CAP_PERFMON (and "
			"CAP_SYS_PTRACE for other users' processes; see luprobe --check)",
			name, strerror(-err));
	else
		lp_seterr("cannot attach a uprobe to %s at offset 0x%lx: %s", name,
			  (unsigned long)offset, strerror(-err));
}

static int attach_one(struct tracer *t, const char *path, const char *name, uint64_t offset,
		      pid_t pid, uint64_t cookie)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie, .retprobe = false);
	struct bpf_link *link;
	int err;

	if (t->nlinks == t->links_cap) {
		size_t cap = t->links_cap ? t->links_cap * 2 : 64;
		struct bpf_link **n = realloc(t->links, cap * sizeof(*n));
		pid_t *np;

		if (!n)
			return -ENOMEM;
		t->links = n;
		np = realloc(t->link_pids, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->link_pids = np;
		t->links_cap = cap;
	}
	link = bpf_program__attach_uprobe_opts(t->skel->progs.lp_uprobe, pid, path, offset, &uo);
	if (!link) {
		err = -errno;
		attach_error(name, offset, pid, err);
		return err;
	}
	t->link_pids[t->nlinks] = pid;
	t->links[t->nlinks++] = link;
	return 0;
}

int tracer__attach(struct tracer *t, const char *path, const char *name, const uint64_t *offsets,
		   const uint64_t *cookies, size_t n, pid_t pid)
{
	size_t i;
	int fd, err;

	if (!t->skel)
		return -EINVAL;
	if (!n)
		return 0;
	if (!t->multi) {
		for (i = 0; i < n; i++) {
			err = attach_one(t, path, name, offsets[i], pid, cookies[i]);
			if (err)
				return err;
			t->nsites++;
		}
		return 0;
	}
	if (t->nmfds == t->mfds_cap) {
		size_t cap = t->mfds_cap ? t->mfds_cap * 2 : 16;
		int *nf = realloc(t->mfds, cap * sizeof(*nf));
		pid_t *np;
		size_t *ns;

		if (!nf)
			return -ENOMEM;
		t->mfds = nf;
		np = realloc(t->mfd_pids, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		t->mfd_pids = np;
		ns = realloc(t->mfd_sites, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		t->mfd_sites = ns;
		t->mfds_cap = cap;
	}
	fd = uprobe_multi_link(bpf_program__fd(t->skel->progs.lp_uprobe), path, offsets, cookies, n,
			       pid);
	if (fd < 0) {
		err = -errno;
		attach_error(name, offsets[0], pid, err);
		return err;
	}
	t->mfd_pids[t->nmfds] = pid;
	t->mfd_sites[t->nmfds] = n;
	t->mfds[t->nmfds++] = fd;
	t->nsites += n;
	return 0;
}

size_t tracer__detach_pid(struct tracer *t, pid_t pid)
{
	size_t i, k, n = 0;

	for (i = 0, k = 0; i < t->nmfds; i++) {
		if (t->mfd_pids[i] != pid) {
			t->mfds[k] = t->mfds[i];
			t->mfd_pids[k] = t->mfd_pids[i];
			t->mfd_sites[k++] = t->mfd_sites[i];
			continue;
		}
		close(t->mfds[i]);
		t->nsites -= t->mfd_sites[i];
		n++;
	}
	t->nmfds = k;
	for (i = 0, k = 0; i < t->nlinks; i++) {
		if (t->link_pids[i] != pid) {
			t->links[k] = t->links[i];
			t->link_pids[k++] = t->link_pids[i];
			continue;
		}
		bpf_link__destroy(t->links[i]);
		t->nsites--;
		n++;
	}
	t->nlinks = k;
	return n;
}

int tracer__watch(struct tracer *t, pid_t pid, bool hold, uint32_t skip)
{
	struct lp_watch w = {.hold = hold, .skip = skip};
	uint32_t key = pid;
	int err;

	if (!t->skel)
		return -EINVAL;
	if (!t->exec_link) {
		/* a raw tracepoint: no tracefs needed */
		t->exec_link = bpf_program__attach_raw_tracepoint(t->skel->progs.lp_exec,
								  "sched_process_exec");
		if (!t->exec_link) {
			err = -errno;
			t->exec_link = NULL;
			lp_seterr("cannot follow the execs of process %d (raw tracepoint "
				  "sched_process_exec): %s",
				  (int)pid, strerror(-err));
			return err;
		}
	}
	err = bpf_map__update_elem(t->skel->maps.watched, &key, sizeof(key), &w, sizeof(w),
				   BPF_ANY);
	if (err)
		lp_seterr("cannot follow the execs of process %d: %s", (int)pid, strerror(-err));
	return err;
}

void tracer__unwatch(struct tracer *t, pid_t pid)
{
	uint32_t key = pid;

	if (t->skel)
		bpf_map__delete_elem(t->skel->maps.watched, &key, sizeof(key), 0);
}

/* Delete the keys of map fd whose first 4 bytes are pid: collected first, then deleted. */
static void delete_pid_keys(int fd, size_t ksize, uint32_t pid)
{
	char *keys = NULL, *next = malloc(ksize), *prev = NULL;
	size_t n = 0, cap = 0, i;
	uint32_t kpid;

	while (next && bpf_map_get_next_key(fd, prev, next) == 0) {
		if (n == cap) {
			char *nk;

			cap = cap ? cap * 2 : 64;
			nk = realloc(keys, cap * ksize);
			if (!nk)
				break;
			keys = nk;
		}
		memcpy(keys + n * ksize, next, ksize);
		prev = keys + n++ * ksize;
	}
	for (i = 0; i < n; i++) {
		memcpy(&kpid, keys + i * ksize, sizeof(kpid));
		if (kpid == pid)
			bpf_map_delete_elem(fd, keys + i * ksize);
	}
	free(keys);
	free(next);
}

void tracer__forget_pid(struct tracer *t, pid_t pid)
{
	if (!t->skel)
		return;
	delete_pid_keys(bpf_map__fd(t->skel->maps.calls), bpf_map__key_size(t->skel->maps.calls),
			pid);
	delete_pid_keys(bpf_map__fd(t->skel->maps.scopes), bpf_map__key_size(t->skel->maps.scopes),
			pid);
}

size_t tracer__nlinks(const struct tracer *t)
{
	return t->nsites;
}

void tracer__detach_all(struct tracer *t)
{
	size_t i;

	bpf_link__destroy(t->exec_link);
	t->exec_link = NULL;
	for (i = 0; i < t->nmfds; i++)
		close(t->mfds[i]);
	t->nmfds = 0;
	for (i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	t->nlinks = 0;
	t->nsites = 0;
	t->warm_fds[0] = t->warm_fds[1] = t->warm_fds[2] = -1;
}

int tracer__ringbuf_fd(const struct tracer *t)
{
	return t->rb ? ring__fd(t->rb) : -1;
}

int tracer__drain(struct tracer *t, uint64_t budget_ns, bool *more)
{
	if (more)
		*more = false;
	if (!t->rb)
		return 0;
	return ring__consume(t->rb, budget_ns, more);
}

static bool is_event(const void *rec)
{
	return ((const struct lp_rec *)rec)->type != LP_REC_EXEC;
}

size_t tracer__undelivered(const struct tracer *t)
{
	return t->rb ? ring__pending(t->rb, is_event) : 0;
}

void tracer__batches(const struct tracer *t, uint64_t *batches, uint64_t *cut)
{
	*batches = *cut = 0;
	if (t->rb)
		ring__batches(t->rb, batches, cut);
}

void tracer__set_idle(struct tracer *t)
{
	if (t->skel && t->skel->bss)
		__atomic_store_n(&t->skel->bss->consumer_idle, 1, __ATOMIC_SEQ_CST);
}

int tracer__stats(const struct tracer *t, uint64_t out[LP_NSTATS])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	uint32_t k;
	int c, err = 0;

	memset(out, 0, LP_NSTATS * sizeof(uint64_t));
	if (!t->skel || ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(uint64_t));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < LP_NSTATS; k++) {
		err = bpf_map__lookup_elem(t->skel->maps.stats, &k, sizeof(k), vals,
					   ncpu * sizeof(uint64_t), 0);
		if (err)
			break;
		for (c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return err;
}

size_t tracer__inflight(const struct tracer *t)
{
	struct lp_call_key key, next;
	struct lp_rec *rec;
	size_t n = 0;
	int fd;

	if (!t->skel)
		return 0;
	fd = bpf_map__fd(t->skel->maps.calls);
	/* the value is the entry record and its data: only the header is looked at */
	rec = calloc(1, bpf_map__value_size(t->skel->maps.calls) + sizeof(*rec));
	if (!rec || bpf_map_get_next_key(fd, NULL, &key)) {
		free(rec);
		return 0;
	}
	do {
		/* calls `where` or `within` turned away are marked, not in flight */
		if (bpf_map_lookup_elem(fd, &key, rec) == 0 && !(rec->flags & LP_RF_REJECTED))
			n++;
	} while (!bpf_map_get_next_key(fd, &key, &next) && (key = next, 1));
	free(rec);
	return n;
}

int tracer__stack(const struct tracer *t, int32_t id, uint64_t *ips, size_t max)
{
	uint64_t buf[LP_STACK_DEPTH];
	size_t n;
	int err;

	if (!t->skel || id < 0)
		return -ENOENT;
	memset(buf, 0, sizeof(buf));
	err = bpf_map__lookup_elem(t->skel->maps.stacks, &id, sizeof(id), buf, sizeof(buf), 0);
	if (err)
		return err;
	for (n = 0; n < LP_STACK_DEPTH && n < max && buf[n]; n++)
		ips[n] = buf[n];
	return n;
}

void tracer__free(struct tracer *t)
{
	uint32_t i;

	if (!t)
		return;
	tracer__detach_all(t);
	tracer__settle(t);
	warm_close_now(t);
	luprobe_bpf__destroy(t->pre_skel);
	free(t->links);
	free(t->link_pids);
	free(t->mfds);
	free(t->mfd_pids);
	free(t->mfd_sites);
	ring__close(t->rb);
	luprobe_bpf__destroy(t->skel);
	for (i = 0; i < t->nplans; i++)
		free(t->plans[i]);
	free(t->plans);
	free(t->probe_enabled);
	free(t);
}
