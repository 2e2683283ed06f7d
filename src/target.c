// SPDX-License-Identifier: BSD-2-Clause
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
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
		if (!S_ISREG(st.st_mode)) {
			lp_seterr("%s: cannot execute: not a regular file (%s)", cmd,
				  lp_filekind(st.st_mode));
			return -EINVAL;
		}
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

/* The interpreter named on a file's "#!" line, or an empty string. */
static void shebang(const char *path, char *out, size_t len)
{
	char head[256], *p, *end;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	out[0] = '\0';
	if (fd >= 0) {
		n = read(fd, head, sizeof(head) - 1);
		close(fd);
	}
	if (n < 3 || head[0] != '#' || head[1] != '!')
		return;
	head[n] = '\0';
	for (p = head + 2; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p; *end && *end != ' ' && *end != '\t' && *end != '\n'; end++)
		;
	snprintf(out, len, "%.*s", (int)(end - p), p);
}

/* The dynamic loader a 64-bit ELF file asks for (PT_INTERP), or an empty string. */
static void elf_interp(const char *path, char *out, size_t len)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), i;

	out[0] = '\0';
	if (fd < 0)
		return;
	if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(ph)) {
		for (i = 0; i < eh.e_phnum && i < 64; i++) {
			if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * sizeof(ph)) !=
			    sizeof(ph))
				break;
			if (ph.p_type != PT_INTERP || !ph.p_filesz)
				continue;
			if (ph.p_filesz < len &&
			    pread(fd, out, ph.p_filesz, ph.p_offset) == (ssize_t)ph.p_filesz)
				out[ph.p_filesz - 1] = '\0';
			else
				out[0] = '\0';
			break;
		}
	}
	close(fd);
}

/* Why execve(path) failed with errno e, in words. */
static void exec_error(const char *path, int e)
{
	char interp[256], loader[256] = "";
	struct stat st;

	shebang(path, interp, sizeof(interp));
	if (e == ENOENT && stat(path, &st) == 0) {
		/* the file is there: what it needs to run is not */
		if (!interp[0])
			elf_interp(path, loader, sizeof(loader));
		if (interp[0])
			lp_seterr("%s: cannot execute: its interpreter %s (the #! line) does not "
				  "exist",
				  path, interp);
		else if (loader[0])
			lp_seterr("%s: cannot execute: its dynamic loader %s does not exist", path,
				  loader);
		else
			lp_seterr("%s: cannot execute: its dynamic loader does not exist", path);
	} else if (e == EACCES && interp[0] && access(interp, X_OK) < 0) {
		lp_seterr("%s: cannot execute: its interpreter %s (the #! line): %s", path, interp,
			  strerror(errno));
	} else if (e == ENOEXEC) {
		lp_seterr("%s: cannot execute: not an executable format (no ELF header, no #! "
			  "line)",
			  path);
	} else {
		lp_seterr("%s: cannot execute: %s", path, strerror(e));
	}
}

int target_user__become(const struct target_user *u)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct none[2];

	if (setgroups(u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0)
		return -errno;
	/* from a non-root start, capabilities survive the switch: drop them */
	memset(none, 0, sizeof(none));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	syscall(SYS_capset, &hdr, none);
	return 0;
}

/*
 * In the launched child: execute the file luprobe read (exe_fd), not what
 * its path names by now. The user it runs as must be allowed to execute the
 * path, as with execv. A #! script runs by its path: its interpreter opens
 * it by name, and the fd is closed at exec.
 */
static void exec_read(const struct target *t, char *const argv[], bool script)
{
	extern char **environ;

	if (t->exe_fd < 0 || script) {
		execv(t->path, argv);
		return;
	}
	if (access(t->path, X_OK) < 0)
		return;
	fexecve(t->exe_fd, argv, environ);
}

int target__launch(char *const argv[], const struct target_user *as, struct target *t)
{
	int go[2] = {-1, -1}, errp[2] = {-1, -1};
	struct stat st;
	char interp[256];
	sigset_t all;
	pid_t pid;
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->go_fd = t->err_fd = t->exe_fd = -1;
	err = resolve_command(argv[0], t->path, sizeof(t->path));
	if (err) {
		if (err == -EINVAL)
			return err; /* resolve_command said what it is */
		if (err == -ENOENT && !strchr(argv[0], '/'))
			lp_seterr("%s: command not found", argv[0]);
		else
			lp_seterr("%s: cannot execute: %s", argv[0], strerror(-err));
		return err;
	}
	/* the file it will run, read and probed: an exec later is told from it by its identity */
	t->exe_fd = open(t->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->exe_fd >= 0 ? fstat(t->exe_fd, &st) == 0 : stat(t->path, &st) == 0) {
		t->dev = st.st_dev;
		t->ino = st.st_ino;
	}
	/* a script whose interpreter is missing fails now, not once the probes are in */
	shebang(t->path, interp, sizeof(interp));
	if (interp[0] && access(interp, X_OK) < 0) {
		err = -errno;
		exec_error(t->path, -err);
		goto fail;
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
		/* negative: switching user failed, not the exec */
		if (as && (e = target_user__become(as)) < 0) {
			if (write(errp[1], &e, sizeof(e)) < 0)
				_exit(127);
			_exit(127);
		}
		/*
		 * luprobe stops the command at its later execs until the probes are
		 * back (lp_exec); should luprobe die meanwhile, this resumes it. Set
		 * after the user switch, which clears it.
		 */
		prctl(PR_SET_PDEATHSIG, SIGCONT);
		exec_read(t, argv, interp[0] != '\0');
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
	if (t->exe_fd >= 0)
		close(t->exe_fd);
	t->exe_fd = -1;
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
		if (e < 0)
			lp_seterr("%s: cannot start it as another user: %s", t->path, strerror(-e));
		else
			exec_error(t->path, e);
		waitpid(t->pid, &t->status, 0);
		t->exited = true;
		return e < 0 ? e : -e;
	}
	return 0;
}

/* The process (thread group) of a thread id, or -1 if it cannot be read. */
static pid_t tgid_of(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

int target__open_pid(pid_t pid, struct target *t)
{
	char link[64];
	ssize_t n;
	pid_t tgid;
	int err;

	memset(t, 0, sizeof(*t));
	t->pidfd = t->go_fd = t->err_fd = t->exe_fd = -1;
	t->pid = pid;
	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
		lp_seterr("process %d: no such process", (int)pid);
		return -ESRCH;
	}
	/* uprobes filter by process: a thread id stands for its process */
	tgid = tgid_of(pid);
	if (tgid > 0 && tgid != pid) {
		fprintf(stderr, "luprobe: %d is a thread of process %d; tracing the process\n",
			(int)pid, (int)tgid);
		t->pid = pid = tgid;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, t->path, sizeof(t->path) - 1);
	if (n < 0) {
		err = -errno;
		if (err == -ENOENT)
			lp_seterr("process %d: no such process (or it is a kernel thread)",
				  (int)pid);
		else if (err == -EACCES && geteuid() != 0)
			lp_seterr("process %d: cannot read its executable: permission denied "
				  "(another user's process: tracing it needs root or "
				  "CAP_SYS_PTRACE; see luprobe --check)",
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
	target__exe(t);
	return 0;
}

int target__exe(struct target *t)
{
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, err;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)t->pid);
	/* the file it runs, open: no later rename can put another one in its place */
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 ? fstat(fd, &st) < 0 : stat(link, &st) < 0) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (st.st_dev == t->dev && st.st_ino == t->ino && (t->exe_fd >= 0 || fd < 0)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (t->exe_fd >= 0)
		close(t->exe_fd);
	t->exe_fd = fd;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return -errno;
	path[n] = '\0';
	/* replaced or in another mount namespace: the magic link names the inode */
	if (access(path, R_OK) < 0 || strstr(path, " (deleted)"))
		snprintf(path, sizeof(path), "%s", link);
	snprintf(t->path, sizeof(t->path), "%s", path);
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
	/*
	 * Another parent's child: once it has exited it may stay a zombie, which
	 * kill(pid, 0) still finds, until that parent reaps it. Its pidfd turns
	 * readable at exit (and is never fooled by a reused pid).
	 */
	if (t->pidfd >= 0) {
		struct pollfd pfd = {.fd = t->pidfd, .events = POLLIN};

		if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
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
	/*
	 * --user: luprobe may have switched user before the child did (it does
	 * so between the go byte and exec); that takes an instant, retry.
	 */
	for (waited = 0; kill(t->pid, SIGKILL) < 0 && errno == EPERM && waited < 1000; waited += 10)
		nanosleep(&ts, NULL);
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
	if (t->exe_fd >= 0)
		close(t->exe_fd);
	t->pidfd = t->go_fd = t->err_fd = t->exe_fd = -1;
}
