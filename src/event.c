// SPDX-License-Identifier: BSD-2-Clause
/*
 * Events without Lua: what a record holds and how it reads as text and JSON.
 * The values go through the decoder (decode.h); the Lua event object
 * (lua_event.c) and the default output both render here.
 */
#include <string.h>
#include "event.h"
#include "util.h"

bool event__lineage(const struct lp_rec *rec, struct lp_lineage *ln)
{
	if (!(rec->flags & LP_RF_LINEAGE) || rec->data_len < sizeof(*ln))
		return false;
	memcpy(ln, (const char *)(rec + 1) + rec->data_len - sizeof(*ln), sizeof(*ln));
	return true;
}

bool event__has_entry(const struct lp_rec *rec)
{
	return rec->type == LP_REC_CALL || rec->type == LP_REC_ENTRY ||
	       (rec->type == LP_REC_RET && !(rec->flags & LP_RF_NOENTRY));
}

bool event__has_return(const struct lp_rec *rec)
{
	return rec->type == LP_REC_CALL || rec->type == LP_REC_RET;
}

const char *event__kind(const struct lp_rec *rec)
{
	switch (rec->type) {
	case LP_REC_ENTRY:
		return "entry";
	case LP_REC_RET:
		return "return";
	default:
		return "call";
	}
}

/* see rec_bias in the BPF program */
bool event__bias(const struct lp_rec *rec, const struct planinfo *pi, uint64_t *bias)
{
	*bias = 0;
	if (!gobin__info(pi->bin->gb)->pie)
		return true;
	if (!(rec->flags & LP_RF_BIAS))
		return false;
	*bias = rec->bias;
	return true;
}

void event__decode_ctx(const struct lp_rec *rec, size_t size, const struct planinfo *pi,
		       struct decode_ctx *c)
{
	c->data = (const uint8_t *)(rec + 1);
	c->len = rec->data_len;
	if (c->len > size - sizeof(*rec))
		c->len = size - sizeof(*rec);
	c->faults = rec->faults;
	c->gb = NULL;
	c->bias = 0;
	/* with the bias unknown, type and function names are unreadable, never guessed */
	if (pi && event__bias(rec, pi, &c->bias))
		c->gb = pi->bin->gb;
}

/* The arguments, or the results, as "name=value, ..." or "value, ...". */
static size_t format_values(struct strbuf *sb, const struct decode_ctx *c,
			    const struct plan_value *vals, size_t n, bool results)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (vals[i].is_result != results || vals[i].hidden)
			continue;
		if (k++)
			sb_puts(sb, ", ");
		if (!results)
			sb_printf(sb, "%s=", vals[i].name);
		decode__format(sb, c, &vals[i].root);
	}
	return k;
}

void event__format(struct strbuf *sb, const struct lp_rec *rec, size_t size,
		   const struct planinfo *pi)
{
	const struct plan_value *vals;
	struct decode_ctx c;
	size_t n, i, nres = 0;
	bool entry = event__has_entry(rec);
	bool ret = event__has_return(rec);

	if (!pi) {
		sb_puts(sb, "?");
		return;
	}
	event__decode_ctx(rec, size, pi, &c);
	vals = plan__values(pi->pb, &n);
	if (rec->type == LP_REC_RET)
		sb_puts(sb, "return ");
	sb_puts(sb, pi->func->name);
	sb_putc(sb, '(');
	if (entry)
		format_values(sb, &c, vals, n, false);
	else
		sb_puts(sb, "...");
	sb_putc(sb, ')');
	for (i = 0; i < n && ret; i++)
		nres += vals[i].is_result && !vals[i].hidden;
	if (ret && nres) {
		sb_puts(sb, nres > 1 ? " = (" : " = ");
		format_values(sb, &c, vals, n, true);
		if (nres > 1)
			sb_putc(sb, ')');
	}
	if (ret && entry) {
		char d[32];

		util__duration_text(d, sizeof(d), rec->latency);
		sb_printf(sb, "  %s", d);
	}
	if (rec->goid)
		sb_printf(sb, "  goroutine %llu", (unsigned long long)rec->goid);
}

void event__json(struct strbuf *sb, const struct lp_rec *rec, size_t size,
		 const struct planinfo *pi)
{
	const struct plan_value *vals;
	struct decode_ctx c;
	size_t n, i, k;
	bool entry = event__has_entry(rec);
	bool ret = event__has_return(rec);
	struct lp_lineage ln;
	int pass;

	if (!pi)
		return;
	event__decode_ctx(rec, size, pi, &c);
	vals = plan__values(pi->pb, &n);
	sb_printf(sb, "{\"probe\":%u,\"kind\":\"%s\",\"func\":", pi->probe->id + 1,
		  event__kind(rec));
	decode__json_string(sb, pi->func->name, strlen(pi->func->name));
	sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"goid\":%llu,\"ts\":%llu,\"time\":%llu", rec->pid,
		  rec->tid, (unsigned long long)rec->goid, (unsigned long long)rec->ts,
		  (unsigned long long)util__wall_ns(rec->ts));
	if (event__lineage(rec, &ln))
		sb_printf(sb, ",\"parent_goid\":%llu,\"scope_goid\":%llu",
			  (unsigned long long)ln.parent_goid, (unsigned long long)ln.scope_goid);
	if (ret && entry)
		sb_printf(sb, ",\"latency_ns\":%llu", (unsigned long long)rec->latency);
	for (pass = 0; pass < 2; pass++) {
		if ((pass == 0 && !entry) || (pass == 1 && !ret))
			continue;
		sb_puts(sb, pass ? ",\"ret\":{" : ",\"args\":{");
		for (i = 0, k = 0; i < n; i++) {
			if (vals[i].is_result != (pass == 1) || vals[i].hidden)
				continue;
			if (k++)
				sb_putc(sb, ',');
			decode__json_string(sb, vals[i].name, strlen(vals[i].name));
			sb_putc(sb, ':');
			decode__json(sb, &c, &vals[i].root);
		}
		sb_putc(sb, '}');
	}
	sb_putc(sb, '}');
}
