// SPDX-License-Identifier: BSD-2-Clause
/*
 * The walker over a record's decode tree (decode__walk), and what the sinks
 * share: bounds and fault checks, quoting, float text, UTF-8.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"

/* Pointer types whose pointee starts with the whole error message. */
static const char *const message_errors[] = {
	"*errors.errorString",
	"*fmt.wrapError",
	"*fmt.wrapErrors",
	NULL,
};

static bool in_bounds(const struct decode_ctx *c, uint32_t off, uint32_t size)
{
	return off <= c->len && size <= c->len - off;
}

static bool slot_ok(const struct decode_ctx *c, unsigned slot)
{
	return !(c->faults & (1ULL << (slot & 63)));
}

static uint64_t rd(const struct decode_ctx *c, uint32_t off, unsigned size);

/*
 * A type assertion of a field path holds when the dynamic type's runtime name
 * is the asserted one's: "*net.TCPConn" for *net.TCPConn, the package's
 * name without its path ("*http.Request" for *net/http.Request).
 */
static bool guards_hold(const struct decode_ctx *c, const struct dnode *n)
{
	unsigned i;

	for (i = 0; i < n->nguard && i < DNODE_GUARDS; i++) {
		uint64_t typ = rd(c, n->guard[i], 8);
		const char *got = typ && c->gb ? gobin__type_name(c->gb, typ - c->bias) : NULL;
		const char *want = n->guard_type[i]->elem->name, *slash = strrchr(want, '/');

		if (!got || got[0] != '*' || strcmp(got + 1, slash ? slash + 1 : want) != 0)
			return false;
	}
	return true;
}

int decode__readable(const struct decode_ctx *c, const struct dnode *n)
{
	uint64_t size = n->type ? n->type->size : 0;

	if (n->avail != DA_OK || !slot_ok(c, n->slot))
		return 0;
	if (n->nguard && !guards_hold(c, n))
		return 0;
	if (n->lookup && rd(c, n->lookup_at, 1) != LP_MS_FOUND)
		return 0;
	if (size > 512)
		size = 512;
	return in_bounds(c, n->img, size);
}

static uint64_t rd(const struct decode_ctx *c, uint32_t off, unsigned size)
{
	uint64_t v = 0;

	if (!in_bounds(c, off, size) || size > 8)
		return 0;
	memcpy(&v, c->data + off, size); /* little endian */
	return v;
}

/*
 * Was the value, or what it points to, left out of the capture (bounds, or
 * a default capture that did not fit)? Then it reads "...": only a nil or
 * empty one is known from its image alone.
 */
static bool left_out(const struct decode_ctx *c, const struct dnode *n)
{
	if (n->avail == DA_NOTFOLLOWED)
		return true;
	if (!n->shallow || !decode__readable(c, n))
		return false;
	switch (n->kind) {
	case DN_STRING:
		return rd(c, n->img + 8, 8) != 0;
	case DN_SLICE:
		return rd(c, n->img, 8) || rd(c, n->img + 8, 8);
	case DN_IFACE:
	case DN_MAP:
	case DN_CHAN:
	case DN_FUNC:
		return rd(c, n->img, 8) != 0;
	default:
		return false; /* a pointer not followed shows its address */
	}
}

static int64_t sext(uint64_t v, unsigned size)
{
	unsigned shift = 64 - 8 * size;

	if (size >= 8)
		return (int64_t)v;
	return (int64_t)(v << shift) >> shift;
}

int decode__int(const struct decode_ctx *c, const struct dnode *n, int64_t *out)
{
	unsigned size = n->type ? n->type->size : 8;

	if (!decode__readable(c, n) || size > 8)
		return -ENOENT;
	*out = n->type && n->type->kind == GK_INT ? sext(rd(c, n->img, size), size)
						  : (int64_t)rd(c, n->img, size);
	return 0;
}

/* The bytes of a bounded copy, or NULL if it faulted or points outside the record. */
static const char *var_bytes(const struct decode_ctx *c, uint16_t var, unsigned slot, uint32_t *len)
{
	struct lp_var v;

	if (!slot_ok(c, slot) || !in_bounds(c, var, sizeof(v)))
		return NULL;
	memcpy(&v, c->data + var, sizeof(v));
	if (!in_bounds(c, v.off, v.len))
		return NULL;
	*len = v.len;
	return (const char *)c->data + v.off;
}

static const char *type_name(const struct decode_ctx *c, uint64_t typ)
{
	const char *name = c->gb ? gobin__type_name(c->gb, typ - c->bias) : NULL;

	return name ? name : "?";
}

static int type_kind(const struct decode_ctx *c, uint64_t typ)
{
	return c->gb ? gobin__type_kind(c->gb, typ - c->bias) : -1;
}

static const char *func_name(const struct decode_ctx *c, uint64_t pc)
{
	const struct gobin_func *f = c->gb ? gobin__func_at(c->gb, pc - c->bias) : NULL;

	return f && f->entry == pc - c->bias ? f->name : NULL;
}

static bool is_message_error(const char *name)
{
	int i;

	for (i = 0; message_errors[i]; i++)
		if (strcmp(name, message_errors[i]) == 0)
			return true;
	return false;
}

static double float_at(const struct decode_ctx *c, uint32_t off, unsigned size)
{
	uint64_t bits = rd(c, off, size);

	if (size == 4) {
		float f;
		uint32_t b32 = bits;

		memcpy(&f, &b32, 4);
		return f;
	} else {
		double d;

		memcpy(&d, &bits, 8);
		return d;
	}
}

/*
 * Bytes of the UTF-8 character at s, 0 if it is not one: a stray or missing
 * continuation byte, an overlong form, a surrogate or a code point past
 * U+10FFFF is not UTF-8 (JSON parsers refuse them) and each byte of it is
 * escaped instead.
 */
static int utf8_len(const unsigned char *s, size_t n)
{
	static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000}; /* shorter is overlong */
	uint32_t cp;
	int len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * A quoted string, Go's way (%q: \n, \x01, \xff for a byte that is not
 * UTF-8) or JSON's (\u000a, \u0001, U+FFFD for it: JSON strings must be
 * valid UTF-8).
 */
static void quote(struct strbuf *sb, const char *s, size_t n, bool json)
{
	static const char *const go_escapes[0x20] = {['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	int l;

	sb_putc(sb, '"');
	for (; i < n; i += l) {
		unsigned char ch = u[i];

		l = 1;
		if (ch == '"' || ch == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, ch);
		} else if (!json && ch < 0x20 && go_escapes[ch]) {
			sb_puts(sb, go_escapes[ch]);
		} else if (ch < 0x20 || ch == 0x7f) {
			sb_printf(sb, json ? "\\u%04x" : "\\x%02x", ch);
		} else if ((l = utf8_len(u + i, n - i)) > 0) {
			sb_add(sb, s + i, l);
		} else {
			l = 1;
			if (json)
				sb_puts(sb, "\\ufffd");
			else
				sb_printf(sb, "\\x%02x", ch);
		}
	}
	sb_putc(sb, '"');
}

void decode__quote(struct strbuf *sb, const char *s, size_t n)
{
	quote(sb, s, n, false);
}

void decode__json_string(struct strbuf *sb, const char *s, size_t n)
{
	quote(sb, s, n, true);
}

bool decode__printable(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	int l;

	while (i < n) {
		if ((u[i] < 0x20 && u[i] != '\n' && u[i] != '\t' && u[i] != '\r') || u[i] == 0x7f)
			return false;
		l = utf8_len(u + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}


/* The walker: each node's value read once, told to the sink. */

/* The scalar of type t at off; false if t is not a scalar type. */
static bool scalar_at(const struct decode_ctx *c, const struct gotype *t, uint32_t off,
		      struct decode_scalar *v)
{
	unsigned size = t->size;

	memset(v, 0, sizeof(*v));
	switch (t->kind) {
	case GK_BOOL:
		v->kind = DS_BOOL;
		v->b = rd(c, off, 1) != 0;
		break;
	case GK_INT:
		v->kind = DS_INT;
		v->i = sext(rd(c, off, size), size);
		break;
	case GK_UINT:
		v->kind = DS_UINT;
		v->u = rd(c, off, size);
		break;
	case GK_UINTPTR:
	case GK_UNSAFEPTR:
		v->kind = DS_UINTPTR;
		v->u = rd(c, off, size);
		break;
	case GK_FLOAT:
		v->kind = DS_FLOAT;
		v->single = size == 4;
		v->f = float_at(c, off, size);
		break;
	case GK_COMPLEX:
		v->kind = DS_COMPLEX;
		v->single = size == 8;
		v->c.re = float_at(c, off, size / 2);
		v->c.im = float_at(c, off + size / 2, size / 2);
		break;
	default:
		return false;
	}
	return true;
}

static void walk_scalar(const struct decode_ctx *c, const struct gotype *t, uint32_t off,
			const struct decode_sink *s, void *st)
{
	struct decode_scalar v;

	if (!scalar_at(c, t, off, &v))
		s->missing(st, DECODE_UNREADABLE);
	else
		s->scalar(st, &v);
}

static void walk_uint(uint64_t u, const struct decode_sink *s, void *st)
{
	struct decode_scalar v = {.kind = DS_UINT, .u = u};

	s->scalar(st, &v);
}

static void walk_string(const struct decode_ctx *c, const struct dnode *n,
			const struct decode_sink *s, void *st)
{
	uint64_t glen = rd(c, n->img + 8, 8);
	const char *bytes;
	uint32_t nbytes;

	if (!glen) {
		s->string(st, "", 0, 0);
		return;
	}
	bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
	if (bytes)
		s->string(st, bytes, nbytes, glen);
	else
		s->missing(st, DECODE_UNREADABLE);
}

static const char *name_or(const struct gotype *t, const char *generic)
{
	return t->name ? t->name : generic;
}

/* Elements decoded in place from the bytes of a flat copy. */
static void walk_flat(const struct decode_ctx *c, const struct dnode *n, struct decode_group *g,
		      const char *bytes, uint32_t nbytes, const struct decode_sink *s, void *st)
{
	const struct gotype *et = n->type->elem;
	struct decode_ctx ec = *c;
	uint64_t i;

	ec.faults = 0; /* the copy did not fault: it is there */
	g->faulted = !bytes && g->total;
	g->shown = bytes ? nbytes / et->size : 0;
	s->begin(st, g);
	for (i = 0; i < g->shown; i++) {
		s->key(st, NULL, i);
		if (et->kind == GK_STRUCT || et->kind == GK_ARRAY)
			s->missing(st, DECODE_NOTDECODED);
		else
			walk_scalar(&ec, et, (const uint8_t *)bytes - c->data + i * et->size, s, st);
	}
	s->end(st, g);
}

static void walk_children(const struct decode_ctx *c, const struct dnode *n,
			  struct decode_group *g, const struct decode_sink *s, void *st)
{
	uint64_t i;

	s->begin(st, g);
	for (i = 0; i < g->shown; i++) {
		const char *fname = g->kind == DG_STRUCT ? n->type->fields[i].name : NULL;

		s->key(st, g->kind == DG_STRUCT && !fname ? "_" : fname, i);
		decode__walk(c, &n->child[i], s, st);
	}
	s->end(st, g);
}

static void walk_slice(const struct decode_ctx *c, const struct dnode *n,
		       const struct decode_sink *s, void *st)
{
	const struct gotype *t = n->type;
	struct decode_group g = {.kind = DG_SLICE, .type = t, .name = name_or(t, "[]")};
	const char *bytes = NULL;
	uint32_t nbytes = 0;

	g.total = rd(c, n->img + 8, 8);
	g.cap = rd(c, n->img + 16, 8);
	g.addr = rd(c, n->img, 8);
	g.nil = !g.addr && !g.total;
	if (n->flat) {
		bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
		if (t->elem->size == 1 && s->bytes(st, &g, bytes, nbytes))
			return;
	}
	if (g.nil) {
		s->nil(st, &g);
		return;
	}
	if (n->flat) {
		walk_flat(c, n, &g, bytes, nbytes, s, st);
		return;
	}
	g.shown = g.total < n->nchild ? g.total : n->nchild;
	walk_children(c, n, &g, s, st);
}

/* A map's count, a channel's count and capacity: from aux, if it was read. */
static void walk_counts(const struct decode_ctx *c, const struct dnode *n,
			const struct decode_sink *s, void *st)
{
	static const char *const keys[] = {"len", "cap"};
	bool chan = n->kind == DN_CHAN;
	struct decode_group g = {.kind = chan ? DG_CHAN : DG_MAP,
				 .type = n->type,
				 .name = name_or(n->type, chan ? "chan" : "map"),
				 .shown = chan ? 2 : 1};
	uint64_t i;

	g.total = g.shown;
	if (!rd(c, n->img, 8)) {
		s->nil(st, &g);
		return;
	}
	s->begin(st, &g);
	for (i = 0; i < g.shown; i++) {
		s->key(st, keys[i], i);
		if (slot_ok(c, n->aux_slot))
			walk_uint(rd(c, n->aux + 8 * i, 8), s, st);
		else
			s->missing(st, DECODE_UNREADABLE);
	}
	s->end(st, &g);
}

static void walk_ptr(const struct decode_ctx *c, const struct dnode *n,
		     const struct decode_sink *s, void *st)
{
	struct decode_group g = {.kind = DG_PTR, .type = n->type, .name = name_or(n->type, "*")};
	struct decode_scalar v = {.kind = DS_PTR, .name = g.name};

	v.u = rd(c, n->img, 8);
	if (!v.u) {
		s->nil(st, &g);
	} else if (n->nchild) {
		if (s->deref)
			s->deref(st);
		decode__walk(c, &n->child[0], s, st);
	} else {
		s->scalar(st, &v);
	}
}

static void walk_func(const struct decode_ctx *c, const struct dnode *n,
		      const struct decode_sink *s, void *st)
{
	struct decode_group g = {.kind = DG_FUNC, .type = n->type, .name = name_or(n->type, "func")};
	struct decode_scalar v = {.kind = DS_FUNC};

	v.u = rd(c, n->img, 8);
	if (!v.u) {
		s->nil(st, &g);
		return;
	}
	v.name = slot_ok(c, n->aux_slot) ? func_name(c, rd(c, n->aux, 8)) : NULL;
	s->scalar(st, &v);
}

/* The dynamic value of an interface, from its type's kind and its first words. */
static void walk_dyn(const struct decode_ctx *c, const struct dnode *n, uint64_t typ,
		     const struct decode_sink *s, void *st)
{
	static const unsigned sizes[] = {
		[RK_INT] = 8,  [RK_INT8] = 1,  [RK_INT16] = 2,	[RK_INT32] = 4,	 [RK_INT64] = 8,
		[RK_UINT] = 8, [RK_UINT8] = 1, [RK_UINT16] = 2, [RK_UINT32] = 4, [RK_UINT64] = 8,
	};
	struct decode_scalar v = {0};
	uint64_t w0 = rd(c, n->aux + 8, 8);
	int kind = type_kind(c, typ);
	const char *bytes;
	uint32_t nbytes;

	if (kind == RK_STRING || (kind == RK_PTR && is_message_error(type_name(c, typ)))) {
		bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
		if (bytes)
			s->string(st, bytes, nbytes, rd(c, n->aux + 16, 8));
		else
			s->missing(st, DECODE_UNREADABLE);
		return;
	}
	if (kind == RK_BOOL) {
		v.kind = DS_BOOL;
		v.b = (w0 & 0xff) != 0;
	} else if (kind >= RK_INT && kind <= RK_INT64) {
		v.kind = DS_INT;
		v.i = sext(w0, sizes[kind]);
	} else if (kind >= RK_UINT && kind <= RK_UINT64) {
		v.kind = DS_UINT;
		v.u = sizes[kind] == 8 ? w0 : w0 & ((1ULL << 8 * sizes[kind]) - 1);
	} else if (kind == RK_UINTPTR) {
		v.kind = DS_UINTPTR;
		v.u = w0;
	} else if (kind == RK_FLOAT32 || kind == RK_FLOAT64) {
		v.kind = DS_FLOAT;
		v.single = kind == RK_FLOAT32;
		v.f = float_at(c, n->aux + 8, v.single ? 4 : 8);
	} else {
		/* pointer-shaped values are the data word itself */
		v.kind = DS_UINTPTR;
		v.u = rd(c, n->img + 8, 8);
	}
	s->scalar(st, &v);
}

static void walk_iface(const struct decode_ctx *c, const struct dnode *n,
		       const struct decode_sink *s, void *st)
{
	struct decode_group g = {.kind = DG_IFACE, .type = n->type, .shown = 1, .total = 1};
	uint64_t typ;

	if (!rd(c, n->img, 8)) {
		g.name = name_or(n->type, "interface {}");
		s->nil(st, &g);
		return;
	}
	if (!slot_ok(c, n->aux_slot)) {
		s->missing(st, DECODE_UNREADABLE);
		return;
	}
	typ = rd(c, n->aux, 8);
	g.name = type_name(c, typ);
	s->begin(st, &g);
	walk_dyn(c, n, typ, s, st);
	s->end(st, &g);
}

/*
 * A map lookup's outcome (m["key"]): true when it decided the value (nil for
 * an absent key, unreadable unless found).
 */
static bool walk_lookup(const struct decode_ctx *c, const struct dnode *n,
			const struct decode_sink *s, void *st)
{
	struct decode_group g = {.kind = DG_PTR, .type = n->type, .name = "nil"};

	if (!in_bounds(c, n->lookup_at, 1)) {
		s->missing(st, DECODE_UNREADABLE);
		return true;
	}
	switch (rd(c, n->lookup_at, 1)) {
	case LP_MS_FOUND:
		return false;
	case LP_MS_ABSENT:
		if (!slot_ok(c, n->slot))
			break;
		s->nil(st, &g);
		return true;
	case LP_MS_TOOBIG:
		s->missing(st, DECODE_MAPTOOBIG);
		return true;
	}
	s->missing(st, DECODE_UNREADABLE);
	return true;
}

void decode__walk(const struct decode_ctx *c, const struct dnode *n, const struct decode_sink *s,
		  void *st)
{
	struct decode_group g = {.type = n->type, .shown = n->nchild};

	if (left_out(c, n)) {
		s->missing(st, DECODE_NOTCAPTURED);
		return;
	}
	if (n->lookup && walk_lookup(c, n, s, st))
		return;
	if (!decode__readable(c, n)) {
		s->missing(st, DECODE_UNREADABLE);
		return;
	}
	switch (n->kind) {
	case DN_SCALAR:
		walk_scalar(c, n->type, n->img, s, st);
		return;
	case DN_STRING:
		walk_string(c, n, s, st);
		return;
	case DN_SLICE:
		walk_slice(c, n, s, st);
		return;
	case DN_ARRAY:
		g.kind = DG_ARRAY;
		g.name = name_or(n->type, "[]");
		g.total = n->type->len;
		walk_children(c, n, &g, s, st);
		return;
	case DN_STRUCT:
		g.kind = DG_STRUCT;
		g.name = name_or(n->type, "struct");
		g.total = n->nchild;
		walk_children(c, n, &g, s, st);
		return;
	case DN_PTR:
		walk_ptr(c, n, s, st);
		return;
	case DN_IFACE:
		walk_iface(c, n, s, st);
		return;
	case DN_MAP:
	case DN_CHAN:
		walk_counts(c, n, s, st);
		return;
	case DN_FUNC:
		walk_func(c, n, s, st);
		return;
	}
}
