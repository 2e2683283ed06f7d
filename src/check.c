// SPDX-License-Identifier: BSD-2-Clause
/* luprobe --check (check.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "check.h"
#include "tracer.h"
#include "util.h"

enum verdict { OK, WARN, FIX };

struct checks {
	int fixes;
	uint64_t caps;	 /* effective capabilities */
	bool bpf;	 /* CAP_BPF or CAP_SYS_ADMIN */
	bool perfmon;	 /* CAP_PERFMON or CAP_SYS_ADMIN */
	int multi;	 /* tracer__uprobe_multi() */
};

#define HOW_TO_GRANT                                                                               \
	"run luprobe with sudo, or grant it CAP_BPF and CAP_PERFMON (luprobe(1), PRIVILEGES)"

static void line(struct checks *c, enum verdict v, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void line(struct checks *c, enum verdict v, const char *what, const char *fmt, ...)
{
	static const char *const tag[] = {"ok", "warn", "FIX"};
	va_list ap;

	printf("%-5s%-21s", tag[v], what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (v == FIX)
		c->fixes++;
}

static void check_kernel(struct checks *c)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) < 0) {
		line(c, FIX, "kernel", "uname: %s", strerror(errno));
		return;
	}
	sscanf(u.release, "%d.%d", &major, &minor);
	if (strcmp(u.machine, "x86_64") != 0)
		line(c, FIX, "kernel", "Linux %s on %s: luprobe traces x86-64 programs only",
		     u.release, u.machine);
	else if (major > 5 || (major == 5 && minor >= 17))
		line(c, OK, "kernel", "Linux %s x86_64 (5.17 or later needed)", u.release);
	else
		line(c, FIX, "kernel",
		     "Linux %s: luprobe needs 5.17 or later (BPF ring buffers, bpf_loop); "
		     "upgrade the kernel",
		     u.release);
}

static void check_btf(struct checks *c)
{
	static const char path[] = "/sys/kernel/btf/vmlinux";
	unsigned char magic[2] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		line(c, FIX, "BTF",
		     "no %s: the kernel has no BTF; use one built with CONFIG_DEBUG_INFO_BTF=y "
		     "(Debian's are)",
		     path);
		return;
	}
	if (read(fd, magic, sizeof(magic)) != sizeof(magic) || magic[0] != 0x9f || magic[1] != 0xeb)
		line(c, FIX, "BTF", "%s is not BTF; use a kernel built with CONFIG_DEBUG_INFO_BTF=y",
		     path);
	else
		line(c, OK, "BTF", "%s", path);
	close(fd);
}

static bool has_cap(const struct checks *c, int cap)
{
	return c->caps & (1ULL << cap);
}

static void check_caps(struct checks *c)
{
	static const struct {
		int cap;
		const char *name, *needed_for;
	} more[] = {
		{CAP_SYS_PTRACE, "CAP_SYS_PTRACE", "other users' processes"},
		{CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH", "binaries you cannot read"},
		{CAP_SETUID, "CAP_SETUID", "--user"},
		{CAP_SETGID, "CAP_SETGID", "--user"},
	};
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	char lacking[256] = "";
	size_t i, n = 0;

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0) {
		line(c, FIX, "capabilities", "capget: %s", strerror(errno));
		return;
	}
	c->caps = (uint64_t)data[1].effective << 32 | data[0].effective;
	c->bpf = has_cap(c, CAP_BPF) || has_cap(c, CAP_SYS_ADMIN);
	c->perfmon = has_cap(c, CAP_PERFMON) || has_cap(c, CAP_SYS_ADMIN);
	if (!c->bpf || !c->perfmon) {
		line(c, FIX, "capabilities", "%s missing (uid %d%s); " HOW_TO_GRANT,
		     !c->bpf && !c->perfmon ? "CAP_BPF and CAP_PERFMON"
		     : !c->bpf		    ? "CAP_BPF"
					    : "CAP_PERFMON",
		     (int)geteuid(),
		     c->bpf ? ", holds CAP_BPF" : c->perfmon ? ", holds CAP_PERFMON" : "");
		return;
	}
	for (i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		if (!has_cap(c, more[i].cap))
			n += snprintf(lacking + n, sizeof(lacking) - n, "%s%s (%s)", n ? ", " : "",
				      more[i].name, more[i].needed_for);
	if (!n)
		line(c, OK, "capabilities", "%s", geteuid() == 0 ? "root" : "all luprobe uses");
	else
		line(c, OK, "capabilities", "CAP_BPF and CAP_PERFMON; without %s", lacking);
}

static void check_paranoid(struct checks *c)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	int v;

	if (!f || fscanf(f, "%d", &v) != 1)
		line(c, OK, "perf_event_paranoid", "unreadable; uprobes need CAP_PERFMON whatever it is");
	else
		line(c, OK, "perf_event_paranoid",
		     "%d (uprobes need CAP_PERFMON whatever its value)", v);
	if (f)
		fclose(f);
}

static void check_lockdown(struct checks *c)
{
	char buf[128] = "", *open_br, *close_br;
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	if (!f || !fgets(buf, sizeof(buf), f) || !(open_br = strchr(buf, '[')) ||
	    !(close_br = strchr(open_br, ']'))) {
		line(c, OK, "lockdown",
		     "none seen (no /sys/kernel/security/lockdown: no lockdown LSM, or securityfs "
		     "not mounted)");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	*close_br = '\0';
	if (strcmp(open_br + 1, "confidentiality") == 0)
		line(c, FIX, "lockdown",
		     "confidentiality: the kernel refuses BPF programs that read kernel memory, "
		     "as luprobe's does; boot with lockdown=integrity");
	else
		line(c, OK, "lockdown", "%s", open_br + 1);
}

static void check_multi(struct checks *c)
{
	c->multi = tracer__uprobe_multi();
	if (c->multi == 1)
		line(c, OK, "uprobe_multi links", "available (one link per binary and process)");
	else if (c->multi == 0)
		line(c, WARN, "uprobe_multi links",
		     "not in this kernel (6.6 or later): luprobe attaches one uprobe per site, "
		     "slower with many probes");
	else
		line(c, WARN, "uprobe_multi links", "cannot tell: %s%s", strerror(-c->multi),
		     c->multi == -EPERM || c->multi == -EACCES ? " (needs CAP_BPF and CAP_PERFMON)" : "");
}

/* A BPF program that sends the caller's pid and tgid into a ring buffer. */
static int load_emitter(int rb_fd)
{
	struct bpf_insn insns[] = {
		{.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_pid_tgid},
		{.code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .src_reg = BPF_REG_0,
		 .off = -8},
		{.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		 .src_reg = BPF_PSEUDO_MAP_FD, .imm = rb_fd},
		{0},
		{.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10},
		{.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -8},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 8},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_4, .imm = 0},
		{.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ringbuf_output},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	int fd;

	if (rb_fd < 0)
		return -EBADF;
	if (tracer__uprobe_multi() == 1)
		opts.expected_attach_type = 48; /* BPF_TRACE_UPROBE_MULTI, newer than these headers */
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "lp_check", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	return fd < 0 ? -errno : fd;
}

static int check_ringbuf(struct checks *c)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "lp_check", 0, 0, page, NULL);
	void *m;

	if (fd < 0) {
		int err = errno;

		if (err == EPERM || err == EACCES)
			line(c, FIX, "ring buffer", "cannot create one: %s (needs CAP_BPF); %s",
			     strerror(err), HOW_TO_GRANT);
		else
			line(c, FIX, "ring buffer",
			     "cannot create one: %s; luprobe needs BPF ring buffers (Linux 5.8)",
			     strerror(err));
		return -err;
	}
	m = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	if (m == MAP_FAILED) {
		line(c, FIX, "ring buffer", "cannot map one: %s", strerror(errno));
		close(fd);
		return -EIO;
	}
	munmap(m, page);
	line(c, OK, "ring buffer", "created and mapped");
	return fd;
}

/* The function the child calls and the uprobe check probes. */
__attribute__((noinline, used)) void check__uprobe_target(void);
__attribute__((noinline, used)) void check__uprobe_target(void)
{
	__asm__ volatile("" ::: "memory");
}

/* The file offset of a function of luprobe's own executable, from /proc/self/maps. */
static int own_offset(uintptr_t addr, uint64_t *off)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char buf[512];
	unsigned long start, end, fileoff;
	char perms[8];

	if (!f)
		return -errno;
	while (fgets(buf, sizeof(buf), f)) {
		if (sscanf(buf, "%lx-%lx %7s %lx", &start, &end, perms, &fileoff) != 4)
			continue;
		if (addr >= start && addr < end && perms[2] == 'x') {
			*off = addr - start + fileoff;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -ENOENT;
}

/* A uprobe of prog at offset in luprobe's own binary for process pid: an fd, or -errno. */
static int attach_own(const struct checks *c, int prog, uint64_t offset, pid_t pid)
{
	struct perf_event_attr attr;
	char buf[16] = "";
	int fd, type;
	FILE *f;

	if (c->multi == 1)
		return (fd = tracer__uprobe_multi_link(prog, "/proc/self/exe", offset, pid)) < 0
			       ? -errno
			       : fd;
	f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -ENOENT;
	}
	fclose(f);
	type = atoi(buf);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config1 = (uintptr_t)"/proc/self/exe";
	attr.config2 = offset;
	fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) < 0 || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct seen {
	pid_t pid;
	bool hit;
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	uint64_t v;

	if (size >= sizeof(v)) {
		memcpy(&v, data, sizeof(v));
		if ((pid_t)(v >> 32) == s->pid)
			s->hit = true;
	}
	return 0;
}

/* Attach, let the child call the target, wait for its record: 0 or a message in why. */
static int fire(const struct checks *c, int prog, int rb_fd, pid_t child, int go_fd, char *why,
		size_t whysz)
{
	struct seen s = {.pid = child};
	struct ring_buffer *rb;
	uint64_t off = 0, t0;
	int link, err;

	err = own_offset((uintptr_t)check__uprobe_target, &off);
	if (err) {
		snprintf(why, whysz, "cannot find luprobe's own code in /proc/self/maps: %s",
			 strerror(-err));
		return err;
	}
	link = attach_own(c, prog, off, child);
	if (link < 0) {
		snprintf(why, whysz, "cannot attach a uprobe: %s%s", strerror(-link),
			 link == -EPERM || link == -EACCES ? "; " HOW_TO_GRANT : "");
		return link;
	}
	rb = ring_buffer__new(rb_fd, on_sample, &s, NULL);
	if (!rb) {
		err = -errno;
		snprintf(why, whysz, "cannot read the ring buffer: %s", strerror(-err));
		close(link);
		return err;
	}
	t0 = now_ns();
	if (write(go_fd, "x", 1) != 1)
		s.hit = false;
	while (!s.hit && now_ns() - t0 < 2000000000ull)
		ring_buffer__poll(rb, 100);
	ring_buffer__free(rb);
	close(link);
	if (!s.hit) {
		snprintf(why, whysz, "attached, but no event came from the child in 2 s");
		return -ETIME;
	}
	snprintf(why, whysz, "attached to a child process; its call came through the ring "
			     "buffer in %.1f ms",
		 (now_ns() - t0) / 1e6);
	return 0;
}

static void check_uprobe(struct checks *c, int rb_fd)
{
	int prog, pipefd[2], status, err;
	char why[256];
	pid_t child;

	prog = load_emitter(rb_fd);
	if (prog < 0) {
		if (rb_fd < 0)
			line(c, FIX, "uprobe", "not tried: no ring buffer (see above)");
		else
			line(c, FIX, "uprobe", "cannot load a BPF program: %s%s", strerror(-prog),
			     prog == -EPERM || prog == -EACCES ? "; " HOW_TO_GRANT : "");
		return;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		line(c, FIX, "uprobe", "pipe: %s", strerror(errno));
		close(prog);
		return;
	}
	fflush(NULL);
	child = fork();
	if (child == 0) {
		char b;

		close(pipefd[1]);
		if (read(pipefd[0], &b, 1) == 1)
			check__uprobe_target();
		_exit(0);
	}
	close(pipefd[0]);
	if (child < 0) {
		line(c, FIX, "uprobe", "fork: %s", strerror(errno));
		close(pipefd[1]);
		close(prog);
		return;
	}
	err = fire(c, prog, rb_fd, child, pipefd[1], why, sizeof(why));
	close(pipefd[1]);
	waitpid(child, &status, 0);
	close(prog);
	line(c, err ? FIX : OK, "uprobe", "%s", why);
}

int check__run(void)
{
	struct checks c = {0};
	int rb_fd;

	check_kernel(&c);
	check_btf(&c);
	check_caps(&c);
	check_paranoid(&c);
	check_lockdown(&c);
	check_multi(&c);
	rb_fd = check_ringbuf(&c);
	check_uprobe(&c, rb_fd);
	if (rb_fd >= 0)
		close(rb_fd);
	if (c.fixes)
		printf("%d thing%s to fix before luprobe can trace here\n", c.fixes,
		       c.fixes == 1 ? "" : "s");
	else
		printf("luprobe can trace here\n");
	return c.fixes ? 1 : 0;
}
