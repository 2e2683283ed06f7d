/* SPDX-License-Identifier: BSD-2-Clause */
/* luprobe._otel, the exporter's functions for lua/luprobe/otel.lua (export_lua.c). */
#ifndef LUPROBE_EXPORT_LUA_H
#define LUPROBE_EXPORT_LUA_H

#include <lua.h>

struct exporter;
struct export_stats;

/* Push the table of functions; x NULL without --otlp. */
void export_lua__open(lua_State *L, struct exporter *x);
/* Push { sent, dropped, failed, queued, spans } (all 0 for NULL). */
void export_lua__push_stats(lua_State *L, const struct export_stats *st);

#endif
