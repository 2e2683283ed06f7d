/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What luprobe can tell of a Go binary without tracing it: its functions
 * with the best signature it has for each and where it came from (-l), and
 * how it was built with how many functions each signature source covers
 * (--info).
 */
#ifndef LUPROBE_LISTING_H
#define LUPROBE_LISTING_H

#include <stddef.h>

/*
 * luprobe -l PATH [GLOB]: one line a function; exit code (1: no match, or an
 * error). shown, if not NULL, names the binary in messages instead of path.
 */
int listing__functions(const char *path, const char *shown, const char *glob);

/* luprobe --info PATH; exit code. */
int listing__info(const char *path, const char *shown);

/*
 * -l -p PID, --info -p PID: the path that opens the executable process pid
 * runs (/proc/PID/exe, which reaches it deleted or renamed over too) and how
 * to name it ("/srv/app (deleted) (process 42)"); 0 or -errno with
 * lp_seterr().
 */
int listing__pid_exe(long pid, char *path, size_t pathsz, char *shown, size_t shownsz);

#endif
