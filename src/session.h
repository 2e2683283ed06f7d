/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One run of luprobe: its settings (struct env), the Lua state, the tracer,
 * the traced processes and the event loop that serves the ring buffer,
 * timers, signals and the targets' exits.
 */
#ifndef LUPROBE_SESSION_H
#define LUPROBE_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <lua.h>
#include "probe.h"
#include "strbuf.h"
#include "target.h"
#include "tracer.h"

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
	bool quiet;		  /* -q: no summary line at exit */
	bool keep_going;	  /* --keep-going: callback errors are counted, not fatal */
	double duration_s;	  /* --duration: stop after this long (0: no limit) */
	uint64_t lua_budget;	  /* instructions a callback may run (0: unlimited) */
	size_t memory;		  /* --memory: bytes the script's Lua state may hold */
	struct tracer_opts topts; /* ring buffer and map sizes */
	uint32_t drain_ms;	  /* longest wait before draining the ring buffer */
	const char *user;	  /* --user: run as this user once the probes are attached */
	struct target_user as;	  /* its uid, gid and groups */
};

/* A timer's delay or interval from here on (2^62 ns, 146 years): it never fires. */
#define TIMER_NEVER (1ull << 62)

struct timer {
	uint64_t due;	   /* CLOCK_MONOTONIC ns; UINT64_MAX: never */
	uint64_t delay;	   /* ns to the first call, counted from when tracing starts */
	uint64_t interval; /* ns; 0 for a one-shot */
	int fn_ref;	   /* Lua registry ref of the callback */
	int id;
	bool cancelled;
};

/* Why the Lua code running now is being stopped (session.abort). */
enum lp_abort {
	LP_ABORT_NONE,
	LP_ABORT_SIGNAL, /* Ctrl-C, SIGTERM, SIGHUP */
	LP_ABORT_BUDGET, /* the callback ran more than --budget instructions */
	LP_ABORT_MEMORY, /* the script's memory limit was reached */
	LP_ABORT_EXIT,	 /* os.exit() */
};

struct session {
	struct env *env;
	lua_State *L;
	struct lualloc *lalloc; /* the allocator of L */
	int handlers_ref;	/* registry: [probe id + 1] = { fn, ... } */
	int event_mt_ref;	/* registry: the event metatable */
	struct probe_set ps;
	struct tracer *tracer;
	struct target targets[MAX_TARGETS];
	int ntargets;
	int nwatched; /* targets whose pidfd the loop watches */
	bool attached;
	bool in_lua;  /* a callback or the main chunk is running */
	/*
	 * Set, the running callback (or main chunk) raises at every instruction
	 * until control is back in luprobe: pcall cannot swallow the stop.
	 */
	volatile sig_atomic_t abort;
	lua_State *volatile running; /* the coroutine a callback is running, or NULL */
	uint64_t budget_used;	     /* instructions the callback has run, in hook quanta */
	bool memory_hit;	     /* the Lua state reached --memory (and got room to end) */
	bool looping; /* the event loop has started */
	bool ended;   /* the loop is over and the probes detached: no new probe */
	bool dropped; /* switched to --user: no more probes */
	/* lifecycle */
	bool stop; /* leave the loop */
	int exit_code;
	bool exit_code_set; /* exit(code) or an error decided it */
	/* timers */
	struct timer *timers;
	int ntimers, timers_cap, next_timer_id;
	/* counters for the summary */
	uint64_t delivered;
	uint64_t undelivered; /* left in the ring when the run ended */
	uint64_t callback_errors;
	uint64_t started_ns;
	struct strbuf line; /* scratch for output */
};

extern volatile sig_atomic_t lp_signalled; /* the signal (SIGINT, SIGTERM, SIGHUP) seen, or 0 */

uint64_t now_ns(void);

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

/* Add a running process as a target (-p). */
int session__add_pid(struct session *s, pid_t pid);
/*
 * attach(pid): add a running process as a target and resolve every probe
 * without target = for it, attaching them if tracing has started. On an
 * error (named "attach(PID): ...") nothing of it is left.
 */
int session__trace_pid(struct session *s, pid_t pid);
/* Timers: returns the id, or -errno. */
int session__add_timer(struct session *s, uint64_t interval_ns, bool repeat, int fn_ref);
void session__cancel_timer(struct session *s, int id);

#endif
