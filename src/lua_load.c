// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loading Lua: the script (a file or -e code), and what it loads itself
 * (require, load, loadfile, dofile), as source text only, from the module
 * path luprobe sets (the script's directory, -I, LUPROBE_PATH, the
 * standard library). No native modules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "log.h"
#include "lua_int.h"

static void set_path(lua_State *L, const struct lua_opts *o)
{
	struct strbuf sb;
	const char *env = getenv("LUPROBE_PATH");
	char exe[4096];
	ssize_t n;
	int i;

	sb_init(&sb);
	if (o->script) {
		const char *slash = strrchr(o->script, '/');

		if (slash)
			sb_printf(&sb, "%.*s/?.lua;", (int)(slash - o->script),
				  o->script);
		else
			sb_puts(&sb, "./?.lua;");
	}
	for (i = 0; i < o->nincludes; i++)
		sb_printf(&sb, "%s/?.lua;%s/?/init.lua;", o->includes[i], o->includes[i]);
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
	if (load_file(L, path) == LUA_OK) {
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

/* load, loadfile, dofile and require's file searcher, for source text only */
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

void lua_load__open(lua_State *L, const struct lua_opts *opts)
{
	text_only(L);
	set_path(L, opts);
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
