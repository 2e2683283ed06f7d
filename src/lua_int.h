/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the Lua layer: the state shared by its files (lua_script.c the
 * state and the one call path, lua_load.c loading source text, lua_probe.c
 * the probe objects, lua_event.c the event objects and delivery,
 * lua_globals.c the globals and timers). Nothing outside src/lua_*.c
 * includes this.
 */
#ifndef LUPROBE_LUA_INT_H
#define LUPROBE_LUA_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include "lua_api.h"
#include "strbuf.h"

#define PROBE_MT   "luprobe.probe"
#define EVENT_MT   "luprobe.event"
#define TIMER_MT   "luprobe.timer"
#define SPEC_MT	   "luprobe.spec"
#define SENTINEL_MT "luprobe.finalizer"
#define KEY_PROBES "luprobe.probes"  /* [probe id + 1] = probe userdata */
#define KEY_EXIT   "luprobe.on_exit" /* { fn, ... } */
#define KEY_STACKS "luprobe.stacks"  /* ["id:pid:bin"] = symbolized stack, shared */
#define KEY_FINALIZERS "luprobe.finalizers" /* [table] = its finalizer's sentinel, weak keys */

/* Why the Lua code running now is being stopped (lua_script.abort). */
enum lp_abort {
	LP_ABORT_NONE,
	LP_ABORT_SIGNAL, /* Ctrl-C, SIGTERM, SIGHUP */
	LP_ABORT_BUDGET, /* the callback ran more than --budget instructions */
	LP_ABORT_MEMORY, /* the script's memory limit was reached */
	LP_ABORT_EXIT,	 /* os.exit() */
};

struct lua_script {
	struct lua_opts opts;
	struct lua_host host;
	lua_State *L;
	struct lualloc *lalloc; /* the allocator of L */
	int handlers_ref;	/* registry: [probe id + 1] = { fn, ... } */
	int event_mt_ref;	/* registry: the event metatable */
	int msgh_ref[2];	/* registry: the message handlers (main chunk, callback) */
	bool in_lua;		/* a callback or the main chunk is running */
	/*
	 * Set, the running callback (or main chunk) raises at every instruction
	 * until control is back in luprobe: pcall cannot swallow the stop.
	 */
	volatile sig_atomic_t abort;
	lua_State *volatile running; /* the coroutine a callback is running, or NULL */
	uint64_t budget_used;	     /* instructions the callback has run, in hook quanta */
	bool memory_hit;	     /* the state reached the memory limit (and got room to end) */
	struct lua_counts counts;
	struct strbuf line; /* scratch for event text */
};

/*
 * Per-event paths find the layer's state without string keys: a C-string
 * key costs a hash and a strcmp each time.
 */
static inline struct lua_script *lua_script_of(lua_State *L)
{
	return *(struct lua_script **)lua_getextraspace(L);
}

static inline unsigned host_state(const struct lua_script *ls)
{
	return ls->host.ops->state(ls->host.ctx);
}

static inline void host_stop(const struct lua_script *ls, int exit_code)
{
	ls->host.ops->stop(ls->host.ctx, exit_code);
}

static inline bool host_stopping(const struct lua_script *ls)
{
	return ls->host.ops->stopping(ls->host.ctx);
}

/* lua_script.c: a callback through the one way into Lua */
int lua_script__call(struct lua_script *ls, int nargs, const char *what);
/*
 * luprobe's own Lua code (luprobe.metrics): lua_pcall's status, *why what
 * stopped it, under the same budget and memory limit; an error is the
 * caller's to report, never counted as the script's.
 */
int lua_script__pcall(struct lua_script *ls, int nargs, int nres, enum lp_abort *why);

/* lua_load.c */
void lua_load__open(lua_State *L, const struct lua_opts *opts);

/* lua_probe.c */
void lua_probe__createmeta(lua_State *L);
int lua_probe__new(lua_State *L);
int lua_probe__on_event(lua_State *L);

/* lua_event.c */
void lua_event__createmeta(lua_State *L, struct lua_script *ls);
struct lp_rec;
struct planinfo;
/* rec's stack (stack_id, stack_ret, flags, bias) symbolized: a shared table, or nil */
void lua_event__push_stack(lua_State *L, const struct lp_rec *rec, const struct planinfo *pi);

/* lua_globals.c */
void lua_globals__open(lua_State *L, const struct lua_opts *opts);

#endif
