// SPDX-License-Identifier: BSD-2-Clause
/*
 * stdout by whole lines, for a pipe that the traced command writes to too.
 *
 * A write(2) of more than PIPE_BUF bytes to a pipe can be interleaved with
 * another process's writes, and so can the end of a line that stdio writes
 * when its buffer is full: the command's output then landed in the middle of
 * a JSON line. A cookie stream takes stdout's place: it writes complete lines
 * in writes of at most PIPE_BUF bytes (a longer line in one of its own) and
 * keeps a line's start until its end comes, or until the batch ends.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "output.h"

#define CARRY_MAX (1 << 16) /* a line longer than this goes out in pieces */

static struct {
	FILE *f;     /* the stream in stdout's place, or NULL */
	char *carry; /* the start of a line whose end has not come */
	size_t ncarry;
} out;

/* Write all of buf[0, n) to stdout's file: whole lines, at most PIPE_BUF bytes a write. */
static int write_lines(const char *buf, size_t n)
{
	while (n) {
		size_t k = n;
		const char *nl;
		ssize_t w;

		if (k > PIPE_BUF) {
			nl = memrchr(buf, '\n', PIPE_BUF);
			if (!nl)
				nl = memchr(buf + PIPE_BUF, '\n', n - PIPE_BUF);
			if (nl)
				k = (size_t)(nl - buf) + 1;
		}
		w = write(STDOUT_FILENO, buf, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t lines_write(void *cookie, const char *buf, size_t size)
{
	const char *end = buf + size, *last = memrchr(buf, '\n', size);
	size_t tail;

	(void)cookie;
	if (!last && out.ncarry + size <= CARRY_MAX) {
		/* no line ends here: keep it with the start of its line */
		memcpy(out.carry + out.ncarry, buf, size);
		out.ncarry += size;
		return (ssize_t)size;
	}
	tail = last ? (size_t)(end - last - 1) : 0;
	if (tail > CARRY_MAX)
		tail = 0; /* a line this long cannot be kept whole */
	if (out.ncarry) {
		/* the carried start and the rest of its line, in one write */
		const char *nl = memchr(buf, '\n', size);
		size_t first = nl ? (size_t)(nl - buf) + 1 : size;
		char *line = malloc(out.ncarry + first);

		if (!line)
			return -1;
		memcpy(line, out.carry, out.ncarry);
		memcpy(line + out.ncarry, buf, first);
		if (write_lines(line, out.ncarry + first)) {
			free(line);
			return -1;
		}
		free(line);
		out.ncarry = 0;
		buf += first;
	}
	if (buf < end - tail && write_lines(buf, (size_t)(end - tail - buf)))
		return -1;
	memcpy(out.carry, end - tail, tail);
	out.ncarry = tail;
	return (ssize_t)size;
}

static int lines_close(void *cookie)
{
	(void)cookie;
	if (out.ncarry && write_lines(out.carry, out.ncarry))
		return -1;
	out.ncarry = 0;
	return 0;
}

void output__share(void)
{
	cookie_io_functions_t io = {.write = lines_write, .close = lines_close};
	struct stat st;
	FILE *f;

	if (fstat(STDOUT_FILENO, &st) || !S_ISFIFO(st.st_mode) || fflush(stdout))
		return;
	out.carry = malloc(CARRY_MAX);
	f = out.carry ? fopencookie(NULL, "w", io) : NULL;
	if (!f || setvbuf(f, NULL, _IOFBF, 1 << 16)) {
		if (f)
			fclose(f);
		free(out.carry);
		out.carry = NULL;
		return;
	}
	out.f = f;
	stdout = f;
}

void output__flush(void)
{
	fflush(stdout);
	if (out.f && stdout == out.f && out.ncarry && write_lines(out.carry, out.ncarry) == 0)
		out.ncarry = 0;
}
