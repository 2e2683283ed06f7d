// SPDX-License-Identifier: BSD-2-Clause
/*
 * Offsets into the Go runtime's structures on amd64, per release.
 *
 * The numbers below were computed by hand from the runtime sources and
 * measured on real binaries of every release from 1.13 to 1.27
 * (docs/goruntime.md says which and how): stopped at main.main, the g found
 * in TLS has goid 1 at g_goid and its stack bounds around SP, its m (at g_m)
 * points back to it at m_curg, and that m's g0 (at m_g0) points to the same
 * m; the itabs and type descriptors of the same binaries decode with the
 * type offsets below. The DWARF of 1.13, 1.14 and 1.19 binaries gives the
 * same numbers field by field (tests/unit/test_goruntime.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include "goruntime.h"
#include "log.h"

#define GO_OLDEST 13
#define GO_NEWEST 27

/*
 * What has not moved since Go 1.13:
 *
 * g:  stack{lo, hi} at 0, stackguard0 16, stackguard1 24, _panic 32, _defer 40,
 *     m 48; sched (a gobuf) follows at 56, and its first word is sp
 *     (runtime.recovery of every release computes &gp.sched as gp+0x38).
 * m:  g0 is the first field.
 * _type (runtime/type.go, internal/abi.Type from 1.21): size 0, ptrdata 8,
 *     hash 16, tflag 20, align 21, fieldAlign 22, kind 23, alg/equal 24,
 *     gcdata 32, str 40 (nameOff), ptrToThis 44. Up to 1.25 the kind byte
 *     carries flags in its upper bits (kindDirectIface 1<<5, and kindGCProg
 *     1<<6 while GC programs existed); from 1.26 it is the bare kind and
 *     direct-interface is TFlag 1<<5 (seen on the 1.25 and 1.26 binaries), so
 *     masking with 0x1f is right for every release.
 * itab (runtime.itab, internal/abi.ITab from 1.22): inter 0, _type/Type 8,
 *     hash 16, fun 24.
 * hmap.count and maps.Map.used are the first field: the compiler's len()
 *     reads a map's length at offset 0 in both implementations.
 * hchan: qcount 0, dataqsiz 8 (len() and cap() of a channel).
 * funcval: fn 0.
 */
#define STABLE_OFFSETS                                                                             \
	.g_stack_lo = 0, .g_stack_hi = 8, .g_stackguard0 = 16, .g_m = 48, .g_sched = 56,           \
	.g_sched_sp = 56, .m_g0 = 0, .type_size = 0, .type_kind = 23, .type_str = 40,              \
	.kind_mask = 0x1f, .type_tflag = 20, .itab_type = 8, .map_count = 0, .map_count_size = 8,  \
	.chan_qcount = 0, .chan_dataqsiz = 8, .funcval_fn = 0

/*
 * What moves: g.goid and m.curg. Both sit behind a gobuf (g.sched, m.morebuf),
 * and g.goid also behind the syscall fields.
 *
 * g, 1.13-1.22: sched gobuf{sp pc g ctxt ret lr bp} 56..112, syscallsp 112,
 *     syscallpc 120, stktopsp 128, param 136, atomicstatus 144 (uint32, later
 *     atomic.Uint32 of the same size), stackLock 148, goid 152.
 * g, 1.23-1.24: syscallbp added after syscallpc: stktopsp 136, param 144,
 *     atomicstatus 152, stackLock 156, goid 160.
 * g, 1.25 on: gobuf lost ret (48 bytes): syscallsp 104, syscallpc 112,
 *     syscallbp 120, stktopsp 128, param 136, atomicstatus 144, goid 152.
 *
 * m, 1.13-1.24: g0 0, morebuf 8..64, divmod 64 (uint32, then 4 bytes of
 *     padding), procid 72, gsignal 80, goSigStack 88..128 (gsignalStack on
 *     linux: stack, stackguard0, stackguard1, stktopsp), sigmask 128 (sigset,
 *     [2]uint32), tls 136..184 ([6]uintptr), mstartfn 184, curg 192.
 * m, 1.25 on: morebuf 8..56, divmod 56, procid 64, gsignal 72, goSigStack
 *     80..120, sigmask 120, tls 128..176, mstartfn 176, curg 184.
 *
 * swiss_maps: Go 1.24 made internal/runtime/maps the default map; 1.24 and
 * 1.25 can still be built with GOEXPERIMENT=noswissmap (the old hmap, whose
 * count is also at 0), and 1.26 deleted the old code. A binary's build
 * settings or DWARF tell which it has; the table says what the default was.
 */
#define G152_M192    .g_goid = 152, .m_curg = 192
#define G160_M192    .g_goid = 160, .m_curg = 192
#define G152_M184    .g_goid = 152, .m_curg = 184
#define KIND_DIRECT  .kind_direct_iface = 0x20
#define TFLAG_DIRECT .tflag_direct_iface = 0x20

static const struct goruntime table[GO_NEWEST - GO_OLDEST + 1] = {
	{.go_minor = 13, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	{.go_minor = 14, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	{.go_minor = 15, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	{.go_minor = 16, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	/* 1.17: register ABI; g layout unchanged (g lives in R14 as well as TLS). */
	{.go_minor = 17, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	{.go_minor = 18, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	{.go_minor = 19, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	{.go_minor = 20, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	/* 1.21: runtime._type becomes internal/abi.Type (same layout). */
	{.go_minor = 21, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	/* 1.22: runtime.itab becomes internal/abi.ITab (same layout). */
	{.go_minor = 22, G152_M192, KIND_DIRECT, STABLE_OFFSETS},
	/* 1.23: g.syscallbp. */
	{.go_minor = 23, G160_M192, KIND_DIRECT, STABLE_OFFSETS},
	/* 1.24: swiss maps by default. */
	{.go_minor = 24, G160_M192, .swiss_maps = true, KIND_DIRECT, STABLE_OFFSETS},
	/* 1.25: gobuf.ret removed, shrinking g.sched and m.morebuf by 8. */
	{.go_minor = 25, G152_M184, .swiss_maps = true, KIND_DIRECT, STABLE_OFFSETS},
	/* 1.26: old maps deleted; abi.Type.Kind_ loses its flag bits. */
	{.go_minor = 26, G152_M184, .swiss_maps = true, TFLAG_DIRECT, STABLE_OFFSETS},
	{.go_minor = 27, G152_M184, .swiss_maps = true, TFLAG_DIRECT, STABLE_OFFSETS},
};

int goruntime__for_version(int minor, struct goruntime *rt)
{
	if (minor < GO_OLDEST) {
		if (minor <= 0)
			lp_seterr(
				"unknown Go release: luprobe needs to know it to read the runtime "
				"(rebuild the program with Go 1.13 or newer)");
		else
			lp_seterr("Go 1.%d is not supported: luprobe traces programs built by Go "
				  "1.%d or newer (rebuild the program with a newer Go)",
				  minor, GO_OLDEST);
		return -ENOTSUP;
	}
	if (minor > GO_NEWEST) {
		pr_info("Go 1.%d is newer than luprobe knows; assuming the runtime layout of "
			"Go 1.%d\n",
			minor, GO_NEWEST);
		minor = GO_NEWEST;
	}
	*rt = table[minor - GO_OLDEST];
	return 0;
}

/*
 * DWARF: Go emits one compilation unit per package, and several named
 * "runtime" (Go code, assembly, and a last one that holds every type of the
 * program). Only the top level of those units is searched.
 */

/* Offsets found in DWARF; -1 where not found. */
struct dwarf_found {
	int g_stack_lo, g_stack_hi, g_stackguard0, g_m, g_sched, g_sched_sp, g_goid;
	int m_g0, m_curg;
	int type_size, type_kind, type_str, type_tflag;
	int itab_type;
	int hmap_count, swiss_used;
	int chan_qcount, chan_dataqsiz;
	int funcval_fn;
};

enum {
	ST_G,
	ST_M,
	ST_TYPE,
	ST_ABI_TYPE,
	ST_ITAB,
	ST_ABI_ITAB,
	ST_HMAP,
	ST_SWISS_MAP,
	ST_HCHAN,
	ST_FUNCVAL,
	ST_COUNT,
};

static const char *const struct_names[ST_COUNT] = {
	[ST_G] = "runtime.g",
	[ST_M] = "runtime.m",
	[ST_TYPE] = "runtime._type",		      /* up to 1.20 */
	[ST_ABI_TYPE] = "internal/abi.Type",	      /* 1.21 on */
	[ST_ITAB] = "runtime.itab",		      /* up to 1.21 */
	[ST_ABI_ITAB] = "internal/abi.ITab",	      /* 1.22 on */
	[ST_HMAP] = "runtime.hmap",		      /* up to 1.25 (noswissmap from 1.24) */
	[ST_SWISS_MAP] = "internal/runtime/maps.Map", /* 1.24 on */
	[ST_HCHAN] = "runtime.hchan",
	[ST_FUNCVAL] = "runtime.funcval",
};

/* Byte offset of a member: a constant, or (old producers) DW_OP_plus_uconst. */
static int member_location(Dwarf_Die *member)
{
	Dwarf_Attribute attr;
	Dwarf_Word off;
	Dwarf_Op *expr;
	size_t len;

	if (!dwarf_attr(member, DW_AT_data_member_location, &attr))
		return -1;
	if (dwarf_formudata(&attr, &off) == 0)
		return off <= 0xffff ? (int)off : -1;
	if (dwarf_getlocation(&attr, &expr, &len) == 0 && len == 1 &&
	    expr[0].atom == DW_OP_plus_uconst && expr[0].number <= 0xffff)
		return (int)expr[0].number;
	return -1;
}

/*
 * Offset of the member called name in struct st, or -1. If type is not NULL
 * it receives the member's type with typedefs peeled off.
 */
static int member_offset(Dwarf_Die *st, const char *name, Dwarf_Die *type)
{
	Dwarf_Die child;
	Dwarf_Attribute attr;

	if (dwarf_child(st, &child) != 0)
		return -1;
	do {
		const char *n;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		n = dwarf_diename(&child);
		if (!n || strcmp(n, name) != 0)
			continue;
		if (type && (!dwarf_formref_die(dwarf_attr(&child, DW_AT_type, &attr), type) ||
			     dwarf_peel_type(type, type) != 0))
			return -1;
		return member_location(&child);
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

static void read_struct(int which, Dwarf_Die *st, struct dwarf_found *f)
{
	Dwarf_Die stack, gobuf;

	switch (which) {
	case ST_G:
		f->g_stackguard0 = member_offset(st, "stackguard0", NULL);
		f->g_m = member_offset(st, "m", NULL);
		f->g_sched = member_offset(st, "sched", &gobuf);
		f->g_sched_sp = -1;
		if (f->g_sched >= 0) {
			int sp = member_offset(&gobuf, "sp", NULL);

			f->g_sched_sp = sp >= 0 ? f->g_sched + sp : -1;
		}
		f->g_goid = member_offset(st, "goid", NULL);
		f->g_stack_lo = f->g_stack_hi = member_offset(st, "stack", &stack);
		if (f->g_stack_lo >= 0) {
			int lo = member_offset(&stack, "lo", NULL);
			int hi = member_offset(&stack, "hi", NULL);

			f->g_stack_lo = lo >= 0 ? f->g_stack_lo + lo : -1;
			f->g_stack_hi = hi >= 0 ? f->g_stack_hi + hi : -1;
		}
		break;
	case ST_M:
		f->m_g0 = member_offset(st, "g0", NULL);
		f->m_curg = member_offset(st, "curg", NULL);
		break;
	case ST_TYPE:
		/* Before 1.21; from 1.21 runtime._type is an alias of abi.Type. */
		if (f->type_kind >= 0)
			break;
		f->type_size = member_offset(st, "size", NULL);
		f->type_kind = member_offset(st, "kind", NULL);
		f->type_str = member_offset(st, "str", NULL);
		f->type_tflag = member_offset(st, "tflag", NULL);
		break;
	case ST_ABI_TYPE:
		f->type_size = member_offset(st, "Size_", NULL);
		f->type_kind = member_offset(st, "Kind_", NULL);
		f->type_str = member_offset(st, "Str", NULL);
		f->type_tflag = member_offset(st, "TFlag", NULL);
		break;
	case ST_ITAB:
		if (f->itab_type < 0)
			f->itab_type = member_offset(st, "_type", NULL);
		break;
	case ST_ABI_ITAB:
		f->itab_type = member_offset(st, "Type", NULL);
		break;
	case ST_HMAP:
		f->hmap_count = member_offset(st, "count", NULL);
		break;
	case ST_SWISS_MAP:
		f->swiss_used = member_offset(st, "used", NULL);
		break;
	case ST_HCHAN:
		f->chan_qcount = member_offset(st, "qcount", NULL);
		f->chan_dataqsiz = member_offset(st, "dataqsiz", NULL);
		break;
	case ST_FUNCVAL:
		f->funcval_fn = member_offset(st, "fn", NULL);
		break;
	}
}

/* Read the structures of interest at the top level of one unit. */
static void scan_unit(Dwarf_Die *cudie, bool seen[ST_COUNT], struct dwarf_found *f)
{
	Dwarf_Die die;

	if (dwarf_child(cudie, &die) != 0)
		return;
	do {
		const char *name;
		int i;

		if (dwarf_tag(&die) != DW_TAG_structure_type)
			continue;
		name = dwarf_diename(&die);
		if (!name)
			continue;
		for (i = 0; i < ST_COUNT; i++) {
			if (seen[i] || strcmp(name, struct_names[i]) != 0)
				continue;
			seen[i] = true;
			read_struct(i, &die, f);
			break;
		}
	} while (dwarf_siblingof(&die, &die) == 0);
}

static void set_if_found(int *dst, int found)
{
	if (found >= 0)
		*dst = found;
}

int goruntime__from_dwarf(const char *path, struct goruntime *rt)
{
	bool seen[ST_COUNT] = {0};
	struct dwarf_found f;
	Dwarf_Die *units = NULL, cudie, *grown;
	Dwarf_CU *cu = NULL;
	size_t nunits = 0, cap = 0;
	Dwarf *dw = NULL;
	int fd, err;

	memset(&f, 0xff, sizeof(f)); /* every offset -1: not found */

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		lp_seterr("%s: cannot open: %s", path, strerror(-err));
		return err;
	}
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		pr_debug("%s: no DWARF (%s)\n", path, dwarf_errmsg(-1));
		err = -ENOENT;
		goto cleanup;
	}

	while (dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		const char *name = dwarf_diename(&cudie);

		if (!name || strcmp(name, "runtime") != 0)
			continue;
		if (nunits == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(units, cap * sizeof(*units));
			if (!grown) {
				err = -ENOMEM;
				lp_seterr("%s: out of memory reading DWARF", path);
				goto cleanup;
			}
			units = grown;
		}
		units[nunits++] = cudie;
	}
	/*
	 * The linker puts every type of the program in the last runtime unit:
	 * search from the end, and stop at the unit that has runtime.g.
	 */
	while (nunits > 0 && !seen[ST_G])
		scan_unit(&units[--nunits], seen, &f);

	if (f.g_goid < 0 || f.g_m < 0 || f.m_curg < 0 || f.m_g0 < 0) {
		pr_debug("%s: DWARF has no usable runtime.g/runtime.m\n", path);
		err = -ENOENT;
		goto cleanup;
	}

	set_if_found(&rt->g_stack_lo, f.g_stack_lo);
	set_if_found(&rt->g_stack_hi, f.g_stack_hi);
	set_if_found(&rt->g_stackguard0, f.g_stackguard0);
	rt->g_m = f.g_m;
	set_if_found(&rt->g_sched, f.g_sched);
	set_if_found(&rt->g_sched_sp, f.g_sched_sp);
	rt->g_goid = f.g_goid;
	rt->m_g0 = f.m_g0;
	rt->m_curg = f.m_curg;
	set_if_found(&rt->type_size, f.type_size);
	set_if_found(&rt->type_kind, f.type_kind);
	set_if_found(&rt->type_str, f.type_str);
	set_if_found(&rt->type_tflag, f.type_tflag);
	set_if_found(&rt->itab_type, f.itab_type);
	/* The old map's header exists only in binaries built with the old maps. */
	if (f.hmap_count >= 0) {
		rt->swiss_maps = false;
		rt->map_count = f.hmap_count;
	} else if (f.swiss_used >= 0) {
		rt->swiss_maps = true;
		rt->map_count = f.swiss_used;
	}
	set_if_found(&rt->chan_qcount, f.chan_qcount);
	set_if_found(&rt->chan_dataqsiz, f.chan_dataqsiz);
	set_if_found(&rt->funcval_fn, f.funcval_fn);
	rt->from_dwarf = true;
	pr_debug("%s: DWARF runtime offsets: g.goid %d g.m %d m.curg %d m.g0 %d\n", path,
		 rt->g_goid, rt->g_m, rt->m_curg, rt->m_g0);
	err = 0;

cleanup:
	free(units);
	dwarf_end(dw);
	close(fd);
	return err;
}
