// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "log.h"
#include "target.h"

static int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* Resolve a command name as execvp would; 0 or -ENOENT / -EACCES. */
static int resolve_command(const char *cmd, char *out, size_t len)
{
	const char *path, *p;
	struct stat st;
	int seen_eacces = 0;

	if (strchr(cmd, '/')) {
		if (stat(cmd, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (access(cmd, X_OK) < 0)
			return -errno;
		snprintf(out, len, "%s", cmd);
		return 0;
	}
	path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = strchr(p, ':') + 1) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		snprintf(out, len, "%.*s%s%s", (int)n, n ? p : ".", "/", cmd);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			seen_eacces = 1;
		}
		if (!end)
			break;
	}
	return seen_eacces ? -EACCES : -ENOENT;
}

int target__launch(char *const argv[], struct target *t)
{
	int go[2] = {-1, -1}, errp[2] = {-1, -1};
	sigset_t all;
	pid_t pid;
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->go_fd = t->err_fd = -1;
	err = resolve_command(argv[0], t->path, sizeof(t->path));
	if (err) {
		if (err == -ENOENT && !strchr(argv[0], '/'))
			lp_seterr("%s: command not found", argv[0]);
		else
			lp_seterr("%s: cannot execute: %s", argv[0], strerror(-err));
		return err;
	}
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		err = -errno;
		lp_seterr("cannot create a pipe: %s", strerror(-err));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		lp_seterr("cannot fork: %s", strerror(-err));
		goto fail;
	}
	if (pid == 0) {
		char c;
		int e;

		/* Wait for the probes; a closed pipe without a byte means give up. */
		close(go[1]);
		close(errp[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		execv(t->path, argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(errp[1]);
	t->pid = pid;
	t->launched = true;
	t->go_fd = go[1];
	t->err_fd = errp[0];
	t->pidfd = pidfd_open(pid);
	return 0;
fail:
	if (go[0] >= 0) {
		close(go[0]);
		close(go[1]);
	}
	if (errp[0] >= 0) {
		close(errp[0]);
		close(errp[1]);
	}
	return err;
}

int target__release(struct target *t)
{
	char c = 'g';
	int e = 0;
	ssize_t n;

	if (!t->launched || t->released)
		return 0;
	t->released = true;
	if (write(t->go_fd, &c, 1) != 1) {
		lp_seterr("%s: the launched process is gone", t->path);
		return -ESRCH;
	}
	close(t->go_fd);
	t->go_fd = -1;
	/* The error pipe closes on a successful exec (O_CLOEXEC). */
	do
		n = read(t->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(t->err_fd);
	t->err_fd = -1;
	if (n == sizeof(e)) {
		lp_seterr("%s: cannot execute: %s", t->path, strerror(e));
		waitpid(t->pid, &t->status, 0);
		t->exited = true;
		return -e;
	}
	return 0;
}

int target__open_pid(pid_t pid, struct target *t)
{
	char link[64];
	ssize_t n;
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->go_fd = t->err_fd = -1;
	t->pid = pid;
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
		lp_seterr("process %d: no such process", (int)pid);
		return -ESRCH;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, t->path, sizeof(t->path) - 1);
	if (n < 0) {
		err = -errno;
		if (err == -ENOENT)
			lp_seterr("process %d: no such process (or it is a kernel thread)",
				  (int)pid);
		else
			lp_seterr("process %d: cannot read its executable: %s", (int)pid,
				  strerror(-err));
		return err;
	}
	t->path[n] = '\0';
	/*
	 * The file may have been replaced or live in another mount namespace:
	 * /proc/PID/exe always names the mapped inode.
	 */
	if (access(t->path, R_OK) < 0 || strstr(t->path, " (deleted)"))
		snprintf(t->path, sizeof(t->path), "%s", link);
	t->pidfd = pidfd_open(pid);
	return 0;
}

bool target__poll_exit(struct target *t)
{
	if (t->exited)
		return true;
	if (t->launched) {
		pid_t r = waitpid(t->pid, &t->status, WNOHANG);

		if (r == t->pid)
			t->exited = true;
		return t->exited;
	}
	if (kill(t->pid, 0) < 0 && errno == ESRCH)
		t->exited = true;
	return t->exited;
}

int target__exit_code(const struct target *t)
{
	if (!t->launched || !t->exited)
		return 0;
	if (WIFEXITED(t->status))
		return WEXITSTATUS(t->status);
	if (WIFSIGNALED(t->status))
		return 128 + WTERMSIG(t->status);
	return 1;
}

void target__terminate(struct target *t, int timeout_ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int waited;

	if (!t->launched || t->exited || t->pid <= 0)
		return;
	if (!t->released) {
		/* never exec'd: closing the go pipe makes it exit */
		close(t->go_fd);
		t->go_fd = -1;
	} else {
		kill(t->pid, SIGTERM);
	}
	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (target__poll_exit(t))
			return;
		nanosleep(&ts, NULL);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &t->status, 0);
	t->exited = true;
}

void target__close(struct target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->go_fd >= 0)
		close(t->go_fd);
	if (t->err_fd >= 0)
		close(t->err_fd);
	t->pidfd = t->go_fd = t->err_fd = -1;
}

int target__bias(struct target *t, uint64_t first_vaddr, uint64_t *bias)
{
	char maps[64], line[PATH_MAX + 128], exe[PATH_MAX];
	struct stat want, st;
	FILE *f;
	int err = -ENOENT;

	if (t->bias_known) {
		*bias = t->bias;
		return 0;
	}
	snprintf(maps, sizeof(maps), "/proc/%d/exe", (int)t->pid);
	if (stat(maps, &want) < 0)
		return -errno;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)t->pid);
	f = fopen(maps, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, off, inode;
		char perms[8];
		int n = 0;

		if (sscanf(line, "%lx-%lx %7s %lx %*x:%*x %lu %n", &start, &end, perms, &off,
			   &inode, &n) < 5)
			continue;
		if (inode != want.st_ino || off != 0)
			continue;
		if (n > 0 && sscanf(line + n, "%s", exe) == 1 && stat(exe, &st) == 0 &&
		    st.st_dev != want.st_dev)
			continue;
		t->bias = start - (first_vaddr & ~0xfffULL);
		t->bias_known = true;
		*bias = t->bias;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}
