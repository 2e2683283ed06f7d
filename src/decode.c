// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "decode.h"

#define UNREADABLE_MT "luprobe.unreadable"
#define NOTCAPTURED_MT "luprobe.notcaptured"

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

int decode__readable(const struct decode_ctx *c, const struct dnode *n)
{
	uint64_t size = n->type ? n->type->size : 0;

	if (n->avail != DA_OK || !slot_ok(c, n->slot))
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

/* Shortest text that reads back as the same double (or float when single). */
static void fmt_float(struct strbuf *sb, double v, bool single)
{
	char buf[40];
	int prec;

	if (isnan(v)) {
		sb_puts(sb, "NaN");
		return;
	}
	if (isinf(v)) {
		sb_puts(sb, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			break;
	}
	sb_puts(sb, buf);
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

void decode__quote(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	sb_putc(sb, '"');
	while (i < n) {
		unsigned char ch = u[i];
		int l;

		switch (ch) {
		case '"':
			sb_puts(sb, "\\\"");
			i++;
			continue;
		case '\\':
			sb_puts(sb, "\\\\");
			i++;
			continue;
		case '\n':
			sb_puts(sb, "\\n");
			i++;
			continue;
		case '\r':
			sb_puts(sb, "\\r");
			i++;
			continue;
		case '\t':
			sb_puts(sb, "\\t");
			i++;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f) {
			sb_printf(sb, "\\x%02x", ch);
			i++;
			continue;
		}
		l = utf8_len(u + i, n - i);
		if (!l) {
			sb_printf(sb, "\\x%02x", ch);
			i++;
			continue;
		}
		sb_add(sb, s + i, l);
		i += l;
	}
	sb_putc(sb, '"');
}

void decode__json_string(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	sb_putc(sb, '"');
	while (i < n) {
		unsigned char ch = u[i];
		int l;

		if (ch == '"' || ch == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, ch);
			i++;
		} else if (ch < 0x20 || ch == 0x7f) {
			sb_printf(sb, "\\u%04x", ch);
			i++;
		} else if ((l = utf8_len(u + i, n - i)) > 0) {
			sb_add(sb, s + i, l);
			i += l;
		} else {
			sb_puts(sb, "\\ufffd"); /* JSON strings must be valid UTF-8 */
			i++;
		}
	}
	sb_putc(sb, '"');
}

static bool printable_text(const char *s, size_t n)
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

static void fmt_scalar(struct strbuf *sb, const struct decode_ctx *c, const struct dnode *n)
{
	const struct gotype *t = n->type;
	unsigned size = t->size;

	switch (t->kind) {
	case GK_BOOL:
		sb_puts(sb, rd(c, n->img, 1) ? "true" : "false");
		break;
	case GK_INT:
		sb_printf(sb, "%lld", (long long)sext(rd(c, n->img, size), size));
		break;
	case GK_UINT:
		sb_printf(sb, "%llu", (unsigned long long)rd(c, n->img, size));
		break;
	case GK_UINTPTR:
	case GK_UNSAFEPTR:
		sb_printf(sb, "0x%llx", (unsigned long long)rd(c, n->img, size));
		break;
	case GK_FLOAT:
		fmt_float(sb, float_at(c, n->img, size), size == 4);
		break;
	case GK_COMPLEX: {
		double re = float_at(c, n->img, size / 2),
		       im = float_at(c, n->img + size / 2, size / 2);

		sb_putc(sb, '(');
		fmt_float(sb, re, size == 8);
		if (im >= 0 || isnan(im))
			sb_putc(sb, '+');
		fmt_float(sb, im, size == 8);
		sb_puts(sb, "i)");
		break;
	}
	default:
		sb_putc(sb, '?');
	}
}

static void fmt_more(struct strbuf *sb, uint64_t total, uint64_t shown)
{
	if (total > shown)
		sb_printf(sb, "...+%llu more", (unsigned long long)(total - shown));
}

/* The dynamic value of an interface: kind, name, first words, string bytes. */
struct dynval {
	uint64_t typ, data;
	const char *name;
	int kind;
	uint64_t w0, w1;
	bool words_ok;
	const char *bytes;
	uint32_t nbytes;
};

static void iface_dyn(const struct decode_ctx *c, const struct dnode *n, struct dynval *d)
{
	memset(d, 0, sizeof(*d));
	d->data = rd(c, n->img + 8, 8);
	if (!slot_ok(c, n->aux_slot))
		return;
	d->typ = rd(c, n->aux, 8);
	d->name = type_name(c, d->typ);
	d->kind = type_kind(c, d->typ);
	d->words_ok = true;
	d->w0 = rd(c, n->aux + 8, 8);
	d->w1 = rd(c, n->aux + 16, 8);
	d->bytes = var_bytes(c, n->var, n->var_slot, &d->nbytes);
}

static bool dyn_is_string(const struct dynval *d)
{
	return d->kind == RK_STRING || (d->kind == RK_PTR && d->name && is_message_error(d->name));
}

static void fmt_dyn_value(struct strbuf *sb, const struct dynval *d)
{
	uint64_t w = d->w0;

	switch (d->kind) {
	case RK_BOOL:
		sb_puts(sb, (w & 0xff) ? "true" : "false");
		return;
	case RK_INT:
	case RK_INT64:
		sb_printf(sb, "%lld", (long long)w);
		return;
	case RK_INT8:
		sb_printf(sb, "%d", (int8_t)w);
		return;
	case RK_INT16:
		sb_printf(sb, "%d", (int16_t)w);
		return;
	case RK_INT32:
		sb_printf(sb, "%d", (int32_t)w);
		return;
	case RK_UINT:
	case RK_UINT64:
		sb_printf(sb, "%llu", (unsigned long long)w);
		return;
	case RK_UINT8:
		sb_printf(sb, "%u", (uint8_t)w);
		return;
	case RK_UINT16:
		sb_printf(sb, "%u", (uint16_t)w);
		return;
	case RK_UINT32:
		sb_printf(sb, "%u", (uint32_t)w);
		return;
	case RK_UINTPTR:
		sb_printf(sb, "0x%llx", (unsigned long long)w);
		return;
	case RK_FLOAT64: {
		double f;

		memcpy(&f, &w, 8);
		fmt_float(sb, f, false);
		return;
	}
	case RK_FLOAT32: {
		float f;
		uint32_t b = w;

		memcpy(&f, &b, 4);
		fmt_float(sb, f, true);
		return;
	}
	}
	if (dyn_is_string(d)) {
		if (!d->bytes) {
			sb_putc(sb, '?');
			return;
		}
		decode__quote(sb, d->bytes, d->nbytes);
		fmt_more(sb, d->w1, d->nbytes);
		return;
	}
	/* pointer-shaped values are the data word itself */
	sb_printf(sb, "0x%llx", (unsigned long long)d->data);
}

void decode__format(struct strbuf *sb, const struct decode_ctx *c, const struct dnode *n)
{
	const struct gotype *t = n->type;
	uint64_t ptr, glen, i, shown;
	const char *bytes;
	uint32_t nbytes;

	if (left_out(c, n)) {
		sb_puts(sb, "...");
		return;
	}
	if (!decode__readable(c, n)) {
		sb_putc(sb, '?');
		return;
	}
	switch (n->kind) {
	case DN_SCALAR:
		fmt_scalar(sb, c, n);
		return;
	case DN_STRING:
		glen = rd(c, n->img + 8, 8);
		if (!glen) {
			sb_puts(sb, "\"\"");
			return;
		}
		bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
		if (!bytes) {
			sb_putc(sb, '?');
			return;
		}
		decode__quote(sb, bytes, nbytes);
		fmt_more(sb, glen, nbytes);
		return;
	case DN_SLICE:
		ptr = rd(c, n->img, 8);
		glen = rd(c, n->img + 8, 8);
		if (!ptr && !glen) {
			sb_printf(sb, "%s(nil)", t->name ? t->name : "[]");
			return;
		}
		if (n->flat) {
			uint64_t esize = t->elem->size;

			bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
			if (!bytes && glen) {
				sb_printf(sb, "%s{?}", t->name ? t->name : "[]");
				return;
			}
			if (esize == 1 && t->elem->kind == GK_UINT &&
			    printable_text(bytes, nbytes)) {
				sb_puts(sb, "[]byte(");
				decode__quote(sb, bytes, nbytes);
				fmt_more(sb, glen, nbytes);
				sb_putc(sb, ')');
				return;
			}
			shown = bytes ? nbytes / esize : 0;
			sb_printf(sb, "%s{", t->name ? t->name : "[]");
			for (i = 0; i < shown; i++) {
				struct decode_ctx ec = *c;
				struct dnode en = {.kind = DN_SCALAR, .type = t->elem};

				/* elements are decoded in place from the copied bytes */
				ec.faults = 0;
				en.img = (const uint8_t *)bytes - c->data + i * esize;
				if (i)
					sb_puts(sb, ", ");
				if (t->elem->kind == GK_STRUCT || t->elem->kind == GK_ARRAY)
					sb_puts(sb, "{...}");
				else
					fmt_scalar(sb, &ec, &en);
			}
			fmt_more(sb, glen, shown);
			sb_putc(sb, '}');
			return;
		}
		sb_printf(sb, "%s{", t->name ? t->name : "[]");
		shown = glen < n->nchild ? glen : n->nchild;
		for (i = 0; i < shown; i++) {
			if (i)
				sb_puts(sb, ", ");
			decode__format(sb, c, &n->child[i]);
		}
		fmt_more(sb, glen, shown);
		sb_putc(sb, '}');
		return;
	case DN_ARRAY:
		sb_printf(sb, "%s{", t->name ? t->name : "[]");
		for (i = 0; i < n->nchild; i++) {
			if (i)
				sb_puts(sb, ", ");
			decode__format(sb, c, &n->child[i]);
		}
		fmt_more(sb, t->len, n->nchild);
		sb_putc(sb, '}');
		return;
	case DN_STRUCT:
		sb_putc(sb, '{');
		for (i = 0; i < n->nchild; i++) {
			if (i)
				sb_puts(sb, ", ");
			sb_printf(sb, "%s:", t->fields[i].name ? t->fields[i].name : "_");
			decode__format(sb, c, &n->child[i]);
		}
		sb_putc(sb, '}');
		return;
	case DN_PTR:
		ptr = rd(c, n->img, 8);
		if (!ptr) {
			sb_puts(sb, "nil");
			return;
		}
		if (n->nchild) {
			sb_putc(sb, '&');
			decode__format(sb, c, &n->child[0]);
			return;
		}
		sb_printf(sb, "(%s)(0x%llx)", t->name ? t->name : "*", (unsigned long long)ptr);
		return;
	case DN_IFACE: {
		struct dynval d;

		if (!rd(c, n->img, 8)) {
			sb_puts(sb, "nil");
			return;
		}
		iface_dyn(c, n, &d);
		if (!d.words_ok) {
			sb_puts(sb, "?");
			return;
		}
		sb_printf(sb, "%s(", d.name);
		fmt_dyn_value(sb, &d);
		sb_putc(sb, ')');
		return;
	}
	case DN_MAP:
		ptr = rd(c, n->img, 8);
		if (!ptr) {
			sb_printf(sb, "%s(nil)", t->name ? t->name : "map");
			return;
		}
		if (!slot_ok(c, n->aux_slot)) {
			sb_printf(sb, "%s{len:?}", t->name ? t->name : "map");
			return;
		}
		sb_printf(sb, "%s{len:%llu}", t->name ? t->name : "map",
			  (unsigned long long)rd(c, n->aux, 8));
		return;
	case DN_CHAN:
		ptr = rd(c, n->img, 8);
		if (!ptr) {
			sb_printf(sb, "%s(nil)", t->name ? t->name : "chan");
			return;
		}
		if (!slot_ok(c, n->aux_slot)) {
			sb_printf(sb, "%s{len:?, cap:?}", t->name ? t->name : "chan");
			return;
		}
		sb_printf(sb, "%s{len:%llu, cap:%llu}", t->name ? t->name : "chan",
			  (unsigned long long)rd(c, n->aux, 8),
			  (unsigned long long)rd(c, n->aux + 8, 8));
		return;
	case DN_FUNC: {
		const char *name;

		ptr = rd(c, n->img, 8);
		if (!ptr) {
			sb_puts(sb, "nil");
			return;
		}
		name = slot_ok(c, n->aux_slot) ? func_name(c, rd(c, n->aux, 8)) : NULL;
		if (name)
			sb_puts(sb, name);
		else
			sb_printf(sb, "func(0x%llx)", (unsigned long long)ptr);
		return;
	}
	}
}

/* JSON: numbers, strings, arrays and objects; unreadable values are null. */
void decode__json(struct strbuf *sb, const struct decode_ctx *c, const struct dnode *n)
{
	const struct gotype *t = n->type;
	uint64_t ptr, glen, i, shown;
	const char *bytes;
	uint32_t nbytes;

	if (left_out(c, n) || !decode__readable(c, n)) {
		sb_puts(sb, "null");
		return;
	}
	switch (n->kind) {
	case DN_SCALAR:
		if (t->kind == GK_UINTPTR || t->kind == GK_UNSAFEPTR) {
			sb_printf(sb, "%llu", (unsigned long long)rd(c, n->img, t->size));
		} else if (t->kind == GK_COMPLEX) {
			struct strbuf tmp;

			sb_init(&tmp);
			fmt_scalar(&tmp, c, n);
			decode__json_string(sb, tmp.buf, tmp.len);
			sb_free(&tmp);
		} else if (t->kind == GK_FLOAT) {
			double f = float_at(c, n->img, t->size);

			if (isnan(f) || isinf(f))
				sb_puts(sb, "null");
			else
				fmt_scalar(sb, c, n);
		} else {
			fmt_scalar(sb, c, n);
		}
		return;
	case DN_STRING:
		glen = rd(c, n->img + 8, 8);
		bytes = glen ? var_bytes(c, n->var, n->var_slot, &nbytes) : "";
		if (!glen)
			nbytes = 0;
		if (!bytes)
			sb_puts(sb, "null");
		else
			decode__json_string(sb, bytes, nbytes);
		return;
	case DN_SLICE:
		ptr = rd(c, n->img, 8);
		glen = rd(c, n->img + 8, 8);
		if (!ptr && !glen) {
			sb_puts(sb, "null");
			return;
		}
		if (n->flat && t->elem->size == 1) {
			bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
			if (bytes)
				decode__json_string(sb, bytes, nbytes);
			else
				sb_puts(sb, "null");
			return;
		}
		sb_putc(sb, '[');
		if (n->flat) {
			uint64_t esize = t->elem->size;

			bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
			shown = bytes ? nbytes / esize : 0;
			for (i = 0; i < shown; i++) {
				struct decode_ctx ec = *c;
				struct dnode en = {.kind = DN_SCALAR, .type = t->elem};

				ec.faults = 0;
				en.img = (const uint8_t *)bytes - c->data + i * esize;
				if (i)
					sb_putc(sb, ',');
				if (t->elem->kind == GK_STRUCT || t->elem->kind == GK_ARRAY)
					sb_puts(sb, "null");
				else
					decode__json(sb, &ec, &en);
			}
		} else {
			shown = glen < n->nchild ? glen : n->nchild;
			for (i = 0; i < shown; i++) {
				if (i)
					sb_putc(sb, ',');
				decode__json(sb, c, &n->child[i]);
			}
		}
		sb_putc(sb, ']');
		return;
	case DN_ARRAY:
		sb_putc(sb, '[');
		for (i = 0; i < n->nchild; i++) {
			if (i)
				sb_putc(sb, ',');
			decode__json(sb, c, &n->child[i]);
		}
		sb_putc(sb, ']');
		return;
	case DN_STRUCT:
		sb_putc(sb, '{');
		for (i = 0; i < n->nchild; i++) {
			const char *fname = t->fields[i].name ? t->fields[i].name : "_";

			if (i)
				sb_putc(sb, ',');
			decode__json_string(sb, fname, strlen(fname));
			sb_putc(sb, ':');
			decode__json(sb, c, &n->child[i]);
		}
		sb_putc(sb, '}');
		return;
	case DN_PTR:
		ptr = rd(c, n->img, 8);
		if (!ptr)
			sb_puts(sb, "null");
		else if (n->nchild)
			decode__json(sb, c, &n->child[0]);
		else
			sb_printf(sb, "%llu", (unsigned long long)ptr);
		return;
	case DN_IFACE: {
		struct dynval d;
		struct strbuf tmp;

		if (!rd(c, n->img, 8)) {
			sb_puts(sb, "null");
			return;
		}
		iface_dyn(c, n, &d);
		if (!d.words_ok) {
			sb_puts(sb, "null");
			return;
		}
		sb_puts(sb, "{\"type\":");
		decode__json_string(sb, d.name, strlen(d.name));
		sb_puts(sb, ",\"value\":");
		sb_init(&tmp);
		fmt_dyn_value(&tmp, &d);
		if (dyn_is_string(&d)) {
			if (d.bytes)
				decode__json_string(sb, d.bytes, d.nbytes);
			else
				sb_puts(sb, "null");
		} else if (d.kind == RK_BOOL || (d.kind >= RK_INT && d.kind <= RK_UINT64)) {
			sb_add(sb, tmp.buf, tmp.len); /* true/false or a decimal integer */
		} else if (d.kind == RK_FLOAT32 || d.kind == RK_FLOAT64) {
			if (strchr(sb_str(&tmp), 'N') || strchr(sb_str(&tmp), 'I'))
				sb_puts(sb, "null");
			else
				sb_add(sb, tmp.buf, tmp.len);
		} else {
			/* pointer-shaped: the data word, like other unfollowed pointers */
			sb_printf(sb, "%llu", (unsigned long long)d.data);
		}
		sb_free(&tmp);
		sb_putc(sb, '}');
		return;
	}
	case DN_MAP:
		if (!rd(c, n->img, 8))
			sb_puts(sb, "null");
		else if (!slot_ok(c, n->aux_slot))
			sb_puts(sb, "{\"len\":null}");
		else
			sb_printf(sb, "{\"len\":%llu}", (unsigned long long)rd(c, n->aux, 8));
		return;
	case DN_CHAN:
		if (!rd(c, n->img, 8))
			sb_puts(sb, "null");
		else if (!slot_ok(c, n->aux_slot))
			sb_puts(sb, "{\"len\":null,\"cap\":null}");
		else
			sb_printf(sb, "{\"len\":%llu,\"cap\":%llu}",
				  (unsigned long long)rd(c, n->aux, 8),
				  (unsigned long long)rd(c, n->aux + 8, 8));
		return;
	case DN_FUNC: {
		const char *name;

		if (!rd(c, n->img, 8)) {
			sb_puts(sb, "null");
			return;
		}
		name = slot_ok(c, n->aux_slot) ? func_name(c, rd(c, n->aux, 8)) : NULL;
		if (name)
			decode__json_string(sb, name, strlen(name));
		else
			sb_puts(sb, "null");
		return;
	}
	}
}

static int unreadable_tostring(lua_State *L)
{
	lua_pushliteral(L, "?");
	return 1;
}

static int notcaptured_tostring(lua_State *L)
{
	lua_pushliteral(L, "...");
	return 1;
}

void decode__init_lua(lua_State *L)
{
	if (luaL_newmetatable(L, UNREADABLE_MT)) {
		lua_pushcfunction(L, unreadable_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, NOTCAPTURED_MT)) {
		lua_pushcfunction(L, notcaptured_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
}

void decode__push_notcaptured(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, "luprobe.notcaptured.value") == LUA_TNIL) {
		lua_pop(L, 1);
		lua_newuserdatauv(L, 0, 0);
		luaL_setmetatable(L, NOTCAPTURED_MT);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, "luprobe.notcaptured.value");
	}
}

void decode__push_unreadable(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, "luprobe.unreadable.value") == LUA_TNIL) {
		lua_pop(L, 1);
		lua_newuserdatauv(L, 0, 0);
		luaL_setmetatable(L, UNREADABLE_MT);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, "luprobe.unreadable.value");
	}
}

void decode__push_u64(lua_State *L, uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		lua_pushinteger(L, (lua_Integer)v);
	else
		lua_pushnumber(L, (lua_Number)v);
}

void decode__push_i128(lua_State *L, int64_t hi, uint64_t lo)
{
	if ((hi == 0 && lo <= (uint64_t)INT64_MAX) || (hi == -1 && lo > (uint64_t)INT64_MAX))
		lua_pushinteger(L, (lua_Integer)lo);
	else
		lua_pushnumber(L,
			       (lua_Number)(__int128)((unsigned __int128)(uint64_t)hi << 64 | lo));
}

static void push_scalar(lua_State *L, const struct decode_ctx *c, const struct dnode *n)
{
	const struct gotype *t = n->type;
	unsigned size = t->size;

	switch (t->kind) {
	case GK_BOOL:
		lua_pushboolean(L, rd(c, n->img, 1) != 0);
		return;
	case GK_INT:
		lua_pushinteger(L, sext(rd(c, n->img, size), size));
		return;
	case GK_UINT:
	case GK_UINTPTR:
	case GK_UNSAFEPTR:
		decode__push_u64(L, rd(c, n->img, size));
		return;
	case GK_FLOAT:
		lua_pushnumber(L, float_at(c, n->img, size));
		return;
	case GK_COMPLEX:
		lua_createtable(L, 0, 2);
		lua_pushnumber(L, float_at(c, n->img, size / 2));
		lua_setfield(L, -2, "re");
		lua_pushnumber(L, float_at(c, n->img + size / 2, size / 2));
		lua_setfield(L, -2, "im");
		return;
	default:
		decode__push_unreadable(L);
	}
}

void decode__push(lua_State *L, const struct decode_ctx *c, const struct dnode *n)
{
	const struct gotype *t = n->type;
	uint64_t ptr, glen, i, shown;
	const char *bytes;
	uint32_t nbytes;

	luaL_checkstack(L, 8, "decoding a value");
	if (left_out(c, n)) {
		decode__push_notcaptured(L);
		return;
	}
	if (!decode__readable(c, n)) {
		decode__push_unreadable(L);
		return;
	}
	switch (n->kind) {
	case DN_SCALAR:
		push_scalar(L, c, n);
		return;
	case DN_STRING:
		glen = rd(c, n->img + 8, 8);
		if (!glen) {
			lua_pushliteral(L, "");
			return;
		}
		bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
		if (bytes)
			lua_pushlstring(L, bytes, nbytes);
		else
			decode__push_unreadable(L);
		return;
	case DN_SLICE:
		ptr = rd(c, n->img, 8);
		glen = rd(c, n->img + 8, 8);
		if (n->flat && t->elem->size == 1) {
			bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
			if (bytes || !glen)
				lua_pushlstring(L, bytes ? bytes : "", bytes ? nbytes : 0);
			else
				decode__push_unreadable(L);
			return;
		}
		lua_createtable(L, 8, 3);
		if (n->flat) {
			uint64_t esize = t->elem->size;

			bytes = var_bytes(c, n->var, n->var_slot, &nbytes);
			shown = bytes ? nbytes / esize : 0;
			for (i = 0; i < shown; i++) {
				struct decode_ctx ec = *c;
				struct dnode en = {.kind = DN_SCALAR, .type = t->elem};

				ec.faults = 0;
				en.img = (const uint8_t *)bytes - c->data + i * esize;
				if (t->elem->kind == GK_STRUCT || t->elem->kind == GK_ARRAY)
					decode__push_unreadable(L);
				else
					push_scalar(L, &ec, &en);
				lua_rawseti(L, -2, i + 1);
			}
		} else {
			shown = glen < n->nchild ? glen : n->nchild;
			for (i = 0; i < shown; i++) {
				decode__push(L, c, &n->child[i]);
				lua_rawseti(L, -2, i + 1);
			}
		}
		/* len and cap through the metatable: the table itself is a plain sequence */
		lua_createtable(L, 0, 1);
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, glen);
		lua_setfield(L, -2, "len");
		lua_pushinteger(L, rd(c, n->img + 16, 8));
		lua_setfield(L, -2, "cap");
		lua_pushboolean(L, ptr == 0);
		lua_setfield(L, -2, "isnil");
		lua_setfield(L, -2, "__index");
		lua_setmetatable(L, -2);
		return;
	case DN_ARRAY:
		lua_createtable(L, n->nchild, 0);
		for (i = 0; i < n->nchild; i++) {
			decode__push(L, c, &n->child[i]);
			lua_rawseti(L, -2, i + 1);
		}
		return;
	case DN_STRUCT:
		lua_createtable(L, 0, n->nchild);
		for (i = 0; i < n->nchild; i++) {
			decode__push(L, c, &n->child[i]);
			lua_setfield(L, -2, t->fields[i].name ? t->fields[i].name : "_");
		}
		return;
	case DN_PTR:
		ptr = rd(c, n->img, 8);
		if (!ptr)
			lua_pushnil(L);
		else if (n->nchild)
			decode__push(L, c, &n->child[0]);
		else
			decode__push_u64(L, ptr);
		return;
	case DN_IFACE: {
		struct dynval d;

		if (!rd(c, n->img, 8)) {
			lua_pushnil(L);
			return;
		}
		iface_dyn(c, n, &d);
		if (!d.words_ok) {
			decode__push_unreadable(L);
			return;
		}
		lua_createtable(L, 0, 2);
		lua_pushstring(L, d.name);
		lua_setfield(L, -2, "type");
		if (dyn_is_string(&d)) {
			if (d.bytes)
				lua_pushlstring(L, d.bytes, d.nbytes);
			else
				decode__push_unreadable(L);
		} else if (d.kind == RK_FLOAT64 || d.kind == RK_FLOAT32) {
			double f;
			float f32;
			uint32_t b = d.w0;

			memcpy(&f, &d.w0, 8);
			memcpy(&f32, &b, 4);
			lua_pushnumber(L, d.kind == RK_FLOAT64 ? f : f32);
		} else if (d.kind == RK_BOOL) {
			lua_pushboolean(L, d.w0 & 0xff);
		} else if (d.kind >= RK_INT && d.kind <= RK_INT64) {
			static const unsigned bytes[] = {8, 1, 2, 4, 8};

			lua_pushinteger(L, sext(d.w0, bytes[d.kind - RK_INT]));
		} else if (d.kind >= RK_UINT && d.kind <= RK_UINTPTR) {
			static const unsigned bits[] = {64, 8, 16, 32, 64, 64};
			unsigned b = bits[d.kind - RK_UINT];

			decode__push_u64(L, b == 64 ? d.w0 : d.w0 & ((1ULL << b) - 1));
		} else {
			decode__push_u64(L, d.data);
		}
		lua_setfield(L, -2, "value");
		return;
	}
	case DN_MAP:
		if (!rd(c, n->img, 8)) {
			lua_pushnil(L);
			return;
		}
		lua_createtable(L, 0, 1);
		if (slot_ok(c, n->aux_slot))
			lua_pushinteger(L, rd(c, n->aux, 8));
		else
			decode__push_unreadable(L);
		lua_setfield(L, -2, "len");
		return;
	case DN_CHAN:
		if (!rd(c, n->img, 8)) {
			lua_pushnil(L);
			return;
		}
		lua_createtable(L, 0, 2);
		if (slot_ok(c, n->aux_slot)) {
			lua_pushinteger(L, rd(c, n->aux, 8));
			lua_setfield(L, -2, "len");
			lua_pushinteger(L, rd(c, n->aux + 8, 8));
			lua_setfield(L, -2, "cap");
		}
		return;
	case DN_FUNC: {
		const char *name;

		if (!rd(c, n->img, 8)) {
			lua_pushnil(L);
			return;
		}
		name = slot_ok(c, n->aux_slot) ? func_name(c, rd(c, n->aux, 8)) : NULL;
		if (name)
			lua_pushstring(L, name);
		else
			decode__push_unreadable(L);
		return;
	}
	}
}
