/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Resolving probes (resolve.c): a probe's functions found in a binary and
 * compiled, scope points, in-kernel aggregations. Above the probe set
 * (probe.h) and the compiler (compile.h).
 */
#ifndef LUPROBE_RESOLVE_H
#define LUPROBE_RESOLVE_H

#include <sys/types.h>
#include "probe.h"

/*
 * Resolve spec against the binary at path for the given pid (-1 for every
 * process): compile a plan per matching function and record the attach
 * points. Errors are recorded with lp_seterr() and name the function and
 * binary. May be called several times for several targets.
 */
int probe__resolve(struct probe_set *ps, struct probe *p, const char *path, pid_t pid);
/* The same in the file open at fd (a process's executable), named path in messages. */
int probe__resolve_fd(struct probe_set *ps, struct probe *p, const char *path, int fd, pid_t pid);

/*
 * p scopes other probes: for every binary and process it is resolved for,
 * add the site where a recovered panic resumes a goroutine (runtime.recovery
 * calling runtime.gogo), which ends the scopes it unwinds. Idempotent.
 */
int probe__scope_points(struct probe_set *ps, struct probe *p);

/*
 * Feed an in-kernel aggregation from every function of p (before attach).
 * *keykind says how to decode its keys. When p already feeds the same data
 * (sum, min, max and avg of one value share it), req->id becomes that
 * aggregation's id. Errors name the probe and function.
 */
int probe__add_agg(struct probe_set *ps, struct probe *p, struct agg_req *req,
		   enum agg_keykind *keykind);

/*
 * Does the path of a binary opened by path (target =) name another file than
 * the one read? Then say so once; the probes stay on the file read (attached
 * through its open fd), and with `resolve` those with replaced = "resolve"
 * are resolved again in the file the path names now (their points not
 * attached yet in the file read are dropped; attached ones stay). Called
 * before attaching, and while tracing. The number of probes resolved again,
 * or -errno with lp_seterr() if resolving one failed. A path removed is said
 * once, and looked at again (a new file may come).
 */
int probe_set__check_replaced(struct probe_set *ps, bool resolve);

#endif
