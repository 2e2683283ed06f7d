// SPDX-License-Identifier: BSD-2-Clause
/*
 * A non-blocking HTTP/1.1 POST client for OTLP/HTTP. One request per
 * connection (Connection: close): the exporter posts a batch about once a
 * second, so a connection costs little next to the batch, and nothing of a
 * connection outlives its request (no half-read body, no stale keep-alive).
 * Only the status line of the answer is read.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "log.h"
#include "otlp_http.h"

#define MAX_ANSWER 512 /* enough for "HTTP/1.1 200 OK\r\n" and then some */

struct otlp_http {
	int epfd; /* the connection's socket, when there is one */
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint64_t timeout_ns;
	uint64_t deadline;
	enum otlp_http_state state;
	bool connected;
	char head[1536 + sizeof(((struct otlp_endpoint *)0)->path)];
	size_t nhead;
	const char *body;
	size_t len, off; /* off counts the head then the body */
	char answer[MAX_ANSWER];
	size_t nanswer;
	int status;
	char where[300 + sizeof(((struct otlp_endpoint *)0)->path)];
	char hostport[300];
	const char *ctype;
	char path[sizeof(((struct otlp_endpoint *)0)->path)];
	char why[128];
};

int otlp_endpoint__parse(const char *url, struct otlp_endpoint *ep)
{
	const char *p, *hs, *he, *ps = NULL;
	size_t n;

	memset(ep, 0, sizeof(*ep));
	if (strncmp(url, "https://", 8) == 0) {
		lp_seterr("--otlp %s: https is not supported: luprobe sends plain HTTP; send to "
			  "a collector on this node or its loopback (http://127.0.0.1:4318)",
			  url);
		return -EINVAL;
	}
	if (strncmp(url, "http://", 7) != 0) {
		lp_seterr("--otlp %s: not an http:// URL (e.g. http://127.0.0.1:4318)", url);
		return -EINVAL;
	}
	hs = url + 7;
	if (*hs == '[') {
		he = strchr(hs, ']');
		if (!he) {
			lp_seterr("--otlp %s: an IPv6 address without its closing ]", url);
			return -EINVAL;
		}
		hs++;
		p = he + 1;
	} else {
		he = hs + strcspn(hs, ":/?#");
		p = he;
	}
	n = (size_t)(he - hs);
	if (!n || n >= sizeof(ep->host)) {
		lp_seterr("--otlp %s: no host (e.g. http://127.0.0.1:4318)", url);
		return -EINVAL;
	}
	memcpy(ep->host, hs, n);
	if (*p == ':') {
		ps = ++p;
		p += strspn(p, "0123456789");
		n = (size_t)(p - ps);
		if (!n || n > 5 || atoi(ps) < 1 || atoi(ps) > 65535) {
			lp_seterr("--otlp %s: the port must be a number from 1 to 65535", url);
			return -EINVAL;
		}
		memcpy(ep->port, ps, n);
	} else {
		strcpy(ep->port, "4318");
	}
	if (*p && *p != '/') {
		lp_seterr("--otlp %s: unexpected \"%s\" after the host and port", url, p);
		return -EINVAL;
	}
	if (strlen(p) >= sizeof(ep->path) || strpbrk(p, " \r\n\t")) {
		lp_seterr("--otlp %s: the path is too long or has spaces", url);
		return -EINVAL;
	}
	strcpy(ep->path, *p && strcmp(p, "/") ? p : "/v1/traces");
	return 0;
}

int otlp_http__open(const struct otlp_endpoint *ep, const char *content_type,
		    uint64_t timeout_ns, struct otlp_http **out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct otlp_http *h;
	int err;

	*out = NULL;
	err = getaddrinfo(ep->host, ep->port, &hints, &ai);
	if (err) {
		lp_seterr("--otlp: cannot resolve %s: %s", ep->host,
			  err == EAI_SYSTEM ? strerror(errno) : gai_strerror(err));
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	memcpy(&h->addr, ai->ai_addr, ai->ai_addrlen);
	h->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	h->fd = -1;
	h->timeout_ns = timeout_ns;
	h->ctype = content_type;
	snprintf(h->hostport, sizeof(h->hostport), strchr(ep->host, ':') ? "[%s]:%s" : "%s:%s",
		 ep->host, ep->port);
	snprintf(h->path, sizeof(h->path), "%s", ep->path);
	snprintf(h->where, sizeof(h->where), "%s%s", h->hostport, ep->path);
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (h->epfd < 0) {
		err = -errno;
		lp_seterr("epoll: %s", strerror(errno));
		free(h);
		return err;
	}
	*out = h;
	return 0;
}

int otlp_http__fd(const struct otlp_http *h)
{
	return h->epfd;
}

const char *otlp_http__address(const struct otlp_http *h)
{
	return h->where;
}

const char *otlp_http__why(const struct otlp_http *h)
{
	return h->why;
}

uint64_t otlp_http__deadline(const struct otlp_http *h)
{
	return h->state == OTLP_HTTP_BUSY ? h->deadline : UINT64_MAX;
}

static void drop_conn(struct otlp_http *h)
{
	if (h->fd >= 0) {
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->fd, NULL);
		close(h->fd);
	}
	h->fd = -1;
	h->connected = false;
}

static void finish(struct otlp_http *h, enum otlp_http_state st, const char *why)
{
	drop_conn(h);
	h->state = st;
	if (why)
		snprintf(h->why, sizeof(h->why), "%s", why);
}

void otlp_http__post(struct otlp_http *h, const void *body, size_t len, uint64_t now)
{
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN};
	int n;

	drop_conn(h);
	h->body = body;
	h->len = len;
	h->off = 0;
	h->nanswer = 0;
	h->status = 0;
	h->why[0] = 0;
	h->deadline = now + h->timeout_ns;
	h->state = OTLP_HTTP_BUSY;
	n = snprintf(h->head, sizeof(h->head),
		     "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: luprobe\r\n"
		     "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     h->path, h->hostport, h->ctype, len);
	h->nhead = (size_t)n;
	h->fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		finish(h, OTLP_HTTP_RETRY, strerror(errno));
		return;
	}
	if (connect(h->fd, (struct sockaddr *)&h->addr, h->addrlen) && errno != EINPROGRESS) {
		finish(h, OTLP_HTTP_RETRY, strerror(errno));
		return;
	}
	ev.data.fd = h->fd;
	epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->fd, &ev);
}

/* Write what the socket takes of the head, then the body. false: failed. */
static bool send_more(struct otlp_http *h)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = h->fd};
	struct iovec iov[2];
	struct msghdr msg = {.msg_iov = iov};
	ssize_t n;

	while (h->off < h->nhead + h->len) {
		msg.msg_iovlen = 0;
		if (h->off < h->nhead)
			iov[msg.msg_iovlen++] = (struct iovec){h->head + h->off, h->nhead - h->off};
		if (h->len) {
			size_t b = h->off > h->nhead ? h->off - h->nhead : 0;

			iov[msg.msg_iovlen++] = (struct iovec){(char *)h->body + b, h->len - b};
		}
		n = sendmsg(h->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			finish(h, OTLP_HTTP_RETRY, strerror(errno));
			return false;
		}
		h->off += (size_t)n;
	}
	/* all sent: only the answer is left to wait for */
	epoll_ctl(h->epfd, EPOLL_CTL_MOD, h->fd, &ev);
	return true;
}

/* Read the answer's status line: true once the POST has its result. */
static bool read_answer(struct otlp_http *h)
{
	char *eol;
	ssize_t n;

	for (;;) {
		n = recv(h->fd, h->answer + h->nanswer, sizeof(h->answer) - 1 - h->nanswer,
			 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n < 0) {
			finish(h, OTLP_HTTP_RETRY, strerror(errno));
			return true;
		}
		h->nanswer += (size_t)n;
		h->answer[h->nanswer] = 0;
		eol = strstr(h->answer, "\r\n");
		if (eol || n == 0 || h->nanswer == sizeof(h->answer) - 1)
			break;
	}
	if (!eol || sscanf(h->answer, "HTTP/1.%*1[01] %3d", &h->status) != 1) {
		finish(h, OTLP_HTTP_RETRY, h->nanswer ? "not an HTTP answer" : "closed without an answer");
		return true;
	}
	snprintf(h->why, sizeof(h->why), "HTTP %d", h->status);
	if (h->status >= 200 && h->status < 300)
		finish(h, OTLP_HTTP_OK, NULL);
	else if (h->status == 429 || h->status >= 500 || h->status == 408)
		finish(h, OTLP_HTTP_RETRY, NULL);
	else
		finish(h, OTLP_HTTP_REJECTED, NULL);
	return true;
}

static void progress(struct otlp_http *h)
{
	struct sockaddr_storage peer;
	socklen_t elen = sizeof(int), plen = sizeof(peer);
	int err = 0;

	if (!h->connected) {
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err) {
			finish(h, OTLP_HTTP_RETRY, strerror(err));
			return;
		}
		/* a connect in progress has no peer yet */
		if (getpeername(h->fd, (struct sockaddr *)&peer, &plen) < 0)
			return;
		h->connected = true;
	}
	if (h->off < h->nhead + h->len && !send_more(h))
		return;
	if (h->off == h->nhead + h->len)
		read_answer(h);
}

enum otlp_http_state otlp_http__poll(struct otlp_http *h, uint64_t now, int *status)
{
	struct epoll_event evs[2];
	enum otlp_http_state st;

	*status = 0;
	if (h->state == OTLP_HTTP_BUSY) {
		/* drain the readiness; the socket is looked at whatever it says */
		epoll_wait(h->epfd, evs, 2, 0);
		progress(h);
		if (h->state == OTLP_HTTP_BUSY && now >= h->deadline)
			finish(h, OTLP_HTTP_RETRY, "timed out");
	}
	st = h->state;
	*status = h->status;
	if (st != OTLP_HTTP_BUSY)
		h->state = OTLP_HTTP_IDLE;
	return st;
}

void otlp_http__free(struct otlp_http *h)
{
	if (!h)
		return;
	drop_conn(h);
	close(h->epfd);
	free(h);
}
