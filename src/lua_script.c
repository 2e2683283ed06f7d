// SPDX-License-Identifier: BSD-2-Clause
/*
 * The script's Lua state: opening and closing it, and the one way C calls
 * into Lua (script_pcall: one message handler with a traceback, the budget,
 * the memory limit, Ctrl-C), with one error policy for callbacks
 * (lua_script__call) and one for the main chunk (lua_api__run_script).
 * What runs inside Lua but escapes hooks (coroutines made before tracing,
 * finalizers) is brought under them here too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "log.h"
#include "decode.h"
#include "lua_int.h"
#include "lualloc.h"
#include "util.h"

/* ---- the message handler ---- */

/*
 * Upvalue 1 true: a callback's error, always with a traceback (an error
 * object with __tostring is its text). false: the main chunk's, one line,
 * a traceback only at -v.
 */
static int msgh(lua_State *L)
{
	bool callback = lua_toboolean(L, lua_upvalueindex(1));
	const char *msg = lua_tostring(L, 1);

	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
			if (callback)
				return 1;
			msg = lua_tostring(L, -1);
		} else {
			/* error(t): where it was thrown (error() is level 1, without a line) */
			luaL_where(L, 1);
			if (!*lua_tostring(L, -1)) {
				lua_pop(L, 1);
				luaL_where(L, 2);
			}
			msg = lua_pushfstring(L, "%s(error object is a %s value)",
					      lua_tostring(L, -1), luaL_typename(L, 1));
		}
	}
	if (callback || lp_verbosity > 0)
		luaL_traceback(L, L, msg, 1);
	else
		lua_pushstring(L, msg);
	return 1;
}

/* ---- budget, Ctrl-C, memory ---- */

/*
 * The budget counts the instructions of every thread a callback runs: the
 * hook fires every quantum of them, in the main thread and in each
 * coroutine (a count hook is per thread), and adds the quantum up.
 */
static int budget_quantum(const struct lua_script *ls)
{
	uint64_t b = ls->opts.budget;

	return b <= 1024 ? (int)b : (int)(b / 1024);
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* Make thread L raise at its next instruction (and at every one after it). */
static void abort_arm(struct lua_script *ls, lua_State *L)
{
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
	if (L != ls->L)
		lua_sethook(ls->L, budget_hook, LUA_MASKCOUNT, 1);
}

/*
 * Raise the error that stops the running Lua code (ls->abort says why), with
 * the line of the function at level (0 in a hook: the function running).
 */
static int abort_raise(struct lua_script *ls, lua_State *L, int level)
{
	abort_arm(ls, L);
	luaL_where(L, level);
	switch (ls->abort) {
	case LP_ABORT_BUDGET:
		lua_pushfstring(L,
				"callback ran more than %d instructions (a runaway loop?); raise "
				"the budget with --budget",
				(int)ls->opts.budget);
		break;
	case LP_ABORT_EXIT:
		lua_pushliteral(L, "os.exit");
		break;
	case LP_ABORT_MEMORY:
		lua_pushliteral(L, "the script's memory limit was reached");
		break;
	default:
		lua_pushliteral(L, "interrupted");
	}
	lua_concat(L, 2);
	return lua_error(L);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
	struct lua_script *ls = lua_script_of(L);

	(void)ar;
	if (!ls->abort) {
		if (!ls->opts.budget)
			return;
		ls->budget_used += budget_quantum(ls);
		if (ls->budget_used < ls->opts.budget)
			return;
		ls->abort = LP_ABORT_BUDGET;
	}
	abort_raise(ls, L, 0);
}

/* Called from the signal handler while Lua runs: stop at the next instruction. */
void lua_api__interrupt(struct lua_script *ls)
{
	lua_State *co;

	if (!ls || !ls->L || !ls->in_lua)
		return;
	ls->abort = LP_ABORT_SIGNAL;
	lua_sethook(ls->L, budget_hook, LUA_MASKCOUNT, 1);
	co = ls->running;
	if (co)
		lua_sethook(co, budget_hook, LUA_MASKCOUNT, 1);
}

/* "the script's memory limit of 64 MiB was reached; raise it with --memory SIZE" */
static const char *memory_text(const struct lua_script *ls)
{
	static char text[128];
	char size[32];

	util__size_text(size, sizeof(size), ls->opts.memory);
	snprintf(text, sizeof(text),
		 "the script's memory limit of %s was reached; raise it with --memory SIZE", size);
	return text;
}

/*
 * The allocator refused to grow the Lua state past the limit: the callback
 * stops (pcall cannot catch that), and once per run the state gets an eighth
 * more, so that the error's traceback and the on_exit handlers can run.
 */
static void memory_refused(void *ctx)
{
	struct lua_script *ls = ctx;
	lua_State *co = ls->running;

	if (!ls->abort)
		ls->abort = LP_ABORT_MEMORY;
	lua_sethook(ls->L, budget_hook, LUA_MASKCOUNT, 1);
	if (co)
		lua_sethook(co, budget_hook, LUA_MASKCOUNT, 1);
	if (!ls->memory_hit) {
		ls->memory_hit = true;
		lualloc__grant(ls->lalloc, ls->opts.memory / 8);
	}
}

/* ---- the one call path ---- */

/*
 * Call the function below the nargs arguments with the message handler, the
 * budget (once tracing has started), the memory limit and Ctrl-C. Returns
 * lua_pcall's status, *why what stopped it; nres results or the message are
 * left on the stack.
 */
static int script_pcall(struct lua_script *ls, int nargs, int nres, bool callback,
			enum lp_abort *why)
{
	lua_State *L = ls->L;
	int base = lua_gettop(L) - nargs, err;
	bool was_in = ls->in_lua;

	/* made once: a closure per callback would be garbage per event */
	lua_rawgeti(L, LUA_REGISTRYINDEX, ls->msgh_ref[callback]);
	lua_insert(L, base);
	if (!was_in) {
		ls->abort = LP_ABORT_NONE;
		ls->budget_used = 0;
		if (ls->opts.budget && (host_state(ls) & LUA_HOST_ATTACHED))
			lua_sethook(L, budget_hook, LUA_MASKCOUNT, budget_quantum(ls));
		lualloc__enforce(ls->lalloc, true);
	}
	ls->in_lua = true;
	err = lua_pcall(L, nargs, nres, base);
	ls->in_lua = was_in;
	*why = ls->abort;
	if (!was_in) {
		lualloc__enforce(ls->lalloc, false);
		lua_sethook(L, NULL, 0, 0);
		ls->running = NULL;
		ls->abort = LP_ABORT_NONE;
	}
	lua_remove(L, base);
	return err;
}

/* A call of luprobe's own code: no callback policy, the caller decides (lua_int.h). */
int lua_script__pcall(struct lua_script *ls, int nargs, int nres, enum lp_abort *why)
{
	return script_pcall(ls, nargs, nres, false, why);
}

/*
 * A callback: on success one result is left on the stack and 0 returned; on
 * error the message is printed, nothing is left, -1 returned, and the run
 * ends unless --keep-going.
 */
int lua_script__call(struct lua_script *ls, int nargs, const char *what)
{
	lua_State *L = ls->L;
	enum lp_abort why;

	if (script_pcall(ls, nargs, 1, true, &why) == LUA_OK)
		return 0;
	if (why == LP_ABORT_SIGNAL || why == LP_ABORT_EXIT) {
		/* Ctrl-C stopped a running callback, or it called os.exit(): a clean stop */
		lua_pop(L, 1);
		host_stop(ls, LUA_STOP_CLEAN);
		return -1;
	}
	ls->counts.errors++;
	if (why == LP_ABORT_MEMORY) {
		/* every further event would fail the same way: the run ends, --keep-going or not */
		fprintf(stderr, "luprobe: %s: %s\n", what ? what : "callback",
			memory_text(ls));
		lua_pop(L, 1);
		host_stop(ls, LUA_STOP_ERROR);
		return -1;
	}
	fprintf(stderr, "luprobe: %s%s%s\n", what ? what : "", what ? ": " : "",
		lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
	lua_pop(L, 1);
	if (!ls->opts.keep_going)
		host_stop(ls, LUA_STOP_ERROR);
	return -1;
}

int lua_api__run_script(struct lua_script *ls)
{
	lua_State *L = ls->L;
	enum lp_abort why;
	int err;

	/* the chunk loaded by lua_api__load_script is on the stack */
	err = script_pcall(ls, 0, 0, false, &why);
	if (err == LUA_OK)
		return 0;
	if (why == LP_ABORT_EXIT) {
		/* os.exit() in the main chunk: as exit() there */
		lua_pop(L, 1);
		return 0;
	}
	if (why == LP_ABORT_MEMORY) {
		lp_seterr("%s: %s", ls->opts.script ? ls->opts.script : "(command line)",
			  memory_text(ls));
		lua_pop(L, 1);
		return -ENOMEM;
	}
	if (why == LP_ABORT_SIGNAL)
		lp_seterr("interrupted");
	else
		lp_seterr("%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
	lua_pop(L, 1);
	return -EINVAL;
}

void lua_api__call_ref(struct lua_script *ls, int ref, const char *what)
{
	lua_rawgeti(ls->L, LUA_REGISTRYINDEX, ref);
	if (lua_script__call(ls, 0, what) == 0)
		lua_pop(ls->L, 1);
}

void lua_api__unref(struct lua_script *ls, int ref)
{
	luaL_unref(ls->L, LUA_REGISTRYINDEX, ref);
}

void lua_api__run_exit(struct lua_script *ls)
{
	lua_State *L = ls->L;
	int n, i, top;

	lua_getfield(L, LUA_REGISTRYINDEX, KEY_EXIT);
	n = luaL_len(L, -1);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		if (lua_script__call(ls, 0, "on_exit") == 0)
			lua_pop(L, 1);
	}
	lua_pop(L, 1);
	/* aggregations the script did not print are printed, as bpftrace prints its maps */
	top = lua_gettop(L);
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "luprobe.agg") == LUA_TTABLE &&
	    lua_getfield(L, -1, "_at_exit") == LUA_TFUNCTION)
		lua_script__call(ls, 0, "printing aggregations");
	lua_settop(L, top);
}

/* ---- what escapes hooks: coroutines, finalizers, os.exit ---- */

/*
 * Lua gives a new thread the hook of the thread that creates it, and never
 * again: a coroutine made in the main chunk, before tracing, would run a
 * callback's loop without budget or Ctrl-C. Resuming one gives it the hook
 * of the thread that resumes it.
 */
static lua_State *resume_begin(struct lua_script *ls, lua_State *L, lua_State *co)
{
	lua_State *prev = ls->running;
	lua_Hook h = lua_gethook(L);
	int mask = lua_gethookmask(L), count = lua_gethookcount(L);

	ls->running = co; /* first: a signal from here on arms co itself */
	if (lua_gethook(co) != h || lua_gethookmask(co) != mask || lua_gethookcount(co) != count)
		lua_sethook(co, h, mask, count);
	if (ls->abort)
		lua_sethook(co, budget_hook, LUA_MASKCOUNT, 1);
	return prev;
}

/* After the coroutine stopped: what stopped it stops its resumer too. */
static void resume_end(struct lua_script *ls, lua_State *L, lua_State *prev)
{
	ls->running = prev;
	if (ls->abort)
		abort_raise(ls, L, 1);
}

/* coroutine.resume(co, ...) */
static int l_co_resume(lua_State *L)
{
	struct lua_script *ls = lua_script_of(L);
	lua_State *co = lua_tothread(L, 1), *prev;

	luaL_argexpected(L, co, 1, "coroutine");
	prev = resume_begin(ls, L, co);
	lua_pushvalue(L, lua_upvalueindex(1)); /* Lua's resume */
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	resume_end(ls, L, prev);
	return lua_gettop(L);
}

/* The function coroutine.wrap(f) returns; upvalues: the coroutine, Lua's resume. */
static int l_co_wrapped(lua_State *L)
{
	struct lua_script *ls = lua_script_of(L);
	lua_State *co = lua_tothread(L, lua_upvalueindex(1)), *prev;
	int nargs = lua_gettop(L), stat;

	prev = resume_begin(ls, L, co);
	lua_pushvalue(L, lua_upvalueindex(2));
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_rotate(L, 1, 2); /* resume, co, args */
	lua_call(L, nargs + 1, LUA_MULTRET);
	resume_end(ls, L, prev);
	if (lua_toboolean(L, 1)) {
		lua_remove(L, 1);
		return lua_gettop(L);
	}
	/* as Lua's wrap: close the dead coroutine's variables, say where, propagate */
	stat = lua_status(co);
	if (stat != LUA_OK && stat != LUA_YIELD) {
		stat = lua_resetthread(co);
		lua_settop(L, 0);
		lua_xmove(co, L, 1);
	}
	if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
		luaL_where(L, 1);
		lua_insert(L, -2);
		lua_concat(L, 2);
	}
	return lua_error(L);
}

/* coroutine.wrap(f) */
static int l_co_wrap(lua_State *L)
{
	lua_State *co;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	co = lua_newthread(L);
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, l_co_wrapped, 2);
	return 1;
}

/*
 * Lua runs a __gc metamethod with hooks off: the budget, Ctrl-C and the
 * memory limit's stop could not reach a finalizer that loops, whether the
 * collector runs it during a callback or lua_close at exit. And it calls
 * whatever mt.__gc holds when the object is collected, which the script may
 * have set after setmetatable. So Lua never finalizes a script's table
 * itself: setmetatable gives a table whose metatable has a __gc a sentinel
 * (KEY_FINALIZERS[t], weak by key) that is finalized with it, and the
 * sentinel's __gc calls t's __gc of that moment in a thread of its own,
 * where hooks work.
 */
static int l_gc_sentinel(lua_State *L)
{
	struct lua_script *ls = lua_script_of(L);
	lua_State *co, *prev;
	int status, nres;

	if (lua_getiuservalue(L, 1, 1) != LUA_TTABLE || !lua_getmetatable(L, -1))
		return 0;
	lua_pushliteral(L, "__gc");
	if (lua_rawget(L, -2) == LUA_TNIL)
		return 0;
	co = lua_newthread(L);
	lua_rotate(L, -2, 1); /* t, mt, co, __gc */
	lua_pushvalue(L, -4);
	lua_xmove(L, co, 2);
	prev = resume_begin(ls, L, co);
	status = lua_resume(co, L, 1, &nres);
	ls->running = prev;
	if (status != LUA_OK && status != LUA_YIELD) {
		lua_xmove(co, L, 1);
		return lua_error(L); /* a warning, as any error in __gc */
	}
	return 0;
}

/* setmetatable(t, mt): Lua's, with mt.__gc run by a sentinel (above) */
static int l_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return luaL_error(L, "cannot change a protected metatable");
	lua_settop(L, 2);
	lua_pushliteral(L, "__gc");
	if (t == LUA_TNIL || lua_rawget(L, 2) == LUA_TNIL) {
		lua_settop(L, 2);
		lua_setmetatable(L, 1);
		return 1;
	}
	/* without __gc for a moment, so that Lua does not mark t for finalization */
	lua_pushliteral(L, "__gc");
	lua_pushnil(L);
	lua_rawset(L, 2);
	lua_pushvalue(L, 2);
	lua_setmetatable(L, 1);
	lua_pushliteral(L, "__gc");
	lua_insert(L, -2);
	lua_rawset(L, 2); /* t, mt */
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_FINALIZERS);
	lua_pushvalue(L, 1);
	if (lua_rawget(L, -2) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_pushvalue(L, 1);
		lua_newuserdatauv(L, 0, 1);
		lua_pushvalue(L, 1);
		lua_setiuservalue(L, -2, 1);
		luaL_setmetatable(L, SENTINEL_MT);
		lua_rawset(L, -3);
	}
	lua_settop(L, 1);
	return 1;
}

/*
 * os.exit([code]) ends the run like exit(code), but at once: the rest of the
 * callback does not run (Lua's would end luprobe without on_exit, with the
 * command running and the output unwritten).
 */
static int l_os_exit(lua_State *L)
{
	struct lua_script *ls = lua_script_of(L);
	lua_Integer code = 0;

	if (lua_isboolean(L, 1)) {
		code = lua_toboolean(L, 1) ? 0 : 1;
	} else if (!lua_isnoneornil(L, 1)) {
		code = luaL_checkinteger(L, 1);
		luaL_argcheck(L, code >= 0 && code <= 255, 1, "exit code must be from 0 to 255");
	}
	host_stop(ls, (int)code);
	ls->abort = LP_ABORT_EXIT;
	return abort_raise(ls, L, 1);
}

/*
 * What a script must not reach: the debug library but for traceback and
 * getinfo (sethook would lift the budget, setmetatable and getregistry reach
 * luprobe's own objects, setlocal and setupvalue its closures), and
 * package.loadlib (native code from any path; package.cpath is empty).
 */
static void restrict_libs(lua_State *L)
{
	lua_getglobal(L, "debug");
	lua_createtable(L, 0, 2);
	lua_getfield(L, -2, "traceback");
	lua_setfield(L, -2, "traceback");
	lua_getfield(L, -2, "getinfo");
	lua_setfield(L, -2, "getinfo");
	lua_setglobal(L, "debug");
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getglobal(L, "debug");
	lua_setfield(L, -2, "debug");
	lua_pop(L, 2);
	lua_getglobal(L, "package");
	lua_pushnil(L);
	lua_setfield(L, -2, "loadlib");
	lua_pop(L, 1);
}

/*
 * Lua's coroutine.resume and wrap, setmetatable and os.exit, replaced by the
 * above; the debug library and package.loadlib restricted.
 */
static void open_guards(lua_State *L)
{
	lua_getglobal(L, "coroutine");
	lua_getfield(L, -1, "resume");
	lua_pushvalue(L, -1);
	lua_pushcclosure(L, l_co_resume, 1);
	lua_setfield(L, -3, "resume");
	lua_pushcclosure(L, l_co_wrap, 1);
	lua_setfield(L, -2, "wrap");
	lua_getglobal(L, "os");
	lua_pushcfunction(L, l_os_exit);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 2);
	lua_register(L, "setmetatable", l_setmetatable);
	/* the sentinels, weak by key, and their metatable (never seen by the script) */
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_FINALIZERS);
	luaL_newmetatable(L, SENTINEL_MT);
	lua_pushcfunction(L, l_gc_sentinel);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1);
	restrict_libs(L);
}

/* ---- the state ---- */

/* An error outside any protected call: say what it was, then Lua aborts. */
static int lua_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);

	fprintf(stderr, "luprobe: unprotected Lua error: %s\n", msg ? msg : "?");
	return 0;
}

int lua_api__open(const struct lua_opts *opts, const struct lua_host *host,
		  struct lua_script **out)
{
	struct lua_script *ls = calloc(1, sizeof(*ls));
	lua_State *L;

	*out = NULL;
	if (!ls)
		return -ENOMEM;
	ls->opts = *opts;
	ls->host = *host;
	sb_init(&ls->line);
	ls->lalloc = lualloc__new(opts->memory, memory_refused, ls);
	L = ls->lalloc ? lua_newstate(lualloc__fn, ls->lalloc) : NULL;
	if (!L) {
		lua_api__close(&ls);
		return -ENOMEM;
	}
	lua_atpanic(L, lua_panic);
	ls->L = L;
	*(struct lua_script **)lua_getextraspace(L) = ls;
	luaL_openlibs(L);
	lua_load__open(L, opts);
	open_guards(L);
	for (int i = 0; i < 2; i++) {
		lua_pushboolean(L, i);
		lua_pushcclosure(L, msgh, 1);
		ls->msgh_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	lua_newtable(L);
	ls->handlers_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_PROBES);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_EXIT);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_STACKS);
	decode__init_lua(L);
	lua_probe__createmeta(L);
	lua_event__createmeta(L, ls);
	lua_globals__open(L, opts);
	*out = ls;
	return 0;
}

void lua_api__close(struct lua_script **lsp)
{
	struct lua_script *ls = *lsp;

	if (!ls)
		return;
	/*
	 * lua_close runs the script's finalizers (__gc): while the tracer's
	 * maps, the probes and the targets still exist, with the budget and the
	 * memory limit of a callback, and Ctrl-C stopping them.
	 */
	if (ls->L) {
		ls->abort = LP_ABORT_NONE;
		ls->budget_used = 0;
		ls->running = NULL;
		if (ls->opts.budget)
			lua_sethook(ls->L, budget_hook, LUA_MASKCOUNT, budget_quantum(ls));
		lualloc__enforce(ls->lalloc, true);
		ls->in_lua = true;
		lua_close(ls->L);
		ls->in_lua = false;
		/* Lua turns an error in __gc into a warning, off by default: say it once */
		if (ls->abort == LP_ABORT_BUDGET)
			fprintf(stderr,
				"luprobe: finalizers (__gc) ran more than %d instructions at exit; "
				"the rest did not run (raise the budget with --budget)\n",
				(int)ls->opts.budget);
		else if (ls->abort == LP_ABORT_MEMORY)
			fprintf(stderr, "luprobe: finalizers (__gc) at exit: %s\n",
				memory_text(ls));
		ls->abort = LP_ABORT_NONE;
	}
	ls->L = NULL;
	/* a signal handler may look at *lsp: never at freed memory */
	*lsp = NULL;
	lualloc__free(ls->lalloc);
	sb_free(&ls->line);
	free(ls);
}

struct lua_counts *lua_api__counts(struct lua_script *ls)
{
	return &ls->counts;
}

bool lua_api__in_lua(const struct lua_script *ls)
{
	return ls && ls->in_lua;
}
