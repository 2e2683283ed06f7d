/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The probe compiler: one function of a probe, in one binary, becomes a
 * plan in the tracer (the values to capture, the predicate, the flags) and
 * the probe's attach points for it (entry or call sites, every RET). It is a
 * pipeline of stages over one struct (see compile.c): the sites, the
 * signature (from sources in order of precedence), the ABI, the plan, the
 * plan's registration, the points.
 */
#ifndef LUPROBE_COMPILE_H
#define LUPROBE_COMPILE_H

#include <stdbool.h>
#include <sys/types.h>
#include "probe.h"

/*
 * Compile f for probe p, for process pid (-1: every process). Errors are
 * recorded with lp_seterr() and name the function; -EINVAL, -ENOENT and
 * -E2BIG say it cannot be probed as asked (a glob skips it).
 */
int compile__func(struct probe_set *ps, struct probe *p, struct binary *b,
		  const struct gobin_func *f, pid_t pid);

/*
 * Capture a parameter, or a field path of one, that the probe did not ask
 * for, hidden (for a predicate or an aggregation). -ENOENT: no such
 * parameter; -E2BIG: it does not fit (lp_seterr); -EINVAL otherwise.
 */
int compile__capture_hidden(struct planinfo *pi, const char *path);

/*
 * A function whose entry probe would be single-stepped is probed at its
 * call sites when those are all its calls (see callsites.h), unless the
 * probe captures stacks (the stack at a call site lacks the function).
 */
bool compile__wants_callsites(const struct probe *p, const struct gobin_func *f,
			      const struct disasm_func *d);

/*
 * The best signature the binary gives for f, as a probe without a
 * declaration would take it: parameters then results into out (at most
 * max), *from naming the source ("DWARF", "the std table", "runtime
 * types"). Returns the number of entries, -ENOENT when no source has one
 * (the raw layout is all there is), -errno.
 */
int compile__signature(struct binary *b, const struct gobin_func *f, struct goparam *out,
		       size_t max, const char **from);

#endif
