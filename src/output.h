/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * luprobe's standard output, checked. Everything luprobe and the script
 * print (events, print, io.write, printf, aggregations, JSON) goes through
 * stdout; output__init() makes stdout a stream whose writes come here, so a
 * failed write is seen when it happens, with its errno, and the events whose
 * output it lost are counted. Events and the script's prints are written at
 * the end of each batch of events (or when 64 KiB are waiting); to a
 * terminal, by lines. When the command started with "--" writes to the same
 * pipe, the pipe keeps a write whole only up to PIPE_BUF bytes: stdout then
 * goes out in writes of whole lines of at most that size, so neither side
 * cuts the other's lines.
 */
#ifndef LUPROBE_OUTPUT_H
#define LUPROBE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

/* Replace stdout (before anything is printed, and before the Lua state opens). */
int output__init(void);
/* stdout is shared with the command: if it is a pipe, write it by whole lines (before Lua). */
void output__share(void);
/* -o FILE: luprobe's output goes to FILE from now on (fd 1 is left alone). */
int output__redirect(const char *path);
/* The end of a batch: write everything, a line without its newline too. */
void output__flush(void);
/* The file descriptor written to: epoll reports EPOLLERR on a pipe whose reader left. */
int output__fd(void);
/* Record that the reader has gone (EPOLLERR or EPOLLHUP on output__fd()). */
void output__closed(void);
/* 0, or the first write error (an errno; EPIPE: the reader has gone). */
int output__error(void);
/* An event's output (its handlers' or the printer's) is complete. */
void output__event_done(void);
/* Events with output that did not reach the file (all of it, or a part). */
uint64_t output__lost_events(void);
/*
 * Flush, and print the write error once if there is one that is not EPIPE:
 * "luprobe: -o /dev/full: write error: No space left on device (...)", and
 * once how many lines were too long to write atomically to a shared pipe.
 * Returns true if output was lost to such an error.
 */
bool output__report(void);

#endif
