// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Prometheus exporter: the text exposition format of a metric set and a
 * small HTTP/1.1 server for it. A scrape is one GET; the server reads the
 * request head (at most 8 KiB), answers with Connection: close, and needs
 * nothing else of HTTP. Every socket is non-blocking and in an epoll set of
 * the server's own, whose descriptor the event loop watches: a slow or
 * stalled client costs the loop nothing, a request is answered in the turn
 * it completes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include "log.h"
#include "prometheus.h"

#define MAX_CONNS    16
#define MAX_HEAD     8192
#define CONN_TIMEOUT (10ull * 1000000000ull) /* a connection lives at most this long */
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct conn {
	int fd;
	uint64_t started;
	char head[MAX_HEAD];
	size_t nhead;
	struct strbuf out; /* the response, written from off */
	size_t off;
	bool answering;
	bool metrics; /* the request is for /metrics */
};

struct prometheus {
	int lfd;  /* listening socket */
	int epfd; /* the listening socket and every connection */
	char addr[INET6_ADDRSTRLEN + 8];
	prometheus_collect_fn collect;
	void *ctx;
	struct metric_set set; /* reused by every scrape */
	struct conn *conns[MAX_CONNS];
	uint64_t paused_until; /* accepting failed (no descriptor left): try again then */
};

/* ---- the exposition format ---- */

static void put_name(struct strbuf *sb, const char *s, bool metric)
{
	size_t i;

	if (*s >= '0' && *s <= '9')
		sb_putc(sb, '_');
	for (i = 0; s[i]; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || (metric && c == ':');

		sb_putc(sb, ok ? c : '_');
	}
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && strcmp(s + n - t, tail) == 0 && s[n - t - 1] == '_';
}

/* name_unit_total: the unit and _total as Prometheus names them, never twice */
static void family_name(struct strbuf *sb, const struct metric_family *f)
{
	put_name(sb, f->name, true);
	if (f->unit && !ends_with(f->name, f->unit) &&
	    !(f->type == METRIC_COUNTER && ends_with(f->name, "total"))) {
		sb_putc(sb, '_');
		put_name(sb, f->unit, true);
	}
	if (f->type == METRIC_COUNTER && !ends_with(f->name, "total"))
		sb_puts(sb, "_total");
}

static void put_num(struct strbuf *sb, const struct metric_num *n)
{
	if (n->is_int)
		sb_printf(sb, "%lld", (long long)n->i);
	else
		sb_float(sb, n->f, false);
}

/* help: backslash and newline escaped; label values: the double quote too */
static void put_escaped(struct strbuf *sb, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_puts(sb, "\\\\");
		else if (*s == '\n')
			sb_puts(sb, "\\n");
		else if (quote && *s == '"')
			sb_puts(sb, "\\\"");
		else
			sb_putc(sb, *s);
	}
}

/* {a="x",b="y"}, with le="..." last for a bucket (le NULL: none) */
static void put_labels(struct strbuf *sb, const struct metric_sample *m, const char *le)
{
	size_t i;

	if (!m->nlabels && !le)
		return;
	sb_putc(sb, '{');
	for (i = 0; i < m->nlabels; i++) {
		if (i)
			sb_putc(sb, ',');
		put_name(sb, m->labels[i].name, false);
		sb_puts(sb, "=\"");
		put_escaped(sb, m->labels[i].value, true);
		sb_putc(sb, '"');
	}
	if (le)
		sb_printf(sb, "%sle=\"%s\"", m->nlabels ? "," : "", le);
	sb_putc(sb, '}');
}

static void put_series(struct strbuf *sb, const struct strbuf *name, const char *suffix,
		       const struct metric_sample *m, const char *le)
{
	sb_add(sb, name->buf, name->len);
	sb_puts(sb, suffix);
	put_labels(sb, m, le);
	sb_putc(sb, ' ');
}

/* Cumulative buckets, then +Inf, _sum and _count. */
static void put_histogram(struct strbuf *sb, const struct strbuf *name,
			  const struct metric_sample *m)
{
	struct strbuf le;
	uint64_t cum = 0;
	size_t i;

	sb_init(&le);
	for (i = 0; i < m->nbuckets; i++) {
		cum += m->buckets[i].count;
		sb_reset(&le);
		sb_float(&le, m->buckets[i].le, false);
		put_series(sb, name, "_bucket", m, sb_str(&le));
		sb_printf(sb, "%llu\n", (unsigned long long)cum);
	}
	sb_free(&le);
	put_series(sb, name, "_bucket", m, "+Inf");
	sb_printf(sb, "%llu\n", (unsigned long long)m->count);
	put_series(sb, name, "_sum", m, NULL);
	put_num(sb, &m->value);
	sb_putc(sb, '\n');
	put_series(sb, name, "_count", m, NULL);
	sb_printf(sb, "%llu\n", (unsigned long long)m->count);
}

void prometheus__render(const struct metric_set *set, struct strbuf *sb)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	struct strbuf name;
	size_t i, j;

	sb_init(&name);
	for (i = 0; i < set->nfams; i++) {
		const struct metric_family *f = &set->fams[i];

		sb_reset(&name);
		family_name(&name, f);
		if (f->help) {
			sb_printf(sb, "# HELP %s ", sb_str(&name));
			put_escaped(sb, f->help, false);
			sb_putc(sb, '\n');
		}
		sb_printf(sb, "# TYPE %s %s\n", sb_str(&name), types[f->type]);
		for (j = 0; j < f->nsamples; j++) {
			const struct metric_sample *m = &f->samples[j];

			if (f->type == METRIC_HISTOGRAM) {
				put_histogram(sb, &name, m);
				continue;
			}
			put_series(sb, &name, "", m, NULL);
			put_num(sb, &m->value);
			sb_putc(sb, '\n');
		}
	}
	sb_free(&name);
}

/* ---- the HTTP server ---- */

/* "PORT", "ADDR:PORT", "[ADDR6]:PORT" into host (NULL: every address) and port */
static int split_spec(const char *spec, char *host, size_t len, const char **port)
{
	const char *colon = strrchr(spec, ':');
	size_t n;

	if (!colon) {
		*port = spec;
		return 1;
	}
	*port = colon + 1;
	n = colon - spec;
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') {
		spec++;
		n -= 2;
	}
	if (!n || n >= len)
		return -EINVAL;
	memcpy(host, spec, n);
	host[n] = 0;
	return 0;
}

/* A listening socket on ai's address: the descriptor, or -errno. */
static int try_listen(const struct addrinfo *ai, bool dual)
{
	int one = 1, zero = 0, fd, err;

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* every address: IPv4 too */
	if (dual)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, MAX_CONNS)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* p->addr: "127.0.0.1:9464" or "[::]:9464", what the socket is bound to */
static void name_address(struct prometheus *p)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(p->lfd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(p->addr, sizeof(p->addr), "[%s]:%u", host, port);
		return;
	}
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	snprintf(p->addr, sizeof(p->addr), "%s:%u", host, port);
}

static int listen_on(struct prometheus *p, const char *spec)
{
	struct addrinfo hints = {0}, *ai = NULL;
	char host[256], *end = NULL;
	const char *port;
	int err, every = split_spec(spec, host, sizeof(host), &port);
	long pn = port && *port ? strtol(port, &end, 10) : -1;

	if (every < 0 || pn < 0 || *end || pn > 65535) {
		lp_seterr("--metrics %s: give [ADDR:]PORT, e.g. 9464 or 127.0.0.1:9464", spec);
		return -EINVAL;
	}
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
	/* PORT alone: every address, IPv6 and IPv4, or IPv4 alone on a host without IPv6 */
	hints.ai_family = every ? AF_INET6 : AF_UNSPEC;
	err = getaddrinfo(every ? NULL : host, port, &hints, &ai);
	if (err) {
		lp_seterr("--metrics %s: %s is not an IP address (%s)", spec, host,
			  gai_strerror(err));
		return -EINVAL;
	}
	p->lfd = try_listen(ai, every);
	freeaddrinfo(ai);
	if (every && (p->lfd == -EAFNOSUPPORT || p->lfd == -EADDRNOTAVAIL)) {
		hints.ai_family = AF_INET;
		if (getaddrinfo(NULL, port, &hints, &ai) == 0) {
			p->lfd = try_listen(ai, false);
			freeaddrinfo(ai);
		}
	}
	if (p->lfd < 0) {
		err = p->lfd;
		p->lfd = -1;
		lp_seterr("--metrics %s: cannot listen there: %s%s", spec, strerror(-err),
			  err == -EADDRINUSE ? " (choose another port)" : "");
		return err;
	}
	name_address(p);
	return 0;
}

int prometheus__open(const char *spec, prometheus_collect_fn fn, void *ctx, struct prometheus **out)
{
	struct prometheus *p = calloc(1, sizeof(*p));
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->lfd = p->epfd = -1;
	p->collect = fn;
	p->ctx = ctx;
	metric_set__init(&p->set);
	err = listen_on(p, spec);
	if (!err) {
		p->epfd = epoll_create1(EPOLL_CLOEXEC);
		ev.data.ptr = NULL;
		if (p->epfd < 0 || epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->lfd, &ev)) {
			err = -errno;
			lp_seterr("--metrics %s: epoll: %s", spec, strerror(errno));
		}
	}
	if (err) {
		prometheus__free(p);
		return err;
	}
	*out = p;
	return 0;
}

int prometheus__fd(const struct prometheus *p)
{
	return p->epfd;
}

const char *prometheus__address(const struct prometheus *p)
{
	return p->addr;
}

static void conn_close(struct prometheus *p, int i)
{
	struct conn *c = p->conns[i];

	close(c->fd); /* leaves the epoll set with it */
	sb_free(&c->out);
	free(c);
	p->conns[i] = NULL;
}

static void accept_all(struct prometheus *p, uint64_t now)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int fd, i;

	while ((fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = NULL;

		for (i = 0; i < MAX_CONNS && p->conns[i]; i++)
			;
		/* too many at once: this one is refused, not left to keep the socket ready */
		if (i == MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->started = now;
		sb_init(&c->out);
		ev.data.ptr = c;
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		p->conns[i] = c;
	}
	/*
	 * No descriptor or memory for one more: the connection stays queued and
	 * the socket ready, which would wake the loop at once, again and again.
	 * Stop watching it for a second.
	 */
	if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
	    epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->lfd, NULL) == 0)
		p->paused_until = now + 1000000000ull;
}

static void respond(struct conn *c, const char *status, const char *body, size_t len,
		    bool head_only)
{
	bool exposition = strcmp(status, "200 OK") == 0 && c->metrics;

	sb_reset(&c->out);
	sb_printf(&c->out,
		  "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		  "Connection: close\r\n\r\n",
		  status, exposition ? CONTENT_TYPE : "text/plain; charset=utf-8", len);
	if (!head_only)
		sb_add(&c->out, body, len);
	c->answering = true;
}

/* The request head is complete: what it asks, answered into c->out. */
static void answer(struct prometheus *p, struct conn *c)
{
	char method[8], path[256];
	struct strbuf body;
	size_t n;
	bool head;

	c->head[c->nhead] = 0;
	if (sscanf(c->head, "%7s %255s HTTP/1.%*c", method, path) != 2) {
		respond(c, "400 Bad Request", "bad request\n", 12, false);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		respond(c, "405 Method Not Allowed", "only GET\n", 9, false);
		return;
	}
	n = strcspn(path, "?");
	if (n == 1 && path[0] == '/') {
		respond(c, "200 OK", "luprobe: metrics at /metrics\n", 29, head);
		return;
	}
	if (n != 8 || strncmp(path, "/metrics", 8) != 0) {
		respond(c, "404 Not Found", "not found: metrics are at /metrics\n", 35, head);
		return;
	}
	c->metrics = true;
	metric_set__clear(&p->set);
	lp_clearerr();
	sb_init(&body);
	if (p->collect(p->ctx, &p->set) || p->set.err) {
		sb_printf(&body, "luprobe: metrics could not be collected: %s\n",
			  *lp_lasterr() ? lp_lasterr() : strerror(ENOMEM));
		respond(c, "500 Internal Server Error", body.buf, body.len, head);
	} else {
		prometheus__render(&p->set, &body);
		if (body.oom)
			respond(c, "500 Internal Server Error", "out of memory\n", 14, head);
		else
			respond(c, "200 OK", sb_str(&body), body.len, head);
	}
	sb_free(&body);
	metric_set__clear(&p->set);
}

/* Read what came; returns false when the connection is done with. */
static bool conn_read(struct prometheus *p, struct conn *c)
{
	ssize_t n;

	while (!c->answering) {
		if (c->nhead == MAX_HEAD - 1) {
			respond(c, "431 Request Header Fields Too Large", "request too large\n", 18,
				false);
			break;
		}
		n = read(c->fd, c->head + c->nhead, MAX_HEAD - 1 - c->nhead);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false; /* gone before its request was complete */
		c->nhead += n;
		c->head[c->nhead] = 0;
		if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n"))
			answer(p, c);
	}
	return true;
}

/* Write what the socket takes; returns false when all is written (or it failed). */
static bool conn_write(struct prometheus *p, struct conn *c)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	ssize_t n;

	while (c->off < c->out.len) {
		n = send(c->fd, c->out.buf + c->off, c->out.len - c->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* the rest when it can take it; its input no longer matters */
			epoll_ctl(p->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		if (n < 0)
			return false;
		c->off += n;
	}
	shutdown(c->fd, SHUT_WR);
	return false;
}

void prometheus__serve(struct prometheus *p, uint64_t now, bool ready)
{
	struct epoll_event evs[MAX_CONNS + 1];
	int n = 0, i, j;

	if (ready)
		n = epoll_wait(p->epfd, evs, MAX_CONNS + 1, 0);
	for (i = 0; i < n; i++) {
		struct conn *c = evs[i].data.ptr;
		bool keep;

		if (!c) {
			accept_all(p, now);
			continue;
		}
		for (j = 0; j < MAX_CONNS && p->conns[j] != c; j++)
			;
		if (j == MAX_CONNS)
			continue;
		keep = c->answering || !(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ||
		       conn_read(p, c);
		if (keep && c->answering)
			keep = conn_write(p, c);
		if (!keep)
			conn_close(p, j);
	}
	for (j = 0; j < MAX_CONNS; j++)
		if (p->conns[j] && now - p->conns[j]->started > CONN_TIMEOUT)
			conn_close(p, j);
	if (p->paused_until && now >= p->paused_until) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->lfd, &ev) == 0)
			p->paused_until = 0;
	}
}

void prometheus__free(struct prometheus *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < MAX_CONNS; i++)
		if (p->conns[i])
			conn_close(p, i);
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->lfd >= 0)
		close(p->lfd);
	metric_set__clear(&p->set);
	free(p);
}
