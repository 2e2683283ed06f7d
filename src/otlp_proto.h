/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The OTLP/HTTP protobuf encoding of spans: an ExportTraceServiceRequest of
 * one ResourceSpans (service.name) with one ScopeSpans ("luprobe") holding
 * the spans, each with its ids, name, kind, wall-clock start and end, and
 * attributes of string, int, double or bool values. Hand-encoded: only the
 * few fields luprobe sends (opentelemetry/proto/trace/v1/trace.proto).
 */
#ifndef LUPROBE_OTLP_PROTO_H
#define LUPROBE_OTLP_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "strbuf.h"

enum otlp_value_type {
	OTLP_STR,
	OTLP_BOOL,
	OTLP_INT,
	OTLP_DOUBLE,
};

struct otlp_attr {
	const char *key;
	enum otlp_value_type type;
	const char *s; /* OTLP_STR */
	int64_t i;     /* OTLP_INT, OTLP_BOOL (0 or 1) */
	double d;      /* OTLP_DOUBLE */
};

/* Span.SpanKind */
enum otlp_span_kind {
	OTLP_KIND_UNSPECIFIED = 0,
	OTLP_KIND_INTERNAL = 1,
	OTLP_KIND_SERVER = 2,
	OTLP_KIND_CLIENT = 3,
};

struct otlp_span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_span_id[8]; /* all zero: a root span */
	const char *name;
	enum otlp_span_kind kind;
	uint64_t start_ns, end_ns; /* wall clock, Unix epoch */
	const struct otlp_attr *attrs;
	size_t nattrs;
};

/*
 * Append to sb the ExportTraceServiceRequest carrying the n spans of the
 * resource whose service.name is service (plus the resource attributes
 * rattrs). Returns 0, or -ENOMEM when sb could not grow.
 */
int otlp__encode_proto(struct strbuf *sb, const char *service, const struct otlp_attr *rattrs,
		       size_t nrattrs, const struct otlp_span *spans, size_t n);

/*
 * The same request in the OTLP/HTTP JSON encoding: ids as lowercase hex,
 * times and int values as decimal strings, kind as its number.
 */
int otlp__encode_json(struct strbuf *sb, const char *service, const struct otlp_attr *rattrs,
		      size_t nrattrs, const struct otlp_span *spans, size_t n);

#endif
