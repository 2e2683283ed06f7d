/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * luprobe's stdout. Events and the script's prints are written at the end of
 * each batch of events. When the command started with "--" writes to the
 * same pipe, the pipe keeps a write whole only up to PIPE_BUF bytes: stdout
 * then goes out in writes of whole lines of at most that size, so neither
 * side cuts the other's lines.
 */
#ifndef LUPROBE_OUTPUT_H
#define LUPROBE_OUTPUT_H

/* stdout is shared with the command: if it is a pipe, write it by whole lines (before Lua). */
void output__share(void);

/* The end of a batch: write everything, a line without its newline too. */
void output__flush(void);

#endif
