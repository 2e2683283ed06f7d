/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Offsets into Go runtime structures on amd64 that luprobe reads from a
 * traced process: the goroutine (runtime.g), the thread (runtime.m), type
 * descriptors, itabs, maps and channels.
 *
 * They come from the binary's DWARF when it has it, else from a table per Go
 * release, 1.13 to the newest, derived from the runtime sources of each
 * release (see the comments in goruntime.c for where each number comes from).
 */
#ifndef LUPROBE_GORUNTIME_H
#define LUPROBE_GORUNTIME_H

#include <stdbool.h>

struct goruntime {
	int go_minor;	 /* 13..N the table entry used */
	bool from_dwarf; /* at least the g/m offsets came from DWARF */

	/* runtime.g */
	int g_stack_lo;	   /* stack.lo (0) */
	int g_stack_hi;	   /* stack.hi (8) */
	int g_stackguard0; /* 16 */
	int g_m;	   /* m *m */
	int g_sched;	   /* sched gobuf (56) */
	int g_sched_sp;	   /* sched.sp: the first word of the gobuf (56) */
	int g_goid;	   /* goid (8 bytes; uint64 or int64) */

	/* runtime.m */
	int m_g0;   /* g0 *g */
	int m_curg; /* curg *g */

	/* type descriptor: runtime._type (<= 1.20) / internal/abi.Type (1.21+) */
	int type_size;	/* Size_ uintptr */
	int type_kind;	/* Kind_ uint8 (low 5 bits = reflect.Kind) */
	int type_str;	/* Str nameOff (int32) */
	int kind_mask;	/* 0x1f */
	int type_tflag; /* TFlag uint8 (20) */
	/*
	 * "Stored directly in the interface word" (pointer-shaped types: the
	 * eface/iface data word is the value, not a pointer to it): a flag bit
	 * of Kind_ up to 1.25, of TFlag from 1.26. The other one is 0.
	 */
	int kind_direct_iface;	/* 0x20 up to 1.25 */
	int tflag_direct_iface; /* 0x20 from 1.26 */

	/* itab / abi.ITab */
	int itab_type; /* _type / Type *abi.Type */

	/* maps: the count of a map value (which is a pointer to the header) */
	bool swiss_maps;    /* Go 1.24+ default map implementation (internal/runtime/maps.Map) */
	int map_count;	    /* hmap.count (int) or maps.Map.used (uint64) */
	int map_count_size; /* 8 */

	/* channels: runtime.hchan */
	int chan_qcount;   /* qcount uint */
	int chan_dataqsiz; /* dataqsiz uint */

	/* func values: runtime.funcval */
	int funcval_fn; /* fn uintptr (0) */
};

/*
 * Fill rt for Go release 1.minor from the built-in table. Returns 0, or
 * -ENOTSUP (with lp_seterr) for a release before 1.13. A release newer than
 * the table's newest uses the newest entry (and says so at -v).
 */
int goruntime__for_version(int minor, struct goruntime *rt);

/*
 * Override rt's g/m (and, where present, other) offsets with what the DWARF
 * of the binary at path says. Returns 0 if DWARF provided the g/m offsets,
 * -ENOENT if the binary has no usable DWARF (rt unchanged).
 */
int goruntime__from_dwarf(const char *path, struct goruntime *rt);

#endif
