// SPDX-License-Identifier: BSD-2-Clause
/*
 * The script's aggregations for an exporter: luprobe.metrics (Lua) lists
 * them as families of samples, read here into a metric set (metrics.h).
 */
#include <errno.h>
#include <string.h>
#include "log.h"
#include "lua_int.h"
#include "metrics.h"

static struct metric_num num_at(lua_State *L, int idx)
{
	if (lua_isinteger(L, idx))
		return metric_int(lua_tointeger(L, idx));
	return metric_float(lua_tonumber(L, idx));
}

/* A count: a Lua integer, or a float for one from 2^63 up. */
static uint64_t count_at(lua_State *L, int idx)
{
	if (lua_isinteger(L, idx))
		return (uint64_t)lua_tointeger(L, idx);
	return lua_tonumber(L, idx) > 0 ? (uint64_t)lua_tonumber(L, idx) : 0;
}

static const char *opt_string(lua_State *L, int idx, const char *field)
{
	const char *s;

	lua_getfield(L, idx, field);
	s = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
	lua_pop(L, 1); /* the string stays in the table */
	return s;
}

/* { labels = { k, v, ... }, value, count, buckets = { le, n, ... } } at the top */
static void add_sample(lua_State *L, struct metric_set *set, struct metric_family *f)
{
	struct metric_sample *m = metric_set__sample(set, f);
	int t = lua_gettop(L), n, i;

	if (!m)
		return;
	lua_getfield(L, t, "labels");
	n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
	for (i = 1; i + 1 <= n; i += 2) {
		lua_rawgeti(L, t + 1, i);
		lua_rawgeti(L, t + 1, i + 1);
		if (lua_isstring(L, -2) && lua_isstring(L, -1))
			metric_set__label(set, m, lua_tostring(L, -2), lua_tostring(L, -1));
		lua_pop(L, 2);
	}
	lua_getfield(L, t, "value");
	m->value = num_at(L, -1);
	lua_getfield(L, t, "count");
	m->count = count_at(L, -1);
	lua_getfield(L, t, "buckets");
	n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
	for (i = 1; i + 1 <= n; i += 2) {
		lua_rawgeti(L, -1, i);
		lua_rawgeti(L, -2, i + 1);
		metric_set__bucket(set, m, lua_tonumber(L, -2), count_at(L, -1));
		lua_pop(L, 2);
	}
	lua_settop(L, t);
}

/* A family table at the top of the stack. */
static void add_family(lua_State *L, struct metric_set *set)
{
	int t = lua_gettop(L), n, i;
	const char *name = opt_string(L, t, "name"), *type = opt_string(L, t, "type");
	enum metric_type mt = !type			   ? METRIC_GAUGE
			      : !strcmp(type, "counter")   ? METRIC_COUNTER
			      : !strcmp(type, "histogram") ? METRIC_HISTOGRAM
							   : METRIC_GAUGE;
	struct metric_family *f;

	if (!name)
		return;
	f = metric_set__family(set, name, opt_string(L, t, "unit"), mt, opt_string(L, t, "help"));
	if (!f)
		return; /* a name luprobe's own counters use with another type */
	lua_getfield(L, t, "samples");
	n = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
	for (i = 1; i <= n && !set->err; i++) {
		lua_rawgeti(L, t + 1, i);
		if (lua_istable(L, -1))
			add_sample(L, set, f);
		lua_settop(L, t + 1);
	}
	lua_settop(L, t);
}

/* In protected mode: require("luprobe.metrics")._collect(), read into the set (upvalue). */
static int l_collect(lua_State *L)
{
	struct metric_set *set = lua_touserdata(L, lua_upvalueindex(1));
	int n, i;

	lua_getglobal(L, "require");
	lua_pushliteral(L, "luprobe.metrics");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, "_collect");
	lua_call(L, 0, 1);
	luaL_checktype(L, -1, LUA_TTABLE);
	n = (int)lua_rawlen(L, -1);
	for (i = 1; i <= n && !set->err; i++) {
		lua_rawgeti(L, -1, i);
		if (lua_istable(L, -1))
			add_family(L, set);
		lua_pop(L, 1);
	}
	return 0;
}

int lua_api__metrics(struct lua_script *ls, struct metric_set *set)
{
	lua_State *L = ls->L;
	int top = lua_gettop(L), err = 0;
	enum lp_abort why;

	/* a script that never required luprobe.agg has no aggregation */
	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "luprobe.agg") != LUA_TTABLE) {
		lua_settop(L, top);
		return 0;
	}
	lua_pushlightuserdata(L, set);
	lua_pushcclosure(L, l_collect, 1);
	if (lua_script__pcall(ls, 0, 0, &why) != LUA_OK) {
		lp_seterr("the script's aggregations: %s",
			  why == LP_ABORT_BUDGET   ? "more than --budget instructions"
			  : why == LP_ABORT_MEMORY ? "the script's memory limit was reached"
			  : why == LP_ABORT_SIGNAL ? "interrupted"
			  : lua_tostring(L, -1)	   ? lua_tostring(L, -1)
						   : "error");
		err = -EINVAL;
	}
	lua_settop(L, top);
	return err;
}
