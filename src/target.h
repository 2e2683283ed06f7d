/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Traced processes: a command luprobe launches (held before exec until the
 * probes are attached) or a running process given by PID. Each has a pidfd
 * that becomes readable when it exits.
 */
#ifndef LUPROBE_TARGET_H
#define LUPROBE_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Who a launched command runs as (--user). */
struct target_user {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups, as initgroups() would set them */
	int ngroups;
};

struct target {
	pid_t pid;
	int pidfd;     /* readable when the process has exited; -1 if unavailable */
	bool launched; /* started by luprobe */
	bool released; /* launched and allowed to exec */
	bool exited;
	int status;	     /* wait status, launched targets only */
	char path[PATH_MAX]; /* the executable, as a path the kernel can resolve */
	int go_fd;	     /* launched: write end of the "go" pipe */
	int err_fd;	     /* launched: read end of the exec-error pipe */
	dev_t dev;	     /* the executable's file, to tell whether an exec changed it */
	ino_t ino;
	/*
	 * That file, open: probes are resolved in and attached to it, and a
	 * launched command executes it (fexecve), not whatever its path names
	 * by then. -1 if it could not be opened (paths are used instead).
	 */
	int exe_fd;
	bool watched;	      /* its execs are followed (tracer__watch) */
	uint64_t untraced_ns; /* time it ran after execs before its probes were back */
};

/*
 * Become user u for good in the calling thread: groups, gid and uid (real,
 * effective, saved), and no capability left. Returns 0 or -errno.
 */
int target_user__become(const struct target_user *u);

/*
 * Fork a child that will exec argv once target__release() is called, as
 * user `as` when not NULL. The command is resolved through PATH first. Fails
 * with lp_seterr() for a command that does not exist or is not executable.
 */
int target__launch(char *const argv[], const struct target_user *as, struct target *t);

/* Let a launched child exec; reports a failed exec as an error. */
int target__release(struct target *t);

/* A running process: checks it exists and finds its executable. */
int target__open_pid(pid_t pid, struct target *t);

/*
 * The executable the process runs now (after an exec): its path and file
 * identity. The path is kept when the file is the same one. 0 or -errno.
 */
int target__exe(struct target *t);

/* Has it exited? Reaps a launched child and records its status. */
bool target__poll_exit(struct target *t);

/* Exit code to propagate for a launched child: its status, or 128+signal. */
int target__exit_code(const struct target *t);

/* Stop a launched child that is still running (SIGTERM, then SIGKILL after timeout_ms). */
void target__terminate(struct target *t, int timeout_ms);

/* Close fds; accepts a zeroed or closed target. */
void target__close(struct target *t);

#endif
