// SPDX-License-Identifier: BSD-2-Clause
// UNIT-DEPS: otlp_proto otlp_json otlp_http strbuf decode
/*
 * The OTLP protobuf encoding of spans: the exact bytes of a span's fields
 * (varint tags, fixed64 times, length-delimited ids, KeyValue/AnyValue), the
 * nesting ExportTraceServiceRequest > ResourceSpans > ScopeSpans > Span walked
 * back with a small wire-format reader, and a root span without parent id.
 * Then the JSON encoding, and --otlp's URLs: host, port, path and defaults.
 */
#include <stdint.h>
#include "unit.h"
#include <errno.h>
#include <string.h>
#include "log.h"
#include "otlp_http.h"
#include "otlp_proto.h"

/* Find field f (wire type LEN) in msg[0..n); its body in *body, *blen. Returns the count. */
static int find_len(const uint8_t *msg, size_t n, unsigned f, unsigned nth, const uint8_t **body,
		    size_t *blen)
{
	size_t i = 0;
	unsigned seen = 0;

	while (i < n) {
		uint64_t key = 0, len = 0;
		int sh = 0;

		do {
			key |= (uint64_t)(msg[i] & 0x7f) << sh;
			sh += 7;
		} while (msg[i++] & 0x80);
		switch (key & 7) {
		case 0:
			while (msg[i++] & 0x80)
				;
			break;
		case 1:
			i += 8;
			break;
		case 2:
			sh = 0;
			do {
				len |= (uint64_t)(msg[i] & 0x7f) << sh;
				sh += 7;
			} while (msg[i++] & 0x80);
			if ((key >> 3) == f && seen++ == nth) {
				*body = msg + i;
				*blen = len;
			}
			i += len;
			break;
		default:
			return -1;
		}
	}
	return i == n ? (int)seen : -1;
}

static void test_span_fields_are_encoded_exactly(void)
{
	struct otlp_attr attrs[] = {
		{ .key = "goid", .type = OTLP_INT, .i = 300 },
		{ .key = "ok", .type = OTLP_BOOL, .i = 1 },
	};
	struct otlp_span sp = {
		.trace_id = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
		.span_id = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8 },
		.parent_span_id = { 0xb1, 0, 0, 0, 0, 0, 0, 0 },
		.name = "f",
		.kind = OTLP_KIND_SERVER,
		.start_ns = 1,
		.end_ns = 0x0102030405060708ull,
		.attrs = attrs,
		.nattrs = 2,
	};
	static const uint8_t want_span[] = {
		0x0a, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* trace_id */
		0x12, 8, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,          /* span_id */
		0x22, 8, 0xb1, 0, 0, 0, 0, 0, 0, 0,                                /* parent */
		0x2a, 1, 'f',                                                       /* name */
		0x30, 2,                                                            /* kind */
		0x39, 1, 0, 0, 0, 0, 0, 0, 0,                                       /* start */
		0x41, 8, 7, 6, 5, 4, 3, 2, 1,                                       /* end */
		0x4a, 11, 0x0a, 4, 'g', 'o', 'i', 'd', 0x12, 3, 0x18, 0xac, 0x02,   /* goid=300 */
		0x4a, 8, 0x0a, 2, 'o', 'k', 0x12, 2, 0x10, 1,                       /* ok=true */
	};
	struct strbuf sb;
	const uint8_t *rs, *res, *ss, *span, *scope, *kv;
	size_t rsn, resn, ssn, spann, scopen, kvn;

	sb_init(&sb);
	CHECK(otlp__encode_proto(&sb, "svc", NULL, 0, &sp, 1) == 0, "encode");
	CHECK(find_len((const uint8_t *)sb.buf, sb.len, 1, 0, &rs, &rsn) == 1, "one ResourceSpans");
	CHECK(find_len(rs, rsn, 1, 0, &res, &resn) == 1, "one Resource");
	CHECK(find_len(res, resn, 1, 0, &kv, &kvn) == 1, "one resource attribute");
	CHECK(kvn == 21 && memcmp(kv, "\x0a\x0cservice.name\x12\x05\x0a\x03svc", 21) == 0,
	      "service.name=svc");
	CHECK(find_len(rs, rsn, 2, 0, &ss, &ssn) == 1, "one ScopeSpans");
	CHECK(find_len(ss, ssn, 1, 0, &scope, &scopen) == 1, "scope");
	CHECK(scopen == 9 && memcmp(scope, "\x0a\x07luprobe", 9) == 0, "scope name");
	CHECK(find_len(ss, ssn, 2, 0, &span, &spann) == 1, "one span");
	CHECK(spann == sizeof(want_span), "span length %zu", spann);
	CHECK(spann == sizeof(want_span) && memcmp(span, want_span, spann) == 0, "span bytes");
	sb_free(&sb);
}

static void test_root_span_has_no_parent_and_spans_are_repeated(void)
{
	struct otlp_attr d = { .key = "x", .type = OTLP_DOUBLE, .d = 1.5 };
	struct otlp_span sp[2] = {
		{ .span_id = { 1 }, .name = "a", .attrs = &d, .nattrs = 1 },
		{ .span_id = { 2 }, .parent_span_id = { 1 }, .name = "b" },
	};
	struct strbuf sb;
	const uint8_t *rs, *ss, *span, *p, *kv;
	size_t rsn, ssn, spann, pn, kvn;

	sb_init(&sb);
	CHECK(otlp__encode_proto(&sb, "svc", NULL, 0, sp, 2) == 0, "encode");
	find_len((const uint8_t *)sb.buf, sb.len, 1, 0, &rs, &rsn);
	find_len(rs, rsn, 2, 0, &ss, &ssn);
	CHECK(find_len(ss, ssn, 2, 0, &span, &spann) == 2, "two spans");
	CHECK(find_len(span, spann, 4, 0, &p, &pn) == 0, "root has no parent_span_id");
	CHECK(find_len(span, spann, 9, 0, &kv, &kvn) == 1, "one attribute");
	CHECK(kvn == 14 && memcmp(kv, "\x0a\x01x\x12\x09\x21\0\0\0\0\0\0\xf8\x3f", 14) == 0,
	      "double 1.5");
	find_len(ss, ssn, 2, 1, &span, &spann);
	CHECK(find_len(span, spann, 4, 0, &p, &pn) == 1 && pn == 8 && p[0] == 1, "child's parent");
	sb_free(&sb);
}

static void test_json_encoding(void)
{
	struct otlp_attr attrs[] = {
		{ .key = "q\"", .type = OTLP_STR, .s = "a\nb" },
		{ .key = "n", .type = OTLP_INT, .i = -3 },
		{ .key = "b", .type = OTLP_BOOL, .i = 0 },
		{ .key = "d", .type = OTLP_DOUBLE, .d = 0.5 },
	};
	struct otlp_span sp = {
		.trace_id = { 0xab, [15] = 1 },
		.span_id = { 0xcd, [7] = 2 },
		.name = "main.f",
		.kind = OTLP_KIND_INTERNAL,
		.start_ns = 10,
		.end_ns = 20,
		.attrs = attrs,
		.nattrs = 4,
	};
	struct strbuf sb;

	sb_init(&sb);
	CHECK(otlp__encode_json(&sb, "svc", NULL, 0, &sp, 1) == 0, "encode");
	CHECK_STR(sb_str(&sb),
		  "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
		  "\"value\":{\"stringValue\":\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":"
		  "\"luprobe\"},\"spans\":[{\"traceId\":\"ab000000000000000000000000000001\","
		  "\"spanId\":\"cd00000000000002\",\"name\":\"main.f\",\"kind\":1,"
		  "\"startTimeUnixNano\":\"10\",\"endTimeUnixNano\":\"20\",\"attributes\":["
		  "{\"key\":\"q\\\"\",\"value\":{\"stringValue\":\"a\\u000ab\"}},"
		  "{\"key\":\"n\",\"value\":{\"intValue\":\"-3\"}},"
		  "{\"key\":\"b\",\"value\":{\"boolValue\":false}},"
		  "{\"key\":\"d\",\"value\":{\"doubleValue\":0.5}}]}]}]}]}");
	sb_free(&sb);
}

static void check_url(const char *url, const char *host, const char *port, const char *path)
{
	struct otlp_endpoint ep;

	CHECK(otlp_endpoint__parse(url, &ep) == 0, "%s: %s", url, lp_lasterr());
	CHECK_STR(ep.host, host);
	CHECK_STR(ep.port, port);
	CHECK_STR(ep.path, path);
}

static void test_otlp_urls_default_port_and_path(void)
{
	struct otlp_endpoint ep;

	check_url("http://127.0.0.1:4318", "127.0.0.1", "4318", "/v1/traces");
	check_url("http://collector", "collector", "4318", "/v1/traces");
	check_url("http://collector/", "collector", "4318", "/v1/traces");
	check_url("http://[::1]:9999/otlp/v1/traces", "::1", "9999", "/otlp/v1/traces");
	check_url("http://h:1/x", "h", "1", "/x");
	CHECK(otlp_endpoint__parse("https://h", &ep) == -EINVAL, "https://h accepted");
	CHECK(strstr(lp_lasterr(), "https is not supported") != NULL, "%s", lp_lasterr());
	CHECK(otlp_endpoint__parse("ftp://h", &ep) == -EINVAL, "ftp://h accepted");
	CHECK(otlp_endpoint__parse("http://", &ep) == -EINVAL, "http:// accepted");
	CHECK(otlp_endpoint__parse("http://[::1", &ep) == -EINVAL, "http://[::1 accepted");
	CHECK(otlp_endpoint__parse("http://h:0", &ep) == -EINVAL, "http://h:0 accepted");
	CHECK(otlp_endpoint__parse("http://h:65536", &ep) == -EINVAL, "http://h:65536 accepted");
	CHECK(otlp_endpoint__parse("http://h:", &ep) == -EINVAL, "http://h: accepted");
	CHECK(otlp_endpoint__parse("http://h:80x", &ep) == -EINVAL, "http://h:80x accepted");
	CHECK(otlp_endpoint__parse("http://h/a b", &ep) == -EINVAL, "http://h/a b accepted");
}

int main(void)
{
	RUN(test_span_fields_are_encoded_exactly);
	RUN(test_root_span_has_no_parent_and_spans_are_repeated);
	RUN(test_json_encoding);
	RUN(test_otlp_urls_default_port_and_path);
	return unit_summary();
}
