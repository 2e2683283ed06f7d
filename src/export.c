// SPDX-License-Identifier: BSD-2-Clause
/*
 * The trace exporter: events become spans, spans wait for their parent
 * (otlp_nest), then in a bounded FIFO; batches of it are encoded (protobuf
 * or JSON) and posted one at a time, from the event loop, without waiting.
 * A span is one allocation (its attributes and strings behind it), so the
 * byte cap is what the spans really hold.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include "binary.h"
#include "decode.h"
#include "event.h"
#include "export.h"
#include "go/gobin.h"
#include "log.h"
#include "otlp_http.h"
#include "otlp_nest.h"
#include "probe.h"
#include "util.h"

#define BATCH_SPANS  512
#define BATCH_NS     1000000000ull /* a span waits at most this long for its batch */
#define NEST_CAP     1024	   /* spans waiting for a parent */
#define NEST_HOLD_NS 500000000ull  /* how long a finished span waits for its parent */
#define MAX_ATTEMPTS 6
#define BACKOFF_NS   250000000ull /* the first retry's wait, doubled each time */
#define MAX_ATTRS    32
#define MAX_VALUE    1024 /* bytes of an attribute's value kept */
#define MAX_PROBES   4096 /* probes whose automatic export can be switched off */

struct xspan {
	struct otlp_span s;
	size_t bytes;
	struct otlp_attr attrs[]; /* then the strings */
};

struct exporter {
	struct export_opts o;
	struct otlp_endpoint ep;
	struct otlp_http *http;
	struct otlp_nest nest;
	struct xspan **q; /* FIFO of max_spans */
	size_t qhead, qlen, bytes;
	uint64_t first_at; /* when the oldest queued span was queued */
	struct strbuf body; /* the batch posted, kept until it is sent or given up */
	size_t nbatch;
	int attempts;
	uint64_t retry_at;
	bool posting;
	uint64_t rng;
	char service[256];
	bool service_set;
	unsigned char no_auto[MAX_PROBES / 8];
	bool auto_off;
	struct export_stats st;
	bool told; /* the first failure was said */
	char why[128];
	/* scratch for a record's attributes */
	struct otlp_attr sattrs[MAX_ATTRS];
	size_t koff[MAX_ATTRS], voff[MAX_ATTRS]; /* offsets in sval, 0: none */
	size_t nsattrs;
	struct strbuf sval;
};

/* ---- ids ---- */

static uint64_t next_rand(struct exporter *x)
{
	/* splitmix64: ids need to be unique, not secret */
	uint64_t z = (x->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rand_id(struct exporter *x, uint8_t *id, size_t n)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < n; i += 8) {
		v = next_rand(x);
		memcpy(id + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* ---- spans: one allocation each ---- */

static struct xspan *xspan_new(const struct otlp_span *src)
{
	size_t i, size = sizeof(struct xspan) + src->nattrs * sizeof(struct otlp_attr);
	struct xspan *x;
	char *p;

	size += strlen(src->name) + 1;
	for (i = 0; i < src->nattrs; i++)
		size += strlen(src->attrs[i].key) + 1 +
			(src->attrs[i].type == OTLP_STR ? strlen(src->attrs[i].s) + 1 : 0);
	x = malloc(size);
	if (!x)
		return NULL;
	x->s = *src;
	x->bytes = size;
	p = (char *)(x->attrs + src->nattrs);
	for (i = 0; i < src->nattrs; i++) {
		x->attrs[i] = src->attrs[i];
		x->attrs[i].key = strcpy(p, src->attrs[i].key);
		p += strlen(p) + 1;
		if (src->attrs[i].type == OTLP_STR) {
			x->attrs[i].s = strcpy(p, src->attrs[i].s);
			p += strlen(p) + 1;
		}
	}
	x->s.name = strcpy(p, src->name);
	x->s.attrs = x->attrs;
	return x;
}

static void count_failure(struct exporter *x, const char *why, size_t n)
{
	snprintf(x->why, sizeof(x->why), "%s", why);
	if (!x->told) {
		x->told = true;
		fprintf(stderr, "luprobe: otlp: %s: %s (%zu span%s); retrying with backoff\n",
			otlp_http__address(x->http), why, n, n == 1 ? "" : "s");
	}
}

static void enqueue(struct exporter *x, struct xspan *sp)
{
	if (x->qlen == x->o.max_spans || x->bytes + sp->bytes > x->o.max_bytes) {
		x->st.dropped++;
		free(sp);
		return;
	}
	if (!x->qlen)
		x->first_at = now_ns();
	x->q[(x->qhead + x->qlen++) % x->o.max_spans] = sp;
	x->bytes += sp->bytes;
}

/* a settled tree's span: its ids are final now */
static void on_settled(const struct otlp_span *span, void *data, void *ctx)
{
	struct xspan *sp = data;
	struct exporter *x = ctx;

	memcpy(sp->s.trace_id, span->trace_id, sizeof(span->trace_id));
	memcpy(sp->s.parent_span_id, span->parent_span_id, sizeof(span->parent_span_id));
	x->bytes -= sp->bytes; /* counted again in the queue */
	enqueue(x, sp);
}

/*
 * The nest is full (calls come faster than the hold lets them go): hand out
 * the older half of its trees, keeping the recent ones waiting for their
 * parents; all of them only if that frees nothing.
 */
static void make_room(struct exporter *x)
{
	uint64_t lo = UINT64_MAX, hi = 0, end;
	size_t i;

	for (i = 0; i < x->nest.hi; i++) {
		if (!x->nest.slots[i].used || x->nest.slots[i].parent >= 0)
			continue;
		end = x->nest.slots[i].span.end_ns;
		lo = end < lo ? end : lo;
		hi = end > hi ? end : hi;
	}
	if (lo < hi)
		otlp_nest__drain(&x->nest, lo + (hi - lo) / 2 + x->nest.hold_ns, 0, on_settled, x);
	if (x->nest.count == x->nest.cap)
		otlp_nest__drain(&x->nest, 0, 1, on_settled, x);
}

static int add_span(struct exporter *x, const struct otlp_span *src, uint64_t goid)
{
	struct xspan *sp;

	x->st.spans++;
	if (x->bytes >= x->o.max_bytes || x->qlen == x->o.max_spans) {
		x->st.dropped++;
		return -ENOSPC;
	}
	sp = xspan_new(src);
	if (!sp) {
		x->st.dropped++;
		return -ENOSPC;
	}
	if (!goid) {
		enqueue(x, sp);
		return 0;
	}
	if (x->nest.count == x->nest.cap)
		make_room(x);
	x->bytes += sp->bytes;
	otlp_nest__add(&x->nest, &sp->s, goid, sp);
	return 0;
}

/* goroutines are numbered per process; a call without one nests by thread */
static uint64_t nest_key(uint32_t pid, uint64_t goid, uint32_t tid)
{
	return goid ? goid ^ ((uint64_t)pid << 40) : ~0ull - ((uint64_t)pid << 32 | tid);
}

int export__span(struct exporter *x, struct otlp_span *span, uint32_t pid, uint64_t goid)
{
	static const uint8_t zero[16];

	if (!memcmp(span->trace_id, zero, sizeof(span->trace_id)))
		rand_id(x, span->trace_id, sizeof(span->trace_id));
	if (!memcmp(span->span_id, zero, sizeof(span->span_id)))
		rand_id(x, span->span_id, sizeof(span->span_id));
	return add_span(x, span, goid ? nest_key(pid, goid, 0) : 0);
}

/* ---- call events as spans ---- */

static void attr_int(struct exporter *x, const char *key, int64_t v)
{
	if (x->nsattrs == MAX_ATTRS)
		return;
	x->koff[x->nsattrs] = x->voff[x->nsattrs] = 0;
	x->sattrs[x->nsattrs++] = (struct otlp_attr){.key = key, .type = OTLP_INT, .i = v};
}

/* What a value is at its top: a scalar or a string keeps its type, the rest is text. */
struct classify {
	int depth;
	bool complex;
	struct otlp_attr a; /* type, i, d; s: NULL, or the string's bytes (n) */
	const char *s;
	uint32_t n;
};

static void cl_nil(void *st, const struct decode_group *g)
{
	(void)g;
	((struct classify *)st)->complex = true;
}

static void cl_missing(void *st, enum decode_missing why)
{
	(void)why;
	((struct classify *)st)->complex = true;
}

static void cl_scalar(void *st, const struct decode_scalar *v)
{
	struct classify *c = st;

	if (c->depth)
		return;
	if (v->kind == DS_INT)
		c->a = (struct otlp_attr){.type = OTLP_INT, .i = v->i};
	else if (v->kind == DS_UINT && v->u <= INT64_MAX)
		c->a = (struct otlp_attr){.type = OTLP_INT, .i = (int64_t)v->u};
	else if (v->kind == DS_BOOL)
		c->a = (struct otlp_attr){.type = OTLP_BOOL, .i = v->b};
	else if (v->kind == DS_FLOAT)
		c->a = (struct otlp_attr){.type = OTLP_DOUBLE, .d = v->f};
	else
		c->complex = true;
}

static void cl_string(void *st, const char *s, uint32_t n, uint64_t total)
{
	struct classify *c = st;

	(void)total;
	if (c->depth)
		return;
	c->a.type = OTLP_STR;
	c->s = s;
	c->n = n;
}

static bool cl_bytes(void *st, const struct decode_group *g, const char *s, uint32_t n)
{
	(void)g;
	(void)s;
	(void)n;
	((struct classify *)st)->complex = true;
	return true;
}

static void cl_begin(void *st, const struct decode_group *g)
{
	(void)g;
	((struct classify *)st)->complex = true;
	((struct classify *)st)->depth++;
}

static void cl_key(void *st, const char *name, uint64_t i)
{
	(void)st;
	(void)name;
	(void)i;
}

static void cl_end(void *st, const struct decode_group *g)
{
	(void)g;
	((struct classify *)st)->depth--;
}

static const struct decode_sink classify_sink = {
	cl_nil, cl_missing, cl_scalar, cl_string, cl_bytes, cl_begin, cl_key, cl_end, NULL,
};

/* one captured value: numbers, bools and strings as they are, anything else as its text */
static void attr_value(struct exporter *x, const struct decode_ctx *c,
		       const struct plan_value *v, size_t nres)
{
	struct classify cl = {.a.type = OTLP_STR};
	size_t k = x->nsattrs, off;

	if (k == MAX_ATTRS)
		return;
	x->nsattrs++;
	x->koff[k] = x->sval.len;
	/* results: "return" alone, or "return.err", "return.1" (Go's ~r1) */
	if (!v->is_result)
		sb_printf(&x->sval, "arg.%s", v->name);
	else if (nres == 1)
		sb_puts(&x->sval, "return");
	else
		sb_printf(&x->sval, "return.%s", strncmp(v->name, "~r", 2) ? v->name : v->name + 2);
	sb_putc(&x->sval, 0);
	x->voff[k] = 0;
	decode__walk(c, &v->root, &classify_sink, &cl);
	if (!cl.complex && cl.a.type != OTLP_STR) {
		x->sattrs[k] = cl.a;
		return;
	}
	x->sattrs[k] = (struct otlp_attr){.type = OTLP_STR};
	off = x->voff[k] = x->sval.len;
	/* OTLP strings are UTF-8 (a collector refuses the batch otherwise): else quoted */
	if (!cl.complex && cl.s && decode__printable(cl.s, cl.n))
		sb_add(&x->sval, cl.s, cl.n);
	else
		decode__format(&x->sval, c, &v->root);
	if (x->sval.len - off > MAX_VALUE) {
		x->sval.len = off + MAX_VALUE;
		/* not in the middle of a character */
		while (x->sval.len > off && (x->sval.buf[x->sval.len] & 0xc0) == 0x80)
			x->sval.len--;
	}
	sb_putc(&x->sval, 0);
}

static void set_service(struct exporter *x, const struct planinfo *pi)
{
	const char *mod = gobin__info(pi->bin->gb)->mod_path;
	const char *base = strrchr(pi->bin->path, '/');

	if (mod && *mod)
		snprintf(x->service, sizeof(x->service), "%s", mod);
	else
		snprintf(x->service, sizeof(x->service), "unknown_service:%s",
			 base ? base + 1 : pi->bin->path);
	x->service_set = true;
}

void export__record(struct exporter *x, const struct lp_rec *rec, size_t size,
		    const struct planinfo *pi)
{
	const struct plan_value *vals;
	struct otlp_span s = {0};
	struct decode_ctx c;
	size_t n, i;
	int id = (int)pi->probe->id;

	/* the binary of the first event names the service, whoever makes the spans */
	if (!x->service_set)
		set_service(x, pi);
	if (x->auto_off || (id < MAX_PROBES && (x->no_auto[id / 8] & (1u << (id % 8)))))
		return;
	if (!event__has_entry(rec) || !event__has_return(rec))
		return;
	event__decode_ctx(rec, size, pi, &c);
	vals = plan__values(pi->pb, &n);
	sb_reset(&x->sval);
	sb_putc(&x->sval, 0); /* offset 0 is never a string */
	x->nsattrs = 0;
	attr_int(x, "go.goroutine.id", (int64_t)rec->goid);
	attr_int(x, "process.pid", rec->pid);
	attr_int(x, "thread.id", rec->tid);
	for (i = 0; i < n; i++)
		if (!vals[i].hidden)
			attr_value(x, &c, &vals[i], pi->nresults);
	if (x->sval.oom)
		return;
	/* the pool has stopped growing: offsets become pointers */
	for (i = 0; i < x->nsattrs; i++) {
		if (x->koff[i])
			x->sattrs[i].key = x->sval.buf + x->koff[i];
		if (x->voff[i])
			x->sattrs[i].s = x->sval.buf + x->voff[i];
	}
	s.name = pi->func->name;
	s.kind = OTLP_KIND_INTERNAL;
	s.start_ns = util__wall_ns(rec->ts);
	s.end_ns = s.start_ns + rec->latency;
	s.attrs = x->sattrs;
	s.nattrs = x->nsattrs;
	rand_id(x, s.trace_id, sizeof(s.trace_id));
	rand_id(x, s.span_id, sizeof(s.span_id));
	add_span(x, &s, nest_key(rec->pid, rec->goid, rec->tid));
}

void export__auto(struct exporter *x, int probe_id, bool on)
{
	if (probe_id < 0)
		x->auto_off = !on;
	else if (probe_id < MAX_PROBES && on)
		x->no_auto[probe_id / 8] &= (unsigned char)~(1u << (probe_id % 8));
	else if (probe_id < MAX_PROBES)
		x->no_auto[probe_id / 8] |= (unsigned char)(1u << (probe_id % 8));
}

int export__service(struct exporter *x, const char *name)
{
	snprintf(x->service, sizeof(x->service), "%s", name);
	x->service_set = true;
	return 0;
}

/* ---- batches ---- */

static void free_batch(struct exporter *x)
{
	sb_reset(&x->body);
	x->nbatch = 0;
	x->attempts = 0;
	x->posting = false;
}

/* Take up to BATCH_SPANS from the queue into the body. */
static void make_batch(struct exporter *x)
{
	struct otlp_span spans[BATCH_SPANS];
	struct xspan *taken[BATCH_SPANS];
	size_t i, n = x->qlen < BATCH_SPANS ? x->qlen : BATCH_SPANS;
	int err;

	for (i = 0; i < n; i++) {
		taken[i] = x->q[x->qhead];
		spans[i] = taken[i]->s;
		x->qhead = (x->qhead + 1) % x->o.max_spans;
		x->bytes -= taken[i]->bytes;
	}
	x->qlen -= n;
	if (x->qlen)
		x->first_at = now_ns();
	sb_reset(&x->body);
	if (x->o.json)
		err = otlp__encode_json(&x->body, x->service_set ? x->service : "unknown_service",
					NULL, 0, spans, n);
	else
		err = otlp__encode_proto(&x->body, x->service_set ? x->service : "unknown_service",
					 NULL, 0, spans, n);
	for (i = 0; i < n; i++)
		free(taken[i]);
	if (err || x->body.oom) {
		x->st.failed += n;
		free_batch(x);
		return;
	}
	x->nbatch = n;
	x->attempts = 0;
	x->retry_at = 0;
}

static void batch_done(struct exporter *x, enum otlp_http_state r, uint64_t now)
{
	if (r == OTLP_HTTP_OK) {
		x->st.sent += x->nbatch;
		if (x->told && !x->attempts)
			x->why[0] = 0;
		free_batch(x);
		return;
	}
	x->posting = false;
	if (r == OTLP_HTTP_REJECTED || ++x->attempts >= MAX_ATTEMPTS) {
		count_failure(x, otlp_http__why(x->http), x->nbatch);
		x->st.failed += x->nbatch;
		free_batch(x);
		return;
	}
	count_failure(x, otlp_http__why(x->http), x->nbatch);
	x->st.retries++;
	x->retry_at = now + (BACKOFF_NS << (x->attempts - 1));
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* flush: batch what is queued at once, not after BATCH_NS */
static uint64_t step(struct exporter *x, uint64_t now, bool flush)
{
	uint64_t next = UINT64_MAX;
	enum otlp_http_state r;
	int status;

	if (x->nest.count)
		otlp_nest__drain(&x->nest, util__wall_ns(now), flush, on_settled, x);
	if (x->posting) {
		r = otlp_http__poll(x->http, now, &status);
		if (r != OTLP_HTTP_BUSY)
			batch_done(x, r, now);
	}
	if (!x->nbatch && x->qlen &&
	    (flush || x->qlen >= BATCH_SPANS || now >= x->first_at + BATCH_NS))
		make_batch(x);
	if (x->nbatch && !x->posting && now >= x->retry_at) {
		otlp_http__post(x->http, x->body.buf, x->body.len, now);
		x->posting = true;
		r = otlp_http__poll(x->http, now, &status);
		if (r != OTLP_HTTP_BUSY)
			batch_done(x, r, now);
	}
	if (x->posting)
		next = min64(next, otlp_http__deadline(x->http));
	else if (x->nbatch)
		next = min64(next, x->retry_at);
	if (x->nest.count)
		next = min64(next, now + NEST_HOLD_NS / 4);
	if (x->qlen && !x->nbatch)
		next = min64(next, x->first_at + BATCH_NS);
	return next;
}

uint64_t export__poll(struct exporter *x, uint64_t now)
{
	return step(x, now, false);
}

void export__finish(struct exporter *x, uint64_t budget_ns)
{
	uint64_t now = now_ns(), until = now + budget_ns, next;
	struct epoll_event ev;

	otlp_nest__drain(&x->nest, 0, 1, on_settled, x);
	while ((x->qlen || x->nbatch) && now < until) {
		next = step(x, now, true);
		if (!x->qlen && !x->nbatch)
			break;
		next = min64(min64(next, until), now + 100000000ull);
		if (next > now)
			epoll_wait(otlp_http__fd(x->http), &ev, 1, (int)((next - now + 999999) / 1000000));
		now = now_ns();
	}
	if (x->nbatch || x->qlen) {
		if (x->posting && !x->why[0])
			snprintf(x->why, sizeof(x->why), "no answer in time at exit");
		x->st.failed += x->nbatch + x->qlen;
	}
	free_batch(x);
	while (x->qlen) {
		free(x->q[x->qhead]);
		x->qhead = (x->qhead + 1) % x->o.max_spans;
		x->qlen--;
	}
	x->bytes = 0;
}

void export__stats(const struct exporter *x, struct export_stats *st)
{
	*st = x->st;
	st->queued = x->qlen + x->nbatch + x->nest.count;
}

const char *export__why(const struct exporter *x)
{
	return x->why;
}

/* ---- the exporter ---- */

int export__open(const struct export_opts *o, struct exporter **out)
{
	struct exporter *x;
	int err;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->o = *o;
	if (!x->o.max_spans)
		x->o.max_spans = 8192;
	if (!x->o.max_bytes)
		x->o.max_bytes = 16u << 20;
	if (!x->o.timeout_ns)
		x->o.timeout_ns = 5000000000ull;
	sb_init(&x->body);
	sb_init(&x->sval);
	if (getrandom(&x->rng, sizeof(x->rng), 0) != sizeof(x->rng))
		x->rng = now_ns() ^ ((uint64_t)getpid() << 32);
	err = otlp_endpoint__parse(o->url, &x->ep);
	if (!err)
		err = otlp_http__open(&x->ep, o->json ? "application/json" : "application/x-protobuf",
				      x->o.timeout_ns, &x->http);
	if (!err)
		err = otlp_nest__init(&x->nest, NEST_CAP, NEST_HOLD_NS);
	x->q = err ? NULL : calloc(x->o.max_spans, sizeof(*x->q));
	if (!err && !x->q)
		err = -ENOMEM;
	if (err) {
		export__free(x);
		return err;
	}
	*out = x;
	return 0;
}

int export__fd(const struct exporter *x)
{
	return otlp_http__fd(x->http);
}

const char *export__address(const struct exporter *x)
{
	return otlp_http__address(x->http);
}

static void free_pending(const struct otlp_span *span, void *data, void *ctx)
{
	(void)span;
	(void)ctx;
	free(data);
}

void export__free(struct exporter *x)
{
	if (!x)
		return;
	if (x->nest.slots)
		otlp_nest__drain(&x->nest, 0, 1, free_pending, NULL);
	otlp_nest__free(&x->nest);
	while (x->q && x->qlen) {
		free(x->q[x->qhead]);
		x->qhead = (x->qhead + 1) % x->o.max_spans;
		x->qlen--;
	}
	free(x->q);
	sb_free(&x->body);
	sb_free(&x->sval);
	otlp_http__free(x->http);
	free(x);
}
