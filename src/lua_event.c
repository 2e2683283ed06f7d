// SPDX-License-Identifier: BSD-2-Clause
/*
 * Event objects, the userdata "luprobe.event" a handler gets: its fields
 * (e.func, e.args, e.ret, e.err, e.stack, ...) decoded on first read and
 * kept in its user values, tostring(e) and e:json() (rendered by event.c);
 * and the delivery of a record to the probe's handlers, or to the default
 * output when it has none.
 */
#include <stdio.h>
#include <string.h>
#include "decode.h"
#include "event.h"
#include "lua_int.h"
#include "output.h"
#include "probe.h"
#include "tracer.h"
#include "util.h"

/* An event's user values: what it decoded once, kept for further reads. */
enum { UV_ARGS = 1, UV_RET, UV_STACK, UV_N = UV_STACK };

/* An event: the record as it came from the ring buffer. */
struct levent {
	size_t size;
	struct lp_rec rec; /* followed by rec.data_len bytes */
};

static struct levent *check_event(lua_State *L, int idx)
{
	struct levent *ev = lua_touserdata(L, idx);
	bool ok = false;

	if (ev && lua_getmetatable(L, idx)) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, lua_script_of(L)->event_mt_ref);
		ok = lua_rawequal(L, -1, -2);
		lua_pop(L, 2);
	}
	if (!ok)
		luaL_typeerror(L, idx, EVENT_MT);
	return ev;
}

static const struct planinfo *event_plan(lua_State *L, const struct levent *ev)
{
	return probe_set__plan(lua_script_of(L)->opts.ps, ev->rec.plan);
}

/*
 * The event of an __index call: Lua calls the metamethod only with an object
 * that has the event metatable, and scripts cannot reach the metamethod
 * otherwise (the metatable is hidden), so it needs no check (events are many).
 */
static struct levent *index_event(lua_State *L)
{
	return lua_touserdata(L, 1);
}

/* Push e.args (results=false) or e.ret (results=true), cached in the user value. */
static void push_values(lua_State *L, struct levent *ev, int evidx, bool results)
{
	const struct planinfo *pi = event_plan(L, ev);
	const struct plan_value *vals;
	struct decode_ctx c;
	size_t n, i, k = 0;
	int uv = results ? UV_RET : UV_ARGS;

	if (lua_getiuservalue(L, evidx, uv) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	if (!pi || (results ? !event__has_return(&ev->rec) : !event__has_entry(&ev->rec))) {
		lua_pushnil(L);
		return;
	}
	event__decode_ctx(&ev->rec, ev->size, pi, &c);
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

static void push_stack(lua_State *L, int evidx);

/* e.parent_goid, e.scope_goid (spawned = true): the goroutine's lineage; false: not those */
static bool push_lineage(lua_State *L, const struct levent *ev, const char *k)
{
	struct lp_lineage ln;
	bool parent = strcmp(k, "parent_goid") == 0;

	if (!parent && strcmp(k, "scope_goid") != 0)
		return false;
	if (event__lineage(&ev->rec, &ln))
		lua_pushinteger(L, parent ? ln.parent_goid : ln.scope_goid);
	else
		lua_pushnil(L);
	return true;
}

static int l_event_index(lua_State *L)
{
	struct levent *ev = index_event(L);
	const char *k = luaL_checkstring(L, 2);
	const struct planinfo *pi;

	if ((k[0] == 'p' || k[0] == 's') && push_lineage(L, ev, k))
		return 1;
	switch (k[0]) {
	case 'a':
		if (strcmp(k, "args") == 0) {
			push_values(L, ev, 1, false);
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
			    !event__has_return(&ev->rec)) {
				lua_pushnil(L);
				return 1;
			}
			push_values(L, ev, 1, true);
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
			lua_pushstring(L, event__kind(&ev->rec));
			return 1;
		}
		break;
	case 'l':
		if (strcmp(k, "latency") == 0) {
			if (event__has_entry(&ev->rec) && event__has_return(&ev->rec))
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
			push_values(L, ev, 1, true);
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
		if (strcmp(k, "time") == 0) {
			lua_pushinteger(L, (lua_Integer)util__wall_ns(ev->rec.ts));
			return 1;
		}
		break;
	}
	luaL_getmetafield(L, 1, "methods");
	lua_getfield(L, -1, k);
	return 1;
}

static int l_event_tostring(lua_State *L)
{
	struct levent *ev = check_event(L, 1);
	struct lua_script *ls = lua_script_of(L);

	sb_reset(&ls->line);
	event__format(&ls->line, &ev->rec, ev->size, event_plan(L, ev));
	lua_pushlstring(L, sb_str(&ls->line), ls->line.len);
	return 1;
}

static int l_event_json(lua_State *L)
{
	struct levent *ev = check_event(L, 1);
	struct lua_script *ls = lua_script_of(L);

	sb_reset(&ls->line);
	event__json(&ls->line, &ev->rec, ev->size, event_plan(L, ev));
	lua_pushlstring(L, sb_str(&ls->line), ls->line.len);
	return 1;
}

/*
 * e:typename(addr): the name of the Go type whose descriptor (a *_type the
 * runtime passes, as mallocgc's typ) is at addr in the event's process
 * image, nil when addr is none (the binary's names, cached: cheap per event).
 */
static int l_event_typename(lua_State *L)
{
	struct levent *ev = check_event(L, 1);
	lua_Integer addr = luaL_checkinteger(L, 2);
	const struct planinfo *pi = event_plan(L, ev);
	const char *name = NULL;
	uint64_t bias;

	if (pi && addr && event__bias(&ev->rec, pi, &bias))
		name = gobin__type_name(pi->bin->gb, (uint64_t)addr - bias);
	if (name)
		lua_pushstring(L, name);
	else
		lua_pushnil(L);
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

static void push_stack_key(lua_State *L, const struct lp_rec *rec, const struct planinfo *pi)
{
	uint64_t bias;
	bool known = event__bias(rec, pi, &bias);

	/* symbolized with the load bias of the event's process image */
	lua_pushfstring(L, "%d:%I:%d:%p:%I", (int)rec->stack_id, (lua_Integer)bias, (int)known,
			(void *)pi->bin, (lua_Integer)rec->stack_ret);
}

struct frame {
	uint64_t pc;
	const char *func; /* NULL: not known */
	const char *file; /* NULL: not known */
	int line;
};

/* A frame of pc, a return address (after its CALL) unless exact. */
static void frame_at(struct frame *fr, const struct planinfo *pi, uint64_t pc, uint64_t bias,
		     bool known, bool exact)
{
	const struct gobin_func *f;
	uint64_t at = pc - bias - (exact ? 0 : 1);

	memset(fr, 0, sizeof(*fr));
	fr->pc = pc;
	f = known ? gobin__func_at(pi->bin->gb, at) : NULL;
	if (!f)
		return;
	fr->func = f->name;
	if (gobin__pc_line(pi->bin->gb, f, at, &fr->file, &fr->line))
		fr->file = NULL;
}

/*
 * The frames of rec's stack, innermost first (at most LP_STACK_DEPTH + 2);
 * 0 when it has none. The kernel keeps one copy per distinct stack.
 */
static int stack_frames(struct lua_script *ls, const struct lp_rec *rec,
			const struct planinfo *pi, struct frame *fr)
{
	uint64_t ips[LP_STACK_DEPTH + 1], bias;
	bool known;
	int n, i, k = 0;

	if (!(rec->flags & LP_RF_STACK) || !pi)
		return 0;
	n = tracer__stack(ls->opts.tracer, rec->stack_id, ips + 1, LP_STACK_DEPTH);
	if (n <= 0)
		return 0;
	known = event__bias(rec, pi, &bias);
	/*
	 * The frame-pointer walk starts at the probed function's ip and then the
	 * return address saved by the caller's frame: at entry the function has
	 * not pushed its own frame yet, so the return address into its caller is
	 * the word at SP, recorded at the probe. Put it second. At a call site
	 * (no such word) the walk starts at the CALL in the caller: the function
	 * itself comes first.
	 */
	ips[0] = ips[1];
	ips[1] = rec->stack_ret;
	n += 1;
	for (i = 0; i < n && i <= LP_STACK_DEPTH; i++) {
		if (i == 1 && !ips[i])
			continue;
		frame_at(&fr[k], pi, ips[i], bias, known, i == 0);
		if (k == 0 && !rec->stack_ret && fr[0].func && strcmp(fr[0].func, pi->func->name)) {
			fr[1] = fr[0];
			frame_at(&fr[0], pi, pi->func->entry + bias, bias, known, true);
			k++;
		}
		k++;
	}
	return k;
}

/*
 * A stack list prints like a Go traceback: "func(...)\n\tfile:line" per frame.
 * Pushes rec's stack, symbolized once per distinct stack (a table shared by
 * every event and aggregation key of it), or nil.
 */
void lua_event__push_stack(lua_State *L, const struct lp_rec *rec, const struct planinfo *pi)
{
	struct lua_script *ls = lua_script_of(L);
	struct frame fr[LP_STACK_DEPTH + 2];
	int n, i;

	if (!(rec->flags & LP_RF_STACK) || !pi) {
		lua_pushnil(L);
		return;
	}
	/* the caller's return address is not part of the kernel's stack: it is part of the key */
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_STACKS);
	push_stack_key(L, rec, pi);
	if (lua_rawget(L, -2) == LUA_TTABLE) {
		lua_remove(L, -2);
		return;
	}
	lua_pop(L, 2);
	n = stack_frames(ls, rec, pi, fr);
	if (n <= 0) {
		lua_pushnil(L);
		return;
	}
	lua_createtable(L, n, 0);
	for (i = 0; i < n; i++) {
		lua_createtable(L, 0, 4);
		lua_pushinteger(L, fr[i].pc);
		lua_setfield(L, -2, "pc");
		if (fr[i].func) {
			lua_pushstring(L, fr[i].func);
			lua_setfield(L, -2, "func");
		}
		if (fr[i].file) {
			lua_pushstring(L, fr[i].file);
			lua_setfield(L, -2, "file");
			lua_pushinteger(L, fr[i].line);
			lua_setfield(L, -2, "line");
		}
		lua_rawseti(L, -2, i + 1);
	}
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, l_stack_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_setmetatable(L, -2);
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_STACKS);
	push_stack_key(L, rec, pi);
	lua_pushvalue(L, -3);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

static void push_stack(lua_State *L, int evidx)
{
	struct levent *ev = check_event(L, evidx);

	if (lua_getiuservalue(L, evidx, UV_STACK) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_event__push_stack(L, &ev->rec, event_plan(L, ev));
	/* cache it with the event: a handler may read e.stack more than once */
	if (lua_istable(L, -1)) {
		lua_pushvalue(L, -1);
		lua_setiuservalue(L, evidx, UV_STACK);
	}
}

/* The stack of a printed event: a line per frame after the event's, or a JSON list. */
static void print_stack(struct lua_script *ls, const struct lp_rec *rec,
			const struct planinfo *pi)
{
	struct frame fr[LP_STACK_DEPTH + 2];
	struct strbuf *sb = &ls->line;
	int n = stack_frames(ls, rec, pi, fr), i;

	if (ls->opts.json) {
		if (!sb->len || sb->buf[sb->len - 1] != '}')
			return;
		sb->len--;
		sb_puts(sb, n ? ",\"stack\":[" : ",\"stack\":null}");
		if (!n)
			return;
		for (i = 0; i < n; i++) {
			sb_printf(sb, "%s{\"pc\":%llu", i ? "," : "", (unsigned long long)fr[i].pc);
			if (fr[i].func) {
				sb_puts(sb, ",\"func\":");
				decode__json_string(sb, fr[i].func, strlen(fr[i].func));
			}
			if (fr[i].file) {
				sb_puts(sb, ",\"file\":");
				decode__json_string(sb, fr[i].file, strlen(fr[i].file));
				sb_printf(sb, ",\"line\":%d", fr[i].line);
			}
			sb_putc(sb, '}');
		}
		sb_puts(sb, "]}");
		return;
	}
	if (pi && (pi->probe->spec.stack) && !n)
		sb_puts(sb, "\n    (stack not captured)");
	for (i = 0; i < n; i++) {
		if (fr[i].func && fr[i].file)
			sb_printf(sb, "\n    %s  %s:%d", fr[i].func, fr[i].file, fr[i].line);
		else if (fr[i].func)
			sb_printf(sb, "\n    %s  pc=0x%llx", fr[i].func, (unsigned long long)fr[i].pc);
		else
			sb_printf(sb, "\n    ?  pc=0x%llx", (unsigned long long)fr[i].pc);
	}
}

/* ---- dispatch ---- */

static void push_event(lua_State *L, const struct lp_rec *rec, size_t size)
{
	struct levent *ev =
		lua_newuserdatauv(L, sizeof(struct levent) - sizeof(struct lp_rec) + size, UV_N);

	ev->size = size;
	memcpy(&ev->rec, rec, size);
	lua_rawgeti(L, LUA_REGISTRYINDEX, lua_script_of(L)->event_mt_ref);
	lua_setmetatable(L, -2);
}

/* After an event: count it if its output was lost; a write error ends the run. */
static void event_done(struct lua_script *ls)
{
	output__event_done();
	if (output__error())
		host_stop(ls, LUA_STOP_CLEAN);
}

/* No handler: print the event, as text or JSON. */
static void print_event(struct lua_script *ls, const struct lp_rec *rec, size_t size,
			const struct planinfo *pi)
{
	sb_reset(&ls->line);
	if (ls->opts.json)
		event__json(&ls->line, rec, size, pi);
	else
		event__format(&ls->line, rec, size, pi);
	if (pi && (rec->flags & LP_RF_STACK || pi->probe->spec.stack))
		print_stack(ls, rec, pi);
	sb_putc(&ls->line, '\n');
	fwrite(ls->line.buf, 1, ls->line.len, stdout);
}

int lua_api__event(struct lua_script *ls, const struct lp_rec *rec, size_t size)
{
	lua_State *L = ls->L;
	const struct planinfo *pi = probe_set__plan(ls->opts.ps, rec->plan);
	int top = lua_gettop(L), nh, i;

	if (!pi)
		return 0;
	/* disabled since the record was written: nothing after disable() returns */
	if (!pi->probe->enabled)
		return 0;
	/* exit(), an error: the run is over, what comes after is not delivered */
	if (host_stopping(ls)) {
		ls->counts.undelivered++;
		return 0;
	}
	pi->probe->events++;
	ls->counts.delivered++;
	lua_rawgeti(L, LUA_REGISTRYINDEX, ls->handlers_ref);
	if (lua_rawgeti(L, -1, pi->probe->id + 1) != LUA_TTABLE) {
		print_event(ls, rec, size, pi);
		lua_settop(L, top);
		event_done(ls);
		return 0;
	}
	nh = (int)lua_rawlen(L, -1);
	push_event(L, rec, size);
	for (i = 1; i <= nh && !host_stopping(ls); i++) {
		lua_rawgeti(L, -2, i);
		lua_pushvalue(L, -2);
		if (lua_script__call(ls, 1, NULL))
			break;
		/* a handler returning false hides the event from the handlers after it */
		if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
			lua_pop(L, 1);
			break;
		}
		lua_pop(L, 1);
	}
	lua_settop(L, top);
	event_done(ls);
	return 0;
}

static const luaL_Reg meth[] = {
	{"json", l_event_json},
	{"typename", l_event_typename},
	{NULL, NULL},
};

static const luaL_Reg metameth[] = {
	{"__index", l_event_index},
	{"__tostring", l_event_tostring},
	{NULL, NULL},
};

/*
 * The event metatable, kept by reference (events are many: no name lookup
 * per event) and hidden from scripts (getmetatable(e) is false).
 */
void lua_event__createmeta(lua_State *L, struct lua_script *ls)
{
	luaL_newmetatable(L, EVENT_MT);
	luaL_setfuncs(L, metameth, 0);
	luaL_newlib(L, meth);
	lua_setfield(L, -2, "methods");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	ls->event_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}
