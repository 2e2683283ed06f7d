/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers every layer may use: the clock, sizes and durations as text. */
#ifndef LUPROBE_UTIL_H
#define LUPROBE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A timer's delay or interval from here on (2^62 ns, 146 years): it never fires. */
#define TIMER_NEVER (1ull << 62)

/* CLOCK_MONOTONIC nanoseconds, the clock of the records' ts. */
uint64_t now_ns(void);
/*
 * The wall-clock time (CLOCK_REALTIME ns since the Unix epoch) of a
 * CLOCK_MONOTONIC instant, through the clocks' offset now (it follows a
 * clock that was set since the instant).
 */
uint64_t util__wall_ns(uint64_t mono_ns);

/* "64 MiB", "3 KiB", "100 bytes": the largest unit that divides n. */
void util__size_text(char *buf, size_t len, size_t n);

/* "812ns", "12.4µs", "3.1ms", "2.50s" */
void util__duration_text(char *buf, size_t len, uint64_t ns);

#endif
