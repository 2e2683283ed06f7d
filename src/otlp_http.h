/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The OTLP/HTTP client: one POST at a time to the collector, never blocking.
 * Its socket is non-blocking and in an epoll set of its own, whose
 * descriptor the session's event loop watches (as --metrics's server); each
 * POST is one connection with Connection: close, bounded by a timeout.
 */
#ifndef LUPROBE_OTLP_HTTP_H
#define LUPROBE_OTLP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct otlp_endpoint {
	char host[256]; /* as written (an IPv6 address without its brackets) */
	char port[8];
	char path[1024]; /* /v1/traces when the URL has none */
};

/*
 * Parse "http://HOST[:PORT][/PATH]" (port 4318 by default, path /v1/traces
 * when empty). -EINVAL with lp_seterr saying what is wrong (https is
 * refused: luprobe speaks plain HTTP; put a collector on the node).
 */
int otlp_endpoint__parse(const char *url, struct otlp_endpoint *ep);

enum otlp_http_state {
	OTLP_HTTP_IDLE,	   /* nothing sent, or the last POST's result was taken */
	OTLP_HTTP_BUSY,	   /* connecting, sending or waiting for the answer */
	OTLP_HTTP_OK,	   /* answered 2xx */
	OTLP_HTTP_RETRY,   /* refused, reset, timed out, 429, 5xx: worth again later */
	OTLP_HTTP_REJECTED /* any other answer: the collector will not take it */
};

struct otlp_http;

/*
 * Resolve the endpoint's host once (at start: the loop never resolves) and
 * make the client. content_type: "application/x-protobuf" or
 * "application/json". -errno with lp_seterr.
 */
int otlp_http__open(const struct otlp_endpoint *ep, const char *content_type,
		    uint64_t timeout_ns, struct otlp_http **out);
/* The descriptor to poll for input: readable when the POST can progress. */
int otlp_http__fd(const struct otlp_http *h);
/* Start a POST of body (len bytes, kept by the caller until the result). */
void otlp_http__post(struct otlp_http *h, const void *body, size_t len, uint64_t now);
/*
 * Progress the POST without waiting (now: CLOCK_MONOTONIC) and say where it
 * is; a result other than BUSY is given once, then the client is IDLE.
 * *status: the HTTP status, 0 when there was none.
 */
enum otlp_http_state otlp_http__poll(struct otlp_http *h, uint64_t now, int *status);
/* When the POST in progress times out (UINT64_MAX: none). */
uint64_t otlp_http__deadline(const struct otlp_http *h);
/* "127.0.0.1:4318/v1/traces" */
const char *otlp_http__address(const struct otlp_http *h);
/* Why the last POST failed ("connection refused", "HTTP 500", "timed out"). */
const char *otlp_http__why(const struct otlp_http *h);
void otlp_http__free(struct otlp_http *h);

#endif
