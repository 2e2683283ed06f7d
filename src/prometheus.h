/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --metrics [ADDR:]PORT: the Prometheus text exposition format (0.0.4) of a
 * metric set, served at /metrics over HTTP. The server never blocks: its
 * sockets are non-blocking and polled through one descriptor that the
 * session's event loop watches; a scrape is answered from the loop, with
 * the numbers of that moment, collected when the request is complete.
 */
#ifndef LUPROBE_PROMETHEUS_H
#define LUPROBE_PROMETHEUS_H

#include <stdbool.h>
#include <stdint.h>
#include "metrics.h"
#include "strbuf.h"

struct prometheus;

/* Fill set with what the run exports now; 0 or -errno (lp_seterr says why). */
typedef int (*prometheus_collect_fn)(void *ctx, struct metric_set *set);

/*
 * Listen on spec, "[ADDR:]PORT" ("9464", "127.0.0.1:9464", "[::1]:9464";
 * PORT alone listens on every address, port 0 on a free one). Errors name
 * the address (lp_seterr).
 */
int prometheus__open(const char *spec, prometheus_collect_fn fn, void *ctx,
		     struct prometheus **out);
/* The descriptor to poll for input: readable when a connection needs serving. */
int prometheus__fd(const struct prometheus *p);
/* "127.0.0.1:9464", the address listened on. */
const char *prometheus__address(const struct prometheus *p);
/*
 * When ready (the descriptor polled readable), serve what is ready without
 * waiting: accept, read requests, answer, write what the sockets take.
 * Always close the connections older than 10 s (now_ns: CLOCK_MONOTONIC).
 */
void prometheus__serve(struct prometheus *p, uint64_t now_ns, bool ready);
void prometheus__free(struct prometheus *p);

/* The exposition text of set, appended to sb. */
void prometheus__render(const struct metric_set *set, struct strbuf *sb);

#endif
