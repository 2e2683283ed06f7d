// SPDX-License-Identifier: BSD-2-Clause
#include <stdio.h>
#include <sys/stat.h>
#include "log.h"

int lp_verbosity;

static char lasterr[1024];

void lp_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > lp_verbosity)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void lp_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lasterr, sizeof(lasterr), fmt, ap);
	va_end(ap);
}

const char *lp_lasterr(void)
{
	return lasterr;
}

void lp_clearerr(void)
{
	lasterr[0] = '\0';
}

const char *lp_filekind(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	}
	return "of an unknown kind";
}
