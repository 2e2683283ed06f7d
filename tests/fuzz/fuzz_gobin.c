// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target: the Go binary inspector (src/go/gobin*.c). The input is a
 * whole ELF file. After a successful open, every query a probe makes is
 * asked, on addresses taken from the table itself and from the input, so
 * that the readers behind them (pclntab, funcdata, module data, type
 * names) see the fuzzed bytes too; and the runtime type reader (rtype.c)
 * reads every type descriptor the damaged file describes.
 */
#include <stdint.h>
#include <string.h>
#include "gobin.h"
#include "gotype.h"
#include "rtype.h"

/* Touch a string so ASan checks every byte up to its terminator. */
static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A word of the input, for addresses the table does not give. */
static uint64_t word(const uint8_t *data, size_t size, size_t i)
{
	uint64_t v = 0;

	if (size >= 8) {
		i = i % (size - 7);
		memcpy(&v, data + i, 8);
	}
	return v;
}

static void query_funcs(struct gobin *gb, size_t *sink)
{
	const struct gobin_func *matches[8];
	size_t n = gobin__nfuncs(gb), step = n / 64 + 1;
	const char *sugg[4];
	uint8_t info[256];

	for (size_t i = 0; i < n; i += step) {
		const struct gobin_func *f = gobin__func(gb, i);
		const char *file = NULL;
		int line = 0;

		*sink += touch(f->name);
		*sink += gobin__find_func(gb, f->name) != NULL;
		*sink += gobin__func_at(gb, f->entry) == f;
		if (f->end > f->entry)
			*sink += gobin__func_at(gb, f->end - 1) != NULL;
		if (!gobin__pc_line(gb, f, f->entry, &file, &line))
			*sink += touch(file) + (size_t)line;
		if (!gobin__pc_line(gb, f, f->entry + (f->end - f->entry) / 2, &file, &line))
			*sink += touch(file);
		if (gobin__arginfo(gb, f, info, sizeof(info)) > 0)
			*sink += info[0];
		*sink += gobin__arginfo(gb, f, info, 2) == 0;
	}
	*sink += gobin__find_func(gb, "main.main") != NULL;
	*sink += gobin__find_func(gb, "") != NULL;
	*sink += gobin__glob(gb, "main.*", matches, 8);
	*sink += gobin__glob(gb, "runtime.[a-m]*", matches, 8);
	*sink += gobin__glob(gb, "*.Map[...]", matches, 8);
	*sink += gobin__glob(gb, "type:.eq.[2]*", matches, 0);
	*sink += gobin__glob(gb, "main.\\*?[", matches, 8);
	*sink += gobin__suggest(gb, "main.mian", sugg, 4);
	*sink += gobin__suggest(gb, "computeE", sugg, 4);
}

static void query_types(struct gobin *gb, const uint8_t *data, size_t size, size_t *sink)
{
	uint64_t types[32];
	size_t n = gobin__types(gb, types, 32);

	for (size_t i = 0; i < n && i < 32; i++) {
		*sink += touch(gobin__type_name(gb, types[i]));
		/* again: the second answer comes from the cache */
		*sink += touch(gobin__type_name(gb, types[i]));
		*sink += (size_t)gobin__type_kind(gb, types[i]);
	}
	for (size_t i = 0; i < 4; i++) {
		uint64_t a = word(data, size, i * 977);

		*sink += touch(gobin__type_name(gb, a));
		*sink += (size_t)gobin__type_kind(gb, a);
	}
}

static void query_file(struct gobin *gb, const uint8_t *data, size_t size, size_t *sink)
{
	const struct gobin_info *in = gobin__info(gb);
	struct gobin_section sec;
	uint64_t a, sz, off;

	*sink += touch(gobin__path(gb)) + touch(in->go_version) + touch(in->arch);
	*sink += touch(in->mod_path) + touch(in->build_settings);
	for (size_t i = 0; gobin__section(gb, i, &sec); i++) {
		*sink += touch(sec.name);
		if (sec.data && sec.size)
			*sink += sec.data[0] + sec.data[sec.size - 1];
		if (gobin__data(gb, sec.addr, 1))
			*sink += 1;
	}
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *p;

		a = word(data, size, i * 131 + 7);
		p = gobin__data(gb, a, 16);
		if (p)
			*sink += p[0] + p[15];
		if (!gobin__vaddr_to_offset(gb, a, &off))
			*sink += (size_t)off;
	}
	if (!gobin__symbol(gb, "runtime.text", &a, &sz))
		*sink += (size_t)(a + sz);
	*sink += gobin__symbol(gb, "runtime.tlsg", NULL, NULL) == 0;
	if (!gobin__tls(gb, &a, &sz))
		*sink += (size_t)(a + sz);
}

static void query_rtypes(struct gobin *gb, size_t *sink)
{
	const struct rtypes_stats *st;
	struct gotypes *ts;
	struct rtypes *rt;
	struct rtype_sig sig;
	uint64_t off;

	if (rtypes__open(gb, &rt))
		return;
	ts = gotypes__new();
	st = rtypes__stats(rt);
	*sink += st->types + st->methods + st->errors;
	for (size_t i = 0; i < st->types; i += st->types / 64 + 1) {
		const struct rtype *t = rtypes__type(rt, i);

		*sink += touch(t->name) + touch(t->str) + touch(t->pkgpath);
		*sink += rtypes__lookup(rt, t->name) != NULL;
		*sink += ts && rtypes__gotype(rt, t, ts) != NULL;
		for (size_t j = 0; j < t->nfields; j++)
			*sink += touch(t->fields[j].name) +
				 (rtype__field(t, t->fields[j].name, &off) != NULL);
		for (size_t j = 0; j < t->nmethods; j++)
			*sink += touch(t->methods[j].name) +
				 !rtypes__func_params(rt, t->methods[j].ifn, &sig);
	}
	for (size_t i = 0; i < gobin__nfuncs(gb); i += gobin__nfuncs(gb) / 64 + 1)
		if (!rtypes__func_params(rt, gobin__func(gb, i)->entry, &sig))
			*sink += touch(sig.method) + sig.func->nin + touch(sig.recv->name);
	gotypes__free(ts);
	rtypes__free(rt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin *gb;
	size_t sink = 0;

	if (gobin__open_mem(data, size, "fuzz", &gb))
		return 0;
	query_funcs(gb, &sink);
	query_types(gb, data, size, &sink);
	query_file(gb, data, size, &sink);
	query_rtypes(gb, &sink);
	gobin__free(gb);
	/* keep the reads from being optimized away */
	__asm__ volatile("" : : "r"(sink));
	return 0;
}
