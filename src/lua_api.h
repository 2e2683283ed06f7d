/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Lua layer (see docs/lua-api.md and the Lua layer in docs/design.md):
 * the script's state, loading and running it, the luprobe globals and
 * objects, and delivering events to the handlers. It reaches the rest of
 * the run (targets, attaching, timers, the end of the run) only through
 * struct lua_host, which the session fills in.
 */
#ifndef LUPROBE_LUA_API_H
#define LUPROBE_LUA_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "luprobe.h"

struct probe;
struct probe_set;
struct tracer;
struct lua_script;
struct exporter;

/* What the host's state() reports. */
enum {
	LUA_HOST_ATTACHED = 1, /* tracing has started: new probes attach at once */
	LUA_HOST_DROPPED = 2,  /* switched to --user: no new probe, no new process */
	LUA_HOST_ENDED = 4,    /* the run is over: on_exit, finalizers */
};

/* How the Lua layer asks the run to stop (stop()'s exit_code, besides 0 to 255). */
enum {
	LUA_STOP_CLEAN = -1, /* stop, the exit code left as it is */
	LUA_STOP_ERROR = -2, /* stop with exit code 1, unless one was decided already */
};

/* What the Lua layer needs from the run; every function gets the host's ctx. */
struct lua_host_ops {
	/* attach(): load the BPF side and attach every probe so far (idempotent) */
	int (*attach)(void *ctx);
	/* attach(pid): trace a running process too; on error nothing of it is left */
	int (*add_pid)(void *ctx, pid_t pid);
	/* a new probe: resolve it in the targets, attach it once tracing has started */
	int (*add_probe)(void *ctx, struct probe *p);
	/* every(ms, fn) / after(ms, fn): returns the timer's id, or -errno */
	int (*add_timer)(void *ctx, uint64_t ns, bool repeat, int fn_ref);
	void (*cancel_timer)(void *ctx, int id);
	/* LUA_HOST_* flags */
	unsigned (*state)(void *ctx);
	/* end the run: exit_code 0 to 255 sets it, or LUA_STOP_* */
	void (*stop)(void *ctx, int exit_code);
	bool (*stopping)(void *ctx);
};

struct lua_host {
	const struct lua_host_ops *ops;
	void *ctx;
};

/* The settings of the Lua layer (copied; the strings must outlive the state). */
struct lua_opts {
	uint64_t budget;	 /* instructions a callback may run (0: unlimited) */
	size_t memory;		 /* bytes the state may hold */
	bool keep_going;	 /* callback errors are counted, not fatal */
	bool json;		 /* events print as JSON */
	const char *user;	 /* --user, for messages */
	const char *script;	 /* the script file (its directory is on the path), or NULL */
	const char *const *includes; /* -I directories */
	int nincludes;
	const char *const *script_args; /* -a key=value */
	int nscript_args;
	struct probe_set *ps;
	struct tracer *tracer;
	struct exporter *exporter; /* --otlp (luprobe.otel sends spans to it), or NULL */
};

/* What the Lua layer counted, for the summary and luprobe.stats(). */
struct lua_counts {
	uint64_t delivered;   /* events given to handlers or printed */
	uint64_t undelivered; /* events that came after the run was told to stop */
	uint64_t errors;      /* errors in callbacks */
};

/* Create the state with the luprobe globals; NULL and -errno on failure. */
int lua_api__open(const struct lua_opts *opts, const struct lua_host *host,
		  struct lua_script **out);
/*
 * Close the state (the script's finalizers run, budget and memory limit
 * applied; lua_api__interrupt still stops them), then free it and set *lsp
 * to NULL.
 */
void lua_api__close(struct lua_script **lsp);
struct lua_counts *lua_api__counts(struct lua_script *ls);
/* A callback or the main chunk is running. */
bool lua_api__in_lua(const struct lua_script *ls);

/* Compile the script: the file of opts.script, or code (-e). Errors via lp_seterr. */
int lua_api__load_script(struct lua_script *ls, const char *code);
/* Run the compiled main chunk (its errors are one line, a traceback at -v). */
int lua_api__run_script(struct lua_script *ls);

/* Publish the target pids as luprobe.pids. */
void lua_api__set_pids(struct lua_script *ls, const pid_t *pids, int n);
/* Deliver one record to the script (its handlers, or the default printer). */
int lua_api__event(struct lua_script *ls, const struct lp_rec *rec, size_t size);
/* Call the function in registry ref with no arguments (a timer), dropping its result. */
void lua_api__call_ref(struct lua_script *ls, int ref, const char *what);
/* Release a registry ref (a timer that is over). */
void lua_api__unref(struct lua_script *ls, int ref);
/* Run the on_exit handlers, then print the aggregations the script did not. */
void lua_api__run_exit(struct lua_script *ls);
/*
 * Add the script's aggregations to set (--metrics; luprobe.metrics says
 * how). 0, or -errno with lp_seterr saying why; the script's counts and
 * aggregations are left as they were.
 */
struct metric_set;
int lua_api__metrics(struct lua_script *ls, struct metric_set *set);
/* From a signal handler: make running Lua code stop at its next instruction. */
void lua_api__interrupt(struct lua_script *ls);

#endif
