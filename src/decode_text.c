// SPDX-License-Identifier: BSD-2-Clause
/*
 * The text sink: values as Go prints them, more or less (%v with types where
 * Go's %#v would show them): 42, "abc"...+3 more, []int{1, 2...+6 more},
 * &{X:1, Y:"a"}, map[string]int{len:2}, int(42), nil, ? and ...
 */
#include <math.h>
#include <stdio.h>
#include "decode.h"

static void more(struct strbuf *sb, uint64_t total, uint64_t shown)
{
	if (total > shown)
		sb_printf(sb, "...+%llu more", (unsigned long long)(total - shown));
}

static void text_nil(void *st, const struct decode_group *g)
{
	struct strbuf *sb = st;

	if (g->kind == DG_SLICE || g->kind == DG_MAP || g->kind == DG_CHAN)
		sb_printf(sb, "%s(nil)", g->name);
	else
		sb_puts(sb, "nil");
}

static void text_missing(void *st, enum decode_missing why)
{
	static const char *const text[] = {
		[DECODE_UNREADABLE] = "?",
		[DECODE_NOTCAPTURED] = "...",
		[DECODE_NOTDECODED] = "{...}",
		[DECODE_MAPTOOBIG] = "?(map too big to scan)",
	};

	sb_puts(st, text[why]);
}

void decode__scalar_text(struct strbuf *sb, const struct decode_scalar *v)
{
	switch (v->kind) {
	case DS_BOOL:
		sb_puts(sb, v->b ? "true" : "false");
		break;
	case DS_INT:
		sb_printf(sb, "%lld", (long long)v->i);
		break;
	case DS_UINT:
		sb_printf(sb, "%llu", (unsigned long long)v->u);
		break;
	case DS_UINTPTR:
		sb_printf(sb, "0x%llx", (unsigned long long)v->u);
		break;
	case DS_FLOAT:
		sb_float(sb, v->f, v->single);
		break;
	case DS_COMPLEX:
		sb_putc(sb, '(');
		sb_float(sb, v->c.re, v->single);
		if (v->c.im >= 0 || isnan(v->c.im))
			sb_putc(sb, '+');
		sb_float(sb, v->c.im, v->single);
		sb_puts(sb, "i)");
		break;
	case DS_PTR:
		sb_printf(sb, "(%s)(0x%llx)", v->name, (unsigned long long)v->u);
		break;
	case DS_FUNC:
		if (v->name)
			sb_puts(sb, v->name);
		else
			sb_printf(sb, "func(0x%llx)", (unsigned long long)v->u);
		break;
	}
}

static void text_scalar(void *st, const struct decode_scalar *v)
{
	decode__scalar_text(st, v);
}

static void text_string(void *st, const char *s, uint32_t n, uint64_t total)
{
	decode__quote(st, s, n);
	more(st, total, n);
}

/* []byte("text") when the bytes are text; anything else is walked as a slice. */
static bool text_bytes(void *st, const struct decode_group *g, const char *s, uint32_t n)
{
	struct strbuf *sb = st;

	if (g->nil || (!s && g->total) || g->type->elem->kind != GK_UINT ||
	    !decode__printable(s, n))
		return false;
	sb_puts(sb, "[]byte(");
	decode__quote(sb, s, n);
	more(sb, g->total, n);
	sb_putc(sb, ')');
	return true;
}

static void text_begin(void *st, const struct decode_group *g)
{
	struct strbuf *sb = st;

	if (g->kind == DG_STRUCT)
		sb_putc(sb, '{');
	else
		sb_printf(sb, g->kind == DG_IFACE ? "%s(" : "%s{", g->name);
}

static void text_key(void *st, const char *name, uint64_t i)
{
	struct strbuf *sb = st;

	if (i)
		sb_puts(sb, ", ");
	if (name)
		sb_printf(sb, "%s:", name);
}

static void text_end(void *st, const struct decode_group *g)
{
	struct strbuf *sb = st;

	if (g->faulted)
		sb_putc(sb, '?');
	else
		more(sb, g->total, g->shown);
	sb_putc(sb, g->kind == DG_IFACE ? ')' : '}');
}

static void text_deref(void *st)
{
	sb_putc(st, '&');
}

/* in the order of struct decode_sink */
const struct decode_sink decode_text_sink = {
	text_nil, text_missing, text_scalar, text_string, text_bytes,
	text_begin, text_key, text_end, text_deref,
};

void decode__format(struct strbuf *sb, const struct decode_ctx *c, const struct dnode *n)
{
	decode__walk(c, n, &decode_text_sink, sb);
}
