/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --otlp URL: call events as OpenTelemetry spans, sent over OTLP/HTTP.
 * Spans wait for their parent (otlp_nest.h), then in a bounded queue (spans
 * and bytes); a batch (512 spans, or what a second gathered) is encoded and
 * posted by the non-blocking client (otlp_http.h), retried with exponential
 * backoff. What cannot be queued or sent is counted, never waited for.
 */
#ifndef LUPROBE_EXPORT_H
#define LUPROBE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "luprobe.h"
#include "otlp_proto.h"

struct planinfo;
struct exporter;

struct export_opts {
	const char *url;       /* the collector's OTLP/HTTP traces URL */
	bool json;	       /* the JSON encoding instead of protobuf */
	size_t max_spans;      /* the queue's cap in spans (0: 8192) */
	size_t max_bytes;      /* and in bytes (0: 16 MiB) */
	uint64_t timeout_ns;   /* one POST (0: 5 s) */
};

struct export_stats {
	uint64_t spans;	     /* spans made (events and the script's) */
	uint64_t sent;	     /* spans the collector accepted */
	uint64_t dropped;    /* spans dropped: the queue was full */
	uint64_t failed;     /* spans given up: retries exhausted, rejected, or left at exit */
	uint64_t retries;    /* POSTs tried again */
	size_t queued;	     /* spans waiting now */
};

/* Parse the URL and resolve the collector (errors with lp_seterr). */
int export__open(const struct export_opts *o, struct exporter **out);
void export__free(struct exporter *x);
/* The descriptor the event loop polls (the client's). */
int export__fd(const struct exporter *x);
const char *export__address(const struct exporter *x);

/* A call record (entry and return) of the traced function of pi, as a span. */
void export__record(struct exporter *x, const struct lp_rec *rec, size_t size,
		    const struct planinfo *pi);
/*
 * A span the script made: copied. With a trace id it keeps it (and its
 * parent), else it gets one (ids made are written to span); goid (non-zero) nests it with the calls of that
 * goroutine of process pid. Returns 0, or -ENOSPC when it was dropped (counted).
 */
int export__span(struct exporter *x, struct otlp_span *span, uint32_t pid, uint64_t goid);
/* Probe id's calls become spans by themselves (the default), or not; id -1: every probe. */
void export__auto(struct exporter *x, int probe_id, bool on);
/* service.name (else the traced binary's Go module path). */
int export__service(struct exporter *x, const char *name);

/* Move on without waiting (now: CLOCK_MONOTONIC); returns when to be called again. */
uint64_t export__poll(struct exporter *x, uint64_t now);
/* At exit: send what is left, waiting at most budget_ns, then count the rest as failed. */
void export__finish(struct exporter *x, uint64_t budget_ns);
void export__stats(const struct exporter *x, struct export_stats *st);
/* Why the last POST failed, "" when none did. */
const char *export__why(const struct exporter *x);

#endif
