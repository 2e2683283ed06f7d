// SPDX-License-Identifier: BSD-2-Clause
/*
 * The OTLP/HTTP JSON encoding of an ExportTraceServiceRequest (the proto3
 * JSON mapping with OTLP's exceptions: trace and span ids as hex, not
 * base64; enum kind as its number).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "decode.h"
#include "otlp_proto.h"

/* a C string as JSON (bytes that are not UTF-8 become U+FFFD: OTLP wants UTF-8) */
static void put_str(struct strbuf *sb, const char *s)
{
	decode__json_string(sb, s ? s : "", s ? strlen(s) : 0);
}

static void put_hex(struct strbuf *sb, const uint8_t *p, size_t n)
{
	sb_putc(sb, '"');
	for (size_t i = 0; i < n; i++)
		sb_printf(sb, "%02x", p[i]);
	sb_putc(sb, '"');
}

static void put_attrs(struct strbuf *sb, const struct otlp_attr *a, size_t n, const char *svc)
{
	int first = 1;

	sb_puts(sb, "\"attributes\":[");
	if (svc) {
		sb_puts(sb, "{\"key\":\"service.name\",\"value\":{\"stringValue\":");
		put_str(sb, svc);
		sb_puts(sb, "}}");
		first = 0;
	}
	for (size_t i = 0; i < n; i++, first = 0) {
		if (!first)
			sb_putc(sb, ',');
		sb_puts(sb, "{\"key\":");
		put_str(sb, a[i].key);
		sb_puts(sb, ",\"value\":{");
		switch (a[i].type) {
		case OTLP_STR:
			sb_puts(sb, "\"stringValue\":");
			put_str(sb, a[i].s);
			break;
		case OTLP_BOOL:
			sb_puts(sb, a[i].i ? "\"boolValue\":true" : "\"boolValue\":false");
			break;
		case OTLP_INT:
			sb_printf(sb, "\"intValue\":\"%" PRId64 "\"", a[i].i);
			break;
		case OTLP_DOUBLE:
			if (isfinite(a[i].d))
				sb_printf(sb, "\"doubleValue\":%.17g", a[i].d);
			else
				sb_printf(sb, "\"doubleValue\":\"%s\"",
					  isnan(a[i].d) ? "NaN" : a[i].d > 0 ? "Infinity" : "-Infinity");
			break;
		}
		sb_puts(sb, "}}");
	}
	sb_putc(sb, ']');
}

static void put_span(struct strbuf *sb, const struct otlp_span *s)
{
	static const uint8_t zero[8];

	sb_puts(sb, "{\"traceId\":");
	put_hex(sb, s->trace_id, sizeof(s->trace_id));
	sb_puts(sb, ",\"spanId\":");
	put_hex(sb, s->span_id, sizeof(s->span_id));
	if (memcmp(s->parent_span_id, zero, sizeof(zero)) != 0) {
		sb_puts(sb, ",\"parentSpanId\":");
		put_hex(sb, s->parent_span_id, sizeof(s->parent_span_id));
	}
	sb_puts(sb, ",\"name\":");
	put_str(sb, s->name);
	sb_printf(sb, ",\"kind\":%d,\"startTimeUnixNano\":\"%" PRIu64 "\",\"endTimeUnixNano\":\"%" PRIu64 "\",",
		  (int)s->kind, s->start_ns, s->end_ns);
	put_attrs(sb, s->attrs, s->nattrs, NULL);
	sb_putc(sb, '}');
}

int otlp__encode_json(struct strbuf *sb, const char *service, const struct otlp_attr *rattrs,
		      size_t nrattrs, const struct otlp_span *spans, size_t n)
{
	sb_puts(sb, "{\"resourceSpans\":[{\"resource\":{");
	put_attrs(sb, rattrs, nrattrs, service ? service : "");
	sb_puts(sb, "},\"scopeSpans\":[{\"scope\":{\"name\":\"luprobe\"},\"spans\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(sb, ',');
		put_span(sb, &spans[i]);
	}
	sb_puts(sb, "]}]}]}");
	return sb->oom ? -ENOMEM : 0;
}
