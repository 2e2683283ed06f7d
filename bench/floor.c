// SPDX-License-Identifier: BSD-2-Clause
/*
 * floor: the benchmark's reference points, what a uprobe costs before
 * luprobe does anything. It attaches one hand-written BPF program at a file
 * offset of a binary, with the same link type luprobe uses (uprobe_multi):
 *
 *   floor BINARY OFFSET empty   an empty program: the cost of the trap alone
 *   floor BINARY OFFSET emit    the least a streaming tracer does: timestamp,
 *                               pid, the first integer argument (AX) and 16
 *                               bytes at the second (BX) into a ring buffer
 *                               without wakeup, drained every 5 ms
 *
 * It prints "attached", runs until stdin closes, then prints "records N".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define TRACE_UPROBE_MULTI 48

struct link_create_uprobe_multi {
	__u32 prog_fd, target_fd, attach_type, flags;
	__u64 path, offsets, ref_ctr_offsets, cookies;
	__u32 cnt, multi_flags, pid, pad;
};

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define LDX(d, s, o)  INSN(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define STX(d, s, o)  INSN(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define CALL(f)	      INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()	      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* offsets in struct pt_regs (x86-64) */
#define PT_BX 40
#define PT_AX 80

static long records;

static int count(void *ctx, void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	records++;
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_insn empty[] = {MOV_IMM(0, 0), EXIT()};
	struct bpf_insn emit[] = {
		MOV_REG(6, 1),
		CALL(BPF_FUNC_ktime_get_ns),
		STX(10, 0, -48),
		CALL(BPF_FUNC_get_current_pid_tgid),
		STX(10, 0, -40),
		LDX(1, 6, PT_AX),
		STX(10, 1, -32),
		MOV_REG(1, 10),
		ADD_IMM(1, -24),
		MOV_IMM(2, 16),
		LDX(3, 6, PT_BX),
		CALL(BPF_FUNC_probe_read_user),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, 0), /* map fd, below */
		INSN(0, 0, 0, 0, 0),
		MOV_REG(2, 10),
		ADD_IMM(2, -48),
		MOV_IMM(3, 40),
		MOV_IMM(4, BPF_RB_NO_WAKEUP),
		CALL(BPF_FUNC_ringbuf_output),
		MOV_IMM(0, 0),
		EXIT(),
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = TRACE_UPROBE_MULTI);
	union {
		struct link_create_uprobe_multi lc;
		char attr[144];
	} u;
	struct ring_buffer *rb = NULL;
	struct pollfd pfd = {.fd = 0, .events = POLLIN};
	unsigned long long off;
	int prog, link, map = -1;
	bool is_emit;
	char c;

	if (argc != 4 || (strcmp(argv[3], "empty") && strcmp(argv[3], "emit"))) {
		fprintf(stderr, "usage: floor BINARY OFFSET empty|emit\n");
		return 2;
	}
	off = strtoull(argv[2], NULL, 0);
	is_emit = !strcmp(argv[3], "emit");
	if (is_emit) {
		map = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "floor_rb", 0, 0, 4 << 20, NULL);
		if (map < 0) {
			fprintf(stderr, "floor: ring buffer: %s\n", strerror(errno));
			return 1;
		}
		emit[12].imm = map;
		rb = ring_buffer__new(map, count, NULL, NULL);
		prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "emit", "GPL", emit,
				     sizeof(emit) / sizeof(emit[0]), &opts);
	} else {
		prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "empty", "GPL", empty, 2, &opts);
	}
	if (prog < 0 || (is_emit && !rb)) {
		fprintf(stderr, "floor: load: %s\n", strerror(errno));
		return 1;
	}
	memset(&u, 0, sizeof(u));
	u.lc.prog_fd = prog;
	u.lc.attach_type = TRACE_UPROBE_MULTI;
	u.lc.path = (unsigned long)argv[1];
	u.lc.offsets = (unsigned long)&off;
	u.lc.cnt = 1;
	link = syscall(__NR_bpf, BPF_LINK_CREATE, &u, sizeof(u));
	if (link < 0) {
		fprintf(stderr, "floor: attach: %s\n", strerror(errno));
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	for (;;) {
		int n = poll(&pfd, 1, 5);

		if (rb)
			ring_buffer__consume(rb);
		if (n > 0 && (read(0, &c, 1) <= 0))
			break;
	}
	if (rb)
		ring_buffer__consume(rb);
	printf("records %ld\n", records);
	return 0;
}
