/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One run of luprobe: its settings (struct env), the script (the Lua layer,
 * which reaches the run through the host interface the session fills in), the tracer,
 * the traced processes and the event loop that serves the ring buffer,
 * timers, signals and the targets' exits.
 */
#ifndef LUPROBE_SESSION_H
#define LUPROBE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include "probe.h"
#include "target.h"
#include "tracer.h"

struct lua_script;
struct prometheus;

#define MAX_TARGETS	64
#define MAX_INCLUDES	16
#define MAX_SCRIPT_ARGS 64

/* All settings of a run, from the command line. */
struct env {
	const char *script;	 /* script file, or NULL with -e */
	const char *code;	 /* -e CODE */
	pid_t pids[MAX_TARGETS]; /* -p PID (repeatable) */
	int npids;
	char **command;			    /* -- COMMAND ARGS... (NULL-terminated) */
	const char *includes[MAX_INCLUDES]; /* -I DIR: module search path */
	int nincludes;
	const char *script_args[MAX_SCRIPT_ARGS]; /* -a key=value */
	int nscript_args;
	bool json;		  /* --json: events and aggregations as JSON lines */
	const char *output;	  /* -o FILE: luprobe's stdout goes there */
	const char *debug_file;	  /* --debug-file: DWARF for the traced binaries */
	bool quiet;		  /* -q: no summary line at exit */
	bool keep_going;	  /* --keep-going: callback errors are counted, not fatal */
	double duration_s;	  /* --duration: stop after this long (0: no limit) */
	uint64_t lua_budget;	  /* instructions a callback may run (0: unlimited) */
	size_t memory;		  /* --memory: bytes the script's Lua state may hold */
	struct tracer_opts topts; /* ring buffer and map sizes */
	uint32_t drain_ms;	  /* longest wait before draining the ring buffer */
	const char *metrics;	  /* --metrics [ADDR:]PORT: serve Prometheus metrics there */
	const char *otlp;	  /* --otlp URL: send call events as spans there */
	bool otlp_json;		  /* --otlp-json: in OTLP's JSON encoding */
	const char *user;	  /* --user: run as this user once the probes are attached */
	struct target_user as;	  /* its uid, gid and groups */
};

struct timer {
	uint64_t due;	   /* CLOCK_MONOTONIC ns; UINT64_MAX: never */
	uint64_t delay;	   /* ns to the first call, counted from when tracing starts */
	uint64_t interval; /* ns; 0 for a one-shot */
	int fn_ref;	   /* Lua registry ref of the callback */
	int id;
	bool cancelled;
};

struct session {
	struct env *env;
	struct lua_script *lua; /* the script's state (lua_api.h) */
	struct probe_set ps;
	struct tracer *tracer;
	struct target targets[MAX_TARGETS];
	int ntargets;
	int nwatched; /* targets whose pidfd the loop watches */
	bool attached;
	bool looping; /* the event loop has started */
	bool ended;   /* the loop is over and the probes detached: no new probe */
	bool dropped; /* switched to --user: no more probes */
	uint64_t replaced_ns; /* when to look again for target = paths renamed over */
	/* lifecycle */
	bool stop; /* leave the loop */
	int exit_code;
	bool exit_code_set; /* exit(code) or an error decided it */
	/* timers */
	struct timer *timers;
	int ntimers, timers_cap, next_timer_id;
	uint64_t started_ns;
	uint64_t started_wall_ns; /* the same instant, CLOCK_REALTIME */
	struct prometheus *prom; /* --metrics, or NULL */
	struct exporter *exp;	 /* --otlp, or NULL */
	uint64_t export_due;	 /* when the exporter wants to be polled (CLOCK_MONOTONIC) */
};

extern volatile sig_atomic_t lp_signalled; /* the signal (SIGINT, SIGTERM, SIGHUP) seen, or 0 */

int session__init(struct session *s, struct env *env);
void session__free(struct session *s);

/* Read and compile the script (syntax errors are reported here). */
int session__load_script(struct session *s);
/* Launch the command (held before exec) and open the -p processes. */
int session__open_targets(struct session *s);
/* Run the compiled main chunk. */
int session__run_script(struct session *s);
/* Load the BPF side and attach every probe so far (idempotent). */
int session__attach(struct session *s);
/*
 * --user: switch to that user for good (no capability left, no_new_privs),
 * after the probes are attached and before the first callback.
 */
int session__drop_privileges(struct session *s);
/* Serve events until the run ends; returns the process exit code. */
int session__loop(struct session *s);
/* After the loop: drain, on_exit handlers, summary, detach. */
int session__finish(struct session *s);

#endif
