// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loading Lua: the script (a file or -e code), and what it loads itself
 * (require, load, loadfile, dofile), as source text only, from the module
 * path luprobe sets (the script's directory, -I, LUPROBE_PATH, the system's
 * Lua directories, the standard library; luprobe.* from the standard library
 * alone). No native modules. Privileged, every file loaded and directory
 * looked in must be trusted (trust.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "log.h"
#include "lua_int.h"
#include "trust.h"

#if defined(__x86_64__)
#define LP_MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define LP_MULTIARCH "aarch64-linux-gnu"
#else
#define LP_MULTIARCH "unknown"
#endif

/* Pure-Lua modules of Lua 5.4 (LuaRocks, Debian), and of 5.3 (some Debian packages stop there) */
static const char *const system_dirs[] = {
	"/usr/local/share/lua/5.4", "/usr/local/lib/lua/5.4", "/usr/share/lua/5.4",
	"/usr/local/share/lua/5.3", "/usr/share/lua/5.3",
};
/* Where Lua 5.4 would find native modules: luprobe only says why it does not load them */
static const char native_path[] = "/usr/local/lib/lua/5.4/?.so;"
				  "/usr/lib/" LP_MULTIARCH "/lua/5.4/?.so;"
				  "/usr/lib/lua/5.4/?.so";

/* Who may have written the code luprobe loads (trust.h); set once per process. */
static struct trust trust;
static bool trust_set;

static void add_dir(struct strbuf *sb, const char *d)
{
	sb_printf(sb, "%s/?.lua;%s/?/init.lua;", d, d);
}

/*
 * The installed standard library: next to the binary in a build tree (only
 * if there: a binary in /tmp/x would otherwise look in /tmp/lua, which
 * anyone could make), and installed.
 */
static void stdlib_path(struct strbuf *sb)
{
	char exe[4096], *slash;
	struct stat st;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 16);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			strcpy(slash, "/../lua");
			if (stat(exe, &st) == 0 && S_ISDIR(st.st_mode))
				sb_printf(sb, "%s/?.lua;%s/?/init.lua;", exe, exe);
		}
	}
	sb_printf(sb, "%s/?.lua;%s/?/init.lua", LUPROBE_LUADIR, LUPROBE_LUADIR);
}

/*
 * package.path: the script's directory, -I, LUPROBE_PATH, the system's Lua
 * directories, the standard library. Returns the standard library's own
 * path, which alone serves the luprobe.* names (see l_searcher_text).
 */
static void set_path(lua_State *L, const struct lua_opts *o, struct strbuf *lib)
{
	struct strbuf sb;
	const char *env = getenv("LUPROBE_PATH");
	size_t i;
	int k;

	sb_init(&sb);
	if (o->script) {
		const char *slash = strrchr(o->script, '/');

		if (slash)
			sb_printf(&sb, "%.*s/?.lua;", (int)(slash - o->script), o->script);
		else
			sb_puts(&sb, "./?.lua;");
	}
	for (k = 0; k < o->nincludes; k++)
		add_dir(&sb, o->includes[k]);
	if (env && *env) {
		char *copy = strdup(env), *save = NULL, *d;

		for (d = copy ? strtok_r(copy, ":", &save) : NULL; d;
		     d = strtok_r(NULL, ":", &save))
			add_dir(&sb, d);
		free(copy);
	}
	for (i = 0; i < sizeof(system_dirs) / sizeof(*system_dirs); i++)
		add_dir(&sb, system_dirs[i]);
	stdlib_path(lib);
	sb_puts(&sb, sb_str(lib));
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

/*
 * Load a script or module: Lua source text only. A precompiled (bytecode)
 * chunk is refused with a message that says so. Like luaL_loadfilex.
 */
static int load_file(lua_State *L, const char *path)
{
	struct stat st;
	int err;

	/* a module that is a FIFO would block luprobe, a device be read forever */
	if (path && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		lua_pushfstring(L, "%s: not a regular file (%s)", path, lp_filekind(st.st_mode));
		return LUA_ERRFILE;
	}
	if (path && trust__file(&trust, path)) {
		lua_pushstring(L, lp_lasterr());
		lp_clearerr();
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

	if (load_file(L, path) == LUA_OK) {
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
	if (load_file(L, path) != LUA_OK)
		return lua_error(L);
	lua_call(L, 0, LUA_MULTRET);
	return lua_gettop(L) - 1;
}

/*
 * package.searchpath without opening the candidates (it opens each one to see
 * whether it is readable, and a FIFO on the path would block): pushes the
 * first readable file and returns 1, or pushes Lua's "no file '...'" message
 * and returns 0. Privileged, every directory looked in must be trusted (a
 * module could be planted in it): -1 and why, if one is not.
 */
static int search_path(lua_State *L, const char *name, const char *path, bool check)
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
			if (check && trust__candidate(&trust, lua_tostring(L, -1))) {
				lua_pushstring(L, lp_lasterr());
				lp_clearerr();
				lua_replace(L, -(n + 3)); /* over the name */
				lua_pop(L, n + 1);
				return -1;
			}
			if (access(lua_tostring(L, -1), R_OK) == 0) {
				lua_replace(L, -(n + 2)); /* over the name */
				lua_pop(L, n);
				return 1;
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
	return 0;
}

/* Raise "script.lua:LINE: module 'name': why", naming the require() that asked. */
static int module_error(lua_State *L, const char *name, const char *why)
{
	lua_Debug ar;
	int level;

	for (level = 1; lua_getstack(L, level, &ar); level++) {
		lua_getinfo(L, "Sl", &ar);
		if (ar.currentline > 0) {
			lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
			break;
		}
	}
	if (!lua_getstack(L, level, &ar))
		lua_pushliteral(L, "");
	return luaL_error(L, "%smodule '%s': %s", lua_tostring(L, -1), name, why);
}

/* luprobe and luprobe.*: the installed library's, whatever else is on the path */
static bool is_std_name(const char *name)
{
	return strcmp(name, "luprobe") == 0 || strncmp(name, "luprobe.", 8) == 0;
}

/*
 * package.searchers[2]: modules on package.path, as source text only; the
 * luprobe.* names only on the standard library's path (upvalue 2).
 */
static int l_searcher_text(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1), *path;
	int found;

	if (is_std_name(name)) {
		lua_pushvalue(L, lua_upvalueindex(2));
	} else {
		lua_getfield(L, lua_upvalueindex(1), "path");
		if (!lua_isstring(L, -1))
			return luaL_error(L, "'package.path' must be a string");
	}
	found = search_path(L, name, lua_tostring(L, -1), true);
	if (found < 0)
		return module_error(L, name, lua_tostring(L, -1));
	if (!found)
		return 1; /* "no file ..." for require's message */
	path = lua_tostring(L, -1);
	if (load_file(L, path) == LUA_OK) {
		lua_pushvalue(L, -2);
		return 2; /* the loader and the file, as Lua's searcher returns them */
	}
	return module_error(L, name, lua_tostring(L, -1));
}

/* package.searchers[3]: a native module where Lua 5.4 would load one is refused, saying why */
static int l_searcher_native(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	char msg[PATH_MAX + 300];

	if (search_path(L, name, native_path, false) <= 0)
		return 1;
	snprintf(msg, sizeof(msg),
		 "%s is a native (C) module: luprobe loads Lua source only (native code "
		 "would run unchecked inside the tracer, with its privileges); use a pure-Lua "
		 "module",
		 lua_tostring(L, -1));
	return module_error(L, name, msg);
}

/* load, loadfile, dofile and require's file searcher, for source text only */
static void text_only(lua_State *L, const char *lib)
{
	lua_getglobal(L, "load");
	lua_pushcclosure(L, l_load_text, 1);
	lua_setglobal(L, "load");
	lua_register(L, "loadfile", l_loadfile_text);
	lua_register(L, "dofile", l_dofile_text);
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "searchers");
	lua_pushvalue(L, -2);
	lua_pushstring(L, lib);
	lua_pushcclosure(L, l_searcher_text, 2);
	lua_rawseti(L, -2, 2);
	lua_pushcfunction(L, l_searcher_native);
	lua_rawseti(L, -2, 3);
	lua_pop(L, 2);
}

void lua_load__open(lua_State *L, const struct lua_opts *opts)
{
	struct strbuf lib;

	if (!trust_set) {
		trust__init(&trust);
		trust_set = true;
	}
	sb_init(&lib);
	set_path(L, opts, &lib);
	text_only(L, sb_str(&lib));
	sb_free(&lib);
}

int lua_api__load_script(struct lua_script *ls, const char *code)
{
	const char *script = ls->opts.script;
	lua_State *L = ls->L;
	struct stat st;
	int err;

	if (code) {
		err = luaL_loadbufferx(L, code, strlen(code), "=(command line)", "t");
	} else {
		if (access(script, R_OK) < 0) {
			err = -errno;
			lp_seterr("%s: %s", script,
				  err == -ENOENT   ? "no such file"
				  : err == -EACCES ? "permission denied"
						   : strerror(-err));
			return err;
		}
		if (stat(script, &st) == 0 && S_ISDIR(st.st_mode)) {
			lp_seterr("%s: is a directory", script);
			return -EISDIR;
		}
		/* a FIFO would wait for a writer, a device could be read forever */
		if (stat(script, &st) == 0 && !S_ISREG(st.st_mode)) {
			lp_seterr("%s: not a regular file (%s)", script, lp_filekind(st.st_mode));
			return -EINVAL;
		}
		err = load_file(L, script);
	}
	if (err) {
		lp_seterr("%s", lua_tostring(L, -1));
		lua_pop(L, 1);
		return -EINVAL;
	}
	return 0;
}
