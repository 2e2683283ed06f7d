// SPDX-License-Identifier: BSD-2-Clause
/*
 * Probe objects: probe{...} parses a declaration into a probe (probe.c
 * resolves and attaches it), and the userdata "luprobe.probe" the script
 * holds: p:on_event, p:enable, p:disable, p:funcs, the in-kernel
 * aggregations p:count() ... p:lhist(), and the fields p.id, p.func,
 * p.enabled, p.events.
 */
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "log.h"
#include "lua_int.h"
#include "lualloc.h"
#include "predicate.h"
#include "probe.h"
#include "resolve.h"
#include "tracer.h"

struct lprobe {
	struct probe *p;
};

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
 * "b[:n]": a slice bounded by a result, read at return (not a field path
 * "x.(*T[int])", nor a map lookup "m[\"k\"]", "m[3]")
 */
static bool is_bounded(const char *name)
{
	return strchr(name, '[') && strchr(name, ':') && !strchr(name, '(') && !strchr(name, '"');
}

/*
 * args/ret lists: { "n", "r.URL.Path" } (names) or { {"s","string"}, ... }
 * (declared; {name, type, fallback}: fallback is the type to use when the
 * binary does not describe type's named type) or, for ret, { "float64",
 * "error" } (types). An args list may declare parameters and name some of
 * them (or field paths of them): only those are captured; the declared ones
 * come first in *out (*ndecl of them), then the names. The list and its
 * strings belong to the spec (*out, *nout) from the moment they exist: any
 * error below unwinds past this function, and the spec's __gc frees them.
 */
static void parse_entry(lua_State *L, const char *field, size_t i, struct probe_arg *a)
{
	size_t n = luaL_len(L, -1), k;

	if (n != 2 && n != 3)
		luaL_error(L, "probe: %s[%d] must be a name or {\"name\", \"type\"}", field,
			   (int)i + 1);
	for (k = 1; k <= n; k++)
		if (lua_rawgeti(L, -(int)k, k) != LUA_TSTRING)
			luaL_error(L, "probe: %s[%d] must be {\"name\", \"type\"}%s", field,
				   (int)i + 1,
				   n == 3 ? " or {\"name\", \"type\", \"fallback type\"}" : "");
	a->name = strdup(lua_tostring(L, -(int)n));
	a->type = strdup(lua_tostring(L, -(int)n + 1));
	a->fallback = n == 3 ? strdup(lua_tostring(L, -1)) : NULL;
	if (!a->name || !a->type || (n == 3 && !a->fallback))
		luaL_error(L, "out of memory");
	lua_pop(L, (int)n);
}

/* Is name ("r", "r.URL.Path", "b[:n]") one of the n declared parameters, or a path of one? */
static bool names_declared(const struct probe_arg *a, size_t n, const char *name)
{
	size_t len = strcspn(name, ".["), i;

	for (i = 0; i < n; i++)
		if (strlen(a[i].name) == len && strncmp(a[i].name, name, len) == 0)
			return true;
	return false;
}

static void parse_list(lua_State *L, int idx, const char *field, bool types_only,
		       struct probe_arg **out, size_t *nout, size_t *ndecl)
{
	size_t n = luaL_len(L, idx), i, k = 0;
	struct probe_arg *a, tmp;

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
	*ndecl = 0;
	for (i = 0; i < n; i++) {
		int t = lua_rawgeti(L, idx, i + 1);

		if (t == LUA_TSTRING) {
			if (types_only)
				a[i].type = strdup(lua_tostring(L, -1));
			else
				a[i].name = strdup(lua_tostring(L, -1));
			if (!a[i].type && !a[i].name)
				luaL_error(L, "out of memory");
		} else if (t == LUA_TTABLE) {
			parse_entry(L, field, i, &a[i]);
		} else {
			luaL_error(L, "probe: %s[%d] must be a name or {\"name\", \"type\"}", field,
				   (int)i + 1);
		}
		lua_pop(L, 1);
	}
	/* the declared ones first, in order, then the names (a stable partition) */
	for (i = 0; i < n; i++) {
		if (!a[i].type)
			continue;
		tmp = a[i];
		memmove(&a[k + 1], &a[k], (i - k) * sizeof(*a));
		a[k++] = tmp;
	}
	*ndecl = k;
	for (i = k; k && i < n; i++)
		if (!names_declared(a, k, a[i].name))
			luaL_error(L,
				   "probe: %s mixes names and declarations; declare every "
				   "entry as {\"name\", \"type\"}",
				   field);
}

/* Does an args entry look a key up in a map (m["k"], m[3])? */
static bool looks_up(const struct probe_spec *sp)
{
	const char *b;
	size_t i;

	for (i = 0; i < sp->nargs; i++)
		for (b = sp->args[i].name; b && (b = strchr(b, '[')); b++)
			if (b[1] == '"' || b[1] == '-' || (b[1] >= '0' && b[1] <= '9'))
				return true;
	return false;
}

/* "b[:n]" entries of args (memory read at return) go to their own list. */
static void take_bounded(lua_State *L, struct probe_spec *sp)
{
	size_t i, k = 0;

	for (i = 0; i < sp->nargs; i++) {
		if (sp->args[i].type || !is_bounded(sp->args[i].name))
			continue;
		if (!sp->bounded) {
			sp->bounded = calloc(sp->nargs, sizeof(*sp->bounded));
			if (!sp->bounded)
				luaL_error(L, "out of memory");
		}
		sp->bounded[sp->nbounded++] = sp->args[i].name;
		sp->args[i].name = NULL;
	}
	for (i = 0; i < sp->nargs; i++)
		if (sp->args[i].name || sp->args[i].type)
			sp->args[k++] = sp->args[i];
	sp->nargs = k;
}

static const char *const spec_fields[] = {
	"func",	  "target", "args",  "ret",   "mode",  "stack",	  "enabled",  "within", "where",
	"strcap", "elems",  "deref", "limit", "debug", "spawned", "replaced", NULL,
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
	size_t ndecl;

	memset(sp, 0, sizeof(*sp));
	check_fields(L, idx);
	sp->func = dup_field(L, idx, "func");
	if (!sp->func)
		luaL_error(L, "probe: 'func' is required, e.g. probe{ func = \"main.computeE\" }");
	sp->target = dup_field(L, idx, "target");
	sp->debug = dup_field(L, idx, "debug");

	lua_getfield(L, idx, "args");
	if (lua_isnil(L, -1))
		sp->args_mode = PA_DEFAULT;
	else if (lua_isboolean(L, -1))
		sp->args_mode = lua_toboolean(L, -1) ? PA_ALL : PA_NONE;
	else if (lua_istable(L, -1)) {
		parse_list(L, lua_gettop(L), "args", false, &sp->args, &sp->nargs, &sp->ndecl);
		sp->args_mode = sp->ndecl ? PA_DECL : PA_NAMES;
		take_bounded(L, sp);
	} else
		luaL_error(L, "probe: 'args' must be true, false or a list");
	lua_pop(L, 1);

	lua_getfield(L, idx, "ret");
	if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1)))
		sp->ret_mode = PR_NONE;
	else if (lua_isboolean(L, -1))
		sp->ret_mode = PR_ALL;
	else if (lua_istable(L, -1)) {
		parse_list(L, lua_gettop(L), "ret", true, &sp->rets, &sp->nrets, &ndecl);
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
	lua_getfield(L, idx, "replaced");
	mode = lua_tostring(L, -1);
	if (mode && strcmp(mode, "resolve") == 0)
		sp->follow_path = true;
	else if ((mode && strcmp(mode, "keep") != 0) || (!mode && !lua_isnil(L, -1)))
		luaL_error(L, "probe: 'replaced' must be \"keep\" (stay on the file read) or "
			      "\"resolve\" (resolve again in the file target = names now)");
	lua_pop(L, 1);
}

/* ---- probe objects ---- */

static struct lprobe *check_probe(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, PROBE_MT);
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

/* probe{...} or probe "func" */
int lua_probe__new(lua_State *L)
{
	struct lua_script *ls = lua_script_of(L);
	struct probe_spec *spec;
	struct lprobe *lp;
	struct probe *p;
	unsigned state = host_state(ls);
	bool spawned;
	int err;

	if (state & LUA_HOST_ENDED)
		return luaL_error(L, "probe: the run has ended; create probes in the main chunk or "
				     "in callbacks, not in on_exit or finalizers");
	if (state & LUA_HOST_DROPPED)
		return luaL_error(L,
				  "probe: no probe can be added after luprobe switched to user %s "
				  "(--user); create every probe in the main chunk",
				  ls->opts.user);
	if (lua_type(L, 1) == LUA_TSTRING) {
		lua_createtable(L, 0, 1);
		lua_pushvalue(L, 1);
		lua_setfield(L, -2, "func");
		lua_replace(L, 1);
	}
	luaL_checktype(L, 1, LUA_TTABLE);
	spec = lua_newuserdatauv(L, sizeof(*spec), 0);
	memset(spec, 0, sizeof(*spec));
	luaL_setmetatable(L, SPEC_MT);
	parse_spec(L, 1, spec);
	lua_getfield(L, 1, "spawned");
	spawned = lua_toboolean(L, -1);
	if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
		return luaL_error(L, "probe: 'spawned' must be a boolean");
	lua_pop(L, 1);
	lua_getfield(L, 1, "within");
	if (!lua_isnil(L, -1) && !luaL_testudata(L, -1, PROBE_MT))
		return luaL_error(L, "probe: 'within' must be a probe (returned by probe{...})");
	if (spawned && lua_isnil(L, -1))
		return luaL_error(L, "probe: 'spawned = true' needs 'within = q': it follows the "
				     "goroutines started inside calls of q");
	/* the kernel's maps and TLS reads are sized for it at load */
	if (spawned && (state & LUA_HOST_ATTACHED) && !check_probe(L, -1)->p->scope_spawn)
		return luaL_error(L, "probe: spawned = true on a probe created after attach(); "
				     "create it in the main chunk");
	/* the program is loaded with scopes only when a probe made before attach() uses them */
	if (!lua_isnil(L, -1) && ls->opts.tracer && !tracer__has(ls->opts.tracer, LP_FEAT_SCOPES))
		return luaL_error(L, "probe: within = q on a probe created after attach(), in a "
				     "script whose probes made before had no within: create one of "
				     "them in the main chunk");
	/* and with map lookups only when a probe made before attach() has one */
	if (ls->opts.tracer && !tracer__has(ls->opts.tracer, LP_FEAT_MAPS) && looks_up(spec))
		return luaL_error(L, "probe: a map lookup (m[\"key\"]) on a probe created after "
				     "attach(), in a script whose probes made before had none: create "
				     "one of them in the main chunk");
	lp = lua_newuserdatauv(L, sizeof(*lp), 0);
	lp->p = NULL;
	luaL_setmetatable(L, PROBE_MT);
	err = probe_set__add(ls->opts.ps, spec, &p);
	if (err)
		return luaL_error(L, "out of memory");
	lp->p = p;
	if (!lua_isnil(L, -2)) {
		struct probe *q = check_probe(L, -2)->p;

		p->within = q;
		p->spawned = spawned;
		if (!q->scope || (spawned && !q->scope_spawn)) {
			/* q now scopes p: its calls are tracked per goroutine, its RETs attached */
			q->scope = true;
			q->scope_spawn |= spawned;
			lp_clearerr();
			if (probe__update_plans(ls->opts.ps, q) ||
			    probe__scope_points(ls->opts.ps, q) ||
			    ((state & LUA_HOST_ATTACHED) && probe__attach(ls->opts.ps, q)))
				return luaL_error(L, "%s", lp_lasterr());
		}
	}
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_PROBES);
	lua_pushvalue(L, -2);
	lua_rawseti(L, -2, p->id + 1);
	lua_pop(L, 1);

	lp_clearerr();
	err = ls->host.ops->add_probe(ls->host.ctx, p);
	if (err)
		return luaL_error(L, "%s", *lp_lasterr() ? lp_lasterr() : strerror(-err));
	return 1;
}

static int add_handler(lua_State *L, struct probe *p, int fn)
{
	struct lua_script *ls = lua_script_of(L);

	luaL_checktype(L, fn, LUA_TFUNCTION);
	if (!p->has_handlers) {
		p->has_handlers = true;
		/* a probe that only fed aggregations now has events to deliver */
		if (p->naggs && probe__update_plans(ls->opts.ps, p))
			return luaL_error(L, "%s", lp_lasterr());
	}
	lua_rawgeti(L, LUA_REGISTRYINDEX, ls->handlers_ref);
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

/* p:on_event(fn) and on_event(p, fn) */
int lua_probe__on_event(lua_State *L)
{
	struct lprobe *lp = check_probe(L, 1);

	add_handler(L, lp->p, 2);
	lua_settop(L, 1);
	return 1;
}

static int set_enabled(lua_State *L, bool on)
{
	struct lua_script *ls = lua_script_of(L);
	struct lprobe *lp = check_probe(L, 1);

	lp->p->enabled = on;
	if (ls->opts.tracer && tracer__loaded(ls->opts.tracer) &&
	    tracer__set_probe_enabled(ls->opts.tracer, lp->p->id, on))
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
	struct lua_script *ls = lua_script_of(L);
	struct lprobe *lp = check_probe(L, 1);
	size_t i;

	lua_createtable(L, lp->p->nplans, 0);
	for (i = 0; i < lp->p->nplans; i++) {
		const struct planinfo *pi = probe_set__plan(ls->opts.ps, lp->p->plans[i]);

		lua_pushstring(L, pi ? pi->func->name : "?");
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* An aggregation key by stack: the symbolized stack (shared with events), or a note. */
static void push_stack_key(lua_State *L, const struct lp_stack_key *sk, struct lua_script *ls)
{
	const struct planinfo *pi = probe_set__plan(ls->opts.ps, sk->plan);
	struct lp_rec rec = {.flags = sk->flags,
			     .plan = sk->plan,
			     .stack_id = sk->stack_id,
			     .stack_ret = sk->stack_ret,
			     .bias = sk->bias};

	if (sk->stack_id >= 0 && (sk->flags & LP_RF_STACK)) {
		lua_event__push_stack(L, &rec, pi);
		if (!lua_isnil(L, -1))
			return;
		lua_pop(L, 1);
	}
	lua_pushliteral(L, "[stack not captured]");
}

struct kagg {
	uint32_t id;
	enum agg_keykind keykind;
	bool sgn; /* the value is a signed integer */
	lua_State *L;
	struct lua_script *ls;
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
		pi = probe_set__plan(k->ls->opts.ps, (uint32_t)iv);
		lua_pushstring(L, pi ? pi->func->name : "?");
		lua_setfield(L, -2, "key");
		break;
	case AK_GOID:
		/* no goroutine could be read (not Go code, or g unreadable): never a guess */
		memcpy(&iv, key->key, sizeof(iv));
		if (iv)
			decode__push_u64(L, iv);
		else
			decode__push_unreadable(L);
		lua_setfield(L, -2, "key");
		break;
	case AK_STACK:
		push_stack_key(L, (const struct lp_stack_key *)key->key, k->ls);
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
			 .ls = lua_script_of(L)};
	bool enforce;

	if (lua_isstring(L, 1) && strcmp(lua_tostring(L, 1), "clear") == 0) {
		tracer__agg_clear(k.ls->opts.tracer, k.id);
		return 0;
	}
	lua_newtable(L);
	/*
	 * A memory error in push_agg_entry would unwind past the reader's own
	 * allocation: the table is as big as the map, no more, let it be.
	 */
	enforce = lualloc__enforce(k.ls->lalloc, false);
	tracer__agg_read(k.ls->opts.tracer, k.id, k.sgn, push_agg_entry, &k);
	lualloc__enforce(k.ls->lalloc, enforce);
	return 1;
}

/* p:count([key]), p:sum(v [, key]), ..., p:lhist(v, min, max, step [, key]) */
static int probe_agg(lua_State *L, const char *kind)
{
	struct lua_script *ls = lua_script_of(L);
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
	req.id = ls->opts.ps->naggs++;
	if (probe__add_agg(ls->opts.ps, lp->p, &req, &keykind))
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
	/* what --metrics labels it with (luprobe.metrics) */
	lua_createtable(L, 0, 3);
	lua_pushstring(L, lp->p->spec.func);
	lua_setfield(L, -2, "func");
	lua_pushstring(L, req.value);
	lua_setfield(L, -2, "value");
	lua_pushstring(L, req.key);
	lua_setfield(L, -2, "key");
	lua_setfield(L, -2, "source");
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

static const luaL_Reg meth[] = {
	{"on_event", lua_probe__on_event},
	{"enable", l_probe_enable},
	{"disable", l_probe_disable},
	{"funcs", l_probe_funcs},
	{NULL, NULL},
};

static const luaL_Reg metameth[] = {
	{"__index", l_probe_index},
	{"__tostring", l_probe_tostring},
	{NULL, NULL},
};

static const char *const aggs[] = {"count", "sum", "min", "max", "avg", "hist", "lhist"};

/*
 * The metatables of probes and of the specs being parsed. A script sees
 * neither: getmetatable(p) is false, so __gc and the methods stay luprobe's.
 */
void lua_probe__createmeta(lua_State *L)
{
	size_t i;

	luaL_newmetatable(L, PROBE_MT);
	luaL_setfuncs(L, metameth, 0);
	luaL_newlibtable(L, meth);
	luaL_setfuncs(L, meth, 0);
	for (i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++) {
		lua_pushstring(L, aggs[i]);
		lua_pushcclosure(L, l_probe_agg, 1);
		lua_setfield(L, -2, aggs[i]);
	}
	lua_setfield(L, -2, "methods");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);

	luaL_newmetatable(L, SPEC_MT);
	lua_pushcfunction(L, l_spec_gc);
	lua_setfield(L, -2, "__gc");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}
