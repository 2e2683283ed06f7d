/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which code a privileged luprobe may run: like ssh's StrictModes and sudo,
 * a script or module, and every directory above it, must be changeable by
 * no user but root and the invoking user. A directory modules are looked up
 * in must not be writable by anyone else at all (a sticky bit stops others
 * from replacing a file, not from planting a new one).
 */
#ifndef LUPROBE_TRUST_H
#define LUPROBE_TRUST_H

#include <stdbool.h>
#include <sys/types.h>

struct trust {
	bool privileged; /* root, or CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: checks apply */
	uid_t uids[2];	 /* who besides root may own code: the invoking user (and sudo's) */
	int nuids;
};

/* The policy of this process: its privileges, getuid() and, under sudo, SUDO_UID. */
void trust__init(struct trust *t);

/*
 * A script or module file luprobe is about to load: it and the directories
 * above it (those may be sticky, as /tmp). 0, or -EPERM with lp_seterr()
 * naming the file, who can write it and the fix. Always 0 unprivileged.
 */
int trust__file(const struct trust *t, const char *path);

/*
 * A candidate file of the module path: the directory it would be found in
 * (its nearest existing ancestor if none), and the file itself if it exists.
 * 0, or -EPERM with lp_seterr() as trust__file.
 */
int trust__candidate(const struct trust *t, const char *path);

#endif
