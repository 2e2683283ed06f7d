// SPDX-License-Identifier: BSD-2-Clause
/*
 * luprobe._otel: what lua/luprobe/otel.lua needs of the exporter (--otlp):
 * send a span the script made, switch a probe's own spans off, name the
 * service, read the counts. Without --otlp the functions are there and
 * enabled() is false: spans made then are counted as not sent.
 */
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include "export.h"
#include "export_lua.h"

#define MAX_SPAN_ATTRS 64

static struct exporter *exporter_of(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

static int l_enabled(lua_State *L)
{
	lua_pushboolean(L, exporter_of(L) != NULL);
	return 1;
}

/* hex (2n digits) into n bytes; false when it is not that */
static bool unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	size_t i;

	if (len != 2 * n)
		return false;
	for (i = 0; i < 2 * n; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return false;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return true;
}

static void opt_id(lua_State *L, const char *field, uint8_t *out, size_t n)
{
	size_t len;
	const char *s;

	if (lua_getfield(L, 1, field) != LUA_TNIL) {
		s = lua_tolstring(L, -1, &len);
		if (!s || !unhex(s, len, out, n))
			luaL_error(L, "otel.span: %s must be %d lowercase hex digits", field,
				   (int)(2 * n));
	}
	lua_pop(L, 1);
}

static uint64_t opt_u64(lua_State *L, const char *field, bool required)
{
	lua_Integer v = 0;
	int isnum;

	lua_getfield(L, 1, field);
	if (!lua_isnil(L, -1)) {
		v = lua_tointegerx(L, -1, &isnum);
		if (!isnum || v < 0)
			luaL_error(L, "otel.span: %s must be a non-negative integer", field);
	} else if (required) {
		luaL_error(L, "otel.span: %s is required", field);
	}
	lua_pop(L, 1);
	return (uint64_t)v;
}

/*
 * attrs = { key = string | integer | number | boolean }: the strings are the
 * table's own, alive while the call runs; other keys and values are skipped.
 */
static size_t read_attrs(lua_State *L, struct otlp_attr *a)
{
	size_t n = 0;

	if (lua_getfield(L, 1, "attrs") == LUA_TNIL)
		return 0;
	luaL_argcheck(L, lua_istable(L, -1), 1, "attrs must be a table");
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		int t = lua_type(L, -1);

		if (n < MAX_SPAN_ATTRS && lua_type(L, -2) == LUA_TSTRING &&
		    (t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN)) {
			a[n] = (struct otlp_attr){.key = lua_tostring(L, -2)};
			if (t == LUA_TSTRING) {
				a[n].type = OTLP_STR;
				a[n].s = lua_tostring(L, -1);
			} else if (t == LUA_TBOOLEAN) {
				a[n].type = OTLP_BOOL;
				a[n].i = lua_toboolean(L, -1);
			} else if (lua_isinteger(L, -1)) {
				a[n].type = OTLP_INT;
				a[n].i = lua_tointeger(L, -1);
			} else {
				a[n].type = OTLP_DOUBLE;
				a[n].d = lua_tonumber(L, -1);
			}
			n++;
		}
		lua_pop(L, 1);
	}
	return n;
}

static const char *const kinds[] = {"unspecified", "internal", "server", "client", NULL};

/*
 * span{ name =, start =, ["end"] = (wall-clock ns), kind =, attrs = {},
 * trace_id =, parent_id =, span_id = (hex), goid =, pid = }: the span's id
 * in hex, or nil and why.
 */
static int l_span(lua_State *L)
{
	struct exporter *x = exporter_of(L);
	struct otlp_attr attrs[MAX_SPAN_ATTRS];
	struct otlp_span s = {0};
	uint64_t goid, pid;
	char hex[17];
	int i;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_getfield(L, 1, "name");
	s.name = luaL_checkstring(L, -1);
	s.start_ns = opt_u64(L, "start", true);
	s.end_ns = opt_u64(L, "end", true);
	if (s.end_ns < s.start_ns)
		return luaL_error(L, "otel.span: end is before start");
	goid = opt_u64(L, "goid", false);
	pid = opt_u64(L, "pid", false);
	opt_id(L, "trace_id", s.trace_id, sizeof(s.trace_id));
	opt_id(L, "parent_id", s.parent_span_id, sizeof(s.parent_span_id));
	opt_id(L, "span_id", s.span_id, sizeof(s.span_id));
	lua_getfield(L, 1, "kind");
	s.kind = lua_isnil(L, -1) ? OTLP_KIND_INTERNAL
				  : (enum otlp_span_kind)luaL_checkoption(L, -1, NULL, kinds);
	s.attrs = attrs;
	s.nattrs = read_attrs(L, attrs);
	if (!x) {
		lua_pushnil(L);
		lua_pushliteral(L, "no --otlp: spans are not sent");
		return 2;
	}
	if (export__span(x, &s, (uint32_t)pid, goid) < 0) {
		lua_pushnil(L);
		lua_pushliteral(L, "the export queue is full: the span was dropped (counted)");
		return 2;
	}
	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", s.span_id[i]);
	lua_pushstring(L, hex);
	return 1;
}

/* auto(probe id (1-based) or nil for every probe, on) */
static int l_auto(lua_State *L)
{
	struct exporter *x = exporter_of(L);
	lua_Integer id = luaL_optinteger(L, 1, 0);

	if (x)
		export__auto(x, (int)id - 1, lua_toboolean(L, 2));
	return 0;
}

static int l_service(lua_State *L)
{
	struct exporter *x = exporter_of(L);
	const char *name = luaL_checkstring(L, 1);

	if (x)
		export__service(x, name);
	return 0;
}

static int l_stats(lua_State *L)
{
	struct exporter *x = exporter_of(L);
	struct export_stats st = {0};

	if (x)
		export__stats(x, &st);
	export_lua__push_stats(L, x ? &st : NULL);
	return 1;
}

void export_lua__push_stats(lua_State *L, const struct export_stats *st)
{
	static const struct export_stats none;

	if (!st)
		st = &none;
	lua_createtable(L, 0, 5);
	lua_pushinteger(L, (lua_Integer)st->sent);
	lua_setfield(L, -2, "sent");
	lua_pushinteger(L, (lua_Integer)st->dropped);
	lua_setfield(L, -2, "dropped");
	lua_pushinteger(L, (lua_Integer)st->failed);
	lua_setfield(L, -2, "failed");
	lua_pushinteger(L, (lua_Integer)st->queued);
	lua_setfield(L, -2, "queued");
	lua_pushinteger(L, (lua_Integer)st->spans);
	lua_setfield(L, -2, "spans");
}

static const luaL_Reg funcs[] = {
	{"enabled", l_enabled}, {"span", l_span},   {"auto", l_auto},
	{"service", l_service}, {"stats", l_stats}, {NULL, NULL},
};

void export_lua__open(lua_State *L, struct exporter *x)
{
	luaL_newlibtable(L, funcs);
	lua_pushlightuserdata(L, x);
	luaL_setfuncs(L, funcs, 1);
}
