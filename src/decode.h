/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoding captured values from a record: as Go-like text (tostring of an
 * event, the default output), as JSON, and as Lua values. A value that could
 * not be read is "?" in text, null in JSON and luprobe.unreadable in Lua;
 * never a number. A value not captured (beyond the capture bounds, or left
 * out of a default capture that did not fit) is "...", null and
 * luprobe.notcaptured.
 */
#ifndef LUPROBE_DECODE_H
#define LUPROBE_DECODE_H

#include <stdint.h>
#include <lua.h>
#include "gobin.h"
#include "plan.h"
#include "strbuf.h"

struct decode_ctx {
	const uint8_t *data; /* record data */
	uint32_t len;
	uint64_t faults;  /* fault bits of the record */
	struct gobin *gb; /* for type and function names; may be NULL */
	uint64_t bias;	  /* runtime address - link-time address (PIE load bias) */
};

/* Go-like text: 42, "abc", []int{1, 2}, &{X:1, Y:"a"}, nil, ? */
void decode__format(struct strbuf *sb, const struct decode_ctx *c, const struct dnode *n);

/* JSON value. */
void decode__json(struct strbuf *sb, const struct decode_ctx *c, const struct dnode *n);

/* Push the Lua value (see docs/lua-api.md for the mapping). */
void decode__push(lua_State *L, const struct decode_ctx *c, const struct dnode *n);

/* Is the value readable (captured, no fault, not in a float register)? */
int decode__readable(const struct decode_ctx *c, const struct dnode *n);

/* Scalar as 64-bit integer (bool, ints, uintptr, pointers); 0 or -ENOENT when unreadable. */
int decode__int(const struct decode_ctx *c, const struct dnode *n, int64_t *out);

/* Append s (n bytes) as a quoted Go string literal ("%q"). */
void decode__quote(struct strbuf *sb, const char *s, size_t n);
/* Append s as a JSON string. */
void decode__json_string(struct strbuf *sb, const char *s, size_t n);

/*
 * How integers reach Lua: an integer when it fits in a Lua integer (int64),
 * else a float (the nearest double): a uint64 from 2^63 up, a sum beyond 64
 * bits. Order and arithmetic stay right; text and JSON output of events
 * stay exact.
 */
void decode__push_u64(lua_State *L, uint64_t v);
void decode__push_i128(lua_State *L, int64_t hi, uint64_t lo);

/* Push the unreadable marker (a unique userdata that prints as "?"). */
void decode__push_unreadable(lua_State *L);
/* Push the marker of a value not captured (a unique userdata that prints as "..."). */
void decode__push_notcaptured(lua_State *L);
/* Register the unreadable marker's metatable (once per state). */
void decode__init_lua(lua_State *L);

#endif
