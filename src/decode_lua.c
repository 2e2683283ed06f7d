// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Lua sink: values as Lua values (docs/lua-api.md has the mapping).
 * A group is a table on the stack while its elements are walked: key()
 * pushes the key, each value is pushed and stored into the table below it.
 * A value that could not be read is the luprobe.unreadable marker, one not
 * captured luprobe.notcaptured: unique userdata that print as "?" and "...".
 */
#include <lauxlib.h>
#include "decode.h"

#define UNREADABLE_MT "luprobe.unreadable"
#define NOTCAPTURED_MT "luprobe.notcaptured"

static int unreadable_tostring(lua_State *L)
{
	lua_pushliteral(L, "?");
	return 1;
}

static int notcaptured_tostring(lua_State *L)
{
	lua_pushliteral(L, "...");
	return 1;
}

void decode__init_lua(lua_State *L)
{
	if (luaL_newmetatable(L, UNREADABLE_MT)) {
		lua_pushcfunction(L, unreadable_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, NOTCAPTURED_MT)) {
		lua_pushcfunction(L, notcaptured_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
}

/* The marker of this metatable, made once per state and kept in the registry. */
static void push_marker(lua_State *L, const char *mt, const char *key)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_newuserdatauv(L, 0, 0);
		luaL_setmetatable(L, mt);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, key);
	}
}

void decode__push_notcaptured(lua_State *L)
{
	push_marker(L, NOTCAPTURED_MT, "luprobe.notcaptured.value");
}

void decode__push_unreadable(lua_State *L)
{
	push_marker(L, UNREADABLE_MT, "luprobe.unreadable.value");
}

void decode__push_u64(lua_State *L, uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		lua_pushinteger(L, (lua_Integer)v);
	else
		lua_pushnumber(L, (lua_Number)v);
}

void decode__push_i128(lua_State *L, int64_t hi, uint64_t lo)
{
	if ((hi == 0 && lo <= (uint64_t)INT64_MAX) || (hi == -1 && lo > (uint64_t)INT64_MAX))
		lua_pushinteger(L, (lua_Integer)lo);
	else
		lua_pushnumber(L,
			       (lua_Number)(__int128)((unsigned __int128)(uint64_t)hi << 64 | lo));
}

/* A value was pushed: inside a group, store it under the key below it. */
static void stored(struct decode_lua *d)
{
	if (d->depth)
		lua_rawset(d->L, -3);
}

/* A slice's len, cap and isnil, through the metatable: the table itself is a plain sequence. */
static void slice_meta(lua_State *L, const struct decode_group *g)
{
	lua_createtable(L, 0, 1);
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, g->total);
	lua_setfield(L, -2, "len");
	lua_pushinteger(L, g->cap);
	lua_setfield(L, -2, "cap");
	lua_pushboolean(L, g->addr == 0);
	lua_setfield(L, -2, "isnil");
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
}

static void lua_nil(void *st, const struct decode_group *g)
{
	struct decode_lua *d = st;

	if (g->kind == DG_SLICE) {
		lua_createtable(d->L, 0, 0);
		slice_meta(d->L, g);
	} else {
		lua_pushnil(d->L);
	}
	stored(d);
}

static void lua_missing(void *st, enum decode_missing why)
{
	struct decode_lua *d = st;

	(why == DECODE_NOTCAPTURED ? decode__push_notcaptured : decode__push_unreadable)(d->L);
	stored(d);
}

static void lua_scalar(void *st, const struct decode_scalar *v)
{
	struct decode_lua *d = st;
	lua_State *L = d->L;

	if (v->kind == DS_BOOL) {
		lua_pushboolean(L, v->b);
	} else if (v->kind == DS_INT) {
		lua_pushinteger(L, v->i);
	} else if (v->kind == DS_FLOAT) {
		lua_pushnumber(L, v->f);
	} else if (v->kind == DS_COMPLEX) {
		lua_createtable(L, 0, 2);
		lua_pushnumber(L, v->c.re);
		lua_setfield(L, -2, "re");
		lua_pushnumber(L, v->c.im);
		lua_setfield(L, -2, "im");
	} else if (v->kind == DS_FUNC) {
		if (v->name)
			lua_pushstring(L, v->name);
		else
			decode__push_unreadable(L);
	} else { /* DS_UINT, DS_UINTPTR, DS_PTR */
		decode__push_u64(L, v->u);
	}
	stored(d);
}

static void lua_string(void *st, const char *s, uint32_t n, uint64_t total)
{
	struct decode_lua *d = st;

	lua_pushlstring(d->L, s, n);
	stored(d);
}

/* Any slice of 1-byte elements is a string of its bytes. */
static bool lua_bytes(void *st, const struct decode_group *g, const char *s, uint32_t n)
{
	struct decode_lua *d = st;

	if (s || !g->total)
		lua_pushlstring(d->L, s ? s : "", s ? n : 0);
	else
		decode__push_unreadable(d->L);
	stored(d);
	return true;
}

static void lua_begin(void *st, const struct decode_group *g)
{
	struct decode_lua *d = st;
	lua_State *L = d->L;

	luaL_checkstack(L, 8, "decoding a value");
	if (g->kind == DG_SLICE || g->kind == DG_ARRAY) {
		lua_createtable(L, g->shown, 0);
	} else {
		lua_createtable(L, 0, g->shown + 1);
		if (g->kind == DG_IFACE) {
			lua_pushstring(L, g->name);
			lua_setfield(L, -2, "type");
			lua_pushliteral(L, "value");
		}
	}
	d->depth++;
}

static void lua_key(void *st, const char *name, uint64_t i)
{
	struct decode_lua *d = st;

	if (name)
		lua_pushstring(d->L, name);
	else
		lua_pushinteger(d->L, i + 1);
}

static void lua_end(void *st, const struct decode_group *g)
{
	struct decode_lua *d = st;
	lua_State *L = d->L;

	if (g->kind == DG_SLICE)
		slice_meta(L, g);
	if (g->kind == DG_CHAN) {
		/* a channel whose counts could not be read has neither */
		if (lua_getfield(L, -1, "len") == LUA_TUSERDATA) {
			lua_pushnil(L);
			lua_setfield(L, -3, "len");
			lua_pushnil(L);
			lua_setfield(L, -3, "cap");
		}
		lua_pop(L, 1);
	}
	d->depth--;
	stored(d);
}

/* in the order of struct decode_sink; no deref: a pointee stands for its pointer */
const struct decode_sink decode_lua_sink = {
	lua_nil, lua_missing, lua_scalar, lua_string, lua_bytes, lua_begin, lua_key, lua_end,
};

void decode__push(lua_State *L, const struct decode_ctx *c, const struct dnode *n)
{
	struct decode_lua d = {.L = L};

	luaL_checkstack(L, 8, "decoding a value");
	decode__walk(c, n, &decode_lua_sink, &d);
}
