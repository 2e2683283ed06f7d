// SPDX-License-Identifier: BSD-2-Clause
/*
 * The globals of a script: probe, on_event, attach, every, after, on_exit,
 * exit, printf; the timer objects every() and after() return; and the
 * luprobe table (version, args, pids, stats, options, now, ...).
 */
#include <stdio.h>
#include <string.h>
#include "decode.h"
#include "export.h"
#include "export_lua.h"
#include "log.h"
#include "lua_int.h"
#include "tracer.h"
#include "util.h"

struct ltimer {
	int id;
};

static int l_attach(lua_State *L)
{
	struct lua_script *ls = lua_script_of(L);

	if (host_state(ls) & LUA_HOST_ENDED)
		return luaL_error(L, "attach: the run has ended; attach in the main chunk or in "
				     "callbacks, not in on_exit or finalizers");
	if (!lua_isnoneornil(L, 1)) {
		lua_Integer pid = luaL_checkinteger(L, 1);

		if (host_state(ls) & LUA_HOST_DROPPED)
			return luaL_error(L,
					  "attach(%d): no process can be added after luprobe "
					  "switched to user %s (--user); give it with -p",
					  (int)pid, ls->opts.user);
		if (ls->host.ops->add_pid(ls->host.ctx, (pid_t)pid))
			return luaL_error(L, "%s", lp_lasterr());
	}
	if (ls->host.ops->attach(ls->host.ctx))
		return luaL_error(L, "%s", lp_lasterr());
	return 0;
}

static int add_timer(lua_State *L, bool repeat)
{
	struct lua_script *ls = lua_script_of(L);
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
	id = ls->host.ops->add_timer(ls->host.ctx, ns, repeat, luaL_ref(L, LUA_REGISTRYINDEX));
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
	struct lua_script *ls = lua_script_of(L);
	struct ltimer *lt = luaL_checkudata(L, 1, TIMER_MT);

	ls->host.ops->cancel_timer(ls->host.ctx, lt->id);
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
	struct lua_script *ls = lua_script_of(L);

	if (!lua_isnoneornil(L, 1)) {
		lua_Integer code = luaL_checkinteger(L, 1);

		/* a process exit status is 8 bits: exit(256) would exit 0 */
		luaL_argcheck(L, code >= 0 && code <= 255, 1, "exit code must be from 0 to 255");
		host_stop(ls, (int)code);
		return 0;
	}
	host_stop(ls, LUA_STOP_CLEAN);
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
	struct lua_script *ls = lua_script_of(L);
	uint64_t st[LP_NSTATS], batches, cut;

	tracer__stats(ls->opts.tracer, st);
	lua_createtable(L, 0, 10);
	lua_pushinteger(L, ls->counts.delivered);
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
	lua_pushinteger(L, tracer__inflight(ls->opts.tracer));
	lua_setfield(L, -2, "inflight");
	lua_pushinteger(L, ls->counts.errors);
	lua_setfield(L, -2, "errors");
	lua_pushinteger(L, st[LP_STAT_AGG_FULL]);
	lua_setfield(L, -2, "agg_dropped");
	lua_pushinteger(L, st[LP_STAT_SPAWN_FULL]);
	lua_setfield(L, -2, "spawn_dropped");
	lua_pushinteger(L, ls->counts.undelivered);
	lua_setfield(L, -2, "undelivered");
	tracer__batches(ls->opts.tracer, &batches, &cut);
	lua_pushinteger(L, cut);
	lua_setfield(L, -2, "batches_cut");
	if (ls->opts.exporter) {
		struct export_stats es;

		export__stats(ls->opts.exporter, &es);
		export_lua__push_stats(L, &es);
		lua_setfield(L, -2, "otlp");
	}
	return 1;
}

/* luprobe.options{ agg_keys = N }: sizes of the kernel's maps, before attach */
static int l_options(lua_State *L)
{
	struct lua_script *ls = lua_script_of(L);

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
		if (tracer__set_agg_keys(ls->opts.tracer, (uint32_t)n))
			return luaL_error(L, "%s", lp_lasterr());
		lua_pop(L, 1);
	}
	return 0;
}

void lua_api__set_pids(struct lua_script *ls, const pid_t *pids, int n)
{
	lua_State *L = ls->L;
	int i;

	lua_getglobal(L, "luprobe");
	lua_createtable(L, n, 0);
	for (i = 0; i < n; i++) {
		lua_pushinteger(L, pids[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "pids");
	lua_pop(L, 1);
}

static const luaL_Reg globals[] = {
	{"probe", lua_probe__new},
	{"on_event", lua_probe__on_event},
	{"attach", l_attach},
	{"every", l_every},
	{"after", l_after},
	{"on_exit", l_on_exit},
	{"exit", l_exit},
	{"printf", l_printf},
	{NULL, NULL},
};

static const luaL_Reg luprobe_funcs[] = {
	{"stats", l_stats},
	{"options", l_options},
	{"now", l_now},
	{NULL, NULL},
};

static const luaL_Reg timer_meth[] = {
	{"cancel", l_timer_cancel},
	{NULL, NULL},
};

/* The timer metatable: __index the methods, hidden from scripts. */
static void timer_createmeta(lua_State *L)
{
	luaL_newmetatable(L, TIMER_MT);
	luaL_newlib(L, timer_meth);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}

/* luprobe.args: -a key=value as args.key = "value", -a flag as args.flag = true */
static void push_args(lua_State *L, const struct lua_opts *opts)
{
	int i;

	lua_createtable(L, 0, opts->nscript_args);
	for (i = 0; i < opts->nscript_args; i++) {
		const char *kv = opts->script_args[i], *eq = strchr(kv, '=');

		if (eq) {
			lua_pushlstring(L, kv, eq - kv);
			lua_pushstring(L, eq + 1);
		} else {
			lua_pushstring(L, kv);
			lua_pushboolean(L, 1);
		}
		lua_settable(L, -3);
	}
}

void lua_globals__open(lua_State *L, const struct lua_opts *opts)
{
	timer_createmeta(L);
	lua_pushglobaltable(L);
	luaL_setfuncs(L, globals, 0);
	lua_pop(L, 1);

	luaL_newlib(L, luprobe_funcs);
	lua_pushliteral(L, LUPROBE_VERSION);
	lua_setfield(L, -2, "version");
	decode__push_unreadable(L);
	lua_setfield(L, -2, "unreadable");
	decode__push_notcaptured(L);
	lua_setfield(L, -2, "notcaptured");
	lua_pushboolean(L, opts->json);
	lua_setfield(L, -2, "json_output");
	lua_pushinteger(L, lp_verbosity);
	lua_setfield(L, -2, "verbosity");
	push_args(L, opts);
	lua_setfield(L, -2, "args");
	lua_newtable(L);
	lua_setfield(L, -2, "pids");
	export_lua__open(L, opts->exporter);
	lua_setfield(L, -2, "_otel");
	lua_setglobal(L, "luprobe");
}
