/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Separate debug information, found as gdb, perf and Delve find it: the
 * DWARF of a stripped Go binary from an unstripped build of the same
 * program, named by the user or found under DIR/.build-id/xx/yyyy.debug
 * (DIR is /usr/lib/debug unless set) by the binary's GNU build id.
 */
#ifndef LUPROBE_DEBUGFILE_H
#define LUPROBE_DEBUGFILE_H

#include <stddef.h>
#include "gobin.h"

#define DEBUGFILE_DIR "/usr/lib/debug"

/* The GNU build id (NT_GNU_BUILD_ID) in hex; its length, or -ENOENT. */
int debugfile__build_id(const struct gobin *gb, char *hex, size_t len);

/*
 * The debug file of gb under dir (NULL: DEBUGFILE_DIR) by its build id:
 * 0 with its path, -ENOENT if gb has no build id or no such file exists.
 */
int debugfile__find(const struct gobin *gb, const char *dir, char *path, size_t len);

/*
 * Is dbg (opened from path) the same program as gb, with DWARF? The same
 * build id when both have one, the same Go release, and every function at
 * the same address. 0, or -EINVAL with a message naming path and what
 * differs.
 */
int debugfile__match(const struct gobin *gb, const struct gobin *dbg, const char *path);

#endif
