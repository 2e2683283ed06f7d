/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The BPF side seen from user space: loads the generic program (a libbpf
 * skeleton compiled at build time), sizes and fills its maps, attaches
 * uprobes with cookies, drains the ring buffer and reads the counters. It
 * owns every link: tracer__free() detaches everything, and because links are
 * file descriptors the kernel removes them too if luprobe dies.
 */
#ifndef LUPROBE_TRACER_H
#define LUPROBE_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>
#include "luprobe.h"

struct tracer_opts {
	size_t ringbuf_bytes; /* power of two; default 8 MiB */
	size_t wakeup_bytes;  /* data in the ring that wakes the consumer; default ringbuf/8 */
	uint32_t max_plans;   /* default 4096 */
	uint32_t max_probes;  /* default 1024 */
	uint32_t max_calls;   /* in-flight calls kept for pairing; default what 64 MiB holds */
	uint32_t max_stacks;  /* distinct stacks; default 4096 (if a probe wants stacks) */
	uint32_t agg_keys;    /* keys each aggregation map holds; default 16384 */
	uint64_t map_limit;   /* kernel memory one map may take; default 1 GiB */
};

#define LP_MAP_LIMIT (1ULL << 30)

struct tracer;

/* Called for each record; return < 0 to stop draining before it (it stays). */
typedef int (*tracer_event_fn)(void *ctx, const struct lp_rec *rec, size_t size);

int tracer__new(const struct tracer_opts *opts, struct tracer **out);
void tracer__free(struct tracer *t); /* detaches everything; accepts NULL */

/* A new plan slot (index for the cookie); -ENOSPC past max_plans. */
int tracer__alloc_plan(struct tracer *t);
/* Store a plan; before load it is kept and written at load. */
int tracer__set_plan(struct tracer *t, uint32_t idx, const struct lp_plan *plan);

/*
 * What the probes need of the BPF object, fixed when it is loaded: the
 * session fills it from the probe set (probe_set__needs) and applies it
 * with tracer__set_needs() before tracer__load().
 */
struct tracer_needs {
	bool calls;	     /* a plan pairs calls: the call map keeps entry records */
	uint32_t call_bytes; /* the largest entry record a paired plan keeps per call */
	char call_why[128];  /* what needs call_bytes, for a refusal ("main.F with strcap 64") */
	bool scopes;	     /* a probe scopes others (within =): a scope map that holds them */
	bool stacks;	     /* a probe captures stacks: a stack map */
	bool tls;	     /* a site reads g from thread-local storage: the task's fsbase */
	bool aggs;	     /* a plan updates in-kernel aggregations */
	bool maps;	     /* a plan looks keys up in Go maps (m["key"]) */
};

/*
 * Whether the loaded program has the part feat (enum lp_features): a program
 * is loaded with only the parts its probes need. True before load.
 */
bool tracer__has(const struct tracer *t, uint32_t feat);

/* Size the object to load for these needs (before load; replaces what was set). */
void tracer__set_needs(struct tracer *t, const struct tracer_needs *needs);

/*
 * Keys each aggregation map holds (luprobe.options{ agg_keys = n }, before
 * load). -EBUSY once loaded, -E2BIG past the memory limit (lp_seterr).
 */
int tracer__set_agg_keys(struct tracer *t, uint32_t n);
/* Keys each aggregation map holds (as loaded, or as it will be). */
uint32_t tracer__agg_keys(const struct tracer *t);
/* Distinct stacks the stack map holds (--max-stacks), when a probe wants stacks. */
uint32_t tracer__max_stacks(const struct tracer *t);

/* One group (and bucket) of an aggregation, summed over CPUs. */
typedef int (*tracer_agg_fn)(void *ctx, const struct lp_agg_key *key, const struct lp_agg_val *val);
/*
 * Call fn for every group of aggregation id, summed over CPUs: the sum has
 * 128 bits (sum_hi:sum), min and max compare as signed when sgn is true (the
 * value is a Go signed integer), else as unsigned.
 */
int tracer__agg_read(const struct tracer *t, uint32_t id, bool sgn, tracer_agg_fn fn, void *ctx);
/* Forget the data of aggregation id. */
int tracer__agg_clear(const struct tracer *t, uint32_t id);

int tracer__set_probe_enabled(struct tracer *t, uint32_t probe, bool enabled);

bool tracer__loaded(const struct tracer *t);

/* 1: the kernel has uprobe_multi links, 0: it has not, -errno: cannot tell (no BPF allowed). */
int tracer__uprobe_multi(void);
/* One uprobe_multi link of a loaded program at offset in path, for pid (0: all): fd or -1. */
int tracer__uprobe_multi_link(int prog_fd, const char *path, uint64_t offset, pid_t pid);
/* Create maps and load the program. Plans and probe states set so far are written. */
int tracer__load(struct tracer *t, tracer_event_fn fn, void *ctx);

/*
 * Attach uprobes at file offsets offsets[0..n) of `path`, with cookies[i],
 * for process `pid` (-1: every process running the file): one uprobe_multi
 * link where the kernel has them, else one perf-event link per site. The
 * kernel resolves path to an inode once, here: /proc/self/fd/N attaches to
 * the file open at N. name is the file in messages. Returns 0 or -errno with
 * lp_seterr().
 */
int tracer__attach(struct tracer *t, const char *path, const char *name, const uint64_t *offsets,
		   const uint64_t *cookies, size_t n, pid_t pid);
/*
 * Follow the execs of process pid: each is reported as an LP_REC_EXEC
 * record, after `skip` unreported ones; with `hold`, the process is stopped
 * (SIGSTOP) at the exec, for the caller to resume once its probes are back.
 */
int tracer__watch(struct tracer *t, pid_t pid, bool hold, uint32_t skip);
void tracer__unwatch(struct tracer *t, pid_t pid);
/* Forget the call and scope state of process pid (its image was replaced). */
void tracer__forget_pid(struct tracer *t, pid_t pid);
/* Detach every link made for process pid; returns how many. */
size_t tracer__detach_pid(struct tracer *t, pid_t pid);
/* Sites attached. */
size_t tracer__nlinks(const struct tracer *t);
void tracer__detach_all(struct tracer *t);

/* Ring buffer: the fd to poll. */
int tracer__ringbuf_fd(const struct tracer *t);
/*
 * Start, in a thread, what makes the first attach fast (see tracer.c);
 * release it once attached.
 */
void tracer__warm_up(struct tracer *t);
void tracer__warm_release(struct tracer *t);
/* Wait for every thread the tracer started (before dropping privileges). */
void tracer__settle(struct tracer *t);
/*
 * Consume what the ring holds now, for at most budget_ns (0: no limit);
 * returns the number of records, or -errno; *more: records are left.
 */
int tracer__drain(struct tracer *t, uint64_t budget_ns, bool *more);
/* Events in the ring not consumed (after detaching: those never delivered). */
size_t tracer__undelivered(const struct tracer *t);
/* Batches drained, and those the time limit cut short. */
void tracer__batches(const struct tracer *t, uint64_t *batches, uint64_t *cut);
/* The consumer is going to sleep on an empty ring: the next record wakes it. */
void tracer__set_idle(struct tracer *t);

/* Sum of the per-CPU counters. */
int tracer__stats(const struct tracer *t, uint64_t out[LP_NSTATS]);

/*
 * Calls whose entry was seen and whose return was not (yet): a panic, a
 * runtime.Goexit, or a call still running. Bounded by max_calls (LRU).
 */
size_t tracer__inflight(const struct tracer *t);

/* Frames of stack id (from the stack map); returns the count or -errno. */
int tracer__stack(const struct tracer *t, int32_t id, uint64_t *ips, size_t max);

#endif
