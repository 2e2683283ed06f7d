// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Lua surface: probe{}, on_event, attach, every, after, on_exit, exit,
 * and the event and probe objects. Host context lives in the registry; every
 * call into Lua goes through lua_api__call (traceback, one error policy).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include <lualib.h>
#include "decode.h"
#include "log.h"
#include "lua_api.h"
#include "lualloc.h"
#include "output.h"
#include "predicate.h"
#include "session.h"

#define PROBE_MT   "luprobe.probe"
#define EVENT_MT   "luprobe.event"
#define TIMER_MT   "luprobe.timer"
#define KEY_PROBES "luprobe.probes"  /* [probe id + 1] = probe userdata */
#define KEY_EXIT   "luprobe.on_exit" /* { fn, ... } */
#define KEY_STACKS "luprobe.stacks"  /* ["id:pid:bin"] = symbolized stack, shared */

struct lprobe {
	struct probe *p;
};

struct ltimer {
	int id;
};

/* An event's user values: what it decoded once, kept for further reads. */
enum { UV_ARGS = 1, UV_RET, UV_STACK, UV_N = UV_STACK };

/* An event: the record as it came from the ring buffer. */
struct levent {
	size_t size;
	struct lp_rec rec; /* followed by rec.data_len bytes */
};

/*
 * Per-event paths find the session, the handlers and the event metatable
 * without string keys: a C-string key costs a hash and a strcmp each time.
 */
static struct session *get_session(lua_State *L)
{
	return *(struct session **)lua_getextraspace(L);
}

/* ---- errors and calls ---- */

static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		/* error(t): where it was thrown (error() itself is level 1, without a line) */
		luaL_where(L, 1);
		if (!*lua_tostring(L, -1)) {
			lua_pop(L, 1);
			luaL_where(L, 2);
		}
		msg = lua_pushfstring(L, "%s(error object is a %s value)", lua_tostring(L, -1),
				      luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/*
 * The budget counts the instructions of every thread a callback runs: the
 * hook fires every quantum of them, in the main thread and in each
 * coroutine (a count hook is per thread), and adds the quantum up.
 */
static int budget_quantum(const struct session *s)
{
	uint64_t b = s->env->lua_budget;

	return b <= 1024 ? (int)b : (int)(b / 1024);
}

static void budget_hook(lua_State *L, lua_Debug *ar);

/* Make thread L raise at its next instruction (and at every one after it). */
static void abort_arm(struct session *s, lua_State *L)
{
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
	if (L != s->L)
		lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, 1);
}

/*
 * Raise the error that stops the running Lua code (s->abort says why), with
 * the line of the function at level (0 in a hook: the function running).
 */
static int abort_raise(struct session *s, lua_State *L, int level)
{
	abort_arm(s, L);
	luaL_where(L, level);
	switch (s->abort) {
	case LP_ABORT_BUDGET:
		lua_pushfstring(L,
				"callback ran more than %d instructions (a runaway loop?); raise "
				"the budget with --budget",
				(int)s->env->lua_budget);
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
	struct session *s = get_session(L);

	(void)ar;
	if (!s->abort) {
		if (!s->env->lua_budget)
			return;
		s->budget_used += budget_quantum(s);
		if (s->budget_used < s->env->lua_budget)
			return;
		s->abort = LP_ABORT_BUDGET;
	}
	abort_raise(s, L, 0);
}

/* Called from the signal handler while Lua runs: stop at the next instruction. */
void lua_api__interrupt(struct session *s)
{
	lua_State *co;

	if (!s || !s->L || !s->in_lua)
		return;
	s->abort = LP_ABORT_SIGNAL;
	lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, 1);
	co = s->running;
	if (co)
		lua_sethook(co, budget_hook, LUA_MASKCOUNT, 1);
}

/* "64 MiB" */
static void format_size(char *buf, size_t len, size_t n)
{
	if (n && !(n % (1ul << 30)))
		snprintf(buf, len, "%zu GiB", n >> 30);
	else if (n && !(n % (1ul << 20)))
		snprintf(buf, len, "%zu MiB", n >> 20);
	else if (n && !(n % (1ul << 10)))
		snprintf(buf, len, "%zu KiB", n >> 10);
	else
		snprintf(buf, len, "%zu bytes", n);
}

const char *lua_api__memory_text(const struct session *s)
{
	static char text[128];
	char size[32];

	format_size(size, sizeof(size), s->env->memory);
	snprintf(text, sizeof(text),
		 "the script's memory limit of %s was reached; raise it with --memory SIZE", size);
	return text;
}

/*
 * The allocator refused to grow the Lua state past --memory: the callback
 * stops (pcall cannot catch that), and once per run the state gets an eighth
 * more, so that the error's traceback and the on_exit handlers can run.
 */
static void memory_refused(void *ctx)
{
	struct session *s = ctx;
	lua_State *co = s->running;

	if (!s->abort)
		s->abort = LP_ABORT_MEMORY;
	lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, 1);
	if (co)
		lua_sethook(co, budget_hook, LUA_MASKCOUNT, 1);
	if (!s->memory_hit) {
		s->memory_hit = true;
		lualloc__grant(s->lalloc, s->env->memory / 8);
	}
}

int lua_api__call(struct session *s, int nargs, const char *what)
{
	lua_State *L = s->L;
	int base = lua_gettop(L) - nargs, err, why;
	bool was_in = s->in_lua;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	if (!was_in) {
		s->abort = LP_ABORT_NONE;
		s->budget_used = 0;
		if (s->env->lua_budget && s->attached)
			lua_sethook(L, budget_hook, LUA_MASKCOUNT, budget_quantum(s));
		lualloc__enforce(s->lalloc, true);
	}
	s->in_lua = true;
	err = lua_pcall(L, nargs, 1, base);
	s->in_lua = was_in;
	why = s->abort;
	if (!was_in) {
		lualloc__enforce(s->lalloc, false);
		lua_sethook(L, NULL, 0, 0);
		s->running = NULL;
		s->abort = LP_ABORT_NONE;
	}
	lua_remove(L, base);
	if (err == LUA_OK)
		return 0;
	if (why == LP_ABORT_SIGNAL || why == LP_ABORT_EXIT) {
		/* Ctrl-C stopped a running callback, or it called os.exit(): a clean stop */
		lua_pop(L, 1);
		s->stop = true;
		return -1;
	}
	s->callback_errors++;
	if (why == LP_ABORT_MEMORY) {
		/* every further event would fail the same way: the run ends, --keep-going or not */
		fprintf(stderr, "luprobe: %s: %s\n", what ? what : "callback",
			lua_api__memory_text(s));
		lua_pop(L, 1);
		s->stop = true;
		if (!s->exit_code_set) {
			s->exit_code = 1;
			s->exit_code_set = true;
		}
		return -1;
	}
	fprintf(stderr, "luprobe: %s%s%s\n", what ? what : "", what ? ": " : "",
		lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
	lua_pop(L, 1);
	if (!s->env->keep_going) {
		s->stop = true;
		if (!s->exit_code_set) {
			s->exit_code = 1;
			s->exit_code_set = true;
		}
	}
	return -1;
}

/* ---- coroutines ---- */

/*
 * Lua gives a new thread the hook of the thread that creates it, and never
 * again: a coroutine made in the main chunk, before tracing, would run a
 * callback's loop without budget or Ctrl-C. Resuming one gives it the hook
 * of the thread that resumes it.
 */
static lua_State *resume_begin(struct session *s, lua_State *L, lua_State *co)
{
	lua_State *prev = s->running;
	lua_Hook h = lua_gethook(L);
	int mask = lua_gethookmask(L), count = lua_gethookcount(L);

	s->running = co; /* first: a signal from here on arms co itself */
	if (lua_gethook(co) != h || lua_gethookmask(co) != mask || lua_gethookcount(co) != count)
		lua_sethook(co, h, mask, count);
	if (s->abort)
		lua_sethook(co, budget_hook, LUA_MASKCOUNT, 1);
	return prev;
}

/* After the coroutine stopped: what stopped it stops its resumer too. */
static void resume_end(struct session *s, lua_State *L, lua_State *prev)
{
	s->running = prev;
	if (s->abort)
		abort_raise(s, L, 1);
}

/* coroutine.resume(co, ...) */
static int l_co_resume(lua_State *L)
{
	struct session *s = get_session(L);
	lua_State *co = lua_tothread(L, 1), *prev;

	luaL_argexpected(L, co, 1, "coroutine");
	prev = resume_begin(s, L, co);
	lua_pushvalue(L, lua_upvalueindex(1)); /* Lua's resume */
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	resume_end(s, L, prev);
	return lua_gettop(L);
}

/* The function coroutine.wrap(f) returns; upvalues: the coroutine, Lua's resume. */
static int l_co_wrapped(lua_State *L)
{
	struct session *s = get_session(L);
	lua_State *co = lua_tothread(L, lua_upvalueindex(1)), *prev;
	int nargs = lua_gettop(L), stat;

	prev = resume_begin(s, L, co);
	lua_pushvalue(L, lua_upvalueindex(2));
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_rotate(L, 1, 2); /* resume, co, args */
	lua_call(L, nargs + 1, LUA_MULTRET);
	resume_end(s, L, prev);
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
 * collector runs it during a callback or lua_close at exit. setmetatable
 * wraps a metatable's __gc so that it runs in a thread of its own, where
 * hooks work.
 */
static int l_gc_wrapped(lua_State *L)
{
	struct session *s = get_session(L);
	lua_State *co = lua_newthread(L), *prev;
	int status, nres;

	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	lua_xmove(L, co, 2);
	prev = resume_begin(s, L, co);
	status = lua_resume(co, L, 1, &nres);
	s->running = prev;
	if (status != LUA_OK && status != LUA_YIELD) {
		lua_xmove(co, L, 1);
		return lua_error(L); /* a warning, as any error in __gc */
	}
	return 0;
}

/* setmetatable(t, mt): Lua's, with mt.__gc made to run where hooks work */
static int l_setmetatable(lua_State *L)
{
	if (lua_istable(L, 2)) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) == LUA_TFUNCTION && lua_tocfunction(L, -1) != l_gc_wrapped) {
			lua_pushliteral(L, "__gc");
			lua_insert(L, -2);
			lua_pushcclosure(L, l_gc_wrapped, 1);
			lua_rawset(L, 2);
		} else {
			lua_pop(L, 1);
		}
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

/*
 * os.exit([code]) ends the run like exit(code), but at once: the rest of the
 * callback does not run (Lua's would end luprobe without on_exit, with the
 * command running and the output unwritten).
 */
static int l_os_exit(lua_State *L)
{
	struct session *s = get_session(L);
	lua_Integer code = 0;

	if (lua_isboolean(L, 1)) {
		code = lua_toboolean(L, 1) ? 0 : 1;
	} else if (!lua_isnoneornil(L, 1)) {
		code = luaL_checkinteger(L, 1);
		luaL_argcheck(L, code >= 0 && code <= 255, 1, "exit code must be from 0 to 255");
	}
	s->exit_code = (int)code;
	s->exit_code_set = true;
	s->stop = true;
	s->abort = LP_ABORT_EXIT;
	return abort_raise(s, L, 1);
}

/* ---- spec parsing ---- */

static char *dup_field(lua_State *L, int idx, const char *field)
{
	const char *v;
	char *d;

	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return NULL;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "probe: '%s' must be a string", field);
	v = lua_tostring(L, -1);
	d = strdup(v);
	lua_pop(L, 1);
	if (!d)
		luaL_error(L, "out of memory");
	return d;
}

static int opt_int(lua_State *L, int idx, const char *field, int def, int lo, int hi)
{
	lua_Integer v;
	int isnum;

	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return def;
	}
	v = lua_tointegerx(L, -1, &isnum);
	if (!isnum || v < lo || v > hi)
		luaL_error(L, "probe: '%s' must be an integer from %d to %d", field, lo, hi);
	lua_pop(L, 1);
	return (int)v;
}

static bool opt_bool(lua_State *L, int idx, const char *field, bool def)
{
	bool v;

	lua_getfield(L, idx, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return def;
	}
	if (!lua_isboolean(L, -1))
		luaL_error(L, "probe: '%s' must be true or false", field);
	v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

/*
 * args/ret lists: { "n", "r.URL.Path" } (names) or { {"s","string"}, ... }
 * (declared) or, for ret, { "float64", "error" } (types). The list and its
 * strings belong to the spec (*out, *nout) from the moment they exist: any
 * error below unwinds past this function, and the spec's __gc frees them.
 */
static void parse_list(lua_State *L, int idx, const char *field, bool types_only,
		       struct probe_arg **out, size_t *nout, bool *declared)
{
	size_t n = luaL_len(L, idx), i;
	struct probe_arg *a;

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 ||
		    (size_t)lua_tointeger(L, -2) > n)
			luaL_error(L,
				   "probe: '%s' must be a list, in order: { {\"n\", \"int64\"}, "
				   "{\"s\", \"string\"} } or { \"n\", \"s\" }",
				   field);
		lua_pop(L, 1);
	}
	a = calloc(n ? n : 1, sizeof(*a));
	if (!a)
		luaL_error(L, "out of memory");
	*out = a;
	*nout = n;
	*declared = false;
	for (i = 0; i < n; i++) {
		int t = lua_rawgeti(L, idx, i + 1);

		if (t == LUA_TSTRING) {
			if (types_only)
				a[i].type = strdup(lua_tostring(L, -1));
			else
				a[i].name = strdup(lua_tostring(L, -1));
			if (!a[i].type && !a[i].name)
				luaL_error(L, "out of memory");
			if (types_only)
				*declared = true;
		} else if (t == LUA_TTABLE && luaL_len(L, -1) == 2) {
			lua_rawgeti(L, -1, 1);
			lua_rawgeti(L, -2, 2);
			if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
				luaL_error(L, "probe: %s[%d] must be {\"name\", \"type\"}", field,
					   (int)i + 1);
			a[i].name = strdup(lua_tostring(L, -2));
			a[i].type = strdup(lua_tostring(L, -1));
			if (!a[i].name || !a[i].type)
				luaL_error(L, "out of memory");
			*declared = true;
			lua_pop(L, 2);
		} else {
			luaL_error(L, "probe: %s[%d] must be a name or {\"name\", \"type\"}", field,
				   (int)i + 1);
		}
		lua_pop(L, 1);
	}
	for (i = 0; i < n; i++)
		if (*declared && !a[i].type)
			luaL_error(L,
				   "probe: %s mixes names and declarations; declare every "
				   "entry as {\"name\", \"type\"}",
				   field);
}

static const char *const spec_fields[] = {
	"func",	  "target", "args",   "ret",   "mode",	"stack", "enabled",
	"within", "where",  "strcap", "elems", "deref", "limit", NULL,
};

static void check_fields(lua_State *L, int idx)
{
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int i, ok = 0;

		if (lua_type(L, -2) == LUA_TSTRING)
			for (i = 0; spec_fields[i]; i++)
				if (strcmp(lua_tostring(L, -2), spec_fields[i]) == 0)
					ok = 1;
		if (!ok) {
			if (lua_type(L, -2) == LUA_TSTRING)
				luaL_error(L, "probe: unknown field '%s'", lua_tostring(L, -2));
			luaL_error(L, "probe: fields must be named, e.g. probe{ func = "
				      "\"main.computeE\" }");
		}
		lua_pop(L, 1);
	}
}

static void parse_spec(lua_State *L, int idx, struct probe_spec *sp)
{
	const char *mode;
	bool declared;

	memset(sp, 0, sizeof(*sp));
	check_fields(L, idx);
	sp->func = dup_field(L, idx, "func");
	if (!sp->func)
		luaL_error(L, "probe: 'func' is required, e.g. probe{ func = \"main.computeE\" }");
	sp->target = dup_field(L, idx, "target");

	lua_getfield(L, idx, "args");
	if (lua_isnil(L, -1))
		sp->args_mode = PA_DEFAULT;
	else if (lua_isboolean(L, -1))
		sp->args_mode = lua_toboolean(L, -1) ? PA_ALL : PA_NONE;
	else if (lua_istable(L, -1)) {
		parse_list(L, lua_gettop(L), "args", false, &sp->args, &sp->nargs, &declared);
		sp->args_mode = declared ? PA_DECL : PA_NAMES;
	} else
		luaL_error(L, "probe: 'args' must be true, false or a list");
	lua_pop(L, 1);

	lua_getfield(L, idx, "ret");
	if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1)))
		sp->ret_mode = PR_NONE;
	else if (lua_isboolean(L, -1))
		sp->ret_mode = PR_ALL;
	else if (lua_istable(L, -1)) {
		parse_list(L, lua_gettop(L), "ret", true, &sp->rets, &sp->nrets, &declared);
		sp->ret_mode = PR_DECL;
	} else
		luaL_error(L, "probe: 'ret' must be true, false or a list of types");
	lua_pop(L, 1);

	lua_getfield(L, idx, "mode");
	mode = lua_tostring(L, -1);
	if (mode && strcmp(mode, "separate") == 0)
		sp->separate = true;
	else if (mode && strcmp(mode, "call") != 0)
		luaL_error(L, "probe: 'mode' must be \"call\" (one event per call) or "
			      "\"separate\" (entry and return events)");
	lua_pop(L, 1);

	sp->where = dup_field(L, idx, "where");
	if (sp->where) {
		char err[256];

		if (predicate__check(sp->where, err, sizeof(err)))
			luaL_error(L, "probe: %s", err);
	}
	sp->stack = opt_bool(L, idx, "stack", false);
	sp->enabled = opt_bool(L, idx, "enabled", true);
	sp->popts.strcap = opt_int(L, idx, "strcap", 64, 0, LP_COPY_MAX - 1);
	sp->popts.elems = opt_int(L, idx, "elems", 8, 1, 256);
	sp->popts.depth = opt_int(L, idx, "deref", 1, 0, 3);
	sp->limit = opt_int(L, idx, "limit", 1000, 1, 100000);
}

/* ---- probe objects ---- */

static struct lprobe *check_probe(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, PROBE_MT);
}

static int resolve_all(lua_State *L, struct session *s, struct probe *p)
{
	int i, err;

	if (p->spec.target)
		return probe__resolve(&s->ps, p, p->spec.target, -1);
	if (!s->ntargets) {
		lp_seterr("%s: no process to trace: give target = \"path\" in the probe, -p PID, "
			  "or -- COMMAND",
			  p->spec.func);
		return -EINVAL;
	}
	for (i = 0; i < s->ntargets; i++) {
		err = probe__resolve(&s->ps, p, s->targets[i].path,
				     s->targets[i].launched ? s->targets[i].pid
							    : s->targets[i].pid);
		if (err)
			return err;
	}
	(void)L;
	return 0;
}

/*
 * The spec being parsed lives in a userdata that frees it when collected:
 * parse errors unwind with longjmp, past any free in the C code. Once a
 * probe owns the strings, probe_set__add leaves the spec empty.
 */
static int l_spec_gc(lua_State *L)
{
	struct probe_spec *sp = lua_touserdata(L, 1);

	probe_spec__free(sp);
	memset(sp, 0, sizeof(*sp));
	return 0;
}

static int l_probe(lua_State *L)
{
	struct session *s = get_session(L);
	struct probe_spec *spec;
	struct lprobe *lp;
	struct probe *p;
	int err;

	if (s->ended)
		return luaL_error(L, "probe: the run has ended; create probes in the main chunk or "
				     "in callbacks, not in on_exit or finalizers");
	if (s->dropped)
		return luaL_error(L,
				  "probe: no probe can be added after luprobe switched to user %s "
				  "(--user); create every probe in the main chunk",
				  s->env->user);
	if (lua_type(L, 1) == LUA_TSTRING) {
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, 1);
		lua_setfield(L, -2, "func");
		lua_replace(L, 1);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	spec = lua_newuserdatauv(L, sizeof(*spec), 0);
	memset(spec, 0, sizeof(*spec));
	if (luaL_newmetatable(L, "luprobe.spec")) {
		lua_pushcfunction(L, l_spec_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	parse_spec(L, 1, spec);
	lua_getfield(L, 1, "within");
	if (!lua_isnil(L, -1) && !luaL_testudata(L, -1, PROBE_MT))
		return luaL_error(L, "probe: 'within' must be a probe (returned by probe{...})");
	lp = lua_newuserdatauv(L, sizeof(*lp), 0);
	lp->p = NULL;
	luaL_setmetatable(L, PROBE_MT);
	err = probe_set__add(&s->ps, spec, &p);
	if (err)
		return luaL_error(L, "out of memory");
	lp->p = p;
	if (!lua_isnil(L, -2)) {
		struct probe *q = check_probe(L, -2)->p;

		p->within = q;
		if (!q->scope) {
			/* q now scopes p: its calls are tracked per goroutine, its RETs attached */
			q->scope = true;
			lp_clearerr();
			if (probe__update_plans(&s->ps, q) || probe__scope_points(&s->ps, q) ||
			    (s->attached && probe__attach(&s->ps, q)))
				return luaL_error(L, "%s", lp_lasterr());
		}
	}
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_PROBES);
	lua_pushvalue(L, -2);
	lua_rawseti(L, -2, p->id + 1);
	lua_pop(L, 1);

	lp_clearerr();
	err = resolve_all(L, s, p);
	if (!err && s->attached)
		err = probe__attach(&s->ps, p);
	if (err)
		return luaL_error(L, "%s", *lp_lasterr() ? lp_lasterr() : strerror(-err));
	return 1;
}

static int add_handler(lua_State *L, struct probe *p, int fn)
{
	struct session *s = get_session(L);

	luaL_checktype(L, fn, LUA_TFUNCTION);
	if (!p->has_handlers) {
		p->has_handlers = true;
		/* a probe that only fed aggregations now has events to deliver */
		if (p->naggs && probe__update_plans(&s->ps, p))
			return luaL_error(L, "%s", lp_lasterr());
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->handlers_ref);
	if (lua_rawgeti(L, -1, p->id + 1) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_pushvalue(L, -1);
		lua_rawseti(L, -3, p->id + 1);
	}
	lua_pushvalue(L, fn);
	lua_rawseti(L, -2, luaL_len(L, -2) + 1);
	lua_pop(L, 2);
	return 0;
}

static int l_on_event(lua_State *L)
{
	struct lprobe *lp = check_probe(L, 1);

	add_handler(L, lp->p, 2);
	lua_settop(L, 1);
	return 1;
}

static int set_enabled(lua_State *L, bool on)
{
	struct session *s = get_session(L);
	struct lprobe *lp = check_probe(L, 1);

	lp->p->enabled = on;
	if (s->tracer && tracer__loaded(s->tracer) &&
	    tracer__set_probe_enabled(s->tracer, lp->p->id, on))
		return luaL_error(L, "cannot %s probe %s", on ? "enable" : "disable",
				  lp->p->spec.func);
	lua_settop(L, 1);
	return 1;
}

static int l_probe_enable(lua_State *L)
{
	return set_enabled(L, true);
}

static int l_probe_disable(lua_State *L)
{
	return set_enabled(L, false);
}

static int l_probe_funcs(lua_State *L)
{
	struct session *s = get_session(L);
	struct lprobe *lp = check_probe(L, 1);
	size_t i;

	lua_createtable(L, lp->p->nplans, 0);
	for (i = 0; i < lp->p->nplans; i++) {
		const struct planinfo *pi = probe_set__plan(&s->ps, lp->p->plans[i]);

		lua_pushstring(L, pi ? pi->func->name : "?");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

struct kagg {
	uint32_t id;
	enum agg_keykind keykind;
	bool sgn; /* the value is a signed integer */
	lua_State *L;
	struct session *s;
};

static int push_agg_entry(void *ctx, const struct lp_agg_key *key, const struct lp_agg_val *val)
{
	struct kagg *k = ctx;
	lua_State *L = k->L;
	const struct planinfo *pi;
	int64_t iv;

	lua_createtable(L, 0, 6);
	switch (k->keykind) {
	case AK_NONE:
		break;
	case AK_INT:
	case AK_UINT:
		memcpy(&iv, key->key, sizeof(iv));
		if (k->keykind == AK_INT)
			lua_pushinteger(L, iv);
		else
			decode__push_u64(L, iv);
		lua_setfield(L, -2, "key");
		break;
	case AK_BOOL:
		lua_pushboolean(L, key->key[0] != 0);
		lua_setfield(L, -2, "key");
		break;
	case AK_STR:
		lua_pushlstring(L, (const char *)key->key,
				strnlen((const char *)key->key, LP_AGG_KEYLEN));
		lua_setfield(L, -2, "key");
		break;
	case AK_FUNC:
		memcpy(&iv, key->key, 4);
		pi = probe_set__plan(&k->s->ps, (uint32_t)iv);
		lua_pushstring(L, pi ? pi->func->name : "?");
		lua_setfield(L, -2, "key");
		break;
	}
	lua_pushinteger(L, key->bucket);
	lua_setfield(L, -2, "bucket");
	decode__push_u64(L, val->count);
	lua_setfield(L, -2, "count");
	decode__push_i128(L, val->sum_hi, val->sum);
	lua_setfield(L, -2, "sum");
	/* the exact words too: luprobe.agg adds the buckets of a group in 128 bits */
	lua_pushinteger(L, val->sum_hi);
	lua_setfield(L, -2, "sum_hi");
	lua_pushinteger(L, (lua_Integer)val->sum);
	lua_setfield(L, -2, "sum_lo");
	/* an unsigned min or max from 2^63 up is a float, like such a value in an event */
	if (k->sgn)
		lua_pushinteger(L, val->min);
	else
		decode__push_u64(L, val->min);
	lua_setfield(L, -2, "min");
	if (k->sgn)
		lua_pushinteger(L, val->max);
	else
		decode__push_u64(L, val->max);
	lua_setfield(L, -2, "max");
	lua_rawseti(L, -2, luaL_len(L, -2) + 1);
	return 0;
}

/* reader() -> { {key, bucket, count, sum, min, max}, ... }; reader("clear") */
static int l_kagg_reader(lua_State *L)
{
	struct kagg k = {.id = (uint32_t)lua_tointeger(L, lua_upvalueindex(1)),
			 .keykind = (enum agg_keykind)lua_tointeger(L, lua_upvalueindex(2)),
			 .sgn = lua_toboolean(L, lua_upvalueindex(3)),
			 .L = L,
			 .s = get_session(L)};
	bool enforce;

	if (lua_isstring(L, 1) && strcmp(lua_tostring(L, 1), "clear") == 0) {
		tracer__agg_clear(k.s->tracer, k.id);
		return 0;
	}
	lua_newtable(L);
	/*
	 * A memory error in push_agg_entry would unwind past the reader's own
	 * allocation: the table is as big as the map, no more, let it be.
	 */
	enforce = lualloc__enforce(k.s->lalloc, false);
	tracer__agg_read(k.s->tracer, k.id, k.sgn, push_agg_entry, &k);
	lualloc__enforce(k.s->lalloc, enforce);
	return 1;
}

/* p:count([key]), p:sum(v [, key]), ..., p:lhist(v, min, max, step [, key]) */
static int probe_agg(lua_State *L, const char *kind)
{
	struct session *s = get_session(L);
	struct lprobe *lp = check_probe(L, 1);
	struct agg_req req = {0};
	enum agg_keykind keykind;
	int keyarg = 3;

	if (!strcmp(kind, "count")) {
		req.kind = LP_AGG_COUNT;
		keyarg = 2;
	} else {
		req.value = luaL_checkstring(L, 2);
		req.kind = !strcmp(kind, "hist")    ? LP_AGG_HIST
			   : !strcmp(kind, "lhist") ? LP_AGG_LHIST
						    : LP_AGG_STATS;
	}
	if (req.kind == LP_AGG_LHIST) {
		lua_Integer min = luaL_checkinteger(L, 3), max = luaL_checkinteger(L, 4);
		lua_Integer step = luaL_checkinteger(L, 5);

		/* max - min can need all 64 bits (math.mininteger to math.maxinteger) */
		if (step <= 0 || max <= min ||
		    ((uint64_t)max - (uint64_t)min) / (uint64_t)step > 1000)
			return luaL_error(L,
					  "lhist(value, min, max, step): min < max, step > 0, at "
					  "most 1000 buckets");
		req.lmin = min;
		req.lstep = step;
		req.lcount = ((uint64_t)max - (uint64_t)min) / (uint64_t)step;
		keyarg = 6;
	}
	req.key = luaL_optstring(L, keyarg, NULL);
	req.id = s->ps.naggs++;
	if (probe__add_agg(&s->ps, lp->p, &req, &keykind))
		return luaL_error(L, "%s", lp_lasterr());

	/* require("luprobe.agg").kernel(kind, { reader = ..., title = ..., unit = ... }) */
	lua_getglobal(L, "require");
	lua_pushliteral(L, "luprobe.agg");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "kernel");
	lua_pushstring(L, kind);
	lua_createtable(L, 0, 6);
	lua_pushinteger(L, req.id);
	lua_pushinteger(L, keykind);
	lua_pushboolean(L, req.val_signed);
	lua_pushcclosure(L, l_kagg_reader, 3);
	lua_setfield(L, -2, "reader");
	lua_pushfstring(L, "%s %s%s%s%s%s", lp->p->spec.func, kind, req.value ? " " : "",
			req.value ? req.value : "", req.key ? " by " : "", req.key ? req.key : "");
	lua_setfield(L, -2, "title");
	if (req.value && !strcmp(req.value, "latency")) {
		lua_pushliteral(L, "ns");
		lua_setfield(L, -2, "unit");
	}
	if (req.kind == LP_AGG_LHIST) {
		lua_pushinteger(L, req.lmin);
		lua_setfield(L, -2, "min");
		/* at most max: it fits, though the product alone may not */
		lua_pushinteger(L, (lua_Integer)((uint64_t)req.lmin +
						 (uint64_t)req.lcount * (uint64_t)req.lstep));
		lua_setfield(L, -2, "max");
		lua_pushinteger(L, req.lstep);
		lua_setfield(L, -2, "step");
	}
	lua_call(L, 2, 1);
	return 1;
}

/* p:count(), p:sum(), ...: one closure, the aggregation's name its upvalue */
static int l_probe_agg(lua_State *L)
{
	return probe_agg(L, lua_tostring(L, lua_upvalueindex(1)));
}

static int l_probe_index(lua_State *L)
{
	struct lprobe *lp = check_probe(L, 1);
	const char *k = luaL_checkstring(L, 2);

	if (strcmp(k, "id") == 0)
		lua_pushinteger(L, lp->p->id + 1);
	else if (strcmp(k, "func") == 0)
		lua_pushstring(L, lp->p->spec.func);
	else if (strcmp(k, "enabled") == 0)
		lua_pushboolean(L, lp->p->enabled);
	else if (strcmp(k, "events") == 0)
		lua_pushinteger(L, lp->p->events);
	else {
		luaL_getmetafield(L, 1, "methods");
		lua_getfield(L, -1, k);
	}
	return 1;
}

static int l_probe_tostring(lua_State *L)
{
	struct lprobe *lp = check_probe(L, 1);

	lua_pushfstring(L, "probe %d %s (%d function%s)", (int)lp->p->id + 1, lp->p->spec.func,
			(int)lp->p->nplans, lp->p->nplans == 1 ? "" : "s");
	return 1;
}

/* ---- events ---- */

static struct levent *check_event(lua_State *L, int idx)
{
	struct levent *ev = lua_touserdata(L, idx);
	bool ok = false;

	if (ev && lua_getmetatable(L, idx)) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, get_session(L)->event_mt_ref);
		ok = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	if (!ok)
		luaL_typeerror(L, idx, EVENT_MT);
	return ev;
}

static const struct planinfo *event_plan(lua_State *L, const struct levent *ev)
{
	return probe_set__plan(&get_session(L)->ps, ev->rec.plan);
}

/*
 * The load bias of pi's binary in the process of rec: 0 for a binary that
 * is not PIE, else what the record carries (see rec_bias in the BPF
 * program). false when it is unknown: code and type addresses then cannot
 * be named.
 */
static bool rec_bias(const struct lp_rec *rec, const struct planinfo *pi, uint64_t *bias)
{
	*bias = 0;
	if (!gobin__info(pi->bin->gb)->pie)
		return true;
	if (!(rec->flags & LP_RF_BIAS))
		return false;
	*bias = rec->bias;
	return true;
}

static void rec_decode_ctx(const struct lp_rec *rec, size_t size, const struct planinfo *pi,
			   struct decode_ctx *c)
{
	c->data = (const uint8_t *)(rec + 1);
	c->len = rec->data_len;
	if (c->len > size - sizeof(*rec))
		c->len = size - sizeof(*rec);
	c->faults = rec->faults;
	c->gb = NULL;
	c->bias = 0;
	/* with the bias unknown, type and function names are unreadable, never guessed */
	if (pi && rec_bias(rec, pi, &c->bias))
		c->gb = pi->bin->gb;
}

static void decode_ctx(lua_State *L, const struct levent *ev, const struct planinfo *pi,
		       struct decode_ctx *c)
{
	(void)L;
	rec_decode_ctx(&ev->rec, ev->size, pi, c);
}

static bool has_entry(const struct levent *ev)
{
	return ev->rec.type == LP_REC_CALL || ev->rec.type == LP_REC_ENTRY ||
	       (ev->rec.type == LP_REC_RET && !(ev->rec.flags & LP_RF_NOENTRY));
}

static bool has_return(const struct levent *ev)
{
	return ev->rec.type == LP_REC_CALL || ev->rec.type == LP_REC_RET;
}

/* Push e.args (results=false) or e.ret (results=true), cached in the user value. */
static void push_values(lua_State *L, int evidx, bool results)
{
	struct levent *ev = check_event(L, evidx);
	const struct planinfo *pi = event_plan(L, ev);
	const struct plan_value *vals;
	struct decode_ctx c;
	size_t n, i, k = 0;
	int uv = results ? UV_RET : UV_ARGS;

	if (lua_getiuservalue(L, evidx, uv) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	if (!pi || (results ? !has_return(ev) : !has_entry(ev))) {
		lua_pushnil(L);
		return;
	}
	decode_ctx(L, ev, pi, &c);
	vals = plan__values(pi->pb, &n);
	lua_createtable(L, 0, n);
	for (i = 0; i < n; i++) {
		if (vals[i].is_result != results || vals[i].hidden)
			continue;
		decode__push(L, &c, &vals[i].root);
		if (results) {
			lua_pushvalue(L, -1);
			lua_rawseti(L, -3, ++k);
		}
		lua_setfield(L, -2, vals[i].name);
	}
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, evidx, uv);
}

static const char *kind_name(const struct levent *ev)
{
	switch (ev->rec.type) {
	case LP_REC_ENTRY:
		return "entry";
	case LP_REC_RET:
		return "return";
	default:
		return "call";
	}
}

static void push_stack(lua_State *L, int evidx);

static int l_event_index(lua_State *L)
{
	struct levent *ev = check_event(L, 1);
	const char *k = luaL_checkstring(L, 2);
	const struct planinfo *pi;

	switch (k[0]) {
	case 'a':
		if (strcmp(k, "args") == 0) {
			push_values(L, 1, false);
			return 1;
		}
		break;
	case 'e':
		if (strcmp(k, "err") == 0) {
			/* Go's convention: the last result, when it is an error */
			const struct plan_value *vals;
			size_t n, i, last = (size_t)-1;

			pi = event_plan(L, ev);
			vals = pi ? plan__values(pi->pb, &n) : NULL;
			for (i = 0; vals && i < n; i++)
				if (vals[i].is_result && !vals[i].hidden)
					last = i;
			if (last == (size_t)-1 || !gotype__is_error(vals[last].root.type) ||
			    !has_return(ev)) {
				lua_pushnil(L);
				return 1;
			}
			push_values(L, 1, true);
			lua_getfield(L, -1, vals[last].name);
			return 1;
		}
		break;
	case 'f':
		if (strcmp(k, "func") == 0) {
			pi = event_plan(L, ev);
			lua_pushstring(L, pi ? pi->func->name : "?");
			return 1;
		}
		break;
	case 'g':
		if (strcmp(k, "goid") == 0) {
			lua_pushinteger(L, ev->rec.goid);
			return 1;
		}
		if (strcmp(k, "g0") == 0) {
			lua_pushboolean(L, ev->rec.flags & LP_RF_G0);
			return 1;
		}
		if (strcmp(k, "goversion") == 0) {
			/* libraries follow what changed between releases; nil when not known */
			const char *v;

			pi = event_plan(L, ev);
			v = pi ? gobin__info(pi->bin->gb)->go_version : "";
			if (*v)
				lua_pushstring(L, v);
			else
				lua_pushnil(L);
			return 1;
		}
		break;
	case 'k':
		if (strcmp(k, "kind") == 0) {
			lua_pushstring(L, kind_name(ev));
			return 1;
		}
		break;
	case 'l':
		if (strcmp(k, "latency") == 0) {
			if (ev->rec.type == LP_REC_CALL ||
			    (ev->rec.type == LP_REC_RET && !(ev->rec.flags & LP_RF_NOENTRY)))
				lua_pushinteger(L, ev->rec.latency);
			else
				lua_pushnil(L);
			return 1;
		}
		break;
	case 'p':
		if (strcmp(k, "pid") == 0) {
			lua_pushinteger(L, ev->rec.pid);
			return 1;
		}
		if (strcmp(k, "probe") == 0) {
			pi = event_plan(L, ev);
			lua_getfield(L, LUA_REGISTRYINDEX, KEY_PROBES);
			lua_rawgeti(L, -1, pi ? (lua_Integer)pi->probe->id + 1 : 0);
			return 1;
		}
		break;
	case 'r':
		if (strcmp(k, "ret") == 0) {
			push_values(L, 1, true);
			return 1;
		}
		break;
	case 's':
		if (strcmp(k, "stack") == 0) {
			push_stack(L, 1);
			return 1;
		}
		break;
	case 't':
		if (strcmp(k, "tid") == 0) {
			lua_pushinteger(L, ev->rec.tid);
			return 1;
		}
		if (strcmp(k, "ts") == 0) {
			lua_pushinteger(L, ev->rec.ts);
			return 1;
		}
		break;
	}
	luaL_getmetafield(L, 1, "methods");
	lua_getfield(L, -1, k);
	return 1;
}

/* "main.computeE(iterations=150) = 2.718282  12.4µs  goroutine 42" */
void lua_api__format_event(struct session *s, const struct lp_rec *rec, size_t size,
			   struct strbuf *sb)
{
	const struct planinfo *pi = probe_set__plan(&s->ps, rec->plan);
	const struct plan_value *vals;
	struct decode_ctx c;
	size_t n, i, k = 0, nres = 0;
	bool entry = rec->type != LP_REC_RET || !(rec->flags & LP_RF_NOENTRY);
	bool ret = rec->type == LP_REC_CALL || rec->type == LP_REC_RET;

	if (!pi) {
		sb_puts(sb, "?");
		return;
	}
	rec_decode_ctx(rec, size, pi, &c);
	vals = plan__values(pi->pb, &n);
	if (rec->type == LP_REC_RET)
		sb_puts(sb, "return ");
	sb_puts(sb, pi->func->name);
	sb_putc(sb, '(');
	for (i = 0; i < n && entry; i++) {
		if (vals[i].is_result || vals[i].hidden)
			continue;
		sb_printf(sb, "%s%s=", k++ ? ", " : "", vals[i].name);
		decode__format(sb, &c, &vals[i].root);
	}
	if (!entry)
		sb_puts(sb, "...");
	sb_putc(sb, ')');
	for (i = 0; i < n && ret; i++)
		nres += vals[i].is_result && !vals[i].hidden;
	if (ret && nres) {
		sb_puts(sb, nres > 1 ? " = (" : " = ");
		for (i = 0, k = 0; i < n; i++) {
			if (!vals[i].is_result || vals[i].hidden)
				continue;
			if (k++)
				sb_puts(sb, ", ");
			decode__format(sb, &c, &vals[i].root);
		}
		if (nres > 1)
			sb_putc(sb, ')');
	}
	if (ret && entry) {
		double ns = rec->latency;

		if (ns < 1e3)
			sb_printf(sb, "  %.0fns", ns);
		else if (ns < 1e6)
			sb_printf(sb, "  %.1fµs", ns / 1e3);
		else if (ns < 1e9)
			sb_printf(sb, "  %.1fms", ns / 1e6);
		else
			sb_printf(sb, "  %.2fs", ns / 1e9);
	}
	if (rec->goid)
		sb_printf(sb, "  goroutine %llu", (unsigned long long)rec->goid);
}

void lua_api__json_event(struct session *s, const struct lp_rec *rec, size_t size,
			 struct strbuf *sb)
{
	const struct planinfo *pi = probe_set__plan(&s->ps, rec->plan);
	const struct plan_value *vals;
	struct decode_ctx c;
	size_t n, i, k;
	bool entry = rec->type != LP_REC_RET || !(rec->flags & LP_RF_NOENTRY);
	bool ret = rec->type == LP_REC_CALL || rec->type == LP_REC_RET;
	int pass;

	if (!pi)
		return;
	rec_decode_ctx(rec, size, pi, &c);
	vals = plan__values(pi->pb, &n);
	sb_puts(sb, "{\"probe\":");
	sb_printf(sb, "%u,\"kind\":\"%s\",\"func\":", pi->probe->id + 1,
		  rec->type == LP_REC_ENTRY ? "entry"
		  : rec->type == LP_REC_RET ? "return"
					    : "call");
	decode__json_string(sb, pi->func->name, strlen(pi->func->name));
	sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"goid\":%llu,\"ts\":%llu", rec->pid, rec->tid,
		  (unsigned long long)rec->goid, (unsigned long long)rec->ts);
	if (ret && entry)
		sb_printf(sb, ",\"latency_ns\":%llu", (unsigned long long)rec->latency);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0 && !entry)
			continue;
		if (pass == 1 && !ret)
			continue;
		sb_puts(sb, pass ? ",\"ret\":{" : ",\"args\":{");
		for (i = 0, k = 0; i < n; i++) {
			if (vals[i].is_result != (pass == 1) || vals[i].hidden)
				continue;
			if (k++)
				sb_putc(sb, ',');
			decode__json_string(sb, vals[i].name, strlen(vals[i].name));
			sb_putc(sb, ':');
			decode__json(sb, &c, &vals[i].root);
		}
		sb_putc(sb, '}');
	}
	sb_putc(sb, '}');
}

static int l_event_tostring(lua_State *L)
{
	struct levent *ev = check_event(L, 1);
	struct session *s = get_session(L);

	sb_reset(&s->line);
	lua_api__format_event(s, &ev->rec, ev->size, &s->line);
	lua_pushlstring(L, sb_str(&s->line), s->line.len);
	return 1;
}

static int l_event_json(lua_State *L)
{
	struct levent *ev = check_event(L, 1);
	struct session *s = get_session(L);

	sb_reset(&s->line);
	lua_api__json_event(s, &ev->rec, ev->size, &s->line);
	lua_pushlstring(L, sb_str(&s->line), s->line.len);
	return 1;
}

/*
 * A stack list prints like a Go traceback: "func(...)\n\tfile:line" per frame.
 * luaL_Buffer keeps its box at the top of the stack: each frame's text is
 * made below it from the frame's fields, which are popped before it is added.
 */
static int l_stack_tostring(lua_State *L)
{
	luaL_Buffer b;
	lua_Integer i, n;

	luaL_checktype(L, 1, LUA_TTABLE);
	n = luaL_len(L, 1);
	lua_settop(L, 1);
	luaL_buffinit(L, &b);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 1, i);
		lua_getfield(L, -1, "func");
		lua_getfield(L, -2, "file");
		lua_getfield(L, -3, "line");
		lua_getfield(L, -4, "pc"); /* frame, func, file, line, pc */
		if (lua_isstring(L, -4)) {
			lua_pushfstring(L, "%s(...)\n", lua_tostring(L, -4));
		} else {
			char pc[32]; /* lua_pushfstring has no hexadecimal integers */

			snprintf(pc, sizeof(pc), "0x%llx",
				 (unsigned long long)lua_tointeger(L, -1));
			lua_pushfstring(L, "?(...) pc=%s\n", pc);
		}
		if (lua_isstring(L, -4))
			lua_pushfstring(L, "\t%s:%d\n", lua_tostring(L, -4),
					(int)lua_tointeger(L, -3));
		else
			lua_pushliteral(L, "");
		lua_concat(L, 2);
		lua_replace(L, -6); /* the frame's text, where the frame was */
		lua_pop(L, 4);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	return 1;
}

static void push_stack_key(lua_State *L, const struct levent *ev, const struct planinfo *pi)
{
	uint64_t bias;
	bool known = rec_bias(&ev->rec, pi, &bias);

	/* symbolized with the load bias of the event's process image */
	lua_pushfstring(L, "%d:%I:%d:%p:%I", (int)ev->rec.stack_id, (lua_Integer)bias, (int)known,
			(void *)pi->bin, (lua_Integer)ev->rec.stack_ret);
}

static void push_stack(lua_State *L, int evidx)
{
	struct levent *ev = check_event(L, evidx);
	struct session *s = get_session(L);
	const struct planinfo *pi = event_plan(L, ev);
	uint64_t ips[LP_STACK_DEPTH + 1];
	int n, i, k = 0;
	uint64_t bias;
	bool known;

	if (!(ev->rec.flags & LP_RF_STACK) || !pi) {
		lua_pushnil(L);
		return;
	}
	if (lua_getiuservalue(L, evidx, UV_STACK) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	/*
	 * The kernel keeps one copy per distinct stack: symbolize each once. The
	 * caller's return address is not part of the kernel's stack, so it is
	 * part of the key.
	 */
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_STACKS);
	push_stack_key(L, ev, pi);
	if (lua_rawget(L, -2) == LUA_TTABLE) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 2);
	n = tracer__stack(s->tracer, ev->rec.stack_id, ips + 1, LP_STACK_DEPTH);
	if (n <= 0) {
		lua_pushnil(L);
		return;
	}
	/*
	 * The frame-pointer walk starts at the probed function's ip and then the
	 * return address saved by the caller's frame: at entry the function has
	 * not pushed its own frame yet, so the return address into its caller is
	 * the word at SP, recorded at the probe. Put it second.
	 */
	ips[0] = ips[1];
	ips[1] = ev->rec.stack_ret;
	n += 1;
	known = rec_bias(&ev->rec, pi, &bias);
	lua_createtable(L, n, 0);
	for (i = 0; i < n && i <= LP_STACK_DEPTH; i++) {
		const struct gobin_func *f;
		uint64_t pc = ips[i] - bias;
		const char *file = NULL;
		int line = 0;

		if (i == 1 && !ips[i])
			continue;
		/* a return address points after the CALL: look up the CALL itself */
		f = known ? gobin__func_at(pi->bin->gb, i ? pc - 1 : pc) : NULL;
		lua_createtable(L, 0, 4);
		lua_pushinteger(L, ips[i]);
		lua_setfield(L, -2, "pc");
		if (f) {
			lua_pushstring(L, f->name);
			lua_setfield(L, -2, "func");
			if (gobin__pc_line(pi->bin->gb, f, i ? pc - 1 : pc, &file, &line) == 0) {
				lua_pushstring(L, file);
				lua_setfield(L, -2, "file");
				lua_pushinteger(L, line);
				lua_setfield(L, -2, "line");
			}
		}
		lua_rawseti(L, -2, ++k);
	}
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, l_stack_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_setmetatable(L, -2);
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_STACKS);
	push_stack_key(L, ev, pi);
	lua_pushvalue(L, -3);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	/* cache it with the event: a handler may read e.stack more than once */
	lua_pushvalue(L, -1);
	lua_setiuservalue(L, evidx, UV_STACK);
}

/* ---- dispatch ---- */

static void push_event(lua_State *L, const struct lp_rec *rec, size_t size)
{
	struct levent *ev =
		lua_newuserdatauv(L, sizeof(struct levent) - sizeof(struct lp_rec) + size, UV_N);

	ev->size = size;
	memcpy(&ev->rec, rec, size);
	lua_rawgeti(L, LUA_REGISTRYINDEX, get_session(L)->event_mt_ref);
	lua_setmetatable(L, -2);
}

/* After an event: count it if its output was lost; a write error ends the run. */
static void event_done(struct session *s)
{
	output__event_done();
	if (output__error())
		s->stop = true;
}

int lua_api__event(struct session *s, const struct lp_rec *rec, size_t size)
{
	lua_State *L = s->L;
	const struct planinfo *pi = probe_set__plan(&s->ps, rec->plan);
	int top = lua_gettop(L), nh, i;

	if (!pi)
		return 0;
	/* disabled since the record was written: nothing after disable() returns */
	if (!pi->probe->enabled)
		return 0;
	/* exit(), an error: the run is over, what comes after is not delivered */
	if (s->stop) {
		s->undelivered++;
		return 0;
	}
	pi->probe->events++;
	s->delivered++;
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->handlers_ref);
	if (lua_rawgeti(L, -1, pi->probe->id + 1) != LUA_TTABLE) {
		/* no handler: print the event */
		sb_reset(&s->line);
		if (s->env->json)
			lua_api__json_event(s, rec, size, &s->line);
		else
			lua_api__format_event(s, rec, size, &s->line);
		sb_putc(&s->line, '\n');
		fwrite(s->line.buf, 1, s->line.len, stdout);
		lua_settop(L, top);
		event_done(s);
		return 0;
	}
	nh = luaL_len(L, -1);
	push_event(L, rec, size);
	for (i = 1; i <= nh && !s->stop; i++) {
		lua_rawgeti(L, -2, i);
		lua_pushvalue(L, -2);
		if (lua_api__call(s, 1, NULL))
			break;
		/* a handler returning false hides the event from the handlers after it */
		if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
			lua_pop(L, 1);
			break;
		}
		lua_pop(L, 1);
	}
	lua_settop(L, top);
	event_done(s);
	return 0;
}

/* ---- globals ---- */

static int l_on_event_global(lua_State *L)
{
	struct lprobe *lp = check_probe(L, 1);

	add_handler(L, lp->p, 2);
	lua_settop(L, 1);
	return 1;
}

static int l_attach(lua_State *L)
{
	struct session *s = get_session(L);

	if (s->ended)
		return luaL_error(L, "attach: the run has ended; attach in the main chunk or in "
				     "callbacks, not in on_exit or finalizers");
	if (!lua_isnoneornil(L, 1)) {
		lua_Integer pid = luaL_checkinteger(L, 1);

		if (s->dropped)
			return luaL_error(L,
					  "attach(%d): no process can be added after luprobe "
					  "switched to user %s (--user); give it with -p",
					  (int)pid, s->env->user);
		if (session__trace_pid(s, (pid_t)pid))
			return luaL_error(L, "%s", lp_lasterr());
	}
	if (session__attach(s))
		return luaL_error(L, "%s", lp_lasterr());
	return 0;
}

static int add_timer(lua_State *L, bool repeat)
{
	struct session *s = get_session(L);
	lua_Number ms = luaL_checknumber(L, 1);
	struct ltimer *lt;
	uint64_t ns;
	int id;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (ms != ms)
		return luaL_argerror(L, 1,
				     repeat ? "interval must be a number of milliseconds, not NaN"
					    : "delay must be a number of milliseconds, not NaN");
	if (ms <= 0 || (repeat && ms < 1))
		return luaL_argerror(
			L, 1, repeat ? "interval must be at least 1 ms" : "delay must be positive");
	/* beyond TIMER_NEVER (146 years, math.huge) a timer never fires */
	ns = ms >= (lua_Number)TIMER_NEVER / 1e6 ? TIMER_NEVER : (uint64_t)(ms * 1e6);
	lua_pushvalue(L, 2);
	id = session__add_timer(s, ns, repeat, luaL_ref(L, LUA_REGISTRYINDEX));
	if (id < 0)
		return luaL_error(L, "out of memory");
	lt = lua_newuserdatauv(L, sizeof(*lt), 0);
	lt->id = id;
	luaL_setmetatable(L, TIMER_MT);
	return 1;
}

static int l_every(lua_State *L)
{
	return add_timer(L, true);
}

static int l_after(lua_State *L)
{
	return add_timer(L, false);
}

static int l_timer_cancel(lua_State *L)
{
	struct ltimer *lt = luaL_checkudata(L, 1, TIMER_MT);

	session__cancel_timer(get_session(L), lt->id);
	return 0;
}

static int l_on_exit(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_EXIT);
	lua_pushvalue(L, 1);
	lua_rawseti(L, -2, luaL_len(L, -2) + 1);
	return 0;
}

static int l_exit(lua_State *L)
{
	struct session *s = get_session(L);

	if (!lua_isnoneornil(L, 1)) {
		lua_Integer code = luaL_checkinteger(L, 1);

		/* a process exit status is 8 bits: exit(256) would exit 0 */
		luaL_argcheck(L, code >= 0 && code <= 255, 1, "exit code must be from 0 to 255");
		s->exit_code = (int)code;
		s->exit_code_set = true;
	}
	s->stop = true;
	return 0;
}

static int l_printf(lua_State *L)
{
	int n = lua_gettop(L);

	lua_getglobal(L, "string");
	lua_getfield(L, -1, "format");
	lua_insert(L, 1);
	lua_pop(L, 1);
	lua_call(L, n, 1);
	fwrite(lua_tostring(L, -1), 1, lua_rawlen(L, -1), stdout);
	return 0;
}

/* CLOCK_MONOTONIC nanoseconds, the clock of e.ts */
static int l_now(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)now_ns());
	return 1;
}

static int l_stats(lua_State *L)
{
	struct session *s = get_session(L);
	uint64_t st[LP_NSTATS], batches, cut;

	tracer__stats(s->tracer, st);
	lua_createtable(L, 0, 10);
	lua_pushinteger(L, s->delivered);
	lua_setfield(L, -2, "events");
	lua_pushinteger(L, st[LP_STAT_LOST]);
	lua_setfield(L, -2, "lost");
	lua_pushinteger(L, st[LP_STAT_FILTERED]);
	lua_setfield(L, -2, "filtered");
	lua_pushinteger(L, st[LP_STAT_UNMATCHED]);
	lua_setfield(L, -2, "unmatched");
	lua_pushinteger(L, st[LP_STAT_FAULTS]);
	lua_setfield(L, -2, "faults");
	lua_pushinteger(L, st[LP_STAT_MORESTACK]);
	lua_setfield(L, -2, "morestack");
	lua_pushinteger(L, tracer__inflight(s->tracer));
	lua_setfield(L, -2, "inflight");
	lua_pushinteger(L, s->callback_errors);
	lua_setfield(L, -2, "errors");
	lua_pushinteger(L, st[LP_STAT_AGG_FULL]);
	lua_setfield(L, -2, "agg_dropped");
	lua_pushinteger(L, s->undelivered);
	lua_setfield(L, -2, "undelivered");
	tracer__batches(s->tracer, &batches, &cut);
	lua_pushinteger(L, cut);
	lua_setfield(L, -2, "batches_cut");
	return 1;
}

/* luprobe.options{ agg_keys = N }: sizes of the kernel's maps, before attach */
static int l_options(lua_State *L)
{
	struct session *s = get_session(L);

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		lua_Integer n;
		int isnum;

		if (!k || strcmp(k, "agg_keys") != 0)
			return luaL_error(
				L, "luprobe.options: unknown option %s%s%s (known: agg_keys)",
				k ? "'" : "", k ? k : luaL_typename(L, -2), k ? "'" : "");
		n = lua_tointegerx(L, -1, &isnum);
		if (!isnum || n < 1 || n > (1 << 30))
			return luaL_error(L,
					  "luprobe.options: agg_keys must be an integer from 1 to "
					  "1073741824");
		if (tracer__set_agg_keys(s->tracer, (uint32_t)n))
			return luaL_error(L, "%s", lp_lasterr());
		lua_pop(L, 1);
	}
	return 0;
}

void lua_api__run_exit(struct session *s)
{
	lua_State *L = s->L;
	int n, i, top;

	lua_getfield(L, LUA_REGISTRYINDEX, KEY_EXIT);
	n = luaL_len(L, -1);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		if (lua_api__call(s, 0, "on_exit") == 0)
			lua_pop(L, 1);
	}
	lua_pop(L, 1);
	/* aggregations the script did not print are printed, as bpftrace prints its maps */
	top = lua_gettop(L);
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "luprobe.agg") == LUA_TTABLE &&
	    lua_getfield(L, -1, "_at_exit") == LUA_TFUNCTION)
		lua_api__call(s, 0, "printing aggregations");
	lua_settop(L, top);
}

void lua_api__call_ref(struct session *s, int ref, const char *what)
{
	lua_rawgeti(s->L, LUA_REGISTRYINDEX, ref);
	if (lua_api__call(s, 0, what) == 0)
		lua_pop(s->L, 1);
}

static void set_path(lua_State *L, struct session *s)
{
	struct strbuf sb;
	const char *env = getenv("LUPROBE_PATH");
	char exe[4096];
	ssize_t n;
	int i;

	sb_init(&sb);
	if (s->env->script) {
		const char *slash = strrchr(s->env->script, '/');

		if (slash)
			sb_printf(&sb, "%.*s/?.lua;", (int)(slash - s->env->script),
				  s->env->script);
		else
			sb_puts(&sb, "./?.lua;");
	}
	for (i = 0; i < s->env->nincludes; i++)
		sb_printf(&sb, "%s/?.lua;%s/?/init.lua;", s->env->includes[i], s->env->includes[i]);
	if (env && *env) {
		char *copy = strdup(env), *save = NULL, *d;

		for (d = copy ? strtok_r(copy, ":", &save) : NULL; d;
		     d = strtok_r(NULL, ":", &save))
			sb_printf(&sb, "%s/?.lua;%s/?/init.lua;", d, d);
		free(copy);
	}
	/* the standard library: next to the binary in a build tree, else installed */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			sb_printf(&sb, "%s/../lua/?.lua;%s/../lua/?/init.lua;", exe, exe);
		}
	}
	sb_printf(&sb, "%s/?.lua;%s/?/init.lua", LUPROBE_LUADIR, LUPROBE_LUADIR);
	lua_getglobal(L, "package");
	lua_pushstring(L, sb_str(&sb));
	lua_setfield(L, -2, "path");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "cpath"); /* no native modules: scripts stay portable and safe */
	lua_pop(L, 1);
	sb_free(&sb);
}

/* ---- source text only ---- */

#define BYTECODE_REFUSED "precompiled Lua bytecode; luprobe loads only Lua source text"

static bool is_bytecode_error(lua_State *L, int idx)
{
	const char *msg = lua_tostring(L, idx);

	return msg && strstr(msg, "attempt to load a binary chunk");
}

int lua_api__loadfile(lua_State *L, const char *path)
{
	struct stat st;
	int err;

	/* a module that is a FIFO would block luprobe, a device be read forever */
	if (path && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		lua_pushfstring(L, "%s: not a regular file (%s)", path, lp_filekind(st.st_mode));
		return LUA_ERRFILE;
	}
	err = luaL_loadfilex(L, path, "t");

	if (err && is_bytecode_error(L, -1)) {
		lua_pop(L, 1);
		lua_pushfstring(L, "%s: " BYTECODE_REFUSED, path ? path : "stdin");
	}
	return err;
}

/* load(chunk [, name [, mode [, env]]]): as Lua's, in mode "t" whatever is asked */
static int l_load_text(lua_State *L)
{
	int n = lua_gettop(L);

	lua_settop(L, n < 3 ? 3 : n);
	lua_pushliteral(L, "t");
	lua_replace(L, 3);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	if (lua_isnil(L, 1) && is_bytecode_error(L, 2)) {
		lua_pushliteral(L, BYTECODE_REFUSED);
		lua_replace(L, 2);
	}
	return lua_gettop(L);
}

/* loadfile([file [, mode [, env]]]) */
static int l_loadfile_text(lua_State *L)
{
	const char *path = luaL_optstring(L, 1, NULL);
	int env = lua_isnone(L, 3) ? 0 : 3;

	if (lua_api__loadfile(L, path) == LUA_OK) {
		if (env) {
			lua_pushvalue(L, env);
			if (!lua_setupvalue(L, -2, 1))
				lua_pop(L, 1);
		}
		return 1;
	}
	luaL_pushfail(L);
	lua_insert(L, -2);
	return 2;
}

/* dofile([file]) */
static int l_dofile_text(lua_State *L)
{
	const char *path = luaL_optstring(L, 1, NULL);

	lua_settop(L, 1);
	if (lua_api__loadfile(L, path) != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, LUA_MULTRET);
	return lua_gettop(L) - 1;
}

/*
 * package.searchpath without opening the candidates (it opens each one to see
 * whether it is readable, and a FIFO on the path would block): pushes the
 * first readable file, or Lua's "no file '...'" message and returns false.
 */
static bool search_path(lua_State *L, const char *name, const char *path)
{
	const char *p, *semi;
	int n = 0; /* the message so far is on the stack (0 or 1 value) */

	name = luaL_gsub(L, name, ".", LUA_DIRSEP);
	for (p = path;; p = semi + 1) {
		size_t len;

		semi = strchr(p, ';');
		len = semi ? (size_t)(semi - p) : strlen(p);
		if (len) {
			lua_pushlstring(L, p, len);
			luaL_gsub(L, lua_tostring(L, -1), LUA_PATH_MARK, name);
			lua_remove(L, -2);
			if (access(lua_tostring(L, -1), R_OK) == 0) {
				lua_replace(L, -(n + 2)); /* over the name */
				lua_pop(L, n);
				return true;
			}
			lua_pushfstring(L, n ? "\n\tno file '%s'" : "no file '%s'",
					lua_tostring(L, -1));
			lua_remove(L, -2);
			if (n)
				lua_concat(L, 2);
			n = 1;
		}
		if (!semi)
			break;
	}
	if (!n)
		lua_pushliteral(L, "");
	lua_remove(L, -2); /* the name */
	return false;
}

/* package.searchers[2]: modules on package.path, as source text only */
static int l_searcher_text(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1), *path;
	lua_Debug ar;
	int level;

	lua_getfield(L, lua_upvalueindex(1), "path");
	if (!lua_isstring(L, -1))
		return luaL_error(L, "'package.path' must be a string");
	if (!search_path(L, name, lua_tostring(L, -1)))
		return 1; /* "no file ..." for require's message */
	path = lua_tostring(L, -1);
	if (lua_api__loadfile(L, path) == LUA_OK) {
		lua_pushvalue(L, -2);
		return 2; /* the loader and the file, as Lua's searcher returns them */
	}
	/* name the require() in the script that asked for it */
	for (level = 1; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
			break;
		}
	}
	if (!lua_getstack(L, level, &ar))
		lua_pushliteral(L, "");
	return luaL_error(L, "%smodule '%s': %s", lua_tostring(L, -1), name, lua_tostring(L, -2));
}

static void text_only(lua_State *L)
{
	lua_getglobal(L, "load");
	lua_pushcclosure(L, l_load_text, 1);
	lua_setglobal(L, "load");
	lua_register(L, "loadfile", l_loadfile_text);
	lua_register(L, "dofile", l_dofile_text);
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchers");
	lua_pushvalue(L, -2);
	lua_pushcclosure(L, l_searcher_text, 1);
	lua_rawseti(L, -2, 2);
	lua_pop(L, 2);
}

/* An error outside any protected call: say what it was, then Lua aborts. */
static int lua_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);

	fprintf(stderr, "luprobe: unprotected Lua error: %s\n", msg ? msg : "?");
	return 0;
}

int lua_api__open(struct session *s)
{
	static const luaL_Reg globals[] = {
		{"probe", l_probe},   {"on_event", l_on_event_global},
		{"attach", l_attach}, {"every", l_every},
		{"after", l_after},   {"on_exit", l_on_exit},
		{"exit", l_exit},     {"printf", l_printf},
		{NULL, NULL},
	};
	static const luaL_Reg probe_methods[] = {
		{"on_event", l_on_event},
		{"enable", l_probe_enable},
		{"disable", l_probe_disable},
		{"funcs", l_probe_funcs},
		{NULL, NULL},
	};
	static const char *const aggs[] = {"count", "sum", "min", "max", "avg", "hist", "lhist"};
	static const luaL_Reg event_methods[] = {
		{"json", l_event_json},
		{NULL, NULL},
	};
	lua_State *L;
	int i;

	s->lalloc = lualloc__new(s->env->memory, memory_refused, s);
	L = s->lalloc ? lua_newstate(lualloc__fn, s->lalloc) : NULL;
	if (!L)
		return -ENOMEM;
	lua_atpanic(L, lua_panic);
	s->L = L;
	luaL_openlibs(L);
	text_only(L);
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
	lua_getglobal(L, "setmetatable");
	lua_pushcclosure(L, l_setmetatable, 1);
	lua_setglobal(L, "setmetatable");
	*(struct session **)lua_getextraspace(L) = s;
	lua_newtable(L);
	s->handlers_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_PROBES);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_EXIT);
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_STACKS);
	decode__init_lua(L);

	luaL_newmetatable(L, PROBE_MT);
	luaL_newlib(L, probe_methods);
	for (i = 0; i < (int)(sizeof(aggs) / sizeof(aggs[0])); i++) {
		lua_pushstring(L, aggs[i]);
		lua_pushcclosure(L, l_probe_agg, 1);
		lua_setfield(L, -2, aggs[i]);
	}
	lua_setfield(L, -2, "methods");
	lua_pushcfunction(L, l_probe_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_probe_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);

	luaL_newmetatable(L, EVENT_MT);
	luaL_newlib(L, event_methods);
	lua_setfield(L, -2, "methods");
	lua_pushcfunction(L, l_event_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_event_tostring);
	lua_setfield(L, -2, "__tostring");
	s->event_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);

	luaL_newmetatable(L, TIMER_MT);
	lua_newtable(L);
	lua_pushcfunction(L, l_timer_cancel);
	lua_setfield(L, -2, "cancel");
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);

	for (i = 0; globals[i].name; i++) {
		lua_pushcfunction(L, globals[i].func);
		lua_setglobal(L, globals[i].name);
	}

	/* the luprobe table */
	lua_createtable(L, 0, 6);
	lua_pushliteral(L, LUPROBE_VERSION);
	lua_setfield(L, -2, "version");
	decode__push_unreadable(L);
	lua_setfield(L, -2, "unreadable");
	decode__push_notcaptured(L);
	lua_setfield(L, -2, "notcaptured");
	lua_pushcfunction(L, l_stats);
	lua_setfield(L, -2, "stats");
	lua_pushcfunction(L, l_options);
	lua_setfield(L, -2, "options");
	lua_pushcfunction(L, l_now);
	lua_setfield(L, -2, "now");
	lua_pushboolean(L, s->env->json);
	lua_setfield(L, -2, "json_output");
	lua_createtable(L, 0, s->env->nscript_args);
	for (i = 0; i < s->env->nscript_args; i++) {
		const char *kv = s->env->script_args[i], *eq = strchr(kv, '=');

		if (eq) {
			lua_pushlstring(L, kv, eq - kv);
			lua_pushstring(L, eq + 1);
		} else {
			lua_pushstring(L, kv);
			lua_pushboolean(L, 1);
		}
		lua_settable(L, -3);
	}
	lua_setfield(L, -2, "args");
	lua_setglobal(L, "luprobe");
	lua_api__set_pids(s);
	set_path(L, s);
	return 0;
}

void lua_api__set_pids(struct session *s)
{
	lua_State *L = s->L;
	int i;

	lua_getglobal(L, "luprobe");
	lua_createtable(L, s->ntargets, 0);
	for (i = 0; i < s->ntargets; i++) {
		lua_pushinteger(L, s->targets[i].pid);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "pids");
	lua_pop(L, 1);
}

void lua_api__close(struct session *s)
{
	/*
	 * lua_close runs the script's finalizers (__gc): while the tracer's
	 * maps, the probes and the targets still exist, with the budget and the
	 * memory limit of a callback, and Ctrl-C stopping them.
	 */
	if (s->L) {
		s->abort = LP_ABORT_NONE;
		s->budget_used = 0;
		s->running = NULL;
		if (s->env->lua_budget)
			lua_sethook(s->L, budget_hook, LUA_MASKCOUNT, budget_quantum(s));
		lualloc__enforce(s->lalloc, true);
		s->in_lua = true;
		lua_close(s->L);
		s->in_lua = false;
		/* Lua turns an error in __gc into a warning, off by default: say it once */
		if (s->abort == LP_ABORT_BUDGET)
			fprintf(stderr,
				"luprobe: finalizers (__gc) ran more than %d instructions at exit; "
				"the rest did not run (raise the budget with --budget)\n",
				(int)s->env->lua_budget);
		else if (s->abort == LP_ABORT_MEMORY)
			fprintf(stderr, "luprobe: finalizers (__gc) at exit: %s\n",
				lua_api__memory_text(s));
		s->abort = LP_ABORT_NONE;
	}
	s->L = NULL;
	lualloc__free(s->lalloc);
	s->lalloc = NULL;
}
