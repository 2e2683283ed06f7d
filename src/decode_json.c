// SPDX-License-Identifier: BSD-2-Clause
/*
 * The JSON sink: numbers, strings, arrays and objects. What JSON cannot hold
 * is null: a value unreadable or not captured, NaN and infinities, a nil.
 * Complex numbers are their text, []byte a string, an interface
 * {"type":..., "value":...}, a map {"len":n}, a pointer not followed its
 * address as a number. Strings are cut at the capture without a mark.
 */
#include <math.h>
#include <string.h>
#include "decode.h"

static void json_nil(void *st, const struct decode_group *g)
{
	sb_puts(st, "null");
}

static void json_missing(void *st, enum decode_missing why)
{
	sb_puts(st, "null");
}

/* Numbers as in the text but for addresses (decimal) and what JSON has no number for. */
static void json_scalar(void *st, const struct decode_scalar *v)
{
	struct strbuf *sb = st, text;

	switch (v->kind) {
	case DS_UINTPTR:
	case DS_PTR:
		sb_printf(sb, "%llu", (unsigned long long)v->u);
		return;
	case DS_FLOAT:
		if (isnan(v->f) || isinf(v->f)) {
			sb_puts(sb, "null");
			return;
		}
		break;
	case DS_COMPLEX:
		sb_init(&text);
		decode__scalar_text(&text, v);
		decode__json_string(sb, text.buf, text.len);
		sb_free(&text);
		return;
	case DS_FUNC:
		if (v->name)
			decode__json_string(sb, v->name, strlen(v->name));
		else
			sb_puts(sb, "null");
		return;
	default:
		break;
	}
	decode__scalar_text(sb, v);
}

static void json_string(void *st, const char *s, uint32_t n, uint64_t total)
{
	decode__json_string(st, s, n);
}

/* Any slice of 1-byte elements is a string of its bytes. */
static bool json_bytes(void *st, const struct decode_group *g, const char *s, uint32_t n)
{
	if (g->nil || !s)
		sb_puts(st, "null");
	else
		decode__json_string(st, s, n);
	return true;
}

static void json_begin(void *st, const struct decode_group *g)
{
	struct strbuf *sb = st;

	switch (g->kind) {
	case DG_SLICE:
	case DG_ARRAY:
		sb_putc(sb, '[');
		break;
	case DG_IFACE:
		sb_puts(sb, "{\"type\":");
		decode__json_string(sb, g->name, strlen(g->name));
		sb_puts(sb, ",\"value\":");
		break;
	default:
		sb_putc(sb, '{');
	}
}

static void json_key(void *st, const char *name, uint64_t i)
{
	struct strbuf *sb = st;

	if (i)
		sb_putc(sb, ',');
	if (name) {
		decode__json_string(sb, name, strlen(name));
		sb_putc(sb, ':');
	}
}

static void json_end(void *st, const struct decode_group *g)
{
	sb_putc(st, g->kind == DG_SLICE || g->kind == DG_ARRAY ? ']' : '}');
}

/* in the order of struct decode_sink; no deref: a pointee stands for its pointer */
const struct decode_sink decode_json_sink = {
	json_nil, json_missing, json_scalar, json_string, json_bytes, json_begin, json_key, json_end,
};

void decode__json(struct strbuf *sb, const struct decode_ctx *c, const struct dnode *n)
{
	decode__walk(c, n, &decode_json_sink, sb);
}
