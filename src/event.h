/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A record from the ring buffer as an event, without Lua: what it holds
 * (an entry, a return), the decoder's context for its values, and its text
 * and JSON renderings (the default output when a probe has no handler, and
 * tostring(e) / e:json() in scripts).
 */
#ifndef LUPROBE_EVENT_H
#define LUPROBE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "decode.h"
#include "luprobe.h"
#include "probe.h"
#include "strbuf.h"

/* The record carries the arguments (a call, an entry, a return paired with its entry). */
bool event__has_entry(const struct lp_rec *rec);
/* The record carries the results (a call or a return). */
bool event__has_return(const struct lp_rec *rec);
/*
 * The goroutine ids a spawned = true probe's record carries: the parent of
 * its goroutine (0 when it did not inherit a scope) and the goroutine that
 * runs the scoping call. false: the record has none.
 */
bool event__lineage(const struct lp_rec *rec, struct lp_lineage *ln);
/* "call", "entry" or "return" */
const char *event__kind(const struct lp_rec *rec);
/*
 * The load bias of pi's binary in the process of rec: 0 for a binary that
 * is not PIE, else what the record carries. false when it is unknown: code
 * and type addresses then cannot be named.
 */
bool event__bias(const struct lp_rec *rec, const struct planinfo *pi, uint64_t *bias);
/* The decoder's context for the values of rec (size bytes, record included). */
void event__decode_ctx(const struct lp_rec *rec, size_t size, const struct planinfo *pi,
		       struct decode_ctx *c);
/* "main.computeE(iterations=150) = 2.718282  12.4µs  goroutine 42" ("?" without pi) */
void event__format(struct strbuf *sb, const struct lp_rec *rec, size_t size,
		   const struct planinfo *pi);
/* {"probe":1,"kind":"call","func":...} (nothing without pi) */
void event__json(struct strbuf *sb, const struct lp_rec *rec, size_t size,
		 const struct planinfo *pi);

#endif
