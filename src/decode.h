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

#include <stdbool.h>
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

/*
 * One walker, three sinks. decode__walk() reads a node's value from the
 * record once (scalars decoded, strings' bytes found, counts of what was
 * shown and what the Go value holds) and tells a sink what it found; the
 * sinks (decode_text.c, decode_json.c, decode_lua.c) render it, each with
 * its own conventions.
 */

/* Why a value is missing. */
enum decode_missing {
	DECODE_UNREADABLE,   /* faulted, out of the record, in a float register: "?" */
	DECODE_NOTCAPTURED,  /* left out of the capture: "..." */
	DECODE_NOTDECODED,   /* a struct or array element of a flat copy: "{...}" */
	DECODE_MAPTOOBIG,    /* m["key"] of a map too big to scan in the kernel: unreadable */
};

enum decode_scalar_kind {
	DS_BOOL,
	DS_INT,
	DS_UINT,
	DS_UINTPTR, /* uintptr, unsafe.Pointer, a pointer-shaped interface value: an address */
	DS_FLOAT,
	DS_COMPLEX,
	DS_PTR,	    /* a pointer not followed: its address; name is its type */
	DS_FUNC,    /* a func value: name is the function's, NULL if not known; u its address */
};

struct decode_scalar {
	enum decode_scalar_kind kind;
	bool single;	  /* DS_FLOAT, DS_COMPLEX: of float32 precision */
	const char *name; /* DS_PTR, DS_FUNC */
	union {
		bool b;
		int64_t i;
		uint64_t u;
		double f;
		struct {
			double re, im;
		} c;
	};
};

/* What holds other values (or, for nil, would). */
enum decode_group_kind {
	DG_SLICE,
	DG_ARRAY,
	DG_STRUCT,
	DG_MAP,	  /* its count under the key "len" */
	DG_CHAN,  /* "len" and "cap" */
	DG_IFACE, /* the dynamic value, no key; name is the dynamic type's */
	DG_PTR,	  /* nil only */
	DG_FUNC,  /* nil only */
};

struct decode_group {
	enum decode_group_kind kind;
	const struct gotype *type;
	const char *name; /* the Go type's name, or the kind's ("[]", "map", "chan") */
	uint64_t shown;	  /* elements or keys the walk gives */
	uint64_t total;	  /* elements the Go value has (a slice's len, an array's) */
	uint64_t cap;	  /* DG_SLICE */
	uint64_t addr;	  /* DG_SLICE: of the elements */
	bool nil;	  /* DG_SLICE: a nil slice (no address, no length) */
	bool faulted;	  /* DG_SLICE: the copy of the elements could not be read */
};

/*
 * Every value is one of: nil, missing, scalar, string, bytes (when the sink
 * takes them), or begin, then for each element or key key() and its value,
 * then end. deref may be NULL.
 */
struct decode_sink {
	void (*nil)(void *st, const struct decode_group *g);
	void (*missing)(void *st, enum decode_missing why);
	void (*scalar)(void *st, const struct decode_scalar *v);
	/* n bytes of a Go string of total bytes (total > n: cut by the capture) */
	void (*string)(void *st, const char *s, uint32_t n, uint64_t total);
	/*
	 * The copy of a slice of 1-byte elements (s NULL if it faulted): true
	 * if the sink showed it, false to have it walked as a slice.
	 */
	bool (*bytes)(void *st, const struct decode_group *g, const char *s, uint32_t n);
	void (*begin)(void *st, const struct decode_group *g);
	/* before element i (name NULL) or the key name, i-th of its group */
	void (*key)(void *st, const char *name, uint64_t i);
	void (*end)(void *st, const struct decode_group *g);
	void (*deref)(void *st); /* before the pointee of a followed pointer */
};

void decode__walk(const struct decode_ctx *c, const struct dnode *n, const struct decode_sink *s,
		  void *st);

extern const struct decode_sink decode_text_sink;  /* st: struct strbuf * */
extern const struct decode_sink decode_json_sink;  /* st: struct strbuf * */
extern const struct decode_sink decode_lua_sink;   /* st: struct decode_lua * */

struct decode_lua {
	lua_State *L;
	unsigned depth; /* groups begun and not ended: their tables are on the stack */
};

/* A scalar as Go prints it: 42, 0x1f, 1.5, (1-2i), main.f, (*T)(0xc000010000) */
void decode__scalar_text(struct strbuf *sb, const struct decode_scalar *v);
/* UTF-8 text without control characters but \n, \t and \r? */
bool decode__printable(const char *s, size_t n);

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
