/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Probes as the script declares them, and their resolution: a function name
 * or glob in a Go binary becomes, per matching function, a compiled plan and
 * the uprobe sites (entry, and every RET when results are wanted).
 */
#ifndef LUPROBE_PROBE_H
#define LUPROBE_PROBE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "binary.h"
#include "plan.h"
#include "tracer.h"

enum probe_args {
	PA_DEFAULT = 0, /* all parameters if DWARF has them, else the raw argument words */
	PA_ALL,		/* args = true: all parameters (DWARF or declared) */
	PA_NONE,	/* args = false */
	PA_NAMES,	/* args = { "n", "r.URL.Path" }: these, from DWARF */
	PA_DECL,	/* args = { {"s", "string"}, ... }: declared in the script, in order;
			 * with names ({ {"r", "*T"}, "r.Method" }) only those are captured */
};

enum probe_ret {
	PR_NONE = 0,
	PR_ALL,	 /* ret = true: every result (DWARF), or latency only without DWARF */
	PR_DECL, /* ret = { "float64", "error" } or { {"n","int"}, ... } */
};

struct probe_arg {
	char *name;	/* parameter name, or a field path "r.URL.Path" */
	char *type;	/* PA_DECL / PR_DECL: the Go type as written; NULL for a name */
	char *fallback; /* {name, type, fallback}: the type to use if the binary lacks type's */
};

struct probe_spec {
	char *func;   /* exact Go symbol or glob */
	char *target; /* binary path; NULL: the session's targets */
	char *debug;  /* debug = PATH: DWARF from that unstripped build of the binary */
	enum probe_args args_mode;
	struct probe_arg *args; /* PA_DECL: the ndecl declared ones first, then the names */
	size_t nargs, ndecl;
	enum probe_ret ret_mode;
	struct probe_arg *rets;
	size_t nrets;
	/* "b[:n]" entries of args: memory read at return (bounded.h), not in args[] */
	char **bounded;
	size_t nbounded;
	bool separate;	/* entry and return as separate events */
	bool stack;	/* capture user stacks */
	bool enabled;	/* start enabled (default true) */
	char *where;	/* predicate */
	uint32_t limit; /* most functions a glob may match */
	/* replaced = "resolve": target = renamed over before attach: resolve in the new file */
	bool follow_path;
	struct plan_opts popts;
};

/* One traced function of one probe: what a cookie's plan index leads to. */
struct planinfo {
	struct probe *probe;
	struct binary *bin;
	const struct gobin_func *func;
	struct plan_builder *pb;
	size_t nresults; /* results among the plan's values */
	bool raw;	 /* raw argument words (no DWARF, nothing declared) */
	/* the signature, kept to capture more values later (predicates, aggregations) */
	struct goparam *params; /* np arguments, then nr results */
	size_t np, nr;
	struct goassign *ploc, *rloc;
	bool want_ret;
	/* its sites read g from thread-local storage (stack ABI): entry or call sites, RETs */
	bool tls_entry, tls_rets;
};

/* Where to put one uprobe. */
struct attach_point {
	bool is_ret;	 /* a RET site: attached for results or for a scope */
	bool is_recover; /* LP_SITE_RECOVER: attached while the probe is a scope */
	bool is_spawn;	 /* LP_SITE_SPAWN, LP_SITE_GOEXIT: while started goroutines inherit it */
	bool attached;
	struct binary *bin;
	uint64_t offset; /* file offset */
	uint64_t cookie;
	pid_t pid; /* -1: every process */
};

struct probe {
	uint32_t id;
	struct probe_spec spec;
	bool enabled;
	struct probe *within; /* scope: only inside calls of this probe */
	bool scope;	      /* other probes are scoped to this one */
	bool spawned;	      /* within: also in goroutines started inside (transitively) */
	bool scope_spawn;     /* scope: goroutines started inside inherit it */
	uint32_t *plans;
	size_t nplans;
	struct attach_point *points;
	size_t npoints, points_cap;
	size_t nattached;  /* points attached so far */
	uint64_t events;   /* delivered to the script */
	bool has_handlers; /* the script handles its events (else they print, or feed aggs) */
	size_t naggs;	   /* in-kernel aggregations it feeds */
};

/* An in-kernel aggregation a probe feeds (p:count(), p:hist(), ...). */
struct agg_req {
	uint32_t id;
	enum lp_agg_kind kind;
	const char *key;   /* NULL: one group; "func": per function; else a value name or path */
	const char *value; /* NULL (count); "latency"; else an integer value name or path */
	int64_t lmin, lstep;
	uint32_t lcount;
	bool val_signed; /* out: the value is a Go signed integer (min, max and sums compare so) */
};

/* What a key of an aggregation is, to decode it. */
enum agg_keykind {
	AK_NONE,
	AK_INT,
	AK_UINT,
	AK_STR,
	AK_BOOL,
	AK_FUNC,
	AK_GOID,  /* a goroutine id: 0 is not known */
	AK_STACK, /* struct lp_stack_key */
};

/* Registries shared by all probes of a run. */
struct probe_set {
	struct binary *bins;
	struct tracer *tracer;
	/* non-zero (a signal came): stop resolving a glob */
	const volatile sig_atomic_t *interrupted;
	struct planinfo *plans; /* indexed by plan index */
	size_t plans_cap;
	struct probe **probes;
	size_t nprobes;
	uint32_t naggs; /* aggregation ids given so far */
	const char *debug_file; /* --debug-file: for every binary without DWARF */
};

/*
 * What the probes of ps need of the BPF object (call pairing and the
 * largest entry record, scopes, stacks, TLS reads), for tracer__set_needs()
 * before the tracer is loaded.
 */
void probe_set__needs(const struct probe_set *ps, struct tracer_needs *needs);

/* Write p's plans again (flags changed: events on or off, scope). */
int probe__update_plans(struct probe_set *ps, struct probe *p);

/*
 * Open (or find) a binary: the file at path (fd -1; the first one read stays
 * the file of that path for the run), or the file open at fd (a process's
 * executable: found by its inode, or opened from a duplicate of fd; path
 * names it in messages).
 */
int probe_set__binary(struct probe_set *ps, const char *path, int fd, struct binary **out);

/*
 * Process pid no longer runs what p's points for it were made for (it
 * exited, or executed another image): forget those points, except those
 * in binary `keep`, which are marked to be attached again. Their links must
 * have been detached (tracer__detach_pid).
 */
void probe__reset_pid(struct probe *p, pid_t pid, const struct binary *keep);

/* Attach the probe's points not attached yet (the tracer must be loaded). */
int probe__attach(struct probe_set *ps, struct probe *p);

/* The planinfo of plan index idx, made room for (zeroed when new); NULL: no memory. */
struct planinfo *probe_set__new_planinfo(struct probe_set *ps, uint32_t idx);

/* Record a probe site that was checked (binary__check_site): the file offset of vaddr. */
int probe__add_point(struct probe *p, struct binary *b, uint64_t vaddr, uint64_t cookie,
		     pid_t pid, const struct gobin_func *f, bool is_ret);

/* Create a probe (id assigned, spec owned by the probe). */
int probe_set__add(struct probe_set *ps, struct probe_spec *spec, struct probe **out);

void probe_spec__free(struct probe_spec *spec);
void probe_set__free(struct probe_set *ps);

/* The planinfo of a plan index, or NULL. */
const struct planinfo *probe_set__plan(const struct probe_set *ps, uint32_t idx);

/*
 * Do DWARF's parameters of f add up to the pclntab's argument size? Go's
 * DWARF omits blank and unnamed parameters and those of generated wrappers.
 */
bool probe__dwarf_complete(const struct gobin_func *f, const struct goparam *params, size_t n,
			   bool regabi_era);

#endif
