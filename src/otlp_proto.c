// SPDX-License-Identifier: BSD-2-Clause
/*
 * Protobuf wire encoding of an OTLP ExportTraceServiceRequest. A nested
 * message is encoded into its own buffer first, then appended behind its
 * tag and length: the messages are small (a batch of spans), so the copy is
 * cheaper than a size pass.
 */
#include <errno.h>
#include <string.h>
#include "otlp_proto.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

static void put_varint(struct strbuf *sb, uint64_t v)
{
	char b[10];
	size_t n = 0;

	do {
		b[n] = (char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= (char)0x80;
		n++;
	} while (v);
	sb_add(sb, b, n);
}

static void put_tag(struct strbuf *sb, unsigned field, unsigned wt)
{
	put_varint(sb, ((uint64_t)field << 3) | wt);
}

static void put_bytes(struct strbuf *sb, unsigned field, const void *p, size_t n)
{
	put_tag(sb, field, WT_LEN);
	put_varint(sb, n);
	sb_add(sb, p, n);
}

static void put_string(struct strbuf *sb, unsigned field, const char *s)
{
	put_bytes(sb, field, s ? s : "", s ? strlen(s) : 0);
}

static void put_fixed64(struct strbuf *sb, unsigned field, uint64_t v)
{
	char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (char)(v >> (8 * i));
	put_tag(sb, field, WT_I64);
	sb_add(sb, b, 8);
}

/* Append the message in sub as field of sb; sub is reset for reuse. */
static void put_message(struct strbuf *sb, unsigned field, struct strbuf *sub)
{
	if (sub->oom)
		sb->oom = 1;
	put_bytes(sb, field, sub->buf ? sub->buf : "", sub->len);
	sb_reset(sub);
}

/* KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string 1, bool 2, int64 3, double 4 } */
static void put_attr(struct strbuf *sb, unsigned field, const struct otlp_attr *a)
{
	struct strbuf kv, av;
	uint64_t bits;

	sb_init(&kv);
	sb_init(&av);
	switch (a->type) {
	case OTLP_STR:
		put_string(&av, 1, a->s);
		break;
	case OTLP_BOOL:
		put_tag(&av, 2, WT_VARINT);
		put_varint(&av, a->i ? 1 : 0);
		break;
	case OTLP_INT:
		put_tag(&av, 3, WT_VARINT);
		put_varint(&av, (uint64_t)a->i);
		break;
	case OTLP_DOUBLE:
		memcpy(&bits, &a->d, sizeof(bits));
		put_fixed64(&av, 4, bits);
		break;
	}
	put_string(&kv, 1, a->key);
	put_message(&kv, 2, &av);
	put_message(sb, field, &kv);
	sb_free(&kv);
	sb_free(&av);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, start 7, end 8, attributes 9 */
static void put_span(struct strbuf *sb, const struct otlp_span *s)
{
	put_bytes(sb, 1, s->trace_id, sizeof(s->trace_id));
	put_bytes(sb, 2, s->span_id, sizeof(s->span_id));
	if (!all_zero(s->parent_span_id, sizeof(s->parent_span_id)))
		put_bytes(sb, 4, s->parent_span_id, sizeof(s->parent_span_id));
	put_string(sb, 5, s->name);
	if (s->kind) {
		put_tag(sb, 6, WT_VARINT);
		put_varint(sb, (uint64_t)s->kind);
	}
	put_fixed64(sb, 7, s->start_ns);
	put_fixed64(sb, 8, s->end_ns);
	for (size_t i = 0; i < s->nattrs; i++)
		put_attr(sb, 9, &s->attrs[i]);
}

int otlp__encode_proto(struct strbuf *sb, const char *service, const struct otlp_attr *rattrs,
		       size_t nrattrs, const struct otlp_span *spans, size_t n)
{
	struct otlp_attr svc = { .key = "service.name", .type = OTLP_STR, .s = service };
	struct strbuf rs, msg, sub;
	int oom;

	sb_init(&rs);
	sb_init(&msg);
	sb_init(&sub);
	/* ResourceSpans.resource = 1: Resource { attributes = 1 } */
	put_attr(&msg, 1, &svc);
	for (size_t i = 0; i < nrattrs; i++)
		put_attr(&msg, 1, &rattrs[i]);
	put_message(&rs, 1, &msg);
	/* ResourceSpans.scope_spans = 2: ScopeSpans { scope = 1, spans = 2 } */
	put_string(&sub, 1, "luprobe");
	put_message(&msg, 1, &sub);
	for (size_t i = 0; i < n; i++) {
		put_span(&sub, &spans[i]);
		put_message(&msg, 2, &sub);
	}
	put_message(&rs, 2, &msg);
	/* ExportTraceServiceRequest.resource_spans = 1 */
	put_message(sb, 1, &rs);
	oom = rs.oom || msg.oom || sub.oom || sb->oom;
	sb_free(&rs);
	sb_free(&msg);
	sb_free(&sub);
	return oom ? -ENOMEM : 0;
}
