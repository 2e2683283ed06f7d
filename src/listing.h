/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What luprobe can tell of a Go binary without tracing it: its functions
 * with the best signature it has for each and where it came from (-l), and
 * how it was built with how many functions each signature source covers
 * (--info).
 */
#ifndef LUPROBE_LISTING_H
#define LUPROBE_LISTING_H

/* luprobe -l PATH [GLOB]: one line a function; exit code (1: no match, or an error). */
int listing__functions(const char *path, const char *glob);

/* luprobe --info PATH; exit code. */
int listing__info(const char *path);

#endif
