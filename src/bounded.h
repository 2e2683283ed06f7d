/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Memory an argument points to, read when the call returns, bounded by a
 * result: `b[:n]` of `Read(b []byte) (n int, err error)`, which fills b
 * during the call. The slice's words are kept at entry (with the call's
 * state, as every entry value is), n is read at the RET, and the bytes are
 * copied there, in the kernel, as Go's b[:n] would give them: an n below 0
 * or above cap(b) (where Go would panic) makes the value unreadable.
 */
#ifndef LUPROBE_BOUNDED_H
#define LUPROBE_BOUNDED_H

#include <stdbool.h>
#include <stddef.h>
#include "godwarf.h"
#include "plan.h"

/* What bounded__add needs of the function being compiled. */
struct bounded_sig {
	const char *func;	      /* for messages */
	const struct goparam *params; /* np arguments, then nr results */
	size_t np, nr;
	const struct goassign *ploc, *rloc;
	bool want_ret; /* results are read (ret set) */
	bool separate; /* mode = "separate" */
};

/*
 * Capture expr ("b[:n]") into the plan, shown among the arguments under
 * that name. Returns 0, -EINVAL (lp_seterr names the function and what is
 * wrong), -E2BIG (the plan is full) or -ENOMEM.
 */
int bounded__add(struct plan_builder *pb, const struct bounded_sig *sig, const char *expr);

#endif
