// SPDX-License-Identifier: BSD-2-Clause
/*
 * The per-release table of Go runtime offsets, and the DWARF reader that
 * overrides it: on every fixture binary with DWARF, the table entry for the
 * release that built it must equal what its DWARF says, field by field.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include "goruntime.h"
#include "log.h"
#include "unit.h"

#define OLDEST 13
#define NEWEST 27

/*
 * The Go release that compiled a binary, from the DW_AT_producer of its
 * first unit ("Go cmd/compile go1.19.8; regabi"): the test needs it
 * independently of the module under test. 0 if unknown.
 */
static int producer_minor(const char *path)
{
	Dwarf_Attribute attr;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	const char *p;
	Dwarf *dw;
	int fd, minor = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (dw && dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
		p = dwarf_formstring(dwarf_attr(&cudie, DW_AT_producer, &attr));
		p = p ? strstr(p, " go1.") : NULL;
		if (p)
			minor = atoi(p + 5);
	}
	dwarf_end(dw);
	close(fd);
	return minor;
}

static int field_diff(const char *name, int a, int b)
{
	if (a == b)
		return 0;
	fprintf(stderr, "  %s: %d != %d\n", name, a, b);
	return 1;
}

/* Field by field: memcmp would also compare padding. */
static int rt_diff(const struct goruntime *a, const struct goruntime *b)
{
	int n = 0;

#define F(field) n += field_diff(#field, a->field, b->field)
	F(go_minor);
	F(from_dwarf);
	F(g_stack_lo);
	F(g_stack_hi);
	F(g_stackguard0);
	F(g_m);
	F(g_sched);
	F(g_sched_sp);
	F(g_goid);
	F(m_g0);
	F(m_curg);
	F(type_size);
	F(type_kind);
	F(type_str);
	F(kind_mask);
	F(type_tflag);
	F(kind_direct_iface);
	F(tflag_direct_iface);
	F(itab_type);
	F(swiss_maps);
	F(map_count);
	F(map_count_size);
	F(chan_qcount);
	F(chan_dataqsiz);
	F(funcval_fn);
#undef F
	return n;
}

static void test_table_covers_every_release(void)
{
	struct goruntime rt;
	int minor;

	for (minor = OLDEST; minor <= NEWEST; minor++) {
		memset(&rt, 0, sizeof(rt));
		CHECK(goruntime__for_version(minor, &rt) == 0, "1.%d", minor);
		CHECK(rt.go_minor == minor, "1.%d: go_minor %d", minor, rt.go_minor);
		CHECK(!rt.from_dwarf, "1.%d", minor);
		CHECK(rt.g_stack_lo == 0 && rt.g_stack_hi == 8 && rt.g_stackguard0 == 16,
		      "1.%d: stack %d %d %d", minor, rt.g_stack_lo, rt.g_stack_hi,
		      rt.g_stackguard0);
		CHECK(rt.g_m == 48, "1.%d: g.m %d", minor, rt.g_m);
		CHECK(rt.g_sched == 56 && rt.g_sched_sp == 56, "1.%d: g.sched %d, sched.sp %d",
		      minor, rt.g_sched, rt.g_sched_sp);
		/* goid follows m, sched (a gobuf of 6 or 7 words) and 4 or 5 more words */
		CHECK(rt.g_goid >= 144 && rt.g_goid <= 168 && rt.g_goid % 8 == 0, "1.%d: goid %d",
		      minor, rt.g_goid);
		CHECK(rt.m_g0 == 0, "1.%d: m.g0 %d", minor, rt.m_g0);
		CHECK(rt.m_curg == 184 || rt.m_curg == 192, "1.%d: m.curg %d", minor, rt.m_curg);
		CHECK(rt.type_size == 0 && rt.type_kind == 23 && rt.type_str == 40,
		      "1.%d: type size %d kind %d str %d", minor, rt.type_size, rt.type_kind,
		      rt.type_str);
		CHECK(rt.kind_mask == 0x1f, "1.%d: kind mask %#x", minor, rt.kind_mask);
		CHECK(rt.type_tflag == 20, "1.%d: tflag %d", minor, rt.type_tflag);
		/* measured: 1.25 binaries set it in the kind byte, 1.26 ones in tflag */
		CHECK(rt.kind_direct_iface == (minor <= 25 ? 0x20 : 0), "1.%d: kind direct %#x",
		      minor, rt.kind_direct_iface);
		CHECK(rt.tflag_direct_iface == (minor <= 25 ? 0 : 0x20), "1.%d: tflag direct %#x",
		      minor, rt.tflag_direct_iface);
		CHECK(rt.itab_type == 8, "1.%d: itab type %d", minor, rt.itab_type);
		CHECK(rt.swiss_maps == (minor >= 24), "1.%d: swiss %d", minor, rt.swiss_maps);
		CHECK(rt.map_count == 0 && rt.map_count_size == 8, "1.%d: map count %d/%d", minor,
		      rt.map_count, rt.map_count_size);
		CHECK(rt.chan_qcount == 0 && rt.chan_dataqsiz == 8, "1.%d: chan %d %d", minor,
		      rt.chan_qcount, rt.chan_dataqsiz);
		CHECK(rt.funcval_fn == 0, "1.%d: funcval.fn %d", minor, rt.funcval_fn);
	}
}

/*
 * What real binaries of each release hold at main.main (goid 1 at g+goid, its
 * m's curg pointing back to g): esbuild and lefthook from the npm registry,
 * buf for 1.27 (docs/goruntime.md).
 */
static void test_measured_offsets(void)
{
	static const struct {
		int minor, goid, curg;
	} want[] = {
		{13, 152, 192}, /* esbuild 0.1.0, go1.13.8 */
		{14, 152, 192}, /* esbuild 0.4.0, go1.14.2 */
		{15, 152, 192}, /* esbuild 0.7.0 */
		{16, 152, 192}, /* esbuild 0.9.0 */
		{17, 152, 192}, /* esbuild 0.13.0, go1.17.1 */
		{18, 152, 192}, /* esbuild 0.14.30 */
		{19, 152, 192}, /* esbuild 0.15.0; computee, go1.19.8 */
		{20, 152, 192}, /* esbuild 0.18.0, go1.20.5 */
		{21, 152, 192}, /* lefthook 1.5.5, go1.21.4; lefthook 1.6.10, go1.21.9 */
		{22, 152, 192}, /* esbuild 0.23.0, go1.22.4 */
		{23, 160, 192}, /* esbuild 0.25.0, go1.23.5: g.syscallbp */
		{24, 160, 192}, /* lefthook 1.12.0, go1.24.4 */
		{25, 152, 184}, /* esbuild 0.27.0, go1.25.4: gobuf.ret removed */
		{26, 152, 184}, /* esbuild 0.28.2, go1.26.5 */
		{27, 152, 184}, /* buf 1.75.0, go1.27.3 */
	};
	struct goruntime rt;
	size_t i;

	CHECK(sizeof(want) / sizeof(want[0]) == NEWEST - OLDEST + 1, "a release is missing");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(goruntime__for_version(want[i].minor, &rt) == 0, "1.%d", want[i].minor);
		CHECK(rt.g_goid == want[i].goid, "1.%d: goid %d, want %d", want[i].minor, rt.g_goid,
		      want[i].goid);
		CHECK(rt.m_curg == want[i].curg, "1.%d: curg %d, want %d", want[i].minor, rt.m_curg,
		      want[i].curg);
	}
}

static void test_too_old_is_refused(void)
{
	struct goruntime rt, before;

	CHECK(goruntime__for_version(20, &rt) == 0, "1.20");
	before = rt;
	lp_clearerr();
	CHECK(goruntime__for_version(12, &rt) == -ENOTSUP, "1.12 accepted");
	CHECK(strstr(lp_lasterr(), "Go 1.12") && strstr(lp_lasterr(), "1.13"), "message: %s",
	      lp_lasterr());
	CHECK(!rt_diff(&rt, &before), "rt changed on failure");
	lp_clearerr();
	CHECK(goruntime__for_version(0, &rt) == -ENOTSUP, "unknown release accepted");
	CHECK(strstr(lp_lasterr(), "unknown Go release"), "message: %s", lp_lasterr());
}

static void test_newer_release_uses_newest(void)
{
	struct goruntime newest, rt;

	CHECK(goruntime__for_version(NEWEST, &newest) == 0, "newest");
	CHECK(goruntime__for_version(NEWEST + 5, &rt) == 0, "1.%d refused", NEWEST + 5);
	CHECK(!rt_diff(&rt, &newest), "1.%d differs from 1.%d", NEWEST + 5, NEWEST);
	CHECK(rt.go_minor == NEWEST, "go_minor %d", rt.go_minor);
}

/*
 * The fixture's table entry, overridden by its DWARF, must equal the entry:
 * every field DWARF provides agrees with the hand-computed table.
 */
static void check_dwarf_matches_table(const char *path, int want_minor)
{
	struct goruntime table, rt;
	int minor, err;

	if (access(path, R_OK) != 0)
		SKIP("%s absent (run tests/go/build.sh or tests/gobins.sh)", path);
	minor = producer_minor(path);
	CHECK(minor >= OLDEST, "%s: no Go version in DW_AT_producer", path);
	if (want_minor)
		CHECK(minor == want_minor, "%s: built by 1.%d, want 1.%d", path, minor, want_minor);
	if (minor < OLDEST)
		return;
	CHECK(goruntime__for_version(minor, &table) == 0, "1.%d", minor);
	rt = table;
	err = goruntime__from_dwarf(path, &rt);
	CHECK(err == 0, "%s: from_dwarf %d (%s)", path, err, lp_lasterr());
	CHECK(rt.from_dwarf, "%s: from_dwarf not set", path);
	CHECK(rt.go_minor == minor, "%s: go_minor %d", path, rt.go_minor);
#define SAME(field)                                                                                \
	CHECK(rt.field == table.field, "%s (Go 1.%d): " #field ": DWARF %d, table %d", path,       \
	      minor, (int)rt.field, (int)table.field)
	SAME(g_stack_lo);
	SAME(g_stack_hi);
	SAME(g_stackguard0);
	SAME(g_m);
	SAME(g_sched);
	SAME(g_sched_sp);
	SAME(g_goid);
	SAME(m_g0);
	SAME(m_curg);
	SAME(type_size);
	SAME(type_kind);
	SAME(type_str);
	SAME(kind_mask);
	SAME(type_tflag);
	SAME(itab_type);
	SAME(swiss_maps);
	SAME(map_count);
	SAME(map_count_size);
	SAME(chan_qcount);
	SAME(chan_dataqsiz);
	SAME(funcval_fn);
#undef SAME
}

/*
 * Every field must really come from DWARF: start from a poisoned struct and
 * check that from_dwarf filled each one with the table's value.
 */
static void test_dwarf_fills_every_field(void)
{
	const char *path = gotarget("computee/default");
	struct goruntime table, rt;
	int minor;

	if (access(path, R_OK) != 0)
		SKIP("%s absent (run tests/go/build.sh)", path);
	minor = producer_minor(path);
	CHECK(goruntime__for_version(minor, &table) == 0, "1.%d", minor);
	memset(&rt, 0x7f, sizeof(rt));
	rt.go_minor = table.go_minor;
	rt.kind_mask = table.kind_mask;
	rt.kind_direct_iface = table.kind_direct_iface;
	rt.tflag_direct_iface = table.tflag_direct_iface;
	rt.map_count_size = table.map_count_size;
	rt.swiss_maps = !table.swiss_maps;
	CHECK(goruntime__from_dwarf(path, &rt) == 0, "from_dwarf: %s", lp_lasterr());
	rt.from_dwarf = table.from_dwarf;
	CHECK(!rt_diff(&rt, &table), "a field was not read from DWARF");
}

static void test_dwarf_go119_static(void)
{
	check_dwarf_matches_table(gotarget("computee/default"), 0);
}

static void test_dwarf_go119_pie(void)
{
	check_dwarf_matches_table(gotarget("computee/pie"), 0);
}

static void test_dwarf_go119_cgo_external_link(void)
{
	check_dwarf_matches_table(gotarget("computee/cgo"), 0);
}

/* Go 1.13 and 1.14 compress DWARF in .zdebug_* sections (GNU style). */
static void test_dwarf_go113_zdebug(void)
{
	check_dwarf_matches_table(".cache/gobins/go1.13/esbuild", 13);
}

static void test_dwarf_go114_zdebug(void)
{
	check_dwarf_matches_table(".cache/gobins/go1.14/esbuild", 14);
}

static void test_no_dwarf_leaves_table(void)
{
	const char *paths[] = {gotarget("computee/stripped"), ".cache/gobins/go1.27/buf"};
	struct goruntime rt, before;
	size_t i;
	int tested = 0;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], R_OK) != 0)
			continue;
		tested++;
		CHECK(goruntime__for_version(19, &rt) == 0, "1.19");
		before = rt;
		CHECK(goruntime__from_dwarf(paths[i], &rt) == -ENOENT, "%s", paths[i]);
		CHECK(!rt_diff(&rt, &before), "%s: rt changed", paths[i]);
	}
	if (!tested)
		SKIP("no stripped fixture (run tests/go/build.sh or tests/gobins.sh)");
}

static void test_missing_file_is_an_error(void)
{
	struct goruntime rt, before;
	int err;

	CHECK(goruntime__for_version(20, &rt) == 0, "1.20");
	before = rt;
	lp_clearerr();
	err = goruntime__from_dwarf("/nonexistent/luprobe-test", &rt);
	CHECK(err == -ENOENT, "err %d", err);
	CHECK(strstr(lp_lasterr(), "/nonexistent/luprobe-test"), "message: %s", lp_lasterr());
	CHECK(!rt_diff(&rt, &before), "rt changed");
}

int main(void)
{
	RUN(test_table_covers_every_release);
	RUN(test_measured_offsets);
	RUN(test_too_old_is_refused);
	RUN(test_newer_release_uses_newest);
	RUN(test_dwarf_fills_every_field);
	RUN(test_dwarf_go119_static);
	RUN(test_dwarf_go119_pie);
	RUN(test_dwarf_go119_cgo_external_link);
	RUN(test_dwarf_go113_zdebug);
	RUN(test_dwarf_go114_zdebug);
	RUN(test_no_dwarf_leaves_table);
	RUN(test_missing_file_is_an_error);
	return unit_summary();
}
