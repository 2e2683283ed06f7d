/* SPDX-License-Identifier: BSD-2-Clause */
/* The Lua surface of luprobe (see docs/lua-api.md). */
#ifndef LUPROBE_LUA_API_H
#define LUPROBE_LUA_API_H

#include <stddef.h>
#include "luprobe.h"
#include "strbuf.h"

struct session;

/* Create the Lua state with the luprobe globals. */
int lua_api__open(struct session *s);
void lua_api__close(struct session *s);

/*
 * Load a script or module: Lua source text only. A precompiled (bytecode)
 * chunk is refused with a message that says so. Like luaL_loadfilex.
 */
int lua_api__loadfile(struct lua_State *L, const char *path);

/* Publish the target pids as luprobe.pids. */
void lua_api__set_pids(struct session *s);

/* Deliver one record to the script (its handlers, or the default printer). */
int lua_api__event(struct session *s, const struct lp_rec *rec, size_t size);

/*
 * Call the function below the nargs arguments on the stack, with a traceback
 * handler and the run's error policy. On success one result is left on the
 * stack and 0 returned; on error the message is printed, nothing is left,
 * and -1 returned.
 */
int lua_api__call(struct session *s, int nargs, const char *what);
/* Call the function in registry ref with no arguments, dropping its result. */
void lua_api__call_ref(struct session *s, int ref, const char *what);
/* Run the on_exit handlers. */
void lua_api__run_exit(struct session *s);
/* "the script's memory limit of 64 MiB was reached; raise it with --memory SIZE" */
const char *lua_api__memory_text(const struct session *s);
/* From a signal handler: make running Lua code stop at its next instruction. */
void lua_api__interrupt(struct session *s);

/* An event as a Go-like line, and as JSON. */
void lua_api__format_event(struct session *s, const struct lp_rec *rec, size_t size,
			   struct strbuf *sb);
void lua_api__json_event(struct session *s, const struct lp_rec *rec, size_t size,
			 struct strbuf *sb);

#endif
