/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Predicates evaluated in the kernel (probe{ where = "..." }): comparisons
 * of captured integers, booleans, strings (equality, prefix) and nil checks,
 * combined with and/or/not. A call the predicate rejects costs no
 * ring-buffer traffic.
 *
 *   n > 100 and not done
 *   r.Method == "GET" and prefix(r.URL.Path, "/api/")
 *   err ~= nil or latency > 1000000
 *   len(s) >= 3
 */
#ifndef LUPROBE_PREDICATE_H
#define LUPROBE_PREDICATE_H

#include <stdbool.h>
#include <stddef.h>
#include "plan.h"

struct pred_ctx {
	struct plan_builder *pb;
	bool has_ret; /* results and `latency` can be used */
	/*
	 * Capture a parameter or field path that the probe does not capture yet
	 * (hidden); returns 0, -ENOENT when the function has no such name, or
	 * -E2BIG (with lp_seterr()) when the plan has no room for it.
	 */
	int (*capture)(void *arg, const char *path);
	void *arg;
};

/*
 * Compile expr into ops that drop the call unless it holds; at entry when it
 * names only arguments, at return when it names results or latency.
 * Returns 0, or -EINVAL with a message in err naming the column:
 *   "where: unknown name 'nn' at column 1"
 * or -E2BIG when the plan has no room for what it needs.
 */
int predicate__compile(const char *expr, struct pred_ctx *ctx, char *err, size_t errlen);

/* Parse only (for tests and early checks): 0 or -EINVAL with err. */
int predicate__check(const char *expr, char *err, size_t errlen);

#endif
