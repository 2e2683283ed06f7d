/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * luprobe --check: can this machine, as this user, trace? One line for each
 * condition tracing depends on (kernel version, BTF, capabilities,
 * kernel.perf_event_paranoid, lockdown, uprobe_multi links, the BPF ring
 * buffer, a real uprobe on a child process), each "ok" or what to do.
 */
#ifndef LUPROBE_CHECK_H
#define LUPROBE_CHECK_H

/* Print the checks; exit code 0 when tracing works, 1 when a line says what to fix. */
int check__run(void);

#endif
