/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging and the last-error message.
 *
 * Modules that fail for a reason the user must see record one sentence with
 * lp_seterr() and return -errno; the caller that decides to give up prints it
 * once, prefixed with "luprobe: ". Verbosity: errors always, info with -v,
 * debug with -vv.
 */
#ifndef LUPROBE_LOG_H
#define LUPROBE_LOG_H

#include <stdarg.h>

extern int lp_verbosity; /* 0 quiet, 1 -v, 2 -vv */

void lp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)   lp_log(0, __VA_ARGS__)
#define pr_info(...)  lp_log(1, __VA_ARGS__)
#define pr_debug(...) lp_log(2, __VA_ARGS__)

/* Record the message that explains the current failure (replaces the previous one). */
void lp_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The message recorded last, or "" if none. */
const char *lp_lasterr(void);
/* Forget the recorded message. */
void lp_clearerr(void);

/* What a file is, from its st_mode, for "PATH: not a regular file (a FIFO)". */
const char *lp_filekind(unsigned int mode);

#endif
