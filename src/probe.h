/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Probes as the script declares them, and their resolution: a function name
 * or glob in a Go binary becomes, per matching function, a compiled plan and
 * the uprobe sites (entry, and every RET when results are wanted).
 */
#ifndef LUPROBE_PROBE_H
#define LUPROBE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "gobin.h"
#include "godwarf.h"
#include "goruntime.h"
#include "gotype.h"
#include "plan.h"
#include "tracer.h"

enum probe_args {
	PA_DEFAULT = 0, /* all parameters if DWARF has them, else the raw argument words */
	PA_ALL,		/* args = true: all parameters (DWARF or declared) */
	PA_NONE,	/* args = false */
	PA_NAMES,	/* args = { "n", "r.URL.Path" }: these, from DWARF */
	PA_DECL,	/* args = { {"s", "string"}, ... }: declared in the script, in order */
};

enum probe_ret {
	PR_NONE = 0,
	PR_ALL,	 /* ret = true: every result (DWARF), or latency only without DWARF */
	PR_DECL, /* ret = { "float64", "error" } or { {"n","int"}, ... } */
};

struct probe_arg {
	char *name; /* parameter name, or a field path "r.URL.Path" */
	char *type; /* PA_DECL / PR_DECL: the Go type as written */
};

struct probe_spec {
	char *func;   /* exact Go symbol or glob */
	char *target; /* binary path; NULL: the session's targets */
	enum probe_args args_mode;
	struct probe_arg *args;
	size_t nargs;
	enum probe_ret ret_mode;
	struct probe_arg *rets;
	size_t nrets;
	bool separate;	/* entry and return as separate events */
	bool stack;	/* capture user stacks */
	bool enabled;	/* start enabled (default true) */
	char *where;	/* predicate */
	uint32_t limit; /* most functions a glob may match */
	struct plan_opts popts;
};

/* A Go executable opened once per run. */
struct binary {
	char *path;
	struct gobin *gb;
	struct gotypes *ts;
	struct godwarf *dw;
	bool dw_tried;
	struct goruntime rt;
	uint64_t first_vaddr; /* lowest PT_LOAD address (for the PIE bias) */
	int16_t tls_off;      /* offset of g from the thread pointer */
	struct binary *next;
};

/* One traced function of one probe: what a cookie's plan index leads to. */
struct planinfo {
	struct probe *probe;
	struct binary *bin;
	const struct gobin_func *func;
	struct plan_builder *pb;
	size_t nresults; /* results among the plan's values */
	bool raw;	 /* raw argument words (no DWARF, nothing declared) */
};

/* Where to put one uprobe. */
struct attach_point {
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
	uint32_t *plans;
	size_t nplans;
	struct attach_point *points;
	size_t npoints, points_cap;
	size_t nattached; /* points attached so far */
	uint64_t events;  /* delivered to the script */
};

/* Registries shared by all probes of a run. */
struct probe_set {
	struct binary *bins;
	struct tracer *tracer;
	struct planinfo *plans; /* indexed by plan index */
	size_t plans_cap;
	struct probe **probes;
	size_t nprobes;
};

/* Open (or find) a binary. */
int probe_set__binary(struct probe_set *ps, const char *path, struct binary **out);

/*
 * Resolve spec against the binary at path for the given pid (-1 for every
 * process): compile a plan per matching function and record the attach
 * points. Errors are recorded with lp_seterr() and name the function and
 * binary. May be called several times for several targets.
 */
int probe__resolve(struct probe_set *ps, struct probe *p, const char *path, pid_t pid);

/* Attach the probe's points not attached yet (the tracer must be loaded). */
int probe__attach(struct probe_set *ps, struct probe *p);

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

/* Named DWARF lookup helpers for a binary (opened lazily). */
struct godwarf *binary__dwarf(struct binary *b);

#endif
