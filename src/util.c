// SPDX-License-Identifier: BSD-2-Clause
#include <stdio.h>
#include <time.h>
#include "util.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t util__wall_ns(uint64_t mono_ns)
{
	struct timespec r, m;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return mono_ns + ((uint64_t)r.tv_sec * 1000000000ull + r.tv_nsec) -
	       ((uint64_t)m.tv_sec * 1000000000ull + m.tv_nsec);
}

void util__size_text(char *buf, size_t len, size_t n)
{
	if (n && !(n % (1ul << 30)))
		snprintf(buf, len, "%zu GiB", n >> 30);
	else if (n && !(n % (1ul << 20)))
		snprintf(buf, len, "%zu MiB", n >> 20);
	else if (n && !(n % (1ul << 10)))
		snprintf(buf, len, "%zu KiB", n >> 10);
	else
		snprintf(buf, len, "%zu bytes", n);
}

void util__duration_text(char *buf, size_t len, uint64_t ns)
{
	double d = ns;

	if (d < 1e3)
		snprintf(buf, len, "%.0fns", d);
	else if (d < 1e6)
		snprintf(buf, len, "%.1fµs", d / 1e3);
	else if (d < 1e9)
		snprintf(buf, len, "%.1fms", d / 1e6);
	else
		snprintf(buf, len, "%.2fs", d / 1e9);
}
