// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "log.h"
#include "output.h"

#define OUT_BUFFER (1 << 16)
#define CARRY_MAX  (1 << 16) /* shared: a line longer than this goes out in pieces */

static struct {
	FILE *f;	  /* the stream stdout now is */
	int fd;		  /* where it writes */
	const char *path; /* -o FILE, or NULL for stdout */
	int err;	  /* the first write error */
	bool reported;	  /* the error was printed */
	uint64_t given;	  /* bytes the stream handed to out_write */
	uint64_t written; /* of those, bytes the kernel took */
	uint64_t mark;	  /* stream offset at the end of the last event's output */
	uint64_t *pend;	  /* ends of events' output not written yet, oldest at head */
	size_t head, npend, cap;
	uint64_t lost; /* events whose output was not (all) written */
	bool shared;   /* the command writes to the same pipe: by whole lines */
	char *carry;   /* shared: the start of a line whose end has not come */
	size_t ncarry;
	uint64_t long_lines; /* shared: lines longer than PIPE_BUF, each written alone */
	bool long_open;	     /* the last write was part of such a line, not its end */
	bool long_told;	     /* the summary line about them was printed */
} out = {.fd = STDOUT_FILENO};

/* Events whose output is now written are forgotten; after an error, lost. */
static void settle(void)
{
	while (out.head < out.npend && out.pend[out.head] <= out.written)
		out.head++;
	if (out.err) {
		out.lost += out.npend - out.head;
		out.head = out.npend = 0;
	}
	if (out.head == out.npend)
		out.head = out.npend = 0;
}

/* write(2) all of buf, counting what the kernel took; false after an error. */
static bool put(const char *buf, size_t n)
{
	while (!out.err && n) {
		ssize_t w = write(out.fd, buf, n);
		struct pollfd pfd = {.fd = out.fd, .events = POLLOUT};

		if (w < 0 && errno == EINTR)
			continue;
		/* a non-blocking descriptor we inherited: wait, as a blocking one would */
		if (w < 0 && errno == EAGAIN && poll(&pfd, 1, -1) >= 0)
			continue;
		if (w < 0) {
			out.err = errno;
			break;
		}
		buf += w;
		n -= (size_t)w;
		out.written += (size_t)w;
	}
	return !out.err;
}

/* Shared: all of buf[0, n) in whole lines, at most PIPE_BUF bytes a write. */
static bool put_lines(const char *buf, size_t n)
{
	while (n) {
		size_t k = n;
		const char *nl;

		if (k > PIPE_BUF) {
			nl = memrchr(buf, '\n', PIPE_BUF);
			if (!nl)
				nl = memchr(buf + PIPE_BUF, '\n', n - PIPE_BUF);
			if (nl)
				k = (size_t)(nl - buf) + 1;
		}
		/*
		 * A line longer than PIPE_BUF cannot go out atomically: it is
		 * written alone and counted once (the pieces of a line longer
		 * than the carry are one line).
		 */
		if (k > PIPE_BUF && !out.long_open)
			out.long_lines++;
		if (k > PIPE_BUF || out.long_open)
			out.long_open = buf[k - 1] != '\n';
		if (!put(buf, k))
			return false;
		buf += k;
		n -= k;
	}
	return true;
}

/*
 * Shared: complete lines go out, a line's start is kept until its end comes
 * (or the batch ends): stdio writes a full buffer mid-line, and the
 * command's lines would land in the middle of one of ours.
 */
static bool put_shared(const char *buf, size_t size)
{
	const char *end = buf + size, *last = memrchr(buf, '\n', size);
	size_t tail;

	if (!last && out.ncarry + size <= CARRY_MAX) {
		/* no line ends here: keep it with the start of its line */
		memcpy(out.carry + out.ncarry, buf, size);
		out.ncarry += size;
		return true;
	}
	tail = last ? (size_t)(end - last - 1) : 0;
	if (tail > CARRY_MAX)
		tail = 0; /* a line this long cannot be kept whole */
	if (out.ncarry) {
		/* the carried start and the rest of its line, in one write */
		const char *nl = memchr(buf, '\n', size);
		size_t first = nl ? (size_t)(nl - buf) + 1 : size;
		char *line = malloc(out.ncarry + first);
		bool ok;

		if (!line) {
			out.err = ENOMEM;
			return false;
		}
		memcpy(line, out.carry, out.ncarry);
		memcpy(line + out.ncarry, buf, first);
		ok = put_lines(line, out.ncarry + first);
		free(line);
		out.ncarry = 0;
		if (!ok)
			return false;
		buf += first;
	}
	if (buf < end - tail && !put_lines(buf, (size_t)(end - tail - buf)))
		return false;
	memcpy(out.carry, end - tail, tail);
	out.ncarry = tail;
	return true;
}

static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
	bool ok;

	(void)cookie;
	out.given += n;
	ok = out.shared ? put_shared(buf, n) : put(buf, n);
	settle();
	if (!ok) {
		errno = out.err;
		return -1;
	}
	return n;
}

static void set_buffering(void)
{
	setvbuf(out.f, NULL, isatty(out.fd) ? _IOLBF : _IOFBF, OUT_BUFFER);
}

int output__init(void)
{
	cookie_io_functions_t io = {.write = out_write};

	out.f = fopencookie(NULL, "w", io);
	if (!out.f)
		return -errno;
	set_buffering();
	/* glibc's stdout is a variable the program may set (the glibc manual says so) */
	stdout = out.f;
	return 0;
}

void output__share(void)
{
	struct stat st;

	if (!out.f || fstat(out.fd, &st) || !S_ISFIFO(st.st_mode))
		return;
	out.carry = malloc(CARRY_MAX);
	out.shared = out.carry != NULL;
}

int output__redirect(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd < 0) {
		lp_seterr("%s: %s", path, strerror(errno));
		return -errno;
	}
	output__flush();
	out.fd = fd;
	out.path = path;
	out.shared = false;
	set_buffering();
	return 0;
}

void output__flush(void)
{
	if (!out.f)
		return;
	fflush(out.f);
	if (out.ncarry) {
		put(out.carry, out.ncarry);
		out.ncarry = 0;
		settle();
	}
}

int output__fd(void)
{
	return out.fd;
}

void output__closed(void)
{
	if (!out.err)
		out.err = EPIPE;
	settle();
}

int output__error(void)
{
	return out.err;
}

void output__event_done(void)
{
	uint64_t end = out.given + __fpending(out.f);

	if (end <= out.mark)
		return; /* this event printed nothing */
	out.mark = end;
	if (out.err) {
		out.lost++;
		return;
	}
	if (end <= out.written)
		return;
	if (out.npend == out.cap) {
		size_t cap = out.cap ? out.cap * 2 : 256;
		uint64_t *p = realloc(out.pend, cap * sizeof(*p));

		if (!p) {
			/* settle what is waiting instead of tracking it */
			output__flush();
			if (out.npend == out.cap)
				return;
		} else {
			out.pend = p;
			out.cap = cap;
		}
	}
	out.pend[out.npend++] = end;
}

uint64_t output__lost_events(void)
{
	return out.lost;
}

bool output__report(void)
{
	output__flush();
	if (out.long_lines && !out.long_told) {
		out.long_told = true;
		fprintf(stderr,
			"luprobe: %llu line%s longer than %d bytes went to the pipe the command "
			"shares and may have been cut by its output; -o FILE keeps them whole\n",
			(unsigned long long)out.long_lines, out.long_lines == 1 ? "" : "s",
			PIPE_BUF);
	}
	if (!out.err || out.err == EPIPE)
		return false;
	if (!out.reported) {
		out.reported = true;
		fprintf(stderr, "luprobe: %s%s: write error: %s", out.path ? "-o " : "",
			out.path ? out.path : "stdout", strerror(out.err));
		if (out.lost)
			fprintf(stderr, " (the output of %llu event%s was not written)",
				(unsigned long long)out.lost, out.lost == 1 ? "" : "s");
		fputc('\n', stderr);
	}
	return true;
}
