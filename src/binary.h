/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A Go executable as the probes see it, opened once per run: its function
 * table and types, its DWARF (opened when first asked), the runtime offsets
 * of its Go release, where g sits in thread-local storage, the call sites
 * found so far, and the check that every probe site in it is sound.
 */
#ifndef LUPROBE_BINARY_H
#define LUPROBE_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "callsites.h"
#include "disasm.h"
#include "gobin.h"
#include "godwarf.h"
#include "goruntime.h"
#include "gotype.h"

struct binary {
	char *path; /* as given (a target's path, or /proc/PID/exe) */
	/*
	 * The file read, open for the whole run: ELF, pclntab and DWARF come
	 * from it and its probes are attached through fdpath (/proc/self/fd/N),
	 * so to this inode whatever path names later.
	 */
	int fd;
	char fdpath[32];
	dev_t dev;
	ino_t ino;
	bool by_path;  /* opened by its path (target =), not as a process's executable */
	bool replaced; /* path names another file now (binary__replaced); said once */
	bool gone_told; /* its path was found removed, and that was said */
	struct gobin *gb;
	struct gotypes *ts;
	struct godwarf *dw;
	bool dw_tried;
	struct sigsrc *sig; /* the signature sources other than DWARF; binary__sigsrc() */
	struct rtypes *rtypes; /* its runtime type descriptors; binary__rtypes() */
	char *debug_path;      /* the separate debug file its DWARF comes from, if any */
	bool rtypes_tried;
	struct goruntime rt;
	int16_t tls_off;      /* offset of g from the thread pointer */
	struct callsites *cs; /* call sites found so far, sorted by target */
	size_t ncs;
	/* runtime.recovery's CALL of runtime.gogo, where scopes learn of recovered panics */
	bool recover_known;
	uint32_t recover_plan; /* the tracer's plan for it (set by the probes) */
	uint64_t recover_site;
	/* where the runtime queues a goroutine it made, and where one ends (spawned scopes) */
	bool spawn_known;
	uint32_t spawn_plan;
	uint64_t spawn_site, goexit_site;
	struct disasm_check check; /* the function that held the last probe site checked */
	struct binary *next;	   /* the run's other binaries */
};

/*
 * Open the Go executable at path: its tables, the runtime offsets of its
 * release (from DWARF when the table has to guess), the TLS offset of g.
 * Errors are recorded with lp_seterr() when they need saying.
 */
int binary__open(const char *path, struct binary **out);
/* The same for the file open at fd (taken: closed on failure or by binary__free); not by_path. */
int binary__open_fd(const char *path, int fd, struct binary **out);

/*
 * Does b's path name another file than the one read (renamed over, deleted)?
 * Paths of the /proc/PID/exe kind name an inode, never another file.
 */
bool binary__replaced(const struct binary *b);
void binary__free(struct binary *b); /* accepts NULL */

/*
 * Its DWARF, opened at the first call: the binary's own, else a separate
 * debug file's (binary__set_debug, or found by build id under
 * $LUPROBE_DEBUG_DIR, default /usr/lib/debug); NULL when there is none.
 */
struct godwarf *binary__dwarf(struct binary *b);

/*
 * Take DWARF from the debug file at path (an unstripped build of the same
 * program). 0; -EINVAL with a message naming path if it is not of b (build
 * id, Go release, function addresses) or b was given another one already.
 */
int binary__set_debug(struct binary *b, const char *path);

/* The signature sources other than DWARF (signature.h), made on first use; NULL without memory. */
struct sigsrc *binary__sigsrc(struct binary *b);

/* Its runtime type descriptors (rtype.h), read on first use (tens of ms); NULL if none. */
struct rtypes *binary__rtypes(struct binary *b);

/* Find the call sites of the targets not looked at yet, in one pass over the file. */
int binary__find_callsites(struct binary *b, const uint64_t *targets, size_t n);
/* The call sites of the function at target (found now if need be), or NULL. */
const struct callsites *binary__callsites(struct binary *b, uint64_t target);

/*
 * A probe site must start an instruction, decoding from the entry of the
 * function that holds it, and that entry must be plausible (disasm__check):
 * a breakpoint inside an instruction would corrupt the traced program. f is
 * the function probed (the site may be a call site in another). Returns 0,
 * or -EINVAL with lp_seterr() naming f, the site and the binary.
 */
int binary__check_site(struct binary *b, uint64_t vaddr, const struct gobin_func *f);

/*
 * Where a recovered panic resumes a goroutine: runtime.recovery's one CALL
 * of runtime.gogo, checked as a probe site. 0, or -errno with lp_seterr().
 */
int binary__recovery_site(struct binary *b, uint64_t *site);

#endif
